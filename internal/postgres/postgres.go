// Package postgres is the store for installations that run several Candor
// instances against one database, or outgrow one SQLite file: PostgreSQL
// through pgx, with exactly the semantics of the SQLite store (the shared
// contract suite in storetest is the judge).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys. They are per database and must be the same in every
// Candor version that may share one, so never change them. ("cand" in
// ASCII, then the purpose.)
const (
	migrateLockKey int64 = 0x63616e64_00000001
	writerLockKey  int64 = 0x63616e64_00000002
)

// DB is the PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool
	// writer queues this process's batches before they reach the database
	// lock, so a waiting Begin does not pin a pooled connection and its
	// context is honoured without a server round trip.
	writer chan struct{}
	// ClockSlot stamps what the store writes (store.Clocked).
	store.ClockSlot
	// migrations is what this open applied (Migrations).
	migrations store.Migrations
	// SealerSlot holds the sealer of ledger entries (SetSealer); none: no
	// ledger.
	store.SealerSlot
	// newCopies counts the chunks copyNew wrote, so tests know that path
	// was taken.
	newCopies atomic.Int64
}

var _ store.Store = (*DB)(nil)

// StreamChunk asks a streaming import for 16,384 records at a time
// (ingest.StreamChunker): split by kind, the larger kinds' parts then
// reach the COPY path (copyMinRows) instead of a statement per few
// hundred rows.
func (s *DB) StreamChunk() int { return 16384 }

// ErrNoSchema is OpenExisting's error for a database without Candor's
// tables.
var ErrNoSchema = errors.New("no Candor schema")

// Open connects to the database at url (postgres://user:pass@host/db or
// key=value form) and applies migrations, creating the schema in a
// database without one (a first deployment). Several instances may open
// the same database at once.
func Open(ctx context.Context, url string) (*DB, error) {
	return openDB(ctx, url, false)
}

// OpenExisting is Open for readers: a database without Candor's schema is
// an error wrapping ErrNoSchema, not a new empty store (a mistyped
// database name would otherwise get the whole schema and show an empty
// scorecard).
func OpenExisting(ctx context.Context, url string) (*DB, error) {
	return openDB(ctx, url, true)
}

// DefaultConnectTimeout bounds a connection's set-up (TCP, TLS, sign-in)
// when the URL gives no connect_timeout.
var DefaultConnectTimeout = 10 * time.Second

