package scorecard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

// ViewResult is a role view (SPEC §4): the metrics one role acts on, each
// with its card (value, status, trend, weekly series) and broken down by
// the dimension the view opens it by. The records behind each number are
// one drill-down (Detail) away.
type ViewResult struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	AsOf        time.Time `json:"as_of"`
	Window      string    `json:"window"`
	// OwnWindows: as Scorecard.OwnWindows.
	OwnWindows bool `json:"-"`
	// Month is as Scorecard's.
	Month string `json:"month,omitempty"`
	// Closing is as Scorecard's.
	Closing bool `json:"closing,omitempty"`
	// Status and Unknown follow the pillar rule (groupStatus).
	Status  catalog.Status  `json:"status"`
	Unknown []UnknownMetric `json:"unknown,omitempty"`
	// Sections lists, in the view's order, the panels it shows beside the
	// metrics' cards (catalog.ViewSections); each is the field of its name.
	Sections []string          `json:"sections,omitempty"`
	Pillars  []PillarStatus    `json:"pillars,omitempty"`
	Pipeline *metrics.Pipeline `json:"pipeline_by_stage,omitempty"`
	// PipelineCoverage says which of the open pipeline pipeline coverage
	// counts, with its parts: the stage table's 1,268,000 USD had stood
	// beside coverage's 1.09× with nothing to tie them (coverage counts the
	// qualified deals closing in the quota period, over the quota left).
	PipelineCoverage string         `json:"pipeline_coverage_note,omitempty"`
	QuotaPace        *QuotaPace     `json:"quota_pace,omitempty"`
	Flow             *FlowBreakdown `json:"flow_stages,omitempty"`
	Bridge           *MRRBridge     `json:"mrr_bridge,omitempty"`
	Metrics          []ViewMetric   `json:"metrics"`
}

// PillarStatus is one pillar of the scorecard as a role view shows it: its
// status and the metrics that keep it from green.
type PillarStatus struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Status  catalog.Status `json:"status"`
	HasData bool           `json:"has_data"`
	// NoData is the pillar's Pillar.NoData.
	NoData string `json:"no_data,omitempty"`
	// Metrics is how many metrics the pillar has.
	Metrics int `json:"metrics"`
	// Attention lists its metrics that are not green, the red first, then
	// the amber, then the unknown, each in the pillar's order (priority,
	// then catalog): the first named are those that set the pillar's
	// colour, and a page or a line that names only the first few names
	// them (a red pillar had shown three amber metrics and "4 more").
	Attention []PillarMetric `json:"attention"`
}

// PillarMetric is a metric that sets a pillar's status.
type PillarMetric struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Value  *float64       `json:"value"`
	Unit   string         `json:"unit"`
	Status catalog.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
	// Window and SumsOverWindow are the card's, for a list to name the
	// window of a value that sums over it (CompactValue).
	Window         string `json:"-"`
	SumsOverWindow bool   `json:"-"`
}

// QuotaPace is quota attainment set against the share of the quota period
// that has elapsed at as_of: 40 % of quota with half the period gone is
// behind pace, with a tenth gone well ahead.
type QuotaPace struct {
	// Attainment is the % of the period's quota won so far.
	Attainment *float64 `json:"attainment"`
	// ElapsedShare is the % of the quota period elapsed at as_of.
	ElapsedShare *float64 `json:"elapsed_share"`
	// Gap is Attainment − ElapsedShare in points; negative is behind pace.
	Gap         *float64   `json:"gap"`
	PeriodStart *time.Time `json:"period_start"`
	PeriodEnd   *time.Time `json:"period_end"`
	Won         *float64   `json:"won"`
	Quota       *float64   `json:"quota"`
	Currency    string     `json:"currency"`
	// Status and Reason are quota attainment's, whose thresholds scale with
	// the elapsed share.
	Status catalog.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
}

// JustBegun says the period starts at as_of: nothing of it has gone, so
// there is no pace to be on or off. "Unknown" had stood above "On pace: 0 %
// of the period has gone" at a quarter's first instant.
func (q *QuotaPace) JustBegun() bool { return q.ElapsedShare != nil && *q.ElapsedShare == 0 }

// PeriodStartsNow is what the pages and the CLI say of pace when the
// period starts at as_of (JustBegun).
const PeriodStartsNow = "the period starts now: there is no pace to judge yet"

