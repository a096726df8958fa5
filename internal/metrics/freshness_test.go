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

// A period record reports up to the end of its period, and, while its
// period is running, up to as_of: a quarter's bill asked about in its
// second month is current, not "never sent". Every period kind is judged
// by its period's end, whatever its event time.
func TestLastDataOfPeriods(t *testing.T) {
	ds := NewDataset(DefaultConfig())
	q1, q2 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	m := func(id string) domain.Meta { return domain.Meta{ID: id, Source: "import"} }
	ds.Apply(&domain.Cost{Meta: m("c1"), PeriodStart: q1, PeriodEnd: q2, Amount: domain.Money(3e9), Currency: "USD"}, q2)
	ds.Apply(&domain.Budget{Meta: m("b1"), PeriodStart: q1, PeriodEnd: q2, Amount: domain.Money(3e9), Currency: "USD"}, q2)
	ds.Apply(&domain.Quota{Meta: m("q1"), Owner: "ann", PeriodStart: q1, PeriodEnd: q2, Amount: domain.Money(3e9), Currency: "USD"}, q2)
	ds.Prepare()
	mid, after := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []domain.Kind{domain.KindCost, domain.KindBudget, domain.KindQuota} {
		if got, ok := ds.LastData(k, mid); !ok || !got.Equal(mid) {
			t.Errorf("%s LastData inside its period = %v %v, want as_of %v", k, got, ok, mid)
		}
		if got, ok := ds.LastData(k, after); !ok || !got.Equal(q2) {
			t.Errorf("%s LastData after its period = %v %v, want its end %v", k, got, ok, q2)
		}
		if _, ok := ds.LastData(k, q1.Add(-time.Second)); ok {
			t.Errorf("%s LastData before its period began reported data", k)
		}
	}
}
