package connect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// githubAPI serves a repository's recorded pull requests and deployments
// as GitHub's REST API does: newest first, per_page at a time, the next
// page's absolute URL in the Link header.
func githubAPI(t *testing.T) *fakeAPI {
	pulls := items(t, "sync/github/pulls.1.json", "sync/github/pulls.2.json", "sync/github/pulls.3.json")
	deps := items(t, "sync/github/deployments.json")
	return newFakeAPI(t, [2]string{"Authorization", "Bearer gh-token"}, func(a *fakeAPI, w http.ResponseWriter, r *http.Request) {
		const repo = "/repos/Codertocat/Hello-World"
		switch p := r.URL.Path; {
		case r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" || r.Header.Get("Accept") != "application/vnd.github+json":
			w.WriteHeader(http.StatusBadRequest)
		case p == repo:
			writeJSON(w, fixture(t, "sync/github/repo.json"))
		case p == repo+"/pulls":
			if q := r.URL.Query(); q.Get("state") != "closed" || q.Get("sort") != "updated" || q.Get("direction") != "desc" {
				t.Errorf("pull requests asked as %s", r.URL.RawQuery)
			}
			ghPage(a, w, r, pulls)
		case p == repo+"/deployments":
			ghPage(a, w, r, deps)
		case strings.HasPrefix(p, repo+"/pulls/") && strings.HasSuffix(p, "/reviews"):
			ghPage(a, w, r, items(t, "sync/github/reviews."+strings.Split(p, "/")[5]+".json"))
		case strings.HasPrefix(p, repo+"/deployments/") && strings.HasSuffix(p, "/statuses"):
			writeJSON(w, fixture(t, "sync/github/statuses."+strings.Split(p, "/")[5]+".json"))
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}`)
		}
	})
}

func ghPage(a *fakeAPI, w http.ResponseWriter, r *http.Request, list []json.RawMessage) {
	pg, n, more := pageOf(r, list)
	if more {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n+1))
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next", <%s%s?page=99>; rel="last"`, a.srv.URL, r.URL.Path, q.Encode(), a.srv.URL, r.URL.Path))
	}
	writeJSON(w, pg)
}

// syncNow is the clock of the collector tests: a few days after the
// recorded objects.
var ghSyncNow = time.Date(2019, 5, 20, 0, 0, 0, 0, time.UTC)

func ghSyncConfig(api *fakeAPI) Config {
	return Config{GitHub: GitHub{Secret: ghSecret, Sync: GitHubSync{
		Sync:  Sync{Token: "gh-token", BaseURL: api.srv.URL, Backfill: "10d", PageSize: 2},
		Repos: []string{"Codertocat/Hello-World"},
	}}}
}

func ghSyncEnv(t *testing.T) (*syncEnv, *fakeAPI) {
	api := githubAPI(t)
	se := newSyncEnv(t, ghSyncConfig(api), api)
	se.now = ghSyncNow
	return se, api
}

