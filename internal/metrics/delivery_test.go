package metrics

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Expected values below are worked out by hand from SPEC §2–§3, never by
// running the code. Unless a case says otherwise, as_of = 2026-03-31T00:00Z
// and W = [03-01T00:00, 03-31T00:00), 30 days.

func TestDeploymentFrequency(t *testing.T) {
	runCases(t, []mcase{
		{
			name:   "no deployment data",
			metric: "deployment_frequency",
			// Nothing was ever sent (SPEC §4): no value, not 0.
			want: nil, count: 0, ids: []string{},
		},
		{
			name:   "empty window",
			metric: "deployment_frequency",
			data:   `{"kind":"deployment","id":"old","service":"api","environment":"production","finished_at":"2025-06-01T00:00:00Z","status":"success"}`,
			// A frequency is a count: 0 once deployments are known to be
			// sent, never "no value". No deployment day in any week or
			// month → low.
			want: val(0), count: 0, ids: []string{}, level: "low",
		},
		{
			name:   "status, environment and half-open window",
			metric: "deployment_frequency",
			data: `
{"kind":"deployment","id":"d_start","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-11T12:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-03-12T12:00:00Z","status":"failure"}
{"kind":"deployment","id":"d4","service":"api","environment":"staging","finished_at":"2026-03-13T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d_before","service":"api","environment":"production","finished_at":"2026-02-28T23:59:59Z","status":"success"}
{"kind":"deployment","id":"d_asof","service":"api","environment":"production","finished_at":"2026-03-31T00:00:00Z","status":"success"}`,
			// Counted: d_start (exactly at W's start), d1 (success), d2
			// (rolled_back). Not: d3 failure, d4 staging, d_before, d_asof
			// (W is half-open). 3 ÷ 30 days = 0.1/day.
			// Level: full weeks back from as_of: [03-24,31) 0 days,
			// [03-17,24) 0, [03-10,17) 2 (10th, 11th), [03-03,10) 0 →
			// median(0,0,0,2) = 0 < 1; the month [03-01,31) has 3
			// deployment days ≥ 1 → medium.
			want: val(3.0 / 30), count: 3, ids: []string{"d_start", "d1", "d2"}, level: "medium",
		},
		{
			name:   "env_type derived from environment names case-insensitively; explicit env_type wins",
			metric: "deployment_frequency",
			data: `
{"kind":"deployment","id":"p1","service":"api","environment":"PRD","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p2","service":"api","environment":"Live","finished_at":"2026-03-06T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p3","service":"api","environment":"Production","finished_at":"2026-03-07T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p4","service":"api","environment":"prod-eu","finished_at":"2026-03-08T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p5","service":"api","environment":"prod","env_type":"staging","finished_at":"2026-03-09T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p6","service":"api","environment":"eu-west-1","env_type":"production","finished_at":"2026-03-09T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p7","service":"api","environment":"preprod","finished_at":"2026-03-09T00:00:00Z","status":"success"}`,
			// PRD, Live, Production match the default production names;
			// prod-eu and preprod do not (→ staging); p5's explicit staging
			// beats its "prod" name; p6's explicit production beats its
			// name. 4 ÷ 30.
			want: val(4.0 / 30), count: 4, ids: []string{"p1", "p2", "p3", "p6"},
		},
		{
			name:   "elite: 5 deployment days in a 7-day window",
			metric: "deployment_frequency", window: 7 * day,
			data: `
{"kind":"deployment","id":"e1","service":"api","environment":"production","finished_at":"2026-03-24T12:00:00Z","status":"success"}
{"kind":"deployment","id":"e2","service":"api","environment":"production","finished_at":"2026-03-25T12:00:00Z","status":"success"}
{"kind":"deployment","id":"e3","service":"api","environment":"production","finished_at":"2026-03-26T12:00:00Z","status":"success"}
{"kind":"deployment","id":"e4","service":"api","environment":"production","finished_at":"2026-03-27T12:00:00Z","status":"success"}
{"kind":"deployment","id":"e5","service":"api","environment":"production","finished_at":"2026-03-28T12:00:00Z","status":"success"}
{"kind":"deployment","id":"e6","service":"api","environment":"production","finished_at":"2026-03-28T18:00:00Z","status":"success"}`,
			// W = [03-24, 03-31). 6 deployments ÷ 7 days; one week with 5
			// distinct deployment days (e5, e6 share the 28th) → ≥ 5 elite.
			want: val(6.0 / 7), count: 6, level: "elite",
		},
		{
			name:   "high: 4 deployment days in a 7-day window",
			metric: "deployment_frequency", window: 7 * day,
			data: `
{"kind":"deployment","id":"h1","service":"api","environment":"production","finished_at":"2026-03-24T12:00:00Z","status":"success"}
{"kind":"deployment","id":"h2","service":"api","environment":"production","finished_at":"2026-03-25T12:00:00Z","status":"success"}
{"kind":"deployment","id":"h3","service":"api","environment":"production","finished_at":"2026-03-26T12:00:00Z","status":"success"}
{"kind":"deployment","id":"h4","service":"api","environment":"production","finished_at":"2026-03-27T12:00:00Z","status":"success"}
{"kind":"deployment","id":"h5","service":"api","environment":"production","finished_at":"2026-03-27T13:00:00Z","status":"success"}
{"kind":"deployment","id":"h6","service":"api","environment":"production","finished_at":"2026-03-27T14:00:00Z","status":"success"}`,
			// 6 ÷ 7 per day, but only 4 distinct days: 1 ≤ 4 < 5 → high.
			want: val(6.0 / 7), count: 6, level: "high",
		},
		{
			name:   "high: one deployment day in each week of 30 days",
			metric: "deployment_frequency",
			data: `
{"kind":"deployment","id":"w1","service":"api","environment":"production","finished_at":"2026-03-05T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w2","service":"api","environment":"production","finished_at":"2026-03-12T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w3","service":"api","environment":"production","finished_at":"2026-03-19T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w4","service":"api","environment":"production","finished_at":"2026-03-26T12:00:00Z","status":"success"}`,
			// Weeks [03-03,10) [03-10,17) [03-17,24) [03-24,31) hold one
			// day each → median 1 → high. 4 ÷ 30.
			want: val(4.0 / 30), count: 4, level: "high",
		},
		{
			name:   "medium: deployments in only two of four weeks",
			metric: "deployment_frequency",
			data: `
{"kind":"deployment","id":"w3","service":"api","environment":"production","finished_at":"2026-03-19T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w4","service":"api","environment":"production","finished_at":"2026-03-26T12:00:00Z","status":"success"}`,
			// Weeks (0,0,1,1) → median (0+1)/2 = 0.5 < 1; the month has 2
			// deployment days ≥ 1 → medium. 2 ÷ 30.
			want: val(2.0 / 30), count: 2, level: "medium",
		},
		{
			name:   "low: one deployment day in three months",
			metric: "deployment_frequency", window: 90 * day,
			data: `
{"kind":"deployment","id":"q1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`,
			// W = [2025-12-31, 2026-03-31). Months back from as_of: one with
			// 1 day, two with 0 → median 0 < 1 → low. 1 ÷ 90.
			want: val(1.0 / 90), count: 1, level: "low",
		},
		{
			name:   "low: only failed deployments",
			metric: "deployment_frequency",
			data: `
{"kind":"deployment","id":"f1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"failure"}`,
			want: val(0), count: 0, ids: []string{}, level: "low",
		},
	})
}

