package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// damageStore writes n records to a new store in dir and closes it.
func damageStore(t *testing.T, dir string, n int) []store.Item {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items := make([]store.Item, n)
	for i := range items {
		items[i] = store.Item{Key: domain.Key{Kind: domain.KindLead, Source: "s", ID: fmt.Sprintf("lead-%06d", i)}, Hash: "h",
			Body: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", 200)))}
	}
	if _, err := store.Put(ctx, s, items); err != nil {
		t.Fatal(err)
	}
	return items
}

// A damaged index: the store opens and reads, but a write that reaches the
// index fails naming the file and what to do, where SQLite says only
// "database disk image is malformed"; and the store says it is damaged
// from then on (Damaged, which /healthz asks).
func TestDamagedIndexIsNamed(t *testing.T) {
	dir := t.TempDir()
	items := damageStore(t, dir, 3000)
	sqlitetest.Corrupt(t, dir, "records_key")
	ctx := context.Background()
	s, err := sqlite.OpenExisting(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.LastSeq(ctx); err != nil || n != 3000 {
		t.Fatalf("LastSeq = %d, %v; want the store to read", n, err)
	}
	if err := s.Damaged(); err != nil {
		t.Fatalf("damaged before any statement met the damage: %v", err)
	}
	for i := range items {
		items[i].Hash = "changed"
	}
	_, err = store.Put(ctx, s, items)
	var de *sqlite.DamagedError
	path := filepath.Join(dir, "candor.db")
	if !errors.As(err, &de) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "PRAGMA integrity_check") ||
		!strings.Contains(err.Error(), "docs/backups.md") || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("writing over a damaged index: %v; want a DamagedError naming %s, the check and the restore", err, path)
	}
	if err := s.Damaged(); !errors.As(err, &de) {
		t.Errorf("Damaged after the failed write = %v", err)
	}
}

// Damaged record pages fail the read that loads the data, naming the file.
func TestDamagedRecordsAreNamed(t *testing.T) {
	dir := t.TempDir()
	items := damageStore(t, dir, 3000)
	sqlitetest.Corrupt(t, dir, "records")
	ctx := context.Background()
	s, err := sqlite.OpenExisting(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Scan(ctx, 0, func(store.Stored) error { return nil })
	var de *sqlite.DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), filepath.Join(dir, "candor.db")) {
		t.Fatalf("Scan of damaged records: %v; want a DamagedError naming the file", err)
	}
	// A record read by its key (a webhook's check of what it replaces)
	// names the damage as well, where SQLite's bare error had left
	// Damaged, and so /healthz, unaware.
	var got error
	for _, it := range items {
		if _, err := s.Get(ctx, it.Key); err != nil {
			got = err
			break
		}
	}
	if !errors.As(got, &de) {
		t.Errorf("Get of a damaged record: %v; want a DamagedError", got)
	}
}

