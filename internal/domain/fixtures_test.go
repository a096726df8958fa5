package domain

import (
	"encoding/json"
	"time"
)

// A fixture is one kind's minimal record (id and the required fields of
// SPEC §1) and full record (every field), as input and as the expected
// result. Input numbers are json.Number so that their exact text reaches
// both the JSON and the CSV form.
type fixture struct {
	kind              Kind
	min, full         map[string]any
	wantMin, wantFull Record
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func fp(f float64) *float64 { return &f }

func num(s string) json.Number { return json.Number(s) }

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func fixtures() []fixture {
	return []fixture{
		{
			kind: KindService,
			min:  map[string]any{"id": "svc-1", "name": "Checkout"},
			full: map[string]any{
				"id": "svc-1", "source": "catalog", "name": "Checkout", "team": "payments", "owner": "alice",
				"tier": num("1"), "customer_facing": true, "business_unit": "commerce", "slo_target": num("0.999"),
				"repo": "github.com/acme/shop", "paths": []string{"services/checkout", "lib/pay"},
			},
			wantMin: &Service{Meta: Meta{ID: "svc-1", Source: "import"}, Name: "Checkout"},
			wantFull: &Service{
				Meta: Meta{ID: "svc-1", Source: "catalog"}, Name: "Checkout", Team: "payments", Owner: "alice",
				Tier: 1, CustomerFacing: true, BusinessUnit: "commerce", SLOTarget: 0.999,
				Repo: "github.com/acme/shop", Paths: []string{"services/checkout", "lib/pay"},
			},
		},
		{
			kind: KindDeployment,
			min: map[string]any{
				"id": "dep-1", "service": "checkout", "environment": "prod",
				"finished_at": "2026-03-01T12:00:00+02:00", "status": "success",
			},
			full: map[string]any{
				"id": "dep-1", "source": "github", "service": "checkout", "environment": "eu-prod-1",
				"finished_at": "2026-03-01T12:00:00+02:00", "status": "rolled_back", "env_type": "production",
				"started_at": "2026-03-01T09:50:00Z", "cutover_at": "2026-03-01T10:05:00.5Z",
				"version": "1.4.2", "commit": "4f2a9c1", "changes": []string{"pr-101", "pr-102"},
				"change_request": "CHG0012345", "reason": "rollback", "rollback_of": "dep-0",
				"emergency": true, "retro_validated_at": "2026-03-02T09:00:00Z",
				"risk_score": num("42.5"), "coverage": num("0.85"), "pipeline_url": "https://ci.example.com/runs/1",
			},
			wantMin: &Deployment{
				Meta: Meta{ID: "dep-1", Source: "import"}, Service: "checkout", Environment: "prod",
				FinishedAt: ts("2026-03-01T10:00:00Z"), Status: StatusSuccess,
			},
			wantFull: &Deployment{
				Meta: Meta{ID: "dep-1", Source: "github"}, Service: "checkout", Environment: "eu-prod-1",
				FinishedAt: ts("2026-03-01T10:00:00Z"), Status: StatusRolledBack, EnvType: EnvProduction,
				StartedAt: ts("2026-03-01T09:50:00Z"), CutoverAt: ts("2026-03-01T10:05:00.5Z"),
				Version: "1.4.2", Commit: "4f2a9c1", Changes: []string{"pr-101", "pr-102"},
				ChangeRequest: "CHG0012345", Reason: ReasonRollback, RollbackOf: "dep-0",
				Emergency: true, RetroValidatedAt: ts("2026-03-02T09:00:00Z"),
				RiskScore: fp(42.5), Coverage: fp(0.85), PipelineURL: "https://ci.example.com/runs/1",
			},
		},
		{
			kind:    KindChange,
			min:     map[string]any{"id": "pr-101", "service": "checkout", "merged_at": "2026-03-01T08:00:00.123456789Z"},
			wantMin: &Change{Meta: Meta{ID: "pr-101", Source: "import"}, Service: "checkout", MergedAt: ts("2026-03-01T08:00:00.123456789Z")},
			full: map[string]any{
				"id": "pr-101", "source": "github", "service": "checkout", "merged_at": "2026-03-01T08:00:00.123456789Z",
				"authored_at": "2026-02-27T16:00:00-05:00", "opened_at": "2026-02-28T09:00:00Z",
				"first_review_at": "2026-02-28T15:30:00Z",
				"title":           "Retry card auth on 503", "author": "bob", "commit": "4f2a9c1",
				"url": "https://github.com/acme/shop/pull/101",
			},
			wantFull: &Change{
				Meta: Meta{ID: "pr-101", Source: "github"}, Service: "checkout", MergedAt: ts("2026-03-01T08:00:00.123456789Z"),
				AuthoredAt: ts("2026-02-27T21:00:00Z"), OpenedAt: ts("2026-02-28T09:00:00Z"),
				FirstReviewAt: ts("2026-02-28T15:30:00Z"),
				Title:         "Retry card auth on 503", Author: "bob", Commit: "4f2a9c1",
				URL: "https://github.com/acme/shop/pull/101",
			},
		},
		{
			kind: KindIncident,
			min:  map[string]any{"id": "inc-1", "service": "checkout", "severity": "P1", "opened_at": "2026-03-01T10:30:00Z"},
			wantMin: &Incident{
				Meta: Meta{ID: "inc-1", Source: "import"}, Service: "checkout", Severity: "P1", OpenedAt: ts("2026-03-01T10:30:00Z"),
			},
			full: map[string]any{
				"id": "inc-1", "source": "pagerduty", "service": "checkout", "severity": "P0", "opened_at": "2026-03-01T10:30:00Z",
				"detected_at": "2026-03-01T10:20:00Z", "resolved_at": "2026-03-01T11:30:00Z", "caused_by": "dep-1",
				"caused_by_change_request": "CHG0012345", "customer_facing": true, "origin": "monitoring",
				"category": "availability", "fingerprint": "checkout-5xx", "postmortem_due_at": "2026-03-08T10:30:00Z",
				"postmortem_done_at": "2026-03-05T15:00:00Z", "url": "https://acme.pagerduty.com/incidents/1",
			},
			wantFull: &Incident{
				Meta: Meta{ID: "inc-1", Source: "pagerduty"}, Service: "checkout", Severity: "P0", OpenedAt: ts("2026-03-01T10:30:00Z"),
				DetectedAt: ts("2026-03-01T10:20:00Z"), ResolvedAt: ts("2026-03-01T11:30:00Z"), CausedBy: "dep-1",
				CausedByChangeRequest: "CHG0012345", CustomerFacing: true, Origin: "monitoring",
				Category: "availability", Fingerprint: "checkout-5xx", PostmortemDueAt: ts("2026-03-08T10:30:00Z"),
				PostmortemDoneAt: ts("2026-03-05T15:00:00Z"), URL: "https://acme.pagerduty.com/incidents/1",
			},
		},
		{
			kind: KindSLI,
			min: map[string]any{
				"id": "sli-1", "service": "checkout", "period_start": "2026-03-01T00:00:00Z",
				"period_end": "2026-03-02T00:00:00Z", "good": num("999"), "total": num("1000"),
			},
			wantMin: &SLI{
				Meta: Meta{ID: "sli-1", Source: "import"}, Service: "checkout", PeriodStart: ts("2026-03-01T00:00:00Z"),
				PeriodEnd: ts("2026-03-02T00:00:00Z"), Good: 999, Total: 1000,
			},
			full: map[string]any{
				"id": "sli-1", "source": "prometheus", "service": "checkout", "period_start": "2026-03-01T00:00:00Z",
				"period_end": "2026-03-02T00:00:00Z", "good": num("99950.5"), "total": num("1e5"), "objective": "latency",
			},
			wantFull: &SLI{
				Meta: Meta{ID: "sli-1", Source: "prometheus"}, Service: "checkout", PeriodStart: ts("2026-03-01T00:00:00Z"),
				PeriodEnd: ts("2026-03-02T00:00:00Z"), Good: 99950.5, Total: 100000, Objective: "latency",
			},
		},
		{
			kind:    KindTicket,
			min:     map[string]any{"id": "T-1", "created_at": "2026-03-01T10:40:00Z"},
			wantMin: &Ticket{Meta: Meta{ID: "T-1", Source: "import"}, CreatedAt: ts("2026-03-01T10:40:00Z")},
			full: map[string]any{
				"id": "T-1", "source": "zendesk", "created_at": "2026-03-01T10:40:00Z", "customer": "globex",
				"segment": "enterprise", "resolved_at": "2026-03-01T14:00:00Z", "priority": "urgent", "category": "bug", "user_role": "admin",
				"criticality": "high", "escalated": true, "sla_due_at": "2026-03-01T18:40:00Z", "release": "dep-1",
				"text": "Checkout fails: \"card declined\" <for> everyone & co;\nsecond line\twith a tab", "service": "checkout",
			},
			wantFull: &Ticket{
				Meta: Meta{ID: "T-1", Source: "zendesk"}, CreatedAt: ts("2026-03-01T10:40:00Z"), Customer: "globex", Segment: "enterprise",
				ResolvedAt: ts("2026-03-01T14:00:00Z"), Priority: "urgent", Category: "bug", UserRole: "admin",
				Criticality: "high", Escalated: true, SLADueAt: ts("2026-03-01T18:40:00Z"), Release: "dep-1",
				Text: "Checkout fails: \"card declined\" <for> everyone & co;\nsecond line\twith a tab", Service: "checkout",
			},
		},
		{
			kind:    KindSurvey,
			min:     map[string]any{"id": "s-1", "at": "2026-03-01T12:00:00Z", "type": "csat", "score": num("4")},
			wantMin: &Survey{Meta: Meta{ID: "s-1", Source: "import"}, At: ts("2026-03-01T12:00:00Z"), Type: "csat", Score: 4},
			full: map[string]any{
				"id": "s-1", "source": "delighted", "at": "2026-03-01T12:00:00Z", "type": "nps", "score": num("9"),
				"customer": "globex", "release": "dep-1",
			},
			wantFull: &Survey{
				Meta: Meta{ID: "s-1", Source: "delighted"}, At: ts("2026-03-01T12:00:00Z"), Type: "nps", Score: 9,
				Customer: "globex", Release: "dep-1",
			},
		},
		{
			kind: KindVulnerability,
			min:  map[string]any{"id": "v-1", "severity": "high", "opened_at": "2026-03-01T00:00:00Z"},
			wantMin: &Vulnerability{
				Meta: Meta{ID: "v-1", Source: "import"}, Severity: "high", OpenedAt: ts("2026-03-01T00:00:00Z"),
			},
			full: map[string]any{
				"id": "v-1", "source": "trivy", "severity": "critical", "opened_at": "2026-03-01T00:00:00Z",
				"service": "checkout", "fixed_at": "2026-03-04T00:00:00Z", "cve": "CVE-2026-1234", "kev": true,
				"package": "openssl", "url": "https://nvd.nist.gov/vuln/detail/CVE-2026-1234",
			},
			wantFull: &Vulnerability{
				Meta: Meta{ID: "v-1", Source: "trivy"}, Severity: "critical", OpenedAt: ts("2026-03-01T00:00:00Z"),
				Service: "checkout", FixedAt: ts("2026-03-04T00:00:00Z"), CVE: "CVE-2026-1234", KEV: true,
				Package: "openssl", URL: "https://nvd.nist.gov/vuln/detail/CVE-2026-1234",
			},
		},
		{
			kind: KindControl,
			// passed is required and false is a value, not an absence.
			min: map[string]any{"id": "chk-1", "control": "CC7.1", "checked_at": "2026-03-01T06:00:00Z", "passed": false},
			wantMin: &Control{
				Meta: Meta{ID: "chk-1", Source: "import"}, Control: "CC7.1", CheckedAt: ts("2026-03-01T06:00:00Z"),
			},
			full: map[string]any{
				"id": "chk-1", "source": "drata", "control": "CC7.1", "checked_at": "2026-03-01T06:00:00Z", "passed": true,
				"name": "Change approval", "framework": "SOX", "evidence_url": "https://evidence.example.com/1",
			},
			wantFull: &Control{
				Meta: Meta{ID: "chk-1", Source: "drata"}, Control: "CC7.1", CheckedAt: ts("2026-03-01T06:00:00Z"), Passed: true,
				Name: "Change approval", Framework: "SOX", EvidenceURL: "https://evidence.example.com/1",
			},
		},
		{
			kind: KindCost,
			min: map[string]any{
				"id": "c-1", "period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z", "amount": num("1234.567891"),
			},
			wantMin: &Cost{
				Meta: Meta{ID: "c-1", Source: "import"}, PeriodStart: ts("2026-02-01T00:00:00Z"),
				PeriodEnd: ts("2026-03-01T00:00:00Z"), Amount: 1_234_567_891, Currency: "USD",
			},
			full: map[string]any{
				"id": "c-1", "source": "aws", "period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z",
				"amount": num("-12.5"), "currency": "EUR", "service": "checkout", "category": "compute",
				"provider": "aws", "tags": []string{"env=prod", "team=payments"},
			},
			wantFull: &Cost{
				Meta: Meta{ID: "c-1", Source: "aws"}, PeriodStart: ts("2026-02-01T00:00:00Z"), PeriodEnd: ts("2026-03-01T00:00:00Z"),
				Amount: -12_500_000, Currency: "EUR", Service: "checkout", Category: "compute",
				Provider: "aws", Tags: []string{"env=prod", "team=payments"},
			},
		},
		{
			kind: KindUsage,
			min:  map[string]any{"id": "u-1", "period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z"},
			wantMin: &Usage{
				Meta: Meta{ID: "u-1", Source: "import"}, PeriodStart: ts("2026-02-01T00:00:00Z"), PeriodEnd: ts("2026-03-01T00:00:00Z"),
			},
			full: map[string]any{
				"id": "u-1", "source": "billing", "period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z",
				"requests": num("1.5e6"), "active_customers": num("0"), "service": "checkout",
			},
			wantFull: &Usage{
				Meta: Meta{ID: "u-1", Source: "billing"}, PeriodStart: ts("2026-02-01T00:00:00Z"), PeriodEnd: ts("2026-03-01T00:00:00Z"),
				Requests: fp(1.5e6), ActiveCustomers: fp(0), Service: "checkout",
			},
		},
		{
			kind: KindBudget,
			min: map[string]any{
				"id": "b-1", "period_start": "2026-03-01T00:00:00Z", "period_end": "2026-04-01T00:00:00Z", "amount": num("50000"),
			},
			wantMin: &Budget{
				Meta: Meta{ID: "b-1", Source: "import"}, PeriodStart: ts("2026-03-01T00:00:00Z"),
				PeriodEnd: ts("2026-04-01T00:00:00Z"), Amount: 50_000 * MoneyScale, Currency: "USD",
			},
			full: map[string]any{
				"id": "b-1", "source": "finance", "period_start": "2026-03-01T00:00:00Z", "period_end": "2026-04-01T00:00:00Z",
				"amount": num("50000.01"), "currency": "GBP", "category": "compute",
			},
			wantFull: &Budget{
				Meta: Meta{ID: "b-1", Source: "finance"}, PeriodStart: ts("2026-03-01T00:00:00Z"),
				PeriodEnd: ts("2026-04-01T00:00:00Z"), Amount: 50_000_010_000, Currency: "GBP", Category: "compute",
			},
		},
		{
			kind: KindSubscription,
			min:  map[string]any{"id": "sub-1", "customer": "globex", "started_at": "2025-01-15T00:00:00Z", "mrr": num("99.99")},
			wantMin: &Subscription{
				Meta: Meta{ID: "sub-1", Source: "import"}, Customer: "globex", StartedAt: ts("2025-01-15T00:00:00Z"),
				MRR: 99_990_000, Currency: "USD",
			},
			full: map[string]any{
				"id": "sub-1", "source": "stripe", "customer": "globex", "started_at": "2025-01-15T00:00:00Z",
				"mrr": num("83.333333"), "currency": "EUR", "ended_at": "2026-01-15T00:00:00Z", "plan": "pro", "segment": "enterprise",
				"interval": "year", "quantity": num("3"), "discount": num("0.1"),
			},
			wantFull: &Subscription{
				Meta: Meta{ID: "sub-1", Source: "stripe"}, Customer: "globex", StartedAt: ts("2025-01-15T00:00:00Z"),
				MRR: 83_333_333, Currency: "EUR", EndedAt: ts("2026-01-15T00:00:00Z"), Plan: "pro", Segment: "enterprise",
				Interval: "year", Quantity: fp(3), Discount: fp(0.1),
			},
		},
		{
			kind: KindOpportunity,
			min:  map[string]any{"id": "opp-1", "created_at": "2026-01-10T00:00:00Z", "amount": num("1e3"), "stage": "discovery"},
			wantMin: &Opportunity{
				Meta: Meta{ID: "opp-1", Source: "import"}, CreatedAt: ts("2026-01-10T00:00:00Z"),
				Amount: 1000 * MoneyScale, Currency: "USD", Stage: "discovery",
			},
			full: map[string]any{
				"id": "opp-1", "source": "salesforce", "created_at": "2026-01-10T00:00:00Z", "amount": num("120000"),
				"currency": "CHF", "stage": "closed_won", "owner": "carol", "qualified_at": "2026-01-20T00:00:00Z",
				"closed_at": "2026-02-27T17:00:00Z", "won": true, "close_date": "2026-02-28", "channel": "partner",
			},
			wantFull: &Opportunity{
				Meta: Meta{ID: "opp-1", Source: "salesforce"}, CreatedAt: ts("2026-01-10T00:00:00Z"), Amount: 120_000 * MoneyScale,
				Currency: "CHF", Stage: "closed_won", Owner: "carol", QualifiedAt: ts("2026-01-20T00:00:00Z"),
				ClosedAt: ts("2026-02-27T17:00:00Z"), Won: true, CloseDate: date("2026-02-28"), Channel: "partner",
			},
		},
		{
			kind:    KindLead,
			min:     map[string]any{"id": "lead-1", "created_at": "2026-01-02T00:00:00Z"},
			wantMin: &Lead{Meta: Meta{ID: "lead-1", Source: "import"}, CreatedAt: ts("2026-01-02T00:00:00Z")},
			full: map[string]any{
				"id": "lead-1", "source": "hubspot", "created_at": "2026-01-02T00:00:00Z", "mql_at": "2026-01-05T00:00:00Z",
				"sql_at": "2026-01-09T00:00:00Z", "opportunity": "opp-1", "channel": "webinar", "campaign": "q1-launch",
			},
			wantFull: &Lead{
				Meta: Meta{ID: "lead-1", Source: "hubspot"}, CreatedAt: ts("2026-01-02T00:00:00Z"), MQLAt: ts("2026-01-05T00:00:00Z"),
				SQLAt: ts("2026-01-09T00:00:00Z"), Opportunity: "opp-1", Channel: "webinar", Campaign: "q1-launch",
			},
		},
		{
			kind: KindQuota,
			min: map[string]any{
				"id": "q-1", "owner": "carol", "period_start": "2026-01-01T00:00:00Z", "period_end": "2026-04-01T00:00:00Z",
				"amount": num("250000"),
			},
			wantMin: &Quota{
				Meta: Meta{ID: "q-1", Source: "import"}, Owner: "carol", PeriodStart: ts("2026-01-01T00:00:00Z"),
				PeriodEnd: ts("2026-04-01T00:00:00Z"), Amount: 250_000 * MoneyScale, Currency: "USD",
			},
			full: map[string]any{
				"id": "q-1", "source": "plan", "owner": "carol", "period_start": "2026-01-01T00:00:00Z",
				"period_end": "2026-04-01T00:00:00Z", "amount": num("0"), "currency": "JPY",
			},
			wantFull: &Quota{
				Meta: Meta{ID: "q-1", Source: "plan"}, Owner: "carol", PeriodStart: ts("2026-01-01T00:00:00Z"),
				PeriodEnd: ts("2026-04-01T00:00:00Z"), Amount: 0, Currency: "JPY",
			},
		},
		{
			kind: KindSpend,
			min: map[string]any{
				"id": "sp-1", "period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z",
				"category": "marketing", "amount": num("0.000001"),
			},
			wantMin: &Spend{
				Meta: Meta{ID: "sp-1", Source: "import"}, PeriodStart: ts("2026-02-01T00:00:00Z"),
				PeriodEnd: ts("2026-03-01T00:00:00Z"), Category: "marketing", Amount: 1, Currency: "USD",
			},
			full: map[string]any{
				"id": "sp-1", "source": "erp", "period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z",
				"category": "sales", "amount": num("75000.5"), "currency": "CAD",
			},
			wantFull: &Spend{
				Meta: Meta{ID: "sp-1", Source: "erp"}, PeriodStart: ts("2026-02-01T00:00:00Z"),
				PeriodEnd: ts("2026-03-01T00:00:00Z"), Category: "sales", Amount: 75_000_500_000, Currency: "CAD",
			},
		},
		{
			kind: KindTarget,
			min: map[string]any{
				"id": "t-1", "metric": "deploy_frequency", "period_start": "2026-01-01T00:00:00Z",
				"period_end": "2026-04-01T00:00:00Z", "value": num("-2.5"),
			},
			wantMin: &Target{
				Meta: Meta{ID: "t-1", Source: "import"}, Metric: "deploy_frequency", PeriodStart: ts("2026-01-01T00:00:00Z"),
				PeriodEnd: ts("2026-04-01T00:00:00Z"), Value: -2.5,
			},
			full: map[string]any{
				"id": "t-1", "source": "okr", "metric": "deploy_frequency", "period_start": "2026-01-01T00:00:00Z",
				"period_end": "2026-04-01T00:00:00Z", "value": num("0"), "scope": "team:payments",
			},
			wantFull: &Target{
				Meta: Meta{ID: "t-1", Source: "okr"}, Metric: "deploy_frequency", PeriodStart: ts("2026-01-01T00:00:00Z"),
				PeriodEnd: ts("2026-04-01T00:00:00Z"), Value: 0, Scope: "team:payments",
			},
		},
		{
			kind: KindMeasurement,
			// 0 is a value, not an absence.
			min: map[string]any{"id": "m-1", "metric": "team_health", "at": "2026-03-01T09:00:00+01:00", "value": num("0")},
			wantMin: &Measurement{
				Meta: Meta{ID: "m-1", Source: "import"}, Metric: "team_health", At: ts("2026-03-01T08:00:00Z"), Value: 0,
			},
			full: map[string]any{
				"id": "m-1", "source": "culture-amp", "metric": "page_latency_p95", "at": "2026-03-01T08:00:00Z", "value": num("-412.75"),
				"service": "checkout", "team": "payments", "customer": "globex", "segment": "enterprise", "unit": "ms",
				"tags": []string{"region=eu", "browser=firefox"},
			},
			wantFull: &Measurement{
				Meta: Meta{ID: "m-1", Source: "culture-amp"}, Metric: "page_latency_p95", At: ts("2026-03-01T08:00:00Z"), Value: -412.75,
				Service: "checkout", Team: "payments", Customer: "globex", Segment: "enterprise", Unit: "ms",
				Tags: []string{"region=eu", "browser=firefox"},
			},
		},
	}
}

// spec is SPEC §1's table: the required and optional fields of each kind
// (id and source are common to all; currency belongs to the money kinds).
var spec = map[Kind]struct{ required, optional []string }{
	KindService:       {[]string{"name"}, []string{"team", "owner", "tier", "customer_facing", "business_unit", "slo_target", "repo", "paths"}},
	KindDeployment:    {[]string{"service", "environment", "finished_at", "status"}, []string{"env_type", "started_at", "cutover_at", "version", "commit", "changes", "change_request", "reason", "rollback_of", "emergency", "retro_validated_at", "risk_score", "coverage", "pipeline_url"}},
	KindChange:        {[]string{"service", "merged_at"}, []string{"authored_at", "opened_at", "first_review_at", "title", "author", "commit", "url"}},
	KindIncident:      {[]string{"service", "severity", "opened_at"}, []string{"detected_at", "resolved_at", "caused_by", "caused_by_change_request", "customer_facing", "origin", "category", "fingerprint", "postmortem_due_at", "postmortem_done_at", "url"}},
	KindSLI:           {[]string{"service", "period_start", "period_end", "good", "total"}, []string{"objective"}},
	KindTicket:        {[]string{"created_at"}, []string{"customer", "segment", "resolved_at", "priority", "category", "user_role", "criticality", "escalated", "sla_due_at", "release", "text", "service"}},
	KindSurvey:        {[]string{"at", "type", "score"}, []string{"customer", "release"}},
	KindVulnerability: {[]string{"severity", "opened_at"}, []string{"service", "fixed_at", "cve", "kev", "package", "url"}},
	KindControl:       {[]string{"control", "checked_at", "passed"}, []string{"name", "framework", "evidence_url"}},
	KindCost:          {[]string{"period_start", "period_end", "amount"}, []string{"currency", "service", "category", "provider", "tags"}},
	KindUsage:         {[]string{"period_start", "period_end"}, []string{"requests", "active_customers", "service"}},
	KindBudget:        {[]string{"period_start", "period_end", "amount"}, []string{"currency", "category"}},
	KindSubscription:  {[]string{"customer", "started_at", "mrr"}, []string{"currency", "ended_at", "plan", "segment", "interval", "quantity", "discount"}},
	KindOpportunity:   {[]string{"created_at", "amount", "stage"}, []string{"currency", "owner", "qualified_at", "closed_at", "won", "close_date", "channel"}},
	KindLead:          {[]string{"created_at"}, []string{"mql_at", "sql_at", "opportunity", "channel", "campaign"}},
	KindQuota:         {[]string{"owner", "period_start", "period_end", "amount"}, []string{"currency"}},
	KindSpend:         {[]string{"period_start", "period_end", "category", "amount"}, []string{"currency"}},
	KindTarget:        {[]string{"metric", "period_start", "period_end", "value"}, []string{"scope"}},
	KindMeasurement:   {[]string{"metric", "at", "value"}, []string{"service", "team", "customer", "segment", "unit", "tags"}},
}
