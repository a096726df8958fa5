package scorecard

import (
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// A line of a dimension whose name starts with a vowel takes "an": sales
// cycle by owner read "a owner is judged only against a target of its own".
func TestNoOwnTargetReasonArticle(t *testing.T) {
	cat, err := defaultCatalog(t).Apply(map[string]catalog.Override{"sales_cycle_length": {Target: ptr(30), MinSample: whole(1)}})
	if err != nil {
		t.Fatal(err)
	}
	const data = `{"kind":"opportunity","id":"o1","owner":"ann","created_at":"2026-02-01T00:00:00Z","amount":1000,"stage":"closed_won","closed_at":"2026-03-30T00:00:00Z","won":true}
`
	ds := load(t, metrics.DefaultConfig(), data)
	d, err := Detail(cat, ds, "sales_cycle_length", Options{AsOf: asOf}, "owner", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Breakdown) == 0 {
		t.Fatalf("no breakdown by owner: %+v", d.Card)
	}
	for _, l := range d.Breakdown {
		if !strings.Contains(l.Reason, "and an owner is judged only against a target of its own") {
			t.Errorf("%s: %q, want \"an owner is judged\"", l.Key, l.Reason)
		}
	}
}

// A value that sums over its window names the window in a list, as a rate
// per 30 days does in its unit: infrastructure cost's 30-day sum read
// "84,942 USD" beside cost per active customer's "751.57 USD/30d".
func TestSumsShowTheirWindowInLists(t *testing.T) {
	v := 84942.0
	for _, c := range []struct {
		unit, window string
		sums         bool
		want         string
	}{
		{"currency", "30d", true, "84,942 USD/30d"},
		{"currency", "30d", false, "84,942 USD"},
		{"currency/30d", "30d", true, "84,942 USD/30d"},
	} {
		if got := CompactValue(&v, c.unit, "USD", c.window, c.sums); got != c.want {
			t.Errorf("CompactValue(%v, %s, %s, %v) = %q, want %q", v, c.unit, c.window, c.sums, got, c.want)
		}
	}
	if got := CompactValue(nil, "currency", "USD", "30d", true); got != "—" {
		t.Errorf("no value: %q", got)
	}
	// A target beside such a value names the same window: "target 442.40
	// USD" had stood beside revenue at risk's "739.14 USD/30d".
	target := 442.4
	for _, c := range []struct {
		card Card
		want string
	}{
		{Card{Target: &target, Unit: "currency", Window: "30d", SumsOverWindow: true}, "442.40 USD/30d"},
		{Card{Target: &target, Unit: "currency", Window: "30d"}, "442.40 USD"},
		{Card{Target: &target, Unit: "currency/30d", Window: "30d", SumsOverWindow: true}, "442.40 USD/30d"},
	} {
		if got := CompactTarget(c.card, "USD"); got != c.want {
			t.Errorf("CompactTarget(%+v) = %q, want %q", c.card, got, c.want)
		}
	}
	// The scorecard's text lists infrastructure cost with its window, and
	// its target with the same.
	const data = `{"kind":"cost","id":"mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3000}
{"kind":"target","id":"t","metric":"infrastructure_cost","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","value":2500}
`
	sc := Build(defaultCatalog(t), load(t, metrics.DefaultConfig(), data), Options{AsOf: asOf})
	text := Text(sc, TextOptions{})
	if !regexp.MustCompile(`Infrastructure cost\s+3,000 USD/30d .* target 2,500 USD/30d · `).MatchString(text) {
		t.Errorf("the text scorecard does not give infrastructure cost's window to its value and its target:\n%s", text)
	}
}
