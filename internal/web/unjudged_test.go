package web

import (
	"regexp"
	"testing"

	"github.com/candor/candor/internal/catalog"
)

// A value resting on fewer cases than its metric's minimum sample is shown
// but not judged: the scorecard's card and the metric page draw it grey,
// as a stale one, and as the board pack does. It had stood as bold as a
// judged value beside its Unknown.
func TestValueOnTooFewCasesIsGrey(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		many := catalog.WholeNumber(1_000_000)
		cat, err := s.Catalog.Apply(map[string]catalog.Override{"change_failure_rate": {MinSample: &many}})
		if err != nil {
			t.Fatal(err)
		}
		s.Catalog = cat
	})
	_, body, _ := e.do(t, "GET", "/?as_of=2026-03-30", "", nil)
	card := func(id string) string {
		t.Helper()
		m := regexp.MustCompile(`data-metric="` + id + `">(?s:.*?)<span class="(kpi__value[^"]*)">`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no card of %s on the scorecard", id)
		}
		return string(m[1])
	}
	if got := card("change_failure_rate"); got != "kpi__value kpi__value--stale" {
		t.Errorf("change failure rate on too few cases: its value is %q, want greyed", got)
	}
	if got := card("deployment_frequency"); got != "kpi__value" {
		t.Errorf("deployment frequency, judged: its value is %q, want plain", got)
	}
	_, body, _ = e.do(t, "GET", "/metrics/change_failure_rate?as_of=2026-03-30", "", nil)
	if !regexp.MustCompile(`<p class="value-card__value kpi__value--stale">`).Match(body) {
		t.Error("the metric page draws a value on too few cases as a judged one")
	}
}
