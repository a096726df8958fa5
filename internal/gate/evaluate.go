package gate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// Release is what a gate is asked about, with what Candor knows of the
// service: whether the environment is production and the service's tier
// (0: none).
type Release struct {
	Service       string `json:"service"`
	Environment   string `json:"environment"`
	Version       string `json:"version"`
	ChangeRequest string `json:"change_request,omitempty"`
	Facts         Facts  `json:"facts"`
	Production    bool   `json:"production"`
	Tier          int    `json:"tier,omitempty"`
	// Team is the service's owning team as its service record gives it.
	Team string `json:"team,omitempty"`
	// Meant is the known environment an environment no record names most
	// likely means ("production" for "prodution"), and MeantProduction
	// whether that one is production: a scope admitting Meant but not the
	// environment as written cannot tell whether it applies (Scope.unknown).
	// Not part of the decision's JSON: its warning says it.
	Meant           string `json:"-"`
	MeantProduction bool   `json:"-"`
}

// KPI is a metric's current value and status for the service, with the
// stamps of the definition that computed it.
type KPI struct {
	ID    string   `json:"id"`
	Value *float64 `json:"value"`
	// Unit is the metric's unit, and Currency the organisation's for a
	// value in money: what a gate's summary formats the value by, as the
	// scorecard does (scorecard.FormatValue), "0.12 %" not 0.123456789.
	Unit     string            `json:"unit,omitempty"`
	Currency string            `json:"currency,omitempty"`
	Status   catalog.Status    `json:"status"`
	Reason   string            `json:"reason,omitempty"`
	Cites    *metrics.Citation `json:"cites,omitempty"`
	// Hidden says the value was left out for a caller who may not see
	// the metric: a null value alone reads as "no data".
	Hidden bool `json:"hidden,omitempty"`
	// AsOf is the moment the value is as of: the service's KPIs are
	// reused for up to KPIMaxAge within a data sequence, so it may be
	// before the decision's time (zero when the caller gave the KPIs).
	AsOf time.Time `json:"as_of,omitzero"`
}

// known says whether a rule can judge by the KPI: it has a value and its
// status is not unknown (stale data, too few cases).
func (k KPI) known() bool { return k.Value != nil && k.Status != catalog.Unknown }

