package metrics

import (
	"math"
	"strings"
)

// Release impact's per-deployment tallies and per-day baselines: what most
// windows of release_impact_score repeat, kept between them (see
// releaseImpactScore in customer.go for the definition).

// DefaultImpactWeights are the release-impact ticket weights: field →
// value (matched case-insensitively) → weight; a ticket weighs the
// product of its three weights, unknown or absent values weighing 1.
func DefaultImpactWeights() map[string]map[string]float64 {
	return map[string]map[string]float64{
		"priority": {
			"urgent": 3, "critical": 3, "p0": 3, "p1": 3,
			"high": 2, "p2": 2,
			"normal": 1, "medium": 1, "p3": 1,
			"low": 0.5, "p4": 0.5,
		},
		"user_role": {
			"admin": 1.5, "executive": 1.5, "owner": 1.5,
		},
		"criticality": {
			"critical": 3, "high": 2, "medium": 1, "low": 0.5,
		},
	}
}

// impactBaseline is the look-back for a service's baseline: production
// deployments of the service finishing in the 90 days before W.
const impactBaseline = 90 * day

// impactTopN bounds the releases listed in Detail["releases"].
const impactTopN = 10

type impactWeights map[string]map[string]float64

func (w impactWeights) of(d *Dataset, t *ticketRow) float64 {
	x := 1.0
	for _, fv := range [...][2]string{{"priority", d.str(t.priority)}, {"user_role", d.str(t.userRole)}, {"criticality", d.str(t.criticality)}} {
		if fv[1] == "" {
			continue
		}
		if v, ok := w[fv[0]][strings.ToLower(fv[1])]; ok {
			x *= v
		}
	}
	return x
}

type releaseImpact struct {
	x        *Dep
	svc      *svcState
	weighted float64
	tickets  int
}

// impactMemo is a deployment's release-impact tally once its observation
// window has closed: from then on no as_of changes it, only a ticket naming
// the release (or a deployment reusing its id) does, and those reset it.
type impactMemo struct {
	weighted float64
	tickets  int
}

// releaseTickets calls fn for the tickets attributed to release x that
// were created in its observation window and by end.
func (d *Dataset) releaseTickets(x *Dep, window, end int64, fn func(t *ticketRow)) {
	if !x.hasTickets {
		return
	}
	for t := range d.rows.tickets.walk(d.rows.ticketsByRelease[x.id]) {
		if y, _ := d.resolveDepCode(t.release, t.source, end); y != x {
			continue
		}
		c := t.created
		if c < x.Finished || c >= x.Finished+window || c > end {
			continue
		}
		fn(t)
	}
}

// tally returns the weighted tickets of release x as of end, from the memo
// when the observation window closed by end.
func (d *Dataset) tally(x *Dep, w impactWeights, window, end int64) (float64, int) {
	if !x.hasTickets {
		return 0, 0 // most releases: no memo to allocate or follow
	}
	// The memo holds as of all data: while another source's deployment
	// shares x's id, the tickets naming it resolve as of end (SPEC §2).
	closed := x.Finished+window <= end && d.uniqueDep(x)
	memo := &d.memos(x).impact
	m := memo.Load()
	if m == nil {
		if v, ok := d.impactMemos.memo(x.row); ok {
			m = &v
			memo.Store(m)
		}
	}
	if closed && m != nil {
		return m.weighted, m.tickets
	}
	var sum float64
	n := 0
	d.releaseTickets(x, window, end, func(t *ticketRow) {
		sum += w.of(d, t)
		n++
	})
	if closed {
		// Readers fill memos concurrently under the engine's read lock;
		// racing readers store the same value, which the data determines.
		memo.Store(&impactMemo{weighted: sum, tickets: n})
	}
	return sum, n
}

type impactAcc struct {
	sum float64
	n   int
}

// impactBaselines sums, per service, the tallies of the production
// deployments in scope finishing in the 90 days before the window. Walking
// 90 days of deployments per window was most of the metric's cost, so
// whole days come from their kept per-service sums (impactDay) once every
// release in them has closed (the window is at least as long as the
// observation window); only the partial days at the edges are walked.
func (d *Dataset) impactBaselines(q Query, w impactWeights, window int64) map[*svcState]impactAcc {
	start, end := q.start(), q.end()
	closed := start+window <= end
	b := map[*svcState]impactAcc{}
	add := func(s *svcState, a impactAcc) {
		if d.matchService(q, s.name) {
			t := b[s]
			t.sum += a.sum
			t.n += a.n
			b[s] = t
		}
	}
	walk := func(lo, hi int64) {
		for _, row := range d.prodBetween(lo, hi) {
			var a impactAcc
			x := d.depOf(row.i)
			if row.tickets {
				a.sum, _ = d.tally(x, w, window, end)
			}
			a.n = 1
			add(d.depSvc(x), a)
		}
	}
	from := start - int64(impactBaseline)
	first, last := ceilDay(from), floorDay(start)
	if !closed || first >= last {
		walk(from, start)
	} else {
		// Whole days by their per-service sums, which no as_of after the
		// baseline changes (every release in them has closed).
		walk(from, first)
		for day := first; day < last; day += int64(dayDur) {
			m, ok := d.impactDay(day, w, window)
			if !ok {
				walk(day, day+int64(dayDur))
				continue
			}
			for s, a := range m {
				add(s, a)
			}
		}
		walk(last, start)
	}
	return b
}

// impactDay returns the per-service release-impact sums of the production
// deployments finishing in one UTC day, for as_of late enough that their
// observation windows have closed. Kept until a deployment of that day or
// a ticket that could fall in its observation windows changes
// (invalidate). ok is false for a day holding a deployment whose id
// another source reuses: its tickets resolve as of each as_of, so the day
// is walked instead (kept as a nil map, so it is not rebuilt each time).
func (d *Dataset) impactDay(day int64, w impactWeights, window int64) (map[*svcState]impactAcc, bool) {
	d.cacheMu.Lock()
	m, ok := d.impactDays[day]
	d.cacheMu.Unlock()
	if ok {
		return m, m != nil
	}
	m = map[*svcState]impactAcc{}
	for _, row := range d.prodBetween(day, day+int64(dayDur)) {
		x := d.depOf(row.i)
		if !d.uniqueDep(x) {
			m = nil
			break
		}
		a := m[d.depSvc(x)]
		if row.tickets {
			weighted, _ := d.tally(x, w, window, math.MaxInt64)
			a.sum += weighted
		}
		a.n++
		m[d.depSvc(x)] = a
	}
	d.cacheMu.Lock()
	if len(d.impactDays) >= maxLeadDays {
		clear(d.impactDays)
	}
	d.impactDays[day] = m
	d.cacheMu.Unlock()
	return m, m != nil
}
