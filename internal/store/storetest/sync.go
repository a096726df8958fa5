package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

func syncRun(source, outcome string, finished time.Duration) store.SyncRun {
	return store.SyncRun{
		Source: source, StartedAt: deliveryT0.Add(finished - time.Minute), FinishedAt: deliveryT0.Add(finished), Outcome: outcome,
		Pages: 3, Accepted: 250, Ignored: 40, Rejected: 1, WriteResult: store.WriteResult{Inserted: 200, Replaced: 30, Unchanged: 20},
		Problems: []string{"acme/api#12: change acme/api#12: service: missing"},
	}
}

func runIDs(rs []store.SyncRun) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Source+":"+r.FinishedAt.Sub(deliveryT0).String()+":"+r.Outcome)
	}
	return out
}

func runSync(t *testing.T, open Factory, o options) {
	ctx := context.Background()

	t.Run("SyncCursorsSavedPerStream", func(t *testing.T) {
		s := open(t)
		if got, err := s.SyncCursors(ctx, "github"); err != nil || len(got) != 0 {
			t.Fatalf("SyncCursors of a fresh store = %v, %v; want none", got, err)
		}
		save := func(source, stream, cursor string, at time.Duration) {
			t.Helper()
			if err := s.SaveSyncCursor(ctx, store.SyncCursor{Source: source, Stream: stream, Cursor: cursor, SavedAt: deliveryT0.Add(at)}); err != nil {
				t.Fatal(err)
			}
		}
		save("github", "acme/web pulls", `{"since":"a"}`, 0)
		save("github", "acme/api pulls", `{"since":"b"}`, time.Minute)
		save("gitlab", "acme/api merge requests", `{"since":"c"}`, time.Minute)
		save("github", "acme/web pulls", `{"since":"d"}`, 2*time.Minute) // replaces
		got, err := s.SyncCursors(ctx, "github")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.SyncCursor{
			{Source: "github", Stream: "acme/api pulls", Cursor: `{"since":"b"}`, SavedAt: deliveryT0.Add(time.Minute)},
			{Source: "github", Stream: "acme/web pulls", Cursor: `{"since":"d"}`, SavedAt: deliveryT0.Add(2 * time.Minute)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("SyncCursors(github) = %+v, want %+v (by stream, the latest save of each)", got, want)
		}
		for _, bad := range []store.SyncCursor{{Stream: "x", SavedAt: deliveryT0}, {Source: "x", SavedAt: deliveryT0}, {Source: "x", Stream: "y"}} {
			if err := s.SaveSyncCursor(ctx, bad); !errors.Is(err, store.ErrInvalidSync) {
				t.Errorf("SaveSyncCursor(%+v) = %v, want ErrInvalidSync", bad, err)
			}
		}
	})

	t.Run("SyncRunsNewestFirst", func(t *testing.T) {
		s := open(t)
		for _, r := range []store.SyncRun{
			syncRun("github", store.SyncOK, time.Hour),
			syncRun("github", store.SyncFailed, 2*time.Hour),
			syncRun("jira", store.SyncOK, 3*time.Hour),
			syncRun("github", store.SyncOK, 4*time.Hour),
		} {
			got, err := s.LogSyncRun(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if got.Seq <= 0 {
				t.Fatalf("logged run has seq %d", got.Seq)
			}
		}
		list := func(f store.SyncRunFilter) []store.SyncRun {
			t.Helper()
			rs, err := s.SyncRuns(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		all := list(store.SyncRunFilter{})
		if got, want := runIDs(all), []string{"github:4h0m0s:ok", "jira:3h0m0s:ok", "github:2h0m0s:failed", "github:1h0m0s:ok"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("SyncRuns() = %v, want %v", got, want)
		}
		want := syncRun("github", store.SyncOK, 4*time.Hour)
		got := all[0]
		want.Seq = got.Seq
		if !got.StartedAt.Equal(want.StartedAt) || got.StartedAt.Location() != time.UTC || !got.FinishedAt.Equal(want.FinishedAt) {
			t.Fatalf("times %v–%v, want %v–%v in UTC", got.StartedAt, got.FinishedAt, want.StartedAt, want.FinishedAt)
		}
		got.StartedAt, got.FinishedAt = want.StartedAt, want.FinishedAt
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stored run %+v, want %+v", got, want)
		}
		for _, c := range []struct {
			f    store.SyncRunFilter
			want []string
		}{
			{store.SyncRunFilter{Source: "github", Limit: 2}, []string{"github:4h0m0s:ok", "github:2h0m0s:failed"}},
			{store.SyncRunFilter{Source: "github", Outcome: store.SyncOK, Before: deliveryT0.Add(3 * time.Hour)}, []string{"github:1h0m0s:ok"}},
			{store.SyncRunFilter{Outcome: store.SyncFailed}, []string{"github:2h0m0s:failed"}},
			{store.SyncRunFilter{Source: "pagerduty"}, []string{}},
		} {
			if got := runIDs(list(c.f)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("SyncRuns(%+v) = %v, want %v", c.f, got, c.want)
			}
		}
		noProblems := syncRun("gitlab", store.SyncOK, 5*time.Hour)
		noProblems.Problems = nil
		if _, err := s.LogSyncRun(ctx, noProblems); err != nil {
			t.Fatal(err)
		}
		if rs := list(store.SyncRunFilter{Source: "gitlab"}); len(rs) != 1 || rs[0].Problems != nil {
			t.Fatalf("a run without problems reads back as %+v", rs)
		}
		for _, bad := range []store.SyncRun{
			{Outcome: store.SyncOK, StartedAt: deliveryT0, FinishedAt: deliveryT0},
			{Source: "x", Outcome: "partial", StartedAt: deliveryT0, FinishedAt: deliveryT0},
			{Source: "x", Outcome: store.SyncOK, FinishedAt: deliveryT0},
			{Source: "x", Outcome: store.SyncOK, StartedAt: deliveryT0, FinishedAt: deliveryT0.Add(-time.Second)},
		} {
			if _, err := s.LogSyncRun(ctx, bad); !errors.Is(err, store.ErrInvalidSync) {
				t.Errorf("LogSyncRun(%+v) = %v, want ErrInvalidSync", bad, err)
			}
		}
	})

	t.Run("DeliveryStats", func(t *testing.T) {
		s := open(t)
		if st, err := s.DeliveryStats(ctx, "stripe", time.Time{}, time.Time{}); err != nil || len(st.Counts) != 0 || !st.Last.IsZero() || !st.LastOK.IsZero() {
			t.Fatalf("DeliveryStats of a fresh store = %+v, %v", st, err)
		}
		logDelivery(t, s, delivery("stripe", "a", store.DeliveryAccepted, 0))
		logDelivery(t, s, delivery("stripe", "b", store.DeliveryIgnored, time.Hour))
		logDelivery(t, s, delivery("stripe", "a", store.DeliveryDuplicate, 2*time.Hour))
		logDelivery(t, s, delivery("stripe", "", store.DeliveryRejected, 3*time.Hour))
		logDelivery(t, s, delivery("stripe", "c", store.DeliveryAccepted, 5*time.Hour))
		logDelivery(t, s, delivery("github", "g", store.DeliveryAccepted, 6*time.Hour))
		st, err := s.DeliveryStats(ctx, "stripe", deliveryT0.Add(time.Hour), deliveryT0.Add(4*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := store.DeliveryStats{
			Counts: map[string]int64{store.DeliveryIgnored: 1, store.DeliveryDuplicate: 1, store.DeliveryRejected: 1},
			Last:   deliveryT0.Add(3 * time.Hour), LastOK: deliveryT0.Add(2 * time.Hour),
		}
		if !reflect.DeepEqual(st.Counts, want.Counts) || !st.Last.Equal(want.Last) || !st.LastOK.Equal(want.LastOK) {
			t.Fatalf("DeliveryStats(stripe, +1h, +4h) = %+v, want %+v (the rejected one is the last, not the last OK)", st, want)
		}
		st, err = s.DeliveryStats(ctx, "stripe", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Counts[store.DeliveryAccepted] != 2 || !st.LastOK.Equal(deliveryT0.Add(5*time.Hour)) || st.LastOK.Location() != time.UTC {
			t.Fatalf("DeliveryStats(stripe) without bounds = %+v", st)
		}
		// Deliveries at or before a time: the latest rejects as of then.
		ds, err := s.Deliveries(ctx, store.DeliveryFilter{Source: "stripe", Before: deliveryT0.Add(2 * time.Hour), Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := deliveryIDs(ds), []string{"stripe/a:duplicate", "stripe/b:ignored"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Deliveries before +2h = %v, want %v", got, want)
		}
	})

	t.Run("SyncSurvivesReopen", func(t *testing.T) {
		if o.reopen == nil {
			t.Skip("no storetest.Reopen option")
		}
		s := open(t)
		c := store.SyncCursor{Source: "jira", Stream: "issues", Cursor: `{"since":"2026-03-01T12:00:00Z"}`, SavedAt: deliveryT0}
		if err := s.SaveSyncCursor(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LogSyncRun(ctx, syncRun("jira", store.SyncOK, time.Hour)); err != nil {
			t.Fatal(err)
		}
		s = o.reopen(t, s)
		if got, err := s.SyncCursors(ctx, "jira"); err != nil || len(got) != 1 || got[0] != c {
			t.Fatalf("cursors after reopening: %+v, %v", got, err)
		}
		if rs, err := s.SyncRuns(ctx, store.SyncRunFilter{Source: "jira"}); err != nil || len(rs) != 1 {
			t.Fatalf("runs after reopening: %+v, %v", rs, err)
		}
	})
}
