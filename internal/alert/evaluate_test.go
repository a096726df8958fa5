package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/scorecard"
)

func f(v float64) *float64 { return &v }

func TestJudge(t *testing.T) {
	staleSince := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	card := scorecard.Card{Name: "Win rate", Value: f(27), Unit: "%", Status: catalog.Amber, Target: f(40),
		Trend: scorecard.Trend{Previous: f(32)}, Freshness: scorecard.Freshness{Stale: true, Sources: []scorecard.SourceFresh{{Kind: "deal", Stale: true, LastData: &staleSince}}}}
	never := scorecard.Card{Name: "Availability", Freshness: scorecard.Freshness{Stale: true, Sources: []scorecard.SourceFresh{{Kind: "sli", Stale: true}}}}
	unconnected := scorecard.Card{Name: "ARR", Freshness: scorecard.Freshness{Stale: true, Sources: []scorecard.SourceFresh{{Kind: "subscription", Stale: true, Connector: "stripe"}}}}
	// Money in the organisation's currency, grouped, as the pages show it.
	arr := scorecard.Card{Name: "ARR", Value: f(3525779.26), Unit: "currency", Target: f(3750829)}
	quiet := scorecard.Card{Name: "New MRR", Value: f(0), Unit: "currency", Status: catalog.Red,
		Quiet: &scorecard.Quiet{Kind: "subscription", Newest: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}}
	cases := []struct {
		rule Rule
		card scorecard.Card
		want bool
		says string
	}{
		{Rule{Kind: KindStatus, Statuses: []catalog.Status{catalog.Amber, catalog.Red}}, card, true, "Win rate is amber"},
		{Rule{Kind: KindStatus, Statuses: []catalog.Status{catalog.Red}}, card, false, "is amber"},
		{Rule{Kind: KindThreshold, Op: "<", Value: 30}, card, true, "Win rate is 27 % (alert when < 30 %)"},
		{Rule{Kind: KindThreshold, Op: ">=", Value: 30}, card, false, ""},
		{Rule{Kind: KindChange, Direction: "drop", Value: 10}, card, true, "Win rate fell from 32 % in the window before to 27 %, −5 points, a relative change of −15.62 % (alert over a 10 % relative change)"},
		{Rule{Kind: KindChange, Direction: "rise", Value: 10}, card, false, ""},
		{Rule{Kind: KindChange, Direction: "drop", Value: 20}, card, false, ""},
		{Rule{Kind: KindChange, Direction: "any", Value: 1}, scorecard.Card{Name: "x", Value: f(1), Trend: scorecard.Trend{NotComparable: "the computation changed since the window before"}},
			false, "no change to compare (the computation changed"},
		{Rule{Kind: KindShortfall, Value: 80}, card, true, "67.5 % of its target 40 % (alert under 80 %)"},
		{Rule{Kind: KindShortfall, Value: 100}, arr, true, "ARR is 94.0 % of its target 3,750,829 EUR (alert under 100 %)"},
		{Rule{Kind: KindShortfall, Value: 60}, card, false, ""},
		{Rule{Kind: KindShortfall, Value: 80}, scorecard.Card{Name: "x", Value: f(1)}, false, "no target"},
		{Rule{Kind: KindStale}, card, true, "deal past the freshness limit"},
		// Never sent is not stale (a new store); a connector that never
		// worked is.
		{Rule{Kind: KindStale}, never, false, "never sent (sli)"},
		{Rule{Kind: KindStale}, unconnected, true, "subscription past the freshness limit"},
		// A value summing a state kind's changes over a window none fell
		// in says so (a stopped billing feed is never stale by SPEC §4).
		{Rule{Kind: KindStatus, Statuses: []catalog.Status{catalog.Red}}, quiet, true,
			"New MRR is red; no subscription record changed in the window, the newest change is from 24 Nov 2026 00:00 UTC: check that its feed still runs"},
		{Rule{Kind: KindThreshold, Op: "<", Value: 10}, quiet, true, "New MRR is 0 EUR (alert when < 10 EUR); no subscription record changed"},
		{Rule{Kind: KindDegrading}, card, false, ""},
		{Rule{Kind: KindDegrading}, scorecard.Card{Name: "x", Degrading: true}, true, "each of the last three weeks"},
	}
	for _, c := range cases {
		got, says := judge(c.rule, c.card, "EUR")
		if got != c.want || !strings.Contains(says, c.says) {
			t.Errorf("%s %s %v: %v %q, want %v containing %q", c.rule.Kind, c.rule.Op, c.rule.Value, got, says, c.want, c.says)
		}
	}
}

