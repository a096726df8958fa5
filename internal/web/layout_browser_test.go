package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
)

// Wide tables are readable: /releases at laptop width fits its box, no
// heading cut ("CSAT SCORE mean, 1–5, of the responses na…" ran past a
// table 1235 px wide in a 1190 px box); on a phone the records behind
// change failure rate stack, each row's Status and Note inside the screen
// (they were off to the right of a scrolled table), with the sort links
// above the rows as the hidden headings were.
func TestBrowserWideTablesReadable(t *testing.T) {
	ctx := browsertest.New(t)
	_, base := newDemoServer(t, map[string][]string{"eve@example.com": {"executive"}})
	browserSignIn(t, ctx, base, "/releases", "eve@example.com", ".rel-table")
	fit, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const t = document.querySelector(".rel-table"), out = [];
		if (t.scrollWidth > t.parentElement.clientWidth + 1) out.push("the table is " + t.scrollWidth + " px wide in a " + t.parentElement.clientWidth + " px box");
		for (const th of t.querySelectorAll("thead th")) if (th.scrollWidth > th.clientWidth + 1) out.push("heading cut: " + th.textContent.trim());
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fit {
		t.Errorf("/releases at laptop width: %s", f)
	}
	browsertest.Screenshot(ctx, t, "releases-laptop")

	browsertest.SetViewport(ctx, t, browsertest.Phone)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/metrics/change_failure_rate"), chromedp.WaitVisible(chromedp.CSS("table.records"))); err != nil {
		t.Fatal(err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelector("table.records tbody tr").children]
		.filter(c => c.getClientRects().length > 0)
		.map(c => (c.dataset.label || "record") + (c.getBoundingClientRect().right <= innerWidth + 0.5 ? "" : " off-screen"))`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cells, ", ")
	if !strings.Contains(got, "status") || !strings.Contains(got, "note") || strings.Contains(got, "off-screen") {
		t.Errorf("the first record's cells on a phone: %s", got)
	}
	sortBy, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const p = document.querySelector(".records__sortby"); return p && p.getClientRects().length ? p.textContent : ""; })()`))
	if err != nil || !strings.Contains(sortBy, "finished at") {
		t.Errorf("no sort links above the stacked records: %q %v", sortBy, err)
	}
	uncut(t, ctx, "change failure rate on a phone")
	browsertest.Screenshot(ctx, t, "records-phone")
}

// On a phone /admin breaks a long address before its "@", not mid-word
// ("admin@example.c" / "om"), and the header's roles wrap rather than end
// in "Administrator, Exec…".
func TestBrowserAdminAddressesPhone(t *testing.T) {
	ctx := browsertest.New(t)
	_, base := newDemoServer(t, map[string][]string{"administrator@example.com": {"admin", "executive"}, "carol.longname@example.com": {"executive"}})
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browserSignIn(t, ctx, base, "/admin", "administrator@example.com", ".adm-who")
	// Each address as the lines it is laid out on, "|" between them.
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".adm-who")].map(e => {
		const lines = []; let top = null;
		const w = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
		for (let n; (n = w.nextNode()); ) {
			for (let i = 0; i < n.length; i++) {
				const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
				const b = r.getClientRects()[0];
				if (!b) continue;
				if (top === null || b.top > top + 2) { lines.push(""); top = b.top; }
				lines[lines.length - 1] += n.data[i];
			}
		}
		return lines.join("|");
	})`))
	if err != nil || len(lines) < 2 {
		t.Fatalf("addresses: %v %v", lines, err)
	}
	for _, l := range lines {
		parts := strings.Split(l, "|")
		for _, p := range parts[1:] {
			if !strings.HasPrefix(p, "@") && !strings.HasPrefix(p, ".") {
				t.Errorf("the address %q breaks mid-word: %q", strings.Join(parts, ""), l)
			}
		}
	}
	roles, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector(".account__roles"); return [r.scrollWidth, r.clientWidth, r.getBoundingClientRect().right, innerWidth]; })()`))
	if err != nil || len(roles) != 4 || roles[0] > roles[1]+1 || roles[2] > roles[3] {
		t.Errorf("the header's roles are cut (scroll width, width, right, screen): %v %v", roles, err)
	}
	browsertest.Screenshot(ctx, t, "admin-addresses-phone")
}

