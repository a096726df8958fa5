// Package scorecard turns metric values into the one-page executive view
// of SPEC §4: a status per metric from its catalog thresholds, unknown
// when data is missing or stale, pillars as the worst of their metrics,
// trends against the previous window, 12 weekly points and the degrading
// flag.
package scorecard

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

// Options select what the scorecard shows.
type Options struct {
	AsOf time.Time
	// Window overrides every metric's own window when positive.
	Window time.Duration
	// Month, when positive (and Window is not), is the length of the
	// calendar month ending at AsOf that a board pack reports: it
	// replaces the window of every metric whose own is 30 days, the
	// catalog's month, so that "October" is October — 30 days back from
	// 1 November had counted 2–31 October, and from 1 March, 30 and 31
	// January. Metrics with windows of their own length keep them.
	Month time.Duration
	// Closing says the scorecard reports a span that closes at AsOf (a
	// board pack's month, with Month): the quota metrics read the quota
	// period holding the span's last instant — for a month ending a
	// quarter, that quarter — not the one beginning at AsOf, the next
	// month's first instant (metrics.Query.Closing). Its trend and
	// weekly points read theirs likewise. Pages, the API and the CLI keep
	// SPEC §3's rule for an instant unless asked (closing=1, --closing).
	Closing bool
	// Visible, when set, keeps only the metrics it accepts (a principal's
	// grants, SPEC §9): a hidden metric is not computed at all, so no
	// number, status or reason of it reaches the result.
	Visible func(*catalog.Metric) bool
	// Scope narrows the scorecard's cards to a team, service or
	// environment (the pages' filters). A metric that cannot be broken
	// down by one of its dimensions is left out like a hidden one. Role
	// views ignore it.
	Scope metrics.Scope
	// Connectors are the configured connectors' health as of AsOf
	// (connect.Feeds): a state kind fed by one that has not worked within
	// the kind's freshness limit is stale (SPEC §4).
	Connectors []health.Connector
	// Annotations are the business-cycle periods in force (configured and posted, package
	// annotation): a metric naming one in DegradingExempt does not count a worse week inside
	// it towards the degrading flag.
	Annotations []catalog.Annotation
	// NoTrend skips the window before (Card.Trend stays empty): a release
	// gate reads a KPI's value and status, not its direction, and the
	// previous window was half the cost of a gate's first check.
	NoTrend bool
	// Points, when positive, is how many weekly points each card's series
	// has instead of SeriesPoints: Degrading reads only the last four, so
	// the alert rules ask for 4 and skip two thirds of the series' cost.
	Points int
	// Recent accepts results up to max_lag older than the published data
	// while the engine recomputes them during a large import
	// (metrics.Query.Stale): pages and API reads, not gates, alerts or
	// reports.
	Recent bool
	// freshValue keeps Recent for a card's context (the window before,
	// the weekly series) but not for its value: a metric's page, whose
	// records are never stale, shows the value they add up to (Detail).
	freshValue bool
}

// valueStale says whether a card's own value (and a breakdown of it) may
// be stale.
func (o Options) valueStale() bool { return o.Recent && !o.freshValue }

// visible reports whether Visible lets the metric be shown.
func (o Options) visible(m *catalog.Metric) bool { return o.Visible == nil || o.Visible(m) }

// shows reports whether the scorecard shows the metric: visible, and able
// to take the scope.
func (o Options) shows(m *catalog.Metric) bool {
	if !o.visible(m) {
		return false
	}
	for _, f := range o.Scope.Filters() {
		if !slices.Contains(Dims(m), f.Dim) {
			return false
		}
	}
	return true
}

// filtered reports whether some metric may be left out.
func (o Options) filtered() bool { return o.Visible != nil || !o.Scope.IsZero() }

// Scorecard is the one-page view.
type Scorecard struct {
	AsOf   time.Time `json:"as_of"`
	Window string    `json:"window"`
	// Month is the calendar month as_of and window cover, YYYY-MM, when
	// they are one (month=, --month, or their as_of and window).
	Month string `json:"month,omitempty"`
	// Closing says each quota period was read as the one closing at as_of
	// (Options.Closing: closing=true, --closing, board and evidence packs),
	// not the one beginning then.
	Closing bool `json:"closing,omitempty"`
	// OwnWindows says no window was asked for: each metric is read over
	// its own (Window names the most common). `candor scorecard` had
	// headed NRR's year-old cohort and the quarter's quota metrics
	// "(window 30d)".
	OwnWindows bool `json:"-"`
	// Scope is the group the cards are narrowed to ("team:payments"),
	// "" for the whole organisation (Options.Scope).
	Scope   string   `json:"scope,omitempty"`
	Pillars []Pillar `json:"pillars"`
	// Headline lists the ids of the headline metrics (at most 7).
	Headline []string `json:"headline"`
	DORA     DORA     `json:"dora"`
}

