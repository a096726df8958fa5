package postgres

import (
	"context"
	"math"

	"github.com/candor/candor/internal/store"
)

func (s *DB) SyncCursors(ctx context.Context, source string) ([]store.SyncCursor, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, stream, cursor, saved_at FROM sync_cursors WHERE source = $1 ORDER BY stream`, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanSyncCursor)
}

// SaveSyncCursor and LogSyncRun do not wait for record batches: the
// collectors' tables are their own, like the delivery log.
func (s *DB) SaveSyncCursor(ctx context.Context, c store.SyncCursor) error {
	if err := store.CheckSyncCursor(c); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sync_cursors (source, stream, cursor, saved_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source, stream) DO UPDATE SET cursor = excluded.cursor, saved_at = excluded.saved_at`,
		c.Source, c.Stream, c.Cursor, c.SavedAt.UnixNano())
	return err
}

func (s *DB) LogSyncRun(ctx context.Context, r store.SyncRun) (store.SyncRun, error) {
	if err := store.CheckSyncRun(r); err != nil {
		return r, err
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO sync_runs (source, started_at, finished_at, outcome, error, pages,
		accepted, ignored, rejected, inserted, replaced, unchanged, problems) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq`,
		store.SyncRunArgs(r)...).Scan(&r.Seq)
	return r, err
}

func (s *DB) SyncRuns(ctx context.Context, f store.SyncRunFilter) ([]store.SyncRun, error) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, `SELECT `+store.SyncRunColumns+` FROM sync_runs r
		WHERE ($1 = '' OR r.source = $1) AND ($2 = '' OR r.outcome = $2) AND r.finished_at <= $3
		ORDER BY r.finished_at DESC, r.seq DESC LIMIT $4`, f.Source, f.Outcome, store.UntilNanos(f.Before), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.SyncRun, error) { return store.ScanSyncRun(r) })
}
