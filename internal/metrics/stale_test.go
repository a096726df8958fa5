package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// applyKeeping is apply with the Prepare a following engine makes during a
// large catch-up.
func applyKeeping(t *testing.T, d *Dataset, keep *Keep, ndjson string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Apply(r, time.Time{})
	}
	d.PrepareKeeping(keep)
}

// A result newer rows invalidated is served to a reader that accepts it
// (Query.Stale) until it expires or is recomputed; never to one that does
// not, never as a drill-down, and never after a Prepare that keeps
// nothing.
func TestStaleResultsWithinTheirBound(t *testing.T) {
	d := load(t, nil, dailyDeps(t, "d", "api", "2026-03-01", 10, 2))
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	qs := q
	qs.Stale = true
	count := func(q Query) int {
		t.Helper()
		r, err := d.Compute("change_failure_rate", q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Records && len(r.Records) != r.Count {
			t.Fatalf("%d records behind a count of %d", len(r.Records), r.Count)
		}
		return r.Count
	}
	if n := count(qs); n != 10 {
		t.Fatalf("first count %d, want 10", n)
	}
	stats := NewStaleStats()
	late := func(id string) string {
		return `{"kind":"deployment","id":"` + id + `","service":"api","environment":"production","finished_at":"2026-03-20T12:00:00Z","status":"failure"}`
	}
	applyKeeping(t, d, &Keep{MaxAge: time.Hour, Stats: stats}, late("late1"))

	if n := count(qs); n != 10 {
		t.Errorf("a reader accepting a stale result counted %d, want the 10 cached before the new row", n)
	}
	if n, age := stats.Served(); n != 1 || age <= 0 || age > time.Hour {
		t.Errorf("served %d stale results, the oldest %v old; want 1, within the hour", n, age)
	}
	select {
	case <-stats.Wanted:
	default:
		t.Error("serving a stale result did not ask for it to be recomputed")
	}
	drill := qs
	drill.Records = true
	if n := count(drill); n != 11 {
		t.Errorf("a drill-down counted %d, want 11: its records are never stale", n)
	}
	// The refresh recomputes what was served stale; readers then get it.
	if left := d.RefreshStale(time.Now().Add(time.Minute)); left {
		t.Error("RefreshStale left work with a minute to do it")
	}
	if !d.Cached("change_failure_rate", q) {
		t.Error("RefreshStale did not cache the recomputed result")
	}
	if n := count(qs); n != 11 {
		t.Errorf("after the refresh: %d, want 11", n)
	}

	// A reader that does not accept stale results gets the fresh one.
	applyKeeping(t, d, &Keep{MaxAge: time.Hour, Stats: stats}, late("late2"))
	if n := count(q); n != 12 {
		t.Errorf("a reader not accepting stale results counted %d, want 12", n)
	}
	if n, _ := stats.Served(); n != 1 {
		t.Errorf("served %d stale results, want still 1", n)
	}

	// An expired one is not served.
	applyKeeping(t, d, &Keep{MaxAge: time.Nanosecond, Stats: stats}, late("late3"))
	time.Sleep(time.Millisecond)
	if n := count(qs); n != 13 {
		t.Errorf("with the stale result expired: %d, want 13", n)
	}

	// Nor one a Prepare keeping nothing (a writer's rows) reaches, though
	// it has not expired: it lacks the writer's rows.
	applyKeeping(t, d, &Keep{MaxAge: time.Hour, Stats: stats}, late("late4"))
	apply(t, d, late("late5"))
	if n := count(qs); n != 15 {
		t.Errorf("after a Prepare keeping nothing: %d, want 15", n)
	}
	if n, _ := stats.Served(); n != 1 {
		t.Errorf("served %d stale results, want still 1", n)
	}

	// One it does not reach stays servable: a ticket changes no
	// deployment metric.
	applyKeeping(t, d, &Keep{MaxAge: time.Hour, Stats: stats}, late("late6"))
	apply(t, d, `{"kind":"ticket","id":"t1","created_at":"2026-03-20T12:00:00Z","priority":"high"}`)
	if n := count(qs); n != 15 {
		t.Errorf("after a ticket: %d, want the stale 15", n)
	}
	if n, _ := stats.Served(); n != 2 {
		t.Errorf("served %d stale results, want 2", n)
	}
}

// A change that reaches every result (a service, reference data) keeps
// them stale too, and a refresh hands back what its deadline left.
func TestStaleResultsAfterAClear(t *testing.T) {
	d := load(t, nil, dailyDeps(t, "d", "api", "2026-03-01", 10, 2))
	qs := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Stale: true}
	ids := []string{"change_failure_rate", "deployment_frequency"}
	for _, id := range ids {
		if _, err := d.Compute(id, qs); err != nil {
			t.Fatal(err)
		}
	}
	stats := NewStaleStats()
	applyKeeping(t, d, &Keep{MaxAge: time.Hour, Stats: stats},
		`{"kind":"service","id":"api","name":"API","team":"core","tier":1}`)
	for _, id := range ids {
		if d.Cached(id, qs) {
			t.Errorf("%s still cached after a service changed", id)
		}
		if _, err := d.Compute(id, qs); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := stats.Served(); n != 2 {
		t.Fatalf("served %d stale results, want 2", n)
	}
	// A deadline already passed still computes one, and hands back the other.
	if left := d.RefreshStale(time.Now().Add(-time.Second)); !left {
		t.Error("RefreshStale with its deadline passed reported nothing left")
	}
	if left := d.RefreshStale(time.Now().Add(time.Minute)); left {
		t.Error("the second RefreshStale left work")
	}
	for _, id := range ids {
		if !d.Cached(id, qs) {
			t.Errorf("%s not recomputed", id)
		}
	}
}

// A copy of the data retired while a newer one was published keeps its
// results stale from then, not from its next Prepare: the bound is on how
// far behind the newest published data a result is.
func TestStaleResultsBoundedFromSince(t *testing.T) {
	for _, c := range []struct {
		ago    time.Duration
		served bool
	}{{30 * time.Minute, true}, {2 * time.Hour, false}} {
		d := load(t, nil, dailyDeps(t, "d", "api", "2026-03-01", 10, 2))
		qs := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Stale: true}
		if _, err := d.Compute("change_failure_rate", qs); err != nil {
			t.Fatal(err)
		}
		stats := NewStaleStats()
		applyKeeping(t, d, &Keep{MaxAge: time.Hour, Stats: stats, Since: time.Now().Add(-c.ago)},
			`{"kind":"deployment","id":"late","service":"api","environment":"production","finished_at":"2026-03-20T12:00:00Z","status":"failure"}`)
		r, err := d.Compute("change_failure_rate", qs)
		if err != nil {
			t.Fatal(err)
		}
		n, age := stats.Served()
		if got := r.Count == 10; got != c.served || (n == 1) != c.served {
			t.Errorf("retired %v ago with an hour's bound: count %d, %d served; want served %v", c.ago, r.Count, n, c.served)
		}
		if c.served && age < c.ago {
			t.Errorf("served %v old, want at least %v", age, c.ago)
		}
	}
}

