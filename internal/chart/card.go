package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Card is one metric's value drawn as a picture, for a chat tool or a page that takes an image
// but no HTML (a share link's card.svg and card.png): the metric's name, its value, its status as
// a dot and a word (colour is never the only signal) and a few lines of context (target and
// trend, the date, the filters). The SVG and the PNG are laid out alike.
type Card struct {
	Title, Value string
	// Status is green, amber, red or unknown; anything else is shown as unknown.
	Status string
	Lines  []string
}

// Card geometry, in pixels (the PNG's; the SVG's user units).
const (
	cardWidth    = 520
	cardPad      = 24
	cardTitleY   = 44
	cardValueY   = 104
	cardLineY    = 140
	cardLineStep = 24
	cardTitlePx  = 20
	cardValuePx  = 44
	cardLinePx   = 15
	cardStatusPx = 17
)

func (c Card) height() int { return cardLineY + cardLineStep*len(c.Lines) + cardPad - cardLineStep/2 }

func (c Card) status() (st, word string) {
	st = status(c.Status)
	if st == "" {
		st = StatusUnknown
	}
	return st, map[string]string{StatusGreen: "Green", StatusAmber: "Amber", StatusRed: "Red", StatusUnknown: "Unknown", StatusUnjudged: "Not judged"}[st]
}

// SVG returns the card as a standalone SVG document.
func (c Card) SVG() []byte {
	st, word := c.status()
	h := c.height()
	var w svgWriter
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.open("svg", at("xmlns", "http://www.w3.org/2000/svg"), at("class", "chart chart-card "+statusClass(st)),
		at("width", cardWidth), at("height", h), at("viewBox", fmt.Sprintf("0 0 %d %d", cardWidth, h)),
		at("role", "img"), at("font-family", fontFamily))
	w.element("title", fmt.Sprintf("%s: %s, %s", c.Title, c.Value, word))
	w.empty("rect", at("x", 0.5), at("y", 0.5), at("width", cardWidth-1), at("height", h-1), at("rx", 10),
		at("fill", "#ffffff"), at("stroke", colGrid))
	w.empty("rect", at("x", 0), at("y", 0), at("width", 6), at("height", h), at("fill", fillOf[st]))
	w.text(c.Title, fitted(c.Title, cardTitlePx, cardWidth-2*cardPad, at("x", cardPad), at("y", cardTitleY),
		at("font-size", cardTitlePx), at("font-weight", "600"), at("fill", colInk))...)
	w.text(c.Value, fitted(c.Value, cardValuePx, cardWidth-2*cardPad-150, at("class", "value"), at("x", cardPad), at("y", cardValueY),
		at("font-size", cardValuePx), at("font-weight", "700"), at("fill", colInk))...)
	sx := float64(cardWidth - cardPad - 130)
	w.empty("circle", at("cx", sx+8), at("cy", float64(cardValueY-12)), at("r", 8), at("fill", fillOf[st]))
	w.text(word, at("class", "status"), at("x", sx+24), at("y", cardValueY-6), at("font-size", cardStatusPx),
		at("font-weight", "600"), at("fill", textOf[st]))
	for i, l := range c.Lines {
		w.text(l, fitted(l, cardLinePx, cardWidth-2*cardPad, at("x", cardPad), at("y", cardLineY+i*cardLineStep),
			at("font-size", cardLinePx), at("fill", colMuted))...)
	}
	w.close("svg")
	return []byte(w.b.String())
}

// faces are the PNG's fonts: the Go fonts, embedded, so the picture looks the same wherever
// Candor runs.
var faces = sync.OnceValues(func() (map[string]font.Face, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, err
	}
	out := map[string]font.Face{}
	for name, f := range map[string]struct {
		f    *opentype.Font
		size float64
	}{"title": {bold, cardTitlePx}, "value": {bold, cardValuePx}, "status": {bold, cardStatusPx}, "line": {reg, cardLinePx}} {
		face, err := opentype.NewFace(f.f, &opentype.FaceOptions{Size: f.size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, err
		}
		out[name] = face
	}
	return out, nil
})

// PNG returns the card as a PNG image. Text too long for the card is cut with an ellipsis.
func (c Card) PNG() ([]byte, error) {
	fs, err := faces()
	if err != nil {
		return nil, fmt.Errorf("card fonts: %w", err)
	}
	st, word := c.status()
	h := c.height()
	img := image.NewRGBA(image.Rect(0, 0, cardWidth, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(hexColor("#ffffff")), image.Point{}, draw.Src)
	border := image.NewUniform(hexColor(colGrid))
	for _, r := range []image.Rectangle{{Max: image.Pt(cardWidth, 1)}, {Min: image.Pt(0, h-1), Max: image.Pt(cardWidth, h)},
		{Min: image.Pt(cardWidth-1, 0), Max: image.Pt(cardWidth, h)}} {
		draw.Draw(img, r, border, image.Point{}, draw.Src)
	}
	draw.Draw(img, image.Rect(0, 0, 6, h), image.NewUniform(hexColor(fillOf[st])), image.Point{}, draw.Src)
	text := func(s, face, col string, x, y, maxW int) {
		d := &font.Drawer{Dst: img, Src: image.NewUniform(hexColor(col)), Face: fs[face]}
		d.Dot = fixed.P(x, y)
		d.DrawString(ellipsis(d, s, maxW))
	}
	text(c.Title, "title", colInk, cardPad, cardTitleY, cardWidth-2*cardPad)
	text(c.Value, "value", colInk, cardPad, cardValueY, cardWidth-2*cardPad-150)
	sx := cardWidth - cardPad - 130
	dot(img, sx+8, cardValueY-12, 8, hexColor(fillOf[st]))
	text(word, "status", textOf[st], sx+24, cardValueY-6, 120)
	for i, l := range c.Lines {
		text(l, "line", colMuted, cardPad, cardLineY+i*cardLineStep, cardWidth-2*cardPad)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ellipsis cuts s to fit maxW pixels in d's face.
func ellipsis(d *font.Drawer, s string, maxW int) string {
	if d.MeasureString(s).Ceil() <= maxW {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && d.MeasureString(string(r)+"…").Ceil() > maxW {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// dot fills a circle of radius r at (cx, cy).
func dot(img draw.Image, cx, cy, r int, c color.Color) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r {
				img.Set(cx+x, cy+y, c)
			}
		}
	}
}

// hexColor reads "#rrggbb".
func hexColor(s string) color.RGBA {
	var r, g, b uint8
	fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b)
	return color.RGBA{r, g, b, 255}
}
