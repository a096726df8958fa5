// Package engine keeps the metric Dataset in step with the store by
// following its sequence numbers, so each read sees data committed before
// it — by this process or by another instance sharing the database.
//
// Two ways of following. A long-running server calls Start: a background
// follower loads the store, then polls its last sequence and applies new
// rows as they come, publishing each step; reads take what is published
// and never ask the store anything. A short-lived command does not start
// one: each Read catches up with the store first (one cheap LastSeq query
// when nothing changed). Either way a writer that must see its own write
// calls Sync after its commit.
package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gcpace"
	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/store"
)

// Engine owns a Dataset that mirrors a store.
type Engine struct {
	st store.Store
	// prefetchRows bounds the rows read ahead of a start from the
	// dataset's state (0: defaultPrefetchRows; tests set fewer).
	prefetchRows int
	// rebaseRows is the least sequence a first load without a usable
	// state must reach for it to write one and go on from it (rebase; 0:
	// DefaultImageRows; tests set fewer).
	rebaseRows int64
	// rebaseCommitted, when set, runs between the commit of a rebase's
	// state and its read-back (tests: another process's state renamed
	// over it).
	rebaseCommitted func()
	// moveHook, when set, is told the old mapping as a move starts
	// ("start", before it gives any page back) and once it has given
	// them back ("released", before readers move to the new one): tests.
	moveHook func(stage string, old *image.Mapped)
	// maxMoves bounds the moves of a following engine (moveOn; 0:
	// DefaultMaxMoves; tests set fewer).
	maxMoves int

	// Log receives the quarantined rows and the follower's errors; nil
	// discards them.
	Log *slog.Logger
	// MinInterval lets heavy read traffic of an engine without a follower
	// share one LastSeq query; zero checks on every read.
	MinInterval time.Duration
	// Poll is how often the follower asks the store for its last sequence
	// when nobody tells it of a write (default 100 ms).
	Poll time.Duration
	// MaxLag is how far behind the store the published data may fall
	// before Status reports the engine lagging (default 1 s).
	MaxLag time.Duration
	// StepRows and StepTime bound an apply step (0: DefaultStepRows,
	// DefaultStepTime).
	StepRows int
	StepTime time.Duration

	// Copies is how many copies of the data a following engine keeps: 1
	// (the default) makes a read wait for at most one apply step; 2 lets
	// reads go on while rows are applied to the other copy
	// (generations.go), at twice the memory and the applying. An engine
	// without a follower keeps one.
	Copies int

	// Image is the path of the dataset image (image.go): read at the first
	// load, written by WriteImage and KeepImage; empty: no image.
	Image string
	// OneShot says the engine's process computes one answer and exits
	// (candor scorecard, candor metric): a state of at most 256 MiB keeps
	// the pages its read touched instead of giving each section's back
	// once read (state.go), since the answer reads most of them again and
	// the process's memory ends with it. Set it before the first load.
	OneShot bool
	// Prime, when set, is given the dataset a first load built from rows
	// just before its state is written (rebase): a one-shot command
	// computes there what it is about to answer. The memos valid for any
	// as_of that its reads fill — lead-time days, deployments' lead and
	// failure memos, release-impact sums — are then written with the
	// state. A state written before any read held none, and until a
	// large import or a server wrote the next, every command built them
	// again — after an upgrade or a change of the settings the state
	// depends on, the first command's (at scale 1 ~120 ms of CPU of each
	// later candor scorecard, ~300 against ~180). The results it computed
	// are taken by the dataset read back: the answer does not compute
	// them twice.
	Prime func(*metrics.Dataset)
	img   imageState

	cur atomic.Pointer[world] // the published copy: what reads use
	// settings are the configurations in force over time, oldest first
	// (SetEpochs), read without a lock by ConfigAt.
	settings atomic.Pointer[[]Epoch]

	refresh sync.Mutex // one catch-up at a time
	seq     int64      // highest seq applied, guarded by refresh
	checked time.Time  // last LastSeq check, guarded by refresh
	// last is the row at seq (its key and stored hash, which a state
	// written from the published dataset names: moveFirst); guarded by
	// refresh, its seq 0 when unknown.
	last decoded
	// Guarded by refresh: the sequence of the state the published
	// dataset was read from (0: built in the heap from rows), the pages
	// showing string chunks of retired states, and the dataset whose
	// chunks they show (strings.go; weak: its collection must not wait).
	baseSeq int64
	// Guarded by refresh: the end of the gcpace.Bulk policy a large
	// catch-up put in force and left for its move-on (checkBulk), and
	// when that catch-up ended.
	bulkHeld  func()
	bulkSince time.Time
	// Guarded by refresh: an arena was refused (said once in the log);
	// arenaAnyFS lets tests keep one in a temporary directory in memory.
	arenaRefused, arenaAnyFS bool
	aliases                  []strAlias
	aliasesOf                weak.Pointer[metrics.Dataset]
	// Guarded by refresh: the copy applied to next (nil while there is
	// one copy); settingsGen counts settings changes, which drop it; the
	// rows applied while a second copy loads (generations.go).
	spare *world
	// retired is when the spare was retired with results readers could
	// still be served, zero once it holds the published rows (settle).
	retired     time.Time
	settingsGen int
	retaining   bool
	retained    []decoded
	spareLost   chan struct{} // a settings change dropped the second copy
	// custom is the organisation-defined metric set SetCustom put in
	// force (nil: each dataset's configuration's own); guarded by refresh.
	custom *metrics.CustomSet
	// missed are the rows of the last step, applied to the published
	// copy and not yet to the other; inline is set while a writer waiting
	// for its rows applies them (refresh lock).
	missed []decoded
	inline bool
	// stale counts the stale results readers were served and signals the
	// goroutine refreshing them (refreshStale).
	stale *metrics.StaleStats
	// fresh is the highest store sequence a writer waited to read
	// (WaitWritten): no step that may hold it keeps stale results.
	fresh atomic.Int64

	// stepWaits and stepHolds time the bulk steps applied to the
	// published copy (stepOne): how long the follower waited for the
	// write lock (readers in progress finishing, new readers queued
	// behind it) and how long it held it (applying and preparing, readers
	// waiting). With one copy they bound what a read waits during a
	// large import (TakeStepTimes; the benchmark reports them).
	stepMu               sync.Mutex
	stepWaits, stepHolds []time.Duration

	published atomic.Int64 // seq the readable dataset reflects
	storeSeq  atomic.Int64 // the store's last seq when last asked
	// passes counts the catch-up passes begun; passed is the number of the
	// last one that ended with everything up to the store's last sequence
	// it read published (catchUpLocked; passes run one at a time).
	passes, passed atomic.Int64
	behindSince    atomic.Int64 // unix ns the store was first seen ahead of published; 0 when caught up
	quarantined    atomic.Int64
	copiesHeld     atomic.Int32
	ready          atomic.Bool
	readyCh        chan struct{} // closed once the first load is published

	pubMu sync.Mutex
	pubCh chan struct{} // closed and replaced at every publish and refresh release (wake)

	following atomic.Bool
	poke      chan struct{}
	lastErr   atomic.Pointer[string]
}

