// Package customer gathers what Candor's records say of one customer — its
// subscriptions, tickets, surveys and measurements (SPEC §1: the records
// with a customer field) — and finds the customers showing risk signals
// over a window: MRR contraction or churn, detractor surveys, tickets past
// their SLA, open escalations. It reads the records through
// metrics.Dataset.CustomerRecords and computes with no HTTP in sight, so the
// pages, the JSON API and the CLI say the same thing.
//
// This is a list, not a governed KPI: no target, no thresholds, no status.
// The signals follow the metrics' own rules where one exists (the MRR
// bridge's churn and contraction, NPS detractors, SLA adherence's breach,
// open escalations), so a customer named here is one those metrics count.
package customer

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// Day is 24 h of elapsed time (SPEC §3).
const Day = 24 * time.Hour

// DefaultWindow is the at-risk list's window when none is asked, the
// customer metrics' own.
const DefaultWindow = 30 * Day

// Options say what a reader may see: Hide leaves a kind's records out
// (none of the metrics they may see reads it), HideAmounts leaves out the
// subscriptions' amounts and what is worked out from them (MRR, its
// contraction, the sort by MRR at stake), as a drill-down hides the amounts
// of revenue kinds (scorecard.MetricDetail.HideAmounts).
type Options struct {
	Hide        map[domain.Kind]bool
	HideAmounts bool
}

// filter drops the records of the kinds a reader may not see, and the
// amounts when they may not see those.
func (o Options) filter(recs metrics.CustomerRecords) metrics.CustomerRecords {
	if o.Hide[domain.KindSubscription] {
		recs.Subscriptions = nil
	}
	if o.Hide[domain.KindTicket] {
		recs.Tickets = nil
	}
	if o.Hide[domain.KindSurvey] {
		recs.Surveys = nil
	}
	if o.Hide[domain.KindMeasurement] {
		recs.Measurements = nil
	}
	if o.HideAmounts && recs.Subscriptions != nil {
		subs := slices.Clone(recs.Subscriptions)
		for i := range subs {
			subs[i].MRR, subs[i].OrgMRR, subs[i].Currency, subs[i].Unconverted = 0, nil, "", ""
		}
		recs.Subscriptions = subs
	}
	return recs
}

// NotFoundError says no record names the customer as of a time: an unknown
// name, or one retention has pseudonymised (its records now name the
// pseudonym), or one whose records all came after.
type NotFoundError struct {
	Customer string
	AsOf     time.Time
	// First is when the first record the reader may see names the
	// customer, when that is after AsOf (Page looks); zero otherwise.
	First time.Time
}

// Error says it in the pages' words: "as of 1 Mar 2026 00:00 UTC" (it had
// read "as of 2026-03-01T00:00:00Z" where every page says the former), and
// when a later record names the customer, from when: a customer's page
// asked for a month before it was one.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no customer %q: no subscription, ticket, survey or measurement you may see names it as of %s",
		e.Customer, stamp(e.AsOf))
	if !e.First.IsZero() {
		msg += "; not a customer yet then: its first record is dated " + stamp(e.First)
	}
	return msg
}

func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") }

// ErrorCode makes it a 404 in the server's vocabulary (web.Status).
func (e *NotFoundError) ErrorCode() domain.Code { return domain.ENotFound }

// MRRPoint is a customer's MRR at an instant: the sum, in the organisation
// currency, of its subscriptions active then. Value is nil when there is no
// number to give, and Note says why (no subscription names the customer;
// not a customer yet; an amount no exchange rate converts; hidden).
type MRRPoint struct {
	At    time.Time `json:"at"`
	Value *float64  `json:"value"`
	Note  string    `json:"note,omitempty"`
}

// Subscription is one of the customer's subscriptions, active or not at
// as_of.
type Subscription struct {
	Source  string     `json:"source"`
	ID      string     `json:"id"`
	Plan    string     `json:"plan,omitempty"`
	Segment string     `json:"segment,omitempty"`
	Started time.Time  `json:"started_at"`
	Ended   *time.Time `json:"ended_at"`
	// Active says it is active at as_of.
	Active bool `json:"active"`
	// MRR is as recorded, in Currency; both are left out for a reader
	// who may not see amounts.
	MRR      *float64 `json:"mrr,omitempty"`
	Currency string   `json:"currency,omitempty"`
}

