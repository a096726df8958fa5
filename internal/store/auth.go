package store

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/candor/candor/internal/domain"
)

// ErrConflict is returned (wrapped) by a write that would break a
// uniqueness rule: a second user with one e-mail address, a second active
// token with one name.
var ErrConflict error = domain.Errorf(domain.EConflict, "conflict")

// AccessCollection is the DocStore collection that holds access events
// (sign-ins, failed sign-ins, sign-outs, user, role and token changes), so
// the audit ledger reads them from one place. AuthStore writes append their
// event to it in the same transaction as the change, so a change is never
// kept without its event, nor an event without its change.
const AccessCollection = "access"

// User is a local account. Email is stored as given: callers normalise it.
type User struct {
	ID    int64
	Email string
	Name  string // display name; may be empty
	Roles []string
	// PasswordHash is a self-describing KDF string (PHC format); the store
	// never sees a password.
	PasswordHash string
	CreatedAt    time.Time
	// DisabledAt is zero while the user may sign in.
	DisabledAt time.Time
}

// Disabled reports whether the user may no longer sign in.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Session is a signed-in browser. Only the hash of its secret is stored,
// so a copy of the database cannot be used to sign in.
type Session struct {
	Hash      string // hex SHA-256 of the secret in the cookie
	UserID    int64
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	Client    string // client address at sign-in
}

// Token is an API token. Only the hash of the secret is stored; Lookup is
// a public, unique part of the token that finds its row.
type Token struct {
	ID     int64
	Name   string
	Lookup string
	Hash   string // hex SHA-256 of the whole token
	Roles  []string
	// OwnerID is the user the token acts for (0: a service token owned by
	// no user); disabling the owner revokes it. OwnerEmail is filled by
	// reads and ignored by CreateToken.
	OwnerID    int64
	OwnerEmail string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsed   time.Time // zero: never used
	RevokedAt  time.Time // zero: active
}

// Revoked reports whether the token can no longer be used.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// TokenEvents are the access events of the tokens a DisableUser revoked,
// in id order: tokenEvent of each (none when nil).
func TokenEvents(revoked []Token, tokenEvent func(Token) []byte) [][]byte {
	if tokenEvent == nil {
		return nil
	}
	revoked = slices.Clone(revoked)
	slices.SortFunc(revoked, func(a, b Token) int { return cmp.Compare(a.ID, b.ID) })
	out := make([][]byte, 0, len(revoked))
	for _, t := range revoked {
		out = append(out, tokenEvent(t))
	}
	return out
}

// AuthStore keeps users, sessions and API tokens: mutable rows, unlike the
// append-only documents. Every method that changes access takes an event:
// a JSON document appended to AccessCollection in the same transaction
// (nil appends nothing). Times are the caller's, stored to the nanosecond
// and returned in UTC.
type AuthStore interface {
	// CreateUser stores u (its ID is ignored) and returns it with its ID.
	// ErrConflict when a user has the e-mail address already.
	CreateUser(ctx context.Context, u User, event []byte) (User, error)
	// UserByID and UserByEmail return ErrNotFound for no such user.
	UserByID(ctx context.Context, id int64) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// Users returns every user, in e-mail order.
	Users(ctx context.Context) ([]User, error)
	// SetUserRoles replaces the user's roles; ErrNotFound for no such user.
	SetUserRoles(ctx context.Context, id int64, roles []string, event []byte) error
	// DisableUser marks the user disabled at `at` (unless already), deletes
	// all its sessions and revokes all tokens it owns, in one transaction,
	// and returns how many sessions and tokens that ended. After event,
	// each token it revokes appends tokenEvent of it (ID, Name and Lookup
	// set; in id order; nil appends none), so that every revocation is an
	// access event, as RevokeToken's is. ErrNotFound for no such user.
	DisableUser(ctx context.Context, id int64, at time.Time, event []byte, tokenEvent func(Token) []byte) (sessions, tokens int64, err error)
	// EnableUser lets a disabled user sign in again. The sessions and
	// tokens disabling ended stay ended: a revoked token is revoked for
	// good. ErrNotFound when no disabled user has the id, and then the
	// event is not appended.
	EnableUser(ctx context.Context, id int64, event []byte) error

	// CreateSession stores a session; its user must exist.
	CreateSession(ctx context.Context, s Session, event []byte) error
	// SessionUser returns a session and its user by the session's hash, or
	// ErrNotFound. It does not judge expiry: the caller does.
	SessionUser(ctx context.Context, hash string) (Session, User, error)
	// TouchSession moves the session's LastSeen forward to at (never back).
	// A missing session is not an error.
	TouchSession(ctx context.Context, hash string, at time.Time) error
	// DeleteSession ends a session (sign-out); ErrNotFound when none has
	// the hash, and then the event is not appended.
	DeleteSession(ctx context.Context, hash string, event []byte) error
	// PruneSessions deletes sessions that expired at or before now or were
	// last seen at or before idleSince, and returns how many.
	PruneSessions(ctx context.Context, now, idleSince time.Time) (int64, error)

	// CreateToken stores t (its ID and OwnerEmail are ignored) and returns
	// it with its ID. ErrConflict when an active token has the name.
	CreateToken(ctx context.Context, t Token, event []byte) (Token, error)
	// TokenByLookup returns a token, revoked or not, or ErrNotFound.
	TokenByLookup(ctx context.Context, lookup string) (Token, error)
	// Tokens returns every token, revoked ones too, in ID order.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes an active token at `at`; ErrNotFound when no
	// active token has the ID, and then the event is not appended.
	RevokeToken(ctx context.Context, id int64, at time.Time, event []byte) error
	// TouchToken moves the token's LastUsed forward to at (never back).
	TouchToken(ctx context.Context, id int64, at time.Time) error
}
