package connect

import (
	"net/http"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

const jiraSecret = "jira-secret"

func jiraHeaders(id string, body []byte) []string {
	return []string{"X-Hub-Signature", "sha256=" + hexHMAC(jiraSecret, body), "X-Atlassian-Webhook-Identifier", id}
}

func jiraEnv(t *testing.T, cfg Jira) *env {
	cfg.Secret = jiraSecret
	return newEnv(t, Config{Jira: cfg})
}

func TestJiraSignature(t *testing.T) {
	runSignatureChecks(t, sourceCase{
		source: "jira",
		cfg:    func(secret string) Config { return Config{Jira: Jira{Secret: secret}} },
		body:   fixture(t, "jira/webhook-server-issue-updated-resolved.json"),
		sign: func(_ *env, secret string, body []byte) []string {
			return []string{"X-Hub-Signature", "sha256=" + hexHMAC(secret, body)}
		},
	})
}

func TestJiraTicketsAndIncidents(t *testing.T) {
	e := jiraEnv(t, Jira{})
	// A Story is neither by default.
	created := fixture(t, "jira/webhook-issue-created.json")
	e.post("jira", created, jiraHeaders("j-1", created)...).want(t, http.StatusOK, store.DeliveryIgnored)
	// A Bug is a ticket; resolved on Jira Server.
	resolved := fixture(t, "jira/webhook-server-issue-updated-resolved.json")
	e.post("jira", resolved, jiraHeaders("j-2", resolved)...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindTicket, "jira", "TES-4"), &domain.Ticket{
		Meta: domain.Meta{ID: "TES-4", Source: "jira"}, CreatedAt: ts("2019-08-12T22:14:23.580Z"), ResolvedAt: ts("2019-08-12T23:23:01.890Z"),
		Priority: "medium", Category: "bug", Text: "Unit test summary 1",
	})
	// Derived: the real resolved Story of Jira Cloud as an Incident.
	inc := edit(t, fixture(t, "jira/webhook-issue-updated-resolved.json"), func(m map[string]any) {
		obj(m, "issue", "fields", "issuetype")["name"] = "Incident"
	})
	e = jiraEnv(t, Jira{Incidents: Incidents{Services: map[string]string{"COMP-1": "payments"}}})
	e.post("jira", inc, jiraHeaders("j-3", inc)...).want(t, http.StatusOK, store.DeliveryAccepted)
	want := &domain.Incident{
		Meta: domain.Meta{ID: "TES-41", Source: "jira"}, Service: "payments", Severity: "P2",
		OpenedAt: ts("2019-02-16T03:01:52.971Z"), ResolvedAt: ts("2019-02-16T03:15:40.470Z"),
		URL: "https://some-instance-test.atlassian.net/browse/TES-41",
	}
	sameRecord(t, e.record(domain.KindIncident, "jira", "TES-41"), want)
	// Reopened: the issue as it is now has no resolution.
	reopened := edit(t, inc, func(m map[string]any) {
		m["timestamp"] = 1550290000000
		obj(m, "issue", "fields")["resolutiondate"] = nil
	})
	e.post("jira", reopened, jiraHeaders("j-4", reopened)...).want(t, http.StatusOK, store.DeliveryAccepted)
	want.ResolvedAt = ts("0001-01-01T00:00:00Z")
	sameRecord(t, e.record(domain.KindIncident, "jira", "TES-41"), want)

	// Configured types replace the defaults: Stories are tickets, Bugs
	// nothing.
	e = jiraEnv(t, Jira{IssueTypes: map[string]string{"story": "ticket"}})
	e.post("jira", created, jiraHeaders("j-5", created)...).want(t, http.StatusOK, store.DeliveryAccepted)
	e.post("jira", resolved, jiraHeaders("j-6", resolved)...).want(t, http.StatusOK, store.DeliveryIgnored)
}

