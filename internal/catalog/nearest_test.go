package catalog

import (
	"slices"
	"strings"
	"testing"
)

// Nearest guesses by spelling, then by the start of an id, then by the
// metrics' names, and only among the visible ones.
func TestNearest(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	noRevenue := func(m *Metric) bool { return !m.RevenueSensitive() }
	for _, tc := range []struct {
		id      string
		visible func(*Metric) bool
		want    string
	}{
		{"mtr", nil, "mttr"},
		{"lead_time", nil, "lead_time_for_changes"},
		{"time_to_restore", nil, "mttr"},
		{"ar", nil, "arr"},
		{"ar", noRevenue, ""},
		{"zzzzzz", nil, ""},
	} {
		if got := c.Nearest(tc.id, tc.visible); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

// Unseen names, sorted, the metrics a reader is refused and those the
// catalog lacks; nil ids are every metric in force.
func TestUnseen(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	noRevenue := func(m *Metric) bool { return !m.RevenueSensitive() }
	hidden, unknown := c.Unseen([]string{"mttr", "mrr", "arr", "gone"}, noRevenue)
	if strings.Join(hidden, ",") != "arr,mrr" || strings.Join(unknown, ",") != "gone" {
		t.Errorf("Unseen: hidden %v, unknown %v", hidden, unknown)
	}
	if hidden, unknown := c.Unseen(nil, noRevenue); !slices.Contains(hidden, "arr") || slices.Contains(hidden, "mttr") || len(unknown) != 0 {
		t.Errorf("Unseen of every metric: hidden %v, unknown %v", hidden, unknown)
	}
	if hidden, _ := c.Unseen(nil, func(*Metric) bool { return true }); len(hidden) != 0 {
		t.Errorf("a reader seeing everything is refused %v", hidden)
	}
}
