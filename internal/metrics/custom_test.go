package metrics

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// builtinsAsCustom are SPEC §3's expressiveness test: six built-ins
// written as organisation-defined metrics. The ids carry a prefix, as a
// custom metric may not take a built-in's id.
var builtinsAsCustom = []struct {
	builtin string
	def     CustomDef
}{
	{"deployment_frequency", CustomDef{ID: "my_deployment_frequency", Kind: domain.KindDeployment, Time: "finished_at",
		Filter: `status != "failure"`, Aggregate: AggregateCountPerDay}},
	{"mttr", CustomDef{ID: "my_mttr", Kind: domain.KindIncident, Time: "resolved_at",
		Value: `hours(resolved_at.value() - opened_at)`, Aggregate: AggregateMedian}},
	{"incidents_p0_p1", CustomDef{ID: "my_incidents_p0_p1", Kind: domain.KindIncident, Time: "opened_at",
		Filter: `severity in ["P0", "P1"]`, Aggregate: AggregateCount}},
	{"csat", CustomDef{ID: "my_csat", Kind: domain.KindSurvey, Time: "at",
		Filter: `type.lowerAscii() == "csat"`, Aggregate: AggregateShare, Matching: `score >= 4`}},
	{"sla_adherence", CustomDef{ID: "my_sla_adherence", Kind: domain.KindTicket, Time: "resolved_at",
		Filter: `sla_due_at.hasValue()`, Aggregate: AggregateShare, Matching: `resolved_at.value() <= sla_due_at.value()`}},
	{"open_escalations", CustomDef{ID: "my_open_escalations", Kind: domain.KindTicket, Time: TimeState,
		Filter: `escalated && !resolved_at.hasValue()`, Aggregate: AggregateCount}},
}

// stateAsCustom are built-ins that stand at as_of, written as definitions: records that exist
// at as_of whatever their age. mrr adds money in floating point where the built-in adds whole
// Money units, so it is compared to 1e-9 of its value.
var stateAsCustom = []struct {
	builtin string
	def     CustomDef
}{
	{"open_critical_vulnerabilities", CustomDef{ID: "my_open_critical", Kind: domain.KindVulnerability, Time: TimeState,
		Filter: `severity == "critical" && !fixed_at.hasValue()`, Aggregate: AggregateCount}},
	{"open_high_vulnerabilities", CustomDef{ID: "my_open_high", Kind: domain.KindVulnerability, Time: TimeState,
		Filter: `severity == "high" && !fixed_at.hasValue()`, Aggregate: AggregateCount}},
	{"mrr", CustomDef{ID: "my_mrr", Kind: domain.KindSubscription, Time: TimeState, Filter: "!ended_at.hasValue()", Value: "mrr", Aggregate: AggregateSum}},
}

// customDataset is generated data (seed 1, a small scale) under a
// configuration carrying defs.
func customDataset(t testing.TB, scale float64, end time.Time, defs ...CustomDef) *Dataset {
	t.Helper()
	d := NewDataset(configWith(t, defs...))
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: scale, End: end}, func(r domain.Record) {
		d.Apply(r, time.Time{})
	}); err != nil {
		t.Fatal(err)
	}
	d.Prepare()
	return d
}