func openDB(ctx context.Context, url string, existing bool) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password from its parse errors.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// pgx waits for ever on a server that takes the connection and
		// never answers (a paused or hung database, a half-open
		// network): `candor serve` had listened without answering, not
		// even a 503, and commands hung. connect_timeout in the URL sets
		// another bound.
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	classifyUnreachable(&cfg.ConnConfig.Config)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &DB{pool: pool, writer: make(chan struct{}, 1)}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if existing {
		var has bool
		err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL AND to_regclass('records') IS NOT NULL`).Scan(&has)
		if err == nil && !has {
			err = fmt.Errorf("the database has %w: check the database name, or run candor import or candor serve on it to create the store", ErrNoSchema)
		}
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres %s: %w", where, classify(err))
		}
	}
	if err := s.migrate(ctx, where); err != nil {
		pool.Close()
		if newer := (*store.NewerSchemaError)(nil); errors.As(err, &newer) {
			return nil, err // names the database already
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" {
			// From PostgreSQL 15 on only the database's owner may create
			// in its public schema unless granted.
			err = fmt.Errorf("%w; %s", err, notOwnedHint(cfg.ConnConfig.Database, cfg.ConnConfig.User))
		}
		// Classified: candor serve waits for a database that cannot be
		// reached yet (or refuses the sign-in) rather than exiting.
		return nil, fmt.Errorf("postgres %s: %w", where, classify(err))
	}
	return s, nil
}

// notOwnedHint says what a role that may not create in the database's
// schema needs, with the database's and the role's names filled in as
// docs/postgres.md shows them (it had written "ALTER DATABASE … OWNER TO
// …").
func notOwnedHint(database, role string) string {
	return fmt.Sprintf("the role needs to own the database (ALTER DATABASE %s OWNER TO %s) or have CREATE on its schema (GRANT CREATE ON SCHEMA public TO %[2]s): see docs/postgres.md",
		sqlName(database), sqlName(role))
}

// sqlName writes an identifier as SQL takes it: bare when PostgreSQL
// would not fold or refuse it (candor, candor_guest), quoted otherwise
// ("Candor", "candor-prod"); … when it is not known.
func sqlName(s string) string {
	if s == "" {
		return "…"
	}
	if bareName.MatchString(s) && !slices.Contains(reservedNames, s) {
		return s
	}
	return pgx.Identifier{s}.Sanitize()
}

// bareName is an identifier PostgreSQL reads as written, unquoted.
var bareName = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// reservedNames are the reserved words a database or role is likeliest
// to be named, which must be quoted.
var reservedNames = []string{"user", "all", "default", "grant", "public", "select", "table", "to", "on", "order", "group"}

// classifyUnreachable makes the failures to reach the server — looking
// its host up, dialling it, a deadline met meanwhile — a
// *store.UnreachableError, found in the chain of the error every query
// returns while the pool cannot connect (pgconn wraps the dial's error). A
// server that answers and refuses the connection (a wrong password, too
// many connections) is classified where its error is read (Classify).
func classifyUnreachable(c *pgconn.Config) {
	dial, lookup := c.DialFunc, c.LookupFunc
	c.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, &store.UnreachableError{Err: err, Reason: "the connection failed", Inner: true}
		}
		return conn, nil
	}
	c.LookupFunc = func(ctx context.Context, host string) ([]string, error) {
		addrs, err := lookup(ctx, host)
		if err != nil {
			return nil, &store.UnreachableError{Err: err, Reason: "the host name did not resolve", Inner: true}
		}
		return addrs, nil
	}
}

// closeWait bounds how long Close waits for an open batch or scan.
const closeWait = 5 * time.Second

// Close closes the pool once open batches and scans have ended. It gives
// up waiting after closeWait, so a caller that leaked a batch (a test that
// failed halfway, say) gets an error instead of hanging; that batch's
// connection is then closed when the batch ends.
func (s *DB) Close() error {
	done := make(chan struct{})
	go func() {
		s.pool.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(closeWait):
		return errors.New("postgres: closed while a batch or scan was still open")
	}
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, all in one transaction. Two instances starting at
// once would both find a version missing and both apply it; the advisory
// lock makes the second wait and then find nothing to do.
func (s *DB) migrate(ctx context.Context, where string) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
		return err
	}
	// A database without Candor's migration table is a new store only if
	// its schema is empty: another application's (a "records" table of
	// its own) had failed halfway with `relation "records" already
	// exists`, which did not say whose the tables were.
	if err := checkForeign(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	// A separate statement from the lock: in READ COMMITTED its snapshot is
	// taken after the lock is granted, so it sees what the instance we
	// waited for committed.
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	versions := make([]int, len(names))
	for i, name := range names {
		v, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: bad version prefix", name)
		}
		versions[i] = v
	}
	// Before any migration of ours (the transaction is rolled back): one
	// applied to a newer schema would write to a database this build
	// cannot read right.
	if err := store.CheckSchemaVersions(where, applied, versions); err != nil {
		return err
	}
	var m store.Migrations
	for _, v := range applied {
		m.From = max(m.From, v)
	}
	for i, name := range names {
		v := versions[i]
		if done[v] {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		// No arguments: pgx sends it with the simple protocol, which allows
		// several statements in one file.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
			return err
		}
		m.Applied = append(m.Applied, v)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.migrations = m
	return nil
}

// Migrations is what opening the store applied.
func (s *DB) Migrations() store.Migrations { return s.migrations }

// ForeignError is a database whose schema holds tables but not Candor's
// migration table: another application's, which Candor will not write
// into.
type ForeignError struct {
	Schema string
	Tables []string // the first few, sorted
	Count  int
}

func (e *ForeignError) Error() string {
	names := strings.Join(e.Tables, ", ")
	if e.Count > len(e.Tables) {
		names += fmt.Sprintf(" and %d more", e.Count-len(e.Tables))
	}
	return fmt.Sprintf("the database is not empty and not Candor's: schema %s has %d tables (%s) and no schema_migrations table; give Candor a database of its own (CREATE DATABASE candor OWNER candor), see docs/postgres.md", e.Schema, e.Count, names)
}

// checkForeign refuses a database whose current schema (where Candor
// creates its tables) has tables or views but no schema_migrations.
func checkForeign(ctx context.Context, tx pgx.Tx) error {
	var schema string
	var ours bool
	if err := tx.QueryRow(ctx, `SELECT coalesce(current_schema(), ''), to_regclass('schema_migrations') IS NOT NULL`).Scan(&schema, &ours); err != nil {
		return err
	}
	if ours || schema == "" {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		return err
	}
	e := &ForeignError{Schema: schema, Count: len(names), Tables: names[:min(len(names), 5)]}
	return e
}

type batch struct {
	s  *DB
	tx pgx.Tx
	// conn holds tx's connection, given back to the pool when the batch
	// ends: a transaction whose COMMIT went in a pipeline (Commit) has
	// ended without tx knowing, and tx.Commit would send a second one.
	conn *pgxpool.Conn
	// head is the ledger's head, read under the ledger lock in this
	// transaction's first round trip (addDistinct) when the batch was told
	// it commits next (short), so that Commit can append the batch's
	// entries and commit in one more.
	head  *store.LedgerHead
	short bool
	next  int64 // lowest seq not yet handed out
	// first is the batch's first seq (set by open): a row with a seq from
	// it on was written by the batch.
	first int64
	now   int64
	// keep says the records the batch replaces keep their ingestion time
	// (KeepIngested): its statements are the keeping ones.
	keep bool
	done bool
	// writerFree: the process's writer was given back when the commit
	// was sent (SendCommit), before the batch ended.
	writerFree bool
	// written counts the rows inserted or replaced, to analyse the table
	// after a bulk load (Commit).
	written int64

	// staged: the COPY staging table exists in this transaction; dirty: it
	// still holds the previous chunk.
	staged, dirty bool
	// fresh: the last chunk held only new keys, so the next one is tried
	// with plain inserts first (see addChunk).
	fresh bool

	// ledger holds the entries Commit appends (Record).
	ledger []store.LedgerEntry

	// Reused per chunk.
	keys   map[domain.Key]int
	groups []group
	round0 []int
	round1 []int
}

// Begin opens a write batch. Seqs must become visible in seq order, even
// with several instances writing to one database: readers follow new data
// with Scan(afterSeq), and if a transaction could commit seq 10 after a
// reader had already seen seq 11, that reader would skip seq 10 forever.
// A database sequence does not give this (nextval is handed out at write
// time, not commit time). So every batch takes one transaction-scoped
// advisory lock, held until commit or rollback, which serialises writers
// across all instances, and only then reads max(seq): each batch's seqs
// are above every committed seq and no other batch can commit in between.
// The lock is taken at the batch's first write (see open), so Begin itself
// waits only for this process's other batch.
func (s *DB) Begin(ctx context.Context) (store.Batch, error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b, err := s.begin(ctx)
	if err != nil {
		<-s.writer
		return nil, err
	}
	return b, nil
}

func (s *DB) begin(ctx context.Context) (*batch, error) {
	return &batch{s: s, now: s.Now().UnixNano(), fresh: true, keys: map[domain.Key]int{}}, nil
}

// open starts the batch's transaction, with more statements sent in the
// same round trip: BEGIN, the writer lock, the last seq and then the
// first write go together (and, from CommitEach, COMMIT too), so a
// webhook group's transaction costs one round trip rather than five.
// Callers stamp b.now (ingested_at) just before. The transaction is
// opened at the first write, not at Begin, so an empty batch never
// touches the database. In the pipeline each statement runs, and takes
// its snapshot, only after the one before it has finished. After open,
// more's results are next in br, which the caller must close.
func (b *batch) open(ctx context.Context, more func(pb *pgx.Batch)) (pgx.BatchResults, error) {
	var pb pgx.Batch
	pb.BeginTx(pgx.TxOptions{})
	// Generic plans, for this transaction only: the write statements' best
	// plan does not depend on their parameters, and re-planning them on
	// every Add (PostgreSQL's default for statements it finds cheaper to
	// plan per call) costs more than running them when Adds are small.
	pb.Queue(`SELECT pg_advisory_xact_lock($1), set_config('plan_cache_mode', 'force_generic_plan', true)`, writerLockKey)
	// Must be its own statement: a READ COMMITTED statement's snapshot
	// predates any lock it waits for, so max(seq) in the locking statement
	// could miss the batch that held the lock just before us. (Its plan has
	// no parameters to go stale on, and ANALYZE invalidates it.)
	pb.Queue(lastSeqSQL)
	if more != nil {
		more(&pb)
	}
	c, err := b.s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	b.conn = c
	br := c.SendBatch(ctx, &pb)
	b.tx = br.Tx()
	var last int64
	_, err = br.Exec()
	if err == nil {
		if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("waiting for the writer lock: %w", err)
		}
	}
	if err == nil {
		err = br.QueryRow().Scan(&last)
	}
	if err != nil {
		br.Close()
		return nil, err
	}
	b.next, b.first = last+1, last+1
	return br, nil
}

// ensureOpen opens the transaction if no write has yet.
func (b *batch) ensureOpen(ctx context.Context) error {
	if b.tx != nil {
		return nil
	}
	b.now = b.s.Now().UnixNano()
	br, err := b.open(ctx, nil)
	if err != nil {
		return err
	}
	return br.Close()
}

// lastSeqSQL is what a writer reads under the writer lock: no row is in
// flight then, and max(seq) is right whoever wrote last.
const lastSeqSQL = `SELECT coalesce(max(seq), 0) FROM records`

// headSQL is the last committed seq for readers (migration 018), and
// headBound bounds their scans by it, in the scan's own snapshot: rows up
// to the head are committed, and the index's entries past it — an
// import's rows in flight — are never visited.
const (
	headSQL   = `SELECT seq FROM records_head`
	headBound = `seq <= (` + headSQL + `)`
)

// chunkRows bounds the rows one statement writes. Measured with 300-byte
// records: 1,000 to 4,000 rows per statement is the sweet spot for both
// write paths; at 8,000 and beyond throughput falls (at 32,000 by a
// third), and the staging table would outgrow the default temp_buffers.
// Variables so tests can force keys to repeat across chunks and pick the
// write path.
var chunkRows = 4096

// copyMinRows is the chunk size from which rows go through COPY into the
// staging table rather than as array parameters. Measured, the two are on
// par at full chunks; below that COPY's extra round trips, TRUNCATE and
// re-planning per chunk make it slower, and importers usually call Add
// with fewer records than this.
var copyMinRows = 4096

// copyNewMinRows and copyNewRows size what copyNew writes. COPY straight
// into records costs one probe of the key range and the rows; statements
// that insert from arrays or the staging table pay a probe per row and
// per statement, and fall off past chunkRows. So a batch still writing
// only new keys offers copyNew up to copyNewRows at a time (an import's
// whole part of a kind, ingest's StreamChunk), and small runs too. Scale
// 1 (BenchmarkIngestImport, PostgreSQL): 85,500 records a second with
// copyNew only for full 4,096-row chunks, 99,000 from 256 rows, ~117,000
// with 16,384-row runs (docs/performance.md).
var (
	copyNewMinRows = 256
	copyNewRows    = 16384
)

