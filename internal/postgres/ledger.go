package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/store"
)

// ledgerLockKey is the transaction-level advisory lock every ledger append
// holds from reading the head until it commits, so appends from every
// instance extend one chain. It is not the writer lock: a sign-in must not
// wait for an import. A record batch takes it only at its commit, or with
// its write when told that it commits right after (a webhook group,
// store.ShortBatch), after the writer lock it already holds (always in
// that order, so the two cannot deadlock). Never change it ("cand" "ledg").
const ledgerLockKey int64 = 0x63616e64_6c656467

// AppendLedger appends entries in a transaction of their own.
func (s *DB) AppendLedger(ctx context.Context, entries ...store.LedgerEntry) ([]store.LedgerRow, error) {
	if s.Sealer() == nil {
		return nil, store.ErrNoSealer
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())
	rows, err := s.appendLedgerTx(ctx, tx, entries)
	if err != nil {
		return nil, err
	}
	return rows, tx.Commit(ctx)
}

// appendLedgerTx takes the ledger lock in tx, seals entries after the head
// and inserts them; the lock is held until tx ends. No sealer appends
// nothing.
func (s *DB) appendLedgerTx(ctx context.Context, tx pgx.Tx, entries []store.LedgerEntry) ([]store.LedgerRow, error) {
	var pb pgx.Batch
	rows, err := s.queueLedgerAppend(ctx, tx, nil, entries, &pb)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	if err := tx.SendBatch(ctx, &pb).Close(); err != nil {
		return nil, fmt.Errorf("postgres: appending to the ledger: %w", err)
	}
	return rows, nil
}

// queueLedgerAppend seals entries after head — read now, taking the ledger
// lock in tx, when nil — and queues their inserts in pb, for the caller to
// send (with COMMIT, in a batch's). No sealer appends nothing.
func (s *DB) queueLedgerAppend(ctx context.Context, tx pgx.Tx, head *store.LedgerHead, entries []store.LedgerEntry, pb *pgx.Batch) ([]store.LedgerRow, error) {
	if s.Sealer() == nil || len(entries) == 0 {
		return nil, nil
	}
	if head == nil {
		h, err := s.ledgerHeadTx(ctx, tx)
		if err != nil {
			return nil, err
		}
		head = &h
	}
	rows, err := s.Seal(*head, s.Now(), entries)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		pb.Queue(`INSERT INTO ledger (`+store.LedgerColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, store.LedgerArgs(r)...)
	}
	return rows, nil
}

// ledgerHeadTx takes the ledger lock in tx and reads the head, in one
// round trip; the lock is held until tx ends.
func (s *DB) ledgerHeadTx(ctx context.Context, tx pgx.Tx) (store.LedgerHead, error) {
	var pb pgx.Batch
	queueLedgerHead(&pb)
	br := tx.SendBatch(ctx, &pb)
	head, err := readLedgerHead(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return head, err
}

// queueLedgerHead queues taking the ledger lock and reading the head,
// whose results readLedgerHead reads. The head is read by a statement of
// its own, after the lock: in READ COMMITTED a statement's snapshot is
// taken when it starts, so it sees the append of whoever held the lock
// before.
func queueLedgerHead(pb *pgx.Batch) {
	pb.Queue(`SELECT pg_advisory_xact_lock($1)`, ledgerLockKey)
	pb.Queue(store.LedgerHeadSQL)
}

func readLedgerHead(br pgx.BatchResults) (store.LedgerHead, error) {
	_, err := br.Exec()
	var head store.LedgerHead
	if err == nil {
		head, err = store.ScanLedgerHead(br.QueryRow(), pgx.ErrNoRows)
	}
	if err != nil {
		return head, fmt.Errorf("postgres: reading the ledger head: %w", err)
	}
	return head, nil
}

// docLedgerTx appends the ledger entry of a document just inserted in tx,
// if its collection is chained.
func (s *DB) docLedgerTx(ctx context.Context, tx pgx.Tx, d store.Doc) error {
	entries, err := s.DocEntries(d)
	if err == nil {
		_, err = s.appendLedgerTx(ctx, tx, entries)
	}
	return err
}

func (s *DB) LedgerHead(ctx context.Context) (store.LedgerHead, error) {
	return store.ScanLedgerHead(s.pool.QueryRow(ctx, store.LedgerHeadSQL), pgx.ErrNoRows)
}

func (s *DB) LedgerLast(ctx context.Context) (store.LedgerRow, error) {
	return store.ScanLedgerLast(s.pool.QueryRow(ctx, store.LedgerLastSQL), pgx.ErrNoRows)
}

func (s *DB) LedgerScan(ctx context.Context, from, to int64, fn func(store.LedgerRow) error) error {
	return s.ledgerScan(ctx, "", from, to, fn)
}

func (s *DB) LedgerScanType(ctx context.Context, typ string, from, to int64, fn func(store.LedgerRow) error) error {
	return s.ledgerScan(ctx, typ, from, to, fn)
}

// ledgerScan is LedgerScan of the rows of type typ, of every type when "".
func (s *DB) ledgerScan(ctx context.Context, typ string, from, to int64, fn func(store.LedgerRow) error) error {
	if to <= 0 {
		to = 1<<63 - 1
	}
	q, args := `SELECT `+store.LedgerColumns+` FROM ledger WHERE seq >= $1 AND seq <= $2`, []any{from, to}
	if typ != "" {
		q, args = q+` AND type = $3`, append(args, typ)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return store.EachLedgerRow(rows, fn)
}

func (s *DB) EraseLedgerPersonal(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, fmt.Sprintf(store.EraseLedgerPersonalSQL, "$1"), before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("erasing the ledger's personal data: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *DB) LedgerSeqs(ctx context.Context, from, to time.Time) (int64, int64, error) {
	var first, last *int64
	if err := s.pool.QueryRow(ctx, fmt.Sprintf(store.LedgerSeqsSQL, "$1", "$2"), store.LedgerSeqsArgs(from, to)...).Scan(&first, &last); err != nil {
		return 0, 0, err
	}
	first2, last2 := store.LedgerSeqRange(first, last)
	return first2, last2, nil
}

func (s *DB) RedactDocs(ctx context.Context, docs []store.Doc) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var n int64
	for _, d := range docs {
		tag, err := tx.Exec(ctx, `UPDATE docs SET body = $1, redacted = true WHERE id = $2 AND collection = $3 AND NOT redacted`, d.Body, d.ID, d.Collection)
		if err != nil {
			return 0, fmt.Errorf("rewriting %s document %d: %w", d.Collection, d.ID, err)
		}
		n += tag.RowsAffected()
	}
	return n, tx.Commit(ctx)
}
