// Package alert turns the scorecard into alerts (SPEC §8): rules over the
// metrics, alert states (pending → firing → resolved) with grouping,
// de-duplication, repeats, acknowledgements and silences, and
// notifications that are stored before they are sent over e-mail or a
// signed webhook. Prometheus Alertmanager's semantics are the reference;
// the differences are said where they are made.
package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// Rule kinds.
const (
	// KindStatus fires while the metric's status is one of To (default amber, red);
	// the resolution is the metric back to green.
	KindStatus = "status"
	// KindThreshold fires while the value compares with Value by Op.
	KindThreshold = "threshold"
	// KindChange fires while the value moved by more than Value % against the
	// previous window, in Direction (drop, rise, any).
	KindChange = "change"
	// KindShortfall fires while the value is below Value % of the target.
	KindShortfall = "shortfall"
	// KindStale fires while a source the metric reads is older than its own
	// freshness limit (SPEC §4).
	KindStale = "stale"
	// KindDegrading fires while the metric worsened three windows running.
	KindDegrading = "degrading"
	// KindEscalation fires when the governance watcher raises an escalation
	// (unacknowledged or overdue amber/red after 7 days) for the metric.
	KindEscalation = "escalation"
	// KindQuarantine fires while stored rows are quarantined (undecodable).
	KindQuarantine = "quarantine"
	// KindReconcile fires while the latest reconciliation of the metric
	// against its source system's figure (package reconcile) has one of
	// Statuses (default amber, red: beyond the tolerance).
	KindReconcile = "reconciliation"
	// KindBurnRate fires while a service burns its error budget faster
	// than a window's factor (Burn; default BurnDefaults).
	KindBurnRate = "burn_rate"
	// KindRollbackWatch fires when a production deployment's post-deploy
	// watch ends with one of Outcomes (default fail, a rollback, and
	// inconclusive; package gate raises it, Service.NotifyWatch); a later
	// pass for the service resolves it.
	KindRollbackWatch = "rollback_watch"
)

// Kinds lists the rule kinds.
var Kinds = []string{KindStatus, KindThreshold, KindChange, KindShortfall, KindStale, KindDegrading, KindEscalation, KindQuarantine, KindReconcile, KindBurnRate, KindRollbackWatch}

// Rule is one alerting rule as configured under alerts.rules.
type Rule struct {
	// Name identifies the rule and is its alerts' group: one notification per
	// rule and channel carries every alert of the rule.
	Name string `yaml:"name" json:"name"`
	Kind string `yaml:"kind" json:"kind"`
	// Metric is a metric id, or "*" for every metric the kind applies to;
	// none for quarantine.
	Metric string `yaml:"metric" json:"metric,omitempty"`
	// Scope narrows the metric to a team, service or environment
	// ("team:core"); empty is the organisation.
	Scope string `yaml:"scope" json:"scope,omitempty"`
	// Statuses fire a status rule (default amber and red).
	Statuses []catalog.Status `yaml:"statuses" json:"statuses,omitempty"`
	// Op and Value: a threshold (op <, <=, >, >=); for change the percentage
	// moved, for shortfall the percentage of the target that must be met.
	Op        string  `yaml:"op" json:"op,omitempty"`
	Value     float64 `yaml:"value" json:"value,omitempty"`
	Direction string  `yaml:"direction" json:"direction,omitempty"`
	// For is how long the condition must hold before the alert fires
	// (a duration such as 2h; none fires at once).
	For string `yaml:"for" json:"for,omitempty"`
	// Severity is warning or critical. Empty (the default) follows the
	// status of the metric the alert reports (SeverityFor): critical while
	// it is red, warning otherwise.
	Severity string `yaml:"severity" json:"severity,omitempty"`
	// Channels are the channel names notified (default every channel).
	Channels []string `yaml:"channels" json:"channels,omitempty"`
	// Recipients replace an e-mail channel's own addresses for this rule.
	Recipients []string `yaml:"recipients" json:"recipients,omitempty"`
	// Burn are a burn_rate rule's windows (default BurnDefaults).
	Burn []BurnWindow `yaml:"burn" json:"burn,omitempty"`
	// Outcomes are the post-deploy watch's outcomes that fire a
	// rollback_watch rule: fail (a rollback decision) and inconclusive
	// (default both).
	Outcomes []string `yaml:"outcomes" json:"outcomes,omitempty"`
	// Every is how often the leader evaluates the rule (a duration; default
	// DefaultEvery of its metric).
	Every string `yaml:"every" json:"every,omitempty"`

	forDur time.Duration
	every  time.Duration
	scope  metrics.Scope
}

