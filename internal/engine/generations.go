package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/priority"
)

// Reads never wait for the follower when a long-running engine keeps two
// copies of the data (two worlds; Copies = 2, not the default): readers use the published one while
// the follower applies new rows to the other, warms it with the results
// readers were using, and publishes it by swapping one pointer. The copy
// just retired is then brought up to the same rows — waiting, if it must,
// for the readers that took it before the swap — and becomes the next one
// applied to. Every row is applied twice, and the data is held twice in
// memory: that is what readers that never wait cost without an immutable
// layout (docs/design.md, "Generations").
//
// Until the second copy exists — while it is loaded in the background
// after the first load, after a settings change, or with Copies set to 1 —
// the follower applies to the published copy in steps and a read waits
// for at most one step, as before.

// world is one complete copy of the data: the dataset of the settings in
// force now and those of earlier epochs, all at one store sequence.
type world struct {
	// mu is held shared by readers and exclusively by the follower while
	// it applies rows — to the published world only when it is the only
	// one.
	mu     sync.RWMutex
	ds     *metrics.Dataset
	epochs []epoch
	// sets are the distinct datasets rows are applied to, in the order of
	// the epochs (the two worlds' lists match index for index); kept with
	// ds and epochs by set, since every applied row visits them.
	sets []*metrics.Dataset
	seq  int64 // the store sequence applied
	// mapped is the dataset state file ds was read from in place
	// (stateInto, rebase), whose pages a state written from it lets go
	// again (releaser); nil for a dataset built in the heap. set forgets
	// it with the dataset.
	mapped *image.Mapped
	// arena holds the rows large catch-ups applied to ds (bulkArena),
	// whose pages each of their steps gives back; nil until one did.
	// set forgets it with the dataset, whose collection closes it.
	arena *image.Arena
}

func newWorld(ds *metrics.Dataset, epochs []epoch) *world {
	w := &world{}
	w.set(ds, epochs)
	return w
}

// set puts a dataset and its epochs in force (none: ds alone) and lets each
// of the world's datasets find the others by time.
func (w *world) set(ds *metrics.Dataset, epochs []epoch) {
	if ds != w.ds {
		// The mapping is the replaced dataset's (a settings change puts
		// the new one in the same world), not the new one's to release;
		// its pages go when the replaced dataset is collected.
		// So is the arena: the catch-up that gave it to the replaced
		// dataset took it back as it ended (endArena; set runs under
		// the refresh lock, never during one).
		w.mapped, w.arena = nil, nil
	}
	w.ds, w.epochs = ds, epochs
	if len(epochs) == 0 {
		w.sets = []*metrics.Dataset{ds}
		ds.SetEpochs(nil)
		return
	}
	w.sets = nil
	for _, ep := range epochs {
		if !slices.Contains(w.sets, ep.ds) {
			w.sets = append(w.sets, ep.ds)
		}
	}
	at := func(t time.Time) *metrics.Dataset {
		return epochs[inForceAt(len(epochs), func(i int) time.Time { return epochs[i].from }, t)].ds
	}
	for _, ds := range w.sets {
		ds.SetEpochs(at)
	}
}

func (w *world) datasets() []*metrics.Dataset { return w.sets }

// prepare orders the indexes of the rows applied since the last one;
// keep (nil: none) lets the results it invalidates be served stale.
func (w *world) prepare(keep *metrics.Keep) {
	for _, ds := range w.datasets() {
		ds.PrepareKeeping(keep)
	}
}

// trim gives back the room a load's appends left (Dataset.Trim).
func (w *world) trim() {
	for _, ds := range w.datasets() {
		ds.Trim()
	}
}

// stamp records the sequence the world reflects, for its readers.
func (w *world) stamp(seq int64) {
	w.seq = seq
	for _, ds := range w.datasets() {
		ds.SetSeq(seq)
	}
}

