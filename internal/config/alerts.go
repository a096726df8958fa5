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

// NamedEnv are the environment variables the configuration names for
// Candor to read: the alert channels' secret_env and the gate policies'
// watch.webhook_secret_env.
func (c Config) NamedEnv() []string {
	named := c.Alerts.SecretEnvs()
	if c.watchEnv != "" {
		named = append(named, c.watchEnv)
	}
	return named
}

// CheckAlertSecrets refuses, naming each variable, the alert channels
// whose secret_env variable is unset (the named ones, or all): for the
// commands that send notifications, which Load does not know.
func (c Config) CheckAlertSecrets(channels ...string) error {
	cat, err := c.Catalog()
	if err != nil {
		return err
	}
	set, err := c.AlertSettings(cat)
	if err != nil {
		return err
	}
	return set.CheckSecrets(channels...)
}

// CheckWatchSecret refuses gate policies whose rollback webhook's secret
// variable is unset: for the command that runs the watch (serve).
func (c Config) CheckWatchSecret() error {
	cat, err := c.Catalog()
	if err != nil {
		return err
	}
	p, err := c.GatePolicies(cat)
	if err != nil {
		return err
	}
	return p.CheckWebhookSecret(c.Getenv)
}

// Getenv reads a variable the configuration names (a secret_env) from the
// environment Load read.
func (c Config) Getenv(name string) string {
	if c.env == nil {
		return os.Getenv(name)
	}
	return c.env(name)
}
