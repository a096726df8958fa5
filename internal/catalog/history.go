package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goccy/go-yaml"
)

// Definitions are frozen (SPEC §5): an organisation's definitions are the built-in ones changed by
// a list of approved changes, each taking effect at its time, and every version is kept. A
// catalog made governed (Governed) holds that history; At gives the definitions in force at a
// time, so computing as of a past date uses the definitions in force then.
//
// The history is shared by every copy of a governed catalog and replaced whole when a change is
// approved (Govern), so a server hands one catalog to its pages, jobs and API once, and each
// reads the current history through it. Its Metrics, Pillars and Views fields are the built-in
// definitions: what does not change through governance (id, name, pillar, unit, direction,
// sources, breakdowns, sensitivity) can be read from them, anything else only through At or
// Metric.At.

// Change is one approved change to a metric's definition.
type Change struct {
	Metric string
	// At is when the change took effect; the zero time means from the start (the organisation's
	// initial definitions, from its configuration file at first start).
	At time.Time
	// Override holds the changed fields; Retire retires the metric instead (it is never deleted:
	// its history and last status stay).
	Override Override
	Retire   bool
	// Ref names what made the change ("configuration", "proposal 12"); the version carries it.
	Ref string
}

// governed holds a catalog's history, shared by its copies, and the role views in force once an
// approved section replaced them (SetViews; nil: the catalog's Views).
type governed struct {
	cur   atomic.Pointer[history]
	views atomic.Pointer[[]View]
	// mu orders the writers of cur (Govern, SetCustomMetrics); readers only Load.
	mu sync.Mutex
}

// history is each metric's versions, oldest first: the built-in definition, then one per change,
// and the changes that made them, in order.
type history struct {
	versions map[string][]Metric
	changes  []Change
	// metrics are the definitions the changes apply to once SetCustomMetrics replaced the
	// organisation's own (nil: the catalog's Metrics). Kept with the versions made of them, so a
	// reader sees both of one set, never a mix.
	metrics []Metric
	// earlier are the organisation's metrics in force before them, oldest first
	// (SetCustomVersions), each with the versions the changes make of it.
	earlier []era
}

// era is a list of the catalog's metrics in force until a time, with the versions the changes
// make of it.
type era struct {
	until    time.Time
	metrics  []Metric
	versions map[string][]Metric
}

// CustomEra is a list of the organisation's own metrics (as AddMetrics makes them) and when it
// took effect.
type CustomEra struct {
	From    time.Time
	Metrics []Metric
}

// Governed returns a copy of c that keeps a history of approved changes (none yet); see Govern.
func (c *Catalog) Governed() *Catalog {
	out := c.clone()
	out.gov = &governed{}
	for i := range out.Metrics {
		out.Metrics[i].gov = out.gov
	}
	return out
}

// Govern replaces the history of a governed catalog (and of every copy of it) with the versions
// that changes make of its built-in definitions, in order of time (changes at one time in the
// order given). A change that names no metric, changes a retired one or breaks a rule is an
// error naming the change, and the history stays as it was.
func (c *Catalog) Govern(changes []Change) error {
	if c.gov == nil {
		return errors.New("catalog: Govern on a catalog that is not governed (see Governed)")
	}
	c.gov.mu.Lock()
	defer c.gov.mu.Unlock()
	var list []Metric
	var earlier []era
	if prev := c.gov.cur.Load(); prev != nil {
		list, earlier = prev.metrics, prev.earlier
	}
	base := list
	if base == nil {
		base = c.Metrics
	}
	h, err := c.build(base, changes)
	if err != nil {
		return err
	}
	h.metrics = list
	if h.earlier, err = c.buildEras(earlier, changes); err != nil {
		return err
	}
	c.gov.cur.Store(h)
	return nil
}

// Check reports whether the changes, applied in order after the history in force, would make a
// valid history: what Govern would say, without changing anything.
func (c *Catalog) Check(changes []Change) error {
	_, err := c.build(c.MetricsInForce(), changes)
	return err
}

// SetCustomMetrics puts another list of the organisation's own metrics (as AddMetrics makes them)
// in force in a governed catalog and every copy of it, after the built-in ones: an approved
// custom_metrics section, while the server runs. The approved changes are applied to the new
// definitions; one that names a metric no longer there is an error, and nothing changes. Readers
// of MetricsInForce, Metric, At and the versions see the old list or the new one, never a mix.
func (c *Catalog) SetCustomMetrics(own []Metric) error {
	return c.SetCustomVersions([]CustomEra{{Metrics: own}})
}

