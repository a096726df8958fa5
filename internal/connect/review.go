package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// A change's first review (first_review_at) arrives before the change: a
// pull request is reviewed, then merged, and only the merge makes a change
// record. The first review seen for a pull request is kept in the store's
// document log under the change's id until the merge writes it with the
// change; a review after the merge (a comment on a merged pull request)
// updates the stored change when it is earlier than the one it has.

// firstReviews is the document collection of the first reviews seen, one
// document per change id ("<source>/<change id>"), written once.
const firstReviews = "connect.first_reviews"

// firstReviewDoc is a kept first review. (Documents a merge wrote before
// any review, with At zero, may exist from earlier versions.)
type firstReviewDoc struct {
	At time.Time `json:"first_review_at,omitzero"`
}

// keepFirstReview keeps at as the change's first review unless one is
// kept already, and returns the kept time. The deliveries naming one
// change are serialised (parsed.key), so the first review delivered is
// the one kept; reviews are delivered in the order they are submitted,
// so it is the earliest.
func (s *state) keepFirstReview(ctx context.Context, changeID string, at time.Time) (time.Time, error) {
	body, err := json.Marshal(firstReviewDoc{At: at})
	if err != nil {
		return time.Time{}, err
	}
	if s.dryRun {
		doc, ok, err := s.st.DocByKey(ctx, firstReviews, s.source+"/"+changeID)
		if err != nil || !ok {
			return at, err
		}
		return s.decodeKept(changeID, doc.Body)
	}
	doc, _, err := s.st.AppendDocOnce(ctx, firstReviews, s.source+"/"+changeID, body)
	if err != nil {
		return time.Time{}, err
	}
	return s.decodeKept(changeID, doc.Body)
}

// decodeKept is the time of a kept first review document.
func (s *state) decodeKept(changeID string, body []byte) (time.Time, error) {
	var kept firstReviewDoc
	if err := json.Unmarshal(body, &kept); err != nil {
		return time.Time{}, fmt.Errorf("kept first review of %s/%s: %w", s.source, changeID, err)
	}
	return kept.At, nil
}

// withFirstReview is a merged change written with the earliest of its
// own first review (a collector read it from the API), the one kept for
// it, and the one its stored record has (a redelivered merge after a
// review that followed the first merge).
func withFirstReview(id, event string, c *domain.Change) *parsed {
	return &parsed{id: id, event: event, key: c.ID, build: func(ctx context.Context, st *state) (built, error) {
		// Both in one read, not two: a merge reads no more than this. A
		// review that follows the merge finds the change stored (its
		// delivery waits for the merge's commit: both name the change,
		// parsed.key) and updates it.
		both, err := store.GetWithDoc(ctx, st.st, domain.Key{Kind: domain.KindChange, Source: st.source, ID: c.ID}, firstReviews, st.source+"/"+c.ID)
		if err != nil {
			return built{}, err
		}
		// A collector's change comes with the first review the API
		// gave; a webhook's with none.
		if both.DocFound {
			kept, err := st.decodeKept(c.ID, both.Doc.Body)
			if err != nil {
				return built{}, err
			}
			c.FirstReviewAt = earliest(c.FirstReviewAt, kept)
		}
		if both.Found {
			var old domain.Change
			if err := st.decodeStored(domain.KindChange, c.ID, both.Record.Body, &old); err != nil {
				return built{}, err
			}
			c.FirstReviewAt = earliest(c.FirstReviewAt, old.FirstReviewAt)
			// A change merges once. GitLab sends no merge time, so a merged
			// merge request's later update (a label, a title) would
			// otherwise move merged_at to that update.
			c.MergedAt = earliest(c.MergedAt, old.MergedAt)
		}
		return built{records: []domain.Record{c}}, nil
	}}
}

// changeOutcome is outcome for a merged change: the first review kept
// for it until the merge is written onto it (withFirstReview).
func changeOutcome(id, event string) func(rec domain.Record, why string, err error) (*parsed, error) {
	return func(rec domain.Record, why string, err error) (*parsed, error) {
		switch {
		case err != nil:
			return nil, known(id, event, err)
		case rec == nil:
			return ignored(id, event, "%s", why), nil
		}
		return withFirstReview(id, event, rec.(*domain.Change)), nil
	}
}

// firstReview maps a review of a change: kept until the merge, or
// written onto the stored change when it is its earliest review.
func firstReview(id, event, changeID string, at time.Time) *parsed {
	return &parsed{id: id, event: event, key: changeID, build: func(ctx context.Context, st *state) (built, error) {
		var c domain.Change
		ok, err := st.get(ctx, domain.KindChange, changeID, &c)
		if err != nil {
			return built{}, err
		}
		if !ok {
			kept, err := st.keepFirstReview(ctx, changeID, at)
			if err != nil {
				return built{}, err
			}
			if kept.Equal(at) {
				return built{ignored: "first review kept until the merge"}, nil
			}
			return built{ignored: "an earlier review is kept"}, nil
		}
		if !c.FirstReviewAt.IsZero() && !at.Before(c.FirstReviewAt) {
			return built{ignored: "the change has an earlier first review"}, nil
		}
		c.FirstReviewAt = at
		return built{records: []domain.Record{&c}}, nil
	}}
}

// earliestReview is the earliest of a page of reviews (or comments) a
// collector read, with the object as the API gave it: at gives an
// object's time, zero when it is no review. None when none is.
func earliestReview(items []json.RawMessage, at func(raw json.RawMessage) (time.Time, error)) (time.Time, json.RawMessage, error) {
	var first time.Time
	var firstRaw json.RawMessage
	for _, r := range items {
		t, err := at(r)
		if err != nil {
			return time.Time{}, nil, err
		}
		if !t.IsZero() && (firstRaw == nil || t.Before(first)) {
			first, firstRaw = t, r
		}
	}
	return first, firstRaw, nil
}
