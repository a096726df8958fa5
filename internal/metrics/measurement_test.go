package metrics

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

const measurementData = `
{"kind":"service","id":"api","name":"API","team":"core","tier":1,"business_unit":"b2b"}
{"kind":"service","id":"web","name":"Web","team":"growth","tier":2}
{"kind":"measurement","id":"m1","source":"amplitude","metric":"page_latency_p95","at":"2026-03-10T00:00:00Z","value":412.5,"service":"api","customer":"acme","segment":"enterprise","unit":"ms","tags":{"region":"eu","browser":"firefox"}}
{"kind":"measurement","id":"m2","metric":"team_health","at":"2026-03-12T00:00:00Z","value":3.8,"team":"culture","unit":"score"}
{"kind":"measurement","id":"m3","metric":"team_health","at":"2026-03-14T00:00:00Z","value":4.1,"service":"web","team":"platform"}
{"kind":"measurement","id":"m4","metric":"feature_adoption","at":"2026-03-20T00:00:00Z","value":0,"service":"web","unit":"%","tags":["beta"]}
`

// A measurement imported is walked back with every field it was given,
// in the window its at falls in, and only there.
func TestMeasurementRowsRoundTrip(t *testing.T) {
	d := load(t, nil, measurementData)
	type got struct {
		id, source, metric, service, team, customer, segment, unit string
		value                                                      float64
		at                                                         time.Time
		tags                                                       []string
	}
	var all []got
	for x := range d.measurements().in(ts(t, "2026-03-01T00:00:00Z").UnixNano(), ts(t, "2026-03-20T00:00:00Z").UnixNano()) {
		all = append(all, got{d.str(x.id), d.str(x.source), d.str(x.metric), d.str(x.service), d.str(x.team), d.str(x.customer),
			d.str(x.segment), d.str(x.unit), x.value, time.Unix(0, x.at).UTC(), d.measurementTags(x)})
	}
	want := []got{
		{"m1", "amplitude", "page_latency_p95", "api", "", "acme", "enterprise", "ms", 412.5, ts(t, "2026-03-10T00:00:00Z"), []string{"browser=firefox", "region=eu"}},
		{"m2", "import", "team_health", "", "culture", "", "", "score", 3.8, ts(t, "2026-03-12T00:00:00Z"), nil},
		{"m3", "import", "team_health", "web", "platform", "", "", "", 4.1, ts(t, "2026-03-14T00:00:00Z"), nil},
	}
	if len(all) != len(want) {
		t.Fatalf("walked %+v, want %+v (m4 is at the window's end, outside it)", all, want)
	}
	for i := range want {
		if !reflect.DeepEqual(all[i], want[i]) {
			t.Errorf("row %d = %+v, want %+v", i, all[i], want[i])
		}
	}
	// Re-importing a measurement replaces it: one row, the new value.
	apply(t, d, `{"kind":"measurement","id":"m4","metric":"feature_adoption","at":"2026-03-21T00:00:00Z","value":37.5,"service":"web","unit":"%","tags":["beta"]}`)
	var m4 []float64
	for x := range d.measurements().all() {
		if d.str(x.id) == "m4" {
			m4 = append(m4, x.value)
		}
	}
	if !slices.Equal(m4, []float64{37.5}) || d.Counts()[domain.KindMeasurement] != 4 {
		t.Errorf("after re-import m4 rows %v, %d measurements; want one row of 37.5 and 4", m4, d.Counts()[domain.KindMeasurement])
	}
}

// A measurement exists from its at (SPEC §3): before it, it is not
// counted, its kind has no data, and its drill-down row shows no time.
func TestMeasurementExistsFromAt(t *testing.T) {
	d := load(t, nil, measurementData)
	before, after := ts(t, "2026-03-09T00:00:00Z"), ts(t, "2026-03-11T00:00:00Z")
	if n := d.CountAt(domain.KindMeasurement, before); n != 0 {
		t.Errorf("as of %s: %d measurements, want 0", before, n)
	}
	if n := d.CountAt(domain.KindMeasurement, after); n != 1 {
		t.Errorf("as of %s: %d measurements, want 1", after, n)
	}
	if last, ok := d.LastData(domain.KindMeasurement, after); !ok || !last.Equal(ts(t, "2026-03-10T00:00:00Z")) {
		t.Errorf("last data as of %s = %v %v, want m1's at", after, last, ok)
	}
	if _, ok := d.LastData(domain.KindMeasurement, before); ok {
		t.Errorf("last data as of %s: some, want none", before)
	}
	ref := []Ref{{Kind: domain.KindMeasurement, Source: "amplitude", ID: "m1"}}
	if v := d.Describe(ref, before)[0].Fields.Get("at"); v != nil {
		t.Errorf("m1's at as of %s = %v, want absent", before, v)
	}
	if v := d.Describe(ref, after)[0].Fields.Get("at"); v != ts(t, "2026-03-10T00:00:00Z") {
		t.Errorf("m1's at as of %s = %v", after, v)
	}
	for _, c := range []struct {
		scope Scope
		asOf  time.Time
		want  bool
	}{
		{Scope{}, before, false},
		{Scope{}, after, true},
		{Scope{Dim: "service", Value: "api"}, after, true},
		{Scope{Dim: "service", Value: "web"}, after, false},                         // m3 is not yet taken
		{Scope{Dim: "team", Value: "core"}, after, true},                            // m1 through its service
		{Scope{Dim: "team", Value: "culture"}, after, false},                        // m2 is not yet taken
		{Scope{Dim: "team", Value: "culture"}, ts(t, "2026-03-13T00:00:00Z"), true}, // m2's own team, no service
		{Scope{Dim: "segment", Value: "enterprise"}, after, true},
		{Scope{Dim: "segment", Value: "smb"}, ts(t, "2026-04-01T00:00:00Z"), false},
		{Scope{Dim: "environment", Value: "production"}, after, true}, // not a measurement's dimension: no narrowing
	} {
		if got := d.present(domain.KindMeasurement, Query{AsOf: c.asOf, Scope: c.scope}); got != c.want {
			t.Errorf("present in %v as of %s = %v, want %v", c.scope, c.asOf.Format(time.DateOnly), got, c.want)
		}
	}
}

