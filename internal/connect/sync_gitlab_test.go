package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// since filters a recorded list by a time field (strictly after, as
// GitLab's updated_after may be read) and sorts it oldest first.
func since(t *testing.T, list []json.RawMessage, key string, after time.Time) []json.RawMessage {
	var out []json.RawMessage
	for _, raw := range list {
		if at := ts(field(t, raw, key)); at.After(after) {
			out = append(out, raw)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return ts(field(t, out[i], key)).Before(ts(field(t, out[j], key))) })
	return out
}

// gitlabAPI serves two projects' recorded merge requests and deployments
// as GitLab's REST API does: filtered by updated_after, oldest first, a
// page at a time with X-Page, X-Next-Page (empty on the last page) and
// X-Total.
func gitlabAPI(t *testing.T) *fakeAPI {
	mrs := items(t, "sync/gitlab/merge_requests.1.json", "sync/gitlab/merge_requests.2.json")
	deps := items(t, "sync/gitlab/deployments.1.json")
	lists := map[string]map[string][]json.RawMessage{
		"gitlab-org%2Fhello-world":        {"merge_requests": mrs, "deployments": nil},
		"root%2Ftest-deployment-webhooks": {"merge_requests": nil, "deployments": deps},
	}
	return newFakeAPI(t, [2]string{"PRIVATE-TOKEN", "gl-api-token"}, func(a *fakeAPI, w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/projects/"), "/")
		proj, ok := lists[parts[0]]
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message": "404 Project Not Found"}`)
		case len(parts) == 1:
			name, _ := url.PathUnescape(parts[0])
			writeJSON(w, fixture(t, "sync/gitlab/project."+name[strings.LastIndexByte(name, '/')+1:]+".json"))
		case len(parts) == 4 && parts[1] == "merge_requests" && parts[3] == "notes":
			if q := r.URL.Query(); q.Get("order_by") != "created_at" || q.Get("sort") != "asc" {
				t.Errorf("notes asked as %s", r.URL.RawQuery)
			}
			pg, n, more := pageOf(r, items(t, "sync/gitlab/notes."+parts[2]+".json"))
			w.Header().Set("X-Next-Page", "")
			if more {
				w.Header().Set("X-Next-Page", strconv.Itoa(n+1))
			}
			writeJSON(w, pg)
		default:
			q := r.URL.Query()
			if q.Get("order_by") != "updated_at" || q.Get("sort") != "asc" || (parts[1] == "merge_requests" && q.Get("state") != "merged") {
				t.Errorf("%s asked as %s", parts[1], r.URL.RawQuery)
			}
			after, err := time.Parse(time.RFC3339, q.Get("updated_after"))
			if err != nil {
				t.Errorf("updated_after %q: %v", q.Get("updated_after"), err)
			}
			list := since(t, proj[parts[1]], "updated_at", after)
			pg, n, more := pageOf(r, list)
			next := ""
			if more {
				next = strconv.Itoa(n + 1)
			}
			w.Header().Set("X-Page", strconv.Itoa(n))
			w.Header().Set("X-Next-Page", next)
			w.Header().Set("X-Per-Page", q.Get("per_page"))
			w.Header().Set("X-Total", strconv.Itoa(len(list)))
			writeJSON(w, pg)
		}
	})
}

func glSyncConfig(api *fakeAPI) Config {
	return Config{GitLab: GitLab{Secret: glSecret, Sync: GitLabSync{
		Sync:     Sync{Token: "gl-api-token", BaseURL: api.srv.URL, Backfill: "2000d", PageSize: 2},
		Projects: []string{"gitlab-org/hello-world", "root/test-deployment-webhooks"},
	}}}
}

// The merge requests are walked as a keyset on their update time: each
// page asks again from the newest time the last one reached. A crash
// while the second page commits resumes from the first page's newest
// time: the merge request at that very time is read again and counted
// unchanged, the rest once.
func TestSyncGitLab(t *testing.T) {
	api := gitlabAPI(t)
	se := newSyncEnv(t, glSyncConfig(api), api)
	se.now = time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	se.crash("gitlab", 2)
	cur := se.cursorOf("gitlab", "gitlab-org/hello-world merge requests")
	if !cur.Since.Equal(ts("2017-12-11T10:00:00Z")) || cur.Next != "" {
		t.Fatalf("cursor after the crash %+v, want the first page's newest update", cur)
	}
	if n := se.recordCount(); n != 2 {
		t.Fatalf("%d records after the crash, want the first page's 2", n)
	}
	sum := se.resume("gitlab")
	mrs := api.took("/api/v4/projects/gitlab-org%2Fhello-world/merge_requests?")
	if len(mrs) != 1 || query(t, mrs[0]).Get("updated_after") != "2017-12-11T09:59:59Z" {
		t.Errorf("resumed merge request queries %v", mrs)
	}
	if sum.Inserted != 2 || sum.Unchanged != 1 || sum.Replaced != 0 {
		t.Errorf("resumed run wrote %+v, want !3 and the deployment inserted, !2 (read again) unchanged", sum.WriteResult)
	}
	c := se.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1").(*domain.Change)
	if c.Service != "hello-world" || !c.MergedAt.Equal(ts("2017-12-10T17:08:07Z")) || c.URL != "https://gitlab.com/gitlab-org/hello-world/merge_requests/1" {
		t.Errorf("change !1 = %+v", c)
	}
	se.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!3")
	d := se.record(domain.KindDeployment, "gitlab", "job/796").(*domain.Deployment)
	if d.Status != domain.StatusSuccess || d.EnvType != domain.EnvStaging || d.Version != "1.0.0" || !d.FinishedAt.Equal(ts("2021-04-28T19:50:00Z")) {
		t.Errorf("deployment = %+v", d)
	}
	if n := se.recordCount(); n != 4 {
		t.Errorf("%d records, want 3 changes and 1 deployment (the running one is ignored)", n)
	}
	if cur := se.cursorOf("gitlab", "gitlab-org/hello-world merge requests"); !cur.Since.Equal(ts("2017-12-12T09:30:00Z")) {
		t.Errorf("cursor %+v, want the newest merge request's update", cur)
	}
	if rs := se.runs("gitlab"); len(rs) != 2 || rs[0].Outcome != store.SyncOK || rs[1].Outcome != store.SyncFailed {
		t.Errorf("runs %+v", rs)
	}
}

