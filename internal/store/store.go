// Package store defines the storage interface that every backend (embedded
// SQLite, PostgreSQL) implements, and the error codes they share. The
// contract test suite in storetest is the definition of correct behaviour.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// ErrNotFound is returned when a record does not exist. Its code makes a
// lookup that finds nothing a 404, whoever reports it.
var ErrNotFound error = domain.Errorf(domain.ENotFound, "not found")

// UnreachableRetry is how long a client is told to wait (Retry-After)
// before asking again of a store that could not be reached.
const UnreachableRetry = 5 * time.Second

// UnreachableError is a store that could not be reached: the connection
// to its server could not be made (refused, no route, no address, the
// deadline met while connecting) or the server would not take it (the
// sign-in refused, too many connections, shutting down). Its code makes it a 503, which tells a
// client to retry, where an error without a code is a 500; the store
// classifies it where it connects, so no caller has to read messages.
type UnreachableError struct {
	Err error
	// Reason is what went wrong in a few words that name no address,
	// user or database ("the database refused the sign-in"), for /healthz
	// to tell anyone; "" when the store did not say.
	Reason string
	// Inner says the error is read inside another's message — a dial's,
	// which the driver lists per address it tried — so it says its cause
	// alone: "store unreachable:" had appeared once per address in the
	// middle of one message.
	Inner bool
}

