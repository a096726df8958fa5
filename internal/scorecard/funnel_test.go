package scorecard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candor/candor/internal/metrics"
)

// As of 2026-03-31 (asOf) with the 30-day window and the 90-day lag, the
// funnel's cohort is the leads created in [2025-12-01, 2025-12-31): two
// won of four. The lead of March is too young to count.
const funnelData = `
{"kind":"lead","id":"l1","created_at":"2025-12-02T00:00:00Z","mql_at":"2025-12-03T00:00:00Z","sql_at":"2025-12-05T00:00:00Z","opportunity":"o1","channel":"web"}
{"kind":"lead","id":"l2","created_at":"2025-12-10T00:00:00Z","sql_at":"2025-12-12T00:00:00Z","opportunity":"o2","channel":"web"}
{"kind":"lead","id":"l3","created_at":"2025-12-20T00:00:00Z","mql_at":"2025-12-21T00:00:00Z","channel":"ads"}
{"kind":"lead","id":"l4","created_at":"2025-12-30T00:00:00Z","channel":"ads"}
{"kind":"lead","id":"l5","created_at":"2026-03-20T00:00:00Z","mql_at":"2026-03-21T00:00:00Z","channel":"ads"}
{"kind":"opportunity","id":"o1","created_at":"2025-12-06T00:00:00Z","amount":1000,"stage":"closed_won","closed_at":"2026-02-01T00:00:00Z","won":true}
{"kind":"opportunity","id":"o2","created_at":"2025-12-13T00:00:00Z","amount":1000,"stage":"closed_won","closed_at":"2026-03-01T00:00:00Z","won":true}
`

const funnelStagesLine = "lead→MQL 75 % · MQL→SQL 66.67 % · SQL→opportunity 100 % · opportunity→won 100 %"

// The funnel's card names its cohort (text and JSON); the drill-down and
// the VP Marketing view show all four stage shares.
func TestFunnelCohortAndStagesShown(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), funnelData)
	opt := Options{AsOf: asOf}
	sc := Build(cat, ds, opt)
	c := card(t, sc, "funnel_conversion")
	if c.Value == nil || *c.Value != 50 {
		t.Fatalf("funnel_conversion = %s, want 50 (2 of the 4 mature leads won)", show(c.Value))
	}
	cohort := "cohort: leads created 2025-12-01 – 2025-12-31 (90-day maturation lag)"
	if txt := Text(sc, TextOptions{All: true}); !strings.Contains(txt, cohort) {
		t.Errorf("scorecard text does not name the cohort %q:\n%s", cohort, txt)
	}
	b, _ := json.Marshal(c)
	for _, want := range []string{`"cohort_start":"2025-12-01T00:00:00Z"`, `"cohort_end":"2025-12-31T00:00:00Z"`, `"lead_to_mql":75`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("card JSON lacks %s: %s", want, b)
		}
	}

	d, err := Detail(cat, ds, "funnel_conversion", opt, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if txt := DetailText(d, TextOptions{}); !strings.Contains(txt, "Stages: "+funnelStagesLine) || !strings.Contains(txt, "Cohort: leads created 2025-12-01") {
		t.Errorf("drill-down text lacks the cohort or the stages %q:\n%s", funnelStagesLine, txt)
	}
	b, _ = json.Marshal(d)
	for _, k := range []string{"lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_won", "cohort_start"} {
		if !strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("drill-down JSON lacks %s", k)
		}
	}

	v, err := View(cat, ds, "vp_marketing", opt)
	if err != nil {
		t.Fatal(err)
	}
	if txt := ViewText(v, TextOptions{}); !strings.Contains(txt, "stages: "+funnelStagesLine) || !strings.Contains(txt, cohort) {
		t.Errorf("VP Marketing view lacks the funnel's cohort or stages:\n%s", txt)
	}
}
