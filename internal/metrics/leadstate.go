package metrics

import (
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"
)

// stateLeads holds the deployments' lead-time memos a dataset state
// carried, as columns where they lie in the state, until a read needs one
// (leadOf takes it from here when the deployment holds none). Reading
// ~700,000 of them into memos of their own at scale 10 was a fifth of the
// state's reading (~0.1 s) and ~100 MB of heap, while a scorecard reads
// only those at its windows' edges.
type stateLeads struct {
	memoIndex
	validFrom []int64
	counts    []int32 // explicit and inferred, two a memo
	// runs holds lead time's spans (0) and each flow stage's (1…), memo
	// after memo; off where each memo's run starts, and where the last
	// ends.
	runs [stageCount + 1][]float64
	off  [stageCount + 1][]uint32
}

// memoIndex finds the deployments' memos a state carried by slab row: at
// holds, for each row the state had, the place of its memo in the columns
// plus one (0: none), so that a read finds one at the cost of one load
// rather than a binary search of the rows (~20 steps at scale 10, for
// each deployment a first scorecard's change-failure windows walk).
type memoIndex struct {
	at []int32
	n  int // memos
	// dropped marks (a bit per place) the memos dropped since the state
	// was read: a row applied since reaches them (dropMemos), or the slot
	// now holds another deployment. Written under the dataset's write
	// lock only.
	dropped []uint64
}

// index returns the place of row's memo, -1 when there is none.
func (s *memoIndex) index(row int32) int {
	if s == nil || row < 0 || int(row) >= len(s.at) {
		return -1
	}
	k := int(s.at[row]) - 1
	if k < 0 || s.dropped != nil && s.dropped[k>>6]&(1<<(k&63)) != 0 {
		return -1
	}
	return k
}

// drop forgets row's memo.
func (s *memoIndex) drop(row int32) {
	k := s.index(row)
	if k < 0 {
		return
	}
	if s.dropped == nil {
		s.dropped = make([]uint64, (s.n+63)/64)
	}
	s.dropped[k>>6] |= 1 << (k & 63)
}

// writeMemoIndex writes the index of the memos of rows (ascending) among
// a dataset's n deployment rows: nothing when there are none.
func writeMemoIndex(w *stateWriter, rows []int32, n int32) {
	var at []int32
	if len(rows) > 0 {
		at = make([]int32, n)
		for k, row := range rows {
			at[row] = int32(k + 1)
		}
	}
	rawOf(w, at)
}

// readMemoIndex reads an index writeMemoIndex wrote for n deployment rows,
// checking that it names the places 1, 2, … in order; nil when it names
// none.
func readMemoIndex(r *stateReader, what string, n int32) *memoIndex {
	x := &memoIndex{at: rawRead[int32](r)}
	if r.err != nil || len(x.at) == 0 {
		return nil
	}
	if len(x.at) != int(n) {
		r.err = fmt.Errorf("dataset state: %s memo index of %d rows, %d deployment rows", what, len(x.at), n)
		return nil
	}
	for _, k := range x.at {
		if k == 0 {
			continue
		}
		if int(k) != x.n+1 {
			r.err = fmt.Errorf("dataset state: %s memo index names place %d after %d", what, k, x.n)
			return nil
		}
		x.n++
	}
	return x
}

// memo returns row's memo as the state holds it; ok is false when it
// holds none (or it was dropped). A value, so that the state's writer
// reads the memos it never took without allocating one each; its runs
// are read where they lie (leadMemo.run).
func (s *stateLeads) memo(row int32) (m leadMemo, ok bool) {
	if s == nil {
		return m, false
	}
	k := s.index(row)
	if k < 0 {
		return m, false
	}
	return leadMemo{validFrom: s.validFrom[k], explicit: s.counts[2*k], inferred: s.counts[2*k+1], k: int32(k) + 1, p: unsafe.Pointer(s)}, true
}

func (s *stateLeads) run(i, k int) []float64 {
	a, b := s.off[i][k], s.off[i][k+1]
	if a == b {
		return nil
	}
	return s.runs[i][a:b:b]
}

