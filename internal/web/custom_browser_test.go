package web

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// An organisation's own metric is shown like a built-in: on the role view that lists it, with
// its value, status word and trend, and on its own page with its breakdown and records — at
// laptop and phone width.
func TestBrowserCustomMetricInView(t *testing.T) {
	ctx := browsertest.New(t)
	st := openStore(t)
	importGenerated(t, st, generate.Options{Seed: 1, Scale: 0.01, End: demoEnd, Days: 365})
	m, err := metrics.CompileCustom(metrics.CustomDef{ID: "innovation_capacity", Kind: domain.KindDeployment, Time: "finished_at",
		Aggregate: metrics.AggregateShare, Matching: "!rework"})
	if err != nil {
		t.Fatal(err)
	}
	mc := metrics.DefaultConfig()
	if err := mc.SetCustom([]*metrics.CustomMetric{m}); err != nil {
		t.Fatal(err)
	}
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := base.AddMetrics([]catalog.Metric{{
		ID: "innovation_capacity", Name: "Innovation capacity", Pillar: "delivery", Unit: "%", Better: catalog.Higher,
		Description: "Share of the production deployments finishing in the window that ship new work rather than repair.",
		Formula:     "share of deployment records with finished_at in the window; the share matching !rework",
		Type:        catalog.Lagging, Owner: "VP Engineering", Window: 30 * 24 * time.Hour, Priority: "P1",
		Thresholds: &catalog.Thresholds{Green: 90, Amber: 80}, MinSample: 5, Version: 1, Effective: "1970-01-01",
		Signoff: catalog.SignoffAssumed, Sources: []catalog.Source{{Kind: "deployment", Freshness: catalog.EventFreshness}},
		Breakdowns: metrics.CustomDims(domain.KindDeployment),
	}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	cat.ShowIn("engineering", "innovation_capacity")
	svc := newAuth(t, st, cat)
	addUser(t, svc, "eve@example.com", "executive")
	s := &Server{
		Engine: engine.New(st, mc), Catalog: cat, Store: st, Auth: svc, Version: "v0.0.0-test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return demoEnd },
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/views/engineering"),
		chromedp.SendKeys(chromedp.CSS("#email"), "eve@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		// The view's own element: the sign-in page has a main too, and
		// reading it while the browser leaves it fails.
		chromedp.WaitVisible(chromedp.CSS(".rv-metrics")),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Innovation capacity") || !strings.Contains(text, "VP Engineering") {
		t.Errorf("the engineering view does not show the custom metric:\n%s", clipText(text))
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
	browsertest.Screenshot(ctx, t, "view-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browsertest.Screenshot(ctx, t, "view-phone")
	browsertest.SetViewport(ctx, t, browsertest.Laptop)

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/metrics/innovation_capacity?by=team"), chromedp.WaitVisible(chromedp.CSS(".value-card"))); err != nil {
		t.Fatal(err)
	}
	text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Innovation capacity", "!rework", "payments", "version 1, in effect for all data"} {
		if !strings.Contains(text, want) {
			t.Errorf("the metric page lacks %q:\n%s", want, clipText(text))
		}
	}
	browsertest.Screenshot(ctx, t, "metric-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browsertest.Screenshot(ctx, t, "metric-phone")
}

func clipText(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
