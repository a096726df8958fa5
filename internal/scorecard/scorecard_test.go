package scorecard

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// The tests share one clock: as_of is 2026-03-31T00:00Z and the default
// 30-day window W is [2026-03-01, 2026-03-31); the window before is
// [2026-01-30, 2026-03-01).
var asOf = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// org is a small organisation whose values are computed by hand below.
//
// Deployments of api in W: d1 03-05 success, d2 03-12 failure, d3 03-19
// success, d4 03-30T12 success. Incident i3 (api, opened 03-30T20, 8 h
// after d4) is attributed to d4 by inference, so d2 and d4 failed:
//
//	deployment_frequency     3 (d1, d3, d4) ÷ 30 days = 0.1/day  red (< 1/7); DORA high (median 1 deploy day a week)
//	change_failure_rate      2 ÷ 4 = 50 %                        red; DORA low
//	recovery time            median(d2→d3 168 h, d4→i3 resolved 10 h) = 89 h   red; DORA medium
//	deployment_success_rate  3 ÷ 4 = 75 %                        red
//	lead_time_for_changes    c1 authored 03-29T18, shipped by d4 03-30T12: 18 h  green; DORA elite
//	deployment_duration      no started_at                       no value → unknown
//
// Reliability: SLI s1 (03-30, 9995/10000) = 99.95 % green; previous window
// s0 (02-10, 9990/10000) = 99.9 %. Incidents i1 P1 (0.5 h, detected in
// 3 min), i2 P3 (3 h, 20 min), i3 P3 (2 h): P0/P1 = 1 amber, MTTR =
// median(0.5, 3, 2) = 2 h amber, time to detect = median(3, 20) = 11.5 min
// amber, recurrence 0 % green.
//
// Cost: 1050 spent against a budget of 1000 over exactly W: variance 5 %
// amber, and infrastructure_cost shows that status.
//
// No vulnerability, control, ticket or survey data at all.
const org = `
{"kind":"service","id":"api","name":"API","team":"core","tier":1}
{"kind":"service","id":"web","name":"Web","team":"growth","tier":2}
{"kind":"deployment","id":"p1","service":"api","environment":"production","finished_at":"2026-02-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p2","service":"api","environment":"production","finished_at":"2026-02-12T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-03-19T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d4","service":"api","environment":"production","finished_at":"2026-03-30T12:00:00Z","status":"success"}
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-29T18:00:00Z","merged_at":"2026-03-30T06:00:00Z"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-10T00:00:00Z","detected_at":"2026-03-10T00:03:00Z","resolved_at":"2026-03-10T00:30:00Z"}
{"kind":"incident","id":"i2","service":"web","severity":"P3","opened_at":"2026-03-29T00:00:00Z","detected_at":"2026-03-29T00:20:00Z","resolved_at":"2026-03-29T03:00:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-30T20:00:00Z","resolved_at":"2026-03-30T22:00:00Z"}
{"kind":"sli","id":"s0","service":"api","period_start":"2026-02-10T00:00:00Z","period_end":"2026-02-10T12:00:00Z","good":9990,"total":10000}
{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-30T00:00:00Z","period_end":"2026-03-30T12:00:00Z","good":9995,"total":10000}
{"kind":"cost","id":"k1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":1050}
{"kind":"budget","id":"b1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":1000}
`

// load builds a Dataset the way the engine does: ParseJSON, Apply (with no
// ingestion time, so freshness comes from the records' own times), Prepare.
func load(t testing.TB, cfg metrics.Config, ndjson string) *metrics.Dataset {
	t.Helper()
	ds := metrics.NewDataset(cfg)
	for n, line := range strings.Split(ndjson, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatalf("test data line %d: %v\n%s", n+1, err, line)
		}
		ds.Apply(r, time.Time{})
	}
	ds.Prepare()
	return ds
}

func defaultCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// handCatalog is the default catalog without minimum samples: the org
// above has four deployments and three incidents, and the tests using it
// are about judging, trends and drill-downs, not sample size
// (TestMinSample is).
func handCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat := defaultCatalog(t)
	for i := range cat.Metrics {
		cat.Metrics[i].MinSample = 0
	}
	return cat
}

