package escalation

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// countingDocs counts the reads of a whole collection.
type countingDocs struct {
	store.DocStore
	whole int
}

func (c *countingDocs) Docs(ctx context.Context, collection string, limit int) ([]store.Doc, error) {
	if limit <= 0 {
		c.whole++
	}
	return c.DocStore.Docs(ctx, collection, limit)
}

// The cache gives what List gives: at once after an acknowledgement is
// appended or the newest is rewritten, within CacheFor after an older one
// is rewritten by retention; between them it reads one row, not all.
func TestCacheListsAsListDoes(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	docs := &countingDocs{DocStore: st}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &Cache{now: func() time.Time { return now }}
	check := func(label string, wholeReads int) {
		t.Helper()
		for _, metric := range []string{"", "change_failure_rate", "availability", "nosuch"} {
			want, err := List(ctx, st, metric)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.List(ctx, docs, metric)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, metric %q: the cache lists %+v, List %+v", label, metric, got, want)
			}
		}
		if docs.whole != wholeReads {
			t.Errorf("%s: %d reads of every acknowledgement, want %d", label, docs.whole, wholeReads)
		}
	}
	check("no acknowledgement", 1)
	record := func(metric, owner string) Acknowledgement {
		t.Helper()
		a, err := Record(ctx, st, Acknowledgement{Metric: metric, Status: "red", Owner: owner, Note: "n", Due: "2026-12-20", By: "user:a@example.com", At: now})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := record("change_failure_rate", "Ann")
	record("availability", "Bob")
	check("two appended", 2)
	check("nothing new", 2)

	// The newest rewritten (retention): seen at once.
	redact := func(a Acknowledgement, owner string) {
		t.Helper()
		a.Owner = owner
		body := []byte(`{"metric":"` + a.Metric + `","status":"red","value":null,"owner":"` + owner + `","note":"","due":"2026-12-20","by":"","at":"2026-12-07T12:00:00Z"}`)
		if n, err := st.RedactDocs(ctx, []store.Doc{{ID: a.ID, Collection: Collection, Body: body}}); err != nil || n != 1 {
			t.Fatalf("redact: %d %v", n, err)
		}
	}
	list, _ := List(ctx, st, "availability")
	redact(list[0], "pseudonym-1")
	check("the newest rewritten", 3)

	// An older one rewritten: the kept list stands until CacheFor has
	// passed, then the store's is read again.
	redact(first, "pseudonym-2")
	got, _ := c.List(ctx, docs, "change_failure_rate")
	if len(got) != 1 || got[0].Owner != "Ann" {
		t.Fatalf("an older acknowledgement rewritten, within CacheFor: %+v, want the kept one", got)
	}
	now = now.Add(CacheFor)
	check("CacheFor after an older one was rewritten", 4)

	// A caller's changes to its slice stay its own.
	all, _ := c.List(ctx, docs, "")
	all[0].Owner = "changed"
	check("after a caller changed its slice", 4)
}

// Forget makes the next read read the store: an acknowledgement committed
// below the newest id read (PostgreSQL commits appends out of order) is
// seen at once by the server that recorded it.
func TestCacheForget(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	docs := &countingDocs{DocStore: st}
	c := &Cache{}
	if _, err := Record(ctx, st, Acknowledgement{Metric: "m", Status: "red", Owner: "o", Due: "2026-12-20", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c.List(ctx, docs, "")
	c.List(ctx, docs, "")
	c.Forget()
	c.List(ctx, docs, "")
	if docs.whole != 2 {
		t.Errorf("%d reads of every acknowledgement, want 2 (the first, and the one after Forget)", docs.whole)
	}
	var nilCache *Cache
	nilCache.Forget() // a nil cache reads the store each time; Forget is a no-op
}