func TestLeadTimeForChanges(t *testing.T) {
	runCases(t, []mcase{
		{
			name: "empty window", metric: "lead_time_for_changes",
			want: nil, count: 0, ids: []string{},
		},
		{
			name: "deployment with no changes", metric: "lead_time_for_changes",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			// No change was merged before d1: the median has no values.
			want: nil, count: 0, ids: []string{},
			detail: &Detail{Links: &Links{Explicit: 0, Inferred: 0}},
		},
		{
			name: "authored_at when present, else merged_at", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-09T00:00:00Z","merged_at":"2026-03-09T12:00:00Z"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-09T18:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			// c1: 03-10T00 − authored 03-09T00 = 24 h; c2: 03-10T00 − merged
			// 03-09T18 = 6 h. Median (6+24)/2 = 15 h < 24 → elite.
			want: val(15), count: 2, ids: []string{"c1", "c2"}, level: "elite",
			detail: &Detail{Links: &Links{Explicit: 0, Inferred: 2}},
		},
		{
			name: "explicit wins even when an earlier eligible deployment exists", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-08T00:00:00Z","status":"success","changes":["c1"]}`,
			// c1 ships with d2 (lists it), not d1 (first eligible after the
			// merge): 03-08 − 03-05 = 72 h; 24 ≤ 72 < 168 → high.
			want: val(72), count: 1, ids: []string{"c1"}, level: "high",
			detail: &Detail{Links: &Links{Explicit: 1, Inferred: 0}},
		},
		{
			name: "earliest of several listing deployments; exactly 24 h is high", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
			// Earliest listing = d2 (03-06): 24 h, counted once. "< 1 day"
			// is elite, so exactly 24 h is high.
			want: val(24), count: 1, ids: []string{"c1"}, level: "high",
		},
		{
			name: "a change is counted once: its earliest listing deployment is before W", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-02-26T00:00:00Z"}
{"kind":"deployment","id":"d_old","service":"api","environment":"production","finished_at":"2026-02-27T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"d_new","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success","changes":["c1"]}`,
			// c1 shipped with d_old (before W); d_new re-lists it but does
			// not ship it again → nothing in W.
			want: nil, count: 0, ids: []string{},
		},
		{
			name: "a failed deployment listing a change does not ship it", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d_fail","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure","changes":["c1"]}
{"kind":"deployment","id":"d_retry","service":"api","environment":"production","finished_at":"2026-03-06T02:00:00Z","status":"success","changes":["c1"]}`,
			// Ambiguity: SPEC §2's explicit rule does not name a status. We
			// read "ships with" as the inference rule does: only a
			// deployment with status success or rolled_back ships anything,
			// so a failed attempt and its retry listing the same change
			// measure to the retry: 03-06T02 − 03-05T00 = 26 h (high).
			want: val(26), count: 1, ids: []string{"c1"}, level: "high",
			detail: &Detail{Links: &Links{Explicit: 1, Inferred: 0}},
		},
		{
			name: "a listing deployment still receives unlisted changes by inference", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-09T12:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c1"]}`,
			// c1 explicit 24 h, c2 inferred 12 h → median 18 h.
			want: val(18), count: 2, ids: []string{"c1", "c2"}, level: "elite",
			detail: &Detail{Links: &Links{Explicit: 1, Inferred: 1}},
		},
		{
			name: "inferred: first eligible deployment at or after merged_at, once", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"change","id":"c3","service":"api","merged_at":"2026-03-06T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-06T12:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success"}`,
			// c1 → d1: 24 h (not again with d2); c3 merged exactly when d1
			// finished → d1 (at or after): 0 h, zero spans count; c2 → d2:
			// 12 h. Median of (0, 12, 24) = 12.
			want: val(12), count: 3, ids: []string{"c1", "c2", "c3"},
		},
		{
			name: "inference skips failures, staging and other services", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d_fail","service":"api","environment":"production","finished_at":"2026-03-05T06:00:00Z","status":"failure"}
{"kind":"deployment","id":"d_stg","service":"api","environment":"staging","finished_at":"2026-03-05T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d_web","service":"web","environment":"production","finished_at":"2026-03-05T18:00:00Z","status":"success"}
{"kind":"deployment","id":"d_rb","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"rolled_back"}`,
			// The first production api deployment with status success or
			// rolled_back after the merge is d_rb: 24 h.
			want: val(24), count: 1, ids: []string{"c1"},
		},
		{
			name: "ties in finished_at: the change ships once", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"deployment","id":"da","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"db","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			// Either deployment is "first"; c1 is counted once: 24 h.
			want: val(24), count: 1, ids: []string{"c1"},
		},
		{
			name: "negative spans excluded", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-11T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","authored_at":"2026-03-09T00:00:00Z","merged_at":"2026-03-09T12:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c1"]}`,
			// c1 is listed by d1 but merged a day after it: −24 h, dropped.
			// c2 inferred: 03-10T00 − authored 03-09T00 = 24 h.
			want: val(24), count: 1, ids: []string{"c2"},
		},
		{
			name: "deployments finishing in W only", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c0","service":"api","merged_at":"2026-02-28T00:00:00Z"}
{"kind":"deployment","id":"d_before","service":"api","environment":"production","finished_at":"2026-02-28T12:00:00Z","status":"success"}
{"kind":"change","id":"c1","service":"api","merged_at":"2026-02-28T18:00:00Z"}
{"kind":"deployment","id":"d_start","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-30T00:00:00Z"}
{"kind":"deployment","id":"d_asof","service":"api","environment":"production","finished_at":"2026-03-31T00:00:00Z","status":"success"}`,
			// c0 → d_before (before W); c1 → d_start exactly at W's start:
			// 6 h; c2 → d_asof at as_of, outside the half-open W.
			want: val(6), count: 1, ids: []string{"c1"},
		},
		{
			name: "DORA elite just under a day", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T01:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			want: val(23), count: 1, level: "elite", // 23 h < 24
		},
		{
			name: "DORA exactly one week is medium", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-03T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			want: val(168), count: 1, level: "medium", // 7 × 24 = 168, not < 168
		},
		{
			name: "DORA just under a month is medium", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-02-08T01:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			// 02-08 → 03-10 is 20 + 10 = 30 days = 720 h; minus 1 h = 719
			// h < 720 (a month taken as 30 days) → medium.
			want: val(719), count: 1, level: "medium",
		},
		{
			name: "DORA a month is low", metric: "lead_time_for_changes",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-02-08T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			want: val(720), count: 1, level: "low",
		},
	})
}

func TestChangeFailureRate(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "change_failure_rate", want: nil, count: 0, ids: []string{}},
		{
			name: "failure, rolled_back status, rollback_of, incident", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"s1","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s2","service":"api","environment":"production","finished_at":"2026-03-04T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"s3","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"s4","service":"api","environment":"production","finished_at":"2026-03-08T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s5","service":"api","environment":"production","finished_at":"2026-03-08T01:00:00Z","status":"success","rollback_of":"s4","reason":"rollback"}
{"kind":"deployment","id":"s6","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P4","opened_at":"2026-03-12T05:00:00Z"}
{"kind":"deployment","id":"s7","service":"api","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s8","service":"api","environment":"production","finished_at":"2026-03-31T01:00:00Z","status":"success","rollback_of":"s7"}
{"kind":"deployment","id":"s9","service":"api","environment":"staging","finished_at":"2026-03-22T00:00:00Z","status":"failure"}`,
			// Denominator: s1..s7 (s8 after as_of, s9 staging) = 7.
			// Failed: s2 (failure), s3 (rolled_back), s4 (rollback_of by s5),
			// s6 (P4 i1 opened 5 h after it). s7's rollback s8 finishes after
			// as_of: not rolled back yet. 4/7 = 57.142857…% > 15 → low.
			want: val(400.0 / 7), count: 7, ids: []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"},
			level: "low", detail: &Detail{Failed: ptr(4)},
		},
		{
			name: "incidents of other services are never linked", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P0","opened_at":"2026-03-10T01:00:00Z"}`,
			want: val(0), count: 1, level: "elite", detail: &Detail{Failed: ptr(0)},
		},
		{
			name: "incident exactly 24 h after is inside the attribution window", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P3","opened_at":"2026-03-11T00:00:00Z"}`,
			// opened_at − 24 h = 03-10T00 = finished_at → linked. 1/1.
			want: val(100), count: 1, level: "low",
		},
		{
			name: "incident 24 h + 1 s after is outside", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P3","opened_at":"2026-03-11T00:00:01Z"}`,
			want: val(0), count: 1,
		},
		{
			name: "configurable attribution window: 2 h, incident 3 h after", metric: "change_failure_rate",
			cfg: &Config{AttributionWindow: 2 * time.Hour},
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T03:00:00Z"}`,
			want: val(0), count: 1, // would be 100 with the default 24 h
		},
		{
			name: "configurable attribution window: 2 h, incident exactly 2 h after", metric: "change_failure_rate",
			cfg: &Config{AttributionWindow: 2 * time.Hour},
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T02:00:00Z"}`,
			want: val(100), count: 1,
		},
		{
			name: "inference picks the latest eligible deployment only", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-10T06:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T08:00:00Z"}`,
			// i1 → d2 (latest within 24 h); d1 is not failed. 1/2.
			want: val(50), count: 2, detail: &Detail{Failed: ptr(1)},
		},
		{
			name: "staging and failed deployments do not take incidents by inference", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-10T06:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"api","environment":"staging","finished_at":"2026-03-10T07:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T08:00:00Z"}`,
			// i1 → d1 (the latest production success/rolled_back); d2 is
			// failed anyway; d3 is not production. Failed d1, d2 of 2.
			want: val(100), count: 2, detail: &Detail{Failed: ptr(2)},
		},
		{
			name: "explicit caused_by beats inference", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-15T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-15T01:00:00Z","caused_by":"d1"}`,
			// i1 names d1 (5 days earlier); d2, 1 h before it, is not
			// blamed. 1/2.
			want: val(50), count: 2, detail: &Detail{Failed: ptr(1)},
		},
		{
			name: "explicit caused_by_change_request", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","change_request":"CHG-1"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-15T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-15T01:00:00Z","caused_by_change_request":"CHG-1"}`,
			want: val(50), count: 2, detail: &Detail{Failed: ptr(1)},
		},
		{
			name: "unknown caused_by leaves the incident unattributed", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T01:00:00Z","caused_by":"d-missing"}`,
			// Not inferred to d1 either.
			want: val(0), count: 1,
		},
		{
			name: "unknown caused_by_change_request leaves the incident unattributed", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","change_request":"CHG-1"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T01:00:00Z","caused_by_change_request":"CHG-9"}`,
			want: val(0), count: 1,
		},
		{
			name: "an incident opened after as_of has not happened", metric: "change_failure_rate",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-30T12:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-31T01:00:00Z"}`,
			want: val(0), count: 1,
		},
		// DORA bands over 20 daily deployments (03-02 … 03-21), the first k
		// failed: k/20.
		{name: "DORA 5% is elite", metric: "change_failure_rate", data: dailyDeps(t, "d", "api", "2026-03-02", 20, 1),
			want: val(5), count: 20, level: "elite"}, // 1/20
		{name: "DORA 10% is high", metric: "change_failure_rate", data: dailyDeps(t, "d", "api", "2026-03-02", 20, 2),
			want: val(10), count: 20, level: "high"}, // 2/20
		{name: "DORA 15% is medium", metric: "change_failure_rate", data: dailyDeps(t, "d", "api", "2026-03-02", 20, 3),
			want: val(15), count: 20, level: "medium"}, // 3/20
		{name: "DORA 20% is low", metric: "change_failure_rate", data: dailyDeps(t, "d", "api", "2026-03-02", 20, 4),
			want: val(20), count: 20, level: "low"}, // 4/20
	})
}