// New returns an engine; nothing is loaded until Start or the first read.
func New(st store.Store, cfg metrics.Config) *Engine {
	e := &Engine{
		st:      st,
		readyCh: make(chan struct{}), pubCh: make(chan struct{}), poke: make(chan struct{}, 1),
		spareLost: make(chan struct{}, 1), stale: metrics.NewStaleStats(),
	}
	ds := metrics.NewDataset(cfg)
	e.cur.Store(newWorld(ds, nil))
	e.settings.Store(&[]Epoch{{Config: ds.Config()}})
	e.copiesHeld.Store(1)
	return e
}

// DefaultStepRows and DefaultStepTime bound an apply step once the engine
// is ready: readers wait for at most one step (the dataset is not readable
// while a step applies), so a large import reaches readers step by step
// instead of holding them all until it is applied. Each step published
// also makes readers recompute what it changed, so steps are not made
// smaller than that: with 20 ms steps, reads during a large import spent
// most of their time recomputing after one step and waiting for the next
// (readers accepting stale results no longer do: metrics/stale.go). The
// rows of a step are decoded and held until it is applied: 16,384 rather
// than 65,536 took 15–30 MiB off the peak of a 200,000-record import
// into a running server at scale 1.
const (
	DefaultStepRows = 16384
	DefaultStepTime = 100 * time.Millisecond
)

// Seq returns the store sequence the readable dataset reflects.
func (e *Engine) Seq() int64 { return e.published.Load() }

// Ready reports whether the first load has been published: before it, reads
// wait (and /readyz says not ready).
func (e *Engine) Ready() bool { return e.ready.Load() }

// Status is what /healthz shows of the engine.
type Status struct {
	Ready bool `json:"ready"`
	// Published is the store sequence the readable data reflects; Store is
	// the store's last sequence when the engine last asked.
	Published int64 `json:"published_seq"`
	Store     int64 `json:"store_seq"`
	// Lag is how long the store has been ahead of the published data (0
	// when caught up); Lagging when that exceeds MaxLag.
	Lag     time.Duration `json:"-"`
	LagMS   float64       `json:"lag_ms"`
	Lagging bool          `json:"lagging"`
	// Quarantined counts the stored rows left out because they could not
	// be decoded (the data sources report lists them).
	Quarantined int64 `json:"quarantined_rows"`
	// Copies is how many copies of the data are held now: 2 once a
	// following engine's second copy is loaded (reads then never wait for
	// the follower), else 1.
	Copies int `json:"copies"`
	// StaleServed counts the results readers were served after newer rows
	// had invalidated them (during a large import, while the result is
	// recomputed), and StaleMaxMS is the longest any of them had been
	// stale: never more than MaxLag.
	StaleServed int64   `json:"stale_results_served"`
	StaleMaxMS  float64 `json:"stale_result_max_ms"`
	// Error is the follower's last failure to read the store, if its last
	// attempt failed.
	Error string `json:"error,omitempty"`
	// Image is the dataset image's state (nil when the engine has none).
	Image *ImageStatus `json:"image,omitempty"`
}

