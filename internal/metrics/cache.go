package metrics

import (
	"math"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Results are cached per metric, scope and window. Every metric is written
// so that a record only changes results as of its own earliest timestamp
// or later (events after as_of have not happened; links are evaluated as
// of as_of), so a batch of new records invalidates exactly the cached
// windows ending at or after the batch's earliest timestamp. A scorecard
// that a new record reaches recomputes its current windows and keeps the
// eleven older weekly points and the previous window.

type cacheKey struct {
	id          string
	scope       Scope
	start, asOf int64
}

// noneDirty means nothing was applied since the last Prepare.
const noneDirty = math.MaxInt64

// maxCached bounds the cache; as_of is free-form, so a busy server asking
// "as of now" would otherwise grow it without end.
const maxCached = 50_000

// touch records that data at or after t changed.
func (d *Dataset) touch(t time.Time) {
	if t.IsZero() {
		return
	}
	if n := t.UnixNano(); n < d.dirtyFrom {
		d.dirtyFrom = n
	}
}

// touchAll invalidates every cached result: reference data (services) has
// no time and can change any window.
func (d *Dataset) touchAll() { d.dirtyFrom = math.MinInt64 }

// touchRecord notes every timestamp of a record.
func (d *Dataset) touchRecord(r domain.Record) {
	switch r := r.(type) {
	case *domain.Service:
		d.touchAll()
		return
	case *domain.Deployment:
		d.touch(r.StartedAt)
		d.touch(r.CutoverAt)
	case *domain.Change:
		d.touch(r.AuthoredAt)
		d.touch(r.OpenedAt)
	case *domain.Incident:
		d.touch(r.DetectedAt)
	case *domain.SLI:
		d.touch(r.PeriodStart)
	case *domain.Cost:
		d.touch(r.PeriodStart)
	case *domain.Usage:
		d.touch(r.PeriodStart)
	case *domain.Budget:
		d.touch(r.PeriodStart)
	case *domain.Quota:
		d.touch(r.PeriodStart)
	case *domain.Spend:
		d.touch(r.PeriodStart)
	case *domain.Target:
		d.touch(r.PeriodStart)
	case *domain.Opportunity:
		if !r.CloseDate.IsZero() {
			d.touch(r.CloseDate.Time)
		}
	}
	for _, t := range dataTimes(r) {
		d.touch(t)
	}
	d.touch(r.EventTime())
}

// invalidate drops cached results that changed data can reach.
func (d *Dataset) invalidate() {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if d.dirtyFrom == noneDirty {
		return
	}
	if d.dirtyFrom == math.MinInt64 || len(d.cache) > maxCached {
		clear(d.cache)
	} else {
		for k := range d.cache {
			if k.asOf >= d.dirtyFrom {
				delete(d.cache, k)
			}
		}
	}
	d.dirtyFrom = noneDirty
}

func (d *Dataset) cached(k cacheKey) (Result, bool) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	r, ok := d.cache[k]
	return r, ok
}

func (d *Dataset) store(k cacheKey, r Result) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if len(d.cache) >= maxCached {
		clear(d.cache)
	}
	d.cache[k] = r
}

// touchReplaced notes the timestamps of the version a record replaces:
// results that counted the old version change too.
func (d *Dataset) touchReplaced(r domain.Record) {
	k := key(r.Header().Source, r.Header().ID)
	ts := func(v ...int64) {
		for _, n := range v {
			if n != 0 && n < d.dirtyFrom {
				d.dirtyFrom = n
			}
		}
	}
	switch r.(type) {
	case *domain.Deployment:
		if o := d.deps[k]; o != nil {
			ts(o.Finished, o.Started)
		}
	case *domain.Change:
		if o := d.changes[k]; o != nil {
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
	case *domain.Service:
	default:
		if o := d.others[r.Kind()][k]; o != nil {
			d.touchRecord(o)
		}
	}
}
