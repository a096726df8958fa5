package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Delivery outcomes (SPEC §10: ingestion loses nothing and counts nothing
// twice). Accepted and ignored deliveries are counted: their (source,
// delivery id) is unique, so a redelivery is recognised even by another
// instance. Duplicate and rejected ones are only logged.
const (
	// DeliveryAccepted wrote its records (possibly none changed).
	DeliveryAccepted = "accepted"
	// DeliveryIgnored was verified but carries an event Candor does not map.
	DeliveryIgnored = "ignored"
	// DeliveryDuplicate repeated the id of a counted delivery.
	DeliveryDuplicate = "duplicate"
	// DeliveryRejected was refused: bad or missing signature, no secret
	// configured, malformed payload, an identifier over its bound.
	DeliveryRejected = "rejected"
)

// Counted reports whether an outcome occupies its (source, delivery id).
func Counted(outcome string) bool {
	return outcome == DeliveryAccepted || outcome == DeliveryIgnored
}

// Delivery is one webhook delivery as the delivery log keeps it.
type Delivery struct {
	// Seq is assigned by the store: positive, increasing, never reused.
	Seq    int64
	Source string
	// DeliveryID is the sender's id of the delivery (a header or a payload
	// field, else the payload's sha256); "" when a rejected delivery
	// did not say.
	DeliveryID string
	ReceivedAt time.Time
	Outcome    string
	// Event is the sender's event type ("pull_request.closed").
	Event string
	// Reason says why a delivery was ignored or rejected.
	Reason string
	// PayloadSHA256 is the hex sha256 of the body as received; the records
	// made from it carry the same hash as their raw hash.
	PayloadSHA256 string
	// Keys are the records the delivery wrote.
	Keys []domain.Key
	// Truncated counts the free-text fields cut to SPEC §1's bound.
	Truncated int
	// Headers are the request headers the source's mapping reads (the
	// event type, the content type), kept for replay; never credentials
	// or signatures.
	Headers map[string]string
	// Payload is the body as received, kept for replay; nil when it was
	// not kept (a signature failure) or has been forgotten (retention).
	Payload []byte
	// Encoded says Payload is already in the store's own form: a store
	// that is a PayloadEncoder encoded it. Stores read payloads back
	// decoded.
	Encoded bool
}

// PayloadEncoder is a store that keeps payloads encoded (SQLite compresses
// them). The committer has each delivery's payload encoded on the
// caller's goroutine, before the delivery joins a group, so the single
// writer only copies it.
type PayloadEncoder interface {
	EncodePayload(d *Delivery)
}

// DeliveryLogFirst is a store whose batches log deliveries before their
// records at no extra cost: SQLite, in this process, with no round trip
// to save by sending the records with the transaction's opening. The
// committer then writes no records of a delivery counted already, and a
// connector need not look for a redelivery (a read of its own, before
// mapping) — the writer's transaction finds it (ingest.Committer).
type DeliveryLogFirst interface {
	LogsDeliveriesFirst()
}

// DeliveryFilter selects deliveries from the log.
type DeliveryFilter struct {
	Source  string    // "" for every source
	Outcome string    // "" for every outcome
	Since   time.Time // received at or after; zero for no bound
	Before  time.Time // received at or before; zero for no bound
	Limit   int       // at most this many, newest first; <= 0 for all
}

// DeliveryStore is the delivery log of the webhook connectors: every
// delivery with its outcome, and the payloads kept for replay.
type DeliveryStore interface {
	// LogDelivery appends d (its Seq is ignored) and returns it as stored.
	// A counted delivery (accepted or ignored) whose source and delivery id
	// a counted one already has is not stored: created is false and the
	// stored one is returned. Deliveries that write records go through a
	// Batch instead (LogDeliveries), so that they commit with them.
	LogDelivery(ctx context.Context, d Delivery) (stored Delivery, created bool, err error)
	// CountedDelivery returns the accepted or ignored delivery with the
	// source and delivery id, without its payload, or ErrNotFound.
	CountedDelivery(ctx context.Context, source, deliveryID string) (Delivery, error)
	// Deliveries returns the log's deliveries matching f, newest first,
	// without their payloads.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// KeptPayloads calls fn, oldest first, for every delivery of source
	// received at or after since whose payload is still kept.
	KeptPayloads(ctx context.Context, source string, since time.Time, fn func(Delivery) error) error
	// ForgetPayloads drops the payloads of deliveries received before
	// `before` (the rows stay) and returns how many it dropped.
	ForgetPayloads(ctx context.Context, before time.Time) (int64, error)
	// DeliveryStats summarises a source's deliveries for the data sources
	// report: counts by outcome of those received in [since, until], and
	// the newest one, and newest successful one, received at or before
	// until (a zero until is no bound); and the refusals not logged
	// (AddNotLogged) of the minutes beginning in [since, until].
	DeliveryStats(ctx context.Context, source string, since, until time.Time) (DeliveryStats, error)
	// AddNotLogged adds the counts to those kept, per source and minute
	// (one transaction): instances sharing the store add to one count.
	AddNotLogged(ctx context.Context, counts []NotLogged) error
}

// NotLogged counts the refused deliveries of a source received in a
// minute that were not logged one by one: past the rate a source's
// refusals are logged at (connect's refusalRate), each costs a count, not
// a row.
type NotLogged struct {
	Source string
	// Minute is the minute's start (UTC), when the refusals were received.
	Minute time.Time
	Count  int64
}

// AddNotLoggedSQL adds a count (source, minute in unix nanoseconds,
// count), with %[n]s for each store's placeholders.
const AddNotLoggedSQL = `INSERT INTO refusals_not_logged (source, minute, refused) VALUES (%[1]s, %[2]s, %[3]s)
	ON CONFLICT (source, minute) DO UPDATE SET refused = refusals_not_logged.refused + excluded.refused`

// NotLoggedSQL sums a source's counts of the minutes beginning in
// [since, until] (unix nanoseconds).
const NotLoggedSQL = `SELECT CAST(coalesce(sum(refused), 0) AS BIGINT) FROM refusals_not_logged WHERE source = %[1]s AND minute >= %[2]s AND minute <= %[3]s`

// CheckNotLogged validates counts before they are added.
func CheckNotLogged(counts []NotLogged) error {
	for _, c := range counts {
		switch {
		case c.Source == "":
			return fmt.Errorf("%w: a not-logged count without a source", ErrInvalidDelivery)
		case c.Count <= 0:
			return fmt.Errorf("%w: a not-logged count of %d for %s", ErrInvalidDelivery, c.Count, c.Source)
		case c.Minute.IsZero() || !c.Minute.Equal(c.Minute.Truncate(time.Minute)):
			return fmt.Errorf("%w: a not-logged count for %s at %s, not a minute's start", ErrInvalidDelivery, c.Source, c.Minute.Format(time.RFC3339Nano))
		}
	}
	return nil
}

// DeliveryStats is what the delivery log says of one source's health.
type DeliveryStats struct {
	// Counts are by outcome (accepted, duplicate, ignored, rejected); an
	// outcome no delivery had is absent.
	Counts map[string]int64
	// Last is when the newest delivery of any outcome was received; zero
	// when none was.
	Last time.Time
	// LastOK is when the newest successful delivery was received: one the
	// sender signed and Candor took — accepted, ignored or a duplicate.
	// Zero when none was.
	LastOK time.Time
	// NotLogged is how many refused deliveries of the minutes beginning
	// in [since, until] were counted without being logged (AddNotLogged):
	// they are not among Counts.
	NotLogged int64
}

// Succeeded reports whether an outcome shows a working connection: the
// delivery was verified and taken (its records, if any, stored).
func Succeeded(outcome string) bool {
	return outcome == DeliveryAccepted || outcome == DeliveryIgnored || outcome == DeliveryDuplicate
}

// LogOnce is LogDelivery over a store's insert, which stores d (setting
// its Seq) unless it is counted and its id taken, and its CountedDelivery.
func LogOnce(ctx context.Context, d Delivery, insert func(*Delivery) (bool, error), counted func(ctx context.Context, source, deliveryID string) (Delivery, error)) (Delivery, bool, error) {
	if err := CheckDelivery(d); err != nil {
		return Delivery{}, false, err
	}
	created, err := insert(&d)
	if err != nil || created {
		return d, created, err
	}
	stored, err := counted(ctx, d.Source, d.DeliveryID)
	if err != nil {
		return Delivery{}, false, fmt.Errorf("reading the delivery %s/%s: %w", d.Source, d.DeliveryID, err)
	}
	return stored, false, nil
}

// ErrInvalidDelivery is returned (wrapped) for a delivery the log cannot
// keep as given.
var ErrInvalidDelivery = errors.New("invalid delivery")

// CheckDelivery validates a delivery before it is stored; implementations
// call it first.
func CheckDelivery(d Delivery) error {
	switch {
	case d.Source == "":
		return fmt.Errorf("%w: no source", ErrInvalidDelivery)
	case d.Outcome != DeliveryAccepted && d.Outcome != DeliveryIgnored && d.Outcome != DeliveryDuplicate && d.Outcome != DeliveryRejected:
		return fmt.Errorf("%w: unknown outcome %q", ErrInvalidDelivery, d.Outcome)
	case Counted(d.Outcome) && d.DeliveryID == "":
		return fmt.Errorf("%w: an %s delivery needs its delivery id", ErrInvalidDelivery, d.Outcome)
	case d.ReceivedAt.IsZero():
		return fmt.Errorf("%w: no time of receipt", ErrInvalidDelivery)
	}
	return nil
}

// EncodeKeys is the stored form of a delivery's record keys: a JSON array
// of [kind, source, id] triples.
func EncodeKeys(keys []domain.Key) string {
	out := make([][3]string, len(keys))
	for i, k := range keys {
		out[i] = [3]string{string(k.Kind), k.Source, k.ID}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// DecodeKeys reads EncodeKeys's form.
func DecodeKeys(s string) ([]domain.Key, error) {
	var raw [][3]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("stored record keys %q: %w", s, err)
	}
	out := make([]domain.Key, len(raw))
	for i, k := range raw {
		out[i] = domain.Key{Kind: domain.Kind(k[0]), Source: k[1], ID: k[2]}
	}
	return out, nil
}

// DeliveryColumns selects a delivery from "deliveries d" in ScanDelivery's
// order, without the payload.
const DeliveryColumns = `d.seq, d.source, d.delivery_id, d.received_at, d.outcome, d.event, d.reason, d.payload_sha256, d.record_keys, d.truncated, d.headers`

// ScanDelivery reads DeliveryColumns, then extra destinations; the
// driver's no-rows error becomes ErrNotFound.
func ScanDelivery(r RowScanner, noRows error, extra ...any) (Delivery, error) {
	var d Delivery
	var received int64
	var keys, headers string
	dest := append([]any{&d.Seq, &d.Source, &d.DeliveryID, &received, &d.Outcome, &d.Event, &d.Reason, &d.PayloadSHA256, &keys, &d.Truncated, &headers}, extra...)
	if err := r.Scan(dest...); err != nil {
		if errors.Is(err, noRows) {
			return d, ErrNotFound
		}
		return d, err
	}
	d.ReceivedAt = time.Unix(0, received).UTC()
	var err error
	if d.Keys, err = DecodeKeys(keys); err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
		return d, fmt.Errorf("stored headers %q: %w", headers, err)
	}
	return d, nil
}

// EncodeHeaders is the stored form of a delivery's headers: a JSON object.
func EncodeHeaders(h map[string]string) string {
	if h == nil {
		return "{}"
	}
	b, _ := json.Marshal(h)
	return string(b)
}

// PayloadPage is how many kept payloads KeptPayloads reads at a time.
const PayloadPage = 100

// PagedPayloads is KeptPayloads over a page reader: page returns the next
// deliveries after seq `after`, oldest first, at most PayloadPage.
func PagedPayloads(page func(after int64) ([]Delivery, error), fn func(Delivery) error) error {
	var after int64
	for {
		ds, err := page(after)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := fn(d); err != nil {
				return err
			}
			after = d.Seq
		}
		if len(ds) < PayloadPage {
			return nil
		}
	}
}
