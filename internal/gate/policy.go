package gate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// Severity is what a failed rule does to the decision.
type Severity string

// Verdicts of one rule and decisions of a gate. A failed rule's verdict is
// its severity (deny or escalate).
const (
	Deny     Severity = "deny"
	Escalate Severity = "escalate"
	Allow    Severity = "allow"
	Pass              = "pass"
	Skip              = "skip"
)

func (s Severity) check(field string, allowOK bool) error {
	switch s {
	case Deny, Escalate:
		return nil
	case Allow:
		if allowOK {
			return nil
		}
	}
	if allowOK {
		return keyErrorf(field, "%q is not deny, escalate or allow", s)
	}
	return keyErrorf(field, "%q is not deny or escalate", s)
}

// keyError is a mistake in the policies file at Key, the key path
// ("policies[0].severity"), about the policy ID when it is one of the
// file's: Load finds the key's line, and compile names the policy, from
// the error's fields rather than reading them back out of its message.
type keyError struct {
	Key, ID, Msg string
}

func (e *keyError) Error() string {
	if e.ID != "" {
		return e.Key + " (" + e.ID + "): " + e.Msg
	}
	return e.Key + ": " + e.Msg
}

func keyErrorf(key, format string, a ...any) error {
	return &keyError{Key: key, Msg: fmt.Sprintf(format, a...)}
}

// Scope says which releases a rule applies to; an empty list admits all.
// An environment "production" also matches every environment that is
// production by name (SPEC §1: production, prod, prd, live and the
// configured names).
type Scope struct {
	Services []string `yaml:"services" json:"services,omitempty"`
	Tiers    []int    `yaml:"tiers" json:"tiers,omitempty"`
	// Teams are the owning teams of the services admitted, as their
	// service records give them.
	Teams        []string `yaml:"teams" json:"teams,omitempty"`
	Environments []string `yaml:"environments" json:"environments,omitempty"`
}

// productionOnly is the built-in policies' default scope.
var productionOnly = Scope{Environments: []string{"production"}}

// Config is the gate configuration file: the built-in policies' settings
// and the organisation's own policies.
type Config struct {
	Coverage  CoverageConfig  `yaml:"coverage"`
	Risk      RiskConfig      `yaml:"risk"`
	Freeze    FreezeConfig    `yaml:"freeze"`
	Canary    CanaryConfig    `yaml:"canary"`
	Emergency EmergencyConfig `yaml:"emergency"`
	Policies  []PolicyConfig  `yaml:"policies"`
	Watch     WatchConfig     `yaml:"watch"`
}

// RuleConfig is what every built-in policy has: whether it is on
// (default on), what a failure does, what an unknown does, and the
// releases it applies to (default: production).
type RuleConfig struct {
	Enabled   *bool    `yaml:"enabled"`
	Severity  Severity `yaml:"severity"`
	OnUnknown Severity `yaml:"on_unknown"`
	Scope     *Scope   `yaml:"scope"`
	// Approvers are the roles that may approve a release the policy
	// escalates (default: executive; risk: executive and engineering).
	Approvers []string `yaml:"approvers"`
}

// CoverageConfig: production coverage must be at least Min (default 0.85).
type CoverageConfig struct {
	RuleConfig `yaml:",inline"`
	Min        *float64 `yaml:"min"`
}

// RiskConfig: a risk score over Threshold (default 70) escalates.
type RiskConfig struct {
	RuleConfig `yaml:",inline"`
	Threshold  *float64 `yaml:"threshold"`
}

// CanaryConfig: a service whose release-impact KPI (Metric) is red must
// deploy by canary (Strategy).
type CanaryConfig struct {
	RuleConfig `yaml:",inline"`
	Metric     string `yaml:"metric"`
	Strategy   string `yaml:"strategy"`
}

// EmergencyConfig: an emergency change bypasses the gates and must be
// retro-validated within RetroWithin (default 72h).
type EmergencyConfig struct {
	Enabled     *bool  `yaml:"enabled"`
	RetroWithin string `yaml:"retro_within"`
}

