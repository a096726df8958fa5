package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The raw types mirror catalog.yaml. They exist so the file can spell windows as "30d" and
// sources as bare kinds, while Catalog keeps the types callers compute with.
type rawCatalog struct {
	Pillars []rawPillar `yaml:"pillars"`
	Metrics []rawMetric `yaml:"metrics"`
	Views   []View      `yaml:"views"`
}

type rawPillar struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Sensitivity string `yaml:"sensitivity"`
	SignoffBy   string `yaml:"signoff_by"`
}

type rawMetric struct {
	ID          string       `yaml:"id"`
	Name        string       `yaml:"name"`
	Pillar      string       `yaml:"pillar"`
	Description string       `yaml:"description"`
	Summary     string       `yaml:"summary"`
	Formula     string       `yaml:"formula"`
	Unit        string       `yaml:"unit"`
	Better      string       `yaml:"better"`
	Type        string       `yaml:"type"`
	Owner       string       `yaml:"owner"`
	Window      string       `yaml:"window"`
	Thresholds  *Thresholds  `yaml:"thresholds"`
	JudgedBy    string       `yaml:"judged_by"`
	Target      *float64     `yaml:"target"`
	Sources     []rawSource  `yaml:"sources"`
	MinSample   *WholeNumber `yaml:"min_sample"`
	Version     int          `yaml:"version"`
	Effective   string       `yaml:"effective"`
	Headline    bool         `yaml:"headline"`
	DORA        bool         `yaml:"dora"`
	Breakdowns  []string     `yaml:"breakdowns"`
	Sensitivity string       `yaml:"sensitivity"`
	Priority    string       `yaml:"priority"`
	Signoff     string       `yaml:"signoff"`
	SignoffBy   string       `yaml:"signoff_by"`

	// Keyed by tier number or service id as written; converted and checked in catalog().
	ThresholdsByTier    map[string]Thresholds `yaml:"thresholds_by_tier"`
	ThresholdsByService map[string]Thresholds `yaml:"thresholds_by_service"`
	Baseline            string                `yaml:"baseline"`
	DegradingExempt     []string              `yaml:"degrading_exempt"`
	Span                string                `yaml:"span"`
}

// rawSource is either a bare kind ("incident") or {kind: quota, freshness: 95d}.
type rawSource struct {
	Kind      string `yaml:"kind"`
	Freshness string `yaml:"freshness"`
}

// UnmarshalYAML accepts both spellings; strictness is restated because the decoder's options do
// not reach a nested NodeToValue.
func (s *rawSource) UnmarshalYAML(node ast.Node) error {
	if n, ok := node.(*ast.StringNode); ok {
		*s = rawSource{Kind: n.Value}
		return nil
	}
	type plain rawSource
	var p plain
	if err := yaml.NodeToValue(node, &p, yaml.DisallowUnknownField()); err != nil {
		return err
	}
	*s = rawSource(p)
	return nil
}

// UnmarshalYAML reads {green, amber, relative_to}, requiring both bounds: a missing amber would
// otherwise decode as 0 and, for a higher-is-better metric, make every value at least amber. It
// also accepts fractions ("1/7") so a bound such as one deployment a week stays exact. Config
// files that decode an Override get the same checks.
func (t *Thresholds) UnmarshalYAML(node ast.Node) error {
	var raw struct {
		Green      *yamlNumber `yaml:"green"`
		Amber      *yamlNumber `yaml:"amber"`
		RelativeTo string      `yaml:"relative_to"`
	}
	if err := yaml.NodeToValue(node, &raw, yaml.DisallowUnknownField()); err != nil {
		return err
	}
	switch {
	case raw.Green == nil && raw.Amber == nil:
		return &nodeError{msg: "green and amber are required", tok: node.GetToken()}
	case raw.Green == nil:
		return &nodeError{msg: "green is required as well as amber", tok: node.GetToken()}
	case raw.Amber == nil:
		return &nodeError{msg: "amber is required as well as green (write amber equal to green for no amber band)", tok: node.GetToken()}
	}
	*t = Thresholds{Green: float64(*raw.Green), Amber: float64(*raw.Amber), RelativeTo: raw.RelativeTo}
	return nil
}

// WholeNumber is a YAML integer. The YAML library would truncate 2.5 into an int without a word,
// and a minimum sample of 2.5 is a mistake to report, not to round.
type WholeNumber int

// UnmarshalYAML accepts integers only.
func (n *WholeNumber) UnmarshalYAML(node ast.Node) error {
	if v, ok := node.(*ast.IntegerNode); ok {
		switch i := v.Value.(type) {
		case int64:
			*n = WholeNumber(i)
			return nil
		case uint64:
			*n = WholeNumber(i)
			return nil
		}
	}
	return &nodeError{msg: fmt.Sprintf("%s: want a whole number", node.GetToken().Value), tok: node.GetToken()}
}

// yamlNumber is a number, or a fraction written as a string such as "1/7".
type yamlNumber float64

