package metrics

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
)

// The context dimensions of SPEC §3: business_unit (from the service),
// origin (incidents), segment (tickets). Expected values are worked out by
// hand; as_of = 2026-03-31T00:00Z, W = [03-01, 03-31).

// dimData: pay (commerce, tier 1), shop (commerce, tier 2), batch (no
// business unit, no tier). Incidents of every origin and one without;
// tickets of two segments and one without.
const dimData = `
{"kind":"service","id":"pay","name":"Pay","team":"payments","tier":1,"business_unit":"commerce"}
{"kind":"service","id":"shop","name":"Shop","team":"storefront","tier":2,"business_unit":"commerce"}
{"kind":"service","id":"batch","name":"Batch","team":"data"}
{"kind":"deployment","id":"p1","service":"pay","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"p2","service":"pay","environment":"production","finished_at":"2026-03-03T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s1","service":"shop","environment":"production","finished_at":"2026-03-04T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s2","service":"shop","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"deployment","id":"b1","service":"batch","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure"}
{"kind":"incident","id":"i1","service":"pay","severity":"P1","opened_at":"2026-03-10T00:00:00Z","resolved_at":"2026-03-10T02:00:00Z","origin":"customer"}
{"kind":"incident","id":"i2","service":"pay","severity":"P2","opened_at":"2026-03-11T00:00:00Z","resolved_at":"2026-03-11T04:00:00Z","origin":"monitoring"}
{"kind":"incident","id":"i3","service":"shop","severity":"P0","opened_at":"2026-03-12T00:00:00Z","resolved_at":"2026-03-12T06:00:00Z","origin":"customer"}
{"kind":"incident","id":"i4","service":"batch","severity":"P1","opened_at":"2026-03-13T00:00:00Z","resolved_at":"2026-03-13T01:00:00Z"}
{"kind":"ticket","id":"t1","created_at":"2026-03-02T00:00:00Z","resolved_at":"2026-03-03T00:00:00Z","sla_due_at":"2026-03-04T00:00:00Z","priority":"high","segment":"enterprise","escalated":true,"customer":"acme"}
{"kind":"ticket","id":"t2","created_at":"2026-03-02T00:00:00Z","resolved_at":"2026-03-05T00:00:00Z","sla_due_at":"2026-03-04T00:00:00Z","priority":"high","segment":"enterprise","customer":"acme"}
{"kind":"ticket","id":"t3","created_at":"2026-03-02T00:00:00Z","resolved_at":"2026-03-03T00:00:00Z","sla_due_at":"2026-03-04T00:00:00Z","priority":"low","segment":"smb","customer":"globex"}
{"kind":"ticket","id":"t4","created_at":"2026-03-20T00:00:00Z","priority":"low","escalated":true}
{"kind":"ticket","id":"t5","created_at":"2026-04-10T00:00:00Z","priority":"low","escalated":true,"customer":"initech"}`

