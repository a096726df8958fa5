package scorecard

import (
	"slices"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// The catalog documents each metric's breakdowns; the engine computes
// them. They must agree, or the docs promise what the API refuses.
func TestCatalogMatchesEngine(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cat.Metrics {
		if !metrics.Known(m.ID) {
			t.Errorf("%s: in the catalog but not computed", m.ID)
			continue
		}
		a, b := slices.Clone(m.Breakdowns), slices.Clone(metrics.Dims(m.ID))
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: catalog breakdowns %v, engine computes %v", m.ID, a, b)
		}
	}
	for _, id := range metrics.IDs() {
		if _, ok := cat.Metric(id); !ok {
			t.Errorf("%s: computed but not in the catalog", id)
		}
	}
}
