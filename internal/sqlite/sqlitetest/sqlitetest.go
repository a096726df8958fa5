// Package sqlitetest opens embedded stores for tests.
package sqlitetest

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/candor/candor/internal/sqlite"
)

// Open returns a new embedded store in a temporary directory, closed when
// the test ends.
func Open(tb testing.TB) *sqlite.DB {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Corrupt overwrites the pages of a table or index (named as in
// sqlite_master) of the store in dir with random bytes, as a failing disk
// or a bad copy would. The store must be closed.
func Corrupt(t testing.TB, dir, name string) {
	t.Helper()
	pages := pagesOf(t, dir, func(n string) bool { return n == name })
	if len(pages) < 2 {
		t.Fatalf("%s has %d pages; want a few to damage", name, len(pages))
	}
	overwrite(t, dir, pages)
}

// CorruptAll overwrites the pages of every table and index of the store in
// dir but the schema's and keep's, so that every statement reading one
// finds the damage. The store must be closed; keep names what opening it
// reads (schema_migrations).
func CorruptAll(t testing.TB, dir string, keep ...string) {
	t.Helper()
	overwrite(t, dir, pagesOf(t, dir, func(n string) bool {
		return n != "sqlite_schema" && n != "sqlite_master" && !slices.Contains(keep, n)
	}))
}

// pagesOf lists the pages of the tables and indexes whose names want
// picks.
func pagesOf(t testing.TB, dir string, want func(name string) bool) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "candor.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, pageno FROM dbstat`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pages []int64
	for rows.Next() {
		var name string
		var p int64
		if err := rows.Scan(&name, &p); err != nil {
			t.Fatal(err)
		}
		if want(name) {
			pages = append(pages, p)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pages
}

// overwrite writes random bytes over pages of the store in dir.
func overwrite(t testing.TB, dir string, pages []int64) {
	t.Helper()
	path := filepath.Join(dir, "candor.db")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	err = db.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, pageSize)
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range pages {
		for i := range junk {
			junk[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(junk, (p-1)*pageSize); err != nil {
			t.Fatal(err)
		}
	}
}
