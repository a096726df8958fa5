package connect

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Jira: issue created and updated events. An issue of a type configured
// as incident (default: Incident) is an incident, one configured as ticket
// (default: Bug, Support, Service Request) a ticket; other types are
// ignored. Every event carries the whole issue, so the record is simply
// the issue as it is now: reopening clears the resolution. Verified with
// X-Hub-Signature (the webhook's secret); the delivery id is
// X-Atlassian-Webhook-Identifier.
func jiraConnector(cfg Jira) connector {
	return connector{
		name:     "jira",
		headers:  []string{"X-Atlassian-Webhook-Identifier"},
		verify:   verifyHubSignature("X-Hub-Signature"),
		headerID: func(h http.Header) string { return h.Get("X-Atlassian-Webhook-Identifier") },
		parse:    func(in *input) (*parsed, error) { return parseJira(cfg, in) },
		// An issue's events may arrive out of order: each reads the
		// issue's event clock (jiraNewest), one issue at a time.
		stateful: true, keyed: true,
	}
}

// jiraIssueTypes are the default issue type mapping.
var jiraIssueTypes = map[string]string{"incident": "incident", "bug": "ticket", "support": "ticket", "service request": "ticket"}

// jiraSeverity maps Jira's default priority schemes.
var jiraSeverity = map[string]string{
	"highest": "P1", "blocker": "P1", "critical": "P1", "high": "P2", "major": "P2",
	"medium": "P3", "low": "P4", "minor": "P4", "lowest": "P4", "trivial": "P4",
}

type jiraName struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type jiraEvent struct {
	Timestamp    text      `json:"timestamp"`
	WebhookEvent string    `json:"webhookEvent"`
	Issue        jiraIssue `json:"issue"`
	Changelog    struct {
		ID text `json:"id"`
	} `json:"changelog"`
}

// jiraIssue is an issue as webhooks and the REST API's search both give it.
type jiraIssue struct {
	ID     text   `json:"id"`
	Key    string `json:"key"`
	Self   string `json:"self"`
	Fields struct {
		IssueType      jiraName   `json:"issuetype"`
		Priority       *jiraName  `json:"priority"`
		Project        jiraName   `json:"project"`
		Components     []jiraName `json:"components"`
		Summary        string     `json:"summary"`
		Created        when       `json:"created"`
		Updated        when       `json:"updated"`
		ResolutionDate when       `json:"resolutiondate"`
	} `json:"fields"`
}

func parseJira(cfg Jira, in *input) (_ *parsed, err error) {
	var p jiraEvent
	// A refusal keeps the event's type where it was read.
	defer func() { err = known("", p.WebhookEvent, err) }()
	if err := decode(in.body, &p); err != nil {
		return nil, err
	}
	is := p.Issue
	event := p.WebhookEvent
	// Without Jira's header, the event is known by its time, issue and
	// change.
	id := firstOf(in.header.Get("X-Atlassian-Webhook-Identifier"))
	if id == "" && p.Timestamp != "" {
		id = strings.Join([]string{string(p.Timestamp), event, string(is.ID), string(p.Changelog.ID)}, ":")
	}
	switch {
	case event == "":
		return nil, rejectField("webhookEvent", "missing (not a Jira webhook)")
	case event != "jira:issue_created" && event != "jira:issue_updated":
		return ignored(id, event, "Jira %s events are not mapped", event), nil
	}
	// The issue's own updated time orders its versions; the event's
	// timestamp is a few milliseconds after it, and a collector, which
	// reads the same issue, has only the updated time.
	at := is.Fields.Updated.Time
	if ms, err := strconv.ParseInt(string(p.Timestamp), 10, 64); at.IsZero() && err == nil && ms > 0 {
		at = time.UnixMilli(ms).UTC()
	}
	return jiraNewest(id, event, at)(jiraRecord(cfg, &is))
}

// jiraNewest is outcome for an issue as it was at at (its updated time,
// else the event's timestamp): every event carries the whole
// issue, so the newest one's record stands, and an older event arriving
// after it is ignored, saying so, rather than putting back what the issue
// was (a resolution the issue's closing moved, a reopening since undone).
func jiraNewest(id, event string, at time.Time) func(rec domain.Record, why string, err error) (*parsed, error) {
	return func(rec domain.Record, why string, err error) (*parsed, error) {
		if err != nil || rec == nil || at.IsZero() {
			return outcome(id, event)(rec, why, err)
		}
		kind, key := rec.Kind(), rec.Header().ID
		return &parsed{id: id, event: event, key: key, build: func(ctx context.Context, st *state) (built, error) {
			if why, err := st.newest(ctx, kind, key, at); err != nil || why != "" {
				return built{ignored: why}, err
			}
			return built{records: []domain.Record{rec}}, nil
		}}, nil
	}
}

// jiraRecord maps an issue as it is now: an incident or a ticket by its
// type, else ignored. Every event carries the whole issue, so the webhook
// and the collector both map through it.
func jiraRecord(cfg Jira, is *jiraIssue) (domain.Record, string, error) {
	f := &is.Fields
	if is.Key == "" {
		return nil, "", rejectField("issue.key", "missing")
	}
	kind := cfg.IssueTypes[f.IssueType.Name]
	if kind == "" {
		for k, v := range cfg.IssueTypes {
			if strings.EqualFold(k, f.IssueType.Name) {
				kind = v
			}
		}
	}
	if kind == "" && cfg.IssueTypes == nil {
		kind = jiraIssueTypes[strings.ToLower(f.IssueType.Name)]
	}
	if kind == "" {
		return nil, fmt.Sprintf("issue type %q is neither an incident nor a ticket (connectors.jira.issue_types)", f.IssueType.Name), nil
	}
	if f.Created.IsZero() {
		return nil, "", rejectField("issue.fields.created", "missing")
	}
	var priority string
	if f.Priority != nil {
		priority = f.Priority.Name
	}
	var url string
	if i := strings.Index(is.Self, "/rest/api/"); i >= 0 {
		url = is.Self[:i] + "/browse/" + is.Key
	}
	if kind == "ticket" {
		return &domain.Ticket{
			Meta: domain.Meta{ID: is.Key}, CreatedAt: f.Created.Time, ResolvedAt: f.ResolutionDate.Time,
			// In lower case, as Zendesk's: a breakdown by priority had
			// split Jira's "High" from Zendesk's and an import's "high".
			Priority: strings.ToLower(priority), Category: strings.ToLower(f.IssueType.Name), Text: f.Summary,
		}, "", nil
	}
	var component string
	if len(f.Components) > 0 {
		component = f.Components[0].Name
	}
	return &domain.Incident{
		Meta:     domain.Meta{ID: is.Key},
		Service:  cfg.service(firstOf(component, f.Project.Key), component, f.Project.Key),
		Severity: cfg.severity(jiraSeverity, priority),
		OpenedAt: f.Created.Time, ResolvedAt: f.ResolutionDate.Time, URL: url,
	}, "", nil
}
