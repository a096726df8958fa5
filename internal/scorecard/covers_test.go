package scorecard

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// Every span the catalog allows is worded in every place that says what a
// value covers, each in words of its own: a span worded as a window would
// tell a reader the value covers 30 days when it is a state or a cohort.
func TestEverySpanWordedEverywhere(t *testing.T) {
	all := append([]string{catalog.SpanWindow}, catalog.Spans...)
	if got := slices.Sorted(maps.Keys(spans)); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Fatalf("spans worded %q, the catalog's %q", got, all)
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	window := spans[catalog.SpanWindow]
	for _, span := range all {
		label, page := Covers(span, "30d", at)
		trend, week, column := TrendCovers(span, "30d", false), WeekCovers(span, "7d"), ColumnCovers(span, "30d")
		if label == "" || page == "" || trend == "" || week == "" || column == "" {
			t.Errorf("span %q: label %q, page %q, trend %q, week %q, column %q", span, label, page, trend, week, column)
		}
		if span == catalog.SpanWindow {
			continue
		}
		if label == window.label || trend == window.trend("30d", "the figure above") || week == window.week("7d") || strings.HasPrefix(page, "30d ending") || column == window.column("30d") {
			t.Errorf("span %q is worded as a window: %q %q / %q / %q / %q", span, label, page, trend, week, column)
		}
	}
	if _, got := Covers(catalog.SpanBeforeWindow, "30d", at); got != "the 90 days before 21 Oct 2026 09:30 UTC, where the 30d window starts" {
		t.Errorf("baseline: %q", got)
	}
	if !WeekCoversUsual(WeekCovers(catalog.SpanWindow, "7d")) || WeekCoversUsual(WeekCovers(catalog.SpanInstant, "7d")) {
		t.Error("WeekCoversUsual does not tell the digest's usual week from a state's")
	}
}

// A window that is exactly a calendar month names it, the window and its
// end still said; one a day short, or ending mid-day, does not.
func TestCoversNamesACalendarMonth(t *testing.T) {
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		window string
		at     time.Time
		want   string
	}{
		{"31d", nov1, "October 2026 (31d ending 1 Nov 2026 00:00 UTC)"},
		{"30d", nov1, "30d ending 1 Nov 2026 00:00 UTC"},
		{"31d", nov1.Add(time.Hour), "31d ending 1 Nov 2026 01:00 UTC"},
		{"28d", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "February 2026 (28d ending 1 Mar 2026 00:00 UTC)"},
	} {
		if _, got := Covers(catalog.SpanWindow, tt.window, tt.at); got != tt.want {
			t.Errorf("Covers(%s, %s) = %q, want %q", tt.window, tt.at, got, tt.want)
		}
	}
	// A state is not a month's: it is the state at the page's time.
	if _, got := Covers(catalog.SpanInstant, "31d", nov1); strings.Contains(got, "October") {
		t.Errorf("a state's words name a month: %q", got)
	}
}

// A month's trend compares with the window as long before it (SPEC §3),
// which is not the month before: the words give its dates, and say so; a
// state's is the state at the month's start. A rolling window keeps "the
// 30 days before", and a state's is as of that long before, not "in" it.
func TestTrendBeforeAMonth(t *testing.T) {
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		span, window string
		asOf         time.Time
		want         string
	}{
		{catalog.SpanWindow, "31d", nov1, "in 31 Aug – 30 Sep 2026, the 31 days before October 2026, not September"},
		{catalog.SpanWindow, "28d", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "in 4 Jan – 31 Jan 2026, the 28 days before February 2026, not January"},
		// December and July are as long as the month after them: the
		// window before January is December, and the trend says so, where
		// it had said "not December" of December's own dates.
		{catalog.SpanWindow, "31d", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "in 1 Dec – 31 Dec 2025, the 31 days before January 2026: December"},
		{catalog.SpanWindow, "31d", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), "in 1 Jul – 31 Jul 2026, the 31 days before August 2026: July"},
		{catalog.SpanWindow, "30d", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "in 2 Oct – 31 Oct 2026, the 30 days before November 2026, not October"},
		{catalog.SpanInstant, "31d", nov1, "at 1 Oct 2026 00:00 UTC, the month's start"},
		{catalog.SpanYear, "31d", nov1, "at 1 Oct 2026 00:00 UTC, the month's start"},
		{catalog.SpanWindow, "30d", nov1, "in the 30 days before"},
		{catalog.SpanInstant, "30d", nov1, "30 days before"},
		{catalog.SpanWindow, "31d", nov1.Add(time.Hour), "in the 31 days before"},
	} {
		if got := TrendBefore(tt.span, tt.window, tt.asOf); got != tt.want {
			t.Errorf("TrendBefore(%q, %s, %s) = %q, want %q", tt.span, tt.window, tt.asOf.Format(time.RFC3339), got, tt.want)
		}
	}
}

