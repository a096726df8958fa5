package metrics

import (
	"reflect"
	"testing"

	"github.com/candor/candor/internal/domain"
)

func TestRevenue(t *testing.T) {
	// as_of 2026-03-31; T0 = as_of − 365 d = 2025-03-31.
	d := bizDS(nil,
		bizSub("a1", "A", "pro", "2025-01-01", "", "100"),
		bizSub("a2", "A", "addon", "2025-10-01", "", "50"), // expansion after T0
		bizSub("b1", "B", "pro", "2025-01-01", "2026-03-31", "50.5"),
		bizSub("e1", "E", "pro", "2024-06-01", "2025-12-01", "200"), // contraction by plan change
		bizSub("e2", "E", "basic", "2025-12-01", "", "80"),
		bizSub("f1", "F", "basic", "2025-03-31", "", "10"), // started exactly at T0: in the cohort
		bizSub("c1", "C", "basic", "2026-03-01", "", "0.1"),
		bizSub("c2", "C", "basic", "2026-03-01", "", "0.1"),
		bizSub("c3", "C", "basic", "2026-03-01", "", "0.1"),
		bizSub("g1", "G", "pro", "2026-04-05", "", "1000"), // not started yet
	)
	bizRun(t, d, []bizCase{
		// Active at as_of: a1 100 + a2 50 + e2 80 + f1 10 + c1..c3 0.3 = 240.3 (b1 ended at as_of).
		{"mrr", "mrr", bizQ(bizAsOf), bizF(240.3)},
		// basic: e2 80 + f1 10 + 0.3 = 90.3.
		{"mrr basic", "mrr", bizQ(bizAsOf, "plan", "basic"), bizF(90.3)},
		{"arr", "arr", bizQ(bizAsOf), bizF(12 * 240.3)},
		// No subscription exists by then (SPEC §4): no value, not 0.
		{"mrr before any", "mrr", bizQ(bizT("2024-01-01")), nil},
		{"arr before any", "arr", bizQ(bizT("2024-01-01")), nil},
		// Cohort at T0: A 100, B 50.5, E 200, F 10 = 360.5. At as_of: A 150, B 0, E 80, F 10 = 240.
		{"nrr", "nrr", bizQ(bizAsOf), bizF(100 * 240 / 360.5)},
		// min per customer: 100 + 0 + 80 + 10 = 190.
		{"grr", "grr", bizQ(bizAsOf), bizF(100 * 190 / 360.5)},
		// Nobody active at T0 = 2024-01-01: no value.
		{"nrr empty", "nrr", bizQ(bizT("2025-01-01")), nil},
		{"grr empty", "grr", bizQ(bizT("2025-01-01")), nil},
	})
	// Three amounts of 0.1 on their own: exactly 0.3, and 12 × 0.3 exactly 3.6.
	exact := bizDS(nil, bizSub("c1", "C", "", "2026-03-01", "", "0.1"), bizSub("c2", "C", "", "2026-03-01", "", "0.1"),
		bizSub("c3", "C", "", "2026-03-01", "", "0.1"))
	if r := bizCompute(t, exact, "mrr", bizQ(bizAsOf)); r.Value == nil || *r.Value != 0.3 {
		t.Errorf("mrr = %v, want exactly 0.3", r.Value)
	}
	if r := bizCompute(t, exact, "arr", bizQ(bizAsOf)); r.Value == nil || *r.Value != 3.6 {
		t.Errorf("arr = %v, want exactly 3.6", r.Value)
	}

	// A subscription in GBP without a rate: no value, with the reason.
	gbp := bizSub("x9", "X", "", "2026-01-01", "", "10")
	gbp.Currency = "GBP"
	d = bizDS(nil, bizSub("a1", "A", "", "2025-01-01", "", "100"), gbp)
	r := bizCompute(t, d, "mrr", bizQ(bizAsOf))
	bizCheck(t, "mrr GBP", r, nil)
	if want := "subscription x9 is in GBP but no exchange rate GBP→USD is configured"; r.Detail.Error != want {
		t.Errorf("error = %v, want %q", r.Detail.Error, want)
	}
	// With GBP at 1.25: 100 + 12.5.
	cfg := DefaultConfig()
	cfg.ExchangeRates = map[string]float64{"GBP": 1.25}
	d = bizDS(&cfg, bizSub("a1", "A", "", "2025-01-01", "", "100"), gbp)
	bizRun(t, d, []bizCase{{"mrr GBP converted", "mrr", bizQ(bizAsOf), bizF(112.5)}})
}

