// Package bench measures Candor end to end on generated data: import
// rate, scorecard latency cold and warm (after a new record, which must be
// reflected), drill-down latency, record ingestion over HTTP under
// concurrent load, API latency and peak memory. `candor bench` prints its
// report; docs/performance.md records the figures.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
	"github.com/candor/candor/internal/web"
)

// Options select a benchmark run.
type Options struct {
	Scale float64
	Seed  int64
	// Dir holds the generated file and, for SQLite, the store.
	Dir string
	// Open opens the store under test (a fresh, empty one).
	Open func(ctx context.Context) (store.Store, error)
	// Backend names the store in the report.
	Backend string
	// Events is the number of records posted in the ingestion test, and
	// Requests the number of API reads in the latency test.
	Events, Requests int
	// Concurrency of the HTTP load (default 8).
	Concurrency int
	// Log receives progress lines (may be nil).
	Log io.Writer
	// mem is the memory log CANDOR_BENCH_MEMLOG asks for (memlog.go);
	// the phase lines go into it too.
	mem *memLog
	// Anchors adds the anchor comparison (anchor.go): the same metrics as
	// SQL over the raw records table.
	Anchors bool
	// AnchorsOnly imports only the kinds the anchor metrics need and
	// measures nothing but import, load and the anchor comparison
	// (anchoronly.go).
	AnchorsOnly bool
	// AnchorRuns repeats the comparison (default 1); times are medians.
	AnchorRuns int
	// AnchorExplain, when set, is a file for the anchor queries' plans.
	AnchorExplain string
	// AnchorProfile, when set, is the path prefix of CPU profiles of the
	// anchor metrics' computation.
	AnchorProfile string
	// URL is the PostgreSQL store's URL: the anchor opens its own
	// connection.
	URL string
	// LedgerKey, when set, signs the audit ledger as in production: every
	// import and webhook group appends its entry, and the ledger's own
	// costs are measured. Without it the store keeps no ledger.
	LedgerKey ed25519.PrivateKey
	// CLI, when set, is a candor binary and the flags that point it at the
	// store under test (--data DIR; for PostgreSQL none, CLIEnv): the whole-process
	// scorecard is timed with it.
	CLI []string
	// CLIEnv is more environment for that command: the PostgreSQL URL
	// goes there (CANDOR_DB), not on its command line, which every local
	// user may read (ps), password included.
	CLIEnv []string
	// ImportDuring is the size of the import run while the API is read
	// (default 1M records, scaled down below scale 1).
	ImportDuring int
	// Copies is how many copies of the data the following engine keeps
	// (engine.Engine.Copies; 0: its default, one).
	Copies int
}

