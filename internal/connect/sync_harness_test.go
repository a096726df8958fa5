package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// fakeAPI is a tool's REST API on loopback, serving the recorded answers
// of testdata/sync (testdata/README.md says how each was derived) the way
// the real API pages and filters them, and recording every request.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server
	// auth is the credential header every request must carry (name,
	// value).
	auth [2]string

	mu       sync.Mutex
	requests []string
	// faults are answered, in order, to the requests whose path has their
	// prefix, before the recorded answers.
	faults []fault
	// headers are added to every answer.
	headers map[string]string
}

// fault is an answer the API gives instead of the recorded one.
type fault struct {
	path   string
	status int
	header map[string]string
	body   string
}

func newFakeAPI(t *testing.T, auth [2]string, routes func(a *fakeAPI, w http.ResponseWriter, r *http.Request)) *fakeAPI {
	a := &fakeAPI{t: t, auth: auth}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		var f *fault
		for i := range a.faults {
			if strings.HasPrefix(r.URL.EscapedPath(), a.faults[i].path) {
				ff := a.faults[i]
				f = &ff
				a.faults = slices.Delete(a.faults, i, i+1)
				break
			}
		}
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		a.mu.Unlock()
		if got := r.Header.Get(a.auth[0]); got != a.auth[1] {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"message": "Bad credentials: %s is %q"}`, a.auth[0], got)
			return
		}
		if f != nil {
			for k, v := range f.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(f.status)
			fmt.Fprint(w, f.body)
			return
		}
		routes(a, w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// client reaches this API and nothing else: a test that dials any other
// address (the internet) fails.
func (a *fakeAPI) client() *http.Client {
	addr := a.srv.Listener.Addr().String()
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, target string) (net.Conn, error) {
			if target != addr {
				a.t.Errorf("the collector dialled %s, not the test's API at %s", target, addr)
				return nil, fmt.Errorf("no network in tests: %s", target)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		},
	}}
}

func (a *fakeAPI) fault(f fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = append(a.faults, f)
}

// took returns, and forgets, the requests so far whose path has prefix.
func (a *fakeAPI) took(prefix string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out, rest []string
	for _, r := range a.requests {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		} else {
			rest = append(rest, r)
		}
	}
	a.requests = rest
	return out
}

// items reads a recorded JSON array, or several concatenated.
func items(t *testing.T, names ...string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, n := range names {
		var list []json.RawMessage
		if err := json.Unmarshal(fixture(t, n), &list); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, list...)
	}
	return out
}

// field reads a top-level time or string field of an object.
func field(t *testing.T, raw json.RawMessage, path ...string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range path[:len(path)-1] {
		m, _ = m[p].(map[string]any)
	}
	s, _ := m[path[len(path)-1]].(string)
	return s
}

// pageOf is the page of list that per_page and page (1-based) ask for,
// and whether another follows.
func pageOf(r *http.Request, list []json.RawMessage) ([]json.RawMessage, int, bool) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p <= 0 {
		p = 1
	}
	from := min(len(list), (p-1)*per)
	to := min(len(list), from+per)
	// An empty page is [], as the APIs answer it, never null.
	return append([]json.RawMessage{}, list[from:to]...), p, to < len(list)
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if b, ok := v.([]byte); ok {
		w.Write(b)
		return
	}
	json.NewEncoder(w).Encode(v)
}

// syncEnv is a service whose collectors read fake APIs, with the waits it
// asked for recorded instead of slept.
type syncEnv struct {
	*env
	cfg   Config
	api   *fakeAPI
	mu    sync.Mutex
	waits []time.Duration
}

func newSyncEnv(t *testing.T, cfg Config, api *fakeAPI) *syncEnv {
	t.Helper()
	se := &syncEnv{env: newEnv(t, cfg), cfg: cfg, api: api}
	se.use(se.env.st)
	return se
}

// use rebuilds the service over st (a store that fails on cue, or the
// env's own).
func (se *syncEnv) use(st store.Store) {
	se.t.Helper()
	svc, err := New(Options{Store: st, Config: se.cfg, Tokens: se.auth, Now: func() time.Time { return se.now }, HTTPClient: se.api.client(),
		Sleep: func(ctx context.Context, d time.Duration) error {
			se.mu.Lock()
			defer se.mu.Unlock()
			se.waits = append(se.waits, d)
			return ctx.Err()
		}})
	if err != nil {
		se.t.Fatal(err)
	}
	se.svc, se.h = svc, svc.Handler(writeTestError)
}

func (se *syncEnv) sync(source string, opt SyncOptions) *SyncSummary {
	se.t.Helper()
	sum, err := se.svc.Sync(context.Background(), source, opt)
	if err != nil {
		se.t.Fatalf("sync %s: %v", source, err)
	}
	return sum
}

// crash runs source over a store that fails the nth commit of records,
// and wants the run to fail.
func (se *syncEnv) crash(source string, nth int) {
	se.t.Helper()
	se.use(&failingStore{Store: se.st, at: nth})
	if _, err := se.svc.Sync(context.Background(), source, SyncOptions{}); err == nil || !strings.Contains(err.Error(), "the disk is full") {
		se.t.Fatalf("a run whose store fails on commit %d: %v", nth, err)
	}
}

// resume runs source again over the env's own store, with the requests so
// far forgotten.
func (se *syncEnv) resume(source string) *SyncSummary {
	se.t.Helper()
	se.api.took("")
	se.use(se.st)
	return se.sync(source, SyncOptions{})
}

func (se *syncEnv) tookWaits() []time.Duration {
	se.mu.Lock()
	defer se.mu.Unlock()
	w := se.waits
	se.waits = nil
	return w
}

// cursorOf is a stream's saved cursor.
func (se *syncEnv) cursorOf(source, stream string) cursor {
	se.t.Helper()
	cs, err := se.st.SyncCursors(context.Background(), source)
	if err != nil {
		se.t.Fatal(err)
	}
	for _, c := range cs {
		if c.Stream == stream {
			var cur cursor
			if err := json.Unmarshal([]byte(c.Cursor), &cur); err != nil {
				se.t.Fatal(err)
			}
			return cur
		}
	}
	se.t.Fatalf("no cursor for %s %s in %+v", source, stream, cs)
	return cursor{}
}

// runs are the logged sync runs of a source, newest first.
func (se *syncEnv) runs(source string) []store.SyncRun {
	se.t.Helper()
	rs, err := se.st.SyncRuns(context.Background(), store.SyncRunFilter{Source: source})
	if err != nil {
		se.t.Fatal(err)
	}
	return rs
}

// failingStore fails the commit of the nth batch that writes records (a
// crash mid-run, as far as the store can tell).
type failingStore struct {
	store.Store
	mu     sync.Mutex
	n, at  int
	failed bool
}

func (f *failingStore) Begin(ctx context.Context) (store.Batch, error) {
	b, err := f.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &failingBatch{Batch: b, f: f}, nil
}

type failingBatch struct {
	store.Batch
	f     *failingStore
	wrote bool
}

func (b *failingBatch) Add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	b.wrote = b.wrote || len(items) > 0
	return b.Batch.Add(ctx, items)
}

func (b *failingBatch) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	return store.AddInTurn(ctx, b, lists)
}

func (b *failingBatch) Commit() error {
	if b.wrote {
		b.f.mu.Lock()
		b.f.n++
		fail := b.f.n == b.f.at
		b.f.failed = b.f.failed || fail
		b.f.mu.Unlock()
		if fail {
			b.Batch.Rollback()
			return fmt.Errorf("the disk is full (test)")
		}
	}
	return b.Batch.Commit()
}

// query is a request's query, parsed.
func query(t *testing.T, req string) url.Values {
	t.Helper()
	_, q, _ := strings.Cut(req, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
