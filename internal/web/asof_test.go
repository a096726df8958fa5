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
	// A reconciliation without as_of compares the figure with the value
	// the scorecard shows in the same minute.
	if code, body, _ := e.do(t, "POST", "/api/v1/reconciliations", `{"metric":"change_failure_rate","expected":50}`, nil); code != 201 || !strings.Contains(string(body), `"as_of": "`+want+`"`) {
		t.Errorf("POST /api/v1/reconciliations: %d, as_of is not %s:\n%s", code, want, clip(body))
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

// An as_of past the clock (beyond a day, for the time zones ahead of UTC)
// is refused with 400 naming as_of, by the JSON API, the pages, the data
// sources report and a reconciliation: the data holds nothing after now,
// and an answer then would show ageing and overdue items that have not
// happened. Tomorrow's date is taken.
func TestFutureAsOfRefused(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, path := range []string{"/api/v1/scorecard", "/api/v1/views/ceo", "/api/v1/metrics/change_failure_rate", "/api/v1/escalations", "/api/v1/sources", "/", "/metrics/change_failure_rate", "/views/ceo", "/sources"} {
		for asOf, ok := range map[string]bool{"2030-01-01": false, "2026-04-02": false, "2026-04-01T09:16:00Z": false, "2026-04-01": true, "2026-03-31T12:00:00Z": true} {
			code, body, _ := e.do(t, "GET", path+"?as_of="+asOf, "", nil)
			if ok && code != 200 {
				t.Errorf("GET %s?as_of=%s: %d, want 200 (within a day of the clock)\n%s", path, asOf, code, clip(body))
			}
			if !ok && (code != 400 || !strings.Contains(string(body), "as_of") || !strings.Contains(string(body), "in the future")) {
				t.Errorf("GET %s?as_of=%s: %d, want 400 naming as_of as in the future\n%s", path, asOf, code, clip(body))
			}
		}
	}
	// The date control offers no later day.
	if code, body, _ := e.do(t, "GET", "/", "", nil); code != 200 || !strings.Contains(string(body), `name="as_of" value="" max="2026-04-01"`) {
		t.Errorf("the scorecard's date control: %d, no max of 2026-04-01\n%s", code, clip(body))
	}
	code, body, _ := e.do(t, "POST", "/api/v1/reconciliations", `{"metric":"csat","expected":90,"as_of":"2030-01-01"}`, nil)
	if code != 400 || !strings.Contains(string(body), `"param": "as_of"`) {
		t.Errorf("a reconciliation as of 2030: %d, want 400 naming as_of\n%s", code, clip(body))
	}
}

// The refusal of a future as_of states the rule as it is: up to a day past
// the clock is taken, so "as of now or an earlier time" was wrong.
func TestFutureAsOfErrorStatesTheRule(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	if err := CheckAsOf(now.Add(FutureSlack), now); err != nil {
		t.Errorf("a day past the clock: %v", err)
	}
	err := CheckAsOf(now.Add(FutureSlack+time.Minute), now)
	if err == nil || !strings.Contains(err.Error(), "2026-04-01T09:16:00Z is in the future, more than a day past the clock (2026-03-31 09:15 UTC): Candor answers as of at most a day past the clock, or any earlier time") {
		t.Errorf("a day and a minute past the clock: %v", err)
	}
}

// A window longer than ten years, or an as_of before 1970, is refused
// with 400 naming it: the engine's clock reaches back only to 1678, and
// the trend looks a window further back still, where a single request
// with window=100000d, or as_of 1678 and a ten-year window, panicked in a
// goroutine and took the whole server down.
func TestOutOfRangeWindowAndAsOfRefused(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for query, param := range map[string]string{
		"window=100000d":                  "window",
		"window=3661d":                    "window",
		"as_of=1678-01-01&window=3650d":   "as_of",
		"as_of=1969-12-31T23:59:59Z":      "as_of",
		"as_of=1800-01-01&window=30000d":  "as_of",
		"as_of=2026-03-01&window=100000d": "window",
	} {
		for _, path := range []string{"/api/v1/scorecard", "/api/v1/views/ceo", "/api/v1/metrics/incidents_p0_p1"} {
			code, body, _ := e.do(t, "GET", path+"?"+query, "", nil)
			if code != 400 || !strings.Contains(string(body), `"param": "`+param+`"`) {
				t.Errorf("GET %s?%s: %d, want 400 naming %s\n%s", path, query, code, param, clip(body))
			}
		}
	}
	code, body, _ := e.do(t, "POST", "/api/v1/reconciliations", `{"metric":"csat","expected":90,"window":"100000d"}`, nil)
	if code != 400 || !strings.Contains(string(body), `"param": "window"`) {
		t.Errorf("a reconciliation over 100000d: %d, want 400 naming window\n%s", code, clip(body))
	}
	if code, body, _ := e.do(t, "GET", "/api/v1/scorecard?as_of=1970-01-01&window=3660d", "", nil); code != 200 {
		t.Errorf("as of 1970 over ten years: %d, want 200\n%s", code, clip(body))
	}
}

// A time with a + offset written unescaped in a URL arrives with a space
// in its place: the 400 says so, where "not an RFC 3339 time" left a
// client staring at a time that is one.
func TestUnescapedPlusInAsOfExplained(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	code, body, _ := e.do(t, "GET", "/api/v1/scorecard?as_of=2026-03-01T00:00:00+02:00", "", nil)
	if code != 400 || !strings.Contains(string(body), `"param": "as_of"`) || !strings.Contains(string(body), "%2B") {
		t.Errorf("as_of with an unescaped +: %d, want 400 saying to write %%2B\n%s", code, clip(body))
	}
	if code, body, _ := e.do(t, "GET", "/api/v1/scorecard?as_of=2026-03-01T00:00:00%2B02:00", "", nil); code != 200 {
		t.Errorf("as_of with %%2B: %d, want 200\n%s", code, clip(body))
	}
}