// Action is the owner's action in force on a card that needs one: an
// acknowledgement (internal/escalation) as its card gives it.
type Action struct {
	ID    int64  `json:"id"`
	Owner string `json:"owner"`
	Note  string `json:"note"`
	// Due is a date (due by its end, UTC) or a time; Overdue says it had
	// passed at the card's as_of.
	Due     string `json:"due"`
	Overdue bool   `json:"overdue"`
	// Scope is the team, service or environment it was recorded for ("":
	// the organisation's, which counts in every scope).
	Scope string    `json:"scope,omitempty"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

// ActionWords says the action as a card's line does: "no action recorded",
// "action (alice) due 2026-12-19" or "…, overdue".
func (c *Card) ActionWords() string {
	switch a := c.Action; {
	case !c.NeedsAction:
		return ""
	case a == nil:
		return "no action recorded"
	case a.Overdue:
		return fmt.Sprintf("action (%s) due %s, overdue", a.Owner, a.Due)
	default:
		return fmt.Sprintf("action (%s) due %s", a.Owner, a.Due)
	}
}

// Cards are pointers to every card of the scorecard, its pillars' in
// order, to be marked in place (escalation.Mark).
func (sc *Scorecard) Cards() []*Card {
	var out []*Card
	for i := range sc.Pillars {
		for j := range sc.Pillars[i].Metrics {
			out = append(out, &sc.Pillars[i].Metrics[j])
		}
	}
	return out
}

// DORA is the performance level of the four keys and overall (the lowest).
type DORA struct {
	Overall string            `json:"overall,omitempty"`
	Keys    map[string]string `json:"keys"`
}

// Pillar is one scorecard section. Its status is the worst of its
// metrics', an unknown one counting as amber, and unknown only when none of
// its metrics has a value (groupStatus); Unknown names the unknown metrics
// and why.
type Pillar struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Status  catalog.Status `json:"status"`
	HasData bool           `json:"has_data"`
	// NoData says, of a pillar none of whose metrics has a value while
	// some of its sources have never sent a record, which have not: "No
	// revenue data has been sent: no subscription, opportunity, lead, quota
	// and spend records." An organisation that sends none (engineering
	// only) reads that once, in place of a row of cards each unknown for
	// "never sent" as if it were a measurement (SPEC §4: Growth where
	// revenue data exists). "" otherwise. The status stays unknown.
	NoData  string          `json:"no_data,omitempty"`
	Unknown []UnknownMetric `json:"unknown,omitempty"`
	Metrics []Card          `json:"metrics"`
}

// NoData is Pillar.NoData for a pillar's cards (the digest's headline
// Growth lines ask it too). Only Growth has it: SPEC §4 shows the other
// pillars always, each card saying what was never sent.
func NoData(id string, cards []Card) string {
	if id != "growth" {
		return ""
	}
	var never []string
	for _, c := range cards {
		if c.Value != nil {
			return ""
		}
		for _, s := range c.Freshness.Sources {
			if s.LastData == nil && !slices.Contains(never, s.Kind) {
				never = append(never, s.Kind)
			}
		}
	}
	if len(never) == 0 {
		return ""
	}
	return "No revenue data has been sent: no " + plural.And(never) + " records."
}

// UnknownMetric is a metric of a pillar or view whose status is unknown,
// with the reason.
type UnknownMetric struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// groupStatus is SPEC §4's status of a group of cards (a pillar, a role
// view): the worst of theirs, an unknown counting as amber so that it is
// never green and never hides the values the group has; unknown only when
// no card has a value. It also lists the unknown cards with their reasons.
func groupStatus(cards []Card) (catalog.Status, []UnknownMetric) {
	st, valued := catalog.Green, false
	var unknown []UnknownMetric
	for _, c := range cards {
		st = catalog.Worst(st, c.Status)
		valued = valued || c.Value != nil
		if c.Status == catalog.Unknown {
			unknown = append(unknown, UnknownMetric{ID: c.ID, Reason: c.Reason})
		}
	}
	if !valued {
		st = catalog.Unknown
	}
	return st, unknown
}

// Card is one metric on the scorecard.
type Card struct {
	// TooFew says the value rests on fewer cases than the metric's
	// minimum sample (its Reason says so): shown, not judged (Unjudged).
	TooFew      bool   `json:"-"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Summary is the definition in plain words (catalog.Metric.Summary).
	Summary string         `json:"summary,omitempty"`
	Value   *float64       `json:"value"`
	Unit    string         `json:"unit"`
	Better  string         `json:"better"`
	Status  catalog.Status `json:"status"`
	Reason  string         `json:"reason,omitempty"`
	Target  *float64       `json:"target"`
	// TargetFrom is when a target from a target record took effect: its
	// chart draws it from there (Q4's plan had been drawn back through
	// September's weeks, 900k "behind" a plan that did not apply).
	TargetFrom *time.Time  `json:"target_from,omitempty"`
	Thresholds *Thresholds `json:"thresholds"`
	JudgedBy   string      `json:"judged_by,omitempty"`
	Window     string      `json:"window"`
	Trend      Trend       `json:"trend"`
	Series     []Point     `json:"series"`
	Degrading  bool        `json:"degrading"`
	Owner      string      `json:"owner"`
	Headline   bool        `json:"headline"`
	Version    int         `json:"version"`
	Priority   string      `json:"priority"`
	Signoff    string      `json:"signoff"`
	SignoffBy  string      `json:"signoff_by"`
	Freshness  Freshness   `json:"freshness"`
	// Partial is set when the window ends after the newest data of a kind
	// the value sums by proration (cost, usage, spend, budget): the value
	// is what has been reported so far, short of the whole window. It is
	// said, not acted on: the trend and the degrading flag compare windows
	// as SPEC §4 defines them — a daily cost feed leaves the window short
	// by up to a day at every hour but midnight, and declining to compare
	// then would leave cost metrics with no trend and no degrading flag.
	Partial *Partial `json:"partial,omitempty"`
	// Quiet is set when the value sums over its window what a state kind's
	// changes make (new MRR from subscriptions) and no record of that kind
	// changed in the window (quietAt).
	Quiet     *Quiet         `json:"quiet,omitempty"`
	DORALevel string         `json:"dora_level,omitempty"`
	Count     int            `json:"count"`
	Detail    metrics.Detail `json:"detail,omitzero"`
	// Cites says what produced the value: the definition version, the
	// formula version and a hash of the settings that change it (absent
	// for a metric not computed yet).
	Cites *metrics.Citation `json:"cites,omitempty"`
	// Retired is when the metric was retired; its card then shows the
	// status it had at that time.
	Retired *time.Time `json:"retired,omitempty"`
	// ThresholdsFrom says whose thresholds judged the value: "organisation", "tier 1" or
	// "service payments" (catalog.Metric.ThresholdsFor).
	ThresholdsFrom string `json:"thresholds_from,omitempty"`
	// Baseline is the value that thresholds relative to baseline scaled (mttr judged by its
	// own history: mttr_baseline in the same scope).
	Baseline *float64 `json:"baseline,omitempty"`
	// NeedsAction says the card needs its owner's action (SPEC §4: amber, red or
	// degrading, and unknown for the organisation or from stale data in a
	// scope; escalation.NeedsActionIn), and Action is the one in force —
	// nil: none recorded. Set by escalation.Mark where the acknowledgements
	// are read (the scorecard and view APIs, the CLI's), which a dashboard
	// had had to join from /api/v1/escalations.
	NeedsAction bool    `json:"needs_action,omitempty"`
	Action      *Action `json:"action,omitempty"`
	// ScaledFrom is the definition's window ("30d") when the card's window
	// is of another length and its value sums over the window: Target and
	// absolute Thresholds are then the definition's scaled by the ratio of
	// the two lengths (WindowScale).
	ScaledFrom string `json:"scaled_from,omitempty"`
	// SumsOverWindow says the value sums over the window
	// (metrics.Dataset.SumsOverWindow): a chart of weekly values draws its
	// bands and target for a week.
	SumsOverWindow bool `json:"sums_over_window,omitempty"`
	// AddsUp says the value is the total of its records (metrics.Dataset.
	// AddsUp): a breakdown's lines are its parts.
	AddsUp bool `json:"-"`
	// TargetProrated says Target is the target records overlapping the
	// window prorated into it (a window of another length than the
	// definition's, ScaledFrom set), not the definition's target scaled.
	TargetProrated bool `json:"target_prorated,omitempty"`

	pillar string
	dora   bool
	// span is the definition's (catalog.Metric.Span): what the value and
	// each weekly point cover (SeriesCovers); closing says they were read
	// closing (Options.Closing).
	span    string
	closing bool
	// NoTarget is set when the status is unknown only because a
	// target-relative metric has no target for the value (Reason is then
	// noTargetReason's), or because the metric judging it has no value for
	// the scope's group (judgeCard: no budget per team for infrastructure
	// cost): the value is there and its data sound, but nothing judges it. Pages word a breakdown line so as "not judged", apart from
	// a line unknown for missing or stale data; the API's status stays
	// unknown.
	NoTarget bool `json:"-"`
}

// DORAKey reports whether the card is one of DORA's four keys, whether or
// not it has a level (Scorecard.DORA keeps the levels).
func (c Card) DORAKey() bool { return c.dora }

