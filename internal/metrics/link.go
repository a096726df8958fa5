package metrics

import (
	"math"
	"sort"
)

// Linking rules of SPEC §2, evaluated on demand from the indexes so that
// a new record changes every dependent link at once, with nothing stored
// to go stale.

// Link methods.
const (
	Explicit = "explicit"
	Inferred = "inferred"
)

// pick prefers a record of the same source when an id is reused across
// sources.
func pickDep(head *Dep, source string) *Dep {
	for x := head; x != nil; x = x.next {
		if x.Source == source {
			return x
		}
	}
	return head
}

// explicitDeployment returns the earliest eligible production deployment
// whose changes list the change (failed ones ship nothing; see listedBy).
func (d *Dataset) explicitDeployment(changeID string) *Dep {
	var best *Dep
	d.listing(changeID, func(x *Dep) {
		if best == nil || x.Finished < best.Finished || (x.Finished == best.Finished && x.ID < best.ID) {
			best = x
		}
	})
	return best
}

// explicitAsOf is the change's explicit deployment if it had finished by
// asOf. Before the listing deployment exists nobody could know the list
// (SPEC §3: an event after as_of has not happened), so until then the
// change is linked by inference. This also means a record only ever
// changes results as of its own time or later, which keeps cached
// results of earlier windows valid.
func explicitAsOf(c *Chg, asOf int64) *Dep {
	if c.explicit != nil && c.explicit.Finished <= asOf {
		return c.explicit
	}
	return nil
}

// ChangeDeployment returns the deployment that shipped a change, and how
// the link was made, as of all data; nil when not (yet) deployed.
func (d *Dataset) ChangeDeployment(c *Chg) (*Dep, string) {
	return d.ChangeDeploymentAsOf(c, 1<<63-1)
}