func TestFailedDeploymentRecoveryTime(t *testing.T) {
	const metric = "failed_deployment_recovery_time"
	runCases(t, []mcase{
		{name: "empty window", metric: metric, want: nil, count: 0, ids: []string{}},
		{
			name: "recovery = latest resolution of linked incidents", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T01:00:00Z","resolved_at":"2026-03-10T03:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P3","opened_at":"2026-03-11T06:00:00Z","resolved_at":"2026-03-11T08:00:00Z","caused_by":"d1"}`,
			// i1 inferred, i2 explicit (30 h after, outside 24 h). Latest
			// resolution 03-11T08 − 03-10T00 = 32 h; 24 ≤ 32 < 168 → medium.
			want: val(32), count: 1, ids: []string{"d1"}, level: "medium",
		},
		{
			name: "linked incidents take precedence over the next deployment", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T00:10:00Z","resolved_at":"2026-03-10T04:00:00Z","caused_by":"d1"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success"}`,
			// d1 has a linked incident: recovery 03-10T04, not d2's 01:00.
			// 4 h → high. (i1 is explicit, so d2 takes no incident.)
			want: val(4), count: 1, ids: []string{"d1"}, level: "high",
		},
		{
			name: "excluded while any linked incident is unresolved", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T01:00:00Z","resolved_at":"2026-03-10T03:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-10T02:00:00Z","caused_by":"d1"}`,
			want: nil, count: 0, ids: []string{"d1"}, detail: &Detail{Unrecovered: ptr(1)},
		},
		{
			name: "a resolution after as_of counts as unresolved", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T01:00:00Z","resolved_at":"2026-03-10T03:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-10T02:00:00Z","resolved_at":"2026-04-01T00:00:00Z"}`,
			// i2 (inferred to d1) resolves after as_of: d1 not recovered.
			want: nil, count: 0, detail: &Detail{Unrecovered: ptr(1)},
		},
		{
			name: "no incidents: next successful production deployment of the service", metric: metric,
			data: `
{"kind":"deployment","id":"f1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"g1","service":"api","environment":"staging","finished_at":"2026-03-10T01:00:00Z","status":"success"}
{"kind":"deployment","id":"h1","service":"web","environment":"production","finished_at":"2026-03-10T02:00:00Z","status":"success"}
{"kind":"deployment","id":"f2","service":"api","environment":"production","finished_at":"2026-03-10T03:00:00Z","status":"failure"}
{"kind":"deployment","id":"f3","service":"api","environment":"production","finished_at":"2026-03-10T04:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"ok","service":"api","environment":"production","finished_at":"2026-03-10T06:00:00Z","status":"success"}`,
			// Failed: f1, f2, f3. Next api production success is "ok" at
			// 06:00 (g1 is staging, h1 another service, f2/f3 not success).
			// f1 6 h, f2 3 h, f3 2 h → median 3 h → high.
			want: val(3), count: 3, ids: []string{"f1", "f2", "f3"}, level: "high",
		},
		{
			name: "rolled back by rollback_of, recovered by the rollback", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-10T00:30:00Z","status":"success","rollback_of":"d1"}`,
			// d1 failed (rolled back); next success d2: 0.5 h < 1 → elite.
			want: val(0.5), count: 1, ids: []string{"d1"}, level: "elite",
		},
		{
			name: "a rollback_of finishing after as_of does not count yet", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-30T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-31T01:00:00Z","status":"success","rollback_of":"d1"}`,
			want: nil, count: 0, ids: []string{}, detail: &Detail{Unrecovered: ptr(0)},
		},
		{
			name: "next success after as_of: unrecovered", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-30T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-04-01T00:00:00Z","status":"success"}`,
			want: nil, count: 0, ids: []string{"d1"}, detail: &Detail{Unrecovered: ptr(1)},
		},
		{
			name: "DORA exactly 1 h is high", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success"}`,
			want: val(1), count: 1, level: "high",
		},
		{
			name: "DORA exactly 1 day is medium", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success"}`,
			want: val(24), count: 1, level: "medium",
		},
		{
			name: "DORA exactly 1 week is low", metric: metric,
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-17T00:00:00Z","status":"success"}`,
			want: val(168), count: 1, level: "low",
		},
	})
}

