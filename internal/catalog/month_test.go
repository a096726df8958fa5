package catalog

import (
	"strings"
	"testing"
	"time"
)

func TestParseMonth(t *testing.T) {
	good := []struct {
		in         string
		start, end string
		days       int
		words      string
	}{
		{"2026-10", "2026-10-01", "2026-11-01", 31, "October 2026"},
		{"2026-11", "2026-11-01", "2026-12-01", 30, "November 2026"},
		{" 2026-12 ", "2026-12-01", "2027-01-01", 31, "December 2026"},
		{"2024-02", "2024-02-01", "2024-03-01", 29, "February 2024"},
		{"2026-02", "2026-02-01", "2026-03-01", 28, "February 2026"},
	}
	for _, tt := range good {
		m, err := ParseMonth(tt.in)
		if err != nil {
			t.Errorf("ParseMonth(%q): %v", tt.in, err)
			continue
		}
		if got := m.Start().Format(time.DateOnly); got != tt.start {
			t.Errorf("%q: start %s, want %s", tt.in, got, tt.start)
		}
		if got := m.End().Format(time.DateOnly); got != tt.end {
			t.Errorf("%q: end %s, want %s", tt.in, got, tt.end)
		}
		if m.Window() != time.Duration(tt.days)*day {
			t.Errorf("%q: window %v, want %d days", tt.in, m.Window(), tt.days)
		}
		if m.Words() != tt.words || m.String() != strings.TrimSpace(tt.in) {
			t.Errorf("%q: %q, %q", tt.in, m.Words(), m.String())
		}
		// A month's as_of and window say that month again.
		if back, ok := MonthOf(m.End(), m.Window()); !ok || back != m {
			t.Errorf("MonthOf(%s, %v) = %v, %v; want %v", m.End(), m.Window(), back, ok, m)
		}
	}
	for _, in := range []string{"", "2026", "2026-13", "2026-1", "10-2026", "2026-10-01", "October"} {
		if _, err := ParseMonth(in); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
			t.Errorf("ParseMonth(%q) error = %v, want one naming YYYY-MM", in, err)
		}
	}
}

func TestMonthOfOnlyExactMonths(t *testing.T) {
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		asOf   time.Time
		window time.Duration
	}{
		{nov1, 30 * day},                // October has 31 days
		{nov1.Add(time.Hour), 31 * day}, // not a month's first instant
		{nov1.AddDate(0, 0, -1), 31 * day},
		{nov1, 0},
	} {
		if m, ok := MonthOf(tt.asOf, tt.window); ok {
			t.Errorf("MonthOf(%s, %v) = %v, want none", tt.asOf, tt.window, m)
		}
	}
	// The same instant in another zone is the same month.
	if m, ok := MonthOf(nov1.In(time.FixedZone("X", 3600)), 31*day); !ok || m.Words() != "October 2026" {
		t.Errorf("MonthOf in another zone = %v, %v", m, ok)
	}
}

func TestLastMonths(t *testing.T) {
	got := LastMonths(time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC), 3)
	want := []string{"2025-12", "2025-11", "2025-10"}
	if len(got) != len(want) {
		t.Fatalf("LastMonths = %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("LastMonths[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	// On a month's first instant the month before has just ended.
	if m := LastMonths(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 1); m[0].String() != "2026-11" {
		t.Errorf("LastMonths at 1 Dec = %v", m)
	}
}

func TestWindowNote(t *testing.T) {
	mar1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		at           time.Time
		window, want string
	}{
		{mar1, "28d", "28d: February 2026"},
		{mar1, "30d", "30d"},
		{mar1.Add(time.Minute), "28d", "28d"},
		{mar1, "soon", "soon"},
	} {
		if got := WindowNote(tt.at, tt.window); got != tt.want {
			t.Errorf("WindowNote(%s, %s) = %q, want %q", tt.at, tt.window, got, tt.want)
		}
	}
}

// A month whose as_of would be before EarliestAsOf is refused where every
// month is read, as as_of is: --month 1600-01 had been answered (and a
// board pack for it archived) where --as-of 1600-02-01 is refused. 1969-12
// is as of 1970-01-01, the earliest as_of answered.
func TestParseMonthRefusesBeforeTheEarliestAsOf(t *testing.T) {
	for _, in := range []string{"1600-01", "1677-12", "1969-11", "0000-01"} {
		if _, err := ParseMonth(in); err == nil || !strings.Contains(err.Error(), "1970") {
			t.Errorf("ParseMonth(%q) error = %v, want one naming 1970", in, err)
		}
	}
	if m, err := ParseMonth("1969-12"); err != nil || !m.End().Equal(EarliestAsOf) {
		t.Errorf("ParseMonth(1969-12) = %v, %v; want the month as of %s", m, err, EarliestAsOf)
	}
}

func TestMonthOfWindow(t *testing.T) {
	mar1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if m, ok := MonthOfWindow(mar1, "28d"); !ok || m.String() != "2026-02" {
		t.Errorf("28d to 1 March = %v, %v", m, ok)
	}
	for _, w := range []string{"4w", "672h"} { // 28 days written otherwise
		if m, ok := MonthOfWindow(mar1, w); !ok || m.String() != "2026-02" {
			t.Errorf("%s to 1 March = %v, %v", w, m, ok)
		}
	}
	for _, w := range []string{"30d", "soon", ""} {
		if m, ok := MonthOfWindow(mar1, w); ok {
			t.Errorf("%q to 1 March = %v", w, m)
		}
	}
}

// Every reader of a month given instead of as_of and window (the server,
// the CLI) refuses it by this one rule.
func TestMonthInstead(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	if m, err := MonthInstead("2026-02", false, now); err != nil || m.String() != "2026-02" {
		t.Errorf("2026-02 = %v, %v", m, err)
	}
	for _, tt := range []struct {
		v      string
		beside bool
		want   string
	}{
		{"2026-02", true, "not both"},
		{"2026-03", false, "2026-03 has not ended"},
		{"2026-3", false, "YYYY-MM"},
		{"1969-11", false, "too early"},
	} {
		if _, err := MonthInstead(tt.v, tt.beside, now); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MonthInstead(%q, %v) = %v, want an error with %q", tt.v, tt.beside, err, tt.want)
		}
	}
}
