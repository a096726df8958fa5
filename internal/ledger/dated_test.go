package ledger

import (
	"testing"
	"time"
)

// datedFrom finds a time or date at or after t anywhere in a body, and
// nothing in an id that only looks like one.
func TestDatedFrom(t *testing.T) {
	apr1 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for body, want := range map[string]bool{
		`{"id":"i3","opened_at":"2026-03-30T20:00:00Z","postmortem_done_at":"2026-04-03T10:00:00Z"}`: true,
		`{"id":"i3","opened_at":"2026-03-30T20:00:00Z","resolved_at":"2026-03-31T23:59:59Z"}`:        false,
		`{"id":"o1","close_date":"2026-04-01","created_at":"2026-03-01T00:00:00Z"}`:                  true,
		`{"id":"2026-05-01-report","at":"2026-03-01T00:00:00+02:00"}`:                                false,
		`{"id":"x","at":"2026-04-01T01:30:00+02:00"}`:                                                false, // 23:30 UTC on 31 March
		`{"id":"x","amount":20260401}`:                                                               false,
		`{}`:                                                                                         false,
	} {
		if got := datedFrom([]byte(body), apr1); got != want {
			t.Errorf("datedFrom(%s) = %v, want %v", body, got, want)
		}
	}
}
