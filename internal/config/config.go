// Package config reads Candor's configuration: one YAML file, then
// CANDOR_* environment variables, then command-line flags, each overriding
// the one before. Every option is documented in docs/configuration.md.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/insight"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/report"
)

// Config is the whole configuration.
type Config struct {
	// Data is the directory of the embedded SQLite store.
	Data string `yaml:"data"`
	// DB, when set, is a postgres:// URL and replaces the embedded store.
	DB string `yaml:"db"`
	// Addr is where `candor serve` listens.
	Addr string `yaml:"addr"`
	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection of
	// `candor serve` (durations; see Timeouts).
	ReadTimeout  string `yaml:"read_timeout"`
	WriteTimeout string `yaml:"write_timeout"`
	IdleTimeout  string `yaml:"idle_timeout"`
	// Currency is the organisation currency (ISO 4217).
	Currency string `yaml:"currency"`
	// ExchangeRates converts other currencies: units of Currency per unit.
	ExchangeRates map[string]float64 `yaml:"exchange_rates"`
	// ProductionEnvironments are the environment names that mean
	// production when a deployment has no env_type.
	ProductionEnvironments []string `yaml:"production_environments"`
	// EnvironmentAliases maps a canonical environment name to the names
	// that mean it (production: [prod, live]); nil keeps the default
	// (metrics.DefaultEnvironmentAliases, only while
	// ProductionEnvironments is unset), empty means none.
	EnvironmentAliases map[string][]string `yaml:"environment_aliases"`
	// AttributionWindow bounds incident → deployment inference.
	AttributionWindow string `yaml:"attribution_window"`
	// ReleaseImpactWindow is the observation window after a release.
	ReleaseImpactWindow string `yaml:"release_impact_window"`
	// VulnerabilitySLA is the allowed age per severity.
	VulnerabilitySLA map[string]string `yaml:"vulnerability_sla"`
	// Freshness overrides the freshness limit of a source kind.
	Freshness map[string]string `yaml:"freshness"`
	// GrossMargin is used for CAC payback and LTV.
	GrossMargin *float64 `yaml:"gross_margin"`
	// FunnelMaturationLag is how old funnel_conversion's cohort of leads
	// is: created in [as_of − lag − window, as_of − lag) (default 90d).
	FunnelMaturationLag string `yaml:"funnel_maturation_lag"`
	// PipelineStages are the open stages of the sales process in funnel
	// order, as the CRM names them: the open pipeline by stage lists them
	// so (metrics.Config.PipelineStages).
	PipelineStages []string `yaml:"pipeline_stages"`
	// ReleaseImpactWeights overrides the ticket weights of
	// release_impact_score: field (priority, user_role, criticality) →
	// value → weight.
	ReleaseImpactWeights map[string]map[string]float64 `yaml:"release_impact_weights"`
	// TierWeights weighs a production deployment by its service's tier in
	// customer_weighted_change_failure_rate: "1", "2", "3" or "none" →
	// weight (defaults 3, 2, 1, 1).
	TierWeights map[string]float64 `yaml:"tier_weights"`
	// BusinessHours is the organisation's business calendar and, under
	// services, a service's own (business_hours_availability).
	BusinessHours *BusinessHours `yaml:"business_hours"`
	// MaxBodyBytes bounds an API request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// SnapshotInterval is how often the leader instance stores a KPI
	// snapshot (default 168h; "0" disables). See SnapshotEvery.
	SnapshotInterval string `yaml:"snapshot_interval"`
	// MaxLag is how far the data `candor serve` reads may fall behind the
	// store before /healthz reports it lagging (default 1s). See Lag.
	MaxLag string `yaml:"max_lag"`
	// ReadCopies is how many copies of the data `candor serve` keeps in
	// memory: 1 (default; a read waits for at most one apply step) or 2
	// (reads never wait for new rows being applied, at twice the memory
	// and the applying). See Copies. Unset (nil) is 1; a 0 written in the
	// file is refused, as CANDOR_READ_COPIES=0 is.
	ReadCopies *int `yaml:"read_copies"`
	// Metrics overrides catalog definitions per metric id.
	Metrics map[string]catalog.Override `yaml:"metrics"`
	// Views are the organisation's own role views, after the built-in ones (views.go).
	Views []View `yaml:"views"`
	// Auth configures sign-in, sessions and trusted proxies.
	Auth AuthConfig `yaml:"auth"`
	// Roles overrides the built-in roles' grants per role id.
	Roles map[string]auth.RoleOverride `yaml:"roles"`
	// Connectors holds the webhook sources' secrets and mapping rules
	// (docs/connectors/).
	Connectors connect.Config `yaml:"connectors"`
	// Ledger says where the audit ledger's signing key is.
	Ledger LedgerConfig `yaml:"ledger"`
	// Retention says when personal data is pseudonymised or erased.
	Retention RetentionConfig `yaml:"retention"`

	// Share configures share links (views.go).
	Share ShareConfig `yaml:"share"`
	// Annotations mark business-cycle periods on every trend chart (views.go).
	Annotations []Annotation `yaml:"annotations"`
	// Alerts are the alerting rules, channels and timings (alerts.go).
	Alerts alert.Config `yaml:"alerts"`
	// Gates names the release gate policies file (gates.go).
	Gates GatesConfig `yaml:"gates"`
	// Reports are the digest's and board pack's recipients and schedules (reports.go).
	Reports report.Config `yaml:"reports"`
	// Impact configures release impact, spikes, the survey webhook and
	// the insights' thresholds (insight.Config).
	Impact insight.Config `yaml:"impact"`
	// Image is the dataset image read at start (image.go).
	Image ImageConfig `yaml:"image"`

	// CustomMetricDefs are the organisation-defined metrics (custommetrics.go).
	CustomMetricDefs []CustomMetric `yaml:"custom_metrics"`

	// fromEnv names, by key path, the variables that set a value
	// (envVars), so that an error about the value names the variable.
	fromEnv map[string]string
	// setByEnv names the governed settings the environment set, each with
	// its variable (SetByEnv).
	setByEnv map[string]string
	// path is the file it was read from ("" for none).
	path string
	// src is the configuration file's bytes, kept so that checks made after decoding (a custom
	// view's metric, a role it names, an alert rule) can point at the line of path.
	src []byte
	// env is the environment Load read, kept for the alert channels' secrets.
	env func(string) string
	// watchEnv is the variable the gate policies in force name for the
	// rollback webhook's secret (NamedEnv), watchAt where (setWatch).
	watchEnv, watchAt string
	// gates, when set, are the gate policies a proposal put in force
	// (WithSection), in place of the file Gates names.
	gates *sectionDoc
	// sections are the texts of the other sections an approved proposal
	// put in force (WithSection), by name: what an error about them names
	// and reads the lines of, as the file does not hold them.
	sections map[string]sectionDoc
	// customEras are the custom_metrics values in force over time, the
	// last CustomMetricDefs (WithCustomEras); none: those alone.
	customEras []CustomEra
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Data:         "./candor-data",
		Addr:         "127.0.0.1:8080",
		Currency:     "USD",
		MaxBodyBytes: 32 << 20,
	}
}

