// Package sqlite is the embedded default store: a single SQLite file in WAL
// mode through the pure-Go modernc driver, so Candor needs no cgo and no
// set-up.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	sqlite3 "modernc.org/sqlite/lib"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/newfile"
	"github.com/candor/candor/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store.
type DB struct {
	db  *sql.DB
	dir string
	// writer serialises batches inside this process so a short API write
	// queues behind a long import instead of failing on a busy lock.
	writer chan struct{}
	// wrote tells the checkpointer (writer.go) a write was made;
	// stopCheckpoints ends it and checkpointed is closed when it has.
	wrote           chan struct{}
	stopCheckpoints context.CancelFunc
	checkpointed    chan struct{}
	// ClockSlot stamps what the store writes (store.Clocked).
	store.ClockSlot
	// migrations is what this open applied (Migrations).
	migrations store.Migrations
	// The write statements, prepared once: compiling them in every batch
	// cost more than running them when batches are small (an API request
	// with one record). database/sql keeps one compiled copy per pooled
	// connection and hands it to each transaction on that connection.
	lastSeq, update *sql.Stmt
	// inserts are the INSERT statements by rows (insertSizes), prepared
	// before the first batch takes the writer (prepareInserts), under
	// insertsMu: a command that only reads (candor scorecard) spent ~4 ms
	// of its start preparing them.
	inserts   map[int]*sql.Stmt
	insertsMu sync.Mutex
	// A webhook delivery's log row and the look-up for its redelivery.
	logDelivery, countedDelivery *sql.Stmt
	// The reads a stateful webhook mapping makes (the stored record, a
	// kept document), compiled once rather than parsed per delivery.
	getRecord, docByKey, getWithDoc *sql.Stmt
	// batchConn is the connection batches write on (batchTx), guarded by
	// the writer slot.
	batchConn *sql.Conn
	// SealerSlot holds the sealer of ledger entries (SetSealer); none: no
	// ledger.
	store.SealerSlot
	// damage is the first error that found the file damaged (checked).
	damage atomic.Pointer[DamagedError]
	// noRoom is the last error that found the file system full (checked),
	// until a write commits (committed).
	noRoom atomic.Pointer[FullError]
}

var _ store.Store = (*DB)(nil)

// pageSize is the page size of new databases. The default 4 KiB holds
// about ten records a page: an import then spends much of its time
// writing pages one system call each and splitting them. 16 KiB pages
// measured 10–20 % faster imports (and a smaller file) for 10 % fewer
// single-record webhook commits a second, which write whole pages.
const pageSize = 16384

// create makes an empty database with pageSize pages. The page size must
// be set before anything is written, and the driver applies the DSN's
// pragmas in alphabetical order, journal_mode (which writes the header)
// before page_size, hence a connection of its own. An existing database
// keeps the page size it was created with.
func create(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "PRAGMA page_size="+strconv.Itoa(pageSize)+"; PRAGMA journal_mode=WAL")
	return err
}

// dsn is the connection string of the database at path. busy_timeout
// first so the other pragmas survive a concurrent opener; NORMAL sync is
// durable in WAL mode except on power loss of the OS. temp_store(memory)
// keeps statement journals off disk: an insert that may abort halfway
// inside a batch (the delivery log's upsert) would otherwise write one to
// a temporary file on every row. wal_autocheckpoint(0): Candor
// checkpoints in the background (writer.go). cache_size: readerCacheKiB.
func dsn(path string) string {
	return "file:" + path + fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()) + "&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=temp_store(memory)&_pragma=wal_autocheckpoint(0)" +
		fmt.Sprintf("&_pragma=cache_size(-%d)", readerCacheKiB) + "&_txlock=immediate" + dsnMore
}

// A connection's page cache lives outside the Go heap (modernc's C
// allocator) and grows to its cache_size as pages are read. At SQLite's
// default of 2,000 KiB the pool's six connections held ~12 MiB of a
// server's resident set through a large import (docs/performance.md,
// 2026-12-06 16:23–), caching pages the engine reads once (the follower
// scans rows by sequence; every read of a metric is served from memory).
// So the pool's connections keep 512 KiB — an index's upper levels —
// and the batches' connection, whose cache is kept from commit to commit
// for the index pages each group of inserts goes back to (batchTx), keeps
// the default.
const (
	readerCacheKiB = 512
	batchCacheKiB  = 2000
)

