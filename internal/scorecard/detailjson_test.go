package scorecard

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/jsonenc"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/metrics/metricstest"
)

// TestDetailAppendJSONMatchesMarshal: every metric's page (with a
// breakdown, a scope, paged records, flow stages and the MRR bridge's
// customers where the metric has them), the zero page and one with every
// optional member encode by hand as json.Marshal encodes them; and the
// encoder knows every member of MetricDetail.
func TestDetailAppendJSONMatchesMarshal(t *testing.T) {
	known := []string{"Definition", "AsOf", "Month", "Closing", "Card", "By", "Breakdown", "Records", "RecordsTotal", "RecordsOffset",
		"RecordsLimit", "Scope", "Dimensions", "Problems", "FlowStages", "Customers",
		"page",   // page is not written: the described records, shared (metrics.Page)
		"closes"} // nor closes: whether a closing read changes the metric (Closing says it was read so)
	ty := reflect.TypeOf(MetricDetail{})
	if ty.NumField() != len(known) {
		t.Fatalf("MetricDetail has %d members, AppendJSON writes %d: add the new one to it and here", ty.NumField(), len(known))
	}
	for i, name := range known {
		if ty.Field(i).Name != name {
			t.Fatalf("member %d is %s, AppendJSON writes %s there", i, ty.Field(i).Name, name)
		}
	}
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(t, 0.02, end)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	check := func(label string, d *MetricDetail) {
		t.Helper()
		want, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		same := func(how string, got, want []byte) {
			t.Helper()
			if string(got) != string(want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("%s: %s differs at byte %d:\n…%s\njson.Marshal:\n…%s", label, how, i, got[max(0, i-200):min(len(got), i+200)], want[max(0, i-200):min(len(want), i+200)])
			}
		}
		same("AppendJSON", got, want)
		// Indented, d is an answer: what jsonenc writes of its fields as
		// one (floats tidied), indented.
		plain, err := jsonenc.AppendAnswer(nil, (*plainDetail)(d))
		if err != nil {
			t.Fatal(err)
		}
		if got, err = d.AppendJSONIndent(nil); err != nil {
			t.Fatal(err)
		}
		same("AppendJSONIndent", got, jsonenc.AppendIndent(nil, plain))
	}
	check("zero", &MetricDetail{})
	for _, m := range cat.Metrics {
		by := ""
		if dims := metrics.Dims(m.ID); len(dims) > 0 {
			by = dims[0]
		}
		d, err := Detail(cat, ds, m.ID, Options{AsOf: end}, by, metrics.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		d.Page(ds, 1, 40)
		check(m.ID, d)
		d.Scope = &metrics.Scope{Dim: "team", Value: "pay<ments>"}
		d.RecordsOffset, d.RecordsLimit = 3, 7
		d.Month = "2026-10"
		d.Closing = true
		check(m.ID+" with every member", d)
	}
}

// plainDetail is a MetricDetail without its own writers.
type plainDetail MetricDetail

// BenchmarkDetailJSON encodes a metric page of 1,000 records (lead time
// for changes at scale 0.1) both ways.
func BenchmarkDetailJSON(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(b, 0.1, end)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	d, err := Detail(cat, ds, "lead_time_for_changes", Options{AsOf: end}, "team", metrics.Scope{})
	if err != nil {
		b.Fatal(err)
	}
	d.Page(ds, 0, 1000)
	if len(d.Records) < 1000 {
		b.Fatalf("%d records, want a page of 1,000", len(d.Records))
	}
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = d.AppendJSON(buf[:0])
		}
	})
	b.Run("AppendJSON+AppendIndent", func(b *testing.B) {
		var raw, buf []byte
		for b.Loop() {
			raw, _ = d.AppendJSON(raw[:0])
			buf = jsonenc.AppendIndent(buf[:0], raw)
		}
	})
	b.Run("AppendJSONIndent", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = d.AppendJSONIndent(buf[:0])
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(d)
		}
	})
}