// ViewMetric is one metric of a role view. By is empty, and Breakdown
// absent, for a metric the view shows whole.
type ViewMetric struct {
	Card      Card            `json:"metric"`
	By        string          `json:"by,omitempty"`
	Breakdown []BreakdownLine `json:"breakdown,omitempty"`
}

// Cards are pointers to the view's metrics' cards, to be marked in place
// (escalation.Mark).
func (v *ViewResult) Cards() []*Card {
	out := make([]*Card, len(v.Metrics))
	for i := range v.Metrics {
		out[i] = &v.Metrics[i].Card
	}
	return out
}

// UnknownViewError is a role view the catalog does not define.
type UnknownViewError struct {
	ID    string
	Known []string
}

// ErrorCode is not_found (domain.Coder).
func (e *UnknownViewError) ErrorCode() domain.Code { return domain.ENotFound }

func (e *UnknownViewError) Error() string {
	return fmt.Sprintf("unknown role view %q%s", e.ID, ViewGuess(e.ID, e.Known))
}

// ViewGuess is what an unknown role view id is followed by in a refusal:
// the view it most likely means ("cf0" → cfo), then those known — " (did
// you mean cfo?; known: ceo, …)" — as an unknown metric's refusal guesses.
func ViewGuess(id string, known []string) string {
	if near := domain.Closest(id, known); near != "" {
		return fmt.Sprintf(" (did you mean %s?; known: %s)", near, strings.Join(known, ", "))
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
}

// ViewIDs lists the catalog's role views in catalog order.
func ViewIDs(cat *catalog.Catalog) []string {
	views := cat.ViewsInForce()
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	return ids
}

// View computes a role view as defined in the catalog. The dataset must not
// change meanwhile (the caller holds the engine's read lock). An unknown
// role is an *UnknownViewError.
func View(cat *catalog.Catalog, ds *metrics.Dataset, roleID string, opt Options) (*ViewResult, error) {
	v, ok := cat.View(roleID)
	if !ok {
		return nil, &UnknownViewError{ID: roleID, Known: ViewIDs(cat)}
	}
	opt.Scope = metrics.Scope{}
	cat = cat.At(opt.AsOf)
	defs := make([]*catalog.Metric, 0, len(v.Metrics))
	for _, id := range v.Metrics {
		m, ok := cat.Metric(id)
		if !ok {
			// Catalog validation rules this out; a hand-built catalog may not.
			return nil, fmt.Errorf("role view %s: unknown metric %q", v.ID, id)
		}
		if opt.visible(m) && !m.Retired {
			defs = append(defs, m)
		}
	}
	vr := &ViewResult{
		ID: v.ID, Name: v.Name, Description: v.Description, AsOf: opt.AsOf.UTC(), Window: "30d",
		Status: catalog.Green, Metrics: make([]ViewMetric, len(defs)), Closing: opt.Closing,
	}
	vr.OwnWindows = opt.Window == 0
	if opt.Window > 0 {
		vr.Window = catalog.FormatWindow(opt.Window)
		vr.Month = catalog.MonthField(vr.AsOf, opt.Window)
	}
	// Metrics are independent reads of an immutable dataset, and a series
	// plus a breakdown is the costly part: one goroutine each (a view holds
	// a handful).
	errs := make([]error, len(defs))
	forEach(len(defs), len(defs), func(i int) {
		m, vm := defs[i], &vr.Metrics[i]
		vm.Card = Evaluate(ds, m, opt, metrics.Scope{}, true)
		judgeCard(cat, ds, m, opt, metrics.Scope{}, &vm.Card)
		by := v.Breakdowns[m.ID]
		if by == "" || !Computed(m) {
			// A metric not computed yet says so on its card; it has
			// nothing to break down.
			return
		}
		vm.By = by
		vm.Breakdown, errs[i] = breakdown(cat, ds, m, opt, by)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("role view %s: %s: %w", v.ID, defs[i].ID, err)
		}
	}
	cards := make([]Card, len(vr.Metrics))
	for i, vm := range vr.Metrics {
		cards[i] = vm.Card
	}
	vr.Status, vr.Unknown = groupStatus(cards)
	for _, sec := range v.Sections {
		if !sectionVisible(cat, sec, opt) {
			continue
		}
		if err := buildSection(vr, sec, cat, ds, opt); err != nil {
			return nil, fmt.Errorf("role view %s: %w", v.ID, err)
		}
	}
	return vr, nil
}

// sectionMetrics are the metrics whose numbers a section shows besides its
// cards' (the pipeline's amounts are pipeline coverage's, quota pace is
// quota attainment): a viewer who may not see them does not get the
// section. The pillars section follows Options.Visible metric by metric.
var sectionMetrics = map[string][]string{
	"pipeline_by_stage": {"pipeline_coverage"},
	"quota_pace":        {"quota_attainment"},
	"flow_stages":       {"coding_time", "pickup_time", "review_time", "deploy_time"},
	"mrr_bridge":        {"mrr_new", "mrr_reactivation", "mrr_expansion", "mrr_contraction", "mrr_churn"},
}

func sectionVisible(cat *catalog.Catalog, sec string, opt Options) bool {
	for _, id := range sectionMetrics[sec] {
		if m, ok := cat.Metric(id); ok && !opt.visible(m) {
			return false
		}
	}
	return true
}

// buildSection adds one of catalog.ViewSections to a view.
func buildSection(vr *ViewResult, sec string, cat *catalog.Catalog, ds *metrics.Dataset, opt Options) error {
	// The settings in force at as_of, as Evaluate reads them: the open
	// pipeline by stage had been converted, and the panels' money
	// labelled, in today's currency on a view as of before a change of it.
	ds = ds.At(opt.AsOf)
	switch sec {
	case "pillars":
		vr.Pillars = pillarStatuses(buildCards(cat, ds, opt, false))
	case "pipeline_by_stage":
		p := ds.PipelineByStage(opt.AsOf)
		vr.Pipeline = &p
		vr.PipelineCoverage = coverageNote(cat, ds, opt)
	case "quota_pace":
		vr.QuotaPace = quotaPace(cat, ds, opt)
	case "flow_stages":
		fb, err := flowBreakdown(cat, ds, opt, "team")
		if err != nil {
			return err
		}
		vr.Flow = fb
	case "mrr_bridge":
		vr.Bridge = mrrBridge(cat, ds, opt)
	default:
		// Catalog validation rules this out; a hand-built catalog may not.
		return fmt.Errorf("unknown section %q (known: %s)", sec, strings.Join(catalog.ViewSections, ", "))
	}
	vr.Sections = append(vr.Sections, sec)
	return nil
}

func pillarStatuses(sc *Scorecard) []PillarStatus {
	out := make([]PillarStatus, 0, len(sc.Pillars))
	for _, p := range sc.Pillars {
		ps := PillarStatus{ID: p.ID, Name: p.Name, Status: p.Status, HasData: p.HasData, NoData: p.NoData, Metrics: len(p.Metrics), Attention: []PillarMetric{}}
		for _, c := range p.Metrics {
			if c.Status != catalog.Green {
				ps.Attention = append(ps.Attention, PillarMetric{ID: c.ID, Name: c.Name, Value: c.Value, Unit: c.Unit, Status: c.Status, Reason: c.Reason,
					Window: c.Window, SumsOverWindow: c.SumsOverWindow})
			}
		}
		slices.SortStableFunc(ps.Attention, func(a, b PillarMetric) int { return attentionRank(a.Status) - attentionRank(b.Status) })
		out = append(out, ps)
	}
	return out
}

// attentionRank orders a pillar's metrics that are not green: red, amber,
// unknown (an amber is a judged value; an unknown counts as amber for the
// pillar but says only that a value is missing).
func attentionRank(s catalog.Status) int {
	switch s {
	case catalog.Red:
		return 0
	case catalog.Amber:
		return 1
	}
	return 2
}

// quotaPace reads quota attainment's card: its value and status, and the
// quota period, won amount and elapsed share its computation reports.
func quotaPace(cat *catalog.Catalog, ds *metrics.Dataset, opt Options) *QuotaPace {
	const id = "quota_attainment"
	q := &QuotaPace{Status: catalog.Unknown, Currency: ds.Config().Currency}
	m, ok := cat.Metric(id)
	if !ok {
		q.Reason = id + " is not in the catalog"
		return q
	}
	c := Evaluate(ds, m, opt, metrics.Scope{}, false)
	q.Attainment, q.Status, q.Reason = c.Value, c.Status, c.Reason
	if why := c.Detail.Reason; why != "" && c.Value == nil {
		q.Reason = why
	}
	if cur := c.Detail.Currency; cur != "" {
		q.Currency = cur
	}
	q.Won, q.Quota = c.Detail.Won, c.Detail.Quota
	if e := c.Detail.ElapsedShare; e != nil {
		pct := 100 * *e
		q.ElapsedShare = &pct
		if q.Attainment != nil {
			gap := *q.Attainment - pct
			q.Gap = &gap
		}
	}
	q.PeriodStart, q.PeriodEnd = c.Detail.PeriodStart, c.Detail.PeriodEnd
	return q
}

// coverageNote says what pipeline coverage counts of the open pipeline, as
// of opt.AsOf: "Pipeline coverage counts the qualified ones closing by 30
// Jun 2026: 18 opportunities, 201,300 USD, over the 184,700 USD of quota
// left, 1.09×." "" when coverage has no value.
func coverageNote(cat *catalog.Catalog, ds *metrics.Dataset, opt Options) string {
	m, ok := cat.Metric("pipeline_coverage")
	if !ok {
		return ""
	}
	c := Evaluate(ds, m, opt, metrics.Scope{}, false)
	d := c.Detail
	if c.Value == nil || d.Pipeline == nil || d.Remaining == nil || d.PeriodEnd == nil {
		return ""
	}
	cur := cmp.Or(d.Currency, ds.Config().Currency)
	// The period's end is exclusive: a quarter ending 1 Jul closes on 30 Jun.
	by := d.PeriodEnd.UTC().Add(-time.Nanosecond).Format("2 Jan 2006")
	return fmt.Sprintf("Pipeline coverage counts the qualified ones closing by %s: %s, %s, over the %s of quota left, %s.",
		by, plural.Counts(c.Count, "opportunity", "opportunities"), FormatValue(d.Pipeline, "currency", cur), FormatValue(d.Remaining, "currency", cur), FormatValue(c.Value, "x", ""))
}

// maxViewLines bounds the breakdown lines a text view shows per metric,
// those PanelLines picks; JSON has them all.
const maxViewLines = 15

// ViewText renders a role view for people.
func ViewText(v *ViewResult, o TextOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", paint(o.Color, ansiBold, fmt.Sprintf("%s view as of %s (%s)", v.Name, v.AsOf.Format(time.RFC3339), windowHead(v.AsOf, v.Window, v.OwnWindows))),
		paint(o.Color, statusColor[v.Status], statusMark[v.Status]))
	if v.Description != "" {
		fmt.Fprintf(&b, "%s\n", v.Description)
	}
	for _, sec := range v.Sections {
		b.WriteString("\n")
		switch sec {
		case "pillars":
			writePillars(&b, v.Pillars, o)
		case "pipeline_by_stage":
			writePipeline(&b, v.Pipeline, o)
			if v.PipelineCoverage != "" {
				fmt.Fprintf(&b, "  %s\n", v.PipelineCoverage)
			}
		case "quota_pace":
			writeQuotaPace(&b, v.QuotaPace, o)
		case "flow_stages":
			writeFlowBreakdown(&b, v.Flow, o)
		case "mrr_bridge":
			writeMRRBridge(&b, v.Bridge, v.AsOf, o)
		}
	}
	for _, m := range v.Metrics {
		c := m.Card
		b.WriteString("\n")
		b.WriteString(cardLine(c, o))
		if len(c.Series) > 0 {
			var pts []string
			for _, p := range c.Series {
				pts = append(pts, pointText(p, c.Unit, o))
			}
			fmt.Fprintf(&b, "     %s\n", paint(o.Color, ansiDim, seriesHead(c.Series)+": "+strings.Join(pts, " · ")))
		}
		if s := stagesText(c.Detail); s != "" {
			fmt.Fprintf(&b, "     %s\n", s)
		}
		if m.By == "" {
			continue
		}
		if len(m.Breakdown) == 0 {
			fmt.Fprintf(&b, "     by %s: no groups\n", m.By)
			continue
		}
		// Worst first, as the metric's drill-down and the view's page list
		// them (PanelLines): alphabetical, the lines past maxViewLines could
		// be the worst.
		shared := sharedReason(m.Breakdown)
		fmt.Fprintf(&b, "     by %s:\n", m.By)
		if shared != "" {
			fmt.Fprintf(&b, "       %s\n", paint(o.Color, ansiDim, "every line: "+shared))
		}
		shown, gap := PanelLines(m.Breakdown, m.By, c.Better, maxViewLines)
		more := len(m.Breakdown) - len(shown)
		for i, l := range shown {
			if i == gap && more > 0 {
				fmt.Fprintf(&b, "       … %d more between these (candor metric %s --by %s)\n", more, c.ID, m.By)
			}
			if shared != "" {
				l.Reason = ""
			}
			fmt.Fprintf(&b, "       %s\n", breakdownLineText(l, c.Unit, o))
		}
		if gap >= len(shown) && more > 0 {
			fmt.Fprintf(&b, "       … %d more (candor metric %s --by %s)\n", more, c.ID, m.By)
		}
	}
	return b.String()
}

