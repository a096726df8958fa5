package metrics

import (
	"math"
	"unsafe"
)

// The per-deployment lead-time memo: what most windows of
// lead_time_for_changes repeat, kept between them (leadday.go builds the
// organisation's days from it).

// leadMemo holds the lead times of the changes a deployment shipped, as
// known once every deployment listing one of them has finished and every
// one of them has happened: valid for any as_of at or after validFrom
// until reset. Before validFrom a change merged before the deployment but
// listed by a later one was still this deployment's by inference, a change
// it lists that merged after it finished did not exist yet, or an id
// another source reuses resolved differently, so the memo is bypassed (old
// windows, computed once and then cached).
type leadMemo struct {
	validFrom          int64
	explicit, inferred int32
	// The spans hold the runs back to back: lead time's spans, then each
	// flow stage's (flow.go), the spans of the changes in the lead-time
	// population that have the stage, which the flow metrics read instead
	// of walking every deployment's changes again; ends[i] is where run i
	// ends. One array and a small struct rather than six slices: a
	// deployment applied after the state was read holds its memo in the
	// heap, and six slices in a 168-byte struct were ~45 MiB of a 1M-row
	// import's heap at scale 1 (docs/performance.md).
	ends [stageCount + 1]uint32
	// k is 0 when p points at the spans (ends[stageCount] of them); for a
	// memo a dataset state carried, p is the stateLeads holding its runs
	// as memo k−1 of its columns, read where they lie. One pointer for the
	// two: every memo a reader takes is a copy in the heap (a start from
	// the state gives each deployment a window reaches one), 48 bytes
	// where a slice and a second pointer made 80.
	k int32
	p unsafe.Pointer
}

// spans is the memo's own array of runs (empty for a memo a state
// carried).
func (m *leadMemo) spans() []float64 {
	if m.k != 0 || m.p == nil {
		return nil
	}
	return unsafe.Slice((*float64)(m.p), m.ends[stageCount])
}

// setSpans makes v the memo's runs, ends set to match by the caller.
func (m *leadMemo) setSpans(v []float64) {
	m.k, m.p = 0, nil
	if len(v) > 0 {
		m.p = unsafe.Pointer(unsafe.SliceData(v))
	}
}

// run is the spans of lead time (stage leadStage) or of a flow stage,
// capped so that nothing appends to them.
func (m *leadMemo) run(stage int) []float64 {
	i := stage + 1
	if m.k != 0 {
		return (*stateLeads)(m.p).run(i, int(m.k-1))
	}
	var a uint32
	if i > 0 {
		a = m.ends[i-1]
	}
	return m.spans()[a:m.ends[i]:m.ends[i]]
}

// leadStage stands for lead time itself where a flow stage may be named.
const leadStage = -1

// leadRuns gathers a deployment's lead memo one change at a time; memo
// packs it.
type leadRuns struct {
	validFrom          int64
	explicit, inferred int
	runs               [stageCount + 1][]float64
}

// memo packs the runs into one array.
func (b *leadRuns) memo() leadMemo {
	m := leadMemo{validFrom: b.validFrom, explicit: int32(b.explicit), inferred: int32(b.inferred)}
	n := 0
	for _, r := range b.runs {
		n += len(r)
	}
	var vals []float64
	if n > 0 {
		vals = make([]float64, 0, n)
	}
	for i, r := range b.runs {
		vals = append(vals, r...)
		m.ends[i] = uint32(len(vals))
	}
	m.setSpans(vals)
	return m
}

// joinMemos is one memo holding the runs and counts of ms, valid from the
// latest of their validities: each run copied into one array of the size
// they add up to.
func joinMemos(ms []*leadMemo) leadMemo {
	var j leadMemo
	var at [stageCount + 1]int
	for _, m := range ms {
		j.validFrom = max(j.validFrom, m.validFrom)
		j.explicit += m.explicit
		j.inferred += m.inferred
		for i := range at {
			at[i] += len(m.run(i - 1))
		}
	}
	// at holds each run's size; from here where its next span goes.
	end := 0
	for i, size := range at {
		at[i] = end
		end += size
		j.ends[i] = uint32(end)
	}
	var vals []float64
	if end > 0 {
		vals = make([]float64, end)
	}
	for _, m := range ms {
		for i := range at {
			at[i] += copy(vals[at[i]:], m.run(i-1))
		}
	}
	j.setSpans(vals)
	return j
}

// leadOf returns x's memo for asOf, taking it when missing or stale; nil
// when asOf is before the memo's validity.
func (d *Dataset) leadOf(x *Dep, asOf int64) *leadMemo {
	memo := &d.memos(x).lead
	m := memo.Load()
	if m == nil {
		d.memoized.Store(true)
		if v, ok := d.leadMemos.memo(x.row); ok {
			m = &v
			memo.Store(m)
			return m.as(asOf)
		}
		var b leadRuns
		d.changesOf(x, math.MaxInt64, func(c *Chg, method string) {
			// A listed change merged after x finished, or one first
			// committed after it, reads differently as of before then.
			if c.Merged > x.Finished {
				b.validFrom = max(b.validFrom, c.Merged)
			}
			if c.Authored > x.Finished {
				b.validFrom = max(b.validFrom, c.Authored)
			}
			// So do a stage's timestamps after it finished (a review
			// after the deployment): as of before them they are absent.
			if c.Opened > x.Finished {
				b.validFrom = max(b.validFrom, c.Opened)
			}
			if c.FirstReview > x.Finished {
				b.validFrom = max(b.validFrom, c.FirstReview)
			}
			b.addChange(x, c, method, math.MaxInt64)
		})
		for _, id := range d.listed(x) {
			if d.sharedChangeID(id) {
				b.validFrom = max(b.validFrom, d.changeSettled(id))
			}
		}
		// changesOf skipped the inferred range's explicitly linked
		// changes; as of before their deployments finished they were x's.
		d.inferredRange(x, func(i int32) {
			c := d.chgs.at(i)
			if e := d.depRef(c.explicit); e != nil {
				b.validFrom = max(b.validFrom, e.Finished)
			}
			if !d.uniqueChange(i) {
				b.validFrom = max(b.validFrom, d.changeSettled(c.id))
			}
		})
		v := b.memo()
		m = &v
		// Racing readers store equal memos: the data determines them.
		memo.Store(m)
	}
	return m.as(asOf)
}

// as is the memo as of asOf: nil before its validity.
func (m *leadMemo) as(asOf int64) *leadMemo {
	if asOf < m.validFrom {
		return nil
	}
	return m
}

// addChange adds change c of deployment x, linked by method, to the runs
// as of asOf: its lead time and each flow stage's span it has, when it is
// in the lead-time population then.
func (b *leadRuns) addChange(x *Dep, c *Chg, method string, asOf int64) {
	h, ok := leadSpan(x, c, asOf)
	if !ok {
		return
	}
	b.runs[0] = append(b.runs[0], h)
	for s := range stageCount {
		if h, ok := stageSpan(s, x, c, asOf); ok {
			b.runs[s+1] = append(b.runs[s+1], h)
		}
	}
	if method == Explicit {
		b.explicit++
	} else {
		b.inferred++
	}
}

// memoLead is x's lead memo as of asOf, for an eligible deployment (the
// only ones that have one); nil otherwise.
func (d *Dataset) memoLead(x *Dep, asOf int64) *leadMemo {
	if !x.eligible() {
		return nil
	}
	return d.leadOf(x, asOf)
}
