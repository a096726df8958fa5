package chart

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"
)

// A card picture says the metric, its value and its status in words as well as colour, in SVG
// and in PNG alike; an unrecognised status is drawn as unknown, never green.
func TestCardPicture(t *testing.T) {
	c := Card{Title: "Change failure rate", Value: "12.5 %", Status: StatusRed,
		Lines: []string{"Target 10 % · worse than the previous window", "As of 31 Mar 2026 · team core"}}
	svg := string(c.SVG())
	for _, want := range []string{"<title>Change failure rate: 12.5 %, Red</title>", ">Red</text>", "st-red", `fill="#c62828"`, "team core"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q:\n%s", want, svg)
		}
	}
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != cardWidth || sz.Y != c.height() {
		t.Errorf("PNG is %v, want %d × %d", sz, cardWidth, c.height())
	}
	if r, g, bl, _ := img.At(2, 10).RGBA(); r>>8 != 0xc6 || g>>8 != 0x28 || bl>>8 != 0x28 {
		t.Errorf("the status stripe is %02x%02x%02x, want red c62828", r>>8, g>>8, bl>>8)
	}
	// Ink where the value is written, none below the last line.
	if inked(img, cardPad, cardValueY-30, 120, 30) == 0 || inked(img, cardPad, c.height()-8, 200, 6) != 0 {
		t.Error("the value is not drawn where expected, or something is drawn below the text")
	}
	odd := Card{Title: "X", Value: "1", Status: "purple"}
	if s := string(odd.SVG()); !strings.Contains(s, ">Unknown</text>") || strings.Contains(s, "Green") {
		t.Errorf("an unrecognised status is not drawn as unknown:\n%s", s)
	}
}

// inked counts the non-white pixels of a rectangle.
func inked(img image.Image, x0, y0, w, h int) int {
	n := 0
	for y := y0; y < y0+h; y++ {
		for x := x0; x < x0+w; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
				n++
			}
		}
	}
	return n
}

// A marked period (a change freeze) is shaded and labelled behind a trend's lines, clipped to the
// chart's dates; one outside them is not drawn.
func TestTrendPeriods(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	pts := []Point{{At: day(1), Value: fp(1)}, {At: day(11), Value: fp(2)}, {At: day(21), Value: fp(3)}}
	tr := Trend{Title: "x", Series: []Series{{Name: "x", Points: pts}}, Periods: []Period{
		{From: day(6), To: day(16), Label: "Change freeze", Kind: "freeze"},
		{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), Label: "Last year"},
	}}
	svg := string(tr.SVG())
	if strings.Count(svg, `class="annotation"`) != 1 || !strings.Contains(svg, "<title>Change freeze (freeze): 6 Mar 2026 to 15 Mar 2026</title>") ||
		!strings.Contains(svg, ">Change freeze</text>") || strings.Contains(svg, "Last year") {
		t.Errorf("periods drawn wrongly:\n%s", svg)
	}
	tr.Periods = nil
	if strings.Contains(string(tr.SVG()), "annotation") {
		t.Error("an annotation drawn without periods")
	}
}
