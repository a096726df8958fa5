package governance

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestDiffSection: the organisation's metrics are matched by id, so a
// reordered list changes nothing; a changed expression, a metric added
// (field by field) and one removed are each said once, numbers as written.
func TestDiffSection(t *testing.T) {
	old := `{"custom_metrics":[{"id":"a","aggregate":"share","matching":"value >= 40","thresholds":{"green":0.1,"amber":0.2}},` +
		`{"id":"b","aggregate":"count","kind":"incident"}]}`
	reordered := `{"custom_metrics":[{"id":"b","aggregate":"count","kind":"incident"},` +
		`{"id":"a","aggregate":"share","matching":"value >= 40","thresholds":{"green":0.1,"amber":0.2}}]}`
	if got, err := DiffSection(json.RawMessage(old), json.RawMessage(reordered)); err != nil || len(got) != 0 {
		t.Errorf("a reordered list: %v %v, want no change", got, err)
	}
	changed := `{"custom_metrics":[{"id":"a","aggregate":"share","matching":"value >= 45","thresholds":{"green":0.1,"amber":0.3}},` +
		`{"id":"c","aggregate":"count","kind":"ticket"}]}`
	got, err := DiffSection(json.RawMessage(old), json.RawMessage(changed))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, c.String())
	}
	want := []string{
		"custom_metrics[b]: removed",
		"custom_metrics[a].matching: value >= 40 → value >= 45",
		"custom_metrics[a].thresholds.amber: 0.2 → 0.3",
		"custom_metrics[c].aggregate: count (added)",
		"custom_metrics[c].id: c (added)",
		"custom_metrics[c].kind: ticket (added)",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("changes:\n%q\nwant\n%q", lines, want)
	}
	got, _ = DiffSection(json.RawMessage(old), json.RawMessage("null"))
	if len(got) != 1 || got[0].String() != "the section: removed" {
		t.Errorf("the section unset: %v", got)
	}
}

// TestDiffSectionWords: a value is written as the configuration writes it:
// an expression's operators as they are, padded or empty text quoted.
func TestDiffSectionWords(t *testing.T) {
	got, err := DiffSection(json.RawMessage(`{"f":"a && b > 1","g":"x","h":[1]}`), json.RawMessage(`{"f":"a || b > 1","g":" x","h":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, c.String())
	}
	want := []string{"f: a && b > 1 → a || b > 1", `g: x → " x"`, "h: [1] → [1,2]"}
	if !slices.Equal(lines, want) {
		t.Errorf("changes %q, want %q", lines, want)
	}
}
