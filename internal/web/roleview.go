package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/customer"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// The role view page (SPEC §4): one role's metrics with the chart that
// fits each — a trend line of the weekly series, the lead funnel for
// conversion, bars for a breakdown — and the view's sections (pillar
// health, open pipeline by stage, quota pace). Every number links to its
// metric page with the page's date; a breakdown line links to the metric
// scoped to the line. Role views cover the whole organisation
// (scorecard.View), so the page carries no team, service or environment
// filter.

// Chart widths: the metric panels' column on a laptop, and a phone's.
const (
	roleChartWidth  = 560
	phoneChartWidth = 360
	roleTrendHeight = 200
	// maxRoleBars bounds the breakdown lines a panel draws; the metric
	// page has them all.
	maxRoleBars = 12
	// maxNarrowLines is the longest breakdown a panel shows under its
	// chart; a longer one goes beside it, in a panel the page's width.
	maxNarrowLines = 4
	// maxPillarAttention bounds the metrics a pillar tile names.
	maxPillarAttention = 3
)

// roleViewPage is the Data of the role view page.
type roleViewPage struct {
	View   *scorecard.ViewResult
	Status StatusView
	// Switcher lists the views the reader may open; empty when that is
	// only this one.
	Switcher []NavItem
	// Dropped are the filters the reader came with, which a role view does
	// not apply.
	Dropped []Filter
	// AtRisk leads a view with customer metrics to the customers behind
	// them that show a risk signal; nil for other views and for a reader
	// who may not open customer pages.
	AtRisk *atRiskLink
	// Hidden names the metrics and sections of the view the reader's
	// roles do not show.
	Hidden   []string
	Pillars  []pillarTile
	Pipeline *pipelinePanel
	// PipelineCoverage ties the pipeline to coverage's figure
	// (scorecard.ViewResult.PipelineCoverage).
	PipelineCoverage string
	Quota            *quotaPanel
	Flow             *flowPanel
	Bridge           *bridgePanel
	Metrics          []roleMetric
	// Actions are the actions in force on the panels that need attention,
	// by metric (cardActions); none before the data covers a week.
	Actions map[string]*cardAction
	// ScorecardURL is the one-page scorecard with the page's date.
	ScorecardURL string
	// Annotations name the periods shaded on the view's trends (one legend for them all:
	// every trend spans the same twelve weeks of the whole organisation).
	Annotations []annotationNote
}

// pillarTile is a pillar of the CEO's pillar health panel.
type pillarTile struct {
	Name      string
	Status    StatusView
	Summary   string
	Attention []linkedFigure
	// More counts the metrics not green beyond Attention.
	More int
}

// linkedFigure is a metric's value as a link to its metric page.
type linkedFigure struct {
	Name, Value, URL string
	Status           StatusView
	Reason           string
}

// pipelinePanel is the open pipeline by stage, in the funnel's order;
// Order says how stages pipeline_stages does not name are ordered.
type pipelinePanel struct {
	Open, Amount, URL, Reason string
	Stages                    []pipelineStage
	Order                     string
}

type pipelineStage struct {
	Stage, Count, Amount, MedianAge, OldestAge string
	// Oldest names the stage's longest-open opportunity; OldestURL is its
	// record page.
	Oldest, OldestURL string
}

// quotaPanel is quota attainment against the elapsed share of the period,
// each figure said once: the attainment, how far ahead of or behind pace,
// and what the pace is (Pace, PaceIs).
type quotaPanel struct {
	Status                     StatusView
	Attainment                 string
	Pace, PaceIs               string
	Period, Won, Quota, Reason string
	URL                        string
	Chart                      template.HTML
}

