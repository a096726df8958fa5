package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// CustomMetric is an organisation-defined metric (SPEC §3), written under `custom_metrics:` as a
// list: the catalog attributes a built-in has, and the computation — the kind of record it reads,
// the time tested against the window (or "state" for what stands at as_of), a CEL filter, a
// per-record CEL value and an aggregate. docs/custom-metrics.md explains each with examples.
type CustomMetric struct {
	ID          string              `yaml:"id"`
	Name        string              `yaml:"name"`
	Pillar      string              `yaml:"pillar"`
	Description string              `yaml:"description"`
	Owner       string              `yaml:"owner"`
	Unit        string              `yaml:"unit"`
	Better      string              `yaml:"better"`
	Type        string              `yaml:"type"`
	Priority    string              `yaml:"priority"`
	Window      string              `yaml:"window"`
	Thresholds  *catalog.Thresholds `yaml:"thresholds"`
	JudgedBy    string              `yaml:"judged_by"`
	Target      *float64            `yaml:"target"`
	// MinSample is the fewest cases a status is judged on; the default is
	// catalog.DefaultMinSample for the aggregates that rest on a sample
	// (mean, median, percentile, share) and 0 for counts, sums and latest.
	MinSample  *catalog.WholeNumber `yaml:"min_sample"`
	Freshness  string               `yaml:"freshness"`
	Breakdowns []string             `yaml:"breakdowns"`
	Headline   bool                 `yaml:"headline"`
	Views      []string             `yaml:"views"`
	Effective  string               `yaml:"effective"`
	// Span is "quota_period" for a metric over the quota period holding
	// as_of (metrics.SpanQuotaPeriod); none for the window.
	Span string `yaml:"span"`

	Kind      string  `yaml:"kind"`
	Time      string  `yaml:"time"`
	Filter    string  `yaml:"filter"`
	Value     string  `yaml:"value"`
	Aggregate string  `yaml:"aggregate"`
	Matching  string  `yaml:"matching"`
	P         float64 `yaml:"p"`
}

// CustomMetricError is a custom metric that cannot be loaded: the file, the line and column of
// what is wrong (inside an expression, the place the CEL checker points at), and what was expected.
type CustomMetricError struct {
	File         string
	Line, Column int
	Index        int // 0-based, in custom_metrics
	ID, Field    string
	Msg          string
}

