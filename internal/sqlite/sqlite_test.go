package sqlite

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
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
	}), storetest.Share(func(t *testing.T, s store.Store) store.Store {
		// A second Open of the directory has its own pool and writer slot,
		// as another process sharing the file would.
		s2, err := Open(context.Background(), s.(*DB).dir)
		if err != nil {
			t.Fatalf("second handle: %v", err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	}), storetest.SQL(func(t *testing.T, s store.Store, bypass bool, stmts ...string) error {
		db := s.(*DB).db
		if bypass {
			// Someone with the file can drop the triggers.
			if _, err := db.Exec(`DROP TRIGGER IF EXISTS ledger_no_update; DROP TRIGGER IF EXISTS ledger_no_delete; DROP TRIGGER IF EXISTS docs_no_update; DROP TRIGGER IF EXISTS docs_no_delete`); err != nil {
				return err
			}
		}
		for _, stmt := range stmts {
			if _, err := db.Exec(stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
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

// One document per (collection, key) is a property of the file, not only
// of AppendDocOnce: a second row with a taken key is refused whoever
// writes it, and a key, once given, cannot be changed.
func TestDocKeysUniqueInFile(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, _, err := s.AppendDocOnce(ctx, "c", "k", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO docs (collection, key, created_at, body) VALUES ('c', 'k', 0, x'7b7d')`); err == nil {
		t.Error("a second document with key k was inserted")
	}
	if _, err := s.db.Exec(`UPDATE docs SET key = 'other' WHERE id = ?`, d.ID); err == nil {
		t.Error("UPDATE of a document's key succeeded")
	}
	if got, _ := s.Docs(ctx, "c", 0); len(got) != 1 || got[0].Key != "k" {
		t.Errorf("documents: %+v", got)
	}
}

// A file written before keys existed (migrations up to 003) opens, keeps
// its documents, which have no key, and takes keyed appends.
func TestDocKeysMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	for v, name := range []string{"001_records.sql", "002_docs.sql", "003_raw_hash.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations VALUES (?, 0)`, v+1)
	}
	exec(`INSERT INTO docs (collection, created_at, body) VALUES ('c', 1, x'6f6c64')`)
	raw.Close()

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckDocsMigrated(t, s)
}

// New databases get the larger pages (the import rate depends on them);
// one created with another page size keeps it and still opens.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	pageSizeOf := func(s *DB) int {
		var n int
		if err := s.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := pageSizeOf(s); got != pageSize {
		t.Fatalf("new database page size = %d, want %d", got, pageSize)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}

	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := pageSizeOf(s2); got != 4096 {
		t.Fatalf("existing database page size = %d, want its own 4096", got)
	}
	if _, err := store.Put(ctx, s2, []store.Item{{Key: domain.Key{Kind: domain.KindLead, Source: "s", ID: "l"}, Hash: "h", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
}

// Batches write on one connection of their own, whatever the pool did in
// between, so that its page cache survives from commit to commit. (A
// temporary table is seen only by the connection that made it.)
func TestBatchesKeepTheirConnection(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.(*batch).tx.ExecContext(ctx, `CREATE TEMP TABLE batch_conn (x)`); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	// Readers hold the connections the pool would hand out first.
	var held []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	b, err = s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	var n int
	if err := b.(*batch).tx.QueryRowContext(ctx, `SELECT count(*) FROM temp.sqlite_master WHERE name = 'batch_conn'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the second batch does not see the first one's connection (temporary table found %d times, %v)", n, err)
	}
}

// The checkpointer keeps the WAL short under a steady stream of commits,
// with SQLite's own checkpoint (run inside a commit) turned off. Without
// it the WAL would hold every page written below; with SQLite's default
// it would grow to 1,000 pages (16 MiB) before a commit copied it back.
func TestCheckpointsKeepTheWALShort(t *testing.T) {
	every, limit := checkpointEvery, walLimit
	checkpointEvery, walLimit = time.Millisecond, 8
	defer func() { checkpointEvery, walLimit = every, limit }()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("connections checkpoint every %d pages (%v), want never (0): the checkpointer does it", auto, err)
	}
	body := []byte(`{"note":"` + strings.Repeat("x", 2000) + `"}`)
	wal := filepath.Join(dir, "candor.db-wal")
	const batches, per = 1000, 20
	var most int64
	for i := range batches {
		items := make([]store.Item, per)
		for j := range items {
			items[j] = store.Item{Key: domain.Key{Kind: domain.KindLead, Source: "s", ID: fmt.Sprintf("l%d-%d", i, j)}, Hash: "h", Body: body}
		}
		if _, err := store.Put(ctx, s, items); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(wal); err == nil {
			most = max(most, fi.Size())
		}
		time.Sleep(100 * time.Microsecond) // a stream, not one burst
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A round of the checkpointer syncs two files and may take tens of
	// milliseconds, while this loop writes megabytes: the bound is loose,
	// and still under the 16 MiB (16,777,216 bytes) SQLite's own
	// checkpoint lets the WAL reach.
	written := int64(batches * per * len(body))
	const bound = 16_000_000
	if most > bound {
		t.Errorf("the WAL grew to %d bytes while %d were written; want at most %d", most, written, bound)
	}
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil || n != batches*per {
		t.Fatalf("%d records after reopening (%v), want %d", n, err, batches*per)
	}
}

// The pool's connections keep a small page cache and the batches' own
// connection SQLite's default (readerCacheKiB): the pool's six at the
// default held ~12 MiB outside the Go heap through a large import.
func TestConnectionPageCaches(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	cacheOf := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		var n int
		if err := q.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := cacheOf(s.db); got != -readerCacheKiB {
		t.Errorf("a pool connection's cache_size = %d, want %d", got, -readerCacheKiB)
	}
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	if got := cacheOf(b.(*batch).tx); got != -batchCacheKiB {
		t.Errorf("the batches' connection cache_size = %d, want %d", got, -batchCacheKiB)
	}
}

// A document no ledger entry chains, with an id below the ledger's first
// document (a gap left by a document inserted with a high id, as a restore
// or a hand can leave), is inserted when it was stamped after the ledger's
// first entry; one stamped before reads as older than the ledger.
func TestInsertedBelowTheLedgersFirstDocument(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := time.Now().Add(-time.Hour).UnixNano()
	if _, err := s.db.Exec(`INSERT INTO docs (id, collection, created_at, body) VALUES (100, ?, ?, ?)`, store.AccessCollection, before, []byte(`{"type":"sign_in"}`)); err != nil {
		t.Fatal(err)
	}
	s.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))))
	if _, err := s.AppendDoc(ctx, store.AccessCollection, []byte(`{"type":"sign_in"}`)); err != nil {
		t.Fatal(err)
	}
	for id, at := range map[int64]int64{50: time.Now().UnixNano(), 60: before} {
		if _, err := s.db.Exec(`INSERT INTO docs (id, collection, created_at, body) VALUES (?, ?, ?, ?)`, id, store.AccessCollection, at, []byte(`{"type":"sign_in"}`)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := ledger.VerifyDocs(ctx, s, nil, 0)
	if err != nil || rep.Altered != 1 || rep.First[0].Doc != 50 || rep.First[0].Reason != ledger.DocNotChained {
		t.Errorf("VerifyDocs: %+v, %v; want document 50 named as inserted, 60 and 100 older than the ledger", rep, err)
	}
}
