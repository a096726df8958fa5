package report

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/scorecard"
)

// A month whose deployments stopped four days before its end: the pack
// names the rows behind its end with their kind and time, says they are
// stale, greys their values and words the unknown reason's time as the
// pack writes times. The review of 2026-12-07 found no word of freshness
// anywhere in the pack (the scorecard says "data as of" beside every
// card), and a stale value bold in full ink like a current one.
func TestBoardPackSaysHowCurrentItsDataIs(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	cut := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var lines []string
	for _, l := range strings.Split(org(), "\n") {
		if strings.Contains(l, `"kind":"deployment"`) {
			var at string
			if i := strings.Index(l, `"finished_at":"`); i >= 0 {
				at = l[i+len(`"finished_at":"`):][:20]
			}
			if ts, err := time.Parse(time.RFC3339, at); err == nil && !ts.Before(cut) {
				continue
			}
		}
		lines = append(lines, l)
	}
	b := BuildBoard(cat, dataset(t, strings.Join(lines, "\n")), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf.Add(2*day))
	var cfr scorecard.Card
	for _, p := range b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			if c.ID == "change_failure_rate" {
				cfr = c
			}
		}
	}
	if !cfr.Freshness.Stale || cfr.Value == nil || cfr.Status != catalog.Unknown {
		t.Fatalf("change failure rate: %+v; want a value on stale data, unknown", cfr)
	}
	if style, colour := b.valueLook(cfr); style != "" || colour != muted {
		t.Errorf("a stale value is drawn %q in %v; want plain and muted", style, colour)
	}
	if style, colour := b.valueLook(scorecard.Card{}); style != "B" || colour != ink {
		t.Errorf("a current value is drawn %q in %v; want bold in ink", style, colour)
	}
	text := boardText(t, pdftotext, b)
	for _, want := range []string{
		"Data behind the month's end (1 Dec 2026 00:00 UTC): deployment data to 26 Nov 2026 16:00 UTC, STALE (past its 1d limit): ",
		"Change failure rate: no deployment data since 26 Nov 2026 16:00 UTC",
		"subscription data to 1 Mar 2026 00:00 UTC (a state: unchanged since, never stale): Annual recurring revenue",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the pack does not say %q:\n%s", want, text[max(0, strings.Index(text, "Data behind")):])
		}
	}
	if strings.Contains(text, "2026-11-26T") {
		t.Errorf("the pack quotes an RFC 3339 time:\n%s", text)
	}
}

