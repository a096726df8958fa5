package scorecard

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// The example on the hand-computed org: change failure rate by
// service under team:core lists core's service only (web belongs to
// growth), and the line's deployments are the team's.
func TestDetailBreakdownUnderScope(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	d, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "service", metrics.Scope{Dim: "team", Value: "core"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Breakdown) != 1 || d.Breakdown[0].Key != "api" || d.Breakdown[0].Count != d.Card.Count || d.Card.Count != 4 {
		t.Errorf("team core by service = %+v (card n = %d), want the one line api over the team's 4 deployments", d.Breakdown, d.Card.Count)
	}
	text := DetailText(d, TextOptions{})
	if !strings.Contains(text, "Scope: team = core") || strings.Contains(text, "  web ") {
		t.Errorf("detail text:\n%s", text)
	}
}

// SPEC §4: an unknown scope value is an error naming the known values, not
// an empty result.
func TestDetailUnknownScopeValue(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	_, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "service", metrics.Scope{Dim: "team", Value: "nonexistent"})
	var de *DimensionError
	if !errors.As(err, &de) || de.Param != "scope" || de.Unknown == nil {
		t.Fatalf("err = %v, want a DimensionError on scope for an unknown value", err)
	}
	for _, want := range []string{`"nonexistent"`, "core", "growth"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

var generated = sync.OnceValues(func() (*metrics.Dataset, error) {
	ds := metrics.NewDataset(metrics.DefaultConfig())
	_, err := generate.Records(generate.Options{Seed: 9, Scale: 0.01, End: genEnd, Days: 120}, func(r domain.Record) { ds.Apply(r, time.Time{}) })
	ds.Prepare()
	return ds, err
})

var genEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// Every metric, under a scope on every dimension it supports and broken
// down by every dimension it supports, on generated data: the drill-down's
// lines are the scope's (their counts add up to the card's), every unknown
// line says why, and an unknown value of every dimension is an error
// naming the known ones. The table comes from the registry, so a new metric
// or dimension cannot skip it (see metrics.TestBreakdownUnderScope for the
// records behind each line).
func TestDetailScopeEveryDimension(t *testing.T) {
	ds, err := generated()
	if err != nil {
		t.Fatal(err)
	}
	cat := defaultCatalog(t)
	opt := Options{AsOf: genEnd}
	checked := 0
	for _, id := range metrics.IDs() {
		for _, sd := range metrics.Dims(id) {
			_, err := Detail(cat, ds, id, opt, "", metrics.Scope{Dim: sd, Value: "no-such-" + sd})
			var de *DimensionError
			if !errors.As(err, &de) || de.Param != "scope" || de.Unknown == nil || len(de.Unknown.Known) == 0 ||
				!strings.Contains(err.Error(), de.Unknown.Known[0]) {
				t.Errorf("%s scope %s:no-such-%s: err = %v, want an error on scope naming the known values", id, sd, sd, err)
			}
			vals := ds.DimValues(sd)
			if len(vals) == 0 {
				t.Errorf("%s: no %s values in the generated data", id, sd)
				continue
			}
			scope := metrics.Scope{Dim: sd, Value: vals[len(vals)/2]}
			for _, by := range metrics.Dims(id) {
				d, err := Detail(cat, ds, id, opt, by, scope)
				if err != nil {
					t.Fatalf("%s by %s under %s: %v", id, by, scope, err)
				}
				checked++
				sum := 0
				for _, l := range d.Breakdown {
					sum += l.Count
					if l.Status == catalog.Unknown && l.Reason == "" {
						t.Errorf("%s by %s under %s: line %s is unknown without a reason", id, by, scope, l.Key)
					}
				}
				if sum != d.Card.Count {
					t.Errorf("%s by %s under %s: lines add up to %d, the card has %d", id, by, scope, sum, d.Card.Count)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d drill-downs checked", checked)
	}
}

// revenue: two customers new in W (first subscriptions 03-10 and 03-20)
// and 6,000 of marketing spend over exactly W. CAC = 3,000; their mean
// first MRR is 75, × 0.8 gross margin = 60: payback 50 months, red were it
// judged — but it rests on 2 new customers.
const revenue = `
{"kind":"subscription","id":"s1","customer":"c1","plan":"pro","mrr":100,"started_at":"2026-03-10T00:00:00Z"}
{"kind":"subscription","id":"s2","customer":"c2","plan":"basic","mrr":50,"started_at":"2026-03-20T00:00:00Z"}
{"kind":"spend","id":"sp1","category":"marketing","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":6000}
`

// SPEC §4 sample size: below min_sample the value is still shown, with n,
// but the status is unknown with the reason — on the card, on each
// breakdown line and on each weekly point.
func TestMinSample(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	sc := Build(cat, ds, Options{AsOf: asOf})
	c := card(t, sc, "change_failure_rate")
	if c.Value == nil || *c.Value != 50 || c.Count != 4 || c.Status != catalog.Unknown || c.Reason != "too few cases (n = 4, needs 5)" {
		t.Errorf("change_failure_rate = %s n=%d %s (%q), want 50 shown, unknown: too few cases (n = 4, needs 5)", show(c.Value), c.Count, c.Status, c.Reason)
	}
	// A DORA level is a judgement: four deployments earn none.
	if c.DORALevel != "" {
		t.Errorf("change_failure_rate DORA level %q from 4 deployments", c.DORALevel)
	}
	// Counts need no sample: 1 P0/P1 incident is amber.
	if c := card(t, sc, "incidents_p0_p1"); c.Status != catalog.Amber {
		t.Errorf("incidents_p0_p1 = %s (%q), want amber", c.Status, c.Reason)
	}
	last := c.Series[len(c.Series)-1]
	if last.Value == nil || last.Count == 0 || last.Reason != fmt.Sprintf("too few cases (n = %d, needs 5)", last.Count) {
		t.Errorf("last weekly point = %+v, want a value with its n and the too-few reason", last)
	}
	if !strings.Contains(Text(sc, TextOptions{}), "too few cases (n = 4, needs 5)") {
		t.Error("the scorecard text does not say too few cases")
	}

	d, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "service", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range d.Breakdown {
		if l.Key == "api" && (l.Status != catalog.Unknown || l.Reason != "too few cases (n = 4, needs 5)") {
			t.Errorf("api line = %+v, want unknown: too few cases", l)
		}
		// Pages group such lines by Needs, not by their text.
		if few := l.Reason == fmt.Sprintf("too few cases (n = %d, needs 5)", l.Count); few != (l.Needs == 5) || !few && l.Needs != 0 {
			t.Errorf("%s line: reason %q, Needs %d", l.Key, l.Reason, l.Needs)
		}
	}
	text := DetailText(d, TextOptions{})
	if !strings.Contains(text, "(n = ") {
		t.Errorf("weekly points resting on too few cases do not show n:\n%s", text)
	}

	// An organisation that accepts 4 deployments gets its red.
	over, err := cat.Apply(map[string]catalog.Override{"change_failure_rate": {MinSample: whole(4)}})
	if err != nil {
		t.Fatal(err)
	}
	if c := card(t, Build(over, ds, Options{AsOf: asOf}), "change_failure_rate"); c.Status != catalog.Red {
		t.Errorf("with min_sample 4: %s (%q), want red", c.Status, c.Reason)
	}

	// The CEO view's CAC payback from 2 new customers.
	ds = load(t, metrics.DefaultConfig(), revenue)
	vr, err := View(cat, ds, "ceo", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range vr.Metrics {
		if m.Card.ID != "cac_payback_months" {
			continue
		}
		if m.Card.Value == nil || !approx(*m.Card.Value, 50) || m.Card.Status != catalog.Unknown || m.Card.Reason != "too few cases (n = 2, needs 5)" {
			t.Errorf("CEO view CAC payback = %s %s (%q), want 50 months, unknown: too few cases (n = 2, needs 5)", show(m.Card.Value), m.Card.Status, m.Card.Reason)
		}
	}
}

func whole(n int) *catalog.WholeNumber {
	w := catalog.WholeNumber(n)
	return &w
}

// SPEC §4: a breakdown line is judged by the organisation's thresholds
// where they are absolute (TestDetail: change failure rate of core is red),
// and is unknown, "no target set", where the metric is judged against a
// target — the organisation's target is not a plan's — unless a `target`
// record names the line. The reason says whose the target beside it is
// (release impact's service, as high as the organisation judged green
// against 34, had read as a contradiction of it: "no target set").
func TestBreakdownLineTarget(t *testing.T) {
	const noOwn = "no target set: 200 USD is the organisation's target, and a plan is judged only against a target of its own"
	cat, err := defaultCatalog(t).Apply(map[string]catalog.Override{"mrr": {Target: ptr(200)}})
	if err != nil {
		t.Fatal(err)
	}
	data := revenue + `{"kind":"target","id":"t1","metric":"mrr","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":90,"scope":"plan:pro"}`
	ds := load(t, metrics.DefaultConfig(), data)
	d, err := Detail(cat, ds, "mrr", Options{AsOf: asOf}, "plan", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	// The organisation: 150 against 200 is red.
	if d.Card.Status != catalog.Red {
		t.Errorf("mrr = %s %s (%q), want red against the target 200", show(d.Card.Value), d.Card.Status, d.Card.Reason)
	}
	lines := map[string]BreakdownLine{}
	for _, l := range d.Breakdown {
		lines[l.Key] = l
	}
	if l := lines["pro"]; l.Status != catalog.Green {
		t.Errorf("pro = %+v, want green against its own target 90", l)
	}
	if l := lines["basic"]; l.Value == nil || *l.Value != 50 || l.Status != catalog.Unknown || l.Reason != noOwn {
		t.Errorf("basic = %+v, want 50 shown, unknown: %s", l, noOwn)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "UNKNOWN  (n = 1)  "+noOwn) {
		t.Errorf("the text line does not give the reason:\n%s", text)
	}
	b, _ := json.Marshal(d.Breakdown)
	if !strings.Contains(string(b), `"reason":"`+noOwn+`"`) {
		t.Errorf("breakdown JSON %s lacks the reason", b)
	}
	// The same holds for a scope: plan basic has no target of its own.
	d, err = Detail(cat, ds, "mrr", Options{AsOf: asOf}, "", metrics.Scope{Dim: "plan", Value: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Status != catalog.Unknown || d.Card.Reason != noOwn || d.Card.Target != nil {
		t.Errorf("scope plan:basic = %s (%q) target %v, want unknown, %s", d.Card.Status, d.Card.Reason, d.Card.Target, noOwn)
	}
	// Without a target anywhere the reason is SPEC's, alone.
	ds = load(t, metrics.DefaultConfig(), revenue)
	d, err = Detail(defaultCatalog(t), ds, "mrr", Options{AsOf: asOf}, "plan", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range d.Breakdown {
		if l.Reason != "no target set" {
			t.Errorf("%s = %+v, want unknown: no target set", l.Key, l)
		}
	}
}

// Release impact's organisation target from a `target` record (the
// demo's 34): a service's line, with no target of its own, names it as
// the organisation's rather than reading "no target set" beside an
// organisation judged against it.
func TestBreakdownLineOrgTargetRecord(t *testing.T) {
	data := revenue + `{"kind":"target","id":"t1","metric":"mrr","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":120}`
	ds := load(t, metrics.DefaultConfig(), data)
	d, err := Detail(defaultCatalog(t), ds, "mrr", Options{AsOf: asOf}, "plan", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Target == nil || *d.Card.Target != 120 || d.Card.Status != catalog.Green {
		t.Fatalf("mrr = %s %s target %v, want green against the record's 120", show(d.Card.Value), d.Card.Status, show(d.Card.Target))
	}
	const want = "no target set: 120 USD is the organisation's target, and a plan is judged only against a target of its own"
	for _, l := range d.Breakdown {
		if l.Status != catalog.Unknown || l.Reason != want {
			t.Errorf("%s = %s (%q), want unknown: %s", l.Key, l.Status, l.Reason, want)
		}
	}
}

// A scope written with an environment alias means the canonical
// environment, as the breakdown names it: environment:prod is production.
func TestDetailScopeByEnvironmentAlias(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	canon, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "", metrics.Scope{Dim: "environment", Value: "production"})
	if err != nil {
		t.Fatal(err)
	}
	alias, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "", metrics.Scope{Dim: "environment", Value: "Prod"})
	if err != nil {
		t.Fatalf("environment:Prod: %v", err)
	}
	if canon.Card.Count == 0 || alias.Card.Count != canon.Card.Count || alias.Scope == nil || alias.Scope.Value != "production" {
		t.Errorf("environment:Prod = n %d scope %+v, environment:production n %d", alias.Card.Count, alias.Scope, canon.Card.Count)
	}
}

// An empty denominator is a sample of none: SPEC §4's "too few cases"
// with n = 0, not a vaguer "no value".
func TestEmptyDenominatorIsTooFew(t *testing.T) {
	sc := Build(defaultCatalog(t), load(t, metrics.DefaultConfig(), org), Options{AsOf: asOf})
	c := card(t, sc, "deployment_duration") // no deployment has started_at
	if c.Status != catalog.Unknown || c.Reason != "too few cases (n = 0, needs 5)" {
		t.Errorf("deployment_duration = %s %q, want unknown: too few cases (n = 0, needs 5)", c.Status, c.Reason)
	}
}

// The drill-down states thresholds as the catalog guide does, not as raw
// floats ("amber 0.14285714285714285").
func TestDetailThresholdsInWords(t *testing.T) {
	d, err := Detail(defaultCatalog(t), load(t, metrics.DefaultConfig(), org), "deployment_frequency", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	text := DetailText(d, TextOptions{})
	if !strings.Contains(text, "Thresholds: green ≥ 1 deploys/day, amber ≥ 1/7 deploys/day, red below") {
		t.Errorf("thresholds line:\n%s", text)
	}
}
