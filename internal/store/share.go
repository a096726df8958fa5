package store

import (
	"context"
	"errors"
	"time"
)

// ShareLink is a read-only link to one card, chart or view at fixed filters, opened without
// signing in (package share). Only the SHA-256 of its secret is stored, like a token's; Lookup
// is the public part of the link that finds the row. The creator is kept so the link never shows
// more than the creator may see now, and so an auditor can tell who shared what.
type ShareLink struct {
	ID     int64
	Lookup string
	Hash   string // hex SHA-256 of the whole link secret
	// Kind is card, chart or view; Subject the metric or view id.
	Kind, Subject string
	// Query holds the fixed filters as a URL query (as_of, window, team, service, …).
	Query string
	// CreatorKind and CreatorID are the principal that created the link (user or token);
	// CreatedBy is its name as access events write it.
	CreatorKind string
	CreatorID   int64
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   time.Time // zero: active
	RevokedBy   string
}

// Revoked reports whether the link was revoked.
func (l ShareLink) Revoked() bool { return !l.RevokedAt.IsZero() }

// ShareStore keeps share links. Creating and revoking one appends its event to AccessCollection
// in the same transaction, as AuthStore's changes do.
type ShareStore interface {
	// CreateShare stores l (its ID is ignored) and returns it with its ID.
	CreateShare(ctx context.Context, l ShareLink, event []byte) (ShareLink, error)
	// ShareByLookup returns the link with the lookup part; ErrNotFound when none has it.
	ShareByLookup(ctx context.Context, lookup string) (ShareLink, error)
	// Shares returns every link, oldest first.
	Shares(ctx context.Context) ([]ShareLink, error)
	// RevokeShare marks an active link revoked; ErrNotFound when no active link has the id.
	RevokeShare(ctx context.Context, id int64, at time.Time, by string, event []byte) error
}

// ShareColumns selects a share link in ScanShare's order.
const ShareColumns = `id, lookup, hash, kind, subject, query, creator_kind, creator_id, created_by, created_at, expires_at, revoked_at, revoked_by`

// ScanShare reads ShareColumns; the driver's no-rows error becomes ErrNotFound.
func ScanShare(r RowScanner, noRows error) (ShareLink, error) {
	var l ShareLink
	var created, expires int64
	var revoked *int64
	err := r.Scan(&l.ID, &l.Lookup, &l.Hash, &l.Kind, &l.Subject, &l.Query, &l.CreatorKind, &l.CreatorID, &l.CreatedBy,
		&created, &expires, &revoked, &l.RevokedBy)
	if errors.Is(err, noRows) {
		return l, ErrNotFound
	}
	l.CreatedAt, l.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	l.RevokedAt = TimeOrZero(revoked)
	return l, err
}
