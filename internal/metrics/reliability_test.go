package metrics

import (
	"math"
	"testing"
)

// Expected values below are worked out by hand from SPEC §3, never by
// running the code. as_of = 2026-03-31T00:00Z, W = [03-01, 03-31).

// slis: periods straddling W's start or as_of and latency SLIs are left
// out; a period ending exactly at as_of is inside.
const slis = `
{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-08T00:00:00Z","good":999,"total":1000}
{"kind":"sli","id":"s2","service":"web","period_start":"2026-03-08T00:00:00Z","period_end":"2026-03-15T00:00:00Z","good":1990,"total":2000}
{"kind":"sli","id":"s3","service":"api","period_start":"2026-02-28T00:00:00Z","period_end":"2026-03-02T00:00:00Z","good":0,"total":1000}
{"kind":"sli","id":"s4","service":"web","period_start":"2026-03-30T00:00:00Z","period_end":"2026-04-01T00:00:00Z","good":0,"total":1000}
{"kind":"sli","id":"s5","service":"api","period_start":"2026-03-10T00:00:00Z","period_end":"2026-03-11T00:00:00Z","good":0,"total":1000,"objective":"latency"}
{"kind":"sli","id":"s6","service":"api","period_start":"2026-03-30T00:00:00Z","period_end":"2026-03-31T00:00:00Z","good":100,"total":100}`

func TestAvailabilityAndErrorRate(t *testing.T) {
	runCases(t, []mcase{
		{name: "availability: empty window", metric: "availability", want: nil, count: 0, ids: []string{}},
		{name: "error_rate: empty window", metric: "error_rate", want: nil, count: 0},
		{
			name: "availability: pooled over services, whole periods in W", metric: "availability", data: slis,
			// s1, s2, s6 (s3 starts before W, s4 ends after as_of, s5 is
			// latency). Σgood/Σtotal = (999+1990+100)/(1000+2000+100) =
			// 3089/3100 = 99.6451612903…%. (Not the mean of per-service
			// availabilities, which would be (1099/1100 + 0.995)/2.)
			want: val(100 * 3089.0 / 3100), count: 3, ids: []string{"s1", "s2", "s6"},
		},
		{
			name: "error_rate: 1 − availability", metric: "error_rate", data: slis,
			// 11/3100 = 0.3548387…%.
			want: val(100 * 11.0 / 3100), count: 3, ids: []string{"s1", "s2", "s6"},
		},
		{
			name: "availability: scoped to a service", metric: "availability", data: slis,
			scope: Scope{Dim: "service", Value: "api"},
			// s1 + s6: 1099/1100.
			want: val(100 * 1099.0 / 1100), count: 2, ids: []string{"s1", "s6"},
		},
	})
}

const sloServicesData = `
{"kind":"service","id":"api","name":"API","slo_target":0.999}
{"kind":"service","id":"web","name":"Web","slo_target":0.99}
{"kind":"service","id":"db","name":"DB","slo_target":0.9}
{"kind":"service","id":"batch","name":"Batch"}
{"kind":"sli","id":"db-old","service":"db","period_start":"2026-02-20T00:00:00Z","period_end":"2026-02-27T00:00:00Z","good":0,"total":10}
{"kind":"sli","id":"batch-1","service":"batch","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":5,"total":10}
{"kind":"sli","id":"ghost-1","service":"ghost","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":5,"total":10}`

