package browsertest_test

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/chart"
)

// csp is as strict as the web app's: nothing inline, nothing from elsewhere, no script at all.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const pageCSS = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; color: #1f2937; margin: 0; background: #f6f7f9; }
main { max-width: 980px; margin: 0 auto; padding: 24px 16px; }
h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 15px; margin: 0 0 10px; }
.card { background: #fff; border: 1px solid #e3e6ea; border-radius: 8px; padding: 16px; margin-bottom: 16px; }
.row { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; }
.metric { font-size: 13px; }
.narrow { display: none; }
@media (max-width: 600px) { .wide { display: none; } .narrow { display: block; } }
@page { size: A4; margin: 12mm; }
@media print {
  body { background: #fff; }
  main { padding: 0; }
  h1 { font-size: 18px; margin-bottom: 8px; }
  .card { break-inside: avoid; margin-bottom: 8px; padding: 10px 14px; }
}
`

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chart check</title>
<link rel="stylesheet" href="/chart.css"><link rel="stylesheet" href="/page.css">
</head><body><main>
<h1 id="heading">{{.Heading}}</h1>
<section class="card"><h2>Change failure rate</h2>
 <div class="row metric"><span>Payments</span>{{.Spark.SVG}}<span id="latest">8.0 %</span>{{.Bullet.SVG}}</div></section>
<section class="card"><h2>Change failure rate, 12 weeks</h2>
 <div class="wide">{{.Trend.SVG}}</div><div class="narrow">{{.TrendNarrow.SVG}}</div></section>
<section class="card"><h2>By team</h2>
 <div class="wide">{{.Bars.SVG}}</div><div class="narrow">{{.BarsNarrow.SVG}}</div></section>
<section class="card"><h2>Pipeline</h2>
 <div class="wide">{{.Funnel.SVG}}</div><div class="narrow">{{.FunnelNarrow.SVG}}</div></section>
</main></body></html>`))

func fp(v float64) *float64 { return &v }

func pct(v float64) string { return fmt.Sprintf("%.1f %%", v) }

type charts struct {
	Heading string
	Spark   chart.Spark
	Trend   chart.Trend
	Bars    chart.Bars
	Funnel  chart.Funnel
	Bullet  chart.Bullet
	// The same charts drawn 360 wide for a phone, where the 640-wide ones, scaled down to fit,
	// would have text too small to read; the page's stylesheet shows one or the other.
	TrendNarrow  chart.Trend
	BarsNarrow   chart.Bars
	FunnelNarrow chart.Funnel
}

func sampleCharts() charts {
	end := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	week := func(vals ...float64) []chart.Point {
		pts := make([]chart.Point, len(vals))
		for i, v := range vals {
			pts[i].At = end.AddDate(0, 0, -7*(len(vals)-1-i))
			if !math.IsNaN(v) {
				pts[i].Value = fp(v)
			}
		}
		return pts
	}
	gap := math.NaN()
	cfr := week(18, 16.5, 17, gap, 14, 12.5, 13, 11, gap, gap, 9.5, 8)
	bands := &chart.Bands{Better: chart.Lower, Green: 10, Amber: 15}
	money := func(v float64) string { return "USD " + chart.Number(v) }
	trend := chart.Trend{Title: "Change failure rate", Format: pct, Bands: bands, Target: fp(9),
		Series: []chart.Series{{Name: "Payments", Points: cfr}, {Name: "All teams", Points: week(15, 15.5, 14, 14.5, 13, 13, 12.5, 12, 12.5, 11, 11.5, 11)}}}
	bars := chart.Bars{Title: "Change failure rate by team", Format: pct, Bars: []chart.Bar{
		{Label: "Payments", Value: fp(8), Status: "green"}, {Label: "Search", Value: fp(12.5), Status: "amber"},
		{Label: "Mobile <script>", Value: fp(21), Status: "red"}, {Label: "Data platform", Status: "unknown"},
	}}
	funnel := chart.Funnel{Title: "Pipeline this quarter", Stages: []chart.Stage{
		{Label: "Leads", Count: fp(4200)}, {Label: "MQL", Count: fp(1300)}, {Label: "SQL", Count: fp(420)},
		{Label: "Opportunity", Count: fp(160)}, {Label: "Won", Count: fp(38)},
	}}
	c := charts{Heading: "Chart check <script>alert(1)</script>",
		Spark: chart.Spark{Label: "Change failure rate, Payments", Points: cfr, Bands: bands, Format: pct},
		Trend: trend, Bars: bars, Funnel: funnel,
		TrendNarrow: trend, BarsNarrow: bars, FunnelNarrow: funnel,
		Bullet: chart.Bullet{Label: "Q1 bookings", Value: fp(1.24e6), Target: fp(2e6), Elapsed: fp(0.55), Status: "green", Format: money},
	}
	c.TrendNarrow.Width, c.TrendNarrow.Height = 360, 240
	c.BarsNarrow.Width, c.FunnelNarrow.Width = 360, 360
	return c
}

