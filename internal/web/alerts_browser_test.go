package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// TestBrowserAlerts: the default rules evaluated on the demo organisation
// fire alerts; a webhook that answers 502 leaves their notifications
// waiting for a retry. The alerts page shows both, readable on a laptop
// and a phone, without a CSP violation.
func TestBrowserAlerts(t *testing.T) {
	ctx := browsertest.New(t)
	srv, base := newDemoServer(t, map[string][]string{"ann@example.com": {"executive"}})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "upstream down", http.StatusBadGateway) }))
	defer hook.Close()
	rules, err := alert.Compile(alert.Defaults(), srv.Catalog, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := &alert.Service{Store: srv.Store.(store.AlertStore), Engine: srv.Engine, Catalog: srv.Catalog, Rules: rules, Timing: alert.DefaultTiming,
		Channels: map[string]alert.Channel{"ops-hook": alert.Webhook{URL: hook.URL, Secret: []byte("s")}}, Now: srv.Now}
	if err := svc.Evaluate(context.Background(), scorecard.Options{}); err != nil {
		t.Fatal(err)
	}
	srv.Alerts = svc
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#sec-firing"))); err != nil {
		t.Fatal(err)
	}
	words, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(words, "Firing") || !strings.Contains(words, "webhook answered 502") || !strings.Contains(words, "retry due") {
		t.Errorf("alerts page: %.2000s", words)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	browsertest.Screenshot(ctx, t, "alerts-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browsertest.Screenshot(ctx, t, "alerts-phone")
}
