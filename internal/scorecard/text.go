package scorecard

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/domain"
)

// TextOptions control the text rendering.
type TextOptions struct {
	Color    bool   // ANSI colours (a terminal)
	All      bool   // every metric, not just headlines and attention items
	Currency string // organisation currency code for money units
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var statusColor = map[catalog.Status]string{
	catalog.Green: "\x1b[32m", catalog.Amber: "\x1b[33m", catalog.Red: "\x1b[31m", catalog.Unknown: "\x1b[35m",
}

var statusMark = map[catalog.Status]string{
	catalog.Green: "GREEN", catalog.Amber: "AMBER", catalog.Red: "RED", catalog.Unknown: "UNKNOWN",
}

func paint(on bool, code, s string) string {
	if !on || code == "" {
		return s
	}
	return code + s + ansiReset
}

// CompactValue is a value as a list of metrics side by side shows it: one
// that sums over its window (Dataset.SumsOverWindow) names the window as a
// rate per 30 days does in its unit — "84,942 USD/30d" beside "751.57
// USD/30d", where infrastructure cost's 30-day sum had read "84,942 USD"
// with no window at all on the CEO view and the scorecard.
func CompactValue(v *float64, unit, currency, window string, sums bool) string {
	s := FormatValue(v, unit, currency)
	if v == nil || !sums || window == "" || strings.Contains(unit, "/") {
		return s
	}
	return s + "/" + window
}

// CompactTarget is a card's target as a list of metrics shows it beside
// its CompactValue: with the window when the value sums over it, the
// target being set for (or scaled to) that window — "target 442.40
// USD/30d" beside "739.14 USD/30d", where it had read "target 442.40 USD"
// though the chart on the same card said "103.23 USD a week".
func CompactTarget(c Card, currency string) string {
	return CompactValue(c.Target, c.Unit, currency, c.Window, c.SumsOverWindow)
}

// FormatValue renders a value in its unit for people.
func FormatValue(v *float64, unit, currency string) string {
	if v == nil {
		return "—"
	}
	return formatValue(*v, unit, currency, 0)
}

// ScaleValue is v as a chart's scale labels it: FormatValue's unit and
// decimals, but rounded as numbers round. FormatValue gives a figure up to
// three more decimals rather than round it up to a whole it falls short
// of (notUp), which is right for a reported value and wrong for a scale's
// tick: the board pack's ten-character axis label of 999.9996 ms had been
// cut to "999.9996 …", its unit lost.
func ScaleValue(v float64, unit, currency string) string {
	if d, ok := decimals[unit]; ok {
		return trim(v, d.prec) + d.suffix
	}
	return formatValue(v, unit, currency, 0)
}

// decimal is how FormatValue writes a unit it writes as a decimal number:
// its decimals and what follows the number.
type decimal struct {
	prec   int
	suffix string
}

var decimals = map[string]decimal{
	"%": {2, " %"}, "hours": {1, " h"}, "minutes": {1, " min"}, "ms": {0, " ms"}, "days": {1, " d"},
	"months": {1, " mo"}, "deploys/day": {2, "/day"}, "x": {2, "×"},
	// Counts are whole, but a target prorated over a window is not:
	// 17.42, not 17.41935483870968.
	"count": {2, ""},
}

// formatValue is FormatValue with extra more decimals for the units
// written as decimal numbers.
func formatValue(x float64, unit, currency string, extra int) string {
	if d, ok := decimals[unit]; ok {
		return notUp(x, d.prec+extra) + d.suffix
	}
	switch unit {
	case "currency":
		return money(x, currency)
	case "currency/day":
		return money(x, currency) + "/day"
	case "currency/30d":
		return money(x, currency) + "/30d"
	case "points":
		// With its sign, a minus being U+2212 as Signed and the pages
		// write it, and 0 without one: an NPS axis had read "-20" beside
		// "+0" and "−" elsewhere.
		s := fmt.Sprintf("%+.0f", x)
		if s == "+0" || s == "-0" {
			return "0"
		}
		return strings.Replace(s, "-", "−", 1)
	}
	return trim(x, 2+extra)
}

// ThresholdRule states a card's thresholds (catalog.ThresholdRule), a
// money metric's bounds in the organisation's currency: an organisation's
// metric in currency had read "green ≥ 300000 (currency)" beside its
// target "300,000 USD".
func ThresholdRule(t catalog.Thresholds, better, unit, currency string) string {
	var format func(float64) string
	if strings.HasPrefix(unit, "currency") {
		format = func(v float64) string { return FormatValue(&v, unit, currency) }
	}
	return catalog.ThresholdRuleFormat(t, better, unit, format)
}

// Signed is a change x with its sign (U+2212 for a minus, as the pages
// write it) and suffix, to two decimals or as many more as keep it from
// reading 0: "−0 %" or "−0.0 %" reads as no change called worse. The
// digest's week-over-week change and an alert's change rule both word a
// change with it, so the two say one change alike.
func Signed(x float64, suffix string) string {
	s := trim(x, 2)
	for prec := 3; (s == "0" || s == "-0") && prec <= 12; prec++ {
		s = strconv.FormatFloat(x, 'f', prec, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if x > 0 {
		s = "+" + s
	}
	return strings.Replace(s, "-", "−", 1) + suffix
}

// TrendFigures writes a trend's previous value and the current one as a
// page sets them side by side. When the two read alike at the unit's
// precision but differ (availability 99.86454 against 99.86380: "↑ better
// vs 99.86 %" beside a headline of 99.86 %), both are written with the
// fewest more decimals that tell them apart (up to four), and fine is
// true: the page then says the move is finer than its figure shows. Money
// and the units without decimals are written as FormatValue writes them.
func TrendFigures(cur, prev *float64, unit, currency string) (now, before string, fine bool) {
	s := SeriesFigures([]*float64{cur, prev}, unit, currency)
	return s[0], s[1], s[0] != FormatValue(cur, unit, currency)
}

// SeriesFigures writes a series' values for a column, as FormatValue
// does — unless two neighbours that differ would read alike there: then
// every value is written with the fewest more decimals (up to four; trailing zeros dropped, as everywhere) that
// tell each such pair apart, so the column keeps one precision. A metric
// flagged degrading ("worse in each of the last 3 weeks") had listed its
// weeks as 3.1, 3.7, 3.7 h (3.66 then 3.72), a worsening the reader could
// not see. Money and the units without decimals are written as
// FormatValue writes them; a nil value is "—".
func SeriesFigures(values []*float64, unit, currency string) []string {
	out := make([]string, len(values))
	for extra := 0; extra <= 4; extra++ {
		for i, v := range values {
			if v == nil {
				out[i] = "—"
			} else {
				out[i] = formatValue(*v, unit, currency, extra)
			}
		}
		if !alikeNeighbours(values, out) {
			return out
		}
	}
	// Four more decimals still read alike: the values as FormatValue
	// writes them.
	for i, v := range values {
		out[i] = FormatValue(v, unit, currency)
	}
	return out
}

// alikeNeighbours says whether two neighbouring values (nils skipped) that
// differ read the same in shown.
func alikeNeighbours(values []*float64, shown []string) bool {
	prev := -1
	for i, v := range values {
		if v == nil {
			continue
		}
		if prev >= 0 && *values[prev] != *v && shown[prev] == shown[i] {
			return true
		}
		prev = i
	}
	return false
}

// ShownChange is a change from prev to cur as a text sets the two figures
// beside it ("99.88 % (was 99.86 %, +0.02 points)"): Now and Before as
// TrendFigures writes them (more decimals on both when they would read
// alike), and Diff and Relative (in percent of Before; RelativeOK false
// when Before shows 0) worked out from the figures shown, not from the
// unrounded values: a weekly digest had read "99.88 % (was 99.86 %, +0.01
// points)", the change rounded from 99.8751 − 99.8642. Rounding keeps the
// order of two values, and TrendFigures tells apart two that differ, so
// Diff's sign is the trend's direction. Where even its decimals cannot
// tell them apart (Diff would be 0 beside a move up or down), Diff and
// Relative are the unrounded change.
type ShownChange struct {
	Now, Before    string
	Diff, Relative float64
	RelativeOK     bool
}

// ChangeShown works out a ShownChange.
func ChangeShown(cur, prev float64, unit, currency string) ShownChange {
	now, before, _ := TrendFigures(&cur, &prev, unit, currency)
	c := ShownChange{Now: now, Before: before}
	a, okA := shownNumber(now)
	b, okB := shownNumber(before)
	if !okA || !okB || a == b && cur != prev {
		a, b = cur, prev
	}
	c.Diff = a - b
	if b != 0 {
		c.Relative, c.RelativeOK = c.Diff/math.Abs(b)*100, true
	}
	return c
}

// shownNumber reads back the number a figure FormatValue wrote starts
// with: "99.88 %", "1,234 USD", "−12", "2.5×".
func shownNumber(s string) (float64, bool) {
	s = strings.Replace(s, "−", "-", 1)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == ',' || end == 0 && (s[end] == '-' || s[end] == '+')) {
		end++
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(s[:end], ",", ""), 64)
	return x, err == nil
}

// rfc3339InText finds the RFC 3339 times a reason may quote.
var rfc3339InText = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`)

// ReadableTimes rewrites the RFC 3339 times a reason quotes ("no survey
// data since 2026-03-28T11:35:00Z") in layout, in UTC: the pages' "28 Mar
// 2026 11:35 UTC", the CLI's "2026-03-28 11:35", as each writes its own
// times beside them.
func ReadableTimes(s, layout string) string {
	return rfc3339InText.ReplaceAllStringFunc(s, func(x string) string {
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return x
		}
		return t.UTC().Format(layout)
	})
}

// windowHead says in a text's heading what its figures are over: the
// window asked for, or each metric's own, as the pages' headings say.
func windowHead(asOf time.Time, window string, own bool) string {
	if own {
		return "each metric over its own window"
	}
	return "window " + catalog.WindowNote(asOf, window)
}

// cliTime is how the CLI's text writes a time beside a value.
const cliTime = "2006-01-02 15:04"

// notUp is trim(x, prec), but a value rounded up to a whole number gets
// up to three more decimals until it is not one: a pipeline coverage of
// 0.9965 had read "1×" (covered) beside its own "202,000 USD over 202,700
// USD left", and 99.996 % availability "100 %".
func notUp(x float64, prec int) string {
	s := trim(x, prec)
	for more := 1; more <= 3 && !strings.Contains(s, ".") && math.Abs(x) < math.Abs(float64(wholeOf(s))); more++ {
		s = trim(x, prec+more)
	}
	return s
}

// wholeOf is the whole number s writes (0 for anything else).
func wholeOf(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func trim(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func money(x float64, cur string) string {
	if cur == "" {
		cur = "USD"
	}
	neg := x < 0
	// Below a thousand the cents matter: a cost per customer of 737.39
	// against a target of 736.82 is over it, and "737 … target 737" would
	// hide why it is not green.
	if a := math.Abs(x); a < 1000 && math.Round(a) != a {
		out := strconv.FormatFloat(roundTo(a, 2), 'f', 2, 64) + " " + cur
		if neg && out != "0.00 "+cur {
			out = "-" + out
		}
		return out
	}
	n := int64(math.Round(math.Abs(x)))
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String() + " " + cur
	if neg {
		out = "-" + out
	}
	return out
}

// MoneyColumn says whether a records table's column col holds money: a
// record's amount (each kind with one carries its currency beside it), or
// each record's value under a metric in a currency (its share of the
// sum) or of records of money (moneyRecords: a kind with a currency
// column — cost trend's records are their amounts in the window, CAC
// payback's its spend — whatever the metric's unit, but for a duration:
// a deal's value under sales cycle length is its days, not its amount).
func MoneyColumn(col, unit string, moneyRecords bool) bool {
	return col == "amount" || col == "mrr" || col == "value" && (strings.HasPrefix(unit, "currency") || moneyRecords && !durationUnit(unit))
}

func durationUnit(unit string) bool {
	return unit == "hours" || unit == "minutes" || unit == "days"
}

// AmountText writes an amount of a records table's money column (a
// domain.Money or a float64) to the cent with both decimals and its
// thousands grouped, as money is elsewhere — a cost export's 10,038.9331
// read as a measurement, not an amount billed — so a column of amounts
// reads alike ("4,360.20" under "20,000.00", not "4360.2" and "20000");
// ok is false for a value of another type.
func AmountText(v any) (string, bool) {
	var x float64
	switch a := v.(type) {
	case domain.Money:
		x = float64(a) / domain.MoneyScale
	case float64:
		x = a
	default:
		return "", false
	}
	return chart.GroupThousands(strconv.FormatFloat(roundTo(x, 2), 'f', 2, 64)), true
}

// roundTo rounds x to places decimals half away from zero, as money is
// rounded everywhere it is shown — a card's whole units (math.Round), a
// card's cents below a thousand, a records table's and the MRR bridge's
// cents: strconv alone rounds a tie to even, so 442.125 had read
// "442.12" in cents where the bridge rounds whole units half away.
func roundTo(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Amount is AmountText of a float: a money column's amount, to the cent.
func Amount(x float64) string {
	s, _ := AmountText(x)
	return s
}

var arrows = map[string]string{"up": "▲", "down": "▼", "flat": "▶"}

func trendText(t Trend) string {
	if t.Direction == "" {
		return "  no trend"
	}
	return arrows[t.Direction] + " " + t.Assessment
}

// Text renders the one-page summary.
// ClosingWords says what a closing read (Options.Closing) changes.
const ClosingWords = "Quota periods: each read as the one closing at as_of, as board and evidence packs report it, not the one beginning then"

func Text(sc *Scorecard, o TextOptions) string {
	var b strings.Builder
	whole := "whole organisation"
	if sc.Scope != "" {
		whole = strings.NewReplacer(":", ": ", ",", ", ").Replace(sc.Scope)
	}
	fmt.Fprintf(&b, "%s\n", paint(o.Color, ansiBold, fmt.Sprintf("Candor scorecard as of %s (%s) · %s", sc.AsOf.Format(time.RFC3339), windowHead(sc.AsOf, sc.Window, sc.OwnWindows), whole)))
	if sc.Closing {
		b.WriteString(ClosingWords + "\n")
	}
	if sc.DORA.Overall != "" {
		fmt.Fprintf(&b, "DORA performance: %s\n", sc.DORA.Overall)
	} else {
		b.WriteString("DORA performance: not enough data for all four keys\n")
	}
	for _, p := range sc.Pillars {
		b.WriteString("\n")
		if p.NoData != "" && !o.All {
			// SPEC §4: Growth where revenue data exists. Where none does,
			// the pillar says so once rather than being left out unsaid
			// or listing a card per metric, each "never sent".
			fmt.Fprintf(&b, "%s  %s  %s\n", paint(o.Color, ansiBold, fmt.Sprintf("%-48s", p.Name)), paint(o.Color, statusColor[p.Status], statusMark[p.Status]),
				paint(o.Color, ansiDim, p.NoData))
			continue
		}
		fmt.Fprintf(&b, "%s  %s%s\n", paint(o.Color, ansiBold, fmt.Sprintf("%-48s", p.Name)), paint(o.Color, statusColor[p.Status], statusMark[p.Status]),
			paint(o.Color, ansiDim, unknownText(p)))
		shown, hidden := 0, map[catalog.Status]int{}
		for _, c := range p.Metrics {
			attention := c.Status == catalog.Red || c.Status == catalog.Unknown || c.Degrading
			if !o.All && !c.Headline && !attention {
				hidden[c.Status]++
				continue
			}
			shown++
			b.WriteString(cardLine(c, o))
		}
		if len(hidden) > 0 {
			var parts []string
			for _, s := range []catalog.Status{catalog.Green, catalog.Amber} {
				if hidden[s] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", hidden[s], s))
				}
			}
			fmt.Fprintf(&b, "   %s\n", paint(o.Color, ansiDim, "+ "+strings.Join(parts, ", ")+" (candor scorecard --all, or candor metric ID)"))
		}
	}
	return b.String()
}

// unknownText names a pillar's unknown metrics and why, for its line.
func unknownText(p Pillar) string {
	if len(p.Unknown) == 0 {
		return ""
	}
	names := map[string]string{}
	for _, c := range p.Metrics {
		names[c.ID] = c.Name
	}
	// A pillar whose every metric is unknown would print a paragraph; the
	// first few say why, the metric lines below carry the rest.
	const shown = 3
	var parts []string
	for i, u := range p.Unknown {
		if i == shown {
			parts = append(parts, fmt.Sprintf("+%d more", len(p.Unknown)-shown))
			break
		}
		parts = append(parts, names[u.ID]+" — "+ReadableTimes(u.Reason, cliTime))
	}
	return "  unknown: " + strings.Join(parts, "; ")
}

// SignoffLine is a card's priority and sign-off state for text output: "P0 · sign-off assumed
// (finance)".
func SignoffLine(priority, signoff, by string) string {
	return fmt.Sprintf("%s · sign-off %s (%s)", priority, signoff, by)
}

// pointText renders a weekly point, with its n when it rests on too few
// cases to count.
func pointText(p Point, unit string, o TextOptions) string {
	s := FormatValue(p.Value, unit, o.Currency)
	if p.Reason != "" {
		s += fmt.Sprintf(" (n = %d)", p.Count)
	}
	if p.Partial != nil {
		s += " (partial)"
	}
	return s
}

func cardLine(c Card, o TextOptions) string {
	mark := " "
	if c.Headline {
		mark = "★"
	}
	status := paint(o.Color, statusColor[c.Status], fmt.Sprintf("%-7s", statusMark[c.Status]))
	line := fmt.Sprintf(" %s %-46s %14s  %s  %-10s", mark, c.Name, CompactValue(c.Value, c.Unit, o.Currency, c.Window, c.SumsOverWindow), status, trendText(c.Trend))
	var extra []string
	if c.Target != nil {
		extra = append(extra, "target "+CompactTarget(c, o.Currency)+c.Scaled())
	}
	if c.Degrading {
		extra = append(extra, "DEGRADING 3 windows")
	}
	// Why the trend column says "no trend", as the pages' cards say it.
	if c.Trend.Direction == "" && c.Trend.Short != "" {
		extra = append(extra, "not compared: "+c.Trend.Short)
	}
	if s := cohortNote(c.Detail); s != "" {
		extra = append(extra, s)
	}
	// SPEC §3: security incidents' 30-day figure is shown beside the 90.
	if n := c.Detail.LastThirtyDays; n != nil {
		extra = append(extra, fmt.Sprintf("%d in the last 30 days", *n))
	}
	if c.Reason != "" {
		extra = append(extra, ReadableTimes(c.Reason, cliTime))
	}
	// How current the data is, as every card on the pages says: a state
	// kind's book is never stale, and eleven days old it went unmentioned.
	if t := c.Freshness.LastData; t != nil && !c.Freshness.Stale {
		fresh := "data as of " + t.UTC().Format("2006-01-02 15:04")
		if b := c.Freshness.Behind("15:04", "01-02 15:04"); b != "" {
			fresh += " (" + b + ")"
		}
		extra = append(extra, fresh)
	}
	if p := c.Partial; p != nil {
		extra = append(extra, fmt.Sprintf("%s reported to %s", p.Kind, p.Until.UTC().Format("2006-01-02 15:04")))
	}
	if q := c.Quiet; q != nil {
		extra = append(extra, fmt.Sprintf("no %s change in the window (newest %s)", q.Kind, q.Newest.UTC().Format("2006-01-02 15:04")))
	}
	extra = append(extra, "owner "+c.Owner, SignoffLine(c.Priority, c.Signoff, c.SignoffBy))
	// The owner's action, when the caller marked the cards
	// (escalation.Mark), as the pages' cards name it.
	if a := c.ActionWords(); a != "" {
		extra = append(extra, a)
	}
	return line + "  " + paint(o.Color, ansiDim, strings.Join(extra, " · ")) + "\n"
}
