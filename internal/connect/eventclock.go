package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Tools send a record's events in any order (PagerDuty's incident steps,
// Jira's issue updates), and a record holds no time of the event that
// last changed it. The time of the newest event applied to each record is
// kept in the store's document log, so that an older event arriving later
// cannot undo what a newer one said. Keyed documents are written once, so
// a record's clock is a run of documents "<source>/<kind>/<id>#1", "#2",
// …, each newer than the one before, found by probing. A build does not
// write the clocks it advances: they go with its records, appended in
// their transaction (ingest.Along.Docs, store.Batch.AppendDocsOnce), so
// that a clock is kept if and only if the record it orders is — a
// delivery whose commit fails leaves no time its record does not show.

// eventClocks is the document collection of the records' clocks.
const eventClocks = "connect.event_clocks"

// clockPrefixRead is how many of the newest documents under a record's
// clock prefix one read takes: the record's own newest is the first
// unless records whose ids extend its id with "#" wrote since.
const clockPrefixRead = 4

type clockDoc struct {
	At time.Time `json:"at"`
}

// clock is a record's newest event time (zero: none kept) and the number
// of its document.
type clock struct {
	at time.Time
	n  int
}

func (s *state) clockKey(kind domain.Kind, id string, n int) string {
	return s.source + "/" + string(kind) + "/" + id + "#" + strconv.Itoa(n)
}

// clock reads the record's clock: the highest numbered document. A store
// that reads documents by key prefix gives it in one read — the newest
// of the record's documents, since each number is appended after the one
// before; any other, or a record whose newest documents are another's
// (an id with "#" in it: "A#1"'s keys extend "A"'s prefix), is probed in
// O(log n) reads by doubling then halving.
func (s *state) clock(ctx context.Context, kind domain.Kind, id string) (clock, error) {
	// A clock advanced but not committed yet (this build's earlier step,
	// an earlier object of a collector's page) is newer than the stored.
	if c, ok := s.clocks[s.clockKey(kind, id, 0)]; ok {
		return c, nil
	}
	if c, ok := s.earlier[s.clockKey(kind, id, 0)]; ok {
		return c, nil
	}
	decode := func(body []byte) (time.Time, error) {
		var c clockDoc
		if err := json.Unmarshal(body, &c); err != nil {
			return time.Time{}, fmt.Errorf("event clock of %s %s/%s: %w", kind, s.source, id, err)
		}
		return c.At, nil
	}
	if pr, ok := s.st.(store.KeyPrefixReader); ok {
		prefix := s.clockKey(kind, id, 0)
		prefix = prefix[:len(prefix)-1]
		docs, err := pr.DocsByKeyPrefix(ctx, eventClocks, prefix, 0, clockPrefixRead)
		if err != nil {
			return clock{}, err
		}
		if len(docs) == 0 {
			return clock{}, nil
		}
		for _, d := range docs {
			if n, err := strconv.Atoi(d.Key[len(prefix):]); err == nil && n > 0 && s.clockKey(kind, id, n) == d.Key {
				at, err := decode(d.Body)
				return clock{at: at, n: n}, err
			}
		}
		if len(docs) < clockPrefixRead {
			return clock{}, nil // every document under the prefix is another record's
		}
	}
	read := func(n int) (time.Time, bool, error) {
		doc, ok, err := s.st.DocByKey(ctx, eventClocks, s.clockKey(kind, id, n))
		if err != nil || !ok {
			return time.Time{}, false, err
		}
		at, err := decode(doc.Body)
		return at, err == nil, err
	}
	lo, hi := 0, 1 // document lo exists (0: none needed), hi is unknown
	var at time.Time
	for {
		t, ok, err := read(hi)
		if err != nil {
			return clock{}, err
		}
		if !ok {
			break
		}
		lo, at, hi = hi, t, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		t, ok, err := read(mid)
		if err != nil {
			return clock{}, err
		}
		if ok {
			lo, at = mid, t
		} else {
			hi = mid
		}
	}
	return clock{at: at, n: lo}, nil
}

// stale says whether an event at t is older than the newest applied; an
// event without a time (a collector's state now) never is.
func (c clock) stale(t time.Time) bool { return !t.IsZero() && t.Before(c.at) }

// advance keeps t as the record's newest event time when it is newer: a
// document for the build's records to carry into their transaction
// (s.docs). Deliveries of a stateful source are serialised, so the next
// number is free; were it taken by another instance, that one's time
// stands, which a later event corrects.
func (s *state) advance(kind domain.Kind, id string, c clock, t time.Time) error {
	if t.IsZero() || !t.After(c.at) || s.dryRun {
		return nil
	}
	body, err := json.Marshal(clockDoc{At: t.UTC()})
	if err != nil {
		return err
	}
	next := clock{at: t.UTC(), n: c.n + 1}
	s.docs = append(s.docs, store.KeyedDoc{Collection: eventClocks, Key: s.clockKey(kind, id, next.n), Body: body})
	if s.clocks == nil {
		s.clocks = map[string]clock{}
	}
	s.clocks[s.clockKey(kind, id, 0)] = next
	return nil
}

// newest orders an event carrying the whole record as it was at at (a
// Jira issue, a Zendesk ticket), so that the newest version stands: why
// says why the event is ignored when it is older than the newest applied
// to the record; else the record's clock advances to at, with the build's
// records. An event as old as the newest is the same version again and is
// applied again (it changes nothing, and a replay re-maps it); one without
// a time is never older.
func (s *state) newest(ctx context.Context, kind domain.Kind, id string, at time.Time) (why string, err error) {
	if at.IsZero() {
		return "", nil
	}
	clk, err := s.clock(ctx, kind, id)
	if err != nil {
		return "", err
	}
	if clk.stale(at) {
		return fmt.Sprintf("an older event (%s) than the one %s %s already holds (%s): the newer one stands",
			at.Format(time.RFC3339Nano), kind, id, clk.at.Format(time.RFC3339Nano)), nil
	}
	return "", s.advance(kind, id, clk, at)
}

// kept adds the clocks this build advanced to earlier, once its records
// are to be committed with them (a collector's page).
func (s *state) kept(earlier map[string]clock) {
	for k, c := range s.clocks {
		earlier[k] = c
	}
}
