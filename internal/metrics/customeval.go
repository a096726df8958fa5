package metrics

import (
	"fmt"
	"math"
	"slices"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

// compute is an organisation-defined metric's Func: the kind's records
// that exist at as_of, in scope, whose time falls in W (or every one for
// the state at as_of; a period overlapping W for a period kind) and that
// pass the filter, aggregated. Like the built-ins, counts are 0 when
// nothing qualifies and ratios, means, medians and percentiles have no
// value; the no-data rule (nodata.go) applies on top. An expression that
// fails on a record — it ran over its cost limit, or unwrapped an absent
// field — leaves the metric without a value, with the reason, rather than
// a figure that silently skipped records.
func (m *CustomMetric) compute(d *Dataset, q Query) Result {
	var r Result
	// periodRefs are the quota records that set a quota period, listed
	// after the metric's own records.
	var periodRefs []Ref
	if m.Def.Span == SpanQuotaPeriod {
		// Over the quota period holding as_of, up to as_of, as quota
		// attainment: the period stands in for W, and says how much of it
		// has gone, for thresholds relative to that share.
		pr, _, p, ok := d.quotaStart(q)
		if !ok {
			return pr
		}
		r = pr
		// The quota records set the period and are listed with it, but
		// they are not what the metric adds up: no value of theirs, and
		// after its own records.
		periodRefs, r.Records = r.Records, nil
		for i := range periodRefs {
			periodRefs[i].Value, periodRefs[i].Note = nil, "sets the quota period; not counted"
		}
		q.Window = time.Duration(q.end() - p.start)
		r.Detail.ElapsedShare = ptr(float64(q.end()-p.start) / float64(p.end-p.start))
	}
	k := m.kind
	lo, hi := q.start(), q.end()
	a := &customAct{d: d, k: k, asOf: hi, start: lo, conv: d.converter(), escalatedOnly: m.escalatedOnly}
	idIdx, srcIdx := k.byName["id"], k.byName["source"]
	var (
		vals    []float64
		sum     float64
		matched int
		failure string
		latestT int64
		latestI string
		latestV float64
		tried   int
	)
	latest := m.Def.Aggregate == AggregateLatest
	k.walk(a, q, m.timeIdx, func() {
		if failure != "" {
			return
		}
		share := 1.0
		missed := a.conv.missed
		var at int64
		switch m.timeIdx {
		case tfState:
			if latest {
				at = k.fields[k.born].t(a)
			}
		case tfPeriod:
			ps, pe := k.fields[k.start].t(a), k.fields[k.end].t(a)
			if share = overlapShare(ps, pe, lo, hi); share == 0 {
				return
			}
			at = ps
		default:
			if at = a.time(m.timeIdx); at == 0 || at < lo || at >= hi {
				return
			}
		}
		tried++
		if m.filter != nil {
			ok, err := evalBool(m.nFilter, m.filter, a)
			if err != nil {
				failure = m.failure("filter", a, err)
				return
			}
			if !ok {
				return
			}
		}
		r.Count++
		var v float64
		if m.value != nil {
			var err error
			if v, err = evalNum(m.nValue, m.value, a); err != nil {
				failure = m.failure("value", a, err)
				return
			}
		}
		note := ""
		switch m.Def.Aggregate {
		case AggregateSum:
			sum += v * share
		case AggregateMean, AggregateMedian, AggregatePercentile:
			vals = append(vals, v)
		case AggregateShare:
			ok, err := evalBool(m.nMatching, m.matching, a)
			if err != nil {
				failure = m.failure("matching", a, err)
				return
			}
			note = "not matching"
			if ok {
				matched++
				note = "matching"
			}
		case AggregateLatest:
			// Ties on the time are broken by id, in byte order (SPEC §2).
			if id := k.fields[idIdx].s(a); r.Count == 1 || at > latestT || (at == latestT && id > latestI) {
				latestT, latestI, latestV = at, id, v
			}
		}
		if q.Records {
			// Only a drill-down keeps the value: a pointer taken for every
			// record would put each on the heap.
			var vp *float64
			if m.value != nil {
				// A sum's record carries what it adds: over a period
				// kind, its part inside W (share is 1 otherwise).
				if m.Def.Aggregate == AggregateSum {
					v *= share
				}
				vp = num(v)
			}
			if a.conv.missed > missed {
				// Its amount could not be converted: no value, not 0.
				vp, note = nil, "no exchange rate into "+a.conv.org
			}
			r.ref(q, k.kind, k.fields[idIdx].s(a), k.fields[srcIdx].s(a), vp, note)
		}
	})
	if failure != "" {
		return Result{Count: r.Count, Detail: Detail{Error: failure}}
	}
	r.Records = append(r.Records, periodRefs...)
	if a.conv.fail(&r) {
		return r
	}
	if m.filter != nil {
		r.Detail.Filtered = &Filtered{Kind: k.kind, In: m.triedIn(), Tried: tried, Passed: r.Count}
	}
	n := r.Count
	switch m.Def.Aggregate {
	case AggregateCount:
		r.Value = num(float64(n))
	case AggregateCountPerDay:
		r.Value = num(float64(n) / (float64(q.Window) / float64(day)))
	case AggregateSum:
		r.Value = num(sum)
	case AggregateMean:
		if n > 0 {
			var s float64
			for _, v := range vals {
				s += v
			}
			r.Value = num(s / float64(n))
		}
	case AggregateMedian:
		r.Value = median(vals)
	case AggregatePercentile:
		r.Value = percentile(vals, m.Def.P)
	case AggregateShare:
		r.Value = share(matched, n)
	case AggregateLatest:
		if n > 0 {
			r.Value = num(latestV)
		}
	}
	return r
}

// triedIn says which records the filter is tried on, by the time tested.
func (m *CustomMetric) triedIn() string {
	switch {
	case m.Def.Span == SpanQuotaPeriod:
		return "with " + m.Def.Time + " in the quota period"
	case m.timeIdx == tfState:
		return "existing at as_of"
	case m.timeIdx == tfPeriod:
		return "whose period overlaps the window"
	}
	return "with " + m.Def.Time + " in the window"
}

// failure is the reason an expression gave no value on a record.
func (m *CustomMetric) failure(field string, a *customAct, err error) string {
	return fmt.Sprintf("%s of %s: evaluating its %s on %s %s: %v", m.Def.ID, "custom metric", field, m.Def.Kind,
		a.k.fields[a.k.byName["id"]].s(a), err)
}

// interpreterOnly turns the compiled closures off, for the test that
// holds them to the interpreter.
var interpreterOnly = false

func evalBool(n func(a *customAct) (bool, bool), p cel.Program, a *customAct) (bool, error) {
	if n != nil && !interpreterOnly {
		if v, ok := n(a); ok {
			return v, nil
		}
	}
	out, _, err := p.Eval(a)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("gave %v, not true or false", out)
	}
	return bool(b), nil
}

func evalNum(n func(a *customAct) (float64, bool), p cel.Program, a *customAct) (float64, error) {
	if n != nil && !interpreterOnly {
		if v, ok := n(a); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, nil
		}
	}
	out, _, err := p.Eval(a)
	if err != nil {
		return 0, err
	}
	var v float64
	switch x := out.(type) {
	case types.Double:
		v = float64(x)
	case types.Int:
		v = float64(x)
	case types.Uint:
		v = float64(x)
	default:
		return 0, fmt.Errorf("gave %v, not a number", out)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("gave %v, not a finite number", v)
	}
	return v, nil
}

// percentile is the p-th percentile (0 < p ≤ 100) of v by linear
// interpolation between the closest ranks (the definition spreadsheets
// and NumPy use by default), or nil for no values. It reorders v.
func percentile(v []float64, p float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	rank := p / 100 * float64(len(v)-1)
	i := int(math.Floor(rank))
	if i >= len(v)-1 {
		return num(v[len(v)-1])
	}
	f := rank - float64(i)
	return num(v[i] + (v[i+1]-v[i])*f)
}
