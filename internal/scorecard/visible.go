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
// without touching the result cache.
func (d *MetricDetail) HideAmounts(hide func(kind domain.Kind) bool) {
	d.Records = slices.Clone(d.Records)
	for i := range d.Records {
		r := &d.Records[i]
		if !hide(r.Kind) {
			continue
		}
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
