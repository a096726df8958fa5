package customer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

func TestCustomerPage(t *testing.T) {
	recs := metrics.CustomerRecords{AsOf: asOf, Currency: "USD",
		Subscriptions: []metrics.CustomerSubscription{
			sub("acme", "s1", longAgo.Add(-10*Day), at(-10*Day), 1000),
			sub("acme", "s2", asOf.Add(-10*Day), nil, 800),
		},
		Tickets: []metrics.CustomerTicket{
			ticket("acme", "k-old-resolved", asOf.Add(-50*Day), at(-49*Day), at(-48*Day), false),
			ticket("acme", "k-open-late", asOf.Add(-20*Day), nil, at(-19*Day), true),
			ticket("acme", "k-new-resolved", asOf.Add(-5*Day), at(-Day), at(-3*Day), false),
			ticket("acme", "k-open-new", asOf.Add(-2*Day), nil, at(Day), false),
		},
		Surveys: []metrics.CustomerSurvey{survey("acme", "nps", 9, asOf.Add(-40*Day)), survey("acme", "nps", 4, asOf.Add(-Day))},
	}
	// d2 is named first (by the oldest ticket), d1 most: d1 leads.
	recs.Tickets[0].Release, recs.Tickets[1].Release, recs.Surveys[1].Release = "d2", "d1", "d1"
	recs.Tickets[0].Segment, recs.Tickets[3].Segment = "smb", "enterprise"
	resolve := func(source, id string) (metrics.LinkedRecord, bool) {
		if id == "d1" {
			return metrics.LinkedRecord{Kind: domain.KindDeployment, Source: source, ID: id, Method: metrics.Explicit}, true
		}
		return metrics.LinkedRecord{}, false
	}
	c, err := Of("acme", recs, 30*Day, Options{}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	// MRR: 800 now, 1000 thirty days and a year before (s1 ran until 10 days ago).
	if *c.MRR.Value != 800 || *c.MRRMonthAgo.Value != 1000 || *c.MRRYearAgo.Value != 1000 {
		t.Errorf("MRR now %v, 30 days before %v, a year before %v", *c.MRR.Value, *c.MRRMonthAgo.Value, *c.MRRYearAgo.Value)
	}
	if c.Subscriptions[0].ID != "s2" || !c.Subscriptions[0].Active || c.Subscriptions[1].Active {
		t.Errorf("subscriptions = %+v, want the active one first", c.Subscriptions)
	}
	var ids []string
	for _, k := range c.Tickets {
		ids = append(ids, k.ID+":"+k.SLA)
	}
	if got := strings.Join(ids, " "); got != "k-open-late:breached k-open-new:open k-new-resolved:breached k-old-resolved:met" {
		t.Errorf("tickets = %s, want the open ones first (oldest first), then the resolved newest first", got)
	}
	if w := c.Tickets[0].SLAWords; w != "breached: open 19 days past due" {
		t.Errorf("open past due says %q", w)
	}
	if c.Segment != "enterprise" || c.SegmentFrom != "ticket" || c.SegmentWords() != "its newest ticket's" {
		t.Errorf("segment = %q, want the newest ticket's", c.Segment)
	}
	// A subscription's segment says it before any ticket's: the active
	// one's over an ended one's, whatever their tickets say.
	recs.Subscriptions[0].Segment, recs.Subscriptions[1].Segment = "smb", "mid-market"
	if c, _ := Of("acme", recs, 30*Day, Options{}, resolve); c.Segment != "mid-market" || c.SegmentFrom != "subscription" || c.SegmentWords() != "its subscription's" || c.Subscriptions[0].Segment != "mid-market" {
		t.Errorf("segment = %q (%+v), want the active subscription's", c.Segment, c.Subscriptions)
	}
	recs.Subscriptions[1].Segment = ""
	if c, _ := Of("acme", recs, 30*Day, Options{}, resolve); c.Segment != "smb" {
		t.Errorf("segment = %q, want the ended subscription's when the active one names none", c.Segment)
	}
	if c.Surveys[0].Score != 4 || !c.Surveys[0].Detractor || c.Surveys[1].Detractor {
		t.Errorf("surveys = %+v, want newest first, the 4 a detractor", c.Surveys)
	}
	if len(c.Releases) != 2 || c.Releases[0].ID != "d1" || c.Releases[0].Tickets != 1 || c.Releases[0].Surveys != 1 || c.Releases[0].Deployment == nil ||
		c.Releases[1].ID != "d2" || c.Releases[1].Tickets != 1 || c.Releases[1].Deployment != nil {
		t.Errorf("releases = %+v", c.Releases)
	}
	var kinds []string
	for _, s := range c.Signals {
		kinds = append(kinds, s.Kind)
	}
	if got := strings.Join(kinds, " "); got != "contraction sla_breach escalation nps_detractor" {
		t.Errorf("signals = %s", got)
	}

	// A year before its first subscription it was not a customer: no 0.
	young := recs
	young.Subscriptions = recs.Subscriptions[1:]
	c2, _ := Of("acme", young, 30*Day, Options{}, nil)
	if c2.MRRYearAgo.Value != nil || !strings.HasPrefix(c2.MRRYearAgo.Note, "not a customer yet") {
		t.Errorf("a year before its first subscription: %+v", c2.MRRYearAgo)
	}
	// Only tickets: no MRR, and says why.
	c3, _ := Of("acme", metrics.CustomerRecords{AsOf: asOf, Tickets: recs.Tickets}, 30*Day, Options{}, nil)
	if c3.MRR.Value != nil || c3.MRR.Note != "no subscription names the customer" {
		t.Errorf("without subscriptions: %+v", c3.MRR)
	}

	hidden, _ := Of("acme", recs, 30*Day, Options{HideAmounts: true}, nil)
	if hidden.MRR != nil || hidden.Subscriptions[0].MRR != nil || hidden.Currency != "" {
		t.Errorf("amounts shown to a reader who may not see them: %+v", hidden)
	}
}

// TestCustomerNotFound: a name no record the reader may see names is a
// not_found error naming it; so is one whose only records are hidden.
func TestCustomerNotFound(t *testing.T) {
	_, err := Of("ghost", metrics.CustomerRecords{AsOf: asOf}, 30*Day, Options{}, nil)
	var nf *NotFoundError
	if !errors.As(err, &nf) || domain.CodeOf(err) != domain.ENotFound || !strings.Contains(err.Error(), `"ghost"`) {
		t.Fatalf("err = %v", err)
	}
	// In the pages' words, not RFC 3339 (new-user review 7); a customer
	// whose records came later says from when.
	if want := `names it as of 1 Dec 2026 00:00 UTC`; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %v, want it to end %q", err, want)
	}
	nf.First = asOf.Add(36 * time.Hour)
	if want := `as of 1 Dec 2026 00:00 UTC; not a customer yet then: its first record is dated 2 Dec 2026 12:00 UTC`; !strings.HasSuffix(nf.Error(), want) {
		t.Errorf("err = %v, want it to end %q", nf, want)
	}
	recs := metrics.CustomerRecords{AsOf: asOf, Surveys: []metrics.CustomerSurvey{survey("acme", "nps", 9, asOf.Add(-Day))}}
	if _, err := Of("acme", recs, 30*Day, Options{Hide: map[domain.Kind]bool{domain.KindSurvey: true}}, nil); !errors.As(err, &nf) {
		t.Errorf("a customer named only by hidden records: err = %v", err)
	}
}
