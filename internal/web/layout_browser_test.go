package web

import (
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
