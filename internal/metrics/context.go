package metrics

import (
	"github.com/candor/candor/internal/domain"
)

// The metrics that judge the platform in its context (SPEC §3): weighted by
// where customers feel a failure, during business hours, against latency
// objectives, and against the organisation's own history.

// customerWeightedChangeFailureRate is change_failure_rate with each
// production deployment finishing in W weighted by its service's tier:
// Σ weights of the failed ÷ Σ weights of all. A record's value is its
// weight.
func customerWeightedChangeFailureRate(d *Dataset, q Query) Result {
	var r Result
	weight := d.depTierWeights(d.cfg.tierWeights())
	failed := 0
	var failedW, totalW float64
	d.prodFailIn(q, func(row *depRow, why string) {
		r.Count++
		x := d.depOf(row.i)
		wt := weight(x)
		totalW += wt
		if why != "" {
			failed++
			failedW += wt
		}
		r.depRef(q, d, x, refValue(q, wt), why)
	})
	d.linkProblems(q, &r)
	r.Problems = sortProblems(r.Problems)
	if totalW > 0 {
		r.Value = num(100 * failedW / totalW)
	}
	r.Detail.Failed = ptr(failed)
	r.Detail.WeightFailed, r.Detail.WeightTotal = ptr(failedW), ptr(totalW)
	return r
}

// businessHoursAvailability is availability over the availability SLIs
// whose period lies inside W and inside one open day of the business
// calendar of their service (its own, else the organisation's).
func businessHoursAvailability(d *Dataset, q Query) Result {
	var r Result
	r.Value = d.pooledIn(q, d.slisStarting(q.start(), q.end()), &r, func(s *SLISample) bool {
		return d.cfg.calendarOf(d.str(s.svc)).contains(s.Start, s.End)
	})
	cal := d.cfg.orgCalendar()
	if q.Scope.Dim == "service" && len(q.Scope.Filters()) == 1 {
		cal = d.cfg.calendarOf(q.Scope.Value)
	}
	r.Detail.Calendar = cal.String()
	return r
}

// latencyCompliance is Σ good ÷ Σ total of the latency SLIs (synthetic
// checks are sent the same way) whose period lies inside W.
func latencyCompliance(d *Dataset, q Query) Result {
	var r Result
	r.Value = d.pooledIn(q, d.latencySLIsStarting(q.start(), q.end()), &r, nil)
	return r
}

// pooledIn is Σ good ÷ Σ total × 100 over the SLIs (starting in W) whose
// whole period lies inside W, whose service is in scope and which keep
// accepts (nil: all); each is a case and a record behind the value. No
// value when Σ total is 0.
func (d *Dataset) pooledIn(q Query, slis []*SLISample, r *Result, keep func(*SLISample) bool) *float64 {
	var good, total float64
	end := q.end()
	for _, s := range slis {
		if s.End > end || !d.matchServiceCode(q, s.svc) || keep != nil && !keep(s) {
			continue
		}
		good += s.Good
		total += s.Total
		r.Count++
		r.codedRef(q, d, domain.KindSLI, s.src, s.id, 0, nil, "")
	}
	if total == 0 {
		return nil
	}
	return num(100 * good / total)
}

// BaselinePeriod is how far back mttr_baseline looks: the 90 days before
// W's start.
const BaselinePeriod = 90 * day

// mttrBaseline is mttr over the 90 days before W: the median time to
// restore of the incidents resolved in [W's start − 90 days, W's start).
func mttrBaseline(d *Dataset, q Query) Result {
	b := q
	b.AsOf = q.AsOf.Add(-q.Window)
	b.Window = BaselinePeriod
	return mttr(d, b)
}
