package chart

import (
	"cmp"
	"html"
	"html/template"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	nan    = math.NaN()
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
	// hostile is a label that would inject markup, break out of an attribute, or make the XML
	// ill-formed if any step skipped escaping.
	hostile = `<script>alert("x")</script>"' onload="alert(1)" ]]> & </svg>` + "\x00\x1b\xff"
)

// weeks returns n weekly points ending 24 Mar 2026 with the given values; nil entries are missing.
func weeks(vals ...*float64) []Point {
	end := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	pts := make([]Point, len(vals))
	for i, v := range vals {
		pts[i] = Point{At: end.AddDate(0, 0, -7*(len(vals)-1-i)), Value: v}
	}
	return pts
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " %" }

// TestEveryChartIsWellFormedAndSafe runs every chart over ordinary, empty, degenerate and hostile
// input and checks the properties all output must have (checkSVG).
func TestEveryChartIsWellFormedAndSafe(t *testing.T) {
	twelve := weeks(fp(1), fp(2), nil, fp(4), fp(3), nil, nil, fp(5), fp(6), fp(4), fp(7), fp(8))
	bad := weeks(fp(nan), fp(posInf), fp(negInf), fp(1), fp(nan))
	huge := weeks(fp(1e308), fp(-1e308), fp(math.MaxFloat64))
	higher := &Bands{Better: Higher, Green: 6, Amber: 3}
	cases := []struct {
		name string
		svg  template.HTML
	}{
		{"spark", Spark{Label: "Deploys", Points: twelve, Bands: higher}.SVG()},
		{"spark empty", Spark{}.SVG()},
		{"spark one point", Spark{Label: "x", Points: weeks(fp(3))}.SVG()},
		{"spark all missing", Spark{Label: "x", Points: weeks(nil, nil, nil)}.SVG()},
		{"spark NaN and Inf", Spark{Label: "x", Points: bad, Bands: &Bands{Better: Lower, Green: nan, Amber: 1}}.SVG()},
		{"spark huge", Spark{Label: "x", Points: huge}.SVG()},
		{"spark constant", Spark{Points: weeks(fp(0), fp(0), fp(0)), Bands: higher}.SVG()},
		{"spark hostile", Spark{Label: hostile, Points: twelve}.SVG()},
		{"trend", Trend{Title: "Deploys", Series: []Series{{Name: "a", Points: twelve}, {Name: "b", Points: weeks(fp(2), fp(3))}},
			Bands: higher, Target: fp(7), Format: pct}.SVG()},
		{"trend empty", Trend{}.SVG()},
		{"trend empty series", Trend{Series: []Series{{}}}.SVG()},
		{"trend one point", Trend{Series: []Series{{Points: weeks(fp(3))}}}.SVG()},
		{"trend all missing", Trend{Series: []Series{{Points: weeks(nil, nil)}}, Target: fp(3)}.SVG()},
		{"trend NaN and Inf", Trend{Series: []Series{{Points: bad}}, Target: fp(nan), Bands: &Bands{Better: Higher, Green: posInf, Amber: 0}}.SVG()},
		{"trend huge", Trend{Series: []Series{{Points: huge}}}.SVG()},
		{"trend undated", Trend{Series: []Series{{Points: []Point{{Value: fp(1)}, {Value: fp(2)}}}}}.SVG()},
		{"trend same time", Trend{Series: []Series{{Points: []Point{{At: time.Unix(1e9, 0), Value: fp(1)}, {At: time.Unix(1e9, 0), Value: fp(2)}}}}}.SVG()},
		{"trend three series", Trend{Series: []Series{{Points: twelve}, {Points: twelve}, {Points: twelve}}}.SVG()},
		{"trend tiny size", Trend{Series: []Series{{Points: twelve}}, Width: 10, Height: 10}.SVG()},
		{"trend long", Trend{Series: []Series{{Points: weeks(make([]*float64, 200)...)}}}.SVG()},
		{"trend hostile", Trend{Title: hostile, Series: []Series{{Name: hostile, Points: twelve}, {Name: hostile, Points: twelve}},
			Format: func(float64) string { return hostile }, Target: fp(2), Bands: higher}.SVG()},
		{"bars", Bars{Title: "By team", Bars: []Bar{{"a", fp(3), "green", "", ""}, {"b", nil, "red", "", ""}, {"c", fp(-2), "amber", "", ""}, {"d", fp(0), "", "", ""}}}.SVG()},
		{"bars empty", Bars{}.SVG()},
		{"bars all missing", Bars{Bars: []Bar{{"a", nil, "", "", ""}, {"b", fp(nan), "green", "", ""}}}.SVG()},
		{"bars all zero", Bars{Bars: []Bar{{"a", fp(0), "", "", ""}}}.SVG()},
		{"bars huge", Bars{Bars: []Bar{{"a", fp(1e308), "", "", ""}, {"b", fp(-1e308), "", "", ""}}}.SVG()},
		{"bars hostile", Bars{Title: hostile, Bars: []Bar{{hostile, fp(1), hostile, "", ""}}, Format: func(float64) string { return hostile }}.SVG()},
		{"funnel", Funnel{Title: "Pipeline", Stages: []Stage{{"Leads", fp(1000)}, {"MQL", fp(400)}, {"SQL", fp(120)}, {"Won", fp(30)}}}.SVG()},
		{"funnel empty", Funnel{}.SVG()},
		{"funnel one stage", Funnel{Stages: []Stage{{"Leads", fp(10)}}}.SVG()},
		{"funnel missing and zero", Funnel{Stages: []Stage{{"a", fp(0)}, {"b", nil}, {"c", fp(nan)}, {"d", fp(-5)}}}.SVG()},
		{"funnel hostile", Funnel{Title: hostile, Stages: []Stage{{hostile, fp(2)}, {hostile, fp(1)}}}.SVG()},
		{"stacked", StackedBars{Title: "Lead time", Series: []string{"Coding", "Pickup", "Review", "Deploy"},
			Rows: []StackRow{{"All", []*float64{fp(10), fp(2), fp(12), fp(96)}, "n = 7"}, {"growth", []*float64{nil, fp(48), fp(24), fp(48)}, ""}}}.SVG()},
		{"stacked empty", StackedBars{}.SVG()},
		{"stacked no rows", StackedBars{Series: []string{"a", "b"}}.SVG()},
		{"stacked all missing", StackedBars{Series: []string{"a"}, Rows: []StackRow{{"x", []*float64{nil}, ""}, {"y", []*float64{fp(nan)}, ""}}}.SVG()},
		{"stacked zero and negative", StackedBars{Series: []string{"a", "b"}, Rows: []StackRow{{"x", []*float64{fp(0), fp(-3)}, ""}}}.SVG()},
		{"stacked short values", StackedBars{Series: []string{"a", "b", "c"}, Rows: []StackRow{{"x", []*float64{fp(1)}, ""}}}.SVG()},
		{"stacked huge", StackedBars{Series: []string{"a", "b"}, Rows: []StackRow{{"x", []*float64{fp(1e308), fp(1e308)}, ""}}}.SVG()},
		{"stacked narrow", StackedBars{Series: []string{"Coding time", "Pickup time", "Review time", "Deploy time"}, Width: 300,
			Rows: []StackRow{{"a team with a long name", []*float64{fp(1), fp(2), fp(3), fp(4)}, "n = 1"}}}.SVG()},
		{"stacked hostile", StackedBars{Title: hostile, Series: []string{hostile}, Rows: []StackRow{{hostile, []*float64{fp(1)}, hostile}},
			Format: func(float64) string { return hostile }}.SVG()},
		{"waterfall", Waterfall{Title: "MRR", Steps: []Step{{"Start", fp(1000), true}, {"New", fp(200), false}, {"Churn", fp(-300), false}, {"End", fp(900), true}}}.SVG()},
		{"waterfall empty", Waterfall{}.SVG()},
		{"waterfall all missing", Waterfall{Steps: []Step{{"Start", nil, true}, {"New", nil, false}}}.SVG()},
		{"waterfall unknown step", Waterfall{Steps: []Step{{"Start", fp(10), true}, {"a", fp(nan), false}, {"b", fp(5), false}, {"End", fp(20), true}}}.SVG()},
		{"waterfall below zero", Waterfall{Steps: []Step{{"Start", fp(10), true}, {"a", fp(-50), false}, {"End", fp(-40), true}}}.SVG()},
		{"waterfall zeros", Waterfall{Steps: []Step{{"Start", fp(0), true}, {"a", fp(0), false}, {"End", fp(0), true}}}.SVG()},
		{"waterfall huge", Waterfall{Steps: []Step{{"Start", fp(1e308), true}, {"a", fp(1e308), false}, {"b", fp(-1e308), false}}}.SVG()},
		{"waterfall hostile", Waterfall{Title: hostile, Steps: []Step{{hostile, fp(3), true}, {hostile, fp(1), false}},
			Format: func(float64) string { return hostile }}.SVG()},
		{"bullet", Bullet{Label: "Bookings", Value: fp(1.2e6), Target: fp(2e6), Elapsed: fp(0.55), Status: "amber"}.SVG()},
		{"bullet empty", Bullet{}.SVG()},
		{"bullet over target", Bullet{Value: fp(3), Target: fp(2), Elapsed: fp(1), Status: "green"}.SVG()},
		{"bullet NaN", Bullet{Value: fp(nan), Target: fp(posInf), Elapsed: fp(nan)}.SVG()},
		{"bullet negative", Bullet{Value: fp(-5), Target: fp(-1), Elapsed: fp(2)}.SVG()},
		{"bullet hostile", Bullet{Label: hostile, Value: fp(1), Target: fp(2), Status: hostile, Format: func(float64) string { return hostile }}.SVG()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkSVG(t, c.svg) })
	}
}