type bizOpp struct {
	id, owner, created, qualified, closed string
	won                                   bool
	closeDate, amount                     string
}

func (o bizOpp) rec() *domain.Opportunity {
	r := &domain.Opportunity{Meta: bizMeta(o.id), Owner: o.owner, CreatedAt: bizT(o.created), Won: o.won,
		Amount: bizM(o.amount), Currency: "USD", Stage: "x"}
	if o.qualified != "" {
		r.QualifiedAt = bizT(o.qualified)
	}
	if o.closed != "" {
		r.ClosedAt = bizT(o.closed)
	}
	if o.closeDate != "" {
		r.CloseDate = bizDate(o.closeDate)
	}
	return r
}

func bizQuota(id, owner, from, to, amount string) *domain.Quota {
	return &domain.Quota{Meta: bizMeta(id), Owner: owner, PeriodStart: bizT(from), PeriodEnd: bizT(to), Amount: bizM(amount), Currency: "USD"}
}

func bizSalesData() []domain.Record {
	recs := []domain.Record{
		bizQuota("q1", "alice", "2026-01-01", "2026-04-01", "1000"),
		bizQuota("q2", "bob", "2026-01-01", "2026-04-01", "500"),
		bizQuota("q3", "alice", "2026-04-01", "2026-07-01", "2000"),
	}
	for _, o := range []bizOpp{
		{"o1", "alice", "2026-01-05", "2026-01-06", "2026-02-10", true, "2026-02-10", "300"},
		{"o2", "bob", "2026-02-28", "2026-03-01", "2026-03-30", true, "2026-03-30", "200"},
		{"o3", "carol", "2026-03-01", "", "2026-03-15T12:00:00Z", true, "", "100"}, // never qualified, no quota
		{"o4", "alice", "2025-11-01", "2025-11-02", "2025-12-20", true, "", "999"},
		{"o5", "alice", "2026-02-01", "2026-02-02", "", false, "2026-03-31", "400"},
		{"o6", "alice", "2026-02-01", "2026-02-02", "", false, "2026-04-01", "500"},
		{"o7", "bob", "2025-12-01", "2025-12-02", "", false, "2026-01-15", "250"}, // overdue, in Q1
		{"o8", "bob", "2026-02-01", "", "", false, "2026-03-20", "1000"},          // never qualified
		{"o9", "bob", "2026-02-01", "2026-04-02", "", false, "2026-05-01", "90"},  // qualified after as_of
		{"o10", "alice", "2026-02-01", "2026-03-01", "2026-03-10", false, "", "50"},
		{"o11", "alice", "2026-02-01", "2026-02-05", "2026-04-02", true, "2026-03-25", "120"}, // closes after as_of
		{"o12", "alice", "2026-03-01", "2026-03-02", "2026-04-01", true, "2026-04-01", "70"},  // won at Q2's start
		{"o13", "alice", "2026-02-01", "2026-03-20", "2026-03-12", false, "", "60"},           // qualified after closing
		{"o14", "bob", "2026-02-01", "2026-04-03", "2026-03-05", false, "", "80"},             // qualified after as_of
	} {
		recs = append(recs, o.rec())
	}
	return recs
}

