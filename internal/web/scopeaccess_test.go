package web

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// apiErrorAs is a GET's status and its JSON error's message and param, as role.
func (e *env) apiErrorAs(t *testing.T, role, path string) (int, string, string) {
	t.Helper()
	status, body := e.apiAs(t, role, path)
	var doc struct{ Error, Param string }
	if status >= 400 {
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s as %s: %d, not a JSON error: %s", path, role, status, clip(body))
		}
	}
	return status, doc.Error, doc.Param
}

// The scope parameter of the scorecard and role-view APIs is checked for the reader (code review
// of 2026-12-07, F1): an engineering token's scope=customer:zz had been a 400 listing every
// customer, scope=plan:zz every subscription plan (revenue data it lacks revenue:read for), and a
// 200 for a real one had said it existed. A dimension none of the reader's metrics can be
// broken down by is refused naming scope, and says the same for a real value as for a made-up
// one; a reader whose metrics do break down by it is told the values those breakdowns show.
func TestScopeAPIChecksTheReader(t *testing.T) {
	e := customerEnv(t)
	// A subscription's segment: a line of NRR's breakdown (revenue), not of support's ticket
	// metrics.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"subscription","id":"s-ent","customer":"hooli","started_at":"2025-06-01T00:00:00Z","mrr":900,"plan":"pro","segment":"enterprise"}` + "\n"})
	for _, base := range []string{"/api/v1/scorecard?as_of=" + asOf, "/api/v1/views/engineering?as_of=" + asOf} {
		for _, dim := range []string{"customer", "plan"} {
			var msgs []string
			for _, v := range []string{"zz", map[string]string{"customer": "acme", "plan": "pro"}[dim]} {
				p := base + "&scope=" + dim + ":" + v
				status, msg, param := e.apiErrorAs(t, "engineering", p)
				if status != 400 || param != "scope" || !strings.Contains(msg, "none of the metrics you may see can be broken down by \""+dim+"\"") {
					t.Errorf("%s as engineering: %d %q (param %q), want a 400 naming scope and the dimension", p, status, msg, param)
				}
				for _, secret := range []string{"known", "acme", "initech", "globex", "pro,"} {
					if secret != v && strings.Contains(msg, secret) {
						t.Errorf("%s as engineering names %q: %s", p, secret, msg)
					}
				}
				msgs = append(msgs, strings.ReplaceAll(msg, v, "VALUE"))
			}
			if msgs[0] != msgs[1] {
				t.Errorf("%s%s: a real value and a made-up one answered apart:\n%s\n%s", base, dim, msgs[0], msgs[1])
			}
		}
	}
	// Support's ticket metrics break down by customer, and logo churn by plan: it is told those.
	if _, msg, _ := e.apiErrorAs(t, "support", "/api/v1/scorecard?as_of="+asOf+"&scope=customer:zz"); !strings.Contains(msg, "(known: acme, initech)") {
		t.Errorf("customer:zz as support: %q, want the ticket customers", msg)
	}
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&scope=customer:acme", status: 200})
	// Its segment metrics read tickets: the subscriptions' enterprise segment is not among the
	// known ones, and naming it answers as a made-up segment does.
	_, zz, _ := e.apiErrorAs(t, "support", "/api/v1/scorecard?as_of="+asOf+"&scope=segment:zz")
	status, ent, _ := e.apiErrorAs(t, "support", "/api/v1/scorecard?as_of="+asOf+"&scope=segment:enterprise")
	if status != 400 || strings.Contains(zz, "enterprise") || strings.ReplaceAll(ent, "enterprise", "zz") != zz {
		t.Errorf("segment as support: %d %q, and for zz %q; want the same refusal, no enterprise", status, ent, zz)
	}
	// The executive sees NRR: enterprise is a segment there.
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&scope=segment:enterprise", status: 200})
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&scope=segment:zz", status: 400,
		contains: []string{"enterprise"}, fields: map[string]string{"param": "scope"}})
}

