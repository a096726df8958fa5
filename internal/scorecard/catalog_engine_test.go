package scorecard

import (
	"slices"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
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
		// The kinds it reads are its sources, both ways: a source it does
		// not read would show freshness for nothing, a kind read but not a
		// source would change the value unseen by freshness. Targets are
		// read beside the value by every metric that carries one.
		var sources, reads []string
		for _, s := range m.Sources {
			sources = append(sources, s.Kind)
		}
		for _, k := range metrics.Reads(m.ID) {
			if k != domain.KindTarget || slices.Contains(sources, string(k)) {
				reads = append(reads, string(k))
			}
		}
		slices.Sort(sources)
		slices.Sort(reads)
		if !slices.Equal(sources, reads) {
			t.Errorf("%s: catalog sources %v, engine reads %v", m.ID, sources, reads)
		}
	}
	for _, id := range metrics.IDs() {
		if _, ok := cat.Metric(id); !ok {
			t.Errorf("%s: computed but not in the catalog", id)
		}
	}
}
