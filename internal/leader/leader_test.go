package leader_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/leader"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	retry = 50 * time.Millisecond
	bound = 5 * time.Second // every wait gives up after this
)

// tracker records which instances lead and fails the test if two ever do
// at once.
type tracker struct {
	t       *testing.T
	mu      sync.Mutex
	leading map[int]bool
	starts  map[int]int
	lost    map[int]int
	// overlap allows two leaders at once, which happens when a lock is
	// lost on the server before its holder's next check notices.
	overlap bool
}

func newTracker(t *testing.T) *tracker {
	return &tracker{t: t, leading: map[int]bool{}, starts: map[int]int{}, lost: map[int]int{}}
}

func (tr *tracker) onLead(i int) func(context.Context) {
	return func(ctx context.Context) {
		tr.mu.Lock()
		for j, l := range tr.leading {
			if l && !tr.overlap {
				tr.t.Errorf("instance %d leads while instance %d still does", i, j)
			}
		}
		tr.leading[i] = true
		tr.starts[i]++
		tr.mu.Unlock()
		<-ctx.Done()
		tr.mu.Lock()
		tr.leading[i] = false
		tr.lost[i]++
		tr.mu.Unlock()
	}
}

// leader returns the leading instance, or -1.
func (tr *tracker) leader() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i, l := range tr.leading {
		if l {
			return i
		}
	}
	return -1
}

func (tr *tracker) waitFor(what string, cond func() bool) {
	tr.t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			tr.t.Fatalf("gave up after %v waiting for %s", bound, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// instance is one running elector.
type instance struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func start(tr *tracker, i int, l leader.Locker) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan error, 1)}
	el := &leader.Elector{Locker: l, Retry: retry}
	go func() { in.done <- el.Run(ctx, tr.onLead(i)) }()
	tr.t.Cleanup(in.stop)
	return in
}

func (in *instance) stop() {
	in.once.Do(func() {
		in.cancel()
		select {
		case err := <-in.done:
			if err != nil {
				panic(err)
			}
		case <-time.After(bound):
			panic("elector did not stop")
		}
	})
}

// checkFailover runs two electors: exactly one leads, and stopping it
// hands over to the other; stop also runs afterStop for that instance.
func checkFailover(t *testing.T, lockers [2]leader.Locker, afterStop func(i int)) {
	tr := newTracker(t)
	ins := [2]*instance{start(tr, 0, lockers[0]), start(tr, 1, lockers[1])}
	tr.waitFor("a leader", func() bool { return tr.leader() >= 0 })
	first := tr.leader()
	// The follower keeps retrying for a while and must not take over.
	time.Sleep(5 * retry)
	if got := tr.leader(); got != first {
		t.Fatalf("leader changed from %d to %d with nothing stopped", first, got)
	}
	tr.mu.Lock()
	if tr.starts[1-first] != 0 {
		t.Fatalf("instance %d led while %d held the lock", 1-first, first)
	}
	tr.mu.Unlock()

	ins[first].stop()
	if afterStop != nil {
		afterStop(first)
	}
	other := 1 - first
	tr.waitFor(fmt.Sprintf("instance %d to take over", other), func() bool { return tr.leader() == other })
}

func TestFileLock(t *testing.T) {
	dir := t.TempDir()
	checkFailover(t, [2]leader.Locker{leader.FileLock(dir), leader.FileLock(dir)}, nil)
}

func TestFileLockOneOwner(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := leader.FileLock(dir).TryLock(ctx)
	if err != nil || a == nil {
		t.Fatalf("first TryLock = %v, %v; want held", a, err)
	}
	b, err := leader.FileLock(dir).TryLock(ctx)
	if err != nil || b != nil {
		t.Fatalf("second TryLock = %v, %v; want nil, nil while the first holds it", b, err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	c, err := leader.FileLock(dir).TryLock(ctx)
	if err != nil || c == nil {
		t.Fatalf("TryLock after release = %v, %v; want held", c, err)
	}
	c.Release()
}

func openDB(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresFailover(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := [2]*postgres.DB{openDB(t, url), openDB(t, url)}
	checkFailover(t, [2]leader.Locker{leader.LockFunc(dbs[0].TryLeaderLock), leader.LockFunc(dbs[1].TryLeaderLock)}, func(i int) {
		if err := dbs[i].Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPostgresConnectionLost kills the leader's lock connection from
// outside: the leader must notice, stop its work, and leadership must be
// taken again (by either instance).
func TestPostgresConnectionLost(t *testing.T) {
	url := pgtest.NewDatabase(t)
	tr := newTracker(t)
	tr.overlap = true
	for i := range 2 {
		db := openDB(t, url)
		start(tr, i, leader.LockFunc(db.TryLeaderLock))
	}
	tr.waitFor("a leader", func() bool { return tr.leader() >= 0 })
	first := tr.leader()

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A bigint advisory key shows in pg_locks as classid (high half) and
	// objid (low half), objsubid 1.
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND classid = x'63616e64'::bigint::oid AND objid = 3
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d sessions holding the leader lock, want 1", n)
	}
	tr.waitFor(fmt.Sprintf("instance %d to lose leadership", first), func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.lost[first] > 0
	})
	tr.waitFor("a new leader", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.starts[0]+tr.starts[1] >= 2 && (tr.leading[0] || tr.leading[1])
	})
}

// TestWorkReturns: onLead returning on its own gives leadership up, and
// it is taken again later.
func TestWorkReturns(t *testing.T) {
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	el := &leader.Elector{Locker: leader.FileLock(t.TempDir()), Retry: 10 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		done <- el.Run(ctx, func(context.Context) {
			if runs.Add(1) == 3 {
				cancel()
			}
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(bound):
		t.Fatalf("onLead ran %d times in %v, want 3", runs.Load(), bound)
	}
}