func TestSales(t *testing.T) {
	d := bizDS(nil, bizSalesData()...)
	apr1, apr2 := bizT("2026-04-01"), bizT("2026-04-02")
	bizRun(t, d, []bizCase{
		// As of 03-31, P = Q1 [01-01, 04-01), quotas 1000 + 500 = 1500. Open and qualified with a close
		// date in [01-01, 04-01): o5 400, o7 250, o11 120 = 770 (o6, o12 close 04-01: end date excluded;
		// o8 never qualified; o9 qualified after as_of). Won in [01-01, 03-31): o1 300 + o2 200 + o3 100
		// (no quota, still counted) = 600. 770 / (1500 − 600).
		{"coverage", "pipeline_coverage", bizQ(bizAsOf), bizF(770.0 / 900)},
		// alice: (400 + 120) / (1000 − 300).
		{"coverage alice", "pipeline_coverage", bizQ(bizAsOf, "owner", "alice"), bizF(520.0 / 700)},
		// bob: 250 / (500 − 200).
		{"coverage bob", "pipeline_coverage", bizQ(bizAsOf, "owner", "bob"), bizF(250.0 / 300)},
		// carol has no quota: no period, no value.
		{"coverage carol", "pipeline_coverage", bizQ(bizAsOf, "owner", "carol"), nil},
		// As of 04-02, P = Q2 [04-01, 07-01), quota 2000; won in [04-01, 04-02): o12 70. Open: o6 500
		// (close 04-01, start date included), o9 90 (qualified at as_of) → 590 / 1930.
		{"coverage next period", "pipeline_coverage", bizQ(apr2), bizF(590.0 / 1930)},
		// Before any quota: no value.
		{"coverage no period", "pipeline_coverage", bizQ(bizT("2025-12-15")), nil},

		// 600 / 1500 = 40 %; alice 300 / 1000; bob 200 / 500; carol no quota.
		{"attainment", "quota_attainment", bizQ(bizAsOf), bizF(40)},
		{"attainment alice", "quota_attainment", bizQ(bizAsOf, "owner", "alice"), bizF(30)},
		{"attainment bob", "quota_attainment", bizQ(bizAsOf, "owner", "bob"), bizF(40)},
		{"attainment carol", "quota_attainment", bizQ(bizAsOf, "owner", "carol"), nil},
		// As of exactly 04-01 Q1 has ended (as_of < period_end fails) and Q2 has begun: nothing won in
		// [04-01, 04-01) → 0.
		{"attainment at boundary", "quota_attainment", bizQ(apr1), bizF(0)},
		// As of 04-02: o12 closed at 04-01 00:00 counts, o11 closed at as_of does not → 70 / 2000.
		{"attainment next day", "quota_attainment", bizQ(apr2), bizF(3.5)},
		{"attainment no period", "quota_attainment", bizQ(bizT("2025-12-15")), nil},

		// Closed in W with qualified_at ≤ as_of: o2 won, o10 lost, o13 lost (qualified after closing);
		// o3 never qualified and o14 qualified after as_of are left out → 1 / 3.
		{"win rate", "win_rate", bizQ(bizAsOf), bizF(100.0 / 3)},
		{"win rate alice", "win_rate", bizQ(bizAsOf, "owner", "alice"), bizF(0)},
		{"win rate bob", "win_rate", bizQ(bizAsOf, "owner", "bob"), bizF(100)},
		{"win rate carol", "win_rate", bizQ(bizAsOf, "owner", "carol"), nil},
		// Won in W: o2 30 d (02-28 → 03-30), o3 14.5 d → mean 22.25.
		{"cycle", "sales_cycle_length", bizQ(bizAsOf), bizF(22.25)},
		{"cycle bob", "sales_cycle_length", bizQ(bizAsOf, "owner", "bob"), bizF(30)},
		{"cycle alice", "sales_cycle_length", bizQ(bizAsOf, "owner", "alice"), nil},
		// Open at as_of, any close date: o5, o6, o7, o11, o12 = 5; mean won amount (200 + 100) / 2 = 150;
		// win rate 1/3; cycle 22.25 → 5 × 150 × 1/3 / 22.25.
		{"velocity", "sales_velocity", bizQ(bizAsOf), bizF(250 / 22.25)},
		{"velocity nothing won", "sales_velocity", bizQ(bizT("2026-01-20")), nil},
	})
	// Velocity's sample is the deals won in W (its mean amount and cycle
	// rest on them), not the open ones it multiplies by.
	if r := bizCompute(t, d, "sales_velocity", bizQ(bizAsOf)); r.Count != 2 {
		t.Errorf("sales_velocity count = %d, want the 2 deals won in W", r.Count)
	}
	r := bizCompute(t, d, "quota_attainment", bizQ(bizAsOf))
	// Elapsed share of Q1 at 03-31: 89 of 90 days.
	if v := r.Detail.ElapsedShare; v == nil || !bizClose(*v, 89.0/90) {
		t.Errorf("elapsed_share = %s, want 89/90", fmtVal(v))
	}
	r = bizCompute(t, d, "quota_attainment", bizQ(apr2))
	if v := r.Detail.ElapsedShare; v == nil || !bizClose(*v, 1.0/91) {
		t.Errorf("elapsed_share = %s, want 1/91", fmtVal(v))
	}
	g, err := d.Breakdown("quota_attainment", bizQ(bizAsOf), "owner")
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 3 || g[0].Key != "alice" || g[1].Key != "bob" || g[2].Key != "carol" {
		t.Errorf("owners = %+v", g)
	}

	// Nothing remains: dave's quota of 100 is met by a 100 won deal → no value; attainment 100 %.
	met := bizDS(nil, bizQuota("qd", "dave", "2026-01-01", "2026-04-01", "100"),
		bizOpp{"od", "dave", "2026-01-02", "2026-01-03", "2026-02-01", true, "2026-02-01", "100"}.rec(),
		bizOpp{"oe", "dave", "2026-01-02", "2026-01-03", "", false, "2026-03-01", "500"}.rec())
	bizRun(t, met, []bizCase{
		{"coverage met", "pipeline_coverage", bizQ(bizAsOf), nil},
		{"attainment met", "quota_attainment", bizQ(bizAsOf), bizF(100)},
	})

	// Amounts in EUR at 2 USD: dave's quota 100 EUR = 200 USD, won 25 EUR = 50 → 25 %.
	cfg := DefaultConfig()
	cfg.ExchangeRates = map[string]float64{"EUR": 2}
	q := bizQuota("qd", "dave", "2026-01-01", "2026-04-01", "100")
	q.Currency = "EUR"
	o := bizOpp{"od", "dave", "2026-01-02", "2026-01-03", "2026-02-01", true, "2026-02-01", "25"}.rec()
	o.Currency = "EUR"
	bizRun(t, bizDS(&cfg, q, o), []bizCase{{"attainment EUR", "quota_attainment", bizQ(bizAsOf), bizF(25)}})
	r = bizCompute(t, bizDS(nil, q, o), "quota_attainment", bizQ(bizAsOf))
	if r.Value != nil || r.Detail.Error != "quota qd is in EUR but no exchange rate EUR→USD is configured" {
		t.Errorf("attainment without rate = %v, %v", r.Value, r.Detail)
	}
}

