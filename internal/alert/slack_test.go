package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The Slack channel posts Block Kit JSON that a Slack-compatible server
// accepts: a fallback text, a header, per alert a section with status,
// value, target and owner fields, and the link.
func TestSlackBlockKit(t *testing.T) {
	var got map[string]any
	var ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ctype = r.Header.Get("Content-Type")
		if err := json.Unmarshal(body, &got); err != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := testMessage(at)
	m.Firing[0].Value, m.Firing[0].Target, m.Firing[0].Status = f(2.1), f(3), "red"
	m.Firing[0].Summary += " <b>&"
	if err := (Slack{URL: srv.URL + "/services/T0/B0/XXX", Link: "https://candor.example.com/alerts"}).Send(context.Background(), Envelope{ID: 3, Message: m}); err != nil {
		t.Fatal(err)
	}
	if ctype != "application/json" {
		t.Errorf("content type %q", ctype)
	}
	text, _ := got["text"].(string)
	if !strings.Contains(text, "[Candor CRITICAL] pipeline_coverage_low: 1 firing 1 resolved") {
		t.Errorf("fallback text %q", text)
	}
	blocks, _ := got["blocks"].([]any)
	var types []string
	var fields []string
	var texts []string
	for _, b := range blocks {
		b := b.(map[string]any)
		types = append(types, b["type"].(string))
		if tx, ok := b["text"].(map[string]any); ok {
			texts = append(texts, tx["text"].(string))
		}
		for _, fl := range append(asList(b["fields"]), asList(b["elements"])...) {
			fields = append(fields, fl.(map[string]any)["text"].(string))
		}
	}
	if want := "header section section section section divider context"; strings.Join(types, " ") != want {
		t.Errorf("block types %q, want %q", strings.Join(types, " "), want)
	}
	all := strings.Join(append(texts, fields...), "\n")
	for _, want := range []string{"*Status*\nfiring (red)", "*Value*\n2.1", "*Target*\n3", "*Owner*\nCRO", "*Owner*\n—",
		"(alert when &lt; 3) &lt;b&gt;&amp;", "`team:emea`", "<https://candor.example.com/alerts|Open the alerts in Candor>", "*Resolved*"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no_service", http.StatusNotFound) }))
	defer bad.Close()
	if err := (Slack{URL: bad.URL}).Send(context.Background(), Envelope{Message: m}); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "no_service") {
		t.Errorf("a 404 answer: %v", err)
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

func TestSlackChannelConfig(t *testing.T) {
	cat := defaultCatalog(t)
	env := func(k string) string { return map[string]string{"HOOK": "https://hooks.slack.com/services/T/B/X"}[k] }
	set, err := Setup(Config{NoDefaultRules: true, Channels: []ChannelConfig{{Name: "s1", Type: "slack", SecretEnv: "HOOK"}, {Name: "s2", Type: "slack", URL: "https://chat.example.com/hooks/1"}}}, cat, env, "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sl, ok := set.Channels["s1"].(Slack); !ok || sl.URL != "https://hooks.slack.com/services/T/B/X" {
		t.Errorf("s1 %#v", set.Channels["s1"])
	}
	// An unset variable is for the commands that send to refuse
	// (CheckSecrets); a notification sent through it anyway fails, to be
	// retried, rather than going nowhere.
	set, err = Setup(Config{NoDefaultRules: true, Channels: []ChannelConfig{{Name: "s", Type: "slack", SecretEnv: "NONE"}}}, cat, env, "c.yaml", func(string) int { return 9 })
	if err != nil {
		t.Fatal(err)
	}
	if err := set.CheckSecrets(); err == nil || !strings.Contains(err.Error(), "secret_env: the environment variable NONE is not set") {
		t.Errorf("an unset secret_env: %v", err)
	}
	if err := set.Channels["s"].Send(context.Background(), Envelope{}); err == nil || !strings.Contains(err.Error(), "NONE") {
		t.Errorf("sending without the secret: %v", err)
	}
}