// TestHostileTextIsEscaped checks a label that tries markup and attribute injection comes out as
// the same text, inside the element meant for it, and adds no element or attribute.
func TestHostileTextIsEscaped(t *testing.T) {
	want := strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < 0x20 {
			return '\uFFFD'
		}
		return r
	}, hostile), "\uFFFD")
	clipped := clip(want, labelMax)

	root := checkSVG(t, Bars{Title: hostile, Bars: []Bar{{Label: hostile, Value: fp(1)}}}.SVG())
	if got := root.children[0].text; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	labels := root.byClass("text", "label")
	if len(labels) != 1 || labels[0].text != clipped {
		t.Errorf("label text = %v, want one %q", texts(labels), clipped)
	}
	if !strings.Contains(root.children[1].text, want) {
		t.Errorf("desc %q does not hold the whole label %q", root.children[1].text, want)
	}
	if n := len(root.all(func(n *node) bool { return n.name == "script" || n.attrs["onload"] != "" })); n != 0 {
		t.Errorf("%d injected elements or attributes", n)
	}
}

func texts(ns []*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.text)
	}
	return out
}

func TestSpark(t *testing.T) {
	vals := []*float64{fp(1), fp(2), nil, fp(4), fp(3), nil, nil, fp(5), fp(6), fp(4), fp(7), fp(8)}
	root := checkSVG(t, Spark{Label: "Deploys/week", Points: weeks(vals...), Bands: &Bands{Better: Higher, Green: 6, Amber: 3}}.SVG())
	if w, h := root.f(t, "width"), root.f(t, "height"); w != 120 || h != 32 {
		t.Errorf("size %v×%v, want 120×32", w, h)
	}
	lines := root.byClass("path", "line")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	// Runs of present values: [1 2] [4 3] [5 6 4 7 8]: three sub-paths, ten points.
	subs := subpaths(t, lines[0].attrs["d"])
	if len(subs) != 3 || len(subs[0]) != 2 || len(subs[1]) != 2 || len(subs[2]) != 5 {
		t.Fatalf("sub-paths %v, want runs of 2, 2 and 5 (gaps, not zeros)", subs)
	}
	var pts [][2]float64
	for _, s := range subs {
		pts = append(pts, s...)
	}
	present := []float64{1, 2, 4, 3, 5, 6, 4, 7, 8}
	_ = present
	for i := 1; i < len(pts); i++ {
		if pts[i][0] <= pts[i-1][0] {
			t.Errorf("x not increasing at point %d: %v", i, pts)
		}
	}
	// Higher values are drawn higher (smaller y), and equal values at the same height.
	ys := map[float64]float64{}
	k := 0
	for _, v := range vals {
		if v != nil {
			ys[*v] = pts[k][1]
			k++
		}
	}
	if !(ys[8] < ys[7] && ys[7] < ys[6] && ys[6] < ys[5] && ys[5] < ys[4] && ys[4] < ys[3] && ys[2] < ys[1]) {
		t.Errorf("y does not fall as the value rises: %v", ys)
	}
	// The gap keeps the x spacing: the point after two missing weeks is three steps on.
	step := pts[1][0] - pts[0][0]
	if got := pts[4][0] - pts[3][0]; math.Abs(got-3*step) > 0.05 {
		t.Errorf("x distance across a two-week gap = %v, want %v", got, 3*step)
	}
	last := root.byClass("circle", "last")
	if len(last) != 1 || last[0].f(t, "cx") != pts[8][0] || last[0].f(t, "cy") != pts[8][1] {
		t.Errorf("last marker %v, want one at %v", last, pts[8])
	}
	// Green band: values ≥ 6 lie inside it, values below outside; amber: 3 ≤ v < 6.
	green, amber := root.byClass("rect", "band-green"), root.byClass("rect", "band-amber")
	if len(green) != 1 || len(amber) != 1 {
		t.Fatalf("bands: %d green, %d amber, want 1 each", len(green), len(amber))
	}
	in := func(r *node, y float64) bool {
		top := r.f(t, "y")
		return y >= top-0.02 && y <= top+r.f(t, "height")+0.02
	}
	if !in(green[0], ys[6]) || !in(green[0], ys[8]) || in(green[0], ys[5]) {
		t.Errorf("green band %v does not cover exactly values ≥ 6 (y of 5, 6, 8: %v %v %v)", green[0].attrs, ys[5], ys[6], ys[8])
	}
	if !in(amber[0], ys[3]) || !in(amber[0], ys[5]) || in(amber[0], ys[2]) {
		t.Errorf("amber band %v does not cover 3..6 (y of 2, 3, 5: %v %v %v)", amber[0].attrs, ys[2], ys[3], ys[5])
	}
	desc := root.children[1].text
	for _, want := range []string{"12 values from 6 Jan 2026 to 24 Mar 2026", "13 Jan 2", "20 Jan no data", "Latest 8 (24 Mar 2026)", "Green ≥ 6, amber ≥ 3"} {
		if !strings.Contains(desc, want) {
			t.Errorf("desc %q lacks %q", desc, want)
		}
	}
}

func TestSparkDegenerate(t *testing.T) {
	// All missing: no line and no marker, a visible "no data" instead of a line at zero.
	root := checkSVG(t, Spark{Label: "x", Points: weeks(nil, fp(nan), nil)}.SVG())
	if n := len(root.named("path")) + len(root.named("circle")); n != 0 {
		t.Errorf("all-missing sparkline draws %d paths/points", n)
	}
	if txt := root.named("text"); len(txt) != 1 || txt[0].text != "no data" {
		t.Errorf("all-missing sparkline text %v, want [no data]", texts(txt))
	}
	// One point: a marker in the middle, and no line to draw.
	root = checkSVG(t, Spark{Label: "x", Points: weeks(fp(4))}.SVG())
	last := root.byClass("circle", "last")
	if len(last) != 1 || last[0].f(t, "cx") != 60 || last[0].f(t, "cy") != 16 {
		t.Errorf("one-point marker %v, want at (60, 16)", last)
	}
	// A lone point between gaps gets a dot of its own; the newest present point is the marked one.
	root = checkSVG(t, Spark{Points: weeks(fp(1), nil, fp(2), nil, fp(3), fp(4), nil)}.SVG())
	if n := len(root.byClass("circle", "point")); n != 3 {
		t.Errorf("%d point dots, want 3 (two lone points and the last)", n)
	}
	if !strings.Contains(root.children[1].text, "Latest 4 (17 Mar 2026); no data after it") {
		t.Errorf("desc %q does not say the newest week has no data", root.children[1].text)
	}
	// Bands in the wrong order for their direction are not drawn.
	root = checkSVG(t, Spark{Points: weeks(fp(1), fp(2)), Bands: &Bands{Better: Higher, Green: 1, Amber: 2}}.SVG())
	if n := len(root.byClass("rect", "band")); n != 0 {
		t.Errorf("%d bands drawn for inconsistent bounds", n)
	}
}

func TestTrend(t *testing.T) {
	a := weeks(fp(10), fp(12), nil, fp(15), fp(14), fp(18), fp(20), fp(19), fp(22), fp(25), fp(24), fp(30))
	b := weeks(fp(5), fp(6), fp(8), fp(8), fp(9), fp(9), fp(10), nil, nil, fp(12), fp(13), fp(14))
	c := Trend{Title: "Bookings", Series: []Series{{Name: "New", Points: a}, {Name: "Expansion", Points: b}},
		Bands: &Bands{Better: Higher, Green: 25, Amber: 15}, Target: fp(28), Format: pct}
	root := checkSVG(t, c.SVG())
	if w, h := root.f(t, "width"), root.f(t, "height"); w != 640 || h != 240 {
		t.Errorf("size %v×%v, want 640×240", w, h)
	}
	series := root.byClass("g", "series")
	if len(series) != 2 {
		t.Fatalf("%d series groups, want 2", len(series))
	}
	var ys []map[float64]float64
	for si, g := range series {
		paths := g.named("path")
		if len(paths) != 1 {
			t.Fatalf("series %d: %d paths", si, len(paths))
		}
		subs := subpaths(t, paths[0].attrs["d"])
		if want := []int{2, 9}; si == 1 {
			want = []int{7, 3}
			if len(subs) != 2 || len(subs[0]) != want[0] || len(subs[1]) != want[1] {
				t.Errorf("series 2 runs %v, want %v", subs, want)
			}
		} else if len(subs) != 2 || len(subs[0]) != want[0] || len(subs[1]) != want[1] {
			t.Errorf("series 1 runs %v, want %v", subs, want)
		}
		prev := -1.0
		m := map[float64]float64{}
		src := []Point(a)
		if si == 1 {
			src = b
		}
		k := 0
		var flat [][2]float64
		for _, s := range subs {
			flat = append(flat, s...)
		}
		for _, p := range src {
			if p.Value == nil {
				continue
			}
			if flat[k][0] <= prev {
				t.Errorf("series %d: x not increasing: %v", si, flat)
			}
			prev = flat[k][0]
			m[*p.Value] = flat[k][1]
			k++
		}
		if dots := g.named("circle"); len(dots) != k {
			t.Errorf("series %d: %d dots, want one per present point (%d)", si, len(dots), k)
		}
		ys = append(ys, m)
	}
	// One value scale for both series: 14 in series 1 and 14 in series 2 sit at the same height.
	if ys[0][14] != ys[1][14] || !(ys[0][30] < ys[0][20] && ys[0][20] < ys[0][10]) {
		t.Errorf("y scale inconsistent: %v %v", ys[0], ys[1])
	}
	// Both series share the dates: the first points of both are at the same x.
	p1 := subpaths(t, series[0].named("path")[0].attrs["d"])[0][0]
	p2 := subpaths(t, series[1].named("path")[0].attrs["d"])[0][0]
	if p1[0] != p2[0] {
		t.Errorf("series start at x %v and %v, want the same date at the same x", p1[0], p2[0])
	}
	if series[1].named("path")[0].attrs["stroke-dasharray"] == "" {
		t.Error("second series is not dashed: colour would be the only difference")
	}

	lineY := func(class string) (float64, string) {
		ls := root.byClass("line", class)
		lb := root.byClass("text", class, "label")
		if len(ls) != 1 || len(lb) != 1 {
			t.Fatalf("%s: %d lines and %d labels, want 1 each", class, len(ls), len(lb))
		}
		if ls[0].f(t, "y1") != ls[0].f(t, "y2") {
			t.Errorf("%s line not horizontal", class)
		}
		return ls[0].f(t, "y1"), lb[0].text
	}
	gy, gl := lineY("thr-green")
	ay, al := lineY("thr-amber")
	ty, tl := lineY("target")
	if gl != "green ≥ 25.0 %" || al != "amber ≥ 15.0 %" || tl != "target 28.0 %" {
		t.Errorf("line labels %q %q %q", gl, al, tl)
	}
	if !(ty < gy && gy < ay) {
		t.Errorf("target, green, amber at y %v %v %v: want target above green above amber", ty, gy, ay)
	}
	if math.Abs(gy-ys[0][25]) > 0.02 || math.Abs(ay-ys[0][15]) > 0.02 {
		t.Errorf("threshold lines at %v/%v, data 25 and 15 at %v/%v", gy, ay, ys[0][25], ys[0][15])
	}

	// Value axis labels use the caller's format and rise upwards.
	var ticks []*node
	for _, n := range root.byClass("text", "tick") {
		if n.attrs["text-anchor"] == "end" {
			ticks = append(ticks, n)
		}
	}
	if len(ticks) < 3 {
		t.Fatalf("%d value labels", len(ticks))
	}
	for i, n := range ticks {
		if !strings.HasSuffix(n.text, " %") {
			t.Errorf("value label %q not in the caller's format", n.text)
		}
		if i > 0 && n.f(t, "y") >= ticks[i-1].f(t, "y") {
			t.Errorf("value labels do not rise: %v", texts(ticks))
		}
	}
	// The chart starts at zero here: the lowest value (5) is under half the highest (30).
	if ticks[0].text != "0.0 %" {
		t.Errorf("lowest value label %q, want 0.0 %%", ticks[0].text)
	}
	// Date labels: the newest date always, in order, not more than the width allows.
	var dates []*node
	for _, n := range root.byClass("text", "tick") {
		if n.attrs["text-anchor"] != "end" {
			dates = append(dates, n)
		}
	}
	if len(dates) < 3 || len(dates) > 8 {
		t.Errorf("%d date labels: %v", len(dates), texts(dates))
	}
	if last := dates[len(dates)-1].text; last != "24 Mar" {
		t.Errorf("newest date label %q, want 24 Mar", last)
	}
	if first := dates[0].text; !strings.HasSuffix(first, "2025") && !strings.HasSuffix(first, "2026") {
		t.Errorf("first date label %q has no year", first)
	}
	if legend := root.byClass("g", "legend"); len(legend) != 2 || legend[1].named("text")[0].text != "Expansion" {
		t.Errorf("legend %v, want New and Expansion", legend)
	}
	desc := root.children[1].text
	for _, want := range []string{"New: 12 values from 6 Jan 2026 to 24 Mar 2026", "20 Jan no data", "latest 30.0 % (24 Mar 2026)",
		"Expansion:", "Target 28.0 %.", "Green ≥ 25.0 %, amber ≥ 15.0 %."} {
		if !strings.Contains(desc, want) {
			t.Errorf("desc %q lacks %q", desc, want)
		}
	}
}

