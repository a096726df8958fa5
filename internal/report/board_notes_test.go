package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/scorecard"
)

// crowdedBoard is a November pack of an organisation with more red rows
// than the demo: pillars of rows red against thresholds and no target,
// and of unknown ones with long reasons, none with a trend, their data
// behind the month's end — rows pillars long, each adding a note.
func crowdedBoard(pillars, rows int) *Board {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := month.AddDate(0, 1, 0)
	behind := end.Add(-50 * time.Hour)
	sc := &scorecard.Scorecard{AsOf: end}
	v := 42.0
	for p := range pillars {
		pl := scorecard.Pillar{ID: "pillar" + strconv.Itoa(p), Name: fmt.Sprintf("Pillar %d", p+1), Status: catalog.Red}
		for r := range rows {
			c := scorecard.Card{
				ID: fmt.Sprintf("m%d_%d", p, r), Name: fmt.Sprintf("Metric %d.%d of a long enough name", p+1, r+1),
				Value: &v, Unit: "%", Better: "higher", Status: catalog.Red, Priority: "P1", Owner: "Head of Something",
				Thresholds: &scorecard.Thresholds{Green: 99.5, Amber: 95},
				Trend:      scorecard.Trend{Missing: "no value for the window before: nothing was recorded in it, so there is nothing to compare with"},
				Freshness: scorecard.Freshness{LastData: &behind, Sources: []scorecard.SourceFresh{
					{Kind: fmt.Sprintf("kind%d", p), LastData: &behind, Stale: true, Limit: "1d"}}},
			}
			if r%2 == 1 {
				c.Status, c.Priority = catalog.Unknown, "P0"
				c.Reason = "no data since 28 Nov 2026 22:00 UTC: the source's connector stopped answering and nothing was sent after it"
			}
			pl.Metrics = append(pl.Metrics, c)
		}
		sc.Pillars = append(sc.Pillars, pl)
	}
	return &Board{Month: month, AsOf: end, Scorecard: sc, Currency: "USD", Generated: end.Add(time.Hour)}
}

// boardPages is the text of each page of b's PDF, white space made single
// spaces.
func boardPages(t *testing.T, b *Board) []string {
	t.Helper()
	pdf, err := b.PDF()
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, p := range strings.Split(popplerText(t, pdf), "\f") {
		pages = append(pages, strings.Join(strings.Fields(p), " "))
	}
	return pages
}

// notesFont is the height, in points, of the box of the word
// "Thresholds" that begins the scorecard's notes, as poppler reads it.
func notesFont(t *testing.T, b *Board) float64 {
	t.Helper()
	pdf, err := b.PDF()
	if err != nil {
		t.Fatal(err)
	}
	// <word xMin="…" yMin="…" xMax="…" yMax="…">Thresholds</word>
	word := regexp.MustCompile(`yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">Thresholds</word>`)
	m := word.FindStringSubmatch(popplerText(t, pdf, "-bbox"))
	if m == nil {
		t.Fatal("no \"Thresholds\" in the pack")
	}
	lo, _ := strconv.ParseFloat(m[1], 64)
	hi, _ := strconv.ParseFloat(m[2], 64)
	return hi - lo
}

// The scorecard's notes and legend are never shrunk below a readable
// size nor split with a line or two on another page: when they do not fit
// under the table at 8 pt, the notes go whole to a page of their own
// under the pack's running head, and the legend stays under the table
// saying where they are. An organisation with more red rows than the demo
// had had its notes set at 6 pt and the legend's last lines alone on page
// 2.
func TestBoardPackScorecardNotesHoldTogether(t *testing.T) {
	for _, c := range []struct {
		name          string
		pillars, rows int
		ownPage       bool
	}{
		{"few rows", 2, 2, false},
		{"many rows", 5, 5, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := crowdedBoard(c.pillars, c.rows)
			pages := boardPages(t, b)
			on := func(s string) []int {
				var in []int
				for i, p := range pages {
					if strings.Contains(p, s) {
						in = append(in, i+1)
					}
				}
				return in
			}
			legendStart, legendEnd := "The P0 and red metrics of each pillar", "with its version and sign-off state."
			notes := []string{"Thresholds of the red and amber rows", "Unknown status (counted as amber): ", "No trend: ", "Data behind the month's end"}
			first := on(notes[0])
			if len(first) != 1 {
				t.Fatalf("the thresholds note is on pages %v, want one", first)
			}
			page := first[0]
			for _, n := range notes {
				if got := on(n); len(got) != 1 || got[0] != page {
					t.Errorf("%q is on pages %v, want page %d with the other notes", n, got, page)
				}
			}
			// The last note's last row, and so every note, whole on its page.
			last := b.Scorecard.Pillars[c.pillars-1].Metrics[c.rows-1].Name
			if i := strings.LastIndex(pages[page-1], last); i < strings.Index(pages[page-1], "Data behind") {
				t.Errorf("the notes' page %d does not end the data note with %s:\n%s", page, last, pages[page-1])
			}
			if got := on(legendStart); len(got) != 1 || fmt.Sprint(on(legendEnd)) != fmt.Sprint(got) {
				t.Errorf("the legend begins on pages %v and ends on %v, want one page", got, on(legendEnd))
			}
			if c.ownPage {
				if !strings.HasPrefix(pages[page-1], "CANDOR BOARD PACK · NOVEMBER 2026 Notes to the scorecard, November 2026 Under the table on page 1: ") {
					t.Errorf("the notes' page does not begin with the running head and its title:\n%.200s", pages[page-1])
				}
				legend := on(legendStart)[0]
				if want := fmt.Sprintf("The notes to this table (thresholds, unknown statuses, trends, data) are on page %d.", page); legend != page-1 || !strings.Contains(pages[legend-1], want) {
					t.Errorf("the legend is on page %d, the notes on %d; want the legend under the table saying %q", legend, page, want)
				}
			} else if page != 1 {
				t.Errorf("notes that fit under the table are on page %d", page)
			}
			// Helvetica's boxes are 0.925 of its size high: 7.4 at 8 pt,
			// 6.9 at 7.5.
			if size := notesFont(t, b) / 0.925; size < 7.95 {
				t.Errorf("the notes are set at %.1f pt; want 8 or more", size)
			}
		})
	}
	// A table reaching the page's foot leaves no room for the legend
	// either: it goes with the notes, after them.
	t.Run("no room for the legend", func(t *testing.T) {
		pdf, w := pageAt(pageBottom - 8)
		w.notesFit(pageBottom, "Notes", []string{"A note.", "", strings.Repeat("Another note. ", 40)}, strings.Repeat("The legend. ", 40))
		var buf strings.Builder
		if err := pdf.Output(&buf); err != nil {
			t.Fatal(err)
		}
		text := pdfToText(t, []byte(buf.String()))
		if n := pdf.PageNo(); n != 2 || !strings.HasPrefix(text, "Notes Under the table on page 1: ") || !strings.HasSuffix(text, "The legend.") {
			t.Errorf("%d pages, want the notes and the legend on the second:\n%s", n, text)
		}
	})
	// A table longer than a page goes on on a page headed as it, with its
	// columns.
	t.Run("a table longer than a page", func(t *testing.T) {
		pages := boardPages(t, crowdedBoard(8, 8))
		if !strings.HasPrefix(pages[1], "CANDOR BOARD PACK · NOVEMBER 2026 Scorecard, November 2026 (continued) Metric Value") {
			t.Errorf("the table's second page is not headed as the table:\n%.300s", pages[1])
		}
	})
}