func (e *UnreachableError) Error() string {
	if e.Inner {
		return e.Err.Error()
	}
	return "store unreachable: " + e.Err.Error()
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// ErrorCode is unavailable (domain.Coder).
func (e *UnreachableError) ErrorCode() domain.Code { return domain.EUnavailable }

// Classifier is a store that can tell which of its errors mean it could
// not be reached or would not take a connection: Classify returns such an
// error as an *UnreachableError (a 503 with Retry-After), any other
// unchanged. Errors the store returns through other packages (auth's
// token and session lookups) keep the chain it reads.
type Classifier interface {
	Classify(err error) error
}

// Classify is st's Classify of err when st has one, else err.
func Classify(st any, err error) error {
	if c, ok := st.(Classifier); ok && err != nil {
		return c.Classify(err)
	}
	return err
}

// DamageReporter is a store that can tell it found its own file damaged
// (the embedded store: SQLite reporting a malformed page), nil while it has
// not. A health check asks it: a damaged page is found only by the
// statements that read it, so the store may answer every read while every
// write that touches the page fails.
type DamageReporter interface {
	Damaged() error
}

// FullReporter is a store that can tell its writes are failing for want
// of room (the embedded store: its file system full), nil once one has
// committed since. Reads go on meanwhile, so a health check says so
// rather than take the server out of service.
type FullReporter interface {
	Full() error
}

// Item is one record to write: its canonical JSON body plus provenance.
type Item struct {
	Key       domain.Key
	EventTime time.Time // zero for reference data
	Hash      string    // hex sha256 of the canonical body: equal hashes mean nothing changed
	// RawHash is the hex sha256 of the raw input the record came from (the
	// NDJSON line, or the CSV header and cells), kept for provenance: it
	// proves which bytes a stored record was made from.
	RawHash string
	Body    []byte // canonical JSON (domain record marshalled)
	// Fixed: the record is named by one event, whose body cannot change
	// (a CDEvent's deployment). If its key is stored with another hash —
	// committed, or written earlier in the batch — Add fails with a
	// *ChangedError and the batch must be rolled back. The check is made
	// in the writer's transaction, under its lock: made before the batch,
	// two instances could both pass it and the later body overwrite the
	// event's.
	Fixed bool
}

// ChangedError is a fixed item (Item.Fixed) whose key was stored with
// another body: the write is refused, and nothing of the batch may be
// committed.
type ChangedError struct {
	Key domain.Key
	// InBatch: the other body was written earlier in the same batch;
	// otherwise Seq and IngestedAt are the committed record's.
	InBatch    bool
	Seq        int64
	IngestedAt time.Time
}

func (e *ChangedError) Error() string {
	if e.InBatch {
		return fmt.Sprintf("%s was written earlier in the same batch with another body, which cannot change", e.Key)
	}
	return fmt.Sprintf("%s was recorded at %s (store sequence %d) with another body, which cannot change",
		e.Key, e.IngestedAt.UTC().Format(time.RFC3339), e.Seq)
}

// ErrorCode is conflict (domain.Coder): the input contradicts what is
// stored.
func (e *ChangedError) ErrorCode() domain.Code { return domain.EConflict }

// Stored is a record as kept by the store.
type Stored struct {
	Key        domain.Key
	Seq        int64 // increases with every write; a replaced record gets a new one
	IngestedAt time.Time
	EventTime  time.Time
	Hash       string
	RawHash    string
	Body       []byte
}

// BodyMatchesHash says whether the body still hashes to the hash it was
// stored with (the SHA-256 of the canonical body the ingest wrote): false
// when it was changed in the database behind Candor's back.
func (r Stored) BodyMatchesHash() bool {
	sum := sha256.Sum256(r.Body)
	return hex.EncodeToString(sum[:]) == r.Hash
}

// WriteResult counts what a write did. A record whose key exists with the
// same hash is left untouched (unchanged) so re-imports cost nothing
// downstream.
type WriteResult struct {
	Inserted  int64
	Replaced  int64
	Unchanged int64
	// Seq bounds the sequences the write gave its rows: none is above it,
	// and once committed every row up to it is in the store or was
	// replaced by a later write. A writer needing read-your-writes waits
	// for the engine to publish min(Seq, the store's last sequence) —
	// its own rows and nothing a later writer added (engine.WaitWritten).
	// 0 when nothing was inserted or replaced.
	Seq int64 `json:"-"`
}

func (r *WriteResult) Add(o WriteResult) {
	r.Inserted += o.Inserted
	r.Replaced += o.Replaced
	r.Unchanged += o.Unchanged
	r.Seq = max(r.Seq, o.Seq)
}

// Wrote sets Seq to last, the highest sequence the write may have given a
// row, when it inserted or replaced any (a write that changed nothing asks
// nobody to wait).
func (r *WriteResult) Wrote(last int64) {
	if r.Inserted+r.Replaced > 0 {
		r.Seq = last
	}
}

// Counts is r without Seq: what a write did, to compare with another
// write's, whose rows got other sequences.
func (r WriteResult) Counts() WriteResult {
	r.Seq = 0
	return r
}

// IngestKeeper is a batch whose replaced records can keep the time they
// were ingested at: a retention run's rewrite (identifiers pseudonymised,
// personal text erased) is not a record arriving, and an evidence pack of
// a period before the run had counted every record it redacted as stored
// after the period's end. The rewrite still gets a new sequence (readers
// see it), and the ledger's retention entry says it happened. Records the
// batch inserts are stamped as any batch's.
type IngestKeeper interface {
	KeepIngested()
	// WrittenFrom is the first sequence the batch's writes were given
	// (valid once one was made): with the last a write returned, the
	// range the ledger's retention entry names. Read apart, the store's
	// last sequence could take in another writer's rows on PostgreSQL,
	// whose batch takes the writer lock at its first write.
	WrittenFrom() int64
}

// Batch is an open all-or-nothing write: nothing is visible to readers
// until Commit, and Rollback (or a failed Commit) leaves the store as it
// was. Streaming imports add records in chunks so memory stays flat.
type Batch interface {
	Add(ctx context.Context, items []Item) (WriteResult, error)
	// AddEach is one Add per list, in order, returning each list's
	// result; on error nothing of the batch may be committed. A store
	// that can send small lists in one round trip does: group commit
	// writes every waiting webhook request this way.
	AddEach(ctx context.Context, lists [][]Item) ([]WriteResult, error)
	// LogDeliveries appends webhook deliveries to the delivery log in the
	// batch's transaction, so a delivery is logged if and only if its
	// records commit. created[i] is false for a counted delivery whose
	// source and delivery id a counted one already has (committed, or
	// earlier in ds): it is not stored, and its caller answers it as a
	// duplicate.
	LogDeliveries(ctx context.Context, ds []Delivery) (created []bool, err error)
	// AppendDocsOnce appends each document under its key, as
	// DocStore.AppendDocOnce does, in the batch's transaction: kept if and
	// only if the batch commits (a connector's event clock with the record
	// it orders). created[i] is false for a key its collection holds
	// already (committed, or earlier in the batch); that document is left
	// as it is.
	AppendDocsOnce(ctx context.Context, docs []KeyedDoc) (created []bool, err error)
	// Record makes Commit append entries to the audit ledger inside the
	// batch's transaction, after its writes: the batch is never committed
	// without them, nor they without it. (A store without a sealer drops
	// them; see LedgerStore.)
	Record(entries ...LedgerEntry)
	Commit() error
	Rollback() error
}

// AddInTurn is AddEach for stores that gain nothing by sending lists
// together.
func AddInTurn(ctx context.Context, b Batch, lists [][]Item) ([]WriteResult, error) {
	res := make([]WriteResult, len(lists))
	for i, items := range lists {
		r, err := b.Add(ctx, items)
		if err != nil {
			return nil, err
		}
		res[i] = r
	}
	return res, nil
}

// EachCommitter is a Batch that can add lists and commit in one step,
// sparing the store a round trip.
type EachCommitter interface {
	// CommitEach is AddEach then Commit. On success the batch has ended;
	// on error nothing of it was committed and the caller must still call
	// Rollback (harmless if the batch has ended).
	CommitEach(ctx context.Context, lists [][]Item) ([]WriteResult, error)
}

// CommitEach adds lists to b and commits it, in one step where b can.
// On error the caller must still Rollback b (which is harmless once b
// has ended).
func CommitEach(ctx context.Context, b Batch, lists [][]Item) ([]WriteResult, error) {
	if c, ok := b.(EachCommitter); ok {
		return c.CommitEach(ctx, lists)
	}
	res, err := b.AddEach(ctx, lists)
	if err != nil {
		return nil, err
	}
	if err := b.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// ShortBatch is a Batch that can be told it commits right after its next
// write (a group of webhook requests, not an import): it may then take
// with that write what it would otherwise take at the commit — on
// PostgreSQL the ledger's lock and head, saving a round trip. A batch not
// told so holds nothing beyond its writer lock until its commit, so that
// an import never holds up a sign-in's ledger append.
type ShortBatch interface {
	Batch
	CommitsNext()
}

// CommitsNext tells b, if it can use it, that it commits right after its
// next write.
func CommitsNext(b Batch) {
	if s, ok := b.(ShortBatch); ok {
		s.CommitsNext()
	}
}

// CommitSender is a Batch whose commit can be sent without waiting for
// its outcome, letting this process's next batch begin meanwhile. On
// PostgreSQL a commit is a round trip the writer otherwise spends idle;
// the next batch's writer lock is granted by the server only once this
// commit has ended, so sequences still become visible in order. The
// committer sends each webhook group's commit so and writes the next
// group while it is under way.
type CommitSender interface {
	Batch
	// SendCommit sends the commit; wait reports its outcome as Commit
	// would have, and ends the batch (on error nothing of it was
	// committed). wait must be called, once.
	SendCommit() (wait func() error)
}

// Tailer is a Store that reads the few rows after a sequence in one
// statement, without asking for its last sequence first: a follower's
// catch-up after a webhook group, which on PostgreSQL would otherwise pay
// a round trip more per group. Both stores implement it; the engine uses
// LastSeq and Scan for a store that does not.
type Tailer interface {
	// Tail calls fn, in Seq order, for the first records (at most max)
	// with Seq > afterSeq, all read in one snapshot. It returns the
	// highest Seq it handed to fn (afterSeq when none) and whether those
	// were every record after afterSeq in that snapshot; when they were,
	// that Seq is the snapshot's last (what LastSeq would have read).
	Tail(ctx context.Context, afterSeq int64, max int, fn func(Stored) error) (last int64, all bool, err error)
}

// Tail is st's Tail (Tailer) or, for a store without one, LastSeq and then
// Scan: more than max sequences after afterSeq may hold more than max
// rows, and is reported as not all without a scan; otherwise the scan
// stops after max rows (more were committed since LastSeq).
func Tail(ctx context.Context, st Store, afterSeq int64, max int, fn func(Stored) error) (last int64, all bool, err error) {
	if t, ok := st.(Tailer); ok {
		return t.Tail(ctx, afterSeq, max, fn)
	}
	if last, err = st.LastSeq(ctx); err != nil || last-afterSeq > int64(max) {
		return afterSeq, false, err
	}
	if last <= afterSeq {
		return afterSeq, true, nil
	}
	n := 0
	last, err = st.Scan(ctx, afterSeq, func(r Stored) error {
		if n == max {
			return errTailFull
		}
		n++
		return fn(r)
	})
	if errors.Is(err, errTailFull) {
		return last, false, nil
	}
	return last, err == nil, err
}

var errTailFull = errors.New("more rows than the tail holds")

// EachStored is the loop of a Scan or a Tail over a driver's rows: next
// moves to the next row and read reads it. It hands fn the rows after
// after — with max ≥ 0 at most max of them, all reporting whether there
// were no more — and returns the last Seq it handed out (after when none).
func EachStored(next func() bool, read func() (Stored, error), after int64, max int, fn func(Stored) error) (last int64, all bool, err error) {
	last = after
	for n := 0; next(); n++ {
		if n == max {
			return last, false, nil
		}
		r, err := read()
		if err != nil {
			return last, false, err
		}
		if err := fn(r); err != nil {
			return last, false, err
		}
		last = r.Seq
	}
	return last, true, nil
}

// Store is the storage interface. Implementations must be safe for
// concurrent use.
type Store interface {
	// Begin opens a write batch. Writers are serialised: in one process a
	// second Begin waits for the first batch to end; between processes
	// sharing a database, a batch's first write waits for the other's
	// batch to end (so a batch that writes nothing holds up no one).
	Begin(ctx context.Context) (Batch, error)
	// Scan calls fn for every record with Seq > afterSeq in Seq order and
	// returns the highest Seq seen (afterSeq when none). It is how the
	// metric engine loads and then follows new data.
	Scan(ctx context.Context, afterSeq int64, fn func(Stored) error) (int64, error)
	// ScanIngestedBefore calls fn, in Seq order, for every record whose
	// IngestedAt is before t. The database picks them: the rows ingested
	// since are neither decoded nor sent, so a check of a past period
	// (ledger.VerifyRecordsBefore) costs what that period held, not what
	// came after. (It still visits them: an index on ingested_at would be
	// paid by every import's write.)
	ScanIngestedBefore(ctx context.Context, t time.Time, fn func(Stored) error) error
	// Get returns one record or ErrNotFound.
	Get(ctx context.Context, key domain.Key) (Stored, error)
	// Counts returns the number of records per kind.
	Counts(ctx context.Context) (map[domain.Kind]int64, error)
	// LastSeq is the highest Seq committed; cheap, polled by readers to see
	// whether anything changed.
	LastSeq(ctx context.Context) (int64, error)
	DocStore
	AuthStore
	DeliveryStore
	LedgerStore
	SyncStore
	AdoptionStore
	Close() error
}

// Doc is one document of an append-only collection (reconciliation
// results; later gate decisions, alerts, …).
type Doc struct {
	Collection string
	// ID is assigned by the store: positive and increasing with every
	// append, across all collections, never reused.
	ID int64
	// CreatedAt is the store's clock at the append, in UTC.
	CreatedAt time.Time
	// Key is the key given to AppendDocOnce, unique within the collection;
	// empty for a document added with AppendDoc.
	Key string
	// Body is opaque to the store (callers keep JSON in it) and comes back
	// byte for byte.
	Body []byte
}

// DocStore is a small, generic, append-only document log: documents are
// added to a named collection and read back newest first; they are never
// changed or deleted. It lives beside the records, which are keyed and
// replaceable, for things Candor itself produces and must keep.
type DocStore interface {
	// AppendDoc durably stores body in collection and returns the stored
	// document. The collection name and the body must not be empty. Like a
	// batch, an append waits for an open write batch instead of failing.
	AppendDoc(ctx context.Context, collection string, body []byte) (Doc, error)
	// AppendDocOnce appends body under key unless the collection already
	// holds a document with that key, in which case nothing is written and
	// that document is returned, unchanged, with created false (body is
	// then ignored, even if it differs). The database enforces the key's
	// uniqueness, so of any number of callers racing with one key, in this
	// process or in others sharing the store, exactly one creates: work
	// that must happen once (a snapshot per time slot) stays once even
	// when two instances both believe they lead. The key must not be
	// empty: an unkeyed call would silently lose the guarantee the caller
	// asked for. Keys are compared byte for byte.
	AppendDocOnce(ctx context.Context, collection, key string, body []byte) (doc Doc, created bool, err error)
	// DocByKey returns the document AppendDocOnce stored under key, and
	// false when there is none: a read, for a caller that must not take
	// the key (a connector's merge reading the first review kept for it).
	DocByKey(ctx context.Context, collection, key string) (Doc, bool, error)
	// Docs returns the collection's documents newest first (highest ID
	// first), at most limit of them; limit <= 0 returns them all. A
	// collection nothing was appended to is empty, not an error.
	Docs(ctx context.Context, collection string, limit int) ([]Doc, error)
}

// KeyedDoc is a document to append once under its key, in a batch
// (Batch.AppendDocsOnce).
type KeyedDoc struct {
	Collection, Key string
	Body            []byte
}

// ErrInvalidDoc is returned (wrapped) by AppendDoc and AppendDocOnce for an
// empty collection name or body, and by AppendDocOnce for an empty key.
var ErrInvalidDoc = errors.New("invalid document")

// CheckDoc validates AppendDoc's arguments; implementations call it first.
func CheckDoc(collection string, body []byte) error {
	if collection == "" {
		return fmt.Errorf("%w: empty collection name", ErrInvalidDoc)
	}
	if len(body) == 0 {
		return fmt.Errorf("%w: empty body", ErrInvalidDoc)
	}
	return nil
}

// CheckKeyedDoc validates AppendDocOnce's arguments; implementations call
// it first.
func CheckKeyedDoc(collection, key string, body []byte) error {
	if err := CheckDoc(collection, body); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidDoc)
	}
	return nil
}

