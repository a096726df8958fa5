package scorecard

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// MetricDetail is one metric with its definition, breakdown and the
// records behind its value: the drill-down of SPEC §4.
type MetricDetail struct {
	Definition Definition      `json:"definition"`
	AsOf       time.Time       `json:"as_of"`
	Card       Card            `json:"metric"`
	By         string          `json:"by,omitempty"`
	Breakdown  []BreakdownLine `json:"breakdown,omitempty"`
	Records    []metrics.Ref   `json:"records"`
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
}

// Definition is the catalog entry as shown with a value.
type Definition struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Pillar      string   `json:"pillar"`
	Description string   `json:"description"`
	Formula     string   `json:"formula"`
	Unit        string   `json:"unit"`
	Better      string   `json:"better"`
	Type        string   `json:"type"`
	Owner       string   `json:"owner"`
	Window      string   `json:"window"`
	Version     int      `json:"version"`
	Effective   string   `json:"effective"`
	Sources     []string `json:"sources"`
	Overridden  []string `json:"overridden,omitempty"`
}

// BreakdownLine is one group of a breakdown with its own status.
type BreakdownLine struct {
	Key    string         `json:"key"`
	Value  *float64       `json:"value"`
	Status catalog.Status `json:"status"`
	Count  int            `json:"count"`
}

// ErrNotComputed is returned (wrapped) by Detail for a catalog metric that
// has no computation yet.
var ErrNotComputed = errors.New("defined but not computed yet")

// DimensionError is a breakdown or scope dimension the metric does not
// support. Param says which request parameter named it ("by" or "scope"),
// so an API can point at the right one.
type DimensionError struct {
	Param, Metric, Dim string
	Dims               []string // the supported ones
}

func (e *DimensionError) Error() string {
	if len(e.Dims) == 0 {
		return fmt.Sprintf("metric %s has no breakdown", e.Metric)
	}
	return fmt.Sprintf("metric %s cannot be broken down by %q (use one of: %s)", e.Metric, e.Dim, strings.Join(e.Dims, ", "))
}

