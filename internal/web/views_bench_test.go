package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
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
// generated organisation, as an executive and administrator. Two runs per
// page: "now" asks with no as_of while the server's clock moves a second a
// request (every request computes at a new instant, as a dashboard left
// open does), "as_of" repeats one as_of (the engine's results cached).
// Besides ns/op each reports p99-ms, the 99th percentile of its requests.
// CANDOR_BENCH_SCALE sets the data volume (default 0.1):
//
//	go test -run '^$' -bench ViewPages -benchtime 50x ./internal/web/
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
	var tick atomic.Int64
	s := &Server{
		Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Store: st, Auth: svc,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return demoEnd.Add(time.Duration(tick.Add(1)) * time.Second) },
	}
	h := s.Handler()
	if err := s.Engine.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	pages := []string{"/", "/sources", "/admin"}
	for _, v := range cat.Views {
		pages = append(pages, "/views/"+v.ID)
	}
	for _, page := range pages {
		name := strings.TrimPrefix(page, "/")
		if name == "" {
			name = "scorecard"
		}
		for _, at := range []struct{ name, query string }{{"now", ""}, {"as_of", "?as_of=2026-03-31T09:00:00Z"}} {
			if page == "/admin" && at.name == "as_of" {
				continue // the admin page is not a computation at an instant: it takes no as_of
			}
			b.Run(name+"/"+at.name, func(b *testing.B) {
				req := httptest.NewRequest("GET", page+at.query, nil)
				req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login.Secret})
				var took []time.Duration
				for b.Loop() {
					rec := httptest.NewRecorder()
					start := time.Now()
					h.ServeHTTP(rec, req)
					took = append(took, time.Since(start))
					if rec.Code != http.StatusOK {
						b.Fatalf("GET %s: %d\n%s", req.URL, rec.Code, clip(rec.Body.Bytes()))
					}
				}
				slices.Sort(took)
				p99 := took[min(len(took)-1, len(took)*99/100)]
				b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
			})
		}
	}
}
