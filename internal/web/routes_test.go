package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/oidc/oidctest"
)

// routeCase is how the route × role test calls a route, and the decision
// it records about who may.
type routeCase struct {
	// who is the route's policy as Policy.String writes it: the decision
	// README's route table states.
	who string
	// path is the request path with its query; empty for the pattern
	// itself. {app.css} stands for the stylesheet's fingerprinted URL.
	path  string
	body  string
	ctype string
	// ok is the status of a caller the policy admits; okAgain, when set,
	// that of the admitted callers after the first (an alert acknowledged
	// by another is a 409, its first acknowledgement kept).
	ok, okAgain int
	// leaves: an admitted caller is sent off this site, to the identity
	// provider's authorisation endpoint.
	leaves bool
	// sees, when set, is what the handler checks beyond the policy (a
	// metric's or a record kind's visibility): callers it refuses get 403.
	sees func(auth.Access) bool
}

const formType = "application/x-www-form-urlencoded"

// isExecutive: of the built-in roles, only the executive holds
// definitions:approve.
func isExecutive(a auth.Access) bool { return a.Can(auth.DefinitionsApprove) }

func seesMetric(cat *catalog.Catalog, id string) func(auth.Access) bool {
	m, _ := cat.Metric(id)
	return func(a auth.Access) bool { return a.CanSeeMetric(m) }
}

// seesCustomerKinds: the reader may read subscriptions, tickets or surveys,
// or sees a metric reading one (its drill-down lists them).
func seesCustomerKinds(cat *catalog.Catalog) func(auth.Access) bool {
	return func(a auth.Access) bool {
		for _, k := range []string{"subscription", "ticket", "survey"} {
			if a.CanReadKind(k) {
				return true
			}
			for _, m := range cat.MetricsInForce() {
				for _, src := range m.Sources {
					if src.Kind == k && a.CanSeeMetric(&m) {
						return true
					}
				}
			}
		}
		return false
	}
}

