package metrics

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Cost & Efficiency (SPEC §3). This file also holds what the business
// pillars share: money in the organisation currency, proration by elapsed
// time, targets and scope matching on record attributes.

// ---------------------------------------------------------------- scope

// valueOrNone names an empty attribute the way breakdowns do.
func valueOrNone(v string) string {
	if v == "" {
		return NoneKey
	}
	return v
}

// matchAttr reports whether a record whose dimension dim has value v
// passes the scope's filters on dim; filters on other dimensions do not
// restrict it.
func matchAttr(q Query, dim, v string) bool {
	for i := range MaxFilters {
		f := q.Scope.filter(i)
		if f.Dim == "" {
			return true
		}
		if f.Dim == dim && valueOrNone(v) != f.Value {
			return false
		}
	}
	return true
}

// addDimValue adds a breakdown value, naming empty ones.
func addDimValue(set map[string]bool, v string) { set[valueOrNone(v)] = true }

func costDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	if dim != "category" {
		return
	}
	for x := range d.costs().all() {
		if d.matchServiceCode(q, x.service) && d.matchCode(q, dim, x.category) {
			addDimValue(set, d.str(x.category))
		}
	}
	// Budgets belong to no service: a service scope has none.
	if !d.matchService(q, "") {
		return
	}
	for x := range d.budgets().all() {
		if d.matchCode(q, dim, x.category) {
			addDimValue(set, d.str(x.category))
		}
	}
}

// ---------------------------------------------------------------- money

// converter turns amounts into the organisation currency. The first amount
// in a currency without a configured rate is recorded in err; a metric that
// met one has no value (money in different currencies is never mixed).
type converter struct {
	d     *Dataset // reads the codes of ids and currencies
	org   string
	rates map[string]float64
	err   string
	// missed counts the amounts it could not convert, so that a caller
	// can tell which record lacked a rate (err names only the first).
	missed int
}

func (d *Dataset) converter() *converter {
	return &converter{d: d, org: d.cfg.orgCurrency(), rates: d.cfg.ExchangeRates}
}

// to converts one record's amount, rounded to the nearest Money unit; its
// id and currency are string table codes.
func (c *converter) to(kind domain.Kind, idCode, curCode uint32, m domain.Money) (domain.Money, bool) {
	cur := c.d.str(curCode)
	if cur == "" || strings.EqualFold(cur, c.org) {
		return m, true
	}
	rate, ok := rateOf(c.rates, cur)
	if !ok {
		if c.err == "" {
			c.err = fmt.Sprintf("%s %s is in %s but no exchange rate %s→%s is configured", kind, c.d.str(idCode), cur, cur, c.org)
		}
		c.missed++
		return 0, false
	}
	return domain.Money(math.Round(float64(m) * rate)), true
}

// rateOf is the usable rate of cur among rates, looked up as given and
// upper case.
func rateOf(rates map[string]float64, cur string) (float64, bool) {
	rate, ok := rates[cur]
	if !ok {
		rate, ok = rates[strings.ToUpper(cur)]
	}
	return rate, ok && rate > 0 && !math.IsInf(rate, 0) && !math.IsNaN(rate)
}

