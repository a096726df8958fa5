package metrics

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Where MRR comes from (SPEC §3, Growth): the MRR bridge over W, the quick
// ratio and lifetime value; and what unavailability puts at stake
// (revenue_at_risk, Reliability).

// Movements of the MRR bridge, in the order a waterfall shows them.
const (
	MoveNew          = "new"
	MoveReactivation = "reactivation"
	MoveExpansion    = "expansion"
	MoveContraction  = "contraction"
	MoveChurn        = "churn"
)

// BridgeMetrics name each movement's metric.
var BridgeMetrics = map[string]string{
	MoveNew: "mrr_new", MoveReactivation: "mrr_reactivation", MoveExpansion: "mrr_expansion",
	MoveContraction: "mrr_contraction", MoveChurn: "mrr_churn",
}

// BridgeMoves are the movements in waterfall order: what adds MRR, then
// what takes it away.
var BridgeMoves = []string{MoveNew, MoveReactivation, MoveExpansion, MoveContraction, MoveChurn}

// CustomerMove is one customer behind a movement of the MRR bridge: its MRR
// at W's start (M0) and at as_of (M1), in the organisation currency.
type CustomerMove struct {
	Customer string  `json:"customer"`
	M0       float64 `json:"m0"`
	M1       float64 `json:"m1"`
	// Amount is what the customer adds to the movement (m1 − m0 for
	// expansion, m0 for churn, …), always ≥ 0.
	Amount float64 `json:"amount"`
}

// custMRR is one customer's MRR at two times t0 < t1: at W's start and
// at as_of for the bridge, at T0 and as_of for NRR and GRR.
type custMRR struct {
	m0, m1 domain.Money
	// in0 and in1: a subscription of the customer is active at the time
	// (one of mrr 0 too).
	in0, in1 bool
	// before: a subscription of the customer started before t0, so an
	// m0 = 0 < m1 customer returns rather than arrives.
	before bool
	subs   []*subRow
	// segs sums the MRR at t0 of the customer's subscriptions active then
	// by the segment they name (noteSegment), until walkMRR picks seg from
	// them: the customer's segment at t0 (NRR's and GRR's lines), 0 for
	// none.
	segs []segMRR
	seg  uint32
}

// segMRR is one segment's share of a customer's MRR at t0 and the latest
// start of the subscriptions naming it.
type segMRR struct {
	code   uint32
	mrr    domain.Money
	latest int64
}

// segmentAt is the code of the customer's segment at t0 (0 for none): the
// segment its subscriptions active at t0 name, of several the one they
// carry the most MRR under, ties to the segment of the latest started
// subscription, then to the first by name, so that every customer is in
// one line however its subscriptions are ordered or re-sent. What the
// customer bought a year before, not its segment now: a customer moved up
// from smb since counts where its revenue came from.
func (c *custMRR) segmentAt() uint32 { return c.seg }

// noteSegment adds x, active at t0 at MRR m, to its segment's share of the
// customer's MRR then.
func noteSegment(c *custMRR, x *subRow, m domain.Money) {
	if x.segment == 0 {
		return
	}
	for i := range c.segs {
		if s := &c.segs[i]; s.code == x.segment {
			s.mrr += m
			s.latest = max(s.latest, x.started)
			return
		}
	}
	c.segs = append(c.segs, segMRR{code: x.segment, mrr: m, latest: x.started})
}

// pickSegment sets the customer's segment at t0 from its shares
// (segmentAt's rule) and lets the shares go.
func (d *Dataset) pickSegment(c *custMRR) {
	var best *segMRR
	for i := range c.segs {
		s := &c.segs[i]
		switch {
		case best == nil, s.mrr > best.mrr:
		case s.mrr < best.mrr:
			continue
		case s.latest > best.latest:
		case s.latest < best.latest:
			continue
		case d.str(s.code) >= d.str(best.code):
			continue
		}
		best = s
	}
	if best != nil {
		c.seg = best.code
	}
	c.segs = nil
}

