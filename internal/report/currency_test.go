package report

import (
	"context"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// TestDigestLabelsMoneyInTheCurrencyInForce: a digest labels money in the
// currency in force at its as_of (an approved proposal's), not the one
// the server read from its configuration file at start (Service.Currency).
func TestDigestLabelsMoneyInTheCurrencyInForce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	eur := metrics.DefaultConfig()
	eur.Currency = "EUR"
	eur.ExchangeRates = map[string]float64{"USD": 0.5}
	if err := f.svc.Engine.SetEpochs(ctx, []engine.Epoch{{Config: metrics.DefaultConfig()}, {From: asOf.Add(-time.Hour), Config: eur}}); err != nil {
		t.Fatal(err)
	}
	arrOf := func(at time.Time) string {
		t.Helper()
		run, err := f.svc.MakeDigest(ctx, at, []string{"ceo@example.com"}, time.Time{}, false, "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range run.Digests[0].Headline {
			if l.Metric == "arr" {
				return l.Value
			}
		}
		t.Fatalf("no ARR line in the digest as of %v", at)
		return ""
	}
	if got := arrOf(asOf); got != "74,040 EUR" {
		t.Errorf("ARR as of after the change: %s, want 74,040 EUR (148,080 USD at 0.5)", got)
	}
	if got := arrOf(asOf.Add(-2 * time.Hour)); got != arr {
		t.Errorf("ARR as of before the change: %s, want %s", got, arr)
	}
}
