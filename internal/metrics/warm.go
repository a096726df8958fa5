package metrics

import (
	"cmp"
	"slices"
	"time"
)

// WarmFrom computes on d the results src has cached and d has not — what
// readers of src asked for that d's newer data invalidated — newest as_of
// first and values before drill-downs, until deadline. The engine calls it
// on the copy of the data it is about to publish, so readers moving to it
// find warm what they were reading (engine generations). It returns the
// number of results computed. Both datasets must hold the same settings;
// d must not be published yet (nothing else reads it).
func (d *Dataset) WarmFrom(src *Dataset, deadline time.Time) int {
	src.cacheMu.Lock()
	keys := make([]cacheKey, 0, src.cache.n)
	for _, m := range src.cache.byDef {
		for k := range m {
			keys = append(keys, k)
		}
	}
	src.cacheMu.Unlock()
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
	n := 0
	for _, k := range keys {
		if !time.Now().Before(deadline) {
			break
		}
		// The key holds the window's ends in unix ns, which is all a
		// computation reads of the query's times.
		q := Query{AsOf: time.Unix(0, k.asOf).UTC(), Window: time.Duration(k.asOf - k.start), Scope: k.scope, Records: k.records}
		d.compute(k.def.ID, k.def, q)
		n++
	}
	return n
}

// Cached reports whether the value of a query is in the result cache (a
// test of warming; reading it does not compute anything).
func (d *Dataset) Cached(id string, q Query) bool {
	def, err := d.def(id)
	if err != nil {
		return false
	}
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	_, ok := d.cache.get(cacheKey{def: def, scope: q.Scope, start: q.start(), asOf: q.end(), records: q.Records})
	return ok
}
