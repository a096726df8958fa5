package connect

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/store"
)

// githubHealth reads the github connector's health out of a health
// report: githubHealth(t)(svc.Health(…)).
func githubHealth(t *testing.T) func(hs []health.Connector, err error) health.Connector {
	return func(hs []health.Connector, err error) health.Connector {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if h.Source == "github" {
				return h
			}
		}
		t.Fatalf("no github health in %+v", hs)
		return health.Connector{}
	}
}

// The review's flood: 300 deliveries with a bad signature are all
// refused, 60 are logged (refusalRate) and the rest counted, so the
// report's rejected count is 300, not 60, and says 240 were not logged —
// at once from the instance that refused them, from the store (another
// instance, `candor sources`) once they are flushed, never twice.
func TestRefusalsNotLoggedAreCounted(t *testing.T) {
	ctx := context.Background()
	e := ghEnv(t, GitHub{})
	body := fixture(t, "github/ping.payload.json")
	flood := func(e *env, n int) {
		t.Helper()
		for range n {
			e.post("github", body, "X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256=00").want(t, http.StatusUnauthorized, store.DeliveryRejected)
		}
	}
	flood(e, 300)
	if n := len(e.deliveries("github")); n != refusalRate.Attempts {
		t.Fatalf("%d refusals logged, want %d (the rate limit stays)", n, refusalRate.Attempts)
	}
	want := func(h health.Connector, rejected, notLogged int64, who string) {
		t.Helper()
		if h.Counts[store.DeliveryRejected] != rejected || h.NotLogged != notLogged {
			t.Errorf("%s: rejected %d, not logged %d; want %d and %d", who, h.Counts[store.DeliveryRejected], h.NotLogged, rejected, notLogged)
		}
	}
	want(githubHealth(t)(e.svc.Health(ctx, e.now, 0)), 300, 240, "the instance that refused them")
	want(githubHealth(t)(Health(ctx, e.st, e.svc.cfg, e.now, 0)), 60, 0, "the store before the flush")
	if err := e.svc.FlushNotLogged(ctx); err != nil {
		t.Fatal(err)
	}
	want(githubHealth(t)(e.svc.Health(ctx, e.now, 0)), 300, 240, "the instance after its flush")
	want(githubHealth(t)(Health(ctx, e.st, e.svc.cfg, e.now, 0)), 300, 240, "the store after the flush")

	// Another instance on the same store limits its own refusals: it logs
	// 60 of its 100 and counts 40, which only it sees until it flushes.
	other, err := New(Options{Store: e.st, Config: e.svc.cfg, Tokens: e.auth, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e2 := *e
	e2.svc, e2.h = other, other.Handler(writeTestError)
	flood(&e2, 100)
	want(githubHealth(t)(other.Health(ctx, e.now, 0)), 400, 280, "the second instance")
	want(githubHealth(t)(e.svc.Health(ctx, e.now, 0)), 360, 240, "the first instance before the second's flush")
	if err := other.FlushNotLogged(ctx); err != nil {
		t.Fatal(err)
	}
	want(githubHealth(t)(e.svc.Health(ctx, e.now, 0)), 400, 280, "the first instance after the second's flush")

	// The counts cover the period: a week later none of them.
	want(githubHealth(t)(e.svc.Health(ctx, e.now.Add(8*24*time.Hour), 0)), 0, 0, "eight days later")
}

// notLoggedStore fails AddNotLogged while failing is set.
type notLoggedStore struct {
	store.DeliveryStore
	failing bool
	added   []store.NotLogged
}

func (s *notLoggedStore) AddNotLogged(_ context.Context, counts []store.NotLogged) error {
	if s.failing {
		return errors.New("store unreachable")
	}
	s.added = append(s.added, counts...)
	return nil
}

// A flush that fails keeps the counts for the next one.
func TestNotLoggedKeptWhenTheFlushFails(t *testing.T) {
	var n notLogged
	at := testNow.Add(30 * time.Second)
	n.add("github", at)
	n.add("github", at.Add(time.Second))
	st := &notLoggedStore{failing: true}
	if err := n.flush(context.Background(), st); err == nil {
		t.Fatal("a failed flush: no error")
	}
	if c := n.count("github", testNow, at); c != 2 {
		t.Fatalf("after a failed flush %d counted, want 2", c)
	}
	st.failing = false
	if err := n.flush(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(st.added) != 1 || st.added[0] != (store.NotLogged{Source: "github", Minute: testNow, Count: 2}) {
		t.Fatalf("added %+v, want 2 refusals of github in the minute of %v", st.added, testNow)
	}
	if c := n.count("github", time.Time{}, at); c != 0 {
		t.Fatalf("after the flush %d still pending", c)
	}
}

// RunNotLogged adds the counts to the store's on its own.
func TestRunNotLoggedFlushes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := ghEnv(t, GitHub{})
	body := fixture(t, "github/ping.payload.json")
	for range refusalRate.Attempts + 3 {
		e.post("github", body, "X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256=00")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.RunNotLogged(ctx, 5*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		h := githubHealth(t)(Health(ctx, e.st, e.svc.cfg, e.now, 0))
		if h.NotLogged == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store counts %d not logged 10 s on, want 3", h.NotLogged)
		}
	}
}

// busyStore's AddNotLogged waits for its context, as SQLite's does for a
// writer an import holds; started says a flush is waiting.
type busyStore struct {
	store.Store
	started chan struct{}
}

func (s *busyStore) AddNotLogged(ctx context.Context, _ []store.NotLogged) error {
	select {
	case s.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// A periodic flush waits for a busy store only so long (a report waits for
// a flush under way): the report is answered, with the counts kept.
func TestNotLoggedFlushWaitsBounded(t *testing.T) {
	e := ghEnv(t, GitHub{})
	busy := &busyStore{Store: e.st, started: make(chan struct{}, 1)}
	svc, err := New(Options{Store: busy, Config: e.svc.cfg, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, e.h = svc, svc.Handler(writeTestError)
	body := fixture(t, "github/ping.payload.json")
	for range refusalRate.Attempts + 4 {
		e.post("github", body, "X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256=00")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunNotLogged(ctx, 5*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	<-busy.started
	type report struct {
		hs  []health.Connector
		err error
	}
	got := make(chan report, 1)
	go func() {
		hs, err := svc.Health(context.Background(), e.now, 0)
		got <- report{hs, err}
	}()
	select {
	case r := <-got:
		if h := githubHealth(t)(r.hs, r.err); h.NotLogged != 4 {
			t.Errorf("not logged %d while the store is busy, want the 4 kept", h.NotLogged)
		}
	case <-time.After(5 * notLoggedWait):
		t.Fatalf("the report waited over %v for a flush to a busy store", 5*notLoggedWait)
	}
}
