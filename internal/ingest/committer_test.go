package ingest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// doImport is how the Import tests import; TestImportThroughCommitter
// runs them again through a Committer.
var doImport = Import

// spyStore wraps a store to watch and disturb the committer: it counts
// transactions, logs every Add, can hold Begin until released, and can
// make Adds or Commits fail.
type spyStore struct {
	store.Store
	mu      sync.Mutex
	begins  int
	commits int
	adds    [][]store.Item // every Add's items, in call order
	// hold, when set, makes Begin wait until it is closed.
	hold chan struct{}
	// failAdd, when set, fails an Add whose items it returns an error for.
	failAdd func(items []store.Item) error
	// failCommit, when set, fails the nth commit (counting from 1) if it
	// returns an error; the transaction is then rolled back.
	failCommit func(n int) error
	// inAdd, when set, is called at every Add before it writes.
	inAdd func()
	// shortAdds counts the Adds of batches told that they commit next
	// (store.ShortBatch).
	shortAdds int
	// sends makes its batches store.CommitSenders (as PostgreSQL's are):
	// a commit is then made, or failed, only when its outcome is waited
	// for; sent counts the commits sent.
	sends bool
	sent  int
}

func (s *spyStore) Begin(ctx context.Context) (store.Batch, error) {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	b, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.begins++
	s.mu.Unlock()
	if s.sends {
		return &sendingBatch{spyBatch{Batch: b, s: s}}, nil
	}
	return &spyBatch{Batch: b, s: s}, nil
}

// sendingBatch is a spyBatch whose commit is sent and waited for apart.
type sendingBatch struct{ spyBatch }

func (b *sendingBatch) SendCommit() func() error {
	b.s.mu.Lock()
	b.s.sent++
	b.s.mu.Unlock()
	return b.Commit
}

func (s *spyStore) transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.begins
}

type spyBatch struct {
	store.Batch
	s     *spyStore
	short bool
}

func (b *spyBatch) CommitsNext() { b.short = true }

func (b *spyBatch) Add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	if b.s.inAdd != nil {
		b.s.inAdd()
	}
	b.s.mu.Lock()
	b.s.adds = append(b.s.adds, slices.Clone(items))
	if b.short {
		b.s.shortAdds++
	}
	b.s.mu.Unlock()
	if b.s.failAdd != nil {
		if err := b.s.failAdd(items); err != nil {
			return store.WriteResult{}, err
		}
	}
	return b.Batch.Add(ctx, items)
}

// AddEach goes through Add so the spy sees every list.
func (b *spyBatch) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	return store.AddInTurn(ctx, b, lists)
}

func (b *spyBatch) Commit() error {
	b.s.mu.Lock()
	b.s.commits++
	n := b.s.commits
	b.s.mu.Unlock()
	if b.s.failCommit != nil {
		if err := b.s.failCommit(n); err != nil {
			b.Batch.Rollback()
			return err
		}
	}
	return b.Batch.Commit()
}

// holdWriter makes the committer's next Begin wait until the returned
// function is called, so requests submitted meanwhile queue up.
func (s *spyStore) holdWriter() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.hold = nil
		s.mu.Unlock()
		close(ch)
	}
}

// waitQueued waits until n requests wait in c's queue.
func waitQueued(t *testing.T, c *Committer, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.queue)
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type outcome struct {
	sum *Summary
	err error
}

// submitAll imports each body through c on its own goroutine and returns
// the outcomes in body order once they all returned. With the writer
// held, the requests queue one after the other in body order before the
// writer is released; otherwise they all go at once.
func submitAll(t *testing.T, c *Committer, spy *spyStore, holdWriter bool, bodies []string) []outcome {
	t.Helper()
	var release func()
	if holdWriter {
		release = spy.holdWriter()
	}
	out := make([]outcome, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := c.Import(context.Background(), []Source{src(fmt.Sprintf("r%d.ndjson", i), body)}, Options{})
			out[i] = outcome{sum, err}
		}()
		if holdWriter {
			waitQueued(t, c, i+1)
		}
	}
	if holdWriter {
		release()
	}
	wg.Wait()
	return out
}