// Thresholds are the green and amber bounds as the card shows them.
type Thresholds struct {
	Green      float64 `json:"green"`
	Amber      float64 `json:"amber"`
	RelativeTo string  `json:"relative_to,omitempty"`
}

func thresholdsOf(t *catalog.Thresholds) *Thresholds {
	if t == nil {
		return nil
	}
	return &Thresholds{Green: t.Green, Amber: t.Amber, RelativeTo: t.RelativeTo}
}

// Trend compares the window with the window before.
type Trend struct {
	Previous *float64 `json:"previous"`
	// Direction is up, down or flat (or "" when either value is missing).
	Direction string `json:"direction"`
	// Assessment is better, worse or same given the metric's direction.
	Assessment string `json:"assessment"`
	// NotComparable says why the window before is not compared (its
	// Previous is then nil): the metric's computation, or a setting its
	// values read, changed between the two windows' as_of, so a rise or
	// fall would be the definition's, not the organisation's.
	NotComparable string `json:"not_comparable,omitempty"`
	// Missing says why a trend of comparable windows has no direction:
	// this window's value or the window before's is missing, and why
	// ("no value for the window before: no logo churned in it"). A
	// printed table's blank trend cell beside the others' words had read
	// as lost data (lifetime value in the board pack).
	Missing string `json:"missing,omitempty"`
	// Short is why there is no trend in a few words, for a card that has
	// no room for NotComparable's or Missing's sentence: "stale data",
	// "too few cases", "computed otherwise", "the quota left shrinks",
	// "partial data before", "no value", "no value before". A card had
	// said "no trend" and given its reason only in a title, which a touch
	// screen, a keyboard and a printed page never show.
	Short string `json:"short,omitempty"`
}

// Partial says how far the data of a kind a value sums by proration
// reaches into a window that ends after it (SPEC §3 sums each record by
// the share of its period inside the window, so the part of the window
// not yet reported adds nothing: a month's bill not in yet, or a day's
// cost before the day ends).
type Partial struct {
	Kind string `json:"kind"`
	// Until is the kind's newest data: the window has none after it.
	Until time.Time `json:"until"`
	// Short is how much of the window lies after Until, in words, and
	// ShortSeconds the same in seconds: a dashboard had had to parse
	// "14 h 54 min".
	Short        string `json:"short"`
	ShortSeconds int64  `json:"short_seconds"`
}

// Quiet says that no record of a state kind a value reads changed in its
// window, and when one last did. SPEC §4 never judges a state kind stale
// by its records' times (a book that did not change is not stale), so a
// window after a billing feed stopped reads "0 USD" of new MRR judged as
// any other: the value and its status stand, and this says beside them
// what they rest on.
type Quiet struct {
	Kind string `json:"kind"`
	// Newest is the kind's newest change at or before as_of, before the
	// window began.
	Newest time.Time `json:"newest"`
}

// Words says it as the pages and the alerts do, its two parts joined by
// join (":" where a sentence goes on after it, "," inside one): "no
// subscription record changed in the window: the newest change is from
// 24 Nov 2026 00:00 UTC".
func (q Quiet) Words(join string) string {
	return "no " + q.Kind + " record changed in the window" + join + " the newest change is from " + q.Newest.UTC().Format("2 Jan 2006 15:04 MST")
}

// quietAt returns the state kind m's value sums the changes of (a
// subscription; not a period kind, which Partial covers, nor the
// services, quotas and targets a value is judged or grouped by) whose
// newest record changed before the window began, or nil.
// The caller asks only for a value that sums over its window.
func quietAt(ds *metrics.Dataset, m *catalog.Metric, asOf time.Time, window time.Duration) *Quiet {
	for _, s := range m.Sources {
		k := domain.Kind(s.Kind)
		if !k.State() || k.Prorated() || k == domain.KindService || k == domain.KindQuota || k == domain.KindTarget {
			continue
		}
		if t, ok := ds.LastData(k, asOf); ok && !t.After(asOf.Add(-window)) {
			return &Quiet{Kind: s.Kind, Newest: t}
		}
	}
	return nil
}

// partialAt returns the prorated source of m whose data stops furthest
// short of asOf, or nil when every one reaches it (an open period, such as
// a month-to-date figure, reaches it) or has no data at all (its value is
// then null or stale, which says more).
func partialAt(ds *metrics.Dataset, m *catalog.Metric, asOf time.Time, window time.Duration) *Partial {
	var p *Partial
	for _, s := range m.Sources {
		k := domain.Kind(s.Kind)
		if !k.Prorated() {
			continue
		}
		if t, ok := ds.LastData(k, asOf); ok && t.Before(asOf) && (p == nil || t.Before(p.Until)) {
			p = &Partial{Kind: s.Kind, Until: t}
		}
	}
	if p != nil {
		// A kind silent for longer than the window is short of all of it.
		short := min(asOf.Sub(p.Until), window)
		p.Short, p.ShortSeconds = shortWords(short), int64(short/time.Second)
	}
	return p
}

// SpanWords says a span as pages do: "9 h 17 min", "4 days 9 h".
func SpanWords(d time.Duration) string { return shortWords(d) }

// shortWords says a shortfall in days and hours, or hours and minutes
// under a day: "9 h 17 min", "4 days 9 h".
func shortWords(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= day:
		s := plural.Count(int(d/day), "day")
		if h := int(d % day / time.Hour); h > 0 {
			s += fmt.Sprintf(" %d h", h)
		}
		return s
	case d >= time.Hour:
		s := fmt.Sprintf("%d h", int(d/time.Hour))
		if m := int(d % time.Hour / time.Minute); m > 0 {
			s += fmt.Sprintf(" %d min", m)
		}
		return s
	}
	return fmt.Sprintf("%d min", max(1, int((d+time.Minute-1)/time.Minute)))
}

// Point is one weekly window of the series. Reason is set when the value
// rests on fewer cases than the metric's minimum sample: such a point is
// shown but takes no part in the degrading flag.
type Point struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Value  *float64  `json:"value"`
	Count  int       `json:"count"`
	Reason string    `json:"reason,omitempty"`
	// Exempt names the annotation, among those the metric lists in DegradingExempt, that the
	// window overlaps: the window takes no part in the degrading flag.
	Exempt string `json:"exempt,omitempty"`
	// NotComparable says why the window is not compared with the one before (notComparable):
	// it breaks the degrading run like a flat week.
	NotComparable string `json:"not_comparable,omitempty"`
	// Partial is set when the week ends after the newest data of a kind the value sums by
	// proration, as Card.Partial (said on the chart's table; the week is compared as any other).
	Partial *Partial `json:"partial,omitempty"`
	// NewPeriod is set on a quota-period metric's week that falls in
	// another quota period than the week before: its value starts again,
	// so a chart breaks its line there rather than draw a fall (86.99 % →
	// 1.15 % at a quarter's first week had read as a crash).
	NewPeriod bool `json:"new_period,omitempty"`
	// Recomputed is set on a week computed otherwise than the week before
	// (an approved change of the computation, or of a setting its values
	// depend on): NotComparable says which. A chart breaks its line there,
	// as at a new period, rather than draw the change's effect as a move of
	// the metric (241 → 334 ms where a mean became a p90).
	Recomputed bool `json:"recomputed,omitempty"`
}

