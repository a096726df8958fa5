package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// An organisation's metric configured without an effective date is in
// effect for all data: the evidence pack says so beside its 1970-01-01,
// which had read as a placeholder to an auditor.
func TestEvidenceSaysAConfiguredMetricNamesNoDate(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	conf := write("candor.yaml", customSection(`status == "failure"`))
	file := write("org.ndjson", smallOrg)
	d := []string{"--config", conf, "--data", filepath.Join(dir, "data")}
	mustRun(t, append([]string{"import", file}, d...)...)
	pack := filepath.Join(dir, "q1.zip")
	mustRun(t, append([]string{"evidence", "--from", "2026-01-01", "--to", "2026-03-31", "--out", pack}, d...)...)
	var defs struct {
		Metrics []struct {
			ID, Effective string
			Note          string `json:"effective_note"`
		}
	}
	if err := json.Unmarshal(unzip(t, pack)["definitions.json"], &defs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range defs.Metrics {
		switch m.ID {
		case "failed_deploys":
			found = true
			if m.Effective != "1970-01-01" || !strings.HasPrefix(m.Note, "names no effective date: in effect for all data") {
				t.Errorf("failed_deploys: effective %s, note %q", m.Effective, m.Note)
			}
		case "change_failure_rate":
			if strings.Contains(m.Note, "names no effective date") {
				t.Errorf("a built-in definition with a date said to name none: %+v", m)
			}
		}
	}
	if !found {
		t.Fatal("no failed_deploys in definitions.json")
	}
}
