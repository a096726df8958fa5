package metrics

import (
	"iter"
	"maps"
	"math"
)

// The window-walk API: everything a metric function (the formula files:
// delivery.go, reliability.go, security.go, cost.go, customer.go,
// growth.go, stages.go, context.go) reads of the dataset. A metric asks for the rows
// of one kind whose time falls in a window — in time order, by service
// where that is how they are kept — and for the links between records
// (link.go: what a deployment shipped, whether it failed, when it
// recovered). It never reaches into the dataset's indexes, so the formula
// files do not change when the layout does (TestFormulasUseTheWalkAPI).
//
// Times are unix ns. Rows and handles passed to a metric are valid for
// the read they are passed in and must not be kept.

// Rows of the kinds held as rows, by event time (table.from, through, in,
// all: see rows.go).
func (d *Dataset) tickets() *table[ticketRow, *ticketRow]    { return d.rows.tickets }
func (d *Dataset) surveys() *table[surveyRow, *surveyRow]    { return d.rows.surveys }
func (d *Dataset) vulns() *table[vulnRow, *vulnRow]          { return d.rows.vulns }
func (d *Dataset) controls() *table[controlRow, *controlRow] { return d.rows.controls }
func (d *Dataset) costs() *table[costRow, *costRow]          { return d.rows.costs }
func (d *Dataset) usages() *table[usageRow, *usageRow]       { return d.rows.usages }
func (d *Dataset) budgets() *table[budgetRow, *budgetRow]    { return d.rows.budgets }
func (d *Dataset) subs() *table[subRow, *subRow]             { return d.rows.subs }
func (d *Dataset) opps() *table[oppRow, *oppRow]             { return d.rows.opps }
func (d *Dataset) leads() *table[leadRow, *leadRow]          { return d.rows.leads }
func (d *Dataset) quotas() *table[quotaRow, *quotaRow]       { return d.rows.quotas }
func (d *Dataset) spends() *table[spendRow, *spendRow]       { return d.rows.spends }
func (d *Dataset) targets() *table[targetRow, *targetRow]    { return d.rows.targets }
func (d *Dataset) measurements() *table[measurementRow, *measurementRow] {
	return d.rows.measures
}

// depOf returns the deployment a walk row (depRow) names by its row.
func (d *Dataset) depOf(i int32) *Dep { return d.deps.at(i) }

// str returns the string of a row's string table code ("" for 0).
func (d *Dataset) str(c uint32) string { return d.strs.str(c) }

// escalatedThrough yields the escalated tickets created at or before t,
// by creation.
func (d *Dataset) escalatedThrough(t int64) iter.Seq[*ticketRow] {
	return d.rows.tickets.walk(d.rows.escalated.between(math.MinInt64, t+1))
}

// leadsCreatedIn yields the leads created in [lo, hi), by creation.
func (d *Dataset) leadsCreatedIn(lo, hi int64) iter.Seq[*leadRow] {
	return d.rows.leads.walk(d.rows.leadsByCreated.between(lo, hi))
}

// leadsMQLIn yields the leads that reached MQL in [lo, hi), by then.
func (d *Dataset) leadsMQLIn(lo, hi int64) iter.Seq[*leadRow] {
	return d.rows.leads.walk(d.rows.leadsByMQL.between(lo, hi))
}

// oppsClosedIn yields the opportunities closed in [lo, hi), by closing.
func (d *Dataset) oppsClosedIn(lo, hi int64) iter.Seq[*oppRow] {
	return d.rows.opps.walk(d.rows.oppsByClosed.between(lo, hi))
}

// oppsClosingIn yields the opportunities whose close date (closeAt) is in
// [lo, hi), by it; those without one have none there unless lo ≤ 0.
func (d *Dataset) oppsClosingIn(lo, hi int64) iter.Seq[*oppRow] {
	return d.rows.opps.walk(d.rows.oppsByCloseAt.between(lo, hi))
}

// oppsNotClosedBy yields the opportunities not closed by t — never
// closed, or closed after it — and those closed before 1970: every
// opportunity open at t is among them, where walking them all read every
// deal the organisation ever closed.
func (d *Dataset) oppsNotClosedBy(t int64) iter.Seq[*oppRow] {
	s := d.rows.oppsByClosed
	return func(yield func(*oppRow) bool) {
		for _, part := range [][]int32{s.between(math.MinInt64, 1), s.between(t+1, math.MaxInt64)} {
			for o := range d.rows.opps.walk(part) {
				if !yield(o) {
					return
				}
			}
		}
	}
}

// ticketsCreatedIn yields the tickets created in [lo, hi), by event time
// (a ticket's event time is its creation or, later, its resolution, so
// the walk starts at lo and runs to the newest row).
func (d *Dataset) ticketsCreatedIn(lo, hi int64) iter.Seq[*ticketRow] {
	return func(yield func(*ticketRow) bool) {
		for t := range d.rows.tickets.from(lo) {
			if t.created >= lo && t.created < hi && !yield(t) {
				return
			}
		}
	}
}

// measurementsIn yields the measurements in the query's scope
// (matchMeasurement) taken in W — at in [as_of − window, as_of) — by at.
// A measurement's event time is its at, so the walk reads W's rows only.
func (d *Dataset) measurementsIn(q Query) iter.Seq[*measurementRow] {
	return func(yield func(*measurementRow) bool) {
		org := q.Scope.IsZero()
		for x := range d.rows.measures.in(q.start(), q.end()) {
			if (org || d.matchMeasurement(q, x)) && !yield(x) {
				return
			}
		}
	}
}

