package metrics

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/candor/candor/internal/domain"
)

// No value without data (SPEC §4): when no record of a kind a metric
// requires exists at or before as_of — in the scope asked for — the value
// is null, never 0. A count or a sum is 0 only when its source is known to
// have sent data and nothing qualified. The rule is applied once, in
// compute, to every metric; the metric functions keep computing their
// plain definitions and need not know it.

// Def.Requires lists the kinds each metric's value needs, matched in a
// scope the way the metric matches them. A kind that only refines a value
// (incidents for change failure rate: deployments fail on their own status
// too; a target beside a count) is not listed: its absence does not make
// the value unknowable. Nor are changes for lead time: a scope reaches them
// through the deployment that shipped them, of any service, and without
// changes the median is empty anyway. TestEveryMetricRequires checks every
// metric lists some, each one it reads (so the result cache sees its
// arrival).

// applyNoData nulls a result whose required data does not exist as of the
// query, saying which kind is missing (Detail.Reason).
func (d *Dataset) applyNoData(def *Def, q Query, r *Result) {
	for _, k := range def.Requires {
		if d.present(k, q) {
			continue
		}
		r.Value = nil
		// A DORA level judges the value; without one there is none.
		r.Detail.DORALevel = ""
		// And what the security metrics count beside it counted the
		// same missing records: "Last 30 days: 0 security incidents"
		// beside "never sent" read as none happened.
		r.Detail.LastThirtyDays, r.Detail.BySeverity, r.Detail.Failing, r.Detail.Frameworks = nil, nil, nil, nil
		where := ""
		for i, f := range q.Scope.Filters() {
			if i == 0 {
				where = " for "
			} else {
				where += " and "
			}
			where += f.Dim + " " + f.Value
		}
		r.Detail.Reason = fmt.Sprintf("no %s data%s at or before %s", k, where, q.AsOf.UTC().Format(time.RFC3339))
		return
	}
}

// ---------------------------------------------------------------- presence index

// presence answers "does a record of kind K exist at or before t in this
// scope" without scanning records: per kind, the earliest defining time
// (SPEC §3 conventions: a record exists from its defining time; period
// kinds from period_start) of any record, and of any record with each
// value of the attributes scopes filter on. Apply keeps the minima; a
// replaced record that held one and moved marks its kind for a rebuild
// in Prepare (rare: a record's defining time and scope attributes seldom
// change).
type presence struct {
	kinds map[domain.Kind]*kindPresence
	stale map[domain.Kind]bool
}

type kindPresence struct {
	first int64             // earliest defining time of any record
	by    map[attrVal]int64 // earliest per attribute value
}

// attrVal is one scope attribute of a record; value is named as
// breakdowns name it ("(none)" when empty).
type attrVal struct{ attr, value string }

// presenceAttrs are the attributes, per kind, that scopes filter on (as
// the metrics match them: service for service, team and tier scopes). A
// kind without the scope's attribute is not narrowed by that scope, as in
// matchAttr.
var presenceAttrs = map[domain.Kind][]string{
	domain.KindDeployment:    {"service", "environment"},
	domain.KindChange:        {"service"},
	domain.KindIncident:      {"service", "origin"},
	domain.KindSLI:           {"service"},
	domain.KindVulnerability: {"service", "package"},
	domain.KindCost:          {"service", "category"},
	domain.KindUsage:         {"service"},
	domain.KindBudget:        {"category"},
	domain.KindTicket:        {"priority", "segment", "customer"},
	domain.KindControl:       {"framework"},
	domain.KindSubscription:  {"plan", "segment"},
	domain.KindOpportunity:   {"owner"},
	domain.KindQuota:         {"owner"},
	domain.KindLead:          {"channel", "campaign"},
	domain.KindMeasurement:   {"service", "team", "segment"},
}

// presenceOf returns a record's defining time and scope attributes, for
// the kinds not held as rows (row.presence has theirs); ok is false for
// records that never count (services, which exist always).
func (d *Dataset) presenceOf(r domain.Record) (t int64, attrs []attrVal, ok bool) {
	t = bornAt(r)
	switch r := r.(type) {
	case *domain.Deployment:
		env, _ := d.cfg.environment(r)
		return t, []attrVal{{"service", valueOrNone(r.Service)}, {"environment", valueOrNone(env)}}, true
	case *domain.Change:
		return t, svcAttr(r.Service), true
	case *domain.Incident:
		return t, incAttrs(r.Service, r.Origin), true
	case *domain.SLI:
		return t, svcAttr(r.Service), true
	}
	return 0, nil, false
}

// heldPresence is what the dataset holds for the record a new one
// replaces, in presenceOf's terms; ok is false when it holds none.
func (d *Dataset) heldPresence(h held) (t int64, attrs []attrVal, ok bool) {
	switch {
	case h.dep != nil:
		return h.dep.Finished, d.depAttrs(h.dep), true
	case h.chg >= 0:
		return d.chgMerged(h.chg), svcAttr(d.str(d.chgs.at(h.chg).svc)), true
	case h.inc != nil:
		return h.inc.Opened, incAttrs(d.str(h.inc.svc), d.str(h.inc.origin)), true
	case h.sli != nil:
		return h.sli.Start, svcAttr(d.str(h.sli.svc)), true
	}
	return 0, nil, false
}

func svcAttr(s string) []attrVal { return []attrVal{{"service", valueOrNone(s)}} }

func incAttrs(service, origin string) []attrVal {
	return []attrVal{{"service", valueOrNone(service)}, {"origin", valueOrNone(origin)}}
}

