package metrics

import (
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
	id          string
	scope       Scope
	start, asOf int64
	records     bool // a drill-down, with the records behind the value
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
			d.touchNs(kind, t.UnixNano())
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
	case *domain.Incident:
		touch(r.DetectedAt)
	case *domain.SLI:
		touch(r.PeriodStart)
	}
	for _, t := range dataTimes(r) {
		touch(t)
	}
	touch(r.EventTime())
}

// invalidate drops cached results that changed data can reach.
func (d *Dataset) invalidate() {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	defer func() {
		clear(d.dirty)
		d.dirtyAll = false
	}()
	if !d.dirtyAll && len(d.dirty) == 0 {
		return
	}
	if d.dirtyAll || len(d.cache) > maxCached {
		clear(d.cache)
		d.drills = 0
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
	// The earliest change each metric can see: the minimum over the kinds
	// it reads.
	earliest := make(map[string]int64, len(reg.defs))
	for id, def := range reg.defs {
		m := int64(noneDirty)
		for _, k := range def.Reads {
			if t, ok := d.dirty[k]; ok && t < m {
				m = t
			}
		}
		earliest[id] = m
	}
	d.drills = 0
	for k := range d.cache {
		if k.asOf >= earliest[k.id] {
			delete(d.cache, k)
		} else if k.records {
			d.drills++
		}
	}
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

// cachedOrFlying returns the cached result (ok), or the flight to wait on,
// or neither — and then the caller is registered as computing k and must
// land it.
func (d *Dataset) cachedOrFlying(k cacheKey) (Result, *flight, bool) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if r, ok := d.cache[k]; ok {
		return r, nil, true
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
	if len(d.cache) >= maxCached {
		clear(d.cache)
		d.drills = 0
	}
	if k.records {
		if d.drills >= maxDrills {
			for o := range d.cache {
				if o.records {
					delete(d.cache, o)
				}
			}
			d.drills = 0
		}
		d.drills++
	}
	d.cache[k] = r
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

// touchReplaced notes the timestamps of the version a record replaces:
// results that counted the old version change too.
func (d *Dataset) touchReplaced(r domain.Record) {
	k := key(r.Header().Source, r.Header().ID)
	kind := r.Kind()
	ts := func(v ...int64) {
		for _, n := range v {
			d.touchNs(kind, n)
		}
	}
	switch r.(type) {
	case *domain.Deployment:
		if o := d.dep(k); o != nil {
			ts(o.Finished, o.Started)
		}
	case *domain.Change:
		if o := d.change(k); o != nil {
			ts(o.Merged, o.Authored)
		}
	case *domain.Incident:
		if o := d.incidents[k]; o != nil {
			ts(o.Opened, o.Detected, o.Resolved)
		}
	case *domain.SLI:
		if o := d.slis[k]; o != nil {
			ts(o.Start)
		}
	}
}
