package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// A setting changed at a time applies from then on: as of earlier times the
// values are computed under the settings in force then, and every dataset
// follows new rows, before and after the change is installed.
func TestEpochsComputeUnderTheSettingsInForce(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	line := func(id, env string) string {
		return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":%q,"finished_at":"2026-03-10T12:00:00Z","status":"success"}`, id, env)
	}
	importLines(t, st, line("p1", "production"), line("e1", "edge"))
	before := metrics.DefaultConfig()
	after := metrics.DefaultConfig()
	after.ProductionNames = []string{"production", "edge"}
	after.EnvironmentAliases = nil
	change := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

	e := engine.New(st, before)
	deploys := func(asOf time.Time) float64 {
		t.Helper()
		var n float64
		err := e.Read(ctx, func(ds *metrics.Dataset) error {
			r, err := ds.At(asOf).Compute("deployment_frequency", metrics.Query{AsOf: asOf, Window: 60 * 24 * time.Hour})
			n = *r.Value * 60
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	early, late := change.Add(-time.Hour), change.Add(time.Hour)
	if got := deploys(late); got != 1 {
		t.Fatalf("before any epoch: %v production deployments", got)
	}
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: before}, {From: change, Config: after}}); err != nil {
		t.Fatal(err)
	}
	if got := deploys(early); got != 1 {
		t.Errorf("as of before the change: %v production deployments, want 1 (edge is not production then)", got)
	}
	if got := deploys(late); got != 2 {
		t.Errorf("as of after the change: %v production deployments, want 2", got)
	}
	// New rows reach every epoch's dataset.
	importLines(t, st, line("p2", "production"), line("e2", "edge"))
	if got, got2 := deploys(early), deploys(late); got != 2 || got2 != 4 {
		t.Errorf("after new rows: %v before, %v after the change; want 2 and 4", got, got2)
	}
	// Back to one set of settings: one dataset, the latest.
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: after}}); err != nil {
		t.Fatal(err)
	}
	if got := deploys(early); got != 4 {
		t.Errorf("one epoch: %v, want 4", got)
	}
}

// ConfigAt is the configuration in force at a time, without the data
// loaded: money as of a time is labelled by it (the currency an approved
// proposal changed had been labelled by the configuration file's).
func TestConfigAtFollowsTheEpochs(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	usd := metrics.DefaultConfig()
	eur := metrics.DefaultConfig()
	eur.Currency = "EUR"
	eur.ExchangeRates = map[string]float64{"USD": 0.9}
	change := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	e := engine.New(st, usd)
	if got := e.ConfigAt(change).Currency; got != "USD" {
		t.Fatalf("before any epoch: %q", got)
	}
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: usd}, {From: change, Config: eur}}); err != nil {
		t.Fatal(err)
	}
	for at, want := range map[time.Time]string{change.Add(-time.Nanosecond): "USD", change: "EUR", change.AddDate(1, 0, 0): "EUR", {}: "USD"} {
		if got := e.ConfigAt(at).Currency; got != want {
			t.Errorf("ConfigAt(%v): %q, want %q", at, got, want)
		}
		if err := e.Read(ctx, func(ds *metrics.Dataset) error {
			if got := ds.At(at).Config().Currency; got != want {
				t.Errorf("the dataset computing as of %v: %q, want %q", at, got, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: eur}}); err != nil {
		t.Fatal(err)
	}
	if got := e.ConfigAt(change.Add(-time.Hour)).Currency; got != "EUR" {
		t.Errorf("one epoch: %q", got)
	}
}
