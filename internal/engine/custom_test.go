package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// customConfig is settings with one organisation-defined metric,
// "deploys", counting the deployments that match.
func customConfig(t *testing.T, filter string) metrics.Config {
	t.Helper()
	m, err := metrics.CompileCustom(metrics.CustomDef{ID: "deploys", Kind: "deployment", Time: "finished_at", Filter: filter, Aggregate: metrics.AggregateCount})
	if err != nil {
		t.Fatal(err)
	}
	cfg := metrics.DefaultConfig()
	if err := cfg.SetCustom([]*metrics.CustomMetric{m}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSetCustomReplacesCachedResults: an organisation-defined metric's
// computation put in force in a loaded engine (an approved custom_metrics
// section) gives the new definition's value at the next read — the
// result cached under the old one is not served — with the new formula
// version in its citation, in every epoch's dataset, and in a dataset
// made later for new settings.
func TestSetCustomReplacesCachedResults(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	importLines(t, st, dep("d1", "success"), dep("d2", "success"), dep("d3", "failure"))
	e := engine.New(st, customConfig(t, `status == "failure"`))
	compute := func(asOf time.Time) (float64, int) {
		t.Helper()
		var v float64
		var formula int
		err := e.Read(ctx, func(ds *metrics.Dataset) error {
			ds = ds.At(asOf)
			r, err := ds.Compute("deploys", metrics.Query{AsOf: asOf, Window: query.Window})
			if err != nil {
				return err
			}
			v, formula = *r.Value, ds.Cite("deploys", 1, 0).Formula
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return v, formula
	}
	before, f1 := compute(query.AsOf)
	if before != 1 {
		t.Fatalf("failed deployments: %v, want 1", before)
	}
	next := customConfig(t, `status != "failure"`)
	e.SetCustom(next.CustomSet())
	after, f2 := compute(query.AsOf)
	if after != 2 {
		t.Errorf("after SetCustom: %v, want 2 (the cached 1 of the old definition was served)", after)
	}
	if f2 == f1 {
		t.Errorf("the formula version did not change with the expression: %d", f1)
	}

	// Settings epochs: every dataset computes the definition in force,
	// including one made after SetCustom from settings that carry the old.
	change := query.AsOf.Add(-24 * time.Hour)
	old := customConfig(t, `status == "failure"`)
	other := customConfig(t, `status == "failure"`)
	other.GrossMargin = 0.5
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: old}, {From: change, Config: other}}); err != nil {
		t.Fatal(err)
	}
	for _, asOf := range []time.Time{change.Add(-time.Hour), query.AsOf} {
		if v, f := compute(asOf); v != 2 || f != f2 {
			t.Errorf("as of %s under epochs: %v (formula %d), want 2 (formula %d)", asOf, v, f, f2)
		}
	}
}

// TestSetCustomWhileReading: reads of a following engine go on while the
// organisation's metrics are replaced again and again; each read sees one
// definition or the other, with its own formula version (run with -race).
func TestSetCustomWhileReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t, t.TempDir())
	importLines(t, st, dep("d1", "success"), dep("d2", "success"), dep("d3", "failure"))
	failed, shipped := customConfig(t, `status == "failure"`), customConfig(t, `status != "failure"`)
	e := engine.New(st, failed)
	e.Start(ctx)
	want := map[int]float64{}
	for _, c := range []metrics.Config{failed, shipped} {
		e.SetCustom(c.CustomSet())
		if err := e.Read(ctx, func(ds *metrics.Dataset) error {
			r, err := ds.Compute("deploys", query)
			want[ds.Cite("deploys", 1, 0).Formula] = *r.Value
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				err := e.Read(ctx, func(ds *metrics.Dataset) error {
					r, err := ds.Compute("deploys", query)
					if err != nil {
						return err
					}
					if f := ds.Cite("deploys", 1, 0).Formula; want[f] != *r.Value {
						return fmt.Errorf("value %v under formula %d, want %v", *r.Value, f, want[f])
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 100 {
		c := failed
		if i%2 == 0 {
			c = shipped
		}
		e.SetCustom(c.CustomSet())
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCustomVersionsComputeEachAsOf: with the organisation's metrics in
// force over time, a value as of t is computed, and cited, by the
// computation in force at t.
func TestCustomVersionsComputeEachAsOf(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	importLines(t, st, dep("d1", "success"), dep("d2", "success"), dep("d3", "failure"))
	failed, shipped := customConfig(t, `status == "failure"`), customConfig(t, `status != "failure"`)
	e := engine.New(st, failed)
	change := query.AsOf.Add(-12 * time.Hour)
	e.SetCustom(metrics.CustomVersions([]metrics.CustomVersion{{Set: failed.CustomSet()}, {From: change, Set: shipped.CustomSet()}}))
	formulas := map[float64]int{}
	for _, asOf := range []time.Time{change.Add(-time.Hour), query.AsOf} {
		err := e.Read(ctx, func(ds *metrics.Dataset) error {
			r, err := ds.Compute("deploys", metrics.Query{AsOf: asOf, Window: query.Window})
			if err == nil {
				formulas[*r.Value] = ds.CiteAt("deploys", asOf, 1, 0).Formula
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(formulas) != 2 || formulas[1] == formulas[2] || formulas[1] == 0 {
		t.Errorf("before the change 1 failed deployment, after it 2 shipped, each with its formula version; got %v", formulas)
	}
}