func (d *Dataset) depAttrs(x *Dep) []attrVal {
	return []attrVal{{"service", valueOrNone(d.depService(x))}, {"environment", valueOrNone(d.str(x.env))}}
}

// notePresence updates the index for a record about to be applied.
func (d *Dataset) notePresence(r domain.Record, h held) {
	d.presenceKinds()
	kind := r.Kind()
	t, attrs, ok := d.presenceOf(r)
	if ot, oattrs, held := d.heldPresence(h); held && d.holdsMinimum(kind, ot, oattrs) &&
		(!ok || t != ot || !sameAttrs(attrs, oattrs)) {
		d.presence.stale[kind] = true
	}
	if ok {
		d.presence.add(kind, t, attrs)
	}
}

// presenceKinds makes the index's maps.
func (d *Dataset) presenceKinds() {
	if d.presence.kinds == nil {
		d.presence.kinds = map[domain.Kind]*kindPresence{}
		d.presence.stale = map[domain.Kind]bool{}
	}
}

// holdsMinimum reports whether a record with these presence values is
// what one of the index's minima rests on.
func (d *Dataset) holdsMinimum(kind domain.Kind, t int64, attrs []attrVal) bool {
	p := d.presence.kinds[kind]
	if p == nil {
		return false
	}
	if p.first == t {
		return true
	}
	for _, a := range attrs {
		if p.by[a] == t {
			return true
		}
	}
	return false
}

func sameAttrs(a, b []attrVal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *presence) add(kind domain.Kind, t int64, attrs []attrVal) {
	kp := p.kinds[kind]
	if kp == nil {
		kp = &kindPresence{first: math.MaxInt64, by: map[attrVal]int64{}}
		p.kinds[kind] = kp
	}
	kp.first = min(kp.first, t)
	for _, a := range attrs {
		if old, ok := kp.by[a]; !ok || t < old {
			kp.by[a] = t
		}
	}
}

// since reports whether a record with the attribute value exists at or
// before t.
func (kp *kindPresence) since(a attrVal, t int64) bool {
	first, ok := kp.by[a]
	return ok && first <= t
}

// rebuildPresence recomputes the kinds marked stale from the records held.
func (d *Dataset) rebuildPresence() {
	for kind := range d.presence.stale {
		delete(d.presence.kinds, kind)
		switch kind {
		case domain.KindDeployment:
			for x := range d.allDeps() {
				d.presence.add(kind, x.Finished, d.depAttrs(x))
			}
		case domain.KindChange:
			for i := range d.allChanges() {
				d.presence.add(kind, d.chgMerged(i), svcAttr(d.strs.str(d.chgs.at(i).svc)))
			}
		case domain.KindIncident:
			for _, x := range d.incidents {
				d.presence.add(kind, x.Opened, incAttrs(d.str(x.svc), d.str(x.origin)))
			}
		case domain.KindSLI:
			for _, x := range d.slis {
				d.presence.add(kind, x.Start, svcAttr(d.str(x.svc)))
			}
		default:
			if t := d.rows.byKind[kind]; t != nil {
				t.eachPresence(func(born int64, attrs []attrVal) { d.presence.add(kind, born, attrs) })
			}
		}
	}
	clear(d.presence.stale)
}

// present reports whether a record of the kind exists at or before the
// query's as_of within its scope. Service, team and tier scopes match
// records by their service, as matchService does; a scope on a dimension
// the kind does not carry does not narrow it. Under several filters the
// service-level ones (service, team, tier) must hold for one and the same
// service; the others (environment, category, …) are checked each on its
// own, since the index keeps no combinations — a scope that holds each
// filter's value but never their pair counts as present, so a count there
// is 0 rather than null.
func (d *Dataset) present(kind domain.Kind, q Query) bool {
	kp := d.presence.kinds[kind]
	asOf := q.end()
	// A full vulnerability scan is data of the organisation's
	// vulnerabilities, a clean one too: it says what is open — and, run
	// for a service, what is open there (scannedIn).
	if kind == domain.KindVulnerability && d.scannedIn(q.Scope, asOf) {
		return true
	}
	if kp == nil || kp.first > asOf {
		return false
	}
	carries := func(attr string) bool { return slices.Contains(presenceAttrs[kind], attr) }
	var svcFilters []Filter
	for _, f := range q.Scope.Filters() {
		switch {
		case f.Dim == "team" && carries("team") && kp.since(attrVal{"team", f.Value}, asOf):
			// A record naming the team itself (a measurement) is in it
			// whatever its service.
		case f.Dim == "service" || f.Dim == "team" || f.Dim == "tier" || f.Dim == "business_unit":
			if carries("service") {
				svcFilters = append(svcFilters, f)
			}
		case carries(f.Dim):
			t, ok := kp.by[attrVal{f.Dim, f.Value}]
			if !ok || t > asOf {
				return false
			}
		}
	}
	if len(svcFilters) == 0 {
		return true
	}
	if len(svcFilters) == 1 && svcFilters[0].Dim == "service" {
		t, ok := kp.by[attrVal{"service", svcFilters[0].Value}]
		return ok && t <= asOf
	}
	// A team, tier or business unit (or several service-level filters): any service that
	// satisfies them all.
	for a, t := range kp.by {
		if a.attr != "service" || t > asOf {
			continue
		}
		all := true
		for _, f := range svcFilters {
			if valueOrNone(d.ServiceAttr(a.value, f.Dim)) != f.Value {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
