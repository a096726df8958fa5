package scorecard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"
)

// newCustomers is n customers (named prefix1…) whose first subscription starts
// on the given day and the n−1 days after it.
func newCustomers(prefix string, from time.Time, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"kind":"subscription","id":"%s%d","customer":"%s%d","started_at":%q,"mrr":100}`+"\n",
			prefix, i+1, prefix, i+1, from.Add(time.Duration(i)*day).Format(time.RFC3339))
	}
	return b.String()
}

// cacSpend is sales spend over both the window and the window before.
const cacSpend = `{"kind":"spend","id":"sp1","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","category":"sales","amount":9000}
`

// SPEC §4: a value resting on too few cases is shown with its n but judged
// by nothing — no colour, and no trend either: CAC from 2 new customers
// against CAC from 1 is noise, not "better". The card gives no previous
// value, so the pages, the API, the digest's week-over-week change and the
// board pack (all read Card.Trend) show no arrow and no delta, and say why.
func TestNoTrendFromTooFewCases(t *testing.T) {
	cat := defaultCatalog(t)
	few := cacSpend + newCustomers("a", time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC), 1) +
		newCustomers("b", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), 2)
	c := card(t, Build(cat, load(t, metrics.DefaultConfig(), few), Options{AsOf: asOf}), "cac")
	if c.Value == nil || c.Count != 2 {
		t.Fatalf("cac = %s from n = %d, want a value from 2 new customers", show(c.Value), c.Count)
	}
	want := "too few cases in this window (n = 2) and the window before (n = 1), needs 5"
	if c.Trend.Direction != "" || c.Trend.Assessment != "" || c.Trend.Previous != nil || c.Trend.NotComparable != want || c.Trend.Short != "too few cases" {
		t.Errorf("cac's trend from too few cases = %+v, want none, saying %q", c.Trend, want)
	}
	if text := trendText(c.Trend); !strings.Contains(text, "no trend") {
		t.Errorf("text trend = %q, want no trend", text)
	}
	if line := cardLine(c, TextOptions{}); !strings.Contains(line, "not compared: too few cases") {
		t.Errorf("candor scorecard's line does not say why there is no trend: %q", line)
	}

	// Enough cases now, too few before: still no comparison.
	c = card(t, Build(cat, load(t, metrics.DefaultConfig(), cacSpend+newCustomers("a", time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC), 1)+
		newCustomers("b", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), 5)), Options{AsOf: asOf}), "cac")
	if want := "too few cases in the window before (n = 1, needs 5)"; c.Trend.Direction != "" || c.Trend.NotComparable != want || c.Trend.Short != "too few cases before" {
		t.Errorf("cac's trend against a window before of too few cases = %+v, want none, saying %q", c.Trend, want)
	}

	// Enough in both: compared (9000 over 30 days ÷ 5 against 29 days' ÷ 6, up: worse).
	c = card(t, Build(cat, load(t, metrics.DefaultConfig(), cacSpend+newCustomers("a", time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC), 6)+
		newCustomers("b", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), 5)), Options{AsOf: asOf}), "cac")
	if c.Trend.Previous == nil || c.Trend.Direction != "up" || c.Trend.Assessment != "worse" || c.Trend.NotComparable != "" || c.Trend.Short != "" {
		t.Errorf("cac's trend with enough cases = %+v, want up, worse", c.Trend)
	}
}

// Stale data is never judged: its trend neither (a feed that stopped
// three days ago makes this window's deployments fewer, not worse).
func TestNoTrendOnStaleData(t *testing.T) {
	data := `
{"kind":"deployment","id":"p1","service":"api","environment":"production","finished_at":"2026-02-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p2","service":"api","environment":"production","finished_at":"2026-02-20T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-28T00:00:00Z","status":"success"}
`
	c := card(t, Build(handCatalog(t), load(t, metrics.DefaultConfig(), data), Options{AsOf: asOf.Add(2 * day)}), "deployment_frequency")
	if !c.Freshness.Stale || c.Value == nil {
		t.Fatalf("deployment_frequency: stale %v, value %s; want a stale value", c.Freshness.Stale, show(c.Value))
	}
	if c.Trend.Direction != "" || c.Trend.Previous != nil || !strings.Contains(c.Trend.NotComparable, "no deployment data since") || c.Trend.Short != "stale data" {
		t.Errorf("trend on stale data = %+v, want none, naming the stale source", c.Trend)
	}
	// candor scorecard writes the reason's time as it writes "data as of".
	if line := cardLine(c, TextOptions{}); !strings.Contains(line, "no deployment data since 2026-03-28 00:00") {
		t.Errorf("candor scorecard's line writes the reason's time otherwise: %q", line)
	}
}

// twoQuarters are ann's quotas for the first two quarters of 2026 and
// the two deals she won in the first, 400 of its 1,000.
const twoQuarters = `
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"quota","id":"q2","owner":"ann","period_start":"2026-04-01T00:00:00Z","period_end":"2026-07-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"o1","owner":"ann","stage":"won","created_at":"2026-01-05T00:00:00Z","closed_at":"2026-01-20T00:00:00Z","won":true,"amount":100}
{"kind":"opportunity","id":"o2","owner":"ann","stage":"won","created_at":"2026-02-05T00:00:00Z","closed_at":"2026-03-10T00:00:00Z","won":true,"amount":300}
`

// Quota attainment accumulates through its period and is judged against the
// share of it gone: 10 % won by 1 March and 40 % by 31 March is the quarter
// going on, not sales getting better, and the first days of the next quarter
// against the last of this one are not worse. No trend, saying why.
func TestNoTrendOfAttainmentAcrossItsPeriod(t *testing.T) {
	data := twoQuarters + `
{"kind":"opportunity","id":"o3","owner":"ann","stage":"won","created_at":"2026-03-05T00:00:00Z","closed_at":"2026-04-05T00:00:00Z","won":true,"amount":50}
{"kind":"opportunity","id":"o4","owner":"ann","stage":"proposal","created_at":"2026-03-30T12:00:00Z","amount":70}
{"kind":"opportunity","id":"o5","owner":"ann","stage":"proposal","created_at":"2026-04-09T12:00:00Z","amount":70}
`
	ds := load(t, metrics.DefaultConfig(), data)
	cat := defaultCatalog(t)
	c := card(t, Build(cat, ds, Options{AsOf: asOf}), "quota_attainment")
	if c.Value == nil || !approx(*c.Value, 40) {
		t.Fatalf("quota_attainment = %s, want 40 %%", show(c.Value))
	}
	if c.Trend.Direction != "" || c.Trend.Previous != nil || !strings.Contains(c.Trend.NotComparable, "accumulates through the period") || c.Trend.Short != "it builds through its period" {
		t.Errorf("attainment's trend within its period = %+v, want none, saying it accumulates", c.Trend)
	}
	c = card(t, Build(cat, ds, Options{AsOf: time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)}), "quota_attainment")
	if c.Trend.Direction != "" || !strings.Contains(c.Trend.NotComparable, "another period (from 1 Jan 2026)") {
		t.Errorf("attainment's trend across periods = %+v, want none, naming the period before", c.Trend)
	}
}

// SPEC §4: the Growth pillar shows where revenue data exists. An
// organisation that sends none (engineering only) reads once that none has
// been sent — on the page, in the API, in text and in the board pack — not
// a row of cards each unknown for "never sent" as if it were measured; the
// pillar stays unknown, never green.
func TestGrowthWithoutRevenueData(t *testing.T) {
	sc := build(t, org)
	p := pillar(t, sc, "growth")
	want := "No revenue data has been sent: no subscription, opportunity, quota, spend, lead and target records."
	if p.NoData != want || p.Status == "green" {
		t.Errorf("growth without revenue data: %s, no data %q; want unknown, saying %q", p.Status, p.NoData, want)
	}
	if d := pillar(t, sc, "delivery"); d.NoData != "" {
		t.Errorf("delivery, with deployments, says %q", d.NoData)
	}
	text := Text(sc, TextOptions{})
	if !strings.Contains(text, want) || strings.Contains(text, "Annual recurring revenue") {
		t.Errorf("the text scorecard does not say once that no revenue data has been sent:\n%s", text)
	}
	// One subscription is revenue data: the pillar shows its cards.
	sc = build(t, org+`{"kind":"subscription","id":"s1","customer":"c1","started_at":"2026-01-05T00:00:00Z","mrr":100}`)
	if p := pillar(t, sc, "growth"); p.NoData != "" {
		t.Errorf("growth with a subscription says %q", p.NoData)
	}
}

// Pipeline coverage divides the open pipeline by the quota still to win,
// which shrinks as the period's deals are won: the same 1,200 of pipeline
// covers 900 left on 1 March 1.33 times and 600 left on 31 March twice.
// That rise is the quarter going on (on the demo it climbed every week of
// a quarter, 1.53× to 6.43×, and fell back with the next), so it is not
// called better, and a window before in another period is another quota.
func TestNoTrendOfPipelineCoverageAcrossItsPeriod(t *testing.T) {
	data := twoQuarters + `
{"kind":"opportunity","id":"o6","owner":"ann","stage":"proposal","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-01T00:00:00Z","close_date":"2026-03-31","amount":1200}
{"kind":"opportunity","id":"o7","owner":"ann","stage":"proposal","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-01T00:00:00Z","close_date":"2026-04-20","amount":1500}
{"kind":"opportunity","id":"o8","owner":"ann","stage":"lead","created_at":"2026-03-30T12:00:00Z","amount":70}
{"kind":"opportunity","id":"o9","owner":"ann","stage":"lead","created_at":"2026-04-09T12:00:00Z","amount":70}
`
	ds := load(t, metrics.DefaultConfig(), data)
	cat := defaultCatalog(t)
	c := card(t, Build(cat, ds, Options{AsOf: asOf}), "pipeline_coverage")
	if c.Value == nil || !approx(*c.Value, 2) || c.Status != "amber" {
		t.Fatalf("pipeline_coverage = %s %s, want 2× amber", show(c.Value), c.Status)
	}
	want := "it divides by the quota still to win, which shrinks as the period's deals are won: 90 % of the quota was left at the window before, 60 % now"
	if c.Trend.Direction != "" || c.Trend.Previous != nil || !strings.Contains(c.Trend.NotComparable, want) || c.Trend.Short != "the quota left shrinks" {
		t.Errorf("coverage's trend within its period = %+v, want none, saying %q", c.Trend, want)
	}
	c = card(t, Build(cat, ds, Options{AsOf: time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)}), "pipeline_coverage")
	if c.Value == nil || c.Trend.Direction != "" || !strings.Contains(c.Trend.NotComparable, "another period (from 1 Jan 2026): it divides by that period's quota") {
		t.Errorf("coverage's trend across periods = %s %+v, want none, naming the period before", show(c.Value), c.Trend)
	}
}

// The weekly series, and the degrading flag drawn from it, compare what the
// card's trend compares, no more. Pipeline coverage under 1× falls as
// deals are won — 600 of pipeline against 1,000 of quota is 0.6×, and
// winning 100 of it leaves 500 against 900, 0.56× — so three weeks each
// with a deal won had read "degrading" (an alert, an escalation) where the
// card says the multiple is not compared within its period; nor is a week
// of the next quarter compared with the last of this one.
func TestNoDegradingOfCoverageWithinOrAcrossItsPeriod(t *testing.T) {
	data := `
{"kind":"quota","id":"q3","owner":"ann","period_start":"2026-07-01T00:00:00Z","period_end":"2026-10-01T00:00:00Z","amount":1000}
{"kind":"quota","id":"q4","owner":"ann","period_start":"2026-10-01T00:00:00Z","period_end":"2027-01-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"x6","owner":"ann","stage":"lead","created_at":"2026-09-22T12:00:00Z","amount":10}
{"kind":"opportunity","id":"x7","owner":"ann","stage":"lead","created_at":"2026-10-06T12:00:00Z","amount":10}
{"kind":"opportunity","id":"x4","owner":"ann","stage":"proposal","created_at":"2026-07-01T00:00:00Z","qualified_at":"2026-07-01T00:00:00Z","close_date":"2026-09-30","amount":300}
{"kind":"opportunity","id":"x5","owner":"ann","stage":"proposal","created_at":"2026-09-01T00:00:00Z","qualified_at":"2026-09-01T00:00:00Z","close_date":"2026-11-30","amount":200}
`
	// One deal of 100 won each week, from the third quarter's pipeline.
	for i, won := range []string{"2026-09-08", "2026-09-15", "2026-09-22"} {
		data += fmt.Sprintf(`{"kind":"opportunity","id":"x%d","owner":"ann","stage":"won","created_at":"2026-07-01T00:00:00Z","qualified_at":"2026-07-01T00:00:00Z","close_date":"2026-09-30","closed_at":"%sT00:00:00Z","won":true,"amount":100}`+"\n", i+1, won)
	}
	ds := load(t, metrics.DefaultConfig(), data)
	cat := defaultCatalog(t)
	c := card(t, Build(cat, ds, Options{AsOf: time.Date(2026, 9, 23, 0, 0, 0, 0, time.UTC)}), "pipeline_coverage")
	n := len(c.Series)
	if n < 4 || c.Value == nil || !approx(*c.Value, 300.0/700) || c.Series[n-4].Value == nil || !approx(*c.Series[n-4].Value, 0.6) {
		t.Fatalf("pipeline_coverage = %s, 3 weeks before %v; want 0.43× from 0.6×", show(c.Value), c.Series)
	}
	want := "it divides by the quota still to win, which shrinks as the period's deals are won: 90 % of the quota was left at the week before, 80 % now"
	if c.Degrading || !strings.HasPrefix(c.Series[n-2].NotComparable, want) {
		t.Errorf("coverage over weeks each with a deal won: degrading %v, the week before's point says %q; want not degrading, saying %q",
			c.Degrading, c.Series[n-2].NotComparable, want)
	}
	// 7 October's week against 30 September's: another quarter's quota.
	c = card(t, Build(cat, ds, Options{AsOf: time.Date(2026, 10, 7, 0, 0, 0, 0, time.UTC)}), "pipeline_coverage")
	n = len(c.Series)
	if want := "the week before falls in another period (from 1 Jul 2026): it divides by that period's quota"; c.Series[n-1].NotComparable != want {
		t.Errorf("coverage's first week of a quarter says %q; want %q", c.Series[n-1].NotComparable, want)
	}
	// That week starts a new period, so a chart breaks its line there
	// (and only there), and the CLI's weekly line says so.
	for i, p := range c.Series {
		if p.NewPeriod != (i == n-1) {
			t.Errorf("week %d (ending %s): NewPeriod %v", i, p.End.Format(time.DateOnly), p.NewPeriod)
		}
	}
	d, err := Detail(cat, ds, "pipeline_coverage", Options{AsOf: time.Date(2026, 10, 7, 0, 0, 0, 0, time.UTC)}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, " | new period: ") {
		t.Errorf("the weekly line does not mark the new period:\n%s", text)
	}
}
