package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
)

// teamHealth is a definition a finance analyst can read aloud: the share of P0/P1 incidents
// resolved within four hours.
const teamHealth = `custom_metrics:
  - id: fast_major_recovery
    name: Major incidents recovered within 4 h
    pillar: reliability
    description: Share of P0 and P1 incidents resolved in the window within four hours of opening.
    owner: Head of SRE
    unit: "%"
    better: higher
    thresholds: {green: 90, amber: 75}
    views: [engineering]
    kind: incident
    time: resolved_at
    filter: severity in ["P0", "P1"]
    aggregate: share
    matching: |
      hours(resolved_at.value() - opened_at) <= 4.0
`

func TestCustomMetricLoads(t *testing.T) {
	c, err := Load(write(t, teamHealth), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := cat.Metric("fast_major_recovery")
	if !ok || !m.Custom || m.Owner != "Head of SRE" || m.MinSample != 5 || len(m.Sources) != 1 || m.Sources[0].Kind != "incident" {
		t.Fatalf("catalog metric = %+v (found %v)", m, ok)
	}
	v, _ := cat.View("engineering")
	if v.Metrics[len(v.Metrics)-1] != "fast_major_recovery" {
		t.Errorf("engineering view metrics = %v, want the custom metric last", v.Metrics)
	}
	mc, err := c.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	_ = mc
}

// SPEC §3: a definition that does not type-check is refused at load with the file, the line and
// the column, and what was expected.
func TestCustomMetricLoadErrors(t *testing.T) {
	cases := []struct {
		name, edit, want string
		line, col        int
	}{
		// Line 13 holds the filter; its text starts at column 13, after "    filter: ", and
		// "sevrity" 28 characters into it.
		{"unknown field", `filter: severity in ["P0", "P1"] && sevrity == "P2"`, `filter: unknown field "sevrity"`, 13, 41},
		// The checker points at the operator that has no overload for the operands.
		{"wrong type", `filter: opened_at > 3`, `filter: found no matching overload for '_>_' applied to '(timestamp, int)'`, 13, 23},
		// A quoted expression starts after its quote.
		{"non-boolean filter", `filter: '"P1"'`, `filter: expected a condition (true or false), but the expression is of type string`, 13, 14},
		{"bad aggregate", `filter: severity == "P1"` + "\n    aggregate: averge", `aggregate: "averge" is not an aggregate; expected one of count, count_per_day, sum, mean, median, percentile, share, latest`, 14, 16},
		// A span is the window's or the quota period's (what the value is computed over).
		{"bad span", `filter: severity == "P1"` + "\n    span: year", `span: "year": an organisation's metric covers its window, or with quota_period the quota period holding as_of`, 14, 11},
		// A literal block keeps its lines: the text's second line is the file's 15th.
		{"second line of a block", "filter: |\n      severity == \"P1\"\n        && sevrity", `filter: unknown field "sevrity"`, 15, 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(teamHealth, `filter: severity in ["P0", "P1"]`, c.edit, 1)
			if c.name == "bad aggregate" {
				src = strings.Replace(src, "    aggregate: share\n", "", 1)
				src = strings.Replace(src, "    matching: |\n      hours(resolved_at.value() - opened_at) <= 4.0\n", "", 1)
			}
			path := write(t, src)
			_, err := Load(path, env(nil))
			var ce *CustomMetricError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CustomMetricError", err)
			}
			wantPos := fmt.Sprintf("config %s:%d:%d: custom metric \"fast_major_recovery\": ", path, c.line, c.col)
			if !strings.HasPrefix(err.Error(), wantPos) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got  %s\nwant %s…%s", err, wantPos, c.want)
			}
		})
	}
}

