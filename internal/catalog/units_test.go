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

// A target below what the metric can be is refused, naming the field: a
// negative ARR target had been accepted, and with ARR judged at factors of
// its target every ARR was green.
func TestTargetsFitTheMetric(t *testing.T) {
	base, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		id   string
		v    float64
		says string
	}{
		{"arr", -5, `override "arr": target: -5 must be greater than zero: arr's thresholds are factors of its target`},
		{"cac", 0, `override "cac": target: 0 must be greater than zero`},
		{"mttr", -1, `override "mttr": target: -1 is below zero; mttr is in hours, which is never negative`},
		{"open_escalations", -2, "open_escalations is in count"},
	} {
		if _, err := base.Apply(map[string]Override{c.id: {Target: f(c.v)}}); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s target %v: err = %v, want %q", c.id, c.v, err, c.says)
		}
	}
	// What can be below zero may aim below zero.
	if _, err := base.Apply(map[string]Override{"budget_variance": {Target: f(-2)}, "nps": {Target: f(-10)}, "arr": {Target: f(1e6)}}); err != nil {
		t.Fatalf("targets that fit refused: %v", err)
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
