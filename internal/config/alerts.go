package config

import (
	"os"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
)

// AlertSettings checks the alerts: section against cat: every rule and
// channel problem names the file and line.
func (c Config) AlertSettings(cat *catalog.Catalog) (alert.Settings, error) {
	env := c.env
	if env == nil {
		env = os.Getenv
	}
	var line func(string) int
	if c.src != nil {
		line = func(path string) int { return catalog.YAMLLine(c.src, "alerts."+path) }
	}
	return alert.Setup(c.Alerts, cat, env, orName(c.path), line)
}
