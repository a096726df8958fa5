package scorecard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"
)

// costData is two months of cost and budget: November's bill whole, and
// December's to date, reported up to 5 Dec 00:00 (a day's cost arrives
// once the day has ended).
const costData = `
{"kind":"cost","id":"oct","period_start":"2026-10-01T00:00:00Z","period_end":"2026-11-01T00:00:00Z","amount":3100}
{"kind":"cost","id":"nov","period_start":"2026-11-01T00:00:00Z","period_end":"2026-12-01T00:00:00Z","amount":3000}
{"kind":"cost","id":"dec","period_start":"2026-12-01T00:00:00Z","period_end":"2026-12-05T00:00:00Z","amount":400}
{"kind":"budget","id":"b","period_start":"2026-10-01T00:00:00Z","period_end":"2027-01-01T00:00:00Z","amount":9200}
{"kind":"deployment","id":"d1","service":"api","environment":"production","status":"success","started_at":"2026-11-20T09:00:00Z","finished_at":"2026-11-20T09:10:00Z"}
`

// A window that ends after the newest cost sums only what is reported:
// the card says so and how far (known problem: infrastructure cost
// drifting down by the minute, shown as "better" with nothing said). The
// trend and the weekly points are compared as SPEC §4 defines them: a daily
// cost feed leaves the window short at every hour but midnight, and not
// comparing then left cost metrics with no trend and no degrading flag.
func TestPartialWindowIsSaid(t *testing.T) {
	ds := load(t, metrics.DefaultConfig(), costData)
	cat := handCatalog(t)
	at := time.Date(2026, 12, 5, 9, 17, 0, 0, time.UTC)
	sc := Build(cat, ds, Options{AsOf: at})

	for _, id := range []string{"infrastructure_cost", "cost_trend", "budget_variance"} {
		c := card(t, sc, id)
		p := c.Partial
		if p == nil || p.Kind != "cost" || !p.Until.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)) || p.Short != "9 h 17 min" || p.ShortSeconds != (9*60+17)*60 {
			t.Fatalf("%s: partial = %+v, want cost to 5 Dec 00:00, 9 h 17 min short", id, p)
		}
		if c.Trend.NotComparable != "" || c.Trend.Previous == nil || c.Trend.Direction == "" {
			t.Errorf("%s: trend %+v, want compared with the window before", id, c.Trend)
		}
		last := c.Series[len(c.Series)-1]
		if last.Partial == nil || last.Partial.Short != "9 h 17 min" || last.NotComparable != "" {
			t.Errorf("%s: the last week %+v, want partial by 9 h 17 min and compared", id, last)
		}
		for _, pt := range c.Series[:len(c.Series)-1] {
			if pt.Partial != nil || pt.NotComparable != "" {
				t.Errorf("%s: the week ending %s is marked partial (%+v)", id, pt.End, pt)
			}
		}
	}
	// The value itself is SPEC §3's: the cost reported so far.
	ic := card(t, sc, "infrastructure_cost")
	start := at.Add(-30 * 24 * time.Hour)
	want := 3000*float64(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Sub(start))/float64(30*24*time.Hour) + 400
	if ic.Value == nil || !approx(*ic.Value, want) {
		t.Errorf("infrastructure cost %s, want %v", show(ic.Value), want)
	}
	// Silent for longer than the window, the cost is short of all of it,
	// not of more than the window.
	late := Build(cat, ds, Options{AsOf: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)})
	if p := card(t, late, "infrastructure_cost").Partial; p == nil || p.Short != "30 days" || p.ShortSeconds != 30*86400 {
		t.Errorf("two months after the last cost: partial %+v, want 30 days short", p)
	}
	// A metric that sums no period kind is never partial, and compared.
	if df := card(t, sc, "deployment_frequency"); df.Partial != nil || df.Trend.NotComparable != "" {
		t.Errorf("deployment frequency: partial %+v, trend %+v", df.Partial, df.Trend)
	}

	// At the cost's end the window is whole and compared with the one before.
	whole := Build(cat, ds, Options{AsOf: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)})
	if c := card(t, whole, "infrastructure_cost"); c.Partial != nil || c.Trend.NotComparable != "" || c.Trend.Direction == "" {
		t.Errorf("at the data's end: partial %+v, trend %+v", c.Partial, c.Trend)
	}
	// A period still open at as_of (December's bill to date, as one
	// record running to the month's end) reaches as_of: not partial.
	open := load(t, metrics.DefaultConfig(), strings.Replace(costData, `"period_end":"2026-12-05T00:00:00Z"`, `"period_end":"2027-01-01T00:00:00Z"`, 1))
	if c := card(t, Build(cat, open, Options{AsOf: at}), "infrastructure_cost"); c.Partial != nil || c.Trend.NotComparable != "" {
		t.Errorf("an open period: partial %+v, trend %+v", c.Partial, c.Trend)
	}

	// The text drill-down says until when.
	d, err := Detail(cat, ds, "infrastructure_cost", Options{AsOf: at}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if txt := DetailText(d, TextOptions{}); !strings.Contains(txt, "Reported: cost data to 2026-12-05T00:00:00Z; the window's last 9 h 17 min are not reported yet") || !strings.Contains(txt, "(partial)") {
		t.Errorf("the text drill-down does not say how far the cost is reported:\n%s", txt)
	}
}

func TestShortWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second:                "1 min",
		17 * time.Minute:                "17 min",
		time.Hour:                       "1 h",
		9*time.Hour + 17*time.Minute:    "9 h 17 min",
		24 * time.Hour:                  "1 day",
		4*24*time.Hour + 9*time.Hour:    "4 days 9 h",
		4*24*time.Hour + 59*time.Minute: "4 days",
	} {
		if got := shortWords(d); got != want {
			t.Errorf("shortWords(%v) = %q, want %q", d, got, want)
		}
	}
}

// Cost rising week on week is degrading at any hour, its last week short
// of the hours not yet reported: the partial window is said, not left out
// of the comparison (a review found the flag could then never fire for a
// daily cost feed but at midnight).
func TestPartialWeekStillDegrades(t *testing.T) {
	var b strings.Builder
	// From 1 October: the window before as_of's is covered whole.
	first := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 65; d++ {
		day := first.AddDate(0, 0, d)
		fmt.Fprintf(&b, `{"kind":"cost","id":"c%d","period_start":%q,"period_end":%q,"amount":%d}`+"\n",
			d, day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339), 100*(1+d/7))
	}
	ds := load(t, metrics.DefaultConfig(), b.String())
	cat := handCatalog(t)
	for _, at := range []time.Time{time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 9, 17, 0, 0, time.UTC)} {
		c := card(t, Build(cat, ds, Options{AsOf: at}), "infrastructure_cost")
		if !c.Degrading || c.Trend.Assessment != "worse" {
			t.Errorf("as of %s: degrading %v, trend %+v; want degrading and worse", at.Format(time.RFC3339), c.Degrading, c.Trend)
		}
	}
}

// A window before whose data of a summed kind begins inside it is not
// compared: a year of cost had been "worse" than 13 hours of it.
func TestTrendNotAgainstAWindowTheDataBeganIn(t *testing.T) {
	var b strings.Builder
	first := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 35; d++ {
		day := first.AddDate(0, 0, d)
		fmt.Fprintf(&b, `{"kind":"cost","id":"c%d","period_start":%q,"period_end":%q,"amount":100}`+"\n",
			d, day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339))
	}
	ds := load(t, metrics.DefaultConfig(), b.String())
	c := card(t, Build(handCatalog(t), ds, Options{AsOf: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}), "infrastructure_cost")
	if want := "the window before holds cost data only from 31 Oct 2026 00:00 UTC, 5 days of its 30 days"; c.Trend.NotComparable != want || c.Trend.Direction != "" {
		t.Errorf("trend %+v, want not comparable: %q", c.Trend, want)
	}
	// Covered from its start: compared.
	c = card(t, Build(handCatalog(t), ds, Options{AsOf: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), Window: 7 * 24 * time.Hour}), "infrastructure_cost")
	if c.Trend.NotComparable != "" || c.Trend.Direction == "" {
		t.Errorf("7-day trend %+v, want compared", c.Trend)
	}
}

// A window after a billing feed's last change: new MRR and churn sum over
// it what subscriptions' changes make, and nothing changed in it. Their
// values and statuses stand (SPEC §4: a state kind is never stale by its
// records' times); the card says the newest change came before the
// window (known problem: "0 USD" red with nothing said). A window holding
// a change says nothing.
func TestQuietStateKindIsSaid(t *testing.T) {
	data := `
{"kind":"subscription","id":"s1","customer":"acme","plan":"pro","mrr":100,"started_at":"2026-06-01T00:00:00Z"}
{"kind":"subscription","id":"s2","customer":"beta","plan":"pro","mrr":50,"started_at":"2026-11-24T00:00:00Z"}
`
	ds := load(t, metrics.DefaultConfig(), data)
	cat := defaultCatalog(t)
	at := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	c := card(t, Build(cat, ds, Options{AsOf: at, Window: 7 * 24 * time.Hour}), "mrr_new")
	if q := c.Quiet; q == nil || q.Kind != "subscription" || !q.Newest.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("new MRR over 7 days after the last change: quiet = %+v", q)
	}
	if c.Value == nil || *c.Value != 0 {
		t.Errorf("new MRR = %s, want 0 (SPEC §3, unchanged)", show(c.Value))
	}
	d, err := Detail(cat, ds, "mrr_new", Options{AsOf: at, Window: 7 * 24 * time.Hour}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "Changes: no subscription record changed in the window; the newest change is from 2026-11-24T00:00:00Z") {
		t.Errorf("candor metric's text:\n%s", text)
	}
	if c := card(t, Build(cat, ds, Options{AsOf: at}), "mrr_new"); c.Quiet != nil {
		t.Errorf("a 30-day window holding the change is said quiet: %+v", c.Quiet)
	}
	if c := card(t, Build(cat, ds, Options{AsOf: at, Window: 7 * 24 * time.Hour}), "mrr"); c.Quiet != nil {
		t.Errorf("MRR, a state at as_of, is said quiet: %+v", c.Quiet)
	}
}