// The Share form's selects look like the page's other selects (the
// controls' window: its border, corners, background and font; the
// controls bar is the more compact), not the browser's unstyled ones.
func TestBrowserShareFormSelects(t *testing.T) {
	ctx := browsertest.New(t)
	_, base := newDemoServer(t, map[string][]string{"eve@example.com": {"executive"}})
	browserSignIn(t, ctx, base, "/metrics/arr", "eve@example.com", "#share select")
	styles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["#c-window", "#share select[name=kind]", "#share select[name=expires_in]"].map(s => {
		const c = getComputedStyle(document.querySelector(s));
		return [c.borderTopLeftRadius, c.borderTopColor, c.backgroundColor, c.fontFamily].join(" ");
	})`))
	if err != nil || len(styles) != 3 {
		t.Fatalf("select styles: %v %v", styles, err)
	}
	for _, s := range styles[1:] {
		if s != styles[0] {
			t.Errorf("a share select is styled %q, the page's window select %q", s, styles[0])
		}
	}
}

// TestBrowserIdsAndTablesFit: at laptop and phone width a release id on
// /releases is one line (it wrapped mid-id, "dep-" / "0004981", in a
// squeezed column), and a metric page's breakdown and weekly tables stay
// within their panel: on a phone the breakdown ran 2 px past its scroll
// box (a sideways scroll for nothing), and the weekly values, in no scroll
// box, ran up to 50 px past the panel and made the page scroll sideways. A
// table that cannot fit (costs by service, their values in USD) scrolls
// inside its panel.
func TestBrowserIdsAndTablesFit(t *testing.T) {
	ctx := browsertest.New(t)
	base := impactServer(t).URL
	browserSignIn(t, ctx, base, "/releases?service=recommendations", "ceo@example.com", ".rel-table")
	// Each element matching sel that shows past its box's content edge (the
	// nearest .panel or .sheet; a scrolling ancestor within it clips it),
	// or is wider than its parent when fit is set.
	const past = `((sel, fit) => [...document.querySelectorAll(sel)].flatMap(e => {
		const box = e.closest(".panel, .sheet"), cs = getComputedStyle(box);
		const edge = box.getBoundingClientRect().right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
		let right = e.getBoundingClientRect().right;
		for (let a = e.parentElement; a && a !== box; a = a.parentElement) {
			if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(a).overflowX)) right = Math.min(right, a.getBoundingClientRect().right);
		}
		const out = right > edge + 0.5 ? [sel + " " + (right - edge).toFixed(1) + " px past its box"] : [];
		if (fit && e.scrollWidth > e.parentElement.clientWidth + 0.5) out.push(sel + " " + e.scrollWidth + " px wide in a " + e.parentElement.clientWidth + " px box");
		return out;
	}))`
	for _, vp := range []browsertest.Viewport{browsertest.Laptop, browsertest.Phone} {
		browsertest.SetViewport(ctx, t, vp)
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/releases?service=recommendations"), chromedp.WaitVisible(chromedp.CSS(".rel-table"))); err != nil {
			t.Fatal(err)
		}
		split, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".rel-table tbody th[scope=row] a")]
			.filter(a => a.getClientRects().length > 1).map(a => a.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(split) > 0 {
			t.Errorf("/releases at %s width: ids on more than one line: %q", vp.Name, split)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](past+`(".rel-table", true)`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wide {
			t.Errorf("/releases at %s width: %s", vp.Name, w)
		}
		browsertest.Screenshot(ctx, t, "releases-"+vp.Name)
		for _, m := range []struct {
			id  string
			fit bool
		}{{"change_failure_rate", true}, {"sales_velocity", true}, {"cost_per_active_customer", false}} {
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/metrics/"+m.id+"?window=30d"), chromedp.WaitVisible(chromedp.CSS("details.weeks"))); err != nil {
				t.Fatal(err)
			}
			fit := "false"
			if m.fit {
				fit = "true"
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { document.querySelector("details.weeks").open = true;
				return [...`+past+`("table.breakdown", `+fit+`), ...`+past+`(".weeks table", `+fit+`)]; })()`))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range wide {
				t.Errorf("/metrics/%s at %s width: %s", m.id, vp.Name, w)
			}
			if width, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); err != nil || width > vp.Width {
				t.Errorf("/metrics/%s at %s width scrolls sideways: %d px wide (%v)", m.id, vp.Name, width, err)
			}
			browsertest.Screenshot(ctx, t, m.id+"-"+vp.Name)
		}
	}
}

