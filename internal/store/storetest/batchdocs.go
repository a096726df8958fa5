package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// runBatchDocs: keyed documents appended in a batch (a connector's event
// clocks, with the records they order) are kept if and only if the batch
// commits, and a key is taken once, whether committed before or earlier
// in the batch.
func runBatchDocs(t *testing.T, open Factory) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	doc := func(key, body string) store.KeyedDoc {
		return store.KeyedDoc{Collection: "clocks", Key: key, Body: []byte(body)}
	}
	write := func(t *testing.T, s store.Store, commit bool, docs ...store.KeyedDoc) []bool {
		t.Helper()
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{item(domain.KindIncident, "pagerduty", "P1", `{"v":1}`, t0)}); err != nil {
			t.Fatal(err)
		}
		created, err := b.AppendDocsOnce(ctx, docs)
		if err != nil {
			b.Rollback()
			t.Fatal(err)
		}
		if !commit {
			if err := b.Rollback(); err != nil {
				t.Fatal(err)
			}
			return created
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		return created
	}

	t.Run("BatchDocsKeptWithTheBatch", func(t *testing.T) {
		s := open(t)
		if created := write(t, s, false, doc("P1#1", `{"at":1}`)); !slices.Equal(created, []bool{true}) {
			t.Fatalf("created = %v, want the document created in the batch", created)
		}
		if _, ok, err := s.DocByKey(ctx, "clocks", "P1#1"); ok || err != nil {
			t.Fatalf("a rolled-back batch's document is kept (%v)", err)
		}
		if created := write(t, s, true, doc("P1#1", `{"at":2}`), doc("P1#2", `{"at":3}`), doc("P1#2", `{"at":4}`)); !slices.Equal(created, []bool{true, true, false}) {
			t.Fatalf("created = %v, want the key taken earlier in the batch not created again", created)
		}
		if created := write(t, s, true, doc("P1#2", `{"at":5}`), doc("P1#3", `{"at":6}`)); !slices.Equal(created, []bool{false, true}) {
			t.Fatalf("created = %v, want the committed key not created again", created)
		}
		for key, want := range map[string]string{"P1#1": `{"at":2}`, "P1#2": `{"at":3}`, "P1#3": `{"at":6}`} {
			d, ok, err := s.DocByKey(ctx, "clocks", key)
			if err != nil || !ok || string(d.Body) != want {
				t.Fatalf("document %s = %s (%v, %v), want %s", key, d.Body, ok, err, want)
			}
		}
		if ds := docs(t, s, "clocks", 0); len(ds) != 3 {
			t.Fatalf("%d documents kept, want 3", len(ds))
		}
	})
}
