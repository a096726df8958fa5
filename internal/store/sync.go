package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The pull collectors (internal/connect: candor sync) read other tools'
// APIs page by page. Each keeps, per stream it walks (a repository's pull
// requests, a project's deployments), a cursor: where its next page, or its
// next run, starts. A collector saves a cursor only after the page before it
// committed, so a run that stops — a crash, a refused page, a cancelled
// context — resumes where it stopped, and since records are idempotent by
// key, the page that was read again counts nothing twice.

// SyncCursor is where a collector's stream resumes.
type SyncCursor struct {
	Source string
	Stream string
	// Cursor is the collector's own encoding (JSON), opaque to the store.
	Cursor  string
	SavedAt time.Time
}

// Outcomes of a sync run.
const (
	SyncOK     = "ok"
	SyncFailed = "failed"
)

// SyncRun is one run of a collector, as the run log keeps it.
type SyncRun struct {
	// Seq is assigned by the store: positive, increasing, never reused.
	Seq        int64
	Source     string
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    string
	// Error says why a failed run stopped (the API's answer, the store's
	// failure); the pages committed before it stay, and the next run
	// resumes after them.
	Error string
	// Pages counts the pages committed; Accepted, Ignored and Rejected the
	// objects read (an object is one pull request, deployment, incident or
	// issue).
	Pages    int
	Accepted int
	Ignored  int
	Rejected int
	WriteResult
	// Problems lists the rejected objects with their reasons (bounded by
	// the collector).
	Problems []string
}

// SyncRunFilter selects runs from the log.
type SyncRunFilter struct {
	Source  string    // "" for every source
	Outcome string    // "" for every outcome
	Before  time.Time // finished at or before; zero for no bound
	Limit   int       // at most this many, newest first; <= 0 for all
}

// SyncStore keeps the collectors' cursors and their run log.
type SyncStore interface {
	// SyncCursors returns the saved cursors of a source, by stream.
	SyncCursors(ctx context.Context, source string) ([]SyncCursor, error)
	// SaveSyncCursor sets the cursor of c's source and stream.
	SaveSyncCursor(ctx context.Context, c SyncCursor) error
	// LogSyncRun appends a run (its Seq is ignored) and returns it as
	// stored.
	LogSyncRun(ctx context.Context, r SyncRun) (SyncRun, error)
	// SyncRuns returns the runs matching f, newest (by finish) first.
	SyncRuns(ctx context.Context, f SyncRunFilter) ([]SyncRun, error)
}

// ErrInvalidSync is returned (wrapped) for a cursor or run the store cannot
// keep as given.
var ErrInvalidSync = errors.New("invalid sync cursor or run")

// CheckSyncCursor validates a cursor before it is saved.
func CheckSyncCursor(c SyncCursor) error {
	switch {
	case c.Source == "" || c.Stream == "":
		return fmt.Errorf("%w: a cursor needs its source and stream", ErrInvalidSync)
	case c.SavedAt.IsZero():
		return fmt.Errorf("%w: a cursor needs the time it was saved", ErrInvalidSync)
	}
	return nil
}

// CheckSyncRun validates a run before it is logged.
func CheckSyncRun(r SyncRun) error {
	switch {
	case r.Source == "":
		return fmt.Errorf("%w: a run needs its source", ErrInvalidSync)
	case r.Outcome != SyncOK && r.Outcome != SyncFailed:
		return fmt.Errorf("%w: unknown outcome %q", ErrInvalidSync, r.Outcome)
	case r.StartedAt.IsZero() || r.FinishedAt.Before(r.StartedAt):
		return fmt.Errorf("%w: a run needs its start, and a finish no earlier", ErrInvalidSync)
	}
	return nil
}

// SyncRunColumns selects a run from "sync_runs r" in ScanSyncRun's order.
const SyncRunColumns = `r.seq, r.source, r.started_at, r.finished_at, r.outcome, r.error, r.pages, r.accepted, r.ignored, r.rejected, r.inserted, r.replaced, r.unchanged, r.problems`

// SyncRunArgs are a run's values for an INSERT of every column of
// SyncRunColumns but seq, in that order.
func SyncRunArgs(r SyncRun) []any {
	problems, _ := json.Marshal(r.Problems)
	if r.Problems == nil {
		problems = []byte("[]")
	}
	return []any{r.Source, r.StartedAt.UnixNano(), r.FinishedAt.UnixNano(), r.Outcome, r.Error, r.Pages,
		r.Accepted, r.Ignored, r.Rejected, r.Inserted, r.Replaced, r.Unchanged, string(problems)}
}

// ScanSyncRun reads SyncRunColumns.
func ScanSyncRun(row RowScanner) (SyncRun, error) {
	var r SyncRun
	var started, finished int64
	var problems string
	if err := row.Scan(&r.Seq, &r.Source, &started, &finished, &r.Outcome, &r.Error, &r.Pages,
		&r.Accepted, &r.Ignored, &r.Rejected, &r.Inserted, &r.Replaced, &r.Unchanged, &problems); err != nil {
		return r, err
	}
	r.StartedAt, r.FinishedAt = time.Unix(0, started).UTC(), time.Unix(0, finished).UTC()
	if err := json.Unmarshal([]byte(problems), &r.Problems); err != nil {
		return r, fmt.Errorf("stored problems of sync run %d: %w", r.Seq, err)
	}
	if len(r.Problems) == 0 {
		r.Problems = nil
	}
	return r, nil
}

// ScanSyncCursor reads source, stream, cursor, saved_at.
func ScanSyncCursor(row RowScanner) (SyncCursor, error) {
	var c SyncCursor
	var saved int64
	err := row.Scan(&c.Source, &c.Stream, &c.Cursor, &saved)
	c.SavedAt = time.Unix(0, saved).UTC()
	return c, err
}

// UntilNanos is an upper bound on a time column: the zero time is none.
func UntilNanos(t time.Time) int64 {
	if t.IsZero() {
		return 1<<63 - 1
	}
	return t.UnixNano()
}
