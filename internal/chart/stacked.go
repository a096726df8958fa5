package chart

import (
	"html/template"
	"math"
	"strings"
)

// StackRow is one row of a stacked bar chart: the parts of one whole (the stages of one team's
// lead time).
type StackRow struct {
	Label string
	// Values hold one value per series, in the chart's Series order. A nil value — or NaN, ±Inf,
	// or a negative one, which has no length to stack — is unknown: it draws no segment and the
	// row's text names it, so a missing part is never read as zero.
	Values []*float64
	// Note follows the row's total ("n = 12"); optional.
	Note string
}

// StackedBars draws horizontal bars made of segments, one per series, in the order of Series:
// where one whole goes (the median coding, pickup, review and deploy time of each team). Series
// are told apart by colour, by a legend in the same left-to-right order as the segments, and by
// each segment's name and value written inside it where it fits; the description lists every
// value. Rows share one scale from zero, so the longest bar is the largest whole.
type StackedBars struct {
	Title  string
	Series []string
	Rows   []StackRow
	Format Format
	// Width in pixels; zero means 640. Values below 300 are raised to it.
	Width int
	// TotalPrefix words a row's total where it is not the whole itself:
	// medians per stage add up to no one's median ("Σ " before "24.1 h",
	// where a team's lead time is 22.6 h).
	TotalPrefix string
}

// seriesFill are the segment colours, in series order (then repeated). None is a status colour:
// a segment is a part, not a verdict.
var seriesFill = []string{colSeries1, colSeries3, colSeries2, "#8c5a2b", "#475569"}

const (
	stackRow    = 30.0 // height of one row
	stackHeight = 20.0
	legendRow   = 20.0
)

// SVG renders the stacked bars.
func (c StackedBars) SVG() template.HTML {
	f := c.Format.or()
	w := width(c.Width, 300)
	n := len(c.Rows)

	title := c.Title
	if title == "" {
		title = "Stacked bars"
	}
	// The legend wraps onto as many lines as the width needs.
	type legendItem struct{ x, y float64 }
	items := make([]legendItem, len(c.Series))
	lx, ly := 0.0, legendRow/2
	for i, s := range c.Series {
		iw := 16 + textWidth(clip(s, labelMax), 11) + 14
		if lx > 0 && lx+iw > w {
			lx, ly = 0, ly+legendRow
		}
		items[i] = legendItem{lx, ly}
		lx += iw
	}
	top := ly + legendRow/2 + 6
	if len(c.Series) == 0 {
		top = 4
	}
	h := top + stackRow*float64(max(n, 1)) + 4

	labels := make([]string, n)
	totals := make([]string, n)
	sums := make([]float64, n)
	vals := make([][]float64, n)
	known := make([][]bool, n)
	var descs []string
	labelW, totalW := 0.0, 0.0
	for i, r := range c.Rows {
		labels[i] = clip(r.Label, labelMax)
		vals[i] = make([]float64, len(c.Series))
		known[i] = make([]bool, len(c.Series))
		var parts, missing []string
		for j, name := range c.Series {
			var v *float64
			if j < len(r.Values) {
				v = r.Values[j]
			}
			x, ok := value(v)
			ok = ok && x >= 0
			vals[i][j], known[i][j] = x, ok
			if ok {
				sums[i] += x
				parts = append(parts, name+" "+f(x))
			} else {
				missing = append(missing, name)
				parts = append(parts, name+" unknown")
			}
		}
		total := c.TotalPrefix + f(sums[i])
		if len(missing) == len(c.Series) {
			total = "unknown"
		} else if len(missing) > 0 {
			total += " + " + strings.Join(missing, ", ") + " unknown"
		}
		if r.Note != "" {
			total += " · " + r.Note
		}
		totals[i] = total
		descs = append(descs, strings.Join(strings.Fields(r.Label), " ")+": "+strings.Join(parts, ", ")+" (total "+total+")")
		labelW = math.Max(labelW, textWidth(labels[i], 11))
		totalW = math.Max(totalW, textWidth(total, 11))
	}
	desc := "No data."
	if n > 0 {
		desc = strings.Join(descs, "; ") + "."
	}

	var out svgWriter
	out.begin("stacked", w, h, title, desc)
	for i, s := range c.Series {
		it := items[i]
		out.open("g", at("class", "legend series-"+itoa(i)))
		out.empty("rect", at("x", it.x), at("y", it.y-5), at("width", 10.0), at("height", 10.0), at("rx", 2.0), at("fill", seriesFill[i%len(seriesFill)]))
		out.text(clip(s, labelMax), at("x", it.x+15), at("y", it.y), at("dy", "0.35em"), at("fill", colInk))
		out.close("g")
	}
	if n == 0 {
		out.noData(0, top+stackRow/2, 11, "start")
		return out.html()
	}

	labelW = math.Min(labelW+12, w*0.3)
	totalW = math.Min(totalW+10, w*0.4)
	barL, barR := labelW, w-totalW
	peak := 0.0
	for _, s := range sums {
		peak = math.Max(peak, s)
	}
	x := linear{0, peak, barL, barR}
	if peak == 0 || !finite(peak) {
		x = linear{0, 1, barL, barR}
	}
	for i := range c.Rows {
		y := top + stackRow*float64(i)
		mid := y + stackRow/2
		out.open("g", at("class", "row"))
		out.text(labels[i], at("class", "label"), at("x", 0.0), at("y", mid), at("dy", "0.35em"), at("fill", colInk))
		at0 := 0.0
		for j, name := range c.Series {
			if !known[i][j] || vals[i][j] == 0 {
				continue
			}
			x0, x1 := x.at(at0), x.at(at0+vals[i][j])
			at0 += vals[i][j]
			sw := math.Max(x1-x0, 1)
			out.open("g", at("class", "segment series-"+itoa(j)))
			out.empty("rect", at("x", x0), at("y", mid-stackHeight/2), at("width", sw), at("height", stackHeight),
				at("fill", seriesFill[j%len(seriesFill)]))
			// The value inside the segment when it fits; the legend and the description
			// carry it otherwise.
			if inner := f(vals[i][j]); textWidth(inner, 10)+6 <= sw {
				out.text(inner, at("class", "value"), at("x", x0+sw/2), at("y", mid), at("dy", "0.35em"),
					at("text-anchor", "middle"), at("font-size", 10.0), at("fill", "#ffffff"))
			}
			out.element("title", name+" "+f(vals[i][j]))
			out.close("g")
		}
		out.text(totals[i], fitted(totals[i], 11, totalW-6, at("class", "total"), at("x", x.at(sums[i])+6), at("y", mid), at("dy", "0.35em"),
			at("fill", colInk))...)
		out.close("g")
	}
	out.empty("line", at("class", "axis"), at("x1", barL), at("y1", top), at("x2", barL), at("y2", h-2),
		at("stroke", colAxis), at("stroke-width", 1.0))
	return out.html()
}

func itoa(i int) string { return num(float64(i)) }
