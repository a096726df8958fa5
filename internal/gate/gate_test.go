package gate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
)

func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func load(t testing.TB, src string) *Policies {
	t.Helper()
	p, err := Load("gates.yaml", []byte(src), testCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func facts(t testing.TB, kv ...string) Facts {
	t.Helper()
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	f, err := ParseFacts(m)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func prod(f Facts) Release {
	return Release{Service: "checkout", Environment: "production", Version: "1.2.3", Facts: f, Production: true, Tier: 1}
}

func verdict(t testing.TB, r Result, rule string) Verdict {
	t.Helper()
	for _, v := range r.Rules {
		if v.Rule == rule {
			return v
		}
	}
	t.Fatalf("no verdict of rule %s in %+v", rule, r.Rules)
	return Verdict{}
}

func f64(x float64) *float64 { return &x }

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// noCanary keeps the canary rule out of tests about other rules.
const noCanary = "canary: {enabled: false}\n"

func TestParseFactsCoverage(t *testing.T) {
	for in, want := range map[string]float64{"0.92": 0.92, "92%": 0.92, "100%": 1, "0": 0} {
		f, err := ParseFacts(map[string]string{"coverage": in})
		if err != nil || f.Coverage == nil || *f.Coverage != want {
			t.Errorf("coverage %q: %v, %v; want %v", in, f.Coverage, err, want)
		}
	}
	for _, in := range []string{"92", "1.5", "-0.1", "abc", "120%", ""} {
		if _, err := ParseFacts(map[string]string{"coverage": in}); err == nil || !strings.Contains(err.Error(), "facts.coverage") {
			t.Errorf("coverage %q: err %v, want a refusal naming facts.coverage", in, err)
		}
	}
	// 90 is within 0–100: the refusal says to write 90%, not that it is
	// out of range.
	if _, err := ParseFacts(map[string]string{"coverage": "90"}); err == nil || !strings.Contains(err.Error(), "a percentage needs its sign (90%)") || strings.Contains(err.Error(), "out of range") {
		t.Errorf("coverage 90: %v", err)
	}
	if _, err := ParseFacts(map[string]string{"coverage": "120"}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("coverage 120: %v", err)
	}
	if _, err := ParseFacts(map[string]string{"risk": "10"}); err == nil || !strings.Contains(err.Error(), "unknown fact") {
		t.Errorf("unknown fact: %v", err)
	}
	if _, err := ParseFacts(map[string]string{"risk_score": "101"}); err == nil {
		t.Error("risk_score 101 accepted")
	}
}

func TestCoveragePolicy(t *testing.T) {
	p := load(t, noCanary)
	cases := []struct {
		rel      Release
		decision Severity
		verdict  string
	}{
		{prod(facts(t, "coverage", "84%", "risk_score", "10")), Deny, "deny"},
		{prod(facts(t, "coverage", "0.85", "risk_score", "10")), Allow, Pass},
		{prod(facts(t, "risk_score", "10")), Escalate, "escalate"},
		{Release{Service: "checkout", Environment: "staging", Facts: facts(t, "coverage", "0.5")}, Allow, Skip},
	}
	for i, c := range cases {
		r := p.Evaluate(c.rel, nil, now)
		if r.Decision != c.decision || verdict(t, r, "coverage").Verdict != c.verdict {
			t.Errorf("case %d: decision %s, coverage %+v; want %s, %s", i, r.Decision, verdict(t, r, "coverage"), c.decision, c.verdict)
		}
	}
	// The minimum is configurable.
	p = load(t, noCanary+"coverage: {min: 0.8}\n")
	if r := p.Evaluate(prod(facts(t, "coverage", "84%", "risk_score", "10")), nil, now); r.Decision != Allow {
		t.Errorf("min 0.8, coverage 84%%: %s %+v", r.Decision, r.Rules)
	}
}

func TestRiskPolicyDerivesScore(t *testing.T) {
	p := load(t, noCanary)
	r := p.Evaluate(prod(facts(t, "coverage", "0.9", "changed_lines", "900", "dependency_changes", "2")), nil, now)
	v := verdict(t, r, "risk")
	if r.Decision != Escalate || v.Verdict != "escalate" || !strings.Contains(v.Reason, "derived risk score 83") {
		t.Errorf("900 lines + 2 dependencies: %s %+v", r.Decision, v)
	}
	r = p.Evaluate(prod(facts(t, "coverage", "0.9", "changed_lines", "100")), nil, now)
	if r.Decision != Allow {
		t.Errorf("100 lines (score 7): %s %+v", r.Decision, r.Rules)
	}
	r = p.Evaluate(prod(facts(t, "coverage", "0.9", "risk_score", "71")), nil, now)
	if r.Decision != Escalate {
		t.Errorf("risk 71: %s", r.Decision)
	}
	// No score and nothing to derive it from is unknown: it escalates.
	if r = p.Evaluate(prod(facts(t, "coverage", "0.9")), nil, now); verdict(t, r, "risk").Verdict != "escalate" {
		t.Errorf("no risk facts: %+v", verdict(t, r, "risk"))
	}
	p = load(t, noCanary+"risk: {threshold: 90}\n")
	if r = p.Evaluate(prod(facts(t, "coverage", "0.9", "risk_score", "85")), nil, now); r.Decision != Allow {
		t.Errorf("threshold 90, risk 85: %s", r.Decision)
	}
}

const freezes = noCanary + `
freeze:
  windows:
    - name: clocks-change
      time_zone: Europe/Berlin
      start: "2026-10-24T22:00"
      end: "2026-10-25T04:00"
      scope: {services: [billing]}
    - name: weekend
      time_zone: America/New_York
      weekly: {from: "fri 16:00", to: "mon 08:00"}
      scope: {environments: [production], services: [checkout, status-page, shop]}
  exceptions:
    - window: weekend
      scope: {services: [status-page]}
      risk_acceptance: "RA-7: the status page must be fixable any time"
      approved_by: CTO
    - window: weekend
      scope: {services: [shop]}
      from: "2026-11-27T00:00:00Z"
      until: "2026-11-30T00:00:00Z"
      risk_acceptance: "RA-9: Black Friday relaxation for the shop"
      approved_by: CEO
`

func at(t testing.TB, p *Policies, service, ts string) Verdict {
	t.Helper()
	rel := prod(facts(t, "coverage", "0.9", "risk_score", "10"))
	rel.Service = service
	return verdict(t, p.Evaluate(rel, nil, mustTime(t, ts)), "freeze")
}

// A one-off window in Berlin from 22:00 to 04:00 local spans the end of
// summer time (03:00 CEST → 02:00 CET on 25 October 2026): it is seven
// hours long, ending at 03:00 UTC, not 02:00.
func TestFreezeOneOffAcrossDST(t *testing.T) {
	p := load(t, freezes)
	for ts, want := range map[string]string{
		"2026-10-24T19:59:00Z": Pass,   // 21:59 CEST
		"2026-10-24T20:00:00Z": "deny", // 22:00 CEST
		"2026-10-25T02:30:00Z": "deny", // 03:30 CET: after the change
		"2026-10-25T03:00:00Z": Pass,   // 04:00 CET
	} {
		if v := at(t, p, "billing", ts); v.Verdict != want {
			t.Errorf("%s: %+v, want %s", ts, v, want)
		}
	}
}

// A weekly window fri 16:00 → mon 08:00 New York time keeps its local
// hours across the end of daylight time (1 November 2026).
func TestFreezeWeeklyAcrossDST(t *testing.T) {
	p := load(t, freezes)
	for ts, want := range map[string]string{
		"2026-10-30T19:59:00Z": Pass,   // Fri 15:59 EDT
		"2026-10-30T20:00:00Z": "deny", // Fri 16:00 EDT
		"2026-11-02T12:30:00Z": "deny", // Mon 07:30 EST (08:30 by the old offset)
		"2026-11-02T13:00:00Z": Pass,   // Mon 08:00 EST
		"2026-11-04T15:00:00Z": Pass,   // Wednesday
	} {
		if v := at(t, p, "checkout", ts); v.Verdict != want {
			t.Errorf("%s: %+v, want %s", ts, v, want)
		}
	}
}

func TestFreezeExceptions(t *testing.T) {
	p := load(t, freezes)
	v := at(t, p, "status-page", "2026-10-31T15:00:00Z")
	if v.Verdict != Pass || !strings.Contains(v.Reason, "RA-7") || !strings.Contains(v.Reason, "CTO") {
		t.Errorf("standing exception: %+v", v)
	}
	// The seasonal relaxation covers its dates only.
	if v = at(t, p, "shop", "2026-11-28T15:00:00Z"); v.Verdict != Pass || !strings.Contains(v.Reason, "RA-9") {
		t.Errorf("in the relaxation: %+v", v)
	}
	if v = at(t, p, "shop", "2026-12-05T15:00:00Z"); v.Verdict != "deny" {
		t.Errorf("after the relaxation: %+v", v)
	}
	_, err := Load("gates.yaml", []byte("freeze:\n  windows: [{name: w, time_zone: UTC, start: \"2026-12-20T00:00\", end: \"2026-12-27T00:00\"}]\n  exceptions: [{window: w, approved_by: CTO}]\n"), testCatalog(t))
	if err == nil || !strings.Contains(err.Error(), "freeze.exceptions[0].risk_acceptance") {
		t.Errorf("exception without a risk acceptance: %v", err)
	}
	_, err = Load("gates.yaml", []byte("freeze:\n  windows: [{name: w, time_zone: Mars/Olympus, weekly: {from: \"fri 16:00\", to: \"mon 08:00\"}}]\n"), testCatalog(t))
	if err == nil || !strings.Contains(err.Error(), "freeze.windows[0].time_zone") {
		t.Errorf("bad zone: %v", err)
	}
}

// The time fact is the caller's: freeze windows judge the server's clock
// and the release's time, frozen if either is in a window. A CI token
// cannot date a release outside the weekend freeze it is deployed in
// (1970, 9999, next Wednesday), while a release planned for the weekend,
// asked about on a Thursday, is frozen.
func TestFreezeJudgedAtTheServersClock(t *testing.T) {
	p := load(t, freezes)
	inFreeze := mustTime(t, "2026-10-31T15:00:00Z") // Saturday in New York
	for _, ts := range []string{"1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-04T15:00:00Z", "2026-10-31T15:04:00Z"} {
		rel := prod(facts(t, "coverage", "0.9", "risk_score", "10", "time", ts))
		rel.Service = "shop"
		r := p.Evaluate(rel, nil, inFreeze)
		if v := verdict(t, r, "freeze"); v.Verdict != "deny" || r.Decision != Deny || !r.Time.Equal(inFreeze) {
			t.Errorf("time %s during the weekend freeze: %s %+v (judged at %v)", ts, r.Decision, v, r.Time)
		}
	}
	thursday := mustTime(t, "2026-10-29T15:00:00Z")
	planned := prod(facts(t, "coverage", "0.9", "risk_score", "10", "time", "2026-10-31T15:00:00Z"))
	planned.Service = "shop"
	r := p.Evaluate(planned, nil, thursday)
	if v := verdict(t, r, "freeze"); v.Verdict != "deny" || !strings.Contains(v.Reason, "at the release's time (facts.time)") {
		t.Errorf("a release planned for Saturday, asked about on Thursday: %s %+v", r.Decision, v)
	}
	planned.Facts = facts(t, "coverage", "0.9", "risk_score", "10", "time", "2026-10-29T20:00:00Z")
	r = p.Evaluate(planned, nil, thursday)
	if v := verdict(t, r, "freeze"); v.Verdict != Pass || !strings.Contains(v.Reason, "now and at the release's time") {
		t.Errorf("a release planned for Thursday evening: %s %+v", r.Decision, v)
	}
	// CEL rules see the server's clock as facts.time, given or not.
	p = load(t, noCanary+"coverage: {enabled: false}\nrisk: {enabled: false}\npolicies:\n  - id: fri\n    require: facts.time.getDayOfWeek(\"UTC\") != 5\n")
	friday := mustTime(t, "2026-12-04T15:00:00Z")
	for _, f := range []Facts{facts(t), facts(t, "time", "2026-12-03T15:00:00Z")} {
		if r := p.Evaluate(prod(f), nil, friday); r.Decision != Deny {
			t.Errorf("a Friday with facts %+v: %s %+v", f, r.Decision, r.Rules)
		}
	}
}

func TestEmergencyBypass(t *testing.T) {
	p := load(t, freezes)
	rel := prod(facts(t, "coverage", "0.1", "emergency", "true"))
	now := mustTime(t, "2026-10-30T21:00:00Z")
	r := p.Evaluate(rel, nil, now)
	if r.Decision != Allow || !r.Bypass || r.RetroDue == nil || !r.RetroDue.Equal(time.Date(2026, 11, 2, 21, 0, 0, 0, time.UTC)) {
		t.Fatalf("emergency: %s bypass %v due %v", r.Decision, r.Bypass, r.RetroDue)
	}
	// The rules are still judged and recorded.
	if verdict(t, r, "coverage").Verdict != "deny" || verdict(t, r, "freeze").Verdict != "deny" {
		t.Errorf("verdicts under bypass: %+v", r.Rules)
	}
	p = load(t, freezes+"emergency: {enabled: false}\n")
	if r = p.Evaluate(rel, nil, now); r.Decision != Deny || r.Bypass {
		t.Errorf("bypass disabled: %s %v", r.Decision, r.Bypass)
	}
}

func kpi(id string, v float64, s catalog.Status) KPI { return KPI{ID: id, Value: f64(v), Status: s} }

func TestCanaryPolicy(t *testing.T) {
	p := load(t, "")
	base := []string{"coverage", "0.9", "risk_score", "10"}
	red := map[string]KPI{"release_impact_score": kpi("release_impact_score", 9, catalog.Red)}
	r := p.Evaluate(prod(facts(t, append(base, "strategy", "rolling")...)), red, now)
	if r.Decision != Deny || verdict(t, r, "canary").Verdict != "deny" {
		t.Errorf("red impact, rolling: %s %+v", r.Decision, verdict(t, r, "canary"))
	}
	if len(r.KPIs) != 1 || r.KPIs[0].ID != "release_impact_score" {
		t.Errorf("KPIs read: %+v", r.KPIs)
	}
	if r = p.Evaluate(prod(facts(t, append(base, "strategy", "canary")...)), red, now); r.Decision != Allow {
		t.Errorf("red impact, canary: %s %+v", r.Decision, r.Rules)
	}
	green := map[string]KPI{"release_impact_score": kpi("release_impact_score", 1, catalog.Green)}
	if r = p.Evaluate(prod(facts(t, append(base, "strategy", "rolling")...)), green, now); r.Decision != Allow {
		t.Errorf("green impact, rolling: %s", r.Decision)
	}
	unknown := map[string]KPI{"release_impact_score": {ID: "release_impact_score", Value: f64(9), Status: catalog.Unknown, Reason: "no data since 2026-11-01"}}
	r = p.Evaluate(prod(facts(t, append(base, "strategy", "rolling")...)), unknown, now)
	if v := verdict(t, r, "canary"); r.Decision != Escalate || !strings.Contains(v.Reason, "no data since") {
		t.Errorf("unknown impact, rolling: %s %+v", r.Decision, v)
	}
	// Canary already satisfies the rule: the unknown KPI is not needed.
	if r = p.Evaluate(prod(facts(t, append(base, "strategy", "canary")...)), unknown, now); r.Decision != Allow {
		t.Errorf("unknown impact, canary: %s %+v", r.Decision, r.Rules)
	}
}

const cfrPolicy = noCanary + `
coverage: {enabled: false}
risk: {enabled: false}
policies:
  - id: cfr
    message: change failure rate is too high for anything but a canary
    require: facts.strategy == "canary" || kpi.change_failure_rate < 15.0
    severity: deny
`

func TestCELPolicyOverKPIs(t *testing.T) {
	p := load(t, cfrPolicy)
	if got := p.KPIs(); len(got) != 1 || got[0] != "change_failure_rate" {
		t.Fatalf("KPIs: %v", got)
	}
	high := map[string]KPI{"change_failure_rate": kpi("change_failure_rate", 30, catalog.Red)}
	low := map[string]KPI{"change_failure_rate": kpi("change_failure_rate", 5, catalog.Green)}
	unknown := map[string]KPI{"change_failure_rate": {ID: "change_failure_rate", Value: f64(2), Status: catalog.Unknown, Reason: "too few cases (n = 2, needs 5)"}}
	rolling, canary := prod(facts(t, "strategy", "rolling")), prod(facts(t, "strategy", "canary"))
	for i, c := range []struct {
		rel  Release
		kpis map[string]KPI
		want Severity
	}{
		{rolling, high, Deny}, {rolling, low, Allow}, {canary, high, Allow},
		// Unknown escalates, never a silent allow (the value 2 would pass)...
		{rolling, unknown, Escalate},
		// ...unless the facts already satisfy the rule.
		{canary, unknown, Allow},
	} {
		r := p.Evaluate(c.rel, c.kpis, now)
		if r.Decision != c.want {
			t.Errorf("case %d: %s %+v, want %s", i, r.Decision, r.Rules, c.want)
		}
	}
	r := p.Evaluate(rolling, high, now)
	if v := verdict(t, r, "cfr"); v.Reason != "change failure rate is too high for anything but a canary" {
		t.Errorf("reason: %q", v.Reason)
	}
	// on_unknown is configurable per policy.
	p = load(t, strings.Replace(cfrPolicy, "severity: deny", "severity: deny\n    on_unknown: deny", 1))
	if r := p.Evaluate(rolling, unknown, now); r.Decision != Deny {
		t.Errorf("on_unknown deny: %s", r.Decision)
	}
}

func TestCELRuntimeErrorEscalates(t *testing.T) {
	p := load(t, noCanary+"coverage: {enabled: false}\nrisk: {enabled: false}\npolicies:\n  - id: small\n    require: facts.changed_lines < 500\n")
	r := p.Evaluate(prod(Facts{}), nil, now)
	if v := verdict(t, r, "small"); r.Decision != Escalate || !strings.Contains(v.Reason, "evaluation error") {
		t.Errorf("missing fact: %s %+v", r.Decision, v)
	}
	if r = p.Evaluate(prod(facts(t, "changed_lines", "100")), nil, now); r.Decision != Allow {
		t.Errorf("100 lines: %s %+v", r.Decision, r.Rules)
	}
}

func TestInvalidPolicyNamesLineAndColumn(t *testing.T) {
	cat := testCatalog(t)
	for _, c := range []struct{ src, want string }{
		{"policies:\n  - id: bad\n    require: facts.coverage >= \n", "gates.yaml:3:"},
		{"policies:\n  - id: bad\n    require: \"kpi.change_failure_rate < 'x'\"\n", "gates.yaml:3:"},
		{"policies:\n  - id: bad\n    require: facts.coverage + 1.0\n", "must give true or false"},
		{"policies:\n  - id: bad\n    require: |\n      facts.strategy == \"canary\" ||\n      kpi.no_such_metric < 1.0\n", "gates.yaml:5:7: policies[0].require (bad): unknown metric \"no_such_metric\""},
		{"policies:\n  - id: bad\n    require: facts.strategy == \"canary\" || kpi.no_such_metric < 1.0\n", "gates.yaml:3:44:"},
		{"policies:\n  - id: Bad Id\n    require: \"true\"\n", "policies[0].id"},
		{"policies:\n  - id: coverage\n    require: \"true\"\n", "used twice"},
		{"policies:\n  - id: x\n    require: \"true\"\n    severity: warn\n", "policies[0].severity"},
		{"coverage: {minimum: 0.9}\n", "gates.yaml:"},
		// A fraction where a whole number is held: truncated to tier 1
		// with nothing said before.
		{"risk:\n  scope: {tiers: [1.5]}\n", "gates.yaml:2: risk.scope.tiers[0]: 1.5 is not a whole number"},
	} {
		_, err := Load("gates.yaml", []byte(c.src), cat)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// The example in docs/gates.md: a time-zone-aware weekday test over the
// release time.
func TestDocsFridayPolicy(t *testing.T) {
	p := load(t, noCanary+`coverage: {enabled: false}
risk: {enabled: false}
policies:
  - id: small-friday-changes
    require: |
      facts.time.getDayOfWeek("Europe/London") != 5 ||
      facts.changed_lines < 200
    severity: escalate
`)
	for ts, want := range map[string]Severity{"2026-12-04T15:00:00Z": Escalate, "2026-12-03T15:00:00Z": Allow} {
		if r := p.Evaluate(prod(facts(t, "changed_lines", "500")), nil, mustTime(t, ts)); r.Decision != want {
			t.Errorf("%s: %s %+v, want %s", ts, r.Decision, r.Rules, want)
		}
	}
}

// A policy file's mistakes name the file, line and policy: require given a YAML boolean had said
// "gp.yaml: require must be a CEL expression (a string)", and a bad severity
// "gp.yaml: policies[0].severity: …", neither with a line or the policy's id.
func TestPolicyErrorsNameLineAndPolicy(t *testing.T) {
	cat := testCatalog(t)
	for _, c := range []struct{ src, want string }{
		{"policies:\n  - id: cfr\n    require: true\n", `gp.yaml:3:14: policies[0].require (cfr): the YAML boolean true is not a CEL expression: write the condition as a string (quote it, "true", to pass every release)`},
		{"policies:\n  - id: ok\n    require: \"true\"\n  - id: n\n    require: 15\n", "gp.yaml:5:14: policies[1].require (n): the YAML number 15 is not a CEL expression"},
		{"policies:\n  - id: l\n    require: [a, b]\n", "gp.yaml:3:"},
		{"policies:\n  - id: cfr\n    require: kpi.change_failure_rate < 15.0\n    severity: block\n", `gp.yaml:4: policies[0].severity (cfr): "block" is not deny or escalate`},
		{"policies:\n  - id: cfr\n    require: \"true\"\n    on_unknown: maybe\n", `gp.yaml:4: policies[0].on_unknown (cfr): "maybe" is not deny, escalate or allow`},
		{"policies:\n  - id: cfr\n    require: \"true\"\n    approvers: [Exec]\n", `gp.yaml:4: policies[0].approvers[0] (cfr): "Exec" is not a role id`},
		{"policies:\n  - id: cfr\n    require:\n", "gp.yaml:3: policies[0].require (cfr): a CEL expression is required"},
		{"coverage:\n  severity: block\n", `gp.yaml:2: coverage.severity: "block" is not deny or escalate`},
		// == admits no mix of double and int: the error says how to write the number.
		{"policies:\n  - id: cfr\n    require: kpi.change_failure_rate == 0\n", "(KPI values are doubles: write a whole number with a decimal point, 1.0, not 1)"},
	} {
		_, err := Load("gp.yaml", []byte(c.src), cat)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// A KPI's value is a double; a whole-number literal compares with it as 1.0 would (CEL's
// cross-type numeric comparisons), where the type check had refused kpi.change_failure_rate < 1
// ("found no matching overload for '_<_' applied to '(double, int)'").
func TestKPIComparesWithWholeNumber(t *testing.T) {
	p := load(t, noCanary+"coverage: {enabled: false}\nrisk: {enabled: false}\npolicies:\n  - id: cfr\n    require: kpi.change_failure_rate < 20 && facts.changed_lines <= 300.5\n")
	rel := prod(facts(t, "changed_lines", "300"))
	kpis := map[string]KPI{"change_failure_rate": kpi("change_failure_rate", 12.5, catalog.Amber)}
	if r := p.Evaluate(rel, kpis, now); r.Decision != Allow {
		t.Errorf("12.5 < 20: %s %+v", r.Decision, r.Rules)
	}
	kpis["change_failure_rate"] = kpi("change_failure_rate", 25, catalog.Red)
	if r := p.Evaluate(rel, kpis, now); r.Decision != Deny {
		t.Errorf("25 < 20: %s %+v", r.Decision, r.Rules)
	}
}

// TestTierScopeUnknownTier: a policy or freeze window for some tiers does
// not skip a service whose tier Candor does not know (no service record;
// a misspelt --service): the policy gives its on_unknown verdict and the
// window freezes it, saying why. They had skipped it as out of scope, so
// the release passed rules a tier-1 service of that name would not have.
func TestTierScopeUnknownTier(t *testing.T) {
	p := load(t, `canary: {enabled: false}
coverage: {scope: {tiers: [1]}}
policies:
  - {id: cfr, require: 'kpi.change_failure_rate < 15.0', severity: deny, scope: {tiers: [1, 2]}}
  - {id: soft, require: 'kpi.change_failure_rate < 15.0', severity: deny, on_unknown: allow, scope: {tiers: [1]}}
  - {id: staging, require: 'false', scope: {tiers: [1], environments: [staging]}}
freeze:
  windows:
    - {name: weekend, time_zone: UTC, weekly: {from: "sat 00:00", to: "mon 00:00"}, scope: {tiers: [1, 2]}}
`)
	rel := prod(facts(t, "coverage", "0.5", "risk_score", "10"))
	rel.Service, rel.Tier = "chekout", 0
	sat := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	r := p.Evaluate(rel, nil, sat)
	for rule, want := range map[string]string{
		"coverage": "escalate", // on_unknown, not the deny a tier-1 service gets
		"cfr":      "escalate",
		"soft":     "pass",
		"staging":  "skip", // out of scope whatever the tier
		"freeze":   "deny",
	} {
		if v := verdict(t, r, rule); v.Verdict != want {
			t.Errorf("%s: %s (%s), want %s", rule, v.Verdict, v.Reason, want)
		}
	}
	if v := verdict(t, r, "cfr"); !strings.Contains(v.Reason, "applies to tier 1, 2 and service chekout has no tier in Candor's data") {
		t.Errorf("cfr's reason: %s", v.Reason)
	}
	if v := verdict(t, r, "freeze"); !strings.Contains(v.Reason, `in the freeze window "weekend"`) || !strings.Contains(v.Reason, "so it is frozen") {
		t.Errorf("freeze's reason: %s", v.Reason)
	}
	// A tier-3 service the data knows is out of these scopes.
	rel.Tier = 3
	r = p.Evaluate(rel, nil, sat)
	for _, rule := range []string{"coverage", "cfr", "soft", "staging"} {
		if v := verdict(t, r, rule); v.Verdict != "skip" {
			t.Errorf("tier 3, %s: %s (%s)", rule, v.Verdict, v.Reason)
		}
	}
	if v := verdict(t, r, "freeze"); v.Verdict != "pass" {
		t.Errorf("tier 3, freeze: %s (%s)", v.Verdict, v.Reason)
	}
}

// A fact sent as null is not given, as a record's null field is absent:
// it had been read as "" and refused ("\"\" is not a fraction").
func TestRequestNullFactIsAbsent(t *testing.T) {
	var q Request
	if err := json.Unmarshal([]byte(`{"service":"api","environment":"production","version":"1","facts":{"coverage":null,"risk_score":10}}`), &q); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.Facts["coverage"]; ok || q.Facts["risk_score"] != "10" {
		t.Fatalf("facts %q: want risk_score 10 and no coverage", q.Facts)
	}
	f, err := ParseFacts(q.Facts)
	if err != nil || f.Coverage != nil || f.RiskScore == nil || *f.RiskScore != 10 {
		t.Errorf("parsed: %+v %v", f, err)
	}
}

// A scope may list teams: a release of a service of one of them is in
// it, one of another team out, and one whose team Candor does not know
// (no service record gives one) gets the policy's on_unknown verdict and
// is frozen by a window for those teams. CEL reads the team as team.
func TestTeamScope(t *testing.T) {
	p := load(t, `canary: {enabled: false}
coverage: {enabled: false}
risk: {enabled: false}
policies:
  - {id: payments, require: 'kpi.change_failure_rate < 15.0', severity: deny, scope: {teams: [payments]}}
  - {id: named, require: 'team != "growth"', severity: deny}
freeze:
  windows:
    - {name: weekend, time_zone: UTC, weekly: {from: "sat 00:00", to: "mon 00:00"}, scope: {teams: [payments]}}
`)
	kpis := map[string]KPI{"change_failure_rate": {ID: "change_failure_rate", Value: new(20.0), Status: "red"}}
	sat := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		team                 string
		payments, named, frz string
	}{
		{"payments", "deny", "pass", "deny"},
		{"growth", "skip", "deny", "pass"},
		{"", "escalate", "pass", "deny"},
	} {
		rel := prod(facts(t))
		rel.Team = c.team
		r := p.Evaluate(rel, kpis, sat)
		for rule, want := range map[string]string{"payments": c.payments, "named": c.named, "freeze": c.frz} {
			if v := verdict(t, r, rule); v.Verdict != want {
				t.Errorf("team %q, %s: %s (%s), want %s", c.team, rule, v.Verdict, v.Reason, want)
			}
		}
		if c.team == "" {
			if v := verdict(t, r, "payments"); !strings.Contains(v.Reason, "the policy applies to team payments and service checkout has no team in Candor's data") {
				t.Errorf("no team's reason: %s", v.Reason)
			}
		}
	}
}

// UnknownNames lists each service the policies name that no record
// names, and each team no service record gives, with every place naming
// it and the nearest known name; a disabled built-in policy's scope is
// not in force.
func TestUnknownServices(t *testing.T) {
	p := load(t, `coverage: {scope: {services: [chekout]}}
canary: {enabled: false, scope: {services: [nowhere]}}
policies:
  - id: cfr
    require: kpi.change_failure_rate <= 0.2
    scope: {services: [chekout, payments], teams: [paymnts]}
watch:
  services:
    ledgr: {error_rate: 0.02}
`)
	got := p.UnknownNames([]string{"checkout", "payments", "ledger"}, []string{"payments"})
	want := []UnknownName{
		{Dim: "service", Name: "chekout", Where: []string{"coverage.scope", "policies cfr scope"}, Closest: "checkout"},
		{Dim: "service", Name: "ledgr", Where: []string{"watch.services"}, Closest: "ledger"},
		{Dim: "team", Name: "paymnts", Where: []string{"policies cfr scope"}, Closest: "payments"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownNames = %+v, want %+v", got, want)
	}
	if s := got[2].String(); s != `policies cfr scope names team "paymnts", which no service record gives (did you mean "payments"?)` {
		t.Errorf("a team's words: %s", s)
	}
	if got := p.UnknownNames([]string{"checkout", "chekout", "payments", "ledgr"}, []string{"paymnts"}); len(got) != 0 {
		t.Errorf("every name known: %+v", got)
	}
}
