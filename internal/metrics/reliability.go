package metrics

import (
	"math"
	"sort"

	"github.com/candor/candor/internal/domain"
)

type goodTotal struct{ good, total float64 }

// slisIn sums availability SLIs whose whole period lies inside W, per
// service; keep, when set, limits the services taken (and so the records
// listed behind the value).
func (d *Dataset) slisIn(q Query, r *Result, keep func(service string) bool) map[string]*goodTotal {
	out := map[string]*goodTotal{}
	end := q.end()
	for _, s := range d.slisStarting(q.start(), end) {
		if s.End > end || !d.matchServiceCode(q, s.svc) || (keep != nil && !keep(d.str(s.svc))) {
			continue
		}
		g := out[d.str(s.svc)]
		if g == nil {
			g = &goodTotal{}
			out[d.str(s.svc)] = g
		}
		g.good += s.Good
		g.total += s.Total
		r.Count++
		r.codedRef(q, d, domain.KindSLI, s.src, s.id, 0, nil, "")
	}
	return out
}

func pooledAvailability(per map[string]*goodTotal) *float64 {
	var g, t float64
	for _, x := range per {
		g += x.good
		t += x.total
	}
	if t == 0 {
		return nil
	}
	return num(100 * g / t)
}

func availability(d *Dataset, q Query) Result {
	var r Result
	r.Value = pooledAvailability(d.slisIn(q, &r, nil))
	return r
}

func errorRate(d *Dataset, q Query) Result {
	r := availability(d, q)
	if r.Value != nil {
		r.Value = num(100 - *r.Value)
	}
	return r
}

// sloServices returns, for services with an SLO target and SLI data in W,
// their availability as a fraction, sorted by service.
func (d *Dataset) sloServices(q Query, r *Result) ([]string, map[string]float64) {
	// Only services with a target count (SPEC §3 slo_compliance), so only
	// their SLIs are the records behind the value.
	per := d.slisIn(q, r, func(svc string) bool {
		_, ok := d.sloTarget(svc)
		return ok
	})
	avail := map[string]float64{}
	var names []string
	for svc, g := range per {
		if g.total == 0 {
			continue
		}
		avail[svc] = g.good / g.total
		names = append(names, svc)
	}
	sort.Strings(names)
	return names, avail
}

func sloCompliance(d *Dataset, q Query) Result {
	var r Result
	names, avail := d.sloServices(q, &r)
	met := 0
	per := map[string]bool{}
	for _, s := range names {
		target, _ := d.sloTarget(s)
		ok := avail[s] >= target
		per[s] = ok
		if ok {
			met++
		}
	}
	r.Count = len(names)
	r.Value = share(met, len(names))
	r.Detail.Services = &PerService{Met: per}
	return r
}

func errorBudgetRemaining(d *Dataset, q Query) Result {
	var r Result
	names, avail := d.sloServices(q, &r)
	per := map[string]float64{}
	var minV *float64
	for _, s := range names {
		t, _ := d.sloTarget(s)
		v := 100 * math.Max(0, 1-(1-avail[s])/(1-t))
		per[s] = v
		if minV == nil || v < *minV {
			minV = num(v)
		}
	}
	r.Count = len(names)
	r.Value = minV
	r.Detail.Services = &PerService{Budget: per}
	return r
}

// incidentDimValues adds the origins of the incidents that pass the
// query's scope ("(none)" for incidents without one).
func incidentDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	if dim != "origin" {
		return
	}
	for _, i := range d.openedBetween(math.MinInt64, math.MaxInt64) {
		if d.matchInc(q, i) {
			addDimValue(set, d.str(i.origin))
		}
	}
}

func (r *Result) incRef(q Query, d *Dataset, i *Inc, v *float64, note string) {
	// Checked here too: the id and source are looked up only for a
	// drill-down, not for every incident of every trend point's walk.
	if q.Records {
		r.codedRef(q, d, domain.KindIncident, i.src, i.id, 0, v, note)
	}
}

func incidentsP0P1(d *Dataset, q Query) Result {
	var r Result
	d.incidentsOpened(q, func(i *Inc) {
		if i.Severity <= 1 {
			r.Count++
			r.incRef(q, d, i, nil, "")
		}
	})
	r.Value = num(float64(r.Count))
	return r
}

func mttr(d *Dataset, q Query) Result {
	var r Result
	var spans []float64
	asOf := q.end()
	for _, i := range d.resolvedBetween(q.start(), asOf) {
		// An incident opened after as_of does not exist yet, whatever
		// its resolved_at says (SPEC §3).
		if i.Opened > asOf || !d.matchInc(q, i) {
			continue
		}
		h := hours(i.Resolved - i.Opened)
		spans = append(spans, h)
		r.incRef(q, d, i, refValue(q, h), "")
	}
	r.Count = len(spans)
	r.Value = median(spans)
	return r
}

func timeToDetect(d *Dataset, q Query) Result {
	var r Result
	var spans []float64
	asOf := q.end()
	d.incidentsOpened(q, func(i *Inc) {
		if i.Detected == 0 || i.Detected > asOf {
			return
		}
		m := minutes(i.Detected - i.Opened)
		spans = append(spans, m)
		r.incRef(q, d, i, refValue(q, m), "")
	})
	r.Count = len(spans)
	r.Value = median(spans)
	return r
}

// recurrenceLookback is SPEC §3's "30 days before it".
const recurrenceLookback = 30 * day

func recurrenceRate(d *Dataset, q Query) Result {
	var r Result
	hit := 0
	d.incidentsOpened(q, func(i *Inc) {
		r.Count++
		note := ""
		if i.fingerprint != 0 {
			for _, p := range d.serviceOpenedBetween(d.str(i.svc), i.Opened-int64(recurrenceLookback), i.Opened) {
				if p != i && p.fingerprint == i.fingerprint {
					hit++
					note = "recurrence of " + d.str(p.id)
					break
				}
			}
		}
		r.incRef(q, d, i, nil, note)
	})
	r.Value = share(hit, r.Count)
	return r
}

func postmortemCompliance(d *Dataset, q Query) Result {
	var r Result
	done := 0
	asOf := q.end()
	for _, i := range d.postmortemsDueBetween(q.start(), asOf) {
		if i.Opened > asOf || i.Resolved > asOf || !d.matchInc(q, i) {
			continue
		}
		r.Count++
		note := "post-mortem missing"
		if i.PMDone != 0 && i.PMDone <= asOf {
			done++
			note = "post-mortem done"
		}
		r.incRef(q, d, i, nil, note)
	}
	r.Value = share(done, r.Count)
	return r
}
