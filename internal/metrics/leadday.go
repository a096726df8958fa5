package metrics

import (
	"cmp"
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
// production deployments finishing in one UTC day, in two parts. settled
// holds those of the deployments whose memos are valid from the day's end
// on, so in any window the day lies whole in. late holds the others' (a
// change a later deployment lists, one merged or reviewed after the
// deployment: leadMemo), valid as of late.validFrom; before then a window
// reads settled and the late deployments one by one (lateDeps, their slab
// rows). At scale 10 about one deployment in ten is late, and most days in
// the last week before a weekly trend point's end have one: reading those
// days whole, deployment by deployment, was a third of a first
// scorecard. A day is valid while every service it drew on keeps its
// generation (the same rule as leadMemo).
type leadDay struct {
	settled, late leadMemo
	lateDeps      []int32
}

// maxLeadDays bounds the kept days (about 30 years of history).
const maxLeadDays = 10_000

// leadDayAt returns the day starting at day (unix ns, UTC midnight),
// building it when missing. A kept day reflects the data as it is — new
// data and memo resets drop it (cache.go, resetLead).
func (d *Dataset) leadDayAt(day int64) *leadDay {
	if b := cachedIn(d, d.leadDays, day); b != nil {
		return b
	}
	d.memoized.Store(true)
	b := &leadDay{}
	end := day + int64(dayDur)
	// The memos first, then each part's runs copied into one array of
	// the size they add up to: while a large import is applied every day
	// is dropped at each step and built again by the next reads, and
	// growing the runs by append and packing them after was a third of
	// building a day at scale 10 (docs/performance.md).
	var parts [2][]*leadMemo // settled, late
	for _, row := range d.prodDeps.between(day, end) {
		if !row.eligible() {
			continue
		}
		m := d.leadOf(d.depOf(row.i), math.MaxInt64)
		p := 0
		if m.validFrom > end {
			p = 1
			b.lateDeps = append(b.lateDeps, row.i)
		}
		parts[p] = append(parts[p], m)
	}
	b.settled, b.late = joinMemos(parts[0]), joinMemos(parts[1])
	var scratch []uint64
	for _, part := range []*leadMemo{&b.settled, &b.late} {
		for i := range stageCount + 1 {
			sortSpans(part.run(i-1), &scratch)
		}
	}
	keepIn(d, d.leadDays, day, b, maxLeadDays)
	return b
}

const dayDur = day

// orgMedian is the organisation's median lead time (leadStage) or flow
// stage span over W, with its count and how the changes were linked.
func (d *Dataset) orgMedian(stage int, q Query) (r Result, explicit, inferred int) {
	runs, rest, explicit, inferred := d.orgSpans(stage, q.start(), q.end())
	r.Count = len(rest)
	for _, run := range runs {
		r.Count += len(run)
	}
	r.Value = medianOfRunsAndRest(runs, rest)
	return r, explicit, inferred
}

// orgSpans gathers the organisation's lead times (leadStage) or one flow
// stage's spans in [start, end) — the stage's over the same population:
// the changes of the lead-time population that have both of its
// timestamps — as sorted runs plus one unsorted remainder (partial days,
// and days whose links were different as of end).
func (d *Dataset) orgSpans(stage int, start, end int64) (runs [][]float64, rest []float64, explicit, inferred int) {
	w := d.orgWindowAt(start, end)
	n := 0
	for _, m := range w.each {
		n += len(m.run(stage))
	}
	rest = make([]float64, 0, n)
	for _, m := range w.whole {
		if run := m.run(stage); len(run) > 0 {
			runs = append(runs, run)
		}
		explicit += int(m.explicit)
		inferred += int(m.inferred)
	}
	for _, m := range w.each {
		rest = append(rest, m.run(stage)...)
		explicit += int(m.explicit)
		inferred += int(m.inferred)
	}
	return runs, rest, explicit, inferred
}

// orgWindow is what orgSpans reads for a window: the memos whose runs it
// takes whole (the parts of the days inside the window that are valid as
// of its end) and those of the deployments it reads one by one. Lead time
// and the four flow stages ask for the same windows of a trend, and
// finding the memos — a lookup a deployment — was most of their cost
// (~a fifth of a first scorecard at scale 1); each stage now only copies
// its own spans out of them.
type orgWindow struct {
	whole, each []*leadMemo
}

// orgKey names a window kept in orgWindows.
type orgKey struct{ start, end int64 }

// maxOrgWindows bounds the kept windows (a scorecard's weekly trends keep
// ~30).
const maxOrgWindows = 1024

// orgWindowAt returns the memos orgSpans reads for [start, end), finding
// them when not kept. Kept windows reflect the data as it is: applying
// rows drops them all (cache.go), as it does leadsAsOf, which they draw
// on.
func (d *Dataset) orgWindowAt(start, end int64) *orgWindow {
	k := orgKey{start, end}
	if w := cachedIn(d, d.orgWindows, k); w != nil {
		return w
	}
	w := &orgWindow{}
	first := ceilDay(start)
	last := floorDay(end)
	one := func(x *Dep) {
		m := d.leadOf(x, end)
		if m == nil {
			m = d.leadAt(x, end)
		}
		w.each = append(w.each, m)
	}
	perDep := func(lo, hi int64) {
		for _, row := range d.prodDeps.between(lo, hi) {
			if row.eligible() {
				one(d.depOf(row.i))
			}
		}
	}
	if first >= last {
		perDep(start, end)
	} else {
		perDep(start, first)
		for day := first; day < last; day += int64(dayDur) {
			b := d.leadDayAt(day)
			w.whole = append(w.whole, &b.settled)
			if end >= b.late.validFrom {
				w.whole = append(w.whole, &b.late)
				continue
			}
			for _, i := range b.lateDeps {
				one(d.depOf(i))
			}
		}
		perDep(last, end)
	}
	keepIn(d, d.orgWindows, k, w, maxOrgWindows)
	return w
}

// leadAsOf keys a deployment's lead times as of a time (leadAt).
type leadAsOf struct {
	row  int32
	asOf int64
}

// maxLeadsAsOf bounds leadsAsOf (a weekly trend of the five lead-time and
// flow metrics at scale 10 keeps ~10,000).
const maxLeadsAsOf = 1 << 16

// leadAt returns x's lead times as of asOf, before its memo is valid (a
// change a later deployment lists was still x's by inference, …): the
// changes as linked then, with every flow stage's spans, counted as the
// memo counts them. Lead time and the four flow stages ask for the same
// deployments as of the same ends of a weekly trend, so each is worked
// out once between two applies of rows.
func (d *Dataset) leadAt(x *Dep, asOf int64) *leadMemo {
	k := leadAsOf{row: x.row, asOf: asOf}
	if m := cachedIn(d, d.leadsAsOf, k); m != nil {
		return m
	}
	var b leadRuns
	d.changesOf(x, asOf, func(c *Chg, method string) { b.addChange(x, c, method, asOf) })
	m := b.memo()
	keepIn(d, d.leadsAsOf, k, &m, maxLeadsAsOf)
	return &m
}

// cachedIn reads a cache map of d under its lock; keepIn puts in one.
func cachedIn[K comparable, V any](d *Dataset, m map[K]V, k K) V {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	return m[k]
}

func keepIn[K comparable, V any](d *Dataset, m map[K]V, k K, v V, max int) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	putBounded(m, k, v, max)
}

