package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// poppler finds a poppler-utils tool; CANDOR_REQUIRE_POPPLER=1 (CI) makes
// its absence a failure rather than a skip.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CANDOR_REQUIRE_POPPLER") == "1" {
			t.Fatalf("%s not found (Debian poppler-utils) and CANDOR_REQUIRE_POPPLER=1", tool)
		}
		t.Skipf("%s not found (Debian poppler-utils)", tool)
	}
	return p
}

func TestParseMonth(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if m, err := ParseMonth("", now); err != nil || !m.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("default month = %v, %v; want November, the last complete one", m, err)
	}
	if m, _ := ParseMonth("", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)); m.Format("2006-01") != "2025-12" {
		t.Errorf("default in January = %v", m)
	}
	if _, err := ParseMonth("2026-13", now); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
		t.Errorf("bad month: %v", err)
	}
	// A month not over is refused, the current one and any later one.
	for _, m := range []string{"2026-12", "2027-06"} {
		if _, err := ParseMonth(m, now); err == nil || !strings.Contains(err.Error(), "has not ended") || !strings.Contains(err.Error(), "a board pack reports a whole month: "+m+" has not ended") || !strings.Contains(err.Error(), "such as 2026-11") {
			t.Errorf("%s as of %s: %v, want it refused as not ended", m, now, err)
		}
	}
	if m, err := ParseMonth("2026-11", now); err != nil || m.Format("2006-01") != "2026-11" {
		t.Errorf("November, ended at midnight: %v, %v", m, err)
	}
}

// A board pack's figures are the calendar month's: a metric defined over
// 30 days is taken over the month's own days (31 for October), one with a
// window of another length over its own; the scorecard page says so.
func TestBoardPackCalendarMonth(t *testing.T) {
	f := newFixture(t)
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var b *Board
	err := f.svc.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
		b = BuildBoard(f.svc.Catalog, ds, month, nil, nil, "USD", asOf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string]string{}
	for _, p := range b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			windows[c.ID] = c.Window
		}
	}
	if windows["change_failure_rate"] != "31d" || windows["security_incidents_90d"] != "90d" {
		t.Fatalf("windows: change failure rate %q, security incidents %q; want 31d (October) and 90d (its own)", windows["change_failure_rate"], windows["security_incidents_90d"])
	}
	if b.monthSpan() != "1–31 October 2026" || b.days() != 31 {
		t.Errorf("the month is said to be %q, %d days", b.monthSpan(), b.days())
	}
}

// sales is a third quarter's quota and deals, and the fourth's quota and
// pipeline: alice's Q3 quota of 1,000 is 90 % won (600 in August, 300 on
// 30 September), 200 still open due in Q3 — a coverage of 200 ÷ 100 = 2 ×;
// her Q4 quota is 1,200, with 3,600 due in it and nothing won by 1 October.
const sales = `{"kind":"quota","id":"q3","owner":"alice","period_start":"2026-07-01T00:00:00Z","period_end":"2026-10-01T00:00:00Z","amount":1000,"currency":"USD"}
{"kind":"quota","id":"q4","owner":"alice","period_start":"2026-10-01T00:00:00Z","period_end":"2027-01-01T00:00:00Z","amount":1200,"currency":"USD"}
{"kind":"opportunity","id":"w1","owner":"alice","stage":"won","created_at":"2026-07-02T00:00:00Z","qualified_at":"2026-07-03T00:00:00Z","closed_at":"2026-08-14T10:00:00Z","won":true,"close_date":"2026-08-14","amount":600,"currency":"USD"}
{"kind":"opportunity","id":"w2","owner":"alice","stage":"won","created_at":"2026-08-01T00:00:00Z","qualified_at":"2026-08-02T00:00:00Z","closed_at":"2026-09-30T18:00:00Z","won":true,"close_date":"2026-09-30","amount":300,"currency":"USD"}
{"kind":"opportunity","id":"p1","owner":"alice","stage":"negotiation","created_at":"2026-08-10T00:00:00Z","qualified_at":"2026-08-11T00:00:00Z","close_date":"2026-09-30","amount":200,"currency":"USD"}
{"kind":"opportunity","id":"p2","owner":"alice","stage":"proposal","created_at":"2026-09-01T00:00:00Z","qualified_at":"2026-09-02T00:00:00Z","close_date":"2026-11-15","amount":3600,"currency":"USD"}
`

