package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/pgtest"
)

// TestMain stops the PostgreSQL server a test started (pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }

// sqliteExec runs statements on a data directory's candor.db as someone
// with the file would, behind Candor's back.
func sqliteExec(t *testing.T, data string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A store a newer Candor migrated stops every command, reading or
// writing, with exit 1 and what to do.
func TestNewerStoreRefused(t *testing.T) {
	data := smallStore(t)
	sqliteExec(t, data, `INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)`)
	file := filepath.Join(t.TempDir(), "svc.ndjson")
	if err := os.WriteFile(file, []byte(`{"kind":"service","id":"db","name":"DB"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"scorecard", "--data", data}, {"import", "--data", data, file}} {
		r := run(t, args...)
		r.want(t, 1, args...)
		if !strings.Contains(r.stderr, "was migrated by a newer Candor (schema version 99, this build knows up to 22): run the newer version, or restore a backup taken before the upgrade") {
			t.Errorf("candor %s: stderr = %q", args[0], r.stderr)
		}
	}
}

// The first command after an upgrade migrates the store, which an older
// Candor refuses from then on: it says so, once, where it had migrated
// without a word. A new store is made, not migrated.
func TestUpgradeMigrationIsSaid(t *testing.T) {
	data := smallStore(t)
	// The store as a Candor without migration 022 left it.
	sqliteExec(t, data, `DROP TABLE refusals_not_logged`, `DELETE FROM schema_migrations WHERE version = 22`)
	r := mustRun(t, "scorecard", "--data", data)
	if !strings.Contains(r.stderr, "candor: store migrated from schema version 21 to 22 (applied 22)\n") {
		t.Errorf("first command after the upgrade: stderr = %q", r.stderr)
	}
	if r := mustRun(t, "scorecard", "--data", data); strings.Contains(r.stderr, "migrated") {
		t.Errorf("second command: stderr = %q", r.stderr)
	}
	file := filepath.Join(t.TempDir(), "svc.ndjson")
	if err := os.WriteFile(file, []byte(`{"kind":"service","id":"db","name":"DB"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := mustRun(t, "import", "--data", filepath.Join(t.TempDir(), "new"), file); strings.Contains(r.stderr, "migrated") {
		t.Errorf("import into a new store: stderr = %q", r.stderr)
	}
}

// A zero-byte candor.db (a truncated copy or restore) is no store: reading
// commands, serve and import all refuse it with exit 1 and leave it empty,
// where it had been migrated into a new store (serve started on it with
// seq 0 and /healthz ok).
func TestEmptyStoreFileRefused(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, "candor.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "svc.ndjson")
	if err := os.WriteFile(file, []byte(`{"kind":"service","id":"db","name":"DB"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"scorecard", "--data", data}, {"import", "--data", data, file}, {"serve", "--data", data, "--addr", "127.0.0.1:0"}} {
		r := run(t, args...)
		r.want(t, 1, args...)
		if !strings.Contains(r.stderr, path+" is not a Candor store: empty file (a truncated copy or restore?)") {
			t.Errorf("candor %s: stderr = %q", args[0], r.stderr)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("candor.db after the refusals: %v, %v; want it left empty", fi, err)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 1 {
		t.Fatalf("data directory after the refusals holds %d files, want candor.db alone", len(entries))
	}
}

// Another application's SQLite database named candor.db is refused by a
// reader, naming its tables.
func TestForeignStoreFileRefused(t *testing.T) {
	data := t.TempDir()
	sqliteExec(t, data, `CREATE TABLE invoices (id INTEGER PRIMARY KEY)`)
	r := run(t, "scorecard", "--data", data)
	r.want(t, 1, "scorecard")
	if !strings.Contains(r.stderr, "is not a Candor store: it has tables but no Candor schema (invoices)") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

// On PostgreSQL a reading command on a database without Candor's schema (a
// mistyped name) is refused naming the database, and creates nothing
// there — it had created the whole schema; user add, which may come
// before the first start, still creates the store there.
func TestPostgresReadNeedsAStore(t *testing.T) {
	url := pgtest.NewDatabase(t)
	key, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CANDOR_DB": url, "CANDOR_LEDGER_KEY": ledger.FormatKey(key), "CANDOR_DATA": t.TempDir()}
	runEnv := func(args ...string) result {
		env, out, errb := testEnv(vars)
		env.Stdin = strings.NewReader("a long enough password 1")
		return result{Run(context.Background(), env, args), out.String(), errb.String()}
	}
	r := runEnv("scorecard")
	r.want(t, 1, "scorecard")
	name := url[strings.LastIndex(url, "/")+1:]
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	if !strings.Contains(r.stderr, "/"+name+": the database has no Candor schema") {
		t.Fatalf("stderr = %q, want the database named", r.stderr)
	}
	r = runEnv("user", "list")
	r.want(t, 1, "user", "list")
	r = runEnv("user", "add", "--email", "ann@example.com", "--role", "admin")
	r.want(t, 0, "user", "add")
	if !strings.Contains(r.stdout, "Created a new Candor store in the PostgreSQL database.") {
		t.Errorf("user add: stdout = %q", r.stdout)
	}
	r = runEnv("user", "list")
	r.want(t, 0, "user", "list")
}
