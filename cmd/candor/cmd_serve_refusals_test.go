package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// The refusals a server counts rather than logs (past the 60 a minute a
// source's are logged at) reach the store when it stops, for another
// instance and `candor sources` to report: none is lost to a clean stop.
func TestServeFlushesRefusalsNotLogged(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("snapshot_interval: \"0\"\nconnectors:\n  github:\n    secret: s3cret\n"), 0o600)
	data := filepath.Join(dir, "data")
	p := start(t, "serve", "--data", data, "--config", cfg, "--addr", "127.0.0.1:0")
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	const flood = 70
	for i := range flood {
		req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/github", strings.NewReader(`{"zen":"flood"}`))
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-Hub-Signature-256", "sha256=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("delivery %d answered %d", i, resp.StatusCode)
		}
	}
	p.stop(t)
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.DeliveryStats(context.Background(), "github", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if logged := stats.Counts[store.DeliveryRejected]; logged+stats.NotLogged != flood || stats.NotLogged == 0 {
		t.Fatalf("after the server stopped: %d refusals logged, %d counted not logged; want %d in all, some not logged", logged, stats.NotLogged, flood)
	}
}