// boardCard is a board pack's card of the metric id.
func boardCard(t *testing.T, b *Board, id string) scorecard.Card {
	t.Helper()
	for _, p := range b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			if c.ID == id {
				return c
			}
		}
	}
	t.Fatalf("no %s card in the %s board pack", id, b.MonthName())
	return scorecard.Card{}
}

// A quarter-end month's board pack shows the quarter it closes: as of
// its end, the next quarter's first instant, SPEC §3's current quota
// period is the next quarter, begun with nothing won (0 %) — what the
// September pack had shown. The pack says which period its quota figures
// cover; a month inside a quarter reads the quarter still open.
func TestBoardPackQuarterEnd(t *testing.T) {
	f := newFixture(t)
	if _, err := ingest.Import(context.Background(), f.st, []ingest.Source{{Name: "sales.ndjson", Reader: strings.NewReader(sales)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	board := func(month time.Time) (b *Board) {
		t.Helper()
		err := f.svc.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
			b = BuildBoard(f.svc.Catalog, ds, month, nil, nil, "USD", asOf)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	value := func(c scorecard.Card) string { return scorecard.FormatValue(c.Value, c.Unit, "USD") }

	sep := board(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	q3, q4 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	att, cov := boardCard(t, sep, "quota_attainment"), boardCard(t, sep, "pipeline_coverage")
	// 90 % of a quarter wholly gone: amber (green at 100 %, amber at 85 %
	// of the elapsed share).
	if att.Value == nil || *att.Value != 90 || att.Status != catalog.Amber {
		t.Errorf("September's quota attainment = %s (%s, %s), want the third quarter's 90 %%, amber", value(att), att.Status, att.Reason)
	}
	if p := att.Detail.PeriodStart; p == nil || !p.Equal(q3) || !att.Detail.PeriodEnd.Equal(q4) {
		t.Errorf("September's quota period = %v to %v, want the third quarter", att.Detail.PeriodStart, att.Detail.PeriodEnd)
	}
	// Coverage looks ahead: the quarter coming, not the one the month
	// closes, whose deals still open missed it (they had read as 200 ÷
	// 100 = 2 over the last of its quota).
	if p := cov.Detail.PeriodStart; p == nil || !p.Equal(q4) {
		t.Errorf("September's pipeline coverage = %s over the period from %v, want the fourth quarter's", value(cov), p)
	}
	// The chart's last week ends with the month: it shows the card's value.
	if n := len(att.Series); n == 0 {
		t.Error("the attainment card has no weekly series")
	} else if v := att.Series[n-1].Value; v == nil || *v != 90 {
		t.Errorf("the attainment chart's last point = %s, not the card's 90 %%", scorecard.FormatValue(v, "%", ""))
	}
	want := "Quota attainment covers the quota period 1 July 2026 – 30 September 2026, which the month closes; pipeline coverage covers " +
		"the quota period 1 October 2026 – 31 December 2026, which begins at the month's end (a figure looking ahead)."
	if got := sep.QuotaPeriod(); got != want {
		t.Errorf("the September pack says %q\nwant %q", got, want)
	}
	// The PDF says it, on the scorecard page and the revenue section's.
	if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
		text := boardText(t, pdftotext, sep)
		if n := strings.Count(text, want); n != 2 {
			t.Errorf("the September PDF names the quota period %d times, want 2 (scorecard, revenue): %q", n, want)
		}
		// Each quota metric's trend cell says "none", and the note under
		// the table why, by the scorecard's own reason.
		// The charts' dates are their first and last points': 16 July,
		// the first week's end, not 9 July, its start.
		if !regexp.MustCompile(`\b16 Jul\b`).MatchString(text) || regexp.MustCompile(`\b9 Jul\b`).MatchString(text) {
			t.Error("the September charts' first date is not their first point's, 16 Jul")
		}
		if why := trendWhy(att); why == "" || !strings.Contains(strings.Join(strings.Fields(text), " "), att.Name+": "+why) {
			t.Errorf("the September PDF does not say why %s has no trend (%q)", att.Name, why)
		}
		// The appendix gives the quota metrics' window as the quarter, not
		// the month ("30d") the note beside it says they do not cover.
		// (coverage, looking ahead, the quarter coming).
		for name, span := range map[string]string{"Quota attainment": "1 Jul–30 Sep", "Pipeline coverage": "1 Oct–31 Dec"} {
			if !regexp.MustCompile(name + ` v\d+ ` + span + ` `).MatchString(text) {
				t.Errorf("the September PDF's appendix does not give %s's window as %s:\n%s", name, span, text[strings.Index(text, "Appendix: definitions"):])
			}
		}
	}

	// October sits inside the fourth quarter: nothing won yet of 1,200,
	// with 3,600 due in it.
	oct := board(q4)
	if att := boardCard(t, oct, "quota_attainment"); att.Value == nil || *att.Value != 0 || !att.Detail.PeriodStart.Equal(q4) {
		t.Errorf("October's quota attainment = %s from %v, want the fourth quarter's 0 %%", value(att), att.Detail.PeriodStart)
	}
	if cov := boardCard(t, oct, "pipeline_coverage"); cov.Value == nil || *cov.Value != 3 {
		t.Errorf("October's pipeline coverage = %s, want 3,600 ÷ 1,200 = 3", value(cov))
	}
	if got := oct.QuotaPeriod(); !strings.Contains(got, "1 October 2026 – 31 December 2026, still open at the month's end") {
		t.Errorf("the October pack says %q", got)
	}

	// A scorecard as of the same instant keeps SPEC §3's rule: the fourth
	// quarter, just begun.
	err := f.svc.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
		r, err := ds.Compute("quota_attainment", metrics.Query{AsOf: q4, Window: 30 * day})
		if err != nil {
			return err
		}
		if r.Value == nil || *r.Value != 0 || !r.Detail.PeriodStart.Equal(q4) {
			t.Errorf("quota attainment as of 1 October = %v from %v, want the fourth quarter's 0 %%", r.Value, r.Detail.PeriodStart)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The board pack names every metric whose catalog span is the quota
// period as covering it — an organisation's own among them, which a list
// of the two built-ins' ids had left out — and its appendix gives that
// metric's window as the period too. The metric's value is the quarter's
// won deals (900), not September's (300).
func TestBoardPackNamesAnOrganisationsQuotaMetric(t *testing.T) {
	def := metrics.CustomDef{ID: "quarter_bookings", Kind: domain.KindOpportunity, Time: "closed_at", Filter: "won",
		Value: "amount", Aggregate: metrics.AggregateSum, Span: metrics.SpanQuotaPeriod}
	compiled, err := metrics.CompileCustom(def)
	if err != nil {
		t.Fatal(err)
	}
	cfg := metrics.DefaultConfig()
	if err := cfg.SetCustom([]*metrics.CustomMetric{compiled}); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The organisation's definition, as its configuration's custom_metrics
	// makes it: quota attainment's attributes, its own id, name and sum.
	m, _ := cat.Metric("quota_attainment")
	own := *m
	own.ID, own.Name, own.Unit, own.Custom, own.Headline = def.ID, "Bookings this quota period", "currency", true, false
	own.Thresholds = &catalog.Thresholds{RelativeTo: catalog.RelativeToElapsed, Green: 1000, Amber: 800}
	if cat, err = cat.AddMetrics([]catalog.Metric{own}, "", nil); err != nil {
		t.Fatal(err)
	}
	ds := metrics.NewDataset(cfg)
	for _, line := range strings.Split(strings.TrimSpace(sales), "\n") {
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds.Apply(r, time.Time{})
	}
	ds.Prepare()
	b := BuildBoard(cat, ds, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
	if c := boardCard(t, b, def.ID); c.Value == nil || *c.Value != 900 || c.Detail.PeriodStart == nil {
		t.Errorf("the pack's bookings this quota period = %s over the period from %v; want the third quarter's 900", scorecard.FormatValue(c.Value, c.Unit, "USD"), c.Detail.PeriodStart)
	}
	want := "Quota attainment and bookings this quota period cover the quota period 1 July 2026 – 30 September 2026, which the month closes; " +
		"pipeline coverage covers the quota period 1 October 2026 – 31 December 2026, which begins at the month's end (a figure looking ahead)."
	if got := b.QuotaPeriod(); got != want {
		t.Errorf("the September pack says %q\nwant %q", got, want)
	}
	text := boardText(t, poppler(t, "pdftotext"), b)
	if !strings.Contains(text, "Bookings this quota period v1 1 Jul–30 Sep ") {
		t.Errorf("the appendix does not give the organisation's quota metric's window as 1 Jul–30 Sep:\n%s", text[strings.Index(text, "Appendix: definitions"):])
	}
}

func TestBoardPackPDF(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	f := newFixture(t)
	ctx := context.Background()
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Governance says a proposal put the attribution window in force.
	since := time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC)
	f.svc.SettingSource = func(context.Context) (func(string, time.Time) (string, time.Time), error) {
		return func(name string, _ time.Time) (string, time.Time) {
			if name == "attribution_window" {
				return "proposal 7", since
			}
			return "", time.Time{}
		}, nil
	}
	run, err := f.svc.MakeBoard(ctx, month, time.Time{}, false, "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "board.pdf")
	if err := os.WriteFile(file, run.Report.PDF, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"Scorecard, November 2026", "as of 1 Dec 2026 00:00 UTC",
		"Change failure rate", "AMBER", "Trends", "Revenue", "Annual recurring revenue", "148,080 USD",
		"Delivery", "Appendix: definitions", "Sign-off", "assumed", "page 1 of",
		// The appendix runs onto another page with its title and columns.
		"Appendix: definitions (continued)",
		"Q4 change freeze",
		// The appendix lists the settings in force as a metric's page
		// says them: value and what put it in force.
		"Settings in force", "attribution window 1d (proposal 7, in force from 3 Oct 2026 09:00 UTC)",
		"gross margin 0.8 (the default)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the board pack's text lacks %q", want)
		}
	}
	// A state's trend is against the state at the month's start, not a span.
	if words := strings.Join(strings.Fields(text), " "); !strings.Contains(words, "the 30 days before 1 November, not the calendar month before; for a state such as ARR, the state at 1 November)") {
		t.Error("the scorecard page does not say what a state's trend compares with")
	}
	// Every page names the pack and its month at its top, a continued one too.
	for i, page := range strings.Split(strings.TrimRight(text, "\f"), "\f") {
		if !strings.HasPrefix(strings.TrimSpace(page), "CANDOR BOARD PACK · NOVEMBER 2026") {
			t.Errorf("page %d does not start with the pack's running head:\n%s", i+1, page[:min(len(page), 300)])
		}
	}
	if !regexp.MustCompile(`\d+ (red|amber|green|unknown)[a-z0-9, ]* of \d+ metrics`).MatchString(text) {
		t.Error("no pillar says how many of its metrics are of each status")
	}
	if !strings.Contains(text, "v1") {
		t.Error("the appendix names no definition version")
	}
	got, err := List(ctx, f.st, 0)
	if err != nil || len(got) != 1 || got[0].Kind != KindBoard || got[0].Month != "2026-11" || len(got[0].PDF) == 0 || len(got[0].Definitions) == 0 {
		t.Fatalf("archive: %v", err)
	}
	if pdftoppm, err := exec.LookPath("pdftoppm"); err == nil {
		if err := exec.Command(pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", file, filepath.Join(dir, "page")).Run(); err != nil {
			t.Errorf("pdftoppm could not render page 1: %v", err)
		}
	}
}

func TestBoardPackByMail(t *testing.T) {
	f := newFixture(t)
	box := f.mail(t)
	ctx := context.Background()
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// The engineering role may not see revenue: the pack is not for it.
	f.svc.Settings.BoardTo = []string{"ceo@example.com", "eng@example.com"}
	if _, err := f.svc.MakeBoard(ctx, month, time.Time{}, true, "test"); err == nil || !strings.Contains(err.Error(), "eng@example.com") {
		t.Fatalf("a board pack for a recipient without revenue:read: %v", err)
	}
	if n := len(box.Messages()); n != 0 {
		t.Fatalf("%d messages sent", n)
	}
	f.svc.Settings.BoardTo = []string{"ceo@example.com"}
	if _, err := f.svc.MakeBoard(ctx, month, time.Time{}, true, "test"); err != nil {
		t.Fatal(err)
	}
	msgs := box.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "ceo@example.com" {
		t.Fatalf("messages: %+v", msgs)
	}
	for _, want := range []string{"Subject: Candor board pack, November 2026", "Content-Type: application/pdf", `filename="candor-board-2026-11.pdf"`} {
		if !strings.Contains(msgs[0].Data, want) {
			t.Errorf("the board pack e-mail lacks %q", want)
		}
	}
}

// The scorecard page's trend note says the days before the month are the
// calendar month before when they are (January's are December), and not
// otherwise: "not the calendar month before" had been said of December.
func TestBoardTrendBefore(t *testing.T) {
	for month, want := range map[string]string{
		"2026-11": "the 30 days before 1 November, not the calendar month before",
		"2026-03": "the 31 days before 1 March, not the calendar month before",
		"2027-01": "the 31 days before 1 January, which are December 2026",
		"2026-08": "the 31 days before 1 August, which are July 2026",
	} {
		start, err := ParseMonth(month, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		b := &Board{Month: start, AsOf: start.AddDate(0, 1, 0)}
		if got := b.trendBefore(); got != want {
			t.Errorf("%s: %q, want %q", month, got, want)
		}
	}
}

// The scorecard page lists every red metric beside the P0 and headline
// ones, and an amber pillar's first amber metric when none of those is:
// a pillar is its worst metric, and a RED pillar whose rows were all
// amber and green (the demo's Security, red for vulnerability SLA
// breaches, a P1) said nowhere on the page which metric made it red.
func TestBoardPackListsWhatMakesAPillarItsColour(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	v := func(f float64) *float64 { return &f }
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := month.AddDate(0, 1, 0)
	b := &Board{Month: month, AsOf: end, Currency: "USD", Generated: end, Scorecard: &scorecard.Scorecard{Pillars: []scorecard.Pillar{
		{ID: "security", Name: "Security & Risk", Status: catalog.Red, Metrics: []scorecard.Card{
			{ID: "open_critical_vulnerabilities", Name: "Open critical vulnerabilities", Value: v(1), Status: catalog.Amber, Priority: "P0", Headline: true},
			{ID: "open_high_vulnerabilities", Name: "Open high vulnerabilities", Value: v(3), Status: catalog.Green, Priority: "P1"},
			{ID: "vulnerability_sla_breaches", Name: "Vulnerability SLA breaches", Value: v(19), Status: catalog.Red, Priority: "P1"},
		}},
		{ID: "cost", Name: "Cost & Efficiency", Status: catalog.Amber, Metrics: []scorecard.Card{
			{ID: "budget_variance", Name: "Budget variance", Value: v(-1), Unit: "%", Status: catalog.Green, Priority: "P0", Headline: true},
			{ID: "infrastructure_cost", Name: "Infrastructure cost", Value: v(900), Unit: "currency", Status: catalog.Green, Priority: "P1"},
			{ID: "cost_trend", Name: "Cost trend", Value: v(9), Unit: "%", Status: catalog.Amber, Priority: "P1"},
			{ID: "cost_per_million_requests", Name: "Cost per million requests", Value: v(2), Unit: "currency", Status: catalog.Amber, Priority: "P2"},
		}},
	}}}
	pdf, err := b.PDF()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "board.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", "-f", "1", "-l", "1", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)
	for _, want := range []string{"Open critical vulnerabilities", "Vulnerability SLA breaches", "Budget variance", "Cost trend", "The P0 and red metrics of each pillar"} {
		if !strings.Contains(page, want) {
			t.Errorf("the scorecard page lacks %q:\n%s", want, page)
		}
	}
	// Green metrics that are neither P0 nor headline, and a second amber
	// one of a pillar already explained, stay in the appendix.
	for _, not := range []string{"Open high vulnerabilities", "Infrastructure cost", "Cost per million requests"} {
		if strings.Contains(page, not) {
			t.Errorf("the scorecard page lists %q, neither P0, headline, red nor its pillar's first amber", not)
		}
	}
	if strings.Index(page, "Budget variance") > strings.Index(page, "Cost trend") {
		t.Error("the amber row is not in the pillar's order")
	}
}

// The appendix says what each figure covers by the metric's span: ARR is
// the state at the month's end and NRR the customers of a year before,
// where every row had read "30d" — a board member took NRR for a 30-day
// retention.
func TestBoardPackAppendixSaysWhatFiguresCover(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	f := newFixture(t)
	var b *Board
	err := f.svc.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
		b = BuildBoard(f.svc.Catalog, ds, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	text := boardText(t, pdftotext, b)
	appendix := text[strings.Index(text, "Appendix: definitions"):]
	for _, want := range []string{
		"Net revenue retention v1 365d cohort ",
		"Gross revenue retention v1 365d cohort ",
		"Annual recurring revenue v1 state at the end ",
		"Open critical vulnerabilities v1 state at the end ",
		// Effective 1 December, the month's end: marked (TestBoardPackMarksVersionsDatedAfterTheMonth).
		"Time to restore, own baseline v1* 90d before it ",
		"Change failure rate v1 30d ",
	} {
		if !strings.Contains(appendix, want) {
			t.Errorf("the appendix lacks %q:\n%s", want, appendix)
		}
	}
}

// A red or amber row with no target of its own ("—") says against what
// it was judged, in a legend under the table as the printed web
// scorecard has: NRR 97.67 % red beside a dash had given a board member
// no bar. A row with a target shows it and is not repeated; a green one
// needs no legend.
func TestBoardPackStatesTheThresholdsOfRowsWithoutATarget(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	v := func(f float64) *float64 { return &f }
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := month.AddDate(0, 1, 0)
	b := &Board{Month: month, AsOf: end, Currency: "USD", Generated: end, Scorecard: &scorecard.Scorecard{Pillars: []scorecard.Pillar{
		// Not "growth": its section page charts the P0 metrics' series,
		// which these cards have none of.
		{ID: "revenue", Name: "Growth & Revenue", Status: catalog.Red, Metrics: []scorecard.Card{
			{ID: "arr", Name: "Annual recurring revenue", Value: v(5471807), Unit: "currency", Better: "higher", Status: catalog.Amber, Priority: "P0",
				Target: v(5654724), Thresholds: &scorecard.Thresholds{Green: 1, Amber: 0.9, RelativeTo: "target"}},
			{ID: "nrr", Name: "Net revenue retention", Value: v(97.67), Unit: "%", Better: "higher", Status: catalog.Red, Priority: "P0",
				Thresholds: &scorecard.Thresholds{Green: 110, Amber: 100}},
			{ID: "win_rate", Name: "Win rate", Value: v(29.41), Unit: "%", Better: "higher", Status: catalog.Green, Priority: "P0",
				Thresholds: &scorecard.Thresholds{Green: 25, Amber: 15}},
		}},
	}}}
	page := boardText(t, pdftotext, b)
	page = page[:strings.Index(page, "page 1 of")]
	if !strings.Contains(page, "Thresholds of the red and amber rows without a target (red past the amber bound): Net revenue retention: green >= 110 %, amber >= 100 %.") {
		t.Errorf("the scorecard page does not say NRR's thresholds:\n%s", page)
	}
	for _, not := range []string{"Annual recurring revenue: green", "Win rate: green"} {
		if strings.Contains(page, not) {
			t.Errorf("the legend states %q (a row with a target, or green)", not)
		}
	}
}

// bridgeMoves are October's movements over the fixture's ten customers
// paying 1,234 since March: c0 adds a 100.50 subscription (expansion), c1
// ends (churn 1,234), c2 moves to a 1,000 plan (contraction 234), n1 is
// new at 500.25. MRR goes 12,340.00 → 11,472.75.
const bridgeMoves = `{"kind":"subscription","id":"x0","customer":"c0","started_at":"2026-10-05T00:00:00Z","mrr":100.5}
{"kind":"subscription","id":"s1","customer":"c1","started_at":"2026-03-01T00:00:00Z","ended_at":"2026-10-15T00:00:00Z","mrr":1234}
{"kind":"subscription","id":"s2","customer":"c2","started_at":"2026-03-01T00:00:00Z","ended_at":"2026-10-20T00:00:00Z","mrr":1234}
{"kind":"subscription","id":"x2","customer":"c2","started_at":"2026-10-20T00:00:00Z","mrr":1000}
{"kind":"subscription","id":"n1","customer":"n1","started_at":"2026-10-10T00:00:00Z","mrr":500.25}
`

// The Revenue page draws the month's MRR bridge, from MRR at the month's
// start through each movement to MRR and ARR at its end, to the cent so
// that it adds up as printed: it had listed the movements and ARR with no
// starting MRR, so a board member could not tie ARR to them.
func TestBoardPackMRRBridgeTiesToARR(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	f := newFixture(t)
	ctx := context.Background()
	if _, err := ingest.Import(ctx, f.st, []ingest.Source{{Name: "moves.ndjson", Reader: strings.NewReader(bridgeMoves)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Engine.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var b *Board
	err := f.svc.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		b = BuildBoard(f.svc.Catalog, ds, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// In physical layout: read in its own order, a page whose bridge
	// ends it (its charts on the next, "Revenue (continued)") gives the
	// bridge's amounts out of their lines.
	text := boardText(t, pdftotext, b, "-layout")
	want := "MRR bridge in October 2026 " +
		"Where the change in MRR came from, customer by customer (each customer's MRR at the start against its MRR at the end), to the cent so that it adds up as printed; ARR is 12 × MRR at the month's end. " +
		"MRR at 1 Oct 2026 00:00 UTC 12,340.00 USD " +
		"+ New MRR (1 customer) 500.25 USD " +
		"+ Reactivation MRR (0 customers) 0.00 USD " +
		"+ Expansion MRR (1 customer) 100.50 USD " +
		"- Contraction MRR (1 customer) 234.00 USD " +
		"- Churned MRR (1 customer) 1,234.00 USD " +
		"= MRR at 1 Nov 2026 00:00 UTC 11,472.75 USD " +
		"ARR: 12 × MRR at 1 Nov 2026 00:00 UTC 137,673.00 USD"
	if !strings.Contains(text, want) {
		i := max(strings.Index(text, "MRR bridge"), 0)
		t.Errorf("the Revenue page's bridge:\n%s\nwant\n%s", text[i:min(len(text), i+900)], want)
	}
	// Movements an organisation defined over 7 days are kept over them
	// (the scorecard page says so): the bridge starts 7 days before the
	// month's end, after every movement above.
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range metrics.BridgeMetrics {
		m, _ := cat.Metric(id)
		m.Window = 7 * day
	}
	err = f.svc.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		b = BuildBoard(cat, ds, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	text = boardText(t, pdftotext, b, "-layout")
	if want := "MRR bridge over 7d Where the change in MRR came from, customer by customer (each customer's MRR at the start against its MRR at the end), to the cent so that it adds up as printed; ARR is 12 × MRR at the month's end. MRR at 25 Oct 2026 00:00 UTC 11,472.75 USD "; !strings.Contains(text, want) {
		i := max(strings.Index(text, "MRR bridge"), 0)
		t.Errorf("the 7-day bridge:\n%s\nwant\n%s", text[i:min(len(text), i+600)], want)
	}
}
