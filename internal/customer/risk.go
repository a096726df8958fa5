package customer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// The risk signals, each over the window W = [as_of − window, as_of) of
// SPEC §3 unless it says otherwise.
const (
	// SignalChurn: a subscription of the customer was active at W's start
	// and none is at as_of (logo churn's rule; a plan change — one ends,
	// another starts — is not churn).
	SignalChurn = "churn"
	// SignalContraction: still a customer at as_of, with less MRR than at
	// W's start (the MRR bridge's contraction: the net of all its
	// subscriptions, so one ending while another grows by more is not).
	SignalContraction = "contraction"
	// SignalNPS: an NPS response of 0–6 in W (nps's detractors).
	SignalNPS = "nps_detractor"
	// SignalCSAT: a CSAT response of 2 or less in W.
	SignalCSAT = "low_csat"
	// SignalSLA: tickets resolved in W after their due time (SLA
	// adherence's breaches) and tickets open at as_of past it.
	SignalSLA = "sla_breach"
	// SignalEscalation: escalated tickets open at as_of (open
	// escalations' count).
	SignalEscalation = "escalation"
)

// Signals lists the signals in the order a row gives them: money first.
var Signals = []string{SignalChurn, SignalContraction, SignalSLA, SignalEscalation, SignalNPS, SignalCSAT}

// Severity ranks the signals for the list's order, gravest first (a lower
// number is graver): a customer gone (churn), then one paying less
// (contraction) — money lost, not at risk of it — then an open escalation
// (someone has said this account needs more than the usual support), then
// a detractor (an NPS of 0–6 or a CSAT of 2 or less: the customer has said
// it is unhappy; the two are one rank), then tickets past SLA (the
// commonest signal, and one late ticket says least). A customer ranks by
// its gravest signal. The list had been ordered by MRR at stake alone,
// which put the one churned customer of the demo at #36 of 68, on page 2,
// below 35 customers with one late ticket each.
var Severity = map[string]int{
	SignalChurn:       0,
	SignalContraction: 1,
	SignalEscalation:  2,
	SignalNPS:         3,
	SignalCSAT:        3,
	SignalSLA:         4,
}

// OrderWords says the list's order in words, as the page and the CLI say
// it: the signals by rank (without contraction for a reader who may not
// see amounts), then what orders within a rank. short is the CLI's.
func (l List) OrderWords(short bool) string {
	ranks := []string{"churned", "MRR contraction", "an open escalated ticket", "an NPS detractor or a CSAT of 2 or less", "tickets past SLA"}
	if short {
		ranks = []string{"churn", "contraction", "escalation", "detractor", "past SLA"}
	}
	if l.HideAmounts {
		ranks = slices.Delete(ranks, 1, 2)
	}
	if short {
		s := "by the gravest signal — " + strings.Join(ranks, ", ") + " — then "
		if !l.HideAmounts {
			s += "MRR at stake in " + l.Currency + ", then "
		}
		return s + "by signals"
	}
	s := "by the gravest signal — " + strings.Join(ranks, ", then ") + " — then, within each, "
	if !l.HideAmounts {
		s += "by MRR at stake (the larger of the customer's MRR at the window's start and now, in " + l.Currency + ": what was, or is, at risk; a customer no subscription names after those with MRR), then "
	}
	return s + "by how many signals, then by name"
}

// Gravest is the rank (Severity) of a customer's gravest signal;
// len(Severity) for one showing none.
func (r Risk) Gravest() int {
	g := len(Severity)
	for _, s := range r.Signals {
		if v, ok := Severity[s.Kind]; ok && v < g {
			g = v
		}
	}
	return g
}

// Signal is one risk signal of a customer, in words with its numbers.
type Signal struct {
	Kind  string `json:"kind"`
	Words string `json:"words"`
	// Count is how many records make it (responses, tickets);
	// Amount and Percent the MRR change of churn and contraction
	// (negative), in the organisation currency.
	Count   int      `json:"count,omitempty"`
	Amount  *float64 `json:"amount,omitempty"`
	Percent *float64 `json:"percent,omitempty"`
}

