package web

import (
	"fmt"
	"html"
	"strings"
	"testing"
)

// Money in a currency with no exchange rate is imported over the API, as
// NDJSON and as CSV, with a warning in the answer naming the kind, the
// currency, the count, the metrics left without a value and the setting
// to add; the data sources report (JSON and page) says the same of the
// money stored. Both had been silent: CAC's card alone gave the reason.
func TestRecordsAndSourcesWarnOfMoneyWithoutARate(t *testing.T) {
	e := newEnv(t, 0)
	const spend = `{"kind":"spend","id":"eu1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","category":"marketing","amount":1000,"currency":"EUR"}
{"kind":"spend","id":"eu2","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","category":"sales","amount":400,"currency":"EUR"}
{"kind":"spend","id":"us1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","category":"sales","amount":400}
`
	const message = "spend: 2 records in EUR, which has no exchange rate into USD: Customer acquisition cost and CAC payback have no value over a window or at a time holding any of them; add exchange_rates.EUR (how many USD one EUR is worth) to the configuration, or propose it"
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: spend, status: 200,
		fields: map[string]string{"inserted": "3", "warnings.0.kind": "spend", "warnings.0.currency": "EUR", "warnings.0.records": "2",
			"warnings.0.setting": "exchange_rates.EUR", "warnings.0.into": "USD", "warnings.0.metrics": "[cac cac_payback_months]", "warnings.0.message": message}})
	// CSV, and a currency given in lower case.
	csv := "id,period_start,period_end,category,amount,currency\ngb1,2026-03-01T00:00:00Z,2026-03-31T00:00:00Z,sales,300,gbp\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=spend", body: csv, headers: map[string]string{"Content-Type": "text/csv"}, status: 200,
		fields: map[string]string{"inserted": "1", "warnings.0.currency": "GBP", "warnings.0.records": "1", "warnings.0.setting": "exchange_rates.GBP"}})
	// Money in the organisation currency alone: no warning.
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=spend", body: strings.ReplaceAll(strings.ReplaceAll(csv, "gbp", "USD"), "gb1", "us2"),
		headers: map[string]string{"Content-Type": "text/csv"}, status: 200,
		check: func(t *testing.T, doc any) {
			if w := lookup(doc, "warnings"); w != nil {
				t.Errorf("money in USD warned: %v", w)
			}
		}})

	e.run(t, scenario{url: "/api/v1/sources?as_of=" + asOf, status: 200,
		fields: map[string]string{"unrated.0.kind": "spend", "unrated.0.currency": "EUR", "unrated.0.records": "2",
			"unrated.0.metric_names": "[Customer acquisition cost CAC payback]", "unrated.1.currency": "GBP"},
		check: func(t *testing.T, doc any) {
			for _, k := range lookup(doc, "kinds").([]any) {
				if fmt.Sprint(lookup(k, "kind")) == "spend" && fmt.Sprint(lookup(k, "unrated")) != "3" {
					t.Errorf("the spend row's unrated = %v, want 3", lookup(k, "unrated"))
				}
			}
		}})
	page := html.UnescapeString(e.page(t, e.sessionAs(t, "admin", "executive"), "/sources?as_of="+asOf, 200))
	for _, want := range []string{"Money without an exchange rate", message, "spend: 1 record in GBP"} {
		if !strings.Contains(page, want) {
			t.Errorf("the data sources page lacks %q", want)
		}
	}
	// A reader without revenue:read is not told of spend (a kind that
	// reveals revenue), as its data problems are not shown; of a cost in
	// euros, the metrics it may not see are counted, not named.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: `{"kind":"cost","id":"eu-bill","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":900,"currency":"EUR"}`, status: 200,
		fields: map[string]string{"warnings.0.kind": "cost", "warnings.0.metrics": "[infrastructure_cost cost_trend cost_per_active_customer cost_per_million_requests budget_variance]"}})
	eng := html.UnescapeString(e.page(t, e.sessionAs(t, "engineering"), "/sources?as_of="+asOf, 200))
	for _, bad := range []string{"spend: ", "Customer acquisition cost", "CAC payback"} {
		if strings.Contains(eng, bad) {
			t.Errorf("the data sources page tells engineering, without revenue:read, %q", bad)
		}
	}
	if !strings.Contains(eng, "2 kinds and currencies of records that reveal revenue are not shown") || !strings.Contains(eng, "cost: 1 record in EUR, which has no exchange rate into USD: ") {
		t.Errorf("engineering's data sources page does not say what it leaves out, or leaves out the cost:\n%s", eng[max(0, strings.Index(eng, "sec-unrated")):][:min(1500, len(eng)-max(0, strings.Index(eng, "sec-unrated")))])
	}
	// Before the spend's period begins, none of it exists to convert.
	if page := e.page(t, e.sessionAs(t, "admin"), "/sources?as_of=2026-02-01", 200); strings.Contains(page, "Money without an exchange rate") {
		t.Error("the data sources page as of February lists money that did not exist then")
	}
}