// Load reads the file at path (none when empty), then the environment.
func Load(path string, env func(string) string) (Config, error) {
	c, err := load(path, env)
	if err != nil {
		// A refusal may quote the file's lines around a mistake (the YAML
		// library's snippet, a metric override's), and a line beside it
		// may be the db: URL or a secret: the operator's logs are no place
		// for them (docs/postgres.md: messages never show the password).
		err = &redactedError{err}
	}
	return c, err
}

func load(path string, env func(string) string) (Config, error) {
	c := Default()
	if env == nil {
		env = os.Getenv
	}
	if path == "" {
		path = env("CANDOR_CONFIG")
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		// A file with no document (empty, comments, a lone "---") decodes
		// as null, which zeroes the defaults Default filled in (the address
		// and the data directory became ""): it means "all defaults", so
		// it is not decoded at all.
		if !emptyDocument(b) {
			dec := yaml.NewDecoder(bytes.NewReader(b), yaml.DisallowUnknownField())
			if err := dec.Decode(&c); err != nil && err.Error() != "EOF" {
				return c, yamlError(path, b, err)
			}
			if err := catalog.FractionsInWholeFields("config "+path, b, reflect.TypeFor[Config]()); err != nil {
				return c, err
			}
		}
		c.src = b
	}
	c.path = path
	if err := c.applyEnv(env); err != nil {
		return c, err
	}
	if _, err := c.EngineConfig(); err != nil {
		return c, c.loadError(err)
	}
	if err := c.checkAddr(); err != nil {
		return c, c.loadError(err)
	}
	if err := c.checkMaxBody(); err != nil {
		return c, c.loadError(err)
	}
	if err := c.checkDB(); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.Lag(); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.Copies(); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.SnapshotEvery(); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.Timeouts(); err != nil {
		return c, c.loadError(err)
	}
	// Metric overrides are checked here too, so a bad one stops every
	// command at start rather than the first that builds a scorecard.
	cat, err := c.Catalog()
	if err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.AuthOptions(); err != nil {
		return c, c.loadError(err)
	}
	g, err := c.Grants(cat)
	if err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.OIDC(g); err != nil {
		return c, c.loadError(err)
	}
	if err := c.checkShare(); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.Periods(); err != nil {
		return c, c.loadError(err)
	}
	if err := c.checkLedger(); err != nil {
		return c, c.loadError(err)
	}
	if _, _, err := c.RetentionPolicy(); err != nil {
		return c, c.loadError(err)
	}
	if err := c.Connectors.Validate(); err != nil {
		return c, c.loadError(err)
	}
	c.env = env
	if _, err := c.AlertSettings(cat); err != nil {
		return c, c.loadError(err)
	}
	gates, err := c.GatePolicies(cat)
	if err != nil {
		return c, err
	}
	c.setWatch(gates)
	if _, err := c.ReportSettings(cat); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.Impact.Resolve(); err != nil {
		return c, c.loadError(err)
	}
	if _, err := c.ImageEvery(); err != nil {
		return c, c.loadError(err)
	}
	if err := c.checkImage(); err != nil {
		return c, c.loadError(err)
	}
	return c, nil
}