// The results that expired are let go on their own (the engine asks now
// and then), with the readers' wish to see them recomputed.
func TestDropExpiredStale(t *testing.T) {
	d := load(t, nil, dailyDeps(t, "d", "api", "2026-03-01", 10, 2))
	qs := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Stale: true}
	if _, err := d.Compute("change_failure_rate", qs); err != nil {
		t.Fatal(err)
	}
	applyKeeping(t, d, &Keep{MaxAge: 500 * time.Millisecond, Stats: NewStaleStats()},
		`{"kind":"deployment","id":"late","service":"api","environment":"production","finished_at":"2026-03-20T12:00:00Z","status":"failure"}`)
	if r, _ := d.Compute("change_failure_rate", qs); r.Count != 10 {
		t.Fatalf("count %d, want the stale 10", r.Count)
	}
	d.DropExpiredStale()
	if len(d.cache.stale) != 1 || len(d.wanted) != 1 {
		t.Fatalf("before expiry: %d stale, %d wanted; want 1 and 1", len(d.cache.stale), len(d.wanted))
	}
	time.Sleep(600 * time.Millisecond)
	d.DropExpiredStale()
	if len(d.cache.stale) != 0 || len(d.wanted) != 0 {
		t.Errorf("after expiry: %d stale, %d wanted; want none", len(d.cache.stale), len(d.wanted))
	}
}
