package metrics

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"

	"github.com/candor/candor/internal/domain"
)

// Organisation-defined metrics (SPEC §3): a metric written as data — a
// kind, the record time tested against W (or the state at as_of), a CEL
// filter, a per-record CEL value and an aggregate — computed by the same
// engine as the built-ins. The configuration compiles each definition
// once (CompileCustom) and hands the compiled metrics to the dataset in
// its Config (Config.Custom): the built-in table (defs.go) stays the one
// package-level registry, and a dataset looks a metric up in its own
// configuration's custom registry first (Dataset.def), so two
// configurations never share or mutate a global.

// CustomDef is one organisation-defined metric's computation, as written.
type CustomDef struct {
	ID   string
	Kind domain.Kind
	// Time is the timestamp field tested against W, TimePeriod (a period
	// kind's overlap with W) or TimeState (the records that exist at as_of).
	Time string
	// Filter (boolean; empty: every record), Value (a number per record;
	// empty for count and count_per_day) and Matching (boolean, the share's
	// numerator) are CEL.
	Filter, Value, Matching string
	Aggregate               string
	// P is the percentile, (0, 100], of AggregatePercentile.
	P float64
	// Dims are the breakdown dimensions offered; nil: every dimension the
	// kind's records carry (CustomDims).
	Dims []string
	// Span is SpanQuotaPeriod for a metric over the quota period holding
	// as_of, up to as_of (as quota attainment is), in place of W; "" for W.
	Span string
}

// SpanQuotaPeriod is the Span of a CustomDef over the current quota period
// (the catalog's span of the same name).
const SpanQuotaPeriod = "quota_period"

// What a walk is told of the time tested (customKind.walk): a field's
// index, or one of these.
const (
	tfState  = -1 // every record that exists at as_of
	tfPeriod = -3 // a period overlapping W
)

// Times of a CustomDef besides a timestamp field.
const (
	TimeState  = "state"
	TimePeriod = "period"
)

// Aggregates of a CustomDef.
const (
	AggregateCount       = "count"
	AggregateCountPerDay = "count_per_day"
	AggregateSum         = "sum"
	AggregateMean        = "mean"
	AggregateMedian      = "median"
	AggregatePercentile  = "percentile"
	AggregateShare       = "share"
	AggregateLatest      = "latest"
)

// Aggregates lists the aggregates, in the order the documentation gives them.
var Aggregates = []string{AggregateCount, AggregateCountPerDay, AggregateSum, AggregateMean, AggregateMedian,
	AggregatePercentile, AggregateShare, AggregateLatest}

// CustomCostLimit bounds one evaluation of one expression on one record, in
// CEL cost units (about one per field read, comparison or function call):
// a definition whose worst case is estimated above it is refused at load,
// and an evaluation that runs over it at run time leaves the metric
// without a value, with the reason. Records' strings are bounded (SPEC §1:
// 256 bytes for an identifier), so every expression over them has a finite
// estimate.
const CustomCostLimit = 10_000

// runtimeCostLimit is the limit the interpreter tracks each evaluation
// against: CustomCostLimit, lowered by a test to see an overrun handled.
var runtimeCostLimit uint64 = CustomCostLimit

// ExprError is a CompileCustom error: the expression field (filter, value,
// matching; "" for the definition as a whole, with Field naming the
// attribute) and the position in the expression's text, 1-based line and
// column (0 when it is not about a place in the text).
type ExprError struct {
	Field        string
	Line, Column int
	Msg          string
}

