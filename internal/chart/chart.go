// Package chart renders Candor's charts as inline SVG on the server: a sparkline, a trend line
// chart, horizontal bars for a breakdown, a conversion funnel, a bullet chart for attainment,
// stacked bars for the parts of a whole (where lead time goes) and a waterfall for how a level
// moved (the MRR bridge).
//
// Each chart is a value type whose SVG method returns template.HTML, ready for
// {{.Chart.SVG}} in an html/template page. The markup is safe by construction: every piece of
// text and every attribute value goes through one escaper, the output has no script, no event
// handler attribute and no style attribute or element, and no id (so any number of charts share
// a page). Colours, strokes and fonts are SVG presentation attributes, which a Content Security
// Policy does not govern: the pages need neither 'unsafe-inline' for styles nor a stylesheet for
// the charts to look right, and the same SVG reads correctly in a PDF, an e-mail or a saved file.
// Classes (chart, chart-<kind>, st-green|st-amber|st-red|st-unknown|st-none, band-*, thr-*,
// series-N, …) are hooks a stylesheet may use to override them; CSS (chart.css) holds the few
// rules a page needs to make the charts responsive and print well.
//
// The wide charts (Trend, Bars, Funnel, StackedBars, Waterfall: 640 px) shrink to fit a narrow column, text included; on a
// phone their text gets too small, so a page draws each a second time with Width 360 and lets its
// stylesheet show one or the other by media query (display: none also hides the other from
// screen readers). internal/browsertest's harness page does this.
//
// Each chart states its data for screen readers: the <svg> has role="img", a <title> (its
// accessible name) and a <desc> listing the values, since the drawing itself is not read.
//
// Missing data is never drawn as zero: a nil value, NaN or ±Inf is a gap in a line, "unknown"
// text instead of a bar. No input makes a chart emit NaN or Inf as a coordinate.
package chart

