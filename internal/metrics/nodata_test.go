package metrics

import (
	"slices"
	"strings"
	"testing"
)

// oneOfEach holds a record of every kind a metric reads, all in March 2026
// (after nothing before 2026-03-01), plus a few that make scope values
// exist without data of every kind: service web has a deployment and
// nothing else, category storage only a budget, plan basic only a
// subscription starting after 2026-03-31.
const oneOfEach = `
{"kind":"service","id":"api","name":"API","team":"core","tier":1}
{"kind":"service","id":"web","name":"Web","team":"edge","tier":2}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"incident","id":"i1","service":"api","severity":"P3","opened_at":"2026-03-11T00:00:00Z","resolved_at":"2026-03-11T02:00:00Z"}
{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-10T00:00:00Z","period_end":"2026-03-10T01:00:00Z","good":999,"total":1000}
{"kind":"ticket","id":"t1","created_at":"2026-03-10T00:00:00Z","priority":"high"}
{"kind":"survey","id":"v1","at":"2026-03-10T00:00:00Z","type":"csat","score":5}
{"kind":"survey","id":"v2","at":"2026-03-10T00:00:00Z","type":"nps","score":9}
{"kind":"vulnerability","id":"x1","severity":"low","opened_at":"2026-03-10T00:00:00Z","service":"api"}
{"kind":"control","id":"k1","control":"AC-1","checked_at":"2026-03-10T00:00:00Z","passed":true,"framework":"SOX"}
{"kind":"cost","id":"co1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":100,"service":"api","category":"compute"}
{"kind":"usage","id":"u1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","requests":1000000,"active_customers":10}
{"kind":"budget","id":"b1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":100,"category":"compute"}
{"kind":"budget","id":"b2","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":50,"category":"storage"}
{"kind":"subscription","id":"sub1","customer":"acme","started_at":"2026-03-05T00:00:00Z","mrr":100,"plan":"pro"}
{"kind":"subscription","id":"sub2","customer":"beta","started_at":"2026-04-20T00:00:00Z","mrr":50,"plan":"basic"}
{"kind":"opportunity","id":"o1","created_at":"2026-03-05T00:00:00Z","amount":1000,"stage":"prospecting","owner":"ann"}
{"kind":"lead","id":"l1","created_at":"2026-03-05T00:00:00Z","channel":"web","campaign":"spring"}
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"spend","id":"sp1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","category":"marketing","amount":500}
`

// Every computed metric (the list comes from the registry, so a new one
// cannot skip the rule): asked as of a time before any of its data exists,
// it has no value — not a 0 count, a 0 sum or a −100 % variance — and says
// which kind is missing, with no figure beside it.
func TestNoValueBeforeAnyData(t *testing.T) {
	d := load(t, nil, oneOfEach)
	q := Query{AsOf: ts(t, "2026-02-01T00:00:00Z"), Window: 30 * day}
	for _, id := range IDs() {
		r, err := d.Compute(id, q)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if r.Value != nil {
			t.Errorf("%s = %v before any data, want no value", id, *r.Value)
		}
		reason := r.Detail.Reason
		if !strings.HasPrefix(reason, "no "+string(Requires(id)[0])+" data at or before 2026-02-01T00:00:00Z") {
			t.Errorf("%s: reason %q does not name the missing %s data", id, reason, Requires(id)[0])
		}
		// Nor a count beside it: "Last 30 days: 0 security incidents"
		// beside "never sent" had read as none happened.
		if dt := r.Detail; dt.LastThirtyDays != nil || dt.BySeverity != nil || dt.Failing != nil || dt.Frameworks != nil || dt.DORALevel != "" {
			t.Errorf("%s: no value, yet beside it last_30d %v, by_severity %v, failing %v, frameworks %v, DORA level %q",
				id, dt.LastThirtyDays, dt.BySeverity, dt.Failing, dt.Frameworks, dt.DORALevel)
		}
	}
}

// With data of the kind, a count or a sum over a window where nothing
// qualifies is 0 (SPEC §3 conventions), not "no value".
func TestZeroWhenDataButNothingQualifies(t *testing.T) {
	d := load(t, nil, oneOfEach)
	q := Query{AsOf: ts(t, "2026-04-15T00:00:00Z"), Window: 7 * day}
	for _, id := range []string{
		"infrastructure_cost", "incidents_p0_p1", "deployment_frequency", "open_critical_vulnerabilities",
		"mql_volume", "open_escalations", "security_incidents_90d", "emergency_retro_overdue",
		"vulnerability_sla_breaches",
	} {
		r := bizCompute(t, d, id, q)
		if r.Value == nil || *r.Value != 0 {
			t.Errorf("%s = %s, want 0 (detail %v)", id, fmtVal(r.Value), r.Detail)
		}
	}
}

