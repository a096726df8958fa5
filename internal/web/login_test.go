package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// postForm posts a form without following the redirect.
func postForm(t *testing.T, base, path string, form url.Values, cookie string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formType)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func sessionCookie(hdr http.Header) *http.Cookie {
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	return nil
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestLogin(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "gone@example.com", "executive")
	if _, _, err := e.srv.Auth.DisableUser(context.Background(), admin, "gone@example.com"); err != nil {
		t.Fatal(err)
	}

	// Success: a session cookie (HttpOnly, SameSite=Lax) and on to next.
	status, _, hdr := postForm(t, e.url, "/login", url.Values{"email": {" Ann@Example.com "}, "password": {testPassword}, "next": {"/?as_of=2026-03-31"}}, "")
	c := sessionCookie(hdr)
	if status != http.StatusSeeOther || hdr.Get("Location") != "/?as_of=2026-03-31" || c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("sign-in: %d to %q, cookie %+v", status, hdr.Get("Location"), c)
	}
	status, page, _ := e.call(t, "GET", "/?as_of=2026-03-31", "", "", caller{cookie: c.Value})
	if status != 200 || !strings.Contains(string(page), "ann@example.com") {
		t.Errorf("the scorecard after sign-in: %d", status)
	}

	// Failure: one answer whatever failed, so the page tells nobody which
	// addresses have accounts.
	answers := map[string]string{}
	for _, f := range []struct{ name, email, pw string }{
		{"wrong password", "ann@example.com", "not the password at all"},
		{"unknown address", "zed@example.com", testPassword},
		{"disabled user", "gone@example.com", testPassword},
		{"not an address", "ann", testPassword},
	} {
		status, body, hdr := postForm(t, e.url, "/login", url.Values{"email": {f.email}, "password": {f.pw}}, "")
		if status != http.StatusUnauthorized || !strings.Contains(body, "Wrong e-mail or password.") || sessionCookie(hdr) != nil {
			t.Errorf("%s: %d, cookie %v\n%s", f.name, status, sessionCookie(hdr), clip([]byte(body)))
		}
		answers[f.name] = strings.ReplaceAll(body, f.email, "EMAIL")
	}
	for name, body := range answers {
		if body != answers["wrong password"] {
			t.Errorf("the answer to a %s differs from that to a wrong password", name)
		}
	}
}

