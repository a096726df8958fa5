package metrics

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// rowKind applies, replaces and removes one kind's records as rows,
// keeping the kind's times, the cache's dirty times and the presence
// index in step; hook and unhook keep the kind's own indexes (tickets by
// release, escalated tickets, opportunities by id).
type rowKind[R any, P interface {
	*R
	row
}] struct {
	kind   domain.Kind
	t      *table[R, P]
	conv   func(d *Dataset, r domain.Record) R
	hook   func(d *Dataset, i int32)
	unhook func(d *Dataset, i int32)
}

// kindTable is a rowKind whatever its row type.
type kindTable interface {
	apply(d *Dataset, r domain.Record)
	remove(d *Dataset, k recKey)
	count() int
	eachPresence(fn func(born int64, attrs []attrVal))
	timeOrder() *sorted[int32] // the rows by event time
	// writeState and readState write and read back its table (state.go).
	writeState(w *stateWriter)
	readState(r *stateReader)
	// setChunkMemory gives the table's slab memory outside the heap.
	setChunkMemory(m ChunkMemory)
}

func (k *rowKind[R, P]) apply(d *Dataset, rec domain.Record) {
	r := k.conv(d, rec)
	p := P(&r)
	born, at, ok := p.presence(d.strs)
	if i, held := k.t.slotOf(p); held {
		k.forget(d, i, func(ob int64, oattrs []attrVal) bool {
			return !ok || ob != born || !sameAttrs(oattrs, at)
		})
	}
	d.timesOf(k.kind).add(p.life())
	p.stamps(func(n int64) { d.touchNs(k.kind, n) })
	if ok {
		d.presenceKinds()
		d.presence.add(k.kind, born, at)
	}
	i := k.t.put(r)
	if k.hook != nil {
		k.hook(d, i)
	}
}

func (k *rowKind[R, P]) remove(d *Dataset, key recKey) {
	if i, held := k.t.slot(key); held {
		k.forget(d, i, func(int64, []attrVal) bool { return true })
	}
}

// forget takes the row in slot i out: its times, its dirty times, and —
// when it held one of the presence index's minima and moved
// (changed reports whether it did) — the kind's presence, rebuilt at
// Prepare.
func (k *rowKind[R, P]) forget(d *Dataset, i int32, changed func(born int64, attrs []attrVal) bool) {
	old := P(k.t.at(i))
	d.timesOf(k.kind).remove(old.life())
	old.stamps(func(n int64) { d.touchNs(k.kind, n) })
	if ob, oattrs, ok := old.presence(d.strs); ok && d.holdsMinimum(k.kind, ob, oattrs) && changed(ob, oattrs) {
		d.presence.stale[k.kind] = true
	}
	if k.unhook != nil {
		k.unhook(d, i)
	}
	k.t.drop(i)
}

func (k *rowKind[R, P]) count() int { return k.t.len() }

func (k *rowKind[R, P]) timeOrder() *sorted[int32] { return k.t.order }

func (k *rowKind[R, P]) writeState(w *stateWriter) {
	writeSlab(w, &k.t.rows)
	writeIndex(w, &k.t.byKey)
	writeOrder(w, k.t.order)
}

func (k *rowKind[R, P]) setChunkMemory(m ChunkMemory) { k.t.rows.setMem(m) }

func (k *rowKind[R, P]) readState(r *stateReader) {
	readSlab(r, &k.t.rows)
	readIndex(r, &k.t.byKey)
	readOrder(r, k.t.order)
}

func (k *rowKind[R, P]) eachPresence(fn func(int64, []attrVal)) {
	for r := range k.t.live() {
		if born, at, ok := r.presence(k.t.strs); ok {
			fn(born, at)
		}
	}
}

