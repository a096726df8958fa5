package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// metricPageParams are the metric page's query parameters: the carried
// ones, the breakdown dimension (by), a scope on the metric's other
// dimensions (scope=plan:pro), and the records table's kind, sort order
// and page.
var metricPageParams = append(slices.Clone(queryKeys), "month", "closing", "by", "scope", "kind", "sort", "limit", "offset")

// metricState is the metric page's own state, which its links carry
// besides the Query: a link changes one part and keeps the others.
type metricState struct {
	By, Scope, Kind, Sort string
	Limit, Offset         int
}

// url is the metric page at path with q and the state, kv (key, value
// pairs) replacing parts of it; the defaults are left out.
func (st metricState) url(q Query, path string, kv ...string) string {
	base := []string{"by", st.By, "scope", st.Scope, "kind", st.Kind, "sort", st.Sort}
	if st.Limit != defaultPageRows {
		base = append(base, "limit", strconv.Itoa(st.Limit))
	}
	if st.Offset > 0 {
		base = append(base, "offset", strconv.Itoa(st.Offset))
	}
	return q.URL(path, append(base, kv...)...)
}

// metricPage is the Data of a metric's page.
type metricPage struct {
	D      *scorecard.MetricDetail
	Metric *catalog.Metric
	Pillar string
	// Scope lists the filters the value is computed under, each with a
	// link to the page without it.
	Scope []metricScopeChip
	// Thresholds, Target and MinSample are the definition's rules in words.
	Thresholds, Target, MinSample string
	// TargetFrom says, of a target the value card took from target records
	// (none in the catalog), whose records and for which window: in a
	// scope they are the scope's, and at a window of another length those
	// overlapping it prorated — right for the card, and not the
	// organisation's own record target, which "from the organisation's
	// target records" had claimed.
	TargetFrom string
	// JudgedBy links the metric whose status this one shows.
	JudgedBy, JudgedByHref string
	// Annotations name the periods shaded on the trend (its legend).
	Annotations []annotationNote
	// DORA says the DORA performance level, or why there is none, for a
	// DORA key; "" for other metrics.
	DORA               string
	Trend, TrendNarrow template.HTML
	Weeks              []metricWeekRow
	// PartialWeek says which week of the trend ends after the newest data
	// of a kind the value sums, so a low last point reads as unreported.
	PartialWeek string
	// FewWeeks says how many of the trend's points rest on too few cases
	// (fewWeeksNote).
	FewWeeks             string
	Funnel, FunnelNarrow template.HTML
	Cohort               string
	// CountOf says what the value's cases are where they are not what it
	// divides by: cost per active customer counts cost records and divides
	// by the window's mean of active customers, which the page had not shown.
	CountOf string
	Stages  []funnelStageRow
	// FlowStages are lead time's stages side by side (its page only).
	FlowStages []flowCell
	// Customers are those behind a movement of the MRR bridge, or a
	// retention metric's cohort, with their MRR at the start and at as_of,
	// under CustomersTitle, CustomersSub and CustomersColumn.
	Customers                                     []customerRow
	CustomersTitle, CustomersSub, CustomersColumn string
	// CustomersNote explains a retention metric's column under the table.
	CustomersNote string
	// Signoff says whether the function owning the definition has
	// confirmed it (catalog.SignoffText): the API gave it, no page did.
	Signoff string
	// CustomersCurrency is the currency of the table's amounts, named in
	// its headings.
	CustomersCurrency string
	// CustomersTotal sums every customer; CustomersMore are those past the
	// page's first maxCustomerRows.
	CustomersTotal customerRow
	CustomersMore  int
	// CustomersCount is how many customers the value rests on, shown or
	// not: the heading had said 100, the rows shown, above "All 101
	// customers".
	CustomersCount int
	// History is every version of the definition, oldest first (SPEC §5:
	// the full version history stays visible); the page had sent readers
	// to candor catalog history and the API for it.
	History []historyRow
	// DeployDays is deployment days per week (deployment frequency).
	DeployDays string
	// Beside are what the metric reports beside its value (scorecard.BesideFacts): a security
	// metric's figures, what an organisation's metric's filter kept.
	Beside []scorecard.Fact
	// Tabs are the breakdown dimensions, the one shown Current.
	Tabs []metricTab
	BreakdownPanel
	Problems       []metricProblemRow
	HiddenProblems int
	Records        recordsTable
	// CoversLabel and Covers say what stretch of time the value covers:
	// "Window", "30d ending …" for most; for a state at as_of, a year's
	// cohort, a quota period or a baseline, what it is (catalog.Metric.Span)
	// rather than a window the formula does not use.
	CoversLabel, Covers string
	// ClosingHref and ClosingLabel offer, on a page that reads the quota
	// period beginning at its as_of (a quarter-end month's, or one asked
	// as of a quarter's first instant), the period closing then
	// (closing=1), as board and evidence packs report it.
	ClosingHref, ClosingLabel string
	// TrendCovers says, under the trend's title, what each weekly point
	// and the figure above cover (scorecard.TrendCovers).
	TrendCovers string
	// TrendBefore says what the trend's previous value covers
	// (scorecard.TrendBefore): a month's by its dates, which are not the
	// month before.
	TrendBefore string
	// Action is the owner's action on the metric and the form to record
	// one (SPEC §4: amber and red are acknowledged, not ignored).
	Action actionPanel
}

