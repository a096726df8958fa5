package metrics

import (
	"testing"

	"github.com/candor/candor/internal/domain"
)

// A count's target is a whole number of leads: the monthly targets a
// 30-day window cuts, prorated, are rounded — 184 for March over W =
// [Mar 1, Mar 31) is 178.06, shown and judged as 178 — and so is a
// fractional target record.
func TestMQLTargetIsWhole(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to string
		value    float64
		want     float64
	}{
		{"prorated", "2026-03-01", "2026-04-01", 184, 178},
		{"two months cut", "2026-02-14", "2026-03-16", 155, 78}, // 15 of 30 days in W: 77.5
		{"fractional record", "2026-03-01", "2026-03-31", 10.5, 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := bizDS(nil, &domain.Target{Meta: bizMeta("t1"), Metric: "mql_volume", PeriodStart: bizT(c.from), PeriodEnd: bizT(c.to), Value: c.value})
			r := bizCompute(t, d, "mql_volume", bizQ(bizAsOf))
			if got := r.Detail.Target; got == nil || *got != c.want {
				t.Errorf("target = %s, want %v", fmtVal(got), c.want)
			}
		})
	}
}