// Freshness says how current the metric's data is.
type Freshness struct {
	// LastData is the oldest "newest record" among the metric's sources:
	// the metric is as fresh as its stalest source.
	LastData *time.Time    `json:"last_data"`
	Stale    bool          `json:"stale"`
	Sources  []SourceFresh `json:"sources"`
}

// Behind names, for a metric reading several kinds, the least current one
// (whose newest record is LastData) and how far the others reach, each
// time in timeLayout, or in dayTimeLayout when on another day: "incident;
// deployment 11:49". "" when one kind alone, or all as current. A change
// failure rate "as of 00:38" (its newest incident) had read as if the
// morning's deployments, which it counts, were not in it.
func (f Freshness) Behind(timeLayout, dayTimeLayout string) string {
	if f.LastData == nil {
		return ""
	}
	last := f.LastData.UTC()
	var stalest string
	var later []string
	for _, src := range f.Sources {
		switch {
		case src.LastData == nil:
		case src.LastData.Equal(last) && stalest == "":
			stalest = src.Kind
		case src.LastData.After(last):
			t, layout := src.LastData.UTC(), dayTimeLayout
			if t.YearDay() == last.YearDay() && t.Year() == last.Year() {
				layout = timeLayout
			}
			later = append(later, src.Kind+" "+t.Format(layout))
		}
	}
	if stalest == "" || len(later) == 0 {
		return ""
	}
	return stalest + "; " + strings.Join(later, ", ")
}

// SourceFresh is one source kind's freshness.
type SourceFresh struct {
	Kind     string     `json:"kind"`
	LastData *time.Time `json:"last_data"`
	// Limit is the freshness limit; empty for a state kind, which is
	// never stale by its records' own times (State).
	Limit string `json:"limit,omitempty"`
	State bool   `json:"state,omitempty"`
	Stale bool   `json:"stale"`
	// Connector names the connector whose connection health made a state
	// kind stale, and ConnectorLastOK when it last worked (absent: never).
	Connector       string     `json:"connector,omitempty"`
	ConnectorLastOK *time.Time `json:"connector_last_ok,omitempty"`
}

// SeriesPoints is the number of weekly windows in a series.
const SeriesPoints = 12

const week = 7 * 24 * time.Hour

// Build computes the scorecard. The dataset must not change meanwhile
// (the caller holds the engine's read lock).
func Build(cat *catalog.Catalog, ds *metrics.Dataset, opt Options) *Scorecard {
	return buildCards(cat, ds, opt, true)
}

// buildCards is Build; without series the cards have no weekly series or
// degrading flag, which cost six times the rest: what needs only the
// statuses (a role view's pillar health) leaves them out.
func buildCards(cat *catalog.Catalog, ds *metrics.Dataset, opt Options, series bool) *Scorecard {
	// The definitions in force at as_of; a retired metric is not shown.
	cat = cat.At(opt.AsOf)
	sc := &Scorecard{AsOf: opt.AsOf.UTC(), DORA: DORA{Keys: map[string]string{}}, Scope: opt.Scope.String(), Closing: opt.Closing}
	if opt.Window > 0 {
		sc.Window = catalog.FormatWindow(opt.Window)
		sc.Month = catalog.MonthField(sc.AsOf, opt.Window)
	} else {
		// Each card carries its own window; most use the catalog default.
		sc.Window, sc.OwnWindows = "30d", true
	}
	shown := make([]*catalog.Metric, 0, len(cat.Metrics))
	allDORA := true
	for i := range cat.Metrics {
		if m := &cat.Metrics[i]; m.Retired {
			continue
		} else if opt.shows(m) {
			shown = append(shown, m)
		} else if m.DORA {
			allDORA = false
		}
	}
	cards := make([]Card, len(shown))
	// Metrics are independent reads of an immutable dataset: compute them
	// on every core.
	forEach(len(shown), runtime.GOMAXPROCS(0), func(i int) {
		cards[i] = Evaluate(ds, shown[i], opt, opt.Scope, series)
	})

	byID := map[string]*Card{}
	for i := range cards {
		byID[cards[i].ID] = &cards[i]
	}
	// A metric judged by another shows that metric's status (SPEC §3:
	// infrastructure cost is judged by budget variance).
	for i := range cards {
		if o := byID[cards[i].JudgedBy]; o != nil {
			judgeBy(&cards[i], o)
		} else if cards[i].JudgedBy != "" && cards[i].Reason == "" {
			cards[i].Reason = "judged by " + cards[i].JudgedBy + ", which is not shown"
		}
	}
	perPillar := map[string]int{}
	for i := range cards {
		perPillar[cards[i].pillar]++
	}
	for _, p := range cat.Pillars {
		// Cards are large values: a pillar's list grown by appending
		// copied each several times, ~70 % of what a scorecard allocated.
		pl := Pillar{ID: p.ID, Name: p.Name}
		if n := perPillar[p.ID]; n > 0 {
			pl.Metrics = make([]Card, 0, n)
		}
		for i := range cards {
			if cards[i].pillar != p.ID {
				continue
			}
			pl.Metrics = append(pl.Metrics, cards[i])
			if cards[i].Freshness.LastData != nil {
				pl.HasData = true
			}
			if cards[i].Headline {
				sc.Headline = append(sc.Headline, cards[i].ID)
			}
		}
		if len(pl.Metrics) == 0 && opt.filtered() {
			continue
		}
		// Priority first, catalog order within one (catalog.PillarMetrics); the headline
		// list above keeps catalog order.
		slices.SortStableFunc(pl.Metrics, func(a, b Card) int {
			return catalog.PriorityRank(a.Priority) - catalog.PriorityRank(b.Priority)
		})
		pl.Status, pl.Unknown = groupStatus(pl.Metrics)
		pl.NoData = NoData(p.ID, pl.Metrics)
		sc.Pillars = append(sc.Pillars, pl)
	}
	sc.DORA = doraLevels(cards)
	if !allDORA {
		// The overall level is the lowest of all four keys: with one left
		// out it would flatter.
		sc.DORA.Overall = ""
	}
	return sc
}

// judgeBy gives a card of a metric judged by another the other card's
// status; a card already unknown for its own reason (stale cost data) stays
// so.
func judgeBy(c, other *Card) {
	if c.JudgedBy == "" || c.Reason != "" {
		return
	}
	c.Status = other.Status
	if other.Status == catalog.Unknown {
		c.Reason = other.ID + ": " + other.Reason
	}
}

var levelRank = map[string]int{"elite": 3, "high": 2, "medium": 1, "low": 0}

