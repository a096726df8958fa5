package report

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
)

// TestDigestHTMLInBrowser opens the digest's HTML part in Chromium under a
// policy that allows inline styles and nothing else — a mail client's
// view, more or less — at a laptop's and a phone's width, and keeps the
// screenshots. CANDOR_DIGEST_EML names an archived digest (.eml) to show
// instead of the fixture's (docs/examples were made so).
func TestDigestHTMLInBrowser(t *testing.T) {
	var html string
	if file := os.Getenv("CANDOR_DIGEST_EML"); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, byType := parts(t, string(b))
		html = byType["text/html"]
	} else {
		f := newFixture(t)
		run, err := f.svc.MakeDigest(context.Background(), asOf, []string{"ceo@example.com"}, time.Time{}, false, "test")
		if err != nil {
			t.Fatal(err)
		}
		_, byType := parts(t, string(run.Report.Messages[0].EML))
		html = byType["text/html"]
	}
	var blocked int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" { // the browser's own habit, not the message's
			http.NotFound(w, r)
			return
		}
		if r.URL.Path != "/" {
			blocked++
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(html))
	}))
	defer srv.Close()
	ctx := browsertest.New(t)
	for _, v := range []browsertest.Viewport{browsertest.Laptop, browsertest.Phone} {
		browsertest.SetViewport(ctx, t, v)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatal(err)
		}
		// Against the layout viewport: a phone's browser zooms out to show
		// a wider page whole, which widens window.innerWidth with it (the
		// digest was 504 px wide at 390 and this test did not see it).
		widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if widths[0] > widths[1]+1 {
			t.Errorf("%s: the digest is %d px wide on a screen of %d", v.Name, widths[0], widths[1])
		}
		t.Logf("screenshot: %s", browsertest.Screenshot(ctx, t, "digest-"+v.Name))
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("console errors (a blocked script, style or image?): %v", errs)
	}
	if blocked > 0 {
		t.Errorf("the digest asked for %d more resources; it must stand alone", blocked)
	}
}
