package connect

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
)

// Config is the connectors: section of the configuration: the mapping
// rules of each webhook source, with sensible defaults for every one
// (docs/connectors/ documents them per source).
type Config struct {
	// PayloadRetention is how long payloads are kept for replay ("30d",
	// the default; "0" keeps none).
	PayloadRetention string `yaml:"payload_retention"`
	// MaxBodyBytes bounds a delivery (default 25 MiB, GitHub's largest).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// SignatureTolerance bounds the age of a signed timestamp (Stripe,
	// Zendesk); default 5m.
	SignatureTolerance string `yaml:"signature_tolerance"`

	GitHub       GitHub       `yaml:"github"`
	GitLab       GitLab       `yaml:"gitlab"`
	CDEvents     CDEvents     `yaml:"cdevents"`
	Jenkins      Jenkins      `yaml:"jenkins"`
	ArgoCD       ArgoCD       `yaml:"argocd"`
	PagerDuty    PagerDuty    `yaml:"pagerduty"`
	Opsgenie     Opsgenie     `yaml:"opsgenie"`
	Alertmanager Alertmanager `yaml:"alertmanager"`
	Jira         Jira         `yaml:"jira"`
	Zendesk      Zendesk      `yaml:"zendesk"`
	Stripe       Stripe       `yaml:"stripe"`
}

// Deploys are the rules every source of deployments and changes shares.
type Deploys struct {
	// Services names the service of a repository, project, job or
	// application as the sender names it ("acme/payments": payments);
	// without an entry the sender's own short name is the service.
	Services map[string]string `yaml:"services"`
	// ProductionEnvironments are further environment names that make a
	// deployment of this source a production one (env_type production),
	// besides the organisation's production_environments.
	ProductionEnvironments []string `yaml:"production_environments"`
}

// Incidents are the rules every source of incidents shares.
type Incidents struct {
	// Services names the service of a sender's service, label value,
	// project or component; without an entry the sender's name is used.
	Services map[string]string `yaml:"services"`
	// Severity maps the sender's severity or priority (case-insensitive)
	// to P0…P4, over the source's defaults.
	Severity map[string]string `yaml:"severity"`
	// DefaultSeverity is the severity when the sender gives none the
	// mapping knows (default P3).
	DefaultSeverity string `yaml:"default_severity"`
	// DefaultService is the service when the delivery names none
	// (default "unassigned", so the gap shows in breakdowns).
	DefaultService string `yaml:"default_service"`
}

// Target is a service and environment a pipeline or job deploys to.
type Target struct {
	Service     string `yaml:"service"`
	Environment string `yaml:"environment"`
}

// GitHub maps deployment_status, pull_request, push, workflow_run and
// release events.
type GitHub struct {
	Secret  string `yaml:"secret"`
	Deploys `yaml:",inline"`
	// Paths maps a monorepo's path prefixes to services, per repository
	// ("acme/mono": {"services/pay/": payments}): a pushed commit is a
	// change of every service whose files it touched.
	Paths map[string]map[string]string `yaml:"paths"`
	// ChangesFrom is where changes come from: pull_request (merged pull
	// requests, the default) or push (commits pushed to the default
	// branch, for trunk-based teams). Only one, so a merge is not counted
	// twice.
	ChangesFrom string `yaml:"changes_from"`
	// DeployWorkflows names the workflows whose completed runs are
	// deployments, with the environment they deploy to
	// ("Deploy": production).
	DeployWorkflows map[string]string `yaml:"deploy_workflows"`
	// ReleaseEnvironment, when set, makes a published release a
	// successful deployment to that environment.
	ReleaseEnvironment string `yaml:"release_environment"`
	// Sync pulls pull requests and deployments from the REST API.
	Sync GitHubSync `yaml:"sync"`
}

// GitLab maps deployment, merge request, pipeline and push events.
type GitLab struct {
	Secret  string `yaml:"secret"`
	Deploys `yaml:",inline"`
	Paths   map[string]map[string]string `yaml:"paths"`
	// ChangesFrom is merge_request (the default) or push.
	ChangesFrom string `yaml:"changes_from"`
	// Sync pulls merge requests and deployments from the REST API.
	Sync GitLabSync `yaml:"sync"`
}

