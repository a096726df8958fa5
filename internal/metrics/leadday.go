package metrics

import (
	"math"
	"slices"
	"sort"
)

// Organisation-level lead time by UTC day. The scorecard asks for lead
// time over 30-day and 7-day windows at many as_of times; at scale 10 a
// 30-day window ships a quarter of a million changes, and gathering their
// lead times deployment by deployment was the largest part of a warm
// scorecard. Each whole day inside a window is instead taken as one sorted
// array built once (leadDay), and the exact median is selected across the
// arrays (kthOfSorted) without merging them. Partial days at the window's
// edges still go deployment by deployment.

// leadDay holds the sorted lead times of the changes shipped by the
// production deployments finishing in one UTC day. It is valid while every
// service it drew on keeps its generation (the same rule as leadMemo) and
// for as_of at or after validFrom.
type leadDay struct {
	validFrom          int64
	spans              []float64
	explicit, inferred int
}

func (b *leadDay) valid(asOf int64) bool { return asOf >= b.validFrom }

// maxLeadDays bounds the kept days (about 30 years of history).
const maxLeadDays = 10_000

// leadDayAt returns the day starting at day (unix ns, UTC midnight) valid
// as of asOf, building it when missing or stale; nil when as of asOf a
// change of that day was still linked differently (before validFrom).
func (d *Dataset) leadDayAt(day, asOf int64) *leadDay {
	d.cacheMu.Lock()
	b := d.leadDays[day]
	d.cacheMu.Unlock()
	if b == nil || !b.valid(asOf) {
		d.memoized.Store(true)
		b = &leadDay{}
		for _, row := range d.prodDeps.between(day, day+int64(dayDur)) {
			if !row.eligible() {
				continue
			}
			m := d.leadOf(row.x, math.MaxInt64)
			b.validFrom = max(b.validFrom, m.validFrom)
			b.spans = append(b.spans, m.spans...)
			b.explicit += m.explicit
			b.inferred += m.inferred
		}
		slices.Sort(b.spans)
		d.cacheMu.Lock()
		if len(d.leadDays) >= maxLeadDays {
			clear(d.leadDays)
		}
		d.leadDays[day] = b
		d.cacheMu.Unlock()
		if asOf < b.validFrom {
			return nil
		}
	}
	return b
}

const dayDur = day

// orgLeadTime gathers the organisation's lead times in [start, end) as
// sorted runs plus one unsorted remainder (partial days, and days whose
// links were different as of end).
func (d *Dataset) orgLeadTime(start, end int64) (runs [][]float64, rest []float64, explicit, inferred int) {
	first := ceilDay(start)
	last := floorDay(end)
	perDep := func(lo, hi int64) {
		for _, row := range d.prodDeps.between(lo, hi) {
			if !row.eligible() {
				continue
			}
			if m := d.leadOf(row.x, end); m != nil {
				rest = append(rest, m.spans...)
				explicit += m.explicit
				inferred += m.inferred
				continue
			}
			d.changesOf(row.x, end, func(c *Chg, method string) {
				if h, ok := leadSpan(row.x, c, end); ok {
					rest = append(rest, h)
					if method == Explicit {
						explicit++
					} else {
						inferred++
					}
				}
			})
		}
	}
	if first >= last {
		perDep(start, end)
		return
	}
	perDep(start, first)
	for day := first; day < last; day += int64(dayDur) {
		b := d.leadDayAt(day, end)
		if b == nil {
			perDep(day, day+int64(dayDur))
			continue
		}
		if len(b.spans) > 0 {
			runs = append(runs, b.spans)
		}
		explicit += b.explicit
		inferred += b.inferred
	}
	perDep(last, end)
	return
}

func floorDay(t int64) int64 {
	n := int64(dayDur)
	q := t / n
	if t%n < 0 {
		q--
	}
	return q * n
}

func ceilDay(t int64) int64 {
	f := floorDay(t)
	if f == t {
		return t
	}
	return f + int64(dayDur)
}

// medianOfRuns is the median of the union of sorted runs, exactly as
// median would compute it on the concatenation.
func medianOfRuns(runs [][]float64) *float64 {
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	if n == 0 {
		return nil
	}
	m := kthOfSorted(runs, n/2)
	if n%2 == 0 {
		m = (kthOfSorted(runs, n/2-1) + m) / 2
	}
	return &m
}

// kthOfSorted returns the k-th smallest (0-based) value of the union of
// sorted runs: the smallest run value v with at least k+1 values ≤ v,
// found by binary search within each run on that count.
func kthOfSorted(runs [][]float64, k int) float64 {
	atMost := func(v float64) int {
		c := 0
		for _, r := range runs {
			c += sort.Search(len(r), func(i int) bool { return r[i] > v })
		}
		return c
	}
	best, found := 0.0, false
	for _, r := range runs {
		i := sort.Search(len(r), func(i int) bool { return atMost(r[i]) > k })
		if i < len(r) && (!found || r[i] < best) {
			best, found = r[i], true
		}
	}
	return best
}