// maxAttention bounds the metrics a pillar line names.
const maxAttention = 3

func writePillars(b *strings.Builder, ps []PillarStatus, o TextOptions) {
	b.WriteString(paint(o.Color, ansiBold, "Pillars:") + "\n")
	for _, p := range ps {
		var why []string
		for i, a := range p.Attention {
			if i == maxAttention {
				why = append(why, fmt.Sprintf("+%d more", len(p.Attention)-maxAttention))
				break
			}
			w := a.Name + " " + string(a.Status)
			if a.Status == catalog.Unknown && a.Reason != "" {
				w += " (" + a.Reason + ")"
			}
			why = append(why, w)
		}
		if len(p.Attention) == 0 {
			why = append(why, fmt.Sprintf("all %d metrics green", p.Metrics))
		}
		fmt.Fprintf(b, "  %-36s %s  %s\n", p.Name, paint(o.Color, statusColor[p.Status], fmt.Sprintf("%-7s", statusMark[p.Status])), strings.Join(why, " · "))
	}
}

func writePipeline(b *strings.Builder, p *metrics.Pipeline, o TextOptions) {
	head := paint(o.Color, ansiBold, "Open pipeline by stage:")
	if p.Open == 0 {
		fmt.Fprintf(b, "%s %s\n", head, p.Reason)
		return
	}
	cur := cmp.Or(p.Currency, o.Currency)
	fmt.Fprintf(b, "%s %s, %s\n", head, plural.Counts(p.Open, "opportunity", "opportunities"), FormatValue(p.Amount, "currency", cur))
	if p.Amount == nil && p.Reason != "" {
		fmt.Fprintf(b, "  amounts not shown: %s\n", p.Reason)
	}
	fmt.Fprintf(b, "  %-24s %6s %18s %11s  %s\n", "stage", "open", "amount", "median age", "oldest")
	for _, s := range p.Stages {
		fmt.Fprintf(b, "  %-24s %6d %18s %11s  %s (%s %s/%s)\n", s.Stage, s.Count, FormatValue(s.Amount, "currency", cur),
			FormatValue(&s.MedianAgeDays, "days", ""), FormatValue(&s.OldestAgeDays, "days", ""), s.Oldest.Kind, s.Oldest.Source, s.Oldest.ID)
	}
	if note := p.OrderNote(); note != "" {
		fmt.Fprintf(b, "  %s\n", note)
	}
}