// CDEvents maps CDEvents (v0.4 and v0.5) sent over CloudEvents HTTP.
type CDEvents struct {
	Deploys   `yaml:",inline"`
	Incidents Incidents `yaml:"incidents"`
	// DeployPipelines names the pipelines whose finished runs are
	// deployments.
	DeployPipelines map[string]Target `yaml:"deploy_pipelines"`
	// CategoryField is the member of an incident event's customData
	// giving the incident's category (default category): CDEvents have
	// no category of their own, and security incidents (SPEC §3) count
	// only those whose category is security.
	CategoryField string `yaml:"category_field"`
}

// categoryField is the customData member naming an incident's category.
func (c CDEvents) categoryField() string { return firstOf(c.CategoryField, "category") }

// Jenkins maps notification-plugin events of finished builds.
type Jenkins struct {
	Deploys `yaml:",inline"`
	// DeployJobs names the jobs whose builds are deployments.
	DeployJobs map[string]Target `yaml:"deploy_jobs"`
	// EnvironmentParameter is the build parameter that names the
	// environment (default ENVIRONMENT): a build that has it is a
	// deployment. ServiceParameter names the service (default SERVICE;
	// else the job's name).
	EnvironmentParameter string `yaml:"environment_parameter"`
	ServiceParameter     string `yaml:"service_parameter"`
}

// ArgoCD maps the body of Candor's notification template
// (docs/connectors/argocd.md).
type ArgoCD struct {
	Deploys `yaml:",inline"`
}

// PagerDuty maps v3 webhook incident events.
type PagerDuty struct {
	Secret    string `yaml:"secret"`
	Incidents `yaml:",inline"`
	// Categories gives the category of the incidents of a PagerDuty
	// service (its id or name, as services reads them): PagerDuty's
	// incidents carry none, and security incidents (SPEC §3) count only
	// category security — a security team's service is how an account
	// tells them apart.
	Categories map[string]string `yaml:"categories"`
	// Sync pulls incidents from the REST API.
	Sync PagerDutySync `yaml:"sync"`
}

// Opsgenie maps webhook integration alert actions.
type Opsgenie struct {
	Incidents `yaml:",inline"`
}

// Alertmanager maps webhook receiver notifications (version 4).
type Alertmanager struct {
	Incidents `yaml:",inline"`
	// ServiceLabels are the labels that name the service, first present
	// wins (default service, app, job).
	ServiceLabels []string `yaml:"service_labels"`
	// SeverityLabel is the label mapped by severity (default severity).
	SeverityLabel string `yaml:"severity_label"`
	// CategoryLabel is the label giving the incident's category
	// (default category): security incidents (SPEC §3) count only those
	// whose category is security, and an alert was never one.
	CategoryLabel string `yaml:"category_label"`
}

// Jira maps issue events.
type Jira struct {
	Secret    string `yaml:"secret"`
	Incidents `yaml:",inline"`
	// IssueTypes maps an issue type name (case-insensitive) to incident
	// or ticket; other types are ignored. Default: Incident → incident;
	// Bug, Support, Service Request → ticket.
	IssueTypes map[string]string `yaml:"issue_types"`
	// Sync pulls issues with a JQL search.
	Sync JiraSync `yaml:"sync"`
}

// Zendesk maps tickets and satisfaction ratings.
type Zendesk struct {
	Secret string `yaml:"secret"`
	// Customer is what identifies a ticket's customer: organization (the
	// default, the requester when the ticket has none) or requester.
	Customer string `yaml:"customer"`
}

// Stripe maps subscription events.
type Stripe struct {
	Secret string `yaml:"secret"`
	// CustomerMetadata is the subscription (or customer) metadata key that
	// holds the customer id Candor should use; empty uses Stripe's
	// customer id.
	CustomerMetadata string `yaml:"customer_metadata"`
}

// Defaults of Config.
const (
	DefaultPayloadRetention = 30 * 24 * time.Hour
	DefaultMaxBodyBytes     = 25 << 20
	DefaultTolerance        = 5 * time.Minute
	defaultSeverity         = "P3"
	defaultService          = "unassigned"
)