// seqOrder lists the stored keys by sequence number with their hashes:
// what a reader following seq sees, without the numbers themselves (a
// group may skip numbers that separate transactions would reuse).
func seqOrder(t *testing.T, st store.Store) []string {
	t.Helper()
	type row struct {
		seq int64
		s   string
	}
	var rows []row
	for k, r := range snap(t, st).rows {
		rows = append(rows, row{r.Seq, k.String() + "@" + r.Hash})
	}
	slices.SortFunc(rows, func(a, b row) int { return int(a.seq - b.seq) })
	var out []string
	for _, r := range rows {
		out = append(out, r.s)
	}
	return out
}

// counted is what a summary says per kind, for comparing two summaries.
func counted(s *Summary) string {
	return fmt.Sprintf("records %d invalid %d total %+v by kind %v", s.Records, s.Invalid, s.WriteResult.Counts(), byKind(s))
}

// Many concurrent requests waiting for the writer are committed in one
// transaction, and each gets its own counts.
func TestCommitterGroupsWaitingRequests(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	c := NewCommitter(spy)
	var bodies []string
	for i := range 20 {
		bodies = append(bodies, nd(depLine(fmt.Sprintf("d%d", i)), incLine(fmt.Sprintf("i%d", i))))
	}
	for i, o := range submitAll(t, c, spy, true, bodies) {
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
		want := map[domain.Kind]KindSummary{domain.KindDeployment: ks(1, 1, 0, 0), domain.KindIncident: ks(1, 1, 0, 0)}
		if got := byKind(o.sum); !reflect.DeepEqual(got, want) || o.sum.Inserted != 2 {
			t.Errorf("request %d: %s, want one deployment and one incident inserted", i, counted(o.sum))
		}
	}
	if n := spy.transactions(); n != 1 {
		t.Errorf("%d transactions for 20 waiting requests, want 1", n)
	}
	if got := counts(t, spy); got[domain.KindDeployment] != 20 || got[domain.KindIncident] != 20 {
		t.Errorf("stored %v", got)
	}
}

// overlapping returns request bodies whose keys overlap: every request
// writes "shared" (three variants, so some writes replace and some change
// nothing), pairs of requests write the same "pair" record, some repeat a
// key within themselves, and each writes its own record, by which the
// test tells the requests apart in the store's log.
func overlapping(n int) []string {
	var bodies []string
	for i := range n {
		lines := []string{
			depLineStatus("shared", []string{"success", "failure", "rolled_back"}[i%3]),
			depLine(fmt.Sprintf("own%d", i)),
			incLine(fmt.Sprintf("pair%d", i/2)),
			svcLine("api"),
		}
		if i%4 == 0 {
			lines = append(lines, depLineStatus(fmt.Sprintf("own%d", i), "failure"), depLine("seeded"))
		}
		bodies = append(bodies, nd(lines...))
	}
	return bodies
}

// requestOf tells which request an Add came from by its "own" record.
func requestOf(items []store.Item) (int, bool) {
	for _, it := range items {
		var i int
		if _, err := fmt.Sscanf(it.Key.ID, "own%d", &i); err == nil {
			return i, true
		}
	}
	return 0, false
}