func (n *yamlNumber) UnmarshalYAML(node ast.Node) error {
	bad := &nodeError{msg: fmt.Sprintf("%s: want a number or a fraction such as 1/7", node.GetToken().Value), tok: node.GetToken()}
	switch v := node.(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			*n = yamlNumber(i)
		case uint64:
			*n = yamlNumber(i)
		default:
			return bad
		}
	case *ast.FloatNode:
		*n = yamlNumber(v.Value)
	case *ast.StringNode:
		num, den, ok := strings.Cut(v.Value, "/")
		if !ok {
			return bad
		}
		a, errA := strconv.ParseFloat(strings.TrimSpace(num), 64)
		b, errB := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if errA != nil || errB != nil || b == 0 || !finite(a/b) {
			return bad
		}
		*n = yamlNumber(a / b)
	default:
		return bad
	}
	return nil
}

// nodeError is a decoding error of ours that keeps its YAML position, like the library's own.
type nodeError struct {
	msg string
	tok *token.Token
}

func (e *nodeError) Error() string          { return e.FormatError(false, true) }
func (e *nodeError) GetToken() *token.Token { return e.tok }
func (e *nodeError) GetMessage() string     { return e.msg }
func (e *nodeError) FormatError(colored, source bool) string {
	return yaml.FormatErrorWithToken(e.msg, e.tok, colored, source)
}

var _ yaml.Error = (*nodeError)(nil)

// Parse reads and validates a catalog in the format of catalog.yaml. Unknown fields are refused.
// Every error is a *FieldError naming the file (name), the line and the field; all broken rules
// are reported at once, joined, in file order.
func Parse(data []byte, name string) (*Catalog, error) {
	var raw rawCatalog
	if err := yaml.UnmarshalWithOptions(data, &raw, yaml.DisallowUnknownField()); err != nil {
		return nil, decodeError(name, data, err)
	}
	c, errs := raw.catalog()
	reported := map[string]bool{}
	for _, e := range errs {
		reported[e.path] = true
	}
	for _, e := range c.problems() {
		if !reported[e.path] {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return c, nil
	}
	// Lines are looked up only to report: the index is a second parse of
	// the file, a third of the start of every command reading the
	// built-in catalog.
	idx := indexYAML(data)
	for _, e := range errs {
		e.File = name
		e.Line = idx.line(e.path)
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		return cmp.Compare(lineOrLast(a.Line), lineOrLast(b.Line))
	})
	return nil, joinErrors(errs)
}

func lineOrLast(l int) int {
	if l == 0 {
		return int(^uint(0) >> 1)
	}
	return l
}

// catalog converts the file's spelling into Catalog, reporting what cannot be converted; those
// fields are left zero, and Parse drops the validation errors the zero values would add.
func (r *rawCatalog) catalog() (*Catalog, []*FieldError) {
	var errs []*FieldError
	c := &Catalog{}
	for _, p := range r.Pillars {
		c.Pillars = append(c.Pillars, Pillar(p))
	}
	for i, rm := range r.Metrics {
		p := problem{kind: "metric", id: rm.ID, list: "metrics", pos: i + 1, errs: &errs}
		m := Metric{
			ID: rm.ID, Name: rm.Name, Pillar: rm.Pillar,
			Description: strings.TrimSpace(rm.Description), Summary: strings.TrimSpace(rm.Summary), Formula: strings.TrimSpace(rm.Formula),
			Unit: rm.Unit, Better: rm.Better, Type: rm.Type, Owner: rm.Owner,
			Thresholds: rm.Thresholds, JudgedBy: rm.JudgedBy, Target: rm.Target,
			Version: rm.Version, Effective: rm.Effective,
			Headline: rm.Headline, DORA: rm.DORA, Breakdowns: rm.Breakdowns,
			Sensitivity: rm.Sensitivity,
			Priority:    rm.Priority, Signoff: rm.Signoff, SignoffBy: strings.TrimSpace(rm.SignoffBy),
			ThresholdsByService: rm.ThresholdsByService, Baseline: rm.Baseline,
			DegradingExempt: rm.DegradingExempt, Span: rm.Span,
		}
		m.ThresholdsByTier = tierThresholds(p, rm.ThresholdsByTier)
		// A sensitive pillar makes every metric in it sensitive, so a metric added to it later
		// cannot show revenue to a principal without the grant by being left unmarked.
		for _, pl := range r.Pillars {
			if pl.ID == rm.Pillar && pl.Sensitivity == SensitivityRevenue {
				m.Sensitivity = SensitivityRevenue
			}
			if pl.ID == rm.Pillar && m.SignoffBy == "" {
				m.SignoffBy = strings.TrimSpace(pl.SignoffBy)
			}
		}
		m.MinSample = DefaultMinSample
		if rm.MinSample != nil {
			m.MinSample = int(*rm.MinSample)
		}
		if rm.Window == "" {
			p.add("window", "required, such as 30d")
		} else if d, err := ParseMetricWindow(rm.Window); err != nil {
			p.add("window", "%v", err)
		} else {
			m.Window = d
		}
		for j, rs := range rm.Sources {
			s := Source{Kind: rs.Kind}
			s.Freshness, _ = DefaultFreshness(rs.Kind)
			if rs.Freshness != "" {
				d, err := ParseWindow(rs.Freshness)
				if err != nil {
					p.add(fmt.Sprintf("sources[%d].freshness", j), "%v", err)
				}
				s.Freshness = d
			}
			m.Sources = append(m.Sources, s)
		}
		c.Metrics = append(c.Metrics, m)
	}
	for _, rv := range r.Views {
		c.Views = append(c.Views, rv)
	}
	return c, errs
}