// The escalations API's scope and an annotation's are checked for the reader the same way: they
// had listed customers and plans to an engineering token too.
func TestEscalationAndAnnotationScopesCheckTheReader(t *testing.T) {
	e := customerEnv(t)
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	for _, dim := range []string{"customer", "plan"} {
		status, msg, param := e.apiErrorAs(t, "engineering", "/api/v1/escalations?as_of="+asOf+"&scope="+dim+":zz")
		if status != 400 || param != "scope" || strings.Contains(msg, "known") || !strings.Contains(msg, "broken down by \""+dim+"\"") {
			t.Errorf("escalations scope=%s:zz as engineering: %d %q (param %q)", dim, status, msg, param)
		}
		st, raw, _ := e.call(t, "POST", "/api/v1/annotations", `{"name":"x","kind":"launch","from":"2026-03-10","to":"2026-03-12","scope":"`+dim+`:zz"}`, "application/json", eng)
		if st != 400 || strings.Contains(string(raw), "known") || !strings.Contains(string(raw), `"param": "scope"`) ||
			!strings.Contains(string(raw), "scope: none of the metrics you may see") {
			t.Errorf("annotation scope %s:zz as engineering: %d %s", dim, st, clip(raw))
		}
	}
	// Support's ticket metrics break down by customer: it is told the known ones.
	if _, msg, _ := e.apiErrorAs(t, "support", "/api/v1/escalations?as_of="+asOf+"&scope=customer:zz"); !strings.Contains(msg, "(known: acme, initech)") {
		t.Errorf("escalations customer:zz as support: %q", msg)
	}
	// A silence's scope too (the session review of 2026-12-07): it had listed the customers and
	// plans to an engineering token, and a 201 for a real customer had said it existed.
	for _, scope := range []string{"customer:zz", "customer:acme", "plan:zz", "plan:pro"} {
		st, raw, _ := e.call(t, "POST", "/api/v1/alerts/silences", `{"metric":"change_failure_rate","scope":"`+scope+`","reason":"x","for":"2d"}`, "application/json", eng)
		if st != 400 || strings.Contains(string(raw), "known") || strings.Contains(string(raw), "initech") || !strings.Contains(string(raw), `"param": "scope"`) {
			t.Errorf("silence scope %s as engineering: %d %s", scope, st, clip(raw))
		}
	}
}

// A metric's drill-down checks its scope against the values its own breakdown shows: a reader of
// SLA adherence had been told the segments only subscriptions carry (the code review of
// 2026-12-07, F1's leftover), on the API and the page.
func TestMetricScopeNamesItsOwnValues(t *testing.T) {
	e := customerEnv(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"subscription","id":"s-ent","customer":"hooli","started_at":"2025-06-01T00:00:00Z","mrr":900,"plan":"pro","segment":"enterprise"}` + "\n"})
	base := "/api/v1/metrics/sla_adherence?as_of=" + asOf + "&scope=segment:"
	_, zz, zzParam := e.apiErrorAs(t, "support", base+"zz")
	status, ent, _ := e.apiErrorAs(t, "support", base+"enterprise")
	if zzParam != "scope" || strings.Contains(zz, "enterprise") || status != 400 || strings.ReplaceAll(ent, "enterprise", "zz") != zz {
		t.Errorf("SLA adherence by segment as support: zz %q (param %q), enterprise %d %q; want the same refusal naming scope, no enterprise", zz, zzParam, status, ent)
	}
	sup := caller{name: "support", roles: []string{"support"}, token: e.roleToken(t, "support")}
	if page := e.page(t, sup, "/metrics/sla_adherence?as_of="+asOf+"&scope=segment:zz", 400); strings.Contains(page, "enterprise") {
		t.Errorf("the SLA adherence page names the subscriptions' segment")
	}
	// NRR breaks down by the subscriptions' segment: enterprise is one of its values.
	e.run(t, scenario{url: "/api/v1/metrics/nrr?as_of=" + asOf + "&scope=segment:zz", status: 400, contains: []string{"enterprise"}, fields: map[string]string{"param": "scope"}})
}

// A scope naming a dimension no metric has is the client's mistake of the
// scope parameter (400 naming scope and the dimensions), not a store
// failure, whichever read reaches checkScopeAs with it.
func TestCheckScopeAsNamesAnUnknownDimension(t *testing.T) {
	ds := metrics.NewDataset(metrics.DefaultConfig())
	err := checkScopeAs(ds, metrics.Scope{Dim: "colour", Value: "red"}, "")
	var de *domain.Error
	if !errors.As(err, &de) || de.Param != "scope" || domain.CodeOf(err) != domain.EInvalid || !strings.Contains(err.Error(), `"colour" is not a dimension`) {
		t.Errorf("checkScopeAs of colour:red: %v", err)
	}
}
