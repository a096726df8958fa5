package schedule_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/schedule"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// Each collector runs once per its interval; one run recently (by the log)
// is not run again until its interval has passed since, and a failing one
// keeps its schedule.
func TestSyncsRunWhenDue(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	// jira ran just now (another leader, before a restart).
	if _, err := st.LogSyncRun(ctx, store.SyncRun{Source: "jira", StartedAt: start, FinishedAt: start, Outcome: store.SyncOK}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := map[string][]time.Duration{}
	s := &schedule.Syncs{Runs: st, Every: map[string]time.Duration{"github": 100 * time.Millisecond, "jira": 300 * time.Millisecond},
		Sync: func(ctx context.Context, source string) error {
			mu.Lock()
			defer mu.Unlock()
			calls[source] = append(calls[source], time.Since(start))
			return errors.New("the API is down")
		}}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(700 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Timers on a busy machine may fire late, never early; but jira's
	// due time comes from the run stored, a wall-clock time, and start's
	// reading here is the monotonic clock's: the two may differ by a
	// fraction of a millisecond (it came 0.5 ms early once). Not at once
	// is what is asked.
	if gh := calls["github"]; len(gh) < 3 || len(gh) > 8 || gh[0] > 100*time.Millisecond {
		t.Errorf("github (every 100ms, never run) ran at %v: want at once, then about every 100ms", gh)
	}
	if jira := calls["jira"]; len(jira) == 0 || len(jira) > 2 || jira[0] < 290*time.Millisecond {
		t.Errorf("jira (every 300ms, run at the start) ran at %v: want after 300ms, not at once", jira)
	}
}

func TestSyncsRefuseNoInterval(t *testing.T) {
	s := &schedule.Syncs{Every: map[string]time.Duration{"github": 0}}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("a zero interval was accepted")
	}
}

// A snapshot judges the scorecard as the pages do: with a configured
// connector that never worked feeding the subscriptions, MRR is unknown
// and says why.
func TestSnapshotJudgesConnectors(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-01-01T00:00:00Z","mrr":100}` + "\n"
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "s.ndjson", Reader: strings.NewReader(rec)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	s := newSnapshots(t, st, time.Hour)
	s.Connectors = func(context.Context, time.Time) ([]health.Connector, error) {
		return []health.Connector{{Source: "stripe", Kinds: []string{"subscription"}, Webhook: true, Configured: true}}, nil
	}
	if _, err := s.RunOnce(ctx, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	snap := snapshots(t, st)[0]
	found := false
	for _, p := range snap.Scorecard.Pillars {
		for _, c := range p.Metrics {
			if c.ID == "mrr" {
				found = true
				if !strings.HasPrefix(c.Reason, "connector stripe: ") {
					t.Errorf("mrr in the snapshot: %s %q", c.Status, c.Reason)
				}
			}
		}
	}
	if !found {
		t.Fatal("the snapshot has no mrr card")
	}
}
