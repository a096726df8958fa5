package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/store"
)

// Login is a successful sign-in: the session secret for the cookie (never
// stored), who signed in, and when the session ends at the latest.
type Login struct {
	Secret    string
	Principal Principal
	Expires   time.Time
}

// Login signs a user in from client c. It answers ErrBadCredentials for
// every failure and *RateLimitedError over the per-account or per-address
// limit, and records every attempt (a run of refused attempts once).
func (s *Service) Login(ctx context.Context, email, password string, c Client) (Login, error) {
	norm, nerr := NormalizeEmail(email)
	account := norm
	if nerr != nil {
		account = strings.ToLower(strings.TrimSpace(email))
		if len(account) > maxEmailLen {
			account = account[:maxEmailLen]
		}
	}
	fail := func(reason string) error {
		e := s.event(EventSignInFailed, Actor{Client: c}, "user:"+account)
		e.Reason = reason
		return errors.Join(ErrBadCredentials, s.appendEvent(ctx, e))
	}

	// Both limits are checked before the password is: a refused attempt
	// costs no hashing, so a flood cannot exhaust the CPU either.
	addr := addressKey(c.Addr)
	ok, wait, first := s.addresses.Take(addr)
	if ok {
		if ok, wait, first = s.accounts.Take(account); !ok {
			s.addresses.Give(addr)
		}
	}
	if !ok {
		if first {
			e := s.event(EventSignInFailed, Actor{Client: c}, "user:"+account)
			e.Reason = ReasonRateLimited
			if err := s.appendEvent(ctx, e); err != nil {
				return Login{}, err
			}
		}
		return Login{}, &RateLimitedError{RetryAfter: wait}
	}

	u, err := store.User{}, error(nil)
	if nerr == nil {
		u, err = s.st.UserByEmail(ctx, norm)
	}
	found := nerr == nil && err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Login{}, err
	}
	hash := u.PasswordHash
	// A user created by an external sign-in has no password: the check
	// runs against the dummy hash, so the answer takes as long as any.
	hasPassword := found && hash != ""
	if !hasPassword {
		if hash, err = s.dummyHash(); err != nil {
			return Login{}, err
		}
	}
	var match bool
	var verr error
	if err := s.withHashSlot(ctx, func() { match, verr = VerifyPassword(password, hash) }); err != nil {
		return Login{}, err
	}
	switch {
	case !found:
		return Login{}, fail(ReasonUnknownUser)
	case !hasPassword:
		return Login{}, fail(ReasonNoPassword)
	case verr != nil:
		return Login{}, errors.Join(fail(ReasonWrongPassword), verr)
	case !match:
		return Login{}, fail(ReasonWrongPassword)
	case u.Disabled():
		return Login{}, fail(ReasonDisabled)
	}

	s.accounts.Forget(account)
	s.addresses.Give(addr)
	return s.startSession(ctx, u, c, "")
}

// startSession opens a session for u, who has signed in from client c
// (via names an external provider, "" for a password), recording sign_in.
func (s *Service) startSession(ctx context.Context, u store.User, c Client, via string) (Login, error) {
	now := s.opt.Now().UTC()
	secret := newSessionSecret()
	sess := store.Session{
		Hash: hashSecret(secret), UserID: u.ID, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(s.opt.SessionMaxAge), Client: c.String(),
	}
	e := s.event(EventSignIn, Actor{Client: c}, "user:"+u.Email)
	e.Roles, e.Via = u.Roles, via
	if err := s.st.CreateSession(ctx, sess, e.encode()); err != nil {
		return Login{}, err
	}
	return Login{Secret: secret, Principal: userPrincipal(u, secret, sess.Hash), Expires: sess.ExpiresAt}, nil
}

func userPrincipal(u store.User, secret, hash string) Principal {
	return Principal{
		Kind: KindUser, ID: u.ID, Name: u.Email, DisplayName: u.Name, Roles: u.Roles,
		csrf: csrfToken(secret), sessionHash: hash,
	}
}

// Logout ends the principal's session, recording sign_out. A principal not
// signed in by a session has nothing to end.
func (s *Service) Logout(ctx context.Context, p Principal, c Client) error {
	if p.sessionHash == "" {
		return nil
	}
	e := s.event(EventSignOut, ActorOf(p, c), "user:"+p.Name)
	err := s.st.DeleteSession(ctx, p.sessionHash, e.encode())
	if errors.Is(err, store.ErrNotFound) {
		return nil // ended meanwhile (another tab, expiry, disable)
	}
	return err
}

