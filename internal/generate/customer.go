package generate

import (
	"cmp"
	"math"
	"slices"
)

// Ticket priorities (Zendesk's scheme) with their SLA and how often each
// is escalated.
var (
	priorities   = []string{"urgent", "high", "normal", "low"}
	priorityP    = []float64{0.05, 0.20, 0.50, 0.25}
	spikeP       = []float64{0.10, 0.30, 0.45, 0.15}
	prioritySLA  = []int64{4 * hour, 8 * hour, 24 * hour, 72 * hour}
	escalateP    = []float64{0.12, 0.03, 0.004, 0.002}
	criticality  = []string{"high", "medium", "low"}
	criticalityP = []float64{0.15, 0.45, 0.40}
	// Candor's default release-impact weights for the values above.
	priorityWeight    = []float64{3, 2, 1, 0.5}
	criticalityWeight = []float64{2, 1, 0.5}
	ticketCatW        []float64
	csatP             = []float64{0.02, 0.03, 0.07, 0.30, 0.58} // scores 1…5
	csatSpikeP        = []float64{0.12, 0.12, 0.16, 0.30, 0.30}
	npsP              = []float64{0.01, 0.01, 0.01, 0.02, 0.03, 0.05, 0.07, 0.15, 0.20, 0.23, 0.22} // 0…10
)

func init() {
	for _, c := range ticketCategories {
		ticketCatW = append(ticketCatW, c.w)
	}
}

func (g *gen) ticketsDay(d int64, wd int) {
	n := g.poisson(g.tktPerDay * ticketWD[wd])
	for i := 0; i < n; i++ {
		if t := d + g.workOffset(); t < g.end {
			g.ticket(t, -1, nil)
		}
	}
}

// spike is the wave of tickets a bad release causes in the two days after
// it: what release impact scoring is meant to catch.
func (g *gen) spike(s *service, dep, fin int64) {
	n := 4 + g.poisson(7)
	weight := 0.0
	for i := 0; i < n; i++ {
		if t := fin + g.dur(6*hour, 1.0, 5*minute, 47*hour); t < g.end {
			weight += g.ticket(t, dep, s)
		}
	}
	m := g.monthIdx(fin)
	g.worstM[m] = max(g.worstM[m], weight)
}

// ticket writes one support ticket. rel is the release it complains about
// (-1 when it is background volume) and s that release's service. It
// returns the ticket's release-impact weight under Candor's default
// weights (priority × user role × criticality), from which the
// release_impact_score target is set.
func (g *gen) ticket(created, rel int64, s *service) float64 {
	e := &g.e
	n := g.nTkt
	g.nTkt++
	cust := g.pickCustomer()
	var pri int
	// about is the service the ticket is about, when the help desk knows
	// (SPEC §1 ticket.service): a wave's release's, the one a customer
	// blames, or, for half the background tickets, one picked by the
	// ticket's number (no random draw, so the rest of the data stays as
	// it was before tickets carried a service).
	about := ""
	if s != nil {
		about = s.name
	}
	if rel >= 0 {
		pri = g.weighted(spikeP)
	} else {
		pri = g.weighted(priorityP)
		if g.chance(0.2) {
			// Customers name the release they think broke things.
			cand := g.svcs[g.pickTicketService()]
			if r, ok := cand.latestBefore(created, 7*day); ok {
				rel = r
				about = cand.name
			}
		}
		if about == "" && n%2 == 0 {
			about = g.svcs[g.ticketServiceAt(math.Mod(float64(n)*0.6180339887498949, 1))].name
		}
	}
	escalated := g.chance(escalateP[pri])
	sla := created + prioritySLA[pri]
	ratio := g.logn(0.3, 0.8)
	if escalated {
		ratio *= 3
	}
	resolved := created + max(5*minute, int64(ratio*float64(prioritySLA[pri])))

	e.begin(kTicket)
	e.ref("id", "tkt-", n, 7)
	e.ts("created_at", created)
	if cust >= 0 {
		e.ref("customer", "cus-", int64(cust)+1, 5)
		e.str("segment", customerSegment(cust))
	}
	if resolved < g.end {
		e.ts("resolved_at", resolved)
	}
	e.str("priority", priorities[pri])
	var text string
	if s != nil {
		if g.chance(0.8) {
			e.str("category", "bug")
		} else {
			e.str("category", "performance")
		}
		text = g.pick(releaseComplaints[s.baseService.name])
	} else {
		c := &ticketCategories[g.weighted(ticketCatW)]
		e.str("category", c.name)
		text = g.pick(c.phrases)
	}
	weight := priorityWeight[pri]
	if g.chance(0.3) {
		e.str("user_role", "admin")
		weight *= 1.5
	} else {
		e.str("user_role", "end_user")
	}
	crit := g.weighted(criticalityP)
	weight *= criticalityWeight[crit]
	e.str("criticality", criticality[crit])
	e.boolean("escalated", escalated)
	if sla < g.end {
		e.ts("sla_due_at", sla)
	}
	if rel >= 0 {
		e.ref("release", "dep-", rel, 7)
	}
	if about != "" {
		e.str("service", about)
	}
	e.open("text")
	e.b = append(e.b, text...)
	e.b = append(e.b, g.pick(ticketSuffixes)...)
	e.close()
	e.end()

	if resolved < g.end && g.chance(0.15) {
		at := resolved + g.dur(3*hour, 1.0, 5*minute, 3*day)
		if at < g.end {
			p := csatP
			if s != nil {
				p = csatSpikeP
			}
			sr := int64(-1)
			if rel >= 0 && g.chance(0.6) {
				sr = rel
			}
			g.survey(at, "csat", int64(1+g.weighted(p)), cust, sr)
		}
	}
	return weight
}

