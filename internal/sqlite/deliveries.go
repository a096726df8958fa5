package sqlite

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/golang/snappy"

	"github.com/candor/candor/internal/store"
)

// logDeliverySQL inserts a delivery; a counted one whose id is taken is
// not inserted (no row changes). Without RETURNING: SQLite runs a
// RETURNING clause as a trigger, which makes the insert a statement that
// may write several rows, and so copies every page it touches to a
// statement journal first (16 KB each, five or six pages a delivery).
const logDeliverySQL = `INSERT INTO deliveries (source, delivery_id, received_at, outcome, event, reason, payload_sha256, record_keys, truncated, headers, payload)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (source, delivery_id) WHERE outcome IN ('accepted', 'ignored') DO NOTHING`

// countedDeliverySQL finds the counted delivery of a source and id.
const countedDeliverySQL = `SELECT ` + store.DeliveryColumns + ` FROM deliveries d
	WHERE d.source = ? AND d.delivery_id = ? AND d.outcome IN ('accepted', 'ignored')`

// logDelivery inserts d with q, the prepared logDeliverySQL of a
// connection or a transaction; created is false when its id was taken.
func logDelivery(ctx context.Context, q *sql.Stmt, d *store.Delivery) (created bool, err error) {
	if err := store.CheckDelivery(*d); err != nil {
		return false, err
	}
	var payload any
	switch {
	case d.Payload != nil && d.Encoded:
		payload = d.Payload
	case d.Payload != nil:
		payload = encodePayload(d.Payload)
	}
	r, err := q.ExecContext(ctx, d.Source, d.DeliveryID, d.ReceivedAt.UnixNano(), d.Outcome, d.Event, d.Reason,
		d.PayloadSHA256, store.EncodeKeys(d.Keys), d.Truncated, store.EncodeHeaders(d.Headers), payload)
	if err != nil {
		return false, err
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	d.Seq, err = r.LastInsertId()
	return err == nil, err
}

// LogDelivery takes the writer slot like a batch, so it queues behind an
// import instead of failing on SQLite's busy lock.
func (s *DB) LogDelivery(ctx context.Context, d store.Delivery) (store.Delivery, bool, error) {
	return store.LogOnce(ctx, d, func(d *store.Delivery) (added bool, err error) {
		err = s.exclusive(ctx, func() (err error) {
			added, err = logDelivery(ctx, s.logDelivery, d)
			return err
		})
		return added, err
	}, s.CountedDelivery)
}

func (b *batch) LogDeliveries(ctx context.Context, ds []store.Delivery) ([]bool, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	created := make([]bool, len(ds))
	st := b.tx.StmtContext(ctx, b.s.logDelivery)
	defer st.Close()
	for i := range ds {
		d := ds[i]
		var err error
		if created[i], err = logDelivery(ctx, st, &d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// LogsDeliveriesFirst: a batch's statements run in this process, in
// any order at the same cost (store.DeliveryLogFirst).
func (s *DB) LogsDeliveriesFirst() {}

func (s *DB) CountedDelivery(ctx context.Context, source, deliveryID string) (store.Delivery, error) {
	return store.ScanDelivery(s.stmtRow(ctx, s.countedDelivery, source, deliveryID), sql.ErrNoRows)
}

func (s *DB) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.query(ctx, `SELECT `+store.DeliveryColumns+` FROM deliveries d
		WHERE (? = '' OR d.source = ?) AND (? = '' OR d.outcome = ?) AND d.received_at >= ? AND d.received_at <= ?
		ORDER BY d.seq DESC LIMIT ?`, f.Source, f.Source, f.Outcome, f.Outcome, sinceNanos(f.Since), store.UntilNanos(f.Before), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.Delivery, error) { return store.ScanDelivery(r, sql.ErrNoRows) })
}

// sinceNanos is a lower bound on received_at: the zero time is none.
func sinceNanos(t time.Time) int64 {
	if t.IsZero() {
		return -1 << 63
	}
	return t.UnixNano()
}

// KeptPayloads reads a page at a time and calls fn with no cursor open: fn
// writes (a replay commits records), and memory stays bounded however
// many payloads are kept.
func (s *DB) KeptPayloads(ctx context.Context, source string, since time.Time, fn func(store.Delivery) error) error {
	return store.PagedPayloads(func(after int64) ([]store.Delivery, error) {
		rows, err := s.query(ctx, `SELECT `+store.DeliveryColumns+`, d.payload FROM deliveries d
			WHERE d.source = ? AND d.received_at >= ? AND d.payload IS NOT NULL AND d.seq > ? ORDER BY d.seq LIMIT ?`,
			source, sinceNanos(since), after, store.PayloadPage)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return store.CollectRows(rows, func(r store.RowScanner) (store.Delivery, error) {
			var payload []byte
			d, err := store.ScanDelivery(r, sql.ErrNoRows, &payload)
			if err != nil {
				return d, err
			}
			if d.Payload, err = decodePayload(payload); err != nil {
				return d, fmt.Errorf("the kept payload of delivery %d: %w", d.Seq, err)
			}
			return d, nil
		})
	}, fn)
}

func (s *DB) ForgetPayloads(ctx context.Context, before time.Time) (n int64, err error) {
	err = s.exclusive(ctx, func() error {
		r, err := s.db.ExecContext(ctx, `UPDATE deliveries SET payload = NULL WHERE payload IS NOT NULL AND received_at < ?`, before.UnixNano())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return n, err
}

// EncodePayload compresses d's payload, off the writer
// (store.PayloadEncoder).
func (s *DB) EncodePayload(d *store.Delivery) {
	if d.Payload != nil && !d.Encoded {
		d.Payload, d.Encoded = encodePayload(d.Payload), true
	}
}

// Payloads are kept compressed: webhook bodies are verbose JSON that
// shrinks five- to tenfold, and a 20 KB GitHub payload written as is
// spills into overflow pages, which cost the single writer more than
// compressing it does. Snappy, not deflate: deflate's fastest level took
// 50 µs of CPU for a 25 KB pull request payload and was the largest
// single cost of a webhook delivery (15-20 %); Snappy takes 7 µs for
// 3.7 KB instead of 2.8 KB, still well inside a 16 KB page. (PostgreSQL
// compresses large values itself.)
//
// snappyMark starts a Snappy-compressed payload (block format after it).
// Payloads kept by earlier versions are raw deflate streams, which never
// start with it: 0xff would be a final block of the reserved type 3.
const snappyMark = 0xff

func encodePayload(b []byte) []byte {
	// Snappy needs room for its bound, ~1.17 times the payload, and uses
	// a seventh of it: the bound goes in a reused scratch buffer and only
	// the encoding is kept. (Allocating the bound for every delivery was
	// a quarter of the bytes a webhook delivery allocated.)
	bound := snappy.MaxEncodedLen(len(b))
	scratch := payloadScratch.Get().(*[]byte)
	defer payloadScratch.Put(scratch)
	if cap(*scratch) < bound {
		*scratch = make([]byte, bound)
	}
	enc := snappy.Encode((*scratch)[:bound], b)
	out := make([]byte, 1+len(enc))
	out[0] = snappyMark
	copy(out[1:], enc)
	return out
}

// payloadScratch holds the buffers encodePayload compresses into. A
// sync.Pool is emptied by the collector, but at a delivery's size (tens
// of kilobytes) remaking one after a collection costs little.
var payloadScratch = sync.Pool{New: func() any { return new([]byte) }}

// decodePayload reads a kept payload back: Snappy behind its mark, else
// deflated by an earlier version.
func decodePayload(b []byte) ([]byte, error) {
	if len(b) > 0 && b[0] == snappyMark {
		return snappy.Decode(nil, b[1:])
	}
	return io.ReadAll(flate.NewReader(bytes.NewReader(b)))
}

func (s *DB) DeliveryStats(ctx context.Context, source string, since, until time.Time) (store.DeliveryStats, error) {
	st := store.DeliveryStats{Counts: map[string]int64{}}
	rows, err := s.query(ctx, `SELECT outcome, count(*) FROM deliveries
		WHERE source = ? AND received_at >= ? AND received_at <= ? GROUP BY outcome`, source, sinceNanos(since), store.UntilNanos(until))
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var outcome string
		var n int64
		if err := rows.Scan(&outcome, &n); err != nil {
			return st, err
		}
		st.Counts[outcome] = n
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	if err := s.queryRow(ctx, fmt.Sprintf(store.NotLoggedSQL, "?", "?", "?"), source, sinceNanos(since), store.UntilNanos(until)).Scan(&st.NotLogged); err != nil {
		return st, err
	}
	for _, q := range []struct {
		dest     *time.Time
		outcomes string
	}{{&st.Last, `'accepted', 'ignored', 'duplicate', 'rejected'`}, {&st.LastOK, `'accepted', 'ignored', 'duplicate'`}} {
		var at int64
		err := s.queryRow(ctx, `SELECT received_at FROM deliveries WHERE source = ? AND received_at <= ? AND outcome IN (`+q.outcomes+`)
			ORDER BY received_at DESC LIMIT 1`, source, store.UntilNanos(until)).Scan(&at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return st, err
		default:
			*q.dest = time.Unix(0, at).UTC()
		}
	}
	return st, nil
}

func (s *DB) AddNotLogged(ctx context.Context, counts []store.NotLogged) error {
	if err := store.CheckNotLogged(counts); err != nil || len(counts) == 0 {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, fmt.Sprintf(store.AddNotLoggedSQL, "?", "?", "?"))
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range counts {
			if _, err := st.ExecContext(ctx, c.Source, c.Minute.UnixNano(), c.Count); err != nil {
				return err
			}
		}
		return nil
	})
}
