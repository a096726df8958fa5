package web

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// Pipeline coverage looks ahead: a closing read is the coming quarter's,
// as the instant's (metrics.Def.Ahead). So its page at a quarter's first
// instant offers no closing read and does not say the board pack reports
// the quarter closing — the review had found both pointing at a read with
// no value, when closing coverage had none.
func TestCoveragePageOffersNoClosingRead(t *testing.T) {
	e := coverageEnv(t)
	for _, url := range []string{"/metrics/pipeline_coverage?as_of=2026-04-01&window=90d", "/metrics/pipeline_coverage?month=2026-03"} {
		_, body, _ := e.do(t, "GET", url, "", nil)
		if strings.Contains(string(body), `id="read-closing"`) {
			t.Errorf("%s offers the closing read, which has no value for pipeline coverage", url)
		}
		if strings.Contains(string(body), "the one the month&#39;s board pack reports") {
			t.Errorf("%s says the closing period is the one the board pack reports; the pack gives coverage no value", url)
		}
	}
	// The closing read itself is the instant's, and says nothing of closing.
	_, closing, _ := e.do(t, "GET", "/api/v1/metrics/pipeline_coverage?month=2026-03&closing=1", "", nil)
	_, instant, _ := e.do(t, "GET", "/api/v1/metrics/pipeline_coverage?month=2026-03", "", nil)
	value := func(b []byte) string {
		var d struct {
			Closing bool
			Metric  struct{ Value *float64 }
		}
		json.Unmarshal(b, &d)
		if d.Metric.Value == nil {
			return "none"
		}
		return strconv.FormatFloat(*d.Metric.Value, 'f', -1, 64) + " closing " + strconv.FormatBool(d.Closing)
	}
	if v := value(closing); v != value(instant) || strings.HasSuffix(v, "closing true") || v == "none" {
		t.Errorf("closing coverage %s, at the instant %s: want the coming quarter's, not said closing", v, value(instant))
	}
	_, body, _ := e.do(t, "GET", "/metrics/pipeline_coverage?month=2026-03&closing=1", "", nil)
	if strings.Contains(string(body), `id="closing-notice"`) || strings.Contains(string(body), "(a closing read)") {
		t.Error("coverage's page read closing says it reads the period closing")
	}
}

// A closing scorecard's coverage card has the coming quarter's value, not
// an unknown that needs an action and counts as amber in the Growth pillar
// on every quarter-end pack (the review's finding, when closing coverage
// had no value).
func TestClosingCoverageHasAValue(t *testing.T) {
	e := coverageEnv(t)
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
			if c.Value == nil {
				t.Errorf("closing coverage has no value (%q)", c.Reason)
			}
		}
		for _, u := range p.Unknown {
			if u.ID == "pipeline_coverage" {
				t.Errorf("the %s pillar counts closing coverage among its unknown metrics (as amber)", p.ID)
			}
		}
	}
}

// coverageEnv is closingEnv with fresh opportunity data at the quarter's
// end: a deal won on 31 March, one open, due in the second quarter.
func coverageEnv(t *testing.T) *env {
	t.Helper()
	e := closingEnv(t)
	opps := `{"kind":"opportunity","id":"w2","owner":"ann","stage":"closed_won","created_at":"2026-03-01T00:00:00Z","qualified_at":"2026-03-02T00:00:00Z","closed_at":"2026-03-31T12:00:00Z","won":true,"amount":100}
{"kind":"opportunity","id":"o1","owner":"ann","stage":"proposal","created_at":"2026-03-20T00:00:00Z","qualified_at":"2026-03-21T00:00:00Z","close_date":"2026-05-15","amount":3000}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", opps, nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	return e
}
