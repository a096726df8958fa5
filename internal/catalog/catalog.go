// Package catalog holds Candor's built-in metric catalog (SPEC §3) as data: the definitions live in
// catalog.yaml, embedded in the binary, so that the documentation, the validation rules and the
// computation all read one source of truth. The package also judges a value against a metric's
// thresholds (SPEC §4), applies an organisation's overrides (SPEC §5) and renders docs/metrics.md.
//
// It computes no metric values: it knows what a metric means, not the records behind it.
package catalog

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

//go:embed catalog.yaml
var builtinYAML []byte

// builtinName is how errors in the embedded file name it, so a broken build points at the file.
const builtinName = "internal/catalog/catalog.yaml"

// Source is a record kind a metric reads and how old its newest record may be before the metric
// is unknown (SPEC §4).
type Source struct {
	Kind      string
	Freshness time.Duration
}

// Thresholds are a metric's green and amber bounds; see Judge and the header of catalog.yaml.
// RelativeTo is "" (absolute bounds in the metric's unit), "target" (factors of the target),
// "elapsed" (bounds scaled by the elapsed share of the period) or "baseline" (factors of the value
// of the metric's Baseline, its own history).
//
// The JSON names are the YAML's, as the scorecard and the evidence pack write thresholds: a
// definition's versions (governance.Version) are served with these.
type Thresholds struct {
	Green      float64 `yaml:"green" json:"green"`
	Amber      float64 `yaml:"amber" json:"amber"`
	RelativeTo string  `yaml:"relative_to,omitempty" json:"relative_to,omitempty"`
}

// Relative-to values of Thresholds.
const (
	RelativeToTarget   = "target"
	RelativeToElapsed  = "elapsed"
	RelativeToBaseline = "baseline"
)

// What a metric's value covers (Metric.Span).
const (
	SpanWindow       = ""
	SpanInstant      = "instant"
	SpanYear         = "year"
	SpanQuotaPeriod  = "quota_period"
	SpanBeforeWindow = "before_window"
	// SpanCohort: the leads created over a window's length ending a
	// maturation lag before as_of, followed to as_of (funnel conversion).
	SpanCohort = "cohort"
	// SpanNinetyDays: the 90 days before as_of whatever the window, a
	// look-back the definition fixes (security incidents, SPEC §3): a
	// week's trend point and a month's page had said they covered their
	// week and month.
	SpanNinetyDays = "90_days"
)

// Spans are the values Metric.Span may take besides SpanWindow.
var Spans = []string{SpanInstant, SpanYear, SpanQuotaPeriod, SpanBeforeWindow, SpanCohort, SpanNinetyDays}

// Directions of Metric.Better and kinds of Metric.Type.
const (
	Higher  = "higher"
	Lower   = "lower"
	Leading = "leading"
	Lagging = "lagging"
)

// Metric is one governed KPI definition.
type Metric struct {
	ID, Name, Pillar, Description, Formula, Unit, Better, Type, Owner string
	// Summary says in plain words what the metric tells, for a reader who
	// will not read the formula: a page's first line. Optional (an
	// organisation's own metric may have none: Description stands in).
	Summary string

	Window time.Duration

	// Thresholds is nil exactly when JudgedBy is set: such a metric shows another metric's
	// status (infrastructure_cost shows budget_variance's).
	Thresholds *Thresholds
	JudgedBy   string
	// ThresholdsByTier and ThresholdsByService replace Thresholds for a scope or breakdown line
	// of that service tier (1–3) or that service (SPEC §3: a tier-1 payment service need not
	// share a tier-3 batch job's bar): a service's own win over its tier's, which win over
	// Thresholds (ThresholdsFor). Each is relative to what Thresholds is relative to. Keyed by
	// tier number and by service id, so a governance proposal can name one entry.
	ThresholdsByTier    map[int]Thresholds
	ThresholdsByService map[string]Thresholds
	// Baseline is the metric whose value thresholds relative to "baseline" scale, in the same
	// scope and window (mttr: mttr_baseline); "" when the metric has none.
	Baseline string

	Target  *float64
	Sources []Source

	// MinSample is the fewest cases (the value's Count: deployments, responses, new customers)
	// a status is judged on (SPEC §4); below it the value is shown but the status is unknown.
	// 0 means no minimum: counts, sums and extremes rest on no sample.
	MinSample int

	Version   int
	Effective string // YYYY-MM-DD

	Headline, DORA bool
	Breakdowns     []string

	// Custom marks an organisation-defined metric (AddMetrics): computed from its definition in
	// the configuration, not by a built-in formula.
	Custom bool

	// Sensitivity is SensitivityRevenue for a metric that reveals revenue, by its own marking or
	// its pillar's (resolved when the catalog is parsed); only principals granted revenue:read
	// see its numbers (SPEC §9).
	Sensitivity string

	// Priority is P0 (must have), P1 or P2 (nice to have), seed 003's KPI priority matrix; it
	// orders a pillar's metrics (PillarMetrics).
	Priority string
	// Signoff is SignoffAssumed until SignoffBy, the function that owns the definition (finance
	// for revenue, engineering for delivery; the pillar's unless the metric names its own),
	// confirms it, then SignoffConfirmed.
	Signoff, SignoffBy string

	// Span says what stretch of time the value covers when it is not the window W ending at
	// as_of (SpanWindow, ""): a state at as_of (SpanInstant: open vulnerabilities, MRR), the
	// customers of a year before (SpanYear: NRR, GRR), the quota period holding as_of
	// (SpanQuotaPeriod), the 90 days before W (SpanBeforeWindow: a baseline). The window's
	// length still spaces the trend's comparison; a page says the span rather than "30d".
	Span string

	// DegradingExempt names the annotations (by kind, such as peak_season, or by name) during
	// which a worse weekly window does not count towards the degrading flag: a dip in a peak
	// season is the season, not a trend.
	DegradingExempt []string

	// Overridden records each change Apply made, as "field: old → new", so a scorecard or an
	// evidence pack can say how this version differs from the built-in one.
	Overridden []string

	// From is when this version took effect (zero: from the start), Ref what made it
	// ("configuration", "proposal 12"; "" for the built-in definition) and Retired whether it
	// retired the metric (history.go).
	From    time.Time
	Ref     string
	Retired bool
	gov     *governed
}