import (
	_ "embed"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CSS is the stylesheet the charts expect on a page (chart.css): responsive sizing, the page's
// font, and print rules. Serve it as a static asset or append it to the page's stylesheet.
//
//go:embed chart.css
var CSS string

// Point is one value of a series at a time (for a weekly series, the window's end).
// A nil Value — or NaN or ±Inf — is missing: a gap, never a zero.
type Point struct {
	At    time.Time
	Value *float64
	// Break leaves the line unjoined from the point before: the value
	// starts again (a new quota period), so a joining line would draw a
	// fall that did not happen.
	Break bool
	// Few says the value rests on fewer cases than its metric asks before
	// judging one (SPEC §4's minimum sample): it is drawn as a solid grey dot,
	// not in the series' colour, and said so in the description, so that a
	// week of two customers is not read like one of twenty.
	Few bool
}

// Format turns a value into the text a reader sees, unit included ("12.5 %", "3.2 h",
// "USD 1.2M"). A nil Format is Number.
type Format func(float64) string

// Direction says which way a metric improves; it decides which side of a bound is green.
type Direction string

// Directions, spelt as catalog.Metric.Better spells them, so chart.Direction(card.Better)
// converts.
const (
	Higher Direction = "higher"
	Lower  Direction = "lower"
)

// Bands are a metric's absolute green and amber bounds ("meets" is ≥ for Higher, ≤ for Lower,
// as the catalog judges). Bounds relative to a target or to the elapsed share must be resolved
// to absolute values by the caller. Bands that are not finite, have no valid Better, or are in the
// wrong order for the direction (amber better than green) are not drawn.
type Bands struct {
	Better Direction
	Green  float64
	Amber  float64
}

// usable reports whether the bands can be drawn.
func (b *Bands) usable() bool {
	if b == nil || !finite(b.Green) || !finite(b.Amber) {
		return false
	}
	switch b.Better {
	case Higher:
		return b.Green >= b.Amber
	case Lower:
		return b.Green <= b.Amber
	}
	return false
}

// zones returns the value ranges of the green and amber zones; infinite ends are open.
func (b *Bands) zones() (green, amber [2]float64) {
	inf := math.Inf(1)
	if b.Better == Higher {
		return [2]float64{b.Green, inf}, [2]float64{b.Amber, b.Green}
	}
	return [2]float64{-inf, b.Green}, [2]float64{b.Green, b.Amber}
}

// meets is the bound's wording in a label: "green ≥ 99 %".
func (b *Bands) meets() string {
	if b.Better == Higher {
		return "≥"
	}
	return "≤"
}

// beyond is the side of the bounds that is red: "below" the green bound of a metric higher is
// better, "above" one of lower is better.
func (b *Bands) beyond() string {
	if b.Better == Higher {
		return "below"
	}
	return "above"
}

// single reports whether the green and amber bounds are one value: there is no amber band, and
// a chart says the bound once ("green ≤ 0, red above") rather than two labels on one line.
func (b *Bands) single() bool { return b.Green == b.Amber }

// rule is the bounds in words, as a trend's description gives them: "Green ≥ 6, amber ≥ 3." or,
// with no amber band, "Green ≤ 0, red above (no amber band)."
func (b *Bands) rule(f Format) string {
	m := b.meets()
	if b.single() {
		return "Green " + m + " " + f(b.Green) + ", red " + b.beyond() + " (no amber band)."
	}
	return "Green " + m + " " + f(b.Green) + ", amber " + m + " " + f(b.Amber) + "."
}

// Status words accepted in Bar.Status, Bullet.Status: the catalog's statuses, and StatusUnjudged
// for a value with nothing to judge it against (a breakdown line without a target of its own).
// Any other non-empty string is shown as unknown; an empty status means the chart has no status
// to show.
const (
	StatusGreen    = "green"
	StatusAmber    = "amber"
	StatusRed      = "red"
	StatusUnknown  = "unknown"
	StatusUnjudged = "unjudged"
)

// status normalises a caller's status: "" stays "" (no status), anything unrecognised is unknown.
func status(s string) string {
	switch s {
	case "", StatusGreen, StatusAmber, StatusRed, StatusUnjudged:
		return s
	}
	return StatusUnknown
}

// statusWord is a normalised status as a chart writes it beside a value.
func statusWord(st string) string {
	if st == StatusUnjudged {
		return "not judged"
	}
	return st
}

// statusClass is the class a status drives.
func statusClass(s string) string {
	if s == "" {
		return "st-none"
	}
	return "st-" + s
}

// Colours. Status fills are for shapes; status text uses darker shades so the word keeps a
// contrast of at least 4.5:1 on white.
var (
	// Not judged is a mid grey: no status colour, nor the blue of a chart without statuses, which
	// had read as a judgement of its own beside red and amber lines; darker than unknown's grey,
	// so its bar keeps 3:1 against white (a shape to compare, where unknown's rarely has one).
	fillOf = map[string]string{
		StatusGreen: "#2e8540", StatusAmber: "#e0a000", StatusRed: "#c62828",
		StatusUnknown: "#a3a9b3", StatusUnjudged: "#868e99", "": "#4a6fa5",
	}
	textOf = map[string]string{
		StatusGreen: "#1e6b30", StatusAmber: "#8a5a00", StatusRed: "#b42318",
		StatusUnknown: "#4b5563", StatusUnjudged: "#5b6472", "": "#1f2937",
	}
)

const (
	colInk     = "#1f2937" // primary text
	colMuted   = "#5b6472" // axis labels, secondary text
	colGrid    = "#e3e6ea"
	colAxis    = "#9aa1ab"
	colTrack   = "#e9ecef"
	colPeriod  = "#dfe5ee" // a marked period behind a trend's lines
	colTarget  = "#111827"
	colSeries1 = "#1f5fbf"
	colSeries2 = "#6b3fa0"
	colSeries3 = "#0f766e"
	fontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
)

// Number is the default Format: thousands separators, and fewer decimals the larger the value
// (1,234 · 56.7 · 0.83 · 0.0042).
func Number(v float64) string {
	if !finite(v) {
		return "unknown"
	}
	a := math.Abs(v)
	prec := 0
	switch {
	case a == 0 || a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	case a >= 0.01:
		prec = 2
	default:
		prec = 4
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec > 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return groupThousands(s)
}

// GroupThousands puts commas into the integer part of a formatted number
// ("-1234567.5" → "-1,234,567.5"), for pages that show numbers beside the
// charts' own.
func GroupThousands(s string) string { return groupThousands(s) }

// groupThousands puts commas into the integer part of a formatted number.
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) <= 3 {
		return sign + s
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return sign + b.String()
}

// percent formats a share (0.42) as "42.0 %".
func percent(share float64) string {
	return strconv.FormatFloat(share*100, 'f', 1, 64) + " %"
}

func (f Format) or() Format {
	if f == nil {
		return Number
	}
	return f
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// value returns a point's value and whether it is present (not nil, NaN or infinite).
func value(p *float64) (float64, bool) {
	if p == nil || !finite(*p) {
		return 0, false
	}
	return *p, true
}

// num formats a coordinate. Values near the float64 limits can overflow the charts' arithmetic
// (the span of ±1e308 is +Inf); the guard keeps that, or any future mistake, from writing NaN or
// Inf into a page.
func num(x float64) string {
	if !finite(x) {
		return "0"
	}
	s := strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// esc makes text safe as XML/HTML character data and as a quoted attribute value. Characters XML
// forbids (NUL, most C0 controls) and invalid UTF-8 become U+FFFD, so the SVG stays well-formed
// for any label.
func esc(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&#34;")
		case r == '\'':
			b.WriteString("&#39;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF,
			r >= 0xD800 && r <= 0xDFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clip shortens a label to n characters, ending with "…" when cut; whitespace runs become one
// space so a label cannot push text onto new lines.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// textWidth estimates the rendered width of s at the given font size. The charts cannot measure
// text on the server; the average glyph of a sans-serif font is about 0.58 em wide, which is
// enough to size margins and keep labels apart.
func textWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * 0.58
}

// fitted adds textLength to a text's attributes when s, at the font size, would overflow the
// width available, so a long formatted value is squeezed rather than cut off.
func fitted(s string, size, avail float64, attrs ...attr) []attr {
	if textWidth(s, size) > avail {
		attrs = append(attrs, at("textLength", avail), at("lengthAdjust", "spacingAndGlyphs"))
	}
	return attrs
}

// svgWriter builds the markup. Attribute values and text always pass through esc.
type svgWriter struct {
	b strings.Builder
}

// attr is one attribute; values are escaped when written.
type attr struct{ k, v string }

func at(k string, v any) attr {
	switch x := v.(type) {
	case string:
		return attr{k, x}
	case float64:
		return attr{k, num(x)}
	case int:
		return attr{k, strconv.Itoa(x)}
	}
	panic("chart: unsupported attribute type") // programming error, caught by every test
}

func (w *svgWriter) start(name string, attrs []attr, selfClose bool) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for _, a := range attrs {
		w.b.WriteByte(' ')
		w.b.WriteString(a.k)
		w.b.WriteString(`="`)
		w.b.WriteString(esc(a.v))
		w.b.WriteByte('"')
	}
	if selfClose {
		w.b.WriteString("/>")
	} else {
		w.b.WriteByte('>')
	}
}

func (w *svgWriter) open(name string, attrs ...attr)  { w.start(name, attrs, false) }
func (w *svgWriter) empty(name string, attrs ...attr) { w.start(name, attrs, true) }
func (w *svgWriter) close(name string)                { w.b.WriteString("</" + name + ">") }

// text writes <text attrs>s</text>.
func (w *svgWriter) text(s string, attrs ...attr) {
	w.open("text", attrs...)
	w.b.WriteString(esc(s))
	w.close("text")
}

// element writes <name>s</name> with escaped content.
func (w *svgWriter) element(name, s string) {
	w.open(name)
	w.b.WriteString(esc(s))
	w.close(name)
}

// noData writes the "no data" a chart shows instead of drawing nothing, or zeros. anchor is
// start or middle.
func (w *svgWriter) noData(x, y, size float64, anchor string) {
	w.text("no data", at("class", "no-data"), at("x", x), at("y", y), at("dy", "0.35em"), at("text-anchor", anchor),
		at("font-size", size), at("fill", colMuted))
}

// width is a chart's requested width, the default when zero, never below least.
func width(requested int, least float64) float64 {
	if requested == 0 {
		return TrendWidth
	}
	return math.Max(float64(requested), least)
}

// begin opens the root <svg> with its accessible name and description.
func (w *svgWriter) begin(kind string, width, height float64, title, desc string) {
	w.open("svg",
		at("xmlns", "http://www.w3.org/2000/svg"),
		at("class", "chart chart-"+kind),
		at("role", "img"),
		at("width", width), at("height", height),
		at("viewBox", "0 0 "+num(width)+" "+num(height)),
		at("font-family", fontFamily),
		at("font-size", 11.0),
		at("fill", colInk),
	)
	w.element("title", title)
	w.element("desc", desc)
}

func (w *svgWriter) html() template.HTML {
	w.close("svg")
	// Safe: every attribute value and text node above went through esc, and element and
	// attribute names are constants of this package.
	return template.HTML(w.b.String())
}

// linear maps [d0, d1] onto [r0, r1]; a zero-width domain maps to the middle of the range.
type linear struct{ d0, d1, r0, r1 float64 }

func (s linear) at(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// clamp keeps v inside [lo, hi].
func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// extent returns the smallest and largest of vs (finite values only) and whether there was one.
func extent(vs []float64) (lo, hi float64, ok bool) {
	for _, v := range vs {
		if !finite(v) {
			continue
		}
		if !ok {
			lo, hi, ok = v, v, true
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi, ok
}

// widen gives a flat extent some height so a constant series draws as a level line mid-chart.
func widen(lo, hi float64) (float64, float64) {
	if hi > lo {
		return lo, hi
	}
	d := math.Abs(lo) * 0.1
	if d == 0 {
		d = 1
	}
	return lo - d, hi + d
}

// axisRange is widen for a value axis: a flat extent at or above zero grows upwards only, so an
// axis of values none of which is negative (a count, a rate: all zeros, say) starts at 0 rather
// than running from −1 to 1.
func axisRange(lo, hi float64) (float64, float64) {
	wlo, whi := widen(lo, hi)
	if lo >= 0 && wlo < 0 {
		return 0, whi
	}
	return wlo, whi
}

// niceTicks returns about n round tick values covering [lo, hi] (1, 2, 2.5 or 5 × 10^k apart).
// A range that holds no negative value gets no negative tick.
func niceTicks(lo, hi float64, n int) []float64 {
	ticks, _ := niceTicksStep(lo, hi, n)
	return ticks
}

// niceTicksStep is niceTicks with the step between the ticks; 0 when the ticks are the range's
// ends only, not a round step.
func niceTicksStep(lo, hi float64, n int) ([]float64, float64) {
	lo, hi = axisRange(lo, hi)
	span := hi - lo
	if !finite(span) || n < 1 {
		return []float64{lo, hi}, 0
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if ticks := ticksAt(lo, hi, step, 4*n); ticks != nil {
		return ticks, step
	}
	return []float64{lo, hi}, 0
}

// ticksAt returns the multiples of step from the one at or below lo to the one at or above hi, or
// nil when they cannot be counted or would be more than most + 1.
func ticksAt(lo, hi, step float64, most int) []float64 {
	start := math.Floor(lo/step) * step
	count := int(math.Ceil(hi/step - start/step - 1e-9))
	if !finite(start) || step == 0 || !finite(step) || count < 1 || count > most {
		return nil
	}
	ticks := make([]float64, 0, count+1)
	for i := 0; i <= count; i++ {
		t := start + float64(i)*step
		// Snap tick values to the step's precision so 0.30000000000000004 prints as 0.3.
		t = math.Round(t/step*1e6) / 1e6 * step
		if t == 0 {
			t = 0 // no negative zero
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// readableTicks is niceTicks at a step f tells apart: where f writes fewer decimals than the
// round step needs (0.85 d at a day's one decimal is "0.8 d" or "0.9 d"), the step grows (1,
// 2, 5 × 10^k) until f writes every tick as its own value, told apart from its neighbours;
// ticks of one point of 0.9 d had read "1 d, 1 d, 0.9 d, 0.9 d, 0.8 d". The ticks still cover
// [lo, hi]. A format that tells no step apart (a constant) keeps niceTicks'.
func readableTicks(lo, hi float64, n int, f Format) []float64 {
	ticks, step := niceTicksStep(lo, hi, n)
	if step == 0 || toldApart(ticks, step, f) {
		return ticks
	}
	wlo, whi := axisRange(lo, hi)
	for s, i := coarser(step), 0; i < 13; s, i = coarser(s), i+1 {
		if t := ticksAt(wlo, whi, s, len(ticks)); t != nil && toldApart(t, s, f) {
			return t
		}
	}
	return ticks
}

// magnitude is the power of ten at or below a positive step.
func magnitude(step float64) float64 {
	return math.Pow(10, math.Floor(math.Log10(step)+1e-9))
}

// coarser is the next round step above step: 1 → 2 → 5 → 10 (2.5 → 5).
func coarser(step float64) float64 {
	mag := magnitude(step)
	for _, m := range []float64{2, 5, 10} {
		if m*mag > step*(1+1e-9) {
			return m * mag
		}
	}
	return 20 * mag
}

// toldApart reports whether f writes each tick as its own value at this step: unlike its
// neighbours, and unlike the values a digit of the step away on either side (so 0.25 at one
// decimal, "0.2", which differs from "0.5" but names 0.2, is not).
func toldApart(ticks []float64, step float64, f Format) bool {
	digit := magnitude(step)
	if m := step / digit; math.Abs(m-math.Round(m)) > 1e-6 {
		digit /= 10 // 2.5 × 10^k needs the digit below
	}
	for i, t := range ticks {
		l := f(t)
		if i > 0 && l == f(ticks[i-1]) || l == f(t-digit) || l == f(t+digit) {
			return false
		}
	}
	return true
}

// dateLabel formats a time for an axis or a description.
func dateLabel(t time.Time, year bool) string {
	if year {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2 Jan")
}

// pointList describes each point for a screen reader: "6 Jan 1.2 %, 13 Jan no data, …".
func pointList(pts []Point, f Format) string {
	parts := make([]string, 0, len(pts))
	for _, p := range pts {
		s := "no data"
		if v, ok := value(p.Value); ok {
			s = f(v)
		}
		if p.Few && p.Value != nil {
			s += " (too few cases)"
		}
		if !p.At.IsZero() {
			s = dateLabel(p.At, false) + " " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// span describes the time range of the points: " from 6 Jan 2026 to 24 Mar 2026".
func span(pts []Point) string {
	var first, last time.Time
	for _, p := range pts {
		if p.At.IsZero() {
			continue
		}
		if first.IsZero() || p.At.Before(first) {
			first = p.At
		}
		if p.At.After(last) {
			last = p.At
		}
	}
	switch {
	case first.IsZero():
		return ""
	case first.Equal(last):
		return " on " + dateLabel(first, true)
	}
	return " from " + dateLabel(first, true) + " to " + dateLabel(last, true)
}

// latest describes the newest present value: "latest 2.0 % (24 Mar 2026)".
func latest(pts []Point, f Format) string {
	for i := len(pts) - 1; i >= 0; i-- {
		if v, ok := value(pts[i].Value); ok {
			s := "latest " + f(v)
			if !pts[i].At.IsZero() {
				s += " (" + dateLabel(pts[i].At, true) + ")"
			}
			if i < len(pts)-1 {
				s += "; no data after it"
			}
			return s
		}
	}
	return "no data"
}

// linePath draws present values as a path, starting a new sub-path after each gap, and returns
// the present points that have no present neighbour (a path cannot show them; the caller marks
// them with a dot).
func linePath(xs []float64, ys []float64, present []bool, breaks []bool) (d string, lone []int) {
	var b strings.Builder
	broken := func(i int) bool { return i < len(breaks) && breaks[i] }
	for i := range xs {
		if !present[i] {
			continue
		}
		prev := i > 0 && present[i-1] && !broken(i)
		next := i+1 < len(xs) && present[i+1] && !broken(i+1)
		if prev {
			b.WriteString(" L")
		} else {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte('M')
		}
		b.WriteString(num(xs[i]) + " " + num(ys[i]))
		if !prev && !next {
			lone = append(lone, i)
		}
	}
	return b.String(), lone
}