func writeQuotaPace(b *strings.Builder, q *QuotaPace, o TextOptions) {
	mark := paint(o.Color, statusColor[q.Status], statusMark[q.Status])
	if q.Attainment == nil || q.ElapsedShare == nil {
		fmt.Fprintf(b, "%s unknown (%s)  %s\n", paint(o.Color, ansiBold, "Quota attainment:"), q.Reason, mark)
		return
	}
	pace := "on pace"
	switch gap := *q.Gap; {
	case q.JustBegun():
		pace = PeriodStartsNow
	case gap < 0:
		pace = trim(-gap, 2) + " points behind pace"
	case gap > 0:
		pace = trim(gap, 2) + " points ahead of pace"
	}
	period := ""
	if q.PeriodStart != nil && q.PeriodEnd != nil {
		period = fmt.Sprintf(" (%s to %s)", q.PeriodStart.Format(time.DateOnly), q.PeriodEnd.Format(time.DateOnly))
	}
	cur := cmp.Or(q.Currency, o.Currency)
	fmt.Fprintf(b, "%s %s with %s of the period elapsed%s: %s; won %s of a %s quota  %s\n",
		paint(o.Color, ansiBold, "Quota attainment"), FormatValue(q.Attainment, "%", ""), FormatValue(q.ElapsedShare, "%", ""), period, pace,
		FormatValue(q.Won, "currency", cur), FormatValue(q.Quota, "currency", cur), mark)
	if q.Reason != "" {
		fmt.Fprintf(b, "  %s\n", q.Reason)
	}
}
