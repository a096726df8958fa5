package insight

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// TestDemoDataShowsPlantedInsights: `candor demo`'s data (scale 0.1)
// carries the generator's planted effects, and the insights find them:
// Friday deployments from 15:00 fail three times as often, and
// recommendations' releases bring ticket waves six times as often.
func TestDemoDataShowsPlantedInsights(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the demo organisation")
	}
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	ds := metrics.NewDataset(metrics.DefaultConfig())
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: 0.1, End: end}, func(r domain.Record) { ds.Apply(r, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	ds.Prepare()
	rep := report(t, ds)
	for _, in := range rep.Insights {
		t.Logf("%s: %s", in.Key, in.Statement)
	}
	for _, q := range rep.Quiet {
		t.Logf("quiet %s: %s", q.ID, q.Reason)
	}
	friday := false
	for _, in := range byID(rep, "deploy_time_risk") {
		friday = friday || in.Subject == "Friday 15:00–18:00" || in.Subject == "Friday 18:00–24:00"
	}
	if !friday {
		t.Errorf("deploy_time_risk did not find the Friday-afternoon effect")
	}
	canary := false
	for _, in := range byID(rep, "canary_candidate") {
		canary = canary || in.Subject == "recommendations"
	}
	if !canary {
		t.Errorf("canary_candidate did not name recommendations")
	}
}
