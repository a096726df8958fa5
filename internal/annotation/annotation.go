// Package annotation keeps the business-cycle annotations posted over the API (a freeze, a peak
// season, a quarter end, a launch) and merges them with the organisation's configured ones, so
// every reader — trend charts, the degrading flag, the digest — sees one list.
//
// The store's documents are append-only, so an annotation is an "added" document and its
// withdrawal a second, "withdrawn" one; the list folds them. Both are chained in the audit
// ledger as they are appended (type annotation), the author as personal data.
package annotation

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// Collection holds the annotation documents.
const Collection = "annotation"

func init() {
	ledger.RegisterDocs(Collection, ledger.DocSpec{Type: ledger.TypeAnnotation, Personal: []string{"by"}})
}

// Where an annotation comes from.
const (
	FromConfiguration = "configuration"
	FromAPI           = "api"
)

// Entry is an annotation as readers see it: the common type, where it comes from, and for one
// posted over the API its id, author and time, and its withdrawal.
type Entry struct {
	catalog.Annotation
	Origin string `json:"origin"`
	// ID is the document id of one posted over the API; 0 for a configured one, which is
	// changed by editing the configuration.
	ID          int64      `json:"id,omitempty"`
	By          string     `json:"by,omitempty"`
	At          *time.Time `json:"at,omitempty"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnBy string     `json:"withdrawn_by,omitempty"`
}

// doc is a stored document: an annotation added, or one withdrawn (Annotation names it).
type doc struct {
	Event string `json:"event"`
	*catalog.Annotation
	Withdraws int64     `json:"withdraws,omitempty"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

const (
	eventAdded     = "added"
	eventWithdrawn = "withdrawn"
)

// Checker checks an annotation's scope against the data (dimension names and values); nil
// checks only its syntax.
type Checker func(scope string) error

// Add stores a checked annotation posted by `by` at now and returns it. A bad field is an
// invalid-parameter error naming it; nothing is stored then.
func Add(ctx context.Context, docs store.DocStore, a catalog.Annotation, by string, now time.Time, check Checker) (Entry, error) {
	a.Name, a.Scope = strings.TrimSpace(a.Name), strings.TrimSpace(a.Scope)
	if field, msg := a.Check(); field != "" {
		return Entry{}, domain.InvalidParam(field, "%s", msg)
	}
	if a.Scope != "" && check != nil {
		if err := check(a.Scope); err != nil {
			return Entry{}, domain.InvalidParam("scope", "%v", err)
		}
	}
	d := doc{Event: eventAdded, Annotation: &a, By: by, At: now.UTC()}
	stored, err := store.AppendJSON(ctx, docs, Collection, d)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Annotation: a, Origin: FromAPI, ID: stored.ID, By: by, At: &d.At}, nil
}

// Withdraw withdraws the annotation with the id, once: an unknown id is not found, a second
// withdrawal a conflict naming the first. Configured annotations have no id and are withdrawn
// by editing the configuration.
func Withdraw(ctx context.Context, docs store.DocStore, id int64, by string, now time.Time) (Entry, error) {
	all, err := Stored(ctx, docs)
	if err != nil {
		return Entry{}, err
	}
	i := slices.IndexFunc(all, func(e Entry) bool { return e.ID == id })
	if i < 0 {
		return Entry{}, domain.Errorf(domain.ENotFound, "no annotation %d was posted over the API (configured ones are changed in the configuration)", id)
	}
	d := doc{Event: eventWithdrawn, Withdraws: id, By: by, At: now.UTC()}
	body, err := json.Marshal(d)
	if err != nil {
		return Entry{}, err
	}
	// Keyed by the annotation, so of two racing withdrawals one is recorded.
	got, created, err := docs.AppendDocOnce(ctx, Collection, "withdraw:"+strconv.FormatInt(id, 10), body)
	if err != nil {
		return Entry{}, err
	}
	if !created {
		var first doc
		_ = json.Unmarshal(got.Body, &first)
		return Entry{}, domain.Errorf(domain.EConflict, "annotation %d was withdrawn at %s", id, first.At.Format(time.RFC3339))
	}
	e := all[i]
	e.WithdrawnAt, e.WithdrawnBy = &d.At, by
	return e, nil
}

// Stored returns the annotations posted over the API, withdrawn ones included, oldest first.
func Stored(ctx context.Context, docs store.DocStore) ([]Entry, error) {
	raw, err := docs.Docs(ctx, Collection, 0)
	if err != nil {
		return nil, err
	}
	var out []Entry
	withdrawn := map[int64]doc{}
	// Documents come newest first; a withdrawal always follows what it withdraws.
	for i := len(raw) - 1; i >= 0; i-- {
		var d doc
		if err := json.Unmarshal(raw[i].Body, &d); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", Collection, raw[i].ID, err)
		}
		switch d.Event {
		case eventAdded:
			if d.Annotation == nil {
				return nil, fmt.Errorf("%s document %d: an added annotation without its fields", Collection, raw[i].ID)
			}
			at := d.At
			out = append(out, Entry{Annotation: *d.Annotation, Origin: FromAPI, ID: raw[i].ID, By: d.By, At: &at})
		case eventWithdrawn:
			withdrawn[d.Withdraws] = d
		default:
			return nil, fmt.Errorf("%s document %d: unknown event %q", Collection, raw[i].ID, d.Event)
		}
	}
	for i, e := range out {
		if w, ok := withdrawn[e.ID]; ok {
			at := w.At
			out[i].WithdrawnAt, out[i].WithdrawnBy = &at, w.By
		}
	}
	return out, nil
}

// List returns the annotations in force: the configured ones, then those posted over the API
// and not withdrawn, all ordered by their start, then name.
func List(ctx context.Context, docs store.DocStore, configured []catalog.Annotation) ([]Entry, error) {
	out := make([]Entry, 0, len(configured))
	for _, a := range configured {
		out = append(out, Entry{Annotation: a, Origin: FromConfiguration})
	}
	if docs != nil {
		stored, err := Stored(ctx, docs)
		if err != nil {
			return nil, err
		}
		for _, e := range stored {
			if e.WithdrawnAt == nil {
				out = append(out, e)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

// Overlapping returns the annotations in force (List) that share an instant with [from, to):
// what a digest or a chart of that period shows beside its numbers.
func Overlapping(ctx context.Context, docs store.DocStore, configured []catalog.Annotation, from, to time.Time) ([]Entry, error) {
	all, err := List(ctx, docs, configured)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, e := range all {
		if e.Overlaps(from, to) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Annotations returns the entries' annotations, the common type.
func Annotations(es []Entry) []catalog.Annotation {
	out := make([]catalog.Annotation, len(es))
	for i, e := range es {
		out[i] = e.Annotation
	}
	return out
}