// SetCustomVersions is SetCustomMetrics with the lists in force over time, oldest first (the
// first from the start, the last in force now): a metric's version at t (At) is then its entry in
// the list in force at t — or, for one that list lacks, in the first later one that has it — with
// the approved changes up to t applied. The last list is the one MetricsInForce, Metric and
// Versions read.
func (c *Catalog) SetCustomVersions(eras []CustomEra) error {
	if c.gov == nil {
		return errors.New("catalog: SetCustomVersions on a catalog that is not governed (see Governed)")
	}
	if len(eras) == 0 {
		return errors.New("catalog: SetCustomVersions without a list")
	}
	c.gov.mu.Lock()
	defer c.gov.mu.Unlock()
	lists := make([][]Metric, len(eras))
	for i, e := range eras {
		own := make([]Metric, 0, len(e.Metrics))
		for _, m := range e.Metrics {
			m = m.clone()
			m.Custom, m.gov = true, c.gov
			own = append(own, m)
		}
		lists[i] = c.base(own)
	}
	var changes []Change
	if h := c.gov.cur.Load(); h != nil {
		changes = h.changes
	}
	last := lists[len(lists)-1]
	h, err := c.build(last, changes)
	if err != nil {
		return fmt.Errorf("the organisation's metrics: %w", err)
	}
	h.metrics = last
	var earlier []era
	for i := range eras[:len(eras)-1] {
		earlier = append(earlier, era{until: eras[i+1].From, metrics: lists[i]})
	}
	if h.earlier, err = c.buildEras(earlier, changes); err != nil {
		return fmt.Errorf("the organisation's metrics: %w", err)
	}
	c.gov.cur.Store(h)
	return nil
}

// buildEras makes the versions the changes make of each earlier list. A change naming a metric an
// earlier list lacks (added since) is left out of that list's versions.
func (c *Catalog) buildEras(eras []era, changes []Change) ([]era, error) {
	out := make([]era, len(eras))
	for i, e := range eras {
		var kept []Change
		for _, ch := range changes {
			if slices.ContainsFunc(e.metrics, func(m Metric) bool { return m.ID == ch.Metric }) {
				kept = append(kept, ch)
			}
		}
		h, err := c.build(e.metrics, kept)
		if err != nil {
			return nil, fmt.Errorf("the list in force until %s: %w", e.until.Format(time.RFC3339), err)
		}
		out[i] = era{until: e.until, metrics: e.metrics, versions: h.versions}
	}
	return out, nil
}

// base is the built-in metrics followed by own.
func (c *Catalog) base(own []Metric) []Metric {
	out := make([]Metric, 0, len(c.Metrics)+len(own))
	for _, m := range c.Metrics {
		if !m.Custom {
			out = append(out, m)
		}
	}
	return append(out, own...)
}

// MetricsInForce returns the definitions the history starts from: the built-in metrics and the
// organisation's own in force (SetCustomMetrics; until then the catalog's Metrics). Each metric's
// version at a time is its At. The result is shared: read it, do not modify it.
func (c *Catalog) MetricsInForce() []Metric {
	if c.gov != nil && !c.at {
		if h := c.gov.cur.Load(); h != nil && h.metrics != nil {
			return h.metrics
		}
	}
	return c.Metrics
}

func (c *Catalog) build(base []Metric, changes []Change) (*history, error) {
	ordered := slices.Clone(changes)
	slices.SortStableFunc(ordered, func(a, b Change) int { return a.At.Compare(b.At) })
	// The definitions, without the history: Apply works on plain catalogs.
	// Without the views too: the history is of metrics, and the views in
	// force may name an organisation's metric base drops (or lack one it
	// adds) until SetViews replaces them; they are checked where they are
	// set, and Apply's check of them had refused every such list.
	cur := &Catalog{Pillars: c.Pillars, Metrics: make([]Metric, len(base))}
	for i, m := range base {
		cur.Metrics[i] = m.clone()
		cur.Metrics[i].gov = nil
	}
	h := &history{versions: map[string][]Metric{}, changes: ordered}
	for _, ch := range ordered {
		old, ok := cur.Metric(ch.Metric)
		if !ok {
			return nil, fmt.Errorf("%s: no metric %q in the catalog", ch.Ref, ch.Metric)
		}
		if old.Retired {
			return nil, fmt.Errorf("%s: metric %s was retired (version %d); a retired metric keeps its history and is not changed again", ch.Ref, ch.Metric, old.Version)
		}
		before := old.clone()
		if ch.Retire {
			old.Retired = true
			old.Version++
			old.Overridden = append(old.Overridden, "retired")
		} else {
			next, err := cur.Apply(map[string]Override{ch.Metric: ch.Override})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ch.Ref, err)
			}
			cur = next
		}
		m, _ := cur.Metric(ch.Metric)
		if m.Version == before.Version {
			// Nothing changed: no version (Apply bumps only on a change).
			continue
		}
		m.From, m.Ref = ch.At, ch.Ref
		if !ch.At.IsZero() {
			m.Effective = ch.At.UTC().Format(time.DateOnly)
		}
		vs := h.versions[ch.Metric]
		if len(vs) == 0 {
			vs = append(vs, before)
		}
		h.versions[ch.Metric] = append(vs, m.clone())
	}
	for id, vs := range h.versions {
		for i := range vs {
			vs[i].gov = c.gov
		}
		h.versions[id] = vs
	}
	return h, nil
}

