package ledger

import (
	"context"
	"encoding/json"
	"sync"
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
	// Redacted counts, for a check of the records stored before a time
	// (VerifyRecordsAt), those a retention run after it rewrote
	// (identifiers pseudonymised, personal text erased; no figure
	// changes): they keep the time they were stored at and are checked
	// against the hash they were rewritten with. RedactedBy are those
	// runs' ledger entries. A run before 2026-12-07 named no sequences, and
	// its rewrites are late records instead.
	Redacted   int64      `json:"redacted_after,omitempty"`
	RedactedBy []EntryRef `json:"redacted_by,omitempty"`
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
	runs, err := retentionRuns(ctx, st, t)
	if err != nil {
		return rep, late, err
	}
	hit := make([]bool, len(runs))
	_, err = st.Scan(ctx, 0, func(r store.Stored) error {
		if r.IngestedAt.Before(t) {
			rep.Checked++
			rep.Altered, rep.First = checkBody(r, rep.Altered, rep.First)
			for i, run := range runs {
				if r.Seq >= run.seqs.First && r.Seq <= run.seqs.Last {
					rep.Redacted++
					hit[i] = true
					break
				}
			}
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
	for i, run := range runs {
		if hit[i] {
			rep.RedactedBy = append(rep.RedactedBy, run.entry)
		}
	}
	return rep, late, err
}

// SeqRange is a run of store sequences, First to Last inclusive.
type SeqRange struct {
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// EntryRef names a ledger entry: its position and time.
type EntryRef struct {
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
}

// retentionRun is a retention run's entry and the sequences it gave the
// records it rewrote.
type retentionRun struct {
	entry EntryRef
	seqs  SeqRange
}

// retentionRuns are the retention runs chained at or after t that name the
// sequences of their rewrites (rewritten_seqs).
func retentionRuns(ctx context.Context, st store.LedgerStore, t time.Time) ([]retentionRun, error) {
	first, last, err := st.LedgerSeqs(ctx, t, time.Time{})
	if err != nil || first > last {
		return nil, err
	}
	var out []retentionRun
	err = st.LedgerScanType(ctx, TypeRetention, first, last, func(r store.LedgerRow) error {
		if run, ok := retentionRunOf(r); ok {
			out = append(out, run)
		}
		return nil
	})
	return out, err
}

// datedFrom says whether a record's canonical body holds a time or date
// at or after t (domain.NewestTime).
func datedFrom(body []byte, t time.Time) bool {
	n, ok := domain.NewestTime(body)
	return ok && !n.Before(t)
}

// RetentionIndex finds the retention run whose rewrite a record's stored
// version is, by the sequences each run's entry names (rewritten_seqs). It
// keeps the runs it has read and reads only the entries appended since its
// last use, so a server's record pages do not scan the ledger each time.
// The zero value is ready; it is safe for concurrent use.
type RetentionIndex struct {
	mu   sync.Mutex
	upto int64
	runs []retentionRun
}

// RunOf returns the retention run whose rewrite gave a record the sequence
// seq, nil when none did (the version came from an import, a webhook or a
// connector, or from a run before 2026-12-07, which named no sequences).
func (x *RetentionIndex) RunOf(ctx context.Context, st store.LedgerStore, seq int64) (*EntryRef, error) {
	head, err := st.LedgerHead(ctx)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if head.Seq < x.upto {
		// A ledger shorter than what was read (a store restored from a
		// backup): read it again.
		x.upto, x.runs = 0, nil
	}
	if head.Seq > x.upto {
		err := st.LedgerScanType(ctx, TypeRetention, x.upto+1, head.Seq, func(r store.LedgerRow) error {
			if run, ok := retentionRunOf(r); ok {
				x.runs = append(x.runs, run)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		x.upto = head.Seq
	}
	for _, run := range x.runs {
		if seq >= run.seqs.First && seq <= run.seqs.Last {
			e := run.entry
			return &e, nil
		}
	}
	return nil, nil
}

// retentionRunOf is the run a retention entry names, false for any other
// entry or a run that names no sequences.
func retentionRunOf(r store.LedgerRow) (retentionRun, bool) {
	if r.Type != TypeRetention {
		return retentionRun{}, false
	}
	var data struct {
		Seqs *SeqRange `json:"rewritten_seqs"`
	}
	if json.Unmarshal(r.Data, &data) != nil || data.Seqs == nil {
		return retentionRun{}, false
	}
	return retentionRun{entry: EntryRef{Seq: r.Seq, At: r.At.UTC()}, seqs: *data.Seqs}, true
}
