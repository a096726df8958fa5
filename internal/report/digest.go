// Package report is Candor's scheduled distribution (SPEC §8, issue 15):
// the weekly executive digest by e-mail, each recipient's own and within
// their grants, and the monthly board pack as a PDF; both archived with
// the definition versions they used (Archive), written to the audit
// ledger, re-sendable, and run on cron schedules by the leader instance.
package report

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// MaxEscalations bounds the escalations a digest lists: a reader acts on
// the first few; the page has them all.
const MaxEscalations = 10

// Week is the digest's period: the 7 days to as_of, against the 7 before.
const Week = 7 * 24 * time.Hour

// WeekEnded refuses a digest as of a time after now: the week to it has
// not ended, and its report would be archived, and written to the ledger,
// with the figures of the days it has had, as the board pack refuses a
// month that has not ended (ParseMonth). The scheduler's slots are past.
func WeekEnded(asOf, now time.Time) error {
	if asOf.After(now) {
		return fmt.Errorf("a digest reports a whole week: the week to %s has not ended (the clock reads %s); ask for a week that has ended, as of now (the default) or earlier",
			asOf.UTC().Format(time.RFC3339), now.UTC().Format("2006-01-02 15:04 MST"))
	}
	return nil
}

// Annotation is a business-cycle period (configured or stored) shown in
// the reports that overlap it: [From, To).
type Annotation struct {
	Name string    `json:"name"`
	Kind string    `json:"kind,omitempty"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Overlapping keeps the annotations that overlap [from, to), by start.
func Overlapping(as []Annotation, from, to time.Time) []Annotation {
	var out []Annotation
	for _, a := range as {
		if a.From.Before(to) && a.To.After(from) {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Annotation) int { return a.From.Compare(b.From) })
	return out
}

// DigestOptions select a digest.
type DigestOptions struct {
	AsOf time.Time
	// Visible keeps the metrics the recipient may see (auth.Access
	// .CanSeeMetric): the others are not computed, so no number of them
	// reaches the message.
	Visible func(*catalog.Metric) bool
	// Annotations are every known period; the digest keeps those that
	// overlap its week.
	Annotations []Annotation
	// BaseURL is Candor's public address; links are left out without it.
	BaseURL string
	// Currency formats money values.
	Currency string
}

// Digest is one recipient's weekly digest.
type Digest struct {
	AsOf time.Time `json:"as_of"`
	// From is the start of the week: AsOf − 7 days.
	From     time.Time `json:"from"`
	Headline []Line    `json:"headline"`
	// NoRevenue says, for a store without revenue data, that none was sent
	// ("No revenue data has been sent: …"), in place of the Growth
	// pillar's headline lines, each "—": the scorecard's Pillar.NoData.
	NoRevenue string `json:"no_revenue,omitempty"`
	// Turned are the metrics whose status became amber or red (or red
	// from amber) during the week.
	Turned []Change `json:"turned"`
	// Escalations are the first MaxEscalations open escalations (P0
	// first, then red, then the longest-running); MoreEscalations counts
	// the rest, which the escalations page lists.
	Escalations     []escalation.Escalation `json:"escalations"`
	MoreEscalations int                     `json:"more_escalations,omitempty"`
	Annotations     []Annotation            `json:"annotations"`
	// Definitions are the definition versions the digest used.
	Definitions []Definition `json:"definitions"`
	// Links are the pages, absolute (empty without a base URL).
	ScorecardURL   string `json:"scorecard_url,omitempty"`
	EscalationsURL string `json:"escalations_url,omitempty"`
	links          linker
}

// Line is a headline metric over the week against the week before.
type Line struct {
	Metric string `json:"metric"`
	Name   string `json:"name"`
	Value  string `json:"value"`
	// Covers says what Value covers: "over the last 7 days", "at the
	// week's end" (a state: open vulnerabilities, ARR), "" for a metric
	// with a span of its own (a cohort year, a quota period).
	Covers   string `json:"covers,omitempty"`
	Previous string `json:"previous"`
	// NotCompared says why the week is not compared with the week before
	// (the scorecard's Trend.NotComparable: too few cases, stale data, a
	// value that accumulates through its period), where Previous alone
	// ("—") had read as no data the week before.
	NotCompared string `json:"not_compared,omitempty"`
	// Change is the percent change from Previous, "no change" when the
	// two are the same, "" when it cannot be said.
	Change string `json:"change"`
	Trend  string `json:"trend"` // better, worse, same, or "" when unknown
	// Direction is up, down or flat ("" when unknown).
	Direction string `json:"direction,omitempty"`
	// Status is judged as the scorecard judges it, over the metric's own
	// window, not the week Value covers: a week is too few cases for many
	// metrics, and the digest's colour must be the scorecard's. Each line
	// says what it was judged over (StatusCovers: "over the last 30
	// days"), where a footnote had left a 7-day value beside a 30-day colour.
	Status       catalog.Status `json:"status"`
	StatusCovers string         `json:"status_covers,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	// Stale says the data behind Value is past its freshness limit
	// (SPEC §4): Value is the last one the data gives, greyed as the
	// pages grey a stale figure, never in full ink beside "unknown"
	// (false for a line without a value).
	Stale bool   `json:"stale,omitempty"`
	Owner string `json:"owner"`
	URL   string `json:"url,omitempty"`
}

