package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/store"
)

func (s *DB) AddOpens(ctx context.Context, opens []store.Opens) error {
	if len(opens) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, o := range opens {
		b.Queue(fmt.Sprintf(store.AddOpensSQL, "$1", "$2", "$3", "$4", "$5"), o.Week, o.Who, o.Page, o.Subject, o.Count)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
}

func (s *DB) Opens(ctx context.Context, from, to string) ([]store.Opens, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(store.OpensSQL, "$1", "$2"), from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.ScanOpens(rows)
}

func (s *DB) ForgetOpeners(ctx context.Context, before string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(store.MergeOpenersSQL, "$1"), before); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, fmt.Sprintf(store.DeleteOpenersSQL, "$1"), before)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

func (s *DB) OpensBegan(ctx context.Context) (time.Time, error) {
	var applied time.Time
	var first sql.NullString
	err := s.pool.QueryRow(ctx, `SELECT applied_at, (`+store.FirstOpensWeekSQL+`) FROM schema_migrations WHERE version = $1`, store.AdoptionMigration).Scan(&applied, &first)
	if err != nil {
		return time.Time{}, err
	}
	return store.OpensBegan(applied, first)
}
