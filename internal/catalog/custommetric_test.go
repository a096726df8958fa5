package catalog

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// ownMetric is an organisation's metric as AddMetrics checks it.
func ownMetric(id, name string) Metric {
	return Metric{ID: id, Name: name, Pillar: "delivery", Description: "d", Unit: "count", Better: Lower, Type: Lagging,
		Owner: "VP Engineering", Priority: "P1", Thresholds: &Thresholds{Green: 1, Amber: 2}, Window: 30 * 24 * time.Hour,
		Formula: "count of deployment records", Version: 1, Effective: FromTheStart, Signoff: SignoffAssumed, Sources: []Source{{Kind: "deployment", Freshness: time.Hour}}}
}

// TestSetCustomMetrics: another list of the organisation's metrics put in
// force in a governed catalog is what every copy's lookups, listings and
// versions read — the approved changes applied to the new definitions —
// and one that drops a metric an approved change names is refused,
// leaving the catalog as it was.
func TestSetCustomMetrics(t *testing.T) {
	base, own := ownMetrics(t)
	withOwn, err := base.AddMetrics([]Metric{ownMetric("failed_deploys", "Failed deployments")}, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := withOwn.Governed()
	change := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := c.Govern([]Change{{Metric: "failed_deploys", At: change, Override: Override{Owner: "CTO"}, Ref: "proposal 3"}}); err != nil {
		t.Fatal(err)
	}
	next := ownMetric("failed_deploys", "Failed production deployments")
	if err := c.SetCustomMetrics(own(next, ownMetric("rollbacks", "Rollbacks"))); err != nil {
		t.Fatal(err)
	}
	m, ok := c.Metric("failed_deploys")
	if !ok || m.Name != "Failed production deployments" || !m.Custom {
		t.Fatalf("Metric after SetCustomMetrics: %+v %v", m, ok)
	}
	if v := m.At(change.Add(time.Hour)); v.Owner != "CTO" || v.Name != "Failed production deployments" || v.Version != 2 {
		t.Errorf("the approved change on the new definition: owner %q, name %q, version %d", v.Owner, v.Name, v.Version)
	}
	if _, ok := c.At(change).Metric("rollbacks"); !ok {
		t.Error("At does not list the added metric")
	}
	// The catalog in force at a time looks up its own versions.
	if v, ok := c.At(change.Add(time.Hour)).Metric("failed_deploys"); !ok || v.Owner != "CTO" {
		t.Errorf("At(t).Metric after SetCustomMetrics: %+v", v)
	}
	n := len(c.MetricsInForce())
	if n != len(base.Metrics)+2 {
		t.Errorf("metrics in force: %d, want the built-ins and two", n)
	}
	err = c.SetCustomMetrics(own(ownMetric("rollbacks", "Rollbacks")))
	if err == nil || !strings.Contains(err.Error(), `no metric "failed_deploys"`) {
		t.Fatalf("dropping a metric an approved change names: %v", err)
	}
	if _, ok := c.Metric("failed_deploys"); !ok || len(c.MetricsInForce()) != n {
		t.Error("a refused list changed the catalog")
	}
}

// TestSetCustomMetricsWhileReading: readers of a governed catalog — lookups,
// listings, the catalog at a time, the views — run while the
// organisation's metrics are replaced; run with -race, it shows the swap
// is safe, and each reader sees one list or the other, whole.
func TestSetCustomMetricsWhileReading(t *testing.T) {
	base, own := ownMetrics(t)
	one, two := own(ownMetric("a", "A")), own(ownMetric("a", "A"), ownMetric("b", "B"))
	withOwn, err := base.AddMetrics(one, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := withOwn.Governed()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				n := len(c.MetricsInForce())
				if n != len(base.Metrics)+1 && n != len(base.Metrics)+2 {
					t.Errorf("a reader saw %d metrics", n)
					return
				}
				if _, ok := c.Metric("a"); !ok {
					t.Error("a reader lost metric a")
					return
				}
				_ = c.At(time.Now()).Metrics
				_ = c.PillarMetrics("delivery")
			}
		}()
	}
	for i := range 200 {
		next := one
		if i%2 == 0 {
			next = two
		}
		if err := c.SetCustomMetrics(next); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

// TestSetCustomVersions: with the organisation's metrics in force over
// time, a metric's version at t is its entry in the list in force then,
// with the approved changes up to t; one added later answers with its
// first entry.
func TestSetCustomVersions(t *testing.T) {
	base, own := ownMetrics(t)
	first := own(ownMetric("a", "Old"))
	withOwn, err := base.AddMetrics(first, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := withOwn.Governed()
	owner := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := c.Govern([]Change{{Metric: "a", At: owner, Override: Override{Owner: "CTO"}, Ref: "proposal 2"}}); err != nil {
		t.Fatal(err)
	}
	change := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := c.SetCustomVersions([]CustomEra{{Metrics: first}, {From: change, Metrics: own(ownMetric("a", "New"), ownMetric("b", "B"))}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at          time.Time
		name, owner string
	}{
		{owner.Add(-time.Hour), "Old", "VP Engineering"},
		{owner.Add(time.Hour), "Old", "CTO"},
		{change.Add(time.Hour), "New", "CTO"},
	} {
		m, ok := c.At(tc.at).Metric("a")
		if !ok || m.Name != tc.name || m.Owner != tc.owner {
			t.Errorf("a at %s: %+v %v; want %s owned by %s", tc.at, m, ok, tc.name, tc.owner)
		}
	}
	if m, ok := c.Metric("a"); !ok || m.Name != "New" {
		t.Errorf("the metric in force: %+v", m)
	}
	if m, ok := c.At(owner).Metric("b"); !ok || m.Name != "B" {
		t.Errorf("a metric added later, before it was: %+v %v", m, ok)
	}
	// Each came into the catalog with the first list holding it: a from the start, b with
	// the change; a built-in is there from the start.
	for id, want := range map[string]time.Time{"a": {}, "b": change, "mttr": {}} {
		if m, ok := c.Metric(id); !ok || !m.AddedAt().Equal(want) {
			t.Errorf("%s added at %v (%v), want %v", id, m.AddedAt(), ok, want)
		}
	}
	// Governing again keeps the lists over time.
	if err := c.Govern(c.Changes()); err != nil {
		t.Fatal(err)
	}
	if m, _ := c.At(owner.Add(time.Hour)).Metric("a"); m.Name != "Old" {
		t.Errorf("after Govern, a before the change: %q", m.Name)
	}
}

// ownMetrics is the built-in catalog and a function making the organisation's metrics' entries
// as AddMetrics does (sign-off from the pillar, …).
func ownMetrics(t *testing.T) (*Catalog, func(ms ...Metric) []Metric) {
	t.Helper()
	base, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return base, func(ms ...Metric) []Metric {
		t.Helper()
		cat, err := base.AddMetrics(ms, "proposal", nil)
		if err != nil {
			t.Fatal(err)
		}
		return cat.Metrics[len(base.Metrics):]
	}
}

// TestSetCustomMetricsDroppingOneAViewShows: a list that drops an
// organisation's metric shown in a view by its own `views:` is put in force
// though the catalog holds an approved change (of any metric): the history
// was rebuilt against the views as they were, which still named the dropped
// metric, so the running server refused the approved section ("view
// "support": metrics[4]: unknown metric") and kept computing the old list
// while every command started later computed the new one. The views are
// replaced on their own (SetViews) and checked when the section is.
func TestSetCustomMetricsDroppingOneAViewShows(t *testing.T) {
	base, own := ownMetrics(t)
	withOwn, err := base.AddMetrics([]Metric{ownMetric("failed_deploys", "Failed deployments")}, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range withOwn.Views {
		if withOwn.Views[i].ID == "support" {
			withOwn.Views[i].Metrics = append(withOwn.Views[i].Metrics, "failed_deploys")
		}
	}
	c := withOwn.Governed()
	if err := c.Govern([]Change{{Metric: "mttr", At: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Override: Override{Owner: "CTO"}, Ref: "proposal 3"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCustomMetrics(own(ownMetric("rollbacks", "Rollbacks"))); err != nil {
		t.Fatalf("dropping a metric a view shows: %v", err)
	}
	if _, ok := c.Metric("failed_deploys"); ok {
		t.Error("the dropped metric is still in force")
	}
	if m, ok := c.MetricAt("mttr", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); !ok || m.Owner != "CTO" {
		t.Errorf("the approved change of mttr after the swap: owner %q", m.Owner)
	}
}
