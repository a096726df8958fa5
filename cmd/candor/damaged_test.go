package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/sqlite/sqlitetest"
)

// generatedStore imports a small generated organisation (some thousand
// records: an index of several pages) into a new data directory.
func generatedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "org.ndjson")
	mustRun(t, "generate", "--out", file, "--scale", "0.01", "--days", "60", "--end", "2026-11-30")
	data := filepath.Join(dir, "data")
	mustRun(t, "import", "--data", data, file)
	return data
}

// A damaged index page: the server starts and reads, but writes fail. The
// failure names the file and what to do (it had said only "database disk
// image is malformed"), and /healthz, which had said ok, says the store
// is damaged from the first failed write on — the file's path only to
// those who may read the sources page.
func TestDamagedIndexUnderServe(t *testing.T) {
	data := generatedStore(t)
	token := func(name, role string) string {
		r := runWith(t, "", false, "token", "create", "--data", data, "--name", name, "--role", role)
		r.want(t, 0, "token create")
		w := strings.Fields(r.stdout)
		return w[len(w)-1]
	}
	ingest, admin := token("ci", "ingest"), token("mon", "admin")
	sqlitetest.Corrupt(t, data, "records_key")
	path := filepath.Join(data, "candor.db")

	p := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, url+"/readyz", "")
		return "", code == 200
	})
	if code, body := get(t, url+"/healthz", ""); code != 200 {
		t.Fatalf("/healthz before any write met the damage: %d %s", code, body)
	}
	code, body := request(t, "POST", url+"/api/v1/records", ingest, strings.NewReader(`{"kind":"service","id":"zz","name":"ZZ"}`+"\n"))
	if code != 500 {
		t.Fatalf("a write into the damaged index: %d %s", code, body)
	}
	if log := p.errb.String(); !strings.Contains(log, "the store "+path+" is damaged") || !strings.Contains(log, "PRAGMA integrity_check") || !strings.Contains(log, "docs/backups.md") {
		t.Errorf("the server log does not name the file and what to do:\n%s", clip(log))
	}
	code, body = get(t, url+"/healthz", "")
	var e struct{ Error, Code string }
	if json.Unmarshal(body, &e); code != 503 || e.Code != "unavailable" || !strings.Contains(e.Error, "store damaged") || strings.Contains(e.Error, path) {
		t.Errorf("/healthz after the failed write: %d %s; want 503 unavailable, store damaged, no path", code, body)
	}
	if code, body = get(t, url+"/healthz", admin); code != 503 || !strings.Contains(string(body), path) {
		t.Errorf("/healthz for sources:read after the failed write: %d %s; want 503 naming %s", code, body, path)
	}
}

// Damaged record pages: serve exits 1 naming the file and what to do,
// rather than 0.2 s after "listening" with "sql: statement is closed".
func TestDamagedRecordsStopServe(t *testing.T) {
	data := generatedStore(t)
	sqlitetest.Corrupt(t, data, "records")
	os.Remove(filepath.Join(data, "candor.image"))
	p := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	<-p.done
	// What serve started must not go on after it returned and the store
	// was closed: give a follower left running the time to say so.
	time.Sleep(500 * time.Millisecond)
	stderr := p.errb.String()
	if p.code != 1 || !strings.Contains(stderr, "candor serve: the store "+filepath.Join(data, "candor.db")+" is damaged") || strings.Contains(stderr, "statement is closed") {
		t.Errorf("exit %d, stderr:\n%s", p.code, clip(stderr))
	}
}
