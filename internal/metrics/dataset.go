// Package metrics computes Candor's KPIs. Records live in memory in a
// Dataset, indexed by service and time; every metric is a small function
// over the records of one window, so a scorecard costs in proportion to
// the data inside its windows, not to the whole history, and a new record
// is reflected at the next read without rebuilding anything. Linking
// (SPEC §2) is evaluated inside those windows from the same indexes.
package metrics

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Config holds the parameters of the linking rules and metric definitions.
type Config struct {
	ProductionNames []string
	// EnvironmentAliases maps a lower-cased environment name to its
	// canonical name (EnvironmentAliasTable): breakdowns and scopes use
	// the canonical name, the store keeps the name as recorded.
	EnvironmentAliases map[string]string
	// AttributionWindow bounds incident → deployment inference (SPEC §2).
	AttributionWindow time.Duration
	// VulnerabilitySLA maps severity to the allowed age (SPEC §3).
	VulnerabilitySLA map[string]time.Duration
	// ReleaseImpactWindow is the observation window after a release.
	ReleaseImpactWindow time.Duration
	// GrossMargin for CAC payback (default 0.8).
	GrossMargin float64
	// FunnelLag is funnel_conversion's maturation lag: the cohort is the
	// leads created in [as_of − lag − length, as_of − lag) (default 90
	// days; 0 means the default).
	FunnelLag time.Duration
	// PipelineStages are the open stages of the sales process in funnel
	// order (pipeline_stages): PipelineByStage lists stages in this order,
	// compared regardless of case, and any other after them. It changes no
	// value, only the order stages are shown in.
	PipelineStages []string
	// Freshness overrides the freshness limit per kind.
	Freshness map[domain.Kind]time.Duration
	// Currency is the organisation currency (ISO 4217; "USD" when empty).
	Currency string
	// ExchangeRates gives, per foreign currency, the units of the
	// organisation currency per 1 unit of it. Money in a currency without
	// a rate is never mixed in: the metric has no value and says why.
	ExchangeRates map[string]float64
	// ImpactWeights weighs release-impact tickets: field (priority,
	// user_role, criticality) → value → weight; unknown values weigh 1.
	ImpactWeights map[string]map[string]float64
	// TierWeights weighs a production deployment in
	// customer_weighted_change_failure_rate by its service's tier ("1",
	// "2", "3", "none" for a service without one); a tier left out keeps
	// its default (DefaultTierWeights).
	TierWeights map[string]float64
	// BusinessHours is the organisation's business calendar and
	// ServiceHours a service's own (each resolved, Calendar.Resolve); the
	// zero BusinessHours is DefaultCalendar.
	BusinessHours Calendar
	ServiceHours  map[string]Calendar
	// custom holds the organisation-defined metrics (SetCustom, custom.go).
	custom *customRegistry
}

// DefaultConfig returns the SPEC defaults.
func DefaultConfig() Config {
	return Config{
		ProductionNames:   domain.DefaultProductionNames,
		AttributionWindow: 24 * time.Hour,
		VulnerabilitySLA: map[string]time.Duration{
			"critical": 7 * day, "high": 30 * day, "medium": 90 * day, "low": 120 * day,
		},
		ReleaseImpactWindow: 48 * time.Hour,
		GrossMargin:         0.8,
		FunnelLag:           DefaultFunnelLag,
		Currency:            "USD",
		ImpactWeights:       DefaultImpactWeights(),
		EnvironmentAliases:  defaultAliasTable(),
	}
}

const day = 24 * time.Hour

// DefaultFunnelLag is SPEC §3's maturation lag of funnel_conversion.
const DefaultFunnelLag = 90 * day

// Deployment status codes, kept small in memory.
const (
	stSuccess uint8 = iota
	stFailure
	stRolledBack
)

// Dep is a deployment as the engine needs it. Deployments live in a slab
// (slab.go): a Dep keeps its address and row number while it lives, and
// the rest of the dataset refers to it by either. Its strings — id,
// source, environment and the ids it names (the changes it lists,
// rollback_of, change_request) — are held as codes of the dataset's
// string table (d.str reads one); its service is svc.name.
// The small fields sit together so a million of them pad no more than
// they must.
type Dep struct {
	Finished   int64 // unix ns
	Started    int64 // 0 when absent
	RetroValid int64 // the record's own; Dataset.retroValid adds a recorded one
	Prod       bool
	Status     uint8
	Rework     bool // reason hotfix/rollback or rollback_of set
	Emergency  bool
	// hasTickets says some ticket names this deployment as its release, so
	// release impact skips the lookup for the many that have none. It may
	// stay true after such a ticket is replaced; that only costs a lookup.
	hasTickets bool
	notFirst   bool   // another source's deployment with the same id precedes it (chain.go)
	row        int32  // its slot in the deployment slab
	id, src    uint32 // codes of its id and source
	env        uint32 // code of its environment (canonical name)
	rollbackOf uint32 // code of rollback_of; 0 when none
	cr         uint32 // code of change_request; 0 when none
	// The change ids it lists, repeats dropped: d.chgRefs.at(x.changes).
	changes span
	next    int32 // row+1 of another source's deployment with the same id; 0: none
	crNext  int32 // row+1 of the next deployment carrying its change request; 0: none
	// svc is its service's place in svcList, plus one: a number, not a
	// pointer, so the rows hold none (the collector does not scan them,
	// and the dataset's state keeps them where they lie in the file).
	svc uint32
}

// depMemos are the memos of per-deployment work that most windows repeat
// (leadMemo, failMemo, impactMemo); readers fill them, writers reset them.
// They are kept apart from the deployments, in chunks that match the
// deployment slab's and are allocated when a reader first fills a memo of
// one of the chunk's deployments: the history no window reaches costs no
// memo slots.
type depMemos struct {
	impact atomic.Pointer[impactMemo]
	lead   atomic.Pointer[leadMemo]
	fail   atomic.Pointer[failMemo]
}

type memoChunk [1 << slabShift]depMemos

// memos returns x's memos for a reader to fill, allocating their chunk.
func (d *Dataset) memos(x *Dep) *depMemos {
	c := &d.memoChunks[x.row>>slabShift]
	m := c.Load()
	if m == nil {
		// Writers skip the work of resetting memos until one exists.
		d.memoized.Store(true)
		// Racing readers allocate one chunk each; the first stored wins.
		c.CompareAndSwap(nil, new(memoChunk))
		m = c.Load()
	}
	return &m[x.row&(1<<slabShift-1)]
}

// heldMemos returns the memos of the deployment in row, nil when no read
// has filled one of its chunk's.
func (d *Dataset) heldMemos(row int32) *depMemos {
	if c := d.memoChunks[row>>slabShift].Load(); c != nil {
		return &c[row&(1<<slabShift-1)]
	}
	return nil
}

// Which memos dropMemos drops.
const (
	memoImpact = 1 << iota
	memoLead
	memoFail
)