// Report holds the figures; JSON keys as issue 4 names them.
type Report struct {
	Backend           string  `json:"backend"`
	Scale             float64 `json:"scale"`
	Records           int64   `json:"records"`
	ImportRecordsPerS float64 `json:"import_records_per_s"`
	ScorecardColdMs   float64 `json:"scorecard_cold_ms"`
	LoadMs            float64 `json:"load_ms"`
	ScorecardWarmMs   float64 `json:"scorecard_warm_ms"`
	// ScorecardUncachedMs is a scorecard at an as_of never asked before
	// (every window computed from the records): the cost of "as of now".
	ScorecardUncachedMs float64 `json:"scorecard_uncached_ms"`
	MetricDrilldownMs   float64 `json:"metric_drilldown_ms"`
	WebhookEventsPerS   float64 `json:"webhook_events_per_s"`
	WebhookP99Ms        float64 `json:"webhook_p99_ms"`
	APIP99Ms            float64 `json:"api_p99_ms"`
	// CLIScorecardMs is a whole `candor scorecard` process (start, load,
	// first scorecard) and CLIPeakRSSMB its peak memory; absent when the
	// benchmark runs without a binary (go test).
	CLIScorecardMs float64 `json:"cli_scorecard_ms,omitempty"`
	CLIPeakRSSMB   float64 `json:"cli_peak_rss_mb,omitempty"`
	// The same without the dataset image (CANDOR_IMAGE=off): every row
	// read from the store.
	CLIScorecardNoImageMs float64 `json:"cli_scorecard_no_image_ms,omitempty"`
	CLIPeakRSSNoImageMB   float64 `json:"cli_peak_rss_no_image_mb,omitempty"`
	// LoadImageMs and ScorecardColdImageMs are load_ms and
	// scorecard_cold_ms for an engine starting from the dataset image
	// (every row of the store in it); ImageWriteMs (and its CPU) writing
	// that image from the store, ImageMB its size.
	LoadImageMs          float64 `json:"load_image_ms"`
	ScorecardColdImageMs float64 `json:"scorecard_cold_image_ms"`
	ImageWriteMs         float64 `json:"image_write_ms"`
	ImageWriteCPUMs      float64 `json:"image_write_cpu_ms"`
	ImageMB              float64 `json:"image_mb"`
	// ImageRewriteMs is the serving engine (started from the state)
	// writing the image and state again after the posted records, as
	// `candor serve` does periodically.
	ImageRewriteMs float64 `json:"image_rewrite_ms"`
	// APIP99DuringImportMs is the p99 of API reads served while an import
	// of ImportDuringRecords runs into the same store and the engine
	// applies it; ImportDuringReadableS is how long from its start until
	// all of it was readable.
	APIP99DuringImportMs float64 `json:"api_p99_during_import_ms"`
	// APIP99DuringImportByReadMs is that p99 for each read of the mix, by
	// its path: which read is slow says where to look (a drill-down
	// recomputes after every step, a scorecard may be served stale).
	APIP99DuringImportByReadMs map[string]float64 `json:"api_p99_during_import_by_read_ms"`
	ImportDuringRecords        int                `json:"import_during_records"`
	ImportDuringReads          int                `json:"import_during_reads"`
	ImportDuringReadableS      float64            `json:"import_during_readable_s"`
	// ImportDuringStaleServed counts the results those reads were served
	// stale while the engine recomputed them (engine.Status).
	ImportDuringStaleServed int64 `json:"import_during_stale_served"`
	// ImportDuringStepHeld* and ImportDuringStepWaitP99Ms time the
	// follower's steps during that import (engine.TakeStepTimes): with one
	// copy a read arriving while a step waits for the write lock or holds
	// it waits too, so these bound the reads' p99 from below.
	ImportDuringSteps         int     `json:"import_during_steps"`
	ImportDuringStepHeldP50Ms float64 `json:"import_during_step_held_p50_ms"`
	ImportDuringStepHeldP99Ms float64 `json:"import_during_step_held_p99_ms"`
	ImportDuringStepWaitP99Ms float64 `json:"import_during_step_wait_p99_ms"`
	// ReadCopies is how many copies of the data the engine held while the
	// reads during the import ran (engine generations: with two, reads
	// never wait for the rows being applied).
	ReadCopies int `json:"read_copies"`
	// PeakRSSMB is the process's peak before the import run during the
	// reads (comparable with earlier figures); PeakRSSWithImportMB after
	// it, its records held too.
	PeakRSSMB           float64 `json:"peak_rss_mb"`
	PeakRSSWithImportMB float64 `json:"peak_rss_with_import_mb"`
	// After the import the serving engine writes the image and its state
	// (as KeepImage would next) and goes on from that state, the imported
	// rows leaving its heap (engine: moveOn): the resident set before
	// and after, the peak after, and whether it went on from the state.
	RSSAfterImportMB      float64 `json:"rss_after_import_mb"`
	RSSAfterImportImageMB float64 `json:"rss_after_import_image_mb"`
	PeakRSSAfterImageMB   float64 `json:"peak_rss_after_import_image_mb"`
	ImportImageMoved      bool    `json:"import_image_moved"`
	GOMAXPROCS            int     `json:"gomaxprocs"`
	// GOMAXPROCSServing is GOMAXPROCS from the webhook phase on, which
	// serve as `candor serve` does: twice the cores (priority.ForServing).
	GOMAXPROCSServing int    `json:"gomaxprocs_serving,omitempty"`
	AsOf              string `json:"as_of"`
	// Anchors compares Candor with query-time SQL per metric (--anchors).
	Anchors map[string]AnchorComparison `json:"anchors,omitempty"`
	// Mode is ModeAnchorsOnly when only the anchor comparison ran.
	Mode string `json:"mode,omitempty"`
	// Ledger says whether the audit ledger was kept (Options.LedgerKey);
	// then LedgerAppendMs is an entry appended alone (median, p99),
	// LedgerEntries the entries at the end and LedgerVerifyPerS the rate
	// at which Verify checks them.
	Ledger            bool    `json:"ledger"`
	LedgerAppendMs    float64 `json:"ledger_append_ms,omitempty"`
	LedgerAppendP99Ms float64 `json:"ledger_append_p99_ms,omitempty"`
	LedgerEntries     int64   `json:"ledger_entries,omitempty"`
	LedgerVerifyPerS  float64 `json:"ledger_verify_entries_per_s,omitempty"`
	// EscalationsMs is the escalations as of a new day (the daily checks
	// computed from the records), EscalationsWarmMs the same again.
	EscalationsMs     float64 `json:"escalations_ms"`
	EscalationsWarmMs float64 `json:"escalations_warm_ms"`
	// CPU time (user and system, the whole process) per imported record,
	// per record posted over HTTP (server, engine following, and clients)
	// and per ledger entry appended alone, in microseconds: figures a
	// loaded machine distorts less than the rates.
	ImportCPUUsPerRecord float64 `json:"import_cpu_us_per_record"`
	WebhookCPUUsPerEvent float64 `json:"webhook_cpu_us_per_event"`
	LedgerAppendCPUUs    float64 `json:"ledger_append_cpu_us,omitempty"`
}