func TestReworkRate(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "rework_rate", want: nil, count: 0},
		{
			name: "hotfix, rollback reason or rollback_of", metric: "rework_rate",
			data: `
{"kind":"deployment","id":"r1","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success"}
{"kind":"deployment","id":"r2","service":"api","environment":"production","finished_at":"2026-03-03T00:00:00Z","status":"success","reason":"hotfix"}
{"kind":"deployment","id":"r3","service":"api","environment":"production","finished_at":"2026-03-04T00:00:00Z","status":"success","reason":"rollback"}
{"kind":"deployment","id":"r4","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success","reason":"planned","rollback_of":"r1"}
{"kind":"deployment","id":"r5","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure","reason":"planned"}
{"kind":"deployment","id":"r6","service":"api","environment":"staging","finished_at":"2026-03-07T00:00:00Z","status":"success","reason":"hotfix"}`,
			// Denominator r1..r5 (r6 staging) = 5, any status; rework r2,
			// r3, r4 → 3/5 = 60 %.
			want: val(60), count: 5, ids: []string{"r1", "r2", "r3", "r4", "r5"},
		},
	})
}

func TestRollbackRate(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "rollback_rate", want: nil, count: 0},
		{
			name: "by status and by rollback_of, as of as_of", metric: "rollback_rate",
			data: `
{"kind":"deployment","id":"b0","service":"api","environment":"production","finished_at":"2026-02-27T00:00:00Z","status":"success"}
{"kind":"deployment","id":"b7","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success","rollback_of":"b0"}
{"kind":"deployment","id":"b1","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"b2","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"b3","service":"api","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success","rollback_of":"b2"}
{"kind":"deployment","id":"b4","service":"api","environment":"production","finished_at":"2026-03-29T00:00:00Z","status":"success"}
{"kind":"deployment","id":"b5","service":"api","environment":"production","finished_at":"2026-03-31T02:00:00Z","status":"success","rollback_of":"b4"}
{"kind":"deployment","id":"b6","service":"api","environment":"production","finished_at":"2026-03-15T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"bs","service":"api","environment":"staging","finished_at":"2026-03-16T00:00:00Z","status":"rolled_back"}`,
			// Denominator: b7, b1, b2, b3, b4, b6 (b0 before W, b5 after
			// as_of, bs staging) = 6. Rolled back: b1 (status), b2 (b3's
			// rollback_of). b4's rollback b5 is after as_of; b0 is outside
			// W. 2/6 = 33.3 %.
			want: val(100.0 / 3), count: 6, ids: []string{"b7", "b1", "b2", "b3", "b4", "b6"},
		},
	})
}

