package web

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/scorecard"
)

// valueCardOf is the value card of a metric page.
func valueCardOf(page string) string {
	return regexp.MustCompile(`(?s)<section class="panel value-card.*?</section>`).FindString(page)
}

// A trend that cannot be compared says why once: the metric page printed
// the reason hidden for a screen reader, in the trend's title and again
// beside it ("… needs 5 — too few cases … needs 5" to a reader or a copy of
// the page).
func TestMetricPageSaysWhyNoTrendOnce(t *testing.T) {
	e := newEnv(t, 0)
	// Two failures in the window before: change failure rate is 50 % on
	// 4 deployments now and 100 % on 2 then, each under its minimum of 5.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"deployment","id":"f1","service":"api","environment":"production","finished_at":"2026-02-10T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"f2","service":"api","environment":"production","finished_at":"2026-02-20T00:00:00Z","status":"failure"}
`})
	card := valueCardOf(e.get200(t, "/metrics/change_failure_rate?as_of="+asOf))
	trend := regexp.MustCompile(`(?s)<p class="value-card__trend">.*?</p>`).FindString(card)
	const why = "too few cases in this window"
	if n := strings.Count(trend, why); n != 1 {
		t.Errorf("the trend says %q %d times, want once:\n%s", why, n, trend)
	}
}

// A metric with no minimum sample says so in words true of each such
// metric: on ratios of whole sums it had read "no minimum: the value is a
// count, sum or extreme".
func TestNoMinimumSampleIsTrueOfRatios(t *testing.T) {
	e := newEnv(t, 0)
	for _, id := range []string{"cost_per_active_customer", "budget_variance", "pipeline_coverage", "quota_attainment", "incidents_p0_p1"} {
		page := e.get200(t, "/metrics/"+id+"?as_of="+asOf)
		mustContain(t, id+"'s definition", page,
			[]string{"<dt>Minimum sample</dt><dd>none: the definition sets no minimum, so the status is judged on any number of cases</dd>"},
			"count, sum or extreme")
	}
}

// Cost per active customer's cases are its cost records, but it divides
// by the window's mean of active customers: the page says so beside n,
// where it had shown "Cases (n) 96" with the 114 customers only in the API.
func TestCostPerCustomerSaysWhatItDividesBy(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"cost","id":"mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3000}
{"kind":"usage","id":"u1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","requests":1000000,"active_customers":12}
`})
	card := valueCardOf(e.get200(t, "/metrics/cost_per_active_customer?as_of="+asOf))
	mustContain(t, "cost per active customer's value card", card,
		[]string{`<dt>Cases (n)</dt><dd>1 <span class="muted">· n counts cost records; the value divides by a mean of 12 active customers</span>`})
}

