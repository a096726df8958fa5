package sqlite

import (
	"context"
	"log/slog"
	"time"

	"github.com/candor/candor/internal/priority"
)

// take waits for the process's writer slot (see DB.writer).
func (s *DB) take(ctx context.Context) error {
	select {
	case s.writer <- struct{}{}:
		return nil
	default:
	}
	// A page waiting for an import's commit is no reason for the import
	// to give way to it (priority.Blocked).
	defer priority.Blocked(ctx)()
	select {
	case s.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// give releases the writer slot and tells the checkpointer the WAL may
// have grown.
func (s *DB) give() {
	<-s.writer
	select {
	case s.wrote <- struct{}{}:
	default:
	}
}

// SQLite's own checkpoint runs inside the commit that takes the WAL past
// 1,000 pages: that commit, and every webhook delivery queued behind it,
// waited 30–40 ms while 16 MiB were copied into the database and synced —
// one group commit in a hundred, which was the deliveries' p99. Candor
// turns the automatic checkpoint off (wal_autocheckpoint(0) in the DSN)
// and checkpoints from a goroutine of its own instead: a PASSIVE
// checkpoint copies pages while writers go on appending, so no commit
// waits for it.
//
// Variables, not constants, so a test can make the WAL's limit small.
var (
	// checkpointEvery is the least time between two checkpoints. Each
	// copies every page written since the last one, so the pages a stream
	// of small commits writes again and again (the last leaf of each
	// table and index) are copied once a round: at 100 ms the checkpoints
	// cost a webhook delivery 0.1–0.2 ms of CPU more than SQLite's own
	// did (BenchmarkGitHubDeliveries), at 500 ms about as much.
	checkpointEvery = 500 * time.Millisecond
	// walLimit is the WAL's length, in frames, past which a checkpoint is
	// also made holding the writer slot. SQLite starts the WAL file over
	// only at a write that finds every frame copied back; under a steady
	// stream of commits one always lands during the background copy, so
	// the file would grow for as long as the stream lasts. Holding the
	// slot, the checkpoint copies the few frames written since the last
	// one and the next write starts the file over. 8,192 frames are 128 MiB
	// at Candor's 16 KiB pages: under 2,000 webhook deliveries a second the
	// WAL grows by about 80 MB a second, and a limit of 2,048 frames had
	// the writer wait for a checkpoint twice a second.
	walLimit int64 = 8192
)

// checkpoints checkpoints the WAL after writes, until Close.
func (s *DB) checkpoints(ctx context.Context) {
	defer close(s.checkpointed)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wrote:
		}
		if err := s.checkpoint(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("sqlite: checkpoint", "dir", s.dir, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// checkpoint copies the WAL's frames into the database: in the background,
// and again holding the writer slot when the WAL is past walLimit.
func (s *DB) checkpoint(ctx context.Context) error {
	frames, err := s.walCheckpoint(ctx)
	if err != nil || frames <= walLimit {
		return err
	}
	if err := s.take(ctx); err != nil {
		return err
	}
	// Released without give: this wrote nothing a checkpoint would copy.
	defer func() { <-s.writer }()
	_, err = s.walCheckpoint(ctx)
	return err
}

// walCheckpoint runs a PASSIVE checkpoint and returns the WAL's length in
// frames.
func (s *DB) walCheckpoint(ctx context.Context) (frames int64, err error) {
	var busy, copied int64
	err = s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}
