package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/oidc"
	"github.com/candor/candor/internal/oidc/oidctest"
	"github.com/candor/candor/internal/store"
)

// withOIDC configures sign-in through an in-process provider: group
// "candor-execs" gives executive, "board" ceo; mod changes the rest.
func withOIDC(t *testing.T, idp *oidctest.Provider, mod func(*oidc.Config)) func(*Server, string) {
	return func(s *Server, base string) {
		cfg := oidc.Config{
			Name: "Acme ID", Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			RedirectURL: base + oidc.CallbackPath, RolesClaim: "groups",
			RoleMapping: map[string][]string{"candor-execs": {"executive"}, "board": {"ceo"}},
			CreateUsers: true, PasswordLogin: true,
		}
		if mod != nil {
			mod(&cfg)
		}
		c, err := oidc.New(cfg, s.Auth)
		if err != nil {
			t.Fatal(err)
		}
		s.OIDC = c
	}
}

// browser keeps cookies and follows redirects, across Candor and the
// provider, as a browser does; at is where it ended up.
type browser struct {
	c  *http.Client
	at *url.URL
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		b.at = req.URL
		return nil
	}}
	return b
}

func (b *browser) get(t *testing.T, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.at = req.URL
	status, body, _ := send(t, b.c, req)
	return status, string(body)
}

func TestOIDCSignIn(t *testing.T) {
	idp := oidctest.New(t, "candor", "s3cret")
	e := newEnvWith(t, 0, withOIDC(t, idp, nil))
	idp.SignInAs(map[string]any{"email": "ann@example.com", "name": "Ann Lee", "groups": []any{"candor-execs", "board"}})
	b := newBrowser(t)

	// The sign-in page offers the provider beside the password form, and
	// carries where to go next.
	_, page := b.get(t, e.url+"/login?next=%2F%3Fas_of%3D2026-03-31")
	for _, want := range []string{`href="/auth/oidc/start?next=%2f%3fas_of%3d2026-03-31"`, "Sign in with Acme ID", `name="password"`, "or with your Candor password"} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %q:\n%s", want, clip([]byte(page)))
		}
	}

	// Candor → provider → Candor's callback → the page asked for, signed
	// in, with the roles the groups map to.
	status, page := b.get(t, e.url+"/auth/oidc/start?next=%2F%3Fas_of%3D2026-03-31")
	if status != 200 || b.at.Path != "/" || b.at.Query().Get("as_of") != "2026-03-31" {
		t.Fatalf("ended at %d %s", status, b.at)
	}
	if !strings.Contains(page, "Ann Lee") || !strings.Contains(page, "Executive") {
		t.Errorf("the scorecard does not show who signed in:\n%s", clip([]byte(page)))
	}
	base, _ := url.Parse(e.url)
	var session *http.Cookie
	for _, c := range b.c.Jar.Cookies(base) {
		switch c.Name {
		case auth.SessionCookie:
			session = c
		case flowCookie:
			t.Errorf("the flow cookie outlived the sign-in: %+v", c)
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	p, err := e.srv.Auth.AuthenticateSession(context.Background(), session.Value)
	if err != nil || p.Name != "ann@example.com" || !slices.Equal(p.Roles, []string{"executive", "ceo"}) {
		t.Errorf("session principal = %+v, %v", p, err)
	}
	es, _ := auth.Events(context.Background(), e.store.(store.DocStore), 1)
	if len(es) != 1 || es[0].Type != auth.EventSignIn || es[0].Via != "oidc:"+idp.URL {
		t.Errorf("last event = %+v", es)
	}

	// Signing out ends an OIDC session like any other.
	status, _, _ = postForm(t, e.url, "/logout", url.Values{auth.CSRFField: {p.CSRFToken()}}, session.Value)
	if status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", status)
	}
	if _, err := e.srv.Auth.AuthenticateSession(context.Background(), session.Value); err == nil {
		t.Error("the session outlived sign-out")
	}
}