// Authenticate returns who r acts for: the bearer token of its
// Authorization header if it has one, else the session of its cookie,
// else the anonymous Principal (and no error). Credentials that do not
// hold (malformed, unknown, revoked, expired, of a disabled user) are
// ErrInvalidCredentials: answer 401, and for a cookie clear it
// (ClearSessionCookie).
func (s *Service) Authenticate(r *http.Request) (Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return Principal{}, ErrInvalidCredentials
		}
		return s.AuthenticateToken(r.Context(), strings.TrimSpace(token))
	}
	if secret := s.sessionSecret(r); secret != "" {
		return s.AuthenticateSession(r.Context(), secret)
	}
	return Principal{}, nil
}

// AuthenticateSession returns the user whose live session has the secret.
func (s *Service) AuthenticateSession(ctx context.Context, secret string) (Principal, error) {
	if !validSessionSecret(secret) {
		return Principal{}, ErrInvalidCredentials
	}
	hash := hashSecret(secret)
	sess, u, err := s.st.SessionUser(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrInvalidCredentials
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.opt.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeen) >= s.opt.SessionIdle || u.Disabled() {
		return Principal{}, ErrInvalidCredentials
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		s.touch(ctx, func(ctx context.Context) error { return s.st.TouchSession(ctx, hash, now.UTC()) })
	}
	return userPrincipal(u, secret, hash), nil
}

// AuthenticateToken returns the token's principal. A token owned by a user
// holds only the roles both it and its owner hold now.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	lookup, ok := tokenLookup(token)
	if !ok {
		return Principal{}, ErrInvalidCredentials
	}
	now := s.opt.Now()
	e, err := s.tokenEntry(ctx, lookup, now)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrInvalidCredentials
	}
	if err != nil {
		return Principal{}, err
	}
	t := e.token
	if !sameHash(hashSecret(token), t.Hash) || t.Revoked() {
		return Principal{}, ErrInvalidCredentials
	}
	roles := t.Roles
	var ownerEmail string
	if t.OwnerID != 0 {
		if e.owner.Disabled() {
			return Principal{}, ErrInvalidCredentials
		}
		roles = slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return !slices.Contains(e.owner.Roles, r) })
		ownerEmail = e.owner.Email
	}
	if now.Sub(t.LastUsed) >= touchEvery {
		s.touch(ctx, func(ctx context.Context) error { return s.st.TouchToken(ctx, t.ID, now.UTC()) })
		s.tokens.touched(lookup, now)
	}
	return Principal{Kind: KindToken, ID: t.ID, Name: t.Name, Roles: roles, Owner: ownerEmail}, nil
}

// tokenEntry is the token with the lookup and its owner, as read from the
// store within TokenRecheck of now.
func (s *Service) tokenEntry(ctx context.Context, lookup string, now time.Time) (tokenEntry, error) {
	if e, ok := s.tokens.get(lookup, now, s.opt.TokenRecheck); ok {
		return e, nil
	}
	gen := s.tokens.generation()
	t, err := s.st.TokenByLookup(ctx, lookup)
	if err != nil {
		return tokenEntry{}, err
	}
	e := tokenEntry{token: t, read: now}
	if t.OwnerID != 0 {
		if e.owner, err = s.st.UserByID(ctx, t.OwnerID); err != nil {
			return tokenEntry{}, err
		}
	}
	if s.opt.TokenRecheck > 0 {
		s.tokens.put(lookup, e, gen)
	}
	return e, nil
}

// touchWait bounds how long a request waits to record that a session or
// token was used: behind a long import (which holds SQLite's writer) the
// touch is skipped rather than the request held up.
const touchWait = 200 * time.Millisecond

// touch runs a last-seen or last-used update, best effort: a missed one
// only brings an idle timeout a minute closer, or shows a token's last use
// a minute early, which is no reason to fail or delay the request.
func (s *Service) touch(ctx context.Context, fn func(context.Context) error) {
	ctx, cancel := context.WithTimeout(ctx, touchWait)
	defer cancel()
	_ = fn(ctx)
}

// PruneSessions deletes sessions past their maximum age or idle timeout;
// run it now and then (they are refused anyway, this only frees rows).
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	now := s.opt.Now().UTC()
	return s.st.PruneSessions(ctx, now, now.Add(-s.opt.SessionIdle))
}
