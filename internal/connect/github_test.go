package connect

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

const ghSecret = "gh-secret"

func ghEnv(t *testing.T, cfg GitHub) *env {
	if cfg.Secret == "" {
		cfg.Secret = ghSecret
	}
	return newEnv(t, Config{GitHub: cfg})
}

// ghPost sends a GitHub delivery signed with ghSecret.
func (e *env) ghPost(event, delivery string, body []byte) answer {
	e.t.Helper()
	return e.post("github", body, ghHeaders(event, delivery, body)...)
}

func ghHeaders(event, delivery string, body []byte) []string {
	return []string{"X-GitHub-Event", event, "X-GitHub-Delivery", delivery, "X-Hub-Signature-256", "sha256=" + hexHMAC(ghSecret, body),
		"Content-Type", "application/json"}
}

func TestGitHubSignature(t *testing.T) {
	runSignatureChecks(t, sourceCase{
		source: "github",
		cfg:    func(secret string) Config { return Config{GitHub: GitHub{Secret: secret}} },
		body:   fixture(t, "github/deployment_status.payload.json"),
		sign: func(_ *env, secret string, body []byte) []string {
			return []string{"X-Hub-Signature-256", "sha256=" + hexHMAC(secret, body)}
		},
		extra: []string{"X-GitHub-Event", "deployment_status", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
	})
}

func TestGitHubDeploymentStatus(t *testing.T) {
	e := ghEnv(t, GitHub{})
	body := fixture(t, "github/deployment_status.payload.json")
	a := e.ghPost("deployment_status", "d-1", body).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := a.records(); len(got) != 1 || got[0] != "deployment/github/deployment/145988746" {
		t.Fatalf("records %v", got)
	}
	sameRecord(t, e.record(domain.KindDeployment, "github", "deployment/145988746"), &domain.Deployment{
		Meta: domain.Meta{ID: "deployment/145988746", Source: "github"}, Service: "Hello-World", Environment: "production",
		Status: "success", StartedAt: ts("2019-05-15T15:20:53Z"), FinishedAt: ts("2019-05-15T15:20:55Z"),
		Commit: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
	})
	// The stored record's provenance is the payload as received.
	got, _ := e.st.Get(t.Context(), domain.Key{Kind: domain.KindDeployment, Source: "github", ID: "deployment/145988746"})
	if got.RawHash != sha256Hex(body) {
		t.Fatalf("raw hash %s, want the payload's sha256 %s", got.RawHash, sha256Hex(body))
	}
	ds := e.deliveries("github")
	if len(ds) != 1 || ds[0].DeliveryID != "d-1" || ds[0].Event != "deployment_status.created" || ds[0].PayloadSHA256 != sha256Hex(body) ||
		len(ds[0].Keys) != 1 || ds[0].Keys[0].ID != "deployment/145988746" {
		t.Fatalf("logged %+v", ds)
	}
	if string(e.kept("github", "d-1")) != string(body) {
		t.Fatal("the payload was not kept")
	}

	// The same delivery form-encoded (a webhook whose content type is
	// GitHub's default, application/x-www-form-urlencoded): the same
	// record, the body as sent kept and hashed. It had been refused as
	// "not valid JSON (at byte 1)".
	fe := ghEnv(t, GitHub{})
	form := []byte("payload=" + url.QueryEscape(string(body)))
	fe.post("github", form, "X-GitHub-Event", "deployment_status", "X-GitHub-Delivery", "f-1", "X-Hub-Signature-256", "sha256="+hexHMAC(ghSecret, form),
		"Content-Type", "application/x-www-form-urlencoded").want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, fe.record(domain.KindDeployment, "github", "deployment/145988746"), e.record(domain.KindDeployment, "github", "deployment/145988746"))
	if got, _ := fe.st.Get(t.Context(), domain.Key{Kind: domain.KindDeployment, Source: "github", ID: "deployment/145988746"}); got.RawHash != sha256Hex(form) {
		t.Fatalf("a form-encoded delivery's raw hash %s, want the body's as sent %s", got.RawHash, sha256Hex(form))
	}
	if string(fe.kept("github", "f-1")) != string(form) {
		t.Fatal("the form-encoded payload was not kept as sent")
	}

	// A state on the way (in_progress) is no finished deployment.
	e.ghPost("deployment_status", "d-2", fixture(t, "github/deployment_status.gh-pages.payload.json")).want(t, http.StatusOK, store.DeliveryIgnored)

	// Configured rules: the repository's service, a production name of
	// this source, and a failure.
	e = ghEnv(t, GitHub{Deploys: Deploys{Services: map[string]string{"Codertocat/Hello-World": "hello"}, ProductionEnvironments: []string{"Production"}}})
	failed := edit(t, body, func(m map[string]any) { obj(m, "deployment_status")["state"] = "error" })
	e.ghPost("deployment_status", "d-3", failed).want(t, http.StatusOK, store.DeliveryAccepted)
	d := e.record(domain.KindDeployment, "github", "deployment/145988746").(*domain.Deployment)
	if d.Service != "hello" || d.Status != domain.StatusFailure || d.EnvType != domain.EnvProduction {
		t.Fatalf("deployment %+v, want service hello, failure, env_type production", d)
	}
}

