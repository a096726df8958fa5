package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

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
		if !strings.Contains(r.stderr, "was migrated by a newer Candor (schema version 99, this build knows up to 17): run the newer version, or restore a backup taken before the upgrade") {
			t.Errorf("candor %s: stderr = %q", args[0], r.stderr)
		}
	}
}