// Ticket is one of the customer's tickets, with its SLA judged as of
// as_of as SLA adherence and the record page judge it.
type Ticket struct {
	Source    string     `json:"source"`
	ID        string     `json:"id"`
	Created   time.Time  `json:"created_at"`
	Resolved  *time.Time `json:"resolved_at"`
	SLADue    *time.Time `json:"sla_due_at"`
	Priority  string     `json:"priority,omitempty"`
	Segment   string     `json:"segment,omitempty"`
	Service   string     `json:"service,omitempty"`
	Escalated bool       `json:"escalated"`
	Release   string     `json:"release,omitempty"`
	// Open: not resolved by as_of.
	Open bool `json:"open"`
	// SLA is "breached" (resolved after its due time, or open past it),
	// "met", "open" (due later) or "" (no due time); SLAWords says it in
	// words with the span.
	SLA      string `json:"sla,omitempty"`
	SLAWords string `json:"sla_words,omitempty"`
}

// Survey is one of the customer's survey responses.
type Survey struct {
	Source  string    `json:"source"`
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Type    string    `json:"type"`
	Score   float64   `json:"score"`
	Release string    `json:"release,omitempty"`
	// Detractor: an NPS of 0–6 or a CSAT of 2 or less, the at-risk
	// list's survey signal.
	Detractor bool `json:"detractor"`
}

// Measurement is a measurement naming the customer.
type Measurement struct {
	Source string    `json:"source"`
	ID     string    `json:"id"`
	Metric string    `json:"metric"`
	At     time.Time `json:"at"`
	Value  float64   `json:"value"`
	Unit   string    `json:"unit,omitempty"`
}

// Release is a deployment the customer's tickets or surveys name.
type Release struct {
	ID      string `json:"id"`
	Tickets int    `json:"tickets"`
	Surveys int    `json:"surveys"`
	// Deployment is the deployment the id resolves to as of as_of (SPEC
	// §2, from the first record naming it), nil when it names none.
	Deployment *metrics.LinkedRecord `json:"deployment"`
	// source is the first naming record's, for resolving.
	source string
}

// Customer is one customer's page: its records as of AsOf and its risk
// signals over the window before.
type Customer struct {
	Name     string        `json:"customer"`
	AsOf     time.Time     `json:"as_of"`
	Window   time.Duration `json:"-"`
	Currency string        `json:"currency,omitempty"`
	// Segment is the segment its subscriptions name — the newest active
	// one's at as_of, else the newest one's — or, when none does, its
	// newest ticket's ("" for none); SegmentFrom says which it was,
	// "subscription" or "ticket".
	Segment     string `json:"segment,omitempty"`
	SegmentFrom string `json:"segment_from,omitempty"`
	// MRR now, 30 days and a year before: enough to see expansion or
	// contraction at a glance. Nil for a reader who may not see amounts.
	MRR           *MRRPoint      `json:"mrr"`
	MRRMonthAgo   *MRRPoint      `json:"mrr_30_days_before"`
	MRRYearAgo    *MRRPoint      `json:"mrr_365_days_before"`
	Subscriptions []Subscription `json:"subscriptions"`
	// Tickets: open ones first (oldest first: the longest waiting), then
	// the resolved, newest first.
	Tickets      []Ticket      `json:"tickets"`
	Surveys      []Survey      `json:"surveys"`
	Measurements []Measurement `json:"measurements"`
	// Releases: those most of its tickets and surveys name first.
	Releases []Release `json:"releases"`
	// Signals are its risk signals over the window, as the at-risk list
	// gives them.
	Signals []Signal `json:"signals"`
	// Hidden names the kinds the reader may not see, HideAmounts that
	// amounts are hidden: the page says so rather than show nothing.
	Hidden      []domain.Kind `json:"hidden_kinds,omitempty"`
	HideAmounts bool          `json:"amounts_hidden,omitempty"`
	// Data is the freshness at AsOf of each kind the page reads that the
	// reader may see — the list's (List.Data), and measurements when
	// the customer has some — as the data sources report judges it. Set
	// by Page.
	Data []KindData `json:"data"`
	// First is the time of the first record the reader may see naming
	// the customer (a subscription's start, a ticket's creation, a
	// survey's or measurement's time): before it there is no customer,
	// so the page offers no calendar month that ends earlier.
	First time.Time `json:"-"`
}

// Resolver resolves the release a record of the source names to its
// deployment (metrics.Dataset.TicketRelease at as_of).
type Resolver func(source, id string) (metrics.LinkedRecord, bool)

// Page builds the customer's page from the dataset as of asOf, its
// releases resolved as a ticket's are (metrics.Dataset.TicketRelease), with
// the freshness of the kinds it reads as j judges them: what the page, the
// API and the CLI show.
func Page(ds *metrics.Dataset, j Judge, name string, asOf time.Time, window time.Duration, opt Options) (*Customer, error) {
	// Records and the releases their tickets name, both under the
	// settings in force at asOf (which deployments were production then).
	at := ds.At(asOf)
	c, err := Of(name, at.CustomerRecords(name, asOf), window, opt, func(source, id string) (metrics.LinkedRecord, bool) {
		return at.TicketRelease(source, id, asOf)
	})
	var nf *NotFoundError
	if errors.As(err, &nf) && name != "" {
		// Not a customer as of then; perhaps one later (a month before
		// its first subscription): say from when.
		if first, ok := firstRecord(opt.filter(ds.CustomerRecords(name, latest))); ok && first.After(asOf) {
			nf.First = first
		}
	}
	if err != nil {
		return nil, err
	}
	kinds := listKinds
	if len(c.Measurements) > 0 {
		kinds = append(slices.Clone(kinds), domain.KindMeasurement)
	}
	c.Data = j.data(ds, asOf, opt.Hide, kinds...)
	return c, nil
}