func TestGitHubPullRequest(t *testing.T) {
	e := ghEnv(t, GitHub{})
	merged := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindChange, "github", "Codertocat/Hello-World#2"), &domain.Change{
		Meta: domain.Meta{ID: "Codertocat/Hello-World#2", Source: "github"}, Service: "Hello-World",
		MergedAt: ts("2019-05-15T15:21:18Z"), OpenedAt: ts("2019-05-15T15:20:33Z"),
		Title: "Update the README with new information.", Author: "Codertocat",
		Commit: "c4295bd74fb0f4fda03689c3df3f2803b658fd85", URL: "https://github.com/Codertocat/Hello-World/pull/2",
	})
	// Closed without merging, and opened: no change.
	for i, name := range []string{"github/pull_request.closed.payload.json", "github/pull_request.opened.payload.json"} {
		a := e.ghPost("pull_request", "p-x"+string(rune('0'+i)), fixture(t, name)).want(t, http.StatusOK, store.DeliveryIgnored)
		if a.body["reason"] != "only a merged pull request is a change" {
			t.Errorf("%s ignored because %v", name, a.body["reason"])
		}
	}
	// Merged into another branch than the default: not a change of it.
	other := edit(t, merged, func(m map[string]any) { obj(m, "pull_request", "base")["ref"] = "release-1" })
	e.ghPost("pull_request", "p-3", other).want(t, http.StatusOK, store.DeliveryIgnored)
	// Changes from pushes: pull requests are not counted as well.
	e = ghEnv(t, GitHub{ChangesFrom: "push"})
	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryIgnored)
}

