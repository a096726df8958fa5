package scorecard

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// MetricDetail is one metric with its definition, breakdown and the
// records behind its value: the drill-down of SPEC §4.
type MetricDetail struct {
	Definition Definition `json:"definition"`
	AsOf       time.Time  `json:"as_of"`
	// Month is as Scorecard's.
	Month string `json:"month,omitempty"`
	// Closing is as Scorecard's, for a metric a closing read changes
	// (ReadsClosing): pipeline coverage read with closing=1 is not.
	Closing   bool            `json:"closing,omitempty"`
	Card      Card            `json:"metric"`
	By        string          `json:"by,omitempty"`
	Breakdown []BreakdownLine `json:"breakdown,omitempty"`
	Records   []metrics.Ref   `json:"records"`
	// RecordsTotal is how many records are behind the value; the API
	// returns them a page at a time (RecordsOffset, RecordsLimit).
	RecordsTotal  int            `json:"records_total"`
	RecordsOffset int            `json:"records_offset,omitempty"`
	RecordsLimit  int            `json:"records_limit,omitempty"`
	Scope         *metrics.Scope `json:"scope,omitempty"`
	Dimensions    []string       `json:"dimensions"`
	// Problems are the data problems among the records behind the value
	// (a negative recovery span, a reference that links nothing).
	Problems []metrics.Problem `json:"problems"`
	// FlowStages are lead time's stages side by side, each with the
	// changes it rests on (lead_time_for_changes only).
	FlowStages []FlowStage `json:"flow_stages,omitempty"`
	// Customers are the customers behind a movement of the MRR bridge,
	// largest first, or a retention metric's cohort, largest at T0 first
	// (CustomersHeading), with their MRR at the start and at as_of.
	Customers []metrics.CustomerMove `json:"customers,omitempty"`
	// page is the page of records Page described, shared with other
	// readers of it (metrics.Page); nil before Page.
	page *metrics.Page
	// closes says a closing read changes what the metric reads
	// (ReadsClosing); Closing that this one was read so.
	closes bool
}

// EffectiveLabel is catalog.Metric.EffectiveLabel for the shown entry.
func (d Definition) EffectiveLabel() string {
	return catalog.Metric{Effective: d.Effective}.EffectiveLabel()
}

// EffectiveWords is the definition's EffectiveLabel as of the page's time:
// a value as of before the version took effect was computed with it all
// the same when no earlier version is kept — October's figures under
// "version 2, effective 2026-12-01" read as if an older definition had
// been used, and catalog history says the version is in force from the
// start. (A version the store does keep an earlier one of is not shown
// before its date: catalog.Metric.At picks the earlier.) An as_of at the
// date's first instant is before it too: its window ends there — a
// month's close (November's as_of is 1 December 00:00) had shown
// "effective 2026-12-01" without the note.
func (d *MetricDetail) EffectiveWords() string {
	label := d.Definition.EffectiveLabel()
	if !(catalog.Metric{Effective: d.Definition.Effective}).AppliesBefore(d.AsOf) {
		return label
	}
	return label + " (" + catalog.AppliesBeforeWords + ")"
}

// Definition is the catalog entry as shown with a value.
type Definition struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Pillar      string `json:"pillar"`
	Description string `json:"description"`
	// Summary is the definition in plain words (catalog.Metric.Summary).
	Summary string `json:"summary,omitempty"`
	Formula string `json:"formula"`
	Unit    string `json:"unit"`
	Better  string `json:"better"`
	Type    string `json:"type"`
	Owner   string `json:"owner"`
	Window  string `json:"window"`
	// Span says what the value covers when it is not the window
	// (catalog.Metric.Span; empty for the window).
	Span       string   `json:"span,omitempty"`
	Version    int      `json:"version"`
	Effective  string   `json:"effective"`
	Priority   string   `json:"priority"`
	Signoff    string   `json:"signoff"`
	SignoffBy  string   `json:"signoff_by"`
	Sources    []string `json:"sources"`
	Overridden []string `json:"overridden,omitempty"`
	// Retired is when the metric was retired: the page then shows the
	// version before and the status it had at that time.
	Retired *time.Time `json:"retired,omitempty"`
	// Settings are the value-changing settings the metric reads, as in
	// force at as_of: the Formula names their defaults, and these the
	// values the number was computed with.
	Settings []metrics.InForce `json:"settings,omitempty"`
	// Computation is an organisation's metric's computation in force at
	// as_of (nil for a built-in): its definition version above counts
	// changes of thresholds, target, window and owner only, so "version 1,
	// in effect for all data" had been all a page said of a value whose
	// filter or aggregate an approved custom_metrics section had changed.
	Computation *Computation `json:"computation,omitempty"`
}

// Computation is what computed an organisation's metric's value: the
// formula version its citation names, since when it is in force (nil:
// from the start) and the custom_metrics proposal that put it in force
// (named by the caller, from the governance state; 0 when unknown).
type Computation struct {
	Formula  int        `json:"formula_version"`
	Since    *time.Time `json:"since,omitempty"`
	Proposal int64      `json:"proposal,omitempty"`
	// Until is when a later computation replaced it (a value as of a past
	// date); nil while it is in force.
	Until *time.Time `json:"until,omitempty"`
}