// Risk is a customer of the at-risk list.
type Risk struct {
	Customer string `json:"customer"`
	// MRR is at as_of, MRRStart at W's start, AtStake the larger of the
	// two — what was, or is, at risk: the list's order within a
	// signal's rank (Severity). All three are nil
	// for a reader who may not see amounts, and for a customer no
	// subscription names.
	MRR      *float64 `json:"mrr"`
	MRRStart *float64 `json:"mrr_at_window_start"`
	AtStake  *float64 `json:"mrr_at_stake"`
	Signals  []Signal `json:"signals"`
}

// List is the at-risk list as of AsOf over the window before it.
type List struct {
	AsOf   time.Time     `json:"as_of"`
	Window time.Duration `json:"-"`
	// Currency is the organisation's, the amounts' ("" when hidden).
	Currency string `json:"currency,omitempty"`
	// Customers are worst first: by their gravest signal (Severity),
	// then by MRR at stake, then by how many signals, then by name.
	Customers []Risk `json:"customers"`
	// Considered counts the customers the window's records could show a
	// signal for: a subscription active at the window's start or at
	// as_of, or a ticket or survey the list reads (those at risk among
	// them). "66 customers show a risk signal" had opened every role view
	// with customer metrics with nothing to set it against.
	Considered  int           `json:"customers_considered"`
	Hidden      []domain.Kind `json:"hidden_kinds,omitempty"`
	HideAmounts bool          `json:"amounts_hidden,omitempty"`
	// Data is the freshness at AsOf of each kind the signals read that
	// the reader may see (subscriptions, tickets, surveys), as the data
	// sources report judges it: a list built on stale tickets undercounts
	// tickets past SLA (DataWarning says so). Set by ListOf.
	Data []KindData `json:"data"`
}

// Since is the window's start.
func (l List) Since() time.Time { return l.AsOf.Add(-l.Window) }

// WindowWords says the window in words ("30 days").
func (l List) WindowWords() string { return catalog.WindowWords(l.Window) }

// ListOf lists the customers the dataset's records name as of asOf: those
// showing a risk signal over the window before it (atRisk), read from the
// records that can bear on that window alone (CustomerRecordsFrom: reading
// every ticket and survey of the organisation's history had cost ~12 ms at
// scale 0.1 a request), or every one, with the freshness of the kinds it
// reads as j judges them. The pages, the API and the CLI list through it,
// so they read the same records.
func ListOf(ds *metrics.Dataset, j Judge, asOf time.Time, window time.Duration, opt Options, atRisk bool) List {
	var l List
	// The records under the settings in force at as_of (ds.At): their
	// MRR converted, and labelled, in the currency of then.
	if atRisk {
		l = AtRisk(ds.At(asOf).CustomerRecordsFrom("", asOf.Add(-window), asOf), window, opt)
	} else {
		l = Everyone(ds.At(asOf).CustomerRecords("", asOf), window, opt)
	}
	l.Data = j.data(ds, asOf, opt.Hide, listKinds...)
	return l
}

// AtRisk lists the customers showing a risk signal over the window before
// recs.AsOf (recs as metrics.Dataset.CustomerRecords returns them for
// every customer), worst first.
func AtRisk(recs metrics.CustomerRecords, window time.Duration, opt Options) List {
	return list(recs, window, opt, true)
}

// Everyone lists every customer the records name, with its signals (none
// for most), in the at-risk list's order.
func Everyone(recs metrics.CustomerRecords, window time.Duration, opt Options) List {
	return list(recs, window, opt, false)
}