// without returns data minus the lines mentioning any of the given ids.
func without(data string, ids ...string) string {
	var out []string
	for _, l := range strings.Split(data, "\n") {
		drop := false
		for _, id := range ids {
			if strings.Contains(l, `"id":"`+id+`"`) {
				drop = true
			}
		}
		if !drop {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func build(t testing.TB, data string) *Scorecard {
	t.Helper()
	return Build(handCatalog(t), load(t, metrics.DefaultConfig(), data), Options{AsOf: asOf})
}

func card(t testing.TB, sc *Scorecard, id string) Card {
	t.Helper()
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if c.ID == id {
				return c
			}
		}
	}
	t.Fatalf("metric %s is not on the scorecard", id)
	return Card{}
}

func pillar(t testing.TB, sc *Scorecard, id string) Pillar {
	t.Helper()
	for _, p := range sc.Pillars {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("pillar %s is not on the scorecard", id)
	return Pillar{}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func show(v *float64) string {
	if v == nil {
		return "no value"
	}
	return fmt.Sprint(*v)
}

func TestStatusFromThresholds(t *testing.T) {
	sc := build(t, org)
	cases := []struct {
		id     string
		value  float64
		status catalog.Status
	}{
		{"availability", 99.95, catalog.Green},
		{"error_rate", 0.05, catalog.Green},
		{"incidents_p0_p1", 1, catalog.Amber},
		{"mttr", 2, catalog.Amber},
		{"time_to_detect", 11.5, catalog.Amber},
		{"incident_recurrence_rate", 0, catalog.Green},
		{"deployment_frequency", 0.1, catalog.Red},
		{"lead_time_for_changes", 18, catalog.Green},
		{"change_failure_rate", 50, catalog.Red},
		{"failed_deployment_recovery_time", 89, catalog.Red},
		{"deployment_success_rate", 75, catalog.Red},
		{"rework_rate", 0, catalog.Green},
		{"rollback_rate", 0, catalog.Green},
		{"emergency_retro_overdue", 0, catalog.Green},
		{"budget_variance", 5, catalog.Amber},
		{"infrastructure_cost", 1050, catalog.Amber},
	}
	for _, tc := range cases {
		c := card(t, sc, tc.id)
		if c.Value == nil || !approx(*c.Value, tc.value) {
			t.Errorf("%s = %s, want %v", tc.id, show(c.Value), tc.value)
		}
		if c.Status != tc.status {
			t.Errorf("%s status = %s (reason %q), want %s", tc.id, c.Status, c.Reason, tc.status)
		}
		if c.Reason != "" {
			t.Errorf("%s has reason %q though it is judged", tc.id, c.Reason)
		}
		if c.Freshness.Stale {
			t.Errorf("%s is stale: %+v", tc.id, c.Freshness)
		}
	}
}

// NoTrend leaves out only the window before: the value, status and reason
// of every card are the ones a full evaluation gives, and the trend is
// empty (a gate reads no trend and skips its cost).
func TestNoTrendJudgesTheSame(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	trends := 0
	for i := range cat.Metrics {
		m := &cat.Metrics[i]
		full := Evaluate(ds, m, Options{AsOf: asOf}, metrics.Scope{}, false)
		lean := Evaluate(ds, m, Options{AsOf: asOf, NoTrend: true}, metrics.Scope{}, false)
		if show(full.Value) != show(lean.Value) || full.Status != lean.Status || full.Reason != lean.Reason {
			t.Errorf("%s: full %s %s %q, without the trend %s %s %q", m.ID, show(full.Value), full.Status, full.Reason, show(lean.Value), lean.Status, lean.Reason)
		}
		if lean.Trend != (Trend{}) {
			t.Errorf("%s: trend %+v without the window before", m.ID, lean.Trend)
		}
		if full.Trend.Previous != nil {
			trends++
		}
	}
	if trends == 0 {
		t.Error("no metric has a previous window in the test data: the test shows nothing")
	}
}

func TestThresholdBoundaries(t *testing.T) {
	// Exactly on a bound meets it: 1/7 a day is amber, not red, and 1 a
	// day is green (deployment_frequency, higher is better); 15 % change
	// failure rate is amber (lower is better).
	cat := defaultCatalog(t)
	cases := []struct {
		id    string
		value float64
		want  catalog.Status
	}{
		{"deployment_frequency", 1.0 / 7, catalog.Amber},
		{"deployment_frequency", 1, catalog.Green},
		{"deployment_frequency", 0.14, catalog.Red},
		{"change_failure_rate", 15, catalog.Amber},
		{"change_failure_rate", 5, catalog.Green},
		{"change_failure_rate", 15.01, catalog.Red},
		{"emergency_retro_overdue", 1, catalog.Red},
	}
	for _, tc := range cases {
		m, _ := cat.Metric(tc.id)
		v := tc.value
		if got := m.Judge(catalog.JudgeInput{Value: &v}); got != tc.want {
			t.Errorf("%s at %v = %s, want %s", tc.id, tc.value, got, tc.want)
		}
	}
}

func TestUnknown(t *testing.T) {
	sc := build(t, org)
	cases := []struct {
		id, reason string
		hasValue   bool
	}{
		// No value: nothing to compute it from.
		{"deployment_duration", "no value", false},
		{"slo_compliance", "no value", false},
		{"cost_trend", "no value", false},
		// A count whose source never sent anything has no value (SPEC §4):
		// unknown, never a comfortable green zero.
		{"open_critical_vulnerabilities", "no vulnerability data: never sent", false},
		{"compliance_pass_rate", "no control data: never sent", false},
		{"open_escalations", "no ticket data: never sent", false},
		{"cost_per_active_customer", "no usage data: never sent", false},
	}
	for _, tc := range cases {
		c := card(t, sc, tc.id)
		if c.Status != catalog.Unknown {
			t.Errorf("%s status = %s, want unknown", tc.id, c.Status)
		}
		if !strings.Contains(c.Reason, tc.reason) {
			t.Errorf("%s reason = %q, want it to say %q", tc.id, c.Reason, tc.reason)
		}
		if (c.Value != nil) != tc.hasValue {
			t.Errorf("%s value = %s, want a value: %v", tc.id, show(c.Value), tc.hasValue)
		}
	}
	// Unknown is never green, and every card without a value or with stale
	// data is unknown with a reason.
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if (c.Value == nil || c.Freshness.Stale) && c.Status != catalog.Unknown {
				t.Errorf("%s (value %s, stale %v) has status %s, want unknown", c.ID, show(c.Value), c.Freshness.Stale, c.Status)
			}
			if c.Status == catalog.Unknown && c.Reason == "" {
				t.Errorf("%s is unknown without a reason", c.ID)
			}
		}
	}
}

// stale: deployments last finished 3 days before as_of, with the default
// 24 h freshness limit for deployments.
const stale = `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-28T00:00:00Z","status":"success"}
`

func TestStaleSource(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), stale)
	sc := Build(cat, ds, Options{AsOf: asOf})
	for _, id := range []string{"deployment_frequency", "deployment_success_rate", "rework_rate"} {
		c := card(t, sc, id)
		if c.Value == nil {
			t.Errorf("%s has no value; a stale source hides the colour, not the value", id)
		}
		if c.Status != catalog.Unknown {
			t.Errorf("%s status = %s, want unknown: deployments are 3 days old", id, c.Status)
		}
		if want := "no deployment data since 2026-03-28T00:00:00Z"; c.Reason != want {
			t.Errorf("%s reason = %q, want %q", id, c.Reason, want)
		}
		if !c.Freshness.Stale || c.Freshness.LastData == nil || !c.Freshness.LastData.Equal(asOf.Add(-3*day)) {
			t.Errorf("%s freshness = %+v, want stale with last data 3 days before as_of", id, c.Freshness)
		}
		if len(c.Freshness.Sources) != 1 || c.Freshness.Sources[0].Limit != "1d" {
			t.Errorf("%s sources = %+v, want deployment with a 1d limit", id, c.Freshness.Sources)
		}
	}
	// 2 deployments in 30 days is 1/15 a day: red if it were judged.
	if c := card(t, sc, "deployment_frequency"); c.Value == nil || !approx(*c.Value, 2.0/30) {
		t.Errorf("deployment_frequency = %s, want 2/30", show(c.Value))
	}
	// A level is a judgement: stale data earns none.
	if c := card(t, sc, "deployment_frequency"); c.DORALevel != "" {
		t.Errorf("deployment_frequency has DORA level %q from stale data", c.DORALevel)
	}

	// The same data as of one day after d2 is fresh and judged.
	sc = Build(cat, ds, Options{AsOf: time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)})
	if c := card(t, sc, "deployment_frequency"); c.Status != catalog.Red || c.Reason != "" {
		t.Errorf("fresh deployment_frequency = %s (%q), want red", c.Status, c.Reason)
	}

	// A configured freshness limit of 4 days makes the data current.
	cfg := metrics.DefaultConfig()
	cfg.Freshness = map[domain.Kind]time.Duration{domain.KindDeployment: 4 * day}
	sc = Build(cat, load(t, cfg, stale), Options{AsOf: asOf})
	c := card(t, sc, "deployment_frequency")
	if c.Status != catalog.Red || c.Freshness.Stale {
		t.Errorf("with a 4d limit deployment_frequency = %s (stale %v, %q), want red", c.Status, c.Freshness.Stale, c.Reason)
	}
	if c.Freshness.Sources[0].Limit != "4d" {
		t.Errorf("limit = %q, want 4d", c.Freshness.Sources[0].Limit)
	}

	// A second source with no data at all makes it unknown too:
	// change_failure_rate reads incidents as well.
	sc = Build(cat, load(t, cfg, stale), Options{AsOf: asOf})
	if c := card(t, sc, "change_failure_rate"); c.Status != catalog.Unknown || c.Reason != "no incident data: never sent" {
		t.Errorf("change_failure_rate without incident data = %s (%q), want unknown, no incident data", c.Status, c.Reason)
	}

	// Data stamped after as_of has not happened yet.
	sc = Build(cat, ds, Options{AsOf: time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC)})
	if c := card(t, sc, "deployment_frequency"); c.Status != catalog.Unknown || c.Reason != "no deployment data: never sent" {
		t.Errorf("before any deployment: %s (%q), want unknown, no deployment data", c.Status, c.Reason)
	}
}

