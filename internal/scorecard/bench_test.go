package scorecard

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics/metricstest"
)

// BenchmarkScorecardAsOfNow is a scorecard "as of now" — an as_of never
// asked before, so every window (current, previous, 12 weekly points) is
// computed from the records: what each dashboard request without as_of
// costs. CANDOR_BENCH_SCALE sets the data volume (default 0.1):
//
//	CANDOR_BENCH_SCALE=1 go test -run '^$' -bench AsOfNow -benchtime 5x ./internal/scorecard/
func BenchmarkScorecardAsOfNow(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(b, 0.1, end)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		Build(cat, ds, Options{AsOf: end.Add(-time.Duration(i+1) * time.Second)})
	}
	// The build runs on every core: its CPU time a scorecard, which other
	// work on a shared machine inflates far less than ns/op.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScorecardWarm is a scorecard whose every window is cached (the
// same as_of again): what a dashboard's reload costs while nothing new
// arrived, most of it building the cards. Its bytes a scorecard are
// garbage a server makes for every such request (-benchmem).
func BenchmarkScorecardWarm(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(b, 0.1, end)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	Build(cat, ds, Options{AsOf: end})
	b.ReportAllocs()
	for b.Loop() {
		Build(cat, ds, Options{AsOf: end})
	}
}

// BenchmarkScorecardAfterNewDeployment is the benchmark's warm figure
// without the store: a new production deployment applied and prepared,
// then the scorecard built again (the metrics reading deployments
// recompute their current windows).
func BenchmarkScorecardAfterNewDeployment(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	scale := 0.1
	if s := os.Getenv("CANDOR_BENCH_SCALE"); s != "" {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			scale = v
		}
	}
	ds := metricstest.Generated(b, scale, end)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	Build(cat, ds, Options{AsOf: end})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		at := end.Add(-time.Duration(i%50000+1) * time.Second)
		body := fmt.Sprintf(`{"id":"warm-%d","source":"bench","service":"checkout","environment":"production","finished_at":%q,"status":"success"}`, i, at.Format(time.RFC3339))
		r, err := domain.ParseJSON([]byte(body), domain.KindDeployment, domain.ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ds.Apply(r, time.Time{})
		ds.Prepare()
		Build(cat, ds, Options{AsOf: end})
	}
}
