package main

import (
	"context"
	"fmt"
	"time"

	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
)

// demoLeftOpen is how many of the demo's escalations are left without an
// action: enough to show what an escalation looks like on the scorecard,
// few enough that the page reads like an organisation whose owners work
// on their amber and red numbers rather than one where nobody does.
const demoLeftOpen = 3

// demoNotes are the actions the demo's owners record, one per metric, each
// about its own metric as its owner would write it: they had been one text
// per pillar, so ARR, NRR, CAC and quota attainment all read "Pipeline review
// with sales leadership; campaign spend moves to the channels that convert".
// TestDemoNotesSayTheirMetric keeps one for every metric the demo shows.
var demoNotes = map[string]string{
	// Reliability
	"availability":                "Checkout and payments move to two zones; the on-call lead reviews each outage minute at the weekly ops review",
	"slo_compliance":              "Each service missing its SLO names an owner and a fix in its next sprint; SLOs without alerts get them this month",
	"error_budget_remaining":      "Risky changes wait for the services out of error budget until it recovers; reliability work goes first in their sprints",
	"incidents_p0_p1":             "Review of the last two P0/P1 outages with the on-call leads; their top three causes are fixed before new features",
	"mttr":                        "Runbooks for the ten most paged alerts, and a second on-call for checkout and payments at peak hours",
	"time_to_detect":              "Alerts on customer-facing error rates for every tier 1 service, so monitoring rather than customers finds outages",
	"incident_recurrence_rate":    "Every repeat incident gets a problem ticket with an owner; post-mortem actions are tracked to done, not to filed",
	"postmortem_compliance":       "Post-mortems due within five working days of each P0/P1; the SRE lead chases overdue ones at the Monday review",
	"error_rate":                  "The three services with the most 5xx errors fix their top error sources; retries with backoff for the payment calls",
	"business_hours_availability": "Maintenance windows move out of business hours; deploys to tier 1 services stop between 9 and 5 on peak days",
	"latency_compliance":          "Profiling of the slowest endpoints of search and checkout; a latency budget is added to their release checks",
	"mttr_baseline":               "Restore times compared with our own last quarter service by service; the two slowest to restore get runbook reviews",
	"revenue_at_risk":             "Customers hit by this month's outages are called by their account managers; SLA credits are agreed with finance",
	"major_incident_p90":          "Major incident drills each month for the on-call rotations; a standing incident commander for P0s",
	// Security
	"open_critical_vulnerabilities": "Patch sprint with the platform team on every open critical; an exception needs my sign-off and a date",
	"open_high_vulnerabilities":     "High vulnerabilities move into each team's sprint backlog with a 30-day target; dependency updates automated",
	"time_to_patch_critical":        "Critical patches skip the release train: the platform team ships them within 48 hours of triage",
	"vulnerability_sla_breaches":    "Weekly triage of vulnerabilities near their SLA with the owning teams; breaches reported to the risk committee",
	"security_incidents_90d":        "Phishing exercise for all staff and hardware keys for admins; incident lessons reviewed at the security council",
	"compliance_pass_rate":          "Owners named for each failing control; evidence collection automated before the next audit window",
	// Delivery
	"deployment_frequency":                  "Smaller pull requests and trunk-based releases for the teams deploying less than weekly",
	"lead_time_for_changes":                 "Review turnaround target of one working day; the slowest pipeline stages are parallelised",
	"change_failure_rate":                   "Canary stage and automatic rollback added to the pipelines of the three services with most failed changes",
	"failed_deployment_recovery_time":       "One-click rollback for every production service; feature flags for risky changes instead of hotfixes",
	"rework_rate":                           "Clearer acceptance criteria before work starts; the teams with most rework pair with product on their next epics",
	"rollback_rate":                         "Pre-production smoke tests on production-like data for the services rolled back most",
	"deployment_success_rate":               "Flaky pipeline steps quarantined and fixed by the platform team; failed deploys reviewed each Friday",
	"deployment_duration":                   "Build caching and parallel test shards for the slowest pipelines",
	"customer_weighted_change_failure_rate": "Changes to services enterprise customers use get canaries and a second reviewer until failures come down",
	"emergency_retro_overdue":               "Every emergency change is retro-validated within a week; the change manager chases the overdue ones daily",
	"coding_time":                           "Large stories split before they start; work in progress limited to two items per engineer",
	"pickup_time":                           "A reviewer rota in each team, so no pull request waits more than half a day for a first look",
	"review_time":                           "Review checklists and smaller pull requests; pairing for changes over 400 lines",
	"deploy_time":                           "Merged changes deploy automatically to production behind flags instead of waiting for the weekly release",
	"innovation_capacity":                   "Unplanned work capped at 30 % per team; toil reduction items go into every sprint",
	"team_health":                           "One-to-ones on the survey results with each team lead; on-call load rebalanced across teams",
	// Cost
	"infrastructure_cost":       "Rightsizing of the five most expensive services with FinOps; idle environments shut down at night",
	"cost_trend":                "Reserved capacity for the steady workloads; new services need a cost estimate before launch",
	"cost_per_active_customer":  "Cost per customer reviewed by service with FinOps; the storage tiering project is brought forward",
	"cost_per_million_requests": "Caching in front of the search and catalog APIs; autoscaling thresholds reviewed service by service",
	"budget_variance":           "Monthly budget review with each service owner; spend over forecast needs CFO approval until we are back on budget",
	// Customer
	"csat":                        "Calls with the ten lowest-scoring accounts; the top driver of low scores, slow first replies, is fixed first",
	"nps":                         "Detractor follow-up within a week by their account managers; the top three requests go to the product roadmap",
	"logo_churn_rate":             "Health scores for every account renewing this quarter; at-risk accounts get an executive sponsor",
	"sla_adherence":               "Extra support cover at the morning peak and escalation alerts an hour before a ticket's SLA is due",
	"open_escalations":            "Daily escalation stand-up with engineering until the backlog is cleared; an owner for each escalation",
	"release_impact_score":        "Releases with ticket spikes get a review with support; release notes go to support a day before each release",
	"customer_reported_incidents": "Synthetic checks on the customer journeys customers reported outages of, so monitoring finds them first",
	"enterprise_escalation_share": "Named support engineers for enterprise accounts and a monthly review of their escalations with engineering",
	// Growth
	"mrr":                "Expansion offers to accounts above 80 % of their plan limits; pricing of the team plan reviewed with finance",
	"arr":                "The quarter's 20 largest renewals are closed early; the larger team-plan accounts are offered annual contracts",
	"nrr":                "Customer success runs expansion reviews with the 30 largest accounts; usage-based add-ons launch next quarter",
	"grr":                "Renewal reviews 120 days ahead for every account over 10k ARR; downgrade requests go to customer success first",
	"pipeline_coverage":  "Each rep builds pipeline to 3× their remaining quota; outbound campaign on the mid-market segment",
	"win_rate":           "Win/loss interviews on the last quarter's lost deals; competitive battle cards refreshed with sales enablement",
	"sales_cycle_length": "Mutual close plans on every deal over 50k; legal review starts at proposal rather than at signature",
	"sales_velocity":     "Deal reviews twice a week to move stalled opportunities; discounting needs VP approval to protect deal size",
	"quota_attainment":   "Rep-by-rep forecast calls each week; coaching plans for reps below 70 % of quota at mid-quarter",
	"cac":                "Paid channels with the highest cost per customer paused; budget moves to referrals and partner deals",
	"cac_payback_months": "Annual prepayment offered on new contracts; the onboarding team shortens time to first value",
	"mql_volume":         "Two webinars and a content campaign for the mid-market segment this quarter; lead scoring re-tuned with sales",
	"mrr_new":            "Self-serve sign-up for the starter plan and a trial-to-paid campaign for this quarter's trials",
	"mrr_reactivation":   "Win-back offer to customers who churned in the last year, run by customer success",
	"mrr_expansion":      "Usage reviews with accounts near their plan limits; upgrade prompts in the product for the team plan",
	"mrr_contraction":    "Downgrade requests reviewed by customer success before they take effect; right-sized plans offered instead",
	"mrr_churn":          "Exit interviews with every churned account; the top two churn reasons get product fixes this quarter",
	"quick_ratio":        "Growth plan for next year: new and expansion MRR targets set against the churn we forecast",
	"ltv":                "Retention programme for the starter plan, whose customers leave soonest; price review of the team plan",
	"funnel_conversion":  "Lead handoff from marketing to sales within a day; SQL criteria agreed between the two teams",
	"aged_open_deals":    "Deals open over 90 days are closed out or re-qualified at this month's pipeline review",
}

