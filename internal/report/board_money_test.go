package report

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/scorecard"
)

// moneyBoard is a September pack holding the demo's money figures of 1
// October 2026: revenue at risk red on the scorecard page, a cost per
// customer amber whose value and target differ by 31 cents, and the
// Growth pillar's amounts from millions to hundreds.
func moneyBoard() *Board {
	month := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	end := month.AddDate(0, 1, 0)
	card := func(id, name, unit string, v float64, target *float64, s catalog.Status) scorecard.Card {
		return scorecard.Card{ID: id, Name: name, Unit: unit, Value: &v, Target: target, Status: s, Priority: "P1",
			Better: "higher", Owner: "CFO", Trend: scorecard.Trend{Assessment: "better"}}
	}
	of := func(x float64) *float64 { return &x }
	arr := card("arr", "Annual recurring revenue", "currency", 5801833.2, of(6103296), catalog.Amber)
	arr.Headline = true
	sc := &scorecard.Scorecard{AsOf: end, Pillars: []scorecard.Pillar{
		{ID: "reliability", Name: "Platform Reliability", Status: catalog.Red, Metrics: []scorecard.Card{
			card("revenue_at_risk", "Revenue at risk", "currency", 596.6020837783524, of(449.74239130434785), catalog.Red)}},
		{ID: "cost", Name: "Cost & Efficiency", Status: catalog.Amber, Metrics: []scorecard.Card{
			card("cost_per_active_customer", "Cost per active customer", "currency", 472.37994350282486, of(472.07), catalog.Amber)}},
		{ID: "growth", Name: "Growth & Revenue", Status: catalog.Red, Metrics: []scorecard.Card{
			arr,
			card("mrr", "Monthly recurring revenue", "currency", 483486.1, of(508608), catalog.Amber),
			card("sales_velocity", "Sales velocity", "currency/day", 3672.339814998698, nil, catalog.Unknown),
			card("mrr_expansion", "Expansion MRR", "currency", 2115.69, of(4356), catalog.Red),
			card("mrr_contraction", "Contraction MRR", "currency", 370.57, of(472), catalog.Green),
		}},
	}}
	return &Board{Month: month, AsOf: end, Scorecard: sc, Currency: "USD", Generated: end.Add(time.Hour)}
}

// The pack's tables write money at one precision, whole currency units:
// the Revenue table had read "370.57 USD" for contraction MRR among
// "2,116 USD" and "5,801,833 USD", beside its target "472 USD", and the
// scorecard page "596.60 USD" for revenue at risk under ARR's whole
// units — FormatValue's cents below a thousand. Where whole units make a
// value read as its target though it differs (472.38 against 472.07,
// "472 USD" twice beside AMBER), the notes give both to the cent; the
// table keeps its precision.
func TestBoardPackTablesWriteMoneyInWholeUnits(t *testing.T) {
	text := boardText(t, poppler(t, "pdftotext"), moneyBoard(), "-layout")
	for _, row := range []string{
		"Revenue at risk 597 USD 450 USD RED",
		"Cost per active customer 472 USD 472 USD AMBER",
		"* Annual recurring revenue 5,801,833 USD 6,103,296 USD AMBER",
		"Monthly recurring revenue 483,486 USD 508,608 USD AMBER",
		"Sales velocity 3,672 USD/day — UNKNOWN",
		"Expansion MRR 2,116 USD 4,356 USD RED",
		"Contraction MRR 371 USD 472 USD GREEN",
		"Now 5,801,833 USD",
	} {
		if !strings.Contains(text, row) {
			t.Errorf("the pack lacks the row %q", row)
		}
	}
	const note = "Amounts are in whole currency units; to the cent where that makes a value read as its target or bound, or as 0: Cost per active customer 472.38 USD against a target of 472.07 USD."
	if strings.Count(text, note) != 1 {
		t.Errorf("the scorecard's notes do not give the cost per customer to the cent once: want %q in\n%s", note, text)
	}
	if cents := regexp.MustCompile(`[0-9]\.[0-9]{2} USD`).FindAllString(strings.Replace(text, note, "", 1), -1); len(cents) > 0 {
		t.Errorf("amounts to the cent in the pack's tables: %q", cents)
	}
	// The Revenue table lists no row that whole units blur: no note.
	if i := strings.Index(text, "Revenue The Growth pillar"); i < 0 || strings.Contains(text[i:], "Amounts are in whole currency units") {
		t.Errorf("the Revenue page says its money is in whole units with no row to give to the cent")
	}
}

// centsNote gives to the cent a value that reads as its target (0.50
// rounds half away to 1), as a threshold bound it is judged by (a row
// without a target) or as 0, and nothing else: not a bound relative to
// the target, amounts apart, nor a figure that is not money.
func TestBoardPackCentsNote(t *testing.T) {
	_, w := pageAt(20)
	of := func(x float64) *float64 { return &x }
	cs := []scorecard.Card{
		{Name: "Spend", Unit: "currency/day", Value: of(500.4), Thresholds: &scorecard.Thresholds{Green: 400, Amber: 500}},
		{Name: "Refunds", Unit: "currency", Value: of(-0.4), Target: of(10)},
		{Name: "Margin", Unit: "currency", Value: of(0.5), Target: of(1)},
		{Name: "Relative", Unit: "currency", Value: of(500.4), Thresholds: &scorecard.Thresholds{Green: 1, Amber: 500, RelativeTo: "target"}},
		{Name: "Apart", Unit: "currency", Value: of(370.57), Target: of(472)},
		{Name: "Share", Unit: "%", Value: of(0.4), Target: of(0.3)},
	}
	want := "Amounts are in whole currency units; to the cent where that makes a value read as its target or bound, or as 0: " +
		"Spend 500.40 USD/day against an amber bound of 500.00 USD/day; Refunds -0.40 USD; Margin 0.50 USD against a target of 1.00 USD."
	if got := w.centsNote(cs); got != want {
		t.Errorf("centsNote:\n%s\nwant\n%s", got, want)
	}
	if got := w.centsNote(cs[3:]); got != "" {
		t.Errorf("centsNote of rows whole units do not blur = %q, want none", got)
	}
}
