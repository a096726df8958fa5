package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Every code has its own status, and the codes of the packages' errors
// lead to the status a client expects.
func TestStatusOfEveryCode(t *testing.T) {
	seen := map[int]domain.Code{}
	for _, c := range domain.Codes {
		s := Status(c)
		if other, dup := seen[s]; dup {
			t.Errorf("codes %s and %s share status %d", c, other, s)
		}
		seen[s] = c
	}
	if Status("no such code") != 500 {
		t.Error("an unknown code is not a 500")
	}
	cases := []struct {
		err  error
		want int
	}{
		{badParam("as_of", "bad"), 400},
		{&ingest.InvalidError{Count: 1}, 400},
		{&ingest.NoKindError{Name: "body"}, 400},
		{&scorecard.DimensionError{Param: "by", Metric: "x", Dim: "y"}, 400},
		{&auth.InputError{Field: "email", Msg: "taken"}, 400},
		{auth.ErrUnauthenticated, 401},
		{auth.ErrInvalidCredentials, 401},
		{fmt.Errorf("%w: needs records:write", auth.ErrForbidden), 403},
		{auth.ErrCSRF, 403},
		{fmt.Errorf("no deployment d9: %w", store.ErrNotFound), 404},
		{&scorecard.UnknownViewError{ID: "x"}, 404},
		{store.ErrConflict, 409},
		{&auth.RateLimitedError{RetryAfter: time.Minute}, 429},
		{errors.New("disk on fire"), 500},
		{fmt.Errorf("metric x is %w", scorecard.ErrNotComputed), 501},
	}
	for _, c := range cases {
		if got := Status(domain.CodeOf(c.err)); got != c.want {
			t.Errorf("%T %v: status %d, want %d", c.err, c.err, got, c.want)
		}
	}
}

// recordLog captures the server's log.
func recordLog(s *Server) *bytes.Buffer {
	var buf bytes.Buffer
	s.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	return &buf
}

// describe hides an internal error's message from the client, logs it with
// the request id and quotes the id; a coded error keeps its message,
// parameter and code.
func TestDescribe(t *testing.T) {
	e := newEnv(t, 0)
	logs := recordLog(e.srv)
	r := httptest.NewRequest("GET", "/x", nil)
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, &reqInfo{id: "req-12345678"}))

	d := e.srv.describe(r, fmt.Errorf("refreshing from the store: %w", errors.New("open /srv/candor/x.db: permission denied")))
	if d.status != 500 || d.Code != domain.EInternal || strings.Contains(d.Message, "permission") || !strings.Contains(d.Message, "req-12345678") {
		t.Errorf("internal error described as %+v", d)
	}
	if !strings.Contains(logs.String(), "permission denied") || !strings.Contains(logs.String(), `"request_id":"req-12345678"`) {
		t.Errorf("internal error not logged with the request id: %s", logs)
	}

	d = e.srv.describe(r, fmt.Errorf("reading: %w", badParam("window", "forever is not a length")))
	if d.status != 400 || d.Code != domain.EInvalid || d.Param != "window" || d.Message != "reading: window: forever is not a length" {
		t.Errorf("invalid parameter described as %+v", d)
	}

	d = e.srv.describe(r, domain.Errorf(domain.EInvalid, "body: %w", &http.MaxBytesError{Limit: 300}))
	if d.status != 413 || d.Code != domain.ETooLarge || !strings.Contains(d.Message, "300 bytes") {
		t.Errorf("a body over the limit described as %+v", d)
	}

	// An unreachable store is 503, come back shortly; its cause, the
	// database's address, is logged, never told the client.
	d = e.srv.describe(r, fmt.Errorf("reading: %w", &store.UnreachableError{Err: errors.New("dial tcp 10.0.0.5:5432: connection refused")}))
	if d.status != 503 || d.Code != domain.EUnavailable || d.retryAfter != store.UnreachableRetry || strings.Contains(d.Message, "10.0.0.5") {
		t.Errorf("an unreachable store described as %+v", d)
	}
	if !strings.Contains(logs.String(), "10.0.0.5") {
		t.Errorf("the unreachable store's cause is not logged: %s", logs)
	}

	cancelled, cancel := context.WithCancel(r.Context())
	cancel()
	if d := e.srv.describe(r.WithContext(cancelled), context.Canceled); d != nil {
		t.Errorf("a client that went away is answered: %+v", d)
	}
}

