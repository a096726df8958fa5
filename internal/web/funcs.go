package web

import (
	"cmp"
	"fmt"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/stats"
)

// funcs are the template functions every page may use:
//
//	static "app.css"        the asset's fingerprinted URL
//	value .Value .Unit      a value in its unit ("12.5 %", "1,200,000 USD"), "—" for none
//	cardValue .Card         a card's value in a list, with its window when it sums over it ("739.14 USD/30d")
//	cardTarget .Card        a card's target beside it, likewise ("442.40 USD/30d")
//	status .Status          a StatusView: .Word, .Class, .Icon (shape + word, never colour alone)
//	trend .Trend            a TrendView: .Arrow, .Word, .Class, .Label
//	spark .Card             the card's 12-week sparkline as inline SVG
//	freshness .Card         "data as of 30 Mar 2026 14:00 UTC" or "no data since …"
//	date .Time / datetime   "31 Mar 2026" / "31 Mar 2026 14:05 UTC"
//	plural 3 "metric"       "3 metrics"
//	label "vp_sales"        "vp sales": an id as words
//	contains list x         whether the list holds x
//	dateInput .Q.AsOf       the date of an as_of, for <input type=date>
//	reason .Reason          a status reason with its RFC 3339 times as the pages write times
//	unspec .Formula         a definition without its references to the specification's sections
//	due .Due                an action's due date as the pages write dates ("10 Apr 2026")
//	pvalue .P               a p-value as "p = 0.0073" or "p < 0.0001" (stats.FormatP)
//	between .A .B           the span from A to B: "2 h 11 min", "4 days 9 h"
//	trendVs .Card           the previous value against the current one, told apart (scorecard.TrendFigures)
//	address .Email          an e-mail address that may break before its "@"
//	newest .Kind .LastData .AsOf  a kind's newest data (newestView): its time, or "period open" for a period in force
func (s *Server) funcs(st *site) template.FuncMap {
	return template.FuncMap{
		"static": func(name string) (string, error) {
			u, ok := st.urls[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return u, nil
		},
		"value": func(v *float64, unit string) string {
			return scorecard.FormatValue(v, unit, st.currency)
		},
		// cardValue is a card's value in a list of metrics: with its
		// window when it sums over it (scorecard.CompactValue).
		"cardValue": func(c scorecard.Card) string {
			return scorecard.CompactValue(c.Value, c.Unit, st.currency, c.Window, c.SumsOverWindow)
		},
		// cardTarget is a card's target beside its cardValue: with the
		// window when the value carries it (scorecard.CompactTarget).
		"cardTarget": func(c scorecard.Card) string {
			return scorecard.CompactTarget(c, st.currency)
		},
		"status":         statusView,
		"lineStatus":     lineStatus,
		"notJudged":      notJudgedView,
		"trend":          trendView,
		"rule":           func(c scorecard.Card) string { return cardRule(c, st.currency) },
		"spark":          func(c scorecard.Card) template.HTML { return spark(c, st.currency) },
		"freshness":      freshness,
		"date":           func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"datetime":       datetime,
		"plural":         plural.Count[int],
		"label":          idWords,
		"contains":       slices.Contains[[]string],
		"dateInput":      dateInput,
		"reason":         readableReason,
		"capitalise":     capitalise,
		"quietNote":      quietNote,
		"partialNote":    partialNote,
		"unspec":         unspec,
		"settingInForce": settingInForceHTML,
		"due":            dueText,
		"pvalue":         stats.FormatP,
		// trendVs is a card's previous value as its trend sets it
		// against the current one (scorecard.TrendFigures).
		"trendVs": func(c scorecard.Card) trendFigures {
			now, before, fine := scorecard.TrendFigures(c.Value, c.Trend.Previous, c.Unit, st.currency)
			return trendFigures{Now: now, Before: before, Fine: fine}
		},
		// between says the span from one time to a later one as the
		// pages say spans: a release's spike test that ended at the next
		// release 2 h after it had read "0 tickets" beside the 12 its
		// 2-day window attributed, with nothing to say why.
		"between": func(a, b time.Time) string { return scorecard.SpanWords(b.Sub(a)) },
		// twoPlaces writes a number to two decimal places ("" for none):
		// a release's impact score.
		"twoPlaces": func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'f', 2, 64)
		},
		"newest":  newestData,
		"address": breakableAddress,
		// span says a window ("30d") in words ("30 days"), as it is read.
		"span": catalog.SpanWords,
		// cardBefore says what a card's trend compares with, after "vs".
		"cardBefore": s.cardBefore,
		"filterChoice": func(name, label, all, value string, values []string) filterChoice {
			return filterChoice{name, label, all, value, values}
		},
	}
}