// SeverityFor is the severity of the rule's alert on a metric whose status
// is status: the rule's own when it sets one, else critical for red and
// warning for anything else. "ARR is 95.2 % of its target" had been
// critical while ARR was amber, and "change failure rate is red" a warning,
// because the default rules set severities by rule, not by what they
// report.
func (r Rule) SeverityFor(status string) string {
	switch {
	case r.Severity != "":
		return r.Severity
	case status == string(catalog.Red):
		return "critical"
	}
	return "warning"
}

// ForDuration is the parsed For.
func (r Rule) ForDuration() time.Duration { return r.forDur }

// EveryDuration is the parsed Every, or its default.
func (r Rule) EveryDuration() time.Duration { return r.every }

// Defaults are the rules shipped for the seeds' thresholds (issue 15):
// pipeline coverage under 3×, win rate down more than 10 % on the previous
// window, MQLs under 80 % of target, ARR behind target, the error budget
// burning fast (the multiwindow burn rates, BurnDefaults), every metric
// turning red, stale sources, degrading metrics, the governance
// escalations, quarantined rows, failed reconciliations and the post-deploy
// watch's rollback decisions. The rollback rule fires on fail only: with no
// configuration the watch reads pushed samples, so every production
// deployment of a service that sends none is inconclusive, and an alert
// for each would bury the rollbacks.
func Defaults() []Rule {
	return []Rule{
		{Name: "pipeline_coverage_low", Kind: KindThreshold, Metric: "pipeline_coverage", Op: "<", Value: 3, For: "1h"},
		{Name: "win_rate_drop", Kind: KindChange, Metric: "win_rate", Direction: "drop", Value: 10},
		{Name: "mql_shortfall", Kind: KindShortfall, Metric: "mql_volume", Value: 80},
		{Name: "arr_behind_target", Kind: KindShortfall, Metric: "arr", Value: 100},
		{Name: "error_budget_burn", Kind: KindBurnRate, Severity: "critical"},
		{Name: "metric_red", Kind: KindStatus, Metric: "*", Statuses: []catalog.Status{catalog.Red}, For: "1h"},
		{Name: "source_stale", Kind: KindStale, Metric: "*"},
		{Name: "metric_degrading", Kind: KindDegrading, Metric: "*"},
		{Name: "escalation", Kind: KindEscalation, Metric: "*", Severity: "critical"},
		{Name: "rows_quarantined", Kind: KindQuarantine, Severity: "critical"},
		{Name: "reconciliation_failed", Kind: KindReconcile, Metric: "*", Severity: "critical"},
		{Name: "rollback_decision", Kind: KindRollbackWatch, Outcomes: []string{WatchFail}, Severity: "critical"},
	}
}