// `candor metric --month` says what its trend compares with as the page
// does: by the dates, not "previous window" under a month's name.
func TestDetailTextTrendOfAMonth(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), `{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-02-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-03-31T20:00:00Z","status":"success"}
`)
	march := catalog.Month{Year: 2026, Month: time.March}
	d, err := Detail(cat, ds, "deployment_frequency", Options{AsOf: march.End(), Window: march.Window()}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Trend.Previous == nil {
		t.Fatalf("no trend to word: %+v", d.Card.Trend)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "in 29 Jan – 28 Feb 2026, the 31 days before March 2026, not February)") || strings.Contains(text, "previous window") {
		t.Errorf("the text does not give the dates its trend compares with:\n%s", text)
	}
	d, _ = Detail(cat, ds, "deployment_frequency", Options{AsOf: march.End(), Window: 30 * 24 * time.Hour}, "", metrics.Scope{})
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "(previous window ") {
		t.Errorf("a 30-day window's text does not say previous window:\n%s", text)
	}
}

// A quarter's last month read as of its end is read over the next quota
// period, which starts then, while its board pack reports the one it
// closes: the words say so, and only then.
func TestMonthOpensPeriod(t *testing.T) {
	oct1 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	starts := metrics.Detail{PeriodStart: &oct1}
	want := "it starts at that instant, so nothing of it has gone yet; the period September 2026 closes is the one the month's board pack reports (candor report board --month 2026-09), and a closing read gives (--closing, closing=1)"
	if got := MonthOpensPeriod(catalog.SpanQuotaPeriod, "30d", oct1, starts); got != want {
		t.Errorf("September: %q, want %q", got, want)
	}
	for _, tt := range []struct {
		name, span, window string
		asOf               time.Time
	}{
		{"October, mid-period", catalog.SpanQuotaPeriod, "31d", nov1},
		{"a rolling window", catalog.SpanQuotaPeriod, "7d", oct1},
		{"a window metric", catalog.SpanWindow, "30d", oct1},
	} {
		if got := MonthOpensPeriod(tt.span, tt.window, tt.asOf, starts); got != "" {
			t.Errorf("%s: %q, want nothing", tt.name, got)
		}
	}
	if got := MonthOpensPeriod(catalog.SpanQuotaPeriod, "30d", oct1, metrics.Detail{}); got != "" {
		t.Errorf("no period: %q", got)
	}
}

// `candor metric quota_attainment --month 2026-03` says it as the page does.
func TestDetailTextOfAMonthOpeningAPeriod(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), `{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"quota","id":"q2","owner":"ann","period_start":"2026-04-01T00:00:00Z","period_end":"2026-07-01T00:00:00Z","amount":1000}
`)
	march := catalog.Month{Year: 2026, Month: time.March}
	d, err := Detail(cat, ds, "quota_attainment", Options{AsOf: march.End(), Window: march.Window()}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "Period: the quota period 1 Apr 2026 – 30 Jun 2026, up to 1 Apr 2026 00:00 UTC: it starts at that instant") {
		t.Errorf("the text does not say the period starts at the month's end:\n%s", text)
	}
}

// `candor view` says the month its MRR bridge spans.
func TestBridgeSpan(t *testing.T) {
	if got := BridgeSpan("31d", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); got != "in October 2026" {
		t.Errorf("October: %q", got)
	}
	if got := BridgeSpan("30d", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); got != "over 30d" {
		t.Errorf("30 days: %q", got)
	}
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), `{"kind":"subscription","id":"s1","customer":"c1","started_at":"2026-01-10T00:00:00Z","mrr":100}
{"kind":"subscription","id":"s2","customer":"c2","started_at":"2026-02-10T00:00:00Z","mrr":50}
`)
	feb := catalog.Month{Year: 2026, Month: time.February}
	vr, err := View(cat, ds, "ceo", Options{AsOf: feb.End(), Window: feb.Window()})
	if err != nil {
		t.Fatal(err)
	}
	if text := ViewText(vr, TextOptions{}); !strings.Contains(text, "MRR bridge in February 2026: 100 USD at the window's start") {
		t.Errorf("the CEO view's text does not name February 2026 for its bridge:\n%s", text)
	}
}

