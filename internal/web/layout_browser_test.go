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
