package scorecard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candor/candor/internal/metrics"
)

// Deployment days per week stand beside deployment frequency on the card
// and in the drill-down: the DORA level is judged by them, and DevLake and
// Four Keys report them instead of deployments per day (docs/switching.md).
func TestDeploymentDaysPerWeekShown(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	d, err := Detail(cat, ds, "deployment_frequency", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	// Full weeks back from as_of: [03-24, 03-31) d4, [03-17, 03-24) d3,
	// [03-10, 03-17) none (d2 failed), [03-03, 03-10) d1: 1, 1, 0, 1 →
	// median 1 deployment day a week.
	if got := d.Card.Detail.DeploymentDaysPerWeek; got == nil || *got != 1.0 {
		t.Errorf("card detail deployment_days_per_week = %v, want 1", got)
	}
	js, err := json.Marshal(d.Card)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"deployment_days_per_week":1`) {
		t.Errorf("card JSON lacks deployment_days_per_week: %s", js)
	}
	text := DetailText(d, TextOptions{})
	if !strings.Contains(text, "Deployment days per week: 1 (median over the window's full weeks)") {
		t.Errorf("drill-down text lacks the deployment days per week:\n%s", text)
	}
}
