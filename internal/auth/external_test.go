package auth

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

const via = "oidc:https://idp.example.com"

// vouch is a provider round trip that says who the person is.
func vouch(id Identity) func(context.Context) (Identity, error) {
	return func(context.Context) (Identity, error) { return id, nil }
}

func TestSignInExternalCreatesAccount(t *testing.T) {
	f := newFixture(t, nil)
	l, err := f.svc.SignInExternal(ctx, External{Via: via, CreateUsers: true}, browser,
		vouch(Identity{Email: "New@Example.com", Name: "Nia New", Roles: []string{"executive", "ceo"}}))
	if err != nil {
		t.Fatal(err)
	}
	if l.Principal.Name != "new@example.com" || !slices.Equal(l.Principal.Roles, []string{"executive", "ceo"}) || l.Principal.DisplayName != "Nia New" {
		t.Errorf("principal = %+v", l.Principal)
	}
	// The session is an ordinary one.
	if p, err := f.svc.AuthenticateSession(ctx, l.Secret); err != nil || p.Name != "new@example.com" {
		t.Errorf("session: %+v, %v", p, err)
	}
	es := f.events(t)
	if len(es) != 2 {
		t.Fatalf("events = %+v", es)
	}
	if c := es[0]; c.Type != EventUserCreated || c.Actor != via || c.Subject != "user:new@example.com" || !slices.Equal(c.Roles, []string{"executive", "ceo"}) {
		t.Errorf("creation event = %+v", c)
	}
	if s := es[1]; s.Type != EventSignIn || s.Via != via || s.Subject != "user:new@example.com" || s.Client != browser.String() {
		t.Errorf("sign-in event = %+v", s)
	}
	// The account has no password: a password sign-in fails like any
	// other, recorded with its own reason.
	if _, err := f.svc.Login(ctx, "new@example.com", "", browser); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("password sign-in of an external account: %v", err)
	}
	if e := f.lastEvent(t); e.Reason != ReasonNoPassword {
		t.Errorf("password sign-in recorded as %+v", e)
	}
}

func TestSignInExternalWithoutProvisioning(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.svc.SignInExternal(ctx, External{Via: via}, browser, vouch(Identity{Email: "zed@example.com", Roles: []string{"executive"}}))
	if !errors.Is(err, ErrNoAccount) || domain.CodeOf(err) != domain.EForbidden {
		t.Fatalf("err = %v", err)
	}
	if _, err := f.st.UserByEmail(ctx, "zed@example.com"); err == nil {
		t.Error("an account was created")
	}
	if e := f.lastEvent(t); e.Type != EventSignInFailed || e.Reason != ReasonUnknownUser || e.Via != via || e.Subject != "user:zed@example.com" {
		t.Errorf("event = %+v", e)
	}
	// An existing account signs in without provisioning.
	f.addUser(t, "ann@example.com", "executive")
	if _, err := f.svc.SignInExternal(ctx, External{Via: via}, browser, vouch(Identity{Email: "ann@example.com", Roles: []string{"executive"}})); err != nil {
		t.Fatal(err)
	}
}

func TestSignInExternalFollowsProviderRoles(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ann@example.com", "executive", "admin")
	l, err := f.svc.SignInExternal(ctx, External{Via: via, CreateUsers: true}, browser, vouch(Identity{Email: "ann@example.com", Roles: []string{"ceo"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Principal.Roles, []string{"ceo"}) {
		t.Errorf("roles = %v", l.Principal.Roles)
	}
	es := f.events(t)
	rc := es[len(es)-2]
	if rc.Type != EventRolesChanged || rc.Actor != via || !slices.Equal(rc.RolesBefore, []string{"executive", "admin"}) || !slices.Equal(rc.Roles, []string{"ceo"}) {
		t.Errorf("role change event = %+v", rc)
	}
	// The same roles in another order change nothing.
	n := len(es)
	if _, err := f.svc.SignInExternal(ctx, External{Via: via}, browser, vouch(Identity{Email: "ann@example.com", Roles: []string{"ceo", "ceo"}})); err != nil {
		t.Fatal(err)
	}
	if es := f.events(t); len(es) != n+1 || es[n].Type != EventSignIn {
		t.Errorf("events after an unchanged sign-in: %+v", es[n:])
	}
}

func TestSignInExternalRefusals(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser(t, "gone@example.com", "executive")
	if _, _, err := f.svc.DisableUser(ctx, cli, u.Email); err != nil {
		t.Fatal(err)
	}
	forged := &Refusal{Reason: "bad_state", Err: domain.Errorf(domain.EInvalid, "forged")}
	for _, c := range []struct {
		name   string
		verify func(context.Context) (Identity, error)
		want   error
		reason string
		email  string
	}{
		{"disabled", vouch(Identity{Email: "gone@example.com", Roles: []string{"ceo"}}), ErrAccountDisabled, ReasonDisabled, "gone@example.com"},
		{"no role", vouch(Identity{Email: "nobody@example.com"}), ErrNoRoles, ReasonNoRole, "nobody@example.com"},
		{"provider refusal", func(context.Context) (Identity, error) { return Identity{}, forged }, forged, "bad_state", ""},
		{"provider down", func(context.Context) (Identity, error) { return Identity{}, errors.New("connection refused") }, nil, ReasonProviderError, ""},
		{"no e-mail", vouch(Identity{Roles: []string{"ceo"}}), nil, ReasonProviderError, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.SignInExternal(ctx, External{Via: via, CreateUsers: true}, browser, c.verify)
			if err == nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			e := f.lastEvent(t)
			subject := "unknown"
			if c.email != "" {
				subject = "user:" + c.email
			}
			if e.Type != EventSignInFailed || e.Reason != c.reason || e.Via != via || e.Subject != subject {
				t.Errorf("event = %+v", e)
			}
		})
	}
	if u, _ := f.st.UserByEmail(ctx, "gone@example.com"); !slices.Equal(u.Roles, []string{"executive"}) {
		t.Errorf("a disabled user's roles changed to %v", u.Roles)
	}
	if _, err := f.st.UserByEmail(ctx, "nobody@example.com"); err == nil {
		t.Error("an account without a role was created")
	}
}

func TestSignInExternalRateLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.AddressLimit = Rate{Attempts: 2, Per: time.Hour} })
	asked := 0
	refuse := func(context.Context) (Identity, error) {
		asked++
		return Identity{}, &Refusal{Reason: "bad_state", Err: domain.Errorf(domain.EInvalid, "forged")}
	}
	ext := External{Via: via, CreateUsers: true}
	// A success gives its attempt back.
	if _, err := f.svc.SignInExternal(ctx, ext, browser, vouch(Identity{Email: "ann@example.com", Roles: []string{"ceo"}})); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		f.svc.SignInExternal(ctx, ext, browser, refuse)
	}
	before := len(f.events(t))
	var rl *RateLimitedError
	for range 3 {
		if _, err := f.svc.SignInExternal(ctx, ext, browser, refuse); !errors.As(err, &rl) {
			t.Fatalf("over the limit: %v", err)
		}
	}
	if asked != 2 {
		t.Errorf("the provider was asked %d times, want 2", asked)
	}
	es := f.events(t)
	if len(es) != before+1 || es[before].Reason != ReasonRateLimited || es[before].Via != via {
		t.Errorf("refused attempts recorded as %+v", es[before:])
	}
}
