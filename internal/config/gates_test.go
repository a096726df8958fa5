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
