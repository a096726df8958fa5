package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// An incident linked to a deployment and resolved before it finished: the
// data sources report and the recovery-time drill-down both show the data
// problem, in text and in JSON.
func TestSourcesAndMetricShowDataProblems(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in.ndjson")
	if err := os.WriteFile(in, []byte(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T08:00:00Z","resolved_at":"2026-03-10T09:00:00Z","caused_by":"d1"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "--data", data, in)
	const problem = "incident import/i1 resolved_at: resolved at 2026-03-10T09:00:00Z, 1h0m0s before deployment d1"

	r := mustRun(t, "sources", "--data", data, "--as-of", "2026-03-11")
	for _, s := range []string{"Data sources as of 2026-03-11T00:00:00Z", "deployment", "never sent", "Data problems (1):", problem} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("sources text lacks %q:\n%s", s, r.stdout)
		}
	}
	r = mustRun(t, "sources", "--data", data, "--as-of", "2026-03-11", "--format", "json")
	var rep scorecard.SourcesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("sources --format json: %v\n%s", err, r.stdout)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].ID != "i1" || len(rep.Kinds) == 0 || rep.Kinds[1].Kind != "deployment" || rep.Kinds[1].Records != 1 {
		t.Errorf("sources JSON = %+v", rep)
	}

	r = mustRun(t, "metric", "failed_deployment_recovery_time", "--data", data, "--as-of", "2026-03-11")
	if !strings.Contains(r.stdout, "Data problems (1):") || !strings.Contains(r.stdout, problem) {
		t.Errorf("metric text lacks the data problem:\n%s", r.stdout)
	}
	r = mustRun(t, "metric", "failed_deployment_recovery_time", "--data", data, "--as-of", "2026-03-11", "--format", "json")
	var d struct {
		Problems []metrics.Problem `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || len(d.Problems) != 1 || d.Problems[0].Field != "resolved_at" {
		t.Errorf("metric JSON problems = %+v (%v)\n%s", d.Problems, err, clip(r.stdout))
	}

	for _, args := range [][]string{{"sources", "--format", "xml"}, {"sources", "extra"}, {"sources", "--as-of", "someday"}} {
		r := run(t, append(args, "--data", data)...)
		r.want(t, 2, args...)
		if !strings.Contains(r.stderr, "usage: candor sources") {
			t.Errorf("%v: stderr lacks the usage line:\n%s", args, r.stderr)
		}
	}
}
