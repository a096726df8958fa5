package scorecard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"
)

// A drill-down row says what a reader needs to see which deployments
// failed — time, service, environment, status — for the page served, in
// JSON and in text.
func TestDetailRowsCarryFields(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	d, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	d.Page(ds, 1, 2)
	if d.RecordsTotal != 4 || d.RecordsOffset != 1 || len(d.Records) != 2 {
		t.Fatalf("page = total %d offset %d, %d rows", d.RecordsTotal, d.RecordsOffset, len(d.Records))
	}
	d2, d3 := d.Records[0], d.Records[1]
	if d2.ID != "d2" || d2.Fields.Get("status") != "failure" || d2.Fields.Get("service") != "api" ||
		d2.Fields.Get("environment") != "production" || d3.ID != "d3" || d3.Fields.Get("status") != "success" {
		t.Errorf("rows = %+v", d.Records)
	}
	b, _ := json.Marshal(d)
	if !strings.Contains(string(b), `{"kind":"deployment","id":"d2","source":"import","note":"`) ||
		!strings.Contains(string(b), `"fields":{"finished_at":"2026-03-12T00:00:00Z","service":"api","environment":"production","status":"failure"}}`) {
		t.Errorf("JSON rows:\n%s", b)
	}

	text := DetailText(d, TextOptions{})
	var header, row string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "finished_at") {
			header = l
		}
		if strings.Contains(l, "import/d2") {
			row = l
		}
	}
	for _, want := range []string{"record", "finished_at", "service", "environment", "status", "note"} {
		if !strings.Contains(header, want) {
			t.Errorf("header %q lacks %q:\n%s", header, want, text)
		}
	}
	for _, want := range []string{"deployment import/d2", "2026-03-12T00:00:00Z", "api", "production", "failure"} {
		if !strings.Contains(row, want) {
			t.Errorf("d2 row %q lacks %q:\n%s", row, want, text)
		}
	}
	// Columns line up: each value starts under its name.
	if i, j := strings.Index(header, "status"), strings.Index(row, "failure"); i != j {
		t.Errorf("status column at %d, failure at %d:\n%s", i, j, text)
	}
	if !strings.Contains(text, "Records behind the value (4), 2–3 shown") {
		t.Errorf("text does not say which rows it shows:\n%s", text)
	}
}

// Money in the CLI's records tables reads as on the pages' — to the cent,
// thousands grouped — where ARR's had read "4360.2" and "20000": an
// amount or MRR field, the value under a metric in a currency, and the
// value of records of money under a metric in another unit (CAC
// payback's spend). Other numbers keep their own precision.
func TestDetailTextMoney(t *testing.T) {
	sub := metrics.Ref{Kind: "subscription", ID: "s1", Source: "import", Value: ptr(20000),
		Fields: metrics.Fields{{Name: "mrr", Value: 4360.2}, {Name: "currency", Value: "USD"}}}
	text := DetailText(&MetricDetail{Definition: Definition{Unit: "currency"}, RecordsTotal: 1, Records: []metrics.Ref{sub}}, TextOptions{})
	for _, want := range []string{"4,360.20", "20,000.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("ARR's records lack %q:\n%s", want, text)
		}
	}
	spend := metrics.Ref{Kind: "spend", ID: "p1", Source: "import", Value: ptr(1234.5),
		Fields: metrics.Fields{{Name: "amount", Value: 1234.5}, {Name: "currency", Value: "USD"}}}
	text = DetailText(&MetricDetail{Definition: Definition{Unit: "months"}, RecordsTotal: 1, Records: []metrics.Ref{spend}}, TextOptions{})
	if strings.Count(text, "1,234.50") != 2 {
		t.Errorf("CAC payback's spend records want amount and value 1,234.50:\n%s", text)
	}
	survey := metrics.Ref{Kind: "survey", ID: "v1", Source: "import", Value: ptr(4.5), Fields: metrics.Fields{{Name: "score", Value: 4.5}}}
	text = DetailText(&MetricDetail{Definition: Definition{Unit: "%"}, RecordsTotal: 1, Records: []metrics.Ref{survey}}, TextOptions{})
	if strings.Contains(text, "4.50") || !strings.Contains(text, "4.5") {
		t.Errorf("a survey's score is not money:\n%s", text)
	}
}

// Rows of several kinds (a cost metric reads cost and usage) each get
// their kind's header.
func TestDetailTextMixedKinds(t *testing.T) {
	d := &MetricDetail{RecordsTotal: 3, Records: []metrics.Ref{
		{Kind: "cost", ID: "k1", Source: "import", Fields: metrics.Fields{{Name: "amount", Value: 1050.5}, {Name: "service", Value: nil}}},
		{Kind: "usage", ID: "u1", Source: "import", Fields: metrics.Fields{{Name: "active_customers", Value: 12.0}}},
		{Kind: "usage", ID: "u2", Source: "import", Fields: metrics.Fields{{Name: "active_customers", Value: 14.0}}},
	}}
	text := DetailText(d, TextOptions{})
	for _, want := range []string{"cost import/k1", "amount", "1,050.50", "—", "usage import/u1", "active_customers", "usage import/u2", "14"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "active_customers") != 1 {
		t.Errorf("one header per run of a kind:\n%s", text)
	}
}

// A metric's settings are named with what put each in force, one loop
// for the metric's page, candor metric and the board pack; without a
// source (no governance) they are left as they are.
func TestSettingSourceNames(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	d, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil || len(d.Definition.Settings) == 0 {
		t.Fatalf("change failure rate's settings: %+v (%v)", d, err)
	}
	SettingSource(nil).Name(d.Definition.Settings, asOf)
	if d.Definition.Settings[0].Ref != "" {
		t.Errorf("named without a source: %+v", d.Definition.Settings)
	}
	var asked []string
	SettingSource(func(name string, at time.Time) (string, time.Time) {
		asked = append(asked, name+"@"+at.Format(time.DateOnly))
		return "proposal 7", asOf.Add(-time.Hour)
	}).Name(d.Definition.Settings, asOf)
	if st := d.Definition.Settings[0]; st.Ref != "proposal 7" || !st.Since.Equal(asOf.Add(-time.Hour)) || len(asked) != len(d.Definition.Settings) ||
		asked[0] != string(st.Name)+"@"+asOf.Format(time.DateOnly) {
		t.Errorf("named %+v, asked %v", d.Definition.Settings, asked)
	}
}