// roleMetric is one metric panel of a role view.
type roleMetric struct {
	Card   scorecard.Card
	Status StatusView
	Trend  TrendView
	Value  string
	Target string
	URL    string
	Fresh  string
	// Chart and Phone are the panel's main chart at laptop and phone
	// width: a trend of the weekly series, or the funnel.
	Chart, Phone template.HTML
	// Note says what the chart shows beyond its title (a funnel's cohort).
	Note string
	// By is the breakdown dimension; Lines its first lines, More how many
	// are left to the metric page (ByURL). Wide puts a long breakdown
	// beside the chart rather than under it.
	By   string
	Wide bool
	// LinesNote says why lines are unknown when they share one reason.
	LinesNote string
	// Divides says what the lines' values divide by where that explains
	// their size (pipeline coverage: the quota left; coverageNote).
	Divides     string
	Bars, BarsP template.HTML
	Lines       []breakdownRow
	More        int
	// annotations are the periods its trend shades, for the view's legend.
	annotations []annotationNote
	ByURL       string
}

// breakdownRow is one breakdown line as a link to the metric scoped to it.
type breakdownRow struct {
	Key, Value, URL, Records string
	Status                   StatusView
	Reason                   string
	// Basis says what the value divides (quotaLeftText).
	Basis string
}

// roleView serves GET /views/{role}.
// atRiskLink is a role view's line to the at-risk customers.
type atRiskLink struct {
	// Count of Of: the customers at risk of those the window's records
	// could show a signal for (customer.List.Considered).
	Count, Of        int
	Href, WindowText string
	AsOf             time.Time
	// DataWarning says which signals stale or never-sent data may
	// undercount (customer.DataWarning), as the list does.
	DataWarning string
}

// viewAtRisk counts the at-risk customers for a view showing a metric that
// reads customers' records (NRR, logo churn, CSAT, …) to a reader who may
// open customer pages: the VP Customer Success had the cohorts' numbers
// and no way from them to the customers to call.
func (s *Server) viewAtRisk(r *http.Request, v *catalog.View, access auth.Access, q Query, opt scorecard.Options) (*atRiskLink, error) {
	if !s.seesCustomers(access) {
		return nil, nil
	}
	reads := false
	for _, id := range v.Metrics {
		m, ok := s.Catalog.Metric(id)
		if ok && access.CanSeeMetric(m) && slices.ContainsFunc(customerKinds, func(k domain.Kind) bool { return m.Reads(string(k)) }) {
			reads = true
		}
	}
	if !reads {
		return nil, nil
	}
	l, err := s.customersList(r, opt, true)
	if err != nil {
		return nil, err
	}
	return &atRiskLink{Count: len(l.Customers), Of: l.Considered, Href: q.For("GET /customers").URL("/customers"), WindowText: l.WindowWords(), AsOf: l.AsOf,
		DataWarning: customer.DataWarning(l.Data)}, nil
}