// customerSegment is a customer's segment, fixed by its number so that
// adding it draws nothing from the generator's random stream (the rest of
// the data stays as it was).
func customerSegment(cust int) string {
	switch {
	case cust%10 == 0:
		return "enterprise"
	case cust%3 == 0:
		return "mid_market"
	}
	return "smb"
}

func (g *gen) pickTicketService() int { return g.ticketServiceAt(g.f()) }

// ticketServiceAt picks the service at u ∈ [0, 1) of the ticket shares.
func (g *gen) ticketServiceAt(u float64) int {
	u *= g.tktCum[len(g.tktCum)-1]
	lo, hi := 0, len(g.tktCum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if g.tktCum[mid] <= u {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func (g *gen) pickCustomer() int {
	if len(g.active) == 0 {
		return -1
	}
	return int(g.active[g.intn(len(g.active))])
}

func (g *gen) npsDay(d int64) {
	n := g.poisson(g.npsPerDay)
	for i := 0; i < n; i++ {
		if t := d + g.workOffset(); t < g.end {
			g.survey(t, "nps", int64(g.weighted(npsP)), g.pickCustomer(), -1)
		}
	}
}

func (g *gen) survey(at int64, typ string, score int64, cust int, rel int64) {
	e := &g.e
	n := g.nSvy
	g.nSvy++
	e.begin(kSurvey)
	e.ref("id", "svy-", n, 7)
	e.ts("at", at)
	e.str("type", typ)
	e.int("score", score)
	if cust >= 0 {
		e.ref("customer", "cus-", int64(cust)+1, 5)
	}
	if rel >= 0 {
		e.ref("release", "dep-", rel, 7)
	}
	e.end()
}

// ---------------------------------------------------------------- subscriptions

// subscriptions lays out every customer's life — first subscription, plan
// changes, churn, sometimes a return — before the day loop, because tickets
// and surveys need to know who is a customer on a given day. Customers are
// few (hundreds per unit of scale), so this is the one thing held in memory.
func (g *gen) subscriptions() {
	pre := max(3, int(math.Round(customersBefore*g.custScale)))
	wins := g.plannedWins()
	starts := make([]win, 0, pre+len(wins))
	// The base: customers from the three years before the window, on the
	// plans' mix (amount 0: drawn in customerLife).
	for i := 0; i < pre; i++ {
		starts = append(starts, win{closed: g.first - 1 - g.r.Int64N(3*365*day)})
	}
	// Every new logo in the window is a deal won, starting when it closed.
	starts = append(starts, wins...)
	slices.SortStableFunc(starts, func(a, b win) int { return cmp.Compare(a.closed, b.closed) })
	g.customers = make([]customer, len(starts))
	for i, st := range starts {
		g.customerLife(i, st)
	}
}

// planOf is the plan whose price range holds a monthly amount.
func planOf(mrr float64) int {
	for p := len(plans) - 1; p > 0; p-- {
		if mrr >= plans[p].lo {
			return p
		}
	}
	return 0
}

func (g *gen) planMRR(p int) float64 {
	pl := plans[p]
	return math.Exp(g.uni(math.Log(pl.lo), math.Log(pl.hi)))
}

const never = math.MaxInt64

func (g *gen) customerLife(ci int, st win) {
	c := &g.customers[ci]
	start := st.closed
	var p int
	var mrr float64
	if st.amount > 0 {
		mrr = st.amount / 12
		p = planOf(mrr)
	} else {
		planW := make([]float64, len(plans))
		for i, p := range plans {
			planW[i] = p.initialW
		}
		p = g.weighted(planW)
		mrr = g.planMRR(p)
	}
	t, spanStart := start, start
	g.move(start, 0, mrr)
	for t < g.end {
		annual := g.chance(plans[p].annualP)
		step := 30 * day
		churn, expand, contract := 0.012, 0.022, 0.005
		if annual {
			step = 365 * day
			churn, expand, contract = 0.11, 0.22, 0.05
		}
		// Changes happen at renewal: monthly plans any month, annual ones
		// on their anniversary.
		outcome, next := 0, t+step
		newP, newMRR := p, mrr
		for ; next < g.end; next += step {
			u := g.f()
			if u < churn {
				outcome = 1
				break
			}
			if u < churn+expand {
				outcome = 2
				if p < len(plans)-1 && g.chance(0.3) {
					newP = p + 1
					newMRR = math.Max(mrr*1.2, g.planMRR(newP))
				} else {
					newMRR = mrr * g.uni(1.15, 1.7)
				}
				newMRR = math.Min(newMRR, 20000)
				break
			}
			if u < churn+expand+contract {
				outcome = 2
				newMRR = math.Max(mrr*g.uni(0.6, 0.85), 200)
				break
			}
		}
		ended := int64(-1)
		if outcome != 0 {
			ended = next
		}
		g.subscription(ci, t, ended, p, mrr, annual)
		switch outcome {
		case 0:
			c.spans = append(c.spans, span{spanStart, never})
			return
		case 1:
			c.spans = append(c.spans, span{spanStart, ended})
			g.move(ended, 4, mrr)
			if ended >= g.first {
				g.churns++
			}
			if !g.chance(0.2) {
				return
			}
			// Churned and came back, usually on a smaller plan.
			t = ended + g.dur(120*day, 0.5, 30*day, 400*day)
			spanStart = t
			p = max(0, p-g.intn(2))
			mrr = g.planMRR(p)
			g.move(t, 1, mrr)
		case 2:
			if newMRR > mrr {
				g.move(ended, 2, newMRR-mrr)
			} else {
				g.move(ended, 3, mrr-newMRR)
			}
			t, p, mrr = ended, newP, newMRR
		}
	}
}

// move adds an MRR bridge movement (index into gen.bridge) at t when t
// is inside the generated window.
func (g *gen) move(t int64, kind int, amount float64) {
	if t >= g.first && t < g.end {
		g.bridge[kind] += amount
	}
}

func (g *gen) subscription(ci int, start, ended int64, p int, mrr float64, annual bool) {
	e := &g.e
	n := g.nSub
	g.nSub++
	disc := 0.0
	switch u := g.f(); {
	case u < 0.2:
		disc = 0.1
	case u < 0.3:
		disc = 0.15
	case u < 0.4:
		disc = 0.2
	}
	cents := int64(math.Round(mrr * 100))
	e.begin(kSubscription)
	e.ref("id", "sub-", n, 6)
	e.ref("customer", "cus-", int64(ci)+1, 5)
	e.ts("started_at", start)
	if ended >= 0 {
		e.ts("ended_at", ended)
	}
	e.money("mrr", cents)
	e.str("plan", plans[p].name)
	e.str("segment", customerSegment(ci))
	if annual {
		e.str("interval", "year")
	} else {
		e.str("interval", "month")
	}
	e.int("quantity", max(1, int64(math.Round(mrr/(1-disc)/plans[p].seat))))
	if disc > 0 {
		e.num("discount", disc, 2)
	}
	e.end()

	stop := int64(never)
	if ended >= 0 {
		stop = ended
	}
	for k, t := range g.snaps {
		if start <= t && t < stop {
			g.mrrAt[k] += cents
		}
	}
}