// Where the thresholds that judged a value come from (ThresholdsFor): the organisation's, a
// tier's ("tier 1") or a service's ("service payments").
const FromOrganisation = "organisation"

// ThresholdsFor returns the thresholds that judge a scope of one service (service set; tier is
// its tier, 0 when it has none) or of one tier (service empty), and where they come from: the
// service's own, else its tier's, else the metric's (FromOrganisation). A scope of neither (a
// team, the whole organisation) takes the metric's. Nil for a metric judged by another.
func (m *Metric) ThresholdsFor(service string, tier int) (*Thresholds, string) {
	if m.Thresholds == nil {
		return nil, ""
	}
	if t, ok := m.ThresholdsByService[service]; ok && service != "" {
		return &t, "service " + service
	}
	if t, ok := m.ThresholdsByTier[tier]; ok {
		return &t, fmt.Sprintf("tier %d", tier)
	}
	return m.Thresholds, FromOrganisation
}

// Sign-off states of a definition (Metric.Signoff).
const (
	SignoffAssumed   = "assumed"
	SignoffConfirmed = "confirmed"
)

// Priorities lists Metric.Priority's values, most important first.
var Priorities = []string{"P0", "P1", "P2"}

// PriorityRank orders priorities: P0 is 0; an unknown one sorts last.
func PriorityRank(p string) int {
	if i := slices.Index(Priorities, p); i >= 0 {
		return i
	}
	return len(Priorities)
}

// DefaultMinSample is min_sample when a definition does not set it: SPEC §4's default for every
// ratio, median and mean, so that two data points never paint a status.
const DefaultMinSample = 5

// TooFew returns the unknown reason of a value resting on n cases when the metric needs more, or
// "" when n is enough.
func (m *Metric) TooFew(n int) string {
	if n >= m.MinSample {
		return ""
	}
	return fmt.Sprintf("too few cases (n = %d, needs %d)", n, m.MinSample)
}

// Pillar groups metrics on the scorecard. A pillar's Sensitivity applies to all its metrics, and
// its SignoffBy (the function that owns its definitions) to those that name none of their own.
type Pillar struct {
	ID, Name, Sensitivity, SignoffBy string
}

// SensitivityRevenue marks metrics whose numbers reveal revenue; "" is the only other value.
const SensitivityRevenue = "revenue"

// RevenueSensitive reports whether the metric's numbers may be shown only to principals granted
// revenue:read.
func (m *Metric) RevenueSensitive() bool { return m.Sensitivity == SensitivityRevenue }

// Reads reports whether one of the metric's sources is of the record kind:
// its drill-down lists those records, so a reader who sees the metric sees
// them (record pages, customer pages and role views ask).
func (m *Metric) Reads(kind string) bool {
	return slices.ContainsFunc(m.Sources, func(src Source) bool { return src.Kind == kind })
}

// SensitivityIn is the sensitivity of a metric marked own in pillar: a
// sensitive pillar makes every metric in it sensitive, so a metric added
// to it (an organisation's own, one proposed) cannot show revenue to a
// principal without the grant by being left unmarked.
func (c *Catalog) SensitivityIn(pillar, own string) string {
	for _, pl := range c.Pillars {
		if pl.ID == pillar && pl.Sensitivity == SensitivityRevenue {
			return SensitivityRevenue
		}
	}
	return own
}