// A query over a span closing at as_of (Query.Closing: a board pack's
// month) reads the quota period holding the span's last instant: as of
// 1 April, the first quarter, which March closes, where SPEC's rule for an
// instant reads the second, just begun (0 %). Away from a boundary the two
// agree, and the plain query keeps SPEC's rule (TestSales' "at boundary").
func TestQuotaPeriodClosingAtAsOf(t *testing.T) {
	d := bizDS(nil, bizSalesData()...)
	apr1 := bizT("2026-04-01")
	closing := func(q Query) Query { q.Closing = true; return q }
	// The plain query first, so that a cache keyed without Closing would
	// serve its 0 % to the closing one.
	bizRun(t, d, []bizCase{
		{"attainment at boundary", "quota_attainment", bizQ(apr1), bizF(0)},
		// Q2's: o6 500 closing 04-01 (o9 is qualified a day later) of 2000.
		{"coverage at boundary", "pipeline_coverage", bizQ(apr1), bizF(500.0 / 2000)},
		// Q1: won in [01-01, 04-01) o1 300 + o2 200 + o3 100 = 600 of 1500
		// (o12, won at 04-01 00:00, is Q2's).
		{"attainment closing Q1", "quota_attainment", closing(bizQ(apr1)), bizF(40)},
		{"attainment closing Q1 alice", "quota_attainment", closing(bizQ(apr1, "owner", "alice")), bizF(30)},
		// Coverage looks ahead (Def.Ahead): read closing it is the coming
		// period's, Q2's, as at the instant — Q1's deals still open (o5
		// 400, o7 250, o11 120) missed it, and over the last 900 of its
		// quota had read as 770/900.
		{"coverage closing Q1", "pipeline_coverage", closing(bizQ(apr1)), bizF(500.0 / 2000)},
		// Not at the period's end, closing changes nothing.
		{"coverage closing mid-quarter", "pipeline_coverage", closing(bizQ(bizAsOf)), bizF(770.0 / 900)},
		// Not on a boundary, the rules agree.
		{"attainment closing mid-quarter", "quota_attainment", closing(bizQ(bizAsOf)), bizF(40)},
		{"attainment closing next day", "quota_attainment", closing(bizQ(bizT("2026-04-02"))), bizF(3.5)},
		// Before any quota period has begun there is none to close.
		{"attainment closing at the first start", "quota_attainment", closing(bizQ(bizT("2026-01-01"))), nil},
	})
	if r := bizCompute(t, d, "pipeline_coverage", closing(bizQ(apr1))); r.Detail.PeriodStart == nil || !r.Detail.PeriodStart.Equal(apr1) {
		t.Errorf("coverage closing Q1 reads the period from %v, want Q2's 2026-04-01", r.Detail.PeriodStart)
	}
	if ReadsClosing("pipeline_coverage") || !ReadsClosing("quota_attainment") {
		t.Error("ReadsClosing: pipeline coverage looks ahead, quota attainment back")
	}
	r := bizCompute(t, d, "quota_attainment", closing(bizQ(apr1)))
	if p, e := r.Detail.PeriodStart, r.Detail.PeriodEnd; p == nil || e == nil || !p.Equal(bizT("2026-01-01")) || !e.Equal(apr1) {
		t.Errorf("closing period = %v to %v, want Q1 [2026-01-01, 2026-04-01)", p, e)
	}
	if v := r.Detail.ElapsedShare; v == nil || *v != 1 {
		t.Errorf("closing elapsed share = %s, want 1: the period is over", fmtVal(v))
	}
	if r := bizCompute(t, d, "quota_attainment", bizQ(apr1)); r.Detail.PeriodStart == nil || !r.Detail.PeriodStart.Equal(apr1) {
		t.Errorf("as of 04-01 the period starts %v, want Q2's 2026-04-01 (SPEC §3)", r.Detail.PeriodStart)
	}
}