// dropMemos drops the memos of x named in which; a chunk never filled has
// none to drop.
func (d *Dataset) dropMemos(x *Dep, which int) {
	// Those of the state it was read from that it has not taken first:
	// it may hold no memo of its own.
	if which&memoLead != 0 && d.leadMemos != nil {
		d.leadMemos.drop(x.row)
	}
	if which&memoImpact != 0 && d.impactMemos != nil {
		d.impactMemos.drop(x.row)
	}
	if which&memoFail != 0 && d.failMemos != nil {
		d.failMemos.drop(x.row)
	}
	m := d.heldMemos(x.row)
	if m == nil {
		return
	}
	if which&memoImpact != 0 {
		m.impact.Store(nil)
	}
	if which&memoLead != 0 {
		m.lead.Store(nil)
	}
	if which&memoFail != 0 {
		m.fail.Store(nil)
	}
}

// growMemos makes room for the memos of deployment slab slot row (under
// the write lock: no reader holds the slice).
func (d *Dataset) growMemos(row int32) {
	n := int(row>>slabShift) + 1
	if n <= len(d.memoChunks) {
		return
	}
	grown := make([]atomic.Pointer[memoChunk], max(n, 2*len(d.memoChunks)))
	for i := range d.memoChunks {
		grown[i].Store(d.memoChunks[i].Load())
	}
	d.memoChunks = grown
}

// depRow is a production deployment as the window walks see it. The
// fields the share metrics test sit inline, so walking a month of
// deployments reads one contiguous slice instead of following a pointer
// per deployment (at scale 10 that pointer chase was most of the cost).
// It names its deployment by slab row, not by pointer: 24 bytes instead of
// 32, and nothing in the order for the collector to scan.
type depRow struct {
	fin     int64
	dur     int64 // finished − started; -1 when started is unknown
	i       int32 // the deployment's row: d.deps.at(i)
	status  uint8
	rework  bool
	tickets bool // the deployment's hasTickets, brought up to date by Prepare
}

func rowOf(x *Dep) depRow {
	dur := int64(-1)
	if x.Started != 0 {
		dur = x.Finished - x.Started
	}
	return depRow{fin: x.Finished, dur: dur, i: x.row, status: x.Status, rework: x.Rework, tickets: x.hasTickets}
}

func (r *depRow) eligible() bool { return r.status != stFailure }

// Eligible deployments can ship changes and cause incidents by inference:
// production with status success or rolled_back (SPEC §2).
func (d *Dep) eligible() bool { return d.Prod && d.Status != stFailure }

// Chg is a change as a metric sees it: a copy made for the call it is
// passed to (changesOf), not kept. The dataset holds changes as chgRow.
type Chg struct {
	ID, Source, Service string
	Merged, Authored    int64
	// Opened and FirstReview split lead time into its stages (flow.go);
	// 0 when absent.
	Opened, FirstReview int64
	row                 int32
}

// chgRow is a change as the dataset holds it: pointer-free, 36 bytes.
// Half the records of an organisation are changes, so its size counts:
// its times are whole seconds in 32 bits (secs) where nanoseconds took 64,
// and the namesake flag sits in a code's spare bit.
type chgRow struct {
	// A change with a time secs cannot hold has merged secsExact and its
	// times in Dataset.chgExact: read them with chgTimesOf or chgMerged.
	merged, authored    secs
	opened, firstReview secs   // 0 when absent
	id, svc             uint32 // string table codes
	// src is the source's code (srcCode), flagged when another source's
	// change with the same id precedes it (follows, chain.go).
	src flagged
	// explicit is the row+1 of the earliest eligible production deployment
	// listing the change (SPEC §2), kept current by Prepare; 0: none.
	explicit int32
	next     int32 // row+1 of another source's change with the same id; 0: none
}

// secs is a Unix time in whole seconds, 32 bits: 1970 to 2106, 0 for
// none. Every time the generator makes and most tools send (GitHub's and
// GitLab's merge and commit times) is a whole second; a time with a
// fraction, or outside that range, is held exactly beside the rows instead
// (secsOf says which). A million changes at scale 10 hold 16 MB less than
// as nanoseconds.
type secs uint32

// secsExact marks a row whose times are held exactly elsewhere.
const secsExact secs = math.MaxUint32

// secsOf converts a Unix time in nanoseconds; ok false: it has a fraction
// of a second or lies outside what secs holds.
func secsOf(n int64) (s secs, ok bool) {
	if n < 0 || n%1e9 != 0 || n/1e9 >= int64(secsExact) {
		return 0, false
	}
	return secs(n / 1e9), true
}

func (s secs) ns() int64 { return int64(s) * 1e9 }

// chgTimes are a change's times in Unix nanoseconds, 0 when absent.
type chgTimes struct{ merged, authored, opened, firstReview int64 }

// chgTimesOf reads the times of the change in row i.
func (d *Dataset) chgTimesOf(i int32) chgTimes {
	c := d.chgs.at(i)
	if c.merged == secsExact {
		return d.chgExact[i]
	}
	return chgTimes{c.merged.ns(), c.authored.ns(), c.opened.ns(), c.firstReview.ns()}
}

// setChgTimes puts t in the change in row i, as secs where each fits.
func (d *Dataset) setChgTimes(i int32, c *chgRow, t chgTimes) {
	m, ok1 := secsOf(t.merged)
	a, ok2 := secsOf(t.authored)
	o, ok3 := secsOf(t.opened)
	f, ok4 := secsOf(t.firstReview)
	if ok1 && ok2 && ok3 && ok4 { // secsOf never gives secsExact
		c.merged, c.authored, c.opened, c.firstReview = m, a, o, f
		return
	}
	c.merged, c.authored, c.opened, c.firstReview = secsExact, 0, 0, 0
	if d.chgExact == nil {
		d.chgExact = map[int32]chgTimes{}
	}
	d.chgExact[i] = t
}

// Inc is an incident. Its strings are string table codes (d.str reads
// one; 0 is "").
type Inc struct {
	Opened, Detected      int64
	Resolved              int64
	PostmortemDue, PMDone int64
	id, src, svc          uint32
	causedBy, causedByCR  uint32
	category, fingerprint uint32
	// origin is who reported it (monitoring, customer, internal; "" when
	// unknown): incident metrics break down and scope by it.
	origin         uint32
	Severity       uint8 // 0..4 for P0..P4
	CustomerFacing bool
}

// due is the post-mortem due time: explicit, else resolved + 5 days.
func (i *Inc) due() int64 {
	if i.PostmortemDue != 0 {
		return i.PostmortemDue
	}
	if i.Resolved == 0 {
		return 0
	}
	return i.Resolved + int64(5*day)
}

// SLISample is an SLI record; its id, source and service are string
// table codes.
type SLISample struct {
	Start, End   int64
	Good, Total  float64
	id, src, svc uint32
	latency      bool // objective latency: not an availability sample
}