func TestSLOComplianceAndErrorBudget(t *testing.T) {
	miss := sloServicesData + `
{"kind":"sli","id":"api-1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":9995,"total":10000}
{"kind":"sli","id":"web-1","service":"web","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":985,"total":1000}`
	runCases(t, []mcase{
		{
			name: "slo_compliance: no service with a target has data", metric: "slo_compliance", data: sloServicesData,
			// db's only SLI is before W; batch and ghost have no target.
			want: nil, count: 0, ids: []string{},
		},
		{
			name: "error_budget_remaining: no service with a target has data", metric: "error_budget_remaining", data: sloServicesData,
			want: nil, count: 0, ids: []string{},
		},
		{
			name: "slo_compliance: one met, one missed", metric: "slo_compliance", data: miss,
			// api 9995/10000 = 0.9995 ≥ 0.999 met; web 0.985 < 0.99 missed.
			// db (no data in W), batch (no target) and ghost (no service
			// record, so no target) are left out. 1/2 = 50 %. The records
			// behind it are the two counted services' SLIs.
			want: val(50), count: 2, ids: []string{"api-1", "web-1"},
			detail: &Detail{Services: &PerService{Met: map[string]bool{"api": true, "web": false}}},
		},
		{
			name: "error_budget_remaining: floored at 0, organisation = minimum", metric: "error_budget_remaining", data: miss,
			// api: 1 − (1−0.9995)/(1−0.999) = 1 − 0.5 = 50 %; web: 1 −
			// 0.015/0.01 = −50 % → floored 0. min = 0.
			want: val(0), count: 2, ids: []string{"api-1", "web-1"},
		},
		{
			name: "error_budget_remaining: minimum of 50 and 80", metric: "error_budget_remaining",
			data: sloServicesData + `
{"kind":"sli","id":"api-1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":9995,"total":10000}
{"kind":"sli","id":"web-1","service":"web","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":998,"total":1000}`,
			// api 50 %; web 1 − 0.002/0.01 = 80 %. min = 50.
			want: val(50), count: 2,
		},
		{
			name: "slo_compliance: availability exactly at target is met", metric: "slo_compliance",
			data: sloServicesData + `
{"kind":"sli","id":"api-1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":999,"total":1000}`,
			// 0.999 ≥ 0.999 → 1/1.
			want: val(100), count: 1,
		},
		{
			name: "error_budget_remaining: exactly at target leaves 0", metric: "error_budget_remaining",
			data: sloServicesData + `
{"kind":"sli","id":"api-1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":999,"total":1000}`,
			// 1 − 0.001/0.001 = 0.
			want: val(0), count: 1,
		},
	})
}

func TestErrorBudgetPerService(t *testing.T) {
	d := load(t, nil, sloServicesData+`
{"kind":"sli","id":"api-1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":9995,"total":10000}
{"kind":"sli","id":"web-1","service":"web","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-09T00:00:00Z","good":985,"total":1000}`)
	r, err := d.Compute("error_budget_remaining", mcase{}.query(t))
	if err != nil {
		t.Fatal(err)
	}
	per := r.Detail.Services.Budget
	// api 50 %, web floored at 0 (see above).
	if len(per) != 2 || math.Abs(per["api"]-50) > 1e-9 || per["web"] != 0 {
		t.Errorf("per-service budgets = %v, want api 50, web 0", per)
	}
}

func TestIncidentsP0P1(t *testing.T) {
	runCases(t, []mcase{
		// Nothing sent (SPEC §4): no value; incidents sent, none in W: 0.
		{name: "no incident data", metric: "incidents_p0_p1", want: nil, count: 0, ids: []string{}},
		{
			name: "empty window", metric: "incidents_p0_p1", want: val(0), count: 0, ids: []string{},
			data: `{"kind":"incident","id":"old","service":"api","severity":"P1","opened_at":"2025-06-01T00:00:00Z"}`,
		},
		{
			name: "P0 and P1 opened in W", metric: "incidents_p0_p1",
			data: `
{"kind":"incident","id":"i1","service":"api","severity":"P0","opened_at":"2026-03-10T00:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P1","opened_at":"2026-03-11T00:00:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P2","opened_at":"2026-03-12T00:00:00Z"}
{"kind":"incident","id":"i4","service":"api","severity":"P1","opened_at":"2026-02-28T23:59:59Z"}
{"kind":"incident","id":"i5","service":"api","severity":"P0","opened_at":"2026-03-01T00:00:00Z"}
{"kind":"incident","id":"i6","service":"api","severity":"P1","opened_at":"2026-03-31T00:00:00Z"}
{"kind":"incident","id":"i7","service":"web","severity":"P1","opened_at":"2026-03-15T00:00:00Z","resolved_at":"2026-03-15T01:00:00Z"}`,
			// i1, i2, i5 (at W's start), i7 (resolution irrelevant). Not i3
			// (P2), i4 (before W), i6 (at as_of). 4.
			want: val(4), count: 4, ids: []string{"i1", "i2", "i5", "i7"},
		},
	})
}

func TestMTTR(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "mttr", want: nil, count: 0, ids: []string{}},
		{
			name: "incidents resolved in W, all severities", metric: "mttr",
			data: `
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T00:00:00Z","resolved_at":"2026-03-10T02:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-02-27T00:00:00Z","resolved_at":"2026-03-02T00:00:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P1","opened_at":"2026-03-29T00:00:00Z","resolved_at":"2026-04-01T00:00:00Z"}
{"kind":"incident","id":"i4","service":"api","severity":"P1","opened_at":"2026-03-20T00:00:00Z"}
{"kind":"incident","id":"i5","service":"api","severity":"P4","opened_at":"2026-03-20T00:00:00Z","resolved_at":"2026-03-20T00:30:00Z"}
{"kind":"incident","id":"i6","service":"api","severity":"P3","opened_at":"2026-02-28T20:00:00Z","resolved_at":"2026-03-01T00:00:00Z"}
{"kind":"incident","id":"i7","service":"api","severity":"P3","opened_at":"2026-03-30T00:00:00Z","resolved_at":"2026-03-31T00:00:00Z"}`,
			// i1 2 h; i2 72 h (opened before W, resolved in it); i5 0.5 h;
			// i6 4 h (resolved exactly at W's start). Not i3 (resolved after
			// as_of), i4 (open), i7 (resolved at as_of). Median of
			// (0.5, 2, 4, 72) = (2+4)/2 = 3 h.
			want: val(3), count: 4, ids: []string{"i1", "i2", "i5", "i6"},
		},
	})
}

