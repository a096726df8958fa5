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
	"github.com/candor/candor/internal/ledger"
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
	// The scorecard is built as of the slot. For a snapshot taken on
	// demand it is the as_of asked for.
	Slot     time.Time `json:"slot"`
	Interval string    `json:"interval,omitempty"`
	// OnDemand marks a snapshot taken by `candor snapshot` rather than by
	// the schedule; By names who took it.
	OnDemand  bool                 `json:"on_demand,omitempty"`
	By        string               `json:"by,omitempty"`
	Scorecard *scorecard.Scorecard `json:"scorecard"`
}

// Each snapshot is chained in the audit ledger as it is stored: the size
// and SHA-256 of the document, and each metric's status, so the ledger
// alone says what the scorecard said that week.
func init() {
	ledger.RegisterDocs(Collection, ledger.DocSpec{Type: ledger.TypeSnapshot, Digest: true, Summary: summary})
}

// summary is a snapshot's ledger data beside its digest.
func summary(body []byte) (map[string]any, error) {
	var s Snapshot
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("not a KPI snapshot: %w", err)
	}
	out := map[string]any{"slot": s.Slot, "on_demand": s.OnDemand}
	if s.Scorecard != nil {
		statuses := map[string]catalog.Status{}
		for _, p := range s.Scorecard.Pillars {
			for _, c := range p.Metrics {
				statuses[c.ID] = c.Status
			}
		}
		out["as_of"], out["statuses"] = s.Scorecard.AsOf, statuses
	}
	return out, nil
}

// Take stores a snapshot of the scorecard as of asOf, on demand (not in a
// schedule's slot), and returns its document.
func Take(ctx context.Context, docs store.DocStore, eng *engine.Engine, cat *catalog.Catalog, asOf time.Time, by string) (store.Doc, error) {
	var body []byte
	err := eng.Read(ctx, func(ds *metrics.Dataset) error {
		sc := scorecard.Build(cat, ds, scorecard.Options{AsOf: asOf})
		var err error
		body, err = json.Marshal(Snapshot{Slot: asOf.UTC(), OnDemand: true, By: by, Scorecard: sc})
		return err
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("building the scorecard: %w", err)
	}
	return docs.AppendDoc(ctx, Collection, body)
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

// onDemand tells a snapshot taken on demand by its body, without decoding
// the scorecard in it.
func onDemand(body []byte) bool {
	var s struct {
		OnDemand bool `json:"on_demand"`
	}
	json.Unmarshal(body, &s)
	return s.OnDemand
}

// recentSnapshots bounds the documents RunOnce reads to find the latest
// scheduled snapshot.
const recentSnapshots = 8

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
	// Snapshots taken on demand are not the schedule's: the latest of the
	// schedule's is among the last few documents, unless many were taken
	// since, and then the store's key check stands in.
	last, err := s.Docs.Docs(ctx, Collection, 1)
	if err == nil && len(last) == 1 && onDemand(last[0].Body) {
		last, err = s.Docs.Docs(ctx, Collection, recentSnapshots)
	}
	if err != nil {
		return false, fmt.Errorf("reading the latest snapshot: %w", err)
	}
	for _, d := range last {
		var prev Snapshot
		if err := json.Unmarshal(d.Body, &prev); err != nil {
			return false, fmt.Errorf("snapshot (doc %d) is corrupt: %w", d.ID, err)
		}
		if prev.OnDemand {
			continue
		}
		if !prev.Slot.Before(slot) {
			return false, nil
		}
		break
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