// Of builds the customer's page from the records naming it (recs, as
// metrics.Dataset.CustomerRecords returns them for the name) over the
// window before their as_of. A name no record visible to the reader names
// is a *NotFoundError.
func Of(name string, recs metrics.CustomerRecords, window time.Duration, opt Options, resolve Resolver) (*Customer, error) {
	recs = opt.filter(recs)
	asOf := recs.AsOf
	if name == "" || len(recs.Subscriptions)+len(recs.Tickets)+len(recs.Surveys)+len(recs.Measurements) == 0 {
		return nil, &NotFoundError{Customer: name, AsOf: asOf}
	}
	first, _ := firstRecord(recs)
	c := &Customer{Name: name, AsOf: asOf, Window: window, HideAmounts: opt.HideAmounts, First: first,
		Subscriptions: []Subscription{}, Tickets: []Ticket{}, Surveys: []Survey{}, Measurements: []Measurement{}, Releases: []Release{}}
	for _, k := range []domain.Kind{domain.KindSubscription, domain.KindTicket, domain.KindSurvey, domain.KindMeasurement} {
		if opt.Hide[k] {
			c.Hidden = append(c.Hidden, k)
		}
	}
	if !opt.HideAmounts && !opt.Hide[domain.KindSubscription] {
		c.Currency = recs.Currency
		c.MRR = ptr(mrrAt(recs.Subscriptions, asOf))
		c.MRRMonthAgo = ptr(mrrAt(recs.Subscriptions, asOf.Add(-30*Day)))
		c.MRRYearAgo = ptr(mrrAt(recs.Subscriptions, asOf.Add(-365*Day)))
	}
	for _, s := range recs.Subscriptions {
		out := Subscription{Source: s.Source, ID: s.ID, Plan: s.Plan, Segment: s.Segment, Started: s.Started, Ended: s.Ended, Active: s.ActiveAt(asOf)}
		if !opt.HideAmounts {
			out.MRR, out.Currency = ptr(s.MRR), s.Currency
		}
		c.Subscriptions = append(c.Subscriptions, out)
	}
	// Active first, then the most recently started.
	slices.SortStableFunc(c.Subscriptions, func(a, b Subscription) int {
		if a.Active != b.Active {
			return boolFirst(a.Active)
		}
		return cmp.Or(b.Started.Compare(a.Started), strings.Compare(a.ID, b.ID))
	})
	releases := map[string]*Release{}
	var order []string
	named := func(id, source string) *Release {
		if id == "" {
			return nil
		}
		r := releases[id]
		if r == nil {
			r = &Release{ID: id, source: source}
			releases[id] = r
			order = append(order, id)
		}
		return r
	}
	var newest time.Time
	for _, t := range recs.Tickets {
		c.Tickets = append(c.Tickets, ticketOf(t, asOf))
		if r := named(t.Release, t.Source); r != nil {
			r.Tickets++
		}
		if t.Segment != "" && !t.Created.Before(newest) {
			c.Segment, c.SegmentFrom, newest = t.Segment, "ticket", t.Created
		}
	}
	// What the customer bought says its segment before what a ticket's
	// sender filled in: c.Subscriptions are active first, newest first.
	for _, s := range c.Subscriptions {
		if s.Segment != "" {
			c.Segment, c.SegmentFrom = s.Segment, "subscription"
			break
		}
	}
	slices.SortStableFunc(c.Tickets, func(a, b Ticket) int {
		if a.Open != b.Open {
			return boolFirst(a.Open)
		}
		if a.Open {
			return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
		}
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(a.ID, b.ID))
	})
	for _, s := range recs.Surveys {
		c.Surveys = append(c.Surveys, Survey{Source: s.Source, ID: s.ID, At: s.At, Type: strings.ToLower(s.Type), Score: s.Score,
			Release: s.Release, Detractor: detractor(s)})
		if r := named(s.Release, s.Source); r != nil {
			r.Surveys++
		}
	}
	slices.SortStableFunc(c.Surveys, func(a, b Survey) int { return cmp.Or(b.At.Compare(a.At), strings.Compare(a.ID, b.ID)) })
	for _, m := range recs.Measurements {
		c.Measurements = append(c.Measurements, Measurement{Source: m.Source, ID: m.ID, Metric: m.Metric, At: m.At, Value: m.Value, Unit: m.Unit})
	}
	slices.SortStableFunc(c.Measurements, func(a, b Measurement) int { return cmp.Or(b.At.Compare(a.At), strings.Compare(a.ID, b.ID)) })
	for _, id := range order {
		r := releases[id]
		if resolve != nil {
			if l, ok := resolve(r.source, r.ID); ok {
				r.Deployment = &l
			}
		}
		c.Releases = append(c.Releases, *r)
	}
	// Those most of its records name first: where its trouble came from.
	slices.SortStableFunc(c.Releases, func(a, b Release) int {
		return cmp.Or(cmp.Compare(b.Tickets+b.Surveys, a.Tickets+a.Surveys), strings.Compare(a.ID, b.ID))
	})
	if risk, ok := risksOf(name, recs, window, opt.HideAmounts); ok {
		c.Signals = risk.Signals
	}
	if c.Signals == nil {
		c.Signals = []Signal{}
	}
	return c, nil
}

