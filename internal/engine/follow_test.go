package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/store"
)

// gatedStore holds every Scan until its gate is opened.
type gatedStore struct {
	store.Store
	gate chan struct{}
}

func (g *gatedStore) Scan(ctx context.Context, after int64, fn func(store.Stored) error) (int64, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return after, ctx.Err()
	}
	return g.Store.Scan(ctx, after, fn)
}

// With a follower, the engine is not ready until its first load is
// published: reads wait for it (and give up with their context), the
// status says how far behind the store it is. Then reads are served.
func TestFollowerReadiness(t *testing.T) {
	base := open(t, t.TempDir())
	importLines(t, base, dep("d1", "success"), dep("d2", "success"))
	st := &gatedStore{Store: base, gate: make(chan struct{})}
	e := engine.New(st, metrics.DefaultConfig())
	e.MaxLag = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if err := e.Read(short, func(*metrics.Dataset) error { return nil }); err == nil {
		t.Error("a read before the first load succeeded")
	}
	s := e.Status()
	if e.Ready() || s.Ready || s.Published != 0 || s.Store != 2 || !s.Lagging || s.Lag <= 0 {
		t.Errorf("before the first load: ready %v, status %+v; want not ready, store 2, published 0, lagging", e.Ready(), s)
	}
	close(st.gate)
	if v := read(t, e); v.counts[domain.KindDeployment] != 2 {
		t.Errorf("after the first load: %v", v.counts)
	}
	if s := e.Status(); !e.Ready() || s.Published != 2 || s.Store != 2 || s.Lagging || s.Lag != 0 {
		t.Errorf("after the first load: ready %v, status %+v", e.Ready(), s)
	}
}

// A writer that syncs after its commit reads its write, even when the
// follower would not have looked for an hour; nobody else's read waits
// for it.
// With two copies the follower also holds the refresh lock to bring the
// other copy up to date, publishing nothing: a writer that found the lock
// taken is woken when it is let go, or it would wait for the next poll.
func TestSyncReadsYourWrites(t *testing.T) {
	for _, copies := range []int{1, 2} {
		t.Run(fmt.Sprintf("copies=%d", copies), func(t *testing.T) { syncReadsYourWrites(t, copies) })
	}
}

func syncReadsYourWrites(t *testing.T, copies int) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	e.Copies = copies
	e.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	read(t, e) // first load (an empty store)
	waitCopies(t, e, copies)
	for i := range 5 {
		importLines(t, st, dep(fmt.Sprintf("d%d", i), "success"))
		if err := e.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if v := read(t, e); v.counts[domain.KindDeployment] != i+1 {
			t.Fatalf("after writing d%d and syncing: %v", i, v.counts)
		}
	}
	// A writer waits for its own commit's sequence bound: readable after,
	// and a bound above the store's last sequence (the write's newest
	// rows were unchanged) does not wait forever.
	for i := range 3 {
		sum := importLines(t, st, dep(fmt.Sprintf("w%d", i), "success"), dep("d0", "success"))
		if sum.Seq == 0 {
			t.Fatalf("import of a new record reported no sequence: %+v", sum.WriteResult)
		}
		seq := sum.Seq
		if i == 2 {
			seq += 1000
		}
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		err := e.WaitWritten(wctx, seq)
		wcancel()
		if err != nil {
			t.Fatalf("WaitWritten(%d): %v", seq, err)
		}
		if v := read(t, e); v.counts[domain.KindDeployment] != 5+i+1 {
			t.Fatalf("after writing w%d and waiting for it: %v", i, v.counts)
		}
	}
	if err := e.WaitWritten(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// Without the sync a read is served at once from what is published.
	importLines(t, st, dep("late", "success"))
	start := time.Now()
	v := read(t, e)
	if time.Since(start) > 10*time.Second || v.counts[domain.KindDeployment] != 8 {
		t.Errorf("an unsynced read saw %v after %v; want the 8 published at once", v.counts, time.Since(start))
	}
}

// Reads go on, and stay correct, while a large import is applied: each
// read sees exactly the rows up to the sequence it reflects (a prefix of
// the store), some reads see the import part-applied, and the engine ends
// equal to a fresh load.
func TestReadsContinueDuringLargeImport(t *testing.T) {
	for _, copies := range []int{2, 1} {
		t.Run(fmt.Sprintf("copies=%d", copies), func(t *testing.T) { readsDuringLargeImport(t, copies) })
	}
}

