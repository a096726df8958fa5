package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// pagesBenchEnd is the end of the generated data the page benchmarks read.
var pagesBenchEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchPages serves a generated organisation at CANDOR_BENCH_SCALE
// (default 0.1) from a SQLite store, loaded, with the clock of a server
// started at the end of the data (benchClock). It returns the server, its
// handler, an executive's token and the clock.
func benchPages(b *testing.B) (*Server, http.Handler, string, *benchClock) {
	b.Helper()
	scale, err := generate.BenchScale(0.1)
	if err != nil {
		b.Fatal(err)
	}
	st := openStore(b)
	importGenerated(b, st, generate.Options{Seed: 1, Scale: scale, End: pagesBenchEnd})
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	svc := newAuth(b, st, cat)
	clock := newBenchClock(pagesBenchEnd)
	s := &Server{
		Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Store: st, Auth: svc,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now,
	}
	if err := s.Engine.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s, s.Handler(), newToken(b, svc, "bench", "executive"), clock
}

// benchClock is a server's clock in the page benchmarks: a start time plus
// the real time since, plus what skip added. Read alone it is a server's
// clock (a minute of requests shares the minute's as_of, as production
// does); skipping a minute before each request makes every request the
// first of its minute, which computes everything (the cold cost).
type benchClock struct {
	base, start time.Time
	skipped     atomic.Int64
}

func newBenchClock(base time.Time) *benchClock { return &benchClock{base: base, start: time.Now()} }

func (c *benchClock) Now() time.Time {
	return c.base.Add(time.Since(c.start) + time.Duration(c.skipped.Load()))
}

func (c *benchClock) skip(d time.Duration) { c.skipped.Add(int64(d)) }

// startWarmer runs the server's warmer, as serve does, until the benchmark
// ends, after computing the current minute as the warmer's first pass
// does (serve announces itself ready before that pass ends; a reader
// then may wait for part of it).
func startWarmer(b *testing.B, s *Server) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	if err := s.warmAt(ctx, s.defaultAsOf()); err != nil {
		b.Fatal(err)
	}
	go s.Warm(ctx)
}

// cold is a path function that moves the clock a minute before each
// request: every request computes at a minute never asked before.
func cold(clock *benchClock, path func(int) string) func(int) string {
	return func(i int) string {
		clock.skip(time.Minute)
		return path(i)
	}
}

// benchGet times GET path (path(i) for the i-th request) through the
// whole handler — authentication, the policy, the page — and reports,
// beside ns/op, the 50th and 99th percentiles of the requests' times and
// the process's CPU time per request (every core's, the collector's
// included): on a machine shared with other work the clock times vary
// from run to run, the CPU time much less.
func benchGet(b *testing.B, h http.Handler, token string, path func(i int) string) {
	b.Helper()
	var lat []time.Duration
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		p := path(i)
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(w, req)
		lat = append(lat, time.Since(t0))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d\n%s", p, w.Code, clip(w.Body.Bytes()))
		}
	}
	cpu := cpuTime() - cpu0
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[min(len(lat)-1, len(lat)*p/100)].Microseconds()) / 1000 }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fixedPath(p string) func(int) string { return func(int) string { return p } }

// The page benchmarks: the scorecard, a metric page (its default
// breakdown and first page of records), one sorted by a row field (every
// record of the window described), and a record page. Each page runs
// "cold" first (every request the first of a new minute, no warmer: the
// computation's whole cost, which the first reader of a minute pays when
// the warmer has not computed it), then, with the server's warmer running
// as serve runs it, as readers ask it: at the server's clock (the current
// minute), or paging at a pinned as_of. CANDOR_BENCH_SCALE sets the volume:
//
//	go test -run '^$' -bench '^BenchmarkPages$' -benchtime 30x ./internal/web/
func BenchmarkPages(b *testing.B) {
	s, h, token, clock := benchPages(b)
	pages := []struct{ name, path string }{
		{"Home", "/"},
		{"HomeFiltered", "/?window=30d&environment=production"},
		{"Metric", "/metrics/change_failure_rate"},
		{"MetricSorted", "/metrics/lead_time_for_changes?window=90d&sort=-service&offset=100"},
	}
	for _, p := range pages {
		b.Run(p.name+"/cold", func(b *testing.B) { benchGet(b, h, token, cold(clock, fixedPath(p.path))) })
	}
	startWarmer(b, s)
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) { benchGet(b, h, token, fixedPath(p.path)) })
	}
	// Paging on through that table: its links hold the as_of, so the
	// drill-down comes from the result cache and the sorted order is kept.
	// The reader opened its first page (above) at the current minute,
	// which the links pin; that page is asked once more, untimed, in case
	// the minute has turned since.
	b.Run("MetricSortedPaging", func(b *testing.B) {
		page := "/metrics/lead_time_for_changes?window=90d&sort=-service&as_of=" + s.defaultAsOf().Format(time.RFC3339) + "&offset="
		req := httptest.NewRequest("GET", page+"0", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(httptest.NewRecorder(), req)
		benchGet(b, h, token, func(i int) string { return page + strconv.Itoa(25*(i%40)) })
	})
	// A record behind a value, as the metric page links it.
	req := httptest.NewRequest("GET", "/api/v1/metrics/change_failure_rate?limit=1&as_of="+pagesBenchEnd.Format(time.RFC3339), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var d scorecard.MetricDetail
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || len(d.Records) == 0 {
		b.Fatalf("no record behind change failure rate: %v\n%s", err, clip(w.Body.Bytes()))
	}
	r := d.Records[0]
	b.Run("Record", func(b *testing.B) {
		benchGet(b, h, token, fixedPath(recordHref(domain.Key{Kind: r.Kind, Source: r.Source, ID: r.ID})))
	})
}
