package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/priority"
)

// Every answer carries the security headers; what a signed-in reader sees
// is not cached, a fingerprinted asset is, for a year.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, 0)
	l := e.sessionAs(t, "executive")
	check := func(what string, hdr http.Header) {
		t.Helper()
		want := map[string]string{
			"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
			"X-Frame-Options":         "DENY",
		}
		for k, v := range want {
			if got := hdr.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", what, k, got, v)
			}
		}
	}
	_, _, hdr := e.call(t, "GET", "/", "", "", l)
	check("the scorecard page", hdr)
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("a signed-in page: Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
	}
	_, _, hdr = e.call(t, "GET", "/login", "", "", caller{})
	check("the sign-in page", hdr)
	_, _, hdr = e.do(t, "GET", "/api/v1/nothing", "", nil)
	check("a JSON 404", hdr)
	if hdr.Get("Cache-Control") != "" {
		t.Errorf("an unrouted answer got Cache-Control %q", hdr.Get("Cache-Control"))
	}
	_, _, hdr = e.do(t, "GET", "/api/v1/metrics", "", nil)
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("an authenticated API answer: Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
	}
	css := e.srv.site.urls["app.css"]
	status, body, hdr := e.call(t, "GET", css, "", "", caller{})
	check("the stylesheet", hdr)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/css") || hdr.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s: %d %q %q", css, status, hdr.Get("Content-Type"), hdr.Get("Cache-Control"))
	}
	if !strings.Contains(string(body), ".kpi__value") || !strings.Contains(string(body), ".chart-spark") {
		t.Error("app.css lacks the page rules or the charts' stylesheet")
	}
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.css$`).MatchString(css) {
		t.Errorf("stylesheet URL %q is not fingerprinted", css)
	}
	if status, _, _ := e.call(t, "GET", "/static/app.css", "", "", caller{}); status != 404 {
		t.Errorf("the stylesheet under its plain name: %d, want 404", status)
	}
}

// A sane incoming request id is kept, an unusable one replaced; the id is
// sent back, written in error bodies and in every log line of the request.
func TestRequestIDs(t *testing.T) {
	e := newEnv(t, 0)
	logs := recordLog(e.srv)
	_, body, hdr := e.do(t, "GET", "/api/v1/metrics/nope", "", map[string]string{RequestIDHeader: "lb-7f3a9c21"})
	if hdr.Get(RequestIDHeader) != "lb-7f3a9c21" || !strings.Contains(string(body), `"request_id": "lb-7f3a9c21"`) {
		t.Errorf("incoming id: header %q, body %s", hdr.Get(RequestIDHeader), body)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil || l["request_id"] != "lb-7f3a9c21" {
			t.Errorf("log line without the request id: %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"route":"GET /api/v1/metrics/{id}"`) || !strings.Contains(logs.String(), `"principal":"token:test"`) {
		t.Errorf("the request line lacks the route or the principal: %s", logs)
	}
	for _, bad := range []string{"x", "has space in it", strings.Repeat("a", 65), "evil\u2028line"} {
		_, _, hdr := e.do(t, "GET", "/healthz", "", map[string]string{RequestIDHeader: bad})
		if got := hdr.Get(RequestIDHeader); got == bad || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(got) {
			t.Errorf("incoming id %q: answered with %q, want a fresh one", bad, got)
		}
	}
	_, _, a := e.do(t, "GET", "/healthz", "", nil)
	_, _, b := e.do(t, "GET", "/healthz", "", nil)
	if a.Get(RequestIDHeader) == "" || a.Get(RequestIDHeader) == b.Get(RequestIDHeader) {
		t.Errorf("generated ids %q and %q", a.Get(RequestIDHeader), b.Get(RequestIDHeader))
	}
}

// /readyz is 503 until the engine has loaded the data; /healthz answers
// all along.
func TestReadyz(t *testing.T) {
	e := newEnv(t, 0)
	// A fresh engine over the same store: nothing loaded yet.
	cat, _ := catalog.Default()
	s := &Server{Engine: engine.New(e.store, metrics.DefaultConfig()), Catalog: cat, Store: e.store, Auth: e.srv.Auth,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	get := func(path string) (int, map[string]any, http.Header) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		json.NewDecoder(resp.Body).Decode(&doc)
		return resp.StatusCode, doc, resp.Header
	}
	if status, doc, hdr := get("/readyz"); status != 503 || doc["code"] != "unavailable" || hdr.Get("Retry-After") == "" {
		t.Errorf("readyz before loading: %d %v (Retry-After %q)", status, doc, hdr.Get("Retry-After"))
	}
	if status, _, _ := get("/healthz"); status != 200 {
		t.Errorf("healthz while loading: %d", status)
	}
	if err := s.Engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status, doc, _ := get("/readyz"); status != 200 || doc["status"] != "ready" {
		t.Errorf("readyz once loaded: %d %v", status, doc)
	}
}