// An id given twice is refused naming the file, the second one's line and
// column and the field, as every other error of a definition is (it had
// said only `config FILE: custom metric "x" is defined twice`).
func TestCustomMetricDefinedTwice(t *testing.T) {
	second := teamHealth[strings.Index(teamHealth, "  - id:"):]
	path := write(t, teamHealth+second)
	_, err := Load(path, env(nil))
	var ce *CustomMetricError
	want := fmt.Sprintf(`config %s:17:9: custom metric "fast_major_recovery": id: defined twice: custom_metrics[0] has the same id`, path)
	if !errors.As(err, &ce) || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// Thresholds relative to the share of the period gone need a period: a
// metric over its window has none, and would be unknown at every as_of.
func TestCustomElapsedThresholdsNeedTheQuotaPeriod(t *testing.T) {
	src := strings.Replace(teamHealth, "thresholds: {green: 90, amber: 75}", "thresholds: {relative_to: elapsed, green: 90, amber: 75}", 1)
	path := write(t, src)
	_, err := Load(path, env(nil))
	want := fmt.Sprintf("config %s:9:17: custom metric \"fast_major_recovery\": thresholds: relative_to: elapsed judges against the share of the quota period gone; it needs span: quota_period", path)
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if _, err := Load(write(t, strings.Replace(src, "    kind: incident\n", "    kind: incident\n    span: quota_period\n", 1)), env(nil)); err != nil {
		t.Errorf("with span: quota_period: %v", err)
	}
}

// SPEC §4: at most seven headline KPIs, the organisation's own counted with the built-ins.
func TestCustomHeadlineCountsTowardTheCap(t *testing.T) {
	src := strings.Replace(teamHealth, "    views: [engineering]\n", "    views: [engineering]\n    headline: true\n", 1)
	_, err := Load(write(t, src), env(nil))
	if err == nil || !strings.Contains(err.Error(), "at most 7 headline metrics are allowed, built-in and custom together") {
		t.Fatalf("got %v, want the headline cap", err)
	}
}

// Every worked example of docs/custom-metrics.md loads: it checks and joins the catalog.
func TestCustomMetricsDocExamples(t *testing.T) {
	examples := docAfter(t, "../../docs/custom-metrics.md", "## Ten worked examples from the source documents")
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(examples, -1)
	if len(blocks) != 10 {
		t.Fatalf("%d examples, want 10", len(blocks))
	}
	kinds := map[string]bool{}
	for _, k := range metrics.CustomKinds() {
		kinds[string(k)] = true
	}
	loaded := 0
	for i, b := range blocks {
		kind := regexp.MustCompile(`(?m)^    kind: (\w+)$`).FindStringSubmatch(b[1])
		if kind == nil {
			t.Fatalf("example %d names no kind", i+1)
		}
		if !kinds[kind[1]] {
			// The measurement kind arrives with its own branch (issue 19 item 1).
			t.Logf("example %d reads %s, which the engine does not hold yet", i+1, kind[1])
			continue
		}
		c, err := Load(write(t, b[1]), env(nil))
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if _, err := c.Catalog(); err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		loaded++
	}
	if loaded < 7 {
		t.Errorf("only %d examples loaded", loaded)
	}
}

// A release gate may read an organisation's own metric by id, per service like a built-in; one
// that cannot be read per service is refused naming why.
func TestGateReadsCustomMetric(t *testing.T) {
	src := teamHealth + "gates: {policies: gates.yaml}\n"
	cfg := write(t, src)
	gates := filepath.Join(filepath.Dir(cfg), "gates.yaml")
	if err := os.WriteFile(gates, []byte("policies:\n  - id: recovery\n    require: kpi.fast_major_recovery >= 75.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if kpis := policyKPIs(t, cfg); !strings.Contains(kpis, "fast_major_recovery") {
		t.Fatalf("policy on a custom metric reads %s", kpis)
	}
	// Broken down by origin only, it has no value per service to gate a release on.
	perOrigin := strings.Replace(src, "    views: [engineering]\n", "    views: [engineering]\n    breakdowns: [origin]\n", 1)
	if err := os.WriteFile(cfg, []byte(perOrigin), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(cfg, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), `metric "fast_major_recovery" cannot be broken down by service`) {
		t.Fatalf("policy on a custom metric without a service breakdown: %v", err)
	}
}

// An alert rule may name an organisation's own metric as it names a
// built-in; a misspelt one is refused naming the rule's line.
func TestAlertRuleReadsCustomMetric(t *testing.T) {
	rules := `alerts:
  rules:
    - name: recovery_red
      kind: threshold
      metric: fast_major_recovery
      op: "<"
      value: 75
`
	c, err := Load(write(t, teamHealth+rules), env(nil))
	if err != nil {
		t.Fatalf("a rule on a custom metric: %v", err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AlertSettings(cat); err != nil {
		t.Fatalf("alert settings with a rule on a custom metric: %v", err)
	}
	p := write(t, teamHealth+strings.Replace(rules, "metric: fast_major_recovery", "metric: fast_major_recover", 1))
	if _, err := Load(p, env(nil)); err == nil || !strings.Contains(err.Error(), `alert rule "recovery_red": metric: unknown metric "fast_major_recover"`) {
		t.Fatalf("a rule on a misspelt custom metric: %v", err)
	}
}

// An alert rule on an organisation's own metric is evaluated from the
// records like one on a built-in: P1 incidents that all took ten hours to
// resolve put fast_major_recovery at 0 %, under the rule's 75.
func TestAlertRuleOnCustomMetricFires(t *testing.T) {
	ctx := context.Background()
	c, err := Load(write(t, teamHealth+`alerts:
  rules:
    - name: recovery_low
      kind: threshold
      metric: fast_major_recovery
      op: "<"
      value: 75
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.AlertSettings(cat)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := c.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 6 {
		opened := now.Add(-time.Duration(i+2) * 24 * time.Hour)
		lines = append(lines, fmt.Sprintf(`{"kind":"incident","id":"i%d","service":"checkout","severity":"P1","opened_at":%q,"resolved_at":%q}`,
			i, opened.Format(time.RFC3339), opened.Add(10*time.Hour).Format(time.RFC3339)))
	}
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "incidents.ndjson", Reader: strings.NewReader(strings.Join(lines, "\n"))}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	svc := &alert.Service{Store: st, Engine: engine.New(st, mc), Catalog: cat, Rules: set.Rules, Timing: set.Timing, Channels: set.Channels,
		Now: func() time.Time { return now }}
	if err := svc.Evaluate(ctx, scorecard.Options{}); err != nil {
		t.Fatal(err)
	}
	alerts, err := svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, a := range alerts {
		if a.Rule == "recovery_low" && a.Metric == "fast_major_recovery" {
			found = a.Active && a.Value != nil && *a.Value == 0
		}
	}
	if !found {
		t.Fatalf("no active recovery_low alert at 0 %% among %+v", alerts)
	}
}

// An organisation's metric over more than ten years is refused at load, as a
// read's window is: the trend looks a window further back, past the engine's
// clock, where every scorecard read panicked and took the server down.
func TestCustomMetricWindowBounded(t *testing.T) {
	src := strings.Replace(teamHealth, "    aggregate: share\n", "    aggregate: share\n    window: 100000d\n", 1)
	_, err := Load(write(t, src), env(nil))
	if err == nil || !strings.Contains(err.Error(), "window") || !strings.Contains(err.Error(), "at most 3660d") {
		t.Fatalf("a custom metric over 100000d: %v, want the window refused", err)
	}
	if _, err := Load(write(t, strings.Replace(src, "100000d", "3660d", 1)), env(nil)); err != nil {
		t.Fatalf("a custom metric over 3660d: %v", err)
	}
}

// A tab indenting a line is refused naming the file, line, column and the
// key after it, in words: the library's message quoted the tab itself,
// which reads as "found character '	' …".
func TestTabIndentIsNamed(t *testing.T) {
	path := write(t, strings.Replace(teamHealth, "    owner:", "\towner:", 1))
	_, err := Load(path, env(nil))
	want := fmt.Sprintf(`config %s:6:1: a tab character before "owner": YAML indents with spaces only; replace the tab with spaces`, path)
	if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// An unknown pillar is the one error of a definition that names it: the
// sign-off an organisation's metric takes from its pillar was said missing
// too, first, naming a key the definition does not need.
func TestCustomMetricUnknownPillar(t *testing.T) {
	path := write(t, strings.Replace(teamHealth, "pillar: reliability", "pillar: reliabilty", 1))
	_, err := Load(path, env(nil))
	if err == nil || !strings.Contains(err.Error(), `:4: metric "fast_major_recovery": pillar: unknown pillar "reliabilty"`) || strings.Contains(err.Error(), "signoff_by") {
		t.Fatalf("got %v, want only the unknown pillar at line 4", err)
	}
}

// An organisation's metric of the records as they stand at as_of (time:
// state) covers the state at as_of, as open vulnerabilities does, not its
// window: the demo's open deals older than 90 days read "30d" in the
// board pack's appendix and on its page. One over a window keeps it.
func TestCustomStateMetricCoversTheState(t *testing.T) {
	const agedDeals = `custom_metrics:
  - id: aged_open_deals
    name: Open deals older than 90 days
    pillar: growth
    description: Opportunities still open at as_of that were created more than 90 days before it.
    owner: CRO
    unit: count
    better: lower
    thresholds: {green: 5, amber: 15}
    kind: opportunity
    time: state
    filter: "!closed_at.hasValue() && days(as_of - created_at) > 90"
    aggregate: count
`
	c, err := Load(write(t, agedDeals+strings.TrimPrefix(teamHealth, "custom_metrics:\n")), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := cat.Metric("aged_open_deals"); m == nil || m.Span != catalog.SpanInstant {
		t.Errorf("open deals older than 90 days: span %q, want %q (the state at as_of)", m.Span, catalog.SpanInstant)
	}
	if m, _ := cat.Metric("fast_major_recovery"); m == nil || m.Span != catalog.SpanWindow {
		t.Errorf("a metric over its window: span %q, want the window", m.Span)
	}
	if got := scorecard.ColumnCovers(catalog.SpanInstant, "30d"); got != "state at the end" {
		t.Errorf("the appendix's column for a state = %q", got)
	}
}

// A metric over vulnerabilities reads kev and the package (package_name: CEL reserves package)
// and breaks down by package, by default and when named: the catalog knows the dimension.
func TestCustomVulnerabilityMetricByPackage(t *testing.T) {
	const kev = `custom_metrics:
  - id: open_known_exploited
    name: Open known-exploited vulnerabilities
    pillar: security
    description: Vulnerabilities open at as_of that are known to be exploited (a KEV catalog's entry).
    owner: CISO
    unit: count
    better: lower
    thresholds: {green: 0, amber: 2}
    kind: vulnerability
    time: state
    filter: kev && !fixed_at.hasValue()
    aggregate: count
  - id: open_openssl
    name: Open OpenSSL vulnerabilities
    pillar: security
    description: Vulnerabilities in OpenSSL open at as_of.
    owner: CISO
    unit: count
    better: lower
    thresholds: {green: 0, amber: 3}
    kind: vulnerability
    time: state
    filter: package_name == "openssl" && !fixed_at.hasValue()
    aggregate: count
    breakdowns: [package, team]
`
	c, err := Load(write(t, kev), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{"open_known_exploited": {"team", "service", "tier", "business_unit", "package"}, "open_openssl": {"package", "team"}} {
		if m, _ := cat.Metric(id); m == nil || !slices.Equal(m.Breakdowns, want) {
			t.Errorf("%s: breakdowns %v, want %v", id, m.Breakdowns, want)
		}
	}
	// The example of docs/custom-metrics.md loads too.
	doc, err := os.ReadFile("../../docs/custom-metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	var example string
	for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(b[1], "id: open_known_exploited") {
			example = b[1]
		}
	}
	dc, err := Load(write(t, example), env(nil))
	if err != nil {
		t.Fatalf("the documentation's example: %v", err)
	}
	dcat, err := dc.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := dcat.Metric("open_known_exploited"); m == nil || !slices.Equal(m.Breakdowns, []string{"package", "team", "service"}) {
		t.Errorf("the documentation's example: %+v", m)
	}
	// Written as the record names it, the reserved word is refused pointing at the field.
	_, err = Load(write(t, strings.Replace(kev, `filter: package_name == "openssl"`, `filter: package == "openssl"`, 1)), env(nil))
	if err == nil || !strings.Contains(err.Error(), `"package" is a reserved word of CEL: a vulnerability's package is the field package_name`) {
		t.Errorf("package in a filter: %v", err)
	}
}

// docs/custom-metrics.md's "Fields per kind" table gives each kind's fields and breakdowns as the
// engine has them: it had listed a ticket's breakdowns as priority and segment only, a cost's
// and a usage record's without team and tier, while definitions breaking them down so loaded
// and a breakdown-less one offered them all.
func TestCustomMetricsDocFieldsTable(t *testing.T) {
	table := docAfter(t, "../../docs/custom-metrics.md", "### Fields per kind")
	// A cell's names: each comma-separated item's first word, without the
	// optional's ? and the notes in parentheses or after a colon.
	names := func(cell string) []string {
		cell = regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(cell, "")
		var out []string
		for _, item := range strings.Split(cell, ",") {
			if f := strings.Fields(strings.Trim(item, " `—")); len(f) > 0 {
				out = append(out, strings.TrimSuffix(strings.Trim(f[0], "`"), "?"))
			}
		}
		slices.Sort(out)
		return out
	}
	row := regexp.MustCompile("(?m)^\\| `(\\w+)`[^|]*\\| ([^|]*) \\| ([^|]*) \\|$")
	seen := 0
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		kind := domain.Kind(m[1])
		var fields []string
		for _, f := range metrics.CustomFields(kind) {
			fields = append(fields, strings.Fields(f)[0])
		}
		slices.Sort(fields)
		if got := names(m[2]); !slices.Equal(got, fields) {
			t.Errorf("%s: the table's fields are %v, the engine's %v", kind, got, fields)
		}
		dims := metrics.CustomDims(kind)
		slices.Sort(dims)
		if got := names(m[3]); !slices.Equal(got, dims) {
			t.Errorf("%s: the table's breakdowns are %v, the engine's %v", kind, got, dims)
		}
		seen++
	}
	if want := len(metrics.CustomKinds()); seen != want {
		t.Errorf("the table has %d kinds, the engine %d", seen, want)
	}
}
