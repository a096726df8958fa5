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
// (default 0.1) from a SQLite store, loaded, with a clock that moves a
// second at every reading: each page "as of now" is a new as_of, so the
// result cache answers only what a dashboard would find there (the
// weeks before). It returns the handler and an executive's token.
func benchPages(b *testing.B) (http.Handler, string) {
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
	var tick atomic.Int64
	s := &Server{
		Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Store: st, Auth: svc,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return pagesBenchEnd.Add(time.Duration(tick.Add(1)) * time.Second) },
	}
	if err := s.Engine.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s.Handler(), newToken(b, svc, "bench", "executive")
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
		req := httptest.NewRequest("GET", path(i), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(w, req)
		lat = append(lat, time.Since(t0))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d\n%s", path(i), w.Code, clip(w.Body.Bytes()))
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
// record of the window described), and a record page. CANDOR_BENCH_SCALE
// sets the volume:
//
//	go test -run '^$' -bench Page -benchtime 50x ./internal/web/
func BenchmarkPages(b *testing.B) {
	h, token := benchPages(b)
	b.Run("Home", func(b *testing.B) { benchGet(b, h, token, fixedPath("/")) })
	b.Run("HomeFiltered", func(b *testing.B) { benchGet(b, h, token, fixedPath("/?window=30d&environment=production")) })
	b.Run("Metric", func(b *testing.B) { benchGet(b, h, token, fixedPath("/metrics/change_failure_rate")) })
	b.Run("MetricSorted", func(b *testing.B) {
		benchGet(b, h, token, fixedPath("/metrics/lead_time_for_changes?window=90d&sort=-service&offset=100"))
	})
	// Paging on through that table: its links hold the as_of, so the
	// drill-down comes from the result cache and only the table is redone.
	b.Run("MetricSortedPaging", func(b *testing.B) {
		benchGet(b, h, token, func(i int) string {
			return "/metrics/lead_time_for_changes?window=90d&sort=-service&as_of=" + pagesBenchEnd.Format(time.RFC3339) + "&offset=" + strconv.Itoa(25*(i%40))
		})
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
