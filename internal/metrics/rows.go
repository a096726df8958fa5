package metrics

import (
	"iter"
	"time"

	"github.com/candor/candor/internal/domain"
)

// The kinds outside delivery and reliability — tickets, surveys,
// vulnerabilities, controls, money and sales records — are held as compact
// rows: the fields the metrics and drill-downs read, times as unix ns (0
// when absent), strings interned, no free text. A row type knows, for its
// kind, when its record exists and what it says happened (life), every
// timestamp a cached result may depend on (stamps) and the scope
// attributes the presence index keeps (presence). Metric functions walk
// rows through a kind's table (walk.go), never the dataset's indexes.
//
// A row's strings are string table codes (uint32, 0 for ""), read with
// d.str: 4 bytes each where a string header took 16.

// ticketRow is 72 bytes: whether the ticket was escalated is a bit of its
// segment's code (a bool field padded the row to 80; a million tickets at
// scale 10).
type ticketRow struct {
	created, resolved, slaDue, at int64
	id, source                    uint32
	customer, priority, category  uint32
	userRole, criticality         uint32
	release                       uint32
	service                       uint32  // what it is about; "" when the source does not know
	seg                           flagged // the segment's code, flagged when escalated
}

func (r *ticketRow) segment() uint32 { return r.seg.code() }
func (r *ticketRow) escalated() bool { return r.seg.flag() }

type surveyRow struct {
	score                              float64
	at                                 int64
	id, source, typ, customer, release uint32
}

// vulnRow is 48 bytes: the package's code fills what had been padding,
// and whether the vulnerability is known to be exploited (kev) is a bit of
// it (a bool field would pad the row to 56).
type vulnRow struct {
	opened, fixed, at                  int64
	id, source, service, severity, cve uint32
	pkg                                flagged // the package's code, flagged when known exploited
}

func (r *vulnRow) pkgCode() uint32 { return r.pkg.code() }
func (r *vulnRow) kev() bool       { return r.pkg.flag() }

type controlRow struct {
	checked                        int64
	id, source, control, framework uint32
	passed                         bool
}

type costRow struct {
	amount                                  domain.Money
	start, end                              int64
	id, source, service, category, currency uint32
}

type usageRow struct {
	requests, activeCustomers float64
	start, end                int64
	id, source, service       uint32
	// hasRequests and hasActive say the record gave requests and
	// active_customers (either may be absent, unlike 0).
	hasRequests, hasActive bool
}

type budgetRow struct {
	amount                         domain.Money
	start, end                     int64
	id, source, category, currency uint32
}

type subRow struct {
	mrr                                  domain.Money
	started, ended, at                   int64
	id, source, customer, plan, currency uint32
	segment                              uint32 // in what had been padding: 56 bytes either way
}

type oppRow struct {
	amount                                      domain.Money
	created, qualified, closed, at              int64
	id, source, owner, stage, channel, currency uint32
	// closeDay is close_date as days since 1970-01-01 (a date is
	// midnight UTC); hasClose says it is set.
	closeDay int32
	// next and notFirst chain the opportunities sharing an id (chain.go).
	next     int32
	hasClose bool
	won      bool
	notFirst bool
}

type leadRow struct {
	created, mql, sql, at                      int64
	id, source, channel, campaign, opportunity uint32
}

type quotaRow struct {
	amount                      domain.Money
	start, end                  int64
	id, source, owner, currency uint32
}

type spendRow struct {
	amount                         domain.Money
	start, end                     int64
	id, source, category, currency uint32
}

type targetRow struct {
	value                     float64
	start, end                int64
	id, source, metric, scope uint32
}

// measurementRow is a measurement (SPEC §1): a number at a moment. tags
// is the code of the record's tags joined by NUL, which no tag can hold
// (measurementTags splits them), so a row costs one code however many
// tags it has and readings sharing a tag set share its bytes.
type measurementRow struct {
	value                             float64
	at                                int64
	id, source, metric, service, team uint32
	customer, segment, unit, tags     uint32
}

// row is what a table needs of its rows.
type row interface {
	kind() domain.Kind
	// codes are the string table codes of its source and id.
	codes() (src, id uint32)
	// eventAt is the record's event time (domain.Record.EventTime), the
	// order its table keeps: every timestamp of the record is at or before
	// it, so "records with a time in [a, b)" are among those with an event
	// time ≥ a.
	eventAt() int64
	life() life
	stamps(touch func(int64))
	presence(s *strtab) (born int64, attrs []attrVal, ok bool)
}