// Compile checks rules against the catalog and parses their durations and
// scopes. Each problem is a *catalog.FieldError naming the rule; line
// finds the line of a field given its path under rules ("[2].metric"),
// or is nil when the rules come from no file.
func Compile(rules []Rule, cat *catalog.Catalog, file string, line func(path string) int) ([]Rule, error) {
	out := slices.Clone(rules)
	var errs []error
	names := map[string]bool{}
	for i := range out {
		r := &out[i]
		bad := func(field, format string, a ...any) {
			fe := &catalog.FieldError{File: file, Kind: "alert rule", ID: r.Name, Field: field, Msg: fmt.Sprintf(format, a...)}
			if line != nil {
				fe.Line = line(fmt.Sprintf("[%d].%s", i, field))
			}
			errs = append(errs, fe)
		}
		if r.Name == "" {
			bad("name", "every rule needs a name")
		} else if names[r.Name] {
			bad("name", "the name %q is used by an earlier rule", r.Name)
		}
		names[r.Name] = true
		if !slices.Contains(Kinds, r.Kind) {
			bad("kind", "unknown kind %q; known: %s", r.Kind, strings.Join(Kinds, ", "))
			continue
		}
		var m *catalog.Metric
		switch {
		case r.Kind == KindQuarantine:
			if r.Metric != "" {
				bad("metric", "a quarantine rule is about stored rows, not a metric")
			}
		case r.Kind == KindBurnRate:
			if r.Metric != "" {
				bad("metric", "a burn_rate rule reads each service's SLIs against its SLO target, not a metric")
			}
		case r.Kind == KindRollbackWatch:
			if r.Metric != "" {
				bad("metric", "a rollback_watch rule is about deployments, not a metric")
			}
		case r.Metric == "*":
		case r.Metric == "":
			bad("metric", "a %s rule needs a metric id or \"*\"", r.Kind)
		default:
			var ok bool
			if m, ok = cat.Metric(r.Metric); !ok {
				bad("metric", "unknown metric %q", r.Metric)
			}
		}
		if r.Scope != "" {
			s, err := metrics.ParseScope(r.Scope)
			if err != nil {
				bad("scope", "%v", err)
			}
			r.scope = s
		}
		if r.For != "" {
			d, err := catalog.ParseWindow(r.For)
			if err != nil || d < 0 {
				bad("for", "not a duration: %q", r.For)
			}
			r.forDur = d
		}
		if r.Every != "" {
			d, err := catalog.ParseWindow(r.Every)
			if err != nil || d <= 0 {
				bad("every", "not a positive duration: %q", r.Every)
			}
			r.every = d
		} else {
			r.every = DefaultEvery(m)
		}
		switch r.Severity {
		case "", "warning", "critical":
		default:
			bad("severity", "unknown severity %q; known: warning, critical", r.Severity)
		}
		if len(r.Outcomes) > 0 && r.Kind != KindRollbackWatch {
			bad("outcomes", "only a rollback_watch rule has outcomes")
		}
		switch r.Kind {
		case KindStatus, KindReconcile:
			if len(r.Statuses) == 0 {
				r.Statuses = []catalog.Status{catalog.Amber, catalog.Red}
			}
			for j, s := range r.Statuses {
				if s != catalog.Amber && s != catalog.Red && s != catalog.Unknown && s != catalog.Green {
					bad(fmt.Sprintf("statuses[%d]", j), "unknown status %q; known: green, amber, red, unknown", s)
				}
			}
		case KindThreshold:
			if !slices.Contains([]string{"<", "<=", ">", ">="}, r.Op) {
				bad("op", "op must be <, <=, > or >=, not %q", r.Op)
			}
		case KindChange:
			if r.Direction == "" {
				r.Direction = "any"
			}
			if !slices.Contains([]string{"drop", "rise", "any"}, r.Direction) {
				bad("direction", "direction must be drop, rise or any, not %q", r.Direction)
			}
			if r.Value <= 0 {
				bad("value", "a change rule needs a percentage above 0")
			}
		case KindBurnRate:
			if r.Scope != "" && !strings.HasPrefix(r.Scope, "service:") {
				bad("scope", "a burn_rate rule's scope is one service (service:NAME), not %q", r.Scope)
			}
			if len(r.Burn) == 0 {
				r.Burn = BurnDefaults()
			}
			for j := range r.Burn {
				w := &r.Burn[j]
				d, err := catalog.ParseWindow(w.Window)
				if err != nil || d < time.Hour || d%time.Hour != 0 {
					bad(fmt.Sprintf("burn[%d].window", j), "a burn window is whole hours (SLIs are hourly at finest), not %q", w.Window)
				}
				w.dur = d
				if w.Factor <= 0 {
					bad(fmt.Sprintf("burn[%d].factor", j), "a burn factor is above 0 (14.4 burns a 30-day budget in 2 days)")
				}
			}
		case KindRollbackWatch:
			if len(r.Outcomes) == 0 {
				r.Outcomes = []string{WatchFail, WatchInconclusive}
			}
			for j, o := range r.Outcomes {
				if o != WatchFail && o != WatchInconclusive {
					bad(fmt.Sprintf("outcomes[%d]", j), "unknown outcome %q; known: fail, inconclusive (a pass resolves the alert)", o)
				}
			}
		case KindShortfall:
			if r.Value <= 0 {
				bad("value", "a shortfall rule needs the percentage of target to meet, above 0")
			}
			if m != nil && m.Better != catalog.Higher {
				bad("metric", "%q is better lower: a shortfall against its target is not defined", r.Metric)
			}
		}
	}
	return out, errors.Join(errs...)
}

