package metrics

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/candor/candor/internal/stats"
)

// Release impact as an analysis (SPEC §7, issue 16): what customers felt
// after each production deployment. release_impact_score (customer.go)
// keeps its definition — tickets naming the release, against the
// service's per-release baseline; this analysis also attributes tickets
// without a release by their service and time, and tests each release's
// observation window for a spike.

// SpikeOptions configure the spike test; zero fields take the defaults.
type SpikeOptions struct {
	// Alpha is the p-value under which an excess is a spike (0.01).
	Alpha float64
	// Weeks is how many previous weeks give the service's rate in the same
	// hours (4).
	Weeks int
	// MinTickets is the fewest tickets in a window that can be a spike (3),
	// so that one ticket for a quiet service is not one.
	MinTickets int
}

// Resolved is o with the defaults in its zero fields: the rule the test
// applies, for saying it.
func (o SpikeOptions) Resolved() SpikeOptions {
	if o.Alpha <= 0 {
		o.Alpha = 0.01
	}
	if o.Weeks <= 0 {
		o.Weeks = 4
	}
	if o.MinTickets <= 0 {
		o.MinTickets = 3
	}
	return o
}

// SpikeTestName names the test in results.
const SpikeTestName = "Poisson upper tail"

// ReleaseImpact is one production deployment's customer impact.
type ReleaseImpact struct {
	Deployment  string    `json:"deployment"`
	Source      string    `json:"source"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Status      string    `json:"status"`
	FinishedAt  time.Time `json:"finished_at"`
	// ObservedUntil is the end of the observation window, or as_of while
	// it is still open (Open).
	ObservedUntil time.Time `json:"observed_until"`
	Open          bool      `json:"open"`
	// Tickets are attributed to the release: Explicit name it as their
	// release, Inferred have no release but are about its service and were
	// created in its window before the service's next release.
	Tickets  int     `json:"tickets"`
	Explicit int     `json:"explicit"`
	Inferred int     `json:"inferred"`
	Weighted float64 `json:"weighted"`
	// Score is the release's release impact score (releaseImpactScore):
	// the weighted tickets naming it as their release less its service's
	// baseline, Baseline. The metric's value is the worst release's score;
	// Weighted counts the inferred tickets too, so the two orders differ.
	// Nil outside ReleaseImpacts.
	Score    *float64 `json:"score,omitempty"`
	Baseline *float64 `json:"baseline,omitempty"`
	Spike    Spike    `json:"spike"`
	// TicketList is filled for one release (ReleaseImpactOf).
	TicketList []ImpactTicket `json:"ticket_list,omitempty"`
	// Surveys are the survey responses naming this release.
	Surveys SurveySummary `json:"surveys"`
	// ActiveCustomers is, for one release (ReleaseImpactOf), the mean of
	// its service's active customers over the observation window from the
	// `usage` records of the service: the customers exposed to it, who may
	// not have written in. A count only: usage records name no customer.
	ActiveCustomers *float64 `json:"active_customers,omitempty"`
}

// Spike is the spike test of a release's observation window: the tickets
// about its service then against the service's tickets in the same hours
// of the previous weeks. It counts every ticket about the service, whether
// attributed to this release or not (ReleaseImpact.Tickets), over its own
// span (Until), so the two counts differ.
type Spike struct {
	Test string `json:"test"`
	// Until ends the window tested: the observation window's end, or the
	// service's next production release when that came first, so that a
	// wave of tickets is flagged with the release that preceded it rather
	// than with every release whose window it overlaps.
	Until    time.Time `json:"until"`
	Observed int       `json:"observed"`
	Weeks    []int     `json:"previous_weeks"`
	Expected float64   `json:"expected"`
	// Rate is the mean tested against: Expected, or half a ticket over the
	// previous weeks when they held none (NoBaseline).
	Rate  float64 `json:"rate"`
	P     float64 `json:"p"`
	Alpha float64 `json:"alpha"`
	// MinTickets is the fewest tickets that can be a spike: Flagged is P <
	// Alpha and Observed ≥ MinTickets.
	MinTickets int  `json:"min_tickets"`
	Flagged    bool `json:"flagged"`
}

// SpikeToNextRelease reports that the spike test's span ended at the
// service's next production release, before the observation window did.
func (r ReleaseImpact) SpikeToNextRelease() bool { return r.Spike.Until.Before(r.ObservedUntil) }

// NoBaseline reports that the previous weeks held no ticket about the
// service in the same hours: nothing to compare with, so the test took
// half a ticket over those weeks as the rate.
func (s Spike) NoBaseline() bool { return s.Expected == 0 }

// TooFew reports a p-value under Alpha that is no spike because fewer than
// MinTickets tickets were seen.
func (s Spike) TooFew() bool { return !s.Flagged && s.P < s.Alpha && s.Observed < s.MinTickets }

// AboveRate reports more tickets seen than the rate tested against.
func (s Spike) AboveRate() bool { return float64(s.Observed) > s.Rate }

// ChanceWords says how often chance alone would give as many tickets at
// the rate tested, for a reader who does not read p-values: "as many would
// come by chance about 1 time in 140" (stats.Chance), or "no more than
// expected" for a release at or under the rate, which is no spike whatever
// the level (p = 1 beside "0 tickets" had read as jargon). The releases
// page and candor release word a spike test through it.
func (s Spike) ChanceWords() string {
	if !s.AboveRate() {
		return "no more than expected"
	}
	return "as many would come by chance " + stats.Chance(s.P)
}

// ImpactTicket is a ticket attributed to a release: no text (the reader
// follows the id to the record); the customer, as the ticket record holds
// it (pseudonymised once retention has), for a post-release survey.
type ImpactTicket struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	Customer  string    `json:"customer,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Weight    float64   `json:"weight"`
	// Link is how it was attributed: explicit (its release) or inferred
	// (its service and time).
	Link string `json:"link"`
}

