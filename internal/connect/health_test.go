package connect

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// Every webhook source says which kinds it feeds.
func TestKindsFedByEverySource(t *testing.T) {
	for _, src := range Sources() {
		if len(kindsFed[src]) == 0 {
			t.Errorf("%s feeds no kind (kindsFed)", src)
		}
	}
}

// The health of a source: its deliveries by outcome over the period, its
// latest rejects with reasons and without payloads, its collector's runs
// and errors, and when it last worked (a delivery or a sync).
func TestHealth(t *testing.T) {
	ctx := context.Background()
	cfg := Config{GitHub: GitHub{Secret: ghSecret, Sync: GitHubSync{Sync: Sync{Token: "t", Every: "1h"}, Repos: []string{"acme/api"}}}}
	e := newEnv(t, cfg)
	body := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	e.ghPost("pull_request", "d-1", body).want(t, http.StatusOK, store.DeliveryAccepted)
	e.ghPost("pull_request", "d-1", body).want(t, http.StatusOK, store.DeliveryDuplicate)
	e.now = e.now.Add(time.Hour)
	e.post("github", body, "X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "d-2", "X-Hub-Signature-256", "sha256=00")
	for i, r := range []store.SyncRun{
		{Outcome: store.SyncOK, Pages: 3, Accepted: 10},
		{Outcome: store.SyncFailed, Error: "GET https://api.github.com/repos/acme/api/pulls: 503 Service Unavailable (gave up after 6 attempts)"},
	} {
		r.Source, r.StartedAt = "github", testNow.Add(time.Duration(i)*time.Hour-time.Minute)
		r.FinishedAt = r.StartedAt.Add(time.Minute)
		if _, err := e.st.LogSyncRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := e.svc.Health(ctx, e.now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Source != "github" {
		t.Fatalf("health lists %+v, want github alone (the only source configured or heard from)", hs)
	}
	h := hs[0]
	if !h.Webhook || !h.Collector || !h.Configured || h.SyncEvery != "1h" || !slices.Equal(h.Kinds, []string{"deployment", "change"}) || h.Period != "7d" {
		t.Errorf("github health %+v", h)
	}
	if h.Counts[store.DeliveryAccepted] != 1 || h.Counts[store.DeliveryDuplicate] != 1 || h.Counts[store.DeliveryRejected] != 1 || h.Counts[store.DeliveryIgnored] != 0 {
		t.Errorf("counts %v", h.Counts)
	}
	if len(h.Rejects) != 1 || h.Rejects[0].DeliveryID != "d-2" || h.Rejects[0].Reason == "" || !h.Rejects[0].At.Equal(e.now) {
		t.Errorf("rejects %+v", h.Rejects)
	}
	if !h.LastDelivery.Equal(e.now) || !h.LastOK.Equal(testNow) {
		t.Errorf("last delivery %v, last OK %v", h.LastDelivery, h.LastOK)
	}
	if h.LastSync == nil || h.LastSync.Outcome != store.SyncFailed || len(h.SyncErrors) != 1 || !h.LastSyncOK.Equal(testNow) {
		t.Errorf("sync health: last %+v, errors %+v, last OK %v", h.LastSync, h.SyncErrors, h.LastSyncOK)
	}
	// As of before anything happened: the source is configured and has
	// never worked.
	early, err := e.svc.Health(ctx, testNow.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(early) != 1 || early[0].LastOK != nil || early[0].LastDelivery != nil || early[0].LastSync != nil || len(early[0].Rejects) != 0 {
		t.Errorf("health as of before the deliveries: %+v", early)
	}
	// Feeds lists the configured sources feeding a state kind: none here.
	if fs, err := e.svc.Feeds(ctx, e.now); err != nil || len(fs) != 0 {
		t.Errorf("Feeds = %+v, %v; want none (github feeds no state kind)", fs, err)
	}
}

// A Stripe source with its secret feeds subscriptions, a state kind: Feeds
// reports when it last worked, an ignored event included.
func TestFeeds(t *testing.T) {
	e := newEnv(t, Config{Stripe: Stripe{Secret: "whsec_x"}})
	fs, err := e.svc.Feeds(context.Background(), e.now)
	if err != nil || len(fs) != 1 || fs[0].Source != "stripe" || !fs[0].Configured || fs[0].LastOK != nil {
		t.Fatalf("Feeds before any delivery = %+v, %v", fs, err)
	}
	if _, _, err := e.st.LogDelivery(context.Background(), store.Delivery{Source: "stripe", DeliveryID: "evt_1", ReceivedAt: testNow, Outcome: store.DeliveryIgnored, PayloadSHA256: "x"}); err != nil {
		t.Fatal(err)
	}
	fs, err = e.svc.Feeds(context.Background(), e.now)
	if err != nil || len(fs) != 1 || fs[0].LastOK == nil || !fs[0].LastOK.Equal(testNow) {
		t.Fatalf("Feeds after an ignored delivery = %+v, %v", fs, err)
	}
	if fs, _ := Feeds(context.Background(), e.st, Config{}, e.now); len(fs) != 0 {
		t.Errorf("Feeds without the secret configured = %+v, want none", fs)
	}
}