// End is the fixed end of generated data, so runs are comparable.
var End = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"  [%s]\n", append(args, memoryNow())...)
	}
	if o.mem != nil {
		o.mem.phase(fmt.Sprintf(format, args...))
	}
}

// memoryNow says, for the phase log, the heap live after the last
// collection, the memory the Go runtime holds, the resident set and its
// peak so far: which phase sets the peak, and how much of it is not the
// Go heap, is what the peak_rss figure alone does not tell.
func memoryNow() string {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(s)
	mib := func(i int) float64 {
		if s[i].Value.Kind() != rtmetrics.KindUint64 {
			return 0
		}
		return float64(s[i].Value.Uint64()) / (1 << 20)
	}
	return fmt.Sprintf("heap live %.0f MiB, Go runtime %.0f MiB, RSS %.0f MiB, peak %.0f MiB", mib(0), mib(1)-mib(2), vmRSS("/proc/self/status"), peakRSS())
}

// Run performs the benchmark.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.Events <= 0 {
		opt.Events = 5000
	}
	if opt.Requests <= 0 {
		opt.Requests = 400
	}
	// CANDOR_BENCH_MEMLOG=FILE samples the memory throughout (memlog.go).
	mem, err := startMemLog(os.Getenv("CANDOR_BENCH_MEMLOG"))
	if err != nil {
		return nil, err
	}
	defer func() {
		// Asked for, so a log cut short (a full disk) is said.
		if err := mem.stop(); err != nil && opt.Log != nil {
			fmt.Fprintf(opt.Log, "memory log %s: %v\n", os.Getenv("CANDOR_BENCH_MEMLOG"), err)
		}
	}()
	opt.mem = mem
	if opt.AnchorsOnly {
		return runAnchorsOnly(ctx, opt)
	}
	rep := &Report{Backend: opt.Backend, Scale: opt.Scale, GOMAXPROCS: runtime.GOMAXPROCS(0), AsOf: End.Format(time.RFC3339), Ledger: opt.LedgerKey != nil}

	st, err := generateAndImport(ctx, &opt, rep, nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	cat, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	// Cold: a fresh engine loads everything and builds the first scorecard.
	// With an image path, as a server or command with a data directory
	// has: finding no state, the load writes one and goes on from it.
	settle()
	eng := engine.New(st, metrics.DefaultConfig())
	eng.Image = imagePath(&opt)
	opt.logf("cold scorecard …")
	if rep.LoadMs, rep.ScorecardColdMs, err = coldStart(ctx, eng, cat); err != nil {
		return nil, err
	}
	// Cold again from the dataset image and state, written here by the
	// engine that read the store, as the leader would, which is then
	// dropped so that the two are not held at once; the rest of the
	// benchmark uses the engine started from them.
	writer := eng
	eng = nil // build, below, holds eng: the writer must not stay held here
	if eng, err = coldFromImage(ctx, &opt, rep, st, cat, writer); err != nil {
		return nil, err
	}
	build := func() (*scorecard.Scorecard, error) {
		var sc *scorecard.Scorecard
		err := eng.Read(ctx, func(ds *metrics.Dataset) error {
			sc = scorecard.Build(cat, ds, scorecard.Options{AsOf: End})
			return nil
		})
		return sc, err
	}

	// Warm: a new deployment arrives, the next scorecard must count it.
	settle()
	opt.logf("warm scorecard …")
	var warm []float64
	for i := 0; i < 7; i++ {
		before := deployments(eng)
		item := newDeployment(fmt.Sprintf("bench-warm-%d", i), End.Add(-time.Duration(i+1)*time.Minute))
		if _, err := store.Put(ctx, st, []store.Item{item}); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if _, err := build(); err != nil {
			return nil, err
		}
		warm = append(warm, ms(time.Since(t0)))
		if after := deployments(eng); after != before+1 {
			return nil, fmt.Errorf("warm scorecard did not reflect the new deployment (%d → %d)", before, after)
		}
	}
	rep.ScorecardWarmMs = medianOf(warm)

	var uncached []float64
	for i := 0; i < 3; i++ {
		asOf := End.Add(-time.Duration(i+1) * time.Second)
		t0 := time.Now()
		if err := eng.Read(ctx, func(ds *metrics.Dataset) error {
			scorecard.Build(cat, ds, scorecard.Options{AsOf: asOf})
			return nil
		}); err != nil {
			return nil, err
		}
		uncached = append(uncached, ms(time.Since(t0)))
	}
	rep.ScorecardUncachedMs = medianOf(uncached)

	if opt.Anchors {
		if err := runAnchors(ctx, &opt, rep, eng); err != nil {
			return nil, err
		}
	}

	settle()
	opt.logf("drill-down …")
	var drill []float64
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		err := eng.Read(ctx, func(ds *metrics.Dataset) error {
			_, err := scorecard.Detail(cat, ds, "change_failure_rate", scorecard.Options{AsOf: End}, "team", metrics.Scope{})
			return err
		})
		if err != nil {
			return nil, err
		}
		drill = append(drill, ms(time.Since(t0)))
	}
	rep.MetricDrilldownMs = medianOf(drill)

	settle()
	opt.logf("escalations …")
	for i, dst := range []*float64{&rep.EscalationsMs, &rep.EscalationsWarmMs} {
		t0 := time.Now()
		if err := eng.Read(ctx, func(ds *metrics.Dataset) error {
			escalation.Escalations(cat, ds, nil, escalation.Options{AsOf: End.Add(time.Duration(i+1) * time.Second)})
			return nil
		}); err != nil {
			return nil, err
		}
		*dst = ms(time.Since(t0))
	}

	// From here on the engine follows the store in the background, as in
	// `candor serve`: reads are served from what is published, and a
	// posted record is answered once it is readable.
	follow, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	// As `candor serve` runs (priority.ForServing).
	defer priority.ForServing()()
	rep.GOMAXPROCSServing = runtime.GOMAXPROCS(0)
	eng.Copies = opt.Copies
	eng.Start(follow)
	if err := httpLoad(ctx, &opt, rep, st, eng, cat); err != nil {
		return nil, err
	}
	if opt.LedgerKey != nil {
		if err := ledgerCosts(ctx, &opt, rep, st); err != nil {
			return nil, err
		}
	}
	if len(opt.CLI) > 0 {
		if err := cliScorecard(ctx, &opt, rep); err != nil {
			return nil, err
		}
	}
	// After the whole-process runs, which start from the image and state
	// written before the posted records, as a command would before the
	// server's next image.
	if err := rewriteImage(ctx, &opt, rep, eng); err != nil {
		return nil, err
	}
	rep.PeakRSSMB = peakRSS()
	if err := duringImport(ctx, &opt, rep, st, eng, cat); err != nil {
		return nil, err
	}
	rep.PeakRSSWithImportMB = peakRSS()
	if err := imageAfterImport(ctx, &opt, rep, eng); err != nil {
		return nil, err
	}
	opt.logf("done")
	return rep, nil
}