// checkAsSequential replays the requests one import each, in the order
// the committer wrote them, on a fresh store, and requires the same
// answers and the same stored records in the same order.
// It returns that order.
func checkAsSequential(t *testing.T, spy *spyStore, seed string, bodies []string, got []outcome) []int {
	t.Helper()
	var order []int
	seen := map[int]bool{}
	spy.mu.Lock()
	for _, items := range spy.adds {
		if i, ok := requestOf(items); ok && !seen[i] {
			seen[i] = true
			order = append(order, i)
		}
	}
	spy.mu.Unlock()
	if len(order) != len(bodies) {
		t.Fatalf("the store saw %d of %d requests", len(order), len(bodies))
		return nil
	}
	ref := newStore(t)
	mustImport(t, ref, Options{}, src("seed.ndjson", seed))
	for _, i := range order {
		want := mustImport(t, ref, Options{}, src(fmt.Sprintf("r%d.ndjson", i), bodies[i]))
		if got[i].err != nil {
			t.Errorf("request %d: %v", i, got[i].err)
			continue
		}
		if counted(got[i].sum) != counted(want) {
			t.Errorf("request %d:\n got %s\nwant %s (alone, in the same order)", i, counted(got[i].sum), counted(want))
		}
	}
	if g, w := seqOrder(t, spy), seqOrder(t, ref); !slices.Equal(g, w) {
		t.Errorf("stored records differ from one import per request:\n got %v\nwant %v", g, w)
	}
	return order
}

// Requests with overlapping keys get, in a group, exactly the counts and
// leave exactly the records they would one transaction each, in the
// order they were written.
func TestCommitterOverlappingKeysAsIfSequential(t *testing.T) {
	seed := nd(depLine("seeded"), depLineStatus("shared", "failure"))
	t.Run("one group", func(t *testing.T) {
		spy := &spyStore{Store: newStore(t)}
		mustImport(t, spy, Options{}, src("seed.ndjson", seed))
		c := NewCommitter(spy)
		bodies := overlapping(16)
		before := spy.transactions()
		got := submitAll(t, c, spy, true, bodies)
		if n := spy.transactions() - before; n != 1 {
			t.Errorf("%d transactions, want 1 group", n)
		}
		if order := checkAsSequential(t, spy, seed, bodies, got); !slices.IsSorted(order) {
			t.Errorf("requests written in the order %v, want their arrival order", order)
		}
	})
	t.Run("free running", func(t *testing.T) {
		spy := &spyStore{Store: newStore(t)}
		mustImport(t, spy, Options{}, src("seed.ndjson", seed))
		c := NewCommitter(spy)
		bodies := overlapping(64)
		got := submitAll(t, c, spy, false, bodies)
		checkAsSequential(t, spy, seed, bodies, got)
	})
}

var errPoison = errors.New("the store refuses poison")

// A request the store refuses fails alone: the others of its group are
// written, and counted as if the group had never been tried.
func TestCommitterFailingRequestFailsAlone(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	spy.failAdd = func(items []store.Item) error {
		for _, it := range items {
			if it.Key.ID == "poison" {
				return errPoison
			}
		}
		return nil
	}
	c := NewCommitter(spy)
	bodies := []string{
		nd(depLine("a1"), incLine("a2")),
		nd(depLine("b1")),
		nd(incLine("c1"), depLine("poison")), // its incident must not land either
		nd(depLine("d1"), depLine("a1")),
	}
	got := submitAll(t, c, spy, true, bodies)
	if !errors.Is(got[2].err, errPoison) {
		t.Errorf("poisoned request: err = %v, want the store's error", got[2].err)
	}
	wantIns := []int64{2, 1, 0, 1}
	for i, o := range got {
		if i == 2 {
			continue
		}
		if o.err != nil {
			t.Errorf("request %d failed with the poisoned one: %v", i, o.err)
			continue
		}
		// Inserted, not unchanged: the group's writes were rolled back.
		if o.sum.Inserted != wantIns[i] || o.sum.Records != int64(len(strings.Split(strings.TrimSpace(bodies[i]), "\n"))) {
			t.Errorf("request %d: %s", i, counted(o.sum))
		}
	}
	// d1's a1 is the same record as a's: unchanged after it.
	if got[3].err == nil && got[3].sum.Unchanged != 1 {
		t.Errorf("request 3: %s, want a1 unchanged", counted(got[3].sum))
	}
	want := []string{"deployment/import/a1", "deployment/import/b1", "deployment/import/d1", "incident/import/a2"}
	if k := keysOf(t, spy); !slices.Equal(k, want) {
		t.Errorf("stored %v, want %v", k, want)
	}
	if n := spy.transactions(); n != 1+len(bodies) {
		t.Errorf("%d transactions, want the group and one per request", n)
	}
}

