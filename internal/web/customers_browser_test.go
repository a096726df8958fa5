package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
)

// A VP Customer Success follows a customer of NRR's cohort table to the
// customer's page, which renders its records together, and opens the
// at-risk list from the navigation; both fit a laptop and a phone.
func TestBrowserCustomerPages(t *testing.T) {
	ctx := browsertest.New(t)
	base := demoServer(t, map[string][]string{"cs@example.com": {"vp_cs"}})
	browserSignIn(t, ctx, base, "/metrics/nrr?as_of=2026-03-31", "cs@example.com", "main")
	first := chromedp.CSS(`section[aria-labelledby="customers-h"] tbody a[href^="/customers/"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#customers-h`))); err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(first))
	if err != nil {
		t.Fatalf("NRR's cohort table links no customer: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(first), chromedp.WaitVisible(chromedp.CSS(`#subs-h`))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Customer " + name, "Risk signals", "MRR now", "365 days before", "Subscriptions (", "Tickets (", "Surveys ("} {
		if !strings.Contains(text, want) {
			t.Errorf("the customer page of %q lacks %q:\n%.600s", name, want, text)
		}
	}
	shoot(t, ctx, "customer")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.site-nav a[href^="/customers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sec-customers`)),
	); err != nil {
		t.Fatal(err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "At-risk customers") || !strings.Contains(list, "Worst first: by the gravest signal — churned, then MRR contraction") {
		t.Errorf("the at-risk list:\n%.600s", list)
	}
	// It says how fresh the data its signals read is, near its heading:
	// the demo's surveys (scale 0.01: a few a day) are stale at midnight,
	// marked so, and the list says what they may undercount.
	flat := strings.Join(strings.Fields(list), " ") // the status is a box of its own
	for _, want := range []string{"Data: subscriptions (a state kind, not judged by age) · tickets as of 30 Mar 2026",
		"· Stale surveys as of 29 Mar 2026", "Survey data is stale: NPS detractors and CSATs of 2 or less may be undercounted."} {
		if !strings.Contains(flat, want) {
			t.Errorf("the at-risk list does not say how fresh its data is: lacks %q\n%.600s", want, list)
		}
	}
	shoot(t, ctx, "customers")
}
