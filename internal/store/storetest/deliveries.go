package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

var deliveryT0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func delivery(source, id, outcome string, at time.Duration) store.Delivery {
	return store.Delivery{
		Source: source, DeliveryID: id, ReceivedAt: deliveryT0.Add(at), Outcome: outcome,
		Event: "pull_request.closed", PayloadSHA256: "sha-" + id, Payload: []byte(`{"id":"` + id + `"}`),
		Headers: map[string]string{"X-GitHub-Event": "pull_request"},
	}
}

func logDelivery(t *testing.T, s store.Store, d store.Delivery) (store.Delivery, bool) {
	t.Helper()
	got, created, err := s.LogDelivery(context.Background(), d)
	if err != nil {
		t.Fatalf("LogDelivery(%s/%s %s): %v", d.Source, d.DeliveryID, d.Outcome, err)
	}
	return got, created
}

// sameDelivery reports how got differs from want (Seq and Payload aside),
// or "".
func sameDelivery(got, want store.Delivery) string {
	got.Seq, want.Seq = 0, 0
	got.Payload, want.Payload = nil, nil
	if len(got.Keys) == 0 && len(want.Keys) == 0 {
		got.Keys, want.Keys = nil, nil
	}
	if len(got.Headers) == 0 && len(want.Headers) == 0 {
		got.Headers, want.Headers = nil, nil
	}
	if !got.ReceivedAt.Equal(want.ReceivedAt) || got.ReceivedAt.Location() != time.UTC {
		return fmt.Sprintf("received_at %v, want %v in UTC", got.ReceivedAt, want.ReceivedAt)
	}
	got.ReceivedAt = want.ReceivedAt
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%+v, want %+v", got, want)
	}
	return ""
}

func deliveryIDs(ds []store.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Source+"/"+d.DeliveryID+":"+d.Outcome)
	}
	return out
}

func keptIDs(t *testing.T, s store.Store, source string, since time.Time) []string {
	t.Helper()
	out := []string{}
	err := s.KeptPayloads(context.Background(), source, since, func(d store.Delivery) error {
		if want := `{"id":"` + d.DeliveryID + `"}`; string(d.Payload) != want {
			return fmt.Errorf("payload of %s = %q, want %q", d.DeliveryID, d.Payload, want)
		}
		out = append(out, d.DeliveryID)
		return nil
	})
	if err != nil {
		t.Fatalf("KeptPayloads(%s): %v", source, err)
	}
	return out
}

