package metrics

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Query asks for one metric over one window and scope.
type Query struct {
	AsOf   time.Time
	Window time.Duration
	Scope  Scope
	// Records asks for the ids of the records behind the value (drill-down);
	// the scorecard leaves it off.
	Records bool
	// Stale accepts a result newer rows invalidated a moment ago, while it
	// is recomputed, where the engine allows it (stale.go): an interactive
	// read, not a gate's, an alert's or a report's. Not part of the
	// result's key.
	Stale bool
	// Closing says the query reports a span that closes at AsOf, a
	// board pack's calendar month: the current quota period is the one
	// holding the window's last instant (period_start < as_of ≤
	// period_end), so a month that ends a quarter reports the quarter it
	// closes. Without it SPEC §3's rule holds (period_start ≤ as_of <
	// period_end): as of 1 October, the fourth quarter, just begun — what
	// a page asked as of that instant shows, and what a September board
	// pack had shown (0 %, no pipeline). Part of the result's key.
	Closing bool
}

func (q Query) start() int64 { return q.AsOf.Add(-q.Window).UnixNano() }
func (q Query) end() int64   { return q.AsOf.UnixNano() }

// Previous returns the same query over the window before.
func (q Query) Previous() Query {
	p := q
	p.AsOf = q.AsOf.Add(-q.Window)
	return p
}

// Scope restricts a metric to the records that pass every one of its
// filters; the zero Scope is the whole organisation. Dim and Value are the
// first filter, so Scope{Dim: "team", Value: "payments"} is a one-filter
// scope; And adds more (a breakdown line under a scope is the scope plus
// the line's own filter). The filters live in a fixed array, not a slice,
// so that a Scope stays comparable and allocation-free: it is part of the
// result cache key, and matching runs once per record.
type Scope struct {
	Dim   string
	Value string
	more  [MaxFilters - 1]Filter
}

// Ref names a record behind a value, with its contribution when it has one
// (a lead time, a duration).
type Ref struct {
	Kind   domain.Kind `json:"kind"`
	ID     string      `json:"id"`
	Source string      `json:"source"`
	Value  *float64    `json:"value,omitempty"`
	Note   string      `json:"note,omitempty"`
	// Fields are the record's reader fields (fields.go); a drill-down
	// fills them for the page it serves (Dataset.Describe).
	Fields Fields `json:"fields,omitempty"`
	// at is where the dataset that named the record holds it, so that
	// describing a page of refs does not look their strings up again.
	at refAt
}

// refAt locates a ref's record in the dataset whose metric named it: the
// codes of its source and id in that dataset's string table (tab, its
// stamp; 0: not known) and, for a deployment, its row+1. Describe looked
// each ref's two strings up in the string table — a probe at a random
// place in a table of tens of MB — and then its row: at scale 1 that was
// a fifth of the server's CPU while it answered reads during a large
// import (docs/performance.md). A code keeps its string for the table's
// life, and a row's codes say whether it still holds the record (a
// released row is zeroed); a ref another table's dataset named is looked
// up by its strings, as before.
type refAt struct {
	tab, src, id uint32
	row          int32
}

// codedRef is ref for a record whose codes (and row+1, for a deployment)
// the metric holds.
func (r *Result) codedRef(q Query, d *Dataset, kind domain.Kind, src, id uint32, row int32, v *float64, note string) {
	if q.Records {
		r.Records = append(r.Records, Ref{Kind: kind, ID: d.str(id), Source: d.str(src), Value: v, Note: note,
			at: refAt{tab: d.strs.stamp, src: src, id: id, row: row}})
	}
}

// expectRecords makes room for n more records in a drill-down (q.Records):
// a window's hundreds of thousands of refs (~112 bytes each) appended one
// by one were copied again at every growth, ~5 times their size in all,
// and that after every step of a large import (drill-downs are never
// served stale).
func (r *Result) expectRecords(q Query, n int) {
	if q.Records && n > 0 {
		r.Records = slices.Grow(r.Records, n)
	}
}