func doraLevels(cards []Card) DORA {
	d := DORA{Keys: map[string]string{}}
	keys := 0
	worst := ""
	for _, c := range cards {
		if !c.dora {
			continue
		}
		keys++
		if c.DORALevel == "" {
			continue
		}
		d.Keys[c.ID] = c.DORALevel
		if worst == "" || levelRank[c.DORALevel] < levelRank[worst] {
			worst = c.DORALevel
		}
	}
	// The overall level needs all four keys: a missing one would flatter it.
	if keys > 0 && len(d.Keys) == keys {
		d.Overall = worst
	}
	return d
}

// Evaluate computes one metric's card for a scope; series adds the trend
// series and degrading flag (the costliest part). It uses the definition
// and the settings in force at opt.AsOf (catalog.Metric.At,
// metrics.Dataset.At), and each point of the series those in force at its
// own end. A retired metric keeps the last status it had: its card is
// computed as of its retirement, under the version before it.
func Evaluate(ds *metrics.Dataset, m *catalog.Metric, opt Options, scope metrics.Scope, series bool) Card {
	m = m.At(opt.AsOf)
	if m.Retired {
		last := m.From
		o := opt
		o.AsOf = last
		c := evaluate(ds.At(last), m.At(last.Add(-time.Nanosecond)), o, scope, series)
		c.Retired, c.Version = &last, m.Version
		return c
	}
	return evaluate(ds.At(opt.AsOf), m, opt, scope, series)
}

// monthWindow is the catalog's month: the window Options.Month replaces.
const monthWindow = 30 * 24 * time.Hour

// WindowAt is the window metric id's value is computed over at asOf, as its
// card computes it: asked when given (a page's window or month), else the
// definition's in force at asOf — which an override or an approved
// proposal may have changed from the catalog's month —, else the month.
// The release list reads release_impact_score's, so that its worst is the
// metric's value; it had read a fixed 30 days.
func WindowAt(cat *catalog.Catalog, id string, asOf time.Time, asked time.Duration) time.Duration {
	if asked > 0 {
		return asked
	}
	if m, ok := cat.MetricAt(id, asOf); ok && m.Window > 0 {
		return m.Window
	}
	return monthWindow
}

// KeepsOwnWindow says a board pack's month (Options.Month) leaves m over
// its own window, one of another length than the catalog's month (team
// health's 90 days), where a page asked for the month (its as_of and
// window) reads every metric over the month.
func KeepsOwnWindow(m *catalog.Metric) bool { return m.Window != monthWindow }

func evaluate(ds *metrics.Dataset, m *catalog.Metric, opt Options, scope metrics.Scope, series bool) Card {
	win := m.Window
	switch {
	case opt.Window > 0:
		win = opt.Window
	case opt.Month > 0 && !KeepsOwnWindow(m):
		win = opt.Month
	}
	c := Card{
		ID: m.ID, Name: m.Name, Description: m.Description, Summary: m.Summary, Unit: m.Unit, Better: m.Better,
		Target: m.Target, JudgedBy: m.JudgedBy, Window: catalog.FormatWindow(win),
		Owner: m.Owner, Headline: m.Headline, Version: m.Version, Status: catalog.Unknown,
		Priority: m.Priority, Signoff: m.Signoff, SignoffBy: m.SignoffBy,
		pillar: m.Pillar, dora: m.DORA, span: m.Span, closing: opt.Closing && ReadsClosing(m),
	}
	c.Freshness = freshness(ds, m, opt.AsOf, opt.Connectors)
	c.Partial = partialAt(ds, m, opt.AsOf, win)
	q := metrics.Query{AsOf: opt.AsOf, Window: win, Scope: scope, Stale: opt.valueStale(), Closing: opt.Closing}
	// SPEC §3: a scope or breakdown line of one service or tier is judged by its own bar.
	thr, from := m.ThresholdsFor(scopeService(ds, scope))
	c.Thresholds, c.ThresholdsFrom = thresholdsOf(thr), from
	if !Computed(m) {
		c.Reason = "not computed yet"
		return c
	}
	cites := ds.CiteAt(m.ID, opt.AsOf, m.Version, m.MinSample)
	c.Cites = &cites
	res, err := ds.Compute(m.ID, q)
	if err != nil {
		c.Reason = err.Error()
		return c
	}
	c.Count = res.Count
	c.Detail = res.Detail
	// A DORA level is a judgement like a colour: stale data earns none, or
	// the overall level would rate an organisation on data it no longer
	// sends ("elite" while every key is unknown).
	// Nor do too few cases: two deployments say nothing of a team's level.
	if lvl := res.Detail.DORALevel; lvl != "" && !c.Freshness.Stale && m.TooFew(res.Count) == "" {
		c.DORALevel = lvl
	}
	// Truth over comfort: a stale source hides the value's colour, not the
	// value itself.
	c.Value = res.Value
	if msg := res.Detail.Error; msg != "" {
		c.Value = nil
		c.Reason = msg
	}
	target, judge := c.Target, m
	if !scope.IsZero() {
		// SPEC §4: a scope or a breakdown line is judged against a target
		// of its own (a `target` record naming it), never the
		// organisation's; without one a target-relative metric is unknown.
		own := *m
		own.Target = nil
		target, c.Target, judge = nil, nil, &own
	}
	fromRecords := false
	if t := res.Detail.Target; t != nil {
		target, fromRecords = t, true
		c.Target, c.TargetFrom = target, res.Detail.TargetFrom
	}
	c.SumsOverWindow, c.AddsUp = ds.SumsOverWindow(m.ID), ds.AddsUp(m.ID)
	if c.SumsOverWindow {
		c.Quiet = quietAt(ds, m, opt.AsOf, win)
	}
	if f := WindowScale(ds, m, win); f != 1 {
		// A churned MRR of 5,818 USD over a year is not red against a
		// target of 445 USD set for 30 days. A target from target records
		// is theirs for the window instead: those overlapping it, prorated
		// (a quarter's 30,000 at a 90-day window is 30,000, not three
		// times it).
		c.ScaledFrom = catalog.FormatWindow(m.Window)
		switch {
		case fromRecords:
			// Target records are the metric's own for W already, prorated
			// into it (targetForWindow; mql_volume's its own way).
			c.TargetProrated = true
		case target != nil:
			v := *target * f
			target, c.Target = &v, &v
		}
		if thr != nil && thr.RelativeTo == "" {
			t := *thr
			t.Green, t.Amber = t.Green*f, t.Amber*f
			thr = &t
			c.Thresholds = thresholdsOf(thr)
		}
	}
	var elapsed float64
	if e := res.Detail.ElapsedShare; e != nil {
		elapsed = *e
	}
	var baseReason string
	if thr != nil && thr.RelativeTo == catalog.RelativeToBaseline {
		c.Baseline, baseReason = baseline(ds, m, q)
	}
	switch {
	case c.Reason != "":
	case c.Freshness.Stale:
		c.Reason = staleReason(c.Freshness)
	case c.Value == nil:
		c.Reason = noValueReason(m, res)
	case m.TooFew(res.Count) != "":
		c.Reason, c.TooFew = m.TooFew(res.Count), true
	case m.JudgedBy != "":
		// Resolved by Build from the other metric.
	case baseReason != "":
		c.Reason = baseReason
	default:
		c.Status = judge.Judge(catalog.JudgeInput{Value: c.Value, Target: target, ElapsedShare: elapsed, Thresholds: thr, Baseline: c.Baseline})
		if c.Status == catalog.Unknown {
			why := ""
			if thr != nil && thr.RelativeTo == catalog.RelativeToElapsed {
				why = PeriodJustBegun(c.Window, opt.AsOf, res.Detail)
			}
			if why != "" {
				c.Reason = why
			} else {
				c.Reason = noTargetReason(ds, m, q, target, res.Detail.Currency)
				c.NoTarget = target == nil
			}
		}
	}
	if !opt.NoTrend {
		pq := q.Previous()
		pq.Stale = opt.Recent
		pds := ds.At(pq.AsOf)
		if why := notComparable(cites, pds.CiteAt(m.ID, pq.AsOf, m.Version, m.MinSample)); why != "" {
			c.Trend = Trend{NotComparable: why, Short: "computed otherwise"}
		} else if why := begunInside(ds, m, pq, c.SumsOverWindow); why != "" {
			c.Trend = Trend{NotComparable: why, Short: "partial data before"}
		} else {
			prev, _ := pds.Compute(m.ID, pq)
			c.Trend = trend(m.Better, c.Value, prev.Value)
			if why, short := unjudged(c, m, thr, res, pq, prev); why != "" {
				c.Trend = Trend{NotComparable: why, Short: short}
			}
			c.Trend.Missing = trendMissing(c, m.At(pq.AsOf), prev)
			switch {
			case c.Trend.Missing == "":
			case c.Value == nil:
				c.Trend.Short = "no value"
			default:
				c.Trend.Short = "no value before"
			}
		}
	}
	if series {
		sq := q
		sq.Stale = opt.Recent
		c.Series, c.Degrading = weekly(ds, m, thr, sq, cmp.Or(opt.Points, SeriesPoints), opt.Annotations)
	}
	return c
}

