package metrics

import (
	"math"
	"time"

	"github.com/candor/candor/internal/domain"
)

// What the records naming a customer say (SPEC §1: the customer field of
// subscriptions, tickets, surveys and measurements), as of a time, for a
// customer's page and the at-risk list (internal/customer). The dataset
// keeps these rows for the metrics; this is their one exported read, so
// the customer package never reaches into the dataset's tables.

// CustomerRecords are the records naming customers that exist at AsOf:
// their defining time (started_at, created_at, at) at or before it, every
// later timestamp of theirs cleared, as the metrics read them (SPEC §3).
type CustomerRecords struct {
	AsOf time.Time
	// Currency is the organisation's: what OrgMRR is in.
	Currency      string
	Subscriptions []CustomerSubscription
	Tickets       []CustomerTicket
	Surveys       []CustomerSurvey
	Measurements  []CustomerMeasurement
}

// CustomerSubscription is a subscription as recorded, with its MRR in the
// organisation currency.
type CustomerSubscription struct {
	Customer, Source, ID, Plan, Segment string
	Started                             time.Time
	// Ended is nil when the subscription has not ended by AsOf.
	Ended *time.Time
	// MRR is as recorded, in Currency (the record's).
	MRR      float64
	Currency string
	// OrgMRR is MRR in the organisation currency, nil when no exchange
	// rate converts it (Unconverted says so), as the MRR metrics leave
	// such a subscription out.
	OrgMRR      *float64
	Unconverted string
}

// ActiveAt says the subscription is active at t: started at or before it
// and not ended by it (SPEC §3; subActiveAt).
func (s CustomerSubscription) ActiveAt(t time.Time) bool {
	return !s.Started.After(t) && (s.Ended == nil || s.Ended.After(t))
}

// CustomerTicket is a ticket naming a customer.
type CustomerTicket struct {
	Customer, Source, ID                 string
	Segment, Priority, Service, Category string
	Created                              time.Time
	// Resolved and SLADue are nil when unset; Resolved also when after
	// AsOf (not resolved yet).
	Resolved, SLADue *time.Time
	Escalated        bool
	// Release is the deployment id the ticket names, "" for none.
	Release string
}

// CustomerSurvey is a survey response naming a customer.
type CustomerSurvey struct {
	Customer, Source, ID string
	// Type is csat or nps, as recorded.
	Type    string
	Score   float64
	At      time.Time
	Release string
}

// CustomerMeasurement is a measurement naming a customer.
type CustomerMeasurement struct {
	Customer, Source, ID, Metric, Unit string
	At                                 time.Time
	Value                              float64
}

// CustomerRecords returns the records naming the customer that exist at
// asOf, or those naming any customer when customer is "". Records naming
// none are left out: they belong to no customer's page. Each list is in
// the dataset's event-time order.
func (d *Dataset) CustomerRecords(customer string, asOf time.Time) CustomerRecords {
	return d.CustomerRecordsFrom(customer, time.Time{}, asOf)
}

// CustomerRecordsFrom is CustomerRecords of what can bear on [from, asOf]:
// every subscription (a customer's MRR at from and at asOf), the tickets
// not resolved before from (open ones may have fallen past their SLA long
// ago), the surveys and measurements of [from, asOf]. The at-risk list
// reads no more: reading every ticket and survey of the organisation's
// history for each request had cost ~0.5 s at scale 1
// (BenchmarkCustomersAtRisk).
func (d *Dataset) CustomerRecordsFrom(customer string, from, asOf time.Time) CustomerRecords {
	out := CustomerRecords{AsOf: asOf, Currency: d.cfg.orgCurrency()}
	var code uint32
	if customer != "" {
		c, ok := d.codeOf(customer)
		if !ok {
			return out // no record names it
		}
		code = c
	}
	at, lo := asOf.UnixNano(), int64(math.MinInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	mine := func(c uint32) bool { return c != 0 && (code == 0 || c == code) }
	// until is a timestamp as of asOf: nil when unset or later.
	until := func(t int64) *time.Time {
		if t == 0 || t > at {
			return nil
		}
		x := time.Unix(0, t).UTC()
		return &x
	}
	conv := d.converter()
	for x := range d.subs().all() {
		if !mine(x.customer) || x.started > at {
			continue
		}
		s := CustomerSubscription{Customer: d.str(x.customer), Source: d.str(x.source), ID: d.str(x.id), Plan: d.str(x.plan), Segment: d.str(x.segment),
			Started: time.Unix(0, x.started).UTC(), Ended: until(x.ended), MRR: x.mrr.Float(), Currency: d.str(x.currency)}
		if m, ok := conv.to(domain.KindSubscription, x.id, x.currency, x.mrr); ok {
			s.OrgMRR = ptr(m.Float())
		} else {
			s.Unconverted, conv.err = conv.err, ""
		}
		out.Subscriptions = append(out.Subscriptions, s)
	}
	for x := range d.tickets().all() {
		if !mine(x.customer) || x.created > at || x.resolved != 0 && x.resolved < lo {
			continue
		}
		out.Tickets = append(out.Tickets, CustomerTicket{Customer: d.str(x.customer), Source: d.str(x.source), ID: d.str(x.id),
			Segment: d.str(x.segment()), Priority: d.str(x.priority), Service: d.str(x.service), Category: d.str(x.category),
			Created: time.Unix(0, x.created).UTC(), Resolved: until(x.resolved), SLADue: stampOf(x.slaDue),
			Escalated: x.escalated(), Release: d.str(x.release)})
	}
	for x := range d.surveys().in(lo, at+1) {
		if mine(x.customer) {
			out.Surveys = append(out.Surveys, CustomerSurvey{Customer: d.str(x.customer), Source: d.str(x.source), ID: d.str(x.id),
				Type: d.str(x.typ), Score: x.score, At: time.Unix(0, x.at).UTC(), Release: d.str(x.release)})
		}
	}
	for x := range d.measurements().in(lo, at+1) {
		if mine(x.customer) {
			out.Measurements = append(out.Measurements, CustomerMeasurement{Customer: d.str(x.customer), Source: d.str(x.source), ID: d.str(x.id),
				Metric: d.str(x.metric), Unit: d.str(x.unit), At: time.Unix(0, x.at).UTC(), Value: x.value})
		}
	}
	return out
}

// stampOf is a set timestamp as a time, nil when unset. A due time is a
// promise, not an event: one after as_of is still what was promised.
func stampOf(t int64) *time.Time {
	if t == 0 {
		return nil
	}
	x := time.Unix(0, t).UTC()
	return &x
}