// makeStore makes a new store at path whole: created, migrated,
// checkpointed and synced under a temporary name in dir (package
// newfile) and then linked into place. Made at path itself, a start
// killed part way left an empty or schema-less candor.db — a zero-byte
// one every later start refused as "a truncated copy or restore?" — where
// now it leaves no store, and the next start makes one. Processes making
// it at once each make their own and all open the one linked first. The
// temporary files of creations killed before (nothing else reads them)
// are removed once the store is in place.
func makeStore(ctx context.Context, dir, path string) (err error) {
	defer func() {
		if err == nil {
			removeLeftovers(dir, path)
		} else if _, serr := os.Stat(path); serr == nil {
			// Another process made it meanwhile — its link came first, or
			// it removed this one's file as a leftover: open that one.
			err = nil
		} else {
			err = fmt.Errorf("creating %s: %w", path, err)
		}
	}()
	f, err := os.CreateTemp(dir, newfile.TempPrefix(path)+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer removeDB(tmp)
	if err := create(ctx, tmp); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn(tmp))
	if err != nil {
		return err
	}
	s := &DB{db: db, dir: dir}
	err = s.migrate(ctx)
	if err == nil {
		// The schema must be in the file, not in a WAL named after tmp.
		_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.checked(err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := beforeLink(tmp); err != nil {
		return err
	}
	return newfile.Link(tmp, path)
}

// beforeLink runs when a new store is whole under its temporary name,
// before it is linked into place: tests stop the creation there, as a
// process killed at that moment would.
var beforeLink = func(tmp string) error { return nil }

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeDB removes the database at path and its WAL and shared-memory
// files, those that exist.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

// removeLeftovers removes what creations of the store at path killed part
// way left in dir: their temporary databases.
func removeLeftovers(dir, path string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if newfile.IsTemp(path, e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// dsnMore is added to every connection's parameters: tests open a store
// read-only (mode=ro), as a file system or permissions would make it,
// which a test running as root cannot otherwise see.
var dsnMore string

// busyTimeout is how long a write waits for another process's write lock
// before it fails (LockedError); tests shorten it.
var busyTimeout = 10 * time.Second

// ErrNoStore is OpenExisting's error for a directory without a store.
var ErrNoStore = errors.New("no Candor store")

// ErrNotStore is the error for a candor.db that is not a Candor store: an
// empty file, another application's database, not a database at all.
var ErrNotStore = errors.New("not a Candor store")

// OpenExisting is Open for readers: a directory without a store is an
// error wrapping ErrNoStore, not a new empty store (a mistyped --data
// would otherwise create one and show an empty scorecard), and a
// candor.db without Candor's schema is an error wrapping ErrNotStore.
func OpenExisting(ctx context.Context, dir string) (*DB, error) {
	path := filepath.Join(dir, "candor.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		why := "the directory has no candor.db"
		if _, derr := os.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
			why = "no such directory"
		}
		return nil, fmt.Errorf("%w in %s (%s)", ErrNoStore, dir, why)
	}
	return open(ctx, dir, true)
}

// Open opens the store in dir, creating it when there is no candor.db,
// and applies migrations. An existing candor.db that is not a Candor
// store (ErrNotStore) is refused, not turned into one.
func Open(ctx context.Context, dir string) (*DB, error) {
	return open(ctx, dir, false)
}

func open(ctx context.Context, dir string, existing bool) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := probeWritable(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "candor.db")
	// Before the connection below, whose pragmas (journal_mode=WAL) would
	// already write to the file.
	if err := checkStore(ctx, path, existing); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !existing {
		if err := makeStore(ctx, dir, path); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	// Four for readers and other writers, one kept by the batches
	// (batchTx), one for the checkpointer.
	db.SetMaxOpenConns(6)
	// As many kept idle: with database/sql's default of two, concurrent
	// readers (a webhook's redelivery check per request) closed and opened
	// connections all the time — each opening runs the pragmas and
	// prepares the statements again.
	db.SetMaxIdleConns(6)
	s := &DB{db: db, dir: dir, writer: make(chan struct{}, 1), wrote: make(chan struct{}, 1), inserts: map[int]*sql.Stmt{}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		if newer := (*store.NewerSchemaError)(nil); errors.As(err, &newer) {
			return nil, err // names the file already
		}
		if named := s.checked(err); named != err {
			return nil, named // a read-only, full or locked store, named as a write's
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		if named := s.checked(err); named != err {
			return nil, named
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var cctx context.Context
	cctx, s.stopCheckpoints = context.WithCancel(context.Background())
	s.checkpointed = make(chan struct{})
	go s.checkpoints(cctx)
	return s, nil
}

// checkStore refuses a candor.db that is not a Candor store: a zero-byte
// file (a truncated copy or restore, which SQLite would take for a new
// database), a file that is not an SQLite database, or one holding other
// tables but not Candor's. A database with no tables, or with only the
// schema_migrations table migrate creates before its first migration, is
// what create leaves, or a first start interrupted by a build that made
// the store in place: Open goes on to migrate it, but a reader (existing)
// has no store there to read. A missing file is not checked: Open creates
// it.
func checkStore(ctx context.Context, path string, existing bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%s is %w: empty file (a truncated copy or restore?)", path, ErrNotStore)
	}
	// Read-only: the check must not change a file it then refuses.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		if dir := filepath.Dir(path); full(dir, err) {
			return &FullError{Dir: dir, Err: err}
		}
		switch primaryCode(err) {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%s is %w: not an SQLite database", path, ErrNotStore)
		case sqlite3.SQLITE_CORRUPT:
			return &DamagedError{Path: path, Err: err}
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	tables, err := collectNames(rows)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	has := func(name string) bool { return slices.Contains(tables, name) }
	switch {
	case has("schema_migrations") && has("records"):
		return nil
	case len(tables) == 0 || (len(tables) == 1 && has("schema_migrations")):
		if existing {
			return fmt.Errorf("%s is %w: an SQLite database with no Candor schema (a store whose first start was interrupted? candor import or candor serve makes one)", path, ErrNotStore)
		}
		return nil
	}
	shown := tables
	if len(shown) > 3 {
		shown = append(shown[:3:3], "…")
	}
	return fmt.Errorf("%s is %w: it has tables but no Candor schema (%s): another application's database?", path, ErrNotStore, strings.Join(shown, ", "))
}

func collectNames(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

const (
	lastSeqSQL   = `SELECT coalesce(max(seq), 0) FROM records`
	getRecordSQL = `SELECT seq, ingested_at, event_time, hash, body, raw_hash FROM records WHERE kind = ? AND source = ? AND id = ?`
	docByKeySQL  = `SELECT id, created_at, body FROM docs WHERE collection = ? AND key = ?`
	// updateSQL keeps a row's ingestion time when given none (a batch
	// that keeps it: store.IngestKeeper).
	updateSQL = `UPDATE records SET seq = ?, ingested_at = coalesce(?, ingested_at), event_time = ?, hash = ?, body = ?, raw_hash = ?
		WHERE kind = ? AND source = ? AND id = ? AND hash <> ?`
)

// getWithDocSQL is getRecordSQL and docByKeySQL in one row: the columns
// of whichever is missing are NULL.
const getWithDocSQL = `SELECT r.seq, r.ingested_at, r.event_time, r.hash, r.body, r.raw_hash, d.id, d.created_at, d.body
	FROM (SELECT 1) LEFT JOIN records r ON r.kind = ? AND r.source = ? AND r.id = ?
	LEFT JOIN docs d ON d.collection = ? AND d.key = ?`

func (s *DB) prepare(ctx context.Context) error {
	var err error
	if s.lastSeq, err = s.db.PrepareContext(ctx, lastSeqSQL); err != nil {
		return err
	}
	if s.update, err = s.db.PrepareContext(ctx, updateSQL); err != nil {
		return err
	}
	if s.logDelivery, err = s.db.PrepareContext(ctx, logDeliverySQL); err != nil {
		return err
	}
	if s.countedDelivery, err = s.db.PrepareContext(ctx, countedDeliverySQL); err != nil {
		return err
	}
	if s.getRecord, err = s.db.PrepareContext(ctx, getRecordSQL); err != nil {
		return err
	}
	if s.docByKey, err = s.db.PrepareContext(ctx, docByKeySQL); err != nil {
		return err
	}
	if s.getWithDoc, err = s.db.PrepareContext(ctx, getWithDocSQL); err != nil {
		return err
	}
	return nil
}

func (s *DB) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
		<-s.checkpointed
	}
	if s.batchConn != nil {
		s.batchConn.Close()
	}
	s.insertsMu.Lock()
	inserts := slices.Collect(maps.Values(s.inserts))
	s.insertsMu.Unlock()
	for _, st := range append([]*sql.Stmt{s.lastSeq, s.update, s.logDelivery, s.countedDelivery, s.getRecord, s.docByKey, s.getWithDoc}, inserts...) {
		if st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

func (s *DB) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	// The versions applied, read at once: a query per migration was a
	// tenth of a read-only command's start.
	applied := map[int]bool{}
	var appliedList []int
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
		appliedList = append(appliedList, v)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	versions := make([]int, len(names))
	for i, name := range names {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: bad version prefix", name)
		}
		versions[i] = v
	}
	// Before any migration of ours: one applied to a newer schema would
	// write to a store this build cannot read right.
	if err := store.CheckSchemaVersions(filepath.Join(s.dir, "candor.db"), appliedList, versions); err != nil {
		return err
	}
	for _, v := range appliedList {
		s.migrations.From = max(s.migrations.From, v)
	}
	for i, name := range names {
		v := versions[i]
		if applied[v] {
			continue
		}
		body, _ := migrations.ReadFile(name)
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Again under the write lock: another process opening the store
		// at the same time may have applied it since.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			tx.Rollback()
			return err
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, s.Now().UnixNano()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		s.migrations.Applied = append(s.migrations.Applied, v)
	}
	return nil
}

// Migrations is what opening the store applied.
func (s *DB) Migrations() store.Migrations { return s.migrations }

type batch struct {
	s    *DB
	tx   *sql.Tx
	next int64
	// first is the batch's first seq: a row with a seq from it on was
	// written by the batch.
	first int64
	now   int64
	// keep says the records the batch replaces keep their ingestion time
	// (KeepIngested).
	keep    bool
	done    bool
	update  *sql.Stmt
	inserts map[int]*sql.Stmt
	// ledger holds the entries Commit appends (Record).
	ledger []store.LedgerEntry
}

// batchTx begins a batch's transaction on the batches' own connection,
// opening it if need be; the caller holds the writer slot, which guards
// s.batchConn.
//
// Batches keep to one connection so that its page cache survives from one
// commit to the next: SQLite empties a connection's cache when it begins
// a transaction after another connection committed. Over the pool, each
// group commit of webhook deliveries began on whichever connection the
// last read had used, and read back the index pages the commit before had
// just written.
func (s *DB) batchTx(ctx context.Context) (*sql.Tx, error) {
	if s.batchConn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", batchCacheKiB)); err != nil {
			c.Close()
			return nil, err
		}
		s.batchConn = c
	}
	tx, err := s.batchConn.BeginTx(ctx, nil)
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		// The connection broke: the next batch opens another.
		s.batchConn.Close()
		s.batchConn = nil
	}
	return tx, err
}

func (s *DB) Begin(ctx context.Context) (store.Batch, error) {
	b, err := s.begin(ctx)
	return b, s.checked(err)
}

func (s *DB) begin(ctx context.Context) (store.Batch, error) {
	if err := s.prepareInserts(ctx); err != nil {
		return nil, err
	}
	if err := s.take(ctx); err != nil {
		return nil, err
	}
	tx, err := s.batchTx(ctx)
	if err != nil {
		s.give()
		return nil, err
	}
	var last int64
	if err := tx.StmtContext(ctx, s.lastSeq).QueryRowContext(ctx).Scan(&last); err != nil {
		tx.Rollback()
		s.give()
		return nil, err
	}
	return &batch{s: s, tx: tx, next: last + 1, first: last + 1, now: s.Now().UnixNano(), inserts: map[int]*sql.Stmt{}}, nil
}

const insertCols = 9

// chunk is the rows per multi-row INSERT: large enough to amortise the
// statement, well under SQLite's 32766 bound variables.
const chunk = 256

// insertSizes are the rows of the INSERT statements: chunk, then powers of
// two for the rest of an Add. A statement per exact size would be compiled
// again in every batch for every odd-sized Add (importers add one kind's
// share of a chunk at a time), which cost more than the few extra
// executions.
var insertSizes = []int{chunk, 128, 64, 32, 16, 8, 4, 2, 1}

// rowsNext is the rows of the next INSERT for n remaining rows.
func rowsNext(n int) int {
	for _, size := range insertSizes {
		if size <= n {
			return size
		}
	}
	return n
}

func insertSQL(n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT OR IGNORE INTO records (seq, kind, source, id, ingested_at, event_time, hash, body, raw_hash) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?,?,?,?)")
	}
	return sb.String()
}

