package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
)

// revenueSeed is a small book of business whose amounts are distinctive
// numbers, so a test can look for them in any answer: two subscriptions
// (one ended in March: logo churn), opportunities, a quota, spend.
const revenueSeed = `{"kind":"subscription","id":"s1","customer":"acme","plan":"pro","mrr":7345.5,"started_at":"2025-06-01T00:00:00Z"}
{"kind":"subscription","id":"s2","customer":"beta","plan":"basic","mrr":812.25,"started_at":"2025-07-01T00:00:00Z","ended_at":"2026-03-20T00:00:00Z"}
{"kind":"subscription","id":"s3","customer":"gamma","plan":"pro","mrr":2718.75,"started_at":"2025-08-01T00:00:00Z"}
{"kind":"opportunity","id":"o1","created_at":"2026-02-01T00:00:00Z","amount":424242,"stage":"proposal","owner":"ann"}
{"kind":"opportunity","id":"o2","created_at":"2026-01-01T00:00:00Z","qualified_at":"2026-01-02T00:00:00Z","amount":313373,"stage":"closed_won","owner":"ann","closed_at":"2026-03-10T00:00:00Z","won":true}
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":900001}
{"kind":"spend","id":"sp1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","category":"sales","amount":31337}
{"kind":"lead","id":"l1","created_at":"2026-03-01T00:00:00Z","opportunity":"o-missing"}
`

// A viewer without revenue:read gets no revenue number from any part of
// the JSON API: not from the scorecard, the metrics, the role views, a
// drill-down of a metric they may see whose records carry amounts, the
// records, the data sources or the reconciliations.
func TestNoRevenueWithoutTheGrant(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	// What an executive sees: the revenue metrics' values, and a
	// reconciliation of ARR.
	secrets := []string{"7345.5", "812.25", "2718.75", "424242", "313373", "900001", "31337", "987654.5"}
	e.run(t, scenario{method: "POST", url: "/api/v1/reconciliations", body: `{"metric":"arr","expected":987654.5,"as_of":"` + asOf + `"}`, status: 201})
	var doc any
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf, status: 200, check: func(t *testing.T, d any) { doc = d }})
	valued := 0
	for _, id := range []string{"mrr", "arr", "nrr", "grr", "pipeline_coverage", "win_rate", "quota_attainment", "sales_velocity", "cac"} {
		c := metricCard(doc, id)
		if c == nil {
			t.Fatalf("the executive's scorecard lacks %s", id)
		}
		if v, ok := c["value"].(float64); ok {
			valued++
			if s := strconv.FormatFloat(v, 'f', -1, 64); len(s) >= 5 {
				secrets = append(secrets, s)
			}
		}
	}
	if valued < 4 {
		t.Fatalf("only %d revenue metrics have a value: the seed does not exercise the check", valued)
	}
	// The executive's drill-down of logo churn shows the churned MRR, so
	// the support one below has something to hide.
	if _, body, _ := e.do(t, "GET", "/api/v1/metrics/logo_churn_rate?as_of="+asOf, "", nil); !strings.Contains(string(body), "812.25") {
		t.Fatalf("the executive's logo churn drill-down lacks the churned MRR:\n%s", clip(body))
	}

	paths := []string{
		"/api/v1/scorecard?as_of=" + asOf,
		"/api/v1/scorecard?as_of=" + asOf + "&window=90d",
		"/api/v1/metrics",
		"/api/v1/metrics/logo_churn_rate?as_of=" + asOf,
		"/api/v1/metrics/logo_churn_rate?as_of=" + asOf + "&by=plan",
		"/api/v1/metrics/arr?as_of=" + asOf,
		"/api/v1/metrics/pipeline_coverage?as_of=" + asOf,
		"/api/v1/views",
		"/api/v1/views/ceo?as_of=" + asOf,
		"/api/v1/views/cro?as_of=" + asOf,
		"/api/v1/views/support?as_of=" + asOf,
		"/api/v1/views/engineering?as_of=" + asOf,
		"/api/v1/records/subscription/import/s2",
		"/api/v1/records/opportunity/import/o1",
		"/api/v1/sources?as_of=" + asOf,
		"/api/v1/reconciliations",
	}
	for _, role := range []string{"support", "engineering"} {
		tok := e.roleToken(t, role)
		for _, p := range paths {
			status, body, _ := e.do(t, "GET", p, "", map[string]string{"Authorization": "Bearer " + tok})
			for _, s := range secrets {
				if strings.Contains(string(body), s) {
					t.Errorf("%s sees %s in GET %s (%d):\n%s", role, s, p, status, clip(body))
				}
			}
			var doc any
			if json.Unmarshal(body, &doc) == nil && status == 200 {
				for _, id := range []string{`"arr"`, `"mrr"`, `"pipeline_coverage"`, `"growth"`} {
					if strings.Contains(string(body), `"id": `+id) {
						t.Errorf("%s is shown %s in GET %s", role, id, p)
					}
				}
			}
		}
	}
	// The scorecard page neither.
	status, page, _ := e.call(t, "GET", "/?as_of="+asOf, "", "", e.sessionAs(t, "support"))
	if status != 200 || strings.Contains(string(page), "Growth &amp; Revenue") || !strings.Contains(string(page), "Customer Trust") {
		t.Errorf("support's scorecard page: %d, growth shown or customer missing", status)
	}
	for _, s := range secrets {
		if strings.Contains(string(page), s) || strings.Contains(string(page), groupThousands(s)) {
			t.Errorf("support sees %s on the scorecard page", s)
		}
	}
	// Support may drill into logo churn, and sees its customers, not
	// their MRR.
	status, body, _ := e.do(t, "GET", "/api/v1/metrics/logo_churn_rate?as_of="+asOf, "", map[string]string{"Authorization": "Bearer " + e.roleToken(t, "support")})
	if status != 200 || !strings.Contains(string(body), `"beta"`) || !strings.Contains(string(body), `"mrr": null`) {
		t.Errorf("support's logo churn drill-down: %d\n%s", status, clip(body))
	}
	// The data sources report lists the problems of revenue kinds (a lead
	// naming no opportunity) only to those who may read such records.
	_, body, _ = e.do(t, "GET", "/api/v1/sources?as_of="+asOf, "", nil)
	if !strings.Contains(string(body), "o-missing") {
		t.Fatalf("the executive's sources report lacks the lead's problem:\n%s", clip(body))
	}
	_, body, _ = e.do(t, "GET", "/api/v1/sources?as_of="+asOf, "", map[string]string{"Authorization": "Bearer " + e.roleToken(t, "engineering")})
	if strings.Contains(string(body), "o-missing") || !strings.Contains(string(body), `"kind": "deployment"`) {
		t.Errorf("engineering's sources report:\n%s", clip(body))
	}
	// A revenue metric's drill-down is refused with the reason.
	status, body, _ = e.do(t, "GET", "/api/v1/metrics/arr", "", map[string]string{"Authorization": "Bearer " + e.roleToken(t, "support")})
	if status != 403 || !strings.Contains(string(body), "revenue:read") {
		t.Errorf("support's ARR drill-down: %d %s", status, body)
	}
}

