package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
)

// TestBrowserDeploymentGate: a deployment's page shows the gate decisions
// made for its release, each decision in words, readable on a laptop and
// a phone.
func TestBrowserDeploymentGate(t *testing.T) {
	ctx := browsertest.New(t)
	srv, base := newDemoServer(t, map[string][]string{"ann@example.com": {"auditor"}})
	ci := newToken(t, srv.Auth, "ci", "ingest")
	for _, body := range []string{
		`{"service":"checkout","environment":"production","version":"7.1.0","change_request":"CHG-77","facts":{"coverage":"71%","changed_lines":420}}`,
		`{"service":"checkout","environment":"production","version":"7.1.0","change_request":"CHG-77","facts":{"coverage":"91%","changed_lines":420,"strategy":"canary"}}`,
	} {
		if status, b := postAs(t, base, "/api/v1/gates/evaluate", ci, body); status != 200 {
			t.Fatalf("gate: %d %s", status, b)
		}
	}
	if status, b := postAs(t, base, "/api/v1/records", ci, `{"kind":"deployment","id":"rel-710","service":"checkout","environment":"production","version":"7.1.0","finished_at":"2026-03-30T10:00:00Z","status":"success"}`); status != 200 {
		t.Fatalf("deployment: %d %s", status, b)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/records/deployment/import/rel-710"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#gate-h"))); err != nil {
		t.Fatal(err)
	}
	words, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section[aria-labelledby=gate-h]")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(words, "DENY") || !strings.Contains(words, "coverage 71% is below 85%") || !strings.Contains(words, "CHG-77") {
		t.Errorf("gate panel: %s", words)
	}
	browsertest.Screenshot(ctx, t, "deployment-gate-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browsertest.Screenshot(ctx, t, "deployment-gate-phone")
}

// postAs posts a JSON body with a bearer token.
func postAs(t *testing.T, base, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	status, b, _ := send(t, http.DefaultClient, req)
	return status, b
}

// TestBrowserGatesPage: an executive approves an escalated release on the
// gates page (reason, CSRF-protected form, then the outcome in words);
// the page reads on a laptop and a phone.
func TestBrowserGatesPage(t *testing.T) {
	ctx := browsertest.New(t)
	srv, base := newDemoServer(t, map[string][]string{"cto@example.com": {"executive"}})
	ci := newToken(t, srv.Auth, "ci", "ingest")
	for _, body := range []string{
		`{"service":"checkout","environment":"production","version":"7.2.0","change_request":"CHG-81","facts":{"coverage":"91%","changed_lines":940,"dependency_changes":2,"strategy":"canary"}}`,
		`{"service":"search","environment":"production","version":"3.4.1","facts":{"coverage":"64%","risk_score":20,"strategy":"canary"}}`,
		`{"service":"search","environment":"production","version":"3.4.2","facts":{"coverage":"88%","risk_score":20,"strategy":"canary"}}`,
	} {
		if status, b := postAs(t, base, "/api/v1/gates/evaluate", ci, body); status != 200 {
			t.Fatalf("gate: %d %s", status, b)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/gates"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "cto@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#sec-pending"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "gates-pending-laptop")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("form.gov-decide input[name=reason]"), "Reviewed the dependency bumps with the team"),
		chromedp.Click(chromedp.CSS("form.gov-decide button.button--primary")),
		chromedp.WaitVisible(chromedp.CSS(".alert--ok"))); err != nil {
		t.Fatal(err)
	}
	words, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(words, "checkout 7.2.0 to production) approved") || !strings.Contains(words, "No release is waiting for approval") ||
		!strings.Contains(words, "Reviewed the dependency bumps with the team") || !strings.Contains(words, "coverage 64% is below 85%") {
		t.Errorf("after approving: %s", words)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("console: %v", errs)
	}
	browsertest.Screenshot(ctx, t, "gates-decided-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browsertest.Screenshot(ctx, t, "gates-decided-phone")
	// On a phone a decision's reasons take the row's width, where they
	// had been squeezed into half of it, a long narrow column.
	share, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const td = [...document.querySelectorAll('td[data-label="Why"]')].find(c => c.textContent.trim() !== "");
		return td.getBoundingClientRect().width / td.closest('tr').getBoundingClientRect().width; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if share < 0.8 {
		t.Errorf("on a phone the Why cell is %.0f %% of its row's width, want the row's", share*100)
	}
}
