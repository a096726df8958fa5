package web

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/ledger"
)

// TestGateEvaluateAPI: a gate check answers the decision with every
// rule's verdict and the KPIs read with their stamps; an unknown KPI
// escalates unless the facts already satisfy the rule; bad facts are 400
// naming the fact; each decision is a ledger entry; a CI token sees no
// KPI values.
func TestGateEvaluateAPI(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		p, err := gate.Load("gates.yaml", []byte(`
policies:
  - id: cfr
    message: change failure rate too high for anything but a canary
    require: facts.strategy == "canary" || kpi.change_failure_rate < 15.0
`), s.Catalog)
		if err != nil {
			t.Fatal(err)
		}
		s.Gates = gate.NewCurrent(p)
		s.Store.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
		s.Now = func() time.Time { return time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC) }
	})
	post := func(token, body string) (int, map[string]any) {
		t.Helper()
		status, b, _ := e.do(t, "POST", "/api/v1/gates/evaluate", body, map[string]string{"Authorization": "Bearer " + token})
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return status, doc
	}
	req := func(strategy string) string {
		return `{"service":"api","environment":"production","version":"1.2.3","change_request":"CHG-1","facts":{"coverage":"92%","risk_score":10,"strategy":"` + strategy + `"}}`
	}
	status, doc := post(e.token, req("rolling"))
	rules, _ := json.Marshal(doc["rules"])
	if status != 200 || doc["decision"] != "escalate" || !strings.Contains(string(rules), `"rule":"cfr","verdict":"escalate"`) || !strings.Contains(string(rules), "whose status is unknown") {
		t.Fatalf("rolling with an unknown change failure rate: %d %v", status, doc)
	}
	kpis, _ := json.Marshal(doc["kpis"])
	if !strings.Contains(string(kpis), `"id":"change_failure_rate"`) || !strings.Contains(string(kpis), `"definition_version"`) || doc["id"] == nil {
		t.Errorf("KPIs read: %s (id %v)", kpis, doc["id"])
	}
	if status, doc = post(e.token, req("canary")); status != 200 || doc["decision"] != "allow" {
		t.Errorf("canary: %d %v", status, doc)
	}
	for _, c := range []struct{ body, param, says string }{
		{`{"service":"api","environment":"production","version":"1","facts":{"coverage":92}}`, "facts.coverage", ""},
		{`{"service":"api","environment":"production","version":"1","facts":{"size":3}}`, "facts.size", ""},
		{`{"environment":"production","version":"1"}`, "service", ""},
		{`{"service":"api","environment":"production","version":"1","colour":"red"}`, "colour", ""},
		{`{"service":"api","environment":"production","version":"1","facts":{"coverage":0.9,"time":"yesterday"}}`, "facts.time", "RFC 3339"},
		// The type wanted is the field's own, named as the body names it.
		{`{"service":"api","environment":"production","version":"1","facts":[]}`, "facts", "must be an object, not a JSON array"},
		{`{"service":"api","environment":"production","version":"1","facts":"x"}`, "facts", "must be an object, not a JSON string"},
		{`{"service":"api","environment":"production","version":1}`, "version", "must be a string, not a JSON number"},
		// A fact given twice is not silently the last.
		{`{"service":"api","environment":"production","version":"1","facts":{"coverage":0.92,"coverage":0.1}}`, "facts.coverage", "given twice"},
		// An emergency bypass only by its word.
		{`{"service":"api","environment":"production","version":"1","facts":{"emergency":1}}`, "facts.emergency", "not true or false"},
	} {
		status, doc := post(e.token, c.body)
		if status != 400 || doc["param"] != c.param || !strings.Contains(fmt.Sprint(doc["error"]), c.says) {
			t.Errorf("%s: %d %v, want 400 naming %s (%q)", c.body, status, doc, c.param, c.says)
		}
	}
	// Both decisions are in the ledger.
	_, b, _ := e.do(t, "GET", "/api/v1/ledger", "", nil)
	if n := strings.Count(string(b), `"type": "gate_decision"`) + strings.Count(string(b), `"type":"gate_decision"`); n != 2 {
		t.Errorf("ledger holds %d gate decisions, want 2", n)
	}
	_, b, _ = e.do(t, "GET", "/api/v1/gates/decisions?service=api", "", nil)
	var list struct{ Decisions []gate.Result }
	if json.Unmarshal(b, &list); len(list.Decisions) != 2 || list.Decisions[0].Decision != gate.Allow || list.Decisions[0].Release.ChangeRequest != "CHG-1" {
		t.Errorf("decisions: %s", b)
	}
	// The deployment arrives after the decisions: its page shows them.
	if status, b, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"deployment","id":"rel-123","service":"api","environment":"production","version":"1.2.3","finished_at":"2026-03-30T10:00:00Z","status":"success"}`, nil); status != 200 {
		t.Fatalf("POST deployment: %d %s", status, b)
	}
	status, b, _ = e.do(t, "GET", "/records/deployment/import/rel-123", "", nil)
	page := string(b)
	if status != 200 || !strings.Contains(page, "Release gate") || strings.Count(page, "gate__decision--") != 2 ||
		!strings.Contains(page, "gate__decision--escalate") || !strings.Contains(page, "change failure rate too high") && !strings.Contains(page, "whose status is unknown") {
		t.Errorf("deployment page: %d\n%s", status, page)
	}
	// A CI token reads no numbers: the status stays, the value goes.
	ci := newToken(t, e.srv.Auth, "ci", "ingest")
	_, doc = post(ci, req("rolling"))
	k := doc["kpis"].([]any)[0].(map[string]any)
	if k["value"] != nil || k["status"] != "unknown" {
		t.Errorf("CI token sees %v", k)
	}
	// The deployment gives the service a change failure rate: the CI
	// token is told its value is hidden, not left to read null as no data.
	cfr := func(doc map[string]any) map[string]any {
		for _, k := range doc["kpis"].([]any) {
			if k := k.(map[string]any); k["id"] == "change_failure_rate" {
				return k
			}
		}
		t.Fatalf("no change_failure_rate in %v", doc)
		return nil
	}
	if _, doc = post(e.token, req("rolling")); cfr(doc)["value"] == nil || cfr(doc)["hidden"] != nil {
		t.Errorf("executive's KPI: %v", cfr(doc))
	}
	if _, doc = post(ci, req("rolling")); cfr(doc)["value"] != nil || cfr(doc)["hidden"] != true {
		t.Errorf("CI token's KPI with a value: %v", cfr(doc))
	}
}

// TestGateApprovalAPI: the pipeline's token polls its escalated decision
// (pending); it may not approve it; an executive approves with a reason
// and the decision reads approved, in the ledger too.
func TestGateApprovalAPI(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		s.Store.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	})
	ci := map[string]string{"Authorization": "Bearer " + e.roleToken(t, "ingest")}
	exec := map[string]string{"Authorization": "Bearer " + e.roleToken(t, "executive")}
	status, b, _ := e.do(t, "POST", "/api/v1/gates/evaluate", `{"service":"api","environment":"production","version":"2.0.0","facts":{"coverage":0.9,"risk_score":90,"strategy":"canary"}}`, ci)
	var d gate.Result
	if err := json.Unmarshal(b, &d); err != nil || status != 200 || d.Decision != gate.Escalate || d.State != gate.StatePending {
		t.Fatalf("evaluate: %d %s", status, b)
	}
	path := "/api/v1/gates/decisions/" + strconv.FormatInt(d.ID, 10)
	read := func(b []byte) gate.Result {
		var r gate.Result
		json.Unmarshal(b, &r)
		return r
	}
	if status, b, _ = e.do(t, "GET", path, "", ci); status != 200 || read(b).State != gate.StatePending {
		t.Errorf("poll: %d %s", status, b)
	}
	if status, b, _ = e.do(t, "POST", path+"/approve", `{"reason":"mine"}`, ci); status != 403 {
		t.Errorf("requester approving: %d %s", status, b)
	}
	// Nor may a service token, acting for no user (auth.Decider).
	service := map[string]string{"Authorization": "Bearer " + newToken(t, e.srv.Auth, "release-bot", "executive")}
	if status, b, _ = e.do(t, "POST", path+"/approve", `{"reason":"automated"}`, service); status != 403 || !strings.Contains(string(b), "token release-bot acts for no user") {
		t.Errorf("a service token approving: %d %s", status, b)
	}
	if status, b, _ = e.do(t, "POST", path+"/approve", `{}`, exec); status != 400 || !strings.Contains(string(b), "reason") {
		t.Errorf("no reason: %d %s", status, b)
	}
	if status, b, _ = e.do(t, "POST", path+"/approve", `{"reason":"risk accepted for the hotfix"}`, exec); status != 200 || read(b).State != gate.StateApproved {
		t.Errorf("approve: %d %s", status, b)
	}
	if status, b, _ = e.do(t, "GET", path, "", ci); read(b).Approval == nil || read(b).Approval.Reason != "risk accepted for the hotfix" || read(b).Approval.By != "user:role-executive@example.com" {
		t.Errorf("poll after approval: %d %s", status, b)
	}
	if status, _, _ = e.do(t, "POST", path+"/reject", `{"reason":"changed my mind"}`, exec); status != 409 {
		t.Errorf("second decision: %d", status)
	}
	_, b, _ = e.do(t, "GET", "/api/v1/ledger", "", nil)
	if !strings.Contains(string(b), "gate_approval") {
		t.Errorf("no gate_approval in the ledger")
	}
	// The deployment's page shows the approval once the record arrives.
	if status, b, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"deployment","id":"rel-200","service":"api","environment":"production","version":"2.0.0","finished_at":"2026-03-30T10:00:00Z","status":"success"}`, nil); status != 200 {
		t.Fatalf("POST deployment: %d %s", status, b)
	}
	if _, b, _ = e.do(t, "GET", "/records/deployment/import/rel-200", "", nil); !strings.Contains(string(b), "by user:role-executive@example.com") || !strings.Contains(string(b), "risk accepted for the hotfix") {
		t.Errorf("the deployment's page does not show the approval")
	}
}

