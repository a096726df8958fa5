package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// The window W is March 2026 before the 31st; every deployment below
// finishes inside it.
var query = metrics.Query{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Window: 30 * 24 * time.Hour}

func open(t testing.TB, dir string) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func dep(id, status string) string {
	return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":%q}`, id, status)
}

func importLines(t testing.TB, st store.Store, lines ...string) *ingest.Summary {
	t.Helper()
	sum, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "t.ndjson", Reader: strings.NewReader(strings.Join(lines, "\n"))}}, ingest.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return sum
}

// view is what one Read saw.
type view struct {
	counts map[domain.Kind]int
	freq   metrics.Result // deployment_frequency
	cfr    metrics.Result // change_failure_rate
}

func read(t testing.TB, e *engine.Engine) view {
	t.Helper()
	var v view
	err := e.Read(context.Background(), func(ds *metrics.Dataset) error {
		v.counts = ds.Counts()
		var err error
		if v.freq, err = ds.Compute("deployment_frequency", query); err != nil {
			return err
		}
		v.cfr, err = ds.Compute("change_failure_rate", query)
		return err
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return v
}

func TestReadEmptyStore(t *testing.T) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	v := read(t, e)
	for k, n := range v.counts {
		if n != 0 {
			t.Errorf("empty store: %d %s records", n, k)
		}
	}
	// Nothing was ever sent (SPEC §4): no value, not a frequency of 0.
	if v.freq.Count != 0 || v.freq.Value != nil {
		t.Errorf("deployment_frequency on no data = %+v, want count 0, no value", v.freq)
	}
	if v.cfr.Value != nil {
		t.Errorf("change_failure_rate on no data = %v, want no value", *v.cfr.Value)
	}
	if e.Seq() != 0 {
		t.Errorf("Seq = %d", e.Seq())
	}
	// fn's error is returned as is.
	sentinel := errors.New("stop")
	if err := e.Read(context.Background(), func(*metrics.Dataset) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Read returned %v, want fn's error", err)
	}
}

func TestReadFollowsImports(t *testing.T) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	read(t, e) // loaded (empty) before anything is written

	importLines(t, st,
		`{"kind":"service","id":"api","name":"API","tier":1}`,
		dep("d1", "success"), dep("d2", "success"), dep("d3", "failure"),
		`{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-12T00:00:00Z"}`,
	)
	v := read(t, e)
	if v.counts[domain.KindDeployment] != 3 || v.counts[domain.KindService] != 1 || v.counts[domain.KindIncident] != 1 {
		t.Errorf("counts after import = %v", v.counts)
	}
	if v.freq.Count != 2 {
		t.Errorf("deployment_frequency count = %d, want 2 (the failure does not count)", v.freq.Count)
	}
	if last, _ := st.LastSeq(context.Background()); e.Seq() != last {
		t.Errorf("engine Seq %d, store LastSeq %d", e.Seq(), last)
	}

	// More than one scan chunk (4096) and more than one decode batch, so
	// the parallel decode path is exercised; each record applied once.
	// Finish times out of order, some before the window, so the indexes
	// must be ordered again after the load.
	var lines []string
	inW := 0
	for i := range 6000 {
		fin := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*7919%6000) * 15 * time.Minute)
		if !fin.Before(query.AsOf.Add(-query.Window)) && fin.Before(query.AsOf) {
			inW++
		}
		lines = append(lines, fmt.Sprintf(`{"kind":"deployment","id":"bulk%05d","service":"api","environment":"production","finished_at":%q,"status":"success"}`, i, fin.Format(time.RFC3339)))
	}
	if inW < 1000 || inW > 5000 {
		t.Fatalf("bad test data: %d in the window", inW)
	}
	importLines(t, st, lines...)
	v = read(t, e)
	if v.counts[domain.KindDeployment] != 6003 {
		t.Errorf("deployments = %d, want 6003", v.counts[domain.KindDeployment])
	}
	if v.freq.Count != inW+2 {
		t.Errorf("deployment_frequency count = %d, want %d", v.freq.Count, inW+2)
	}
	if want := float64(inW+2) / 30; v.freq.Value == nil || *v.freq.Value != want {
		t.Errorf("deployment_frequency = %v, want %v", v.freq.Value, want)
	}

	// A fresh engine loads the same state from scratch.
	v2 := read(t, engine.New(st, metrics.DefaultConfig()))
	if v2.counts[domain.KindDeployment] != v.counts[domain.KindDeployment] || v2.freq.Count != v.freq.Count {
		t.Errorf("fresh engine sees %v / %d, the following one %v / %d", v2.counts, v2.freq.Count, v.counts, v.freq.Count)
	}
}

