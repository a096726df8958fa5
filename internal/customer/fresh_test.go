package customer_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/customer"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// judge judges by the default catalog's limits, with no connector.
func judge(tb testing.TB) customer.Judge {
	tb.Helper()
	cat, err := catalog.Default()
	if err != nil {
		tb.Fatal(err)
	}
	return customer.Judge{Catalog: cat}
}

func dataset(t *testing.T, ndjson string) *metrics.Dataset {
	t.Helper()
	ds := metrics.NewDataset(metrics.DefaultConfig())
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
		ds.Apply(r, time.Time{})
	}
	ds.Prepare()
	return ds
}

// freshOrg: acme's ticket is past its SLA; the newest ticket came at
// 09:00 on 6 Dec, the newest survey at 08:00 that day.
const freshOrg = `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2025-01-01T00:00:00Z","mrr":1000}
{"kind":"ticket","id":"k1","customer":"acme","created_at":"2026-12-01T00:00:00Z","sla_due_at":"2026-12-02T00:00:00Z"}
{"kind":"ticket","id":"k2","customer":"globex","created_at":"2026-12-06T09:00:00Z"}
{"kind":"survey","id":"v1","customer":"acme","at":"2026-12-06T08:00:00Z","type":"nps","score":3}
{"kind":"measurement","id":"m1","customer":"acme","metric":"seats","at":"2026-12-06T08:00:00Z","value":12}`

