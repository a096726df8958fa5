package web

import (
	"strings"
	"testing"
	"time"
)

// A request without as_of is answered as of the current minute, the
// seconds dropped, by the pages and the JSON API alike: every reader in a
// minute shares one computation, and a page agrees with the API asked in
// the same minute.
func TestDefaultAsOfIsTheCurrentMinute(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 42, 500_000_000, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	const want = "2026-03-31T09:15:00Z"
	for _, path := range []string{"/api/v1/scorecard", "/api/v1/views/ceo", "/api/v1/metrics/change_failure_rate"} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, clip(body))
		}
		if !strings.Contains(string(body), `"as_of": "`+want+`"`) {
			t.Errorf("GET %s: as_of is not %s:\n%s", path, want, clip(body))
		}
	}
	// The data sources report is about deliveries seconds old: it is
	// answered at the current instant.
	if code, body, _ := e.do(t, "GET", "/api/v1/sources", "", nil); code != 200 || !strings.Contains(string(body), `"as_of": "2026-03-31T09:15:42.5Z"`) {
		t.Errorf("GET /api/v1/sources: %d, as_of is not the current instant:\n%s", code, clip(body))
	}
	// The metric page's table links hold the as_of it was computed at.
	code, body, _ := e.do(t, "GET", "/metrics/change_failure_rate", "", nil)
	if code != 200 {
		t.Fatalf("GET metric page: %d %s", code, clip(body))
	}
	if !strings.Contains(string(body), "as_of=2026-03-31T09%3a15%3a00Z") && !strings.Contains(string(body), "as_of=2026-03-31T09%3A15%3A00Z") {
		t.Errorf("the metric page's links do not hold as_of %s", want)
	}
}
