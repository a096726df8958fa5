package metrics

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Growth & Revenue (SPEC §3).

func growthDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	switch dim {
	case "owner":
		for x := range d.quotas().all() {
			if d.matchCode(q, dim, x.owner) {
				addDimValue(set, d.str(x.owner))
			}
		}
		for o := range d.opps().all() {
			if d.matchCode(q, dim, o.owner) {
				addDimValue(set, d.str(o.owner))
			}
		}
	case "channel", "campaign":
		for l := range d.leads().all() {
			if !d.leadInScope(q, l) {
				continue
			}
			if dim == "channel" {
				addDimValue(set, d.str(l.channel))
			} else {
				addDimValue(set, d.str(l.campaign))
			}
		}
	}
}

// ---------------------------------------------------------------- subscriptions

// mrrAt sums the mrr of the subscriptions in scope active at t. It scans
// every subscription (one active at t can have started at any time).
func (d *Dataset) mrrAt(q Query, t int64, c *converter, r *Result) domain.Money {
	return d.bookAt(q, t, c, r, 1)
}

// bookAt is mrrAt with each record behind the value carrying its MRR ×
// scale: ARR's records carry their yearly amount (12), so that the records'
// values add up to the value as a currency metric's do — they had carried
// their MRR, a twelfth of their share.
func (d *Dataset) bookAt(q Query, t int64, c *converter, r *Result, scale float64) domain.Money {
	var total domain.Money
	for x := range d.subs().all() {
		if !subActiveAt(x, t) || !d.matchCode(q, "plan", x.plan) {
			continue
		}
		m, ok := c.to(domain.KindSubscription, x.id, x.currency, x.mrr)
		if !ok {
			continue
		}
		total += m
		r.Count++
		// No note: the customer has its own column, and the note had
		// only repeated it.
		r.rowRef(q, d, x, refValue(q, scale*m.Float()), "")
	}
	return total
}

func mrrMetric(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	total := d.mrrAt(q, q.end(), c, &r)
	r.Detail.Currency = c.org
	if !c.fail(&r) {
		r.Value = moneyValue(total)
	}
	return r
}

func arrMetric(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	total := d.bookAt(q, q.end(), c, &r, 12)
	r.Detail.Currency = c.org
	if !c.fail(&r) {
		r.Value = moneyValue(12 * total)
	}
	return r
}

// retentionYear is NRR/GRR's look-back: T0 = as_of − 365 days, whatever
// the window.
const retentionYear = 365 * day

// retention returns every customer's MRR at T0 and at as_of (all its
// subscriptions active then), in the organisation currency, by customer
// code, and which of them are the cohort: those active at T0 (in0) — in a
// segment scope, those whose segment at T0 is the scope's (segmentAt), so
// that the segments' lines partition the organisation's cohort and their
// sums add up to its own. r.Count is the cohort's size. The map may be
// kept by customersMRR and must only be read.
func (d *Dataset) retention(q Query, c *converter, r *Result) (map[uint32]*custMRR, func(*custMRR) bool) {
	asOf := q.end()
	from := asOf - int64(retentionYear)
	var seen []*subRow
	var keep func(x *subRow, _ *custMRR)
	if q.Records {
		keep = func(x *subRow, _ *custMRR) { seen = append(seen, x) }
	}
	custs := d.customersMRR(q, from, asOf, c, keep)
	cohort := func(cu *custMRR) bool { return cu.in0 && d.matchCode(q, "segment", cu.segmentAt()) }
	r.Count = 0
	for _, cu := range custs {
		if cohort(cu) {
			r.Count++
		}
	}
	for _, x := range seen {
		if cu := custs[x.customer]; cu == nil || !cohort(cu) {
			continue
		}
		note := activeNote(subActiveAt(x, from), subActiveAt(x, asOf), from, asOf)
		r.rowRef(q, d, x, nil, d.str(x.customer)+": "+note)
	}
	return custs, cohort
}

