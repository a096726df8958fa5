package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
)

// A governed section is compared by value, not by text: the configuration
// file's views and a proposal's, written differently, are one value; a
// proposal that names another section too is refused.
func TestSectionValueAndProposalText(t *testing.T) {
	c, err := Load(write(t, "currency: EUR\n# the board's own view\n"+boardView), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	was, err := c.SectionValue("views")
	if err != nil {
		t.Fatal(err)
	}
	same := `views: [{id: cfo, name: CFO, description: "Spend against budget and what revenue it buys.", ` +
		`metrics: [budget_variance, infrastructure_cost, arr, cac_payback_months], breakdowns: {budget_variance: category}, sections: [pillars], roles: [ceo, vp_cs]}]`
	got, err := SectionOf("views", "p.yaml", []byte(same))
	if err != nil || !bytes.Equal(got, was) {
		t.Errorf("SectionOf = %s, %v; want %s", got, err, was)
	}
	if v, err := c.SectionValue("alerts.rules"); err != nil || string(v) != "null" {
		t.Errorf("alerts.rules not configured = %s, %v; want null", v, err)
	}
	if _, err := SectionOf("alerts.rules", "p.yaml", []byte("currency: EUR\nalerts:\n  rules: []\n")); err == nil || !strings.Contains(err.Error(), "p.yaml: currency is not part of section alerts.rules") {
		t.Errorf("another key: %v", err)
	}
	if _, err := SectionOf("alerts.rules", "p.yaml", []byte("alerts:\n  channels: []\n")); err == nil || !strings.Contains(err.Error(), "alerts.channels is not part") {
		t.Errorf("the channels: %v", err)
	}
	if _, err := SectionByName("metrics"); err == nil || !strings.Contains(err.Error(), "alerts.rules, gates, views") {
		t.Errorf("unknown section: %v", err)
	}
}

// A proposal's section is checked as the file is at load: an error names
// the proposal and its line; a good one replaces the configured value.
func TestWithSection(t *testing.T) {
	c, err := Load(write(t, boardView), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	bad := "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr, no_such_metric]\n"
	if _, err := c.WithSection("views", "proposal 7 (ops.yaml)", []byte(bad), cat); err == nil || !strings.Contains(err.Error(), "proposal 7 (ops.yaml):4") {
		t.Errorf("a bad view: %v", err)
	}
	good := "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr]\n    roles: [engineering]\n"
	out, err := c.WithSection("views", "proposal 8", []byte(good), cat)
	if err != nil {
		t.Fatal(err)
	}
	withViews, err := out.AddViews(cat)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := withViews.View("ops"); !ok {
		t.Error("the proposal's view is not in the catalog")
	}
	if _, ok := withViews.View("cfo"); ok {
		t.Error("the configured view is still there: a section's value replaces it")
	}
	if _, err := c.WithSection("gates", "proposal 9 (gates.yaml)", []byte("coverage:\n  severity: nope\n"), cat); err == nil || !strings.Contains(err.Error(), "proposal 9 (gates.yaml)") {
		t.Errorf("bad gate policies: %v", err)
	}
	out, err = c.WithSection("gates", "proposal 10", []byte("coverage: {min: 0.9}\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := out.GatePolicies(cat); err != nil {
		t.Errorf("the proposal's policies: %v", err)
	}
}

// TestCustomMetricsSection: the organisation's metrics are a section. A
// proposal's text is checked as at load — a type error named with the
// proposal, its line and column — and replaces the configured list; a list
// that renames a metric a view shows is refused saying so, and so is a
// views value that drops a view a metric names.
func TestCustomMetricsSection(t *testing.T) {
	metric := func(id, filter string) string {
		return "  - id: " + id + "\n    name: Failed deployments\n    pillar: delivery\n    description: d\n    owner: VP Engineering\n" +
			"    unit: count\n    better: lower\n    thresholds: {green: 1, amber: 3}\n    views: [ops]\n    kind: deployment\n" +
			"    time: finished_at\n    filter: " + filter + "\n    aggregate: count\n"
	}
	const views = "views:\n  - id: ops\n    name: Ops\n    metrics: [failed_deploys, mttr]\n    roles: [ceo]\n"
	c, cat := loadGoverned(t, write(t, "custom_metrics:\n"+metric("failed_deploys", `status == "failure"`)+views))
	if v, err := c.SectionValue("custom_metrics"); err != nil || !strings.Contains(string(v), `"filter":"status == \"failure\""`) {
		t.Errorf("the configured value: %s %v", v, err)
	}
	_, err := c.WithSection("custom_metrics", "proposal 12 (metrics.yaml)", []byte("custom_metrics:\n"+metric("failed_deploys", "status > 3")), cat)
	if err == nil || !strings.Contains(err.Error(), `proposal 12 (metrics.yaml):13:20: custom metric "failed_deploys": filter:`) {
		t.Errorf("a type error: %v", err)
	}
	out, err := c.WithSection("custom_metrics", "proposal 13", []byte("custom_metrics:\n"+metric("failed_deploys", `status != "failure"`)), cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.CheckUses("custom_metrics", "proposal 13", cat); err != nil {
		t.Errorf("a changed computation: %v", err)
	}
	if len(out.CustomMetricDefs) != 1 || out.CustomMetricDefs[0].Filter != `status != "failure"` {
		t.Errorf("the proposal's list is not in force: %+v", out.CustomMetricDefs)
	}
	renamed, err := c.WithSection("custom_metrics", "proposal 14", []byte("custom_metrics:\n"+metric("deploys_failed", `status == "failure"`)), cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := renamed.CheckUses("custom_metrics", "proposal 14", cat); err == nil ||
		!strings.Contains(err.Error(), "proposal 14: it removes or renames failed_deploys, still in use") || !strings.Contains(err.Error(), `view "ops"`) {
		t.Errorf("a rename the view does not follow: %v", err)
	}
	noOps, err := c.WithSection("views", "proposal 15", []byte("views: []\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := noOps.CheckUses("views", "proposal 15", cat); err == nil || !strings.Contains(err.Error(), `views[0]: unknown view "ops"`) {
		t.Errorf("dropping a view a metric names: %v", err)
	}
}

// loadGoverned loads the configuration file and returns it with its governed catalog (its own
// metrics and views beside the built-ins), as proposals are checked against.
func loadGoverned(t *testing.T, file string) (Config, *catalog.Catalog) {
	t.Helper()
	c, err := Load(file, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.AddViews(mustDefault(t))
	if err != nil {
		t.Fatal(err)
	}
	return c, cat.Governed()
}

func mustDefault(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
