package scorecard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// SPEC §3: a breakdown line or scope of a service is judged by the service's own thresholds,
// else its tier's, else the organisation's, and the card says which judged it. On the
// hand-computed org, mttr is 2 h (amber by 1 h / 4 h); api (tier 1) has i1 0.5 h and i3 2 h:
// 1.25 h; web (tier 2) has i2 3 h.
func TestThresholdsPerTierAndService(t *testing.T) {
	cat, err := handCatalog(t).Apply(map[string]catalog.Override{"mttr": {
		ThresholdsByTier:    map[string]catalog.Thresholds{"1": {Green: 2, Amber: 3}},
		ThresholdsByService: map[string]catalog.Thresholds{"web": {Green: 0.5, Amber: 2}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ds := load(t, metrics.DefaultConfig(), org)
	opt := Options{AsOf: asOf}
	d, err := Detail(cat, ds, "mttr", opt, "service", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Status != catalog.Amber || d.Card.ThresholdsFrom != catalog.FromOrganisation {
		t.Errorf("organisation card = %s %s by %q, want amber by the organisation's", show(d.Card.Value), d.Card.Status, d.Card.ThresholdsFrom)
	}
	lines := map[string]BreakdownLine{}
	for _, l := range d.Breakdown {
		lines[l.Key] = l
	}
	// api: 1.25 h is amber by the organisation's bar, green by tier 1's.
	if l := lines["api"]; !approx(*l.Value, 1.25) || l.Status != catalog.Green || l.ThresholdsFrom != "tier 1" {
		t.Errorf("api line = %+v, want 1.25 green by tier 1's thresholds", l)
	}
	// web: 3 h is amber by the organisation's bar, red by its own.
	if l := lines["web"]; !approx(*l.Value, 3) || l.Status != catalog.Red || l.ThresholdsFrom != "service web" {
		t.Errorf("web line = %+v, want 3 red by service web's thresholds", l)
	}
	text := DetailText(d, TextOptions{})
	if !strings.Contains(text, "RED      (n = 1)  service web thresholds") || !strings.Contains(text, "Thresholds: green ≤ 1 h, amber ≤ 4 h") {
		t.Errorf("text does not say which thresholds judged:\n%s", text)
	}
	b, _ := json.Marshal(d)
	if !strings.Contains(string(b), `"thresholds_from":"service web"`) || !strings.Contains(string(b), `"thresholds_from":"organisation"`) {
		t.Errorf("JSON lacks thresholds_from: %s", b)
	}

	// By tier: tier 1 takes its bar; tier 2 has none and takes the organisation's.
	d, err = Detail(cat, ds, "mttr", opt, "tier", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	lines = map[string]BreakdownLine{}
	for _, l := range d.Breakdown {
		lines[l.Key] = l
	}
	if l := lines["1"]; l.Status != catalog.Green || l.ThresholdsFrom != "tier 1" {
		t.Errorf("tier 1 line = %+v, want green by tier 1's", l)
	}
	if l := lines["2"]; l.Status != catalog.Amber || l.ThresholdsFrom != catalog.FromOrganisation {
		t.Errorf("tier 2 line = %+v, want amber by the organisation's", l)
	}

	// A scope of one service is judged like its line, the card showing that service's bounds.
	d, err = Detail(cat, ds, "mttr", opt, "", metrics.Scope{Dim: "service", Value: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Card; c.Status != catalog.Green || c.ThresholdsFrom != "tier 1" || c.Thresholds == nil || c.Thresholds.Green != 2 {
		t.Errorf("scope service:api = %s by %q %+v, want green by tier 1's (green 2)", c.Status, c.ThresholdsFrom, c.Thresholds)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "Thresholds (tier 1): green ≤ 2 h, amber ≤ 3 h") {
		t.Errorf("scope text does not name tier 1's thresholds:\n%s", text)
	}
	// A team is no service: core (api's team) keeps the organisation's bar.
	d, err = Detail(cat, ds, "mttr", opt, "", metrics.Scope{Dim: "team", Value: "core"})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Card; c.Status != catalog.Amber || c.ThresholdsFrom != catalog.FromOrganisation {
		t.Errorf("scope team:core = %s by %q, want amber by the organisation's", c.Status, c.ThresholdsFrom)
	}
}

// SPEC §3: with judged_by: baseline, mttr is green at or below its own history (mttr_baseline:
// the median of incidents resolved in the 90 days before W) and amber up to 1.3 times it, in
// every scope against that scope's own baseline. History added to the org: h1 api 2 h, h2 api
// 1 h, h3 web 2 h, all resolved in February. Baselines: organisation median(2, 1, 2) = 2, api
// median(2, 1) = 1.5, web 2. mttr: organisation 2 (green, ≤ 2), api 1.25 (green, ≤ 1.5), web 3
// (red, > 2.6).
func TestMTTRJudgedByBaseline(t *testing.T) {
	cat, err := handCatalog(t).Apply(map[string]catalog.Override{"mttr": {JudgedBy: "baseline"}})
	if err != nil {
		t.Fatal(err)
	}
	history := `
{"kind":"incident","id":"h1","service":"api","severity":"P3","opened_at":"2026-02-01T00:00:00Z","resolved_at":"2026-02-01T02:00:00Z"}
{"kind":"incident","id":"h2","service":"api","severity":"P3","opened_at":"2026-02-05T00:00:00Z","resolved_at":"2026-02-05T01:00:00Z"}
{"kind":"incident","id":"h3","service":"web","severity":"P3","opened_at":"2026-02-07T00:00:00Z","resolved_at":"2026-02-07T02:00:00Z"}
`
	ds := load(t, metrics.DefaultConfig(), org+history)
	d, err := Detail(cat, ds, "mttr", Options{AsOf: asOf}, "service", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Card; c.Status != catalog.Green || c.Baseline == nil || !approx(*c.Baseline, 2) {
		t.Errorf("organisation = %s %s, baseline %s (%q); want 2 green against baseline 2", show(c.Value), c.Status, show(c.Baseline), c.Reason)
	}
	lines := map[string]BreakdownLine{}
	for _, l := range d.Breakdown {
		lines[l.Key] = l
	}
	if l := lines["api"]; l.Status != catalog.Green {
		t.Errorf("api = %+v, want green (1.25 against its baseline 1.5)", l)
	}
	if l := lines["web"]; l.Status != catalog.Red {
		t.Errorf("web = %+v, want red (3 against its baseline 2: above 1.3 × 2)", l)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "Thresholds: green ≤ baseline, amber ≤ 1.3 × baseline, red above\nBaseline: 2 h") {
		t.Errorf("text does not state the baseline:\n%s", text)
	}
	// Without history there is nothing to judge by: unknown, with the reason; the value stays.
	d, err = Detail(cat, load(t, metrics.DefaultConfig(), org), "mttr", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Card; c.Value == nil || c.Status != catalog.Unknown || !strings.HasPrefix(c.Reason, "no baseline: ") {
		t.Errorf("no history = %s %s (%q), want the value shown, unknown: no baseline", show(c.Value), c.Status, c.Reason)
	}
	// mttr_baseline shows mttr's status, as it is judged by it.
	sc := Build(cat, ds, Options{AsOf: asOf})
	if b := card(t, sc, "mttr_baseline"); b.Status != catalog.Green || !approx(*b.Value, 2) {
		t.Errorf("mttr_baseline card = %s %s, want 2 showing mttr's green", show(b.Value), b.Status)
	}
}