// A post-deploy watch's deployment on /gates links to its record page, as
// deployments do elsewhere, for a reader who may read deployments; it was
// plain text ("payments import/dep-0009768").
func TestGatesWatchLinksItsDeployment(t *testing.T) {
	e := newEnv(t, 0)
	w := gate.Watch{Deployment: "import/dep-9768", Service: "payments", Environment: "production", Outcome: gate.WatchInconclusive,
		Reason: "no traffic data in the observation period (sli): not judged, and not a pass", At: time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)}
	body, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.AppendDocOnce(context.Background(), gate.WatchCollection, "import/dep-9768", body); err != nil {
		t.Fatal(err)
	}
	p := e.page(t, e.sessionAs(t, "executive"), "/gates", 200)
	i := strings.Index(p, `id="sec-watch"`)
	if i < 0 {
		t.Fatal("no post-deploy watch section")
	}
	mustContain(t, "the watches", p[i:], []string{`payments <a href="/records/deployment/import/dep-9768">import/dep-9768</a>`})
}

// A decision refused on the gates page (no reason) comes back at the
// decision, its reason field marked, focused and tied to the message: the
// form had posted to an address without the decision's fragment, and the
// page came back at its top.
func TestGatesPageRefusedDecisionComesBackAtIt(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		s.Store.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	})
	ci := map[string]string{"Authorization": "Bearer " + e.roleToken(t, "ingest")}
	status, b, _ := e.do(t, "POST", "/api/v1/gates/evaluate", `{"service":"api","environment":"production","version":"2.0.0","facts":{"coverage":0.9,"risk_score":90,"strategy":"canary"}}`, ci)
	var d gate.Result
	if err := json.Unmarshal(b, &d); err != nil || status != 200 || d.Decision != gate.Escalate {
		t.Fatalf("evaluate: %d %s", status, b)
	}
	id := strconv.FormatInt(d.ID, 10)
	exec := e.sessionAs(t, "executive")
	page := e.page(t, exec, "/gates", 200)
	if !strings.Contains(page, `action="/gates/`+id+`/approve#g-`+id+`"`) || !strings.Contains(page, `formaction="/gates/`+id+`/reject#g-`+id+`"`) {
		t.Errorf("the decision's forms post without its fragment")
	}
	st, body, _ := e.post(t, exec, "/gates/"+id+"/approve", url.Values{"reason": {""}})
	if st != 400 || !strings.Contains(body, `id="problem-`+id+`" role="alert"`) || !strings.Contains(body, `aria-invalid="true" aria-describedby="problem-`+id+`" autofocus`) {
		t.Errorf("a decision without a reason: %d, the field not marked", st)
	}
}

