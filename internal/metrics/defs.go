package metrics

import (
	"fmt"
	"slices"
	"sort"

	"github.com/candor/candor/internal/domain"
)

// Def is one metric's computation and everything the engine must know
// about it. Every metric is one line of the table in newRegistry.
type Def struct {
	ID string
	Fn Func
	// Reads are the record kinds the computation reads (services are
	// implied; a target-carrying metric reads targets too). The result
	// cache keeps a result until data of one of these kinds changes inside
	// its window, so leaving a kind out would serve stale figures:
	// TestCacheKindsDeclared adds kinds one at a time to catch that, and
	// scorecard's TestCatalogMatchesEngine holds them to the catalog's
	// sources in both directions.
	Reads []domain.Kind
	// Requires are the kinds without which the metric has no value (SPEC
	// §4, nodata.go); each is among Reads.
	Requires []domain.Kind
	// Converts are the kinds whose money an organisation's metric converts
	// (CustomMetric.converts); nil for a built-in, which converts the kinds
	// it reads when it declares the exchange rates setting (convertingMetrics).
	Converts []domain.Kind
	// Dims are the breakdown dimensions it supports.
	Dims []string
	// Settings are the configuration settings that change its value
	// (settings.go); min_sample applies to every metric and is implied.
	// TestSettingsDeclared changes each setting and fails for a metric
	// whose result moves without declaring it.
	Settings []Setting
	// Ahead says the metric looks ahead from as_of (pipeline coverage:
	// the open deals due in what is left of the quota period): a closing
	// read (Query.Closing) reads it at the instant, the coming period,
	// for the period closing then has nothing left to cover — its deals
	// still open missed it, and over its last sliver of quota they had
	// read as a green 35× on a quarter's board pack.
	Ahead bool
	// Formula is the version of the computation: raised whenever a change
	// to the code changes what the metric returns for the same data and
	// settings, so a result's citation tells the two apart.
	Formula int
	// Target adds the `target` record covering as_of to Detail.Target
	// (business metrics); mql_volume sets its own.
	Target bool
	// Sum says the value sums over W — a count or an amount in W, or a
	// share of a base fixed at W's start (logo churn) — so it grows in
	// proportion to W's length, and a target or absolute
	// threshold set for the definition's window does not hold for a
	// window of another length (SumsOverWindow), and a weekly chart of it
	// draws them for a week.
	Sum bool
	// Total says the value is the total of its records at as_of (ARR,
	// open vulnerabilities): like a Sum's, a breakdown's lines are its
	// parts and add up to it but where a record is in two (AddsUp).
	Total bool
}

// registry is every metric the engine computes, and the breakdown
// dimensions that records outside the delivery kinds carry.
type registry struct {
	defs map[string]*Def
	ids  []string
	// dimValues add the values of a non-service dimension found in the
	// records that pass a query's scope (owner, category, framework, …).
	dimValues []func(d *Dataset, dim string, q Query, set map[string]bool)
}

// reg is built once, here, from one table: nothing else registers.
var reg = newRegistry()

