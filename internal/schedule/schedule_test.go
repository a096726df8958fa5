package schedule_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/leader"
	"github.com/candor/candor/internal/ledger"
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
	docs, err := st.Docs(ctx, schedule.Collection, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"2026-03-02T11:00:00Z", "2026-03-02T10:00:00Z"} {
		if docs[i].Key != want {
			t.Errorf("document %d (newest first): key %q, want %q", i, docs[i].Key, want)
		}
	}
}

// Slots shorter than a second (the tests' intervals) must not share a key,
// or the second one's snapshot would be taken as already written.
func TestSlotKey(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		slot time.Time
		want string
	}{
		{t0, "2026-03-02T10:00:00Z"},
		{t0.Add(200 * time.Millisecond), "2026-03-02T10:00:00.2Z"},
		{t0.In(time.FixedZone("CET", 3600)), "2026-03-02T10:00:00Z"},
	} {
		if got := schedule.SlotKey(c.slot); got != c.want {
			t.Errorf("SlotKey(%v) = %q, want %q", c.slot, got, c.want)
		}
	}
}

// countingDocs counts the snapshots one instance writes.
type countingDocs struct {
	store.DocStore
	mu sync.Mutex
	n  int
}

func (c *countingDocs) AppendDocOnce(ctx context.Context, coll, key string, body []byte) (store.Doc, bool, error) {
	d, created, err := c.DocStore.AppendDocOnce(ctx, coll, key, body)
	if err == nil && created {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return d, created, err
}

func (c *countingDocs) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// racingDocs holds a runner, once it has read the latest snapshot, until
// every runner has read it, so all of them pass RunOnce's cheap check and
// go on to store the slot: what two instances that both believe they lead
// can do. It counts the appends that reach the store.
type racingDocs struct {
	store.DocStore
	read    *sync.WaitGroup
	once    sync.Once
	appends int
}

func (r *racingDocs) Docs(ctx context.Context, coll string, limit int) ([]store.Doc, error) {
	ds, err := r.DocStore.Docs(ctx, coll, limit)
	r.once.Do(func() {
		r.read.Done()
		r.read.Wait()
	})
	return ds, err
}

func (r *racingDocs) AppendDoc(ctx context.Context, coll string, body []byte) (store.Doc, error) {
	r.appends++
	return r.DocStore.AppendDoc(ctx, coll, body)
}

func (r *racingDocs) AppendDocOnce(ctx context.Context, coll, key string, body []byte) (store.Doc, bool, error) {
	r.appends++
	return r.DocStore.AppendDocOnce(ctx, coll, key, body)
}

// TestRacingRunnersWriteOneSnapshot races two runners, each on its own
// store handle as two instances would be, on one slot with no leader
// election at all: the store, not leadership, keeps the slot to one
// snapshot.
func TestRacingRunnersWriteOneSnapshot(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []struct {
		name string
		open func(t *testing.T) (a, b store.Store)
	}{
		{"sqlite", func(t *testing.T) (store.Store, store.Store) {
			dir := t.TempDir()
			var h [2]store.Store
			for i := range h {
				st, err := sqlite.Open(ctx, dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				h[i] = st
			}
			return h[0], h[1]
		}},
		{"postgres", func(t *testing.T) (store.Store, store.Store) {
			url := pgtest.NewDatabase(t)
			var h [2]store.Store
			for i := range h {
				st, err := postgres.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				h[i] = st
			}
			return h[0], h[1]
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			a, b := backend.open(t)
			now := time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)
			slot := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // the week's Monday
			var read sync.WaitGroup
			read.Add(2)
			var racers [2]*racingDocs
			var written [2]bool
			var errs [2]error
			var wg sync.WaitGroup
			for i, st := range []store.Store{a, b} {
				snap := newSnapshots(t, st, 168*time.Hour)
				racers[i] = &racingDocs{DocStore: st, read: &read}
				snap.Docs = racers[i]
				wg.Go(func() { written[i], errs[i] = snap.RunOnce(ctx, now) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("runner %d: %v", i, err)
				}
			}
			if racers[0].appends != 1 || racers[1].appends != 1 {
				t.Fatalf("appends reaching the store: %d and %d, want both runners past the cheap check", racers[0].appends, racers[1].appends)
			}
			if written[0] == written[1] {
				t.Errorf("RunOnce wrote = %v and %v, want exactly one true", written[0], written[1])
			}
			for i, st := range []store.Store{a, b} {
				docs, err := st.Docs(ctx, schedule.Collection, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(docs) != 1 {
					t.Fatalf("handle %d: %d snapshots stored, want 1", i, len(docs))
				}
				if docs[0].Key != schedule.SlotKey(slot) || docs[0].Key != "2026-03-02T00:00:00Z" {
					t.Errorf("handle %d: snapshot key %q, want %q", i, docs[0].Key, schedule.SlotKey(slot))
				}
				var got schedule.Snapshot
				if err := json.Unmarshal(docs[0].Body, &got); err != nil || !got.Slot.Equal(slot) {
					t.Errorf("handle %d: snapshot for slot %v (%v), want %v", i, got.Slot, err, slot)
				}
			}
		})
	}
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

// TestSnapshotsChainedAndOnDemand: every snapshot, scheduled or taken on
// demand (candor snapshot), is a ledger entry appended with it, carrying
// its digest and each metric's status; one taken on demand does not stand
// in for the schedule's slot.
func TestSnapshotsChainedAndOnDemand(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	s := newSnapshots(t, st, time.Hour)
	t0 := time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)
	doc, err := schedule.Take(ctx, st, s.Engine, s.Catalog, t0, "cli:alice")
	if err != nil {
		t.Fatal(err)
	}
	if wrote, err := s.RunOnce(ctx, t0.Add(time.Minute)); err != nil || !wrote {
		t.Fatalf("RunOnce after an on-demand snapshot in its slot wrote %v (%v), want the slot's own", wrote, err)
	}
	snaps := snapshots(t, st)
	if len(snaps) != 2 || !snaps[0].OnDemand || snaps[0].By != "cli:alice" || !snaps[0].Slot.Equal(t0) || snaps[1].OnDemand {
		t.Fatalf("snapshots: %+v", snaps)
	}
	var rows []store.LedgerRow
	st.LedgerScan(ctx, 1, 0, func(r store.LedgerRow) error { rows = append(rows, r); return nil })
	if len(rows) != 2 {
		t.Fatalf("%d ledger entries, want one per snapshot", len(rows))
	}
	var data struct {
		Doc      int64             `json:"doc"`
		SHA256   string            `json:"sha256"`
		OnDemand bool              `json:"on_demand"`
		Statuses map[string]string `json:"statuses"`
	}
	if err := json.Unmarshal(rows[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(doc.Body)
	if rows[0].Type != ledger.TypeSnapshot || data.Doc != doc.ID || data.SHA256 != hex.EncodeToString(sum[:]) || !data.OnDemand ||
		data.Statuses["change_failure_rate"] != "unknown" || len(data.Statuses) != len(s.Catalog.Metrics) {
		t.Errorf("snapshot entry %s", rows[0].Data)
	}
}
