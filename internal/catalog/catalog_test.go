package catalog

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// specMetrics is SPEC §3, table by table, in the SPEC's order; the catalog must hold exactly these.
var specMetrics = map[string][]string{
	"delivery": {
		"deployment_frequency", "lead_time_for_changes", "change_failure_rate",
		"failed_deployment_recovery_time", "rework_rate", "rollback_rate",
		"deployment_success_rate", "deployment_duration", "customer_weighted_change_failure_rate",
		"emergency_retro_overdue",
		"coding_time", "pickup_time", "review_time", "deploy_time",
	},
	"reliability": {
		"availability", "slo_compliance", "error_budget_remaining", "incidents_p0_p1", "mttr",
		"time_to_detect", "incident_recurrence_rate", "postmortem_compliance", "error_rate",
		"business_hours_availability", "latency_compliance", "mttr_baseline",
		"revenue_at_risk",
	},
	"security": {
		"open_critical_vulnerabilities", "open_high_vulnerabilities", "time_to_patch_critical",
		"vulnerability_sla_breaches", "security_incidents_90d", "compliance_pass_rate",
	},
	"cost": {
		"infrastructure_cost", "cost_trend", "cost_per_active_customer",
		"cost_per_million_requests", "budget_variance",
	},
	"customer": {
		"csat", "nps", "logo_churn_rate", "sla_adherence", "open_escalations", "release_impact_score",
	},
	"growth": {
		"mrr", "arr", "nrr", "grr", "pipeline_coverage", "win_rate", "sales_cycle_length",
		"sales_velocity", "quota_attainment", "cac", "cac_payback_months", "mql_volume",
		"mrr_new", "mrr_reactivation", "mrr_expansion", "mrr_contraction", "mrr_churn",
		"quick_ratio", "ltv", "funnel_conversion",
	},
}

