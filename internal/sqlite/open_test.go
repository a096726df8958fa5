package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Commands started together on a store just created each apply the
// migrations they find missing: one applies each, the others find it
// applied under the write lock and go on (before, a version read as
// missing was applied again, and the open failed: "table … already
// exists").
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		dir := t.TempDir()
		if err := create(ctx, dir+"/candor.db"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				s, err := Open(ctx, dir)
				if err != nil {
					errs <- err
					return
				}
				s.Close()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// A batch needs no pooled connection beyond its own once it holds the
// writer: the INSERTs are prepared before (prepareInserts), so readers
// holding every other connection do not stall it (found by review: an
// INSERT prepared at its first Add waited for a reader's connection with
// the writer held).
func TestBatchNeedsNoOtherConnection(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Begin(ctx) // the batch connection is made, the INSERTs prepared
	if err != nil {
		t.Fatal(err)
	}
	b.Rollback()
	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 5 { // every connection of the pool but the batch's
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err = s.Begin(tctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	var items []store.Item
	for i := range 300 { // INSERTs of several sizes
		items = append(items, store.Item{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: string(rune('a'+i%26)) + string(rune('a'+i/26))}, Hash: "h", Body: []byte(`{}`)})
	}
	if _, err := b.Add(tctx, items); err != nil {
		t.Fatalf("Add with every other connection held: %v", err)
	}
}
