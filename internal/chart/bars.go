package chart

import (
	"html/template"
	"math"
	"strings"
)

// Bar is one row of a breakdown.
type Bar struct {
	Label string
	// Value nil (or NaN, ±Inf) is missing: the row says "unknown" and draws no bar.
	Value *float64
	// Status is green, amber, red, unknown or unjudged; it sets the bar's colour and class and
	// is written as a word after the value ("not judged" for unjudged), so colour is never the
	// only signal. Empty means the breakdown has no status (a plain count): a blue bar and no
	// word.
	Status string
	// Withheld, when set, says why the value is not to be compared with the others' (too few
	// cases: "too few cases (n = 2, needs 5)"): the row is unknown, states its value with the
	// reason and draws no bar, and the value does not stretch the scale — a line resting on two
	// cases is not drawn as the longest.
	Withheld string
	// Cases, when set, is written between the value and the status word
	// ("0 % · n = 23 · not judged"): a share says how many cases it is
	// of, so that 0 % of 2 is not read as 0 % of 200.
	Cases string
}

// Bars is a horizontal bar chart of a breakdown (one row per team, service, …), in the order
// given. Bars start at zero; negative values extend left of it.
type Bars struct {
	Title  string
	Bars   []Bar
	Format Format
	// Width in pixels; zero means 640. Values below 280 are raised to it.
	Width int
}

const (
	barRow    = 26.0 // height of one row
	barHeight = 16.0
	labelMax  = 32 // characters of a label shown before it is clipped
)

// SVG renders the bar chart.
func (c Bars) SVG() template.HTML {
	f := c.Format.or()
	w := width(c.Width, 280)
	n := len(c.Bars)
	h := 8 + barRow*float64(max(n, 1))

	title := c.Title
	if title == "" {
		title = "Breakdown"
	}
	labels := make([]string, n)
	values := make([]string, n)
	vals := make([]float64, n)
	present := make([]bool, n)
	var descs []string
	var kept []float64
	labelW := 0.0
	noBar := make([]bool, n)
	clipped := make([]bool, n)
	for i, b := range c.Bars {
		labels[i] = clip(b.Label, labelMax)
		vals[i], present[i] = value(b.Value)
		st := status(b.Status)
		why := strings.Join(strings.Fields(b.Withheld), " ")
		switch {
		case why != "" && present[i]:
			values[i] = f(vals[i]) + " · unknown: " + why
		case why != "":
			values[i] = "unknown: " + why
		case !present[i]:
			values[i] = "unknown"
		case st == "" && b.Cases == "":
			values[i] = f(vals[i])
		case st == "":
			values[i] = f(vals[i]) + " · " + b.Cases
		case b.Cases != "":
			values[i] = f(vals[i]) + " · " + b.Cases + " · " + statusWord(st)
		default:
			values[i] = f(vals[i]) + " · " + statusWord(st)
		}
		descs = append(descs, strings.Join(strings.Fields(b.Label), " ")+" "+values[i])
		labelW = math.Max(labelW, textWidth(labels[i], 11))
		if why != "" || !present[i] {
			// No bar: the text starts at zero, where a bar would be, and needs no margin.
			noBar[i], present[i] = true, false
			continue
		}
		kept = append(kept, vals[i])
	}
	desc := "No data."
	if n > 0 {
		desc = strings.Join(descs, "; ") + "."
	}

	var out svgWriter
	out.begin("bars", w, h, title, desc)
	if n == 0 {
		out.noData(0, h/2, 11, "start")
		return out.html()
	}

	// The labels' column takes at most two fifths of the width: at a phone's
	// 360 pixels that still holds a 27-character campaign name squeezed to
	// three quarters, with the rest left for the bars and their words.
	labelW = math.Min(labelW+12, w*0.4)
	barL := labelW
	for i, b := range c.Bars {
		labels[i] = fitLabel(labels[i], barL-8)
		if labels[i] != strings.Join(strings.Fields(b.Label), " ") {
			clipped[i] = true
		}
	}
	lo, hi, _ := extent(kept)
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if hi == lo {
		hi = lo + 1 // every value is zero: zero-length bars at the left edge
	}
	// The scale leaves each bar's words room after it: the longest bar
	// need not carry the longest words ("5.26 % · n = 19 · not judged"
	// beside a dozen "0 %"), and a fixed share of the width for the words
	// had cut such a line off at a phone's width. The bars keep at least a
	// tenth of what is right of the labels; words that still do not fit
	// are squeezed (fitted).
	least := barL + (w-barL)*0.1
	barR := w - 10
	for i := range c.Bars {
		if !present[i] {
			continue
		}
		v := math.Max(vals[i], 0)
		room := w - 2 - 6 - 1 - textWidth(values[i], 11) // where this bar may end, a pixel to spare
		switch {
		case room <= least:
			barR = least
		case v > lo:
			barR = math.Min(barR, barL+(room-barL)*(hi-lo)/(v-lo))
		}
	}
	barR = math.Max(barR, least)
	x := linear{lo, hi, barL, barR}
	zero := x.at(0)

	for i, b := range c.Bars {
		st := status(b.Status)
		if noBar[i] {
			st = StatusUnknown
		}
		top := 4 + barRow*float64(i)
		mid := top + barRow/2
		out.open("g", at("class", "bar "+statusClass(st)))
		if clipped[i] {
			// A label cut short names the line in full where a pointer rests on it.
			out.element("title", strings.Join(strings.Fields(b.Label), " "))
		}
		out.text(labels[i], fitted(labels[i], 11, barL-8, at("class", "label"), at("x", 0.0), at("y", mid), at("dy", "0.35em"), at("fill", colInk))...)
		end := zero
		if present[i] {
			end = x.at(vals[i])
			bx, bw := math.Min(zero, end), math.Abs(end-zero)
			// A tiny non-zero value still shows a sliver, so it is not mistaken for no bar.
			if bw < 1 && vals[i] != 0 {
				bw = 1
			}
			out.empty("rect", at("x", bx), at("y", mid-barHeight/2), at("width", bw), at("height", barHeight),
				at("rx", 2.0), at("fill", fillOf[st]))
		}
		tx := math.Max(end, zero) + 6
		// A reason, or words next to a bar the scale could not shorten
		// enough, can be longer than the room left: squeezed to the
		// chart's edge.
		attrs := fitted(values[i], 11, w-tx-2, at("class", "value"), at("x", tx), at("y", mid), at("dy", "0.35em"), at("fill", textOf[st]))
		out.text(values[i], attrs...)
		out.close("g")
	}
	out.empty("line", at("class", "axis"), at("x1", zero), at("y1", 2.0), at("x2", zero), at("y2", h-2),
		at("stroke", colAxis), at("stroke-width", 1.0))
	return out.html()
}

// minSqueeze is how far a label may be squeezed and still be read at a
// breakdown's small type.
const minSqueeze = 0.7

// fitLabel is s cut, with an ellipsis, to what avail pixels hold at the
// labels' size squeezed no further than minSqueeze; the caller squeezes what
// is left to fit (fitted). A label that fits is returned as it is.
func fitLabel(s string, avail float64) string {
	if textWidth(s, 11)*minSqueeze <= avail {
		return s
	}
	r := []rune(s)
	n := int(avail / (11 * 0.58 * minSqueeze))
	if n < 2 {
		n = 2
	}
	if n >= len(r) {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
