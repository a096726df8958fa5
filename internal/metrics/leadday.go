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

// run is the sorted spans of lead time (stage leadStage) or of a flow
// stage.
func (m *leadMemo) run(stage int) []float64 {
	if stage == leadStage {
		return m.spans
	}
	return m.stages[stage]
}

// leadStage stands for lead time itself where a flow stage may be named.
const leadStage = -1

// maxLeadDays bounds the kept days (about 30 years of history).
const maxLeadDays = 10_000

// leadDayAt returns the day starting at day (unix ns, UTC midnight),
// building it when missing. A kept day reflects the data as it is — new
// data and memo resets drop it (cache.go, resetLead).
func (d *Dataset) leadDayAt(day int64) *leadDay {
	d.cacheMu.Lock()
	b := d.leadDays[day]
	d.cacheMu.Unlock()
	if b != nil {
		return b
	}
	d.memoized.Store(true)
	b = &leadDay{}
	end := day + int64(dayDur)
	for _, row := range d.prodDeps.between(day, end) {
		if !row.eligible() {
			continue
		}
		m := d.leadOf(d.depOf(row.i), math.MaxInt64)
		part := &b.settled
		if m.validFrom > end {
			part = &b.late
			b.lateDeps = append(b.lateDeps, row.i)
		}
		part.addMemo(m)
	}
	for _, part := range []*leadMemo{&b.settled, &b.late} {
		slices.Sort(part.spans)
		for s := range part.stages {
			slices.Sort(part.stages[s])
		}
	}
	d.cacheMu.Lock()
	putBounded(d.leadDays, day, b, maxLeadDays)
	d.cacheMu.Unlock()
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
	one := func(x *Dep) {
		m := d.leadOf(x, end)
		if m == nil {
			m = d.leadAt(x, end)
		}
		rest = append(rest, m.run(stage)...)
		explicit += m.explicit
		inferred += m.inferred
	}
	perDep := func(lo, hi int64) {
		for _, row := range d.prodDeps.between(lo, hi) {
			if row.eligible() {
				one(d.depOf(row.i))
			}
		}
	}
	whole := func(m *leadMemo) {
		if run := m.run(stage); len(run) > 0 {
			runs = append(runs, run)
		}
		explicit += m.explicit
		inferred += m.inferred
	}
	if first >= last {
		perDep(start, end)
		return
	}
	perDep(start, first)
	for day := first; day < last; day += int64(dayDur) {
		b := d.leadDayAt(day)
		whole(&b.settled)
		if end >= b.late.validFrom {
			whole(&b.late)
			continue
		}
		for _, i := range b.lateDeps {
			one(d.depOf(i))
		}
	}
	perDep(last, end)
	return
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
	d.cacheMu.Lock()
	m := d.leadsAsOf[k]
	d.cacheMu.Unlock()
	if m != nil {
		return m
	}
	m = &leadMemo{}
	d.changesOf(x, asOf, func(c *Chg, method string) { m.addChange(x, c, method, asOf) })
	d.cacheMu.Lock()
	putBounded(d.leadsAsOf, k, m, maxLeadsAsOf)
	d.cacheMu.Unlock()
	return m
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
