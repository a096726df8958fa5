package generate

import (
	"math"
	"slices"
)

var (
	leadChannelW []float64
	oppChannelW  []float64
)

func init() {
	for _, c := range leadChannels {
		leadChannelW = append(leadChannelW, c.w)
	}
	for _, c := range oppChannels {
		oppChannelW = append(oppChannelW, c.w)
	}
}

// mqlRate is the share of leads that become marketing-qualified.
const mqlRate = 0.4

// meanDeal is the mean opportunity amount (log-normal, median 15k, σ 0.9,
// clamped), used where a plan must be set before deals exist.
const meanDeal = 22000.0

func (g *gen) salesDay(d int64, wd int) {
	n := g.poisson(g.leadPerDay * salesWD[wd])
	for i := 0; i < n; i++ {
		if t := d + g.workOffset(); t < g.end {
			g.lead(t)
		}
	}
	n = g.poisson(g.oppPerDay * salesWD[wd])
	for i := 0; i < n; i++ {
		if t := d + g.workOffset(); t < g.end {
			g.opportunity(t, oppChannels[g.weighted(oppChannelW)].name)
		}
	}
}

// salesWarmUp is how long before the window the sales team has been
// working deals: a deal takes ~40 days to win, and without the deals made
// before it the window's first weeks would win nothing (a short span none
// at all), and so have no new customers.
const salesWarmUp = 120 * day

// warmUp works the deals created in the months before the window and
// writes those the window sees (closed in it or still open at its start),
// as a CRM's export of the window would hold them. Their leads came
// before the window and are not written, so their source is only named.
func (g *gen) warmUp() {
	inbound := g.leadPerDay * leadOppShare
	rate := g.oppPerDay + inbound
	for d := g.first - salesWarmUp; d < g.first; d += day {
		n := g.poisson(rate * salesWD[weekday(d)])
		for i := 0; i < n; i++ {
			t := d + g.workOffset()
			ch := "inbound"
			if !g.chance(inbound / rate) {
				ch = oppChannels[g.weighted(oppChannelW)].name
			}
			g.opportunity(t, ch)
		}
	}
}

func (g *gen) lead(created int64) {
	e := &g.e
	n := g.nLead
	g.nLead++
	ch := &leadChannels[g.weighted(leadChannelW)]
	mql, sql, opp := int64(-1), int64(-1), int64(-1)
	won := false
	if g.chance(mqlRate) {
		if t := created + g.dur(36*hour, 0.9, 10*minute, 30*day); t < g.end {
			mql = t
		}
	}
	if mql >= 0 && g.chance(0.4) {
		if t := mql + g.dur(4*day, 0.8, hour, 45*day); t < g.end {
			sql = t
		}
	}
	if sql >= 0 && g.chance(0.6) {
		if t := sql + g.dur(day, 0.8, 10*minute, 7*day); t < g.end {
			opp, won = g.opportunity(t, "inbound")
		}
	}
	// funnel_conversion's cohort is the leads created 90 days or more
	// before as_of (the default maturation lag): what they reached by End
	// is what the organisation's funnel converts.
	if created < g.end-90*day {
		g.funnel[0]++
		if won {
			g.funnel[1]++
		}
	}
	e.begin(kLead)
	e.ref("id", "lead-", n, 7)
	e.ts("created_at", created)
	if mql >= 0 {
		e.ts("mql_at", mql)
		g.mqlM[g.monthIdx(mql)]++
	}
	if sql >= 0 {
		e.ts("sql_at", sql)
	}
	if opp >= 0 {
		e.ref("opportunity", "opp-", opp, 7)
	}
	e.str("channel", ch.name)
	e.str("campaign", g.pick(ch.campaigns))
	e.end()
}

