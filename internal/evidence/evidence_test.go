package evidence

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// TestEmergencyRetroValidationLate: an emergency change validated after
// the 72 h the rule allows is "validated late" in the pack, where it had
// read "validated" as one validated within them — the demo's pack showed
// a change validated nine days on as if the rule had been kept.
func TestEmergencyRetroValidationLate(t *testing.T) {
	// March 2026, day and hour.
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	ds := metrics.NewDataset(metrics.DefaultConfig())
	for _, d := range []*domain.Deployment{
		{Meta: domain.Meta{ID: "in-time"}, FinishedAt: at(1, 0), RetroValidatedAt: at(3, 23)},
		{Meta: domain.Meta{ID: "late"}, FinishedAt: at(1, 0), RetroValidatedAt: at(10, 0)},
		{Meta: domain.Meta{ID: "overdue"}, FinishedAt: at(20, 0)},
		{Meta: domain.Meta{ID: "pending"}, FinishedAt: at(30, 0)},
	} {
		d.Source, d.Service, d.Environment, d.Status, d.Emergency = "ci", "api", "production", "success", true
		ds.Apply(d, d.FinishedAt)
	}
	ds.Prepare()
	got := map[string]string{}
	for _, c := range emergencies(ds, Period{From: at(1, 0), To: at(31, 0)}).Changes {
		got[c.ID] = c.Retro
	}
	want := map[string]string{"in-time": "validated", "late": "validated late", "overdue": "overdue", "pending": "pending"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q (all: %v)", id, got[id], w, got)
		}
	}
}