// emptyDocument reports whether b holds no configuration: no document,
// or only documents without a body or with a null one. A file that does
// not parse is not empty: decoding it reports the error with its line.
func emptyDocument(b []byte) bool {
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return false
	}
	for _, d := range f.Docs {
		if d.Body == nil {
			continue
		}
		if _, null := d.Body.(*ast.NullNode); !null {
			return false
		}
	}
	return true
}

func orName(p string) string {
	if p == "" {
		return "(environment)"
	}
	return p
}

// Env lists the environment variables Candor reads, for docs and usage.
var Env = []struct{ Name, Help string }{
	{"CANDOR_CONFIG", "path of the YAML configuration file"},
	{"CANDOR_DATA", "data directory of the embedded store (default ./candor-data)"},
	{"CANDOR_DB", "postgres:// URL of a PostgreSQL store (replaces the embedded one)"},
	{"CANDOR_ADDR", "listen address of candor serve (default 127.0.0.1:8080)"},
	{"CANDOR_READ_TIMEOUT", "candor serve: longest time to read a request, body included (default 1m)"},
	{"CANDOR_WRITE_TIMEOUT", "candor serve: longest time to answer a request once its headers are read (default 2m)"},
	{"CANDOR_IDLE_TIMEOUT", "candor serve: how long a kept-alive connection waits for the next request (default 2m)"},
	{"CANDOR_CURRENCY", "organisation currency, ISO 4217 (default USD)"},
	{"CANDOR_ATTRIBUTION_WINDOW", "incident → deployment attribution window (default 24h)"},
	{"CANDOR_PRODUCTION_ENVIRONMENTS", "comma-separated production environment names (default production,prod,prd,live)"},
	{"CANDOR_ENVIRONMENT_ALIASES", "environment aliases, CANONICAL=ALIAS,ALIAS;… (e.g. production=prod,live;staging=stage), or none"},
	{"CANDOR_MAX_BODY_BYTES", "largest accepted API request body in bytes (default 33554432)"},
	{"CANDOR_READ_COPIES", "copies of the data `candor serve` keeps in memory: 1 (default) or 2 (reads never wait for the rows being applied)"},
	{"CANDOR_SNAPSHOT_INTERVAL", "how often the leader stores a KPI snapshot, e.g. 168h or 1d; 0 disables (default 168h)"},
	{"CANDOR_TRUSTED_PROXIES", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed"},
	{"CANDOR_SECURE_COOKIES", "true: cookies are always Secure, even over plain HTTP (default false)"},
	{"CANDOR_OIDC_CLIENT_SECRET", "client secret of the OpenID Connect provider (auth.oidc.client_secret)"},
	{"CANDOR_LEDGER_KEY", "the audit ledger's signing key itself (candor ledger keygen); wins over ledger.key_file"},
	{"CANDOR_LEDGER_KEY_FILE", "file holding the audit ledger's signing key (default for the embedded store: DATA/ledger.key)"},
	{"CANDOR_RETENTION_KEY", "the pseudonym key of retention itself (base64 of 32 random bytes); wins over retention.key_file"},
	{"CANDOR_SMTP_URL", "mail server of the alert e-mails, smtp://user:pass@host:port (STARTTLS when offered) or smtps://; over alerts.smtp.url"},
	{"CANDOR_SMTP_FROM", "sender address of the alert e-mails; over alerts.smtp.from"},
	{"CANDOR_RETENTION_KEY_FILE", "file holding the pseudonym key of retention (default for the embedded store: DATA/pseudonym.key)"},
	{"CANDOR_URL", "candor gate check, approve, reject and retro-validate: the Candor server to ask (instead of opening the store)"},
	{"CANDOR_TOKEN", "candor gate check, approve, reject and retro-validate: the API token sent to CANDOR_URL"},
	{"CANDOR_IMAGE", "path of the dataset image read at start (default DATA/candor.image), or off"},
}

func init() {
	for _, s := range connect.SignedSources() {
		Env = append(Env, struct{ Name, Help string }{connect.SecretEnv(s), "the " + s + " webhook secret (over connectors." + s + ".secret)"})
	}
	for _, s := range connect.SyncSources() {
		Env = append(Env, struct{ Name, Help string }{connect.SyncTokenEnv(s), "the " + s + " collector's API token (over connectors." + s + ".sync.token)"})
	}
}

// envVar is a variable that sets one configuration key. Every value a
// variable sets is named by the variable when it is wrong, whether its
// setter refuses it or a check after loading does (Config.fromEnv).
type envVar struct {
	name, key string
	set       func(c *Config, v string) error
}

func text(field func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

// envVars are the variables that set configuration keys; the others of
// Env are read where they are used (CANDOR_CONFIG, CANDOR_URL, the mail
// server's).
var envVars = []envVar{
	{"CANDOR_DATA", "data", text(func(c *Config) *string { return &c.Data })},
	{"CANDOR_DB", "db", text(func(c *Config) *string { return &c.DB })},
	{"CANDOR_ADDR", "addr", text(func(c *Config) *string { return &c.Addr })},
	{"CANDOR_READ_TIMEOUT", "read_timeout", text(func(c *Config) *string { return &c.ReadTimeout })},
	{"CANDOR_WRITE_TIMEOUT", "write_timeout", text(func(c *Config) *string { return &c.WriteTimeout })},
	{"CANDOR_IDLE_TIMEOUT", "idle_timeout", text(func(c *Config) *string { return &c.IdleTimeout })},
	{"CANDOR_CURRENCY", "currency", text(func(c *Config) *string { return &c.Currency })},
	{"CANDOR_ATTRIBUTION_WINDOW", "attribution_window", text(func(c *Config) *string { return &c.AttributionWindow })},
	{"CANDOR_SNAPSHOT_INTERVAL", "snapshot_interval", text(func(c *Config) *string { return &c.SnapshotInterval })},
	{"CANDOR_IMAGE", "image.path", func(c *Config, v string) error { return c.applyImage(v) }},
	{"CANDOR_PRODUCTION_ENVIRONMENTS", "production_environments", func(c *Config, v string) error {
		c.ProductionEnvironments = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.ProductionEnvironments = append(c.ProductionEnvironments, s)
			}
		}
		return nil
	}},
	{"CANDOR_ENVIRONMENT_ALIASES", "environment_aliases", func(c *Config, v string) error {
		a, err := parseAliases(v)
		c.EnvironmentAliases = a
		return err
	}},
	{"CANDOR_READ_COPIES", "read_copies", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 1 && n != 2) {
			return fmt.Errorf("%q is not 1 or 2", v)
		}
		c.ReadCopies = &n
		return nil
	}},
	{"CANDOR_MAX_BODY_BYTES", "max_body_bytes", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of bytes", v)
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{"CANDOR_TRUSTED_PROXIES", "auth.trusted_proxies", func(c *Config, v string) error {
		c.Auth.TrustedProxies = strings.Split(v, ",")
		return nil
	}},
	{"CANDOR_SECURE_COOKIES", "auth.secure_cookies", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		c.Auth.SecureCookies = b
		return nil
	}},
	{"CANDOR_OIDC_CLIENT_SECRET", "auth.oidc.client_secret", func(c *Config, v string) error {
		if c.Auth.OIDC == nil {
			return fmt.Errorf("set, but the configuration has no auth.oidc section for it")
		}
		c.Auth.OIDC.ClientSecret = v
		return nil
	}},
	{"CANDOR_LEDGER_KEY", "ledger.key", text(func(c *Config) *string { return &c.Ledger.Key })},
	{"CANDOR_LEDGER_KEY_FILE", "ledger.key_file", text(func(c *Config) *string { return &c.Ledger.KeyFile })},
	{"CANDOR_RETENTION_KEY", "retention.key", text(func(c *Config) *string { return &c.Retention.Key })},
	{"CANDOR_RETENTION_KEY_FILE", "retention.key_file", text(func(c *Config) *string { return &c.Retention.KeyFile })},
}