func TestAcquisition(t *testing.T) {
	spend := func(id, cat, from, to, amount string) *domain.Spend {
		return &domain.Spend{Meta: bizMeta(id), Category: cat, PeriodStart: bizT(from), PeriodEnd: bizT(to), Amount: bizM(amount), Currency: "USD"}
	}
	d := bizDS(nil,
		spend("sp1", "marketing", "2026-03-01", "2026-04-01", "3100"), // 30 of 31 days → 3000
		spend("sp2", "sales", "2026-02-01", "2026-03-11", "380"),      // 10 of 38 days → 100
		spend("sp3", "other", "2026-03-01", "2026-03-31", "1000"),     // not sales or marketing
		bizSub("n1", "N1", "", "2026-03-05", "", "100"),               // new
		bizSub("n2", "N2", "", "2026-03-10", "", "300"),               // new
		bizSub("n3", "N2", "", "2026-03-20", "", "50"),                // N2's second: not its first
		bizSub("o1", "OLD", "", "2025-01-01", "2025-06-01", "10"),     // churned …
		bizSub("o2", "OLD", "", "2026-03-15", "", "70"),               // … came back: not new
		bizSub("f1", "FUT", "", "2026-04-05", "", "70"),               // after as_of
	)
	bizRun(t, d, []bizCase{
		// (3000 + 100) / 2 new customers = 1550.
		{"cac", "cac", bizQ(bizAsOf), bizF(1550)},
		// mean first mrr (100 + 300) / 2 = 200; 1550 / (200 × 0.8) = 9.6875.
		{"payback", "cac_payback_months", bizQ(bizAsOf), bizF(9.6875)},
		// No new customer in [2026-01-01, 2026-01-31): no value.
		{"cac none", "cac", bizQ(bizT("2026-01-31")), nil},
		{"payback none", "cac_payback_months", bizQ(bizT("2026-01-31")), nil},
	})
	cfg := DefaultConfig()
	cfg.GrossMargin = 0.5
	// 1550 / (200 × 0.5) = 15.5.
	bizRun(t, bizDS(&cfg, spend("sp1", "marketing", "2026-03-01", "2026-04-01", "3100"),
		spend("sp2", "sales", "2026-02-01", "2026-03-11", "380"), spend("sp3", "other", "2026-03-01", "2026-03-31", "1000"),
		bizSub("n1", "N1", "", "2026-03-05", "", "100"), bizSub("n2", "N2", "", "2026-03-10", "", "300")),
		[]bizCase{{"payback margin", "cac_payback_months", bizQ(bizAsOf), bizF(15.5)}})
}

