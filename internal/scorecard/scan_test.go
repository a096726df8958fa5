package scorecard

import (
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// fullScan is a full vulnerability scan as the scan importer records it.
func fullScan(at time.Time, findings int) *domain.VulnerabilityScan {
	return &domain.VulnerabilityScan{Meta: domain.Meta{ID: "3f2a@" + at.Format(time.RFC3339Nano), Source: "trivy"},
		Scanner: "trivy", Target: "registry.example.com/api", ScannedAt: at, Findings: findings}
}

// A daily scan reporting the same findings changes no vulnerability
// record, yet it is vulnerability data (SPEC §4): the day after it the
// vulnerability metrics are fresh, though the newest record is three weeks
// older. Before the scan arrives they are stale, and the cached results
// go with the scan's arrival.
func TestFullScanKeepsVulnerabilitiesFresh(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), `
{"kind":"vulnerability","id":"v1","source":"trivy","severity":"critical","opened_at":"2026-03-09T06:00:00Z"}
{"kind":"vulnerability","id":"v2","source":"trivy","severity":"high","opened_at":"2026-02-01T06:00:00Z","fixed_at":"2026-03-09T06:00:00Z"}
`)
	ids := []string{"open_critical_vulnerabilities", "open_high_vulnerabilities", "vulnerability_sla_breaches"}
	sc := Build(cat, ds, Options{AsOf: asOf})
	for _, id := range ids {
		if c := card(t, sc, id); c.Status != catalog.Unknown || c.Reason != "no vulnerability data since 2026-03-09T06:00:00Z" {
			t.Fatalf("%s before the scan: %s (%q), want unknown: stale", id, c.Status, c.Reason)
		}
	}

	scanned := asOf.Add(-18 * time.Hour)
	ds.Apply(fullScan(scanned, 1), time.Time{})
	ds.Prepare()
	sc = Build(cat, ds, Options{AsOf: asOf})
	for _, id := range ids {
		c := card(t, sc, id)
		if c.Freshness.Stale || c.Status == catalog.Unknown || c.Freshness.LastData == nil || !c.Freshness.LastData.Equal(scanned) {
			t.Errorf("%s after the scan: %s (%q), stale %v, data as of %v; want judged, data as of the scan %s", id, c.Status, c.Reason, c.Freshness.Stale, c.Freshness.LastData, scanned)
		}
	}
	if c := card(t, sc, "open_critical_vulnerabilities"); c.Value == nil || *c.Value != 1 || c.Status != catalog.Amber {
		t.Errorf("open critical vulnerabilities = %s (%s), want 1, amber", show(c.Value), c.Status)
	}
	// As of before the scan, nothing changed.
	if c := card(t, Build(cat, ds, Options{AsOf: scanned.Add(-time.Minute)}), "open_critical_vulnerabilities"); c.Status != catalog.Unknown {
		t.Errorf("as of before the scan: %s, want unknown (stale)", c.Status)
	}

	// The data sources page gives the scan's time, and says it is a scan.
	r := Sources(cat, ds, asOf)
	for _, k := range r.Kinds {
		if k.Kind == "vulnerability" && (k.Status != KindFresh || k.LastData == nil || !k.LastData.Equal(scanned) || !k.LastFullScan || k.Records != 2) {
			t.Errorf("vulnerability on the data sources page: %+v, want fresh, 2 records, last data the full scan's %s", k, scanned)
		}
	}
	if text := SourcesText(r, TextOptions{}); !strings.Contains(text, "2026-03-30T06:00:00Z  7d      fresh (last data: a full scan)") {
		t.Errorf("the data sources text does not say the newest vulnerability data is a full scan:\n%s", text)
	}
	// A finding newer than the scan is the newest data again.
	ds.Apply(&domain.Vulnerability{Meta: domain.Meta{ID: "v3", Source: "trivy"}, Severity: "low", OpenedAt: asOf.Add(-time.Hour)}, time.Time{})
	ds.Prepare()
	for _, k := range Sources(cat, ds, asOf).Kinds {
		if k.Kind == "vulnerability" && (k.LastFullScan || !k.LastData.Equal(asOf.Add(-time.Hour))) {
			t.Errorf("vulnerability after a newer finding: %+v", k)
		}
	}
}

// An organisation whose scans are clean sends no vulnerability record,
// and a full scan says nothing is open: open critical vulnerabilities is
// 0 and green, not "never sent". A scan imported without --service is the
// organisation's data alone: a service's scope is judged by its records
// (metrics.TestScanIsDataForItsService: a scan run for the service).
func TestCleanScanIsData(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), `{"kind":"service","id":"api","name":"API"}`)
	if c := card(t, Build(cat, ds, Options{AsOf: asOf}), "open_critical_vulnerabilities"); c.Value != nil || c.Reason != "no vulnerability data: never sent" {
		t.Fatalf("before any scan: %s (%q), want no value, never sent", show(c.Value), c.Reason)
	}
	ds.Apply(fullScan(asOf.Add(-2*time.Hour), 0), time.Time{})
	ds.Prepare()
	c := card(t, Build(cat, ds, Options{AsOf: asOf}), "open_critical_vulnerabilities")
	if c.Value == nil || *c.Value != 0 || c.Status != catalog.Green || c.Freshness.Stale {
		t.Errorf("after a clean full scan: %s, %s (%q), stale %v; want 0, green", show(c.Value), c.Status, c.Reason, c.Freshness.Stale)
	}
	for _, k := range Sources(cat, ds, asOf).Kinds {
		if k.Kind == "vulnerability" && (k.Status != KindFresh || k.Records != 0 || !k.LastFullScan) {
			t.Errorf("vulnerability on the data sources page: %+v, want fresh by its full scan, no record", k)
		}
	}
	res, err := ds.Compute("open_critical_vulnerabilities", metrics.Query{AsOf: asOf, Window: 30 * 24 * time.Hour, Scope: metrics.Scope{Dim: "service", Value: "api"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != nil {
		t.Errorf("service api, which no vulnerability record names: %v, want no value", *res.Value)
	}
}
