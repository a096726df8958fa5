package scorecard

import (
	"slices"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// HideAmounts blanks the amounts of the records behind the value whose kind
// hide reports: each such row's value and every number among its fields (a
// subscription's MRR, an opportunity's amount) become null, while what
// identifies the record stays. A viewer may see a metric, such as logo
// churn, whose records carry revenue they may not see (SPEC §9).
//
// It works on a copy of the rows, so it may run before or after Page
// without touching the result cache; a copy made only when it hides
// something: a drill-down's page of 1,000 rows copied for every request
// of a viewer who may see them all was a tenth of what a server allocated
// while it answered reads during a large import (docs/performance.md).
func (d *MetricDetail) HideAmounts(hide func(kind domain.Kind) bool) {
	copied := false
	for i := range d.Records {
		if !hide(d.Records[i].Kind) {
			continue
		}
		if !copied {
			d.Records, copied = slices.Clone(d.Records), true
		}
		r := &d.Records[i]
		r.Value = nil
		fs := make(metrics.Fields, len(r.Fields))
		for j, f := range r.Fields {
			switch f.Value.(type) {
			case float64, float32, int, int64, domain.Money, *float64:
				f.Value = nil
			}
			fs[j] = f
		}
		r.Fields = fs
	}
}
