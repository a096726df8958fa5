package metrics

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// Customer Trust & Experience (SPEC §3, §7).

func customerDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	switch dim {
	case "plan":
		for x := range d.subs().all() {
			if d.matchCode(q, dim, x.plan) {
				addDimValue(set, d.str(x.plan))
			}
		}
	case "priority", "segment", "customer":
		for t := range d.tickets().all() {
			if d.matchTicket(q, t) {
				addDimValue(set, d.str(t.attr(dim)))
			}
		}
		if dim == "segment" {
			// NRR's and GRR's lines: the segments subscriptions name
			// (Breakdown keeps those of the kinds a metric reads).
			for x := range d.subs().all() {
				if d.subInScope(q, x) {
					addDimValue(set, d.str(x.segment))
				}
			}
		}
	}
}

// subInScope reports whether a subscription passes every filter of the
// scope: a subscription carries its plan and segment, and no other
// dimension — under a ticket's priority or a service's team it is no
// line's.
func (d *Dataset) subInScope(q Query, x *subRow) bool {
	for _, f := range q.Scope.Filters() {
		if f.Dim != "plan" && f.Dim != "segment" {
			return false
		}
	}
	return d.matchCode(q, "plan", x.plan) && d.matchCode(q, "segment", x.segment)
}

// matchTicket reports whether a ticket passes the scope's priority,
// segment and customer filters and those of the service it is about (one
// the source did not name is the "(none)" line's).
func (d *Dataset) matchTicket(q Query, t *ticketRow) bool {
	return d.matchCode(q, "priority", t.priority) && d.matchCode(q, "segment", t.segment()) &&
		d.matchCode(q, "customer", t.customer) && d.matchServiceCode(q, t.service)
}

// surveysIn calls fn for the survey responses of a type whose at is in W.
func (d *Dataset) surveysIn(q Query, typ string, fn func(s *surveyRow)) {
	for s := range d.surveys().in(q.start(), q.end()) {
		if strings.EqualFold(d.str(s.typ), typ) {
			fn(s)
		}
	}
}

func csat(d *Dataset, q Query) Result {
	var r Result
	good := 0
	d.surveysIn(q, "csat", func(s *surveyRow) {
		r.Count++
		// The unhappy answers are noted, as SLA adherence notes its
		// breaches: a records table puts them first, where the 2s and 3s
		// had been scattered among a hundred, oldest first.
		note := "dissatisfied"
		if s.score >= 4 {
			good++
			note = ""
		}
		r.rowRef(q, d, s, refValue(q, s.score), note)
	})
	r.Value = share(good, r.Count)
	return r
}

func nps(d *Dataset, q Query) Result {
	var r Result
	promoters, detractors := 0, 0
	d.surveysIn(q, "nps", func(s *surveyRow) {
		r.Count++
		note := ""
		switch {
		case s.score >= 9:
			promoters++
		case s.score <= 6:
			detractors++
			note = "detractor" // listed first, as csat's dissatisfied
		}
		r.rowRef(q, d, s, refValue(q, s.score), note)
	})
	if r.Count > 0 {
		r.Value = num(100 * float64(promoters-detractors) / float64(r.Count))
	}
	r.Detail.Promoters = ptr(promoters)
	r.Detail.Detractors = ptr(detractors)
	return r
}

// subActiveAt: started_at ≤ t and no ended_at ≤ t (SPEC §3).
func subActiveAt(s *subRow, t int64) bool {
	if s.started > t {
		return false
	}
	e := s.ended
	return e == 0 || e > t
}

// logoChurnRate scans every subscription (an active subscription can have
// started at any time). In a plan scope the base is the customers with a
// subscription of that plan active at W's start; they churned when no
// subscription of any plan is active at as_of (a plan change is not logo
// churn).
func logoChurnRate(d *Dataset, q Query) Result {
	var r Result
	s, e := q.start(), q.end()
	// By customer (string table code): a subscription active at W's
	// start, and whether one is active at its end.
	n := d.subs().len()
	base, activeEnd := make(map[uint32]*subRow, n), make(map[uint32]bool, n)
	for x := range d.subs().all() {
		c := x.customer
		if subActiveAt(x, s) && d.matchCode(q, "plan", x.plan) {
			if b := base[c]; b == nil || d.str(x.id) < d.str(b.id) {
				base[c] = x
			}
		}
		if subActiveAt(x, e) {
			activeEnd[c] = true
		}
	}
	churned := 0
	for c := range base {
		if !activeEnd[c] {
			churned++
		}
	}
	// Every customer of the denominator is behind the value, churned or
	// kept: a 0 % rate still rests on the customers who stayed.
	if q.Records {
		customers := make([]uint32, 0, len(base))
		for c := range base {
			customers = append(customers, c)
		}
		slices.SortFunc(customers, func(a, b uint32) int { return strings.Compare(d.str(a), d.str(b)) })
		for _, c := range customers {
			note := "churned: "
			if activeEnd[c] {
				note = "kept: "
			}
			r.rowRef(q, d, base[c], nil, note+d.str(c))
		}
	}
	r.Count = len(base)
	r.Value = share(churned, len(base))
	r.Detail.Churned = ptr(churned)
	return r
}

