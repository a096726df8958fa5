package metrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

func bizCost(id, from, to, amount, svc, cat string) *domain.Cost {
	return &domain.Cost{Meta: bizMeta(id), PeriodStart: bizT(from), PeriodEnd: bizT(to), Amount: bizM(amount),
		Currency: "USD", Service: svc, Category: cat}
}

func bizUsage(id, from, to string, customers, requests *float64, svc string) *domain.Usage {
	return &domain.Usage{Meta: bizMeta(id), PeriodStart: bizT(from), PeriodEnd: bizT(to),
		ActiveCustomers: customers, Requests: requests, Service: svc}
}

func bizBudget(id, from, to, amount, cat string) *domain.Budget {
	return &domain.Budget{Meta: bizMeta(id), PeriodStart: bizT(from), PeriodEnd: bizT(to), Amount: bizM(amount),
		Currency: "USD", Category: cat}
}

// as_of 2026-03-31, W = [03-01, 03-31) (30 days), the window before
// B = [01-30, 03-01).
func bizCostData() []domain.Record {
	return []domain.Record{
		// 30-day period, 16 days of it in W (03-01..03-17): 300 × 16/30 = 160; 14 days in B: 140.
		bizCost("c1", "2026-02-15", "2026-03-17", "300", "api", "compute"),
		// wholly in W: 100.10.
		bizCost("c2", "2026-03-01", "2026-03-31", "100.10", "web", "storage"),
		// 20-day period crossing as_of, 10 days in W: 40 × 10/20 = 20.
		bizCost("c3", "2026-03-21", "2026-04-10", "40", "api", "compute"),
		// wholly in B: 30.
		bizCost("c4", "2026-01-30", "2026-02-09", "30", "api", "compute"),
		// after as_of: nothing.
		bizCost("c5", "2026-04-01", "2026-05-01", "999", "api", "compute"),
		// 31-day budget, 30 days in W: 310 × 30/31 = 300.
		bizBudget("b1", "2026-03-01", "2026-04-01", "310", "compute"),
		// 38-day budget, 10 days in W (03-01..03-11): 380 × 10/38 = 100.
		bizBudget("b2", "2026-02-01", "2026-03-11", "380", "storage"),
		// Per-service usage overlapping W: u1, u2; u3 ends at W's start,
		// u4 starts at as_of.
		bizUsage("u1", "2026-03-01", "2026-03-02", bizF(100), bizF(2e6), "api"),
		bizUsage("u2", "2026-03-15", "2026-03-16", bizF(300), bizF(3e6), "web"),
		bizUsage("u3", "2026-02-28", "2026-03-01", bizF(1000), bizF(9e6), "api"),
		bizUsage("u4", "2026-03-31", "2026-04-01", bizF(1000), bizF(9e6), "api"),
		// Organisation-wide usage: requests from u5; customers from u6
		// (10 days in W) and u7 (20 of its 30 days in W).
		bizUsage("u5", "2026-03-20", "2026-03-21", nil, bizF(1e6), ""),
		bizUsage("u6", "2026-03-01", "2026-03-11", bizF(200), nil, ""),
		bizUsage("u7", "2026-03-11", "2026-04-10", bizF(50), nil, ""),
	}
}

