package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

type fixture struct {
	svc   *Service
	st    *sqlite.DB
	clock *clock
}

func newFixture(t *testing.T, mod func(*Options)) fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := newClock()
	opt := Options{Params: fastParams, Now: c.Now, SessionMaxAge: 12 * time.Hour, SessionIdle: 2 * time.Hour}
	if mod != nil {
		mod(&opt)
	}
	svc, err := NewService(st, grants(t, nil), opt)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc, st, c}
}

var (
	ctx     = context.Background()
	cli     = CLIActor("root")
	browser = Client{Addr: netip.MustParseAddr("198.51.100.7")}
)

const pw = "a password of some length"

func (f fixture) addUser(t *testing.T, email string, roles ...string) store.User {
	t.Helper()
	u, err := f.svc.AddUser(ctx, cli, NewUser{Email: email, Roles: roles, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f fixture) events(t *testing.T) []Event {
	t.Helper()
	es, err := Events(ctx, f.st, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

func (f fixture) lastEvent(t *testing.T) Event {
	t.Helper()
	es := f.events(t)
	if len(es) == 0 {
		t.Fatal("no access events")
	}
	return es[len(es)-1]
}

func TestAddUser(t *testing.T) {
	f := newFixture(t, nil)
	u, err := f.svc.AddUser(ctx, cli, NewUser{Email: "  Ann@Example.COM ", Name: "Ann Lee", Roles: []string{"cro", "admin", "cro"}, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ann@example.com" || u.Name != "Ann Lee" || !slices.Equal(u.Roles, []string{"cro", "admin"}) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("user = %+v", u)
	}
	e := f.lastEvent(t)
	if e.Type != EventUserCreated || e.Actor != "cli:root" || e.Subject != "user:ann@example.com" || !slices.Equal(e.Roles, []string{"cro", "admin"}) || !e.At.Equal(f.clock.t) {
		t.Errorf("event = %+v", e)
	}
	for _, tc := range []struct {
		nu    NewUser
		field string
		msg   string
	}{
		{NewUser{Email: "ann@example.com", Roles: []string{"cro"}, Password: pw}, "email", "exists"},
		{NewUser{Email: "ANN@example.com", Roles: []string{"cro"}, Password: pw}, "email", "exists"},
		{NewUser{Email: "Ann <ann2@example.com>", Roles: []string{"cro"}, Password: pw}, "email", "not an e-mail address"},
		{NewUser{Email: "ann", Roles: []string{"cro"}, Password: pw}, "email", "not an e-mail address"},
		{NewUser{Email: "", Roles: []string{"cro"}, Password: pw}, "email", "required"},
		{NewUser{Email: "b@example.com", Roles: []string{"cfo"}, Password: pw}, "roles", `unknown role "cfo"; known: admin`},
		{NewUser{Email: "b@example.com", Password: pw}, "roles", "at least one role"},
		{NewUser{Email: "b@example.com", Roles: []string{"cro"}, Password: "short"}, "password", "shorter than 12"},
		{NewUser{Email: "b@example.com", Name: "a\x00b", Roles: []string{"cro"}, Password: pw}, "name", "control"},
	} {
		_, err := f.svc.AddUser(ctx, cli, tc.nu)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !strings.Contains(ie.Msg, tc.msg) {
			t.Errorf("AddUser(%+v) = %v; want an InputError on %s saying %q", tc.nu, err, tc.field, tc.msg)
		}
	}
	if us, _ := f.svc.Users(ctx); len(us) != 1 {
		t.Errorf("refused users were stored: %d users", len(us))
	}
	if n := len(f.events(t)); n != 1 {
		t.Errorf("refused users left events: %d", n)
	}
}

func TestLoginAndSession(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser(t, "ann@example.com", "cro")
	l, err := f.svc.Login(ctx, " ANN@example.com", pw, browser)
	if err != nil {
		t.Fatal(err)
	}
	if l.Principal.Kind != KindUser || l.Principal.ID != u.ID || l.Principal.Name != "ann@example.com" || !slices.Equal(l.Principal.Roles, []string{"cro"}) ||
		l.Principal.CSRFToken() == "" || !l.Expires.Equal(f.clock.t.Add(12*time.Hour)) || len(l.Secret) != 43 {
		t.Fatalf("login = %+v", l)
	}
	e := f.lastEvent(t)
	if e.Type != EventSignIn || e.Subject != "user:ann@example.com" || e.Client != "198.51.100.7" || e.Actor != "" {
		t.Errorf("sign-in event = %+v", e)
	}
	// Only the hash of the secret is stored.
	if _, _, err := f.st.SessionUser(ctx, l.Secret); !errors.Is(err, store.ErrNotFound) {
		t.Error("the session secret itself is a stored key")
	}
	p, err := f.svc.AuthenticateSession(ctx, l.Secret)
	if err != nil || p.ID != u.ID || p.CSRFToken() != l.Principal.CSRFToken() {
		t.Fatalf("AuthenticateSession = %+v, %v", p, err)
	}

	// Idle timeout: used within 2 h it lives on (last seen moves), until
	// the 12 h maximum.
	for i := 0; i < 6; i++ {
		f.clock.Advance(110 * time.Minute)
		if _, err := f.svc.AuthenticateSession(ctx, l.Secret); err != nil {
			t.Fatalf("after %v of use: %v", time.Duration(i+1)*110*time.Minute, err)
		}
	}
	f.clock.Advance(time.Hour + 50*time.Minute) // 11h00 + 1h50 = 12h50: past the maximum
	if _, err := f.svc.AuthenticateSession(ctx, l.Secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("after the maximum age: %v, want ErrInvalidCredentials", err)
	}

	l2, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	f.clock.Advance(2 * time.Hour)
	if _, err := f.svc.AuthenticateSession(ctx, l2.Secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("idle 2 h: %v, want ErrInvalidCredentials", err)
	}
	if n, err := f.svc.PruneSessions(ctx); err != nil || n != 2 {
		t.Errorf("PruneSessions = %d, %v; want both ended sessions", n, err)
	}

	// Logout revokes; the cookie's secret is then worthless.
	l3, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	p3, _ := f.svc.AuthenticateSession(ctx, l3.Secret)
	if err := f.svc.Logout(ctx, p3, browser); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateSession(ctx, l3.Secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("after logout: %v", err)
	}
	if e := f.lastEvent(t); e.Type != EventSignOut || e.Actor != "user:ann@example.com" || e.Subject != "user:ann@example.com" {
		t.Errorf("sign-out event = %+v", e)
	}
	for _, bad := range []string{"", "x", l3.Secret + "A", strings.Repeat("A", 43)} {
		if _, err := f.svc.AuthenticateSession(ctx, bad); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("secret %q: %v", bad, err)
		}
	}
}

func TestLoginFailures(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "cro")
	f.addUser(t, "bob@example.com", "cro")
	if _, _, err := f.svc.DisableUser(ctx, cli, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ email, password, reason string }{
		{"ann@example.com", "wrong password!", ReasonWrongPassword},
		{"nobody@example.com", pw, ReasonUnknownUser},
		{"not an address", pw, ReasonUnknownUser},
		{"bob@example.com", pw, ReasonDisabled},
	} {
		_, err := f.svc.Login(ctx, tc.email, tc.password, browser)
		if !errors.Is(err, ErrBadCredentials) || err.Error() != ErrBadCredentials.Error() {
			t.Errorf("%s: err = %v, want exactly ErrBadCredentials", tc.email, err)
		}
		e := f.lastEvent(t)
		if e.Type != EventSignInFailed || e.Reason != tc.reason || e.Subject != "user:"+tc.email || e.Client != "198.51.100.7" {
			t.Errorf("%s: event = %+v, want sign_in_failed %s", tc.email, e, tc.reason)
		}
	}
}

func TestLoginRateLimits(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.AccountLimit = Rate{Attempts: 3, Per: 3 * time.Minute}
		o.AddressLimit = Rate{Attempts: 5, Per: 5 * time.Minute}
	})
	f.addUser(t, "ann@example.com", "cro")
	other := Client{Addr: netip.MustParseAddr("203.0.113.9")}

	// Per account, whatever the address: 3 failures, then refused even
	// with the right password, once recorded.
	for i, c := range []Client{browser, other, browser} {
		if _, err := f.svc.Login(ctx, "ann@example.com", "wrong password!", c); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	before := len(f.events(t))
	var rl *RateLimitedError
	for i := 0; i < 3; i++ {
		_, err := f.svc.Login(ctx, "ANN@example.com", pw, other)
		if !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
			t.Fatalf("over the account limit: %v, want RateLimitedError after 1m", err)
		}
	}
	es := f.events(t)
	if len(es) != before+1 || es[len(es)-1].Reason != ReasonRateLimited {
		t.Errorf("refused attempts recorded %d times (want once): %+v", len(es)-before, es[len(es)-1])
	}
	f.clock.Advance(time.Minute)
	if _, err := f.svc.Login(ctx, "ann@example.com", pw, other); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	// Success clears the account's count.
	for i := 0; i < 3; i++ {
		f.svc.Login(ctx, "ann@example.com", "wrong password!", other)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", "wrong password!", other); !errors.As(err, &rl) {
		t.Errorf("4th failure after a success: %v, want rate limited", err)
	}

	// Per address, whatever the account: 5 from one address (one is used
	// above by `other`... a fresh address here).
	spray := Client{Addr: netip.MustParseAddr("2001:db8:7:7::1")}
	for i := 0; i < 5; i++ {
		f.svc.Login(ctx, "user"+string(rune('a'+i))+"@example.com", "guess guess guess", spray)
	}
	// Same /64, another address: still the same client.
	next := Client{Addr: netip.MustParseAddr("2001:db8:7:7::2")}
	if _, err := f.svc.Login(ctx, "userz@example.com", "guess guess guess", next); !errors.As(err, &rl) {
		t.Errorf("6th attempt from the /64: %v, want rate limited", err)
	}
	// Refused by address: no account attempt was spent.
	f.clock.Advance(time.Minute)
	if _, err := f.svc.Login(ctx, "userz@example.com", "guess guess guess", browser); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("another address: %v", err)
	}
}