func nrr(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	custs, cohort := d.retention(q, c, &r)
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	var base, cur domain.Money
	for _, cu := range custs {
		if cohort(cu) {
			base += cu.m0
			cur += cu.m1
		}
	}
	r.Detail.MRRT0 = ptr(base.Float())
	r.Detail.MRRNow = ptr(cur.Float())
	if base != 0 {
		r.Value = num(100 * float64(cur) / float64(base))
	} else {
		r.Detail.Reason = noCohort(q, r.Count)
	}
	if q.Records {
		r.Detail.Customers = d.cohortCustomers(custs, cohort, func(cu *custMRR) domain.Money { return cu.m1 })
	}
	return r
}

// noCohort says why NRR or GRR has no value though subscriptions exist:
// no customer (of the scope: a segment only subscriptions started since
// name) was active at T0, or those who were paid no MRR then.
func noCohort(q Query, n int) string {
	t0 := time.Unix(0, q.end()-int64(retentionYear)).UTC().Format("2 Jan 2006")
	in := ""
	if !q.Scope.IsZero() {
		in = " of " + q.Scope.String()
	}
	if n == 0 {
		return "no customer" + in + " was active on " + t0 + " (T0, a year before): the cohort is empty"
	}
	return "the cohort's MRR on " + t0 + " (T0, a year before) is 0"
}

// cohortCustomers lists a retention metric's cohort (the customers active
// at T0) with their MRR then and at as_of, and what each adds to the
// numerator (counted), largest at T0 first: the subscriptions behind the
// value (121 of them for 96 customers on the demo) did not say what the
// ratio divides, customer by customer.
func (d *Dataset) cohortCustomers(custs map[uint32]*custMRR, cohort func(*custMRR) bool, counted func(*custMRR) domain.Money) []CustomerMove {
	out := make([]CustomerMove, 0, len(custs))
	for code, cu := range custs {
		if cohort(cu) {
			out = append(out, CustomerMove{Customer: d.str(code), M0: cu.m0.Float(), M1: cu.m1.Float(), Amount: counted(cu).Float()})
		}
	}
	slices.SortFunc(out, func(a, b CustomerMove) int {
		return cmp.Or(cmp.Compare(b.M0, a.M0), cmp.Compare(a.Customer, b.Customer))
	})
	return out
}

func grr(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	custs, cohort := d.retention(q, c, &r)
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	var base, kept domain.Money
	for _, cu := range custs {
		if cohort(cu) {
			base += cu.m0
			kept += min(cu.m0, cu.m1)
		}
	}
	r.Detail.MRRT0 = ptr(base.Float())
	r.Detail.MRRRetained = ptr(kept.Float())
	if base != 0 {
		r.Value = num(100 * float64(kept) / float64(base))
	} else {
		r.Detail.Reason = noCohort(q, r.Count)
	}
	if q.Records {
		r.Detail.Customers = d.cohortCustomers(custs, cohort, func(cu *custMRR) domain.Money { return min(cu.m0, cu.m1) })
	}
	return r
}

// ---------------------------------------------------------------- opportunities

// oppOpenAt: created_at ≤ t, no closed_at ≤ t, qualified_at ≤ t.
func oppOpenAt(o *oppRow, t int64) bool {
	if o.created > t {
		return false
	}
	if c := o.closed; c != 0 && c <= t {
		return false
	}
	qa := o.qualified
	return qa != 0 && qa <= t
}

// wonIn: won with closed_at in [lo, hi), created by hi (SPEC §3: an
// opportunity created later does not exist yet, whatever it says).
func wonIn(o *oppRow, lo, hi int64) bool {
	c := o.closed
	return o.won && c != 0 && c >= lo && c < hi && o.created <= hi
}

// quotaPeriod is the current quota period (SPEC §3 pipeline_coverage):
// [earliest period_start, latest period_end) of the quota records with
// period_start ≤ as_of < period_end — for a Closing query, one over a
// span that closes at as_of, period_start < as_of ≤ period_end — and the
// Σ of their amounts. In an owner scope only that owner's quotas define
// it, so an owner on a monthly quota is measured over the month.
type quotaPeriod struct {
	start, end int64
	quota      domain.Money
}

