package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// StoredRecord is one record as the store keeps it, with its provenance:
// the answer of GET /api/v1/records/{kind}/{source}/{id} and of `candor
// record --format json`. A drill-down row names a record by kind, source
// and id; this is where a reader follows it.
type StoredRecord struct {
	Kind   domain.Kind `json:"kind"`
	Source string      `json:"source"`
	ID     string      `json:"id"`
	// Record is the canonical body, the bytes CanonicalSHA256 was taken
	// over (re-indented when an answer is indented).
	Record     json.RawMessage `json:"record"`
	Provenance Provenance      `json:"provenance"`
}

// Provenance says where a stored record came from and when.
type Provenance struct {
	// RawSHA256 is the sha256 of the raw input the record was made from
	// (its NDJSON line, or its CSV header and cells); null for a record
	// stored before Candor kept it.
	RawSHA256 *string `json:"raw_sha256"`
	// CanonicalSHA256 is the sha256 of the canonical body: equal hashes
	// mean a re-import changed nothing.
	CanonicalSHA256 string `json:"canonical_sha256"`
	// BodyMatchesHash says whether the body read now still hashes to
	// CanonicalSHA256: false when it was changed in the database after it
	// was written (candor ledger verify checks every record).
	BodyMatchesHash bool      `json:"body_matches_hash"`
	IngestedAt      time.Time `json:"ingested_at"`
	// Seq is the store sequence of the write that last replaced the
	// record; /healthz reports the sequence the engine reflects.
	Seq int64 `json:"seq"`
	// EventTime is the time freshness is judged by; null for reference
	// data (services).
	EventTime *time.Time `json:"event_time"`
	// RedactedBy is the retention run (its ledger entry) whose rewrite
	// this version is: customer identifiers pseudonymised, personal text
	// erased. The record keeps the time it was stored, and RawSHA256 still
	// names the input before the rewrite. Absent for any other version.
	RedactedBy *ledger.EntryRef `json:"redacted_by,omitempty"`
}

// LookupRecord reads one record from the store. A record that does not
// exist is an error wrapping store.ErrNotFound that names what was looked
// for.
//
// runs finds the retention run a version came from (nil: the ledger is
// read for it).
func LookupRecord(ctx context.Context, st store.Store, key domain.Key, runs *ledger.RetentionIndex) (*StoredRecord, error) {
	got, err := st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, missingRecord{fmt.Sprintf("no %s record with source %q and id %q", key.Kind, key.Source, key.ID)}
	}
	if err != nil {
		return nil, err
	}
	out := &StoredRecord{
		Kind: key.Kind, Source: key.Source, ID: key.ID, Record: json.RawMessage(got.Body),
		Provenance: Provenance{CanonicalSHA256: got.Hash, IngestedAt: got.IngestedAt.UTC(), Seq: got.Seq},
	}
	out.Provenance.BodyMatchesHash = got.BodyMatchesHash()
	if got.RawHash != "" {
		h := got.RawHash
		out.Provenance.RawSHA256 = &h
	}
	if !got.EventTime.IsZero() {
		t := got.EventTime.UTC()
		out.Provenance.EventTime = &t
	}
	if runs == nil {
		runs = &ledger.RetentionIndex{}
	}
	if out.Provenance.RedactedBy, err = runs.RunOf(ctx, st, got.Seq); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) {
	rec, err := s.readableRecord(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// readableRecord looks up the record the request's path names, if the
// principal may read its kind: revenue kinds need revenue:read.
func (s *Server) readableRecord(r *http.Request) (*StoredRecord, error) {
	kind, err := domain.ParseStoredKind(r.PathValue("kind"))
	if err != nil {
		return nil, badParam("kind", "%v", err)
	}
	if !s.access(r).CanReadKind(string(kind)) {
		return nil, domain.Errorf(domain.EForbidden, "%s records reveal revenue: reading them needs revenue:read", kind)
	}
	return LookupRecord(r.Context(), s.Store, domain.Key{Kind: kind, Source: r.PathValue("source"), ID: r.PathValue("id")}, s.retentionRuns)
}

// missingRecord is store.ErrNotFound (errors.Is) saying what was looked
// for, without the store's "not found" after it: the sentence says so.
type missingRecord struct{ msg string }

func (e missingRecord) Error() string { return e.msg }
func (e missingRecord) Unwrap() error { return store.ErrNotFound }
