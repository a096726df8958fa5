package web

import (
	"context"
	"strings"
	"testing"

	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// flowSeed adds changes with every flow timestamp: team core's api ships
// c1 and c2 on 03-19 (coding 24 h, pickup 6 h, review 18 h, deploy 72 h),
// team growth's web ships c3 on 03-25 (pickup 48 h, review 24 h, deploy
// 48 h; no first commit).
const flowSeed = `{"kind":"deployment","id":"d5","service":"api","environment":"production","finished_at":"2026-03-19T00:00:00Z","status":"success","changes":["c1","c2"]}
{"kind":"deployment","id":"d6","service":"web","environment":"production","finished_at":"2026-03-25T00:00:00Z","status":"success","changes":["c3"]}
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-14T00:00:00Z","opened_at":"2026-03-15T00:00:00Z","first_review_at":"2026-03-15T06:00:00Z","merged_at":"2026-03-16T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","authored_at":"2026-03-14T00:00:00Z","opened_at":"2026-03-15T00:00:00Z","first_review_at":"2026-03-15T06:00:00Z","merged_at":"2026-03-16T00:00:00Z"}
{"kind":"change","id":"c3","service":"web","opened_at":"2026-03-20T00:00:00Z","first_review_at":"2026-03-22T00:00:00Z","merged_at":"2026-03-23T00:00:00Z"}
`

// The Engineering view draws where lead time goes per team as stacked bars
// with a table of each stage's median and the changes it rests on; the VP
// CS view draws the MRR bridge as a waterfall from MRR at the window's
// start to MRR at its end, each movement linking to its customers.
func TestRoleViewFlowAndBridgePanels(t *testing.T) {
	e := newEnv(t, 0)
	for name, src := range map[string]string{"flow.ndjson": flowSeed, "revenue.ndjson": revenueSeed} {
		if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: name, Reader: strings.NewReader(src)}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	exec := e.sessionAs(t, "executive")
	eng := e.page(t, exec, "/views/engineering?as_of="+asOf, 200)
	mustContain(t, "the Engineering view", eng, []string{
		`id="sec-flow"`, "Where lead time goes, by team", "chart-stacked",
		// A bar's total is the stages' medians added up, marked so: it is
		// not the team's median lead time.
		"Σ their sum, not the median lead time", ">Σ 120 h",
		// The legend and the columns name the stages shortly.
		">Coding</a>", ">Pickup</a>", ">Review</a>", ">Deploy</a>",
		// The organisation first, then each team, each linking to lead time for it.
		`href="/metrics/lead_time_for_changes?as_of=2026-03-31">All teams</a>`,
		`href="/metrics/lead_time_for_changes?as_of=2026-03-31&amp;team=core">core</a>`,
		`href="/metrics/lead_time_for_changes?as_of=2026-03-31&amp;team=growth">growth</a>`,
		// A cell: the stage's median for the team, on the changes it rests on.
		`href="/metrics/deploy_time?as_of=2026-03-31&amp;team=core"`, "72 h", "2 changes",
		`href="/metrics/pickup_time?as_of=2026-03-31&amp;team=growth"`, "48 h", "1 change",
		// The organisation's pickup: the median of 6, 6 and 48 hours.
		"6 h", "3 changes",
	})
	// growth has no first commit: its coding time has no value and says why.
	cell := eng[strings.Index(eng, `href="/metrics/coding_time?as_of=2026-03-31&amp;team=growth"`):]
	if cell, _, _ = strings.Cut(cell, "</td>"); !strings.Contains(cell, "</span> —</a>") || !strings.Contains(cell, "0 changes") {
		t.Errorf("growth's coding time is not shown as no value:\n%s", cell)
	}

	cs := e.page(t, exec, "/views/vp_cs?as_of="+asOf, 200)
	// acme 7,345.50 + beta 812.25 + gamma 2,718.75 at the start; beta
	// churns on 03-20, so 10,064.25 at the end. In whole units, each
	// rounded as its card rounds it, 10,877 − 812 is not 10,064: the
	// bridge's amounts are all to the cent (one precision: it had read
	// "−812.25 USD" beside "10,877 USD"), so that it adds up as shown and
	// churn reads as its card does. It had shown "−813 USD", the step
	// between the rounded totals, beside a card of 812.25.
	mustContain(t, "the VP CS view", cs, []string{
		`id="sec-bridge"`, "Where MRR came from", "over 30d", "chart-waterfall",
		"10,876.50 USD", "on 1 Mar 2026", "10,064.25 USD", "on 31 Mar 2026",
		`href="/metrics/mrr?as_of=2026-03-01T00%3A00%3A00Z"`,
		"MRR at start", "MRR at end", "−812.25 USD", "1 customer",
		`href="/metrics/mrr_churn?as_of=2026-03-31">Churn</a>`,
	}, "−813 USD", "10,877 USD", "add up to")
	// Lead time's page has the four stages side by side, for its filters;
	// a movement's page lists its customers with m0 and m1.
	mustContain(t, "lead time's page", e.page(t, exec, "/metrics/lead_time_for_changes?as_of="+asOf+"&team=core", 200), []string{
		"Where the time goes", `href="/metrics/coding_time?as_of=2026-03-31&amp;team=core">Coding</a>`, "24 h", "6 h", "18 h", "72 h", "2 changes",
	})
	mustContain(t, "churned MRR's page", e.page(t, exec, "/metrics/mrr_churn?as_of="+asOf, 200), []string{
		"Customers behind the movement", `<td><a href="/customers/beta?as_of=2026-03-31">beta</a></td><td class="num">812.25</td><td class="num">0.00</td><td class="num">812.25</td>`,
	}, "<td>acme</td>")
	ceo := e.page(t, exec, "/views/ceo?as_of="+asOf, 200)
	mustContain(t, "the CEO view", ceo, []string{`id="sec-bridge"`, "−812.25 USD"}, "−813 USD", "−812 USD")
}

// When even the cents do not add up (amounts in fractions of a cent), the
// bridge says what its amounts as shown add up to, as a breakdown does.
func TestBridgePanelSaysWhenCentsDoNotAddUp(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "r.ndjson", Reader: strings.NewReader(
		`{"kind":"subscription","id":"s1","customer":"acme","plan":"pro","mrr":1000.404,"started_at":"2025-06-01T00:00:00Z"}
{"kind":"subscription","id":"s2","customer":"beta","plan":"pro","mrr":0.404,"started_at":"2026-03-20T00:00:00Z"}
`)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	cs := e.page(t, e.sessionAs(t, "executive"), "/views/vp_cs?as_of="+asOf, 200)
	mustContain(t, "the VP CS view", cs, []string{"1,000.40 USD", "+0.40 USD", "1,000.81 USD",
		`<p class="muted">Each amount is rounded to the cent on its own: as shown they add up to 1,000.80 USD, not to the 1,000.81 USD at the end.</p>`})
}

// Revenue at risk's card says its formula with its own numbers, and the
// bare formula when a number is missing.
func TestRevenueAtRiskNote(t *testing.T) {
	e := newEnv(t, 0)
	v, avail, arr, days := 1232.88, 99.5, 900000.0, 30.0
	c := scorecard.Card{ID: "revenue_at_risk", Name: "Revenue at risk", Unit: "currency", Value: &v,
		Detail: metrics.Detail{Availability: &avail, ARR: &arr, WindowDays: &days, Currency: "EUR"}}
	m := e.srv.roleMetric(scorecard.ViewMetric{Card: c}, Query{AsOf: asOf}, "USD", nil)
	if want := "(1 − 99.5 % availability) × ARR 900,000 EUR × 30 days ÷ 365 = 1,233 EUR."; m.Note != want {
		t.Errorf("note %q, want %q", m.Note, want)
	}
	// The sum worked with the figures shown gives the value shown: with
	// availability at two decimals (99.87 %) it had made 376.63, not 366.17.
	v, avail, arr = 366.16854345208554, 99.873612, 3524900
	c.Detail.Currency = "USD"
	m = e.srv.roleMetric(scorecard.ViewMetric{Card: c}, Query{AsOf: asOf}, "USD", nil)
	if want := "(1 − 99.87361 % availability) × ARR 3,524,900 USD × 30 days ÷ 365 = 366.17 USD."; m.Note != want {
		t.Errorf("note %q, want %q", m.Note, want)
	}
	c.Detail.ARR, c.Value = nil, nil
	if m := e.srv.roleMetric(scorecard.ViewMetric{Card: c}, Query{AsOf: asOf}, "USD", nil); m.Note != "Revenue at risk = (1 − availability) × ARR × window days ÷ 365." {
		t.Errorf("note without ARR %q", m.Note)
	}
}
