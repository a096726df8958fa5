package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// waitCopies waits until a following engine holds n copies of the data.
func waitCopies(t testing.TB, e *engine.Engine, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.Status().Copies != n {
		if time.Now().After(deadline) {
			t.Fatalf("the engine holds %d copies of the data after 30 s, want %d", e.Status().Copies, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With two copies, a read is served from the newest published copy while
// the follower is held up bringing the other copy up to date: a reader
// that keeps the old copy for long delays the follower, never another
// reader. With one copy (the control) the same read waits for the slow
// reader, since the follower applies to the copy readers use.
func TestReadsNeverWaitForTheFollower(t *testing.T) {
	for _, copies := range []int{2, 1} {
		t.Run(fmt.Sprintf("copies=%d", copies), func(t *testing.T) {
			st := open(t, t.TempDir())
			importLines(t, st, dep("d0", "success"))
			e := engine.New(st, metrics.DefaultConfig())
			e.Copies = copies
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.Start(ctx)
			read(t, e)
			waitCopies(t, e, copies)

			// A slow reader holds the published copy.
			holding, release := make(chan struct{}), make(chan struct{})
			slowDone := make(chan int)
			go func() {
				var n int
				e.Read(ctx, func(ds *metrics.Dataset) error {
					close(holding)
					<-release
					n = ds.Counts()[domain.KindDeployment]
					return nil
				})
				slowDone <- n
			}()
			<-holding
			importLines(t, st, dep("d1", "success"), dep("d2", "failure"))
			e.Notify()

			fast := make(chan view, 1)
			go func() {
				// Wait until the rows are published (with one copy they
				// never are while the slow reader holds the copy).
				for e.Seq() < 3 && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				fast <- read(t, e)
			}()
			select {
			case v := <-fast:
				if copies == 1 {
					t.Fatalf("with one copy a read was served (%v) while a reader held the copy the follower applies to", v.counts)
				}
				if v.counts[domain.KindDeployment] != 3 || v.cfr.Count != 3 {
					t.Errorf("the read after the import saw %v deployments, change failure rate over %d; want 3 and 3", v.counts, v.cfr.Count)
				}
			case <-time.After(2 * time.Second):
				if copies == 2 {
					t.Fatal("a read waited 2 s for the follower while a slow reader held the retired copy")
				}
			}
			close(release)
			if n := <-slowDone; n != 1 {
				t.Errorf("the slow reader's copy changed under it: %d deployments, want the 1 it started with", n)
			}
			if copies == 1 {
				if v := <-fast; v.counts[domain.KindDeployment] != 3 {
					t.Errorf("after the slow reader: %v", v.counts)
				}
			}
			// Both copies end up with every row: read a few times, so that
			// reads land on each copy in turn as later rows are published.
			for i := 3; i < 6; i++ {
				importLines(t, st, dep(fmt.Sprintf("d%d", i), "success"))
				if err := e.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				if v := read(t, e); v.counts[domain.KindDeployment] != i+1 {
					t.Fatalf("after d%d: %v", i, v.counts)
				}
			}
		})
	}
}

// twoCopies starts an engine keeping two copies of a store holding one
// deployment, d0, and returns once both copies are loaded.
func twoCopies(t *testing.T) (store.Store, *engine.Engine, context.Context) {
	st := open(t, t.TempDir())
	importLines(t, st, dep("d0", "success"))
	e := engine.New(st, metrics.DefaultConfig())
	e.Copies = 2
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	read(t, e)
	waitCopies(t, e, 2)
	return st, e, ctx
}

// The copy about to be published is warmed with what readers of the
// published one have cached: a value a reader asked for before new rows
// came is computed before the new copy is published, not by the next
// reader. (A writer waiting for its own rows is answered without the
// warming.)
func TestNewCopyIsWarm(t *testing.T) {
	st, e, ctx := twoCopies(t)
	read(t, e) // the published copy caches the two values
	importLines(t, st, dep("d1", "failure"))
	// The follower applies the row (a writer syncing would be served its
	// own read without the warming).
	e.Notify()
	for e.Seq() < 2 {
		time.Sleep(time.Millisecond)
	}
	err := e.Read(ctx, func(ds *metrics.Dataset) error {
		if !ds.Cached("change_failure_rate", query) || !ds.Cached("deployment_frequency", query) {
			t.Error("the newly published copy does not hold the values readers were using")
		}
		r, err := ds.Compute("change_failure_rate", query)
		if err == nil && (r.Count != 2 || *r.Value != 50) {
			t.Errorf("warmed change failure rate %v over %d, want 50 over 2", *r.Value, r.Count)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Only what readers asked for since the last publish is warmed: a stream
// of new rows with nobody reading must not recompute every cached value
// at each one (it cut POST /api/v1/records to a quarter with two copies).
func TestOnlyAskedValuesAreWarmed(t *testing.T) {
	st, e, ctx := twoCopies(t)
	read(t, e)
	cached := func() bool {
		var ok bool
		if err := e.Read(ctx, func(ds *metrics.Dataset) error {
			ok = ds.Cached("change_failure_rate", query)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i, want := range []bool{true, false, true, false} {
		if i == 2 {
			read(t, e) // asked again
		}
		importLines(t, st, dep(fmt.Sprintf("d%d", i+1), "success"))
		e.Notify()
		for e.Seq() < int64(i+2) {
			time.Sleep(time.Millisecond)
		}
		if got := cached(); got != want {
			t.Fatalf("after row %d: the published copy holds the value: %v, want %v", i+1, got, want)
		}
	}
}

// A settings change drops the second copy (it holds the old settings'
// datasets) and loads it again under the new epochs; putting the same
// epochs in force again (as every start does) keeps it. Either way every
// read computes under the settings in force.
func TestSettingsChangeReloadsSecondCopy(t *testing.T) {
	st := open(t, t.TempDir())
	line := func(id, env string) string {
		return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":%q,"finished_at":"2026-03-10T12:00:00Z","status":"success"}`, id, env)
	}
	importLines(t, st, line("p1", "production"), line("e1", "edge"))
	before := metrics.DefaultConfig()
	e := engine.New(st, before)
	e.Copies = 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	read(t, e)
	waitCopies(t, e, 2)
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: before}}); err != nil {
		t.Fatal(err)
	}
	if c := e.Status().Copies; c != 2 {
		t.Fatalf("the same settings put in force again: %d copies, want 2 kept", c)
	}
	after := metrics.DefaultConfig()
	after.ProductionNames = []string{"production", "edge"}
	after.EnvironmentAliases = nil
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: after}}); err != nil {
		t.Fatal(err)
	}
	waitCopies(t, e, 2)
	// Rows published alternately from each copy: both compute under the
	// new settings.
	for i := range 4 {
		importLines(t, st, line(fmt.Sprintf("p%d", i+2), "production"))
		if err := e.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if v := read(t, e); v.freq.Count != i+3 {
			t.Fatalf("after p%d: %d production deployments, want %d (edge counts as production now)", i+2, v.freq.Count, i+3)
		}
	}
}
