package metrics

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// sorted keeps items ordered by (time, id). Appends in time order — the
// normal case for live data — keep it sorted for free; an item a little
// out of order is inserted in place; anything else is appended to an
// unsorted tail, and the next prepare sorts the tail and merges it in, so
// a batch of old records costs in proportion to the batch and one pass
// over the items, not a sort of everything. Reads require a prepared
// slice, so readers never mutate.
type sorted[T comparable] struct {
	items []T
	time  func(T) int64
	// id orders the items of one time. It is read only on ties: it may
	// have to look a string up (a string table code's).
	id func(T) string
	// n is how many items from the start are in order; items[n:] is the
	// unsorted tail.
	n int
	// same identifies an item for remove and index when == is too strict
	// (rows whose flags change after insertion); nil means ==.
	same func(a, b T) bool
	// moved counts the items moved by inserts in place since the last
	// prepare (add).
	moved int
}

func (s *sorted[T]) is(a, b T) bool {
	if s.same != nil {
		return s.same(a, b)
	}
	return a == b
}

func newSorted[T comparable](key func(T) (int64, string)) *sorted[T] {
	return newSortedBy(func(x T) int64 { t, _ := key(x); return t }, func(x T) string { _, id := key(x); return id })
}

// newSortedBy is newSorted with the time and the id read apart.
func newSortedBy[T comparable](time func(T) int64, id func(T) string) *sorted[T] {
	return &sorted[T]{time: time, id: id}
}

func (s *sorted[T]) less(a, b T) bool {
	ta, tb := s.time(a), s.time(b)
	if ta != tb {
		return ta < tb
	}
	return s.id(a) < s.id(b)
}

// nearEnd bounds how far from the end an out-of-order item is inserted in
// place: live data arrives slightly late (a deployment reported a minute
// after a later one), and moving a few elements beats merging millions.
// Many of them between two prepares (a batch of late rows: the incidents
// a start applies after the dataset's state) would move up to nearEnd
// items each, so once the moves since the last prepare reach the slice's
// length — what a merge moves at most — the rest go to the tail.
const nearEnd = 4096

func (s *sorted[T]) add(x T) {
	n := len(s.items)
	if s.n < n {
		s.items = append(s.items, x) // the tail is unsorted anyway
		return
	}
	if n == 0 || !s.less(x, s.items[n-1]) {
		s.items = append(s.items, x)
		s.n++
		return
	}
	lo := max(0, n-nearEnd)
	if s.moved < n && !s.less(x, s.items[lo]) {
		i := lo + sort.Search(n-lo, func(k int) bool { return s.less(x, s.items[lo+k]) })
		s.items = slices.Insert(s.items, i, x)
		s.n++
		s.moved += n - i
		return
	}
	s.items = append(s.items, x)
}

func (s *sorted[T]) remove(x T) {
	i := -1
	t, id := s.time(x), s.id(x)
	j := sort.Search(s.n, func(k int) bool {
		tk := s.time(s.items[k])
		return tk > t || (tk == t && s.id(s.items[k]) >= id)
	})
	for ; j < s.n; j++ {
		if s.is(s.items[j], x) {
			i = j
			break
		}
		if s.time(s.items[j]) != t {
			break
		}
	}
	if i < 0 {
		if k := slices.IndexFunc(s.items[s.n:], func(y T) bool { return s.is(y, x) }); k >= 0 {
			i = s.n + k
		}
	}
	if i >= 0 {
		s.items = slices.Delete(s.items, i, i+1)
		if i < s.n {
			s.n--
		}
	}
}

// prepare sorts the tail and merges it into the ordered items. The merge
// keeps the order of equal items as they were added (a stable sort of
// all items would give the same order).
func (s *sorted[T]) prepare() {
	s.moved = 0
	if s.n == len(s.items) {
		return
	}
	tail := s.sortedTail()
	// Merge from the back: the larger of the two heads goes last, an item
	// of the ordered part before an equal one of the tail. The ordered
	// items a tail item goes before move up as one block, found by
	// galloping back and a binary search: a large import's step brings a
	// few thousand rows of a few days, which item by item meant comparing
	// every item after them (up to the whole index, a quarter of a
	// million items an order at scale 1) — most of Prepare, which a read
	// waits for with one copy (docs/performance.md).
	a, b, w := s.n-1, len(tail)-1, len(s.items)-1
	for ; b >= 0; b-- {
		x := tail[b]
		if p := s.firstAfter(x, a); p <= a {
			n := a - p + 1
			copy(s.items[w-n+1:w+1], s.items[p:a+1])
			w -= n
			a = p - 1
		}
		s.items[w] = x
		w--
	}
	s.n = len(s.items)
}

// firstAfter returns the first index p ≤ a+1 of the ordered items such
// that x is less than every item in items[p:a+1]: galloping back from a
// (1, 2, 4, … items) and then a binary search, so that it costs one
// comparison when x goes right after items[a] and a logarithm of the
// distance when it goes far before.
func (s *sorted[T]) firstAfter(x T, a int) int {
	hi, step := a+1, 1 // items[hi:a+1] are all after x
	lo := hi - step
	for lo >= 0 && s.less(x, s.items[lo]) {
		hi = lo
		step *= 2
		lo = hi - step
	}
	// items[lo] is not after x (or lo < 0): the first after it lies in
	// (lo, hi].
	lo = max(lo+1, 0)
	return lo + sort.Search(hi-lo, func(k int) bool { return s.less(x, s.items[lo+k]) })
}

// sortedTail returns the unsorted tail's items in the order a stable sort
// by less gives. A start from the dataset image applies every row out of
// time order, so this sorts hundreds of thousands of items: each item's
// time is read once into a key beside its position and the keys sorted
// (pdqsort, ties by id and then by position, which makes it stable),
// where a stable sort calling less took a quarter of Prepare.
func (s *sorted[T]) sortedTail() []T {
	tail := s.items[s.n:]
	type key struct {
		t int64
		i int
	}
	keys := make([]key, len(tail))
	for i, x := range tail {
		keys[i] = key{s.time(x), i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.t != b.t {
			return cmp.Compare(a.t, b.t)
		}
		if c := strings.Compare(s.id(tail[a.i]), s.id(tail[b.i])); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	out := make([]T, len(tail))
	for j, k := range keys {
		out[j] = tail[k.i]
	}
	return out
}

// lowerBound is the first index whose time is ≥ t.
func (s *sorted[T]) lowerBound(t int64) int {
	return sort.Search(len(s.items), func(k int) bool {
		return s.time(s.items[k]) >= t
	})
}

// upperBound is the first index whose time is > t.
func (s *sorted[T]) upperBound(t int64) int {
	return sort.Search(len(s.items), func(k int) bool {
		return s.time(s.items[k]) > t
	})
}

// between returns the items with lo ≤ time < hi.
func (s *sorted[T]) between(lo, hi int64) []T {
	if s == nil {
		return nil
	}
	return s.items[s.lowerBound(lo):s.lowerBound(hi)]
}

// index returns x's position (x must be present).
func (s *sorted[T]) index(x T) int {
	for j := s.lowerBound(s.time(x)); j < len(s.items); j++ {
		if s.is(s.items[j], x) {
			return j
		}
	}
	return -1
}