// breakableAddress is an e-mail address with a line-break opportunity
// (<wbr>) before its "@" and each "." of the part before it: in a narrow
// cell it breaks as "admin" / "@example.com", not mid-word
// ("admin@example.c" / "om").
func breakableAddress(a string) template.HTML {
	local, domain, ok := strings.Cut(a, "@")
	parts := strings.Split(local, ".")
	for i, p := range parts {
		parts[i] = template.HTMLEscapeString(p)
	}
	out := strings.Join(parts, "<wbr>.")
	if ok {
		out += "<wbr>@" + template.HTMLEscapeString(domain)
	}
	return template.HTML(out)
}

// settingInForceHTML is scorecard.SettingInForceText with the proposal
// that put the value in force linked to it on the proposals page.
func settingInForceHTML(s metrics.InForce) template.HTML {
	setting, from := scorecard.SettingInForceParts(s)
	by := template.HTMLEscapeString(from)
	n, ok := strings.CutPrefix(s.Ref, "proposal ")
	if id, err := strconv.ParseInt(n, 10, 64); ok && err == nil && strings.HasPrefix(from, s.Ref) {
		by = fmt.Sprintf(`<a href="/proposals?proposal=%d#p-%d">%s</a>`, id, id, template.HTMLEscapeString(s.Ref)) +
			template.HTMLEscapeString(from[len(s.Ref):])
	}
	return template.HTML(template.HTMLEscapeString(setting) + " (" + by + ")")
}

// cardRule states the thresholds a card's colour comes from ("green ≤ 5 %,
// amber ≤ 15 %, red above"), "" for a card judged by another metric or
// without thresholds: a red on the one-page scorecard with no rule beside
// it left its reader to open the metric to learn why.
func cardRule(c scorecard.Card, currency string) string {
	if c.JudgedBy != "" || c.Thresholds == nil {
		return ""
	}
	return scorecard.ThresholdRule(c.ShownThresholds(), c.Better, c.Unit, currency) + c.Scaled()
}

// filterChoice is one filter of the controls (the "filter" partial).
type filterChoice struct {
	Name, Label, All, Value string
	Values                  []string
}

