package metrics

import (
	"iter"
	"math"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/candor/candor/internal/domain"
)

// What an organisation-defined metric's expressions see of a record: one
// typed CEL variable per field the engine keeps of the kind (SPEC §1),
// plus the derived fields the built-ins use (a service's team, tier and
// business unit; a deployment's rolled_back and rework). A field a record
// may lack is a CEL optional (optional_type(T)): the expression says what
// absence means (`resolved_at.hasValue()`, `.orValue(…)`), and a
// comparison with an optional that was not unwrapped fails the type check
// at load. Absent text reads as "" and is not optional.
//
// The as-of rule (SPEC §3) is applied here: a timestamp of an event after
// as_of (a resolution, a fix, a close) is absent. Dates set in advance —
// a deadline (sla_due_at, postmortem_due_at, close_date) or a period's
// bounds — are not events and read as recorded, as the built-ins read them.
//
// The records are read through the window walks (walk.go) like every
// formula; a record is the activation (customAct) the compiled programs
// resolve their variables from, so evaluating a record allocates no map.

type fieldType uint8

const (
	fTime fieldType = iota
	fNum
	fStr
	fBool
	fInt
	fList // a list of strings (a measurement's tags); read by the interpreter only
)

type customField struct {
	name string
	typ  fieldType
	// opt: the record may lack it; deadline: a date set in advance, not
	// subject to the as-of rule; money: an amount converted into the
	// organisation currency (moneyField).
	opt, deadline, money bool
	t                    func(a *customAct) int64 // 0: absent
	n                    func(a *customAct) (float64, bool)
	s                    func(a *customAct) string
	b                    func(a *customAct) bool
	i                    func(a *customAct) int64
	l                    func(a *customAct) []string
}

func (f *customField) celType() *cel.Type {
	var t *cel.Type
	switch f.typ {
	case fTime:
		t = cel.TimestampType
	case fNum:
		t = cel.DoubleType
	case fStr:
		t = cel.StringType
	case fBool:
		t = cel.BoolType
	case fList:
		t = cel.ListType(cel.StringType)
	default:
		t = cel.IntType
	}
	if f.opt {
		return cel.OptionalType(t)
	}
	return t
}

// customKind is one kind as organisation-defined metrics read it.
type customKind struct {
	kind   domain.Kind
	fields []customField
	byName map[string]int
	dims   []string
	// born is the field of the defining time (SPEC §3); period kinds have
	// start and end, their period's bounds.
	born       int
	period     bool
	start, end int
	settings   []Setting
	// reserved names, for a record field whose name CEL reserves
	// (package), the field an expression reads it as.
	reserved map[string]string
	// walk calls fn with a set to each record that exists at as_of, in
	// the query's scope, that may pass the time test: the caller tests it.
	// tf is the time field's index (or tfState, tfPeriod): a walk
	// may use an index of it to skip records outside W.
	walk func(a *customAct, q Query, tf int, fn func())

	envOnce *sync.Once
	celEnv  *cel.Env
	envErr  error
}

func (k *customKind) env() (*cel.Env, error) {
	k.envOnce.Do(func() {
		opts := celEnvOptions()
		for i := range k.fields {
			opts = append(opts, cel.Variable(k.fields[i].name, k.fields[i].celType()))
		}
		k.celEnv, k.envErr = cel.NewEnv(opts...)
	})
	return k.celEnv, k.envErr
}

// customAct is the record the programs evaluate: the current row of the
// kind walked (one pointer set), the dataset and the window.
type customAct struct {
	d           *Dataset
	k           *customKind
	asOf, start int64
	conv        *converter
	// escalatedOnly: the filter is false for a ticket that is not
	// escalated, so the walk may read the escalated ones only.
	escalatedOnly bool

	dep *Dep
	inc *Inc
	sli *SLISample
	tk  *ticketRow
	sv  *surveyRow
	vu  *vulnRow
	ct  *controlRow
	co  *costRow
	us  *usageRow
	bu  *budgetRow
	sb  *subRow
	op  *oppRow
	ld  *leadRow
	qu  *quotaRow
	sp  *spendRow
	tg  *targetRow
	ms  *measurementRow
}

var _ interpreter.Activation = (*customAct)(nil)

func (a *customAct) Parent() interpreter.Activation { return nil }

