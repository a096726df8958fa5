package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/candor/candor/internal/store"
)

func (s *DB) CreateShare(ctx context.Context, l store.ShareLink, event []byte) (store.ShareLink, error) {
	err := s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO share_links (lookup, hash, kind, subject, query, creator_kind, creator_id, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			l.Lookup, l.Hash, l.Kind, l.Subject, l.Query, l.CreatorKind, l.CreatorID, l.CreatedBy, l.CreatedAt.UnixNano(), l.ExpiresAt.UnixNano()).Scan(&l.ID)
	})
	return l, err
}

func (s *DB) ShareByLookup(ctx context.Context, lookup string) (store.ShareLink, error) {
	return store.ScanShare(s.queryRow(ctx, `SELECT `+store.ShareColumns+` FROM share_links WHERE lookup = ?`, lookup), sql.ErrNoRows)
}

func (s *DB) Shares(ctx context.Context) ([]store.ShareLink, error) {
	rows, err := s.query(ctx, `SELECT `+store.ShareColumns+` FROM share_links ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.ShareLink, error) { return store.ScanShare(r, sql.ErrNoRows) })
}

func (s *DB) RevokeShare(ctx context.Context, id int64, at time.Time, by string, event []byte) error {
	return s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE share_links SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), by, id)
		return mustAffect(r, err, fmt.Sprintf("no active share link with id %d", id))
	})
}