func (e *ExprError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Field, e.Line, e.Column, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

// CustomMetric is a compiled CustomDef.
type CustomMetric struct {
	Def CustomDef
	// Formula is the version its results cite: a number drawn from a hash
	// of the computation's text, so any change to it changes the citation.
	Formula                 int
	kind                    *customKind
	timeIdx                 int // index of the time field in kind.fields; tfState or tfPeriod
	filter, value, matching cel.Program
	// The same expressions compiled to Go where they can be
	// (customnative.go); nil where not.
	nFilter, nMatching func(a *customAct) (bool, bool)
	nValue             func(a *customAct) (float64, bool)
	// escalatedOnly says the filter of a ticket metric requires escalated
	// (a conjunct of its top-level &&), so only escalated tickets are walked.
	escalatedOnly bool
	// converts are the kinds whose money it converts into the organisation
	// currency: its own when an expression reads an amount, and quota for
	// a metric over the quota period (the quotas set the period): a record
	// of such a kind in a currency without a rate leaves it without a value.
	converts []domain.Kind
}

// Requires is the kind without which the metric has no value.
func (m *CustomMetric) Requires() domain.Kind { return m.Def.Kind }

// CustomKinds lists the kinds an organisation-defined metric can read.
func CustomKinds() []domain.Kind {
	out := make([]domain.Kind, 0, len(customKinds))
	for _, k := range customKinds {
		out = append(out, k.kind)
	}
	return out
}

// CustomFields lists the fields a kind's expressions read, each with its
// CEL type, for documentation and error messages.
func CustomFields(kind domain.Kind) []string {
	k := customKindOf(kind)
	if k == nil {
		return nil
	}
	out := make([]string, len(k.fields))
	for i, f := range k.fields {
		out[i] = f.name + " (" + f.celType().String() + ")"
	}
	return out
}

// CustomDims lists the breakdown dimensions a kind's records carry.
func CustomDims(kind domain.Kind) []string {
	if k := customKindOf(kind); k != nil {
		return slices.Clone(k.dims)
	}
	return nil
}

// CustomTimes lists what a definition of the kind may name as its time.
func CustomTimes(kind domain.Kind) []string {
	k := customKindOf(kind)
	if k == nil {
		return nil
	}
	var out []string
	for _, f := range k.fields {
		if f.typ == fTime {
			out = append(out, f.name)
		}
	}
	if k.period {
		out = append(out, TimePeriod)
	}
	return append(out, TimeState)
}

// CompileCustom checks a definition against its kind's fields and compiles
// its expressions. Every problem is an *ExprError.
func CompileCustom(def CustomDef) (*CustomMetric, error) {
	bad := func(field, format string, args ...any) error {
		return &ExprError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if Known(def.ID) {
		return nil, bad("id", "%q is a built-in metric; choose another id", def.ID)
	}
	k := customKindOf(def.Kind)
	if k == nil {
		names := make([]string, len(customKinds))
		for i, k := range customKinds {
			names[i] = string(k.kind)
		}
		return nil, bad("kind", "%q is not a kind a metric can read; expected one of %s", def.Kind, strings.Join(names, ", "))
	}
	m := &CustomMetric{Def: def, kind: k, timeIdx: tfState}
	switch def.Time {
	case TimeState:
	case TimePeriod:
		m.timeIdx = tfPeriod
		if !k.period {
			return nil, bad("time", "%q applies to the period kinds only; expected one of %s", def.Time, strings.Join(CustomTimes(def.Kind), ", "))
		}
	default:
		i, ok := k.byName[def.Time]
		if !ok || k.fields[i].typ != fTime {
			return nil, bad("time", "%q is not a timestamp of a %s; expected one of %s", def.Time, def.Kind, strings.Join(CustomTimes(def.Kind), ", "))
		}
		m.timeIdx = i
	}
	switch def.Span {
	case "":
	case SpanQuotaPeriod:
		if def.Time == TimeState {
			return nil, bad("span", "a state at as_of (time: state) covers no period; a metric over the quota period tests a record's time against it, such as closed_at")
		}
	default:
		return nil, bad("span", "%q: an organisation's metric covers its window, or with %s the quota period holding as_of", def.Span, SpanQuotaPeriod)
	}
	if !slices.Contains(Aggregates, def.Aggregate) {
		return nil, bad("aggregate", "%q is not an aggregate; expected one of %s", def.Aggregate, strings.Join(Aggregates, ", "))
	}
	needsValue := !slices.Contains([]string{AggregateCount, AggregateCountPerDay, AggregateShare}, def.Aggregate)
	switch {
	case needsValue && def.Value == "":
		return nil, bad("value", "the %s aggregate needs a value: a number per record, such as hours(resolved_at.value() - opened_at)", def.Aggregate)
	case !needsValue && def.Value != "":
		return nil, bad("value", "the %s aggregate takes no value (it counts records)", def.Aggregate)
	case def.Aggregate == AggregateShare && def.Matching == "":
		return nil, bad("matching", "the share aggregate needs matching: the condition of the records the share counts")
	case def.Aggregate != AggregateShare && def.Matching != "":
		return nil, bad("matching", "only the share aggregate takes matching")
	case def.Aggregate == AggregatePercentile && (def.P <= 0 || def.P > 100):
		return nil, bad("p", "the percentile aggregate needs p in (0, 100], e.g. 95")
	case def.Aggregate != AggregatePercentile && def.P != 0:
		return nil, bad("p", "only the percentile aggregate takes p")
	}
	for _, dim := range def.Dims {
		if !slices.Contains(k.dims, dim) {
			return nil, bad("breakdowns", "a %s cannot be broken down by %q; expected some of %s", def.Kind, dim, orNothing(k.dims))
		}
	}
	env, err := k.env()
	if err != nil {
		return nil, err
	}
	var errs error
	compile := func(field, src string, want *cel.Type, wantText string) (cel.Program, *cel.Ast) {
		if src == "" || errs != nil {
			return nil, nil
		}
		p, ast, err := compileExpr(env, k, field, src, want, wantText)
		if err != nil {
			errs = err
		}
		return p, ast
	}
	var fa, va, ma *cel.Ast
	m.filter, fa = compile("filter", def.Filter, cel.BoolType, "a condition (true or false)")
	m.value, va = compile("value", def.Value, cel.DoubleType, "a number")
	m.matching, ma = compile("matching", def.Matching, cel.BoolType, "a condition (true or false)")
	if errs != nil {
		return nil, errs
	}
	if fa != nil {
		m.nFilter = nativeBool(k, fa)
		m.escalatedOnly = def.Kind == domain.KindTicket && requires(fa.NativeRep().Expr(), "escalated")
	}
	if va != nil {
		m.nValue = nativeNum(k, va)
	}
	if ma != nil {
		m.nMatching = nativeBool(k, ma)
	}
	if readsMoney(k, fa, va, ma) {
		m.converts = append(m.converts, def.Kind)
	}
	if def.Span == SpanQuotaPeriod && def.Kind != domain.KindQuota {
		m.converts = append(m.converts, domain.KindQuota)
	}
	parts := []string{string(def.Kind), def.Time, def.Filter, def.Value, def.Aggregate, fmt.Sprint(def.P), def.Matching}
	if def.Span != "" {
		// Only when set: a metric over its window keeps the citation it
		// had before spans existed.
		parts = append(parts, def.Span)
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	// A positive int that fits every platform's int.
	m.Formula = int(binary.BigEndian.Uint32(h[:4])>>1) | 1
	return m, nil
}

func orNothing(v []string) string {
	if len(v) == 0 {
		return "nothing"
	}
	return strings.Join(v, ", ")
}

// compileExpr parses and type-checks one expression, requires its type,
// bounds its estimated cost and plans it with run-time cost tracking.
func compileExpr(env *cel.Env, k *customKind, field, src string, want *cel.Type, wantText string) (cel.Program, *cel.Ast, error) {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		e := iss.Errors()[0]
		return nil, nil, &ExprError{Field: field, Line: e.Location.Line(), Column: e.Location.Column() + 1, Msg: explainCEL(k, e.Message)}
	}
	out := ast.OutputType()
	ok := out.IsExactType(want)
	if want == cel.DoubleType && (out.IsExactType(cel.IntType) || out.IsExactType(cel.UintType)) {
		ok = true
	}
	if !ok {
		hint := ""
		if out.IsExactType(cel.DurationType) {
			hint = " (a duration: say hours(…), minutes(…) or days(…))"
		} else if strings.HasPrefix(out.String(), "optional_type") {
			hint = " (an optional field: say .value(), or .orValue(…) for what absent means)"
		}
		return nil, nil, &ExprError{Field: field, Line: 1, Column: 1, Msg: fmt.Sprintf("expected %s, but the expression is of type %s%s", wantText, out, hint)}
	}
	est, err := env.EstimateCost(ast, sizeEstimator{})
	if err != nil {
		return nil, nil, &ExprError{Field: field, Msg: "its cost cannot be bounded: " + err.Error()}
	}
	if est.Max > CustomCostLimit {
		return nil, nil, &ExprError{Field: field, Msg: fmt.Sprintf("its worst-case cost per record is estimated at %d, over the limit of %d: simplify it", est.Max, CustomCostLimit)}
	}
	p, err := env.Program(ast, cel.CostLimit(runtimeCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, nil, &ExprError{Field: field, Msg: err.Error()}
	}
	return p, ast, nil
}

// explainCEL turns the checker's words into the definition's.
func explainCEL(k *customKind, msg string) string {
	if strings.HasPrefix(msg, "undeclared reference to '") {
		name, _, _ := strings.Cut(strings.TrimPrefix(msg, "undeclared reference to '"), "'")
		names := make([]string, len(k.fields))
		for i, f := range k.fields {
			names[i] = f.name
		}
		return fmt.Sprintf("unknown field %q; expected a field of %s (%s), as_of or window_start", name, k.kind, strings.Join(names, ", "))
	}
	if name, ok := strings.CutPrefix(msg, "reserved identifier: "); ok {
		if field, ok := k.reserved[name]; ok {
			return fmt.Sprintf("%q is a reserved word of CEL: a %s's %s is the field %s", name, k.kind, name, field)
		}
		return fmt.Sprintf("%q is a reserved word of CEL, not a field of %s", name, k.kind)
	}
	if strings.HasPrefix(msg, "found no matching overload for") {
		return msg + " (the operands' types do not fit: an optional field needs .value(); a duration needs hours(…))"
	}
	return msg
}

// sizeEstimator bounds the sizes the cost estimate assumes: every string a
// record holds is an identifier or name of at most 256 bytes (SPEC §1), a
// tag a key and value of that size each; a measurement's tags are taken
// to number at most maxTags — a record with more (SPEC §1 bounds only the
// record's bytes) can run over at run time, where the tracked limit stops
// it.
type sizeEstimator struct{}

const maxTags = 100

func (sizeEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	t := n.Type()
	if t == nil || len(n.Path()) == 0 {
		return nil
	}
	switch {
	case t.IsExactType(cel.StringType):
		s := cost.RangedSizeEstimate(0, 256)
		return &s
	case t.IsExactType(cel.ListType(cel.StringType)):
		elem := cost.RangedSizeEstimate(0, 2*256+1)
		s := cost.RangedSizeEstimate(0, maxTags)
		s.Elem = &elem
		return &s
	}
	return nil
}

func (sizeEstimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// celEnvOptions are what every kind's environment shares: optional types
// for fields a record may lack, the string extensions (lowerAscii, …),
// numbers compared across int and double, the window's bounds and the
// duration helpers. No function reads a file, the network or the clock.
func celEnvOptions() []cel.EnvOption {
	per := func(name string, unit time.Duration) cel.EnvOption {
		return cel.Function(name, cel.Overload(name+"_duration", []*cel.Type{cel.DurationType}, cel.DoubleType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				d, ok := v.(types.Duration)
				if !ok {
					return types.NewErr("%s: not a duration", name)
				}
				return types.Double(float64(d.Duration) / float64(unit))
			})))
	}
	return []cel.EnvOption{
		cel.OptionalTypes(),
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.Variable("as_of", cel.TimestampType),
		cel.Variable("window_start", cel.TimestampType),
		per("hours", time.Hour), per("minutes", time.Minute), per("days", day), per("seconds", time.Second),
	}
}

// ---------------------------------------------------------------- registry seam

// customRegistry is one configuration's organisation-defined metrics.
type customRegistry struct {
	defs map[string]*Def
	ids  []string
	// earlier are the registries in force before this one, oldest first
	// (CustomVersions): an as_of before one's end is computed by it.
	earlier []earlierRegistry
}

// earlierRegistry is a registry in force until a time (unix ns, excluded).
type earlierRegistry struct {
	until int64
	r     *customRegistry
}

// at returns the definition of the metric in force at t (unix ns): the
// registry in force then, or, for a metric it lacks (added since), the
// first later one that has it.
func (r *customRegistry) at(id string, t int64) (*Def, bool) {
	for _, e := range r.earlier {
		if t < e.until {
			if def, ok := e.r.defs[id]; ok {
				return def, true
			}
		}
	}
	def, ok := r.defs[id]
	return def, ok
}

// all are every registry's definitions, the earlier ones' included.
func (r *customRegistry) all() map[*Def]bool {
	out := map[*Def]bool{}
	for _, e := range r.earlier {
		for _, def := range e.r.defs {
			out[def] = true
		}
	}
	for _, def := range r.defs {
		out[def] = true
	}
	return out
}

// SetCustom puts compiled organisation-defined metrics in the
// configuration; a dataset built with it computes them beside the
// built-ins. An id used twice is an error.
func (c *Config) SetCustom(ms []*CustomMetric) error {
	r := &customRegistry{defs: map[string]*Def{}}
	for _, m := range ms {
		// A built-in's id was refused already (CompileCustom).
		if _, dup := r.defs[m.Def.ID]; dup {
			return fmt.Errorf("custom metric %q is defined twice", m.Def.ID)
		}
		dims := m.Def.Dims
		if dims == nil {
			dims = m.kind.dims
		}
		total := m.Def.Aggregate == AggregateCount || m.Def.Aggregate == AggregateSum
		r.defs[m.Def.ID] = &Def{
			ID: m.Def.ID, Fn: m.compute, Reads: []domain.Kind{m.Def.Kind}, Requires: []domain.Kind{m.Def.Kind},
			Dims: slices.Clone(dims), Settings: m.kind.settings, Formula: m.Formula, Converts: m.converts,
			// A count or a sum of the records in W grows with W (a state at
			// as_of does not): judged at another window's length, as the
			// built-ins that sum over their window are.
			// One over the quota period does not grow with W.
			Sum:   m.Def.Time != TimeState && m.Def.Span == "" && total,
			Total: m.Def.Time == TimeState && total,
		}
		r.ids = append(r.ids, m.Def.ID)
	}
	slices.Sort(r.ids)
	c.custom = r
	return nil
}

// defAt returns the metric's definition in force at t: the
// configuration's own (its version in force then, CustomVersions) first,
// then the built-in table.
func (d *Dataset) defAt(id string, t time.Time) (*Def, error) {
	if r := d.cfg.custom; r != nil {
		if def, ok := r.at(id, t.UnixNano()); ok {
			return def, nil
		}
	}
	return reg.def(id)
}

// def returns the metric's definition: the configuration's own first, then
// the built-in table.
func (d *Dataset) def(id string) (*Def, error) {
	if r := d.cfg.custom; r != nil {
		if def, ok := r.defs[id]; ok {
			return def, nil
		}
	}
	return reg.def(id)
}

// Known reports whether the dataset computes a metric: a built-in or one of
// its configuration's own.
func (d *Dataset) Known(id string) bool {
	_, err := d.def(id)
	return err == nil
}

// Dims returns the breakdown dimensions of a metric the dataset computes.
func (d *Dataset) Dims(id string) []string {
	if def, err := d.def(id); err == nil {
		return def.Dims
	}
	return nil
}

// CustomIDs lists the organisation-defined metrics the dataset computes.
func (d *Dataset) CustomIDs() []string {
	if d.cfg.custom == nil {
		return nil
	}
	return slices.Clone(d.cfg.custom.ids)
}

// CustomComputation says which computation of an organisation's metric
// produces its values as of t: the formula version the values cite, and
// since when that computation has been in force — zero when it has been
// since the start (a metric added by a later custom_metrics value is
// computed for earlier dates by its first definition, so it counts from
// the start too) — and until when, zero while it still is. ok is false
// for a built-in metric.
func (d *Dataset) CustomComputation(id string, t time.Time) (formula int, since, until time.Time, ok bool) {
	r := d.cfg.custom
	if r == nil {
		return 0, time.Time{}, time.Time{}, false
	}
	def, ok := r.at(id, t.UnixNano())
	if !ok {
		return 0, time.Time{}, time.Time{}, false
	}
	// The registries in force one after another, each from the end of the
	// one before (the first from the start).
	type era struct {
		from int64
		r    *customRegistry
	}
	eras := []era{}
	var from int64
	for _, e := range r.earlier {
		eras = append(eras, era{from, e.r})
		from = e.until
	}
	eras = append(eras, era{from, r})
	// Back from the era in force at t while the metric's computation is
	// the same (or the era lacks the metric, computed then by a later one).
	at := t.UnixNano()
	start := int64(0)
	for i := len(eras) - 1; i >= 0; i-- {
		if eras[i].from > at {
			continue
		}
		if o, has := eras[i].r.defs[id]; has && o.Formula != def.Formula {
			break
		}
		start = eras[i].from
	}
	if start != 0 {
		since = time.Unix(0, start).UTC()
	}
	// Forward to the first later era computing it otherwise.
	for _, e := range eras {
		if e.from <= at {
			continue
		}
		if o, has := e.r.defs[id]; has && o.Formula != def.Formula {
			until = time.Unix(0, e.from).UTC()
			break
		}
	}
	return def.Formula, since, until, true
}

// customDef returns the configuration's own metric with the id.
func (c *Config) customDef(id string) (*Def, bool) {
	if c.custom == nil {
		return nil, false
	}
	def, ok := c.custom.defs[id]
	return def, ok
}

// requires reports whether e is false whenever the boolean variable name
// is: e is name, or a conjunction with it among its top-level conjuncts.
func requires(e celast.Expr, name string) bool {
	switch e.Kind() {
	case celast.IdentKind:
		return e.AsIdent() == name
	case celast.CallKind:
		c := e.AsCall()
		if c.FunctionName() == operators.LogicalAnd && !c.IsMemberFunction() {
			for _, arg := range c.Args() {
				if requires(arg, name) {
					return true
				}
			}
		}
	}
	return false
}

// readsMoney reports whether any of the checked expressions names a money
// field of k (an amount converted into the organisation currency).
func readsMoney(k *customKind, asts ...*cel.Ast) bool {
	for _, a := range asts {
		if a == nil {
			continue
		}
		for _, r := range a.NativeRep().ReferenceMap() {
			if i, ok := k.byName[r.Name]; ok && k.fields[i].money {
				return true
			}
		}
	}
	return false
}

// CustomSet is one configuration's organisation-defined metrics as
// compiled (SetCustom), to put in force in datasets already loaded
// (Dataset.SetCustom): an approved custom_metrics section in a running
// server.
type CustomSet struct{ r *customRegistry }

// CustomSet returns the configuration's organisation-defined metrics.
func (c Config) CustomSet() CustomSet { return CustomSet{c.custom} }

// CustomVersion is a set of organisation-defined metrics and when it took
// effect.
type CustomVersion struct {
	From time.Time
	Set  CustomSet
}

// CustomVersions makes of sets in force one after another (oldest first;
// the first's From is ignored: it is in force from the start) the set a
// dataset computes: a value as of t is computed by the version in force
// at t — each point of a weekly series by its own — and a metric that
// version lacks by the first later version that has it. What does not
// depend on a time (Known, Dims, CustomIDs, Cite) answers for the last.
func CustomVersions(vs []CustomVersion) CustomSet {
	if len(vs) == 0 {
		return CustomSet{}
	}
	last := vs[len(vs)-1].Set.r
	if len(vs) == 1 || last == nil {
		return CustomSet{last}
	}
	r := &customRegistry{defs: last.defs, ids: last.ids}
	for i, v := range vs[:len(vs)-1] {
		if v.Set.r != nil {
			r.earlier = append(r.earlier, earlierRegistry{until: vs[i+1].From.UnixNano(), r: v.Set.r})
		}
	}
	return CustomSet{r}
}

// UseCustom makes the configuration compute set's organisation-defined
// metrics in place of its own.
func (c *Config) UseCustom(set CustomSet) { c.custom = set.r }

// SetCustom puts another set of organisation-defined metrics in force in
// the dataset. The results cached for the metrics it replaces are dropped:
// each compiled metric has a Def of its own, so a changed definition never
// finds the old one's results, and dropping them returns their room. Call
// it while no reader holds the dataset (the engine's write lock).
func (d *Dataset) SetCustom(set CustomSet) {
	old := d.cfg.custom
	if old == set.r {
		return
	}
	d.cfg.custom = set.r
	// A citation names the formula version, which the new set may change.
	d.cites.Clear()
	if old == nil {
		return
	}
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	var kept map[*Def]bool
	if set.r != nil {
		kept = set.r.all()
	}
	gone := old.all()
	for def := range gone {
		if kept[def] {
			continue
		}
		for k := range d.cache.byDef[def] {
			d.cache.n--
			if k.records {
				d.cache.drills--
			}
		}
		delete(d.cache.byDef, def)
	}
	for k := range d.asked {
		if gone[k.def] && !kept[k.def] {
			delete(d.asked, k)
		}
	}
	for k := range d.cache.stale {
		if gone[k.def] && !kept[k.def] {
			delete(d.cache.stale, k)
			delete(d.wanted, k)
		}
	}
}