func tsVal(t int64) types.Timestamp { return types.Timestamp{Time: time.Unix(0, t).UTC()} }

// ResolveName gives the field's CEL value, applying the as-of rule.
func (a *customAct) ResolveName(name string) (any, bool) {
	switch name {
	case "as_of":
		return tsVal(a.asOf), true
	case "window_start":
		return tsVal(a.start), true
	}
	i, ok := a.k.byName[name]
	if !ok {
		return nil, false
	}
	f := &a.k.fields[i]
	var v ref.Val
	present := true
	switch f.typ {
	case fTime:
		t := a.timeOf(f)
		present = t != 0
		v = tsVal(t)
	case fNum:
		var x float64
		x, present = f.n(a)
		v = types.Double(x)
	case fStr:
		v = types.String(f.s(a))
	case fBool:
		v = types.Bool(f.b(a))
	case fList:
		v = types.NewStringList(types.DefaultTypeAdapter, f.l(a))
	default:
		v = types.Int(f.i(a))
	}
	if !f.opt {
		return v, true
	}
	if !present {
		return types.OptionalNone, true
	}
	return types.OptionalOf(v), true
}

// time returns field i's time for the window test (0: absent or, for an
// event, not yet happened).
func (a *customAct) time(i int) int64 { return a.timeOf(&a.k.fields[i]) }

func (a *customAct) timeOf(f *customField) int64 {
	t := f.t(a)
	if !f.deadline && t > a.asOf {
		return 0
	}
	return t
}

// ---------------------------------------------------------------- field constructors

func fT(name string, opt bool, t func(a *customAct) int64) customField {
	return customField{name: name, typ: fTime, opt: opt, t: t}
}

func fDeadline(name string, opt bool, t func(a *customAct) int64) customField {
	return customField{name: name, typ: fTime, opt: opt, deadline: true, t: t}
}

func fN(name string, n func(a *customAct) float64) customField {
	return customField{name: name, typ: fNum, n: func(a *customAct) (float64, bool) { return n(a), true }}
}

func fNOpt(name string, n func(a *customAct) (float64, bool)) customField {
	return customField{name: name, typ: fNum, opt: true, n: n}
}

func fS(name string, s func(a *customAct) string) customField {
	return customField{name: name, typ: fStr, s: s}
}

func fB(name string, b func(a *customAct) bool) customField {
	return customField{name: name, typ: fBool, b: b}
}

func fI(name string, i func(a *customAct) int64) customField {
	return customField{name: name, typ: fInt, i: i}
}

// code reads a string table code as a field.
func code(name string, c func(a *customAct) uint32) customField {
	return fS(name, func(a *customAct) string { return a.d.str(c(a)) })
}

// serviceFields are a service-carrying record's service and what its
// service record says of it.
func serviceFields(svc func(a *customAct) string) []customField {
	return []customField{
		fS("service", svc),
		fS("team", func(a *customAct) string { return a.d.ServiceAttr(svc(a), "team") }),
		fS("business_unit", func(a *customAct) string { return a.d.ServiceAttr(svc(a), "business_unit") }),
		fI("tier", func(a *customAct) int64 { return int64(a.d.serviceTier(svc(a))) }),
	}
}

// moneyField reads an amount in the organisation currency; a currency
// without a rate leaves the metric without a value (converter.err).
func moneyField(name string, kind domain.Kind, get func(a *customAct) (id, cur uint32, m domain.Money)) customField {
	f := fN(name, func(a *customAct) float64 {
		id, cur, m := get(a)
		v, _ := a.conv.to(kind, id, cur, m)
		return v.Float()
	})
	f.money = true
	return f
}

func newCustomKind(k customKind, fields ...customField) *customKind {
	k.fields = fields
	k.envOnce = new(sync.Once)
	k.byName = map[string]int{}
	for i, f := range fields {
		k.byName[f.name] = i
	}
	return &k
}

// idx returns the index of a field by name; it panics for a typo in this
// file's tables.
func (k *customKind) idx(name string) int {
	i, ok := k.byName[name]
	if !ok {
		panic("metrics: no custom field " + name + " in " + string(k.kind))
	}
	return i
}

// ---------------------------------------------------------------- walks