// SPEC §4: a pillar is the worst of its metrics, an unknown one counting
// as amber — never green, and never "unknown" for the whole pillar while
// some of its metrics have values; the pillar says which are unknown and
// why. It is unknown only when none of its metrics has a value.
func TestPillarStatusIsTheWorst(t *testing.T) {
	sc := build(t, org)
	want := map[string]catalog.Status{
		// red beats unknown (deployment_duration) and green
		"delivery": catalog.Red,
		// amber (mttr), unknown (slo_compliance) counting as amber, green
		"reliability": catalog.Amber,
		// amber (budget_variance) and unknown (cost_trend)
		"cost": catalog.Amber,
	}
	for id, st := range want {
		if got := pillar(t, sc, id).Status; got != st {
			t.Errorf("pillar %s = %s, want %s", id, got, st)
		}
	}
	for _, p := range sc.Pillars {
		valued, unknown := false, map[string]string{}
		for _, c := range p.Metrics {
			valued = valued || c.Value != nil
			if c.Status == catalog.Unknown {
				unknown[c.ID] = c.Reason
			}
		}
		if !valued && p.Status != catalog.Unknown {
			t.Errorf("pillar %s has no value at all but is %s", p.ID, p.Status)
		}
		if valued && (p.Status == catalog.Unknown || len(unknown) > 0 && p.Status == catalog.Green) {
			t.Errorf("pillar %s with values and %d unknown metrics is %s", p.ID, len(unknown), p.Status)
		}
		if len(p.Unknown) != len(unknown) {
			t.Errorf("pillar %s lists %d unknown metrics, has %d", p.ID, len(p.Unknown), len(unknown))
		}
		for _, u := range p.Unknown {
			if r, ok := unknown[u.ID]; !ok || u.Reason != r || r == "" {
				t.Errorf("pillar %s lists %s unknown (%q); its card is %q", p.ID, u.ID, u.Reason, r)
			}
		}
	}
	if r := pillar(t, sc, "reliability"); len(r.Unknown) == 0 || r.Unknown[0].ID != "slo_compliance" || !strings.Contains(r.Unknown[0].Reason, "no value") {
		t.Errorf("reliability unknown = %+v, want slo_compliance first, and why", r.Unknown)
	}
	text := Text(sc, TextOptions{})
	if !strings.Contains(text, "AMBER  unknown: SLO compliance — no value") {
		t.Errorf("the reliability line does not name its unknown metric:\n%s", text)
	}
	b, _ := json.Marshal(pillar(t, sc, "reliability"))
	if !strings.Contains(string(b), `"unknown":[{"id":"slo_compliance","reason":"no value`) {
		t.Errorf("pillar JSON %s", b)
	}

	// Subsets of the catalog isolate the orders the full one cannot show.
	subset := func(ids ...string) *catalog.Catalog {
		cat := handCatalog(t)
		var ms []catalog.Metric
		for _, m := range cat.Metrics {
			if slices.Contains(ids, m.ID) {
				ms = append(ms, m)
			}
		}
		cat.Metrics = ms
		return cat
	}
	ds := load(t, metrics.DefaultConfig(), org)
	cases := []struct {
		ids  []string
		want catalog.Status
	}{
		{[]string{"availability", "error_rate"}, catalog.Green},
		{[]string{"availability", "incidents_p0_p1"}, catalog.Amber},                           // amber beats green
		{[]string{"availability", "incidents_p0_p1", "slo_compliance"}, catalog.Amber},         // unknown counts as amber
		{[]string{"availability", "slo_compliance"}, catalog.Amber},                            // never green with an unknown
		{[]string{"lead_time_for_changes", "rework_rate", "change_failure_rate"}, catalog.Red}, // one red is red
		{[]string{"change_failure_rate", "deployment_duration"}, catalog.Red},                  // red beats unknown
		{[]string{"slo_compliance", "deployment_duration"}, catalog.Unknown},                   // no value at all
	}
	for _, tc := range cases {
		sc := Build(subset(tc.ids...), ds, Options{AsOf: asOf})
		var got catalog.Status
		for _, p := range sc.Pillars {
			if len(p.Metrics) > 0 {
				got = p.Status
			}
		}
		if got != tc.want {
			t.Errorf("pillar of %v = %s, want %s", tc.ids, got, tc.want)
		}
	}
}