// demoActions records, as each metric's owner, an action on every metric
// the demo organisation would escalate except the first demoLeftOpen (P0
// and red first), the way the owners of a real organisation would have.
// The acknowledgements go through the same checks and ledger as any other
// and say they were recorded by the demo. It returns how many it recorded
// and how many escalations remain.
func demoActions(ctx context.Context, a *app, now time.Time) (recorded, left int, err error) {
	acks, err := escalation.List(ctx, a.store, "")
	if err != nil {
		return 0, 0, err
	}
	if len(acks) > 0 {
		// A kept demo directory (--data) already has its owners' actions.
		return 0, 0, nil
	}
	// Pages read as of the current minute: an action recorded later in the
	// minute would not be in force on them until the next one.
	now = now.Truncate(time.Minute).Add(-time.Second)
	var prepared []escalation.Acknowledgement
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		es := escalation.Escalations(a.catalog, ds, nil, escalation.Options{AsOf: now})
		left = min(len(es), demoLeftOpen)
		for i, e := range es[left:] {
			m, ok := a.catalog.Metric(e.Metric)
			if !ok {
				continue
			}
			in := escalation.Input{
				Owner: m.Owner,
				Note:  demoNotes[m.ID],
				Due:   now.AddDate(0, 0, 10+i%3*4).Format(time.DateOnly),
				Scope: e.Scope,
			}
			if in.Note == "" {
				in.Note = "Owner reviewing the cause of the " + m.Name + " figure with the team"
			}
			ack, err := escalation.Prepare(a.catalog, ds, e.Metric, in, "demo", now)
			if err != nil {
				return fmt.Errorf("demo action on %s: %w", e.Metric, err)
			}
			prepared = append(prepared, ack)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for _, ack := range prepared {
		if _, err := escalation.Record(ctx, a.store, ack); err != nil {
			return recorded, left, err
		}
		recorded++
	}
	return recorded, left, nil
}
