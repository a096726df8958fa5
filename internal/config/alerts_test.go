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
	// A good rule replaces the default of that name.
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

// A webhook's secret is needed only to send: the configuration loads
// without it (every command that sends nothing runs), the commands that
// send ask CheckAlertSecrets, which names the variable; a webhook naming
// no variable is still refused at load. The variable secret_env names is
// one Candor reads: CheckEnviron takes it.
func TestAlertSecretOnlyToSend(t *testing.T) {
	p := write(t, `alerts:
  channels:
    - {name: ops-hook, type: webhook, url: https://hooks.example.com/candor, secret_env: CANDOR_OPS_HOOK_SECRET}
    - {name: eng-slack, type: slack, secret_env: CANDOR_SLACK_URL}
    - {name: in-app, type: inapp}
`)
	c, err := Load(p, env(nil))
	if err != nil {
		t.Fatalf("without the secrets: %v", err)
	}
	err = c.CheckAlertSecrets()
	for _, want := range []string{"alerts.channels ops-hook: secret_env: the environment variable CANDOR_OPS_HOOK_SECRET is not set", "alerts.channels eng-slack: secret_env: the environment variable CANDOR_SLACK_URL is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckAlertSecrets = %v, want %q", err, want)
		}
	}
	if err := c.CheckAlertSecrets("in-app"); err != nil {
		t.Errorf("the in-app channel needs no secret: %v", err)
	}
	if err := c.CheckAlertSecrets("eng-slack"); err == nil || strings.Contains(err.Error(), "ops-hook") {
		t.Errorf("eng-slack alone: %v", err)
	}
	c, err = Load(p, env(map[string]string{"CANDOR_OPS_HOOK_SECRET": "s", "CANDOR_SLACK_URL": "https://hooks.slack.com/services/T/B/X"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAlertSecrets(); err != nil {
		t.Errorf("with the secrets: %v", err)
	}
	if err := CheckEnviron([]string{"CANDOR_OPS_HOOK_SECRET=s", "CANDOR_SLACK_URL=u"}, c.NamedEnv()...); err != nil {
		t.Errorf("the variables secret_env names: %v", err)
	}
	if err := CheckEnviron([]string{"CANDOR_OPS_HOOK_SECRT=s"}, c.NamedEnv()...); err == nil || !strings.Contains(err.Error(), "did you mean CANDOR_OPS_HOOK_SECRET?") {
		t.Errorf("a mistyped secret variable: %v", err)
	}
	if _, err := Load(write(t, "alerts:\n  channels:\n    - {name: ops, type: webhook, url: https://hooks.example.com/candor}\n"), env(nil)); err == nil || !strings.Contains(err.Error(), `:3: alert channel "ops": secret_env`) {
		t.Errorf("a webhook naming no variable: %v", err)
	}
}