// A review comes before the merge: the first one by someone other than
// the author is kept and written with the change when it merges; a review
// after the merge updates the stored change when it is its earliest.
func TestGitHubFirstReview(t *testing.T) {
	e := ghEnv(t, GitHub{})
	review := fixture(t, "github/derived.pull_request_review.submitted.payload.json")
	merged := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	at := func(body []byte, t0 string) []byte {
		return edit(t, body, func(m map[string]any) { obj(m, "review")["submitted_at"] = t0 })
	}
	reason := func(a answer, want string) {
		t.Helper()
		if a.body["reason"] != want {
			t.Errorf("reason %v, want %q", a.body["reason"], want)
		}
	}
	reason(e.ghPost("pull_request_review", "r-1", review).want(t, http.StatusOK, store.DeliveryIgnored), "first review kept until the merge")
	reason(e.ghPost("pull_request_review", "r-2", at(review, "2019-05-15T15:21:05Z")).want(t, http.StatusOK, store.DeliveryIgnored), "an earlier review is kept")
	byAuthor := edit(t, review, func(m map[string]any) { obj(m, "review", "user")["login"] = "Codertocat" })
	reason(e.ghPost("pull_request_review", "r-3", byAuthor).want(t, http.StatusOK, store.DeliveryIgnored), "a review by the pull request's author")
	e.ghPost("pull_request_review", "r-4", edit(t, review, func(m map[string]any) { m["action"] = "dismissed" })).want(t, http.StatusOK, store.DeliveryIgnored)

	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	c := e.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change)
	if !c.FirstReviewAt.Equal(ts("2019-05-15T15:20:56Z")) || !c.OpenedAt.Equal(ts("2019-05-15T15:20:33Z")) {
		t.Fatalf("merged change: first review %v, opened %v", c.FirstReviewAt, c.OpenedAt)
	}
	// A merge delivered again (a new delivery id) keeps it.
	e.ghPost("pull_request", "p-2", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	if c := e.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change); !c.FirstReviewAt.Equal(ts("2019-05-15T15:20:56Z")) {
		t.Fatalf("redelivered merge: first review %v", c.FirstReviewAt)
	}

	// Merged before any review: a later review is the change's first,
	// kept though after the merge (the metrics drop its negative span).
	e = ghEnv(t, GitHub{})
	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	if c := e.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change); !c.FirstReviewAt.IsZero() {
		t.Fatalf("merged without a review: first review %v", c.FirstReviewAt)
	}
	// A merge only reads the kept review: a write of its own would be a
	// second transaction for every merged pull request.
	if kept, err := e.st.Docs(context.Background(), firstReviews, 0); err != nil || len(kept) != 0 {
		t.Fatalf("a merge without a review kept %d documents (%v)", len(kept), err)
	}
	e.ghPost("pull_request_review", "r-1", at(review, "2019-05-15T16:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	reason(e.ghPost("pull_request_review", "r-2", at(review, "2019-05-15T17:00:00Z")).want(t, http.StatusOK, store.DeliveryIgnored), "the change has an earlier first review")
	e.ghPost("pull_request_review", "r-3", at(review, "2019-05-15T15:50:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	if c := e.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change); !c.FirstReviewAt.Equal(ts("2019-05-15T15:50:00Z")) || c.Title == "" {
		t.Fatalf("review after the merge: %+v", c)
	}

	// Malformed: a submitted review without its time; with changes from
	// pushes, reviews are not read.
	e.ghPost("pull_request_review", "r-9", edit(t, review, func(m map[string]any) { delete(obj(m, "review"), "submitted_at") })).want(t, http.StatusBadRequest, store.DeliveryRejected)
	e = ghEnv(t, GitHub{ChangesFrom: "push"})
	e.ghPost("pull_request_review", "r-1", review).want(t, http.StatusOK, store.DeliveryIgnored)
}

func TestGitHubPush(t *testing.T) {
	push := fixture(t, "github/push.with-new-branch.payload.json")
	// By default changes come from pull requests.
	ghEnv(t, GitHub{}).ghPost("push", "s-1", push).want(t, http.StatusOK, store.DeliveryIgnored)

	e := ghEnv(t, GitHub{ChangesFrom: "push"})
	e.ghPost("push", "s-1", push).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindChange, "github", "6113728f27ae82c7b1a177c8d03f9e96e0adf246"), &domain.Change{
		Meta: domain.Meta{ID: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Source: "github"}, Service: "Hello-World",
		MergedAt: ts("2019-05-15T15:20:57Z"), AuthoredAt: ts("2019-05-15T15:19:25Z"), Title: "Initial commit", Author: "Codertocat",
		Commit: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", URL: "https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246",
	})
	// A deleted tag is no change.
	e.ghPost("push", "s-2", fixture(t, "github/push.payload.json")).want(t, http.StatusOK, store.DeliveryIgnored)

	// A monorepo: the commit is a change of each service whose files it
	// touched.
	e = ghEnv(t, GitHub{ChangesFrom: "push", Paths: map[string]map[string]string{
		"Codertocat/Hello-World": {"README": "docs", "services/pay/": "payments", "services/api/": "api"}}})
	mono := edit(t, push, func(m map[string]any) {
		c := asList(m["commits"])[0].(map[string]any)
		c["modified"] = []any{"services/pay/main.go"}
	})
	a := e.ghPost("push", "s-3", mono).want(t, http.StatusOK, store.DeliveryAccepted)
	want := []string{"change/github/6113728f27ae82c7b1a177c8d03f9e96e0adf246/docs", "change/github/6113728f27ae82c7b1a177c8d03f9e96e0adf246/payments"}
	if got := a.records(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("records %v, want %v", got, want)
	}
}