func TestTimeToDetect(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "time_to_detect", want: nil, count: 0},
		{
			name: "minutes, only incidents opened in W with detected_at", metric: "time_to_detect",
			data: `
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T00:00:00Z","detected_at":"2026-03-10T00:05:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-11T00:00:00Z","detected_at":"2026-03-11T00:45:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P2","opened_at":"2026-03-12T00:00:00Z"}
{"kind":"incident","id":"i4","service":"api","severity":"P2","opened_at":"2026-02-28T23:00:00Z","detected_at":"2026-03-01T00:10:00Z"}
{"kind":"incident","id":"i5","service":"api","severity":"P3","opened_at":"2026-03-13T00:00:00Z","detected_at":"2026-03-13T00:00:00Z"}
{"kind":"incident","id":"i6","service":"api","severity":"P3","opened_at":"2026-03-30T23:00:00Z","detected_at":"2026-03-31T00:30:00Z"}`,
			// i1 5, i2 45, i5 0 (zero spans count). i3 has no detected_at,
			// i4 opened before W, i6 is detected after as_of (not yet
			// detected as of as_of). Median of (0, 5, 45) = 5 min.
			want: val(5), count: 3, ids: []string{"i1", "i2", "i5"},
		},
	})
}

func TestIncidentRecurrenceRate(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "incident_recurrence_rate", want: nil, count: 0},
		{
			name: "same fingerprint, same service, 30 days before", metric: "incident_recurrence_rate",
			data: `
{"kind":"incident","id":"p1","service":"api","severity":"P2","opened_at":"2026-02-20T00:00:00Z","fingerprint":"disk"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T00:00:00Z","fingerprint":"disk"}
{"kind":"incident","id":"i5","service":"api","severity":"P2","opened_at":"2026-03-12T00:00:00Z","fingerprint":"disk"}
{"kind":"incident","id":"w1","service":"web","severity":"P2","opened_at":"2026-03-05T00:00:00Z","fingerprint":"mem"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-10T00:00:00Z","fingerprint":"mem"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-14T00:00:00Z"}
{"kind":"incident","id":"i4","service":"api","severity":"P3","opened_at":"2026-03-15T00:00:00Z"}
{"kind":"incident","id":"q0","service":"q","severity":"P3","opened_at":"2026-02-18T00:00:00Z","fingerprint":"net"}
{"kind":"incident","id":"q1","service":"q","severity":"P3","opened_at":"2026-03-20T00:00:00Z","fingerprint":"net"}
{"kind":"incident","id":"r0","service":"r","severity":"P3","opened_at":"2026-02-18T00:00:00Z","fingerprint":"cpu"}
{"kind":"incident","id":"r1","service":"r","severity":"P3","opened_at":"2026-03-20T00:00:01Z","fingerprint":"cpu"}`,
			// Opened in W (all in the denominator): i1, i5, w1, i2, i3, i4,
			// q1, r1 = 8. Recurring: i1 (p1, 18 days before), i5 (i1, 2 days
			// before), q1 (q0 exactly 30 days before: 02-18 → 03-20 is
			// 10 + 20 days; "in the 30 days before" includes it). Not: w1
			// (first), i2 ("mem" was seen only on web), i3/i4 (no
			// fingerprint never recurs), r1 (r0 is 30 days + 1 s before).
			// 3/8 = 37.5 %.
			want: val(37.5), count: 8, ids: []string{"i1", "i5", "w1", "i2", "i3", "i4", "q1", "r1"},
		},
	})
}