// groupThousands writes a number's whole part as the pages do (424,242).
func groupThousands(s string) string { return chart.GroupThousands(s) }

// NRR's page lists its cohort — the customers active a year before — with
// their MRR then and now, so the ratio can be rebuilt customer by customer
// (its subscriptions, more than its customers, did not say it).
func TestRetentionListsItsCohort(t *testing.T) {
	e := newEnv(t, 0)
	seed := revenueSeed + `{"kind":"subscription","id":"s4","customer":"delta","plan":"pro","mrr":1000,"started_at":"2025-01-01T00:00:00Z"}
{"kind":"subscription","id":"s5","customer":"delta","plan":"pro","mrr":200,"started_at":"2025-02-01T00:00:00Z","ended_at":"2025-12-01T00:00:00Z"}
{"kind":"subscription","id":"s6","customer":"omega","plan":"basic","mrr":500,"started_at":"2025-01-01T00:00:00Z","ended_at":"2026-02-01T00:00:00Z"}
`
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(seed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	exec := e.sessionAs(t, "executive")
	// delta 1,200 → 1,000 and omega 500 → 0: NRR 1,000 ÷ 1,700.
	mustContain(t, "NRR's page", e.page(t, exec, "/metrics/nrr?as_of="+asOf, 200), []string{
		"Cohort customers (2)", "NRR is Σ m1 ÷ Σ m0", "m1 counted",
		// Amounts to the cent, the currency in the headings.
		`<th scope="col" class="num">m0 (USD)</th><th scope="col" class="num">m1 (USD)</th>`,
		`<td><a href="/customers/delta?as_of=2026-03-31">delta</a></td><td class="num">1,200.00</td><td class="num">1,000.00</td><td class="num">1,000.00</td>`,
		`<td><a href="/customers/omega?as_of=2026-03-31">omega</a></td><td class="num">500.00</td><td class="num">0.00</td><td class="num">0.00</td>`,
		// The total: Σ m1 ÷ Σ m0 is the value above.
		`<th scope="row">All 2 customers</th><td class="num">1,700.00</td><td class="num">1,000.00</td><td class="num">1,000.00</td>`,
	}, "acme")
	// A cohort of thousands lists its first hundred, the total covering all.
	moves := make([]metrics.CustomerMove, 150)
	for i := range moves {
		moves[i] = metrics.CustomerMove{Customer: fmt.Sprint("c", i), M0: 10, M1: 5, Amount: 5}
	}
	if rows, total := customerRows(moves), customerTotal(moves); len(rows) != maxCustomerRows || total.M0 != "1,500.00" || total.Customer != "150 customers" {
		t.Errorf("150 customers: %d rows, total %+v", len(rows), total)
	}
	mustContain(t, "GRR's page", e.page(t, exec, "/metrics/grr?as_of="+asOf, 200), []string{
		"Cohort customers (2)", "retained", `<td><a href="/customers/delta?as_of=2026-03-31">delta</a></td><td class="num">1,200.00</td><td class="num">1,000.00</td><td class="num">1,000.00</td>`,
	}, "acme")
}

// TestRetentionCohortCountsEveryCustomer: past the rows a page shows, the
// cohort's heading still counts every customer, as its total row does
// (it had said 100 above "All 101 customers").
func TestRetentionCohortCountsEveryCustomer(t *testing.T) {
	e := newEnv(t, 0)
	var b strings.Builder
	for i := range maxCustomerRows + 1 {
		fmt.Fprintf(&b, `{"kind":"subscription","id":"c%d","customer":"cust-%03d","plan":"pro","mrr":100,"started_at":"2025-01-01T00:00:00Z"}`+"\n", i, i)
	}
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "cohort.ndjson", Reader: strings.NewReader(b.String())}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "NRR's page", e.page(t, e.sessionAs(t, "executive"), "/metrics/nrr?as_of="+asOf, 200), []string{
		fmt.Sprintf("Cohort customers (%d)", maxCustomerRows+1), fmt.Sprintf("All %d customers", maxCustomerRows+1), "… and 1 more customer"})
}