// A state-changing request from another site is refused, even with the
// right CSRF token; one without the token is refused, even from this site.
func TestCSRFAndCrossOrigin(t *testing.T) {
	e := newEnv(t, 0)
	post := func(cl caller, body string, hdr map[string]string) int {
		t.Helper()
		if cl.csrf != "" && body == "" {
			body = "csrf_token=" + cl.csrf
		}
		req, _ := http.NewRequest("POST", e.url+"/logout", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		req.AddCookie(&http.Cookie{Name: "candor_session", Value: cl.cookie})
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	signedIn := func(cl caller) bool {
		status, _, _ := e.call(t, "GET", "/", "", "", caller{cookie: cl.cookie})
		return status == 200
	}
	cl := e.sessionAs(t, "executive")
	if got := post(caller{cookie: cl.cookie}, "csrf_token=wrong", nil); got != 403 || !signedIn(cl) {
		t.Errorf("sign-out with a wrong CSRF token: %d, still signed in %v; want 403 and signed in", got, signedIn(cl))
	}
	if got := post(caller{cookie: cl.cookie}, "nothing=here", nil); got != 403 || !signedIn(cl) {
		t.Errorf("sign-out without a CSRF token: %d", got)
	}
	if got := post(cl, "", map[string]string{"Sec-Fetch-Site": "cross-site"}); got != 403 || !signedIn(cl) {
		t.Errorf("sign-out from another site: %d, want 403", got)
	}
	if got := post(cl, "", map[string]string{"Origin": "https://evil.example"}); got != 403 || !signedIn(cl) {
		t.Errorf("sign-out with a foreign Origin: %d, want 403", got)
	}
	// The API too: a token is never added by a browser, but a browser on
	// another site must not post at all.
	status, body, _ := e.do(t, "POST", "/api/v1/records", d5, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if status != 403 || !strings.Contains(string(body), `"code": "forbidden"`) {
		t.Errorf("a cross-site post of records: %d %s", status, body)
	}
	if got := post(cl, "", map[string]string{"Sec-Fetch-Site": "same-origin"}); got != http.StatusSeeOther || signedIn(cl) {
		t.Errorf("sign-out from this site with the token: %d, signed in still %v", got, signedIn(cl))
	}
}

func TestQueryURL(t *testing.T) {
	q := Query{AsOf: "2026-03-31", Team: "core & more"}
	cases := []struct{ got, want string }{
		{q.URL("/"), "/?as_of=2026-03-31&team=core+%26+more"},
		{q.URL("/metrics/cfr", "by", "service"), "/metrics/cfr?as_of=2026-03-31&team=core+%26+more&by=service"},
		{q.URL("/", "team", ""), "/?as_of=2026-03-31"},
		{q.URL("/", "window", "90d"), "/?as_of=2026-03-31&window=90d&team=core+%26+more"},
		{q.With("service", "api").URL("/"), "/?as_of=2026-03-31&team=core+%26+more&service=api"},
		{Query{}.URL("/sources"), "/sources"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	if f := q.Filters(); len(f) != 1 || f[0] != (Filter{"team", "core & more"}) {
		t.Errorf("filters %v", f)
	}
	if s := q.Scope(); s.Dim != "team" || s.Value != "core & more" {
		t.Errorf("scope %v", s)
	}
}

// Pages and API reads are foreground work while they are served, so that
// bulk work (an import, the follower applying it) lets them go first
// (internal/priority); a POST — an import sent to the API — is not.
func TestReadsGoBeforeBulkWork(t *testing.T) {
	e := newEnv(t, 0)
	var during int
	h := e.srv.logRequests(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { during = priority.InProgress() }))
	for _, c := range []struct {
		method string
		more   int
	}{{"GET", 1}, {"HEAD", 1}, {"POST", 0}} {
		before := priority.InProgress()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, "/x", nil))
		if during-before != c.more {
			t.Errorf("%s: %d more requests in progress while served, want %d", c.method, during-before, c.more)
		}
		if n := priority.InProgress(); n != before {
			t.Errorf("%s: %d requests in progress after it, %d before", c.method, n, before)
		}
	}
}
