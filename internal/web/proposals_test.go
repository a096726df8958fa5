package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/store"
)

// TestProposalsAPI: a proposal is 201 with its id and the metric's
// standing; its proposer — through a session or a token acting for them —
// cannot approve it (403 naming the rule); another executive can, and the
// metric's history then holds both versions.
func TestProposalsAPI(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	tokenFor := func(email string) string {
		secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "t-" + strings.Split(email, "@")[0], Roles: []string{"executive"}, Owner: email})
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
	status, p := post("/api/v1/proposals", `{"metric":"change_failure_rate","changes":{"target":3},"reason":"the board's goal"}`, ann)
	if status != 201 || p["id"] == nil || p["status"] != "open" || p["by"] != "user:ann@example.com" {
		t.Fatalf("POST /api/v1/proposals: %d %v", status, p)
	}
	if before, _ := p["before"].(map[string]any); before["version"] != 1.0 || before["status"] == nil {
		t.Errorf("the standing when proposed: %v", p["before"])
	}
	id := jsonString(p["id"])
	// The proposer signed in through a page is refused too.
	status, doc := post("/api/v1/proposals/"+id+"/approve", `{"reason":"mine"}`, ann)
	if status != 403 || !strings.Contains(doc["error"].(string), "an approver must not be the proposer") {
		t.Fatalf("own approval: %d %v", status, doc)
	}
	if status, doc := post("/api/v1/proposals/"+id+"/approve", `{}`, bob); status != 400 || doc["param"] != "reason" {
		t.Errorf("approval without a reason: %d %v", status, doc)
	}
	// A service token — acting for no user — is nobody's approval: one
	// holder of tokens:admin could mint two and approve their own change
	// as two people.
	unowned := "Bearer " + newToken(t, e.srv.Auth, "ci-executive", "executive")
	if status, doc := post("/api/v1/proposals/"+id+"/approve", `{"reason":"agreed"}`, unowned); status != 403 || !strings.Contains(doc["error"].(string), "token ci-executive acts for no user") {
		t.Fatalf("a service token's approval: %d %v", status, doc)
	}
	status, doc = post("/api/v1/proposals/"+id+"/approve", `{"reason":"agreed"}`, bob)
	if status != 200 || doc["status"] != "approved" || doc["effective"] == nil {
		t.Fatalf("approval: %d %v", status, doc)
	}
	status, b, _ := e.do(t, "GET", "/api/v1/metrics/change_failure_rate/history", "", nil)
	var h struct {
		Versions []struct {
			Version  int
			Target   *float64
			Proposal int64
		}
		Proposals []map[string]any
	}
	if err := json.Unmarshal(b, &h); err != nil || status != 200 || len(h.Versions) != 2 || h.Versions[1].Target == nil || *h.Versions[1].Target != 3 || len(h.Proposals) != 1 {
		t.Fatalf("history: %d %s", status, b)
	}
	// The metric's page lists every version too (SPEC §5), not only the
	// CLI and the API.
	_, mpage, _ := e.do(t, "GET", "/metrics/change_failure_rate", "", map[string]string{"Authorization": bob})
	hist := html.UnescapeString(regexp.MustCompile(`(?s)<details class="def-history">.*?</details>`).FindString(string(mpage)))
	for _, want := range []string{"Every version of this definition (2)", "<strong>Version 1</strong>, in force from the start (built-in)",
		"<strong>Version 2</strong>, in force from ", "(proposal " + id + ")", "target", "Approved by user:bob@example.com on "} {
		if !strings.Contains(hist, want) {
			t.Errorf("the metric page's definition history lacks %q:\n%s", want, hist)
		}
	}
	for _, c := range []struct{ body, param string }{
		{`{"metric":"change_failure_rate","changes":{"treshold":1},"reason":"r"}`, "changes.treshold"},
		{`{"metric":"change_failure_rate","changes":{"target":4}}`, "reason"},
		{`{"setting":"currency","value":"euro","reason":"r"}`, "value"},
		{`{"setting":"currency","value":"XYZ","reason":"r"}`, "value"},
		{`{"metric":"arr","changes":{"target":-5},"reason":"r"}`, "changes"},
		// Approved, it had brought down every scorecard read (catalog.MaxMetricWindow).
		{`{"metric":"mttr","changes":{"window":"100000d"},"reason":"r"}`, "changes"},
		{`{"metric":"x","colour":"red"}`, "colour"},
	} {
		if status, doc := post("/api/v1/proposals", c.body, ann); status != 400 || doc["param"] != c.param {
			t.Errorf("POST %s: %d %v, want 400 naming %s", c.body, status, doc, c.param)
		}
	}
	// An unknown metric is the body's fault, named as a reconciliation's
	// (400, metric) with the closest the caller may see; a change of the
	// wrong type is worded as the other bodies word theirs, without Go's
	// struct names; a setting proposed at the value in force (the
	// default here, however written) changes nothing: 409, as a metric's.
	annAuth := map[string]string{"Authorization": ann}
	for _, c := range []scenario{
		{body: `{"metric":"change_failure_rat","changes":{"target":1},"reason":"r"}`, status: 400,
			fields: map[string]string{"param": "metric"}, contains: []string{`unknown metric \"change_failure_rat\" (did you mean change_failure_rate?)`}},
		{body: `{"metric":"change_failure_rate","changes":{"target":"x"},"reason":"r"}`, status: 400,
			fields: map[string]string{"param": "changes.target", "error": "changes.target: must be a number, not a JSON string"}},
		{body: `{"metric":"change_failure_rate","changes":{"foo":1},"reason":"r"}`, status: 400,
			fields: map[string]string{"param": "changes.foo"}, contains: []string{"unknown field (changes takes owner, window, target, thresholds", `or {\"retire\": true} alone)`}},
		{body: `{"metric":"change_failure_rate","changes":{"thresholds":{"gren":5}},"reason":"r"}`, status: 400,
			fields: map[string]string{"param": "changes.thresholds.gren"}, contains: []string{"unknown field (changes.thresholds takes green, amber"}},
		{body: `{"setting":"currency","value":"USD","reason":"same"}`, status: 409,
			fields: map[string]string{"code": "conflict"}, contains: []string{`the proposal changes nothing: currency is already \"USD\" in force`}},
		{body: `{"setting":"attribution_window","value":"24h","reason":"same"}`, status: 409, fields: map[string]string{"code": "conflict"}},
	} {
		c.method, c.url, c.headers = "POST", "/api/v1/proposals", annAuth
		e.run(t, c)
	}
	// A setting at its default: the proposal records the default's value,
	// and the page says what the change is from.
	status, p = post("/api/v1/proposals", `{"setting":"gross_margin","value":0.7,"reason":"audited margin"}`, ann)
	if before, _ := p["before"].(map[string]any); status != 201 || before["effective"] != 0.8 {
		t.Fatalf("a gross margin proposal: %d %v", status, p)
	}
	// A window's default is worded as a metric's page words it, not as
	// its JSON in nanoseconds.
	status, doc = post("/api/v1/proposals", `{"setting":"attribution_window","value":"48h","reason":"night incidents"}`, ann)
	if status != 201 {
		t.Fatalf("an attribution window proposal: %d %v", status, doc)
	}
	// In the API too: the value it changes from as the configuration
	// writes it, which can be proposed back, not Go's nanoseconds.
	if before, _ := doc["before"].(map[string]any); before["effective"] != "1d" {
		t.Errorf("an attribution window proposal's before: %v, want effective \"1d\"", doc["before"])
	}
	_, b, _ = e.do(t, "GET", "/api/v1/metrics/change_failure_rate?as_of="+asOf+"&limit=1", "", nil)
	if !strings.Contains(string(b), `"name": "attribution_window",`) || !strings.Contains(string(b), `"value": "1d"`) || strings.Contains(string(b), "86400000000000") {
		t.Errorf("change_failure_rate's definition.settings: attribution_window not \"1d\":\n%.3000s", b)
	}
	_, page, _ := e.do(t, "GET", "/proposals", "", map[string]string{"Authorization": bob})
	// "(the default)" is said in words beside the value, not in code type.
	for _, want := range []string{
		`was <code>0.8</code> <span class="muted">(the default)</span>`,
		`was <code>1d</code> <span class="muted">(the default)</span>`,
		// What a setting changes: the metrics reading it, linked.
		`changes: <a href="/metrics/cac_payback_months">`,
		`<a href="/metrics/ltv">`,
		`<a href="/metrics/change_failure_rate">`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the proposals page lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(string(page), "86400000000000") {
		t.Errorf("the proposals page words a window in nanoseconds")
	}
	// Once approved, the metrics reading it say the value in force and
	// what put it there, where CAC payback's page had still said only
	// that gross margin defaults to 0.8.
	gm := jsonString(p["id"])
	if status, doc := post("/api/v1/proposals/"+gm+"/approve", `{"reason":"agreed"}`, bob); status != 200 {
		t.Fatalf("approving the gross margin: %d %v", status, doc)
	}
	// Pages answer as of the minute: the approval counts from the next.
	next := "?as_of=" + url.QueryEscape(time.Now().UTC().Add(time.Minute).Format(time.RFC3339))
	_, page, _ = e.do(t, "GET", "/metrics/cac_payback_months"+next, "", map[string]string{"Authorization": bob})
	// The proposal that put it in force is a link to it.
	if want := `gross margin 0.7 (<a href="/proposals?proposal=` + gm + `#p-` + gm + `">proposal ` + gm + `</a>, in force from `; !strings.Contains(string(page), want) {
		t.Errorf("CAC payback's page lacks %s", want)
	}
	// The approved setting's proposal says where its history is: the
	// proposals list, not a metric's definition history.
	_, page, _ = e.do(t, "GET", "/proposals?proposal="+gm, "", map[string]string{"Authorization": bob})
	if want := `<code>candor catalog history</code> lists it among every proposal`; !strings.Contains(string(page), want) || !strings.Contains(string(page), `id="p-`+gm+`"`) {
		t.Errorf("the approved gross margin proposal lacks %s:\n%s", want, page)
	}
	_, b, _ = e.do(t, "GET", "/api/v1/metrics/ltv"+next, "", map[string]string{"Authorization": bob})
	var ltv struct {
		Definition struct {
			Settings []struct {
				Name  string
				Value any
				Ref   string
				Since time.Time
			}
		}
	}
	if err := json.Unmarshal(b, &ltv); err != nil || len(ltv.Definition.Settings) == 0 {
		t.Fatalf("GET /api/v1/metrics/ltv: %v\n%.2000s", err, b)
	}
	if s := ltv.Definition.Settings[0]; s.Name != "gross_margin" || s.Value != 0.7 || s.Ref != "proposal "+gm || s.Since.IsZero() {
		t.Errorf("GET /api/v1/metrics/ltv: the gross margin in force is %+v", s)
	}
	if status, _ := post("/api/v1/proposals/999/approve", `{"reason":"x"}`, bob); status != 404 {
		t.Errorf("an unknown proposal: %d", status)
	}
}

