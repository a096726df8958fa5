package escalation

import (
	"cmp"
	"slices"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// After is how long a metric must have needed attention before it
// escalates (SPEC §4: amber is never ignored for more than 7 days).
const After = 7 * 24 * time.Hour

// Why a metric escalates.
const (
	Unacknowledged = "unacknowledged"
	Overdue        = "overdue"
)

// Escalation is a metric (in a scope) that has needed attention for
// After and has no current acknowledgement.
type Escalation struct {
	Metric   string         `json:"metric"`
	Name     string         `json:"name"`
	Pillar   string         `json:"pillar"`
	Priority string         `json:"priority"`
	Owner    string         `json:"owner"`
	Scope    string         `json:"scope,omitempty"`
	Status   catalog.Status `json:"status"`
	// Degrading is set when the metric worsened three weeks running.
	Degrading bool   `json:"degrading,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Since is the earliest daily check of the run found: the metric has
	// needed attention at every check from it to as_of.
	Since time.Time `json:"since"`
	// Why is Unacknowledged or Overdue; Acknowledgement is the overdue one.
	Why             string           `json:"why"`
	Acknowledgement *Acknowledgement `json:"acknowledgement,omitempty"`
}

// Options select the escalations computed.
type Options struct {
	AsOf time.Time
	// Visible, when set, keeps only the metrics it accepts (the reader's
	// grants): the others are not computed.
	Visible func(*catalog.Metric) bool
	// Scope narrows the check to a team, service or environment; zero means
	// the organisation, plus every scope someone acknowledged.
	Scope metrics.Scope
	// Annotations are the business-cycle periods in force: a metric exempt during one
	// (degrading_exempt) is not degrading for a worse week inside it (scorecard.Options).
	Annotations []catalog.Annotation
	// AcksBy, when set, is when acknowledgements must have been recorded by
	// to count, instead of AsOf: a page asked for now is answered as of the
	// current minute (its results shared), and an action recorded in the
	// seconds since counts at once.
	AcksBy time.Time
	// Closing judges each check reading quota periods as the ones closing
	// then (scorecard.Options.Closing), as a page asked with closing=1
	// judges its cards: its panel and its cards' marks agree. The leader
	// raises escalations by SPEC §3's rule for an instant.
	Closing bool
}

// acksBy is when acknowledgements must have been recorded by to count.
func (o Options) acksBy() time.Time {
	if o.AcksBy.IsZero() {
		return o.AsOf
	}
	return o.AcksBy
}

// Escalations lists what escalates as of opt.AsOf: P0 first, then red
// before amber and unknown, then the longest-running. The status history
// is computed from the data (scorecard.Evaluate at past as_of), not read
// from KPI snapshots, which are weekly and exist only while a server runs:
// a metric needs attention at a check when it is amber, red or unknown
// (which counts as amber, SPEC §4) or degrading, and it escalates when it
// needs attention at as_of and at every midnight (UTC) from the one
// starting as_of's day back to 7 days before it — at least After, checked
// on days whose results stay cached, so a page asking "as of now" computes
// the past checks once a day. Metrics judged by another metric
// (infrastructure cost) are left to that metric. acks must be newest first
// (List); an acknowledgement counts when recorded by as_of, and silences
// the metric until its due date, whatever happened since. Nothing
// escalates before the data covers every check: ahead of the first record
// every metric is unknown for want of data, and an as_of then (a date
// typed too early) listed every metric as escalating.
//
// Call it under the engine's read lock.
func Escalations(cat *catalog.Catalog, ds *metrics.Dataset, acks []Acknowledgement, opt Options) []Escalation {
	if _, ok := Covered(ds, opt.AsOf); !ok {
		return nil
	}
	type target struct {
		m     *catalog.Metric
		scope metrics.Scope
	}
	// Scopes are made canonical by the environment aliases in force at
	// as_of, as each escalation is judged then (scorecard.Evaluate).
	at := ds.At(opt.AsOf)
	var targets []target
	ms := cat.MetricsInForce()
	for i := range ms {
		m := &ms[i]
		// A retired metric is judged no more, so it cannot escalate.
		if m.At(opt.AsOf).Retired || m.JudgedBy != "" || !scorecard.Computed(m) || (opt.Visible != nil && !opt.Visible(m)) {
			continue
		}
		if !opt.Scope.IsZero() {
			// Canonical (environment aliases resolved), as acknowledgements
			// keep their scopes.
			if s, err := scorecard.CheckScope(at, m.ID, opt.Scope); err == nil {
				targets = append(targets, target{m, s})
			}
			continue
		}
		targets = append(targets, target{m, metrics.Scope{}})
		seen := map[string]bool{}
		for _, a := range acks {
			if a.Metric != m.ID || a.Scope == "" || seen[a.Scope] || a.At.After(opt.acksBy()) {
				continue
			}
			seen[a.Scope] = true
			if s, err := metrics.ParseScope(a.Scope); err == nil {
				if s, err = scorecard.CheckScope(at, m.ID, s); err == nil {
					targets = append(targets, target{m, s})
				}
			}
		}
	}
	var out []Escalation
	for _, t := range targets {
		if e, ok := escalates(ds, t.m, t.scope, acks, opt); ok {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Escalation) int {
		return cmp.Or(
			catalog.PriorityRank(a.Priority)-catalog.PriorityRank(b.Priority),
			b.Status.Rank()-a.Status.Rank(),
			a.Since.Compare(b.Since),
		)
	})
	return out
}

// checks are the points a run is checked at: as_of, then each midnight
// back to 7 days before as_of's day.
func checks(asOf time.Time) []time.Time {
	out := []time.Time{asOf}
	day := asOf.UTC().Truncate(24 * time.Hour)
	for k := 0; k <= 7; k++ {
		if t := day.Add(-time.Duration(k) * 24 * time.Hour); t.Before(asOf) {
			out = append(out, t)
		}
	}
	return out
}

func escalates(ds *metrics.Dataset, m *catalog.Metric, scope metrics.Scope, acks []Acknowledgement, opt Options) (Escalation, bool) {
	asOf, acksBy := opt.AsOf, opt.acksBy()
	cur := m.At(asOf) // its owner and priority in force
	e := Escalation{Metric: m.ID, Name: m.Name, Pillar: m.Pillar, Priority: cur.Priority, Owner: cur.Owner, Scope: scope.String()}
	a := InScope(acks, m.ID, e.Scope, acksBy)
	if a != nil && !a.Overdue(asOf) {
		return e, false
	}
	for i, t := range checks(asOf) {
		// The trend series only matters when the status alone says green.
		c := scorecard.Evaluate(ds, m, scorecard.Options{AsOf: t, Closing: opt.Closing}, scope, false)
		if c.Status == catalog.Green {
			c = scorecard.Evaluate(ds, m, scorecard.Options{AsOf: t, Annotations: opt.Annotations, Closing: opt.Closing}, scope, true)
		}
		if !NeedsActionIn(c, e.Scope) {
			return e, false
		}
		if i == 0 {
			e.Status, e.Degrading, e.Reason = c.Status, c.Degrading, c.Reason
		}
		e.Since = t
	}
	// A metric an approved proposal added has been there only since:
	// computed back by its first definition, it had no owner to act on
	// it before, so its 7 days count from then.
	if added := m.AddedAt(); e.Since.Before(added) {
		e.Since = added
	}
	if asOf.Sub(e.Since) < After {
		return e, false
	}
	e.Why = Unacknowledged
	if a != nil {
		e.Why, e.Acknowledgement = Overdue, a
	}
	return e, true
}

// Covered reports whether the data covers every check an escalation as of
// asOf needs (its first record at or before the earliest), and when the
// data begins (zero when there is none).
func Covered(ds *metrics.Dataset, asOf time.Time) (first time.Time, ok bool) {
	first, any := ds.FirstData()
	cs := checks(asOf)
	return first, any && !first.After(cs[len(cs)-1])
}
