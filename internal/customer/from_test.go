package customer_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/candor/candor/internal/customer"
	"github.com/candor/candor/internal/metrics/metricstest"
)

// The at-risk list as the pages and the CLI read it (ListOf: from the
// records that can bear on its window, CustomerRecordsFrom) is the list
// from every record, for windows of a
// day to a year and at several instants: what it leaves out (tickets
// resolved before the window, older surveys and measurements) gives no
// signal.
func TestAtRiskFromTheWindowsRecords(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(t, 0.05, end)
	for _, asOf := range []time.Time{end, end.Add(-40*24*time.Hour - 5*time.Hour), end.AddDate(0, -6, 0)} {
		for _, window := range []time.Duration{24 * time.Hour, 30 * customer.Day, 90 * customer.Day, 365 * customer.Day} {
			all := customer.AtRisk(ds.CustomerRecords("", asOf), window, customer.Options{})
			from := customer.ListOf(ds, judge(t), asOf, window, customer.Options{}, true)
			from.Data = nil // AtRisk reads records, not a dataset: no freshness
			a, _ := json.Marshal(all)
			b, _ := json.Marshal(from)
			if string(a) != string(b) {
				t.Errorf("as of %s over %s: %d customers from every record, %d from the window's", asOf, window, len(all.Customers), len(from.Customers))
			}
			if window == 30*customer.Day && asOf.Equal(end) && len(all.Customers) == 0 {
				t.Fatal("no customer at risk: the comparison tests nothing")
			}
		}
	}
}

// BenchmarkCustomersAtRisk is the at-risk list over 30 days, from every
// record and from the window's:
//
//	go test -run '^$' -bench CustomersAtRisk ./internal/customer/
func BenchmarkCustomersAtRisk(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(b, 0.1, end)
	j := judge(b)
	b.Run("every", func(b *testing.B) {
		for b.Loop() {
			customer.AtRisk(ds.CustomerRecords("", end), 30*customer.Day, customer.Options{})
		}
	})
	b.Run("window", func(b *testing.B) {
		for b.Loop() {
			customer.ListOf(ds, j, end, 30*customer.Day, customer.Options{}, true)
		}
	})
}
