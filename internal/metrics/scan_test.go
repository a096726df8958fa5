package metrics

import (
	"slices"
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
