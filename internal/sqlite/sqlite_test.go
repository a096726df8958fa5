package sqlite

import (
	"context"
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
	})
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
	var v int
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Fatalf("schema_migrations rows = %d (%v), want 1", v, err)
	}
}
