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
