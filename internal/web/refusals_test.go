package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Refusals of one kind of mistake are worded alike on every route, the
// parameter at fault named first (an API integrator's review, 2026-12-07:
// a metric drill-down's scope and by, durations worded three ways, a
// view's refusal offering filters it refuses, a number out of range read as
// a type mistake, a proposal's id that is no id a 404, two lists of kinds).
func TestRefusalsWordedAlike(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Now = func() time.Time { return time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC) }
	refusal := func(method, path, body string) (int, string, string) {
		t.Helper()
		status, b, _ := e.do(t, method, path, body, nil)
		var doc struct{ Error, Param string }
		json.Unmarshal(b, &doc)
		return status, doc.Error, doc.Param
	}
	window := func(v string) string {
		t.Helper()
		_, msg, _ := refusal("GET", "/api/v1/scorecard?window="+v, "")
		return strings.TrimPrefix(msg, "window: ")
	}
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		param, want              string
	}{
		{"drill-down scope value", "GET", "/api/v1/metrics/change_failure_rate?scope=team:nosuch", "", 400, "scope", `scope: no team "nosuch" in the data`},
		{"drill-down scope dimension", "GET", "/api/v1/metrics/change_failure_rate?scope=colour:red", "", 400, "scope", `scope: metric change_failure_rate cannot be broken down by "colour"`},
		{"drill-down by", "GET", "/api/v1/metrics/change_failure_rate?by=colour", "", 400, "by", `by: metric change_failure_rate cannot be broken down by "colour"`},
		{"action's scope", "POST", "/api/v1/metrics/change_failure_rate/acknowledgements", `{"owner":"x","note":"y","due":"2026-04-10","scope":"team:nobody"}`, 400, "scope", `scope: no team "nobody" in the data`},
		{"period zero", "GET", "/api/v1/sources?period=0d", "", 400, "period", "period: " + window("0d")},
		{"period word", "GET", "/api/v1/sources?period=forever", "", 400, "period", "period: " + window("forever")},
		{"silence for", "POST", "/api/v1/alerts/silences", `{"rule":"metric_red","reason":"r","for":"0h"}`, 400, "for", "for: " + window("0h")},
		{"metric misspelt", "GET", "/api/v1/metrics/change_failure_rat", "", 404, "", `unknown metric "change_failure_rat" (did you mean change_failure_rate?); GET /api/v1/metrics lists them`},
		{"view's parameters", "GET", "/api/v1/views/engineering?by=team", "", 400, "by", `by: unknown parameter "by" (known: as_of, window, month, closing)`},
		{"number out of range", "POST", "/api/v1/reconciliations", `{"metric":"change_failure_rate","expected":1e400}`, 400, "expected", "expected: 1e400 is out of range for a number"},
		{"annotations' span", "GET", "/api/v1/annotations?from=2026-03-01&to=2026-02-01", "", 400, "to", "to: 2026-02-01 is before from (2026-03-01)"},
		{"record's id missing", "GET", "/api/v1/records/deployment/import/", "", 404, "", "no route GET /api/v1/records/deployment/import/: the path lacks {id}, the last part of /api/v1/records/{kind}/{source}/{id}"},
		{"record's id and slash missing", "GET", "/api/v1/records/deployment/import", "", 404, "", "no route GET /api/v1/records/deployment/import: the path lacks {id}, the last part of /api/v1/records/{kind}/{source}/{id}"},
		{"release's id missing", "GET", "/api/v1/releases/import/", "", 404, "", "no route GET /api/v1/releases/import/: the path lacks {id}"},
		{"proposal id", "GET", "/api/v1/proposals/abc", "", 400, "id", `id: "abc" is not a proposal id`},
		{"proposal id approved", "POST", "/api/v1/proposals/abc/approve", `{"reason":"r"}`, 400, "id", `id: "abc" is not a proposal id`},
	} {
		status, msg, param := refusal(c.method, c.path, c.body)
		if status != c.status || param != c.param || !strings.HasPrefix(msg, c.want) {
			t.Errorf("%s: %d %s %q, want %d naming %s, %q…", c.name, status, param, msg, c.status, c.param, c.want)
		}
	}
	if status, b, _ := e.do(t, "GET", "/records/deployment/import/", "", nil); status != 404 || !strings.Contains(string(b), "the address lacks {id}") {
		t.Errorf("the record page without its id: %d\n%s", status, clip(b))
	}
	// One list of kinds, whether a read or an import refused it.
	_, read, _ := refusal("GET", "/api/v1/records/nosuch/import/x", "")
	_, imp, _ := refusal("POST", "/api/v1/records?kind=nosuch", `{"id":"x","source":"s"}`+"\n")
	if read != imp || !strings.Contains(read, "vulnerability_scan") {
		t.Errorf("a read refuses a kind with %q, an import with %q", read, imp)
	}
}