// tableWalk walks a compact-row table: by its event time from W's start
// when every timestamp the time test reads is at or before the row's
// event time (eventMax), else every row; existence is the born field's
// time at or before as_of.
func tableWalk[R any, P interface {
	*R
	row
}](tab func(d *Dataset) *table[R, P], set func(a *customAct, x P), scope func(a *customAct, q Query, x P) bool, eventMax bool) func(a *customAct, q Query, tf int, fn func()) {
	return tableWalkBy(tab, set, scope, eventMax, nil)
}

// tableWalkBy is tableWalk for a kind with orders of its own by some of
// its time fields: by returns the rows whose field tf lies in [lo, hi)
// (walk.go's leadsMQLIn, oppsClosingIn, …), or nil for a field it has no
// order of. A window on such a field walks the rows in it, not every row
// from W's start to the newest (or, for a field that may lie after the
// event time, every row).
func tableWalkBy[R any, P interface {
	*R
	row
}](tab func(d *Dataset) *table[R, P], set func(a *customAct, x P), scope func(a *customAct, q Query, x P) bool, eventMax bool,
	by func(d *Dataset, tf int, lo, hi int64) iter.Seq[P]) func(a *customAct, q Query, tf int, fn func()) {
	return func(a *customAct, q Query, tf int, fn func()) {
		t := tab(a.d)
		var seq iter.Seq[P]
		if by != nil && tf >= 0 {
			seq = by(a.d, tf, q.start(), q.end())
		}
		switch {
		case seq != nil:
		// A row with a time in W, or a period reaching into it, has an
		// event time at or after W's start; a record standing at as_of may
		// have any.
		case eventMax && (tf >= 0 || tf == tfPeriod):
			seq = t.from(q.start())
		default:
			seq = t.all()
		}
		bornAt := a.k.fields[a.k.born].t
		org := q.Scope.Dim == ""
		for x := range seq {
			set(a, x)
			if bornAt(a) > a.asOf || !org && !scope(a, q, x) {
				continue
			}
			fn()
		}
	}
}

func noScope[P any](*customAct, Query, P) bool { return true }

var customKinds = buildCustomKinds()

func customKindOf(kind domain.Kind) *customKind {
	for _, k := range customKinds {
		if k.kind == kind {
			return k
		}
	}
	return nil
}

// depStatuses and severities5 name a deployment's status and an
// incident's severity without a map lookup or a string built per record.
var (
	depStatuses = [3]string{stSuccess: domain.StatusSuccess, stFailure: domain.StatusFailure, stRolledBack: domain.StatusRolledBack}
	severities5 = [5]string{"P0", "P1", "P2", "P3", "P4"}
)