// prepareInserts prepares the INSERTs not prepared yet. Begin calls it
// before it takes the writer: preparing takes a pooled connection, which
// a batch holding the writer and its transaction must not wait for while
// readers hold the others.
func (s *DB) prepareInserts(ctx context.Context) error {
	s.insertsMu.Lock()
	defer s.insertsMu.Unlock()
	for _, n := range insertSizes {
		if _, ok := s.inserts[n]; ok {
			continue
		}
		st, err := s.db.PrepareContext(ctx, insertSQL(n))
		if err != nil {
			return err
		}
		s.inserts[n] = st
	}
	return nil
}

// insertStmt is the store's INSERT of n rows (prepareInserts).
func (s *DB) insertStmt(n int) (*sql.Stmt, error) {
	s.insertsMu.Lock()
	defer s.insertsMu.Unlock()
	st, ok := s.inserts[n]
	if !ok {
		return nil, fmt.Errorf("no INSERT statement for %d rows", n)
	}
	return st, nil
}

func (b *batch) insertStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st, ok := b.inserts[n]; ok {
		return st, nil
	}
	shared, err := b.s.insertStmt(n)
	if err != nil {
		return nil, err
	}
	st := b.tx.StmtContext(ctx, shared)
	b.inserts[n] = st
	return st, nil
}