// heldMemo is the memo of the deployment in row that a state would keep:
// its own (the one of its memos that pick names), else the one the state
// it was read from holds (fromState). The writer reads every deployment's
// this way without taking the state's into memos of their own.
func heldMemo[M any](d *Dataset, row int32, pick func(*depMemos) *atomic.Pointer[M], fromState func(int32) (M, bool)) (M, bool) {
	if m := d.heldMemos(row); m != nil {
		if v := pick(m).Load(); v != nil {
			return *v, true
		}
	}
	return fromState(row)
}

func (d *Dataset) heldLead(row int32) (leadMemo, bool) {
	return heldMemo(d, row, func(m *depMemos) *atomic.Pointer[leadMemo] { return &m.lead }, d.leadMemos.memo)
}

// writeLeads writes the deployments' lead memos as stateLeads reads them:
// each column whole, so that a reader keeps it where it lies (each run
// column is built in the heap while it is written: at scale 10 the largest
// is ~25 MB).
func writeLeads(w *stateWriter, d *Dataset) {
	// Sized first and one run column at a time through the same arrays
	// (emit copies what it is handed): a following engine writes its
	// state during large imports (engine: moveOn), and columns grown by
	// append were ~35 MiB of garbage a write at scale 1.
	var n, most int
	var total [stageCount + 1]int
	for i := range d.deps.n {
		if m, ok := d.heldLead(i); ok {
			n++
			for k := range total {
				total[k] += len(m.run(k - 1))
			}
		}
	}
	for _, t := range total {
		most = max(most, t)
	}
	rows, validFrom, counts := make([]int32, 0, n), make([]int64, 0, n), make([]int32, 0, 2*n)
	for i := range d.deps.n {
		if m, ok := d.heldLead(i); ok {
			rows, validFrom = append(rows, i), append(validFrom, m.validFrom)
			counts = append(counts, m.explicit, m.inferred)
		}
	}
	writeMemoIndex(w, rows, d.deps.n)
	rawOf(w, validFrom)
	rawOf(w, counts)
	off, run := make([]uint32, len(rows)+1), make([]float64, 0, most)
	for i := range stageCount + 1 {
		run = run[:0]
		for k, row := range rows {
			m, _ := d.heldLead(row)
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
	x := readMemoIndex(r, "a lead", n)
	s := &stateLeads{validFrom: rawRead[int64](r), counts: rawRead[int32](r)}
	for i := range s.off {
		s.off[i] = rawRead[uint32](r)
		s.runs[i] = rawRead[float64](r)
	}
	if r.err != nil || x == nil {
		return nil
	}
	s.memoIndex = *x
	m := s.n
	bad := len(s.validFrom) != m || len(s.counts) != 2*m
	for i := range s.off {
		bad = bad || len(s.off[i]) != m+1 || s.off[i][0] != 0 || int(s.off[i][m]) != len(s.runs[i]) ||
			!slices.IsSorted(s.off[i])
	}
	if bad {
		r.err = fmt.Errorf("dataset state: the deployments' lead memos do not fit together (%d rows)", m)
		return nil
	}
	return s
}

// stateImpacts holds the deployments' release-impact memos a state
// carried, as stateLeads does their lead memos (~900,000 at scale 10, a
// tenth of the state's reading).
type stateImpacts struct {
	memoIndex
	weighted []float64
	tickets  []int64
}

func (s *stateImpacts) memo(row int32) (impactMemo, bool) {
	if s == nil {
		return impactMemo{}, false
	}
	if k := s.index(row); k >= 0 {
		return impactMemo{weighted: s.weighted[k], tickets: int(s.tickets[k])}, true
	}
	return impactMemo{}, false
}

func writeImpacts(w *stateWriter, d *Dataset) {
	var rows []int32
	var weighted []float64
	var tickets []int64
	for i := range d.deps.n {
		if m, ok := heldMemo(d, i, func(m *depMemos) *atomic.Pointer[impactMemo] { return &m.impact }, d.impactMemos.memo); ok {
			rows, weighted, tickets = append(rows, i), append(weighted, m.weighted), append(tickets, int64(m.tickets))
		}
	}
	writeMemoIndex(w, rows, d.deps.n)
	rawOf(w, weighted)
	rawOf(w, tickets)
}

func readImpacts(r *stateReader, n int32) *stateImpacts {
	x := readMemoIndex(r, "a release-impact", n)
	s := &stateImpacts{weighted: rawRead[float64](r), tickets: rawRead[int64](r)}
	if r.err != nil || x == nil {
		return nil
	}
	s.memoIndex = *x
	if len(s.weighted) != s.n || len(s.tickets) != s.n {
		r.err = fmt.Errorf("dataset state: the deployments' release-impact memos do not fit together (%d rows)", s.n)
		return nil
	}
	return s
}

// stateFails holds the deployments' failure memos a state carried, as
// stateLeads does their lead memos: the incidents each names by their
// place among those the state holds (inc).
type stateFails struct {
	memoIndex
	links                 []uint64
	validFrom, rollbackAt []int64
	off                   []uint32 // where each memo's incidents start in incs, and the last end
	incs                  []int32
	inc                   func(int32) *Inc
}

func (s *stateFails) memo(row int32) (m failMemo, ok bool) {
	if s == nil {
		return m, false
	}
	k := s.index(row)
	if k < 0 {
		return m, false
	}
	m = failMemo{links: s.links[k], validFrom: s.validFrom[k], rollbackAt: s.rollbackAt[k]}
	for _, i := range s.incs[s.off[k]:s.off[k+1]] {
		m.incidents = append(m.incidents, s.inc(i))
	}
	return m, true
}

// heldFail is the failure memo of the deployment in row that a state
// would keep: none naming an incident the dataset no longer holds (links
// moved on; it is left to be taken again).
func (d *Dataset) heldFail(row int32) (failMemo, bool) {
	f, ok := heldMemo(d, row, func(m *depMemos) *atomic.Pointer[failMemo] { return &m.fail }, d.failMemos.memo)
	for _, x := range f.incidents {
		if d.incidents[rowCode(x.src, x.id)] != x {
			return f, false
		}
	}
	return f, ok
}

func writeFails(w *stateWriter, d *Dataset, incNum func(*Inc) int32) {
	var rows []int32
	var links []uint64
	var validFrom, rollbackAt []int64
	off := []uint32{0}
	var incs []int32
	for i := range d.deps.n {
		m, ok := d.heldFail(i)
		if !ok {
			continue
		}
		rows, links = append(rows, i), append(links, m.links)
		validFrom, rollbackAt = append(validFrom, m.validFrom), append(rollbackAt, m.rollbackAt)
		for _, x := range m.incidents {
			incs = append(incs, incNum(x))
		}
		off = append(off, uint32(len(incs)))
	}
	writeMemoIndex(w, rows, d.deps.n)
	rawOf(w, links)
	rawOf(w, validFrom)
	rawOf(w, rollbackAt)
	rawOf(w, off)
	rawOf(w, incs)
}

func readFails(r *stateReader, n int32, inc func(int32) *Inc) *stateFails {
	x := readMemoIndex(r, "a failure", n)
	s := &stateFails{links: rawRead[uint64](r), validFrom: rawRead[int64](r), rollbackAt: rawRead[int64](r),
		off: rawRead[uint32](r), incs: rawRead[int32](r), inc: inc}
	if r.err != nil {
		return nil
	}
	if x == nil {
		// No memo: the offsets hold the first's start alone.
		return nil
	}
	s.memoIndex = *x
	m := s.n
	if len(s.links) != m || len(s.validFrom) != m || len(s.rollbackAt) != m || len(s.off) != m+1 ||
		s.off[0] != 0 || int(s.off[m]) != len(s.incs) || !slices.IsSorted(s.off) {
		r.err = fmt.Errorf("dataset state: the deployments' failure memos do not fit together (%d rows)", m)
		return nil
	}
	for _, i := range s.incs {
		if inc(i) == nil {
			return nil // the read failed
		}
	}
	return s
}