func TestTrendTimeScaleAndDegenerate(t *testing.T) {
	// Uneven dates are placed by time, not by index.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pts := []Point{{At: t0, Value: fp(1)}, {At: t0.AddDate(0, 0, 1), Value: fp(2)}, {At: t0.AddDate(0, 0, 10), Value: fp(3)}}
	root := checkSVG(t, Trend{Series: []Series{{Points: pts}}}.SVG())
	xy := subpaths(t, root.byClass("path", "line")[0].attrs["d"])[0]
	if d1, d2 := xy[1][0]-xy[0][0], xy[2][0]-xy[1][0]; math.Abs(d2/d1-9) > 0.01 {
		t.Errorf("x gaps %v and %v, want ratio 9 (1 day, then 9 days)", d1, d2)
	}
	// A lower-better metric: green is the lower line.
	root = checkSVG(t, Trend{Series: []Series{{Points: pts}}, Bands: &Bands{Better: Lower, Green: 1.5, Amber: 2.5}}.SVG())
	g, a := root.byClass("line", "thr-green")[0], root.byClass("line", "thr-amber")[0]
	if g.f(t, "y1") <= a.f(t, "y1") {
		t.Error("lower-better: green bound drawn above amber")
	}
	if lb := root.byClass("text", "thr-green", "label")[0].text; lb != "green ≤ 1.5" {
		t.Errorf("label %q, want green ≤ 1.5", lb)
	}
	// Far from zero (uptime): the axis fits the data instead of starting at zero.
	root = checkSVG(t, Trend{Series: []Series{{Points: weeks(fp(99.5), fp(99.9), fp(99.7))}}}.SVG())
	if lbl := root.byClass("text", "tick")[0].text; lbl == "0" {
		t.Error("uptime chart starts at zero and flattens the line")
	}
	// All missing and empty: a frame with "no data", no line, no NaN.
	for _, c := range []Trend{{}, {Series: []Series{{Points: weeks(nil, nil)}}, Target: fp(3)}} {
		root = checkSVG(t, c.SVG())
		if len(root.named("path")) != 0 || !strings.Contains(root.named("text")[0].text, "no data") {
			t.Errorf("empty trend: paths %d, texts %v", len(root.named("path")), texts(root.named("text")))
		}
	}
	// One point: a single dot mid-plot and its date label.
	root = checkSVG(t, Trend{Series: []Series{{Points: weeks(fp(3))}}}.SVG())
	if dots := root.named("circle"); len(dots) != 1 {
		t.Errorf("%d dots for one point", len(dots))
	}
	if d := root.byClass("text", "tick"); d[len(d)-1].text != "24 Mar 2026" {
		t.Errorf("one-point date label %q", d[len(d)-1].text)
	}
}

// TestTrendAxisAndThresholdLabels: a value axis of values none of which is negative starts at
// zero (all zeros too: it ran from −1 to 1), and the labels of the threshold and target lines
// never overlap — bounds that are one value (no amber band) get one label, not two on one line.
func TestTrendAxisAndThresholdLabels(t *testing.T) {
	zeros := weeks(fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0))
	count := func(v float64) string { return Number(v) }
	cases := []struct {
		name   string
		c      Trend
		labels []string // the threshold and target labels, top to bottom
		// lowest is the lowest value label; "" skips the check (an axis that may go negative).
		lowest string
	}{
		{name: "all zeros, one bound (emergency changes overdue)", lowest: "0",
			c:      Trend{Series: []Series{{Points: zeros}}, Bands: &Bands{Better: Lower, Green: 0, Amber: 0}, Format: count},
			labels: []string{"green ≤ 0, red above"}},
		{name: "all zeros, no bands", lowest: "0", c: Trend{Series: []Series{{Points: zeros}}, Format: count}},
		{name: "all zeros in percent", lowest: "0.0 %", c: Trend{Series: []Series{{Points: zeros}}, Format: pct}},
		{name: "a spike over zeros, one bound", lowest: "0",
			c:      Trend{Series: []Series{{Points: weeks(fp(0), fp(0), fp(1), fp(0), fp(0))}}, Bands: &Bands{Better: Lower, Green: 0, Amber: 0}, Format: count},
			labels: []string{"green ≤ 0, red above"}},
		{name: "one bound, higher is better", lowest: "98.0 %",
			c:      Trend{Series: []Series{{Points: weeks(fp(100), fp(98), fp(100))}}, Bands: &Bands{Better: Higher, Green: 100, Amber: 100}, Format: pct},
			labels: []string{"green ≥ 100.0 %, red below"}},
		{name: "bounds a hair apart", lowest: "0.0 %",
			c:      Trend{Series: []Series{{Points: weeks(fp(10), fp(90), fp(40))}}, Bands: &Bands{Better: Lower, Green: 5, Amber: 5.5}, Format: pct},
			labels: []string{"amber ≤ 5.5 %", "green ≤ 5.0 %"}},
		{name: "bounds and target on one value", lowest: "0",
			c:      Trend{Series: []Series{{Points: weeks(fp(3), fp(4))}}, Bands: &Bands{Better: Higher, Green: 10, Amber: 10}, Target: fp(10), Format: count},
			labels: []string{"green ≥ 10, red below", "target 10"}},
		{name: "bounds and target far above a short chart", lowest: "1",
			c: Trend{Series: []Series{{Points: weeks(fp(1), fp(2))}}, Bands: &Bands{Better: Higher, Green: 50, Amber: 49}, Target: fp(50.5),
				Format: count, Width: 240, Height: 140},
			// Too wide for a 240-px chart's margin: each on two lines.
			labels: []string{"target 50.5", "(above)", "green ≥ 50", "(above)", "amber ≥ 49", "(above)"}},
		{name: "a long label on a phone's chart", lowest: "0",
			c: Trend{Series: []Series{{Points: weeks(fp(0), fp(0.02), fp(0.01))}}, Bands: &Bands{Better: Lower, Green: 0.23, Amber: 0.47}, Per: "a week",
				Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, Width: 330, Height: 160},
			labels: []string{"amber ≤ 0.47", "a week (above)", "green ≤ 0.23", "a week (above)"}},
		// All zeros: the axis runs to 1, and the bounds are drawn on it.
		{name: "a long label on a phone's chart of zeros", lowest: "0",
			c: Trend{Series: []Series{{Points: weeks(fp(0), fp(0), fp(0))}}, Bands: &Bands{Better: Lower, Green: 0.23, Amber: 0.47}, Per: "a week",
				Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, Width: 330, Height: 160},
			labels: []string{"amber ≤ 0.47", "a week", "green ≤ 0.23", "a week"}},
		{name: "a percentage keeps its unit", lowest: "99.75 %",
			c: Trend{Series: []Series{{Points: weeks(fp(99.9), fp(99.8), fp(99.85))}}, Bands: &Bands{Better: Higher, Green: 99.9, Amber: 99.5},
				Format: func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + " %" }, Width: 330, Height: 160},
			labels: []string{"green ≥ 99.9 %", "amber ≥ 99.5 %", "(below)"}},
		{name: "money keeps its currency", lowest: "",
			c: Trend{Series: []Series{{Points: weeks(fp(-80), fp(-120), fp(-90))}}, Target: fp(-85.87), Per: "a week",
				Format: func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + " USD" }, Width: 330, Height: 160},
			labels: []string{"target", "-85.87 USD a week"}},
		{name: "a flat positive series stays off zero", lowest: "4.4",
			c: Trend{Series: []Series{{Points: weeks(fp(5), fp(5), fp(5))}}, Format: count}},
		{name: "negative values keep a negative axis",
			c: Trend{Series: []Series{{Points: weeks(fp(-3), fp(2), fp(-1))}}, Format: count}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := checkSVG(t, tc.c.SVG())
			h := root.f(t, "height")
			var ticks []*node
			for _, n := range root.byClass("text", "tick") {
				if n.attrs["text-anchor"] == "end" {
					ticks = append(ticks, n)
				}
			}
			if tc.lowest != "" {
				for _, n := range ticks {
					if strings.HasPrefix(n.text, "-") || strings.HasPrefix(n.text, "−") {
						t.Errorf("value label %q below zero, though no value is: %v", n.text, texts(ticks))
					}
				}
				if len(ticks) == 0 || ticks[0].text != tc.lowest {
					t.Errorf("lowest value label %v, want %q", texts(ticks), tc.lowest)
				}
			} else if len(ticks) == 0 || !strings.HasPrefix(ticks[0].text, "-") {
				t.Errorf("value labels %v: want the axis to reach below zero", texts(ticks))
			}
			labels := root.all(func(n *node) bool {
				return n.name == "text" && n.hasClass("label") && (n.hasClass("thr") || n.hasClass("target"))
			})
			slices.SortFunc(labels, func(a, b *node) int { return cmp.Compare(a.f(t, "y"), b.f(t, "y")) })
			var got []string
			w := root.f(t, "width")
			for i, l := range labels {
				got = append(got, l.text)
				// Within the chart's width (squeezed to textLength where
				// it says so), not cut off at its edge.
				width := textWidth(l.text, 10)
				if _, ok := l.attrs["textLength"]; ok {
					width = l.f(t, "textLength")
				}
				if x := l.f(t, "x"); x+width > w+0.5 {
					t.Errorf("label %q from x %v, %v wide, runs past the chart's width %v", l.text, x, width, w)
				}
				y, size := l.f(t, "y"), l.f(t, "font-size")
				if y-size/2 < 0 || y+size/2 > h {
					t.Errorf("label %q at y %v outside the chart (0–%v)", l.text, y, h)
				}
				if i > 0 {
					if prev := labels[i-1].f(t, "y"); y-prev < size {
						t.Errorf("labels %q and %q %v apart, less than their font size %v: they overlap", labels[i-1].text, l.text, y-prev, size)
					}
				}
			}
			if !slices.Equal(got, tc.labels) {
				t.Errorf("line labels %q, want %q", got, tc.labels)
			}
		})
	}
	root := checkSVG(t, Trend{Series: []Series{{Points: zeros}}, Bands: &Bands{Better: Lower, Green: 0, Amber: 0}}.SVG())
	if desc := root.children[1].text; !strings.Contains(desc, "Green ≤ 0, red above (no amber band).") {
		t.Errorf("desc %q does not state the one bound", desc)
	}
}