// Result is a metric's value. Value is nil when the metric has no value
// (empty denominator); counts are never nil.
type Result struct {
	Value *float64 `json:"value"`
	// Count is the number of cases the value rests on, its n: the
	// denominator of a ratio, the values of a median or mean, the records
	// counted. The scorecard checks it against the metric's min_sample.
	Count   int    `json:"count"`
	Records []Ref  `json:"records,omitempty"`
	Detail  Detail `json:"detail,omitzero"`
	// Problems are the data problems met among the records the value is
	// computed from (problems.go); a drill-down (Records) lists them.
	Problems []Problem `json:"problems,omitempty"`
}

func (r *Result) ref(q Query, kind domain.Kind, id, source string, v *float64, note string) {
	if q.Records {
		r.Records = append(r.Records, Ref{Kind: kind, ID: id, Source: source, Value: v, Note: note})
	}
}

// Func computes one metric.
type Func func(d *Dataset, q Query) Result

// Compute evaluates a metric.
func (d *Dataset) Compute(id string, q Query) (Result, error) {
	def, err := d.defAt(id, q.AsOf)
	if err != nil {
		return Result{}, err
	}
	if q.Window <= 0 {
		return Result{}, fmt.Errorf("window must be positive")
	}
	for _, f := range q.Scope.Filters() {
		if !slices.Contains(def.Dims, f.Dim) {
			return Result{}, fmt.Errorf("metric %s cannot be broken down by %q (supported: %v)", id, f.Dim, def.Dims)
		}
	}
	return d.compute(id, def, q), nil
}

// compute evaluates through the cache. Drill-downs (Records) are cached
// too, a few at a time (maxDrills): their record lists are large, but a
// client paging through one asks for the same window again and again.
func (d *Dataset) compute(id string, def *Def, q Query) Result {
	return d.computeAs(id, def, q, true)
}

// computeAs is compute; asked says a reader asked for it (not a warmer),
// so the copy published next is warmed with it.
func (d *Dataset) computeAs(id string, def *Def, q Query, asked bool) Result {
	if def.Ahead {
		q.Closing = false
	}
	k := q.key(def)
	r, f, ok := d.cachedOrFlying(k, asked, asked && q.Stale)
	if ok {
		return r
	}
	if f != nil {
		// Another reader is computing the same window: wait for it rather
		// than repeat the work (right after new data, every concurrent
		// request misses the same windows at once).
		<-f.done
		if f.ok {
			return f.r
		}
		return d.run(id, def, q) // the computing reader panicked
	}
	landed := false
	defer func() {
		if !landed {
			d.abandon(k)
		}
	}()
	r = d.run(id, def, q)
	d.land(k, r)
	landed = true
	return r
}

// run computes a metric, adds the target for W's end (targetAt) to a metric that
// carries one (for one that sums over its window, its targets prorated into
// W), and applies the no-data rule (nodata.go).
func (d *Dataset) run(id string, def *Def, q Query) Result {
	r := def.Fn(d, q)
	switch {
	case def.Target && def.Sum:
		// A sum over W is judged by its targets for W (targetForWindow).
		if v, ok := d.targetForWindow(id, q, q.start(), q.end()); ok {
			r.Detail.Target = &v
		}
	case def.Target:
		if v, from, ok := d.targetAtFrom(id, q); ok {
			r.Detail.Target = &v
			r.Detail.TargetFrom = ptr(time.Unix(0, from).UTC())
		}
	}
	d.applyNoData(def, q, &r)
	return r
}

// Group is one line of a breakdown.
type Group struct {
	Key string `json:"key"`
	Result
}

// Breakdown evaluates a metric for every value of a dimension within the
// query's scope: each line is computed under the scope's filters and its
// own, so a breakdown under a scope holds only the scope's records.
func (d *Dataset) Breakdown(id string, q Query, dim string) ([]Group, error) {
	def, err := d.defAt(id, q.AsOf)
	if err != nil {
		return nil, err
	}
	var ok bool
	for _, f := range append(q.Scope.Filters(), Filter{Dim: dim}) {
		if !slices.Contains(def.Dims, f.Dim) {
			return nil, fmt.Errorf("metric %s cannot be broken down by %q (supported: %v)", id, f.Dim, def.Dims)
		}
	}
	var out []Group
	asked := q.Scope.Filters()
	for _, v := range d.recordServiceValues(def, dim, q, d.DimValuesIn(dim, q.Scope)) {
		// A scope asking for the line keeps it, the breakdown's one line.
		if d.noRecordWith(def, dim, v) && !slices.Contains(asked, Filter{Dim: dim, Value: v}) {
			continue
		}
		sq := q
		if sq.Scope, ok = q.Scope.And(dim, v); !ok {
			return nil, fmt.Errorf("scope %s already has %d filters; a breakdown needs room for one more", q.Scope, MaxFilters)
		}
		r := d.compute(id, def, sq)
		out = append(out, Group{Key: v, Result: r})
	}
	return out, nil
}

