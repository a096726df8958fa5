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