// The appendix marks a version that took effect at or after the month's
// end, which the month's figures were computed with all the same (no
// earlier version is kept), and says so under the table: September's pack
// had listed budget variance "v2", effective 1 December, as "the version
// in force at the month's end" with nothing more.
func TestBoardPackMarksVersionsDatedAfterTheMonth(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	sep := BuildBoard(cat, dataset(t, org()), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
	text := boardText(t, pdftotext, sep)
	for _, want := range []string{"Budget variance v2* ", "* Versions that took effect at or after the month's end, with which its figures were computed all the same (no earlier version is kept: it applies before that date too): effective 1 December 2026: ", "Budget variance v2,"} {
		if !strings.Contains(text, want) {
			t.Errorf("September's pack does not say %q:\n%s", want, text[max(0, strings.Index(text, "Appendix")):])
		}
	}
	if strings.Contains(text, "CSAT) v1*") || strings.Contains(text, "Customer satisfaction (CSAT) v1,") {
		t.Errorf("September's pack marks CSAT v1, effective 1 January 2026")
	}
	// December's (as of 1 January 2027) marks none.
	dec := BuildBoard(cat, dataset(t, org()), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf.AddDate(0, 2, 0))
	if note := dec.appliesBeforeNote(); note != "" {
		t.Errorf("December's pack says %q", note)
	}
}

// Each chart says what a point covers beside what "Now" does, and labels
// its threshold lines: change failure rate's last point, its last week,
// had stood above "Now 27.26 %", its month, with nothing to say why, and
// its amber line (15 %) had no value beside it.
func TestBoardPackChartsSayWhatAPointIs(t *testing.T) {
	b := novemberBoard(t)
	text := boardText(t, poppler(t, "pdftotext"), b)
	for _, want := range []string{"each point one week's value; Now covers 30 days", "each point the state at its week's end; Now is the state at the month's end"} {
		if !strings.Contains(text, want) {
			t.Errorf("the pack's charts do not say %q", want)
		}
	}
	yAt := func(v float64) float64 { return 100 - v } // 1 mm a unit
	thr := &scorecard.Thresholds{Green: 5, Amber: 15}
	if got := axisTicks(5, 31.88, thr, true, yAt); !slices.Equal(got, []float64{5, 15, 31.88}) {
		t.Errorf("axisTicks(5, 31.88, 5/15) = %v; want the amber 15 labelled, the green 5 once", got)
	}
	if got := axisTicks(0, 40, thr, false, yAt); len(got) != 2 {
		t.Errorf("axisTicks of relative thresholds = %v; want the ends only", got)
	}
	if got := axisTicks(22.2, 168, &scorecard.Thresholds{Green: 24, Amber: 168}, true, yAt); !slices.Equal(got, []float64{24, 168}) {
		t.Errorf("axisTicks(22.2, 168, 24/168) = %v; want the line's 24, 22.2 left out beside it, 168 once", got)
	}
	// Both lines labelled even beside the lowest point and each other
	// (pipeline coverage: 3× and 2× near 1.83×), their labels kept apart.
	cov := &scorecard.Thresholds{Green: 3, Amber: 2}
	got := axisTicks(1.83, 52, cov, true, yAt)
	if !slices.Equal(got, []float64{3, 2, 52}) {
		t.Errorf("axisTicks(1.83, 52, 3/2) = %v; want both lines and the highest", got)
	}
	ys := labelYs(got, yAt)
	if math.Abs(ys[0]-ys[1]) < 3.2 || ys[2] != yAt(52) {
		t.Errorf("labelYs(%v) = %v: the lines' labels overlap, or the top one moved", got, ys)
	}
}

// A chart's scale leaves out a point far beyond all the others (drawn at
// the edge with its value): pipeline coverage's 101.24× had flattened the
// eleven weeks after it, 1.28× to 2.46×, and its 2× and 3× lines into one.
func TestBoardChartScaleLeavesOutAFarPoint(t *testing.T) {
	coverage := []float64{101.24, 1.28, 1.36, 1.66, 1.83, 2.13, 2.44, 2.43, 2.46, 2.37}
	if lo, hi := scale(coverage, []float64{3, 2}); lo != 1.28 || hi != 3 {
		t.Errorf("scale(pipeline coverage) = %v, %v; want 1.28, 3 (its rest and thresholds)", lo, hi)
	}
	// A steady rise is all on the scale, and so is a point within three
	// spans of the rest.
	if lo, hi := scale([]float64{1, 2, 3, 4, 5, 6}, nil); lo != 1 || hi != 6 {
		t.Errorf("scale(1…6) = %v, %v", lo, hi)
	}
	if lo, hi := scale([]float64{10, 11, 12, 13, 20}, nil); lo != 10 || hi != 20 {
		t.Errorf("scale(10…13, 20) = %v, %v; want 20 kept (within three spans)", lo, hi)
	}
	// Far below, too; and too few points to tell are all kept.
	if lo, hi := scale([]float64{-500, 99.8, 99.9, 99.85, 99.7}, []float64{99.9, 99.5}); lo != 99.5 || hi != 99.9 {
		t.Errorf("scale with a far low point = %v, %v; want 99.5, 99.9", lo, hi)
	}
	if lo, hi := scale([]float64{100, 1, 2}, nil); lo != 1 || hi != 100 {
		t.Errorf("scale of three points = %v, %v; want all kept", lo, hi)
	}
}

// The rows the scorecard marks DEGRADING (worse three weekly windows
// running) are named under the table whatever their colour: the pack had
// shown the demo's lead time green and "better" with no word of them.
func TestBoardPackNamesDegradingRows(t *testing.T) {
	cs := []scorecard.Card{{Name: "Lead time for changes (median)", Degrading: true}, {Name: "Availability"}, {Name: "Expansion MRR", Degrading: true}}
	want := "Degrading (worse three weekly windows running, whatever the status): Lead time for changes (median), Expansion MRR."
	if got := degradingNote(cs); got != want {
		t.Errorf("degradingNote = %q, want %q", got, want)
	}
	if got := degradingNote(cs[1:2]); got != "" {
		t.Errorf("degradingNote of no degrading row = %q", got)
	}
}

// A value resting on fewer cases than its metric's minimum sample is
// shown but not judged: greyed as a stale one is, and the notes under its
// table say what grey means. The SaaS quick ratio's 17.9× on one case had
// stood bold in full ink beside its UNKNOWN.
func TestBoardPackGreysAValueOnTooFewCases(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	// P0/P1 incidents, a headline row of the scorecard page, and logo
	// churn, a row of the Revenue page, ask more cases than the month had.
	many := catalog.WholeNumber(100000)
	if cat, err = cat.Apply(map[string]catalog.Override{"incidents_p0_p1": {MinSample: &many}, "logo_churn_rate": {MinSample: &many}}); err != nil {
		t.Fatal(err)
	}
	b := BuildBoard(cat, dataset(t, org()), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
	// Grey for a value of stale data or on too few cases; bold for every
	// other, unknown for another reason (no target set) or not.
	few := 0
	for _, p := range b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			if c.Value == nil {
				continue
			}
			tooFew := c.Status == catalog.Unknown && strings.HasPrefix(c.Reason, "too few cases (n = ")
			if tooFew && !c.Freshness.Stale {
				few++
			}
			style, colour := b.valueLook(c)
			if grey := style == "" && colour == muted; grey != (tooFew || c.Freshness.Stale) {
				t.Errorf("%s (%s, %q, stale %t): its value is drawn %q in %v", c.Name, c.Status, c.Reason, c.Freshness.Stale, style, colour)
			}
		}
	}
	if few != 2 {
		t.Fatalf("%d values on too few cases and current data, want 2", few)
	}
	// Said on the scorecard's page (P0/P1 incidents, on too few cases,
	// among its rows), not under the Revenue table, which draws no value
	// grey (its never-sent metrics have none; a note had been shown for
	// them).
	const grey = "A value in grey is shown but not judged (UNKNOWN): its data are stale, or it rests on fewer cases than its metric's minimum sample (min_sample)."
	pages := boardPages(t, b)
	i := slices.IndexFunc(pages, func(p string) bool { return strings.Contains(p, "Revenue The Growth pillar") })
	if i < 0 {
		t.Fatal("no Revenue page")
	}
	if strings.Contains(pages[i], grey) {
		t.Errorf("the Revenue page says what a grey value is, and draws none: %q", grey)
	}
	if !strings.Contains(strings.Join(pages[:2], " "), grey) {
		t.Errorf("the scorecard's pages do not say what a grey value is: %q", grey)
	}
}