// putBounded puts v in a cache map, emptying it first when it holds max
// entries: what was kept is worked out again when asked for.
func putBounded[K comparable, V any](m map[K]V, k K, v V, max int) {
	if len(m) >= max {
		clear(m)
	}
	m[k] = v
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

// medianOfRunsAndRest is the median of the union of sorted runs and an
// unsorted rest (which it reorders; nil: none), exactly as median would
// compute it on the concatenation.
func medianOfRunsAndRest(runs [][]float64, rest []float64) *float64 {
	n := len(rest)
	for _, r := range runs {
		n += len(r)
	}
	if n == 0 {
		return nil
	}
	m := kthOfRunsAndRest(runs, rest, n/2)
	if n%2 == 0 {
		m = (kthOfRunsAndRest(runs, rest, n/2-1) + m) / 2
	}
	return &m
}

// kthOfRunsAndRest returns the k-th smallest (0-based) value of the union
// of sorted runs and an unsorted rest (which it reorders), 0 ≤ k < their
// total length. The rest — the deployments read one by one, thousands in
// a window at scale 1 — was sorted to join the runs: a tenth of a first
// scorecard. Instead each step partitions what is left of it around a
// pivot taken from it, counts the runs' values below and at the pivot
// (binary search), and either answers or keeps the side the k-th value
// is on, as quickselect does: linear in the rest. What is left of the rest
// then joins the runs, sorted, and they answer (kthOfSorted).
func kthOfRunsAndRest(runs [][]float64, rest []float64, k int) float64 {
	runs = slices.Clone(runs) // narrowed below; the caller's stay whole
	// Where each run's values below and at the pivot end.
	lts, les := make([]int, len(runs)), make([]int, len(runs))
	for len(rest) > sortRest {
		p := median3(rest[0], rest[len(rest)/2], rest[len(rest)-1])
		lt, gt := partition3(rest, p)
		below, atOrBelow := lt, gt
		for i, r := range runs {
			lts[i] = sort.SearchFloat64s(r, p)
			les[i] = lts[i] + sort.Search(len(r)-lts[i], func(j int) bool { return r[lts[i]+j] > p })
			below += lts[i]
			atOrBelow += les[i]
		}
		switch {
		case k < below:
			rest = rest[:lt]
			for i := range runs {
				runs[i] = runs[i][:lts[i]]
			}
		case k < atOrBelow:
			return p
		default:
			k -= atOrBelow
			rest = rest[gt:]
			for i := range runs {
				runs[i] = runs[i][les[i]:]
			}
		}
	}
	if len(rest) > 0 {
		slices.Sort(rest)
		runs = append(runs, rest)
	}
	return kthOfSorted(runs, k)
}

// sortRest is the rest kthOfRunsAndRest sorts into a run rather than
// narrows: each narrowing step searches every run (a 30-day window has up
// to 60), which costs more than sorting a few hundred values — the rest of
// a window ending at midnight, where only the late deployments are read
// one by one.
const sortRest = 1024

// median3 is the middle one of three values.
func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}