func TestReadReplacedRecord(t *testing.T) {
	st := open(t, t.TempDir())
	e := engine.New(st, metrics.DefaultConfig())
	importLines(t, st, dep("d1", "success"), dep("d2", "success"), dep("d3", "success"))
	v := read(t, e)
	if v.counts[domain.KindDeployment] != 3 || v.freq.Count != 3 || v.cfr.Value == nil || *v.cfr.Value != 0 {
		t.Fatalf("before: counts %v freq %d cfr %v", v.counts, v.freq.Count, v.cfr.Value)
	}
	seq := e.Seq()

	// Same kind, source and id, new content.
	if sum := importLines(t, st, dep("d2", "failure")); sum.Replaced != 1 {
		t.Fatalf("import did not replace: %+v", sum.WriteResult)
	}
	v = read(t, e)
	if v.counts[domain.KindDeployment] != 3 {
		t.Errorf("deployments = %d after a replacement, want 3", v.counts[domain.KindDeployment])
	}
	if v.freq.Count != 2 {
		t.Errorf("deployment_frequency count = %d, want 2", v.freq.Count)
	}
	if v.cfr.Value == nil || *v.cfr.Value != 100.0/3 {
		t.Errorf("change_failure_rate = %v, want 33.3", v.cfr.Value)
	}
	if e.Seq() <= seq {
		t.Errorf("Seq did not advance: %d", e.Seq())
	}

	// And back again; a re-import of the same content changes nothing.
	importLines(t, st, dep("d2", "success"))
	importLines(t, st, dep("d2", "success"))
	v = read(t, e)
	if v.counts[domain.KindDeployment] != 3 || v.freq.Count != 3 || *v.cfr.Value != 0 {
		t.Errorf("after restoring: counts %v freq %d cfr %v", v.counts, v.freq.Count, *v.cfr.Value)
	}
}

func TestTwoInstancesShareAStore(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
	ea, eb := engine.New(a, metrics.DefaultConfig()), engine.New(b, metrics.DefaultConfig())
	read(t, ea)
	read(t, eb)

	importLines(t, a, dep("d1", "success"), dep("d2", "success"))
	if v := read(t, eb); v.counts[domain.KindDeployment] != 2 || v.freq.Count != 2 {
		t.Errorf("instance B after A's write: %v, freq %d", v.counts, v.freq.Count)
	}
	importLines(t, b, dep("d3", "success"), dep("d1", "failure"))
	for name, e := range map[string]*engine.Engine{"A": ea, "B": eb} {
		if v := read(t, e); v.counts[domain.KindDeployment] != 3 || v.freq.Count != 2 {
			t.Errorf("instance %s after B's write: %v, freq %d", name, v.counts, v.freq.Count)
		}
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	e := engine.New(st, metrics.DefaultConfig())
	const batches, per = 20, 50
	batchLines := func(b int) []string {
		var lines []string
		for i := range per {
			lines = append(lines, dep(fmt.Sprintf("b%02d-%02d", b, i), "success"))
		}
		if b > 0 { // each batch also turns one deployment of the previous one into a failure
			lines = append(lines, dep(fmt.Sprintf("b%02d-%02d", b-1, 0), "failure"))
		}
		return lines
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	var reads atomic.Int64
	// A batch is one transaction, so a read sees k whole batches: 50·k
	// deployments, k-1 of them failed.
	check := func(ds *metrics.Dataset, last *int) error {
		n := ds.Counts()[domain.KindDeployment]
		if n%per != 0 || n < *last || n > batches*per {
			return fmt.Errorf("read saw %d deployments (previously %d)", n, *last)
		}
		*last = n
		freq, err := ds.Compute("deployment_frequency", query)
		if err != nil {
			return err
		}
		if k := n / per; k > 0 && freq.Count != n-(k-1) {
			return fmt.Errorf("read saw %d deployments, %d counted by deployment_frequency, want %d", n, freq.Count, n-(k-1))
		}
		if _, err := ds.Compute("change_failure_rate", query); err != nil {
			return err
		}
		_, err = ds.Breakdown("deployment_frequency", query, "service")
		return err
	}
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for ctx.Err() == nil {
				if err := e.Read(ctx, func(ds *metrics.Dataset) error { return check(ds, &last) }); err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("reader %d: %w", r, err)
					}
					return
				}
				reads.Add(1)
			}
		}()
	}
	// A second instance reading the same directory.
	other := engine.New(open(t, dir), metrics.DefaultConfig())
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := 0
		for ctx.Err() == nil {
			if err := other.Read(ctx, func(ds *metrics.Dataset) error { return check(ds, &last) }); err != nil {
				if ctx.Err() == nil {
					errs <- fmt.Errorf("other instance: %w", err)
				}
				return
			}
		}
	}()

	for b := range batches {
		if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "b.ndjson", Reader: strings.NewReader(strings.Join(batchLines(b), "\n"))}}, ingest.Options{}); err != nil {
			t.Errorf("import %d: %v", b, err)
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the readers see the last batch
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("no reads completed")
	}
	for name, e := range map[string]*engine.Engine{"writer's": e, "other": other} {
		v := read(t, e)
		if v.counts[domain.KindDeployment] != batches*per || v.freq.Count != batches*per-(batches-1) {
			t.Errorf("%s engine final: %d deployments, frequency count %d; want %d and %d", name,
				v.counts[domain.KindDeployment], v.freq.Count, batches*per, batches*per-(batches-1))
		}
	}
}

