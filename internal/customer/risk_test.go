package customer

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

var (
	asOf  = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	start = asOf.Add(-30 * Day) // W = [start, asOf)
)

func at(d time.Duration) *time.Time { t := asOf.Add(d); return &t }

func sub(customer, id string, started time.Time, ended *time.Time, mrr float64) metrics.CustomerSubscription {
	return metrics.CustomerSubscription{Customer: customer, Source: "import", ID: id, Started: started, Ended: ended, MRR: mrr, Currency: "USD", OrgMRR: &mrr}
}

func survey(customer, typ string, score float64, when time.Time) metrics.CustomerSurvey {
	return metrics.CustomerSurvey{Customer: customer, Source: "import", ID: typ + when.Format("0102150405"), Type: typ, Score: score, At: when}
}

func ticket(customer, id string, created time.Time, resolved, due *time.Time, escalated bool) metrics.CustomerTicket {
	return metrics.CustomerTicket{Customer: customer, Source: "import", ID: id, Created: created, Resolved: resolved, SLADue: due, Escalated: escalated}
}

var longAgo = asOf.AddDate(-1, 0, 0)

// TestRiskSignals holds each signal to its rule and its boundaries: W is
// [as_of − 30 days, as_of), a subscription is active from started_at until
// ended_at, churn is the last subscription ending, contraction the net.
func TestRiskSignals(t *testing.T) {
	cases := []struct {
		name string
		recs metrics.CustomerRecords
		// want is the kinds of the customer's signals, in order, and
		// words a phrase each must contain.
		want  []string
		words []string
	}{
		{name: "nothing happened",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{sub("a", "s1", longAgo, nil, 100)}}},
		{name: "the last subscription ends in W: churn with the MRR lost",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{sub("a", "s1", longAgo, at(-5*Day), 800)}},
			want: []string{SignalChurn}, words: []string{"churned: MRR −800.00 USD (−100 %); its last subscription ended 26 Nov 2026"}},
		{name: "an upgrade is not churn: one ends, the next starts the same instant for more",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{
				sub("a", "s1", longAgo, at(-5*Day), 100), sub("a", "s2", asOf.Add(-5*Day), nil, 150)}}},
		{name: "a downgrade is contraction, not churn",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{
				sub("a", "s1", longAgo, at(-5*Day), 800), sub("a", "s2", asOf.Add(-5*Day), nil, 680)}},
			want: []string{SignalContraction}, words: []string{"MRR −120.00 USD (−15 %) over 30 days"}},
		{name: "two subscriptions, one ends and the other grows by more: no signal",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{
				sub("a", "s1", longAgo, at(-3*Day), 100),
				sub("a", "s2", longAgo, at(-2*Day), 200), sub("a", "s3", asOf.Add(-2*Day), nil, 350)}}},
		{name: "two subscriptions, one ends and the other grows by less: contraction of the net",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{
				sub("a", "s1", longAgo, at(-3*Day), 100),
				sub("a", "s2", longAgo, at(-2*Day), 200), sub("a", "s3", asOf.Add(-2*Day), nil, 250)}},
			want: []string{SignalContraction}, words: []string{"MRR −50.00 USD (−17 %)"}},
		{name: "ended exactly at W's start: not active then, so not churned in W",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{sub("a", "s1", longAgo, &start, 800)}}},
		{name: "ended exactly at as_of: no longer active at as_of, churned",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{sub("a", "s1", longAgo, at(0), 800)}},
			want: []string{SignalChurn}, words: []string{"churned: MRR −800.00 USD (−100 %); its last subscription ended 1 Dec 2026"}},
		{name: "started in W and ended in W: never in the base, not churn",
			recs: metrics.CustomerRecords{Subscriptions: []metrics.CustomerSubscription{sub("a", "s1", start.Add(Day), at(-Day), 800)}}},
		{name: "NPS 6 is a detractor, 7 is not",
			recs: metrics.CustomerRecords{Surveys: []metrics.CustomerSurvey{survey("a", "nps", 6, asOf.Add(-Day)), survey("a", "nps", 7, asOf.Add(-2*Day))}},
			want: []string{SignalNPS}, words: []string{"NPS detractor: 6 on 30 Nov 2026"}},
		{name: "a detractor exactly at W's start counts; one at as_of is after W",
			recs: metrics.CustomerRecords{Surveys: []metrics.CustomerSurvey{survey("a", "nps", 2, start), survey("a", "nps", 0, asOf)}},
			want: []string{SignalNPS}, words: []string{"NPS detractor: 2 on 1 Nov 2026"}},
		{name: "a detractor just before W does not count",
			recs: metrics.CustomerRecords{Surveys: []metrics.CustomerSurvey{survey("a", "nps", 0, start.Add(-time.Second))}}},
		{name: "CSAT 2 is low, 3 is not; two low ones counted with the lowest",
			recs: metrics.CustomerRecords{Surveys: []metrics.CustomerSurvey{survey("a", "csat", 2, asOf.Add(-Day)), survey("a", "CSAT", 1, asOf.Add(-3*Day)), survey("a", "csat", 3, asOf.Add(-2*Day))}},
			want: []string{SignalCSAT}, words: []string{"2 CSAT responses of 2 or less (lowest 1, on 28 Nov 2026)"}},
		{name: "SLA: resolved late in W, open past due; met and resolved late before W do not count",
			recs: metrics.CustomerRecords{Tickets: []metrics.CustomerTicket{
				ticket("a", "k1", asOf.Add(-10*Day), at(-5*Day), at(-6*Day), false),   // late in W
				ticket("a", "k2", asOf.Add(-40*Day), nil, at(-35*Day), false),         // open, due long ago
				ticket("a", "k3", asOf.Add(-10*Day), at(-7*Day), at(-6*Day), false),   // met
				ticket("a", "k4", asOf.Add(-40*Day), at(-31*Day), at(-35*Day), false), // late before W
				ticket("a", "k5", asOf.Add(-2*Day), nil, at(Day), false),              // open, due later
				ticket("a", "k6", asOf.Add(-10*Day), at(-6*Day), at(-6*Day), false)}}, // resolved exactly at due: met
			want: []string{SignalSLA}, words: []string{"2 tickets past SLA (1 resolved late in the 30 days, 1 open past due)"}},
		{name: "escalations: open escalated tickets at as_of only",
			recs: metrics.CustomerRecords{Tickets: []metrics.CustomerTicket{
				ticket("a", "k1", asOf.Add(-100*Day), nil, nil, true),
				ticket("a", "k2", asOf.Add(-10*Day), at(-Day), nil, true),
				ticket("a", "k3", asOf.Add(-10*Day), nil, nil, false)}},
			want: []string{SignalEscalation}, words: []string{"1 open escalated ticket"}},
		{name: "every signal at once, in order",
			recs: metrics.CustomerRecords{
				Subscriptions: []metrics.CustomerSubscription{sub("a", "s1", longAgo, at(-Day), 100)},
				Tickets:       []metrics.CustomerTicket{ticket("a", "k1", asOf.Add(-5*Day), nil, at(-Day), true)},
				Surveys:       []metrics.CustomerSurvey{survey("a", "nps", 1, asOf.Add(-Day)), survey("a", "csat", 1, asOf.Add(-Day))}},
			want: []string{SignalChurn, SignalSLA, SignalEscalation, SignalNPS, SignalCSAT}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.recs.AsOf, c.recs.Currency = asOf, "USD"
			l := AtRisk(c.recs, 30*Day, Options{})
			if len(c.want) == 0 {
				if len(l.Customers) != 0 {
					t.Fatalf("signals where none were wanted: %+v", l.Customers)
				}
				return
			}
			if len(l.Customers) != 1 {
				t.Fatalf("customers = %+v, want one", l.Customers)
			}
			var kinds, words []string
			for _, s := range l.Customers[0].Signals {
				kinds, words = append(kinds, s.Kind), append(words, s.Words)
			}
			if !slices.Equal(kinds, c.want) {
				t.Errorf("signals = %v (%q), want %v", kinds, words, c.want)
			}
			for _, w := range c.words {
				if !slices.ContainsFunc(words, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no signal says %q: %q", w, words)
				}
			}
		})
	}
}