func TestDisableRevokesSessionsAndTokens(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "admin", "ingest")
	f.addUser(t, "bob@example.com", "admin")
	l, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	lb, _ := f.svc.Login(ctx, "bob@example.com", pw, browser)
	mine, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "ann-ci", Roles: []string{"ingest"}, Owner: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	svc, _, _ := f.svc.CreateToken(ctx, cli, NewToken{Name: "svc", Roles: []string{"ingest"}})

	ns, nt, err := f.svc.DisableUser(ctx, ActorOf(as("admin"), browser), "Ann@example.com")
	if err != nil || ns != 1 || nt != 1 {
		t.Fatalf("DisableUser = %d, %d, %v", ns, nt, err)
	}
	if _, err := f.svc.AuthenticateSession(ctx, l.Secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("disabled user's session: %v", err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, mine); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("disabled user's token: %v", err)
	}
	if _, err := f.svc.AuthenticateSession(ctx, lb.Secret); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, svc); err != nil {
		t.Errorf("a service token: %v", err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", pw, browser); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled user signs in: %v", err)
	}
	// The user's event, then one per token revoked, as revoking it alone
	// records (docs/access.md: every revocation is appended); the
	// revocation had gone unrecorded beside "User disabled".
	e := f.events(t)
	if d := e[len(e)-3]; d.Type != EventUserDisabled || d.Actor != "user:x@example.com" || d.Client != "198.51.100.7" {
		t.Errorf("disable event = %+v", d)
	}
	if r := e[len(e)-2]; r.Type != EventTokenRevoked || r.Subject != "token:ann-ci" || r.Actor != "user:x@example.com" ||
		r.Client != "198.51.100.7" || r.Reason != ReasonOwnerDisabled || r.Token == "" || !strings.HasPrefix(mine, strings.TrimSuffix(r.Token, "…")) || !r.At.Equal(e[len(e)-3].At) {
		t.Errorf("token revocation event = %+v", r)
	}
	var ie *InputError
	if _, _, err := f.svc.DisableUser(ctx, cli, "ann@example.com"); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "disabled already") {
		t.Errorf("disable twice: %v", err)
	}
	if _, _, err := f.svc.DisableUser(ctx, cli, "zed@example.com"); !errors.As(err, &ie) || ie.Field != "email" {
		t.Errorf("disable no one: %v", err)
	}
}