// Change is a metric whose status worsened to amber or red.
type Change struct {
	Metric string         `json:"metric"`
	Name   string         `json:"name"`
	From   catalog.Status `json:"from"`
	To     catalog.Status `json:"to"`
	// Value and the statuses are over the metric's own window (Covers).
	Value  string `json:"value"`
	Covers string `json:"covers,omitempty"`
	Owner  string `json:"owner"`
	URL    string `json:"url,omitempty"`
}

// Definition is a metric definition a report used.
type Definition struct {
	Metric  string `json:"metric"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Effective is the date the version took effect (catalog.Metric's).
	Effective string `json:"effective,omitempty"`
	Owner     string `json:"owner"`
	Priority  string `json:"priority"`
	Signoff   string `json:"signoff"`
	// SignoffBy is the function that owns the definition and confirms it.
	SignoffBy string `json:"signoff_by,omitempty"`
}

// linker builds links to Candor's pages as of a time.
type linker struct {
	base string
	asOf time.Time
}

func (l linker) page(path string) string {
	if l.base == "" {
		return ""
	}
	return strings.TrimRight(l.base, "/") + path + "?as_of=" + url.QueryEscape(l.asOf.UTC().Format(time.RFC3339))
}

// EscalationsPanel is the id of the scorecard's escalations panel, which
// a digest's escalations link names.
const EscalationsPanel = "escalations"

func (l linker) metric(id string) string { return l.page("/metrics/" + url.PathEscape(id)) }

// BuildDigest computes a digest. Call it under the engine's read lock;
// acks are the acknowledgements, newest first (escalation.List).
func BuildDigest(cat *catalog.Catalog, ds *metrics.Dataset, acks []escalation.Acknowledgement, opt DigestOptions) *Digest {
	asOf := opt.AsOf.UTC()
	d := &Digest{AsOf: asOf, From: asOf.Add(-Week), links: linker{opt.BaseURL, asOf}}
	// Escalations are a panel of the scorecard (its id "escalations"),
	// not a page: "/escalations" had been a 404 in every digest.
	d.ScorecardURL = d.links.page("/")
	if d.ScorecardURL != "" {
		d.EscalationsURL = d.ScorecardURL + "#" + EscalationsPanel
	}
	d.Annotations = Overlapping(opt.Annotations, d.From, asOf)
	visible := func(m *catalog.Metric) bool { return opt.Visible == nil || opt.Visible(m) }
	var shown []*catalog.Metric
	for _, m := range cat.At(asOf).Metrics {
		if !m.Retired && visible(&m) {
			shown = append(shown, &m)
		}
	}
	// The week's headline values (a 7-day window) and each metric's
	// status by its own window, now and a week ago.
	week := statuses(ds, shown, scorecard.Options{AsOf: asOf, Window: Week})
	now := statuses(ds, shown, scorecard.Options{AsOf: asOf})
	before := statuses(ds, shown, scorecard.Options{AsOf: d.From})
	headline := slices.ContainsFunc(shown, headlineMetric)
	var growth []scorecard.Card
	for i, m := range shown {
		if m.Pillar == "growth" {
			growth = append(growth, now[i])
		}
	}
	d.NoRevenue = scorecard.NoData("growth", growth)
	for i, m := range shown {
		if headline && !headlineMetric(m) || !headline && len(d.Headline) >= 7 || d.NoRevenue != "" && m.Pillar == "growth" {
			continue
		}
		c := week[i]
		l := Line{Metric: m.ID, Name: m.Name, Value: scorecard.FormatValue(c.Value, c.Unit, opt.Currency),
			Previous: scorecard.FormatValue(c.Trend.Previous, c.Unit, opt.Currency), Trend: c.Trend.Assessment, Direction: c.Trend.Direction,
			Status: now[i].Status, StatusCovers: scorecard.WeekCovers(m.Span, now[i].Window), Reason: now[i].Reason, Owner: m.Owner, URL: d.links.metric(m.ID)}
		l.Covers, l.NotCompared = scorecard.WeekCovers(m.Span, c.Window), c.Trend.NotComparable
		l.Change = change(c, opt.Currency, &l)
		// A value on data past its limit; "—" (no data, or never sent) is
		// greyed by its unknown status, and says nothing of stale data.
		l.Stale = c.Value != nil && c.Freshness.Stale
		if c.Trend.Short == staleData && l.Reason != "" {
			// "not compared on stale data: no survey data since …" beside
			// the status's own "no survey data since …" said it twice: the
			// few words the CLI's "not compared: stale data" uses, the
			// reason once, beside the status.
			l.NotCompared = c.Trend.Short
		}
		d.Headline = append(d.Headline, l)
	}
	for i, m := range shown {
		c := now[i]
		// Rank counts unknown as amber (SPEC §4): green → unknown is not news,
		// unknown → red is.
		if (c.Status == catalog.Amber || c.Status == catalog.Red) && c.Status.Rank() > before[i].Status.Rank() {
			d.Turned = append(d.Turned, Change{Metric: m.ID, Name: m.Name, From: before[i].Status, To: c.Status,
				Value: scorecard.FormatValue(c.Value, c.Unit, opt.Currency), Covers: scorecard.WeekCovers(m.Span, c.Window), Owner: m.Owner, URL: d.links.metric(m.ID)})
		}
		d.Definitions = append(d.Definitions, definitionOf(m))
	}
	slices.SortStableFunc(d.Turned, func(a, b Change) int { return b.To.Rank() - a.To.Rank() })
	d.Escalations = escalation.Escalations(cat, ds, acks, escalation.Options{AsOf: asOf, Visible: opt.Visible})
	if n := len(d.Escalations); n > MaxEscalations {
		d.Escalations, d.MoreEscalations = d.Escalations[:MaxEscalations], n-MaxEscalations
	}
	return d
}

// Muted says the line's value is greyed, as the pages grey a stale
// figure and an unknown one: stale, or its status unknown.
func (l Line) Muted() bool { return l.Stale || l.Status == catalog.Unknown }

// headlineMetric says whether the digest leads with m: the scorecard's
// headline metrics and, for whoever may see them, the revenue snapshot
// (the Growth pillar's P0 metrics), which no scorecard headline covers.
func headlineMetric(m *catalog.Metric) bool {
	return m.Headline || m.Pillar == "growth" && m.Priority == "P0"
}

func definitionOf(m *catalog.Metric) Definition {
	return Definition{Metric: m.ID, Name: m.Name, Version: m.Version, Effective: m.Effective, Owner: m.Owner, Priority: m.Priority, Signoff: m.Signoff, SignoffBy: m.SignoffBy}
}

// change is the week-over-week change of a card, in percent of the week
// before, or "" when either week has no value. A change the percent's two
// decimals would round to zero gets the decimals it needs: "-0 % worse"
// read as no change called worse. It is worked out from the figures the
// line shows (scorecard.ChangeShown), which it sets in l: "99.88 % (was
// 99.86 %, +0.01 points)" had been the change of the unrounded values,
// and where the two weeks' figures would read alike, both get the
// decimals that tell them apart, so the change and its direction word
// agree with them.
func change(c scorecard.Card, currency string, l *Line) string {
	if c.Value == nil || c.Trend.Previous == nil {
		return ""
	}
	if c.Trend.Assessment == "same" {
		return "no change"
	}
	sc := scorecard.ChangeShown(*c.Value, *c.Trend.Previous, c.Unit, currency)
	if c.Trend.NotComparable == "" {
		// Not compared: the line shows no figure of the week before.
		l.Value, l.Previous = sc.Now, sc.Before
	}
	if !sc.RelativeOK {
		return ""
	}
	s := scorecard.Signed(sc.Relative, " %")
	if c.Unit == "%" {
		// A change of a percentage in percent reads as points ("CSAT
		// 94.12 %, was 84.44 %, +11.46 %" for 9.68 points): the points
		// first, the relative change named as one, as /alerts words it.
		return scorecard.Signed(sc.Diff, " points") + " (" + s + " relative)"
	}
	return s
}

// statuses evaluates each metric without its weekly series; a metric
// judged by another (infrastructure cost by budget variance) takes that
// metric's status, as on the scorecard.
func statuses(ds *metrics.Dataset, ms []*catalog.Metric, opt scorecard.Options) []scorecard.Card {
	out := make([]scorecard.Card, len(ms))
	byID := map[string]int{}
	for i, m := range ms {
		out[i] = scorecard.Evaluate(ds, m, opt, metrics.Scope{}, false)
		byID[m.ID] = i
	}
	for i := range out {
		if j, ok := byID[out[i].JudgedBy]; ok && out[i].Reason == "" {
			out[i].Status = out[j].Status
		}
	}
	return out
}
