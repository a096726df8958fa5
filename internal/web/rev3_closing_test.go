package web

import (
	"encoding/json"
	"strings"
	"testing"
)

// rev3: pipeline coverage read closing at its quota period's end has no
// value (formula 2), yet its page read at a quarter's first instant (or a
// quarter-end month's) still offers "Read the period … closes" and says
// the closing period "is the one the month's board pack reports": the link
// leads to a page with no value, and the board pack reports none for it.
// For coverage the instant's read (the coming quarter) is the one to act on.
func TestRev3CoveragePageOffersNoClosingReadWithoutAValue(t *testing.T) {
	e := closingEnv(t)
	// Fresh opportunity data at the quarter's end: a deal won on 31 March,
	// one open, due in the second quarter.
	opps := `{"kind":"opportunity","id":"w2","owner":"ann","stage":"closed_won","created_at":"2026-03-01T00:00:00Z","qualified_at":"2026-03-02T00:00:00Z","closed_at":"2026-03-31T12:00:00Z","won":true,"amount":100}
{"kind":"opportunity","id":"o1","owner":"ann","stage":"proposal","created_at":"2026-03-20T00:00:00Z","qualified_at":"2026-03-21T00:00:00Z","close_date":"2026-05-15","amount":3000}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", opps, nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	for _, url := range []string{"/metrics/pipeline_coverage?as_of=2026-04-01&window=90d", "/metrics/pipeline_coverage?month=2026-03"} {
		_, body, _ := e.do(t, "GET", url, "", nil)
		if strings.Contains(string(body), `id="read-closing"`) {
			t.Errorf("%s offers the closing read, which has no value for pipeline coverage", url)
		}
		if strings.Contains(string(body), "the one the month&#39;s board pack reports") {
			t.Errorf("%s says the closing period is the one the board pack reports; the pack gives coverage no value", url)
		}
	}
	// (The closing read itself: no value.)
	_, body, _ := e.do(t, "GET", "/metrics/pipeline_coverage?month=2026-03&closing=1", "", nil)
	if !strings.Contains(string(body), "none of it is left to cover") {
		t.Fatalf("premise: the closing read of coverage has a value\n%s", clip(body))
	}
}

// rev3: the closing read's coverage has no value by design (none of the
// period is left to cover), yet its card is `unknown` like a metric
// whose data stopped: it needs an action ("no action recorded"), can
// escalate with the closing escalations, and counts as amber in the Growth
// pillar (listed among its unknown metrics) — on every quarter-end board
// pack, evidence pack and closing read.
func TestRev3ClosingCoverageNeedsNoAction(t *testing.T) {
	e := closingEnv(t)
	opps := `{"kind":"opportunity","id":"w2","owner":"ann","stage":"closed_won","created_at":"2026-03-01T00:00:00Z","qualified_at":"2026-03-02T00:00:00Z","closed_at":"2026-03-31T12:00:00Z","won":true,"amount":100}
{"kind":"opportunity","id":"o1","owner":"ann","stage":"proposal","created_at":"2026-03-20T00:00:00Z","qualified_at":"2026-03-21T00:00:00Z","close_date":"2026-05-15","amount":3000}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", opps, nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	_, body, _ := e.do(t, "GET", "/api/v1/scorecard?as_of=2026-04-01&window=31d&closing=true", "", nil)
	var sc struct {
		Pillars []struct {
			ID      string
			Unknown []struct{ ID string }
			Metrics []struct {
				ID          string
				Value       *float64
				Reason      string
				NeedsAction bool `json:"needs_action"`
			}
		}
	}
	if err := json.Unmarshal(body, &sc); err != nil {
		t.Fatal(err)
	}
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if c.ID != "pipeline_coverage" {
				continue
			}
			if c.Value != nil || !strings.Contains(c.Reason, "none of it is left to cover") {
				t.Fatalf("premise: closing coverage %v %q", c.Value, c.Reason)
			}
			if c.NeedsAction {
				t.Error("the closing read's coverage, without a value by design, needs an action")
			}
		}
		for _, u := range p.Unknown {
			if u.ID == "pipeline_coverage" {
				t.Errorf("the %s pillar counts closing coverage among its unknown metrics (as amber)", p.ID)
			}
		}
	}
}