// SurveySummary is the survey responses tagged with a release.
type SurveySummary struct {
	CSAT      int      `json:"csat_responses"`
	CSATScore *float64 `json:"csat_mean,omitempty"`
	NPS       int      `json:"nps_responses"`
	NPSScore  *float64 `json:"nps,omitempty"`
}

// CSATMean is the CSAT mean for display; 0 when there is none.
func (s SurveySummary) CSATMean() float64 {
	if s.CSATScore == nil {
		return 0
	}
	return *s.CSATScore
}

// NPSValue is the NPS for display; 0 when there is none.
func (s SurveySummary) NPSValue() float64 {
	if s.NPSScore == nil {
		return 0
	}
	return *s.NPSScore
}

type impactRun struct {
	d      *Dataset
	asOf   int64
	window int64
	w      impactWeights
	opt    SpikeOptions
	// deps are the releases analysed; at maps each to its index.
	deps []*Dep
	at   map[*Dep]int
	out  []ReleaseImpact
	// bySvc are every production deployment of a service finishing from
	// the first window's start − window to as_of, in finishing order, for
	// inferring a ticket's release.
	bySvc map[string][]*Dep
	// times are the creation times of the tickets about each service.
	times map[string][]int64
	list  bool
}

// ReleaseImpacts analyses the production deployments in scope finishing
// in q's window, worst first (weighted tickets, then spike p-value).
func (d *Dataset) ReleaseImpacts(q Query, opt SpikeOptions) []ReleaseImpact {
	var deps []*Dep
	d.prodIn(q, func(row *depRow) { deps = append(deps, d.depOf(row.i)) })
	out := d.analyseReleases(deps, q.end(), opt, false)
	// Each release's score as the metric computes it over the same window
	// and scope: the page had ranked by weighted tickets alone, and the
	// metric's worst release (its value) showed neither first nor with its
	// score.
	_, lines := releaseScores(d, q, true)
	scores := make(map[*Dep]releaseScoreLine, len(lines))
	for _, l := range lines {
		scores[l.ri.x] = l
	}
	for i, x := range deps {
		if l, ok := scores[x]; ok {
			out[i].Score, out[i].Baseline = ptr(l.score), ptr(l.base)
		}
	}
	slices.SortFunc(out, func(a, b ReleaseImpact) int {
		return cmp.Or(cmp.Compare(b.Weighted, a.Weighted), cmp.Compare(a.Spike.P, b.Spike.P),
			b.FinishedAt.Compare(a.FinishedAt), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Deployment, b.Deployment))
	})
	return out
}

