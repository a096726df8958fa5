package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

func deliveryRecords(t *testing.T, ids ...string) []domain.Record {
	t.Helper()
	var out []domain.Record
	for _, id := range ids {
		r, err := domain.ParseJSON([]byte(depLine(id)), "", domain.ParseOptions{DefaultSource: "github"})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func testDelivery(id, outcome string) store.Delivery {
	return store.Delivery{Source: "github", DeliveryID: id, ReceivedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Outcome: outcome, PayloadSHA256: "p-" + id, Payload: []byte("{}")}
}

// A delivery's records and its log row commit together, with the
// payload's hash as every record's raw hash; a redelivery committed later
// is a duplicate and is not logged again.
func TestDeliverCommitsRecordsWithTheDelivery(t *testing.T) {
	st := newStore(t)
	c := NewCommitter(st)
	ctx := context.Background()
	payload := []byte(`{"deployment":1}`)
	raw := sha256.Sum256(payload)
	res, err := c.Deliver(ctx, deliveryRecords(t, "d1", "d2"), raw, testDelivery("g-1", store.DeliveryAccepted), Along{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.Inserted != 2 {
		t.Fatalf("first delivery: %+v, want 2 inserted, not a duplicate", res)
	}
	got, err := st.Get(ctx, domain.Key{Kind: domain.KindDeployment, Source: "github", ID: "d2"})
	if err != nil {
		t.Fatal(err)
	}
	if got.RawHash != hex.EncodeToString(raw[:]) {
		t.Fatalf("raw hash %s, want the payload's sha256", got.RawHash)
	}
	if d, err := st.CountedDelivery(ctx, "github", "g-1"); err != nil || d.Outcome != store.DeliveryAccepted {
		t.Fatalf("logged delivery = %+v, %v", d, err)
	}
	again, err := c.Deliver(ctx, deliveryRecords(t, "d1", "d2"), raw, testDelivery("g-1", store.DeliveryAccepted), Along{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Inserted != 0 || again.Replaced != 0 {
		t.Fatalf("redelivery: %+v, want a duplicate that changed nothing", again)
	}
	if ds, _ := st.Deliveries(ctx, store.DeliveryFilter{}); len(ds) != 1 {
		t.Fatalf("%d deliveries logged, want 1", len(ds))
	}
	// A delivery without records (an ignored event) is logged all the same.
	if res, err := c.Deliver(ctx, nil, raw, testDelivery("g-2", store.DeliveryIgnored), Along{}); err != nil || res.Duplicate {
		t.Fatalf("ignored delivery: %+v, %v", res, err)
	}
	if _, err := st.CountedDelivery(ctx, "github", "g-2"); err != nil {
		t.Fatalf("ignored delivery not logged: %v", err)
	}
	if _, err := c.Deliver(ctx, nil, raw, store.Delivery{Source: "github", Outcome: store.DeliveryAccepted}, Along{}); !errors.Is(err, store.ErrInvalidDelivery) {
		t.Fatalf("delivery without id or time: err = %v, want ErrInvalidDelivery", err)
	}
}

// Concurrent redeliveries of one delivery, waiting together for the
// writer, commit in one transaction and exactly one of them counts.
func TestDeliverGroupsAndCountsRedeliveriesOnce(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	c := NewCommitter(spy)
	release := spy.holdWriter()
	const n = 12
	results := make([]DeliveryResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("g-%d", i%3) // three deliveries, each sent four times
			results[i], errs[i] = c.Deliver(context.Background(), deliveryRecords(t, "d-"+id), [32]byte{}, testDelivery(id, store.DeliveryAccepted), Along{})
		})
		waitQueued(t, c, i+1)
	}
	release()
	wg.Wait()
	counted := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("delivery %d: %v", i, errs[i])
		}
		if !results[i].Duplicate {
			counted[fmt.Sprintf("g-%d", i%3)]++
		}
	}
	for id, k := range map[string]int{"g-0": 1, "g-1": 1, "g-2": 1} {
		if counted[id] != k {
			t.Errorf("%s counted %d times, want %d", id, counted[id], k)
		}
	}
	if tx := spy.transactions(); tx != 1 {
		t.Errorf("%d transactions for %d waiting deliveries, want 1", tx, n)
	}
	if got := counts(t, spy); got[domain.KindDeployment] != 3 {
		t.Errorf("stored %v, want 3 deployments", got)
	}
}

// A delivery the store refuses fails alone, and leaves neither its
// records nor its log row; the others of its group commit.
func TestDeliverFailureWritesNothing(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	spy.failAdd = func(items []store.Item) error {
		for _, it := range items {
			if it.Key.ID == "poison" {
				return errors.New("disk on fire")
			}
		}
		return nil
	}
	c := NewCommitter(spy)
	release := spy.holdWriter()
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, id := range []string{"ok1", "poison", "ok2"} {
		wg.Go(func() {
			_, errs[i] = c.Deliver(context.Background(), deliveryRecords(t, id), [32]byte{}, testDelivery(id, store.DeliveryAccepted), Along{})
		})
		waitQueued(t, c, i+1)
	}
	release()
	wg.Wait()
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("errors %v, want only the poisoned delivery's", errs)
	}
	ctx := context.Background()
	for id, want := range map[string]bool{"ok1": true, "poison": false, "ok2": true} {
		_, err := spy.CountedDelivery(ctx, "github", id)
		if (err == nil) != want {
			t.Errorf("delivery %s logged: %v, want %v", id, err == nil, want)
		}
		_, err = spy.Get(ctx, domain.Key{Kind: domain.KindDeployment, Source: "github", ID: id})
		if (err == nil) != want {
			t.Errorf("record %s stored: %v, want %v", id, err == nil, want)
		}
	}
}

// On a store that logs deliveries first (SQLite), a redelivery writes
// nothing, even when its mapping now gives other records (a stateful
// mapping reads what was stored since); a replay writes its records.
func TestDeliverRedeliveryWritesNoRecords(t *testing.T) {
	st := newStore(t)
	c := NewCommitter(st)
	if !c.LogsDeliveriesFirst() {
		t.Fatal("the SQLite store does not log deliveries first")
	}
	ctx := context.Background()
	key := domain.Key{Kind: domain.KindDeployment, Source: "github", ID: "d1"}
	mapped := func(status string) []domain.Record {
		r, err := domain.ParseJSON([]byte(depLineStatus("d1", status)), "", domain.ParseOptions{DefaultSource: "github"})
		if err != nil {
			t.Fatal(err)
		}
		return []domain.Record{r}
	}
	if _, err := c.Deliver(ctx, mapped("success"), [32]byte{1}, testDelivery("g-1", store.DeliveryAccepted), Along{}); err != nil {
		t.Fatal(err)
	}
	first, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Deliver(ctx, mapped("failure"), [32]byte{2}, testDelivery("g-1", store.DeliveryAccepted), Along{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Inserted+again.Replaced+again.Unchanged != 0 {
		t.Fatalf("redelivery: %+v, want a duplicate that wrote nothing", again)
	}
	if got, _ := st.Get(ctx, key); got.Hash != first.Hash || got.Seq != first.Seq {
		t.Fatalf("the redelivery rewrote %s (seq %d → %d)", key, first.Seq, got.Seq)
	}
	replayed, err := c.Replay(ctx, mapped("failure"), [32]byte{2}, testDelivery("g-1", store.DeliveryAccepted), Along{})
	if err != nil {
		t.Fatal(err)
	}
	if !replayed.Duplicate || replayed.Replaced != 1 {
		t.Fatalf("replay: %+v, want its record replaced and the delivery not logged again", replayed)
	}
	if ds, _ := st.Deliveries(ctx, store.DeliveryFilter{}); len(ds) != 1 {
		t.Fatalf("%d deliveries logged, want 1", len(ds))
	}
}

// The documents a delivery carries (a connector's event clocks) commit
// with its records: a delivery refused by the store keeps none, and a
// redelivery, whose records are not written, appends none; a fixed
// record stored with another body refuses its delivery alone, its group
// retried without it.
func TestDeliverDocsGoWithTheRecords(t *testing.T) {
	st := newStore(t)
	c := NewCommitter(st)
	ctx := context.Background()
	clock := func(key string) []store.KeyedDoc {
		return []store.KeyedDoc{{Collection: "clocks", Key: key, Body: []byte(`{}`)}}
	}
	kept := func(key string) bool {
		t.Helper()
		_, ok, err := st.DocByKey(ctx, "clocks", key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if _, err := c.Deliver(ctx, deliveryRecords(t, "d1"), [32]byte{}, testDelivery("g-1", store.DeliveryAccepted), Along{Fixed: []bool{true}, Docs: clock("d1#1")}); err != nil {
		t.Fatal(err)
	}
	if !kept("d1#1") {
		t.Fatal("the delivery's document was not kept")
	}
	if res, err := c.Deliver(ctx, deliveryRecords(t, "d1"), [32]byte{}, testDelivery("g-1", store.DeliveryAccepted), Along{Docs: clock("d1#2")}); err != nil || !res.Duplicate {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
	if c.LogsDeliveriesFirst() && kept("d1#2") {
		t.Fatal("a redelivery whose records were not written appended its document")
	}
	// The same deployment with another body, fixed: refused, its document
	// not kept, while a delivery committed in the same group stands.
	changed := deliveryRecords(t, "d1")
	changed[0].(*domain.Deployment).Environment = "staging"
	var wg sync.WaitGroup
	var errs [2]error
	wg.Go(func() {
		_, errs[0] = c.Deliver(ctx, changed, [32]byte{}, testDelivery("g-2", store.DeliveryAccepted), Along{Fixed: []bool{true}, Docs: clock("d1#3")})
	})
	wg.Go(func() {
		_, errs[1] = c.Deliver(ctx, deliveryRecords(t, "d9"), [32]byte{}, testDelivery("g-3", store.DeliveryAccepted), Along{Docs: clock("d9#1")})
	})
	wg.Wait()
	var ce *store.ChangedError
	if !errors.As(errs[0], &ce) || ce.Key.ID != "d1" || errs[1] != nil {
		t.Fatalf("errors = %v, %v; want the changed deployment refused alone", errs[0], errs[1])
	}
	if kept("d1#3") || !kept("d9#1") {
		t.Fatalf("documents kept: refused delivery's %v, the other's %v; want only the other's", kept("d1#3"), kept("d9#1"))
	}
	if _, err := st.CountedDelivery(ctx, "github", "g-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused delivery was logged (%v)", err)
	}
}
