package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/candor/candor/internal/store"
)

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewToken is what CreateToken needs.
type NewToken struct {
	Name  string
	Roles []string
	// Owner, when set, is the e-mail address of the user the token acts
	// for: it may hold only roles the owner holds, is held to the owner's
	// roles as they change, and dies with the owner's account.
	Owner string
}

// CreateToken makes an API token and returns its secret, which is shown
// once and never stored (only its SHA-256 is), recording token_created.
func (s *Service) CreateToken(ctx context.Context, by Actor, nt NewToken) (secret string, t store.Token, err error) {
	if !tokenName.MatchString(nt.Name) {
		return "", t, inputErr("name", "%q: want 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", nt.Name)
	}
	roles, err := s.checkRoles(nt.Roles)
	if err != nil {
		return "", t, err
	}
	var owner store.User
	if nt.Owner != "" {
		if owner, err = s.user(ctx, nt.Owner); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Field = "owner"
			}
			return "", t, err
		}
		if owner.Disabled() {
			return "", t, inputErr("owner", "%s is disabled", owner.Email)
		}
		for _, r := range roles {
			if !slices.Contains(owner.Roles, r) {
				return "", t, inputErr("roles", "the owner %s does not hold role %s (holds: %v)", owner.Email, r, owner.Roles)
			}
		}
	}
	secret, lookup := newToken()
	t = store.Token{
		Name: nt.Name, Lookup: lookup, Hash: hashSecret(secret), Roles: roles, OwnerID: owner.ID,
		CreatedBy: by.Name, CreatedAt: s.opt.Now().UTC(),
	}
	e := s.event(EventTokenCreated, by, "token:"+nt.Name)
	e.Roles, e.Token = roles, TokenDisplay(lookup)
	t, err = s.st.CreateToken(ctx, t, e.encode())
	if errors.Is(err, store.ErrConflict) {
		return "", t, inputErr("name", "an active token is named %s already (revoke it first, or choose another name)", nt.Name)
	}
	if err != nil {
		return "", t, err
	}
	t.OwnerEmail = owner.Email
	return secret, t, nil
}

// Tokens returns every token, revoked ones too, oldest first.
func (s *Service) Tokens(ctx context.Context) ([]store.Token, error) { return s.st.Tokens(ctx) }

// RevokeToken revokes the active token with the name, or the token with the
// id when id > 0, recording token_revoked.
func (s *Service) RevokeToken(ctx context.Context, by Actor, name string, id int64) (store.Token, error) {
	all, err := s.st.Tokens(ctx)
	if err != nil {
		return store.Token{}, err
	}
	i := slices.IndexFunc(all, func(t store.Token) bool {
		if id > 0 {
			return t.ID == id
		}
		return t.Name == name && !t.Revoked()
	})
	switch {
	case i < 0 && id > 0:
		return store.Token{}, notFoundErr("id", "no token has id %d", id)
	case i < 0:
		// A name only revoked tokens carry is said so: the revocation
		// being repeated has happened, which "no token" would hide.
		if j := slices.IndexFunc(all, func(t store.Token) bool { return t.Name == name }); j >= 0 {
			return store.Token{}, notFoundErr("name", "no active token is named %q (token %d of that name is revoked)", name, all[j].ID)
		}
		return store.Token{}, notFoundErr("name", "no token named %q", name)
	case all[i].Revoked():
		return store.Token{}, inputErr("id", "token %d (%s) is revoked already", all[i].ID, all[i].Name)
	}
	t := all[i]
	e := s.event(EventTokenRevoked, by, "token:"+t.Name)
	e.Token = TokenDisplay(t.Lookup)
	defer s.tokens.clear()
	if err := s.st.RevokeToken(ctx, t.ID, e.At, e.encode()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return t, fmt.Errorf("token %d was revoked meanwhile", t.ID)
		}
		return t, err
	}
	t.RevokedAt = e.At
	return t, nil
}
