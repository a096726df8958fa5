package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/sqlite"
)

// candor replay maps the kept payloads again with the configuration as it
// is now: a push ignored under changes_from: pull_request becomes a change
// once the configuration says push.
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := connect.New(connect.Options{Store: st, Config: connect.Config{GitHub: connect.GitHub{Secret: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../internal/connect/testdata/github/push.with-new-branch.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, []byte("s"))
	m.Write(body)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", strings.NewReader(string(body)))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "s-1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	rec := httptest.NewRecorder()
	svc.Handler(func(w http.ResponseWriter, r *http.Request, err error) {
		t.Fatalf("push refused: %v", err)
	}).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ignored"`) {
		t.Fatalf("push answered %d: %s", rec.Code, rec.Body)
	}
	st.Close()

	cfg := filepath.Join(t.TempDir(), "candor.yaml")
	os.WriteFile(cfg, []byte("connectors:\n  github:\n    changes_from: push\n"), 0o600)
	r := mustRun(t, "replay", "github", "--since", "2000-01-01", "--data", dir, "--config", cfg)
	if want := "1 github delivery replayed: 1 accepted (1 inserted, 0 replaced, 0 unchanged), 0 ignored, 0 still rejected\n"; r.stdout != want {
		t.Fatalf("stdout %q, want %q", r.stdout, want)
	}
	r = run(t, "replay", "gitlub", "--data", dir)
	r.want(t, 2, "replay", "gitlub")
	if !strings.Contains(r.stderr, `no webhook source "gitlub"`) {
		t.Fatalf("stderr %q", r.stderr)
	}
	run(t, "replay", "--data", dir).want(t, 2, "replay")
	run(t, "replay", "github", "--since", "last week", "--data", dir).want(t, 2, "replay")
}
