package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The audit ledger (SPEC §5) is an append-only, hash-chained list of
// entries kept beside the records. The store keeps the rows, serialises
// appends (one chain, whatever the number of writers and instances) and
// appends entries inside the transactions that cause them; a Sealer
// (package ledger) turns entries into chained, signed rows, so the store
// knows nothing of hashing or keys.

// LedgerEntry is what a caller appends: a type, its data and its personal
// data, each a JSON object.
type LedgerEntry struct {
	Type string
	// Data is chained as given.
	Data []byte
	// Personal holds the personal fields (e-mail addresses, names, client
	// addresses, free text), nil when there are none. It is chained only
	// through a salted digest, so it can be erased later (retention)
	// without breaking the chain.
	Personal []byte
}

// LedgerRow is a sealed entry as stored.
type LedgerRow struct {
	// Seq is the entry's position: 1, 2, 3, … with no gaps.
	Seq int64
	// At is the store's clock when the entry was sealed, in UTC.
	At   time.Time
	Type string
	Data []byte
	// Personal and Salt are nil when the entry had no personal data or it
	// was erased; PersonalDigest stays: hex SHA-256 of Salt then Personal,
	// "" when the entry had none.
	Personal       []byte
	Salt           string
	PersonalDigest string
	// Prev is the hash of the entry before (64 zeros for the first), Hash
	// this entry's (hex SHA-256 over its canonical encoding, package
	// ledger), Sig the signature of Hash by the key KeyID names.
	Prev, Hash, KeyID, Sig string
}

// LedgerHead is the last entry's position and hash: Seq 0 and Hash ""
// for an empty ledger.
type LedgerHead struct {
	Seq  int64
	Hash string
}

// MarshalJSON writes the head as `candor ledger head` prints it and an
// evidence pack writes it, "SEQ:HASH" ("" for a ledger with no entry): one
// form to publish and to paste into `candor ledger verify --head`.
func (h LedgerHead) MarshalJSON() ([]byte, error) {
	if h.Seq == 0 {
		return []byte(`""`), nil
	}
	return json.Marshal(strconv.FormatInt(h.Seq, 10) + ":" + h.Hash)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (h *LedgerHead) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ledger head: want \"SEQ:HASH\": %w", err)
	}
	if s == "" {
		*h = LedgerHead{}
		return nil
	}
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 {
		return fmt.Errorf("ledger head %q: want SEQ:HASH", s)
	}
	*h = LedgerHead{Seq: n, Hash: hash}
	return nil
}

// Sealer chains and signs ledger entries; package ledger implements it.
type Sealer interface {
	// Seal returns entries as rows that follow head, stamped at, with
	// their seqs, hashes and signatures. The store calls it while it holds
	// the ledger lock, inside the transaction that will insert the rows.
	Seal(head LedgerHead, at time.Time, entries []LedgerEntry) ([]LedgerRow, error)
	// DocEntry is the ledger entry of a document just appended (in the
	// same transaction), or false when documents of the collection are
	// not chained. The access events (AccessCollection) are.
	DocEntry(doc Doc) (LedgerEntry, bool, error)
}

// LedgerStore keeps the ledger's rows. A store without a sealer keeps no
// ledger: appends fail with ErrNoSealer and batches and documents are
// written without entries. The candor binary always installs one.
type LedgerStore interface {
	// SetSealer installs the sealer; call it before the store is shared.
	SetSealer(Sealer)
	// Sealer returns the installed sealer, nil for none.
	Sealer() Sealer
	// AppendLedger appends entries, in order, after the current head, in
	// one transaction, and returns their rows. Appends from any number of
	// goroutines, processes and instances sharing the store keep one
	// chain.
	AppendLedger(ctx context.Context, entries ...LedgerEntry) ([]LedgerRow, error)
	// LedgerHead returns the last entry's position and hash.
	LedgerHead(ctx context.Context) (LedgerHead, error)
	// LedgerLast returns the last entry's row, the zero row for an empty
	// ledger: its head and who signed it in one read (a writing
	// command's check of its key, at every open).
	LedgerLast(ctx context.Context) (LedgerRow, error)
	// LedgerScan calls fn for every row with from ≤ Seq ≤ to in Seq order
	// (to ≤ 0: up to the head), as stored: nothing is checked.
	LedgerScan(ctx context.Context, from, to int64, fn func(LedgerRow) error) error
	// LedgerScanType is LedgerScan of the rows of one type: the database
	// leaves the others out (a record page's look for the retention runs
	// had read a million-entry ledger's every row, ~2.4 s).
	LedgerScanType(ctx context.Context, typ string, from, to int64, fn func(LedgerRow) error) error
	// LedgerSeqs translates a time range to seqs: the first seq stamped at
	// or after from and the last stamped before to (to zero: the head);
	// first > last when none is in the range.
	LedgerSeqs(ctx context.Context, from, to time.Time) (first, last int64, err error)
	// EraseLedgerPersonal erases the personal data (personal and salt) of
	// the entries stamped before before, keeping their personal digests,
	// and returns how many it erased: retention (SPEC §5). The chain still
	// verifies; the erased data cannot be brought back.
	EraseLedgerPersonal(ctx context.Context, before time.Time) (int64, error)
}

// EraseLedgerPersonalSQL is EraseLedgerPersonal's statement; its one
// parameter is before in unix nanoseconds. It is the one update the
// ledger's triggers allow.
const EraseLedgerPersonalSQL = `UPDATE ledger SET personal = NULL, salt = NULL WHERE at < %s AND personal IS NOT NULL`

// ErrNoSealer is returned by AppendLedger on a store without a sealer.
var ErrNoSealer = errors.New("the store has no ledger sealer (no ledger key configured)")