// A group is every occurrence of one key within a chunk.
type group struct {
	first, last int // positions in the chunk
	dups        int // occurrences after the first
	changes     int // occurrences after the first whose hash differs from the one before
	// run is where the last run of occurrences with one hash starts: the
	// occurrence that is stored when the key changed within the chunk. The
	// ones after it are unchanged and leave its row (raw hash included)
	// alone, as in the SQLite store.
	run int
}

func (b *batch) Add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	var res store.WriteResult
	if b.done {
		return res, errors.New("batch already ended")
	}
	if len(items) > 0 {
		if err := b.ensureOpen(ctx); err != nil {
			return res, err
		}
	}
	if err := b.checkFixed(ctx, items); err != nil {
		return res, err
	}
	// Long runs are offered to copyNew until it declines one: the rest of
	// the list then goes in chunks, the first of which stops the offers
	// if it holds stored keys (b.fresh).
	long := true
	for len(items) > 0 {
		var r store.WriteResult
		var err error
		n, done := min(len(items), copyNewRows), false
		if long && b.fresh && len(items) > chunkRows {
			r, done, err = b.addNew(ctx, items[:n])
			long = done
		}
		if err == nil && !done {
			n = min(len(items), chunkRows)
			r, err = b.addChunk(ctx, items[:n])
		}
		if err != nil {
			return res, err
		}
		res.Add(r)
		b.written += r.Inserted + r.Replaced
		items = items[n:]
	}
	return res, nil
}

// fixedSQL finds the first of the keys given ($1 kinds, $2 sources, $3
// ids) stored with another hash than the one given ($4): a fixed item's
// conflict (store.Item.Fixed). Run under the writer lock, it sees every
// committed row and the batch's own.
const fixedSQL = `SELECT s.ord, r.seq, r.ingested_at
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS s(kind, source, id, hash, ord)
	JOIN records r ON r.kind = s.kind COLLATE "C" AND r.source = s.source COLLATE "C" AND r.id = s.id COLLATE "C"
	WHERE r.hash <> s.hash
	ORDER BY s.ord LIMIT 1`

// fixedArgs are fixedSQL's arguments for the fixed items of items that
// are their key's first occurrence in items (a later one is checked
// against the one before it by fixedInList), and those items; no items
// when none is fixed.
func fixedArgs(items []store.Item) (args []any, fixed []store.Item, err error) {
	first, err := fixedInList(items)
	if first == nil || err != nil {
		return nil, nil, err
	}
	var kinds, sources, ids, hashes []string
	for i, it := range items {
		if it.Fixed && first[i] {
			kinds, sources, ids, hashes = append(kinds, string(it.Key.Kind)), append(sources, it.Key.Source), append(ids, it.Key.ID), append(hashes, it.Hash)
			fixed = append(fixed, it)
		}
	}
	return []any{kinds, sources, ids, hashes}, fixed, nil
}

// fixedInList refuses a fixed item whose key's occurrence just before it
// in items has another hash, as written earlier in the batch; first
// reports, per item, whether it is its key's first occurrence. first is
// nil when no item is fixed, and the check costs nothing more.
func fixedInList(items []store.Item) (first []bool, err error) {
	if !slices.ContainsFunc(items, func(it store.Item) bool { return it.Fixed }) {
		return nil, nil
	}
	first = make([]bool, len(items))
	prev := make(map[domain.Key]string, len(items))
	for i, it := range items {
		h, seen := prev[it.Key]
		first[i] = !seen
		if seen && it.Fixed && h != it.Hash {
			return nil, &store.ChangedError{Key: it.Key, InBatch: true}
		}
		prev[it.Key] = it.Hash
	}
	return first, nil
}

// fixedFound reads fixedSQL's answer for fixed: the conflict, or nil.
func (b *batch) fixedFound(row pgx.Row, fixed []store.Item) error {
	var ord, seq, ing int64
	err := row.Scan(&ord, &seq, &ing)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &store.ChangedError{Key: fixed[ord-1].Key, InBatch: seq >= b.first, Seq: seq, IngestedAt: time.Unix(0, ing).UTC()}
}

// keyHashesSQL is the hashes of the records under the keys given, by
// their ordinal.
const keyHashesSQL = `SELECT s.ord, r.hash
	FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS s(kind, source, id, ord)
	JOIN records r ON r.kind = s.kind COLLATE "C" AND r.source = s.source COLLATE "C" AND r.id = s.id COLLATE "C"`

// KeyHashes says, per key, the hash of the record the batch holds under
// it ("" for none), its own writes included, in one round trip: an
// import tells by it a record that repeats one of its earlier chunks'
// (ingest's keySet).
func (b *batch) KeyHashes(ctx context.Context, keys []domain.Key) ([]string, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	out := make([]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if err := b.ensureOpen(ctx); err != nil {
		return nil, err
	}
	kinds, sources, ids := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		kinds[i], sources[i], ids[i] = string(k.Kind), k.Source, k.ID
	}
	rows, err := b.tx.Query(ctx, keyHashesSQL, kinds, sources, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ord int64
		var hash string
		if err := rows.Scan(&ord, &hash); err != nil {
			return nil, err
		}
		out[ord-1] = hash
	}
	return out, rows.Err()
}

// checkFixed refuses the first fixed item of items (store.Item.Fixed)
// stored, or earlier in items, with another hash. The transaction is
// open, so the writer lock is held.
func (b *batch) checkFixed(ctx context.Context, items []store.Item) error {
	args, fixed, err := fixedArgs(items)
	if len(fixed) == 0 || err != nil {
		return err
	}
	return b.fixedFound(b.tx.QueryRow(ctx, fixedSQL, args...), fixed)
}

// addChunk writes items as if one by one: the last occurrence of a key
// wins, and each occurrence counts as inserted, replaced or unchanged
// against the state the previous one left, as in the SQLite store. One
// INSERT … ON CONFLICT cannot touch a row twice, so repeated keys are
// folded: round 0 writes each key's first occurrence and is counted by
// the database; round 1 then overwrites the keys whose hash changed within
// the chunk with the first occurrence of their final hash, counted here.
// (Occurrences with an unchanged hash keep the row the one before wrote,
// raw hash included, as SQLite does.)
//
// Round 0 is normally one upsert. But ON CONFLICT's speculative insertion
// makes a first import of new records markedly slower than plain inserts,
// so while chunks keep turning out all new, round 0 first inserts the keys
// not yet present and runs the upsert only if some were.
func (b *batch) addChunk(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	res, ok, err := b.addNew(ctx, items)
	if err != nil || ok {
		return res, err
	}
	n0, n1 := int64(len(b.round0)), int64(len(b.round1))
	// Ords count from 1; each row gets seq base+ord whichever statement
	// writes it, and no row is written twice in one round.
	base, base1 := b.next-1, b.next-1+n0
	sql, run := &viaArrays, b.writeArrays
	if b.keep {
		sql = &viaArraysKeeping
	}
	if n0+n1 >= int64(copyMinRows) {
		if err := b.stage(ctx, items); err != nil {
			return store.WriteResult{}, err
		}
		sql, run, base1 = &viaStage, b.writeStaged, base
		if b.keep {
			sql = &viaStageKeeping
		}
	}
	var ins, rep int64
	if b.fresh {
		n, _, err := run(ctx, sql.insertNew, items, b.round0, base, keyRange(items, b.round0)...)
		if err != nil {
			return store.WriteResult{}, err
		}
		ins = n
	}
	if !b.fresh || ins < n0 {
		n, r, err := run(ctx, sql.upsert, items, b.round0, base)
		if err != nil {
			return store.WriteResult{}, err
		}
		ins, rep = ins+n, r
		b.fresh = n == n0
	}
	if n1 > 0 {
		_, r, err := run(ctx, sql.overwrite, items, b.round1, base1)
		if err != nil {
			return store.WriteResult{}, err
		}
		if r != n1 {
			return store.WriteResult{}, fmt.Errorf("postgres: overwrote %d repeated records, want %d", r, n1)
		}
	}
	// Seqs of unchanged rows are skipped, not reused: gaps are harmless to
	// readers, who only rely on order.
	b.next += n0 + n1
	res.Inserted += ins
	res.Replaced += rep
	res.Unchanged += n0 - ins - rep
	res.Wrote(b.next - 1)
	return res, nil
}