func buildCustomKinds() []*customKind {
	envs := []Setting{SettingProductionEnvironments, SettingEnvironmentAliases}
	money := []Setting{SettingCurrency, SettingExchangeRates}
	var out []*customKind

	// Deployments: the production deployments the delivery metrics read
	// (SPEC §3), by finishing time.
	depSvc := func(a *customAct) string { return a.d.depService(a.dep) }
	dep := newCustomKind(customKind{kind: domain.KindDeployment, dims: []string{"team", "service", "environment", "tier", "business_unit"}, settings: envs},
		append([]customField{
			code("id", func(a *customAct) uint32 { return a.dep.id }),
			code("source", func(a *customAct) uint32 { return a.dep.src }),
			code("environment", func(a *customAct) uint32 { return a.dep.env }),
			fT("finished_at", false, func(a *customAct) int64 { return a.dep.Finished }),
			fT("started_at", true, func(a *customAct) int64 { return a.dep.Started }),
			fS("status", func(a *customAct) string { return depStatuses[a.dep.Status%3] }),
			fB("rolled_back", func(a *customAct) bool { return a.d.rolledBack(a.dep, a.asOf) }),
			fB("rework", func(a *customAct) bool { return a.dep.Rework }),
			fB("emergency", func(a *customAct) bool { return a.dep.Emergency }),
			fT("retro_validated_at", true, func(a *customAct) int64 { return a.d.retroValid(a.dep) }),
			code("rollback_of", func(a *customAct) uint32 { return a.dep.rollbackOf }),
			code("change_request", func(a *customAct) uint32 { return a.dep.cr }),
		}, serviceFields(depSvc)...)...)
	dep.born = dep.idx("finished_at")
	finished := dep.born
	dep.walk = func(a *customAct, q Query, tf int, fn func()) {
		lo, hi := int64(math.MinInt64), a.asOf+1
		if tf == finished {
			lo, hi = q.start(), q.end()
		}
		org := q.Scope.Dim == ""
		for _, r := range a.d.prodBetween(lo, hi) {
			if x := a.d.depOf(r.i); org || a.d.matchDep(q, x) {
				a.dep = x
				fn()
			}
		}
	}
	out = append(out, dep)

	incSvc := func(a *customAct) string { return a.d.str(a.inc.svc) }
	inc := newCustomKind(customKind{kind: domain.KindIncident, dims: []string{"team", "service", "tier", "business_unit", "origin"}},
		append([]customField{
			code("id", func(a *customAct) uint32 { return a.inc.id }),
			code("source", func(a *customAct) uint32 { return a.inc.src }),
			fS("severity", func(a *customAct) string { return severities5[min(a.inc.Severity, 4)] }),
			fT("opened_at", false, func(a *customAct) int64 { return a.inc.Opened }),
			fT("detected_at", true, func(a *customAct) int64 { return a.inc.Detected }),
			fT("resolved_at", true, func(a *customAct) int64 { return a.inc.Resolved }),
			fDeadline("postmortem_due_at", true, func(a *customAct) int64 { return a.inc.PostmortemDue }),
			fT("postmortem_done_at", true, func(a *customAct) int64 { return a.inc.PMDone }),
			code("caused_by", func(a *customAct) uint32 { return a.inc.causedBy }),
			code("caused_by_change_request", func(a *customAct) uint32 { return a.inc.causedByCR }),
			fB("customer_facing", func(a *customAct) bool { return a.inc.CustomerFacing }),
			code("origin", func(a *customAct) uint32 { return a.inc.origin }),
			code("category", func(a *customAct) uint32 { return a.inc.category }),
			code("fingerprint", func(a *customAct) uint32 { return a.inc.fingerprint }),
		}, serviceFields(incSvc)...)...)
	inc.born = inc.idx("opened_at")
	opened, resolved := inc.born, inc.idx("resolved_at")
	inc.walk = func(a *customAct, q Query, tf int, fn func()) {
		var rows []*Inc
		switch tf {
		case opened:
			rows = a.d.openedBetween(q.start(), q.end())
		case resolved:
			rows = a.d.resolvedBetween(q.start(), q.end())
		default:
			rows = a.d.openedBetween(math.MinInt64, a.asOf+1)
		}
		for _, i := range rows {
			if i.Opened <= a.asOf && a.d.matchInc(q, i) {
				a.inc = i
				fn()
			}
		}
	}
	out = append(out, inc)

	sliSvc := func(a *customAct) string { return a.d.str(a.sli.svc) }
	sli := newCustomKind(customKind{kind: domain.KindSLI, dims: []string{"team", "service", "tier", "business_unit"}, period: true},
		append([]customField{
			code("id", func(a *customAct) uint32 { return a.sli.id }),
			code("source", func(a *customAct) uint32 { return a.sli.src }),
			fDeadline("period_start", false, func(a *customAct) int64 { return a.sli.Start }),
			fDeadline("period_end", false, func(a *customAct) int64 { return a.sli.End }),
			fN("good", func(a *customAct) float64 { return a.sli.Good }),
			fN("total", func(a *customAct) float64 { return a.sli.Total }),
			fS("objective", func(a *customAct) string {
				if a.sli.latency {
					return "latency"
				}
				return "availability"
			}),
		}, serviceFields(sliSvc)...)...)
	sli.born, sli.start, sli.end = sli.idx("period_start"), sli.idx("period_start"), sli.idx("period_end")
	sli.walk = func(a *customAct, q Query, tf int, fn func()) {
		// Periods are short (minutes to a day): those starting in W, or
		// before it for a test of another time, through as_of.
		lo := int64(math.MinInt64)
		if tf == a.k.start {
			lo = q.start()
		}
		for _, rows := range [][]*SLISample{a.d.slisStarting(lo, a.asOf+1), a.d.latencySLIsStarting(lo, a.asOf+1)} {
			for _, s := range rows {
				if a.d.matchServiceCode(q, s.svc) {
					a.sli = s
					fn()
				}
			}
		}
	}
	out = append(out, sli)

	ticket := newCustomKind(customKind{kind: domain.KindTicket, dims: []string{"team", "service", "tier", "business_unit", "priority", "segment"}},
		code("id", func(a *customAct) uint32 { return a.tk.id }),
		code("source", func(a *customAct) uint32 { return a.tk.source }),
		fT("created_at", false, func(a *customAct) int64 { return a.tk.created }),
		fT("resolved_at", true, func(a *customAct) int64 { return a.tk.resolved }),
		fDeadline("sla_due_at", true, func(a *customAct) int64 { return a.tk.slaDue }),
		code("customer", func(a *customAct) uint32 { return a.tk.customer }),
		code("segment", func(a *customAct) uint32 { return a.tk.segment() }),
		code("service", func(a *customAct) uint32 { return a.tk.service }),
		code("priority", func(a *customAct) uint32 { return a.tk.priority }),
		code("category", func(a *customAct) uint32 { return a.tk.category }),
		code("user_role", func(a *customAct) uint32 { return a.tk.userRole }),
		code("criticality", func(a *customAct) uint32 { return a.tk.criticality }),
		fB("escalated", func(a *customAct) bool { return a.tk.escalated() }),
		code("release", func(a *customAct) uint32 { return a.tk.release }),
	)
	ticket.born = ticket.idx("created_at")
	ticketWalk := tableWalk((*Dataset).tickets, func(a *customAct, x *ticketRow) { a.tk = x },
		func(a *customAct, q Query, x *ticketRow) bool { return a.d.matchTicket(q, x) }, true)
	ticket.walk = func(a *customAct, q Query, tf int, fn func()) {
		if !a.escalatedOnly {
			ticketWalk(a, q, tf, fn)
			return
		}
		// The filter requires escalated: walk the escalated tickets created
		// by as_of (open_escalations' index) instead of every ticket.
		for x := range a.d.escalatedThrough(a.asOf) {
			if a.d.matchTicket(q, x) {
				a.tk = x
				fn()
			}
		}
	}
	out = append(out, ticket)

	survey := newCustomKind(customKind{kind: domain.KindSurvey},
		code("id", func(a *customAct) uint32 { return a.sv.id }),
		code("source", func(a *customAct) uint32 { return a.sv.source }),
		fT("at", false, func(a *customAct) int64 { return a.sv.at }),
		code("type", func(a *customAct) uint32 { return a.sv.typ }),
		fN("score", func(a *customAct) float64 { return a.sv.score }),
		code("customer", func(a *customAct) uint32 { return a.sv.customer }),
		code("release", func(a *customAct) uint32 { return a.sv.release }),
	)
	survey.born = survey.idx("at")
	survey.walk = tableWalk((*Dataset).surveys, func(a *customAct, x *surveyRow) { a.sv = x }, noScope, true)
	out = append(out, survey)

	vulnSvc := func(a *customAct) string { return a.d.str(a.vu.service) }
	// kev: known exploited (a KEV catalog's entry, Grype's knownExploited);
	// package_name: the record's package, which CEL cannot name `package`
	// (a reserved word: explainCEL points a filter saying it here); as a
	// breakdown it is package, as the record and the records table name it.
	vuln := newCustomKind(customKind{kind: domain.KindVulnerability, dims: []string{"team", "service", "tier", "business_unit", "package"},
		reserved: map[string]string{"package": "package_name"}},
		append([]customField{
			code("id", func(a *customAct) uint32 { return a.vu.id }),
			code("source", func(a *customAct) uint32 { return a.vu.source }),
			code("severity", func(a *customAct) uint32 { return a.vu.severity }),
			fT("opened_at", false, func(a *customAct) int64 { return a.vu.opened }),
			fT("fixed_at", true, func(a *customAct) int64 { return a.vu.fixed }),
			code("cve", func(a *customAct) uint32 { return a.vu.cve }),
			fB("kev", func(a *customAct) bool { return a.vu.kev() }),
			code("package_name", func(a *customAct) uint32 { return a.vu.pkgCode() }),
		}, serviceFields(vulnSvc)...)...)
	vuln.born = vuln.idx("opened_at")
	vuln.walk = tableWalk((*Dataset).vulns, func(a *customAct, x *vulnRow) { a.vu = x },
		func(a *customAct, q Query, x *vulnRow) bool { return a.d.matchVuln(q, x) }, true)
	out = append(out, vuln)

	ctl := newCustomKind(customKind{kind: domain.KindControl, dims: []string{"framework"}},
		code("id", func(a *customAct) uint32 { return a.ct.id }),
		code("source", func(a *customAct) uint32 { return a.ct.source }),
		code("control", func(a *customAct) uint32 { return a.ct.control }),
		code("framework", func(a *customAct) uint32 { return a.ct.framework }),
		fT("checked_at", false, func(a *customAct) int64 { return a.ct.checked }),
		fB("passed", func(a *customAct) bool { return a.ct.passed }),
	)
	ctl.born = ctl.idx("checked_at")
	ctl.walk = tableWalk((*Dataset).controls, func(a *customAct, x *controlRow) { a.ct = x },
		func(a *customAct, q Query, x *controlRow) bool {
			return a.d.matchCode(q, "framework", x.framework)
		}, true)
	out = append(out, ctl)

	period := func(k *customKind) *customKind {
		k.period, k.start, k.end = true, k.idx("period_start"), k.idx("period_end")
		k.born = k.start
		return k
	}
	costK := period(newCustomKind(customKind{kind: domain.KindCost, dims: []string{"team", "service", "tier", "business_unit", "category"}, settings: money},
		code("id", func(a *customAct) uint32 { return a.co.id }),
		code("source", func(a *customAct) uint32 { return a.co.source }),
		fDeadline("period_start", false, func(a *customAct) int64 { return a.co.start }),
		fDeadline("period_end", false, func(a *customAct) int64 { return a.co.end }),
		moneyField("amount", domain.KindCost, func(a *customAct) (uint32, uint32, domain.Money) { return a.co.id, a.co.currency, a.co.amount }),
		code("service", func(a *customAct) uint32 { return a.co.service }),
		code("category", func(a *customAct) uint32 { return a.co.category }),
	))
	costK.walk = tableWalk((*Dataset).costs, func(a *customAct, x *costRow) { a.co = x },
		func(a *customAct, q Query, x *costRow) bool {
			return a.d.matchServiceCode(q, x.service) && a.d.matchCode(q, "category", x.category)
		}, true)
	out = append(out, costK)

	usage := period(newCustomKind(customKind{kind: domain.KindUsage, dims: []string{"team", "service", "tier", "business_unit"}},
		code("id", func(a *customAct) uint32 { return a.us.id }),
		code("source", func(a *customAct) uint32 { return a.us.source }),
		fDeadline("period_start", false, func(a *customAct) int64 { return a.us.start }),
		fDeadline("period_end", false, func(a *customAct) int64 { return a.us.end }),
		fNOpt("requests", func(a *customAct) (float64, bool) { return a.us.requests, a.us.hasRequests }),
		fNOpt("active_customers", func(a *customAct) (float64, bool) { return a.us.activeCustomers, a.us.hasActive }),
		code("service", func(a *customAct) uint32 { return a.us.service }),
	))
	usage.walk = tableWalk((*Dataset).usages, func(a *customAct, x *usageRow) { a.us = x },
		func(a *customAct, q Query, x *usageRow) bool { return a.d.matchServiceCode(q, x.service) }, true)
	out = append(out, usage)

	budget := period(newCustomKind(customKind{kind: domain.KindBudget, dims: []string{"category"}, settings: money},
		code("id", func(a *customAct) uint32 { return a.bu.id }),
		code("source", func(a *customAct) uint32 { return a.bu.source }),
		fDeadline("period_start", false, func(a *customAct) int64 { return a.bu.start }),
		fDeadline("period_end", false, func(a *customAct) int64 { return a.bu.end }),
		moneyField("amount", domain.KindBudget, func(a *customAct) (uint32, uint32, domain.Money) { return a.bu.id, a.bu.currency, a.bu.amount }),
		code("category", func(a *customAct) uint32 { return a.bu.category }),
	))
	budget.walk = tableWalk((*Dataset).budgets, func(a *customAct, x *budgetRow) { a.bu = x },
		func(a *customAct, q Query, x *budgetRow) bool { return a.d.matchCode(q, "category", x.category) }, false)
	out = append(out, budget)

	sub := newCustomKind(customKind{kind: domain.KindSubscription, dims: []string{"plan"}, settings: money},
		code("id", func(a *customAct) uint32 { return a.sb.id }),
		code("source", func(a *customAct) uint32 { return a.sb.source }),
		code("customer", func(a *customAct) uint32 { return a.sb.customer }),
		fT("started_at", false, func(a *customAct) int64 { return a.sb.started }),
		fT("ended_at", true, func(a *customAct) int64 { return a.sb.ended }),
		moneyField("mrr", domain.KindSubscription, func(a *customAct) (uint32, uint32, domain.Money) { return a.sb.id, a.sb.currency, a.sb.mrr }),
		code("plan", func(a *customAct) uint32 { return a.sb.plan }),
	)
	sub.born = sub.idx("started_at")
	sub.walk = tableWalk((*Dataset).subs, func(a *customAct, x *subRow) { a.sb = x },
		func(a *customAct, q Query, x *subRow) bool { return a.d.matchCode(q, "plan", x.plan) }, true)
	out = append(out, sub)

	opp := newCustomKind(customKind{kind: domain.KindOpportunity, dims: []string{"owner"}, settings: money},
		code("id", func(a *customAct) uint32 { return a.op.id }),
		code("source", func(a *customAct) uint32 { return a.op.source }),
		fT("created_at", false, func(a *customAct) int64 { return a.op.created }),
		fT("qualified_at", true, func(a *customAct) int64 { return a.op.qualified }),
		fT("closed_at", true, func(a *customAct) int64 { return a.op.closed }),
		fDeadline("close_date", true, func(a *customAct) int64 {
			if !a.op.hasClose {
				return 0
			}
			return a.op.closeAt()
		}),
		moneyField("amount", domain.KindOpportunity, func(a *customAct) (uint32, uint32, domain.Money) { return a.op.id, a.op.currency, a.op.amount }),
		code("stage", func(a *customAct) uint32 { return a.op.stage }),
		code("owner", func(a *customAct) uint32 { return a.op.owner }),
		code("channel", func(a *customAct) uint32 { return a.op.channel }),
		// won is the record's, but a deal is won only once it closed (as of).
		fB("won", func(a *customAct) bool { return a.op.won && a.op.closed != 0 && a.op.closed <= a.asOf }),
	)
	opp.born = opp.idx("created_at")
	// close_date may lie after the row's event time; it and closed_at
	// have orders of their own.
	closedAt, closeDate := opp.idx("closed_at"), opp.idx("close_date")
	opp.walk = tableWalkBy((*Dataset).opps, func(a *customAct, x *oppRow) { a.op = x },
		func(a *customAct, q Query, x *oppRow) bool { return a.d.matchCode(q, "owner", x.owner) }, true,
		func(d *Dataset, tf int, lo, hi int64) iter.Seq[*oppRow] {
			switch tf {
			case closedAt:
				return d.oppsClosedIn(lo, hi)
			case closeDate:
				return d.oppsClosingIn(lo, hi)
			}
			return nil
		})
	out = append(out, opp)

	lead := newCustomKind(customKind{kind: domain.KindLead, dims: []string{"channel", "campaign"}},
		code("id", func(a *customAct) uint32 { return a.ld.id }),
		code("source", func(a *customAct) uint32 { return a.ld.source }),
		fT("created_at", false, func(a *customAct) int64 { return a.ld.created }),
		fT("mql_at", true, func(a *customAct) int64 { return a.ld.mql }),
		fT("sql_at", true, func(a *customAct) int64 { return a.ld.sql }),
		code("opportunity", func(a *customAct) uint32 { return a.ld.opportunity }),
		code("channel", func(a *customAct) uint32 { return a.ld.channel }),
		code("campaign", func(a *customAct) uint32 { return a.ld.campaign }),
	)
	lead.born = lead.idx("created_at")
	mqlAt := lead.idx("mql_at")
	lead.walk = tableWalkBy((*Dataset).leads, func(a *customAct, x *leadRow) { a.ld = x },
		func(a *customAct, q Query, x *leadRow) bool {
			return a.d.matchCode(q, "channel", x.channel) && a.d.matchCode(q, "campaign", x.campaign)
		}, true,
		func(d *Dataset, tf int, lo, hi int64) iter.Seq[*leadRow] {
			switch tf {
			case lead.born:
				return d.leadsCreatedIn(lo, hi)
			case mqlAt:
				return d.leadsMQLIn(lo, hi)
			}
			return nil
		})
	out = append(out, lead)

	quota := period(newCustomKind(customKind{kind: domain.KindQuota, dims: []string{"owner"}, settings: money},
		code("id", func(a *customAct) uint32 { return a.qu.id }),
		code("source", func(a *customAct) uint32 { return a.qu.source }),
		code("owner", func(a *customAct) uint32 { return a.qu.owner }),
		fDeadline("period_start", false, func(a *customAct) int64 { return a.qu.start }),
		fDeadline("period_end", false, func(a *customAct) int64 { return a.qu.end }),
		moneyField("amount", domain.KindQuota, func(a *customAct) (uint32, uint32, domain.Money) { return a.qu.id, a.qu.currency, a.qu.amount }),
	))
	quota.walk = tableWalk((*Dataset).quotas, func(a *customAct, x *quotaRow) { a.qu = x },
		func(a *customAct, q Query, x *quotaRow) bool { return a.d.matchCode(q, "owner", x.owner) }, false)
	out = append(out, quota)

	spend := period(newCustomKind(customKind{kind: domain.KindSpend, settings: money},
		code("id", func(a *customAct) uint32 { return a.sp.id }),
		code("source", func(a *customAct) uint32 { return a.sp.source }),
		fDeadline("period_start", false, func(a *customAct) int64 { return a.sp.start }),
		fDeadline("period_end", false, func(a *customAct) int64 { return a.sp.end }),
		code("category", func(a *customAct) uint32 { return a.sp.category }),
		moneyField("amount", domain.KindSpend, func(a *customAct) (uint32, uint32, domain.Money) { return a.sp.id, a.sp.currency, a.sp.amount }),
	))
	spend.walk = tableWalk((*Dataset).spends, func(a *customAct, x *spendRow) { a.sp = x }, noScope, true)
	out = append(out, spend)

	target := period(newCustomKind(customKind{kind: domain.KindTarget},
		code("id", func(a *customAct) uint32 { return a.tg.id }),
		code("source", func(a *customAct) uint32 { return a.tg.source }),
		code("metric", func(a *customAct) uint32 { return a.tg.metric }),
		code("scope", func(a *customAct) uint32 { return a.tg.scope }),
		fDeadline("period_start", false, func(a *customAct) int64 { return a.tg.start }),
		fDeadline("period_end", false, func(a *customAct) int64 { return a.tg.end }),
		fN("value", func(a *customAct) float64 { return a.tg.value }),
	))
	target.walk = tableWalk((*Dataset).targets, func(a *customAct, x *targetRow) { a.tg = x }, noScope, false)
	out = append(out, target)

	// Measurements: a team is the measurement's own team when it names one,
	// else its service's (measurement.go), in a field as in a scope.
	msSvc := func(a *customAct) string { return a.d.str(a.ms.service) }
	ms := newCustomKind(customKind{kind: domain.KindMeasurement, dims: []string{"team", "service", "tier", "business_unit", "segment"}},
		code("id", func(a *customAct) uint32 { return a.ms.id }),
		code("source", func(a *customAct) uint32 { return a.ms.source }),
		code("metric", func(a *customAct) uint32 { return a.ms.metric }),
		fT("at", false, func(a *customAct) int64 { return a.ms.at }),
		fN("value", func(a *customAct) float64 { return a.ms.value }),
		fS("service", msSvc),
		fS("team", func(a *customAct) string { return a.d.measurementTeam(a.ms) }),
		fS("business_unit", func(a *customAct) string { return a.d.ServiceAttr(msSvc(a), "business_unit") }),
		fI("tier", func(a *customAct) int64 { return int64(a.d.serviceTier(msSvc(a))) }),
		code("customer", func(a *customAct) uint32 { return a.ms.customer }),
		code("segment", func(a *customAct) uint32 { return a.ms.segment }),
		code("unit", func(a *customAct) uint32 { return a.ms.unit }),
		customField{name: "tags", typ: fList, l: func(a *customAct) []string { return a.d.measurementTags(a.ms) }},
	)
	ms.born = ms.idx("at")
	ms.walk = tableWalk((*Dataset).measurements, func(a *customAct, x *measurementRow) { a.ms = x },
		func(a *customAct, q Query, x *measurementRow) bool { return a.d.matchMeasurement(q, x) }, true)
	out = append(out, ms)
	return out
}