func TestCostMetrics(t *testing.T) {
	d := bizDS(nil, bizCostData()...)
	early := bizT("2026-01-01")
	bizRun(t, d, []bizCase{
		// 160 + 100.10 + 20 = 280.10.
		{"cost", "infrastructure_cost", bizQ(bizAsOf), bizF(280.10)},
		// compute: 160 + 20 = 180; storage: 100.10.
		{"cost compute", "infrastructure_cost", bizQ(bizAsOf, "category", "compute"), bizF(180)},
		{"cost storage", "infrastructure_cost", bizQ(bizAsOf, "category", "storage"), bizF(100.10)},
		{"cost service api", "infrastructure_cost", bizQ(bizAsOf, "service", "api"), bizF(180)},
		// No cost record exists by 2026-01-01 (SPEC §4): no value, not 0.
		{"cost none", "infrastructure_cost", bizQ(early), nil},
		// Cost data exists (c4 from 01-30) but nothing overlaps
		// [2026-01-29, 2026-01-30): a sum, so 0.
		{"cost nothing in W", "infrastructure_cost", Query{AsOf: bizT("2026-01-30"), Window: day}, bizF(0)},
		// B: c1 140 + c4 30 = 170; (280.10 − 170) / 170 × 100 = 64.7058823…
		{"trend", "cost_trend", bizQ(bizAsOf), bizF(100 * 110.10 / 170)},
		// api: W 180, B 170 → 10 / 170 × 100.
		{"trend api", "cost_trend", bizQ(bizAsOf, "service", "api"), bizF(100 * 10.0 / 170)},
		// Nothing in the window before: no value.
		{"trend no previous", "cost_trend", bizQ(bizT("2026-03-01")), nil},
		// Organisation customers from u6, u7 only, weighted by their days in
		// W: (200 × 10 + 50 × 20) / 30 = 100; a 30-day window's cost is
		// already monthly: 280.10 / 100.
		{"per customer", "cost_per_active_customer", bizQ(bizAsOf), bizF(2.801)},
		// api: 180 / u1's 100.
		{"per customer api", "cost_per_active_customer", bizQ(bizAsOf, "service", "api"), bizF(1.8)},
		{"per customer none", "cost_per_active_customer", bizQ(early), nil},
		// Organisation requests from the record without a service, u5 (the
		// per-service u1, u2 are not added to it): 280.10 / 1.
		{"per million", "cost_per_million_requests", bizQ(bizAsOf), bizF(280.10)},
		// api: 180 / u1's 2.
		{"per million api", "cost_per_million_requests", bizQ(bizAsOf, "service", "api"), bizF(90)},
		{"per million none", "cost_per_million_requests", bizQ(early), nil},
		// Budget 300 + 100 = 400: (280.10 − 400) / 400 × 100 = −29.975.
		{"budget variance", "budget_variance", bizQ(bizAsOf), bizF(-29.975)},
		// compute: (180 − 300) / 300 × 100 = −40.
		{"budget variance compute", "budget_variance", bizQ(bizAsOf, "category", "compute"), bizF(-40)},
		// No budget overlaps W: no value.
		{"budget variance none", "budget_variance", bizQ(early), nil},
	})

	g, err := d.Breakdown("infrastructure_cost", bizQ(bizAsOf), "category")
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 2 || g[0].Key != "compute" || g[1].Key != "storage" {
		t.Fatalf("breakdown = %+v, want compute and storage", g)
	}
	bizCheck(t, "compute", g[0].Result, bizF(180))

	q := bizQ(bizAsOf)
	q.Records = true
	r := bizCompute(t, d, "infrastructure_cost", q)
	if len(r.Records) != 3 || r.Records[0].Value == nil {
		t.Fatalf("records = %+v, want c1, c2, c3 with contributions", r.Records)
	}
	for _, ref := range r.Records {
		if ref.ID == "c1" && *ref.Value != 160 {
			t.Errorf("c1 contributes %v, want 160", *ref.Value)
		}
	}
}

// A cost feed that began inside the window before is read over the days
// it covers: a steady 100 a day from the last day of B on is no change,
// where its one day spread over B's 30 had made a 2,900 % rise.
func TestCostTrendFromTheFeedsStart(t *testing.T) {
	d := bizDS(nil,
		bizCost("f1", "2026-02-28", "2026-03-01", "100", "api", "compute"),
		bizCost("f2", "2026-03-01", "2026-03-31", "3000", "api", "compute"))
	bizRun(t, d, []bizCase{
		{"trend from the feed's start", "cost_trend", bizQ(bizAsOf), bizF(0)},
	})
}

func TestCostMoneyExact(t *testing.T) {
	// Three amounts of 0.1 sum to exactly 0.3 (as float64, 0.1 + 0.1 + 0.1 is 0.30000000000000004).
	d := bizDS(nil,
		bizCost("a", "2026-03-02", "2026-03-03", "0.1", "", ""),
		bizCost("b", "2026-03-04", "2026-03-05", "0.1", "", ""),
		bizCost("c", "2026-03-06", "2026-03-07", "0.1", "", ""),
	)
	r := bizCompute(t, d, "infrastructure_cost", bizQ(bizAsOf))
	if r.Value == nil || *r.Value != 0.3 {
		t.Fatalf("cost = %v, want exactly 0.3", r.Value)
	}
}