// imagePath is where the benchmark's dataset image lives.
func imagePath(opt *Options) string { return filepath.Join(opt.Dir, "candor.image") }

// coldStart times eng's first load and, from the same start, its first
// scorecard.
func coldStart(ctx context.Context, eng *engine.Engine, cat *catalog.Catalog) (loadMs, coldMs float64, err error) {
	start := time.Now()
	if err := eng.Refresh(ctx); err != nil {
		return 0, 0, err
	}
	loadMs = ms(time.Since(start))
	err = eng.Read(ctx, func(ds *metrics.Dataset) error {
		scorecard.Build(cat, ds, scorecard.Options{AsOf: End})
		return nil
	})
	return loadMs, ms(time.Since(start)), err
}

// coldFromImage writes the dataset image and state with w (an engine
// that has read the store), drops w, then times a fresh engine's start
// from them (which must use both) and its first scorecard.
func coldFromImage(ctx context.Context, opt *Options, rep *Report, st store.Store, cat *catalog.Catalog, w *engine.Engine) (*engine.Engine, error) {
	opt.logf("writing the dataset image …")
	path := imagePath(opt)
	w.Image = path
	c0, t0 := cpuTime(), time.Now()
	if _, err := w.WriteImage(ctx); err != nil {
		return nil, err
	}
	rep.ImageWriteMs, rep.ImageWriteCPUMs = ms(time.Since(t0)), ms(cpuTime()-c0)
	if im := w.Status().Image; im == nil || im.DatasetWritten.IsZero() {
		if im != nil && im.DatasetError != "" {
			return nil, fmt.Errorf("the dataset state was not written beside the image: %s", im.DatasetError)
		}
		return nil, fmt.Errorf("the dataset state was not written beside the image: %+v", im)
	}
	for _, p := range []string{path, strings.TrimSuffix(path, ".image") + ".dataset"} {
		if fi, err := os.Stat(p); err == nil {
			rep.ImageMB += float64(fi.Size()) / (1 << 20)
		}
	}
	w = nil
	settle()
	debug.FreeOSMemory()
	opt.logf("cold scorecard from the image …")
	eng := engine.New(st, metrics.DefaultConfig())
	eng.Image = path
	var err error
	if rep.LoadImageMs, rep.ScorecardColdImageMs, err = coldStart(ctx, eng, cat); err != nil {
		return nil, err
	}
	if im := eng.Status().Image; im == nil || !im.Used || !im.DatasetUsed {
		return nil, fmt.Errorf("the start did not use the image and state just written: %+v", im)
	}
	return eng, nil
}