// Over the per-account limit the sign-in page says when to try again,
// with 429 and Retry-After, and refuses even the right password.
func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t, 0)
	g := e.srv.Auth.Grants()
	svc, err := auth.NewService(e.store.(auth.Store), g, auth.Options{
		Params: auth.Params{Memory: 64, Time: 1, Threads: 1}, AccountLimit: auth.Rate{Attempts: 2, Per: 15 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	addUser(t, svc, "ann@example.com", "executive")
	s := &Server{Engine: engine.New(e.store, metrics.DefaultConfig()), Catalog: e.srv.Catalog, Store: e.store, Auth: svc,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	wrong := url.Values{"email": {"ann@example.com"}, "password": {"not the password at all"}}
	for range 2 {
		if status, _, _ := postForm(t, ts.URL, "/login", wrong, ""); status != 401 {
			t.Fatalf("a wrong password: %d", status)
		}
	}
	status, body, hdr := postForm(t, ts.URL, "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, "")
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || sessionCookie(hdr) != nil ||
		!strings.Contains(body, "Too many sign-in attempts. Try again in 8 minutes.") {
		t.Errorf("third attempt: %d, Retry-After %q\n%s", status, hdr.Get("Retry-After"), clip([]byte(body)))
	}
}

// A sign-in link leads only to a page of this site.
func TestLoginNextStaysLocal(t *testing.T) {
	for next, want := range map[string]string{
		"":                          "/",
		"/":                         "/",
		"/?as_of=2026-03-31&team=a": "/?as_of=2026-03-31&team=a",
		"/views/ceo":                "/views/ceo",
		"https://evil.example/":     "/",
		"//evil.example/x":          "/",
		"/\\evil.example":           "/",
		"\\\\evil.example":          "/",
		"evil.example":              "/",
		"javascript:alert(1)":       "/",
		"/%2F%2Fevil.example":       "/",
		"/login?next=/x":            "/",
		"/x\r\nSet-Cookie: a=b":     "/",
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	status, _, hdr := postForm(t, e.url, "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}, "next": {"//evil.example/"}}, "")
	if status != http.StatusSeeOther || hdr.Get("Location") != "/" {
		t.Errorf("sign-in with next=//evil.example/: %d to %q, want /", status, hdr.Get("Location"))
	}
	_, page, _ := e.call(t, "GET", "/login?next="+url.QueryEscape("https://evil.example/"), "", "", caller{})
	if strings.Contains(string(page), "evil.example") {
		t.Error("the sign-in form carries a foreign next")
	}
	// An anonymous reader sent to sign in comes back to the page asked for.
	status, _, hdr = e.call(t, "GET", "/?window=90d", "", "", caller{})
	if status != http.StatusSeeOther || hdr.Get("Location") != "/login?next="+url.QueryEscape("/?window=90d") {
		t.Errorf("anonymous scorecard: %d to %q", status, hdr.Get("Location"))
	}
}

// Signing out ends the session on the server: the old cookie opens
// nothing afterwards, in pages or the API.
func TestLogoutRevokesSession(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	_, _, hdr := postForm(t, e.url, "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, "")
	cookie := sessionCookie(hdr).Value
	status, page, _ := e.call(t, "GET", "/", "", "", caller{cookie: cookie})
	m := csrfInput.FindStringSubmatch(string(page))
	if status != 200 || m == nil {
		t.Fatalf("the scorecard: %d, sign-out form with a CSRF token: %v", status, m != nil)
	}
	status, _, hdr = postForm(t, e.url, "/logout", url.Values{"csrf_token": {m[1]}}, cookie)
	if status != http.StatusSeeOther || hdr.Get("Location") != "/login" {
		t.Fatalf("sign-out: %d to %q", status, hdr.Get("Location"))
	}
	if c := sessionCookie(hdr); c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out does not clear the cookie: %+v", c)
	}
	if status, _, hdr := e.call(t, "GET", "/", "", "", caller{cookie: cookie}); status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Errorf("the old cookie after sign-out: %d to %q, want the sign-in page", status, hdr.Get("Location"))
	}
	if status, _, _ := e.call(t, "GET", "/api/v1/scorecard", "", "", caller{cookie: cookie}); status != http.StatusUnauthorized {
		t.Errorf("the old cookie on the API after sign-out: %d, want 401", status)
	}
}

// A user who may not read the scorecard — the admin role reads no numbers
// (docs/access.md) — signs in to the administration page, and an error
// page's way out leads where the reader may go: an admin-only user had
// landed on a 403 "needs scorecard:read" whose "Go to the scorecard" was
// the same 403. A scorecard reader still lands on the scorecard, and a
// page asked for is still where a sign-in returns.
func TestSignInLandsWhereTheReaderMayGo(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "root@example.com", "admin")
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	signIn := func(email, next string) (string, string) {
		t.Helper()
		status, _, hdr := postForm(t, e.url, "/login", url.Values{"email": {email}, "password": {testPassword}, "next": {next}}, "")
		c := sessionCookie(hdr)
		if status != http.StatusSeeOther || c == nil {
			t.Fatalf("sign-in of %s: %d", email, status)
		}
		return hdr.Get("Location"), c.Value
	}
	to, root := signIn("root@example.com", "")
	if to != "/admin" {
		t.Errorf("an administrator's sign-in leads to %q, want /admin", to)
	}
	if status, _, _ := e.call(t, "GET", to, "", "", caller{cookie: root}); status != 200 {
		t.Errorf("GET %s: %d", to, status)
	}
	if to, _ := signIn("root@example.com", "/sources"); to != "/sources" {
		t.Errorf("an administrator's sign-in to /sources leads to %q", to)
	}
	if to, _ := signIn("ann@example.com", ""); to != "/" {
		t.Errorf("an executive's sign-in leads to %q, want /", to)
	}
	status, page, _ := e.call(t, "GET", "/", "", "", caller{cookie: root})
	if status != http.StatusForbidden || !strings.Contains(string(page), `href="/admin">Go to Admin</a>`) || strings.Contains(string(page), "Go to the scorecard") {
		t.Errorf("the scorecard for an administrator: %d\n%s", status, clip(page))
	}
	status, page, _ = e.call(t, "GET", "/metrics/no_such_metric", "", "", caller{cookie: root})
	if status != http.StatusForbidden && status != http.StatusNotFound || !strings.Contains(string(page), `href="/admin">Go to Admin</a>`) {
		t.Errorf("a metric page for an administrator: %d\n%s", status, clip(page))
	}
}
