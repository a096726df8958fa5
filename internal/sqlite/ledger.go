package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/candor/candor/internal/store"
)

// The ledger's appends are serialised by SQLite's single writer: every
// write transaction here is BEGIN IMMEDIATE, which holds the database's
// write lock across processes from its start, so the head read inside it
// is the head the rows are inserted after. In this process the writer slot
// queues them first, as for batches.

// AppendLedger appends entries in a transaction of their own.
func (s *DB) AppendLedger(ctx context.Context, entries ...store.LedgerEntry) ([]store.LedgerRow, error) {
	if s.Sealer() == nil {
		return nil, store.ErrNoSealer
	}
	var rows []store.LedgerRow
	err := s.write(ctx, func(tx *sql.Tx) (err error) {
		rows, err = s.appendLedgerTx(ctx, tx, entries)
		return err
	})
	return rows, err
}

// appendLedgerTx seals entries after the head and inserts them in tx,
// which must be a write transaction. No sealer appends nothing.
func (s *DB) appendLedgerTx(ctx context.Context, tx *sql.Tx, entries []store.LedgerEntry) ([]store.LedgerRow, error) {
	if s.Sealer() == nil || len(entries) == 0 {
		return nil, nil
	}
	head, err := store.ScanLedgerHead(tx.QueryRowContext(ctx, store.LedgerHeadSQL), sql.ErrNoRows)
	if err != nil {
		return nil, err
	}
	rows, err := s.Seal(head, s.Now(), entries)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger (`+store.LedgerColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, store.LedgerArgs(r)...); err != nil {
			return nil, fmt.Errorf("appending to the ledger: %w", err)
		}
	}
	return rows, nil
}

// docLedgerTx appends the ledger entry of a document just inserted in tx,
// if its collection is chained.
func (s *DB) docLedgerTx(ctx context.Context, tx *sql.Tx, d store.Doc) error {
	entries, err := s.DocEntries(d)
	if err == nil {
		_, err = s.appendLedgerTx(ctx, tx, entries)
	}
	return err
}

func (s *DB) LedgerHead(ctx context.Context) (store.LedgerHead, error) {
	return store.ScanLedgerHead(s.queryRow(ctx, store.LedgerHeadSQL), sql.ErrNoRows)
}

func (s *DB) LedgerLast(ctx context.Context) (store.LedgerRow, error) {
	return store.ScanLedgerLast(s.queryRow(ctx, store.LedgerLastSQL), sql.ErrNoRows)
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
	q, args := `SELECT `+store.LedgerColumns+` FROM ledger WHERE seq >= ? AND seq <= ?`, []any{from, to}
	if typ != "" {
		// A condition of its own, not (? = '' OR type = ?), which SQLite
		// tests on every row.
		q, args = q+` AND type = ?`, append(args, typ)
	}
	rows, err := s.query(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return store.EachLedgerRow(rows, fn)
}

func (s *DB) EraseLedgerPersonal(ctx context.Context, before time.Time) (n int64, err error) {
	err = s.exclusive(ctx, func() error {
		res, err := s.db.ExecContext(ctx, fmt.Sprintf(store.EraseLedgerPersonalSQL, "?"), before.UnixNano())
		if err != nil {
			return fmt.Errorf("erasing the ledger's personal data: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

func (s *DB) LedgerSeqs(ctx context.Context, from, to time.Time) (int64, int64, error) {
	var first, last *int64
	if err := s.queryRow(ctx, fmt.Sprintf(store.LedgerSeqsSQL, "?", "?"), store.LedgerSeqsArgs(from, to)...).Scan(&first, &last); err != nil {
		return 0, 0, err
	}
	first2, last2 := store.LedgerSeqRange(first, last)
	return first2, last2, nil
}

func (s *DB) RedactDocs(ctx context.Context, docs []store.Doc) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, d := range docs {
			res, err := tx.ExecContext(ctx, `UPDATE docs SET body = ?, redacted = 1 WHERE id = ? AND collection = ? AND redacted = 0`, d.Body, d.ID, d.Collection)
			if err != nil {
				return fmt.Errorf("rewriting %s document %d: %w", d.Collection, d.ID, err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