// updateStmt is prepared at the first replacement: most batches of new
// records never need it.
// KeepIngested makes the records the batch replaces keep their ingestion
// time (store.IngestKeeper).
func (b *batch) KeepIngested() { b.keep = true }

// WrittenFrom is the batch's first sequence (store.IngestKeeper).
func (b *batch) WrittenFrom() int64 { return b.first }

func (b *batch) updateStmt(ctx context.Context) *sql.Stmt {
	if b.update == nil {
		b.update = b.tx.StmtContext(ctx, b.s.update)
	}
	return b.update
}

func eventArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func (b *batch) Add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	res, err := b.add(ctx, items)
	return res, b.s.checked(err)
}

func (b *batch) add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	var res store.WriteResult
	if b.done {
		return res, errors.New("batch already ended")
	}
	args := make([]any, 0, chunk*insertCols)
	var (
		kind      domain.Kind
		source    string
		kindArg   any = ""
		sourceArg any = ""
		nowArg    any = b.now
	)
	for len(items) > 0 {
		n := rowsNext(len(items))
		part := items[:n]
		items = items[n:]
		args = args[:0]
		first := b.next
		for i, it := range part {
			// Values repeated from row to row are boxed once: each
			// conversion to any is an allocation, and an import makes
			// millions.
			if it.Key.Kind != kind {
				kind, kindArg = it.Key.Kind, string(it.Key.Kind)
			}
			if it.Key.Source != source {
				source, sourceArg = it.Key.Source, it.Key.Source
			}
			args = append(args, first+int64(i), kindArg, sourceArg, it.Key.ID, nowArg, eventArg(it.EventTime), it.Hash, it.Body, it.RawHash)
		}
		st, err := b.insertStmt(ctx, n)
		if err != nil {
			return res, err
		}
		r, err := st.ExecContext(ctx, args...)
		if err != nil {
			return res, err
		}
		b.next += int64(n)
		ins, _ := r.RowsAffected()
		res.Inserted += ins
		if ins == int64(n) {
			continue
		}
		// Some keys existed (or repeat within the chunk): replace those whose
		// content changed. Rows inserted just now carry the same hash, so
		// the hash guard leaves them alone.
		var replaced int64
		upd := b.updateStmt(ctx)
		for _, it := range part {
			if it.Fixed {
				// Read in the writer's transaction, after the rows
				// before it: an earlier occurrence in the batch counts.
				if err := b.checkFixed(ctx, it); err != nil {
					return res, err
				}
			}
			var ingested any = b.now
			if b.keep {
				ingested = nil
			}
			r, err := upd.ExecContext(ctx, b.next, ingested, eventArg(it.EventTime), it.Hash, it.Body, it.RawHash,
				string(it.Key.Kind), it.Key.Source, it.Key.ID, it.Hash)
			if err != nil {
				return res, err
			}
			if k, _ := r.RowsAffected(); k > 0 {
				replaced += k
				b.next++
			}
		}
		res.Replaced += replaced
		res.Unchanged += int64(n) - ins - replaced
	}
	res.Wrote(b.next - 1)
	return res, nil
}