// signedSources are the sources verified with a shared secret; the others
// take an API token.
var signedSources = []string{"github", "gitlab", "jira", "pagerduty", "stripe", "zendesk"}

// SignedSources lists the sources that need a secret, sorted.
func SignedSources() []string { return slices.Clone(signedSources) }

// SecretEnv is the environment variable that sets a source's secret.
func SecretEnv(source string) string { return "CANDOR_WEBHOOK_SECRET_" + strings.ToUpper(source) }

func (c *Config) secretField(source string) *string {
	switch source {
	case "github":
		return &c.GitHub.Secret
	case "gitlab":
		return &c.GitLab.Secret
	case "jira":
		return &c.Jira.Secret
	case "pagerduty":
		return &c.PagerDuty.Secret
	case "stripe":
		return &c.Stripe.Secret
	case "zendesk":
		return &c.Zendesk.Secret
	}
	return nil
}

// SetSecret sets a signed source's secret (from SecretEnv).
func (c *Config) SetSecret(source, secret string) {
	if f := c.secretField(source); f != nil {
		*f = secret
	}
}

func (c *Config) secret(source string) string {
	if f := c.secretField(source); f != nil {
		return strings.TrimSpace(*f)
	}
	return ""
}

// Retention is how long payloads are kept (0: not at all).
func (c Config) Retention() (time.Duration, error) {
	switch strings.TrimSpace(c.PayloadRetention) {
	case "":
		return DefaultPayloadRetention, nil
	case "0":
		return 0, nil
	}
	d, err := catalog.ParseWindow(c.PayloadRetention)
	if err != nil {
		return 0, fmt.Errorf("connectors.payload_retention: %v (or 0 to keep no payload)", err)
	}
	return d, nil
}

// BodyLimit is the largest delivery accepted, in bytes.
func (c Config) BodyLimit() int64 {
	if c.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return c.MaxBodyBytes
}

func (c Config) tolerance() time.Duration {
	d, err := catalog.ParseWindow(c.SignatureTolerance)
	if err != nil {
		return DefaultTolerance
	}
	return d
}

// Validate reports the first unusable rule, naming its key.
func (c Config) Validate() error {
	if _, err := c.Retention(); err != nil {
		return err
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("connectors.max_body_bytes: %d must be positive", c.MaxBodyBytes)
	}
	if c.SignatureTolerance != "" {
		if _, err := catalog.ParseWindow(c.SignatureTolerance); err != nil {
			return fmt.Errorf("connectors.signature_tolerance: %v", err)
		}
	}
	checks := []error{
		c.GitHub.Deploys.check("github"), checkPaths("github", c.GitHub.Paths),
		oneOf("connectors.github.changes_from", c.GitHub.ChangesFrom, "pull_request", "push"),
		names("connectors.github.deploy_workflows", c.GitHub.DeployWorkflows),
		c.GitLab.Deploys.check("gitlab"), checkPaths("gitlab", c.GitLab.Paths),
		oneOf("connectors.gitlab.changes_from", c.GitLab.ChangesFrom, "merge_request", "push"),
		c.CDEvents.Deploys.check("cdevents"), c.CDEvents.Incidents.check("cdevents.incidents"),
		targets("connectors.cdevents.deploy_pipelines", c.CDEvents.DeployPipelines), c.CDEvents.checkCategoryField(),
		c.Jenkins.Deploys.check("jenkins"), targets("connectors.jenkins.deploy_jobs", c.Jenkins.DeployJobs),
		c.ArgoCD.Deploys.check("argocd"),
		c.PagerDuty.Incidents.check("pagerduty"), c.Opsgenie.Incidents.check("opsgenie"),
		c.Alertmanager.Incidents.check("alertmanager"), c.Jira.Incidents.check("jira"),
		oneOf("connectors.zendesk.customer", c.Zendesk.Customer, "organization", "requester"),
		c.checkSync(),
	}
	for k, v := range c.Jira.IssueTypes {
		if v != "incident" && v != "ticket" {
			checks = append(checks, fmt.Errorf("connectors.jira.issue_types.%s: %q is not incident or ticket", k, v))
		}
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func oneOf(key, v string, allowed ...string) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s: %q is not %s", key, v, strings.Join(allowed, " or "))
}

// name checks a configured service or environment name against the
// bound records put on it.
func name(key, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return fmt.Errorf("%s: empty", key)
	case len(v) > domain.MaxName:
		return fmt.Errorf("%s: %d bytes long; a name is at most %d bytes", key, len(v), domain.MaxName)
	}
	return nil
}

