package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// jiraAPI serves recorded issues as Jira's searches do: the JQL's
// relative bound (updated >= "-Nm", from the test's clock) applied, oldest
// update first; Cloud's /rest/api/3/search/jql pages with nextPageToken
// and isLast, Data Center's /rest/api/2/search with startAt and total.
func jiraAPI(t *testing.T, now *time.Time) *fakeAPI {
	var all []json.RawMessage
	for _, name := range []string{"sync/jira/search.jql.1.json", "sync/jira/search.jql.2.json"} {
		var p jiraPage
		if err := json.Unmarshal(fixture(t, name), &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Issues...)
	}
	bound := regexp.MustCompile(`updated >= "-(\d+)m" ORDER BY updated ASC, key ASC$`)
	return newFakeAPI(t, [2]string{"Authorization", "Basic b3BzQGFjbWUuZXhhbXBsZTpqaXJhLWFwaS10b2tlbg=="}, func(a *fakeAPI, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		m := bound.FindStringSubmatch(q.Get("jql"))
		if m == nil || !strings.HasPrefix(q.Get("jql"), "(project = TES) AND ") || q.Get("fields") != jiraFields {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errorMessages": ["unexpected query %q"], "errors": {}}`, q.Get("jql"))
			return
		}
		minutes, _ := strconv.Atoi(m[1])
		from := now.Add(-time.Duration(minutes) * time.Minute).Truncate(time.Minute)
		var list []json.RawMessage
		for _, raw := range all {
			var is jiraIssue
			json.Unmarshal(raw, &is)
			if !is.Fields.Updated.Before(from) {
				list = append(list, raw)
			}
		}
		updated := func(raw json.RawMessage) time.Time {
			var is jiraIssue
			json.Unmarshal(raw, &is)
			return is.Fields.Updated.Time
		}
		sort.SliceStable(list, func(i, j int) bool { return updated(list[i]).Before(updated(list[j])) })
		size, _ := strconv.Atoi(q.Get("maxResults"))
		switch r.URL.Path {
		case "/rest/api/3/search/jql":
			start, _ := strconv.Atoi(strings.TrimPrefix(q.Get("nextPageToken"), "tok-"))
			end := min(len(list), start+size)
			out := map[string]any{"issues": list[start:end]}
			if end < len(list) {
				out["nextPageToken"] = fmt.Sprintf("tok-%d", end)
			} else {
				out["isLast"] = true
			}
			writeJSON(w, out)
		case "/rest/api/2/search":
			start, _ := strconv.Atoi(q.Get("startAt"))
			end := min(len(list), start+size)
			writeJSON(w, map[string]any{"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(list), "issues": list[start:end]})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

func jiraSyncConfig(api *fakeAPI, search string) Config {
	return Config{Jira: Jira{Secret: jiraSecret, Sync: JiraSync{
		Sync: Sync{Token: "jira-api-token", BaseURL: api.srv.URL, Backfill: "10d", PageSize: 2},
		User: "ops@acme.example", JQL: "project = TES", Search: search,
	}}}
}

// Both searches page through the issues updated since the cursor; a Bug
// is a ticket, an Incident an incident, a Story is ignored.
func TestSyncJira(t *testing.T) {
	for _, search := range []string{"", "legacy"} {
		t.Run(firstOf(search, "enhanced"), func(t *testing.T) {
			now := time.Date(2019, 2, 20, 0, 0, 0, 0, time.UTC)
			api := jiraAPI(t, &now)
			se := newSyncEnv(t, jiraSyncConfig(api, search), api)
			se.now = now
			sum := se.sync("jira", SyncOptions{})
			if sum.Accepted != 3 || sum.Ignored != 1 || sum.Inserted != 2 || sum.Unchanged != 1 {
				t.Errorf("summary %+v", sum)
			}
			tk := se.record(domain.KindTicket, "jira", "TES-42").(*domain.Ticket)
			if tk.Category != "bug" || tk.Priority != "high" || !tk.CreatedAt.Equal(ts("2019-02-16T17:12:00Z")) {
				t.Errorf("ticket = %+v", tk)
			}
			inc := se.record(domain.KindIncident, "jira", "TES-43").(*domain.Incident)
			if inc.Severity != "P2" || inc.Service != "COMP-1" || inc.URL != "https://some-instance-test.atlassian.net/browse/TES-43" {
				t.Errorf("incident = %+v", inc)
			}
			if cur := se.cursorOf("jira", "issues"); !cur.Since.Equal(ts("2019-02-17T16:30:00Z")) {
				t.Errorf("cursor %+v, want the newest update", cur)
			}
			if got := api.took("/rest/api/"); len(got) != 2 {
				t.Errorf("searches %v, want two", got)
			}
		})
	}
}

// A dry run of the Jira collector maps every issue and remembers nothing:
// no record and no event clock, which would have made a later delivery of
// an issue's intermediate version come back ignored though no version of
// it was written.
func TestSyncJiraDryRunKeepsNoClock(t *testing.T) {
	now := time.Date(2019, 2, 20, 0, 0, 0, 0, time.UTC)
	api := jiraAPI(t, &now)
	se := newSyncEnv(t, jiraSyncConfig(api, ""), api)
	se.now = now
	sum := se.sync("jira", SyncOptions{DryRun: true})
	if sum.Accepted != 3 || se.recordCount() != 0 {
		t.Fatalf("dry run: %+v, %d records stored", sum, se.recordCount())
	}
	for _, k := range []string{"jira/incident/TES-43#1", "jira/ticket/TES-42#1"} {
		if _, ok, err := se.st.DocByKey(context.Background(), eventClocks, k); ok || err != nil {
			t.Errorf("dry run kept event clock %s (%v)", k, err)
		}
	}
	se.sync("jira", SyncOptions{})
	if _, ok, _ := se.st.DocByKey(context.Background(), eventClocks, "jira/incident/TES-43#1"); !ok {
		t.Error("a real run kept no event clock: the check above proves nothing")
	}
}

// An issue synced and the same issue delivered by webhook are the same
// record.
func TestSyncJiraSameRecordsAsWebhook(t *testing.T) {
	now := time.Date(2019, 2, 20, 0, 0, 0, 0, time.UTC)
	api := jiraAPI(t, &now)
	cfg := jiraSyncConfig(api, "")
	cfg.Jira.IssueTypes = map[string]string{"Story": "incident", "Bug": "ticket"}
	se := newSyncEnv(t, cfg, api)
	se.now = now
	se.sync("jira", SyncOptions{})
	hook := jiraEnv(t, Jira{IssueTypes: cfg.Jira.IssueTypes})
	body := fixture(t, "jira/webhook-issue-updated-resolved.json")
	hook.post("jira", body, jiraHeaders("j-1", body)...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameStored(t, hook, se.env, domain.Key{Kind: domain.KindIncident, Source: "jira", ID: "TES-41"})
}

// A page whose commit fails keeps no event clock of its issues: the
// clocks are committed with the records they order. Kept before, an
// issue's clock outlived its failed page, and the issue's webhook
// delivery of the same version came back ignored though no version of it
// was stored.
func TestSyncJiraFailedCommitKeepsNoClock(t *testing.T) {
	now := time.Date(2019, 2, 20, 0, 0, 0, 0, time.UTC)
	api := jiraAPI(t, &now)
	se := newSyncEnv(t, jiraSyncConfig(api, ""), api)
	se.now = now
	se.crash("jira", 1)
	if n := se.recordCount(); n != 0 {
		t.Fatalf("%d records stored by the failed page", n)
	}
	for _, k := range []string{"jira/incident/TES-43#1", "jira/ticket/TES-42#1"} {
		if d, ok, err := se.st.DocByKey(context.Background(), eventClocks, k); ok || err != nil {
			t.Errorf("the failed page kept event clock %s %s (%v)", k, d.Body, err)
		}
	}
	se.resume("jira")
	if _, ok, _ := se.st.DocByKey(context.Background(), eventClocks, "jira/incident/TES-43#1"); !ok {
		t.Error("the page committed kept no event clock: the check above proves nothing")
	}
}