func TestDeploymentSuccessRate(t *testing.T) {
	runCases(t, []mcase{
		{name: "empty window", metric: "deployment_success_rate", want: nil, count: 0},
		{
			name: "share with status success", metric: "deployment_success_rate",
			data: `
{"kind":"deployment","id":"ok1","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success"}
{"kind":"deployment","id":"ok2","service":"api","environment":"production","finished_at":"2026-03-03T00:00:00Z","status":"success"}
{"kind":"deployment","id":"f1","service":"api","environment":"production","finished_at":"2026-03-04T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"rb1","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"stg","service":"api","environment":"staging","finished_at":"2026-03-06T00:00:00Z","status":"failure"}`,
			// 2 success of 4 production = 50 %.
			want: val(50), count: 4, ids: []string{"ok1", "ok2", "f1", "rb1"},
		},
	})
}

func TestDeploymentDuration(t *testing.T) {
	const base = `
{"kind":"deployment","id":"u1","service":"api","environment":"production","started_at":"2026-03-10T00:00:00Z","finished_at":"2026-03-10T00:10:00Z","status":"success"}
{"kind":"deployment","id":"u2","service":"api","environment":"production","started_at":"2026-03-11T00:00:00Z","finished_at":"2026-03-11T00:25:00Z","status":"success"}
{"kind":"deployment","id":"u3","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}
{"kind":"deployment","id":"u4","service":"api","environment":"staging","started_at":"2026-03-13T00:00:00Z","finished_at":"2026-03-13T02:00:00Z","status":"success"}
{"kind":"deployment","id":"u5","service":"api","environment":"production","started_at":"2026-03-14T00:00:00Z","finished_at":"2026-03-14T00:05:00Z","status":"failure"}
{"kind":"deployment","id":"u6","service":"api","environment":"production","started_at":"2026-03-15T00:00:00Z","finished_at":"2026-03-15T01:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"u8","service":"api","environment":"production","started_at":"2026-03-30T23:50:00Z","finished_at":"2026-03-31T00:00:00Z","status":"success"}`
	runCases(t, []mcase{
		{name: "empty window", metric: "deployment_duration", want: nil, count: 0},
		{
			name: "minutes, any status, only with started_at", metric: "deployment_duration",
			data: base,
			// u1 10, u2 25, u5 5 (failure counts), u6 60; u3 has no
			// started_at, u4 is staging, u8 finishes at as_of. Median of
			// (5, 10, 25, 60) = (10+25)/2 = 17.5 min.
			want: val(17.5), count: 4, ids: []string{"u1", "u2", "u5", "u6"},
		},
		{
			name: "started before W, finished in W", metric: "deployment_duration",
			data: base + `
{"kind":"deployment","id":"u7","service":"api","environment":"production","started_at":"2026-02-28T23:00:00Z","finished_at":"2026-03-01T00:30:00Z","status":"success"}`,
			// u7 finishes in W: 90 min. Median of (5, 10, 25, 60, 90) = 25.
			want: val(25), count: 5,
		},
	})
}