func TestPostmortemCompliance(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "postmortem_compliance", want: nil, count: 0},
		{
			name: "customer-facing resolved incidents due in W", metric: "postmortem_compliance",
			data: `
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-09T00:00:00Z","resolved_at":"2026-03-10T00:00:00Z","customer_facing":true,"postmortem_done_at":"2026-03-14T00:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P1","opened_at":"2026-03-19T00:00:00Z","resolved_at":"2026-03-20T00:00:00Z","customer_facing":true,"postmortem_done_at":"2026-04-02T00:00:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P1","opened_at":"2026-03-27T00:00:00Z","resolved_at":"2026-03-28T00:00:00Z","customer_facing":true}
{"kind":"incident","id":"i4","service":"api","severity":"P1","opened_at":"2026-02-19T00:00:00Z","resolved_at":"2026-02-20T00:00:00Z","customer_facing":true,"postmortem_due_at":"2026-03-05T00:00:00Z"}
{"kind":"incident","id":"i5","service":"api","severity":"P1","opened_at":"2026-02-23T00:00:00Z","resolved_at":"2026-02-24T00:00:00Z","customer_facing":true,"postmortem_done_at":"2026-03-01T00:00:00Z"}
{"kind":"incident","id":"i6","service":"api","severity":"P1","opened_at":"2026-03-09T00:00:00Z","resolved_at":"2026-03-10T00:00:00Z"}
{"kind":"incident","id":"i7","service":"api","severity":"P1","opened_at":"2026-03-09T00:00:00Z","customer_facing":true,"postmortem_due_at":"2026-03-20T00:00:00Z"}
{"kind":"incident","id":"i8","service":"api","severity":"P1","opened_at":"2026-03-09T00:00:00Z","resolved_at":"2026-04-01T00:00:00Z","customer_facing":true,"postmortem_due_at":"2026-03-20T00:00:00Z"}
{"kind":"incident","id":"i10","service":"api","severity":"P1","opened_at":"2026-03-09T00:00:00Z","resolved_at":"2026-03-10T00:00:00Z","customer_facing":true,"postmortem_due_at":"2026-04-15T00:00:00Z"}
{"kind":"incident","id":"i11","service":"api","severity":"P1","opened_at":"2026-03-20T00:00:00Z","resolved_at":"2026-03-21T00:00:00Z","customer_facing":true,"postmortem_done_at":"2026-03-31T00:00:00Z"}`,
			// Due dates: i1 03-15 (resolved + 5 d), i2 03-25, i3 04-02 (out),
			// i4 03-05 (explicit), i5 03-01T00 (exactly W's start: in), i10
			// 04-15 (explicit beats resolved + 5 d: out), i11 03-26.
			// i6 is not customer-facing; i7 is open; i8 resolves after
			// as_of (unresolved as of as_of). Denominator i1, i2, i4, i5,
			// i11 = 5. Done ≤ as_of: i1, i5, i11 (done exactly at as_of);
			// i2's is after as_of. 3/5 = 60 %.
			want: val(60), count: 5, ids: []string{"i1", "i2", "i4", "i5", "i11"},
		},
	})
}

func TestReliabilityBreakdown(t *testing.T) {
	d := load(t, nil, `
{"kind":"service","id":"api","name":"API","team":"core","tier":1}
{"kind":"service","id":"web","name":"Web","team":"edge","tier":2}
{"kind":"service","id":"batch","name":"Batch"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T00:00:00Z"}
{"kind":"incident","id":"i2","service":"web","severity":"P0","opened_at":"2026-03-11T00:00:00Z"}
{"kind":"incident","id":"i3","service":"web","severity":"P0","opened_at":"2026-03-12T00:00:00Z"}
{"kind":"incident","id":"i4","service":"ghost","severity":"P1","opened_at":"2026-03-13T00:00:00Z"}
{"kind":"incident","id":"i5","service":"batch","severity":"P2","opened_at":"2026-03-14T00:00:00Z"}`)
	q := mcase{}.query(t)
	// ghost has no service record and batch no team: both are "(none)".
	// (none): i4 = 1 (i5 is P2); core: i1 = 1; edge: i2, i3 = 2.
	got, err := d.Breakdown("incidents_p0_p1", q, "team")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key string
		n   float64
	}{{"(none)", 1}, {"core", 1}, {"edge", 2}}
	if len(got) != len(want) {
		t.Fatalf("groups = %+v, want %v", got, want)
	}
	for i, w := range want {
		if got[i].Key != w.key || got[i].Value == nil || *got[i].Value != w.n {
			t.Errorf("group %d = %s %s, want %s %v", i, got[i].Key, fmtVal(got[i].Value), w.key, w.n)
		}
	}
	// Reliability metrics are service-level: no environment breakdown.
	if _, err := d.Breakdown("mttr", q, "environment"); err == nil {
		t.Error("Breakdown(mttr, environment) succeeded, want an error")
	}
	q.Scope = Scope{Dim: "environment", Value: "production"}
	if _, err := d.Compute("availability", q); err == nil {
		t.Error("Compute(availability) scoped by environment succeeded, want an error")
	}
}