// closeAt is the opportunity's close date in unix ns (midnight UTC).
func (r *oppRow) closeAt() int64 { return int64(r.closeDay) * int64(day) }

// closeDate is the opportunity's close date, YYYY-MM-DD.
func (r *oppRow) closeDate() string {
	return time.Unix(int64(r.closeDay)*int64(day/time.Second), 0).UTC().Format(time.DateOnly)
}

// deref is *p, 0 when p is nil.
func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// rowRef is r.ref for a row of any kind.
func (r *Result) rowRef(q Query, d *Dataset, x row, v *float64, note string) {
	if q.Records {
		src, id := x.codes()
		r.codedRef(q, d, x.kind(), src, id, 0, v, note)
	}
}

// lifeFrom builds a row's life: data times count from its defining time.
func lifeFrom(born int64, data ...int64) life {
	l := life{born: born}
	for i, t := range data {
		if t != 0 {
			l.data[i] = max(t, born)
		}
	}
	return l
}

func stampAll(touch func(int64), ts ...int64) {
	for _, t := range ts {
		touch(t)
	}
}

func attrs(kv ...string) []attrVal {
	out := make([]attrVal, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, attrVal{kv[i], valueOrNone(kv[i+1])})
	}
	return out
}

func (r *ticketRow) kind() domain.Kind       { return domain.KindTicket }
func (r *ticketRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *ticketRow) eventAt() int64          { return r.at }
func (r *ticketRow) life() life              { return lifeFrom(r.created, r.created, r.resolved) }
func (r *ticketRow) stamps(t func(int64)) {
	stampAll(t, r.created, r.resolved, r.at)
}
func (r *ticketRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.created, attrs("priority", s.str(r.priority), "segment", s.str(r.segment()), "customer", s.str(r.customer)), true
}

// attr is the code of the ticket's value of a breakdown dimension.
func (r *ticketRow) attr(dim string) uint32 {
	switch dim {
	case "segment":
		return r.segment()
	case "customer":
		return r.customer
	}
	return r.priority
}

func (r *surveyRow) kind() domain.Kind                         { return domain.KindSurvey }
func (r *surveyRow) codes() (uint32, uint32)                   { return r.source, r.id }
func (r *surveyRow) eventAt() int64                            { return r.at }
func (r *surveyRow) life() life                                { return lifeFrom(r.at, r.at) }
func (r *surveyRow) stamps(t func(int64))                      { t(r.at) }
func (r *surveyRow) presence(*strtab) (int64, []attrVal, bool) { return r.at, nil, true }

func (r *vulnRow) kind() domain.Kind       { return domain.KindVulnerability }
func (r *vulnRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *vulnRow) eventAt() int64          { return r.at }
func (r *vulnRow) life() life              { return lifeFrom(r.opened, r.opened, r.fixed) }
func (r *vulnRow) stamps(t func(int64))    { stampAll(t, r.opened, r.fixed, r.at) }
func (r *vulnRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.opened, attrs("service", s.str(r.service), "package", s.str(r.pkgCode())), true
}

func (r *controlRow) kind() domain.Kind       { return domain.KindControl }
func (r *controlRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *controlRow) eventAt() int64          { return r.checked }
func (r *controlRow) life() life              { return lifeFrom(r.checked, r.checked) }
func (r *controlRow) stamps(t func(int64))    { t(r.checked) }
func (r *controlRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.checked, attrs("framework", s.str(r.framework)), true
}

func (r *costRow) kind() domain.Kind       { return domain.KindCost }
func (r *costRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *costRow) eventAt() int64          { return r.end }
func (r *costRow) life() life              { return lifeFrom(r.start, r.end) }
func (r *costRow) stamps(t func(int64))    { stampAll(t, r.start, r.end) }
func (r *costRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.start, attrs("service", s.str(r.service), "category", s.str(r.category)), true
}

func (r *usageRow) kind() domain.Kind       { return domain.KindUsage }
func (r *usageRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *usageRow) eventAt() int64          { return r.end }
func (r *usageRow) life() life              { return lifeFrom(r.start, r.end) }
func (r *usageRow) stamps(t func(int64))    { stampAll(t, r.start, r.end) }
func (r *usageRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.start, attrs("service", s.str(r.service)), true
}

