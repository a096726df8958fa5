package metrics

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Problem is a data problem: something a record says that Candor cannot
// use as it stands — a reference that names no record or several, an
// incident blamed on a deployment outside production, a recovery that
// would end before the failure began. The record is left out of what it
// would have affected, and the problem is reported instead of hidden:
// on the drill-down of each metric it affects (Result.Problems) and,
// organisation-wide, by Dataset.Problems.
type Problem struct {
	// Kind, Source and ID name the record at fault.
	Kind   domain.Kind `json:"kind"`
	Source string      `json:"source"`
	ID     string      `json:"id"`
	// Field is the field whose value is the problem.
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s %s/%s %s: %s", p.Kind, p.Source, p.ID, p.Field, p.Reason)
}

func problemOrder(a, b Problem) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.Field, b.Field), cmp.Compare(a.Reason, b.Reason))
}

// sortProblems orders problems by record, then field, and drops repeats.
func sortProblems(ps []Problem) []Problem {
	slices.SortFunc(ps, problemOrder)
	return slices.Compact(ps)
}

// problem adds a data problem to a drill-down.
func (r *Result) problem(q Query, p Problem) {
	if q.Records {
		r.Problems = append(r.Problems, p)
	}
}

// ---------------------------------------------------------------- references

// refState is what a reference resolved to (SPEC §2).
type refState uint8

const (
	refFound refState = iota
	refUnknown
	refAmbiguous
)

// resolveRef applies SPEC §2's rule to the records carrying the id a
// reference names: the one of the naming record's source, else the only
// one. Only the records that exist (as of the time asked) take part.
func resolveRef[T, S comparable](all iter.Seq[T], src S, source func(T) S, exists func(T) bool) (T, refState) {
	var none, only T
	n := 0
	for x := range all {
		if !exists(x) {
			continue
		}
		if source(x) == src {
			return x, refFound
		}
		n++
		only = x
	}
	switch n {
	case 0:
		return none, refUnknown
	case 1:
		return only, refFound
	}
	return none, refAmbiguous
}

// noCode stands for a string no record holds: it equals no code.
const noCode = ^uint32(0)

// codeOrNone is the code of s, or noCode when no record holds s.
func (d *Dataset) codeOrNone(s string) uint32 {
	if c, ok := d.codeOf(s); ok {
		return c
	}
	return noCode
}

// resolveDep resolves a reference to a deployment id made by a record of
// source src, among the deployments that exist (have finished) by asOf.
func (d *Dataset) resolveDep(id, src string, asOf int64) (*Dep, refState) {
	c, ok := d.codeOf(id)
	if !ok {
		return nil, refUnknown
	}
	return d.resolveDepCode(c, d.codeOrNone(src), asOf)
}

// resolveDepCode is resolveDep with the id and source as codes.
func (d *Dataset) resolveDepCode(id, src uint32, asOf int64) (*Dep, refState) {
	i, ok := d.depByID.get(uint64(id))
	if !ok {
		return nil, refUnknown
	}
	if x := d.deps.at(i); x.next == 0 {
		// The common case, an id no other source uses, without the walk.
		if x.Finished <= asOf {
			return x, refFound
		}
		return nil, refUnknown
	}
	return resolveRef(d.depsWithID(id), src, func(x *Dep) uint32 { return x.src }, func(x *Dep) bool { return x.Finished <= asOf })
}

// resolveChange resolves a change id listed by a deployment of source src,
// among the changes merged by asOf; it returns the change's row, -1 when
// it resolves to nothing.
func (d *Dataset) resolveChange(id, src uint32, asOf int64) (int32, refState) {
	i, ok := d.changeByID.get(uint64(id))
	if !ok {
		return -1, refUnknown
	}
	if c := d.chgs.at(i); c.next == 0 {
		if d.chgMerged(i) <= asOf {
			return i, refFound
		}
		return -1, refUnknown
	}
	r, st := resolveRef(d.chgsWithID(id), src, func(i int32) uint32 { return d.chgs.at(i).srcCode() }, func(i int32) bool { return d.chgMerged(i) <= asOf })
	if st != refFound {
		return -1, st
	}
	return r, st
}

// resolveOpportunity resolves a lead's opportunity among the opportunities
// created by asOf.
func (d *Dataset) resolveOpportunity(id, src uint32, asOf int64) (*oppRow, refState) {
	return resolveRef(d.oppsWithID(id), src, func(o *oppRow) uint32 { return o.source },
		func(o *oppRow) bool { return o.created <= asOf })
}

// refProblem describes a reference that resolved to nothing; what is
// "deployment", "change" or "opportunity".
func refProblem(kind domain.Kind, source, id, field, what, target string, st refState) Problem {
	reason := fmt.Sprintf("names %s %s, which is not in the data", what, target)
	if st == refAmbiguous {
		reason = fmt.Sprintf("names %s %s, which several sources have and none of them is this record's source (%s)", what, target, source)
	}
	return Problem{Kind: kind, Source: source, ID: id, Field: field, Reason: reason + "; it links nothing"}
}

// ---------------------------------------------------------------- problems of a record

// listProblems calls fn for each change listed by an eligible production
// deployment that resolves to nothing as of asOf. The lists of other
// deployments are not read (SPEC §2), so they cannot be at fault.
func (d *Dataset) listProblems(x *Dep, asOf int64, fn func(Problem)) {
	if !x.eligible() {
		return
	}
	for _, id := range d.listed(x) {
		d.listProblem(x, id, asOf, fn)
	}
}

