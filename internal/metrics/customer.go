package metrics

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Customer Trust & Experience (SPEC §3, §7).

func customerDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	switch dim {
	case "plan":
		for _, rec := range d.Records(domain.KindSubscription) {
			if p := rec.(*domain.Subscription).Plan; matchAttr(q, dim, p) {
				addDimValue(set, p)
			}
		}
	case "priority":
		for _, rec := range d.Records(domain.KindTicket) {
			if p := rec.(*domain.Ticket).Priority; matchAttr(q, dim, p) {
				addDimValue(set, p)
			}
		}
	}
}

// recordsIn returns the records of a kind whose event time is in
// [lo, hi); only for kinds whose event time is the tested timestamp.
func (d *Dataset) recordsIn(kind domain.Kind, lo, hi int64) []domain.Record {
	rs := d.recordsFrom(kind, lo)
	return rs[:sort.Search(len(rs), func(i int) bool { return evAt(rs[i]) >= hi })]
}

// surveysIn calls fn for the survey responses of a type whose at is in W.
func (d *Dataset) surveysIn(q Query, typ string, fn func(s *domain.Survey)) {
	for _, rec := range d.recordsIn(domain.KindSurvey, q.start(), q.end()) {
		if s := rec.(*domain.Survey); strings.EqualFold(s.Type, typ) {
			fn(s)
		}
	}
}

func csat(d *Dataset, q Query) Result {
	var r Result
	good := 0
	d.surveysIn(q, "csat", func(s *domain.Survey) {
		r.Count++
		if s.Score >= 4 {
			good++
		}
		r.ref(q, domain.KindSurvey, s.ID, s.Source, num(s.Score), "")
	})
	r.Value = share(good, r.Count)
	return r
}

func nps(d *Dataset, q Query) Result {
	var r Result
	promoters, detractors := 0, 0
	d.surveysIn(q, "nps", func(s *domain.Survey) {
		r.Count++
		switch {
		case s.Score >= 9:
			promoters++
		case s.Score <= 6:
			detractors++
		}
		r.ref(q, domain.KindSurvey, s.ID, s.Source, num(s.Score), "")
	})
	if r.Count > 0 {
		r.Value = num(100 * float64(promoters-detractors) / float64(r.Count))
	}
	r.Detail.Promoters = ptr(promoters)
	r.Detail.Detractors = ptr(detractors)
	return r
}