func TestTrend(t *testing.T) {
	sc := build(t, org)
	cases := []struct {
		id                    string
		previous              *float64
		direction, assessment string
	}{
		// higher is better, went up: 99.9 → 99.95
		{"availability", ptr(99.9), "up", "better"},
		// lower is better, went down: 0.1 → 0.05
		{"error_rate", ptr(0.1), "down", "better"},
		// lower is better, went up: 0 % (p1, p2 fine) → 50 %
		{"change_failure_rate", ptr(0), "up", "worse"},
		// higher is better, went up: 2/30 → 3/30
		{"deployment_frequency", ptr(2.0 / 30), "up", "better"},
		// lower is better, flat: no rework in either window
		{"rework_rate", ptr(0), "flat", "same"},
		// no value in the window before: no trend
		{"mttr", nil, "", ""},
	}
	for _, tc := range cases {
		c := card(t, sc, tc.id)
		if (c.Trend.Previous == nil) != (tc.previous == nil) || (tc.previous != nil && !approx(*c.Trend.Previous, *tc.previous)) {
			t.Errorf("%s previous = %s, want %s", tc.id, show(c.Trend.Previous), show(tc.previous))
		}
		if c.Trend.Direction != tc.direction || c.Trend.Assessment != tc.assessment {
			t.Errorf("%s trend = %s/%s, want %s/%s", tc.id, c.Trend.Direction, c.Trend.Assessment, tc.direction, tc.assessment)
		}
	}
	// Lower-better going down is better; higher-better going down is worse.
	if tr := trend(catalog.Lower, ptr(1), ptr(2)); tr.Direction != "down" || tr.Assessment != "better" {
		t.Errorf("lower-better 2 → 1 = %+v", tr)
	}
	if tr := trend(catalog.Higher, ptr(1), ptr(2)); tr.Direction != "down" || tr.Assessment != "worse" {
		t.Errorf("higher-better 2 → 1 = %+v", tr)
	}
}

func ptr(v float64) *float64 { return &v }

func TestSeries(t *testing.T) {
	sc := build(t, org)
	c := card(t, sc, "availability")
	if len(c.Series) != SeriesPoints || SeriesPoints != 12 {
		t.Fatalf("series has %d points, want 12", len(c.Series))
	}
	for k, p := range c.Series {
		end := asOf.Add(-time.Duration(11-k) * 7 * day)
		if !p.End.Equal(end) || !p.Start.Equal(end.Add(-7*day)) {
			t.Errorf("point %d = [%s, %s), want [%s, %s)", k, p.Start, p.End, end.Add(-7*day), end)
		}
	}
	// Oldest first: point 11 is [03-24, 03-31) and holds s1; point 5 is
	// [02-10, 02-17) and holds s0; no other week has SLI data.
	for k, p := range c.Series {
		switch k {
		case 11:
			if p.Value == nil || !approx(*p.Value, 99.95) {
				t.Errorf("newest point = %s, want 99.95", show(p.Value))
			}
		case 5:
			if p.Value == nil || !approx(*p.Value, 99.9) {
				t.Errorf("point 5 [%s, %s) = %s, want 99.9 (s0)", p.Start, p.End, show(p.Value))
			}
		default:
			if p.Value != nil {
				t.Errorf("point %d [%s, %s) = %s, want no value", k, p.Start, p.End, show(p.Value))
			}
		}
	}
	// A count over each week: deployments a day in each 7-day window.
	// p1 finished 02-10T00:00 exactly, the start of point 5's window, so it
	// is in it (half-open windows); d2 failed and does not count. Points 0–3
	// end before p1, the first deployment: no deployment data yet, so no
	// value (SPEC §4); point 4 ends at p1, which exists then: 0.
	f := card(t, sc, "deployment_frequency").Series
	want := map[int]float64{11: 1.0 / 7, 10: 1.0 / 7, 8: 1.0 / 7, 5: 2.0 / 7}
	for k, p := range f {
		w := want[k]
		if k < 4 {
			if p.Value != nil {
				t.Errorf("deployment_frequency point %d [%s, %s) = %s before any deployment, want no value", k, p.Start.Format(time.DateOnly), p.End.Format(time.DateOnly), show(p.Value))
			}
			continue
		}
		if p.Value == nil || !approx(*p.Value, w) {
			t.Errorf("deployment_frequency point %d [%s, %s) = %s, want %v", k, p.Start.Format(time.DateOnly), p.End.Format(time.DateOnly), show(p.Value), w)
		}
	}
}

// weekly SLIs, worsening for three weeks while still green.
func degradingData(values ...int) string {
	var b strings.Builder
	// The newest value is in the week ending at as_of, fresh.
	for k, good := range values {
		end := asOf.Add(-time.Duration(len(values)-1-k) * 7 * day)
		start := end.Add(-24 * time.Hour)
		fmt.Fprintf(&b, `{"kind":"sli","id":"w%d","service":"api","period_start":"%s","period_end":"%s","good":%d,"total":100000}`+"\n",
			k, start.Format(time.RFC3339), end.Add(-12*time.Hour).Format(time.RFC3339), good)
	}
	return b.String()
}

func TestDegrading(t *testing.T) {
	pts := func(vals ...any) []Point {
		out := make([]Point, len(vals))
		for i, v := range vals {
			if f, ok := v.(float64); ok {
				out[i].Value = ptr(f)
			}
		}
		return out
	}
	cases := []struct {
		name   string
		better string
		pts    []Point
		want   bool
	}{
		{"three worse weeks, higher better", catalog.Higher, pts(10.0, 9.0, 8.0, 7.0), true},
		{"exactly the last three, after an improvement", catalog.Higher, pts(1.0, 5.0, 10.0, 9.0, 8.0, 7.0), true},
		{"three worse weeks, lower better", catalog.Lower, pts(1.0, 2.0, 3.0, 4.0), true},
		{"only two worse weeks", catalog.Higher, pts(10.0, 10.0, 9.0, 8.0), false},
		{"a flat week", catalog.Higher, pts(10.0, 9.0, 9.0, 8.0), false},
		{"flat at the end", catalog.Higher, pts(10.0, 9.0, 8.0, 8.0), false},
		{"an improved week", catalog.Higher, pts(10.0, 9.0, 9.5, 8.0), false},
		{"improving, lower better", catalog.Lower, pts(4.0, 3.0, 2.0, 1.0), false},
		{"a missing week", catalog.Higher, pts(10.0, 9.0, nil, 7.0), false},
		{"missing newest", catalog.Higher, pts(10.0, 9.0, 8.0, nil), false},
		{"too short", catalog.Higher, pts(9.0, 8.0, 7.0), false},
		{"earlier worsening does not count", catalog.Higher, pts(10.0, 9.0, 8.0, 7.0, 8.0), false},
	}
	changed := pts(10.0, 9.0, 8.0, 7.0)
	changed[2].NotComparable = "the computation changed since the window before"
	cases = append(cases, struct {
		name   string
		better string
		pts    []Point
		want   bool
	}{"a week computed by another definition", catalog.Higher, changed, false})
	for _, tc := range cases {
		if got := Degrading(tc.better, tc.pts); got != tc.want {
			t.Errorf("%s: Degrading = %v, want %v", tc.name, got, tc.want)
		}
	}

	// On the scorecard: availability 99.99, 99.98, 99.97, 99.96 in the last
	// four weeks is still green but degrading.
	sc := build(t, degradingData(99990, 99980, 99970, 99960))
	c := card(t, sc, "availability")
	if c.Status != catalog.Green || !c.Degrading {
		t.Errorf("availability = %s %s degrading %v, want green and degrading (series %v)", show(c.Value), c.Status, c.Degrading, seriesValues(c.Series))
	}
	// error_rate (lower better) rose in the same weeks: degrading too.
	if c := card(t, sc, "error_rate"); !c.Degrading {
		t.Errorf("error_rate not degrading (series %v)", seriesValues(c.Series))
	}
	// One flat week in between: not degrading.
	sc = build(t, degradingData(99990, 99980, 99980, 99960))
	if c := card(t, sc, "availability"); c.Degrading {
		t.Errorf("availability with a flat week is degrading (series %v)", seriesValues(c.Series))
	}
	// Only two worse weeks.
	sc = build(t, degradingData(99970, 99970, 99965, 99960))
	if c := card(t, sc, "availability"); c.Degrading {
		t.Errorf("availability with two worse weeks is degrading (series %v)", seriesValues(c.Series))
	}
}