// quotaStart is the common opening of the metrics judged within the
// current quota period: ok is false when r already says why there is no
// value (a currency without a rate, or no current period).
func (d *Dataset) quotaStart(q Query) (Result, *converter, quotaPeriod, bool) {
	var r Result
	c := d.converter()
	r.Detail.Currency = c.org
	p, ok := d.currentQuotaPeriod(q, c, &r)
	if c.fail(&r) {
		return r, c, p, false
	}
	if !ok {
		r.Detail.Reason = "no current quota period"
		return r, c, p, false
	}
	return r, c, p, true
}

func (d *Dataset) currentQuotaPeriod(q Query, c *converter, r *Result) (quotaPeriod, bool) {
	var p quotaPeriod
	found := false
	// The periods holding the instant t: as_of, or for a span closing at
	// as_of its last instant (a period ending at as_of holds it, one
	// starting then does not). Quotas are ordered by period_start: only
	// those started by t.
	t := q.end()
	if q.Closing {
		t--
	}
	for x := range d.quotas().through(t) {
		ps, pe := x.start, x.end
		if pe <= t || !d.matchCode(q, "owner", x.owner) {
			continue
		}
		m, ok := c.to(domain.KindQuota, x.id, x.currency, x.amount)
		if !ok {
			continue
		}
		if !found {
			p.start, p.end = ps, pe
			found = true
		}
		p.start, p.end = min(p.start, ps), max(p.end, pe)
		p.quota += m
		r.rowRef(q, d, x, refValue(q, m.Float()), "quota "+d.str(x.owner))
	}
	if found {
		r.Detail.PeriodStart = ptr(time.Unix(0, p.start).UTC())
		r.Detail.PeriodEnd = ptr(time.Unix(0, p.end).UTC())
		r.Detail.Quota = ptr(p.quota.Float())
	}
	return p, found
}

// utcDate is the UTC calendar date of t, as midnight UTC in unix ns.
func utcDate(t int64) int64 {
	y, m, dd := time.Unix(0, t).UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).UnixNano()
}

// wonSince sums the amounts of opportunities in scope won with closed_at in
// [lo, asOf), of every owner (owners without a quota included).
func (d *Dataset) wonSince(q Query, lo int64, c *converter, r *Result) (domain.Money, int) {
	var total domain.Money
	n := 0
	asOf := q.end()
	for o := range d.oppsClosedIn(lo, asOf) {
		if !wonIn(o, lo, asOf) || !d.matchCode(q, "owner", o.owner) {
			continue
		}
		m, ok := c.to(domain.KindOpportunity, o.id, o.currency, o.amount)
		if !ok {
			continue
		}
		total += m
		n++
		r.rowRef(q, d, o, refValue(q, m.Float()), "won")
	}
	return total, n
}

// pipelineCoverage reads the opportunities due to close in the quota
// period (an open one can have been created at any time).
func pipelineCoverage(d *Dataset, q Query) Result {
	r, c, p, ok := d.quotaStart(q)
	if !ok {
		return r
	}
	asOf := q.end()
	from, to := utcDate(p.start), utcDate(p.end)
	var pipeline domain.Money
	for o := range d.oppsClosingIn(from, to) {
		if !o.hasClose || !oppOpenAt(o, asOf) || !d.matchCode(q, "owner", o.owner) {
			continue
		}
		m, ok := c.to(domain.KindOpportunity, o.id, o.currency, o.amount)
		if !ok {
			continue
		}
		pipeline += m
		r.Count++
		if q.Records {
			r.rowRef(q, d, o, num(m.Float()), "open, closing "+o.closeDate())
		}
	}
	won, _ := d.wonSince(q, p.start, c, &r)
	if c.fail(&r) {
		return r
	}
	remaining := p.quota - won
	r.Detail.Pipeline = ptr(pipeline.Float())
	r.Detail.Won = ptr(won.Float())
	r.Detail.Remaining = ptr(remaining.Float())
	if remaining <= 0 {
		r.Detail.Reason = "nothing remains of the quota"
		return r
	}
	r.Value = num(float64(pipeline) / float64(remaining))
	return r
}

