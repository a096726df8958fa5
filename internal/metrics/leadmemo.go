package metrics

import "math"

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
	spans              []float64
	explicit, inferred int
	// stages holds, per flow stage (flow.go), the spans of the changes in
	// the lead-time population that have the stage: the flow metrics read
	// them instead of walking every deployment's changes again.
	stages [stageCount][]float64
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
		m = &leadMemo{}
		d.changesOf(x, math.MaxInt64, func(c *Chg, method string) {
			// A listed change merged after x finished, or one first
			// committed after it, reads differently as of before then.
			if c.Merged > x.Finished {
				m.validFrom = max(m.validFrom, c.Merged)
			}
			if c.Authored > x.Finished {
				m.validFrom = max(m.validFrom, c.Authored)
			}
			// So do a stage's timestamps after it finished (a review
			// after the deployment): as of before them they are absent.
			if c.Opened > x.Finished {
				m.validFrom = max(m.validFrom, c.Opened)
			}
			if c.FirstReview > x.Finished {
				m.validFrom = max(m.validFrom, c.FirstReview)
			}
			m.addChange(x, c, method, math.MaxInt64)
		})
		for _, id := range d.listed(x) {
			if d.sharedChangeID(id) {
				m.validFrom = max(m.validFrom, d.changeSettled(id))
			}
		}
		// changesOf skipped the inferred range's explicitly linked
		// changes; as of before their deployments finished they were x's.
		d.inferredRange(x, func(i int32) {
			c := d.chgs.at(i)
			if e := d.depRef(c.explicit); e != nil {
				m.validFrom = max(m.validFrom, e.Finished)
			}
			if !d.uniqueChange(i) {
				m.validFrom = max(m.validFrom, d.changeSettled(c.id))
			}
		})
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

// addChange adds change c of deployment x, linked by method, to the memo
// as of asOf: its lead time and each flow stage's span it has, when it is
// in the lead-time population then.
func (m *leadMemo) addChange(x *Dep, c *Chg, method string, asOf int64) {
	h, ok := leadSpan(x, c, asOf)
	if !ok {
		return
	}
	m.spans = append(m.spans, h)
	for s := range m.stages {
		if h, ok := stageSpan(s, x, c, asOf); ok {
			m.stages[s] = append(m.stages[s], h)
		}
	}
	if method == Explicit {
		m.explicit++
	} else {
		m.inferred++
	}
}

// addMemo adds another memo's spans and counts to the memo, which is
// valid from the later of the two validities.
func (m *leadMemo) addMemo(o *leadMemo) {
	m.validFrom = max(m.validFrom, o.validFrom)
	m.spans = append(m.spans, o.spans...)
	m.explicit += o.explicit
	m.inferred += o.inferred
	for s := range m.stages {
		m.stages[s] = append(m.stages[s], o.stages[s]...)
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