// Every write outside a batch goes through the writer slot's damage check:
// a damaged index of the deliveries' log — the server's most frequent write,
// which had taken the slot by itself — is named and marks the store damaged.
func TestDamagedDeliveriesAreNamed(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		d := store.Delivery{Source: "github", DeliveryID: fmt.Sprintf("delivery-%06d-%s", i, strings.Repeat("x", 60)), ReceivedAt: at, Outcome: store.DeliveryAccepted, Event: "push"}
		if _, _, err := s.LogDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	sqlitetest.Corrupt(t, dir, "deliveries_counted")
	if s, err = sqlite.OpenExisting(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var de *sqlite.DamagedError
	for i := range 3000 {
		d := store.Delivery{Source: "github", DeliveryID: fmt.Sprintf("delivery-%06d-%s", i, strings.Repeat("y", 60)), ReceivedAt: at, Outcome: store.DeliveryAccepted, Event: "push"}
		if _, _, err = s.LogDelivery(ctx, d); err != nil {
			break
		}
	}
	if !errors.As(err, &de) || s.Damaged() == nil {
		t.Fatalf("logging deliveries over a damaged index: %v (store damaged: %v)", err, s.Damaged())
	}
}

// A store its account may not write (a read-only directory or file
// system, another owner's files): a write fails naming the file, the
// account and what to check, where SQLite says only "attempt to write a
// readonly database"; it is not damage, and reads go on.
func TestReadOnlyStoreIsNamed(t *testing.T) {
	dir := t.TempDir()
	items := damageStore(t, dir, 10)
	defer sqlite.SetDSNMore("&mode=ro")()
	ctx := context.Background()
	s, err := sqlite.OpenExisting(ctx, dir)
	var ro *sqlite.ReadOnlyError
	if err == nil {
		defer s.Close()
		if n, err := s.LastSeq(ctx); err != nil || n != 10 {
			t.Fatalf("LastSeq = %d, %v; want the store to read", n, err)
		}
		items[0].Hash = "changed"
		_, err = store.Put(ctx, s, items[:1])
		if s.Damaged() != nil {
			t.Errorf("a read-only store reported damaged: %v", s.Damaged())
		}
	}
	if !errors.As(err, &ro) || !strings.Contains(err.Error(), filepath.Join(dir, "candor.db")) ||
		!strings.Contains(err.Error(), "readonly") || !strings.Contains(err.Error(), "check their owner and permissions (ls -l "+dir+")") {
		t.Fatalf("writing a read-only store: %v; want a ReadOnlyError naming the file and what to check", err)
	}
}

// A store whose file system is full: a write fails naming the file and
// where room ran out, where SQLite says only "database or disk is full";
// nothing of the failed batch is kept, it is not damage, and reads go on.
// SQLite's max_page_count stands in for the full disk: it refuses to grow
// the file with the same SQLITE_FULL.
func TestFullStoreIsNamed(t *testing.T) {
	dir := t.TempDir()
	items := damageStore(t, dir, 10)
	fi, err := os.Stat(filepath.Join(dir, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.SetDSNMore(fmt.Sprintf("&_pragma=max_page_count(%d)", fi.Size()/16384+4))()
	ctx := context.Background()
	s, err := sqlite.OpenExisting(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	more := make([]store.Item, 3000)
	for i := range more {
		more[i] = store.Item{Key: domain.Key{Kind: domain.KindLead, Source: "s", ID: fmt.Sprintf("more-%06d", i)}, Hash: "h",
			Body: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("y", 400)))}
	}
	_, err = store.Put(ctx, s, more)
	var fe *sqlite.FullError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), filepath.Join(dir, "candor.db")) ||
		!strings.Contains(err.Error(), "full") || !strings.Contains(err.Error(), "df -h "+dir) {
		t.Fatalf("writing a full store: %v; want a FullError naming the file and where to free space", err)
	}
	if s.Damaged() != nil {
		t.Errorf("a full store reported damaged: %v", s.Damaged())
	}
	if n, err := s.LastSeq(ctx); err != nil || n != int64(len(items)) {
		t.Fatalf("after the failed write LastSeq = %d, %v; want the %d rows before it and none of it", n, err, len(items))
	}
	// Full says so (/healthz) until a write commits again: here one small
	// enough for the room left.
	if !errors.As(s.Full(), &fe) {
		t.Errorf("Full after a write found no room = %v", s.Full())
	}
	if _, err := store.Put(ctx, s, more[:1]); err != nil {
		t.Fatal(err)
	}
	if s.Full() != nil {
		t.Errorf("Full after a write committed = %v; want nil", s.Full())
	}
}

// A store opened on a full file system fails naming it as a write does,
// where it said "DATA/candor.db: database or disk is full (13)" (a new
// store's migrations) or, restarted with no room for the -shm file WAL
// needs, "disk I/O error (4874)" (checked by hand on a full tmpfs).
func TestFullStoreOpenIsNamed(t *testing.T) {
	dir := t.TempDir()
	defer sqlite.SetDSNMore("&_pragma=max_page_count(2)")()
	s, err := sqlite.Open(context.Background(), dir)
	if err == nil {
		s.Close()
	}
	var fe *sqlite.FullError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), filepath.Join(dir, "candor.db")) {
		t.Fatalf("opening a store with no room: %v; want a FullError naming the file", err)
	}
}

// A store another process holds the write lock of past busy_timeout (an
// sqlite3 session left in a transaction): a write fails naming the file
// and what to look for, where SQLite says only "database is locked";
// nothing of it is kept, it is not damage, and reads go on.
func TestLockedStoreIsNamed(t *testing.T) {
	dir := t.TempDir()
	items := damageStore(t, dir, 10)
	path := filepath.Join(dir, "candor.db")
	ctx := context.Background()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, "ROLLBACK")
	defer sqlite.SetBusyTimeout(50 * time.Millisecond)()
	s, err := sqlite.OpenExisting(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items[0].Hash = "changed"
	_, err = store.Put(ctx, s, items[:1])
	var le *sqlite.LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "fuser "+path) {
		t.Fatalf("writing a store another process holds: %v; want a LockedError naming the file and how to find the holder", err)
	}
	if s.Damaged() != nil {
		t.Errorf("a locked store reported damaged: %v", s.Damaged())
	}
	if n, err := s.LastSeq(ctx); err != nil || n != int64(len(items)) {
		t.Fatalf("LastSeq = %d, %v; want the store to read", n, err)
	}
}

