package scorecard

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
)

// Every span the catalog allows is worded in every place that says what a
// value covers, each in words of its own: a span worded as a window would
// tell a reader the value covers 30 days when it is a state or a cohort.
func TestEverySpanWordedEverywhere(t *testing.T) {
	all := append([]string{catalog.SpanWindow}, catalog.Spans...)
	if got := slices.Sorted(maps.Keys(spans)); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Fatalf("spans worded %q, the catalog's %q", got, all)
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	window := spans[catalog.SpanWindow]
	for _, span := range all {
		label, page := Covers(span, "30d", at)
		trend, week := TrendCovers(span, "30d"), WeekCovers(span, "7d")
		if label == "" || page == "" || trend == "" || week == "" {
			t.Errorf("span %q: label %q, page %q, trend %q, week %q", span, label, page, trend, week)
		}
		if span == catalog.SpanWindow {
			continue
		}
		if label == window.label || trend == window.trend("30d") || week == window.week("7d") || strings.HasPrefix(page, "30d ending") {
			t.Errorf("span %q is worded as a window: %q %q / %q / %q", span, label, page, trend, week)
		}
	}
	if _, got := Covers(catalog.SpanBeforeWindow, "30d", at); got != "the 90 days before 21 Oct 2026 09:30 UTC, where the 30d window starts" {
		t.Errorf("baseline: %q", got)
	}
	if !WeekCoversUsual(WeekCovers(catalog.SpanWindow, "7d")) || WeekCoversUsual(WeekCovers(catalog.SpanInstant, "7d")) {
		t.Error("WeekCoversUsual does not tell the digest's usual week from a state's")
	}
}

// A window that is exactly a calendar month names it, the window and its
// end still said; one a day short, or ending mid-day, does not.
func TestCoversNamesACalendarMonth(t *testing.T) {
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		window string
		at     time.Time
		want   string
	}{
		{"31d", nov1, "October 2026 (31d ending 1 Nov 2026 00:00 UTC)"},
		{"30d", nov1, "30d ending 1 Nov 2026 00:00 UTC"},
		{"31d", nov1.Add(time.Hour), "31d ending 1 Nov 2026 01:00 UTC"},
		{"28d", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "February 2026 (28d ending 1 Mar 2026 00:00 UTC)"},
	} {
		if _, got := Covers(catalog.SpanWindow, tt.window, tt.at); got != tt.want {
			t.Errorf("Covers(%s, %s) = %q, want %q", tt.window, tt.at, got, tt.want)
		}
	}
	// A state is not a month's: it is the state at the page's time.
	if _, got := Covers(catalog.SpanInstant, "31d", nov1); strings.Contains(got, "October") {
		t.Errorf("a state's words name a month: %q", got)
	}
}