// Dataset is the in-memory, indexed copy of the store's records. It is not
// safe for concurrent mutation: the owner applies records and calls
// Prepare under a write lock; metric reads share a read lock.
type Dataset struct {
	cfg Config
	// epochs gives the dataset computing under the settings in force at
	// a time (epoch.go); nil: this one's, always.
	epochs func(time.Time) *Dataset

	Services map[string]*domain.Service

	// strs interns every id and name the dataset keeps (strtab.go); the
	// maps below keyed by uint32 are keyed by its codes.
	strs *strtab

	// deps holds every deployment; depByID the row of the first of each
	// id's deployments, namesakes chained (chain.go).
	deps       slab[Dep]
	memoChunks []atomic.Pointer[memoChunk] // the deployments' memos, a chunk per slab chunk
	// The memos of the state read, taken as needed (nil: none).
	leadMemos   *stateLeads
	impactMemos *stateImpacts
	failMemos   *stateFails
	depByID     rowIndex
	chgRefs     codePool // the change lists of the deployments
	rollbacksOf map[uint32][]*Dep
	// listedBy maps a change id to the eligible production deployment
	// listing it; listedMore holds the rare further ones.
	listedBy   rowIndex // rows of the deployments, by change id code
	listedMore map[uint32][]*Dep
	relink     map[uint32]bool // change ids whose explicit deployment may have changed
	// doubtful holds the listed change ids that may resolve to nothing at
	// some as_of (no change has the id, several do, or one merged after a
	// deployment listing it finished): all Problems needs to look at.
	doubtful map[uint32]bool

	// cache holds computed results; see cache.go for why time-based
	// invalidation is exact. cacheMu guards it because readers fill it
	// concurrently under the engine's read lock.
	cacheMu sync.Mutex
	// svcs and gen version each service's deployments and changes for the
	// per-deployment memos (see svcState).
	svcs map[string]*svcState
	// svcList holds every service's state in the order they came; a
	// deployment names its service by place in it (Dep.svc).
	svcList []*svcState
	// retro holds the retro-validations recorded apart from the
	// deployments (domain.RetroValidation), by deployment: a deployment
	// redelivered without retro_validated_at keeps its validation.
	retro map[recKey]int64
	// scans holds the full vulnerability scans (domain.VulnerabilityScan)
	// by record, their times and services, scanTimes the same times in
	// order, and scanFirst each service's earliest scan: a full scan is
	// vulnerability data (LastData, present) though it changes no
	// finding's record, in its service's scopes too.
	scans     map[recKey]heldScan
	scanTimes []int64
	scanFirst map[string]int64
	gen       uint64
	cache     resultCache
	flights   map[cacheKey]*flight
	// asked holds the keys readers asked for since WarmFrom last took
	// them, once TrackAsked is on (an engine keeping two copies): what a
	// copy about to be published is warmed with.
	asked      map[cacheKey]struct{}
	trackAsked bool
	// keep is what the Prepare under way lets become stale (stale.go);
	// wanted holds the stale results readers were served since
	// RefreshStale last took them.
	keep   *Keep
	wanted map[cacheKey]struct{}
	// pending holds the memo events of the Apply calls since Prepare;
	// memoized is set once any memo was taken (see applyEvents).
	pending  []memoEvent
	memoized atomic.Bool
	// stateMem is what the arrays used in place in the state it was read
	// from share (ReadState with keep; nil otherwise).
	stateMem *stateMem
	// leadDays caches organisation lead times per UTC day (leadday.go).
	leadDays map[int64]*leadDay
	// leadsAsOf caches deployments' lead times as of an earlier time than
	// their memos are valid from (leadday.go, leadAt); emptied whenever
	// rows are applied.
	leadsAsOf map[leadAsOf]*leadMemo
	// orgWindows caches the memos the organisation's lead time and flow
	// stages read for a window (leadday.go, orgWindowAt).
	orgWindows map[orgKey]*orgWindow
	// pages keeps described pages of drill-downs (page.go); emptied whenever
	// rows are applied.
	pages map[pageKey]*Page
	// failWindows caches why the production deployments of a window
	// failed (link.go, failWindowAt).
	failWindows map[orgKey][]uint8
	// mrrs caches customers' MRR at two times (revenue.go,
	// customersMRR); emptied whenever rows are applied. Readers only read
	// what they are given.
	mrrs map[mrrKey]map[uint32]*custMRR
	// impactDays caches release-impact sums per UTC day (customer.go).
	impactDays map[int64]map[*svcState]impactAcc
	// dirty holds, per kind, the earliest timestamp of data applied since
	// the last Prepare; dirtyAll is set by reference data (see cache.go).
	dirty      map[domain.Kind]int64
	dirtyAll   bool
	depsByCR   rowIndex                 // first row per change request code; the others follow through crNext, in arrival order
	prodDeps   *sorted[depRow]          // all production deployments by finished
	ticketRows []*Dep                   // deployments whose row must learn they now have tickets
	svcDeps    map[string]*sorted[*Dep] // production deployments per service
	svcElig    map[string]*sorted[*Dep] // eligible ones per service
	emergency  map[*Dep]bool
	envs       map[string]int // production environment names in use

	// chgs holds every change; changeByID the row of the first of each
	// id's changes, namesakes chained (chain.go).
	chgs       slab[chgRow]
	changeByID rowIndex
	// chgExact holds the times of the changes whose row cannot (secs), by
	// row; nil while there are none.
	chgExact   map[int32]chgTimes
	svcChanges map[string]*sorted[int32]

	incidents   map[uint64]*Inc // by the codes of source and id (rowCode)
	incByOpened *sorted[*Inc]
	incByRes    *sorted[*Inc]
	incByDue    *sorted[*Inc]
	svcInc      map[string]*sorted[*Inc]
	incByCause  map[uint32][]*Inc // by the code of the caused_by deployment id
	incByCR     map[uint32][]*Inc // by the code of caused_by_change_request

	slis   map[uint64]*SLISample // by rowCode
	sliAll *sorted[*SLISample]
	// sliLatency holds the latency SLIs (synthetic checks too) by start.
	sliLatency *sorted[*SLISample]

	// The other kinds are compact rows, one table per kind (rows.go,
	// others.go); the metrics of the other pillars walk them.
	rows rowTables
	// presence says which kinds have data as of when (nodata.go).
	presence presence

	// times holds, per kind, what existence and freshness are judged from
	// as of any time (see kindTimes).
	times map[domain.Kind]*kindTimes

	// cites memoises Cite: the configuration is fixed per dataset.
	cites sync.Map

	// quarantine holds the stored rows that could not be decoded, by key
	// (quarantine.go).
	quarantine map[domain.Key]QuarantinedRow

	seq seqStamp // the store sequence it reflects (seq.go)
}

// kindTimes holds a kind's records' times, so how many of them exist and
// how current they are can be judged as of any time. SPEC §3: a record
// exists from its defining time, and any other timestamp of it counts only
// once it exists — so each data time is kept as max(t, defining time).
type kindTimes struct {
	born *sorted[int64] // each record's defining time
	data *sorted[int64] // each data timestamp, from when its record exists
	// bornIsData says every record's first data time is its defining time
	// — true of every kind that is not a period — so data leaves it out
	// and born stands for it: one int64 a record instead of two. A record
	// that breaks it (none should) puts the defining times into data for
	// good, so the answers never depend on it.
	bornIsData bool
}

// life is one record's entry in kindTimes; zero data times are absent.
type life struct {
	born int64
	data [3]int64
}

func (k *kindTimes) add(l life) {
	if k.bornIsData && (l.data[0] != l.born || l.born == 0) {
		k.bornIsData = false
		for _, t := range k.born.items {
			k.data.add(t)
		}
	}
	k.born.add(l.born)
	for _, t := range k.own(l) {
		if t != 0 {
			k.data.add(t)
		}
	}
}

func (k *kindTimes) remove(l life) {
	k.born.remove(l.born)
	for _, t := range k.own(l) {
		if t != 0 {
			k.data.remove(t)
		}
	}
}