// latest is an as_of after every record: the dataset's times are
// nanoseconds since 1970 in an int64 (to 2262), and a survey's read
// reaches one past as_of.
var latest = time.Unix(0, math.MaxInt64-1).UTC()

// firstRecord is the earliest defining time (started_at, created_at, at)
// among recs; ok is false when there is none.
func firstRecord(recs metrics.CustomerRecords) (first time.Time, ok bool) {
	see := func(t time.Time) {
		if !ok || t.Before(first) {
			first, ok = t, true
		}
	}
	for _, s := range recs.Subscriptions {
		see(s.Started)
	}
	for _, t := range recs.Tickets {
		see(t.Created)
	}
	for _, s := range recs.Surveys {
		see(s.At)
	}
	for _, m := range recs.Measurements {
		see(m.At)
	}
	return first, ok
}

// boolFirst orders true before false (a and b differ).
func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

func ptr[T any](v T) *T { return &v }

// ticketOf judges a ticket's SLA as of asOf: met when resolved at or before
// its due time (SLA adherence's rule), breached when resolved after it or
// still open past it.
func ticketOf(t metrics.CustomerTicket, asOf time.Time) Ticket {
	out := Ticket{Source: t.Source, ID: t.ID, Created: t.Created, Resolved: t.Resolved, SLADue: t.SLADue, Priority: t.Priority,
		Segment: t.Segment, Service: t.Service, Escalated: t.Escalated, Release: t.Release, Open: t.Resolved == nil}
	due := t.SLADue
	if due == nil {
		return out
	}
	span := func(a, b time.Time) string { return scorecard.SpanWords(b.Sub(a)) }
	switch res := t.Resolved; {
	case res != nil && !res.After(*due):
		out.SLA, out.SLAWords = "met", "met"
	case res != nil:
		out.SLA, out.SLAWords = "breached", "breached: resolved "+span(*due, *res)+" after it was due"
	case asOf.After(*due):
		out.SLA, out.SLAWords = "breached", "breached: open "+span(*due, asOf)+" past due"
	default:
		out.SLA, out.SLAWords = "open", "due in "+span(asOf, *due)
	}
	return out
}

// detractor: an NPS of 0–6 (nps's detractors) or a CSAT of 2 or less (of
// 1–5: dissatisfied; csat counts 4 and 5 as satisfied, 3 is neutral).
func detractor(s metrics.CustomerSurvey) bool {
	switch strings.ToLower(s.Type) {
	case "nps":
		return s.Score <= 6
	case "csat":
		return s.Score <= 2
	}
	return false
}

// mrrAt is the customer's MRR at t: the organisation-currency sum of its
// subscriptions active then.
func mrrAt(subs []metrics.CustomerSubscription, t time.Time) MRRPoint {
	p := MRRPoint{At: t}
	if len(subs) == 0 {
		p.Note = "no subscription names the customer"
		return p
	}
	first := subs[0].Started
	var sum float64
	for _, s := range subs {
		if first.After(s.Started) {
			first = s.Started
		}
		if !s.ActiveAt(t) {
			continue
		}
		if s.OrgMRR == nil {
			p.Note = s.Unconverted
			return p
		}
		sum += *s.OrgMRR
	}
	if t.Before(first) {
		p.Note = "not a customer yet: its first subscription started " + first.UTC().Format("2 Jan 2006")
		return p
	}
	p.Value = &sum
	return p
}

// round2 rounds to the cent, so a sum of float amounts compares as money.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// SegmentWords says where Segment was read — what the customer bought
// says it before what a ticket's sender filled in — as the page and
// `candor customer` put it beside the segment.
func (c *Customer) SegmentWords() string {
	if c.SegmentFrom == "subscription" {
		return "its subscription's"
	}
	return "its newest ticket's"
}
