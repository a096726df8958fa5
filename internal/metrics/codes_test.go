package metrics

import (
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
