package metrics

import (
	"fmt"
	"math"
	"sort"

	"github.com/candor/candor/internal/domain"
)

// Linking rules of SPEC §2, evaluated on demand from the indexes as of the
// time asked, over the records that exist then, so that a new record
// changes every dependent link at once, with nothing stored to go stale.
// References resolve by resolveRef (problems.go); ties on a timestamp go
// to the lower id in byte order (then the lower source, for namesakes).

// Link methods.
const (
	Explicit = "explicit"
	Inferred = "inferred"
)

// before orders deployments by finished_at, ties by id, then source.
func (d *Dataset) before(x, y *Dep) bool {
	if x.Finished != y.Finished {
		return x.Finished < y.Finished
	}
	if d.str(x.id) != d.str(y.id) {
		return d.str(x.id) < d.str(y.id)
	}
	return d.str(x.src) < d.str(y.src)
}

// uniqueChange reports whether no other source has a change with the id
// of change i: then a listing names it from any source, as soon as it
// exists.
func (d *Dataset) uniqueChange(i int32) bool { return !shared(d.chgs.at(i)) }

// uniqueDep is uniqueChange for deployments.
func (d *Dataset) uniqueDep(x *Dep) bool { return !shared(x) }

// explicitScan returns the earliest eligible production deployment that
// finished by asOf and lists change i — its listing of the change's id
// resolving to it as of asOf (failed ones ship nothing; see listedBy).
func (d *Dataset) explicitScan(i int32, asOf int64) *Dep {
	c := d.chgs.at(i)
	if d.chgMerged(i) > asOf {
		return nil
	}
	var best *Dep
	d.listing(c.id, func(x *Dep) {
		if x.Finished > asOf || (best != nil && !d.before(x, best)) {
			return
		}
		if r, _ := d.resolveChange(c.id, x.src, asOf); r == i {
			best = x
		}
	})
	return best
}

// explicitAt is the deployment that ships change i by explicit listing as
// of asOf, nil when none has (or it has not merged yet: SPEC §3, a record
// exists from its defining time). Before the listing deployment finishes
// nobody could know the list, so until then the change is linked by
// inference; a record thus only ever changes results as of its own time or
// later, which keeps cached results of earlier windows valid. The row's
// explicit holds the answer as of all data; for an id no other source
// reuses it is the answer as of any time once both have happened.
func (d *Dataset) explicitAt(i int32, asOf int64) *Dep {
	c := d.chgs.at(i)
	if d.chgMerged(i) > asOf {
		return nil
	}
	if d.uniqueChange(i) {
		if e := d.depRef(c.explicit); e != nil && e.Finished <= asOf {
			return e
		}
		return nil
	}
	return d.explicitScan(i, asOf)
}

// changeSettled is when the links of a change id stop depending on as_of
// beyond "has it happened yet": every namesake has merged and every
// deployment listing the id has finished. Only ids that several sources
// share need it.
func (d *Dataset) changeSettled(id uint32) int64 {
	t := int64(math.MinInt64)
	for i := range d.chgsWithID(id) {
		t = max(t, d.chgMerged(i))
	}
	d.listing(id, func(x *Dep) { t = max(t, x.Finished) })
	return t
}

// depSettled is when references to a deployment id stop depending on
// as_of: the last of the deployments sharing the id has finished.
func (d *Dataset) depSettled(x *Dep) int64 {
	if d.uniqueDep(x) {
		return math.MinInt64
	}
	t := int64(math.MinInt64)
	for y := range d.depsWithID(x.id) {
		t = max(t, y.Finished)
	}
	return t
}

// ChangeDeployment returns the deployment that shipped a change, and how
// the link was made, as of all data; nil when not (yet) deployed.
func (d *Dataset) ChangeDeployment(c *Chg) (*Dep, string) {
	return d.ChangeDeploymentAsOf(c, math.MaxInt64)
}

// ChangeDeploymentAsOf is ChangeDeployment as known at asOf.
func (d *Dataset) ChangeDeploymentAsOf(c *Chg, asOf int64) (*Dep, string) {
	i := c.row
	if c.Merged > asOf {
		return nil, ""
	}
	if x := d.explicitAt(i, asOf); x != nil {
		return x, Explicit
	}
	s := d.svcElig[c.Service]
	if s == nil {
		return nil, ""
	}
	if i := s.lowerBound(c.Merged); i < len(s.items) && s.items[i].Finished <= asOf {
		return s.items[i], Inferred
	}
	return nil, ""
}