// opportunity writes a deal created at created, deciding its whole course
// up front (qualification, outcome, close), and returns its number and
// whether it was won by End.
func (g *gen) opportunity(created int64, channel string) (int64, bool) {
	e := &g.e
	// The amount is the annual contract value; its bounds are those of the
	// plans' monthly prices × 12, as a won deal becomes a subscription.
	amount := math.Round(min(max(g.logn(15000, 0.9), 12*plans[0].lo), 12*plans[len(plans)-1].hi)/100) * 100
	ri := g.intn(len(g.reps))
	rp := &g.reps[ri]
	q := int64(-1)
	if g.chance(g.qualifyP) {
		q = created + g.dur(4*day, 0.8, hour, 45*day)
	}
	// Only a qualified deal goes stale: one nobody qualifies is closed out
	// (below), or the open pipeline would fill with never-worked deals, 4
	// in 5 of them at the demo's scale and 14 in 15 at scale 1. The draw is
	// made either way so that what follows draws as it did.
	stalled := g.chance(0.05) && q >= 0
	won := false
	var closed int64
	if q >= 0 {
		won = g.chance(winP * rp.skill)
		if won {
			closed = created + g.dur(38*day, 0.55, 5*day, 240*day)
		} else {
			closed = created + g.dur(30*day, 0.7, 3*day, 240*day)
		}
		if closed <= q {
			closed = q + g.dur(7*day, 0.6, hour, 60*day)
		}
	} else {
		// A first call that came to nothing is disqualified within days,
		// as a sales team clears its prospecting.
		closed = created + g.dur(4*day, 0.6, day, 30*day)
	}
	var closeDate int64
	if stalled {
		// Deals nobody works keep a stale expected date, unless the rep
		// pushed it into the current quarter; a pipeline review closes one
		// out, lost, a quarter past its expected date or half a year after
		// it was opened, whichever comes first (it was never pushed then).
		// Left open, the stalled deals of the whole history had filled the
		// pipeline (median age 179 days, the oldest over a year) and sales
		// velocity counted them. The push is drawn either way, so that
		// every later draw is what it was.
		stale := created + g.dur(40*day, 0.5, 7*day, 200*day)
		closeDate = stale
		if closeDate < g.end && g.chance(0.5) {
			closeDate = g.end + g.r.Int64N(max(quarterStart(g.endFloor, 1)-g.end, day))
		}
		if out := min(stale+90*day, created+180*day); out < g.end {
			closed, won, stalled, closeDate = out, false, false, stale
		}
	}
	open := stalled || closed >= g.end
	if !open && closed < g.first {
		return -1, false // worked and done before the window (warmUp)
	}
	if closeDate == 0 {
		closeDate = max(created, closed+int64(g.r.NormFloat64()*float64(6*day)))
	}

	n := g.nOpp
	g.nOpp++
	e.begin(kOpportunity)
	e.ref("id", "opp-", n, 7)
	e.ts("created_at", created)
	e.money("amount", int64(amount*100))
	switch {
	case !open && won:
		e.str("stage", "closed_won")
	case !open:
		e.str("stage", "closed_lost")
	case q < 0 || q >= g.end:
		e.str("stage", "prospecting")
	default:
		progress := 0.5
		if !stalled {
			progress = float64(g.end-created) / float64(closed-created)
		}
		switch {
		case progress < 0.4:
			e.str("stage", "qualification")
		case progress < 0.75:
			e.str("stage", "proposal")
		default:
			e.str("stage", "negotiation")
		}
	}
	e.str("owner", rp.name)
	if q >= 0 && q < g.end {
		e.ts("qualified_at", q)
	}
	if !open {
		e.ts("closed_at", closed)
		e.boolean("won", won)
	}
	e.date("close_date", closeDate)
	e.str("channel", channel)
	e.end()

	switch {
	case open && q >= 0 && q < g.end:
		g.velocity[0]++
	case !open && q >= 0 && closed >= g.end-30*day:
		g.closedW++
		if won {
			g.velocity[1]++
			g.velocity[2] += amount
			g.velocity[3] += float64(closed-created) / float64(day)
		}
	}
	if !open && won && g.planning {
		g.wins = append(g.wins, win{closed, amount})
	}
	if !open && won {
		qi := g.quarterIdx(closed)
		g.wonQ[qi][ri] += int64(amount * 100)
		g.cycleQ[qi][0] += float64(closed-created) / float64(day)
		g.cycleQ[qi][1]++
	}
	return n, !open && won
}