// Status reports readiness, sequences, lag and quarantined rows.
func (e *Engine) Status() Status {
	s := Status{
		Ready: e.Ready(), Published: e.published.Load(), Store: e.storeSeq.Load(),
		Quarantined: e.quarantined.Load(), Copies: int(e.copiesHeld.Load()),
		Image: e.imageStatus(),
	}
	if since := e.behindSince.Load(); since != 0 {
		s.Lag = time.Since(time.Unix(0, since))
	}
	var age time.Duration
	s.StaleServed, age = e.stale.Served()
	s.StaleMaxMS = float64(age.Microseconds()) / 1000
	s.LagMS = float64(s.Lag.Microseconds()) / 1000
	s.Lagging = s.Lag > e.maxLag()
	if p := e.lastErr.Load(); p != nil {
		s.Error = *p
	}
	return s
}

func (e *Engine) maxLag() time.Duration {
	if e.MaxLag > 0 {
		return e.MaxLag
	}
	return time.Second
}

func (e *Engine) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return 100 * time.Millisecond
}

// Start runs the follower until ctx ends: it loads the store, publishes,
// then applies new rows as they are committed. Reads made meanwhile wait
// for the first load, then never ask the store.
func (e *Engine) Start(ctx context.Context) {
	if !e.following.CompareAndSwap(false, true) {
		return
	}
	if e.copies() > 1 {
		go e.spareLoop(ctx)
	}
	go e.refreshStale(ctx)
	go func() {
		backoff := e.poll()
		for {
			err := e.catchUp(ctx, false)
			if err == nil {
				e.settle()
			}
			if err != nil && ctx.Err() == nil {
				msg := err.Error()
				if p := e.lastErr.Load(); p == nil || *p != msg {
					e.log().Error("following the store", "err", err)
				}
				e.lastErr.Store(&msg)
				backoff = min(2*backoff, 5*time.Second)
			} else {
				e.lastErr.Store(nil)
				backoff = e.poll()
			}
			select {
			case <-ctx.Done():
				// A stopped follower moves on no more.
				e.refresh.Lock()
				e.dropBulk()
				e.releaseRefresh()
				return
			case <-e.poke:
			case <-time.After(backoff):
			}
		}
	}()
}

// Notify tells the follower the store has new rows, sparing it the wait
// for its next poll. Harmless without a follower.
func (e *Engine) Notify() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// Sync waits until everything committed before the call is readable:
// read-your-writes for a writer that has just committed (the API after
// POST /api/v1/records). It waits for a catch-up pass begun after the call
// to be published, nothing more. Without a follower there is nothing to
// wait for: every read catches up with the store first.
func (e *Engine) Sync(ctx context.Context) error {
	return e.WaitWritten(ctx, math.MaxInt64)
}

// WaitWritten is read-your-writes for a writer whose commit reported
// sequence bound seq (store.WriteResult.Seq): it waits until the writer's
// own rows are readable, not for what other writers committed after it
// (an import running beside an API client). The bound may lie above the
// store's last sequence when the write's last rows were unchanged; the
// write is then readable once a catch-up pass begun after the call ends.
func (e *Engine) WaitWritten(ctx context.Context, seq int64) error {
	if seq <= 0 || !e.following.Load() {
		// Nothing written, or no follower: every read catches up first.
		return nil
	}
	if e.published.Load() >= seq && e.Ready() {
		return nil
	}
	if seq != math.MaxInt64 {
		// The writer must read its rows: the step holding them keeps no
		// stale result its rows reach (keep).
		for {
			f := e.fresh.Load()
			if f >= seq || e.fresh.CompareAndSwap(f, seq) {
				break
			}
		}
	}
	// No read of the store's last sequence here: a catch-up pass that
	// began after this call read one at or past the writer's rows, which
	// were committed before it, and published them before it ended. On
	// PostgreSQL that read was a round trip for every posted request,
	// beside the pass's own.
	begun := e.passes.Load()
	return e.waitUntil(ctx, func() bool {
		return e.Ready() && (e.published.Load() >= seq || e.passed.Load() > begun)
	})
}

// WaitFor waits until the published data reflects store sequence seq.
func (e *Engine) WaitFor(ctx context.Context, seq int64) error {
	return e.waitUntil(ctx, func() bool { return e.published.Load() >= seq && e.Ready() })
}