// changesOf calls fn for every change the deployment shipped as of asOf.
// The change passed is a copy, valid for the call.
func (d *Dataset) changesOf(x *Dep, asOf int64, fn func(c *Chg, method string)) {
	if !x.eligible() {
		return
	}
	var v Chg
	for _, id := range d.listed(x) {
		if i, _ := d.resolveChange(id, x.src, asOf); i >= 0 && d.explicitAt(i, asOf) == x {
			v = d.chgView(i)
			fn(&v, Explicit)
		}
	}
	// Changes merged in x's inferred range are x's, unless a deployment
	// lists them explicitly.
	d.inferredRange(x, func(i int32) {
		if d.explicitAt(i, asOf) == nil {
			v = d.chgView(i)
			fn(&v, Inferred)
		}
	})
}

// inferredRange calls fn for the rows of the changes of x's service merged
// in (previous eligible deployment, x]. When two deployments finish at the
// same instant the range of the second (by id) is empty: the first took
// them.
func (d *Dataset) inferredRange(x *Dep, fn func(i int32)) {
	s := d.svcElig[d.depService(x)]
	i := s.index(x)
	lo := int64(-1 << 63)
	if i > 0 {
		lo = s.items[i-1].Finished
	}
	cs := d.svcChanges[d.depService(x)]
	if cs == nil {
		return
	}
	for j := cs.upperBound(lo); j < len(cs.items); j++ {
		c := cs.items[j]
		if d.chgMerged(c) > x.Finished {
			break
		}
		fn(c)
	}
}

// IncidentDeployment returns the deployment an incident is attributed to
// as of all data; see IncidentDeploymentAsOf.
func (d *Dataset) IncidentDeployment(i *Inc) (*Dep, string, *Problem) {
	return d.IncidentDeploymentAsOf(i, math.MaxInt64)
}

// IncidentDeploymentAsOf returns the deployment an incident is attributed
// to as of asOf, how, and the data problem when an explicit reference
// links nothing (SPEC §2): it names no deployment or several, names one
// outside production, or no production deployment carries the change
// request. An explicit reference that links nothing leaves the incident
// unattributed; inference is not tried instead.
func (d *Dataset) IncidentDeploymentAsOf(i *Inc, asOf int64) (*Dep, string, *Problem) {
	if i.causedBy != 0 {
		x, st := d.resolveDepCode(i.causedBy, i.src, asOf)
		if st != refFound {
			p := refProblem(domain.KindIncident, d.str(i.src), d.str(i.id), "caused_by", "deployment", d.str(i.causedBy), st)
			return nil, Explicit, &p
		}
		if !x.Prod {
			// Under a production name only an explicit env_type makes it
			// something else: "environment production" alone would leave
			// the reader looking for what is wrong with it.
			why := "environment " + d.str(x.env)
			if isProduction(d.str(x.env), d.cfg.ProductionNames) {
				why += ", but its env_type is not production"
			}
			return nil, Explicit, &Problem{Kind: domain.KindIncident, Source: d.str(i.src), ID: d.str(i.id), Field: "caused_by",
				Reason: fmt.Sprintf("names deployment %s, which is not a production deployment (%s); it links nothing", d.str(x.id), why)}
		}
		return x, Explicit, nil
	}
	if i.causedByCR != 0 {
		if best := d.changeRequestDeployment(i); best != nil && best.Finished <= asOf {
			return best, Explicit, nil
		}
		return nil, Explicit, &Problem{Kind: domain.KindIncident, Source: d.str(i.src), ID: d.str(i.id), Field: "caused_by_change_request",
			Reason: fmt.Sprintf("no production deployment carries change request %s; it links nothing", d.str(i.causedByCR))}
	}
	s := d.svcElig[d.str(i.svc)]
	if s == nil {
		return nil, "", nil
	}
	k := s.upperBound(i.Opened) - 1
	if k < 0 || s.items[k].Finished < i.Opened-int64(d.cfg.AttributionWindow) {
		return nil, "", nil
	}
	// The latest finish; of several deployments finishing then, the lower id.
	return s.items[s.lowerBound(s.items[k].Finished)], Inferred, nil
}

// changeRequestDeployment is, of the production deployments carrying the
// incident's change request, the one live when it opened: the latest that
// finished at or before opened_at, else the earliest. Every deployment
// finished by opened_at exists whenever the incident does, and the
// earliest exists first, so the answer as of a time is this one when it
// has finished by then, else none.
func (d *Dataset) changeRequestDeployment(i *Inc) *Dep {
	var live, first *Dep
	if i.causedByCR == 0 {
		return nil
	}
	for x := range d.depsWithCR(i.causedByCR) {
		if !x.Prod {
			continue
		}
		if x.Finished <= i.Opened && (live == nil || x.Finished > live.Finished || (x.Finished == live.Finished && d.before(x, live))) {
			live = x
		}
		if first == nil || d.before(x, first) {
			first = x
		}
	}
	if live != nil {
		return live
	}
	return first
}