func lead(id, created, mql, sql, opp, channel, campaign string) *domain.Lead {
	l := &domain.Lead{Meta: bizMeta(id), CreatedAt: bizT(created), Opportunity: opp, Channel: channel, Campaign: campaign}
	if mql != "" {
		l.MQLAt = bizT(mql)
	}
	if sql != "" {
		l.SQLAt = bizT(sql)
	}
	return l
}

// marchLeads are seven leads created 2026-03-01…07, each noted with the
// furthest stage it reaches, and their opportunities; f6's MQL and ow3's
// win come in July.
func marchLeads() []domain.Record {
	return []domain.Record{
		lead("f1", "2026-03-01", "2026-03-02", "2026-03-03", "ow1", "web", "spring"), // won
		lead("f2", "2026-03-02", "2026-03-03", "2026-03-04", "ow2", "web", "spring"), // open opportunity
		lead("f3", "2026-03-03", "2026-03-04", "2026-03-10", "", "ads", "spring"),    // SQL
		lead("f4", "2026-03-04", "2026-03-05", "", "", "ads", ""),                    // MQL
		lead("f5", "2026-03-05", "", "", "", "ads", ""),                              // lead
		lead("f6", "2026-03-06", "2026-07-02", "", "", "web", ""),                    // MQL in July
		lead("f7", "2026-03-07", "", "2026-03-08", "ow3", "web", ""),                 // straight to SQL; won in July
		bizOpp{"ow1", "alice", "2026-03-05", "2026-03-05", "2026-03-20", true, "", "10"}.rec(),
		bizOpp{"ow2", "alice", "2026-03-06", "2026-03-06", "", false, "", "10"}.rec(),
		bizOpp{"ow3", "alice", "2026-03-09", "2026-03-09", "2026-07-03", true, "", "10"}.rec(),
	}
}

func TestLeads(t *testing.T) {
	tgt := func(id, from, to string, v float64, scope string) *domain.Target {
		return &domain.Target{Meta: bizMeta(id), Metric: "mql_volume", PeriodStart: bizT(from), PeriodEnd: bizT(to), Value: v, Scope: scope}
	}
	d := bizDS(nil, append(marchLeads(),
		lead("f8", "2026-02-20", "2026-03-01", "", "", "web", "winter"), // created before W, MQL in W
		lead("f9", "2026-02-20", "2026-02-27", "", "", "web", ""),       // MQL before W
		tgt("t0", "2026-02-01", "2026-03-01", 28, ""),                   // before W
		tgt("t1", "2026-03-01", "2026-04-01", 62, ""),                   // 30 of 31 days in W → 60
		tgt("t2", "2026-03-15", "2026-04-15", 31, "channel:web"),        // 16 of 31 days → 16
		tgt("t3", "2026-03-31", "2026-04-30", 99, ""),                   // covers as_of but not W: ignored
	)...)
	bizRun(t, d, []bizCase{
		// mql_at in W: f1, f2, f3, f4, f8 → 5 (f6 after as_of, f9 before).
		{"mql", "mql_volume", bizQ(bizAsOf), bizF(5)},
		{"mql web", "mql_volume", bizQ(bizAsOf, "channel", "web"), bizF(3)},
		{"mql spring", "mql_volume", bizQ(bizAsOf, "campaign", "spring"), bizF(3)},
		// No lead exists by then (SPEC §4): no value, not 0.
		{"mql none", "mql_volume", bizQ(bizT("2026-01-01")), nil},
	})
	r := bizCompute(t, d, "mql_volume", bizQ(bizAsOf))
	if v := r.Detail.Target; v == nil || !bizClose(*v, 60) {
		t.Errorf("mql target = %s, want 62 × 30/31 = 60", fmtVal(v))
	}
	r = bizCompute(t, d, "mql_volume", bizQ(bizAsOf, "channel", "web"))
	if v := r.Detail.Target; v == nil || !bizClose(*v, 16) {
		t.Errorf("mql web target = %s, want 31 × 16/31 = 16", fmtVal(v))
	}
	if r := bizCompute(t, d, "mql_volume", bizQ(bizAsOf, "campaign", "spring")); r.Detail.Target != nil {
		t.Errorf("mql spring target = %s, want none", fmtVal(r.Detail.Target))
	}

	if vals := d.DimValues("campaign"); len(vals) != 3 || vals[0] != NoneKey {
		t.Errorf("campaign values = %v, want (none), spring, winter", vals)
	}
}

