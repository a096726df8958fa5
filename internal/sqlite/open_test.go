package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/newfile"
	"github.com/candor/candor/internal/store"
)

// Commands started together on a store just created each apply the
// migrations they find missing: one applies each, the others find it
// applied under the write lock and go on (before, a version read as
// missing was applied again, and the open failed: "table … already
// exists").
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		dir := t.TempDir()
		if err := create(ctx, dir+"/candor.db"); err != nil {
			t.Fatal(err)
		}
		openAtOnce(t, dir, round)
	}
}

// A batch needs no pooled connection beyond its own once it holds the
// writer: the INSERTs are prepared before (prepareInserts), so readers
// holding every other connection do not stall it (found by review: an
// INSERT prepared at its first Add waited for a reader's connection with
// the writer held).
func TestBatchNeedsNoOtherConnection(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Begin(ctx) // the batch connection is made, the INSERTs prepared
	if err != nil {
		t.Fatal(err)
	}
	b.Rollback()
	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 5 { // every connection of the pool but the batch's
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err = s.Begin(tctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	var items []store.Item
	for i := range 300 { // INSERTs of several sizes
		items = append(items, store.Item{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: string(rune('a'+i%26)) + string(rune('a'+i/26))}, Hash: "h", Body: []byte(`{}`)})
	}
	if _, err := b.Add(tctx, items); err != nil {
		t.Fatalf("Add with every other connection held: %v", err)
	}
}

// A store a newer build migrated (schema_migrations holds a version this
// build lacks) is refused with both versions named, and the file is left
// as it was: before, an older binary opened it without a word and wrote
// to a schema it did not know.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, "candor.db")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	var newer *store.NewerSchemaError
	if !errors.As(err, &newer) {
		t.Fatalf("Open = %v, want a NewerSchemaError", err)
	}
	if newer.Version != 99 || newer.Known != 22 || newer.Where != path {
		t.Fatalf("error = %+v, want version 99, known 22, at %s", newer, path)
	}
	want := "the store at " + path + " was migrated by a newer Candor (schema version 99, this build knows up to 22): run the newer version, or restore a backup taken before the upgrade"
	if err.Error() != want {
		t.Fatalf("error = %q\nwant %q", err, want)
	}
	if _, err := OpenExisting(ctx, dir); !errors.As(err, &newer) {
		t.Fatalf("OpenExisting = %v, want a NewerSchemaError", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the refused open changed candor.db")
	}
}

// A candor.db that is not a Candor store is refused, by readers and by
// Open alike, and left as it was: before, a zero-byte file (a truncated
// copy) or another application's database was migrated into a new, empty
// Candor store, even by a command that only reads.
func TestNotAStoreRefused(t *testing.T) {
	ctx := context.Background()
	foreign := func(t *testing.T, path string) {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY); CREATE TABLE customers (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"empty file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a Candor store: empty file (a truncated copy or restore?)"},
		{"another application's", foreign, "is not a Candor store: it has tables but no Candor schema (customers, invoices): another application's database?"},
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("name,amount\nann,3\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a Candor store: not an SQLite database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "candor.db")
			c.make(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for name, open := range map[string]func(context.Context, string) (*DB, error){"Open": Open, "OpenExisting": OpenExisting} {
				s, err := open(ctx, dir)
				if err == nil {
					s.Close()
					t.Fatalf("%s opened it", name)
				}
				if !errors.Is(err, ErrNotStore) || err.Error() != path+" "+c.want {
					t.Fatalf("%s = %v\nwant %s %s", name, err, path, c.want)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("the refused file was changed")
			}
		})
	}

	// An SQLite database without tables is what create makes before the
	// first migration: Open makes a store of it, a reader finds none.
	dir := t.TempDir()
	if err := create(ctx, filepath.Join(dir, "candor.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenExisting(ctx, dir); !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "an SQLite database with no Candor schema") {
		t.Fatalf("OpenExisting on a database without tables = %v", err)
	}
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// A store in use, its latest writes still in the WAL, is one.
	if _, err := store.Put(ctx, s, []store.Item{{Key: domain.Key{Kind: domain.KindLead, Source: "s", ID: "l"}, Hash: "h", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenExisting(ctx, dir)
	if err != nil {
		t.Fatalf("OpenExisting on a store in use: %v", err)
	}
	s2.Close()
	s.Close()
}

// A start killed while it makes the store leaves no candor.db — not an
// empty file every later start refused as "a truncated copy or
// restore?", nor one without the schema — only its temporary files,
// which the next start, making the store whole, removes.
func TestKilledCreationLeavesNoStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "candor.db")
	// A creation killed before it wrote anything.
	if err := os.WriteFile(filepath.Join(dir, newfile.TempPrefix(path)+"1"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// One killed when the store was whole but not yet in place.
	beforeLink = func(tmp string) error {
		if err := os.Link(tmp, filepath.Join(dir, newfile.TempPrefix(path)+"2")); err != nil {
			t.Fatal(err)
		}
		return errors.New("killed")
	}
	t.Cleanup(func() { beforeLink = func(string) error { return nil } })
	if s, err := Open(ctx, dir); err == nil {
		s.Close()
		t.Fatal("Open made a store though its creation was stopped")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a stopped creation left %s: %v", path, err)
	}
	if _, err := OpenExisting(ctx, dir); !errors.Is(err, ErrNoStore) {
		t.Fatalf("OpenExisting after a stopped creation = %v, want ErrNoStore", err)
	}

	beforeLink = func(string) error { return nil }
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("the start after a killed creation: %v", err)
	}
	defer s.Close()
	if _, err := store.Put(ctx, s, []store.Item{{Key: domain.Key{Kind: domain.KindLead, Source: "s", ID: "l"}, Hash: "h", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if newfile.IsTemp(path, e.Name()) {
			t.Errorf("%s left beside the store", e.Name())
		}
	}
}

// Commands started together on a new data directory each make the store
// under a name of their own: all open the one put in place first.
func TestConcurrentFirstOpens(t *testing.T) {
	for round := range 5 {
		openAtOnce(t, t.TempDir(), round)
	}
}

// openAtOnce opens the store in dir four times at once, as commands
// started together do, and fails the test for each open that fails.
func openAtOnce(t *testing.T, dir string, round int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(context.Background(), dir)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("round %d: %v", round, err)
	}
}
