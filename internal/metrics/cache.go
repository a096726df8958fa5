package metrics

import (
	"maps"
	"math"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Results are cached per metric, scope and window. Every metric is written
// so that a record only changes results as of its own earliest timestamp
// or later (events after as_of have not happened; links are evaluated as
// of as_of), and each metric declares the kinds it reads (Register), so a
// batch of new records invalidates exactly the cached windows ending at or
// after the batch's earliest timestamp of a kind the metric reads. A
// scorecard that a new deployment reaches recomputes the current windows
// of the metrics that read deployments and keeps everything else.

type cacheKey struct {
	// def is the metric: a pointer, so keys hash and compare without
	// reading its id, and invalidation finds its kinds without a lookup.
	def         *Def
	scope       Scope
	start, asOf int64
	records     bool // a drill-down, with the records behind the value
	closing     bool // Query.Closing
}

// key is q's key for def's result.
func (q Query) key(def *Def) cacheKey {
	return cacheKey{def: def, scope: q.Scope, start: q.start(), asOf: q.end(), records: q.Records, closing: q.Closing}
}

// noneDirty means nothing was applied since the last Prepare.
const noneDirty = math.MaxInt64

// maxCached bounds the cache; as_of is free-form, so a busy server asking
// "as of now" would otherwise grow it without end. maxDrills bounds the
// drill-downs in it, each holding up to a window's worth of records.
const (
	maxCached = 50_000
	maxDrills = 32
)

// touchNs records that data of a kind at or after n (unix ns) changed.
func (d *Dataset) touchNs(kind domain.Kind, n int64) {
	if n == 0 {
		return
	}
	if old, ok := d.dirty[kind]; !ok || n < old {
		d.dirty[kind] = n
	}
}

// touchAll invalidates every cached result: reference data (services) has
// no time and can change any window of any metric.
func (d *Dataset) touchAll() { d.dirtyAll = true }

// touchRecord notes every timestamp of a record of a kind not held as
// rows (rows note theirs: row.stamps).
func (d *Dataset) touchRecord(r domain.Record) {
	kind := r.Kind()
	touch := func(t time.Time) {
		if !t.IsZero() {
			d.touchNs(kind, ns(t))
		}
	}
	switch r := r.(type) {
	case *domain.Service:
		d.touchAll()
		return
	case *domain.Deployment:
		touch(r.StartedAt)
		touch(r.CutoverAt)
	case *domain.Change:
		touch(r.AuthoredAt)
		touch(r.OpenedAt)
		touch(r.FirstReviewAt)
	case *domain.Incident:
		touch(r.DetectedAt)
	case *domain.SLI:
		touch(r.PeriodStart)
	}
	ts, n := dataTimes(r)
	for _, t := range ts[:n] {
		touch(t)
	}
	touch(r.EventTime())
}

// invalidate drops cached results that changed data can reach — into the
// stale results when the caller of Prepare allows them (PrepareKeeping).
func (d *Dataset) invalidate() {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	keep := d.keep
	d.keep = nil
	defer func() {
		clear(d.dirty)
		d.dirtyAll = false
	}()
	now := time.Now().UnixNano()
	d.cache.dropExpired(now)
	if !d.dirtyAll && len(d.dirty) == 0 {
		return
	}
	clear(d.leadsAsOf)
	clear(d.orgWindows)
	clear(d.pages)
	clear(d.failWindows)
	clear(d.mrrs)
	if d.dirtyAll || d.cache.n > maxCached {
		if keep == nil || d.cache.n > maxCached {
			keep = nil
			clear(d.cache.stale)
		}
		d.cache.clear(keep, now)
		clear(d.leadDays)
		clear(d.impactDays)
		return
	}
	// A lead-time day changes with any deployment finishing in it and any
	// change it could ship (merged by its end); links made from later days
	// drop it through the memo resets (resetLead).
	from := int64(math.MaxInt64)
	for _, k := range []domain.Kind{domain.KindDeployment, domain.KindChange} {
		if t, ok := d.dirty[k]; ok {
			from = min(from, t)
		}
	}
	for day := range d.leadDays {
		if day+int64(dayDur) > from {
			delete(d.leadDays, day)
		}
	}
	// A release-impact day reads the deployments finishing in it and the
	// tickets created in their observation windows.
	dep, depOK := d.dirty[domain.KindDeployment]
	tk, tkOK := d.dirty[domain.KindTicket]
	window := int64(d.cfg.impactWindow())
	for day := range d.impactDays {
		end := day + int64(dayDur)
		if (depOK && dep < end) || (tkOK && tk < end+window) {
			delete(d.impactDays, day)
		}
	}
	d.cache.invalidate(d.dirty, keep, now)
}

// resultCache holds computed results per metric, so that new data of a
// kind visits only the results of the metrics reading it: a webhook's
// incident leaves the cost, sales and most delivery results unvisited.
type resultCache struct {
	byDef  map[*Def]map[cacheKey]Result
	n      int // results held
	drills int // drill-downs among them
	// stale holds results newer data invalidated, which a reader may be
	// served until they expire (stale.go); never drill-downs.
	stale map[cacheKey]staleResult
	// staleNext is the earliest expiry among them: until then nothing
	// needs looking at (dropExpired runs at every Prepare).
	staleNext int64
	// stats counts the stale results served (the engine's, from Keep).
	stats *StaleStats
}

func newResultCache() resultCache {
	return resultCache{byDef: map[*Def]map[cacheKey]Result{}, stale: map[cacheKey]staleResult{}}
}

func (c *resultCache) get(k cacheKey) (Result, bool) {
	r, ok := c.byDef[k.def][k]
	return r, ok
}

func (c *resultCache) put(k cacheKey, r Result) {
	m := c.byDef[k.def]
	if m == nil {
		m = map[cacheKey]Result{}
		c.byDef[k.def] = m
	}
	if _, had := m[k]; !had {
		c.n++
		if k.records {
			c.drills++
		}
	}
	m[k] = r
}

// clear drops every result, keeping those keep allows as stale.
func (c *resultCache) clear(keep *Keep, now int64) {
	if keep != nil {
		for _, m := range c.byDef {
			for k, r := range m {
				c.keepStale(keep, k, r, now)
			}
		}
	}
	clear(c.byDef)
	c.n, c.drills = 0, 0
}

// dropDrills removes every drill-down.
func (c *resultCache) dropDrills() {
	for _, m := range c.byDef {
		for k := range m {
			if k.records {
				delete(m, k)
				c.n--
			}
		}
	}
	c.drills = 0
}

// invalidate drops the results ending at or after the earliest time of
// changed data of a kind their metric reads.
//
// A Prepare that keeps nothing — one that may hold a writer's rows, which
// the writer must read — drops the stale results the changed data reaches
// too: they lack those rows.
func (c *resultCache) invalidate(dirty map[domain.Kind]int64, keep *Keep, now int64) {
	if keep == nil {
		for k := range c.stale {
			if k.asOf >= earliestFor(k.def, dirty) {
				delete(c.stale, k)
			}
		}
	}
	for def, m := range c.byDef {
		earliest := earliestFor(def, dirty)
		if earliest == noneDirty {
			continue
		}
		for k := range m {
			if k.asOf >= earliest {
				c.keepStale(keep, k, m[k], now)
				delete(m, k)
				c.n--
				if k.records {
					c.drills--
				}
			}
		}
	}
}

// earliestFor is the earliest changed time of a kind def reads (noneDirty:
// none).
func earliestFor(def *Def, dirty map[domain.Kind]int64) int64 {
	earliest := int64(noneDirty)
	for _, kind := range def.Reads {
		if t, ok := dirty[kind]; ok && t < earliest {
			earliest = t
		}
	}
	return earliest
}

// flight is a result being computed by one reader for others to wait on.
// Nothing invalidates the cache while readers run (writers hold the
// engine's write lock), so a landed result is valid for every waiter.
type flight struct {
	done chan struct{}
	r    Result
	ok   bool // false when the computing reader panicked
	// waiters counts the readers parked on it (tests observe it).
	waiters int
}

// cachedOrFlying returns the cached result (ok) — or, when stale allows,
// a stale one, which spares waiting for a flight too —, or the flight to
// wait on, or neither — and then the caller is registered as computing k
// and must land it.
func (d *Dataset) cachedOrFlying(k cacheKey, asked, stale bool) (Result, *flight, bool) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if asked && d.trackAsked {
		if d.asked == nil || len(d.asked) >= maxCached {
			d.asked = map[cacheKey]struct{}{}
		}
		d.asked[k] = struct{}{}
	}
	if r, ok := d.cache.get(k); ok {
		return r, nil, true
	}
	if stale {
		if r, ok := d.takeStale(k); ok {
			return r, nil, true
		}
	}
	if f := d.flights[k]; f != nil {
		f.waiters++
		return Result{}, f, false
	}
	d.flights[k] = &flight{done: make(chan struct{})}
	return Result{}, nil, false
}