// WorstScored returns the release with the highest Score, as the release
// impact score picks its value (worseRelease: ties go to the earlier
// release, then the lower id); nil when none is scored.
func WorstScored(rs []ReleaseImpact) *ReleaseImpact {
	var w *ReleaseImpact
	for i := range rs {
		r := &rs[i]
		if r.Score == nil {
			continue
		}
		if w == nil || cmp.Or(cmp.Compare(*w.Score, *r.Score), r.FinishedAt.Compare(w.FinishedAt), cmp.Compare(r.Deployment, w.Deployment)) < 0 {
			w = r
		}
	}
	return w
}

// ReleaseRank is a release's release impact score over a window (the
// metric's: the weighted tickets naming it less its service's baseline)
// and its place among the window's production releases, 1 the worst —
// the one whose score is the metric's value.
type ReleaseRank struct {
	Score    float64 `json:"score"`
	Baseline float64 `json:"baseline"`
	Rank     int     `json:"rank"`
	Of       int     `json:"of"`
}

// ReleaseRankOf scores one production deployment as the release impact
// score does over q's window and scope, and ranks it as the metric picks
// its worst (worseRelease); ok is false when it is not a production
// release finishing in that window and scope. A deployment's page showed
// its tickets and spike test but not the score: the release that set the
// organisation's value read "No spike" and nothing else.
func (d *Dataset) ReleaseRankOf(source, id string, q Query) (ReleaseRank, bool) {
	x := d.deployment(source, id)
	if x == nil || !x.Prod {
		return ReleaseRank{}, false
	}
	inW, lines := releaseScores(d, q, true)
	for i, l := range lines {
		if l.ri.x == x {
			return ReleaseRank{Score: l.score, Baseline: l.base, Rank: i + 1, Of: len(inW)}, true
		}
	}
	return ReleaseRank{}, false
}

// ReleaseImpactOf analyses one deployment as of asOf, with its tickets
// listed; ok is false when there is no such deployment by then or it is
// not a production one.
func (d *Dataset) ReleaseImpactOf(source, id string, asOf time.Time, opt SpikeOptions) (ReleaseImpact, bool) {
	x := d.deployment(source, id)
	if x == nil || !x.Prod || x.Finished > asOf.UnixNano() {
		return ReleaseImpact{}, false
	}
	ri := d.analyseReleases([]*Dep{x}, asOf.UnixNano(), opt, true)[0]
	if win := ri.ObservedUntil.Sub(ri.FinishedAt); win > 0 {
		u := d.usageOver(Query{AsOf: ri.ObservedUntil, Window: win, Scope: Scope{Dim: "service", Value: d.depService(x)}}, &Result{})
		if mean, ok := u.meanCustomers(); ok {
			ri.ActiveCustomers = &mean
		}
	}
	return ri, true
}