// addNew folds items (leaving round0 and round1 for addChunk) and, while
// the batch has written only new keys, writes them with copyNew when they
// are a run of new keys; ok says it did.
func (b *batch) addNew(ctx context.Context, items []store.Item) (res store.WriteResult, ok bool, err error) {
	res = b.fold(items)
	n0 := int64(len(b.round0))
	if !b.fresh || len(b.round1) > 0 || n0 < int64(copyNewMinRows) {
		return res, false, nil
	}
	if ok, err = b.copyNew(ctx, items, b.next-1); err != nil || !ok {
		return res, false, err
	}
	b.next += n0
	res.Inserted += n0
	res.Wrote(b.next - 1)
	return res, true, nil
}

// fold groups a chunk's repeated keys into round0 and round1 (see
// addChunk) and returns the counts the repeats make.
func (b *batch) fold(items []store.Item) store.WriteResult {
	var res store.WriteResult
	clear(b.keys)
	b.groups = b.groups[:0]
	for i := range items {
		k := items[i].Key
		if j, ok := b.keys[k]; ok {
			g := &b.groups[j]
			g.dups++
			if items[g.last].Hash != items[i].Hash {
				g.changes++
				g.run = i
			}
			g.last = i
			continue
		}
		b.keys[k] = len(b.groups)
		b.groups = append(b.groups, group{first: i, last: i, run: i})
	}
	b.round0, b.round1 = b.round0[:0], b.round1[:0]
	for _, g := range b.groups {
		b.round0 = append(b.round0, g.first)
		if g.changes > 0 {
			b.round1 = append(b.round1, g.run)
		}
		res.Replaced += int64(g.changes)
		res.Unchanged += int64(g.dups - g.changes)
	}
	return res
}

// AddEach saves round trips on a batch's first write, which is the whole
// of a webhook group: lists whose keys are all distinct go in one upsert
// sent with BEGIN (addDistinct). Otherwise — keys repeating across lists
// (rare in a group), large lists, or a transaction already open, as for
// an import's later chunks — each list goes through Add, which counts
// repeats and has the faster paths for bulk loads (plain inserts of new
// keys, COPY).
func (b *batch) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	if b.tx == nil && !large(lists) {
		if res, ok, err := b.addDistinct(ctx, lists, false); ok {
			return res, err
		}
	}
	return store.AddInTurn(ctx, b, lists)
}

// large reports whether lists are too big for one statement: a list that
// COPY would write, or more rows in all than a chunk (beyond which one
// statement's throughput falls, see chunkRows).
func large(lists [][]store.Item) bool {
	n := 0
	for _, items := range lists {
		if len(items) >= copyMinRows {
			return true
		}
		n += len(items)
	}
	return n > chunkRows
}

