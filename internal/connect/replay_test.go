package connect

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// A mapping fix reaches deliveries already received: replaying re-runs
// the current rules over the kept payloads, rejected ones included, and
// counts nothing twice.
func TestReplayAfterAMappingFix(t *testing.T) {
	e := ghEnv(t, GitHub{})
	merged := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	push := fixture(t, "github/push.with-new-branch.payload.json")
	deploy := fixture(t, "github/deployment_status.payload.json")
	// A release with a mapping bug: deployments are rejected.
	real := e.svc.connectors["github"]
	buggy := real
	buggy.parse = func(in *input) (*parsed, error) {
		if in.header.Get("X-GitHub-Event") == "deployment_status" {
			return nil, rejectf("the bug")
		}
		return real.parse(in)
	}
	e.svc.connectors["github"] = buggy
	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	e.ghPost("push", "s-1", push).want(t, http.StatusOK, store.DeliveryIgnored)
	e.ghPost("deployment_status", "d-1", deploy).want(t, http.StatusBadRequest, store.DeliveryRejected)
	e.now = e.now.Add(time.Hour)
	// Unsigned deliveries are not kept, so never replayed.
	e.post("github", deploy, "X-GitHub-Event", "deployment_status", "X-GitHub-Delivery", "forged").want(t, http.StatusUnauthorized, store.DeliveryRejected)

	// The fixed release, configured for pushes as well.
	svc, err := New(Options{Store: e.st, Config: Config{GitHub: GitHub{Secret: ghSecret, ChangesFrom: "push"}}, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := svc.Replay(context.Background(), "github", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Deliveries != 3 || sum.Accepted != 2 || sum.Ignored != 1 || sum.Rejected != 0 || sum.Inserted != 2 {
		t.Fatalf("replay %+v: want 3 replayed, the push and the deployment now accepted (2 inserted), the pull request now ignored", sum)
	}
	e.record(domain.KindDeployment, "github", "deployment/145988746")
	e.record(domain.KindChange, "github", "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
	// The pull request's change stays: a replay adds and replaces, it
	// does not delete.
	e.record(domain.KindChange, "github", "Codertocat/Hello-World#2")
	// Once accepted, the delivery that was rejected counts; replaying
	// again changes and counts nothing.
	if d, err := e.st.CountedDelivery(context.Background(), "github", "d-1"); err != nil || d.Outcome != store.DeliveryAccepted {
		t.Fatalf("the fixed delivery: %+v, %v", d, err)
	}
	seq := e.lastSeq()
	again, err := svc.Replay(context.Background(), "github", time.Time{})
	if err != nil || again.Inserted != 0 || again.Replaced != 0 || e.lastSeq() != seq {
		t.Fatalf("second replay %+v, %v: want nothing written", again, err)
	}
	counted := 0
	for _, d := range e.deliveries("github") {
		if store.Counted(d.Outcome) {
			counted++
		}
	}
	if counted != 3 {
		t.Fatalf("%d counted deliveries after two replays, want 3", counted)
	}
	// --since bounds it.
	late, _ := svc.Replay(context.Background(), "github", testNow.Add(time.Minute))
	if late.Deliveries != 0 {
		t.Fatalf("replay since after them replayed %d", late.Deliveries)
	}
	if _, err := svc.Replay(context.Background(), "gitlub", time.Time{}); err == nil {
		t.Fatal("replay of an unknown source: no error")
	}
}

// A delivery still rejected is reported, not logged again; the store's
// errors stop the replay.
func TestReplayReportsWhatIsStillRejected(t *testing.T) {
	e := ghEnv(t, GitHub{})
	bad := edit(t, fixture(t, "github/derived.pull_request.closed.merged.payload.json"), func(m map[string]any) { obj(m, "pull_request")["merged_at"] = nil })
	e.ghPost("pull_request", "p-1", bad).want(t, http.StatusBadRequest, store.DeliveryRejected)
	sum, err := e.svc.Replay(context.Background(), "github", time.Time{})
	if err != nil || sum.Rejected != 1 || len(sum.Problems) != 1 || sum.Problems[0] != "p-1: pull_request.merged_at: missing on a merged pull request" {
		t.Fatalf("replay %+v, %v", sum, err)
	}
	if n := len(e.deliveries("github")); n != 1 {
		t.Fatalf("%d deliveries logged after replaying a rejected one, want the 1 original", n)
	}
	e.st.Close()
	if _, err := e.svc.Replay(context.Background(), "github", time.Time{}); err == nil {
		t.Fatal("replay on a closed store: no error")
	}
}

// Payloads are kept for the retention period, then forgotten; the log
// rows stay.
func TestPayloadRetention(t *testing.T) {
	e := newEnv(t, Config{GitHub: GitHub{Secret: ghSecret}, PayloadRetention: "30d"})
	merged := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	e.now = e.now.Add(29 * 24 * time.Hour)
	e.ghPost("ping", "ping-1", fixture(t, "github/ping.payload.json"))
	if e.kept("github", "p-1") == nil {
		t.Fatal("a payload 29 days old was forgotten")
	}
	e.now = e.now.Add(2 * 24 * time.Hour)
	e.ghPost("ping", "ping-2", fixture(t, "github/ping.payload.json"))
	if e.kept("github", "p-1") != nil {
		t.Fatal("a payload 31 days old is still kept")
	}
	if e.kept("github", "ping-1") == nil {
		t.Fatal("a payload 2 days old was forgotten")
	}
	if n := len(e.deliveries("github")); n != 3 {
		t.Fatalf("%d deliveries logged, want all 3", n)
	}
	// "0" keeps no payload at all.
	e = newEnv(t, Config{GitHub: GitHub{Secret: ghSecret}, PayloadRetention: "0"})
	e.ghPost("pull_request", "p-1", merged).want(t, http.StatusOK, store.DeliveryAccepted)
	if e.kept("github", "p-1") != nil {
		t.Fatal("payload_retention 0 kept a payload")
	}
	if _, err := New(Options{Store: e.st, Config: Config{PayloadRetention: "a while"}}); err == nil {
		t.Fatal("a bad retention was accepted")
	}
}
