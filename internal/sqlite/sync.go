package sqlite

import (
	"context"

	"github.com/candor/candor/internal/store"
)

func (s *DB) SyncCursors(ctx context.Context, source string) ([]store.SyncCursor, error) {
	rows, err := s.query(ctx, `SELECT source, stream, cursor, saved_at FROM sync_cursors WHERE source = ? ORDER BY stream`, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanSyncCursor)
}

// SaveSyncCursor and LogSyncRun take the writer slot like a batch, so they
// queue behind an import instead of failing on SQLite's busy lock.
func (s *DB) SaveSyncCursor(ctx context.Context, c store.SyncCursor) error {
	if err := store.CheckSyncCursor(c); err != nil {
		return err
	}
	return s.exclusive(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `INSERT INTO sync_cursors (source, stream, cursor, saved_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (source, stream) DO UPDATE SET cursor = excluded.cursor, saved_at = excluded.saved_at`,
			c.Source, c.Stream, c.Cursor, c.SavedAt.UnixNano())
		return err
	})
}

func (s *DB) LogSyncRun(ctx context.Context, r store.SyncRun) (store.SyncRun, error) {
	if err := store.CheckSyncRun(r); err != nil {
		return r, err
	}
	err := s.exclusive(ctx, func() error {
		return s.db.QueryRowContext(ctx, `INSERT INTO sync_runs (source, started_at, finished_at, outcome, error, pages,
			accepted, ignored, rejected, inserted, replaced, unchanged, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			store.SyncRunArgs(r)...).Scan(&r.Seq)
	})
	return r, err
}

func (s *DB) SyncRuns(ctx context.Context, f store.SyncRunFilter) ([]store.SyncRun, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.query(ctx, `SELECT `+store.SyncRunColumns+` FROM sync_runs r
		WHERE (? = '' OR r.source = ?) AND (? = '' OR r.outcome = ?) AND r.finished_at <= ?
		ORDER BY r.finished_at DESC, r.seq DESC LIMIT ?`, f.Source, f.Source, f.Outcome, f.Outcome, store.UntilNanos(f.Before), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.SyncRun, error) { return store.ScanSyncRun(r) })
}

// exclusive runs fn holding the writer slot: every write of the store
// but a batch's goes through it, and so through the damage check
// (checked) — the ledger's appends and the deliveries' log had not, and a
// damaged index failed every webhook while /healthz said ok.
func (s *DB) exclusive(ctx context.Context, fn func() error) error {
	if err := s.take(ctx); err != nil {
		return err
	}
	defer s.give()
	return s.committed(fn())
}
