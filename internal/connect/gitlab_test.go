package connect

import (
	"net/http"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

const glSecret = "gl-token"

func glHeaders(event, uuid string) []string {
	return []string{"X-Gitlab-Token", glSecret, "X-Gitlab-Event", event, "X-Gitlab-Event-UUID", uuid}
}

func glEnv(t *testing.T, cfg GitLab) *env {
	cfg.Secret = glSecret
	return newEnv(t, Config{GitLab: cfg})
}

func TestGitLabSignature(t *testing.T) {
	runSignatureChecks(t, sourceCase{
		source:    "gitlab",
		cfg:       func(secret string) Config { return Config{GitLab: GitLab{Secret: secret}} },
		body:      fixture(t, "gitlab/go-gitlab.deployment.json"),
		sign:      func(_ *env, secret string, _ []byte) []string { return []string{"X-Gitlab-Token", secret} },
		extra:     []string{"X-Gitlab-Event", "Deployment Hook", "X-Gitlab-Event-UUID", "u-1"},
		tokenOnly: true,
	})
}

func TestGitLabDeploymentAndPipelineAreOneRecord(t *testing.T) {
	e := glEnv(t, GitLab{})
	e.post("gitlab", fixture(t, "gitlab/go-gitlab.deployment.json"), glHeaders("Deployment Hook", "u-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindDeployment, "gitlab", "job/796"), &domain.Deployment{
		Meta: domain.Meta{ID: "job/796", Source: "gitlab"}, Service: "test-deployment-webhooks", Environment: "staging",
		Status: "success", FinishedAt: ts("2021-04-28T19:50:00Z"), Version: "1.0.0",
		Commit:      "279484c09fbe69ededfced8c1bb6e6d24616b468",
		PipelineURL: "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
	})

	// The real pipeline's production job was skipped: nothing deployed.
	e.post("gitlab", fixture(t, "gitlab/go-gitlab.pipeline.json"), glHeaders("Pipeline Hook", "u-2")...).want(t, http.StatusOK, store.DeliveryIgnored)
	// Derived: the same pipeline with its production job succeeded.
	a := e.post("gitlab", fixture(t, "gitlab/derived.pipeline.production-deployed.json"), glHeaders("Pipeline Hook", "u-3")...).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := a.records(); len(got) != 1 || got[0] != "deployment/gitlab/job/380" {
		t.Fatalf("records %v", got)
	}
	sameRecord(t, e.record(domain.KindDeployment, "gitlab", "job/380"), &domain.Deployment{
		Meta: domain.Meta{ID: "job/380", Source: "gitlab"}, Service: "gitlab-test", Environment: "production", EnvType: "production",
		Status: "success", StartedAt: ts("2016-08-12T15:26:30Z"), FinishedAt: ts("2016-08-12T15:27:10Z"),
		Commit: "bcbb5ec396a2c0f828686f14fac9b80b780504f2", PipelineURL: "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/380",
	})
	// The deployment event of that job writes the same record.
	dep := edit(t, fixture(t, "gitlab/go-gitlab.deployment.json"), func(m map[string]any) {
		m["deployable_id"] = 380
		m["project"] = obj(mustDecode(t, fixture(t, "gitlab/go-gitlab.pipeline.json")), "project")
	})
	e.post("gitlab", dep, glHeaders("Deployment Hook", "u-4")...).want(t, http.StatusOK, store.DeliveryAccepted)
	if n := e.recordCount(); n != 2 {
		t.Fatalf("%d records, want the two deployments", n)
	}
	running := edit(t, fixture(t, "gitlab/go-gitlab.deployment.json"), func(m map[string]any) { m["status"] = "running" })
	e.post("gitlab", running, glHeaders("Deployment Hook", "u-5")...).want(t, http.StatusOK, store.DeliveryIgnored)
}

func TestGitLabMergeRequest(t *testing.T) {
	e := glEnv(t, GitLab{Deploys: Deploys{Services: map[string]string{"gitlab-org/hello-world": "hello"}}})
	e.post("gitlab", fixture(t, "gitlab/go-scm.pull_request_merge.json"), glHeaders("Merge Request Hook", "m-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1"), &domain.Change{
		Meta: domain.Meta{ID: "gitlab-org/hello-world!1", Source: "gitlab"}, Service: "hello",
		MergedAt: ts("2017-12-10T17:08:07Z"), OpenedAt: ts("2017-12-10T17:01:11Z"), Title: "update readme",
		Commit: "78a76ee6b4992a6baf64c59fc4c44c7323d60438", URL: "https://gitlab.com/gitlab-org/hello-world/merge_requests/1",
	})
	e.post("gitlab", fixture(t, "gitlab/go-scm.pull_request_close.json"), glHeaders("Merge Request Hook", "m-2")...).want(t, http.StatusOK, store.DeliveryIgnored)
	e.post("gitlab", fixture(t, "gitlab/go-gitlab.merge_request.json"), glHeaders("Merge Request Hook", "m-3")...).want(t, http.StatusOK, store.DeliveryIgnored)

	// Derived from the real merge: a day later the merged merge request is
	// updated (a label added: action update, state still merged, its
	// updated_at the update's). GitLab sends no merge time, but the change
	// merged at the merge, not at the label; the new title is taken.
	labelled := edit(t, fixture(t, "gitlab/go-scm.pull_request_merge.json"), func(m map[string]any) {
		oa := obj(m, "object_attributes")
		oa["action"], oa["updated_at"], oa["title"] = "update", "2017-12-11 09:00:00 UTC", "update readme (released)"
	})
	e.post("gitlab", labelled, glHeaders("Merge Request Hook", "m-4")...).want(t, http.StatusOK, store.DeliveryAccepted)
	c := e.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1").(*domain.Change)
	if !c.MergedAt.Equal(ts("2017-12-10T17:08:07Z")) || c.Title != "update readme (released)" {
		t.Fatalf("merged_at %v, title %q: want the merge's time, the update's title", c.MergedAt, c.Title)
	}
	// Arriving in the other order, the merge's time stands all the same.
	e = glEnv(t, GitLab{})
	e.post("gitlab", labelled, glHeaders("Merge Request Hook", "m-4")...).want(t, http.StatusOK, store.DeliveryAccepted)
	e.post("gitlab", fixture(t, "gitlab/go-scm.pull_request_merge.json"), glHeaders("Merge Request Hook", "m-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	if c := e.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1").(*domain.Change); !c.MergedAt.Equal(ts("2017-12-10T17:08:07Z")) {
		t.Fatalf("merged_at %v, want the merge's time", c.MergedAt)
	}
}

// An approval is a review: the first one by someone other than the author
// is written with the change when it merges. Derived in code from the real
// merged delivery: its action set to approved and its time before the merge.
// glApproval is the real merge of !1 edited into an approval by userID
// at at (the author is 51764).
func glApproval(t *testing.T, at, userID string) []byte {
	return edit(t, fixture(t, "gitlab/go-scm.pull_request_merge.json"), func(m map[string]any) {
		oa := obj(m, "object_attributes")
		oa["action"], oa["state"], oa["updated_at"] = "approved", "opened", at
		obj(m, "user")["id"] = userID
	})
}

func TestGitLabApprovalIsFirstReview(t *testing.T) {
	e := glEnv(t, GitLab{})
	merged := fixture(t, "gitlab/go-scm.pull_request_merge.json")
	approval := func(at, userID string) []byte { return glApproval(t, at, userID) }
	e.post("gitlab", approval("2017-12-10 17:05:00 UTC", "51764"), glHeaders("Merge Request Hook", "a-0")...).want(t, http.StatusOK, store.DeliveryIgnored)
	a := e.post("gitlab", approval("2017-12-10 17:06:00 UTC", "7"), glHeaders("Merge Request Hook", "a-1")...).want(t, http.StatusOK, store.DeliveryIgnored)
	if a.body["reason"] != "first review kept until the merge" {
		t.Errorf("approval: %v", a.body["reason"])
	}
	e.post("gitlab", merged, glHeaders("Merge Request Hook", "m-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	c := e.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1").(*domain.Change)
	if !c.FirstReviewAt.Equal(ts("2017-12-10T17:06:00Z")) {
		t.Fatalf("first review %v, want the approval by someone else than the author, 17:06", c.FirstReviewAt)
	}
}

// A comment on a merge request (Note Hook) by someone other than its
// author is a review: kept until the merge, then its first_review_at.
func TestGitLabNoteIsFirstReview(t *testing.T) {
	e := glEnv(t, GitLab{})
	note := fixture(t, "gitlab/derived.note.merge_request.json")
	// A comment without its merge request is refused, naming the field.
	bad := edit(t, note, func(m map[string]any) { delete(m, "merge_request") })
	e.malformed("gitlab", bad, "merge_request: missing", glHeaders("Note Hook", "n-bad")...)
	comment := func(at, authorID string, set func(oa map[string]any)) []byte {
		return edit(t, note, func(m map[string]any) {
			oa := obj(m, "object_attributes")
			oa["created_at"], oa["author_id"] = at, authorID
			if set != nil {
				set(oa)
			}
		})
	}
	for _, c := range []struct {
		body []byte
		why  string
	}{
		{comment("2017-12-10 17:02:00 UTC", "51764", nil), "a comment by the merge request's author"},
		{comment("2017-12-10 17:02:30 UTC", "7", func(oa map[string]any) { oa["noteable_type"] = "Issue" }), `a comment with noteable_type "Issue", not MergeRequest`},
		{comment("2017-12-10 17:03:00 UTC", "7", func(oa map[string]any) { oa["system"] = true }), "a system note is no review"},
		{note, "first review kept until the merge"},
	} {
		a := e.post("gitlab", c.body, glHeaders("Note Hook", "n-"+c.why)...).want(t, http.StatusOK, store.DeliveryIgnored)
		if a.body["reason"] != c.why {
			t.Errorf("reason %v, want %q", a.body["reason"], c.why)
		}
	}
	e.post("gitlab", fixture(t, "gitlab/go-scm.pull_request_merge.json"), glHeaders("Merge Request Hook", "m-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	c := e.record(domain.KindChange, "gitlab", "gitlab-org/hello-world!1").(*domain.Change)
	if !c.FirstReviewAt.Equal(ts("2017-12-10T17:04:00Z")) {
		t.Fatalf("first review %v, want the reviewer's comment at 17:04", c.FirstReviewAt)
	}
}

func TestGitLabPush(t *testing.T) {
	push := fixture(t, "gitlab/go-gitlab.push.json")
	glEnv(t, GitLab{}).post("gitlab", push, glHeaders("Push Hook", "p-1")...).want(t, http.StatusOK, store.DeliveryIgnored)
	e := glEnv(t, GitLab{ChangesFrom: "push"})
	a := e.post("gitlab", push, glHeaders("Push Hook", "p-1")...).want(t, http.StatusOK, store.DeliveryAccepted)
	if len(a.records()) != 2 {
		t.Fatalf("records %v, want the two commits", a.records())
	}
	c := e.record(domain.KindChange, "gitlab", "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327").(*domain.Change)
	if c.Service != "diaspora" || !c.MergedAt.Equal(ts("2012-01-03T21:36:29Z")) || !c.AuthoredAt.Equal(ts("2011-12-12T12:27:31Z")) {
		t.Fatalf("change %+v: want service diaspora, merged with the push's newest commit, authored at its own", c)
	}
}

func TestGitLabRedeliveryUnmappedMalformed(t *testing.T) {
	e := glEnv(t, GitLab{})
	body := fixture(t, "gitlab/go-gitlab.deployment.json")
	// Idempotency-Key is the id GitLab keeps across retries.
	e.redelivery("gitlab", body, append(glHeaders("Deployment Hook", "u-9"), "Idempotency-Key", "k-1")...)
	if ds := e.deliveries("gitlab"); ds[0].DeliveryID != "k-1" {
		t.Fatalf("delivery id %q, want the Idempotency-Key", ds[0].DeliveryID)
	}
	e.post("gitlab", fixture(t, "gitlab/go-gitlab.issue.json"), glHeaders("Issue Hook", "i-1")...).want(t, http.StatusOK, store.DeliveryIgnored)
	e.post("gitlab", fixture(t, "gitlab/go-gitlab.job.json"), glHeaders("Job Hook", "j-1")...).want(t, http.StatusOK, store.DeliveryIgnored)

	e = glEnv(t, GitLab{})
	e.malformed("gitlab", []byte(`[1, 2]`), "not", glHeaders("Deployment Hook", "x-1")...)
	e.malformed("gitlab", []byte(`{"status": "success"}`), "object_kind", glHeaders("Deployment Hook", "x-2")...)
	noEnv := edit(t, body, func(m map[string]any) { delete(m, "environment") })
	e.malformed("gitlab", noEnv, "field environment: required", glHeaders("Deployment Hook", "x-3")...)
}