func names(key string, m map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := name(key+"."+k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

func targets(key string, m map[string]Target) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := name(key+"."+k+".environment", m[k].Environment); err != nil {
			return err
		}
		if m[k].Service != "" {
			if err := name(key+"."+k+".service", m[k].Service); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkPaths(source string, m map[string]map[string]string) error {
	for _, repo := range slices.Sorted(maps.Keys(m)) {
		if err := names("connectors."+source+".paths."+repo, m[repo]); err != nil {
			return err
		}
	}
	return nil
}

// checkCategoryField refuses a category_field that names no member
// customData could have as the setting reads it: a blank one, or a path
// (customData's own members are read, not nested ones).
func (c CDEvents) checkCategoryField() error {
	const key = "connectors.cdevents.category_field"
	switch f := c.CategoryField; {
	case f != "" && strings.TrimSpace(f) == "":
		return fmt.Errorf("%s: blank; leave it out for customData's member category", key)
	case strings.Contains(f, "."):
		return fmt.Errorf("%s: %q is a path; it names a member of customData itself (nested members are not read)", key, f)
	}
	return nil
}

func (d Deploys) check(source string) error {
	return names("connectors."+source+".services", d.Services)
}

func (i Incidents) check(source string) error {
	key := "connectors." + source
	if err := names(key+".services", i.Services); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(i.Severity)) {
		if _, ok := severityLevel(i.Severity[k]); !ok {
			return fmt.Errorf("%s.severity.%s: %q is not a severity P0 to P4", key, k, i.Severity[k])
		}
	}
	if i.DefaultSeverity != "" {
		if _, ok := severityLevel(i.DefaultSeverity); !ok {
			return fmt.Errorf("%s.default_severity: %q is not a severity P0 to P4", key, i.DefaultSeverity)
		}
	}
	if i.DefaultService != "" {
		return name(key+".default_service", i.DefaultService)
	}
	return nil
}

// severityLevel reads "P0"…"P4" (any case) into its canonical form.
func severityLevel(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 2 && s[0] == 'P' && s[1] >= '0' && s[1] <= '4' {
		return s, true
	}
	return "", false
}

// severity maps a sender's severity values, first matching wins, through
// the configured mapping, then the source's defaults, then the literal
// P0…P4, else the default severity.
func (i Incidents) severity(defaults map[string]string, values ...string) string {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		for _, m := range []map[string]string{i.Severity, defaults} {
			for k, p := range m {
				if strings.EqualFold(k, v) {
					s, _ := severityLevel(p)
					return s
				}
			}
		}
		if s, ok := severityLevel(v); ok {
			return s
		}
	}
	if s, ok := severityLevel(i.DefaultSeverity); ok {
		return s
	}
	return defaultSeverity
}

// service is the configured service of the first key that has one, else
// the sender's own name (fallback), else the default service.
func (i Incidents) service(fallback string, keys ...string) string {
	if s := serviceOf(i.Services, fallback, keys...); s != "" {
		return s
	}
	return firstOf(i.DefaultService, defaultService)
}

// serviceOf is the configured service of the first key that has one, else
// fallback: the sender's own short name for the thing.
func serviceOf(services map[string]string, fallback string, keys ...string) string {
	for _, k := range keys {
		if s, ok := services[k]; ok && k != "" {
			return s
		}
	}
	return firstOf(fallback)
}

// envType is "production" for an environment this source names as one,
// else "" (the organisation's names then decide, SPEC §1).
func (d Deploys) envType(env string) string {
	for _, p := range d.ProductionEnvironments {
		if strings.EqualFold(strings.TrimSpace(p), strings.TrimSpace(env)) {
			return domain.EnvProduction
		}
	}
	return ""
}