func list(recs metrics.CustomerRecords, window time.Duration, opt Options, atRisk bool) List {
	recs = opt.filter(recs)
	l := List{AsOf: recs.AsOf, Window: window, HideAmounts: opt.HideAmounts, Customers: []Risk{}}
	if !opt.HideAmounts {
		l.Currency = recs.Currency
	}
	for _, k := range []domain.Kind{domain.KindSubscription, domain.KindTicket, domain.KindSurvey} {
		if opt.Hide[k] {
			l.Hidden = append(l.Hidden, k)
		}
	}
	by := map[string]*metrics.CustomerRecords{}
	of := func(name string) *metrics.CustomerRecords {
		r := by[name]
		if r == nil {
			r = &metrics.CustomerRecords{AsOf: recs.AsOf, Currency: recs.Currency}
			by[name] = r
		}
		return r
	}
	for _, s := range recs.Subscriptions {
		r := of(s.Customer)
		r.Subscriptions = append(r.Subscriptions, s)
	}
	for _, t := range recs.Tickets {
		r := of(t.Customer)
		r.Tickets = append(r.Tickets, t)
	}
	for _, s := range recs.Surveys {
		r := of(s.Customer)
		r.Surveys = append(r.Surveys, s)
	}
	for _, m := range recs.Measurements {
		of(m.Customer)
	}
	start := recs.AsOf.Add(-window)
	for name, r := range by {
		risk, ok := risksOf(name, *r, window, opt.HideAmounts)
		if ok || considered(*r, start) {
			l.Considered++
		}
		if ok || !atRisk {
			if risk.Signals == nil {
				risk.Signals = []Signal{}
			}
			l.Customers = append(l.Customers, risk)
		}
	}
	slices.SortFunc(l.Customers, worseFirst)
	return l
}

// considered says whether a customer's records could show a signal over
// the window from start to recs.AsOf: a subscription in force at either
// end (churn, contraction), a ticket not resolved before the window (SLA,
// escalation) or a survey in it. A customer named by measurements alone,
// or only by records that ended before the window, is not among them —
// whether the list read every record (Everyone) or those of the window.
func considered(recs metrics.CustomerRecords, start time.Time) bool {
	return slices.ContainsFunc(recs.Subscriptions, func(s metrics.CustomerSubscription) bool {
		return s.ActiveAt(start) || s.ActiveAt(recs.AsOf)
	}) || slices.ContainsFunc(recs.Tickets, func(t metrics.CustomerTicket) bool {
		return t.Resolved == nil || !t.Resolved.Before(start)
	}) || slices.ContainsFunc(recs.Surveys, func(s metrics.CustomerSurvey) bool {
		return !s.At.Before(start)
	})
}

// worseFirst orders the list: the graver signal first (Severity: churn,
// contraction, escalation, detractor, SLA, none), then the more MRR at
// stake (a customer without one after every one with), then more
// signals, then by name.
func worseFirst(a, b Risk) int {
	if c := cmp.Compare(a.Gravest(), b.Gravest()); c != 0 {
		return c
	}
	switch {
	case a.AtStake != nil && b.AtStake == nil:
		return -1
	case a.AtStake == nil && b.AtStake != nil:
		return 1
	case a.AtStake != nil && *a.AtStake != *b.AtStake:
		return cmp.Compare(*b.AtStake, *a.AtStake)
	}
	return cmp.Or(cmp.Compare(len(b.Signals), len(a.Signals)), strings.Compare(a.Customer, b.Customer))
}