// Every read of the store names the damage as a write does and marks the
// store damaged (/healthz): the counts by kind, the silences, the
// documents' and the deliveries' reads, and the others, had returned
// SQLite's bare "database disk image is malformed".
func TestDamagedReadsAreNamed(t *testing.T) {
	dir := t.TempDir()
	damageStore(t, dir, 10)
	sqlitetest.CorruptAll(t, dir, "schema_migrations")
	ctx := context.Background()
	key := domain.Key{Kind: domain.KindLead, Source: "s", ID: "lead-000001"}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	reads := []struct {
		name string
		read func(s *sqlite.DB) error
	}{
		{"Scan", func(s *sqlite.DB) error {
			_, err := s.Scan(ctx, 0, func(store.Stored) error { return nil })
			return err
		}},
		{"Tail", func(s *sqlite.DB) error {
			_, _, err := s.Tail(ctx, 0, 5, func(store.Stored) error { return nil })
			return err
		}},
		{"Get", func(s *sqlite.DB) error { _, err := s.Get(ctx, key); return err }},
		{"Counts", func(s *sqlite.DB) error { _, err := s.Counts(ctx); return err }},
		{"LastSeq", func(s *sqlite.DB) error { _, err := s.LastSeq(ctx); return err }},
		{"Docs", func(s *sqlite.DB) error { _, err := s.Docs(ctx, "c", 0); return err }},
		{"DocByKey", func(s *sqlite.DB) error { _, _, err := s.DocByKey(ctx, "c", "k"); return err }},
		{"DocsByKeyPrefix", func(s *sqlite.DB) error { _, err := s.DocsByKeyPrefix(ctx, "c", "k", 0, 10); return err }},
		{"CountDocsByKeyPrefix", func(s *sqlite.DB) error { _, err := s.CountDocsByKeyPrefix(ctx, "c", "k", 0); return err }},
		{"GetWithDoc", func(s *sqlite.DB) error { _, err := s.GetWithDoc(ctx, key, "c", "k"); return err }},
		{"CountedDelivery", func(s *sqlite.DB) error { _, err := s.CountedDelivery(ctx, "github", "d"); return err }},
		{"Deliveries", func(s *sqlite.DB) error { _, err := s.Deliveries(ctx, store.DeliveryFilter{}); return err }},
		{"KeptPayloads", func(s *sqlite.DB) error {
			return s.KeptPayloads(ctx, "github", time.Time{}, func(store.Delivery) error { return nil })
		}},
		{"DeliveryStats", func(s *sqlite.DB) error { _, err := s.DeliveryStats(ctx, "github", time.Time{}, at); return err }},
		{"Alerts", func(s *sqlite.DB) error { _, err := s.Alerts(ctx); return err }},
		{"Silences", func(s *sqlite.DB) error { _, err := s.Silences(ctx); return err }},
		{"Notifications", func(s *sqlite.DB) error { _, err := s.Notifications(ctx, 10); return err }},
		{"DueNotifications", func(s *sqlite.DB) error { _, err := s.DueNotifications(ctx, at, 10); return err }},
		{"UserByID", func(s *sqlite.DB) error { _, err := s.UserByID(ctx, 1); return err }},
		{"UserByEmail", func(s *sqlite.DB) error { _, err := s.UserByEmail(ctx, "a@example.com"); return err }},
		{"Users", func(s *sqlite.DB) error { _, err := s.Users(ctx); return err }},
		{"SessionUser", func(s *sqlite.DB) error { _, _, err := s.SessionUser(ctx, "h"); return err }},
		{"TokenByLookup", func(s *sqlite.DB) error { _, err := s.TokenByLookup(ctx, "l"); return err }},
		{"Tokens", func(s *sqlite.DB) error { _, err := s.Tokens(ctx); return err }},
		{"ShareByLookup", func(s *sqlite.DB) error { _, err := s.ShareByLookup(ctx, "l"); return err }},
		{"Shares", func(s *sqlite.DB) error { _, err := s.Shares(ctx); return err }},
		{"SyncCursors", func(s *sqlite.DB) error { _, err := s.SyncCursors(ctx, "github"); return err }},
		{"SyncRuns", func(s *sqlite.DB) error { _, err := s.SyncRuns(ctx, store.SyncRunFilter{}); return err }},
		{"Opens", func(s *sqlite.DB) error { _, err := s.Opens(ctx, "2026-W01", "2026-W52"); return err }},
		{"OpensBegan", func(s *sqlite.DB) error { _, err := s.OpensBegan(ctx); return err }},
		{"ScanIngestedBefore", func(s *sqlite.DB) error {
			return s.ScanIngestedBefore(ctx, at, func(store.Stored) error { return nil })
		}},
		{"LedgerHead", func(s *sqlite.DB) error { _, err := s.LedgerHead(ctx); return err }},
		{"LedgerLast", func(s *sqlite.DB) error { _, err := s.LedgerLast(ctx); return err }},
		{"LedgerScan", func(s *sqlite.DB) error { return s.LedgerScan(ctx, 1, 0, func(store.LedgerRow) error { return nil }) }},
		{"LedgerSeqs", func(s *sqlite.DB) error { _, _, err := s.LedgerSeqs(ctx, time.Time{}, at); return err }},
	}
	path := filepath.Join(dir, "candor.db")
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			// A store of its own, opened after the damage: Damaged must
			// be set by this read, not by an earlier one.
			s, err := sqlite.OpenExisting(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = r.read(s)
			var de *sqlite.DamagedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s of a damaged store: %v; want a DamagedError naming %s", r.name, err, path)
			}
			if s.Damaged() == nil {
				t.Errorf("%s met the damage and the store does not say it is damaged", r.name)
			}
		})
	}
}