func (d *Dataset) listProblem(x *Dep, id uint32, asOf int64, fn func(Problem)) {
	if _, st := d.resolveChange(id, x.src, asOf); st != refFound {
		fn(refProblem(domain.KindDeployment, d.str(x.src), d.str(x.id), "changes", "change", d.strs.str(id), st))
	}
}

// rollbackProblem reports a rollback_of that resolves to nothing.
func (d *Dataset) rollbackProblem(x *Dep, asOf int64, fn func(Problem)) {
	if x.rollbackOf == 0 {
		return
	}
	if _, st := d.resolveDepCode(x.rollbackOf, x.src, asOf); st != refFound {
		fn(refProblem(domain.KindDeployment, d.str(x.src), d.str(x.id), "rollback_of", "deployment", d.strs.str(x.rollbackOf), st))
	}
}

// incidentProblem reports an incident's explicit reference that links
// nothing as of asOf.
func (d *Dataset) incidentProblem(i *Inc, asOf int64, fn func(Problem)) {
	if _, _, p := d.IncidentDeploymentAsOf(i, asOf); p != nil {
		fn(*p)
	}
}

// negativeRecovery reports a failed deployment whose recovery, as of asOf,
// is before it finished: its linked incidents were all resolved before
// it finished. The span is dropped from failed_deployment_recovery_time.
func (d *Dataset) negativeRecovery(x *Dep, at int64, fn func(Problem)) {
	var last *Inc
	for _, i := range d.incidentsOf(x, at) {
		if last == nil || i.Resolved > last.Resolved || (i.Resolved == last.Resolved && d.str(i.id) < d.str(last.id)) {
			last = i
		}
	}
	if last == nil {
		return
	}
	fn(Problem{Kind: domain.KindIncident, Source: d.str(last.src), ID: d.str(last.id), Field: "resolved_at",
		Reason: fmt.Sprintf("resolved at %s, %s before deployment %s it is linked to finished (%s); the negative recovery span is left out of failed_deployment_recovery_time",
			rfc(last.Resolved), time.Duration(x.Finished-last.Resolved), d.str(x.id), rfc(x.Finished))})
}

func rfc(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339) }

// ---------------------------------------------------------------- organisation-wide

// Problems lists every data problem as of asOf, in record order: the
// references of the records that exist then which resolve to nothing
// (changes, caused_by, caused_by_change_request, rollback_of, release, a
// lead's opportunity), incidents blamed on a deployment outside
// production, and failed deployments whose recovery would be negative.
// It looks only where a problem can be: references to an id that several
// sources share, or whose record did not exist at some time (see
// doubtful), and every record a cheaper test cannot clear.
func (d *Dataset) Problems(asOf time.Time) []Problem {
	at := asOf.UnixNano()
	var out []Problem
	add := func(p Problem) { out = append(out, p) }
	// clear reports whether every reference to id (a code) made by
	// records that exist at asOf resolves: one deployment has the id and
	// it existed by then (of production, for a cause).
	clear := func(id uint32, prod bool) bool {
		i, ok := d.depByID.get(uint64(id))
		if !ok {
			return false
		}
		x := d.deps.at(i)
		return x.next == 0 && x.Finished <= at && (x.Prod || !prod)
	}
	for id := range d.doubtful {
		d.listing(id, func(x *Dep) {
			if x.Finished <= at {
				d.listProblem(x, id, at, add)
			}
		})
	}
	for id, rs := range d.rollbacksOf {
		if clear(id, false) {
			continue
		}
		for _, r := range rs {
			if r.Finished <= at {
				d.rollbackProblem(r, at, add)
			}
		}
	}
	incidents := func(incs []*Inc) {
		for _, i := range incs {
			if i.Opened <= at {
				d.incidentProblem(i, at, add)
			}
		}
	}
	for id, incs := range d.incByCause {
		if !clear(id, true) {
			incidents(incs)
		}
	}
	for _, incs := range d.incByCR {
		incidents(incs)
	}
	// A negative recovery needs an incident resolved before the
	// deployment it is linked to finished.
	negative := map[*Dep]bool{}
	for _, i := range d.incByRes.between(-1<<63, at+1) {
		if i.Opened > at {
			continue
		}
		if x, _, _ := d.IncidentDeploymentAsOf(i, at); x != nil && i.Resolved < x.Finished && !negative[x] {
			negative[x] = true
			if _, st := d.recovery(x, at); st == recNegative && d.failed(x, at) != "" {
				d.negativeRecovery(x, at, add)
			}
		}
	}
	release := func(kind domain.Kind, source, id, rel string) {
		if _, st := d.resolveDep(rel, source, at); st != refFound {
			add(refProblem(kind, source, id, "release", "deployment", rel, st))
		}
	}
	for id, ts := range d.rows.ticketsByRelease {
		if clear(id, false) {
			continue
		}
		for t := range d.rows.tickets.walk(ts) {
			if t.created <= at {
				release(domain.KindTicket, d.str(t.source), d.str(t.id), d.str(t.release))
			}
		}
	}
	for s := range d.rows.surveys.all() {
		if s.release != 0 && s.at <= at {
			release(domain.KindSurvey, d.str(s.source), d.str(s.id), d.str(s.release))
		}
	}
	for l := range d.rows.leads.all() {
		if l.opportunity == 0 || l.created > at {
			continue
		}
		if _, st := d.resolveOpportunity(l.opportunity, l.source, at); st != refFound {
			add(refProblem(domain.KindLead, d.str(l.source), d.str(l.id), "opportunity", "opportunity", d.str(l.opportunity), st))
		}
	}
	return sortProblems(out)
}