// emptyLike returns an empty world under the same settings and epochs.
func (w *world) emptyLike() *world {
	if len(w.epochs) == 0 {
		return newWorld(metrics.NewDataset(w.ds.Config()), nil)
	}
	made := map[*metrics.Dataset]*metrics.Dataset{}
	epochs := make([]epoch, len(w.epochs))
	for i, ep := range w.epochs {
		ds := made[ep.ds]
		if ds == nil {
			ds = metrics.NewDataset(ep.ds.Config())
			made[ep.ds] = ds
		}
		epochs[i] = epoch{from: ep.from, key: ep.key, ds: ds}
	}
	return newWorld(made[w.ds], epochs)
}

func (w *world) trackAsked() {
	for _, ds := range w.datasets() {
		ds.TrackAsked()
	}
}

// warmFrom computes on w, before it is published, what readers of the
// published world asked for since it was published and w has not cached,
// until the budget is spent.
func (w *world) warmFrom(pub *world, budget time.Duration) int {
	deadline := time.Now().Add(budget)
	src := pub.datasets()
	n := 0
	for i, ds := range w.datasets() {
		if i < len(src) {
			n += ds.WarmFrom(src[i], deadline)
		}
	}
	return n
}

// DefaultCopies is how many copies of the data a following engine keeps
// when Copies is 0: one. Two make reads independent of the follower, and
// a little faster during a large import now that stale results spare one
// copy's readers the recomputing (p99 155–172 against 188–191 ms at scale
// 1), at the cost of holding the data twice (docs/design.md, "Generations").
const DefaultCopies = 1

func (e *Engine) copies() int {
	if e.Copies == 2 {
		return 2
	}
	return DefaultCopies
}

// acquire returns the published world, read-locked. A world the follower
// is applying to is never waited for unless it is the published one (a
// single copy): a reader that finds its world locked after a swap moves to
// the new one.
func (e *Engine) acquire() *world {
	for {
		w := e.cur.Load()
		if w.mu.TryRLock() {
			if e.cur.Load() == w {
				return w
			}
			w.mu.RUnlock()
			continue
		}
		if e.cur.Load() != w {
			continue // retired while we looked: the follower is bringing it up to date
		}
		w.mu.RLock()
		if e.cur.Load() == w {
			return w
		}
		w.mu.RUnlock()
	}
}

// dropSpare drops the second copy (refresh lock held), abandons one being
// loaded, and has spareLoop load it again.
func (e *Engine) dropSpare() {
	e.settingsGen++
	e.spare, e.missed, e.retired = nil, nil, time.Time{}
	e.retaining, e.retained = false, nil
	e.copiesHeld.Store(1)
	select {
	case e.spareLost <- struct{}{}:
	default:
	}
}

// maxRetained bounds the rows kept for a second copy being loaded: past
// it, the load starts again later rather than hold a large import twice.
const maxRetained = 1 << 18

