package metrics

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// BenchmarkWarmAfterDeployment is the metric engine's share of a warm
// scorecard: a new production deployment arrives, then every metric is
// asked for the current 30-day and 7-day windows (what the scorecard
// recomputes; older windows stay cached). The scale comes from
// CANDOR_BENCH_SCALE (default 0.1; `candor bench` measures the whole
// path at any scale):
//
//	CANDOR_BENCH_SCALE=10 go test -run '^$' -bench WarmAfterDeployment -benchtime 20x ./internal/metrics/
func BenchmarkWarmAfterDeployment(b *testing.B) {
	d, _ := benchDataset(b)
	end := benchEnd
	qs := []Query{{AsOf: end, Window: 30 * day}, {AsOf: end, Window: 7 * day}}
	all := func() {
		for _, q := range qs {
			for _, id := range IDs() {
				if _, err := d.Compute(id, q); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	all()
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		at := end.Add(-time.Duration(i%1000+1) * time.Second).Format(time.RFC3339)
		r, err := domain.ParseJSON([]byte(fmt.Sprintf(`{"kind":"deployment","id":"warm-%d","source":"bench","service":"checkout","environment":"production","finished_at":%q,"status":"success"}`, i, at)), "", domain.ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		d.Apply(r, time.Time{})
		d.Prepare()
		all()
	}
	reportCPU(b, cpu0)
}

// BenchmarkMetricsUncached computes every metric for the current 30-day
// and 7-day windows without the result cache (the per-deployment memos
// stay warm after the first round): the cost of walking each kind's rows,
// which a new record of that kind makes a scorecard pay again.
//
//	CANDOR_BENCH_SCALE=0.1 go test -run '^$' -bench MetricsUncached ./internal/metrics/
func BenchmarkMetricsUncached(b *testing.B) {
	d, _ := benchDataset(b)
	qs := []Query{{AsOf: benchEnd, Window: 30 * day}, {AsOf: benchEnd, Window: 7 * day}}
	cpu0 := cpuTime()
	for b.Loop() {
		for _, q := range qs {
			for _, id := range IDs() {
				d.run(id, reg.defs[id], q)
			}
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkDrilldownUncached computes change failure rate's drill-down —
// every production deployment of 90 days as a record — from the rows, as
// a server does after each step of a large import (drill-downs are never
// served stale): at scale 10 its p99 during the benchmark's import was
// 221 ms while the other reads' were under 90.
func BenchmarkDrilldownUncached(b *testing.B) {
	d, _ := benchDataset(b)
	q := Query{AsOf: benchEnd, Window: 90 * day, Records: true}
	def := reg.defs["change_failure_rate"]
	cpu0 := cpuTime()
	b.ReportAllocs()
	for b.Loop() {
		if r := d.run("change_failure_rate", def, q); len(r.Records) != r.Count || r.Count == 0 {
			b.Fatalf("%d records for a count of %d", len(r.Records), r.Count)
		}
	}
	reportCPU(b, cpu0)
}

// reportCPU reports the process's CPU time (user and system) since cpu0
// per operation: unlike ns/op, other work on a shared machine does not
// inflate it.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchDataset builds a dataset of generated data at CANDOR_BENCH_SCALE
// (default 0.1) and returns it with its record count.
func benchDataset(b *testing.B) (*Dataset, int) {
	b.Helper()
	scale, err := generate.BenchScale(0.1)
	if err != nil {
		b.Fatal(err)
	}
	d := NewDataset(DefaultConfig())
	n := 0
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: scale, End: benchEnd}, func(r domain.Record) {
		d.Apply(r, time.Time{})
		n++
	}); err != nil {
		b.Fatal(err)
	}
	d.Prepare()
	d.Trim() // as the engine does after a load
	return d, n
}

// BenchmarkDatasetMemory reports the live heap the in-memory dataset
// takes per record (bytes/record), the figure behind peak RSS.
// CANDOR_BENCH_HEAPPROFILE=FILE writes a heap profile while the dataset is
// live (-memprofile's is written after it is gone); -memprofilerate 65536
// makes it precise enough to split the dataset by structure.
func BenchmarkDatasetMemory(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		d, n := benchDataset(b)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if path := os.Getenv("CANDOR_BENCH_HEAPPROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		runtime.KeepAlive(d)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/record")
	}
}

// BenchmarkLeadAfterBulkStep is what the readers of a server pay for lead
// time after each step of a large import spread over the last 90 days
// (the benchmark's 1M-record import): 2,000 deployments and 4,000 changes
// across the 90 days are applied, which drops every lead-time day from
// the oldest on, then the organisation's lead time is asked for the
// 30-day window and twelve weekly ones, as a scorecard does. The heap it
// leaves (live-MB) is the memos the reads keep.
//
//	CANDOR_BENCH_SCALE=0.1 go test -run '^$' -bench LeadAfterBulkStep ./internal/metrics/
func BenchmarkLeadAfterBulkStep(b *testing.B) {
	d, _ := benchDataset(b)
	qs := []Query{{AsOf: benchEnd, Window: 30 * day}}
	for w := range 12 {
		qs = append(qs, Query{AsOf: benchEnd.Add(-time.Duration(w) * 7 * day), Window: 7 * day})
	}
	ask := func() {
		for _, q := range qs {
			d.run("lead_time_for_changes", reg.defs["lead_time_for_changes"], q)
		}
	}
	ask()
	services := []string{"checkout", "payments", "search", "catalog"}
	n := 0
	var asking time.Duration
	for b.Loop() {
		for k := range 6000 {
			n++
			at := benchEnd.Add(-time.Duration(n*7919%(90*24*60)+1) * time.Minute).Format(time.RFC3339)
			svc := services[k%len(services)]
			line := fmt.Sprintf(`{"kind":"change","id":"bulk-c%d","source":"bulk","service":%q,"merged_at":%q}`, n, svc, at)
			if k%3 == 0 {
				line = fmt.Sprintf(`{"kind":"deployment","id":"bulk-d%d","source":"bulk","service":%q,"environment":"production","finished_at":%q,"status":"success"}`, n, svc, at)
			}
			r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
			if err != nil {
				b.Fatal(err)
			}
			d.Apply(r, time.Time{})
		}
		d.Prepare()
		cpu0 := cpuTime()
		ask()
		asking += cpuTime() - cpu0
	}
	b.ReportMetric(float64(asking)/float64(time.Millisecond)/float64(b.N), "ask-cpu-ms/op")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MB")
	runtime.KeepAlive(d)
}