func TestBars(t *testing.T) {
	c := Bars{Title: "Change failure rate by team", Format: pct, Bars: []Bar{
		{"Payments", fp(20), "red", "", ""}, {"Search", fp(10), "green", "", ""}, {"Mobile", nil, "green", "", ""},
		{"Growth", fp(15), "amber", "", ""}, {"Infra", fp(5), "purple", "", ""}, {"Docs", fp(0), "", "", ""},
	}}
	root := checkSVG(t, c.SVG())
	rows := root.byClass("g", "bar")
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rows))
	}
	wantClass := []string{"st-red", "st-green", "st-unknown", "st-amber", "st-unknown", "st-none"}
	wantValue := []string{"20.0 % · red", "10.0 % · green", "unknown", "15.0 % · amber", "5.0 % · unknown", "0.0 %"}
	widths := map[int]float64{}
	prevY := -1.0
	for i, r := range rows {
		if !r.hasClass(wantClass[i]) {
			t.Errorf("row %d class %q, want %s", i, r.attrs["class"], wantClass[i])
		}
		v := r.byClass("text", "value")
		if len(v) != 1 || v[0].text != wantValue[i] {
			t.Errorf("row %d value text %v, want %q", i, texts(v), wantValue[i])
		}
		if y := r.byClass("text", "label")[0].f(t, "y"); y <= prevY {
			t.Errorf("row %d not below row %d", i, i-1)
		} else {
			prevY = y
		}
		rects := r.named("rect")
		if i == 2 {
			if len(rects) != 0 {
				t.Error("missing value drawn as a bar")
			}
			continue
		}
		if len(rects) != 1 {
			t.Fatalf("row %d: %d bars", i, len(rects))
		}
		widths[i] = rects[0].f(t, "width")
	}
	// Lengths proportional to the values from a common zero.
	if math.Abs(widths[0]-2*widths[1]) > 0.05 || math.Abs(widths[3]-3*widths[4]) > 0.05 || widths[5] != 0 {
		t.Errorf("bar widths %v not proportional to 20, 10, 15, 5, 0", widths)
	}
	desc := root.children[1].text
	if !strings.Contains(desc, "Payments 20.0 % · red; Search 10.0 % · green; Mobile unknown;") {
		t.Errorf("desc %q", desc)
	}

	// Negative values extend left of the zero line.
	root = checkSVG(t, Bars{Bars: []Bar{{"up", fp(4), "", "", ""}, {"down", fp(-2), "", "", ""}}}.SVG())
	zero := root.byClass("line", "axis")[0].f(t, "x1")
	up, down := root.byClass("g", "bar")[0].named("rect")[0], root.byClass("g", "bar")[1].named("rect")[0]
	if up.f(t, "x") != zero || math.Abs(down.f(t, "x")+down.f(t, "width")-zero) > 0.02 {
		t.Errorf("zero at %v; positive bar from %v, negative bar ends at %v", zero, up.f(t, "x"), down.f(t, "x")+down.f(t, "width"))
	}
	if math.Abs(up.f(t, "width")-2*down.f(t, "width")) > 0.05 {
		t.Errorf("widths %v and %v not 2:1", up.f(t, "width"), down.f(t, "width"))
	}
}

// TestBarsWithheld: a line whose value rests on too few cases draws no bar — it had been drawn,
// grey, as the longest — states its value with the reason, and leaves the scale to the others.
func TestBarsWithheld(t *testing.T) {
	judged := []Bar{{"payments", fp(10), "red", "", ""}, {"search", fp(5), "green", "", ""}}
	few := []Bar{{"billing", fp(40), "unknown", "too few cases (n = 2, needs 5)", ""}, {"ledger", nil, "unknown", "too few cases (n = 0, needs 5)", ""}}
	for _, width := range []int{640, 360} {
		alone := checkSVG(t, Bars{Bars: judged, Format: pct, Width: width}.SVG())
		root := checkSVG(t, Bars{Bars: append(slices.Clone(judged), few...), Format: pct, Width: width}.SVG())
		rows := root.byClass("g", "bar")
		if len(rows) != 4 {
			t.Fatalf("%d rows, want 4", len(rows))
		}
		for i, want := range []string{"40.0 % · unknown: too few cases (n = 2, needs 5)", "unknown: too few cases (n = 0, needs 5)"} {
			r := rows[2+i]
			if n := len(r.named("rect")); n != 0 {
				t.Errorf("width %d: %s drawn as a bar, on too few cases", width, r.byClass("text", "label")[0].text)
			}
			v := r.byClass("text", "value")[0]
			if v.text != want || !r.hasClass("st-unknown") {
				t.Errorf("width %d: row text %q (class %q), want %q, unknown", width, v.text, r.attrs["class"], want)
			}
			end := v.f(t, "x") + textWidth(v.text, 11)
			if l, ok := v.attrs["textLength"]; ok {
				n, _ := strconv.ParseFloat(l, 64)
				end = v.f(t, "x") + n
			}
			if end > float64(width) {
				t.Errorf("width %d: %q runs to %v, past the chart's edge", width, v.text, end)
			}
		}
		for i := range judged {
			got, want := rows[i].named("rect")[0].f(t, "width"), alone.byClass("g", "bar")[i].named("rect")[0].f(t, "width")
			if math.Abs(got-want) > 0.01 {
				t.Errorf("width %d: %s's bar %v long beside the withheld lines, %v without them: they set the scale", width, judged[i].Label, got, want)
			}
		}
		if desc := root.children[1].text; !strings.Contains(desc, "billing 40.0 % · unknown: too few cases (n = 2, needs 5)") {
			t.Errorf("desc %q", desc)
		}
	}
}

// TestBarsUnjudged: a line with a value and nothing to judge it against (no target of its own)
// is a grey bar worded "not judged": it had been drawn in the blue of a chart without statuses,
// unworded, and read as a status of its own beside red and amber bars.
func TestBarsUnjudged(t *testing.T) {
	root := checkSVG(t, Bars{Format: pct, Bars: []Bar{{"payments", fp(10), "red", "", ""}, {"search", fp(20), StatusUnjudged, "", ""}, {"docs", fp(5), "", "", ""}}}.SVG())
	rows := root.byClass("g", "bar")
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	r := rows[1]
	fill := r.named("rect")[0].attrs["fill"]
	if !r.hasClass("st-unjudged") || r.byClass("text", "value")[0].text != "20.0 % · not judged" {
		t.Errorf("the unjudged row: class %q, value %v", r.attrs["class"], texts(r.byClass("text", "value")))
	}
	for st, other := range fillOf {
		if st != StatusUnjudged && other == fill {
			t.Errorf("the unjudged bar is %s, the colour of status %q", fill, st)
		}
	}
	if red, green, blue := hexColor(fill).R, hexColor(fill).G, hexColor(fill).B; max(red, green, blue)-min(red, green, blue) > 24 {
		t.Errorf("the unjudged bar is %s, not a grey", fill)
	}
	if desc := root.children[1].text; !strings.Contains(desc, "search 20.0 % · not judged;") {
		t.Errorf("desc %q", desc)
	}
}