// runDeliveries is the contract of the webhook delivery log
// (store.DeliveryStore and Batch.LogDeliveries).
func runDeliveries(t *testing.T, open Factory, o options) {
	ctx := context.Background()

	t.Run("DeliveriesCountedOnce", func(t *testing.T) {
		s := open(t)
		first := delivery("github", "d-1", store.DeliveryAccepted, 0)
		first.Keys = []domain.Key{{Kind: domain.KindChange, Source: "github", ID: "o/r#2"}, {Kind: domain.KindDeployment, Source: "github", ID: "deployment/7"}}
		first.Truncated = 2
		got, created := logDelivery(t, s, first)
		if !created || got.Seq <= 0 {
			t.Fatalf("first delivery: created %v, seq %d", created, got.Seq)
		}
		if diff := sameDelivery(got, first); diff != "" {
			t.Fatalf("stored delivery: %s", diff)
		}
		// The same id again, accepted or ignored, is not stored: the
		// first comes back, as stored.
		for _, outcome := range []string{store.DeliveryAccepted, store.DeliveryIgnored} {
			again, created := logDelivery(t, s, delivery("github", "d-1", outcome, time.Minute))
			if created {
				t.Fatalf("redelivery logged as %s: created", outcome)
			}
			if again.Seq != got.Seq || sameDelivery(again, first) != "" {
				t.Fatalf("redelivery returned %+v, want the first delivery", again)
			}
		}
		// The same id from another source is another delivery.
		if _, created := logDelivery(t, s, delivery("gitlab", "d-1", store.DeliveryAccepted, 0)); !created {
			t.Fatal("gitlab d-1 after github d-1: created = false")
		}
		// Duplicates and rejections are logged however often they come, and
		// a rejected id does not stop the delivery that later verifies.
		for range 2 {
			logDelivery(t, s, delivery("github", "d-1", store.DeliveryDuplicate, 2*time.Minute))
			rej := delivery("github", "d-2", store.DeliveryRejected, 2*time.Minute)
			rej.Reason, rej.Payload = "bad signature", nil
			logDelivery(t, s, rej)
		}
		if _, created := logDelivery(t, s, delivery("github", "d-2", store.DeliveryIgnored, 3*time.Minute)); !created {
			t.Fatal("ignored d-2 after rejected d-2: created = false")
		}
		if _, err := s.CountedDelivery(ctx, "github", "d-9"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CountedDelivery of an unknown id: err = %v, want ErrNotFound", err)
		}
		c, err := s.CountedDelivery(ctx, "github", "d-2")
		if err != nil || c.Outcome != store.DeliveryIgnored || c.Payload != nil {
			t.Fatalf("CountedDelivery(d-2) = %+v, %v; want the ignored one, without payload", c, err)
		}
		all, err := s.Deliveries(ctx, store.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"github/d-2:ignored", "github/d-2:rejected", "github/d-1:duplicate", "github/d-2:rejected", "github/d-1:duplicate", "gitlab/d-1:accepted", "github/d-1:accepted"}
		if got := deliveryIDs(all); !reflect.DeepEqual(got, want) {
			t.Fatalf("Deliveries = %v, want %v (newest first)", got, want)
		}
		for _, d := range all {
			if d.Payload != nil {
				t.Fatalf("Deliveries returned the payload of %s", d.DeliveryID)
			}
		}
		if diff := sameDelivery(all[len(all)-1], first); diff != "" {
			t.Fatalf("Deliveries' oldest: %s", diff)
		}
		filtered, _ := s.Deliveries(ctx, store.DeliveryFilter{Source: "github", Outcome: store.DeliveryRejected, Limit: 1})
		if got := deliveryIDs(filtered); !reflect.DeepEqual(got, []string{"github/d-2:rejected"}) {
			t.Fatalf("filtered Deliveries = %v", got)
		}
		recent, _ := s.Deliveries(ctx, store.DeliveryFilter{Since: deliveryT0.Add(3 * time.Minute)})
		if got := deliveryIDs(recent); !reflect.DeepEqual(got, []string{"github/d-2:ignored"}) {
			t.Fatalf("Deliveries since +3m = %v", got)
		}
	})

	t.Run("DeliveriesRefuseInvalid", func(t *testing.T) {
		s := open(t)
		for name, d := range map[string]store.Delivery{
			"no source":           {DeliveryID: "x", ReceivedAt: deliveryT0, Outcome: store.DeliveryAccepted},
			"unknown outcome":     {Source: "github", DeliveryID: "x", ReceivedAt: deliveryT0, Outcome: "maybe"},
			"counted without id":  {Source: "github", ReceivedAt: deliveryT0, Outcome: store.DeliveryAccepted},
			"no time of delivery": {Source: "github", DeliveryID: "x", Outcome: store.DeliveryRejected},
		} {
			if _, _, err := s.LogDelivery(ctx, d); !errors.Is(err, store.ErrInvalidDelivery) {
				t.Errorf("%s: err = %v, want ErrInvalidDelivery", name, err)
			}
		}
		// A rejected delivery may have no id (the sender did not say).
		if _, created := logDelivery(t, s, store.Delivery{Source: "github", ReceivedAt: deliveryT0, Outcome: store.DeliveryRejected, Reason: "no signature"}); !created {
			t.Error("rejected delivery without id: created = false")
		}
	})

	t.Run("DeliveriesCommitWithTheirRecords", func(t *testing.T) {
		s := open(t)
		logDelivery(t, s, delivery("github", "old", store.DeliveryAccepted, 0))
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{item(domain.KindChange, "github", "c1", `{"c":1}`, deliveryT0)}); err != nil {
			t.Fatal(err)
		}
		created, err := b.LogDeliveries(ctx, []store.Delivery{
			delivery("github", "new", store.DeliveryAccepted, time.Minute),
			delivery("github", "old", store.DeliveryAccepted, time.Minute),
			delivery("github", "new", store.DeliveryIgnored, time.Minute),
			delivery("github", "other", store.DeliveryIgnored, time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, false, false, true}; !reflect.DeepEqual(created, want) {
			t.Fatalf("LogDeliveries created %v, want %v (a taken id, committed or earlier in the batch, is not stored)", created, want)
		}
		if _, err := s.CountedDelivery(ctx, "github", "new"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("uncommitted delivery visible: %v", err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if d, err := s.CountedDelivery(ctx, "github", "new"); err != nil || d.Outcome != store.DeliveryAccepted {
			t.Fatalf("committed delivery = %+v, %v", d, err)
		}
		if _, err := s.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "github", ID: "c1"}); err != nil {
			t.Fatalf("committed record: %v", err)
		}

		// Rolled back: neither the records nor the delivery were.
		b, err = s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{item(domain.KindChange, "github", "c2", `{"c":2}`, deliveryT0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.LogDeliveries(ctx, []store.Delivery{delivery("github", "lost", store.DeliveryAccepted, 0)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Rollback(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CountedDelivery(ctx, "github", "lost"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled-back delivery: err = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "github", ID: "c2"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled-back record: err = %v, want ErrNotFound", err)
		}
		// A batch with deliveries and no records commits them.
		b, err = s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.LogDeliveries(ctx, []store.Delivery{delivery("github", "alone", store.DeliveryIgnored, 0)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CountedDelivery(ctx, "github", "alone"); err != nil {
			t.Fatalf("delivery committed alone: %v", err)
		}
		if _, err := b.LogDeliveries(ctx, nil); err == nil {
			t.Fatal("LogDeliveries on an ended batch: no error")
		}
	})

	t.Run("DeliveriesCountedOnceAcrossHandles", func(t *testing.T) {
		s := open(t)
		handles := []store.Store{s}
		if o.share != nil {
			handles = append(handles, o.share(t, s))
		}
		const callers = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		errs := []error{}
		start := make(chan struct{})
		for c := range callers {
			wg.Go(func() {
				<-start
				h := handles[c%len(handles)]
				var created bool
				var err error
				if c%2 == 0 {
					_, created, err = h.LogDelivery(ctx, delivery("stripe", "evt_1", store.DeliveryAccepted, 0))
				} else {
					var b store.Batch
					if b, err = h.Begin(ctx); err == nil {
						var cs []bool
						if cs, err = b.LogDeliveries(ctx, []store.Delivery{delivery("stripe", "evt_1", store.DeliveryAccepted, 0)}); err == nil {
							created = cs[0]
							err = b.Commit()
						} else {
							b.Rollback()
						}
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if created {
					wins++
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("racing deliveries: %v", errs)
		}
		if wins != 1 {
			t.Fatalf("%d of %d racing redeliveries were stored, want exactly 1", wins, callers)
		}
	})

	t.Run("DeliveryPayloadsKeptAndForgotten", func(t *testing.T) {
		s := open(t)
		// More than a page, so KeptPayloads must page.
		n := store.PayloadPage + 5
		for i := range n {
			logDelivery(t, s, delivery("stripe", fmt.Sprintf("e%03d", i), store.DeliveryAccepted, time.Duration(i)*time.Minute))
		}
		rej := delivery("stripe", "bad-sig", store.DeliveryRejected, time.Hour)
		rej.Payload = nil
		logDelivery(t, s, rej)
		logDelivery(t, s, delivery("github", "g1", store.DeliveryAccepted, 0))
		got := keptIDs(t, s, "stripe", time.Time{})
		if len(got) != n || got[0] != "e000" || got[n-1] != fmt.Sprintf("e%03d", n-1) {
			t.Fatalf("KeptPayloads(stripe) = %d payloads %v…, want %d oldest first without the rejected one", len(got), got[:min(3, len(got))], n)
		}
		since := keptIDs(t, s, "stripe", deliveryT0.Add(100*time.Minute))
		if want := []string{"e100", "e101", "e102", "e103", "e104"}; !reflect.DeepEqual(since, want) {
			t.Fatalf("KeptPayloads since +100m = %v, want %v", since, want)
		}
		forgot, err := s.ForgetPayloads(ctx, deliveryT0.Add(100*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if forgot != 101 { // stripe e000…e099 and github g1
			t.Fatalf("ForgetPayloads forgot %d, want 101", forgot)
		}
		if got := keptIDs(t, s, "stripe", time.Time{}); len(got) != 5 || got[0] != "e100" {
			t.Fatalf("kept after forgetting: %v", got)
		}
		if again, _ := s.ForgetPayloads(ctx, deliveryT0.Add(100*time.Minute)); again != 0 {
			t.Fatalf("forgetting again forgot %d", again)
		}
		// The rows stay: only the payloads went.
		all, _ := s.Deliveries(ctx, store.DeliveryFilter{Source: "stripe"})
		if len(all) != n+1 {
			t.Fatalf("%d stripe deliveries after forgetting payloads, want %d", len(all), n+1)
		}
		stop := errors.New("stop")
		calls := 0
		err = s.KeptPayloads(ctx, "stripe", time.Time{}, func(store.Delivery) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("KeptPayloads with a failing fn: %v after %d calls, want its error after 1", err, calls)
		}
	})

	t.Run("EncodedPayloadsReadBack", func(t *testing.T) {
		s := open(t)
		d := delivery("github", "enc-1", store.DeliveryAccepted, 0)
		want := append([]byte(nil), d.Payload...)
		pe, ok := s.(store.PayloadEncoder)
		if !ok {
			t.Skip("the store keeps payloads as they are")
		}
		pe.EncodePayload(&d)
		if !d.Encoded {
			t.Fatal("EncodePayload left the delivery unencoded")
		}
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.LogDeliveries(ctx, []store.Delivery{d}); err != nil {
			b.Rollback()
			t.Fatal(err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := s.KeptPayloads(ctx, "github", time.Time{}, func(k store.Delivery) error { got = k.Payload; return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("payload read back %q, want %q", got, want)
		}
	})

	t.Run("DeliveriesSurviveReopen", func(t *testing.T) {
		if o.reopen == nil {
			t.Skip("no storetest.Reopen option")
		}
		s := open(t)
		d := delivery("pagerduty", "p1", store.DeliveryAccepted, 0)
		d.Keys = []domain.Key{{Kind: domain.KindIncident, Source: "pagerduty", ID: "PX"}}
		logDelivery(t, s, d)
		s = o.reopen(t, s)
		got, err := s.CountedDelivery(ctx, "pagerduty", "p1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := sameDelivery(got, d); diff != "" {
			t.Fatalf("after reopening: %s", diff)
		}
		if ids := keptIDs(t, s, "pagerduty", time.Time{}); !reflect.DeepEqual(ids, []string{"p1"}) {
			t.Fatalf("payloads after reopening: %v", ids)
		}
	})

	// Refusals counted rather than logged add up per source and minute,
	// whichever handle (instance) adds them, and DeliveryStats sums those
	// of the minutes beginning in its bounds.
	t.Run("RefusalsNotLogged", func(t *testing.T) {
		s := open(t)
		other := s
		if o.share != nil {
			other = o.share(t, s)
		}
		m0 := deliveryT0.Truncate(time.Minute)
		if err := s.AddNotLogged(ctx, []store.NotLogged{{Source: "github", Minute: m0, Count: 200}, {Source: "github", Minute: m0.Add(time.Minute), Count: 30}}); err != nil {
			t.Fatal(err)
		}
		if err := other.AddNotLogged(ctx, []store.NotLogged{{Source: "github", Minute: m0, Count: 36}, {Source: "gitlab", Minute: m0, Count: 5}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddNotLogged(ctx, nil); err != nil {
			t.Fatalf("AddNotLogged(nil): %v", err)
		}
		logDelivery(t, s, delivery("github", "", store.DeliveryRejected, 0))
		for _, c := range []struct {
			since, until   time.Time
			want, rejected int64
		}{
			{time.Time{}, time.Time{}, 266, 1},
			{m0, m0, 236, 0},
			{m0.Add(time.Second), time.Time{}, 30, 0},
			{time.Time{}, m0.Add(-time.Nanosecond), 0, 0},
		} {
			st, err := s.DeliveryStats(ctx, "github", c.since, c.until)
			if err != nil {
				t.Fatal(err)
			}
			if st.NotLogged != c.want || st.Counts[store.DeliveryRejected] != c.rejected {
				t.Errorf("DeliveryStats(github, %v, %v): not logged %d, rejected %d; want %d and %d (a count is none of the logged)", c.since, c.until, st.NotLogged, st.Counts[store.DeliveryRejected], c.want, c.rejected)
			}
		}
		if st, err := s.DeliveryStats(ctx, "stripe", time.Time{}, time.Time{}); err != nil || st.NotLogged != 0 {
			t.Errorf("DeliveryStats(stripe) = %+v, %v; want nothing not logged", st, err)
		}
		for _, bad := range [][]store.NotLogged{
			{{Minute: m0, Count: 1}},
			{{Source: "github", Minute: m0, Count: 0}},
			{{Source: "github", Minute: deliveryT0, Count: 1}},
			{{Source: "github", Count: 1}},
		} {
			if err := s.AddNotLogged(ctx, bad); !errors.Is(err, store.ErrInvalidDelivery) {
				t.Errorf("AddNotLogged(%+v) = %v, want ErrInvalidDelivery", bad, err)
			}
		}
	})
}