// Every JSON error has a machine-readable code and the request id, and the
// same error is a page, with the same status, on a page route.
func TestErrorBodies(t *testing.T) {
	e := newEnv(t, 0)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/scorecard?as_of=yesterday", 400, "invalid"},
		{"GET", "/api/v1/metrics/nope", 404, "not_found"},
		{"POST", "/api/v1/scorecard", 405, "method_not_allowed"},
		{"GET", "/api/v1/nothing", 404, "not_found"},
	} {
		status, body, hdr := e.do(t, c.method, c.path, "", nil)
		var doc map[string]any
		json.Unmarshal(body, &doc)
		if status != c.status || doc["code"] != c.code || doc["error"] == "" || doc["request_id"] != hdr.Get(RequestIDHeader) {
			t.Errorf("%s %s: %d %s, want %d with code %s and the request id", c.method, c.path, status, body, c.status, c.code)
		}
	}
	// The pages answer in HTML.
	l := e.sessionAs(t, "executive")
	status, body, _ := e.call(t, "GET", "/?as_of=yesterday", "", "", l)
	if status != 400 || !strings.Contains(string(body), "That request is not valid") || !strings.Contains(string(body), "as_of") {
		t.Errorf("a bad as_of on the scorecard page: %d\n%s", status, clip(body))
	}
	status, body, _ = e.call(t, "GET", "/no/such/page", "", "", l)
	if status != 404 || !strings.Contains(string(body), "Page not found") || !strings.Contains(string(body), "Sign out") {
		t.Errorf("an unknown page: %d\n%s", status, clip(body))
	}
	status, body, _ = e.call(t, "GET", "/?team=nosuch", "", "", l)
	if status != 400 || !strings.Contains(string(body), "nosuch") || !strings.Contains(string(body), "core") {
		t.Errorf("an unknown team: %d, want 400 naming the known ones\n%s", status, clip(body))
	}
}

// sessionAs signs in a new user holding the role.
func (e *env) sessionAs(t *testing.T, role string, more ...string) caller {
	t.Helper()
	email := fmt.Sprintf("%s-%d@example.com", role, len(e.users))
	roles := append([]string{role}, more...)
	addUser(t, e.srv.Auth, email, roles...)
	e.users[email] = true
	l := signIn(t, e.srv.Auth, email)
	return caller{name: strings.Join(roles, "+"), roles: roles, cookie: l.Secret, csrf: l.Principal.CSRFToken()}
}

// The 503 page says what is the matter: "not ready yet" only while the
// data is first loaded after start; a store that cannot be reached later
// — an outage, a rotated password — is "cannot reach its database", not a
// start-up message (it had read "Candor is not ready yet" on every page).
func TestUnavailablePageHeadings(t *testing.T) {
	e := newEnv(t, 0)
	if status, body, _ := e.do(t, "GET", "/api/v1/scorecard", "", nil); status != 200 {
		t.Fatalf("scorecard: %d %s", status, clip(body))
	}
	if !e.srv.Engine.Ready() {
		t.Fatal("the engine is not ready after a scorecard")
	}
	page := func(err error) (int, string, http.Header) {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, &reqInfo{id: "req-12345678"}))
		w := httptest.NewRecorder()
		e.srv.pageError(w, r, err)
		return w.Code, w.Body.String(), w.Header()
	}
	status, body, hdr := page(fmt.Errorf("reading: %w", &store.UnreachableError{Err: errors.New("dial tcp 10.0.0.5:5432: connection refused"), Reason: "the connection failed"}))
	if status != 503 || hdr.Get("Retry-After") != "5" || !strings.Contains(body, "Candor cannot reach its database") ||
		!strings.Contains(body, "Try again shortly") || strings.Contains(body, "not ready") || strings.Contains(body, "10.0.0.5") {
		t.Errorf("an unreachable store after start: %d, Retry-After %q\n%s", status, hdr.Get("Retry-After"), clip([]byte(body)))
	}
	// Another 503 after start is neither.
	status, body, _ = page(domain.Errorf(domain.EUnavailable, "something else is down"))
	if status != 503 || strings.Contains(body, "not ready") || strings.Contains(body, "database") || !strings.Contains(body, "something else is down") {
		t.Errorf("another 503 after start: %d\n%s", status, clip([]byte(body)))
	}

	// Before the first load: the start-up's words.
	ready := e.srv.Engine
	e.srv.Engine = engine.New(e.store, metrics.DefaultConfig())
	defer func() { e.srv.Engine = ready }()
	status, body, _ = page(&domain.Error{Code: domain.EUnavailable, Message: "loading the data; not ready yet", RetryAfter: 5 * time.Second})
	if status != 503 || !strings.Contains(body, "Candor is not ready yet") {
		t.Errorf("a 503 while the data loads: %d\n%s", status, clip([]byte(body)))
	}
}