// compact is a recorded object as the fake API sends it (json.Encoder
// compacts raw messages): what its records' raw hash is of.
func compact(t *testing.T, raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSyncGitHub(t *testing.T) {
	se, api := ghSyncEnv(t)
	sum := se.sync("github", SyncOptions{})

	// Merged pull requests into the default branch are changes; the
	// closed one (#4) and the one merged into a release branch (#3) are
	// ignored; #1 was updated before the backfill period, so the walk
	// stopped at it.
	c5 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#5").(*domain.Change)
	if c5.Service != "Hello-World" || !c5.MergedAt.Equal(ts("2019-05-17T10:30:00Z")) || c5.Title != "Ship the new checkout" || c5.Author != "Codertocat" {
		t.Errorf("change #5 = %+v", c5)
	}
	se.record(domain.KindChange, "github", "Codertocat/Hello-World#2")
	failed := se.record(domain.KindDeployment, "github", "deployment/145988800").(*domain.Deployment)
	if failed.Status != domain.StatusFailure || failed.Version != "v1.1.0" || !failed.FinishedAt.Equal(ts("2019-05-16T08:05:00Z")) {
		t.Errorf("failed deployment = %+v", failed)
	}
	ok := se.record(domain.KindDeployment, "github", "deployment/145988746").(*domain.Deployment)
	if ok.Status != domain.StatusSuccess || ok.Environment != "production" {
		t.Errorf("deployment = %+v", ok)
	}
	if n := se.recordCount(); n != 4 {
		t.Errorf("%d records, want 4 (2 changes, 2 deployments)", n)
	}
	want := SyncSummary{Pages: 5, Objects: 7, Accepted: 4, Ignored: 3, WriteResult: store.WriteResult{Inserted: 4}}
	if sum.Pages != want.Pages || sum.Objects != want.Objects || sum.Accepted != want.Accepted || sum.Ignored != want.Ignored ||
		sum.Rejected != 0 || sum.WriteResult.Counts() != want.WriteResult || sum.Kinds[domain.KindChange] != 2 || sum.Kinds[domain.KindDeployment] != 2 {
		t.Errorf("summary %+v, want %+v", sum, want)
	}

	// Pagination: the Link header's next pages, until the older one.
	pulls := api.took("/repos/Codertocat/Hello-World/pulls?")
	if len(pulls) != 3 || query(t, pulls[0]).Get("page") != "" || query(t, pulls[1]).Get("page") != "2" || query(t, pulls[2]).Get("page") != "3" {
		t.Errorf("pull request pages asked: %v", pulls)
	}
	if st := api.took("/repos/Codertocat/Hello-World/deployments/"); len(st) != 3 {
		t.Errorf("statuses asked: %v, want one per deployment", st)
	}

	// Provenance: each record's raw hash is the sha256 of its object as
	// the API gave it.
	stored, err := se.st.Get(context.Background(), domain.Key{Kind: domain.KindChange, Source: "github", ID: "Codertocat/Hello-World#5"})
	if err != nil {
		t.Fatal(err)
	}
	both := append(append(compact(t, items(t, "sync/github/pulls.1.json")[0]), '\n'), compact(t, items(t, "sync/github/reviews.5.json")[2])...)
	if raw := sha256.Sum256(both); stored.RawHash != fmt.Sprintf("%x", raw) {
		t.Errorf("raw hash %s, want the sha256 of the pull request object and its first review's", stored.RawHash)
	}

	// The cursor: the newest update seen; the run is logged.
	if cur := se.cursorOf("github", "Codertocat/Hello-World pull requests"); !cur.Since.Equal(ts("2019-05-17T10:30:00Z")) || cur.Next != "" {
		t.Errorf("pull request cursor %+v", cur)
	}
	if rs := se.runs("github"); len(rs) != 1 || rs[0].Outcome != store.SyncOK || rs[0].Accepted != 4 || rs[0].Inserted != 4 {
		t.Errorf("runs %+v", rs)
	}

	// The next run reads only what changed since: the first page, down
	// to the first pull request older than the cursor.
	api.took("")
	again := se.sync("github", SyncOptions{})
	if pulls := api.took("/repos/Codertocat/Hello-World/pulls?"); len(pulls) != 1 {
		t.Errorf("second run asked %v, want the first page only", pulls)
	}
	if again.Inserted != 0 || again.Replaced != 0 || se.recordCount() != 4 {
		t.Errorf("second run %+v wrote something", again.WriteResult)
	}
}

// A 429 with Retry-After is retried after at least that long; a 5xx after
// a growing backoff with jitter; a spent quota (X-RateLimit-Remaining: 0)
// holds the next request until X-RateLimit-Reset.
func TestSyncRetriesAndRateLimits(t *testing.T) {
	se, api := ghSyncEnv(t)
	reset := ghSyncNow.Add(30 * time.Second)
	api.fault(fault{path: "/repos/Codertocat/Hello-World/pulls", status: http.StatusTooManyRequests,
		header: map[string]string{"Retry-After": "7"}, body: `{"message": "You have exceeded a secondary rate limit."}`})
	api.fault(fault{path: "/repos/Codertocat/Hello-World/pulls", status: http.StatusBadGateway, body: "<html>502</html>"})
	api.fault(fault{path: "/repos/Codertocat/Hello-World/pulls", status: http.StatusOK, body: "[]",
		header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)}})
	se.sync("github", SyncOptions{})
	waits := se.tookWaits()
	if len(waits) != 3 {
		t.Fatalf("waits %v, want three: Retry-After, backoff, quota", waits)
	}
	if waits[0] < 7*time.Second || waits[0] > 8*time.Second {
		t.Errorf("after a 429 with Retry-After: 7 waited %v", waits[0])
	}
	if waits[1] < time.Second || waits[1] >= 2*time.Second {
		t.Errorf("after a 502 (second attempt) waited %v, want the backoff's [1s, 2s)", waits[1])
	}
	if waits[2] < 30*time.Second || waits[2] > 31*time.Second {
		t.Errorf("with the quota spent until +30s waited %v before the next request", waits[2])
	}
	if pulls := api.took("/repos/Codertocat/Hello-World/pulls?"); len(pulls) != 3 {
		t.Errorf("pull requests asked %d times, want 3 (429, 502, then the empty list)", len(pulls))
	}

	// Retries are bounded: a server that keeps failing fails the run,
	// which is logged with the reason.
	for range maxAttempts {
		api.fault(fault{path: "/repos/Codertocat/Hello-World/pulls", status: http.StatusServiceUnavailable})
	}
	_, err := se.svc.Sync(context.Background(), "github", SyncOptions{Since: ghSyncNow.Add(-time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "gave up after 6 attempts") {
		t.Fatalf("a server that keeps failing: %v", err)
	}
	if rs := se.runs("github"); rs[0].Outcome != store.SyncFailed || !strings.Contains(rs[0].Error, "gave up after 6 attempts") {
		t.Errorf("the failed run is logged as %+v", rs[0])
	}
	// A refused token is not retried, and says what to check.
	api.fault(fault{path: "/repos/Codertocat/Hello-World", status: http.StatusUnauthorized, body: `{"message": "Bad credentials"}`})
	_, err = se.svc.Sync(context.Background(), "github", SyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Bad credentials") || !strings.Contains(err.Error(), "CANDOR_SYNC_TOKEN_GITHUB") {
		t.Fatalf("a refused token: %v", err)
	}
}

// A page answered null (a proxy's or a stub's, a misrouted base_url) is a
// failed run that names it, where it had read as an empty page: a run
// logged as a success that read nothing, its cursor kept as if done.
func TestSyncGitHubNullPage(t *testing.T) {
	se, api := ghSyncEnv(t)
	api.fault(fault{path: "/repos/Codertocat/Hello-World/pulls", status: http.StatusOK, body: " null\n"})
	_, err := se.svc.Sync(context.Background(), "github", SyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "not what the API documents: null") || !strings.Contains(err.Error(), "/pulls") {
		t.Fatalf("a null page: %v", err)
	}
	if rs := se.runs("github"); rs[0].Outcome != store.SyncFailed {
		t.Errorf("the run is logged as %+v", rs[0])
	}
	if n := se.recordCount(); n != 0 {
		t.Errorf("%d records stored", n)
	}
}

// The store fails while committing the second page: the first page's
// records and cursor stay, and the next run resumes at the second page
// (the Link URL saved), writing each record once.
func TestSyncResumesAfterACrashMidRun(t *testing.T) {
	se, api := ghSyncEnv(t)
	se.crash("github", 2)
	if n := se.recordCount(); n != 1 {
		t.Fatalf("%d records after the crash, want the first page's one change", n)
	}
	cur := se.cursorOf("github", "Codertocat/Hello-World pull requests")
	if !strings.Contains(cur.Next, "page=2") || !cur.High.Equal(ts("2019-05-17T10:30:00Z")) {
		t.Fatalf("cursor after the crash %+v, want the second page and the newest time seen", cur)
	}
	if rs := se.runs("github"); len(rs) != 1 || rs[0].Outcome != store.SyncFailed || rs[0].Pages != 1 {
		t.Fatalf("the crashed run is logged as %+v", rs)
	}

	sum := se.resume("github")
	pulls := api.took("/repos/Codertocat/Hello-World/pulls?")
	if len(pulls) != 2 || query(t, pulls[0]).Get("page") != "2" {
		t.Fatalf("the resumed run asked %v, want pages 2 and 3", pulls)
	}
	if sum.Inserted != 3 || sum.Replaced != 0 || sum.Unchanged != 0 || se.recordCount() != 4 {
		t.Fatalf("resumed run wrote %+v, store has %d records; want the 3 not written, once", sum.WriteResult, se.recordCount())
	}
	if cur := se.cursorOf("github", "Codertocat/Hello-World pull requests"); !cur.Since.Equal(ts("2019-05-17T10:30:00Z")) || cur.Next != "" {
		t.Errorf("cursor after the resumed run %+v, want Since at the newest pull request", cur)
	}
}

// A dry run reads and maps, and writes nothing: no record, cursor or run.
func TestSyncDryRun(t *testing.T) {
	se, _ := ghSyncEnv(t)
	sum := se.sync("github", SyncOptions{DryRun: true})
	if sum.Accepted != 4 || sum.Kinds[domain.KindChange] != 2 || sum.Inserted != 0 {
		t.Errorf("dry run summary %+v", sum)
	}
	if n := se.recordCount(); n != 0 {
		t.Errorf("dry run stored %d records", n)
	}
	if cs, _ := se.st.SyncCursors(context.Background(), "github"); len(cs) != 0 {
		t.Errorf("dry run saved cursors %+v", cs)
	}
	if rs := se.runs("github"); len(rs) != 0 {
		t.Errorf("dry run logged runs %+v", rs)
	}
}

// The token is sent only to the configured host: a next page elsewhere
// is not followed (and nothing is dialled but the test's API).
func TestSyncFollowsNoOtherHost(t *testing.T) {
	se, api := ghSyncEnv(t)
	api.fault(fault{path: "/repos/Codertocat/Hello-World/pulls", status: http.StatusOK, body: "[]",
		header: map[string]string{"Link": `<https://evil.example/repos/x/pulls?page=2>; rel="next"`}})
	_, err := se.svc.Sync(context.Background(), "github", SyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "not on 127.0.0.1") {
		t.Fatalf("a Link to another host: %v", err)
	}
}

// Without a token, repositories or a known source, sync says what to set.
func TestSyncNotConfigured(t *testing.T) {
	se := newSyncEnv(t, Config{}, githubAPI(t))
	for source, want := range map[string]string{
		"github": "CANDOR_SYNC_TOKEN_GITHUB", "jira": "CANDOR_SYNC_TOKEN_JIRA", "stripe": "no collector for \"stripe\"",
	} {
		if _, err := se.svc.Sync(context.Background(), source, SyncOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("sync %s: %v, want it to name %s", source, err, want)
		}
	}
	cfg := Config{GitHub: GitHub{Sync: GitHubSync{Sync: Sync{Token: "x"}}}}
	se = newSyncEnv(t, cfg, githubAPI(t))
	if _, err := se.svc.Sync(context.Background(), "github", SyncOptions{}); err == nil || !strings.Contains(err.Error(), "connectors.github.sync.repos") {
		t.Errorf("no repositories: %v", err)
	}
}

// A pull request synced and the same pull request delivered by webhook
// are the same record; so are a deployment and its status.
func TestSyncGitHubSameRecordsAsWebhook(t *testing.T) {
	se, _ := ghSyncEnv(t)
	se.sync("github", SyncOptions{})
	hook := ghEnv(t, GitHub{})
	hook.ghPost("pull_request", "d-1", fixture(t, "github/derived.pull_request.closed.merged.payload.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	hook.ghPost("deployment_status", "d-2", fixture(t, "github/deployment_status.payload.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	sameStored(t, hook, se.env, domain.Key{Kind: domain.KindChange, Source: "github", ID: "Codertocat/Hello-World#2"})
	sameStored(t, hook, se.env, domain.Key{Kind: domain.KindDeployment, Source: "github", ID: "deployment/145988746"})
}

// sameStored fails unless two stores hold the key with the same body.
func sameStored(t *testing.T, a, b *env, k domain.Key) {
	t.Helper()
	ra, err := a.st.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("webhook: %s: %v", k, err)
	}
	rb, err := b.st.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("sync: %s: %v", k, err)
	}
	if !reflect.DeepEqual(ra.Body, rb.Body) {
		t.Errorf("%s\nwebhook %s\n   sync %s", k, ra.Body, rb.Body)
	}
}

// The collector reads each merged pull request's reviews for its first
// review: the earliest submitted by someone other than the author, a page
// at a time until a page holds one (the API lists them oldest first).
func TestSyncGitHubFirstReview(t *testing.T) {
	se, api := ghSyncEnv(t)
	se.sync("github", SyncOptions{})
	c5 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#5").(*domain.Change)
	// Page 1 holds the author's own review and a pending one; page 2 the
	// reviewer's changes requested at 14:00; page 3 is not read.
	if !c5.FirstReviewAt.Equal(ts("2019-05-16T14:00:00Z")) {
		t.Errorf("#5 first review %v, want the reviewer's at 14:00, not the author's at 09:40", c5.FirstReviewAt)
	}
	if rs := api.took("/repos/Codertocat/Hello-World/pulls/5/reviews"); len(rs) != 2 || query(t, rs[0]).Get("page") != "" || query(t, rs[1]).Get("page") != "2" {
		t.Errorf("#5's reviews asked %v, want pages 1 and 2", rs)
	}
	if c2 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change); !c2.FirstReviewAt.IsZero() {
		t.Errorf("#2 has no review, first review %v", c2.FirstReviewAt)
	}
	// Only merged pull requests the walk maps: not #4 (closed), #3
	// (another branch) or #1 (before the backfill period).
	if rs := api.took("/repos/Codertocat/Hello-World/pulls/"); len(rs) != 1 || !strings.HasPrefix(rs[0], "/repos/Codertocat/Hello-World/pulls/2/reviews") {
		t.Errorf("other reviews asked: %v, want #2's only", rs)
	}
}

