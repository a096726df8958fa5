package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/candor/candor/internal/store"
)

// writeAuth runs fn and appends event (unless nil) to the access
// collection in one transaction. It does not wait for record batches: the
// tables are separate and documents take ids from their own sequence.
func (s *DB) writeAuth(ctx context.Context, event []byte, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		return err
	}
	if err := s.appendAccess(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// appendAccess appends an access event (nil: none) in tx, chained in the
// ledger.
func (s *DB) appendAccess(ctx context.Context, tx pgx.Tx, event []byte) error {
	if event == nil {
		return nil
	}
	d := store.Doc{Collection: store.AccessCollection, CreatedAt: time.Unix(0, s.Now().UnixNano()).UTC(), Body: event}
	if err := tx.QueryRow(ctx, `INSERT INTO docs (collection, created_at, body) VALUES ($1, $2, $3) RETURNING id`,
		d.Collection, d.CreatedAt.UnixNano(), event).Scan(&d.ID); err != nil {
		return fmt.Errorf("postgres: appending the access event: %w", err)
	}
	return s.docLedgerTx(ctx, tx, d)
}

func (s *DB) CreateUser(ctx context.Context, u store.User, event []byte) (store.User, error) {
	err := s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (email, name, roles, password_hash, created_at, disabled_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id`,
			u.Email, u.Name, store.EncodeRoles(u.Roles), u.PasswordHash, u.CreatedAt.UnixNano(), store.NanosOrNil(u.DisabledAt)).Scan(&u.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: a user with e-mail %q exists", store.ErrConflict, u.Email)
		}
		return err
	})
	return u, err
}

func (s *DB) UserByID(ctx context.Context, id int64) (store.User, error) {
	return store.ScanUser(s.pool.QueryRow(ctx, `SELECT `+store.UserColumns+` FROM users u WHERE u.id = $1`, id), pgx.ErrNoRows)
}

func (s *DB) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return store.ScanUser(s.pool.QueryRow(ctx, `SELECT `+store.UserColumns+` FROM users u WHERE u.email = $1`, email), pgx.ErrNoRows)
}

func (s *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.UserColumns+` FROM users u ORDER BY u.email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.User, error) { return store.ScanUser(r, pgx.ErrNoRows) })
}

// mustAffect turns "no row changed" into ErrNotFound, which rolls the
// transaction (and its event) back.
func mustAffect(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}

func (s *DB) SetUserRoles(ctx context.Context, id int64, roles []string, event []byte) error {
	return s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET roles = $1 WHERE id = $2`, store.EncodeRoles(roles), id)
		return mustAffect(tag, err, fmt.Sprintf("no user with id %d", id))
	})
}

func (s *DB) DisableUser(ctx context.Context, id int64, at time.Time, event []byte, tokenEvent func(store.Token) []byte) (sessions, tokens int64, err error) {
	err = s.writeAuth(ctx, nil, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, $1) WHERE id = $2`, at.UnixNano(), id)
		if err := mustAffect(tag, err, fmt.Sprintf("no user with id %d", id)); err != nil {
			return err
		}
		if tag, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return err
		}
		sessions = tag.RowsAffected()
		rows, err := tx.Query(ctx, `UPDATE tokens SET revoked_at = $1 WHERE owner_id = $2 AND revoked_at IS NULL RETURNING id, name, lookup`, at.UnixNano(), id)
		if err != nil {
			return err
		}
		revoked, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Token, error) {
			var t store.Token
			err := row.Scan(&t.ID, &t.Name, &t.Lookup)
			return t, err
		})
		if err != nil {
			return err
		}
		tokens = int64(len(revoked))
		if err := s.appendAccess(ctx, tx, event); err != nil {
			return err
		}
		for _, b := range store.TokenEvents(revoked, tokenEvent) {
			if err := s.appendAccess(ctx, tx, b); err != nil {
				return err
			}
		}
		return nil
	})
	return sessions, tokens, err
}

func (s *DB) EnableUser(ctx context.Context, id int64, event []byte) error {
	return s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL`, id)
		return mustAffect(tag, err, fmt.Sprintf("no disabled user with id %d", id))
	})
}

func (s *DB) CreateSession(ctx context.Context, x store.Session, event []byte) error {
	return s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, last_seen, expires_at, client) VALUES ($1, $2, $3, $4, $5, $6)`,
			x.Hash, x.UserID, x.CreatedAt.UnixNano(), x.LastSeen.UnixNano(), x.ExpiresAt.UnixNano(), x.Client)
		return err
	})
}

func (s *DB) SessionUser(ctx context.Context, hash string) (store.Session, store.User, error) {
	return store.ScanSessionUser(s.pool.QueryRow(ctx, `SELECT `+store.UserColumns+`, `+store.SessionColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = $1`, hash), pgx.ErrNoRows, hash)
}

// TouchSession and TouchToken are single statements: no transaction, no
// event.
func (s *DB) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen = $1 WHERE hash = $2 AND last_seen < $1`, at.UnixNano(), hash)
	return err
}

func (s *DB) DeleteSession(ctx context.Context, hash string, event []byte) error {
	return s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
		return mustAffect(tag, err, "no such session")
	})
}

func (s *DB) PruneSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen <= $2`, now.UnixNano(), idleSince.UnixNano())
	return tag.RowsAffected(), err
}

func (s *DB) CreateToken(ctx context.Context, t store.Token, event []byte) (store.Token, error) {
	t.OwnerEmail = ""
	var owner *int64
	if t.OwnerID != 0 {
		owner = &t.OwnerID
	}
	err := s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO tokens (name, lookup, hash, roles, owner_id, created_by, created_at, last_used, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id`,
			t.Name, t.Lookup, t.Hash, store.EncodeRoles(t.Roles), owner, t.CreatedBy, t.CreatedAt.UnixNano(),
			store.NanosOrNil(t.LastUsed), store.NanosOrNil(t.RevokedAt)).Scan(&t.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: an active token is named %q", store.ErrConflict, t.Name)
		}
		return err
	})
	return t, err
}

func (s *DB) TokenByLookup(ctx context.Context, lookup string) (store.Token, error) {
	return store.ScanToken(s.pool.QueryRow(ctx, `SELECT `+store.TokenFrom+` WHERE t.lookup = $1`, lookup), pgx.ErrNoRows)
}

func (s *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.TokenFrom+` ORDER BY t.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.Token, error) { return store.ScanToken(r, pgx.ErrNoRows) })
}

func (s *DB) RevokeToken(ctx context.Context, id int64, at time.Time, event []byte) error {
	return s.writeAuth(ctx, event, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, at.UnixNano(), id)
		return mustAffect(tag, err, fmt.Sprintf("no active token with id %d", id))
	})
}

func (s *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $1)`, at.UnixNano(), id)
	return err
}