// appliesTo reports whether the rule looks at metric m.
func (r Rule) appliesTo(m *catalog.Metric) bool {
	if r.Metric != "*" {
		return r.Metric == m.ID
	}
	return r.Kind != KindShortfall || m.Better == catalog.Higher
}

// Config is the alerts: section of the configuration.
type Config struct {
	// Rules are the organisation's rules, after the defaults unless
	// NoDefaultRules; a rule named like a default replaces it.
	Rules          []Rule `yaml:"rules"`
	NoDefaultRules bool   `yaml:"no_default_rules"`
	// RulesFrom names where Rules come from when not the file Setup is
	// told of: the approved proposal that put them in force.
	RulesFrom string `yaml:"-"`
	// EvaluateEvery is how often the leader evaluates the rules (default 1h).
	EvaluateEvery string `yaml:"evaluate_every"`
	// GroupInterval and RepeatInterval override DefaultTiming.
	GroupInterval  string          `yaml:"group_interval"`
	RepeatInterval string          `yaml:"repeat_interval"`
	Channels       []ChannelConfig `yaml:"channels"`
	SMTP           SMTPConfig      `yaml:"smtp"`
	// ReportsMail says the reports send through SMTP too (recipients or
	// a board list are configured): a bad server is then refused at
	// start though no e-mail channel uses it. Set by the configuration.
	ReportsMail bool `yaml:"-"`
	// Link is the address of the alerts in the web app, put in e-mails.
	Link string `yaml:"link"`
	// Routes send alerts by role, address and owner (after DefaultRoutes
	// unless NoDefaultRoutes; a route named like a default replaces it).
	Routes          []Route `yaml:"routes"`
	NoDefaultRoutes bool    `yaml:"no_default_routes"`
}

// ChannelConfig is one notification channel.
type ChannelConfig struct {
	Name string `yaml:"name"`
	// Type is email, webhook, slack or inapp.
	Type string `yaml:"type"`
	// To are an e-mail channel's addresses: they receive every alert sent
	// over the channel, routed or not (a rule's recipients replace them).
	To []string `yaml:"to"`
	// URL is a webhook's address; SecretEnv names the environment variable
	// holding its HMAC secret (secrets stay out of the file), or a slack
	// channel's whole URL.
	URL       string `yaml:"url"`
	SecretEnv string `yaml:"secret_env"`
	// Revenue lets a webhook or slack channel carry revenue-sensitive
	// alerts: who reads it is unknown, so it is off by default.
	Revenue bool `yaml:"revenue"`
}

// SMTPConfig is the mail server; CANDOR_SMTP_URL and CANDOR_SMTP_FROM
// override it.
type SMTPConfig struct {
	URL  string `yaml:"url"`
	From string `yaml:"from"`
}

// Settings are a checked Config.
type Settings struct {
	Rules    []Rule
	Timing   Timing
	Every    time.Duration
	Channels map[string]Channel
	// Kinds names each channel's type, for listing.
	Kinds map[string]string
	// Routes are the checked routes, defaults first; Revenue and To are
	// Router's.
	Routes  []Route
	Revenue map[string]bool
	To      map[string][]string
}

// SecretEnvs are the environment variables the channels' secret_env
// name: variables Candor reads though they are not its own.
func (c Config) SecretEnvs() []string {
	var out []string
	for _, ch := range c.Channels {
		if ch.SecretEnv != "" {
			out = append(out, ch.SecretEnv)
		}
	}
	return out
}

