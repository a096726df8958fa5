package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/candor/candor/internal/config"
)

// Each metric the demo shows has an action of its own to record: the notes
// had been one per pillar, so the demo's ARR, NRR, CAC and quota attainment
// all said "Pipeline review with sales leadership; campaign spend moves to
// the channels that convert", which no executive would write of all four.
func TestDemoNotesSayTheirMetric(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.yaml")
	if err := os.WriteFile(path, demoConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := cfg.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	ms := cat.MetricsInForce()
	for _, m := range ms {
		note := demoNotes[m.ID]
		if note == "" {
			t.Errorf("the demo has no action to record on %s (%s): add one to demoNotes", m.ID, m.Name)
			continue
		}
		if other, ok := by[note]; ok {
			t.Errorf("%s and %s record the same action: %q", other, m.ID, note)
		}
		by[note] = m.ID
	}
	for _, id := range []string{"arr", "nrr", "cac", "quota_attainment"} {
		if demoNotes[id] == "" {
			t.Errorf("no action of its own on %s", id)
		}
	}
	if len(ms) < 60 {
		t.Errorf("the demo's catalog has %d metrics: not the demo's", len(ms))
	}
}