// closedStats gathers the opportunities in scope closed in W.
type closedStats struct {
	qualified, qualifiedWon int          // closed in W with qualified_at ≤ as_of
	won                     int          // won in W
	wonAmount               domain.Money // Σ amount won in W
	cycleDays               float64      // Σ (closed − created) in days, won in W
}

func (d *Dataset) closedInW(q Query, c *converter, r *Result, refs string) closedStats {
	var s closedStats
	start, end := q.start(), q.end()
	for o := range d.oppsClosedIn(start, end) {
		cl := o.closed
		if cl == 0 || o.created > end || !d.matchCode(q, "owner", o.owner) {
			continue
		}
		qa := o.qualified
		qualified := qa != 0 && qa <= end
		if qualified {
			s.qualified++
			if o.won {
				s.qualifiedWon++
			}
		}
		if o.won {
			s.won++
			s.cycleDays += days(cl - o.created)
			if m, ok := c.to(domain.KindOpportunity, o.id, o.currency, o.amount); ok {
				s.wonAmount += m
			}
		}
		switch {
		case refs == "win_rate" && qualified:
			note := "lost"
			if o.won {
				note = "won"
			}
			r.rowRef(q, d, o, nil, note)
		case refs == "cycle" && o.won:
			r.rowRef(q, d, o, refValue(q, days(cl-o.created)), "won")
		}
	}
	return s
}

// winRate leaves out opportunities never qualified by as_of (qualified
// before or after closing both count).
func winRate(d *Dataset, q Query) Result {
	var r Result
	s := d.closedInW(q, d.converter(), &r, "win_rate")
	r.Count = s.qualified
	r.Value = share(s.qualifiedWon, s.qualified)
	return r
}

func salesCycleLength(d *Dataset, q Query) Result {
	var r Result
	s := d.closedInW(q, d.converter(), &r, "cycle")
	r.Count = s.won
	if s.won > 0 {
		r.Value = num(s.cycleDays / float64(s.won))
	}
	return r
}

// salesVelocity = N × A × R ÷ L; N reads the opportunities not closed by
// as_of.
func salesVelocity(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	s := d.closedInW(q, c, &r, "")
	asOf := q.end()
	open := 0
	for o := range d.oppsNotClosedBy(asOf) {
		if oppOpenAt(o, asOf) && d.matchCode(q, "owner", o.owner) {
			open++
			r.rowRef(q, d, o, nil, "open")
		}
	}
	// The cases are the deals won in W: the mean amount and the cycle rest
	// on them (min_sample), while the open ones are multiplied by.
	r.Count = s.won
	r.Detail.Currency = c.org
	r.Detail.Open = ptr(open)
	if c.fail(&r) {
		return r
	}
	if s.won == 0 || s.qualified == 0 {
		return r
	}
	meanAmount := s.wonAmount.Float() / float64(s.won)
	rate := float64(s.qualifiedWon) / float64(s.qualified)
	cycle := s.cycleDays / float64(s.won)
	r.Detail.MeanWonAmount = ptr(meanAmount)
	r.Detail.WinRate = ptr(100 * rate)
	r.Detail.SalesCycleDays = ptr(cycle)
	if cycle <= 0 {
		return r
	}
	r.Value = num(float64(open) * meanAmount * rate / cycle)
	return r
}

// quotaAttainment: the organisation value counts the won deals of every
// owner, with or without a quota; an owner scope divides that owner's
// wins by that owner's current quotas.
func quotaAttainment(d *Dataset, q Query) Result {
	r, c, p, ok := d.quotaStart(q)
	if !ok {
		return r
	}
	asOf := q.end()
	won, n := d.wonSince(q, p.start, c, &r)
	if c.fail(&r) {
		return r
	}
	r.Count = n
	r.Detail.Won = ptr(won.Float())
	r.Detail.ElapsedShare = ptr(float64(asOf-p.start) / float64(p.end-p.start))
	if p.quota != 0 {
		r.Value = num(100 * float64(won) / float64(p.quota))
	}
	return r
}

