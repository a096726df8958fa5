package gate

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
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

// BenchmarkGateEvaluate is one gate decision with 20 policies. "cold"
// computes every KPI from the records for each request (a time never
// asked before, no cache: the first check after new data); "warm" is a
// check within the same data sequence (the server's case between
// writes: KPIs computed once per sequence, CEL programs compiled at
// load). Reports p50/p90/p99-ms and cpu-ms/op. CANDOR_BENCH_SCALE sets
// the data volume (default 0.1):
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
	for _, c := range []struct {
		name string
		seq  int64
		at   func(i int) time.Time
	}{
		{"cold", -1, func(i int) time.Time { return end.Add(-time.Duration(i+1) * time.Second) }},
		{"warm", 7, func(i int) time.Time { return end.Add(time.Duration(i) * time.Millisecond) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				r, err := Evaluate(p, cat, ds, c.seq, q, c.at(i))
				took = append(took, time.Since(start))
				if err != nil || len(r.Rules) != 20 {
					b.Fatalf("%v: %d rules", err, len(r.Rules))
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(len(took)), "cpu-ms/op")
			slices.Sort(took)
			for _, q := range []int{50, 90, 99} {
				b.ReportMetric(float64(took[min(len(took)-1, len(took)*q/100)])/float64(time.Millisecond), fmt.Sprintf("p%d-ms", q))
			}
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
