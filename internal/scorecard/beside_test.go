package scorecard

import (
	"strings"
	"testing"

	"github.com/candor/candor/internal/metrics"
)

// TestSecurityFactsShown: what the security metrics compute beside their
// value — security incidents' 30-day figure (SPEC §3: "shown beside it"),
// the SLA breaches by severity, the failing controls and each framework
// reported failed (SPEC §3) — was in the API's detail only: `candor metric`,
// the scorecard's line and the metric page said none of it.
func TestSecurityFactsShown(t *testing.T) {
	one, three := 1, 3
	v := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		card Card
		want []string
	}{
		{Card{ID: "security_incidents_90d", Name: "Security incidents (90 days)", Unit: "count", Value: v(3),
			Detail: metrics.Detail{LastThirtyDays: &one}},
			[]string{"Last 30 days: 1 security incident (not judged)"}},
		{Card{ID: "vulnerability_sla_breaches", Name: "Vulnerability SLA breaches", Unit: "count", Value: v(20),
			Detail: metrics.Detail{BySeverity: map[string]int{"low": 9, "critical": 1, "medium": 7, "high": 3}}},
			[]string{"By severity: critical 1 · high 3 · medium 7 · low 9"}},
		{Card{ID: "compliance_pass_rate", Name: "Compliance pass rate", Unit: "%", Value: v(92.5),
			Detail: metrics.Detail{Failing: &three, Frameworks: map[string]string{"SOX": "failed", "SOC2": "passed", "ISO27001": "failed"}}},
			[]string{"Failing: 3 controls failing — ISO27001 and SOX reported failed"}},
	} {
		text := DetailText(&MetricDetail{Card: c.card}, TextOptions{})
		for _, w := range c.want {
			if !strings.Contains(text, w+"\n") {
				t.Errorf("%s: no %q in\n%s", c.card.ID, w, text)
			}
		}
	}
	line := cardLine(Card{ID: "security_incidents_90d", Name: "Security incidents (90 days)", Unit: "count", Value: v(3),
		Detail: metrics.Detail{LastThirtyDays: &one}}, TextOptions{})
	if !strings.Contains(line, "1 in the last 30 days") {
		t.Errorf("the scorecard's line does not give the 30-day figure: %q", line)
	}
	if f := SecurityFacts(metrics.Detail{}); len(f) != 0 {
		t.Errorf("another metric's facts: %v", f)
	}
}

// What an organisation's metric's filter kept is said beside its value, and a filter none of the
// records passes is named a likely mistake rather than left to read as a quiet 0.
func TestFilterFact(t *testing.T) {
	for _, c := range []struct {
		f    *metrics.Filtered
		want string
	}{
		{nil, ""},
		{&metrics.Filtered{Kind: "ticket", In: "with created_at in the window", Tried: 1020, Passed: 23},
			"Filter: 23 of the 1,020 ticket records with created_at in the window pass it"},
		{&metrics.Filtered{Kind: "ticket", In: "with created_at in the window", Tried: 1020, Passed: 0},
			"Filter: none of the 1,020 ticket records with created_at in the window passes it: check the values it compares with those the records hold (text compares exactly, case included)"},
		{&metrics.Filtered{Kind: "cost", In: "whose period overlaps the window", Tried: 0, Passed: 0},
			"Filter: no cost record whose period overlaps the window to try it on"},
	} {
		got := ""
		for _, f := range BesideFacts(metrics.Detail{Filtered: c.f}) {
			got = f.Label + ": " + f.Text
		}
		if got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.f, got, c.want)
		}
	}
}