// The decisions come a page at a time, newest first: limit (default 100,
// at most 1,000) and next, the before that asks for the following page,
// absent on the last; a decision recorded meanwhile does not shift them.
func TestGateDecisionsPages(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		p, err := gate.Load("gates.yaml", []byte("policies:\n  - id: any\n    message: always\n    require: \"true\"\n"), s.Catalog)
		if err != nil {
			t.Fatal(err)
		}
		s.Gates = gate.NewCurrent(p)
		s.Now = func() time.Time { return time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC) }
	})
	evaluate := func(version string) {
		t.Helper()
		if status, b, _ := e.do(t, "POST", "/api/v1/gates/evaluate", `{"service":"api","environment":"production","version":"`+version+`"}`, nil); status != 200 {
			t.Fatalf("evaluate %s: %d %s", version, status, b)
		}
	}
	for _, v := range []string{"1", "2", "3", "4", "5"} {
		evaluate(v)
	}
	type page struct {
		Decisions []gate.Result
		Limit     int
		Next      *int64
	}
	get := func(q string) page {
		t.Helper()
		status, b, _ := e.do(t, "GET", "/api/v1/gates/decisions"+q, "", nil)
		var p page
		if err := json.Unmarshal(b, &p); status != 200 || err != nil {
			t.Fatalf("GET %s: %d %s", q, status, b)
		}
		return p
	}
	versions := func(p page) string {
		var vs []string
		for _, d := range p.Decisions {
			vs = append(vs, d.Release.Version)
		}
		return strings.Join(vs, ",")
	}
	// The environment holds four billing decisions, older than these.
	if p := get(""); p.Limit != 100 || p.Next != nil || versions(p) != "5,4,3,2,1,0.9.3,0.9.2,0.9.1,0.9.0" {
		t.Errorf("default page: limit %d next %v versions %s", p.Limit, p.Next, versions(p))
	}
	var got []string
	q := "?service=api&limit=2"
	for i := 0; i < 5; i++ {
		p := get(q)
		got = append(got, versions(p))
		if p.Next == nil {
			break
		}
		if i == 0 {
			evaluate("6") // newer than every page still to read
		}
		q = "?service=api&limit=2&before=" + strconv.FormatInt(*p.Next, 10)
	}
	if strings.Join(got, " | ") != "5,4 | 3,2 | 1" {
		t.Errorf("pages of 2: %s, want 5,4 | 3,2 | 1", strings.Join(got, " | "))
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "before=0", "before=x"} {
		param := strings.SplitN(q, "=", 2)[0]
		e.run(t, scenario{name: q, url: "/api/v1/gates/decisions?" + q, status: 400, fields: map[string]string{"param": param}})
	}
}

