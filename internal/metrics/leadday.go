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
	// stages holds each flow stage's spans of the same changes, sorted:
	// the flow metrics read days as lead time does.
	stages [stageCount][]float64
}

// run is the day's sorted spans of lead time (stage leadStage) or of a
// flow stage.
func (b *leadDay) run(stage int) []float64 {
	if stage == leadStage {
		return b.spans
	}
	return b.stages[stage]
}

// leadStage stands for lead time itself where a flow stage may be named.
const leadStage = -1

func (b *leadDay) valid(asOf int64) bool { return asOf >= b.validFrom }

// maxLeadDays bounds the kept days (about 30 years of history).
const maxLeadDays = 10_000

// leadDayAt returns the day starting at day (unix ns, UTC midnight) valid
// as of asOf, building it when missing; nil when as of asOf a change of
// that day was still linked differently (before validFrom). A kept day
// reflects the data as it is — new data and memo resets drop it (cache.go,
// resetLead) — so one not valid as of asOf is not rebuilt: a rebuild
// would give the same day, and an earlier as_of (a weekly trend's) asked
// for it again at every call, sorting the whole day each time.
func (d *Dataset) leadDayAt(day, asOf int64) *leadDay {
	d.cacheMu.Lock()
	b := d.leadDays[day]
	d.cacheMu.Unlock()
	if b == nil {
		d.memoized.Store(true)
		b = &leadDay{}
		for _, row := range d.prodDeps.between(day, day+int64(dayDur)) {
			if !row.eligible() {
				continue
			}
			m := d.leadOf(d.depOf(row.i), math.MaxInt64)
			b.validFrom = max(b.validFrom, m.validFrom)
			b.spans = append(b.spans, m.spans...)
			b.explicit += m.explicit
			b.inferred += m.inferred
			for s := range b.stages {
				b.stages[s] = append(b.stages[s], m.stages[s]...)
			}
		}
		slices.Sort(b.spans)
		for s := range b.stages {
			slices.Sort(b.stages[s])
		}
		d.cacheMu.Lock()
		if len(d.leadDays) >= maxLeadDays {
			clear(d.leadDays)
		}
		d.leadDays[day] = b
		d.cacheMu.Unlock()
	}
	if !b.valid(asOf) {
		return nil
	}
	return b
}

const dayDur = day

// orgMedian is the organisation's median lead time (leadStage) or flow
// stage span over W, with its count and how the changes were linked.
func (d *Dataset) orgMedian(stage int, q Query) (r Result, explicit, inferred int) {
	runs, rest, explicit, inferred := d.orgSpans(stage, q.start(), q.end())
	slices.Sort(rest)
	if len(rest) > 0 {
		runs = append(runs, rest)
	}
	for _, run := range runs {
		r.Count += len(run)
	}
	r.Value = medianOfRuns(runs)
	return r, explicit, inferred
}

// orgSpans gathers the organisation's lead times (leadStage) or one flow
// stage's spans in [start, end) — the stage's over the same population:
// the changes of the lead-time population that have both of its
// timestamps — as sorted runs plus one unsorted remainder (partial days,
// and days whose links were different as of end).
func (d *Dataset) orgSpans(stage int, start, end int64) (runs [][]float64, rest []float64, explicit, inferred int) {
	first := ceilDay(start)
	last := floorDay(end)
	perDep := func(lo, hi int64) {
		for _, row := range d.prodDeps.between(lo, hi) {
			if !row.eligible() {
				continue
			}
			x := d.depOf(row.i)
			if m := d.leadOf(x, end); m != nil {
				if stage == leadStage {
					rest = append(rest, m.spans...)
				} else {
					rest = append(rest, m.stages[stage]...)
				}
				explicit += m.explicit
				inferred += m.inferred
				continue
			}
			d.changesOf(x, end, func(c *Chg, method string) {
				h, ok := leadSpan(x, c, end)
				if ok && stage != leadStage {
					h, ok = stageSpan(stage, x, c, end)
				}
				if ok {
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
		if run := b.run(stage); len(run) > 0 {
			runs = append(runs, run)
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