func init() {
	for _, s := range connect.SignedSources() {
		envVars = append(envVars, envVar{connect.SecretEnv(s), "connectors." + s + ".secret", func(c *Config, v string) error {
			c.Connectors.SetSecret(s, v)
			return nil
		}})
	}
	for _, s := range connect.SyncSources() {
		envVars = append(envVars, envVar{connect.SyncTokenEnv(s), "connectors." + s + ".sync.token", func(c *Config, v string) error {
			c.Connectors.SetSyncToken(s, v)
			return nil
		}})
	}
}

func (c *Config) applyEnv(env func(string) string) error {
	c.fromEnv = map[string]string{}
	for _, e := range envVars {
		v := env(e.name)
		if v == "" {
			continue
		}
		if err := e.set(c, v); err != nil {
			return fmt.Errorf("%s: %v", e.name, err)
		}
		c.fromEnv[e.key] = e.name
	}
	c.setByEnv = GovernedEnv(env)
	return nil
}

// loadError says where a value a check refused came from: the variable
// that set it, else the configuration file and, when the key is written
// there, its line. The checks start their messages with the key path
// ("auth.trusted_proxies[1]: …"), which is what both are found by.
func (c *Config) loadError(err error) error {
	if fe := (*catalog.FieldError)(nil); errors.As(err, &fe) && fe.File != "" {
		return fmt.Errorf("config %w", err)
	}
	if ce := (*CustomMetricError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("config %w", err)
	}
	msg := err.Error()
	key, rest, ok := strings.Cut(msg, ": ")
	if !ok || key == "" || strings.ContainsAny(key, " \t") {
		return fmt.Errorf("config %s: %w", orName(c.path), err)
	}
	// A check of a value only a variable can set names the variable itself,
	// as does one of a variable read where it is used (CANDOR_SMTP_URL):
	// "config FILE:" before it had blamed a file that was fine.
	if slices.ContainsFunc(envVars, func(e envVar) bool { return e.name == key }) ||
		slices.ContainsFunc(Env, func(e struct{ Name, Help string }) bool { return e.Name == key }) {
		return err
	}
	for k, name := range c.fromEnv {
		if key == k {
			return reworded{name + ": " + rest, err}
		}
		if sub, ok := strings.CutPrefix(key, k); ok && (sub[0] == '.' || sub[0] == '[') {
			return reworded{name + ": " + envPart(sub) + ": " + rest, err}
		}
	}
	if c.src != nil {
		if line := catalog.YAMLLine(c.src, key); line > 0 {
			return fmt.Errorf("config %s:%d: %w", c.path, line, err)
		}
	}
	return fmt.Errorf("config %s: %w", orName(c.path), err)
}

