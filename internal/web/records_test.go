package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/scorecard"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// A drill-down row names a record; the record route shows it as stored,
// with where it came from: the raw input's hash, the canonical hash, when
// it was ingested and its store sequence.
func TestGetRecord(t *testing.T) {
	e := newEnv(t, 0)
	var d2Line string
	for _, l := range strings.Split(seed, "\n") {
		if strings.Contains(l, `"id":"d2"`) {
			d2Line = l
		}
	}
	stored, err := e.store.Get(context.Background(), domain.Key{Kind: domain.KindDeployment, Source: "import", ID: "d2"})
	if err != nil {
		t.Fatal(err)
	}
	scan := &domain.VulnerabilityScan{Meta: domain.Meta{ID: "ab12@2026-03-02T00:00:00Z", Source: "trivy"}, Scanner: "trivy",
		Target: "registry/api", Service: "api", ScannedAt: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Findings: 3}
	if _, err := ingest.ImportEntries(context.Background(), e.store, ingest.Options{}, func(add func(ingest.Entry) error) error {
		return add(ingest.Entry{Record: scan})
	}); err != nil {
		t.Fatal(err)
	}
	// An id may hold a slash (a GitHub "owner/repo#1" style id).
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"change","id":"gh/42","source":"github","service":"api","merged_at":"2026-03-02T00:00:00Z"}`})

	scenarios := []scenario{
		{name: "deployment", url: "/api/v1/records/deployment/import/d2", status: 200,
			fields: map[string]string{
				"kind": "deployment", "source": "import", "id": "d2",
				"record.status": "failure", "record.service": "api", "record.finished_at": "2026-03-12T00:00:00Z",
				"provenance.raw_sha256":        sha(d2Line),
				"provenance.canonical_sha256":  sha(string(stored.Body)),
				"provenance.body_matches_hash": "true",
				"provenance.seq":               fmt.Sprint(float64(stored.Seq)),
				"provenance.event_time":        "2026-03-12T00:00:00Z",
			},
			check: func(t *testing.T, doc any) {
				v, _ := lookup(doc, "provenance.ingested_at").(string)
				at, err := time.Parse(time.RFC3339Nano, v)
				if err != nil || !at.Equal(stored.IngestedAt) {
					t.Errorf("ingested_at = %v (%v), want %v", lookup(doc, "provenance.ingested_at"), err, stored.IngestedAt)
				}
			}},
		{name: "kind case and plural are forgiven", url: "/api/v1/records/Deployments/import/d2", status: 200,
			fields: map[string]string{"kind": "deployment", "id": "d2"}},
		{name: "service: reference data has no event time", url: "/api/v1/records/service/import/api", status: 200,
			fields: map[string]string{"record.team": "core", "provenance.event_time": "<nil>"}},
		{name: "id with a slash", url: "/api/v1/records/change/github/gh/42", status: 200,
			fields: map[string]string{"id": "gh/42", "source": "github", "record.service": "api"}},
		{name: "escaped slash in the id", url: "/api/v1/records/change/github/gh%2F42", status: 200,
			fields: map[string]string{"id": "gh/42"}},
		{name: "unknown id", url: "/api/v1/records/deployment/import/d9", status: 404,
			contains: []string{`no deployment record with source \"import\" and id \"d9\"`}},
		{name: "wrong source", url: "/api/v1/records/deployment/github/d2", status: 404,
			contains: []string{`source \"github\"`, `\"d2\"`}},
		{name: "unknown kind names the known kinds", url: "/api/v1/records/deploymint/import/d2", status: 400,
			fields:   map[string]string{"param": "kind"},
			contains: []string{"deploymint", "service, deployment, change, incident"}},
		{name: "read-only", method: "DELETE", url: "/api/v1/records/deployment/import/d2", status: 405},
		// A record Candor writes itself (an evidence pack names a full scan's).
		{name: "a kind Candor writes itself", url: "/api/v1/records/vulnerability_scan/trivy/ab12@2026-03-02T00:00:00Z", status: 200,
			fields: map[string]string{"kind": "vulnerability_scan", "record.target": "registry/api", "record.findings": "3"}},
		{name: "its page", url: "/records/vulnerability_scan/trivy/ab12@2026-03-02T00:00:00Z", status: 200,
			contains: []string{"registry/api", "scanned_at"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
}

// The drill-down's rows carry their kind's fields, for the page asked for.
func TestMetricRowsHaveFields(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&limit=2&offset=1", status: 200,
		fields: map[string]string{
			"records_total": "4", "records.0.id": "d2",
			"records.0.fields.finished_at": "2026-03-12T00:00:00Z", "records.0.fields.service": "api",
			"records.0.fields.environment": "production", "records.0.fields.status": "failure",
			"records.1.id": "d3", "records.1.fields.status": "success",
		},
		// Fields keep their declared order: time first.
		contains: []string{`"fields": {
        "finished_at": "2026-03-12T00:00:00Z",
        "service": "api",`}})
	// Incident rows: severity and resolution.
	e.run(t, scenario{url: "/api/v1/metrics/mttr?as_of=" + asOf, status: 200,
		fields: map[string]string{"records.0.id": "i3", "records.0.fields.severity": "P3", "records.0.fields.resolved_at": "2026-03-30T22:00:00Z"}})
}