// BreakdownLine is one group of a breakdown with its own status, judged
// like a card (Evaluate) under the scope and the line's group; Reason says
// why the status is unknown.
type BreakdownLine struct {
	Key    string         `json:"key"`
	Value  *float64       `json:"value"`
	Status catalog.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
	Count  int            `json:"count"`
	// ThresholdsFrom says whose thresholds judged the line (Card.ThresholdsFrom): a service's
	// line is judged by its own or its tier's where the metric has them.
	ThresholdsFrom string `json:"thresholds_from,omitempty"`
	// Needs is the metric's min_sample when the line is unknown for too
	// few cases (Reason is then its TooFew), 0 otherwise: pages that sum
	// up why lines are unknown count those as one reason whatever their n.
	Needs int `json:"-"`
	// NoOwnTarget is set when the line has a value but is unknown only for
	// want of a target of its own (SPEC §4: a breakdown line is judged
	// against its own target record, never the organisation's): pages show
	// it as not judged, not as unknown for missing data. The API's status
	// stays unknown.
	NoOwnTarget bool `json:"-"`
	// QuotaLeft is what a pipeline coverage line divides, for pages to say
	// (nil for other metrics).
	QuotaLeft *QuotaLeft `json:"-"`
}

// QuotaLeft is what a pipeline coverage value divides: the open pipeline
// closing in the quota period by what is left of the quota (the quota less
// what was won in the period so far). An owner close to their quota has
// little left, so even a modest pipeline covers it many times (98×): a
// real value that reads as an error unless the divisor is shown.
type QuotaLeft struct {
	Pipeline, Left, Quota float64
	Currency              string
}

// ErrNotComputed is returned (wrapped) by Detail for a catalog metric that
// has no computation yet.
var ErrNotComputed error = domain.Errorf(domain.ENotImplemented, "defined but not computed yet")

// DimensionError is a breakdown or scope dimension the metric does not
// support, or (Value set) a scope value no record has. Param says which
// request parameter named it ("by" or "scope"), so an API can point at the
// right one.
type DimensionError struct {
	Param, Metric, Dim string
	Dims               []string // the supported ones
	// Unknown is set for a value of Dim the data does not have (a typo, a
	// team that does not exist); it lists the values the data has.
	Unknown *metrics.UnknownValueError
}

// ErrorCode is invalid, and ErrorParam the parameter at fault
// (domain.Coder).
func (e *DimensionError) ErrorCode() domain.Code { return domain.EInvalid }
func (e *DimensionError) ErrorParam() string     { return e.Param }

func (e *DimensionError) Error() string {
	if e.Unknown != nil {
		return e.Unknown.Error()
	}
	if len(e.Dims) == 0 {
		return fmt.Sprintf("metric %s has no breakdown", e.Metric)
	}
	return fmt.Sprintf("metric %s cannot be broken down by %q (use one of: %s)", e.Metric, e.Dim, strings.Join(e.Dims, ", "))
}

// CheckScope returns scope in canonical form (environment aliases
// resolved) when the metric can be broken down by each of its dimensions
// and the data has each of its values; else a *DimensionError (param
// "scope") naming what is wrong.
func CheckScope(ds *metrics.Dataset, id string, scope metrics.Scope) (metrics.Scope, error) {
	dims := ds.Dims(id)
	for _, f := range scope.Filters() {
		if !slices.Contains(dims, f.Dim) {
			return scope, &DimensionError{Param: "scope", Metric: id, Dim: f.Dim, Dims: dims}
		}
	}
	scope = ds.CanonicalScope(scope)
	// An unknown value is a mistake to name, not an empty result (SPEC §4).
	var ue *metrics.UnknownValueError
	if err := ds.CheckScope(scope); errors.As(err, &ue) {
		return scope, &DimensionError{Param: "scope", Metric: id, Dim: ue.Dim, Dims: dims, Unknown: ue}
	} else if err != nil {
		return scope, err
	}
	return scope, nil
}