// The header's menus behave as menus for a keyboard (static/app.js):
// Escape closes the open one and gives the focus back to its button, and
// opening one closes another — they had stayed open over the filters. At
// 400 % zoom (320×256) an open menu's list scrolls within the screen
// (its last links had been below it, out of reach). A table wider than
// its box takes the focus, so a keyboard can scroll it.
func TestBrowserMenusAndScrollBoxes(t *testing.T) {
	ctx := browsertest.New(t)
	_, base := newDemoServer(t, map[string][]string{"eve@example.com": {"executive", "admin"}})
	browserSignIn(t, ctx, base, "/", "eve@example.com", ".pillars")
	state := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	openMenus := `[...document.querySelectorAll("details.menu")].filter(m => m.open).map(m => m.querySelector("summary").textContent.trim()).join(",")`
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("details.menu:nth-of-type(1) > summary"))); err != nil {
		t.Fatal(err)
	}
	first := state(openMenus)
	if first == "" {
		t.Fatal("a click opened no menu")
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\u001b")); err != nil { // Escape
		t.Fatal(err)
	}
	if got := state(openMenus); got != "" {
		t.Errorf("Escape left %q open", got)
	}
	if got := state(`document.activeElement.closest("details.menu") ? document.activeElement.tagName : "elsewhere"`); got != "SUMMARY" {
		t.Errorf("after Escape the focus is on %s, want the menu's button", got)
	}
	summaries := `[...document.querySelectorAll("details.menu > summary")]`
	// From every menu closed, whatever the steps above left: otherwise
	// the second click could close the first menu itself, and the check
	// could not fail.
	closeAll := `document.querySelectorAll("details.menu").forEach(m => m.open = false), ""`
	state(closeAll)
	state(summaries + `[0].click(), ""`)
	state(summaries + `[1].click(), ""`)
	if got := state(openMenus); strings.Contains(got, ",") {
		t.Errorf("two menus open at once: %s", got)
	}
	// A click elsewhere closes an open menu.
	state(`document.querySelector("main").click(), ""`)
	if got := state(openMenus); got != "" {
		t.Errorf("a click outside left %q open", got)
	}
	state(closeAll)

	browsertest.SetViewport(ctx, t, browsertest.Viewport{Name: "zoom400", Width: 320, Height: 256, Scale: 1})
	state(summaries + `[0].click(), ""`)
	reach := state(`(() => { const l = document.querySelector("details.menu[open] .menu__list"); if (!l) return "no open menu";
		const r = l.getBoundingClientRect();
		return r.bottom <= innerHeight + 0.5 || l.scrollHeight > l.clientHeight && getComputedStyle(l).overflowY === "auto" ? "" : "the list ends at " + r.bottom + " px below a " + innerHeight + " px screen and does not scroll"; })()`)
	if reach != "" {
		t.Errorf("a menu at 400 %% zoom: %s", reach)
	}

	browsertest.SetViewport(ctx, t, browsertest.Phone)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/metrics/nrr"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	unreachable := state(`[...document.querySelectorAll(".table-scroll, .sheet__scroll, .adm-scroll")]
		.filter(b => b.scrollWidth > b.clientWidth + 1 && b.getAttribute("tabindex") !== "0").length + ""`)
	if unreachable != "0" {
		t.Errorf("%s boxes wider than the phone cannot take the focus", unreachable)
	}
}

// Between a phone and a laptop (a tablet, a half-screen window) the
// header's menus stay clear of the account's name and nothing makes the
// page scroll sideways: at 900 px an administrator's Governance menu had
// run under "Demo Admin", and at 768 px /admin's tokens table (whose
// box does not scroll, so that its Revoke panel can open past it) had
// made the page 30 px wider than the screen.
func TestBrowserTabletWidths(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"administrator@example.com": {"admin", "executive"}})
	newToken(t, s.Auth, "ci-deploys-production", "executive", "ingest")
	browserSignIn(t, ctx, base, "/admin", "administrator@example.com", ".adm-who")
	for _, w := range []int64{768, 900, 1024, 1180} {
		browsertest.SetViewport(ctx, t, browsertest.Viewport{Name: fmt.Sprint(w), Width: w, Height: 900, Scale: 1})
		for _, path := range []string{"/", "/admin"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(".account"))); err != nil {
				t.Fatal(err)
			}
			under, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
				const a = document.querySelector(".account__who").getBoundingClientRect();
				return [...document.querySelectorAll(".site-nav__link")].filter(l => {
					const r = l.getBoundingClientRect();
					return r.right > a.left && r.left < a.right && r.bottom > a.top && r.top < a.bottom;
				}).map(l => l.textContent.trim());
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(under) > 0 {
				t.Errorf("%s at %d px: the menus %q run under the account's name", path, w, under)
			}
			if width, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); err != nil || width > w {
				t.Errorf("%s at %d px scrolls sideways: %d px wide (%v)", path, w, width, err)
			}
		}
		browsertest.Screenshot(ctx, t, fmt.Sprintf("admin-%d", w))
	}
}