func TestContextDimensions(t *testing.T) {
	bu := func(v string) Scope { return Scope{Dim: "business_unit", Value: v} }
	origin := func(v string) Scope { return Scope{Dim: "origin", Value: v} }
	segment := func(v string) Scope { return Scope{Dim: "segment", Value: v} }
	runCases(t, []mcase{
		// commerce: p1 (failed), p2, s1, s2 → 1 of 4 failed.
		{name: "change failure rate of a business unit", metric: "change_failure_rate", data: dimData, scope: bu("commerce"),
			want: val(25), count: 4, ids: []string{"p1", "p2", "s1", "s2"}},
		// A service without a business unit is the line "(none)": b1 only.
		{name: "change failure rate without a business unit", metric: "change_failure_rate", data: dimData, scope: bu("(none)"),
			want: val(100), count: 1, ids: []string{"b1"}},
		// A service without a tier is "(none)" too.
		{name: "deployments of services without a tier", metric: "deployment_success_rate", data: dimData, scope: Scope{Dim: "tier", Value: "(none)"},
			want: val(0), count: 1, ids: []string{"b1"}},
		// commerce incidents: i1 (2 h), i2 (4 h), i3 (6 h) → median 4 h.
		{name: "mttr of a business unit", metric: "mttr", data: dimData, scope: bu("commerce"),
			want: val(4), count: 3, ids: []string{"i1", "i2", "i3"}},
		// Customer-reported: i1 (2 h), i3 (6 h) → median 4 h; P0/P1 among them: i1, i3.
		{name: "mttr of customer-reported incidents", metric: "mttr", data: dimData, scope: origin("customer"),
			want: val(4), count: 2, ids: []string{"i1", "i3"}},
		{name: "P0/P1 reported by customers", metric: "incidents_p0_p1", data: dimData, scope: origin("customer"),
			want: val(2), count: 2, ids: []string{"i1", "i3"}},
		// An incident without an origin is "(none)": i4, 1 h.
		{name: "mttr of incidents without an origin", metric: "mttr", data: dimData, scope: origin("(none)"),
			want: val(1), count: 1, ids: []string{"i4"}},
		// Enterprise: t1 met (resolved 03-03 ≤ due 03-04), t2 breached → 50 %.
		{name: "SLA adherence of a segment", metric: "sla_adherence", data: dimData, scope: segment("enterprise"),
			want: val(50), count: 2, ids: []string{"t1", "t2"}},
		// By customer, which accounts the SLA is missed for: acme's t1 met, t2 breached → 50 %.
		{name: "SLA adherence of a customer", metric: "sla_adherence", data: dimData, scope: Scope{Dim: "customer", Value: "acme"},
			want: val(50), count: 2, ids: []string{"t1", "t2"}},
		{name: "open escalations of no customer", metric: "open_escalations", data: dimData, scope: Scope{Dim: "customer", Value: "(none)"},
			want: val(1), count: 1, ids: []string{"t4"}},
		// initech's first ticket is after as_of: no ticket data for it yet, no value rather than 0.
		{name: "open escalations of a customer with no ticket yet", metric: "open_escalations", data: dimData, scope: Scope{Dim: "customer", Value: "initech"},
			want: nil, count: 0},
		// Open escalations without a segment: t4 (t1 resolved).
		{name: "open escalations without a segment", metric: "open_escalations", data: dimData, scope: segment("(none)"),
			want: val(1), count: 1, ids: []string{"t4"}},
	})
}

func TestContextBreakdowns(t *testing.T) {
	d := load(t, nil, dimData)
	q := mcase{}.query(t)
	for _, c := range []struct {
		metric, dim string
		want        map[string]float64 // line → value
	}{
		{"change_failure_rate", "business_unit", map[string]float64{"commerce": 25, "(none)": 100}},
		{"mttr", "origin", map[string]float64{"customer": 4, "monitoring": 4, "(none)": 1}},
		{"mttr", "business_unit", map[string]float64{"commerce": 4, "(none)": 1}},
		{"sla_adherence", "segment", map[string]float64{"enterprise": 50, "smb": 100}},
		{"sla_adherence", "customer", map[string]float64{"acme": 50, "globex": 100}},
		{"open_escalations", "customer", map[string]float64{"acme": 0, "globex": 0, "(none)": 1}},
		{"incidents_p0_p1", "origin", map[string]float64{"customer": 2, "monitoring": 0, "(none)": 1}},
	} {
		groups, err := d.Breakdown(c.metric, q, c.dim)
		if err != nil {
			t.Fatalf("%s by %s: %v", c.metric, c.dim, err)
		}
		got := map[string]float64{}
		for _, g := range groups {
			if g.Value != nil {
				got[g.Key] = *g.Value
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s by %s: lines %v, want %v", c.metric, c.dim, got, c.want)
		}
		for k, w := range c.want {
			if !approx(got[k], w) {
				t.Errorf("%s by %s: %s = %v, want %v", c.metric, c.dim, k, got[k], w)
			}
		}
	}
	// Origins within a business unit: commerce has customer and monitoring.
	qs := q
	qs.Scope = Scope{Dim: "business_unit", Value: "commerce"}
	groups, err := d.Breakdown("incidents_p0_p1", qs, "origin")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range groups {
		keys = append(keys, g.Key)
	}
	if !slices.Equal(keys, []string{"customer", "monitoring"}) {
		t.Errorf("origins under business_unit:commerce: %v, want [customer monitoring]", keys)
	}
}

func TestContextDimensionValuesChecked(t *testing.T) {
	d := load(t, nil, dimData)
	for _, c := range []struct {
		dim, known string
	}{
		{"business_unit", "(none), commerce"},
		{"origin", "(none), customer, monitoring"},
		{"segment", "(none), enterprise, smb"},
	} {
		err := d.CheckScope(Scope{Dim: c.dim, Value: "nonesuch"})
		var ue *UnknownValueError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "known: "+c.known) {
			t.Errorf("%s:nonesuch: %v, want an UnknownValueError listing %s", c.dim, err, c.known)
		}
		if err := d.CheckScope(Scope{Dim: c.dim, Value: "(none)"}); err != nil {
			t.Errorf("%s:(none): %v", c.dim, err)
		}
	}
}