// CheckSecrets refuses channels whose secret_env variable is unset: the
// named channels, or every channel when none is named. Setup lets such a
// channel through so that commands which send nothing run without the
// secret; a command that sends (serve, alert evaluate, alert test) calls
// this before it starts, so a missing secret is said at once rather than
// as a failed notification an hour later.
func (s Settings) CheckSecrets(channels ...string) error {
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(s.Channels)) {
		u, ok := s.Channels[name].(unsetSecret)
		if !ok || len(channels) > 0 && !slices.Contains(channels, name) {
			continue
		}
		errs = append(errs, u.Error())
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

// unsetSecret is a webhook or slack channel whose secret_env variable is
// unset. Sending through it fails, so a notification routed to it stays
// pending and is retried (then kept as failed), never dropped.
type unsetSecret struct{ channel, env string }

func (u unsetSecret) Error() string {
	return fmt.Sprintf("alerts.channels %s: secret_env: the environment variable %s is not set; a command that sends notifications needs it", u.channel, u.env)
}

func (u unsetSecret) Send(context.Context, Envelope) error { return errors.New(u.Error()) }

// WithInbox gives the in-app channels the store that keeps the inboxes.
func (s Settings) WithInbox(docs store.DocStore) Settings {
	for name, ch := range s.Channels {
		if _, ok := ch.(InApp); ok {
			s.Channels[name] = InApp{Docs: docs}
		}
	}
	return s
}

// Router is the settings' router under the catalog and the grants.
func (s Settings) Router(cat *catalog.Catalog, g *auth.Grants) Router {
	return Router{Routes: s.Routes, Catalog: cat, Grants: g, Kinds: s.Kinds, Revenue: s.Revenue, To: s.To}
}

// Setup checks c against the catalog: the rules (Compile; line finds the
// line of a path under alerts, "rules[2].metric"), durations, channels.
// env reads the environment.
func Setup(c Config, cat *catalog.Catalog, env func(string) string, file string, line func(path string) int) (Settings, error) {
	var errs []error
	rules := c.Rules
	if !c.NoDefaultRules {
		var own []Rule
		for _, d := range Defaults() {
			if !slices.ContainsFunc(c.Rules, func(r Rule) bool { return r.Name == d.Name }) {
				own = append(own, d)
			}
		}
		rules = append(own, c.Rules...)
	}
	offset := len(rules) - len(c.Rules)
	rulesFile := file
	if c.RulesFrom != "" {
		rulesFile = c.RulesFrom
	}
	compiled, err := Compile(rules, cat, rulesFile, func(path string) int {
		// Defaults have no line; the configured rules are after them.
		var i int
		var rest string
		if _, e := fmt.Sscanf(path, "[%d]", &i); e != nil || i < offset || line == nil {
			return 0
		}
		_, rest, _ = strings.Cut(path, "]")
		return line(fmt.Sprintf("rules[%d]%s", i-offset, rest))
	})
	if err != nil {
		errs = append(errs, err)
	}
	s := Settings{Rules: compiled, Timing: DefaultTiming, Every: time.Hour, Channels: map[string]Channel{}, Kinds: map[string]string{},
		Revenue: map[string]bool{}, To: map[string][]string{}}
	dur := func(field, v string, into *time.Duration) {
		if v == "" {
			return
		}
		d, err := catalog.ParseWindow(v)
		if err != nil || d <= 0 {
			fe := &catalog.FieldError{File: file, Kind: "alerts", Field: field, Msg: fmt.Sprintf("not a positive duration: %q", v)}
			if line != nil {
				fe.Line = line(field)
			}
			errs = append(errs, fe)
			return
		}
		*into = d
	}
	dur("evaluate_every", c.EvaluateEvery, &s.Every)
	dur("group_interval", c.GroupInterval, &s.Timing.GroupInterval)
	dur("repeat_interval", c.RepeatInterval, &s.Timing.RepeatInterval)
	smtpURL, from := cmp.Or(env("CANDOR_SMTP_URL"), c.SMTP.URL), cmp.Or(env("CANDOR_SMTP_FROM"), c.SMTP.From)
	// The mail server is parsed once and a bad one named where it was
	// set — the variable, or alerts.smtp's field and line — rather than
	// at each e-mail channel, whose line says nothing of a variable.
	var smtpSrv SMTP
	var smtpErr *SMTPError
	if smtpURL != "" {
		var err error
		smtpSrv, err = ParseSMTP(smtpURL, from)
		errors.As(err, &smtpErr)
	}
	// A server that is set is checked where anything sends through it —
	// an e-mail channel, or the reports (ReportsMail): a bad one for the
	// digest had been found only by the scheduler's log line, after start.
	// One nothing sends through stops no command (a shell without the
	// service's CANDOR_SMTP_FROM can still add a user).
	if smtpErr != nil && (c.ReportsMail || slices.ContainsFunc(c.Channels, func(ch ChannelConfig) bool { return ch.Type == "email" })) {
		field, variable := smtpErr.Where(c.SMTP, env)
		if variable != "" {
			errs = append(errs, fmt.Errorf("%s: %s", variable, smtpErr.Reason))
		} else {
			fe := &catalog.FieldError{File: file, Kind: "alerts", Field: "smtp." + field, Msg: smtpErr.Reason}
			if line != nil {
				fe.Line = line("smtp." + field)
			}
			errs = append(errs, fe)
		}
	}
	for i, ch := range c.Channels {
		bad := func(field, format string, a ...any) {
			fe := &catalog.FieldError{File: file, Kind: "alert channel", ID: ch.Name, Field: field, Msg: fmt.Sprintf(format, a...)}
			if line != nil {
				fe.Line = line(fmt.Sprintf("channels[%d].%s", i, field))
			}
			errs = append(errs, fe)
		}
		if ch.Name == "" {
			bad("name", "every channel needs a name")
			continue
		}
		if _, dup := s.Kinds[ch.Name]; dup {
			bad("name", "the name %q is used by an earlier channel", ch.Name)
			continue
		}
		s.Kinds[ch.Name] = ch.Type
		s.Revenue[ch.Name], s.To[ch.Name] = ch.Revenue, ch.To
		switch ch.Type {
		case "email":
			if smtpURL == "" {
				bad("type", "an email channel needs a mail server: alerts.smtp.url or CANDOR_SMTP_URL")
				continue
			}
			if smtpErr != nil {
				continue // said once above
			}
			s.Channels[ch.Name] = Email{SMTP: smtpSrv, To: ch.To, Link: c.Link}
		case "webhook":
			u, err := url.Parse(ch.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad("url", "not an http(s) URL: %q", ch.URL)
				continue
			}
			if ch.SecretEnv == "" {
				bad("secret_env", "a webhook is signed: name an environment variable that holds its secret")
				continue
			}
			if env(ch.SecretEnv) == "" {
				// Only what sends needs the secret (CheckSecrets): a
				// shell that creates a token or reads the scorecard
				// should not have to hold it.
				s.Channels[ch.Name] = unsetSecret{channel: ch.Name, env: ch.SecretEnv}
				continue
			}
			s.Channels[ch.Name] = Webhook{URL: ch.URL, Secret: []byte(env(ch.SecretEnv))}
		case "slack":
			// An incoming webhook's URL is its credential: it may come from
			// the environment variable secret_env names instead of the file.
			raw, field := ch.URL, "url"
			if ch.SecretEnv != "" {
				raw, field = env(ch.SecretEnv), "secret_env"
				if raw == "" {
					s.Channels[ch.Name] = unsetSecret{channel: ch.Name, env: ch.SecretEnv}
					continue
				}
			}
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad(field, "a slack channel needs its incoming webhook's http(s) URL in url or in the environment variable secret_env names")
				continue
			}
			s.Channels[ch.Name] = Slack{URL: raw, Link: c.Link}
		case "inapp":
			// Its Docs are the store's, set by the caller (Settings.Inbox).
			s.Channels[ch.Name] = InApp{}
		default:
			bad("type", "unknown channel type %q; known: email, webhook, slack, inapp", ch.Type)
		}
	}
	for i, r := range c.Rules {
		for j, name := range r.Channels {
			if _, ok := s.Kinds[name]; !ok {
				fe := &catalog.FieldError{File: file, Kind: "alert rule", ID: r.Name, Field: fmt.Sprintf("channels[%d]", j), Msg: fmt.Sprintf("unknown channel %q", name)}
				if line != nil {
					fe.Line = line(fmt.Sprintf("rules[%d].channels[%d]", i, j))
				}
				errs = append(errs, fe)
			}
		}
	}
	routes := c.Routes
	if !c.NoDefaultRoutes {
		var own []Route
		for _, d := range DefaultRoutes() {
			if !slices.ContainsFunc(c.Routes, func(r Route) bool { return r.Name == d.Name }) {
				own = append(own, d)
			}
		}
		routes = append(own, c.Routes...)
	}
	roff := len(routes) - len(c.Routes)
	checkRoutes(routes, cat, compiled, s.Kinds, func(i int, id, field, format string, a ...any) {
		fe := &catalog.FieldError{File: file, Kind: "alert route", ID: id, Field: field, Msg: fmt.Sprintf(format, a...)}
		if line != nil && i >= roff {
			fe.Line = line(fmt.Sprintf("routes[%d].%s", i-roff, field))
		}
		errs = append(errs, fe)
	})
	s.Routes = routes
	return s, errors.Join(errs...)
}
