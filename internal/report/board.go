package report

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// ParseMonth reads YYYY-MM (catalog.ParseMonth, as every --month and
// month= reads it); empty is the last complete month before now.
func ParseMonth(s string, now time.Time) (time.Time, error) {
	last := catalog.LastMonths(now, 1)[0]
	if s == "" {
		return last.Start(), nil
	}
	m, err := catalog.ParseMonth(s)
	if err != nil {
		return time.Time{}, err
	}
	// A month not over yet would be reported, and archived in the
	// ledger, with colours from the days it has had (or from none).
	if err := m.Ended(now); err != nil {
		return m.Start(), fmt.Errorf("a board pack reports a whole month: %w", err)
	}
	return m.Start(), nil
}

// Board is a monthly board pack's content: the scorecard as of the
// month's end, with the definitions it used. Its quota metrics cover the
// quota period holding the month's last instant: the quarter a March,
// June, September or December closes (scorecard.Options.Closing).
type Board struct {
	Month       time.Time
	AsOf        time.Time
	Scorecard   *scorecard.Scorecard
	Definitions []Definition
	// Settings are the value-changing settings the pack's metrics read,
	// with their values at the month's end (in metrics.ValueSettings'
	// order); Ref and Since say what put each in force when the service
	// knows (SettingSource), as a metric's page does.
	Settings    []metrics.InForce
	Annotations []Annotation
	Currency    string
	Generated   time.Time
	quota       quotaCover
	// covers is, per metric, what its figures cover as the appendix's
	// window column says it (scorecard.ColumnCovers of its span): a state
	// (ARR, open vulnerabilities) or NRR's year-old cohort is no "30d".
	covers map[string]string
}

// BuildBoard computes a board pack for the month starting at month, as of
// the month's end (the first instant of the next month). Call it under the
// engine's read lock. visible is the audience's grants (nil: everything).
func BuildBoard(cat *catalog.Catalog, ds *metrics.Dataset, month time.Time, visible func(*catalog.Metric) bool, annotations []Annotation, currency string, now time.Time) *Board {
	end := month.AddDate(0, 1, 0)
	// The month's figures are the calendar month's: a 30-day window back
	// from its end would leave out its first day (or, for February, count
	// two days of January).
	// The month closes at end, and so does a quarter ending with it: its
	// quota figures are that quarter's, not the next one's, begun at end
	// with nothing won (0 %) and no pipeline yet (scorecard.Options.Closing).
	sc := scorecard.Build(cat, ds, scorecard.Options{AsOf: end, Month: end.Sub(month), Closing: true, Visible: visible})
	b := &Board{Month: month, AsOf: end, Scorecard: sc, Currency: currency, Generated: now.UTC()}
	at := cat.At(end)
	b.covers = map[string]string{}
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if m, ok := at.Metric(c.ID); ok {
				b.Definitions = append(b.Definitions, definitionOf(m))
				b.covers[c.ID] = scorecard.ColumnCovers(m.Span, c.Window)
			}
		}
	}
	b.Settings = settingsRead(ds.At(end), b.Definitions)
	b.quota = coverQuota(at, sc, end)
	b.Annotations = Overlapping(annotations, end.AddDate(0, 0, -7*scorecard.SeriesPoints), end)
	return b
}

// settingsRead are the settings the metrics defined read, each once, in
// metrics.ValueSettings' order.
func settingsRead(ds *metrics.Dataset, defs []Definition) []metrics.InForce {
	read := map[metrics.Setting]metrics.InForce{}
	for _, d := range defs {
		for _, st := range ds.SettingsInForce(d.Metric) {
			read[st.Name] = st
		}
	}
	var out []metrics.InForce
	for _, s := range metrics.ValueSettings {
		if st, ok := read[s.Name]; ok {
			out = append(out, st)
		}
	}
	return out
}

// monthSpan is "1–31 October 2026".
func (b *Board) monthSpan() string {
	last := b.AsOf.AddDate(0, 0, -1)
	return fmt.Sprintf("%d–%s", b.Month.Day(), last.Format("2 January 2006"))
}

// quotaCover is what a pack says of its quota-period metrics (catalog
// span quota_period: the built-ins' quota attainment and pipeline
// coverage, and an organisation's own), found once by BuildBoard from the
// catalog, not from a list of ids that missed an organisation's metric:
// the sentence naming them and the period (QuotaPeriod), said on two pages,
// and each one's period for the appendix's window column, where the month
// ("31d") had stood.
type quotaCover struct {
	note   string
	period map[string]string // metric id → "1 Jul–30 Sep"; "quota period" without one
}

// coverQuota finds the cards of metrics whose figures cover a quota
// period, not the month: the period holding the month's last instant for
// those looking back (attainment), the one beginning at the month's end
// for one looking ahead (coverage: metrics.Def.Ahead) in a quarter-end
// month. One sentence per period, the one the month closes first.
func coverQuota(at *catalog.Catalog, sc *scorecard.Scorecard, asOf time.Time) quotaCover {
	q := quotaCover{period: map[string]string{}}
	type group struct {
		start, end     time.Time
		names, outlook []string
	}
	var groups []*group
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			m, ok := at.Metric(c.ID)
			if !ok || m.Span != catalog.SpanQuotaPeriod {
				continue
			}
			ps, pe := c.Detail.PeriodStart, c.Detail.PeriodEnd
			if ps == nil || pe == nil {
				q.period[c.ID] = "quota period"
				continue
			}
			// The period's end is exclusive: a quarter ending 1 October
			// is 30 September's.
			q.period[c.ID] = ps.UTC().Format("2 Jan") + "–" + pe.UTC().Add(-time.Nanosecond).Format("2 Jan")
			k := slices.IndexFunc(groups, func(g *group) bool { return g.start.Equal(*ps) && g.end.Equal(*pe) })
			if k < 0 {
				groups = append(groups, &group{start: ps.UTC(), end: pe.UTC()})
				k = len(groups) - 1
			}
			// The period's result (attainment, lagging) before its outlook
			// (coverage, leading), as a reader asks of a quarter.
			if m.Type == catalog.Leading {
				groups[k].outlook = append(groups[k].outlook, c.Name)
			} else {
				groups[k].names = append(groups[k].names, c.Name)
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return a.start.Compare(b.start) })
	var notes []string
	for _, g := range groups {
		names := append(g.names, g.outlook...)
		subject, verb := names[0], "covers"
		if n := len(names); n > 1 {
			list := []string{names[0]}
			for _, name := range names[1:] {
				list = append(list, midSentence(name))
			}
			subject, verb = strings.Join(list[:n-1], ", ")+" and "+list[n-1], "cover"
		}
		if len(notes) > 0 {
			subject = midSentence(subject)
		}
		span := g.start.Format("2 January 2006") + " – " + g.end.Add(-time.Nanosecond).Format("2 January 2006")
		how := "which the month closes"
		if g.end.After(asOf) {
			how = "still open at the month's end"
			if !g.start.Before(asOf) {
				how = "which begins at the month's end (a figure looking ahead)"
			}
		}
		notes = append(notes, fmt.Sprintf("%s %s the quota period %s, %s", subject, verb, span, how))
	}
	if len(notes) > 0 {
		q.note = strings.Join(notes, "; ") + "."
	}
	return q
}

