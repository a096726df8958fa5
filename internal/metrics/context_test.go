package metrics

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// The metrics of SPEC §3 that judge a platform in its context: weighted
// by what customers feel, during business hours, against latency
// objectives and against the organisation's own history. Every expected
// value is worked out by hand.

func TestCustomerWeightedChangeFailureRate(t *testing.T) {
	// pay is tier 1 (weight 3), shop tier 2 (2), batch has no tier (1).
	// Failed: p1 (status), s2 (rolled back), b1 (status).
	data := `
{"kind":"service","id":"pay","name":"Pay","tier":1}
{"kind":"service","id":"shop","name":"Shop","tier":2}
{"kind":"service","id":"batch","name":"Batch"}
{"kind":"deployment","id":"p1","service":"pay","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"p2","service":"pay","environment":"production","finished_at":"2026-03-03T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s1","service":"shop","environment":"production","finished_at":"2026-03-04T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s2","service":"shop","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"b1","service":"batch","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"old","service":"pay","environment":"production","finished_at":"2026-02-20T00:00:00Z","status":"failure"}`
	heavy := DefaultConfig()
	heavy.TierWeights = map[string]float64{"1": 5}
	runCases(t, []mcase{
		{name: "empty window", metric: "customer_weighted_change_failure_rate", want: nil, count: 0},
		// Failed weight 3 + 2 + 1 = 6 of 3 + 3 + 2 + 2 + 1 = 11.
		{name: "by tier weight", metric: "customer_weighted_change_failure_rate", data: data,
			want: val(100 * 6.0 / 11), count: 5, ids: []string{"p1", "p2", "s1", "s2", "b1"},
			detail: &Detail{WeightFailed: val(6), WeightTotal: val(11)}},
		// Tier 1 weighs 5, the others keep their defaults: 8 of 15.
		{name: "configured weights", metric: "customer_weighted_change_failure_rate", data: data, cfg: &heavy,
			want: val(100 * 8.0 / 15), count: 5},
		// A service without a tier weighs 1: b1 alone, failed.
		{name: "a service without a tier", metric: "customer_weighted_change_failure_rate", data: data,
			scope: Scope{Dim: "tier", Value: "(none)"}, want: val(100), count: 1, ids: []string{"b1"}},
	})
}

func TestMTTRBaseline(t *testing.T) {
	// W = [03-01, 03-31); the baseline period is the 90 days before it:
	// [2025-12-01, 2026-03-01).
	data := `
{"kind":"incident","id":"b1","service":"api","severity":"P2","opened_at":"2026-01-10T00:00:00Z","resolved_at":"2026-01-10T02:00:00Z","origin":"customer"}
{"kind":"incident","id":"b2","service":"api","severity":"P2","opened_at":"2026-02-10T00:00:00Z","resolved_at":"2026-02-10T03:00:00Z","origin":"monitoring"}
{"kind":"incident","id":"b3","service":"api","severity":"P2","opened_at":"2026-02-27T00:00:00Z","resolved_at":"2026-02-28T00:00:00Z","origin":"monitoring"}
{"kind":"incident","id":"b4","service":"api","severity":"P2","opened_at":"2025-11-20T00:00:00Z","resolved_at":"2025-11-30T00:00:00Z"}
{"kind":"incident","id":"b5","service":"api","severity":"P2","opened_at":"2026-02-28T20:00:00Z","resolved_at":"2026-03-01T01:00:00Z"}
{"kind":"incident","id":"w1","service":"api","severity":"P2","opened_at":"2026-03-05T00:00:00Z","resolved_at":"2026-03-05T10:00:00Z"}`
	runCases(t, []mcase{
		{name: "no history", metric: "mttr_baseline", want: nil, count: 0},
		// b1 2 h, b2 3 h, b3 24 h (b4 resolved before the period, b5 in W,
		// w1 is W's own) → median 3 h.
		{name: "the 90 days before W", metric: "mttr_baseline", data: data,
			want: val(3), count: 3, ids: []string{"b1", "b2", "b3"}},
		{name: "by origin", metric: "mttr_baseline", data: data, scope: Scope{Dim: "origin", Value: "monitoring"},
			want: val(13.5), count: 2, ids: []string{"b2", "b3"}},
	})
}

func TestLatencyCompliance(t *testing.T) {
	// Latency SLIs whose period lies inside W; availability SLIs and
	// periods straddling W's edges are left out.
	data := `
{"kind":"sli","id":"l1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-03T00:00:00Z","good":990,"total":1000,"objective":"latency"}
{"kind":"sli","id":"l2","service":"web","period_start":"2026-03-10T00:00:00Z","period_end":"2026-03-10T00:05:00Z","good":2,"total":4,"objective":"latency"}
{"kind":"sli","id":"l3","service":"api","period_start":"2026-02-28T00:00:00Z","period_end":"2026-03-02T00:00:00Z","good":0,"total":1000,"objective":"latency"}
{"kind":"sli","id":"a1","service":"api","period_start":"2026-03-02T00:00:00Z","period_end":"2026-03-03T00:00:00Z","good":0,"total":1000}`
	runCases(t, []mcase{
		{name: "no latency SLI", metric: "latency_compliance", want: nil, count: 0},
		// (990 + 2) ÷ (1000 + 4).
		{name: "pooled", metric: "latency_compliance", data: data, want: val(100 * 992.0 / 1004), count: 2, ids: []string{"l1", "l2"}},
		// A synthetic check is an SLI like any other: 2 of 4 probes fast.
		{name: "a service's synthetic checks", metric: "latency_compliance", data: data, scope: Scope{Dim: "service", Value: "web"},
			want: val(50), count: 1, ids: []string{"l2"}},
		// Latency SLIs are no availability data.
		{name: "availability ignores latency", metric: "availability", data: data, want: val(0), count: 1, ids: []string{"a1"}},
	})
}