// KeyHashes says, per key, the hash of the record the batch holds under
// it ("" for none), its own writes included: an import tells by it a
// record that repeats one of its earlier chunks' (ingest's keySet). A file
// holding every record twice asks it for each record of its second half,
// so keys go keyHashesRows to a statement: one a key had taken ~6 µs each.
func (b *batch) KeyHashes(ctx context.Context, keys []domain.Key) ([]string, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	out := make([]string, len(keys))
	args := make([]any, 0, 4*keyHashesRows)
	for start := 0; start < len(keys); start += keyHashesRows {
		part := keys[start:min(start+keyHashesRows, len(keys))]
		args = args[:0]
		for i, k := range part {
			args = append(args, start+i, string(k.Kind), k.Source, k.ID)
		}
		rows, err := b.tx.QueryContext(ctx, `WITH k(ord, kind, source, id) AS (VALUES `+
			strings.Repeat("(?, ?, ?, ?), ", len(part)-1)+`(?, ?, ?, ?))
			SELECT k.ord, r.hash FROM k JOIN records r ON r.kind = k.kind AND r.source = k.source AND r.id = k.id`, args...)
		if err != nil {
			return nil, b.s.checked(err)
		}
		for rows.Next() {
			var ord int
			var hash string
			if err := rows.Scan(&ord, &hash); err != nil {
				rows.Close()
				return nil, b.s.checked(err)
			}
			out[ord] = hash
		}
		if err := rows.Close(); err != nil {
			return nil, b.s.checked(err)
		}
		if err := rows.Err(); err != nil {
			return nil, b.s.checked(err)
		}
	}
	return out, nil
}

