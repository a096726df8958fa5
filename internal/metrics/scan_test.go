package metrics

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// A full scan's time is vulnerability data; a scan record sent again
// under its key replaces its time rather than adding one, and data as of
// before every scan is the records' alone.
func TestScansAreVulnerabilityData(t *testing.T) {
	d := NewDataset(DefaultConfig())
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d.Apply(&domain.Vulnerability{Meta: domain.Meta{ID: "v1", Source: "trivy"}, Severity: "high", OpenedAt: t0}, time.Time{})
	scan := func(id string, at time.Time) {
		d.Apply(&domain.VulnerabilityScan{Meta: domain.Meta{ID: id, Source: "trivy"}, Scanner: "trivy", Target: "img", ScannedAt: at}, time.Time{})
	}
	scan("a", t0.Add(48*time.Hour))
	scan("b", t0.Add(24*time.Hour))
	scan("a", t0.Add(12*time.Hour)) // sent again, earlier
	d.Prepare()
	if !slices.Equal(d.scanTimes, []int64{t0.Add(12 * time.Hour).UnixNano(), t0.Add(24 * time.Hour).UnixNano()}) {
		t.Errorf("scan times %v, want a's replaced time and b's", d.scanTimes)
	}
	for _, c := range []struct{ asOf, want time.Time }{
		{t0.Add(72 * time.Hour), t0.Add(24 * time.Hour)},
		{t0.Add(13 * time.Hour), t0.Add(12 * time.Hour)},
		{t0.Add(time.Hour), t0},
	} {
		if got, ok := d.LastData(domain.KindVulnerability, c.asOf); !ok || !got.Equal(c.want) {
			t.Errorf("vulnerability data as of %s = %s, %v; want %s", c.asOf, got, ok, c.want)
		}
	}
	if _, ok := d.LastScan(t0.Add(time.Hour)); ok {
		t.Error("a scan before any ran")
	}
	// The scans count for the vulnerability kind only.
	if _, ok := d.LastData(domain.KindControl, t0.Add(72*time.Hour)); ok {
		t.Error("scans gave control data")
	}
}

