package ledger

import (
	"context"
	"encoding/json"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// The ledger pins what each batch of records wrote (a records entry's
// content_sha256 over the versions' keys and hashes), but a record's body
// sits in the records table beside its hash, and an UPDATE of the body
// alone changed ARR from amber to green while the ledger still verified:
// nothing read the body against the hash it was stored with. A body
// rewritten together with a hash that matches it is not caught here (the
// store keeps only each record's current version, so the batches'
// content hashes cannot be recomputed); docs/ledger.md says so.

// RecordsReport is a check of every stored record's body against its
// stored hash.
type RecordsReport struct {
	Checked int64 `json:"checked"`
	// Altered counts the records whose body no longer hashes to the
	// hash stored with it; First names up to MaxAltered of them, in store
	// order.
	Altered int64           `json:"altered"`
	First   []AlteredRecord `json:"first,omitempty"`
}

// AlteredRecord names a record whose body does not match its hash.
type AlteredRecord struct {
	Kind   domain.Kind `json:"kind"`
	Source string      `json:"source"`
	ID     string      `json:"id"`
	Seq    int64       `json:"seq"`
}

func (a AlteredRecord) String() string {
	return domain.Key{Kind: a.Kind, Source: a.Source, ID: a.ID}.Words()
}

// MaxAltered is how many altered records a RecordsReport names.
const MaxAltered = 20

// VerifyRecords reads every stored record and checks that its body's
// SHA-256 is the hash stored with it (the hash of the canonical body the
// ingest wrote). An error is a failure to read, not an altered record.
func VerifyRecords(ctx context.Context, st store.Store) (RecordsReport, error) {
	return VerifyRecordsBefore(ctx, st, time.Time{})
}

// VerifyRecordsBefore is VerifyRecords for the records stored (ingested)
// before t, all of them for a zero t: an evidence pack checks those its
// period's end had, so building it again after more records arrived
// gives the same result, and still reads each as stored when it is built.
// The store picks those records (ScanIngestedBefore): a pack of a past
// period had read every record since as well, to skip it.
func VerifyRecordsBefore(ctx context.Context, st store.Store, t time.Time) (RecordsReport, error) {
	var rep RecordsReport
	check := func(r store.Stored) error {
		rep.Checked++
		if !r.BodyMatchesHash() {
			rep.Altered++
			if len(rep.First) < MaxAltered {
				rep.First = append(rep.First, AlteredRecord{Kind: r.Key.Kind, Source: r.Key.Source, ID: r.Key.ID, Seq: r.Seq})
			}
		}
		return nil
	}
	if t.IsZero() {
		_, err := st.Scan(ctx, 0, check)
		return rep, err
	}
	return rep, st.ScanIngestedBefore(ctx, t, check)
}

// LateReport counts the records stored at or after a period's end that
// are not dated after it (their event time before it, or none): an
// evidence pack's figures and
// checks read them as the store holds them when it is built, though the
// period's end did not have them — a backdated import changes the pack.
// Their bodies are checked against their hashes as VerifyRecords checks.
type LateReport struct {
	Count int64 `json:"count"`
	// FirstStored and LastStored are when the first and the last of them
	// were stored; nil when there are none.
	FirstStored *time.Time `json:"first_stored,omitempty"`
	LastStored  *time.Time `json:"last_stored,omitempty"`
	// Altered and First are as RecordsReport's, of these records.
	Altered int64           `json:"altered"`
	First   []AlteredRecord `json:"first,omitempty"`
}

// LateRecords reads the records stored at or after t and reports those
// not dated after t: neither their event time nor any other time or date
// they hold at or after t — an incident sent again with its post-mortem
// done after the period changes nothing as of its end, and had been
// counted. It reads the whole store (the stores pick records by
// ingestion only before a time).
func LateRecords(ctx context.Context, st store.Store, t time.Time) (LateReport, error) {
	var rep LateReport
	_, err := st.Scan(ctx, 0, func(r store.Stored) error {
		if r.IngestedAt.Before(t) || !r.EventTime.Before(t) || datedFrom(r.Body, t) {
			return nil
		}
		rep.Count++
		at := r.IngestedAt.UTC()
		if rep.FirstStored == nil || at.Before(*rep.FirstStored) {
			rep.FirstStored = &at
		}
		if rep.LastStored == nil || at.After(*rep.LastStored) {
			last := at
			rep.LastStored = &last
		}
		if !r.BodyMatchesHash() {
			rep.Altered++
			if len(rep.First) < MaxAltered {
				rep.First = append(rep.First, AlteredRecord{Kind: r.Key.Kind, Source: r.Key.Source, ID: r.Key.ID, Seq: r.Seq})
			}
		}
		return nil
	})
	return rep, err
}

// datedFrom says whether a record's canonical body holds a time or date
// at or after t in any of its top-level fields (RFC 3339 times, dates).
func datedFrom(body []byte, t time.Time) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return false
	}
	for _, raw := range fields {
		var s string
		if len(raw) < 2 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			if at, err = time.Parse(time.DateOnly, s); err != nil {
				continue
			}
		}
		if !at.Before(t) {
			return true
		}
	}
	return false
}
