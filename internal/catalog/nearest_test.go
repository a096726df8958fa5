package catalog

import "testing"

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
