package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

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
	// The rules a proposal put in force are named by it, and their lines
	// are its text's; the rest of the section is the file's.
	rulesFrom, rulesSrc := c.sectionSource("alerts.rules")
	var line func(string) int
	if c.src != nil || rulesSrc != nil {
		line = func(path string) int {
			if strings.HasPrefix(path, "rules") {
				return catalog.YAMLLine(rulesSrc, "alerts."+path)
			}
			return catalog.YAMLLine(c.src, "alerts."+path)
		}
	}
	a := c.Alerts
	if rulesFrom != orName(c.path) {
		a.RulesFrom = rulesFrom
	}
	a.ReportsMail = len(c.Reports.Recipients) > 0 || len(c.Reports.Board.To) > 0
	return alert.Setup(a, cat, env, orName(c.path), line)
}

// NamedEnv are the environment variables the configuration names for
// Candor to read: the alert channels' secret_env and the gate policies'
// watch.webhook_secret_env — the policies in force: a gates section a
// proposal put in force (WithSection) names its own.
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

// CheckSyncReady refuses the pull collectors scheduled
// (connectors.<source>.sync.every) that cannot run — no token in the file
// nor CANDOR_SYNC_TOKEN_<SOURCE>, no repositories, … —, naming the line
// of their every: for serve, whose leader runs them, as CheckAlertSecrets
// refuses a channel it could not sign for. Each run had logged an ERROR
// instead ("no token for the github collector"), from the first start on.
func (c Config) CheckSyncReady() error {
	unready := c.Connectors.ScheduledUnready()
	var errs []error
	for _, src := range slices.Sorted(maps.Keys(unready)) {
		errs = append(errs, c.loadError(fmt.Errorf("connectors.%s.sync.every: the %s collector is scheduled, but cannot run: %s; or leave every out to run it only with candor sync %s",
			src, src, unready[src], src)))
	}
	return errors.Join(errs...)
}

// CheckWatchSecret refuses gate policies in force whose rollback
// webhook's secret variable is unset, naming where they name it (the
// policies file's line, or the proposal's): for the command that runs the
// watch (serve), and for an approval that puts such policies in force.
func (c Config) CheckWatchSecret() error {
	if c.watchEnv == "" || c.Getenv(c.watchEnv) != "" {
		return nil
	}
	return fmt.Errorf("%s: watch.webhook_secret_env: the environment variable %s is not set; the rollback webhook cannot be signed", c.watchAt, c.watchEnv)
}

// Getenv reads a variable the configuration names (a secret_env) from the
// environment Load read.
func (c Config) Getenv(name string) string {
	if c.env == nil {
		return os.Getenv(name)
	}
	return c.env(name)
}