// TestRiskOrderAndHiding: worst first by the gravest signal (churn,
// contraction, escalation, detractor, SLA), then by MRR at stake (the
// larger of the window's start and now), then by how many signals, then by
// name; a reader who may not see amounts gets no MRR, no contraction, and
// churn without its amount, ordered by signal, then how many.
func TestRiskOrderAndHiding(t *testing.T) {
	recs := metrics.CustomerRecords{AsOf: asOf, Currency: "USD",
		Subscriptions: []metrics.CustomerSubscription{
			sub("small", "s1", longAgo, at(-Day), 50),                                             // churned 50
			sub("big", "s2", longAgo, at(-Day), 1000), sub("big", "s3", asOf.Add(-Day), nil, 900), // contraction, 1000 at stake
			sub("grower", "s4", longAgo, at(-Day), 100), sub("grower", "s5", asOf.Add(-Day), nil, 2000), // expansion, 2000 at stake
		},
		Surveys: []metrics.CustomerSurvey{survey("grower", "nps", 3, asOf.Add(-Day)), survey("nosub", "nps", 0, asOf.Add(-Day)),
			survey("nosub2", "csat", 1, asOf.Add(-Day)), survey("nosub2", "nps", 1, asOf.Add(-Day))},
	}
	l := AtRisk(recs, 30*Day, Options{})
	var names []string
	for _, c := range l.Customers {
		names = append(names, c.Customer)
	}
	if want := []string{"small", "big", "grower", "nosub2", "nosub"}; !slices.Equal(names, want) {
		t.Errorf("order = %v, want %v", names, want)
	}
	if g := l.Customers[2]; g.MRR == nil || *g.MRR != 2000 || *g.AtStake != 2000 || *g.MRRStart != 100 {
		t.Errorf("grower = %+v", g)
	}
	if n := l.Customers[3]; n.MRR != nil || n.AtStake != nil {
		t.Errorf("a customer no subscription names has MRR: %+v", n)
	}

	hidden := AtRisk(recs, 30*Day, Options{HideAmounts: true})
	names = nil
	for _, c := range hidden.Customers {
		names = append(names, c.Customer)
		if c.MRR != nil || c.AtStake != nil {
			t.Errorf("%s: amounts shown to a reader who may not see them: %+v", c.Customer, c)
		}
		for _, s := range c.Signals {
			if s.Kind == SignalContraction || s.Amount != nil || strings.Contains(s.Words, "USD") {
				t.Errorf("%s: %+v shown without revenue:read", c.Customer, s)
			}
		}
	}
	// big's contraction is money alone: it drops out.
	if want := []string{"small", "nosub2", "grower", "nosub"}; !slices.Equal(names, want) {
		t.Errorf("hidden order = %v, want %v", names, want)
	}
	if hidden.Currency != "" || !hidden.HideAmounts {
		t.Errorf("hidden list says currency %q, hide %v", hidden.Currency, hidden.HideAmounts)
	}
	if s := hidden.Customers[0].Signals[0]; s.Words != "churned: its last subscription ended 30 Nov 2026" {
		t.Errorf("churn without amounts = %q", s.Words)
	}

	// Surveys hidden (no metric the reader sees reads them): no survey signal.
	noSurveys := AtRisk(recs, 30*Day, Options{Hide: map[domain.Kind]bool{domain.KindSurvey: true}})
	for _, c := range noSurveys.Customers {
		if strings.HasPrefix(c.Customer, "nosub") || c.Customer == "grower" {
			t.Errorf("%s listed from surveys the reader may not see", c.Customer)
		}
	}
	if !slices.Equal(noSurveys.Hidden, []domain.Kind{domain.KindSurvey}) {
		t.Errorf("hidden kinds = %v", noSurveys.Hidden)
	}
}