// own returns the data times of a record that data holds.
func (k *kindTimes) own(l life) []int64 {
	if k.bornIsData {
		return l.data[1:]
	}
	return l.data[:]
}

// lastData is the newest data time at or before at; ok is false when
// there is none.
func (k *kindTimes) lastData(at int64) (t int64, ok bool) {
	if i := k.data.upperBound(at); i > 0 {
		t, ok = k.data.items[i-1], true
	}
	if k.bornIsData {
		if i := k.born.upperBound(at); i > 0 && (!ok || k.born.items[i-1] > t) {
			t, ok = k.born.items[i-1], true
		}
	}
	return t, ok
}

// bornAt is a record's defining time (SPEC §3 conventions) for the
// kinds not held as rows (rows.go has theirs); services always exist (0).
func bornAt(r domain.Record) int64 {
	switch r := r.(type) {
	case *domain.Deployment:
		return ns(r.FinishedAt)
	case *domain.Change:
		return ns(r.MergedAt)
	case *domain.Incident:
		return ns(r.OpenedAt)
	case *domain.SLI:
		return ns(r.PeriodStart)
	}
	return 0
}

// lifeOf is a record's kindTimes entry.
func lifeOf(r domain.Record) life {
	l := life{born: bornAt(r)}
	ts, n := dataTimes(r)
	for i, t := range ts[:n] {
		if !t.IsZero() {
			l.data[i] = max(ns(t), l.born)
		}
	}
	return l
}

// heldLife is the kindTimes entry of the record a new one replaces, from
// the form the dataset keeps it in; ok is false when there is none.
func (d *Dataset) heldLife(h held) (life, bool) {
	switch {
	case h.dep != nil:
		o := h.dep
		return life{born: o.Finished, data: [3]int64{o.Finished}}, true
	case h.inc != nil:
		o := h.inc
		l := life{born: o.Opened, data: [3]int64{o.Opened}}
		if o.Resolved != 0 {
			l.data[1] = max(o.Resolved, o.Opened)
		}
		return l, true
	case h.sli != nil:
		o := h.sli
		return life{born: o.Start, data: [3]int64{max(o.End, o.Start)}}, true
	}
	return life{}, false
}

// NewDataset returns an empty dataset.
func NewDataset(cfg Config) *Dataset {
	if len(cfg.ProductionNames) == 0 {
		cfg.ProductionNames = domain.DefaultProductionNames
	}
	if cfg.AttributionWindow <= 0 {
		cfg.AttributionWindow = 24 * time.Hour
	}
	d := &Dataset{
		cfg:         cfg,
		Services:    map[string]*domain.Service{},
		strs:        newStrtab(),
		rollbacksOf: map[uint32][]*Dep{},
		listedMore:  map[uint32][]*Dep{},
		relink:      map[uint32]bool{},
		doubtful:    map[uint32]bool{},
		cache:       newResultCache(),
		dirty:       map[domain.Kind]int64{},
		flights:     map[cacheKey]*flight{},
		leadDays:    map[int64]*leadDay{},
		impactDays:  map[int64]map[*svcState]impactAcc{},
		leadsAsOf:   map[leadAsOf]*leadMemo{},
		orgWindows:  map[orgKey]*orgWindow{},
		failWindows: map[orgKey][]uint8{},
		mrrs:        map[mrrKey]map[uint32]*custMRR{},
		svcs:        map[string]*svcState{},
		retro:       map[recKey]int64{},
		scans:       map[recKey]heldScan{},
		scanFirst:   map[string]int64{},
		svcDeps:     map[string]*sorted[*Dep]{},
		svcElig:     map[string]*sorted[*Dep]{},
		emergency:   map[*Dep]bool{},
		envs:        map[string]int{},
		svcChanges:  map[string]*sorted[int32]{},
		incidents:   map[uint64]*Inc{},
		svcInc:      map[string]*sorted[*Inc]{},
		incByCause:  map[uint32][]*Inc{},
		incByCR:     map[uint32][]*Inc{},
		slis:        map[uint64]*SLISample{},
		times:       map[domain.Kind]*kindTimes{},
	}
	incID := func(i *Inc) string { return d.str(i.id) }
	d.incByOpened = newSortedBy(func(i *Inc) int64 { return i.Opened }, incID)
	d.incByRes = newSortedBy(func(i *Inc) int64 { return i.Resolved }, incID)
	d.incByDue = newSortedBy((*Inc).due, incID)
	sliStart, sliID := func(s *SLISample) int64 { return s.Start }, func(s *SLISample) string { return d.str(s.id) }
	d.sliAll, d.sliLatency = newSortedBy(sliStart, sliID), newSortedBy(sliStart, sliID)
	d.depsByCR.keyOf = func(r int32) uint64 { return uint64(d.deps.at(r).cr) }
	d.depByID.keyOf = func(r int32) uint64 { return uint64(d.deps.at(r).id) }
	d.changeByID.keyOf = func(r int32) uint64 { return uint64(d.chgs.at(r).id) }
	d.prodDeps = newSortedBy(func(r depRow) int64 { return r.fin }, func(r depRow) string { return d.str(d.deps.at(r.i).id) })
	d.prodDeps.same = func(a, b depRow) bool { return a.i == b.i }
	d.initRows()
	return d
}

// Config returns the dataset's configuration.
func (d *Dataset) Config() Config { return d.cfg }

// The dataset keeps times as nanoseconds since 1970, which an int64 holds
// only for the years 1678–2262, while a record may carry any year 1–9999:
// an exporter's 9999-12-31 for "never" wrapped round to 1815, and a
// subscription meant to run for ever was counted as ended before it began.
// A record's time beyond these bounds is held at them: the far future and
// the far past still, with room for the windows added to a time.
var (
	earliestTime = time.Unix(0, -(1 << 62)).UTC() // 1823
	latestTime   = time.Unix(0, 1<<62).UTC()      // 2116
)

// ns is a record's time in the dataset's nanoseconds: 0 for none, and a
// time past earliestTime or latestTime held at the bound.
func ns(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(earliestTime):
		return earliestTime.UnixNano()
	case t.After(latestTime):
		return latestTime.UnixNano()
	}
	return t.UnixNano()
}

// recKey identifies a record within its kind. A struct of the record's own
// strings costs no allocation, unlike a concatenated key.
type recKey struct{ source, id string }

func key(source, id string) recKey { return recKey{source, id} }

// intern returns s as kept in the string table: a record's strings are
// kept only through it (or code), never as the decoded record holds them.
func (d *Dataset) intern(s string) string { return d.strs.str(d.strs.code(s)) }

// Reserve makes room for about n records about to be applied (a load
// whose row count is known): their strings are interned without the
// string table growing on the way. Trim gives back what was not used.
func (d *Dataset) Reserve(n int) { d.strs.reserve(n) }

// code returns the string table code of s, interning it.
func (d *Dataset) code(s string) uint32 { return d.strs.code(s) }

// codeOf returns the code of s; ok is false when no record holds s, so
// nothing can be found by it.
func (d *Dataset) codeOf(s string) (uint32, bool) { return d.strs.lookup(s) }

