package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/store"
)

// logDeliverySQL inserts a delivery; a counted one whose id is taken is
// not inserted (no row comes back).
const logDeliverySQL = `INSERT INTO deliveries (source, delivery_id, received_at, outcome, event, reason, payload_sha256, record_keys, truncated, headers, payload)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (source, delivery_id) WHERE outcome IN ('accepted', 'ignored') DO NOTHING RETURNING seq`

func deliveryArgs(d store.Delivery) []any {
	return []any{d.Source, d.DeliveryID, d.ReceivedAt.UnixNano(), d.Outcome, d.Event, d.Reason,
		d.PayloadSHA256, store.EncodeKeys(d.Keys), d.Truncated, store.EncodeHeaders(d.Headers), d.Payload}
}

// LogDelivery does not wait for record batches: the delivery log is a
// table of its own with its own sequence, like the auth tables.
func (s *DB) LogDelivery(ctx context.Context, d store.Delivery) (store.Delivery, bool, error) {
	return store.LogOnce(ctx, d, func(d *store.Delivery) (bool, error) {
		err := s.pool.QueryRow(ctx, logDeliverySQL, deliveryArgs(*d)...).Scan(&d.Seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}, s.CountedDelivery)
}

// LogDeliveries sends every insert in one round trip. The batch's
// transaction (and with it the writer lock) is opened first if no record
// was written yet: a delivery that carries only an ignored event still
// commits in order with the others.
func (b *batch) LogDeliveries(ctx context.Context, ds []store.Delivery) ([]bool, error) {
	if b.done {
		return nil, errors.New("batch already ended")
	}
	for _, d := range ds {
		if err := store.CheckDelivery(d); err != nil {
			return nil, err
		}
	}
	created := make([]bool, len(ds))
	if len(ds) == 0 {
		return created, nil
	}
	if err := b.ensureOpen(ctx); err != nil {
		return nil, err
	}
	var pb pgx.Batch
	for _, d := range ds {
		pb.Queue(logDeliverySQL, deliveryArgs(d)...)
	}
	br := b.tx.SendBatch(ctx, &pb)
	for i := range ds {
		var seq int64
		err := br.QueryRow().Scan(&seq)
		switch {
		case err == nil:
			created[i] = true
		case errors.Is(err, pgx.ErrNoRows):
		default:
			br.Close()
			return nil, err
		}
	}
	return created, br.Close()
}

func (s *DB) CountedDelivery(ctx context.Context, source, deliveryID string) (store.Delivery, error) {
	return store.ScanDelivery(s.pool.QueryRow(ctx, `SELECT `+store.DeliveryColumns+` FROM deliveries d
		WHERE d.source = $1 AND d.delivery_id = $2 AND d.outcome IN ('accepted', 'ignored')`, source, deliveryID), pgx.ErrNoRows)
}

func (s *DB) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, `SELECT `+store.DeliveryColumns+` FROM deliveries d
		WHERE ($1 = '' OR d.source = $1) AND ($2 = '' OR d.outcome = $2) AND d.received_at >= $3 AND d.received_at <= $4
		ORDER BY d.seq DESC LIMIT $5`, f.Source, f.Outcome, sinceNanos(f.Since), store.UntilNanos(f.Before), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, func(r store.RowScanner) (store.Delivery, error) { return store.ScanDelivery(r, pgx.ErrNoRows) })
}

// sinceNanos is a lower bound on received_at: the zero time is none.
func sinceNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// KeptPayloads reads a page at a time and calls fn with no cursor open: fn
// writes (a replay commits records), and memory stays bounded however
// many payloads are kept.
func (s *DB) KeptPayloads(ctx context.Context, source string, since time.Time, fn func(store.Delivery) error) error {
	return store.PagedPayloads(func(after int64) ([]store.Delivery, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+store.DeliveryColumns+`, d.payload FROM deliveries d
			WHERE d.source = $1 AND d.received_at >= $2 AND d.payload IS NOT NULL AND d.seq > $3 ORDER BY d.seq LIMIT $4`,
			source, sinceNanos(since), after, store.PayloadPage)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return store.CollectRows(rows, scanKept)
	}, fn)
}

func scanKept(r store.RowScanner) (store.Delivery, error) {
	var payload []byte
	d, err := store.ScanDelivery(r, pgx.ErrNoRows, &payload)
	d.Payload = payload
	return d, err
}

func (s *DB) ForgetPayloads(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET payload = NULL WHERE payload IS NOT NULL AND received_at < $1`, before.UnixNano())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (s *DB) DeliveryStats(ctx context.Context, source string, since, until time.Time) (store.DeliveryStats, error) {
	st := store.DeliveryStats{Counts: map[string]int64{}}
	rows, err := s.pool.Query(ctx, `SELECT outcome, count(*) FROM deliveries
		WHERE source = $1 AND received_at >= $2 AND received_at <= $3 GROUP BY outcome`, source, sinceNanos(since), store.UntilNanos(until))
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var outcome string
		var n int64
		if err := rows.Scan(&outcome, &n); err != nil {
			rows.Close()
			return st, err
		}
		st.Counts[outcome] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	if err := s.pool.QueryRow(ctx, fmt.Sprintf(store.NotLoggedSQL, "$1", "$2", "$3"), source, sinceNanos(since), store.UntilNanos(until)).Scan(&st.NotLogged); err != nil {
		return st, err
	}
	for _, q := range []struct {
		dest     *time.Time
		outcomes []string
	}{{&st.Last, []string{"accepted", "ignored", "duplicate", "rejected"}}, {&st.LastOK, []string{"accepted", "ignored", "duplicate"}}} {
		var at int64
		err := s.pool.QueryRow(ctx, `SELECT received_at FROM deliveries WHERE source = $1 AND received_at <= $2 AND outcome = ANY($3)
			ORDER BY received_at DESC LIMIT 1`, source, store.UntilNanos(until), q.outcomes).Scan(&at)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
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
	var b pgx.Batch
	for _, c := range counts {
		b.Queue(fmt.Sprintf(store.AddNotLoggedSQL, "$1", "$2", "$3"), c.Source, c.Minute.UnixNano(), c.Count)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
}