func TestCustomMetricsMatchTheBuiltIns(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var defs []CustomDef
	pairs := append(slices.Clone(builtinsAsCustom), stateAsCustom...)
	// And the sales pairs the benchmark compares: their windows are on
	// closed_at and mql_at, which are walked by orders of their own.
	for _, c := range comparableCustom {
		if slices.Contains([]string{"win_rate", "mql_volume", "sales_cycle_length"}, c.builtin) {
			pairs = append(pairs, c)
		}
	}
	for _, c := range pairs {
		defs = append(defs, c.def)
	}
	d := customDataset(t, 0.02, end, defs...)
	windows := []time.Duration{day, 7 * day, 30 * day, 90 * day}
	compared, nonZero := 0, 0
	for _, c := range pairs {
		dims := d.Dims(c.builtin)
		scopes := []Scope{{}}
		for _, dim := range []string{"team", "service", "priority", "origin", "plan"} {
			if !slices.Contains(dims, dim) {
				continue
			}
			vals := d.DimValues(dim)
			for i, v := range vals {
				if i < 3 {
					scopes = append(scopes, Scope{Dim: dim, Value: v})
				}
			}
		}
		for step := 0; step < 40; step++ {
			// as_of at odd hours over a year: mid-window resolutions,
			// escalations open at one as_of and closed at the next.
			asOf := end.Add(-time.Duration(step) * (9*day + 7*time.Hour + 13*time.Minute))
			for _, w := range windows {
				for _, s := range scopes {
					q := Query{AsOf: asOf, Window: w, Scope: s}
					want, err := d.Compute(c.builtin, q)
					if err != nil {
						t.Fatal(err)
					}
					got, err := d.Compute(c.def.ID, q)
					if err != nil {
						t.Fatal(err)
					}
					compared++
					if want.Value != nil && *want.Value != 0 {
						nonZero++
					}
					same := got.Value != nil && want.Value != nil && *got.Value == *want.Value
					if c.builtin == "mrr" && got.Value != nil && want.Value != nil {
						same = math.Abs(*got.Value-*want.Value) <= 1e-9*math.Abs(*want.Value)
					}
					if (got.Value == nil) != (want.Value == nil) || (got.Value != nil && !same) || got.Count != want.Count {
						t.Fatalf("%s as of %s, window %s, scope %s: custom %s (n = %d), built-in %s (n = %d)",
							c.builtin, asOf.Format(time.RFC3339), w, s, fmtVal(got.Value), got.Count, fmtVal(want.Value), want.Count)
					}
				}
			}
		}
	}
	// The comparison means something only where there is something to compare.
	if nonZero < compared/3 {
		t.Fatalf("only %d of %d comparisons had a non-zero value: the data does not exercise the definitions", nonZero, compared)
	}
	t.Logf("%d comparisons, %d with a non-zero value", compared, nonZero)
}

func TestCompileCustomRefuses(t *testing.T) {
	base := CustomDef{ID: "x", Kind: domain.KindIncident, Time: "opened_at", Aggregate: AggregateCount}
	cases := []struct {
		name string
		edit func(*CustomDef)
		want ExprError
	}{
		{"unknown field", func(d *CustomDef) { d.Filter = `severity == "P1" && sevrity == "P2"` },
			ExprError{Field: "filter", Line: 1, Column: 21}},
		{"wrong type", func(d *CustomDef) { d.Filter = `opened_at > 3` },
			ExprError{Field: "filter", Line: 1, Column: 11}},
		{"non-boolean filter", func(d *CustomDef) { d.Filter = `severity` },
			ExprError{Field: "filter", Line: 1, Column: 1, Msg: "expected a condition (true or false), but the expression is of type string"}},
		{"optional not unwrapped", func(d *CustomDef) { d.Aggregate, d.Value = AggregateMedian, `hours(resolved_at - opened_at)` },
			ExprError{Field: "value", Line: 1, Column: 19}},
		{"bad aggregate", func(d *CustomDef) { d.Aggregate = "average" },
			ExprError{Field: "aggregate", Msg: `"average" is not an aggregate; expected one of count, count_per_day, sum, mean, median, percentile, share, latest`}},
		{"second line", func(d *CustomDef) { d.Filter = "severity == \"P1\"\n  && bogus" },
			ExprError{Field: "filter", Line: 2, Column: 6, Msg: `unknown field "bogus"; expected a field of incident (id, source, severity, opened_at, detected_at, resolved_at, postmortem_due_at, postmortem_done_at, caused_by, caused_by_change_request, customer_facing, origin, category, fingerprint, service, team, business_unit, tier), as_of or window_start`}},
		// CEL reserves package: the vulnerability's is package_name.
		{"reserved word", func(d *CustomDef) {
			d.Kind, d.Time, d.Filter = domain.KindVulnerability, "opened_at", `kev && package == "openssl"`
		},
			ExprError{Field: "filter", Line: 1, Column: 8, Msg: `"package" is a reserved word of CEL: a vulnerability's package is the field package_name`}},
		{"reserved word elsewhere", func(d *CustomDef) { d.Filter = `package == "openssl"` },
			ExprError{Field: "filter", Line: 1, Column: 1, Msg: `"package" is a reserved word of CEL, not a field of incident`}},
		{"built-in id", func(d *CustomDef) { d.ID = "mttr" }, ExprError{Field: "id"}},
		{"time of another kind", func(d *CustomDef) { d.Time = "finished_at" }, ExprError{Field: "time"}},
		{"too costly", func(d *CustomDef) {
			d.Filter = `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(e, category.contains(string(a+b+c+e))))))`
		}, ExprError{Field: "filter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := base
			c.edit(&def)
			_, err := CompileCustom(def)
			var e *ExprError
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *ExprError", err)
			}
			if e.Field != c.want.Field || e.Line != c.want.Line || e.Column != c.want.Column || (c.want.Msg != "" && e.Msg != c.want.Msg) {
				t.Fatalf("got %s (line %d, column %d), want %s", e.Msg, e.Line, e.Column, fmt.Sprint(&c.want))
			}
		})
	}
}

