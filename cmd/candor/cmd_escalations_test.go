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
}