func removeFrom[K, T comparable](m map[K][]T, k K, x T) {
	l := m[k]
	for i, v := range l {
		if v == x {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(m, k)
	} else {
		m[k] = l
	}
}

func sortedFor[T comparable](m map[string]*sorted[T], k string, time func(T) int64, id func(T) string) *sorted[T] {
	s := m[k]
	if s == nil {
		s = newSortedBy(time, id)
		m[k] = s
	}
	return s
}

// Apply adds or replaces a record. ingested is when the store received it
// (zero when unknown).
func (d *Dataset) Apply(r domain.Record, ingested time.Time) {
	// A row written again readably is no longer quarantined, whatever its
	// kind (a retro-validation's had stayed listed).
	if len(d.quarantine) > 0 {
		delete(d.quarantine, domain.KeyOf(r))
	}
	if rv, ok := r.(*domain.RetroValidation); ok {
		d.applyRetro(rv)
		return
	}
	k := r.Kind()
	if s, ok := r.(*domain.VulnerabilityScan); ok {
		d.applyScan(s)
		return
	}
	if t := d.rows.byKind[k]; t != nil {
		t.apply(d, r)
		return
	}
	h := d.heldOf(k, r.Header().Source, r.Header().ID)
	if k != domain.KindService && k != domain.KindChange {
		kt := d.timesOf(k)
		// Freshness follows the records' own timestamps, not when they were
		// imported: re-importing an old export must not make a source that
		// stopped months ago look current. ingested is kept in the
		// signature for provenance views.
		if old, ok := d.heldLife(h); ok {
			kt.remove(old)
		}
		kt.add(lifeOf(r))
	}
	d.touchRecord(r)
	d.touchHeld(k, h)
	d.notePresence(r, h)
	switch r := r.(type) {
	case *domain.Service:
		d.Services[r.ID] = r
	case *domain.Deployment:
		d.applyDeployment(r, h)
	case *domain.Change:
		d.applyChange(r, h)
	case *domain.Incident:
		d.applyIncident(r, h)
	case *domain.SLI:
		d.applySLI(r, h)
	}
}

// held is what the dataset holds under a record's key, for the kinds not
// held as rows. Apply looks it up once: the replaced record's times, its
// presence and its removal are all read before anything changes, where
// each step looking it up by the key's strings again cost a deployment
// four lookups.
type held struct {
	// id and src are the codes of the key's id and source when interned
	// (known), so applying need not hash the strings again.
	id, src uint32
	known   bool
	dep     *Dep
	chg     int32 // the change's row; -1: none
	inc     *Inc
	sli     *SLISample
}

// heldOf finds what is held under (kind, source, id).
func (d *Dataset) heldOf(kind domain.Kind, source, id string) held {
	h := held{chg: -1}
	ic, ok1 := d.codeOf(id)
	sc, ok2 := d.codeOf(source)
	if !ok1 || !ok2 {
		return h
	}
	h.id, h.src, h.known = ic, sc, true
	switch kind {
	case domain.KindDeployment:
		if i := chainFind(&d.deps, &d.depByID, ic, sc); i >= 0 {
			h.dep = d.deps.at(i)
		}
	case domain.KindChange:
		h.chg = chainFind(&d.chgs, &d.changeByID, ic, sc)
	case domain.KindIncident:
		h.inc = d.incidents[rowCode(sc, ic)]
	case domain.KindSLI:
		h.sli = d.slis[rowCode(sc, ic)]
	}
	return h
}

// codes returns the codes of the key's id and source, interning them.
func (h held) codes(d *Dataset, source, id string) (uint32, uint32) {
	if h.known {
		return h.id, h.src
	}
	return d.code(id), d.code(source)
}

func (d *Dataset) applyDeployment(r *domain.Deployment, h held) {
	if h.dep != nil {
		d.removeDep(h.dep)
	}
	d.service(r.Service)
	env, prod := d.cfg.environment(r)
	id, src := h.codes(d, r.Source, r.ID)
	var rollbackOf, cr uint32
	if r.RollbackOf != "" {
		rollbackOf = d.code(r.RollbackOf)
	}
	if r.ChangeRequest != "" {
		cr = d.code(r.ChangeRequest)
	}
	d.bumpFailLinks(rollbackOf, cr, id)
	// Another source's deployment with this id changes what references to
	// the id resolve to (resolveRef) from its own time on, and the memos
	// taken as of all data: results as of the namesakes' times change too.
	d.forgetImpact(id)
	for o := range d.depsWithID(id) {
		d.touchNs(domain.KindDeployment, o.Finished)
	}
	row, p := d.deps.alloc()
	d.growMemos(row)
	*p = Dep{
		svc: d.service(r.Service).pos, row: row,
		id: id, src: src, env: d.code(env), rollbackOf: rollbackOf, cr: cr,
		Prod:     prod,
		Finished: ns(r.FinishedAt), Started: ns(r.StartedAt),
		Rework:    r.Reason == domain.ReasonHotfix || r.Reason == domain.ReasonRollback || r.RollbackOf != "",
		Emergency: r.Emergency, RetroValid: ns(r.RetroValidatedAt),
	}
	if len(r.Changes) > 0 {
		p.changes = d.chgRefs.add(d.uniqueCodes(r.Changes))
	}
	switch r.Status {
	case domain.StatusFailure:
		p.Status = stFailure
	case domain.StatusRolledBack:
		p.Status = stRolledBack
	}
	chainAppend(&d.deps, &d.depByID, id, row)
	p.hasTickets = len(d.rows.ticketsByRelease[id]) > 0
	if p.rollbackOf != 0 {
		d.rollbacksOf[p.rollbackOf] = append(d.rollbacksOf[p.rollbackOf], p)
	}
	if p.cr != 0 {
		d.addCR(p)
	}
	if !p.Prod {
		return
	}
	// Only a deployment that went out (success or rolled_back) ships the
	// changes it lists: a failed attempt shipped nothing, so its retry —
	// or, failing that, inference — decides where a change went (SPEC §2,
	// "ships with", read like the inference rule's status condition).
	if p.eligible() {
		for _, c := range d.listed(p) {
			d.list(c, p)
		}
	}
	d.prodDeps.add(rowOf(p))
	if p.eligible() {
		d.queue(memoEvent{d.depService(p), p.Finished, evDeployment})
	}
	sortedFor(d.svcDeps, d.depService(p), depTime, d.depID).add(p)
	if p.eligible() {
		sortedFor(d.svcElig, d.depService(p), depTime, d.depID).add(p)
	}
	if p.Emergency {
		d.emergency[p] = true
	}
	d.envs[d.str(p.env)]++
}

// uniqueCodes returns the codes of a change list with repeats dropped: a
// change is deployed once, however often its deployment lists it.
func (d *Dataset) uniqueCodes(ids []string) []uint32 {
	out := make([]uint32, 0, len(ids))
	var seen map[uint32]bool
	if len(ids) > 64 {
		seen = make(map[uint32]bool, len(ids))
	}
	for _, id := range ids {
		c := d.code(id)
		if seen != nil {
			if seen[c] {
				continue
			}
			seen[c] = true
		} else if slices.Contains(out, c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (d *Dataset) removeDep(x *Dep) {
	if x.Prod && x.eligible() {
		d.queue(memoEvent{d.depService(x), x.Finished, evDeployment})
	}
	d.bumpFailLinks(x.rollbackOf, x.cr, x.id)
	chainRemove(&d.deps, &d.depByID, x.id, x.row)
	d.forgetImpact(x.id)
	for o := range d.depsWithID(x.id) {
		d.touchNs(domain.KindDeployment, o.Finished)
	}
	if x.rollbackOf != 0 {
		removeFrom(d.rollbacksOf, x.rollbackOf, x)
	}
	if x.cr != 0 {
		d.removeCR(x)
	}
	defer d.releaseDep(x)
	if !x.Prod {
		return
	}
	if x.eligible() {
		for _, c := range d.listed(x) {
			d.unlist(c, x)
		}
	}
	d.prodDeps.remove(rowOf(x))
	d.svcDeps[d.depService(x)].remove(x)
	if x.eligible() {
		d.svcElig[d.depService(x)].remove(x)
	}
	delete(d.emergency, x)
	env := d.str(x.env)
	if d.envs[env]--; d.envs[env] <= 0 {
		delete(d.envs, env)
	}
}

// releaseDep frees a removed deployment's slot and change list.
func (d *Dataset) releaseDep(x *Dep) {
	d.dropMemos(x, memoImpact|memoLead|memoFail)
	d.chgRefs.release(x.changes)
	d.deps.release(x.row)
}

func (d *Dataset) applyChange(r *domain.Change, h held) {
	d.service(r.Service)
	if h.chg >= 0 {
		d.removeChange(h.chg)
	}
	id, src := h.codes(d, r.Source, r.ID)
	i, p := d.chgs.alloc()
	*p = chgRow{id: id, src: flagged(src), svc: d.code(r.Service)}
	d.setChgTimes(i, p, chgTimes{ns(r.MergedAt), ns(r.AuthoredAt), ns(r.OpenedAt), ns(r.FirstReviewAt)})
	c := *p
	chainAppend(&d.chgs, &d.changeByID, c.id, i)
	d.relink[c.id] = true
	svc := d.strs.str(c.svc)
	d.queue(memoEvent{svc, d.chgMerged(i), evChange})
	sortedFor(d.svcChanges, svc, d.chgMerged, d.chgID).add(i)
}

// Changes are ordered by merge time, then id.
func (d *Dataset) chgMerged(i int32) int64 {
	if c := d.chgs.at(i); c.merged != secsExact {
		return c.merged.ns()
	}
	return d.chgExact[i].merged
}
func (d *Dataset) chgID(i int32) string { return d.strs.str(d.chgs.at(i).id) }

// Deployments are ordered by finish time, then id.
func depTime(x *Dep) int64             { return x.Finished }
func (d *Dataset) depID(x *Dep) string { return d.strs.str(x.id) }

func (d *Dataset) removeChange(i int32) {
	old := *d.chgs.at(i)
	svc := d.strs.str(old.svc)
	d.queue(memoEvent{svc, d.chgMerged(i), evChange})
	chainRemove(&d.chgs, &d.changeByID, old.id, i)
	d.svcChanges[svc].remove(i)
	d.chgs.release(i)
	delete(d.chgExact, i)
	// The deployments listing its id resolve it differently now.
	d.relink[old.id] = true
	// Prepare's relink resets the memos of the deployments the id's
	// remaining changes link to; a removed change is in none of them, so
	// the deployment that took it must forget it here.
	if d.memoized.Load() {
		d.resetLead(d.depRef(old.explicit))
	}
}

var severities = map[string]uint8{"P0": 0, "P1": 1, "P2": 2, "P3": 3, "P4": 4}

func (d *Dataset) applyIncident(r *domain.Incident, h held) {
	d.incidentEvent(r.Service, ns(r.OpenedAt), r.CausedBy, r.CausedByChangeRequest)
	if h.inc != nil {
		d.removeInc(h.inc)
	}
	id, src := h.codes(d, r.Source, r.ID)
	x := &Inc{
		id: id, src: src, svc: d.code(r.Service), Severity: severities[r.Severity],
		Opened: ns(r.OpenedAt), Detected: ns(r.DetectedAt), Resolved: ns(r.ResolvedAt),
		causedBy: d.code(r.CausedBy), causedByCR: d.code(r.CausedByChangeRequest), CustomerFacing: r.CustomerFacing,
		category: d.code(r.Category), fingerprint: d.code(r.Fingerprint), origin: d.code(r.Origin),
		PostmortemDue: ns(r.PostmortemDueAt), PMDone: ns(r.PostmortemDoneAt),
	}
	d.incidents[rowCode(x.src, x.id)] = x
	d.incByOpened.add(x)
	if x.Resolved != 0 {
		d.incByRes.add(x)
		if x.CustomerFacing {
			d.incByDue.add(x)
		}
	}
	sortedFor(d.svcInc, d.str(x.svc), d.incByOpened.time, d.incByOpened.id).add(x)
	if x.causedBy != 0 {
		d.incByCause[x.causedBy] = append(d.incByCause[x.causedBy], x)
	} else if x.causedByCR != 0 {
		d.incByCR[x.causedByCR] = append(d.incByCR[x.causedByCR], x)
	}
}

func (d *Dataset) removeInc(x *Inc) {
	d.incidentEvent(d.str(x.svc), x.Opened, d.str(x.causedBy), d.str(x.causedByCR))
	delete(d.incidents, rowCode(x.src, x.id))
	d.incByOpened.remove(x)
	if x.Resolved != 0 {
		d.incByRes.remove(x)
		if x.CustomerFacing {
			d.incByDue.remove(x)
		}
	}
	d.svcInc[d.str(x.svc)].remove(x)
	if x.causedBy != 0 {
		removeFrom(d.incByCause, x.causedBy, x)
	} else if x.causedByCR != 0 {
		removeFrom(d.incByCR, x.causedByCR, x)
	}
}

func (d *Dataset) applySLI(r *domain.SLI, h held) {
	if h.sli != nil {
		d.removeSLI(h.sli)
	}
	id, src := h.codes(d, r.Source, r.ID)
	x := &SLISample{id: id, src: src, svc: d.code(r.Service), Start: ns(r.PeriodStart), End: ns(r.PeriodEnd), Good: r.Good, Total: r.Total}
	// Every SLI is kept (counted, and found when replaced); the
	// availability metrics walk the availability SLIs, latency
	// compliance the latency ones.
	x.latency = r.Objective != "" && r.Objective != "availability"
	d.slis[rowCode(x.src, x.id)] = x
	d.sliIndex(x).add(x)
}

func (d *Dataset) removeSLI(old *SLISample) {
	delete(d.slis, rowCode(old.src, old.id))
	d.sliIndex(old).remove(old)
}

// sliIndex is the index an SLI of its objective is kept in.
func (d *Dataset) sliIndex(x *SLISample) *sorted[*SLISample] {
	if x.latency {
		return d.sliLatency
	}
	return d.sliAll
}

// dataTimes are the moments a record says something happened, for the
// kinds not held as rows: its newest event and, for an incident, whose
// resolution may still lie ahead of an as_of, the moment it began.
func dataTimes(r domain.Record) ([2]time.Time, int) {
	switch r := r.(type) {
	case *domain.Deployment:
		// finished_at, not a later cutover: it is when the deployment
		// exists (SPEC §3), and what a replaced one is found by.
		return [2]time.Time{r.FinishedAt}, 1
	case *domain.Incident:
		return [2]time.Time{r.OpenedAt, r.ResolvedAt}, 2
	// A period record reports up to the end of its period, whatever the
	// kind's event time.
	case *domain.SLI:
		return [2]time.Time{r.PeriodEnd}, 1
	}
	return [2]time.Time{r.EventTime()}, 1
}

// Prepare restores the indexes' order after a round of Apply calls.
func (d *Dataset) Prepare() {
	for id := range d.relink {
		if d.listDoubtful(id) {
			d.doubtful[id] = true
		} else {
			delete(d.doubtful, id)
		}
		if d.sharedChangeID(id) && d.memoized.Load() {
			// Another source's change with this id moves when the id's
			// links settle (changeSettled), which every deployment
			// listing it keeps in its lead memo.
			d.listing(id, d.resetLead)
		}
		for i := range d.chgsWithID(id) {
			e := d.explicitScan(i, math.MaxInt64)
			c := d.chgs.at(i)
			// The deployments it was and is listed by, and the one that
			// would take it by inference, see a different set of changes.
			if d.memoized.Load() {
				d.resetLead(d.depRef(c.explicit))
				d.resetLead(e)
				d.queue(memoEvent{d.strs.str(c.svc), d.chgMerged(i), evChange})
			}
			c.explicit = 0
			if e != nil {
				c.explicit = e.row + 1
			}
		}
	}
	// A fresh map, not clear: after a bulk load the emptied map would keep
	// room for every change id (~100 MB at scale 10) for good.
	d.relink = map[uint32]bool{}
	d.chgRefs.compact(func(fn func(s *span)) {
		for x := range d.allDeps() {
			fn(&x.changes)
		}
	})
	d.rebuildPresence()
	d.invalidate()
	d.eachOrder(order.prepare)
	for _, x := range d.ticketRows {
		// x points into the deployments' slab: a deployment removed since
		// (corrected, quarantined) left its slot zeroed — row 0, which
		// would set the flag of the deployment in slot 0 (its release
		// impact then read as no tickets: a start from the image, which
		// removed a deployment the store never had, differed) — or to a
		// deployment applied since, whose own flag it then sets.
		if d.deps.at(x.row) != x {
			continue
		}
		if i := d.prodDeps.index(depRow{fin: x.Finished, i: x.row}); i >= 0 {
			d.prodDeps.items[i].tickets = x.hasTickets
		}
	}
	d.ticketRows = d.ticketRows[:0]
	d.applyEvents()
}

// order is one of the dataset's time orders (a sorted index): Prepare
// sorts in what was applied since, Trim gives back append's room.
type order interface {
	prepare()
	trim()
}

// eachOrder calls fn with every time order the dataset keeps.
func (d *Dataset) eachOrder(fn func(order)) {
	fn(d.prodDeps)
	for _, m := range []map[string]*sorted[*Dep]{d.svcDeps, d.svcElig} {
		for _, s := range m {
			fn(s)
		}
	}
	for _, s := range d.svcChanges {
		fn(s)
	}
	for _, s := range []*sorted[*Inc]{d.incByOpened, d.incByRes, d.incByDue} {
		fn(s)
	}
	for _, s := range d.svcInc {
		fn(s)
	}
	fn(d.sliAll)
	fn(d.sliLatency)
	for _, t := range d.rows.byKind {
		fn(t.timeOrder())
	}
	fn(d.rows.escalated)
	for _, s := range d.rows.byOrders() {
		fn(s)
	}
	for _, k := range d.times {
		fn(k.born)
		fn(k.data)
	}
}

// FirstData returns when the data begins: the earliest defining time of
// any record (a period record's start), and whether there is any.
func (d *Dataset) FirstData() (time.Time, bool) {
	first, ok := int64(math.MaxInt64), false
	for _, kp := range d.presence.kinds {
		if kp != nil && kp.first < first {
			first, ok = kp.first, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, first).UTC(), true
}

// FirstDataOf returns when a kind's data begins: the earliest defining time
// of its records (a period record's start), and whether it has any.
func (d *Dataset) FirstDataOf(kind domain.Kind) (time.Time, bool) {
	kp := d.presence.kinds[kind]
	if kp == nil {
		return time.Time{}, false
	}
	return time.Unix(0, kp.first).UTC(), true
}

// LastData returns the newest data time of a kind at or before asOf — of
// the records that exist then, by their own timestamps — and whether the
// kind has any data by then. Services have no time: never any. A full
// vulnerability scan's time is vulnerability data too (applyScan).
func (d *Dataset) LastData(kind domain.Kind, asOf time.Time) (time.Time, bool) {
	at := asOf.UnixNano()
	if kind == domain.KindChange {
		if _, t, ok := d.changesMergedBy(at); ok {
			return time.Unix(0, t).UTC(), true
		}
		return time.Time{}, false
	}
	var t int64
	var ok bool
	if kt := d.times[kind]; kt != nil {
		// A period that has begun and not ended by as_of (a quarter's
		// bill, a month-to-date figure) reports up to as_of: each period
		// record has one data time, its end, so more records begun than
		// ended means one is open.
		if kind.Period() && kt.born.upperBound(at) > kt.data.upperBound(at) {
			return asOf.UTC(), true
		}
		t, ok = kt.lastData(at)
	}
	if kind == domain.KindVulnerability {
		if s, scanned := d.lastScan(at); scanned && (!ok || s > t) {
			t, ok = s, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, t).UTC(), true
}

// CountAt returns the number of records of a kind that exist at asOf (SPEC
// §3: from their defining time; period kinds from their period's start;
// services always).
func (d *Dataset) CountAt(kind domain.Kind, asOf time.Time) int {
	if kind == domain.KindService {
		return len(d.Services)
	}
	if kind == domain.KindChange {
		n, _, _ := d.changesMergedBy(asOf.UnixNano())
		return n
	}
	if kt := d.times[kind]; kt != nil {
		return kt.born.upperBound(asOf.UnixNano())
	}
	return 0
}

// Counts returns the number of records held per kind.
func (d *Dataset) Counts() map[domain.Kind]int {
	out := map[domain.Kind]int{
		domain.KindService: len(d.Services), domain.KindDeployment: d.deps.live(),
		domain.KindChange: d.chgs.live(), domain.KindIncident: len(d.incidents), domain.KindSLI: len(d.slis),
	}
	for k, t := range d.rows.byKind {
		if n := t.count(); n > 0 {
			out[k] = n
		}
	}
	return out
}

// Environments lists the production environment names in use.
func (d *Dataset) Environments() []string {
	out := make([]string, 0, len(d.envs))
	for e := range d.envs {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// ServiceAttr returns a service's team, tier or business unit ("" when
// unknown).
func (d *Dataset) ServiceAttr(service, dim string) string {
	s := d.Services[service]
	switch dim {
	case "service":
		return service
	case "team":
		if s == nil || s.Team == "" {
			return ""
		}
		return s.Team
	case "business_unit":
		if s == nil {
			return ""
		}
		return s.BusinessUnit
	case "tier":
		if s == nil || s.Tier == 0 {
			return ""
		}
		return strconv.Itoa(s.Tier)
	}
	return ""
}

// forgetImpact drops the release-impact memos of the deployments with an id.
func (d *Dataset) forgetImpact(id uint32) {
	if !d.memoized.Load() {
		return // no memo to forget: a load applies no faster without this
	}
	for x := range d.depsWithID(id) {
		d.dropMemos(x, memoImpact)
	}
}

// svcState is per-service bookkeeping shared by the service's rows and
// memos. Written only under the write lock.
type svcState struct {
	name string
	pos  uint32 // its place in svcList, plus one (Dep.svc)
	// failGen versions what decides its deployments' failures beyond gen:
	// incidents and rollbacks naming them, change requests and ids they
	// share with other deployments (failMemo).
	failGen uint64
	// clean is the failure memo of its deployments that nothing makes
	// fail and whose id no other source shares (most of them), as of
	// failGen clean.links: one shared memo where each held its own
	// 48 bytes — ~14 MB of heap at scale 1 once a 1M-record import's
	// deployments were read (docs/performance.md). Readers swap it;
	// nobody writes into a memo once stored.
	clean atomic.Pointer[failMemo]
}

// service returns a service's state, creating it.
func (d *Dataset) service(name string) *svcState {
	s := d.svcs[name]
	if s == nil {
		d.svcList = append(d.svcList, &svcState{name: d.intern(name), pos: uint32(len(d.svcList) + 1)})
		s = d.svcList[len(d.svcList)-1]
		d.svcs[name] = s
	}
	return s
}

// depSvc is a deployment's service (Dep.svc).
func (d *Dataset) depSvc(x *Dep) *svcState { return d.svcList[x.svc-1] }

// depService is the name of a deployment's service.
func (d *Dataset) depService(x *Dep) string { return d.svcList[x.svc-1].name }

// list notes that deployment x lists change id; unlist undoes it.
func (d *Dataset) list(id uint32, x *Dep) {
	if _, ok := d.listedBy.get(uint64(id)); !ok {
		d.listedBy.set(uint64(id), x.row)
	} else {
		d.listedMore[id] = append(d.listedMore[id], x)
	}
	d.relink[id] = true
}

func (d *Dataset) unlist(id uint32, x *Dep) {
	if r, ok := d.listedBy.get(uint64(id)); ok && r == x.row {
		if more := d.listedMore[id]; len(more) > 0 {
			d.listedBy.set(uint64(id), more[0].row)
			removeFrom(d.listedMore, id, more[0])
		} else {
			d.listedBy.clear(uint64(id))
		}
	} else {
		removeFrom(d.listedMore, id, x)
	}
	d.relink[id] = true
}

// listDoubtful reports whether a listed change id may resolve to nothing
// as of some time (see doubtful).
func (d *Dataset) listDoubtful(id uint32) bool {
	if _, ok := d.listedBy.get(uint64(id)); !ok {
		return false
	}
	i, ok := d.changeByID.get(uint64(id))
	if !ok || d.chgs.at(i).next != 0 {
		return true
	}
	merged := d.chgMerged(i)
	doubt := false
	d.listing(id, func(x *Dep) { doubt = doubt || x.Finished < merged })
	return doubt
}

// listing calls fn for every eligible production deployment listing id.
func (d *Dataset) listing(id uint32, fn func(x *Dep)) {
	if r, ok := d.listedBy.get(uint64(id)); ok {
		fn(d.deps.at(r))
		for _, y := range d.listedMore[id] {
			fn(y)
		}
	}
}

// bumpFail gives a service a new failure generation.
func (d *Dataset) bumpFail(service string) {
	d.gen++
	d.service(service).failGen = d.gen
}

// bumpFailLinks moves the failure generation of every service with a
// deployment that a record naming these can change the failure of: the
// deployments with the id it names (rolled back, caused an incident), those
// of the change request it names, and the namesakes of its own id.
// The ids are string table codes, 0 for none.
func (d *Dataset) bumpFailLinks(depID, changeRequest, ownID uint32) {
	if !d.memoized.Load() {
		// Generations only tell failure memos apart, and none was taken
		// (a first load): finding the deployments would be the cost.
		return
	}
	for _, id := range [...]uint32{depID, ownID} {
		if id == 0 {
			continue
		}
		for x := range d.depsWithID(id) {
			d.bumpFail(d.depService(x))
		}
	}
	if changeRequest != 0 {
		for x := range d.depsWithCR(changeRequest) {
			d.bumpFail(d.depService(x))
		}
	}
}

// A memoEvent is a change that moves the links of the deployments near it
// in time: an eligible production deployment (inferred change ranges and
// inferred incident attribution of its service), a change (its inferred
// deployment), an incident without an explicit cause (its inferred
// deployment). Apply queues them; Prepare, once the indexes are ordered,
// resets exactly the memos they reach (applyEvents) — a new deployment
// must not throw away a year of its service's memos.
type memoEvent struct {
	service string
	at      int64
	what    uint8
}

const (
	evDeployment uint8 = iota
	evChange
	evIncident
)

// queue notes an event for applyEvents; before any memo was taken (the
// initial load) there is nothing to reset, and millions of events would
// only cost memory.
func (d *Dataset) queue(ev memoEvent) {
	if d.memoized.Load() {
		d.pending = append(d.pending, ev)
	}
}

func (d *Dataset) incidentEvent(service string, opened int64, causedBy, cr string) {
	if causedBy == "" && cr == "" {
		d.queue(memoEvent{service, opened, evIncident})
	}
	// An id no record holds names no deployment: nothing to move.
	dep, _ := d.codeOf(causedBy)
	req, _ := d.codeOf(cr)
	d.bumpFailLinks(dep, req, 0)
}

// applyEvents resets the memos the queued events reach. Before any memo
// was taken (the initial load) there is nothing to reset.
func (d *Dataset) applyEvents() {
	defer func() { d.pending = d.pending[:0] }()
	if !d.memoized.Load() {
		return
	}
	w := int64(d.cfg.AttributionWindow)
	for _, ev := range d.pending {
		s := d.svcElig[ev.service]
		if s == nil {
			continue
		}
		switch ev.what {
		case evDeployment:
			// Its range cut the next one's; incidents opened up to the
			// attribution window after it moved to it from earlier ones.
			d.resetFrom(s, ev.at)
			for _, x := range s.between(ev.at-w, ev.at+1) {
				d.dropMemos(x, memoFail)
			}
		case evChange:
			d.resetFrom(s, ev.at)
		case evIncident:
			for _, x := range s.between(ev.at-w, ev.at+1) {
				d.dropMemos(x, memoFail)
			}
		}
	}
}

// resetFrom resets the lead memos of the eligible deployments finishing at
// t and of the first one after t: those whose inferred range holds t.
func (d *Dataset) resetFrom(s *sorted[*Dep], t int64) {
	for i := s.lowerBound(t); i < len(s.items); i++ {
		d.resetLead(s.items[i])
		if s.items[i].Finished > t {
			break
		}
	}
}

// resetLead drops x's lead-time memo and the organisation day holding it.
func (d *Dataset) resetLead(x *Dep) {
	if x == nil {
		return
	}
	d.dropMemos(x, memoLead)
	d.cacheMu.Lock()
	delete(d.leadDays, floorDay(x.Finished))
	clear(d.orgWindows)
	d.cacheMu.Unlock()
}