// A measurement's own team wins over its service's; without one it is its
// service's. Own teams are dimension values, so a team scope naming one is
// not refused as unknown.
func TestMeasurementTeam(t *testing.T) {
	d := load(t, nil, measurementData)
	teams := map[string]string{}
	for x := range d.measurements().all() {
		teams[d.str(x.id)] = d.measurementTeam(x)
	}
	if want := map[string]string{"m1": "core", "m2": "culture", "m3": "platform", "m4": "growth"}; !maps.Equal(teams, want) {
		t.Errorf("teams %v, want %v", teams, want)
	}
	if got := d.DimValues("team"); !slices.Equal(got, []string{"core", "culture", "growth", "platform"}) {
		t.Errorf("team values %v", got)
	}
	if err := d.CheckScope(Scope{Dim: "team", Value: "culture"}); err != nil {
		t.Errorf("team:culture refused: %v", err)
	}
	if got := d.DimValues("segment"); !slices.Contains(got, "enterprise") {
		t.Errorf("segment values %v lack the measurement's", got)
	}
	// Under a tier-2 scope: web's team, and the own team of web's m3.
	if got := d.DimValuesIn("team", Scope{Dim: "tier", Value: "2"}); !slices.Equal(got, []string{"growth", "platform"}) {
		t.Errorf("teams under tier 2: %v", got)
	}
	var in []string
	for x := range d.measurements().all() {
		if d.matchMeasurement(Query{Scope: Scope{Dim: "team", Value: "growth"}}, x) {
			in = append(in, d.str(x.id))
		}
	}
	if !slices.Equal(in, []string{"m4"}) {
		t.Errorf("team growth holds %v, want m4 only (m3 names its own team)", in)
	}
}

// measurementsIn walks W — at in [as_of − window, as_of) — in the
// query's scope, by at.
func TestMeasurementsIn(t *testing.T) {
	d := load(t, nil, measurementData)
	walk := func(q Query) []string {
		var ids []string
		for x := range d.measurementsIn(q) {
			ids = append(ids, d.str(x.id))
		}
		return ids
	}
	asOf := ts(t, "2026-03-20T00:00:00Z")
	for _, c := range []struct {
		q    Query
		want []string
	}{
		{Query{AsOf: asOf, Window: 30 * day}, []string{"m1", "m2", "m3"}}, // m4 at as_of: not yet in W
		{Query{AsOf: asOf.Add(time.Nanosecond), Window: 30 * day}, []string{"m1", "m2", "m3", "m4"}},
		{Query{AsOf: asOf, Window: 8 * day}, []string{"m2", "m3"}}, // W starts 03-12, m2's at: in
		{Query{AsOf: asOf.Add(day), Window: 30 * day, Scope: Scope{Dim: "service", Value: "web"}}, []string{"m3", "m4"}},
		{Query{AsOf: asOf.Add(day), Window: 30 * day, Scope: Scope{Dim: "team", Value: "growth"}}, []string{"m4"}},
		{Query{AsOf: asOf.Add(day), Window: 30 * day, Scope: Scope{Dim: "team", Value: "culture"}}, []string{"m2"}},
		{Query{AsOf: asOf.Add(day), Window: 30 * day, Scope: Scope{Dim: "tier", Value: "1"}}, []string{"m1"}},
		{Query{AsOf: asOf.Add(day), Window: 30 * day, Scope: Scope{Dim: "segment", Value: NoneKey}}, []string{"m2", "m3", "m4"}},
	} {
		if got := walk(c.q); !slices.Equal(got, c.want) {
			t.Errorf("as of %s window %s scope %v: %v, want %v", c.q.AsOf, c.q.Window, c.q.Scope, got, c.want)
		}
	}
}