// A value as of before its definition's effective date says the version
// applies then too (the store keeps no earlier one); on or after, not.
func TestEffectiveWordsBeforeTheVersion(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), `{"kind":"service","id":"api","name":"API","team":"core"}
`)
	// Any built-in definition with a date of its own (budget variance's v2, 2026-12-01, today).
	var m catalog.Metric
	for _, x := range cat.Metrics {
		if x.Effective != catalog.FromTheStart && x.Effective != "" && !x.Custom {
			m = x
			break
		}
	}
	if m.ID == "" {
		t.Fatal("no built-in definition has an effective date: make one in a test catalog instead")
	}
	from, err := time.Parse(time.DateOnly, m.Effective)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		asOf   time.Time
		before bool
	}{{from.AddDate(0, -1, 0), true}, {from.Add(-time.Second), true}, {from, true}, {from.Add(time.Second), false}, {from.AddDate(0, 0, 5), false}} {
		d, err := Detail(cat, ds, m.ID, Options{AsOf: tt.asOf}, "", metrics.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		words := d.EffectiveWords()
		if got := strings.Contains(words, "no earlier version is kept"); got != tt.before || !strings.HasPrefix(words, "effective "+m.Effective) {
			t.Errorf("as of %s: %q", tt.asOf, words)
		}
		if text := DetailText(d, TextOptions{}); strings.Contains(text, "no earlier version is kept") != tt.before {
			t.Errorf("as of %s: candor metric's first line does not follow: %q", tt.asOf, strings.SplitN(text, "\n", 2)[0])
		}
	}
}

// Funnel conversion's value is a cohort's — the leads created a window's
// length ending a maturation lag before as_of, followed to as_of — and its
// page, trend header and trend had said it covers "30d ending" as_of, "the
// figure above covers 30 days" and "vs 0 % in the 30 days before", none of
// which it does: the words name the cohort, and the value it is compared
// with is the one as of 30 days before (the cohort before).
func TestFunnelWordedAsACohort(t *testing.T) {
	m, ok := defaultCatalog(t).Metric("funnel_conversion")
	if !ok {
		t.Fatal("no funnel_conversion")
	}
	at := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	label, page := Covers(m.Span, "30d", at)
	trend, before := TrendCovers(m.Span, "30d", false), TrendBefore(m.Span, "30d", at)
	if strings.HasPrefix(page, "30d ending") || !strings.Contains(page, "leads created") || label == "Window" {
		t.Errorf("the page says the value covers %s %q", label, page)
	}
	if strings.Contains(trend, "covers 30 days") || !strings.Contains(trend, "leads created") {
		t.Errorf("the trend header says %q", trend)
	}
	if before != "30 days before" {
		t.Errorf("the trend compares with %q, want the value 30 days before", before)
	}
}

// Security incidents count the 90 days before as_of whatever the window
// (SPEC §3): a month's page, a week's trend point and the digest's week had
// each said the value covered them (November's page: 2 incidents, none of
// them in November).
func TestNinetyDaysWordedAsTheirOwn(t *testing.T) {
	m, ok := defaultCatalog(t).Metric("security_incidents_90d")
	if !ok {
		t.Fatal("no security_incidents_90d")
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, page := Covers(m.Span, "30d", at); page != "the 90 days ending 1 Dec 2026 00:00 UTC (the definition's 90 days, whatever the window)" {
		t.Errorf("a 30-day reading says it covers %q", page)
	}
	if _, page := Covers(m.Span, "90d", at); page != "the 90 days ending 1 Dec 2026 00:00 UTC" {
		t.Errorf("its own window says it covers %q", page)
	}
	if trend := TrendCovers(m.Span, "90d", false); !strings.Contains(trend, "each point the 90 days to its week's end") {
		t.Errorf("the trend header says %q", trend)
	}
	if week := WeekCovers(m.Span, "7d"); week != "over the 90 days to the week's end" {
		t.Errorf("the digest's week says %q", week)
	}
	if col := ColumnCovers(m.Span, "31d"); col != "90d" {
		t.Errorf("the board pack's column says %q", col)
	}
}

// A card's weekly line says what its points cover by the metric's span: it
// had said "one week's value" of open vulnerabilities' states, NRR's
// cohorts and the security incidents' 90 days alike.
func TestSeriesCovers(t *testing.T) {
	for _, c := range []struct{ span, want string }{
		{catalog.SpanWindow, "each point one week's value; the figure beside it covers 30 days"},
		{catalog.SpanInstant, "each point the state at its week's end; the figure beside it is the state at the page's time"},
		{catalog.SpanNinetyDays, "each point the 90 days to its week's end; the figure beside it, the 90 days to the page's time"},
	} {
		card := Card{Window: "30d", span: c.span}
		if got := card.SeriesCovers(); got != c.want {
			t.Errorf("span %q: %q, want %q", c.span, got, c.want)
		}
	}
}
