package web

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"sync"
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
	// An amount ("7,345.50 EUR"), or a table's or list's heading of
	// amounts ("in EUR", "(EUR)").
	money := regexp.MustCompile(`(?:[0-9] |in |\()(USD|EUR)\b`)
	// Now, and as of before the change, whose figures are computed in
	// US dollars: labelled so, where the pages had written today's "EUR"
	// beside them.
	before := url.QueryEscape(time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339))
	for _, c := range []struct{ path, want string }{
		{"/metrics/mrr", "EUR"},
		{"/", "EUR"},
		{"/metrics/mrr?as_of=" + before, "USD"},
		{"/?as_of=" + before, "USD"},
		{"/views/cro?as_of=" + before, "USD"},
		{"/views/cro", "EUR"},
		{"/customers?as_of=" + before, "USD"},
		{"/customers/acme?as_of=" + before, "USD"},
		{"/customers", "EUR"},
		{"/metrics/mrr", "EUR"},
	} {
		page := e.get200(t, c.path)
		found := money.FindAllStringSubmatch(page, -1)
		if len(found) == 0 {
			t.Fatalf("%s shows no money", c.path)
		}
		for _, m := range found {
			if m[1] != c.want {
				i := strings.Index(page, m[0])
				t.Fatalf("%s labels money %s, want %s: …%s…", c.path, m[1], c.want, page[max(0, i-200):i+4])
			}
		}
	}
}

// The pages of a currency are parsed once and kept: requests asking for
// it at once get the one set stored first, not each its own.
func TestSiteForKeepsOneSetPerCurrency(t *testing.T) {
	e := newEnv(t, 0)
	sets := make([]*site, 8)
	var wg sync.WaitGroup
	for i := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sets[i] = e.srv.siteFor("EUR")
		}()
	}
	wg.Wait()
	kept := e.srv.siteFor("EUR")
	if kept == e.srv.site || kept.currency != "EUR" {
		t.Fatalf("siteFor(EUR) is the %s set", kept.currency)
	}
	for i, st := range sets {
		if st != kept {
			t.Errorf("request %d got a set of its own, not the one kept", i)
		}
	}
}