func (s *Server) roleView(w http.ResponseWriter, r *http.Request) {
	v, ok := s.Catalog.View(r.PathValue("role"))
	if !ok {
		s.pageError(w, r, notFoundf("There is no role view %q. The views are: %s.", r.PathValue("role"),
			strings.Join(scorecard.ViewIDs(s.Catalog), ", ")))
		return
	}
	q, opt, err := s.pageQuery(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if r.PathValue("role") != v.ID {
		// One address per view ("CEO" and "ceo" are one page).
		http.Redirect(w, r, q.URL("/views/"+v.ID), http.StatusMovedPermanently)
		return
	}
	dropped := q.Filters()
	// A filter does not apply to a role view, but one naming a team or
	// service the data does not have is still refused as on every other
	// page (SPEC §4: an unknown value is an error naming the known ones),
	// not said "not to apply" as though it were a real team.
	asked := opt.Scope
	q = Query{AsOf: q.AsOf, Window: q.Window, Closing: q.Closing}
	opt.Scope = metrics.Scope{}
	access := s.access(r)
	opt.Visible = access.CanSeeMetric
	acks, err := s.acks.List(r.Context(), s.Store, "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var vr *scorecard.ViewResult
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		if err := checkScope(ds.At(opt.AsOf), asked); err != nil {
			return err
		}
		var verr error
		if vr, verr = scorecard.View(s.Catalog, ds, v.ID, opt); verr == nil {
			// Each panel that needs attention names its action, as the
			// scorecard's cards do (the whole organisation's: a role
			// view has no scope); none before the data covers a week.
			escalation.Mark(ds, vr.Cards(), acks, "", opt.AsOf, s.acksBy(r, opt.AsOf))
		}
		return verr
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data := s.newRoleViewPage(v, vr, q, access, opt.Annotations)
	data.Dropped = dropped
	if data.AtRisk, err = s.viewAtRisk(r, v, access, q, opt); err != nil {
		s.pageError(w, r, err)
		return
	}
	cards := make([]scorecard.Card, len(data.Metrics))
	for i, m := range data.Metrics {
		cards[i] = m.Card
	}
	data.Actions = cardActions(cards)
	pg := s.newPage(r, v.Name+" view", q, data)
	pg.Controls, pg.NoFilters, pg.AsOf = true, true, vr.AsOf
	s.render(w, r, http.StatusOK, "roleview", pg)
}

// newRoleViewPage lays out a computed role view for the page: what to
// show, formatted, with every link carrying q.
func (s *Server) newRoleViewPage(v *catalog.View, vr *scorecard.ViewResult, q Query, access auth.Access, anns []catalog.Annotation) roleViewPage {
	p := roleViewPage{View: vr, Status: statusView(vr.Status), ScorecardURL: q.URL("/")}
	for _, cv := range s.Catalog.ViewsInForce() {
		if access.CanSeeView(cv.ID) {
			p.Switcher = append(p.Switcher, NavItem{Label: cv.Name, Href: q.URL("/views/" + cv.ID), Current: cv.ID == v.ID})
		}
	}
	if len(p.Switcher) < 2 {
		p.Switcher = nil
	}
	shown := map[string]bool{}
	for _, m := range vr.Metrics {
		shown[m.Card.ID] = true
	}
	for _, id := range v.Metrics {
		if m, ok := s.Catalog.Metric(id); ok && !shown[id] {
			p.Hidden = append(p.Hidden, m.Name)
		}
	}
	for _, sec := range v.Sections {
		if !slices.Contains(vr.Sections, sec) {
			p.Hidden = append(p.Hidden, sectionNames[sec])
		}
	}
	// The currency in force at the view's as_of, which every figure of the
	// page is computed as of: for a page without as_of that is the minute
	// it is computed at (defaultAsOf), not the clock read again, which
	// for up to a minute after an approved change had labelled the tiles
	// in the new currency and the rest of the page in the old.
	cur := s.currencyAt(vr.AsOf)
	for _, sec := range vr.Sections {
		switch sec {
		case "pillars":
			p.Pillars = s.pillarTiles(vr.Pillars, q, cur)
		case "pipeline_by_stage":
			p.Pipeline = pipelineOf(vr.Pipeline, q, cur)
			p.PipelineCoverage = vr.PipelineCoverage
		case "flow_stages":
			p.Flow = s.flowPanelOf(vr.Flow, q)
		case "mrr_bridge":
			p.Bridge = s.bridgePanelOf(vr.Bridge, vr.AsOf, q)
		case "quota_pace":
			p.Quota = quotaOf(vr.QuotaPace, q, cur)
			for _, vm := range vr.Metrics {
				if c := vm.Card; c.ID == "quota_attainment" && c.Freshness.Stale {
					// Said as every card says it, not as the API's reason.
					p.Quota.Reason = capitalise(freshness(c)) + "."
				}
			}
		}
	}
	for _, vm := range vr.Metrics {
		rm := s.roleMetric(vm, q, cur, anns)
		p.Metrics = append(p.Metrics, rm)
		for _, n := range rm.annotations {
			if !slices.Contains(p.Annotations, n) {
				p.Annotations = append(p.Annotations, n)
			}
		}
	}
	return p
}

// sectionNames are the view sections as the page names them.
var sectionNames = map[string]string{
	"pillars":           "pillar health",
	"pipeline_by_stage": "open pipeline by stage",
	"quota_pace":        "quota pace",
	"flow_stages":       "where lead time goes",
	"mrr_bridge":        "MRR bridge",
}

// metricHref is a metric's page with the page's date and filters, scoped
// to a breakdown line when dim is set: a team, service or environment as
// the filter every page carries, any other dimension as scope=DIM:VALUE
// (the form GET /api/v1/metrics/{id} takes).
func metricHref(q Query, id, dim, key string) string {
	path := "/metrics/" + url.PathEscape(id)
	switch {
	case dim == "":
		return q.URL(path)
	case q.field(dim) != nil && dim != "as_of" && dim != "window":
		return q.With(dim, key).URL(path)
	}
	return q.URL(path, "scope", dim+":"+key)
}

// pillarTiles are the view's pillars, their money in cur (the currency of
// the view's as_of).
func (s *Server) pillarTiles(ps []scorecard.PillarStatus, q Query, cur string) []pillarTile {
	out := make([]pillarTile, 0, len(ps))
	for _, p := range ps {
		t := pillarTile{Name: p.Name, Status: statusView(p.Status)}
		switch n := len(p.Attention); {
		case p.NoData != "":
			t.Summary = p.NoData
			out = append(out, t)
			continue
		case !p.HasData:
			t.Summary = "No data yet · " + plural.Count(p.Metrics, "metric")
		case n == 0:
			t.Summary = "All " + plural.Count(p.Metrics, "metric") + " green"
		default:
			t.Summary = fmt.Sprintf("%d of %s not green", n, plural.Count(p.Metrics, "metric"))
		}
		for i, a := range p.Attention {
			if i == maxPillarAttention {
				t.More = len(p.Attention) - i
				break
			}
			t.Attention = append(t.Attention, linkedFigure{Name: a.Name, Value: scorecard.CompactValue(a.Value, a.Unit, cur, a.Window, a.SumsOverWindow),
				URL: metricHref(q, a.ID, "", ""), Status: statusView(a.Status), Reason: a.Reason})
		}
		out = append(out, t)
	}
	return out
}

// days formats an age in days.
func days(d float64) string { return scorecard.FormatValue(&d, "days", "") }

func pipelineOf(pl *metrics.Pipeline, q Query, cur string) *pipelinePanel {
	cur = cmp.Or(pl.Currency, cur)
	p := &pipelinePanel{Open: plural.Counts(pl.Open, "open opportunity", "open opportunities"),
		Amount: scorecard.FormatValue(pl.Amount, "currency", cur), URL: metricHref(q, "pipeline_coverage", "", ""), Reason: pl.Reason,
		Order: pl.OrderNote()}
	for _, st := range pl.Stages {
		p.Stages = append(p.Stages, pipelineStage{
			Stage: st.Stage, Count: fmt.Sprint(st.Count), Amount: scorecard.FormatValue(st.Amount, "currency", cur),
			MedianAge: days(st.MedianAgeDays), OldestAge: days(st.OldestAgeDays),
			Oldest: st.Oldest.ID, OldestURL: recordHref(domain.Key{Kind: st.Oldest.Kind, Source: st.Oldest.Source, ID: st.Oldest.ID}),
		})
	}
	return p
}

func quotaOf(qp *scorecard.QuotaPace, q Query, cur string) *quotaPanel {
	cur = cmp.Or(qp.Currency, cur)
	p := &quotaPanel{Status: statusView(qp.Status), Attainment: scorecard.FormatValue(qp.Attainment, "%", ""),
		Won:   scorecard.FormatValue(qp.Won, "currency", cur),
		Quota: scorecard.FormatValue(qp.Quota, "currency", cur), Reason: qp.Reason, URL: metricHref(q, "quota_attainment", "", "")}
	if qp.ElapsedShare != nil {
		// What pace is, against what: the attainment is compared with the
		// share of the period gone (quota attainment's thresholds scale with it).
		p.PaceIs = scorecard.FormatValue(qp.ElapsedShare, "%", "") + " of the period has gone, and pace is that share of the quota."
	}
	if qp.PeriodStart != nil && qp.PeriodEnd != nil {
		// The period's end is exclusive: a quarter ending 1 Apr is 31 Mar's.
		p.Period = qp.PeriodStart.UTC().Format("2 Jan 2006") + " – " + qp.PeriodEnd.UTC().Add(-time.Nanosecond).Format("2 Jan 2006")
	}
	if qp.JustBegun() {
		p.PaceIs = capitalise(scorecard.PeriodStartsNow) + "."
	} else if qp.Gap != nil {
		switch gap := *qp.Gap; {
		case gap < -0.5:
			g := -gap
			p.Pace = scorecard.FormatValue(&g, "count", "") + " points behind pace"
		case gap > 0.5:
			p.Pace = scorecard.FormatValue(&gap, "count", "") + " points ahead of pace"
		default:
			p.Pace = "On pace"
		}
	}
	// Bare: the panel says the figures; the chart names its marks.
	b := chart.Bullet{Label: "Quota attainment", Value: qp.Attainment, Target: ptr(100.0), Status: string(qp.Status),
		Format: func(v float64) string { return scorecard.FormatValue(&v, "%", "") }, Bare: true, TargetLabel: "quota"}
	if qp.ElapsedShare != nil {
		b.Elapsed = ptr(*qp.ElapsedShare / 100)
	}
	p.Chart = b.SVG()
	return p
}

func ptr[T any](v T) *T { return &v }

// roleMetric is one metric's panel: its figures, its chart and its
// breakdown, its money in cur (the currency of the view's as_of).
func (s *Server) roleMetric(vm scorecard.ViewMetric, q Query, cur string, anns []catalog.Annotation) roleMetric {
	c := vm.Card
	m := roleMetric{Card: c, Status: statusView(c.Status), Trend: trendView(c.Trend), Value: scorecard.CompactValue(c.Value, c.Unit, cur, c.Window, c.SumsOverWindow),
		URL: metricHref(q, c.ID, "", ""), Fresh: freshness(c)}
	if c.Target != nil {
		m.Target = scorecard.CompactTarget(c, cur)
	}
	format := formatIn(c.Unit, cur)
	if f, note, ok := funnelOf(c); ok {
		m.Chart, m.Note = f.SVG(), note
		f.Width = phoneChartWidth
		m.Phone = f.SVG()
	} else {
		pts := seriesPoints(c)
		var periods []chart.Period
		periods, m.annotations = trendAnnotations(anns, metrics.Scope{}, pts)
		t := chart.Trend{Title: c.Name + ", last 12 weeks", Series: []chart.Series{{Name: c.Name, Points: pts}},
			Bands: cardBands(c), Target: weekTarget(c), TargetFrom: targetFrom(c), Per: weekPer(c), Format: format, Width: roleChartWidth, Height: roleTrendHeight, Periods: periods}
		m.Chart = t.SVG()
		t.Width = phoneChartWidth
		m.Phone = t.SVG()
		// What the points and the figure above them cover: a week's
		// value ending well off the 30-day figure had read as a
		// contradiction (the metric's page said why, the panel did not).
		// The week to today with a day's cost not billed yet falls as if
		// spending had: the metric page said so, the panel had not.
		m.Note = strings.TrimSpace(partialWeekNote(c) + " " + fewWeeksNote(c))
		if c.Window != "" {
			m.Note = strings.TrimSpace(capitalise(c.ChartCovers()) + ". " + m.Note)
		}
	}
	if c.ID == "revenue_at_risk" {
		// The business translation of unavailability says how it is made.
		m.Note = strings.TrimSpace(revenueAtRiskNote(c, cur) + " " + m.Note)
	}
	if vm.By == "" {
		return m
	}
	m.By, m.ByURL = vm.By, q.URL("/metrics/"+url.PathEscape(c.ID), "by", vm.By)
	bars := chart.Bars{Title: c.Name + " by " + strings.ReplaceAll(vm.By, "_", " "), Format: format, Width: roleChartWidth}
	shown := worstLines(vm.Breakdown, vm.By, c.Better, maxRoleBars)
	m.More = len(vm.Breakdown) - len(shown)
	for _, l := range shown {
		bars.Bars = append(bars.Bars, breakdownBar(l, c.Unit))
		m.Lines = append(m.Lines, breakdownRow{Key: l.Key, Value: scorecard.FormatValue(l.Value, c.Unit, cur),
			URL: metricHref(q, c.ID, vm.By, l.Key), Records: plural.Count(l.Count, "record"), Status: lineStatus(l), Reason: l.Reason,
			Basis: quotaLeftText(l.QuotaLeft, cur)})
	}
	m.Wide = len(m.Lines) > maxNarrowLines
	m.LinesNote = sharedReason(vm.Breakdown, c)
	m.Divides = coverageNote(vm.Breakdown, idWords(vm.By), cur)
	if len(bars.Bars) > 0 {
		m.Bars = bars.SVG()
		bars.Width = phoneChartWidth
		m.BarsP = bars.SVG()
	}
	return m
}

// worstLines is at most n of a breakdown's lines, as candor view lists
// them too (scorecard.PanelLines).
func worstLines(lines []scorecard.BreakdownLine, by, better string, n int) []scorecard.BreakdownLine {
	shown, _ := scorecard.PanelLines(lines, by, better, n)
	return shown
}

// funnelStages are the lead funnel's stages, by their keys in the funnel
// metric's detail.
var funnelStages = []struct{ key, label string }{
	{"lead", "Leads"}, {"mql", "MQL"}, {"sql", "SQL"}, {"opportunity", "Opportunity"}, {"won", "Won"},
}

// funnelOf is the funnel chart of a conversion card whose detail counts
// the leads that reached each stage, with a note naming the cohort.
func funnelOf(c scorecard.Card) (chart.Funnel, string, bool) {
	reached := c.Detail.Reached
	if reached == nil {
		return chart.Funnel{}, "", false
	}
	f := chart.Funnel{Title: c.Name + ": leads reaching each stage", Width: roleChartWidth}
	for _, st := range funnelStages {
		n, ok := reached[st.key]
		stage := chart.Stage{Label: st.label}
		if ok {
			stage.Count = ptr(float64(n))
		}
		f.Stages = append(f.Stages, stage)
	}
	var note string
	from, to := c.Detail.CohortStart, c.Detail.CohortEnd
	if from != nil && to != nil {
		// The cohort's end is exclusive, as every window's.
		note = "Leads created " + from.UTC().Format("2 Jan 2006") + " – " + to.UTC().Add(-time.Nanosecond).Format("2 Jan 2006")
		if lag := c.Detail.MaturationLagDays; lag != nil {
			note += ", each followed for " + strconv.FormatFloat(*lag, 'f', -1, 64) + " days"
		}
		note += "."
	}
	return f, note, true
}

// sharedReason says why a breakdown's lines are unknown, said once rather
// than per line: the reason most of them share ("no target set"). Lines
// short of cases (Needs) share one reason whatever their n ("too few
// cases (n = 1 to 4, needs 5)"): counted apart, three such lines read "1
// of 12 lines". The card's own staleness is not repeated; the card says it.
func sharedReason(lines []scorecard.BreakdownLine, c scorecard.Card) string {
	g := commonReason(lines)
	if g.n == 0 || c.Freshness.Stale && g.key == c.Reason {
		return ""
	}
	return g.sentence(len(lines))
}

// fewCases is the reason lines short of cases share, whatever their n.
const fewCases = "too few cases"

// reasonGroup is the breakdown lines unknown for one reason: key is the
// reason (fewCases for lines short of cases), text says it, n counts them.
type reasonGroup struct {
	key, text string
	n         int
}

// has reports whether a line is one of the group.
func (g reasonGroup) has(l scorecard.BreakdownLine) bool {
	return l.Reason != "" && (l.Needs > 0 && g.key == fewCases || l.Needs == 0 && l.Reason == g.key)
}

// sentence says the group's reason for a breakdown of total lines: "Every
// line: no target set." or "3 of 12 lines: too few cases (n = 1 to 4,
// needs 5)."
func (g reasonGroup) sentence(total int) string {
	if g.n == total {
		return "Every line: " + g.text + "."
	}
	return fmt.Sprintf("%d of %d lines: %s.", g.n, total, g.text)
}

// commonReason is the reason most of the lines share (ties by the reason's
// text); n is 0 when no line has one.
func commonReason(lines []scorecard.BreakdownLine) reasonGroup {
	type group struct{ n, lo, hi, needs int }
	groups := map[string]*group{}
	var reason string
	for _, l := range lines {
		if l.Reason == "" {
			continue
		}
		key := l.Reason
		if l.Needs > 0 {
			key = fewCases
		}
		g := groups[key]
		if g == nil {
			g = &group{lo: l.Count, hi: l.Count, needs: l.Needs}
			groups[key] = g
		}
		g.n++
		g.lo, g.hi = min(g.lo, l.Count), max(g.hi, l.Count)
		if g.needs != l.Needs {
			g.needs = 0 // min_samples differ: say it plainly
		}
		if top := groups[reason]; top == nil || g.n > top.n || g.n == top.n && key < reason {
			reason = key
		}
	}
	g := groups[reason]
	if g == nil {
		return reasonGroup{}
	}
	text := reason
	switch {
	case reason == fewCases && g.needs > 0 && g.lo == g.hi:
		text = fmt.Sprintf("too few cases (n = %d, needs %d)", g.lo, g.needs)
	case reason == fewCases && g.needs > 0:
		text = fmt.Sprintf("too few cases (n = %d to %d, needs %d)", g.lo, g.hi, g.needs)
	}
	return reasonGroup{key: reason, text: text, n: g.n}
}

// littleQuotaLeft is the share of its quota left below which a pipeline
// coverage line is named as having little left: its multiple is large
// because its divisor is small (a page's wording, not a threshold).
const littleQuotaLeft = 0.1

// quotaLeftText says what a pipeline coverage line divides: "575,300 USD
// open ÷ 41,600 USD left of a 611,000 USD quota"; "" for other lines.
func quotaLeftText(q *scorecard.QuotaLeft, cur string) string {
	if q == nil || q.Left <= 0 {
		return ""
	}
	cur = cmp.Or(q.Currency, cur)
	money := func(v float64) string { return scorecard.FormatValue(&v, "currency", cur) }
	return money(q.Pipeline) + " open ÷ " + money(q.Left) + " left of a " + money(q.Quota) + " quota"
}

// coverageNote says once what a pipeline coverage breakdown divides by —
// the quota each line has left — and names the lines with little left,
// whose multiples that small divisor makes large (98.1× on 1 % of a quota
// left): real values, which read as mistakes unless the page says why.
// "" for another metric's breakdown.
func coverageNote(lines []scorecard.BreakdownLine, by, cur string) string {
	var little []string
	found := false
	for _, l := range lines {
		q := l.QuotaLeft
		if q == nil {
			continue
		}
		found = true
		if l.Value != nil && q.Left > 0 && q.Left < littleQuotaLeft*q.Quota {
			c := cmp.Or(q.Currency, cur)
			little = append(little, fmt.Sprintf("%s (%s of %s)", l.Key, scorecard.FormatValue(&q.Left, "currency", c), scorecard.FormatValue(&q.Quota, "currency", c)))
		}
	}
	if !found {
		return ""
	}
	note := "Each " + by + "'s open pipeline closing in the quota period, divided by the quota left (quota − won so far)."
	if len(little) > 0 {
		note += " Little is left for " + plural.And(little) + ": a small divisor makes a large multiple."
	}
	return note
}