// Changes returns the changes the history holds, in order of time.
func (c *Catalog) Changes() []Change {
	if c.gov == nil {
		return nil
	}
	if h := c.gov.cur.Load(); h != nil {
		return slices.Clone(h.changes)
	}
	return nil
}

// Next returns the version a change would make of its metric after the history's changes, and
// the version in force at the change's time; nothing is kept.
func (c *Catalog) Next(ch Change) (next, old *Metric, err error) {
	base, ok := c.Metric(ch.Metric)
	if !ok {
		return nil, nil, fmt.Errorf("no metric %q in the catalog", ch.Metric)
	}
	old = base.At(ch.At)
	h, err := c.build(c.MetricsInForce(), append(c.Changes(), ch))
	if err != nil {
		return nil, old, err
	}
	vs := h.versions[ch.Metric]
	if len(vs) == 0 {
		return old, old, nil
	}
	return &vs[len(vs)-1], old, nil
}

// At returns the version of the definition in force at t: the last one that took effect at or
// before t. A metric of a catalog that is not governed, or without changes, is its own only
// version. The result is shared: read it, do not modify it.
func (m *Metric) At(t time.Time) *Metric {
	vs := m.versionsAt(t)
	if len(vs) == 0 {
		return m
	}
	i := sort.Search(len(vs), func(i int) bool { return vs[i].From.After(t) })
	if i == 0 {
		return &vs[0]
	}
	return &vs[i-1]
}

// AddedAt is when an organisation's metric came into the catalog: the start of the first list in
// force (SetCustomVersions) that holds it — an approved custom_metrics value that added it —, zero
// for one the first list holds, which has been there from the start, and for a built-in. Its
// values before then are computed by its first definition, but nobody could act on it: an
// escalation's 7 days count from then.
func (m *Metric) AddedAt() time.Time {
	if m.gov == nil || !m.Custom {
		return time.Time{}
	}
	h := m.gov.cur.Load()
	if h == nil {
		return time.Time{}
	}
	var from time.Time
	for _, e := range h.earlier {
		if slices.ContainsFunc(e.metrics, func(x Metric) bool { return x.ID == m.ID }) {
			return from
		}
		from = e.until
	}
	return from
}

// Versions returns every version of the definition, oldest first (the built-in one first); one
// version for a metric never changed.
func (m *Metric) Versions() []Metric {
	if vs := m.versions(); len(vs) > 0 {
		return vs
	}
	return []Metric{*m}
}

func (m *Metric) versions() []Metric {
	if m.gov == nil {
		return nil
	}
	h := m.gov.cur.Load()
	if h == nil {
		return nil
	}
	return h.versions[m.ID]
}

// versionsAt are the versions of the list in force at t that has the metric (SetCustomVersions):
// an organisation's metric's entry in an earlier list, alone when no change made another.
func (m *Metric) versionsAt(t time.Time) []Metric {
	if m.gov == nil || !m.Custom {
		return m.versions()
	}
	h := m.gov.cur.Load()
	if h == nil {
		return nil
	}
	for _, e := range h.earlier {
		if !t.Before(e.until) {
			continue
		}
		if vs, ok := e.versions[m.ID]; ok {
			return vs
		}
		for i := range e.metrics {
			if e.metrics[i].ID == m.ID {
				return e.metrics[i : i+1]
			}
		}
	}
	return h.versions[m.ID]
}

