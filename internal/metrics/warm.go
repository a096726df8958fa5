package metrics

import (
	"cmp"
	"slices"
	"time"
)

// WarmFrom computes on d the results readers of src asked for since the
// last WarmFrom from it (TrackAsked) and d has not cached — what src's
// readers are using that d's newer data invalidated — newest as_of first
// and values before drill-downs, until deadline. The engine calls it on
// the copy of the data it is about to publish, so readers moving to it
// find warm what they were reading (engine generations). Only what was
// asked is warmed, not all src holds: a stream of webhook deliveries with
// nobody reading would otherwise recompute every cached value at each
// one. It returns the number of results computed. Both datasets must hold
// the same settings; d must not be published yet (nothing else reads it).
func (d *Dataset) WarmFrom(src *Dataset, deadline time.Time) int {
	src.cacheMu.Lock()
	keys := make([]cacheKey, 0, len(src.asked))
	for k := range src.asked {
		keys = append(keys, k)
	}
	clear(src.asked)
	src.cacheMu.Unlock()
	n, _ := d.computeUntil(keys, deadline, false)
	return n
}

// computeUntil computes the results of keys d has not cached — values
// before drill-downs, newest as_of first — until deadline (at least one
// when first is set: a caller that must make progress), and returns how
// many it computed and the keys it did not reach.
func (d *Dataset) computeUntil(keys []cacheKey, deadline time.Time, first bool) (int, []cacheKey) {
	d.cacheMu.Lock()
	keys = slices.DeleteFunc(keys, func(k cacheKey) bool {
		_, ok := d.cache.get(k)
		return ok
	})
	d.cacheMu.Unlock()
	slices.SortFunc(keys, func(a, b cacheKey) int {
		if a.records != b.records {
			if a.records {
				return 1
			}
			return -1
		}
		return cmp.Compare(b.asOf, a.asOf)
	})
	for i, k := range keys {
		if (i > 0 || !first) && !time.Now().Before(deadline) {
			return i, keys[i:]
		}
		// The key holds the window's ends in unix ns, which is all a
		// computation reads of the query's times.
		q := Query{AsOf: time.Unix(0, k.asOf).UTC(), Window: time.Duration(k.asOf - k.start), Scope: k.scope, Records: k.records, Closing: k.closing}
		d.computeAhead(k.def, q)
	}
	return len(keys), nil
}

// computeAhead computes a result no reader is waiting for (the stale
// refresh, the warming of the next copy), on a goroutine of the engine's:
// a formula that panics there would end the whole process, so the result
// is left uncomputed instead, and the reader who asks for it computes it
// on the request's goroutine, where the panic is that request's 500 and
// logged with its stack (web's recoverRequest).
func (d *Dataset) computeAhead(def *Def, q Query) {
	defer func() { recover() }()
	d.computeAs(def.ID, def, q, false)
}

// TrackAsked makes d remember the keys readers ask for, for WarmFrom: on
// for the datasets of an engine keeping two copies (off, the set would
// grow with nothing to take it).
func (d *Dataset) TrackAsked() {
	d.cacheMu.Lock()
	d.trackAsked = true
	d.cacheMu.Unlock()
}

// Cached reports whether the value of a query is in the result cache (a
// test of warming; reading it does not compute anything).
func (d *Dataset) Cached(id string, q Query) bool {
	def, err := d.defAt(id, q.AsOf)
	if err != nil {
		return false
	}
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	_, ok := d.cache.get(q.key(def))
	return ok
}