// A review the webhook kept or wrote stays when it is earlier than the
// API's; the API's replaces a later one.
func TestSyncGitHubFirstReviewMeetsWebhook(t *testing.T) {
	se, _ := ghSyncEnv(t)
	review := fixture(t, "github/derived.pull_request_review.submitted.payload.json")
	se.ghPost("pull_request_review", "r-2", review).want(t, http.StatusOK, store.DeliveryIgnored)
	later := edit(t, review, func(m map[string]any) {
		obj(m, "pull_request")["number"] = 5
		obj(m, "review")["submitted_at"] = "2019-05-16T16:00:00Z"
	})
	se.ghPost("pull_request_review", "r-5", later).want(t, http.StatusOK, store.DeliveryIgnored)
	se.sync("github", SyncOptions{})
	if c2 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change); !c2.FirstReviewAt.Equal(ts("2019-05-15T15:20:56Z")) {
		t.Errorf("#2 first review %v, want the webhook's (the API lists none)", c2.FirstReviewAt)
	}
	if c5 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#5").(*domain.Change); !c5.FirstReviewAt.Equal(ts("2019-05-16T14:00:00Z")) {
		t.Errorf("#5 first review %v, want the API's 14:00, earlier than the webhook's 16:00", c5.FirstReviewAt)
	}
}