// Verdict is one rule's judgement of the release.
type Verdict struct {
	Rule    string `json:"rule"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// KPIs are the metrics the rule read.
	KPIs []string `json:"kpis,omitempty"`
	// Approvers are the roles that may approve the release when the rule
	// escalates it.
	Approvers []string `json:"approvers,omitempty"`
}

// Result is a gate decision: allow, deny or escalate, every rule's
// verdict, and the KPIs read.
type Result struct {
	// ID is the decision's document id, once recorded.
	ID       int64     `json:"id,omitempty"`
	Decision Severity  `json:"decision"`
	Release  Release   `json:"release"`
	Rules    []Verdict `json:"rules"`
	KPIs     []KPI     `json:"kpis"`
	// Bypass is set for an emergency change: it went through whatever the
	// rules said, and must be retro-validated by RetroDue.
	Bypass   bool       `json:"bypass,omitempty"`
	RetroDue *time.Time `json:"retro_due,omitempty"`
	// Time is the release time the rules judged: the server's clock, At
	// (a stored decision from before facts.time was bounded may hold the
	// caller's time).
	Time time.Time `json:"time"`
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
	// Requester is the person behind By (auth.Person): who may not
	// approve their own release.
	Requester string `json:"requester,omitempty"`
	// State and Approval are read, not stored: allow, deny, or for an
	// escalated decision pending, approved or rejected, with the
	// approval or rejection that settled it.
	State    string    `json:"state,omitempty"`
	Approval *Approval `json:"approval,omitempty"`
	// Warnings are what the pipeline's engineer should know beside the
	// verdicts: a service Candor has no record of (a first release, or a
	// misspelt --service, which the rules reading no KPI let through), and
	// an environment no record names that is a typo of one (whose
	// policies then give their on_unknown verdict, which the warning says).
	Warnings []string `json:"warnings,omitempty"`
}

type rule struct {
	id, message, text   string
	severity, onUnknown Severity
	scope               Scope
	kpis                []string
	prg                 cel.Program
}

// applies says whether a scope admits the release.
func (s Scope) applies(r Release) bool {
	if len(s.Services) > 0 && !slices.Contains(s.Services, r.Service) {
		return false
	}
	if len(s.Tiers) > 0 && !slices.Contains(s.Tiers, r.Tier) {
		return false
	}
	if len(s.Teams) > 0 && !slices.Contains(s.Teams, r.Team) {
		return false
	}
	return s.admitsEnvironment(r.Environment, r.Production)
}

// admitsEnvironment says whether the scope's environments admit env (all
// do when it lists none); "production" admits every production one.
func (s Scope) admitsEnvironment(env string, production bool) bool {
	return len(s.Environments) == 0 || slices.ContainsFunc(s.Environments, func(e string) bool {
		return strings.EqualFold(e, env) || e == "production" && production
	})
}

// unclearEnvironment says whether the scope would admit the environment
// the release's most likely means (Release.Meant) but not the one it
// names: a misspelt --environment ("prodution") had skipped every
// production policy, a clean allow.
func (s Scope) unclearEnvironment(r Release) bool {
	return r.Meant != "" && !s.admitsEnvironment(r.Environment, r.Production) && s.admitsEnvironment(r.Meant, r.MeantProduction)
}

// unknown says whether the scope names tiers or teams and admits the
// release but for its tier or team, which Candor does not know: no
// service record gives the service one. Such a policy had skipped the
// release as out of its scope — a service with no record, a misspelt
// --service among them, passed a tier-1 policy or freeze window unjudged,
// a silent pass.
func (s Scope) unknown(r Release) bool {
	tier, team, env := len(s.Tiers) > 0 && r.Tier == 0, len(s.Teams) > 0 && r.Team == "", s.unclearEnvironment(r)
	if !tier && !team && !env {
		return false
	}
	rest := s
	if tier {
		rest.Tiers = nil
	}
	if team {
		rest.Teams = nil
	}
	if env {
		rest.Environments = nil
	}
	return rest.applies(r)
}

// unknownReason says why a policy scoped to tiers, teams or environments
// could not tell whether it applies, and what settles it.
func unknownReason(s Scope, r Release) string {
	var to, missing, why []string
	if len(s.Tiers) > 0 && r.Tier == 0 {
		tiers := make([]string, len(s.Tiers))
		for i, t := range s.Tiers {
			tiers[i] = strconv.Itoa(t)
		}
		to, missing = append(to, "tier "+strings.Join(tiers, ", ")), append(missing, "tier")
	}
	if len(s.Teams) > 0 && r.Team == "" {
		to, missing = append(to, "team "+strings.Join(s.Teams, ", ")), append(missing, "team")
	}
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("service %s has no %s in Candor's data (no service record gives one)", r.Service, strings.Join(missing, " and no ")))
	}
	if s.unclearEnvironment(r) {
		to = append(to, "environment "+strings.Join(s.Environments, ", "))
		why = append(why, unclearEnvironmentText(r))
	}
	return fmt.Sprintf("the policy applies to %s and %s: cannot tell whether it applies", strings.Join(to, " and "), strings.Join(why, ", and "))
}

// unclearEnvironmentText is why a scope cannot tell whether it admits a
// release to an environment no record names (Release.Meant).
func unclearEnvironmentText(r Release) string {
	return fmt.Sprintf("no record names environment %q (did you mean %q?)", r.Environment, r.Meant)
}

// DeriveRisk is the risk score when none is given: changed lines give up
// to 70 (70 × lines / 1000, capped at 1000 lines) and each dependency
// change 10, up to 30; ok is false when neither fact is given.
func DeriveRisk(f Facts) (score float64, ok bool) {
	if f.ChangedLines == nil && f.DependencyChanges == nil {
		return 0, false
	}
	if f.ChangedLines != nil {
		score += 70 * math.Min(1, float64(*f.ChangedLines)/1000)
	}
	if f.DependencyChanges != nil {
		score += math.Min(30, 10*float64(*f.DependencyChanges))
	}
	return math.Round(score*10) / 10, true
}

func pct(x float64) string { return strconv.FormatFloat(math.Round(x*1000)/10, 'f', -1, 64) + "%" }
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Evaluate judges a release at now against the KPIs (by metric id; the
// ones Policies.KPIs names). It reads nothing else and writes nothing.
// The retro-validation due date and CEL's facts.time take now; freeze
// windows judge now and, when the caller gave one, the release's own time
// (rel.Facts.Time) — a release is frozen if either is in a window, so a
// caller-chosen time can add a freeze (a release planned for the weekend)
// but never lift one.
func (p *Policies) Evaluate(rel Release, kpis map[string]KPI, now time.Time) Result {
	at := now.UTC()
	res := Result{Release: rel, At: at, Time: at, Rules: make([]Verdict, 0, 4+len(p.rules))}
	f := rel.Facts
	if p.coverage.on {
		v := Verdict{Rule: "coverage"}
		switch {
		case p.coverage.scope.unknown(rel):
			v.Verdict, v.Reason = unknownVerdict(p.coverage.onUnknown), unknownReason(p.coverage.scope, rel)
		case !p.coverage.scope.applies(rel):
			v.Verdict, v.Reason = Skip, "not in the policy's scope"
		case f.Coverage == nil:
			v.Verdict, v.Reason = unknownVerdict(p.coverage.onUnknown), "no coverage given (facts.coverage); needs ≥ "+pct(p.minCover)
		case *f.Coverage < p.minCover:
			v.Verdict, v.Reason = string(p.coverage.severity), "coverage "+pct(*f.Coverage)+" is below "+pct(p.minCover)
		default:
			v.Verdict, v.Reason = Pass, "coverage "+pct(*f.Coverage)+" ≥ "+pct(p.minCover)
		}
		res.Rules = append(res.Rules, v)
	}
	if p.risk.on {
		v := Verdict{Rule: "risk"}
		score, given := 0.0, f.RiskScore != nil
		how := "risk score"
		if given {
			score = *f.RiskScore
		} else if s, ok := DeriveRisk(f); ok {
			score, given, how = s, true, "derived risk score"
		}
		switch {
		case p.risk.scope.unknown(rel):
			v.Verdict, v.Reason = unknownVerdict(p.risk.onUnknown), unknownReason(p.risk.scope, rel)
		case !p.risk.scope.applies(rel):
			v.Verdict, v.Reason = Skip, "not in the policy's scope"
		case !given:
			v.Verdict, v.Reason = unknownVerdict(p.risk.onUnknown), "no risk_score, changed_lines or dependency_changes given"
		case score > p.threshold:
			v.Verdict, v.Reason = string(p.risk.severity), how+" "+num(score)+" is over "+num(p.threshold)+": an approver must accept it"
		default:
			v.Verdict, v.Reason = Pass, how+" "+num(score)+" ≤ "+num(p.threshold)
		}
		res.Rules = append(res.Rules, v)
	}
	if len(p.freeze.windows) > 0 {
		v := p.freeze.judge(rel, res.Time)
		if t := f.Time; t != nil && v.Verdict == Pass && !t.Equal(res.Time) {
			w := p.freeze.judge(rel, t.UTC())
			switch {
			case w.Verdict != Pass:
				w.Reason = "at the release's time (facts.time): " + w.Reason
				v = w
			case v.Reason == outsideFreeze && w.Reason == outsideFreeze:
				v.Reason = outsideFreeze + ", now and at the release's time (facts.time)"
			}
		}
		res.Rules = append(res.Rules, v)
	}
	if p.canary.on {
		v := Verdict{Rule: "canary", KPIs: []string{p.canaryKPI}}
		k := kpis[p.canaryKPI]
		switch {
		case p.canary.scope.unknown(rel):
			v.Verdict, v.Reason = unknownVerdict(p.canary.onUnknown), unknownReason(p.canary.scope, rel)
		case !p.canary.scope.applies(rel):
			v.Verdict, v.Reason, v.KPIs = Skip, "not in the policy's scope", nil
		case f.Strategy == p.strategy:
			// Satisfied by the facts: the KPI does not matter.
			v.Verdict, v.Reason, v.KPIs = Pass, "deploys by "+p.strategy, nil
		case !k.known():
			v.Verdict, v.Reason = unknownVerdict(p.canary.onUnknown), p.canaryKPI+" is unknown ("+orText(k.Reason, "no value")+"): cannot tell whether "+p.strategy+" is required"
		case k.Status == catalog.Red:
			v.Verdict, v.Reason = string(p.canary.severity), p.canaryKPI+" is red: the service must deploy by "+p.strategy+", not "+orText(f.Strategy, "an unstated strategy")
		default:
			v.Verdict, v.Reason = Pass, p.canaryKPI+" is "+string(k.Status)
		}
		res.Rules = append(res.Rules, v)
	}
	if len(p.rules) > 0 {
		vars := p.vars(rel, kpis, at)
		for i := range p.rules {
			res.Rules = append(res.Rules, p.rules[i].judge(rel, vars, kpis))
		}
	}
	res.Decision = Allow
	for i, v := range res.Rules {
		switch Severity(v.Verdict) {
		case Deny:
			res.Decision = Deny
		case Escalate:
			res.Rules[i].Approvers = p.Approvers(v.Rule)
			if res.Decision != Deny {
				res.Decision = Escalate
			}
		}
	}
	if f.Emergency && p.emergency {
		res.Bypass, res.Decision = true, Allow
		due := res.Time.Add(p.retro).UTC()
		res.RetroDue = &due
	}
	for _, id := range p.kpis {
		if k, ok := kpis[id]; ok {
			res.KPIs = append(res.KPIs, k)
		}
	}
	return res
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// unknownVerdict is a rule's verdict when what it needs is unknown.
func unknownVerdict(s Severity) string {
	if s == Allow {
		return Pass
	}
	return string(s)
}

const outsideFreeze = "outside every freeze window"

func (f freeze) judge(rel Release, t time.Time) Verdict {
	v := Verdict{Rule: "freeze", Verdict: Pass, Reason: outsideFreeze}
	for _, w := range f.windows {
		// A window for some tiers (teams) freezes a service whose tier
		// (team) Candor does not know: a freeze has no unknown verdict but
		// its own.
		unknown := w.scope.unknown(rel)
		if !unknown && !w.scope.applies(rel) || !w.contains(t) {
			continue
		}
		i := slices.IndexFunc(f.exceptions, func(e exception) bool {
			return e.window == w.name && e.scope.applies(rel) && e.covers(t)
		})
		if i < 0 {
			reason := fmt.Sprintf("%s is in the freeze window %q (%s)", t.In(w.loc).Format("Mon 2006-01-02 15:04 MST"), w.name, w.loc)
			if unknown {
				reason += "; " + strings.Replace(unknownReason(w.scope, rel), "the policy applies", "the window applies", 1) + ", so it is frozen"
			}
			return Verdict{Rule: "freeze", Verdict: string(f.severity), Reason: reason}
		}
		e := f.exceptions[i]
		v.Reason = fmt.Sprintf("in the freeze window %q, excepted by risk acceptance %q approved by %s", w.name, e.riskAcceptance, e.approvedBy)
	}
	return v
}

// vars are the CEL variables; the KPIs whose status is unknown are left
// out, as unknowns, so that a rule needing one comes out unknown while a
// rule the facts already satisfy does not.
func (p *Policies) vars(rel Release, kpis map[string]KPI, at time.Time) map[string]any {
	facts := map[string]any{}
	f := rel.Facts
	if f.Coverage != nil {
		facts["coverage"] = *f.Coverage
	}
	if f.RiskScore != nil {
		facts["risk_score"] = *f.RiskScore
	} else if s, ok := DeriveRisk(f); ok {
		facts["risk_score"] = s
	}
	if f.ChangedLines != nil {
		facts["changed_lines"] = *f.ChangedLines
	}
	if f.DependencyChanges != nil {
		facts["dependency_changes"] = *f.DependencyChanges
	}
	if f.Strategy != "" {
		facts["strategy"] = f.Strategy
	}
	facts["emergency"] = f.Emergency
	facts["time"] = types.Timestamp{Time: at}
	kpi, status := map[string]float64{}, map[string]string{}
	for id, k := range kpis {
		status[id] = string(k.Status)
		if k.known() {
			kpi[id] = *k.Value
		}
	}
	return map[string]any{
		"facts": facts, "kpi": kpi, "status": status,
		"service": rel.Service, "environment": rel.Environment, "production": rel.Production,
		"tier": int64(rel.Tier), "team": rel.Team, "version": rel.Version, "change_request": rel.ChangeRequest,
	}
}

func (r *rule) judge(rel Release, vars map[string]any, kpis map[string]KPI) Verdict {
	v := Verdict{Rule: r.id, KPIs: r.kpis}
	if r.scope.unknown(rel) {
		v.Verdict, v.Reason, v.KPIs = unknownVerdict(r.onUnknown), unknownReason(r.scope, rel), nil
		return v
	}
	if !r.scope.applies(rel) {
		v.Verdict, v.Reason, v.KPIs = Skip, "not in the policy's scope", nil
		return v
	}
	var unknown []string
	for _, id := range r.kpis {
		if !kpis[id].known() {
			unknown = append(unknown, id)
		}
	}
	var act any = vars
	if len(unknown) > 0 {
		pats := make([]*cel.AttributePatternType, len(unknown))
		for i, id := range unknown {
			pats[i] = cel.AttributePattern("kpi").QualString(id)
		}
		pa, err := cel.PartialVars(vars, pats...)
		if err != nil {
			v.Verdict, v.Reason = string(Escalate), "evaluation error: "+err.Error()
			return v
		}
		act = pa
	}
	out, _, err := r.prg.Eval(act)
	msg := orText(r.message, r.text)
	switch {
	case out != nil && types.IsUnknown(out):
		why := make([]string, len(unknown))
		for i, id := range unknown {
			why[i] = id + " (" + orText(kpis[id].Reason, "no value") + ")"
		}
		v.Verdict, v.Reason = unknownVerdict(r.onUnknown), "needs "+strings.Join(why, ", ")+", whose status is unknown"
	case err != nil:
		// A rule that cannot be judged is never a silent pass.
		v.Verdict, v.Reason = string(Escalate), "evaluation error: "+err.Error()
	case out.Value() == true:
		v.Verdict, v.Reason = Pass, "holds: "+r.text
	default:
		v.Verdict, v.Reason = string(r.severity), msg
	}
	return v
}
