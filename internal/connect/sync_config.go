package connect

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
)

// Sync is what every pull collector is configured with
// (connectors.<source>.sync).
type Sync struct {
	// Every runs the collector on the leader instance at this interval
	// ("1h"); empty runs it only when asked (candor sync).
	Every string `yaml:"every"`
	// Token authenticates to the API; CANDOR_SYNC_TOKEN_<SOURCE> sets it
	// over the file.
	Token string `yaml:"token"`
	// BaseURL is the API's root: default https://api.github.com,
	// https://gitlab.com, https://api.pagerduty.com; Jira has none.
	BaseURL string `yaml:"base_url"`
	// Backfill is how far back a stream's first run reads (default 90d).
	Backfill string `yaml:"backfill"`
	// PageSize is the objects asked for a page (default 100, the most
	// every API gives).
	PageSize int `yaml:"page_size"`
}

// GitHubSync names the repositories to read ("acme/payments").
type GitHubSync struct {
	Sync  `yaml:",inline"`
	Repos []string `yaml:"repos"`
	// Reviews: each merged pull request's reviews are read for its first
	// review (one request more per merged pull request, more when it has
	// more than a page of reviews). Default true; false saves the
	// requests and leaves first_review_at to the webhook.
	Reviews *bool `yaml:"reviews"`
}

// GitLabSync names the projects to read by path ("acme/payments").
type GitLabSync struct {
	Sync     `yaml:",inline"`
	Projects []string `yaml:"projects"`
	// Reviews: each merged merge request's notes are read for its first
	// review, as GitHubSync.Reviews.
	Reviews *bool `yaml:"reviews"`
}

// on is a setting that is true unless set false.
func on(b *bool) bool { return b == nil || *b }

// PagerDutySync optionally narrows the incidents to some services (ids).
type PagerDutySync struct {
	Sync       `yaml:",inline"`
	ServiceIDs []string `yaml:"service_ids"`
}

// JiraSync reads the issues a JQL filter selects.
type JiraSync struct {
	Sync `yaml:",inline"`
	// User is the account's e-mail for Jira Cloud (basic authentication
	// with the API token); empty sends the token as a bearer token (a
	// Data Center personal access token).
	User string `yaml:"user"`
	// JQL narrows the issues ("project in (OPS, SUP)"); Candor adds the
	// time bound and the order.
	JQL string `yaml:"jql"`
	// Search is the search API: enhanced (Jira Cloud's /rest/api/3/search/jql
	// with nextPageToken, the default) or legacy (/rest/api/2/search with
	// startAt and total, for Data Center).
	Search string `yaml:"search"`
}

// Defaults of Sync.
const (
	DefaultBackfill = 90 * 24 * time.Hour
	DefaultPageSize = 100
)

// syncSources are the sources with a pull collector.
var syncSources = []string{"github", "gitlab", "jira", "pagerduty"}

// SyncSources lists the sources with a pull collector, sorted.
func SyncSources() []string { return slices.Clone(syncSources) }

// SyncTokenEnv is the environment variable that sets a collector's token.
func SyncTokenEnv(source string) string { return "CANDOR_SYNC_TOKEN_" + strings.ToUpper(source) }

// syncOf is a collector's common settings.
func (c *Config) syncOf(source string) *Sync {
	switch source {
	case "github":
		return &c.GitHub.Sync.Sync
	case "gitlab":
		return &c.GitLab.Sync.Sync
	case "jira":
		return &c.Jira.Sync.Sync
	case "pagerduty":
		return &c.PagerDuty.Sync.Sync
	}
	return nil
}

// SetSyncToken sets a collector's token (from SyncTokenEnv).
func (c *Config) SetSyncToken(source, token string) {
	if s := c.syncOf(source); s != nil {
		s.Token = token
	}
}

// SyncEvery is the interval at which the leader runs each scheduled
// collector (connectors.<source>.sync.every), by source.
func (c Config) SyncEvery() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, src := range syncSources {
		if d, err := catalog.ParseWindow(c.syncOf(src).Every); err == nil && d > 0 {
			out[src] = d
		}
	}
	return out
}

// ScheduledUnready says, by source, why each scheduled collector
// (sync.every set) cannot run — no token, no repositories, … —: the
// reason its every run would fail with. None when all can.
func (c Config) ScheduledUnready() map[string]string {
	out := map[string]string{}
	for src := range c.SyncEvery() {
		if why := c.ready(src); why != "" {
			out[src] = why
		}
	}
	return out
}

// defaultBaseURL is each API's public root.
var defaultBaseURL = map[string]string{"github": "https://api.github.com", "gitlab": "https://gitlab.com", "pagerduty": "https://api.pagerduty.com"}

// baseURL is a collector's API root.
func (c *Config) baseURL(source string) string {
	return strings.TrimRight(firstOf(c.syncOf(source).BaseURL, defaultBaseURL[source]), "/")
}

// backfill is how far back a stream's first run reads.
func (s Sync) backfill() time.Duration {
	if d, err := catalog.ParseWindow(s.Backfill); err == nil && d > 0 {
		return d
	}
	return DefaultBackfill
}

func (s Sync) pageSize() int {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return DefaultPageSize
}

// checkSync reports the first unusable collector setting, naming its key.
func (c Config) checkSync() error {
	for _, src := range syncSources {
		s := c.syncOf(src)
		key := "connectors." + src + ".sync"
		for _, w := range []struct{ name, v string }{{"every", s.Every}, {"backfill", s.Backfill}} {
			if w.v == "" {
				continue
			}
			if d, err := catalog.ParseWindow(w.v); err != nil {
				return fmt.Errorf("%s.%s: %v", key, w.name, err)
			} else if d <= 0 {
				return fmt.Errorf("%s.%s: %q must be positive", key, w.name, w.v)
			}
		}
		if s.PageSize < 0 || s.PageSize > 1000 {
			return fmt.Errorf("%s.page_size: %d is not between 1 and 1000", key, s.PageSize)
		}
		if s.BaseURL != "" {
			u, err := url.Parse(s.BaseURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("%s.base_url: %q is not an http(s) URL", key, s.BaseURL)
			}
		}
	}
	for _, r := range c.GitHub.Sync.Repos {
		if owner, name, ok := strings.Cut(r, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("connectors.github.sync.repos: %q is not OWNER/REPO", r)
		}
	}
	for _, p := range c.GitLab.Sync.Projects {
		if !strings.Contains(strings.Trim(p, "/"), "/") {
			return fmt.Errorf("connectors.gitlab.sync.projects: %q is not a project path (GROUP/PROJECT)", p)
		}
	}
	return oneOf("connectors.jira.sync.search", c.Jira.Sync.Search, "enhanced", "legacy")
}

// ready reports why a collector cannot run, naming what to set; "" when it
// can.
func (c *Config) ready(source string) string {
	s := c.syncOf(source)
	key := "connectors." + source + ".sync"
	switch {
	case strings.TrimSpace(s.Token) == "":
		return fmt.Sprintf("no token for the %s collector: set %s.token or %s", source, key, SyncTokenEnv(source))
	case source == "jira" && s.BaseURL == "":
		return "no Jira site: set connectors.jira.sync.base_url (https://your-site.atlassian.net)"
	case source == "github" && len(c.GitHub.Sync.Repos) == 0:
		return "no repositories to read: set connectors.github.sync.repos (OWNER/REPO, …)"
	case source == "gitlab" && len(c.GitLab.Sync.Projects) == 0:
		return "no projects to read: set connectors.gitlab.sync.projects (GROUP/PROJECT, …)"
	}
	return ""
}
