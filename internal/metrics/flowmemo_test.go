package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// The flow metrics read their spans from the deployments' lead memos; the
// drill-down (Records) walks every deployment's changes directly. On
// generated data, for many as_of values, windows and scopes, both give
// the same value and count — including as of times before a memo holds.
func TestFlowMemoMatchesDirectWalk(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	d := NewDataset(DefaultConfig())
	if _, err := generate.Records(generate.Options{Seed: 13, Scale: 0.01, End: end, Days: 150}, func(r domain.Record) { d.Apply(r, end) }); err != nil {
		t.Fatal(err)
	}
	d.Prepare()
	compute := func(t *testing.T, d *Dataset, id string, q Query) Result {
		t.Helper()
		r, err := d.Compute(id, q)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, stage := range FlowStages {
		for _, back := range []time.Duration{0, 3 * time.Hour, 9 * 24 * time.Hour, 40 * 24 * time.Hour, 130 * 24 * time.Hour} {
			for _, w := range []time.Duration{7 * 24 * time.Hour, 30 * 24 * time.Hour} {
				for _, sc := range []Scope{{}, {Dim: "team", Value: "payments"}} {
					q := Query{AsOf: end.Add(-back), Window: w, Scope: sc}
					memo := compute(t, d, stage.ID, q)
					q.Records = true
					direct := compute(t, d, stage.ID, q)
					if memo.Count != direct.Count || !sameValue(memo.Value, direct.Value) {
						t.Errorf("%s as of %s over %v in %v: memo %v over %d, direct %v over %d", stage.ID, q.AsOf.Format(time.RFC3339), w, sc,
							valueOr(memo.Value), memo.Count, valueOr(direct.Value), direct.Count)
					}
				}
			}
		}
	}
}

func valueOr(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func sameValue(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-9
}
