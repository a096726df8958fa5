package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// While serve waits for its database, the API is answered in the error
// vocabulary of every other response and a browser gets a page, both 503
// with Retry-After, neither naming the database's address.
func TestWaitingAnswers(t *testing.T) {
	h := Waiting("connection refused")
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/scorecard", "/webhooks/github"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var e struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v: %s", path, err, rec.Body)
		}
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || e.Code != "unavailable" ||
			!strings.Contains(e.Error, "waits for its database (connection refused)") || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d, Retry-After %q, %s %q", path, rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics/mttr?as_of=<b>", nil)
	req.Header.Set("Accept", "text/html")
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "<h1") || !strings.Contains(body, "waits for its database (connection refused)") {
		t.Errorf("page: %d %q %q:\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), body)
	}
}