// An API path ServeMux would redirect — one lacking the id of an {id...}
// route, or not in its canonical form — is a JSON 404 saying what is
// wrong, not a 307 with an HTML body; a page's path is still redirected.
func TestAPIPathsAreNotRedirected(t *testing.T) {
	e := newEnv(t, 0)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, says := range map[string]string{
		"/api/v1/records/deployment/import": "no route GET /api/v1/records/deployment/import: the path lacks {id}, the last part of /api/v1/records/{kind}/{source}/{id}",
		"/api/v1/releases/import":           "no route GET /api/v1/releases/import: the path lacks {id}, the last part of /api/v1/releases/{source}/{id}",
	} {
		for _, token := range []string{e.token, ""} {
			req, _ := http.NewRequest("GET", e.url+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			status, body, hdr := send(t, noFollow, req)
			var doc struct{ Error, Code string }
			if status != 404 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || json.Unmarshal(body, &doc) != nil || doc.Code != "not_found" || doc.Error != says {
				t.Errorf("GET %s (token %v): %d %s %s, want a JSON 404 %q", path, token != "", status, hdr.Get("Content-Type"), body, says)
			}
		}
	}
	// A path not in its canonical form (a base URL ending in "/") is sent
	// on with a 308 in JSON, which a client follows with its method and
	// body, as it had followed ServeMux's 307: a POST of records arrives.
	for path, to := range map[string]string{"//api/v1//metrics?as_of=" + asOf: "/api/v1/metrics?as_of=" + asOf, "/api/v1/./records": "/api/v1/records"} {
		req, _ := http.NewRequest("GET", e.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		status, body, hdr := send(t, noFollow, req)
		var doc struct{ Location, Message string }
		if status != 308 || hdr.Get("Location") != to || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || json.Unmarshal(body, &doc) != nil || doc.Location != to {
			t.Errorf("GET %s: %d %s %s, want a JSON 308 to %s", path, status, hdr.Get("Content-Type"), body, to)
		}
	}
	req, _ := http.NewRequest("POST", e.url+"//api/v1/records", strings.NewReader(`{"kind":"deployment","id":"slash","service":"api","environment":"production","finished_at":"2026-03-30T18:00:00Z","status":"success"}`+"\n"))
	req.Header.Set("Authorization", "Bearer "+e.token)
	if status, body, _ := send(t, http.DefaultClient, req); status != 200 || !strings.Contains(string(body), `"inserted": 1`) {
		t.Errorf("POST //api/v1/records followed: %d %s", status, body)
	}
	l := e.sessionAs(t, "executive")
	if status, _, hdr := e.call(t, "GET", "//metrics//change_failure_rate", "", "", l); status/100 != 3 || hdr.Get("Location") == "" {
		t.Errorf("a page's uncleaned path: %d, want a redirect", status)
	}
}
