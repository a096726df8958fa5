package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The column encodings and row scanning of the auth tables, shared by both
// SQL stores so that they read the same.

// NanosOrNil is t in unix nanoseconds, or nil (SQL NULL) for the zero
// time.
func NanosOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// TimeOrZero is NanosOrNil's inverse, in UTC.
func TimeOrZero(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// EncodeRoles is the stored form of a role list: a JSON array.
func EncodeRoles(roles []string) string {
	if roles == nil {
		roles = []string{}
	}
	b, _ := json.Marshal(roles)
	return string(b)
}

// DecodeRoles reads EncodeRoles's form.
func DecodeRoles(s string) ([]string, error) {
	var roles []string
	if err := json.Unmarshal([]byte(s), &roles); err != nil {
		return nil, fmt.Errorf("stored roles %q: %w", s, err)
	}
	return roles, nil
}

// RowScanner is a result row of either SQL driver (database/sql, pgx).
type RowScanner interface{ Scan(dest ...any) error }

// Rows is a result set of either SQL driver; the caller closes it.
type Rows interface {
	RowScanner
	Next() bool
	Err() error
}

// CollectRows scans every row with scan.
func CollectRows[T any](rows Rows, scan func(RowScanner) (T, error)) ([]T, error) {
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// UserColumns selects a user from "users u" in ScanUser's order.
const UserColumns = `u.id, u.email, u.name, u.roles, u.password_hash, u.created_at, u.disabled_at`

// ScanUser reads UserColumns, then extra destinations; the driver's
// no-rows error becomes ErrNotFound.
func ScanUser(r RowScanner, noRows error, extra ...any) (User, error) {
	var u User
	var roles string
	var created int64
	var disabled *int64
	err := r.Scan(append([]any{&u.ID, &u.Email, &u.Name, &roles, &u.PasswordHash, &created, &disabled}, extra...)...)
	if errors.Is(err, noRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, err
	}
	u.CreatedAt = time.Unix(0, created).UTC()
	u.DisabledAt = TimeOrZero(disabled)
	u.Roles, err = DecodeRoles(roles)
	return u, err
}

// TokenFrom selects tokens ("tokens t") with their owner's e-mail in
// ScanToken's order; a WHERE or ORDER BY clause may follow.
const TokenFrom = `t.id, t.name, t.lookup, t.hash, t.roles, coalesce(t.owner_id, 0), coalesce(u.email, ''),
	t.created_by, t.created_at, t.last_used, t.revoked_at FROM tokens t LEFT JOIN users u ON u.id = t.owner_id`

// ScanToken reads TokenFrom's columns; the driver's no-rows error becomes
// ErrNotFound.
func ScanToken(r RowScanner, noRows error) (Token, error) {
	var t Token
	var roles string
	var created int64
	var used, revoked *int64
	err := r.Scan(&t.ID, &t.Name, &t.Lookup, &t.Hash, &roles, &t.OwnerID, &t.OwnerEmail, &t.CreatedBy, &created, &used, &revoked)
	if errors.Is(err, noRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, err
	}
	t.CreatedAt = time.Unix(0, created).UTC()
	t.LastUsed, t.RevokedAt = TimeOrZero(used), TimeOrZero(revoked)
	t.Roles, err = DecodeRoles(roles)
	return t, err
}

// SessionColumns selects a session from "sessions s" after UserColumns;
// ScanSession reads them.
const SessionColumns = `s.user_id, s.created_at, s.last_seen, s.expires_at, s.client`

// ScanSessionUser reads UserColumns then SessionColumns.
func ScanSessionUser(r RowScanner, noRows error, hash string) (Session, User, error) {
	x := Session{Hash: hash}
	var created, seen, expires int64
	u, err := ScanUser(r, noRows, &x.UserID, &created, &seen, &expires, &x.Client)
	if err != nil {
		return x, u, err
	}
	x.CreatedAt, x.LastSeen, x.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, seen).UTC(), time.Unix(0, expires).UTC()
	return x, u, nil
}