func readsDuringLargeImport(t *testing.T, copies int) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	e.StepRows = 8192 // several steps for this import
	e.Copies = copies
	e.MaxLag = time.Second
	ctx := followFirst(t, st, e)
	waitCopies(t, e, copies)
	base := e.Seq()
	const n = 40_000 // five apply steps
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"kind":"deployment","id":"big-%05d","service":"svc-%d","environment":"production","finished_at":"2026-03-%02dT12:00:00Z","status":"success"}`, i, i%17, 1+i%29)
	}
	var reads, midway, wrong atomic.Int64
	var wg sync.WaitGroup
	readers, stopReaders := context.WithCancel(ctx)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for readers.Err() == nil {
				err := e.Read(readers, func(ds *metrics.Dataset) error {
					seq := ds.Seq()
					deps := ds.Counts()[domain.KindDeployment]
					if int64(deps) != 1+seq-base {
						wrong.Add(1)
					}
					if seq > base && seq < base+n {
						midway.Add(1)
					}
					// Every deployment here finishes inside the query's window.
					// A reader accepting stale results may be shown an
					// earlier count, never one the data never had (asked
					// first: the fresh read below caches the same key).
					stale := query
					stale.Stale = true
					if r, err := ds.Compute("deployment_frequency", stale); err == nil && (r.Count < 1 || r.Count > deps) {
						wrong.Add(1)
					}
					r, err := ds.Compute("deployment_frequency", query)
					if err == nil && r.Count != deps {
						wrong.Add(1)
					}
					return err
				})
				if err != nil && readers.Err() == nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	importLines(t, st, lines...)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	stopReaders()
	wg.Wait()
	t.Logf("%d reads, %d of them while the import was part-applied", reads.Load(), midway.Load())
	if wrong.Load() > 0 {
		t.Errorf("%d reads saw data that is not the store up to their sequence", wrong.Load())
	}
	t.Logf("%d stale results served", e.Status().StaleServed)
	if midway.Load() == 0 {
		t.Error("no read was served while the import was being applied")
	}
	fresh := read(t, engine.New(st, metrics.DefaultConfig()))
	if got := read(t, e); got.counts[domain.KindDeployment] != n+1 || got.freq.Count != fresh.freq.Count || got.cfr.Count != fresh.cfr.Count {
		t.Errorf("after the import: %v freq %d; fresh load %v freq %d", got.counts, got.freq.Count, fresh.counts, fresh.freq.Count)
	}
}

// Status is JSON as /healthz shows it.
func TestStatusJSON(t *testing.T) {
	st := open(t, t.TempDir())
	importLines(t, st, dep("d1", "success"))
	e := engine.New(st, metrics.DefaultConfig())
	read(t, e)
	b, err := json.Marshal(e.Status())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ready":true,"published_seq":1,"store_seq":1,"lag_ms":0,"lagging":false,"quarantined_rows":0,"copies":1,"stale_results_served":0,"stale_result_max_ms":0}`
	if string(b) != want {
		t.Errorf("status JSON %s, want %s", b, want)
	}
}

