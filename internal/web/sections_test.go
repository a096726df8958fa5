package web

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/governance"
)

// TestSectionProposalAPI: a governed section (the alert rules) is proposed
// through the API with its value as JSON; a bad rule is 400 naming the
// value; the proposer's approval is 403 naming the rule; another
// executive's puts it in force, and the section's history lists it.
func TestSectionProposalAPI(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	tokenFor := func(email string) string {
		secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "s-" + strings.Split(email, "@")[0], Roles: []string{"executive"}, Owner: email})
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + secret
	}
	ann, bob := tokenFor("ann@example.com"), tokenFor("bob@example.com")
	post := func(path, body, who string) (int, map[string]any) {
		t.Helper()
		status, b, _ := e.do(t, "POST", path, body, map[string]string{"Authorization": who})
		var doc map[string]any
		json.Unmarshal(b, &doc)
		return status, doc
	}
	status, doc := post("/api/v1/proposals", `{"section":"alerts.rules","value":[{"name":"x","kind":"status","metric":"no_such_metric"}],"reason":"r"}`, ann)
	if status != 400 || doc["param"] != "value" || !strings.Contains(doc["error"].(string), "no_such_metric") {
		t.Errorf("a bad rule: %d %v", status, doc)
	}
	status, p := post("/api/v1/proposals", `{"section":"alerts.rules","value":[{"name":"mttr_red","kind":"status","metric":"mttr","statuses":["red"]}],"reason":"recovery is watched"}`, ann)
	if status != 201 || p["section"] != "alerts.rules" || p["status"] != "open" {
		t.Fatalf("POST a section: %d %v", status, p)
	}
	id := jsonString(p["id"])
	status, doc = post("/api/v1/proposals/"+id+"/approve", `{"reason":"mine"}`, ann)
	if status != 403 || !strings.Contains(doc["error"].(string), "an approver must not be the proposer") {
		t.Fatalf("own approval: %d %v", status, doc)
	}
	if status, doc = post("/api/v1/proposals/"+id+"/approve", `{"reason":"agreed"}`, bob); status != 200 || doc["status"] != "approved" {
		t.Fatalf("approval: %d %v", status, doc)
	}
	status, b, _ := e.do(t, "GET", "/api/v1/sections/alerts.rules/history", "", map[string]string{"Authorization": bob})
	var h struct {
		Versions []struct {
			Proposal int64
			Value    json.RawMessage
			Source   string
		}
		Proposals []map[string]any
	}
	if err := json.Unmarshal(b, &h); err != nil || status != 200 || len(h.Versions) != 1 || !strings.Contains(h.Versions[0].Source, "mttr_red") || len(h.Proposals) != 1 {
		t.Fatalf("history: %d %s", status, b)
	}
	if status, _, _ := e.do(t, "GET", "/api/v1/sections/metrics/history", "", map[string]string{"Authorization": bob}); status != 404 {
		t.Errorf("an unknown section: %d", status)
	}
}