func TestProrate(t *testing.T) {
	const h = int64(3_600_000_000_000)
	cases := []struct {
		name           string
		m              domain.Money
		ps, pe, ws, we int64
		want           domain.Money
		ok             bool
	}{
		// 1 unit over 3 h, 1 h inside: 1 000 000 / 3 = 333 333.33 → 333 333.
		{"third", 1_000_000, 0, 3 * h, 0, h, 333_333, true},
		// 2 h inside: 666 666.67 → 666 667.
		{"two thirds", 1_000_000, 0, 3 * h, h, 5 * h, 666_667, true},
		// A half Money unit rounds away from zero: 1 / 2 → 1, −1 / 2 → −1.
		{"half up", 1, 0, 2 * h, 0, h, 1, true},
		{"half negative", -1, 0, 2 * h, 0, h, -1, true},
		// Wholly inside: unchanged.
		{"inside", 123, h, 2 * h, 0, 3 * h, 123, true},
		// Touching edges do not overlap; an empty period adds nothing.
		{"touching", 123, 0, h, h, 2 * h, 0, false},
		{"empty period", 123, h, h, 0, 2 * h, 0, false},
		// Large amounts do not overflow: 9e12 units × (1 year of ns) / 2 years.
		{"large", 9_000_000_000_000_000_000, 0, 2 * 8760 * h, 0, 8760 * h, 4_500_000_000_000_000_000, true},
	}
	for _, c := range cases {
		got, ok := prorate(c.m, c.ps, c.pe, c.ws, c.we)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: prorate = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestCostCurrencies(t *testing.T) {
	eur := func(id, from, to, amount string) *domain.Cost {
		c := bizCost(id, from, to, amount, "api", "compute")
		c.Currency = "EUR"
		return c
	}
	recs := []domain.Record{
		bizCost("c-1", "2026-03-02", "2026-03-03", "5", "api", "compute"),
		eur("c-17", "2026-03-02", "2026-03-03", "100"),
		// 0.000005 EUR × 1.1 = 5.5 millionths → rounds to 0.000006.
		eur("c-18", "2026-03-04", "2026-03-05", "0.000005"),
		// Outside W: its currency does not matter for W.
		func() *domain.Cost { c := eur("c-19", "2025-01-01", "2025-01-02", "7"); c.Currency = "JPY"; return c }(),
	}
	// No rate: no value, and the reason names the record.
	d := bizDS(nil, recs...)
	r := bizCompute(t, d, "infrastructure_cost", bizQ(bizAsOf))
	bizCheck(t, "no rate", r, nil)
	if want := "cost c-17 is in EUR but no exchange rate EUR→USD is configured"; r.Detail.Error != want {
		t.Errorf("error = %v, want %q", r.Detail.Error, want)
	}
	for _, m := range []string{"cost_trend", "cost_per_million_requests", "budget_variance"} {
		if r := bizCompute(t, d, m, bizQ(bizAsOf)); r.Value != nil || r.Detail.Error == "" {
			t.Errorf("%s = %+v, want no value with an error", m, r)
		}
	}
	// Scoped away from the EUR records (category storage has none) there
	// is no cost record at all: no value, and no currency error either.
	if r := bizCompute(t, d, "infrastructure_cost", bizQ(bizAsOf, "category", "storage")); r.Value != nil || r.Detail.Error != "" {
		t.Errorf("other scope = %+v, want no value without a currency error", r)
	}

	// With a rate: 5 + 100 × 1.1 + 0.000006 = 115.000006.
	cfg := DefaultConfig()
	cfg.ExchangeRates = map[string]float64{"EUR": 1.1}
	d = bizDS(&cfg, recs...)
	r = bizCompute(t, d, "infrastructure_cost", bizQ(bizAsOf))
	if r.Value == nil || *r.Value != 115.000006 {
		t.Fatalf("converted cost = %v (detail %v), want exactly 115.000006", r.Value, r.Detail)
	}

	// Organisation currency EUR: USD at 0.5 EUR → 5 × 0.5 + 100 + 0.000005 = 102.500005.
	cfg = DefaultConfig()
	cfg.Currency = "EUR"
	cfg.ExchangeRates = map[string]float64{"USD": 0.5}
	d = bizDS(&cfg, recs...)
	r = bizCompute(t, d, "infrastructure_cost", bizQ(bizAsOf))
	if r.Value == nil || *r.Value != 102.500005 || r.Detail.Currency != "EUR" {
		t.Fatalf("EUR cost = %v (detail %v), want exactly 102.500005 EUR", r.Value, r.Detail)
	}
}

func TestBusinessTargets(t *testing.T) {
	tgt := func(id, metric, from, to string, v float64, scope string) *domain.Target {
		return &domain.Target{Meta: bizMeta(id), Metric: metric, PeriodStart: bizT(from), PeriodEnd: bizT(to), Value: v, Scope: scope}
	}
	d := bizDS(nil, append(bizCostData(),
		tgt("t1", "cost_per_active_customer", "2026-01-01", "2026-04-01", 2, ""),
		tgt("t2", "cost_per_active_customer", "2026-03-01", "2026-04-01", 1.5, ""), // started later: wins
		tgt("t3", "cost_per_active_customer", "2026-03-01", "2026-04-01", 3, "api"),
		tgt("t4", "cost_per_active_customer", "2026-03-31", "2026-04-30", 9, ""), // starts at as_of: no day of W in it
		tgt("t5", "cost_per_active_customer", "2026-04-01", "2026-05-01", 7, ""), // not yet
		tgt("t6", "cost_per_active_customer", "2026-05-01", "2026-06-01", 4, ""), // ends at an as_of: the window it closes
	)...)
	cases := []struct {
		name string
		q    Query
		want *float64
	}{
		{"latest holding W's end", bizQ(bizAsOf), ptr(1.5)},
		{"inside t4", bizQ(bizT("2026-04-01")), ptr(9.0)},
		{"before t4", bizQ(bizT("2026-03-30")), ptr(1.5)},
		{"at t6's end", bizQ(bizT("2026-06-01")), ptr(4.0)},
		{"scoped", bizQ(bizAsOf, "service", "api"), ptr(3.0)},
		{"none for scope", bizQ(bizAsOf, "service", "web"), nil},
		{"ended", bizQ(bizT("2026-06-02")), nil},
	}
	for _, c := range cases {
		r := bizCompute(t, d, "cost_per_active_customer", c.q)
		if got := r.Detail.Target; fmtVal(got) != fmtVal(c.want) {
			t.Errorf("%s: target = %s, want %s", c.name, fmtVal(got), fmtVal(c.want))
		}
	}
}

// periodShape cuts [from, to) into the periods a source might bill in.
type periodShape func(from, to time.Time) [][2]time.Time

func everyDays(n int) periodShape {
	return func(from, to time.Time) [][2]time.Time {
		var out [][2]time.Time
		for t := from; t.Before(to); t = t.AddDate(0, 0, n) {
			out = append(out, [2]time.Time{t, minTime(t.AddDate(0, 0, n), to)})
		}
		return out
	}
}

func everyMonths(n int) periodShape {
	return func(from, to time.Time) [][2]time.Time {
		var out [][2]time.Time
		for t := from; t.Before(to); t = t.AddDate(0, n, 0) {
			out = append(out, [2]time.Time{t, minTime(t.AddDate(0, n, 0), to)})
		}
		return out
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// mixedShape: a quarter, then a month of days, a month of weeks (Feb 2026
// is exactly four), then calendar months.
func mixedShape(from, to time.Time) [][2]time.Time {
	q1, feb, mar := bizT("2026-01-01"), bizT("2026-02-01"), bizT("2026-03-01")
	out := [][2]time.Time{{from, q1}}
	out = append(out, everyDays(1)(q1, feb)...)
	out = append(out, everyDays(7)(feb, mar)...)
	return append(out, everyMonths(1)(mar, to)...)
}

// Cost, budget, spend and usage arrive in periods of any length; whichever
// way a window cuts them, a steady organisation gives the same answer:
// cost 10 a day, budget 8 a day, sales spend 6 a day, 50 active customers
// and 2 000 requests a day, one new customer a day at noon. Each kind
// comes in every shape, and in a mix where each kind has its own.
func TestPeriodsCutAnyWay(t *testing.T) {
	from, to := bizT("2025-10-01"), bizT("2026-07-01")
	shapes := map[string]periodShape{
		"daily": everyDays(1), "weekly": everyDays(7), "monthly": everyMonths(1), "quarterly": everyMonths(3), "mixed": mixedShape,
	}
	build := func(cost, budget, spend, usage periodShape) *Dataset {
		var recs []domain.Record
		n := 0
		id := func(p string) string { n++; return fmt.Sprintf("%s%d", p, n) }
		days := func(p [2]time.Time) float64 { return p[1].Sub(p[0]).Hours() / 24 }
		money := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
		for _, p := range cost(from, to) {
			recs = append(recs, bizCost(id("c"), p[0].Format(time.RFC3339), p[1].Format(time.RFC3339), money(10*days(p)), "", ""))
		}
		for _, p := range budget(from, to) {
			recs = append(recs, bizBudget(id("b"), p[0].Format(time.RFC3339), p[1].Format(time.RFC3339), money(8*days(p)), ""))
		}
		for _, p := range spend(from, to) {
			recs = append(recs, &domain.Spend{Meta: bizMeta(id("s")), PeriodStart: p[0], PeriodEnd: p[1], Category: "sales", Amount: bizM(money(6 * days(p))), Currency: "USD"})
		}
		for _, p := range usage(from, to) {
			recs = append(recs, bizUsage(id("u"), p[0].Format(time.RFC3339), p[1].Format(time.RFC3339), bizF(50), bizF(2000*days(p)), ""))
		}
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			recs = append(recs, bizSub(id("sub"), id("cust"), "", d.Add(12*time.Hour).Format(time.RFC3339), "", "100"))
		}
		return bizDS(nil, recs...)
	}
	sets := map[string]*Dataset{"mixed across kinds": build(everyMonths(1), everyMonths(3), everyDays(1), everyDays(7))}
	for name, s := range shapes {
		sets[name] = build(s, s, s, s)
	}
	// The last four run past the data, which ends on 07-01 like a bill not
	// yet received for July: the unbilled days are not read as free.
	asOfs := []time.Time{bizT("2026-03-01"), bizT("2026-03-01T00:00:01Z"), bizT("2026-03-17T13:45:00Z"), bizT("2026-05-15T06:00:00Z"),
		bizT("2026-07-01"), bizT("2026-07-01T17:00:00Z"), bizT("2026-07-02T12:00:00Z"), bizT("2026-07-20")}
	windows := []time.Duration{day, 7 * day, 30 * day, 45*day + 7*time.Hour, 90 * day}
	for name, d := range sets {
		for _, asOf := range asOfs {
			for _, w := range windows {
				q := Query{AsOf: asOf, Window: w}
				days := w.Hours() / 24
				// New customers: one a day at noon, started in W.
				newCust := 0
				for t := from.Add(12 * time.Hour); t.Before(to); t = t.AddDate(0, 0, 1) {
					if !t.Before(asOf.Add(-w)) && t.Before(asOf) {
						newCust++
					}
				}
				// Cost is reported up to the end of the data.
				reportedDays := min(days, to.Sub(asOf.Add(-w)).Hours()/24)
				if reportedDays <= 0 {
					continue
				}
				for _, c := range []struct {
					metric string
					want   float64
				}{
					{"infrastructure_cost", 10 * reportedDays},
					{"budget_variance", 100 * (10.0 - 8) / 8},
					// The same rate in both windows: per reported day.
					{"cost_trend", 0},
					// Per 30 days, whatever the window: 10 × 30 ÷ 50.
					{"cost_per_active_customer", 6},
					{"cost_per_million_requests", 10 / 2000.0 * 1e6},
					{"cac", 6 * days / float64(newCust)},
				} {
					if c.metric == "cac" && asOf.After(to) {
						continue // spend and subscriptions end with the data too
					}
					if c.metric == "cost_trend" && w > 45*day && asOf.Before(from.Add(2*w)) {
						continue // the window before starts ahead of the data
					}
					r := bizCompute(t, d, c.metric, q)
					// Money is prorated to millionths: a trend of a few
					// cents is rounding.
					if r.Value == nil || math.Abs(*r.Value-c.want) > 1e-4*math.Max(1, math.Abs(c.want)) {
						t.Errorf("%s, as of %s, window %s: %s = %s, want %v (detail %v)", name, asOf.Format(time.RFC3339),
							w, c.metric, fmtVal(r.Value), c.want, r.Detail)
					}
				}
			}
		}
	}
}

// SPEC §3 usage rule: organisation-level active customers come from usage
// records without a service; requests from those too, or — when none in W
// carries requests — from the sum of the per-service records (requests add
// up, customers do not). Per-service records serve their service's scope.
// as_of 2026-03-31, W = [03-01, 03-31): 30 of March's 31 days.
func TestUsageRule(t *testing.T) {
	month := func(id string, customers, requests *float64, svc string) *domain.Usage {
		return bizUsage(id, "2026-03-01", "2026-04-01", customers, requests, svc)
	}
	costs := []domain.Record{
		// 310 for March in all, 300 of it in W: api 150, web 90, shared 60.
		bizCost("api", "2026-03-01", "2026-04-01", "155", "api", ""),
		bizCost("web", "2026-03-01", "2026-04-01", "93", "web", ""),
		bizCost("shared", "2026-03-01", "2026-04-01", "62", "", ""),
	}
	perService := []domain.Record{
		month("u-api", bizF(70), bizF(600_000), "api"),
		month("u-web", bizF(60), bizF(500_000), "web"),
	}
	share := 30.0 / 31
	cases := []struct {
		name               string
		usage              []domain.Record
		scope              []string
		perCustomer, perMR *float64
	}{
		{
			name:  "organisation records beside per-service ones",
			usage: append([]domain.Record{month("u-org", bizF(100), bizF(1_000_000), "")}, perService...),
			// 300 × 30/30 ÷ 100; 300 ÷ (1e6 × 30/31 ÷ 1e6). The per-service
			// records are not averaged in (today's mean would be 76.7).
			perCustomer: bizF(3), perMR: bizF(300 / share),
		},
		{
			name:        "only per-service records",
			usage:       perService,
			perCustomer: nil, // 70 + 60 is not the organisation's customer count
			perMR:       bizF(300 / (1.1 * share)),
		},
		{
			name: "organisation records outside W only",
			usage: append([]domain.Record{bizUsage("u-feb", "2026-02-01", "2026-03-01", bizF(100), bizF(1e9), "")},
				perService...),
			perCustomer: nil, perMR: bizF(300 / (1.1 * share)),
		},
		{
			name: "organisation records without requests",
			usage: append([]domain.Record{month("u-org", bizF(100), nil, "")},
				perService...),
			perCustomer: bizF(3), perMR: bizF(300 / (1.1 * share)),
		},
		{
			name:        "a service's own records",
			usage:       append([]domain.Record{month("u-org", bizF(100), bizF(1_000_000), "")}, perService...),
			scope:       []string{"service", "api"},
			perCustomer: bizF(150.0 / 70), perMR: bizF(150 / (0.6 * share)),
		},
	}
	for _, c := range cases {
		d := bizDS(nil, append(slices.Clone(costs), c.usage...)...)
		q := bizQ(bizAsOf, c.scope...)
		bizCheck(t, c.name+": cost_per_active_customer", bizCompute(t, d, "cost_per_active_customer", q), c.perCustomer)
		bizCheck(t, c.name+": cost_per_million_requests", bizCompute(t, d, "cost_per_million_requests", q), c.perMR)
	}
}