// everyKindCustom is one or more organisation-defined metrics per kind, over the times a cache is
// most likely to get wrong: a timestamp other than the defining one, the state at as_of, a
// period's overlap, a derived field (rolled_back).
var everyKindCustom = []CustomDef{
	{ID: "c_rolled_back_share", Kind: domain.KindDeployment, Time: "finished_at", Aggregate: AggregateShare, Matching: "rolled_back"},
	{ID: "c_retro_validations", Kind: domain.KindDeployment, Time: "retro_validated_at", Aggregate: AggregateCount},
	{ID: "c_mttr", Kind: domain.KindIncident, Time: "resolved_at", Value: "hours(resolved_at.value() - opened_at)", Aggregate: AggregateMedian},
	{ID: "c_open_incidents", Kind: domain.KindIncident, Time: TimeState, Filter: "!resolved_at.hasValue()", Aggregate: AggregateCount},
	{ID: "c_sli_good", Kind: domain.KindSLI, Time: TimePeriod, Value: "good", Aggregate: AggregateSum},
	{ID: "c_sla", Kind: domain.KindTicket, Time: "resolved_at", Filter: "sla_due_at.hasValue()", Aggregate: AggregateShare, Matching: "resolved_at.value() <= sla_due_at.value()"},
	{ID: "c_open_escalations", Kind: domain.KindTicket, Time: TimeState, Filter: "escalated && !resolved_at.hasValue()", Aggregate: AggregateCount},
	{ID: "c_csat_p90", Kind: domain.KindSurvey, Time: "at", Filter: `type == "csat"`, Value: "score", Aggregate: AggregatePercentile, P: 90},
	{ID: "c_open_vulns", Kind: domain.KindVulnerability, Time: TimeState, Filter: "!fixed_at.hasValue()", Aggregate: AggregateCount},
	{ID: "c_patch_days", Kind: domain.KindVulnerability, Time: "fixed_at", Value: "days(fixed_at.value() - opened_at)", Aggregate: AggregateMean},
	// Broken down by package first: the state's round trip compares that breakdown.
	{ID: "c_open_kev", Kind: domain.KindVulnerability, Time: TimeState, Filter: "kev && !fixed_at.hasValue()", Aggregate: AggregateCount, Dims: []string{"package", "team"}},
	{ID: "c_openssl_or_kev_opened", Kind: domain.KindVulnerability, Time: "opened_at", Filter: `package_name == "openssl" || kev`, Aggregate: AggregateCount},
	{ID: "c_controls_passed", Kind: domain.KindControl, Time: "checked_at", Aggregate: AggregateShare, Matching: "passed"},
	{ID: "c_cost", Kind: domain.KindCost, Time: TimePeriod, Value: "amount", Aggregate: AggregateSum},
	{ID: "c_requests", Kind: domain.KindUsage, Time: TimePeriod, Value: "requests.orValue(0.0)", Aggregate: AggregateSum},
	{ID: "c_budget", Kind: domain.KindBudget, Time: TimePeriod, Value: "amount", Aggregate: AggregateSum},
	{ID: "c_mrr", Kind: domain.KindSubscription, Time: TimeState, Filter: "!ended_at.hasValue()", Value: "mrr", Aggregate: AggregateSum},
	{ID: "c_win_share", Kind: domain.KindOpportunity, Time: "closed_at", Aggregate: AggregateShare, Matching: "won"},
	{ID: "c_due_to_close", Kind: domain.KindOpportunity, Time: "close_date", Filter: "!closed_at.hasValue()", Aggregate: AggregateCount},
	{ID: "c_mqls", Kind: domain.KindLead, Time: "mql_at", Aggregate: AggregateCountPerDay},
	{ID: "c_quota", Kind: domain.KindQuota, Time: TimePeriod, Value: "amount", Aggregate: AggregateSum},
	{ID: "c_spend", Kind: domain.KindSpend, Time: TimePeriod, Value: "amount", Aggregate: AggregateSum},
	{ID: "c_latest_target", Kind: domain.KindTarget, Time: TimeState, Value: "value", Aggregate: AggregateLatest},
	{ID: "c_team_health", Kind: domain.KindMeasurement, Time: "at", Filter: `metric == "team_health"`, Value: "value", Aggregate: AggregateMean},
	{ID: "c_adoption_at_goal", Kind: domain.KindMeasurement, Time: "at", Filter: `"feature=saved_carts" in tags`, Aggregate: AggregateShare, Matching: "value >= 20"},
}