// land stores a computed result and releases those waiting for it.
func (d *Dataset) land(k cacheKey, r Result) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if d.cache.n >= maxCached {
		d.cache.clear(nil, 0)
	}
	if k.records && d.cache.drills >= maxDrills {
		d.cache.dropDrills()
	}
	d.cache.put(k, r)
	delete(d.cache.stale, k)
	if f := d.flights[k]; f != nil {
		f.r, f.ok = r, true
		delete(d.flights, k)
		close(f.done)
	}
}

// abandon releases the waiters of a computation that panicked; they
// compute for themselves.
func (d *Dataset) abandon(k cacheKey) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if f := d.flights[k]; f != nil {
		delete(d.flights, k)
		close(f.done)
	}
}

// touchHeld notes the timestamps of the version a record replaces:
// results that counted the old version change too.
func (d *Dataset) touchHeld(kind domain.Kind, h held) {
	ts := func(v ...int64) {
		for _, n := range v {
			d.touchNs(kind, n)
		}
	}
	switch {
	case h.dep != nil:
		ts(h.dep.Finished, h.dep.Started)
	case h.chg >= 0:
		t := d.chgTimesOf(h.chg)
		ts(t.merged, t.authored)
	case h.inc != nil:
		ts(h.inc.Opened, h.inc.Detected, h.inc.Resolved)
	case h.sli != nil:
		ts(h.sli.Start)
	}
}