// QuotaPeriod says which quota period the pack's quota figures cover:
// "Quota attainment and pipeline coverage cover the quota period 1 July
// 2026 – 30 September 2026, which the month closes." "" when no card in
// the pack has a quota period.
func (b *Board) QuotaPeriod() string { return b.quota.note }

// midSentence writes a name as it reads inside a sentence: "Pipeline
// coverage" as "pipeline coverage", "ARR" as it is.
func midSentence(name string) string {
	r := []rune(name)
	if len(r) > 1 && unicode.IsUpper(r[0]) && unicode.IsLower(r[1]) {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}

// days is the month's length in days.
func (b *Board) days() int { return int(b.AsOf.Sub(b.Month).Hours() / 24) }

// trendBefore says what the month's figures' trends compare with: the
// days before the month, as many as it has (SPEC §3), which are the
// calendar month before only when it is as long (December before January,
// July before August: scorecard.PreviousMonthIsWindowBefore).
func (b *Board) trendBefore() string {
	words := fmt.Sprintf("the %d days before %s", b.days(), b.Month.Format("2 January"))
	if prev, ok := scorecard.PreviousMonthIsWindowBefore(catalog.Month{Year: b.Month.Year(), Month: b.Month.Month()}); ok {
		return words + ", which are " + prev.Words()
	}
	return words + ", not the calendar month before"
}

// MonthName is "November 2026".
func (b *Board) MonthName() string { return b.Month.Format("January 2006") }

// colours, RGB.
var (
	ink     = [3]int{28, 36, 48}
	muted   = [3]int{91, 102, 117}
	rule    = [3]int{223, 229, 238}
	accent  = [3]int{29, 78, 216}
	shade   = [3]int{238, 242, 248}
	pdfLook = map[catalog.Status][2][3]int{ // text, background
		catalog.Green:   {{15, 107, 58}, {223, 243, 231}},
		catalog.Amber:   {{138, 82, 0}, {255, 241, 214}},
		catalog.Red:     {{164, 22, 26}, {253, 226, 225}},
		catalog.Unknown: {{74, 83, 97}, {233, 237, 242}},
	}
)

// pdfText replaces what the PDF core fonts (Windows-1252) cannot show.
var pdfText = strings.NewReplacer("≥", ">=", "≤", "<=", "→", "->", "Σ", "sum", "≈", "~", "✓", "", "−", "-", "⁄", "/")

// PDF renders the board pack: the one-page scorecard, the trends of the
// headline metrics, the revenue and delivery sections with their charts,
// and the definitions appendix with versions and sign-off state.
func (b *Board) PDF() ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(b.Generated)
	pdf.SetModificationDate(b.Generated)
	pdf.SetTitle("Board pack "+b.MonthName(), true)
	pdf.SetAuthor("Candor", true)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 18)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	w := &writer{pdf: pdf, tr: func(s string) string { return tr(pdfText.Replace(s)) }, b: b}
	pdf.AliasNbPages("{nb}")
	// Every page, a section's first or one a table or chart ran onto,
	// names the pack and its month at the top, as the footer does below
	// (heading() had drawn it, so a continued appendix page lacked it).
	pdf.SetHeaderFunc(func() {
		w.font("", 9, muted)
		pdf.CellFormat(0, 5, w.tr("CANDOR BOARD PACK · "+strings.ToUpper(b.MonthName())), "", 1, "L", false, 0, "")
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		w.font("", 8, muted)
		pdf.CellFormat(0, 5, w.tr(fmt.Sprintf("Candor board pack, %s · as of %s · generated %s · page %d of {nb}",
			b.MonthName(), b.AsOf.Format("2 Jan 2006 15:04 MST"), b.Generated.Format("2 Jan 2006 15:04 MST"), pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	w.scorecardPage()
	w.trendsPage()
	w.sectionPage("growth", "Revenue", strings.TrimSpace("The Growth pillar: recurring revenue, retention and pipeline, as of the month's end. "+b.QuotaPeriod()))
	w.sectionPage("delivery", "Delivery", "How fast and how safely changes reach production: the DORA keys and their stages.")
	w.appendix()
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

type writer struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
	b   *Board
	// rowH is the height of a table row (scoreRow); 0 is 5.2 mm. The
	// scorecard page's are lower, so that the notes naming its unknown
	// metrics and its rows without a trend stay on its one sheet.
	rowH float64
}

func (w *writer) font(style string, size float64, c [3]int) {
	w.pdf.SetFont("Helvetica", style, size)
	w.pdf.SetTextColor(c[0], c[1], c[2])
}

// value is a figure as the pack's tables and charts write it: FormatValue's,
// but money in whole currency units, its currency kept (centsNote gives
// the cents where whole units blur what a row is judged by).
//
// FormatValue keeps the cents of an amount under a thousand only, which
// suits a figure read alone, not a table a CFO reads down a column:
// Contraction MRR's "370.57 USD" had stood in one column with "9,425 USD"
// and "5,801,833 USD", beside its own target "472 USD", as if it alone
// were exact. A board reads revenue in whole units — cents on ARR are
// noise, and to the cent a multi-million ARR no longer fits its column —
// so every amount in the pack's tables is whole; only the MRR bridge is
// to the cent, so that it adds up as printed, and it says so.
func (w *writer) value(v *float64, unit string) string {
	if v != nil && isMoney(unit) {
		x := math.Round(*v)
		return scorecard.FormatValue(&x, unit, w.b.Currency)
	}
	return scorecard.FormatValue(v, unit, w.b.Currency)
}

// isMoney says whether unit is an amount of the organisation's currency
// ("currency", or over a span: "currency/day", "currency/30d").
func isMoney(unit string) bool { return strings.HasPrefix(unit, "currency") }

// cents writes an amount in unit to the cent, both decimals shown, its
// currency kept: 472.38 USD, 3,672.34 USD/day.
func (w *writer) cents(x float64, unit string) string {
	s := scorecard.Amount(math.Abs(x))
	if x < 0 && s != "0.00" {
		s = "-" + s
	}
	return s + " " + cmp.Or(w.b.Currency, "USD") + strings.TrimPrefix(unit, "currency")
}

// centsNote gives to the cent the money rows of a table (cs) that whole
// units blur: a value and its target, or the threshold bound it is judged
// by, that differ but read alike ("472 USD" against a target of "472
// USD", though 472.38 is over 472.07 and the row amber), or an amount that
// reads "0" and is not; "" when none does. The table keeps its one
// precision; the note says what the badge was judged on.
func (w *writer) centsNote(cs []scorecard.Card) string {
	alike := func(x, y float64) bool { return x != y && math.Round(x) == math.Round(y) }
	hidden := func(x float64) bool { return x != 0 && math.Round(x) == 0 }
	var rows []string
	for _, c := range cs {
		if c.Value == nil || !isMoney(c.Unit) {
			continue
		}
		v := *c.Value
		var against []string
		if c.Target != nil {
			if t := *c.Target; alike(v, t) || hidden(t) {
				against = append(against, "a target of "+w.cents(t, c.Unit))
			}
		} else if c.Thresholds != nil && c.Thresholds.RelativeTo == "" {
			t := c.ShownThresholds()
			if alike(v, t.Green) {
				against = append(against, "a green bound of "+w.cents(t.Green, c.Unit))
			}
			if alike(v, t.Amber) {
				against = append(against, "an amber bound of "+w.cents(t.Amber, c.Unit))
			}
		}
		if len(against) > 0 || hidden(v) {
			row := c.Name + " " + w.cents(v, c.Unit)
			if len(against) > 0 {
				row += " against " + strings.Join(against, " and ")
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return ""
	}
	return "Amounts are in whole currency units; to the cent where that makes a value read as its target or bound, or as 0: " + strings.Join(rows, "; ") + "."
}

func (w *writer) heading(title, sub string) {
	w.pdf.AddPage()
	w.font("B", 18, ink)
	w.pdf.CellFormat(0, 9, w.tr(title), "", 1, "L", false, 0, "")
	if sub != "" {
		w.font("", 9.5, muted)
		w.pdf.MultiCell(0, 4.5, w.tr(sub), "", "L", false)
	}
	w.pdf.Ln(3)
}

// badge draws a status as a tinted box with its word: colour is never
// the only signal.
func (w *writer) badge(x, y float64, s catalog.Status) { w.badgeH(x, y+0.8, 4.4, s) }

// badgeH is badge with its box's top and height.
func (w *writer) badgeH(x, top, h float64, s catalog.Status) {
	l, ok := pdfLook[s]
	if !ok {
		l = pdfLook[catalog.Unknown]
	}
	w.pdf.SetFillColor(l[1][0], l[1][1], l[1][2])
	w.pdf.RoundedRect(x, top, 17, h, 1.2, "1234", "F")
	w.pdf.SetXY(x, top)
	w.font("B", 7.5, l[0])
	w.pdf.CellFormat(17, h, strings.ToUpper(string(s)), "", 0, "C", false, 0, "")
}

func trendWord(t scorecard.Trend) string {
	switch t.Assessment {
	case "better":
		return "better"
	case "worse":
		return "worse"
	case "same":
		return "flat"
	}
	return ""
}

func (w *writer) scorecardPage() {
	sc := w.b.Scorecard
	w.heading("Scorecard, "+w.b.MonthName(), fmt.Sprintf("Every metric as of %s against its target: those defined over 30 days over the calendar month (%s, %d days; a count's bar scaled to its length), the others over their own window (appendix); the pillar takes its worst metric's status (unknown counts as amber). Trend: against as long a span before it (for the month's figures, %s; for a state such as ARR, the state at %s).",
		w.b.AsOf.Format("2 Jan 2006 15:04 MST"), w.b.monthSpan(), w.b.days(), w.b.trendBefore(), w.b.Month.Format("2 January")))
	pdf := w.pdf
	cols := scoreCols
	w.rowH = 4.6
	defer func() { w.rowH = 0 }()
	w.scoreHead(cols)
	var rules []string
	var listed []scorecard.Card
	for _, p := range sc.Pillars {
		if pdf.GetY() > 262 {
			w.scoreContinued(cols)
		}
		y := pdf.GetY()
		pdf.SetFillColor(shade[0], shade[1], shade[2])
		pdf.Rect(15, y, 180, 6.5, "F")
		pdf.SetXY(16, y+0.5)
		w.font("B", 10, ink)
		pdf.CellFormat(70, 5.5, w.tr(p.Name), "", 0, "L", false, 0, "")
		// The pillar takes its worst metric, which may not be a P0 one
		// listed below: say how many of each status it has.
		w.font("", 7.5, muted)
		pdf.CellFormat(88, 5.5, w.tr(tally(p.Metrics)), "", 0, "R", false, 0, "")
		w.badge(176, y+0.3, p.Status)
		pdf.SetXY(15, y+7.5)
		if p.NoData != "" {
			// Said once, not as a row of metrics each "never sent".
			w.font("", 8.5, muted)
			pdf.CellFormat(0, 5.6, w.tr(p.NoData), "", 1, "L", false, 0, "")
			continue
		}
		rows := scoreRows(p)
		for _, c := range rows {
			// A row that would cross the foot goes on a page headed as
			// the table's, with its columns: left to the automatic break,
			// its name went to the next page and its badge stayed behind.
			if pdf.GetY()+w.rowH > pageBottom {
				w.scoreContinued(cols)
			}
			w.scoreRow(cols, c)
			if r := w.rule(c); r != "" {
				rules = append(rules, c.Name+": "+r)
			}
		}
		listed = append(listed, rows...)
	}
	pdf.Ln(2)
	var thresholds string
	if len(rules) > 0 {
		// A red or amber row with no target ("—") said nowhere against
		// what it was judged: NRR 97.67 % red beside a dash, its 110 %
		// green bound on no page a board member reads before the charts.
		thresholds = "Thresholds of the red and amber rows without a target (red past the amber bound): " + strings.Join(rules, "; ") + "."
	}
	// The pillars' tallies count unknown metrics the rows may not list
	// ("1 unknown of 6 metrics" under Security, which one not said): each
	// is named with why it has no status.
	var unknown []scorecard.Card
	for _, p := range sc.Pillars {
		if p.NoData == "" {
			unknown = append(unknown, unknownCards(p.Metrics)...)
		}
	}
	w.notesFit(pageBottom, "Notes to the scorecard, "+w.b.MonthName(), []string{thresholds, w.centsNote(listed), unknownNote(unknown), trendNote(listed), degradingNote(listed), w.freshNote(listed)},
		strings.Join(slices.DeleteFunc([]string{"The P0 and red metrics of each pillar; * marks the headline metrics. Status is shown in words as well as colour.", w.greyNote(listed),
			"The definitions appendix lists every metric with its version and sign-off state.", w.b.QuotaPeriod()}, func(s string) bool { return s == "" }), " "))
}

// scoreContinued starts a page the scorecard's table goes on onto,
// headed so that it reads alone, with its columns.
func (w *writer) scoreContinued(cols []float64) {
	w.continued("Scorecard, " + w.b.MonthName())
	w.scoreHead(cols)
}

// lines counts the lines text takes wrapped at width in the current font,
// breaking between words as MultiCell does (fpdf's SplitText reads the
// translated text as UTF-8, which it no longer is).
func (w *writer) lines(text string, width float64) int {
	n, line := 1, 0.0
	space := w.pdf.GetStringWidth(" ")
	for i, word := range strings.Fields(text) {
		ww := w.pdf.GetStringWidth(w.tr(word))
		switch {
		case i == 0:
			line = ww
		case line+space+ww > width-2*w.pdf.GetCellMargin():
			n++
			line = ww
		default:
			line += space + ww
		}
	}
	return n
}

// pageBottom is where the text of a page ends, above the footer (the
// auto page break's margin).
const pageBottom = 279.0

// noteSize is the font size and line height of the scorecard page's notes
// (its legend is set half a point larger, muted): the least a board
// member reads on paper without effort. They had been shrunk to fit down to
// 6 pt, and past that run on, leaving the legend's last lines alone on
// page 2.
var noteSize = [2]float64{8, 3.8}

// notesHeight is the height notes (the empty ones left out) and legend
// take at noteSize.
func (w *writer) notesHeight(notes []string, legend string) float64 {
	h := 0.0
	w.font("", noteSize[0], ink)
	for _, n := range notes {
		if n != "" {
			h += float64(w.lines(n, 180))*noteSize[1] + 1
		}
	}
	if legend != "" {
		w.font("", noteSize[0]+0.5, muted)
		h += float64(w.lines(legend, 180)) * (noteSize[1] + 0.4)
	}
	return h
}

// writeNotes writes notes, then the legend in muted type, at noteSize.
func (w *writer) writeNotes(notes []string, legend string) {
	for _, n := range notes {
		if n == "" {
			continue
		}
		w.font("", noteSize[0], ink)
		w.pdf.MultiCell(0, noteSize[1], w.tr(n), "", "L", false)
		w.pdf.Ln(1)
	}
	if legend != "" {
		w.font("", noteSize[0]+0.5, muted)
		w.pdf.MultiCell(0, noteSize[1]+0.4, w.tr(legend), "", "L", false)
	}
}

// notesFit writes the scorecard table's notes and legend under it when
// all fit above bottom at noteSize. Otherwise the notes go, whole, to a
// page of their own headed title (the pack's running head above it), and
// the legend stays under the table saying where they are — or goes with
// them when even it does not fit. Never one part on one page and a line
// or two on the next.
func (w *writer) notesFit(bottom float64, title string, notes []string, legend string) {
	pdf := w.pdf
	if pdf.GetY()+w.notesHeight(notes, legend) <= bottom {
		w.writeNotes(notes, legend)
		return
	}
	page := legend
	if slices.ContainsFunc(notes, func(n string) bool { return n != "" }) {
		page = strings.TrimSpace(legend + fmt.Sprintf(" The notes to this table (thresholds, unknown statuses, trends, data) are on page %d.", pdf.PageNo()+1))
	}
	if pdf.GetY()+w.notesHeight(nil, page) <= bottom {
		w.writeNotes(nil, page)
		legend = ""
	}
	w.heading(title, fmt.Sprintf("Under the table on page %d: against what its red and amber rows without a target were judged, why some have no status or no trend, and how current their data is.", pdf.PageNo()))
	w.writeNotes(notes, legend)
}

// scoreCols are the widths of the scorecard page's and the sections'
// tables: metric, value, target, status, trend, owner.
var scoreCols = []float64{62, 26, 26, 19, 14, 33}

// scoreHead draws the column headings of a table of scoreRow rows. The
// Revenue and Delivery pages' tables had none: a board member met a
// figure, a dash and "better" with nothing to say which was the target.
func (w *writer) scoreHead(cols []float64) {
	w.font("B", 7.5, muted)
	for i, h := range []string{"Metric", "Value", "Target", "Status", "Trend", "Owner"} {
		align := "L"
		if i == 1 || i == 2 {
			align = "R"
		}
		w.pdf.CellFormat(cols[i], 5, h, "", 0, align, false, 0, "")
	}
	w.pdf.Ln(6)
}

// notes writes, in small type under a table, the sentences not empty.
func (w *writer) notes(sentences ...string) {
	for _, s := range sentences {
		if s == "" {
			continue
		}
		w.font("", 7.5, ink)
		w.pdf.MultiCell(0, 3.6, w.tr(s), "", "L", false)
		w.pdf.Ln(1)
	}
}

// unknownCards are the cards of cs without a status, in their order.
func unknownCards(cs []scorecard.Card) []scorecard.Card {
	var out []scorecard.Card
	for _, c := range cs {
		if c.Status == catalog.Unknown {
			out = append(out, c)
		}
	}
	return out
}

// unknownNote names each metric without a status and why (the card's
// reason, as its page gives it); "" for none.
func unknownNote(cs []scorecard.Card) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+": "+cmp.Or(c.Reason, "no reason recorded"))
	}
	if len(parts) == 0 {
		return ""
	}
	return scorecard.ReadableTimes("Unknown status (counted as amber): "+strings.Join(parts, "; ")+".", boardTime)
}

// degradingNote names the rows whose weekly values worsened three windows
// running (scorecard.Degrading), whatever their colour, as the scorecard
// marks them "DEGRADING": the pack had shown lead time green and "better"
// with no word of its three worse weeks. "" for none.
func degradingNote(cs []scorecard.Card) string {
	var names []string
	for _, c := range cs {
		if c.Degrading {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "Degrading (worse three weekly windows running, whatever the status): " + strings.Join(names, ", ") + "."
}

// boardTime is how the pack writes a time in a sentence.
const boardTime = "2 Jan 2006 15:04 UTC"

// freshNote says how current the data of each row is, as the scorecard's
// "data as of" does beside every card: the rows whose newest record is
// more than a day before the month's end are named, with the kind and
// time, and whether that is stale (past its freshness limit) or a state
// that did not change since (never stale by its records' times); the
// others are said to reach the month's end. The pack had said nothing of
// freshness: a figure on data that stopped days before the month's end
// read as the month's. "" when no row has data.
func (w *writer) freshNote(cs []scorecard.Card) string {
	// Rows behind for one reason are named together: "subscription data
	// to 26 Nov 2026 14:28 UTC (…): ARR, NRR".
	var order []string
	names := map[string][]string{}
	dated := 0
	for _, c := range cs {
		f := c.Freshness
		if f.LastData == nil {
			continue
		}
		dated++
		if w.b.AsOf.Sub(*f.LastData) <= 24*time.Hour {
			continue
		}
		why := "data to " + f.LastData.UTC().Format(boardTime)
		if i := slices.IndexFunc(f.Sources, func(s scorecard.SourceFresh) bool { return s.LastData != nil && s.LastData.Equal(*f.LastData) }); i >= 0 {
			src := f.Sources[i]
			why = src.Kind + " " + why
			switch {
			case src.Stale:
				why += ", STALE (past its " + cmp.Or(src.Limit, "freshness") + " limit)"
			case src.State:
				why += " (a state: unchanged since, never stale)"
			}
		}
		if names[why] == nil {
			order = append(order, why)
		}
		names[why] = append(names[why], c.Name)
	}
	if dated == 0 {
		return ""
	}
	if len(order) == 0 {
		return "Data: every row's newest record is within a day of the month's end."
	}
	var behind []string
	n := 0
	for _, why := range order {
		behind = append(behind, why+": "+strings.Join(names[why], ", "))
		n += len(names[why])
	}
	rest := "the other rows' data reaches within a day of it"
	if n == dated {
		rest = "no row's data reaches within a day of it"
	}
	return fmt.Sprintf("Data behind the month's end (%s): %s; %s.", w.b.AsOf.Format(boardTime), strings.Join(behind, "; "), rest)
}

// noTrend is a card's trend cell when it has none, and trendWhy why.
const noTrend = "none"

func trendWhy(c scorecard.Card) string { return cmp.Or(c.Trend.NotComparable, c.Trend.Missing) }

// trendNote says why each row with no trend has none ("none" in its
// cell); a blank cell beside the others' words had read as lost data
// (lifetime value's, whose month before had no value). "" for none.
func trendNote(cs []scorecard.Card) string {
	var parts []string
	for _, c := range cs {
		switch {
		case trendWord(c.Trend) != "":
		case c.Value == nil && c.Trend.NotComparable == "":
			// Why it has no value is said once, with its unknown status.
			parts = append(parts, c.Name+": no value for this window")
		default:
			parts = append(parts, c.Name+": "+cmp.Or(trendWhy(c), "no value for this or the window before"))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return scorecard.ReadableTimes("No trend: "+strings.Join(parts, "; ")+".", boardTime)
}

// scoreRows are the cards of p the scorecard page lists: its headline and
// P0 metrics, every red one, and, for a pillar amber with none of those
// amber or unknown, the first that is. The pillar takes its worst metric's
// status: a red pillar listing only amber and green rows (the demo's
// Security red for vulnerability SLA breaches, a P1) left a board member
// asking why, with nothing in the pack but the tally to say.
func scoreRows(p scorecard.Pillar) []scorecard.Card {
	var out []scorecard.Card
	amber := false
	for _, c := range p.Metrics {
		if c.Headline || c.Priority == "P0" || c.Status == catalog.Red {
			out = append(out, c)
			amber = amber || c.Status == catalog.Amber || c.Status == catalog.Unknown
		}
	}
	if p.Status != catalog.Amber || amber {
		return out
	}
	for i, c := range p.Metrics {
		if c.Status == catalog.Amber || c.Status == catalog.Unknown {
			// In the pillar's order, as the others are.
			var rows []scorecard.Card
			for _, d := range p.Metrics[:i] {
				if slices.ContainsFunc(out, func(o scorecard.Card) bool { return o.ID == d.ID }) {
					rows = append(rows, d)
				}
			}
			return append(append(rows, c), out[len(rows):]...)
		}
	}
	return out
}

// rule states the thresholds a red or amber row with no target was judged
// by, as the printed web scorecard's legend does; "" for a green or
// unknown row, a metric judged by another's status, one without
// thresholds, or one with a target (its row shows it).
func (w *writer) rule(c scorecard.Card) string {
	if (c.Status != catalog.Red && c.Status != catalog.Amber) || c.JudgedBy != "" || c.Thresholds == nil || c.Target != nil {
		return ""
	}
	r := scorecard.ThresholdRule(c.ShownThresholds(), c.Better, c.Unit, w.b.Currency)
	// The legend's sentence says red is past the amber bound once, for
	// every row: the page has room for the bounds, not for the words.
	r = strings.TrimSuffix(strings.TrimSuffix(r, ", red below"), ", red above")
	return r + c.Scaled()
}

// tally counts a pillar's metrics by status: "2 red, 3 amber, 4 green, 1 unknown of 10 metrics".
func tally(cs []scorecard.Card) string {
	n := map[catalog.Status]int{}
	for _, c := range cs {
		n[c.Status]++
	}
	var parts []string
	for _, s := range []catalog.Status{catalog.Red, catalog.Amber, catalog.Green, catalog.Unknown} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" of %d metrics", len(cs))
}

func (w *writer) scoreRow(cols []float64, c scorecard.Card) {
	pdf := w.pdf
	y := pdf.GetY()
	x := 15.0
	h := cmp.Or(w.rowH, 5.2)
	name := c.Name
	if c.Headline {
		name = "* " + name
	}
	w.font("", 8.5, ink)
	pdf.SetXY(x, y)
	pdf.CellFormat(cols[0], h, w.tr(fit(name, 44)), "", 0, "L", false, 0, "")
	x += cols[0]
	// A value of stale data is the last known, not the month's, and one
	// on too few cases is not judged: greyed (its UNKNOWN badge and the
	// notes say why), where each had been bold in full ink like a judged
	// one.
	style, colour := w.b.valueLook(c)
	w.font(style, 8.5, colour)
	pdf.CellFormat(cols[1], h, w.tr(w.value(c.Value, c.Unit)), "", 0, "R", false, 0, "")
	w.font("", 8.5, muted)
	target := "—"
	if c.Target != nil {
		target = w.value(c.Target, c.Unit)
	}
	pdf.CellFormat(cols[2], h, w.tr(target), "", 0, "R", false, 0, "")
	x += cols[1] + cols[2]
	w.badgeH(x+1, y+0.4, h-0.8, c.Status)
	x += cols[3]
	pdf.SetXY(x, y)
	w.font("", 8, muted)
	pdf.CellFormat(cols[4], h, cmp.Or(trendWord(c.Trend), noTrend), "", 0, "L", false, 0, "")
	pdf.CellFormat(cols[5], h, w.tr(fit(c.Owner, 22)), "", 1, "L", false, 0, "")
	pdf.SetDrawColor(rule[0], rule[1], rule[2])
	pdf.Line(15, pdf.GetY(), 195, pdf.GetY())
}

// valueLook is the font style and colour of a row's value: bold in full
// ink, or plain and muted for a value not judged — of stale data, or
// resting on too few cases (the SaaS quick ratio's 17.9× on one case had
// stood bold beside its UNKNOWN).
func (b *Board) valueLook(c scorecard.Card) (string, [3]int) {
	if b.greyed(c) {
		return "", muted
	}
	return "B", ink
}

// greyed reports whether c's value is drawn greyed: not judged
// (scorecard.Card.Unjudged), as the pages grey it.
func (b *Board) greyed(c scorecard.Card) bool { return c.Unjudged() }

// greyNote says, when some of cs are greyed, what a grey value is; ""
// otherwise.
func (w *writer) greyNote(cs []scorecard.Card) string {
	if !slices.ContainsFunc(cs, w.b.greyed) {
		return ""
	}
	return "A value in grey is shown but not judged (UNKNOWN): its data are stale, or it rests on fewer cases than its metric's minimum sample (min_sample)."
}

// fit shortens s to n runes.
func fit(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// cards returns the scorecard's cards that match keep, in pillar order.
func (w *writer) cards(keep func(scorecard.Card, string) bool) []scorecard.Card {
	var out []scorecard.Card
	for _, p := range w.b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			if keep(c, p.ID) {
				out = append(out, c)
			}
		}
	}
	return out
}

func (w *writer) trendsPage() {
	// A pillar with no data sent has no trend to draw: the scorecard page says why.
	cs := w.cards(func(c scorecard.Card, p string) bool { return c.Headline && w.noData(p) == "" })
	w.heading("Trends", "The headline metrics over the last 12 weekly windows to the month's end. Shaded: business-cycle periods (annotations); dashed: the green and amber thresholds.")
	if len(w.b.Annotations) > 0 {
		w.font("B", 8.5, ink)
		w.pdf.CellFormat(0, 4.5, "Context", "", 1, "L", false, 0, "")
		w.font("", 8.5, ink)
		for _, a := range w.b.Annotations {
			w.pdf.CellFormat(0, 4.5, w.tr("- "+a.Name+" ("+strings.ReplaceAll(a.Kind, "_", " ")+", "+periodText(a)+")"), "", 1, "L", false, 0, "")
		}
		w.pdf.Ln(2)
	}
	w.charts("Trends", cs)
}

func (w *writer) sectionPage(pillar, title, sub string) {
	cs := w.cards(func(c scorecard.Card, p string) bool { return p == pillar })
	if len(cs) == 0 {
		return
	}
	if why := w.noData(pillar); why != "" {
		// No rows of dashes and no empty charts: what has not been sent.
		w.heading(title, why)
		return
	}
	w.heading(title, sub)
	cols := scoreCols
	w.scoreHead(cols)
	for _, c := range cs {
		if w.pdf.GetY() > 265 {
			w.pdf.AddPage()
			w.scoreHead(cols)
		}
		w.scoreRow(cols, c)
	}
	w.pdf.Ln(2)
	w.notes(w.centsNote(cs), unknownNote(unknownCards(cs)), w.greyNote(cs), trendNote(cs), degradingNote(cs), w.freshNote(cs))
	w.pdf.Ln(1)
	if pillar == "growth" {
		w.mrrBridge(cs)
	}
	var charted []scorecard.Card
	for _, c := range cs {
		if c.Priority == "P0" || c.Headline {
			charted = append(charted, c)
		}
	}
	w.charts(title, charted)
}

// mrrBridge draws the month's MRR bridge from the bridge metrics' cards:
// MRR at the month's start, each movement, MRR at its end and ARR, to the
// cent so that it adds up as printed. The Revenue page had listed the
// movements and ARR with no MRR at the month's start, so a board member
// could not tie ARR to them. Nothing when a movement has no value (no
// subscription data) or the catalog lacks one.
func (w *writer) mrrBridge(cs []scorecard.Card) {
	byID := map[string]scorecard.Card{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	var moves []scorecard.Card
	var start, end *float64
	var window string
	cur := w.b.Currency
	for _, move := range metrics.BridgeMoves {
		c, ok := byID[metrics.BridgeMetrics[move]]
		if !ok || c.Value == nil || c.Detail.MRRStart == nil || c.Detail.MRRNow == nil {
			return
		}
		start, end, window, cur = c.Detail.MRRStart, c.Detail.MRRNow, c.Window, cmp.Or(c.Detail.Currency, cur)
		moves = append(moves, c)
	}
	// The movements' window is the month's unless an organisation
	// defined them over another length (the pack keeps it, as the
	// scorecard page says): the bridge starts where their window does.
	from := w.b.Month
	if d, err := catalog.ParseWindow(window); err == nil {
		from = w.b.AsOf.Add(-d)
	}
	pdf := w.pdf
	if pdf.GetY() > 230 {
		pdf.AddPage()
	}
	money := func(v float64) string {
		a, _ := scorecard.AmountText(v)
		return a + " " + cur
	}
	w.font("B", 10, ink)
	pdf.CellFormat(0, 6, w.tr("MRR bridge "+scorecard.BridgeSpan(window, w.b.AsOf)), "", 1, "L", false, 0, "")
	w.font("", 8, muted)
	pdf.MultiCell(0, 4, w.tr("Where the change in MRR came from, customer by customer (each customer's MRR at the start against its MRR at the end), to the cent so that it adds up as printed; ARR is 12 × MRR at the month's end."), "", "L", false)
	pdf.Ln(1)
	line := func(label, amount string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		w.font(style, 8.5, ink)
		pdf.CellFormat(90, 5, w.tr(label), "", 0, "L", false, 0, "")
		pdf.CellFormat(40, 5, w.tr(amount), "", 1, "R", false, 0, "")
	}
	day := func(t time.Time) string { return t.Format("2 Jan 2006 15:04 MST") }
	line("MRR at "+day(from), money(*start), true)
	for i, c := range moves {
		sign := "+ "
		if move := metrics.BridgeMoves[i]; move == metrics.MoveContraction || move == metrics.MoveChurn {
			sign = "− "
		}
		line(sign+c.Name+" ("+plural.Count(c.Count, "customer")+")", money(*c.Value), false)
	}
	line("= MRR at "+day(w.b.AsOf), money(*end), true)
	line("ARR: 12 × MRR at "+day(w.b.AsOf), money(12**end), true)
	pdf.Ln(4)
}

// noData is the pillar's Pillar.NoData.
func (w *writer) noData(pillar string) string {
	for _, p := range w.b.Scorecard.Pillars {
		if p.ID == pillar {
			return p.NoData
		}
	}
	return ""
}

// Chart sizes, mm: a chart's width and full height, the least height
// it is drawn at to keep a section's charts on its page, and the gap
// between charts.
const chartW, chartH, chartMinH, chartGap = 87.0, 48.0, 38.0, 5.0

// chartBottom is the lowest a chart may reach, above the footer.
const chartBottom = 275.0

// charts draws cards' weekly series two to a row, under title's page.
// When the rows would run past the page at their full height but fit
// lower (down to chartMinH), they are drawn lower; when they fit at
// neither but would on a page of their own, they start one, headed
// "title (continued)". The Revenue page's MRR bridge had pushed its
// third chart, pipeline coverage, alone onto a page with no heading,
// away from its section's table and its two other charts. A run of
// charts longer than a page goes on a row at a time, each page headed.
func (w *writer) charts(title string, cs []scorecard.Card) {
	const cw, gap = chartW, chartGap
	ch := chartH
	rows := float64((len(cs) + 1) / 2)
	need := func(h float64) float64 { return rows*(h+gap) - gap }
	room := chartBottom - w.pdf.GetY()
	switch {
	case len(cs) == 0 || need(ch) <= room:
	case need(chartMinH) <= room:
		ch = (room+gap)/rows - gap
	case need(ch) <= chartBottom-chartTop:
		w.continued(title)
	}
	var y float64
	for i, c := range cs {
		if i%2 == 0 {
			if w.pdf.GetY()+ch > chartBottom {
				w.continued(title)
			}
			// Drawing moves the cursor: the row's top is kept for its
			// second chart.
			y = w.pdf.GetY()
		}
		w.chart(15+float64(i%2)*(cw+gap), y, cw, ch, c)
		if i%2 == 1 || i == len(cs)-1 {
			w.pdf.SetXY(15, y+ch+gap)
		}
	}
}

// chartTop is where a continued page's charts start, below its heading.
const chartTop = 32.0

// continued starts a page that goes on with title's section, headed so
// that it reads alone, as the appendix's continued pages are.
func (w *writer) continued(title string) {
	w.pdf.AddPage()
	w.font("B", 10, ink)
	w.pdf.CellFormat(0, 6, w.tr(title+" (continued)"), "", 1, "L", false, 0, "")
	w.pdf.Ln(2)
}

// chart draws one card's 12 weekly points as a line chart with its title,
// status, thresholds and the annotations' periods.
func (w *writer) chart(x, y, cw, ch float64, c scorecard.Card) {
	pdf := w.pdf
	pdf.SetDrawColor(rule[0], rule[1], rule[2])
	pdf.SetLineWidth(0.2)
	pdf.Rect(x, y, cw, ch, "D")
	pdf.SetXY(x+2, y+1.5)
	w.font("B", 8.5, ink)
	pdf.CellFormat(cw-24, 4.5, w.tr(fit(c.Name, 40)), "", 0, "L", false, 0, "")
	w.badge(x+cw-19, y+1.2, c.Status)
	pdf.SetXY(x+2, y+6)
	w.font("", 7.5, muted)
	pdf.CellFormat(cw-4, 4, w.tr(fmt.Sprintf("Now %s · owner %s", w.value(c.Value, c.Unit), c.Owner)), "", 0, "L", false, 0, "")
	// What a point covers beside what "Now" does: change failure rate's
	// last point, its last week (31.88 %), had stood at the top of the
	// chart under "Now 27.26 %", its month, with nothing to say why.
	pdf.SetXY(x+2, y+9.6)
	w.font("", 6, muted)
	covers := strings.NewReplacer("the figure above", "Now", "the page's time", "the month's end").Replace(c.ChartCovers())
	pdf.MultiCell(cw-4, 2.6, w.tr(covers), "", "L", false)
	// The plot ends where it did (8 mm above the box's foot, for the
	// dates) and starts below the words, one line or two.
	px, py, pw := x+14, pdf.GetY()+1.2, cw-18
	ph := y + ch - 8 - py
	var values, bounds []float64
	for _, p := range c.Series {
		if p.Value != nil {
			values = append(values, *p.Value)
		}
	}
	thr := c.Thresholds
	absolute := thr != nil && thr.RelativeTo == ""
	if absolute {
		bounds = []float64{thr.Green, thr.Amber}
	}
	lo, hi := scale(values, bounds)
	if math.IsInf(lo, 1) {
		w.font("", 8, muted)
		pdf.SetXY(px, py+ph/2-2)
		pdf.CellFormat(pw, 4, "no data in the last 12 weeks", "", 0, "C", false, 0, "")
		return
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	pad := (hi - lo) * 0.08
	lo, hi = lo-pad, hi+pad
	n := len(c.Series)
	start, end := c.Series[0].Start, c.Series[n-1].End
	xAt := func(t time.Time) float64 {
		return px + pw*float64(t.Sub(start))/float64(end.Sub(start))
	}
	yAt := func(v float64) float64 { return py + ph - (v-lo)/(hi-lo)*ph }
	for _, a := range w.b.Annotations {
		from, to := maxTime(a.From, start), minTime(a.To, end)
		if !from.Before(to) {
			continue
		}
		pdf.SetFillColor(223, 229, 238)
		pdf.Rect(xAt(from), py, xAt(to)-xAt(from), ph, "F")
	}
	pdf.SetDrawColor(rule[0], rule[1], rule[2])
	pdf.Line(px, py+ph, px+pw, py+ph)
	w.font("", 6.5, muted)
	ticks := axisTicks(lo+pad, hi-pad, thr, absolute, yAt)
	for i, y := range labelYs(ticks, yAt) {
		v := ticks[i]
		pdf.SetXY(x+1, y-1.5)
		pdf.CellFormat(12.5, 3, w.tr(axisValue(v, c.Unit, w.b.Currency)), "", 0, "R", false, 0, "")
		pdf.Line(px-1, yAt(v), px, yAt(v))
	}
	// The dates are the first and last points' (each a week's end): the
	// axis's left end, the first week's start, had been labelled as if it
	// were the first point (9 Jul under ARR at 16 Jul).
	first := c.Series[0].End
	pdf.SetXY(max(px-2, xAt(first)-8), py+ph+0.8)
	pdf.CellFormat(16, 3, first.Format("2 Jan"), "", 0, "C", false, 0, "")
	pdf.SetXY(px+pw/2, py+ph+0.8)
	pdf.CellFormat(pw/2, 3, end.Format("2 Jan 2006"), "", 0, "R", false, 0, "")
	if absolute {
		pdf.SetDashPattern([]float64{1, 1}, 0)
		pdf.SetLineWidth(0.25)
		for i, v := range []float64{thr.Green, thr.Amber} {
			l := pdfLook[catalog.Green][0]
			if i == 1 {
				l = pdfLook[catalog.Amber][0]
			}
			pdf.SetDrawColor(l[0], l[1], l[2])
			pdf.Line(px, yAt(v), px+pw, yAt(v))
		}
		pdf.SetDashPattern(nil, 0)
	}
	pdf.SetDrawColor(accent[0], accent[1], accent[2])
	pdf.SetFillColor(accent[0], accent[1], accent[2])
	pdf.SetLineWidth(0.5)
	var prev *fpdf.PointType
	for _, p := range c.Series {
		if p.Value == nil {
			prev = nil
			continue
		}
		v := *p.Value
		off := v > hi-pad || v < lo+pad
		// A point off the scale (scale) is drawn hollow at its edge with
		// its value beside it, and breaks the line.
		// It stands at the plot's very edge, in the padding beyond the
		// scale's last value (and its threshold lines), its label level
		// with it.
		v = math.Max(lo, math.Min(hi, v))
		pt := fpdf.PointType{X: xAt(p.End), Y: yAt(v)}
		if off {
			pdf.SetFillColor(255, 255, 255)
			pdf.Circle(pt.X, pt.Y, 0.9, "FD")
			pdf.SetFillColor(accent[0], accent[1], accent[2])
			w.font("", 6, accent)
			pdf.SetXY(pt.X+1.2, pt.Y-1.5)
			pdf.CellFormat(24, 3, w.tr(axisValue(*p.Value, c.Unit, w.b.Currency)+" (off the scale)"), "", 0, "L", false, 0, "")
			prev = nil
			continue
		}
		if prev != nil {
			pdf.Line(prev.X, prev.Y, pt.X, pt.Y)
		}
		pdf.Circle(pt.X, pt.Y, 0.6, "F")
		prev = &pt
	}
	pdf.SetLineWidth(0.2)
}

// scale is the range a chart's axis spans: its values' and the bounds'
// (the thresholds its dashed lines draw), less a value far above or below
// all the others — more than three times their span beyond them — which
// the chart draws at the edge with its value beside it. Pipeline
// coverage's 101.24× at the end of a quarter, its quota nearly all won,
// had flattened the eleven weeks after it (1.28× to 2.46×) and both its
// threshold lines into one line at the chart's foot. +Inf, -Inf for none.
func scale(values, bounds []float64) (lo, hi float64) {
	span := func(vs []float64) (float64, float64) {
		l, h := math.Inf(1), math.Inf(-1)
		for _, v := range vs {
			l, h = math.Min(l, v), math.Max(h, v)
		}
		return l, h
	}
	all := append(slices.Clone(values), bounds...)
	lo, hi = span(all)
	if len(values) < 4 {
		return lo, hi
	}
	sorted := slices.Sorted(slices.Values(values))
	// The rest: without the highest, then without the lowest.
	if l, h := span(append(slices.Clone(sorted[:len(sorted)-1]), bounds...)); h > l && hi-h > 3*(h-l) {
		hi = h
	}
	if l, h := span(append(slices.Clone(sorted[1:]), bounds...)); h > l && l-lo > 3*(h-l) {
		lo = l
	}
	return lo, hi
}

// axisTicks are the values a chart's axis labels: the green and amber
// thresholds its dashed lines draw, and its lowest and highest, each of
// those unless within 3.2 mm of one labelled already (yAt places a value). The amber
// line of change failure rate (15 %) had been drawn with no value beside
// it, between the axis's 5 % and 31.88 %.
func axisTicks(lo, hi float64, thr *scorecard.Thresholds, absolute bool, yAt func(float64) float64) []float64 {
	// The threshold lines first, both always (labelYs keeps their labels
	// apart): an end's value beside a line had taken its place, and
	// pipeline coverage's green 3× and amber 2× near its lowest point
	// (1.83×) were drawn unlabelled.
	var ticks []float64
	if absolute {
		ticks = append(ticks, thr.Green)
		if thr.Amber != thr.Green {
			ticks = append(ticks, thr.Amber)
		}
	}
	for _, v := range []float64{lo, hi} {
		if !slices.ContainsFunc(ticks, func(t float64) bool { return math.Abs(yAt(t)-yAt(v)) < 3.2 }) {
			ticks = append(ticks, v)
		}
	}
	return ticks
}

// labelYs places the ticks' labels at their values' heights, moving one
// closer than 3.2 mm to the one below it down (the threshold lines may lie
// closer together than a label's height).
func labelYs(ticks []float64, yAt func(float64) float64) []float64 {
	ys := make([]float64, len(ticks))
	order := make([]int, len(ticks))
	for i, v := range ticks {
		ys[i], order[i] = yAt(v), i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ys[a], ys[b]) })
	for k := 1; k < len(order); k++ {
		if prev := ys[order[k-1]]; ys[order[k]]-prev < 3.2 {
			ys[order[k]] = prev + 3.2
		}
	}
	return ys
}

// axisValue is a value short enough for an axis: money in thousands or
// millions.
func axisValue(v float64, unit, currency string) string {
	if strings.HasPrefix(unit, "currency") {
		switch a := math.Abs(v); {
		case a >= 1e6:
			return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M " + currency
		case a >= 1e4:
			return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k " + currency
		}
	}
	return fit(scorecard.ScaleValue(v, unit, currency), 10)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (w *writer) appendix() {
	w.heading("Appendix: definitions", "Every metric in this pack with the definition version in force at the month's end, what its figures cover — a window (30d: the calendar month, for a metric defined over 30 days), the state at the month's end (ARR, open vulnerabilities: the window only spaces the trend's comparison), the customers active 365 days before the month's end then and at it (NRR, GRR), a quota metric's quota period (which the scorecard page names with its year), or the 90 days before the window (a baseline) —, its owner, priority and sign-off state (assumed until its owning function confirms it).")
	pdf := w.pdf
	cols := []float64{58, 13, 27, 32, 12, 38}
	window := map[string]string{}
	for _, p := range w.b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			window[c.ID] = cmp.Or(w.b.quota.period[c.ID], w.b.covers[c.ID], c.Window)
		}
	}
	head := func() {
		w.font("B", 8, muted)
		for i, h := range []string{"Metric", "Version", "Covers", "Owner", "Priority", "Sign-off (owning function)"} {
			pdf.CellFormat(cols[i], 5, h, "B", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
	head()
	for _, d := range w.b.Definitions {
		if pdf.GetY() > 272 {
			// The table goes on: its title and columns again, so the
			// page reads alone.
			pdf.AddPage()
			w.font("B", 10, ink)
			pdf.CellFormat(0, 6, w.tr("Appendix: definitions (continued)"), "", 1, "L", false, 0, "")
			head()
		}
		w.font("", 8, ink)
		pdf.CellFormat(cols[0], 5, w.tr(fit(d.Name, 41)), "", 0, "L", false, 0, "")
		version := fmt.Sprintf("v%d", d.Version)
		if w.b.appliesBefore(d) {
			version += "*"
		}
		pdf.CellFormat(cols[1], 5, version, "", 0, "L", false, 0, "")
		pdf.CellFormat(cols[2], 5, w.tr(window[d.Metric]), "", 0, "L", false, 0, "")
		pdf.CellFormat(cols[3], 5, w.tr(fit(d.Owner, 24)), "", 0, "L", false, 0, "")
		pdf.CellFormat(cols[4], 5, d.Priority, "", 0, "L", false, 0, "")
		so := d.Signoff
		if d.SignoffBy != "" {
			so += " (" + d.SignoffBy + ")"
		}
		pdf.CellFormat(cols[5], 5, w.tr(fit(so, 28)), "", 1, "L", false, 0, "")
	}
	if note := w.b.appliesBeforeNote(); note != "" {
		pdf.Ln(1)
		w.notes(note)
	}
	w.settingsInForce()
}

// appliesBefore reports whether d's version took effect only at or after
// the month's end (catalog.Metric.AppliesBefore): the month's figures were
// computed with it, no earlier version being kept.
func (b *Board) appliesBefore(d Definition) bool {
	return catalog.Metric{Effective: d.Effective}.AppliesBefore(b.AsOf)
}

// appliesBeforeNote says which versions the appendix marks with "*" took
// effect after the month's end and apply to it all the same, by date; ""
// for none. September's pack had listed budget variance "v2" beside
// "the definition version in force at the month's end" with nothing to
// say that version 2 took effect on 1 December.
func (b *Board) appliesBeforeNote() string {
	var order []string
	names := map[string][]string{}
	for _, d := range b.Definitions {
		if !b.appliesBefore(d) {
			continue
		}
		if names[d.Effective] == nil {
			order = append(order, d.Effective)
		}
		names[d.Effective] = append(names[d.Effective], fmt.Sprintf("%s v%d", d.Name, d.Version))
	}
	if len(order) == 0 {
		return ""
	}
	var parts []string
	for _, e := range order {
		day := e
		if t, err := time.Parse(time.DateOnly, e); err == nil {
			day = t.Format("2 January 2006")
		}
		parts = append(parts, "effective "+day+": "+strings.Join(names[e], ", "))
	}
	return "* Versions that took effect at or after the month's end, with which its figures were computed all the same (" +
		catalog.AppliesBeforeWords + "): " + strings.Join(parts, "; ") + "."
}

// settingsInForce lists, after the definitions, the value-changing
// settings the pack's metrics read, as a metric's page says them: value,
// and what put it in force ("proposal 3, in force from …", "the default").
func (w *writer) settingsInForce() {
	if len(w.b.Settings) == 0 {
		return
	}
	pdf := w.pdf
	if pdf.GetY() > 250 {
		pdf.AddPage()
	}
	pdf.Ln(4)
	w.font("B", 10, ink)
	pdf.CellFormat(0, 6, w.tr("Settings in force"), "", 1, "L", false, 0, "")
	w.font("", 8, muted)
	pdf.MultiCell(0, 4, w.tr("The value-changing settings these metrics read, with their values at the month's end and what put each in force: a proposal approved by executives, the configuration, or the default."), "", "L", false)
	pdf.Ln(1)
	for _, st := range w.b.Settings {
		if pdf.GetY() > 280 {
			pdf.AddPage()
		}
		w.font("", 8, ink)
		pdf.MultiCell(0, 4.5, w.tr(scorecard.SettingInForceText(st)), "", "L", false)
	}
}