// TestSectionProposalForm: the proposals page offers those who may
// propose a form for a section's text; a text the configuration's checks
// refuse shows the page again (400) with the error naming the line, the
// text kept; a good one is recorded as a section proposal; without the
// CSRF token nothing is, and a role that may not propose gets no form
// and 403.
func TestSectionProposalForm(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "sue@example.com", "support")
	ann, sue := signIn(t, e.srv.Auth, "ann@example.com"), signIn(t, e.srv.Auth, "sue@example.com")
	page := func(l auth.Login, method, path string, form url.Values, csrf bool) (int, string) {
		t.Helper()
		cl := caller{cookie: l.Secret}
		if csrf {
			cl.csrf = l.Principal.CSRFToken()
		}
		ctype := ""
		if form != nil {
			ctype = formType
		}
		status, body, _ := e.call(t, method, path, form.Encode(), ctype, cl)
		return status, string(body)
	}
	if _, body := page(ann, "GET", "/proposals", nil, true); !strings.Contains(body, `id="propose-section"`) || !strings.Contains(body, "alerts.rules") {
		t.Fatalf("the page offers an executive no section form")
	} else if !strings.Contains(body, `<option value="gates">gates: the release gate policies`) || strings.Contains(body, "name: cfr_red") {
		// Each section says what it holds; the text's placeholder is no
		// one section's example (an alerts rule had sat below custom_metrics).
		t.Errorf("the section form's choices do not say what each holds, or its placeholder is an alerts example")
	}
	bad := "alerts:\n  rules:\n    - name: nope\n      kind: status\n      metric: no_such_metric\n"
	form := url.Values{"kind": {"section"}, "section": {"alerts.rules"}, "file": {"rules.yaml"}, "text": {bad}, "reason": {"more alerts"}}
	status, body := page(ann, "POST", "/proposals", form, true)
	if status != 400 || !strings.Contains(body, "rules.yaml:5") || !strings.Contains(body, "no_such_metric") ||
		!strings.Contains(body, "metric: no_such_metric\n</textarea>") {
		t.Errorf("a bad rule through the form: %d, want 400 naming rules.yaml:5 and keeping the text\n%s", status, body)
	}
	if n := strings.Count(body, `value="more alerts"`); n != 1 {
		t.Errorf("the refused section's reason is in %d fields, want its own form's only", n)
	}
	// The organisation's metrics are a section too: a type error in an
	// expression is named with its line and column.
	custom := "custom_metrics:\n  - id: failed_deploys\n    name: Failed deployments\n    pillar: delivery\n" +
		"    description: Deployments that failed.\n    owner: VP Engineering\n    unit: count\n    better: lower\n" +
		"    thresholds: {green: 1, amber: 3}\n    kind: deployment\n    time: finished_at\n    filter: status > 3\n    aggregate: count\n"
	status, body = page(ann, "POST", "/proposals", url.Values{"kind": {"section"}, "section": {"custom_metrics"}, "file": {"metrics.yaml"},
		"text": {custom}, "reason": {"failures"}}, true)
	if status != 400 || !strings.Contains(body, "metrics.yaml:12:20: custom metric &#34;failed_deploys&#34;: filter:") {
		t.Errorf("a custom metric's type error through the form: %d, want 400 naming metrics.yaml, line 12, column 20\n%s", status, body)
	}
	form.Set("text", "alerts:\n  rules:\n    - {name: mttr_red, kind: status, metric: mttr, statuses: [red]}\n")
	if status, _ = page(ann, "POST", "/proposals", form, false); status != 403 {
		t.Errorf("the form without its CSRF token: %d, want 403", status)
	}
	if status, _ = page(sue, "POST", "/proposals", form, true); status != 403 {
		t.Errorf("support proposing a section: %d, want 403", status)
	}
	if _, body = page(sue, "GET", "/proposals", nil, true); strings.Contains(body, `id="propose-section"`) {
		t.Errorf("support is offered the section form")
	}
	sections := func() []governance.View {
		t.Helper()
		list, err := e.srv.Governance.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(list, func(v governance.View) bool { return v.Section == "" })
	}
	if list := sections(); len(list) != 0 {
		t.Fatalf("refused forms recorded section proposals: %+v", list)
	}
	if status, _ = page(ann, "POST", "/proposals", form, true); status != 303 {
		t.Fatalf("a good section through the form: %d", status)
	}
	if list := sections(); len(list) != 1 || list[0].Section != "alerts.rules" || list[0].File != "rules.yaml" || !strings.Contains(list[0].Source, "mttr_red") {
		t.Errorf("the recorded proposal: %+v", list)
	}
}