// A row corrupted in the database itself is quarantined: skipped, counted,
// logged with its key and listed, never taking reads down. The version the
// engine held before is left out too (the store no longer has it), so a
// fresh engine and a following one agree. A good row of the key lifts it.
func TestCorruptRowQuarantined(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	var logged strings.Builder
	e := engine.New(st, metrics.DefaultConfig())
	e.Log = slog.New(slog.NewTextHandler(&logged, nil))
	importLines(t, st, dep("d1", "success"), dep("broken", "success"))
	if v := read(t, e); v.counts[domain.KindDeployment] != 2 {
		t.Fatalf("before: %v", v.counts)
	}

	// Corrupt the stored row directly in the database, as a failing disk
	// or a hand edit would, and give it a new seq so followers see it.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE records SET body = ?, seq = (SELECT max(seq) + 1 FROM records) WHERE id = 'broken'`, []byte(`{"id":"broken","finished_at":`)); err != nil {
		t.Fatal(err)
	}
	importLines(t, st, dep("d2", "success"))
	bad := domain.Key{Kind: domain.KindDeployment, Source: "import", ID: "broken"}
	check := func(name string, e *engine.Engine) {
		t.Helper()
		var q []metrics.QuarantinedRow
		v := view{}
		err := e.Read(ctx, func(ds *metrics.Dataset) error {
			v.counts = ds.Counts()
			q = ds.Quarantined()
			var err error
			v.freq, err = ds.Compute("deployment_frequency", query)
			return err
		})
		if err != nil {
			t.Fatalf("%s: Read: %v", name, err)
		}
		if v.counts[domain.KindDeployment] != 2 || v.freq.Count != 2 {
			t.Errorf("%s: %d deployments, frequency count %d; want d1 and d2 only", name, v.counts[domain.KindDeployment], v.freq.Count)
		}
		if len(q) != 1 || q[0].Kind != bad.Kind || q[0].Source != bad.Source || q[0].ID != bad.ID || !strings.Contains(q[0].Reason, "corrupt") {
			t.Errorf("%s: quarantined %+v, want %s", name, q, bad)
		}
		if s := e.Status(); s.Quarantined != 1 {
			t.Errorf("%s: status counts %d quarantined rows", name, s.Quarantined)
		}
	}
	check("following engine", e)
	check("fresh engine", engine.New(st, metrics.DefaultConfig()))
	if !strings.Contains(logged.String(), "quarantined") || !strings.Contains(logged.String(), "id=broken") {
		t.Errorf("log does not name the quarantined row:\n%s", logged.String())
	}

	// Once the record is written again the engine takes it back.
	importLines(t, st, `{"kind":"deployment","id":"broken","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success"}`)
	v := read(t, e)
	if v.counts[domain.KindDeployment] != 3 || v.freq.Count != 3 || e.Status().Quarantined != 0 {
		t.Errorf("after repair: %v, freq %d, quarantined %d", v.counts, v.freq.Count, e.Status().Quarantined)
	}
	if last, _ := st.LastSeq(ctx); e.Seq() != last {
		t.Errorf("Seq %d, LastSeq %d", e.Seq(), last)
	}
}