// PolicyConfig is one of the organisation's rules: the release passes it
// when Require, a CEL expression, is true.
type PolicyConfig struct {
	ID        string   `yaml:"id"`
	Message   string   `yaml:"message"`
	Require   Expr     `yaml:"require"`
	Severity  Severity `yaml:"severity"`
	OnUnknown Severity `yaml:"on_unknown"`
	Scope     Scope    `yaml:"scope"`
	Approvers []string `yaml:"approvers"`
}

// Expr is a CEL expression with where it starts in the file, so that a
// compile error names the file's line and column.
type Expr struct {
	Text string
	pos  position
	// notText is what the file gave instead of a string ("the boolean true"), refused by
	// compileRule with its line and the policy's id, which UnmarshalYAML does not know.
	notText string
}

type position struct {
	line, col int
	// block is a literal or folded scalar (| or >): the text starts on
	// the next line at the block's indentation.
	block  bool
	quoted bool
}

// UnmarshalYAML keeps the scalar's position.
func (e *Expr) UnmarshalYAML(node ast.Node) error {
	tk := node.GetToken()
	switch n := node.(type) {
	case *ast.StringNode:
		e.Text = n.Value
	case *ast.LiteralNode:
		e.Text = n.Value.Value
		// The text starts on the line after the indicator; its column is
		// the block's indentation, which Load reads from the source.
		e.pos = position{line: n.Start.Position.Line + 1, block: true}
		return nil
	case *ast.NullNode:
		// require: with nothing after it: no expression (compileRule says one is required).
	case *ast.BoolNode:
		e.notText = "the YAML boolean " + n.String()
	case *ast.IntegerNode, *ast.FloatNode:
		e.notText = "the YAML number " + node.String()
	default:
		e.notText = "a YAML " + strings.ToLower(node.Type().String())
	}
	if tk != nil {
		e.pos.line, e.pos.col = tk.Position.Line, tk.Position.Column
		e.pos.quoted = tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType
	}
	return nil
}

// Policies are the compiled gate configuration.
type Policies struct {
	coverage  builtin
	minCover  float64
	risk      builtin
	threshold float64
	canary    builtin
	canaryKPI string
	strategy  string
	emergency bool
	retro     time.Duration
	freeze    freeze
	rules     []rule
	// kpis are the metrics the rules read, in order.
	kpis []string
	// approvers are, by rule id, the roles that may approve a release the
	// rule escalates.
	approvers map[string][]string
	watch     watchPolicy
	cache     kpiCache
}

type builtin struct {
	on        bool
	severity  Severity
	onUnknown Severity
	scope     Scope
}

func (b *builtin) set(c RuleConfig, defSev Severity, field string) error {
	b.on = c.Enabled == nil || *c.Enabled
	b.severity, b.onUnknown, b.scope = or(c.Severity, defSev), or(c.OnUnknown, Escalate), productionOnly
	if c.Scope != nil {
		b.scope = *c.Scope
	}
	if err := b.severity.check(field+".severity", false); err != nil {
		return err
	}
	return b.onUnknown.check(field+".on_unknown", true)
}

func or(s, def Severity) Severity {
	if s == "" {
		return def
	}
	return s
}

// LoadFile reads and compiles a gate configuration file; an error names
// the file, line and column.
func LoadFile(path string, cat *catalog.Catalog) (*Policies, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gate policies: %w", err)
	}
	return Load(path, b, cat)
}