// keyHashesRows is the keys KeyHashes asks in one statement, within
// SQLite's bound on parameters.
const keyHashesRows = 256

// checkFixed refuses a fixed item whose key is stored with another hash
// (store.Item.Fixed).
func (b *batch) checkFixed(ctx context.Context, it store.Item) error {
	var seq, ing int64
	var ev sql.NullInt64
	var hash, raw string
	var body []byte
	err := b.tx.StmtContext(ctx, b.s.getRecord).QueryRowContext(ctx, string(it.Key.Kind), it.Key.Source, it.Key.ID).
		Scan(&seq, &ing, &ev, &hash, &body, &raw)
	if err != nil || hash == it.Hash {
		return err // no row is not possible: the INSERT just before left one
	}
	return &store.ChangedError{Key: it.Key, InBatch: seq >= b.first, Seq: seq, IngestedAt: time.Unix(0, ing).UTC()}
}

func (b *batch) end() {
	if !b.done {
		b.done = true
		b.s.give()
	}
}

// AddEach is Add in turn: SQLite runs in this process, so there is no
// round trip to save.
func (b *batch) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	return store.AddInTurn(ctx, b, lists)
}

func (b *batch) Record(entries ...store.LedgerEntry) { b.ledger = append(b.ledger, entries...) }

func (b *batch) Commit() error {
	if b.done {
		return errors.New("batch already ended")
	}
	defer b.end()
	if _, err := b.s.appendLedgerTx(context.Background(), b.tx, b.ledger); err != nil {
		b.tx.Rollback()
		return b.s.checked(err)
	}
	return b.s.committed(b.tx.Commit())
}

func (b *batch) Rollback() error {
	if b.done {
		return nil
	}
	defer b.end()
	return b.tx.Rollback()
}