// At returns the catalog in force at t: every metric at its version in force then (retired ones
// included, marked Retired; Live leaves them out). A catalog that is not governed is returned as
// it is. The result shares the versions: read it, do not modify it.
func (c *Catalog) At(t time.Time) *Catalog {
	if c.gov == nil || c.gov.cur.Load() == nil {
		return c
	}
	base := c.MetricsInForce()
	out := &Catalog{Pillars: c.Pillars, Views: c.Views, Metrics: make([]Metric, len(base)), gov: c.gov, at: true}
	for i := range base {
		out.Metrics[i] = *base[i].At(t)
	}
	return out
}

// SetViews puts another list of role views (the built-in ones and the organisation's, as
// AddViews makes it) in force in a governed catalog and every copy of it: an approved views
// section, while the server runs. The list is replaced whole, so a reader of ViewsInForce or View
// sees the old list or the new one, never a mix.
func (c *Catalog) SetViews(views []View) error {
	if c.gov == nil {
		return errors.New("catalog: SetViews on a catalog that is not governed (see Governed)")
	}
	out := make([]View, len(views))
	for i, v := range views {
		out[i] = v.clone()
	}
	c.gov.views.Store(&out)
	return nil
}

// ViewsInForce returns the role views in force: those SetViews put in force last, or the catalog's
// Views. The result is shared: read it, do not modify it.
func (c *Catalog) ViewsInForce() []View {
	if c.gov != nil {
		if p := c.gov.views.Load(); p != nil {
			return *p
		}
	}
	return c.Views
}

// MetricAt returns the metric's version in force at t.
func (c *Catalog) MetricAt(id string, t time.Time) (*Metric, bool) {
	m, ok := c.Metric(id)
	if !ok {
		return nil, false
	}
	return m.At(t), true
}

// ParseOverride reads the changes of a definition proposal: a JSON (or YAML) object with the
// fields of an override in the configuration file (owner, window, target, thresholds,
// min_sample, priority, signoff, signoff_by). An unknown field is an error naming it, so a
// misspelt change is refused rather than ignored.
func ParseOverride(data []byte) (Override, error) {
	var o Override
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField())
	if err := dec.Decode(&o); err != nil {
		msg := yaml.FormatError(err, false, false)
		msg, _, _ = strings.Cut(msg, "\n")
		return o, errors.New(strings.TrimSpace(msg))
	}
	return o, nil
}

// Loosening is one way a change makes a metric easier to meet (SPEC §5: a lenient threshold or
// target, a longer window, retirement), with the scope whose status decides whether it needs two
// approvals: the organisation (Dim "") for the definition's own fields.
type Loosening struct {
	Field string `json:"field"`
	Dim   string `json:"dim,omitempty"`
	Value string `json:"value,omitempty"`
	Why   string `json:"why"`
}

// Loosens lists how the version next loosens the version old. Besides SPEC's list it counts a
// higher min_sample, which can turn a red value "unknown (too few cases)": a status hidden is a
// status loosened.
func Loosens(old, next *Metric) []Loosening {
	var out []Loosening
	add := func(field, format string, args ...any) {
		out = append(out, Loosening{Field: field, Why: fmt.Sprintf(format, args...)})
	}
	if next.Retired && !old.Retired {
		add("retire", "retiring a metric stops it being judged")
	}
	if next.Window > old.Window {
		add("window", "a longer window (%s → %s) dilutes recent values", FormatWindow(old.Window), FormatWindow(next.Window))
	}
	if next.MinSample > old.MinSample {
		add("min_sample", "a higher min_sample (%d → %d) can make a red value unknown", old.MinSample, next.MinSample)
	}
	if o, n := old.Thresholds, next.Thresholds; o != nil && n != nil && o.RelativeTo == n.RelativeTo {
		for _, b := range []struct {
			name     string
			from, to float64
		}{{"green", o.Green, n.Green}, {"amber", o.Amber, n.Amber}} {
			if lenient(old.Better, b.from, b.to) {
				add("thresholds", "the %s bound moves the lenient way (%s → %s, %s is better)", b.name, formatNumber(b.from), formatNumber(b.to), old.Better)
			}
		}
	}
	if old.Target != nil && next.Target != nil && lenient(old.Better, *old.Target, *next.Target) {
		add("target", "the target moves the lenient way (%s → %s, %s is better)", formatNumber(*old.Target), formatNumber(*next.Target), old.Better)
	}
	return out
}

// lenient reports whether moving a bound from a to b makes it easier to meet.
func lenient(better string, a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) || a == b {
		return false
	}
	if better == Lower {
		return b > a
	}
	return b < a
}