func slaAdherence(d *Dataset, q Query) Result {
	var r Result
	start, end := q.start(), q.end()
	met := 0
	// A ticket counted here was resolved in W and created by as_of, so its
	// event time (the later of the two) lies in [start, end]: the walk
	// stops at as_of instead of running on to the newest ticket, which for
	// a trend point weeks back was most of the walk.
	for t := range d.tickets().in(start, end+1) {
		res := t.resolved
		// Created after as_of: it does not exist yet, resolved or not.
		if res < start || res >= end || t.created > end || t.slaDue == 0 || !d.matchTicket(q, t) {
			continue
		}
		r.Count++
		// Only a breach is noted, as change failure rate notes only its
		// failures: a records table puts the noted rows first, and with
		// every row noted ("met" too) the breaches a support lead looks
		// for were scattered among hundreds met, oldest first.
		note := "breached"
		if res <= t.slaDue {
			met++
			note = ""
		}
		r.rowRef(q, d, t, nil, note)
	}
	r.Value = share(met, r.Count)
	return r
}

// openEscalations is point in time and scans every ticket: an escalation
// still open can have been created at any time.
func openEscalations(d *Dataset, q Query) Result {
	var r Result
	asOf := q.end()
	for t := range d.escalatedThrough(asOf) {
		if !d.matchTicket(q, t) {
			continue
		}
		if res := t.resolved; res != 0 && res <= asOf {
			continue
		}
		r.Count++
		r.rowRef(q, d, t, nil, d.str(t.customer))
	}
	r.Value = num(float64(r.Count))
	return r
}

// ---------------------------------------------------------------- release impact

// releaseScoreLine is a release in W with its score: its weighted tickets
// less its service's baseline (releaseImpactScore).
type releaseScoreLine struct {
	ri    releaseImpact
	base  float64
	score float64
}

// worseRelease orders release lines worst first: the higher score, then
// the earlier release, then the id.
func (d *Dataset) worseRelease(a, b releaseScoreLine) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.ri.x.Finished != b.ri.x.Finished {
		return a.ri.x.Finished < b.ri.x.Finished
	}
	return d.str(a.ri.x.id) < d.str(b.ri.x.id)
}

// releaseScores returns the production releases in W (in finishing order)
// and their lines, worst first: every one when all is set, else the worst
// impactTopN, which is all a scorecard needs (kept by insertion). The
// releases page reads the same lines, so that its scores are the metric's.
func releaseScores(d *Dataset, q Query, all bool) ([]releaseImpact, []releaseScoreLine) {
	window := int64(d.cfg.impactWindow())
	start, end := q.start(), q.end()
	w := d.cfg.impactWeights()
	rows := d.prodBetween(start, end)
	inW := make([]releaseImpact, 0, len(rows)) // in finishing order
	org := q.Scope.Dim == ""
	for i := range rows {
		row := &rows[i]
		x := d.depOf(row.i)
		if !org && !d.matchService(q, d.depService(x)) {
			continue
		}
		ri := releaseImpact{x: x, svc: d.depSvc(x)}
		if row.tickets {
			ri.weighted, ri.tickets = d.tally(x, w, window, end)
		}
		inW = append(inW, ri)
	}
	if len(inW) == 0 {
		return nil, nil
	}
	base := d.impactBaselines(q, w, window)
	baseline := func(svc *svcState) float64 {
		if a := base[svc]; a.n > 0 {
			return a.sum / float64(a.n)
		}
		return 0
	}
	var lines []releaseScoreLine
	for _, ri := range inW {
		b := baseline(ri.svc)
		l := releaseScoreLine{ri, b, ri.weighted - b}
		switch {
		case all:
			lines = append(lines, l)
		case len(lines) < impactTopN || d.worseRelease(l, lines[len(lines)-1]):
			i := sort.Search(len(lines), func(k int) bool { return d.worseRelease(l, lines[k]) })
			lines = slices.Insert(lines, i, l)
			if len(lines) > impactTopN {
				lines = lines[:impactTopN]
			}
		}
	}
	if all {
		sort.Slice(lines, func(i, j int) bool { return d.worseRelease(lines[i], lines[j]) })
	}
	return inW, lines
}

// releaseImpactScore (SPEC §3, §7). For each production deployment in
// scope finishing in W: the weighted tickets created in its observation
// window [finished_at, finished_at + ReleaseImpactWindow), counting only
// tickets created by as_of (a window still open counts the tickets so far),
// minus its service's baseline. Tickets are attributed to a release only
// through ticket.release = the deployment's id: a ticket without release
// is not attributable (inferring it from timing alone would blame every
// release for background ticket volume) and is ignored. The baseline is
// the mean weighted tickets per production deployment of the same service
// finishing in the 90 days before W, observed the same way (0 when the
// service had no release then). The value is the worst (highest) release.
// Cost: the tickets with an event time from 90 days before W onwards.
func releaseImpactScore(d *Dataset, q Query) Result {
	var r Result
	window := int64(d.cfg.impactWindow())
	w := d.cfg.impactWeights()
	inW, lines := releaseScores(d, q, q.Records)
	r.Count = len(inW)
	if len(inW) == 0 {
		return r
	}
	end := q.end()
	r.Value = num(lines[0].score)
	top := make([]ReleaseLine, 0, min(impactTopN, len(lines)))
	for i, l := range lines {
		if i < impactTopN {
			top = append(top, ReleaseLine{
				Deployment: d.str(l.ri.x.id), Service: d.depService(l.ri.x), FinishedAt: time.Unix(0, l.ri.x.Finished).UTC(),
				Tickets: l.ri.tickets, Weighted: l.ri.weighted, Baseline: l.base, Score: l.score,
			})
		}
		r.depRef(q, d, l.ri.x, refValue(q, l.score), "release impact")
	}
	if q.Records {
		for _, ri := range inW {
			x := ri.x
			d.releaseTickets(x, window, end, func(t *ticketRow) {
				r.rowRef(q, d, t, refValue(q, w.of(d, t)), "release "+d.str(x.id))
			})
		}
	}
	r.Detail.Releases = top
	r.Detail.ObservationWindowHours = ptr(hours(window))
	return r
}
