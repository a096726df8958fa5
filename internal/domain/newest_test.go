package domain

import (
	"testing"
	"time"
)

func TestNewestTime(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"i3","opened_at":"2026-03-30T20:00:00Z","postmortem_done_at":"2026-04-03T10:00:00Z"}`: "2026-04-03T10:00:00Z",
		`{"id":"i3","resolved_at":"2026-03-31T23:59:59Z","opened_at":"2026-03-30T20:00:00Z"}`:        "2026-03-31T23:59:59Z",
		`{"id":"o1","close_date":"2026-04-01","created_at":"2026-03-01T00:00:00Z"}`:                  "2026-04-01T00:00:00Z",
		`{"id":"2026-05-01-report","at":"2026-03-01T00:00:00+02:00"}`:                                "2026-02-28T22:00:00Z",
		`{"id":"x","at":"2026-04-01T01:30:00+02:00"}`:                                                "2026-03-31T23:30:00Z",
		`{"id":"x","amount":20260401}`:                                                               "",
		`{"id":"x","at":"2026-04-01T01:30:00Z","note":"2026-05-01`:                                   "2026-04-01T01:30:00Z",
		`{}`: "",
	} {
		got, ok := NewestTime([]byte(body))
		s := ""
		if ok {
			s = got.UTC().Format(time.RFC3339)
		}
		if s != want {
			t.Errorf("NewestTime(%s) = %q, want %q", body, s, want)
		}
	}
}

// TestNewestTimeExcept leaves out the values of the keys named, nested or
// not, and is not misled by an escaped quote or a key that looks like a
// date.
func TestNewestTimeExcept(t *testing.T) {
	except := map[string]bool{"sla_due_at": true, "close_date": true}
	for body, want := range map[string]string{
		`{"id":"t1","created_at":"2026-09-28T10:00:00Z","resolved_at":"2026-09-29T10:00:00Z","sla_due_at":"2026-10-02T10:00:00Z"}`: "2026-09-29T10:00:00Z",
		`{"id":"o1","created_at":"2026-03-01T00:00:00Z", "close_date" : "2026-12-31"}`:                                             "2026-03-01T00:00:00Z",
		`{"id":"x","note":"he said \"2026-12-01\"","at":"2026-04-01T00:00:00Z"}`:                                                   "2026-04-01T00:00:00Z",
		`{"id":"x","n":{"sla_due_at":"2027-01-01"},"at":"2026-04-01T00:00:00Z"}`:                                                   "2026-04-01T00:00:00Z",
		`{"2026-12-01":"x","at":"2026-04-01"}`:                                                                                     "2026-04-01T00:00:00Z",
		`{"id":"x","sla_due_at":"2026-10-02T10:00:00Z"}`:                                                                           "",
	} {
		got, ok := NewestTimeExcept([]byte(body), except)
		s := ""
		if ok {
			s = got.UTC().Format(time.RFC3339)
		}
		if s != want {
			t.Errorf("NewestTimeExcept(%s) = %q, want %q", body, s, want)
		}
	}
}