func TestFunnel(t *testing.T) {
	c := Funnel{Title: "Pipeline", Stages: []Stage{{"Leads", fp(2000)}, {"MQL", fp(800)}, {"SQL", fp(200)}, {"Opportunity", nil}, {"Won", fp(20)}}}
	root := checkSVG(t, c.SVG())
	stages := root.byClass("g", "stage")
	if len(stages) != 5 {
		t.Fatalf("%d stages, want 5", len(stages))
	}
	var widths []float64
	for i, s := range stages {
		rects := s.named("rect")
		if i == 3 {
			if len(rects) != 0 || !s.hasClass("st-unknown") || s.byClass("text", "count")[0].text != "unknown" {
				t.Errorf("unknown stage: %d bars, class %q, count %v", len(rects), s.attrs["class"], texts(s.byClass("text", "count")))
			}
			continue
		}
		if len(rects) != 1 {
			t.Fatalf("stage %d: %d bars", i, len(rects))
		}
		r := rects[0]
		widths = append(widths, r.f(t, "width"))
		// Centred on one axis.
		if i > 0 && math.Abs((r.f(t, "x")+r.f(t, "width")/2)-(stages[0].named("rect")[0].f(t, "x")+widths[0]/2)) > 0.02 {
			t.Errorf("stage %d not centred", i)
		}
	}
	if math.Abs(widths[0]/widths[1]-2.5) > 0.01 || math.Abs(widths[1]/widths[2]-4) > 0.01 {
		t.Errorf("widths %v not proportional to 2000, 800, 200", widths)
	}
	if got := texts(stages[0].byClass("text", "count")); len(got) != 1 || got[0] != "2,000" {
		t.Errorf("first count %v, want 2,000", got)
	}
	want := []string{"40.0 % of previous", "25.0 % of previous", "share unknown", "share unknown"}
	if got := texts(root.byClass("text", "share")); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("shares %q, want %q", got, want)
	}
	// A connector joins each pair of known stages, none around the unknown one.
	if n := len(root.byClass("polygon", "connector")); n != 2 {
		t.Errorf("%d connectors, want 2", n)
	}
	if desc := root.children[1].text; !strings.Contains(desc, "Leads 2,000; MQL 800 (40.0 % of previous)") ||
		!strings.Contains(desc, "Overall 1.0 % of the first stage.") {
		t.Errorf("desc %q", desc)
	}
	// A zero stage makes the next share unknown rather than a division by zero.
	root = checkSVG(t, Funnel{Stages: []Stage{{"a", fp(0)}, {"b", fp(0)}}}.SVG())
	if got := texts(root.byClass("text", "share")); len(got) != 1 || got[0] != "share unknown" {
		t.Errorf("share after zero %v", got)
	}
}

func TestBullet(t *testing.T) {
	money := func(v float64) string { return "USD " + Number(v) }
	c := Bullet{Label: "Q1 bookings", Value: fp(1.2e6), Target: fp(2e6), Elapsed: fp(0.55), Status: "amber", Format: money}
	root := checkSVG(t, c.SVG())
	if w, h := root.f(t, "width"), root.f(t, "height"); w != 320 || h != 64 {
		t.Errorf("size %v×%v, want 320×64", w, h)
	}
	track := root.byClass("rect", "track")[0]
	bar := root.byClass("rect", "value")
	target := root.byClass("line", "target")
	pace := root.byClass("polygon", "pace")
	if len(bar) != 1 || len(target) != 1 || len(pace) != 1 {
		t.Fatalf("bar %d, target %d, pace %d, want 1 each", len(bar), len(target), len(pace))
	}
	if !bar[0].hasClass("st-amber") {
		t.Errorf("bar class %q", bar[0].attrs["class"])
	}
	x0 := track.f(t, "x")
	valueLen := bar[0].f(t, "width")
	targetLen := target[0].f(t, "x1") - x0
	paceLen := numbers(t, pace[0].attrs["points"])[0] - x0
	if math.Abs(valueLen/targetLen-0.6) > 0.001 || math.Abs(paceLen/targetLen-0.55) > 0.001 {
		t.Errorf("value %v, pace %v, target %v: want ratios 0.6 and 0.55", valueLen, paceLen, targetLen)
	}
	caption := root.byClass("text", "caption")
	if want := "USD 1,200,000 of USD 2,000,000 (60.0 %)"; len(caption) != 1 || caption[0].text != want {
		t.Errorf("caption %v, want %q", texts(caption), want)
	}
	second := root.byClass("text", "caption-2")
	if want := "pace 55.0 % · amber"; len(second) != 1 || second[0].inner != want {
		t.Fatalf("second line %v, want %q", second, want)
	}
	if word := second[0].byClass("tspan", "status", "st-amber"); len(word) != 1 || word[0].text != "amber" {
		t.Errorf("status word not marked: %v", second[0].children)
	}
	want := "USD 1,200,000 of USD 2,000,000 (60.0 %) · pace 55.0 % · amber"
	if desc := root.children[1].text; !strings.Contains(desc, want) || !strings.Contains(desc, "USD 1,100,000") {
		t.Errorf("desc %q", desc)
	}
	// A value too long for the width is squeezed to fit, not cut off.
	long := func(v float64) string { return "USD " + Number(v) + " (annual recurring, all regions)" }
	root = checkSVG(t, Bullet{Value: fp(1), Target: fp(2), Format: long}.SVG())
	if c := root.byClass("text", "caption")[0]; c.f(t, "textLength") > 320 {
		t.Errorf("long caption textLength %v", c.attrs["textLength"])
	}

	// No value: no bar, "unknown", status unknown whatever the caller said.
	root = checkSVG(t, Bullet{Target: fp(10), Elapsed: fp(0.5), Status: "green"}.SVG())
	if len(root.byClass("rect", "value")) != 0 || root.byClass("text", "caption")[0].text != "unknown" ||
		root.byClass("text", "caption-2")[0].inner != "pace 50.0 %" {
		t.Errorf("missing value: %v", texts(root.named("text")))
	}
	// Elapsed outside 0..1 draws no pace; over target extends the scale so the bar fits.
	root = checkSVG(t, Bullet{Value: fp(30), Target: fp(20), Elapsed: fp(1.5), Status: "green"}.SVG())
	if len(root.byClass("polygon", "pace")) != 0 {
		t.Error("pace drawn for an elapsed share of 1.5")
	}
	b := root.byClass("rect", "value")[0]
	if end := b.f(t, "x") + b.f(t, "width"); end <= root.byClass("line", "target")[0].f(t, "x1") {
		t.Errorf("value above target ends at %v, before the target mark", end)
	}
}

