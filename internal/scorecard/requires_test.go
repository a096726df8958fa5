package scorecard

import (
	"testing"

	"github.com/candor/candor/internal/metrics"
)

// The kinds without which a metric has no value (metrics.Requires) are
// among the sources its catalog entry lists, so the freshness shown beside
// a value covers everything the value needs.
func TestRequiredKindsAreSources(t *testing.T) {
	cat := defaultCatalog(t)
	for _, m := range cat.Metrics {
		src := map[string]bool{}
		for _, s := range m.Sources {
			src[s.Kind] = true
		}
		for _, k := range metrics.Requires(m.ID) {
			if !src[string(k)] {
				t.Errorf("%s requires %s data, but its catalog sources are %v", m.ID, k, m.Sources)
			}
		}
	}
}
