package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/candor/candor/internal/store"
)

// write runs fn in a transaction holding the writer slot, so it queues
// behind an import instead of failing on SQLite's busy lock.
func (s *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.exclusive(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

func (s *DB) AddOpens(ctx context.Context, opens []store.Opens) error {
	if len(opens) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, fmt.Sprintf(store.AddOpensSQL, "?", "?", "?", "?", "?"))
		if err != nil {
			return err
		}
		defer st.Close()
		for _, o := range opens {
			if _, err := st.ExecContext(ctx, o.Week, o.Who, o.Page, o.Subject, o.Count); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *DB) Opens(ctx context.Context, from, to string) ([]store.Opens, error) {
	rows, err := s.query(ctx, fmt.Sprintf(store.OpensSQL, "?", "?"), from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.ScanOpens(rows)
}

func (s *DB) ForgetOpeners(ctx context.Context, before string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(store.MergeOpenersSQL, "?"), before); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, fmt.Sprintf(store.DeleteOpenersSQL, "?"), before)
		if err == nil {
			n, err = r.RowsAffected()
		}
		return err
	})
	return n, err
}

func (s *DB) OpensBegan(ctx context.Context) (time.Time, error) {
	var applied int64
	var first sql.NullString
	err := s.queryRow(ctx, `SELECT applied_at, (`+store.FirstOpensWeekSQL+`) FROM schema_migrations WHERE version = ?`, store.AdoptionMigration).Scan(&applied, &first)
	if err != nil {
		return time.Time{}, err
	}
	return store.OpensBegan(time.Unix(0, applied), first)
}