// customersMRR sums, per customer, the mrr of its subscriptions in scope
// (a plan scope takes the plan's) active at t0 and at t1, in the
// organisation currency; a subscription that cannot be converted is left
// out (c says so). seen, when set, is called for every subscription active
// at either time, with its customer's sums, in the order they are kept. It
// scans every
// subscription: one active at t0 can have started at any time.
//
// Without seen the result is kept until rows are next applied, and must
// only be read: the MRR bridge's six metrics (quick ratio and each
// movement) and the retention metrics (NRR, GRR, logo churn, LTV) ask for
// the same windows, and each walked every subscription (at scale 10 a
// tenth of a first scorecard).
func (d *Dataset) customersMRR(q Query, t0, t1 int64, c *converter, seen func(x *subRow, cu *custMRR)) map[uint32]*custMRR {
	// A segment filter chooses among the customers (their segment at t0),
	// not among their subscriptions: every segment's line reads the same
	// sums.
	k := mrrKey{scope: q.Scope.without("segment"), t0: t0, t1: t1}
	if seen == nil {
		if out, ok := d.keptMRR(k); ok {
			return out
		}
	}
	out := d.walkMRR(q, t0, t1, c, seen)
	if seen == nil && c.err == "" {
		d.keepMRR(k, out)
	}
	return out
}

func (d *Dataset) walkMRR(q Query, t0, t1 int64, c *converter, seen func(x *subRow, cu *custMRR)) map[uint32]*custMRR {
	out := make(map[uint32]*custMRR, d.subs().len())
	for x := range d.subs().all() {
		if x.started > t1 || !d.matchCode(q, "plan", x.plan) {
			continue // not yet in existence, or outside the scope
		}
		a0, a1 := subActiveAt(x, t0), subActiveAt(x, t1)
		before := x.started < t0
		if !a0 && !a1 && !before {
			continue
		}
		var m domain.Money
		if a0 || a1 {
			var ok bool
			if m, ok = c.to(domain.KindSubscription, x.id, x.currency, x.mrr); !ok {
				continue
			}
		}
		cu := out[x.customer]
		if cu == nil {
			cu = &custMRR{}
			out[x.customer] = cu
		}
		cu.before = cu.before || before
		if a0 {
			cu.m0 += m
			cu.in0 = true
			noteSegment(cu, x, m)
		}
		if a1 {
			cu.m1 += m
			cu.in1 = true
		}
		if (a0 || a1) && seen != nil {
			seen(x, cu)
		}
	}
	for _, cu := range out {
		d.pickSegment(cu)
	}
	return out
}

// move classifies the customer's movement ("" for none) and its amount.
func (c *custMRR) move() (string, domain.Money) {
	switch {
	case c.m0 == 0 && c.m1 > 0 && c.before:
		return MoveReactivation, c.m1
	case c.m0 == 0 && c.m1 > 0:
		return MoveNew, c.m1
	case c.m0 > 0 && c.m1 == 0:
		return MoveChurn, c.m0
	case c.m0 > 0 && c.m0 < c.m1:
		return MoveExpansion, c.m1 - c.m0
	case c.m1 > 0 && c.m1 < c.m0:
		return MoveContraction, c.m0 - c.m1
	}
	return "", 0
}

// mrrKey names the customers' MRR at two times kept between applies of
// rows (customersMRR).
type mrrKey struct {
	scope  Scope
	t0, t1 int64
}

// maxMRRs bounds what customersMRR keeps (a scorecard's weekly trends keep
// ~30).
const maxMRRs = 1024

// mrrBridge is the bridge over W: MRR at W's start and at as_of, and each
// movement's Σ, in money, so that end − start = new + reactivation +
// expansion − contraction − churn exactly.
type mrrBridge struct {
	start, end domain.Money
	moves      map[string]domain.Money
	customers  map[uint32]*custMRR // by customer (string table code)
}