// TestBulletBare: a bare bullet chart draws no caption — the page beside it says the figures,
// which the chart had said again ("74.84 % of 100 % (74.8 %)") — but names its marks, the pace
// and the target, apart from each other and inside the chart, and its description keeps them all.
func TestBulletBare(t *testing.T) {
	share := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + " %" }
	for _, tc := range []struct {
		name           string
		value, elapsed float64
		pace           bool
	}{
		{"early in the period", 12, 0.1, true},
		{"half way", 74.84, 0.55, true},
		{"pace near the quota", 96, 0.97, true},
		{"pace at the start", 0, 0, true},
		{"far over quota", 400, 0.5, true},
		{"no pace", 60, 1.5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := checkSVG(t, Bullet{Label: "Quota attainment", Value: fp(tc.value), Target: fp(100), Elapsed: fp(tc.elapsed),
				Status: "green", Format: share, Bare: true, TargetLabel: "quota"}.SVG())
			if h := root.f(t, "height"); h != BulletBareHeight {
				t.Errorf("height %v, want %v", h, BulletBareHeight)
			}
			if c := append(root.byClass("text", "caption"), root.byClass("text", "caption-2")...); len(c) != 0 {
				t.Errorf("a bare chart writes its caption: %v", texts(c))
			}
			target, pace := root.byClass("text", "target-label"), root.byClass("text", "pace-label")
			if len(target) != 1 || target[0].text != "quota" {
				t.Fatalf("target label %v, want quota", texts(target))
			}
			if !tc.pace {
				if len(pace) != 0 || len(root.byClass("polygon", "pace")) != 0 {
					t.Errorf("pace drawn for an elapsed share of %v", tc.elapsed)
				}
				return
			}
			if len(pace) != 1 || pace[0].text != "pace" {
				t.Fatalf("pace label %v", texts(pace))
			}
			span := func(n *node) (float64, float64) {
				x, w := n.f(t, "x"), textWidth(n.text, n.f(t, "font-size"))
				switch n.attrs["text-anchor"] {
				case "middle":
					return x - w/2, x + w/2
				case "end":
					return x - w, x
				}
				return x, x + w
			}
			pl, pr := span(pace[0])
			tl, tr := span(target[0])
			if pl < 0 || tr > BulletWidth || tl < 0 || pr > BulletWidth {
				t.Errorf("labels run off the chart: pace %v–%v, quota %v–%v", pl, pr, tl, tr)
			}
			if pr > tl && tr > pl {
				t.Errorf("pace (%v–%v) and quota (%v–%v) labels overlap", pl, pr, tl, tr)
			}
			if desc := root.children[1].text; !strings.Contains(desc, share(tc.value)+" of 100.00 %") || !strings.Contains(desc, "Pace is the target times") {
				t.Errorf("desc %q lacks the figures", desc)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	cases := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1234567, "1,234,567"}, {-1234.4, "-1,234"}, {56.78, "56.8"}, {12, "12"},
		{0.834, "0.83"}, {0.0042, "0.0042"}, {-0.00001, "0"}, {999.5, "1,000"}, {nan, "unknown"}, {posInf, "unknown"},
	}
	for _, c := range cases {
		if got := Number(c.v); got != c.want {
			t.Errorf("Number(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		n      int
	}{
		{0, 30, 4}, {99.5, 99.9, 4}, {-3, 7, 5}, {0, 0, 4}, {5, 5, 4}, {0.001, 0.004, 3}, {-1e308, 1e308, 4}, {1e6, 1.2e6, 4},
	}
	for _, c := range cases {
		ticks := niceTicks(c.lo, c.hi, c.n)
		if len(ticks) < 2 || len(ticks) > 4*c.n+1 {
			t.Errorf("niceTicks(%v, %v, %d) = %v: count", c.lo, c.hi, c.n, ticks)
			continue
		}
		if ticks[0] > c.lo || ticks[len(ticks)-1] < c.hi {
			t.Errorf("niceTicks(%v, %v, %d) = %v does not cover the range", c.lo, c.hi, c.n, ticks)
		}
		for i, v := range ticks {
			if !finite(v) || (i > 0 && v <= ticks[i-1]) {
				t.Errorf("niceTicks(%v, %v, %d) = %v: not finite and increasing", c.lo, c.hi, c.n, ticks)
			}
		}
	}
	if got := niceTicks(0, 1, 10); num(got[3]) != "0.3" {
		t.Errorf("tick 0.3 printed as %v", got[3])
	}
}

func TestCSSShipsTheResponsiveRule(t *testing.T) {
	for _, want := range []string{".chart {", "max-width: 100%", "height: auto", "@media print"} {
		if !strings.Contains(CSS, want) {
			t.Errorf("chart.css lacks %q", want)
		}
	}
}

func TestStackedBars(t *testing.T) {
	hours := func(v float64) string { return Number(v) + " h" }
	c := StackedBars{Title: "Where lead time goes", Format: hours, Series: []string{"Coding", "Pickup", "Review", "Deploy"}, Rows: []StackRow{
		{"All teams", []*float64{fp(10), fp(2), fp(12), fp(96)}, "n = 7"},
		{"core", []*float64{fp(5), fp(1), fp(6), fp(48)}, ""},
		{"growth", []*float64{nil, fp(48), fp(24), fp(-1)}, ""},
	}}
	root := checkSVG(t, c.SVG())
	legend := root.byClass("g", "legend")
	if len(legend) != 4 {
		t.Fatalf("%d legend items, want 4", len(legend))
	}
	for i, l := range legend {
		if l.named("text")[0].text != c.Series[i] || !l.hasClass("series-"+strconv.Itoa(i)) {
			t.Errorf("legend %d = %q", i, l.inner)
		}
	}
	rows := root.byClass("g", "row")
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	// One scale for every row, from the axis: all 120 h, core 60 h, growth 72 h (its coding
	// unknown and its negative deploy time unknown: neither drawn).
	axis := root.byClass("line", "axis")[0].f(t, "x1")
	var ends []float64
	for i, r := range rows {
		segs := r.byClass("g", "segment")
		want := []int{4, 4, 2}[i]
		if len(segs) != want {
			t.Fatalf("row %d: %d segments, want %d", i, len(segs), want)
		}
		x := axis
		for _, s := range segs {
			rect := s.named("rect")[0]
			if math.Abs(rect.f(t, "x")-x) > 0.02 {
				t.Errorf("row %d: segment %q starts at %v, not where the one before ended (%v)", i, s.attrs["class"], rect.f(t, "x"), x)
			}
			x = rect.f(t, "x") + rect.f(t, "width")
		}
		ends = append(ends, x-axis)
	}
	if math.Abs(ends[1]*2-ends[0]) > 0.1 || math.Abs(ends[2]*120/72-ends[0]) > 0.1 {
		t.Errorf("bar lengths %v not proportional to 120, 60, 72", ends)
	}
	if got := rows[2].byClass("g", "segment")[0].attrs["class"]; got != "segment series-1" {
		t.Errorf("growth's first segment is %q, want pickup's (series-1)", got)
	}
	// Each segment wide enough carries its value; the totals say what is unknown.
	if got := rows[0].byClass("g", "segment")[3].byClass("text", "value"); len(got) != 1 || got[0].text != "96 h" {
		t.Errorf("deploy segment text %v", texts(got))
	}
	want := []string{"120 h · n = 7", "60 h", "72 h + Coding, Deploy unknown"}
	for i, r := range rows {
		if got := r.byClass("text", "total")[0].text; got != want[i] {
			t.Errorf("row %d total %q, want %q", i, got, want[i])
		}
	}
	if desc := root.children[1].text; !strings.Contains(desc, "growth: Coding unknown, Pickup 48 h, Review 24 h, Deploy unknown (total 72 h + Coding, Deploy unknown)") {
		t.Errorf("desc %q", desc)
	}
	// A narrow chart wraps its legend rather than overflowing.
	c.Width = 300
	c.Series = []string{"Coding time", "Pickup time", "Review time", "Deploy time"}
	root = checkSVG(t, c.SVG())
	ys := map[string]bool{}
	for _, l := range root.byClass("g", "legend") {
		ys[l.named("rect")[0].attrs["y"]] = true
	}
	if len(ys) < 2 {
		t.Errorf("the legend of a 300 px chart is on %d line", len(ys))
	}
}

func TestWaterfall(t *testing.T) {
	c := Waterfall{Title: "MRR bridge", Steps: []Step{
		{"Start", fp(1000), true}, {"New", fp(200), false}, {"Reactivation", fp(0), false}, {"Expansion", fp(50), false},
		{"Contraction", fp(-100), false}, {"Churn", fp(-300), false}, {"End", fp(850), true},
	}}
	root := checkSVG(t, c.SVG())
	rows := root.all(func(n *node) bool { return n.name == "g" && (n.hasClass("total") || n.hasClass("step")) })
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7", len(rows))
	}
	wantClass := []string{"total", "up", "up", "up", "down", "down", "total"}
	wantText := []string{"1,000", "+200", "0", "+50", "−100", "−300", "850"}
	rects := make([]*node, 7)
	for i, r := range rows {
		if !r.hasClass(wantClass[i]) {
			t.Errorf("row %d class %q, want %s", i, r.attrs["class"], wantClass[i])
		}
		if got := r.byClass("text", "value")[0].text; got != wantText[i] {
			t.Errorf("row %d text %q, want %q", i, got, wantText[i])
		}
		rects[i] = r.named("rect")[0]
	}
	// Levels 1000 → 1200 → 1200 → 1250 → 1150 → 850: the axis starts at 400 (the changes are
	// small beside the totals), and says so.
	px := func(v float64) float64 { return rects[0].f(t, "x") + (v-400)/(1000-400)*rects[0].f(t, "width") }
	left := func(i int) float64 { return rects[i].f(t, "x") }
	right := func(i int) float64 { return rects[i].f(t, "x") + rects[i].f(t, "width") }
	checks := []struct {
		what      string
		got, want float64
	}{
		{"new starts at the start level", left(1), px(1000)}, {"new ends at 1200", right(1), px(1200)},
		{"expansion from 1200", left(3), px(1200)}, {"expansion to 1250", right(3), px(1250)},
		{"contraction from 1150", left(4), px(1150)}, {"contraction to 1250", right(4), px(1250)},
		{"churn from 850", left(5), px(850)}, {"churn to 1150", right(5), px(1150)},
		{"end total to 850", right(6), px(850)}, {"end total from the axis", left(6), left(0)},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 0.05 {
			t.Errorf("%s: x %v, want %v", c.what, c.got, c.want)
		}
	}
	if rects[4].attrs["fill"] != fallDown || rects[1].attrs["fill"] != fallUp || rects[0].attrs["fill"] == fallUp {
		t.Errorf("fills %q %q %q", rects[0].attrs["fill"], rects[1].attrs["fill"], rects[4].attrs["fill"])
	}
	if w := rects[2].f(t, "width"); w != 1 {
		t.Errorf("a zero change is %v wide, want a 1 px mark", w)
	}
	if cap := root.byClass("text", "caption"); len(cap) != 1 || cap[0].text != "Axis starts at 400, not zero" {
		t.Errorf("caption %v", texts(cap))
	}
	if len(root.byClass("polyline", "break")) != 2 {
		t.Error("the total bars have no break mark")
	}
	if n := len(root.byClass("line", "connector")); n != 6 {
		t.Errorf("%d connectors, want 6", n)
	}
	if desc := root.children[1].text; !strings.Contains(desc, "Start 1,000; New +200; Reactivation 0; Expansion +50; Contraction −100; Churn −300; End 850. The axis starts at 400, not zero.") {
		t.Errorf("desc %q", desc)
	}

	// Large changes keep the axis at zero, with no caption.
	root = checkSVG(t, Waterfall{Steps: []Step{{"Start", fp(100), true}, {"New", fp(100), false}, {"End", fp(200), true}}}.SVG())
	if len(root.byClass("text", "caption")) != 0 || len(root.byClass("polyline", "break")) != 0 {
		t.Error("an axis from zero is captioned as broken")
	}
	// An unknown change leaves the level unknown until the next total: later changes are
	// written, not drawn.
	root = checkSVG(t, Waterfall{Steps: []Step{{"Start", fp(100), true}, {"New", nil, false}, {"Expansion", fp(10), false}, {"End", fp(120), true}}}.SVG())
	rows = root.all(func(n *node) bool { return n.name == "g" && (n.hasClass("total") || n.hasClass("step")) })
	if len(rows[1].named("rect")) != 0 || len(rows[2].named("rect")) != 0 || len(rows[3].named("rect")) != 1 {
		t.Error("changes after an unknown one are drawn")
	}
	if rows[1].byClass("text", "value")[0].text != "unknown" || rows[2].byClass("text", "value")[0].text != "+10" {
		t.Errorf("texts %q %q", rows[1].inner, rows[2].inner)
	}
}

// A weekly chart of a metric summed over a longer window says what its
// bands and target are per: a target line of 113.40 beside a card's 486
// had read as a contradiction.
func TestTrendPer(t *testing.T) {
	a := weeks(fp(10), fp(12), fp(15))
	c := Trend{Title: "Churn", Series: []Series{{Name: "Churn", Points: a}}, Bands: &Bands{Better: Lower, Green: 20, Amber: 30}, Target: fp(28), Format: pct, Per: "a week"}
	svg := string(c.SVG())
	for _, want := range []string{"target 28.0 % a week", "green ≤ 20.0 % a week", "amber ≤ 30.0 % a week", "Green ≤ 20.0 % a week"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	c.Per = ""
	if svg := string(c.SVG()); strings.Contains(svg, "a week") {
		t.Errorf("a chart without Per says 'a week'")
	}
}

// TestTrendScaledToTheData: a lead time of 22–35 h under an amber bound of 168 h (the
// engineering view) is drawn on its own scale, the green bound of 24 h across it; the amber bound,
// which scaled the axis to 200 h and squashed the line into the bottom sixth, is named at the top
// edge with an arrow and drawn nowhere on the scale, and the description still states it.
func TestTrendScaledToTheData(t *testing.T) {
	hours := func(v float64) string { return Number(v) + " h" }
	c := Trend{Series: []Series{{Points: weeks(fp(22), fp(25), fp(31), fp(27), fp(35), fp(26))}},
		Bands: &Bands{Better: Lower, Green: 24, Amber: 168}, Format: hours}
	root := checkSVG(t, c.SVG())
	axis := root.byClass("line", "axis")[0]
	plotB := axis.f(t, "y1")
	var ticks []*node
	for _, n := range root.byClass("text", "tick") {
		if n.attrs["text-anchor"] == "end" {
			ticks = append(ticks, n)
		}
	}
	plotT := ticks[len(ticks)-1].f(t, "y")
	pts := subpaths(t, root.byClass("path", "line")[0].attrs["d"])[0]
	top, bottom := plotB, plotT
	for _, p := range pts {
		top, bottom = math.Min(top, p[1]), math.Max(bottom, p[1])
	}
	if (plotB-top)/(plotB-plotT) < 0.6 {
		t.Errorf("the highest point (35 h) at %.0f%% of the plot's height, want the data to fill it (value labels %v)",
			100*(plotB-top)/(plotB-plotT), texts(ticks))
	}
	if g := root.byClass("line", "thr-green"); len(g) != 1 || g[0].f(t, "y1") > bottom || g[0].f(t, "y1") < top {
		t.Errorf("the green bound (24 h) is not drawn among the data (%v to %v)", top, bottom)
	}
	if a := root.byClass("line", "thr-amber"); len(a) != 0 {
		t.Errorf("the amber bound (168 h) is drawn on a scale it squashes: %d lines", len(a))
	}
	lb := root.byClass("text", "thr-amber", "label")
	if len(lb) != 1 || lb[0].text != "amber ≤ 168 h (above)" || !lb[0].hasClass("offscale") || lb[0].f(t, "y") > plotT+12 || lb[0].f(t, "y") < 0 {
		t.Fatalf("the amber bound's label: %v, want \"amber ≤ 168 h (above)\" at the top edge (%v)", texts(lb), plotT)
	}
	if desc := root.children[1].text; !strings.Contains(desc, "amber ≤ 168 h") {
		t.Errorf("desc %q does not state the amber bound", desc)
	}
	// Below the data likewise: an uptime of 99.8–100 % keeps its scale over an amber bound at
	// 95 %, named at the bottom edge.
	root = checkSVG(t, Trend{Series: []Series{{Points: weeks(fp(99.8), fp(99.95), fp(100))}}, Format: pct,
		Bands: &Bands{Better: Higher, Green: 99.9, Amber: 95}}.SVG())
	if lb := root.byClass("text", "thr-amber", "label"); len(lb) != 1 || lb[0].text != "amber ≥ 95.0 % (below)" || len(root.byClass("line", "thr-amber")) != 0 {
		t.Errorf("an amber bound far below the data: labels %v, %d lines", texts(lb), len(root.byClass("line", "thr-amber")))
	}
}

// A point marked Break is not joined to the one before: a quota period's
// value starting again had been drawn as a fall (86.99 % → 1.15 %).
func TestTrendBreaksAtANewPeriod(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	pts := []Point{{At: t0, Value: v(60)}, {At: t0.AddDate(0, 0, 7), Value: v(80)}, {At: t0.AddDate(0, 0, 14), Value: v(2), Break: true}, {At: t0.AddDate(0, 0, 21), Value: v(9)}}
	for _, svg := range []string{string(Trend{Title: "Quota attainment", Series: []Series{{Name: "x", Points: pts}}}.SVG()), string(Spark{Points: pts}.SVG())} {
		d := regexp.MustCompile(`class="line" d="([^"]*)"`).FindStringSubmatch(svg)
		if d == nil || strings.Count(d[1], "M") != 2 || strings.Count(d[1], "L") != 2 {
			t.Errorf("the line is not broken at the new period: %v", d)
		}
	}
	pts[2].Break = false
	d := regexp.MustCompile(`class="line" d="([^"]*)"`).FindStringSubmatch(string(Trend{Series: []Series{{Points: pts}}}.SVG()))
	if d == nil || strings.Count(d[1], "M") != 1 {
		t.Errorf("without the break the line is broken: %v", d)
	}
}

// A share says how many cases it is of, between its value and its status
// word, so that 0 % of 2 is not read as 0 % of 200; the chart's summary
// for a screen reader says it too.
func TestBarsSayTheirCases(t *testing.T) {
	svg := string(Bars{Format: pct, Bars: []Bar{
		{Label: "brand-search", Value: fp(0), Status: StatusUnjudged, Cases: "n = 23"},
		{Label: "docs", Value: fp(5), Cases: "n = 2"},
		{Label: "search", Value: fp(7), Status: "green"},
	}}.SVG())
	for _, want := range []string{">0.0 % · n = 23 · not judged<", ">5.0 % · n = 2<", ">7.0 % · green<", "brand-search 0.0 % · n = 23 · not judged;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the bars do not say %q:\n%s", want, svg)
		}
	}
}

