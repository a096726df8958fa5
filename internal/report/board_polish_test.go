package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// novemberBoard is the fixture's November board pack.
func novemberBoard(t *testing.T) *Board {
	t.Helper()
	f := newFixture(t)
	var b *Board
	err := f.svc.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
		b = BuildBoard(f.svc.Catalog, ds, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil, nil, "USD", asOf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A row with no trend says "none" in its cell and, under its table, why
// — the scorecard's own reason: lifetime value's cell had been blank
// with no word. Every metric without a status is named with its reason,
// where the pillar's tally had only counted it ("1 unknown of 6").
func TestBoardPackSaysWhyNoTrendAndNamesUnknowns(t *testing.T) {
	b := novemberBoard(t)
	text := boardText(t, poppler(t, "pdftotext"), b)
	var noTrend, unknown int
	for _, p := range b.Scorecard.Pillars {
		if p.NoData != "" {
			continue
		}
		for _, c := range p.Metrics {
			if trendWord(c.Trend) == "" {
				noTrend++
				why := trendWhy(c)
				if why == "" {
					t.Errorf("%s has no trend and the scorecard gives no reason", c.ID)
				}
				// The section pages list every metric of their pillar. One
				// with no value says so, why once with its unknown status.
				if c.Value == nil && c.Trend.NotComparable == "" {
					why = "no value for this window"
				}
				// Its times as the pack writes them (28 Nov 2026 16:00 UTC).
				why = scorecard.ReadableTimes(why, boardTime)
				if (p.ID == "growth" || p.ID == "delivery") && !strings.Contains(text, c.Name+": "+why) {
					t.Errorf("the pack does not say why %s has no trend: %q", c.Name, why)
				}
			}
			if c.Status == "unknown" {
				unknown++
				if !strings.Contains(text, c.Name+": "+scorecard.ReadableTimes(c.Reason, boardTime)) {
					t.Errorf("the pack does not name the unknown %s with its reason %q", c.Name, c.Reason)
				}
			}
		}
	}
	if noTrend == 0 || unknown == 0 {
		t.Fatalf("the fixture's pack has %d rows without a trend and %d unknown: the test tests nothing", noTrend, unknown)
	}
	for _, want := range []string{"No trend: ", "Unknown status (counted as amber): ", " none "} {
		if !strings.Contains(text, want) {
			t.Errorf("the pack lacks %q", want)
		}
	}
}

// The Revenue and Delivery pages' tables have column headings, as the
// scorecard page's: a figure, a dash and "better" had stood under none.
func TestBoardPackSectionTablesHaveHeadings(t *testing.T) {
	text := boardText(t, poppler(t, "pdftotext"), novemberBoard(t), "-layout")
	const head = "Metric Value Target Status Trend Owner"
	for _, section := range []string{"Revenue The Growth pillar", "Delivery How fast"} {
		i := strings.Index(text, section)
		if i < 0 {
			t.Fatalf("no %q page in the pack", section)
		}
		if j := strings.Index(text[i:], head); j < 0 || j > 400 {
			t.Errorf("the %q page's table has no headings %q", section, head)
		}
	}
}

// pageAt is a writer of a pack's page as PDF sets it up, on its first
// page at y.
func pageAt(y float64) (*fpdf.Fpdf, *writer) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 18)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	w := &writer{pdf: pdf, tr: func(s string) string { return tr(pdfText.Replace(s)) }, b: &Board{Currency: "USD"}}
	pdf.AddPage()
	pdf.SetY(y)
	return pdf, w
}

// chartsAt draws three charts from y on a page of their section and
// returns the PDF's text and page count.
func chartsAt(t *testing.T, y float64) (string, int) {
	t.Helper()
	pdf, w := pageAt(y)
	v := 1.0
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var cs []scorecard.Card
	for _, name := range []string{"Annual recurring revenue", "Net revenue retention", "Pipeline coverage"} {
		c := scorecard.Card{Name: name, Unit: "ratio", Value: &v, Status: "green"}
		for i := range 12 {
			c.Series = append(c.Series, scorecard.Point{Start: start.AddDate(0, 0, 7*i), End: start.AddDate(0, 0, 7*i+7), Value: &v})
		}
		cs = append(cs, c)
	}
	w.charts("Revenue", cs)
	pages := pdf.PageNo()
	var buf strings.Builder
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return pdfToText(t, []byte(buf.String())), pages
}

// A section's charts stay together: drawn lower when that keeps them on
// the section's page, else all on a page of their own headed "Revenue
// (continued)". The Revenue page's MRR bridge had pushed pipeline
// coverage's chart alone onto an unheaded seventh page.
func TestBoardPackKeepsASectionsChartsTogether(t *testing.T) {
	poppler(t, "pdftotext")
	if _, pages := chartsAt(t, 185); pages != 1 {
		t.Errorf("three charts from 185 mm, which fit at %.0f mm high: %d pages, want 1", chartMinH, pages)
	}
	text, pages := chartsAt(t, 215)
	if pages != 2 {
		t.Errorf("three charts from 215 mm: %d pages, want 2", pages)
	}
	cont := strings.Index(text, "Revenue (continued)")
	if cont < 0 {
		t.Fatalf("the charts' page is not headed \"Revenue (continued)\":\n%s", text)
	}
	for _, name := range []string{"Annual recurring revenue", "Net revenue retention", "Pipeline coverage"} {
		if i := strings.Index(text, name); i < cont {
			t.Errorf("%s's chart is drawn before the continued page (at %d, the heading at %d)", name, i, cont)
		}
	}
}

// pdfToText is a PDF's text, its white space made single spaces.
func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	return strings.Join(strings.Fields(popplerText(t, pdf)), " ")
}

// popplerText is what pdftotext, given flags, reads from pdf: its pages
// parted by form feeds.
func popplerText(t *testing.T, pdf []byte, flags ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "board.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(poppler(t, "pdftotext"), append(flags, file, "-")...).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// The axis keeps a label's unit: a value FormatValue gives more decimals
// (999.9996 ms, never "1000 ms" as a figure) had been cut to ten
// characters, "999.9996 …".
func TestAxisValueKeepsItsUnit(t *testing.T) {
	for v, want := range map[float64]string{999.9996: "1000 ms", 12.6: "13 ms", 0: "0 ms"} {
		if got := axisValue(v, "ms", "USD"); got != want {
			t.Errorf("axisValue(%v ms) = %q, want %q", v, got, want)
		}
	}
	if got := axisValue(99.99961, "%", "USD"); got != "100 %" {
		t.Errorf("axisValue(99.99961 %%) = %q, want 100 %%", got)
	}
}
