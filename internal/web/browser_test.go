package web

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// demoEnd is the end of the generated organisation the browser sees; the
// server's clock stands there, so the data is fresh.
var demoEnd = time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)

// demoServer serves a generated organisation (scale 0.01: a year of a
// dozen services) with one user per given e-mail and roles.
func demoServer(t *testing.T, users map[string][]string) string {
	t.Helper()
	_, url := newDemoServer(t, users)
	return url
}

// newDemoServer is demoServer, with the server (for its auth service).
func newDemoServer(t *testing.T, users map[string][]string) (*Server, string) {
	t.Helper()
	st := openStore(t)
	importGenerated(t, st, generate.Options{Seed: 1, Scale: 0.01, End: demoEnd, Days: 365})
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	svc := newAuth(t, st, cat)
	for email, roles := range users {
		addUser(t, svc, email, roles...)
	}
	s := &Server{
		Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Store: st, Auth: svc, Version: "v0.0.0-test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return demoEnd },
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// generatedStore is a store holding a generated organisation at the scale
// (a year ending at demoEnd), imported as `candor import` would.
func generatedStore(t testing.TB, scale float64) store.Store {
	t.Helper()
	st := openStore(t)
	importGenerated(t, st, generate.Options{Seed: 1, Scale: scale, End: demoEnd, Days: 365})
	return st
}

// A reader signs in through the form, lands on the scorecard they asked
// for, sees it at laptop and phone width without a CSP violation, prints
// it on one page, and signs out.
func TestBrowserSignInAndScorecard(t *testing.T) {
	ctx := browsertest.New(t)
	base := demoServer(t, map[string][]string{"ann@example.com": {"executive"}})

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/?window=30d")); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, base+"/login?next=") {
		t.Fatalf("an anonymous reader is at %s, want the sign-in page", loc)
	}
	browsertest.Screenshot(ctx, t, "login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".pillars")),
	); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/?window=30d" {
		t.Errorf("after sign-in at %s, want the page asked for", loc)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Scorecard", "ann@example.com", "Executive", "Platform Reliability", "Growth & Revenue", "Sign out", "v0.0.0-test"} {
		if !strings.Contains(text, want) {
			t.Errorf("the scorecard page lacks %q", want)
		}
	}
	// Every pillar says its status in words, beside its colour.
	words, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".pillar__head .status__word")].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(words) != 6 {
		t.Errorf("%d pillar statuses, want 6: %q", len(words), words)
	}
	for _, w := range words {
		if w != "Green" && w != "Amber" && w != "Red" && w != "Unknown" {
			t.Errorf("pillar status word %q", w)
		}
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the page reported errors (a CSP violation would show here):\n%s", strings.Join(errs, "\n"))
	}
	browsertest.Screenshot(ctx, t, "laptop")

	browsertest.SetViewport(ctx, t, browsertest.Phone)
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the scorecard scrolls sideways on a phone")
	}
	browsertest.Screenshot(ctx, t, "phone")
	browsertest.SetViewport(ctx, t, browsertest.Laptop)

	printsOnOnePage(ctx, t, "print.pdf")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".account__signout button")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	); err != nil {
		t.Fatal(err)
	}
	// Signed out, the scorecard is behind the sign-in page again.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, base+"/login") {
		t.Errorf("after signing out / leads to %s, want the sign-in page", loc)
	}
}

// printsOnOnePage prints the page, keeps the PDF as the artefact name, and
// checks it is one sheet.
func printsOnOnePage(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	pdf, err := browsertest.PrintPDF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.SaveArtifact(t, name, pdf)
	if n := browsertest.PageCount(pdf); n != 1 {
		t.Errorf("the page prints on %d pages, want 1", n)
	}
}
