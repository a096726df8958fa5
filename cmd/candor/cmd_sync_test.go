package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// candor sync reads a repository's pull requests and deployments from a
// GitHub API (here on loopback) and says what it wrote; a dry run writes
// nothing; the next run resumes from the cursor.
func TestSyncCommand(t *testing.T) {
	api := fakeGitHub(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("connectors:\n  github:\n    sync:\n      token: t0ken\n      base_url: "+api.URL+"\n      repos: [Codertocat/Hello-World]\n"), 0o600)
	data := filepath.Join(dir, "data")
	r := mustRun(t, "sync", "github", "--dry-run", "--since", "2019-05-01", "--data", data, "--config", cfg)
	if !strings.HasPrefix(r.stdout, "github dry run (nothing written): 2 pages, 1 object: 1 accepted, 0 ignored, 0 rejected\n") || !strings.Contains(r.stdout, "would write: 1 change\n") {
		t.Fatalf("dry run said:\n%s", r.stdout)
	}
	r = mustRun(t, "sync", "github", "--since", "2019-05-01", "--data", data, "--config", cfg)
	if !strings.HasPrefix(r.stdout, "github sync: 2 pages, 1 object: 1 accepted (1 inserted, 0 replaced, 0 unchanged), 0 ignored, 0 rejected\n") ||
		!strings.Contains(r.stdout, "  Codertocat/Hello-World pull requests: 1 page, 1 object since 2019-05-01T00:00:00Z\n") {
		t.Fatalf("sync said:\n%s", r.stdout)
	}
	r = mustRun(t, "sync", "github", "--format", "json", "--data", data, "--config", cfg)
	var sum struct {
		Unchanged int64 `json:"unchanged"`
		Streams   []struct {
			From string `json:"from"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Unchanged != 1 || sum.Streams[0].From != "2019-05-15T15:21:18Z" {
		t.Fatalf("resumed run: %+v %v\n%s", sum, err, r.stdout)
	}

	run(t, "sync", "--data", data).want(t, 2, "sync")
	run(t, "sync", "github", "--since", "yesterday", "--data", data, "--config", cfg).want(t, 2, "sync")
	r = run(t, "sync", "stripe", "--data", data, "--config", cfg)
	r.want(t, 2, "sync", "stripe")
	if !strings.Contains(r.stderr, `no collector for "stripe"`) {
		t.Fatalf("stderr %q", r.stderr)
	}
	os.WriteFile(cfg, []byte("connectors:\n  github:\n    sync:\n      token: wrong\n      base_url: "+api.URL+"\n      repos: [Codertocat/Hello-World]\n"), 0o600)
	r = run(t, "sync", "github", "--data", data, "--config", cfg)
	r.want(t, 1, "sync", "github")
	if !strings.Contains(r.stderr, "401 Unauthorized: Bad credentials (check connectors.github.sync.token or CANDOR_SYNC_TOKEN_GITHUB)") {
		t.Fatalf("a refused token: stderr %q", r.stderr)
	}
}

// fakeGitHub is a GitHub API with one repository and one merged pull
// request (the recorded answers of internal/connect/testdata/sync).
func fakeGitHub(t *testing.T) *httptest.Server {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("../../internal/connect/testdata/sync/github", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var pulls []json.RawMessage
	json.Unmarshal(read("pulls.2.json"), &pulls)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message": "Bad credentials"}`))
			return
		}
		switch r.URL.Path {
		case "/repos/Codertocat/Hello-World":
			w.Write(read("repo.json"))
		case "/repos/Codertocat/Hello-World/pulls":
			json.NewEncoder(w).Encode(pulls[:1])
		default:
			w.Write([]byte("[]"))
		}
	}))
	t.Cleanup(api.Close)
	return api
}

// The leader runs a collector configured with sync.every: serve with
// snapshots off still elects a leader for it, and the run is logged.
func TestServeRunsScheduledSync(t *testing.T) {
	api := fakeGitHub(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("snapshot_interval: \"0\"\nconnectors:\n  github:\n    sync:\n      every: 1h\n      backfill: 3000d\n      token: t0ken\n      base_url: "+api.URL+"\n      repos: [Codertocat/Hello-World]\n"), 0o600)
	data := filepath.Join(dir, "data")
	p := start(t, "serve", "--data", data, "--config", cfg, "--addr", "127.0.0.1:0")
	p.waitFor(t, "the scheduled sync log line", func() (string, bool) {
		return "", strings.Contains(p.errb.String(), `"msg":"scheduled sync","source":"github"`)
	})
	p.stop(t)
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.SyncRuns(context.Background(), store.SyncRunFilter{Source: "github"})
	if err != nil || len(runs) != 1 || runs[0].Outcome != store.SyncOK || runs[0].Inserted != 1 {
		t.Fatalf("sync runs after serving: %+v %v", runs, err)
	}
}

// candor serve refuses a collector scheduled without its token (exit 2,
// naming the line of its every and the variable) before it makes a store,
// as it refuses an alert channel without its secret: docs/configuration.md's
// example had started, then logged an ERROR at every scheduled run.
func TestServeRefusesScheduledCollectorWithoutToken(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "candor.yaml")
	if err := os.WriteFile(cfg, []byte("connectors:\n  github:\n    sync:\n      repos: [acme/payments-api]\n      every: 1h\n      token: \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	r := run(t, "serve", "--config", cfg, "--data", data, "--addr", "127.0.0.1:0")
	r.want(t, 2, "serve")
	if !strings.Contains(r.stderr, "candor serve: config "+cfg+":5: connectors.github.sync.every: the github collector is scheduled, but cannot run: no token for the github collector: set connectors.github.sync.token or CANDOR_SYNC_TOKEN_GITHUB") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("serve refused left a data directory: %v", err)
	}
}
