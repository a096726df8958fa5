package main

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestMetricTextListsNotedRecordsFirst: candor metric lists the first 50
// records behind a value in the order the metric page's records table
// opens in — where the metric notes some records and not the others (a
// rate's failures, the recurrences), those first, newest first within
// each. It had listed them in the metric's own order, oldest first, so
// the 50 shown of change failure rate were mostly deployments that did
// not fail, and the recurrences behind incident recurrence rate could lie
// past the fiftieth row and not be shown at all.
func TestMetricTextListsNotedRecordsFirst(t *testing.T) {
	dir := t.TempDir()
	data, gen := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	mustRun(t, "generate", "--out", gen, "--scale", "0.02", "--end", "2026-06-01")
	mustRun(t, "import", "--data", data, gen)
	text := mustRun(t, "metric", "change_failure_rate", "--data", data, "--as-of", "2026-06-01", "--window", "30d").stdout
	_, records, ok := strings.Cut(text, "Records behind the value")
	if !ok {
		t.Fatalf("no records:\n%s", text)
	}
	row := regexp.MustCompile(`(?m)^  deployment \S+\s+(\S+Z)\s.*$`)
	rows := row.FindAllStringSubmatch(records, -1)
	if len(rows) != 50 {
		t.Fatalf("want the first 50 rows of %d, got %d:\n%s", 50, len(rows), records)
	}
	noted := func(line string) bool {
		return strings.Contains(line, "status failure") || strings.Contains(line, "rolled back") || strings.Contains(line, "caused ")
	}
	var times []string
	seenPlain := false
	for _, r := range rows {
		if noted(r[0]) {
			if seenPlain {
				t.Fatalf("a failed deployment after one that did not fail:\n%s", records)
			}
			times = append(times, r[1])
		} else {
			seenPlain = true
		}
	}
	if len(times) == 0 || !seenPlain {
		t.Fatalf("the fixture needs failed and other deployments among the 50: %d failed\n%s", len(times), records)
	}
	if !sort.SliceIsSorted(times, func(i, j int) bool { return times[i] > times[j] }) {
		t.Errorf("the failed deployments are not newest first: %v", times)
	}
}
