package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

type reconciliation struct {
	ID            int64    `json:"id"`
	Metric        string   `json:"metric"`
	AsOf          string   `json:"as_of"`
	Expected      float64  `json:"expected"`
	Actual        *float64 `json:"actual"`
	Difference    *float64 `json:"difference"`
	DifferencePct *float64 `json:"difference_pct"`
	Status        string   `json:"status"`
	Reason        string   `json:"reason"`
	Source        string   `json:"source"`
	Note          string   `json:"note"`
	CheckedAt     string   `json:"checked_at"`
}

func TestReconcile(t *testing.T) {
	data := smallStore(t)
	asOf := []string{"--data", data, "--as-of", "2026-03-31"}

	r := mustRun(t, append([]string{"reconcile", "--list"}, "--data", data)...)
	if !strings.Contains(r.stdout, "No reconciliation checks yet") {
		t.Errorf("empty list:\n%s", r.stdout)
	}

	// Within tolerance: green. ARR is 12 × 1000. (Document 1 is the
	// initial definitions, recorded when the store was made.)
	r = mustRun(t, append([]string{"reconcile", "--metric", "arr", "--expected", "11900", "--source", "finance"}, asOf...)...)
	for _, want := range []string{"Reconciliation of", "(arr)", "against finance", "12,000 USD", "11,900 USD", "+100 USD (+0.84 %)", "GREEN", "#2"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, r.stdout)
		}
	}
	// Over 2 %: red, and still exit 0 (the command reports; alerts judge).
	r = mustRun(t, append([]string{"reconcile", "--metric", "change_failure_rate", "--expected", "40", "--format", "json", "--note", "from Jira"}, asOf...)...)
	var res reconciliation
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	if res.ID != 3 || res.Metric != "change_failure_rate" || res.AsOf != "2026-03-31T00:00:00Z" || res.Actual == nil || *res.Actual != 50 ||
		res.Difference == nil || *res.Difference != 10 || res.DifferencePct == nil || *res.DifferencePct != 25 || res.Status != "red" ||
		res.Note != "from Jira" || res.CheckedAt == "" {
		t.Errorf("result = %s", r.stdout)
	}
	// No value in Candor: unknown with the reason, exit 0.
	r = mustRun(t, append([]string{"reconcile", "--metric", "csat", "--expected", "92.5", "--format", "json"}, asOf...)...)
	res = reconciliation{}
	json.Unmarshal([]byte(r.stdout), &res)
	if res.Status != "unknown" || res.Actual != nil || !strings.Contains(res.Reason, "csat") {
		t.Errorf("csat without data = %s", r.stdout)
	}

	// Every result is kept across runs, newest first.
	r = mustRun(t, "reconcile", "--list", "--data", data)
	rows := regexp.MustCompile(`(?m)^(\d+) `).FindAllStringSubmatch(r.stdout, -1)
	if len(rows) != 3 || rows[0][1] != "4" || rows[2][1] != "2" || !strings.Contains(r.stdout, "finance") || !strings.Contains(r.stdout, "RED") {
		t.Errorf("list:\n%s", r.stdout)
	}
	r = mustRun(t, "reconcile", "--list", "--data", data, "--format", "json", "--limit", "2")
	var list struct {
		Reconciliations []reconciliation `json:"reconciliations"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Reconciliations) != 2 ||
		list.Reconciliations[0].Metric != "csat" || list.Reconciliations[1].Metric != "change_failure_rate" {
		t.Errorf("list --format json --limit 2 = %s (%v)", r.stdout, err)
	}

	// An unknown metric is a usage error listing the known ones; nothing kept.
	r = run(t, "reconcile", "--metric", "nope", "--expected", "1", "--data", data)
	r.want(t, 2, "reconcile", "--metric", "nope")
	if !strings.Contains(r.stderr, `"nope"`) || !strings.Contains(r.stderr, "change_failure_rate") {
		t.Errorf("unknown metric:\n%s", r.stderr)
	}
	r = run(t, "reconcile", "--metric", "csta", "--expected", "1", "--data", data)
	r.want(t, 2, "reconcile", "--metric", "csta")
	if want := `--metric: unknown metric "csta" (did you mean "csat"?)`; !strings.Contains(r.stderr, want) {
		t.Errorf("a misspelt metric: stderr lacks %q:\n%s", want, r.stderr)
	}
	r = mustRun(t, "reconcile", "--list", "--data", data, "--format", "json")
	list.Reconciliations = nil
	if json.Unmarshal([]byte(r.stdout), &list); len(list.Reconciliations) != 3 {
		t.Errorf("a refused check was kept: %d results", len(list.Reconciliations))
	}
}

func TestReconcileUsage(t *testing.T) {
	cases := []struct {
		args   []string
		stderr string
	}{
		{[]string{"reconcile"}, "--metric is required"},
		{[]string{"reconcile", "--metric", "arr"}, "--expected is required"},
		{[]string{"reconcile", "--metric", "arr", "--expected", "1,200,000"}, "--expected"},
		{[]string{"reconcile", "--metric", "arr", "--expected", "NaN"}, "--expected"},
		{[]string{"reconcile", "--metric", "arr", "--expected", "1", "--as-of", "someday"}, "--as-of"},
		{[]string{"reconcile", "--metric", "arr", "--expected", "1", "--format", "xml"}, "xml"},
		{[]string{"reconcile", "--metric", "arr", "--expected", "1", "--source", strings.Repeat("s", 201)}, "--source"},
		{[]string{"reconcile", "--list", "--metric", "arr"}, "--list does not take --metric"},
		{[]string{"reconcile", "--list", "--limit", "0"}, "--limit"},
		{[]string{"reconcile", "extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(tc.args, "--data", t.TempDir())
			r := run(t, args...)
			r.want(t, 2, args...)
			if !strings.Contains(r.stderr, tc.stderr) || !strings.Contains(r.stderr, "usage: candor reconcile") {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.stderr)
			}
		})
	}
}
