package scorecard

import (
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// A metric that names peak seasons in degrading_exempt does not count a worse week inside one
// towards the degrading flag. By hand: availability 99.99, 99.98, 99.97, 99.96 % in the weekly
// windows ending 10, 17, 24 and 31 March 2026 (as_of) — worse three weeks running, degrading —
// unless the last window [24 Mar, 31 Mar) overlaps a named annotation that concerns the scope.
func TestDegradingExemptDuringAnnotation(t *testing.T) {
	exempt := []string{"peak_season"}
	cat, err := handCatalog(t).Apply(map[string]catalog.Override{"availability": {DegradingExempt: &exempt}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := cat.Metric("availability")
	ds := load(t, metrics.DefaultConfig(), degradingData(99990, 99980, 99970, 99960))
	api, _ := metrics.Scope{}.And("service", "api")
	for _, tt := range []struct {
		name  string
		ann   catalog.Annotation
		scope metrics.Scope
		want  bool // degrading
	}{
		{"peak season inside the last window", catalog.Annotation{Name: "Easter peak", Kind: "peak_season", From: "2026-03-25", To: "2026-03-27"}, metrics.Scope{}, false},
		{"named by its name, not its kind", catalog.Annotation{Name: "Easter peak", Kind: "other", From: "2026-03-25", To: "2026-03-27"}, metrics.Scope{}, true},
		{"starting at as_of: after the window", catalog.Annotation{Name: "April peak", Kind: "peak_season", From: "2026-03-31", To: "2026-04-02"}, metrics.Scope{}, true},
		{"the first window is the base, not a worse week", catalog.Annotation{Name: "Early March", Kind: "peak_season", From: "2026-03-04", To: "2026-03-05"}, metrics.Scope{}, true},
		{"a freeze is not named", catalog.Annotation{Name: "Freeze", Kind: "freeze", From: "2026-03-25", To: "2026-03-27"}, metrics.Scope{}, true},
		{"another service's peak does not exempt api", catalog.Annotation{Name: "Web peak", Kind: "peak_season", From: "2026-03-25", To: "2026-03-27", Scope: "service:web"}, api, true},
		{"api's own peak exempts api", catalog.Annotation{Name: "Api peak", Kind: "peak_season", From: "2026-03-25", To: "2026-03-27", Scope: "service:api"}, api, false},
	} {
		c := Evaluate(ds, m, Options{AsOf: asOf, Annotations: []catalog.Annotation{tt.ann}}, tt.scope, true)
		if c.Degrading != tt.want {
			t.Errorf("%s: degrading %v, want %v (series %v)", tt.name, c.Degrading, tt.want, seriesValues(c.Series))
		}
		last := c.Series[len(c.Series)-1]
		if wantExempt := !tt.want; (last.Exempt == tt.ann.Name) != wantExempt {
			t.Errorf("%s: last point exempt %q", tt.name, last.Exempt)
		}
	}
	// Without the exemption in the definition, the same peak season changes nothing.
	plain, _ := handCatalog(t).Metric("availability")
	c := Evaluate(ds, plain, Options{AsOf: asOf, Annotations: []catalog.Annotation{{Name: "Easter peak", Kind: "peak_season", From: "2026-03-25", To: "2026-03-27"}}}, metrics.Scope{}, true)
	if !c.Degrading {
		t.Error("a metric without degrading_exempt is exempted")
	}
}