// addDistinct is a batch's first write, AddEach in one statement sent
// with BEGIN (and with COMMIT when commit is set), which it can be when no
// key repeats across the lists (the usual group of webhook requests): rows
// of list i get the ords after those of the lists before it, and the seqs
// the statement returns tell each list's inserts from its rewrites. ok is
// false, with nothing sent, when some key repeats. The transaction must
// not be open yet.
func (b *batch) addDistinct(ctx context.Context, lists [][]store.Item, commit bool) (res []store.WriteResult, ok bool, err error) {
	var all []store.Item
	ends := make([]int64, len(lists)) // ord of each list's last row
	for i, items := range lists {
		all = append(all, items...)
		ends[i] = int64(len(all))
	}
	if len(all) == 0 {
		return make([]store.WriteResult, len(lists)), true, nil
	}
	b.fold(all)
	if len(b.groups) != len(all) {
		return nil, false, nil
	}
	// Fixed items are checked in the pipeline, under the writer lock and
	// before the upsert; a conflict is found only once the upsert has run,
	// so the commit cannot ride with them.
	fargs, fixed, _ := fixedArgs(all) // distinct keys: no conflict among them
	if len(fixed) > 0 && commit {
		return nil, false, nil
	}
	// Seqs are base + ord, and base is only known once the statements
	// queued ahead of this one have run, so the statement reads it itself
	// (the lock is held by then; a null $1 says so) and returns seqs,
	// which open's last seq turns into ords.
	b.now = b.s.Now().UnixNano() // as ensureOpen would
	args := b.arrayArgs(all, b.round0, 0)
	args[0] = nil
	var inserted, rewritten []int64
	// A batch that commits next (store.ShortBatch), and may append
	// ledger entries then, takes the ledger lock and reads the head now,
	// in this round trip (in the same order as appendLedgerTx: writer
	// lock, then ledger lock). Any other holds the ledger lock only at its
	// commit: an import's first write must not keep sign-ins waiting.
	ledger := !commit && b.short && b.s.Sealer() != nil
	br, err := b.open(ctx, func(pb *pgx.Batch) {
		if len(fixed) > 0 {
			pb.Queue(fixedSQL, fargs...)
		}
		if b.keep {
			pb.Queue(upsertSeqsKeeping, args...)
		} else {
			pb.Queue(upsertSeqs, args...)
		}
		if commit {
			pb.Queue("COMMIT")
		}
		if ledger {
			queueLedgerHead(pb)
		}
	})
	if err != nil {
		return nil, true, err
	}
	if len(fixed) > 0 {
		err = b.fixedFound(br.QueryRow(), fixed)
	}
	if err == nil {
		err = br.QueryRow().Scan(&inserted, &rewritten)
	}
	if err == nil && ledger {
		var head store.LedgerHead
		if head, err = readLedgerHead(br); err == nil {
			b.head = &head
		}
	}
	if err == nil && commit {
		err = readCommit(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, true, err
	}
	// Committed in the pipeline, the transaction has ended: closing the
	// results saw the connection idle and marked it so (end gives the
	// connection back).
	base := b.next - 1
	for _, ords := range [][]int64{inserted, rewritten} {
		for k := range ords {
			ords[k] -= base
		}
	}
	b.next += int64(len(all))
	b.written += int64(len(inserted) + len(rewritten))
	if commit {
		b.committed()
	}
	res = make([]store.WriteResult, len(lists))
	for i, items := range lists {
		res[i].Unchanged = int64(len(items))
	}
	count := func(ords []int64, add func(*store.WriteResult)) {
		for _, o := range ords {
			i := sort.Search(len(ends), func(i int) bool { return ends[i] >= o })
			add(&res[i])
			res[i].Unchanged--
		}
	}
	count(inserted, func(r *store.WriteResult) { r.Inserted++ })
	count(rewritten, func(r *store.WriteResult) { r.Replaced++ })
	for i := range res {
		res[i].Wrote(b.next - 1)
	}
	return res, true, nil
}

// CommitEach is AddEach then Commit, in one round trip for the usual
// group of webhook requests (see addDistinct).
func (b *batch) CommitEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	// With ledger entries to append the commit cannot ride in the
	// pipeline: the entries follow the ledger head, read under its lock.
	if b.tx == nil && !large(lists) && len(b.ledger) == 0 {
		res, ok, err := b.addDistinct(ctx, lists, true)
		if ok {
			if err != nil {
				b.Rollback()
				return nil, err
			}
			b.end()
			return res, nil
		}
	}
	// AddEach; addDistinct has declined already unless the ledger kept
	// it from committing in the pipeline.
	var res []store.WriteResult
	var err error
	if len(b.ledger) > 0 {
		res, err = b.AddEach(ctx, lists)
	} else {
		res, err = store.AddInTurn(ctx, b, lists)
	}
	if err != nil {
		b.Rollback()
		return nil, err
	}
	if err := b.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// A rowSource is where a round's rows come from: s.ord, s.kind, s.source,
// s.id, s.event_time, s.hash, s.raw_hash, s.body. Statements take $1 (seq base) and $2
// (ingested_at), then the source's parameters; param is the next free one.
type rowSource struct {
	from, where string
	param       int
}

var (
	arrayRows = rowSource{
		from: `unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bytea[])
		WITH ORDINALITY AS s(kind, source, id, event_time, hash, raw_hash, body, ord)`,
		where: "true",
		param: 10,
	}
	stagedRound0 = rowSource{from: "candor_stage s", where: "NOT s.second", param: 3}
	stagedRound1 = rowSource{from: "candor_stage s", where: "s.second", param: 3}
)

// The statements return (inserted, rewritten) counts.
type statements struct {
	insertNew string // inserts the rows whose key is absent
	upsert    string // inserts or rewrites the rows whose hash changed
	overwrite string // rewrites unconditionally (round 1)
}

var (
	viaArrays = statements{insertNew(arrayRows), upsert(arrayRows, changedOnly, false), upsert(arrayRows, "", false)}
	viaStage  = statements{insertNew(stagedRound0), upsert(stagedRound0, changedOnly, false), upsert(stagedRound1, "", false)}
	// The same for a batch whose replaced records keep their ingestion
	// time (KeepIngested).
	viaArraysKeeping = statements{insertNew(arrayRows), upsert(arrayRows, changedOnly, true), upsert(arrayRows, "", true)}
	viaStageKeeping  = statements{insertNew(stagedRound0), upsert(stagedRound0, changedOnly, true), upsert(stagedRound1, "", true)}
)

// KeepIngested makes the records the batch replaces keep their ingestion
// time (store.IngestKeeper).
func (b *batch) KeepIngested() { b.keep = true }

// WrittenFrom is the batch's first sequence (store.IngestKeeper).
func (b *batch) WrittenFrom() int64 { return b.first }

// Unchanged means same key and same hash: no write, no new seq.
const changedOnly = `WHERE r.hash <> EXCLUDED.hash`

// upsert's guard decides when an existing row is rewritten. xmax is 0
// only on a freshly inserted row version, which tells inserts from updates
// in one pass; rows the guard leaves alone are not returned at all.
func upsert(src rowSource, guard string, keep bool) string {
	return upsertThen(src, guard, "$1::bigint", `SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w`, keep)
}

// upsertSeqs is upsert returning the seqs of the inserted rows and of the
// rewritten ones, for addDistinct to count per list. A null seq base ($1)
// means the last committed seq, read under the writer lock.
var (
	upsertSeqs        = upsertThen(arrayRows, changedOnly, upsertSeqsBase, upsertSeqsFinal, false)
	upsertSeqsKeeping = upsertThen(arrayRows, changedOnly, upsertSeqsBase, upsertSeqsFinal, true)
	upsertSeqsBase    = "coalesce($1::bigint, (" + lastSeqSQL + "))"
	upsertSeqsFinal   = `SELECT
	coalesce(array_agg(seq) FILTER (WHERE inserted), '{}'),
	coalesce(array_agg(seq) FILTER (WHERE NOT inserted), '{}') FROM w`
)

// upsertThen's keep leaves a rewritten row's ingested_at as it was.
func upsertThen(src rowSource, guard, base, final string, keep bool) string {
	ingested := "EXCLUDED.ingested_at"
	if keep {
		ingested = "r.ingested_at"
	}
	return `WITH w AS (
	INSERT INTO records AS r (` + recordList + `)
	SELECT ` + base + ` + s.ord, s.kind, s.source, s.id, $2::bigint, s.event_time, s.hash, s.raw_hash, s.body
	FROM ` + src.from + ` WHERE ` + src.where + `
	ON CONFLICT (kind, source, id) DO UPDATE SET
		seq = EXCLUDED.seq, ingested_at = ` + ingested + `, event_time = EXCLUDED.event_time,
		hash = EXCLUDED.hash, raw_hash = EXCLUDED.raw_hash, body = EXCLUDED.body
	` + guard + `
	RETURNING r.seq, (r.xmax = 0) AS inserted
)
` + final
}

// insertNew inserts the rows whose key is not stored yet. Plain inserts
// are safe: the writer lock keeps every other writer out until commit.
//
// Most chunks of a first import hold one kind and source with ids in a
// range nothing is stored in yet (sequential ids): then one range probe,
// evaluated once, clears the whole chunk (parameters: whether the chunk
// has one kind and source, which, and its lowest and highest id). Other
// rows are probed one by one, with a scalar subquery rather than NOT
// EXISTS: the planner cannot turn it into a join, so it stays one index
// probe per row however big it guesses the tables to be (a hash anti-join
// over millions of records per chunk would be ruinous).
func insertNew(src rowSource) string {
	p := func(i int) string { return "$" + strconv.Itoa(src.param+i) }
	return `WITH w AS (
	INSERT INTO records (` + recordList + `)
	SELECT $1::bigint + s.ord, s.kind, s.source, s.id, $2::bigint, s.event_time, s.hash, s.raw_hash, s.body
	FROM ` + src.from + ` WHERE ` + src.where + ` AND (
		(` + p(0) + `::boolean AND NOT EXISTS (` + storedInRange(p(1), p(2), p(3), p(4)) + `))
		OR (` + storedKey("s.kind", "s.source", "s.id") + `) IS NULL)
	RETURNING 1
)
SELECT count(*), 0::bigint FROM w`
}

// storedInRange selects the stored rows of a kind and source (text
// parameters) with an id in [lo, hi]: one range probe of the key index.
func storedInRange(kind, source, lo, hi string) string {
	return `SELECT FROM records x
		WHERE x.kind = ` + kind + `::text COLLATE "C" AND x.source = ` + source + `::text COLLATE "C"
		AND x.id >= ` + lo + `::text COLLATE "C" AND x.id <= ` + hi + `::text COLLATE "C"`
}

// storedKey selects true for the stored row with a key, as a scalar
// subquery: one index probe, which the planner cannot turn into a join
// over the whole table (as it may NOT EXISTS).
func storedKey(kind, source, id string) string {
	return `SELECT true FROM records x
		WHERE x.kind = ` + kind + ` COLLATE "C" AND x.source = ` + source + ` COLLATE "C" AND x.id = ` + id + ` COLLATE "C"`
}

// rangeTaken says whether any row is stored with the kind and source
// given and an id in [lo, hi] (insertNew's chunk-level probe); keysTaken
// whether any of the ids ($3) is, probing each.
var (
	rangeTaken = `SELECT EXISTS (` + storedInRange("$1", "$2", "$3", "$4") + `)`
	keysTaken  = `SELECT EXISTS (SELECT FROM unnest($3::text[]) AS u(id)
		WHERE (` + storedKey("$1::text", "$2::text", "u.id") + `) IS NOT NULL)`
)

// recordCols are the records table's columns in the order the writes name them.
var (
	recordCols = []string{"seq", "kind", "source", "id", "ingested_at", "event_time", "hash", "raw_hash", "body"}
	recordList = strings.Join(recordCols, ", ")
)

// copyNew writes round 0 of a chunk straight into records with COPY when
// the chunk is a run of new keys (one kind and source, an id range nothing
// is stored in: most chunks of a first import), and reports whether it
// did. The staged path copies the rows into a temporary table and then
// inserts them from it; this skips that second pass over every row, which
// was most of the server's work in a large import. The seqs are the ones
// insertNew would give (base + the row's place in round 0), and the writer
// lock keeps any other writer from storing one of these keys until commit.
func (b *batch) copyNew(ctx context.Context, items []store.Item, base int64) (bool, error) {
	kr := keyRange(items, b.round0)
	if kr[0] != true {
		return false, nil
	}
	var taken bool
	if err := b.tx.QueryRow(ctx, rangeTaken, kr[1:]...).Scan(&taken); err != nil {
		return false, err
	}
	if taken {
		// The range holds stored rows (ids that do not sort in arrival
		// order, like a change's repo-pr-N): probe each key instead.
		ids := make([]string, len(b.round0))
		for j, i := range b.round0 {
			ids[j] = items[i].Key.ID
		}
		if err := b.tx.QueryRow(ctx, keysTaken, kr[1], kr[2], ids).Scan(&taken); err != nil || taken {
			return false, err
		}
	}
	src := &recordSource{items: items, round0: b.round0, base: base, now: b.now, i: -1}
	n, err := b.tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordCols, src)
	if err != nil {
		return false, err
	}
	if n != int64(len(b.round0)) {
		return false, fmt.Errorf("postgres: copied %d new records, want %d", n, len(b.round0))
	}
	b.s.newCopies.Add(1)
	return true, nil
}

