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