// A section's text is read within the reader's grants, as the metrics it
// concerns are: an alert rule's threshold on MRR (a revenue figure) or a
// revenue metric among the organisation's own is not shown to a role
// without revenue:read — not in the proposals, not in the section's
// history, where the version says it is withheld — while a section
// concerning only metrics the reader sees stays whole.
func TestSectionWithinGrants(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	addUser(t, e.srv.Auth, "eve@example.com", "engineering")
	tokenFor := func(email, role string) map[string]string {
		secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "w-" + strings.Split(email, "@")[0], Roles: []string{role}, Owner: email})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"Authorization": "Bearer " + secret}
	}
	ann, bob, eve := tokenFor("ann@example.com", "executive"), tokenFor("bob@example.com", "executive"), tokenFor("eve@example.com", "engineering")
	propose := func(body string) string {
		t.Helper()
		status, b, _ := e.do(t, "POST", "/api/v1/proposals", body, ann)
		var doc map[string]any
		json.Unmarshal(b, &doc)
		if status != 201 {
			t.Fatalf("POST %s: %d %s", body, status, b)
		}
		return jsonString(doc["id"])
	}
	floor := propose(`{"section":"alerts.rules","value":[{"name":"mrr_floor","kind":"threshold","metric":"mrr","op":"<","value":987654}],"reason":"the board's floor"}`)
	if status, b, _ := e.do(t, "POST", "/api/v1/proposals/"+floor+"/approve", `{"reason":"agreed"}`, bob); status != 200 {
		t.Fatalf("approval: %d %s", status, b)
	}
	deals := propose(`{"section":"custom_metrics","value":[{"id":"big_deals","name":"Big deals","pillar":"growth","description":"Deals won over 50,000.","owner":"CRO","unit":"count","better":"higher","thresholds":{"green":777777,"amber":555555},"kind":"opportunity","time":"closed_at","aggregate":"count"}],"reason":"watch the big ones"}`)
	mttr := propose(`{"section":"views","value":[{"id":"sre","name":"SRE","metrics":["mttr"]}],"reason":"an SRE view"}`)

	for _, path := range []string{"/api/v1/proposals", "/api/v1/sections/alerts.rules/history", "/api/v1/sections/custom_metrics/history", "/api/v1/proposals/" + floor, "/api/v1/proposals/" + deals} {
		status, b, _ := e.do(t, "GET", path, "", eve)
		if strings.Contains(string(b), "987654") || strings.Contains(string(b), "777777") || strings.Contains(string(b), "mrr_floor") {
			t.Errorf("engineering reads the revenue figure at %s: %d %s", path, status, b)
		}
	}
	_, b, _ := e.do(t, "GET", "/api/v1/proposals", "", eve)
	if !strings.Contains(string(b), `"id": `+mttr) {
		t.Errorf("engineering does not see the proposal of a view of metrics it may see: %s", b)
	}
	_, b, _ = e.do(t, "GET", "/api/v1/sections/alerts.rules/history", "", eve)
	if !strings.Contains(string(b), "concerns metric mrr, which your roles may not see") {
		t.Errorf("the withheld version does not say so: %s", b)
	}
	for _, path := range []string{"/api/v1/sections/alerts.rules/history", "/api/v1/proposals/" + deals} {
		if _, b, _ := e.do(t, "GET", path, "", bob); !strings.Contains(string(b), "987654") && !strings.Contains(string(b), "777777") {
			t.Errorf("an executive does not read %s whole: %s", path, b)
		}
	}
}

