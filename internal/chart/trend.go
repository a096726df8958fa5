package chart

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Series is one line of a trend chart.
type Series struct {
	// Name labels the line in the legend (shown when there are two or more series) and in the
	// description.
	Name   string
	Points []Point
}

// Trend is a line chart of one or two series over time (a third and later series get their own
// dash pattern too, but the chart is designed for two), with date labels, value labels in the
// caller's Format, gaps for missing points, and optional horizontal lines for the green and amber
// bounds and for the target. Its size defaults to 640×240; the viewBox keeps it responsive.
type Trend struct {
	Title  string
	Series []Series
	Bands  *Bands
	Target *float64
	// TargetFrom is when the target took effect: on a date axis its line
	// starts there rather than at the axis's start (a quarter's plan
	// drawn back through the quarter before read as a shortfall against
	// a plan that did not apply). Zero: the whole axis.
	TargetFrom time.Time
	Format     Format
	// Width and Height in pixels; zero means 640×240. Values below 240×140 are raised to it.
	Width, Height int
	// Periods are stretches of time shaded behind the lines, each labelled (a change freeze, a
	// peak season), so a dip is read in its context. Drawn on a date axis only, clipped to it.
	Periods []Period
	// Per names what the bands and the target are per when it is not what the figure beside
	// the chart is per ("a week": a weekly chart of a metric that sums over a 30-day window,
	// whose target was drawn at 113.40 USD beside a card saying 486 USD).
	Per string
}

// per is f with the chart's Per after it, for the bands' and the target's labels.
func (c Trend) per(f Format) Format {
	if c.Per == "" {
		return f
	}
	return func(v float64) string { return f(v) + " " + c.Per }
}

// Period is a marked stretch of time [From, To) of a trend chart.
type Period struct {
	From, To time.Time
	Label    string
	// Kind is what sort of period it is (freeze, peak_season, …); it is named in the tooltip.
	Kind string
}

// Default trend chart size.
const (
	TrendWidth  = 640
	TrendHeight = 240
)

// seriesStyle gives each series a colour and a dash pattern, so the lines differ without colour.
var seriesStyle = []struct{ colour, dash string }{
	{colSeries1, ""}, {colSeries2, "6 4"}, {colSeries3, "2 3"},
}

// When a series has more points than this, only lone and last points get a dot, and the
// description summarises rather than lists the values.
const maxListed = 30

