package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// fixed is item marked Fixed: a record one event names (a CDEvent's
// deployment), whose body cannot change.
func fixed(id, body string, ev time.Time) store.Item {
	it := item(domain.KindDeployment, "cdevents", id, body, ev)
	it.Fixed = true
	return it
}

// wantChanged fails unless err is a ChangedError for the key of it, made
// earlier in the batch (inBatch) or by the committed record stored.
func wantChanged(t *testing.T, err error, it store.Item, inBatch bool, stored store.Stored) {
	t.Helper()
	var ce *store.ChangedError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *store.ChangedError for %s", err, it.Key)
	}
	if ce.Key != it.Key || ce.InBatch != inBatch {
		t.Fatalf("ChangedError = %+v, want key %s, in batch %v", ce, it.Key, inBatch)
	}
	if !inBatch && (ce.Seq != stored.Seq || !ce.IngestedAt.Equal(stored.IngestedAt)) {
		t.Fatalf("ChangedError names seq %d at %v, the stored record is seq %d at %v", ce.Seq, ce.IngestedAt, stored.Seq, stored.IngestedAt)
	}
	if domain.CodeOf(err) != domain.EConflict {
		t.Fatalf("code = %q, want conflict", domain.CodeOf(err))
	}
}

// runFixed: an item named by one event (store.Item.Fixed) is refused by
// the writer, in its transaction, when its key is stored with another
// body — whatever a caller checked before, and whichever handle wrote
// the first body — and nothing of the batch is committed.
func runFixed(t *testing.T, open Factory, o options) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("FixedRefusedWhenChanged", func(t *testing.T) {
		s := open(t)
		first := fixed("e1", `{"v":1}`, t0)
		if _, err := store.Put(ctx, s, []store.Item{first}); err != nil {
			t.Fatal(err)
		}
		stored, err := s.Get(ctx, first.Key)
		if err != nil {
			t.Fatal(err)
		}
		// The same event again changes nothing.
		if res, err := store.Put(ctx, s, []store.Item{first}); err != nil || res.Counts() != (store.WriteResult{Unchanged: 1}) {
			t.Fatalf("the same body again = %+v, %v; want unchanged", res, err)
		}
		changed := fixed("e1", `{"v":2}`, t0)
		_, err = store.Put(ctx, s, []store.Item{item(domain.KindChange, "cdevents", "c1", `{}`, t0), changed})
		wantChanged(t, err, changed, false, stored)
		// Through AddEach, as a group of deliveries is written: the
		// group's other lists go with it.
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.AddEach(ctx, [][]store.Item{{item(domain.KindChange, "cdevents", "c2", `{}`, t0)}, {changed}})
		wantChanged(t, err, changed, false, stored)
		b.Rollback()
		// Nor may a commit sent with the write (store.CommitEach) let it
		// through.
		if b, err = s.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = store.CommitEach(ctx, b, [][]store.Item{{item(domain.KindChange, "cdevents", "c3", `{}`, t0)}, {changed}})
		wantChanged(t, err, changed, false, stored)
		b.Rollback()
		rows, _ := scanAll(t, s, 0)
		if len(rows) != 1 || string(rows[0].Body) != `{"v":1}` || rows[0].Seq != stored.Seq {
			t.Fatalf("after the refusals: %d rows, first %s (seq %d), want only the event as first stored", len(rows), rows[0].Body, rows[0].Seq)
		}
		// An item not fixed is replaced as ever.
		plain := item(domain.KindDeployment, "cdevents", "e1", `{"v":3}`, t0)
		if res, err := store.Put(ctx, s, []store.Item{plain}); err != nil || res.Counts() != (store.WriteResult{Replaced: 1}) {
			t.Fatalf("a replacement not fixed = %+v, %v; want replaced", res, err)
		}
	})

	t.Run("FixedRefusedWithinBatch", func(t *testing.T) {
		s := open(t)
		a1, a2 := fixed("a", `{"v":1}`, t0), fixed("a", `{"v":2}`, t0)
		_, err := store.Put(ctx, s, []store.Item{a1, a2})
		wantChanged(t, err, a2, true, store.Stored{})
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{a1}); err != nil {
			t.Fatal(err)
		}
		_, err = b.Add(ctx, []store.Item{a2})
		wantChanged(t, err, a2, true, store.Stored{})
		b.Rollback()
		if rows, _ := scanAll(t, s, 0); len(rows) != 0 {
			t.Fatalf("refused batches left %d records", len(rows))
		}
		// A fixed item after a replacement of its key within the list
		// compares with that replacement, as if written one by one.
		if _, err := store.Put(ctx, s, []store.Item{a1}); err != nil {
			t.Fatal(err)
		}
		plain := item(domain.KindDeployment, "cdevents", "a", `{"v":2}`, t0)
		if res, err := store.Put(ctx, s, []store.Item{plain, a2}); err != nil || res.Counts() != (store.WriteResult{Replaced: 1, Unchanged: 1}) {
			t.Fatalf("replaced then the same body, fixed = %+v, %v; want replaced, unchanged", res, err)
		}
	})

	// Two writers (two instances) each with a body for one event, neither
	// seeing the other's before it writes: the second to take the writer
	// is refused, and the first body stays.
	t.Run("FixedRaceBetweenHandles", func(t *testing.T) {
		s := open(t)
		other := s
		if o.share != nil {
			other = o.share(t, s)
		} else {
			t.Log("no storetest.Share option: racing within one handle only")
		}
		b1, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := fixed("race", `{"v":1}`, t0)
		if _, err := b1.AddEach(ctx, [][]store.Item{{first}}); err != nil {
			t.Fatal(err)
		}
		second := fixed("race", `{"v":2}`, t0)
		done := make(chan error, 1)
		go func() {
			// Both writers found no record before writing (the
			// check a connector makes before its commit).
			b2, err := other.Begin(ctx)
			if err != nil {
				done <- err
				return
			}
			_, err = b2.AddEach(ctx, [][]store.Item{{second}})
			if err != nil {
				b2.Rollback()
				done <- err
				return
			}
			done <- b2.Commit()
		}()
		time.Sleep(50 * time.Millisecond) // let the second writer wait for the first
		if err := b1.Commit(); err != nil {
			t.Fatal(err)
		}
		err = <-done
		stored, gerr := s.Get(ctx, first.Key)
		if gerr != nil {
			t.Fatal(gerr)
		}
		wantChanged(t, err, second, false, stored)
		if string(stored.Body) != `{"v":1}` {
			t.Fatalf("stored body = %s, want the first writer's", stored.Body)
		}
	})
}