// reworded is an error said in other words (naming the variable a value
// came from), still wrapping the error it words: what callers test for
// with errors.Is (a missing key file) stays there.
type reworded struct {
	msg string
	err error
}

func (e reworded) Error() string { return e.msg }
func (e reworded) Unwrap() error { return e.err }

// envPart words the part of a key below a variable's: "[1]" of a
// comma-separated list is its second entry, ".production" of a map its
// key.
func envPart(sub string) string {
	if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(sub, "["), "]")); err == nil && strings.HasPrefix(sub, "[") {
		return fmt.Sprintf("entry %d", n+1)
	}
	return strings.TrimPrefix(sub, ".")
}

// parseAliases reads CANDOR_ENVIRONMENT_ALIASES: "none", or
// CANONICAL=ALIAS,ALIAS;CANONICAL=ALIAS.
func parseAliases(v string) (map[string][]string, error) {
	out := map[string][]string{}
	if strings.TrimSpace(v) == "none" {
		return out, nil
	}
	for _, entry := range strings.Split(v, ";") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		canon, list, ok := strings.Cut(entry, "=")
		canon = strings.TrimSpace(canon)
		if !ok || canon == "" {
			return nil, fmt.Errorf("%q is not CANONICAL=ALIAS,ALIAS (e.g. production=prod,live), or none", entry)
		}
		for _, a := range strings.Split(list, ",") {
			out[canon] = append(out[canon], strings.TrimSpace(a))
		}
	}
	return out, nil
}