// rowTables are the dataset's row kinds.
type rowTables struct {
	tickets  *table[ticketRow, *ticketRow]
	surveys  *table[surveyRow, *surveyRow]
	vulns    *table[vulnRow, *vulnRow]
	controls *table[controlRow, *controlRow]
	costs    *table[costRow, *costRow]
	usages   *table[usageRow, *usageRow]
	budgets  *table[budgetRow, *budgetRow]
	subs     *table[subRow, *subRow]
	opps     *table[oppRow, *oppRow]
	leads    *table[leadRow, *leadRow]
	quotas   *table[quotaRow, *quotaRow]
	spends   *table[spendRow, *spendRow]
	targets  *table[targetRow, *targetRow]
	measures *table[measurementRow, *measurementRow]

	byKind map[domain.Kind]kindTable

	// ticketsByRelease holds the slots of the tickets naming each
	// release, in creation order (then id, source) whatever order they
	// came in: a drill-down lists them so, and must read the same in
	// every process holding the same records.
	ticketsByRelease map[uint32][]int32 // by the release's code
	escalated        *sorted[int32]     // escalated tickets by creation
	// Leads and opportunities by one of their times: a row's event time
	// is its latest, so a window on another time walked by event time ran
	// on to the newest row — for a trend point weeks back, most of them.
	// A funnel cohort is the leads created in a window, MQL volume those
	// reaching MQL in it; win rate, cycle and velocity read the deals
	// closed in it, pipeline coverage those due to close in the quota
	// period. The slots of every row, by that time (byOrders lists them).
	leadsByCreated, leadsByMQL  *sorted[int32]
	oppsByClosed, oppsByCloseAt *sorted[int32]
	oppByID                     rowIndex // the first opportunity of each id; namesakes chained (chain.go)
}

func rowKindOf[R any, P interface {
	*R
	row
}](strs *strtab, t **table[R, P], kind domain.Kind, conv func(d *Dataset, r domain.Record) R) *rowKind[R, P] {
	*t = newTable[R, P](strs)
	return &rowKind[R, P]{kind: kind, t: *t, conv: conv}
}

func (d *Dataset) initRows() {
	o := &d.rows
	tk := rowKindOf(d.strs, &o.tickets, domain.KindTicket, convTicket)
	tk.hook, tk.unhook = (*Dataset).hookTicket, (*Dataset).unhookTicket
	op := rowKindOf(d.strs, &o.opps, domain.KindOpportunity, convOpp)
	op.hook, op.unhook = (*Dataset).hookOpp, (*Dataset).unhookOpp
	ld := rowKindOf(d.strs, &o.leads, domain.KindLead, convLead)
	ld.hook = func(d *Dataset, i int32) {
		d.rows.leadsByCreated.add(i)
		d.rows.leadsByMQL.add(i)
	}
	ld.unhook = func(d *Dataset, i int32) {
		d.rows.leadsByCreated.remove(i)
		d.rows.leadsByMQL.remove(i)
	}
	o.byKind = map[domain.Kind]kindTable{
		domain.KindTicket:        tk,
		domain.KindSurvey:        rowKindOf(d.strs, &o.surveys, domain.KindSurvey, convSurvey),
		domain.KindVulnerability: rowKindOf(d.strs, &o.vulns, domain.KindVulnerability, convVuln),
		domain.KindControl:       rowKindOf(d.strs, &o.controls, domain.KindControl, convControl),
		domain.KindCost:          rowKindOf(d.strs, &o.costs, domain.KindCost, convCost),
		domain.KindUsage:         rowKindOf(d.strs, &o.usages, domain.KindUsage, convUsage),
		domain.KindBudget:        rowKindOf(d.strs, &o.budgets, domain.KindBudget, convBudget),
		domain.KindSubscription:  rowKindOf(d.strs, &o.subs, domain.KindSubscription, convSub),
		domain.KindOpportunity:   op,
		domain.KindLead:          ld,
		domain.KindQuota:         rowKindOf(d.strs, &o.quotas, domain.KindQuota, convQuota),
		domain.KindSpend:         rowKindOf(d.strs, &o.spends, domain.KindSpend, convSpend),
		domain.KindTarget:        rowKindOf(d.strs, &o.targets, domain.KindTarget, convTarget),
		domain.KindMeasurement:   rowKindOf(d.strs, &o.measures, domain.KindMeasurement, convMeasurement),
	}
	o.ticketsByRelease = map[uint32][]int32{}
	o.escalated = newSortedBy(func(i int32) int64 { return o.tickets.at(i).created }, func(i int32) string { return d.str(o.tickets.at(i).id) })
	leadBy := func(t func(*leadRow) int64) *sorted[int32] {
		return newSortedBy(func(i int32) int64 { return t(o.leads.at(i)) }, func(i int32) string { return d.str(o.leads.at(i).id) })
	}
	oppBy := func(t func(*oppRow) int64) *sorted[int32] {
		return newSortedBy(func(i int32) int64 { return t(o.opps.at(i)) }, func(i int32) string { return d.str(o.opps.at(i).id) })
	}
	o.leadsByCreated = leadBy(func(l *leadRow) int64 { return l.created })
	o.leadsByMQL = leadBy(func(l *leadRow) int64 { return l.mql })
	o.oppsByClosed = oppBy(func(x *oppRow) int64 { return x.closed })
	o.oppsByCloseAt = oppBy((*oppRow).closeAt)
	o.oppByID.keyOf = func(i int32) uint64 { return uint64(o.opps.at(i).id) }
}