// customConfig is the default configuration with everyKindCustom.
func customConfig(t testing.TB) Config { return configWith(t, everyKindCustom...) }

// configWith is the default configuration with the organisation-defined metrics defs.
func configWith(t testing.TB, defs ...CustomDef) Config {
	t.Helper()
	cfg := DefaultConfig()
	var ms []*CustomMetric
	for _, def := range defs {
		m, err := CompileCustom(def)
		if err != nil {
			t.Fatalf("%s: %v", def.ID, err)
		}
		ms = append(ms, m)
	}
	if err := cfg.SetCustom(ms); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// allIDs are the built-in metrics and the dataset's own.
func allIDs(d *Dataset) []string { return append(IDs(), d.CustomIDs()...) }

// The closures compiled from a definition (customnative.go) are the interpreter's answers,
// faster: every definition of these tests, plus ones that fail on some records and ones the
// closures leave to the interpreter, give the same value, count and failure both ways.
func TestNativeMatchesInterpreter(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	defs := slices.Clone(everyKindCustom)
	for _, c := range builtinsAsCustom {
		defs = append(defs, c.def)
	}
	for _, c := range comparableCustom {
		defs = append(defs, c.def)
	}
	defs = append(defs,
		// Unwraps resolved_at on unresolved incidents: no value, and the same reason.
		CustomDef{ID: "n_unguarded", Kind: domain.KindIncident, Time: "opened_at", Filter: "resolved_at.value() > opened_at", Aggregate: AggregateCount},
		// An error on one side of || gives way to true on the other.
		CustomDef{ID: "n_or_error", Kind: domain.KindIncident, Time: "opened_at", Filter: `resolved_at.value() > opened_at || severity != "P9"`, Aggregate: AggregateCount},
		// …but not to true under &&: the error stands.
		CustomDef{ID: "n_and_error", Kind: domain.KindIncident, Time: "opened_at", Filter: `resolved_at.value() > opened_at && severity != "P9"`, Aggregate: AggregateCount},
		CustomDef{ID: "n_and_false", Kind: domain.KindIncident, Time: "opened_at", Filter: `severity == "P9" && resolved_at.value() > opened_at`, Aggregate: AggregateCount},
		// Compiled arithmetic and comparisons across int and double.
		CustomDef{ID: "n_arith", Kind: domain.KindSLI, Time: "period_start", Filter: "total > 0 && tier <= 2.5", Value: "100.0 * good / total", Aggregate: AggregateMean},
		CustomDef{ID: "n_orvalue", Kind: domain.KindTicket, Time: "created_at", Value: "hours(resolved_at.orValue(as_of) - created_at)", Aggregate: AggregatePercentile, P: 90},
		// Left to the interpreter: a ternary and a string function the closures do not know.
		CustomDef{ID: "n_interpreted", Kind: domain.KindTicket, Time: "created_at", Filter: `customer.startsWith("c") ? escalated : true`, Aggregate: AggregateCount},
	)
	d := customDataset(t, 0.02, end, defs...)
	compiled := 0
	for _, def := range defs {
		cdef, _ := d.def(def.ID)
		m, _ := CompileCustom(def)
		if (m.filter == nil) == (m.nFilter == nil) && (m.value == nil) == (m.nValue == nil) && (m.matching == nil) == (m.nMatching == nil) {
			compiled++
		} else {
			t.Logf("%s is left to the interpreter", def.ID)
		}
		for step := range 6 {
			for _, w := range []time.Duration{7 * day, 30 * day} {
				// Odd hours over the last weeks of the data, when incidents are still open.
				q := Query{AsOf: end.Add(-10*day - time.Duration(step)*(5*day+7*time.Hour)), Window: w}
				fast := d.run(def.ID, cdef, q)
				interpreterOnly = true
				slow := d.run(def.ID, cdef, q)
				interpreterOnly = false
				if fmtVal(fast.Value) != fmtVal(slow.Value) || (fast.Value != nil && *fast.Value != *slow.Value) ||
					fast.Count != slow.Count || fast.Detail.Error != slow.Detail.Error {
					t.Fatalf("%s as of %s: compiled %s (n = %d, %q), interpreted %s (n = %d, %q)", def.ID, q.AsOf.Format(time.DateOnly),
						fmtVal(fast.Value), fast.Count, fast.Detail.Error, fmtVal(slow.Value), slow.Count, slow.Detail.Error)
				}
			}
		}
	}
	if compiled < len(defs)-2 { // the ternary, and a test of the tags list
		t.Errorf("only %d of %d definitions compiled to closures", compiled, len(defs))
	}
	m, _ := CompileCustom(defs[len(defs)-1])
	if m.nFilter != nil {
		t.Error("a ternary was compiled: the test no longer covers the interpreter's path")
	}
}

// An evaluation that runs over its cost limit leaves the metric without a value, with the reason;
// it does not stop the computation of anything else.
func TestCustomCostOverrunGivesNoValue(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	runtimeCostLimit = 1
	def := CustomDef{ID: "costly", Kind: domain.KindTicket, Time: "created_at",
		Filter: `customer.startsWith("c") ? escalated : priority.contains("1")`, Aggregate: AggregateCount}
	d := customDataset(t, 0.01, end, def)
	runtimeCostLimit = CustomCostLimit
	r, err := d.Compute("costly", Query{AsOf: end.Add(-10 * day), Window: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	if r.Value != nil || !strings.Contains(r.Detail.Error, "costly of custom metric: evaluating its filter on ticket") ||
		!strings.Contains(r.Detail.Error, "cost limit exceeded") {
		t.Fatalf("value %s, reason %q: want no value and the overrun named", fmtVal(r.Value), r.Detail.Error)
	}
	if r2, _ := d.Compute("sla_adherence", Query{AsOf: end.Add(-10 * day), Window: 30 * day}); r2.Value == nil {
		t.Error("a built-in beside it lost its value")
	}
}

// The worked examples over measurements (docs/custom-metrics.md 1 and 2) on generated data, against
// the same figures computed straight from the records: team health's mean per team, and the share
// of feature-adoption readings at goal, for one feature picked by its tag.
func TestCustomMeasurementExamples(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	defs := []CustomDef{
		{ID: "team_health", Kind: domain.KindMeasurement, Time: "at", Filter: `metric == "team_health"`, Value: "value", Aggregate: AggregateMean},
		{ID: "saved_carts_at_goal", Kind: domain.KindMeasurement, Time: "at", Filter: `metric == "feature_adoption" && "feature=saved_carts" in tags`,
			Aggregate: AggregateShare, Matching: "value >= 40"},
	}
	d := customDataset(t, 0.02, end, defs...)
	var ms []*domain.Measurement
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: 0.02, End: end}, func(r domain.Record) {
		if m, ok := r.(*domain.Measurement); ok {
			ms = append(ms, m)
		}
	}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for step := range 8 {
		q := Query{AsOf: end.Add(-time.Duration(step) * 41 * day), Window: 90 * day}
		lo := q.AsOf.Add(-q.Window)
		in := func(m *domain.Measurement) bool { return !m.At.Before(lo) && m.At.Before(q.AsOf) }
		teams := map[string][]float64{}
		goal, readings := 0, 0
		for _, m := range ms {
			if !in(m) {
				continue
			}
			if m.Metric == "team_health" {
				teams[m.Team] = append(teams[m.Team], m.Value)
			}
			if m.Metric == "feature_adoption" && slices.Contains(m.Tags, "feature=saved_carts") {
				readings++
				if m.Value >= 40 {
					goal++
				}
			}
		}
		for team, vals := range teams {
			sq := q
			sq.Scope = Scope{Dim: "team", Value: team}
			got, err := d.Compute("team_health", sq)
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, v := range vals {
				sum += v
			}
			if got.Value == nil || got.Count != len(vals) || !approx(*got.Value, sum/float64(len(vals))) {
				t.Fatalf("team_health of %s as of %s: %s (n = %d), want %v (n = %d)", team, q.AsOf.Format(time.DateOnly), fmtVal(got.Value), got.Count, sum/float64(len(vals)), len(vals))
			}
			checked++
		}
		got, _ := d.Compute("saved_carts_at_goal", q)
		if fmtVal(got.Value) != fmtVal(share(goal, readings)) || got.Count != readings {
			t.Fatalf("saved_carts_at_goal as of %s: %s (n = %d), want %s (n = %d)", q.AsOf.Format(time.DateOnly), fmtVal(got.Value), got.Count, fmtVal(share(goal, readings)), readings)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d team values compared", checked)
	}
}

// An organisation's metric counting or summing the records in W sums over
// its window, as the built-in it may copy does; a state at as_of, a median
// or a share does not.
func TestCustomSumsOverWindow(t *testing.T) {
	var defs []CustomDef
	for _, b := range builtinsAsCustom {
		defs = append(defs, b.def)
	}
	for _, b := range stateAsCustom {
		defs = append(defs, b.def)
	}
	d := NewDataset(configWith(t, defs...))
	for id, want := range map[string]bool{"my_incidents_p0_p1": true, "my_open_escalations": false, "my_mttr": false,
		"my_csat": false, "my_mrr": false, "my_deployment_frequency": false, "incidents_p0_p1": true, "mttr": false} {
		if got := d.SumsOverWindow(id); got != want {
			t.Errorf("SumsOverWindow(%s) = %v, want %v", id, got, want)
		}
	}
	// A total at as_of adds up too (its lines are parts); a ratio, a
	// median or a share does not.
	for id, want := range map[string]bool{"my_incidents_p0_p1": true, "my_open_escalations": true, "my_mrr": true, "my_mttr": false,
		"my_csat": false, "arr": true, "open_critical_vulnerabilities": true, "cost_per_active_customer": false, "nrr": false} {
		if got := d.AddsUp(id); got != want {
			t.Errorf("AddsUp(%s) = %v, want %v", id, got, want)
		}
	}
}

// SPEC §1 gives a vulnerability kev (known exploited) and package: an organisation's metric reads
// both as fields, and breaks down and scopes by package, where they had been stored and read by
// nothing (known problems, security review, item 4).
func TestCustomKnownExploitedAndPackage(t *testing.T) {
	defs := []CustomDef{
		{ID: "open_known_exploited", Kind: domain.KindVulnerability, Time: TimeState, Filter: "kev && !fixed_at.hasValue()", Aggregate: AggregateCount},
		{ID: "open_openssl", Kind: domain.KindVulnerability, Time: TimeState, Filter: `package_name == "openssl" && !fixed_at.hasValue()`, Aggregate: AggregateCount},
		{ID: "kev_fixed", Kind: domain.KindVulnerability, Time: "fixed_at", Filter: "kev", Value: "days(fixed_at.value() - opened_at)", Aggregate: AggregateMean},
	}
	cfg := configWith(t, defs...)
	d := load(t, &cfg, `
{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"vulnerability","id":"v1","severity":"critical","service":"api","opened_at":"2026-03-01T00:00:00Z","kev":true,"package":"openssl"}
{"kind":"vulnerability","id":"v2","severity":"high","service":"api","opened_at":"2026-03-02T00:00:00Z","fixed_at":"2026-04-02T00:00:00Z","kev":true,"package":"libcurl"}
{"kind":"vulnerability","id":"v3","severity":"medium","service":"api","opened_at":"2026-03-03T00:00:00Z","package":"openssl"}
{"kind":"vulnerability","id":"v4","severity":"critical","service":"api","opened_at":"2026-02-01T00:00:00Z","fixed_at":"2026-03-11T00:00:00Z","kev":true,"package":"openssl"}
{"kind":"vulnerability","id":"v5","severity":"low","service":"api","opened_at":"2026-03-04T00:00:00Z"}
{"kind":"vulnerability","id":"v6","severity":"critical","service":"api","opened_at":"2026-04-05T00:00:00Z","kev":true,"package":"openssl"}
`)
	asOf := ts(t, defaultAsOf)
	q := Query{AsOf: asOf, Window: 30 * day, Records: true}
	ids := func(r Result) []string {
		var out []string
		for _, ref := range r.Records {
			out = append(out, ref.ID)
		}
		slices.Sort(out)
		return out
	}
	// v2's fix after as_of has not happened; v4 was fixed, v6 not yet opened, v5 and v3 not known exploited.
	for _, c := range []struct {
		id    string
		scope Scope
		want  string
		recs  []string
	}{
		{"open_known_exploited", Scope{}, "2", []string{"v1", "v2"}},
		{"open_openssl", Scope{}, "2", []string{"v1", "v3"}},
		{"open_known_exploited", Scope{Dim: "package", Value: "openssl"}, "1", []string{"v1"}},
		{"open_known_exploited", Scope{Dim: "package", Value: "(none)"}, "0", nil},
		// v4, fixed in the window after 38 days; v2's fix lies after as_of.
		{"kev_fixed", Scope{}, "38", []string{"v4"}},
	} {
		sq := q
		sq.Scope = c.scope
		r, err := d.Compute(c.id, sq)
		if err != nil {
			t.Fatal(err)
		}
		if fmtVal(r.Value) != c.want || !slices.Equal(ids(r), c.recs) {
			t.Errorf("%s %v: %s %v, want %s %v", c.id, c.scope, fmtVal(r.Value), ids(r), c.want, c.recs)
		}
	}
	if got := d.Dims("open_known_exploited"); !slices.Contains(got, "package") {
		t.Errorf("breakdowns %v, want package among them", got)
	}
	g, err := d.Breakdown("open_known_exploited", Query{AsOf: asOf, Window: 30 * day}, "package")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, x := range g {
		lines[x.Key] = fmtVal(x.Value)
	}
	if want := map[string]string{"(none)": "0", "libcurl": "1", "openssl": "1"}; !maps.Equal(lines, want) {
		t.Errorf("by package: %v, want %v", lines, want)
	}
	// The built-ins offer no package breakdown: a scope on it is refused, not ignored.
	if _, err := d.Compute("open_critical_vulnerabilities", Query{AsOf: asOf, Window: 30 * day, Scope: Scope{Dim: "package", Value: "openssl"}}); err == nil {
		t.Error("open_critical_vulnerabilities took a package scope")
	}
}

// The same two definitions on random vulnerabilities (the generator's are seldom known exploited)
// against the counts taken straight from the records, at as_of over a year, per package too.
func TestCustomKnownExploitedRandom(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	defs := []CustomDef{
		{ID: "open_known_exploited", Kind: domain.KindVulnerability, Time: TimeState, Filter: "kev && !fixed_at.hasValue()", Aggregate: AggregateCount},
		{ID: "open_openssl", Kind: domain.KindVulnerability, Time: TimeState, Filter: `package_name == "openssl" && !fixed_at.hasValue()`, Aggregate: AggregateCount},
	}
	d := NewDataset(configWith(t, defs...))
	rng := rand.New(rand.NewPCG(17, 4))
	pkgs := []string{"openssl", "libcurl", "zlib", ""}
	var vs []*domain.Vulnerability
	for i := range 600 {
		v := &domain.Vulnerability{Meta: domain.Meta{ID: fmt.Sprintf("v%d", i), Source: "grype"}, Severity: "high", Service: "api",
			OpenedAt: end.Add(-time.Duration(rng.IntN(400*24)) * time.Hour), KEV: rng.IntN(3) == 0, Package: pkgs[rng.IntN(len(pkgs))]}
		if rng.IntN(2) == 0 {
			v.FixedAt = v.OpenedAt.Add(time.Duration(1+rng.IntN(120*24)) * time.Hour)
		}
		vs = append(vs, v)
		d.Apply(v, time.Time{})
	}
	d.Prepare()
	for step := range 12 {
		q := Query{AsOf: end.Add(-time.Duration(step) * 29 * day), Window: 30 * day}
		kev, openssl := 0, 0
		kevBy := map[string]int{}
		for _, v := range vs {
			if v.OpenedAt.After(q.AsOf) || !v.FixedAt.IsZero() && !v.FixedAt.After(q.AsOf) {
				continue
			}
			if v.KEV {
				kev++
				kevBy[valueOrNone(v.Package)]++
			}
			if v.Package == "openssl" {
				openssl++
			}
		}
		if kev == 0 || openssl == 0 || len(kevBy) < len(pkgs) {
			t.Fatalf("as of %s: %d open known exploited in %d packages, %d openssl: the data does not exercise the fields", q.AsOf.Format(time.DateOnly), kev, len(kevBy), openssl)
		}
		for id, want := range map[string]int{"open_known_exploited": kev, "open_openssl": openssl} {
			got, err := d.Compute(id, q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Value == nil || *got.Value != float64(want) {
				t.Fatalf("%s as of %s: %s, want %d", id, q.AsOf.Format(time.DateOnly), fmtVal(got.Value), want)
			}
		}
		g, err := d.Breakdown("open_known_exploited", q, "package")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, x := range g {
			if x.Value != nil && *x.Value != 0 {
				got[x.Key] = int(*x.Value)
			}
		}
		if !maps.Equal(got, kevBy) {
			t.Fatalf("open_known_exploited by package as of %s: %v, want %v", q.AsOf.Format(time.DateOnly), got, kevBy)
		}
	}
}