// funnel_conversion follows a mature cohort (SPEC §3): the leads created in
// [as_of − lag − length, as_of − lag), lag 90 days by default. As of
// 2026-06-29 with a 30-day window the cohort is [03-01, 03-31).
func TestFunnelConversion(t *testing.T) {
	asOf := bizT("2026-06-29")
	recs := append(marchLeads(),
		lead("f8", "2026-02-28", "2026-03-01", "2026-03-02", "ow1", "web", ""),  // before the cohort
		lead("f9", "2026-03-31", "2026-04-01", "2026-04-02", "ow1", "web", ""),  // at the cohort's end: after it
		lead("f10", "2026-06-01", "2026-06-02", "2026-06-03", "ow1", "web", ""), // recent, not mature
	)
	d := bizDS(nil, recs...)
	q := bizQ(asOf)
	// Cohort f1..f7; won: f1 → 1 / 7.
	r := bizCompute(t, d, "funnel_conversion", q)
	bizCheck(t, "funnel", r, bizF(100.0/7))
	if r.Count != 7 {
		t.Errorf("cohort = %d leads, want 7", r.Count)
	}
	if s, e := r.Detail.CohortStart, r.Detail.CohortEnd; s == nil || e == nil || *s != bizT("2026-03-01") || *e != bizT("2026-03-31") {
		t.Errorf("cohort = [%v, %v), want [2026-03-01, 2026-03-31)", s, e)
	}
	if lag := r.Detail.MaturationLagDays; lag == nil || *lag != 90.0 {
		t.Errorf("maturation_lag_days = %s, want 90", fmtVal(lag))
	}
	// Reached MQL f1, f2, f3, f4, f7 (via SQL) = 5 of 7; SQL f1, f2, f3, f7
	// = 4 of 5; opportunity f1, f2, f7 = 3 of 4; won f1 = 1 of 3 (ow3's win
	// is after as_of).
	stages := r.Detail.Stages
	want := map[string]float64{"lead_to_mql": 500.0 / 7, "mql_to_sql": 80, "sql_to_opportunity": 75, "opportunity_to_won": 100.0 / 3}
	for k, w := range want {
		if v := stages[k]; v == nil || !bizClose(*v, w) {
			t.Errorf("stage %s = %v, want %v", k, fmtVal(v), w)
		}
	}
	if got := r.Detail.Reached; !reflect.DeepEqual(got, map[string]int{"lead": 7, "mql": 5, "sql": 4, "opportunity": 3, "won": 1}) {
		t.Errorf("reached = %v", got)
	}
	bizRun(t, d, []bizCase{
		// web: f1, f2, f6, f7 → f1 won → 1 / 4.
		{"funnel web", "funnel_conversion", bizQ(asOf, "channel", "web"), bizF(25)},
		// ads: f3, f4, f5, none won: 0.
		{"funnel ads", "funnel_conversion", bizQ(asOf, "channel", "ads"), bizF(0)},
		// As of 2026-03-31 the cohort is [2025-12-01, 2025-12-31): no lead
		// there. The leads of March are too young to be judged.
		{"immature", "funnel_conversion", bizQ(bizT("2026-03-31")), nil},
		{"no lead data", "funnel_conversion", bizQ(bizT("2026-01-01")), nil},
	})
	r = bizCompute(t, d, "funnel_conversion", bizQ(asOf, "channel", "ads"))
	stages = r.Detail.Stages
	if stages["opportunity_to_won"] != nil || stages["sql_to_opportunity"] == nil || *stages["sql_to_opportunity"] != 0 {
		t.Errorf("ads stages = %v: want SQL→opportunity 0 and no opportunity→won", stages)
	}

	// The lag is configurable: 30 days as of 04-30 is the same cohort, and
	// f6's MQL and ow3's win are still ahead.
	cfg := DefaultConfig()
	cfg.FunnelLag = 30 * day
	r = bizCompute(t, bizDS(&cfg, recs...), "funnel_conversion", bizQ(bizT("2026-04-30")))
	bizCheck(t, "lag 30d", r, bizF(100.0/7))
	if s := r.Detail.CohortStart; s == nil || *s != bizT("2026-03-01") {
		t.Errorf("lag 30d cohort start = %v, want 2026-03-01", s)
	}
}