// dateInput is the date part of an as_of, for a date input; "" when as_of
// is not a time.
func dateInput(asOf string) string {
	t, err := ParseTime(asOf)
	if err != nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// currencyAt is the organisation's currency in force at t (the zero time:
// now), for money units: the engine's settings, which an approved
// proposal changes while the server runs, not the configuration file's.
// A page's figures as of t are computed in it, so they are labelled in
// it (siteFor), not in today's.
func (s *Server) currencyAt(t time.Time) string {
	if t.IsZero() {
		t = s.Now()
	}
	if s.Engine != nil {
		if c := s.Engine.ConfigAt(t).Currency; c != "" {
			return c
		}
	}
	if s.Parse.DefaultCurrency != "" {
		return s.Parse.DefaultCurrency
	}
	return "USD"
}

// StatusView is a status as pages show it: a word and an icon whose shape
// differs per status, so colour is never the only signal. Class is the
// status for CSS (status--green, …).
type StatusView struct {
	Class string
	Word  string
	Icon  template.HTML
}

// statusIcons are 16×16 shapes: a check in a circle, an exclamation mark
// in a triangle, a cross in an octagon, a question mark in a dashed
// circle. Their colour comes from the stylesheet (currentColor).
var statusIcons = map[catalog.Status]template.HTML{
	catalog.Green: `<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">` +
		`<circle cx="8" cy="8" r="7" fill="currentColor"/><path d="M4.5 8.3 7 10.7l4.6-5" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
	catalog.Amber: `<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">` +
		`<path d="M8 1.2 15.2 14H.8Z" fill="currentColor"/><path d="M8 5.6v4" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/><circle cx="8" cy="11.9" r="1" fill="#fff"/></svg>`,
	catalog.Red: `<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">` +
		`<path d="M5.1 1h5.8L15 5.1v5.8L10.9 15H5.1L1 10.9V5.1Z" fill="currentColor"/><path d="m5.5 5.5 5 5m0-5-5 5" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/></svg>`,
	catalog.Unknown: `<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">` +
		`<circle cx="8" cy="8" r="6.6" fill="none" stroke="currentColor" stroke-width="1.6" stroke-dasharray="2.6 1.6"/>` +
		`<path d="M6.2 6.3a1.9 1.9 0 1 1 2.6 1.8c-.5.2-.8.6-.8 1.1v.4" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/><circle cx="8" cy="11.6" r=".9" fill="currentColor"/></svg>`,
}

var statusWords = map[catalog.Status]string{
	catalog.Green: "Green", catalog.Amber: "Amber", catalog.Red: "Red", catalog.Unknown: "Unknown",
}

// unjudgedIcon is a dash in a plain circle: a value nothing judges, drawn
// apart from unknown's dashed question mark.
const unjudgedIcon template.HTML = `<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">` +
	`<circle cx="8" cy="8" r="6.6" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M5 8h6" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>`

// noOwnTarget is what a breakdown line that is not judged for want of a
// target of its own says beside its status.
const noOwnTarget = "no target of its own"

// lineStatus is a breakdown line's status as pages show it: a line with a
// value but no target of its own (SPEC §4) is "Not judged", in neutral
// colours, where it had worn unknown's grey chip as if its data were
// missing (ARR by plan, sales cycle by owner); the API keeps it unknown.
func lineStatus(l scorecard.BreakdownLine) StatusView {
	if l.NoOwnTarget {
		return notJudgedView()
	}
	return statusView(l.Status)
}

// notJudgedView is the status of what nothing judges: a breakdown line
// without a target of its own, a state kind on the data sources page. Its
// neutral colours and word keep it apart from green and from unknown.
func notJudgedView() StatusView {
	return StatusView{Class: "unjudged", Word: "Not judged", Icon: unjudgedIcon}
}

func statusView(st catalog.Status) StatusView {
	if _, ok := statusWords[st]; !ok {
		st = catalog.Unknown
	}
	return StatusView{Class: string(st), Word: statusWords[st], Icon: statusIcons[st]}
}

// trendFigures are a trend's two values as a page writes them; Fine says
// they read alike at the unit's precision and are written with more.
type trendFigures struct {
	Now, Before string
	Fine        bool
}

// TrendView is a trend against the previous window as pages show it.
// Class is better, worse, same or none (for CSS: trend--better, …).
type TrendView struct {
	Arrow, Word, Class, Label string
	// Hidden is what the arrow and the title say beyond the word, for a
	// screen reader (the arrow is hidden from it, and a title reaches
	// neither it nor a keyboard): the direction, or why there is no trend.
	Hidden string
}

func trendView(t scorecard.Trend) TrendView {
	if t.Direction == "" { // also when the windows are not comparable
		// Its times as the pages write them: "no survey data since
		// 2026-12-05T19:57:05Z" had stood above the card's own "5 Dec 2026 19:57 UTC".
		why := readableReason(cmp.Or(t.NotComparable, t.Missing, "no value for this or the previous window"))
		if t.Short != "" {
			// The reason in a few words where everyone sees it, the
			// sentence in the title and for a screen reader.
			return TrendView{Arrow: "–", Word: "no trend: " + t.Short, Class: "none", Label: "No trend: " + why, Hidden: " (" + why + ")"}
		}
		return TrendView{Arrow: "–", Word: "no trend", Class: "none", Label: "No trend: " + why, Hidden: ": " + why}
	}
	arrow := map[string]string{"up": "↑", "down": "↓", "flat": "→"}[t.Direction]
	word := map[string]string{"better": "better", "worse": "worse", "same": "unchanged"}[t.Assessment]
	moved := map[string]string{"up": "rising", "down": "falling", "flat": "level"}[t.Direction]
	return TrendView{Arrow: arrow, Word: word, Class: t.Assessment,
		Label: fmt.Sprintf("%s vs the previous window (%s)", capitalise(word), t.Direction), Hidden: " (" + moved + ")"}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// spark draws a card's weekly series, money in currency.
func spark(c scorecard.Card, currency string) template.HTML {
	return chart.Spark{Label: c.Name + ", last 12 weeks", Points: seriesPoints(c), Bands: cardBands(c), Format: formatIn(c.Unit, currency)}.SVG()
}

// seriesPoints are a card's weekly values as chart points, each at its
// window's end.
func seriesPoints(c scorecard.Card) []chart.Point {
	pts := make([]chart.Point, len(c.Series))
	for i, p := range c.Series {
		pts[i] = chart.Point{At: p.End, Value: p.Value, Break: p.NewPeriod || p.Recomputed, Few: p.TooFew()}
	}
	return pts
}

// quietNote is the note of a card whose value sums a state kind's changes
// over a window none fell in (a stopped billing feed reads as a real 0),
// "" for any other; partialNote that of a card whose window runs past the
// newest data of a kind it sums (cost billed to midnight). The
// scorecard's cards and the role views' panels write them; here once.
//
// They are HTML with their words escaped: written in the template, the
// sentence's apostrophes had stayed as typed, as the page's text.
func quietNote(c scorecard.Card) template.HTML {
	if c.Quiet == nil {
		return ""
	}
	return template.HTML(template.HTMLEscapeString(capitalise(c.Quiet.Words(":"))) + ". Check that its feed still runs.")
}

func partialNote(c scorecard.Card) template.HTML {
	p := c.Partial
	if p == nil {
		return ""
	}
	s := template.HTMLEscapeString(capitalise(p.Kind)+" data to "+datetime(p.Until)+": ") + "the window's last " + template.HTMLEscapeString(p.Short) + " are not reported yet"
	if c.Trend.Previous != nil {
		s += ", and the trend compares a whole window with the part reported"
	}
	return template.HTML(s + ".")
}

// partialWeekNote says which week of a card's trend ends after the newest
// data of a kind its value sums (the week to today, its cost billed to
// midnight), so that the point's fall is not read as spending less; "" when
// none does. The metric page and a role view's panel say it.
func partialWeekNote(c scorecard.Card) string {
	note := ""
	for _, p := range c.Series {
		if q := p.Partial; q != nil {
			note = fmt.Sprintf("The week ending %s is partial: its %s data reaches %s, %s short of its end; its point counts only what has been reported.",
				p.End.UTC().Format("2 Jan"), q.Kind, q.Until.UTC().Format("2 Jan 15:04 MST"), q.Short)
		}
	}
	return note
}

// fewWeeksNote says, under a card's weekly chart, how many of its points
// rest on too few cases to judge (drawn as solid grey dots: chart.Point.Few).
// CAC's weekly points, each a week's spend over its two or three new
// customers, swung from ~10,000 to ~43,000 USD around their 30-day value
// with nothing to say why. Empty when every point is judged.
//
// It also says where the line starts again because the week was computed
// otherwise than the one before (scorecard.Point.Recomputed): the weekly
// chart had jumped there (241 → 334 ms, a mean become a p90) with nothing
// to tell the change of computation from a change of the metric.
func fewWeeksNote(c scorecard.Card) string {
	n := 0
	var notes []string
	for _, p := range c.Series {
		if p.TooFew() {
			n++
		}
		if p.Recomputed {
			notes = append(notes, fmt.Sprintf("The line starts again at the week to %s: %s.", p.End.UTC().Format("2 Jan 2006"), readableReason(p.NotComparable)))
		}
	}
	if n > 0 {
		notes = append([]string{fmt.Sprintf("Grey points: %s of %d rest on too few cases to judge.", plural.Count(n, "week"), len(c.Series))}, notes...)
	}
	return strings.Join(notes, " ")
}

// cardBands are a card's thresholds as a chart of its weekly values draws
// them; nil for thresholds relative to a target, which have no fixed value.
func cardBands(c scorecard.Card) *chart.Bands {
	if t := c.Thresholds; t != nil && t.RelativeTo == "" {
		f := weekScale(c)
		return &chart.Bands{Better: chart.Direction(c.Better), Green: t.Green * f, Amber: t.Amber * f}
	}
	return nil
}

// weekTarget is a card's target as a chart of its weekly values draws it.
func weekTarget(c scorecard.Card) *float64 {
	if c.Target == nil {
		return nil
	}
	v := *c.Target * weekScale(c)
	return &v
}

// targetFrom is when a card's target took effect, for its chart: zero when
// it has held throughout (chart.Trend.TargetFrom).
func targetFrom(c scorecard.Card) time.Time {
	if c.TargetFrom == nil {
		return time.Time{}
	}
	return *c.TargetFrom
}

// weekPer is what a weekly chart's bands and target are per, when that is
// not the card's own window: "a week" for a metric that sums over it.
func weekPer(c scorecard.Card) string {
	if weekScale(c) != 1 {
		return "a week"
	}
	return ""
}

// weekScale is what a card's thresholds and target are multiplied by to
// hold for one week's value: a week of P0/P1 incidents or churned MRR
// against a band set for 30 days sat far inside it whatever happened.
func weekScale(c scorecard.Card) float64 {
	w, err := catalog.ParseWindow(c.Window)
	if err != nil || w <= 0 || !c.SumsOverWindow {
		return 1
	}
	return float64(7*24*time.Hour) / float64(w)
}

// formatIn writes a chart's values as the pages write values of the
// unit, money in currency.
func formatIn(unit, currency string) chart.Format {
	return func(v float64) string { return scorecard.FormatValue(&v, unit, currency) }
}

// freshness says how current a card's data is (SPEC §4).
func freshness(c scorecard.Card) string {
	f := c.Freshness
	if f.Stale {
		for _, src := range f.Sources {
			if src.Stale && src.LastData == nil {
				return "no " + src.Kind + " data yet"
			}
			if src.Stale {
				return "no " + src.Kind + " data since " + src.LastData.UTC().Format("2 Jan 2006 15:04 MST")
			}
		}
	}
	if f.LastData == nil {
		return "no data yet"
	}
	out := "data as of " + f.LastData.UTC().Format("2 Jan 2006 15:04 MST")
	if b := f.Behind("15:04", "2 Jan 15:04"); b != "" {
		out += " (" + b + ")"
	}
	return out
}

// readableReason rewrites the times in a status reason ("no survey data
// since 2026-03-28T11:35:00Z") the way the pages write times.
func readableReason(s string) string { return scorecard.ReadableTimes(s, "2 Jan 2006 15:04 MST") }

// specRefs are a definition's references to sections of the specification
// it was written from, which a reader of a page cannot open: "(§2)",
// "(SPEC §6)", ", SPEC §2," and the like.
var specRefs = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\s*\((?:SPEC )?§\d+\)`), ""},
	{regexp.MustCompile(`\(SPEC §\d+, `), "("},
	{regexp.MustCompile(`, SPEC §\d+,`), ","},
}

// unspec is a definition's text with its references to the specification
// taken out (what they name — linking, the gates — the page says itself).
func unspec(s string) string {
	for _, r := range specRefs {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// dueText is an action's due date (a date, or an RFC 3339 time) as the
// pages write dates and times; as given when it is neither.
func dueText(due string) string {
	if t, err := time.Parse(time.DateOnly, due); err == nil {
		return t.Format("2 Jan 2006")
	}
	if t, err := time.Parse(time.RFC3339, due); err == nil {
		return t.UTC().Format("2 Jan 2006 15:04 MST")
	}
	return due
}

// cardBefore says what card's trend compares with, as of asOf, after "vs":
// a calendar month's by the dates of the window before
// (scorecard.MonthBefore: "31 Aug – 30 Sep 2026", not September), or the
// state at the month's start; others "the 30 days before".
func (s *Server) cardBefore(c scorecard.Card, asOf time.Time) string {
	span := catalog.SpanWindow
	if m, ok := s.Catalog.Metric(c.ID); ok {
		span = m.At(asOf).Span
	}
	if words, _, ok := scorecard.MonthBefore(span, c.Window, asOf); ok {
		return words
	}
	return "the " + catalog.SpanWords(c.Window) + " before"
}

// datetime is a time as the pages write it: "7 Dec 2026 06:10 UTC".
func datetime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") }
