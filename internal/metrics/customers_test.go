package metrics

import (
	"testing"

	"github.com/candor/candor/internal/domain"
)

// TestCustomerRecords: the records naming a customer as of a time — those
// existing then, their later timestamps cleared — and no one else's; ""
// gives every named customer's, never the records naming none.
func TestCustomerRecords(t *testing.T) {
	asOf := bizT("2026-06-01T00:00:00Z")
	sub := func(id, customer, started, ended, cur string, mrr float64) *domain.Subscription {
		s := &domain.Subscription{Meta: bizMeta(id), Customer: customer, StartedAt: bizT(started), MRR: domain.Money(mrr * domain.MoneyScale), Currency: cur}
		if ended != "" {
			s.EndedAt = bizT(ended)
		}
		return s
	}
	k1 := bizTicket("k1", "2026-05-01", "2026-07-01", "2026-05-02", "high") // resolved after as_of
	k1.Customer, k1.Escalated, k1.Release = "acme", true, "d1"
	k2 := bizTicket("k2", "2026-07-01", "", "", "") // created after as_of
	k2.Customer = "acme"
	k3 := bizTicket("k3", "2026-05-01", "2026-05-03", "", "")
	k3.Customer = "globex"
	k4 := bizTicket("k4", "2026-05-01", "", "", "") // names no customer
	cfg := DefaultConfig()
	cfg.ExchangeRates = map[string]float64{"EUR": 2}
	d := bizDS(&cfg,
		sub("s1", "acme", "2026-01-01", "2026-08-01", "USD", 100), // ends after as_of
		sub("s2", "acme", "2026-02-01", "", "EUR", 10),
		sub("s3", "acme", "2026-02-01", "", "GBP", 10), // no rate
		sub("s4", "acme", "2026-07-01", "", "USD", 5),  // starts after as_of
		sub("s5", "globex", "2026-01-01", "", "USD", 7),
		k1, k2, k3, k4,
		&domain.Survey{Meta: bizMeta("v1"), At: bizT("2026-05-20"), Type: "nps", Score: 3, Customer: "acme", Release: "d2"},
		&domain.Survey{Meta: bizMeta("v2"), At: bizT("2026-06-20"), Type: "nps", Score: 3, Customer: "acme"},
		&domain.Measurement{Meta: bizMeta("m1"), Metric: "seats", At: bizT("2026-05-20"), Value: 12, Customer: "acme", Unit: "seats"},
	)
	got := d.CustomerRecords("acme", asOf)
	if len(got.Subscriptions) != 3 || len(got.Tickets) != 1 || len(got.Surveys) != 1 || len(got.Measurements) != 1 {
		t.Fatalf("acme's records = %+v", got)
	}
	byID := map[string]CustomerSubscription{}
	for _, s := range got.Subscriptions {
		byID[s.ID] = s
	}
	if s := byID["s1"]; s.Ended != nil || !s.ActiveAt(asOf) || *s.OrgMRR != 100 {
		t.Errorf("s1 (ends after as_of) = %+v", s)
	}
	if s := byID["s2"]; s.MRR != 10 || s.Currency != "EUR" || *s.OrgMRR != 20 {
		t.Errorf("s2 (EUR at 2) = %+v", s)
	}
	if s := byID["s3"]; s.OrgMRR != nil || s.Unconverted == "" {
		t.Errorf("s3 (no rate) = %+v", s)
	}
	if k := got.Tickets[0]; k.ID != "k1" || k.Resolved != nil || k.SLADue == nil || !k.Escalated || k.Release != "d1" || k.Priority != "high" {
		t.Errorf("k1 = %+v", k)
	}
	if v := got.Surveys[0]; v.ID != "v1" || v.Score != 3 || v.Release != "d2" || v.Type != "nps" {
		t.Errorf("v1 = %+v", v)
	}
	if m := got.Measurements[0]; m.Metric != "seats" || m.Value != 12 || m.Unit != "seats" {
		t.Errorf("m1 = %+v", m)
	}
	if got.Currency != "USD" || !got.AsOf.Equal(asOf) {
		t.Errorf("currency %q, as of %v", got.Currency, got.AsOf)
	}
	if none := d.CustomerRecords("nobody", asOf); len(none.Subscriptions)+len(none.Tickets)+len(none.Surveys)+len(none.Measurements) != 0 {
		t.Errorf("an unknown customer has records: %+v", none)
	}
	// A name that is some other string of the dataset (a plan, an id).
	if none := d.CustomerRecords("k4", asOf); len(none.Tickets) != 0 {
		t.Errorf("a ticket id taken for a customer: %+v", none)
	}
	all := d.CustomerRecords("", asOf)
	if len(all.Subscriptions) != 4 || len(all.Tickets) != 2 {
		t.Errorf("every customer's: %d subscriptions, %d tickets; want 4 and 2 (none of k4, which names no customer)", len(all.Subscriptions), len(all.Tickets))
	}
}