// ---------------------------------------------------------------- acquisition

// newCustomers returns the customers whose first-ever subscription
// started in W, each with its first subscriptions (those starting at that
// first instant; normally one). It scans every subscription.
func (d *Dataset) newCustomers(q Query) map[uint32][]*subRow {
	first := make(map[uint32]int64, d.subs().len())
	for x := range d.subs().all() {
		if f, ok := first[x.customer]; !ok || x.started < f {
			first[x.customer] = x.started
		}
	}
	start, end := q.start(), q.end()
	out := map[uint32][]*subRow{}
	// A first subscription starting in W has its event time ≥ W's start.
	for x := range d.subs().from(start) {
		if x.started >= start && x.started < end && first[x.customer] == x.started {
			out[x.customer] = append(out[x.customer], x)
		}
	}
	return out
}

// acquisitionSpend sums sales and marketing spend prorated into W.
func (d *Dataset) acquisitionSpend(q Query, c *converter, r *Result) domain.Money {
	start, end := q.start(), q.end()
	var total domain.Money
	// Spend is ordered by period_end: only those ending after W's start.
	for x := range d.spends().from(start + 1) {
		if !strings.EqualFold(d.str(x.category), "sales") && !strings.EqualFold(d.str(x.category), "marketing") {
			continue
		}
		m, ok := prorate(x.amount, x.start, x.end, start, end)
		if !ok {
			continue
		}
		if m, ok = c.to(domain.KindSpend, x.id, x.currency, m); !ok {
			continue
		}
		total += m
		r.rowRef(q, d, x, refValue(q, m.Float()), d.str(x.category))
	}
	return total
}

// cacParts computes CAC (nil when no customer is new) and the new
// customers; ok is false when an amount could not be converted.
func (d *Dataset) cacParts(q Query, c *converter, r *Result) (cac *float64, firsts map[uint32][]*subRow, ok bool) {
	r.Detail.Currency = c.org
	spend := d.acquisitionSpend(q, c, r)
	firsts = d.newCustomers(q)
	r.Count = len(firsts)
	if q.Records {
		var subs []*subRow
		for _, l := range firsts {
			subs = append(subs, l...)
		}
		sort.Slice(subs, func(i, j int) bool { return d.str(subs[i].id) < d.str(subs[j].id) })
		for _, x := range subs {
			r.rowRef(q, d, x, nil, "first subscription of "+d.str(x.customer))
		}
	}
	if c.fail(r) {
		return nil, nil, false
	}
	r.Detail.Spend = ptr(spend.Float())
	r.Detail.NewCustomers = ptr(len(firsts))
	if len(firsts) == 0 {
		return nil, firsts, true
	}
	return num(spend.Float() / float64(len(firsts))), firsts, true
}

func cac(d *Dataset, q Query) Result {
	var r Result
	v, _, _ := d.cacParts(q, d.converter(), &r)
	r.Value = v
	return r
}

// cacPaybackMonths = cac ÷ (M × gross margin), M the mean over the new
// customers of their first subscription's mrr; a gross margin configured
// ≤ 0 falls back to the SPEC default 0.8.
func cacPaybackMonths(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	v, firsts, ok := d.cacParts(q, c, &r)
	if !ok || v == nil {
		return r
	}
	var sum domain.Money
	for _, subs := range firsts {
		for _, x := range subs {
			m, _ := c.to(domain.KindSubscription, x.id, x.currency, x.mrr)
			sum += m
		}
	}
	if c.fail(&r) {
		return r
	}
	mean := sum.Float() / float64(len(firsts))
	gm := d.cfg.grossMargin()
	r.Detail.CAC = ptr(*v)
	r.Detail.MeanFirstMRR = ptr(mean)
	r.Detail.GrossMargin = ptr(gm)
	if mean*gm > 0 {
		r.Value = num(*v / (mean * gm))
	}
	return r
}