// Detail computes a metric's drill-down. by may be empty; scope narrows
// the value and records to one group.
func Detail(cat *catalog.Catalog, ds *metrics.Dataset, id string, opt Options, by string, scope metrics.Scope) (*MetricDetail, error) {
	m, ok := cat.MetricAt(id, opt.AsOf)
	if !ok {
		return nil, domain.Errorf(domain.ENotFound, "unknown metric %q", id)
	}
	if !Computed(m) {
		return nil, fmt.Errorf("metric %s is %w", id, ErrNotComputed)
	}
	// The records behind the value are never served stale, so neither is
	// the value they add up to, nor a breakdown of it; the window before
	// and the weekly series may be.
	opt.freshValue = true
	var retired *time.Time
	if m.Retired {
		// A retired metric's page shows what it was when retired.
		from := m.From
		retired, opt.AsOf = &from, from
		m = m.At(from.Add(-time.Nanosecond))
	}
	dims := Dims(m)
	check := func(param, dim string) error {
		if slices.Contains(dims, dim) {
			return nil
		}
		return &DimensionError{Param: param, Metric: id, Dim: dim, Dims: dims}
	}
	if by != "" {
		if err := check("by", by); err != nil {
			return nil, err
		}
	}
	// Canonical by the environment aliases in force at as_of, under which
	// the value is computed: today's had read "live" as production's
	// alias as of a time it was an environment of its own.
	scope, err := CheckScope(ds.At(opt.AsOf), id, scope)
	if err != nil {
		return nil, err
	}
	win := m.Window
	if opt.Window > 0 {
		win = opt.Window
	}
	d := &MetricDetail{
		Definition: Definition{
			ID: m.ID, Name: m.Name, Pillar: m.Pillar, Description: m.Description, Summary: m.Summary, Formula: m.Formula,
			Unit: m.Unit, Better: m.Better, Type: m.Type, Owner: m.Owner, Window: catalog.FormatWindow(win), Span: m.Span,
			Version: m.Version, Effective: m.Effective, Overridden: m.Overridden,
			Priority: m.Priority, Signoff: m.Signoff, SignoffBy: m.SignoffBy,
		},
		AsOf: opt.AsOf.UTC(), Closing: opt.Closing && ReadsClosing(m), closes: ReadsClosing(m), By: by, Dimensions: dims,
	}
	d.Definition.Retired = retired
	if opt.Window > 0 {
		d.Month = catalog.MonthField(d.AsOf, opt.Window)
	}
	// What put each in force is named by the caller (SettingSource.Name),
	// from the governance state it read before the engine's read.
	d.Definition.Settings = ds.At(opt.AsOf).SettingsInForce(m.ID)
	if formula, since, until, ok := ds.CustomComputation(m.ID, opt.AsOf); ok {
		c := &Computation{Formula: formula}
		if !since.IsZero() {
			c.Since = &since
		}
		if !until.IsZero() {
			c.Until = &until
		}
		d.Definition.Computation = c
	}
	for _, s := range m.Sources {
		d.Definition.Sources = append(d.Definition.Sources, s.Kind)
	}
	if !scope.IsZero() {
		d.Scope = &scope
	}
	d.Card = Evaluate(ds, m, opt, scope, true)
	judgeCard(cat, ds, m, opt, scope, &d.Card)
	res, err := ds.At(opt.AsOf).Compute(id, metrics.Query{AsOf: opt.AsOf, Window: win, Scope: scope, Records: true, Closing: opt.Closing})
	if err != nil {
		return nil, err
	}
	d.Records = res.Records
	if d.Records == nil {
		d.Records = []metrics.Ref{}
	}
	d.RecordsTotal = len(d.Records)
	d.Problems = res.Problems
	if d.Problems == nil {
		d.Problems = []metrics.Problem{}
	}
	d.Customers = res.Detail.Customers
	if id == LeadTime {
		// The stages over lead time's own window and scope.
		so := opt
		so.Window = win
		d.FlowStages = flowStages(cat, ds, so, scope)
	}
	if by != "" {
		if d.Breakdown, err = breakdownIn(cat, ds, m, opt, by, scope); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// judgeCard gives the card of a metric judged by another (infrastructure_cost
// by budget_variance) that metric's status for the same scope. Without it
// the drill-down and every breakdown line would say unknown, with no reason,
// while the scorecard shows the other metric's colour.
func judgeCard(cat *catalog.Catalog, ds *metrics.Dataset, m *catalog.Metric, opt Options, scope metrics.Scope, c *Card) {
	om, ok := cat.Metric(m.JudgedBy)
	if !ok {
		return
	}
	for _, f := range scope.Filters() {
		if !slices.Contains(Dims(om), f.Dim) {
			// The judging metric has no value for this group (no budget
			// per service): the group has nothing to be judged against.
			// Its value is sound, so it is not judged rather than unknown
			// (NoTarget), as a line without a target of its own: pages had
			// given every team's infrastructure cost unknown's chip, as if
			// its costs were missing.
			if c.Reason == "" {
				c.Status = catalog.Unknown
				c.Reason = fmt.Sprintf("no target set: judged by %s, which has no value per %s", om.ID, f.Dim)
				c.NoTarget = true
			}
			return
		}
	}
	o := Evaluate(ds, om, opt, scope, false)
	judgeBy(c, &o)
}

// breakdown evaluates the metric for every group of a dimension, each line
// with its own status.
func breakdown(cat *catalog.Catalog, ds *metrics.Dataset, m *catalog.Metric, opt Options, by string) ([]BreakdownLine, error) {
	return breakdownIn(cat, ds, m, opt, by, metrics.Scope{})
}

// breakdownIn is breakdown within a scope: the lines are the dimension's
// values within the scope, each computed and judged under the scope's
// filters and its own.
func breakdownIn(cat *catalog.Catalog, ds *metrics.Dataset, m *catalog.Metric, opt Options, by string, scope metrics.Scope) ([]BreakdownLine, error) {
	win := m.Window
	if opt.Window > 0 {
		win = opt.Window
	}
	groups, err := ds.At(opt.AsOf).Breakdown(m.ID, metrics.Query{AsOf: opt.AsOf, Window: win, Scope: scope, Stale: opt.valueStale(), Closing: opt.Closing}, by)
	if err != nil {
		return nil, err
	}
	var out []BreakdownLine
	for _, g := range groups {
		gs, _ := scope.And(by, g.Key) // Breakdown had room for it
		c := Evaluate(ds, m, opt, gs, false)
		judgeCard(cat, ds, m, opt, gs, &c)
		l := BreakdownLine{Key: g.Key, Value: g.Value, Status: c.Status, Reason: c.Reason, Count: g.Count, ThresholdsFrom: c.ThresholdsFrom}
		if few := m.TooFew(g.Count); few != "" && few == c.Reason {
			l.Needs = m.MinSample
		}
		l.NoOwnTarget = c.NoTarget && c.Status == catalog.Unknown && g.Value != nil
		if d := c.Detail; d.Pipeline != nil && d.Remaining != nil && d.Quota != nil {
			l.QuotaLeft = &QuotaLeft{Pipeline: *d.Pipeline, Left: *d.Remaining, Quota: *d.Quota, Currency: d.Currency}
		}
		out = append(out, l)
	}
	return out, nil
}

// thresholdsFromText names, in parentheses, the tier or service whose thresholds judged a value;
// nothing for the organisation's, the usual case.
func thresholdsFromText(from string) string {
	if from == "" || from == catalog.FromOrganisation {
		return ""
	}
	return " (" + from + ")"
}

// sharedReason is the reason every line of a breakdown gives, when they
// all give one and the same: said once above them rather than on each line
// (release impact by service had repeated "no target set: 30 is the
// organisation's target, …" on each of twelve lines). "" otherwise.
func sharedReason(lines []BreakdownLine) string {
	if len(lines) < 2 {
		return ""
	}
	for _, l := range lines[1:] {
		if l.Reason != lines[0].Reason {
			return ""
		}
	}
	return lines[0].Reason
}

// breakdownLineText renders a breakdown line for people, its reason beside
// an unknown status. Its count is the cases the value rests on, "n = 72"
// as the pages say: customers for logo churn by plan, tickets for SLA
// adherence — "(72 records)" had called customers records.
func breakdownLineText(l BreakdownLine, unit string, o TextOptions) string {
	s := fmt.Sprintf("%-28s %14s  %s  (n = %d)", l.Key, FormatValue(l.Value, unit, o.Currency),
		paint(o.Color, statusColor[l.Status], fmt.Sprintf("%-7s", statusMark[l.Status])), l.Count)
	if l.Reason != "" {
		s += "  " + paint(o.Color, ansiDim, l.Reason)
	}
	if thresholdsFromText(l.ThresholdsFrom) != "" {
		s += "  " + paint(o.Color, ansiDim, l.ThresholdsFrom+" thresholds")
	}
	return s
}

// DetailText renders a drill-down for people.
func DetailText(d *MetricDetail, o TextOptions) string {
	var b strings.Builder
	c := d.Card
	def := d.Definition
	fmt.Fprintf(&b, "%s (%s) — %s, v%d %s\n", paint(o.Color, ansiBold, def.Name), def.ID, def.Pillar, def.Version, d.EffectiveWords())
	if def.Summary != "" {
		fmt.Fprintf(&b, "%s\nDefinition: %s\n", def.Summary, def.Description)
	} else {
		fmt.Fprintf(&b, "%s\n", def.Description)
	}
	if def.Formula != "" {
		fmt.Fprintf(&b, "Formula: %s\n", strings.TrimSpace(def.Formula))
	}
	if def.Computation != nil {
		fmt.Fprintf(&b, "Computation: %s\n", def.Computation.Words())
	}
	if len(def.Settings) > 0 {
		var ss []string
		for _, st := range def.Settings {
			ss = append(ss, SettingInForceText(st))
		}
		fmt.Fprintf(&b, "Settings in force: %s\n", strings.Join(ss, "; "))
	}
	fmt.Fprintf(&b, "Owner: %s · unit %s · %s is better · %s · sources %s\n", def.Owner, def.Unit, def.Better, def.Type, strings.Join(def.Sources, ", "))
	// "window 30d" of a metric that ignores the window (a quota period,
	// a state) would say it covers what it does not.
	label, words := d.Covers()
	fmt.Fprintf(&b, "%s: %s\n", label, words)
	fmt.Fprintf(&b, "Priority %s\n", SignoffLine(def.Priority, def.Signoff, def.SignoffBy))
	if d.Scope != nil {
		var fs []string
		for _, f := range d.Scope.Filters() {
			fs = append(fs, f.Dim+" = "+f.Value)
		}
		fmt.Fprintf(&b, "Scope: %s\n", strings.Join(fs, ", "))
	}
	if d.Closing {
		fmt.Fprintf(&b, "\n%s", ClosingWords)
	}
	fmt.Fprintf(&b, "\nAs of %s: %s  %s  %s", d.AsOf.Format(time.RFC3339), FormatValue(c.Value, c.Unit, o.Currency),
		paint(o.Color, statusColor[c.Status], statusMark[c.Status]), trendText(c.Trend))
	if c.Trend.Previous != nil {
		now, before, fine := TrendFigures(c.Value, c.Trend.Previous, c.Unit, o.Currency)
		finer := ""
		if fine {
			finer = ", now " + now + ": a move finer than the figure shows"
		}
		if _, _, isMonth := MonthBefore(def.Span, c.Window, d.AsOf); isMonth {
			fmt.Fprintf(&b, " (vs %s %s%s)", before, TrendBefore(def.Span, c.Window, d.AsOf), finer)
		} else {
			fmt.Fprintf(&b, " (previous window %s%s)", before, finer)
		}
	}
	if why := c.Trend.NotComparable; why != "" {
		fmt.Fprintf(&b, " (%s)", ReadableTimes(why, cliTime))
	}
	b.WriteString("\n")
	if c.Reason != "" {
		fmt.Fprintf(&b, "Why: %s\n", ReadableTimes(c.Reason, cliTime))
	}
	if c.Thresholds != nil {
		fmt.Fprintf(&b, "Thresholds%s: %s%s\n", thresholdsFromText(c.ThresholdsFrom), ThresholdRule(c.ShownThresholds(), c.Better, c.Unit, o.Currency), c.Scaled())
	}
	if c.Baseline != nil {
		fmt.Fprintf(&b, "Baseline: %s\n", FormatValue(c.Baseline, c.Unit, o.Currency))
	}
	if c.Target != nil {
		fmt.Fprintf(&b, "Target: %s%s\n", FormatValue(c.Target, c.Unit, o.Currency), c.Scaled())
	}
	if c.DORALevel != "" {
		fmt.Fprintf(&b, "DORA level: %s\n", c.DORALevel)
	}
	if p := c.Partial; p != nil {
		fmt.Fprintf(&b, "Reported: %s data to %s; the window's last %s are not reported yet\n", p.Kind, p.Until.UTC().Format(time.RFC3339), p.Short)
	}
	if q := c.Quiet; q != nil {
		fmt.Fprintf(&b, "Changes: no %s record changed in the window; the newest change is from %s, before it began (a state, never judged stale by its records' times: check that its feed still runs)\n",
			q.Kind, q.Newest.UTC().Format(time.RFC3339))
	}
	if v := c.Detail.DeploymentDaysPerWeek; v != nil {
		fmt.Fprintf(&b, "Deployment days per week: %s (median over the window's full weeks)\n", trim(*v, 1))
	}
	for _, f := range BesideFacts(c.Detail) {
		fmt.Fprintf(&b, "%s: %s\n", f.Label, f.Text)
	}
	if s := cohortNote(c.Detail); s != "" {
		fmt.Fprintf(&b, "%s\n", strings.ToUpper(s[:1])+s[1:])
	}
	if s := stagesText(c.Detail); s != "" {
		fmt.Fprintf(&b, "%s\n", strings.ToUpper(s[:1])+s[1:])
	}
	if c.Degrading {
		b.WriteString("DEGRADING: worse in each of the last three weekly windows\n")
	}
	if len(c.Series) > 0 {
		b.WriteString(strings.ToUpper(seriesHead(c.Series)[:1]) + seriesHead(c.Series)[1:] + ": ")
		for i, p := range c.Series {
			switch {
			case p.NewPeriod:
				b.WriteString(" | new period: ")
			case p.Recomputed:
				b.WriteString(" | recomputed: ")
			case i > 0:
				b.WriteString(" · ")
			}
			b.WriteString(pointText(p, c.Unit, o))
		}
		b.WriteString("\n")
	}
	if d.By != "" {
		shared := sharedReason(d.Breakdown)
		fmt.Fprintf(&b, "\nBy %s:\n", d.By)
		if shared != "" {
			fmt.Fprintf(&b, "  %s\n", paint(o.Color, ansiDim, "every line: "+shared))
		}
		for _, l := range ReadingOrder(d.Breakdown, d.By, c.Better) {
			if shared != "" {
				l.Reason = ""
			}
			fmt.Fprintf(&b, "  %s\n", breakdownLineText(l, c.Unit, o))
		}
	}
	if len(d.FlowStages) > 0 {
		b.WriteString("\n")
		writeFlowStages(&b, d.FlowStages, o)
	}
	writeCustomers(&b, d.Definition.ID, d.Customers, cmp.Or(c.Detail.Currency, o.Currency))
	writeRecords(&b, d)
	writeProblems(&b, d.Problems)
	return b.String()
}

// TextRecords is how many records the text drill-down lists; JSON pages
// through them all.
const TextRecords = 50

// writeRecords lists the records behind the value: per run of one kind a
// header of its row fields, then a row per record, columns aligned.
func writeRecords(b *strings.Builder, d *MetricDetail) {
	total := max(d.RecordsTotal, len(d.Records))
	rows := d.Records[:min(len(d.Records), TextRecords)]
	fmt.Fprintf(b, "\nRecords behind the value (%d)", total)
	if len(rows) > 0 && (d.RecordsOffset > 0 || len(rows) < total) {
		fmt.Fprintf(b, ", %d–%d shown", d.RecordsOffset+1, d.RecordsOffset+len(rows))
	}
	b.WriteString(":\n")
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Kind == rows[i].Kind {
			j++
		}
		writeKindRun(b, rows[i:j], d.Definition.Unit)
		i = j
	}
	if rest := total - d.RecordsOffset - len(rows); rest > 0 {
		fmt.Fprintf(b, "  … %d more (--format json lists all)\n", rest)
	}
	if len(rows) > 0 {
		b.WriteString("  (candor record KIND SOURCE ID shows one in full, with its provenance)\n")
	}
}

// writeKindRun writes records of one kind, under a metric in unit, as a
// table, money as the pages' records tables write it.
func writeKindRun(b *strings.Builder, run []metrics.Ref, unit string) {
	var names []string
	hasValue, hasNote := false, false
	for _, r := range run {
		hasValue = hasValue || r.Value != nil
		hasNote = hasNote || r.Note != ""
		if r.Fields != nil {
			// Fields are filled for a page (Page); without one, ids only.
			names = metrics.FieldNames(r.Kind)
		}
	}
	header := append([]string{"record"}, names...)
	if hasValue {
		header = append(header, "value")
	}
	if hasNote {
		header = append(header, "note")
	}
	table := [][]string{header}
	moneyRecords := slices.Contains(names, "currency")
	for _, r := range run {
		cells := []string{fmt.Sprintf("%s %s/%s", r.Kind, r.Source, r.ID)}
		for _, n := range names {
			v := r.Fields.Get(n)
			if s, ok := AmountText(v); ok && MoneyColumn(n, unit, moneyRecords) {
				cells = append(cells, s)
				continue
			}
			if t, ok := v.(time.Time); ok && n == "period_end" {
				start, _ := r.Fields.Get("period_start").(time.Time)
				if s, ok := PeriodEndText(start, t); ok {
					cells = append(cells, s)
					continue
				}
			}
			if t, ok := v.(time.Time); ok && n == "period_start" {
				end, _ := r.Fields.Get("period_end").(time.Time)
				if s, ok := PeriodStartText(t, end); ok {
					cells = append(cells, s)
					continue
				}
			}
			cells = append(cells, fieldText(v))
		}
		if hasValue {
			v := ""
			if r.Value != nil {
				v = trim(*r.Value, 2)
				if MoneyColumn("value", unit, moneyRecords) {
					v, _ = AmountText(*r.Value)
				}
			}
			cells = append(cells, v)
		}
		if hasNote {
			cells = append(cells, r.Note)
		}
		table = append(table, cells)
	}
	width := make([]int, len(header))
	for _, cells := range table {
		for c, s := range cells {
			width[c] = max(width[c], utf8.RuneCountInString(s))
		}
	}
	for _, cells := range table {
		var line strings.Builder
		line.WriteString(" ")
		for c, s := range cells {
			fmt.Fprintf(&line, " %s%s", s, strings.Repeat(" ", width[c]-utf8.RuneCountInString(s)))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
}

// fieldText shows a row field for people; "—" for one that is absent.
// PeriodEndText words a period's end, which is exclusive (SPEC §3: a
// quarter ends at 1 Jan 00:00), as the period's last day, inclusive ("31
// Dec 2026", as the CRO view's quota pace "1 Oct 2026 – 31 Dec 2026"); ok
// is false unless the period is of whole days — its start (when known:
// not zero) and its end at midnight UTC. An SLI's hour from 23:00 had read
// "5 Nov 23:00 → 5 Nov", ending before it began, and one from midnight
// "6 Nov → 6 Nov 01:00": such ends are the instants they are, worded as
// the caller words instants. The pages and the CLI word a period's end
// by it.
func PeriodEndText(start, end time.Time) (text string, ok bool) {
	day := func(t time.Time) bool { t = t.UTC(); return t.Equal(t.Truncate(24 * time.Hour)) }
	if !day(end) || !start.IsZero() && !day(start) {
		return "", false
	}
	return end.UTC().AddDate(0, 0, -1).Format("2 Jan 2006"), true
}

// PeriodStartText words a period's start as PeriodEndText words its end:
// a period of whole days by its first day ("1 Oct 2026" beside "31 Dec
// 2026", where "2026-10-01T00:00:00Z" had stood); ok is false for any
// other, and for an end not known.
func PeriodStartText(start, end time.Time) (text string, ok bool) {
	if _, whole := PeriodEndText(start, end); !whole || end.IsZero() {
		return "", false
	}
	return start.UTC().Format("2 Jan 2006"), true
}

func fieldText(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case time.Time:
		return x.Format(time.RFC3339)
	case float64:
		return trim(x, 4)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// NotedOrder says how a table of a kind's records opens, on a metric page
// and in candor metric alike: noted is how many the metric notes (a rate's
// failures, the recurrences); when it notes some and not the others
// (first), those come first, each group newest first by col, the kind's
// defining time ("" for a service, which has none: the metric's order
// within each group).
func NotedOrder(kind domain.Kind, refs []metrics.Ref) (noted int, first bool, col string) {
	for _, r := range refs {
		if r.Note != "" {
			noted++
		}
	}
	if noted == 0 || noted == len(refs) {
		return noted, false, ""
	}
	// Every kind's first row field is its defining time, but a service's.
	if names := metrics.FieldNames(kind); len(names) > 0 && kind != domain.KindService {
		col = names[0]
	}
	return noted, true, col
}

// NotedFirst orders each kind's records as a metric page's records table
// opens (web's defaultSort): where the metric notes some of the kind's
// records and not the others — a rate's failures, the recurrences — those
// come first, newest first by the kind's defining time, then the others,
// newest first too; a kind whose records it notes all or none of keeps the
// metric's order. candor metric lists the first records so, where the
// metric's own order, oldest first, had left a rate's failures among the
// hundreds that did not fail, or past the rows shown. It reads the times
// of a kind it reorders from ds as of d.AsOf: call it under the engine's
// read lock, before Page.
func (d *MetricDetail) NotedFirst(ds *metrics.Dataset) {
	var kinds []domain.Kind
	byKind := map[domain.Kind][]metrics.Ref{}
	for _, r := range d.Records {
		if _, ok := byKind[r.Kind]; !ok {
			kinds = append(kinds, r.Kind)
		}
		byKind[r.Kind] = append(byKind[r.Kind], r)
	}
	out := make([]metrics.Ref, 0, len(d.Records))
	for _, k := range kinds {
		refs := byKind[k]
		_, first, col := NotedOrder(k, refs)
		if !first {
			out = append(out, refs...)
			continue
		}
		at := make([]int64, len(refs))
		if col != "" {
			for i, r := range ds.Describe(refs, d.AsOf) {
				if t, ok := r.Fields.Get(col).(time.Time); ok {
					at[i] = t.UnixNano()
				} else {
					at[i] = math.MinInt64 // no time: last in its group
				}
			}
		}
		idx := make([]int, len(refs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(i, j int) int {
			ni, nj := refs[i].Note == "", refs[j].Note == ""
			if ni != nj {
				if nj {
					return -1
				}
				return 1
			}
			if col == "" {
				return 0 // the metric's order within each group
			}
			// Newest first; a tie by id, descending, as the page sorts one.
			return cmp.Or(cmp.Compare(at[j], at[i]), strings.Compare(refs[j].ID, refs[i].ID))
		})
		for _, i := range idx {
			out = append(out, refs[i])
		}
	}
	d.Records = out
}

// Page keeps the records in [offset, offset+limit) (limit > 0), each with
// its row fields as of the drill-down's as_of. Only the page is looked up,
// and into a copy: the full list is the result cache's.
func (d *MetricDetail) Page(ds *metrics.Dataset, offset, limit int) {
	d.RecordsOffset, d.RecordsLimit = offset, limit
	lo := min(offset, len(d.Records))
	hi := min(lo+limit, len(d.Records))
	// Kept for the next reader of the same page until rows are applied, and
	// its JSON with it (metrics.Page).
	d.page = ds.DescribePage(d.Records[lo:hi], d.AsOf)
	d.Records = d.page.Refs
}

// SettingInForceText says a setting in force and where it comes from:
// "gross margin 0.7 (proposal 3, in force from 5 Dec 2026)", "currency USD
// (the default)".
// SettingSource says what put a setting in force at a time and from when
// ("proposal 3" and its approval; "configuration" and zero; "" for the
// default): governance.State.SettingSource.
type SettingSource func(name string, at time.Time) (ref string, since time.Time)

// Name gives each of settings, as in force at at, what put it there
// (nothing without a source): a metric's page, `candor metric` and the
// board pack name them so. Callers read the governance state before the
// engine's read, never inside it: a state newer than the process's
// reloads and sets the engine's epochs under its write lock, so the read
// then sees the values the sources name — and read inside the engine's
// read, it had hung the server once another instance approved a setting.
func (src SettingSource) Name(settings []metrics.InForce, at time.Time) {
	if src == nil {
		return
	}
	for i, st := range settings {
		settings[i].Ref, settings[i].Since = src(string(st.Name), at)
	}
}

// Words says what computed the value: "formula 123 (drawn from its text: …), in force from
// 6 Dec 2026 11:04 UTC (proposal 53)", for all data, or until a later
// computation replaced it.
func (c *Computation) Words() string {
	if c == nil {
		return ""
	}
	const at = "2 Jan 2006 15:04 UTC"
	// The number is drawn from a hash of the computation's text: read as
	// a version ("formula version 1142332629") it looked like a count of
	// changes.
	w := fmt.Sprintf("formula %d (drawn from its text: another text, another number), in force ", c.Formula)
	switch {
	case c.Since == nil && c.Until == nil:
		return w + "for all data"
	case c.Since == nil:
		w += "from the start"
	default:
		w += "from " + c.Since.UTC().Format(at)
		if c.Proposal != 0 {
			w += fmt.Sprintf(" (proposal %d)", c.Proposal)
		}
	}
	if c.Until != nil {
		w += " until " + c.Until.UTC().Format(at) + ", when another replaced it"
	}
	return w
}

// ComputationSource gives the custom_metrics proposal whose approval took
// effect at since (0 for none), to name what put an organisation's
// metric's computation in force; read before the engine's read, as
// SettingSource is.
type ComputationSource func(since time.Time) int64

// Name sets c's proposal (c nil, or in force from the start: nothing).
func (src ComputationSource) Name(c *Computation) {
	if src == nil || c == nil || c.Since == nil {
		return
	}
	c.Proposal = src(*c.Since)
}

func SettingInForceText(s metrics.InForce) string {
	setting, from := SettingInForceParts(s)
	return setting + " (" + from + ")"
}

// SettingInForceParts are SettingInForceText's two parts: the setting
// with its value, and what put it in force — which begins with s.Ref when
// a proposal did, so a page can link it.
func SettingInForceParts(s metrics.InForce) (setting, from string) {
	from = "the default"
	switch {
	case s.Ref != "" && !s.Since.IsZero():
		from = fmt.Sprintf("%s, in force from %s", s.Ref, s.Since.UTC().Format("2 Jan 2006 15:04 UTC"))
	case s.Ref != "":
		from = s.Ref
	case !s.Default:
		from = "configured"
	}
	return strings.ReplaceAll(string(s.Name), "_", " ") + " " + settingValueWords(reflect.ValueOf(s.Value)), from
}

// aliasWords words a map of names to the names they stand for (the
// environment aliases) by what they stand for: "production (also live,
// prd, prod)", where "live: production, …, production: production" had
// listed each alias and the name as its own alias.
func aliasWords(v reflect.Value) string {
	also := map[string][]string{}
	for _, k := range v.MapKeys() {
		name, to := k.String(), v.MapIndex(k).String()
		if _, ok := also[to]; !ok {
			also[to] = nil
		}
		if name != to {
			also[to] = append(also[to], name)
		}
	}
	var items []string
	for _, to := range slices.Sorted(maps.Keys(also)) {
		if names := also[to]; len(names) > 0 {
			slices.Sort(names)
			items = append(items, fmt.Sprintf("%s (also %s)", to, strings.Join(names, ", ")))
		} else {
			items = append(items, to)
		}
	}
	return strings.Join(items, "; ")
}

// SettingValueText words a setting's effective value as SettingInForceText
// does: "1d", "live, prd, prod, production".
func SettingValueText(v any) string { return settingValueWords(reflect.ValueOf(v)) }

// DefaultSettingText words a setting's default as a proposal recorded it
// (its effective value's JSON) as a metric's page words it: "1d" where the
// JSON is nanoseconds. ok is false when raw does not read as the
// setting's value.
func DefaultSettingText(name string, raw json.RawMessage) (string, bool) {
	v, err := metrics.EffectiveValue(metrics.Setting(name), raw)
	if err != nil {
		return "", false
	}
	return SettingValueText(v), true
}

// settingValueWords writes a setting's effective value as the
// configuration would: durations as windows (24h, 90d), lists and maps
// by their items, a calendar by its String.
func settingValueWords(v reflect.Value) string {
	if !v.IsValid() {
		return "none"
	}
	if v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "none"
		}
		return settingValueWords(v.Elem())
	}
	switch x := v.Interface().(type) {
	case time.Duration:
		return catalog.FormatWindow(x)
	case fmt.Stringer:
		return x.String()
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return "none"
		}
		items := make([]string, v.Len())
		for i := range items {
			items[i] = settingValueWords(v.Index(i))
		}
		return strings.Join(items, ", ")
	case reflect.Map:
		if v.Len() == 0 {
			return "none"
		}
		if v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String {
			return aliasWords(v)
		}
		var items []string
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Interface {
				e = e.Elem()
			}
			if e.Kind() == reflect.Map {
				items = append(items, fmt.Sprintf("%v (%s)", k.Interface(), settingValueWords(e)))
				continue
			}
			items = append(items, fmt.Sprintf("%v: %s", k.Interface(), settingValueWords(e)))
		}
		slices.Sort(items)
		return strings.Join(items, ", ")
	}
	return fmt.Sprint(v.Interface())
}

// seriesHead heads a weekly series in text with the span its points cover,
// as the pages' charts date their axes: "weekly, 8 Mar – 31 May 2026,
// oldest first". A bare "weekly: 22.8 h · 22.4 h …" had said neither which
// weeks nor which end of the list was the latest.
func seriesHead(series []Point) string {
	from, to := series[0].Start.UTC(), series[len(series)-1].End.UTC()
	first := from.Format("2 Jan")
	if from.Year() != to.Year() {
		first = from.Format("2 Jan 2006")
	}
	return fmt.Sprintf("weekly, %s – %s, oldest first", first, to.Format("2 Jan 2006"))
}

// WorstFirst is the order to read a breakdown's lines in, as positions
// in lines: red, then amber, then the rest, each worst value first by
// the metric's direction (better "lower" or "higher"), then lines on
// too few cases to be judged (their values say little), lines without a
// value last; ties keep the breakdown's order. The metric page lists a
// breakdown so (but by an ordinal dimension, OrdinalBreakdown), and a
// role view's panel keeps the first of it when the lines do not fit.
func WorstFirst(lines []BreakdownLine, better string) []int {
	rank := func(l BreakdownLine) int {
		switch {
		case l.Value == nil:
			return 4
		case l.Needs > 0:
			return 3
		case l.Status == catalog.Red:
			return 0
		case l.Status == catalog.Amber:
			return 1
		}
		return 2
	}
	idx := make([]int, len(lines))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		a, b := lines[i], lines[j]
		if c := cmp.Compare(rank(a), rank(b)); c != 0 || a.Value == nil {
			return c
		}
		if better == "lower" {
			return cmp.Compare(*b.Value, *a.Value)
		}
		return cmp.Compare(*a.Value, *b.Value)
	})
	return idx
}

