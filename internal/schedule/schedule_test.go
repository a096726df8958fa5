package schedule_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/leader"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/schedule"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func snapshots(t *testing.T, s store.DocStore) []schedule.Snapshot {
	t.Helper()
	docs, err := s.Docs(context.Background(), schedule.Collection, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]schedule.Snapshot, len(docs))
	for i, d := range docs {
		// Oldest first.
		if err := json.Unmarshal(d.Body, &out[len(docs)-1-i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func newSnapshots(t *testing.T, st store.Store, every time.Duration) *schedule.Snapshots {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &schedule.Snapshots{Docs: st, Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Interval: every}
}

func TestRunOnceOncePerSlot(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newSnapshots(t, st, time.Hour)
	t0 := time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{t0, true},
		{t0.Add(30 * time.Minute), false}, // same slot
		{t0.Add(-time.Hour), false},       // an older slot never goes after a newer one
		{t0.Add(time.Hour), true},
		{t0.Add(time.Hour), false},
	} {
		got, err := s.RunOnce(ctx, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("RunOnce(%v) wrote = %v, want %v", c.now, got, c.want)
		}
	}
	snaps := snapshots(t, st)
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots, want 2", len(snaps))
	}
	for i, want := range []time.Time{t0.Truncate(time.Hour), t0.Truncate(time.Hour).Add(time.Hour)} {
		if !snaps[i].Slot.Equal(want) || snaps[i].Scorecard == nil || !snaps[i].Scorecard.AsOf.Equal(want) || snaps[i].Interval != "1h" {
			t.Errorf("snapshot %d: slot %v, interval %q, scorecard %v; want slot and as_of %v, interval 1h", i, snaps[i].Slot, snaps[i].Interval, snaps[i].Scorecard != nil, want)
		}
	}
}

// countingDocs counts the snapshots one instance writes.
type countingDocs struct {
	store.DocStore
	mu sync.Mutex
	n  int
}

func (c *countingDocs) AppendDoc(ctx context.Context, coll string, body []byte) (store.Doc, error) {
	d, err := c.DocStore.AppendDoc(ctx, coll, body)
	if err == nil {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return d, err
}

func (c *countingDocs) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestTwoInstancesFailover runs two instances on one PostgreSQL database:
// snapshots are written once per slot by the leader only, and when the
// leader dies the other continues.
func TestTwoInstancesFailover(t *testing.T) {
	const (
		every = 200 * time.Millisecond
		retry = 50 * time.Millisecond
		bound = 10 * time.Second
	)
	url := pgtest.NewDatabase(t)
	type inst struct {
		db     *postgres.DB
		docs   *countingDocs
		cancel context.CancelFunc
		done   chan struct{}
	}
	var ins [2]*inst
	var mu sync.Mutex
	leading := [2]bool{}
	for i := range ins {
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		in := &inst{db: db, docs: &countingDocs{DocStore: db}, done: make(chan struct{})}
		ins[i] = in
		snap := newSnapshots(t, db, every)
		snap.Docs = in.docs
		ctx, cancel := context.WithCancel(context.Background())
		in.cancel = cancel
		el := &leader.Elector{Locker: leader.LockFunc(db.TryLeaderLock), Retry: retry}
		go func() {
			defer close(in.done)
			el.Run(ctx, func(ctx context.Context) {
				mu.Lock()
				if leading[1-i] {
					t.Errorf("instance %d leads while %d does", i, 1-i)
				}
				leading[i] = true
				mu.Unlock()
				snap.Run(ctx)
				mu.Lock()
				leading[i] = false
				mu.Unlock()
			})
		}()
		t.Cleanup(func() {
			cancel()
			<-in.done
			db.Close()
		})
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(bound)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up after %v waiting for %s", bound, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// ~1.5 s of slots under the first leader.
	waitFor("6 snapshots", func() bool { return ins[0].docs.count()+ins[1].docs.count() >= 6 })
	first := 0
	if ins[1].docs.count() > 0 {
		first = 1
	}
	if n := ins[1-first].docs.count(); n != 0 {
		t.Fatalf("the follower wrote %d snapshots", n)
	}

	// Kill the leader: stop it and close its store.
	ins[first].cancel()
	<-ins[first].done
	if err := ins[first].db.Close(); err != nil {
		t.Fatal(err)
	}
	other := ins[1-first]
	waitFor("the other instance to write 3 snapshots", func() bool { return other.docs.count() >= 3 })
	other.cancel()
	<-other.done

	snaps := snapshots(t, other.db)
	if len(snaps) != ins[0].docs.count()+ins[1].docs.count() {
		t.Fatalf("%d snapshots stored, instances wrote %d", len(snaps), ins[0].docs.count()+ins[1].docs.count())
	}
	gaps := 0
	for i := 1; i < len(snaps); i++ {
		d := snaps[i].Slot.Sub(snaps[i-1].Slot)
		if d <= 0 {
			t.Fatalf("snapshot %d: slot %v after %v: duplicate or out of order", i, snaps[i].Slot, snaps[i-1].Slot)
		}
		if d%every != 0 {
			t.Fatalf("snapshot %d: slot %v is not on a %v boundary after %v", i, snaps[i].Slot, every, snaps[i-1].Slot)
		}
		if d != every {
			gaps++
		}
	}
	// The hand-over takes a retry or two, well under a slot; a loaded
	// machine may still miss one.
	if gaps > 1 {
		var slots []time.Time
		for _, s := range snaps {
			slots = append(slots, s.Slot)
		}
		t.Errorf("%d gaps between %d slots: %v", gaps, len(snaps), slots)
	}
}
