package web

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
)

// TestMoneyLabelledInTheCurrencyInForce: the pages label money in the
// currency the engine computes in now — an approved proposal's — not the
// configuration file's (Parse.DefaultCurrency), which had labelled euros
// "USD" once a proposal changed the currency.
func TestMoneyLabelledInTheCurrencyInForce(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		s.Parse.DefaultCurrency = "USD"
		eur := metrics.DefaultConfig()
		eur.Currency = "EUR"
		eur.ExchangeRates = map[string]float64{"USD": 0.5}
		if err := s.Engine.SetEpochs(context.Background(), []engine.Epoch{{Config: metrics.DefaultConfig()}, {From: time.Now().Add(-time.Hour), Config: eur}}); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	page := e.get200(t, "/metrics/mrr")
	money := regexp.MustCompile(`[0-9] (USD|EUR)`)
	found := money.FindAllStringSubmatch(page, -1)
	if len(found) == 0 {
		t.Fatal("the MRR page shows no money")
	}
	for _, m := range found {
		if m[1] != "EUR" {
			i := strings.Index(page, m[0])
			t.Fatalf("the MRR page labels money in the file's currency: …%s…", page[max(0, i-200):i+4])
		}
	}
}
