package catalog

import (
	"strings"
	"testing"
)

// A count metric's target is a whole number, in the catalog and in an
// organisation's override; other units keep fractions.
func TestCountTargetsAreWhole(t *testing.T) {
	base, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	_, err = base.Apply(map[string]Override{"mql_volume": {Target: f(184.52)}})
	if err == nil || !strings.Contains(err.Error(), "184.52 is not a whole number; mql_volume is a count") {
		t.Fatalf("fractional count target: err = %v", err)
	}
	if _, err := base.Apply(map[string]Override{"mql_volume": {Target: f(185)}, "cac": {Target: f(18000.5)}}); err != nil {
		t.Fatalf("whole count target or fractional money target refused: %v", err)
	}
	c := base.clone()
	m, _ := c.Metric("open_escalations")
	m.Target = f(2.5)
	if errs := c.problems(); len(errs) != 1 || errs[0].Field != "target" || !strings.Contains(errs[0].Msg, "not a whole number") {
		t.Fatalf("catalog with a fractional count target: %v", errs)
	}
}

// A metric's name says which statistic it shows: "Mean time to restore"
// over a median misled readers comparing it with other tools' means.
func TestNamesSayTheStatistic(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range c.Metrics {
		name := strings.ToLower(m.Name)
		for stat, other := range map[string]string{"median": "mean", "mean": "median"} {
			if !strings.HasPrefix(strings.ToLower(m.Description), stat+" ") {
				continue
			}
			n++
			if !strings.Contains(name, "("+stat+")") || strings.Contains(strings.ReplaceAll(name, "("+stat+")", ""), other) {
				t.Errorf("%s is the %s of …, but is named %q", m.ID, stat, m.Name)
			}
		}
	}
	if n < 7 {
		t.Errorf("only %d metrics are medians or means: the description wording changed?", n)
	}
}
