package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricTellsACloseTrendApart: `candor metric` writes a previous value
// that reads as the current one at the unit's precision with the decimals
// that tell them apart, and says the move is finer than the figure.
func TestMetricTellsACloseTrendApart(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "sli.ndjson")
	// a1 keeps the kind fresh at as_of; it is an availability sample.
	os.WriteFile(in, []byte(`{"kind":"sli","id":"l1","service":"api","objective":"latency","period_start":"2026-03-20T00:00:00Z","period_end":"2026-03-20T12:00:00Z","good":99864,"total":100000}
{"kind":"sli","id":"l0","service":"api","objective":"latency","period_start":"2026-02-20T00:00:00Z","period_end":"2026-02-20T12:00:00Z","good":99861,"total":100000}
{"kind":"sli","id":"a1","service":"api","period_start":"2026-03-30T00:00:00Z","period_end":"2026-03-30T12:00:00Z","good":9995,"total":10000}
`), 0o600)
	mustRun(t, "import", "--data", data, in)
	out := mustRun(t, "metric", "latency_compliance", "--data", data, "--as-of", "2026-03-31").stdout
	if !strings.Contains(out, "99.86 %") || !strings.Contains(out, "(previous window 99.861 %, now 99.864 %: a move finer than the figure shows)") {
		t.Errorf("candor metric does not tell 99.864 from 99.861:\n%s", out)
	}
}

// TestScorecardScope: `candor scorecard --scope` narrows the cards as the
// page's filters do and says so in its heading; a team the data does not
// have, or a malformed scope, is a usage error naming the flag.
func TestScorecardScope(t *testing.T) {
	data := smallStore(t)
	whole := mustRun(t, "scorecard", "--data", data, "--as-of", "2026-03-31").stdout
	if !strings.Contains(whole, "(each metric over its own window) · whole organisation") {
		t.Errorf("the whole organisation's heading:\n%s", strings.SplitN(whole, "\n", 2)[0])
	}
	core := mustRun(t, "scorecard", "--data", data, "--as-of", "2026-03-31", "--scope", "team:core").stdout
	if !strings.Contains(core, "· team: core") || core == whole {
		t.Errorf("team core's scorecard:\n%s", core)
	}
	r := run(t, "scorecard", "--data", data, "--as-of", "2026-03-31", "--scope", "team:nope")
	r.want(t, 2, "scorecard", "--scope", "team:nope")
	if !strings.Contains(r.stderr, "--scope") || !strings.Contains(r.stderr, "core") {
		t.Errorf("an unknown team is not named with the known ones: %s", r.stderr)
	}
	r = run(t, "scorecard", "--data", data, "--scope", "nocolon")
	r.want(t, 2, "scorecard", "--scope", "nocolon")
	if !strings.Contains(r.stderr, "--scope") {
		t.Errorf("a malformed scope is not named: %s", r.stderr)
	}
}