// NRR's cohort table explains its "m1 counted" column under the table, and
// GRR its "retained": NRR's had stood beside m1, equal to it, unexplained.
func TestRetentionCohortColumnExplained(t *testing.T) {
	e := newEnv(t, 0)
	seed := revenueSeed + `{"kind":"subscription","id":"s4","customer":"delta","plan":"pro","mrr":1000,"started_at":"2025-01-01T00:00:00Z"}
`
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(seed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	exec := e.sessionAs(t, "executive")
	mustContain(t, "NRR's page", e.page(t, exec, "/metrics/nrr?as_of="+asOf, 200), []string{
		`</table>
  </div><p class="note">m1 counted: what the customer adds to NRR&#39;s numerator — its whole MRR at as_of, expansion included (0 once churned); NRR is the column&#39;s total ÷ the m0 total.</p>`})
	mustContain(t, "GRR's page", e.page(t, exec, "/metrics/grr?as_of="+asOf, 200), []string{
		`<p class="note">retained: what the customer adds to GRR&#39;s numerator — its MRR at as_of capped at m0, min(m0, m1)`})
}

// A breakdown line with a value but no target of its own is "Not judged —
// no target of its own" on the pages, in neutral colours, not unknown's
// chip as if its data were missing (SPEC §4: a line is judged only against
// its own target record); the API keeps it unknown.
func TestBreakdownLineWithoutItsOwnTargetIsNotJudged(t *testing.T) {
	e := newEnv(t, 0)
	seed := revenueSeed + `{"kind":"subscription","id":"s7","customer":"zeta","plan":"team","mrr":400,"started_at":"2025-09-01T00:00:00Z"}
{"kind":"target","id":"t-org","metric":"mrr","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":9000}
{"kind":"target","id":"t-pro","metric":"mrr","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":9000,"scope":"plan:pro"}
`
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(seed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	exec := e.sessionAs(t, "executive")
	page := e.page(t, exec, "/metrics/mrr?by=plan&as_of="+asOf, 200)
	table := regexp.MustCompile(`(?s)<table class="table table--compact breakdown">.*?</table>`).FindString(page)
	row := func(key string) string {
		return regexp.MustCompile(`(?s)<tr><td>(<a [^>]*>)?` + key + `(</a>)?</td>.*?</tr>`).FindString(table)
	}
	team, pro := row("team"), row("pro")
	mustContain(t, "plan team's line", team, []string{`<span class="status status--unjudged">`, `<span class="status__word">Not judged</span>`, "no target"}, "status--unknown", ">Unknown<")
	mustContain(t, "plan pro's line, judged against its own target", pro, []string{`<span class="status status--green">`})
	// Its bar is grey and says not judged, where it had said "· unknown",
	// then been the chart's blue with no word.
	bars := regexp.MustCompile(`(?s)<div class="chart-box chart-box--wide">.*?</div>`).FindString(page[strings.Index(page, `id="breakdown"`):])
	mustContain(t, "the breakdown's bars", bars, []string{`<g class="bar st-unjudged">`, "400 USD · not judged<"}, "400 USD · unknown", "400 USD<")
	// The API says unknown, as before.
	_, body, _ := e.call(t, "GET", "/api/v1/metrics/mrr?by=plan&as_of="+asOf, "", "", exec)
	if !regexp.MustCompile(`"key":\s*"team",\s*"value":\s*400,\s*"status":\s*"unknown"`).Match(body) {
		t.Errorf("the API's team line is not unknown:\n%s", clip(body))
	}
}

// The scorecard's and the CEO view's lists give a 30-day sum its window,
// as they give a rate per 30 days: "Infrastructure cost 84,942 USD" had
// stood beside "751.57 USD/30d". A target beside such a value carries the
// same window: "target 442.40 USD" had stood beside revenue at risk's
// "739.14 USD/30d", and the chart on the same card said "a week".
func TestListsGiveASumItsWindow(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"cost","id":"mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3000}
{"kind":"budget","id":"b","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":2000}
{"kind":"subscription","id":"s1","customer":"acme","plan":"pro","mrr":3000,"started_at":"2026-03-20T00:00:00Z"}
{"kind":"target","id":"t1","metric":"mrr_new","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","value":4000}
`})
	home := e.get200(t, "/?as_of="+asOf)
	mustContain(t, "the scorecard", home, []string{`<span class="all-metrics__value">3,000 USD/30d</span>`,
		// New MRR's card: its value and its target over the same 30 days.
		`<span class="kpi__value">3,000 USD/30d</span>`, "</span>Target 4,000 USD/30d · CRO · "}, "Target 4,000 USD · ")
	exec := e.sessionAs(t, "executive")
	ceo := e.page(t, exec, "/views/ceo?as_of="+asOf, 200)
	if !strings.Contains(ceo, "3,000 USD/30d") {
		t.Errorf("the CEO view does not give infrastructure cost's window:\n%s", regexp.MustCompile(`(?s)<ul class="rv-tiles">.*?</ul>\s*</li>\s*</ul>`).FindString(ceo))
	}
	// A role view's metric gives its target the window its value carries.
	v, target := 739.14, 442.4
	c := scorecard.Card{ID: "revenue_at_risk", Name: "Revenue at risk", Unit: "currency", Value: &v, Target: &target, Window: "30d", SumsOverWindow: true}
	if m := e.srv.roleMetric(scorecard.ViewMetric{Card: c}, Query{AsOf: asOf}, "USD", nil); m.Value != "739.14 USD/30d" || m.Target != "442.40 USD/30d" {
		t.Errorf("the role view's metric reads %q, target %q", m.Value, m.Target)
	}
}

// A record's amounts of money read as the records tables write them, to the
// cent with thousands grouped and the currency, the stored number beside:
// a subscription's mrr had shown "11797.76" on its page.
func TestRecordPageFormatsMoney(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "x.ndjson", Reader: strings.NewReader(
		`{"kind":"subscription","id":"s1","customer":"acme","plan":"pro","mrr":11797.76,"started_at":"2025-06-01T00:00:00Z"}
{"kind":"cost","id":"c1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":2500,"currency":"EUR"}
`)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	exec := e.sessionAs(t, "executive")
	mustContain(t, "the subscription's page", e.page(t, exec, "/records/subscription/import/s1", 200),
		[]string{`<th scope="row">mrr</th><td>11,797.76 USD <span class="muted">(stored as 11797.76)</span></td>`})
	mustContain(t, "the cost's page", e.page(t, exec, "/records/cost/import/c1", 200),
		[]string{`<th scope="row">amount</th><td>2,500.00 EUR <span class="muted">(stored as 2500)</span></td>`})
}

// The definition block says whether the owning function has signed the
// definition off, as the API's signoff and signoff_by do and no page did;
// a confirmed definition says who confirmed it.
func TestMetricPageShowsSignoff(t *testing.T) {
	e := newEnv(t, 0)
	mustContain(t, "ARR's definition", e.get200(t, "/metrics/arr?as_of="+asOf),
		[]string{"<dt>Sign-off</dt><dd>assumed: finance has not confirmed this definition yet</dd>"})
	e = newEnvWith(t, 0, func(s *Server, _ string) {
		cat, err := s.Catalog.Apply(map[string]catalog.Override{"arr": {Signoff: catalog.SignoffConfirmed}})
		if err != nil {
			t.Fatal(err)
		}
		s.Catalog = cat
	})
	mustContain(t, "ARR's definition, confirmed", e.get200(t, "/metrics/arr?as_of="+asOf),
		[]string{"<dt>Sign-off</dt><dd>confirmed by finance</dd>"})
}
