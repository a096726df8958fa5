package scorecard

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// Every role view of the built-in catalog renders, with all its metrics in
// the catalog's order, each broken down by the view's dimension.
func TestEveryView(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	sc := Build(cat, ds, Options{AsOf: asOf})
	if len(cat.Views) < 7 {
		t.Fatalf("catalog has %d views, want the 7 of SPEC §4", len(cat.Views))
	}
	for _, v := range cat.Views {
		t.Run(v.ID, func(t *testing.T) {
			vr, err := View(cat, ds, v.ID, Options{AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			if vr.ID != v.ID || vr.Name != v.Name || vr.Description != v.Description || !vr.AsOf.Equal(asOf) || vr.Window != "30d" {
				t.Errorf("header = %s %q %q %v %s", vr.ID, vr.Name, vr.Description, vr.AsOf, vr.Window)
			}
			var ids []string
			worst, valued := catalog.Green, false
			for _, m := range vr.Metrics {
				ids = append(ids, m.Card.ID)
				worst = catalog.Worst(worst, m.Card.Status)
				valued = valued || m.Card.Value != nil
				// The card is the scorecard's card.
				want := card(t, sc, m.Card.ID)
				if show(m.Card.Value) != show(want.Value) || m.Card.Status != want.Status || m.Card.Reason != want.Reason ||
					show(m.Card.Trend.Previous) != show(want.Trend.Previous) || m.Card.Trend.Assessment != want.Trend.Assessment {
					t.Errorf("%s: view card %s %s, scorecard %s %s", m.Card.ID, show(m.Card.Value), m.Card.Status, show(want.Value), want.Status)
				}
				if len(m.Card.Series) != SeriesPoints {
					t.Errorf("%s: %d series points, want %d", m.Card.ID, len(m.Card.Series), SeriesPoints)
				}
				if m.By != v.Breakdowns[m.Card.ID] {
					t.Errorf("%s: by %q, want the view's %q", m.Card.ID, m.By, v.Breakdowns[m.Card.ID])
				}
				if m.By == "" && m.Breakdown != nil {
					t.Errorf("%s: breakdown lines without a dimension", m.Card.ID)
				}
			}
			if !slices.Equal(ids, v.Metrics) {
				t.Errorf("metrics = %v, want %v", ids, v.Metrics)
			}
			if !valued {
				worst = catalog.Unknown
			}
			if vr.Status != worst {
				t.Errorf("view status = %s, want the worst of its metrics, %s", vr.Status, worst)
			}
			text := ViewText(vr, TextOptions{})
			if !strings.Contains(text, v.Name+" view as of 2026-03-31T00:00:00Z") {
				t.Errorf("text header:\n%s", text)
			}
			for _, id := range v.Metrics {
				m, _ := cat.Metric(id)
				if !strings.Contains(text, m.Name) {
					t.Errorf("text lacks %s", m.Name)
				}
			}
			for _, dim := range v.Breakdowns {
				if !strings.Contains(text, "by "+dim+":") {
					t.Errorf("text lacks the breakdown by %s:\n%s", dim, text)
				}
			}
			if strings.Contains(text, "\x1b") {
				t.Errorf("text has ANSI escapes without colour")
			}
			if _, err := json.Marshal(vr); err != nil {
				t.Errorf("JSON: %v", err)
			}
		})
	}
}

func TestViewValues(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	vr, err := View(cat, ds, "engineering", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	lines := func(id string) map[string]BreakdownLine {
		for _, m := range vr.Metrics {
			if m.Card.ID == id {
				out := map[string]BreakdownLine{}
				for _, l := range m.Breakdown {
					out[l.Key] = l
				}
				return out
			}
		}
		t.Fatalf("no %s in the view", id)
		return nil
	}
	// change_failure_rate by service: api 2 of 4 failed, web shipped nothing.
	cfr := lines("change_failure_rate")
	if l := cfr["api"]; l.Value == nil || *l.Value != 50 || l.Status != catalog.Red || l.Count != 4 {
		t.Errorf("change_failure_rate api = %+v (%s), want 50 %% red over 4", l, show(l.Value))
	}
	if l, ok := cfr["web"]; !ok || l.Value != nil || l.Status != catalog.Unknown {
		t.Errorf("change_failure_rate web = %+v, want a line with no value, unknown", l)
	}
	// deployment_frequency by team: core 3 in 30 days; growth never sent a
	// deployment, so it has no count at all (SPEC §4), not 0.
	df := lines("deployment_frequency")
	if l := df["core"]; l.Value == nil || !approx(*l.Value, 0.1) || l.Status != catalog.Red {
		t.Errorf("deployment_frequency core = %s %s, want 0.1 red", show(l.Value), l.Status)
	}
	if l := df["growth"]; l.Value != nil || l.Status != catalog.Unknown {
		t.Errorf("deployment_frequency growth = %s %s, want no value, unknown", show(l.Value), l.Status)
	}
	// The view carries the window through to every card and line.
	vr, err = View(cat, ds, "engineering", Options{AsOf: asOf, Window: 7 * day})
	if err != nil {
		t.Fatal(err)
	}
	if vr.Window != "7d" || vr.Metrics[0].Card.ID != "deployment_frequency" || vr.Metrics[0].Card.Window != "7d" {
		t.Errorf("7d view: window %s, first card %s window %s", vr.Window, vr.Metrics[0].Card.ID, vr.Metrics[0].Card.Window)
	}
	for _, l := range vr.Metrics[0].Breakdown {
		if l.Key == "core" && (l.Value == nil || !approx(*l.Value, 1.0/7)) {
			t.Errorf("7d deployment_frequency core = %s, want 1/7 (d4 only)", show(l.Value))
		}
	}

	// JSON: the card under "metric", like a drill-down.
	b, _ := json.Marshal(vr)
	var doc struct {
		ID      string `json:"id"`
		Metrics []struct {
			Metric    struct{ ID string } `json:"metric"`
			By        string              `json:"by"`
			Breakdown []struct{ Key string }
		} `json:"metrics"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.ID != "engineering" || doc.Metrics[0].Metric.ID != "deployment_frequency" ||
		doc.Metrics[0].By != "team" || len(doc.Metrics[0].Breakdown) != 2 {
		t.Errorf("JSON = %s (%v)", clipJSON(b), err)
	}
}

func clipJSON(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "…"
	}
	return string(b)
}

func TestViewUnknownRole(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	_, err := View(cat, ds, "cfo", Options{AsOf: asOf})
	var ue *UnknownViewError
	if !errors.As(err, &ue) || ue.ID != "cfo" {
		t.Fatalf("err = %v, want an UnknownViewError for cfo", err)
	}
	for _, v := range cat.Views {
		if !strings.Contains(err.Error(), v.ID) {
			t.Errorf("error %q does not name the known view %s", err, v.ID)
		}
	}
	if fmt.Sprint(ue.Known) != fmt.Sprint(ViewIDs(cat)) {
		t.Errorf("known = %v", ue.Known)
	}
}

// Views are data: a view added to the catalog (as an organisation's would
// be) renders without code, a judged metric shows its judge's status in
// the view and in each line, and a metric without a computation yet is
// shown unknown rather than failing the view.
func TestViewFromCatalogData(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	m := cat.Metrics[0]
	m.ID, m.Name = "not_yet", "Not yet"
	cat.Metrics = append(cat.Metrics, m)
	cat.Views = append(cat.Views, catalog.View{
		ID: "finance", Name: "Finance", Metrics: []string{"infrastructure_cost", "not_yet"},
		Breakdowns: map[string]string{"infrastructure_cost": "category", "not_yet": "service"},
	})
	vr, err := View(cat, ds, "finance", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	cost, nyet := vr.Metrics[0], vr.Metrics[1]
	if cost.Card.Status != catalog.Amber || cost.By != "category" || len(cost.Breakdown) == 0 {
		t.Errorf("infrastructure_cost = %s by %q with %d lines, want amber (budget_variance) by category", cost.Card.Status, cost.By, len(cost.Breakdown))
	}
	for _, l := range cost.Breakdown {
		if l.Status != catalog.Amber {
			t.Errorf("infrastructure_cost %s line = %s, want amber", l.Key, l.Status)
		}
	}
	if nyet.Card.Status != catalog.Unknown || nyet.Card.Reason != "not computed yet" || nyet.Breakdown != nil {
		t.Errorf("not_yet = %s %q with %d lines, want unknown, not computed yet, no lines", nyet.Card.Status, nyet.Card.Reason, len(nyet.Breakdown))
	}
	// The pillar rule: the unknown metric counts as amber, and is named.
	if vr.Status != catalog.Amber || len(vr.Unknown) != 1 || vr.Unknown[0] != (UnknownMetric{ID: "not_yet", Reason: "not computed yet"}) {
		t.Errorf("view status = %s, unknown %+v; want amber (amber and an unknown), naming not_yet", vr.Status, vr.Unknown)
	}
	// A view naming a metric the catalog lacks is an error, not a panic.
	cat.Views = append(cat.Views, catalog.View{ID: "broken", Name: "Broken", Metrics: []string{"ghost"}})
	if _, err := View(cat, ds, "broken", Options{AsOf: asOf}); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Errorf("view with an unknown metric: err = %v", err)
	}
}

// The text view bounds the lines it lists and says where the rest are.
func TestViewTextBoundsLines(t *testing.T) {
	vr := &ViewResult{ID: "x", Name: "X", Status: catalog.Green, Metrics: []ViewMetric{{
		Card: Card{ID: "change_failure_rate", Name: "Change failure rate", Unit: "%", Status: catalog.Green}, By: "service",
	}}}
	for i := range maxViewLines + 5 {
		v := float64(i)
		vr.Metrics[0].Breakdown = append(vr.Metrics[0].Breakdown, BreakdownLine{Key: fmt.Sprintf("svc%02d", i), Value: &v, Status: catalog.Green})
	}
	text := ViewText(vr, TextOptions{})
	// The worst eight and the best seven; the five between are left out,
	// and the line saying so stands where they would.
	if !strings.Contains(text, "svc07") || strings.Contains(text, "svc08") || strings.Contains(text, "svc12") || !strings.Contains(text, "svc13") ||
		!strings.Contains(text, "svc07 ") || !regexp.MustCompile(`svc07[^\n]*\n +… 5 more between these \(candor metric change_failure_rate --by service\)\n +svc13`).MatchString(text) {
		t.Errorf("text:\n%s", text)
	}
}

// The text view lists a long breakdown as the role view's page does: red,
// amber, then the worst and the best values, at most maxViewLines of them.
// It had listed the first lines alphabetically, so a red line late in the
// alphabet was cut ("… 2 more") — and on the VP Marketing view two of the
// demo's seventeen campaigns, one of the three that converted.
func TestViewTextListsWorstFirst(t *testing.T) {
	vr := &ViewResult{ID: "x", Name: "X", Status: catalog.Red, Metrics: []ViewMetric{{
		Card: Card{ID: "funnel_conversion", Name: "Funnel conversion", Unit: "%", Better: "higher", Status: catalog.Green}, By: "campaign",
	}}}
	for i := range maxViewLines + 2 {
		v := float64(10 + i)
		vr.Metrics[0].Breakdown = append(vr.Metrics[0].Breakdown, BreakdownLine{Key: fmt.Sprintf("c%02d", i), Value: &v, Status: catalog.Green, Count: 20})
	}
	red := 50.0
	vr.Metrics[0].Breakdown = append(vr.Metrics[0].Breakdown, BreakdownLine{Key: "zz-red", Value: &red, Status: catalog.Red, Count: 20})
	text := ViewText(vr, TextOptions{})
	i, j := strings.Index(text, "zz-red"), strings.Index(text, "c00")
	if i < 0 || j < 0 || i > j {
		t.Errorf("the red line is not listed first:\n%s", text)
	}
	// Past the red line the room goes to the worst seven and the best seven
	// (the campaigns that convert best), the middle three left out.
	for _, k := range []string{"c06", "c10", "c16"} {
		if !strings.Contains(text, k) {
			t.Errorf("%s is not listed:\n%s", k, text)
		}
	}
	if strings.Contains(text, "c07") || strings.Contains(text, "c09") || !strings.Contains(text, "… 3 more between these") {
		t.Errorf("the cut is not of the middle values:\n%s", text)
	}
}