// A row of a kind this version does not know (written by a newer one) is
// quarantined like a corrupt one.
func TestUnknownStoredKind(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	key := domain.Key{Kind: "gizmo", Source: "import", ID: "g1"}
	if _, err := store.Put(ctx, st, []store.Item{{Key: key, Hash: "x", Body: []byte(`{"id":"g1"}`)}}); err != nil {
		t.Fatal(err)
	}
	importLines(t, st, dep("d1", "success"))
	e := engine.New(st, metrics.DefaultConfig())
	var q []metrics.QuarantinedRow
	if err := e.Read(ctx, func(ds *metrics.Dataset) error { q = ds.Quarantined(); return nil }); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(q) != 1 || q[0].Kind != "gizmo" || !strings.Contains(q[0].Reason, "gizmo") {
		t.Errorf("quarantined %+v, want the gizmo", q)
	}
	if v := read(t, e); v.counts[domain.KindDeployment] != 1 {
		t.Errorf("deployments %v", v.counts)
	}
}

// countingStore counts LastSeq calls; failScan > 0 makes the next Scan
// fail after that many records.
type countingStore struct {
	store.Store
	lastSeq  atomic.Int64
	failScan atomic.Int64
}

func (c *countingStore) LastSeq(ctx context.Context) (int64, error) {
	c.lastSeq.Add(1)
	return c.Store.LastSeq(ctx)
}

var errScan = errors.New("scan failed")

func (c *countingStore) Scan(ctx context.Context, after int64, fn func(store.Stored) error) (int64, error) {
	n := c.failScan.Swap(0)
	if n == 0 {
		return c.Store.Scan(ctx, after, fn)
	}
	return c.Store.Scan(ctx, after, func(r store.Stored) error {
		if n--; n < 0 {
			return errScan
		}
		return fn(r)
	})
}

// tailingStore is a countingStore with the store's Tail, which fails as
// its Scan does: the engine reads a small catch-up with Tail where the
// store has it, and with LastSeq and Scan where not.
type tailingStore struct{ *countingStore }

func (c tailingStore) Tail(ctx context.Context, after int64, max int, fn func(store.Stored) error) (int64, bool, error) {
	t := c.Store.(store.Tailer)
	n := c.failScan.Swap(0)
	if n == 0 {
		return t.Tail(ctx, after, max, fn)
	}
	return t.Tail(ctx, after, max, func(r store.Stored) error {
		if n--; n < 0 {
			return errScan
		}
		return fn(r)
	})
}

// failingStores runs f with a store whose reads can be made to fail, one
// that has Tail and one that has not.
func failingStores(t *testing.T, f func(t *testing.T, st store.Store, failScan *atomic.Int64)) {
	t.Run("scan", func(t *testing.T) {
		st := &countingStore{Store: open(t, t.TempDir())}
		f(t, st, &st.failScan)
	})
	t.Run("tail", func(t *testing.T) {
		st := tailingStore{&countingStore{Store: open(t, t.TempDir())}}
		f(t, st, &st.failScan)
	})
}

func TestMinInterval(t *testing.T) {
	t.Run("zero checks on every read", func(t *testing.T) {
		st := &countingStore{Store: open(t, t.TempDir())}
		e := engine.New(st, metrics.DefaultConfig())
		for range 5 {
			read(t, e)
		}
		if n := st.lastSeq.Load(); n != 5 {
			t.Errorf("LastSeq called %d times for 5 reads", n)
		}
		importLines(t, st, dep("d1", "success"))
		if v := read(t, e); v.counts[domain.KindDeployment] != 1 {
			t.Error("write not seen by the next read")
		}
	})
	t.Run("reads within the interval share one check", func(t *testing.T) {
		st := &countingStore{Store: open(t, t.TempDir())}
		e := engine.New(st, metrics.DefaultConfig())
		e.MinInterval = time.Hour
		importLines(t, st, dep("d1", "success"))
		if v := read(t, e); v.counts[domain.KindDeployment] != 1 {
			t.Error("first read must load")
		}
		importLines(t, st, dep("d2", "success"))
		for range 10 {
			if v := read(t, e); v.counts[domain.KindDeployment] != 1 {
				t.Fatal("a read within MinInterval checked the store")
			}
		}
		if n := st.lastSeq.Load(); n != 1 {
			t.Errorf("LastSeq called %d times, want 1", n)
		}
	})
	t.Run("the next read after the interval checks", func(t *testing.T) {
		st := &countingStore{Store: open(t, t.TempDir())}
		e := engine.New(st, metrics.DefaultConfig())
		e.MinInterval = 200 * time.Millisecond
		read(t, e)
		importLines(t, st, dep("d1", "success"))
		start := time.Now()
		v := read(t, e)
		if time.Since(start) < e.MinInterval && v.counts[domain.KindDeployment] != 0 {
			t.Error("a read within MinInterval checked the store")
		}
		time.Sleep(e.MinInterval + 50*time.Millisecond)
		if v := read(t, e); v.counts[domain.KindDeployment] != 1 {
			t.Error("write not seen after MinInterval")
		}
		if n := st.lastSeq.Load(); n < 2 || n > 3 {
			t.Errorf("LastSeq called %d times, want 2", n)
		}
	})
}