// incidentsOf returns the incidents attributed to a deployment that were
// opened by asOf, in opening order.
func (d *Dataset) incidentsOf(x *Dep, asOf int64) []*Inc {
	incs := d.failOf(x, asOf).incidents
	n := sort.Search(len(incs), func(k int) bool { return incs[k].Opened > asOf })
	return incs[:n:n]
}

// failMemo is what decides whether and when a deployment failed, as of all
// data: the earliest finish of a deployment rolling it back, and the
// incidents attributed to it. It is valid while its service's generation
// and failure generation are unchanged; the latter moves for the records
// that point at a deployment from anywhere (incidents, rollbacks,
// change requests, reused ids — see bumpFailLinks). While another source's
// deployment with the same id has yet to finish, references to the id
// resolve differently (validFrom); earlier as_of compute directly.
type failMemo struct {
	links      uint64
	validFrom  int64
	rollbackAt int64
	incidents  []*Inc
}

func (d *Dataset) failOf(x *Dep, asOf int64) *failMemo {
	memo := &d.memos(x).fail
	m := memo.Load()
	if m == nil {
		if v, ok := d.failMemos.memo(x.row); ok {
			m = d.shareClean(x, v)
			memo.Store(m)
		}
	}
	if m == nil || m.links != d.depSvc(x).failGen {
		d.memoized.Store(true)
		v := d.failValue(x, math.MaxInt64)
		v.links, v.validFrom = d.depSvc(x).failGen, d.depSettled(x)
		m = d.shareClean(x, v)
		// Racing readers store equal memos: the data determines them.
		memo.Store(m)
	}
	if asOf < m.validFrom {
		return d.failAt(x, asOf)
	}
	return m
}

// shareClean returns v in the heap: its service's shared clean memo when
// v is one (no rollback, no incident, its id no other source's), else a
// memo of its own.
func (d *Dataset) shareClean(x *Dep, v failMemo) *failMemo {
	if v.rollbackAt != math.MaxInt64 || len(v.incidents) > 0 || v.validFrom != math.MinInt64 {
		return &v
	}
	s := d.depSvc(x)
	if c := s.clean.Load(); c != nil && c.links == v.links {
		return c
	}
	c := &failMemo{links: v.links, validFrom: math.MinInt64, rollbackAt: math.MaxInt64}
	s.clean.Store(c)
	return c
}

// failAt computes a deployment's failure memo as of asOf.
func (d *Dataset) failAt(x *Dep, asOf int64) *failMemo {
	m := d.failValue(x, asOf)
	return &m
}

// failValue is failAt's memo, not yet in the heap.
func (d *Dataset) failValue(x *Dep, asOf int64) failMemo {
	m := failMemo{rollbackAt: math.MaxInt64}
	if r := d.firstRollback(x, asOf); r != nil {
		m.rollbackAt = r.Finished
	}
	m.incidents = d.attributedIncidents(x, asOf)
	if len(m.incidents) < 2 {
		return m
	}
	sort.Slice(m.incidents, func(a, b int) bool {
		ia, ib := m.incidents[a], m.incidents[b]
		if ia.Opened != ib.Opened {
			return ia.Opened < ib.Opened
		}
		return d.str(ia.id) < d.str(ib.id)
	})
	return m
}

// firstRollback is the deployment that rolled x back first as of asOf
// (the earliest to finish; of several finishing then, the lower id), or
// nil: what makes x fail as rolled back, and when.
func (d *Dataset) firstRollback(x *Dep, asOf int64) *Dep {
	var first *Dep
	for _, r := range d.rollbacksOf[x.id] {
		if d.rollsBack(r, x, asOf) && (first == nil || r.Finished < first.Finished || r.Finished == first.Finished && d.before(r, first)) {
			first = r
		}
	}
	return first
}

// rollsBack applies SPEC §2: only a production deployment of the same
// service, finished after x (and by asOf), whose rollback_of resolves to
// x, rolls x back. (Deployments of one service hold the same svc: the
// service's place in svcList.)
func (d *Dataset) rollsBack(r, x *Dep, asOf int64) bool {
	if r == x || !r.Prod || r.svc != x.svc || r.Finished <= x.Finished || r.Finished > asOf {
		return false
	}
	y, _ := d.resolveDepCode(r.rollbackOf, r.src, asOf)
	return y == x
}

// attributedIncidents returns every incident attributed to a deployment
// as of asOf.
func (d *Dataset) attributedIncidents(x *Dep, asOf int64) []*Inc {
	var out []*Inc
	add := func(i *Inc) {
		if i.Opened > asOf {
			return
		}
		if y, _, _ := d.IncidentDeploymentAsOf(i, asOf); y == x {
			out = append(out, i)
		}
	}
	for _, i := range d.incByCause[x.id] {
		add(i)
	}
	if x.cr != 0 {
		for _, i := range d.incByCR[x.cr] {
			add(i)
		}
	}
	if x.eligible() {
		if s := d.svcInc[d.depService(x)]; s != nil {
			for _, i := range s.between(x.Finished, x.Finished+int64(d.cfg.AttributionWindow)+1) {
				if i.causedBy == 0 && i.causedByCR == 0 {
					add(i)
				}
			}
		}
	}
	return out
}