// View is a role view (SPEC §4): the metrics a role acts on and, per metric, the dimension the
// view opens it broken down by.
type View struct {
	ID          string            `yaml:"id"`
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Metrics     []string          `yaml:"metrics"`
	Breakdowns  map[string]string `yaml:"breakdowns"`
	// Sections are panels shown beside the metrics' cards (ViewSections).
	Sections []string `yaml:"sections"`

	// custom marks an organisation's own view (AddViews), which another list of them replaces.
	custom bool
}

// ViewSections are the panels a role view may show beside its metrics' cards, for what no single
// metric says: the scorecard's pillar statuses, open pipeline by stage with its ageing, and quota
// attainment against the elapsed share of the quota period. The scorecard builds each.
var ViewSections = []string{"pillars", "pipeline_by_stage", "quota_pace", "flow_stages", "mrr_bridge"}

// Catalog is a complete set of definitions, in display order.
type Catalog struct {
	Pillars []Pillar
	Metrics []Metric
	Views   []View

	// gov holds the approved changes of a governed catalog (history.go); nil for a plain one.
	gov *governed
	// at marks the catalog in force at a time (At): its Metrics are the versions then, not the
	// definitions the history starts from.
	at bool
}

var builtin = sync.OnceValues(func() (*Catalog, error) {
	if c, ok := fromSnapshot(builtinSnapshot, builtinYAML); ok {
		return c, nil
	}
	return Parse(builtinYAML, builtinName)
})

// Default returns the built-in catalog. The embedded file is parsed once; every call returns a
// fresh deep copy, so callers may modify or Apply to it without affecting one another.
func Default() (*Catalog, error) {
	c, err := builtin()
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// Metric returns the metric with the given id; the pointer aliases c.Metrics (MetricsInForce's
// for a governed catalog).
func (c *Catalog) Metric(id string) (*Metric, bool) {
	ms := c.MetricsInForce()
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i], true
		}
	}
	return nil, false
}

// PillarMetrics returns the pillar's metrics in display order: by priority, and in catalog order
// within a priority. The pointers alias c.Metrics (MetricsInForce's for a governed catalog).
func (c *Catalog) PillarMetrics(pillarID string) []*Metric {
	var out []*Metric
	ms := c.MetricsInForce()
	for i := range ms {
		if ms[i].Pillar == pillarID {
			out = append(out, &ms[i])
		}
	}
	slices.SortStableFunc(out, func(a, b *Metric) int { return PriorityRank(a.Priority) - PriorityRank(b.Priority) })
	return out
}

// View returns the role view in force with the given id; the pointer aliases ViewsInForce's.
//
// People type roles as they say them: the id or the name, in any case,
// with spaces or hyphens for underscores ("CEO", "VP Sales", "vp-sales").
func (c *Catalog) View(id string) (*View, bool) {
	want := roleKey(id)
	views := c.ViewsInForce()
	for i := range views {
		if roleKey(views[i].ID) == want || roleKey(views[i].Name) == want {
			return &views[i], true
		}
	}
	return nil, false
}

func roleKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s))
}

// Headline returns the headline metrics in catalog order.
func (c *Catalog) Headline() []*Metric {
	var out []*Metric
	ms := c.MetricsInForce()
	for i := range ms {
		if ms[i].Headline {
			out = append(out, &ms[i])
		}
	}
	return out
}

// clone copies c, with the metrics in force for a governed catalog (not its history).
func (c *Catalog) clone() *Catalog {
	ms := c.MetricsInForce()
	out := &Catalog{
		Pillars: slices.Clone(c.Pillars),
		Metrics: make([]Metric, len(ms)),
		Views:   make([]View, len(c.Views)),
	}
	for i, m := range ms {
		out.Metrics[i] = m.clone()
	}
	for i, v := range c.Views {
		out.Views[i] = v.clone()
	}
	return out
}

func (v View) clone() View {
	v.Metrics = slices.Clone(v.Metrics)
	v.Breakdowns = maps.Clone(v.Breakdowns)
	v.Sections = slices.Clone(v.Sections)
	return v
}

func (m Metric) clone() Metric {
	if m.Thresholds != nil {
		t := *m.Thresholds
		m.Thresholds = &t
	}
	if m.Target != nil {
		t := *m.Target
		m.Target = &t
	}
	m.ThresholdsByTier = maps.Clone(m.ThresholdsByTier)
	m.ThresholdsByService = maps.Clone(m.ThresholdsByService)
	m.Sources = slices.Clone(m.Sources)
	m.Breakdowns = slices.Clone(m.Breakdowns)
	m.Overridden = slices.Clone(m.Overridden)
	return m
}