func (r *budgetRow) kind() domain.Kind       { return domain.KindBudget }
func (r *budgetRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *budgetRow) eventAt() int64          { return r.start }

// A period record reports up to the end of its period (LastData).
func (r *budgetRow) life() life           { return lifeFrom(r.start, r.end) }
func (r *budgetRow) stamps(t func(int64)) { t(r.start) }
func (r *budgetRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.start, attrs("category", s.str(r.category)), true
}

func (r *subRow) kind() domain.Kind       { return domain.KindSubscription }
func (r *subRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *subRow) eventAt() int64          { return r.at }
func (r *subRow) life() life              { return lifeFrom(r.started, r.started, r.ended) }
func (r *subRow) stamps(t func(int64))    { stampAll(t, r.started, r.ended, r.at) }
func (r *subRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.started, attrs("plan", s.str(r.plan), "segment", s.str(r.segment)), true
}

func (r *oppRow) kind() domain.Kind       { return domain.KindOpportunity }
func (r *oppRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *oppRow) eventAt() int64          { return r.at }
func (r *oppRow) life() life              { return lifeFrom(r.created, r.created, r.qualified, r.closed) }
func (r *oppRow) stamps(t func(int64)) {
	if r.hasClose {
		t(r.closeAt())
	}
	stampAll(t, r.created, r.qualified, r.closed, r.at)
}
func (r *oppRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.created, attrs("owner", s.str(r.owner)), true
}

func (r *leadRow) kind() domain.Kind       { return domain.KindLead }
func (r *leadRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *leadRow) eventAt() int64          { return r.at }
func (r *leadRow) life() life              { return lifeFrom(r.created, r.created, r.mql, r.sql) }
func (r *leadRow) stamps(t func(int64))    { stampAll(t, r.created, r.mql, r.sql, r.at) }
func (r *leadRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.created, attrs("channel", s.str(r.channel), "campaign", s.str(r.campaign)), true
}

func (r *quotaRow) kind() domain.Kind       { return domain.KindQuota }
func (r *quotaRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *quotaRow) eventAt() int64          { return r.start }
func (r *quotaRow) life() life              { return lifeFrom(r.start, r.end) }
func (r *quotaRow) stamps(t func(int64))    { t(r.start) }
func (r *quotaRow) presence(s *strtab) (int64, []attrVal, bool) {
	return r.start, attrs("owner", s.str(r.owner)), true
}

func (r *spendRow) kind() domain.Kind                         { return domain.KindSpend }
func (r *spendRow) codes() (uint32, uint32)                   { return r.source, r.id }
func (r *spendRow) eventAt() int64                            { return r.end }
func (r *spendRow) life() life                                { return lifeFrom(r.start, r.end) }
func (r *spendRow) stamps(t func(int64))                      { stampAll(t, r.start, r.end) }
func (r *spendRow) presence(*strtab) (int64, []attrVal, bool) { return r.start, nil, true }

func (r *targetRow) kind() domain.Kind                         { return domain.KindTarget }
func (r *targetRow) codes() (uint32, uint32)                   { return r.source, r.id }
func (r *targetRow) eventAt() int64                            { return r.start }
func (r *targetRow) life() life                                { return lifeFrom(r.start, r.end) }
func (r *targetRow) stamps(t func(int64))                      { t(r.start) }
func (r *targetRow) presence(*strtab) (int64, []attrVal, bool) { return r.start, nil, true }

func (r *measurementRow) kind() domain.Kind       { return domain.KindMeasurement }
func (r *measurementRow) codes() (uint32, uint32) { return r.source, r.id }
func (r *measurementRow) eventAt() int64          { return r.at }
func (r *measurementRow) life() life              { return lifeFrom(r.at, r.at) }
func (r *measurementRow) stamps(t func(int64))    { t(r.at) }

// A measurement is in a service's scopes through its service, in a team's
// through its own team when it names one (measurementTeam).
func (r *measurementRow) presence(s *strtab) (int64, []attrVal, bool) {
	a := attrs("service", s.str(r.service), "segment", s.str(r.segment))
	if r.team != 0 {
		a = append(a, attrVal{"team", s.str(r.team)})
	}
	return r.at, a, true
}

// ---------------------------------------------------------------- tables