// rolledBack applies SPEC §2: status rolled_back, or a later deployment
// that rolled it back had finished by asOf.
func (d *Dataset) rolledBack(x *Dep, asOf int64) bool {
	return x.Status == stRolledBack || d.failOf(x, asOf).rollbackAt <= asOf
}

// failed says why a deployment counts as failed as of asOf ("" if not).
func (d *Dataset) failed(x *Dep, asOf int64) string { return failWhy[d.failedCode(x, asOf)] }

// failedCode is failed's reason as a code (failWhy), which a window's
// deployments keep in a byte each (failWindowAt).
func (d *Dataset) failedCode(x *Dep, asOf int64) uint8 {
	switch {
	case x.Status == stFailure:
		return failStatus
	case d.rolledBack(x, asOf):
		return failRolledBack
	case len(d.incidentsOf(x, asOf)) > 0:
		return failIncident
	}
	return failNone
}

// Why a deployment failed, as failedCode says it.
const (
	failNone uint8 = iota
	failStatus
	failRolledBack
	failIncident
)

var failWhy = [...]string{
	failNone:       "",
	failStatus:     "status failure",
	failRolledBack: "rolled back",
	failIncident:   "caused an incident",
}

// prodInCount is how many production deployments finish in q's window
// when q has no scope (a slice's length, no walk), else 0: room for a
// drill-down's records before they are listed (Result.expectRecords).
func (d *Dataset) prodInCount(q Query) int {
	if q.Scope.Dim != "" {
		return 0
	}
	return len(d.prodBetween(q.start(), q.end()))
}

// prodFailIn is prodIn with why each deployment failed as of W's end (""
// when it did not). In the organisation's scope the reasons come from
// failWindowAt.
func (d *Dataset) prodFailIn(q Query, fn func(row *depRow, why string)) {
	if q.Scope.Dim != "" {
		asOf := q.end()
		d.prodIn(q, func(row *depRow) { fn(row, d.failed(d.depOf(row.i), asOf)) })
		return
	}
	start, end := q.start(), q.end()
	rows := d.prodBetween(start, end)
	codes := d.failWindowAt(start, end, rows)
	for i := range rows {
		fn(&rows[i], failWhy[codes[i]])
	}
}

// maxFailWindows bounds failWindows: a window holds a byte per production
// deployment (~40,000 in 30 days at scale 10), and a scorecard's trends
// ask for ~16.
const maxFailWindows = 128

// failWindowAt returns why each of rows — the production deployments
// finishing in [start, end) — failed as of end, as failedCode's codes,
// working them out when not kept. Change failure rate, its customer-
// weighted form and time to restore each asked it of every deployment of
// the same windows (a tenth of a first scorecard at scale 10). Kept
// windows reflect the data as it is: applying rows drops them all
// (cache.go).
func (d *Dataset) failWindowAt(start, end int64, rows []depRow) []uint8 {
	k := orgKey{start, end}
	if c := cachedIn(d, d.failWindows, k); c != nil && len(c) == len(rows) {
		return c
	}
	c := make([]uint8, len(rows))
	for i := range rows {
		c[i] = d.failedCode(d.depOf(rows[i].i), end)
	}
	keepIn(d, d.failWindows, k, c, maxFailWindows)
	return c
}

// Recovery states of a failed deployment.
const (
	recDone     uint8 = iota // recovered
	recOpen                  // not recovered (yet)
	recNegative              // its linked incidents were all resolved before it finished
)

// recovery returns when a failed deployment recovered (SPEC §3): the last
// resolution of its incidents (none may be open), else the next successful
// production deployment of the service. A last resolution before the
// deployment finished is a data problem (recNegative), not a recovery.
func (d *Dataset) recovery(x *Dep, asOf int64) (int64, uint8) {
	if incs := d.incidentsOf(x, asOf); len(incs) > 0 {
		var last int64
		for _, i := range incs {
			if i.Resolved == 0 || i.Resolved > asOf {
				return 0, recOpen
			}
			last = max(last, i.Resolved)
		}
		if last < x.Finished {
			return last, recNegative
		}
		return last, recDone
	}
	s := d.svcDeps[d.depService(x)]
	for j := s.index(x) + 1; j < len(s.items); j++ {
		y := s.items[j]
		if y.Finished > asOf {
			break
		}
		if y.Status == stSuccess && y.Finished > x.Finished {
			return y.Finished, recDone
		}
	}
	return 0, recOpen
}