// quotas sets each rep's quota per quarter from what reps actually closed,
// and for the quarter still running a stretch on the plan (the wins a year
// the customer base takes, at the mean deal), not on the last quarter's
// bookings: ~30 deals of widely spread sizes make those swing by a third,
// and a quota set on a slow quarter is met weeks before the next one ends.
func (g *gen) quotas() {
	e := &g.e
	cur := g.quarterIdx(g.endFloor)
	expected := g.newPerYear * meanDeal / 4 / float64(len(g.reps))
	for q := 0; q <= cur; q++ {
		qs, qe := quarterStart(g.first, int64(q)), quarterStart(g.first, int64(q+1))
		mean := expected
		if q < cur && qs >= g.first {
			var sum int64
			for _, v := range g.wonQ[q] {
				sum += v
			}
			mean = float64(sum) / 100 / float64(len(g.reps))
		}
		label := quarterLabel(nil, qs)
		for ri, rp := range g.reps {
			var amt float64
			if q < cur {
				amt = max(float64(g.wonQ[q][ri])/100, mean*0.5) * g.uni(0.85, 1.25)
			} else {
				amt = mean * g.uni(0.95, 1.3)
			}
			amt = math.Max(1000, math.Round(amt/1000)*1000)
			e.begin(kQuota)
			e.open("id")
			e.b = append(e.b, "quota-"...)
			e.b = append(e.b, rp.name...)
			e.b = append(e.b, '-')
			e.b = append(e.b, label...)
			e.close()
			e.str("owner", rp.name)
			e.ts("period_start", qs)
			e.ts("period_end", qe)
			e.money("amount", int64(amt*100))
			e.end()
		}
	}
}

// targets writes the plan numbers "vs target" metrics are judged against,
// each set near what the organisation actually achieved so that some are
// met and some missed.
func (g *gen) targets() {
	nm := len(g.mqlM)
	// The MRR plan by month's start: a quarter's ARR target is twelve times
	// its last month's, so the two plans agree (ARR's had been drawn apart:
	// 6,568,705 against 12 × 546,076 = 6,552,912 for the same December).
	mrrPlan := make(map[int64]float64, nm)
	for m := 0; m < nm; m++ {
		ms, me := monthStart(g.first, int64(m)), monthStart(g.first, int64(m+1))
		days := float64(me-ms) / float64(day)
		label := monthLabel(nil, ms)
		g.target("mql_volume", label, ms, me, math.Round(g.leadPerDay*mqlRate*days*g.uni(0.92, 1.18)))
		mrr := float64(g.mrrAt[min(m, len(g.mrrAt)-1)]) / 100
		if m == nm-1 {
			mrr *= g.uni(1.01, 1.05)
		} else {
			mrr *= g.uni(0.97, 1.06)
		}
		g.target("mrr", label, ms, me, math.Round(mrr))
		mrrPlan[ms] = math.Round(mrr)
	}
	cur := g.quarterIdx(g.endFloor)
	for q := 0; q <= cur; q++ {
		qs, qe := quarterStart(g.first, int64(q)), quarterStart(g.first, int64(q+1))
		label := quarterLabel(nil, qs)
		arr := 12 * float64(g.mrrAt[len(g.mrrAt)-1]) / 100 * g.uni(1.02, 1.08)
		for k, t := range g.snaps {
			if t == qe {
				arr = 12 * float64(g.mrrAt[k]) / 100 * g.uni(0.96, 1.08)
			}
		}
		// Drawn above either way, so that every later draw is what it was.
		if plan, ok := mrrPlan[monthStart(qe, -1)]; ok {
			arr = 12 * plan
		}
		g.target("arr", label, qs, qe, math.Round(arr))
		g.target("cac", label, qs, qe, math.Round(targetCAC*g.uni(0.85, 1.2)))

		// Cost ratios: the quarter's own when it has bills, else the
		// previous quarter's.
		cq := q
		for cq > 0 && (g.costDaysQ[cq] == 0 || g.activeQ[cq][1] == 0 || g.reqQ[cq] == 0) {
			cq--
		}
		if g.costDaysQ[cq] > 0 && g.activeQ[cq][0] > 0 && g.reqQ[cq] > 0 {
			monthly := g.costQ[cq] / g.costDaysQ[cq] * 30
			// Customers: the organisation's, weighted by days (SPEC §3).
			perCust := monthly / (g.activeQ[cq][0] / g.activeQ[cq][1])
			g.target("cost_per_active_customer", label, qs, qe, math.Round(perCust*g.uni(0.93, 1.12)*100)/100)
			perM := g.costQ[cq] / (g.reqQ[cq] / 1e6)
			g.target("cost_per_million_requests", label, qs, qe, math.Round(perM*g.uni(0.93, 1.12)*100)/100)
		}
		cyc := 40.0
		for k := q; k >= 0; k-- {
			if g.cycleQ[k][1] >= 3 {
				cyc = g.cycleQ[k][0] / g.cycleQ[k][1]
				break
			}
		}
		g.target("sales_cycle_length", label, qs, qe, math.Round(cyc*g.uni(0.9, 1.15)*10)/10)
		if typical := median(g.worstM[:max(1, len(g.worstM)-1)]); typical > 0 {
			g.target("release_impact_score", label, qs, qe, math.Round(typical*g.uni(0.95, 1.25)))
		}
		// funnel_conversion's value is lead→won of a mature cohort: set
		// near the share of the leads old enough that reached won.
		if g.funnel[0] > 0 {
			g.target("funnel_conversion", label, qs, qe, math.Round(100*g.funnel[1]/g.funnel[0]*g.uni(0.9, 1.2)*100)/100)
		}
		// Sales velocity as SPEC §3 defines it, over the last 30 days; only
		// the running quarter gets a target.
		if v := g.velocity; q == cur && v[1] > 0 && g.closedW > 0 {
			vel := v[0] * (v[2] / v[1]) * (v[1] / g.closedW) / (v[3] / v[1])
			g.target("sales_velocity", label, qs, qe, math.Round(vel*g.uni(0.9, 1.2)))
		}
	}
	g.bridgeTargets()
}

