package metrics

import (
	"iter"

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

type ticketRow struct {
	id, source                                          string
	customer, priority, category, userRole, criticality string
	segment                                             string
	release                                             string
	service                                             string // what it is about; "" when the source does not know
	created, resolved, slaDue, at                       int64
	escalated                                           bool
}

type surveyRow struct {
	id, source, typ, customer, release string
	score                              float64
	at                                 int64
}

type vulnRow struct {
	id, source, service, severity, cve string
	opened, fixed, at                  int64
}

type controlRow struct {
	id, source, control, framework string
	passed                         bool
	checked                        int64
}

type costRow struct {
	id, source, service, category, currency string
	amount                                  domain.Money
	start, end                              int64
}

type usageRow struct {
	id, source, service       string
	requests, activeCustomers *float64
	start, end                int64
}

type budgetRow struct {
	id, source, category, currency string
	amount                         domain.Money
	start, end                     int64
}

type subRow struct {
	id, source, customer, plan, currency string
	mrr                                  domain.Money
	started, ended, at                   int64
}

type oppRow struct {
	id, source, owner, stage, channel, currency string
	amount                                      domain.Money
	won                                         bool
	closeDate                                   domain.Date
	created, qualified, closed, at              int64
}

type leadRow struct {
	id, source, channel, campaign, opportunity string
	created, mql, sql, at                      int64
}

type quotaRow struct {
	id, source, owner, currency string
	amount                      domain.Money
	start, end                  int64
}

type spendRow struct {
	id, source, category, currency string
	amount                         domain.Money
	start, end                     int64
}

type targetRow struct {
	id, source, metric, scope string
	value                     float64
	start, end                int64
}

// row is what a table needs of its rows.
type row interface {
	rowKey() recKey
	// eventAt is the record's event time (domain.Record.EventTime), the
	// order its table keeps: every timestamp of the record is at or before
	// it, so "records with a time in [a, b)" are among those with an event
	// time ≥ a.
	eventAt() int64
	life() life
	stamps(touch func(int64))
	presence() (born int64, attrs []attrVal, ok bool)
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

func (r *ticketRow) rowKey() recKey { return key(r.source, r.id) }
func (r *ticketRow) eventAt() int64 { return r.at }
func (r *ticketRow) life() life     { return lifeFrom(r.created, r.created, r.resolved) }
func (r *ticketRow) stamps(t func(int64)) {
	stampAll(t, r.created, r.resolved, r.at)
}
func (r *ticketRow) presence() (int64, []attrVal, bool) {
	return r.created, attrs("priority", r.priority, "segment", r.segment), true
}

// attr is the ticket's value of a breakdown dimension.
func (r *ticketRow) attr(dim string) string {
	if dim == "segment" {
		return r.segment
	}
	return r.priority
}

func (r *surveyRow) rowKey() recKey                     { return key(r.source, r.id) }
func (r *surveyRow) eventAt() int64                     { return r.at }
func (r *surveyRow) life() life                         { return lifeFrom(r.at, r.at) }
func (r *surveyRow) stamps(t func(int64))               { t(r.at) }
func (r *surveyRow) presence() (int64, []attrVal, bool) { return r.at, nil, true }

func (r *vulnRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *vulnRow) eventAt() int64       { return r.at }
func (r *vulnRow) life() life           { return lifeFrom(r.opened, r.opened, r.fixed) }
func (r *vulnRow) stamps(t func(int64)) { stampAll(t, r.opened, r.fixed, r.at) }
func (r *vulnRow) presence() (int64, []attrVal, bool) {
	return r.opened, attrs("service", r.service), true
}

func (r *controlRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *controlRow) eventAt() int64       { return r.checked }
func (r *controlRow) life() life           { return lifeFrom(r.checked, r.checked) }
func (r *controlRow) stamps(t func(int64)) { t(r.checked) }
func (r *controlRow) presence() (int64, []attrVal, bool) {
	return r.checked, attrs("framework", r.framework), true
}

func (r *costRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *costRow) eventAt() int64       { return r.end }
func (r *costRow) life() life           { return lifeFrom(r.start, r.end) }
func (r *costRow) stamps(t func(int64)) { stampAll(t, r.start, r.end) }
func (r *costRow) presence() (int64, []attrVal, bool) {
	return r.start, attrs("service", r.service, "category", r.category), true
}

func (r *usageRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *usageRow) eventAt() int64       { return r.end }
func (r *usageRow) life() life           { return lifeFrom(r.start, r.end) }
func (r *usageRow) stamps(t func(int64)) { stampAll(t, r.start, r.end) }
func (r *usageRow) presence() (int64, []attrVal, bool) {
	return r.start, attrs("service", r.service), true
}

func (r *budgetRow) rowKey() recKey { return key(r.source, r.id) }
func (r *budgetRow) eventAt() int64 { return r.start }

// A period record reports up to the end of its period (LastData).
func (r *budgetRow) life() life           { return lifeFrom(r.start, r.end) }
func (r *budgetRow) stamps(t func(int64)) { t(r.start) }
func (r *budgetRow) presence() (int64, []attrVal, bool) {
	return r.start, attrs("category", r.category), true
}

func (r *subRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *subRow) eventAt() int64       { return r.at }
func (r *subRow) life() life           { return lifeFrom(r.started, r.started, r.ended) }
func (r *subRow) stamps(t func(int64)) { stampAll(t, r.started, r.ended, r.at) }
func (r *subRow) presence() (int64, []attrVal, bool) {
	return r.started, attrs("plan", r.plan), true
}

func (r *oppRow) rowKey() recKey { return key(r.source, r.id) }
func (r *oppRow) eventAt() int64 { return r.at }
func (r *oppRow) life() life     { return lifeFrom(r.created, r.created, r.qualified, r.closed) }
func (r *oppRow) stamps(t func(int64)) {
	if !r.closeDate.IsZero() {
		t(r.closeDate.UnixNano())
	}
	stampAll(t, r.created, r.qualified, r.closed, r.at)
}
func (r *oppRow) presence() (int64, []attrVal, bool) {
	return r.created, attrs("owner", r.owner), true
}

func (r *leadRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *leadRow) eventAt() int64       { return r.at }
func (r *leadRow) life() life           { return lifeFrom(r.created, r.created, r.mql, r.sql) }
func (r *leadRow) stamps(t func(int64)) { stampAll(t, r.created, r.mql, r.sql, r.at) }
func (r *leadRow) presence() (int64, []attrVal, bool) {
	return r.created, attrs("channel", r.channel, "campaign", r.campaign), true
}

func (r *quotaRow) rowKey() recKey       { return key(r.source, r.id) }
func (r *quotaRow) eventAt() int64       { return r.start }
func (r *quotaRow) life() life           { return lifeFrom(r.start, r.end) }
func (r *quotaRow) stamps(t func(int64)) { t(r.start) }
func (r *quotaRow) presence() (int64, []attrVal, bool) {
	return r.start, attrs("owner", r.owner), true
}

func (r *spendRow) rowKey() recKey                     { return key(r.source, r.id) }
func (r *spendRow) eventAt() int64                     { return r.end }
func (r *spendRow) life() life                         { return lifeFrom(r.start, r.end) }
func (r *spendRow) stamps(t func(int64))               { stampAll(t, r.start, r.end) }
func (r *spendRow) presence() (int64, []attrVal, bool) { return r.start, nil, true }

func (r *targetRow) rowKey() recKey                     { return key(r.source, r.id) }
func (r *targetRow) eventAt() int64                     { return r.start }
func (r *targetRow) life() life                         { return lifeFrom(r.start, r.end) }
func (r *targetRow) stamps(t func(int64))               { t(r.start) }
func (r *targetRow) presence() (int64, []attrVal, bool) { return r.start, nil, true }

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
	// its source and id (rowCode): 16 bytes a map slot, where the two
	// strings of a recKey took 40.
	byKey map[uint64]int32
	strs  *strtab
	order *sorted[int32]
}

func newTable[R any, P interface {
	*R
	row
}](strs *strtab) *table[R, P] {
	t := &table[R, P]{byKey: map[uint64]int32{}, strs: strs}
	t.order = newSorted(func(i int32) (int64, string) {
		r := t.at(i)
		return r.eventAt(), r.rowKey().id
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
	i, ok := t.byKey[rowCode(src, id)]
	return i, ok
}

// rowCode is a table's key of a row: the codes of its source and id. A
// row's strings are interned when it is converted, so coding them adds
// nothing to the string table.
func rowCode(src, id uint32) uint64 { return uint64(src)<<32 | uint64(id) }

func (t *table[R, P]) codeOf(p P) uint64 {
	k := p.rowKey()
	return rowCode(t.strs.code(k.source), t.strs.code(k.id))
}

// at returns the row in slot i.
func (t *table[R, P]) at(i int32) P { return P(t.rows.at(i)) }

// put stores a row (no row with its key may be live) and returns its slot.
func (t *table[R, P]) put(r R) int32 {
	i, p := t.rows.alloc()
	*p = r
	t.byKey[t.codeOf(p)] = i
	t.order.add(i)
	return i
}

// drop removes the live row in slot i.
func (t *table[R, P]) drop(i int32) {
	t.order.remove(i)
	delete(t.byKey, t.codeOf(t.at(i)))
	t.rows.release(i)
}

func (t *table[R, P]) len() int { return len(t.byKey) }

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

// in yields the rows whose event time is in [lo, hi); only for kinds whose
// event time is the timestamp tested.
func (t *table[R, P]) in(lo, hi int64) iter.Seq[P] {
	return t.walk(t.order.between(lo, hi))
}

// live yields every live row in no particular order.
func (t *table[R, P]) live() iter.Seq[P] {
	return func(yield func(P) bool) {
		for _, i := range t.byKey {
			if !yield(t.at(i)) {
				return
			}
		}
	}
}
