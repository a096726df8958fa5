package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/store"
)

// The webhook route hands deliveries to the connectors: a signed GitHub
// ping is taken (and ignored, as GitHub's set-up check), an unsigned one is
// refused in the API's own error vocabulary — with the outcome every
// webhook answer has, and the payload's field at fault when one is
// (docs/connectors/README.md's Answers).
func TestWebhookRoute(t *testing.T) {
	e := newEnv(t, 0)
	body := `{"zen":"Keep it logically awesome.","hook_id":1}`
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte(body))
	e.run(t, scenario{name: "signed ping", method: "POST", url: "/webhooks/github", body: body, status: http.StatusOK,
		headers: map[string]string{"Authorization": "", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1",
			"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(m.Sum(nil))},
		fields: map[string]string{"outcome": "ignored", "source": "github"}})
	e.run(t, scenario{name: "unsigned", method: "POST", url: "/webhooks/github", body: body, status: http.StatusUnauthorized,
		headers: map[string]string{"Authorization": "", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-2"},
		fields:  map[string]string{"code": "unauthorized", "outcome": "rejected", "field": "<nil>"}, check: hasRequestID})
	e.run(t, scenario{name: "no CDEvent", method: "POST", url: "/webhooks/cdevents", status: http.StatusBadRequest,
		body:    `{"specversion": "1.0", "id": "e-1", "source": "/ci", "type": "dev.cdevents.service.deployed.0.3.0"}`,
		headers: map[string]string{"Content-Type": "application/cloudevents+json"},
		fields:  map[string]string{"code": "invalid", "outcome": "rejected", "field": "data"}, check: hasRequestID})
	// The same CloudEvent source and id with another payload: a conflict.
	cd := func(typ string) string {
		return `{"context": {"specversion": "0.5.1", "id": "e-2", "source": "/ci", "type": "dev.cdevents.service.` + typ +
			`.0.3.0", "timestamp": "2026-03-01T10:00:00Z"}, "subject": {"id": "shop", "content": {"environment": {"id": "production"}}}}`
	}
	e.run(t, scenario{name: "deployed", method: "POST", url: "/webhooks/cdevents", body: cd("deployed"), status: http.StatusOK,
		fields: map[string]string{"outcome": "accepted"}})
	e.run(t, scenario{name: "same id, another payload", method: "POST", url: "/webhooks/cdevents", body: cd("rolledback"), status: http.StatusConflict,
		fields: map[string]string{"code": "conflict", "outcome": "rejected"}, contains: []string{"/ci#e-2"}, check: hasRequestID})
	e.run(t, scenario{name: "unknown source", method: "POST", url: "/webhooks/gitlub", body: body, status: http.StatusNotFound,
		headers: map[string]string{"Authorization": ""}, fields: map[string]string{"code": "not_found", "outcome": "rejected"}, contains: []string{"github"}})
}

func hasRequestID(t *testing.T, doc any) {
	t.Helper()
	if id, _ := lookup(doc, "request_id").(string); id == "" {
		t.Errorf("no request_id in %v", doc)
	}
}

// unreachableStore is a store whose server cannot be reached: every
// delivery's lookup and commit fails as PostgreSQL's pool does then.
type unreachableStore struct{ store.Store }

func (unreachableStore) CountedDelivery(context.Context, string, string) (store.Delivery, error) {
	return store.Delivery{}, &store.UnreachableError{Err: errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")}
}

func (unreachableStore) Begin(context.Context) (store.Batch, error) {
	return nil, &store.UnreachableError{Err: errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")}
}

// A delivery while the store cannot be reached is answered 503 with
// Retry-After, as docs/connectors/README.md's Answers say (they said 500).
func TestWebhookStoreUnreachable(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		hooks, err := connect.New(connect.Options{Store: unreachableStore{s.Store}, Tokens: s.Auth, Log: s.Log,
			Config: connect.Config{GitHub: connect.GitHub{Secret: webhookSecret}}})
		if err != nil {
			t.Fatal(err)
		}
		s.Webhooks = hooks
	})
	body := `{"zen":"Keep it logically awesome.","hook_id":1}`
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte(body))
	status, doc, hdr := e.do(t, "POST", "/webhooks/github", body, map[string]string{"Authorization": "", "X-GitHub-Event": "ping",
		"X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": "sha256=" + hex.EncodeToString(m.Sum(nil))})
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") != "5" ||
		!strings.Contains(string(doc), `"store unreachable; try again shortly"`) || !strings.Contains(string(doc), `"unavailable"`) {
		t.Errorf("a delivery with the store unreachable: %d, Retry-After %q: %s", status, hdr.Get("Retry-After"), doc)
	}
}