// byOrders are the orders of leads and opportunities by one of their
// times, in the order the state writes them.
func (o *rowTables) byOrders() []*sorted[int32] {
	return []*sorted[int32]{o.leadsByCreated, o.leadsByMQL, o.oppsByClosed, o.oppsByCloseAt}
}

func (d *Dataset) ticketOrder(a, b int32) int {
	x, y := d.rows.tickets.at(a), d.rows.tickets.at(b)
	return cmp.Or(cmp.Compare(x.created, y.created), cmp.Compare(d.str(x.id), d.str(y.id)), cmp.Compare(d.str(x.source), d.str(y.source)))
}

func (d *Dataset) hookTicket(i int32) {
	t := d.rows.tickets.at(i)
	// Open escalations walk the escalated tickets only.
	if t.escalated() {
		d.rows.escalated.add(i)
	}
	if t.release == 0 {
		return
	}
	// Release impact looks tickets up by the deployment they name, so it
	// costs per release, not per ticket in the baseline period.
	l := d.rows.ticketsByRelease[t.release]
	at, _ := slices.BinarySearchFunc(l, i, d.ticketOrder)
	d.rows.ticketsByRelease[t.release] = slices.Insert(l, at, i)
	for x := range d.depsWithID(t.release) {
		if !x.hasTickets && x.Prod {
			d.ticketRows = append(d.ticketRows, x)
		}
		x.hasTickets = true
		d.dropMemos(x, memoImpact)
	}
}

func (d *Dataset) unhookTicket(i int32) {
	t := d.rows.tickets.at(i)
	if t.release != 0 {
		removeFrom(d.rows.ticketsByRelease, t.release, i)
		d.forgetImpact(t.release)
	}
	if t.escalated() {
		d.rows.escalated.remove(i)
	}
}

// The funnel finds a lead's opportunity by id, not by scanning history.
func (d *Dataset) hookOpp(i int32) {
	o := d.rows.opps.at(i)
	chainAppend(&d.rows.opps.rows, &d.rows.oppByID, o.id, i)
	d.rows.oppsByClosed.add(i)
	d.rows.oppsByCloseAt.add(i)
}

func (d *Dataset) unhookOpp(i int32) {
	chainRemove(&d.rows.opps.rows, &d.rows.oppByID, d.rows.opps.at(i).id, i)
	d.rows.oppsByClosed.remove(i)
	d.rows.oppsByCloseAt.remove(i)
}

// timesOf returns a kind's kindTimes, creating it.
func (d *Dataset) timesOf(k domain.Kind) *kindTimes {
	kt := d.times[k]
	if kt == nil {
		byTime := func(t int64) (int64, string) { return t, "" }
		kt = &kindTimes{born: newSorted(byTime), data: newSorted(byTime), bornIsData: !k.Period()}
		d.times[k] = kt
	}
	return kt
}

// ---------------------------------------------------------------- conversions

func convTicket(d *Dataset, rec domain.Record) ticketRow {
	r := rec.(*domain.Ticket)
	// No metric reads the free text; the store keeps it for anyone
	// drilling into the ticket, so a million copies need not sit here.
	return ticketRow{
		id: d.code(r.ID), source: d.code(r.Source), customer: d.code(r.Customer), priority: d.code(r.Priority), seg: withFlag(d.code(r.Segment), r.Escalated),
		category: d.code(r.Category), userRole: d.code(r.UserRole), criticality: d.code(r.Criticality),
		release: d.code(r.Release), service: d.code(r.Service), created: ns(r.CreatedAt), resolved: ns(r.ResolvedAt), slaDue: ns(r.SLADueAt),
		at: ns(r.EventTime()),
	}
}

func convSurvey(d *Dataset, rec domain.Record) surveyRow {
	r := rec.(*domain.Survey)
	return surveyRow{id: d.code(r.ID), source: d.code(r.Source), typ: d.code(r.Type), customer: d.code(r.Customer),
		release: d.code(r.Release), score: r.Score, at: ns(r.At)}
}

func convVuln(d *Dataset, rec domain.Record) vulnRow {
	r := rec.(*domain.Vulnerability)
	return vulnRow{id: d.code(r.ID), source: d.code(r.Source), service: d.code(r.Service), severity: d.code(r.Severity),
		cve: d.code(r.CVE), pkg: withFlag(d.code(r.Package), r.KEV), opened: ns(r.OpenedAt), fixed: ns(r.FixedAt), at: ns(r.EventTime())}
}

