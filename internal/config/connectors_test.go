package config

import (
	"strings"
	"testing"
	"time"
)

// The connectors: section reads each source's rules, and a source's
// secret comes from the file or, over it, CANDOR_WEBHOOK_SECRET_<SOURCE>.
func TestConnectors(t *testing.T) {
	p := write(t, `
connectors:
  payload_retention: 7d
  github:
    secret: from-file
    services: {"acme/pay": payments}
    changes_from: push
    deploy_workflows: {Deploy: production}
  jira:
    issue_types: {Incident: incident, Problem: ticket}
    severity: {Urgent: P0}
  alertmanager:
    service_labels: [app]
  cdevents:
    category_field: incident_category
  stripe:
    customer_metadata: account_id
`)
	c, err := Load(p, env(map[string]string{"CANDOR_WEBHOOK_SECRET_GITHUB": "from-env", "CANDOR_WEBHOOK_SECRET_STRIPE": "whsec_1"}))
	if err != nil {
		t.Fatal(err)
	}
	cc := c.Connectors
	if cc.GitHub.Secret != "from-env" || cc.Stripe.Secret != "whsec_1" || cc.GitLab.Secret != "" {
		t.Errorf("secrets github %q stripe %q gitlab %q: want the environment over the file", cc.GitHub.Secret, cc.Stripe.Secret, cc.GitLab.Secret)
	}
	if cc.GitHub.Services["acme/pay"] != "payments" || cc.GitHub.ChangesFrom != "push" || cc.GitHub.DeployWorkflows["Deploy"] != "production" {
		t.Errorf("github rules %+v", cc.GitHub)
	}
	if cc.Jira.IssueTypes["Problem"] != "ticket" || cc.Jira.Severity["Urgent"] != "P0" || cc.Alertmanager.ServiceLabels[0] != "app" || cc.Stripe.CustomerMetadata != "account_id" {
		t.Errorf("rules %+v %+v %+v", cc.Jira, cc.Alertmanager, cc.Stripe)
	}
	if cc.CDEvents.CategoryField != "incident_category" {
		t.Errorf("cdevents category_field %q, want incident_category", cc.CDEvents.CategoryField)
	}
	if d, _ := cc.Retention(); d != 7*24*time.Hour {
		t.Errorf("retention %v, want 7d", d)
	}
	// The secret variables are ones Candor reads.
	if err := CheckEnviron([]string{"CANDOR_WEBHOOK_SECRET_PAGERDUTY=x"}); err != nil {
		t.Errorf("CheckEnviron: %v", err)
	}
	if err := CheckEnviron([]string{"CANDOR_WEBHOOK_SECRET_GITHB=x"}); err == nil || !strings.Contains(err.Error(), "CANDOR_WEBHOOK_SECRET_GITHUB") {
		t.Errorf("a mistyped secret variable: %v", err)
	}
}