func newRegistry() *registry {
	var (
		dep    = domain.KindDeployment
		chg    = domain.KindChange
		inc    = domain.KindIncident
		sli    = domain.KindSLI
		vuln   = domain.KindVulnerability
		ctl    = domain.KindControl
		cost   = domain.KindCost
		usage  = domain.KindUsage
		budget = domain.KindBudget
		survey = domain.KindSurvey
		sub    = domain.KindSubscription
		ticket = domain.KindTicket
		opp    = domain.KindOpportunity
		quota  = domain.KindQuota
		spend  = domain.KindSpend
		lead   = domain.KindLead
		target = domain.KindTarget
	)
	k := func(kinds ...domain.Kind) []domain.Kind { return kinds }
	s := func(set ...Setting) []Setting { return set }
	delivery := []string{"team", "service", "environment", "tier", "business_unit"}
	reliability := []string{"team", "service", "tier", "business_unit"}
	// Incident metrics also break down by who reported the incident.
	incidents := []string{"team", "service", "tier", "business_unit", "origin"}
	// Vulnerabilities and security incidents reach a service, so they break
	// down by its tier as every other metric that reaches one does (SPEC §3):
	// a security lead asks whether the tier-1 services carry the open ones.
	security := []string{"team", "service", "tier", "business_unit"}
	// A ticket reaches a team through the service it is about (SPEC §3:
	// every value per team where its records reach a service). By
	// customer too: a support lead asks which accounts the SLA is missed
	// for and whose escalations are open.
	tickets := []string{"team", "service", "tier", "business_unit", "priority", "segment", "customer"}
	costs := []string{"team", "service", "tier", "business_unit"}
	envs := s(SettingProductionEnvironments, SettingEnvironmentAliases)
	failure := s(SettingProductionEnvironments, SettingEnvironmentAliases, SettingAttributionWindow)
	money := s(SettingCurrency, SettingExchangeRates)
	defs := []Def{
		// Platform reliability.
		{ID: "availability", Fn: availability, Reads: k(sli), Requires: k(sli), Dims: reliability},
		{ID: "slo_compliance", Fn: sloCompliance, Reads: k(sli), Requires: k(sli), Dims: reliability},
		{ID: "error_budget_remaining", Fn: errorBudgetRemaining, Reads: k(sli), Requires: k(sli), Dims: reliability},
		{ID: "incidents_p0_p1", Fn: incidentsP0P1, Reads: k(inc), Requires: k(inc), Dims: incidents, Sum: true},
		{ID: "mttr", Fn: mttr, Reads: k(inc), Requires: k(inc), Dims: incidents},
		{ID: "time_to_detect", Fn: timeToDetect, Reads: k(inc), Requires: k(inc), Dims: incidents},
		{ID: "incident_recurrence_rate", Fn: recurrenceRate, Reads: k(inc), Requires: k(inc), Dims: incidents},
		{ID: "postmortem_compliance", Fn: postmortemCompliance, Reads: k(inc), Requires: k(inc), Dims: incidents},
		{ID: "error_rate", Fn: errorRate, Reads: k(sli), Requires: k(sli), Dims: reliability},
		{ID: "business_hours_availability", Fn: businessHoursAvailability, Reads: k(sli), Requires: k(sli), Dims: reliability,
			Settings: s(SettingBusinessHours)},
		{ID: "latency_compliance", Fn: latencyCompliance, Reads: k(sli), Requires: k(sli), Dims: reliability},
		{ID: "mttr_baseline", Fn: mttrBaseline, Reads: k(inc), Requires: k(inc), Dims: incidents},
		{ID: "revenue_at_risk", Fn: revenueAtRisk, Reads: k(sli, sub), Requires: k(sli, sub), Dims: reliability, Target: true, Settings: money, Sum: true},
		// Security & risk.
		{ID: "open_critical_vulnerabilities", Fn: openVulns("critical"), Reads: k(vuln), Requires: k(vuln), Dims: security, Target: true, Total: true},
		{ID: "open_high_vulnerabilities", Fn: openVulns("high"), Reads: k(vuln), Requires: k(vuln), Dims: security, Target: true, Total: true},
		{ID: "time_to_patch_critical", Fn: timeToPatchCritical, Reads: k(vuln), Requires: k(vuln), Dims: security, Target: true},
		{ID: "vulnerability_sla_breaches", Fn: vulnerabilitySLABreaches, Reads: k(vuln), Requires: k(vuln), Dims: security, Target: true,
			Settings: s(SettingVulnerabilitySLA), Total: true},
		{ID: "security_incidents_90d", Fn: securityIncidents90d, Reads: k(inc), Requires: k(inc), Dims: incidents, Target: true},
		{ID: "compliance_pass_rate", Fn: compliancePassRate, Reads: k(ctl), Requires: k(ctl), Dims: []string{"framework"}, Target: true},
		// Delivery & execution.
		{ID: "deployment_frequency", Fn: deploymentFrequency, Reads: k(dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "lead_time_for_changes", Fn: leadTime, Reads: k(chg, dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "change_failure_rate", Fn: changeFailureRate, Reads: k(dep, inc), Requires: k(dep), Dims: delivery, Settings: failure},
		{ID: "failed_deployment_recovery_time", Fn: recoveryTime, Reads: k(dep, inc), Requires: k(dep), Dims: delivery, Settings: failure},
		{ID: "rework_rate", Fn: reworkRate, Reads: k(dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "rollback_rate", Fn: rollbackRate, Reads: k(dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "deployment_success_rate", Fn: successRate, Reads: k(dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "deployment_duration", Fn: deploymentDuration, Reads: k(dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "customer_weighted_change_failure_rate", Fn: customerWeightedChangeFailureRate, Reads: k(dep, inc), Requires: k(dep), Dims: delivery,
			Settings: s(SettingProductionEnvironments, SettingEnvironmentAliases, SettingAttributionWindow, SettingTierWeights)},
		{ID: "emergency_retro_overdue", Fn: emergencyRetroOverdue, Reads: k(dep), Requires: k(dep), Dims: delivery, Settings: envs, Total: true},
		// Flow: where lead time goes.
		{ID: "coding_time", Fn: flowMetric(stageCoding), Reads: k(chg, dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "pickup_time", Fn: flowMetric(stagePickup), Reads: k(chg, dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "review_time", Fn: flowMetric(stageReview), Reads: k(chg, dep), Requires: k(dep), Dims: delivery, Settings: envs},
		{ID: "deploy_time", Fn: flowMetric(stageDeploy), Reads: k(chg, dep), Requires: k(dep), Dims: delivery, Settings: envs},
		// Cost & efficiency.
		{ID: "infrastructure_cost", Fn: infrastructureCost, Reads: k(cost), Requires: k(cost), Dims: append(costs, "category"), Target: true, Settings: money, Sum: true},
		{ID: "cost_trend", Fn: costTrend, Reads: k(cost), Requires: k(cost), Dims: append(costs, "category"), Target: true, Settings: money,
			// 2: each rate over the part of its window covered from its start too.
			Formula: 2},
		{ID: "cost_per_active_customer", Fn: costPerActiveCustomer, Reads: k(cost, usage), Requires: k(cost, usage), Dims: costs, Target: true, Settings: money},
		{ID: "cost_per_million_requests", Fn: costPerMillionRequests, Reads: k(cost, usage), Requires: k(cost, usage), Dims: costs, Target: true, Settings: money},
		{ID: "budget_variance", Fn: budgetVariance, Reads: k(cost, budget), Requires: k(cost, budget), Dims: []string{"category"}, Target: true, Settings: money},
		// Customer trust & experience.
		{ID: "csat", Fn: csat, Reads: k(survey), Requires: k(survey), Target: true},
		{ID: "nps", Fn: nps, Reads: k(survey), Requires: k(survey), Target: true},
		{ID: "logo_churn_rate", Fn: logoChurnRate, Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Sum: true},
		{ID: "sla_adherence", Fn: slaAdherence, Reads: k(ticket), Requires: k(ticket), Dims: tickets, Target: true},
		{ID: "open_escalations", Fn: openEscalations, Reads: k(ticket), Requires: k(ticket), Dims: tickets, Target: true, Total: true},
		{ID: "release_impact_score", Fn: releaseImpactScore, Reads: k(dep, ticket), Requires: k(dep, ticket), Dims: []string{"team", "service", "business_unit"}, Target: true,
			Settings: s(SettingProductionEnvironments, SettingEnvironmentAliases, SettingReleaseImpactWeights, SettingReleaseImpactWindow)},
		// Growth & revenue.
		{ID: "mrr", Fn: mrrMetric, Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Total: true},
		{ID: "arr", Fn: arrMetric, Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Total: true},
		// By the segment each customer of the cohort had a year before (a
		// plan breakdown would filter subscriptions, so an upgrade would
		// read as churn).
		{ID: "nrr", Fn: nrr, Reads: k(sub), Requires: k(sub), Dims: []string{"segment"}, Target: true, Settings: money},
		{ID: "grr", Fn: grr, Reads: k(sub), Requires: k(sub), Dims: []string{"segment"}, Target: true, Settings: money},
		// Formula 2: a closing read is the coming period's (Ahead).
		{ID: "pipeline_coverage", Fn: pipelineCoverage, Reads: k(opp, quota), Requires: k(opp, quota), Dims: []string{"owner"}, Target: true, Settings: money,
			Ahead: true, Formula: 2},
		{ID: "win_rate", Fn: winRate, Reads: k(opp), Requires: k(opp), Dims: []string{"owner"}, Target: true},
		{ID: "sales_cycle_length", Fn: salesCycleLength, Reads: k(opp), Requires: k(opp), Dims: []string{"owner"}, Target: true},
		{ID: "sales_velocity", Fn: salesVelocity, Reads: k(opp), Requires: k(opp), Target: true, Settings: money},
		{ID: "quota_attainment", Fn: quotaAttainment, Reads: k(opp, quota), Requires: k(opp, quota), Dims: []string{"owner"}, Target: true, Settings: money},
		{ID: "cac", Fn: cac, Reads: k(spend, sub), Requires: k(spend, sub), Target: true, Settings: money},
		{ID: "cac_payback_months", Fn: cacPaybackMonths, Reads: k(spend, sub), Requires: k(spend, sub), Target: true,
			Settings: s(SettingCurrency, SettingExchangeRates, SettingGrossMargin)},
		// The MRR bridge over W, and what it says of growth's quality.
		{ID: "mrr_new", Fn: bridgeMetric(MoveNew), Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Sum: true},
		{ID: "mrr_reactivation", Fn: bridgeMetric(MoveReactivation), Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Sum: true},
		{ID: "mrr_expansion", Fn: bridgeMetric(MoveExpansion), Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Sum: true},
		{ID: "mrr_contraction", Fn: bridgeMetric(MoveContraction), Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Sum: true},
		{ID: "mrr_churn", Fn: bridgeMetric(MoveChurn), Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Sum: true},
		// 2 (both): their cases are the divisor's — the customers lost or
		// shrunk, the customers churned — not every customer that moved or
		// was active.
		{ID: "quick_ratio", Fn: quickRatio, Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true, Settings: money, Formula: 2},
		{ID: "ltv", Fn: ltv, Reads: k(sub), Requires: k(sub), Dims: []string{"plan"}, Target: true,
			Settings: s(SettingCurrency, SettingExchangeRates, SettingGrossMargin), Formula: 2},
		// mql_volume's target is the targets overlapping W, prorated: it
		// reads them itself.
		{ID: "mql_volume", Fn: mqlVolume, Reads: k(lead, target), Requires: k(lead), Dims: []string{"channel", "campaign"}, Sum: true},
		{ID: "funnel_conversion", Fn: funnelConversion, Reads: k(lead, opp), Requires: k(lead, opp), Dims: []string{"channel", "campaign"}, Target: true,
			Settings: s(SettingFunnelMaturationLag)},
	}
	r := &registry{defs: map[string]*Def{}}
	for _, def := range defs {
		if def.Formula == 0 {
			def.Formula = 1
		}
		r.add(def)
	}
	r.dimValues = []func(d *Dataset, dim string, q Query, set map[string]bool){
		frameworkDimValues, costDimValues, customerDimValues, growthDimValues, incidentDimValues,
		measurementDimValues, vulnDimValues,
	}
	return r
}

// add puts a metric in the registry; a target-carrying metric reads
// targets too.
func (r *registry) add(def Def) {
	if _, dup := r.defs[def.ID]; dup {
		panic("metrics: two definitions of " + def.ID)
	}
	if def.Target && !slices.Contains(def.Reads, domain.KindTarget) {
		def.Reads = append(slices.Clip(def.Reads), domain.KindTarget)
	}
	r.defs[def.ID] = &def
	r.ids = append(r.ids, def.ID)
	sort.Strings(r.ids)
}

// def returns a metric's definition, or an error naming the metric.
func (r *registry) def(id string) (*Def, error) {
	def, ok := r.defs[id]
	if !ok {
		return nil, fmt.Errorf("metric %q has no computation", id)
	}
	return def, nil
}

// Known reports whether a metric has a computation.
func Known(id string) bool {
	_, ok := reg.defs[id]
	return ok
}

// IDs lists the metrics with a computation.
func IDs() []string { return slices.Clone(reg.ids) }

// Dims returns a metric's breakdown dimensions.
func Dims(id string) []string {
	if def, ok := reg.defs[id]; ok {
		return def.Dims
	}
	return nil
}

// Reads returns the kinds a metric reads (services implied).
func Reads(id string) []domain.Kind {
	if def, ok := reg.defs[id]; ok {
		return def.Reads
	}
	return nil
}

// Requires returns the kinds without which a metric has no value.
func Requires(id string) []domain.Kind {
	if def, ok := reg.defs[id]; ok {
		return def.Requires
	}
	return nil
}

// SumsOverWindow says whether a built-in metric's value sums over its
// window (Def.Sum); Dataset.SumsOverWindow knows the organisation's too.
func SumsOverWindow(id string) bool {
	if def, ok := reg.defs[id]; ok {
		return def.Sum
	}
	return false
}

// AddsUp says whether a metric's value is the total of its records — a sum
// over its window or a total at as_of, the organisation's own counts and
// sums too — so a breakdown's lines are its parts; a ratio's, a median's
// or a share's are not.
func (d *Dataset) AddsUp(id string) bool {
	if def, ok := d.cfg.customDef(id); ok {
		return def.Sum || def.Total
	}
	if def, ok := reg.defs[id]; ok {
		return def.Sum || def.Total
	}
	return false
}

// SumsOverWindow says whether a metric's value — the organisation's own
// (a count or sum of records in W) or a built-in — sums over its window.
func (d *Dataset) SumsOverWindow(id string) bool {
	if def, ok := d.cfg.customDef(id); ok {
		return def.Sum
	}
	return SumsOverWindow(id)
}

// ReadsClosing says whether a closing read (Query.Closing) changes what
// the metric reads: false for one that looks ahead (Def.Ahead), which a
// closing read reads at the instant, and true otherwise (an organisation's
// metric over a quota period looks back over it).
func ReadsClosing(id string) bool {
	def, ok := reg.defs[id]
	return !ok || !def.Ahead
}

// FormulaVersion returns the version of a metric's computation (0 when
// the metric has none).
func FormulaVersion(id string) int {
	if def, ok := reg.defs[id]; ok {
		return def.Formula
	}
	return 0
}