// noRecordWith reports that none of the records a metric reads has the
// value v of dim, a dimension of their own (not a service's): its line
// then comes from another kind's records alone. SLA adherence by segment
// had a "(none)" line, "no ticket data for segment (none)", from
// measurements without a segment, though every ticket had one; and once
// subscriptions named segments (NRR's and GRR's lines), a segment only
// customers' subscriptions named would have been a line of no ticket data,
// and a segment only tickets named a line of no subscription data. False
// when no kind the metric reads carries dim, so that such lines stay as
// they were.
func (d *Dataset) noRecordWith(def *Def, dim, v string) bool {
	if serviceDim(dim) || dim == "environment" {
		return false
	}
	carried := false
	for _, k := range def.Reads {
		if !slices.Contains(presenceAttrs[k], dim) {
			continue
		}
		carried = true
		if kp := d.presence.kinds[k]; kp != nil {
			if _, ok := kp.by[attrVal{dim, v}]; ok {
				return false
			}
		}
	}
	return carried
}

// recordServiceValues adds to vals, for a service dimension, the values
// of the services named by the tickets, costs and vulnerabilities the
// metric reads: those kinds name services that may have no service record
// or delivery data (allServices lists none of theirs), and a ticket may
// name none — its line is "(none)". Without them a ticket metric's lines by team had added
// up to fewer tickets than the organisation's value. Other metrics'
// breakdowns are left as they were: a deployment metric by team gains no
// "(none)" line for a ticket about no service.
func (d *Dataset) recordServiceValues(def *Def, dim string, q Query, vals []string) []string {
	if !serviceDim(dim) {
		return vals
	}
	set := map[string]bool{}
	for _, v := range vals {
		set[v] = true
	}
	n := len(set)
	kinds := def.Reads
	if slices.Contains(kinds, domain.KindDeployment) {
		// Its lines are its deployments' services (release impact): a
		// ticket about no service had made a "(none)" line with no
		// release in it, shown as unknown beside the services.
		kinds = slices.DeleteFunc(slices.Clone(kinds), func(k domain.Kind) bool { return k == domain.KindTicket })
	}
	d.kindServiceValues(kinds, dim, q, set)
	if len(set) == n {
		return vals
	}
	return slices.Sorted(maps.Keys(set))
}

func serviceDim(dim string) bool {
	switch dim {
	case "service", "team", "tier", "business_unit":
		return true
	}
	return false
}

// kindServiceValues adds to set the values of a service dimension for the
// services that the tickets, costs and vulnerabilities (and the full
// vulnerability scans) among kinds name and that pass q's scope (a record
// naming none: "(none)").
func (d *Dataset) kindServiceValues(kinds []domain.Kind, dim string, q Query, set map[string]bool) {
	seen := map[uint32]bool{}
	add := func(svc uint32) {
		if !seen[svc] {
			seen[svc] = true
			if d.matchServiceCode(q, svc) {
				set[valueOrNone(d.ServiceAttr(d.str(svc), dim))] = true
			}
		}
	}
	if slices.Contains(kinds, domain.KindTicket) {
		for t := range d.tickets().all() {
			add(t.service)
		}
	}
	if slices.Contains(kinds, domain.KindCost) {
		for x := range d.costs().all() {
			add(x.service)
		}
	}
	// A scanner's findings imported without --service name none, and one
	// may name a service with no service record: without their lines the
	// open vulnerabilities by service had added up to fewer than the total.
	// A full scan imported for a service is that service's data, clean or
	// not (scannedIn): its line is there, 0 when nothing is open.
	if slices.Contains(kinds, domain.KindVulnerability) {
		for v := range d.vulns().all() {
			add(v.service)
		}
		for svc := range d.scanFirst {
			if d.matchService(q, svc) {
				set[valueOrNone(d.ServiceAttr(svc, dim))] = true
			}
		}
	}
}