// The gates page warns of policies in force (the configured file's, which
// no proposal checked) that name a service no record names: what they
// scope never applies. A known service's scope draws no warning.
func TestGatesPageWarnsOfUnknownServices(t *testing.T) {
	for _, c := range []struct {
		scope string
		warn  bool
	}{{"[apii]", true}, {"[api]", false}} {
		e := newEnvWith(t, 0, func(s *Server, _ string) {
			p, err := gate.Load("gates.yaml", []byte("policies:\n  - id: api-cfr\n    require: kpi.change_failure_rate <= 0.2\n    scope: {services: "+c.scope+"}\n"), s.Catalog)
			if err != nil {
				t.Fatal(err)
			}
			s.Gates = gate.NewCurrent(p)
		})
		p := e.page(t, e.sessionAs(t, "executive"), "/gates", 200)
		warned := strings.Contains(p, `id="unknown-services"`)
		if warned != c.warn {
			t.Errorf("scope %s: warned %v, want %v", c.scope, warned, c.warn)
		}
		if c.warn {
			mustContain(t, "the warning", p, []string{`policies api-cfr scope names service &#34;apii&#34;, of which Candor has no record (did you mean &#34;api&#34;?)`})
		}
	}
}

// A decision about a service Candor has no record of carries its warning
// in the API's answer and on /gates, beside the rules' verdicts.
func TestGateDecisionWarnsOfUnknownService(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		p, err := gate.Load("gates.yaml", []byte("canary: {enabled: false}\npolicies:\n  - id: any\n    message: always\n    require: \"true\"\n"), s.Catalog)
		if err != nil {
			t.Fatal(err)
		}
		s.Gates = gate.NewCurrent(p)
		s.Now = func() time.Time { return time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC) }
	})
	status, b, _ := e.do(t, "POST", "/api/v1/gates/evaluate", `{"service":"apii","environment":"production","version":"7","facts":{"coverage":0.9,"risk_score":10}}`, nil)
	var res gate.Result
	if err := json.Unmarshal(b, &res); status != 200 || err != nil || len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], `Candor has no record of service "apii"`) {
		t.Fatalf("evaluate: %d %s", status, b)
	}
	p := e.page(t, e.sessionAs(t, "executive"), "/gates", 200)
	mustContain(t, "the decision's warning", p, []string{`<span class="gate__warning">Candor has no record of service &#34;apii&#34;`, `did you mean &#34;api&#34;?`})
	// Escalated, it waits above the decisions, whose list does not then
	// say there is none.
	if status, b, _ := e.do(t, "POST", "/api/v1/gates/evaluate", `{"service":"apii","environment":"production","version":"8","facts":{"coverage":0.9,"risk_score":95}}`, nil); status != 200 || !strings.Contains(string(b), `"escalate"`) {
		t.Fatalf("evaluate: %d %s", status, b)
	}
	p = e.page(t, e.sessionAs(t, "executive"), "/gates?service=api", 200)
	mustContain(t, "the waiting release", p, []string{`<li class="gate__warning"><strong>warning</strong> Candor has no record of service &#34;apii&#34;`, `No gate decision for api beyond those waiting for approval above.`})
}