// metricProblemRow is a data problem, linking to its record when the reader
// may open it.
type metricProblemRow struct {
	metrics.Problem
	Href string
}

type metricScopeChip struct{ Dim, Value, Remove string }

type metricTab struct {
	Label, Href string
	Current     bool
}

type metricWeekRow struct {
	End           time.Time
	Value, Reason string
	Count         int
}

type funnelStageRow struct {
	Label, Share string
	Reached      string
}

type metricBreakdownRow struct {
	scorecard.BreakdownLine
	Value string
	Href  string
	// Why is the line's reason, unless the panel's Note says it for it.
	Why string
	// Basis says what the value divides (quotaLeftText): pipeline
	// coverage's quota left.
	Basis string
}

// recordsTable is the records behind the value: one kind's page of rows.
type recordsTable struct {
	Kinds   []metricTab
	Kind    domain.Kind
	Columns []recordColumn
	Rows    []recordRow
	// Page is the page shown of the kind's records and links to the others.
	Page pager
	// Hidden says the kind's amounts are hidden from the reader.
	Hidden bool
	// Linked says rows link to their record pages (records:read).
	Linked bool
	// Sources says some row has a source URL.
	Sources bool
	// Source is the source every row comes from; "" when they differ,
	// and each row names its own.
	Source string
	// Order says how the rows are ordered when the reader has not sorted
	// them and the order is not the metric's own (defaultSort).
	Order string
	// UTC says some column holds times, which cells show in UTC without
	// saying so each time: a ticket's SLA due time read as local.
	UTC bool
}

type recordColumn struct {
	Label, Href string
	// Dir is "ascending" or "descending" when the table is sorted by the
	// column.
	Dir string
	Num bool
	// Wide: on a phone, where each row stacks, the cell takes the row's
	// width (a note says why a record counts, in a sentence).
	Wide bool
}

type recordRow struct {
	Key    domain.Key
	Href   string
	Source string
	Cells  []recordCell
}

type recordCell struct {
	Text string
	Num  bool
	// Href, when set, opens the record the cell names (a lead's opportunity).
	Href string
}

// metricPage serves a metric: its definition, value, trend, breakdowns,
// data problems and the records behind the value.
func (s *Server) metricPage(w http.ResponseWriter, r *http.Request) {
	s.showMetricPage(w, r, http.StatusOK, nil)
}

// nearestMetric is the metric the reader may see that id most likely
// means (catalog.Nearest); "" when none.
func (s *Server) nearestMetric(access auth.Access, id string) string {
	return s.Catalog.Nearest(id, access.CanSeeMetric)
}

// unknownMetric is the 400 of a body whose field param names a metric the
// catalog lacks: the closest the reader may see, and where the list is.
// Proposals, reconciliations and share links name theirs alike.
func (s *Server) unknownMetric(access auth.Access, param, id string) error {
	near := ""
	if n := s.nearestMetric(access, id); n != "" {
		near = " (did you mean " + n + "?)"
	}
	return badParam(param, "unknown metric %q%s; GET /api/v1/metrics lists them", id, near)
}