func convControl(d *Dataset, rec domain.Record) controlRow {
	r := rec.(*domain.Control)
	return controlRow{id: d.code(r.ID), source: d.code(r.Source), control: d.code(r.Control), framework: d.code(r.Framework),
		passed: r.Passed, checked: ns(r.CheckedAt)}
}

func convCost(d *Dataset, rec domain.Record) costRow {
	r := rec.(*domain.Cost)
	return costRow{id: d.code(r.ID), source: d.code(r.Source), service: d.code(r.Service), category: d.code(r.Category),
		currency: d.code(r.Currency), amount: r.Amount, start: ns(r.PeriodStart), end: ns(r.PeriodEnd)}
}

func convUsage(d *Dataset, rec domain.Record) usageRow {
	r := rec.(*domain.Usage)
	return usageRow{id: d.code(r.ID), source: d.code(r.Source), service: d.code(r.Service),
		requests: deref(r.Requests), hasRequests: r.Requests != nil, activeCustomers: deref(r.ActiveCustomers), hasActive: r.ActiveCustomers != nil, start: ns(r.PeriodStart), end: ns(r.PeriodEnd)}
}

func convBudget(d *Dataset, rec domain.Record) budgetRow {
	r := rec.(*domain.Budget)
	return budgetRow{id: d.code(r.ID), source: d.code(r.Source), category: d.code(r.Category), currency: d.code(r.Currency),
		amount: r.Amount, start: ns(r.PeriodStart), end: ns(r.PeriodEnd)}
}

func convSub(d *Dataset, rec domain.Record) subRow {
	r := rec.(*domain.Subscription)
	return subRow{id: d.code(r.ID), source: d.code(r.Source), customer: d.code(r.Customer), plan: d.code(r.Plan),
		segment: d.code(r.Segment), currency: d.code(r.Currency), mrr: r.MRR, started: ns(r.StartedAt), ended: ns(r.EndedAt), at: ns(r.EventTime())}
}

func convOpp(d *Dataset, rec domain.Record) oppRow {
	r := rec.(*domain.Opportunity)
	return oppRow{id: d.code(r.ID), source: d.code(r.Source), owner: d.code(r.Owner), stage: d.code(r.Stage),
		channel: d.code(r.Channel), currency: d.code(r.Currency), amount: r.Amount, won: r.Won, hasClose: !r.CloseDate.IsZero(), closeDay: int32(r.CloseDate.Unix() / int64(day/time.Second)),
		created: ns(r.CreatedAt), qualified: ns(r.QualifiedAt), closed: ns(r.ClosedAt), at: ns(r.EventTime())}
}

func convLead(d *Dataset, rec domain.Record) leadRow {
	r := rec.(*domain.Lead)
	return leadRow{id: d.code(r.ID), source: d.code(r.Source), channel: d.code(r.Channel), campaign: d.code(r.Campaign),
		opportunity: d.code(r.Opportunity), created: ns(r.CreatedAt), mql: ns(r.MQLAt), sql: ns(r.SQLAt), at: ns(r.EventTime())}
}

func convQuota(d *Dataset, rec domain.Record) quotaRow {
	r := rec.(*domain.Quota)
	return quotaRow{id: d.code(r.ID), source: d.code(r.Source), owner: d.code(r.Owner), currency: d.code(r.Currency),
		amount: r.Amount, start: ns(r.PeriodStart), end: ns(r.PeriodEnd)}
}

func convSpend(d *Dataset, rec domain.Record) spendRow {
	r := rec.(*domain.Spend)
	return spendRow{id: d.code(r.ID), source: d.code(r.Source), category: d.code(r.Category), currency: d.code(r.Currency),
		amount: r.Amount, start: ns(r.PeriodStart), end: ns(r.PeriodEnd)}
}

func convTarget(d *Dataset, rec domain.Record) targetRow {
	r := rec.(*domain.Target)
	return targetRow{id: d.code(r.ID), source: d.code(r.Source), metric: d.code(r.Metric), scope: d.code(r.Scope),
		value: r.Value, start: ns(r.PeriodStart), end: ns(r.PeriodEnd)}
}

func convMeasurement(d *Dataset, rec domain.Record) measurementRow {
	r := rec.(*domain.Measurement)
	return measurementRow{id: d.code(r.ID), source: d.code(r.Source), metric: d.code(r.Metric), service: d.code(r.Service),
		team: d.code(r.Team), customer: d.code(r.Customer), segment: d.code(r.Segment), unit: d.code(r.Unit),
		tags: d.code(strings.Join(r.Tags, tagSep)), value: r.Value, at: ns(r.At)}
}