// recordSource feeds copyNew's COPY, one reused row at a time.
type recordSource struct {
	items     []store.Item
	round0    []int
	base, now int64
	i         int
	vals      [9]any
}

func (s *recordSource) Next() bool {
	s.i++
	return s.i < len(s.round0)
}

func (s *recordSource) Values() ([]any, error) {
	it := &s.items[s.round0[s.i]]
	s.vals = [9]any{s.base + int64(s.i+1), string(it.Key.Kind), it.Key.Source, it.Key.ID, s.now, eventNanos(it.EventTime), it.Hash, it.RawHash, it.Body}
	return s.vals[:], nil
}

func (s *recordSource) Err() error { return nil }

// keyRange is insertNew's chunk-level parameters for the rows at idx.
// Go compares strings bytewise, as the "C" collation does.
func keyRange(items []store.Item, idx []int) []any {
	k := items[idx[0]].Key
	lo, hi := k.ID, k.ID
	for _, i := range idx[1:] {
		o := items[i].Key
		if o.Kind != k.Kind || o.Source != k.Source {
			return []any{false, "", "", "", ""}
		}
		lo, hi = min(lo, o.ID), max(hi, o.ID)
	}
	return []any{true, string(k.Kind), k.Source, lo, hi}
}

func eventNanos(t time.Time) pgtype.Int8 {
	if t.IsZero() {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: t.UnixNano(), Valid: true}
}

// writeArrays sends the rows at idx as array parameters: one round trip,
// which is what small Adds need.
func (b *batch) writeArrays(ctx context.Context, sql string, items []store.Item, idx []int, base int64, extra ...any) (n1, n2 int64, err error) {
	err = b.tx.QueryRow(ctx, sql, append(b.arrayArgs(items, idx, base), extra...)...).Scan(&n1, &n2)
	return n1, n2, err
}

// arrayArgs are the parameters of arrayRows for the rows at idx.
func (b *batch) arrayArgs(items []store.Item, idx []int, base int64) []any {
	n := len(idx)
	kinds, sources, ids, hashes, raws := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	events, bodies := make([]pgtype.Int8, n), make([][]byte, n)
	for j, i := range idx {
		it := &items[i]
		kinds[j], sources[j], ids[j] = string(it.Key.Kind), it.Key.Source, it.Key.ID
		events[j], hashes[j], raws[j], bodies[j] = eventNanos(it.EventTime), it.Hash, it.RawHash, it.Body
	}
	return []any{base, b.now, kinds, sources, ids, events, hashes, raws, bodies}
}

// writeStaged runs sql over the rows stage put in the staging table.
func (b *batch) writeStaged(ctx context.Context, sql string, _ []store.Item, _ []int, base int64, extra ...any) (n1, n2 int64, err error) {
	err = b.tx.QueryRow(ctx, sql, append([]any{base, b.now}, extra...)...).Scan(&n1, &n2)
	return n1, n2, err
}

// The staging table lives for one transaction, so nothing is left behind
// on a pooled connection.
const stageDDL = `CREATE TEMP TABLE candor_stage (
	ord        bigint  NOT NULL,
	second     boolean NOT NULL,
	kind       text    COLLATE "C" NOT NULL,
	source     text    COLLATE "C" NOT NULL,
	id         text    COLLATE "C" NOT NULL,
	event_time bigint,
	hash       text    NOT NULL,
	raw_hash   text    NOT NULL,
	body       bytea   NOT NULL
) ON COMMIT DROP`

var stageCols = []string{"ord", "second", "kind", "source", "id", "event_time", "hash", "raw_hash", "body"}

// stage streams both rounds into the staging table with COPY, ords
// running on from round 0 into round 1.
func (b *batch) stage(ctx context.Context, items []store.Item) error {
	switch {
	case !b.staged:
		if _, err := b.tx.Exec(ctx, stageDDL); err != nil {
			return err
		}
		b.staged = true
	case b.dirty:
		if _, err := b.tx.Exec(ctx, `TRUNCATE candor_stage`); err != nil {
			return err
		}
	}
	src := &stageSource{items: items, round0: b.round0, round1: b.round1, i: -1}
	if _, err := b.tx.CopyFrom(ctx, pgx.Identifier{"candor_stage"}, stageCols, src); err != nil {
		return err
	}
	b.dirty = true
	return nil
}

// stageSource feeds COPY without building a [][]any for the whole chunk;
// pgx encodes each row before asking for the next, so one slice is reused.
type stageSource struct {
	items          []store.Item
	round0, round1 []int
	i              int
	vals           [9]any
}

func (s *stageSource) Next() bool {
	s.i++
	return s.i < len(s.round0)+len(s.round1)
}

func (s *stageSource) Values() ([]any, error) {
	idx, second := s.i, false
	if idx >= len(s.round0) {
		idx, second = s.round1[idx-len(s.round0)], true
	} else {
		idx = s.round0[idx]
	}
	it := &s.items[idx]
	s.vals = [9]any{int64(s.i + 1), second, string(it.Key.Kind), it.Key.Source, it.Key.ID, eventNanos(it.EventTime), it.Hash, it.RawHash, it.Body}
	return s.vals[:], nil
}

func (s *stageSource) Err() error { return nil }

func (b *batch) end() {
	if !b.done {
		b.done = true
		if b.conn != nil {
			// A connection left inside a transaction is closed, not
			// pooled (pgxpool).
			b.conn.Release()
			b.conn = nil
		}
		b.freeWriter()
	}
}

// freeWriter lets this process's next batch begin.
func (b *batch) freeWriter() {
	if !b.writerFree {
		b.writerFree = true
		<-b.s.writer
	}
}

func (b *batch) Record(entries ...store.LedgerEntry) { b.ledger = append(b.ledger, entries...) }

func (b *batch) CommitsNext() { b.short = true }

