package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// candor view shows the sections a view's description promises: the CEO's
// pillar statuses, the CRO's pipeline by stage and quota pace (here, with
// no sales data, saying so).
func TestViewSections(t *testing.T) {
	data := smallStore(t)
	r := mustRun(t, "view", "ceo", "--data", data, "--as-of", "2026-03-31")
	for _, want := range []string{"Pillars:", "Delivery & Execution", "Deployment frequency red"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("CEO view lacks %q:\n%s", want, clip(r.stdout))
		}
	}
	r = mustRun(t, "view", "ceo", "--data", data, "--as-of", "2026-03-31", "--format", "json")
	var doc struct {
		Pillars []struct {
			ID, Status string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Pillars) < 5 {
		t.Errorf("CEO JSON pillars = %+v (%v)", doc.Pillars, err)
	}
	r = mustRun(t, "view", "cro", "--data", data, "--as-of", "2026-03-31")
	for _, want := range []string{"Open pipeline by stage: no opportunity data", "Quota attainment: unknown", "No forecast"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("CRO view lacks %q:\n%s", want, clip(r.stdout))
		}
	}
}
