package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/candor/candor/internal/store"
)

// writeAuth runs fn and appends event (unless nil) to the access
// collection in one transaction. It takes the writer slot like a batch, so
// a sign-in during an import queues behind it instead of failing on
// SQLite's busy lock.
func (s *DB) writeAuth(ctx context.Context, event []byte, fn func(tx *sql.Tx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.appendAccess(ctx, tx, event)
	})
}

// appendAccess appends an access event (nil: none) in tx, chained in the
// ledger.
func (s *DB) appendAccess(ctx context.Context, tx *sql.Tx, event []byte) error {
	if event == nil {
		return nil
	}
	d := store.Doc{Collection: store.AccessCollection, CreatedAt: time.Unix(0, s.Now().UnixNano()).UTC(), Body: event}
	if err := tx.QueryRowContext(ctx, `INSERT INTO docs (collection, created_at, body) VALUES (?, ?, ?) RETURNING id`,
		d.Collection, d.CreatedAt.UnixNano(), event).Scan(&d.ID); err != nil {
		return fmt.Errorf("appending the access event: %w", err)
	}
	return s.docLedgerTx(ctx, tx, d)
}

func (s *DB) CreateUser(ctx context.Context, u store.User, event []byte) (store.User, error) {
	err := s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, roles, password_hash, created_at, disabled_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id`,
			u.Email, u.Name, store.EncodeRoles(u.Roles), u.PasswordHash, u.CreatedAt.UnixNano(), store.NanosOrNil(u.DisabledAt)).Scan(&u.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: a user with e-mail %q exists", store.ErrConflict, u.Email)
		}
		return err
	})
	return u, err
}

func (s *DB) UserByID(ctx context.Context, id int64) (store.User, error) {
	return store.ScanUser(s.queryRow(ctx, `SELECT `+store.UserColumns+` FROM users u WHERE u.id = ?`, id), sql.ErrNoRows)
}

func (s *DB) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return store.ScanUser(s.queryRow(ctx, `SELECT `+store.UserColumns+` FROM users u WHERE u.email = ?`, email), sql.ErrNoRows)
}

func (s *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.query(ctx, `SELECT `+store.UserColumns+` FROM users u ORDER BY u.email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.User, error) { return store.ScanUser(r, sql.ErrNoRows) })
}

// mustAffect turns "no row changed" into ErrNotFound, which rolls the
// transaction (and its event) back.
func mustAffect(r sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}

func (s *DB) SetUserRoles(ctx context.Context, id int64, roles []string, event []byte) error {
	return s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE users SET roles = ? WHERE id = ?`, store.EncodeRoles(roles), id)
		return mustAffect(r, err, fmt.Sprintf("no user with id %d", id))
	})
}

func (s *DB) DisableUser(ctx context.Context, id int64, at time.Time, event []byte, tokenEvent func(store.Token) []byte) (sessions, tokens int64, err error) {
	err = s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?`, at.UnixNano(), id)
		if err := mustAffect(r, err, fmt.Sprintf("no user with id %d", id)); err != nil {
			return err
		}
		if r, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		sessions, _ = r.RowsAffected()
		rows, err := tx.QueryContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE owner_id = ? AND revoked_at IS NULL RETURNING id, name, lookup`, at.UnixNano(), id)
		if err != nil {
			return err
		}
		var revoked []store.Token
		for rows.Next() {
			var t store.Token
			if err := rows.Scan(&t.ID, &t.Name, &t.Lookup); err != nil {
				rows.Close()
				return err
			}
			revoked = append(revoked, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
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
	return s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL`, id)
		return mustAffect(r, err, fmt.Sprintf("no disabled user with id %d", id))
	})
}

func (s *DB) CreateSession(ctx context.Context, x store.Session, event []byte) error {
	return s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, last_seen, expires_at, client) VALUES (?, ?, ?, ?, ?, ?)`,
			x.Hash, x.UserID, x.CreatedAt.UnixNano(), x.LastSeen.UnixNano(), x.ExpiresAt.UnixNano(), x.Client)
		return err
	})
}

func (s *DB) SessionUser(ctx context.Context, hash string) (store.Session, store.User, error) {
	return store.ScanSessionUser(s.queryRow(ctx, `SELECT `+store.UserColumns+`, `+store.SessionColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?`, hash), sql.ErrNoRows, hash)
}

func (s *DB) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE hash = ? AND last_seen < ?`, at.UnixNano(), hash, at.UnixNano())
		return err
	})
}

func (s *DB) DeleteSession(ctx context.Context, hash string, event []byte) error {
	return s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
		return mustAffect(r, err, "no such session")
	})
}

func (s *DB) PruneSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	var n int64
	err := s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?`, now.UnixNano(), idleSince.UnixNano())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return n, err
}

func ownerArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (s *DB) CreateToken(ctx context.Context, t store.Token, event []byte) (store.Token, error) {
	t.OwnerEmail = ""
	err := s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO tokens (name, lookup, hash, roles, owner_id, created_by, created_at, last_used, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id`,
			t.Name, t.Lookup, t.Hash, store.EncodeRoles(t.Roles), ownerArg(t.OwnerID), t.CreatedBy, t.CreatedAt.UnixNano(),
			store.NanosOrNil(t.LastUsed), store.NanosOrNil(t.RevokedAt)).Scan(&t.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: an active token is named %q", store.ErrConflict, t.Name)
		}
		return err
	})
	return t, err
}

func (s *DB) TokenByLookup(ctx context.Context, lookup string) (store.Token, error) {
	return store.ScanToken(s.queryRow(ctx, `SELECT `+store.TokenFrom+` WHERE t.lookup = ?`, lookup), sql.ErrNoRows)
}

func (s *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.query(ctx, `SELECT `+store.TokenFrom+` ORDER BY t.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.Token, error) { return store.ScanToken(r, sql.ErrNoRows) })
}

func (s *DB) RevokeToken(ctx context.Context, id int64, at time.Time, event []byte) error {
	return s.writeAuth(ctx, event, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), id)
		return mustAffect(r, err, fmt.Sprintf("no active token with id %d", id))
	})
}

func (s *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)`, at.UnixNano(), id, at.UnixNano())
		return err
	})
}