func TestSetRoles(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "support")
	l, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	before, after, err := f.svc.SetRoles(ctx, cli, "ann@example.com", []string{"cro", "vp_cs"})
	if err != nil || !slices.Equal(before, []string{"support"}) || !slices.Equal(after, []string{"cro", "vp_cs"}) {
		t.Fatalf("SetRoles = %v, %v, %v", before, after, err)
	}
	e := f.lastEvent(t)
	if e.Type != EventRolesChanged || !slices.Equal(e.Roles, after) || !slices.Equal(e.RolesBefore, before) || e.Actor != "cli:root" {
		t.Errorf("event = %+v", e)
	}
	// A live session has the new roles at its next request.
	if p, _ := f.svc.AuthenticateSession(ctx, l.Secret); !slices.Equal(p.Roles, after) {
		t.Errorf("session roles = %v", p.Roles)
	}
	n := len(f.events(t))
	if _, _, err := f.svc.SetRoles(ctx, cli, "ann@example.com", []string{"cro", "vp_cs"}); err != nil || len(f.events(t)) != n {
		t.Errorf("unchanged roles: %v, %d new events", err, len(f.events(t))-n)
	}
	var ie *InputError
	if _, _, err := f.svc.SetRoles(ctx, cli, "ann@example.com", []string{"root"}); !errors.As(err, &ie) || ie.Field != "roles" {
		t.Errorf("unknown role: %v", err)
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t, nil)
	secret, tok, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "ci-deploy", Roles: []string{"ingest"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "cdr_"+tok.Lookup+"_") || len(secret) != 4+13+1+52 || tok.Hash == secret || strings.Contains(tok.Hash, secret) {
		t.Fatalf("secret %q, token %+v", secret, tok)
	}
	if e := f.lastEvent(t); e.Type != EventTokenCreated || e.Subject != "token:ci-deploy" || e.Token != TokenDisplay(tok.Lookup) || strings.Contains(string(e.encode()), secret) {
		t.Errorf("event = %+v", e)
	}
	p, err := f.svc.AuthenticateToken(ctx, secret)
	if err != nil || p.Kind != KindToken || p.Name != "ci-deploy" || !slices.Equal(p.Roles, []string{"ingest"}) || p.CSRFToken() != "" {
		t.Fatalf("AuthenticateToken = %+v, %v", p, err)
	}
	all, _ := f.svc.Tokens(ctx)
	if !all[0].LastUsed.Equal(f.clock.t) {
		t.Errorf("last used = %v", all[0].LastUsed)
	}
	// A token differing in its secret part, or in one character, fails.
	flip := []byte(secret)
	flip[len(flip)-1] ^= 1
	for _, bad := range []string{string(flip), secret[:len(secret)-1], "cdr_" + tok.Lookup + "_" + strings.Repeat("a", 52), strings.ToUpper(secret), ""} {
		if _, err := f.svc.AuthenticateToken(ctx, bad); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	var ie *InputError
	if _, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "ci-deploy", Roles: []string{"ingest"}}); !errors.As(err, &ie) || ie.Field != "name" {
		t.Errorf("second active ci-deploy: %v", err)
	}
	if _, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "has space", Roles: []string{"ingest"}}); !errors.As(err, &ie) || ie.Field != "name" {
		t.Errorf("bad name: %v", err)
	}
	if _, err := f.svc.RevokeToken(ctx, cli, "ci-deploy", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("revoked token: %v", err)
	}
	if e := f.lastEvent(t); e.Type != EventTokenRevoked || e.Subject != "token:ci-deploy" {
		t.Errorf("event = %+v", e)
	}
	if _, err := f.svc.RevokeToken(ctx, cli, "ci-deploy", 0); !errors.As(err, &ie) || ie.Field != "name" {
		t.Errorf("revoke twice by name: %v", err)
	}
	if _, err := f.svc.RevokeToken(ctx, cli, "", tok.ID); !errors.As(err, &ie) || !strings.Contains(ie.Msg, "revoked already") {
		t.Errorf("revoke twice by id: %v", err)
	}
	// The name is free again.
	if _, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "ci-deploy", Roles: []string{"ingest"}}); err != nil {
		t.Errorf("reusing a revoked token's name: %v", err)
	}
}

