package gate

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// RetroValidation says an emergency change was reviewed after the fact.
// It is a record of its own, so a redelivered deployment event (without
// retro_validated_at) cannot erase it.
type RetroValidation struct {
	ID int64 `json:"id,omitempty"`
	// Deployment is source/id.
	Deployment string    `json:"deployment"`
	Service    string    `json:"service"`
	FinishedAt time.Time `json:"finished_at"`
	// Late is set when it came after the deadline (finished + retro_within).
	Late bool      `json:"late,omitempty"`
	By   string    `json:"by"`
	Note string    `json:"note"`
	At   time.Time `json:"at"`
}

const maxNote = 4000

// PrepareRetro finds the emergency deployment ref names (source/id, or an
// id unique across sources) among the emergency changes finished before
// now, and returns its retro-validation to record. Call it under the
// engine's read lock.
func PrepareRetro(p *Policies, ds *metrics.Dataset, ref, note, by string, now time.Time) (RetroValidation, error) {
	note = strings.TrimSpace(note)
	switch n := utf8.RuneCountInString(note); {
	case n == 0:
		return RetroValidation{}, domain.InvalidParam("note", "required: what the review found (and where it is written up)")
	case n > maxNote:
		return RetroValidation{}, domain.InvalidParam("note", "%d characters; at most %d", n, maxNote)
	}
	source, id, hasSource := strings.Cut(ref, "/")
	if !hasSource {
		source, id = "", ref
	}
	var found []metrics.Release
	for _, r := range ds.EmergencyChanges(now) {
		if r.ID == id && (!hasSource || r.Source == source) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return RetroValidation{}, domain.Errorf(domain.ENotFound, "no emergency deployment %q finished before %s (give source/id or an id)", ref, now.UTC().Format(time.RFC3339))
	case 1:
	default:
		names := make([]string, len(found))
		for i, r := range found {
			names[i] = r.Source + "/" + r.ID
		}
		return RetroValidation{}, domain.InvalidParam("deployment", "%q is ambiguous: %s; give source/id", ref, strings.Join(names, ", "))
	}
	r := found[0]
	if r.RetroValidatedAt != nil {
		return RetroValidation{}, domain.Errorf(domain.EConflict, "deployment %s/%s was retro-validated at %s", r.Source, r.ID, r.RetroValidatedAt.Format(time.RFC3339))
	}
	return RetroValidation{Deployment: r.Source + "/" + r.ID, Service: r.Service, FinishedAt: r.FinishedAt,
		Late: now.After(r.FinishedAt.Add(p.retro)), By: by, Note: note, At: now.UTC()}, nil
}

// RecordRetro appends a retro-validation, once per deployment (a second
// is a conflict naming the first), and writes its record
// (domain.RetroValidation), which the metrics read: the deployment no
// longer counts in emergency_retro_overdue, whatever redelivery of the
// deployment's own record says. Recording again after a failed record
// write completes it.
func RecordRetro(ctx context.Context, st store.Store, v RetroValidation) (RetroValidation, error) {
	v.ID = 0
	body, err := json.Marshal(v)
	if err != nil {
		return v, err
	}
	d, created, err := st.AppendDocOnce(ctx, RetroCollection, v.Deployment, body)
	if err != nil {
		return v, err
	}
	first := v
	if !created {
		_ = json.Unmarshal(d.Body, &first)
	}
	if err := writeRetroRecord(ctx, st, first); err != nil {
		return v, err
	}
	if !created {
		return v, domain.Errorf(domain.EConflict, "deployment %s was already retro-validated at %s", v.Deployment, first.At.Format(time.RFC3339))
	}
	v.ID = d.ID
	return v, nil
}

// RetroSource is the source of the records Candor writes itself
// (retro-validations, incidents the post-deploy watch opens).
const RetroSource = "candor"

func writeRetroRecord(ctx context.Context, st store.Store, v RetroValidation) error {
	src, id, _ := strings.Cut(v.Deployment, "/")
	return writeRecord(ctx, st, &domain.RetroValidation{Meta: domain.Meta{ID: domain.RetroValidationID(src, id), Source: RetroSource}, DeploymentSource: src, DeploymentID: id, ValidatedAt: v.At})
}

// writeRecord stores a record Candor makes itself, in its canonical form.
func writeRecord(ctx context.Context, st store.Store, r domain.Record) error {
	body, hash, err := ingest.Canonical(r)
	if err != nil {
		return err
	}
	it := store.Item{Key: domain.KeyOf(r), EventTime: r.EventTime(), Hash: hex.EncodeToString(hash[:]), RawHash: hex.EncodeToString(hash[:]), Body: body}
	b, err := st.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := b.Add(ctx, []store.Item{it}); err != nil {
		b.Rollback()
		return err
	}
	return b.Commit()
}

// RetroValidations are the recorded retro-validations, newest first.
func RetroValidations(ctx context.Context, docs store.DocStore) ([]RetroValidation, error) {
	return store.DecodeDocs(ctx, docs, RetroCollection, setRetroID)
}

func setRetroID(v *RetroValidation, id int64) { v.ID = id }

// RetroValidationOf is the retro-validation recorded for a deployment
// (source/id), nil when none was: read by the key it is kept under.
func RetroValidationOf(ctx context.Context, docs store.DocStore, deployment string) (*RetroValidation, error) {
	return store.DecodeDocByKey(ctx, docs, RetroCollection, deployment, setRetroID)
}
