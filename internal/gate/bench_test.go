package gate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics/metricstest"
)

// benchKPIs are the KPIs the benchmark's CEL policies read.
var benchKPIs = []string{"change_failure_rate", "deployment_frequency", "lead_time_for_changes", "failed_deployment_recovery_time",
	"rollback_rate", "deployment_success_rate", "emergency_retro_overdue", "availability"}

// benchPolicies are 20 policies: the 4 built-in ones (coverage, risk, a
// freeze calendar, canary on release impact) and 16 CEL rules over facts
// and the KPIs above.
func benchPolicies() string {
	var b strings.Builder
	b.WriteString("freeze:\n  windows:\n    - {name: year-end, time_zone: Europe/Berlin, start: \"2026-12-20T00:00\", end: \"2027-01-04T00:00\"}\n    - {name: weekend, time_zone: America/New_York, weekly: {from: \"fri 16:00\", to: \"mon 08:00\"}}\npolicies:\n")
	for i := range 16 {
		k := benchKPIs[i%len(benchKPIs)]
		fmt.Fprintf(&b, "  - id: rule-%d\n    require: facts.strategy == \"blue_green\" || kpi.%s >= 0.0 || facts.coverage > 0.%d\n    on_unknown: allow\n", i, k, i%10)
	}
	return b.String()
}

// BenchmarkGateEvaluate is one gate decision with 20 policies, as of a
// time never asked before (each request's "now"), so every KPI is
// computed from the records. Reports p99-ms. CANDOR_BENCH_SCALE sets the
// data volume (default 0.1):
//
//	go test -run '^$' -bench GateEvaluate -benchtime 200x ./internal/gate/
func BenchmarkGateEvaluate(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(b, 0.1, end)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	p, err := Load("bench.yaml", []byte(benchPolicies()), cat)
	if err != nil {
		b.Fatal(err)
	}
	if n := len(p.Describe()); n != 20 {
		b.Fatalf("%d policies, want 20", n)
	}
	q := Request{Service: "checkout", Environment: "production", Version: "1.0.0",
		Facts: map[string]string{"coverage": "0.91", "changed_lines": "240", "strategy": "rolling"}}
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		r, err := Evaluate(p, cat, ds, q, end.Add(-time.Duration(i+1)*time.Second))
		took = append(took, time.Since(start))
		if err != nil || len(r.Rules) != 20 {
			b.Fatalf("%v: %d rules", err, len(r.Rules))
		}
	}
	slices.Sort(took)
	for _, q := range []int{50, 90, 99} {
		b.ReportMetric(float64(took[min(len(took)-1, len(took)*q/100)])/float64(time.Millisecond), fmt.Sprintf("p%d-ms", q))
	}
}
