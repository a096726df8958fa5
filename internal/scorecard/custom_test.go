package scorecard_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

const customMTTR = `custom_metrics:
  - id: major_incident_recovery
    name: Major incident recovery
    pillar: reliability
    description: Median hours from opening to resolution of the P0 to P2 incidents resolved in the window.
    owner: Head of SRE
    unit: hours
    better: lower
    thresholds: {green: 4, amber: 12}
    kind: incident
    time: resolved_at
    filter: severity in ["P0", "P1", "P2"]
    value: hours(resolved_at.value() - opened_at)
    aggregate: median
`

// loadCustom loads a configuration and builds its catalog and a dataset of generated data under it.
func loadCustom(t *testing.T, yaml string, end time.Time) (*catalog.Catalog, *metrics.Dataset) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "candor.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	mc, err := c.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cat, generated(t, mc, end)
}

// generated is a dataset of generated data under cfg.
func generated(t *testing.T, cfg metrics.Config, end time.Time) *metrics.Dataset {
	t.Helper()
	ds := metrics.NewDataset(cfg)
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: 0.02, End: end}, func(r domain.Record) { ds.Apply(r, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	ds.Prepare()
	return ds
}

// SPEC §3: an organisation-defined metric is first-class — card, status by its thresholds, trend,
// weekly series, breakdown, drill-down to its records and the same citation as a built-in.
func TestCustomMetricCard(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cat, ds := loadCustom(t, customMTTR, end)
	m, ok := cat.Metric("major_incident_recovery")
	if !ok {
		t.Fatal("the catalog lacks the custom metric")
	}
	// As of 2 September the generated incidents are fresh (the newest is hours old), and the window
	// holds five major incidents resolved: enough for a status under the default min_sample of 5.
	opt := scorecard.Options{AsOf: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC), Window: 90 * 24 * time.Hour}
	c := scorecard.Evaluate(ds, m, opt, metrics.Scope{}, true)
	if c.Value == nil || c.Count == 0 || c.Status == catalog.Unknown || len(c.Series) != scorecard.SeriesPoints || c.Cites == nil {
		t.Fatalf("card = value %v, n %d, status %s (%s), %d points, cites %v", c.Value, c.Count, c.Status, c.Reason, len(c.Series), c.Cites)
	}
	if want := m.Judge(catalog.JudgeInput{Value: c.Value}); c.Status != want {
		t.Errorf("status %s, want %s for %v", c.Status, want, *c.Value)
	}
	d, err := scorecard.Detail(cat, ds, m.ID, opt, "team", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.RecordsTotal != c.Count || len(d.Breakdown) == 0 {
		t.Fatalf("drill-down: %d records for n = %d, %d breakdown lines", d.RecordsTotal, c.Count, len(d.Breakdown))
	}
	for _, r := range d.Records {
		if r.Kind != domain.KindIncident || r.Value == nil {
			t.Fatalf("record %+v: want an incident with its hours", r)
		}
	}
	// Another computation is another formula version: the citation tells the two apart.
	_, ds2 := loadCustom(t, strings.Replace(customMTTR, "aggregate: median", "aggregate: mean", 1), end)
	c2 := scorecard.Evaluate(ds2, m, opt, metrics.Scope{}, false)
	if c2.Cites == nil || c2.Cites.Formula == c.Cites.Formula || c2.Cites.Settings == c.Cites.Settings {
		t.Errorf("citations %+v and %+v: a changed definition must cite differently", c.Cites, c2.Cites)
	}
}

// A value is compared with the window before only when both were computed alike: after an
// approved change of an organisation's metric's computation, the card says why there is no
// trend instead of calling the change's effect better or worse (and gives no previous value, so
// a digest's week-over-week change or an alert on a change of the value does not fire on it).
func TestTrendAcrossAComputationChange(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	opt := scorecard.Options{AsOf: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC), Window: 90 * 24 * time.Hour}
	// The window before holds 3 major incidents: enough to compare under a min_sample of 3 (under
	// the default 5 there is no trend for too few cases, TestNoTrendFromTooFewCases).
	def := strings.Replace(customMTTR, "    aggregate: median\n", "    aggregate: median\n    min_sample: 3\n", 1)
	cat, ds := loadCustom(t, def, end)
	m, _ := cat.Metric("major_incident_recovery")
	same := scorecard.Evaluate(ds, m, opt, metrics.Scope{}, false)
	if same.Trend.NotComparable != "" || same.Trend.Previous == nil {
		t.Fatalf("one computation throughout: trend %+v, want a comparison", same.Trend)
	}

	// The mean replaces the median between the window before and this one.
	_, mean := loadCustom(t, strings.Replace(def, "aggregate: median", "aggregate: mean", 1), end)
	cfg := mean.Config()
	cfg.UseCustom(metrics.CustomVersions([]metrics.CustomVersion{
		{Set: ds.Config().CustomSet()},
		{From: opt.AsOf.Add(-time.Hour), Set: mean.Config().CustomSet()},
	}))
	changed := generated(t, cfg, end)
	c := scorecard.Evaluate(changed, m, opt, metrics.Scope{}, true)
	if c.Value == nil || c.Trend.Previous != nil || c.Trend.Direction != "" || !strings.Contains(c.Trend.NotComparable, "computation changed") {
		t.Fatalf("across the change: value %s, trend %+v; want a value and no comparison, saying why", show(c.Value), c.Trend)
	}
	// The weekly series: only the last week is computed by the mean, and only it says so.
	for i, p := range c.Series {
		if last := i == len(c.Series)-1; (p.NotComparable != "") != last || p.Recomputed != last {
			t.Errorf("week ending %s: not comparable %q, recomputed %v", p.End.Format(time.DateOnly), p.NotComparable, p.Recomputed)
		}
	}
	d, err := scorecard.Detail(cat, changed, m.ID, opt, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if text := scorecard.DetailText(d, scorecard.TextOptions{}); !strings.Contains(text, "no trend (the computation changed since the window before") {
		t.Errorf("the drill-down's text does not say why there is no trend:\n%s", text)
	}
}

func show(v *float64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// An organisation's metric over the quota period (span: quota_period) is
// computed over it, and its trend follows the quota metrics' rule: a
// window before in the period before is not compared, nor one earlier in
// the same period (it covered less of it). Judged by absolute thresholds,
// it is not said to accumulate (a mean deal size need not), nor to divide
// by the quota left, as pipeline coverage's reason had said of it.
func TestCustomMetricOverTheQuotaPeriod(t *testing.T) {
	const meanDeal = `custom_metrics:
  - id: mean_won_deal
    name: Mean won deal this quota period
    pillar: growth
    description: Mean amount of the opportunities won in the quota period holding as_of, up to as_of.
    owner: CRO
    unit: currency
    better: higher
    thresholds: {green: 1000, amber: 500}
    min_sample: 0
    kind: opportunity
    time: closed_at
    filter: won
    value: amount
    aggregate: mean
    span: quota_period
`
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cat, ds := loadCustom(t, meanDeal, end)
	m, _ := cat.Metric("mean_won_deal")
	for _, c := range []struct {
		asOf, from time.Time
		says       string
	}{
		{time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
			"the window before falls in another period (from 1 Jul 2026): the value starts again with each period"},
		{time.Date(2026, 9, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "it covers the quota period so far: "},
	} {
		card := scorecard.Evaluate(ds, m, scorecard.Options{AsOf: c.asOf}, metrics.Scope{}, false)
		if p := card.Detail.PeriodStart; card.Value == nil || p == nil || !p.Equal(c.from) {
			t.Errorf("as of %s: %s over the period from %v; want a value over the quarter from %s", c.asOf.Format("2 Jan"), scorecard.FormatValue(card.Value, card.Unit, ""), p, c.from.Format("2 Jan"))
		}
		if card.Trend.Direction != "" || !strings.HasPrefix(card.Trend.NotComparable, c.says) {
			t.Errorf("as of %s: trend %+v; want none, saying %q", c.asOf.Format("2 Jan"), card.Trend, c.says)
		}
	}
}

// An organisation's metric in money states its thresholds in the
// organisation's currency, as its target and value are: `candor metric`
// had said "green ≥ 300000 (currency)" beside "Target: 300,000 EUR".
func TestCustomMoneyThresholdsInCurrency(t *testing.T) {
	const won = `currency: EUR
exchange_rates: {USD: 0.9}
custom_metrics:
  - id: won_bookings
    name: Bookings won
    pillar: growth
    description: Sum of the amounts of the opportunities closed won in the window.
    owner: CRO
    unit: currency
    better: higher
    target: 300000
    thresholds: {green: 300000, amber: 200000}
    kind: opportunity
    time: closed_at
    filter: won
    value: amount
    aggregate: sum
`
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cat, ds := loadCustom(t, won, end)
	d, err := scorecard.Detail(cat, ds, "won_bookings", scorecard.Options{AsOf: end}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	text := scorecard.DetailText(d, scorecard.TextOptions{Currency: "EUR"})
	if want := "Thresholds: green ≥ 300,000 EUR, amber ≥ 200,000 EUR, red below\n"; !strings.Contains(text, want) {
		t.Errorf("candor metric does not say %q:\n%s", want, text)
	}
}