func TestEmergencyRetroOverdue(t *testing.T) {
	runCases(t, []mcase{
		// Nothing sent (SPEC §4): no value; deployments sent, none overdue: 0.
		{name: "no deployment data", metric: "emergency_retro_overdue", want: nil, count: 0, ids: []string{}},
		{
			name: "none", metric: "emergency_retro_overdue", want: val(0), count: 0, ids: []string{},
			data: `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`,
		},
		{
			name: "72 h boundary, validation as of as_of, all time", metric: "emergency_retro_overdue",
			data: `
{"kind":"deployment","id":"e1","service":"api","environment":"production","finished_at":"2026-03-27T23:59:59Z","status":"success","emergency":true}
{"kind":"deployment","id":"e2","service":"api","environment":"production","finished_at":"2026-03-28T00:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"e3","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success","emergency":true,"retro_validated_at":"2026-03-02T00:00:00Z"}
{"kind":"deployment","id":"e4","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"failure","emergency":true,"retro_validated_at":"2026-04-02T00:00:00Z"}
{"kind":"deployment","id":"e5","service":"api","environment":"production","finished_at":"2025-12-01T00:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"e6","service":"api","environment":"staging","finished_at":"2026-03-01T00:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"e7","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}
{"kind":"deployment","id":"e8","service":"api","environment":"production","finished_at":"2026-04-05T00:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"e9","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success","emergency":true,"retro_validated_at":"2026-03-31T00:00:00Z"}`,
			// as_of − 72 h = 03-28T00. Overdue: e1 (72 h + 1 s ago, no
			// retro), e4 (validated after as_of, any status), e5 (months
			// before W: all time). Not: e2 (exactly 72 h, not more), e3
			// and e9 (validated ≤ as_of), e6 staging, e7 not emergency,
			// e8 after as_of. Count 3.
			want: val(3), count: 3, ids: []string{"e1", "e4", "e5"},
		},
	})
}