// routeCases holds one case per route of the table. A route added to the
// table without a case here fails TestRouteAccess: adding a route means
// deciding, and writing down, who may call it.
func routeCases(cat *catalog.Catalog) map[string]routeCase {
	return map[string]routeCase{
		"GET /healthz":                                {who: "anyone", ok: 200},
		"GET /readyz":                                 {who: "anyone", ok: 200},
		"GET /api/v1/scorecard":                       {who: "scorecard:read", path: "/api/v1/scorecard?as_of=" + asOf + "&team=core", ok: 200},
		"GET /api/v1/metrics":                         {who: "metric:read", ok: 200},
		"GET /api/v1/metrics/{id}":                    {who: "metric:read", path: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&team=core", ok: 200, sees: seesMetric(cat, "change_failure_rate")},
		"POST /api/v1/records":                        {who: "records:write", body: d5, ok: 200},
		"GET /api/v1/records/{kind}/{source}/{id...}": {who: "records:read", path: "/api/v1/records/deployment/import/d1", ok: 200},
		"GET /api/v1/views":                           {who: "signed in", ok: 200},
		"GET /api/v1/views/{role}":                    {who: "view:{role}", path: "/api/v1/views/CEO?as_of=" + asOf, ok: 200},
		"POST /api/v1/reconciliations":                {who: "reconcile:write", body: `{"metric":"csat","expected":90}`, ok: 201, sees: seesMetric(cat, "csat")},
		"GET /api/v1/reconciliations":                 {who: "sources:read", ok: 200},
		"GET /api/v1/sources":                         {who: "sources:read", path: "/api/v1/sources?as_of=" + asOf, ok: 200},
		"GET /api/v1/ledger":                          {who: "ledger:read", path: "/api/v1/ledger?from=1&to=2026-12-01", ok: 200},
		"GET /api/v1/evidence":                        {who: "evidence:read", path: "/api/v1/evidence?from=2026-01-01&to=2026-03-31", ok: 200},
		"POST /api/v1/metrics/{id}/acknowledgements": {who: "metric:acknowledge", path: "/api/v1/metrics/change_failure_rate/acknowledgements",
			body: `{"owner":"VP Engineering","note":"Canary for api","due":"` + time.Now().AddDate(0, 0, 14).Format(time.DateOnly) + `"}`, ok: 201, sees: seesMetric(cat, "change_failure_rate")},
		"GET /metrics/{id}/acknowledgements": {who: "metric:read", path: "/metrics/change_failure_rate/acknowledgements", ok: 303},
		"POST /metrics/{id}/acknowledgements": {who: "metric:acknowledge", path: "/metrics/change_failure_rate/acknowledgements", ctype: formType,
			body: "owner=VP+Engineering&note=Canary+for+api&due=" + time.Now().AddDate(0, 0, 14).Format(time.DateOnly), ok: 303, sees: seesMetric(cat, "change_failure_rate")},
		"GET /api/v1/metrics/{id}/acknowledgements": {who: "metric:read", path: "/api/v1/metrics/change_failure_rate/acknowledgements", ok: 200, sees: seesMetric(cat, "change_failure_rate")},
		"GET /api/v1/escalations":                   {who: "metric:read", path: "/api/v1/escalations?as_of=" + asOf, ok: 200},
		"GET /api/v1/alerts":                        {who: "metric:read", ok: 200},
		"GET /api/v1/alerts/silences":               {who: "metric:read", ok: 200},
		"POST /api/v1/alerts/ack":                   {who: "metric:acknowledge", body: `{"key": "metric_red|change_failure_rate|", "note": "on it"}`, ok: 200, okAgain: 409, sees: seesMetric(cat, "change_failure_rate")},
		// Of a metric: a silence of every metric is only for who sees them all (TestAlertsAPI).
		"POST /api/v1/alerts/silences": {who: "metric:acknowledge", body: `{"rule": "metric_red", "metric": "change_failure_rate", "reason": "quarter close", "for": "2h"}`, ok: 201,
			sees: seesMetric(cat, "change_failure_rate")},
		// No silence has id 999999: refused after the policy. TestAlertsAPI ends real ones.
		"POST /api/v1/alerts/silences/{id}/end": {who: "metric:acknowledge", path: "/api/v1/alerts/silences/999999/end", ok: 404},
		// Proposals: only the executive may propose and decide; the seed
		// proposals (seedProposals) are someone else's.
		"POST /api/v1/proposals":              {who: "definitions:propose", body: `{"metric":"availability","changes":{"owner":"Reliability Lead"},"reason":"route test"}`, ok: 201},
		"GET /api/v1/proposals":               {who: "metric:read", ok: 200},
		"GET /api/v1/proposals/{id}":          {who: "metric:read", path: "/api/v1/proposals/2", ok: 200, sees: seesMetric(cat, "mttr")},
		"POST /api/v1/proposals/{id}/approve": {who: "definitions:approve", path: "/api/v1/proposals/2/approve", body: `{"reason":"route test"}`, ok: 200},
		"POST /api/v1/proposals/{id}/reject":  {who: "definitions:approve", path: "/api/v1/proposals/3/reject", body: `{"reason":"route test"}`, ok: 200},
		"GET /api/v1/metrics/{id}/history":    {who: "metric:read", path: "/api/v1/metrics/mttr/history", ok: 200, sees: seesMetric(cat, "mttr")},
		"GET /api/v1/adoption":                {who: "adoption:read", path: "/api/v1/adoption?from=2026-01-01&to=" + asOf, ok: 200},
		"GET /api/v1/adoption/review":         {who: "adoption:read", path: "/api/v1/adoption/review?as_of=" + asOf, ok: 200},
		// Anyone signed in may share what they see (a link never shows more than its creator's
		// grants); no link has id 999999. TestShareLinkAccess opens real links as every caller.
		"POST /api/v1/shares": {who: "signed in", body: `{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"` + asOf + `"}}`,
			ok: 201, sees: seesMetric(cat, "change_failure_rate")},
		"GET /api/v1/shares": {who: "signed in", ok: 200},
		// No pack is archived here: TestBoardPacks fetches real ones.
		"GET /api/v1/reports/board":       {who: "scorecard:read", ok: 200},
		"GET /api/v1/reports/board/{id}":  {who: "scorecard:read", path: "/api/v1/reports/board/999999", ok: 404},
		"POST /api/v1/shares/{id}/revoke": {who: "signed in", path: "/api/v1/shares/999999/revoke", ok: 404},
		"POST /api/v1/gates/evaluate":     {who: "gates:check", body: `{"service":"api","environment":"production","version":"1.2.3","facts":{"coverage":"92%","risk_score":10,"strategy":"canary"}}`, ok: 200},
		"GET /api/v1/gates/decisions":     {who: "records:read", path: "/api/v1/gates/decisions?service=api", ok: 200},
		// No emergency deployment is named d1: refused after the policy
		// (TestGateRetroValidateOverAPI records real ones).
		"POST /api/v1/gates/retro-validations": {who: "records:write", body: `{"deployment":"import/d1","note":"route test"}`, ok: 404},

		// A governed configuration section's history (alert rules, gate policies, custom views).
		"GET /api/v1/sections/{name}/history": {who: "metric:read", path: "/api/v1/sections/alerts.rules/history", ok: 200},
		// The seed gate decisions (seedGateDecisions) escalate by a rule
		// whose approvers are executives, the one role granted
		// definitions:approve; a CI token (gates:check) polls its decision.
		"GET /api/v1/gates/decisions/{id}":          {who: "signed in", path: "/api/v1/gates/decisions/6", ok: 200, sees: func(a auth.Access) bool { return a.Can(auth.GatesCheck) || a.Can(auth.RecordsRead) }},
		"POST /api/v1/gates/decisions/{id}/approve": {who: "signed in", path: "/api/v1/gates/decisions/6/approve", body: `{"reason":"route test"}`, ok: 200, sees: isExecutive},
		"POST /api/v1/gates/decisions/{id}/reject":  {who: "signed in", path: "/api/v1/gates/decisions/7/reject", body: `{"reason":"route test"}`, ok: 200, sees: isExecutive},
		// Admitted whoever calls; the connector refuses an unsigned delivery.
		"POST /webhooks/{source}":              {who: "anyone", path: "/webhooks/github", body: `{"zen":"hi"}`, ok: 401},
		"GET /{$}":                             {who: "scorecard:read", path: "/?as_of=" + asOf, ok: 200},
		"GET /metrics/{id}":                    {who: "metric:read", path: "/metrics/change_failure_rate?as_of=" + asOf + "&by=service&sort=-finished_at", ok: 200, sees: seesMetric(cat, "change_failure_rate")},
		"GET /records/{kind}/{source}/{id...}": {who: "records:read", path: "/records/deployment/import/d1?as_of=" + asOf, ok: 200},
		"GET /login":                           {who: "anyone", ok: 200},
		"POST /login":                          {who: "anyone", body: "email=nobody%40example.com&password=not+the+password", ctype: formType, ok: 401},
		"POST /logout":                         {who: "signed in", ctype: formType, ok: 303},
		"GET /auth/oidc/start":                 {who: "anyone", ok: 303, leaves: true},
		"GET /auth/oidc/callback":              {who: "anyone", path: "/auth/oidc/callback?code=c&state=forged", ok: 400},
		"GET /static/{file}":                   {who: "anyone", path: "{app.css}", ok: 200},
		"GET /views/{role}":                    {who: "view:{role}", path: "/views/ceo?as_of=" + asOf, ok: 200},
		"GET /sources":                         {who: "sources:read", path: "/sources?as_of=" + asOf, ok: 200},
		"GET /admin":                           {who: "users:admin", ok: 200},
		"GET /proposals":                       {who: "metric:read", ok: 200},
		"POST /proposals":                      {who: "definitions:propose", ctype: formType, body: "kind=metric&metric=availability&owner=SRE+Lead&reason=route+test", ok: 303},
		"POST /proposals/{id}/approve":         {who: "definitions:approve", ctype: formType, path: "/proposals/4/approve", body: "reason=route+test", ok: 303},
		"POST /proposals/{id}/reject":          {who: "definitions:approve", ctype: formType, path: "/proposals/5/reject", body: "reason=route+test", ok: 303},
		"POST /shares": {who: "signed in", body: "kind=card&subject=change_failure_rate&expires_in=7d&as_of=" + asOf, ctype: formType,
			ok: 200, sees: seesMetric(cat, "change_failure_rate")},
		// The secret decides, not the caller: a link that does not exist is not found for all.
		"GET /share/{secret}":          {who: "anyone", path: "/share/cds_nosuchlink", ok: 404},
		"GET /gates":                   {who: "signed in", ok: 200},
		"POST /gates/{id}/approve":     {who: "signed in", ctype: formType, path: "/gates/8/approve", body: "reason=route+test", ok: 303, sees: isExecutive},
		"POST /gates/{id}/reject":      {who: "signed in", ctype: formType, path: "/gates/9/reject", body: "reason=route+test", ok: 303, sees: isExecutive},
		"GET /share/{secret}/card.svg": {who: "anyone", path: "/share/cds_nosuchlink/card.svg", ok: 404},
		"GET /share/{secret}/card.png": {who: "anyone", path: "/share/cds_nosuchlink/card.png", ok: 404},
		// The table lists these in this order: the user added first has
		// its roles changed, then is disabled, then enabled.
		"POST /admin/users":         {who: "users:admin", body: "email=new%40example.com&role=support", ctype: formType, ok: 303},
		"POST /admin/users/roles":   {who: "users:admin", body: "email=new%40example.com&role=support&role=vp_cs", ctype: formType, ok: 303},
		"POST /admin/users/disable": {who: "users:admin", body: "email=new%40example.com", ctype: formType, ok: 303},
		"POST /admin/users/enable":  {who: "users:admin", body: "email=new%40example.com", ctype: formType, ok: 303},
		"POST /admin/tokens":        {who: "tokens:admin", body: "name=route-test&role=ingest", ctype: formType, ok: 303},
		// No token has this id: refused in the form (400), after the policy.
		"POST /admin/tokens/revoke": {who: "tokens:admin", body: "id=999999", ctype: formType, ok: 400},
		// Annotations: those who acknowledge metrics write the context beside them; no
		// annotation has id 999999. TestAnnotationsAPI withdraws real ones.
		"POST /api/v1/annotations":               {who: "metric:acknowledge", body: `{"name":"Route test","kind":"launch","from":"2026-03-20","to":"2026-03-20"}`, ok: 201},
		"GET /api/v1/annotations":                {who: "metric:read", path: "/api/v1/annotations?from=2026-01-01&to=2026-12-31", ok: 200},
		"POST /api/v1/annotations/{id}/withdraw": {who: "metric:acknowledge", path: "/api/v1/annotations/999999/withdraw", ok: 404},
		// The share links page: anyone signed in sees their own links; no link has id 999999.
		"GET /shares":              {who: "signed in", ok: 200},
		"GET /reports":             {who: "scorecard:read", ok: 200},
		"GET /reports/board/{id}":  {who: "scorecard:read", path: "/reports/board/999999.pdf", ok: 404},
		"POST /shares/{id}/revoke": {who: "signed in", path: "/shares/999999/revoke", ctype: formType, ok: 404},
		"GET /alerts":              {who: "metric:read", ok: 200},
		"POST /alerts/ack": {who: "metric:acknowledge", body: "key=arr_behind_target%7Carr%7C&note=on+it", ctype: formType, ok: 303, okAgain: 409,
			sees: seesMetric(cat, "arr")},
		"POST /alerts/silences": {who: "metric:acknowledge", body: "rule=metric_red&metric=change_failure_rate&reason=quarter+close&for=2h", ctype: formType, ok: 303,
			sees: seesMetric(cat, "change_failure_rate")},
		"POST /alerts/silences/{id}/end": {who: "metric:acknowledge", path: "/alerts/silences/999999/end", ctype: formType, ok: 404},
		"POST /alerts/inbox/read":        {who: "signed in", ctype: formType, ok: 303},

		// Release impact is release_impact_score's detail: its visibility too.
		"GET /api/v1/releases":                  {who: "metric:read", path: "/api/v1/releases?as_of=" + asOf, ok: 200, sees: seesMetric(cat, "release_impact_score")},
		"GET /api/v1/releases/{source}/{id...}": {who: "metric:read", path: "/api/v1/releases/import/d1?as_of=" + asOf, ok: 200, sees: seesMetric(cat, "release_impact_score")},
		"GET /releases":                         {who: "metric:read", path: "/releases?as_of=" + asOf, ok: 200, sees: seesMetric(cat, "release_impact_score")},
		"GET /api/v1/insights":                  {who: "metric:read", path: "/api/v1/insights?as_of=" + asOf, ok: 200},
		"GET /insights":                         {who: "metric:read", path: "/insights?as_of=" + asOf, ok: 200},
		// A customer is seen through the metrics that read its records; no
		// record of the seed names nobody-inc. TestCustomerAccess opens real ones.
		"GET /api/v1/customers":      {who: "metric:read", path: "/api/v1/customers?at_risk=1&as_of=" + asOf, ok: 200, sees: seesCustomerKinds(cat)},
		"GET /api/v1/customers/{id}": {who: "metric:read", path: "/api/v1/customers/nobody-inc?as_of=" + asOf, ok: 404, sees: seesCustomerKinds(cat)},
		"GET /customers":             {who: "metric:read", path: "/customers?as_of=" + asOf, ok: 200, sees: seesCustomerKinds(cat)},
		"GET /customers/{id}":        {who: "metric:read", path: "/customers/nobody-inc?as_of=" + asOf, ok: 404, sees: seesCustomerKinds(cat)},
		"GET /api/v1/themes":         {who: "records:read", path: "/api/v1/themes?as_of=" + asOf, ok: 200, sees: func(a auth.Access) bool { return a.CanReadKind("ticket") }},
	}
}

// permissionOf is the permission a case's policy asks of its sample
// request ("" for anyone and signed in).
func permissionOf(c routeCase) auth.Permission {
	switch c.who {
	case "anyone", "signed in":
		return ""
	case "view:{role}":
		return auth.ViewPermission("ceo") // the sample asks for /views/CEO
	}
	return auth.Permission(c.who)
}

// noRedirects lets a test see a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// caller is who makes a request: credentials for the API (a bearer token)
// and for pages (a session cookie and its CSRF token).
type caller struct {
	name          string
	roles         []string // nil: anonymous or bad credentials
	token, cookie string
	csrf          string
}

// TestRouteAccess calls every route of the table as every caller —
// anonymous, with bad credentials, and as each role of roles.yaml — and
// checks the answer against the route's policy: API routes answer 401 to
// the first two and 403 to a role without the grant; pages send the first
// two to the sign-in page and show the others a 403 page.
func TestRouteAccess(t *testing.T) {
	idp := oidctest.New(t, "candor", "s3cret")
	e := newEnvWith(t, 0, withOIDC(t, idp, nil))
	if err := e.srv.Engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := e.srv.Auth.Grants()
	cases := routeCases(e.srv.Catalog)
	for _, rt := range e.srv.Routes() {
		key := rt.Method + " " + rt.Pattern
		c, ok := cases[key]
		if !ok {
			t.Errorf("route %s has no case in routeCases: add one, stating who may call it", key)
			continue
		}
		delete(cases, key)
		if got := rt.Policy.String(); got != c.who {
			t.Errorf("route %s: policy %q, but the recorded decision is %q", key, got, c.who)
		}
		path := c.path
		if path == "" {
			path = rt.Pattern
		}
		path = strings.Replace(path, "{app.css}", e.srv.site.urls["app.css"], 1)
		done := false
		for _, cl := range e.callers(t, rt.Kind) {
			want := c.ok
			if done && c.okAgain != 0 {
				want = c.okAgain
			}
			admitted := c.who == "anyone" || cl.roles != nil
			switch {
			case !admitted && rt.Kind == API:
				want = http.StatusUnauthorized
			case !admitted:
				want = http.StatusSeeOther
			case c.who != "anyone":
				a := g.Access(cl.roles)
				if perm := permissionOf(c); perm != "" && !a.Can(perm) || c.sees != nil && !c.sees(a) {
					want = http.StatusForbidden
				}
			}
			status, body, hdr := e.call(t, rt.Method, path, c.body, c.ctype, cl)
			done = done || admitted && want == c.ok && status == c.ok
			if status != want {
				t.Errorf("%s as %s: %d, want %d\n%s", key, cl.name, status, want, clip(body))
				continue
			}
			if c.leaves {
				if loc := hdr.Get("Location"); !strings.HasPrefix(loc, idp.URL+"/authorize?") {
					t.Errorf("%s as %s: sent to %q, not to the provider", key, cl.name, loc)
				}
				continue
			}
			checkRefusal(t, key+" as "+cl.name, rt.Kind, status, body, hdr)
		}
	}
	for key := range cases {
		t.Errorf("routeCases has %s, which is not in the route table", key)
	}
}

// checkRefusal checks a refusal is in the route's kind: a JSON error with
// its code, a redirect to the sign-in page, or an HTML error page.
func checkRefusal(t *testing.T, what string, kind Kind, status int, body []byte, hdr http.Header) {
	t.Helper()
	switch {
	case status == http.StatusSeeOther && kind == HTML:
		if loc := hdr.Get("Location"); !strings.HasPrefix(loc, "/login") && !strings.HasPrefix(loc, "/") {
			t.Errorf("%s: redirected to %q", what, loc)
		}
	case status < 400:
	case kind == API:
		var doc struct{ Error, Code string }
		if err := json.Unmarshal(body, &doc); err != nil || doc.Error == "" {
			t.Errorf("%s: %d without a JSON error: %s", what, status, clip(body))
		}
		if want := map[int]string{401: "unauthorized", 403: "forbidden"}[status]; want != "" && doc.Code != want {
			t.Errorf("%s: code %q, want %q", what, doc.Code, want)
		}
		if status == 401 && hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", what)
		}
	default:
		if !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<!doctype html>") {
			t.Errorf("%s: %d is not an HTML page: %s", what, status, clip(body))
		}
	}
}