// Currencies lists the currencies the money records are in, upper case
// and sorted: what the organisation currency and its exchange rates must
// cover for every amount to be converted.
func (d *Dataset) Currencies() []string {
	set := map[uint32]bool{}
	addCurrencies(d.costs(), set, func(r *costRow) uint32 { return r.currency })
	addCurrencies(d.budgets(), set, func(r *budgetRow) uint32 { return r.currency })
	addCurrencies(d.subs(), set, func(r *subRow) uint32 { return r.currency })
	addCurrencies(d.opps(), set, func(r *oppRow) uint32 { return r.currency })
	addCurrencies(d.quotas(), set, func(r *quotaRow) uint32 { return r.currency })
	addCurrencies(d.spends(), set, func(r *spendRow) uint32 { return r.currency })
	var out []string
	for code := range set {
		if cur := strings.ToUpper(d.str(code)); cur != "" {
			out = append(out, cur)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// addCurrencies adds the currency codes of a money table's rows to set.
func addCurrencies[R any, P interface {
	*R
	row
}](t *table[R, P], set map[uint32]bool, currency func(P) uint32) {
	for r := range t.live() {
		set[currency(r)] = true
	}
}

// Unconvertible returns, of currencies, those money cannot be converted
// from under c: neither the organisation currency nor given a usable rate.
func (c Config) Unconvertible(currencies []string) []string {
	var out []string
	for _, cur := range currencies {
		if _, ok := rateOf(c.ExchangeRates, cur); !ok && !strings.EqualFold(cur, c.orgCurrency()) {
			out = append(out, cur)
		}
	}
	return out
}

// fail marks the result as having no value because of a currency problem.
func (c *converter) fail(r *Result) bool {
	if c.err == "" {
		return false
	}
	r.Value = nil
	r.Detail.Error = c.err
	return true
}

// prorate returns the part of m that falls in [ws, we), by the share of
// the period [ps, pe) inside it in exact elapsed time, rounded to the
// nearest Money unit (halves away from zero). ok is false when the period
// is empty or does not overlap.
func prorate(m domain.Money, ps, pe, ws, we int64) (domain.Money, bool) {
	if pe <= ps {
		return 0, false
	}
	ov := min(pe, we) - max(ps, ws)
	if ov <= 0 {
		return 0, false
	}
	length := pe - ps
	if ov == length {
		return m, true
	}
	// m × ov can exceed int64: work in big integers.
	n := new(big.Int).Mul(big.NewInt(int64(m)), big.NewInt(ov))
	l := big.NewInt(length)
	q, rem := new(big.Int).QuoRem(n, l, new(big.Int))
	rem.Abs(rem).Lsh(rem, 1)
	if rem.Cmp(l) >= 0 {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return domain.Money(q.Int64()), true
}

// overlapShare is the share of [ps, pe) inside [ws, we), for plain values.
func overlapShare(ps, pe, ws, we int64) float64 {
	if pe <= ps {
		return 0
	}
	ov := min(pe, we) - max(ps, ws)
	if ov <= 0 {
		return 0
	}
	return float64(ov) / float64(pe-ps)
}

// moneyValue turns a Money total into the float Result value.
func moneyValue(m domain.Money) *float64 { return num(m.Float()) }

// ---------------------------------------------------------------- targets

// targetScopeMatches reports whether a target record's scope (empty for
// the organisation; a service or team name, optionally written "dim:value"
// or "dim=value") is the query's scope.
func targetScopeMatches(scope string, q Query) bool {
	if q.Scope.Dim == "" {
		return scope == ""
	}
	if q.Scope.more[0].Dim != "" {
		// A target names one group; a scope of several filters (a
		// breakdown line under a scope) has no target of its own.
		return false
	}
	if scope == q.Scope.Value {
		return true
	}
	for _, sep := range []string{":", "="} {
		if dim, v, ok := strings.Cut(scope, sep); ok && strings.TrimSpace(dim) == q.Scope.Dim && strings.TrimSpace(v) == q.Scope.Value {
			return true
		}
	}
	return false
}

// targetAt returns the value of the `target` record for the metric whose
// period holds the window's last instant (period_start < as_of ≤
// period_end: the period overlapping W at its end, SPEC §3's overlap of a
// period kind with the interval asked) and whose scope is the query's;
// when several do, the one that started last (then the greatest id) wins.
// A window ending on a period's boundary is judged by the period it
// closes: a board pack for September, as of 1 October, had been judged
// against the fourth quarter's target, which no day of it overlaps.
func (d *Dataset) targetAt(metric string, q Query) (float64, bool) {
	v, _, ok := d.targetAtFrom(metric, q)
	return v, ok
}

// targetAtFrom is targetAt with the period start of the record it reads.
func (d *Dataset) targetAtFrom(metric string, q Query) (float64, int64, bool) {
	asOf := q.end()
	var best *targetRow
	// Targets are ordered by period_start: only those started before
	// as_of.
	for t := range d.targets().through(asOf - 1) {
		if d.str(t.metric) != metric || t.end < asOf || !targetScopeMatches(d.str(t.scope), q) {
			continue
		}
		if best == nil || t.start >= best.start {
			best = t
		}
	}
	if best == nil {
		return 0, 0, false
	}
	return best.value, best.start, true
}

// targetOver sums the values of the metric's `target` records whose period
// overlaps [ws, we), each prorated by the share of its period inside it;
// covered is how much of [ws, we) they overlap (0: none does).
func (d *Dataset) targetOver(metric string, q Query, ws, we int64) (sum float64, covered int64) {
	for t := range d.targets().through(we - 1) {
		if d.str(t.metric) != metric || !targetScopeMatches(d.str(t.scope), q) {
			continue
		}
		s := overlapShare(t.start, t.end, ws, we)
		if s == 0 {
			continue
		}
		sum += t.value * s
		covered += min(t.end, we) - max(t.start, ws)
	}
	return sum, covered
}

// targetForWindow is the target for [ws, we) of a metric that sums over
// its window (Def.Sum): its `target` records overlapping the window, each
// prorated by the share of its period inside it (targetOver) — a
// quarter's target judges 30 days by a third of it, not whole (revenue at
// risk had been green against a quarter's). Where the records cover only
// part of the window (the plans begin inside it), their rate is taken
// over the whole window rather than the uncovered days read as a target
// of 0.
func (d *Dataset) targetForWindow(metric string, q Query, ws, we int64) (float64, bool) {
	sum, covered := d.targetOver(metric, q, ws, we)
	if covered == 0 {
		return 0, false
	}
	if covered < we-ws {
		sum *= float64(we-ws) / float64(covered)
	}
	return sum, true
}

// ---------------------------------------------------------------- cost metrics

// costOver sums the cost records in scope prorated into [ws, we). until
// is how far into [ws, we) the cost records reach: the latest end of a
// counted record's period, at most we (ws when none counts). Bills arrive
// after the period they cover, so the end of a window that reaches the
// present is usually not billed yet; the ratios below measure the part
// that is (reported), instead of reading the missing days as free. from
// is where they begin covering it: the earliest start of a counted
// record, at least ws (we when none counts) — a cost feed may begin
// inside the window (cost trend).
func (d *Dataset) costOver(q Query, ws, we int64, c *converter, r *Result) (total domain.Money, from, until int64) {
	from, until = we, ws
	// Cost records are ordered by period_end: only those ending after ws
	// can overlap.
	for x := range d.costs().from(ws + 1) {
		if x.start >= we || !d.matchServiceCode(q, x.service) || !d.matchCode(q, "category", x.category) {
			continue
		}
		m, ok := prorate(x.amount, x.start, x.end, ws, we)
		if !ok {
			continue
		}
		m, ok = c.to(domain.KindCost, x.id, x.currency, m)
		if !ok {
			continue
		}
		total += m
		from, until = min(from, max(x.start, ws)), max(until, min(x.end, we))
		if r != nil {
			r.Count++
			r.rowRef(q, d, x, refValue(q, m.Float()), "")
		}
	}
	return total, from, until
}

// reported is the part of the query's window the cost records cover,
// [W's start, until), as a query of its own; ok is false when no cost
// reaches into W. It notes in the result how far cost is reported when
// that is short of as_of.
func reported(q Query, until int64, r *Result) (Query, bool) {
	if until <= q.start() {
		r.Detail.Reason = "no cost reported in the window yet"
		return q, false
	}
	if until < q.end() {
		t := time.Unix(0, until).UTC()
		r.Detail.CostReportedUntil = &t
	}
	rq := q
	rq.AsOf = time.Unix(0, until).UTC()
	rq.Window = time.Duration(until - q.start())
	return rq, true
}

func infrastructureCost(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	total, _, until := d.costOver(q, q.start(), q.end(), c, &r)
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	if until > q.start() && until < q.end() {
		t := time.Unix(0, until).UTC()
		r.Detail.CostReportedUntil = &t
	}
	r.Value = moneyValue(total)
	return r
}

// costTrend compares the cost rate of the window with the window before:
// per day of reported cost, so a window whose last days are not billed yet
// does not read as a saving. When both windows are fully billed this is
// the change of their totals.
func costTrend(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	cur, from, until := d.costOver(q, q.start(), q.end(), c, &r)
	p := q.Previous()
	prev, pfrom, puntil := d.costOver(q, p.start(), p.end(), c, nil)
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	r.Detail.Current = ptr(cur.Float())
	r.Detail.Previous = ptr(prev.Float())
	if _, ok := reported(q, until, &r); !ok || puntil <= p.start() {
		return r
	}
	// Each rate over the part of its window the cost records cover, at
	// the start as at the end: where the cost feed began inside the window
	// before, its one reported day spread over a year had made a 774-fold
	// rise ("77,440 %") of a steady cost.
	curRate := cur.Float() / float64(until-from)
	prevRate := prev.Float() / float64(puntil-pfrom)
	if prevRate != 0 {
		r.Value = num(100 * (curRate - prevRate) / prevRate)
	}
	return r
}

// usage is what the `usage` records say about one window (SPEC §3 usage
// rule): active customers as a mean weighted by each record's overlap
// with W, and requests prorated like cost.
type usage struct {
	// customerTime is Σ active_customers × overlap (ns) and covered Σ
	// overlap, over the records carrying active_customers.
	customerTime, covered float64
	requests              float64
	withRequests          bool
}

// meanCustomers is the overlap-weighted mean of active_customers, ok
// false when no record carrying it overlaps W.
func (u usage) meanCustomers() (float64, bool) {
	if u.covered == 0 {
		return 0, false
	}
	return u.customerTime / u.covered, true
}

func (u *usage) add(x *usageRow, ws, we int64) {
	ps, pe := x.start, x.end
	ov := min(pe, we) - max(ps, ws)
	if x.hasActive {
		u.customerTime += x.activeCustomers * float64(ov)
		u.covered += float64(ov)
	}
	if x.hasRequests {
		u.requests += x.requests * float64(ov) / float64(pe-ps)
		u.withRequests = true
	}
}

// usageOver reads the `usage` records overlapping W. For the organisation,
// customers come only from the records without a service (customers of
// several services are not added: one customer uses many), and requests
// from those records, or — when none in W carries requests — from the sum
// of the per-service records. In a service scope, that service's records.
func (d *Dataset) usageOver(q Query, r *Result) usage {
	var org, svc usage
	var orgRefs, svcRefs []*usageRow
	ws, we := q.start(), q.end()
	// Usage is ordered by period_end: only those ending after W's start.
	for x := range d.usages().from(ws + 1) {
		if x.start >= we || x.end <= x.start {
			continue
		}
		switch {
		case q.Scope.Dim == "" && x.service == 0:
			org.add(x, ws, we)
			orgRefs = append(orgRefs, x)
		case x.service != 0 && d.matchServiceCode(q, x.service):
			svc.add(x, ws, we)
			svcRefs = append(svcRefs, x)
		}
	}
	if q.Scope.Dim != "" {
		for _, x := range svcRefs {
			r.rowRef(q, d, x, nil, "usage of "+d.str(x.service))
		}
		return svc
	}
	for _, x := range orgRefs {
		r.rowRef(q, d, x, nil, "organisation usage")
	}
	if !org.withRequests && svc.withRequests {
		org.requests, org.withRequests = svc.requests, true
		for _, x := range svcRefs {
			if x.hasRequests {
				r.rowRef(q, d, x, nil, "requests of "+d.str(x.service))
			}
		}
	}
	return org
}

// costPerActiveCustomer is a monthly figure whatever the window: the
// window's cost scaled to 30 days over the mean active customers.
func costPerActiveCustomer(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	cost, _, until := d.costOver(q, q.start(), q.end(), c, &r)
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	rq, ok := reported(q, until, &r)
	u := d.usageOver(rq, &r)
	if !ok {
		return r
	}
	monthly := cost.Float() * float64(30*day) / float64(rq.Window)
	r.Detail.Cost = ptr(cost.Float())
	r.Detail.CostPer30Days = ptr(monthly)
	mean, ok := u.meanCustomers()
	if !ok {
		what := "no usage record with active_customers overlaps the window"
		if q.Scope.Dim == "" {
			what = "no organisation-wide usage record (without a service) with active_customers overlaps the window; per-service counts do not add up"
		}
		r.Detail.Reason = what
		return r
	}
	r.Detail.MeanActiveCustomers = ptr(mean)
	if mean > 0 {
		r.Value = num(monthly / mean)
	}
	return r
}

// costPerMillionRequests divides the reported cost by the requests of the
// same reported part of the window.
func costPerMillionRequests(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	cost, _, until := d.costOver(q, q.start(), q.end(), c, &r)
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	rq, ok := reported(q, until, &r)
	u := d.usageOver(rq, &r)
	if !ok {
		return r
	}
	r.Detail.Cost = ptr(cost.Float())
	r.Detail.Requests = ptr(u.requests)
	if u.requests > 0 {
		r.Value = num(cost.Float() / (u.requests / 1e6))
	}
	return r
}

func budgetVariance(d *Dataset, q Query) Result {
	var r Result
	c := d.converter()
	start, end := q.start(), q.end()
	cost, _, until := d.costOver(q, start, end, c, &r)
	// The budget of the reported part only: a budget is set ahead, a bill
	// arrives after, and the unbilled days must not look like savings.
	rq, ok := reported(q, until, &r)
	if !ok {
		return r
	}
	end = rq.end()
	var budget domain.Money
	// Budgets are ordered by period_start: only those starting before as_of.
	for x := range d.budgets().through(end - 1) {
		if !d.matchCode(q, "category", x.category) {
			continue
		}
		m, ok := prorate(x.amount, x.start, x.end, start, end)
		if !ok {
			continue
		}
		if m, ok = c.to(domain.KindBudget, x.id, x.currency, m); !ok {
			continue
		}
		budget += m
		r.rowRef(q, d, x, refValue(q, m.Float()), "budget")
	}
	r.Detail.Currency = c.org
	if c.fail(&r) {
		return r
	}
	r.Detail.Cost = ptr(cost.Float())
	r.Detail.Budget = ptr(budget.Float())
	if budget != 0 {
		r.Value = num(100 * float64(cost-budget) / float64(budget))
	}
	return r
}

// days converts a span in ns to days of 24 h.
func days(span int64) float64 { return float64(span) / float64(day) }

// OrgTarget is the organisation's target of a metric for q's window from
// its `target` records, whatever q's scope: the one run adds to the
// organisation's value. A scope or breakdown line is not judged against it
// (SPEC §4); the scorecard names it in the line's reason, so that a line
// unknown for want of a target of its own does not read as a contradiction
// of an organisation judged beside it.
func (d *Dataset) OrgTarget(id string, q Query) (float64, bool) {
	def, err := d.defAt(id, q.AsOf)
	if err != nil || !def.Target {
		return 0, false
	}
	q.Scope = Scope{}
	if def.Sum {
		return d.targetForWindow(id, q, q.start(), q.end())
	}
	return d.targetAt(id, q)
}

// Unrated is the money of one kind held in a currency that has no
// exchange rate into the organisation currency (and is not it): the
// records are kept, but every metric converting that kind's amounts has
// no value over a window or at a time that holds one of them
// (converter.err). An import and the data sources report say so, where
// it had been said only on the cards, one metric at a time.
type Unrated struct {
	Kind     domain.Kind `json:"kind"`
	Currency string      `json:"currency"`
	Records  int64       `json:"records"`
	// Setting is the setting that would convert them:
	// "exchange_rates.EUR".
	Setting string `json:"setting"`
	// Into is the organisation currency a rate converts into.
	Into string `json:"into"`
	// Metrics are the built-in metrics that convert the kind's amounts
	// (they read it and its exchange rates), in the catalog's order. An
	// organisation's own metric converts them only if its expression
	// reads the amount, which is not known here: it is not listed.
	Metrics []string `json:"metrics"`
}

// Unrated lists, of the money held (per kind, per currency, a count of
// records), what has no exchange rate under c, by kind in the canonical
// order then currency.
func (c Config) Unrated(held map[domain.Kind]map[string]int64) []Unrated {
	var out []Unrated
	for _, k := range domain.Kinds {
		curs := held[k]
		for _, cur := range slices.Sorted(maps.Keys(curs)) {
			if curs[cur] == 0 || len(c.Unconvertible([]string{cur})) == 0 {
				continue
			}
			u := strings.ToUpper(cur)
			out = append(out, Unrated{Kind: k, Currency: u, Records: curs[cur], Setting: string(SettingExchangeRates) + "." + u,
				Into: c.orgCurrency(), Metrics: append(convertingMetrics(k), c.customConverting(k)...)})
		}
	}
	return out
}

// convertingMetrics are the built-in metrics that read kind k and convert
// money (they declare the exchange rates setting).
func convertingMetrics(k domain.Kind) []string {
	var out []string
	for _, id := range reg.ids {
		def := reg.defs[id]
		if slices.Contains(def.Reads, k) && slices.Contains(def.Settings, SettingExchangeRates) {
			out = append(out, id)
		}
	}
	return out
}

// customConverting are the organisation's metrics in force that convert
// kind k's money (Def.Converts), by id.
func (c Config) customConverting(k domain.Kind) []string {
	if c.custom == nil {
		return nil
	}
	var out []string
	for _, id := range c.custom.ids {
		if slices.Contains(c.custom.defs[id].Converts, k) {
			out = append(out, id)
		}
	}
	return out
}

// UnratedAt is Config.Unrated of the money records that exist at asOf
// (SPEC §3: a period's from its start, a subscription from its start, an
// opportunity from its creation).
func (d *Dataset) UnratedAt(asOf time.Time) []Unrated {
	held := map[domain.Kind]map[string]int64{}
	at := asOf.UnixNano()
	countCurrencies(d, d.costs(), held, at, func(r *costRow) uint32 { return r.currency })
	countCurrencies(d, d.budgets(), held, at, func(r *budgetRow) uint32 { return r.currency })
	countCurrencies(d, d.subs(), held, at, func(r *subRow) uint32 { return r.currency })
	countCurrencies(d, d.opps(), held, at, func(r *oppRow) uint32 { return r.currency })
	countCurrencies(d, d.quotas(), held, at, func(r *quotaRow) uint32 { return r.currency })
	countCurrencies(d, d.spends(), held, at, func(r *spendRow) uint32 { return r.currency })
	return d.cfg.Unrated(held)
}

// countCurrencies counts a money table's rows born by at per currency.
func countCurrencies[R any, P interface {
	*R
	row
}](d *Dataset, t *table[R, P], held map[domain.Kind]map[string]int64, at int64, currency func(P) uint32) {
	for r := range t.live() {
		if r.life().born > at {
			continue
		}
		cur := d.str(currency(r))
		if cur == "" {
			continue
		}
		k := r.kind()
		if held[k] == nil {
			held[k] = map[string]int64{}
		}
		held[k][strings.ToUpper(cur)]++
	}
}
