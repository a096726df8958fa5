package bench

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// importDuringDefault is the size of the import that runs while the API
// is read (issue 12: a 1M-record import), smaller at small scales so a
// smoke run stays quick.
func importDuringDefault(scale float64) int {
	return max(2000, int(min(scale, 1)*1_000_000))
}

// duringImport measures API reads while a large import runs into the same
// store and the engine's follower applies it: the server listens with a
// following engine (as `candor serve` does; Run started it), one goroutine imports
// opt.ImportDuring records, and the clients read until the import is
// committed and published. It reports the reads' p99 and how long the
// import took to become readable.
func duringImport(ctx context.Context, opt *Options, rep *Report, st store.Store, eng *engine.Engine, cat *catalog.Catalog) error {
	n := opt.ImportDuring
	if n <= 0 {
		n = importDuringDefault(opt.Scale)
	}
	base, client, stopServing, err := serveAPI(ctx, opt, st, eng, cat, "bench-during-import")
	if err != nil {
		return err
	}
	defer stopServing()
	urls := readURLs()

	if err := waitCopies(opt, eng); err != nil {
		return err
	}
	rep.ReadCopies = eng.Status().Copies
	settle()
	opt.logf("API reads while %d records are imported …", n)
	// CANDOR_BENCH_DURING_CPUPROFILE=FILE profiles this phase alone.
	stopProfile, err := phaseProfile(os.Getenv("CANDOR_BENCH_DURING_CPUPROFILE"))
	if err != nil {
		return err
	}
	defer stopProfile()
	// CANDOR_BENCH_DURING_TRACE=FILE writes an execution trace of it, for
	// `go tool trace -pprof=sched FILE`: where the reads waited for a core.
	stopTrace, err := phaseTrace(os.Getenv("CANDOR_BENCH_DURING_TRACE"))
	if err != nil {
		return err
	}
	defer stopTrace()
	staleBefore := eng.Status().StaleServed
	eng.TakeStepTimes() // the phases' before
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBulk(pw, n)) }()
	imported := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := ingest.Import(ctx, st, []ingest.Source{{Name: "during.ndjson", Reader: pr}}, ingest.Options{})
		pr.Close()
		if err == nil {
			err = eng.Sync(ctx)
		}
		imported <- err
	}()
	var done atomic.Bool
	var mu sync.Mutex
	var lat []float64
	byRead := map[string][]float64{}
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for c := range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			mineBy := map[string][]float64{}
			for i := c; !done.Load() && ctx.Err() == nil; i++ {
				u := urls[i%len(urls)]
				took, err := timedGet(client, base+u)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				mine = append(mine, took)
				mineBy[readPath(u)] = append(mineBy[readPath(u)], took)
			}
			mu.Lock()
			lat = append(lat, mine...)
			for p, l := range mineBy {
				byRead[p] = append(byRead[p], l...)
			}
			mu.Unlock()
		}()
	}
	err = <-imported
	done.Store(true)
	wg.Wait()
	stopProfile()
	stopTrace()
	if err != nil {
		return fmt.Errorf("the import run during the reads: %w", err)
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	rep.ImportDuringRecords = n
	rep.ImportDuringReadableS = time.Since(start).Seconds()
	rep.ImportDuringReads = len(lat)
	rep.APIP99DuringImportMs = p99(lat)
	rep.APIP99DuringImportByReadMs = map[string]float64{}
	for p, l := range byRead {
		rep.APIP99DuringImportByReadMs[p] = p99(l)
	}
	rep.ImportDuringStaleServed = eng.Status().StaleServed - staleBefore
	waits, holds := eng.TakeStepTimes()
	rep.ImportDuringSteps = len(holds)
	if len(holds) > 0 {
		ms := func(v []time.Duration) []float64 {
			out := make([]float64, len(v))
			for i, d := range v {
				out[i] = float64(d.Microseconds()) / 1000
			}
			return out
		}
		rep.ImportDuringStepHeldP50Ms = medianOf(ms(holds))
		rep.ImportDuringStepHeldP99Ms = p99(ms(holds))
		rep.ImportDuringStepWaitP99Ms = p99(ms(waits))
	}
	return nil
}

// waitCopies waits until the engine holds the copies of the data asked
// for. The second copy is loaded in the background after the first load:
// what is measured is a server that has it, not one loading it (which at
// scale 1 costs ~5 s of CPU, and was once counted in the cost of the
// webhook events posted meanwhile).
func waitCopies(opt *Options, eng *engine.Engine) error {
	want := 1
	if opt.Copies == 2 {
		want = 2
	}
	for wait := time.Now(); eng.Status().Copies < want; time.Sleep(10 * time.Millisecond) {
		if time.Since(wait) > 10*time.Minute {
			return fmt.Errorf("the engine held %d copies of the data after 10 minutes, want %d", eng.Status().Copies, want)
		}
	}
	return nil
}