// noTargetReason says why a target-relative value has no status: "no
// target set". For a scope or breakdown line under an organisation that
// has a target, it says whose that target is (SPEC §4: a line is judged only
// against a target of its own): release impact's organisation, 23.61 green
// against 34, had beside it its one service's 23.61 "unknown: no target
// set", as if the two contradicted each other.
func noTargetReason(ds *metrics.Dataset, m *catalog.Metric, q metrics.Query, target *float64, currency string) string {
	const reason = "no target set"
	fs := q.Scope.Filters()
	if len(fs) == 0 || target != nil {
		return reason
	}
	org, ok := ds.OrgTarget(m.ID, q)
	if !ok && m.Target != nil {
		org, ok = *m.Target*WindowScale(ds, m, q.Window), true
	}
	if !ok {
		return reason
	}
	dim := fs[len(fs)-1].Dim
	return fmt.Sprintf("%s: %s is the organisation's target, and %s is judged only against a target of its own",
		reason, FormatValue(&org, m.Unit, currency), plural.A(strings.ReplaceAll(dim, "_", " ")))
}

// WindowScale is what a metric's target and absolute thresholds are
// multiplied by to judge a window of length win: they are set for the
// definition's window, and the value of a metric that sums over its window
// (Dataset.SumsOverWindow: a count of incidents, an amount of churned MRR)
// grows in proportion to the window's length — a year's churn judged by a
// month's target is red for the window's length alone. 1 for any other
// metric, and for the definition's own window.
func WindowScale(ds *metrics.Dataset, m *catalog.Metric, win time.Duration) float64 {
	if win <= 0 || m.Window <= 0 || win == m.Window || !ds.SumsOverWindow(m.ID) {
		return 1
	}
	return float64(win) / float64(m.Window)
}

// Scaled says, of a card whose target and absolute thresholds were scaled
// to its window (WindowScale), what they were set for: " (set for 30 days,
// scaled to the window)"; "" for any other card. The pages and the CLI
// append it to the thresholds, or to a target without thresholds.
func (c Card) Scaled() string {
	w, err := catalog.ParseWindow(c.ScaledFrom)
	if c.ScaledFrom == "" || err != nil || w <= 0 {
		return ""
	}
	if c.TargetProrated && (c.Thresholds == nil || c.Thresholds.RelativeTo != "") {
		return " (the target records overlapping the window, prorated into it)"
	}
	return " (set for " + shortWords(w) + ", scaled to the window)"
}

// ShownThresholds are a card's thresholds as pages and text state them:
// scaled ones to hundredths ("amber ≤ 24.33", not 24.333333), the rest as
// set; the zero value for a card without thresholds.
func (c Card) ShownThresholds() catalog.Thresholds {
	if c.Thresholds == nil {
		return catalog.Thresholds{}
	}
	t := catalog.Thresholds{Green: c.Thresholds.Green, Amber: c.Thresholds.Amber, RelativeTo: c.Thresholds.RelativeTo}
	if c.ScaledFrom != "" && t.RelativeTo == "" {
		t.Green, t.Amber = math.Round(t.Green*100)/100, math.Round(t.Amber*100)/100
	}
	return t
}

// scopeService returns the service a scope is of and its tier (0 when it has none), or the tier
// alone for a scope of a tier: what picks the thresholds that judge it.
func scopeService(ds *metrics.Dataset, scope metrics.Scope) (service string, tier int) {
	for _, f := range scope.Filters() {
		switch f.Dim {
		case "service":
			if s := ds.Services[f.Value]; s != nil {
				return f.Value, s.Tier
			}
			return f.Value, 0
		case "tier":
			// "(none)" and the like are no tier.
			tier, _ = strconv.Atoi(f.Value)
		}
	}
	return "", tier
}

// baseline computes the value that m's baseline-relative thresholds scale, in q's scope and
// window, or says why there is none to judge by: a baseline resting on too few cases would
// paint the status as surely as too few cases of the metric itself.
func baseline(ds *metrics.Dataset, m *catalog.Metric, q metrics.Query) (*float64, string) {
	r, err := ds.Compute(m.Baseline, q)
	switch {
	case err != nil:
		return nil, "no baseline: " + err.Error()
	case r.Value == nil:
		return nil, "no baseline: " + m.Baseline + " has nothing to compute it from"
	case m.TooFew(r.Count) != "":
		return r.Value, "baseline " + m.Baseline + ": " + m.TooFew(r.Count)
	}
	return r.Value, ""
}

// noValueReason says why a fresh metric has no value: the metric's own
// reason when it gives one (no current quota period), else that nothing in
// the window qualified.
func noValueReason(m *catalog.Metric, res metrics.Result) string {
	if r := res.Detail.Reason; r != "" {
		return r
	}
	// An empty denominator is a sample of none (SPEC §4's wording).
	if res.Count == 0 && m.MinSample > 0 {
		return m.TooFew(0)
	}
	return "no value: nothing to compute it from in the window"
}