func TestSyncGitLabSameRecordsAsWebhook(t *testing.T) {
	api := gitlabAPI(t)
	se := newSyncEnv(t, glSyncConfig(api), api)
	se.now = time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	se.sync("gitlab", SyncOptions{})
	hook := glEnv(t, GitLab{})
	// The approval the API's notes list as !1's first review, delivered.
	hook.post("gitlab", glApproval(t, "2017-12-10 17:05:00 UTC", "7"), glHeaders("Merge Request Hook", "a-1")...).want(t, http.StatusOK, store.DeliveryIgnored)
	hook.post("gitlab", fixture(t, "gitlab/go-scm.pull_request_merge.json"), glHeaders("Merge Request Hook", "m-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	// GitLab 15 and later send the environment's tier with the event (the
	// recorded one, from 2021, has none).
	dep := edit(t, fixture(t, "gitlab/go-gitlab.deployment.json"), func(m map[string]any) { m["environment_tier"] = "staging" })
	hook.post("gitlab", dep, glHeaders("Deployment Hook", "u-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameStored(t, hook, se.env, domain.Key{Kind: domain.KindChange, Source: "gitlab", ID: "gitlab-org/hello-world!1"})
	sameStored(t, hook, se.env, domain.Key{Kind: domain.KindDeployment, Source: "gitlab", ID: "job/796"})
}

// The collector reads each merged merge request's notes, oldest first,
// for its first review: the earliest comment or approval by someone other
// than the author, a page at a time until a page holds one.
func TestSyncGitLabFirstReview(t *testing.T) {
	api := gitlabAPI(t)
	se := newSyncEnv(t, glSyncConfig(api), api)
	se.now = time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	se.sync("gitlab", SyncOptions{})
	// Page 1: the author's own comment and another user's system note
	// (not an approval); page 2: the approval at 17:05, then a comment.
	c1 := se.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1").(*domain.Change)
	if !c1.FirstReviewAt.Equal(ts("2017-12-10T17:05:00Z")) {
		t.Errorf("!1 first review %v, want the approval at 17:05", c1.FirstReviewAt)
	}
	notes := api.took("/api/v4/projects/gitlab-org%2Fhello-world/merge_requests/1/notes")
	if len(notes) != 2 || query(t, notes[0]).Get("page") != "1" || query(t, notes[1]).Get("page") != "2" {
		t.Errorf("!1's notes asked %v, want pages 1 and 2", notes)
	}
	if c2 := se.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!2").(*domain.Change); !c2.FirstReviewAt.IsZero() {
		t.Errorf("!2 has no note, first review %v", c2.FirstReviewAt)
	}
	if c3 := se.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!3").(*domain.Change); !c3.FirstReviewAt.Equal(ts("2017-12-12T09:10:00Z")) {
		t.Errorf("!3 first review %v, want the comment at 09:10", c3.FirstReviewAt)
	}

	// connectors.gitlab.sync.reviews: false asks for no notes.
	cfg := glSyncConfig(api)
	off := false
	cfg.GitLab.Sync.Reviews = &off
	se = newSyncEnv(t, cfg, api)
	se.now = time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	api.took("")
	se.sync("gitlab", SyncOptions{})
	if rs := api.took("/api/v4/projects/gitlab-org%2Fhello-world/merge_requests/"); len(rs) != 0 {
		t.Errorf("notes asked %v with reviews off", rs)
	}
}

// GitLab's token travels in PRIVATE-TOKEN, which Go's client forwards on
// a redirect to any host: a redirect away from the base URL's host is
// refused (and never dialled), one on the host is followed.
func TestSyncGitLabFollowsNoRedirectElsewhere(t *testing.T) {
	api := gitlabAPI(t)
	se := newSyncEnv(t, glSyncConfig(api), api)
	se.now = time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	api.fault(fault{path: "/api/v4/projects/gitlab-org%2Fhello-world", status: http.StatusFound,
		header: map[string]string{"Location": "http://evil.example/steal"}})
	_, err := se.svc.Sync(context.Background(), "gitlab", SyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "redirected to http://evil.example/steal, which is not on 127.0.0.1") {
		t.Fatalf("a redirect to another host: %v", err)
	}
	// On its own host a redirect is followed: the moved project's page.
	api.fault(fault{path: "/api/v4/projects/gitlab-org%2Fhello-world", status: http.StatusMovedPermanently,
		header: map[string]string{"Location": api.srv.URL + "/api/v4/projects/gitlab-org%2Fhello-world"}})
	if _, err := se.svc.Sync(context.Background(), "gitlab", SyncOptions{}); err != nil {
		t.Fatalf("a redirect on the API's host: %v", err)
	}
}