// bridgeTargets plans the MRR bridge's movements per month, and revenue at
// risk and lifetime value per quarter, near the window's monthly averages:
// without a plan these cards can only say "no target set". They come after
// every other plan so that adding them left the others' random draws, and
// so their values, as they were.
func (g *gen) bridgeTargets() {
	months := float64(g.end-g.first) / float64(30*day)
	if months < 1 {
		return
	}
	ids := [...]string{"mrr_new", "mrr_reactivation", "mrr_expansion", "mrr_contraction", "mrr_churn"}
	for m := 0; m < len(g.mqlM); m++ {
		ms, me := monthStart(g.first, int64(m)), monthStart(g.first, int64(m+1))
		label := monthLabel(nil, ms)
		for k, id := range ids {
			avg := g.bridge[k] / months
			if avg <= 0 {
				continue
			}
			// Growth is planned a little above the average, losses a
			// little below it: a plan asks for better than usual.
			f := g.uni(0.95, 1.25)
			if k >= 3 {
				f = g.uni(0.8, 1.1)
			}
			g.target(id, label, ms, me, math.Round(avg*f))
		}
	}
	var active int
	for _, c := range g.customers {
		if n := len(c.spans); n > 0 && c.spans[n-1].end == never {
			active++
		}
	}
	mrr := float64(g.mrrAt[len(g.mrrAt)-1]) / 100
	// Revenue at risk's budget: the book's share of a month that the
	// services' SLOs allow to be down, averaged over the services.
	var budget float64
	for _, s := range g.svcs {
		budget += 1 - s.slo
	}
	budget /= float64(max(len(g.svcs), 1))
	cur := g.quarterIdx(g.endFloor)
	for q := 0; q <= cur; q++ {
		qs, qe := quarterStart(g.first, int64(q)), quarterStart(g.first, int64(q+1))
		label := quarterLabel(nil, qs)
		g.target("revenue_at_risk", label, qs, qe, math.Round(12*mrr*budget*30/365*g.uni(0.5, 0.9)*100)/100)
		if active > 0 && g.churns > 0 {
			monthly := float64(g.churns) / months / float64(active)
			g.target("ltv", label, qs, qe, math.Round(mrr/float64(active)*0.8/monthly*g.uni(0.85, 1.15)))
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (g *gen) target(metric string, label []byte, ps, pe int64, v float64) {
	e := &g.e
	e.begin(kTarget)
	e.open("id")
	e.b = append(e.b, "target-"...)
	e.b = append(e.b, metric...)
	e.b = append(e.b, '-')
	e.b = append(e.b, label...)
	e.close()
	e.str("metric", metric)
	e.ts("period_start", ps)
	e.ts("period_end", pe)
	e.num("value", v, 2)
	e.end()
}