// tierThresholds converts thresholds keyed by a tier as written ("1") to tier numbers,
// reporting a key that is not a tier 1, 2 or 3.
func tierThresholds(p problem, raw map[string]Thresholds) map[int]Thresholds {
	if raw == nil {
		return nil
	}
	out := map[int]Thresholds{}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || n > 3 {
			p.add("thresholds_by_tier."+k, "%q is not a service tier (1, 2 or 3)", k)
			continue
		}
		out[n] = raw[k]
	}
	return out
}

// decodeError turns the YAML library's error into a FieldError that names the file, the line and
// the field in YAML terms (the library names Go struct fields, which mean nothing to the author).
func decodeError(name string, data []byte, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return &FieldError{File: name, Msg: err.Error()}
	}
	pos := ye.GetToken().Position
	fe := &FieldError{File: name, Line: pos.Line, Msg: ye.GetMessage()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		fe.Msg = "want " + describeType(te.DstType)
	}
	idx := indexYAML(data)
	if path, ok := idx.at(pos.Line, pos.Column); ok {
		fe.Kind, fe.ID, fe.Field, fe.pos = idx.subject(path)
	}
	return fe
}

func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	default:
		return t.String()
	}
}

// yamlIndex maps YAML paths ("metrics[3].thresholds.green") to where they are written, so that
// rules checked after decoding can still point at a line.
type yamlIndex map[string]yamlLoc

type yamlLoc struct {
	line, col int
	value     string // scalar value, to name an element by its id
}

func indexYAML(data []byte) yamlIndex {
	idx := yamlIndex{}
	// Duplicate keys are the decoder's to report; the index only has to find them.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return idx
	}
	for _, doc := range f.Docs {
		idx.walk(doc.Body, "")
	}
	return idx
}

func (idx yamlIndex) walk(n ast.Node, path string) {
	if n == nil {
		return
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			idx.walk(mv, path)
		}
	case *ast.MappingValueNode:
		key := v.Key.GetToken()
		if key == nil {
			return
		}
		p := key.Value
		if path != "" {
			p = path + "." + key.Value
		}
		loc := yamlLoc{line: key.Position.Line, col: key.Position.Column}
		if s, ok := v.Value.(ast.ScalarNode); ok {
			loc.value = fmt.Sprint(s.GetValue())
		}
		idx[p] = loc
		idx.walk(v.Value, p)
	case *ast.SequenceNode:
		for i, item := range v.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if tok := item.GetToken(); tok != nil {
				idx[p] = yamlLoc{line: tok.Position.Line, col: tok.Position.Column}
			}
			idx.walk(item, p)
		}
	case *ast.AnchorNode:
		idx.walk(v.Value, path)
	case *ast.TagNode:
		idx.walk(v.Value, path)
	}
}

// line returns the line of path, or of its nearest written ancestor when the field is missing
// (a missing owner points at the metric).
func (idx yamlIndex) line(path string) int {
	for path != "" {
		if loc, ok := idx[path]; ok {
			return loc.line
		}
		path = parentPath(path)
	}
	return 0
}

func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// at returns the deepest path written on line at or before col: the key a decode error is about.
func (idx yamlIndex) at(line, col int) (string, bool) {
	best, bestCol := "", -1
	for p, loc := range idx {
		if loc.line == line && loc.col <= col && (loc.col > bestCol || loc.col == bestCol && len(p) > len(best)) {
			best, bestCol = p, loc.col
		}
	}
	return best, bestCol >= 0
}

// subject splits "metrics[3].thresholds.green" into the metric it belongs to and the field.
func (idx yamlIndex) subject(path string) (kind, id, field string, pos int) {
	for _, list := range []struct{ prefix, kind string }{
		{"metrics[", "metric"}, {"views[", "view"}, {"pillars[", "pillar"},
	} {
		rest, ok := strings.CutPrefix(path, list.prefix)
		if !ok {
			continue
		}
		n, after, ok := strings.Cut(rest, "]")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			break
		}
		return list.kind, idx[path[:len(list.prefix)+len(n)+1]+".id"].value, strings.TrimPrefix(after, "."), i + 1
	}
	return "", "", path, 0
}
