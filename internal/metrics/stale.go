package metrics

import (
	"maps"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Stale results. During a large import every published step invalidates
// nearly every cached window (the imported records span the year), so
// every reader after a step recomputed the scorecard: at scale 1 a
// reader's p99 was the uncached scorecard under the import's load,
// ~250 ms. A following engine may instead let the results a step
// invalidated be served, for a bounded time (max_lag), while one
// goroutine recomputes them (RefreshStale): a read then costs a cache
// look-up, and the data it shows is at most that bound older than the
// published data. Only readers take stale results (not warming, not a
// refresh), never drill-downs (whose rows are described from the data as
// it is now), and only where the engine asked for it (PrepareKeeping):
// the steps of a large catch-up. A Prepare that keeps nothing — the few
// rows a webhook wrote, or any step while a writer waits for its rows —
// drops the stale results its rows reach (resultCache.invalidate), so a
// client that posts records and reads the scorecard sees them.

// Keep is what a Prepare lets become stale: results it invalidates may
// be served for MaxAge after Since, and Stats counts what readers were
// served.
type Keep struct {
	MaxAge time.Duration
	Stats  *StaleStats
	// Since is when the dataset's results stopped reflecting the newest
	// published data; zero: now, at the Prepare (one copy of the data:
	// nothing newer was published before). A copy that was retired while
	// another, newer, was published stopped then.
	Since time.Time
}

// StaleStats counts the stale results served, for /healthz; an engine
// keeps one for all its datasets.
type StaleStats struct {
	served   atomic.Int64
	maxAgeNs atomic.Int64
	// Wanted is signalled (without blocking) when a reader was served a
	// stale result, so that whoever refreshes them looks.
	Wanted chan struct{}
}

// NewStaleStats returns counters with their signal.
func NewStaleStats() *StaleStats { return &StaleStats{Wanted: make(chan struct{}, 1)} }

// Served returns how many stale results readers were served and the
// oldest of them: how long after newer data had invalidated it.
func (s *StaleStats) Served() (int64, time.Duration) {
	return s.served.Load(), time.Duration(s.maxAgeNs.Load())
}

func (s *StaleStats) note(age int64) {
	s.served.Add(1)
	for {
		old := s.maxAgeNs.Load()
		if age <= old || s.maxAgeNs.CompareAndSwap(old, age) {
			break
		}
	}
	select {
	case s.Wanted <- struct{}{}:
	default:
	}
}

// staleResult is a result newer data invalidated at since (unix ns),
// servable until until.
type staleResult struct {
	r            Result
	since, until int64
}

func (c *resultCache) keepStale(keep *Keep, k cacheKey, r Result, now int64) {
	if keep == nil || k.records || keep.MaxAge <= 0 {
		return
	}
	if len(c.stale) >= maxCached {
		return
	}
	since := now
	if !keep.Since.IsZero() {
		since = min(now, keep.Since.UnixNano())
	}
	// A result already stale under this key is older than r (landing a
	// result drops its stale one), so r replaces it.
	until := since + int64(keep.MaxAge)
	if until <= now {
		return
	}
	if len(c.stale) == 0 || until < c.staleNext {
		c.staleNext = until
	}
	c.stale[k] = staleResult{r: r, since: since, until: until}
	c.stats = keep.Stats
}

func (c *resultCache) dropExpired(now int64) {
	if len(c.stale) == 0 || now < c.staleNext {
		return
	}
	c.staleNext = math.MaxInt64
	for k, s := range c.stale {
		if now >= s.until {
			delete(c.stale, k)
		} else {
			c.staleNext = min(c.staleNext, s.until)
		}
	}
	if len(c.stale) == 0 {
		// A fresh map: an emptied one keeps its room for good.
		c.stale = map[cacheKey]staleResult{}
	}
}

// DropExpiredStale lets go of the stale results that have expired (the
// engine calls it now and then: after an import on a quiet server,
// nothing else would until the next Prepare).
func (d *Dataset) DropExpiredStale() {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	d.cache.dropExpired(time.Now().UnixNano())
	for k := range d.wanted {
		if _, ok := d.cache.stale[k]; !ok {
			delete(d.wanted, k)
		}
	}
}

// StaleHeld is the number of stale results held, expired or not.
func (d *Dataset) StaleHeld() int {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	return len(d.cache.stale)
}

// takeStale returns the stale result under k if it has not expired, and
// notes it as wanted by readers (cacheMu held).
func (d *Dataset) takeStale(k cacheKey) (Result, bool) {
	s, ok := d.cache.stale[k]
	if !ok {
		return Result{}, false
	}
	now := time.Now().UnixNano()
	if now >= s.until {
		delete(d.cache.stale, k)
		return Result{}, false
	}
	if d.wanted == nil {
		d.wanted = map[cacheKey]struct{}{}
	}
	d.wanted[k] = struct{}{}
	if d.cache.stats != nil {
		d.cache.stats.note(now - s.since)
	}
	return s.r, true
}

// PrepareKeeping is Prepare, letting readers be served the results it
// invalidates as Keep says.
func (d *Dataset) PrepareKeeping(keep *Keep) {
	d.cacheMu.Lock()
	d.keep = keep
	d.cacheMu.Unlock()
	d.Prepare()
	// Not left for a later Prepare should this one not have invalidated.
	d.cacheMu.Lock()
	d.keep = nil
	d.cacheMu.Unlock()
}

// RefreshStale computes the stale results readers were served and that
// are not cached again, newest as_of first, until the deadline (at least
// one), and reports whether any are left. The caller holds what a reader
// holds (the engine's read lock).
func (d *Dataset) RefreshStale(deadline time.Time) (left bool) {
	d.cacheMu.Lock()
	keys := slices.Collect(maps.Keys(d.wanted))
	clear(d.wanted)
	d.cacheMu.Unlock()
	_, rest := d.computeUntil(keys, deadline, true)
	if len(rest) == 0 {
		return false
	}
	// Handed back for the next call.
	d.cacheMu.Lock()
	for _, k := range rest {
		d.wanted[k] = struct{}{}
	}
	d.cacheMu.Unlock()
	return true
}