// deployment returns the deployment with this source and id, nil when
// there is none.
func (d *Dataset) deployment(source, id string) *Dep {
	c, ok := d.codeOf(id)
	if !ok {
		return nil
	}
	for x := range d.depsWithID(c) {
		if d.str(x.src) == source {
			return x
		}
	}
	return nil
}

// prodIn calls fn for the production deployments in scope finishing in W,
// in finishing order.
func (d *Dataset) prodIn(q Query, fn func(row *depRow)) {
	rows := d.prodDeps.between(q.start(), q.end())
	org := q.Scope.Dim == ""
	for i := range rows {
		if org || d.matchDep(q, d.depOf(rows[i].i)) {
			fn(&rows[i])
		}
	}
}

// prodBetween returns the production deployments of every scope finishing
// in [lo, hi), in finishing order. The slice must not be modified.
func (d *Dataset) prodBetween(lo, hi int64) []depRow { return d.prodDeps.between(lo, hi) }

// emergencies yields the emergency production deployments of all time, in
// no particular order.
func (d *Dataset) emergencies() iter.Seq[*Dep] { return maps.Keys(d.emergency) }

// incidentsOpened calls fn for the incidents in scope (by service and
// origin) opened in W.
func (d *Dataset) incidentsOpened(q Query, fn func(i *Inc)) {
	for _, i := range d.incByOpened.between(q.start(), q.end()) {
		if d.matchInc(q, i) {
			fn(i)
		}
	}
}

// openedBetween returns the incidents of every scope opened in [lo, hi),
// by opening. The slice must not be modified.
func (d *Dataset) openedBetween(lo, hi int64) []*Inc { return d.incByOpened.between(lo, hi) }

// resolvedBetween returns the incidents resolved in [lo, hi), by
// resolution.
func (d *Dataset) resolvedBetween(lo, hi int64) []*Inc { return d.incByRes.between(lo, hi) }

// postmortemsDueBetween returns the resolved customer-facing incidents
// whose post-mortem is due in [lo, hi), by due time.
func (d *Dataset) postmortemsDueBetween(lo, hi int64) []*Inc { return d.incByDue.between(lo, hi) }

// serviceOpenedBetween returns a service's incidents opened in [lo, hi).
func (d *Dataset) serviceOpenedBetween(service string, lo, hi int64) []*Inc {
	return d.svcInc[service].between(lo, hi)
}

// slisStarting returns the availability SLIs whose period starts in
// [lo, hi), by start.
func (d *Dataset) slisStarting(lo, hi int64) []*SLISample { return d.sliAll.between(lo, hi) }

// latencySLIsStarting returns the latency SLIs (synthetic checks among
// them) whose period starts in [lo, hi), by start.
func (d *Dataset) latencySLIsStarting(lo, hi int64) []*SLISample { return d.sliLatency.between(lo, hi) }

// matchCode is matchAttr for a value held as a string table code. The
// whole organisation's scope matches without looking the string up: its
// walks (every trend point's) looked up every row's value only to match
// it against no filter, a read of the string table's locations each.
func (d *Dataset) matchCode(q Query, dim string, c uint32) bool {
	if q.Scope.IsZero() {
		return true
	}
	return matchAttr(q, dim, d.str(c))
}

// matchServiceCode is matchService for a service held as a string table
// code, matching the whole organisation's scope without the lookup
// (matchCode).
func (d *Dataset) matchServiceCode(q Query, c uint32) bool {
	if q.Scope.IsZero() {
		return true
	}
	return d.matchService(q, d.str(c))
}

// depTierWeights returns what gives a deployment its service tier's
// weight under w, looking each service up once: a window at scale holds
// tens of thousands of deployments of a hundred services, each of which
// otherwise hashed its service's name to find the tier.
func (d *Dataset) depTierWeights(w tierWeights) func(x *Dep) float64 {
	weights := make([]float64, len(d.svcList)+1)
	known := make([]bool, len(d.svcList)+1)
	return func(x *Dep) float64 {
		if !known[x.svc] {
			weights[x.svc], known[x.svc] = w.of(d.serviceTier(d.depService(x))), true
		}
		return weights[x.svc]
	}
}

// serviceTier returns a service's tier; 0 when it has none (or no service
// record).
func (d *Dataset) serviceTier(service string) int {
	if s := d.Services[service]; s != nil {
		return s.Tier
	}
	return 0
}

// sloTarget returns a service's SLO target; ok is false when it has none.
func (d *Dataset) sloTarget(service string) (float64, bool) {
	s := d.Services[service]
	if s == nil || s.SLOTarget == 0 {
		return 0, false
	}
	return s.SLOTarget, true
}

// oppsWithID yields the opportunities carrying an id (several sources may
// reuse one).
func (d *Dataset) oppsWithID(id uint32) iter.Seq[*oppRow] {
	return func(yield func(*oppRow) bool) {
		for i := range chainRows(&d.rows.opps.rows, &d.rows.oppByID, id) {
			if !yield(d.rows.opps.at(i)) {
				return
			}
		}
	}
}