// callers are the anonymous caller, one with bad credentials, and one per
// role: tokens for API routes, fresh sessions for pages (signing out ends
// one).
func (e *env) callers(t *testing.T, kind Kind) []caller {
	t.Helper()
	out := []caller{{name: "anonymous"}}
	if kind == API {
		out = append(out, caller{name: "a revoked token", token: e.revoked(t)})
	} else {
		out = append(out, caller{name: "an unknown session", cookie: strings.Repeat("A", 43)})
	}
	for _, role := range e.srv.Auth.Grants().RoleIDs() {
		cl := caller{name: role, roles: []string{role}}
		if kind == API {
			cl.token = e.roleToken(t, role)
		} else {
			email := role + "@example.com"
			if !e.users[email] {
				addUser(t, e.srv.Auth, email, role)
				e.users[email] = true
			}
			l := signIn(t, e.srv.Auth, email)
			cl.cookie, cl.csrf = l.Secret, l.Principal.CSRFToken()
		}
		out = append(out, cl)
	}
	return out
}

// roleToken is an API token holding only the role, acting for a user who
// holds only it (approvals are a person's: auth.Decider).
func (e *env) roleToken(t *testing.T, role string) string {
	t.Helper()
	if tok, ok := e.tokens[role]; ok {
		return tok
	}
	email := "role-" + role + "@example.com"
	addUser(t, e.srv.Auth, email, role)
	tok, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "role-" + role, Roles: []string{role}, Owner: email})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[role] = tok
	return tok
}