func TestOIDCRefusedPages(t *testing.T) {
	idp := oidctest.New(t, "candor", "s3cret")
	e := newEnvWith(t, 0, withOIDC(t, idp, nil))
	addUser(t, e.srv.Auth, "gone@example.com", "executive")
	if _, _, err := e.srv.Auth.DisableUser(context.Background(), admin, "gone@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		person map[string]any
		tamper func(map[string]any)
		status int
		says   string
		reason string
	}{
		{"no mapped group", map[string]any{"email": "bob@example.com", "groups": []any{"interns"}}, nil,
			http.StatusForbidden, "none of your groups gives you a Candor role", auth.ReasonNoRole},
		{"disabled", map[string]any{"email": "gone@example.com", "groups": []any{"board"}}, nil,
			http.StatusForbidden, "Your Candor account is disabled", auth.ReasonDisabled},
		{"wrong audience", map[string]any{"email": "bob@example.com", "groups": []any{"board"}}, func(c map[string]any) { c["aud"] = "other" },
			http.StatusUnauthorized, "could not be verified", oidc.ReasonInvalidToken},
	} {
		t.Run(c.name, func(t *testing.T) {
			idp.SignInAs(c.person)
			idp.Tamper(c.tamper)
			b := newBrowser(t)
			status, page := b.get(t, e.url+"/auth/oidc/start")
			if status != c.status || b.at.Path != oidc.CallbackPath {
				t.Fatalf("%d at %s, want %d", status, b.at.Path, c.status)
			}
			// A clear page: the reason, and the way to try again.
			if !strings.Contains(page, `role="alert"`) || !strings.Contains(page, c.says) || !strings.Contains(page, "Sign in with Acme ID") {
				t.Errorf("page lacks %q:\n%s", c.says, clip([]byte(page)))
			}
			es, _ := auth.Events(context.Background(), e.store.(store.DocStore), 1)
			if len(es) != 1 || es[0].Type != auth.EventSignInFailed || es[0].Reason != c.reason {
				t.Errorf("last event = %+v, want reason %s", es, c.reason)
			}
		})
	}
	// No account came of any of them.
	if _, err := e.store.(auth.Store).UserByEmail(context.Background(), "bob@example.com"); err == nil {
		t.Error("a refused sign-in created an account")
	}
}

func TestOIDCOnlyNoPasswordForm(t *testing.T) {
	idp := oidctest.New(t, "candor", "s3cret")
	e := newEnvWith(t, 0, withOIDC(t, idp, func(c *oidc.Config) { c.PasswordLogin = false }))
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	_, page := newBrowser(t).get(t, e.url+"/login")
	if !strings.Contains(page, "Sign in with Acme ID") || strings.Contains(page, `name="password"`) {
		t.Errorf("sign-in page with password_login off:\n%s", clip([]byte(page)))
	}
	status, body, hdr := postForm(t, e.url, "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, "")
	if status != http.StatusForbidden || sessionCookie(hdr) != nil || !strings.Contains(body, "Signing in with a password is turned off here") {
		t.Errorf("password sign-in with password_login off: %d\n%s", status, clip([]byte(body)))
	}
}

func TestOIDCNotConfigured(t *testing.T) {
	e := newEnv(t, 0)
	_, page := newBrowser(t).get(t, e.url+"/login")
	if strings.Contains(page, "/auth/oidc/start") || !strings.Contains(page, `name="password"`) {
		t.Errorf("sign-in page without a provider:\n%s", clip([]byte(page)))
	}
	for _, path := range []string{"/auth/oidc/start", "/auth/oidc/callback?code=x&state=y"} {
		status, page := newBrowser(t).get(t, e.url+path)
		if status != http.StatusNotFound || !strings.Contains(page, "not set up here") {
			t.Errorf("%s: %d", path, status)
		}
	}
}

// An administrator signing in through the provider, with nowhere asked
// for, lands on the administration page, as a password sign-in does: the
// admin role may not read the scorecard.
func TestOIDCSignInLandsWhereTheReaderMayGo(t *testing.T) {
	idp := oidctest.New(t, "candor", "s3cret")
	e := newEnvWith(t, 0, withOIDC(t, idp, func(c *oidc.Config) { c.RoleMapping["it-admins"] = []string{"admin"} }))
	idp.SignInAs(map[string]any{"email": "root@example.com", "name": "Root", "groups": []any{"it-admins"}})
	b := newBrowser(t)
	if status, _ := b.get(t, e.url+"/auth/oidc/start"); status != 200 || b.at.Path != "/admin" {
		t.Fatalf("ended at %d %s, want 200 /admin", status, b.at)
	}
}