func TestJiraRedeliveryUnmappedMalformed(t *testing.T) {
	e := jiraEnv(t, Jira{})
	body := fixture(t, "jira/webhook-server-issue-updated-closed.json")
	e.redelivery("jira", body, jiraHeaders("j-1", body)...)
	// Without Jira's header the event's time, issue and change identify it.
	e = jiraEnv(t, Jira{})
	sig := []string{"X-Hub-Signature", "sha256=" + hexHMAC(jiraSecret, body)}
	e.redelivery("jira", body, sig...)
	if ds := e.deliveries("jira"); ds[0].DeliveryID != "1565752078358:jira:issue_updated:10300:10511" {
		t.Fatalf("delivery id %q", ds[0].DeliveryID)
	}
	deleted := edit(t, body, func(m map[string]any) { m["webhookEvent"] = "jira:issue_deleted" })
	e.post("jira", deleted, jiraHeaders("j-2", deleted)...).want(t, http.StatusOK, store.DeliveryIgnored)
	e = jiraEnv(t, Jira{})
	noCreated := edit(t, body, func(m map[string]any) { delete(obj(m, "issue", "fields"), "created") })
	e.malformed("jira", noCreated, "issue.fields.created", jiraHeaders("j-3", noCreated)...)
	badTime := edit(t, body, func(m map[string]any) { obj(m, "issue", "fields")["created"] = "yesterday" })
	e.malformed("jira", badTime, "issue.fields.created", jiraHeaders("j-4", badTime)...)
}

// Every Jira event carries the whole issue: the newest version stands.
// The real closing of TES-4 (updated 14 August) then its older resolution
// (13 August) arriving late: the late one is ignored, saying why, and the
// closing's resolution date stays.
func TestJiraStaleEventDoesNotReplaceNewer(t *testing.T) {
	resolved := fixture(t, "jira/webhook-server-issue-updated-resolved.json")
	closed := fixture(t, "jira/webhook-server-issue-updated-closed.json")
	e := jiraEnv(t, Jira{})
	e.post("jira", closed, jiraHeaders("j-closed", closed)...).want(t, http.StatusOK, store.DeliveryAccepted)
	r := e.post("jira", resolved, jiraHeaders("j-resolved", resolved)...)
	r.want(t, http.StatusOK, store.DeliveryIgnored)
	if !strings.Contains(r.raw, "the newer one stands") {
		t.Errorf("the stale event's answer: %s", r.raw)
	}
	if got := e.record(domain.KindTicket, "jira", "TES-4").(*domain.Ticket).ResolvedAt; !got.Equal(ts("2019-08-14T03:03:02.179Z")) {
		t.Errorf("resolved_at %v, want the closing's 2019-08-14T03:03:02.179Z", got)
	}
	// In order, the newer replaces the older as before.
	e = jiraEnv(t, Jira{})
	e.post("jira", resolved, jiraHeaders("j-resolved", resolved)...).want(t, http.StatusOK, store.DeliveryAccepted)
	e.post("jira", closed, jiraHeaders("j-closed", closed)...).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := e.record(domain.KindTicket, "jira", "TES-4").(*domain.Ticket).ResolvedAt; !got.Equal(ts("2019-08-14T03:03:02.179Z")) {
		t.Errorf("in order: resolved_at %v, want 2019-08-14T03:03:02.179Z", got)
	}
	// A derived variant of the resolution, newer than the closing (a
	// reopening and resolution since): it applies.
	later := edit(t, resolved, func(m map[string]any) {
		m["timestamp"] = 1565900000000
		f := obj(m, "issue", "fields")
		f["updated"], f["resolutiondate"] = "2019-08-16T04:13:20.000+0800", "2019-08-16T04:13:19.000+0800"
	})
	e.post("jira", later, jiraHeaders("j-later", later)...).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := e.record(domain.KindTicket, "jira", "TES-4").(*domain.Ticket).ResolvedAt; !got.Equal(ts("2019-08-15T20:13:19Z")) {
		t.Errorf("a newer resolution: resolved_at %v, want 2019-08-15T20:13:19Z", got)
	}
}