// buildSpare loads the second copy in the background while the follower
// goes on with the published one alone, keeping the rows it applies
// meanwhile; once loaded, the copy takes those it lacks and the follower
// applies to both in turn. It gives up (and the caller retries later) if
// the settings change or too many rows arrive meanwhile.
func (e *Engine) buildSpare(ctx context.Context) error {
	e.refresh.Lock()
	if e.spare != nil || e.copies() < 2 {
		e.releaseRefresh()
		return nil
	}
	w := e.cur.Load().emptyLike()
	gen := e.settingsGen
	e.retaining, e.retained = true, nil
	e.releaseRefresh()

	// From the dataset's state when there is a usable one: a copy of it
	// instead of every row applied again.
	var seq int64
	if e.Image != "" {
		seq, _ = e.stateInto(ctx, w, e.storeSeq.Load(), nil) // none usable: the whole store
	}
	err := e.scanDecoded(ctx, seq, always, func(dec []decoded) {
		for _, d := range dec {
			applyTo(w, d)
		}
		if len(dec) > 0 {
			seq = dec[len(dec)-1].seq
		}
	})
	w.prepare(nil)

	e.refresh.Lock()
	defer e.releaseRefresh()
	defer func() { e.retaining, e.retained = false, nil }()
	if err != nil {
		return fmt.Errorf("loading the second copy of the data: %w", err)
	}
	if gen != e.settingsGen || !e.retaining {
		return errSpareAbandoned
	}
	// The published copy must have every row the new one has; rows it
	// applies now are retained as well.
	if e.seq < seq {
		if err := e.catchUpLocked(ctx, true); err != nil {
			return err
		}
		if gen != e.settingsGen || !e.retaining {
			return errSpareAbandoned
		}
	}
	for _, d := range e.retained {
		if d.seq > seq {
			applyTo(w, d)
		}
	}
	w.prepare(nil)
	w.trim() // private until e.spare is set below
	w.stamp(e.seq)
	// From now on each copy remembers what its readers ask for: what the
	// other is warmed with before it is published.
	w.trackAsked()
	e.cur.Load().trackAsked()
	e.spare, e.missed = w, nil
	e.copiesHeld.Store(2)
	return nil
}

var errSpareAbandoned = errors.New("the second copy of the data was abandoned (settings changed, or a large import arrived meanwhile)")

// retain keeps rows applied to the published copy for the second copy
// being loaded (refresh lock held).
func (e *Engine) retain(step []decoded) {
	if !e.retaining {
		return
	}
	if len(e.retained)+len(step) > maxRetained {
		e.retaining, e.retained = false, nil
		return
	}
	e.retained = append(e.retained, step...)
}

// spareLoop keeps a second copy while the engine follows: it builds one
// after the first load and again after a settings change dropped it.
func (e *Engine) spareLoop(ctx context.Context) {
	select {
	case <-e.readyCh:
	case <-ctx.Done():
		return
	}
	for ctx.Err() == nil {
		if err := e.buildSpare(ctx); err != nil && ctx.Err() == nil {
			e.log().Info("reads wait for each apply step until the second copy of the data is loaded", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Second):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-e.spareLost:
		}
	}
}

// keep says what the step being prepared, applying the rows after
// sequence prev, lets readers be served stale: with a follower, for the
// steps of a large catch-up (bulk), the results the step invalidates, for up to
// max_lag after since (zero: now) — when the world being prepared was
// retired, if it was (metrics/stale.go). Otherwise nothing, and the stale
// results the step reaches are dropped: a webhook's few rows, and any step
// while a writer waits to read rows after prev (WaitWritten), are read
// fresh.
func (e *Engine) keep(bulk bool, since time.Time, prev int64) *metrics.Keep {
	if !bulk || !e.following.Load() || e.fresh.Load() > prev {
		return nil
	}
	return &metrics.Keep{MaxAge: e.maxLag(), Stats: e.stale, Since: since}
}

// refreshStale recomputes the stale results readers were served, one
// slice of work per read lock so that the follower's next step waits for
// little, until none is left; then it waits to be told of more.
func (e *Engine) refreshStale(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.stale.Wanted:
		case <-time.After(e.maxLag()):
			// Expired stale results would otherwise stay until the next
			// step, on a server that may have gone quiet.
			w := e.acquire()
			for _, ds := range w.datasets() {
				ds.DropExpiredStale()
			}
			w.mu.RUnlock()
			continue
		}
		for left := true; left && ctx.Err() == nil; {
			priority.Background()
			w := e.acquire()
			left = false
			deadline := time.Now().Add(staleSlice)
			for _, ds := range w.datasets() {
				if ds.RefreshStale(deadline) {
					left = true
				}
			}
			w.mu.RUnlock()
		}
	}
}

// staleSlice bounds the recomputing refreshStale does under one read
// lock (at least one result).
const staleSlice = 20 * time.Millisecond
