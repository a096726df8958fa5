package config

import (
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/gate"
)

// GatesConfig is the gates: section.
type GatesConfig struct {
	// Policies is the release gate policies file (docs/gates.md), relative
	// to the configuration file's folder; none: the built-in policies with
	// their defaults.
	Policies string `yaml:"policies"`
}

// GatePolicies loads and compiles the release gate policies; an invalid
// one is an error naming its file, line and column.
func (c Config) GatePolicies(cat *catalog.Catalog) (*gate.Policies, error) {
	if c.gates != nil {
		// A proposal's policies are in force (WithSection).
		return gate.Load(c.gates.label, c.gates.src, cat)
	}
	if c.Gates.Policies == "" {
		return gate.Defaults(cat), nil
	}
	return gate.LoadFile(c.gatesFile(), cat)
}