// SVG renders the chart.
func (c Trend) SVG() template.HTML {
	f := c.Format.or()
	w, h := float64(c.Width), float64(c.Height)
	if c.Width == 0 && c.Height == 0 {
		w, h = TrendWidth, TrendHeight
	}
	w, h = math.Max(w, 240), math.Max(h, 140)

	title := c.Title
	if title == "" {
		title = "Trend"
	}

	// Values that must be visible: the data and every line drawn across the chart.
	var all []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			if v, ok := value(p.Value); ok {
				all = append(all, v)
			}
		}
	}
	bands := c.Bands.usable()
	target, hasTarget := value(c.Target)

	var out svgWriter
	out.begin("trend", w, h, title, c.describe(f))

	dlo, dhi, ok := extent(all)
	if !ok {
		out.empty("rect", at("class", "frame"), at("x", 0.5), at("y", 0.5), at("width", w-1), at("height", h-1),
			at("fill", "none"), at("stroke", colGrid))
		out.noData(w/2, h/2, 13, "middle")
		return out.html()
	}
	// Lines across the chart, labelled in the right margin.
	type hline struct {
		class, label, colour, dash string
		v                          float64
		y                          float64
		// off is +1 for a line above the value axis, −1 below it, 0 on it.
		off int
	}
	var lines []hline
	if bands {
		m := c.Bands.meets()
		f := c.per(f)
		green := hline{class: "thr thr-green", label: "green " + m + " " + f(c.Bands.Green), colour: textOf[StatusGreen], dash: "5 4", v: c.Bands.Green}
		if c.Bands.single() {
			// No amber band: one line, said once, where two labels would name one line.
			green.label += ", red " + c.Bands.beyond()
			lines = append(lines, green)
		} else {
			lines = append(lines, green,
				hline{class: "thr thr-amber", label: "amber " + m + " " + f(c.Bands.Amber), colour: textOf[StatusAmber], dash: "5 4", v: c.Bands.Amber})
		}
	}
	if hasTarget {
		lines = append(lines, hline{class: "target", label: "target " + c.per(f)(target), colour: colTarget, v: target})
	}
	// By value, highest first: labels moved to one edge keep the order of their values.
	sort.SliceStable(lines, func(a, b int) bool { return lines[a].v > lines[b].v })
	// The value axis is the data's, widened for each line (the nearest first) only while the
	// data keeps a third of the height: a lead time of 25 h under an amber bound of 168 h was
	// squashed into the bottom sixth of a chart scaled to the bound. A line left out is named
	// at the edge it lies beyond, with an arrow, and drawn nowhere on the scale. A flat line is
	// judged by the height it is drawn at (0 to 1 for zeros): with no height of its own it could
	// never keep a third, and every bound of a chart of zeros had been named "(above)".
	dlo, dhi = axisRange(dlo, dhi)
	lo, hi := scaleTo(dlo, dhi)
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	outside := func(v float64) float64 { return math.Max(dlo-v, v-dhi) }
	sort.SliceStable(order, func(a, b int) bool { return outside(lines[order[a]].v) < outside(lines[order[b]].v) })
	for _, i := range order {
		v := lines[i].v
		l, u := scaleTo(math.Min(lo, v), math.Max(hi, v))
		if v >= dlo && v <= dhi || ((dhi-l)/(u-l) >= 1.0/3 && (u-dlo)/(u-l) >= 1.0/3) {
			lo, hi = l, u
			continue
		}
		if v > dhi {
			lines[i].off = 1
		} else {
			lines[i].off = -1
		}
	}

	const top0, bottom = 10.0, 24.0
	top := top0
	legend := len(c.Series) >= 2
	if legend {
		top = 28
	}
	ticks := readableTicks(lo, hi, int(math.Max(2, math.Round((h-top-bottom)/45))), f)
	for i, l := range lines {
		switch {
		case l.off != 0 && l.v >= ticks[0] && l.v <= ticks[len(ticks)-1]:
			// On the axis as drawn (its ticks round it out): a line at its place, not a
			// label at the edge beside a tick of its own value.
			lines[i].off = 0
		case l.off > 0:
			// Said in words: an arrow beside a bound read as the better/worse
			// arrows every card uses.
			lines[i].label += " (above)"
		case l.off < 0:
			lines[i].label += " (below)"
		}
	}
	yLabels := make([]string, len(ticks))
	left := 28.0
	for i, t := range ticks {
		yLabels[i] = f(t)
		if i > 0 && yLabels[i] == f(ticks[i-1]) {
			// A format that tells no step apart: the tick keeps its grid line, unlabelled.
			yLabels[i] = ""
		}
		left = math.Max(left, textWidth(yLabels[i], 11)+12)
	}
	left = math.Min(left, w*0.3)

	right := 12.0
	for _, l := range lines {
		right = math.Max(right, textWidth(l.label, 10)+12)
	}
	right = math.Min(right, w*0.3)
	// A label wider than the margin goes on two lines, where it had run
	// off a phone's chart ("amber ≤ 0.47 a week (abov").
	parts := make([][]string, len(lines))
	gap, last := 12.0, 0.0
	for i, l := range lines {
		parts[i] = wrapLabel(l.label, 10, right-12)
		if len(parts[i]) > 1 {
			gap, last = 23, 11
		}
	}

	plotL, plotR, plotT, plotB := left, w-right, top, h-bottom
	y := linear{ticks[0], ticks[len(ticks)-1], plotB, plotT}

	// Grid and value labels.
	for i, t := range ticks {
		ty := y.at(t)
		out.empty("line", at("class", "grid"), at("x1", plotL), at("y1", ty), at("x2", plotR), at("y2", ty),
			at("stroke", colGrid), at("stroke-width", 1.0))
		if yLabels[i] != "" {
			out.text(yLabels[i], at("class", "tick"), at("x", plotL-6), at("y", ty), at("dy", "0.35em"),
				at("text-anchor", "end"), at("fill", colMuted))
		}
	}
	out.empty("line", at("class", "axis"), at("x1", plotL), at("y1", plotB), at("x2", plotR), at("y2", plotB),
		at("stroke", colAxis), at("stroke-width", 1.0))

	// Time axis: by date when every point has one and they differ, else by position.
	x, times := c.xScale(plotL, plotR)
	c.dateTicks(&out, x, times, plotL, plotR, plotB)

	if len(times) >= 2 {
		c.periods(&out, x, times[0], times[len(times)-1], plotT, plotB)
	}
	for i, l := range lines {
		switch l.off {
		case 1:
			lines[i].y = plotT
		case -1:
			lines[i].y = plotB
		default:
			lines[i].y = y.at(l.v)
		}
	}
	labelYs := make([]float64, len(lines))
	for i, l := range lines {
		labelYs[i] = l.y
	}
	labelYs = spread(labelYs, gap, plotT, plotB-last)
	for i, l := range lines {
		class := l.class + " label"
		if l.off != 0 {
			class += " offscale"
		} else {
			x1 := plotL
			if l.class == "target" && len(times) >= 2 && c.TargetFrom.After(times[0]) {
				x1 = math.Min(x(0, c.TargetFrom), plotR)
			}
			attrs := []attr{at("class", l.class), at("x1", x1), at("y1", l.y), at("x2", plotR), at("y2", l.y),
				at("stroke", l.colour), at("stroke-width", 1.25)}
			if l.dash != "" {
				attrs = append(attrs, at("stroke-dasharray", l.dash))
			}
			out.empty("line", attrs...)
		}
		for j, p := range parts[i] {
			out.text(p, fitted(p, 10, w-plotR-6, at("class", class), at("x", plotR+6), at("y", labelYs[i]+11*float64(j)), at("dy", "0.35em"),
				at("font-size", 10.0), at("fill", l.colour))...)
		}
	}

	for si, s := range c.Series {
		st := seriesStyle[si%len(seriesStyle)]
		n := len(s.Points)
		xs, ys := make([]float64, n), make([]float64, n)
		present, breaks := make([]bool, n), make([]bool, n)
		for i, p := range s.Points {
			var v float64
			v, present[i] = value(p.Value)
			xs[i], ys[i], breaks[i] = x(i, p.At), y.at(v), p.Break
		}
		class := "series series-" + strconv.Itoa(si+1)
		out.open("g", at("class", class))
		d, lone := linePath(xs, ys, present, breaks)
		attrs := []attr{at("class", "line"), at("d", d), at("fill", "none"), at("stroke", st.colour),
			at("stroke-width", 2.0), at("stroke-linejoin", "round"), at("stroke-linecap", "round")}
		if st.dash != "" {
			attrs = append(attrs, at("stroke-dasharray", st.dash))
		}
		if d != "" {
			out.empty("path", attrs...)
		}
		last := -1
		for i := n - 1; i >= 0 && last < 0; i-- {
			if present[i] {
				last = i
			}
		}
		isLone := map[int]bool{}
		for _, i := range lone {
			isLone[i] = true
		}
		for i := range s.Points {
			if !present[i] || (n > maxListed && !isLone[i] && i != last) {
				continue
			}
			fill, stroke, class := "#ffffff", st.colour, "point"
			if i == last {
				fill = stroke
			}
			if s.Points[i].Few {
				// Solid grey, where the others are rings or the series'
				// colour: told apart by more than a hue.
				fill, stroke, class = colMuted, colMuted, "point few"
			}
			out.empty("circle", at("class", class), at("cx", xs[i]), at("cy", ys[i]), at("r", 3.0),
				at("fill", fill), at("stroke", stroke), at("stroke-width", 1.5))
		}
		out.close("g")
	}

	if legend {
		lx := plotL
		for si, s := range c.Series {
			st := seriesStyle[si%len(seriesStyle)]
			name := clip(s.Name, 40)
			if name == "" {
				name = "series " + strconv.Itoa(si+1)
			}
			attrs := []attr{at("x1", lx), at("y1", 12.0), at("x2", lx+22), at("y2", 12.0),
				at("stroke", st.colour), at("stroke-width", 2.0)}
			if st.dash != "" {
				attrs = append(attrs, at("stroke-dasharray", st.dash))
			}
			out.open("g", at("class", "legend series-"+strconv.Itoa(si+1)))
			out.empty("line", attrs...)
			out.text(name, at("x", lx+28), at("y", 12.0), at("dy", "0.35em"), at("fill", colInk))
			out.close("g")
			lx += 28 + textWidth(name, 11) + 18
		}
	}
	return out.html()
}

