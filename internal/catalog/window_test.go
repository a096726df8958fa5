package catalog

import (
	"testing"
	"time"
)

func TestWindowWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour: "30 days", 48 * time.Hour: "2 days", 24 * time.Hour: "1 day",
		36 * time.Hour: "36 hours", time.Hour: "1 hour", 90 * time.Minute: "90 minutes",
	} {
		if got := WindowWords(d); got != want {
			t.Errorf("WindowWords(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSpanWords(t *testing.T) {
	for w, want := range map[string]string{"30d": "30 days", "2w": "14 days", "36h": "36 hours", "soon": "soon"} {
		if got := SpanWords(w); got != want {
			t.Errorf("SpanWords(%q) = %q, want %q", w, got, want)
		}
	}
}