// LedgerColumns are the ledger table's columns in ScanLedgerRow's order.
const LedgerColumns = `seq, at, type, data, personal, salt, personal_digest, prev, hash, key_id, sig`

// ScanLedgerRow reads LedgerColumns.
func ScanLedgerRow(r RowScanner) (LedgerRow, error) {
	var row LedgerRow
	var at int64
	var data string
	var personal, salt *string
	err := r.Scan(&row.Seq, &at, &row.Type, &data, &personal, &salt, &row.PersonalDigest, &row.Prev, &row.Hash, &row.KeyID, &row.Sig)
	if err != nil {
		return row, err
	}
	row.At = time.Unix(0, at).UTC()
	row.Data = []byte(data)
	if personal != nil {
		row.Personal = []byte(*personal)
	}
	if salt != nil {
		row.Salt = *salt
	}
	return row, nil
}

// EachLedgerRow calls fn for every row of rows (LedgerColumns), which the
// caller closes.
func EachLedgerRow(rows Rows, fn func(LedgerRow) error) error {
	for rows.Next() {
		r, err := ScanLedgerRow(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LedgerSeqsSQL is LedgerSeqs' query; its two parameters are from and
// to in unix nanoseconds (LedgerSeqsArgs).
const LedgerSeqsSQL = `SELECT (SELECT min(seq) FROM ledger WHERE at >= %[1]s), (SELECT max(seq) FROM ledger WHERE at < %[2]s)`

// LedgerSeqsArgs are LedgerSeqsSQL's parameters: to zero means no end.
func LedgerSeqsArgs(from, to time.Time) []any {
	upper := int64(1<<63 - 1)
	if !to.IsZero() {
		upper = to.UnixNano()
	}
	return []any{from.UnixNano(), upper}
}

// LedgerSeqRange is LedgerSeqs' answer from the query's two values (nil
// when no row qualifies): an empty range (first > last) then.
func LedgerSeqRange(first, last *int64) (int64, int64) {
	if first == nil || last == nil {
		return 1, 0
	}
	return *first, *last
}

// LedgerArgs are a row's values in LedgerColumns' order, for an INSERT.
func LedgerArgs(r LedgerRow) []any {
	var personal, salt any
	if r.Personal != nil {
		personal, salt = string(r.Personal), r.Salt
	}
	return []any{r.Seq, r.At.UnixNano(), r.Type, string(r.Data), personal, salt, r.PersonalDigest, r.Prev, r.Hash, r.KeyID, r.Sig}
}

// CheckSealed checks rows a sealer returned before they are inserted: one
// per entry, following head without a gap. A sealer that breaks this
// would corrupt the chain for good.
func CheckSealed(head LedgerHead, entries []LedgerEntry, rows []LedgerRow) error {
	if len(rows) != len(entries) {
		return errors.New("ledger sealer returned a row count unlike the entries'")
	}
	prev := head
	for _, r := range rows {
		if r.Seq != prev.Seq+1 || (prev.Seq > 0 && r.Prev != prev.Hash) || r.Hash == "" {
			return errors.New("ledger sealer returned rows that do not follow the head")
		}
		prev = LedgerHead{Seq: r.Seq, Hash: r.Hash}
	}
	return nil
}

// SealerSlot holds a store's sealer; the zero value holds none. Both SQL
// stores embed one, and do the rest of their ledger work through it.
type SealerSlot struct{ p atomic.Pointer[Sealer] }

// SetSealer implements LedgerStore.SetSealer.
func (s *SealerSlot) SetSealer(x Sealer) { s.p.Store(&x) }

// Sealer is the installed sealer, or nil.
func (s *SealerSlot) Sealer() Sealer {
	if p := s.p.Load(); p != nil {
		return *p
	}
	return nil
}

// Seal seals entries after head, stamped at, and checks what the sealer
// returned. Call it with the ledger lock held.
func (s *SealerSlot) Seal(head LedgerHead, at time.Time, entries []LedgerEntry) ([]LedgerRow, error) {
	rows, err := s.Sealer().Seal(head, at.UTC(), entries)
	if err == nil {
		err = CheckSealed(head, entries, rows)
	}
	if err != nil {
		return nil, fmt.Errorf("sealing ledger entries: %w", err)
	}
	return rows, nil
}

// DocEntries is the ledger entry of a document just appended, if the
// sealer chains its collection: none, or one.
func (s *SealerSlot) DocEntries(d Doc) ([]LedgerEntry, error) {
	x := s.Sealer()
	if x == nil {
		return nil, nil
	}
	e, ok, err := x.DocEntry(d)
	if err != nil || !ok {
		return nil, err
	}
	return []LedgerEntry{e}, nil
}

// LedgerHeadSQL reads the head (ScanLedgerHead).
const LedgerHeadSQL = `SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`

// ScanLedgerHead reads LedgerHeadSQL's row; the driver's no-rows error
// is the empty ledger's head.
func ScanLedgerHead(r RowScanner, noRows error) (LedgerHead, error) {
	var h LedgerHead
	err := r.Scan(&h.Seq, &h.Hash)
	if errors.Is(err, noRows) {
		return LedgerHead{}, nil
	}
	return h, err
}

// LedgerLastSQL reads the last entry's row (ScanLedgerLast).
const LedgerLastSQL = `SELECT ` + LedgerColumns + ` FROM ledger ORDER BY seq DESC LIMIT 1`

// ScanLedgerLast reads LedgerLastSQL's row; the driver's no-rows error is
// the empty ledger's zero row.
func ScanLedgerLast(r RowScanner, noRows error) (LedgerRow, error) {
	row, err := ScanLedgerRow(r)
	if errors.Is(err, noRows) {
		return LedgerRow{}, nil
	}
	return row, err
}