// DefaultSnapshotInterval is the KPI snapshot interval when none is set:
// weekly (SPEC §5).
const DefaultSnapshotInterval = 7 * 24 * time.Hour

// SnapshotEvery is the KPI snapshot interval: DefaultSnapshotInterval when
// unset, 0 (disabled) for "0".
func (c Config) SnapshotEvery() (time.Duration, error) {
	switch strings.TrimSpace(c.SnapshotInterval) {
	case "":
		return DefaultSnapshotInterval, nil
	case "0":
		return 0, nil
	}
	d, err := catalog.ParseWindow(c.SnapshotInterval)
	if err != nil {
		return 0, fmt.Errorf("snapshot_interval: %v (or 0 to disable)", err)
	}
	return d, nil
}

// DefaultMaxLag is max_lag when none is set.
const DefaultMaxLag = time.Second

// Lag is max_lag: DefaultMaxLag when unset; it must be positive.
func (c Config) Lag() (time.Duration, error) {
	if strings.TrimSpace(c.MaxLag) == "" {
		return DefaultMaxLag, nil
	}
	d, err := catalog.ParseWindow(c.MaxLag)
	if err != nil {
		return 0, fmt.Errorf("max_lag: %v", err)
	}
	return d, nil
}

// Copies is read_copies: 1 when unset; 1 or 2 otherwise. A 0 in the file
// is refused as CANDOR_READ_COPIES=0 is: it had been read as unset.
func (c Config) Copies() (int, error) {
	if c.ReadCopies == nil {
		return 1, nil
	}
	switch n := *c.ReadCopies; n {
	case 1, 2:
		return n, nil
	default:
		return 0, fmt.Errorf("read_copies: %d is not 1 or 2", n)
	}
}

// setDuration parses v ("30d", "12h") into dst, naming field when it is
// not a duration; an empty v leaves dst alone.
func setDuration(field, v string, dst *time.Duration) error {
	if v == "" {
		return nil
	}
	d, err := catalog.ParseWindow(v)
	if err != nil {
		return fmt.Errorf("%s: %v", field, err)
	}
	*dst = d
	return nil
}