func staleReason(f Freshness) string {
	for _, s := range f.Sources {
		if !s.Stale {
			continue
		}
		if s.Connector != "" {
			return connectorReason(s)
		}
		if s.LastData == nil {
			return "no " + s.Kind + " data: never sent"
		}
		return fmt.Sprintf("no %s data since %s", s.Kind, s.LastData.Format(time.RFC3339))
	}
	return "stale data"
}

func freshness(ds *metrics.Dataset, m *catalog.Metric, asOf time.Time, conns []health.Connector) Freshness {
	var f Freshness
	for _, s := range m.Sources {
		k := domain.Kind(s.Kind)
		sf := sourceFreshness(ds, k, configuredLimit(ds, k, s.Freshness), asOf, conns)
		if t := sf.LastData; t != nil && (f.LastData == nil || t.Before(*f.LastData)) {
			f.LastData = t
		}
		f.Stale = f.Stale || sf.Stale
		f.Sources = append(f.Sources, sf)
	}
	return f
}

// begunInside says why the window before q's cannot be compared when the
// data of a kind the metric sums (or prorates) begins inside it: a year of
// infrastructure cost had been "↑ worse vs 1,330 USD in the 365 days
// before", a window holding 13 hours of cost. "" when the window before is
// covered from its start (or holds none of the kind: it then has no value).
func begunInside(ds *metrics.Dataset, m *catalog.Metric, pq metrics.Query, sums bool) string {
	start := pq.AsOf.Add(-pq.Window)
	for _, s := range m.Sources {
		k := domain.Kind(s.Kind)
		if !sums && !k.Prorated() {
			continue
		}
		if first, ok := ds.FirstDataOf(k); ok && first.After(start) && first.Before(pq.AsOf) {
			return fmt.Sprintf("the window before holds %s data only from %s, %s of its %s", s.Kind,
				first.UTC().Format("2 Jan 2006 15:04 MST"), shortWords(pq.AsOf.Sub(first)), shortWords(pq.Window))
		}
	}
	return ""
}

// notComparable says why values cited cur and prev cannot be compared: an
// approved change of the computation (an organisation's metric) or of a
// value-changing setting the metric reads, in force between the two; ""
// when both were computed alike. (The definition version and min_sample
// are the same in both citations: they change a status, not a value.)
func notComparable(cur, prev metrics.Citation) string {
	switch {
	case cur.Formula != prev.Formula:
		return "the computation changed since the window before"
	case cur.Settings != prev.Settings:
		return "a setting its values depend on changed since the window before"
	}
	return ""
}

// unjudged says why the card's value and the window before's, both
// present, are not compared: a rise or fall between values either of which
// rests on too few cases (SPEC §4's min_sample) is noise called better or
// worse, and one on stale data is the feed's silence; a value that
// accumulates through a period (quota attainment, judged against the
// period's elapsed share) rises as the period goes and falls when the next
// begins, whatever sales do; and a multiple of what is left of the period's
// quota (pipeline coverage) divides by less as the period's deals are won
// (on the demo it rose every week of a quarter, 1.53× to 6.43×, and fell
// back with the next), so its rise says where in the period the two windows
// end, not that the pipeline grew. "" when the two may be compared, or when
// either has no value (the trend is then empty already); short is the
// reason in a few words (Trend.Short).
func unjudged(c Card, m *catalog.Metric, thr *catalog.Thresholds, cur metrics.Result, pq metrics.Query, prev metrics.Result) (why, short string) {
	if c.Value == nil || prev.Value == nil {
		return "", ""
	}
	if c.Freshness.Stale {
		return "not compared on stale data: " + c.Reason, "stale data"
	}
	now, before := m.TooFew(cur.Count) != "", m.At(pq.AsOf).TooFew(prev.Count) != ""
	switch needs := m.MinSample; {
	case now && before:
		return fmt.Sprintf("too few cases in this window (n = %d) and the window before (n = %d), needs %d", cur.Count, prev.Count, needs), "too few cases"
	case now:
		return fmt.Sprintf("too few cases in this window (n = %d, needs %d)", cur.Count, needs), "too few cases"
	case before:
		return fmt.Sprintf("too few cases in the window before (n = %d, needs %d)", prev.Count, m.At(pq.AsOf).MinSample), "too few cases before"
	}
	if why := periodUnjudged(m, thr, prev.Detail, cur.Detail, "the window before"); why != "" {
		if prev.Detail.Remaining != nil || cur.Detail.Remaining != nil {
			return why, "the quota left shrinks"
		}
		return why, "it builds through its period"
	}
	return "", ""
}

// periodUnjudged says why two values of a metric computed within a period
// (quota attainment, pipeline coverage, an organisation's metric over the
// quota period) are not compared, before naming the earlier of them ("the
// window before" of a card, "the week before" of a weekly point): the
// card's trend and the weekly series that makes the degrading flag (and
// the alerts and escalations on it) follow one rule, or coverage falling as
// deals were won had been "degrading" beside a card refusing to compare it.
// "" for any other metric.
func periodUnjudged(m *catalog.Metric, thr *catalog.Thresholds, prev, cur metrics.Detail, before string) string {
	paced := thr != nil && thr.RelativeTo == catalog.RelativeToElapsed
	switch {
	case m.Span != catalog.SpanQuotaPeriod && !paced:
		return ""
	case prev.Remaining != nil || cur.Remaining != nil:
		return quotaLeftUnjudged(prev, cur, before)
	}
	ps, pe := prev.PeriodStart, prev.ElapsedShare
	cs, ce := cur.PeriodStart, cur.ElapsedShare
	// A value judged against the share of the period gone accumulates
	// through it; another over the period so far (a mean deal size) need
	// not, but covers more of it at each week's end all the same.
	starts, goes := "the value starts again from 0 with each period", "the value accumulates through the period"
	judged, judgedShare := "the status judges it against the share of the period gone", "the status judges it against that share"
	if !paced {
		starts, goes = "the value starts again with each period", "it covers the quota period so far"
		judged, judgedShare = "the status judges it as it stands", "the status judges it as it stands"
	}
	switch {
	case ps != nil && cs != nil && !ps.Equal(*cs):
		return before + " falls in another period (from " + ps.UTC().Format("2 Jan 2006") + "): " + starts
	case pe != nil && ce != nil:
		was, is := 100**pe, 100**ce
		return fmt.Sprintf("%s: %s of it had gone at %s, %s now; %s",
			goes, FormatValue(&was, "%", ""), before, FormatValue(&is, "%", ""), judgedShare)
	}
	return goes + ": " + judged
}

// quotaLeftUnjudged says why a value over what is left of the current
// quota period's quota (pipeline coverage) is not compared with an earlier
// one: the two divide by different amounts, the quota still to win
// shrinking as the period's deals are won, and by another period's quota
// once the earlier falls in the period before.
func quotaLeftUnjudged(prev, cur metrics.Detail, before string) string {
	if ps, cs := prev.PeriodStart, cur.PeriodStart; ps != nil && cs != nil && !ps.Equal(*cs) {
		return before + " falls in another period (from " + ps.UTC().Format("2 Jan 2006") + "): it divides by that period's quota"
	}
	if prev.Remaining != nil && cur.Remaining != nil && prev.Quota != nil && cur.Quota != nil && *prev.Quota > 0 && *cur.Quota > 0 {
		was, is := 100**prev.Remaining / *prev.Quota, 100**cur.Remaining / *cur.Quota
		return fmt.Sprintf("it divides by the quota still to win, which shrinks as the period's deals are won: %s of the quota was left at %s, %s now; the status judges the multiple as it stands",
			FormatValue(&was, "%", ""), before, FormatValue(&is, "%", ""))
	}
	return "it divides by the quota still to win, which shrinks as the period's deals are won; the status judges the multiple as it stands"
}

