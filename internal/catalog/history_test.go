package catalog

import (
	"strings"
	"testing"
	"time"
)

func governedCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c.Governed()
}

func num(v float64) *float64 { return &v }

func TestGovernKeepsEveryVersionAndAnswersAsOf(t *testing.T) {
	c := governedCatalog(t)
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t2 := t1.AddDate(0, 1, 0)
	err := c.Govern([]Change{
		// Given out of order: history is by time.
		{Metric: "change_failure_rate", At: t2, Override: Override{Thresholds: &Thresholds{Green: 3, Amber: 10}}, Ref: "proposal 2"},
		{Metric: "change_failure_rate", At: time.Time{}, Override: Override{Owner: "CTO"}, Ref: "configuration"},
		{Metric: "change_failure_rate", At: t1, Override: Override{Window: "60d"}, Ref: "proposal 1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Metric("change_failure_rate")
	vs := m.Versions()
	if len(vs) != 4 {
		t.Fatalf("%d versions, want built-in + 3", len(vs))
	}
	for i, want := range []struct {
		version int
		ref     string
	}{{1, ""}, {2, "configuration"}, {3, "proposal 1"}, {4, "proposal 2"}} {
		if vs[i].Version != want.version || vs[i].Ref != want.ref {
			t.Errorf("version %d: %d %q, want %d %q", i, vs[i].Version, vs[i].Ref, want.version, want.ref)
		}
	}
	before := m.At(t1.Add(-time.Second))
	if before.Owner != "CTO" || before.Window != 30*day || before.Thresholds.Green != 5 {
		t.Errorf("before the first proposal: owner %s window %s green %v", before.Owner, before.Window, before.Thresholds.Green)
	}
	at := m.At(t1)
	if at.Window != 60*day || at.Thresholds.Green != 5 || at.Version != 3 {
		t.Errorf("at the first proposal: window %s green %v version %d", at.Window, at.Thresholds.Green, at.Version)
	}
	if now := c.At(t2.Add(time.Hour)); now.Metrics[indexOf(now, "change_failure_rate")].Thresholds.Green != 3 {
		t.Error("the catalog after the second proposal does not have its thresholds")
	}
	// The base fields stay the built-in definitions.
	if m.Window != 30*day || m.Owner == "CTO" {
		t.Errorf("the governed catalog's own metric changed: %s %s", m.Window, m.Owner)
	}
	// A copy handed out before a change sees it.
	later := t2.AddDate(0, 1, 0)
	if err := c.Govern([]Change{{Metric: "change_failure_rate", At: later, Retire: true, Ref: "proposal 3"}}); err != nil {
		t.Fatal(err)
	}
	if !m.At(later).Retired || m.At(later.Add(-time.Nanosecond)).Retired {
		t.Error("retirement is not in force exactly from its time")
	}
	if len(m.Versions()) != 2 {
		t.Errorf("Govern replaces the history: %d versions", len(m.Versions()))
	}
}

func indexOf(c *Catalog, id string) int {
	for i := range c.Metrics {
		if c.Metrics[i].ID == id {
			return i
		}
	}
	return -1
}

func TestGovernRefusesBadChanges(t *testing.T) {
	c := governedCatalog(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		changes []Change
		want    string
	}{
		{[]Change{{Metric: "nope", At: at, Ref: "proposal 1"}}, `proposal 1: no metric "nope"`},
		{[]Change{{Metric: "mttr", At: at, Override: Override{Window: "-3d"}, Ref: "proposal 2"}}, "proposal 2: "},
		{[]Change{{Metric: "mttr", At: at, Retire: true, Ref: "proposal 3"}, {Metric: "mttr", At: at.Add(time.Hour), Override: Override{Owner: "x"}, Ref: "proposal 4"}}, "proposal 4: metric mttr was retired"},
	} {
		err := c.Govern(tc.changes)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.changes, err, tc.want)
		}
	}
	if m, _ := c.Metric("mttr"); len(m.Versions()) != 1 {
		t.Error("a refused history was kept")
	}
	if _, err := Default(); err != nil {
		t.Fatal(err)
	}
	plain, _ := Default()
	if err := plain.Govern(nil); err == nil {
		t.Error("Govern on a plain catalog")
	}
}

func TestLoosens(t *testing.T) {
	c, _ := Default()
	cfr, _ := c.Metric("change_failure_rate") // lower is better, green 5 amber 15
	avail, _ := c.Metric("availability")      // higher is better
	with := func(m *Metric, f func(*Metric)) *Metric { n := m.clone(); f(&n); return &n }
	for _, tc := range []struct {
		name      string
		old, next *Metric
		fields    []string
	}{
		{"stricter cfr", cfr, with(cfr, func(m *Metric) { m.Thresholds = &Thresholds{Green: 3, Amber: 10} }), nil},
		{"lenient cfr", cfr, with(cfr, func(m *Metric) { m.Thresholds = &Thresholds{Green: 5, Amber: 20} }), []string{"thresholds"}},
		{"lenient availability", avail, with(avail, func(m *Metric) { m.Thresholds = &Thresholds{Green: 99.5, Amber: 99} }), []string{"thresholds", "thresholds"}},
		{"longer window", cfr, with(cfr, func(m *Metric) { m.Window = 90 * day }), []string{"window"}},
		{"shorter window", cfr, with(cfr, func(m *Metric) { m.Window = 7 * day }), nil},
		{"retire", cfr, with(cfr, func(m *Metric) { m.Retired = true }), []string{"retire"}},
		{"lower target of higher-better", with(avail, func(m *Metric) { m.Target = num(99.9) }), with(avail, func(m *Metric) { m.Target = num(99) }), []string{"target"}},
		{"owner", cfr, with(cfr, func(m *Metric) { m.Owner = "CTO" }), nil},
		{"min_sample up", cfr, with(cfr, func(m *Metric) { m.MinSample = 50 }), []string{"min_sample"}},
	} {
		var got []string
		for _, l := range Loosens(tc.old, tc.next) {
			got = append(got, l.Field)
		}
		if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.fields)
		}
	}
}

func TestParseOverrideNamesUnknownFields(t *testing.T) {
	o, err := ParseOverride([]byte(`{"thresholds": {"green": 3, "amber": 10}, "min_sample": 8}`))
	if err != nil || o.Thresholds.Green != 3 || int(*o.MinSample) != 8 {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := ParseOverride([]byte(`{"treshold": 3}`)); err == nil || !strings.Contains(err.Error(), "treshold") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := ParseOverride([]byte(`{"min_sample": 2.5}`)); err == nil {
		t.Error("a fractional min_sample was accepted")
	}
}
