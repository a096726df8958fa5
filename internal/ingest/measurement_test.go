package ingest

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
)

// Measurements import from NDJSON and CSV alike; the same reading in
// either form is the same record, so re-importing changes nothing; a bad
// reading names its file, line and field and the file changes nothing.
func TestImportMeasurements(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	ndjson := nd(
		`{"kind":"measurement","id":"th-payments-2026-03","source":"pulse","metric":"team_health","at":"2026-03-01T09:00:00Z","value":3.9,"team":"payments","unit":"score"}`,
		`{"kind":"measurement","id":"lat-checkout-2026-03-01","metric":"page_latency_p95","at":"2026-03-02T00:00:00Z","value":412,"service":"checkout","unit":"ms","tags":{"region":"eu","browser":"firefox"}}`,
	)
	csv := "id,metric,at,value,service,team,customer,segment,unit,tags\n" +
		"adopt-1,feature_adoption,2026-03-02T06:00:00Z,41.5,checkout,,acme,enterprise,%,feature=saved_carts;cohort=beta\n" +
		"conv-1,trial_conversion,2026-03-02T06:00:00Z,0,,,,smb,%,\n"
	first := mustImport(t, st, Options{}, src("analytics.ndjson", ndjson), src("measurements.csv", csv))
	if got := byKind(first)[domain.KindMeasurement]; got != ks(4, 4, 0, 0) {
		t.Fatalf("first import: %+v", got)
	}
	s, err := st.Get(ctx, domain.Key{Kind: domain.KindMeasurement, Source: "import", ID: "adopt-1"})
	if err != nil {
		t.Fatal(err)
	}
	var m domain.Measurement
	if err := json.Unmarshal(s.Body, &m); err != nil {
		t.Fatal(err)
	}
	want := domain.Measurement{Meta: domain.Meta{ID: "adopt-1", Source: "import"}, Metric: "feature_adoption", At: m.At, Value: 41.5, Service: "checkout",
		Customer: "acme", Segment: "enterprise", Unit: "%", Tags: []string{"feature=saved_carts", "cohort=beta"}}
	if m.At.Format("2006-01-02T15:04:05Z07:00") != "2026-03-02T06:00:00Z" || !reflect.DeepEqual(m, want) {
		t.Errorf("stored %s", s.Body)
	}
	before := snap(t, st)

	// The same readings again, and the NDJSON latency reading as a CSV row
	// (tags in key order, as the object form stores them).
	again := mustImport(t, st, Options{}, src("analytics.ndjson", ndjson), src("measurements.csv", csv),
		src("2026-03_measurements.csv", "id,metric,at,value,service,unit,tags\nlat-checkout-2026-03-01,page_latency_p95,2026-03-02T00:00:00Z,412.0,checkout,ms,browser=firefox;region=eu\n"))
	// The latency reading twice in the import: the second is a repeat.
	wantKind := ks(5, 0, 0, 4)
	wantKind.Repeated = 1
	if got := byKind(again)[domain.KindMeasurement]; got != wantKind {
		t.Errorf("re-import: %+v, want 4 unchanged and 1 repeated", got)
	}
	assertUnchanged(t, st, before)

	// A reading whose value is not a number refuses the whole file.
	bad := strings.Replace(csv, "conv-1,trial_conversion,2026-03-02T06:00:00Z,0,", "conv-1,trial_conversion,2026-03-02T06:00:00Z,n/a,", 1) +
		"adopt-2,feature_adoption,2026-03-09T06:00:00Z,44,checkout,,,,%,\n"
	_, err = doImport(ctx, st, []Source{src("measurements.csv", bad)}, Options{})
	inv := wantInvalid(t, err)
	if len(inv.Lines) != 1 || inv.Lines[0].File != "measurements.csv" || inv.Lines[0].Line != 3 || inv.Lines[0].Field != "value" ||
		!strings.HasPrefix(inv.Lines[0].Error(), `measurements.csv:3: field value: "n/a" is not a number`) {
		t.Errorf("error %v, want measurements.csv line 3 field value", err)
	}
	assertUnchanged(t, st, before)
}