// keptMRR returns the customers' MRR kept for k since rows were last
// applied (revenue.go, customersMRR); keepMRR keeps one.
func (d *Dataset) keptMRR(k mrrKey) (map[uint32]*custMRR, bool) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	m, ok := d.mrrs[k]
	return m, ok
}

func (d *Dataset) keepMRR(k mrrKey, m map[uint32]*custMRR) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	putBounded(d.mrrs, k, m, maxMRRs)
}

// TakeResults gives d the results src has computed and those it may serve
// stale, for d read back from the state src has just written: the same
// rows under the same settings, so every result of src is d's too. A
// following engine that goes on from a newer state (engine: going on from
// a newer state) would otherwise have each reader recompute what it reads
// — during a large import, the whole scorecard at every such move. The
// caller applies no rows to either meanwhile.
func (d *Dataset) TakeResults(src *Dataset) {
	src.cacheMu.Lock()
	defer src.cacheMu.Unlock()
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	for _, m := range src.cache.byDef {
		for k, r := range m {
			d.cache.put(k, r)
		}
	}
	if len(src.cache.stale) > 0 {
		if len(d.cache.stale) == 0 || src.cache.staleNext < d.cache.staleNext {
			d.cache.staleNext = src.cache.staleNext
		}
		maps.Copy(d.cache.stale, src.cache.stale)
	}
	if d.cache.stats == nil {
		d.cache.stats = src.cache.stats
	}
	if len(src.wanted) > 0 {
		if d.wanted == nil {
			d.wanted = make(map[cacheKey]struct{}, len(src.wanted))
		}
		maps.Copy(d.wanted, src.wanted)
	}
}
