package metrics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// A code pool's lists read back as added after releases and compaction,
// and compaction drops the released lists' codes once they are half the
// pool, not before.
func TestCodePoolCompact(t *testing.T) {
	var p codePool
	var live []span
	var want [][]uint32
	for i := range 100 {
		cs := []uint32{uint32(i), uint32(i + 1), uint32(i + 2)}
		s := p.add(cs)
		if i%3 == 0 {
			live = append(live, s)
			want = append(want, cs)
		} else {
			p.release(s)
		}
	}
	each := func(fn func(s *span)) {
		for i := range live {
			fn(&live[i])
		}
	}
	p.compact(each)
	if len(p.codes) != 3*len(live) || p.dead != 0 {
		t.Fatalf("after compaction: %d codes, %d dead; want %d, 0", len(p.codes), p.dead, 3*len(live))
	}
	for i, s := range live {
		if got := p.at(s); !slices.Equal(got, want[i]) {
			t.Fatalf("list %d = %v, want %v", i, got, want[i])
		}
	}
	p.release(live[0])
	p.compact(each)
	if p.dead != 3 {
		t.Errorf("one released list of %d compacted away early", len(live))
	}
}

// A row index answers as a map does through random sets, replacements and
// removals — with keys read from the rows and with keys kept — and is
// sized to its entries, not to the largest key.
func TestRowIndexMatchesMap(t *testing.T) {
	for _, fromRows := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(1, 2))
		keyOfRow := map[int32]uint64{} // the rows' keys, for keyOf
		var x rowIndex
		if fromRows {
			x.keyOf = func(r int32) uint64 { return keyOfRow[r] }
		}
		want := map[uint64]int32{}
		next := int32(0)
		for step := range 200_000 {
			// Few distinct keys, so sets replace and clears hit; the
			// codes are dense, as string table codes are.
			k := uint64(rng.IntN(5000))
			switch rng.IntN(3) {
			case 0, 1:
				next++
				keyOfRow[next] = k
				x.set(k, next)
				want[k] = next
			case 2:
				x.clear(k)
				delete(want, k)
			}
			if step%1000 == 0 || step > 199_000 {
				if x.len() != len(want) {
					t.Fatalf("step %d: %d entries, want %d", step, x.len(), len(want))
				}
				for k := range uint64(5000) {
					r, ok := x.get(k)
					if w, in := want[k]; ok != in || r != w {
						t.Fatalf("keys from rows %v, step %d: get(%d) = %d %v, want %d %v", fromRows, step, k, r, ok, w, in)
					}
				}
			}
		}
		for k := range want {
			x.clear(k)
		}
		if x.len() != 0 {
			t.Fatalf("%d entries after clearing all", x.len())
		}
		n := 0
		x.each(func(int32) bool { n++; return true })
		if n != 0 {
			t.Fatalf("each yields %d rows after clearing all", n)
		}
		// Sized to its entries: 3,000 entries take 4,096 slots.
		var y rowIndex
		for k := range uint64(3000) {
			y.set(k*1_000_003, int32(k))
		}
		if len(y.rows) != 4096 {
			t.Errorf("3,000 entries in %d slots, want 4,096", len(y.rows))
		}
	}
}

// The row indexes and the string table fill their slots to 7/8 before
// doubling (overFull): at 3/4, a 1M-record import at scale 1 doubled the
// string table's 2^21 slots and the change index's 2^20 into the heap.
func TestTablesFillSevenEighths(t *testing.T) {
	var x rowIndex
	for k := range uint64(3584) {
		x.set(k*1_000_003, int32(k))
	}
	if len(x.rows) != 4096 {
		t.Errorf("3,584 entries in %d slots, want 4,096", len(x.rows))
	}
	x.set(1, 3584)
	if len(x.rows) != 8192 {
		t.Errorf("3,585 entries in %d slots, want 8,192", len(x.rows))
	}
	for k := range uint64(3584) {
		if r, ok := x.get(k * 1_000_003); !ok || r != int32(k) {
			t.Fatalf("get(%d) = %d %v after growing", k*1_000_003, r, ok)
		}
	}

	s := newStrtab()
	s.reserve(4096)
	slots := len(s.slots)
	for i := 1; s.len() < slots*7/8; i++ {
		s.code(fmt.Sprintf("id-%d", i))
	}
	if len(s.slots) != slots {
		t.Errorf("%d strings in %d slots, want %d", s.len(), len(s.slots), slots)
	}
	s.code("one more")
	if len(s.slots) != 2*slots {
		t.Errorf("%d strings in %d slots, want %d", s.len(), len(s.slots), 2*slots)
	}
}
