package config

import (
	"strings"
	"testing"
)

// A metric a proposal drops while something still names it is refused naming where that is: an
// alert rule or a view an approved proposal put in force is named by that proposal, not by the
// configuration file, which does not hold it (the refusal had said "config candor.yaml: alert
// rule …" of a rule that file never had, and pointed at the file's lines for a view).
func TestStillInUseNamesTheSectionInForce(t *testing.T) {
	metric := func(id string) string {
		return "  - id: " + id + "\n    name: Compute spend\n    pillar: cost\n    description: d\n    owner: CFO\n" +
			"    unit: count\n    better: lower\n    thresholds: {green: 1, amber: 3}\n    kind: cost\n" +
			"    time: period\n    filter: category == \"compute\"\n    aggregate: count\n"
	}
	file := write(t, "custom_metrics:\n"+metric("compute_bills")+metric("other_bills"))
	c, cat := loadGoverned(t, file)
	for _, tc := range []struct {
		section, label, text, want string
	}{
		{"alerts.rules", "proposal 69 (alerts.yaml)", "alerts:\n  rules:\n    - {name: bills, kind: status, metric: compute_bills}\n",
			`proposal 69 (alerts.yaml):3: alert rule "bills"`},
		{"views", "proposal 70", "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr, compute_bills]\n    roles: [ceo]\n",
			`proposal 70:4: view "ops": metrics[1]: unknown metric "compute_bills"`},
	} {
		with, err := c.WithSection(tc.section, tc.label, []byte(tc.text), cat)
		if err != nil {
			t.Fatal(err)
		}
		dropped, err := with.WithSection("custom_metrics", "proposal 71", []byte("custom_metrics:\n"+metric("other_bills")), cat)
		if err != nil {
			t.Fatal(err)
		}
		err = dropped.CheckUses("custom_metrics", "proposal 71", cat)
		if err == nil || !strings.Contains(err.Error(), "it removes or renames compute_bills, still in use") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s in force from %s: %v, want %q", tc.section, tc.label, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), file) {
			t.Errorf("%s in force from %s: %v names the configuration file", tc.section, tc.label, err)
		}
	}
}