// rewriteImage has the serving engine, started from the state, write the
// image and the state again — from the image before plus the rows since,
// as `candor serve` does every image.every once rows arrived
// (Engine.KeepImage) — with its readers' pages in memory: what a server
// holds meanwhile counts in the peak.
func rewriteImage(ctx context.Context, opt *Options, rep *Report, eng *engine.Engine) error {
	settle()
	opt.logf("the serving engine writes the image again …")
	t0 := time.Now()
	seq, err := eng.WriteImage(ctx)
	if err != nil {
		return err
	}
	rep.ImageRewriteMs = ms(time.Since(t0))
	if im := eng.Status().Image; im == nil || im.From == 0 || im.DatasetSeq != seq {
		return fmt.Errorf("the image was not written from the one before, with its state: %+v", im)
	}
	return nil
}

// imageAfterImport has the serving engine write the image and state after
// the import run during the reads, as its next KeepImage would, and go on
// from that state: the resident set before and after shows what the
// imported rows held in the heap.
func imageAfterImport(ctx context.Context, opt *Options, rep *Report, eng *engine.Engine) error {
	if err := eng.Sync(ctx); err != nil {
		return err
	}
	settle()
	rep.RSSAfterImportMB = vmRSS("/proc/self/status")
	opt.logf("the serving engine writes the image after the import and goes on from its state …")
	moves := eng.Status().Image.DatasetMoves
	if _, err := eng.WriteImage(ctx); err != nil {
		return err
	}
	rep.ImportImageMoved = eng.Status().Image.DatasetMoves > moves
	settle()
	rep.RSSAfterImportImageMB = vmRSS("/proc/self/status")
	rep.PeakRSSAfterImageMB = peakRSS()
	return nil
}

// ledgerCosts measures an entry appended alone (an access event's or an
// acknowledgement's path) and the verification of the whole ledger.
func ledgerCosts(ctx context.Context, opt *Options, rep *Report, st store.Store) error {
	settle()
	opt.logf("ledger: appends and verification …")
	lat := make([]float64, 200)
	c0 := cpuTime()
	for i := range lat {
		t0 := time.Now()
		if _, err := ledger.Append(ctx, st, ledger.TypeRecords, map[string]int{"bench": i}, map[string]string{"by": "cli:bench"}); err != nil {
			return err
		}
		lat[i] = ms(time.Since(t0))
	}
	rep.LedgerAppendCPUUs = cpuPer(c0, int64(len(lat)))
	rep.LedgerAppendMs, rep.LedgerAppendP99Ms = medianOf(lat), p99(lat)
	t0 := time.Now()
	v, err := ledger.Verify(ctx, st, ledger.VerifyOptions{Keys: []ed25519.PublicKey{opt.LedgerKey.Public().(ed25519.PublicKey)}})
	if err != nil {
		return err
	}
	if v.Broken != nil {
		return fmt.Errorf("bench: the ledger does not verify: %v", v.Broken)
	}
	rep.LedgerEntries = v.Entries
	rep.LedgerVerifyPerS = float64(v.Entries) / time.Since(t0).Seconds()
	return nil
}

func deployments(e *engine.Engine) int {
	n := 0
	e.Read(context.Background(), func(ds *metrics.Dataset) error {
		n = ds.Counts()[domain.KindDeployment]
		return nil
	})
	return n
}