func TestCommitterCommitFailure(t *testing.T) {
	for _, sends := range []bool{false, true} {
		t.Run(map[bool]string{false: "waited", true: "sent"}[sends], func(t *testing.T) { commitFailure(t, sends) })
	}
}

// commitFailure is TestCommitterCommitFailure with commits waited for or
// sent (store.CommitSender): a sent group's failure is known only once
// the committer has gone on to the next group.
func commitFailure(t *testing.T, sends bool) {
	// Only a group with its ledger entry (or a delivery) commits apart
	// from its writes.
	newStore := func(t *testing.T) store.Store {
		if sends {
			return sealedStore(t)
		}
		return newStore(t)
	}
	t.Run("group commit fails, requests alone succeed", func(t *testing.T) {
		spy := &spyStore{Store: newStore(t), sends: sends}
		spy.failCommit = func(n int) error {
			if n == 1 {
				return errors.New("disk full, once")
			}
			return nil
		}
		c := NewCommitter(spy)
		bodies := []string{nd(depLine("a")), nd(depLine("b"), depLine("a")), nd(incLine("c"))}
		got := submitAll(t, c, spy, true, bodies)
		for i, o := range got {
			if o.err != nil {
				t.Fatalf("request %d: %v", i, o.err)
			}
		}
		// Counts of a retry, not of the failed group: a was inserted by
		// request 0 and unchanged in request 1.
		if got[0].sum.Inserted != 1 || got[1].sum.Inserted != 1 || got[1].sum.Unchanged != 1 || got[2].sum.Inserted != 1 {
			t.Errorf("counts %s | %s | %s", counted(got[0].sum), counted(got[1].sum), counted(got[2].sum))
		}
		if n := spy.transactions(); n != 4 {
			t.Errorf("%d transactions, want the group and three retries", n)
		}
		if want := map[bool]int{true: 1}[sends]; spy.sent != want {
			t.Errorf("%d commits sent, want %d (the group's; a retry waits for its own)", spy.sent, want)
		}
		if k := keysOf(t, spy); len(k) != 3 {
			t.Errorf("stored %v", k)
		}
	})
	t.Run("every commit fails, nothing is acknowledged", func(t *testing.T) {
		spy := &spyStore{Store: newStore(t), sends: sends}
		spy.failCommit = func(int) error { return errors.New("disk full") }
		c := NewCommitter(spy)
		got := submitAll(t, c, spy, true, []string{nd(depLine("a")), nd(depLine("b")), nd(depLine("c"))})
		for i, o := range got {
			if o.err == nil || o.sum != nil {
				t.Errorf("request %d: summary %v, err %v; want an error and no summary", i, o.sum, o.err)
			}
		}
		if k := keysOf(t, spy); len(k) != 0 {
			t.Errorf("stored %v", k)
		}
	})
	t.Run("store cannot begin", func(t *testing.T) {
		st := newStore(t)
		c := NewCommitter(st)
		st.Close()
		if _, err := c.Import(context.Background(), []Source{src("a.ndjson", nd(depLine("a")))}, Options{}); err == nil {
			t.Error("import into a closed store succeeded")
		}
	})
}

