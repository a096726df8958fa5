// Package sqlitetest opens embedded stores for tests.
package sqlitetest

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	path := filepath.Join(dir, "candor.db")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT pageno FROM dbstat WHERE name = ?`, name)
	if err != nil {
		t.Fatal(err)
	}
	var pages []int64
	for rows.Next() {
		var p int64
		rows.Scan(&p)
		pages = append(pages, p)
	}
	rows.Close()
	db.Close()
	if len(pages) < 2 {
		t.Fatalf("%s has %d pages; want a few to damage", name, len(pages))
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