// A load that fails half-way has applied part of a batch; reads within
// MinInterval must retry it, never serve that state as if all were well.
func TestMinIntervalRetriesAfterFailedLoad(t *testing.T) {
	failingStores(t, func(t *testing.T, st store.Store, failScan *atomic.Int64) {
		e := engine.New(st, metrics.DefaultConfig())
		e.MinInterval = time.Hour
		read(t, e) // ready: a catch-up of a few rows is then Tail's
		var lines []string
		for i := range 10 {
			lines = append(lines, dep(fmt.Sprintf("d%d", i), "success"))
		}
		importLines(t, st, lines...)
		failScan.Store(4)
		e.MinInterval = 0 // this read checks, and fails
		if err := e.Read(context.Background(), func(*metrics.Dataset) error { return nil }); !errors.Is(err, errScan) {
			t.Fatalf("Read error = %v, want the scan's", err)
		}
		e.MinInterval = time.Hour
		if v := read(t, e); v.counts[domain.KindDeployment] != 10 {
			t.Errorf("read after a failed load saw %d deployments, want 10", v.counts[domain.KindDeployment])
		}
		if e.Seq() != 10 {
			t.Errorf("Seq = %d", e.Seq())
		}
	})
}

// While loads keep failing half-way (here an injected scan error; in life a
// cancelled request or a store error), no reader may see part of a batch,
// including one that refreshed just before the failing load began.
func TestNoReadSeesAFailedLoad(t *testing.T) {
	failingStores(t, noReadSeesAFailedLoad)
}

func noReadSeesAFailedLoad(t *testing.T, st store.Store, failScan *atomic.Int64) {
	e := engine.New(st, metrics.DefaultConfig())
	const batches, per = 100, 50
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var partial, reads, failed atomic.Int64
	errs := make(chan error, 8)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				err := e.Read(ctx, func(ds *metrics.Dataset) error {
					reads.Add(1)
					if n := ds.Counts()[domain.KindDeployment]; n%per != 0 {
						partial.Add(1)
					}
					return nil
				})
				switch {
				case errors.Is(err, errScan):
					failed.Add(1)
				case err != nil && ctx.Err() == nil:
					errs <- err
					return
				}
			}
		}()
	}
	for b := range batches {
		var lines []string
		for i := range per {
			lines = append(lines, dep(fmt.Sprintf("b%03d-%02d", b, i), "success"))
		}
		importLines(t, st, lines...)
		failScan.Store(int64(1 + b%(per-1))) // the next load fails after some rows
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	failScan.Store(0)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d reads, %d failed loads", reads.Load(), failed.Load())
	if failed.Load() == 0 {
		t.Error("no load failed: the test tested nothing")
	}
	if n := partial.Load(); n > 0 {
		t.Errorf("%d reads saw part of a batch", n)
	}
	if v := read(t, e); v.counts[domain.KindDeployment] != batches*per {
		t.Errorf("final: %d deployments, want %d", v.counts[domain.KindDeployment], batches*per)
	}
}

