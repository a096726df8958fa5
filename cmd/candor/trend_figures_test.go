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
