package metrics

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Importing an old export today must not make its source look fresh, and
// an incident opened before as_of but resolved after it still counts as
// data at as_of.
func TestLastDataFollowsRecordTimes(t *testing.T) {
	ds := NewDataset(DefaultConfig())
	old := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ds.Apply(&domain.Deployment{Meta: domain.Meta{ID: "d1", Source: "import"}, Service: "a", Environment: "production", FinishedAt: old, Status: "success"}, now)
	opened := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ds.Apply(&domain.Incident{Meta: domain.Meta{ID: "i1", Source: "import"}, Service: "a", Severity: "P2", OpenedAt: opened, ResolvedAt: opened.Add(48 * time.Hour)}, now)
	ds.Prepare()

	if got, ok := ds.LastData(domain.KindDeployment, now); !ok || !got.Equal(old) {
		t.Errorf("deployment LastData = %v %v, want %v (the record's time, not the import's)", got, ok, old)
	}
	if got, ok := ds.LastData(domain.KindIncident, opened.Add(time.Hour)); !ok || !got.Equal(opened) {
		t.Errorf("incident LastData before its resolution = %v %v, want %v", got, ok, opened)
	}
	if _, ok := ds.LastData(domain.KindChange, now); ok {
		t.Errorf("change LastData reported data for a kind with none")
	}
	if _, ok := ds.LastData(domain.KindDeployment, old.Add(-time.Second)); ok {
		t.Errorf("deployment LastData before any record reported data")
	}
}