// risksOf finds one customer's signals; ok is false when it shows none.
func risksOf(name string, recs metrics.CustomerRecords, window time.Duration, hideAmounts bool) (Risk, bool) {
	asOf := recs.AsOf
	start := asOf.Add(-window)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(asOf) }
	r := Risk{Customer: name}
	win := catalog.WindowWords(window)
	cur := recs.Currency

	// Subscriptions: activity at W's start and at as_of, and the sums.
	var in0, in1, unconverted bool
	var m0, m1 float64
	var lastEnd time.Time
	for _, s := range recs.Subscriptions {
		a0, a1 := s.ActiveAt(start), s.ActiveAt(asOf)
		in0, in1 = in0 || a0, in1 || a1
		if a0 && s.Ended != nil && s.Ended.After(lastEnd) {
			lastEnd = *s.Ended
		}
		if (a0 || a1) && s.OrgMRR == nil {
			unconverted = true
			continue
		}
		if a0 {
			m0 += *s.OrgMRR
		}
		if a1 {
			m1 += *s.OrgMRR
		}
	}
	m0, m1 = round2(m0), round2(m1)
	money := len(recs.Subscriptions) > 0 && !hideAmounts && !unconverted
	if money {
		r.MRR, r.MRRStart, r.AtStake = ptr(m1), ptr(m0), ptr(max(m0, m1))
	}
	change := func(kind, lead string) Signal {
		sg := Signal{Kind: kind}
		d := round2(m1 - m0)
		sg.Amount = &d
		words := lead + "MRR " + SignedAmount(d) + " " + cur
		if m0 > 0 {
			p := 100 * d / m0
			sg.Percent = &p
			words += " (" + Percent(p) + ")"
		}
		sg.Words = words + " over " + win
		return sg
	}
	switch {
	case in0 && !in1:
		ended := "its last subscription ended " + day(lastEnd)
		if money {
			sg := change(SignalChurn, "churned: ")
			sg.Words = strings.TrimSuffix(sg.Words, " over "+win) + "; " + ended
			r.Signals = append(r.Signals, sg)
		} else {
			r.Signals = append(r.Signals, Signal{Kind: SignalChurn, Words: "churned: " + ended})
		}
	case money && in1 && m1 < m0:
		r.Signals = append(r.Signals, change(SignalContraction, ""))
	}

	// Tickets: past their SLA, and open escalations.
	late, pastDue, escalated := 0, 0, 0
	for _, t := range recs.Tickets {
		open := t.Resolved == nil
		if t.SLADue != nil {
			switch {
			case !open && in(*t.Resolved) && t.Resolved.After(*t.SLADue):
				late++
			case open && asOf.After(*t.SLADue):
				pastDue++
			}
		}
		if open && t.Escalated {
			escalated++
		}
	}
	if n := late + pastDue; n > 0 {
		var parts []string
		if late > 0 {
			parts = append(parts, fmt.Sprintf("%d resolved late in the %s", late, win))
		}
		if pastDue > 0 {
			parts = append(parts, fmt.Sprintf("%d open past due", pastDue))
		}
		r.Signals = append(r.Signals, Signal{Kind: SignalSLA, Count: n, Words: plural.Count(n, "ticket") + " past SLA (" + strings.Join(parts, ", ") + ")"})
	}
	if escalated > 0 {
		r.Signals = append(r.Signals, Signal{Kind: SignalEscalation, Count: escalated, Words: plural.Count(escalated, "open escalated ticket")})
	}

	// Surveys in W.
	type low struct {
		n      int
		lowest metrics.CustomerSurvey
	}
	var nps, csat low
	for _, s := range recs.Surveys {
		if !in(s.At) || !detractor(s) {
			continue
		}
		l := &csat
		if strings.EqualFold(s.Type, "nps") {
			l = &nps
		}
		if l.n == 0 || s.Score < l.lowest.Score || s.Score == l.lowest.Score && s.At.After(l.lowest.At) {
			l.lowest = s
		}
		l.n++
	}
	if nps.n > 0 {
		r.Signals = append(r.Signals, Signal{Kind: SignalNPS, Count: nps.n, Words: surveyWords(nps.n, "NPS detractor", nps.lowest)})
	}
	if csat.n > 0 {
		r.Signals = append(r.Signals, Signal{Kind: SignalCSAT, Count: csat.n, Words: surveyWords(csat.n, "CSAT of 2 or less", csat.lowest)})
	}
	return r, len(r.Signals) > 0
}

// surveyWords: "NPS detractor: 3 on 2 Dec 2026", "2 NPS detractors (lowest 1,
// on 2 Dec 2026)".
func surveyWords(n int, what string, lowest metrics.CustomerSurvey) string {
	score := scoreText(lowest.Score)
	if n == 1 {
		return what + ": " + score + " on " + day(lowest.At)
	}
	noun := what
	if strings.HasPrefix(what, "NPS") {
		noun = plural.Count(n, what)
	} else {
		noun = fmt.Sprintf("%d CSAT responses of 2 or less", n)
	}
	return noun + " (lowest " + score + ", on " + day(lowest.At) + ")"
}

func scoreText(x float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", x), ".0") }

func day(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// SignedAmount writes an amount with its sign, a true minus for a fall:
// −120.00. The signals, the customer page and the CLI word changes so.
func SignedAmount(x float64) string {
	if x < 0 {
		return "−" + scorecard.Amount(-x)
	}
	return "+" + scorecard.Amount(x)
}

// Percent writes a change in whole percent ("−15 %"); under 1 % with a
// decimal, so a real fall does not read 0 %.
func Percent(p float64) string {
	a := math.Abs(p)
	s := fmt.Sprintf("%.0f", a)
	if a < 1 {
		s = fmt.Sprintf("%.1f", a)
	}
	if p < 0 {
		return "−" + s + " %"
	}
	return "+" + s + " %"
}
