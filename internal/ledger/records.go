package ledger

import (
	"context"
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
		rep.Altered, rep.First = checkBody(r, rep.Altered, rep.First)
		return nil
	}
	if t.IsZero() {
		_, err := st.Scan(ctx, 0, check)
		return rep, err
	}
	return rep, st.ScanIngestedBefore(ctx, t, check)
}

// checkBody counts r in altered, naming it in first (up to MaxAltered),
// when its body no longer hashes to its stored hash.
func checkBody(r store.Stored, altered int64, first []AlteredRecord) (int64, []AlteredRecord) {
	if r.BodyMatchesHash() {
		return altered, first
	}
	if len(first) < MaxAltered {
		first = append(first, AlteredRecord{Kind: r.Key.Kind, Source: r.Key.Source, ID: r.Key.ID, Seq: r.Seq})
	}
	return altered + 1, first
}

// LateReport counts the records stored at or after a period's end that
// are not dated after it (their event time before it, or none): an
// evidence pack's figures and checks read them as the store holds them
// when it is built, though the period's end did not have them — a
// backdated import changes the pack. Their bodies are checked against
// their hashes as VerifyRecords checks.
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

// VerifyRecordsAt is VerifyRecordsBefore(t) and the late records of t in
// one read of the store: those stored at or after t holding no time or
// date at or after t — not their event time, nor any other field (an
// incident sent again with its post-mortem done after the period changes
// nothing as of its end, and had been counted). The pack had read the
// records before t by their ingestion and then every record again.
func VerifyRecordsAt(ctx context.Context, st store.Store, t time.Time) (RecordsReport, LateReport, error) {
	var rep RecordsReport
	var late LateReport
	_, err := st.Scan(ctx, 0, func(r store.Stored) error {
		if r.IngestedAt.Before(t) {
			rep.Checked++
			rep.Altered, rep.First = checkBody(r, rep.Altered, rep.First)
			return nil
		}
		if !r.EventTime.Before(t) || datedFrom(r.Body, t) {
			return nil
		}
		late.Count++
		at := r.IngestedAt.UTC()
		if late.FirstStored == nil || at.Before(*late.FirstStored) {
			late.FirstStored = &at
		}
		if late.LastStored == nil || at.After(*late.LastStored) {
			last := at
			late.LastStored = &last
		}
		late.Altered, late.First = checkBody(r, late.Altered, late.First)
		return nil
	})
	return rep, late, err
}

// datedFrom says whether a record's canonical body holds a time or date
// at or after t (domain.NewestTime).
func datedFrom(body []byte, t time.Time) bool {
	n, ok := domain.NewestTime(body)
	return ok && !n.Before(t)
}