// connectors.github.sync.reviews: false asks for no reviews.
func TestSyncGitHubReviewsOff(t *testing.T) {
	api := githubAPI(t)
	cfg := ghSyncConfig(api)
	off := false
	cfg.GitHub.Sync.Reviews = &off
	se := newSyncEnv(t, cfg, api)
	se.now = ghSyncNow
	se.sync("github", SyncOptions{})
	if rs := api.took("/repos/Codertocat/Hello-World/pulls/"); len(rs) != 0 {
		t.Errorf("reviews asked %v with reviews off", rs)
	}
	if c5 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#5").(*domain.Change); !c5.FirstReviewAt.IsZero() {
		t.Errorf("first review %v with reviews off", c5.FirstReviewAt)
	}
}

// Reading reviews obeys the API's limits as every request does; a review
// the API garbles rejects its pull request alone, naming it; a refusal
// fails the run.
func TestSyncGitHubReviewsLimitsAndFaults(t *testing.T) {
	se, api := ghSyncEnv(t)
	const reviews = "/repos/Codertocat/Hello-World/pulls/5/reviews"
	api.fault(fault{path: reviews, status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "3"}, body: `{"message": "slow down"}`})
	se.sync("github", SyncOptions{})
	if w := se.tookWaits(); len(w) != 1 || w[0] < 3*time.Second {
		t.Errorf("waits %v, want Retry-After's 3 s before the reviews again", w)
	}
	if c5 := se.record(domain.KindChange, "github", "Codertocat/Hello-World#5").(*domain.Change); !c5.FirstReviewAt.Equal(ts("2019-05-16T14:00:00Z")) {
		t.Errorf("first review %v after the retry", c5.FirstReviewAt)
	}

	se, api = ghSyncEnv(t)
	api.fault(fault{path: reviews, status: http.StatusOK, body: `[{"state": "APPROVED", "submitted_at": "yesterday"}]`})
	sum := se.sync("github", SyncOptions{})
	if sum.Rejected != 1 || len(sum.Problems) != 1 || !strings.HasPrefix(sum.Problems[0], "Codertocat/Hello-World#5: its reviews: ") || sum.Accepted != 3 {
		t.Errorf("a garbled review: %+v", sum)
	}

	se, api = ghSyncEnv(t)
	api.fault(fault{path: reviews, status: http.StatusForbidden, body: `{"message": "Resource not accessible by personal access token"}`})
	if _, err := se.svc.Sync(context.Background(), "github", SyncOptions{}); err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "not accessible") {
		t.Errorf("reviews refused: %v", err)
	}
}