func (d *Dataset) analyseReleases(deps []*Dep, asOf int64, opt SpikeOptions, list bool) []ReleaseImpact {
	r := &impactRun{d: d, asOf: asOf, window: int64(d.cfg.impactWindow()), w: d.cfg.impactWeights(), opt: opt.Resolved(),
		deps: deps, at: map[*Dep]int{}, out: make([]ReleaseImpact, len(deps)), bySvc: map[string][]*Dep{},
		times: map[string][]int64{}, list: list}
	if len(deps) == 0 {
		return nil
	}
	first, last := deps[0].Finished, deps[0].Finished
	for i, x := range deps {
		r.at[x] = i
		first, last = min(first, x.Finished), max(last, x.Finished)
		end := min(x.Finished+r.window, asOf)
		r.out[i] = ReleaseImpact{Deployment: d.str(x.id), Source: d.str(x.src), Service: d.depService(x), Environment: d.str(x.env),
			Status: statusNames[x.Status], FinishedAt: time.Unix(0, x.Finished).UTC(), ObservedUntil: time.Unix(0, end).UTC(),
			Open: x.Finished+r.window > asOf}
	}
	for _, row := range d.prodBetween(first-r.window, asOf+1) {
		x := d.depOf(row.i)
		r.bySvc[d.depService(x)] = append(r.bySvc[d.depService(x)], x)
	}
	lookback := int64(r.opt.Weeks) * int64(7*day)
	for t := range d.ticketsCreatedIn(first-lookback, min(last+r.window, asOf+1)) {
		r.ticket(t)
	}
	for _, ts := range r.times {
		slices.Sort(ts)
	}
	for i, x := range deps {
		r.spike(&r.out[i], x)
	}
	r.surveys()
	return r.out
}

// ticket attributes one ticket (SPEC §2 for the release reference): to
// the release it names, when that is one analysed and the ticket falls in
// its observation window; else, when it names no release but a service, to
// that service's latest production deployment finished at or before its
// creation, when the ticket falls in that one's window. Either way it is
// also counted for its service's spike test.
func (r *impactRun) ticket(t *ticketRow) {
	svc := r.d.str(t.service)
	var x *Dep
	link := "explicit"
	if t.release != 0 {
		x, _ = r.d.resolveDepCode(t.release, t.source, r.asOf)
		if x != nil && svc == "" {
			svc = r.d.depService(x)
		}
	} else if svc != "" {
		link = "inferred"
		deps := r.bySvc[svc]
		i := sort.Search(len(deps), func(k int) bool { return deps[k].Finished > t.created })
		if i > 0 {
			x = deps[i-1]
		}
	}
	if svc != "" && t.created <= r.asOf {
		r.times[svc] = append(r.times[svc], t.created)
	}
	i, ok := r.at[x]
	if x == nil || !ok || t.created < x.Finished || t.created >= x.Finished+r.window || t.created > r.asOf {
		return
	}
	o := &r.out[i]
	wt := r.w.of(r.d, t)
	o.Tickets++
	o.Weighted += wt
	if link == "explicit" {
		o.Explicit++
	} else {
		o.Inferred++
	}
	if r.list {
		o.TicketList = append(o.TicketList, ImpactTicket{ID: r.d.str(t.id), Source: r.d.str(t.source), Customer: r.d.str(t.customer), CreatedAt: time.Unix(0, t.created).UTC(), Weight: wt, Link: link})
	}
}

