package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

func sqliteOpts(t testing.TB, scale float64) Options {
	dir := t.TempDir()
	return Options{
		Scale: scale, Seed: 1, Dir: dir, Backend: "sqlite",
		Open:   func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, dir) },
		Events: 200, Requests: 40, Concurrency: 4,
	}
}

// TestSmoke runs the whole benchmark at a tiny scale: no timing is
// asserted, but every stage must work and report a figure.
func TestSmoke(t *testing.T) {
	opt := sqliteOpts(t, 0.005)
	opt.LedgerKey = ed25519.NewKeyFromSeed(make([]byte, 32))
	rep, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	// The import, each webhook group and the 200 appends are entries.
	if !rep.Ledger || rep.LedgerEntries < 201 || rep.LedgerAppendMs <= 0 || rep.LedgerVerifyPerS <= 0 || rep.EscalationsMs <= 0 {
		t.Errorf("ledger and escalations figures: %+v", rep)
	}
	for name, v := range map[string]float64{
		"import_records_per_s": rep.ImportRecordsPerS, "scorecard_cold_ms": rep.ScorecardColdMs,
		"scorecard_warm_ms": rep.ScorecardWarmMs, "scorecard_uncached_ms": rep.ScorecardUncachedMs, "metric_drilldown_ms": rep.MetricDrilldownMs,
		"webhook_events_per_s": rep.WebhookEventsPerS, "webhook_p99_ms": rep.WebhookP99Ms,
		"api_p99_ms": rep.APIP99Ms, "peak_rss_mb": rep.PeakRSSMB,
		"api_p99_during_import_ms": rep.APIP99DuringImportMs, "import_during_readable_s": rep.ImportDuringReadableS,
		"import_during_reads": float64(rep.ImportDuringReads), "peak_rss_with_import_mb": rep.PeakRSSWithImportMB,
		"import_cpu_us_per_record": rep.ImportCPUUsPerRecord, "webhook_cpu_us_per_event": rep.WebhookCPUUsPerEvent,
		"ledger_append_cpu_us":    rep.LedgerAppendCPUUs,
		"scorecard_cold_image_ms": rep.ScorecardColdImageMs, "load_image_ms": rep.LoadImageMs, "image_write_ms": rep.ImageWriteMs, "image_mb": rep.ImageMB, "image_rewrite_ms": rep.ImageRewriteMs,
	} {
		if v <= 0 {
			t.Errorf("%s = %v, want a positive figure", name, v)
		}
	}
	// Every read of the mix has its own p99 during the import.
	for _, u := range readURLs() {
		if v := rep.APIP99DuringImportByReadMs[readPath(u)]; v <= 0 {
			t.Errorf("p99 of %s during the import = %v, want a positive figure (%v)", readPath(u), v, rep.APIP99DuringImportByReadMs)
		}
	}
	if len(rep.APIP99DuringImportByReadMs) != len(readURLs()) {
		t.Errorf("p99s by read during the import: %v, want one for each of %d reads", rep.APIP99DuringImportByReadMs, len(readURLs()))
	}
	// With one copy the follower's steps hold the data the reads wait
	// for, and the import's 2,000 rows are more than a webhook's few: at
	// least one step is timed.
	if rep.ReadCopies == 1 && (rep.ImportDuringSteps < 1 || rep.ImportDuringStepHeldP50Ms <= 0 || rep.ImportDuringStepHeldP99Ms < rep.ImportDuringStepHeldP50Ms) {
		t.Errorf("steps during the import: %d, held %v ms (median) and %v (p99), want at least one, held a positive time", rep.ImportDuringSteps, rep.ImportDuringStepHeldP50Ms, rep.ImportDuringStepHeldP99Ms)
	}
	if rep.ImportDuringRecords != importDuringDefault(0.005) {
		t.Errorf("imported %d records during the reads, want %d", rep.ImportDuringRecords, importDuringDefault(0.005))
	}
	if rep.Records < 1000 {
		t.Errorf("records = %d, generated data too small", rep.Records)
	}
	// The serving phases run as candor serve does (priority.ForServing),
	// and the process gets its own number back at the end.
	want := rep.GOMAXPROCS
	if os.Getenv("GOMAXPROCS") == "" && rep.GOMAXPROCS >= runtime.NumCPU() {
		want *= 2
	}
	if rep.GOMAXPROCSServing != want || runtime.GOMAXPROCS(0) != rep.GOMAXPROCS {
		t.Errorf("GOMAXPROCS %d, serving %d (want %d), after %d", rep.GOMAXPROCS, rep.GOMAXPROCSServing, want, runtime.GOMAXPROCS(0))
	}
}