func (s *DB) Scan(ctx context.Context, after int64, fn func(store.Stored) error) (int64, error) {
	rows, err := s.query(ctx, `SELECT `+scanColumns+` FROM records WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return after, err
	}
	last, _, err := eachStored(rows, after, -1, fn)
	return last, err
}

func (s *DB) ScanIngestedBefore(ctx context.Context, t time.Time, fn func(store.Stored) error) error {
	rows, err := s.query(ctx, `SELECT `+scanColumns+` FROM records WHERE ingested_at < ? ORDER BY seq`, t.UnixNano())
	if err != nil {
		return err
	}
	_, _, err = eachStored(rows, 0, -1, fn)
	return err
}

// Tail reads one row more than max, to tell whether there were more.
func (s *DB) Tail(ctx context.Context, after int64, max int, fn func(store.Stored) error) (int64, bool, error) {
	rows, err := s.query(ctx, `SELECT `+scanColumns+` FROM records WHERE seq > ? ORDER BY seq LIMIT ?`, after, max+1)
	if err != nil {
		return after, false, err
	}
	last, more, err := eachStored(rows, after, max, fn)
	return last, more, err
}

// eachStored is store.EachStored over rows (of scanColumns), which it
// closes.
func eachStored(rows checkedRows, after int64, max int, fn func(store.Stored) error) (int64, bool, error) {
	defer rows.Close()
	last, all, err := store.EachStored(rows.Next, func() (store.Stored, error) { return scanStored(rows) }, after, max, fn)
	if err == nil {
		err = rows.Err()
	}
	return last, all && err == nil, err
}

const scanColumns = `seq, kind, source, id, ingested_at, event_time, hash, body, raw_hash`

// scanStored reads a row of scanColumns.
func scanStored(rows store.RowScanner) (store.Stored, error) {
	var r store.Stored
	var kind string
	var ing int64
	var ev sql.NullInt64
	if err := rows.Scan(&r.Seq, &kind, &r.Key.Source, &r.Key.ID, &ing, &ev, &r.Hash, &r.Body, &r.RawHash); err != nil {
		return r, err
	}
	r.Key.Kind = domain.Kind(kind)
	r.IngestedAt = time.Unix(0, ing).UTC()
	if ev.Valid {
		r.EventTime = time.Unix(0, ev.Int64).UTC()
	}
	return r, nil
}

func (s *DB) Get(ctx context.Context, key domain.Key) (store.Stored, error) {
	r := store.Stored{Key: key}
	var ing int64
	var ev sql.NullInt64
	err := s.stmtRow(ctx, s.getRecord, string(key.Kind), key.Source, key.ID).Scan(&r.Seq, &ing, &ev, &r.Hash, &r.Body, &r.RawHash)
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.IngestedAt = time.Unix(0, ing).UTC()
	if ev.Valid {
		r.EventTime = time.Unix(0, ev.Int64).UTC()
	}
	return r, nil
}

func (s *DB) Counts(ctx context.Context) (map[domain.Kind]int64, error) {
	rows, err := s.query(ctx, `SELECT kind, count(*) FROM records GROUP BY kind`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[domain.Kind]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[domain.Kind(k)] = n
	}
	return out, rows.Err()
}

func (s *DB) LastSeq(ctx context.Context) (int64, error) {
	var n int64
	err := s.stmtRow(ctx, s.lastSeq).Scan(&n)
	return n, err
}

// AppendDoc takes the writer slot like a batch, so an append made while an
// import runs queues behind it instead of failing on SQLite's busy lock.
func (s *DB) AppendDoc(ctx context.Context, collection string, body []byte) (store.Doc, error) {
	if err := store.CheckDoc(collection, body); err != nil {
		return store.Doc{}, err
	}
	d, _, err := s.appendDoc(ctx, collection, "", body)
	return d, err
}

// AppendDocOnce relies on the unique index on (collection, key), not on the
// writer slot: the slot only serialises this process, and another process
// may share the file.
func (s *DB) AppendDocOnce(ctx context.Context, collection, key string, body []byte) (store.Doc, bool, error) {
	if err := store.CheckKeyedDoc(collection, key, body); err != nil {
		return store.Doc{}, false, err
	}
	return s.appendDoc(ctx, collection, key, body)
}

// appendDoc appends a document; key "" is stored as NULL, which the unique
// index lets repeat.
func (s *DB) appendDoc(ctx context.Context, collection, key string, body []byte) (d store.Doc, added bool, err error) {
	err = s.exclusive(ctx, func() (err error) {
		d, added, err = s.appendDocHeld(ctx, collection, key, body)
		return err
	})
	return d, added, err
}

// insertDocSQL appends a document unless its key is taken, returning its
// id (no row when taken).
const insertDocSQL = `INSERT INTO docs (collection, key, created_at, body) VALUES (?, ?, ?, ?)
	ON CONFLICT (collection, key) DO NOTHING RETURNING id`

// AppendDocsOnce appends keyed documents in the batch's transaction
// (store.Batch); the ledger entries of a chained collection's are
// appended with the batch's at its commit.
func (b *batch) AppendDocsOnce(ctx context.Context, docs []store.KeyedDoc) ([]bool, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	created := make([]bool, len(docs))
	for i, kd := range docs {
		if err := store.CheckKeyedDoc(kd.Collection, kd.Key, kd.Body); err != nil {
			return nil, err
		}
		d := store.Doc{Collection: kd.Collection, Key: kd.Key, CreatedAt: time.Unix(0, b.now).UTC(), Body: kd.Body}
		err := b.tx.QueryRowContext(ctx, insertDocSQL, d.Collection, d.Key, b.now, d.Body).Scan(&d.ID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, b.s.checked(err)
		}
		created[i] = true
		entries, err := b.s.DocEntries(d)
		if err != nil {
			return nil, err
		}
		b.ledger = append(b.ledger, entries...)
	}
	return created, nil
}

// appendDocHeld is appendDoc's work, the writer slot held.
func (s *DB) appendDocHeld(ctx context.Context, collection, key string, body []byte) (store.Doc, bool, error) {
	var k any
	if key != "" {
		k = key
	}
	d := store.Doc{Collection: collection, Key: key, CreatedAt: time.Unix(0, s.Now().UnixNano()).UTC(), Body: append([]byte(nil), body...)}
	// A transaction, so a document of a chained collection is never kept
	// without its ledger entry.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Doc{}, false, err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, insertDocSQL, collection, k, d.CreatedAt.UnixNano(), body).Scan(&d.ID)
	if err == nil {
		if err = s.docLedgerTx(ctx, tx, d); err == nil {
			err = tx.Commit()
		}
		if err != nil {
			return store.Doc{}, false, err
		}
		return d, true, nil
	}
	tx.Rollback()
	if !errors.Is(err, sql.ErrNoRows) || key == "" {
		return store.Doc{}, false, err
	}
	// The key is taken. Documents are never deleted, so it stays taken and
	// this finds its document.
	d = store.Doc{Collection: collection, Key: key}
	var created int64
	err = s.queryRow(ctx, `SELECT id, created_at, body FROM docs WHERE collection = ? AND key = ?`, collection, key).
		Scan(&d.ID, &created, &d.Body)
	if err != nil {
		return store.Doc{}, false, fmt.Errorf("reading the document with key %q: %w", key, err)
	}
	d.CreatedAt = time.Unix(0, created).UTC()
	return d, false, nil
}

// GetWithDoc is Get and DocByKey in one statement (store.RecordDocGetter).
func (s *DB) GetWithDoc(ctx context.Context, key domain.Key, collection, docKey string) (store.RecordWithDoc, error) {
	var row store.RecordDocRow
	if err := s.stmtRow(ctx, s.getWithDoc, string(key.Kind), key.Source, key.ID, collection, store.DocKeyArg(docKey)).
		Scan(&row.Seq, &row.IngestedAt, &row.EventTime, &row.Hash, &row.Body, &row.RawHash, &row.DocID, &row.DocCreatedAt, &row.DocBody); err != nil {
		return store.RecordWithDoc{}, err
	}
	return row.Result(key, collection, docKey), nil
}

func (s *DB) DocByKey(ctx context.Context, collection, key string) (store.Doc, bool, error) {
	if key == "" {
		return store.Doc{}, false, nil // unkeyed documents are not found by key
	}
	d := store.Doc{Collection: collection, Key: key}
	var created int64
	err := s.stmtRow(ctx, s.docByKey, collection, key).Scan(&d.ID, &created, &d.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Doc{}, false, nil
	}
	if err != nil {
		return store.Doc{}, false, err
	}
	d.CreatedAt = time.Unix(0, created).UTC()
	return d, true, nil
}

// DocByID implements store.DocByIDReader.
func (s *DB) DocByID(ctx context.Context, collection string, id int64) (store.Doc, bool, error) {
	d := store.Doc{Collection: collection, ID: id}
	var created int64
	var key sql.NullString
	err := s.queryRow(ctx, `SELECT created_at, key, body FROM docs WHERE id = ? AND collection = ?`, id, collection).Scan(&created, &key, &d.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Doc{}, false, nil
	}
	if err != nil {
		return store.Doc{}, false, err
	}
	d.Key, d.CreatedAt = key.String, time.Unix(0, created).UTC()
	return d, true, nil
}

// DocsBefore implements store.DocsBeforeReader (store.DocsBefore makes
// before positive).
func (s *DB) DocsBefore(ctx context.Context, collection string, before int64, limit int) ([]store.Doc, error) {
	rows, err := s.query(ctx, `SELECT id, created_at, coalesce(key, ''), body FROM docs
		WHERE collection = ? AND id < ? ORDER BY id DESC LIMIT ?`, collection, before, limit)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, collection)
}

// DocsByKeyPrefix implements store.KeyPrefixReader.
func (s *DB) DocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64, limit int) ([]store.Doc, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	end := store.PrefixEnd(prefix)
	rows, err := s.query(ctx, `SELECT id, created_at, key, body FROM docs
		WHERE collection = ? AND key >= ? AND (? = '' OR key < ?) AND id > ? ORDER BY id DESC LIMIT ?`, collection, prefix, end, end, after, limit)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, collection)
}

// CountDocsByKeyPrefix implements store.KeyPrefixReader.
func (s *DB) CountDocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64) (int64, error) {
	end := store.PrefixEnd(prefix)
	var n int64
	err := s.queryRow(ctx, `SELECT count(*) FROM docs WHERE collection = ? AND key >= ? AND (? = '' OR key < ?) AND id > ?`,
		collection, prefix, end, end, after).Scan(&n)
	return n, err
}

func (s *DB) Docs(ctx context.Context, collection string, limit int) ([]store.Doc, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.query(ctx, `SELECT id, created_at, coalesce(key, ''), body FROM docs WHERE collection = ? ORDER BY id DESC LIMIT ?`, collection, limit)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, collection)
}

// scanDocs reads rows of id, created_at, key and body, which it closes.
func scanDocs(rows checkedRows, collection string) ([]store.Doc, error) {
	defer rows.Close()
	out := []store.Doc{}
	for rows.Next() {
		d := store.Doc{Collection: collection}
		var created int64
		if err := rows.Scan(&d.ID, &created, &d.Key, &d.Body); err != nil {
			return nil, err
		}
		d.CreatedAt = time.Unix(0, created).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// probeWritable refuses a data directory this process cannot write, before
// SQLite opens the store: it writes there even to read (the write-ahead
// log, its index and locks), and said only "attempt to write a readonly
// database (1544)" — of a directory owned by another user, a read-only
// mount, or a candor.db without write permission.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".candor-probe-*")
	if err == nil {
		f.Close()
		os.Remove(f.Name())
		f, err = os.OpenFile(filepath.Join(dir, "candor.db"), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			f.Close()
			return nil
		}
	}
	return notWritable(dir, err)
}

// notWritable words a refusal to write in the data directory: which, by
// whom, and that reading needs it too. Other errors pass unchanged.
func notWritable(dir string, err error) error {
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return err
	}
	who := "this user"
	if uid := os.Getuid(); uid >= 0 {
		who = fmt.Sprintf("this user (uid %d)", uid)
	}
	return fmt.Errorf("data directory %s: not writable by %s (%v): Candor writes there even to read the store (its write-ahead log and locks); give the user write access to the directory and its candor.db", dir, who, err)
}