func TestOwnedTokenFollowsOwnerRoles(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "ingest", "auditor")
	var ie *InputError
	if _, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "t", Roles: []string{"admin"}, Owner: "ann@example.com"}); !errors.As(err, &ie) || ie.Field != "roles" {
		t.Errorf("token beyond its owner's roles: %v", err)
	}
	if _, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "t", Roles: []string{"ingest"}, Owner: "zed@example.com"}); !errors.As(err, &ie) || ie.Field != "owner" {
		t.Errorf("no such owner: %v", err)
	}
	secret, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "t", Roles: []string{"ingest", "auditor"}, Owner: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetRoles(ctx, cli, "ann@example.com", []string{"auditor"})
	if p, err := f.svc.AuthenticateToken(ctx, secret); err != nil || !slices.Equal(p.Roles, []string{"auditor"}) {
		t.Errorf("after the owner lost ingest: %+v, %v", p, err)
	}
}

func TestAuthenticateRequest(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "cro")
	l, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	tok, _, _ := f.svc.CreateToken(ctx, cli, NewToken{Name: "ci", Roles: []string{"ingest"}})
	req := func(mod func(r *http.Request)) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		mod(r)
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		who  string
		err  error
	}{
		{"anonymous", req(func(*http.Request) {}), "", nil},
		{"bearer", req(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }), "ci", nil},
		{"bearer scheme any case", req(func(r *http.Request) { r.Header.Set("Authorization", "bearer "+tok) }), "ci", nil},
		{"bad bearer", req(func(r *http.Request) { r.Header.Set("Authorization", "Bearer cdr_nope") }), "", ErrInvalidCredentials},
		{"basic auth", req(func(r *http.Request) { r.SetBasicAuth("ann@example.com", pw) }), "", ErrInvalidCredentials},
		{"cookie", req(func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: l.Secret}) }), "ann@example.com", nil},
		{"bad cookie", req(func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "forged"}) }), "", ErrInvalidCredentials},
		// Over HTTPS only the __Host- cookie counts: a plain one may have
		// been planted over HTTP.
		{"plain cookie over https", req(func(r *http.Request) {
			r.Header.Set("X-Forwarded-Proto", "https")
			r.RemoteAddr = "10.0.0.1:80"
			r.AddCookie(&http.Cookie{Name: SessionCookie, Value: l.Secret})
		}), "", nil},
		// The header wins over a cookie.
		{"both", req(func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+tok)
			r.AddCookie(&http.Cookie{Name: SessionCookie, Value: l.Secret})
		}), "ci", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := f.svc
			if tc.name == "plain cookie over https" {
				svc.opt.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
				defer func() { svc.opt.TrustedProxies = nil }()
			}
			p, err := svc.Authenticate(tc.r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) || p.Name != tc.who {
				t.Errorf("Authenticate = %q, %v; want %q, %v", p.Name, err, tc.who, tc.err)
			}
		})
	}
}