// showMetricPage renders a metric's page at r's query, in status, with
// the action form refused and its values when refused is set.
func (s *Server) showMetricPage(w http.ResponseWriter, r *http.Request, status int, refused *actionForm) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id := r.PathValue("id")
	access := s.access(r)
	if err := s.canSeeMetric(access, id); err != nil {
		if domain.CodeOf(err) == domain.ENotFound {
			err = notFoundf("There is no metric %q.", id)
			if near := s.nearestMetric(access, id); near != "" {
				err = notFoundf("There is no metric %q: did you mean %s?", id, near)
			}
		}
		s.pageError(w, r, err)
		return
	}
	m, _ := s.Catalog.Metric(id)
	st, scope, err := metricPageState(r, q, m)
	var named scopeNamesFilter
	if errors.As(err, &named) {
		// The scope should have been the filter; a value the data lacks is
		// said to be one, with the known ones, rather than advised onto the
		// control (?team=paymnts) to be refused there.
		if cerr := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
			f, _ := metrics.Scope{}.And(named.Dim, named.Value)
			return checkScopeAs(ds, f, "scope")
		}); cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	opt.Visible = access.CanSeeMetric
	hide := func(k domain.Kind) bool { return access.HidesRevenueOf(string(k)) }
	acks, err := s.acks.List(r.Context(), s.Store, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var mp *metricPage
	source, err := s.settingSource(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var ch Choices
	var escalated *escalation.Escalation
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// Checked by the aliases in force at as_of, as Detail computes.
		at := ds.At(opt.AsOf)
		if err := checkScope(at, q.Scope()); err != nil {
			return err
		}
		if err := s.checkMetricScope(at, id, scope); err != nil {
			return err
		}
		d, err := scorecard.Detail(s.Catalog, ds, id, opt, st.By, scope)
		if err != nil {
			return pageDimensionError(err, q)
		}
		if mp, err = s.newMetricPage(ds, d, m, q, st, hide, access, opt.Annotations); err != nil {
			return err
		}
		if escalation.NeedsActionIn(d.Card, scope.String()) {
			// Whether it escalates already, to say so beside its action.
			for _, e := range escalation.Escalations(s.Catalog, ds, acks, escalation.Options{AsOf: opt.AsOf, Scope: scope, Annotations: opt.Annotations, Closing: opt.Closing,
				AcksBy: s.acksBy(r, opt.AsOf), Visible: func(x *catalog.Metric) bool { return x.ID == id }}) {
				if e.Scope == scope.String() {
					escalated = &e
				}
			}
		}
		ch = s.choices.choices(ds, ds.Seq())
		return nil
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	source.Name(&mp.D.Definition, opt.AsOf)
	if mp.History, err = s.historyRows(r.Context(), id); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.addSourceURLs(r.Context(), &mp.Records)
	mp.Action = s.newActionPanel(r, mp, q, acks, scope, refused)
	mp.Action.Escalated = escalated
	pg := s.newPage(r, m.Name, q, mp)
	pg.Controls, pg.Choices, pg.AsOf = true, ch, mp.D.AsOf
	var keep []string
	for _, kv := range [][2]string{{"by", st.By}, {"scope", st.Scope}, {"kind", st.Kind}, {"sort", st.Sort}} {
		if kv[1] != "" {
			pg.Keep = append(pg.Keep, HiddenField{kv[0], kv[1]})
			keep = append(keep, kv[0], kv[1])
		}
	}
	// A metric reading no quota period reads the same closing or not: the
	// page carries closing for its links, and says nothing of it.
	pg.QuietClosing = !mp.D.ReadsClosing()
	if label := mp.D.ClosingOffer(); label != "" {
		mp.ClosingLabel, mp.ClosingHref = label, q.URL("/metrics/"+m.ID, append(keep, "closing", "1")...)
	}
	s.render(w, r, status, "metric", pg)
}

// historyRow is one version of a definition as its page lists it.
type historyRow struct {
	Version                         int
	From, Changed, Approved, Reason string
}

// historyRows are a metric's definition versions, oldest first; none
// where definition governance is not set up.
func (s *Server) historyRows(ctx context.Context, id string) ([]historyRow, error) {
	if s.Governance == nil {
		return nil, nil
	}
	h, err := s.Governance.MetricHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows []historyRow
	for _, v := range h.Versions {
		ref := h.Source(v)
		row := historyRow{Version: v.Version, From: "in force from the start (" + ref + ")", Reason: v.Reason}
		if v.From != nil {
			row.From = "in force from " + datetime(*v.From) + " (" + ref + ")"
		}
		switch {
		case v.Retired:
			row.Changed = "retired"
		case len(v.Changes) > 0:
			row.Changed = strings.Join(v.Changes, "; ")
		}
		var by []string
		for _, a := range v.Approvals {
			by = append(by, a.By+" on "+datetime(a.At))
		}
		if len(by) > 0 {
			row.Approved = "Approved by " + strings.Join(by, " and ")
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// scopeNamesFilter is why a scope parameter naming a carried filter was
// refused: the message advises the page's control, and a caller that is
// not a page (POST /api/v1/shares) words the advice its own way.
type scopeNamesFilter struct{ metrics.Filter }

func (e scopeNamesFilter) Error() string { return "the scope names the filter " + e.Dim }

// metricPageState reads the metric page's own parameters, and the scope
// the value is computed under: the filters the Query carries and the
// scope parameter's, which names the metric's other dimensions.
func metricPageState(r *http.Request, q Query, m *catalog.Metric) (metricState, metrics.Scope, error) {
	v := r.URL.Query()
	st := metricState{By: v.Get("by"), Kind: v.Get("kind"), Sort: v.Get("sort")}
	scope := q.Scope()
	if x := v.Get("scope"); x != "" {
		ps, err := metrics.ParseScope(x)
		if err != nil {
			return st, scope, badParam("scope", "%v", err)
		}
		for _, f := range ps.Filters() {
			if q.field(f.Dim) != nil {
				e := domain.InvalidParam("scope", "the scope names %s; filter by %s with the %s control (?%s=%s) instead", f.Dim, f.Dim, f.Dim, f.Dim, f.Value)
				e.Err = scopeNamesFilter{f}
				return st, scope, e
			}
		}
		if scope, err = narrowScope(scope, ps); err != nil {
			return st, scope, err
		}
		st.Scope = ps.String()
	}
	if st.By == "" {
		// The first dimension the scope does not fix: a breakdown by a
		// dimension the scope fixes has one line.
		for _, d := range scorecard.Dims(m) {
			if !slices.ContainsFunc(scope.Filters(), func(f metrics.Filter) bool { return f.Dim == d }) {
				st.By = d
				break
			}
		}
	}
	var err error
	st.Limit, st.Offset, err = pageParams(r)
	return st, scope, err
}

// pageDimensionError words a dimension error for the page: a filter the
// metric cannot take is the filter's parameter at fault, not "scope".
func pageDimensionError(err error, q Query) error {
	var de *scorecard.DimensionError
	if !errors.As(err, &de) {
		return err
	}
	if de.Param != "scope" || q.Get(de.Dim) == "" {
		// Named first, as every other refusal of a parameter is.
		return badParam(de.Param, "%v", de)
	}
	if de.Unknown != nil {
		return badParam(de.Dim, "%v", de.Unknown)
	}
	if len(de.Dims) == 0 {
		return badParam(de.Dim, "metric %s cannot be filtered by %s: it has no breakdown", de.Metric, de.Dim)
	}
	return badParam(de.Dim, "metric %s cannot be filtered by %s (it can by: %s)", de.Metric, de.Dim, strings.Join(de.Dims, ", "))
}

// noMinSample is the definition block's minimum sample of a metric with
// min_sample 0. It says only what holds of each: the catalog sets 0 for
// counts, sums and extremes but also for ratios of whole sums (cost per
// customer, budget variance, pipeline coverage, quota attainment), and an
// organisation may set 0 on any metric, where it had read "the value is a
// count, sum or extreme".
const noMinSample = "none: the definition sets no minimum, so the status is judged on any number of cases"

// newMetricPage builds the page from a drill-down; the dataset gives the
// records' row fields (under the engine's read lock).
func (s *Server) newMetricPage(ds *metrics.Dataset, d *scorecard.MetricDetail, m *catalog.Metric, q Query, st metricState, hide func(domain.Kind) bool, access auth.Access, anns []catalog.Annotation) (*metricPage, error) {
	path := "/metrics/" + m.ID
	c := &d.Card
	cur := s.currencyAt(d.AsOf)
	format := formatIn(c.Unit, cur)
	mp := &metricPage{D: d, Metric: m, Pillar: m.Pillar, MinSample: noMinSample}
	mp.CoversLabel, mp.Covers = d.Covers()
	mp.TrendCovers = scorecard.TrendCovers(m.At(d.AsOf).Span, d.Card.Window, d.Closing)
	mp.TrendBefore = scorecard.TrendBefore(m.At(d.AsOf).Span, d.Card.Window, d.AsOf)
	for _, p := range s.Catalog.Pillars {
		if p.ID == m.Pillar {
			mp.Pillar = p.Name
		}
	}
	// Scope chips: the carried filters and the scope parameter's.
	for _, f := range q.Filters() {
		mp.Scope = append(mp.Scope, metricScopeChip{f.Dim, f.Value, st.url(q.With(f.Dim, ""), path, "offset", "")})
	}
	if st.Scope != "" {
		ps, _ := metrics.ParseScope(st.Scope)
		for _, f := range ps.Filters() {
			var rest []string
			for _, g := range ps.Filters() {
				if g != f {
					rest = append(rest, g.Dim+":"+g.Value)
				}
			}
			mp.Scope = append(mp.Scope, metricScopeChip{f.Dim, f.Value, st.url(q, path, "scope", strings.Join(rest, ","), "offset", "")})
		}
	}
	switch {
	case m.JudgedBy != "":
		mp.JudgedBy, mp.JudgedByHref = m.JudgedBy, q.URL("/metrics/"+m.JudgedBy)
		if om, ok := s.Catalog.Metric(m.JudgedBy); ok {
			mp.JudgedBy = om.Name
		}
	case c.Thresholds != nil:
		// The card's, not the definition's: a service or tier in scope may have its own.
		t := c.ShownThresholds()
		mp.Thresholds = scorecard.ThresholdRule(t, m.Better, m.Unit, cur)
		if from := c.ThresholdsFrom; from != catalog.FromOrganisation {
			mp.Thresholds += " (" + from + "'s own)"
		}
		if b := c.Baseline; b != nil {
			mp.Thresholds += "; baseline " + format(*b)
		}
		mp.Thresholds += c.Scaled()
	}
	if m.Target != nil {
		mp.Target = format(*m.Target)
	} else if c.Target != nil {
		mp.TargetFrom = "from the organisation's target records, not the catalog"
		if len(mp.Scope) > 0 {
			var in []string
			for _, f := range mp.Scope {
				in = append(in, f.Dim+" "+f.Value)
			}
			mp.TargetFrom = "from the target records of " + strings.Join(in, " and ") + ", not the catalog"
		}
		// Which records, and how: a CFO did not recognise a plan's
		// figure in a sum's target at the metric's own window, where
		// only another window's had said it was prorated.
		if c.TargetProrated || c.SumsOverWindow {
			mp.TargetFrom += ": those overlapping this window, prorated into it by their days in it"
		} else {
			mp.TargetFrom += ": the one in force at the page's time"
		}
	}
	if m.MinSample > 0 {
		mp.MinSample = plural.Count(m.MinSample, "case") + " (below it the status is unknown: too few cases)"
	}
	if m.DORA {
		mp.DORA = c.DORALevel
		if mp.DORA == "" {
			mp.DORA = "not rated: the level needs fresh data and enough cases"
		}
	}

	// The 12-week trend, with the bands where they are absolute.
	pts := seriesPoints(*c)
	values := make([]*float64, len(c.Series))
	for i, p := range c.Series {
		values[i] = p.Value
	}
	shown := scorecard.SeriesFigures(values, c.Unit, cur)
	for i, p := range c.Series {
		row := metricWeekRow{End: p.End, Value: shown[i], Reason: p.Reason, Count: p.Count}
		if q := p.Partial; q != nil {
			row.Reason = strings.TrimPrefix(strings.Join([]string{row.Reason, "partial: " + q.Kind + " data to " + q.Until.UTC().Format("2 Jan 15:04 MST")}, "; "), "; ")
		}
		mp.Weeks = append(mp.Weeks, row)
	}
	mp.PartialWeek = partialWeekNote(*c)
	mp.FewWeeks = fewWeeksNote(*c)
	bands := cardBands(*c)
	var scope metrics.Scope
	if d.Scope != nil {
		scope = *d.Scope
	}
	periods, notes := trendAnnotations(anns, scope, pts)
	mp.Annotations = notes
	tr := chart.Trend{Title: m.Name + ", weekly, last 12 weeks", Series: []chart.Series{{Name: m.Name, Points: pts}},
		Bands: bands, Target: weekTarget(*c), TargetFrom: targetFrom(*c), Format: format, Periods: periods, Per: weekPer(*c)}
	mp.Trend = tr.SVG()
	tr.Width, tr.Height = 360, 220
	mp.TrendNarrow = tr.SVG()

	// What some metrics show beside their value.
	if v := c.Detail.DeploymentDaysPerWeek; v != nil {
		mp.DeployDays = strconv.FormatFloat(math.Round(*v*10)/10, 'f', -1, 64)
	}
	mp.Beside = scorecard.BesideFacts(c.Detail)
	if mean := c.Detail.MeanActiveCustomers; mean != nil {
		mp.CountOf = "· n counts cost records; the value divides by a mean of " + scorecard.FormatValue(mean, "count", "") + " active customers"
	}
	if from, to := c.Detail.CohortStart, c.Detail.CohortEnd; from != nil && to != nil {
		mp.Cohort = fmt.Sprintf("leads created %s to %s", from.UTC().Format("2 Jan 2006"), to.UTC().Add(-time.Nanosecond).Format("2 Jan 2006"))
	}
	if stages := c.Detail.Stages; stages != nil {
		reached := c.Detail.Reached
		fstages := make([]chart.Stage, 0, len(metricFunnelSteps))
		for i, stp := range metricFunnelSteps {
			n := float64(reached[stp.key])
			if reached != nil {
				fstages = append(fstages, chart.Stage{Label: stp.label, Count: &n})
			}
			if i == 0 {
				continue
			}
			row := funnelStageRow{Label: metricFunnelSteps[i-1].label + " → " + stp.label, Share: scorecard.FormatValue(stages[stp.share], "%", "")}
			if reached != nil {
				row.Reached = fmt.Sprintf("%s of %s", groupDigits(strconv.Itoa(reached[stp.key]), 0), groupDigits(strconv.Itoa(reached[metricFunnelSteps[i-1].key]), 0))
			}
			mp.Stages = append(mp.Stages, row)
		}
		if len(fstages) > 0 {
			f := chart.Funnel{Title: m.Name + ": leads reaching each stage", Stages: fstages}
			mp.Funnel = f.SVG()
			f.Width = 360
			mp.FunnelNarrow = f.SVG()
		}
	}

	mp.FlowStages = s.flowCells(q, "", "", d.FlowStages)
	mp.Customers = customerRows(d.Customers)
	if s.seesCustomers(access) {
		for i := range mp.Customers {
			mp.Customers[i].Href = q.URL(customerHref(mp.Customers[i].Customer))
		}
	}
	mp.CustomersTotal = customerTotal(d.Customers)
	mp.CustomersCurrency = cmp.Or(c.Detail.Currency, cur)
	mp.CustomersMore = len(d.Customers) - len(mp.Customers)
	mp.CustomersCount = len(d.Customers)
	mp.CustomersTitle, mp.CustomersSub, mp.CustomersColumn = scorecard.CustomersHeading(m.ID)
	mp.CustomersNote = scorecard.CustomersColumnNote(m.ID)
	mp.Signoff = catalog.SignoffText(m)

	// Breakdown: a tab per dimension, a line per group.
	for _, dim := range d.Dimensions {
		mp.Tabs = append(mp.Tabs, metricTab{Label: idWords(dim), Href: st.url(q, path, "by", dim), Current: dim == d.By})
	}
	mp.BreakdownPanel = s.newBreakdownPanel(d, func(l scorecard.BreakdownLine) string {
		// The line's own page: a carried filter for team, service and
		// environment, the scope parameter for the metric's other
		// dimensions; the table and breakdown start afresh there.
		if q.field(d.By) != nil {
			return st.url(q.With(d.By, l.Key), path, "by", "", "kind", "", "sort", "", "offset", "")
		}
		sc := d.By + ":" + l.Key
		if st.Scope != "" {
			sc = st.Scope + "," + sc
		}
		return st.url(q, path, "scope", sc, "by", "", "kind", "", "sort", "", "offset", "")
	})

	// Problems name records: of a kind that reveals revenue, only for
	// those who may read such records.
	for _, p := range d.Problems {
		if hide(p.Kind) {
			mp.HiddenProblems++
			continue
		}
		row := metricProblemRow{Problem: p}
		if access.CanReadKind(string(p.Kind)) {
			row.Href = q.URL(recordHref(domain.Key{Kind: p.Kind, Source: p.Source, ID: p.ID}), recordFrom(m.ID, st)...)
		}
		mp.Problems = append(mp.Problems, row)
	}

	var err error
	mp.Records, err = newRecordsTable(ds, d, q, st, path, hide, access, s.seesCustomers(access), s.sorted, ds.Seq(), cmp.Or(d.Card.Detail.Currency, cur))
	return mp, err
}

// BreakdownPanel is a drill-down's breakdown as the metric page and a share link show it: a
// bar chart at laptop and phone width and a line per group. Note says once the reason two or
// more lines are unknown for, which those lines then leave out: the same long reason had
// filled twelve rows ("no target set: judged by budget_variance, which has no value per
// service").
type BreakdownPanel struct {
	By               string
	Lines            []metricBreakdownRow
	Bars, BarsNarrow template.HTML
	Note             string
	// Apart says that the lines, each its own value of the metric, do not
	// add up to the organisation's (NotASum).
	Apart string
}

// notASum says, of a breakdown in money or counts whose lines do not add up
// to the value above them, that each line is its own value: cost per
// active customer's lines by service summed to 836.23 beside the
// organisation's 739.83 (customers are counted once in the whole, in each
// service they use in a line), which read as an error. Shares and
// durations are not expected to add; "" when the lines do add up (to a
// half percent), or when a line has no value.
func notASum(d *scorecard.MetricDetail, format func(*float64) string) string {
	c := &d.Card
	if c.Value == nil || len(d.Breakdown) < 2 || !(strings.HasPrefix(c.Unit, "currency") || c.Unit == "count") {
		return ""
	}
	sum := 0.0
	for _, l := range d.Breakdown {
		if l.Value == nil {
			return ""
		}
		sum += *l.Value
	}
	if math.Abs(sum-*c.Value) <= 0.005*math.Max(math.Abs(*c.Value), 1) {
		return ""
	}
	if !c.AddsUp {
		// A ratio's lines (cost per customer, CAC, LTV) have no sum worth
		// giving: say only that they are not parts of the whole.
		return fmt.Sprintf("Each line is this metric for its %s alone: a ratio's lines are not parts of the value above and do not add up to it.", idWords(d.By))
	}
	return fmt.Sprintf("Each line is this metric for its %s alone: the lines add up to %s, not to the %s above.",
		idWords(d.By), format(&sum), format(c.Value))
}

// newBreakdownPanel draws d's breakdown; href links a line to its own page ("" for none).
func (s *Server) newBreakdownPanel(d *scorecard.MetricDetail, href func(scorecard.BreakdownLine) string) BreakdownPanel {
	c := &d.Card
	cur := s.currencyAt(d.AsOf)
	p := BreakdownPanel{By: d.By}
	shared := commonReason(d.Breakdown)
	if shared.n < 2 {
		shared = reasonGroup{}
	} else {
		p.Note = shared.sentence(len(d.Breakdown))
	}
	p.Apart = notASum(d, func(v *float64) string { return scorecard.FormatValue(v, c.Unit, cur) })
	bars := make([]chart.Bar, 0, len(d.Breakdown))
	for _, l := range scorecard.ReadingOrder(d.Breakdown, d.By, c.Better) {
		row := metricBreakdownRow{BreakdownLine: l, Value: scorecard.FormatValue(l.Value, c.Unit, cur), Href: href(l),
			Basis: quotaLeftText(l.QuotaLeft, cur), Why: l.Reason}
		if shared.n > 0 && shared.has(l) {
			row.Why = ""
			if l.NoOwnTarget {
				row.Why = noOwnTarget
			}
		}
		p.Lines = append(p.Lines, row)
		bars = append(bars, breakdownBar(l, c.Unit))
	}
	if len(bars) > 0 {
		b := chart.Bars{Title: c.Name + " by " + idWords(d.By), Bars: bars, Format: formatIn(c.Unit, cur)}
		p.Bars = b.SVG()
		b.Width = 360
		p.BarsNarrow = b.SVG()
	}
	return p
}

// breakdownBar is a breakdown line of a metric in unit as a bar. A line short of cases draws none
// and says why: its value is shown but not judged (SPEC §4), and drawn it had been the longest bar
// of a chart — one failure in two deployments beside rates over hundreds. A share says how many
// cases it is of: a campaign's "0 % · not judged" had not told 0 of 2 leads from 0 of 200.
func breakdownBar(l scorecard.BreakdownLine, unit string) chart.Bar {
	b := chart.Bar{Label: l.Key, Value: l.Value, Status: string(l.Status)}
	if unit == "%" && l.Value != nil && l.Needs == 0 {
		b.Cases = fmt.Sprintf("n = %d", l.Count)
	}
	if l.NoOwnTarget {
		// Not judged, as the table says: grey and worded, where it had
		// been the blue of a chart without statuses, no word, beside red
		// and amber bars (and before that grey "· unknown").
		b.Status = chart.StatusUnjudged
	}
	if l.Needs > 0 {
		b.Withheld = l.Reason
	}
	return b
}

// metricFunnelSteps are the funnel's stages: the key of its count in the
// detail's reached map, and of its share of the stage before in stages.
var metricFunnelSteps = []struct{ key, share, label string }{
	{"lead", "", "Leads"}, {"mql", "lead_to_mql", "MQL"}, {"sql", "mql_to_sql", "SQL"},
	{"opportunity", "sql_to_opportunity", "Opportunity"}, {"won", "opportunity_to_won", "Won"},
}

// newRecordsTable is the page of the records table the state asks for.
//
// orders keeps sorted orders across requests; seq is the data's sequence;
// currency is the one the metric's money is in.
//
// customers says the reader may open customer pages: a customer column's
// names link to them.
func newRecordsTable(ds *metrics.Dataset, d *scorecard.MetricDetail, q Query, st metricState, path string, hide func(domain.Kind) bool, access auth.Access, customers bool, orders *sortOrders, seq int64, currency string) (recordsTable, error) {
	var t recordsTable
	// The table's own links (kind, sort, page) hold the as_of the page was
	// computed at: paging through a list that changes as records arrive
	// would skip or repeat rows.
	if q.AsOf == "" {
		q.AsOf = d.AsOf.Format(time.RFC3339)
	}
	kinds := refKinds(d.Records)
	if st.Kind != "" {
		k := domain.Kind(st.Kind)
		if !slices.Contains(kinds, k) {
			names := make([]string, len(kinds))
			for i, x := range kinds {
				names[i] = string(x)
			}
			if len(names) == 0 {
				return t, badParam("kind", "no records are behind this value, of kind %q or any other", st.Kind)
			}
			return t, badParam("kind", "no %q records are behind this value (kinds: %s)", st.Kind, strings.Join(names, ", "))
		}
		t.Kind = k
	} else if len(kinds) > 0 {
		t.Kind = kinds[0]
	}
	refs := d.Records
	counts := map[domain.Kind]int{}
	if len(kinds) > 1 {
		refs = nil
		for _, r := range d.Records {
			counts[r.Kind]++
			if r.Kind == t.Kind {
				refs = append(refs, r)
			}
		}
	}
	if len(kinds) > 1 {
		for _, k := range kinds {
			t.Kinds = append(t.Kinds, metricTab{Label: fmt.Sprintf("%s (%s)", idWords(string(k)), groupDigits(strconv.Itoa(counts[k]), 0)),
				Href: st.url(q, path, "kind", string(k), "sort", "", "offset", ""), Current: k == t.Kind})
		}
	}
	cols := recordColumns(t.Kind, refs)
	srt, err := parseSort(st.Sort, cols)
	if err != nil {
		return t, err
	}
	if st.Sort == "" {
		srt, t.Order = defaultSort(t.Kind, refs)
	}
	t.Hidden = hide(t.Kind)
	t.Linked = access.CanReadKind(string(t.Kind))
	rows := recordPage(ds, refs, d.AsOf, srt, st.Offset, st.Limit, hide, orders.memo(d.Records, t.Kind, d.AsOf, srt, t.Hidden, seq))
	num, money := make([]bool, len(cols)), make([]bool, len(cols))
	moneyRecords := slices.Contains(cols, "currency")
	for i, col := range cols {
		money[i] = scorecard.MoneyColumn(col, d.Definition.Unit, moneyRecords)
	}
	valueLabel, valuePrec := valueColumn(d.Definition.Unit, currency)
	if scorecard.MoneyColumn(colValue, d.Definition.Unit, moneyRecords) {
		valueLabel, valuePrec = valueColumn("currency", currency)
	}
	for _, r := range rows {
		for i, col := range cols {
			v := cellOf(r, col)
			if v != nil && !num[i] {
				_, num[i] = cellNumber(v)
			}
			if _, ok := v.(time.Time); ok {
				t.UTC = true
			}
		}
	}
	for i, col := range cols {
		c := recordColumn{Label: idWords(col), Num: num[i], Wide: col == colNote}
		switch col {
		case colRecord:
			c.Label = "record"
		case colValue:
			c.Label = valueLabel
		}
		next := col
		if st.Sort != "" && srt.Col == col {
			c.Dir = "ascending"
			if srt.Desc {
				c.Dir = "descending"
			} else {
				next = "-" + col
			}
		}
		c.Href = st.url(q, path, "sort", next, "offset", "")
		t.Columns = append(t.Columns, c)
	}
	// A lead's opportunity opens the deal it became, as on the lead's own
	// page: funnel conversion's won leads had named their deals by ids
	// that opened nothing.
	linkOpp := t.Kind == domain.KindLead && access.CanReadKind(string(domain.KindOpportunity))
	for _, r := range rows {
		row := recordRow{Key: domain.Key{Kind: r.Kind, Source: r.Source, ID: r.ID}}
		if t.Linked {
			row.Href = q.URL(recordHref(row.Key), recordFrom(d.Definition.ID, st)...)
		}
		for i, col := range cols {
			text := columnText(cellOf(r, col), money[i])
			switch col {
			case "period_end":
				text = periodEndText(cellOf(r, "period_start"), cellOf(r, col))
			case "period_start":
				text = periodStartText(cellOf(r, col), cellOf(r, "period_end"))
			}
			if x, ok := cellOf(r, col).(float64); ok && col == colValue && !money[i] && valuePrec >= 0 {
				text = groupDigits(strconv.FormatFloat(x, 'f', -1, 64), valuePrec)
			}
			cell := recordCell{Text: text, Num: num[i]}
			// A customer opens its page, its records together: a cohort's
			// customers had been names that opened nothing.
			if name, ok := cellOf(r, col).(string); ok && customers && col == "customer" && name != "" {
				cell.Href = q.URL(customerHref(name))
			}
			if id, ok := cellOf(r, col).(string); ok && linkOpp && col == "opportunity" {
				if l, ok := ds.LeadOpportunity(r.Source, id, d.AsOf); ok {
					cell.Href = q.URL(recordHref(domain.Key{Kind: l.Kind, Source: l.Source, ID: l.ID}))
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Page = newPager(len(refs), st.Offset, st.Limit, len(rows), func(offset string) string {
		return st.url(q, path, "offset", offset) + "#records"
	})
	if len(rows) > 0 {
		t.Source = rows[0].Source
		for _, r := range rows {
			if r.Source != t.Source {
				t.Source = ""
			}
		}
	}
	return t, nil
}

// addSourceURLs links each row of the table to its source (a CI run, an
// issue) when its stored record names one. The dataset keeps no URLs, so
// they are read from the store, a page's worth of keys.
func (s *Server) addSourceURLs(ctx context.Context, t *recordsTable) {
	if !t.Linked || !kindHasSourceURL(t.Kind) {
		return
	}
	for i := range t.Rows {
		got, err := s.Store.Get(ctx, t.Rows[i].Key)
		if err != nil {
			// A row without its link is still the row; the store's
			// trouble shows on the record's own page.
			continue
		}
		if u := recordSourceURL(got.Body); u != "" {
			t.Rows[i].Source = u
			t.Sources = true
		}
	}
}

// kindHasSourceURL reports whether records of the kind may carry a source
// URL field.
func kindHasSourceURL(k domain.Kind) bool {
	switch k {
	case domain.KindDeployment, domain.KindChange, domain.KindIncident, domain.KindVulnerability, domain.KindControl:
		return true
	}
	return false
}

// idWords writes an id as words: "vp_sales" → "vp sales".
func idWords(id string) string { return strings.ReplaceAll(id, "_", " ") }