// spike tests the tickets about the release's service in its observation
// window (so far, and until the service's next release) against the same hours of the previous weeks: X ~
// Poisson(mean of those weeks), flagged when P(X ≥ observed) < alpha and
// at least MinTickets were seen. With no ticket in those weeks the rate is
// taken as half a ticket over them, so a quiet service's first few tickets
// are not certain to be a spike.
func (r *impactRun) spike(o *ReleaseImpact, x *Dep) {
	ts := r.times[r.d.depService(x)]
	count := func(lo, hi int64) int {
		a, _ := slices.BinarySearch(ts, lo)
		b, _ := slices.BinarySearch(ts, hi)
		return b - a
	}
	end := o.ObservedUntil.UnixNano()
	if o.Open {
		end++ // the window so far includes as_of itself
	}
	deps := r.bySvc[r.d.depService(x)]
	if i := sort.Search(len(deps), func(k int) bool { return deps[k].Finished > x.Finished }); i < len(deps) {
		end = min(end, deps[i].Finished)
	}
	s := Spike{Test: SpikeTestName, Alpha: r.opt.Alpha, MinTickets: r.opt.MinTickets, Until: time.Unix(0, end).UTC(), Observed: count(x.Finished, end)}
	sum := 0
	for k := 1; k <= r.opt.Weeks; k++ {
		off := int64(k) * int64(7*day)
		n := count(x.Finished-off, end-off)
		s.Weeks = append(s.Weeks, n)
		sum += n
	}
	s.Expected = float64(sum) / float64(r.opt.Weeks)
	s.Rate = s.Expected
	if sum == 0 {
		s.Rate = 0.5 / float64(r.opt.Weeks)
	}
	s.P = stats.PoissonUpper(s.Observed, s.Rate)
	s.Flagged = s.Observed >= r.opt.MinTickets && s.P < r.opt.Alpha
	o.Spike = s
}

// surveys reports the survey responses naming an analysed release.
func (r *impactRun) surveys() {
	type acc struct {
		csat, nps, promoters, detractors int
		csatSum                          float64
	}
	accs := make([]acc, len(r.deps))
	first := r.deps[0].Finished
	for _, x := range r.deps {
		first = min(first, x.Finished)
	}
	for s := range r.d.surveys().in(first, r.asOf+1) {
		if s.release == 0 {
			continue
		}
		x, _ := r.d.resolveDepCode(s.release, s.source, r.asOf)
		i, ok := r.at[x]
		if x == nil || !ok {
			continue
		}
		a := &accs[i]
		if r.d.str(s.typ) == "csat" {
			a.csat++
			a.csatSum += s.score
		} else {
			a.nps++
			switch {
			case s.score >= 9:
				a.promoters++
			case s.score <= 6:
				a.detractors++
			}
		}
	}
	for i, a := range accs {
		o := &r.out[i].Surveys
		o.CSAT, o.NPS = a.csat, a.nps
		if a.csat > 0 {
			v := a.csatSum / float64(a.csat)
			o.CSATScore = &v
		}
		if a.nps > 0 {
			v := 100 * float64(a.promoters-a.detractors) / float64(a.nps)
			o.NPSScore = &v
		}
	}
}

// TicketRef is a ticket as theme analysis needs it: where to read its text,
// the service it is about (its own, or its release's) and its release.
type TicketRef struct {
	ID, Source, Service, Release string
	CreatedAt                    time.Time
}

// TicketsCreated lists the tickets created in [from, to), in no particular
// order; of one service, and of one release, when set: a deployment id as
// tickets write it, or SOURCE/ID as the API addresses a deployment
// elsewhere (/api/v1/releases/{source}/{id}) — the tickets naming the id
// that resolves to that source's deployment. A release written so had
// matched no ticket, an empty answer that read as "no themes".
func (d *Dataset) TicketsCreated(from, to time.Time, service, release string) []TicketRef {
	var out []TicketRef
	asOf := to.UnixNano()
	relSrc, relID, keyed := strings.Cut(release, "/")
	for t := range d.ticketsCreatedIn(from.UnixNano(), asOf) {
		svc, rel := d.str(t.service), d.str(t.release)
		var dep *Dep
		if rel != "" && (svc == "" || keyed && rel == relID) {
			dep, _ = d.resolveDepCode(t.release, t.source, asOf)
			if dep != nil && svc == "" {
				svc = d.depService(dep)
			}
		}
		if service != "" && svc != service {
			continue
		}
		if release != "" && rel != release && !(keyed && rel == relID && dep != nil && d.str(dep.src) == relSrc) {
			continue
		}
		out = append(out, TicketRef{ID: d.str(t.id), Source: d.str(t.source), Service: svc, Release: rel, CreatedAt: time.Unix(0, t.created).UTC()})
	}
	return out
}
