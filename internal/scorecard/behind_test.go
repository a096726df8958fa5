package scorecard

import (
	"strings"
	"testing"
	"time"
)

// A card reading several kinds names its least current one and how far
// the others reach, on the pages and in the CLI's text alike.
func TestFreshnessBehind(t *testing.T) {
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	f := Freshness{LastData: at("2026-12-07T00:38:00Z"), Sources: []SourceFresh{
		{Kind: "deployment", LastData: at("2026-12-07T11:49:00Z")}, {Kind: "incident", LastData: at("2026-12-07T00:38:00Z")}, {Kind: "change", LastData: at("2026-12-08T01:00:00Z")}}}
	if got := f.Behind("15:04", "2 Jan 15:04"); got != "incident; deployment 11:49, change 8 Dec 01:00" {
		t.Errorf("Behind = %q", got)
	}
	if got := (Freshness{LastData: f.LastData, Sources: f.Sources[1:2]}).Behind("15:04", "2 Jan 15:04"); got != "" {
		t.Errorf("one kind: %q", got)
	}
	text := cardLine(Card{ID: "change_failure_rate", Name: "Change failure rate", Unit: "%", Freshness: f}, TextOptions{})
	if !strings.Contains(text, "data as of 2026-12-07 00:38 (incident; deployment 11:49, change 12-08 01:00)") {
		t.Errorf("the CLI's text does not name the least current source:\n%s", text)
	}
}
