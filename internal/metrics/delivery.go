package metrics

import (
	"sort"
	"time"

	"github.com/candor/candor/internal/domain"
)

// depRef notes a deployment behind a value; the pointer is only followed
// for a drill-down.
func (r *Result) depRef(q Query, d *Dataset, x *Dep, v *float64, note string) {
	if q.Records {
		r.codedRef(q, d, domain.KindDeployment, x.src, x.id, x.row+1, v, note)
	}
}

func deploymentFrequency(d *Dataset, q Query) Result {
	var r Result
	r.expectRecords(q, d.prodInCount(q))
	var times []int64
	d.prodIn(q, func(row *depRow) {
		if row.status != stFailure {
			r.Count++
			times = append(times, row.fin)
			r.depRef(q, d, d.depOf(row.i), nil, "")
		}
	})
	r.Value = num(float64(r.Count) / (float64(q.Window) / float64(day)))
	lvl, perWeek := frequencyLevel(times, q.start(), q.end())
	if lvl != "" {
		r.Detail.DORALevel = lvl
	}
	// Shown beside the frequency: peers (DevLake, Four Keys) and the DORA
	// level count deployment days, not deployments.
	if perWeek != nil {
		r.Detail.DeploymentDaysPerWeek = ptr(*perWeek)
	}
	return r
}

// frequencyLevel applies the DORA 2023 deployment frequency bands: median
// deployment days per week, else per month. Days and weeks are counted back
// from as_of in whole 24 h and 7-day slots; a partial slot at the window's
// start is left out so it cannot drag the median down.
//
// times must be in ascending order: the day and slot counted back from
// as_of then never increase, so each new day is seen exactly once.
//
// It also returns the median deployment days per week it judged by (nil
// when the window holds no full week).
func frequencyLevel(times []int64, start, end int64) (string, *float64) {
	dayNs := int64(day)
	perSlot := func(slot int64) []float64 {
		n := int((end - start) / slot)
		if n == 0 {
			return nil
		}
		out := make([]float64, n)
		prev := int64(-1)
		for _, t := range times {
			k := int((end - 1 - t) / slot)
			if k >= n {
				continue
			}
			if dd := (end - 1 - t) / dayNs; dd != prev {
				out[k]++
				prev = dd
			}
		}
		return out
	}
	var perWeek *float64
	if w := perSlot(7 * dayNs); w != nil {
		perWeek = median(w)
		switch {
		case *perWeek >= 5:
			return "elite", perWeek
		case *perWeek >= 1:
			return "high", perWeek
		}
	}
	if m := perSlot(30 * dayNs); m != nil {
		if *median(m) >= 1 {
			return "medium", perWeek
		}
		return "low", perWeek
	}
	if len(times) > 0 {
		return "medium", perWeek
	}
	return "low", perWeek
}

// leadSpan is a change's lead time in hours as of asOf when deployment x
// shipped it: from its first commit, or its merge when the first commit is
// absent or after asOf (SPEC §3: a timestamp after as_of is absent). False
// for a negative span: a first commit after the deployment finished, or,
// without one, a change listed by a deployment before it merged (until it
// merges it does not exist at all, see explicitAt).
func leadSpan(x *Dep, c *Chg, asOf int64) (float64, bool) {
	from := c.Authored
	if from == 0 || from > asOf {
		from = c.Merged
	}
	span := x.Finished - from
	if span < 0 {
		return 0, false
	}
	return hours(span), true
}

func leadTime(d *Dataset, q Query) Result {
	var r Result
	var spans []float64
	explicit, inferred := 0, 0
	if q.Scope.Dim == "" && !q.Records {
		r, e, i := d.orgMedian(leadStage, q)
		return leadTimeDetail(r, e, i)
	}
	d.prodIn(q, func(row *depRow) {
		x := d.depOf(row.i)
		if !q.Records {
			if m := d.memoLead(x, q.end()); m != nil {
				spans = append(spans, m.run(leadStage)...)
				explicit += int(m.explicit)
				inferred += int(m.inferred)
				return
			}
		}
		if q.Records {
			d.listProblems(x, q.end(), func(p Problem) { r.problem(q, p) })
		}
		d.changesOf(x, q.end(), func(c *Chg, method string) {
			h, ok := leadSpan(x, c, q.end())
			if !ok {
				return
			}
			spans = append(spans, h)
			if method == Explicit {
				explicit++
			} else {
				inferred++
			}
			r.ref(q, domain.KindChange, c.ID, c.Source, num(h), method+" via deployment "+d.str(x.id))
		})
	})
	r.Count = len(spans)
	r.Value = median(spans)
	r.Problems = sortProblems(r.Problems)
	return leadTimeDetail(r, explicit, inferred)
}

func leadTimeDetail(r Result, explicit, inferred int) Result {
	r.Detail.Links = &Links{Explicit: explicit, Inferred: inferred}
	if r.Value != nil {
		h := *r.Value
		lvl := "low"
		switch {
		case h < 24:
			lvl = "elite"
		case h < 24*7:
			lvl = "high"
		case h < 24*30:
			lvl = "medium"
		}
		r.Detail.DORALevel = lvl
	}
	return r
}