// The at-risk list and a customer's page give the freshness of each kind
// their signals read, as the data sources report judges it
// (scorecard.JudgeKind): tickets fresh the hour after their newest, stale
// (with the signals they may undercount said) a day and more after it; a
// kind never sent says so; subscriptions are a state kind, not judged by
// age, and stale only by a configured connector that stopped working; a
// kind the reader may not see is left out.
func TestListAndPageSayHowFreshTheirDataIs(t *testing.T) {
	ds := dataset(t, freshOrg)
	j := judge(t)
	status := func(data []customer.KindData) map[string]string {
		m := map[string]string{}
		for _, d := range data {
			m[d.Kind] = d.Status
		}
		return m
	}

	// An hour after the newest ticket: tickets and surveys within 1d.
	fresh := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	l := customer.ListOf(ds, j, fresh, 30*customer.Day, customer.Options{}, true)
	if got := status(l.Data); len(l.Data) != 3 || got["ticket"] != scorecard.KindFresh || got["survey"] != scorecard.KindFresh || got["subscription"] != scorecard.KindNotJudged {
		t.Errorf("fresh list's data = %+v", l.Data)
	}
	line := customer.DataLine(l.Data)
	for _, want := range []string{"Data: subscriptions (a state kind, not judged by age)", "tickets as of 6 Dec 2026 09:00 UTC", "surveys as of 6 Dec 2026 08:00 UTC"} {
		if !strings.Contains(line, want) {
			t.Errorf("fresh line %q lacks %q", line, want)
		}
	}
	if w := customer.DataWarning(l.Data); w != "" {
		t.Errorf("fresh data warns %q", w)
	}

	// 25 hours after the newest ticket, as the review's as_of was.
	stale := fresh.Add(24 * time.Hour)
	l = customer.ListOf(ds, j, stale, 30*customer.Day, customer.Options{}, true)
	if got := status(l.Data); got["ticket"] != scorecard.KindStale || got["survey"] != scorecard.KindStale || l.Data[1].Limit != "1d" {
		t.Errorf("stale list's data = %+v", l.Data)
	}
	if line := customer.DataLine(l.Data); !strings.Contains(line, "tickets as of 6 Dec 2026 09:00 UTC, stale: older than its 1d limit") {
		t.Errorf("stale line: %q", line)
	}
	if w := customer.DataWarning(l.Data); !strings.Contains(w, "Ticket data is stale: tickets past SLA and open escalated tickets may be undercounted.") ||
		!strings.Contains(w, "Survey data is stale: NPS detractors and CSATs of 2 or less may be undercounted.") {
		t.Errorf("stale warning: %q", w)
	}
	if d := l.Data[1].Detail(); d != "as of 6 Dec 2026 09:00 UTC, older than its 1d limit" {
		t.Errorf("stale tickets' detail beside their status: %q", d)
	}
	js, _ := json.Marshal(l)
	if !strings.Contains(string(js), `"data":[{"kind":"subscription","last_data":"2025-01-01T00:00:00Z","state":true,"status":"not_judged"},{"kind":"ticket","last_data":"2026-12-06T09:00:00Z","limit":"1d","status":"stale"}`) {
		t.Errorf("JSON: %s", js)
	}

	// Before the first survey: never sent, and said so.
	early := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	l = customer.ListOf(ds, j, early, 30*customer.Day, customer.Options{}, false)
	if got := status(l.Data); got["survey"] != scorecard.KindNeverSent {
		t.Errorf("surveys before the first: %+v", l.Data)
	}
	if w := customer.DataWarning(l.Data); !strings.Contains(w, "No survey data was ever sent: NPS detractors and CSATs of 2 or less cannot show.") {
		t.Errorf("never sent: %q", w)
	}
	if line := customer.DataLine(l.Data); !strings.Contains(line, "surveys never sent") || l.Data[2].Detail() != "" {
		t.Errorf("never sent line: %q", line)
	}

	// A reader who may not see surveys is not told of them.
	hidden := customer.ListOf(ds, j, stale, 30*customer.Day, customer.Options{Hide: map[domain.Kind]bool{domain.KindSurvey: true}}, true)
	if got := status(hidden.Data); len(hidden.Data) != 2 || got["survey"] != "" {
		t.Errorf("surveys hidden, yet their freshness given: %+v", hidden.Data)
	}

	// A subscription feed whose connector stopped: stale by it.
	lastOK := stale.Add(-40 * 24 * time.Hour)
	stripe := health.Connector{Source: "stripe", Kinds: []string{"subscription"}, Webhook: true, Configured: true, LastOK: &lastOK}
	fed := customer.Judge{Catalog: j.Catalog, Connectors: []health.Connector{stripe}}
	l = customer.ListOf(ds, fed, stale, 30*customer.Day, customer.Options{}, true)
	if d := l.Data[0]; d.Kind != "subscription" || d.Status != scorecard.KindStale || d.Connector != "stripe" {
		t.Errorf("subscriptions by a stopped connector: %+v", d)
	}
	if d := l.Data[0]; d.Words() != "stale: connector stripe has not worked within "+d.Limit+" (a state kind)" || d.Detail() != "connector stripe has not worked within "+d.Limit+" (a state kind)" {
		t.Errorf("subscriptions by a stopped connector: %q, %q", d.Words(), d.Detail())
	}
	if w := customer.DataWarning(l.Data); !strings.Contains(w, "Subscription data is stale (connector stripe has not worked within ") || !strings.Contains(w, "churn and MRR contraction may be undercounted") {
		t.Errorf("connector warning: %q", w)
	}
	// For a reader without sources:read, the connector is not named.
	fed.Unnamed = true
	l = customer.ListOf(ds, fed, stale, 30*customer.Day, customer.Options{}, true)
	if d := l.Data[0]; d.Status != scorecard.KindStale || d.Connector != "" ||
		d.Words() != "stale: its connector has not worked within "+d.Limit+" (a state kind)" || d.Detail() != "its connector has not worked within "+d.Limit+" (a state kind)" {
		t.Errorf("subscriptions by a stopped connector, unnamed: %+v, %q, %q", d, d.Words(), d.Detail())
	}
	if w := customer.DataWarning(l.Data); !strings.Contains(w, "Subscription data is stale (its connector has not worked within ") || strings.Contains(w, "stripe") {
		t.Errorf("connector warning, unnamed: %q", w)
	}

	// The page: the list's kinds and its measurements'.
	c, err := customer.Page(ds, j, "acme", stale, 30*customer.Day, customer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(c.Data); len(c.Data) != 4 || got["ticket"] != scorecard.KindStale || got["measurement"] == "" {
		t.Errorf("acme's page data = %+v", c.Data)
	}
	if c, _ := customer.Page(ds, j, "acme", fresh, 30*customer.Day, customer.Options{}); status(c.Data)["ticket"] != scorecard.KindFresh {
		t.Errorf("acme's page an hour after the newest ticket: %+v", c.Data)
	}
	// globex has no measurement: none judged for its page.
	if g, _ := customer.Page(ds, j, "globex", stale, 30*customer.Day, customer.Options{}); len(g.Data) != 3 {
		t.Errorf("globex's page data = %+v", g.Data)
	}
}
