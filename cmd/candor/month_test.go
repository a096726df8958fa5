package main

import (
	"strings"
	"testing"
)

// --month stands for its as_of and window in every read command that takes
// them, and the text output names the month.
func TestMonthFlag(t *testing.T) {
	data := smallStore(t)
	for _, args := range [][]string{
		{"scorecard", "--format", "json"},
		{"view", "engineering", "--format", "json"},
		{"metric", "change_failure_rate", "--format", "json"},
		{"insights", "--format", "json"},
	} {
		byMonth := mustRun(t, append(append([]string{}, args...), "--data", data, "--month", "2026-03")...)
		byWindow := mustRun(t, append(append([]string{}, args...), "--data", data, "--as-of", "2026-04-01", "--window", "31d")...)
		if byMonth.stdout != byWindow.stdout {
			t.Errorf("%s: --month 2026-03 answers otherwise than --as-of 2026-04-01 --window 31d:\n%s\n---\n%s", args[0], clip(byMonth.stdout), clip(byWindow.stdout))
		}
		if !strings.Contains(byMonth.stdout, `"as_of": "2026-04-01T00:00:00Z"`) {
			t.Errorf("%s --month 2026-03 is not as of 1 April:\n%s", args[0], clip(byMonth.stdout))
		}
	}
	if r := mustRun(t, "scorecard", "--data", data, "--month", "2026-03"); !strings.Contains(r.stdout, "Candor scorecard as of 2026-04-01T00:00:00Z (window 31d: March 2026) · whole organisation") {
		t.Errorf("the scorecard's header does not name March 2026:\n%s", clip(r.stdout))
	}
	if r := mustRun(t, "view", "engineering", "--data", data, "--month", "2026-03"); !strings.Contains(r.stdout, "(window 31d: March 2026)") {
		t.Errorf("the view's header does not name March 2026:\n%s", clip(r.stdout))
	}
	if r := mustRun(t, "reconcile", "--data", data, "--metric", "change_failure_rate", "--expected", "50", "--month", "2026-03"); !strings.Contains(r.stdout, "as of 2026-04-01T00:00:00Z, window 31d: March 2026") {
		t.Errorf("the reconciliation does not name March 2026:\n%s", clip(r.stdout))
	}
	if r := run(t, "reconcile", "--data", data, "--list", "--month", "2026-03"); r.code != 2 || !strings.Contains(r.stderr, "--list does not take --month") {
		t.Errorf("reconcile --list --month: exit %d\n%s", r.code, r.stderr)
	}
	// A rolling window names no month.
	if r := mustRun(t, "scorecard", "--data", data, "--as-of", "2026-04-01", "--window", "30d"); strings.Contains(r.stdout, "March") {
		t.Errorf("a 30-day window is named as a month:\n%s", clip(r.stdout))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scorecard", "--month", "2026-03", "--as-of", "2026-04-01"}, "not both"},
		{[]string{"view", "ceo", "--month", "2026-03", "--window", "31d"}, "not both"},
		{[]string{"scorecard", "--month", "2999-01"}, "2999-01 has not ended"},
		{[]string{"metric", "change_failure_rate", "--month", "2026-3"}, "YYYY-MM"},
		{[]string{"insights", "--month", "2026-03", "--window", "31d"}, "not both"},
		// Before the earliest as_of, as --as-of 1600-02-01 is refused.
		{[]string{"scorecard", "--month", "1600-01"}, "1970"},
		{[]string{"insights", "--month", "1600-01"}, "1970"},
		{[]string{"report", "board", "--month", "1600-01"}, "1970"},
	} {
		r := run(t, append(tc.args, "--data", data)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--month") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 naming --month and %q:\n%s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}
