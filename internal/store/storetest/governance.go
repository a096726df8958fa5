package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// runGovernance is the contract of the adoption counts.
func runGovernance(t *testing.T, open Factory, o options) {
	ctx := context.Background()

	t.Run("AdoptionCountsAddUpAndForgetWho", func(t *testing.T) {
		s := open(t)
		add := func(opens ...store.Opens) {
			t.Helper()
			if err := s.AddOpens(ctx, opens); err != nil {
				t.Fatal(err)
			}
		}
		add(store.Opens{Week: "2026-03-02", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 2},
			store.Opens{Week: "2026-03-02", Who: "user:b@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 1})
		add(store.Opens{Week: "2026-03-02", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 3},
			store.Opens{Week: "2026-03-09", Who: "user:a@example.com", Page: "GET /{$}", Count: 1})
		got, err := s.Opens(ctx, "2026-03-02", "2026-03-09")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Opens{
			{Week: "2026-03-02", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 5},
			{Week: "2026-03-02", Who: "user:b@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 1},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("opens = %+v, want %+v", got, want)
		}
		n, err := s.ForgetOpeners(ctx, "2026-03-09")
		if err != nil || n != 2 {
			t.Fatalf("ForgetOpeners = %d, %v", n, err)
		}
		got, _ = s.Opens(ctx, "2026-01-01", "2027-01-01")
		want = []store.Opens{
			{Week: "2026-03-02", Who: "", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 6},
			{Week: "2026-03-09", Who: "user:a@example.com", Page: "GET /{$}", Count: 1},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("after forgetting: %+v, want %+v", got, want)
		}
	})
	// The counts began when the store made its adoption table, or at the
	// first week holding a count if earlier (counts restored from an older
	// store): the quarterly review judges only from then.
	t.Run("OpensBegan", func(t *testing.T) {
		before := time.Now().Add(-time.Minute)
		s := open(t)
		began, err := s.OpensBegan(ctx)
		if err != nil || began.Before(before) || began.After(time.Now().Add(time.Minute)) {
			t.Fatalf("a new store's counts began %v, %v; want about now", began, err)
		}
		if err := s.AddOpens(ctx, []store.Opens{{Week: "2026-03-02", Who: "user:a@example.com", Page: "GET /{$}", Count: 1}}); err != nil {
			t.Fatal(err)
		}
		if began, err := s.OpensBegan(ctx); err != nil || !began.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("with a count of 2026-03-02 the counts began %v, %v", began, err)
		}
		// A count in the week the table was made: the making, not that
		// week's Monday, days before the store existed.
		t2 := open(t)
		made, err := t2.OpensBegan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		week := made.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(int(made.UTC().Weekday())+6)%7)
		if err := t2.AddOpens(ctx, []store.Opens{{Week: week.Format(time.DateOnly), Who: "user:a@example.com", Page: "GET /{$}", Count: 1}}); err != nil {
			t.Fatal(err)
		}
		if began, err := t2.OpensBegan(ctx); err != nil || !began.Equal(made) {
			t.Fatalf("with a count of the week the table was made (%s), the counts began %v, %v; want %v", week.Format(time.DateOnly), began, err, made)
		}
	})
}
