package connect

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// The fuzz targets feed each parser arbitrary bodies. Whatever a sender
// (or someone with its secret) posts, a parser must not panic, and must
// either refuse the body as the sender's fault (a 400 with a reason) or
// map it to records the domain parser accepts. Their seed corpora
// (testdata/fuzz/FuzzX/, the real payloads) run with the ordinary tests;
// .ci/run also fuzzes each for a few seconds.

// emptyState reads no stored record, for building without a store.
type emptyState struct{ store.Store }

func (emptyState) Get(context.Context, domain.Key) (store.Stored, error) {
	return store.Stored{}, store.ErrNotFound
}

// AppendDocOnce keeps nothing: each build is the first to see its key.
func (emptyState) AppendDocOnce(_ context.Context, collection, key string, body []byte) (store.Doc, bool, error) {
	return store.Doc{Collection: collection, Key: key, Body: body}, true, nil
}

// DocByKey finds nothing kept.
func (emptyState) DocByKey(context.Context, string, string) (store.Doc, bool, error) {
	return store.Doc{}, false, nil
}

func fuzzParse(t *testing.T, c connector, h http.Header, body []byte) {
	p, err := c.parse(&input{header: h, body: body, now: testNow})
	if err != nil {
		var re *rejection
		if !errors.As(err, &re) || re.reason == "" {
			t.Fatalf("parse failed without a reason for the sender: %v", err)
		}
		return
	}
	if p == nil || p.build == nil {
		t.Fatal("parse returned nothing")
	}
	if len(p.id) > 1<<20 {
		t.Fatalf("delivery id of %d bytes", len(p.id))
	}
	out, err := p.build(context.Background(), &state{st: emptyState{}, source: c.name})
	if err != nil {
		var re *rejection
		if !errors.As(err, &re) {
			t.Fatalf("build failed without a reason for the sender: %v", err)
		}
		return
	}
	recs, _, err := finish(out, c.name, domain.ParseOptions{})
	if err != nil {
		var re *rejection
		if !errors.As(err, &re) {
			t.Fatalf("finish failed without a reason for the sender: %v", err)
		}
		return
	}
	for _, r := range recs {
		if r.Header().Source != c.name || len(r.Header().ID) > domain.MaxName {
			t.Fatalf("record %+v", r)
		}
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func FuzzGitHub(f *testing.F) {
	c := githubConnector(GitHub{ChangesFrom: "pull_request", DeployWorkflows: map[string]string{"test": "production"}, ReleaseEnvironment: "production"})
	push := githubConnector(GitHub{ChangesFrom: "push", Paths: map[string]map[string]string{"Codertocat/Hello-World": {"README": "docs"}}})
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		fuzzParse(t, c, header("X-GitHub-Event", event, "X-GitHub-Delivery", "d"), body)
		fuzzParse(t, push, header("X-GitHub-Event", event), body)
	})
}

func FuzzGitLab(f *testing.F) {
	c := gitlabConnector(GitLab{})
	push := gitlabConnector(GitLab{ChangesFrom: "push"})
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzParse(t, c, header(), body)
		fuzzParse(t, push, header(), body)
	})
}

func FuzzCDEvents(f *testing.F) {
	c := cdeventsConnector(CDEvents{DeployPipelines: map[string]Target{"myPipeline": {Environment: "production"}}})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fuzzParse(t, c, header("Content-Type", contentType, "Ce-Id", "x"), body)
	})
}

func FuzzJenkins(f *testing.F) {
	c := jenkinsConnector(Jenkins{DeployJobs: map[string]Target{"deploy": {Environment: "production"}}})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzArgoCD(f *testing.F) {
	c := argocdConnector(ArgoCD{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzPagerDuty(f *testing.F) {
	c := pagerdutyConnector(PagerDuty{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzOpsgenie(f *testing.F) {
	c := opsgenieConnector(Opsgenie{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzAlertmanager(f *testing.F) {
	c := alertmanagerConnector(Alertmanager{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzJira(f *testing.F) {
	c := jiraConnector(Jira{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzZendesk(f *testing.F) {
	c := zendeskConnector(Zendesk{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

func FuzzStripe(f *testing.F) {
	c := stripeConnector(Stripe{CustomerMetadata: "organization_slug"})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzParse(t, c, header(), body) })
}

// The signature checks take anything without panicking, and refuse it.
func FuzzSignatures(f *testing.F) {
	f.Add("t=1,v1=00", []byte(`{}`))
	f.Add("sha256=zz", []byte(`{}`))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		in := &input{header: header("X-Hub-Signature-256", sig, "X-PagerDuty-Signature", sig, "Stripe-Signature", sig,
			"X-Zendesk-Webhook-Signature", sig, "X-Zendesk-Webhook-Signature-Timestamp", sig, "X-Gitlab-Token", sig), body: body, now: testNow}
		for _, v := range []func(*input, string, time.Duration) error{verifyHubSignature("X-Hub-Signature-256"), verifyPagerDuty, verifyStripe, verifyZendesk} {
			if v(in, "a secret nobody guesses", DefaultTolerance) == nil {
				t.Fatalf("a forged signature %q verified", sig)
			}
		}
	})
}