// breakdownData: api (core, tier 1), web (edge, tier 2), batch (no team,
// no tier) and ghost (no service record).
const breakdownData = `
{"kind":"service","id":"api","name":"API","team":"core","tier":1}
{"kind":"service","id":"web","name":"Web","team":"edge","tier":2}
{"kind":"service","id":"batch","name":"Batch"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"PRD","finished_at":"2026-03-11T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"web","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d4","service":"batch","environment":"live","finished_at":"2026-03-13T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d5","service":"web","environment":"staging","finished_at":"2026-03-14T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d6","service":"ghost","environment":"production","finished_at":"2026-03-15T00:00:00Z","status":"failure"}`

func TestDeliveryBreakdown(t *testing.T) {
	d := load(t, nil, breakdownData)
	q := mcase{}.query(t)
	type group struct {
		key   string
		value float64
		count int
	}
	// deployment_success_rate per group; d5 (staging) is never counted.
	cases := []struct {
		dim  string
		want []group
	}{
		// (none): d4 ok, d6 failed → 50 %; core: d1 ok, d2 failed → 50 %;
		// edge: d3 → 100 %.
		{"team", []group{{"(none)", 50, 2}, {"core", 50, 2}, {"edge", 100, 1}}},
		{"service", []group{{"api", 50, 2}, {"batch", 100, 1}, {"ghost", 0, 1}, {"web", 100, 1}}},
		// Production environments by canonical name: PRD and live are
		// aliases of production (the default environment_aliases), so
		// d1, d3, d4 ok and d2, d6 failed → 3/5. The staging environment
		// is not a group.
		{"environment", []group{{"production", 60, 5}}},
		// (none): batch d4 + ghost d6 → 50 %; 1: api → 50 %; 2: web 100 %.
		{"tier", []group{{"(none)", 50, 2}, {"1", 50, 2}, {"2", 100, 1}}},
	}
	for _, c := range cases {
		t.Run(c.dim, func(t *testing.T) {
			got, err := d.Breakdown("deployment_success_rate", q, c.dim)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("groups = %d %+v, want %+v", len(got), got, c.want)
			}
			for i, w := range c.want {
				g := got[i]
				if g.Key != w.key || g.Value == nil || !approx(*g.Value, w.value) || g.Count != w.count {
					t.Errorf("group %d = %s %s (n=%d), want %s %v (n=%d)", i, g.Key, fmtVal(g.Value), g.Count, w.key, w.value, w.count)
				}
			}
		})
	}

	// Compute with a scope gives the same figure as the breakdown line.
	sq := q
	sq.Scope = Scope{Dim: "team", Value: "(none)"}
	r, err := d.Compute("deployment_success_rate", sq)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, mcase{metric: "deployment_success_rate", want: val(50), count: 2, ids: []string{"d4", "d6"}}, r)

	if _, err := d.Breakdown("deployment_frequency", q, "owner"); err == nil {
		t.Error("Breakdown by an unsupported dimension succeeded")
	}
	sq.Scope = Scope{Dim: "owner", Value: "x"}
	if _, err := d.Compute("deployment_frequency", sq); err == nil {
		t.Error("Compute with an unsupported dimension succeeded")
	}
	if _, err := d.Compute("no_such_metric", q); err == nil {
		t.Error("Compute of an unknown metric succeeded")
	}
	zero := q
	zero.Window = 0
	if _, err := d.Compute("deployment_frequency", zero); err == nil {
		t.Error("Compute with a zero window succeeded")
	}
}

// TestRecordsOnlyWhenAsked: the drill-down ids come with Query.Records and
// not otherwise; the value does not depend on it.
func TestRecordsOnlyWhenAsked(t *testing.T) {
	d := load(t, nil, breakdownData)
	q := mcase{}.query(t)
	with, err := d.Compute("change_failure_rate", q)
	if err != nil {
		t.Fatal(err)
	}
	// Production d1, d2, d3, d4, d6; failed d2, d6 → 2/5 = 40 %.
	checkResult(t, mcase{metric: "change_failure_rate", want: val(40), count: 5, ids: []string{"d1", "d2", "d3", "d4", "d6"}}, with)
	notes := map[string]string{}
	for _, ref := range with.Records {
		notes[ref.ID] = ref.Note
	}
	if notes["d2"] != "status failure" || notes["d1"] != "" {
		t.Errorf("notes = %v, want d2 \"status failure\" and d1 unmarked", notes)
	}
	q.Records = false
	without, err := d.Compute("change_failure_rate", q)
	if err != nil {
		t.Fatal(err)
	}
	if without.Records != nil || without.Value == nil || *without.Value != 40 || without.Count != 5 {
		t.Errorf("without Records: %+v, want value 40, count 5 and no records", without)
	}
	// A drill-down's records carry the values the metric is made of (the
	// values are boxed only when records are asked for: refValue).
	d = load(t, nil, `
{"kind":"deployment","id":"f1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"s1","service":"api","environment":"production","finished_at":"2026-03-10T02:00:00Z","status":"success"}
{"kind":"deployment","id":"f2","service":"web","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"s2","service":"web","environment":"production","finished_at":"2026-03-11T05:00:00Z","status":"success"}
`)
	q = Query{AsOf: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), Window: 30 * day, Records: true}
	rec, err := d.Compute("failed_deployment_recovery_time", q)
	if err != nil {
		t.Fatal(err)
	}
	var spans []float64
	for _, ref := range rec.Records {
		if ref.Value != nil {
			spans = append(spans, *ref.Value)
		}
	}
	if rec.Value == nil || len(spans) != rec.Count || *median(spans) != *rec.Value {
		t.Errorf("recovery time %s (n=%d), its records' values %v", cacheVal(rec.Value), rec.Count, spans)
	}
}