// Commit has no context in the store interface; a commit is short, and
// abandoning one halfway would leave the outcome unknown anyway.
func (b *batch) Commit() error { return b.commit(false)() }

// SendCommit is store.CommitSender: the entries and COMMIT are sent, and
// this process's next batch may begin at once — its pipeline reaches the
// server behind this COMMIT on another connection and waits there for the
// writer lock, which this transaction holds until its commit has ended.
// A webhook group's commit is half of its two round trips; the committer
// writes the next group meanwhile.
func (b *batch) SendCommit() (wait func() error) { return b.commit(true) }

// commit sends the entries and COMMIT and returns what reads the outcome
// and ends the batch; early gives the process's writer back once they are
// sent.
func (b *batch) commit(early bool) (wait func() error) {
	if b.done {
		return failed(errors.New("batch already ended"))
	}
	ctx := context.Background()
	if b.tx == nil {
		defer b.end()
		// Nothing was written: the entries alone, if any.
		if len(b.ledger) > 0 && b.s.Sealer() != nil {
			_, err := b.s.AppendLedger(ctx, b.ledger...)
			return failed(err)
		}
		return failed(nil)
	}
	// The entries and COMMIT go in one round trip. Only the head needs
	// one of its own, when the first write did not read it.
	var pb pgx.Batch
	if _, err := b.s.queueLedgerAppend(ctx, b.tx, b.head, b.ledger, &pb); err != nil {
		b.rollbackOpen(ctx)
		b.end()
		return failed(err)
	}
	pb.Queue("COMMIT")
	// pgx writes the whole pipeline before SendBatch returns (its
	// statements are prepared by then: the entry's INSERT and COMMIT
	// were on every earlier commit of the connection, and an unprepared
	// one is prepared in a round trip of its own first).
	br := b.tx.SendBatch(ctx, &pb)
	if early {
		b.freeWriter()
	}
	return func() error {
		defer b.end()
		var err error
		for range len(pb.QueuedQueries) - 1 {
			if _, err = br.Exec(); err != nil {
				err = fmt.Errorf("postgres: appending to the ledger: %w", err)
				break
			}
		}
		if err == nil {
			err = readCommit(br)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.rollbackOpen(ctx)
			return err
		}
		b.committed()
		return nil
	}
}

// failed is a commit's outcome known before anything was sent.
func failed(err error) func() error { return func() error { return err } }

// readCommit reads the result of a COMMIT sent in a pipeline.
func readCommit(br pgx.BatchResults) error {
	// A transaction that failed answers COMMIT with ROLLBACK.
	tag, err := br.Exec()
	if err == nil && tag.String() != "COMMIT" {
		err = pgx.ErrTxCommitRollback
	}
	return err
}

// rollbackOpen rolls back b's transaction if it is still open on its
// connection (a failed COMMIT has ended it already; ROLLBACK then would
// only draw a warning from the server).
func (b *batch) rollbackOpen(ctx context.Context) {
	if b.tx.Conn().PgConn().TxStatus() != 'I' {
		b.tx.Rollback(ctx)
	}
}

// committed follows a commit.
func (b *batch) committed() {
	// Until autovacuum gets to it, a freshly loaded table has no
	// statistics, and every read of the few newest rows (seq > $1) is
	// planned as a scan and sort of the whole table: 20 ms at scale 0.2, a
	// second at scale 10. Statistics are an optimisation, so a failure here
	// does not fail the committed batch.
	if b.written >= analyzeAfter {
		// On the batch's own connection, idle now: from the pool it
		// would wait for another while this one is held (for ever with a
		// pool of one).
		b.conn.Exec(context.Background(), `ANALYZE records`)
	}
}

// analyzeAfter is the batch size from which Commit analyses the table (a
// variable so a test can reach it with a few rows).
var analyzeAfter int64 = 50_000

func (b *batch) Rollback() error {
	if b.done {
		return nil
	}
	defer b.end()
	if b.tx == nil {
		return nil
	}
	if b.tx.Conn().PgConn().TxStatus() == 'I' {
		return nil // ended already: COMMIT in a pipeline, or it failed
	}
	err := b.tx.Rollback(context.Background())
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}

// Scan streams: pgx decodes one row at a time from the connection, so a
// scan of millions of records holds one record in memory, not all.
func (s *DB) Scan(ctx context.Context, after int64, fn func(store.Stored) error) (int64, error) {
	// Planned for this after, every time (an unnamed statement): the first
	// Scan reads every row, and a cached statement would soon switch to a
	// generic plan costed on that — a sequential scan and sort of the whole
	// table for each following read of a few new rows (0.8 s at scale 10).
	rows, err := s.pool.Query(ctx, `SELECT `+scanColumns+` FROM records WHERE seq > $1 AND `+headBound+` ORDER BY seq`, pgx.QueryExecModeExec, after)
	if err != nil {
		return after, err
	}
	last, _, err := eachStored(rows, after, -1, fn)
	return last, err
}

// ScanIngestedBefore is planned per call as Scan is: it is rare (an
// evidence pack), and its t decides whether reading the table whole is
// the best plan.
func (s *DB) ScanIngestedBefore(ctx context.Context, t time.Time, fn func(store.Stored) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+scanColumns+` FROM records WHERE ingested_at < $1 AND `+headBound+` ORDER BY seq`, pgx.QueryExecModeExec, t.UnixNano())
	if err != nil {
		return err
	}
	_, _, err = eachStored(rows, 0, -1, fn)
	return err
}

// Tail reads one row more than max, to tell whether there were more. Unlike
// Scan's, its statement is prepared once per connection and its plan
// kept: planning it was ~75 µs of the server's CPU at every call (three
// quarters of the statement's cost), and a follower tails after every
// webhook group. The plan cannot go stale as Scan's would: bounded on both
// sides and limited, seq's range is estimated at a fraction of a percent
// of the table whatever its statistics, so the generic plan is the primary
// key's range read (TestTailPlanIsTheIndexRange).
func (s *DB) Tail(ctx context.Context, after int64, max int, fn func(store.Stored) error) (int64, bool, error) {
	rows, err := s.pool.Query(ctx, tailSQL, after, max+1)
	if err != nil {
		return after, false, err
	}
	return eachStored(rows, after, max, fn)
}

const tailSQL = `SELECT ` + scanColumns + ` FROM records WHERE seq > $1 AND ` + headBound + ` ORDER BY seq LIMIT $2`

// eachStored is store.EachStored over rows (of scanColumns), which it
// closes.
func eachStored(rows pgx.Rows, after int64, max int, fn func(store.Stored) error) (int64, bool, error) {
	defer rows.Close()
	last, all, err := store.EachStored(rows.Next, func() (store.Stored, error) { return scanStored(rows) }, after, max, fn)
	if err == nil {
		err = rows.Err()
	}
	return last, all && err == nil, err
}

const scanColumns = `seq, kind, source, id, ingested_at, event_time, hash, raw_hash, body`

// scanStored reads a row of scanColumns.
func scanStored(rows pgx.Rows) (store.Stored, error) {
	var r store.Stored
	var kind string
	var ing int64
	var ev pgtype.Int8
	if err := rows.Scan(&r.Seq, &kind, &r.Key.Source, &r.Key.ID, &ing, &ev, &r.Hash, &r.RawHash, &r.Body); err != nil {
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
	var ev pgtype.Int8
	err := s.pool.QueryRow(ctx, `SELECT seq, ingested_at, event_time, hash, raw_hash, body FROM records WHERE kind = $1 AND source = $2 AND id = $3`,
		string(key.Kind), key.Source, key.ID).Scan(&r.Seq, &ing, &ev, &r.Hash, &r.RawHash, &r.Body)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, `SELECT kind, count(*) FROM records GROUP BY kind`)
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
	// The head row, not max(seq): during an import max(seq) visits every
	// row in flight (migration 018).
	err := s.pool.QueryRow(ctx, headSQL).Scan(&n)
	return n, err
}