// subActiveAt: started_at ≤ t and no ended_at ≤ t (SPEC §3).
func subActiveAt(s *domain.Subscription, t int64) bool {
	if ns(s.StartedAt) > t {
		return false
	}
	e := ns(s.EndedAt)
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
	base := map[string]*domain.Subscription{} // customer → a subscription active at W's start
	activeEnd := map[string]bool{}
	for _, rec := range d.Records(domain.KindSubscription) {
		x := rec.(*domain.Subscription)
		if subActiveAt(x, s) && matchAttr(q, "plan", x.Plan) {
			if b := base[x.Customer]; b == nil || x.ID < b.ID {
				base[x.Customer] = x
			}
		}
		if subActiveAt(x, e) {
			activeEnd[x.Customer] = true
		}
	}
	customers := make([]string, 0, len(base))
	for c := range base {
		customers = append(customers, c)
	}
	sort.Strings(customers)
	churned := 0
	for _, c := range customers {
		if activeEnd[c] {
			continue
		}
		churned++
		x := base[c]
		r.ref(q, domain.KindSubscription, x.ID, x.Source, nil, "churned: "+c)
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
	for _, rec := range d.recordsFrom(domain.KindTicket, start) {
		t := rec.(*domain.Ticket)
		res := ns(t.ResolvedAt)
		// Created after as_of: it does not exist yet, resolved or not.
		if res < start || res >= end || ns(t.CreatedAt) > end || t.SLADueAt.IsZero() || !matchAttr(q, "priority", t.Priority) {
			continue
		}
		r.Count++
		note := "breached"
		if res <= ns(t.SLADueAt) {
			met++
			note = "met"
		}
		r.ref(q, domain.KindTicket, t.ID, t.Source, nil, note)
	}
	r.Value = share(met, r.Count)
	return r
}

// openEscalations is point in time and scans every ticket: an escalation
// still open can have been created at any time.
func openEscalations(d *Dataset, q Query) Result {
	var r Result
	asOf := q.end()
	for _, t := range d.escalated.between(math.MinInt64, asOf+1) {
		if !matchAttr(q, "priority", t.Priority) {
			continue
		}
		if res := ns(t.ResolvedAt); res != 0 && res <= asOf {
			continue
		}
		r.Count++
		r.ref(q, domain.KindTicket, t.ID, t.Source, nil, t.Customer)
	}
	r.Value = num(float64(r.Count))
	return r
}

// ---------------------------------------------------------------- release impact

// DefaultImpactWeights are the release-impact ticket weights: field →
// value (matched case-insensitively) → weight; a ticket weighs the
// product of its three weights, unknown or absent values weighing 1.
func DefaultImpactWeights() map[string]map[string]float64 {
	return map[string]map[string]float64{
		"priority": {
			"urgent": 3, "critical": 3, "p0": 3, "p1": 3,
			"high": 2, "p2": 2,
			"normal": 1, "medium": 1, "p3": 1,
			"low": 0.5, "p4": 0.5,
		},
		"user_role": {
			"admin": 1.5, "executive": 1.5, "owner": 1.5,
		},
		"criticality": {
			"critical": 3, "high": 2, "medium": 1, "low": 0.5,
		},
	}
}

// impactBaseline is the look-back for a service's baseline: production
// deployments of the service finishing in the 90 days before W.
const impactBaseline = 90 * day

// impactTopN bounds the releases listed in Detail["releases"].
const impactTopN = 10

type impactWeights map[string]map[string]float64

func (w impactWeights) of(t *domain.Ticket) float64 {
	x := 1.0
	for _, fv := range [...][2]string{{"priority", t.Priority}, {"user_role", t.UserRole}, {"criticality", t.Criticality}} {
		if fv[1] == "" {
			continue
		}
		if v, ok := w[fv[0]][strings.ToLower(fv[1])]; ok {
			x *= v
		}
	}
	return x
}

type releaseImpact struct {
	x        *Dep
	svc      *svcState
	weighted float64
	tickets  int
}

// impactMemo is a deployment's release-impact tally once its observation
// window has closed: from then on no as_of changes it, only a ticket naming
// the release (or a deployment reusing its id) does, and those reset it.
type impactMemo struct {
	weighted float64
	tickets  int
}

// releaseTickets calls fn for the tickets attributed to release x that
// were created in its observation window and by end.
func (d *Dataset) releaseTickets(x *Dep, window, end int64, fn func(t *domain.Ticket)) {
	if !x.hasTickets {
		return
	}
	for _, t := range d.ticketsByRelease[x.ID] {
		if y, _ := d.resolveDep(t.Release, t.Source, end); y != x {
			continue
		}
		c := ns(t.CreatedAt)
		if c < x.Finished || c >= x.Finished+window || c > end {
			continue
		}
		fn(t)
	}
}

// tally returns the weighted tickets of release x as of end, from the memo
// when the observation window closed by end.
func (d *Dataset) tally(x *Dep, w impactWeights, window, end int64) (float64, int) {
	if !x.hasTickets {
		return 0, 0 // most releases: no memo to allocate or follow
	}
	// The memo holds as of all data: while another source's deployment
	// shares x's id, the tickets naming it resolve as of end (SPEC §2).
	closed := x.Finished+window <= end && d.uniqueDep(x)
	if m := x.impact.Load(); closed && m != nil {
		return m.weighted, m.tickets
	}
	var sum float64
	n := 0
	d.releaseTickets(x, window, end, func(t *domain.Ticket) {
		sum += w.of(t)
		n++
	})
	if closed {
		// Readers fill memos concurrently under the engine's read lock;
		// racing readers store the same value, which the data determines.
		x.impact.Store(&impactMemo{weighted: sum, tickets: n})
	}
	return sum, n
}

type impactAcc struct {
	sum float64
	n   int
}

// impactBaselines sums, per service, the tallies of the production
// deployments in scope finishing in the 90 days before the window. Walking
// 90 days of deployments per window was most of the metric's cost, so
// whole days come from their kept per-service sums (impactDay) once every
// release in them has closed (the window is at least as long as the
// observation window); only the partial days at the edges are walked.
func (d *Dataset) impactBaselines(q Query, w impactWeights, window int64) map[*svcState]impactAcc {
	start, end := q.start(), q.end()
	closed := start+window <= end
	b := map[*svcState]impactAcc{}
	add := func(s *svcState, a impactAcc) {
		if d.matchService(q, s.name) {
			t := b[s]
			t.sum += a.sum
			t.n += a.n
			b[s] = t
		}
	}
	walk := func(lo, hi int64) {
		for _, row := range d.prodDeps.between(lo, hi) {
			var a impactAcc
			if row.tickets {
				a.sum, _ = d.tally(row.x, w, window, end)
			}
			a.n = 1
			add(row.svc, a)
		}
	}
	from := start - int64(impactBaseline)
	first, last := ceilDay(from), floorDay(start)
	if !closed || first >= last {
		walk(from, start)
	} else {
		// Whole days by their per-service sums, which no as_of after the
		// baseline changes (every release in them has closed).
		walk(from, first)
		for day := first; day < last; day += int64(dayDur) {
			m, ok := d.impactDay(day, w, window)
			if !ok {
				walk(day, day+int64(dayDur))
				continue
			}
			for s, a := range m {
				add(s, a)
			}
		}
		walk(last, start)
	}
	return b
}

// impactDay returns the per-service release-impact sums of the production
// deployments finishing in one UTC day, for as_of late enough that their
// observation windows have closed. Kept until a deployment of that day or
// a ticket that could fall in its observation windows changes
// (invalidate). ok is false for a day holding a deployment whose id
// another source reuses: its tickets resolve as of each as_of, so the day
// is walked instead (kept as a nil map, so it is not rebuilt each time).
func (d *Dataset) impactDay(day int64, w impactWeights, window int64) (map[*svcState]impactAcc, bool) {
	d.cacheMu.Lock()
	m, ok := d.impactDays[day]
	d.cacheMu.Unlock()
	if ok {
		return m, m != nil
	}
	m = map[*svcState]impactAcc{}
	for _, row := range d.prodDeps.between(day, day+int64(dayDur)) {
		if !d.uniqueDep(row.x) {
			m = nil
			break
		}
		a := m[row.svc]
		if row.tickets {
			weighted, _ := d.tally(row.x, w, window, math.MaxInt64)
			a.sum += weighted
		}
		a.n++
		m[row.svc] = a
	}
	d.cacheMu.Lock()
	if len(d.impactDays) >= maxLeadDays {
		clear(d.impactDays)
	}
	d.impactDays[day] = m
	d.cacheMu.Unlock()
	return m, m != nil
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
	start, end := q.start(), q.end()
	w := d.cfg.impactWeights()
	rows := d.prodDeps.between(start, end)
	inW := make([]releaseImpact, 0, len(rows)) // in finishing order
	org := q.Scope.Dim == ""
	for i := range rows {
		row := &rows[i]
		if !org && !d.matchService(q, row.x.Service) {
			continue
		}
		ri := releaseImpact{x: row.x, svc: row.svc}
		if row.tickets {
			ri.weighted, ri.tickets = d.tally(row.x, w, window, end)
		}
		inW = append(inW, ri)
	}
	r.Count = len(inW)
	if len(inW) == 0 {
		return r
	}
	base := d.impactBaselines(q, w, window)
	baseline := func(svc *svcState) float64 {
		if a := base[svc]; a.n > 0 {
			return a.sum / float64(a.n)
		}
		return 0
	}
	type line struct {
		ri    releaseImpact
		base  float64
		score float64
	}
	worse := func(a, b line) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		if a.ri.x.Finished != b.ri.x.Finished {
			return a.ri.x.Finished < b.ri.x.Finished
		}
		return a.ri.x.ID < b.ri.x.ID
	}
	// The scorecard needs only the worst few, kept by insertion; a
	// drill-down lists them all, sorted once.
	var lines []line
	for _, ri := range inW {
		b := baseline(ri.svc)
		l := line{ri, b, ri.weighted - b}
		switch {
		case q.Records:
			lines = append(lines, l)
		case len(lines) < impactTopN || worse(l, lines[len(lines)-1]):
			i := sort.Search(len(lines), func(k int) bool { return worse(l, lines[k]) })
			lines = slices.Insert(lines, i, l)
			if len(lines) > impactTopN {
				lines = lines[:impactTopN]
			}
		}
	}
	if q.Records {
		sort.Slice(lines, func(i, j int) bool { return worse(lines[i], lines[j]) })
	}
	r.Value = num(lines[0].score)
	top := make([]ReleaseLine, 0, min(impactTopN, len(lines)))
	for i, l := range lines {
		if i < impactTopN {
			top = append(top, ReleaseLine{
				Deployment: l.ri.x.ID, Service: l.ri.x.Service, FinishedAt: time.Unix(0, l.ri.x.Finished).UTC(),
				Tickets: l.ri.tickets, Weighted: l.ri.weighted, Baseline: l.base, Score: l.score,
			})
		}
		depRef(&r, q, l.ri.x, num(l.score), "release impact")
	}
	if q.Records {
		for _, ri := range inW {
			x := ri.x
			d.releaseTickets(x, window, end, func(t *domain.Ticket) {
				r.ref(q, domain.KindTicket, t.ID, t.Source, num(w.of(t)), "release "+x.ID)
			})
		}
	}
	r.Detail.Releases = top
	r.Detail.ObservationWindowHours = ptr(hours(window))
	return r
}