// specThresholds is SPEC §3's default threshold column, as the catalog must encode it.
var specThresholds = map[string]Thresholds{
	"deployment_frequency":                  {Green: 1, Amber: 1.0 / 7},
	"lead_time_for_changes":                 {Green: 24, Amber: 168},
	"change_failure_rate":                   {Green: 5, Amber: 15},
	"failed_deployment_recovery_time":       {Green: 1, Amber: 24},
	"rework_rate":                           {Green: 5, Amber: 15},
	"rollback_rate":                         {Green: 2, Amber: 5},
	"deployment_success_rate":               {Green: 95, Amber: 90},
	"deployment_duration":                   {Green: 15, Amber: 60},
	"emergency_retro_overdue":               {Green: 0, Amber: 0},
	"customer_weighted_change_failure_rate": {Green: 5, Amber: 15},
	"business_hours_availability":           {Green: 99.9, Amber: 99.5},
	"latency_compliance":                    {Green: 99, Amber: 95},
	"availability":                          {Green: 99.9, Amber: 99.5},
	"slo_compliance":                        {Green: 100, Amber: 90},
	"error_budget_remaining":                {Green: 50, Amber: 10},
	"incidents_p0_p1":                       {Green: 0, Amber: 2},
	"mttr":                                  {Green: 1, Amber: 4},
	"time_to_detect":                        {Green: 5, Amber: 30},
	"incident_recurrence_rate":              {Green: 5, Amber: 15},
	"postmortem_compliance":                 {Green: 100, Amber: 90},
	"error_rate":                            {Green: 0.1, Amber: 0.5},
	"open_critical_vulnerabilities":         {Green: 0, Amber: 2},
	"open_high_vulnerabilities":             {Green: 5, Amber: 20},
	"time_to_patch_critical":                {Green: 7, Amber: 30},
	"vulnerability_sla_breaches":            {Green: 0, Amber: 3},
	"security_incidents_90d":                {Green: 0, Amber: 1},
	"compliance_pass_rate":                  {Green: 100, Amber: 95},
	"cost_trend":                            {Green: 5, Amber: 15},
	"cost_per_active_customer":              {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"cost_per_million_requests":             {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"budget_variance":                       {Green: 0, Amber: 10},
	"csat":                                  {Green: 90, Amber: 80},
	"nps":                                   {Green: 40, Amber: 20},
	"logo_churn_rate":                       {Green: 1, Amber: 2},
	"sla_adherence":                         {Green: 95, Amber: 90},
	"open_escalations":                      {Green: 2, Amber: 5},
	"release_impact_score":                  {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"mrr":                                   {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"arr":                                   {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"nrr":                                   {Green: 110, Amber: 100},
	"grr":                                   {Green: 90, Amber: 85},
	"pipeline_coverage":                     {Green: 3, Amber: 2},
	"win_rate":                              {Green: 25, Amber: 15},
	"sales_cycle_length":                    {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"sales_velocity":                        {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"quota_attainment":                      {Green: 100, Amber: 85, RelativeTo: RelativeToElapsed},
	"cac":                                   {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"cac_payback_months":                    {Green: 12, Amber: 18},
	"mql_volume":                            {Green: 1, Amber: 0.8, RelativeTo: RelativeToTarget},
	"funnel_conversion":                     {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"coding_time":                           {Green: 24, Amber: 72},
	"pickup_time":                           {Green: 4, Amber: 24},
	"review_time":                           {Green: 12, Amber: 48},
	"deploy_time":                           {Green: 4, Amber: 24},
	"revenue_at_risk":                       {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"mrr_new":                               {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"mrr_reactivation":                      {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"mrr_expansion":                         {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
	"mrr_contraction":                       {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"mrr_churn":                             {Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget},
	"quick_ratio":                           {Green: 4, Amber: 1},
	"ltv":                                   {Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget},
}

// specLower lists SPEC §3's "better: lower" metrics; every other one is higher-better.
var specLower = []string{
	"lead_time_for_changes", "change_failure_rate", "failed_deployment_recovery_time",
	"rework_rate", "rollback_rate", "deployment_duration", "emergency_retro_overdue",
	"customer_weighted_change_failure_rate", "mttr_baseline", "incidents_p0_p1", "mttr", "time_to_detect", "incident_recurrence_rate", "error_rate",
	"open_critical_vulnerabilities", "open_high_vulnerabilities", "time_to_patch_critical",
	"vulnerability_sla_breaches", "security_incidents_90d", "infrastructure_cost", "cost_trend",
	"cost_per_active_customer", "cost_per_million_requests", "budget_variance",
	"logo_churn_rate", "open_escalations", "release_impact_score", "sales_cycle_length", "cac",
	"cac_payback_months", "coding_time", "pickup_time", "review_time", "deploy_time",
	"revenue_at_risk", "mrr_contraction", "mrr_churn",
}

func mustDefault(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

func TestDefaultHoldsTheSpecCatalog(t *testing.T) {
	c := mustDefault(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}

	wantPillars := []string{"reliability", "security", "delivery", "cost", "customer", "growth"}
	if got := c.pillarIDs(); !slices.Equal(got, wantPillars) {
		t.Errorf("pillars = %v, want %v", got, wantPillars)
	}
	total := 0
	for _, p := range wantPillars {
		// The file keeps the SPEC's order; pages show them by priority (PillarMetrics).
		var got []string
		for _, m := range c.Metrics {
			if m.Pillar == p {
				got = append(got, m.ID)
			}
		}
		if !slices.Equal(got, specMetrics[p]) {
			t.Errorf("pillar %s metrics = %v, want %v", p, got, specMetrics[p])
		}
		total += len(specMetrics[p])
	}
	if len(c.Metrics) != total || total != 64 {
		t.Errorf("catalog has %d metrics, SPEC §3 lists %d (want 64)", len(c.Metrics), total)
	}

	var headline, dora []string
	for _, m := range c.Metrics {
		if m.Headline {
			headline = append(headline, m.ID)
		}
		if m.DORA {
			dora = append(dora, m.ID)
		}
	}
	slices.Sort(headline)
	wantHeadline := []string{"arr", "availability", "budget_variance", "change_failure_rate", "csat", "incidents_p0_p1", "open_critical_vulnerabilities"}
	if !slices.Equal(headline, wantHeadline) || len(headline) > MaxHeadline {
		t.Errorf("headline = %v, want %v", headline, wantHeadline)
	}
	slices.Sort(dora)
	wantDORA := []string{"change_failure_rate", "deployment_frequency", "failed_deployment_recovery_time", "lead_time_for_changes"}
	if !slices.Equal(dora, wantDORA) {
		t.Errorf("dora = %v, want %v", dora, wantDORA)
	}
}

func TestDefaultDefinitions(t *testing.T) {
	c := mustDefault(t)
	for i := range c.Metrics {
		m := &c.Metrics[i]
		t.Run(m.ID, func(t *testing.T) {
			wantBetter := Higher
			if slices.Contains(specLower, m.ID) {
				wantBetter = Lower
			}
			if m.Better != wantBetter {
				t.Errorf("better = %q, want %q", m.Better, wantBetter)
			}
			if judge, ok := judgedBy[m.ID]; ok {
				if m.JudgedBy != judge || m.Thresholds != nil {
					t.Errorf("judged_by = %q, thresholds = %v; want judged by %s", m.JudgedBy, m.Thresholds, judge)
				}
			} else if want := specThresholds[m.ID]; m.Thresholds == nil || *m.Thresholds != want {
				t.Errorf("thresholds = %+v, want %+v", m.Thresholds, want)
			}
			wantWindow := 30 * day
			if m.ID == "security_incidents_90d" {
				wantWindow = 90 * day
			}
			if m.Window != wantWindow {
				t.Errorf("window = %v, want %v", m.Window, wantWindow)
			}
			// Definitions SPEC changed since the first release carry a
			// second version, effective the day it shipped.
			wantVersion, wantEffective := 1, "2026-01-01"
			if revised[m.ID] {
				wantVersion, wantEffective = 2, "2026-12-01"
			}
			if added[m.ID] {
				wantEffective = "2026-12-01"
			}
			if m.Owner == "" || m.Description == "" || m.Formula == "" || m.Version != wantVersion || m.Effective != wantEffective {
				t.Errorf("owner %q, description %q, formula %q, version %d, effective %q: want all set, version %d, effective %s",
					m.Owner, m.Description, m.Formula, m.Version, m.Effective, wantVersion, wantEffective)
			}
			for _, s := range m.Sources {
				want, _ := DefaultFreshness(s.Kind)
				switch s.Kind {
				case "quota":
					want = 95 * day // a quarter's quotas arrive once a quarter
				case "incident", "vulnerability":
					want = 7 * day // sparse by nature: a quiet day is not a broken feed
				}
				if s.Freshness != want {
					t.Errorf("source %s freshness = %v, want %v", s.Kind, s.Freshness, want)
				}
			}
		})
	}
}

func TestDefaultReturnsIndependentCopies(t *testing.T) {
	a := mustDefault(t)
	m, _ := a.Metric("availability")
	m.Owner = "changed"
	m.Thresholds.Green = 1
	m.Sources[0].Kind = "changed"
	a.Views[0].Metrics[0] = "changed"
	a.Views[1].Breakdowns["pipeline_coverage"] = "changed"

	b := mustDefault(t)
	m, _ = b.Metric("availability")
	if m.Owner == "changed" || m.Thresholds.Green == 1 || m.Sources[0].Kind == "changed" ||
		b.Views[0].Metrics[0] == "changed" || b.Views[1].Breakdowns["pipeline_coverage"] == "changed" {
		t.Fatal("modifying one Default() result changed the next one")
	}
}

func TestStatusRankAndWorst(t *testing.T) {
	ranks := map[Status]int{Green: 0, Amber: 1, Unknown: 1, Red: 2}
	for s, want := range ranks {
		if got := s.Rank(); got != want {
			t.Errorf("%s.Rank() = %d, want %d", s, got, want)
		}
	}
	tests := []struct{ a, b, want Status }{
		{Green, Green, Green},
		{Green, Amber, Amber},
		// SPEC §4: an unknown metric counts as amber for its group — never green, and not
		// a state of the group that hides the values it has.
		{Amber, Unknown, Amber},
		{Unknown, Amber, Amber},
		{Green, Unknown, Amber},
		{Unknown, Unknown, Amber},
		{Unknown, Red, Red},
		{Red, Unknown, Red},
		{Amber, Red, Red},
		{Green, Status("purple"), Amber},
	}
	for _, tt := range tests {
		if got := Worst(tt.a, tt.b); got != tt.want {
			t.Errorf("Worst(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
}

func ptr(f float64) *float64 { return &f }

func intPtr(n int) *WholeNumber { w := WholeNumber(n); return &w }

func TestJudge(t *testing.T) {
	c := mustDefault(t)
	metric := func(id string) *Metric {
		m, ok := c.Metric(id)
		if !ok {
			t.Fatalf("no metric %s", id)
		}
		return m
	}
	synthetic := func(better string, th Thresholds, target *float64) *Metric {
		return &Metric{ID: "m", Better: better, Thresholds: &th, Target: target}
	}
	higher := synthetic(Higher, Thresholds{Green: 10, Amber: 5}, nil)
	lower := synthetic(Lower, Thresholds{Green: 5, Amber: 15}, nil)
	targetHigher := synthetic(Higher, Thresholds{Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget}, ptr(100))
	targetLower := synthetic(Lower, Thresholds{Green: 1, Amber: 1.1, RelativeTo: RelativeToTarget}, ptr(10))
	noTarget := synthetic(Higher, Thresholds{Green: 1, Amber: 0.9, RelativeTo: RelativeToTarget}, nil)
	elapsed := metric("quota_attainment")
	// Variables, not constants: Go evaluates constant expressions exactly, and the point is the
	// float64 noise a computation produces ((1 − 0.999) × 100 = 0.10000000000000009).
	good, total := 999.0, 1000.0

	tests := []struct {
		name string
		m    *Metric
		in   JudgeInput
		want Status
	}{
		{"higher above green", higher, JudgeInput{Value: ptr(11)}, Green},
		{"higher exactly green", higher, JudgeInput{Value: ptr(10)}, Green},
		{"higher just below green", higher, JudgeInput{Value: ptr(9.999)}, Amber},
		{"higher exactly amber", higher, JudgeInput{Value: ptr(5)}, Amber},
		{"higher below amber", higher, JudgeInput{Value: ptr(4.999)}, Red},
		{"lower below green", lower, JudgeInput{Value: ptr(0)}, Green},
		{"lower exactly green", lower, JudgeInput{Value: ptr(5)}, Green},
		{"lower just above green", lower, JudgeInput{Value: ptr(5.001)}, Amber},
		{"lower exactly amber", lower, JudgeInput{Value: ptr(15)}, Amber},
		{"lower above amber", lower, JudgeInput{Value: ptr(15.001)}, Red},
		{"nil value", higher, JudgeInput{}, Unknown},
		{"NaN value", higher, JudgeInput{Value: ptr(math.NaN())}, Unknown},

		// Boundaries reached through floating-point arithmetic still count as on the boundary.
		{"error rate 0.1 computed", metric("error_rate"), JudgeInput{Value: ptr((1 - good/total) * 100)}, Green},
		{"availability 99.9 computed", metric("availability"), JudgeInput{Value: ptr(good / total * 100)}, Green},
		{"one deploy a week is amber", metric("deployment_frequency"), JudgeInput{Value: ptr(4.0 / 28)}, Amber},
		{"four deploys in 30 days is red", metric("deployment_frequency"), JudgeInput{Value: ptr(4.0 / 30)}, Red},
		{"one deploy a day is green", metric("deployment_frequency"), JudgeInput{Value: ptr(30.0 / 30)}, Green},

		{"any is red: none", metric("emergency_retro_overdue"), JudgeInput{Value: ptr(0)}, Green},
		{"any is red: one", metric("emergency_retro_overdue"), JudgeInput{Value: ptr(1)}, Red},
		{"P0/P1 at amber bound", metric("incidents_p0_p1"), JudgeInput{Value: ptr(2)}, Amber},
		{"P0/P1 over amber bound", metric("incidents_p0_p1"), JudgeInput{Value: ptr(3)}, Red},

		{"target higher at target", targetHigher, JudgeInput{Value: ptr(100)}, Green},
		{"target higher at 90%", targetHigher, JudgeInput{Value: ptr(90)}, Amber},
		{"target higher below 90%", targetHigher, JudgeInput{Value: ptr(89.9)}, Red},
		{"input target wins", targetHigher, JudgeInput{Value: ptr(100), Target: ptr(200)}, Red},
		{"target lower at target", targetLower, JudgeInput{Value: ptr(10)}, Green},
		{"target lower at 110%", targetLower, JudgeInput{Value: ptr(11)}, Amber},
		{"target lower above 110%", targetLower, JudgeInput{Value: ptr(11.01)}, Red},
		{"negative target: at it", targetHigher, JudgeInput{Value: ptr(-10), Target: ptr(-10)}, Green},
		{"negative target: 10% short", targetHigher, JudgeInput{Value: ptr(-11), Target: ptr(-10)}, Amber},
		{"negative target: 20% short", targetHigher, JudgeInput{Value: ptr(-12), Target: ptr(-10)}, Red},
		{"relative to target without one", noTarget, JudgeInput{Value: ptr(100)}, Unknown},
		{"relative to target, input target", noTarget, JudgeInput{Value: ptr(95), Target: ptr(100)}, Amber},
		{"mql volume at 80% of target", metric("mql_volume"), JudgeInput{Value: ptr(80), Target: ptr(100)}, Amber},
		{"mql volume at 79% of target", metric("mql_volume"), JudgeInput{Value: ptr(79), Target: ptr(100)}, Red},
		{"mrr without target", metric("mrr"), JudgeInput{Value: ptr(1e6)}, Unknown},

		{"elapsed: half way, on pace", elapsed, JudgeInput{Value: ptr(50), ElapsedShare: 0.5}, Green},
		{"elapsed: half way, at 85% of pace", elapsed, JudgeInput{Value: ptr(42.5), ElapsedShare: 0.5}, Amber},
		{"elapsed: half way, behind", elapsed, JudgeInput{Value: ptr(42), ElapsedShare: 0.5}, Red},
		{"elapsed: period over, short", elapsed, JudgeInput{Value: ptr(90), ElapsedShare: 1}, Amber},
		{"elapsed: share unset", elapsed, JudgeInput{Value: ptr(50)}, Unknown},
		{"elapsed: share above 1", elapsed, JudgeInput{Value: ptr(50), ElapsedShare: 1.5}, Unknown},

		{"judged by another metric", metric("infrastructure_cost"), JudgeInput{Value: ptr(1)}, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Judge(tt.in); got != tt.want {
				t.Errorf("Judge = %s, want %s", got, tt.want)
			}
		})
	}
}

// validYAML is a small catalog that passes every rule; each TestParseRules row breaks one.
const validYAML = `pillars:
  - {id: reliability, name: Reliability, signoff_by: engineering}
  - {id: cost, name: Cost, signoff_by: finance}
metrics:
  - id: uptime
    name: Uptime
    pillar: reliability
    description: Share of good requests.
    formula: good ÷ total × 100.
    unit: "%"
    better: higher
    type: lagging
    owner: Head of SRE
    window: 30d
    thresholds: {green: 99.9, amber: 99.5}
    sources: [sli]
    priority: P1
    signoff: assumed
    version: 1
    effective: "2026-01-01"
    headline: true
    breakdowns: [service]
  - id: spend
    name: Spend
    pillar: cost
    description: Money spent.
    formula: Σ amount.
    unit: currency
    better: lower
    type: lagging
    owner: CFO
    window: 30d
    judged_by: overrun
    sources: [cost]
    priority: P1
    signoff: assumed
    version: 1
    effective: "2026-01-01"
  - id: overrun
    name: Overrun
    pillar: cost
    description: Spend over budget.
    formula: (spend − budget) ÷ budget × 100.
    unit: "%"
    better: lower
    type: lagging
    owner: CFO
    window: 30d
    thresholds: {green: 0, amber: 10}
    sources: [cost, {kind: budget, freshness: 40d}]
    priority: P1
    signoff: assumed
    version: 1
    effective: "2026-01-01"
views:
  - id: sre
    name: SRE
    description: Reliability.
    metrics: [uptime, overrun]
    breakdowns: {uptime: service}
`

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(validYAML), "t.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	m, _ := c.Metric("overrun")
	want := []Source{{Kind: "cost", Freshness: 35 * day}, {Kind: "budget", Freshness: 40 * day}}
	if !reflect.DeepEqual(m.Sources, want) {
		t.Errorf("sources = %+v, want %+v", m.Sources, want)
	}
}

func TestMinSample(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(validYAML, "sources: [sli]", "sources: [sli]\n    min_sample: 12", 1)), "t.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m, _ := c.Metric("uptime"); m.MinSample != 12 {
		t.Errorf("uptime min_sample = %d, want 12 as written", m.MinSample)
	}
	if m, _ := c.Metric("overrun"); m.MinSample != DefaultMinSample {
		t.Errorf("overrun min_sample = %d, want the default %d", m.MinSample, DefaultMinSample)
	}
	m := &Metric{MinSample: 5}
	if got := m.TooFew(2); got != "too few cases (n = 2, needs 5)" {
		t.Errorf("TooFew(2) = %q", got)
	}
	if got := m.TooFew(5); got != "" {
		t.Errorf("TooFew(5) = %q, want enough", got)
	}
	if got := (&Metric{}).TooFew(0); got != "" {
		t.Errorf("no minimum: TooFew(0) = %q", got)
	}
}

// TestDefaultMinSample: counts rest on no sample (a count of 0 is an
// answer, not too few cases), and the SPEC's examples rest on the cases it
// names — as the metric's Count reports them (see the metrics package).
func TestDefaultMinSample(t *testing.T) {
	c := mustDefault(t)
	for _, m := range c.Metrics {
		if (m.Unit == "count" || m.Unit == "deploys/day") && m.MinSample != 0 {
			t.Errorf("%s is a count but needs %d cases", m.ID, m.MinSample)
		}
	}
	for _, id := range []string{"change_failure_rate", "lead_time_for_changes", "mttr", "csat", "win_rate", "cac", "cac_payback_months", "nrr", "funnel_conversion"} {
		if m, _ := c.Metric(id); m.MinSample != DefaultMinSample {
			t.Errorf("%s min_sample = %d, want %d", id, m.MinSample, DefaultMinSample)
		}
	}
}

func TestParseRules(t *testing.T) {
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				panic("test YAML lacks " + old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	// eightHeadline adds seven more headline metrics to uptime.
	eightHeadline := func(s string) string {
		var extra strings.Builder
		for _, id := range []string{"h2", "h3", "h4", "h5", "h6", "h7", "h8"} {
			block := validYAML[strings.Index(validYAML, "  - id: uptime"):strings.Index(validYAML, "  - id: spend")]
			block = strings.ReplaceAll(block, "id: uptime", "id: "+id)
			if id == "h8" {
				block = strings.ReplaceAll(block, "headline: true", "headline: true # eighth")
			}
			extra.WriteString(block)
		}
		return strings.Replace(s, "  - id: spend", extra.String()+"  - id: spend", 1)
	}

	tests := []struct {
		rule string
		edit func(string) string
		// want are substrings of the error; lineOf is text whose line the error must name
		// (its first occurrence in the edited YAML).
		want   []string
		lineOf string
	}{
		{"id snake_case", replace("id: uptime", "id: UpTime"), []string{`metric "UpTime": id: "UpTime" is not snake_case`}, "id: UpTime"},
		{"id unique", replace("  - id: spend\n", "  - id: uptime # dup\n"), []string{`metric "uptime": id: duplicate: metric #1`}, "# dup"},
		{"id required", replace("  - id: spend\n    name", "  - name"), []string{`metric #2: id: required`}, "name: Spend"},
		{"pillar exists", replace("pillar: cost\n    description: Money", "pillar: money\n    description: Money"), []string{`metric "spend": pillar: unknown pillar "money"`}, "pillar: money"},
		{"pillar id unique", replace("{id: cost, name: Cost,", "{id: reliability, name: Cost,"), []string{`pillar "reliability": id: duplicate`}, "name: Cost,"},
		{"owner required", replace("    owner: CFO\n    window: 30d\n    judged_by", "    window: 30d\n    judged_by"), []string{`metric "spend": owner: required`}, "- id: spend"},
		{"owner not blank", replace("owner: Head of SRE", `owner: "  "`), []string{`metric "uptime": owner: required`}, `owner: "  "`},
		{"name required", replace("name: Uptime", `name: ""`), []string{`metric "uptime": name: required`}, `name: ""`},
		{"better", replace("better: higher", "better: up"), []string{`metric "uptime": better: unknown direction "up"`}, "better: up"},
		{"type", replace("type: lagging", "type: trailing"), []string{`metric "uptime": type: unknown type "trailing"`}, "type: trailing"},
		{"unit", replace("unit: currency", "unit: dollars"), []string{`metric "spend": unit: unknown unit "dollars"`}, "unit: dollars"},
		{"window positive", replace("window: 30d", "window: 0d"), []string{`metric "uptime": window:`, "greater than zero"}, "window: 0d"},
		{"window parses", replace("window: 30d", "window: soon"), []string{`metric "uptime": window: invalid duration "soon"`}, "window: soon"},
		{"window required", replace("    window: 30d\n    thresholds: {green: 99.9", "    thresholds: {green: 99.9"), []string{`metric "uptime": window: required`}, "- id: uptime"},
		{"thresholds higher: green ≥ amber", replace("{green: 99.9, amber: 99.5}", "{green: 99.5, amber: 99.9}"), []string{`metric "uptime": thresholds: green 99.5 is below amber 99.9`}, "green: 99.5"},
		{"thresholds lower: green ≤ amber", replace("{green: 0, amber: 10}", "{green: 10, amber: 0}"), []string{`metric "overrun": thresholds: green 10 is above amber 0`}, "green: 10"},
		{"thresholds or judged_by required", replace("    thresholds: {green: 99.9, amber: 99.5}\n", ""), []string{`metric "uptime": thresholds: required`}, "- id: uptime"},
		{"not both thresholds and judged_by", replace("judged_by: overrun", "judged_by: overrun\n    thresholds: {green: 1, amber: 2}"), []string{`metric "spend": judged_by: set together with thresholds`}, "judged_by: overrun"},
		{"judged_by exists", replace("judged_by: overrun", "judged_by: budget"), []string{`metric "spend": judged_by: unknown metric "budget"`}, "judged_by: budget"},
		{"judged_by not self", replace("judged_by: overrun", "judged_by: spend"), []string{`metric "spend": judged_by: a metric cannot be judged by itself`}, "judged_by: spend"},
		{"judged_by no chain", replace("thresholds: {green: 99.9, amber: 99.5}", "judged_by: spend"), []string{`metric "uptime": judged_by: "spend" is itself judged by another metric`}, "judged_by: spend"},
		{"relative_to known", replace("{green: 99.9, amber: 99.5}", "{green: 99.9, amber: 99.5, relative_to: budget}"), []string{`metric "uptime": thresholds.relative_to: "budget"`}, "relative_to: budget"},
		{"relative factors positive", replace("{green: 99.9, amber: 99.5}", "{green: 1, amber: 0, relative_to: target}"), []string{`metric "uptime": thresholds: green and amber relative to target must be greater than zero`}, "relative_to: target"},
		{"elapsed needs higher", replace("{green: 0, amber: 10}", "{green: 1, amber: 2, relative_to: elapsed}"), []string{`metric "overrun": thresholds.relative_to: elapsed`, "better: higher"}, "relative_to: elapsed"},
		{"thresholds need amber", replace("{green: 99.9, amber: 99.5}", "{green: 99.9}"), []string{`metric "uptime": thresholds: amber is required`}, "{green: 99.9}"},
		{"threshold is a number", replace("amber: 99.5}", `amber: "1/0"}`), []string{`metric "uptime": thresholds.amber: 1/0: want a number or a fraction`}, `"1/0"`},
		{"target finite", replace("judged_by: overrun", "judged_by: overrun\n    target: .inf"), []string{`metric "spend": target: must be a finite number`}, "target: .inf"},
		{"span known", replace("sources: [sli]", "sources: [sli]\n    span: weekly"), []string{`metric "uptime": span: "weekly" (want one of "instant", "year", "quota_period", "before_window", "cohort", "90_days", or none for the window)`}, "span: weekly"},
		{"min_sample not negative", replace("sources: [sli]", "sources: [sli]\n    min_sample: -1"), []string{`metric "uptime": min_sample: must be 0 (no minimum) or more, got -1`}, "min_sample: -1"},
		{"min_sample whole", replace("sources: [sli]", "sources: [sli]\n    min_sample: 2.5"), []string{`metric "uptime": min_sample: 2.5: want a whole number`}, "min_sample: 2.5"},
		{"source kind known", replace("sources: [sli]", "sources: [slo]"), []string{`metric "uptime": sources[0].kind: unknown record kind "slo"`}, "sources: [slo]"},
		{"service is no source", replace("sources: [sli]", "sources: [sli, service]"), []string{`metric "uptime": sources[1].kind: service is reference data`}, "sources: [sli, service]"},
		{"source listed once", replace("sources: [sli]", "sources: [sli, sli]"), []string{`metric "uptime": sources[1].kind: "sli" is listed twice`}, "sources: [sli, sli]"},
		{"sources required", replace("sources: [sli]", "sources: []"), []string{`metric "uptime": sources: at least one record kind`}, "sources: []"},
		{"freshness positive", replace("freshness: 40d", "freshness: 0h"), []string{`metric "overrun": sources[1].freshness: invalid duration "0h": must be greater than zero`}, "freshness: 0h"},
		{"source fields known", replace("freshness: 40d", "fresh: 40d"), []string{`metric "overrun": sources[1].fresh: unknown field "fresh"`}, "fresh: 40d"},
		{"version ≥ 1", replace("    version: 1\n    effective: \"2026-01-01\"\n    headline", "    version: 0\n    effective: \"2026-01-01\"\n    headline"), []string{`metric "uptime": version: must be at least 1, got 0`}, "version: 0"},
		{"version is a number", replace("    version: 1\n    effective: \"2026-01-01\"\n    headline", "    version: one\n    effective: \"2026-01-01\"\n    headline"), []string{`metric "uptime": version: want a whole number`}, "version: one"},
		{"effective a date", replace(`effective: "2026-01-01"`, `effective: "2026-13-01"`), []string{`metric "uptime": effective: "2026-13-01" is not a valid date`}, "2026-13-01"},
		{"effective required", replace("    effective: \"2026-01-01\"\n    headline", "    headline"), []string{`metric "uptime": effective: required`}, "- id: uptime"},
		{"breakdowns known", replace("breakdowns: [service]", "breakdowns: [servce]"), []string{`metric "uptime": breakdowns[0]: unknown dimension "servce"`}, "[servce]"},
		{"at most 7 headline", eightHeadline, []string{`metric "h8": headline: at most 7 headline metrics`, "8th (after uptime, h2, h3, h4, h5, h6, h7)"}, "# eighth"},
		{"view metrics exist", replace("metrics: [uptime, overrun]", "metrics: [uptime, ghost]"), []string{`view "sre": metrics[1]: unknown metric "ghost"`}, "[uptime, ghost]"},
		{"view breakdown offered", replace("{uptime: service}", "{uptime: team}"), []string{`view "sre": breakdowns.uptime: metric "uptime" cannot be broken down by "team" (it offers: service)`}, "{uptime: team}"},
		{"view breakdown in view", replace("{uptime: service}", "{uptime: service, spend: service}"), []string{`view "sre": breakdowns.spend: metric "spend" is not among the view's metrics`}, "spend: service}"},
		{"view section known", replace("breakdowns: {uptime: service}", "breakdowns: {uptime: service}\n    sections: [pillars, forecast]"), []string{`view "sre": sections[1]: unknown section "forecast" (want one of "pillars", "pipeline_by_stage", "quota_pace", "flow_stages", "mrr_bridge")`}, "sections: [pillars, forecast]"},
		{"view section once", replace("breakdowns: {uptime: service}", "breakdowns: {uptime: service}\n    sections: [pillars, pillars]"), []string{`view "sre": sections[1]: "pillars" is listed twice`}, "sections: [pillars, pillars]"},
		{"view id snake_case", replace("id: sre", "id: SRE"), []string{`view "SRE": id: "SRE" is not snake_case`}, "id: SRE"},
		{"metric sensitivity known", replace("unit: currency", "unit: currency\n    sensitivity: secret"), []string{`metric "spend": sensitivity: unknown sensitivity "secret" (want "revenue" or nothing)`}, "sensitivity: secret"},
		{"pillar sensitivity known", replace("{id: cost, name: Cost,", "{id: cost, name: Cost, sensitivity: money,"), []string{`pillar "cost": sensitivity: unknown sensitivity "money" (want "revenue" or nothing)`}, "sensitivity: money"},
		{"priority required", replace("    priority: P1\n", ""), []string{`metric "uptime": priority: required`}, "- id: uptime"},
		{"priority known", replace("priority: P1", "priority: P3"), []string{`metric "uptime": priority: unknown priority "P3" (want P0, P1 or P2)`}, "priority: P3"},
		{"signoff required", replace("    signoff: assumed\n", ""), []string{`metric "uptime": signoff: required`}, "- id: uptime"},
		{"signoff known", replace("signoff: assumed", "signoff: signed"), []string{`metric "uptime": signoff: unknown sign-off state "signed" (want assumed or confirmed)`}, "signoff: signed"},
		{"signoff_by required", replace("{id: reliability, name: Reliability, signoff_by: engineering}", "{id: reliability, name: Reliability}"), []string{`metric "uptime": signoff_by: required`}, "- id: uptime"},
		{"unknown field", replace("owner: CFO\n    window: 30d\n    judged_by", "owner: CFO\n    colour: red\n    window: 30d\n    judged_by"), []string{`metric "spend": colour: unknown field "colour"`}, "colour: red"},
		{"keys once", replace("owner: CFO\n    window: 30d\n    judged_by", "owner: CFO\n    owner: CEO\n    window: 30d\n    judged_by"), []string{`metric "spend": owner: mapping key "owner" already defined`}, "owner: CEO"},
		{"tier thresholds keyed by tier", replace("{green: 99.9, amber: 99.5}", "{green: 99.9, amber: 99.5}\n    thresholds_by_tier: {4: {green: 99, amber: 98}}"),
			[]string{`metric "uptime": thresholds_by_tier.4: "4" is not a service tier (1, 2 or 3)`}, "thresholds_by_tier"},
		{"tier thresholds follow the direction", replace("{green: 99.9, amber: 99.5}", "{green: 99.9, amber: 99.5}\n    thresholds_by_tier: {1: {green: 99, amber: 99.5}}"),
			[]string{`metric "uptime": thresholds_by_tier.1: green 99 is below amber 99.5`}, "thresholds_by_tier"},
		{"service thresholds relative alike", replace("{green: 99.9, amber: 99.5}", "{green: 99.9, amber: 99.5}\n    thresholds_by_service: {pay: {green: 1, amber: 0.9, relative_to: target}}"),
			[]string{`metric "uptime": thresholds_by_service.pay.relative_to: "target" differs from the metric's thresholds ("")`}, "thresholds_by_service"},
		{"no tier thresholds when judged by another", replace("judged_by: overrun", "judged_by: overrun\n    thresholds_by_tier: {1: {green: 1, amber: 2}}"),
			[]string{`metric "spend": thresholds_by_tier.1: spend is judged by overrun`}, "thresholds_by_tier"},
		{"baseline exists", replace("{green: 0, amber: 10}", "{green: 0, amber: 10}\n    baseline: history"), []string{`metric "overrun": baseline: unknown metric "history"`}, "baseline: history"},
		{"baseline in the unit", replace("{green: 0, amber: 10}", "{green: 0, amber: 10}\n    baseline: spend"), []string{`metric "overrun": baseline: spend is in currency, overrun in %`}, "baseline: spend"},
		{"baseline-relative needs a baseline", replace("{green: 0, amber: 10}", "{green: 1, amber: 1.3, relative_to: baseline}"),
			[]string{`metric "overrun": baseline: required: thresholds relative to baseline`}, "- id: overrun"},
		{"yaml syntax", replace("{green: 99.9, amber: 99.5}", "{green: 99.9, amber: 99.5"), []string{"t.yaml:"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			src := tt.edit(validYAML)
			_, err := Parse([]byte(src), "t.yaml")
			if err == nil {
				t.Fatal("Parse accepted a catalog that breaks the rule")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
			if tt.lineOf != "" {
				line := strings.Count(src[:strings.Index(src, tt.lineOf)], "\n") + 1
				if want := "t.yaml:" + strconv.Itoa(line) + ": "; !strings.Contains(msg, want) {
					t.Errorf("error %q\ndoes not name line %d", msg, line)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error is not a *FieldError: %T", err)
			} else if fe.File != "t.yaml" || fe.Line == 0 {
				t.Errorf("error names file %q, line %d; want t.yaml and a line", fe.File, fe.Line)
			}
		})
	}
}

func TestValidateBuiltCatalog(t *testing.T) {
	// Catalogs built in Go (not parsed) get the same rules, without line numbers.
	tests := []struct {
		name string
		edit func(c *Catalog)
		want string
	}{
		{"owner", func(c *Catalog) { c.Metrics[0].Owner = "" }, `metric "availability": owner: required`},
		{"window", func(c *Catalog) { c.Metrics[0].Window = 0 }, `metric "availability": window: must be greater than zero`},
		{"thresholds", func(c *Catalog) { c.Metrics[0].Thresholds.Amber = 100 }, `metric "availability": thresholds: green 99.9 is below amber 100`},
		{"headline", func(c *Catalog) { c.Metrics[1].Headline = true }, `headline: at most 7 headline metrics`},
		{"view", func(c *Catalog) { c.Views[0].Metrics = append(c.Views[0].Metrics, "ghost") }, `view "ceo": metrics[10]: unknown metric "ghost"`},
		{"pillar", func(c *Catalog) { c.Metrics[0].Pillar = "ops" }, `metric "availability": pillar: unknown pillar "ops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustDefault(t)
			tt.edit(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	base := mustDefault(t)
	before := Docs(base)

	out, err := base.Apply(map[string]Override{
		"availability": {
			Owner: "Platform Lead", Window: "7d", Target: ptr(99.95),
			Thresholds: &Thresholds{Green: 99.95, Amber: 99.8},
		},
		"mrr":         {Thresholds: &Thresholds{Green: 1.05, Amber: 0.95}}, // keeps relative_to target
		"csat":        {Owner: "VP Customer Success", Window: "30d"},       // the built-in values: no change
		"arr":         {Target: ptr(12e6)},
		"mttr":        {Window: "2w"},
		"nps":         {},
		"error_rate":  {Thresholds: &Thresholds{Green: 0.1, Amber: 0.5}},
		"win_rate":    {MinSample: intPtr(20)},
		"rework_rate": {MinSample: intPtr(5)}, // the built-in value: no change
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}

	a, _ := out.Metric("availability")
	if a.Owner != "Platform Lead" || a.Window != 7*day || a.Target == nil || *a.Target != 99.95 ||
		*a.Thresholds != (Thresholds{Green: 99.95, Amber: 99.8}) {
		t.Errorf("availability after Apply = %+v", a)
	}
	if a.Version != 2 || len(a.Overridden) != 4 {
		t.Errorf("availability version %d, overridden %q; want version 2 and 4 notes", a.Version, a.Overridden)
	}
	if !slices.Contains(a.Overridden, "window: 30d → 7d") || !slices.Contains(a.Overridden, "owner: Head of SRE → Platform Lead") {
		t.Errorf("overridden notes %q lack the window or owner change", a.Overridden)
	}
	if got := a.Judge(JudgeInput{Value: ptr(99.9)}); got != Amber {
		t.Errorf("availability 99.9 under the override = %s, want amber", got)
	}
	if m, _ := out.Metric("mrr"); m.Thresholds.RelativeTo != RelativeToTarget || m.Version != 2 {
		t.Errorf("mrr thresholds %+v version %d; want relative to target, version 2", m.Thresholds, m.Version)
	}
	if m, _ := out.Metric("mttr"); m.Window != 14*day || m.Version != 2 {
		t.Errorf("mttr window %v version %d; want 14 days, version 2", m.Window, m.Version)
	}
	if m, _ := out.Metric("win_rate"); m.MinSample != 20 || m.Version != 2 || !slices.Contains(m.Overridden, "min_sample: 5 → 20") {
		t.Errorf("win_rate min_sample %d version %d notes %q; want 20, version 2", m.MinSample, m.Version, m.Overridden)
	}
	for _, id := range []string{"csat", "nps", "error_rate", "incidents_p0_p1", "rework_rate"} {
		if m, _ := out.Metric(id); m.Version != 1 || len(m.Overridden) != 0 {
			t.Errorf("%s changed nothing but has version %d, notes %q", id, m.Version, m.Overridden)
		}
	}

	if after := Docs(base); after != before {
		t.Error("Apply modified the catalog it was called on")
	}
	if twice, err := out.Apply(map[string]Override{"availability": {Owner: "SRE Guild"}}); err != nil {
		t.Fatalf("second Apply: %v", err)
	} else if m, _ := twice.Metric("availability"); m.Version != 3 || len(m.Overridden) != 5 {
		t.Errorf("after a second override: version %d, notes %q; want 3 and 5", m.Version, m.Overridden)
	}
}

// SPEC §3: thresholds per tier and per service, set in configuration. A scope of a service takes
// its own, else its tier's, else the organisation's; a team or the organisation takes the
// organisation's. judged_by: baseline turns mttr's bounds into factors of its own history.
func TestApplyScopedThresholdsAndBaseline(t *testing.T) {
	out, err := mustDefault(t).Apply(map[string]Override{
		"change_failure_rate": {
			ThresholdsByTier:    map[string]Thresholds{"1": {Green: 2, Amber: 5}, "3": {Green: 20, Amber: 30}},
			ThresholdsByService: map[string]Thresholds{"payments": {Green: 1, Amber: 2}},
		},
		"mttr": {JudgedBy: "baseline"},
		"time_to_detect": {
			ThresholdsByTier: map[string]Thresholds{"2": {Green: 10, Amber: 20}},
		},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	cfr, _ := out.Metric("change_failure_rate")
	for _, tt := range []struct {
		service string
		tier    int
		want    Thresholds
		from    string
	}{
		{"payments", 1, Thresholds{Green: 1, Amber: 2}, "service payments"},
		{"checkout", 1, Thresholds{Green: 2, Amber: 5}, "tier 1"},
		{"", 1, Thresholds{Green: 2, Amber: 5}, "tier 1"},
		{"batch", 3, Thresholds{Green: 20, Amber: 30}, "tier 3"},
		{"web", 2, Thresholds{Green: 5, Amber: 15}, FromOrganisation},
		{"untiered", 0, Thresholds{Green: 5, Amber: 15}, FromOrganisation},
		{"", 0, Thresholds{Green: 5, Amber: 15}, FromOrganisation},
	} {
		got, from := cfr.ThresholdsFor(tt.service, tt.tier)
		if *got != tt.want || from != tt.from {
			t.Errorf("ThresholdsFor(%q, %d) = %+v from %q, want %+v from %q", tt.service, tt.tier, *got, from, tt.want, tt.from)
		}
	}
	// 12 % is red by the organisation's bar and green by tier 3's.
	if st := cfr.Judge(JudgeInput{Value: ptr(12)}); st != Amber {
		t.Errorf("12 %% by the organisation's = %s, want amber", st)
	}
	t3, _ := cfr.ThresholdsFor("batch", 3)
	if st := cfr.Judge(JudgeInput{Value: ptr(12), Thresholds: t3}); st != Green {
		t.Errorf("12 %% by tier 3's = %s, want green", st)
	}
	if cfr.Version != 2 || !slices.Contains(cfr.Overridden, "thresholds, tier 1: none → green ≤ 2, amber ≤ 5, red above") ||
		!slices.Contains(cfr.Overridden, "thresholds, service payments: none → green ≤ 1, amber ≤ 2, red above") {
		t.Errorf("change_failure_rate version %d notes %q", cfr.Version, cfr.Overridden)
	}

	mttr, _ := out.Metric("mttr")
	if *mttr.Thresholds != BaselineFactors || mttr.Version != 2 {
		t.Fatalf("mttr judged by baseline: thresholds %+v version %d", *mttr.Thresholds, mttr.Version)
	}
	for _, tt := range []struct {
		value, baseline float64
		want            Status
	}{{2, 2, Green}, {2.6, 2, Amber}, {2.61, 2, Red}, {1, 4, Green}} {
		if st := mttr.Judge(JudgeInput{Value: ptr(tt.value), Baseline: ptr(tt.baseline)}); st != tt.want {
			t.Errorf("mttr %v against baseline %v = %s, want %s", tt.value, tt.baseline, st, tt.want)
		}
	}
	if st := mttr.Judge(JudgeInput{Value: ptr(2)}); st != Unknown {
		t.Errorf("mttr without a baseline = %s, want unknown", st)
	}
	// The organisation may give its own factors of the baseline, per tier too.
	own, err := mustDefault(t).Apply(map[string]Override{"mttr": {JudgedBy: "baseline", Thresholds: &Thresholds{Green: 1.1, Amber: 1.5},
		ThresholdsByTier: map[string]Thresholds{"1": {Green: 1, Amber: 1.1}}}})
	if err != nil {
		t.Fatalf("Apply with factors: %v", err)
	}
	m, _ := own.Metric("mttr")
	if *m.Thresholds != (Thresholds{Green: 1.1, Amber: 1.5, RelativeTo: RelativeToBaseline}) ||
		m.ThresholdsByTier[1] != (Thresholds{Green: 1, Amber: 1.1, RelativeTo: RelativeToBaseline}) {
		t.Errorf("mttr with own factors = %+v, tier 1 %+v", *m.Thresholds, m.ThresholdsByTier[1])
	}
	if d := Docs(own); !strings.Contains(d, "| Thresholds, tier 1 | green ≤ baseline, amber ≤ 1.1 × baseline, red above |") {
		t.Errorf("the guide does not state mttr's tier-1 bar:\n%s", d[strings.Index(d, "Time to restore (median)"):][:1500])
	}
}

func TestApplyRefuses(t *testing.T) {
	tests := []struct {
		name string
		o    map[string]Override
		want string
	}{
		{"unknown metric", map[string]Override{"uptime": {Owner: "x"}}, `override "uptime": no metric with this id`},
		{"mistyped metric", map[string]Override{"chnage_failure_rate": {Owner: "x"}}, `override "chnage_failure_rate": no metric with this id in the catalog (did you mean change_failure_rate?)`},
		{"higher: green below amber", map[string]Override{"availability": {Thresholds: &Thresholds{Green: 99, Amber: 99.5}}},
			`override "availability": thresholds: green 99 is below amber 99.5; when higher is better green must be ≥ amber`},
		{"lower: green above amber", map[string]Override{"change_failure_rate": {Thresholds: &Thresholds{Green: 20, Amber: 10}}},
			`override "change_failure_rate": thresholds: green 20 is above amber 10; when lower is better green must be ≤ amber`},
		{"bad window", map[string]Override{"mttr": {Window: "3x"}}, `override "mttr": window: invalid duration "3x"`},
		{"zero window", map[string]Override{"mttr": {Window: "0d"}}, `override "mttr": window: invalid duration "0d": must be greater than zero`},
		{"target not finite", map[string]Override{"arr": {Target: ptr(math.Inf(1))}}, `override "arr": target: must be a finite number`},
		{"min_sample negative", map[string]Override{"csat": {MinSample: intPtr(-3)}}, `override "csat": min_sample: must be 0 (no minimum) or more, got -3`},
		{"judged by another", map[string]Override{"infrastructure_cost": {Thresholds: &Thresholds{Green: 1, Amber: 2}}},
			`override "infrastructure_cost": thresholds: infrastructure_cost is judged by budget_variance`},
		{"relative_to is definition", map[string]Override{"mrr": {Thresholds: &Thresholds{Green: 1, Amber: 0.9, RelativeTo: RelativeToElapsed}}},
			`override "mrr": thresholds.relative_to: "elapsed" differs from the definition's "target"`},
		{"tier is 1 to 3", map[string]Override{"mttr": {ThresholdsByTier: map[string]Thresholds{"gold": {Green: 1, Amber: 2}}}},
			`override "mttr": thresholds_by_tier.gold: "gold" is not a service tier (1, 2 or 3)`},
		{"tier bar follows the direction", map[string]Override{"mttr": {ThresholdsByTier: map[string]Thresholds{"2": {Green: 3, Amber: 2}}}},
			`override "mttr": thresholds_by_tier.2: green 3 is above amber 2`},
		{"service bar relative alike", map[string]Override{"mttr": {ThresholdsByService: map[string]Thresholds{"pay": {Green: 1, Amber: 1.3, RelativeTo: RelativeToBaseline}}}},
			`override "mttr": thresholds_by_service.pay.relative_to: "baseline" differs from the definition's ""`},
		{"service bar of a metric judged by another", map[string]Override{"infrastructure_cost": {ThresholdsByService: map[string]Thresholds{"pay": {Green: 1, Amber: 2}}}},
			`override "infrastructure_cost": thresholds_by_service.pay: infrastructure_cost is judged by budget_variance`},
		{"judged_by only baseline", map[string]Override{"mttr": {JudgedBy: "csat"}},
			`override "mttr": judged_by: "csat": an organisation may only judge a metric by its baseline`},
		{"judged_by baseline needs one", map[string]Override{"csat": {JudgedBy: "baseline"}},
			`override "csat": judged_by: csat has no baseline to be judged by`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustDefault(t)
			before := Docs(c)
			out, err := c.Apply(tt.o)
			if err == nil || out != nil {
				t.Fatalf("Apply = %v, %v; want a refusal", out, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if Docs(c) != before {
				t.Error("a refused Apply modified the catalog")
			}
		})
	}
}

func TestOverrideFromConfigYAML(t *testing.T) {
	decode := func(src string) (map[string]Override, error) {
		var o map[string]Override
		err := yaml.UnmarshalWithOptions([]byte(src), &o, yaml.DisallowUnknownField())
		return o, err
	}
	o, err := decode("availability:\n  owner: Platform Lead\n  window: 7d\n  target: 99.95\n  thresholds: {green: 99.95, amber: 99.8}\n  min_sample: 10\n")
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	want := Override{Owner: "Platform Lead", Window: "7d", Target: ptr(99.95), Thresholds: &Thresholds{Green: 99.95, Amber: 99.8}, MinSample: intPtr(10)}
	if !reflect.DeepEqual(o["availability"], want) {
		t.Errorf("decoded %+v, want %+v", o["availability"], want)
	}
	// A lone green would leave amber at 0 and make every value at least amber.
	if _, err := decode("availability:\n  thresholds: {green: 99.95}\n"); err == nil || !strings.Contains(err.Error(), "amber is required") {
		t.Errorf("decode without amber = %v, want an error naming amber", err)
	}
	if _, err := decode("csat:\n  min_sample: 2.5\n"); err == nil || !strings.Contains(err.Error(), "want a whole number") {
		t.Errorf("decode min_sample 2.5 = %v, want an error asking for a whole number", err)
	}
	if _, err := decode("availability:\n  thresholds: {green: 99.95, amber: 99, red: 90}\n"); err == nil || !strings.Contains(err.Error(), `unknown field "red"`) {
		t.Errorf("decode with red = %v, want an unknown-field error", err)
	}
}

func TestParseWindow(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * day}, {"1d", day}, {"2w", 14 * day}, {"12h", 12 * time.Hour},
		{"90m", 90 * time.Minute}, {"1h30m", 90 * time.Minute}, {" 7d ", 7 * day}, {"45s", 45 * time.Second},
	}
	for _, tt := range good {
		if got, err := ParseWindow(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "empty duration"},
		{"0d", "greater than zero"},
		{"0", "greater than zero"},
		{"-5h", "greater than zero"},
		{"-1d", "greater than zero"},
		{"soon", `invalid duration "soon"`},
		{"1.5d", `invalid duration "1.5d"`},
		{"d", `invalid duration "d"`},
		{"99999999999d", "whole number of days"},
	}
	for _, tt := range bad {
		if _, err := ParseWindow(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseWindow(%q) error = %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestFormatWindow(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{720 * time.Hour, "30d"}, {168 * time.Hour, "7d"}, {90 * 24 * time.Hour, "90d"},
		{36 * time.Hour, "36h"}, {90 * time.Minute, "90m"}, {90 * time.Second, "1m30s"},
	}
	for _, tt := range tests {
		got := FormatWindow(tt.in)
		if got != tt.want {
			t.Errorf("FormatWindow(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := ParseWindow(got); err != nil || back != tt.in {
			t.Errorf("ParseWindow(FormatWindow(%v)) = %v, %v; want a round trip", tt.in, back, err)
		}
	}
	for _, s := range []string{"30d", "2w", "48h", "90m", "1h30m"} {
		d, _ := ParseWindow(s)
		if back, _ := ParseWindow(FormatWindow(d)); back != d {
			t.Errorf("%q → %v → %q → %v: not a round trip", s, d, FormatWindow(d), back)
		}
	}
}

func TestDocs(t *testing.T) {
	c := mustDefault(t)
	doc := Docs(c)
	for _, m := range c.Metrics {
		for _, s := range []string{"`" + m.ID + "`", "### " + m.Name + " ", m.Owner} {
			if !strings.Contains(doc, s) {
				t.Errorf("Docs lacks %q for metric %s", s, m.ID)
			}
		}
	}
	for _, s := range []string{
		"green ≤ 5 %, amber ≤ 15 %, red above",                                // change failure rate
		"green at 0, any is red (no amber band)",                              // emergency retro-validation
		"green ≥ 1 deploys/day, amber ≥ 1/7 deploys/day",                      // exact fraction
		"green ≥ target, amber ≥ 80 % of target",                              // mql volume
		"green ≥ 100 % × elapsed share of the period, amber ≥ 85 % × elapsed", // quota attainment
		"judged by [Budget variance](#budget_variance)",                       // infrastructure cost
		"`quota` (a state: never stale by its own times)",
		"`incident` (stale after 7d)",
		"| CRO (`cro`) |",
		"| Priority | P0 |",
		"| Sign-off | assumed: finance has not confirmed this definition yet |",
	} {
		if !strings.Contains(doc, s) {
			t.Errorf("Docs lacks %q", s)
		}
	}
}

// TestDocsUpToDate keeps docs/metrics.md equal to Docs(Default()), so the committed guide cannot
// drift from the catalog. CANDOR_UPDATE_DOCS=1 rewrites it.
func TestDocsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "metrics.md")
	want := Docs(mustDefault(t))
	if os.Getenv("CANDOR_UPDATE_DOCS") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: CANDOR_UPDATE_DOCS=1 go test ./internal/catalog/ -run TestDocsUpToDate)", err)
	}
	if string(got) != want {
		t.Fatal("docs/metrics.md is out of date with catalog.yaml; regenerate it: CANDOR_UPDATE_DOCS=1 go test ./internal/catalog/ -run TestDocsUpToDate")
	}
}

// revenueMetrics are metrics that reveal revenue wherever they live (SPEC §9): each must be
// marked revenue-sensitive when the catalog has it, so a metric added later under one of these
// ids cannot slip out unmarked.
var revenueMetrics = []string{
	"mrr", "arr", "nrr", "grr", "revenue_at_risk", "ltv", "cac", "cac_payback_months", "mrr_bridge",
	"pipeline_coverage", "sales_velocity", "quota_attainment",
}

func TestRevenueSensitivity(t *testing.T) {
	c := mustDefault(t)
	for _, m := range c.PillarMetrics("growth") {
		if !m.RevenueSensitive() {
			t.Errorf("%s is in the Growth pillar but not revenue-sensitive", m.ID)
		}
	}
	for _, id := range revenueMetrics {
		if m, ok := c.Metric(id); ok && !m.RevenueSensitive() {
			t.Errorf("%s reveals revenue but is not marked sensitivity: revenue", id)
		}
	}
	for _, id := range []string{"availability", "change_failure_rate", "csat", "infrastructure_cost"} {
		if m, _ := c.Metric(id); m.RevenueSensitive() {
			t.Errorf("%s is marked revenue-sensitive", id)
		}
	}

	// A pillar's sensitivity is its metrics': a metric added to it later is covered without
	// saying so; a metric elsewhere can be marked on its own.
	src := strings.Replace(validYAML, "{id: cost, name: Cost,", "{id: cost, name: Cost, sensitivity: revenue,", 1)
	src = strings.Replace(src, "    headline: true\n", "    headline: true\n    sensitivity: revenue\n", 1)
	pc, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"uptime", "spend", "overrun"} {
		if m, _ := pc.Metric(id); !m.RevenueSensitive() || m.Sensitivity != SensitivityRevenue {
			t.Errorf("%s: sensitivity %q, want revenue", id, m.Sensitivity)
		}
	}
	plain, _ := Parse([]byte(validYAML), "t.yaml")
	if m, _ := plain.Metric("spend"); m.RevenueSensitive() {
		t.Error("spend is sensitive without being marked")
	}
	// Overrides and copies keep it.
	over, err := pc.Apply(map[string]Override{"spend": {Owner: "CEO"}})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := over.Metric("spend"); !m.RevenueSensitive() {
		t.Error("Apply lost the sensitivity")
	}
}

// revised lists the built-in definitions whose meaning changed after the
// first release (SPEC §3 revisions: the funnel's mature cohort, cost per
// 30 days over the reported part of the window, negative recovery spans
// dropped), so they are a new version.
var revised = map[string]bool{
	"funnel_conversion": true, "cost_per_active_customer": true, "cost_per_million_requests": true,
	"cost_trend": true, "budget_variance": true, "failed_deployment_recovery_time": true,
}

// added lists the definitions SPEC §3 gained after the first release: a
// first version, effective the day it shipped.
var added = map[string]bool{
	"customer_weighted_change_failure_rate": true, "business_hours_availability": true,
	"latency_compliance": true, "mttr_baseline": true,
}

// judgedBy lists the metrics that show another metric's status instead of
// thresholds of their own: SPEC §3's "judged by budget_variance", and a
// baseline that has no bar of its own ("—") showing the status of the
// metric it is the yardstick of.
var judgedBy = map[string]string{"infrastructure_cost": "budget_variance", "mttr_baseline": "mttr"}

// TestSignoffAndPriority: every definition says who signs it off and whether they have (seed 003:
// assumed until the owning function confirms it), and how much it matters (P0–P2); the owning
// function is the pillar's unless the metric names its own.
func TestSignoffAndPriority(t *testing.T) {
	src := strings.Replace(validYAML, "    signoff: assumed\n    version: 1\n    effective: \"2026-01-01\"\nviews", "    signoff: confirmed\n    signoff_by: controller\n    version: 1\n    effective: \"2026-01-01\"\nviews", 1)
	c, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][2]string{"uptime": {SignoffAssumed, "engineering"}, "spend": {SignoffAssumed, "finance"}, "overrun": {SignoffConfirmed, "controller"}} {
		if m, _ := c.Metric(id); m.Signoff != want[0] || m.SignoffBy != want[1] || m.Priority != "P1" {
			t.Errorf("%s: signoff %q by %q, priority %q; want %q by %q, P1", id, m.Signoff, m.SignoffBy, m.Priority, want[0], want[1])
		}
	}

	d := mustDefault(t)
	for _, m := range d.Metrics {
		if !slices.Contains(Priorities, m.Priority) || (m.Signoff != SignoffAssumed && m.Signoff != SignoffConfirmed) || m.SignoffBy == "" {
			t.Errorf("%s: priority %q, signoff %q by %q", m.ID, m.Priority, m.Signoff, m.SignoffBy)
		}
		if m.Headline && m.Priority != "P0" {
			t.Errorf("headline metric %s is %s; the one-page scorecard's metrics are P0", m.ID, m.Priority)
		}
	}
	for id, by := range map[string]string{"arr": "finance", "mrr": "finance", "change_failure_rate": "engineering", "infrastructure_cost": "finance", "open_critical_vulnerabilities": "security"} {
		if m, _ := d.Metric(id); m.SignoffBy != by {
			t.Errorf("%s is signed off by %q, want %q", id, m.SignoffBy, by)
		}
	}

	// Overrides sign a definition off or change its priority, as a new version.
	out, err := d.Apply(map[string]Override{"arr": {Signoff: SignoffConfirmed, Priority: "P1"}, "csat": {Signoff: SignoffAssumed}})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := out.Metric("arr"); m.Signoff != SignoffConfirmed || m.Priority != "P1" || m.Version != 2 ||
		!slices.Contains(m.Overridden, "signoff: assumed → confirmed") || !slices.Contains(m.Overridden, "priority: P0 → P1") {
		t.Errorf("arr after override: %s %s version %d notes %q", m.Signoff, m.Priority, m.Version, m.Overridden)
	}
	if m, _ := out.Metric("csat"); m.Version != 1 {
		t.Errorf("csat override repeating the built-in sign-off bumped the version to %d", m.Version)
	}
	for _, o := range []Override{{Signoff: "signed"}, {Priority: "P9"}} {
		if _, err := d.Apply(map[string]Override{"arr": o}); err == nil || !strings.Contains(err.Error(), `override "arr"`) {
			t.Errorf("Apply(%+v) = %v, want a refusal naming the override", o, err)
		}
	}
}

// TestPillarMetricsByPriority: within a pillar, metrics come by priority, in file order within
// one priority; the headline selection does not depend on it.
func TestPillarMetricsByPriority(t *testing.T) {
	src := strings.Replace(validYAML, "    priority: P1\n    signoff: assumed\n    version: 1\n    effective: \"2026-01-01\"\n  - id: overrun",
		"    priority: P2\n    signoff: assumed\n    version: 1\n    effective: \"2026-01-01\"\n  - id: overrun", 1)
	src = strings.Replace(src, "sources: [cost, {kind: budget, freshness: 40d}]\n    priority: P1", "sources: [cost, {kind: budget, freshness: 40d}]\n    priority: P0", 1)
	c, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.PillarMetrics("cost") {
		got = append(got, m.ID)
	}
	if want := []string{"overrun", "spend"}; !slices.Equal(got, want) {
		t.Errorf("cost metrics %v, want %v (P0 before P2)", got, want)
	}
	if c.Metrics[1].ID != "spend" {
		t.Errorf("Parse reordered the catalog's own list: %s second", c.Metrics[1].ID)
	}

	d := mustDefault(t)
	for _, p := range d.Pillars {
		ms := d.PillarMetrics(p.ID)
		for i := 1; i < len(ms); i++ {
			a, b := ms[i-1], ms[i]
			if PriorityRank(a.Priority) > PriorityRank(b.Priority) {
				t.Errorf("pillar %s: %s (%s) before %s (%s)", p.ID, a.ID, a.Priority, b.ID, b.Priority)
			}
			at := func(id string) int { return slices.IndexFunc(d.Metrics, func(m Metric) bool { return m.ID == id }) }
			if a.Priority == b.Priority && at(a.ID) > at(b.ID) {
				t.Errorf("pillar %s: %s and %s are both %s but out of file order", p.ID, a.ID, b.ID, a.Priority)
			}
		}
	}
	if n := len(d.Headline()); n != MaxHeadline {
		t.Errorf("%d headline metrics, want %d", n, MaxHeadline)
	}
}

// A metric may read measurements (SPEC §1); they are judged stale after a
// month's silence unless the metric sets its own limit.
func TestMeasurementIsASource(t *testing.T) {
	if d, ok := DefaultFreshness("measurement"); !ok || d != MonthlyFreshness {
		t.Fatalf("DefaultFreshness(measurement) = %v, %v; want %v, true", d, ok, MonthlyFreshness)
	}
}

// A definition that names no effective date (an organisation's own metric
// without `effective`) reads as in effect for all data, not as a date in 1970.
func TestEffectiveLabel(t *testing.T) {
	for _, c := range []struct{ effective, want string }{
		{"2026-01-01", "effective 2026-01-01"},
		{FromTheStart, "in effect for all data"},
	} {
		if got := (&Metric{Effective: c.effective}).EffectiveLabel(); got != c.want {
			t.Errorf("EffectiveLabel(%q) = %q, want %q", c.effective, got, c.want)
		}
	}
}

// Every built-in metric says what it tells in plain words (its page's
// first line): no formula's symbols, no W or as_of, no section of a
// document the reader cannot open.
func TestBuiltinSummariesArePlain(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	words := regexp.MustCompile(`\bW\b|as_of|[Σ÷×≥≤§]|\bm[01]\b|` + "`")
	for _, m := range c.Metrics {
		switch {
		case m.Summary == "":
			t.Errorf("%s has no summary", m.ID)
		case words.MatchString(m.Summary):
			t.Errorf("%s's summary reads as a formula (%q): %s", m.ID, words.FindString(m.Summary), m.Summary)
		case !strings.HasSuffix(m.Summary, "."):
			t.Errorf("%s's summary is not a sentence: %s", m.ID, m.Summary)
		}
	}
}

// A metric's window is an hour at least. "1m" is Go's minute, and a
// manager who writes window=1m for a month had been answered over one
// minute — deployment frequency 0/day, red, under "window 1m" — rather
// than told what 1m means.
func TestParseMetricWindowRefusesMinutes(t *testing.T) {
	for _, s := range []string{"1m", "59m", "30m", "45s"} {
		_, err := ParseMetricWindow(s)
		if err == nil || !strings.Contains(err.Error(), "at least 1h") {
			t.Errorf("ParseMetricWindow(%q) = %v, want a refusal saying a window is at least 1h", s, err)
		}
	}
	if _, err := ParseMetricWindow("1m"); err == nil || !strings.Contains(err.Error(), "1m is 1 minute") || !strings.Contains(err.Error(), "30d") {
		t.Errorf("ParseMetricWindow(1m) = %v, want it to say 1m is a minute and how to write a month", err)
	}
	for s, want := range map[string]time.Duration{"1h": time.Hour, "90m": 90 * time.Minute, "30d": 30 * day} {
		if d, err := ParseMetricWindow(s); err != nil || d != want {
			t.Errorf("ParseMetricWindow(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
}

// A metric reads the kinds its sources name, and no other.
func TestMetricReads(t *testing.T) {
	m := &Metric{Sources: []Source{{Kind: "ticket"}, {Kind: "deployment"}}}
	for kind, want := range map[string]bool{"ticket": true, "deployment": true, "subscription": false, "": false} {
		if got := m.Reads(kind); got != want {
			t.Errorf("Reads(%q) = %v, want %v", kind, got, want)
		}
	}
}