// serve starts a loopback server with the chart page at / and the extra pages and stylesheets,
// all under the strict CSP.
func serve(t *testing.T, extra map[string]string) *httptest.Server {
	t.Helper()
	var page bytes.Buffer
	if err := pageTmpl.Execute(&page, sampleCharts()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	static := func(body, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", csp)
			w.Header().Set("Content-Type", ctype)
			w.Write([]byte(body))
		}
	}
	mux.HandleFunc("GET /{$}", static(page.String(), "text/html; charset=utf-8"))
	mux.HandleFunc("GET /chart.css", static(chart.CSS, "text/css"))
	mux.HandleFunc("GET /page.css", static(pageCSS, "text/css"))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for path, body := range extra {
		ctype := "text/html; charset=utf-8"
		if strings.HasSuffix(path, ".css") {
			ctype = "text/css"
		}
		mux.HandleFunc("GET "+path, static(body, ctype))
	}
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

// TestHarness loads a page of charts under the web app's CSP, reads text from the page and from
// an SVG, checks the charts shrink to a phone's width, and prints the page to a one-page PDF.
func TestHarness(t *testing.T) {
	srv := serve(t, nil)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#heading")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Chart check <script>alert(1)</script>"; heading != want {
		t.Errorf("heading %q, want %q", heading, want)
	}
	title, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("svg.chart-trend > title")))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Change failure rate" {
		t.Errorf("trend chart title %q", title)
	}
	value, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("svg.chart-bars g.st-amber text.value")))
	if err != nil {
		t.Fatal(err)
	}
	if value != "12.5 % · amber" {
		t.Errorf("amber bar says %q", value)
	}
	// The charts render in the browser as drawn: the trend chart's first series has its points.
	dots, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".wide svg.chart-trend g.series-1 circle").length`))
	if err != nil {
		t.Fatal(err)
	}
	if dots != 9 {
		t.Errorf("%d points in the first series, want 9 (12 weeks, 3 missing)", dots)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("page reported errors (a CSP violation would show here):\n%s", strings.Join(errs, "\n"))
	}
	shot := browsertest.Screenshot(ctx, t, "laptop")
	checkPNG(t, shot, browsertest.Laptop)

	browsertest.SetViewport(ctx, t, browsertest.Phone)
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector(".narrow svg.chart-trend").getBoundingClientRect().width`))
	if err != nil {
		t.Fatal(err)
	}
	if width <= 0 || width > float64(browsertest.Phone.Width) {
		t.Errorf("phone trend chart %v px wide on a %d px phone", width, browsertest.Phone.Width)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the page scrolls sideways on a phone")
	}
	checkPNG(t, browsertest.Screenshot(ctx, t, "phone"), browsertest.Phone)

	browsertest.SetViewport(ctx, t, browsertest.Laptop)
	pdf, err := browsertest.PrintPDF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.SaveArtifact(t, "print.pdf", pdf)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	if n := browsertest.PageCount(pdf); n != 1 {
		t.Errorf("printed on %d pages, want 1", n)
	}
}

// checkPNG checks the screenshot is a PNG as wide as the viewport in device pixels.
func checkPNG(t *testing.T, path string, v browsertest.Viewport) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG", path)
	}
	w := int64(b[16])<<24 | int64(b[17])<<16 | int64(b[18])<<8 | int64(b[19])
	if want := int64(float64(v.Width) * v.Scale); w != want {
		t.Errorf("%s is %d px wide, want %d", filepath.Base(path), w, want)
	}
}

// TestConsoleErrorsCatchCSPViolationsAndTheInternet shows the check in TestHarness can fail: an
// inline style under the CSP, and a resource from the internet, are both reported.
func TestConsoleErrorsCatchCSPViolationsAndTheInternet(t *testing.T) {
	srv := serve(t, map[string]string{
		"/inline":   `<!doctype html><p style="color: red">inline style</p>`,
		"/internet": `<!doctype html><link rel="stylesheet" href="https://cdn.example.com/x.css"><p>cdn</p>`,
	})
	ctx := browsertest.New(t)
	for _, c := range []struct{ path, want string }{
		{"/inline", "Content Security Policy"},
		{"/internet", "cdn.example.com"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+c.path)); err != nil {
			t.Fatal(err)
		}
		errs := browsertest.ConsoleErrors(ctx)
		if !strings.Contains(strings.Join(errs, "\n"), c.want) {
			t.Errorf("%s: errors %q, want one mentioning %q", c.path, errs, c.want)
		}
	}
}

// TestPageCountOnChromiumOutput prints a page that breaks into three sheets.
func TestPageCountOnChromiumOutput(t *testing.T) {
	srv := serve(t, map[string]string{
		"/three": `<!doctype html><link rel="stylesheet" href="/three.css"><section>one</section><section>two</section><section>three</section>`,
		// Under the CSP like every page here: the page breaks come from a stylesheet.
		"/three.css": `section { break-after: page; }`,
	})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/three")); err != nil {
		t.Fatal(err)
	}
	pdf, err := browsertest.PrintPDF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := browsertest.PageCount(pdf); n != 3 {
		t.Errorf("PageCount = %d, want 3", n)
	}
}

func TestPageCount(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj <</Type /Pages /Kids [2 0 R 3 0 R] /Count 2>> endobj\n" +
		"2 0 obj <</Type /Page /Parent 1 0 R>> endobj\n3 0 obj <</Type/Page/Parent 1 0 R>> endobj\n" +
		"4 0 obj <</Type /Catalog /Pages 1 0 R>> endobj\n")
	if n := browsertest.PageCount(pdf); n != 2 {
		t.Errorf("PageCount = %d, want 2", n)
	}
	if n := browsertest.PageCount(nil); n != 0 {
		t.Errorf("PageCount(nil) = %d", n)
	}
}