// TestRiskOrderBySeverity: the new user's review of 2026-12-07 (11) found
// the one churned customer #36 of 68, below 35 customers with one ticket
// past SLA and more MRR. The gravest signal orders first — churn,
// contraction, an open escalation, a detractor, tickets past SLA — and MRR
// at stake only within a rank; a customer with no signal (Everyone) last.
func TestRiskOrderBySeverity(t *testing.T) {
	due := asOf.Add(-20 * Day)
	late := func(c, id string) metrics.CustomerTicket {
		return ticket(c, id, asOf.Add(-25*Day), at(-10*Day), &due, false)
	}
	recs := metrics.CustomerRecords{AsOf: asOf, Currency: "USD",
		Subscriptions: []metrics.CustomerSubscription{
			sub("late-rich", "s1", longAgo, nil, 9000),     // SLA only, the most at stake
			sub("escalated", "s2", longAgo, nil, 100),      // an open escalation
			sub("unhappy", "s3", longAgo, nil, 5000),       // a CSAT of 1
			sub("churned", "s4", longAgo, at(-5*Day), 200), // churn, little at stake
			sub("shrunk", "s5", longAgo, at(-5*Day), 3000), sub("shrunk", "s6", asOf.Add(-5*Day), nil, 2000),
			sub("late-poor", "s7", longAgo, nil, 10), // SLA only
			sub("quiet", "s8", longAgo, nil, 99999),  // no signal
		},
		Tickets: []metrics.CustomerTicket{late("late-rich", "k1"), late("late-poor", "k2"), late("churned", "k3"),
			ticket("escalated", "k4", asOf.Add(-2*Day), nil, nil, true)},
		Surveys: []metrics.CustomerSurvey{survey("unhappy", "csat", 1, asOf.Add(-Day)), survey("late-poor", "nps", 9, asOf.Add(-Day))},
	}
	want := []string{"churned", "shrunk", "escalated", "unhappy", "late-rich", "late-poor"}
	names := func(l List) []string {
		var n []string
		for _, c := range l.Customers {
			n = append(n, c.Customer)
		}
		return n
	}
	if got := names(AtRisk(recs, 30*Day, Options{})); !slices.Equal(got, want) {
		t.Errorf("at-risk order = %v, want %v", got, want)
	}
	if got := names(Everyone(recs, 30*Day, Options{})); !slices.Equal(got, append(want, "quiet")) {
		t.Errorf("everyone's order = %v, want %v then quiet", got, want)
	}
	// Without amounts: shrunk's contraction is not shown; the rest keep
	// their ranks, ties by how many signals then name.
	if got, want := names(AtRisk(recs, 30*Day, Options{HideAmounts: true})), []string{"churned", "escalated", "unhappy", "late-poor", "late-rich"}; !slices.Equal(got, want) {
		t.Errorf("order without amounts = %v, want %v", got, want)
	}
	for k := range Severity {
		if !slices.Contains(Signals, k) {
			t.Errorf("Severity ranks %q, no signal", k)
		}
	}
	for _, k := range Signals {
		if _, ok := Severity[k]; !ok {
			t.Errorf("signal %q has no rank", k)
		}
	}
}

