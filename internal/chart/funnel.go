package chart

import (
	"html/template"
	"math"
	"strings"
)

// Stage is one step of a funnel.
type Stage struct {
	Label string
	// Count nil (or NaN, ±Inf, negative) is unknown: no bar, and the shares on either side of it
	// are unknown too.
	Count *float64
}

// Funnel draws the stages of a conversion funnel (leads → MQL → SQL → opportunity → won) as
// centred bars proportional to their counts, with each stage's share of the one before it.
type Funnel struct {
	Title  string
	Stages []Stage
	// Format formats the counts (default Number); shares are always percentages.
	Format Format
	// Width in pixels; zero means 640. Values below 320 are raised to it.
	Width int
}

const (
	stageHeight = 26.0
	stageGap    = 22.0 // room between stages for the share
)

// SVG renders the funnel.
func (c Funnel) SVG() template.HTML {
	f := c.Format.or()
	w := width(c.Width, 320)
	n := len(c.Stages)
	h := 8 + stageHeight*float64(max(n, 1)) + stageGap*float64(max(n-1, 0))

	title := c.Title
	if title == "" {
		title = "Funnel"
	}
	counts := make([]float64, n)
	present := make([]bool, n)
	labels := make([]string, n)
	countText := make([]string, n)
	shares := make([]string, n) // shares[i]: stage i's share of stage i-1
	labelW, rightW := 0.0, 0.0
	var desc []string
	for i, s := range c.Stages {
		counts[i], present[i] = value(s.Count)
		present[i] = present[i] && counts[i] >= 0
		labels[i] = clip(s.Label, labelMax)
		countText[i] = "unknown"
		if present[i] {
			countText[i] = f(counts[i])
		}
		d := strings.Join(strings.Fields(s.Label), " ") + " " + countText[i]
		if i > 0 {
			shares[i] = "share unknown"
			if present[i] && present[i-1] && counts[i-1] > 0 {
				shares[i] = percent(counts[i]/counts[i-1]) + " of previous"
			}
			d += " (" + shares[i] + ")"
			rightW = math.Max(rightW, textWidth(shares[i], 10))
		}
		desc = append(desc, d)
		labelW = math.Max(labelW, textWidth(labels[i], 11))
		rightW = math.Max(rightW, textWidth(countText[i], 12))
	}
	summary := "No data."
	if n > 0 {
		summary = strings.Join(desc, "; ") + "."
		if n > 1 && present[0] && present[n-1] && counts[0] > 0 {
			summary += " Overall " + percent(counts[n-1]/counts[0]) + " of the first stage."
		}
	}

	var out svgWriter
	out.begin("funnel", w, h, title, summary)
	if n == 0 {
		out.noData(0, h/2, 11, "start")
		return out.html()
	}

	labelW = math.Min(labelW+14, w*0.3)
	rightW = math.Min(rightW+14, w*0.3)
	areaL, areaR := labelW, w-rightW
	mid := (areaL + areaR) / 2
	peak := 0.0
	for i := range counts {
		if present[i] {
			peak = math.Max(peak, counts[i])
		}
	}
	widthOf := func(i int) float64 {
		if !present[i] || peak == 0 {
			return 0
		}
		bw := counts[i] / peak * (areaR - areaL)
		if counts[i] > 0 {
			bw = math.Max(bw, 2)
		}
		return bw
	}
	topOf := func(i int) float64 { return 4 + float64(i)*(stageHeight+stageGap) }

	// Connectors first, so the bars sit on top of them.
	for i := 1; i < n; i++ {
		a, b := widthOf(i-1), widthOf(i)
		if a == 0 || b == 0 {
			continue
		}
		y0, y1 := topOf(i-1)+stageHeight, topOf(i)
		pts := num(mid-a/2) + "," + num(y0) + " " + num(mid+a/2) + "," + num(y0) + " " +
			num(mid+b/2) + "," + num(y1) + " " + num(mid-b/2) + "," + num(y1)
		out.empty("polygon", at("class", "connector"), at("points", pts), at("fill", "#dbe4f0"))
	}
	for i := range c.Stages {
		top := topOf(i)
		cy := top + stageHeight/2
		st := ""
		if !present[i] {
			st = StatusUnknown
		}
		out.open("g", at("class", "stage "+statusClass(st)))
		out.text(labels[i], at("class", "label"), at("x", 0.0), at("y", cy), at("dy", "0.35em"), at("fill", colInk))
		if bw := widthOf(i); bw > 0 {
			out.empty("rect", at("x", mid-bw/2), at("y", top), at("width", bw), at("height", stageHeight),
				at("rx", 2.0), at("fill", fillOf[""]))
		}
		out.text(countText[i], at("class", "count"), at("x", w), at("y", cy), at("dy", "0.35em"),
			at("text-anchor", "end"), at("font-size", 12.0), at("font-weight", "600"), at("fill", textOf[st]))
		out.close("g")
		if i > 0 {
			out.text(shares[i], at("class", "share"), at("x", w), at("y", top-stageGap/2), at("dy", "0.35em"),
				at("text-anchor", "end"), at("font-size", 10.0), at("fill", colMuted))
		}
	}
	return out.html()
}