// ReadingOrder is the order a breakdown's lines are listed in for a
// reader — the metric page, a role view's panel, `candor metric --by`:
// the lines to look at first at the top (WorstFirst), where the
// breakdown's own, alphabetical order had left "which service is worst"
// to be read off the bars; a dimension with an order of its own keeps it.
// The API keeps the breakdown's order.
func ReadingOrder(lines []BreakdownLine, by, better string) []BreakdownLine {
	if OrdinalBreakdown(by) {
		return lines
	}
	out := make([]BreakdownLine, 0, len(lines))
	for _, i := range WorstFirst(lines, better) {
		out = append(out, lines[i])
	}
	return out
}

// PanelLines is at most n of a breakdown's lines by by, as a role view
// shows them (its page's panel and candor view alike), in the order the
// metric page lists them (ReadingOrder): red, then amber, then the other
// lines with a value, each worst value first by the metric's direction,
// then those on too few cases and without a value. When the other lines
// do not all fit, the room left after red and amber goes to the worst and
// the best of them alike, and the middle ones are left out: keeping only
// the worst had shown a VP Marketing twelve campaigns at "0 %" and left
// out the three that converted. Taking the first n in the breakdown's
// (alphabetical) order had left out the very line that sets a worst-of
// metric's value (release impact's worst service, "search", the 13th of
// 13 on the support view). By an ordinal dimension the n worst are kept,
// in its own order. Gap is where in the lines the left-out ones fall
// (len(lines) when at the end or none is).
func PanelLines(lines []BreakdownLine, by, better string, n int) (shown []BreakdownLine, gap int) {
	if len(lines) <= n {
		return ReadingOrder(lines, by, better), len(lines)
	}
	order := WorstFirst(lines, better)
	if OrdinalBreakdown(by) {
		keep := slices.Clone(order[:n])
		slices.Sort(keep)
		for _, i := range keep {
			shown = append(shown, lines[i])
		}
		return shown, n
	}
	head, comparable := 0, 0
	for _, i := range order {
		switch l := lines[i]; {
		case l.Value != nil && l.Needs == 0 && (l.Status == catalog.Red || l.Status == catalog.Amber):
			head++
		case l.Value != nil && l.Needs == 0:
			comparable++
		}
	}
	room := n - head
	if room <= 1 || comparable <= room {
		for _, i := range order[:n] {
			shown = append(shown, lines[i])
		}
		return shown, n
	}
	worst := (room + 1) / 2
	for _, i := range order[:head+worst] {
		shown = append(shown, lines[i])
	}
	gap = len(shown)
	for _, i := range order[head+comparable-(room-worst) : head+comparable] {
		shown = append(shown, lines[i])
	}
	return shown, gap
}

// OrdinalBreakdown says a dimension's values have an order of their own
// (tier 1 before tier 2), which a breakdown by it keeps. Not a ticket's
// priority: its breakdown's order is alphabetical (high, low, normal,
// urgent), no order of the priorities', so it too lists worst first.
func OrdinalBreakdown(by string) bool { return by == "tier" }
