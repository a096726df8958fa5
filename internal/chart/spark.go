package chart

import (
	"html/template"
	"strconv"
)

// Spark is a sparkline: a small line of a metric's recent values (the scorecard's 12 weekly
// windows), drawn 120×32. Points are spaced evenly in the order given (oldest first). Missing
// points are gaps; the newest present point is marked; optional bands shade the green and amber
// zones behind the line.
type Spark struct {
	// Label names the metric; it is the chart's accessible name.
	Label  string
	Points []Point
	Bands  *Bands
	Format Format
}

// Sparkline size.
const (
	SparkWidth  = 120
	SparkHeight = 32
)

// SVG renders the sparkline.
func (s Spark) SVG() template.HTML {
	f := s.Format.or()
	const w, h = float64(SparkWidth), float64(SparkHeight)
	// Room for the end marker's radius on every side.
	const padX, padY = 4.0, 4.0

	n := len(s.Points)
	vals := make([]float64, n)
	present := make([]bool, n)
	have := 0
	for i, p := range s.Points {
		vals[i], present[i] = value(p.Value)
		if present[i] {
			have++
		}
	}

	title := s.Label
	if title == "" {
		title = "Trend"
	}
	desc := "no data"
	if n > 0 {
		desc = strconv.Itoa(n) + " values" + span(s.Points) + ": " + pointList(s.Points, f) +
			". " + capitalise(latest(s.Points, f)) + "."
	}
	if s.Bands.usable() {
		m := s.Bands.meets()
		desc += " Green " + m + " " + f(s.Bands.Green) + ", amber " + m + " " + f(s.Bands.Amber) + "."
	}

	var out svgWriter
	out.begin("spark", w, h, title, desc)

	if have == 0 {
		out.empty("line", at("class", "empty"), at("x1", padX), at("y1", h/2), at("x2", w-padX), at("y2", h/2),
			at("stroke", colAxis), at("stroke-width", 1.0), at("stroke-dasharray", "2 3"))
		out.noData(w/2, h/2-6, 9, "middle")
		return out.html()
	}

	lo, hi := extentOf(vals, present)
	lo, hi = widen(lo, hi)
	pad := (hi - lo) * 0.08
	y := linear{lo - pad, hi + pad, h - padY, padY}

	if s.Bands.usable() {
		green, amber := s.Bands.zones()
		band(&out, "band band-green", green, y, 0, w, fillOf[StatusGreen])
		band(&out, "band band-amber", amber, y, 0, w, fillOf[StatusAmber])
	}

	xs := make([]float64, n)
	ys := make([]float64, n)
	breaks := make([]bool, n)
	x := linear{0, float64(n - 1), padX, w - padX}
	for i, p := range s.Points {
		xs[i], ys[i], breaks[i] = x.at(float64(i)), y.at(vals[i]), p.Break
	}
	d, lone := linePath(xs, ys, present, breaks)
	out.empty("path", at("class", "line"), at("d", d), at("fill", "none"), at("stroke", colSeries1),
		at("stroke-width", 1.5), at("stroke-linejoin", "round"), at("stroke-linecap", "round"))
	last := -1
	for i := n - 1; i >= 0; i-- {
		if present[i] {
			last = i
			break
		}
	}
	for _, i := range lone {
		if i != last {
			out.empty("circle", at("class", "point"), at("cx", xs[i]), at("cy", ys[i]), at("r", 1.5), at("fill", colSeries1))
		}
	}
	out.empty("circle", at("class", "point last"), at("cx", xs[last]), at("cy", ys[last]), at("r", 2.5),
		at("fill", colSeries1), at("stroke", "#ffffff"), at("stroke-width", 1.0))
	return out.html()
}

// extentOf is extent over the present values only.
func extentOf(vals []float64, present []bool) (lo, hi float64) {
	kept := make([]float64, 0, len(vals))
	for i, v := range vals {
		if present[i] {
			kept = append(kept, v)
		}
	}
	lo, hi, _ = extent(kept)
	return lo, hi
}

// band shades the part of a value zone that falls inside the scale's domain, across [x0, x1].
func band(out *svgWriter, class string, zone [2]float64, y linear, x0, x1 float64, fill string) {
	lo := clamp(zone[0], y.d0, y.d1)
	hi := clamp(zone[1], y.d0, y.d1)
	if hi <= lo {
		return
	}
	top, bottom := y.at(hi), y.at(lo)
	out.empty("rect", at("class", class), at("x", x0), at("y", top), at("width", x1-x0), at("height", bottom-top),
		at("fill", fill), at("fill-opacity", 0.14))
}

// capitalise upper-cases the first letter of an ASCII sentence.
func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