// xScale returns the x position of a series' i-th point at time t, and the distinct times to
// label (none when positions are by index without dates).
func (c Trend) xScale(l, r float64) (func(i int, t time.Time) float64, []time.Time) {
	seen := map[int64]bool{}
	var times []time.Time
	allDated := true
	longest := 0
	for _, s := range c.Series {
		longest = max(longest, len(s.Points))
		for _, p := range s.Points {
			if p.At.IsZero() {
				allDated = false
				continue
			}
			if k := p.At.UnixNano(); !seen[k] {
				seen[k] = true
				times = append(times, p.At)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	if allDated && len(times) >= 2 {
		first, last := times[0], times[len(times)-1]
		x := linear{0, last.Sub(first).Seconds(), l, r}
		return func(_ int, t time.Time) float64 { return x.at(t.Sub(first).Seconds()) }, times
	}
	x := linear{0, float64(longest - 1), l, r}
	if !allDated || len(times) != 1 {
		times = nil
	}
	return func(i int, _ time.Time) float64 { return x.at(float64(i)) }, times
}

// dateTicks labels the time axis: the newest date always, then every k-th date back so the
// labels do not collide. The year is added to the first label and where it changes.
func (c Trend) dateTicks(out *svgWriter, x func(int, time.Time) float64, times []time.Time, l, r, base float64) {
	if len(times) == 0 {
		return
	}
	maxLabels := int(math.Max(1, (r-l)/66))
	step := (len(times) + maxLabels - 1) / maxLabels
	var picked []int
	for i := len(times) - 1; i >= 0; i -= step {
		picked = append([]int{i}, picked...)
	}
	prevYear := 0
	for k, i := range picked {
		t := times[i]
		tx := x(0, t)
		if len(times) == 1 {
			tx = (l + r) / 2
		}
		label := dateLabel(t, k == 0 || t.Year() != prevYear)
		prevYear = t.Year()
		anchor := "middle"
		if tx-textWidth(label, 11)/2 < l-20 {
			anchor = "start"
		} else if tx+textWidth(label, 11)/2 > r+20 {
			anchor = "end"
		}
		out.empty("line", at("class", "tick"), at("x1", tx), at("y1", base), at("x2", tx), at("y2", base+4),
			at("stroke", colAxis), at("stroke-width", 1.0))
		out.text(label, at("class", "tick"), at("x", tx), at("y", base+16), at("text-anchor", anchor), at("fill", colMuted))
	}
}

// describe summarises the chart for a screen reader.
func (c Trend) describe(f Format) string {
	var parts []string
	if len(c.Series) == 0 {
		parts = append(parts, "No data.")
	}
	for i, s := range c.Series {
		name := s.Name
		if name == "" {
			name = "Series " + strconv.Itoa(i+1)
		}
		if len(s.Points) <= maxListed {
			parts = append(parts, name+": "+strconv.Itoa(len(s.Points))+" values"+span(s.Points)+": "+
				pointList(s.Points, f)+"; "+latest(s.Points, f)+".")
			continue
		}
		vals := make([]float64, 0, len(s.Points))
		for _, p := range s.Points {
			if v, ok := value(p.Value); ok {
				vals = append(vals, v)
			}
		}
		sum := name + ": " + strconv.Itoa(len(s.Points)) + " values" + span(s.Points)
		if lo, hi, ok := extent(vals); ok {
			sum += ", lowest " + f(lo) + ", highest " + f(hi) + ", " + strconv.Itoa(len(s.Points)-len(vals)) + " missing"
		}
		parts = append(parts, sum+"; "+latest(s.Points, f)+".")
	}
	if v, ok := value(c.Target); ok {
		from := ""
		if _, times := c.xScale(0, 1); len(times) >= 2 && c.TargetFrom.After(times[0]) {
			from = " from " + c.TargetFrom.UTC().Format("2 Jan 2006")
		}
		parts = append(parts, "Target "+c.per(f)(v)+from+".")
	}
	if c.Bands.usable() {
		parts = append(parts, c.Bands.rule(c.per(f)))
	}
	return strings.Join(parts, " ")
}

// scaleTo is the value axis's extent for values from lo to hi: a line chart of a quantity near
// zero reads best from zero; one far from zero (an uptime of 99.9 %) would flatten into a line
// at the top if forced to start there.
func scaleTo(lo, hi float64) (float64, float64) {
	if lo > 0 && lo < hi*0.5 {
		lo = 0
	}
	return lo, hi
}

// spread moves label positions apart to at least gap, keeping their order and staying within
// [lo, hi] when there is room.
// wrapLabel splits a line's label that is wider than avail at size into
// two lines at the space that makes the wider of them narrowest (the
// earlier on a tie; before a parenthesis when that is as good to within
// a character): "amber ≤ 0.47" over "a week (above)", "green ≥ 50" over
// "(above)". A label that fits, or has no space, stays one line; a
// line still too wide is squeezed where it is drawn (fitted).
func wrapLabel(s string, size, avail float64) []string {
	if textWidth(s, size) <= avail || !strings.Contains(s, " ") {
		return []string{s}
	}
	wider := func(i int) float64 { return math.Max(textWidth(s[:i], size), textWidth(s[i+1:], size)) }
	cut, best := -1, math.Inf(1)
	for i, r := range s {
		if r == ' ' && breakable(s, i) && wider(i) < best {
			cut, best = i, wider(i)
		}
	}
	if cut < 0 {
		return []string{s}
	}
	// "(above)" and "(below)" read best alone on the second line, when
	// that is within a character of the best.
	if i := strings.LastIndex(s, " ("); i > 0 && wider(i) <= best+textWidth("x", size) {
		cut = i
	}
	return []string{s[:cut], s[cut+1:]}
}

// breakable says whether a label may go on a second line at its space at
// i: a value keeps its comparison and its unit ("≥ 99.5 %", "85.87 USD").
func breakable(s string, i int) bool {
	before, after := s[:i], s[i+1:]
	if strings.HasSuffix(before, "≥") || strings.HasSuffix(before, "≤") {
		return false
	}
	if before == "" || after == "" {
		return true
	}
	digit := before[len(before)-1] >= '0' && before[len(before)-1] <= '9'
	unit := after[0] == '%' || after[0] >= 'A' && after[0] <= 'Z'
	return !(digit && unit)
}

func spread(ys []float64, gap, lo, hi float64) []float64 {
	idx := make([]int, len(ys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ys[idx[a]] < ys[idx[b]] })
	out := make([]float64, len(ys))
	prev := math.Inf(-1)
	for _, i := range idx {
		v := math.Max(ys[i], prev+gap)
		out[i], prev = v, v
	}
	// Shift back up if the last label fell off the bottom.
	if len(idx) > 0 {
		if over := out[idx[len(idx)-1]] - hi; over > 0 {
			for _, i := range idx {
				out[i] = math.Max(lo, out[i]-over)
			}
		}
	}
	return out
}

// periods shades each period that overlaps [first, last] and labels it at the top.
func (c Trend) periods(out *svgWriter, x func(int, time.Time) float64, first, last time.Time, top, bottom float64) {
	for _, p := range c.Periods {
		from, to := p.From, p.To
		if from.Before(first) {
			from = first
		}
		if to.After(last) {
			to = last
		}
		if !from.Before(to) {
			continue
		}
		x0, x1 := x(-1, from), x(-1, to)
		out.open("g", at("class", "annotation"))
		name := p.Label
		if p.Kind != "" {
			name += " (" + strings.ReplaceAll(p.Kind, "_", " ") + ")"
		}
		// To is excluded: the last day named is the one before it.
		out.element("title", fmt.Sprintf("%s: %s to %s", name, p.From.UTC().Format("2 Jan 2006"), p.To.Add(-time.Nanosecond).UTC().Format("2 Jan 2006")))
		out.empty("rect", at("x", x0), at("y", top), at("width", math.Max(x1-x0, 2)), at("height", bottom-top),
			at("fill", colPeriod), at("fill-opacity", 0.6))
		out.text(clip(p.Label, 24), at("class", "label"), at("x", x0+3), at("y", top+10), at("font-size", 10.0), at("fill", colMuted))
		out.close("g")
	}
}