// During a large import a following engine serves readers that accept it
// the results the import's steps invalidated (metrics.Query.Stale), while
// it recomputes them in the background; a writer's few rows are read
// fresh, and a reader that does not accept stale results never gets one.
func TestStaleReadsDuringLargeImport(t *testing.T) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	e.StepRows = 4096
	e.MaxLag = time.Minute // nothing expires during the test
	ctx := followFirst(t, st, e)
	stale := query
	stale.Stale = true
	count := func(q metrics.Query) int {
		t.Helper()
		var n int
		err := e.Read(ctx, func(ds *metrics.Dataset) error {
			r, err := ds.Compute("deployment_frequency", q)
			n = r.Count
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(stale); n != 1 {
		t.Fatalf("first count %d, want 1", n)
	}
	const n = 10_000
	lines := bigDeployments(n)
	importLines(t, st, lines...)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(stale); got != 1 {
		t.Errorf("a reader accepting a stale result right after the import counted %d, want the 1 cached before it", got)
	}
	if s := e.Status(); s.StaleServed != 1 || s.StaleMaxMS <= 0 || s.StaleMaxMS > 60_000 {
		t.Errorf("status: %d stale results served, the oldest %v ms; want 1, within max_lag", s.StaleServed, s.StaleMaxMS)
	}
	// A few rows, as a webhook writes, are read fresh at once: the stale
	// result they reach is dropped, recomputed or not.
	importLines(t, st, dep("small", "success"))
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(stale); got != n+2 {
		t.Errorf("after a small write: %d, want %d", got, n+2)
	}
	batch := func(prefix string) []string {
		more := make([]string, n)
		for i := range more {
			more[i] = strings.Replace(lines[i], "big-", prefix, 1)
		}
		return more
	}
	// So are a writer's rows in a large step (a POST of many records, or
	// one beside an import): it waits for them, and no step that may hold
	// them keeps stale results.
	served := e.Status().StaleServed
	sum := importLines(t, st, batch("posted-")...)
	if err := e.WaitWritten(ctx, sum.Seq); err != nil {
		t.Fatal(err)
	}
	if got := count(stale); got != 2*n+2 {
		t.Errorf("after a writer's %d rows: %d, want %d", n, got, 2*n+2)
	}
	// And a reader not accepting stale results never gets one.
	importLines(t, st, batch("more-")...)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(query); got != 3*n+2 {
		t.Errorf("a reader not accepting stale results counted %d, want %d", got, 3*n+2)
	}
	if s := e.Status(); s.StaleServed != served {
		t.Errorf("%d stale results served to readers not accepting them or after a writer's rows", s.StaleServed-served)
	}
	// The engine recomputes what it served stale.
	importLines(t, st, batch("last-")...)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(stale); got != 3*n+2 {
		t.Errorf("after another import: %d, want the stale %d", got, 3*n+2)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count(stale) != 4*n+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the stale result was not recomputed within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With one copy a large catch-up's steps hold the published copy while
// readers wait; each step's wait for the write lock and its hold are
// kept for the benchmark (TakeStepTimes), a webhook's few rows are not
// a bulk step and keep none, and taking them forgets them.
func TestStepTimesOfALargeCatchUp(t *testing.T) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	e.StepRows = 2048
	ctx := followFirst(t, st, e)
	e.TakeStepTimes() // the first load's, if any
	importLines(t, st, dep("small", "success"))
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if waits, holds := e.TakeStepTimes(); len(waits) != 0 || len(holds) != 0 {
		t.Errorf("a write of one row timed %d steps, want none (not a bulk step)", len(holds))
	}
	const n = 10_000
	lines := bigDeployments(n)
	importLines(t, st, lines...)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	waits, holds := e.TakeStepTimes()
	// 10,000 rows, read 4,096 at a time and applied in steps once
	// 2,048 or more are read: three steps at least.
	if len(holds) < 3 || len(waits) != len(holds) {
		t.Fatalf("%d holds and %d waits timed for %d rows, want at least 3 of each", len(holds), len(waits), n)
	}
	for i, h := range holds {
		if h <= 0 || waits[i] < 0 {
			t.Errorf("step %d: waited %v, held %v", i, waits[i], h)
		}
	}
	if waits, holds := e.TakeStepTimes(); len(waits)+len(holds) != 0 {
		t.Errorf("taken twice: %d times again, want none", len(waits)+len(holds))
	}
}

// bigDeployments is n production deployments of March 2026, ids big-00000
// on: a large import's lines.
func bigDeployments(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"kind":"deployment","id":"big-%05d","service":"api","environment":"production","finished_at":"2026-03-%02dT12:00:00Z","status":"success"}`, i, 1+i%29)
	}
	return lines
}

// followFirst starts e following st until the test ends, with one
// deployment ("first") written and readable.
func followFirst(t *testing.T, st store.Store, e *engine.Engine) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	importLines(t, st, dep("first", "success"))
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestStaleResultsLetGoOnAQuietServer: stale results kept by a large
// import that no reader asks for are let go within max_lag or so of
// expiring, with no further step to drop them (refreshStale's timer).
func TestStaleResultsLetGoOnAQuietServer(t *testing.T) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	e.StepRows = 4096
	e.MaxLag = 2 * time.Second
	ctx := followFirst(t, st, e)
	stale := query
	stale.Stale = true
	if err := e.Read(ctx, func(ds *metrics.Dataset) error {
		_, err := ds.Compute("deployment_frequency", stale)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	lines := make([]string, 10_000)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"kind":"deployment","id":"quiet-%05d","service":"api","environment":"production","finished_at":"2026-03-%02dT12:00:00Z","status":"success"}`, i, 1+i%29)
	}
	importLines(t, st, lines...)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.StaleHeld(); n == 0 {
		t.Fatal("the import kept no stale result: the test shows nothing")
	}
	// Nothing is read or written from here on.
	deadline := time.Now().Add(4*e.MaxLag + 5*time.Second)
	for e.StaleHeld() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d stale results still held %v after the import on a quiet server (max_lag %v)", e.StaleHeld(), time.Since(deadline.Add(-4*e.MaxLag-5*time.Second)), e.MaxLag)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A large catch-up lets the pages and API reads in progress go first
// (internal/priority), and stops doing so once a writer waits for its
// rows: the writer is not held back by the reads.
func TestWriterDoesNotWaitForReads(t *testing.T) {
	defer priority.SetMaxWait(time.Hour)()
	dir := t.TempDir()
	st := open(t, dir)
	importLines(t, st, dep("d0", "success"))
	e := engine.New(st, metrics.DefaultConfig())
	e.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// More rows than a small catch-up, written before the read begins
	// (the import would wait for it) and through another handle, so that
	// the follower hears of them only when told.
	var lines []string
	for i := range 3000 {
		lines = append(lines, dep(fmt.Sprint("w", i), "success"))
	}
	sum := importLines(t, open(t, dir), lines...)
	_, done := priority.Foreground(ctx)
	defer done()
	e.Notify()
	time.Sleep(100 * time.Millisecond) // the follower is at its catch-up, giving way to the read
	if p := e.Status().Published; p >= sum.Seq {
		t.Fatalf("the large catch-up was published (%d of %d) while a read was in progress", p, sum.Seq)
	}
	// Well within MaxHold, after which the read would no longer count.
	wctx, wcancel := context.WithTimeout(ctx, priority.MaxHold*8/10)
	defer wcancel()
	if err := e.WaitWritten(wctx, sum.Seq); err != nil {
		t.Fatalf("WaitWritten with a read in progress: %v", err)
	}
	if v := read(t, e); v.counts[domain.KindDeployment] != 3001 {
		t.Fatalf("after the writer's rows: %v", v.counts)
	}
}