// A scope on a dimension no metric has is said to be no dimension, naming
// those there are, not to be a value the data lacks ("no colour "red":
// the data has no colour values").
func TestUnknownDimensionNamed(t *testing.T) {
	d := load(t, nil, dimData)
	err := d.CheckScope(Scope{Dim: "colour", Value: "red"})
	var ud *UnknownDimensionError
	if !errors.As(err, &ud) || !strings.HasPrefix(err.Error(), `"colour" is not a dimension (dimensions: team, service, environment, business_unit, tier, `) ||
		!strings.Contains(err.Error(), "origin") || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("colour:red: %v, want an UnknownDimensionError naming the dimensions", err)
	}
	if err := d.CheckScope(Scope{Dim: "teem", Value: "x"}); err == nil || !strings.Contains(err.Error(), `"teem" is not a dimension (did you mean team? dimensions: `) {
		t.Errorf("teem:x: %v", err)
	}
	// Checked before any value, whatever the order of the filters.
	s, _ := Scope{Dim: "team", Value: "nonesuch"}.And("colour", "red")
	if err := d.CheckScope(s); !errors.As(err, &ud) {
		t.Errorf("team:nonesuch,colour:red: %v, want an UnknownDimensionError", err)
	}
}

// A breakdown by a dimension of the records' own lists the values of the
// kinds the metric reads: a segment only a measurement names is no line
// of SLA adherence's, a category only a budget names none of
// infrastructure cost's (each had been a line of "no ticket data", "no
// cost data"); budget variance, which reads both, keeps both.
func TestBreakdownLinesAreTheMetricsKinds(t *testing.T) {
	ticket := bizTicket("t1", "2026-03-02", "2026-03-03", "2026-03-04", "high")
	ticket.Segment = "enterprise"
	d := bizDS(nil, ticket,
		&domain.Measurement{Meta: bizMeta("m1"), Metric: "adoption", At: bizT("2026-03-05"), Value: 0.4, Segment: "startup"},
		&domain.Cost{Meta: bizMeta("c1"), PeriodStart: bizT("2026-03-01"), PeriodEnd: bizT("2026-03-02"), Amount: bizM("10"), Currency: "USD", Category: "compute"},
		&domain.Budget{Meta: bizMeta("b1"), PeriodStart: bizT("2026-03-01"), PeriodEnd: bizT("2026-04-01"), Amount: bizM("100"), Currency: "USD", Category: "network"},
	)
	for _, c := range []struct {
		metric, dim string
		want        []string
	}{
		{"sla_adherence", "segment", []string{"enterprise"}},
		{"infrastructure_cost", "category", []string{"compute"}},
		{"budget_variance", "category", []string{"compute", "network"}},
	} {
		if keys := lineKeys(t, d, c.metric, bizQ(bizAsOf), c.dim); !slices.Equal(keys, c.want) {
			t.Errorf("%s by %s: lines %v, want %v", c.metric, c.dim, keys, c.want)
		}
	}
	// The scope check still knows every kind's values.
	if err := d.CheckScope(Scope{Dim: "segment", Value: "startup"}); err != nil {
		t.Errorf("segment:startup: %v", err)
	}
}

// lineKeys are the lines of a metric's breakdown, in order.
func lineKeys(t *testing.T, d *Dataset, metric string, q Query, dim string) []string {
	t.Helper()
	groups, err := d.Breakdown(metric, q, dim)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(groups))
	for _, g := range groups {
		keys = append(keys, g.Key)
	}
	return keys
}