// TestSectionProposalSaysWhatChanges: a section proposal is the whole
// section's text, so whoever decides it is shown the fields it changes
// against the value in force (an alert rule's statuses, a rule added),
// not only how many lines it has; once approved, against the value it
// replaced.
func TestSectionProposalSaysWhatChanges(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	ctx := context.Background()
	g := e.srv.Governance
	first, err := g.Propose(ctx, governance.Input{Section: "alerts.rules", Reason: "watch recovery",
		Value: json.RawMessage(`[{"name":"mttr_red","kind":"status","metric":"mttr","statuses":["red"]}]`)}, "user:ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Decide(ctx, first.ID, "approve", "agreed", "user:bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Propose(ctx, governance.Input{Section: "alerts.rules", Reason: "amber too, and failures",
		Value: json.RawMessage(`[{"name":"cfr_red","kind":"status","metric":"change_failure_rate","statuses":["red"]},` +
			`{"name":"mttr_red","kind":"status","metric":"mttr","statuses":["red","amber"]}]`)}, "user:ann@example.com"); err != nil {
		t.Fatal(err)
	}
	bob := signIn(t, e.srv.Auth, "bob@example.com")
	status, b, _ := e.call(t, "GET", "/proposals", "", "", caller{cookie: bob.Secret})
	body := html.UnescapeString(string(b))
	for _, want := range []string{
		"against the value in force:",
		`alerts.rules[mttr_red].statuses: ["red"] → ["red","amber"]`,
		"alerts.rules[cfr_red].metric: change_failure_rate (added)",
		"against the value it replaced:",
		"alerts.rules[mttr_red].statuses: [\"red\"] (added)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%d: the proposals page does not say %q", status, want)
		}
	}
	// The open proposal comes first; what it leaves as it is goes unsaid.
	open, _, _ := strings.Cut(body, "against the value it replaced:")
	if strings.Contains(open, "alerts.rules[mttr_red].kind") {
		t.Errorf("the page lists a field the open proposal leaves as it is")
	}
	// A section proposal records no standing: no empty "When proposed".
	for rest := body; ; {
		k := strings.Index(rest, ">Section alerts.rules</a>")
		if k < 0 {
			break
		}
		item, _, _ := strings.Cut(rest[k:], "Proposed by")
		if strings.Contains(item, "When proposed") {
			t.Errorf("a section proposal shows an empty \"When proposed\": %s", item)
		}
		rest = rest[k+1:]
	}
}

// TestDroppedCustomMetricHistory: the history of an organisation's metric
// that an approved custom_metrics value dropped is served (it had been
// 404, "unknown metric"), within the grants the section's values are read
// in: a reader refused a revenue metric of those values is refused it.
func TestDroppedCustomMetricHistory(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	addUser(t, e.srv.Auth, "eve@example.com", "engineering")
	tokenFor := func(email, role string) map[string]string {
		secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "d-" + strings.Split(email, "@")[0], Roles: []string{role}, Owner: email})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"Authorization": "Bearer " + secret}
	}
	ann, bob, eve := tokenFor("ann@example.com", "executive"), tokenFor("bob@example.com", "executive"), tokenFor("eve@example.com", "engineering")
	decide := func(body string) {
		t.Helper()
		status, b, _ := e.do(t, "POST", "/api/v1/proposals", body, ann)
		var doc map[string]any
		json.Unmarshal(b, &doc)
		if status != 201 {
			t.Fatalf("POST %s: %d %s", body, status, b)
		}
		if status, b, _ := e.do(t, "POST", "/api/v1/proposals/"+jsonString(doc["id"])+"/approve", `{"reason":"agreed"}`, bob); status != 200 {
			t.Fatalf("approval: %d %s", status, b)
		}
	}
	decide(`{"section":"custom_metrics","value":[{"id":"big_deals","name":"Big deals","pillar":"growth","description":"Deals won.","owner":"CRO","unit":"count","better":"higher","thresholds":{"green":7,"amber":5},"kind":"opportunity","time":"closed_at","aggregate":"count"},` +
		`{"id":"ops_count","name":"Deployments","pillar":"delivery","description":"Deployments.","owner":"CTO","unit":"count","better":"higher","thresholds":{"green":7,"amber":5},"kind":"deployment","time":"finished_at","aggregate":"count"}],"reason":"two"}`)
	decide(`{"section":"custom_metrics","value":[],"reason":"none after all"}`)
	status, b, _ := e.do(t, "GET", "/api/v1/metrics/ops_count/history", "", bob)
	var h governance.History
	if err := json.Unmarshal(b, &h); status != 200 || err != nil || h.Section != "custom_metrics" || len(h.Computations) != 2 || !h.Computations[1].Removed {
		t.Fatalf("the dropped metric's history: %d %s", status, b)
	}
	if status, b, _ := e.do(t, "GET", "/api/v1/metrics/ops_count/history", "", eve); status != 403 || strings.Contains(string(b), "Deals won") {
		t.Errorf("engineering reads a history held in values with a revenue metric: %d %s", status, b)
	}
	if status, _, _ := e.do(t, "GET", "/api/v1/metrics/no_such_metric/history", "", bob); status != 404 {
		t.Errorf("an unknown metric's history: %d, want 404", status)
	}
}
