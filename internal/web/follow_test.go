package web

import (
	"context"
	"testing"
	"time"
)

// With the engine following the store in the background (candor serve),
// a client that posts records reads them in its next request — the answer
// to the POST waited for them to be readable — although the follower
// would not have looked for an hour. /healthz shows the engine's status.
func TestPostThenReadWithFollower(t *testing.T) {
	e := newEnv(t, 0)
	eng := e.srv.Engine
	eng.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	eng.Start(ctx)
	before := e.deploymentFrequency(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: d5 + "\n" + d6 + "\n", status: 200})
	if after := e.deploymentFrequency(t); after <= before {
		t.Errorf("deployment frequency %v after posting two deployments, %v before: the post is not readable", after, before)
	}
	seq := e.lastSeq(t)
	doc := e.run(t, scenario{url: "/healthz", status: 200, fields: map[string]string{"status": "ok", "engine.ready": "true", "engine.quarantined_rows": "0", "engine.lagging": "false"}})
	if got := lookup(doc, "engine.published_seq"); got != float64(seq) {
		t.Errorf("healthz engine.published_seq = %v, want %d", got, seq)
	}
}
