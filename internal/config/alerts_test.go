package config

import (
	"strings"
	"testing"
)

func TestAlertRulesCheckedAtLoad(t *testing.T) {
	p := write(t, `alerts:
  channels:
    - name: ops
      type: webhook
      url: https://hooks.example.com/candor
      secret_env: OPS_HOOK_SECRET
  rules:
    - name: win_rate_drop
      kind: change
      metric: win_rate
      value: 15
      direction: drop
    - name: bad
      kind: threshold
      metric: win_rat
      op: "=<"
      for: soon
      channels: [ops, pager]
`)
	_, err := Load(p, env(map[string]string{"OPS_HOOK_SECRET": "s"}))
	if err == nil {
		t.Fatal("bad rules accepted")
	}
	for _, want := range []string{p + `:15: alert rule "bad": metric: unknown metric "win_rat"`, p + `:16: alert rule "bad": op:`,
		p + `:17: alert rule "bad": for: not a duration`, p + `:18: alert rule "bad": channels[1]: unknown channel "pager"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "win_rate_drop") {
		t.Errorf("the good rule was reported: %v", err)
	}
	// Without its secret a webhook is refused; with it, and a good rule, the
	// configured rule replaces the default of that name.
	if _, err := Load(p, env(nil)); err == nil || !strings.Contains(err.Error(), `:6: alert channel "ops": secret_env`) {
		t.Errorf("webhook without its secret: %v", err)
	}
	good := write(t, `alerts:
  rules:
    - name: win_rate_drop
      kind: change
      metric: win_rate
      value: 15
      direction: drop
`)
	c, err := Load(good, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := c.Catalog()
	s, err := c.AlertSettings(cat)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range s.Rules {
		if r.Name == "win_rate_drop" {
			n++
			if r.Value != 15 {
				t.Errorf("win_rate_drop = %+v, want the configured one", r)
			}
		}
	}
	if n != 1 || len(s.Rules) < 10 || s.Timing.RepeatInterval.Hours() != 4 {
		t.Errorf("rules %d named win_rate_drop of %d, timing %+v", n, len(s.Rules), s.Timing)
	}
}