func TestSessionCookie(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "cro")
	l, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	set := func(svc *Service, r *http.Request) *http.Cookie {
		w := httptest.NewRecorder()
		svc.SetSessionCookie(w, r, l)
		cs := w.Result().Cookies()
		if len(cs) != 1 {
			t.Fatalf("%d cookies set", len(cs))
		}
		return cs[0]
	}
	plain := set(f.svc, httptest.NewRequest("GET", "http://candor.test/", nil))
	if plain.Name != SessionCookie || plain.Value != l.Secret || !plain.HttpOnly || plain.Secure || plain.SameSite != http.SameSiteLaxMode || plain.Path != "/" || plain.MaxAge != 12*3600 {
		t.Errorf("cookie over http = %+v", plain)
	}
	tlsReq := httptest.NewRequest("GET", "https://candor.test/", nil)
	if c := set(f.svc, tlsReq); c.Name != SecureSessionCookie || !c.Secure || !c.HttpOnly || c.Domain != "" {
		t.Errorf("cookie over https = %+v", c)
	}
	forced := newFixture(t, func(o *Options) { o.SecureCookies = true })
	if c := set(forced.svc, httptest.NewRequest("GET", "http://candor.test/", nil)); !c.Secure || c.Name != SecureSessionCookie {
		t.Errorf("forced secure cookie = %+v", c)
	}
	// Behind a trusted TLS proxy.
	proxied := newFixture(t, func(o *Options) { o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	r := httptest.NewRequest("GET", "http://candor.test/", nil)
	r.RemoteAddr = "127.0.0.1:9999"
	r.Header.Set("X-Forwarded-Proto", "https")
	if c := set(proxied.svc, r); !c.Secure {
		t.Errorf("cookie behind a TLS proxy = %+v", c)
	}
	w := httptest.NewRecorder()
	f.svc.ClearSessionCookie(w, httptest.NewRequest("GET", "http://candor.test/", nil))
	if c := w.Result().Cookies()[0]; c.Name != SessionCookie || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cleared cookie = %+v", c)
	}
}