// linkProblems adds to a drill-down the data problems of the links that
// decide failure: the rollback_of of the production deployments in W and
// the explicit causes of the incidents in scope opened in W (an incident
// has no environment: an environment scope lists them all).
func (d *Dataset) linkProblems(q Query, r *Result) {
	if !q.Records {
		return
	}
	add := func(p Problem) { r.problem(q, p) }
	d.prodIn(q, func(row *depRow) { d.rollbackProblem(d.depOf(row.i), q.end(), add) })
	d.incidentsOpened(q, func(i *Inc) { d.incidentProblem(i, q.end(), add) })
}

func changeFailureRate(d *Dataset, q Query) Result {
	var r Result
	r.expectRecords(q, d.prodInCount(q))
	failed := 0
	d.prodFailIn(q, func(row *depRow, why string) {
		r.Count++
		if why != "" {
			failed++
		}
		r.depRef(q, d, d.depOf(row.i), nil, why)
	})
	d.linkProblems(q, &r)
	r.Problems = sortProblems(r.Problems)
	r.Value = share(failed, r.Count)
	r.Detail.Failed = ptr(failed)
	if r.Value != nil {
		v := *r.Value
		lvl := "low"
		switch {
		case v <= 5:
			lvl = "elite"
		case v <= 10:
			lvl = "high"
		case v <= 15:
			lvl = "medium"
		}
		r.Detail.DORALevel = lvl
	}
	return r
}

func recoveryTime(d *Dataset, q Query) Result {
	var r Result
	var spans []float64
	asOf := q.end()
	unrecovered := 0
	d.prodFailIn(q, func(row *depRow, why string) {
		if why == "" {
			return
		}
		x := d.depOf(row.i)
		at, st := d.recovery(x, asOf)
		switch st {
		case recOpen:
			unrecovered++
			r.depRef(q, d, x, nil, "not recovered")
			return
		case recNegative:
			// SPEC §3: dropped and reported as a data problem.
			r.depRef(q, d, x, nil, "left out: its incidents were resolved before it finished (see problems)")
			if q.Records {
				d.negativeRecovery(x, asOf, func(p Problem) { r.problem(q, p) })
			}
			return
		}
		h := hours(at - x.Finished)
		spans = append(spans, h)
		r.depRef(q, d, x, refValue(q, h), "")
	})
	d.linkProblems(q, &r)
	r.Problems = sortProblems(r.Problems)
	r.Count = len(spans)
	r.Value = median(spans)
	r.Detail.Unrecovered = ptr(unrecovered)
	if r.Value != nil {
		h := *r.Value
		lvl := "low"
		switch {
		case h < 1:
			lvl = "elite"
		case h < 24:
			lvl = "high"
		case h < 24*7:
			lvl = "medium"
		}
		r.Detail.DORALevel = lvl
	}
	return r
}

// prodShare is the share of production deployments in W matching pred.
func prodShare(d *Dataset, q Query, pred func(row *depRow) string) Result {
	var r Result
	hit := 0
	d.prodIn(q, func(row *depRow) {
		r.Count++
		note := pred(row)
		if note != "" {
			hit++
		}
		r.depRef(q, d, d.depOf(row.i), nil, note)
	})
	r.Value = share(hit, r.Count)
	return r
}

func reworkRate(d *Dataset, q Query) Result {
	return prodShare(d, q, func(row *depRow) string {
		if row.rework {
			return "rework"
		}
		return ""
	})
}

func rollbackRate(d *Dataset, q Query) Result {
	asOf := q.end()
	r := prodShare(d, q, func(row *depRow) string {
		if row.status == stRolledBack || d.rolledBack(d.depOf(row.i), asOf) {
			return "rolled back"
		}
		return ""
	})
	if q.Records {
		d.prodIn(q, func(row *depRow) { d.rollbackProblem(d.depOf(row.i), asOf, func(p Problem) { r.problem(q, p) }) })
		r.Problems = sortProblems(r.Problems)
	}
	return r
}

func successRate(d *Dataset, q Query) Result {
	r := prodShare(d, q, func(row *depRow) string {
		if row.status == stSuccess {
			return "success"
		}
		return ""
	})
	return r
}

func deploymentDuration(d *Dataset, q Query) Result {
	var r Result
	var spans []float64
	d.prodIn(q, func(row *depRow) {
		if row.dur < 0 {
			return
		}
		m := minutes(row.dur)
		spans = append(spans, m)
		r.depRef(q, d, d.depOf(row.i), refValue(q, m), "")
	})
	r.Count = len(spans)
	r.Value = median(spans)
	return r
}

// emergencyRetroOverdue looks at all time, not the window: an emergency
// change that was never validated stays overdue until it is.
func emergencyRetroOverdue(d *Dataset, q Query) Result {
	var r Result
	asOf := q.end()
	limit := asOf - int64(72*time.Hour)
	n := 0
	for x := range d.emergencies() {
		if !d.matchDep(q, x) || x.Finished >= limit {
			continue
		}
		if v := d.retroValid(x); v != 0 && v <= asOf {
			continue
		}
		n++
		r.depRef(q, d, x, nil, "retro-validation overdue")
	}
	r.Count = n
	r.Value = num(float64(n))
	// The set is a map: order the drill-down so it reads the same each time.
	sort.Slice(r.Records, func(i, j int) bool { return r.Records[i].ID < r.Records[j].ID })
	return r
}