func seriesValues(ps []Point) []string {
	var out []string
	for _, p := range ps {
		out = append(out, show(p.Value))
	}
	return out
}

func TestHeadline(t *testing.T) {
	cat := defaultCatalog(t)
	sc := build(t, org)
	if len(sc.Headline) == 0 || len(sc.Headline) > 7 {
		t.Fatalf("headline = %v, want 1 to 7 metrics", sc.Headline)
	}
	var want []string
	for _, m := range cat.Headline() {
		want = append(want, m.ID)
	}
	slices.Sort(want)
	got := slices.Clone(sc.Headline)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("headline = %v, want the catalog's %v", sc.Headline, want)
	}
	for _, id := range sc.Headline {
		if !card(t, sc, id).Headline {
			t.Errorf("%s is in the headline but its card says headline false", id)
		}
	}
}

func TestJSON(t *testing.T) {
	cat := defaultCatalog(t)
	sc := build(t, org)
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AsOf    string `json:"as_of"`
		Window  string `json:"window"`
		Pillars []struct {
			ID      string                       `json:"id"`
			Status  string                       `json:"status"`
			Metrics []map[string]json.RawMessage `json:"metrics"`
		} `json:"pillars"`
		DORA map[string]json.RawMessage `json:"dora"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AsOf != "2026-03-31T00:00:00Z" || doc.Window != "30d" {
		t.Errorf("as_of %q window %q", doc.AsOf, doc.Window)
	}
	if len(doc.Pillars) != len(cat.Pillars) {
		t.Errorf("%d pillars, want %d", len(doc.Pillars), len(cat.Pillars))
	}
	seen := map[string]int{}
	keys := []string{"id", "name", "value", "unit", "status", "target", "thresholds", "trend", "series", "owner", "headline", "freshness"}
	for _, p := range doc.Pillars {
		for _, m := range p.Metrics {
			var id string
			json.Unmarshal(m["id"], &id)
			seen[id]++
			for _, k := range keys {
				if _, ok := m[k]; !ok {
					t.Errorf("%s has no %q key", id, k)
				}
			}
			var owner string
			json.Unmarshal(m["owner"], &owner)
			if owner == "" {
				t.Errorf("%s has no owner", id)
			}
			var series []json.RawMessage
			json.Unmarshal(m["series"], &series)
			if len(series) != 12 {
				t.Errorf("%s series has %d points", id, len(series))
			}
		}
	}
	for _, m := range cat.Metrics {
		if seen[m.ID] != 1 {
			t.Errorf("%s appears %d times, want once", m.ID, seen[m.ID])
		}
	}
	if len(seen) != len(cat.Metrics) {
		t.Errorf("%d metrics on the scorecard, catalog has %d", len(seen), len(cat.Metrics))
	}
	// value is null (not 0, not absent) without a value; a number with one.
	for _, p := range doc.Pillars {
		for _, m := range p.Metrics {
			var id string
			json.Unmarshal(m["id"], &id)
			switch id {
			case "deployment_duration", "slo_compliance":
				if string(m["value"]) != "null" {
					t.Errorf("%s value = %s, want null", id, m["value"])
				}
			case "change_failure_rate":
				if string(m["value"]) != "50" {
					t.Errorf("%s value = %s, want 50", id, m["value"])
				}
				if string(m["status"]) != `"red"` {
					t.Errorf("%s status = %s", id, m["status"])
				}
			case "infrastructure_cost":
				if string(m["thresholds"]) != "null" || string(m["judged_by"]) != `"budget_variance"` {
					t.Errorf("infrastructure_cost thresholds %s judged_by %s", m["thresholds"], m["judged_by"])
				}
			}
		}
	}
}

func TestDORA(t *testing.T) {
	sc := build(t, org)
	wantKeys := map[string]string{
		"deployment_frequency":            "high",
		"lead_time_for_changes":           "elite",
		"change_failure_rate":             "low",
		"failed_deployment_recovery_time": "medium",
	}
	if fmt.Sprint(sc.DORA.Keys) != fmt.Sprint(wantKeys) {
		t.Errorf("DORA keys = %v, want %v", sc.DORA.Keys, wantKeys)
	}
	if sc.DORA.Overall != "low" {
		t.Errorf("DORA overall = %q, want low (the lowest key)", sc.DORA.Overall)
	}
	for id, lvl := range wantKeys {
		if c := card(t, sc, id); c.DORALevel != lvl {
			t.Errorf("%s card level = %q, want %q", id, c.DORALevel, lvl)
		}
	}

	// Without d2, and with i3 on web (which never deploys), nothing failed:
	// CFR 0 % elite, no recovery time, so only three keys have a level and
	// there is no overall level.
	sc = build(t, strings.Replace(without(org, "d2"), `"id":"i3","service":"api"`, `"id":"i3","service":"web"`, 1))
	if _, ok := sc.DORA.Keys["failed_deployment_recovery_time"]; ok || len(sc.DORA.Keys) != 3 {
		t.Errorf("DORA keys = %v, want three without recovery time", sc.DORA.Keys)
	}
	if sc.DORA.Keys["change_failure_rate"] != "elite" {
		t.Errorf("CFR level = %q, want elite", sc.DORA.Keys["change_failure_rate"])
	}
	if sc.DORA.Overall != "" {
		t.Errorf("DORA overall = %q with a key missing, want none", sc.DORA.Overall)
	}
	b, _ := json.Marshal(sc.DORA)
	if strings.Contains(string(b), "overall") {
		t.Errorf("DORA JSON %s has overall with a key missing", b)
	}

	// Without the change there is no lead time: no overall level either.
	sc = build(t, without(org, "c1"))
	if sc.DORA.Overall != "" || len(sc.DORA.Keys) != 3 {
		t.Errorf("without lead time: DORA = %+v, want three keys and no overall", sc.DORA)
	}
}

func TestJudgedBy(t *testing.T) {
	sc := build(t, org)
	cost, bv := card(t, sc, "infrastructure_cost"), card(t, sc, "budget_variance")
	if cost.JudgedBy != "budget_variance" || cost.Status != bv.Status || cost.Status != catalog.Amber {
		t.Errorf("infrastructure_cost = %s (judged by %q), budget_variance = %s; want both amber", cost.Status, cost.JudgedBy, bv.Status)
	}
	// Over budget by 20 %: red for both.
	sc = build(t, strings.Replace(org, `"amount":1050`, `"amount":1200`, 1))
	if c := card(t, sc, "infrastructure_cost"); c.Status != catalog.Red {
		t.Errorf("infrastructure_cost 20 %% over budget = %s, want red", c.Status)
	}
	// Under budget: green.
	sc = build(t, strings.Replace(org, `"amount":1050`, `"amount":900`, 1))
	if c := card(t, sc, "infrastructure_cost"); c.Status != catalog.Green {
		t.Errorf("infrastructure_cost under budget = %s, want green", c.Status)
	}
	// No budget: budget_variance has no value, so the cost cannot be
	// judged and says why.
	sc = build(t, without(org, "b1"))
	c := card(t, sc, "infrastructure_cost")
	if c.Status != catalog.Unknown || !strings.Contains(c.Reason, "budget_variance") {
		t.Errorf("infrastructure_cost without a budget = %s (%q), want unknown naming budget_variance", c.Status, c.Reason)
	}
	if c.Value == nil || *c.Value != 1050 {
		t.Errorf("infrastructure_cost = %s, want 1050 still shown", show(c.Value))
	}
}

func TestWindowOption(t *testing.T) {
	ds := load(t, metrics.DefaultConfig(), org)
	sc := Build(handCatalog(t), ds, Options{AsOf: asOf, Window: 7 * day})
	if sc.Window != "7d" {
		t.Errorf("window = %q, want 7d", sc.Window)
	}
	c := card(t, sc, "deployment_frequency")
	// [03-24, 03-31): d4 only.
	if c.Window != "7d" || c.Value == nil || !approx(*c.Value, 1.0/7) {
		t.Errorf("7d deployment_frequency = %s (window %s), want 1/7", show(c.Value), c.Window)
	}
}

func TestDetail(t *testing.T) {
	cat := handCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	opt := Options{AsOf: asOf}

	d, err := Detail(cat, ds, "change_failure_rate", opt, "team", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Definition.ID != "change_failure_rate" || d.Definition.Owner == "" || d.Definition.Formula == "" {
		t.Errorf("definition = %+v", d.Definition)
	}
	if fmt.Sprint(d.Definition.Sources) != "[deployment incident]" {
		t.Errorf("sources = %v", d.Definition.Sources)
	}
	if d.Card.Value == nil || *d.Card.Value != 50 || d.Card.Status != catalog.Red {
		t.Errorf("card = %s %s", show(d.Card.Value), d.Card.Status)
	}
	var ids []string
	for _, r := range d.Records {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	if fmt.Sprint(ids) != "[d1 d2 d3 d4]" {
		t.Errorf("records = %v, want d1..d4", ids)
	}
	lines := map[string]BreakdownLine{}
	for _, l := range d.Breakdown {
		lines[l.Key] = l
	}
	if l := lines["core"]; l.Value == nil || *l.Value != 50 || l.Status != catalog.Red || l.Count != 4 {
		t.Errorf("core = %+v (%s), want 50 %% red over 4", l, show(l.Value))
	}
	if l, ok := lines["growth"]; !ok || l.Value != nil || l.Status != catalog.Unknown {
		t.Errorf("growth = %+v, want a line with no value, unknown", l)
	}
	text := DetailText(d, TextOptions{})
	for _, want := range []string{"Change failure rate", "By team:", "core", "growth", "Records behind the value (4)", "deployment import/d2"} {
		if !strings.Contains(text, want) {
			t.Errorf("detail text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Errorf("detail text has ANSI escapes without colour")
	}
	// A definition naming no effective date (an organisation's own)
	// reads as in effect for all data, not as effective in 1970.
	undated := *d
	undated.Definition.Effective = catalog.FromTheStart
	if text := DetailText(&undated, TextOptions{}); !strings.Contains(text, ", v1 in effect for all data") || strings.Contains(text, "1970") {
		t.Errorf("an undated definition's heading: %s", strings.SplitN(text, "\n", 2)[0])
	}

	// A scope narrows the value and the records.
	d, err = Detail(cat, ds, "change_failure_rate", opt, "", metrics.Scope{Dim: "team", Value: "growth"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Value != nil || len(d.Records) != 0 || d.Scope == nil {
		t.Errorf("growth scope: value %s, %d records, scope %v", show(d.Card.Value), len(d.Records), d.Scope)
	}

	// Bad dimensions and ids are errors naming what is allowed.
	if _, err := Detail(cat, ds, "change_failure_rate", opt, "bogus", metrics.Scope{}); err == nil ||
		!strings.Contains(err.Error(), "team, service, environment, tier") {
		t.Errorf("by bogus: %v, want the supported dimensions", err)
	}
	if _, err := Detail(cat, ds, "nope", opt, "", metrics.Scope{}); err == nil {
		t.Errorf("unknown metric: no error")
	}

	// A judged metric shows the other metric's status in its drill-down too.
	d, err = Detail(cat, ds, "infrastructure_cost", opt, "category", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Status != catalog.Amber {
		t.Errorf("infrastructure_cost drill-down = %s (%q), want amber as on the scorecard", d.Card.Status, d.Card.Reason)
	}
	for _, l := range d.Breakdown {
		if l.Status != catalog.Amber {
			t.Errorf("infrastructure_cost %s line = %s, want amber (budget_variance of the category)", l.Key, l.Status)
		}
	}
}

func TestText(t *testing.T) {
	cat := defaultCatalog(t)
	sc := build(t, org)
	text := Text(sc, TextOptions{All: true})
	for _, p := range cat.Pillars {
		if !strings.Contains(text, p.Name) {
			t.Errorf("text lacks pillar %q", p.Name)
		}
	}
	for _, m := range cat.Metrics {
		if !strings.Contains(text, m.Name) {
			t.Errorf("--all text lacks metric %q", m.Name)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Errorf("text has ANSI escapes without colour")
	}
	// Each card says how current its data is, as the pages' cards do (the

	for _, want := range []string{"as of 2026-03-31T00:00:00Z", "DORA performance: low", "no vulnerability data", "UNKNOWN", "RED", "GREEN", "AMBER", "data as of 2026-03-30 12:00"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	// One word for the state (SPEC §4), whether or not there is a value.
	if strings.Contains(text, "NO DATA") {
		t.Errorf("text says NO DATA; the state is UNKNOWN:\n%s", text)
	}
	if c := Text(sc, TextOptions{Color: true}); !strings.Contains(c, "\x1b[31m") {
		t.Errorf("colour text has no red escape")
	}
	// The one-page view without --all still shows every red and unknown
	// metric, and says of Growth, when no revenue data exists, only that
	// (TestGrowthWithoutRevenueData).
	short := Text(sc, TextOptions{})
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if p.ID != "growth" && (c.Status == catalog.Red || c.Status == catalog.Unknown) && !strings.Contains(short, c.Name) {
				t.Errorf("one-page text hides %s %s", c.Status, c.ID)
			}
		}
	}
	if !strings.Contains(short, "Growth & Revenue") || strings.Contains(short, "Annual recurring revenue") {
		t.Errorf("one-page text shows Growth's metrics without revenue data, or no Growth at all:\n%s", short)
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		v    *float64
		unit string
		want string
	}{
		{nil, "%", "—"},
		{ptr(50), "%", "50 %"},
		{ptr(12.345), "%", "12.35 %"},
		{ptr(1.26), "hours", "1.3 h"},
		{ptr(3), "count", "3"},
		{ptr(17.41935483870968), "count", "17.42"}, // a prorated target
		{ptr(1234567.4), "currency", "1,234,567 USD"},
		{ptr(-1500), "currency", "-1,500 USD"},
		{ptr(816.4), "currency/30d", "816.40 USD/30d"},
		// Cents round half away from zero, as whole units and the MRR
		// bridge do: strconv's tie to even had made these 442.12 and -0.12.
		{ptr(442.125), "currency", "442.13 USD"},
		{ptr(-0.125), "currency", "-0.13 USD"},
		{ptr(1816.4), "currency/30d", "1,816 USD/30d"},
		{ptr(12), "currency", "12 USD"},
		{ptr(0.1), "deploys/day", "0.1/day"},
		{ptr(12), "points", "+12"},
		// A true minus, as Signed writes, and 0 without a sign.
		{ptr(-20), "points", "−20"},
		{ptr(0), "points", "0"},
		{ptr(-0.4), "points", "0"},
		// Never rounded up to a whole number it falls short of: a
		// coverage of 0.9965 had read "1×", covered.
		{ptr(0.99654), "x", "0.997×"},
		{ptr(99.9996), "%", "99.9996 %"},
		{ptr(99.99999), "%", "99.99999 %"},
		{ptr(1.004), "x", "1×"},
		{ptr(1.96), "x", "1.96×"},
		{ptr(-0.9999), "count", "-0.9999"},
	}
	for _, tc := range cases {
		if got := FormatValue(tc.v, tc.unit, ""); got != tc.want {
			t.Errorf("FormatValue(%s, %s) = %q, want %q", show(tc.v), tc.unit, got, tc.want)
		}
	}
}

// A scale's labels round as numbers round, in the unit FormatValue writes:
// a tick is no reported figure, and the board pack's axis has ten
// characters (999.9996 ms had been cut before its unit).
func TestScaleValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{999.9996, "ms", "1000 ms"},
		{99.9996, "%", "100 %"},
		{0.99654, "x", "1×"},
		{12.345, "%", "12.35 %"},
		{1.26, "hours", "1.3 h"},
		{1234567.4, "currency", "1,234,567 EUR"},
		{-20, "points", "−20"},
	} {
		if got := ScaleValue(tc.v, tc.unit, "EUR"); got != tc.want {
			t.Errorf("ScaleValue(%v, %s) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
		if n := len([]rune(ScaleValue(tc.v, tc.unit, "EUR"))); tc.unit != "currency" && n > 10 {
			t.Errorf("ScaleValue(%v, %s) is %d characters: past the board pack's axis", tc.v, tc.unit, n)
		}
	}
}

// A records table's amounts round their cents as a card does, half away
// from zero: 4,360.125 had read "4,360.12".
func TestAmountTextRoundsHalfAway(t *testing.T) {
	for v, want := range map[float64]string{4360.125: "4,360.13", -0.125: "-0.13", 20000: "20,000.00", 10038.9331: "10,038.93"} {
		if got := Amount(v); got != want {
			t.Errorf("Amount(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestPriorityAndSignoff: every card says its priority and sign-off state (SPEC §5), a pillar
// lists its cards by priority in catalog order within one, and the headline is unaffected.
func TestPriorityAndSignoff(t *testing.T) {
	cat := defaultCatalog(t)
	sc := build(t, org)
	for _, p := range sc.Pillars {
		var want []string
		for _, m := range cat.PillarMetrics(p.ID) {
			want = append(want, m.ID)
		}
		var got []string
		for i, c := range p.Metrics {
			got = append(got, c.ID)
			m, _ := cat.Metric(c.ID)
			if c.Priority != m.Priority || c.Signoff != m.Signoff || c.SignoffBy != m.SignoffBy || c.Priority == "" {
				t.Errorf("%s card: priority %q signoff %q by %q; catalog %q %q %q", c.ID, c.Priority, c.Signoff, c.SignoffBy, m.Priority, m.Signoff, m.SignoffBy)
			}
			if i > 0 && catalog.PriorityRank(p.Metrics[i-1].Priority) > catalog.PriorityRank(c.Priority) {
				t.Errorf("pillar %s: %s (%s) before %s (%s)", p.ID, p.Metrics[i-1].ID, p.Metrics[i-1].Priority, c.ID, c.Priority)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pillar %s cards %v, want %v", p.ID, got, want)
		}
	}
	// Reliability's P0s (availability, incidents) lead; the file lists slo_compliance second.
	if rel := pillar(t, sc, "reliability"); rel.Metrics[1].ID != "incidents_p0_p1" {
		t.Errorf("reliability's second card is %s, want the P0 incidents_p0_p1", rel.Metrics[1].ID)
	}
	b, _ := json.Marshal(card(t, sc, "arr"))
	for _, kv := range []string{`"priority":"P0"`, `"signoff":"assumed"`, `"signoff_by":"finance"`} {
		if !strings.Contains(string(b), kv) {
			t.Errorf("arr card JSON lacks %s: %s", kv, b)
		}
	}
	text := Text(sc, TextOptions{All: true})
	if !strings.Contains(text, "P0 · sign-off assumed (finance)") {
		t.Errorf("text cards lack priority and sign-off:\n%s", text)
	}
	d, err := Detail(cat, load(t, metrics.DefaultConfig(), org), "change_failure_rate", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Definition.Priority != "P0" || d.Definition.Signoff != "assumed" || d.Definition.SignoffBy != "engineering" {
		t.Errorf("definition priority %q signoff %q by %q", d.Definition.Priority, d.Definition.Signoff, d.Definition.SignoffBy)
	}
	if dt := DetailText(d, TextOptions{}); !strings.Contains(dt, "Priority P0 · sign-off assumed (engineering)") {
		t.Errorf("metric text lacks priority and sign-off:\n%s", dt)
	}
}

// A metric whose value sums over its window is judged against its target
// and absolute thresholds scaled to the window asked: a year's churned MRR
// is not red against a target set for 30 days, nor a year's P0/P1
// incidents against a bar of two. Other metrics, and the definition's own
// window, keep them as they are.
func TestWindowScalesWhatSumsOverIt(t *testing.T) {
	data := org + `{"kind":"incident","id":"p1","service":"api","severity":"P1","opened_at":"2026-03-20T00:00:00Z","resolved_at":"2026-03-20T01:00:00Z"}
{"kind":"incident","id":"p2","service":"api","severity":"P0","opened_at":"2026-03-25T00:00:00Z","resolved_at":"2026-03-25T01:00:00Z"}
{"kind":"subscription","id":"sa","customer":"a","started_at":"2025-01-01T00:00:00Z","ended_at":"2026-03-20T00:00:00Z","mrr":100}
{"kind":"subscription","id":"sb","customer":"b","started_at":"2025-01-01T00:00:00Z","mrr":300}
`
	ds := load(t, metrics.DefaultConfig(), data)
	cat := handCatalog(t)
	metric := func(id string) *catalog.Metric {
		m, ok := cat.Metric(id)
		if !ok {
			t.Fatalf("no %s", id)
		}
		return m
	}
	churn := *metric("mrr_churn")
	churn.Target = ptr(50.0)
	year := 365 * day

	// 30 days: three P0/P1 incidents against green 0, amber ≤ 2; churn of
	// 100 against a target of 50.
	c := Evaluate(ds, metric("incidents_p0_p1"), Options{AsOf: asOf}, metrics.Scope{}, false)
	if c.Status != catalog.Red || c.ScaledFrom != "" || c.Thresholds.Amber != 2 {
		t.Errorf("30d incidents_p0_p1: %s, scaled from %q, amber %v; want red on the definition's thresholds", c.Status, c.ScaledFrom, c.Thresholds.Amber)
	}
	c = Evaluate(ds, &churn, Options{AsOf: asOf}, metrics.Scope{}, false)
	if c.Status != catalog.Red || c.Target == nil || *c.Target != 50 {
		t.Errorf("30d mrr_churn: %s against %s, want red against 50", c.Status, show(c.Target))
	}

	// A year: the same three incidents against amber ≤ 2 × 365/30.
	c = Evaluate(ds, metric("incidents_p0_p1"), Options{AsOf: asOf, Window: year}, metrics.Scope{}, false)
	if c.Status != catalog.Amber || c.ScaledFrom != "30d" || !approx(c.Thresholds.Amber, 2*365.0/30) || c.Thresholds.Green != 0 {
		t.Errorf("365d incidents_p0_p1: %s, scaled from %q, thresholds %+v; want amber on thresholds × 365/30", c.Status, c.ScaledFrom, *c.Thresholds)
	}
	if got := catalog.ThresholdRule(c.ShownThresholds(), c.Better, c.Unit) + c.Scaled(); got != "green ≤ 0, amber ≤ 24.33, red above (set for 30 days, scaled to the window)" {
		t.Errorf("365d incidents_p0_p1's rule reads %q", got)
	}
	c = Evaluate(ds, &churn, Options{AsOf: asOf, Window: year}, metrics.Scope{}, false)
	if c.Status != catalog.Green || c.Target == nil || !approx(*c.Target, 50*365.0/30) || c.ScaledFrom != "30d" {
		t.Errorf("365d mrr_churn: %s against %s, want green against 50 × 365/30", c.Status, show(c.Target))
	}
	// A target from target records is theirs for the window, prorated,
	// not multiplied: a quarter's 30,000 at a 90-day window is 30,000 (89
	// of the window's days lie in the quarter, the rate taken over the
	// 90), not 90,000; at the definition's 30 days it is a third of the
	// quarter's, where the record covering as_of had been taken whole.
	withTarget := load(t, metrics.DefaultConfig(), data+`{"kind":"target","id":"q1","metric":"mrr_churn","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":30000}
`)
	c = Evaluate(withTarget, metric("mrr_churn"), Options{AsOf: asOf, Window: 90 * day}, metrics.Scope{}, false)
	if c.Target == nil || !approx(*c.Target, 30000) || !c.TargetProrated || !strings.Contains(c.Scaled(), "prorated") {
		t.Errorf("90d mrr_churn against a quarter's target record: target %s, prorated %v, %q", show(c.Target), c.TargetProrated, c.Scaled())
	}
	c = Evaluate(withTarget, metric("mrr_churn"), Options{AsOf: asOf}, metrics.Scope{}, false)
	if c.Target == nil || !approx(*c.Target, 10000) {
		t.Errorf("30d mrr_churn's quarter target record: %s, want a third of it", show(c.Target))
	}
	// Not a sum: the same thresholds whatever the window.
	c = Evaluate(ds, metric("change_failure_rate"), Options{AsOf: asOf, Window: year}, metrics.Scope{}, false)
	if c.ScaledFrom != "" || c.Thresholds.Amber != 15 {
		t.Errorf("365d change_failure_rate scaled from %q, amber %v", c.ScaledFrom, c.Thresholds.Amber)
	}
}
