package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

func appendOnce(t *testing.T, s store.Store, collection, key, body string) (store.Doc, bool) {
	t.Helper()
	d, created, err := s.AppendDocOnce(context.Background(), collection, key, []byte(body))
	if err != nil {
		t.Fatalf("AppendDocOnce(%s, %s, %s): %v", collection, key, body, err)
	}
	return d, created
}

// sameDoc reports how a differs from b, or "" when they are the same
// stored document.
func sameDoc(a, b store.Doc) string {
	if a.ID != b.ID || !a.CreatedAt.Equal(b.CreatedAt) || a.Collection != b.Collection || a.Key != b.Key || string(a.Body) != string(b.Body) {
		return fmt.Sprintf("{%d %v %q %q %s} is not {%d %v %q %q %s}", a.ID, a.CreatedAt, a.Collection, a.Key, a.Body, b.ID, b.CreatedAt, b.Collection, b.Key, b.Body)
	}
	return ""
}

// runKeyedDocs is the contract of AppendDocOnce.
func runKeyedDocs(t *testing.T, open Factory, o options) {
	ctx := context.Background()

	// A document is read by its id within its collection, keyed or not,
	// as Docs lists it; another collection's id or none is not found.
	t.Run("ByID", func(t *testing.T) {
		s := open(t)
		if _, ok := s.(store.DocByIDReader); !ok {
			t.Fatalf("%T does not read documents by id", s)
		}
		plain := appendDoc(t, s, "decisions", `{"n":1}`)
		keyed, _ := appendOnce(t, s, "decisions", "k1", `{"n":2}`)
		other := appendDoc(t, s, "approvals", `{"n":3}`)
		listed, err := s.Docs(ctx, "decisions", 0)
		if err != nil || len(listed) != 2 {
			t.Fatalf("Docs = %d documents (%v)", len(listed), err)
		}
		for _, want := range listed {
			got, ok, err := store.DocByID(ctx, s, "decisions", want.ID)
			if err != nil || !ok || got.ID != want.ID || got.Key != want.Key || got.Collection != "decisions" || string(got.Body) != string(want.Body) || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("DocByID(%d) = %+v %v %v, want %+v", want.ID, got, ok, err, want)
			}
		}
		if d, _, _ := store.DocByID(ctx, s, "decisions", keyed.ID); d.Key != "k1" {
			t.Errorf("a keyed document read by id has key %q", d.Key)
		}
		for _, id := range []int64{other.ID, plain.ID + 1000} {
			if _, ok, err := store.DocByID(ctx, s, "decisions", id); ok || err != nil {
				t.Errorf("DocByID(%d) found (%v): another collection's id, or none", id, err)
			}
		}
	})

	// Pages of a collection newest first: below an id, at most a limit,
	// not another collection's, keyed or not; as Docs lists them.
	t.Run("Before", func(t *testing.T) {
		s := open(t)
		if _, ok := s.(store.DocsBeforeReader); !ok {
			t.Fatalf("%T does not read pages of documents by id", s)
		}
		var ids []int64
		for i := range 5 {
			if i == 2 {
				appendDoc(t, s, "approvals", `{"other":1}`)
				d, _ := appendOnce(t, s, "decisions", "k", fmt.Sprintf(`{"n":%d}`, i))
				ids = append(ids, d.ID)
				continue
			}
			ids = append(ids, appendDoc(t, s, "decisions", fmt.Sprintf(`{"n":%d}`, i)).ID)
		}
		for _, c := range []struct {
			before int64
			limit  int
			want   string
		}{
			{0, 2, `{"n":4} {"n":3}`}, {ids[3], 2, `{"n":2} {"n":1}`}, {ids[1], 10, `{"n":0}`}, {ids[0], 10, ``}, {-1, 10, `{"n":4} {"n":3} {"n":2} {"n":1} {"n":0}`},
		} {
			got, err := store.DocsBefore(ctx, s, "decisions", c.before, c.limit)
			if err != nil || bodies(got) != c.want {
				t.Errorf("DocsBefore(%d, %d) = %s (%v), want %s", c.before, c.limit, bodies(got), err, c.want)
			}
			// As read from the whole collection.
			if whole, _ := store.DocsBefore(ctx, plainDocs{s}, "decisions", c.before, c.limit); bodies(whole) != c.want {
				t.Errorf("DocsBefore(%d, %d) from the whole collection = %s, want %s", c.before, c.limit, bodies(whole), c.want)
			}
		}
		got, _ := store.DocsBefore(ctx, s, "decisions", ids[3], 1)
		listed, _ := s.Docs(ctx, "decisions", 0)
		if len(got) != 1 || sameDoc(got[0], listed[2]) != "" || got[0].Key != "k" {
			t.Errorf("DocsBefore's document %+v, as Docs lists it %+v", got, listed[2])
		}
	})

	// A key prefix reads one person's documents, byte for byte: not a
	// longer prefix's neighbour, nor an unkeyed document, nor another
	// collection's; after and limit cut the newest-first list.
	t.Run("KeyPrefix", func(t *testing.T) {
		s := open(t)
		r, ok := s.(store.KeyPrefixReader)
		if !ok {
			t.Fatalf("%T does not read documents by key prefix", s)
		}
		a1, _ := appendOnce(t, s, "inbox", "ab|1", `{"n":1}`)
		appendOnce(t, s, "inbox", "abc|1", `{"n":2}`)
		appendOnce(t, s, "inbox", "ab}", `{"n":3}`)
		appendOnce(t, s, "other", "ab|2", `{"n":4}`)
		appendDoc(t, s, "inbox", `{"n":5}`)
		a2, _ := appendOnce(t, s, "inbox", "ab|2", `{"n":6}`)
		a3, _ := appendOnce(t, s, "inbox", "ab|\u00e9", `{"n":7}`)
		got, err := r.DocsByKeyPrefix(ctx, "inbox", "ab|", 0, 0)
		if err != nil || bodies(got) != `{"n":7} {"n":6} {"n":1}` || got[0].ID != a3.ID || got[0].Key != "ab|\u00e9" || got[0].Collection != "inbox" {
			t.Fatalf("DocsByKeyPrefix = %s (%v)", bodies(got), err)
		}
		if got, err = r.DocsByKeyPrefix(ctx, "inbox", "ab|", a1.ID, 1); err != nil || len(got) != 1 || got[0].ID != a3.ID {
			t.Fatalf("DocsByKeyPrefix after %d, limit 1 = %s (%v)", a1.ID, bodies(got), err)
		}
		for _, c := range []struct {
			prefix string
			after  int64
			want   int64
		}{{"ab|", 0, 3}, {"ab|", a2.ID, 1}, {"ab", 0, 5}, {"abd", 0, 0}, {"", 0, 5}} {
			if n, err := r.CountDocsByKeyPrefix(ctx, "inbox", c.prefix, c.after); err != nil || n != c.want {
				t.Errorf("CountDocsByKeyPrefix(%q, after %d) = %d (%v), want %d", c.prefix, c.after, n, err, c.want)
			}
		}
	})

	// GetWithDoc reads what Get and DocByKey read, whichever of the two
	// exists, in the store's one statement if it has one.
	t.Run("GetWithDoc", func(t *testing.T) {
		s := open(t)
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		if _, err := store.Put(ctx, s, []store.Item{item(domain.KindChange, "github", "c1", `{"c":1}`, t0), item(domain.KindService, "github", "svc", `{"s":1}`, time.Time{})}); err != nil {
			t.Fatal(err)
		}
		appendDoc(t, s, "reviews", `{"plain":1}`)
		kept, _ := appendOnce(t, s, "reviews", "github/c1", `{"at":1}`)
		appendOnce(t, s, "reviews", "github/c2", `{"at":2}`)
		if _, ok := s.(store.RecordDocGetter); !ok {
			t.Fatalf("%T reads a record and a document in two statements; it should be a store.RecordDocGetter", s)
		}
		for _, c := range []struct {
			id, collection, docKey string
			kind                   domain.Kind
		}{
			{"c1", "reviews", "github/c1", domain.KindChange},   // both
			{"c2", "reviews", "github/c2", domain.KindChange},   // the document only
			{"c1", "reviews", "github/c9", domain.KindChange},   // the record only
			{"c9", "other", "github/c1", domain.KindChange},     // neither
			{"c1", "reviews", "", domain.KindChange},            // an unkeyed document is not found by key
			{"svc", "reviews", "github/c1", domain.KindService}, // a record without event time
		} {
			key := domain.Key{Kind: c.kind, Source: "github", ID: c.id}
			got, err := store.GetWithDoc(ctx, s, key, c.collection, c.docKey)
			if err != nil {
				t.Fatalf("GetWithDoc(%s, %s, %q): %v", key, c.collection, c.docKey, err)
			}
			rec, err := s.Get(ctx, key)
			if found := err == nil; found != got.Found {
				t.Errorf("GetWithDoc(%s): found %v, Get: %v", key, got.Found, err)
			} else if found && (rec.Seq != got.Record.Seq || rec.Key != got.Record.Key || !rec.IngestedAt.Equal(got.Record.IngestedAt) || !rec.EventTime.Equal(got.Record.EventTime) ||
				rec.Hash != got.Record.Hash || rec.RawHash != got.Record.RawHash || string(rec.Body) != string(got.Record.Body)) {
				t.Errorf("GetWithDoc(%s) = %+v, Get = %+v", key, got.Record, rec)
			}
			doc, ok, err := s.DocByKey(ctx, c.collection, c.docKey)
			if err != nil {
				t.Fatal(err)
			}
			if ok != got.DocFound {
				t.Errorf("GetWithDoc(%s, %q): doc found %v, DocByKey %v", c.collection, c.docKey, got.DocFound, ok)
			} else if ok {
				if diff := sameDoc(got.Doc, doc); diff != "" {
					t.Errorf("GetWithDoc(%s, %q): %s", c.collection, c.docKey, diff)
				}
			}
		}
		if got, _ := store.GetWithDoc(ctx, s, domain.Key{Kind: domain.KindChange, Source: "github", ID: "c1"}, "reviews", "github/c1"); got.Doc.ID != kept.ID {
			t.Errorf("GetWithDoc read document %d, want %d", got.Doc.ID, kept.ID)
		}
	})

	t.Run("DocsOnceCreatesOnce", func(t *testing.T) {
		s := open(t)
		plain := appendDoc(t, s, "snap", `{"plain":1}`)
		if plain.Key != "" {
			t.Errorf("AppendDoc returned key %q, want none", plain.Key)
		}
		const key = "2026-03-02T00:00:00Z"
		before := time.Now()
		first, created := appendOnce(t, s, "snap", key, `{"n":1}`)
		if !created {
			t.Fatal("first AppendDocOnce: created = false")
		}
		if first.Collection != "snap" || first.Key != key || string(first.Body) != `{"n":1}` || first.ID <= plain.ID {
			t.Errorf("first AppendDocOnce returned %+v", first)
		}
		if first.CreatedAt.Location() != time.UTC || first.CreatedAt.Before(before.Add(-time.Minute)) || first.CreatedAt.After(time.Now().Add(time.Minute)) {
			t.Errorf("created_at = %v, want about now in UTC", first.CreatedAt)
		}
		// A different body changes nothing: the first document stands and
		// comes back as stored, creation time included.
		again, created := appendOnce(t, s, "snap", key, `{"n":2}`)
		if created {
			t.Error("second AppendDocOnce with the same key: created = true")
		}
		if diff := sameDoc(again, first); diff != "" {
			t.Errorf("second AppendDocOnce returned %s", diff)
		}
		// DocByKey reads it back; a key never taken, or none, is not there.
		byKey, ok, err := s.DocByKey(ctx, "snap", key)
		if err != nil || !ok {
			t.Fatalf("DocByKey(snap, %s) = %v, %v", key, ok, err)
		}
		if diff := sameDoc(byKey, first); diff != "" {
			t.Errorf("DocByKey returned %s", diff)
		}
		for _, c := range [][2]string{{"snap", "2026-03-09T00:00:00Z"}, {"other", key}, {"snap", ""}} {
			if d, ok, err := s.DocByKey(ctx, c[0], c[1]); ok || err != nil {
				t.Errorf("DocByKey(%q, %q) = %+v, %v, %v; want none", c[0], c[1], d, ok, err)
			}
		}
		got := docs(t, s, "snap", 0)
		if bodies(got) != `{"n":1} {"plain":1}` {
			t.Fatalf("Docs = %s, want the keyed document once and the plain one", bodies(got))
		}
		if diff := sameDoc(got[0], first); diff != "" {
			t.Errorf("Docs[0]: %s", diff)
		}
		if got[1].Key != "" {
			t.Errorf("plain document came back with key %q", got[1].Key)
		}
		// Another key is another document, after the first.
		other, created := appendOnce(t, s, "snap", "2026-03-09T00:00:00Z", `{"n":3}`)
		if !created || other.ID <= first.ID {
			t.Errorf("AppendDocOnce with a new key: created %v, id %d after %d", created, other.ID, first.ID)
		}
		// Keys are optional: unkeyed documents never collide, even when
		// identical.
		appendDoc(t, s, "snap", `{"plain":1}`)
		if got := bodies(docs(t, s, "snap", 0)); got != `{"plain":1} {"n":3} {"n":1} {"plain":1}` {
			t.Errorf("Docs = %s", got)
		}
	})

	t.Run("DocsOnceCollectionsIndependent", func(t *testing.T) {
		s := open(t)
		byColl := map[string]store.Doc{}
		for _, c := range []string{"a", "b", "A", "ab"} {
			d, created := appendOnce(t, s, c, "k", c+"1")
			if !created {
				t.Errorf("key k in collection %q: created = false, though only other collections have it", c)
			}
			byColl[c] = d
		}
		// Keys compare byte for byte.
		for _, k := range []string{"K", "k ", " k", "kk"} {
			if _, created := appendOnce(t, s, "a", k, "a-"+k); !created {
				t.Errorf("key %q in a: created = false, though only %q exists", k, "k")
			}
		}
		for _, c := range []string{"a", "b", "A", "ab"} {
			d, created := appendOnce(t, s, c, "k", c+"2")
			if created {
				t.Errorf("key k again in %q: created = true", c)
			}
			if diff := sameDoc(d, byColl[c]); diff != "" {
				t.Errorf("key k again in %q returned %s", c, diff)
			}
		}
		for _, tc := range []struct{ collection, want string }{
			{"a", "a-kk a- k a-k  a-K a1"}, {"b", "b1"}, {"A", "A1"}, {"ab", "ab1"},
		} {
			if got := bodies(docs(t, s, tc.collection, 0)); got != tc.want {
				t.Errorf("Docs(%q) = %s, want %s", tc.collection, got, tc.want)
			}
		}
	})

	t.Run("DocsOnceInvalid", func(t *testing.T) {
		s := open(t)
		// An empty key is refused rather than taken as a plain append: the
		// caller asked for at most one document, and an unkeyed append
		// would quietly allow any number.
		for _, tc := range []struct {
			collection, key string
			body            []byte
		}{{"c", "", []byte(`{}`)}, {"", "k", []byte(`{}`)}, {"c", "k", nil}, {"c", "k", []byte{}}} {
			d, created, err := s.AppendDocOnce(ctx, tc.collection, tc.key, tc.body)
			if !errors.Is(err, store.ErrInvalidDoc) || created || d.ID != 0 {
				t.Errorf("AppendDocOnce(%q, %q, %q) = id %d, created %v, err %v; want ErrInvalidDoc", tc.collection, tc.key, tc.body, d.ID, created, err)
			}
		}
		if got := docs(t, s, "c", 0); len(got) != 0 {
			t.Errorf("refused appends stored %d documents", len(got))
		}
		// A refused append did not take its key.
		if _, created := appendOnce(t, s, "c", "k", `{}`); !created {
			t.Error("key k after refused appends: created = false")
		}
	})

	t.Run("DocsOnceConcurrent", func(t *testing.T) {
		s := open(t)
		handles := []store.Store{s}
		if o.share != nil {
			handles = append(handles, o.share(t, s))
		} else {
			t.Log("no storetest.Share option: racing within one handle only")
		}
		const (
			callers = 8
			keys    = 8
		)
		type result struct {
			doc     store.Doc
			created bool
			err     error
		}
		var results [keys][callers]result
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k := range keys {
			for c := range callers {
				wg.Go(func() {
					<-start
					h := handles[c%len(handles)]
					d, created, err := h.AppendDocOnce(ctx, "race", fmt.Sprintf("slot-%d", k), fmt.Appendf(nil, `{"caller":%d}`, c))
					results[k][c] = result{d, created, err}
				})
			}
		}
		close(start)
		wg.Wait()
		for k := range keys {
			var winner *store.Doc
			for c := range callers {
				r := results[k][c]
				if r.err != nil {
					t.Fatalf("slot-%d, caller %d: %v", k, c, r.err)
				}
				if r.created {
					if winner != nil {
						t.Fatalf("slot-%d: created by caller %d and by the caller of %s", k, c, winner.Body)
					}
					winner = &results[k][c].doc
					if want := fmt.Sprintf(`{"caller":%d}`, c); string(r.doc.Body) != want {
						t.Errorf("slot-%d: caller %d created %s, want its own body %s", k, c, r.doc.Body, want)
					}
				}
			}
			if winner == nil {
				t.Fatalf("slot-%d: no caller created it", k)
			}
			for c := range callers {
				if diff := sameDoc(results[k][c].doc, *winner); diff != "" {
					t.Errorf("slot-%d, caller %d: %s", k, c, diff)
				}
			}
		}
		for i, h := range handles {
			got := docs(t, h, "race", 0)
			seen := map[string]int{}
			for _, d := range got {
				seen[d.Key]++
			}
			if len(got) != keys || len(seen) != keys {
				t.Errorf("handle %d: %d documents for %d keys (%v), want one per key", i, len(got), len(seen), seen)
			}
		}
	})

	t.Run("DocsOncePersist", func(t *testing.T) {
		if o.reopen == nil {
			t.Skip("no storetest.Reopen option: persistence across a restart not checked")
		}
		s := open(t)
		first, _ := appendOnce(t, s, "a", "k", `{"n":1}`)
		s = o.reopen(t, s)
		if got := docs(t, s, "a", 0); len(got) != 1 || sameDoc(got[0], first) != "" {
			t.Fatalf("after reopening: Docs(a) = %+v, want %+v", got, first)
		}
		again, created := appendOnce(t, s, "a", "k", `{"n":2}`)
		if created || sameDoc(again, first) != "" {
			t.Errorf("after reopening: AppendDocOnce(k) = %+v, created %v; want %+v, not created", again, created, first)
		}
	})
}

// CheckDocsMigrated checks a store just migrated from a schema before
// document keys (migration 004) whose collection "c" held one unkeyed
// document, "old": it is still there, unkeyed, and both appends work.
func CheckDocsMigrated(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Docs(ctx, "c", 0)
	if err != nil || len(got) != 1 || string(got[0].Body) != "old" || got[0].Key != "" {
		t.Fatalf("old document after migrating: %+v (%v)", got, err)
	}
	if _, err := s.AppendDoc(ctx, "c", []byte("plain")); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if _, created, err := s.AppendDocOnce(ctx, "c", "k", []byte("keyed")); err != nil || created != want {
			t.Errorf("AppendDocOnce #%d: created %v (%v), want %v", i+1, created, err, want)
		}
	}
	if got, _ := s.Docs(ctx, "c", 0); len(got) != 3 {
		t.Errorf("%d documents, want 3", len(got))
	}
}