// ChangeDeploymentAsOf is ChangeDeployment as known at asOf.
func (d *Dataset) ChangeDeploymentAsOf(c *Chg, asOf int64) (*Dep, string) {
	if x := explicitAsOf(c, asOf); x != nil {
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

// changesOf calls fn for every change the deployment shipped.
func (d *Dataset) changesOf(x *Dep, asOf int64, fn func(c *Chg, method string)) {
	if !x.eligible() {
		return
	}
	for _, id := range x.Changes {
		for c := d.changeByID[id]; c != nil; c = c.next {
			if c.explicit == x {
				fn(c, Explicit)
			}
		}
	}
	// Changes merged in x's inferred range are x's, unless a deployment
	// lists them explicitly.
	d.inferredRange(x, func(c *Chg) {
		if explicitAsOf(c, asOf) == nil {
			fn(c, Inferred)
		}
	})
}

// inferredRange calls fn for the changes of x's service merged in
// (previous eligible deployment, x]. When two deployments finish at the
// same instant the range of the second is empty: the first took them.
func (d *Dataset) inferredRange(x *Dep, fn func(c *Chg)) {
	s := d.svcElig[x.Service]
	i := s.index(x)
	lo := int64(-1 << 63)
	if i > 0 {
		lo = s.items[i-1].Finished
	}
	cs := d.svcChanges[x.Service]
	if cs == nil {
		return
	}
	for j := cs.upperBound(lo); j < len(cs.items); j++ {
		c := cs.items[j]
		if c.Merged > x.Finished {
			break
		}
		fn(c)
	}
}

// IncidentDeployment returns the deployment an incident is attributed to,
// how, and a data problem when an explicit reference is unknown.
func (d *Dataset) IncidentDeployment(i *Inc) (*Dep, string, string) {
	if i.CausedBy != "" {
		x := pickDep(d.depByID[i.CausedBy], i.Source)
		if x == nil {
			return nil, Explicit, "caused_by refers to unknown deployment " + i.CausedBy
		}
		return x, Explicit, ""
	}
	if i.CausedByCR != "" {
		var best *Dep
		for _, x := range d.depsByCR[i.CausedByCR] {
			// The deployment of that change request that was live when the
			// incident opened: the latest finished before it, else the
			// earliest one.
			switch {
			case best == nil:
				best = x
			case x.Finished <= i.Opened && (best.Finished > i.Opened || x.Finished > best.Finished):
				best = x
			case x.Finished > i.Opened && best.Finished > i.Opened && x.Finished < best.Finished:
				best = x
			}
		}
		if best == nil {
			return nil, Explicit, "caused_by_change_request refers to unknown change request " + i.CausedByCR
		}
		return best, Explicit, ""
	}
	s := d.svcElig[i.Service]
	if s == nil {
		return nil, "", ""
	}
	k := s.upperBound(i.Opened) - 1
	if k >= 0 && s.items[k].Finished >= i.Opened-int64(d.cfg.AttributionWindow) {
		return s.items[k], Inferred, ""
	}
	return nil, "", ""
}

// incidentsOf returns the incidents attributed to a deployment that were
// opened by asOf, in opening order.
func (d *Dataset) incidentsOf(x *Dep, asOf int64) []*Inc {
	incs := d.failOf(x).incidents
	n := sort.Search(len(incs), func(k int) bool { return incs[k].Opened > asOf })
	return incs[:n:n]
}

// failMemo is what decides whether and when a deployment failed, as of all
// data: the earliest finish of a deployment rolling it back, and the
// incidents attributed to it. It is valid while its service's generation
// and failure generation are unchanged; the latter moves for the records
// that point at a deployment from anywhere (incidents, rollbacks,
// change requests, reused ids — see bumpFailLinks).
type failMemo struct {
	links      uint64
	rollbackAt int64
	incidents  []*Inc
}

func (d *Dataset) failOf(x *Dep) *failMemo {
	if m := x.fail.Load(); m != nil && m.links == x.svc.failGen {
		return m
	}
	d.memoized.Store(true)
	m := &failMemo{links: x.svc.failGen, rollbackAt: math.MaxInt64}
	for _, r := range d.rollbacksOf[x.ID] {
		if r != x {
			m.rollbackAt = min(m.rollbackAt, r.Finished)
		}
	}
	m.incidents = d.attributedIncidents(x)
	sort.Slice(m.incidents, func(a, b int) bool {
		ia, ib := m.incidents[a], m.incidents[b]
		if ia.Opened != ib.Opened {
			return ia.Opened < ib.Opened
		}
		return ia.ID < ib.ID
	})
	// Racing readers store equal memos: the data determines them.
	x.fail.Store(m)
	return m
}

// attributedIncidents returns every incident attributed to a deployment.
func (d *Dataset) attributedIncidents(x *Dep) []*Inc {
	var out []*Inc
	add := func(i *Inc) {
		if y, _, _ := d.IncidentDeployment(i); y == x {
			out = append(out, i)
		}
	}
	for _, i := range d.incByCause[x.ID] {
		add(i)
	}
	if x.ChangeRequest != "" {
		for _, i := range d.incByCR[x.ChangeRequest] {
			add(i)
		}
	}
	if x.eligible() {
		if s := d.svcInc[x.Service]; s != nil {
			for _, i := range s.between(x.Finished, x.Finished+int64(d.cfg.AttributionWindow)+1) {
				if i.CausedBy == "" && i.CausedByCR == "" {
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
	return x.Status == stRolledBack || d.failOf(x).rollbackAt <= asOf
}

// failed says why a deployment counts as failed as of asOf ("" if not).
func (d *Dataset) failed(x *Dep, asOf int64) string {
	switch {
	case x.Status == stFailure:
		return "status failure"
	case d.rolledBack(x, asOf):
		return "rolled back"
	case len(d.incidentsOf(x, asOf)) > 0:
		return "caused an incident"
	}
	return ""
}

// recovery returns when a failed deployment recovered (SPEC §3): the last
// resolution of its incidents (none may be open), else the next successful
// production deployment of the service.
func (d *Dataset) recovery(x *Dep, asOf int64) (int64, bool) {
	if incs := d.incidentsOf(x, asOf); len(incs) > 0 {
		var last int64
		for _, i := range incs {
			if i.Resolved == 0 || i.Resolved > asOf {
				return 0, false
			}
			last = max(last, i.Resolved)
		}
		return last, true
	}
	s := d.svcDeps[x.Service]
	for j := s.index(x) + 1; j < len(s.items); j++ {
		y := s.items[j]
		if y.Finished > asOf {
			break
		}
		if y.Status == stSuccess {
			return y.Finished, true
		}
	}
	return 0, false
}