// revoked is a token that was revoked.
func (e *env) revoked(t *testing.T) string {
	t.Helper()
	if tok, ok := e.tokens["(revoked)"]; ok {
		return tok
	}
	tok := newToken(t, e.srv.Auth, "revoked", "executive")
	if _, err := e.srv.Auth.RevokeToken(context.Background(), admin, "revoked", 0); err != nil {
		t.Fatal(err)
	}
	e.tokens["(revoked)"] = tok
	return tok
}

// call makes one request as the caller, following no redirect.
func (e *env) call(t *testing.T, method, path, body, ctype string, cl caller) (int, []byte, http.Header) {
	t.Helper()
	if cl.csrf != "" && ctype == formType {
		v, _ := url.ParseQuery(body)
		v.Set(auth.CSRFField, cl.csrf)
		body = v.Encode()
	}
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	if cl.cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cl.cookie})
	}
	return send(t, noRedirects, req)
}

// A table route without a policy is refused when the mux is built.
func TestRouteWithoutPolicyPanics(t *testing.T) {
	e := newEnv(t, 0)
	defer func() {
		if recover() == nil {
			t.Error("a route without a policy was accepted")
		}
	}()
	e.srv.mux([]Route{{Method: "GET", Pattern: "/x", Kind: API, Handler: e.srv.healthz}})
}