// Put writes items in one batch: a convenience for small writes (API
// bodies, tests).
func Put(ctx context.Context, s Store, items []Item) (WriteResult, error) {
	b, err := s.Begin(ctx)
	if err != nil {
		return WriteResult{}, err
	}
	res, err := b.Add(ctx, items)
	if err != nil {
		b.Rollback()
		return WriteResult{}, err
	}
	if err := b.Commit(); err != nil {
		return WriteResult{}, err
	}
	return res, nil
}

// AppendJSON appends v, encoded as JSON, to collection (DocStore.AppendDoc).
func AppendJSON(ctx context.Context, docs DocStore, collection string, v any) (Doc, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Doc{}, fmt.Errorf("%s document: %w", collection, err)
	}
	return docs.AppendDoc(ctx, collection, body)
}

// DecodeDocs reads a collection's documents, newest first, each decoded
// from JSON into a T and given its id by setID.
func DecodeDocs[T any](ctx context.Context, docs DocStore, collection string, setID func(*T, int64)) ([]T, error) {
	ds, err := docs.Docs(ctx, collection, 0)
	if err != nil {
		return nil, err
	}
	return DecodeEach(ds, setID)
}

// DecodeDocByKey decodes the document AppendDocOnce stored under key in
// collection into a T given its id by setID; nil when there is none.
func DecodeDocByKey[T any](ctx context.Context, docs DocStore, collection, key string, setID func(*T, int64)) (*T, error) {
	d, ok, err := docs.DocByKey(ctx, collection, key)
	if err != nil || !ok {
		return nil, err
	}
	out, err := DecodeEach([]Doc{d}, setID)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// DecodeEach decodes documents read, each from JSON into a T given its id
// by setID, in their order.
func DecodeEach[T any](ds []Doc, setID func(*T, int64)) ([]T, error) {
	out := make([]T, len(ds))
	for i, d := range ds {
		if err := json.Unmarshal(d.Body, &out[i]); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", d.Collection, d.ID, err)
		}
		setID(&out[i], d.ID)
	}
	return out, nil
}