// BenchmarkScorecard reports import records/s and scorecard latency cold
// and warm at CANDOR_BENCH_SCALE (default 0.1; the figures use 10):
//
//	CANDOR_BENCH_SCALE=10 go test -run XXX -bench Scorecard -benchtime 1x ./internal/bench/
func BenchmarkScorecard(b *testing.B) {
	scale, err := generate.BenchScale(0.1)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		rep, err := Run(context.Background(), sqliteOpts(b, scale))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.ImportRecordsPerS, "import_records/s")
		b.ReportMetric(rep.ScorecardColdMs, "cold_ms")
		b.ReportMetric(rep.ScorecardColdImageMs, "cold_image_ms")
		b.ReportMetric(rep.ScorecardWarmMs, "warm_ms")
		b.ReportMetric(rep.MetricDrilldownMs, "drilldown_ms")
		b.ReportMetric(rep.PeakRSSMB, "peak_rss_MiB")
	}
}

// The whole-process scorecard gets the ledger's key, which a PostgreSQL
// store has nowhere else to come from (the benchmark's own when it keeps
// the ledger, else a fresh one), and not the benchmark's own variables,
// which Candor refuses as unknown.
func TestCLIEnvCarriesTheLedgerKey(t *testing.T) {
	want := ed25519.NewKeyFromSeed(make([]byte, 32))
	base := []string{"HOME=/root", "CANDOR_BENCH_CPUPROFILE=/tmp/p", "CANDOR_BENCH_SCALE=1", "CANDOR_DATA=/tmp/d"}
	for _, key := range []ed25519.PrivateKey{want, nil} {
		env, err := cliEnv(base, key, "/tmp/x.image")
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		if vars["CANDOR_IMAGE"] != "/tmp/x.image" || vars["HOME"] != "/root" || vars["CANDOR_DATA"] != "/tmp/d" {
			t.Errorf("environment %v", env)
		}
		for k := range vars {
			if strings.HasPrefix(k, "CANDOR_BENCH_") {
				t.Errorf("the child gets %s", k)
			}
		}
		got, err := ledger.ParseKey(vars["CANDOR_LEDGER_KEY"])
		if err != nil {
			t.Fatalf("key %v: CANDOR_LEDGER_KEY %q: %v", key != nil, vars["CANDOR_LEDGER_KEY"], err)
		}
		if key != nil && !got.Equal(want) {
			t.Error("the child gets another key than the benchmark's")
		}
	}
}

// The phase profile stops only a profile it started: without
// CANDOR_BENCH_CPUPROFILE, a profile the caller runs (go test
// -cpuprofile around BenchmarkScorecard) goes on.
func TestPhaseProfileLeavesTheCallersProfile(t *testing.T) {
	var caller bytes.Buffer
	if err := pprof.StartCPUProfile(&caller); err != nil {
		t.Skipf("a CPU profile runs already: %v", err)
	}
	stop, err := phaseProfile("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := pprof.StartCPUProfile(io.Discard); err == nil {
		pprof.StopCPUProfile()
		t.Error("the phase stopped the caller's profile")
	}
	pprof.StopCPUProfile()

	path := filepath.Join(t.TempDir(), "phase.pprof")
	if stop, err = phaseProfile(path); err != nil {
		t.Fatal(err)
	}
	stop()
	stop() // once only
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("the phase's profile: %v", err)
	}
}

// The phase trace writes a trace to its file, and nothing without one.
func TestPhaseTrace(t *testing.T) {
	stop, err := phaseTrace("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if trace.IsEnabled() {
		t.Error("a trace runs with no file asked for")
	}
	path := filepath.Join(t.TempDir(), "phase.trace")
	if stop, err = phaseTrace(path); err != nil {
		t.Fatal(err)
	}
	if !trace.IsEnabled() {
		t.Error("no trace runs")
	}
	stop()
	stop() // once only
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("the phase's trace: %v", err)
	}
}

// TestStatusMiB reads the resident set and its peak from a /proc status
// file, and nothing from a field that is absent or a file that is not
// there: the phase log and the peak figures come from it.
func TestStatusMiB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	text := "Name:\tcandor\nVmPeak:\t 9999 kB\nVmHWM:\t  262144 kB\nVmRSS:\t  131072 kB\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := vmHWM(path); got != 256 {
		t.Errorf("VmHWM = %v MiB, want 256", got)
	}
	if got := vmRSS(path); got != 128 {
		t.Errorf("VmRSS = %v MiB, want 128", got)
	}
	if got := statusMiB(path, "VmSwap:"); got != 0 {
		t.Errorf("absent field = %v, want 0", got)
	}
	// Several fields from one read, each in its place, an absent one 0.
	if got := statusFieldsMiB(path, "VmRSS:", "VmSwap:", "VmHWM:"); !slices.Equal(got, []float64{128, 0, 256}) {
		t.Errorf("VmRSS, VmSwap, VmHWM = %v, want [128 0 256]", got)
	}
	if got := vmRSS(filepath.Join(t.TempDir(), "none")); got != 0 {
		t.Errorf("no file = %v, want 0", got)
	}
	if !strings.Contains(memoryNow(), "heap live ") {
		t.Errorf("memoryNow() = %q", memoryNow())
	}
}