// A request cancelled while it waits leaves the queue unwritten; the
// others of what would have been its group are written.
func TestCommitterCancelWhileWaiting(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	c := NewCommitter(spy)
	release := spy.holdWriter()
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan outcome, 3)
	imp := func(ctx context.Context, body string) {
		sum, err := c.Import(ctx, []Source{src("x.ndjson", body)}, Options{})
		results <- outcome{sum, err}
	}
	go imp(context.Background(), nd(depLine("a")))
	waitQueued(t, c, 1)
	go imp(ctx, nd(depLine("cancelled")))
	waitQueued(t, c, 2)
	go imp(context.Background(), nd(depLine("c")))
	waitQueued(t, c, 3)
	cancel()
	select {
	case o := <-results:
		if !errors.Is(o.err, context.Canceled) {
			t.Fatalf("first to return: %+v, want the cancelled request", o)
		}
	case <-time.After(30 * time.Second):
		release()
		t.Fatal("the cancelled request still waits for the writer")
	}
	waitQueued(t, c, 2)
	release()
	for range 2 {
		if o := <-results; o.err != nil || o.sum.Inserted != 1 {
			t.Errorf("outcome %+v", o)
		}
	}
	want := []string{"deployment/import/a", "deployment/import/c"}
	if k := keysOf(t, spy); !slices.Equal(k, want) {
		t.Errorf("stored %v, want %v", k, want)
	}
	if n := spy.transactions(); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
}

// A request cancelled once its group is being written is answered with
// what happened to it, and the group is unharmed.
func TestCommitterCancelWhileWriting(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	entered, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	spy.inAdd = func() {
		once.Do(func() {
			close(entered)
			<-proceed
		})
	}
	c := NewCommitter(spy)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan outcome)
	go func() {
		sum, err := c.Import(ctx, []Source{src("x.ndjson", nd(depLine("a"), incLine("b")))}, Options{})
		done <- outcome{sum, err}
	}()
	<-entered
	cancel()
	close(proceed)
	o := <-done
	if o.err != nil || o.sum.Inserted != 2 {
		t.Fatalf("outcome %+v, want both records reported written", o)
	}
	if k := keysOf(t, spy); len(k) != 2 {
		t.Errorf("stored %v", k)
	}
}

// An input too big to hold streams into its own transaction, with the
// all-or-nothing rule, while small ones go on being grouped.
func TestCommitterLargeInputStreams(t *testing.T) {
	spy := &spyStore{Store: newStore(t)}
	c := NewCommitter(spy)
	var lines []string
	for i := range 2*chunkSize + 10 {
		lines = append(lines, depLine(fmt.Sprintf("big%d", i)))
	}
	big := nd(lines...)
	got := submitAll(t, c, spy, false, []string{big, nd(depLine("small"))})
	for i, o := range got {
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
	}
	if got[0].sum.Inserted != int64(len(lines)) || got[1].sum.Inserted != 1 {
		t.Errorf("counts %s | %s", counted(got[0].sum), counted(got[1].sum))
	}
	before := snap(t, spy)
	_, err := c.Import(context.Background(), []Source{src("big.ndjson", nd(append(lines, `{"kind":"deployment","id":"bad","service":"api","environment":"production","status":"success"}`)...))}, Options{})
	if inv := wantInvalid(t, err); inv.Count != 1 || inv.Lines[0].Line != len(lines)+1 {
		t.Errorf("invalid %+v", inv)
	}
	assertUnchanged(t, spy, before)
}