// The change rule words a change as the digest does (scorecard.Signed,
// scorecard.ChangeShown):
// to two decimals, or as many more as keep a change from reading 0 — a
// fall of 0.01 % had read "a relative change of −0.0 %", a fall called no
// change, and "−0.00 points" beside it.
func TestChangeWordedAsTheDigest(t *testing.T) {
	for _, c := range []struct {
		card scorecard.Card
		says string
	}{
		{scorecard.Card{Name: "Availability", Value: f(99.9896), Unit: "%", Trend: scorecard.Trend{Previous: f(99.99)}},
			"Availability fell from 99.99 % in the window before to 99.9896 %, −0.0004 points, a relative change of −0.0004 % "},
		// The points and the relative change are those of the figures
		// shown, as the digest's: 99.8651 → 99.8849 had read "+0.02
		// points, a relative change of +0.02 %" beside 99.87 % and 99.88 %.
		{scorecard.Card{Name: "Availability", Value: f(99.8849), Unit: "%", Trend: scorecard.Trend{Previous: f(99.8651)}},
			"Availability rose from 99.87 % in the window before to 99.88 %, +0.01 points, a relative change of +0.01 % "},
		// Never on the other side of the rule than the change it judged:
		// 1 → 1.1049 % fires over 10.4 %; the figures shown (1 %, 1.1 %)
		// give +10 %, so the unrounded change is written.
		{scorecard.Card{Name: "Win rate", Value: f(1.1049), Unit: "%", Trend: scorecard.Trend{Previous: f(1)}},
			"a relative change of +10.49 % (alert over a 10.4 % relative change)"},
		// …with the decimals that keep it over: +10.401, not "+10.4".
		{scorecard.Card{Name: "Win rate", Value: f(1.10401), Unit: "%", Trend: scorecard.Trend{Previous: f(1)}},
			"a relative change of +10.401 % (alert over a 10.4 % relative change)"},
		{scorecard.Card{Name: "Deployments", Value: f(9999), Unit: "count", Trend: scorecard.Trend{Previous: f(10000)}},
			"Deployments fell from 10000 in the window before to 9999, a relative change of −0.01 % "},
	} {
		rule := Rule{Kind: KindChange, Direction: "any", Value: 10}
		if c.card.Name == "Win rate" {
			rule.Value = 10.4
		}
		if _, says := judge(rule, c.card, "USD"); !strings.Contains(says, c.says) {
			t.Errorf("%s: %q, want %q", c.card.Name, says, c.says)
		}
	}
}

// An alert's severity follows the status of the metric it reports unless
// its rule sets one: on the demo "ARR is 95.2 % of its target … CRITICAL"
// while ARR was amber, and "Change failure rate is red" a warning. The
// default rules on metrics set none; the escalation, burn-rate,
// quarantine, reconciliation and rollback rules keep critical.
func TestSeverityFollowsStatus(t *testing.T) {
	rules, err := Compile(Defaults(), defaultCatalog(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Rule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	cases := []struct {
		rule   string
		status catalog.Status
		want   string
	}{
		{"arr_behind_target", catalog.Amber, "warning"},
		{"arr_behind_target", catalog.Red, "critical"},
		{"metric_red", catalog.Red, "critical"},
		{"pipeline_coverage_low", catalog.Amber, "warning"},
		{"pipeline_coverage_low", catalog.Red, "critical"},
		{"win_rate_drop", catalog.Green, "warning"},
		{"mql_shortfall", catalog.Red, "critical"},
		{"source_stale", catalog.Unknown, "warning"},
		{"metric_degrading", catalog.Green, "warning"},
		{"escalation", catalog.Amber, "critical"},
		{"error_budget_burn", catalog.Amber, "critical"},
		{"rows_quarantined", "", "critical"},
	}
	for _, c := range cases {
		r, ok := byName[c.rule]
		if !ok {
			t.Fatalf("no default rule %s", c.rule)
		}
		if got := r.SeverityFor(string(c.status)); got != c.want {
			t.Errorf("%s on a %s metric: %s, want %s", c.rule, c.status, got, c.want)
		}
	}
	// A configured rule's severity is its own, whatever the status.
	own, err := Compile([]Rule{{Name: "mine", Kind: KindStatus, Metric: "*", Severity: "warning"}}, defaultCatalog(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := own[0].SeverityFor(string(catalog.Red)); got != "warning" {
		t.Errorf("a rule with severity warning on a red metric: %s", got)
	}
	// What Evaluate's observations carry: the card's status decides.
	arr := scorecard.Card{ID: "arr", Name: "ARR", Value: f(95.2), Unit: "currency", Target: f(100), Status: catalog.Amber}
	r := byName["arr_behind_target"]
	if fires, _ := judge(r, arr, "USD"); !fires || r.SeverityFor(string(arr.Status)) != "warning" {
		t.Errorf("ARR at 95.2 %% of its target, amber: fires %v, severity %s; want a warning", fires, r.SeverityFor(string(arr.Status)))
	}
}