// EngineConfig builds the metric engine configuration, validating every field.
func (c Config) EngineConfig() (metrics.Config, error) {
	m := metrics.DefaultConfig()
	if len(c.ProductionEnvironments) > 0 {
		m.ProductionNames = c.ProductionEnvironments
		// The default aliases are SPEC's default production names; an
		// organisation that names its own has none unless it sets them.
		m.EnvironmentAliases = nil
	}
	if c.EnvironmentAliases != nil {
		t, err := metrics.EnvironmentAliasTable(c.EnvironmentAliases, m.ProductionNames)
		if err != nil {
			return m, err
		}
		m.EnvironmentAliases = t
	}
	dur := setDuration
	if err := dur("attribution_window", c.AttributionWindow, &m.AttributionWindow); err != nil {
		return m, err
	}
	if err := dur("release_impact_window", c.ReleaseImpactWindow, &m.ReleaseImpactWindow); err != nil {
		return m, err
	}
	if err := dur("funnel_maturation_lag", c.FunnelMaturationLag, &m.FunnelLag); err != nil {
		return m, err
	}
	for sev, v := range c.VulnerabilitySLA {
		if _, ok := m.VulnerabilitySLA[sev]; !ok {
			return m, fmt.Errorf("vulnerability_sla.%s: unknown severity (critical, high, medium, low)", sev)
		}
		d := m.VulnerabilitySLA[sev]
		if err := dur("vulnerability_sla."+sev, v, &d); err != nil {
			return m, err
		}
		m.VulnerabilitySLA[sev] = d
	}
	if len(c.Freshness) > 0 {
		m.Freshness = map[domain.Kind]time.Duration{}
	}
	for k, v := range c.Freshness {
		kind, err := domain.ParseKind(k)
		if err != nil {
			return m, fmt.Errorf("freshness.%s: %v", k, err)
		}
		var d time.Duration
		if err := dur("freshness."+k, v, &d); err != nil {
			return m, err
		}
		m.Freshness[kind] = d
	}
	if c.GrossMargin != nil {
		if *c.GrossMargin <= 0 || *c.GrossMargin > 1 {
			return m, fmt.Errorf("gross_margin: %v must be in (0, 1]", *c.GrossMargin)
		}
		m.GrossMargin = *c.GrossMargin
	}
	if c.Currency != "" {
		// The records' own currencies are checked against the same list
		// (domain.IsCurrency): an organisation currency outside it could
		// never match a record, and every money metric would be unknown.
		if !domain.IsCurrency(c.Currency) {
			return m, fmt.Errorf("currency: %q is not an ISO 4217 code", c.Currency)
		}
	}
	// A rate's key is a currency as the records name it (domain.IsCurrency, as currency: is
	// checked): a key no record can carry (EURO) converts nothing, and would have been recorded
	// as a governed setting that only a proposal could then take back. A key is matched
	// regardless of case (usd is USD, as it always was), so two keys for one code are refused.
	codes := map[string]string{}
	for _, cur := range slices.Sorted(maps.Keys(c.ExchangeRates)) {
		code := strings.ToUpper(cur)
		switch {
		case !domain.IsCurrency(code):
			return m, fmt.Errorf("exchange_rates.%s: %q is not an ISO 4217 code (three letters, such as EUR or GBP)", cur, cur)
		case codes[code] != "":
			return m, fmt.Errorf("exchange_rates.%s: %s has a rate already (%s)", cur, code, codes[code])
		}
		codes[code] = cur
		if r := c.ExchangeRates[cur]; r <= 0 {
			return m, fmt.Errorf("exchange_rates.%s: %v must be positive", cur, r)
		}
	}
	applyMoney(&m, c)
	seen := map[string]bool{}
	for i, st := range c.PipelineStages {
		key := strings.ToLower(strings.TrimSpace(st))
		switch {
		case key == "":
			return m, fmt.Errorf("pipeline_stages[%d]: an empty stage name", i)
		case seen[key]:
			return m, fmt.Errorf("pipeline_stages[%d]: %q is named twice (stages are compared regardless of case)", i, st)
		}
		seen[key] = true
	}
	m.PipelineStages = c.PipelineStages
	if err := applyImpactWeights(&m, c.ReleaseImpactWeights); err != nil {
		return m, err
	}
	if err := applyContext(&m, c); err != nil {
		return m, err
	}
	custom, err := c.CustomMetrics()
	if err != nil {
		return m, err
	}
	if err := m.SetCustom(custom); err != nil {
		return m, err
	}
	return m, nil
}

// Catalog returns the built-in catalog with the organisation's overrides.
func (c Config) Catalog() (*catalog.Catalog, error) {
	base, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	out := base
	if len(c.Metrics) > 0 {
		if out, err = base.Apply(c.Metrics); err != nil {
			return nil, c.overrideError(err)
		}
	}
	return c.addOwn(out)
}

// overrideError words the metrics: section's errors as every other
// section's are: the file and line, then the key path once
// (metrics.mttr.target), in the file's order. Apply names an override by
// metric and field, which is how `candor catalog propose --changes` words
// it, but here the reader has a file in front of them.
func (c Config) overrideError(err error) error {
	var errs []*catalog.FieldError
	for _, e := range unjoin(err) {
		fe := (*catalog.FieldError)(nil)
		if !errors.As(e, &fe) || fe.Kind != "override" {
			return fmt.Errorf("metrics: %w", err)
		}
		key := "metrics." + fe.ID
		if fe.Field != "" {
			key += "." + fe.Field
		}
		out := &catalog.FieldError{Field: key, Msg: fe.Msg}
		if c.src != nil {
			out.File, out.Line = orName(c.path), catalog.YAMLLine(c.src, key)
		}
		errs = append(errs, out)
	}
	slices.SortStableFunc(errs, func(a, b *catalog.FieldError) int { return a.Line - b.Line })
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// unjoin returns the errors errors.Join joined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