// ---------------------------------------------------------------- leads

func (d *Dataset) leadInScope(q Query, l *leadRow) bool {
	return d.matchCode(q, "channel", l.channel) && d.matchCode(q, "campaign", l.campaign)
}

func mqlVolume(d *Dataset, q Query) Result {
	var r Result
	start, end := q.start(), q.end()
	for l := range d.leadsMQLIn(start, end) {
		if l.created > end || !d.leadInScope(q, l) {
			continue
		}
		r.Count++
		r.rowRef(q, d, l, nil, "")
	}
	r.Value = num(float64(r.Count))
	// The target for W: the mql_volume targets overlapping W, prorated,
	// and rounded: a count's target is a whole number of leads.
	if t, covered := d.targetOver("mql_volume", q, start, end); covered > 0 {
		r.Detail.Target = ptr(math.Round(t))
	}
	return r
}

// funnelStages names the stage shares of funnel_conversion, in order.
var funnelStages = []string{"lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_won"}

// funnelCohort is the mature cohort's [start, end): the leads created one
// window's length before as_of − lag.
func (d *Dataset) funnelCohort(q Query) (lag time.Duration, start, end int64) {
	lag = d.cfg.funnelLag()
	end = q.end() - int64(lag)
	return lag, end - int64(q.Window), end
}

// funnelStageNames name the stages a lead reaches, in order.
var funnelStageNames = [...]string{"lead", "mql", "sql", "opportunity", "won"}

// funnelConversion follows a mature cohort: leads created long enough ago
// (the maturation lag) to have run their course, so recent leads that
// cannot have closed yet do not read as a 0 % conversion. A lead has
// reached a stage when the stage's own event happened by as_of or it
// reached a later stage (a lead taken straight to SQL by sales has passed
// MQL), so the stages nest and their product is the headline value: the
// share of the cohort that reached a won opportunity.
func funnelConversion(d *Dataset, q Query) Result {
	var r Result
	end := q.end()
	lag, from, to := d.funnelCohort(q)
	at := func(t int64) bool { return t != 0 && t <= end }
	var reached [5]int // lead, MQL, SQL, opportunity, won
	// The records behind the value go furthest stage first, newest first
	// within each: the cohort comes oldest first, and a page listing it so
	// had left the few won leads among hundreds that went nowhere.
	var byStage [5][]*leadRow
	for l := range d.leadsCreatedIn(from, to) {
		if !d.leadInScope(q, l) {
			continue
		}
		stage := 0
		if at(l.mql) {
			stage = 1
		}
		if at(l.sql) {
			stage = 2
		}
		// Most leads name no opportunity (code 0, which no opportunity's
		// id has): no lookup for them.
		if l.opportunity != 0 {
			if o, _ := d.resolveOpportunity(l.opportunity, l.source, end); o != nil {
				stage = 3
				if o.won && at(o.closed) {
					stage = 4
				}
			}
		}
		for s := 0; s <= stage; s++ {
			reached[s]++
		}
		if q.Records {
			byStage[stage] = append(byStage[stage], l)
		}
	}
	for stage := len(byStage) - 1; stage >= 0; stage-- {
		for _, l := range slices.Backward(byStage[stage]) {
			r.rowRef(q, d, l, nil, funnelStageNames[stage])
		}
	}
	stages := map[string]*float64{}
	counts := map[string]int{}
	for i, name := range funnelStages {
		stages[name] = share(reached[i+1], reached[i])
	}
	for i, name := range funnelStageNames {
		counts[name] = reached[i]
	}
	r.Count = reached[0]
	r.Value = share(reached[4], reached[0])
	r.Detail.Stages = stages
	r.Detail.Reached = counts
	r.Detail.CohortStart = ptr(time.Unix(0, from).UTC())
	r.Detail.CohortEnd = ptr(time.Unix(0, to).UTC())
	r.Detail.MaturationLagDays = ptr(float64(lag) / float64(day))
	return r
}