// In a scope, the data must exist in that scope: a service that never had
// an incident has no incident count, a category with only a budget has no
// cost (and no budget variance of −100 %), a plan whose first subscription
// starts later has no MRR.
func TestNoValueWithoutDataInScope(t *testing.T) {
	d := load(t, nil, oneOfEach)
	at := ts(t, defaultAsOf)
	q := func(dim, v string) Query { return Query{AsOf: at, Window: 30 * day, Scope: Scope{Dim: dim, Value: v}} }
	cases := []struct {
		metric string
		q      Query
		want   *float64
		reason string
	}{
		{"incidents_p0_p1", q("service", "web"), nil, "no incident data for service web"},
		{"incidents_p0_p1", q("team", "edge"), nil, "no incident data for team edge"},
		{"incidents_p0_p1", q("tier", "2"), nil, "no incident data for tier 2"},
		{"incidents_p0_p1", q("service", "api"), val(0), ""},
		{"incidents_p0_p1", q("team", "core"), val(0), ""},
		{"open_critical_vulnerabilities", q("service", "web"), nil, "no vulnerability data for service web"},
		{"deployment_frequency", q("service", "web"), val(1.0 / 30), ""},
		{"infrastructure_cost", q("category", "storage"), nil, "no cost data for category storage"},
		{"budget_variance", q("category", "storage"), nil, "no cost data for category storage"},
		{"budget_variance", q("category", "compute"), val(0), ""},
		{"infrastructure_cost", q("service", "web"), nil, "no cost data for service web"},
		{"mrr", q("plan", "basic"), nil, "no subscription data for plan basic"},
		{"mrr", q("plan", "pro"), val(100), ""},
		{"mql_volume", q("channel", "web"), val(0), ""},
		{"open_escalations", q("priority", "high"), val(0), ""},
		{"open_escalations", q("priority", "low"), nil, "no ticket data for priority low"},
		{"win_rate", q("owner", "bob"), nil, "no opportunity data for owner bob"},
	}
	for _, c := range cases {
		r := bizCompute(t, d, c.metric, c.q)
		name := c.metric + " " + c.q.Scope.Dim + "=" + c.q.Scope.Value
		bizCheck(t, name, r, c.want)
		if reason := r.Detail.Reason; c.reason != "" && !strings.HasPrefix(reason, c.reason) {
			t.Errorf("%s: reason %q, want it to start %q", name, reason, c.reason)
		}
	}
}

// A re-imported record whose defining time or scope attribute moved no
// longer makes its old place "have data", and the cached result that
// relied on it is recomputed.
func TestPresenceFollowsReplacedRecords(t *testing.T) {
	d := load(t, nil, `
{"kind":"cost","id":"co1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":100,"service":"api","category":"compute"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}
`)
	april := Query{AsOf: ts(t, "2026-04-15T00:00:00Z"), Window: 30 * day}
	apiQ := april
	apiQ.Scope = Scope{Dim: "service", Value: "api"}
	// W = [03-16, 04-15): 16 of March's 31 days, in whole micro-units.
	bizCheck(t, "cost before", bizCompute(t, d, "infrastructure_cost", april), val(51.612903))
	bizCheck(t, "api cost before", bizCompute(t, d, "infrastructure_cost", apiQ), val(51.612903))

	// The same record, now a bill of web's for May.
	apply(t, d, `{"kind":"cost","id":"co1","period_start":"2026-05-01T00:00:00Z","period_end":"2026-06-01T00:00:00Z","amount":100,"service":"web","category":"compute"}`)
	bizCheck(t, "cost after", bizCompute(t, d, "infrastructure_cost", april), nil)
	bizCheck(t, "api cost after", bizCompute(t, d, "infrastructure_cost", apiQ), nil)
	june := april
	june.AsOf = ts(t, "2026-05-15T00:00:00Z")
	june.Scope = Scope{Dim: "service", Value: "web"}
	bizCheck(t, "web cost in May", bizCompute(t, d, "infrastructure_cost", june), val(45.16129)) // 14 of May's 31 days
}

// Every computed metric declares the kinds it requires, and reads them
// (Register), so the result cache notices when the first such record
// arrives.
func TestEveryMetricRequires(t *testing.T) {
	for _, id := range IDs() {
		req := Requires(id)
		if len(req) == 0 {
			t.Errorf("%s: no required kinds declared (Def.Requires)", id)
			continue
		}
		for _, k := range req {
			if !slices.Contains(Reads(id), k) {
				t.Errorf("%s requires %s but does not declare reading it", id, k)
			}
		}
	}
}