// A full scan imported for a service (--service) is vulnerability data in
// that service's scopes — its own, its team's, its tier's — as a
// vulnerability record of the service would be: a clean image's service
// has open critical vulnerabilities 0, not "no vulnerability data for
// service …". A service never scanned, with no record, still has no
// data; a scan without a service is the organisation's alone; a scope on
// a dimension a scan does not carry (a package) is judged by the records.
// A service only a scan names is a line of the breakdown by service and a
// scope a drill-down may ask for.
func TestScanIsDataForItsService(t *testing.T) {
	cfg := configWith(t, CustomDef{ID: "c_open", Kind: domain.KindVulnerability, Time: TimeState, Filter: "!fixed_at.hasValue()",
		Aggregate: AggregateCount, Dims: []string{"package", "service", "team"}})
	openssl := bizVuln("v1", "critical", "web", "2026-03-01", "")
	openssl.Package = "openssl"
	d := bizDS(&cfg,
		&domain.Service{Meta: bizMeta("pay"), Name: "Payments", Team: "money", Tier: 1},
		&domain.Service{Meta: bizMeta("ledger"), Name: "Ledger", Team: "books", Tier: 2},
		&domain.Service{Meta: bizMeta("web"), Name: "Web", Team: "edge", Tier: 3},
		openssl,
	)
	scanned := bizAsOf.Add(-2 * time.Hour)
	scan := func(id, svc string, at time.Time) {
		d.Apply(&domain.VulnerabilityScan{Meta: domain.Meta{ID: id, Source: "trivy"}, Scanner: "trivy", Target: "img-" + id,
			Service: svc, ScannedAt: at}, time.Time{})
		d.Prepare()
	}
	open := func(metric string, scope ...string) Result {
		q := bizQ(bizAsOf)
		for i := 0; i+1 < len(scope); i += 2 {
			q.Scope, _ = q.Scope.And(scope[i], scope[i+1])
		}
		return bizCompute(t, d, metric, q)
	}
	// Read before the scans arrive: the results cached then go with them.
	bizCheck(t, "payments before its scan", open("open_critical_vulnerabilities", "service", "pay"), nil)

	scan("a", "pay", scanned)
	scan("b", "", scanned)      // no service: the organisation's alone
	scan("c", "batch", scanned) // a service no other record names
	for _, c := range []struct {
		what   string
		metric string
		scope  []string
		want   *float64
	}{
		{"service pay", "open_critical_vulnerabilities", []string{"service", "pay"}, bizF(0)},
		{"pay's team", "open_critical_vulnerabilities", []string{"team", "money"}, bizF(0)},
		{"pay's tier", "open_critical_vulnerabilities", []string{"tier", "1"}, bizF(0)},
		{"pay's team and tier", "open_critical_vulnerabilities", []string{"team", "money", "tier", "1"}, bizF(0)},
		{"pay's team, another tier", "open_critical_vulnerabilities", []string{"team", "money", "tier", "2"}, nil},
		{"batch, which only its scan names", "open_critical_vulnerabilities", []string{"service", "batch"}, bizF(0)},
		{"ledger, never scanned", "open_critical_vulnerabilities", []string{"service", "ledger"}, nil},
		{"ledger's team", "open_critical_vulnerabilities", []string{"team", "books"}, nil},
		{"the (none) service, scanned without --service", "open_critical_vulnerabilities", []string{"service", NoneKey}, nil},
		{"the organisation", "open_critical_vulnerabilities", nil, bizF(1)},
		{"web's record", "open_critical_vulnerabilities", []string{"service", "web"}, bizF(1)},
		// A package: by the records alone, a scanned service's too.
		{"package openssl", "c_open", []string{"package", "openssl"}, bizF(1)},
		{"package zlib, which no record names", "c_open", []string{"package", "zlib"}, nil},
		{"pay and package zlib", "c_open", []string{"service", "pay", "package", "zlib"}, nil},
		{"pay, an organisation's metric", "c_open", []string{"service", "pay"}, bizF(0)},
	} {
		r := open(c.metric, c.scope...)
		bizCheck(t, c.what, r, c.want)
		if c.want == nil && !strings.HasPrefix(r.Detail.Reason, "no vulnerability data for ") {
			t.Errorf("%s: reason %q, want no vulnerability data", c.what, r.Detail.Reason)
		}
	}
	// As of before the scan, pay has no data.
	bizCheck(t, "pay before its scan", bizCompute(t, d, "open_critical_vulnerabilities", bizQ(scanned.Add(-time.Minute), "service", "pay")), nil)

	// The breakdown by service: pay 0 and batch 0 (a line of its own),
	// ledger no data, web 1; by team, money 0.
	for dim, want := range map[string]map[string]*float64{
		"service": {"pay": bizF(0), "batch": bizF(0), "ledger": nil, "web": bizF(1)},
		"team":    {"money": bizF(0), "books": nil, "edge": bizF(1), NoneKey: bizF(0)},
	} {
		lines, err := d.Breakdown("open_critical_vulnerabilities", bizQ(bizAsOf), dim)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*float64{}
		for _, l := range lines {
			got[l.Key] = l.Value
		}
		if len(got) != len(want) {
			t.Errorf("by %s: lines %v, want %v", dim, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
		for k, w := range want {
			if v, ok := got[k]; !ok || (v == nil) != (w == nil) || v != nil && *v != *w {
				t.Errorf("by %s: line %s = %v (there: %v), want %v", dim, k, show(v), ok, show(w))
			}
		}
	}
	if err := d.CheckScope(Scope{Dim: "service", Value: "batch"}); err != nil {
		t.Errorf("scope service:batch, which a scan names: %v", err)
	}
	// So is a service only a vulnerability names (it was a line, and the
	// scope it links to was refused).
	if err := bizDS(nil, bizVuln("o1", "high", "orphan", "2026-03-01", "")).CheckScope(Scope{Dim: "service", Value: "orphan"}); err != nil {
		t.Errorf("scope service:orphan, which a vulnerability names: %v", err)
	}

	// pay's scan sent again for ledger: pay has no scan left.
	scan("a", "ledger", scanned)
	bizCheck(t, "pay after its scan went to ledger", open("open_critical_vulnerabilities", "service", "pay"), nil)
	bizCheck(t, "ledger after pay's scan went to it", open("open_critical_vulnerabilities", "service", "ledger"), bizF(0))
	if !maps.Equal(d.scanFirst, map[string]int64{"ledger": scanned.UnixNano(), "batch": scanned.UnixNano()}) {
		t.Errorf("the scanned services %v, want ledger's and batch's", d.scanFirst)
	}
}

// A stored scan row that can no longer be decoded is quarantined: the scan
// is no longer data, for the organisation or its service, as if it had
// never been applied (a start from the store alone would not have it).
func TestQuarantinedScanIsNoData(t *testing.T) {
	d := NewDataset(DefaultConfig())
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d.Apply(&domain.VulnerabilityScan{Meta: domain.Meta{ID: "s1", Source: "trivy"}, Scanner: "trivy", Target: "img", Service: "pay", ScannedAt: at}, time.Time{})
	d.Prepare()
	asOf := at.Add(time.Hour)
	if _, ok := d.LastData(domain.KindVulnerability, asOf); !ok {
		t.Fatal("the scan is no data before it is quarantined")
	}
	d.Quarantine(domain.Key{Kind: domain.KindVulnerabilityScan, Source: "trivy", ID: "s1"}, 7, "cannot be decoded")
	d.Prepare()
	if got, ok := d.LastData(domain.KindVulnerability, asOf); ok {
		t.Errorf("vulnerability data at %s after the scan was quarantined", got)
	}
	if d.scannedIn(Scope{}, asOf.UnixNano()) || d.scannedIn(Scope{Dim: "service", Value: "pay"}, asOf.UnixNano()) || len(d.scanFirst) != 0 {
		t.Errorf("the quarantined scan is still data: first scans %v", d.scanFirst)
	}
}