// AppendDoc does not wait for an open write batch: documents take their
// ids from their own sequence, so an append during a long import goes
// straight through.
func (s *DB) AppendDoc(ctx context.Context, collection string, body []byte) (store.Doc, error) {
	if err := store.CheckDoc(collection, body); err != nil {
		return store.Doc{}, err
	}
	d, _, err := s.appendDoc(ctx, collection, "", body)
	return d, err
}

// AppendDocOnce leaves the race between instances to the unique index on
// (collection, key): an insert that meets a concurrent one with the same
// key waits for that transaction and then does nothing if it committed.
func (s *DB) AppendDocOnce(ctx context.Context, collection, key string, body []byte) (store.Doc, bool, error) {
	if err := store.CheckKeyedDoc(collection, key, body); err != nil {
		return store.Doc{}, false, err
	}
	return s.appendDoc(ctx, collection, key, body)
}

// appendDoc appends a document; key "" is stored as NULL, which the unique
// index lets repeat.
func (s *DB) appendDoc(ctx context.Context, collection, key string, body []byte) (store.Doc, bool, error) {
	k := pgtype.Text{String: key, Valid: key != ""}
	d := store.Doc{Collection: collection, Key: key, CreatedAt: time.Unix(0, s.Now().UnixNano()).UTC(), Body: append([]byte(nil), body...)}
	const insert = insertDocSQL
	var err error
	if s.Sealer() == nil {
		err = s.pool.QueryRow(ctx, insert, collection, k, d.CreatedAt.UnixNano(), body).Scan(&d.ID)
	} else {
		// A transaction, so a document of a chained collection is never
		// kept without its ledger entry.
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, insert, collection, k, d.CreatedAt.UnixNano(), body).Scan(&d.ID); err != nil {
				return err
			}
			return s.docLedgerTx(ctx, tx, d)
		})
	}
	if err == nil {
		return d, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) || key == "" {
		return store.Doc{}, false, err
	}
	// A statement of its own, so its snapshot includes the committed
	// document the insert gave way to; documents are never deleted, so it
	// is still there.
	d = store.Doc{Collection: collection, Key: key}
	var created int64
	err = s.pool.QueryRow(ctx, `SELECT id, created_at, body FROM docs WHERE collection = $1 AND key = $2`, collection, key).
		Scan(&d.ID, &created, &d.Body)
	if err != nil {
		return store.Doc{}, false, fmt.Errorf("postgres: reading the document with key %q: %w", key, err)
	}
	d.CreatedAt = time.Unix(0, created).UTC()
	return d, false, nil
}

// insertDocSQL appends a document unless its key is taken, returning its
// id (no row when taken).
const insertDocSQL = `INSERT INTO docs (collection, key, created_at, body) VALUES ($1, $2, $3, $4)
	ON CONFLICT (collection, key) DO NOTHING RETURNING id`

// AppendDocsOnce appends keyed documents in the batch's transaction
// (store.Batch), all in one round trip; the ledger entries of a chained
// collection's are appended with the batch's at its commit.
func (b *batch) AppendDocsOnce(ctx context.Context, docs []store.KeyedDoc) ([]bool, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	created := make([]bool, len(docs))
	if len(docs) == 0 {
		return created, nil
	}
	for _, kd := range docs {
		if err := store.CheckKeyedDoc(kd.Collection, kd.Key, kd.Body); err != nil {
			return nil, err
		}
	}
	if err := b.ensureOpen(ctx); err != nil {
		return nil, err
	}
	var pb pgx.Batch
	for _, kd := range docs {
		pb.Queue(insertDocSQL, kd.Collection, kd.Key, b.now, kd.Body)
	}
	br := b.tx.SendBatch(ctx, &pb)
	defer br.Close()
	for i, kd := range docs {
		d := store.Doc{Collection: kd.Collection, Key: kd.Key, CreatedAt: time.Unix(0, b.now).UTC(), Body: kd.Body}
		err := br.QueryRow().Scan(&d.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		created[i] = true
		entries, err := b.s.DocEntries(d)
		if err != nil {
			return nil, err
		}
		b.ledger = append(b.ledger, entries...)
	}
	return created, br.Close()
}

// GetWithDoc is Get and DocByKey in one round trip (store.RecordDocGetter).
func (s *DB) GetWithDoc(ctx context.Context, key domain.Key, collection, docKey string) (store.RecordWithDoc, error) {
	var row store.RecordDocRow
	if err := s.pool.QueryRow(ctx, `SELECT r.seq, r.ingested_at, r.event_time, r.hash, r.raw_hash, r.body, d.id, d.created_at, d.body
		FROM (SELECT 1) AS one LEFT JOIN records r ON r.kind = $1 AND r.source = $2 AND r.id = $3
		LEFT JOIN docs d ON d.collection = $4 AND d.key = $5::text`, string(key.Kind), key.Source, key.ID, collection, store.DocKeyArg(docKey)).
		Scan(&row.Seq, &row.IngestedAt, &row.EventTime, &row.Hash, &row.RawHash, &row.Body, &row.DocID, &row.DocCreatedAt, &row.DocBody); err != nil {
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
	err := s.pool.QueryRow(ctx, `SELECT id, created_at, body FROM docs WHERE collection = $1 AND key = $2`, collection, key).
		Scan(&d.ID, &created, &d.Body)
	if errors.Is(err, pgx.ErrNoRows) {
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
	var key *string
	err := s.pool.QueryRow(ctx, `SELECT created_at, key, body FROM docs WHERE id = $1 AND collection = $2`, id, collection).
		Scan(&created, &key, &d.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Doc{}, false, nil
	}
	if err != nil {
		return store.Doc{}, false, err
	}
	if key != nil {
		d.Key = *key
	}
	d.CreatedAt = time.Unix(0, created).UTC()
	return d, true, nil
}

// DocsBefore implements store.DocsBeforeReader (store.DocsBefore makes
// before positive).
func (s *DB) DocsBefore(ctx context.Context, collection string, before int64, limit int) ([]store.Doc, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, created_at, coalesce(key, ''), body FROM docs
		WHERE collection = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, collection, before, limit)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, collection)
}

// DocsByKeyPrefix implements store.KeyPrefixReader. Keys are in the "C"
// collation, so the range is the prefix's byte for byte.
func (s *DB) DocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64, limit int) ([]store.Doc, error) {
	var lim *int // LIMIT NULL is no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT id, created_at, key, body FROM docs
		WHERE collection = $1 AND key >= $2 AND ($3 = '' OR key < $3) AND id > $4 ORDER BY id DESC LIMIT $5`, collection, prefix, store.PrefixEnd(prefix), after, lim)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, collection)
}

// CountDocsByKeyPrefix implements store.KeyPrefixReader.
func (s *DB) CountDocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM docs WHERE collection = $1 AND key >= $2 AND ($3 = '' OR key < $3) AND id > $4`,
		collection, prefix, store.PrefixEnd(prefix), after).Scan(&n)
	return n, err
}

func (s *DB) Docs(ctx context.Context, collection string, limit int) ([]store.Doc, error) {
	var lim *int // LIMIT NULL is no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT id, created_at, coalesce(key, ''), body FROM docs WHERE collection = $1 ORDER BY id DESC LIMIT $2`, collection, lim)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, collection)
}

// scanDocs reads rows of id, created_at, key and body, which it closes.
func scanDocs(rows pgx.Rows, collection string) ([]store.Doc, error) {
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