// writeBulk writes n plausible records of the delivery and customer kinds
// (ids of their own, so nothing generated is replaced) spread over the
// 90 days before End.
func writeBulk(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for i := range n {
		at := End.Add(-time.Duration(i%(90*24*60)) * time.Minute).Format(time.RFC3339)
		var err error
		switch i % 4 {
		case 0:
			_, err = fmt.Fprintf(bw, `{"kind":"deployment","id":"bulk-d%d","source":"bulk","service":"svc-%d","environment":"production","finished_at":%q,"status":"success"}`+"\n", i, i%23, at)
		case 1, 2:
			_, err = fmt.Fprintf(bw, `{"kind":"change","id":"bulk-c%d","source":"bulk","service":"svc-%d","merged_at":%q}`+"\n", i, i%23, at)
		case 3:
			_, err = fmt.Fprintf(bw, `{"kind":"ticket","id":"bulk-t%d","source":"bulk","created_at":%q,"priority":"normal"}`+"\n", i, at)
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// cliScorecard runs a whole `candor scorecard` process against the store
// and reports its wall time and peak memory: what a person at a terminal
// waits for, start-up and load included.
func cliScorecard(ctx context.Context, opt *Options, rep *Report) error {
	// Without the image first, so the runs with it follow the same page
	// cache.
	if err := cliRun(ctx, opt, "off", &rep.CLIScorecardNoImageMs, &rep.CLIPeakRSSNoImageMB); err != nil {
		return err
	}
	// With it, the median of cliRuns (one run's wall time swung by 10–20 %
	// from one benchmark to the next on the same data) and the highest
	// peak.
	var took []float64
	for range cliRuns {
		var t, peak float64
		if err := cliRun(ctx, opt, imagePath(opt), &t, &peak); err != nil {
			return err
		}
		took = append(took, t)
		rep.CLIPeakRSSMB = max(rep.CLIPeakRSSMB, peak)
	}
	rep.CLIScorecardMs = medianOf(took)
	return nil
}

// cliRuns is how many whole `candor scorecard` processes from the image
// the benchmark times.
const cliRuns = 3

// cliEnv is the environment a whole `candor scorecard` runs with: the
// benchmark's own (base) without the variables meant for the benchmark
// (CANDOR_BENCH_…, which Candor's configuration refuses as unknown), plus
// the image to start from and the ledger's key. The child opens the store
// as any command does, which takes the key: a PostgreSQL store has no data
// directory to keep one in (the child refused to start), and an embedded
// one would get a key file of its own made. With no ledger kept, any key
// does: the child writes nothing.
func cliEnv(base []string, key ed25519.PrivateKey, image string) ([]string, error) {
	if key == nil {
		var err error
		if key, err = ledger.GenerateKey(); err != nil {
			return nil, err
		}
	}
	var env []string
	for _, kv := range base {
		if !strings.HasPrefix(kv, "CANDOR_BENCH_") {
			env = append(env, kv)
		}
	}
	return append(env, "CANDOR_IMAGE="+image, "CANDOR_LEDGER_KEY="+ledger.FormatKey(key)), nil
}

// cliRun runs one whole `candor scorecard` with CANDOR_IMAGE set to image.
func cliRun(ctx context.Context, opt *Options, image string, took, peakMB *float64) error {
	args := append(append([]string{"scorecard"}, opt.CLI[1:]...), "--format", "json", "--as-of", End.Format(time.RFC3339))
	cmd := exec.CommandContext(ctx, opt.CLI[0], args...)
	env, err := cliEnv(os.Environ(), opt.LedgerKey, image)
	if err != nil {
		return err
	}
	cmd.Env = append(env, opt.CLIEnv...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	settle()
	opt.logf("whole-process candor scorecard (CANDOR_IMAGE=%s) …", image)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	// The child's own high-water mark, read while it runs: its rusage
	// would count this process's memory, which a child started by vfork
	// shares until it executes. VmHWM only grows, so the last reading is
	// within one poll of the peak.
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if v := vmHWM(status); v > 0 {
				*peakMB = v
			} else {
				return // the process has gone
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	err = cmd.Wait()
	*took = ms(time.Since(start))
	<-polled
	if err != nil {
		return fmt.Errorf("%v: %w\n%s", cmd.Args, err, stderr.String())
	}
	return nil
}