// A metric page's records table shows a cost's amount to the cent; the
// API keeps it as recorded.
func TestRecordsTableShowsAmountsToTheCent(t *testing.T) {
	e := newEnv(t, 0)
	code, body, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"cost","id":"co-cents","period_start":"2026-03-20T00:00:00Z","period_end":"2026-03-21T00:00:00Z","amount":10038.9331,"service":"api","category":"compute"}`, nil)
	if code != 201 && code != 200 {
		t.Fatalf("POST record: %d %s", code, clip(body))
	}
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := e.get200(t, "/metrics/infrastructure_cost?as_of="+asOf)
	// The amount, and the record's value under a metric in a currency.
	table := recordsTableOf(page)
	if strings.Count(table, ">10,038.93<") != 2 || strings.Contains(table, "10,038.9331") {
		t.Errorf("the records table does not show money to the cent:\n%s", table)
	}
	if !strings.Contains(table, "value (USD)") {
		t.Errorf("a money metric's value column does not name its currency:\n%s", table)
	}
	// Under cost trend (a percentage) a cost record's value is still its
	// money in the window.
	trend := recordsTableOf(e.get200(t, "/metrics/cost_trend?as_of="+asOf))
	if !strings.Contains(trend, "value (USD)") || strings.Count(trend, ">10,038.93<") != 2 {
		t.Errorf("cost trend's records do not show their money as money:\n%s", trend)
	}
	if api := e.get200(t, "/api/v1/metrics/infrastructure_cost?as_of="+asOf); !strings.Contains(api, "10038.9331") {
		t.Errorf("the API does not keep the amount as recorded")
	}
}

// A records table shows an amount to the cent, both decimals always, as
// money is shown elsewhere, and every other number as before; a missing amount is a dash.
func TestColumnText(t *testing.T) {
	for _, c := range []struct {
		col, unit string
		v         any
		want      string
	}{
		{"amount", "", 10038.9331, "10,038.93"},
		{"amount", "", 120.5, "120.50"},
		{"amount", "", 7.0, "7.00"},
		{"amount", "", -1234.5, "-1,234.50"},
		{"amount", "", nil, "—"},
		{"value", "currency", 10038.9331, "10,038.93"},
		{"value", "currency/30d", 10038.9331, "10,038.93"},
		{"value", "hours", 2.3456, "2.3456"},
		{"good", "%", 10038.9331, "10,038.9331"},
		{"total", "", 1234567.0, "1,234,567"},
		{"service", "", "api", "api"},
		// A subscription's MRR is money, and so is an amount held as
		// Money (cost records): ARR's records had read "4,360.2".
		{"mrr", "currency", 4360.2, "4,360.20"},
		{"amount", "", domain.Money(3_333_300_000), "3,333.30"},
		{"amount", "", domain.Money(427_000_000), "427.00"},
	} {
		if got := columnText(c.v, scorecard.MoneyColumn(c.col, c.unit, false)); got != c.want {
			t.Errorf("column %q under %q: %v shown as %q, want %q", c.col, c.unit, c.v, got, c.want)
		}
	}
}

// A records table's value column says its unit and keeps the headline's
// precision: time to restore's records had read "1.8864" under "3.4 h".
func TestRecordsTableValueHasItsUnit(t *testing.T) {
	e := newEnv(t, 0)
	page := e.get200(t, "/metrics/mttr?as_of="+asOf)
	table := recordsTableOf(page)
	if !strings.Contains(table, "value (hours)") {
		t.Errorf("the value column does not say its unit:\n%s", table)
	}
	if long := regexp.MustCompile(`>\d+\.\d{3,}<`).FindString(table); long != "" {
		t.Errorf("a value shown to more decimals than hundredths of an hour: %s", long)
	}
}

// The value column comes right after the record's id, where a laptop's
// width shows it: time to restore's came after eight fields, past the
// table's edge at 1366 px until scrolled.
func TestRecordsTableValueBesideTheID(t *testing.T) {
	e := newEnv(t, 0)
	table := recordsTableOf(e.get200(t, "/metrics/mttr?as_of="+asOf))
	heads := regexp.MustCompile(`<th scope="col"[^>]*><a class="sort"[^>]*>([^<]+)`).FindAllStringSubmatch(table, -1)
	if len(heads) < 3 || heads[0][1] != "record" || heads[1][1] != "value (hours)" {
		t.Errorf("columns %q, want record then value (hours)", heads)
	}
}

// A breakdown in money whose lines do not add up to the value above says
// each line is the metric for its own part; one that adds up says nothing.
func TestBreakdownSaysWhenLinesDoNotAdd(t *testing.T) {
	ptr := func(v float64) *float64 { return &v }
	d := &scorecard.MetricDetail{Card: scorecard.Card{ID: "cost_per_active_customer", Name: "Cost per active customer", Unit: "currency/30d", Value: ptr(739.83)}, By: "service",
		Breakdown: []scorecard.BreakdownLine{{Key: "api", Value: ptr(500.0)}, {Key: "web", Value: ptr(336.23)}}}
	format := func(v *float64) string { return scorecard.FormatValue(v, "currency/30d", "USD") }
	if got, want := notASum(d, format), "Each line is this metric for its service alone: a ratio's lines are not parts of the value above and do not add up to it."; got != want {
		t.Errorf("notASum = %q, want %q", got, want)
	}
	// A sum whose lines overlap (an incident of two services) gives their sum.
	sum := *d
	sum.Card.ID, sum.Card.Unit, sum.Card.AddsUp = "incidents_p0_p1", "count", true
	sum.Card.Value = ptr(3)
	sum.Breakdown = []scorecard.BreakdownLine{{Key: "api", Value: ptr(2)}, {Key: "web", Value: ptr(2)}}
	if got, want := notASum(&sum, func(v *float64) string { return scorecard.FormatValue(v, "count", "") }), "Each line is this metric for its service alone: the lines add up to 4, not to the 3 above."; got != want {
		t.Errorf("notASum of a sum = %q, want %q", got, want)
	}
	d.Breakdown[1].Value = ptr(239.83)
	if got := notASum(d, format); got != "" {
		t.Errorf("lines that add up: %q", got)
	}
	d.Card.Unit, d.Breakdown[1].Value = "%", ptr(1.0)
	if got := notASum(d, format); got != "" {
		t.Errorf("shares: %q", got)
	}
}

// Only durations and money name their unit in a records table's value
// column: under CSAT (%) a record's value is a survey's score, under CAC
// payback (months) a spend amount.
func TestValueColumnNamesOnlyWhatItKnows(t *testing.T) {
	for unit, want := range map[string]string{"hours": "value (hours)", "currency": "value (EUR)", "currency/30d": "value (EUR)",
		"%": "value", "months": "value", "count": "value", "x": "value"} {
		if got, _ := valueColumn(unit, "EUR"); got != want {
			t.Errorf("valueColumn(%q) = %q, want %q", unit, got, want)
		}
	}
}

// Under sales cycle length a won deal's value is its days from creation to
// the win: its records table says days, though a deal carries a currency
// (the table had read "value (USD)" over "142.91", a 143-day deal).
func TestDealDaysAreNotMoney(t *testing.T) {
	e := newEnv(t, 0)
	code, body, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"opportunity","id":"o-days","created_at":"2026-03-01T00:00:00Z","qualified_at":"2026-03-03T00:00:00Z","closed_at":"2026-03-25T12:00:00Z","won":true,"stage":"closed_won","amount":19000,"currency":"USD","owner":"ann"}`, nil)
	if code != 201 && code != 200 {
		t.Fatalf("POST record: %d %s", code, clip(body))
	}
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	table := recordsTableOf(e.get200(t, "/metrics/sales_cycle_length?as_of="+asOf))
	if !strings.Contains(table, "value (days)") || strings.Contains(table, "value (USD)") || !strings.Contains(table, ">24.5<") {
		t.Errorf("a deal's days under sales cycle length are not shown as days:\n%s", table)
	}
	// Its amount is still money.
	if !strings.Contains(table, ">19,000.00<") {
		t.Errorf("the deal's amount is not shown as money:\n%s", table)
	}
}