// hourSLI is an availability SLI of one hour from start (UTC).
func hourSLI(id, svc, start string, good, total int) string {
	s, _ := time.Parse(time.RFC3339, start)
	return `{"kind":"sli","id":"` + id + `","service":"` + svc + `","period_start":"` + s.Format(time.RFC3339) +
		`","period_end":"` + s.Add(time.Hour).Format(time.RFC3339) + `","good":` + strconv.Itoa(good) + `,"total":` + strconv.Itoa(total) + `}`
}

func TestBusinessHoursAvailability(t *testing.T) {
	// W = [2026-03-23, 2026-04-04): the United Kingdom moves to summer time
	// on Sunday 2026-03-29 at 01:00 UTC, so 09:00 in London is 09:00 UTC
	// the Friday before and 08:00 UTC the Monday after. New York moved on
	// 2026-03-08: 09:00 there is 13:00 UTC throughout W.
	data := nd(
		`{"kind":"service","id":"api","name":"API"}`,
		`{"kind":"service","id":"nyc","name":"NYC"}`,
		hourSLI("fri-08", "api", "2026-03-27T08:00:00Z", 0, 100),   // 08:00 GMT: before opening
		hourSLI("fri-09", "api", "2026-03-27T09:00:00Z", 90, 100),  // 09:00 GMT: inside
		hourSLI("sat-10", "api", "2026-03-28T10:00:00Z", 0, 100),   // Saturday
		hourSLI("mon-08", "api", "2026-03-30T08:00:00Z", 80, 100),  // 09:00 BST: inside
		hourSLI("mon-15", "api", "2026-03-30T15:00:00Z", 100, 100), // 16:00 BST: inside
		hourSLI("mon-16", "api", "2026-03-30T16:00:00Z", 0, 100),   // 17:00 BST: closed
		hourSLI("nyc-20", "nyc", "2026-03-30T20:00:00Z", 50, 100),  // 16:00 EDT: inside in New York
		hourSLI("nyc-21", "nyc", "2026-03-30T21:00:00Z", 0, 100),   // 17:00 EDT: closed
		`{"kind":"sli","id":"day","service":"api","period_start":"2026-03-31T00:00:00Z","period_end":"2026-04-01T00:00:00Z","good":0,"total":100}`,
	)
	london := DefaultConfig()
	london.BusinessHours = mustCalendar(t, Calendar{TimeZone: "Europe/London"})
	perService := london
	perService.ServiceHours = map[string]Calendar{"nyc": mustCalendar(t, Calendar{TimeZone: "America/New_York"})}
	asOf, w := "2026-04-04T00:00:00Z", 12*day
	runCases(t, []mcase{
		// London for everyone: fri-09, mon-08, mon-15 → 270 of 300. nyc's
		// hours are 20:00 and 21:00 London time: closed.
		{name: "London across the clock change", metric: "business_hours_availability", data: data, cfg: &london, asOf: asOf, window: w,
			want: val(90), count: 3, ids: []string{"fri-09", "mon-08", "mon-15"}},
		// nyc keeps New York's hours: nyc-20 joins, 320 of 400.
		{name: "a service's own calendar", metric: "business_hours_availability", data: data, cfg: &perService, asOf: asOf, window: w,
			want: val(80), count: 4, ids: []string{"fri-09", "mon-08", "mon-15", "nyc-20"}},
		// The default calendar is Monday to Friday 09:00–17:00 UTC:
		// fri-09, mon-15, mon-16 (16:00 UTC) → 190 of 300.
		{name: "UTC by default", metric: "business_hours_availability", data: data, asOf: asOf, window: w,
			want: val(100 * 190.0 / 300), count: 3, ids: []string{"fri-09", "mon-15", "mon-16"}},
		{name: "nothing inside business hours", metric: "business_hours_availability", data: nd(
			`{"kind":"sli","id":"day","service":"api","period_start":"2026-03-31T00:00:00Z","period_end":"2026-04-01T00:00:00Z","good":0,"total":100}`),
			asOf: asOf, window: w, want: nil, count: 0},
	})
}

func mustCalendar(t *testing.T, c Calendar) Calendar {
	t.Helper()
	out, err := c.Resolve(DefaultCalendar())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCalendarRefusesBadInput(t *testing.T) {
	for _, c := range []struct {
		cal  Calendar
		want string
	}{
		{Calendar{TimeZone: "Mars/Olympus"}, "time_zone"},
		{Calendar{Days: []string{"mon", "funday"}}, "days"},
		{Calendar{Start: "9am"}, "start"},
		{Calendar{Start: "17:00", End: "09:00"}, "end"},
	} {
		_, err := c.cal.Resolve(DefaultCalendar())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.cal, err, c.want)
		}
	}
}
