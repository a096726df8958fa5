package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
)

// The webhook route hands deliveries to the connectors: a signed GitHub
// ping is taken (and ignored, as GitHub's set-up check), an unsigned one is
// refused in the API's own error vocabulary.
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
		fields:  map[string]string{"code": "unauthorized"}, contains: []string{"request_id"}})
	e.run(t, scenario{name: "unknown source", method: "POST", url: "/webhooks/gitlub", body: body, status: http.StatusNotFound,
		headers: map[string]string{"Authorization": ""}, fields: map[string]string{"code": "not_found"}, contains: []string{"github"}})
}