// TestReimportReplaces: re-importing a record with the same (kind, source,
// id) replaces it (SPEC §1), and every index and link follows.
func TestReimportReplaces(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"failure","changes":["c1"]}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T01:00:00Z"}`)
	check := func(step string, cases ...mcase) {
		t.Helper()
		for _, c := range cases {
			r, err := d.Compute(c.metric, c.query(t))
			if err != nil {
				t.Fatal(err)
			}
			c.name = step
			t.Run(step+"/"+c.metric, func(t *testing.T) { checkResult(t, c, r) })
		}
	}
	// d1 failed: CFR 1/1. It shipped nothing (failure), and no eligible
	// deployment follows c1: no lead time. No incident links to a failed
	// deployment by inference, and no success follows: unrecovered.
	check("failure",
		mcase{metric: "change_failure_rate", want: val(100), count: 1},
		mcase{metric: "lead_time_for_changes", want: nil, count: 0},
		mcase{metric: "failed_deployment_recovery_time", want: nil, count: 0, detail: &Detail{Unrecovered: ptr(1)}})

	apply(t, d, `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c1"]}`)
	apply(t, d, `{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T01:00:00Z","resolved_at":"2026-03-10T03:00:00Z"}`)
	// d1 now succeeded but i1 (1 h later) is linked: still 100 %; c1
	// ships explicitly with d1: 24 h; recovery = i1's resolution: 3 h.
	check("success with incident",
		mcase{metric: "change_failure_rate", want: val(100), count: 1},
		mcase{metric: "lead_time_for_changes", want: val(24), count: 1},
		mcase{metric: "failed_deployment_recovery_time", want: val(3), count: 1},
		mcase{metric: "mttr", want: val(2), count: 1})

	apply(t, d, `{"kind":"incident","id":"i1","service":"web","severity":"P1","opened_at":"2026-03-10T01:00:00Z","resolved_at":"2026-03-10T03:00:00Z"}`)
	// i1 moved to another service: d1 is not failed.
	check("incident moved",
		mcase{metric: "change_failure_rate", want: val(0), count: 1},
		mcase{metric: "failed_deployment_recovery_time", want: nil, count: 0})

	apply(t, d, `{"kind":"deployment","id":"d1","service":"api","environment":"staging","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c1"]}`)
	// d1 is staging now: no production deployment, c1 not deployed.
	check("moved to staging",
		mcase{metric: "change_failure_rate", want: nil, count: 0},
		mcase{metric: "lead_time_for_changes", want: nil, count: 0},
		mcase{metric: "deployment_frequency", want: val(0), count: 0})
	if n := d.Counts(); n[domain.KindDeployment] != 1 || n[domain.KindIncident] != 1 || n[domain.KindChange] != 1 {
		t.Errorf("Counts = %v, want one deployment, incident and change", n)
	}
	if envs := d.Environments(); len(envs) != 0 {
		t.Errorf("production environments = %v, want none", envs)
	}
}

// SPEC §3: an incident linked to a deployment and resolved before the
// deployment finished would give a negative recovery span; it is dropped
// from the median and reported on the drill-down as a data problem.
func TestNegativeRecoverySpanDropped(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T08:00:00Z","resolved_at":"2026-03-10T09:00:00Z","caused_by":"d1"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-03-12T02:00:00Z","status":"success"}`)
	want := Problem{Kind: domain.KindIncident, Source: "import", ID: "i1", Field: "resolved_at",
		Reason: "resolved at 2026-03-10T09:00:00Z, 1h0m0s before deployment d1 it is linked to finished (2026-03-10T10:00:00Z); the negative recovery span is left out of failed_deployment_recovery_time"}
	for _, records := range []bool{false, true} {
		r, err := d.Compute("failed_deployment_recovery_time", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: records})
		if err != nil {
			t.Fatal(err)
		}
		// d1's −1 h is dropped; d2 recovered with d3 after 2 h.
		if cacheVal(r.Value) != "2" || r.Count != 1 {
			t.Errorf("records %v: recovery = %s (n=%d), want 2 (n=1)", records, cacheVal(r.Value), r.Count)
		}
		if records && (len(r.Problems) != 1 || r.Problems[0] != want) {
			t.Errorf("drill-down problems = %v, want [%v]", r.Problems, want)
		}
		if !records && r.Problems != nil {
			t.Errorf("scorecard result carries problems %v", r.Problems)
		}
	}
	if got := d.Problems(ts(t, defaultAsOf)); len(got) != 1 || got[0] != want {
		t.Errorf("organisation problems = %v, want [%v]", got, want)
	}
	// Before i1 resolved nothing is negative yet, and as of before d1
	// finished the incident's cause does not exist.
	if got := d.Problems(ts(t, "2026-03-10T08:30:00Z")); len(got) != 1 || got[0].Field != "caused_by" {
		t.Errorf("problems as of 08:30 = %v, want only the unknown caused_by", got)
	}
}
