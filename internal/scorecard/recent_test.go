package scorecard

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// A page (Options.Recent) may show a value newer rows invalidated while it
// is recomputed; a metric's own page shows its value fresh, equal to the
// records behind it, and only its context (the weekly series) may lag.
// Without Recent nothing is stale.
func TestRecentServesStaleOnlyWhereAllowed(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	recent := Options{AsOf: asOf, Recent: true}
	before := card(t, Build(cat, ds, recent), "change_failure_rate")
	d0, err := Detail(cat, ds, "change_failure_rate", recent, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	// A failed deployment in the last week of the window, applied as a
	// following engine applies a large import's step.
	r, err := domain.ParseJSON([]byte(`{"kind":"deployment","id":"late","service":"api","environment":"production","finished_at":"2026-03-28T00:00:00Z","status":"failure"}`), "", domain.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds.Apply(r, time.Time{})
	stats := metrics.NewStaleStats()
	ds.PrepareKeeping(&metrics.Keep{MaxAge: time.Hour, Stats: stats})

	if c := card(t, Build(cat, ds, recent), "change_failure_rate"); c.Count != before.Count {
		t.Errorf("scorecard with Recent: count %d, want the stale %d", c.Count, before.Count)
	}
	d, err := Detail(cat, ds, "change_failure_rate", recent, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Count != before.Count+1 || d.RecordsTotal != d.Card.Count {
		t.Errorf("metric page: card count %d, %d records; want both %d", d.Card.Count, d.RecordsTotal, before.Count+1)
	}
	last := func(d *MetricDetail) int { return d.Card.Series[len(d.Card.Series)-1].Count }
	if last(d) != last(d0) {
		t.Errorf("the metric page's last weekly point counted %d, want the stale %d (its context may lag)", last(d), last(d0))
	}
	if n, _ := stats.Served(); n == 0 {
		t.Error("no stale result counted as served")
	}
	// A gate, an alert or a report asks without Recent.
	if c := card(t, Build(cat, ds, Options{AsOf: asOf}), "change_failure_rate"); c.Count != before.Count+1 {
		t.Errorf("scorecard without Recent: count %d, want %d", c.Count, before.Count+1)
	}
}