// bridge computes the MRR bridge per customer over the subscriptions in
// scope (a plan scope takes that plan's subscriptions only, so the bridge
// is mrr's for the plan). ok is false when an amount could not be
// converted (r says why).
func (d *Dataset) bridge(q Query, c *converter, r *Result) (mrrBridge, bool) {
	b := mrrBridge{moves: map[string]domain.Money{}}
	var keep func(x *subRow, cu *custMRR)
	if q.Records {
		keep = func(x *subRow, cu *custMRR) { cu.subs = append(cu.subs, x) }
	}
	b.customers = d.customersMRR(q, q.start(), q.end(), c, keep)
	if c.fail(r) {
		return b, false
	}
	for _, cu := range b.customers {
		b.start += cu.m0
		b.end += cu.m1
		if mv, amt := cu.move(); mv != "" {
			b.moves[mv] += amt
		}
	}
	r.Detail.Currency = c.org
	r.Detail.MRRStart = ptr(b.start.Float())
	r.Detail.MRRNow = ptr(b.end.Float())
	return b, true
}

// bridgeMetric is one movement's Σ over W; its cases are the customers
// behind it, listed with their m0 and m1 in a drill-down.
func bridgeMetric(move string) Func {
	return func(d *Dataset, q Query) Result {
		var r Result
		b, ok := d.bridge(q, d.converter(), &r)
		if !ok {
			return r
		}
		var codes []uint32
		for code, cu := range b.customers {
			if mv, _ := cu.move(); mv == move {
				codes = append(codes, code)
			}
		}
		r.Count = len(codes)
		r.Value = moneyValue(b.moves[move])
		if !q.Records {
			return r
		}
		// Largest first: the customers that made the movement.
		type moved struct {
			CustomerMove
			subs []*subRow
		}
		all := make([]moved, 0, len(codes))
		for _, code := range codes {
			cu := b.customers[code]
			_, amt := cu.move()
			all = append(all, moved{CustomerMove{Customer: d.str(code), M0: cu.m0.Float(), M1: cu.m1.Float(), Amount: amt.Float()}, cu.subs})
		}
		slices.SortFunc(all, func(a, b moved) int {
			return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Customer, b.Customer))
		})
		r.Detail.Customers = make([]CustomerMove, len(all))
		for i, m := range all {
			r.Detail.Customers[i] = m.CustomerMove
			sort.Slice(m.subs, func(i, j int) bool { return d.str(m.subs[i].id) < d.str(m.subs[j].id) })
			for _, x := range m.subs {
				r.rowRef(q, d, x, nil, bridgeNote(m.CustomerMove, x, q))
			}
		}
		return r
	}
}

// bridgeNote says which side of the bridge a subscription is on.
func bridgeNote(m CustomerMove, x *subRow, q Query) string {
	return m.Customer + ": " + activeNote(subActiveAt(x, q.start()), subActiveAt(x, q.end()), q.start(), q.end())
}

// activeNote says of a subscription at the two instants a movement
// compares (the window's start and as_of; for NRR and GRR a year before
// as_of) when it was active, in dates: a records table had said "active
// at T0 only" and "at W's start", the definition's symbols, to a reader
// who had not read it. An instant that is not a day's start keeps its
// time (a page as of 09:17).
func activeNote(at0, at1 bool, t0, t1 int64) string {
	words := func(t int64) string {
		u := time.Unix(0, t).UTC()
		if u.Equal(u.Truncate(day)) {
			return u.Format("2 Jan 2006")
		}
		return u.Format("2 Jan 2006 15:04 UTC")
	}
	switch {
	case at0 && !at1:
		return "active on " + words(t0) + ", not on " + words(t1)
	case at1 && !at0:
		return "active on " + words(t1) + ", not on " + words(t0)
	}
	return "active on " + words(t0) + " and on " + words(t1)
}

