package sqlite

import (
	"context"
	"io/fs"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
	"github.com/candor/candor/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Reopen(func(t *testing.T, s store.Store) store.Store {
		db := s.(*DB)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		s2, err := Open(context.Background(), db.dir)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	}))
}

func TestReopenKeepsDataAndMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(ctx, s, []store.Item{{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: "a"}, Hash: "h", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if n, _ := s.LastSeq(ctx); n != 1 {
		t.Fatalf("LastSeq after reopen = %d, want 1", n)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("embedded migrations: %v (%v)", files, err)
	}
	var v int
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&v); err != nil || v != len(files) {
		t.Fatalf("schema_migrations rows = %d (%v), want one per migration file (%d)", v, err, len(files))
	}
}

// Documents are append-only in the file itself, not only through the Go
// API: an UPDATE or DELETE by anything else is refused.
func TestDocsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.AppendDoc(ctx, "c", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE docs SET body = ? WHERE id = ?`, []byte(`{"x":1}`), d.ID); err == nil {
		t.Error("UPDATE of a document succeeded")
	}
	if _, err := s.db.Exec(`DELETE FROM docs WHERE id = ?`, d.ID); err == nil {
		t.Error("DELETE of a document succeeded")
	}
	if got, _ := s.Docs(ctx, "c", 0); len(got) != 1 || string(got[0].Body) != `{}` {
		t.Errorf("document changed: %+v", got)
	}
}
