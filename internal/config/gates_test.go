package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An invalid gate policy stops every command at load, naming the policy
// file's line and column; the file is found beside the configuration.
func TestLoadRefusesInvalidGatePolicy(t *testing.T) {
	cfg := write(t, "gates: {policies: gates.yaml}\n")
	gates := filepath.Join(filepath.Dir(cfg), "gates.yaml")
	if err := os.WriteFile(gates, []byte("policies:\n  - id: cfr\n    require: kpi.change_failure_rate <\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(cfg, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), gates+":3:") {
		t.Fatalf("invalid policy: %v, want an error at %s:3:…", err, gates)
	}
	if err := os.WriteFile(gates, []byte("policies:\n  - id: cfr\n    require: kpi.change_failure_rate < 20.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if kpis := policyKPIs(t, cfg); !strings.Contains(kpis, "change_failure_rate") {
		t.Fatalf("valid policy reads %s", kpis)
	}
}

// policyKPIs loads the configuration at path and returns the KPIs its gate policies read, joined
// by commas.
func policyKPIs(t *testing.T, path string) string {
	t.Helper()
	c, err := Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := c.Catalog()
	p, err := c.GatePolicies(cat)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(p.KPIs(), ",")
}

// watchSecretConfig writes a configuration whose gate policies file names
// CANDOR_ROLLBACK_SECRET for the rollback webhook, and returns both paths.
func watchSecretConfig(t *testing.T) (cfg, gates string) {
	t.Helper()
	cfg = write(t, "gates: {policies: gates.yaml}\n")
	gates = filepath.Join(filepath.Dir(cfg), "gates.yaml")
	if err := os.WriteFile(gates, []byte("watch: {webhook: https://deploy.example.com/rollback, webhook_secret_env: CANDOR_ROLLBACK_SECRET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, gates
}

// The rollback webhook's watch.webhook_secret_env names a variable Candor
// reads: the environment check accepts it (and suggests it for a typo), and
// the check serve makes refuses it unset.
func TestWatchSecretEnvIsNamed(t *testing.T) {
	cfg, _ := watchSecretConfig(t)
	c, err := Load(cfg, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckEnviron([]string{"CANDOR_ROLLBACK_SECRET=s"}, c.NamedEnv()...); err != nil {
		t.Errorf("the variable webhook_secret_env names: %v", err)
	}
	if err := CheckEnviron([]string{"CANDOR_ROLLBACK_SECRT=s"}, c.NamedEnv()...); err == nil || !strings.Contains(err.Error(), "did you mean CANDOR_ROLLBACK_SECRET?") {
		t.Errorf("a mistyped secret variable: %v", err)
	}
	if err := c.CheckWatchSecret(); err == nil || !strings.Contains(err.Error(), "watch.webhook_secret_env: the environment variable CANDOR_ROLLBACK_SECRET is not set") {
		t.Errorf("CheckWatchSecret without the variable: %v", err)
	}
	if c, err = Load(cfg, env(map[string]string{"CANDOR_ROLLBACK_SECRET": "s"})); err != nil {
		t.Fatal(err)
	}
	// The name is the configuration's, not Candor's own (TestEveryReadVariableIsKnown).
	if named := c.NamedEnv(); len(named) != 1 || c.Getenv(named[0]) != "s" {
		t.Errorf("NamedEnv %v, want the secret's variable, read from the environment Load read", named)
	}
	if err := c.CheckWatchSecret(); err != nil {
		t.Errorf("CheckWatchSecret with the variable: %v", err)
	}
}

// A gates section a proposal puts in force (WithSection) names its own
// rollback webhook secret: NamedEnv and CheckWatchSecret follow the
// policies in force, each naming where the variable is named, and not the
// file's any more. NamedEnv had kept the file's variable.
func TestWithSectionNamesItsWatchSecret(t *testing.T) {
	cfg, gates := watchSecretConfig(t)
	c, err := Load(cfg, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckWatchSecret(); err == nil || !strings.Contains(err.Error(), gates+":1: watch.webhook_secret_env: the environment variable CANDOR_ROLLBACK_SECRET is not set") {
		t.Errorf("the file's unset secret: %v", err)
	}
	cat, _ := c.Catalog()
	src := "risk: {threshold: 60}\nwatch:\n  webhook: https://deploy.example.com/rollback\n  webhook_secret_env: CANDOR_DEPLOY_SECRET\n"
	p, err := c.WithSection(GatesSection, "proposal 7", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	if named := p.NamedEnv(); len(named) != 1 || named[0] != "CANDOR_DEPLOY_SECRET" {
		t.Errorf("NamedEnv with the proposal's policies: %v, want [CANDOR_DEPLOY_SECRET]", named)
	}
	if err := CheckEnviron([]string{"CANDOR_DEPLOY_SECRET=s"}, p.NamedEnv()...); err != nil {
		t.Errorf("the proposal's variable: %v", err)
	}
	if err := p.CheckWatchSecret(); err == nil || !strings.Contains(err.Error(), "proposal 7:4: watch.webhook_secret_env: the environment variable CANDOR_DEPLOY_SECRET is not set") {
		t.Errorf("the proposal's unset secret: %v", err)
	}
	if got := SectionEnv(GatesSection, src); len(got) != 1 || got[0] != "CANDOR_DEPLOY_SECRET" {
		t.Errorf("SectionEnv: %v", got)
	}
	// Policies without a webhook name no variable: the file's is neither
	// known nor required.
	none, err := c.WithSection(GatesSection, "proposal 8", []byte("risk: {threshold: 60}\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	if named := none.NamedEnv(); len(named) != 0 {
		t.Errorf("NamedEnv without a webhook: %v", named)
	}
	if err := none.CheckWatchSecret(); err != nil {
		t.Errorf("CheckWatchSecret without a webhook: %v", err)
	}
}
