package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/escalation"
)

// TestEscalationsCommand: the generated organisation has metrics amber or
// red for weeks and nobody acknowledged them; a bad scope is a usage error.
func TestEscalationsCommand(t *testing.T) {
	dir := t.TempDir()
	data, gen := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-06-01")
	mustRun(t, "import", "--data", data, gen)
	r := mustRun(t, "escalations", "--data", data, "--as-of", "2026-06-01", "--format", "json")
	var doc struct{ Escalations []escalation.Escalation }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Escalations) == 0 {
		t.Fatalf("escalations --format json: %v\n%s", err, r.stdout)
	}
	for _, e := range doc.Escalations {
		if e.Why != escalation.Unacknowledged || e.Since.Format("2006-01-02") != "2026-05-25" || (e.Status == "green" && !e.Degrading) {
			t.Errorf("escalation %+v", e)
		}
	}
	text := mustRun(t, "escalations", "--data", data, "--as-of", "2026-06-01").stdout
	if !strings.Contains(text, "Escalations as of 2026-06-01T00:00:00Z") || !strings.Contains(text, doc.Escalations[0].Name) || !strings.Contains(text, "since 2026-05-25 or earlier") {
		t.Errorf("text:\n%s", text)
	}
	if r := run(t, "escalations", "--data", data, "--scope", "team"); r.code != 2 || !strings.Contains(r.stderr, "--scope") {
		t.Errorf("bad scope: %d %s", r.code, r.stderr)
	}
	if r := run(t, "escalations", "--data", data, "--scope", "team:nobody"); r.code != 2 || !strings.Contains(r.stderr, `no team "nobody"`) {
		t.Errorf("unknown team: %d %s", r.code, r.stderr)
	}
	// A dimension that is none is said to be none, naming those there are.
	for _, cmd := range []string{"escalations", "scorecard"} {
		r := run(t, cmd, "--data", data, "--scope", "colour:red")
		if r.code != 2 || !strings.Contains(r.stderr, `--scope: "colour" is not a dimension (dimensions: team, service, environment, business_unit, tier, `) {
			t.Errorf("%s --scope colour:red: %d %s", cmd, r.code, r.stderr)
		}
	}
}

// TestScorecardTextNamesEveryEscalation: the one-page summary in text
// names each metric that escalates, as the scorecard page's escalations
// panel does. It had listed a pillar's headline, red, unknown and degrading
// metrics only, so an amber P0 metric escalated without an action (lead
// time for changes in the demo) was folded into "+ 5 amber" and nowhere
// said to need one.
func TestScorecardTextNamesEveryEscalation(t *testing.T) {
	dir := t.TempDir()
	data, gen := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-06-01")
	mustRun(t, "import", "--data", data, gen)
	var doc struct{ Escalations []escalation.Escalation }
	r := mustRun(t, "escalations", "--data", data, "--as-of", "2026-06-01", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("escalations --format json: %v\n%s", err, r.stdout)
	}
	amber := false
	for _, e := range doc.Escalations {
		amber = amber || e.Status == "amber"
	}
	if !amber {
		t.Fatalf("the fixture needs an amber escalation: %+v", doc.Escalations)
	}
	text := mustRun(t, "scorecard", "--data", data, "--as-of", "2026-06-01").stdout
	if i := strings.Index(text, "Escalations as of 2026-06-01T00:00:00Z"); i < 0 || i > strings.Index(text, "Platform Reliability") {
		t.Errorf("scorecard text does not name its escalations before the pillars:\n%s", text)
	}
	for _, e := range doc.Escalations {
		line := ""
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, e.Name) && strings.Contains(l, "since "+e.Since.Format("2006-01-02")) {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, strings.ToUpper(string(e.Status))) || !strings.Contains(line, e.Owner) {
			t.Errorf("scorecard text lacks the escalation of %s (%s, owner %s):\n%s", e.Name, e.Status, e.Owner, text)
		}
	}
}
