package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/adoption"
)

// TestAdoptionCommands: candor adoption weeks prints the kept counts of
// the weeks asked for, per week and in total; review lists what nobody
// opened in the quarter, and nothing in a store minutes old; a bad date is refused naming the flag.
func TestAdoptionCommands(t *testing.T) {
	data := smallStore(t)
	// A store minutes old names nothing as unopened: its counts began today.
	if r := mustRun(t, "adoption", "review", "--data", data); !strings.Contains(r.stdout, "1 week of counts, too few to name what nobody opens") || strings.Contains(r.stdout, "Metrics nobody opened") {
		t.Errorf("the review of a store minutes old:\n%s", r.stdout)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, row := range [][]any{
		{"2026-03-23", "user:a@example.com", "GET /metrics/{id}", "metric:mttr", 3},
		{"2026-03-30", "user:b@example.com", "GET /views/{role}", "view:ceo", 2},
		{"2025-12-01", "user:b@example.com", "GET /{$}", "", 9},
	} {
		if _, err := db.Exec(`INSERT INTO adoption (week, who, page, subject, opens) VALUES (?, ?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	// A future --from is named, as the API names it.
	if r := run(t, "adoption", "weeks", "--from", "2099-01-01", "--data", data); r.code != 2 || !strings.Contains(r.stderr, "--from: 2099-01-01T00:00:00Z is in the future") {
		t.Errorf("a future --from: exit %d, %s", r.code, r.stderr)
	}
	r := mustRun(t, "adoption", "weeks", "--from", "2026-03-25", "--to", "2026-03-31", "--data", data)
	for _, want := range []string{"weeks 2026-03-23 to 2026-03-30", "Week 2026-03-23: 3 opens by 1 person", "metric:mttr", "view:ceo"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("weeks lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "2025-12-01") {
		t.Errorf("weeks shows a week outside the span:\n%s", r.stdout)
	}
	r = mustRun(t, "adoption", "review", "--as-of", "2026-03-31", "--format", "json", "--data", data)
	var rv adoption.Review
	if err := json.Unmarshal([]byte(r.stdout), &rv); err != nil {
		t.Fatal(err)
	}
	var unopened []string
	for _, m := range rv.Metrics {
		unopened = append(unopened, m.ID)
	}
	if rv.Opens != 5 || slices.Contains(unopened, "mttr") || !slices.Contains(unopened, "availability") {
		t.Errorf("review: %d opens, unopened %v", rv.Opens, unopened)
	}
	r = run(t, "adoption", "weeks", "--from", "last week", "--data", data)
	r.want(t, 2, "adoption weeks with a bad --from")
	if !strings.Contains(r.stderr, "--from") {
		t.Errorf("the refusal does not name --from: %s", r.stderr)
	}
}
