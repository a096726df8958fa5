package config

import (
	"fmt"
	"os"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/gate"
)

// GatesSection is the governed section of the gate policies.
const GatesSection = "gates"

// GatesConfig is the gates: section.
type GatesConfig struct {
	// Policies is the release gate policies file (docs/gates.md), relative
	// to the configuration file's folder; none: the built-in policies with
	// their defaults.
	Policies string `yaml:"policies"`
}

// GatePolicies loads and compiles the release gate policies in force; an
// invalid one is an error naming its file (or proposal), line and column.
func (c Config) GatePolicies(cat *catalog.Catalog) (*gate.Policies, error) {
	label, src, err := c.gatesSource()
	if err != nil {
		return nil, err
	}
	if label == "" {
		return gate.Defaults(cat), nil
	}
	return gate.Load(label, src, cat)
}

// gatesSource is the gate policies' text in force and the name its errors
// give: a proposal's (WithSection), else the file gates.policies names;
// label "" for the built-in policies.
func (c Config) gatesSource() (label string, src []byte, err error) {
	if c.gates != nil {
		return c.gates.label, c.gates.src, nil
	}
	if c.Gates.Policies == "" {
		return "", nil, nil
	}
	b, err := c.readGatesFile()
	if err != nil {
		return "", nil, err
	}
	return c.gatesFile(), b, nil
}

// readGatesFile reads the policies file gates.policies names; an error
// names the configuration file and line that named it, as the file's own
// errors name theirs ("config candor.yaml:12: gates.policies: open
// /etc/candor/gates.yaml: no such file or directory").
func (c Config) readGatesFile() ([]byte, error) {
	b, err := os.ReadFile(c.gatesFile())
	if err != nil {
		at := orName(c.path)
		if line := catalog.YAMLLine(c.src, "gates.policies"); line > 0 {
			at = fmt.Sprintf("%s:%d", c.path, line)
		}
		return nil, fmt.Errorf("config %s: gates.policies: %w", at, err)
	}
	return b, nil
}

// setWatch keeps the variable the gate policies in force (p) name for the
// rollback webhook's secret, and where they name it (FILE:LINE, or the
// proposal's), so that the variable is known (NamedEnv) and checked
// (CheckWatchSecret) as the policies in force have it.
func (c *Config) setWatch(p *gate.Policies) {
	c.watchEnv, c.watchAt = p.WebhookSecretEnv(), ""
	if c.watchEnv == "" {
		return
	}
	label, src, _ := c.gatesSource()
	c.watchAt = label
	if line := catalog.YAMLLine(src, "watch.webhook_secret_env"); line > 0 {
		c.watchAt = fmt.Sprintf("%s:%d", label, line)
	}
}

// SectionEnv are the environment variables a governed section's text
// (as a proposal gives it) names for Candor to read: a gates section's
// watch.webhook_secret_env; none for the others, or for text that does
// not read (the proposal's own checks say why).
func SectionEnv(name, src string) []string {
	if name != GatesSection {
		return nil
	}
	var doc struct {
		Watch struct {
			WebhookSecretEnv string `yaml:"webhook_secret_env"`
		} `yaml:"watch"`
	}
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil || doc.Watch.WebhookSecretEnv == "" {
		return nil
	}
	return []string{doc.Watch.WebhookSecretEnv}
}
