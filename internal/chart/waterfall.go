package chart

import (
	"html/template"
	"math"
	"strings"
)

// Step is one row of a waterfall.
type Step struct {
	Label string
	// Value is a level for a total (MRR at the start, at the end) and a change for any other
	// step. Nil, NaN or ±Inf is unknown: no bar, "unknown" in its place, and the running level
	// is unknown until the next total.
	Value *float64
	// Total draws the level from the axis; a change floats from the running level, rightwards
	// when it adds and leftwards when it takes away.
	Total bool
}

// Waterfall draws how a level moved from one total to another (MRR at a window's start, its
// movements, MRR at the end), one row per step, top to bottom. Each change starts where the
// one before ended, a dotted connector joining them; its text carries its sign ("+1,200",
// "−300"), so colour (green adds, red takes away, blue totals) is never the only signal. When
// the changes are small beside the totals, the axis starts above zero so they can be seen: the
// chart says so in words under the bars and in its description, and the total bars end in a
// break mark on the left.
type Waterfall struct {
	Title  string
	Steps  []Step
	Format Format
	// Width in pixels; zero means 640. Values below 300 are raised to it.
	Width int
}

const (
	fallRow    = 28.0
	fallHeight = 18.0
	fallUp     = "#2e8540"
	fallDown   = "#c62828"
)

// SVG renders the waterfall.
func (c Waterfall) SVG() template.HTML {
	f := c.Format.or()
	w := width(c.Width, 300)
	n := len(c.Steps)

	title := c.Title
	if title == "" {
		title = "Waterfall"
	}
	// Each step's extent [from, to] on the value axis; ok false where unknown.
	from := make([]float64, n)
	to := make([]float64, n)
	ok := make([]bool, n)
	texts := make([]string, n)
	var levels []float64
	level, known := 0.0, false
	var descs []string
	for i, s := range c.Steps {
		v, present := value(s.Value)
		switch {
		case !present:
			texts[i] = "unknown"
			if !s.Total {
				known = false
			}
		case s.Total:
			from[i], to[i], ok[i] = 0, v, true
			level, known = v, true
			texts[i] = f(v)
			levels = append(levels, v)
		default:
			texts[i] = signed(f, v)
			if known {
				from[i], to[i], ok[i] = level, level+v, true
				level += v
				levels = append(levels, level)
			}
		}
		descs = append(descs, strings.Join(strings.Fields(s.Label), " ")+" "+texts[i])
	}

	lo, hi, found := extent(levels)
	base := 0.0
	if found && lo > 0 && hi-lo < 0.4*hi {
		// Small changes beside large totals: start the axis at a round value below the lowest
		// level, leaving the changes a readable length.
		ticks := niceTicks(lo-(hi-lo)*0.6-hi*0.02, hi, 4)
		base = math.Max(0, ticks[0])
		if base >= lo {
			base = 0
		}
	}
	broken := base > 0
	desc := "No data."
	if n > 0 {
		desc = strings.Join(descs, "; ") + "."
		if broken {
			desc += " The axis starts at " + f(base) + ", not zero."
		}
	}

	labelW, valueW := 0.0, 0.0
	labels := make([]string, n)
	for i, s := range c.Steps {
		labels[i] = clip(s.Label, labelMax)
		labelW = math.Max(labelW, textWidth(labels[i], 11))
		valueW = math.Max(valueW, textWidth(texts[i], 11))
	}
	h := 6 + fallRow*float64(max(n, 1))
	if broken {
		h += 18
	}
	var out svgWriter
	out.begin("waterfall", w, h, title, desc)
	if n == 0 || !found {
		out.noData(0, 6+fallRow/2, 11, "start")
		return out.html()
	}
	labelW = math.Min(labelW+12, w*0.35)
	valueW = math.Min(valueW+10, w*0.3)
	barL, barR := labelW, w-valueW
	top := hi
	for i := range c.Steps {
		if ok[i] {
			top = math.Max(top, math.Max(from[i], to[i]))
		}
	}
	x := linear{base, top, barL, barR}
	if top <= base {
		x = linear{base, base + 1, barL, barR}
	}
	clampX := func(v float64) float64 { return clamp(x.at(v), barL, barR) }

	prevEnd, prevY := 0.0, -1.0
	for i, s := range c.Steps {
		y := 4 + fallRow*float64(i)
		mid := y + fallRow/2
		kind, fill := "step", fallUp
		switch {
		case s.Total:
			kind, fill = "total", fillOf[""]
		case ok[i] && to[i] < from[i]:
			kind, fill = "step down", fallDown
		case ok[i]:
			kind = "step up"
		}
		if !ok[i] {
			kind += " st-unknown"
		}
		out.open("g", at("class", kind))
		out.text(labels[i], at("class", "label"), at("x", 0.0), at("y", mid), at("dy", "0.35em"), at("fill", colInk))
		end := barL
		if ok[i] {
			a, b := clampX(math.Min(from[i], to[i])), clampX(math.Max(from[i], to[i]))
			if s.Total {
				a = barL
			}
			bw := b - a
			if bw < 1 {
				bw = 1 // a zero change still marks where the level stood
				a = math.Min(a, barR-1)
			}
			out.empty("rect", at("x", a), at("y", mid-fallHeight/2), at("width", bw), at("height", fallHeight), at("rx", 2.0), at("fill", fill))
			if s.Total && broken {
				// The break mark: the bar does not start at zero.
				zz := num(a+3) + "," + num(mid-fallHeight/2) + " " + num(a+7) + "," + num(mid-3) + " " +
					num(a+3) + "," + num(mid+3) + " " + num(a+7) + "," + num(mid+fallHeight/2)
				out.empty("polyline", at("class", "break"), at("points", zz), at("fill", "none"), at("stroke", "#ffffff"), at("stroke-width", 2.0))
			}
			end = a + bw
			if prevY >= 0 {
				out.empty("line", at("class", "connector"), at("x1", prevEnd), at("y1", prevY), at("x2", prevEnd), at("y2", mid-fallHeight/2),
					at("stroke", colAxis), at("stroke-width", 1.0), at("stroke-dasharray", "2 2"))
			}
			prevEnd, prevY = clampX(to[i]), mid+fallHeight/2
		} else {
			prevY = -1
		}
		out.text(texts[i], fitted(texts[i], 11, valueW-6, at("class", "value"), at("x", math.Max(end, barL)+6), at("y", mid), at("dy", "0.35em"),
			at("fill", colInk))...)
		out.close("g")
	}
	if broken {
		out.text("Axis starts at "+f(base)+", not zero", at("class", "caption"), at("x", barL), at("y", h-8),
			at("font-size", 10.0), at("fill", colMuted))
	}
	return out.html()
}

// signed writes a change with its sign: "+1,200", "−300" (a true minus sign), "0".
func signed(f Format, v float64) string {
	switch {
	case v > 0:
		return "+" + f(v)
	case v < 0:
		return "−" + f(-v)
	}
	return f(v)
}
