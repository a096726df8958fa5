package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
)

func TestViewsAPI(t *testing.T) {
	e := newEnv(t, 0)
	cat, _ := catalog.Default()
	var known []string
	for _, v := range cat.Views {
		known = append(known, v.ID)
	}
	scenarios := []scenario{
		{name: "list", url: "/api/v1/views", status: 200,
			fields: map[string]string{"views.0.id": "ceo", "views.0.name": "CEO"},
			check: func(t *testing.T, doc any) {
				vs := lookup(doc, "views").([]any)
				if len(vs) != len(cat.Views) {
					t.Fatalf("%d views listed, catalog has %d", len(vs), len(cat.Views))
				}
				for i, v := range cat.Views {
					if lookup(vs[i], "id") != v.ID || len(lookup(vs[i], "metrics").([]any)) != len(v.Metrics) {
						t.Errorf("view %d = %v, want %s with %d metrics", i, vs[i], v.ID, len(v.Metrics))
					}
					for m, dim := range v.Breakdowns {
						if got := lookup(vs[i], "breakdowns."+m); got != dim {
							t.Errorf("%s breakdowns.%s = %v, want %s", v.ID, m, got, dim)
						}
					}
				}
			}},
		{name: "engineering", url: "/api/v1/views/engineering?as_of=" + asOf, status: 200,
			fields: map[string]string{
				"id": "engineering", "name": "Engineering", "as_of": "2026-03-31T00:00:00Z", "window": "30d", "status": "red",
				"metrics.0.metric.id": "deployment_frequency", "metrics.0.by": "team",
				"metrics.2.metric.id": "change_failure_rate", "metrics.2.metric.value": "50", "metrics.2.metric.status": "unknown",
				"metrics.2.metric.reason": "too few cases (n = 4, needs 5)",
				"metrics.2.by":            "service", "metrics.2.breakdown.0.key": "api", "metrics.2.breakdown.0.value": "50",
				"metrics.2.breakdown.0.status": "unknown", "metrics.2.breakdown.0.reason": "too few cases (n = 4, needs 5)", "metrics.2.breakdown.1.key": "web", "metrics.2.breakdown.1.status": "unknown",
			},
			check: func(t *testing.T, doc any) {
				ms := lookup(doc, "metrics").([]any)
				v, _ := cat.View("engineering")
				for i, id := range v.Metrics {
					if lookup(ms[i], "metric.id") != id {
						t.Errorf("metrics.%d = %v, want %s", i, lookup(ms[i], "metric.id"), id)
					}
					if n := len(lookup(ms[i], "metric.series").([]any)); n != 12 {
						t.Errorf("%s has %d series points, want 12", id, n)
					}
					if lookup(ms[i], "records") != nil {
						t.Errorf("%s lists records; a view leaves them to the drill-down", id)
					}
				}
				// rework_rate has no breakdown in this view.
				if lookup(ms[4], "metric.id") != "rework_rate" || lookup(ms[4], "by") != nil || lookup(ms[4], "breakdown") != nil {
					t.Errorf("rework_rate = %v, want no by and no breakdown", ms[4])
				}
			}},
		{name: "window carried to the cards", url: "/api/v1/views/engineering?as_of=" + asOf + "&window=7d", status: 200,
			fields: map[string]string{"window": "7d", "metrics.0.metric.window": "7d"}},
		{name: "unknown role", url: "/api/v1/views/cfo", status: 404, contains: append([]string{`\"cfo\"`}, known...)},
		{name: "unknown role wins over a bad as_of", url: "/api/v1/views/cfo?as_of=never", status: 404},
		// A misspelt view is guessed among those the reader may open.
		{name: "misspelt role", url: "/api/v1/views/engineerng", status: 404,
			contains: []string{`unknown role view \"engineerng\" (did you mean engineering?; the views you may open: `}},
		// Whoever asks: a role without view:* is not told "needs view:cfo",
		// a permission that does not exist, and is named the views it may
		// open, not the others.
		{name: "unknown role for a limited role", url: "/api/v1/views/cfo", headers: bearer(e.roleToken(t, "engineering")), status: 404,
			fields: map[string]string{"code": "not_found", "error": `unknown role view "cfo" (the views you may open: engineering); GET /api/v1/views lists them`}},
		{name: "bad as_of", url: "/api/v1/views/ceo?as_of=yesterday", status: 400, fields: map[string]string{"param": "as_of"}},
		{name: "bad window", url: "/api/v1/views/ceo?window=forever", status: 400, fields: map[string]string{"param": "window"}},
		{name: "views are read-only", method: "POST", url: "/api/v1/views/ceo", status: 405, contains: []string{"GET"}},
		// Roles as people type them: any case, the name with spaces.
		{name: "role in capitals", url: "/api/v1/views/CEO?as_of=" + asOf, status: 200, fields: map[string]string{"id": "ceo"}},
		{name: "role by its name", url: "/api/v1/views/VP%20Sales?as_of=" + asOf, status: 200, fields: map[string]string{"id": "vp_sales"}},
	}
	// Every role of the catalog answers with all its metrics.
	for _, v := range cat.Views {
		scenarios = append(scenarios, scenario{name: "role " + v.ID, url: "/api/v1/views/" + v.ID + "?as_of=" + asOf, status: 200,
			fields: map[string]string{"id": v.ID, "name": v.Name},
			check: func(t *testing.T, doc any) {
				ms := lookup(doc, "metrics").([]any)
				if len(ms) != len(v.Metrics) {
					t.Fatalf("%d metrics, want %d", len(ms), len(v.Metrics))
				}
				for i, id := range v.Metrics {
					if lookup(ms[i], "metric.id") != id || fmt.Sprint(lookup(ms[i], "by")) != fmt.Sprint(orNil(v.Breakdowns[id])) {
						t.Errorf("metrics.%d = %v by %v, want %s by %q", i, lookup(ms[i], "metric.id"), lookup(ms[i], "by"), id, v.Breakdowns[id])
					}
				}
			}})
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
}

// orNil is what lookup gives for an omitted string.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestReconciliationsAPI(t *testing.T) {
	e := newEnv(t, 0)
	list := func(t *testing.T, q string) []any {
		t.Helper()
		doc := e.run(t, scenario{url: "/api/v1/reconciliations" + q, status: 200, check: func(*testing.T, any) {}})
		rs, ok := lookup(doc, "reconciliations").([]any)
		if !ok {
			t.Fatalf("reconciliations is not a list: %v", doc)
		}
		return rs
	}
	if rs := list(t, ""); len(rs) != 0 {
		t.Fatalf("fresh store lists %d reconciliations", len(rs))
	}

	// Refused bodies name the field at fault and store nothing.
	long := strings.Repeat("x", 201)
	refused := []scenario{
		{name: "not JSON", body: `metric=arr`, fields: map[string]string{"param": "body"}},
		{name: "empty body", body: ``, fields: map[string]string{"param": "body"}},
		{name: "two objects", body: `{"metric":"change_failure_rate","expected":50} {}`, fields: map[string]string{"param": "body"}},
		{name: "a list", body: `[{"metric":"change_failure_rate","expected":50}]`, fields: map[string]string{"param": "body"}},
		{name: "no metric", body: `{"expected":50}`, fields: map[string]string{"param": "metric"}},
		{name: "unknown metric", body: `{"metric":"nope","expected":50}`, fields: map[string]string{"param": "metric"}, contains: []string{`\"nope\"`}},
		{name: "no expected", body: `{"metric":"change_failure_rate"}`, fields: map[string]string{"param": "expected"}},
		{name: "null expected", body: `{"metric":"change_failure_rate","expected":null}`, fields: map[string]string{"param": "expected"}},
		{name: "expected as a string", body: `{"metric":"change_failure_rate","expected":"50"}`, fields: map[string]string{"param": "expected"}, contains: []string{"number"}},
		{name: "metric as a number", body: `{"metric":7,"expected":50}`, fields: map[string]string{"param": "metric"}},
		{name: "misspelt field", body: `{"metric":"change_failure_rate","expect":50}`, fields: map[string]string{"param": "expect"}},
		{name: "bad as_of", body: `{"metric":"change_failure_rate","expected":50,"as_of":"yesterday"}`, fields: map[string]string{"param": "as_of"}},
		{name: "bad window", body: `{"metric":"change_failure_rate","expected":50,"window":"0d"}`, fields: map[string]string{"param": "window"}},
		{name: "source too long", body: `{"metric":"change_failure_rate","expected":50,"source":"` + long + `"}`, fields: map[string]string{"param": "source"}},
	}
	for _, sc := range refused {
		sc.method, sc.url, sc.status = "POST", "/api/v1/reconciliations", 400
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
	if rs := list(t, ""); len(rs) != 0 {
		t.Fatalf("refused requests stored %d reconciliations", len(rs))
	}

	// change_failure_rate is 50 % as of asOf; deployment_duration has no
	// value (no deployment has started_at).
	accepted := []scenario{
		{name: "matches", body: `{"metric":"change_failure_rate","expected":50,"as_of":"2026-03-31","source":"jira"}`,
			fields: map[string]string{"metric": "change_failure_rate", "as_of": "2026-03-31T00:00:00Z", "window": "30d", "expected": "50", "actual": "50",
				"difference": "0", "difference_pct": "0", "status": "green", "source": "jira"}},
		{name: "exactly 2 % off", body: `{"metric":"change_failure_rate","expected":49.01960784313725,"as_of":"2026-03-31"}`,
			fields: map[string]string{"status": "amber"}},
		{name: "over 2 % off", body: `{"metric":"change_failure_rate","expected":48,"as_of":"2026-03-31","note":"CRM export"}`,
			fields: map[string]string{"actual": "50", "difference": "2", "status": "red", "note": "CRM export"}},
		{name: "no value in Candor", body: `{"metric":"deployment_duration","expected":12,"as_of":"2026-03-31"}`,
			fields: map[string]string{"status": "unknown", "actual": "<nil>", "difference": "<nil>", "difference_pct": "<nil>"}, contains: []string{"no value for deployment_duration"}},
		{name: "window", body: `{"metric":"deployment_frequency","expected":0.1428571,"as_of":"2026-03-31","window":"7d"}`,
			fields: map[string]string{"window": "7d", "status": "green"}},
	}
	var ids []float64
	for _, sc := range accepted {
		sc.method, sc.url, sc.status = "POST", "/api/v1/reconciliations", 201
		t.Run(sc.name, func(t *testing.T) {
			doc := e.run(t, sc)
			id, _ := lookup(doc, "id").(float64)
			if id <= 0 || lookup(doc, "checked_at") == nil {
				t.Errorf("result without id or checked_at: %v", doc)
			}
			ids = append(ids, id)
		})
	}

	// Every result is kept, newest first.
	rs := list(t, "")
	if len(rs) != len(accepted) {
		t.Fatalf("%d reconciliations kept, want %d", len(rs), len(accepted))
	}
	for i, r := range rs {
		if want := ids[len(ids)-1-i]; lookup(r, "id") != want {
			t.Errorf("reconciliations.%d.id = %v, want %v (newest first)", i, lookup(r, "id"), want)
		}
	}
	if lookup(rs[len(rs)-1], "source") != "jira" || lookup(rs[1], "status") != "unknown" {
		t.Errorf("kept results differ from the answers: %v", rs)
	}
	if rs := list(t, "?limit=2"); len(rs) != 2 || lookup(rs[0], "id") != ids[len(ids)-1] {
		t.Errorf("limit=2 = %v", rs)
	}
	for _, q := range []string{"0", "-1", "x", "1001"} {
		e.run(t, scenario{name: "limit " + q, url: "/api/v1/reconciliations?limit=" + q, status: 400, fields: map[string]string{"param": "limit"}})
	}
	e.run(t, scenario{method: "DELETE", url: "/api/v1/reconciliations", status: 405})
}

func TestReconciliationBodyLimit(t *testing.T) {
	e := newEnv(t, 300)
	body := `{"metric":"change_failure_rate","expected":50,"note":"` + strings.Repeat("x", 400) + `"}`
	e.run(t, scenario{method: "POST", url: "/api/v1/reconciliations", body: body, status: 413, contains: []string{"300 bytes"}})
	e.run(t, scenario{method: "POST", url: "/api/v1/reconciliations", body: `{"metric":"change_failure_rate","expected":50}`, status: 201})
}
