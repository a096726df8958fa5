package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
)

// money matches an amount as the pages write it: digits, then the
// organisation's currency code.
var money = regexp.MustCompile(`\d[\d,.]*\s?USD`)

// A reader without revenue:read (engineering) sees no revenue number in the
// browser: not on the scorecard, not in their role view, and a revenue
// metric's page or a subscription's record page is refused.
func TestBrowserNoRevenueWithoutTheGrant(t *testing.T) {
	ctx := browsertest.New(t)
	base := demoServer(t, map[string][]string{"eng@example.com": {"engineering"}})
	browserSignIn(t, ctx, base, "/?as_of=2026-03-31", "eng@example.com", "main")
	text := func(path string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatal(err)
		}
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, path := range []string{"/?as_of=2026-03-31", "/views/engineering?as_of=2026-03-31", "/sources?as_of=2026-03-31"} {
		s := text(path)
		if m := money.FindString(s); m != "" {
			t.Errorf("%s shows %q to a reader without revenue:read", path, m)
		}
		for _, name := range []string{"Annual recurring revenue", "Monthly recurring revenue", "Customer acquisition cost"} {
			if strings.Contains(s, name) {
				t.Errorf("%s names %s to a reader without revenue:read", path, name)
			}
		}
		browsertest.Screenshot(ctx, t, "engineering"+strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path))
	}
	for _, path := range []string{"/metrics/arr", "/views/cro"} {
		if s := text(path); !strings.Contains(s, "You do not have access") {
			t.Errorf("%s was not refused to engineering:\n%.300s", path, s)
		}
	}
}
