package chart

import (
	"html/template"
	"math"
	"strings"
)

// Bullet is a bullet chart of attainment: the value as a bar, the target as a vertical mark,
// and the pace (target × the elapsed share of the period) as a triangle under the track, so a
// reader sees both "how far to target" and "ahead of or behind where we should be by now".
// It is 320×64.
type Bullet struct {
	Label  string
	Value  *float64
	Target *float64
	// Elapsed is the share (0..1) of the period that has passed; nil, or a value outside [0, 1],
	// draws no pace mark.
	Elapsed *float64
	// Status sets the bar's colour and class and is written as a word (see Bar.Status).
	Status string
	Format Format
	// Bare leaves out the two lines of text under the marks, for a page that states the figures
	// beside the chart in its own words: said twice they read "74.84 % of 100 % (74.8 %)". The
	// marks are labelled instead — the pace triangle "pace", the target line TargetLabel — and
	// the description still gives every figure. The chart is then BulletBareHeight high.
	Bare bool
	// TargetLabel names the target line of a Bare chart ("quota"); "" is "target".
	TargetLabel string
}

// Bullet chart size.
const (
	BulletWidth      = 320
	BulletHeight     = 64
	BulletBareHeight = 48
)

// SVG renders the bullet chart.
func (c Bullet) SVG() template.HTML {
	f := c.Format.or()
	const w, h = float64(BulletWidth), float64(BulletHeight)
	const trackT, trackH = 6.0, 18.0
	const padX = 4.0

	v, hasValue := value(c.Value)
	target, hasTarget := value(c.Target)
	hasTarget = hasTarget && target > 0
	elapsed, hasElapsed := value(c.Elapsed)
	hasElapsed = hasElapsed && hasTarget && elapsed >= 0 && elapsed <= 1
	st := status(c.Status)
	if !hasValue {
		st = StatusUnknown
	}

	// Two lines under the track: the value against the target, then pace and status. Together
	// they are also the description.
	var first string
	switch {
	case !hasValue:
		first = "unknown"
	case hasTarget:
		first = f(v) + " of " + f(target) + " (" + percent(v/target) + ")"
	default:
		first = f(v) + ", no target"
	}
	var second []string
	if hasElapsed {
		second = append(second, "pace "+percent(elapsed))
	}
	word := ""
	if st != "" && hasValue {
		word = statusWord(st)
	}
	line := strings.Join(append([]string{first}, second...), " · ")
	if word != "" {
		line += " · " + word
	}

	title := c.Label
	if title == "" {
		title = "Attainment"
	}
	desc := line + "."
	if hasElapsed {
		desc = line + ". Pace is the target times the " + percent(elapsed) + " of the period elapsed: " + f(target*elapsed) + "."
	}

	height := h
	if c.Bare {
		height = BulletBareHeight
	}
	var out svgWriter
	out.begin("bullet", w, height, title, desc)

	scaleMax := 0.0
	if hasTarget {
		scaleMax = target * 1.15
	}
	if hasValue {
		scaleMax = math.Max(scaleMax, v*1.05)
	}
	if scaleMax <= 0 {
		scaleMax = 1
	}
	x := linear{0, scaleMax, padX, w - padX}

	out.empty("rect", at("class", "track"), at("x", padX), at("y", trackT), at("width", w-2*padX), at("height", trackH),
		at("rx", 2.0), at("fill", colTrack))
	if hasValue && v > 0 {
		out.empty("rect", at("class", "value "+statusClass(st)), at("x", padX), at("y", trackT+4),
			at("width", math.Max(x.at(v)-padX, 1)), at("height", trackH-8), at("fill", fillOf[st]))
	}
	if hasTarget {
		tx := x.at(target)
		out.empty("line", at("class", "target"), at("x1", tx), at("y1", trackT-4), at("x2", tx), at("y2", trackT+trackH+4),
			at("stroke", colTarget), at("stroke-width", 2.5))
	}
	if hasElapsed {
		px := x.at(target * elapsed)
		b := trackT + trackH
		pts := num(px) + "," + num(b+1) + " " + num(px-4.5) + "," + num(b+8) + " " + num(px+4.5) + "," + num(b+8)
		out.empty("polygon", at("class", "pace"), at("points", pts), at("fill", colMuted))
	}
	if c.Bare {
		if hasTarget {
			c.markLabels(&out, x.at(target), x.at(target*elapsed), hasElapsed, w)
		}
		return out.html()
	}
	out.text(first, fitted(first, 11, w-2*padX, at("class", "caption"), at("x", padX), at("y", 44.0), at("fill", colInk))...)
	if len(second) > 0 || word != "" {
		rest := strings.Join(second, " · ")
		full := strings.Join(append(second[:len(second):len(second)], word), " · ")
		out.open("text", fitted(full, 10, w-2*padX, at("class", "caption-2"), at("x", padX), at("y", 59.0),
			at("font-size", 10.0), at("fill", colMuted))...)
		out.b.WriteString(esc(rest))
		if word != "" {
			if rest != "" {
				out.b.WriteString(esc(" · "))
			}
			out.open("tspan", at("class", "status "+statusClass(st)), at("fill", textOf[st]), at("font-weight", "600"))
			out.b.WriteString(esc(word))
			out.close("tspan")
		}
		out.close("text")
	}
	return out.html()
}

// markLabels names a Bare chart's target line (at tx) and pace triangle (at px, when drawn)
// under the track, each centred on its mark unless that would run off the chart or into the
// other label: then the pace label ends at its triangle and the target's starts at its line.
func (c Bullet) markLabels(out *svgWriter, tx, px float64, hasPace bool, w float64) {
	const y, size, gap = 43.0, 10.0, 6.0
	type label struct {
		text, class, anchor string
		x                   float64
	}
	name := c.TargetLabel
	if name == "" {
		name = "target"
	}
	target := label{text: name, class: "target-label", anchor: "middle", x: tx}
	labels := []*label{&target}
	var pace label
	if hasPace {
		pace = label{text: "pace", class: "pace-label", anchor: "middle", x: px}
		labels = append(labels, &pace)
		half := (textWidth(pace.text, size) + textWidth(target.text, size)) / 2
		if tx-px < half+gap {
			pace.anchor, pace.x = "end", px+4.5
			target.anchor, target.x = "start", tx+2
		}
	}
	for _, l := range labels {
		lw := textWidth(l.text, size)
		switch {
		case l.anchor == "middle" && l.x-lw/2 < 0:
			l.anchor, l.x = "start", 0
		case l.anchor == "middle" && l.x+lw/2 > w:
			l.anchor, l.x = "end", w
		case l.anchor == "start" && l.x+lw > w:
			l.anchor, l.x = "end", w
		case l.anchor == "end" && l.x-lw < 0:
			l.anchor, l.x = "start", 0
		}
		out.text(l.text, at("class", l.class), at("x", l.x), at("y", y), at("text-anchor", l.anchor),
			at("font-size", size), at("fill", colMuted))
	}
}