// partition3 reorders v into the values below p, those equal to it and
// those above it, and returns where the second and third parts start.
func partition3(v []float64, p float64) (lt, gt int) {
	lt, i, gt := 0, 0, len(v)
	for i < gt {
		switch x := v[i]; {
		case x < p:
			v[lt], v[i] = x, v[lt]
			lt++
			i++
		case x > p:
			gt--
			v[gt], v[i] = x, v[gt]
		default:
			i++
		}
	}
	return lt, gt
}

// kthOfSorted returns the k-th smallest (0-based) value of the union of
// sorted runs, 0 ≤ k < their total length. Each step takes as pivot the
// weighted median of the runs' middle values (weights: what is left of
// each), which is at or above and at or below a quarter of what is left
// each, counts the values below and at it in every run (binary search),
// and either answers or drops the side the k-th value is not on: a few
// dozen steps of one search per run, where searching each run on a count
// over all of them was runs² searches (a 30-day window has up to 60 runs,
// a day's settled and late part each).
func kthOfSorted(runs [][]float64, k int) float64 {
	type part struct {
		r      []float64
		lt, le int
	}
	parts := make([]part, 0, len(runs))
	for _, r := range runs {
		if len(r) > 0 {
			parts = append(parts, part{r: r})
		}
	}
	type mid struct {
		v float64
		w int
	}
	mids := make([]mid, 0, len(parts))
	for {
		mids = mids[:0]
		total := 0
		for _, p := range parts {
			if len(p.r) > 0 {
				mids = append(mids, mid{p.r[len(p.r)/2], len(p.r)})
				total += len(p.r)
			}
		}
		slices.SortFunc(mids, func(a, b mid) int { return cmp.Compare(a.v, b.v) })
		pivot, acc := mids[len(mids)-1].v, 0
		for _, m := range mids {
			if acc += m.w; 2*acc >= total {
				pivot = m.v
				break
			}
		}
		lt, le := 0, 0
		for i := range parts {
			p := &parts[i]
			p.lt = sort.SearchFloat64s(p.r, pivot)
			p.le = p.lt + sort.Search(len(p.r)-p.lt, func(j int) bool { return p.r[p.lt+j] > pivot })
			lt += p.lt
			le += p.le
		}
		switch {
		case k < lt:
			for i := range parts {
				parts[i].r = parts[i].r[:parts[i].lt]
			}
		case k < le:
			return pivot
		default:
			k -= le
			for i := range parts {
				parts[i].r = parts[i].r[parts[i].le:]
			}
		}
	}
}
