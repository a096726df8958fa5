// Package storetest is the contract every store.Store implementation must
// pass; each backend's tests call Run with a factory for fresh stores.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Factory returns an empty store; the test closes it.
type Factory func(t *testing.T) store.Store

func item(kind domain.Kind, source, id, body string, ev time.Time) store.Item {
	return store.Item{Key: domain.Key{Kind: kind, Source: source, ID: id}, EventTime: ev, Hash: fmt.Sprintf("h-%s", body), RawHash: "raw-" + body, Body: []byte(body)}
}

func scanAll(t *testing.T, s store.Store, after int64) ([]store.Stored, int64) {
	t.Helper()
	var out []store.Stored
	last, err := s.Scan(context.Background(), after, func(r store.Stored) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, last
}

// putIngested writes items in one batch and returns the time they were
// ingested at, once the clock has passed it: what is written next is
// ingested later.
func putIngested(t *testing.T, s store.Store, items ...store.Item) time.Time {
	t.Helper()
	ctx := context.Background()
	if _, err := store.Put(ctx, s, items); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, items[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	for !time.Now().After(r.IngestedAt) {
		time.Sleep(time.Millisecond)
	}
	return r.IngestedAt
}

// Option adjusts Run.
type Option func(*options)

type options struct {
	reopen func(t *testing.T, s store.Store) store.Store
	share  func(t *testing.T, s store.Store) store.Store
	sql    func(t *testing.T, s store.Store, bypass bool, stmts ...string) error
}

// Reopen tells the suite how to close a store and open the same storage
// again, so it can check that what was written survives a restart. Without
// it the persistence checks are skipped. The returned store is the test's
// to close.
func Reopen(f func(t *testing.T, s store.Store) store.Store) Option {
	return func(o *options) { o.reopen = f }
}

// Share tells the suite how to open a second handle on the storage of s
// while s stays open, as a second process or instance would, so it can
// check guarantees that must hold across handles and not only within one
// (AppendDocOnce's). Without it those checks use s alone. The returned
// store is the test's to close.
func Share(f func(t *testing.T, s store.Store) store.Store) Option {
	return func(o *options) { o.share = f }
}

// Run runs the contract suite.
func Run(t *testing.T, open Factory, opts ...Option) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("InsertScanGet", func(t *testing.T) {
		s := open(t)
		res, err := store.Put(ctx, s, []store.Item{
			item(domain.KindDeployment, "import", "d1", `{"a":1}`, t0),
			item(domain.KindDeployment, "github", "d1", `{"a":2}`, t0.Add(time.Hour)),
			item(domain.KindService, "import", "svc", `{"s":1}`, time.Time{}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts() != (store.WriteResult{Inserted: 3}) {
			t.Fatalf("result = %+v, want 3 inserted", res)
		}
		rows, last := scanAll(t, s, 0)
		if len(rows) != 3 {
			t.Fatalf("scan returned %d rows, want 3", len(rows))
		}
		for i := 1; i < len(rows); i++ {
			if rows[i].Seq <= rows[i-1].Seq {
				t.Fatalf("scan not in seq order: %d then %d", rows[i-1].Seq, rows[i].Seq)
			}
		}
		if last != rows[2].Seq {
			t.Fatalf("last = %d, want %d", last, rows[2].Seq)
		}
		if ls, _ := s.LastSeq(ctx); ls != last {
			t.Fatalf("LastSeq = %d, want %d", ls, last)
		}
		if !rows[0].EventTime.Equal(t0) || !rows[2].EventTime.IsZero() {
			t.Fatalf("event times = %v, %v", rows[0].EventTime, rows[2].EventTime)
		}
		if rows[0].IngestedAt.IsZero() || time.Since(rows[0].IngestedAt) > time.Hour {
			t.Fatalf("ingested_at = %v", rows[0].IngestedAt)
		}
		got, err := s.Get(ctx, domain.Key{Kind: domain.KindDeployment, Source: "github", ID: "d1"})
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Body) != `{"a":2}` || got.Hash != `h-{"a":2}` || got.RawHash != `raw-{"a":2}` {
			t.Fatalf("Get = %s %s %s", got.Body, got.Hash, got.RawHash)
		}
		// A record's page (GET /api/v1/records/…) shows its provenance as
		// Get returns it: the same sequence and times a Scan sees.
		if scanned := rows[1]; got.Seq != scanned.Seq || !got.IngestedAt.Equal(scanned.IngestedAt) || !got.EventTime.Equal(scanned.EventTime) {
			t.Fatalf("Get provenance = seq %d ingested %v event %v, Scan = %d %v %v", got.Seq, got.IngestedAt, got.EventTime, scanned.Seq, scanned.IngestedAt, scanned.EventTime)
		}
		if svc, err := s.Get(ctx, domain.Key{Kind: domain.KindService, Source: "import", ID: "svc"}); err != nil || !svc.EventTime.IsZero() || svc.Seq != rows[2].Seq {
			t.Fatalf("Get service = seq %d event %v (%v), want seq %d and no event time", svc.Seq, svc.EventTime, err, rows[2].Seq)
		}
		if rows[0].RawHash != `raw-{"a":1}` {
			t.Fatalf("Scan raw hash = %q", rows[0].RawHash)
		}
		if _, err := s.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "import", ID: "d1"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
		}
		counts, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[domain.KindDeployment] != 2 || counts[domain.KindService] != 1 || len(counts) != 2 {
			t.Fatalf("counts = %v", counts)
		}
	})

	// Tail hands out what Scan does, at most max rows of it, and says
	// whether that was all: the follower applies a tail it read whole
	// without asking for the last sequence, so "all" must never be said of
	// a partial read, and a replaced row must come as its newer version.
	t.Run("TailIsScanBounded", func(t *testing.T) {
		s := open(t)
		tl, ok := s.(store.Tailer)
		if !ok {
			t.Fatalf("%T does not implement store.Tailer", s)
		}
		var items []store.Item
		for i := range 5 {
			items = append(items, item(domain.KindChange, "import", fmt.Sprint("c", i), `{"v":1}`, t0))
		}
		if _, err := store.Put(ctx, s, items); err != nil {
			t.Fatal(err)
		}
		// c1 corrected: its row moves to the newest sequence.
		if _, err := store.Put(ctx, s, []store.Item{item(domain.KindChange, "import", "c1", `{"v":2}`, t0)}); err != nil {
			t.Fatal(err)
		}
		tail := func(after int64, max int) ([]store.Stored, int64, bool) {
			t.Helper()
			var out []store.Stored
			last, all, err := tl.Tail(ctx, after, max, func(r store.Stored) error {
				out = append(out, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out, last, all
		}
		for _, after := range []int64{0, 2, 4} {
			want, wantLast := scanAll(t, s, after)
			for max := 1; max <= len(want)+1; max++ {
				got, last, all := tail(after, max)
				n := min(max, len(want))
				if len(got) != n || all != (max >= len(want)) {
					t.Fatalf("Tail(%d, %d) = %d rows, all %v; Scan has %d", after, max, len(got), all, len(want))
				}
				for i := range got {
					if got[i].Seq != want[i].Seq || got[i].Key != want[i].Key || string(got[i].Body) != string(want[i].Body) ||
						got[i].Hash != want[i].Hash || got[i].RawHash != want[i].RawHash ||
						!got[i].IngestedAt.Equal(want[i].IngestedAt) || !got[i].EventTime.Equal(want[i].EventTime) {
						t.Fatalf("Tail(%d, %d) row %d = %+v, Scan's %+v", after, max, i, got[i], want[i])
					}
				}
				if all && last != wantLast || !all && last != got[n-1].Seq {
					t.Fatalf("Tail(%d, %d) last = %d (all %v), Scan's %d", after, max, last, all, wantLast)
				}
			}
		}
		ls, _ := s.LastSeq(ctx)
		if got, last, all := tail(ls, 10); len(got) != 0 || last != ls || !all {
			t.Fatalf("Tail after the last = %d rows, last %d, all %v; want none, %d, true", len(got), last, all, ls)
		}
		if got, _, _ := tail(0, 10); string(got[len(got)-1].Body) != `{"v":2}` || got[len(got)-1].Key.ID != "c1" || len(got) != 5 {
			t.Fatalf("Tail's newest row = %s %s of %d, want c1's correction of 5", got[len(got)-1].Key.ID, got[len(got)-1].Body, len(got))
		}
		// store.Tail over a store without a Tail of its own reads the last
		// sequence, then scans: what it hands out is Scan's first rows, it
		// says all only when they are all of them, and a tail of at most
		// max sequences is read whole.
		bare := struct{ store.Store }{s}
		for _, after := range []int64{0, 2, 4} {
			want, wantLast := scanAll(t, s, after)
			for max := 1; max <= int(wantLast-after)+1; max++ {
				var got []store.Stored
				last, all, err := store.Tail(ctx, bare, after, max, func(r store.Stored) error {
					got = append(got, r)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) > max || all != (len(got) == len(want)) || all && last != wantLast || int64(max) >= wantLast-after && !all {
					t.Fatalf("store.Tail(%d, %d) without Tail = %d rows, last %d, all %v; Scan has %d to %d", after, max, len(got), last, all, len(want), wantLast)
				}
				for i := range got {
					if got[i].Seq != want[i].Seq {
						t.Fatalf("store.Tail(%d, %d) without Tail: row %d has seq %d, Scan's %d", after, max, i, got[i].Seq, want[i].Seq)
					}
				}
			}
		}
	})

	// ScanIngestedBefore hands out what Scan does of the records ingested
	// before its time, in Seq order; a record replaced since is not among
	// them, its version now being the later one.
	t.Run("ScanIngestedBefore", func(t *testing.T) {
		s := open(t)
		first := putIngested(t, s, item(domain.KindTicket, "import", "a1", `{"a":1}`, t0), item(domain.KindTicket, "import", "a2", `{"a":2}`, t0))
		second := putIngested(t, s, item(domain.KindTicket, "import", "b1", `{"b":1}`, t0), item(domain.KindTicket, "import", "a2", `{"a":3}`, t0))
		before := func(at time.Time) []store.Stored {
			t.Helper()
			var out []store.Stored
			if err := s.ScanIngestedBefore(ctx, at, func(r store.Stored) error {
				out = append(out, r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := before(first); len(got) != 0 {
			t.Errorf("ScanIngestedBefore(the first write's time) = %d records, want none", len(got))
		}
		all, _ := scanAll(t, s, 0)
		if got := before(second); len(got) != 1 || !reflect.DeepEqual(got[0], all[0]) || got[0].Key.ID != "a1" {
			t.Errorf("ScanIngestedBefore(the second write's time) = %+v, want a1 alone as Scan has it (%+v)", got, all[0])
		}
		if got := before(second.Add(time.Nanosecond)); !reflect.DeepEqual(got, all) {
			t.Errorf("ScanIngestedBefore(after the second write) = %+v, want what Scan hands out, %+v", got, all)
		}
	})

	t.Run("ClockStampsWrites", func(t *testing.T) {
		s := open(t)
		c, ok := s.(store.Clocked)
		if !ok {
			t.Fatalf("%T is not a store.Clocked", s)
		}
		// A clock set stamps the records written and the documents
		// appended (candor demo stores its year day by day); nil gives
		// the system's back.
		at := time.Date(2026, 2, 3, 4, 5, 6, 7000, time.UTC)
		c.SetClock(func() time.Time { return at })
		rec := item(domain.KindTicket, "import", "c1", `{"c":1}`, t0)
		if _, err := store.Put(ctx, s, []store.Item{rec}); err != nil {
			t.Fatal(err)
		}
		d, err := s.AppendDoc(ctx, "clock", []byte(`{"c":1}`))
		if err != nil {
			t.Fatal(err)
		}
		c.SetClock(nil)
		r, err := s.Get(ctx, rec.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !r.IngestedAt.Equal(at) || !d.CreatedAt.Equal(at) {
			t.Errorf("under a clock at %s: record ingested %s, document created %s", at, r.IngestedAt, d.CreatedAt)
		}
		if now := putIngested(t, s, item(domain.KindTicket, "import", "c2", `{"c":2}`, t0)); now.Sub(time.Now()).Abs() > time.Minute {
			t.Errorf("with the clock given back, a record was ingested at %s", now)
		}
	})

	t.Run("KeepIngested", func(t *testing.T) {
		s := open(t)
		c := s.(store.Clocked)
		defer c.SetClock(nil)
		at := func(ts time.Time) { c.SetClock(func() time.Time { return ts }) }
		t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
		// Enough rows for a store's bulk path (PostgreSQL stages 4,096 and
		// more), and one key the rewrite adds.
		const n = 4200
		var items []store.Item
		for i := range n {
			items = append(items, item(domain.KindTicket, "import", fmt.Sprintf("k%04d", i), fmt.Sprintf(`{"v":%d}`, i), t0))
		}
		at(t1)
		if _, err := store.Put(ctx, s, items); err != nil {
			t.Fatal(err)
		}
		// A retention run's rewrite keeps the records' ingestion time, and
		// gives them new sequences.
		at(t2)
		rewrite := func(items []store.Item, keep bool) {
			t.Helper()
			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Rollback()
			k, ok := b.(store.IngestKeeper)
			if !ok {
				t.Fatalf("%T is not a store.IngestKeeper", b)
			}
			if keep {
				k.KeepIngested()
			}
			last, err := s.LastSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res, err := b.Add(ctx, items)
			if err != nil {
				t.Fatal(err)
			}
			// The batch says where its writes begin: a retention run names
			// the range it wrote by it.
			if from := k.WrittenFrom(); from != last+1 || res.Seq < from {
				t.Errorf("the batch's writes from %d, the store's last sequence before it %d, its last %d", from, last, res.Seq)
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		before, err := s.Get(ctx, items[7].Key)
		if err != nil {
			t.Fatal(err)
		}
		var changed []store.Item
		for i, it := range items {
			changed = append(changed, item(domain.KindTicket, "import", it.Key.ID, fmt.Sprintf(`{"v":%d,"redacted":true}`, i), t0))
		}
		changed = append(changed, item(domain.KindTicket, "import", "new", `{"v":-1}`, t0))
		rewrite(changed[:3], true) // a small batch
		rewrite(changed[3:], true) // the bulk path
		for _, id := range []string{"k0001", "k0007", "k4199"} {
			got, err := s.Get(ctx, domain.Key{Kind: domain.KindTicket, Source: "import", ID: id})
			if err != nil {
				t.Fatal(err)
			}
			if !got.IngestedAt.Equal(t1) || !bytes.Contains(got.Body, []byte("redacted")) || id == "k0007" && got.Seq <= before.Seq {
				t.Errorf("%s rewritten keeping its ingestion: ingested %s (want %s), seq %d (was %d), body %s", id, got.IngestedAt, t1, got.Seq, before.Seq, got.Body)
			}
		}
		if got, err := s.Get(ctx, domain.Key{Kind: domain.KindTicket, Source: "import", ID: "new"}); err != nil || !got.IngestedAt.Equal(t2) {
			t.Errorf("a record the keeping batch inserted: ingested %s (want %s), %v", got.IngestedAt, t2, err)
		}
		// Any other batch stamps what it replaces.
		at(t3)
		rewrite([]store.Item{item(domain.KindTicket, "import", "k0001", `{"v":"corrected"}`, t0)}, false)
		if got, err := s.Get(ctx, domain.Key{Kind: domain.KindTicket, Source: "import", ID: "k0001"}); err != nil || !got.IngestedAt.Equal(t3) {
			t.Errorf("a correction after the rewrite: ingested %s (want %s), %v", got.IngestedAt, t3, err)
		}
	})

	t.Run("ReplaceIsIdempotent", func(t *testing.T) {
		s := open(t)
		items := []store.Item{
			item(domain.KindChange, "import", "c1", `{"v":1}`, t0),
			item(domain.KindChange, "import", "c2", `{"v":1}`, t0),
		}
		if _, err := store.Put(ctx, s, items); err != nil {
			t.Fatal(err)
		}
		before, _ := s.LastSeq(ctx)
		// The same records from differently formatted input: unchanged, and
		// the stored provenance stays that of the stored version.
		again := append([]store.Item(nil), items...)
		for i := range again {
			again[i].RawHash = "reformatted"
		}
		res, err := store.Put(ctx, s, again)
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts() != (store.WriteResult{Unchanged: 2}) {
			t.Fatalf("re-put result = %+v, want 2 unchanged", res)
		}
		if after, _ := s.LastSeq(ctx); after != before {
			t.Fatalf("unchanged re-put moved LastSeq %d -> %d", before, after)
		}
		res, err = store.Put(ctx, s, []store.Item{
			item(domain.KindChange, "import", "c2", `{"v":2}`, t0.Add(time.Minute)),
			item(domain.KindChange, "import", "c3", `{"v":1}`, t0),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts() != (store.WriteResult{Inserted: 1, Replaced: 1}) {
			t.Fatalf("result = %+v, want 1 inserted 1 replaced", res)
		}
		rows, _ := scanAll(t, s, before)
		if len(rows) != 2 {
			t.Fatalf("scan after %d returned %d rows, want the replaced and the new one", before, len(rows))
		}
		all, _ := scanAll(t, s, 0)
		if len(all) != 3 {
			t.Fatalf("store holds %d records, want 3", len(all))
		}
		got, _ := s.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "import", ID: "c2"})
		if string(got.Body) != `{"v":2}` || !got.EventTime.Equal(t0.Add(time.Minute)) || got.RawHash != `raw-{"v":2}` {
			t.Fatalf("c2 = %s at %v raw %q, want the replacement", got.Body, got.EventTime, got.RawHash)
		}
		if c1, _ := s.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "import", ID: "c1"}); c1.RawHash != `raw-{"v":1}` {
			t.Fatalf("unchanged c1 raw hash = %q, want the original input's", c1.RawHash)
		}
	})

	t.Run("DuplicateInOneBatchLastWins", func(t *testing.T) {
		s := open(t)
		res, err := store.Put(ctx, s, []store.Item{
			item(domain.KindIncident, "import", "i1", `{"v":1}`, t0),
			item(domain.KindIncident, "import", "i1", `{"v":2}`, t0),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 1 || res.Replaced != 1 {
			t.Fatalf("result = %+v", res)
		}
		got, _ := s.Get(ctx, domain.Key{Kind: domain.KindIncident, Source: "import", ID: "i1"})
		if string(got.Body) != `{"v":2}` {
			t.Fatalf("body = %s, want the later line", got.Body)
		}
	})

	t.Run("WriteSeqBoundsItsRows", func(t *testing.T) {
		// Read-your-writes waits for min(Seq, LastSeq): Seq must be at or
		// above every row the write made, and a write that changed
		// nothing must not ask to wait at all.
		s := open(t)
		inc := func(id, v string) store.Item {
			return item(domain.KindIncident, "import", id, `{"v":`+v+`}`, t0)
		}
		check := func(name string, items ...[]store.Item) {
			t.Helper()
			before, _ := s.LastSeq(ctx)
			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res, err := b.AddEach(ctx, items)
			if err != nil {
				b.Rollback()
				t.Fatal(err)
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			var sum store.WriteResult
			for _, r := range res {
				sum.Add(r)
			}
			rows, last := scanAll(t, s, before)
			if len(rows) == 0 {
				if sum.Seq != 0 {
					t.Fatalf("%s: nothing changed, Seq = %d, want 0", name, sum.Seq)
				}
				return
			}
			if sum.Seq < rows[len(rows)-1].Seq || min(sum.Seq, last) < rows[len(rows)-1].Seq {
				t.Fatalf("%s: Seq = %d (last %d), below the write's newest row %d", name, sum.Seq, last, rows[len(rows)-1].Seq)
			}
			for i, r := range res {
				if r.Inserted+r.Replaced == 0 && r.Seq != 0 {
					t.Fatalf("%s: list %d changed nothing but has Seq %d", name, i, r.Seq)
				}
			}
		}
		check("new", []store.Item{inc("a", "1"), inc("b", "1")})
		check("unchanged", []store.Item{inc("a", "1"), inc("b", "1")})
		check("partly new, partly unchanged", []store.Item{inc("a", "1"), inc("c", "1"), inc("b", "1")})
		check("replaced", []store.Item{inc("a", "2")})
		check("two lists", []store.Item{inc("d", "1")}, []store.Item{inc("b", "1")}, []store.Item{inc("b", "3"), inc("e", "1")})
	})

	t.Run("AddEachIsAddInTurn", func(t *testing.T) {
		// Group commit writes many requests' lists with one AddEach: the
		// counts per list and what is stored must be what one Add per list
		// gives, with keys repeating within and across lists.
		inc := func(id, v string) store.Item {
			return item(domain.KindIncident, "hook", id, `{"v":`+v+`}`, t0)
		}
		before := []store.Item{inc("a", "1"), inc("b", "1")}
		repeating := [][]store.Item{
			{inc("a", "1"), inc("b", "2"), inc("c", "1")}, // unchanged, replaced, new
			nil,
			{inc("c", "1"), inc("c", "2"), inc("c", "2"), inc("d", "1")}, // repeats within a list
			{inc("a", "3")},
			{inc("d", "1"), inc("e", "1"), inc("e", "1")},
		}
		distinct := [][]store.Item{ // the usual group: every key once
			{inc("c", "1")},
			{inc("a", "1"), inc("d", "1")},
			nil,
			{inc("b", "2"), inc("e", "1"), inc("f", "1")},
			{inc("g", "1")},
		}
		type outcome struct {
			res  []store.WriteResult
			rows []string // key=body raw in seq order
		}
		run := func(lists [][]store.Item, mode string) outcome {
			s := open(t)
			if _, err := store.Put(ctx, s, before); err != nil {
				t.Fatal(err)
			}
			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var res []store.WriteResult
			switch mode {
			case "each":
				res, err = b.AddEach(ctx, lists)
			case "commit":
				res, err = store.CommitEach(ctx, b, lists)
			default:
				res, err = store.AddInTurn(ctx, b, lists)
			}
			if err != nil {
				b.Rollback()
				t.Fatal(err)
			}
			if mode == "commit" {
				// Ended: the writer is free again.
				if err := b.Commit(); err == nil {
					t.Fatal("Commit after CommitEach succeeded, want batch already ended")
				}
				b.Rollback()
				if _, err := store.Put(ctx, s, nil); err != nil {
					t.Fatal(err)
				}
			} else if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			all, _ := scanAll(t, s, 0)
			var o outcome
			for _, r := range res {
				o.res = append(o.res, r.Counts()) // sequences differ by how the group was written
			}
			for _, r := range all {
				o.rows = append(o.rows, fmt.Sprintf("%s=%s %s", r.Key.ID, r.Body, r.RawHash))
			}
			return o
		}
		for _, c := range []struct {
			name  string
			lists [][]store.Item
			want  []store.WriteResult
		}{
			{"repeating", repeating, []store.WriteResult{{Inserted: 1, Replaced: 1, Unchanged: 1}, {}, {Inserted: 1, Replaced: 1, Unchanged: 2}, {Replaced: 1}, {Inserted: 1, Unchanged: 2}}},
			{"distinct", distinct, []store.WriteResult{{Inserted: 1}, {Inserted: 1, Unchanged: 1}, {}, {Inserted: 2, Replaced: 1}, {Inserted: 1}}},
		} {
			alone := run(c.lists, "alone")
			for _, mode := range []string{"each", "commit"} {
				together := run(c.lists, mode)
				if fmt.Sprint(together) != fmt.Sprint(alone) {
					t.Fatalf("%s, %s:\n%v\none Add per list:\n%v", c.name, mode, together, alone)
				}
				if fmt.Sprint(together.res) != fmt.Sprint(c.want) {
					t.Fatalf("%s, %s: results = %v, want %v", c.name, mode, together.res, c.want)
				}
			}
		}
		lists := repeating

		s := open(t)
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.AddEach(ctx, lists); err != nil {
			t.Fatal(err)
		}
		if err := b.Rollback(); err != nil {
			t.Fatal(err)
		}
		if rows, _ := scanAll(t, s, 0); len(rows) != 0 {
			t.Fatalf("rolled-back AddEach left %d records", len(rows))
		}
	})

	t.Run("RollbackChangesNothing", func(t *testing.T) {
		s := open(t)
		if _, err := store.Put(ctx, s, []store.Item{item(domain.KindTicket, "import", "t1", `{"v":1}`, t0)}); err != nil {
			t.Fatal(err)
		}
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{
			item(domain.KindTicket, "import", "t1", `{"v":9}`, t0),
			item(domain.KindTicket, "import", "t2", `{"v":1}`, t0),
		}); err != nil {
			t.Fatal(err)
		}
		if err := b.Rollback(); err != nil {
			t.Fatal(err)
		}
		rows, _ := scanAll(t, s, 0)
		if len(rows) != 1 || string(rows[0].Body) != `{"v":1}` {
			t.Fatalf("after rollback: %d rows, first %s", len(rows), rows[0].Body)
		}
	})

	t.Run("UncommittedInvisible", func(t *testing.T) {
		s := open(t)
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Rollback()
		if _, err := b.Add(ctx, []store.Item{item(domain.KindTicket, "import", "t1", `{}`, t0)}); err != nil {
			t.Fatal(err)
		}
		rows, _ := scanAll(t, s, 0)
		if len(rows) != 0 {
			t.Fatalf("uncommitted rows visible: %d", len(rows))
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if rows, _ := scanAll(t, s, 0); len(rows) != 1 {
			t.Fatalf("committed rows: %d, want 1", len(rows))
		}
	})

	t.Run("LargeBatch", func(t *testing.T) {
		s := open(t)
		const n = 5000
		items := make([]store.Item, n)
		for i := range items {
			items[i] = item(domain.KindChange, "import", fmt.Sprintf("c%05d", i), fmt.Sprintf(`{"i":%d}`, i), t0.Add(time.Duration(i)*time.Second))
		}
		res, err := store.Put(ctx, s, items)
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != n {
			t.Fatalf("inserted %d, want %d", res.Inserted, n)
		}
		// Replace every tenth, keep the rest: counts must be exact.
		for i := 0; i < n; i += 10 {
			items[i].Body = []byte(fmt.Sprintf(`{"i":%d,"r":1}`, i))
			items[i].Hash = "changed"
		}
		res, err = store.Put(ctx, s, items)
		if err != nil {
			t.Fatal(err)
		}
		if res.Replaced != n/10 || res.Unchanged != n-n/10 || res.Inserted != 0 {
			t.Fatalf("re-put result = %+v", res)
		}
		if rows, _ := scanAll(t, s, 0); len(rows) != n {
			t.Fatalf("scan = %d rows, want %d", len(rows), n)
		}
	})

	t.Run("WritersSerialise", func(t *testing.T) {
		s := open(t)
		b1, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b1.Add(ctx, []store.Item{item(domain.KindLead, "import", "l1", `{}`, t0)}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := store.Put(ctx, s, []store.Item{item(domain.KindLead, "import", "l2", `{}`, t0)})
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("second writer finished while the first batch was open (err=%v)", err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := b1.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		rows, _ := scanAll(t, s, 0)
		if len(rows) != 2 || rows[0].Key.ID != "l1" || rows[1].Key.ID != "l2" {
			t.Fatalf("rows = %+v", rows)
		}
	})

	t.Run("BeginHonoursContext", func(t *testing.T) {
		s := open(t)
		b1, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer b1.Rollback()
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := s.Begin(cctx); err == nil {
			t.Fatal("second Begin succeeded while the first batch was open")
		}
	})

	runFixed(t, open, o)
	runBatchDocs(t, open)
	runDocs(t, open, o)
	runDocFields(t, open)
	t.Run("DocsOmitting", func(t *testing.T) { runDocsOmitting(t, open) })
	runAuth(t, open, o)
	runShares(t, open, o)
	runAlerts(t, open)
	runDeliveries(t, open, o)
	runLedger(t, open, o)
	runRetention(t, open)
	runRetentionDocs(t, open)
	runRetentionArchives(t, open)
	runDigestDocs(t, open, o)
	runSync(t, open, o)
	runGovernance(t, open, o)
	runInboxConversion(t, open)
	runImage(t, open)
}