// TestGatesPageShowsTheNewestWatches: /gates lists the newest 50
// post-deploy watch outcomes and says there are older ones, where it had
// listed every outcome the server ever recorded (one a production
// deployment); a deployment's own page finds its outcome by its key.
func TestGatesPageShowsTheNewestWatches(t *testing.T) {
	e := newEnv(t, 0)
	at := time.Date(2026, 3, 30, 10, 0, 0, 0, time.UTC)
	for i := range 60 {
		w := gate.Watch{Deployment: fmt.Sprintf("import/w-%02d", i), Service: "api", Environment: "production", Outcome: gate.WatchPass,
			Reason: fmt.Sprintf("outcome number %02d", i), At: at.Add(time.Duration(i) * time.Minute)}
		body, _ := json.Marshal(w)
		if _, _, err := e.srv.Store.AppendDocOnce(context.Background(), gate.WatchCollection, w.Deployment, body); err != nil {
			t.Fatal(err)
		}
	}
	cl := e.sessionAs(t, "executive")
	page := e.page(t, cl, "/gates", 200)
	if !strings.Contains(page, "The 50 newest; a deployment's own page shows its outcome.") ||
		!strings.Contains(page, "outcome number 59") || !strings.Contains(page, "outcome number 10") || strings.Contains(page, "outcome number 09") {
		t.Errorf("the watches section does not hold the 50 newest outcomes, saying so")
	}
	if page := e.page(t, cl, "/gates?service=web", 200); !strings.Contains(page, "No deployment judged yet.") {
		t.Errorf("another service's page lists api's outcomes")
	}
	if status, b, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"deployment","id":"w-03","service":"api","environment":"production","finished_at":"2026-03-30T09:00:00Z","status":"success"}`, nil); status != 200 {
		t.Fatalf("POST deployment: %d %s", status, b)
	}
	if page := e.page(t, cl, "/records/deployment/import/w-03", 200); !strings.Contains(page, "outcome number 03") {
		t.Errorf("the deployment's page does not show its watch outcome")
	}
}