func newDeployment(id string, at time.Time) store.Item {
	body := fmt.Sprintf(`{"id":%q,"source":"bench","service":"checkout","environment":"production","finished_at":%q,"status":"success"}`, id, at.Format(time.RFC3339))
	return store.Item{Key: domain.Key{Kind: domain.KindDeployment, Source: "bench", ID: id}, EventTime: at, Hash: id, Body: []byte(body)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func p99(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s))*0.99+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// settle collects garbage before a timed phase, as testing.B does before
// each benchmark, so that a collection owed to the previous phases does
// not land in this one's timings by chance. At scale 10 one cycle over the
// dataset takes 3–6 s of clock on two cores; landing in the webhook phase
// it halved the rate (4,499 against 9,588 events/s in two otherwise equal
// runs), and which phase it hit varied from run to run.
func settle() { runtime.GC() }

// httpLoad serves the API on loopback and measures record ingestion and
// reads under concurrent clients. Loops are bounded by count.
func httpLoad(ctx context.Context, opt *Options, rep *Report, st store.Store, eng *engine.Engine, cat *catalog.Catalog) error {
	base, client, stop, err := serveAPI(ctx, opt, st, eng, cat, "bench")
	if err != nil {
		return err
	}
	defer stop()
	if err := waitCopies(opt, eng); err != nil {
		return err
	}

	settle()
	opt.logf("ingesting %d records over HTTP with %d clients …", opt.Events, opt.Concurrency)
	lat := make([]float64, opt.Events)
	var next atomic.Int64
	var firstErr atomic.Value
	// CANDOR_BENCH_CPUPROFILE=FILE profiles this phase alone: the posted
	// records, the server and the engine following them.
	stopProfile, err := phaseProfile(os.Getenv("CANDOR_BENCH_CPUPROFILE"))
	if err != nil {
		return err
	}
	defer stopProfile()
	start, c0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= opt.Events || ctx.Err() != nil {
					return
				}
				at := End.Add(-time.Duration(i%1440) * time.Minute).Format(time.RFC3339)
				body := fmt.Sprintf(`{"kind":"incident","id":"bench-%d","source":"bench","service":"checkout","severity":"P3","opened_at":%q}`+"\n", i, at)
				t0 := time.Now()
				resp, err := client.Post(base+"/api/v1/records", "application/x-ndjson", strings.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("POST /api/v1/records: %s", resp.Status)
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = ms(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	stopProfile()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	rep.WebhookEventsPerS = float64(opt.Events) / time.Since(start).Seconds()
	rep.WebhookCPUUsPerEvent = cpuPer(c0, int64(opt.Events))
	rep.WebhookP99Ms = p99(lat)

	settle()
	opt.logf("API reads: %d requests with %d clients …", opt.Requests, opt.Concurrency)
	urls := readURLs()
	lat = make([]float64, opt.Requests)
	next.Store(0)
	for range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= opt.Requests || ctx.Err() != nil {
					return
				}
				took, err := timedGet(client, base+urls[i%len(urls)])
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = took
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	rep.APIP99Ms = p99(lat)
	return nil
}

// apiToken makes the access-control service over the bench store and an
// API token that may write records and read every number.
func apiToken(ctx context.Context, st store.Store, cat *catalog.Catalog, name string) (*auth.Service, string, error) {
	ast, ok := st.(auth.Store)
	if !ok {
		return nil, "", fmt.Errorf("bench: %T keeps no users or tokens", st)
	}
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		return nil, "", err
	}
	svc, err := auth.NewService(ast, g, auth.DefaultOptions())
	if err != nil {
		return nil, "", err
	}
	token, _, err := svc.CreateToken(ctx, auth.CLIActor("bench"), auth.NewToken{Name: name, Roles: []string{"executive", "ingest"}})
	return svc, token, err
}

// bearer adds an API token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// serveAPI serves the API on loopback; it returns the base URL, a client
// with a connection per concurrent client, and how to stop serving.
//
// Every request is authenticated with an API token named name, as in
// production: the token lookup is part of the measured latency.
func serveAPI(ctx context.Context, opt *Options, st store.Store, eng *engine.Engine, cat *catalog.Catalog, name string) (string, *http.Client, func(), error) {
	svc, token, err := apiToken(ctx, st, cat, name)
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: (&web.Server{Engine: eng, Catalog: cat, Store: st, Auth: svc, Log: discardLogger()}).Handler()}
	go srv.Serve(ln)
	client := &http.Client{Transport: bearer{token, &http.Transport{MaxIdleConnsPerHost: opt.Concurrency}}}
	return "http://" + ln.Addr().String(), client, func() { srv.Close() }, nil
}

// readURLs are the API reads the latency figures time, in turn.
func readURLs() []string {
	return []string{
		"/api/v1/metrics/change_failure_rate?as_of=" + End.Format(time.RFC3339),
		"/api/v1/metrics/availability?as_of=" + End.Format(time.RFC3339),
		"/api/v1/scorecard?as_of=" + End.Format(time.RFC3339),
		"/healthz",
	}
}

// readPath is a read's URL without its query: how a read of the mix is
// named in the figures by read.
func readPath(u string) string {
	p, _, _ := strings.Cut(u, "?")
	return p
}

// stepWords says how long the follower's steps held the published copy
// during the import, when it held it (one copy).
func stepWords(r *Report) string {
	if r.ImportDuringSteps == 0 {
		return ""
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	return "; " + plural.Count(int64(r.ImportDuringSteps), "step") + " held the data " + f(r.ImportDuringStepHeldP50Ms) + " ms (median), " +
		f(r.ImportDuringStepHeldP99Ms) + " ms (p99), after waiting up to " + f(r.ImportDuringStepWaitP99Ms) + " ms (p99) for the reads in progress"
}

// byRead writes figures by read, in the order of their paths.
func byRead(m map[string]float64) string {
	var b strings.Builder
	for i, p := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p + " " + strconv.FormatFloat(m[p], 'f', 1, 64))
	}
	return b.String()
}