// waitUntil waits until done reports true, looked at after every publish
// and every catch-up pass.
func (e *Engine) waitUntil(ctx context.Context, done func() bool) error {
	for {
		e.pubMu.Lock()
		ch := e.pubCh
		e.pubMu.Unlock()
		if done() {
			return nil
		}
		if !e.following.Load() {
			if err := e.catchUp(ctx, true); err != nil {
				return err
			}
			continue
		}
		// Catch up here when the follower is not at it: a writer waiting
		// for its own rows is served without handing over to another
		// goroutine (on a busy machine each handover waits for a core),
		// and the writers waiting with it are served by the same pass.
		if e.refresh.TryLock() {
			e.inline = true
			err := e.catchUpLocked(ctx, true)
			e.inline = false
			e.releaseRefresh()
			// The other copy lacks the rows just published: the follower
			// applies them once idle rather than this writer.
			e.Notify()
			if err != nil {
				return err
			}
			continue
		}
		// Someone else holds the refresh lock: wait until it publishes or
		// lets go of the lock (releaseRefresh), then look again.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Refresh applies the records committed since the last refresh (an engine
// without a follower; with one it only tells the follower to look).
func (e *Engine) Refresh(ctx context.Context) error {
	if e.following.Load() {
		e.Notify()
		return nil
	}
	return e.catchUp(ctx, false)
}

// Read calls fn with the dataset under a read lock. With a follower it
// waits only for the first load; without one it catches up with the store
// first. fn must not keep the dataset or anything in it after returning.
func (e *Engine) Read(ctx context.Context, fn func(ds *metrics.Dataset) error) error {
	if e.following.Load() {
		select {
		case <-e.readyCh:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the first load of the data: %w", ctx.Err())
		}
	} else if err := e.catchUp(ctx, false); err != nil {
		return fmt.Errorf("refreshing from the store: %w", err)
	}
	w := e.acquire()
	defer w.mu.RUnlock()
	return fn(w.ds)
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

// publish makes the applied rows up to seq readable: the published
// world holds them.
func (e *Engine) publish(seq int64) {
	e.published.Store(seq)
	if e.storeSeq.Load() <= seq {
		e.behindSince.Store(0)
	}
	if e.ready.CompareAndSwap(false, true) {
		close(e.readyCh)
	}
	e.wake()
}

// wake releases everyone waiting in WaitFor to look again.
func (e *Engine) wake() {
	e.pubMu.Lock()
	close(e.pubCh)
	e.pubCh = make(chan struct{})
	e.pubMu.Unlock()
}

// releaseRefresh unlocks the refresh lock and wakes the writers waiting
// in WaitFor: not every holder publishes (bringing the other copy up to
// date, loading it, a settings change, a catch-up with nothing new), and a
// writer that found the lock taken must then catch up itself.
func (e *Engine) releaseRefresh() {
	e.refresh.Unlock()
	e.wake()
}

// catchUp applies the rows committed since the last one applied. force
// ignores MinInterval (a writer syncing).
func (e *Engine) catchUp(ctx context.Context, force bool) error {
	e.refresh.Lock()
	defer e.releaseRefresh()
	return e.catchUpLocked(ctx, force)
}

// catchUpLocked is catchUp for a caller holding the refresh lock.
func (e *Engine) catchUpLocked(ctx context.Context, force bool) error {
	defer e.checkBulk()
	if !force && !e.following.Load() && e.MinInterval > 0 && e.ready.Load() && time.Since(e.checked) < e.MinInterval {
		return nil
	}
	// A pass's number is taken before it reads the store's last
	// sequence (or the rows that end with it, tailInline), and recorded
	// in passed once everything up to it is published (WaitWritten).
	pass := e.passes.Add(1)
	now := time.Now()
	tailed, err := e.tailInline(ctx, now)
	if err != nil {
		// The next read must retry, not serve this for MinInterval.
		e.checked = time.Time{}
		return err
	}
	if !tailed {
		last, err := e.st.LastSeq(ctx)
		if err != nil {
			return err
		}
		e.storeSeq.Store(last)
		if last > e.seq {
			e.behindSince.CompareAndSwap(0, now.UnixNano())
			if err := e.load(ctx); err != nil {
				e.checked = time.Time{}
				return err
			}
		}
	}
	if !e.ready.Load() || e.published.Load() < e.seq || e.behindSince.Load() != 0 {
		if w := e.cur.Load(); w.seq != e.seq {
			// Nothing new was applied (an empty store's first load).
			w.mu.Lock()
			w.stamp(e.seq)
			w.mu.Unlock()
		}
		e.publish(e.seq)
	}
	e.checked = now
	e.passed.Store(pass)
	return nil
}

// smallCatchUp bounds the catch-ups read and decoded on the calling
// goroutine rather than by the pipeline of load: the few rows a webhook
// wrote should not pay for starting goroutines and handing chunks between
// them, which on a busy machine each wait for a core. (Sequences have gaps
// where rows were replaced, so this counts at most that many rows.)
const smallCatchUp = 1024

// tailInline is the small catch-up: the rows after those applied, if
// there are at most smallCatchUp, are read in one statement (store.Tail;
// the last of them is then the store's last sequence), decoded and
// applied as one step here, and only once the read has succeeded. It
// reports false, having applied nothing, before the first load or when
// there are more rows: then the caller reads the last sequence and loads.
// On PostgreSQL the one statement spares each webhook group's catch-up a
// round trip.
func (e *Engine) tailInline(ctx context.Context, now time.Time) (bool, error) {
	if !e.ready.Load() {
		return false, nil
	}
	// Decoded only once the read is known to be all there is.
	var rows []store.Stored
	last, all, err := store.Tail(ctx, e.st, e.seq, smallCatchUp, func(r store.Stored) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil || !all {
		return false, err
	}
	e.storeSeq.Store(last)
	if len(rows) > 0 {
		e.behindSince.CompareAndSwap(0, now.UnixNano())
		step := make([]decoded, len(rows))
		for i, r := range rows {
			step[i] = decodeStored(r)
		}
		e.applyStep(step, false)
	}
	return true, nil
}

type decoded struct {
	rec      domain.Record
	ingested time.Time
	key      domain.Key
	seq      int64
	hash     string // the stored body's hash (the image names its last row's)
	err      error  // the row could not be decoded: it is quarantined
}

// load scans the new rows (decoded on every core, in order) and applies
// them. The first load is applied in one step (nobody reads before it is
// published); later loads in steps of at most StepRows rows, each
// applied and published whole (applyStep). Rows are applied only once the
// step they belong to was scanned whole: a scan that fails leaves its
// step unapplied, and the next catch-up starts after the last row applied.
func (e *Engine) load(ctx context.Context) error {
	if !e.ready.Load() {
		// One step for the whole first load, under the lock throughout.
		w := e.cur.Load()
		w.mu.Lock()
		// The last row applied, which a state written from this load
		// names (rebase).
		var last decoded
		apply := func(dec []decoded) {
			for _, d := range dec {
				e.logQuarantine(d)
				applyTo(w, d)
			}
			if len(dec) > 0 {
				last = dec[len(dec)-1]
				e.seq = last.seq
			}
		}
		fromState := false
		if e.seq == 0 && e.Image != "" {
			// The rows after the state are read and decoded on other
			// goroutines while it is read (prefetchAfter).
			var pre *prefetched
			ahead := func(seq int64) { pre = e.prefetchAfter(ctx, seq) }
			if e.seq = e.startFromState(ctx, w, e.storeSeq.Load(), ahead); e.seq > 0 {
				fromState = true
				e.baseSeq = e.seq
				apply(pre.take())
			} else {
				pre.discard()
			}
		}
		restore := func() {}
		if !fromState {
			// Building the dataset from rows, the collector's headroom
			// is kept to what the rows in flight need (gcpace.Load).
			restore = gcpace.During(gcpace.Load)
			if e.seq == 0 && e.Image != "" {
				var h image.Header
				e.seq, h = e.startFromImage(ctx, w, e.storeSeq.Load())
				last = decoded{seq: h.Seq, key: domain.Key{Kind: domain.Kind(h.LastKind), Source: h.LastSource, ID: h.LastID}, hash: h.LastHash}
			}
		}
		err := e.scanDecoded(ctx, e.seq, nil, apply)
		if !fromState && e.seq >= e.rebaseAt() {
			// Built from many rows: the decoding's garbage and the
			// collector's headroom go back before Prepare's sorting
			// adds its own (at scale 10 Prepare set the load's peak,
			// ~40 MiB above the end of the rows).
			debug.FreeOSMemory()
		}
		// Order the indexes even after an error: what was applied is
		// committed data, and the next catch-up goes on from it.
		w.prepare(nil)
		w.stamp(e.seq)
		if err != nil || fromState || !e.rebase(ctx, w, last) {
			w.trim()
		} else {
			e.baseSeq = e.seq
		}
		e.noteLast(last)
		restore()
		w.mu.Unlock()
		e.quarantined.Store(int64(w.ds.QuarantinedCount()))
		return err
	}
	if e.storeSeq.Load()-e.seq > int64(cmp.Or(e.StepRows, DefaultStepRows)) {
		if e.bulkHeld == nil {
			// A large catch-up: the collector's headroom and the pages
			// it frees are kept to what the rows in flight need
			// (gcpace.Bulk), until checkBulk lets it go.
			e.bulkHeld = gcpace.During(gcpace.Bulk)
		}
		defer func() { e.bulkSince = time.Now() }()
		// And the published state's pages go back: a start from it
		// and its first scorecard had faulted in most of the state
		// (~650 of its ~850 MiB at scale 10 by the benchmark's import),
		// the readers during an import fault back the ~70 MiB they
		// use, and each step gives back what it faulted in beyond
		// those (stepOne). They stay in the page cache (Release: the
		// refresh lock is held, no row is applied meanwhile), so the
		// readers fault theirs back from memory, not the disk.
		if e.spare == nil {
			w := e.cur.Load()
			if w.mapped != nil {
				w.mapped.Release(nil)
			}
			e.bulkArena(w)
			defer e.endArena(w)
		}
	}
	var step []decoded
	// Read on the decoding goroutines: e.seq is not theirs to read, the
	// sequence the scan starts after is.
	inline, after := e.inline, e.seq
	bulk := func() bool { return e.bulkAfter(inline, after) }
	err := e.scanDecoded(ctx, e.seq, bulk, func(dec []decoded) {
		step = append(step, dec...)
		if len(step) >= cmp.Or(e.StepRows, DefaultStepRows) {
			e.applyStep(step, true)
			step = nil
		}
	})
	if err != nil {
		return err
	}
	e.applyStep(step, true)
	return nil
}

// bulkCatchUp reports whether the catch-up under way (refresh lock held)
// is bulk work, which lets the pages and API reads in progress go first:
// not when a writer waits for its rows, on this goroutine (inline) or on
// the follower's (fresh).
func (e *Engine) bulkCatchUp() bool { return e.bulkAfter(e.inline, e.seq) }

// bulkAfter is bulkCatchUp for a catch-up past seq, inline or not, for
// goroutines that may not read e.seq or e.inline (the decoding ones).
func (e *Engine) bulkAfter(inline bool, seq int64) bool { return !inline && e.fresh.Load() <= seq }

// scanDecoded scans the store's rows after seq and decodes them on every
// core while fn receives them, in sequence order, on this goroutine. While
// bulk (nil: never) reports true, the pages and API reads in progress go
// first before each chunk is decoded (priority.Background): not in the
// first load (nobody reads yet) nor once a writer waits for the rows.
func (e *Engine) scanDecoded(ctx context.Context, after int64, bulk func() bool, fn func([]decoded)) error {
	return e.scanDecodedOn(ctx, after, priority.Cores(), bulk, fn)
}

// always is the bulk of work nobody waits for.
func always() bool { return true }

// scanDecodedOn is scanDecoded with workers decoding goroutines.
func (e *Engine) scanDecodedOn(ctx context.Context, after int64, workers int, bulk func() bool, fn func([]decoded)) error {
	const chunk = 4096
	type job struct {
		rows []store.Stored
		out  chan []decoded
	}
	// At most ahead chunks are read and not yet handed to fn: decoded
	// rows are several times their stored size, and a deeper queue held
	// tens of MiB of them whenever fn was the slower side (the image
	// writer's encoding, a first load's applying) — which set the peak of
	// a store-loaded process writing its image.
	const ahead = 4
	jobs := make(chan job, ahead)
	results := make(chan chan []decoded, ahead)
	workers = max(1, workers)
	var scanErr error
	scanCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(jobs)
		defer close(results)
		buf := make([]store.Stored, 0, chunk)
		send := func() bool {
			j := job{rows: buf, out: make(chan []decoded, 1)}
			select {
			case jobs <- j:
			case <-scanCtx.Done():
				return false
			}
			select {
			case results <- j.out:
			case <-scanCtx.Done():
				return false
			}
			buf = make([]store.Stored, 0, chunk)
			return true
		}
		_, scanErr = e.st.Scan(scanCtx, after, func(r store.Stored) error {
			buf = append(buf, r)
			if len(buf) == chunk && !send() {
				return scanCtx.Err()
			}
			return nil
		})
		if scanErr == nil && len(buf) > 0 {
			send()
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				if bulk != nil && bulk() {
					priority.BackgroundUnless(func() bool { return !bulk() })
				}
				dec := make([]decoded, len(j.rows))
				for i, r := range j.rows {
					dec[i] = decodeStored(r)
				}
				j.out <- dec
			}
		}()
	}
	for out := range results {
		fn(<-out)
	}
	return scanErr
}

// applyStep applies decoded rows (read from the store up to the last of
// them) a slice at a time, each slice bounded in time as well as in rows,
// and publishes each: to the other copy, then swapped in, when there are
// two; else to the published copy, which readers wait for meanwhile (on a
// busy machine many rows can take long, so the slices are short). bulk
// says the steps are a large catch-up's, whose invalidated results may be
// served stale meanwhile (keep).
func (e *Engine) applyStep(step []decoded, bulk bool) {
	e.retain(step)
	for _, d := range step {
		e.logQuarantine(d)
	}
	for len(step) > 0 {
		if bulk && e.bulkCatchUp() {
			priority.BackgroundUnless(func() bool { return !e.bulkCatchUp() })
		}
		var k int
		if e.spare != nil {
			k = e.stepTwo(step, bulk)
		} else {
			k = e.stepOne(step, bulk)
		}
		step = step[k:]
	}
}

// applySlice applies rows of step to w until the deadline (at least one
// slice of them) and returns how many.
func (e *Engine) applySlice(w *world, step []decoded, d time.Duration) int {
	deadline := time.Now().Add(d)
	k := 0
	for k < len(step) {
		j := min(k+256, len(step))
		for _, d := range step[k:j] {
			applyTo(w, d)
		}
		k = j
		if time.Now().After(deadline) {
			break
		}
	}
	return k
}

// stepOne applies a slice to the published copy, readers waiting. A
// bulk step gives back the pages of the state read in place that are
// still the file's (merging its rows into the time orders, interning
// their strings, resetting memos: at scale 10 a 1M-record import's steps
// held ~500 MiB of the state's pages by its end) — the readers' too:
// they stay in the page cache (image.Mapped.Release), so a reader faults
// back what it uses from memory, and the resident set holds what the
// readers touched since the last step rather than every page any read
// touched during the catch-up (keeping the pages resident before each
// step, the scale-10 benchmark's peak was 959–963 MiB, 938 without).
func (e *Engine) stepOne(step []decoded, bulk bool) int {
	w := e.cur.Load()
	if bulk && w.mapped != nil {
		defer w.mapped.Release(nil)
	}
	if bulk && w.arena != nil {
		defer w.arena.Release()
	}
	asked := time.Now()
	w.mu.Lock()
	locked := time.Now()
	k := e.applySlice(w, step, cmp.Or(e.StepTime, DefaultStepTime))
	prev := e.seq
	e.seq = step[k-1].seq
	e.noteLast(step[k-1])
	w.prepare(e.keep(bulk, time.Time{}, prev))
	w.stamp(e.seq)
	// Published under the lock: a reader holding the dataset sees the
	// sequence it reflects.
	e.published.Store(e.seq)
	w.mu.Unlock()
	if bulk {
		e.noteStep(locked.Sub(asked), time.Since(locked))
	}
	e.quarantined.Store(int64(w.ds.QuarantinedCount()))
	e.publish(e.seq)
	return k
}

// maxStepTimes bounds the step times kept until taken: a server nobody
// asks keeps the newest few thousand, not every step of its life.
const maxStepTimes = 4096

// noteStep keeps one bulk step's wait for the write lock and its hold.
func (e *Engine) noteStep(wait, held time.Duration) {
	e.stepMu.Lock()
	defer e.stepMu.Unlock()
	if len(e.stepHolds) >= maxStepTimes {
		e.stepWaits = slices.Delete(e.stepWaits, 0, maxStepTimes/2)
		e.stepHolds = slices.Delete(e.stepHolds, 0, maxStepTimes/2)
	}
	e.stepWaits = append(e.stepWaits, wait)
	e.stepHolds = append(e.stepHolds, held)
}

// TakeStepTimes returns, and forgets, how long each bulk step applied to
// the published copy since the last call (at most the newest 4,096)
// waited for the write lock and held it: with one copy a read arriving
// meanwhile waits for both, so they are where a read's wait during a
// large import comes from. With two copies no step holds the published
// one and none is timed.
func (e *Engine) TakeStepTimes() (waits, holds []time.Duration) {
	e.stepMu.Lock()
	defer e.stepMu.Unlock()
	waits, holds = e.stepWaits, e.stepHolds
	e.stepWaits, e.stepHolds = nil, nil
	return waits, holds
}

// stepTwo applies a slice to the other copy (first the rows it missed
// while it was published), warms it with what readers of the published
// copy have cached — unless a writer waits for the step (it then serves
// only its own read-your-writes) —, and publishes it. The retired copy
// keeps the slice to apply as missed rows: at its next step, or sooner
// when the follower is idle (settle).
func (e *Engine) stepTwo(step []decoded, bulk bool) int {
	w, pub := e.spare, e.cur.Load()
	start := time.Now()
	w.mu.Lock() // waits for readers still on it from before it was retired
	for _, d := range e.missed {
		applyTo(w, d)
	}
	e.missed = nil
	k := e.applySlice(w, step, e.stepTimeTwo())
	seq := step[k-1].seq
	w.prepare(e.keep(bulk, e.retired, e.seq))
	if !e.inline {
		w.warmFrom(pub, e.warmBudget(time.Since(start)))
	}
	w.stamp(seq)
	w.mu.Unlock()
	retired := time.Now()
	e.cur.Store(w)
	e.seq = seq
	e.noteLast(step[k-1])
	e.quarantined.Store(int64(w.ds.QuarantinedCount()))
	e.publish(seq)
	e.spare, e.missed, e.retired = pub, step[:k:k], retired
	return k
}

// noteLast keeps the key and hash of d, the row just applied at e.seq
// (refresh lock held), and nothing of its record: it is all a state's
// header names of it.
func (e *Engine) noteLast(d decoded) {
	if d.seq != e.seq {
		e.last = decoded{}
		return
	}
	e.last = decoded{seq: d.seq, key: d.key, hash: d.hash}
}

// settle brings the retired copy up to the published one's rows, so the
// next step applies only its own.
func (e *Engine) settle() {
	e.refresh.Lock()
	defer e.releaseRefresh()
	if e.spare == nil || len(e.missed) == 0 {
		return
	}
	w := e.spare
	w.mu.Lock() // waits for readers still on it from before it was retired
	for _, d := range e.missed {
		applyTo(w, d)
	}
	w.prepare(nil)
	w.stamp(e.seq)
	w.mu.Unlock()
	e.missed, e.retired = nil, time.Time{}
}

// warmBudget bounds the time spent warming a copy before it is published,
// after applying its step took spent: what is left of three quarters of
// max_lag, and at least the step's time. Readers keep the published copy
// meanwhile, so a longer warm costs them nothing but the data's age, and a
// copy published half-warm makes every reader of a value it lacks
// recompute it (an uncached scorecard is ~170 ms at scale 1): during a
// large import, warming for one step's time only left reads as slow with
// two copies as with one.
func (e *Engine) warmBudget(spent time.Duration) time.Duration {
	return max(e.stepTimeTwo(), e.maxLag()*3/4-spent)
}

// stepTimeTwo bounds a step with two copies: readers do not wait for it,
// and each step published makes the next copy recompute what readers use,
// so steps are longer than with one copy — a quarter of max_lag.
func (e *Engine) stepTimeTwo() time.Duration {
	if e.StepTime > 0 {
		return e.StepTime
	}
	return max(DefaultStepTime, e.maxLag()/4)
}

func (e *Engine) logQuarantine(d decoded) {
	if d.err != nil {
		e.log().Warn("stored row quarantined: it cannot be decoded and is left out", "kind", d.key.Kind, "source", d.key.Source, "id", d.key.ID, "seq", d.seq, "err", d.err)
	}
}

// applyTo applies one decoded row to every dataset of a world (its write
// lock held, or the world not yet shared).
func applyTo(w *world, d decoded) {
	for _, ds := range w.datasets() {
		if d.err != nil {
			ds.Quarantine(d.key, d.seq, d.err.Error())
		} else {
			ds.Apply(d.rec, d.ingested)
		}
	}
}

func decodeStored(r store.Stored) decoded {
	d := decoded{key: r.Key, seq: r.Seq, ingested: r.IngestedAt, hash: r.Hash}
	rec := domain.New(r.Key.Kind)
	if rec == nil {
		d.err = fmt.Errorf("stored record %s is of a kind this version does not know (%q)", r.Key, r.Key.Kind)
		return d
	}
	if err := json.Unmarshal(r.Body, rec); err != nil {
		d.err = fmt.Errorf("stored record %s is corrupt: %w", r.Key, err)
		return d
	}
	rec.Header().Source = r.Key.Source
	d.rec = rec
	return d
}

// bulkHoldMax bounds how long after a large catch-up its gcpace.Bulk
// policy waits for the move-on: the image's next check writes the state
// within a minute when 100,000 rows or more came since the last image;
// otherwise the move waits for image.every and the server's own policy
// comes back meanwhile.
var bulkHoldMax = 2 * imageCheck

// checkBulk ends the gcpace.Bulk policy of a large catch-up unless its
// rows are to leave the heap at a move-on soon (moveOn): until they do,
// the heap holds them, and the server's own headroom on top of them set
// the peak of a 1M-record import at scale 1 (docs/performance.md). It is
// held only while a move is due (moveDue: no settings epochs, a move's
// worth of rows past the base, …), this engine is the one that writes
// states (it has written one: not an instance that is not the leader),
// and for at most bulkHoldMax after the catch-up; every
// catch-up, every move (done or not) and a stopped follower check it
// again. Called with the refresh lock held.
func (e *Engine) checkBulk() {
	if e.bulkHeld == nil {
		return
	}
	if e.moveDue() && !e.imageStatus().DatasetWritten.IsZero() && time.Since(e.bulkSince) < bulkHoldMax {
		return
	}
	e.dropBulk()
}

// dropBulk ends the gcpace.Bulk policy, if held. Refresh lock held.
func (e *Engine) dropBulk() {
	if e.bulkHeld != nil {
		e.bulkHeld()
		e.bulkHeld = nil
	}
}
