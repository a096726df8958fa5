package auth

import (
	"context"
	"errors"
	"slices"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Identity is a person an external identity provider (OIDC) vouches for.
type Identity struct {
	Email string
	Name  string
	// Roles are the Candor roles the provider's claims map to.
	Roles []string
}

// External is an external identity provider as sign-in sees it.
type External struct {
	// Via names the provider in access events: "oidc:ISSUER".
	Via string
	// CreateUsers creates an account, with the mapped roles, at the first
	// sign-in of a person who has none (just-in-time provisioning).
	CreateUsers bool
}

// ReasonNoRole: the provider's claims map to no Candor role.
const ReasonNoRole = "no_role"

// ReasonProviderError: the provider could not be asked (unreachable, or
// an answer that could not be read).
const ReasonProviderError = "provider_error"

// Refusals of an external sign-in by Candor's own accounts. Unlike a
// failed password sign-in they say what failed: the provider has proven
// who the person is, so the reason tells a stranger nothing.
var (
	ErrNoAccount = domain.Errorf(domain.EForbidden,
		"There is no Candor account for this e-mail address, and new accounts are not created at sign-in. Ask a Candor administrator to add you.")
	ErrAccountDisabled = domain.Errorf(domain.EForbidden, "Your Candor account is disabled. Ask a Candor administrator.")
	ErrNoRoles         = domain.Errorf(domain.EForbidden, "Your account at the identity provider gives you no Candor role. Ask a Candor administrator for access.")
)

// Refusal is an external sign-in refused on the provider's side of the
// flow (a forged or stale callback, a token that fails verification, a
// refused e-mail domain): the reason recorded, and what the person is told.
type Refusal struct {
	// Reason is recorded in the sign_in_failed event.
	Reason string
	// Email is whom the refusal concerns, when the provider said.
	Email string
	// Err is what the person is told: a *domain.Error with a code.
	Err error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// SignInExternal signs in a person an external provider vouches for, from
// client c. verify asks the provider who it is (an Identity, a *Refusal,
// or another error when the provider could not be asked); it runs within
// the per-address limit of sign-in attempts, so a flood of forged
// callbacks neither reaches the provider nor fills the access events
// (*RateLimitedError, recorded once per run).
//
// Every refusal is recorded as sign_in_failed with its reason and Via: the
// provider's, no role (ErrNoRoles), no account while CreateUsers is off
// (ErrNoAccount), a disabled account (ErrAccountDisabled). On success the
// account is created when there is none (user_created, actor Via, no
// password), its roles become the mapped ones when they differ
// (roles_changed, actor Via: a role change at the provider applies at the
// next sign-in), and a session opens as for a password sign-in.
func (s *Service) SignInExternal(ctx context.Context, p External, c Client, verify func(context.Context) (Identity, error)) (Login, error) {
	fail := func(email, reason string, err error) error {
		subject := "unknown"
		if email != "" {
			subject = "user:" + email
		}
		e := s.event(EventSignInFailed, Actor{Client: c}, subject)
		e.Reason, e.Via = reason, p.Via
		return errors.Join(err, s.appendEvent(ctx, e))
	}
	addr := addressKey(c.Addr)
	ok, wait, first := s.addresses.Take(addr)
	if !ok {
		rl := &RateLimitedError{RetryAfter: wait}
		if first {
			return Login{}, fail("", ReasonRateLimited, rl)
		}
		return Login{}, rl
	}

	id, err := verify(ctx)
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		return Login{}, fail(ref.Email, ref.Reason, err)
	case err != nil && ctx.Err() != nil:
		return Login{}, err // the person went away; nothing was refused
	case err != nil:
		return Login{}, fail("", ReasonProviderError, err)
	}
	email, err := NormalizeEmail(id.Email)
	if err != nil {
		return Login{}, fail("", ReasonProviderError, domain.Errorf(domain.EForbidden, "The identity provider sent no usable e-mail address (%q: %v).", id.Email, err))
	}
	if len(id.Roles) == 0 {
		return Login{}, fail(email, ReasonNoRole, ErrNoRoles)
	}
	roles, err := s.grants.CheckRoles(id.Roles)
	if err != nil {
		return Login{}, err // configuration maps to a role that is not there: checked at start
	}
	name, _ := checkName("name", id.Name, false)

	u, err := s.st.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound) && !p.CreateUsers:
		return Login{}, fail(email, ReasonUnknownUser, ErrNoAccount)
	case errors.Is(err, store.ErrNotFound):
		by := Actor{Name: p.Via, Client: c}
		e := s.event(EventUserCreated, by, "user:"+email)
		e.Roles = roles
		u, err = s.st.CreateUser(ctx, store.User{Email: email, Name: name, Roles: roles, CreatedAt: e.At}, e.encode())
		if errors.Is(err, store.ErrConflict) {
			// A second tab signing in at the same moment created it.
			u, err = s.st.UserByEmail(ctx, email)
		}
		if err != nil {
			return Login{}, err
		}
	case err != nil:
		return Login{}, err
	}
	if u.Disabled() {
		return Login{}, fail(email, ReasonDisabled, ErrAccountDisabled)
	}
	if !sameRoles(u.Roles, roles) {
		e := s.event(EventRolesChanged, Actor{Name: p.Via, Client: c}, "user:"+u.Email)
		e.Roles, e.RolesBefore = roles, u.Roles
		err := s.st.SetUserRoles(ctx, u.ID, roles, e.encode())
		s.tokens.clear() // tokens the user owns are held to the new roles
		if err != nil {
			return Login{}, err
		}
		u.Roles = roles
	}
	s.addresses.Give(addr)
	return s.startSession(ctx, u, c, p.Via)
}

// sameRoles reports whether a and b hold the same roles, in any order.
func sameRoles(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