// TestProposalsPage: the page lists an open proposal with the metric's
// status when proposed beside the change; its proposer's approval through
// the form is refused on the page, naming the rule; another executive's
// approval redirects to the page saying it is in force.
func TestProposalsPage(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	ann, bob := signIn(t, e.srv.Auth, "ann@example.com"), signIn(t, e.srv.Auth, "bob@example.com")
	page := func(l auth.Login, method, path string, form url.Values) (int, string, http.Header) {
		t.Helper()
		cl := caller{cookie: l.Secret, csrf: l.Principal.CSRFToken()}
		ctype := ""
		if form != nil {
			ctype = formType
		}
		status, body, hdr := e.call(t, method, path, form.Encode(), ctype, cl)
		return status, string(body), hdr
	}
	status, _, hdr := page(ann, "POST", "/proposals", url.Values{"kind": {"metric"}, "metric": {"change_failure_rate"}, "window": {"14d"}, "reason": {"faster signal"}})
	if status != 303 || !strings.HasPrefix(hdr.Get("Location"), "/proposals?done=") {
		t.Fatalf("propose form: %d %v", status, hdr)
	}
	loc := hdr.Get("Location")
	id := loc[strings.LastIndex(loc, "#p-")+3:]
	_, body, _ := page(ann, "GET", loc, nil)
	for _, want := range []string{"Proposal " + id + " recorded", "Change failure rate", "window → 14d", "When proposed", "version 1", "You proposed this"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	status, body, _ = page(ann, "POST", "/proposals/"+id+"/approve", url.Values{"reason": {"mine"}})
	if status != 403 || !strings.Contains(body, "an approver must not be the proposer") {
		t.Errorf("own approval through the form: %d", status)
	}
	status, _, hdr = page(bob, "POST", "/proposals/"+id+"/approve", url.Values{"reason": {"agreed"}})
	if status != 303 {
		t.Fatalf("approval through the form: %d", status)
	}
	if _, body, _ = page(bob, "GET", hdr.Get("Location"), nil); !strings.Contains(body, "Proposal "+id+" approved: in force from") {
		t.Errorf("after approval the page does not say so")
	}
}

// A refused proposal is said where the page comes back (#propose), its
// field at fault marked, focused and tied to the message: it had been
// said at the page's top, above where the browser landed, with no field
// marked.
func TestProposalsPageRefusalMarksTheField(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	ann := signIn(t, e.srv.Auth, "ann@example.com")
	cl := caller{cookie: ann.Secret, csrf: ann.Principal.CSRFToken()}
	post := func(form url.Values) (int, string) {
		status, body, _ := e.call(t, "POST", "/proposals", form.Encode(), formType, cl)
		return status, string(body)
	}
	status, body := post(url.Values{"kind": {"metric"}, "metric": {"mttr"}, "target": {"soon"}, "reason": {"x"}})
	if status != 400 || strings.Index(body, `id="gov-problem"`) < strings.Index(body, `id="propose"`) ||
		!strings.Contains(body, `name="target" inputmode="decimal" aria-invalid="true" aria-describedby="gov-problem" autofocus`) ||
		strings.Count(body, `aria-invalid="true"`) != 1 {
		t.Errorf("a target that is no number: %d, the message or the field not where they belong", status)
	}
	status, body = post(url.Values{"kind": {"setting"}, "setting": {"attribution_window"}, "reason": {"x"}})
	if status != 400 || !strings.Contains(body, `name="value" aria-invalid="true" aria-describedby="gov-problem" autofocus`) ||
		strings.Contains(body, `name="reason" required maxlength="4000" autocomplete="off" aria-invalid`) {
		t.Errorf("a setting without a value: %d, its value field not the one marked", status)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestApproverMustBeExecutive: definitions:approve granted to another role
// in the configuration does not let its holders decide a proposal: 403
// naming the rule, through the API and through the page, and nothing is
// recorded; an executive then decides it.
func TestApproverMustBeExecutive(t *testing.T) {
	perms := []auth.Permission{auth.ScorecardRead, "view:engineering", auth.MetricRead, auth.SourcesRead, auth.DefinitionsApprove}
	e := newEnvRoles(t, 0, map[string]auth.RoleOverride{"engineering": {Permissions: &perms}})
	addUser(t, e.srv.Auth, "eng@example.com", "engineering")
	eng := signIn(t, e.srv.Auth, "eng@example.com")
	cl := caller{cookie: eng.Secret, csrf: eng.Principal.CSRFToken()}
	// seedProposals[0] (mttr, id 2) is open and someone else's.
	apiAs := func(email, role string) caller {
		secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "t-" + role, Roles: []string{role}, Owner: email})
		if err != nil {
			t.Fatal(err)
		}
		return caller{token: secret}
	}
	status, body, _ := e.call(t, "POST", "/api/v1/proposals/2/approve", `{"reason":"fine by me"}`, "application/json", apiAs("eng@example.com", "engineering"))
	if status != 403 || !strings.Contains(string(body), "an approver must hold the executive role") {
		t.Fatalf("approval by a non-executive through the API: %d %s", status, body)
	}
	status, body, _ = e.call(t, "POST", "/proposals/2/reject", url.Values{"reason": {"no"}}.Encode(), formType, cl)
	if status != 403 || !strings.Contains(string(body), "an approver must hold the executive role") {
		t.Fatalf("rejection by a non-executive through the page: %d", status)
	}
	v, err := e.srv.Governance.Get(context.Background(), 2)
	if err != nil || v.Status != "open" || len(v.Approvals) != 0 {
		t.Fatalf("after refused decisions the proposal is %+v (%v); want open, no approvals", v, err)
	}
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	status, body, _ = e.call(t, "POST", "/api/v1/proposals/2/approve", `{"reason":"agreed"}`, "application/json", apiAs("ann@example.com", "executive"))
	if status != 200 {
		t.Fatalf("an executive's approval: %d %s", status, body)
	}
}

// A metric page names its settings' sources after the engine's read: read
// inside it, a governance state newer than this process's (another
// instance approved a setting) reloaded and set the engine's epochs under
// its write lock while the page held its read — and the server hung.
func TestMetricPageAfterAnotherInstanceApproves(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	other := &governance.Registry{Docs: e.store.(store.DocStore), Catalog: base.Governed(), Config: config.Default()}
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := other.Propose(ctx, governance.Input{Setting: "gross_margin", Value: json.RawMessage(`0.7`), Reason: "margin revised"}, "user:ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Decide(ctx, v.ID, "approve", "agreed", "user:bob@example.com"); err != nil {
		t.Fatal(err)
	}
	next := "?as_of=" + url.QueryEscape(time.Now().UTC().Add(time.Minute).Format(time.RFC3339))
	done := make(chan string, 1)
	go func() {
		status, body, _ := e.do(t, "GET", "/metrics/cac_payback_months"+next, "", nil)
		done <- fmt.Sprint(status, " ", string(body))
	}()
	select {
	case got := <-done:
		if !strings.HasPrefix(got, "200 ") || !strings.Contains(got, "gross margin 0.7") {
			t.Errorf("the page after another instance's approval: %.300s", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the metric page hung after another instance approved a setting")
	}
}
