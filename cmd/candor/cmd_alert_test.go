package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/sqlite"
)

// TestAlertCommands: the generated organisation has red metrics; an
// evaluation fires alerts and sends one signed webhook per rule, a second
// evaluation sends nothing new; ack and silence record their author, and
// bad input is a usage error.
func TestAlertCommands(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get(alert.SignatureHeader) != alert.Sign([]byte("hook-secret"), b) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		bodies = append(bodies, string(b))
	}))
	defer hook.Close()
	dir := t.TempDir()
	data, gen, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson"), filepath.Join(dir, "candor.yaml")
	if err := os.WriteFile(cfg, []byte("alerts:\n  channels:\n    - {name: ops, type: webhook, url: \""+hook.URL+"\", secret_env: OPS_SECRET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runEnv := func(args ...string) result {
		env, out, errb := testEnv(map[string]string{"OPS_SECRET": "hook-secret", "USER": "ann"})
		code := Run(context.Background(), env, args)
		return result{code, out.String(), errb.String()}
	}
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-06-01")
	mustRun(t, "import", "--data", data, gen)
	r := runEnv("alert", "evaluate", "--config", cfg, "--data", data, "--as-of", "2026-06-01T12:00:00Z")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "firing") {
		t.Fatalf("evaluate: %s", r.stdout)
	}
	mu.Lock()
	sent := len(bodies)
	mu.Unlock()
	if sent == 0 {
		t.Fatalf("no webhook sent: %s %s", r.stdout, r.stderr)
	}
	runEnv("alert", "evaluate", "--config", cfg, "--data", data, "--as-of", "2026-06-01T12:30:00Z").want(t, 0)
	if mu.Lock(); len(bodies) != sent {
		t.Errorf("a second evaluation half an hour later sent %d more", len(bodies)-sent)
	}
	mu.Unlock()
	// The alerts' clock does not go back: an evaluation before the last
	// had resolved alerts before they fired.
	listed := runEnv("alert", "list", "--config", cfg, "--data", data, "--format", "json").stdout
	r = runEnv("alert", "evaluate", "--config", cfg, "--data", data, "--as-of", "2026-05-20")
	r.want(t, 2)
	if !strings.Contains(r.stderr, "--as-of 2026-05-20T00:00:00Z: the stored alerts were evaluated as of 2026-06-01T12:30:00Z already") {
		t.Errorf("evaluate before the last evaluation: %s", r.stderr)
	}
	if after := runEnv("alert", "list", "--config", cfg, "--data", data, "--format", "json").stdout; after != listed {
		t.Errorf("a refused evaluation changed the alerts:\n%s\n%s", listed, after)
	}

	r = runEnv("alert", "list", "--config", cfg, "--data", data, "--format", "json")
	r.want(t, 0)
	var doc struct{ Alerts []alert.Alert }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Alerts) == 0 || doc.Alerts[0].State != alert.Firing {
		t.Fatalf("alert list: %v\n%s", err, r.stdout)
	}
	key := doc.Alerts[0].Key
	runEnv("alert", "ack", "--config", cfg, "--data", data, key, "--note", "on it,\n\trolling back").want(t, 0)
	// The note shows with who acknowledged, in the text (on one line) and the JSON.
	text := runEnv("alert", "list", "--config", cfg, "--data", data).stdout
	if !strings.Contains(text, key) || !strings.Contains(text, `acknowledged by cli:tester (as USER=ann) `) || !strings.Contains(text, `: "on it, rolling back"`+"\n") {
		t.Errorf("list after ack:\n%s", text)
	}
	r = runEnv("alert", "list", "--config", cfg, "--data", data, "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Alerts) == 0 || doc.Alerts[0].Key != key ||
		doc.Alerts[0].AckNote != "on it,\n\trolling back" || doc.Alerts[0].AckedBy != "cli:tester (as USER=ann)" {
		t.Errorf("alert list --format json after ack: %v\n%s", err, r.stdout)
	}
	// A notification whose last attempt left recipients out says whom and
	// why, in the text and the JSON.
	func() {
		st, err := sqlite.Open(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ns, err := st.Notifications(context.Background(), 1)
		if err != nil || len(ns) != 1 {
			t.Fatal(ns, err)
		}
		ns[0].Withheld = "bob@example.com (disabled)"
		if err := st.UpdateNotification(context.Background(), ns[0]); err != nil {
			t.Fatal(err)
		}
	}()
	if text := runEnv("alert", "list", "--config", cfg, "--data", data).stdout; !strings.Contains(text, "Notifications whose last attempt left recipients out") ||
		!strings.Contains(text, " · ops, sent: bob@example.com (disabled)\n") {
		t.Errorf("list with a notification that left someone out:\n%s", text)
	}
	if r := runEnv("alert", "list", "--config", cfg, "--data", data, "--format", "json"); !strings.Contains(r.stdout, `"withheld": "bob@example.com (disabled)"`) {
		t.Errorf("alert list --format json: %s", r.stdout)
	}
	if r := runEnv("alert", "ack", "--config", cfg, "--data", data, "nope|x|"); r.code == 0 || !strings.Contains(r.stderr, "no pending or firing alert") {
		t.Errorf("ack of no alert: %d %s", r.code, r.stderr)
	}
	// Acknowledged again, as the API and the page answer it: the same
	// person and note a retry (exit 0); another note exits 1 naming the
	// first acknowledgement, which is kept; an empty key is a usage error.
	runEnv("alert", "ack", "--config", cfg, "--data", data, key, "--note", "on it,\n\trolling back").want(t, 0)
	if r := runEnv("alert", "ack", "--config", cfg, "--data", data, key, "--note", "other"); r.code != 1 ||
		!strings.Contains(r.stderr, "acknowledged already, by cli:tester (as USER=ann) at ") || !strings.Contains(r.stderr, "rolling back") {
		t.Errorf("ack again with another note: %d %s", r.code, r.stderr)
	}
	if r := runEnv("alert", "list", "--config", cfg, "--data", data); !strings.Contains(r.stdout, `: "on it, rolling back"`+"\n") {
		t.Errorf("the first acknowledgement's note was not kept:\n%s", r.stdout)
	}
	if r := runEnv("alert", "ack", "--config", cfg, "--data", data, ""); r.code != 2 {
		t.Errorf("ack of an empty key: %d %s", r.code, r.stderr)
	}
	if r := runEnv("alert", "silence", "--config", cfg, "--data", data, "--rule", "metric_red", "--for", "2h"); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Errorf("silence without a reason: %d %s", r.code, r.stderr)
	}
	if r := runEnv("alert", "silence", "--config", cfg, "--data", data, "--rule", "metric_red", "--for", "2h", "--reason", "quarter close"); r.code != 0 || !strings.Contains(r.stdout, "Silence #1") {
		t.Errorf("silence: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// What a silence names must exist, and it lasts at most 90 days.
	for _, c := range []struct{ flag, value, say string }{
		{"--metric", "nosuch", `--metric: unknown metric "nosuch" (known: `},
		{"--scope", "bogus", "--scope: \"bogus\" must be DIMENSION:VALUE"},
		{"--scope", "service:nosuch", `--scope: no service "nosuch" in the data (known: `},
		{"--scope", "colour:red", `--scope: unknown dimension "colour" (known: team, service`},
		{"--for", "400d", "--for: 400d is longer than a silence may last (at most 90d)"},
	} {
		args := []string{"alert", "silence", "--config", cfg, "--data", data, "--rule", "metric_red", "--reason", "typo", "--for", "2h", c.flag, c.value}
		if r := runEnv(args...); r.code != 2 || !strings.Contains(r.stderr, c.say) {
			t.Errorf("silence %s %s: %d %s, want exit 2 saying %s", c.flag, c.value, r.code, r.stderr, c.say)
		}
	}
	if r := runEnv("alert", "silence", "--config", cfg, "--data", data, "--reason", "deploy freeze", "--for", "90d", "--scope", "service:payments"); r.code != 0 || !strings.Contains(r.stdout, "Silence #2") {
		t.Errorf("silence of a known service for 90d: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Ended early, once; the error for a second end says when it ended.
	if r := runEnv("alert", "unsilence", "--config", cfg, "--data", data, "--id", "2"); r.code != 0 || !strings.Contains(r.stdout, "Silence #2 ended at") {
		t.Errorf("unsilence: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runEnv("alert", "unsilence", "--config", cfg, "--data", data, "--id", "2"); r.code != 1 || !strings.Contains(r.stderr, "silence #2 ended at") || !strings.Contains(r.stderr, "in force: #1") {
		t.Errorf("a second unsilence: %d %s", r.code, r.stderr)
	}
	if r := runEnv("alert", "unsilence", "--config", cfg, "--data", data); r.code != 2 || !strings.Contains(r.stderr, "--id") {
		t.Errorf("unsilence without --id: %d %s", r.code, r.stderr)
	}
	mu.Lock()
	before := len(bodies)
	mu.Unlock()
	runEnv("alert", "test", "--config", cfg, "--data", data, "ops").want(t, 0)
	if mu.Lock(); len(bodies) != before+1 || !strings.Contains(bodies[len(bodies)-1], "test notification") {
		t.Errorf("alert test sent %d", len(bodies)-before)
	}
	mu.Unlock()
	if r := runEnv("alert", "test", "--config", cfg, "--data", data, "pager"); r.code != 2 || !strings.Contains(r.stderr, `unknown channel "pager"; configured: ops`) {
		t.Errorf("test of no channel: %d %s", r.code, r.stderr)
	}
}

// candor alert route shows the routes, channels and addresses of a
// metric's alerts, and who is withheld a revenue figure.
func TestAlertRouteCommand(t *testing.T) {
	dir := t.TempDir()
	data, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "candor.yaml")
	conf := "alerts:\n  smtp: {url: \"smtp://mail.example.com\", from: c@example.com}\n  channels:\n    - {name: exec, type: email}\n    - {name: eng, type: slack, url: \"https://hooks.example.com/x\"}\n" +
		"  routes:\n    - {name: finance, match: {metrics: [arr]}, users: [cfo@example.org]}\n    - {name: sre, match: {pillars: [reliability]}, users: [sre@example.org], channels: [eng]}\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "org.ndjson")
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-06-01")
	mustRun(t, "import", "--data", data, gen)
	r := mustRun(t, "alert", "route", "--config", cfg, "--data", data, "arr", "--rule", "arr_behind_target").stdout
	// Its severity follows ARR's status (the default rule sets none).
	for _, want := range []string{"arr_behind_target (warning, while the metric is not red):", "arr_behind_target (critical, while the metric is red):", "withheld from cfo@example.org: not a Candor user, so not granted revenue:read", "withheld from channel eng: a slack channel not marked revenue: true"} {
		if !strings.Contains(r, want) {
			t.Errorf("no %q in\n%s", want, r)
		}
	}
	r = mustRun(t, "alert", "route", "--config", cfg, "--data", data, "mttr", "--scope", "service:payments").stdout
	if !strings.Contains(r, "eng (slack) — route service_owners, route sre") || !strings.Contains(r, "metric_red (critical):") {
		t.Errorf("mttr:\n%s", r)
	}
	if err := os.WriteFile(cfg, []byte(conf+"    - {name: bad, roles: [chief]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, errb := testEnv(nil)
	if code := Run(context.Background(), env, []string{"alert", "route", "--config", cfg, "--data", data, "arr"}); code == 0 || !strings.Contains(errb.String(), "candor.yaml:9") || !strings.Contains(errb.String(), `unknown role "chief"`) {
		t.Errorf("a bad route: %d %s", code, errb.String())
	}
}

// The documented alert channel (docs/configuration.md: secret_env:
// CANDOR_OPS_HOOK_SECRET): the variable it names is one Candor reads, and
// only the commands that send notifications — serve, alert evaluate,
// alert test — need it set; the others (import, token create) run
// without it.
func TestAlertSecretEnvOnlyForSending(t *testing.T) {
	dir := t.TempDir()
	data, cfg, recs := filepath.Join(dir, "data"), filepath.Join(dir, "candor.yaml"), filepath.Join(dir, "r.ndjson")
	if err := os.WriteFile(cfg, []byte("alerts:\n  channels:\n    - {name: ops-hook, type: webhook, url: https://hooks.example.com/candor, secret_env: CANDOR_OPS_HOOK_SECRET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recs, []byte(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-30T10:00:00Z","status":"success"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runWith := func(vars map[string]string, args ...string) result {
		env, out, errb := testEnv(vars)
		env.Environ = func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			return kv
		}
		return result{Run(context.Background(), env, append(args, "--config", cfg)), out.String(), errb.String()}
	}
	with := map[string]string{"CANDOR_OPS_HOOK_SECRET": "s", "CANDOR_DATA": data}
	without := map[string]string{"CANDOR_DATA": data}
	runWith(without, "import", recs).want(t, 0, "import")
	runWith(with, "token", "create", "--name", "ci", "--role", "ingest").want(t, 0, "token create with the secret set")
	runWith(without, "token", "create", "--name", "ci2", "--role", "ingest").want(t, 0, "token create without the secret")
	for _, args := range [][]string{{"alert", "evaluate"}, {"alert", "test", "ops-hook"}, {"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "new")}} {
		r := runWith(without, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "ops-hook: secret_env: the environment variable CANDOR_OPS_HOOK_SECRET is not set") {
			t.Errorf("%v without the secret: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
		t.Errorf("serve refused for a missing secret left a store: %v", err)
	}
	if r := runWith(map[string]string{"CANDOR_OPS_HOOK_SECRT": "s", "CANDOR_DATA": data}, "alert", "list"); r.code != 2 || !strings.Contains(r.stderr, "did you mean CANDOR_OPS_HOOK_SECRET?") {
		t.Errorf("a mistyped secret variable: exit %d\n%s", r.code, r.stderr)
	}
}

// TestServeWarnsUnreachedRoutes: candor serve says at start which alert
// routes resolve to no user over an e-mail channel without a to of its
// own — the shipped service_owners route until someone holds the
// engineering role — naming route and channel; nothing warned, and an
// on-call mailbox had missed the routed alerts.
func TestServeWarnsUnreachedRoutes(t *testing.T) {
	dir := t.TempDir()
	data, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "candor.yaml")
	conf := "alerts:\n  smtp: {url: \"smtp://mail.example.com\", from: c@example.com}\n  channels:\n    - {name: exec, type: email}\n    - {name: oncall, type: email, to: [oncall@example.com]}\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	runWith(t, "", false, "user", "add", "--email", "eng@example.com", "--role", "cro", "--role", "vp_marketing", "--role", "ceo", "--generate-password", "--config", cfg, "--data", data).want(t, 0, "user add")
	p := start(t, "serve", "--config", cfg, "--data", data, "--addr", "127.0.0.1:0")
	p.waitFor(t, "the listening log line", p.listeningURL)
	p.stop(t)
	var warned, lost []string
	for _, line := range strings.Split(p.errb.String(), "\n") {
		var l struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Level == "WARN" && strings.HasPrefix(l.Msg, "alert route ") {
			warned = append(warned, l.Msg)
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Level == "WARN" && strings.HasPrefix(l.Msg, "alerts of rules ") {
			lost = append(lost, l.Msg)
		}
	}
	// And what that costs: revenue metrics no route names go to the
	// on-call mailbox's to, which is no Candor user, so to nobody.
	if !slices.ContainsFunc(lost, func(m string) bool {
		return strings.Contains(m, "metric_red") && strings.Contains(m, "nrr") && strings.Contains(m, "reach no one: withheld from oncall@example.com (not a Candor user, so not granted revenue:read)")
	}) {
		t.Errorf("alerts reaching no one at start: %q", lost)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "alert route service_owners resolves to no user (no enabled user holds role engineering): over email channel exec, without a to of its own") {
		t.Errorf("warnings at start: %q\n%s", warned, clip(p.errb.String()))
	}
}
