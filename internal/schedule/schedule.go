// Package schedule is the scheduled work the leader instance runs (see
// package leader): KPI snapshots (SPEC §5), the scorecard kept as it was at
// each interval so history survives later corrections of the data.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Collection is the document collection snapshots are appended to.
const Collection = "kpi_snapshot"

// Snapshot is the body of a kpi_snapshot document.
type Snapshot struct {
	// Slot is the start of the interval the snapshot is for: the time
	// truncated to the interval (for the default 168h, Monday 00:00 UTC).
	// The scorecard is built as of the slot.
	Slot      time.Time            `json:"slot"`
	Interval  string               `json:"interval"`
	Scorecard *scorecard.Scorecard `json:"scorecard"`
}

// Snapshots writes one snapshot per slot. Run it on the leader, so the
// scorecard is built once per slot rather than on every instance; but
// "one per slot" does not rest on leadership. Each snapshot is appended
// with the slot as its document key (store.DocStore.AppendDocOnce), and
// the store refuses a second document with that key, so two instances that
// both believe they lead — the old leader's lock connection broke and it
// has not noticed yet (see leader.Elector.Run) — still store one.
type Snapshots struct {
	Docs     store.DocStore
	Engine   *engine.Engine
	Catalog  *catalog.Catalog
	Interval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives errors and written snapshots (discarded when nil).
	Log *slog.Logger
	// Connectors, when set, is the connectors' health as of a time
	// (connect.Service.Feeds), which the scorecard judges as the pages do.
	Connectors func(ctx context.Context, asOf time.Time) ([]health.Connector, error)
}

func (s *Snapshots) now() time.Time    { return clock(s.Now) }
func (s *Snapshots) log() *slog.Logger { return logger(s.Log) }

// clock is now's time, or time.Now's when now is nil.
func clock(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// logger is log, or one that discards when log is nil.
func logger(log *slog.Logger) *slog.Logger {
	if log != nil {
		return log
	}
	return slog.New(slog.DiscardHandler)
}

// Run writes the current slot's snapshot if it is missing, then each
// following slot's at its start, until ctx ends (it then returns nil). A
// failed write is logged and retried after min(Interval, 30s). Slots that
// passed while no instance led are not back-filled.
func (s *Snapshots) Run(ctx context.Context) error {
	if s.Interval <= 0 {
		return fmt.Errorf("schedule: snapshot interval %v must be positive", s.Interval)
	}
	for {
		now := s.now()
		wait := now.Truncate(s.Interval).Add(s.Interval).Sub(now)
		if _, err := s.RunOnce(ctx, now); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log().Error("kpi snapshot failed", "err", err)
			wait = min(wait, s.Interval, 30*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// SlotKey is the document key of the snapshot for slot: the slot's start
// in RFC 3339 UTC, with the fraction of a second when there is one, so
// sub-second intervals (in tests) get distinct keys too.
func SlotKey(slot time.Time) string {
	return slot.UTC().Format(time.RFC3339Nano)
}

// RunOnce writes the snapshot of now's slot unless the latest snapshot is
// for that slot or a later one, or another writer stored the slot's
// snapshot first. It reports whether it wrote.
func (s *Snapshots) RunOnce(ctx context.Context, now time.Time) (written bool, err error) {
	slot := now.Truncate(s.Interval).UTC()
	// The cheap path: usually the slot is done, and reading the latest
	// document spares building a scorecard only to have the store refuse
	// it. It also keeps an older slot from being written after a newer one.
	last, err := s.Docs.Docs(ctx, Collection, 1)
	if err != nil {
		return false, fmt.Errorf("reading the latest snapshot: %w", err)
	}
	if len(last) > 0 {
		var prev Snapshot
		if err := json.Unmarshal(last[0].Body, &prev); err != nil {
			return false, fmt.Errorf("latest snapshot (doc %d) is corrupt: %w", last[0].ID, err)
		}
		if !prev.Slot.Before(slot) {
			return false, nil
		}
	}
	opt := scorecard.Options{AsOf: slot}
	if s.Connectors != nil {
		if opt.Connectors, err = s.Connectors(ctx, slot); err != nil {
			return false, fmt.Errorf("reading the connectors' health: %w", err)
		}
	}
	var body []byte
	err = s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		sc := scorecard.Build(s.Catalog, ds, opt)
		var err error
		body, err = json.Marshal(Snapshot{Slot: slot, Interval: catalog.FormatWindow(s.Interval), Scorecard: sc})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("building the scorecard: %w", err)
	}
	doc, created, err := s.Docs.AppendDocOnce(ctx, Collection, SlotKey(slot), body)
	if err != nil {
		return false, fmt.Errorf("storing the snapshot: %w", err)
	}
	if !created {
		s.log().Info("kpi snapshot already written by another instance", "slot", slot, "doc", doc.ID)
		return false, nil
	}
	s.log().Info("kpi snapshot written", "slot", slot, "doc", doc.ID)
	return true, nil
}
