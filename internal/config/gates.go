package config

import (
	"path/filepath"

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
	if c.Gates.Policies == "" {
		return gate.Defaults(cat), nil
	}
	path := c.Gates.Policies
	if !filepath.IsAbs(path) && c.path != "" {
		path = filepath.Join(filepath.Dir(c.path), path)
	}
	return gate.LoadFile(path, cat)
}