func (e *CustomMetricError) Error() string {
	who := fmt.Sprintf("custom_metrics[%d]", e.Index)
	if e.ID != "" {
		who = fmt.Sprintf("custom metric %q", e.ID)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s: %s", e.File, e.Line, e.Column, who, e.Field, e.Msg)
}

// customDefault fills what a definition may leave out.
func (m CustomMetric) def() metrics.CustomDef {
	return metrics.CustomDef{ID: m.ID, Kind: domain.Kind(m.Kind), Time: m.Time, Filter: m.Filter, Value: m.Value,
		Matching: m.Matching, Aggregate: m.Aggregate, P: m.P, Dims: m.Breakdowns, Span: m.Span}
}

// CustomMetrics compiles the organisation-defined metrics, each checked against its kind's fields;
// the first error is a *CustomMetricError naming the file, line and column.
func (c Config) CustomMetrics() ([]*metrics.CustomMetric, error) {
	if len(c.CustomMetricDefs) == 0 {
		return nil, nil
	}
	var f *ast.File
	out := make([]*metrics.CustomMetric, 0, len(c.CustomMetricDefs))
	seen := map[string]int{}
	for i, cm := range c.CustomMetricDefs {
		// Said here, at the second id's line: metrics.Config.SetCustom,
		// which refuses it too, knows no file.
		if first, dup := seen[cm.ID]; dup && cm.ID != "" {
			if f == nil {
				f = parseYAML(c.src)
			}
			return nil, c.customError(f, i, cm.ID, "id", fmt.Sprintf("defined twice: custom_metrics[%d] has the same id", first), 0, 0)
		}
		seen[cm.ID] = i
		if cm.Kind == "" || cm.Time == "" || cm.Aggregate == "" {
			field := "kind"
			if cm.Kind != "" {
				field = "time"
				if cm.Time != "" {
					field = "aggregate"
				}
			}
			if f == nil {
				f = parseYAML(c.src)
			}
			return nil, c.customError(f, i, cm.ID, field, "required", 0, 0)
		}
		m, err := metrics.CompileCustom(cm.def())
		if err != nil {
			var ee *metrics.ExprError
			if !errors.As(err, &ee) {
				return nil, fmt.Errorf("custom_metrics[%d]: %w", i, err)
			}
			if f == nil {
				f = parseYAML(c.src)
			}
			return nil, c.customError(f, i, cm.ID, ee.Field, ee.Msg, ee.Line, ee.Column)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseYAML(src []byte) *ast.File {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil
	}
	return f
}

// customError places an error: at the field's value in the file, and inside an expression at the
// checker's line and column within it (an expression written as a literal block, `|`, keeps its
// lines; a quoted one starts one column after its quote).
func (c Config) customError(f *ast.File, i int, id, field, msg string, exprLine, exprCol int) error {
	e := &CustomMetricError{File: orName(c.path), Index: i, ID: id, Field: field, Msg: msg}
	n := nodeAt(f, fmt.Sprintf("$.custom_metrics[%d].%s", i, field))
	if n == nil {
		n = nodeAt(f, fmt.Sprintf("$.custom_metrics[%d]", i))
	}
	if n == nil || n.GetToken() == nil {
		return e
	}
	tok := n.GetToken()
	e.Line, e.Column = tok.Position.Line, tok.Position.Column
	if exprLine == 0 {
		return e
	}
	switch tok.Type {
	case token.LiteralType, token.FoldedType:
		// The text starts on the line after the indicator, at its indentation.
		e.Line += exprLine
		lines := strings.Split(string(c.src), "\n")
		indent := 0
		if e.Line-1 < len(lines) {
			l := lines[e.Line-1]
			indent = len(l) - len(strings.TrimLeft(l, " "))
			if exprLine > 1 {
				// Later lines of a block keep their extra indentation in the text.
				first := lines[tok.Position.Line]
				indent = len(first) - len(strings.TrimLeft(first, " "))
			}
		}
		e.Column = indent + exprCol
	case token.DoubleQuoteType, token.SingleQuoteType:
		e.Line += exprLine - 1
		if exprLine == 1 {
			e.Column += exprCol
		} else {
			e.Column = exprCol
		}
	default:
		e.Line += exprLine - 1
		if exprLine == 1 {
			e.Column += exprCol - 1
		} else {
			e.Column = exprCol
		}
	}
	return e
}

func nodeAt(f *ast.File, path string) ast.Node {
	if f == nil {
		return nil
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(f)
	if err != nil {
		return nil
	}
	return n
}

// customCatalogMetrics are the catalog definitions of the organisation-defined metrics, with the
// defaults a definition may leave out: type lagging, priority P1, window 30d, sign-off assumed,
// version 1, the kind as the source with its default freshness.
func (c Config) customCatalogMetrics() ([]catalog.Metric, error) {
	out := make([]catalog.Metric, 0, len(c.CustomMetricDefs))
	for i, cm := range c.CustomMetricDefs {
		m := catalog.Metric{
			ID: cm.ID, Name: cm.Name, Pillar: cm.Pillar, Description: strings.TrimSpace(cm.Description),
			Unit: cm.Unit, Better: cm.Better, Type: cm.Type, Owner: cm.Owner, Priority: cm.Priority,
			Thresholds: cm.Thresholds, JudgedBy: cm.JudgedBy, Target: cm.Target, Headline: cm.Headline,
			Version: 1, Effective: cm.Effective, Signoff: catalog.SignoffAssumed,
			Formula: customFormula(cm), Span: cm.Span,
		}
		if cm.Time == metrics.TimeState && m.Span == "" {
			// Its value is the records as they stand at as_of, a state
			// like open vulnerabilities: the board pack's appendix had
			// said "30d" of the demo's open deals older than 90 days, and
			// its page that the value covered 30 days.
			m.Span = catalog.SpanInstant
		}
		m.Breakdowns = cm.Breakdowns
		if m.Breakdowns == nil {
			m.Breakdowns = metrics.CustomDims(domain.Kind(cm.Kind))
		}
		if m.Type == "" {
			m.Type = catalog.Lagging
		}
		if m.Priority == "" {
			m.Priority = "P1"
		}
		if m.Effective == "" {
			m.Effective = catalog.FromTheStart
		}
		win := cm.Window
		if win == "" {
			win = "30d"
		}
		d, err := catalog.ParseMetricWindow(win)
		if err != nil {
			return nil, c.customError(parseYAML(c.src), i, cm.ID, "window", err.Error(), 0, 0)
		}
		m.Window = d
		if t := cm.Thresholds; t != nil && t.RelativeTo == catalog.RelativeToElapsed && cm.Span != metrics.SpanQuotaPeriod {
			// Without a period there is no share of it gone: every value
			// would be unknown, for a reason ("no target set") not its own.
			return nil, c.customError(parseYAML(c.src), i, cm.ID, "thresholds", "relative_to: elapsed judges against the share of the quota period gone; it needs span: quota_period", 0, 0)
		}
		switch cm.Aggregate {
		case metrics.AggregateMean, metrics.AggregateMedian, metrics.AggregatePercentile, metrics.AggregateShare:
			m.MinSample = catalog.DefaultMinSample
		}
		if cm.MinSample != nil {
			m.MinSample = int(*cm.MinSample)
		}
		src := catalog.Source{Kind: cm.Kind}
		src.Freshness, _ = catalog.DefaultFreshness(cm.Kind)
		if cm.Freshness != "" {
			if src.Freshness, err = catalog.ParseWindow(cm.Freshness); err != nil {
				return nil, c.customError(parseYAML(c.src), i, cm.ID, "freshness", err.Error(), 0, 0)
			}
		}
		m.Sources = []catalog.Source{src}
		out = append(out, m)
	}
	return out, nil
}

// customFormula is the definition's computation in words, for the catalog's formula notes.
func customFormula(cm CustomMetric) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s of %s records", cm.Aggregate, cm.Kind)
	if cm.Aggregate == metrics.AggregatePercentile {
		fmt.Fprintf(&b, " (p%g)", cm.P)
	}
	over := "the window"
	if cm.Span == metrics.SpanQuotaPeriod {
		over = "the quota period holding as_of (up to as_of)"
	}
	switch cm.Time {
	case metrics.TimeState:
		b.WriteString(" as they stand at as_of")
	case metrics.TimePeriod:
		fmt.Fprintf(&b, " whose period overlaps %s (sums prorated)", over)
	default:
		fmt.Fprintf(&b, " with %s in %s", cm.Time, over)
	}
	if cm.Filter != "" {
		fmt.Fprintf(&b, ", where %s", strings.TrimSpace(cm.Filter))
	}
	if cm.Value != "" {
		fmt.Fprintf(&b, "; value %s", strings.TrimSpace(cm.Value))
	}
	if cm.Matching != "" {
		fmt.Fprintf(&b, "; the share matching %s", strings.TrimSpace(cm.Matching))
	}
	return b.String()
}

// addCustomMetrics adds the organisation-defined metrics to cat (before the organisation's views,
// which may list them).
func (c Config) addCustomMetrics(cat *catalog.Catalog) (*catalog.Catalog, error) {
	if len(c.CustomMetricDefs) == 0 {
		return cat, nil
	}
	if _, err := c.CustomMetrics(); err != nil {
		return nil, err
	}
	defs, err := c.customCatalogMetrics()
	if err != nil {
		return nil, err
	}
	return cat.AddMetrics(defs, orName(c.path), c.src)
}

// showCustomMetrics puts each organisation-defined metric in the role views it names.
func (c Config) showCustomMetrics(cat *catalog.Catalog) error {
	var f *ast.File
	for i, cm := range c.CustomMetricDefs {
		for j, v := range cm.Views {
			if !cat.ShowIn(v, cm.ID) {
				if f == nil {
					f = parseYAML(c.src)
				}
				var known []string
				for _, view := range cat.Views {
					known = append(known, view.ID)
				}
				return c.customError(f, i, cm.ID, fmt.Sprintf("views[%d]", j), fmt.Sprintf("unknown view %q; expected one of %s", v, strings.Join(known, ", ")), 0, 0)
			}
		}
	}
	return nil
}

// addOwn adds the organisation's own metrics and views to cat.
func (c Config) addOwn(cat *catalog.Catalog) (*catalog.Catalog, error) {
	out, err := c.addCustomMetrics(cat)
	if err != nil {
		return nil, err
	}
	if out, err = c.addViews(out); err != nil {
		return nil, err
	}
	return out, c.showCustomMetrics(out)
}

// checkCustomMetrics makes Load's checks of the organisation's metrics alone — each compiled
// against its kind's fields, its catalog attributes against the built-in catalog, the views it
// names among the built-in and the organisation's views — each error at c's file, line and
// column (a proposal's text, for the custom_metrics section).
func (c Config) checkCustomMetrics() error {
	base, err := catalog.Default()
	if err != nil {
		return err
	}
	cat, err := c.addCustomMetrics(base)
	if err != nil {
		return err
	}
	// Only the views' ids matter here; what they show is checked with the
	// rest of the configuration (customMetricsUsed).
	for _, v := range c.Views {
		if _, ok := cat.View(v.ID); !ok {
			cat.Views = append(cat.Views, catalog.View{ID: v.ID})
		}
	}
	return c.showCustomMetrics(cat)
}

// customMetricsUsed refuses organisation metrics that leave something naming a metric no longer
// there — a view, an alert rule, a gate policy, a role's grants, a report, an approved change to
// a definition (cat's) — with what names it: removing or renaming a metric starts with whatever
// still uses it.
func (c Config) customMetricsUsed(cat *catalog.Catalog) error {
	keep := map[string]bool{}
	for _, m := range c.CustomMetricDefs {
		keep[m.ID] = true
	}
	var gone []string
	for _, m := range cat.MetricsInForce() {
		if m.Custom && !keep[m.ID] {
			gone = append(gone, m.ID)
		}
	}
	err := c.checkUses(cat)
	if err == nil {
		return nil
	}
	if len(gone) == 0 {
		return err
	}
	return fmt.Errorf("it removes or renames %s, still in use: %w", strings.Join(gone, ", "), err)
}

// checkUses checks what names a metric or a view against the catalog c's own metrics and views
// make (the views the organisation's metrics name included), and the approved changes of cat.
func (c Config) checkUses(cat *catalog.Catalog) error {
	base, err := catalog.Default()
	if err != nil {
		return err
	}
	own, err := c.AddViews(base)
	if err != nil {
		return err
	}
	if _, err := c.AlertSettings(own); err != nil {
		return located(c.path, err)
	}
	if _, err := c.GatePolicies(own); err != nil {
		return err
	}
	// The roles' metric grants and the reports' metrics.
	if _, err := c.ReportSettings(own); err != nil {
		return located(c.path, err)
	}
	if err := own.Governed().Check(cat.Changes()); err != nil {
		return fmt.Errorf("an approved change to a definition: %w", err)
	}
	return nil
}

// CustomEra is a custom_metrics value and when it took effect.
type CustomEra struct {
	From time.Time
	Defs []CustomMetric
}

// WithCustomEras returns the configuration computing each custom_metrics value over its time
// (oldest first; the first from the start, the last in force now and the configuration's
// CustomMetricDefs): governance gives the values approved over the history.
func (c Config) WithCustomEras(eras []CustomEra) Config {
	if len(eras) == 0 {
		return c
	}
	c.customEras = eras
	c.CustomMetricDefs = eras[len(eras)-1].Defs
	return c
}

// CustomEras are the custom_metrics values over time (one, from the start, without
// WithCustomEras).
func (c Config) CustomEras() []CustomEra {
	if len(c.customEras) == 0 {
		return []CustomEra{{Defs: c.CustomMetricDefs}}
	}
	return c.customEras
}

// CustomSet is the organisation's metrics compiled for the engine (engine.Engine.SetCustom): the
// custom_metrics in force, once an approved section has put its value in the configuration, and
// those in force before it, each computing the as_of in its time.
func (c Config) CustomSet() (metrics.CustomSet, error) {
	var vs []metrics.CustomVersion
	for _, e := range c.CustomEras() {
		ce := c
		ce.CustomMetricDefs = e.Defs
		ms, err := ce.CustomMetrics()
		if err != nil {
			return metrics.CustomSet{}, located(c.path, err)
		}
		var m metrics.Config
		if err := m.SetCustom(ms); err != nil {
			return metrics.CustomSet{}, err
		}
		vs = append(vs, metrics.CustomVersion{From: e.From, Set: m.CustomSet()})
	}
	return metrics.CustomVersions(vs), nil
}

// CustomCatalogEras are the catalog entries of each custom_metrics value over time, added to base
// (catalog.Catalog.SetCustomVersions); now are those of the value in force (OwnMetrics of the
// app's catalog, with the views that show them).
func (c Config) CustomCatalogEras(base *catalog.Catalog, now []catalog.Metric) ([]catalog.CustomEra, error) {
	eras := c.CustomEras()
	out := make([]catalog.CustomEra, len(eras))
	for i, e := range eras {
		out[i].From = e.From
		if i == len(eras)-1 {
			out[i].Metrics = now
			continue
		}
		ce := c
		ce.CustomMetricDefs = e.Defs
		cat, err := ce.addCustomMetrics(base)
		if err != nil {
			return nil, fmt.Errorf("custom_metrics in force from %s: %w", e.From.Format(time.RFC3339), err)
		}
		out[i].Metrics = OwnMetrics(cat)
	}
	return out, nil
}

// OwnMetrics are the catalog entries of the organisation's metrics in cat (as AddViews made it),
// in its order: what catalog.Catalog.SetCustomMetrics puts in force.
func OwnMetrics(cat *catalog.Catalog) []catalog.Metric {
	var out []catalog.Metric
	for _, m := range cat.MetricsInForce() {
		if m.Custom {
			out = append(out, m)
		}
	}
	return out
}
