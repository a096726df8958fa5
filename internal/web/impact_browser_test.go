package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// impactServer serves generated data with the planted effects (releases
// with customer impact), with ceo@example.com an executive.
func impactServer(t *testing.T) *httptest.Server {
	t.Helper()
	st := generatedStore(t, 0.05)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	svc := newAuth(t, st, cat)
	addUser(t, svc, "ceo@example.com", "executive")
	s := &Server{Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Store: st, Auth: svc, Version: "v0.0.0-test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return demoEnd }}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestBrowserImpactPages: the insights page, the release list and a
// release's customer impact panel on generated data with the planted
// effects, readable on a laptop and a phone.
func TestBrowserImpactPages(t *testing.T) {
	ctx := browsertest.New(t)
	ts := impactServer(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/insights"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "ceo@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#sec-insights"))); err != nil {
		t.Fatal(err)
	}
	words, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(words, "Deploy time risk") || !strings.Contains(words, "Suggested:") {
		t.Errorf("insights page: %s", words)
	}
	shoot := func(name string) {
		browsertest.SetViewport(ctx, t, browsertest.Laptop)
		browsertest.Screenshot(ctx, t, name+"-laptop")
		browsertest.SetViewport(ctx, t, browsertest.Phone)
		browsertest.Screenshot(ctx, t, name+"-phone")
	}
	shoot("insights")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/releases?service=recommendations"), chromedp.WaitVisible(chromedp.CSS("#sec-releases"))); err != nil {
		t.Fatal(err)
	}
	shoot("releases")
	// The list states the spike rule whole where it shows the flags, and
	// shows 25 releases; Next leads to the rest.
	rule, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#spike-rule")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rule, "a chance under 0.01 of that many or more") || !strings.Contains(rule, "p-value) — and at least 3 tickets") {
		t.Errorf("the release list's rule: %q", rule)
	}
	pages, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".pager .muted")))
	if err != nil || !strings.HasPrefix(pages, "1–25 of ") {
		t.Fatalf("the release list's first page: %q, %v", pages, err)
	}
	total := strings.TrimPrefix(pages, "1–25 of ")
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`.pager a[href*="offset=25"]`)))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("the next page: %v, %v", resp, err)
	}
	if pages, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".pager .muted"))); err != nil || pages != "26–"+total+" of "+total {
		t.Errorf("the release list's second page: %q, %v", pages, err)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".rel-table tbody th a").getAttribute("href")`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+href), chromedp.WaitVisible(chromedp.CSS("#impact-h"))); err != nil {
		t.Fatal(err)
	}
	shoot("release")
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