// At a phone's width the words after each bar fit: the scale leaves room
// for the words of the bar that carries them, where a fixed share of the
// width for the words had cut "5.26 % · n = 19 · not judged" off.
func TestBarsWordsFitAPhone(t *testing.T) {
	bars := []Bar{{Label: "nurture-sequence", Value: fp(5.26), Status: StatusUnjudged, Cases: "n = 19"}}
	for _, l := range []string{"brand-search", "checkout-conversion-webinar", "docs", "newsletter"} {
		bars = append(bars, Bar{Label: l, Value: fp(0), Status: StatusUnjudged, Cases: "n = 27"})
	}
	svg := string(Bars{Format: pct, Width: 360, Bars: bars}.SVG())
	texts := regexp.MustCompile(`<text class="value" x="([0-9.]+)"([^>]*)>([^<]*)</text>`).FindAllStringSubmatch(svg, -1)
	if len(texts) != len(bars) {
		t.Fatalf("%d value texts for %d bars:\n%s", len(texts), len(bars), svg)
	}
	for _, m := range texts {
		x, _ := strconv.ParseFloat(m[1], 64)
		if strings.Contains(m[2], "textLength") || x+textWidth(html.UnescapeString(m[3]), 11) > 360 {
			t.Errorf("%q at x %.1f does not fit a 360-pixel chart (%s)", m[3], x, m[2])
		}
	}
}

// A point resting on too few cases is a solid grey dot, not the series' colour,
// and the description says so: a week of two customers had been drawn and
// read like one of twenty.
func TestTrendFewPointsAreGrey(t *testing.T) {
	pts := weeks(fp(10), fp(43), fp(12))
	pts[1].Few = true
	svg := string(Trend{Title: "CAC", Series: []Series{{Name: "CAC", Points: pts}}}.SVG())
	few := regexp.MustCompile(`<circle class="point few"[^>]*stroke="`+colMuted+`"`).FindAllString(svg, -1)
	all := regexp.MustCompile(`<circle class="point`).FindAllString(svg, -1)
	if len(few) != 1 || len(all) != 3 {
		t.Errorf("%d grey points of %d, want 1 of 3:\n%s", len(few), len(all), svg)
	}
	if !strings.Contains(svg, "43 (too few cases)") || strings.Contains(svg, "10 (too few cases)") {
		t.Errorf("the description does not say which point rests on too few cases:\n%s", svg)
	}
}

// At a phone's width a long label stays left of the bars: the demo's
// campaign names ("checkout-conversion-webinar", "scaling-black-friday-webinar")
// had run over the axis and into "0 % · n = 17 · not judged" on the VP
// Marketing view at 380 px. A label too wide for its column is squeezed, and
// past what stays legible cut with an ellipsis, the full name kept in the
// row's tooltip and the chart's description.
func TestBarsLongLabelsStayLeftOfTheBars(t *testing.T) {
	var bars []Bar
	names := []string{"checkout-conversion-webinar", "scaling-black-friday-webinar", "linkedin-ecommerce-ops", "docs",
		"a-campaign-name-of-thirty-two-ch"}
	for i, l := range names {
		bars = append(bars, Bar{Label: l, Value: fp(float64(i)), Status: StatusUnjudged, Cases: "n = 17"})
	}
	for _, w := range []int{360, 560} {
		svg := string(Bars{Format: pct, Width: w, Bars: bars}.SVG())
		axis := regexp.MustCompile(`<line class="axis" x1="([0-9.]+)"`).FindStringSubmatch(svg)
		if axis == nil {
			t.Fatalf("no axis:\n%s", svg)
		}
		zero, _ := strconv.ParseFloat(axis[1], 64)
		labels := regexp.MustCompile(`<text class="label" x="0"([^>]*)>([^<]*)</text>`).FindAllStringSubmatch(svg, -1)
		if len(labels) != len(bars) {
			t.Fatalf("%d labels for %d bars:\n%s", len(labels), len(bars), svg)
		}
		for i, m := range labels {
			text := html.UnescapeString(m[2])
			right := textWidth(text, 11)
			if l := regexp.MustCompile(`textLength="([0-9.]+)"`).FindStringSubmatch(m[1]); l != nil {
				right, _ = strconv.ParseFloat(l[1], 64)
				if right/textWidth(text, 11) < 0.7 {
					t.Errorf("width %d: %q squeezed to %.0f %% of its width, past legible", w, text, 100*right/textWidth(text, 11))
				}
			}
			if right > zero-2 {
				t.Errorf("width %d: label %q ends at %.1f, over the axis at %.1f", w, text, right, zero)
			}
			if text != names[i] && !strings.Contains(svg, "<title>"+names[i]+"</title>") {
				t.Errorf("width %d: label %q shown for %q with no tooltip naming it in full", w, text, names[i])
			}
			if !strings.Contains(svg, names[i]+" ") {
				t.Errorf("width %d: the description does not name %q in full", w, names[i])
			}
		}
	}
}

