package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/candor/candor/internal/store"
)

// Syncs runs the configured pull collectors (connectors.<source>.sync.every)
// on the leader: each source once per its interval. When a source is due
// comes from the run log in the store (its last run's start plus the
// interval), so a restart or a new leader neither runs a collector again
// at once nor forgets one that is overdue. Two instances that both believe
// they lead (see leader.Elector.Run) may rarely both run a collector: its
// records are idempotent by key and its cursors only move forward, so that
// costs API calls, not data.
type Syncs struct {
	// Sync runs one collector (connect.Service.Sync) and returns its error.
	Sync func(ctx context.Context, source string) error
	// Runs is the run log (store.SyncStore).
	Runs  store.SyncStore
	Every map[string]time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives failed runs (discarded when nil).
	Log *slog.Logger
}

func (s *Syncs) now() time.Time    { return clock(s.Now) }
func (s *Syncs) log() *slog.Logger { return logger(s.Log) }

// Run runs each collector when due until ctx ends, then returns nil.
func (s *Syncs) Run(ctx context.Context) error {
	for _, src := range slices.Sorted(maps.Keys(s.Every)) {
		if s.Every[src] <= 0 {
			return fmt.Errorf("schedule: sync interval of %s %v must be positive", src, s.Every[src])
		}
	}
	due := map[string]time.Time{}
	for {
		src, at, err := s.next(ctx, due)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The run log could not be read: try again shortly.
			s.log().Error("sync schedule: reading the run log", "err", err)
			src, at = "", s.now().Add(min(30*time.Second, slices.Min(slices.Collect(maps.Values(s.Every)))))
		}
		if wait := at.Sub(s.now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if src == "" {
			continue
		}
		started := s.now()
		due[src] = started.Add(s.Every[src])
		if err := s.Sync(ctx, src); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log().Error("scheduled sync failed", "source", src, "err", err)
		}
	}
}

// next is the source due first and when. A source not yet run by this
// loop is due an interval after its last logged run started.
func (s *Syncs) next(ctx context.Context, due map[string]time.Time) (string, time.Time, error) {
	var first string
	var at time.Time
	for _, src := range slices.Sorted(maps.Keys(s.Every)) {
		d, ok := due[src]
		if !ok {
			runs, err := s.Runs.SyncRuns(ctx, store.SyncRunFilter{Source: src, Limit: 1})
			if err != nil {
				return "", time.Time{}, err
			}
			if len(runs) > 0 {
				d = runs[0].StartedAt.Add(s.Every[src])
			}
			due[src] = d
		}
		if first == "" || d.Before(at) {
			first, at = src, d
		}
	}
	return first, at, nil
}
