package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/ingest"
)

// The data sources page, in the browser, says which money has no exchange
// rate and what it leaves without a value, whole at laptop and phone
// width: the demo's spend in euros had left CAC without a value and the
// page silent.
func TestBrowserSourcesSayMoneyWithoutARate(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"cfo@example.com": {"executive", "admin"}})
	const eur = `{"kind":"spend","id":"eu-mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","category":"marketing","amount":12000,"currency":"EUR"}
{"kind":"subscription","id":"eu-sub","customer":"eu-customer","started_at":"2026-03-02T00:00:00Z","mrr":450,"currency":"EUR"}
`
	if _, err := ingest.Import(context.Background(), s.Store, []ingest.Source{{Name: "eur.ndjson", Reader: strings.NewReader(eur)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, base, "/sources?as_of=2026-03-31", "cfo@example.com", "#sec-unrated")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby="sec-unrated"]`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Money without an exchange rate", "spend: 1 record in EUR, which has no exchange rate into USD: Customer acquisition cost and CAC payback have no value",
		"subscription: 1 record in EUR", "add exchange_rates.EUR (how many USD one EUR is worth)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the section lacks %q:\n%s", want, text)
		}
	}
	shoot(t, ctx, "sources-unrated")
}

// The connectors table, a column wider for the refusals not logged, fits
// its box at laptop width with no heading cut, stacks on a phone, and
// says under it what "not logged" counts: a flood past the 60 a minute a
// source's refusals are logged at.
func TestBrowserSourcesConnectorsNotLogged(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"sre@example.com": {"executive"}})
	hooks, err := connect.New(connect.Options{Store: s.Store, Config: connect.Config{GitHub: connect.GitHub{Secret: webhookSecret}},
		Now: func() time.Time { return demoEnd }})
	if err != nil {
		t.Fatal(err)
	}
	s.Connectors = hooks
	h := hooks.Handler(func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusUnauthorized) })
	for range 75 {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/github", strings.NewReader(`{"zen":"flood"}`))
		r.Header.Set("X-GitHub-Event", "deployment_status")
		r.Header.Set("X-Hub-Signature-256", "sha256=00")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	browserSignIn(t, ctx, base, "/sources", "sre@example.com", ".src-connectors")
	// On a phone the table stacks: its headings are hidden, each cell
	// labelled.
	check := func(what string, headings bool) {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`((headings) => {
			const t = document.querySelector(".src-connectors"), box = t.closest(".sheet"), out = [];
			if (t.getBoundingClientRect().right > box.getBoundingClientRect().right + 0.5 && t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1)
				out.push("the table runs out of its box");
			if (t.scrollWidth > t.parentElement.clientWidth + 1) out.push("the table is " + t.scrollWidth + " px wide in a " + t.parentElement.clientWidth + " px box");
			if (headings) for (const th of t.querySelectorAll("thead th")) if (th.scrollWidth > th.clientWidth + 1) out.push("heading cut: " + th.textContent.trim());
			const note = document.querySelector(".src-notlogged");
			if (!note || !note.getClientRects().length) out.push("no note on what is not logged");
			const cell = t.querySelector('td[data-label="Not logged"]');
			if (!cell || cell.textContent.trim() != "15") out.push("not logged cell: " + (cell && cell.textContent) + ", want 15");
			return out;
		})(`+fmt.Sprint(headings)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			t.Errorf("/sources at %s: %s", what, o)
		}
		uncut(t, ctx, "/sources at "+what)
	}
	check("laptop width", true)
	browsertest.Screenshot(ctx, t, "sources-connectors-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".src-connectors"))); err != nil {
		t.Fatal(err)
	}
	check("phone width", false)
	browsertest.Screenshot(ctx, t, "sources-connectors-phone")
}