// TestTrendTargetFrom: a target that took effect inside the axis is drawn
// from there, and the description says since when; one from before the
// axis, or with no date, spans it.
func TestTrendTargetFrom(t *testing.T) {
	a := weeks(fp(10), fp(12), fp(15), fp(14)) // 3, 10, 17 and 24 Mar 2026
	targetX1 := func(c Trend) float64 {
		m := regexp.MustCompile(`<line class="target" x1="([0-9.]+)"`).FindStringSubmatch(string(c.SVG()))
		if m == nil {
			t.Fatalf("no target line:\n%s", c.SVG())
		}
		x, _ := strconv.ParseFloat(m[1], 64)
		return x
	}
	c := Trend{Title: "ARR", Series: []Series{{Name: "ARR", Points: a}}, Target: fp(13), Format: pct}
	whole := targetX1(c)
	c.TargetFrom = time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC)
	if from := targetX1(c); from <= whole {
		t.Errorf("a target from 17 Mar starts at x = %v, the axis's start at %v", from, whole)
	}
	if svg := string(c.SVG()); !strings.Contains(svg, "Target 13.0 % from 17 Mar 2026.") {
		t.Errorf("the description does not say since when the target holds:\n%s", svg)
	}
	c.TargetFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if from := targetX1(c); from != whole {
		t.Errorf("a target from before the axis starts at x = %v, want the axis's start %v", from, whole)
	}
}

// valueTicks are a trend's value labels (the ticks anchored at the end), bottom to top.
func valueTicks(root *node) []*node {
	var ticks []*node
	for _, n := range root.byClass("text", "tick") {
		if n.attrs["text-anchor"] == "end" {
			ticks = append(ticks, n)
		}
	}
	return ticks
}

// TestTrendBoundsInsideAFlatAxis: a chart whose values are all 0 (logo churn rate 0 % every
// week, bounds ≤ 0.23 % and ≤ 0.47 % a week) has an axis from 0 to 1 %, and its bounds lie on it:
// each is a dashed line at its place, labelled without "(above)". The rule that the data keep a
// third of the height can never hold for a flat line, and every bound had been named "(above)"
// at the top edge and drawn nowhere (the VP CS review of 2026-12-07, finding 12). A flat line
// is judged by the height it is drawn at; a bound truly beyond it is still named at its edge.
func TestTrendBoundsInsideAFlatAxis(t *testing.T) {
	twoDecimals := func(v float64) string {
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".") + " %"
	}
	zeros := weeks(fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0), fp(0))
	// at is where the axis, read from its value labels, puts v.
	at := func(t *testing.T, root *node, v float64) float64 {
		ticks := valueTicks(root)
		if len(ticks) < 2 {
			t.Fatalf("value labels %v", texts(ticks))
		}
		read := func(n *node) float64 {
			x, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(n.text, "%"), " d")), 64)
			if err != nil {
				t.Fatalf("value label %q: %v", n.text, err)
			}
			return x
		}
		lo, hi := ticks[0], ticks[len(ticks)-1]
		return lo.f(t, "y") + (v-read(lo))/(read(hi)-read(lo))*(hi.f(t, "y")-lo.f(t, "y"))
	}
	for _, size := range [][2]int{{0, 0}, {360, 220}} {
		c := Trend{Series: []Series{{Points: zeros}}, Bands: &Bands{Better: Lower, Green: 0.23, Amber: 0.47}, Per: "a week",
			Format: twoDecimals, Width: size[0], Height: size[1]}
		root := checkSVG(t, c.SVG())
		if svg := string(c.SVG()); strings.Contains(svg, "offscale") || strings.Contains(svg, "(above)") {
			t.Errorf("%v: bounds on a 0–1 %% axis named off it: %v", size, texts(root.byClass("text", "label")))
		}
		for _, b := range []struct {
			class string
			v     float64
		}{{"thr-green", 0.23}, {"thr-amber", 0.47}} {
			lines := root.byClass("line", b.class)
			if len(lines) != 1 {
				t.Errorf("%v: %d %s lines, want 1 (value labels %v)", size, len(lines), b.class, texts(valueTicks(root)))
				continue
			}
			if y, want := lines[0].f(t, "y1"), at(t, root, b.v); math.Abs(y-want) > 0.5 {
				t.Errorf("%v: the %s line (%v) at y %v, want %v", size, b.class, b.v, y, want)
			}
		}
	}
	// One bound on the zeros and one inside the axis (P0/P1 incidents: 0 and ≤ 0.47 a week).
	root := checkSVG(t, Trend{Series: []Series{{Points: zeros}}, Bands: &Bands{Better: Lower, Green: 0, Amber: 0.47}, Per: "a week", Format: twoDecimals}.SVG())
	if n := len(root.byClass("line", "thr-amber")) + len(root.byClass("line", "thr-green")); n != 2 {
		t.Errorf("P0/P1 incidents at 0: %d bound lines, want 2: labels %v", n, texts(root.byClass("text", "label")))
	}
	// A flat line with a bound near it: drawn, where a bound twice as far had been drawn and
	// one nearer had not (a flat series at 5 under a bound at 6).
	root = checkSVG(t, Trend{Series: []Series{{Points: weeks(fp(5), fp(5), fp(5))}}, Bands: &Bands{Better: Higher, Green: 6, Amber: 5.5}, Format: Number}.SVG())
	if len(root.byClass("line", "thr-green")) != 1 || len(root.byClass("line", "thr-amber")) != 1 {
		t.Errorf("a flat line at 5 under bounds at 5.5 and 6: labels %v", texts(root.byClass("text", "label")))
	}
	// Truly beyond the axis is still named at its edge: 0 days every week under an amber bound
	// of 168 h.
	root = checkSVG(t, Trend{Series: []Series{{Points: zeros}}, Bands: &Bands{Better: Lower, Green: 24, Amber: 168}, Format: Number}.SVG())
	for _, class := range []string{"thr-green", "thr-amber"} {
		lb := root.byClass("text", class, "label")
		if len(lb) != 1 || !lb[0].hasClass("offscale") || !strings.HasSuffix(lb[0].text, "(above)") || len(root.byClass("line", class)) != 0 {
			t.Errorf("a bound far above a line of zeros: %s labels %v, %d lines", class, texts(lb), len(root.byClass("line", class)))
		}
	}
}

// TestTrendValueLabelsDiffer: no two value labels of a trend read alike. One point of 0.9 d
// (time to patch critical, a team with one fix) had ticks "1 d, 1 d, 0.9 d, 0.9 d, 0.8 d": a
// step of 0.05 written at the unit's one decimal (the VP CS review of 2026-12-07, finding 13).
// The ticks go at a step the format tells apart and still hold the data and the bounds drawn.
func TestTrendValueLabelsDiffer(t *testing.T) {
	days := func(v float64) string {
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(v, 'f', 1, 64), "0"), ".") + " d"
	}
	whole := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " ms" }
	cases := []struct {
		name     string
		c        Trend
		contains []float64
	}{
		{"one point of 0.9 d", Trend{Series: []Series{{Points: weeks(nil, nil, fp(0.9))}}, Format: days}, []float64{0.9}},
		{"one point of 0.9 d, a phone's chart", Trend{Series: []Series{{Points: weeks(fp(0.9))}}, Format: days, Width: 360, Height: 220}, []float64{0.9}},
		{"0.9 d under a target of 1 d", Trend{Series: []Series{{Points: weeks(fp(0.9), fp(0.95))}}, Target: fp(1), Format: days}, []float64{0.9, 0.95, 1}},
		{"whole milliseconds a hair apart", Trend{Series: []Series{{Points: weeks(fp(101.2), fp(101.6), fp(101.4))}}, Format: whole}, []float64{101.2, 101.6}},
		{"102.5 written as 102", Trend{Series: []Series{{Points: weeks(fp(100), fp(111), fp(106))}}, Format: whole}, []float64{100, 111}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := checkSVG(t, tc.c.SVG())
			ticks := valueTicks(root)
			if len(ticks) < 2 {
				t.Fatalf("value labels %v", texts(ticks))
			}
			seen := map[string]bool{}
			for _, n := range ticks {
				if seen[n.text] {
					t.Errorf("value labels %v repeat %q", texts(ticks), n.text)
				}
				seen[n.text] = true
			}
			// Each label names its tick: the value the label reads is where the tick is
			// (0.25 written "0.2" would differ from its neighbours and still misname it).
			var vals []float64
			for _, n := range ticks {
				x, err := strconv.ParseFloat(strings.Fields(n.text)[0], 64)
				if err != nil {
					t.Fatalf("value label %q: %v", n.text, err)
				}
				vals = append(vals, x)
			}
			y0, y1 := ticks[0].f(t, "y"), ticks[len(ticks)-1].f(t, "y")
			for i, n := range ticks {
				want := y0 + (vals[i]-vals[0])/(vals[len(vals)-1]-vals[0])*(y1-y0)
				if math.Abs(n.f(t, "y")-want) > 0.5 {
					t.Errorf("value label %q at y %v, where the axis has %v: labels %v", n.text, n.f(t, "y"), want, texts(ticks))
				}
			}
			for _, v := range tc.contains {
				if v < vals[0] || v > vals[len(vals)-1] {
					t.Errorf("the axis %v does not hold %v", texts(ticks), v)
				}
			}
		})
	}
	// A target the data alone would squash (0.91–0.93 d under 1 d) lies on the axis once its
	// ticks go 0.1 d apart: drawn at its place, not named "(above)" beside the tick "1 d".
	root := checkSVG(t, Trend{Series: []Series{{Points: weeks(fp(0.91), fp(0.93))}}, Target: fp(1), Format: days}.SVG())
	if lb := root.byClass("text", "target", "label"); len(lb) != 1 || lb[0].text != "target 1 d" || len(root.byClass("line", "target")) != 1 {
		t.Errorf("a target on the axis (%v): labels %v, %d lines", texts(valueTicks(root)), texts(lb), len(root.byClass("line", "target")))
	}
	// A format that tells no step apart writes its one label once; the other ticks keep
	// their grid lines.
	root = checkSVG(t, Trend{Series: []Series{{Points: weeks(fp(1), fp(3))}}, Format: func(float64) string { return "some" }}.SVG())
	if ticks := valueTicks(root); len(ticks) != 1 || len(root.byClass("line", "grid")) < 2 {
		t.Errorf("a constant format: value labels %v, %d grid lines", texts(ticks), len(root.byClass("line", "grid")))
	}
}