// quickRatio = (new + reactivation + expansion) ÷ (contraction + churn).
func quickRatio(d *Dataset, q Query) Result {
	var r Result
	b, ok := d.bridge(q, d.converter(), &r)
	if !ok {
		return r
	}
	for _, cu := range b.customers {
		if mv, _ := cu.move(); mv != "" {
			// Its cases are the customers lost or shrunk, the divisor's:
			// counting every customer whose MRR moved, a ratio resting on
			// three losses had been judged green (n = 19).
			if mv == MoveContraction || mv == MoveChurn {
				r.Count++
			}
			if q.Records {
				for _, x := range cu.subs {
					r.rowRef(q, d, x, nil, "")
				}
			}
		}
	}
	slices.SortFunc(r.Records, func(a, b Ref) int { return cmp.Compare(a.ID, b.ID) })
	gained := b.moves[MoveNew] + b.moves[MoveReactivation] + b.moves[MoveExpansion]
	lost := b.moves[MoveContraction] + b.moves[MoveChurn]
	r.Detail.MRRGained = ptr(gained.Float())
	r.Detail.MRRLost = ptr(lost.Float())
	if lost > 0 {
		r.Value = num(float64(gained) / float64(lost))
	} else {
		// Without this the card says "nothing to compute it from", which
		// reads as missing data; here the data is there and nothing was lost.
		r.Detail.Reason = "no contraction or churn in the window: the ratio has no divisor"
	}
	return r
}

// ltv = (mrr at as_of ÷ customers active at as_of) × gross margin ÷
// monthly logo churn, the churn being logo_churn_rate over W scaled to 30
// days. Its cases are the customers who churned in W.
func ltv(d *Dataset, q Query) Result {
	r := logoChurnRate(d, q)
	churnRate := r.Value
	r.Value = nil
	c := d.converter()
	var mrr domain.Money
	active := make(map[uint32]bool, d.subs().len())
	for x := range d.subs().all() {
		if !subActiveAt(x, q.end()) || !d.matchCode(q, "plan", x.plan) {
			continue
		}
		active[x.customer] = true
		if m, ok := c.to(domain.KindSubscription, x.id, x.currency, x.mrr); ok {
			mrr += m
		}
	}
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	// Its cases are the customers who churned in W, the churn it divides
	// by: counted as logo churn's base (every customer active at W's
	// start), one churned customer had made a lifetime value green
	// (n = 198), and the next would have halved it.
	r.Count = 0
	if r.Detail.Churned != nil {
		r.Count = *r.Detail.Churned
	}
	gm := d.cfg.grossMargin()
	r.Detail.GrossMargin = ptr(gm)
	if len(active) > 0 {
		r.Detail.ARPA = ptr(mrr.Float() / float64(len(active)))
	}
	if churnRate == nil {
		return r
	}
	monthly := *churnRate / 100 * 30 / (float64(q.Window) / float64(day))
	r.Detail.MonthlyLogoChurn = ptr(100 * monthly)
	if monthly == 0 || r.Detail.ARPA == nil {
		if monthly == 0 {
			r.Detail.Reason = "no customer churned in the window: lifetime value is unbounded"
		}
		return r
	}
	r.Value = num(*r.Detail.ARPA * gm / monthly)
	return r
}

// revenueAtRisk = (1 − availability over W) × arr at as_of × (the window's
// length in days ÷ 365). In a team, service or tier scope the availability
// is the scope's and the ARR the organisation's: subscriptions do not
// name a service, and the scope's downtime puts the whole book at stake.
// Its cases are availability's SLI records.
func revenueAtRisk(d *Dataset, q Query) Result {
	var r Result
	per := d.slisIn(q, &r, nil)
	// Pooled in service order: the same sum whatever the map's order, so
	// the small difference 1 − availability is exactly repeatable.
	services := make([]string, 0, len(per))
	for s := range per {
		services = append(services, s)
	}
	sort.Strings(services)
	var good, total float64
	for _, s := range services {
		good += per[s].good
		total += per[s].total
	}
	c := d.converter()
	// The subscriptions behind the ARR are behind the value too, when
	// there is one: a scope without SLIs in W rests on nothing.
	arr := Result{Records: r.Records}
	book := 12 * d.mrrAt(Query{AsOf: q.AsOf, Window: q.Window, Records: q.Records && total > 0}, q.end(), c, &arr)
	r.Records = arr.Records
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	days := float64(q.Window) / float64(day)
	r.Detail.ARR = ptr(book.Float())
	r.Detail.WindowDays = ptr(days)
	if total == 0 {
		return r
	}
	unavailable := (total - good) / total
	r.Detail.Availability = ptr(100 * good / total)
	r.Value = num(unavailable * book.Float() * days / 365)
	return r
}