// Load compiles a gate configuration (name is the file's name in errors).
// Empty src is the built-in policies with their defaults.
func Load(name string, src []byte, cat *catalog.Catalog) (*Policies, error) {
	var c Config
	if len(bytes.TrimSpace(src)) > 0 {
		if err := yaml.UnmarshalWithOptions(src, &c, yaml.DisallowUnknownField()); err != nil {
			return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, true))
		}
		if err := catalog.FractionsInWholeFields(name, src, reflect.TypeFor[Config]()); err != nil {
			return nil, err
		}
	}
	lines := strings.Split(string(src), "\n")
	for i := range c.Policies {
		if pos := &c.Policies[i].Require.pos; pos.block && pos.line <= len(lines) {
			l := lines[pos.line-1]
			pos.col = len(l) - len(strings.TrimLeft(l, " ")) + 1
		}
	}
	p, err := compile(c, cat)
	if err != nil {
		var le *locError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d:%d: %s", name, le.line, le.col, le.msg)
		}
		// The line is the key's, or its nearest written ancestor's.
		var ke *keyError
		if errors.As(err, &ke) {
			if line := catalog.YAMLLine(src, ke.Key); line > 0 {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// Defaults are the built-in policies with their default settings.
func Defaults(cat *catalog.Catalog) *Policies {
	p, err := compile(Config{}, cat)
	if err != nil {
		panic("gate: default policies: " + err.Error())
	}
	return p
}

type locError struct {
	line, col int
	msg       string
}

func (e *locError) Error() string { return fmt.Sprintf("%d:%d: %s", e.line, e.col, e.msg) }

func compile(c Config, cat *catalog.Catalog) (*Policies, error) {
	p := &Policies{minCover: 0.85, threshold: 70, canaryKPI: "release_impact_score", strategy: "canary", retro: 72 * time.Hour,
		approvers: map[string][]string{}}
	for _, a := range []struct {
		id    string
		roles []string
		def   []string
	}{
		{"coverage", c.Coverage.Approvers, DefaultApprovers},
		{"risk", c.Risk.Approvers, RiskApprovers},
		{"freeze", c.Freeze.Approvers, DefaultApprovers},
		{"canary", c.Canary.Approvers, DefaultApprovers},
	} {
		if err := p.setApprovers(a.id, a.roles, a.def, a.id+".approvers"); err != nil {
			return nil, err
		}
	}
	if err := p.coverage.set(c.Coverage.RuleConfig, Deny, "coverage"); err != nil {
		return nil, err
	}
	if m := c.Coverage.Min; m != nil {
		if *m < 0 || *m > 1 {
			return nil, fmt.Errorf("coverage.min: %v is not a fraction 0–1 (0.85 for 85%%)", *m)
		}
		p.minCover = *m
	}
	if err := p.risk.set(c.Risk.RuleConfig, Escalate, "risk"); err != nil {
		return nil, err
	}
	if t := c.Risk.Threshold; t != nil {
		if *t < 0 || *t > 100 {
			return nil, fmt.Errorf("risk.threshold: %v is not a score 0–100", *t)
		}
		p.threshold = *t
	}
	if err := p.canary.set(c.Canary.RuleConfig, Deny, "canary"); err != nil {
		return nil, err
	}
	if c.Canary.Metric != "" {
		p.canaryKPI = c.Canary.Metric
	}
	if c.Canary.Strategy != "" {
		p.strategy = strings.ToLower(c.Canary.Strategy)
	}
	if p.canary.on {
		if err := readable(cat, p.canaryKPI); err != nil {
			return nil, fmt.Errorf("canary.metric: %v", err)
		}
		p.kpis = append(p.kpis, p.canaryKPI)
	}
	p.emergency = c.Emergency.Enabled == nil || *c.Emergency.Enabled
	if c.Emergency.RetroWithin != "" {
		d, err := time.ParseDuration(c.Emergency.RetroWithin)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("emergency.retro_within: %q is not a positive duration such as 72h", c.Emergency.RetroWithin)
		}
		p.retro = d
	}
	var err error
	if p.freeze, err = compileFreeze(c.Freeze); err != nil {
		return nil, err
	}
	if p.watch, err = compileWatch(c.Watch); err != nil {
		return nil, err
	}
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{"coverage": true, "risk": true, "freeze": true, "canary": true}
	for i, pc := range c.Policies {
		field := fmt.Sprintf("policies[%d]", i)
		if !validID.MatchString(pc.ID) {
			return nil, keyErrorf(field+".id", "%q is not an id (lower case letters, digits, _ and -)", pc.ID)
		}
		if seen[pc.ID] {
			return nil, keyErrorf(field+".id", "%q is used twice (coverage, risk, freeze and canary are the built-in policies')", pc.ID)
		}
		seen[pc.ID] = true
		if err := p.setApprovers(pc.ID, pc.Approvers, DefaultApprovers, field+".approvers"); err != nil {
			return nil, withID(err, pc.ID)
		}
		r, err := compileRule(env, cat, pc, field)
		if err != nil {
			return nil, withID(err, pc.ID)
		}
		for _, k := range r.kpis {
			if !slices.Contains(p.kpis, k) {
				p.kpis = append(p.kpis, k)
			}
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

var validID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// withID names the policy id in a mistake at one of its keys
// ("policies[0].severity (cfr): …"), as the errors located in its
// expression do.
func withID(err error, id string) error {
	var ke *keyError
	if errors.As(err, &ke) {
		ke.ID = id
	}
	return err
}

// DefaultApprovers may approve what a policy escalates unless it names
// its own; RiskApprovers are the risk policy's default: an executive, or
// the engineering role the service owner's team leads hold.
var (
	DefaultApprovers = []string{"executive"}
	RiskApprovers    = []string{"executive", "engineering"}
)

var validRole = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func (p *Policies) setApprovers(id string, roles, def []string, field string) error {
	if len(roles) == 0 {
		p.approvers[id] = def
		return nil
	}
	for i, r := range roles {
		if !validRole.MatchString(r) {
			return keyErrorf(fmt.Sprintf("%s[%d]", field, i), "%q is not a role id (executive, engineering, …)", r)
		}
	}
	p.approvers[id] = slices.Clone(roles)
	return nil
}

// Approvers are the roles that may approve a release the rule escalates.
func (p *Policies) Approvers(rule string) []string {
	if a, ok := p.approvers[rule]; ok {
		return slices.Clone(a)
	}
	return slices.Clone(DefaultApprovers)
}

// readable says whether a metric can be read per service.
func readable(cat *catalog.Catalog, id string) error {
	m, ok := cat.Metric(id)
	if !ok {
		return fmt.Errorf("unknown metric %q", id)
	}
	dims := metrics.Dims(id)
	if m.Custom {
		// The organisation's own metric: its definition says what it breaks down by.
		dims = m.Breakdowns
	} else if !metrics.Known(id) {
		return fmt.Errorf("metric %q is defined but not computed yet", id)
	}
	if !slices.Contains(dims, "service") {
		return fmt.Errorf("metric %q cannot be broken down by service", id)
	}
	return nil
}

// kpiRef finds the KPIs an expression reads: kpi.ID and status.ID.
var kpiRef = regexp.MustCompile(`\b(kpi|status)\.([a-z_][a-z0-9_]*)`)

func compileRule(env *cel.Env, cat *catalog.Catalog, pc PolicyConfig, field string) (rule, error) {
	r := rule{id: pc.ID, message: strings.TrimSpace(pc.Message), severity: or(pc.Severity, Deny), onUnknown: or(pc.OnUnknown, Escalate), scope: pc.Scope, text: pc.Require.Text}
	if err := r.severity.check(field+".severity", false); err != nil {
		return r, err
	}
	if err := r.onUnknown.check(field+".on_unknown", true); err != nil {
		return r, err
	}
	if pc.Require.notText != "" {
		line, col := pc.Require.pos.at(1, 0)
		return r, &locError{line, col, fmt.Sprintf("%s.require (%s): %s is not a CEL expression: write the condition as a string (quote it, \"true\", to pass every release)", field, pc.ID, pc.Require.notText)}
	}
	if strings.TrimSpace(pc.Require.Text) == "" {
		return r, keyErrorf(field+".require", "a CEL expression is required, e.g. facts.coverage >= 0.9")
	}
	ast, iss := env.Compile(pc.Require.Text)
	if iss != nil && iss.Err() != nil {
		e := iss.Errors()[0]
		line, col := pc.Require.pos.at(e.Location.Line(), e.Location.Column())
		return r, &locError{line, col, fmt.Sprintf("%s (%s): %s%s", field+".require", pc.ID, e.Message, numberHint(e.Message))}
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		line, col := pc.Require.pos.at(1, 0)
		return r, &locError{line, col, fmt.Sprintf("%s.require (%s): the expression gives %s; it must give true or false", field, pc.ID, ast.OutputType())}
	}
	for _, lineText := range []string{pc.Require.Text} {
		for _, m := range kpiRef.FindAllStringSubmatchIndex(lineText, -1) {
			id := lineText[m[4]:m[5]]
			if err := readable(cat, id); err != nil {
				l, c := pc.Require.pos.offset(lineText, m[0])
				return r, &locError{l, c, fmt.Sprintf("%s.require (%s): %v", field, pc.ID, err)}
			}
			if !slices.Contains(r.kpis, id) {
				r.kpis = append(r.kpis, id)
			}
		}
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptPartialEval))
	if err != nil {
		return r, &keyError{Key: field + ".require", ID: pc.ID, Msg: err.Error()}
	}
	r.prg = prg
	return r, nil
}

// at maps a CEL location (line from 1, column from 0) to the file's line
// and column (both from 1).
func (p position) at(line, col int) (int, int) {
	if p.line == 0 {
		return line, col + 1
	}
	if p.block {
		return p.line + line - 1, p.col + col
	}
	if line > 1 {
		return p.line + line - 1, col + 1
	}
	start := p.col
	if p.quoted {
		start++
	}
	return p.line, start + col
}

// offset maps a byte offset in the expression to the file's line and column.
func (p position) offset(text string, off int) (int, int) {
	line := 1 + strings.Count(text[:off], "\n")
	col := off - (strings.LastIndex(text[:off], "\n") + 1)
	return p.at(line, col)
}

// numberHint explains a type-check error mixing a double (a KPI's value, a
// fact such as coverage) with an int literal where CEL allows no mix:
// == and !=, and arithmetic (the comparisons <, <=, >, >= mix them).
func numberHint(msg string) string {
	if strings.Contains(msg, "no matching overload") && strings.Contains(msg, "double") && strings.Contains(msg, "int") {
		return " (KPI values are doubles: write a whole number with a decimal point, 1.0, not 1)"
	}
	return ""
}

func celEnv() (*cel.Env, error) {
	return cel.NewEnv(
		// kpi.change_failure_rate < 1 compares a double with an int: allowed, as 1.0 is.
		cel.CrossTypeNumericComparisons(true),
		cel.Variable("facts", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("kpi", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("status", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("service", cel.StringType),
		cel.Variable("environment", cel.StringType),
		cel.Variable("production", cel.BoolType),
		cel.Variable("tier", cel.IntType),
		cel.Variable("team", cel.StringType),
		cel.Variable("version", cel.StringType),
		cel.Variable("change_request", cel.StringType),
	)
}

// KPIs are the metrics the policies read, in order.
func (p *Policies) KPIs() []string { return slices.Clone(p.kpis) }

// Describe lists the policies in force, one line each.
func (p *Policies) Describe() []string {
	var out []string
	add := func(b builtin, line string) {
		if b.on {
			out = append(out, line)
		}
	}
	add(p.coverage, "coverage: coverage ≥ "+strconv.FormatFloat(p.minCover*100, 'f', -1, 64)+"% ("+string(p.coverage.severity)+")")
	add(p.risk, "risk: risk score ≤ "+strconv.FormatFloat(p.threshold, 'f', -1, 64)+" ("+string(p.risk.severity)+")")
	add(builtin{on: len(p.freeze.windows) > 0}, fmt.Sprintf("freeze: %d window(s), %d exception(s) (%s)", len(p.freeze.windows), len(p.freeze.exceptions), p.freeze.severity))
	add(p.canary, "canary: "+p.canaryKPI+" red → strategy "+p.strategy+" ("+string(p.canary.severity)+")")
	for _, r := range p.rules {
		out = append(out, r.id+": "+r.text+" ("+string(r.severity)+")")
	}
	return out
}

// Current holds the policies in force: a gate policies section approved
// while the server runs replaces them whole (Set), so an evaluation that
// took them with Get uses the old policies or the new ones, never a mix.
// Safe for concurrent use.
type Current struct{ p atomic.Pointer[Policies] }

// NewCurrent holds p.
func NewCurrent(p *Policies) *Current {
	c := &Current{}
	c.p.Store(p)
	return c
}

// Get returns the policies in force (nil when none was set).
func (c *Current) Get() *Policies { return c.p.Load() }

// Set puts p in force.
func (c *Current) Set(p *Policies) { c.p.Store(p) }