func TestConnectorsRefused(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"unknown source", "connectors: {githib: {secret: x}}\n", `"githib"`},
		{"unknown option", "connectors: {github: {issue_types: {Bug: ticket}}}\n", `"issue_types"`},
		{"changes_from", "connectors: {github: {changes_from: commits}}\n", "connectors.github.changes_from"},
		{"severity", "connectors: {pagerduty: {severity: {P1: critical}}}\n", "connectors.pagerduty.severity.P1"},
		{"issue type", "connectors: {jira: {issue_types: {Bug: defect}}}\n", "connectors.jira.issue_types.Bug"},
		{"retention", "connectors: {payload_retention: forever}\n", "connectors.payload_retention"},
		{"deploy job", "connectors: {jenkins: {deploy_jobs: {deploy: {service: x}}}}\n", "connectors.jenkins.deploy_jobs.deploy.environment"},
		{"blank category_field", "connectors: {cdevents: {category_field: \" \"}}\n", "connectors.cdevents.category_field: blank"},
		{"category_field path", "connectors: {cdevents: {category_field: incident.category}}\n", `connectors.cdevents.category_field: "incident.category" is a path`},
		{"category_field under incidents", "connectors: {cdevents: {incidents: {category_field: kind}}}\n", `"category_field"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
}

// A collector's settings: the token from the file or, over it,
// CANDOR_SYNC_TOKEN_<SOURCE>; the schedule by source.
func TestConnectorsSync(t *testing.T) {
	p := write(t, `
connectors:
  github:
    sync: {every: 1h, token: from-file, repos: [acme/payments], page_size: 50}
  jira:
    sync: {every: 30m, base_url: "https://acme.atlassian.net", user: ops@acme.example, jql: "project = OPS", search: legacy}
  gitlab:
    sync: {projects: [acme/web]}
`)
	c, err := Load(p, env(map[string]string{"CANDOR_SYNC_TOKEN_GITHUB": "from-env", "CANDOR_SYNC_TOKEN_JIRA": "jira-token"}))
	if err != nil {
		t.Fatal(err)
	}
	cc := c.Connectors
	if cc.GitHub.Sync.Token != "from-env" || cc.Jira.Sync.Token != "jira-token" || cc.GitLab.Sync.Token != "" {
		t.Errorf("tokens github %q jira %q gitlab %q: want the environment over the file", cc.GitHub.Sync.Token, cc.Jira.Sync.Token, cc.GitLab.Sync.Token)
	}
	if cc.GitHub.Sync.Repos[0] != "acme/payments" || cc.GitHub.Sync.PageSize != 50 || cc.Jira.Sync.JQL != "project = OPS" || cc.Jira.Sync.Search != "legacy" {
		t.Errorf("sync settings %+v %+v", cc.GitHub.Sync, cc.Jira.Sync)
	}
	if got := cc.SyncEvery(); len(got) != 2 || got["github"] != time.Hour || got["jira"] != 30*time.Minute {
		t.Errorf("SyncEvery = %v, want github 1h and jira 30m (gitlab has no schedule)", got)
	}
	if err := CheckEnviron([]string{"CANDOR_SYNC_TOKEN_PAGERDUTY=x"}); err != nil {
		t.Errorf("CheckEnviron: %v", err)
	}
	for _, c := range []struct{ file, want string }{
		{"connectors: {github: {sync: {every: often}}}\n", "connectors.github.sync.every"},
		{"connectors: {github: {sync: {repos: [payments]}}}\n", "connectors.github.sync.repos"},
		{"connectors: {gitlab: {sync: {projects: [web]}}}\n", "connectors.gitlab.sync.projects"},
		{"connectors: {jira: {sync: {search: v4}}}\n", "connectors.jira.sync.search"},
		{"connectors: {pagerduty: {sync: {base_url: \"ftp://x\"}}}\n", "connectors.pagerduty.sync.base_url"},
		{"connectors: {pagerduty: {sync: {page_size: 5000}}}\n", "connectors.pagerduty.sync.page_size"},
		{"connectors: {stripe: {sync: {every: 1h}}}\n", `"sync"`},
	} {
		if _, err := Load(write(t, c.file), env(nil)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming %s", strings.TrimSpace(c.file), err, c.want)
		}
	}
}

// A collector scheduled (sync.every) that cannot run — no token in the
// file nor its variable — is refused by CheckSyncReady, which serve asks
// at start, naming the line of its every and the variable: it had logged
// an ERROR at every run, from the first start of docs/configuration.md's
// own example on. One run only when asked (no every) needs nothing yet.
func TestScheduledCollectorNeedsItsToken(t *testing.T) {
	file := write(t, "connectors:\n  github:\n    sync:\n      repos: [acme/payments]\n      every: 1h\n      token: \"\"\n  jira:\n    sync: {every: 30m, token: t}\n")
	c, err := Load(file, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckSyncReady()
	want := "config " + file + ":5: connectors.github.sync.every: the github collector is scheduled, but cannot run: no token for the github collector: set connectors.github.sync.token or CANDOR_SYNC_TOKEN_GITHUB"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("CheckSyncReady = %v, want it to start %q", err, want)
	}
	if !strings.Contains(err.Error(), "connectors.jira.sync.every: the jira collector is scheduled, but cannot run: no Jira site") {
		t.Errorf("the Jira collector without a site is not named: %v", err)
	}
	c, err = Load(file, env(map[string]string{"CANDOR_SYNC_TOKEN_GITHUB": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSyncReady(); err == nil || strings.Contains(err.Error(), "github") {
		t.Errorf("with CANDOR_SYNC_TOKEN_GITHUB: %v, want only the Jira collector refused", err)
	}
	c, err = Load(write(t, "connectors: {github: {sync: {repos: [acme/payments]}}}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSyncReady(); err != nil {
		t.Errorf("an unscheduled collector without a token: %v", err)
	}
}
