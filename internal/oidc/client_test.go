package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/oidc/oidctest"
	"github.com/candor/candor/internal/sqlite"
)

var (
	ctx     = context.Background()
	browser = auth.Client{Addr: netip.MustParseAddr("198.51.100.7")}
)

const redirect = "http://127.0.0.1:9/auth/oidc/callback"

type fixture struct {
	idp *oidctest.Provider
	c   *Client
	svc *auth.Service
	st  *sqlite.DB
	now *time.Time
}

func newService(t *testing.T) (*auth.Service, *sqlite.DB) {
	t.Helper()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The built-in roles, and password hashing cheap enough for tests.
	cat, err := catalog.Default()
	var g *auth.Grants
	if err == nil {
		g, err = auth.NewGrants(cat, nil)
	}
	var svc *auth.Service
	if err == nil {
		svc, err = auth.NewService(st, g, auth.Options{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

// testConfig is a provider's configuration: groups map to roles.
func testConfig(idp *oidctest.Provider) Config {
	return Config{
		Name: "Acme ID", Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURL: redirect,
		Scopes: []string{"email", "profile", "groups"}, RolesClaim: "groups",
		RoleMapping: map[string][]string{"candor-execs": {"executive"}, "board": {"ceo", "executive"}, "ops": {"admin"}},
		CreateUsers: true, PasswordLogin: true,
	}
}

func newFixture(t *testing.T, mod func(*Config)) fixture {
	t.Helper()
	idp := oidctest.New(t, "candor", "s3cret")
	svc, st := newService(t)
	now := time.Now()
	cfg := testConfig(idp)
	cfg.Now = func() time.Time { return now }
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	idp.SignInAs(map[string]any{"email": "ann@example.com", "email_verified": true, "name": "Ann Lee", "groups": []any{"candor-execs", "board", "unrelated"}})
	return fixture{idp, c, svc, st, &now}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize follows the authorisation URL to the provider, as a browser
// would, and returns the query of the callback it is sent back to.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirects.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("the provider answered %d, to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

// signIn runs a whole sign-in; change, when set, alters the callback.
func (f fixture) signIn(t *testing.T, change func(q url.Values)) (auth.Login, string, error) {
	t.Helper()
	authURL, sealed, err := f.c.Start(ctx, "/metrics/csat?as_of=2026-03-31")
	if err != nil {
		t.Fatal(err)
	}
	q := authorize(t, authURL)
	if change != nil {
		change(q)
	}
	return f.c.Finish(ctx, q, sealed, browser)
}

func (f fixture) lastEvent(t *testing.T) auth.Event {
	t.Helper()
	es, err := auth.Events(ctx, f.st, 1)
	if err != nil || len(es) == 0 {
		t.Fatalf("events: %v, %v", es, err)
	}
	return es[0]
}

func TestSignInMapsRoles(t *testing.T) {
	f := newFixture(t, nil)
	l, next, err := f.signIn(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	// board gives ceo and executive, candor-execs executive: the union,
	// in the role table's order; "unrelated" maps to nothing.
	if !slices.Equal(l.Principal.Roles, []string{"executive", "ceo"}) || l.Principal.Name != "ann@example.com" || l.Principal.DisplayName != "Ann Lee" {
		t.Errorf("principal = %+v", l.Principal)
	}
	if next != "/metrics/csat?as_of=2026-03-31" {
		t.Errorf("next = %q", next)
	}
	if p, err := f.svc.AuthenticateSession(ctx, l.Secret); err != nil || p.Name != "ann@example.com" {
		t.Errorf("session: %+v, %v", p, err)
	}
	if e := f.lastEvent(t); e.Type != auth.EventSignIn || e.Via != "oidc:"+f.idp.URL || e.Client != browser.String() {
		t.Errorf("event = %+v", e)
	}
	// The provider saw PKCE at both ends (it refuses a flow without) and
	// was asked for nothing more than it had to be.
	if got := f.idp.Asked(); !slices.Equal(got, []string{"discovery", "authorize", "token", "jwks"}) {
		t.Errorf("provider asked %v", got)
	}
}

func TestSignInRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		person map[string]any
		tamper func(claims map[string]any)
		change func(q url.Values)
		config func(*Config)
		reason string
		code   domain.Code
		says   string
	}{
		{name: "no mapped group", person: map[string]any{"email": "bob@example.com", "groups": []any{"interns"}},
			reason: auth.ReasonNoRole, code: domain.EForbidden, says: "none of your groups gives you a Candor role"},
		{name: "no groups claim", person: map[string]any{"email": "bob@example.com"},
			reason: auth.ReasonNoRole, code: domain.EForbidden, says: "none of your groups"},
		{name: "wrong audience", tamper: func(c map[string]any) { c["aud"] = "another-app" },
			reason: ReasonInvalidToken, code: domain.EUnauthorized, says: "could not be verified: expected audience"},
		{name: "wrong issuer", tamper: func(c map[string]any) { c["iss"] = "https://evil.example.com" },
			reason: ReasonInvalidToken, code: domain.EUnauthorized, says: "issued by a different provider"},
		{name: "wrong nonce", tamper: func(c map[string]any) { c["nonce"] = "replayed" },
			reason: ReasonInvalidToken, code: domain.EUnauthorized, says: "belongs to another sign-in (nonce)"},
		{name: "no nonce", tamper: func(c map[string]any) { delete(c, "nonce") },
			reason: ReasonInvalidToken, code: domain.EUnauthorized, says: "nonce"},
		{name: "expired", tamper: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() },
			reason: ReasonInvalidToken, code: domain.EUnauthorized, says: "ID token expired at"},
		{name: "several audiences, not issued to Candor", tamper: func(c map[string]any) { c["aud"] = []string{"candor", "other"}; c["azp"] = "other" },
			reason: ReasonInvalidToken, code: domain.EUnauthorized, says: `issued to "other"`},
		{name: "wrong state", change: func(q url.Values) { q.Set("state", "guessed") },
			reason: ReasonBadState, code: domain.EInvalid, says: "not started in this browser"},
		{name: "provider error", change: func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") },
			reason: ReasonProviderRefused, code: domain.EForbidden, says: "Acme ID did not sign you in (access_denied)"},
		{name: "code used twice or forged", change: func(q url.Values) { q.Set("code", "forged") },
			reason: ReasonCodeRefused, code: domain.EUnauthorized, says: "would not complete the sign-in (invalid_grant"},
		{name: "unverified e-mail", person: map[string]any{"email": "bob@example.com", "email_verified": false, "groups": []any{"board"}},
			reason: ReasonNoEmail, code: domain.EForbidden, says: "has not verified your e-mail address"},
		{name: "e-mail verification not said", person: map[string]any{"email": "admin@example.com", "email_verified": nil, "groups": []any{"board"}},
			reason: ReasonNoEmail, code: domain.EForbidden, says: "did not say whether it has verified your e-mail address admin@example.com"},
		{name: "no e-mail", person: map[string]any{"sub": "u1", "groups": []any{"board"}},
			reason: ReasonNoEmail, code: domain.EForbidden, says: "did not send your e-mail address"},
		{name: "domain not allowed", person: map[string]any{"email": "bob@gmail.com", "groups": []any{"board"}},
			config: func(c *Config) { c.AllowedEmailDomains = []string{"Example.com"} },
			reason: ReasonEmailDomain, code: domain.EForbidden, says: "open to addresses at example.com only"},
		{name: "no account, none created", person: map[string]any{"email": "new@example.com", "groups": []any{"board"}},
			config: func(c *Config) { c.CreateUsers = false },
			reason: auth.ReasonUnknownUser, code: domain.EForbidden, says: "no Candor account"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.config)
			if c.person != nil {
				f.idp.SignInAs(c.person)
			}
			f.idp.Tamper(c.tamper)
			before, _ := f.svc.Users(ctx)
			_, _, err := f.signIn(t, c.change)
			if err == nil {
				t.Fatal("signed in")
			}
			if domain.CodeOf(err) != c.code || !strings.Contains(err.Error(), c.says) {
				t.Errorf("err = %q (%s), want %s saying %q", err, domain.CodeOf(err), c.code, c.says)
			}
			if e := f.lastEvent(t); e.Type != auth.EventSignInFailed || e.Reason != c.reason || e.Via != "oidc:"+f.idp.URL {
				t.Errorf("event = %+v, want reason %s", e, c.reason)
			}
			if after, _ := f.svc.Users(ctx); len(after) != len(before) {
				t.Errorf("a refused sign-in created an account: %v", after)
			}
		})
	}
}

func TestSignInWrongStateNeverReachesProvider(t *testing.T) {
	f := newFixture(t, nil)
	_, _, err := f.signIn(t, func(q url.Values) { q.Set("state", "guessed") })
	if err == nil {
		t.Fatal("signed in")
	}
	if slices.Contains(f.idp.Asked(), "token") {
		t.Error("the code was exchanged for a callback of another browser's sign-in")
	}
	// Nor does a callback without the flow cookie, or with a changed one.
	authURL, sealed, _ := f.c.Start(ctx, "/")
	q := authorize(t, authURL)
	for _, bad := range []string{"", sealed[:len(sealed)-2] + "AA", "x" + sealed} {
		if _, _, err := f.c.Finish(ctx, q, bad, browser); err == nil || f.lastEvent(t).Reason != ReasonBadState {
			t.Errorf("flow %q: %v", bad, err)
		}
	}
	if slices.Contains(f.idp.Asked(), "token") {
		t.Error("the code was exchanged without this browser's flow")
	}
	// The flow itself still works, once.
	if _, _, err := f.c.Finish(ctx, q, sealed, browser); err != nil {
		t.Fatal(err)
	}
}

func TestSignInFlowExpires(t *testing.T) {
	f := newFixture(t, nil)
	authURL, sealed, _ := f.c.Start(ctx, "/")
	q := authorize(t, authURL)
	*f.now = f.now.Add(FlowTTL + time.Second)
	if _, _, err := f.c.Finish(ctx, q, sealed, browser); err == nil || !strings.Contains(err.Error(), "took longer than 10m0s") {
		t.Errorf("a late callback: %v", err)
	}
}

// TestSignInSendsPKCEVerifier: the provider issued the code for the
// challenge of this flow's verifier; a flow with another verifier (but
// the same state and nonce) cannot redeem it.
func TestSignInSendsPKCEVerifier(t *testing.T) {
	f := newFixture(t, nil)
	authURL, sealed, _ := f.c.Start(ctx, "/")
	q := authorize(t, authURL)
	fl, ok := openFlow(f.c.key, sealed, *f.now)
	if !ok {
		t.Fatal("own flow refused")
	}
	fl.Verifier = "another-verifier-of-sufficient-length-0123456789abcdef"
	_, _, err := f.c.Finish(ctx, q, fl.seal(f.c.key), browser)
	if err == nil || !strings.Contains(err.Error(), "PKCE verifier does not match") || f.lastEvent(t).Reason != ReasonCodeRefused {
		t.Errorf("another verifier: %v", err)
	}
}

func TestSignInDisabledUser(t *testing.T) {
	f := newFixture(t, nil)
	if _, _, err := f.signIn(t, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.DisableUser(ctx, auth.CLIActor("root"), "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.signIn(t, nil)
	if !errors.Is(err, auth.ErrAccountDisabled) || f.lastEvent(t).Reason != auth.ReasonDisabled {
		t.Errorf("disabled user: %v", err)
	}
}

func TestSignInProvisioning(t *testing.T) {
	// On (the default): the first sign-in creates the account with the
	// mapped roles; a later one follows the provider's groups.
	f := newFixture(t, nil)
	if _, _, err := f.signIn(t, nil); err != nil {
		t.Fatal(err)
	}
	u, err := f.st.UserByEmail(ctx, "ann@example.com")
	if err != nil || !slices.Equal(u.Roles, []string{"executive", "ceo"}) || u.Name != "Ann Lee" || u.PasswordHash != "" {
		t.Fatalf("created user = %+v, %v", u, err)
	}
	f.idp.SignInAs(map[string]any{"email": "ann@example.com", "groups": []any{"ops"}})
	l, _, err := f.signIn(t, nil)
	if err != nil || !slices.Equal(l.Principal.Roles, []string{"admin"}) {
		t.Fatalf("after a group change: %+v, %v", l.Principal, err)
	}
	if u, _ := f.st.UserByEmail(ctx, "ann@example.com"); !slices.Equal(u.Roles, []string{"admin"}) {
		t.Errorf("stored roles = %v", u.Roles)
	}

	// Off: only accounts that exist sign in.
	f = newFixture(t, func(c *Config) { c.CreateUsers = false })
	if _, _, err := f.signIn(t, nil); !errors.Is(err, auth.ErrNoAccount) {
		t.Fatalf("no account: %v", err)
	}
	if _, err := f.svc.AddUser(ctx, auth.CLIActor("root"), auth.NewUser{Email: "ann@example.com", Roles: []string{"support"}, Password: "a long enough password"}); err != nil {
		t.Fatal(err)
	}
	if l, _, err := f.signIn(t, nil); err != nil || !slices.Equal(l.Principal.Roles, []string{"executive", "ceo"}) {
		t.Errorf("existing account: %+v, %v", l.Principal, err)
	}
}

// A provider that does not say email_verified (in the ID token or at
// userinfo) could be one that lets people set any address, which would
// sign them in to the local account of that address: refused unless the
// operator trusts the provider's addresses.
func TestSignInEmailVerifiedUnsaid(t *testing.T) {
	person := map[string]any{"email": "ann@example.com", "email_verified": nil, "groups": []any{"board"}}
	f := newFixture(t, func(c *Config) { c.TrustUnsaidEmail = true })
	f.idp.SignInAs(person)
	if l, _, err := f.signIn(t, nil); err != nil || l.Principal.Name != "ann@example.com" {
		t.Fatalf("trusted provider: %+v, %v", l.Principal, err)
	}
	// Said at the userinfo endpoint only: asked for it, and signed in.
	f = newFixture(t, nil)
	f.idp.SignInAs(person)
	f.idp.UserInfo(map[string]any{"email_verified": "true"})
	if l, _, err := f.signIn(t, nil); err != nil || l.Principal.Name != "ann@example.com" {
		t.Fatalf("verified at userinfo: %+v, %v", l.Principal, err)
	}
	if !slices.Contains(f.idp.Asked(), "userinfo") {
		t.Error("userinfo not asked for email_verified")
	}
	f = newFixture(t, nil)
	f.idp.SignInAs(person)
	f.idp.UserInfo(map[string]any{"email_verified": false})
	if _, _, err := f.signIn(t, nil); err == nil || !strings.Contains(err.Error(), "has not verified") {
		t.Fatalf("unverified at userinfo: %v", err)
	}
}

func TestSignInClaimsFromUserInfo(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RolesClaim = "realm_access.roles" })
	f.idp.SignInAs(map[string]any{"sub": "u-42"})
	f.idp.UserInfo(map[string]any{"email": "kim@example.com", "email_verified": true, "realm_access": map[string]any{"roles": []any{"board"}}})
	l, _, err := f.signIn(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Principal.Name != "kim@example.com" || !slices.Equal(l.Principal.Roles, []string{"executive", "ceo"}) {
		t.Errorf("principal = %+v", l.Principal)
	}
	if !slices.Contains(f.idp.Asked(), "userinfo") {
		t.Error("userinfo not asked")
	}
}

func TestMapRolesClaimShapes(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RolesClaim = "https://acme.example/groups" })
	for _, c := range []struct {
		claims map[string]any
		want   []string
	}{
		{map[string]any{"https://acme.example/groups": "ops"}, []string{"admin"}},
		{map[string]any{"https://acme.example/groups": []any{"ops", "board", 7}}, []string{"admin", "executive", "ceo"}},
		{map[string]any{"https://acme.example/groups": []any{"OPS"}}, nil}, // exact match
		{map[string]any{"groups": []any{"ops"}}, nil},
	} {
		if got := f.c.MapRoles(c.claims); !slices.Equal(got, c.want) {
			t.Errorf("MapRoles(%v) = %v, want %v", c.claims, got, c.want)
		}
	}
}

