package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

func appendDoc(t *testing.T, s store.Store, collection, body string) store.Doc {
	t.Helper()
	d, err := s.AppendDoc(context.Background(), collection, []byte(body))
	if err != nil {
		t.Fatalf("AppendDoc(%s, %s): %v", collection, body, err)
	}
	return d
}

func docs(t *testing.T, s store.Store, collection string, limit int) []store.Doc {
	t.Helper()
	out, err := s.Docs(context.Background(), collection, limit)
	if err != nil {
		t.Fatalf("Docs(%s, %d): %v", collection, limit, err)
	}
	return out
}

// bodies lists the documents' bodies, for messages and comparisons.
func bodies(ds []store.Doc) string {
	var b bytes.Buffer
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(d.Body)
	}
	return b.String()
}

// runDocs is the contract of the append-only documents (store.DocStore).
func runDocs(t *testing.T, open Factory, o options) {
	ctx := context.Background()

	t.Run("DocsNewestFirst", func(t *testing.T) {
		s := open(t)
		if got := docs(t, s, "reconciliation", 0); len(got) != 0 {
			t.Fatalf("empty store: Docs = %d documents, want none", len(got))
		}
		before := time.Now()
		var appended []store.Doc
		for i := 1; i <= 5; i++ {
			appended = append(appended, appendDoc(t, s, "reconciliation", fmt.Sprintf(`{"n":%d}`, i)))
		}
		for i, d := range appended {
			if d.Collection != "reconciliation" || string(d.Body) != fmt.Sprintf(`{"n":%d}`, i+1) {
				t.Errorf("AppendDoc returned %+v", d)
			}
			if d.ID <= 0 || (i > 0 && d.ID <= appended[i-1].ID) {
				t.Errorf("ids are not positive and increasing: %d after %d", d.ID, appended[max(i-1, 0)].ID)
			}
			if d.CreatedAt.Location() != time.UTC || d.CreatedAt.Before(before.Add(-time.Minute)) || d.CreatedAt.After(time.Now().Add(time.Minute)) {
				t.Errorf("created_at = %v, want about now in UTC", d.CreatedAt)
			}
		}
		all := docs(t, s, "reconciliation", 0)
		if got := bodies(all); got != `{"n":5} {"n":4} {"n":3} {"n":2} {"n":1}` {
			t.Fatalf("Docs = %s, want newest first", got)
		}
		for i, d := range all {
			w := appended[len(appended)-1-i]
			if d.ID != w.ID || !d.CreatedAt.Equal(w.CreatedAt) || d.Collection != w.Collection {
				t.Errorf("Docs[%d] = %d %v %q, AppendDoc returned %d %v %q", i, d.ID, d.CreatedAt, d.Collection, w.ID, w.CreatedAt, w.Collection)
			}
		}
		if got := docs(t, s, "reconciliation", -1); len(got) != 5 {
			t.Errorf("limit -1 returned %d documents, want all 5", len(got))
		}
	})

	t.Run("DocsLimit", func(t *testing.T) {
		s := open(t)
		for i := 1; i <= 4; i++ {
			appendDoc(t, s, "c", fmt.Sprintf("%d", i))
		}
		for _, tc := range []struct {
			limit int
			want  string
		}{{1, "4"}, {2, "4 3"}, {4, "4 3 2 1"}, {10, "4 3 2 1"}, {0, "4 3 2 1"}} {
			if got := bodies(docs(t, s, "c", tc.limit)); got != tc.want {
				t.Errorf("limit %d: Docs = %s, want %s", tc.limit, got, tc.want)
			}
		}
	})

	t.Run("DocsCollectionsIsolated", func(t *testing.T) {
		s := open(t)
		appendDoc(t, s, "a", "a1")
		appendDoc(t, s, "b", "b1")
		appendDoc(t, s, "a", "a2")
		appendDoc(t, s, "ab", "ab1")
		appendDoc(t, s, "A", "A1")
		for _, tc := range []struct{ collection, want string }{
			{"a", "a2 a1"}, {"b", "b1"}, {"ab", "ab1"}, {"A", "A1"}, {"none", ""},
		} {
			got := docs(t, s, tc.collection, 0)
			if bodies(got) != tc.want {
				t.Errorf("Docs(%q) = %s, want %s", tc.collection, bodies(got), tc.want)
			}
			for _, d := range got {
				if d.Collection != tc.collection {
					t.Errorf("Docs(%q) returned a document of collection %q", tc.collection, d.Collection)
				}
			}
		}
		// The limit applies within the collection, not before filtering.
		if got := bodies(docs(t, s, "a", 1)); got != "a2" {
			t.Errorf("Docs(a, 1) = %s, want a2", got)
		}
		// Documents are not records.
		if rows, _ := scanAll(t, s, 0); len(rows) != 0 {
			t.Errorf("documents show up in Scan: %d rows", len(rows))
		}
		if n, _ := s.LastSeq(ctx); n != 0 {
			t.Errorf("documents moved LastSeq to %d", n)
		}
	})

	t.Run("DocsBodyVerbatim", func(t *testing.T) {
		s := open(t)
		// Not canonical JSON (spacing, key order, a duplicate key), and not
		// JSON at all: the store keeps bytes, it does not interpret them.
		for _, body := range []string{`{ "z": 1,  "a": [1, 2], "a": 3 }`, "not json\x00\xff\n"} {
			appendDoc(t, s, "raw", body)
			got := docs(t, s, "raw", 1)
			if len(got) != 1 || string(got[0].Body) != body {
				t.Errorf("body %q came back as %q", body, bodies(got))
			}
		}
		// The caller's slice is not kept: changing it afterwards changes
		// nothing stored.
		b := []byte(`{"v":1}`)
		d, err := s.AppendDoc(ctx, "raw", b)
		if err != nil {
			t.Fatal(err)
		}
		b[5] = '9'
		if string(d.Body) != `{"v":1}` || string(docs(t, s, "raw", 1)[0].Body) != `{"v":1}` {
			t.Errorf("changing the appended slice changed the document")
		}
	})

	t.Run("DocsInvalid", func(t *testing.T) {
		s := open(t)
		for _, tc := range []struct {
			collection string
			body       []byte
		}{{"", []byte(`{}`)}, {"c", nil}, {"c", []byte{}}} {
			if _, err := s.AppendDoc(ctx, tc.collection, tc.body); !errors.Is(err, store.ErrInvalidDoc) {
				t.Errorf("AppendDoc(%q, %q): err = %v, want ErrInvalidDoc", tc.collection, tc.body, err)
			}
		}
		if got := docs(t, s, "c", 0); len(got) != 0 {
			t.Errorf("refused appends stored %d documents", len(got))
		}
	})

	t.Run("DocsWhileBatchOpen", func(t *testing.T) {
		s := open(t)
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{item(domain.KindLead, "import", "l1", `{}`, time.Now())}); err != nil {
			t.Fatal(err)
		}
		// Appends during an import must not fail: they may wait for the
		// batch (the embedded store serialises writers) or not.
		done := make(chan error, 1)
		go func() {
			if _, err := s.AppendDoc(ctx, "c", []byte(`{}`)); err != nil {
				done <- err
				return
			}
			_, _, err := s.AppendDocOnce(ctx, "c", "k", []byte(`{}`))
			done <- err
		}()
		finished := false
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("appending while a batch was open: %v", err)
			}
			finished = true
		case <-time.After(100 * time.Millisecond):
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if !finished {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("appending after the batch committed: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("appends still blocked 10 s after the batch committed")
			}
		}
		if got := docs(t, s, "c", 0); len(got) != 2 {
			t.Errorf("%d documents, want 2", len(got))
		}
		if rows, _ := scanAll(t, s, 0); len(rows) != 1 {
			t.Errorf("%d records after the batch, want 1", len(rows))
		}
	})

	t.Run("DocsPersist", func(t *testing.T) {
		if o.reopen == nil {
			t.Skip("no storetest.Reopen option: persistence across a restart not checked")
		}
		s := open(t)
		a1 := appendDoc(t, s, "a", `{"n":1}`)
		appendDoc(t, s, "b", `{"n":2}`)
		a3 := appendDoc(t, s, "a", `{"n":3}`)
		s = o.reopen(t, s)
		got := docs(t, s, "a", 0)
		if bodies(got) != `{"n":3} {"n":1}` || got[0].ID != a3.ID || got[1].ID != a1.ID || !got[1].CreatedAt.Equal(a1.CreatedAt) {
			t.Fatalf("after reopening: Docs(a) = %+v", got)
		}
		// Ids keep increasing after a restart: never reused.
		if d := appendDoc(t, s, "a", `{"n":4}`); d.ID <= a3.ID {
			t.Errorf("id after reopening = %d, not above %d", d.ID, a3.ID)
		}
		if got := bodies(docs(t, s, "b", 0)); got != `{"n":2}` {
			t.Errorf("after reopening: Docs(b) = %s", got)
		}
	})

	runKeyedDocs(t, open, o)
}
