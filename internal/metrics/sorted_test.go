package metrics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// A sorted index fed in any order — in time order, a little late, far out
// of order, with removals — holds after prepare exactly what a stable sort
// of its live items in the order they were added holds.
func TestSortedMatchesStableSort(t *testing.T) {
	type item struct {
		t  int64
		id string
		n  int // add order
	}
	key := func(x *item) (int64, string) { return x.t, x.id }
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := newSorted(key)
		var live []*item
		clock := int64(1000)
		for step := range 3000 {
			switch r := rng.IntN(10); {
			case r < 5: // in order, or a little late
				clock += int64(rng.IntN(5))
				x := &item{clock - int64(rng.IntN(3)), fmt.Sprint(rng.IntN(4)), step}
				s.add(x)
				live = append(live, x)
			case r < 7: // far out of order (an old batch)
				x := &item{int64(rng.IntN(int(clock))), fmt.Sprint(rng.IntN(4)), step}
				s.add(x)
				live = append(live, x)
			case r < 9 && len(live) > 0:
				i := rng.IntN(len(live))
				s.remove(live[i])
				live = slices.Delete(live, i, i+1)
			default:
				s.prepare()
				check(t, s.items, live, key, seed, step)
			}
		}
		s.prepare()
		check(t, s.items, live, key, seed, -1)
	}
}

func check[T comparable](t *testing.T, got, live []T, key func(T) (int64, string), seed uint64, step int) {
	t.Helper()
	want := slices.Clone(live)
	sort.SliceStable(want, func(i, j int) bool {
		ti, ii := key(want[i])
		tj, ij := key(want[j])
		return ti < tj || (ti == tj && ii < ij)
	})
	if len(got) != len(want) {
		t.Fatalf("seed %d step %d: %d items, want %d", seed, step, len(got), len(want))
	}
	for i := range got {
		tg, ig := key(got[i])
		tw, iw := key(want[i])
		if got[i] != want[i] {
			t.Fatalf("seed %d step %d: item %d is (%d, %s), want (%d, %s), the items of equal keys in the order added", seed, step, i, tg, ig, tw, iw)
		}
	}
}

// A batch of late items between two prepares is inserted in place only
// until it has moved as many items as the slice holds; the rest go to the
// tail, which prepare merges, and the order is the stable sort's either
// way.
func TestSortedBoundsInsertsInPlace(t *testing.T) {
	type item struct {
		t  int64
		id string
	}
	key := func(x *item) (int64, string) { return x.t, x.id }
	s := newSorted(key)
	var live []*item
	for i := range 1000 {
		x := &item{int64(10 * i), "a"}
		s.add(x)
		live = append(live, x)
	}
	s.prepare()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		x := &item{int64(9000 + rng.IntN(1000)), "b"} // late, within nearEnd
		s.add(x)
		live = append(live, x)
	}
	if s.n == len(s.items) {
		t.Errorf("500 late items all inserted in place, moving %d items", s.moved)
	}
	if s.moved > 1000+nearEnd {
		t.Errorf("moved %d items in place, more than the slice's length allows", s.moved)
	}
	s.prepare()
	check(t, s.items, live, key, 0, -1)
	// After a prepare, a late item is inserted in place again.
	x := &item{int64(9995), "c"}
	s.add(x)
	live = append(live, x)
	if s.n != len(s.items) {
		t.Error("a late item after a prepare went to the tail")
	}
	s.prepare()
	check(t, s.items, live, key, 0, -1)
}

// Merging a few items that go far before the end of a long index moves
// the items after them as blocks, comparing a logarithm of the distance
// for each, not every item they pass: a large import's step, a few days of
// rows into a quarter of a million, had compared each of the items after
// them while every read waited (docs/performance.md).
func TestSortedMergeComparesLittle(t *testing.T) {
	type item struct {
		t  int64
		id string
	}
	var calls int
	s := newSortedBy(func(x *item) int64 { calls++; return x.t }, func(x *item) string { return x.id })
	var live []*item
	for i := range 100_000 {
		x := &item{int64(10 * i), "a"}
		s.add(x)
		live = append(live, x)
	}
	s.prepare()
	for i := range 20 {
		x := &item{int64(1000*i + 5), "b"} // each far before the end, between two items
		s.add(x)
		live = append(live, x)
	}
	calls = 0
	s.prepare()
	check(t, s.items, live, func(x *item) (int64, string) { return x.t, x.id }, 0, 0)
	// Each of the 20 costs a gallop and a binary search over at most
	// 100,000 items (~2·17 comparisons, two time reads each), plus the
	// tail's sort; item by item it was ~100,000 comparisons.
	if calls > 4000 {
		t.Errorf("merging 20 items into 100,000 read %d times, want a few per item (blocks moved, not items compared)", calls)
	}
}