// timedGet reads a URL to the end and returns how long it took, in ms; a
// status other than 200 is an error.
func timedGet(client *http.Client, url string) (float64, error) {
	t0 := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return ms(time.Since(t0)), nil
}

// peakRSS reads the process's peak resident set (VmHWM) in MiB.
func peakRSS() float64 { return vmHWM("/proc/self/status") }

// vmRSS reads VmRSS from a /proc status file, in MiB (0 when unreadable).
func vmRSS(path string) float64 { return statusMiB(path, "VmRSS:") }

// vmHWM reads VmHWM from a /proc status file, in MiB (0 when unreadable).
func vmHWM(path string) float64 { return statusMiB(path, "VmHWM:") }

// statusMiB reads the field named (with its colon) from a /proc status
// file, in MiB (0 when unreadable).
func statusMiB(path, field string) float64 { return statusFieldsMiB(path, field)[0] }

// statusFieldsMiB reads the fields named (each with its colon) from one
// read of a /proc status file, in MiB (0 for one unreadable or absent).
func statusFieldsMiB(path string, fields ...string) []float64 {
	out := make([]float64, len(fields))
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		for i, field := range fields {
			if rest, ok := bytes.CutPrefix(line, []byte(field)); ok {
				if f := strings.Fields(string(rest)); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					out[i] = kb / 1024
				}
			}
		}
	}
	return out
}

// Text renders the report for people.
func (r *Report) Text() string {
	var b strings.Builder
	procs := strconv.Itoa(r.GOMAXPROCS)
	if r.GOMAXPROCSServing != 0 && r.GOMAXPROCSServing != r.GOMAXPROCS {
		procs += " (" + strconv.Itoa(r.GOMAXPROCSServing) + " serving)"
	}
	fmt.Fprintf(&b, "backend %s, scale %g, %s, GOMAXPROCS %s, as of %s\n", r.Backend, r.Scale, plural.Count(r.Records, "record"), procs, r.AsOf)
	if r.Mode == ModeAnchorsOnly {
		fmt.Fprintf(&b, "  anchors only: import %.0f records/s, load %.0f ms, peak RSS %.0f MiB\n", r.ImportRecordsPerS, r.LoadMs, r.PeakRSSMB)
		b.WriteString(anchorText(r.Anchors))
		return b.String()
	}
	type row struct {
		name string
		v    float64
		unit string
	}
	rows := []row{
		{"import_records_per_s", r.ImportRecordsPerS, "records/s (CPU " + strconv.FormatFloat(r.ImportCPUUsPerRecord, 'f', 1, 64) + " µs a record)"},
		{"scorecard_cold_ms", r.ScorecardColdMs, "ms (load " + strconv.FormatFloat(r.LoadMs, 'f', 0, 64) + " ms)"},
		{"scorecard_cold_image_ms", r.ScorecardColdImageMs, "ms from the dataset image (load " + strconv.FormatFloat(r.LoadImageMs, 'f', 0, 64) + " ms; the image " + strconv.FormatFloat(r.ImageMB, 'f', 0, 64) + " MiB, written in " + strconv.FormatFloat(r.ImageWriteMs, 'f', 0, 64) + " ms)"},
		{"scorecard_warm_ms", r.ScorecardWarmMs, "ms"},
		{"scorecard_uncached_ms", r.ScorecardUncachedMs, "ms (an as_of never asked before)"},
		{"metric_drilldown_ms", r.MetricDrilldownMs, "ms"},
		{"webhook_events_per_s", r.WebhookEventsPerS, "events/s (CPU " + strconv.FormatFloat(r.WebhookCPUUsPerEvent, 'f', 0, 64) + " µs an event, clients included)"},
		{"webhook_p99_ms", r.WebhookP99Ms, "ms"},
		{"api_p99_ms", r.APIP99Ms, "ms"},
		{"escalations_ms", r.EscalationsMs, "ms (warm " + strconv.FormatFloat(r.EscalationsWarmMs, 'f', 1, 64) + " ms)"},
		{"image_rewrite_ms", r.ImageRewriteMs, "ms (the serving engine writes the image and state again after the posted records)"},
		{"rss_after_import_image_mb", r.RSSAfterImportImageMB, "MiB resident after the image written after the import, gone on from (" + strconv.FormatFloat(r.RSSAfterImportMB, 'f', 0, 64) + " MiB before it; peak since " + strconv.FormatFloat(r.PeakRSSAfterImageMB, 'f', 0, 64) + " MiB)"},
		{"cli_scorecard_ms", r.CLIScorecardMs, "ms (a whole candor scorecard process from the image; peak " + strconv.FormatFloat(r.CLIPeakRSSMB, 'f', 0, 64) + " MiB; without the image " + strconv.FormatFloat(r.CLIScorecardNoImageMs, 'f', 0, 64) + " ms, peak " + strconv.FormatFloat(r.CLIPeakRSSNoImageMB, 'f', 0, 64) + " MiB)"},
		{"api_p99_during_import_ms", r.APIP99DuringImportMs, "ms (" + plural.Count(int64(r.ImportDuringReads), "read") + " while " + plural.Count(int64(r.ImportDuringRecords), "record") + " were imported, readable after " + strconv.FormatFloat(r.ImportDuringReadableS, 'f', 1, 64) + " s; " + plural.Count(r.ImportDuringStaleServed, "result") + " served stale; " + plural.Counts(int64(r.ReadCopies), "copy", "copies") + " of the data; by read: " + byRead(r.APIP99DuringImportByReadMs) + stepWords(r) + ")"},
		{"peak_rss_mb", r.PeakRSSMB, "MiB (" + strconv.FormatFloat(r.PeakRSSWithImportMB, 'f', 0, 64) + " MiB with the records imported during the reads)"},
	}
	if r.Ledger {
		rows = append(rows,
			row{"ledger_append_ms", r.LedgerAppendMs, "ms (p99 " + strconv.FormatFloat(r.LedgerAppendP99Ms, 'f', 2, 64) + " ms; CPU " + strconv.FormatFloat(r.LedgerAppendCPUUs, 'f', 0, 64) + " µs an entry)"},
			row{"ledger_verify_per_s", r.LedgerVerifyPerS, "entries/s (" + strconv.FormatInt(r.LedgerEntries, 10) + " entries)"})
	}
	rows = append(rows, row{"peak_rss_mb", r.PeakRSSMB, "MiB"})
	for _, row := range rows {
		fmt.Fprintf(&b, "  %-22s %12.1f %s\n", row.name, row.v, row.unit)
	}
	if !r.Ledger {
		b.WriteString("  no audit ledger (--no-ledger): imports and webhooks appended no entries\n")
	}
	b.WriteString(anchorText(r.Anchors))
	return b.String()
}