// NewerSchemaError is a store whose schema_migrations holds versions this
// build does not know: a newer Candor migrated it, and an older one
// writing to it could corrupt what the newer schema means (a column it
// does not fill, a trigger it does not expect), so it is refused before
// anything is written.
type NewerSchemaError struct {
	// Where names the store: its file, or its PostgreSQL host and database.
	Where string
	// Version is the highest version applied; Known the highest this build
	// has.
	Version, Known int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("the store at %s was migrated by a newer Candor (schema version %d, this build knows up to %d): run the newer version, or restore a backup taken before the upgrade", e.Where, e.Version, e.Known)
}

// Migrations is what opening a store applied: the highest schema version
// it found (0 for a new store) and the versions it applied, in order.
type Migrations struct {
	From    int
	Applied []int
}

// Upgrade is the text an administrator is told when an open migrated an
// existing store ("" when it applied nothing or made a new store): an
// upgrade is otherwise silent, and the schema change is what an older
// Candor refuses afterwards.
func (m Migrations) Upgrade() string {
	if m.From == 0 || len(m.Applied) == 0 {
		return ""
	}
	return fmt.Sprintf("store migrated from schema version %d to %d (applied %s)", m.From, max(m.From, slices.Max(m.Applied)), strings.Trim(fmt.Sprint(m.Applied), "[]"))
}

// CheckSchemaVersions returns a NewerSchemaError when applied holds a
// version known does not. Any unknown version counts, not only a higher
// one: a version this build skipped is as foreign to it as a later one.
func CheckSchemaVersions(where string, applied []int, known []int) error {
	isKnown := map[int]bool{}
	highestKnown := 0
	for _, v := range known {
		isKnown[v] = true
		highestKnown = max(highestKnown, v)
	}
	unknown, highest := false, 0
	for _, v := range applied {
		highest = max(highest, v)
		if !isKnown[v] {
			unknown = true
		}
	}
	if !unknown {
		return nil
	}
	return &NewerSchemaError{Where: where, Version: highest, Known: highestKnown}
}