// Detail computes a metric's drill-down. by may be empty; scope narrows
// the value and records to one group.
func Detail(cat *catalog.Catalog, ds *metrics.Dataset, id string, opt Options, by string, scope metrics.Scope) (*MetricDetail, error) {
	m, ok := cat.Metric(id)
	if !ok {
		return nil, fmt.Errorf("unknown metric %q", id)
	}
	if !metrics.Known(id) {
		return nil, fmt.Errorf("metric %s is %w", id, ErrNotComputed)
	}
	dims := metrics.Dims(id)
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
	if scope.Dim != "" {
		if err := check("scope", scope.Dim); err != nil {
			return nil, err
		}
	}
	win := m.Window
	if opt.Window > 0 {
		win = opt.Window
	}
	d := &MetricDetail{
		Definition: Definition{
			ID: m.ID, Name: m.Name, Pillar: m.Pillar, Description: m.Description, Formula: m.Formula,
			Unit: m.Unit, Better: m.Better, Type: m.Type, Owner: m.Owner, Window: catalog.FormatWindow(win),
			Version: m.Version, Effective: m.Effective, Overridden: m.Overridden,
		},
		AsOf: opt.AsOf.UTC(), By: by, Dimensions: dims,
	}
	for _, s := range m.Sources {
		d.Definition.Sources = append(d.Definition.Sources, s.Kind)
	}
	if scope.Dim != "" {
		d.Scope = &scope
	}
	d.Card = Evaluate(ds, m, opt, scope, true)
	judgeCard(cat, ds, m, opt, scope, &d.Card)
	res, err := ds.Compute(id, metrics.Query{AsOf: opt.AsOf, Window: win, Scope: scope, Records: true})
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
	if by != "" {
		if d.Breakdown, err = breakdown(cat, ds, m, opt, by); err != nil {
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
	if om, ok := cat.Metric(m.JudgedBy); ok {
		o := Evaluate(ds, om, opt, scope, false)
		judgeBy(c, &o)
	}
}

// breakdown evaluates the metric for every group of a dimension, each line
// with its own status.
func breakdown(cat *catalog.Catalog, ds *metrics.Dataset, m *catalog.Metric, opt Options, by string) ([]BreakdownLine, error) {
	win := m.Window
	if opt.Window > 0 {
		win = opt.Window
	}
	groups, err := ds.Breakdown(m.ID, metrics.Query{AsOf: opt.AsOf, Window: win}, by)
	if err != nil {
		return nil, err
	}
	var out []BreakdownLine
	for _, g := range groups {
		gs := metrics.Scope{Dim: by, Value: g.Key}
		c := Evaluate(ds, m, opt, gs, false)
		judgeCard(cat, ds, m, opt, gs, &c)
		out = append(out, BreakdownLine{Key: g.Key, Value: g.Value, Status: c.Status, Count: g.Count})
	}
	return out, nil
}

// DetailText renders a drill-down for people.
func DetailText(d *MetricDetail, o TextOptions) string {
	var b strings.Builder
	c := d.Card
	def := d.Definition
	fmt.Fprintf(&b, "%s (%s) — %s, v%d effective %s\n", paint(o.Color, ansiBold, def.Name), def.ID, def.Pillar, def.Version, def.Effective)
	fmt.Fprintf(&b, "%s\n", def.Description)
	if def.Formula != "" {
		fmt.Fprintf(&b, "Formula: %s\n", strings.TrimSpace(def.Formula))
	}
	fmt.Fprintf(&b, "Owner: %s · unit %s · %s is better · %s · window %s · sources %s\n", def.Owner, def.Unit, def.Better, def.Type, def.Window, strings.Join(def.Sources, ", "))
	if d.Scope != nil {
		fmt.Fprintf(&b, "Scope: %s = %s\n", d.Scope.Dim, d.Scope.Value)
	}
	fmt.Fprintf(&b, "\nAs of %s: %s  %s  %s", d.AsOf.Format(time.RFC3339), FormatValue(c.Value, c.Unit, o.Currency),
		paint(o.Color, statusColor[c.Status], statusMark[c.Status]), trendText(c.Trend))
	if c.Trend.Previous != nil {
		fmt.Fprintf(&b, " (previous window %s)", FormatValue(c.Trend.Previous, c.Unit, o.Currency))
	}
	b.WriteString("\n")
	if c.Reason != "" {
		fmt.Fprintf(&b, "Why: %s\n", c.Reason)
	}
	if c.Thresholds != nil {
		rel := ""
		if c.Thresholds.RelativeTo != "" {
			rel = " (relative to " + c.Thresholds.RelativeTo + ")"
		}
		fmt.Fprintf(&b, "Thresholds: green %v, amber %v%s\n", c.Thresholds.Green, c.Thresholds.Amber, rel)
	}
	if c.Target != nil {
		fmt.Fprintf(&b, "Target: %s\n", FormatValue(c.Target, c.Unit, o.Currency))
	}
	if c.DORALevel != "" {
		fmt.Fprintf(&b, "DORA level: %s\n", c.DORALevel)
	}
	if c.Degrading {
		b.WriteString("DEGRADING: worse in each of the last three weekly windows\n")
	}
	if len(c.Series) > 0 {
		b.WriteString("Weekly: ")
		for i, p := range c.Series {
			if i > 0 {
				b.WriteString(" · ")
			}
			b.WriteString(FormatValue(p.Value, c.Unit, o.Currency))
		}
		b.WriteString("\n")
	}
	if d.By != "" {
		fmt.Fprintf(&b, "\nBy %s:\n", d.By)
		for _, l := range d.Breakdown {
			fmt.Fprintf(&b, "  %-28s %14s  %s  (%d records)\n", l.Key, FormatValue(l.Value, c.Unit, o.Currency), paint(o.Color, statusColor[l.Status], statusMark[l.Status]), l.Count)
		}
	}
	fmt.Fprintf(&b, "\nRecords behind the value (%d):\n", len(d.Records))
	const maxShown = 50
	for i, r := range d.Records {
		if i == maxShown {
			fmt.Fprintf(&b, "  … %d more (--format json lists all)\n", len(d.Records)-maxShown)
			break
		}
		v := ""
		if r.Value != nil {
			v = " " + trim(*r.Value, 2)
		}
		note := ""
		if r.Note != "" {
			note = "  " + r.Note
		}
		fmt.Fprintf(&b, "  %s %s/%s%s%s\n", r.Kind, r.Source, r.ID, v, note)
	}
	writeProblems(&b, d.Problems)
	return b.String()
}

// Page keeps the records in [offset, offset+limit) (limit > 0).
func (d *MetricDetail) Page(offset, limit int) {
	d.RecordsOffset, d.RecordsLimit = offset, limit
	lo := min(offset, len(d.Records))
	hi := min(lo+limit, len(d.Records))
	d.Records = d.Records[lo:hi:hi]
}
