package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Committer commits small imports from concurrent callers together (group
// commit). Writers are serialised by the store and every transaction pays
// a fixed price (taking the writer, reading the last sequence number,
// committing), which with one transaction per request bounds HTTP
// ingestion. Callers parse, validate and hash on their own goroutines;
// then a single committer takes every request that is waiting into one
// transaction, one list per kind and request in arrival order written by
// one store.CommitEach, so each request's counts are what it would have
// got alone, and answers each only after the commit.
//
// If the group's transaction fails, no request of it is answered as
// written and each is retried in a transaction of its own, so a request
// the store refuses fails alone. (A commit that failed yet happened, a
// connection lost during COMMIT, makes the retry find its records
// unchanged: nothing is lost or duplicated, only the counts differ.) Inputs of chunkSize records or more are not held
// in memory: they stream into a transaction of their own, as Import does.
//
// The committer goroutine runs only while requests wait, so a Committer
// needs no closing.
type Committer struct {
	st store.Store

	mu      sync.Mutex
	queue   []*request
	running bool
	// gathering is set while the committer waits for more requests
	// (gathers); the request that makes the queue gatherMin long sends on
	// full to end the wait.
	gathering bool
	full      chan struct{}
	wait      time.Duration // gatherWait; tests wait longer
	// lastGroup is when the committer last took a group (its goroutine's
	// own: read and written only there).
	lastGroup time.Time
}

// While requests keep coming (the last group was taken less than
// busyGap ago), a group of fewer than gatherMin requests waits up to
// gatherWait for more before it commits; the request that makes it
// gatherMin ends the wait. Webhook deliveries arrive one by one, each
// after a few hundred microseconds of verifying and mapping, so without
// waiting most groups held one or two; their commits, whose cost is
// writing the same few pages whatever the group's size (the last leaf of
// each table and index a delivery writes: seven or eight 16 KB WAL
// frames), were the largest part of the writer's work. Waiting for too
// many costs more than it saves, though: with 8 concurrent senders, a
// group of 6 leaves two senders at work while it waits and commits, and
// the cores idle. Since the store checkpoints in the background
// (internal/sqlite/writer.go), groups of 4 with a 500 µs wait took
// 3,100–3,400 signed GitHub deliveries a second against 2,600–2,700 for
// groups of 6 with a 1 ms wait, at the same CPU a delivery
// (BenchmarkGitHubDeliveries, docs/performance.md). An isolated request
// never waits.
const (
	busyGap    = 2 * time.Millisecond
	gatherMin  = 4
	gatherWait = 500 * time.Microsecond
)

// gathers reports whether the committer waits for more requests before
// taking its next group.
func gathers(now, lastGroup time.Time, queued int) bool {
	return queued < gatherMin && now.Sub(lastGroup) < busyGap
}

// maxGroupRecords bounds one group transaction, so a burst of requests is
// answered in several commits instead of one long one.
const maxGroupRecords = 4 * chunkSize

// request is one import's records waiting for the committer.
type request struct {
	parts   []part
	records int
	// delivery, when set, is logged in the same transaction (Deliver);
	// logged is then whether it was stored. replay: its records are
	// written even when its delivery is counted already (Replay).
	delivery *store.Delivery
	logged   bool
	replay   bool
	// docs are appended once with the request's records (Along.Docs).
	docs []store.KeyedDoc
	// origin, by and sources go into the group's ledger entry, and
	// unrepeat takes the request's repeats out of its counts there
	// (importer.unrepeat).
	origin, by string
	sources    []string
	unrepeat   map[domain.Kind]*store.WriteResult
	done       chan struct{} // closed once res and err are set
	res        []store.WriteResult
	err        error
}

// NewCommitter returns a committer writing to st.
func NewCommitter(st store.Store) *Committer {
	return &Committer{st: st, full: make(chan struct{}, 1), wait: gatherWait}
}

// Import is Import with the records of a small input committed in a group
// with concurrent imports. Its semantics are Import's: all or nothing per
// call, the same errors and the same counts.
func (c *Committer) Import(ctx context.Context, sources []Source, opt Options) (*Summary, error) {
	return importWith(ctx, c.st, c, opt, readSources(sources))
}

// DeliveryResult is what committing a connector delivery did.
type DeliveryResult struct {
	store.WriteResult
	// Duplicate: a counted delivery with the same source and delivery id
	// committed first (another instance, or a concurrent redelivery), so
	// this one was not logged. Its records were written all the same, in
	// the same transaction; being the same delivery's, they changed
	// nothing that counts.
	Duplicate bool
}

// Deliver commits a connector delivery: its records, which must be valid
// (domain.ParseFields accepted them), each with the sha256 of the payload
// they came from as its raw hash, and its row in the delivery log, all in
// one transaction grouped with concurrent imports and deliveries. It
// returns once the store committed; on error nothing of it was written.
//
// When the store logs deliveries first (LogsDeliveriesFirst), a delivery
// counted already writes nothing: its records are not written, only
// reported as a duplicate.
func (c *Committer) Deliver(ctx context.Context, records []domain.Record, raw [32]byte, d store.Delivery, along Along) (DeliveryResult, error) {
	return c.deliver(ctx, records, raw, d, along, false)
}

// Along is what a delivery writes with its records, in their transaction.
type Along struct {
	// Fixed[i] marks records[i] as named by one event, whose body cannot
	// change (store.Item.Fixed): stored with another body, the delivery
	// fails with a *store.ChangedError and writes nothing. A replay
	// marks none: it rewrites the counted event's records, remapped.
	Fixed []bool
	// Docs are appended once under their keys with the records
	// (store.Batch.AppendDocsOnce) — a connector's event clocks, so that a
	// clock is kept if and only if the record it orders is — unless the
	// delivery is a redelivery whose records are not written.
	Docs []store.KeyedDoc
}

// Replay is Deliver for a delivery replayed from its kept payload: its
// records are written even when its delivery is counted already (it
// then is not logged again, and the result says Duplicate).
func (c *Committer) Replay(ctx context.Context, records []domain.Record, raw [32]byte, d store.Delivery, along Along) (DeliveryResult, error) {
	return c.deliver(ctx, records, raw, d, along, true)
}

// LogsDeliveriesFirst reports whether the committer logs a group's
// deliveries before it writes their records, and writes none of a
// delivery counted already (a redelivery): stores with no round trip to
// save (store.DeliveryLogFirst) do. Then a connector need not look for a
// redelivery before mapping it: the commit finds it, in the writer's
// transaction.
func (c *Committer) LogsDeliveriesFirst() bool {
	_, ok := c.st.(store.DeliveryLogFirst)
	return ok
}

func (c *Committer) deliver(ctx context.Context, records []domain.Record, raw [32]byte, d store.Delivery, along Along, replay bool) (DeliveryResult, error) {
	if err := store.CheckDelivery(d); err != nil {
		return DeliveryResult{}, err
	}
	if pe, ok := c.st.(store.PayloadEncoder); ok {
		pe.EncodePayload(&d)
	}
	items := make([]store.Item, len(records))
	kinds := make([]domain.Kind, len(records))
	for i, rec := range records {
		it, err := item(rec, raw)
		if err != nil {
			return DeliveryResult{}, err
		}
		it.Fixed = !replay && i < len(along.Fixed) && along.Fixed[i]
		items[i], kinds[i] = it, rec.Kind()
	}
	r, err := c.submitRequest(ctx, &request{parts: splitKinds(items, kinds, nil), delivery: &d, docs: along.Docs, replay: replay, origin: "webhook", sources: []string{d.Source}})
	if err != nil {
		return DeliveryResult{}, err
	}
	var out DeliveryResult
	for _, res := range r.res {
		out.Add(res)
	}
	out.Duplicate = !r.logged
	return out, nil
}

// submit waits until r's parts are committed (or refused) and returns each
// part's result.
func (c *Committer) submit(ctx context.Context, r *request) ([]store.WriteResult, error) {
	r, err := c.submitRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	return r.res, nil
}

// submitRequest queues r and waits until it is committed or refused.
func (c *Committer) submitRequest(ctx context.Context, r *request) (*request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.done = make(chan struct{})
	for _, p := range r.parts {
		r.records += len(p.items)
	}
	c.enqueue(r)
	select {
	case <-r.done:
	case <-ctx.Done():
		if c.withdraw(r) {
			return nil, ctx.Err()
		}
		// Already taken into a transaction: its outcome is settled by the
		// commit under way (which on PostgreSQL may first wait for another
		// instance's batch), and the answer must say what happened.
		<-r.done
	}
	return r, r.err
}

// enqueue queues r, ends the committer's wait when r makes the group
// large enough, and starts the committer if it is not running.
func (c *Committer) enqueue(r *request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(c.queue, r)
	if c.gathering && len(c.queue) >= gatherMin {
		c.gathering = false
		c.full <- struct{}{} // room: only a gathering committer receives, once
	}
	if !c.running {
		c.running = true
		go c.run()
	}
}

// withdraw removes r from the queue if the committer has not taken it yet.
func (c *Committer) withdraw(r *request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.queue {
		if q == r {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			return true
		}
	}
	return false
}

// take removes the next group from the queue: the waiting requests in
// arrival order, up to maxGroupRecords (at least one request).
func (c *Committer) take() []*request {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, records := 0, 0
	for n < len(c.queue) && (n == 0 || records+c.queue[n].records <= maxGroupRecords) {
		records += c.queue[n].records
		n++
	}
	group := make([]*request, n)
	copy(group, c.queue)
	c.queue = append(c.queue[:0], c.queue[n:]...)
	return group
}

func (c *Committer) run() {
	// The committer's work must not end with any one caller's context: a
	// request that gives up leaves the queue, the group goes on.
	ctx := context.Background()
	for {
		c.mu.Lock()
		queued := len(c.queue)
		if queued == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		gather := gathers(time.Now(), c.lastGroup, queued)
		c.gathering = gather
		c.mu.Unlock()
		// The writer is taken before the group is: requests that arrive
		// while Begin waits for this process's other writer (an import)
		// join this group, and those cancelled meanwhile can still leave.
		// Another instance's writer is waited for at the group's write
		// (PostgreSQL takes its lock with the first write, to save a round
		// trip): requests arriving meanwhile form the next group, and
		// those taken are answered once their group commits.
		if gather {
			c.gather()
		}
		c.lastGroup = time.Now()
		b, err := c.st.Begin(ctx)
		group := c.take()
		if len(group) == 0 {
			if err == nil {
				b.Rollback()
			}
			continue
		}
		var settle func() error
		if err == nil {
			settle, err = c.commitGroup(ctx, b, group)
		}
		if err == nil {
			if _, ok := b.(store.CommitSender); ok {
				// The commit is under way: the next group is written
				// while it ends, and this one answered when it has.
				go c.settle(ctx, group, settle)
				continue
			}
			err = settle()
		}
		if err != nil {
			c.retry(ctx, group, err)
		}
	}
}

// settle waits for a group's commit sent by commitGroup, which answers
// its requests, and retries them alone if it failed.
func (c *Committer) settle(ctx context.Context, group []*request, wait func() error) {
	if err := wait(); err != nil {
		c.retry(ctx, group, err)
	}
}

// retry follows a group's failure with err: nothing of the group was
// written. Alone, each request fails only for its own reasons.
func (c *Committer) retry(ctx context.Context, group []*request, err error) {
	if len(group) == 1 {
		finish(group[0], nil, err)
		return
	}
	for _, r := range group {
		res, err := c.commitOne(ctx, r)
		finish(r, res, err)
	}
}

// gather waits gatherWait, or until the queue is gatherMin long.
func (c *Committer) gather() {
	t := time.NewTimer(c.wait)
	defer t.Stop()
	select {
	case <-c.full:
	case <-t.C:
	}
	c.mu.Lock()
	if !c.gathering { // the queue filled as the timer fired: its send is taken
		select {
		case <-c.full:
		default:
		}
	}
	c.gathering = false
	c.mu.Unlock()
}

func finish(r *request, res []store.WriteResult, err error) {
	r.res, r.err = res, err
	close(r.done)
}

// commitGroup writes group in b and commits — sends the commit, when b is
// a store.CommitSender. The returned function waits for the commit's
// outcome: on success it answers every request, on failure none (b is
// ended either way). On error nothing was committed and b has ended.
func (c *Committer) commitGroup(ctx context.Context, b store.Batch, group []*request) (settle func() error, err error) {
	// One step for the whole group: a store with round trips sends every
	// request's records, and the commit, at once.
	var res []store.WriteResult
	writing := group
	wait := func() error { return nil }
	err = guard(func() error {
		var err error
		if !logsDeliveries(group) && !hasDocs(group) && c.st.Sealer() == nil {
			res, err = store.CommitEach(ctx, b, listsOf(partsOf(group)))
			return err
		}
		store.CommitsNext(b)
		if writing, res, err = c.writeGroup(ctx, b, group); err != nil {
			return err
		}
		// The group's ledger entry counts what the writes did, so it is
		// recorded between them and the commit.
		if c.st.Sealer() != nil && len(writing) > 0 {
			err = recordGroup(b, writing, res)
		}
		if err != nil {
			return err
		}
		if s, ok := b.(store.CommitSender); ok {
			wait = s.SendCommit()
			return nil
		}
		return b.Commit()
	})
	if err != nil {
		b.Rollback()
		return nil, err
	}
	return func() error {
		if err := guard(wait); err != nil {
			b.Rollback()
			return err
		}
		answer(group, writing, res)
		return nil
	}, nil
}

// answer answers the requests of a committed group: writing are those
// whose records were written (the others were redeliveries), res their
// parts' results in order.
func answer(group, writing []*request, res []store.WriteResult) {
	for _, r := range group {
		if len(writing) == 0 || writing[0] != r {
			finish(r, make([]store.WriteResult, len(r.parts)), nil) // a redelivery: nothing written
			continue
		}
		writing = writing[1:]
		n := len(r.parts)
		finish(r, res[:n:n], nil)
		res = res[n:]
	}
}

// writeGroup writes the records of group and logs its deliveries in b,
// and returns the requests whose records it wrote, in order, with the
// results of their parts. A store that logs deliveries first has the
// deliveries logged before the records, and the records of a delivery
// counted already (a redelivery, not replayed) are not written; any other
// has the records go first, so that a store with round trips sends them
// with the transaction's opening (see store.Batch.AddEach), and writes
// them all.
func (c *Committer) writeGroup(ctx context.Context, b store.Batch, group []*request) ([]*request, []store.WriteResult, error) {
	if !c.LogsDeliveriesFirst() {
		res, err := b.AddEach(ctx, listsOf(partsOf(group)))
		if err == nil {
			err = logDeliveries(ctx, b, group)
		}
		if err == nil {
			err = appendDocs(ctx, b, group)
		}
		if err != nil {
			return nil, nil, err
		}
		return group, res, nil
	}
	if err := logDeliveries(ctx, b, group); err != nil {
		return nil, nil, err
	}
	writing := make([]*request, 0, len(group))
	for _, r := range group {
		if r.delivery == nil || r.logged || r.replay {
			writing = append(writing, r)
		}
	}
	res, err := b.AddEach(ctx, listsOf(partsOf(writing)))
	if err == nil {
		err = appendDocs(ctx, b, writing)
	}
	return writing, res, err
}

// hasDocs reports whether any request of group has documents to append.
func hasDocs(group []*request) bool {
	for _, r := range group {
		if len(r.docs) > 0 {
			return true
		}
	}
	return false
}

// appendDocs appends the documents of the requests whose records are
// written, in b, after them.
func appendDocs(ctx context.Context, b store.Batch, writing []*request) error {
	var docs []store.KeyedDoc
	for _, r := range writing {
		docs = append(docs, r.docs...)
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := b.AppendDocsOnce(ctx, docs)
	return err
}

// partsOf is the parts of the requests, in order.
func partsOf(group []*request) []part {
	var parts []part
	for _, r := range group {
		parts = append(parts, r.parts...)
	}
	return parts
}

// commitOne writes one request in a transaction of its own.
func (c *Committer) commitOne(ctx context.Context, r *request) (res []store.WriteResult, err error) {
	b, err := c.st.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var writing []*request
	err = guard(func() error {
		store.CommitsNext(b)
		writing, res, err = c.writeGroup(ctx, b, []*request{r})
		if err != nil {
			return err
		}
		if c.st.Sealer() != nil && len(writing) > 0 {
			if err = recordGroup(b, writing, res); err != nil {
				return err
			}
		}
		return b.Commit()
	})
	if err != nil {
		b.Rollback()
		return nil, err
	}
	if len(writing) == 0 {
		return make([]store.WriteResult, len(r.parts)), nil // a redelivery: nothing written
	}
	return res, nil
}

// logsDeliveries reports whether any request of group is a delivery.
func logsDeliveries(group []*request) bool {
	for _, r := range group {
		if r.delivery != nil {
			return true
		}
	}
	return false
}

// logDeliveries logs the group's deliveries in b, after their records:
// the records go first so that a store with round trips sends them with
// the transaction's opening (see store.Batch.AddEach).
func logDeliveries(ctx context.Context, b store.Batch, group []*request) error {
	var ds []store.Delivery
	var owners []*request
	for _, r := range group {
		if r.delivery != nil {
			ds = append(ds, *r.delivery)
			owners = append(owners, r)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	created, err := b.LogDeliveries(ctx, ds)
	if err != nil {
		return err
	}
	for i, r := range owners {
		r.logged = created[i]
	}
	return nil
}

// guard turns a panic in the store into an error: on the committer's
// goroutine it would otherwise take the whole server down with it, and
// leave every waiting request without an answer.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store panicked: %v", p)
		}
	}()
	return fn()
}

// recordGroup records the ledger entry of requests written together in b;
// res holds their parts' results in order.
func recordGroup(b store.Batch, group []*request, res []store.WriteResult) error {
	d := RecordsData{Requests: len(group), Kinds: map[domain.Kind]Counts{}}
	var content ContentHash
	var origins, by []string
	i := 0
	for _, r := range group {
		origins, by = append(origins, r.origin), append(by, r.by)
		d.Sources = append(d.Sources, r.sources...)
		for _, p := range r.parts {
			content.Add(p.items)
			n := countsOf(int64(len(p.items)), res[i])
			if u := r.unrepeat[p.kind]; u != nil {
				n.Replaced -= u.Replaced
				n.Unchanged -= u.Unchanged
				n.Repeated = u.Replaced + u.Unchanged
			}
			k := d.Kinds[p.kind]
			k.add(n)
			d.Kinds[p.kind] = k
			d.Counts.add(n)
			i++
		}
	}
	d.Origin = strings.Join(compactSorted(origins), ",")
	d.Sources = compactSorted(d.Sources)
	d.ContentSHA256 = content.Sum()
	e, err := recordsEntry(d, by)
	if err != nil {
		return err
	}
	b.Record(e)
	return nil
}
