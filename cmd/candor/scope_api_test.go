package main

import (
	"fmt"
	"testing"
)

// The API's scorecard narrowed to a team (?team=, ?scope=) gives the values candor scorecard
// --scope gives for it: the VP Customer Success's review of 2026-12-07 (finding 8) had the page
// and the CLI narrow while the API refused team and scope as unknown parameters.
func TestScorecardScopeAgreesWithTheAPI(t *testing.T) {
	data := smallStore(t)
	const asOf = "2026-03-31"
	cards := func(doc scorecardDoc) map[string]string {
		out := map[string]string{}
		for _, p := range doc.Pillars {
			for _, m := range p.Metrics {
				v := "none"
				if m.Value != nil {
					v = fmt.Sprint(*m.Value)
				}
				out[m.ID] = v + " " + m.Status
			}
		}
		return out
	}
	cli := map[string]map[string]string{}
	for _, team := range []string{"core", "growth"} {
		cli[team] = cards(parseScorecard(t, mustRun(t, "scorecard", "--data", data, "--as-of", asOf, "--scope", "team:"+team, "--format", "json").stdout))
	}
	if cli["core"]["change_failure_rate"] != "50 unknown" || cli["growth"]["change_failure_rate"] != "none unknown" {
		t.Fatalf("the CLI's change failure rate: core %q, growth %q", cli["core"]["change_failure_rate"], cli["growth"]["change_failure_rate"])
	}
	p, url, token := serveWithToken(t, data, "executive")
	for team, want := range cli {
		for _, q := range []string{"team=" + team, "scope=team:" + team} {
			code, body := get(t, url+"/api/v1/scorecard?as_of="+asOf+"&"+q, token)
			if code != 200 {
				t.Fatalf("GET /api/v1/scorecard?%s = %d %s", q, code, clip(string(body)))
			}
			got := cards(parseScorecard(t, string(body)))
			if len(got) != len(want) {
				t.Errorf("?%s: %d metrics, the CLI's --scope team:%s %d", q, len(got), team, len(want))
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("?%s: %s is %q, the CLI's --scope team:%s %q", q, id, got[id], team, w)
				}
			}
		}
	}
	p.stop(t)
}
