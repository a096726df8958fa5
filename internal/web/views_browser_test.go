package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
)

// browserSignIn signs in through the form and waits for the page asked for.
func browserSignIn(t *testing.T, ctx context.Context, base, path, email, ready string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+path),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		// Off the sign-in page first: it has a main too, and a test that
		// navigated while the sign-in's redirect was under way had its own
		// navigation aborted (net::ERR_ABORTED).
		chromedp.WaitNotPresent(chromedp.CSS("#email")),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	); err != nil {
		t.Fatal(err)
	}
}

// shoot checks the page has no console error, no text cut off at laptop or
// phone width and no sideways scroll on a phone, and saves it at both widths.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("%s reported errors (a CSP violation would show here):\n%s", name, strings.Join(errs, "\n"))
	}
	uncut(t, ctx, name+" at laptop width")
	browsertest.Screenshot(ctx, t, name+"-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	uncut(t, ctx, name+" on a phone")
	// Against the phone's width: a mobile browser widens its layout
	// viewport to a page too wide, so innerWidth would grow with it.
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > browsertest.Phone.Width {
		// Name the elements whose content sticks out (text that does not
		// wrap is no element of its own), to fix them.
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")]
			.filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX == "visible")
			.slice(-5).map(e => e.tagName + "." + e.className + ": " + e.textContent.trim().slice(0, 40))`))
		t.Errorf("%s scrolls sideways on a phone (%d px wide): %q", name, width, wide)
	}
	browsertest.Screenshot(ctx, t, name+"-phone")
	browsertest.SetViewport(ctx, t, browsertest.Laptop)
}

// uncut checks no text of the page's main is cut off: no element hides what
// overflows it (an ellipsis, or overflow: hidden) while its content is wider
// — the CEO view had ended long metric names "Time to patch critical
// vulnerabilities (medi…". Scrolling boxes (a wide table's) are not cut, nor
// is text kept for screen readers in a 1-pixel box (visually-hidden, a
// stacked table's head).
func uncut(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")]
		.filter(e => !(e instanceof SVGElement) && e.clientWidth > 1 && e.clientHeight > 1 &&
			["hidden", "clip"].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1)
		.map(e => e.tagName + "." + e.className + ": " + e.textContent.trim().slice(0, 60))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) > 0 {
		t.Errorf("%s cuts off text:\n%s", what, strings.Join(cut, "\n"))
	}
	// Nor does a flex item's text run past its box onto its neighbour's: a
	// scorecard card's "vs the 30 days before" had run under its sparkline's
	// "weekly" (a line that may not wrap, in an item allowed to shrink).
	spilt, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")]
		.filter(e => !(e instanceof SVGElement) && e.parentElement && e.clientWidth > 1 &&
			getComputedStyle(e.parentElement).display.endsWith("flex") &&
			getComputedStyle(e).overflowX == "visible" && e.scrollWidth > e.clientWidth + 1)
		.map(e => e.tagName + "." + e.className + ": " + e.textContent.trim().slice(0, 60))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(spilt) > 0 {
		t.Errorf("%s has text running out of its box:\n%s", what, strings.Join(spilt, "\n"))
	}
}

// switcherFits checks, on a phone, that every role view's tab lies within
// the screen and the tabs do not scroll sideways: at 390 px they had been one
// row scrolled sideways in its own box, "VP Marketing" cut at the edge and
// the views after it out of sight — which shoot's check of the page's width
// does not see, the page itself not scrolling.
func switcherFits(t *testing.T, ctx context.Context) {
	t.Helper()
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	defer browsertest.SetViewport(ctx, t, browsertest.Laptop)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const out = [], box = document.querySelector(".rv-switcher"), links = [...document.querySelectorAll(".rv-switcher__link")];
		if (!box || links.length < 5) return ["no switcher with the views: " + links.length + " tabs"];
		for (const e of [box, box.querySelector("ul")]) if (e.scrollWidth > e.clientWidth + 1) out.push(e.className + " scrolls sideways: " + e.scrollWidth + " px in " + e.clientWidth);
		for (const a of links) {
			const r = a.getBoundingClientRect();
			if (r.left < -0.5 || r.right > document.documentElement.clientWidth + 0.5) out.push(a.textContent.trim() + " lies outside the screen (" + Math.round(r.left) + " to " + Math.round(r.right) + " px)");
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		t.Errorf("the role views' tabs on a phone: %s", o)
	}
}

func TestBrowserRoleViews(t *testing.T) {
	ctx := browsertest.New(t)
	base := demoServer(t, map[string][]string{"eve@example.com": {"executive", "admin"}})
	browserSignIn(t, ctx, base, "/views/ceo", "eve@example.com", ".rv-metrics")
	switcherFits(t, ctx)
	shoot(t, ctx, "ceo")
	// A panel's trend says what it compares with, as the scorecard's cards.
	if span, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".rv-metric .trend__span"))); err != nil || !regexp.MustCompile(`^vs the \d+ days before$`).MatchString(strings.TrimSpace(span)) {
		t.Errorf("a role view panel's trend compares with %q (%v)", span, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.rv-switcher a[href^="/views/cro"]`)),
		chromedp.WaitVisible(chromedp.CSS("#sec-pipeline")),
	); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "cro")
	// Each view is ready when its metrics are; VP CS's MRR bridge and
	// Engineering's stages must be drawn too.
	for _, v := range []struct{ id, ready string }{{"vp_sales", ".rv-metrics"}, {"vp_marketing", ".rv-metrics"},
		{"vp_cs", ".rv-bridge__chart"}, {"engineering", ".rv-flow__table"}, {"support", ".rv-metrics"}} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/views/"+v.id), chromedp.WaitVisible(chromedp.CSS(".rv-metrics")), chromedp.WaitVisible(chromedp.CSS(v.ready))); err != nil {
			t.Fatalf("%s: %v", v.id, err)
		}
		shoot(t, ctx, v.id)
	}
	// An administrator creates a token; it is shown once, and works.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.site-nav details:has(a[href="/admin"]) > summary`)),
		chromedp.Click(chromedp.CSS(`.site-nav a[href="/admin"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-token")),
		chromedp.SendKeys(chromedp.CSS("#new-token"), "finance-checks"),
		chromedp.Click(chromedp.CSS(`form[action^="/admin/tokens"] input[value="executive"]`)),
		chromedp.Click(chromedp.CSS(`form[action^="/admin/tokens"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".adm-secret__value")),
	); err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".adm-secret__value")))
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	shoot(t, ctx, "admin")
	// The token records two reconciliation checks, which the data sources
	// page then lists.
	for _, body := range []string{`{"metric":"arr","expected":1835000,"source":"finance"}`, `{"metric":"availability","expected":99.5,"source":"statuspage"}`} {
		req, _ := http.NewRequest("POST", base+"/api/v1/reconciliations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		if status, body, _ := send(t, http.DefaultClient, req); status != 201 {
			t.Fatalf("a reconciliation with the token the admin page showed: %d\n%s", status, clip(body))
		}
	}
	// Shown once: the page after a reload no longer has it.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#new-token"))); err != nil {
		t.Fatal(err)
	}
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body"))); strings.Contains(html, secret) {
		t.Error("the token is shown again after a reload")
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.site-nav details:has(a[href="/sources"]) > summary`)),
		chromedp.Click(chromedp.CSS(`.site-nav a[href="/sources"]`)),
		chromedp.WaitVisible(chromedp.CSS("#sec-kinds")),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby="sec-checks"]`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Annual recurring revenue", "finance", "Availability", "statuspage"} {
		if !strings.Contains(text, want) {
			t.Errorf("the data-quality checks lack %q:\n%s", want, text)
		}
	}
	shoot(t, ctx, "sources")
}