// table holds one kind's rows: a slab (slab.go) whose slots are reused
// after a removal (so a row's index is stable while it lives) and which
// grows without copying or slack, the live rows by
// key, and their indexes ordered by (event time, id).
type table[R any, P interface {
	*R
	row
}] struct {
	rows slab[R]
	// byKey holds the slot of each live row by the string table codes of
	// its source and id (rowCode, read from the row): 4 bytes a slot,
	// where a map from the codes took ~28 bytes a row and one from the
	// two strings of a recKey more.
	byKey rowIndex
	strs  *strtab
	order *sorted[int32]
}

func newTable[R any, P interface {
	*R
	row
}](strs *strtab) *table[R, P] {
	t := &table[R, P]{strs: strs}
	t.byKey.keyOf = func(i int32) uint64 { return t.codeOf(t.at(i)) }
	t.order = newSortedBy(func(i int32) int64 { return t.at(i).eventAt() }, func(i int32) string {
		_, id := t.at(i).codes()
		return strs.str(id)
	})
	return t
}

// get returns the live row with a key, or nil.
func (t *table[R, P]) get(k recKey) P {
	if i, ok := t.slot(k); ok {
		return t.at(i)
	}
	return nil
}

// slot returns the slot of the live row with a key; ok is false when none
// has it.
func (t *table[R, P]) slot(k recKey) (int32, bool) {
	src, ok1 := t.strs.lookup(k.source)
	id, ok2 := t.strs.lookup(k.id)
	if !ok1 || !ok2 {
		return 0, false
	}
	return t.slotByCodes(src, id)
}

// slotByCodes is slot for the codes of a key's source and id.
func (t *table[R, P]) slotByCodes(src, id uint32) (int32, bool) {
	return t.byKey.get(rowCode(src, id))
}

// rowCode is a table's key of a row: the codes of its source and id. A
// row's strings are interned when it is converted, so coding them adds
// nothing to the string table.
func rowCode(src, id uint32) uint64 { return uint64(src)<<32 | uint64(id) }

func (t *table[R, P]) codeOf(p P) uint64 { return rowCode(p.codes()) }

// slotOf returns the slot of the live row with p's key; ok is false when
// none has it.
func (t *table[R, P]) slotOf(p P) (int32, bool) {
	i, ok := t.byKey.get(t.codeOf(p))
	return i, ok
}

// at returns the row in slot i.
func (t *table[R, P]) at(i int32) P { return P(t.rows.at(i)) }

// put stores a row (no row with its key may be live) and returns its slot.
func (t *table[R, P]) put(r R) int32 {
	i, p := t.rows.alloc()
	*p = r
	t.byKey.set(t.codeOf(p), i)
	t.order.add(i)
	return i
}

// drop removes the live row in slot i.
func (t *table[R, P]) drop(i int32) {
	t.order.remove(i)
	t.byKey.clear(t.codeOf(t.at(i)))
	t.rows.release(i)
}

func (t *table[R, P]) len() int { return t.byKey.len() }

// walk yields the rows of slots idx, in that order.
func (t *table[R, P]) walk(idx []int32) iter.Seq[P] {
	return func(yield func(P) bool) {
		for _, i := range idx {
			if !yield(t.at(i)) {
				return
			}
		}
	}
}

// all yields every row in event-time order.
func (t *table[R, P]) all() iter.Seq[P] { return t.walk(t.order.items) }

// from yields the rows whose event time is ≥ lo: every row with any
// timestamp ≥ lo is among them.
func (t *table[R, P]) from(lo int64) iter.Seq[P] {
	return t.walk(t.order.items[t.order.lowerBound(lo):])
}

// through yields the rows whose event time is ≤ hi.
func (t *table[R, P]) through(hi int64) iter.Seq[P] {
	return t.walk(t.order.items[:t.order.upperBound(hi)])
}

// in yields the rows whose event time is in [lo, hi): for kinds whose
// event time is the timestamp tested, or where every row wanted is known
// to have its event time in that range (its caller says why).
func (t *table[R, P]) in(lo, hi int64) iter.Seq[P] {
	return t.walk(t.order.between(lo, hi))
}

// live yields every live row in no particular order.
func (t *table[R, P]) live() iter.Seq[P] {
	return func(yield func(P) bool) {
		t.byKey.each(func(i int32) bool { return yield(t.at(i)) })
	}
}