func TestGitHubWorkflowRunAndRelease(t *testing.T) {
	run := fixture(t, "github/workflow_run.completed.payload.json")
	release := fixture(t, "github/release.published.payload.json")
	e := ghEnv(t, GitHub{})
	e.ghPost("workflow_run", "w-1", run).want(t, http.StatusOK, store.DeliveryIgnored)
	e.ghPost("release", "r-1", release).want(t, http.StatusOK, store.DeliveryIgnored)

	e = ghEnv(t, GitHub{DeployWorkflows: map[string]string{"test": "production"}, ReleaseEnvironment: "production"})
	e.ghPost("workflow_run", "w-1", run).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindDeployment, "github", "run/289782451"), &domain.Deployment{
		Meta: domain.Meta{ID: "run/289782451", Source: "github"}, Service: "octo-repo", Environment: "production",
		Status: "success", StartedAt: ts("2020-10-05T16:33:49Z"), FinishedAt: ts("2020-10-05T16:33:49Z"),
		Commit: "3484a3fb816e0859fd6e1cea078d76385ff50625", PipelineURL: "https://github.com/octo-org/octo-repo/actions/runs/289782451",
	})
	e.ghPost("release", "r-1", release).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindDeployment, "github", "release/17372790"), &domain.Deployment{
		Meta: domain.Meta{ID: "release/17372790", Source: "github"}, Service: "Hello-World", Environment: "production",
		Status: "success", FinishedAt: ts("2019-05-15T15:20:53Z"), Version: "0.0.1",
	})
	cancelled := edit(t, run, func(m map[string]any) { obj(m, "workflow_run")["conclusion"] = "cancelled" })
	e.ghPost("workflow_run", "w-2", cancelled).want(t, http.StatusOK, store.DeliveryIgnored)
}

func TestGitHubRedeliveryCountedOnce(t *testing.T) {
	e := ghEnv(t, GitHub{})
	body := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	e.redelivery("github", body, ghHeaders("pull_request", "p-1", body)...)
}

func TestGitHubUnmappedEventIgnored(t *testing.T) {
	e := ghEnv(t, GitHub{})
	a := e.ghPost("ping", "ping-1", fixture(t, "github/ping.payload.json")).want(t, http.StatusOK, store.DeliveryIgnored)
	if a.body["reason"] != "GitHub ping events are not mapped" {
		t.Fatalf("reason %v", a.body["reason"])
	}
	e.ghPost("workflow_job", "j-1", fixture(t, "github/workflow_job.completed.failure.with-organization.payload.json")).want(t, http.StatusOK, store.DeliveryIgnored)
	if n := e.recordCount(); n != 0 {
		t.Fatalf("%d records from ignored events", n)
	}
	if ds := e.deliveries("github"); len(ds) != 2 || ds[0].Outcome != store.DeliveryIgnored || ds[0].Reason == "" {
		t.Fatalf("logged %+v, want the ignored deliveries counted with their reason", ds)
	}
}