// NoneKey stands for records whose service has no team, tier or business
// unit, and for records without a value of a dimension of their own (an
// evidence pack lists controls no check named a framework under it too).
const NoneKey = "(none)"

// DimValues lists the values of a dimension present in the data.
func (d *Dataset) DimValues(dim string) []string {
	set := map[string]bool{}
	switch dim {
	case "environment":
		for e := range d.envs {
			set[e] = true
		}
	case "service", "team", "tier", "business_unit":
		for _, s := range d.allServices() {
			v := d.ServiceAttr(s, dim)
			if v == "" {
				v = NoneKey
			}
			set[v] = true
		}
		if dim == "team" { // measurements may name a team of their own
			measurementDimValues(d, dim, Query{}, set)
		}
	default:
		for v := range d.otherDimValues(dim) {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// allServices is every service named by a service record or by any
// engineering record, so data for unregistered services is not lost.
func (d *Dataset) allServices() []string {
	set := map[string]bool{}
	for s := range d.Services {
		set[s] = true
	}
	for s := range d.svcDeps {
		set[s] = true
	}
	for s := range d.svcChanges {
		set[s] = true
	}
	for s := range d.svcInc {
		set[s] = true
	}
	for _, x := range d.slis {
		set[d.str(x.svc)] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// otherDimValues lists the values of a dimension outside the delivery
// kinds (owner, category, framework, channel, campaign) found in the data.
func (d *Dataset) otherDimValues(dim string) map[string]bool {
	set := map[string]bool{}
	for _, f := range reg.dimValues {
		f(d, dim, Query{}, set)
	}
	return set
}

// matchService reports whether a record of the service passes the scope's
// service, team, tier and business unit filters. Environment filters do not
// apply to service-level records.
func (d *Dataset) matchService(q Query, service string) bool {
	for i := range MaxFilters {
		f := q.Scope.filter(i)
		switch f.Dim {
		case "":
			return true
		case "service", "team", "tier", "business_unit":
			if valueOrNone(d.ServiceAttr(service, f.Dim)) != f.Value {
				return false
			}
		}
	}
	return true
}

func (d *Dataset) matchDep(q Query, x *Dep) bool {
	return d.matchCode(q, "environment", x.env) && d.matchService(q, d.depService(x))
}

// matchInc reports whether an incident passes the scope: its service's
// filters and its origin.
func (d *Dataset) matchInc(q Query, i *Inc) bool {
	return d.matchCode(q, "origin", i.origin) && d.matchServiceCode(q, i.svc)
}

// median returns the ordinary median of v (which it reorders), or nil.
// It selects rather than sorts: a 30-day window at scale 10 holds a
// quarter of a million lead times, and selection is linear.
func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	n := len(v)
	selectKth(v, n/2)
	m := v[n/2]
	if n%2 == 0 {
		// v[:n/2] holds the smaller half; its largest is the other middle.
		m = (slices.Max(v[:n/2]) + m) / 2
	}
	return &m
}

// selectKth reorders v so that v[k] is the value a sort would put there,
// with nothing greater before it and nothing smaller after it
// (quickselect, median-of-three pivots).
func selectKth(v []float64, k int) {
	lo, hi := 0, len(v)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // v[j+1:i] all equal the pivot
		}
	}
	slices.Sort(v[lo : hi+1])
}

func share(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	v := 100 * float64(num) / float64(den)
	return &v
}

func num(v float64) *float64 { return &v }

// refValue is a drill-down row's value: boxed only when the query asks for
// records, which are the only place it goes. num(v) there would box it for
// every row of every walk (a heap allocation each, v escaping).
func refValue(q Query, v float64) *float64 {
	if !q.Records {
		return nil
	}
	p := new(float64)
	*p = v
	return p
}

func hours(d int64) float64   { return float64(d) / float64(time.Hour) }
func minutes(d int64) float64 { return float64(d) / float64(time.Minute) }
