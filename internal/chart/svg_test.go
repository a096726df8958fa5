package chart

import (
	"encoding/xml"
	"html/template"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// node is a parsed SVG element.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string // character data directly inside the element
	inner    string // all character data inside it, descendants' too, in document order
}

// parse reads the SVG with encoding/xml, failing the test when it is not well-formed.
func parse(t *testing.T, h template.HTML) *node {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(h)))
	dec.Strict = true
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, h)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" && a.Name.Space != "xmlns" {
					name = a.Name.Space + ":" + name
				}
				n.attrs[name] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatalf("more than one root element:\n%s", h)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(tok)) != "" {
					t.Fatalf("text outside the root element: %q", tok)
				}
				continue
			}
			stack[len(stack)-1].text += string(tok)
			for _, n := range stack {
				n.inner += string(tok)
			}
		}
	}
	if root == nil {
		t.Fatalf("no root element in %q", h)
	}
	return root
}

// all returns every element (depth first, document order) for which keep is true.
func (n *node) all(keep func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		if keep(m) {
			out = append(out, m)
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

// hasClass reports whether the element's class list holds c.
func (n *node) hasClass(c string) bool {
	for _, f := range strings.Fields(n.attrs["class"]) {
		if f == c {
			return true
		}
	}
	return false
}

// byClass returns elements named name (any name if "") with every one of the classes.
func (n *node) byClass(name string, classes ...string) []*node {
	return n.all(func(m *node) bool {
		if name != "" && m.name != name {
			return false
		}
		for _, c := range classes {
			if !m.hasClass(c) {
				return false
			}
		}
		return true
	})
}

func (n *node) named(name string) []*node {
	return n.all(func(m *node) bool { return m.name == name })
}

// f reads a numeric attribute, failing when it is absent or not a finite number.
func (n *node) f(t *testing.T, a string) float64 {
	t.Helper()
	s, ok := n.attrs[a]
	if !ok {
		t.Fatalf("<%s> has no %s attribute", n.name, a)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		t.Fatalf("<%s %s=%q>: not a finite number", n.name, a, s)
	}
	return v
}

var nonFiniteRE = regexp.MustCompile(`\b(NaN|[+-]?Inf(inity)?)\b`)

var numberRE = regexp.MustCompile(`-?[0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?`)

// numbers returns the numbers in a path's d or a polygon's points.
func numbers(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, m := range numberRE.FindAllString(s, -1) {
		v, err := strconv.ParseFloat(m, 64)
		if err != nil {
			t.Fatalf("bad number %q in %q", m, s)
		}
		out = append(out, v)
	}
	return out
}

// subpaths splits a path's d into its sub-paths (each starts with M), as lists of (x, y).
func subpaths(t *testing.T, d string) [][][2]float64 {
	t.Helper()
	var out [][][2]float64
	for _, part := range strings.Split(d, "M")[1:] {
		ns := numbers(t, part)
		if len(ns)%2 != 0 {
			t.Fatalf("odd number of coordinates in %q", part)
		}
		var pts [][2]float64
		for i := 0; i < len(ns); i += 2 {
			pts = append(pts, [2]float64{ns[i], ns[i+1]})
		}
		out = append(out, pts)
	}
	return out
}

// geometry lists the coordinate attributes checked against the viewBox.
var xAttrs = []string{"x", "x1", "x2", "cx"}
var yAttrs = []string{"y", "y1", "y2", "cy"}

// checkSVG asserts what holds for every chart: well-formed; one <svg> root with role="img", a
// non-empty <title> and <desc> first; no script, style, event handler, id, link or foreign
// content; no NaN or Inf anywhere; every coordinate finite and inside the viewBox.
func checkSVG(t *testing.T, h template.HTML) *node {
	t.Helper()
	raw := string(h)
	if m := nonFiniteRE.FindString(raw); m != "" {
		t.Errorf("output contains %q:\n%s", m, raw)
	}
	for _, bad := range []string{"<script", "<style", "style=", "javascript:"} {
		if strings.Contains(raw, bad) {
			t.Errorf("output contains %q:\n%s", bad, raw)
		}
	}
	root := parse(t, h)
	if root.name != "svg" {
		t.Fatalf("root is <%s>, want <svg>", root.name)
	}
	if root.attrs["role"] != "img" {
		t.Errorf("root role = %q, want img", root.attrs["role"])
	}
	if !root.hasClass("chart") {
		t.Errorf("root class = %q, want chart …", root.attrs["class"])
	}
	if len(root.children) < 2 || root.children[0].name != "title" || root.children[1].name != "desc" {
		t.Fatalf("first children must be <title> and <desc>:\n%s", raw)
	}
	for _, c := range root.children[:2] {
		if strings.TrimSpace(c.text) == "" {
			t.Errorf("<%s> is empty", c.name)
		}
	}
	w, h2 := root.f(t, "width"), root.f(t, "height")
	if vb := root.attrs["viewBox"]; vb != "0 0 "+num(w)+" "+num(h2) {
		t.Errorf("viewBox = %q, want 0 0 %v %v", vb, w, h2)
	}
	for _, n := range root.all(func(*node) bool { return true }) {
		switch n.name {
		case "script", "style", "foreignObject", "a", "image", "use", "iframe":
			t.Errorf("forbidden element <%s>", n.name)
		}
		for a := range n.attrs {
			if strings.HasPrefix(strings.ToLower(a), "on") || a == "style" || a == "id" || strings.Contains(a, "href") {
				t.Errorf("forbidden attribute %s on <%s>", a, n.name)
			}
		}
		const slack = 1.0 // strokes and rounding
		for _, a := range xAttrs {
			if _, ok := n.attrs[a]; ok {
				if v := n.f(t, a); v < -slack || v > w+slack {
					t.Errorf("<%s %s=%v> outside 0..%v", n.name, a, v, w)
				}
			}
		}
		for _, a := range yAttrs {
			if _, ok := n.attrs[a]; ok {
				if v := n.f(t, a); v < -slack || v > h2+slack {
					t.Errorf("<%s %s=%v> outside 0..%v", n.name, a, v, h2)
				}
			}
		}
		for _, a := range []string{"width", "height", "r"} {
			if _, ok := n.attrs[a]; ok && n != root {
				if v := n.f(t, a); v < 0 {
					t.Errorf("<%s %s=%v> negative", n.name, a, v)
				}
			}
		}
		var pts []float64
		switch n.name {
		case "path":
			pts = numbers(t, n.attrs["d"])
		case "polygon":
			pts = numbers(t, n.attrs["points"])
		}
		for i, v := range pts {
			lim := w
			if i%2 == 1 {
				lim = h2
			}
			if v < -slack || v > lim+slack {
				t.Errorf("<%s> coordinate %v outside 0..%v", n.name, v, lim)
			}
		}
	}
	return root
}

func fp(v float64) *float64 { return &v }