// generateAndImport generates the organisation to a file (so the import
// figure is the import's alone), keeping only kinds when it is not nil,
// imports it into a fresh store and notes the record count and import
// rate in rep. The file can be gigabytes; it is gone when this returns.
func generateAndImport(ctx context.Context, opt *Options, rep *Report, kinds []string) (store.Store, error) {
	path := filepath.Join(opt.Dir, "bench.ndjson")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var kf *kindFilter
	if kinds != nil {
		kf = newKindFilter(bw, kinds)
		w = kf
		opt.logf("generating scale %g (kinds %v) …", opt.Scale, kinds)
	} else {
		opt.logf("generating scale %g …", opt.Scale)
	}
	gs, err := generate.Write(w, generate.Options{Seed: opt.Seed, Scale: opt.Scale, End: End})
	if err == nil && kf != nil {
		err = kf.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		// The generated file's pages go to the disk now, not while the
		// import runs: the kernel's write-back of ~200 MB at scale 1 had
		// competed with the store's own writes (PostgreSQL's WAL flushes
		// above all), charging the generator's output to the import.
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return nil, err
	}
	rep.Records = gs.Records
	if kf != nil {
		rep.Records = kf.kept
	}
	st, err := opt.Open(ctx)
	if err != nil {
		return nil, err
	}
	if opt.LedgerKey != nil {
		st.SetSealer(ledger.NewSealer(opt.LedgerKey))
	}
	in, err := os.Open(path)
	if err != nil {
		st.Close()
		return nil, err
	}
	opt.logf("importing %d records …", rep.Records)
	c0 := cpuTime()
	sum, err := ingest.Import(ctx, st, []ingest.Source{{Name: path, Reader: in}}, ingest.Options{})
	rep.ImportCPUUsPerRecord = cpuPer(c0, rep.Records)
	in.Close()
	if err != nil {
		st.Close()
		return nil, err
	}
	rep.ImportRecordsPerS = sum.PerSecond
	return st, nil
}

// phaseProfile starts a CPU profile of one phase into path
// (CANDOR_BENCH_CPUPROFILE) and returns what stops it, once however often
// it is called. With no path it does nothing and stops nothing: a profile
// the caller runs (go test -cpuprofile) goes on.
func phaseProfile(path string) (stop func(), err error) {
	return phaseOutput(path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// phaseTrace writes an execution trace to path until stop is called;
// nothing when path is "".
func phaseTrace(path string) (stop func(), err error) {
	return phaseOutput(path, trace.Start, trace.Stop)
}

// phaseOutput runs start on a new file at path until stop is called.
func phaseOutput(path string, start func(io.Writer) error, end func()) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() {
		end()
		f.Close()
	}), nil
}