func TestReadCancelled(t *testing.T) {
	st := open(t, t.TempDir())
	importLines(t, st, dep("d1", "success"))
	e := engine.New(st, metrics.DefaultConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := e.Read(ctx, func(*metrics.Dataset) error { called = true; return nil }); err == nil {
		t.Error("Read with a cancelled context succeeded")
	}
	if called {
		t.Error("fn called")
	}
	if v := read(t, e); v.counts[domain.KindDeployment] != 1 {
		t.Errorf("after a cancelled read: %v", v.counts)
	}
}

// An engine that follows the store through many imports with replacements
// must hold exactly what an engine loading everything at once holds: every
// metric agrees.
func TestFollowingEqualsFreshLoad(t *testing.T) {
	st := open(t, t.TempDir())
	follower := engine.New(st, metrics.DefaultConfig())
	rnd := rand.New(rand.NewPCG(1, 2))
	at := func() string {
		return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rnd.IntN(59*24)) * time.Hour).Format(time.RFC3339)
	}
	statuses := []string{"success", "success", "success", "failure", "rolled_back"}
	envs := []string{"production", "prod", "staging"}
	for round := range 8 {
		var lines []string
		for range 300 {
			svc := fmt.Sprintf("svc%d", rnd.IntN(4))
			switch rnd.IntN(6) {
			case 0, 1:
				lines = append(lines, fmt.Sprintf(`{"kind":"deployment","id":"d%d","service":%q,"environment":%q,"finished_at":%q,"status":%q,"changes":["c%d"]}`,
					rnd.IntN(400), svc, envs[rnd.IntN(len(envs))], at(), statuses[rnd.IntN(len(statuses))], rnd.IntN(300)))
			case 2:
				lines = append(lines, fmt.Sprintf(`{"kind":"change","id":"c%d","service":%q,"merged_at":%q}`, rnd.IntN(300), svc, at()))
			case 3:
				lines = append(lines, fmt.Sprintf(`{"kind":"incident","id":"i%d","service":%q,"severity":"P%d","opened_at":%q,"caused_by":"d%d"}`,
					rnd.IntN(100), svc, rnd.IntN(5), at(), rnd.IntN(400)))
			case 4:
				lines = append(lines, fmt.Sprintf(`{"kind":"vulnerability","id":"v%d","service":%q,"severity":"critical","opened_at":"2026-01-15T00:00:00Z","fixed_at":%q}`,
					rnd.IntN(50), svc, at()))
			case 5:
				lines = append(lines, fmt.Sprintf(`{"kind":"ticket","id":"t%d","created_at":"2026-01-20T00:00:00Z","resolved_at":%q,"escalated":%v}`,
					rnd.IntN(50), at(), rnd.IntN(2) == 0))
			}
		}
		// A key may appear twice in one import: the later line wins.
		if _, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "r.ndjson", Reader: strings.NewReader(strings.Join(lines, "\n"))}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		got := computeAll(t, follower)
		if fresh := computeAll(t, engine.New(st, metrics.DefaultConfig())); got != fresh {
			t.Fatalf("round %d: following engine differs from a fresh load:\n%s\nfresh:\n%s", round, got, fresh)
		}
		if ref := referenceAll(t, st); got != ref {
			t.Fatalf("round %d: engine differs from a dataset built directly from the store:\n%s\nreference:\n%s", round, got, ref)
		}
	}
}

// computeAll renders the counts and every metric's value.
func computeAll(t *testing.T, e *engine.Engine) string {
	t.Helper()
	var out string
	err := e.Read(context.Background(), func(ds *metrics.Dataset) error {
		var err error
		out, err = render(ds)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// referenceAll is computeAll over a dataset built straight from the store,
// without the engine: every record applied once, then Prepare.
func referenceAll(t *testing.T, st store.Store) string {
	t.Helper()
	ds := metrics.NewDataset(metrics.DefaultConfig())
	if _, err := st.Scan(context.Background(), 0, func(r store.Stored) error {
		rec := domain.New(r.Key.Kind)
		if err := json.Unmarshal(r.Body, rec); err != nil {
			return err
		}
		rec.Header().Source = r.Key.Source
		ds.Apply(rec, r.IngestedAt)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ds.Prepare()
	out, err := render(ds)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func render(ds *metrics.Dataset) (string, error) {
	var b strings.Builder
	c := ds.Counts()
	for _, k := range domain.Kinds {
		if c[k] != 0 {
			fmt.Fprintf(&b, "%s=%d ", k, c[k])
		}
	}
	b.WriteString("\n")
	for _, id := range metrics.IDs() {
		r, err := ds.Compute(id, query)
		if err != nil {
			return "", err
		}
		v := "none"
		if r.Value != nil {
			v = fmt.Sprintf("%.9g", *r.Value)
		}
		fmt.Fprintf(&b, "%s=%s/%d\n", id, v, r.Count)
	}
	return b.String(), nil
}
