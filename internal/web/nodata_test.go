package web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// SPEC §4: Growth where revenue data exists. The seed sends none: the
// scorecard's Growth pillar says so once, unknown (never green), with no
// card of ARR or NRR reading "—" as if it were measured; the API gives the
// same sentence beside the cards.
func TestGrowthPillarWithoutRevenueData(t *testing.T) {
	e := newEnv(t, 0)
	const want = "No revenue data has been sent: no subscription, opportunity, quota, spend, lead and target records."
	body := e.page(t, e.sessionAs(t, "executive"), "/?as_of="+asOf, 200)
	growth := regexp.MustCompile(`(?s)<section class="pillar[^"]*" aria-labelledby="pillar-growth">.*?</section>`).FindString(body)
	if !strings.Contains(growth, want) || strings.Contains(growth, `class="kpi"`) || strings.Contains(growth, "unknowns__list") ||
		!strings.Contains(growth, "pillar--unknown") {
		t.Errorf("the Growth pillar without revenue data reads:\n%s", growth)
	}
	status, raw, _ := e.do(t, "GET", "/api/v1/scorecard?as_of="+asOf, "", nil)
	if status != 200 {
		t.Fatalf("scorecard: %d %s", status, raw)
	}
	var sc struct {
		Pillars []struct {
			ID     string `json:"id"`
			NoData string `json:"no_data"`
		} `json:"pillars"`
	}
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range sc.Pillars {
		if p.ID == "growth" {
			found = true
			if p.NoData != want {
				t.Errorf("the API's growth pillar: no_data %q, want %q", p.NoData, want)
			}
		}
	}
	if !found {
		t.Error("the API's scorecard has no growth pillar")
	}
}