// trendMissing says why a card has no trend though its windows are
// comparable: which value is missing and why (the card's own reason, the
// window before's as the card would give it). "" when both have values.
func trendMissing(c Card, before *catalog.Metric, prev metrics.Result) string {
	switch {
	case c.Value == nil && prev.Value == nil:
		return "no value for this window or the window before: " + c.Reason
	case c.Value == nil:
		return "no value for this window: " + c.Reason
	case prev.Value == nil:
		why := prev.Detail.Error
		if why == "" {
			why = noValueReason(before, prev)
		}
		return "no value for the window before: " + why
	}
	return ""
}

func trend(better string, cur, prev *float64) Trend {
	t := Trend{Previous: prev}
	if cur == nil || prev == nil {
		return t
	}
	const eps = 1e-9
	diff := *cur - *prev
	switch {
	case math.Abs(diff) <= eps*math.Max(1, math.Abs(*prev)):
		t.Direction, t.Assessment = "flat", "same"
		return t
	case diff > 0:
		t.Direction = "up"
	default:
		t.Direction = "down"
	}
	if (diff > 0) == (better == catalog.Higher) {
		t.Assessment = "better"
	} else {
		t.Assessment = "worse"
	}
	return t
}

// weekly returns the metric over the last n weekly windows, oldest first,
// and whether it worsened in each of the last three; a window overlapping an
// annotation the metric is exempt during is marked (Point.Exempt), and one
// not compared with the week before says why (Point.NotComparable).
func weekly(ds *metrics.Dataset, m *catalog.Metric, thr *catalog.Thresholds, q metrics.Query, n int, anns []catalog.Annotation) ([]Point, bool) {
	pts := make([]Point, n)
	var before metrics.Citation
	var last metrics.Detail
	for k := 0; k < n; k++ {
		end := q.AsOf.Add(-time.Duration(n-1-k) * week)
		// A week closes at its end as the span asked closes at as_of: the
		// last point is the card's value.
		wq := metrics.Query{AsOf: end, Window: week, Scope: q.Scope, Stale: q.Stale, Closing: q.Closing}
		at := ds.At(end)
		r, _ := at.Compute(m.ID, wq)
		pts[k] = Point{Start: end.Add(-week), End: end, Value: r.Value, Count: r.Count}
		cites := at.CiteAt(m.ID, end, m.Version, m.MinSample)
		pts[k].Partial = partialAt(at, m, end, week)
		if k > 0 {
			pts[k].NotComparable = notComparable(cites, before)
			pts[k].Recomputed = pts[k].NotComparable != ""
			if pts[k].NotComparable == "" && r.Value != nil && pts[k-1].Value != nil {
				pts[k].NotComparable = periodUnjudged(m.At(end), thr, last, r.Detail, "the week before")
			}
			if ps, cs := last.PeriodStart, r.Detail.PeriodStart; ps != nil && cs != nil && !ps.Equal(*cs) {
				pts[k].NewPeriod = true
			}
		}
		before, last = cites, r.Detail
		if r.Value != nil {
			pts[k].Reason = m.At(end).TooFew(r.Count)
		}
		pts[k].Exempt = exemptBy(m.At(end).DegradingExempt, anns, q.Scope, pts[k].Start, end)
	}
	return pts, Degrading(m.Better, pts)
}

// TooFew says the week's value rests on fewer cases than the metric's
// minimum sample (weekly sets Reason to its TooFew only then).
func (p Point) TooFew() bool { return p.Value != nil && p.Reason != "" }

// exemptBy returns the name of the first annotation that the list names (by kind or name),
// that applies to the scope and that overlaps [start, end); "" when none does.
func exemptBy(list []string, anns []catalog.Annotation, scope metrics.Scope, start, end time.Time) string {
	if len(list) == 0 {
		return ""
	}
	for _, a := range anns {
		if a.Names(list) && AnnotationApplies(a, scope) && a.Overlaps(start, end) {
			return a.Name
		}
	}
	return ""
}

// AnnotationApplies reports whether an annotation concerns a scope: one without a scope
// concerns every scope; one of a part of the organisation (service:payments) concerns that
// part and what contains it (the organisation, its team), not a scope fixing a different value
// of one of its dimensions (service:search).
func AnnotationApplies(a catalog.Annotation, scope metrics.Scope) bool {
	if a.Scope == "" {
		return true
	}
	as, err := metrics.ParseScope(a.Scope)
	if err != nil {
		return false
	}
	for _, f := range as.Filters() {
		for _, g := range scope.Filters() {
			if g.Dim == f.Dim && g.Value != f.Value {
				return false
			}
		}
	}
	return true
}

// Degrading reports three consecutive worsening windows at the end of the
// series (SPEC §4). A point resting on too few cases (Reason set) breaks
// the run like a missing one: noise is not a trend.
func Degrading(better string, pts []Point) bool {
	if len(pts) < 4 {
		return false
	}
	last := pts[len(pts)-4:]
	for i := 1; i < len(last); i++ {
		a, b := last[i-1].Value, last[i].Value
		if a == nil || b == nil || last[i-1].Reason != "" || last[i].Reason != "" {
			return false
		}
		// A worse week inside a period the metric is exempt during (a peak season) is the
		// season, not a trend: it breaks the run like a flat one.
		if last[i].Exempt != "" {
			return false
		}
		// Nor is a week computed by another definition than the week before.
		if last[i].NotComparable != "" {
			return false
		}
		if trend(better, b, a).Assessment != "worse" {
			return false
		}
	}
	return true
}

// Computed reports whether a catalog metric has a computation: a built-in formula, or the
// organisation's own definition (custom_metrics) for a custom one. A dataset built from the same
// configuration computes it (Dataset.Known).
func Computed(m *catalog.Metric) bool { return m.Custom || metrics.Known(m.ID) }

// Dims returns a catalog metric's breakdown dimensions: a built-in's from its formula, a custom
// one's from its definition (the catalog holds them as its breakdowns).
func Dims(m *catalog.Metric) []string {
	if m.Custom {
		return m.Breakdowns
	}
	return metrics.Dims(m.ID)
}

// Unjudged says the card's value is shown but not judged: its data are
// stale, or it rests on too few cases (unknown either way). Pages and the
// board pack draw such a value greyed, where one on a single case had
// been as bold as a judged one beside its UNKNOWN.
func (c Card) Unjudged() bool {
	return c.Value != nil && c.Status == catalog.Unknown && (c.Freshness.Stale || c.TooFew)
}