// TestRiskUnconvertedMRR: an amount no exchange rate converts gives no
// MRR and no MRR signal rather than a wrong one; churn still shows.
func TestRiskUnconvertedMRR(t *testing.T) {
	s := sub("a", "s1", longAgo, at(-Day), 100)
	s.OrgMRR, s.Unconverted = nil, "subscription s1 is in XYZ but no exchange rate XYZ→USD is configured"
	l := AtRisk(metrics.CustomerRecords{AsOf: asOf, Currency: "USD", Subscriptions: []metrics.CustomerSubscription{s}}, 30*Day, Options{})
	if len(l.Customers) != 1 || l.Customers[0].MRR != nil || l.Customers[0].Signals[0].Words != "churned: its last subscription ended 30 Nov 2026" {
		t.Errorf("unconverted = %+v", l.Customers)
	}
}

// A change is worded with its sign, a true minus, and in whole percent —
// but under 1 % with a decimal, on the page and in the CLI alike (the page
// had read a 0.4 % fall as "−0 %").
func TestChangeWords(t *testing.T) {
	for _, c := range []struct {
		amount, percent float64
		want            string
	}{{-200, -20, "−200.00 (−20 %)"}, {4884.51, 47.06, "+4,884.51 (+47 %)"}, {-4, -0.4, "−4.00 (−0.4 %)"}} {
		if got := SignedAmount(c.amount) + " (" + Percent(c.percent) + ")"; got != c.want {
			t.Errorf("%v, %v: %q, want %q", c.amount, c.percent, got, c.want)
		}
	}
}

// TestConsidered counts the customers an at-risk list is set against: those
// whose records could show a signal in W — a subscription active at W's
// start or at as_of, a ticket not resolved before W, a survey in W — with
// or without a signal, and the same whether the list keeps every customer.
func TestConsidered(t *testing.T) {
	recs := metrics.CustomerRecords{AsOf: asOf, Currency: "USD",
		Subscriptions: []metrics.CustomerSubscription{
			sub("steady", "s1", longAgo, nil, 100),               // active throughout: considered, no signal
			sub("churned", "s2", longAgo, at(-5*Day), 100),       // a signal
			sub("gone", "s3", longAgo, at(-40*Day), 100),         // ended before W: not considered
			sub("late-start", "s4", asOf.Add(-2*Day), nil, 100)}, // active at as_of
		Tickets: []metrics.CustomerTicket{
			ticket("old-ticket", "k1", longAgo, at(-31*Day), nil, false), // resolved before W
			ticket("open-ticket", "k2", longAgo, nil, nil, false),        // open: considered
			ticket("in-w", "k3", asOf.Add(-3*Day), at(-Day), nil, false)},
		Surveys: []metrics.CustomerSurvey{
			survey("old-survey", "nps", 9, start.Add(-time.Second)),
			survey("promoter", "nps", 10, start),
			survey("detractor", "nps", 2, asOf.Add(-Day))},
		Measurements: []metrics.CustomerMeasurement{{Customer: "measured", Source: "import", ID: "m1", Metric: "logins", At: asOf.Add(-Day), Value: 3}},
	}
	// steady, churned, late-start, open-ticket, in-w, promoter, detractor
	const want = 7
	risky := AtRisk(recs, 30*Day, Options{})
	if len(risky.Customers) != 2 || risky.Considered != want {
		t.Errorf("at risk: %d customers of %d considered, want 2 of %d", len(risky.Customers), risky.Considered, want)
	}
	if every := Everyone(recs, 30*Day, Options{}); every.Considered != want {
		t.Errorf("every customer listed: %d considered, want %d", every.Considered, want)
	}
}
