package metrics

import (
	"fmt"
	"slices"
)

// stateLeads holds the deployments' lead-time memos a dataset state
// carried, as columns where they lie in the state, until a read needs one
// (leadOf takes it from here when the deployment holds none). Reading
// ~700,000 of them into memos of their own at scale 10 was a fifth of the
// state's reading (~0.1 s) and ~100 MB of heap, while a scorecard reads
// only those at its windows' edges.
type stateLeads struct {
	rows      []int32 // the deployments' slab rows, ascending
	validFrom []int64
	counts    []int32 // explicit and inferred, two a memo
	// runs holds lead time's spans (0) and each flow stage's (1…), memo
	// after memo; off where each memo's run starts, and where the last
	// ends.
	runs [stageCount + 1][]float64
	off  [stageCount + 1][]uint32
	// dropped marks (a bit per place in rows) the memos dropped since the
	// state was read: a row applied since reaches them (dropMemos), or
	// the slot now holds another deployment. Written under the dataset's
	// write lock only.
	dropped []uint64
}

// index returns the place of row's memo, -1 when there is none.
func (s *stateLeads) index(row int32) int {
	if s == nil {
		return -1
	}
	k, ok := slices.BinarySearch(s.rows, row)
	if !ok || s.dropped != nil && s.dropped[k>>6]&(1<<(k&63)) != 0 {
		return -1
	}
	return k
}

// memo returns row's memo as the state holds it, nil when it holds none
// (or it was dropped). Each call makes a new one; the runs stay where
// they lie, capped so that nothing appends to them.
func (s *stateLeads) memo(row int32) *leadMemo {
	k := s.index(row)
	if k < 0 {
		return nil
	}
	m := &leadMemo{validFrom: s.validFrom[k], explicit: int(s.counts[2*k]), inferred: int(s.counts[2*k+1]), spans: s.run(0, k)}
	for st := range m.stages {
		m.stages[st] = s.run(st+1, k)
	}
	return m
}

func (s *stateLeads) run(i, k int) []float64 {
	a, b := s.off[i][k], s.off[i][k+1]
	if a == b {
		return nil
	}
	return s.runs[i][a:b:b]
}

// drop forgets row's memo.
func (s *stateLeads) drop(row int32) {
	k := s.index(row)
	if k < 0 {
		return
	}
	if s.dropped == nil {
		s.dropped = make([]uint64, (len(s.rows)+63)/64)
	}
	s.dropped[k>>6] |= 1 << (k & 63)
}

// heldLead is the lead memo of the deployment in row that a state would
// keep: its own, else the one the state it was read from holds.
func (d *Dataset) heldLead(row int32) *leadMemo {
	if m := d.heldMemos(row); m != nil {
		if l := m.lead.Load(); l != nil {
			return l
		}
	}
	return d.leadMemos.memo(row)
}

// writeLeads writes the deployments' lead memos as stateLeads reads them:
// each column whole, so that a reader keeps it where it lies (each run
// column is built in the heap while it is written: at scale 10 the largest
// is ~25 MB).
func writeLeads(w *stateWriter, d *Dataset) {
	var rows []int32
	var memos []*leadMemo
	for i := range d.deps.n {
		if m := d.heldLead(i); m != nil {
			rows = append(rows, i)
			memos = append(memos, m)
		}
	}
	rawOf(w, rows)
	validFrom := make([]int64, len(memos))
	counts := make([]int32, 2*len(memos))
	for k, m := range memos {
		validFrom[k], counts[2*k], counts[2*k+1] = m.validFrom, int32(m.explicit), int32(m.inferred)
	}
	rawOf(w, validFrom)
	rawOf(w, counts)
	for i := range stageCount + 1 {
		off := make([]uint32, len(memos)+1)
		var run []float64
		for k, m := range memos {
			run = append(run, m.run(i-1)...)
			off[k+1] = uint32(len(run))
		}
		rawOf(w, off)
		rawOf(w, run)
	}
}

// readLeads reads what writeLeads wrote, checking that every row is a
// deployment's (n of them) and every run lies in its column.
func readLeads(r *stateReader, n int32) *stateLeads {
	s := &stateLeads{rows: rawRead[int32](r), validFrom: rawRead[int64](r), counts: rawRead[int32](r)}
	for i := range s.off {
		s.off[i] = rawRead[uint32](r)
		s.runs[i] = rawRead[float64](r)
	}
	if r.err != nil {
		return nil
	}
	m := len(s.rows)
	bad := len(s.validFrom) != m || len(s.counts) != 2*m
	for i := range s.off {
		bad = bad || len(s.off[i]) != m+1 || s.off[i][0] != 0 || int(s.off[i][m]) != len(s.runs[i]) ||
			!slices.IsSorted(s.off[i])
	}
	for k, row := range s.rows {
		bad = bad || row < 0 || row >= n || k > 0 && row <= s.rows[k-1]
	}
	if bad {
		r.err = fmt.Errorf("dataset state: the deployments' lead memos do not fit together (%d rows)", m)
		return nil
	}
	if m == 0 {
		return nil
	}
	return s
}