// flaky fails every request while down is set.
type flaky struct {
	down  atomic.Bool
	calls atomic.Int32
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestProviderDownAtStart(t *testing.T) {
	tr := &flaky{}
	tr.down.Store(true)
	f := newFixture(t, func(c *Config) { c.HTTPClient = &http.Client{Transport: tr} })
	_, _, err := f.c.Start(ctx, "/")
	if domain.CodeOf(err) != domain.EUnavailable || !strings.Contains(err.Error(), "Acme ID cannot be reached") {
		t.Fatalf("provider down: %v", err)
	}
	// Asked again only after a pause, however many people try.
	f.c.Start(ctx, "/")
	if n := tr.calls.Load(); n != 1 {
		t.Errorf("provider asked %d times while down", n)
	}
	tr.down.Store(false)
	*f.now = f.now.Add(discoveryRetry)
	if _, _, err := f.signIn(t, nil); err != nil {
		t.Errorf("after the provider came back: %v", err)
	}
}

func TestCheckConfig(t *testing.T) {
	svc, _ := newService(t)
	base := Config{Issuer: "https://login.example.com", ClientID: "candor", ClientSecret: "s", RedirectURL: "https://candor.example.com/auth/oidc/callback",
		RolesClaim: "groups", RoleMapping: map[string][]string{"execs": {"executive"}}}
	c, err := Check(base, svc.Grants())
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != DefaultName || !slices.Equal(c.Scopes, DefaultScopes) {
		t.Errorf("defaults: %+v", c)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer: required"},
		{"http issuer", func(c *Config) { c.Issuer = "http://login.example.com" }, "issuer: \"http://login.example.com\" must use https"},
		{"relative issuer", func(c *Config) { c.Issuer = "login.example.com" }, "issuer: \"login.example.com\" is not an absolute URL"},
		{"no client id", func(c *Config) { c.ClientID = " " }, "client_id: required"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "client_secret: required"},
		{"wrong callback path", func(c *Config) { c.RedirectURL = "https://candor.example.com/callback" }, "redirect_url: \"https://candor.example.com/callback\" must be Candor's address followed by /auth/oidc/callback"},
		{"bad scope", func(c *Config) { c.Scopes = []string{"openid", "a b"} }, "scopes[1]"},
		{"no claim", func(c *Config) { c.RolesClaim = "" }, "roles_claim: required"},
		{"no mapping", func(c *Config) { c.RoleMapping = nil }, "role_mapping: required"},
		{"unknown role", func(c *Config) { c.RoleMapping = map[string][]string{"execs": {"cfo"}} }, `role_mapping.execs: unknown role "cfo"`},
		{"empty roles", func(c *Config) { c.RoleMapping = map[string][]string{"execs": {}} }, "role_mapping.execs: at least one role"},
		{"bad domain", func(c *Config) { c.AllowedEmailDomains = []string{"example.com", "ann@example.com"} }, "allowed_email_domains[1]"},
	} {
		cfg := base
		cfg.RoleMapping = map[string][]string{"execs": {"executive"}}
		tc.mod(&cfg)
		if _, err := Check(cfg, svc.Grants()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	c, _ = Check(Config{Issuer: "http://127.0.0.1:5556", ClientID: "c", ClientSecret: "s", RedirectURL: "http://localhost:8080/auth/oidc/callback",
		Scopes: []string{"email"}, RolesClaim: "groups", RoleMapping: map[string][]string{"x": {"ceo"}}, AllowedEmailDomains: []string{"@Example.COM"}}, svc.Grants())
	if !slices.Equal(c.Scopes, []string{"openid", "email"}) || !slices.Equal(c.AllowedEmailDomains, []string{"example.com"}) {
		t.Errorf("completed config: %+v", c)
	}
}
