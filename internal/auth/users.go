package auth

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"github.com/candor/candor/internal/store"
)

// maxEmailLen is RFC 5321's bound on an address.
const maxEmailLen = 254

// NormalizeEmail trims and lower-cases an e-mail address and checks that it
// is a bare address (ann@example.com, not "Ann <ann@example.com>"), so one
// person has one account however they type it.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	switch {
	case e == "":
		return "", errors.New("required")
	case len(e) > maxEmailLen:
		return "", errors.New("longer than 254 bytes")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndex(e, "@")+1:], ".") && !strings.HasSuffix(e, "@localhost") {
		return "", errors.New("not an e-mail address such as ann@example.com")
	}
	return e, nil
}

// maxNameLen bounds display names and token names.
const maxNameLen = 200

func checkName(field, name string, required bool) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" && required:
		return "", inputErr(field, "required")
	case len(name) > maxNameLen:
		return "", inputErr(field, "longer than %d bytes", maxNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", inputErr(field, "contains control characters")
	}
	return name, nil
}

func (s *Service) checkRoles(roles []string) ([]string, error) {
	out, err := s.grants.CheckRoles(roles)
	if err != nil {
		return nil, &InputError{Field: "roles", Msg: err.Error()}
	}
	return out, nil
}

// NewUser is what AddUser needs.
type NewUser struct {
	Email, Name string
	Roles       []string
	Password    string
}

// AddUser creates a user with an argon2id hash of the password, recording
// user_created. Bad input is an *InputError naming the field; an address
// that has a user already is one too (field email).
func (s *Service) AddUser(ctx context.Context, by Actor, nu NewUser) (store.User, error) {
	email, name, roles, err := checkNewUser(s.grants, nu)
	if err != nil {
		return store.User{}, err
	}
	var hash string
	if err := s.withHashSlot(ctx, func() { hash, err = HashPassword(nu.Password, s.opt.Params) }); err != nil {
		return store.User{}, err
	}
	if err != nil {
		return store.User{}, err
	}
	u := store.User{Email: email, Name: name, Roles: roles, PasswordHash: hash, CreatedAt: s.opt.Now().UTC()}
	e := s.event(EventUserCreated, by, "user:"+email)
	e.Roles = roles
	u, err = s.st.CreateUser(ctx, u, e.encode())
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, inputErr("email", "a user with e-mail address %s exists", email)
	}
	return u, err
}

// CheckNewUser makes AddUser's checks of nu against g without a store, for
// a caller that creates the store only for input that will be added.
func CheckNewUser(g *Grants, nu NewUser) error {
	_, _, _, err := checkNewUser(g, nu)
	return err
}

func checkNewUser(g *Grants, nu NewUser) (email, name string, roles []string, err error) {
	if email, err = NormalizeEmail(nu.Email); err != nil {
		return "", "", nil, &InputError{Field: "email", Msg: err.Error()}
	}
	if name, err = checkName("name", nu.Name, false); err != nil {
		return "", "", nil, err
	}
	if roles, err = g.CheckRoles(nu.Roles); err != nil {
		return "", "", nil, &InputError{Field: "roles", Msg: err.Error()}
	}
	if err := CheckPassword(nu.Password); err != nil {
		return "", "", nil, &InputError{Field: "password", Msg: err.Error()}
	}
	return email, name, roles, nil
}

// Users returns every user in e-mail order.
func (s *Service) Users(ctx context.Context) ([]store.User, error) { return s.st.Users(ctx) }

// user finds a user by e-mail address, as an *InputError (field email)
// when there is none.
func (s *Service) user(ctx context.Context, email string) (store.User, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, &InputError{Field: "email", Msg: err.Error()}
	}
	u, err := s.st.UserByEmail(ctx, e)
	if errors.Is(err, store.ErrNotFound) {
		return u, notFoundErr("email", "no user has e-mail address %s", e)
	}
	return u, err
}

// DisableUser stops a user signing in, ends all their sessions and revokes
// the tokens they own, recording user_disabled. It returns how many
// sessions and tokens ended.
func (s *Service) DisableUser(ctx context.Context, by Actor, email string) (sessions, tokens int64, err error) {
	u, err := s.user(ctx, email)
	if err != nil {
		return 0, 0, err
	}
	if u.Disabled() {
		return 0, 0, inputErr("email", "%s is disabled already (since %s)", u.Email, u.DisabledAt.Format("2006-01-02 15:04 MST"))
	}
	e := s.event(EventUserDisabled, by, "user:"+u.Email)
	// Each token revoked is a token_revoked event of its own, as
	// RevokeToken's is (docs/access.md: every revocation is appended),
	// saying why.
	revoked := func(t store.Token) []byte {
		te := s.event(EventTokenRevoked, by, "token:"+t.Name)
		te.At, te.Token, te.Reason = e.At, TokenDisplay(t.Lookup), ReasonOwnerDisabled
		return te.encode()
	}
	defer s.tokens.clear()
	return s.st.DisableUser(ctx, u.ID, e.At, e.encode(), revoked)
}

// EnableUser lets a disabled user sign in again, recording user_enabled.
// Their sessions and tokens stay ended: they sign in anew, and tokens are
// created anew.
func (s *Service) EnableUser(ctx context.Context, by Actor, email string) error {
	u, err := s.user(ctx, email)
	if err != nil {
		return err
	}
	if !u.Disabled() {
		return inputErr("email", "%s is not disabled", u.Email)
	}
	e := s.event(EventUserEnabled, by, "user:"+u.Email)
	e.Roles = u.Roles
	err = s.st.EnableUser(ctx, u.ID, e.encode())
	if errors.Is(err, store.ErrNotFound) {
		return inputErr("email", "%s was enabled meanwhile", u.Email)
	}
	return err
}

// SetRoles replaces a user's roles, recording roles_changed with the old
// and new roles. Sessions keep going with the new roles at their next
// request; tokens the user owns are held to the new roles too.
func (s *Service) SetRoles(ctx context.Context, by Actor, email string, roles []string) (before, after []string, err error) {
	u, err := s.user(ctx, email)
	if err != nil {
		return nil, nil, err
	}
	if after, err = s.checkRoles(roles); err != nil {
		return nil, nil, err
	}
	if slices.Equal(u.Roles, after) {
		return u.Roles, after, nil
	}
	e := s.event(EventRolesChanged, by, "user:"+u.Email)
	e.Roles, e.RolesBefore = after, u.Roles
	defer s.tokens.clear()
	return u.Roles, after, s.st.SetUserRoles(ctx, u.ID, after, e.encode())
}