func TestCheckCSRF(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "cro")
	l, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	l2, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	p := l.Principal
	if p.CSRFToken() == l2.Principal.CSRFToken() || strings.Contains(l.Secret, p.CSRFToken()) {
		t.Fatal("CSRF tokens are not per session, or reveal the secret")
	}
	form := func(token string) *http.Request {
		r := httptest.NewRequest("POST", "/admin/users", strings.NewReader(url.Values{CSRFField: {token}, "email": {"x@example.com"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	header := func(method, token string) *http.Request {
		r := httptest.NewRequest(method, "/api/v1/records", nil)
		if token != "" {
			r.Header.Set(CSRFHeader, token)
		}
		return r
	}
	tok, _, _ := f.svc.CreateToken(ctx, cli, NewToken{Name: "ci", Roles: []string{"ingest"}})
	bearer, _ := f.svc.AuthenticateToken(ctx, tok)
	for _, tc := range []struct {
		name string
		r    *http.Request
		p    Principal
		ok   bool
	}{
		{"form with token", form(p.CSRFToken()), p, true},
		{"form without token", form(""), p, false},
		{"form with another session's token", form(l2.Principal.CSRFToken()), p, false},
		{"header", header("DELETE", p.CSRFToken()), p, true},
		{"no header", header("PUT", ""), p, false},
		{"wrong header", header("PATCH", "x"+p.CSRFToken()), p, false},
		{"GET needs none", header("GET", ""), p, true},
		{"HEAD needs none", header("HEAD", ""), p, true},
		{"bearer needs none", header("POST", ""), bearer, true},
		{"anonymous needs none", header("POST", ""), Principal{}, true},
	} {
		err := CheckCSRF(tc.r, tc.p)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrCSRF) {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// A request must not wait for a long import to record that its session
// was seen: the touch is best effort.
func TestAuthenticateDoesNotWaitForWriters(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "cro")
	l, _ := f.svc.Login(ctx, "ann@example.com", pw, browser)
	tok, _, _ := f.svc.CreateToken(ctx, cli, NewToken{Name: "ci", Roles: []string{"ingest"}})
	b, err := f.st.Begin(ctx) // holds the store's writer slot, as an import does
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	f.clock.Advance(time.Hour)
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := f.svc.AuthenticateSession(rctx, l.Secret); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(rctx, tok); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("authentication waited %v for the open batch", d)
	}
}

// A server runs with more Ps than cores (priority.ForServing); password
// hashing, 64 MiB each, still runs on as many at once as there are cores.
func TestHashingSlotsAreCores(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	os.Unsetenv("GOMAXPROCS")
	defer priority.ForServing()()
	f := newFixture(t, nil)
	if got, want := cap(f.svc.hashing), priority.Cores(); got != want {
		t.Fatalf("%d hashing slots with %d cores and GOMAXPROCS %d", got, want, runtime.GOMAXPROCS(0))
	}
}