// A lead's `opportunity` resolves like every reference (SPEC §2): the
// record in the lead's own source, else the only one with that id; an
// unknown or ambiguous reference links nothing, and an opportunity
// created after as_of does not exist yet.
func TestFunnelOpportunityReference(t *testing.T) {
	asOf := bizT("2026-06-29")
	src := func(r *domain.Lead, s string) *domain.Lead { r.Source = s; return r }
	opp := func(o bizOpp, s string) *domain.Opportunity { r := o.rec(); r.Source = s; return r }
	d := bizDS(nil,
		// Own source wins: crm's dup is lost, erp's won.
		src(lead("own", "2026-03-02", "", "2026-03-03", "dup", "", ""), "crm"),
		opp(bizOpp{"dup", "a", "2026-03-04", "2026-03-04", "2026-03-20", false, "", "10"}, "crm"),
		opp(bizOpp{"dup", "a", "2026-03-04", "2026-03-04", "2026-03-20", true, "", "10"}, "erp"),
		// The only record elsewhere: won.
		src(lead("only", "2026-03-02", "", "2026-03-03", "solo", "", ""), "crm"),
		opp(bizOpp{"solo", "a", "2026-03-04", "2026-03-04", "2026-03-20", true, "", "10"}, "erp"),
		// Two elsewhere, none in the lead's source: ambiguous, no opportunity.
		src(lead("amb", "2026-03-02", "", "2026-03-03", "dup", "", ""), "web"),
		// Unknown id: no opportunity.
		src(lead("ghost", "2026-03-02", "", "2026-03-03", "nope", "", ""), "crm"),
		// Created after as_of: not yet.
		src(lead("late", "2026-03-02", "", "2026-03-03", "later", "", ""), "crm"),
		opp(bizOpp{"later", "a", "2026-07-01", "2026-07-01", "", false, "", "10"}, "crm"),
	)
	r := bizCompute(t, d, "funnel_conversion", bizQ(asOf))
	// Cohort of 5; opportunity: own, only; won: only.
	bizCheck(t, "funnel", r, bizF(20))
	if got := r.Detail.Reached; !reflect.DeepEqual(got, map[string]int{"lead": 5, "mql": 5, "sql": 5, "opportunity": 2, "won": 1}) {
		t.Errorf("reached = %v, want opportunity 2 (own, only), won 1 (only)", got)
	}
}

// ARR's records carry their yearly amount, so that they add up to the
// value as the records behind any currency metric do; MRR's carry their
// MRR. (ARR's had carried their MRR: the page's value column summed to a
// twelfth of the headline.)
func TestBookRecordsAddUp(t *testing.T) {
	d := load(t, nil, `
{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-01-01T00:00:00Z","mrr":100,"plan":"pro"}
{"kind":"subscription","id":"s2","customer":"beta","started_at":"2026-02-01T00:00:00Z","mrr":50.5,"plan":"team"}
`)
	for id, want := range map[string]float64{"arr": 1806, "mrr": 150.5} {
		r, err := d.Compute(id, Query{AsOf: ts(t, "2026-03-31T00:00:00Z"), Window: 30 * day, Records: true})
		if err != nil || r.Value == nil || *r.Value != want {
			t.Fatalf("%s = %v (%v), want %v", id, r.Value, err, want)
		}
		var sum float64
		for _, ref := range r.Records {
			if ref.Value != nil {
				sum += *ref.Value
			}
		}
		if len(r.Records) != 2 || sum != want {
			t.Errorf("%s: %d records whose values add up to %v, want 2 adding up to %v", id, len(r.Records), sum, want)
		}
	}
}

// Funnel conversion lists its cohort furthest stage first — won, then
// opportunity, SQL, MQL, lead — newest first within each, so the leads
// behind "Won 3" head the records a page and candor metric show: listed
// oldest first, the demo's three won leads lay among 406 on the records
// table's pages 1 to 17.
func TestFunnelRecordsFurthestStageFirst(t *testing.T) {
	d := bizDS(nil, marchLeads()...)
	q := bizQ(bizT("2026-06-29"))
	q.Records = true
	r := bizCompute(t, d, "funnel_conversion", q)
	var got []string
	for _, ref := range r.Records {
		got = append(got, ref.ID+" "+ref.Note)
	}
	want := []string{"f1 won", "f7 opportunity", "f2 opportunity", "f3 sql", "f4 mql", "f6 lead", "f5 lead"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records in the order %q, want %q", got, want)
	}
}
