package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/catalog"
)

// Issue 20 in a browser: annotations are shaded and named on a metric page's and a role view's
// trends; a link made from a metric page at a scope and breakdown opens, signed out, with the
// same scope and lines; the share links page lists it and its button revokes it, after which
// it opens for no one.
func TestBrowserAnnotationsAndShareLinks(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"eng@example.com": {"engineering"}})
	s.Annotations = []catalog.Annotation{{Name: "Q1 close", Kind: "quarter_end", From: "2026-03-25", To: "2026-03-31"}}
	if _, err := annotation.Add(context.Background(), s.Store, catalog.Annotation{Name: "Spring change freeze", Kind: "freeze", From: "2026-02-16", To: "2026-02-27"},
		"user:eng@example.com", demoEnd, nil); err != nil {
		t.Fatal(err)
	}

	page := "/metrics/change_failure_rate?window=30d&scope=tier:1&by=service"
	browserSignIn(t, ctx, base, page, "eng@example.com", ".trend-panel .annotations")
	legend, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".trend-panel .annotations")))
	if err != nil || !strings.Contains(legend, "Spring change freeze") || !strings.Contains(legend, "Q1 close") || !strings.Contains(legend, "quarter end") {
		t.Errorf("the trend's legend reads %q (%v)", legend, err)
	}
	shoot(t, ctx, "metric-annotations")

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/views/engineering"), chromedp.WaitVisible(chromedp.CSS(".rv-annotations"))); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "view-annotations")

	// The share form carries the page's scope and breakdown.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+page),
		chromedp.WaitVisible(chromedp.CSS(".share-form__form button[type=submit]")),
		chromedp.Click(chromedp.CSS(".share-form__form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".shared__code"))); err != nil {
		t.Fatal(err)
	}
	link, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".shared__code")))
	if err != nil || !strings.Contains(link, "/share/") {
		t.Fatalf("the link shown is %q (%v)", link, err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/shares"), chromedp.WaitVisible(chromedp.CSS(".shares-table"))); err != nil {
		t.Fatal(err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".shares-table tbody tr")))
	if err != nil || !strings.Contains(row, "Change failure rate") || !strings.Contains(row, "scope tier:1") || !strings.Contains(row, "by service") || !strings.Contains(row, "Active") {
		t.Errorf("the link's row reads %q (%v)", row, err)
	}
	shoot(t, ctx, "shares")

	// Signed out, the link opens with the scope and the breakdown.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("form.account__signout").submit()`),
		chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(".share__breakdown"))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(text, "tier 1") || !strings.Contains(text, "By service") || strings.Contains(text, "Sign out") {
		t.Errorf("the shared card:\n%s (%v)", text, err)
	}
	shoot(t, ctx, "share-breakdown")

	// Revoked from the page's button, it opens for no one.
	browserSignIn(t, ctx, base, "/shares", "eng@example.com", ".shares-table")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".shares-table button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".alert--ok"))); err != nil {
		t.Fatal(err)
	}
	if done, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".alert--ok"))); !strings.Contains(done, "Revoked the link to the card of Change failure rate") {
		t.Errorf("after revoking the page says %q", done)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); !strings.Contains(text, "does not exist, has expired or was revoked") {
		t.Errorf("the revoked link:\n%s", text)
	}
}

// Issue 20's custom views in a browser: a view defined in configuration opens for a role it
// names, at laptop and phone width, with its metrics in its order; a role it does not name gets
// the 403 page.
func TestBrowserCustomView(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnvWith(t, 0, withConfigViews(t))
	addUser(t, e.srv.Auth, "cfo@example.com", "ceo")
	addUser(t, e.srv.Auth, "desk@example.com", "support")

	browserSignIn(t, ctx, e.url, "/views/cfo?as_of="+asOf, "cfo@example.com", ".rv-metrics")
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".rv-metric .sheet__title")].map(e => e.textContent.trim())`))
	if err != nil || strings.Join(names, ",") != "Budget variance,Change failure rate,Annual recurring revenue" {
		t.Errorf("the CFO view shows %q (%v)", names, err)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(title, "CFO") {
		t.Errorf("the view's title is %q", title)
	}
	shoot(t, ctx, "custom-view")

	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("form.account__signout").submit()`),
		chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, e.url, "/views/cfo?as_of="+asOf, "desk@example.com", ".error-page")
	if status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".error-page__status"))); !strings.EqualFold(status, "Error 403") {
		t.Errorf("support opening the CFO view sees %q, want the 403 page", status)
	}
}