func TestGitHubMalformed(t *testing.T) {
	e := ghEnv(t, GitHub{})
	e.malformed("github", []byte(`{"action": "closed", "pull_request": `), "not valid JSON", ghHeaders("pull_request", "m-1", []byte(`{"action": "closed", "pull_request": `))...)
	body := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	noMerge := edit(t, body, func(m map[string]any) { obj(m, "pull_request")["merged_at"] = nil })
	e.malformed("github", noMerge, "merged_at", ghHeaders("pull_request", "m-2", noMerge)...)
	wrongType := edit(t, body, func(m map[string]any) { obj(m, "pull_request")["title"] = 42 })
	e.malformed("github", wrongType, "pull_request.title", ghHeaders("pull_request", "m-3", wrongType)...)
	// A pull request's number is an integer: "abc" had become the change
	// "Codertocat/Hello-World#abc".
	notNumber := edit(t, body, func(m map[string]any) { obj(m, "pull_request")["number"] = "abc" })
	e.malformed("github", notNumber, `pull_request.number is "abc", want a number`, ghHeaders("pull_request", "m-4", notNumber)...)
	// Kept for replay: a rejected delivery's payload.
	if string(e.kept("github", "m-3")) != string(wrongType) {
		t.Fatal("the rejected payload was not kept")
	}
	// A rejected delivery is not counted: sent again, it is judged again.
	e.malformed("github", wrongType, "pull_request.title", ghHeaders("pull_request", "m-3", wrongType)...)
	// A number as a string of digits (a relay's re-encoding) is taken.
	digits := edit(t, body, func(m map[string]any) { obj(m, "pull_request")["number"] = "7" })
	e.ghPost("pull_request", "m-5", digits).want(t, http.StatusOK, store.DeliveryAccepted)
	if e.record(domain.KindChange, "github", "Codertocat/Hello-World#7") == nil {
		t.Error(`a number sent as "7" is not the change #7`)
	}
}

// countingStore counts the redelivery reads (CountedDelivery).
type countingStore struct {
	*sqlite.DB
	counted atomic.Int64
}

func (s *countingStore) CountedDelivery(ctx context.Context, source, id string) (store.Delivery, error) {
	s.counted.Add(1)
	return s.DB.CountedDelivery(ctx, source, id)
}

// On SQLite a delivery is not looked up before it is mapped: the commit
// finds a redelivery in the writer's transaction, and only then is the
// first delivery read, to answer the redelivery as one. A redelivery
// whose mapping is now rejected is a duplicate all the same.
func TestGitHubNoRedeliveryReadBeforeMapping(t *testing.T) {
	e := ghEnv(t, GitHub{})
	cs := &countingStore{DB: e.st}
	var err error
	if e.svc, err = New(Options{Store: cs, Config: Config{GitHub: GitHub{Secret: ghSecret}}, Now: func() time.Time { return e.now }}); err != nil {
		t.Fatal(err)
	}
	e.h = e.svc.Handler(writeTestError)
	body := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	e.post("github", body, ghHeaders("pull_request", "p-1", body)...).want(t, http.StatusOK, store.DeliveryAccepted)
	if n := cs.counted.Load(); n != 0 {
		t.Fatalf("%d redelivery reads for a first delivery, want none", n)
	}
	records, seq := e.recordCount(), e.lastSeq()
	again := e.post("github", body, ghHeaders("pull_request", "p-1", body)...).want(t, http.StatusOK, store.DeliveryDuplicate)
	if reason, _ := again.body["reason"].(string); !strings.HasPrefix(reason, "delivery p-1 was accepted at ") {
		t.Fatalf("redelivery reason %q", reason)
	}
	long := edit(t, body, func(m map[string]any) { obj(m, "repository")["name"] = strings.Repeat("x", domain.MaxName+1) })
	e.post("github", long, ghHeaders("pull_request", "p-1", long)...).want(t, http.StatusOK, store.DeliveryDuplicate)
	if e.recordCount() != records || e.lastSeq() != seq {
		t.Fatal("a redelivery wrote records")
	}
	// The rejected mapping is not a duplicate when it is a new delivery.
	e.post("github", long, ghHeaders("pull_request", "p-2", long)...).want(t, http.StatusBadRequest, store.DeliveryRejected)
}