// The Import tests hold the committer to Import's semantics: errors naming
// line and field, all or nothing, skip_invalid, the kind option, CSV,
// idempotency.
func TestImportThroughCommitter(t *testing.T) {
	defer func(f func(context.Context, store.Store, []Source, Options) (*Summary, error)) { doImport = f }(doImport)
	doImport = func(ctx context.Context, st store.Store, sources []Source, opt Options) (*Summary, error) {
		return NewCommitter(st).Import(ctx, sources, opt)
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"NDJSON", TestImportNDJSON},
		{"DefaultSource", TestImportDefaultSource},
		{"NDJSONKindOption", TestImportNDJSONKindOption},
		{"CSVKind", TestImportCSVKind},
		{"CSVLists", TestImportCSVLists},
		{"Formats", TestImportFormats},
		{"Gzip", TestImportGzip},
		{"BOMBlankLinesCRLF", TestImportBOMBlankLinesCRLF},
		{"LongLines", TestImportLongLines},
		{"InvalidChangesNothing", TestImportInvalidChangesNothing},
		{"InvalidErrorsNameFileLineField", TestImportInvalidErrorsNameFileLineField},
		{"InvalidListBounded", TestImportInvalidListBounded},
		{"SkipInvalid", TestImportSkipInvalid},
		{"CSVErrors", TestImportCSVErrors},
		{"Idempotent", TestImportIdempotent},
		{"CSVIdempotent", TestImportCSVIdempotent},
		{"ReplacesWhenDefaultsChange", TestImportReplacesWhenDefaultsChange},
		{"Cancel", TestImportCancel},
		{"RawInputHashKept", TestRawInputHashKept},
		{"RepeatedKeys", TestImportRepeatedKeys},
		{"RepeatedKeysAcrossChunksAndFiles", TestImportRepeatedKeysAcrossChunksAndFiles},
		{"RepeatsBounded", TestImportRepeatsBounded},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// The committer waits for more requests only while they keep coming and
// the group is small; an isolated request never waits.
func TestGathers(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		last   time.Duration
		queued int
		want   bool
	}{
		{time.Millisecond, 1, true},
		{time.Millisecond, gatherMin - 1, true},
		{time.Millisecond, gatherMin, false},
		{5 * time.Millisecond, 1, false},
		{time.Hour, 1, false},
	} {
		if got := gathers(now, now.Add(-c.last), c.queued); got != c.want {
			t.Errorf("last group %v ago, %d queued: gathers = %v, want %v", c.last, c.queued, got, c.want)
		}
	}
	if gathers(now, time.Time{}, 1) {
		t.Error("the first group waits")
	}
}

// The committer's wait for more requests ends as soon as the queue holds
// gatherMin of them, not when its time is up.
func TestGatherEndsWhenTheGroupIsFull(t *testing.T) {
	c := NewCommitter(newStore(t))
	c.wait = time.Hour
	c.mu.Lock()
	c.running = true // no committer goroutine: the test is the committer
	c.gathering = true
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.gather()
		close(done)
	}()
	for i := range gatherMin {
		select {
		case <-done:
			t.Fatalf("the wait ended with %d requests queued, want %d", i, gatherMin)
		default:
		}
		c.enqueue(&request{done: make(chan struct{})})
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the wait did not end with %d requests queued", gatherMin)
	}
	if c.gathering || len(c.full) != 0 {
		t.Fatalf("after the wait: gathering %v, %d signals left", c.gathering, len(c.full))
	}
}

// A group of requests tells its batch that it commits right after its
// write (store.ShortBatch: PostgreSQL then reads the ledger's head with
// it); a streamed input, which writes for long, does not, so that it
// holds the ledger's lock only at its commit.
func TestCommitterSaysWhenItCommitsNext(t *testing.T) {
	spy := &spyStore{Store: sealedStore(t)}
	c := NewCommitter(spy)
	var bodies []string
	for i := range 5 {
		bodies = append(bodies, nd(depLine(fmt.Sprintf("d%d", i))))
	}
	var lines []string
	for i := range 2*chunkSize + 10 {
		lines = append(lines, depLine(fmt.Sprintf("big%d", i)))
	}
	for i, o := range submitAll(t, c, spy, true, bodies) {
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
	}
	spy.mu.Lock()
	short, all := spy.shortAdds, len(spy.adds)
	spy.mu.Unlock()
	if all == 0 || short != all {
		t.Errorf("a group's %d adds, %d of them told the batch commits next", all, short)
	}
	if _, err := c.Import(context.Background(), []Source{src("big.ndjson", nd(lines...))}, Options{}); err != nil {
		t.Fatal(err)
	}
	spy.mu.Lock()
	defer spy.mu.Unlock()
	if len(spy.adds) == all || spy.shortAdds != short {
		t.Errorf("a streamed import: %d adds, %d told the batch commits next; want some, none", len(spy.adds)-all, spy.shortAdds-short)
	}
}
