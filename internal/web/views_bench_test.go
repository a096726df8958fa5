package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// BenchmarkViewPages measures each page's server time — from the request to
// the last byte written, sign-in check and rendering included — on a
// generated organisation (at the default scale, the demo's data), as an
// executive and administrator. Three runs per page: "cold" moves the
// server's clock a minute before each request, so every request computes
// at a minute never asked (the computation's whole cost: what the warmer
// pays once a minute, or the first reader of a minute without it); then,
// with the server's warmer running as serve runs it, "now" asks with no
// as_of at the server's clock, and "as_of" repeats one as_of (its first
// request, which computes it, untimed: "cold" measures that). Besides
// ns/op each reports p99-ms, the 99th percentile of its requests, and
// cpu-ms/op. CANDOR_BENCH_SCALE sets the data volume (default 0.1):
//
//	go test -run '^$' -bench ViewPages -benchtime 30x ./internal/web/
func BenchmarkViewPages(b *testing.B) {
	scale, err := generate.BenchScale(0.1)
	if err != nil {
		b.Fatal(err)
	}
	st := generatedStore(b, scale)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	svc := newAuth(b, st, cat)
	addUser(b, svc, "bench@example.com", "executive", "admin")
	login := signIn(b, svc, "bench@example.com")
	clock := newBenchClock(demoEnd)
	s := &Server{
		Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Store: st, Auth: svc,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now,
	}
	h := s.Handler()
	if err := s.Engine.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	pages := []string{"/", "/sources", "/admin"}
	for _, v := range cat.Views {
		pages = append(pages, "/views/"+v.ID)
	}
	name := func(page string) string {
		if page == "/" {
			return "scorecard"
		}
		return strings.TrimPrefix(page, "/")
	}
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login.Secret})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	run := func(b *testing.B, path string, before func()) {
		var took []time.Duration
		cpu0 := cpuTime()
		for b.Loop() {
			if before != nil {
				before()
			}
			start := time.Now()
			rec := get(path)
			took = append(took, time.Since(start))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d\n%s", path, rec.Code, clip(rec.Body.Bytes()))
			}
		}
		cpu := cpuTime() - cpu0
		slices.Sort(took)
		p99 := took[min(len(took)-1, len(took)*99/100)]
		b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(took)), "cpu-ms/op")
	}
	for _, page := range pages {
		if page == "/admin" {
			continue // the admin page is not a computation at an instant
		}
		b.Run(name(page)+"/cold", func(b *testing.B) { run(b, page, func() { clock.skip(time.Minute) }) })
	}
	startWarmer(b, s)
	for _, page := range pages {
		b.Run(name(page)+"/now", func(b *testing.B) { run(b, page, nil) })
		if page == "/admin" {
			continue // it takes no as_of
		}
		b.Run(name(page)+"/as_of", func(b *testing.B) {
			path := page + "?as_of=2026-03-31T09:00:00Z"
			get(path)
			run(b, path, nil)
		})
	}
}
