package web

import (
	"strings"
	"testing"
)

// TestMetricPageSecurityFacts: a security metric's page says what the
// metric reports beside its value — security incidents' 30-day figure
// (SPEC §3: "shown beside it"), SLA breaches by severity, the failing
// controls and the frameworks reported failed — which only the API's
// detail had held; and its scorecard card gives the 30-day figure.
func TestMetricPageSecurityFacts(t *testing.T) {
	e := newEnv(t, 0)
	recs := `{"kind":"incident","id":"s1","service":"api","severity":"P2","category":"security","opened_at":"2026-03-20T00:00:00Z"}
{"kind":"incident","id":"s2","service":"web","severity":"P3","category":"security","opened_at":"2026-02-10T00:00:00Z"}
{"kind":"vulnerability","id":"v1","severity":"critical","service":"api","opened_at":"2026-03-01T00:00:00Z"}
{"kind":"vulnerability","id":"v2","severity":"low","service":"web","opened_at":"2025-10-01T00:00:00Z"}
{"kind":"control","id":"c1","control":"AC-1","framework":"SOX","checked_at":"2026-03-30T00:00:00Z","passed":false}
{"kind":"control","id":"c2","control":"AC-2","framework":"SOX","checked_at":"2026-03-30T00:00:00Z","passed":true}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", recs, map[string]string{"Content-Type": "application/x-ndjson"}); code != 200 && code != 201 {
		t.Fatalf("import: %d %s", code, body)
	}
	for _, c := range []struct{ metric, want string }{
		{"security_incidents_90d", "<dt>Last 30 days</dt><dd>1 security incident (not judged)</dd>"},
		{"vulnerability_sla_breaches", "<dt>By severity</dt><dd>critical 1 · low 1</dd>"},
		{"compliance_pass_rate", "<dt>Failing</dt><dd>1 control failing — SOX reported failed</dd>"},
	} {
		page := e.get200(t, "/metrics/"+c.metric+"?as_of="+asOf)
		if !strings.Contains(page, c.want) {
			t.Errorf("%s: no %q on its page", c.metric, c.want)
		}
	}
	// The scorecard's card, shown while the metric is red, gives it too.
	if home := e.get200(t, "/?as_of="+asOf); !strings.Contains(home, "· 1 in the last 30 days") {
		t.Errorf("the scorecard's security incidents card does not give the 30-day figure")
	}
}
