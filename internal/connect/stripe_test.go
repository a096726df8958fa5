package connect

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

const stSecret = "whsec_test"

func stripeEnv(t *testing.T, cfg Stripe) *env {
	cfg.Secret = stSecret
	return newEnv(t, Config{Stripe: cfg})
}

// stripeSig signs body as Stripe does, at t.
func stripeSig(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hexHMAC(secret, []byte(ts), []byte("."), body)
}

// replayStripe replays the Stripe deliveries e kept with cfg, a
// configuration fixed since.
func (e *env) replayStripe(cfg Stripe) {
	e.t.Helper()
	cfg.Secret = stSecret
	svc, err := New(Options{Store: e.st, Config: Config{Stripe: cfg}, Now: func() time.Time { return e.now }})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := svc.Replay(e.t.Context(), "stripe", time.Time{}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) stripePost(body []byte) answer {
	e.t.Helper()
	return e.post("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now, body))
}

func TestStripeSignature(t *testing.T) {
	body := fixture(t, "stripe/stripe-sync-engine.customer.subscription.created.json")
	runSignatureChecks(t, sourceCase{
		source: "stripe",
		cfg:    func(secret string) Config { return Config{Stripe: Stripe{Secret: secret}} },
		body:   body,
		sign: func(e *env, secret string, body []byte) []string {
			return []string{"Stripe-Signature", stripeSig(secret, e.now, body)}
		},
	})
	// Any of several v1 signatures may match (Stripe signs with each
	// secret during a rotation); a v0 one does not count.
	e := stripeEnv(t, Stripe{})
	ts := strconv.FormatInt(e.now.Unix(), 10)
	good := hexHMAC(stSecret, []byte(ts), []byte("."), body)
	e.post("stripe", body, "Stripe-Signature", "t="+ts+",v1=00ff,v1="+good).want(t, http.StatusOK, store.DeliveryAccepted)
	e = stripeEnv(t, Stripe{})
	e.post("stripe", body, "Stripe-Signature", "t="+ts+",v0="+good).want(t, http.StatusUnauthorized, store.DeliveryRejected)
	// The timestamp is signed and must be within five minutes of now.
	for _, age := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		e := stripeEnv(t, Stripe{})
		a := e.post("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now.Add(age), body)).want(t, http.StatusUnauthorized, store.DeliveryRejected)
		if reason, _ := a.body["error"].(string); !strings.Contains(reason, "tolerance") {
			t.Errorf("signed %v from now: %s", age, reason)
		}
	}
	e = stripeEnv(t, Stripe{})
	e.post("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now.Add(-4*time.Minute), body)).want(t, http.StatusOK, store.DeliveryAccepted)
	// The tolerance is configured.
	e = newEnv(t, Config{Stripe: Stripe{Secret: stSecret}, SignatureTolerance: "10m"})
	e.post("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now.Add(-8*time.Minute), body)).want(t, http.StatusOK, store.DeliveryAccepted)
}

func sub(id, customer string, mrr domain.Money, start time.Time, quantity float64) *domain.Subscription {
	return &domain.Subscription{Meta: domain.Meta{ID: id, Source: "stripe"}, Customer: customer, StartedAt: start, MRR: mrr, Currency: "USD",
		Plan: "price_1IDQm5JDPojXS6LNM31hxKzp", Interval: "month", Quantity: &quantity}
}

// The real lifecycle of a free subscription: created, then deleted.
func TestStripeRealLifecycle(t *testing.T) {
	e := stripeEnv(t, Stripe{})
	e.stripePost(fixture(t, "stripe/stripe-sync-engine.customer.subscription.created.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	// Its two items of one seat each, of the same price.
	want := sub("sub_JdIzvfy6o5GZRd", "cus_IhGfebO16cMIGN", 0, time.Unix(1623148918, 0).UTC(), 2)
	sameRecord(t, e.record(domain.KindSubscription, "stripe", want.ID), want)
	e.stripePost(fixture(t, "stripe/stripe-sync-engine.customer.subscription.deleted.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	want.EndedAt = time.Unix(1623149102, 0).UTC()
	sameRecord(t, e.record(domain.KindSubscription, "stripe", want.ID), want)

	// Another subscription, first seen by an update of its metadata only:
	// one span from its start, the customer from the configured metadata.
	e = stripeEnv(t, Stripe{CustomerMetadata: "organization_slug"})
	e.stripePost(fixture(t, "stripe/stripe-sync-engine.customer.subscription.updated.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindSubscription, "stripe", "sub_JLEPMp81LApOJl"), sub("sub_JLEPMp81LApOJl", "visible-emerald-fly", 0, time.Unix(1618980344, 0).UTC(), 1))
	if n := e.recordCount(); n != 1 {
		t.Fatalf("%d records, want the one span", n)
	}
	a := e.stripePost(fixture(t, "stripe/stripe-sync-engine.invoice.paid.json")).want(t, http.StatusOK, store.DeliveryIgnored)
	if a.body["reason"] != "Stripe invoice.paid events are not mapped" {
		t.Fatalf("reason %v", a.body["reason"])
	}
}

// Derived: a yearly plan of 1,200.00 × 3 seats with 25 % off for ever is
// 225.00 a month; raised to 5 seats a month later it is 375.00 from then,
// the earlier span keeping its 225.00; cancelled a month after that.
func TestStripeMRRNormalisedAndSpansNeverRewritten(t *testing.T) {
	created := fixture(t, "stripe/derived.customer.subscription.created.yearly.json")
	updated := fixture(t, "stripe/derived.customer.subscription.updated.quantity.json")
	deleted := fixture(t, "stripe/derived.customer.subscription.deleted.yearly.json")
	t0, t1, t2 := time.Unix(1623148918, 0).UTC(), time.Unix(1625740918, 0).UTC(), time.Unix(1628332918, 0).UTC()
	three, five, quarter := 3.0, 5.0, 0.25
	first := &domain.Subscription{Meta: domain.Meta{ID: "sub_DERIVEDyearly", Source: "stripe"}, Customer: "cus_IhGfebO16cMIGN",
		StartedAt: t0, EndedAt: t1, MRR: 225_000000, Currency: "USD", Plan: "price_1IDQm5JDPojXS6LNM31hxKzp", Interval: "year",
		Quantity: &three, Discount: &quarter}
	second := *first
	second.ID, second.StartedAt, second.EndedAt, second.MRR, second.Quantity = "sub_DERIVEDyearly@1625740918", t1, t2, 375_000000, &five

	for name, order := range map[string][][]byte{
		"in order":                   {created, updated, deleted},
		"update first":               {updated, created, deleted},
		"deletion before the update": {created, deleted, updated},
	} {
		t.Run(name, func(t *testing.T) {
			e := stripeEnv(t, Stripe{})
			for _, body := range order {
				e.stripePost(body).want(t, http.StatusOK, store.DeliveryAccepted)
			}
			sameRecord(t, e.record(domain.KindSubscription, "stripe", first.ID), first)
			sameRecord(t, e.record(domain.KindSubscription, "stripe", second.ID), &second)
			if n := e.recordCount(); n != 2 {
				t.Fatalf("%d records, want the two spans", n)
			}
			for _, c := range []struct {
				at   time.Time
				want float64
			}{{t0.Add(time.Hour), 225}, {t1.Add(-time.Second), 225}, {t1, 375}, {t2.Add(-time.Second), 375}, {t2, 0}} {
				if got := value(e.metric("mrr", c.at, 30*24*time.Hour)); got != c.want {
					t.Errorf("mrr at %v = %v, want %v", c.at, got, c.want)
				}
			}
		})
	}
	// Replayed or redelivered, a change that started a span rewrites
	// nothing.
	e := stripeEnv(t, Stripe{})
	for _, body := range [][]byte{created, updated} {
		e.stripePost(body)
	}
	seq := e.lastSeq()
	for i, body := range [][]byte{created, updated} {
		again := edit(t, body, func(m map[string]any) { m["id"] = fmt.Sprintf("evt_again%d", i) })
		e.stripePost(again).want(t, http.StatusOK, store.DeliveryAccepted)
	}
	if e.lastSeq() != seq {
		t.Fatal("the same changes sent again rewrote records")
	}
}

func TestStripeRedeliveryMalformed(t *testing.T) {
	e := stripeEnv(t, Stripe{})
	body := fixture(t, "stripe/stripe-sync-engine.customer.subscription.created.json")
	e.redelivery("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now, body))
	if ds := e.deliveries("stripe"); ds[0].DeliveryID != "evt_1J02NfJDPojXS6LNawmt1X8q" {
		t.Fatalf("delivery id %q, want the event's", ds[0].DeliveryID)
	}
	e = stripeEnv(t, Stripe{})
	tiered := edit(t, body, func(m map[string]any) {
		it := asList(obj(m, "data", "object", "items")["data"])[0].(map[string]any)
		p := it["price"].(map[string]any)
		p["unit_amount"], p["unit_amount_decimal"], p["billing_scheme"] = nil, nil, "tiered"
	})
	e.post("stripe", tiered, "Stripe-Signature", stripeSig(stSecret, e.now, tiered)).want(t, http.StatusBadRequest, store.DeliveryRejected)
	noItems := edit(t, body, func(m map[string]any) { obj(m, "data", "object", "items")["data"] = []any{} })
	e.malformed("stripe", noItems, "no licensed price", "Stripe-Signature", stripeSig(stSecret, e.now, noItems))
}

// Derived from the yearly fixture: Stripe gives a subscription's
// discounts list (and each item's) as ids, unexpanded in events. One that
// is the single discount's own id changes nothing; any other is refused,
// naming it, where it had been left out and the list price counted as MRR.
func TestStripeDiscountGivenAsAnIdOnly(t *testing.T) {
	created := fixture(t, "stripe/derived.customer.subscription.created.yearly.json")
	e := stripeEnv(t, Stripe{})
	same := edit(t, created, func(m map[string]any) { obj(m, "data", "object")["discounts"] = []any{"di_DERIVED"} })
	e.stripePost(same).want(t, http.StatusOK, store.DeliveryAccepted)
	if r := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription); r.MRR != 225_000000 {
		t.Fatalf("mrr %v, want 225.00: the single discount applied once", r.MRR)
	}

	for name, fn := range map[string]func(m map[string]any){
		"the subscription's": func(m map[string]any) {
			sub := obj(m, "data", "object")
			sub["discount"], sub["discounts"] = nil, []any{"di_1PabcDERIVED"}
		},
		"an item's": func(m map[string]any) {
			sub := obj(m, "data", "object")
			sub["discount"] = nil
			asList(obj(sub, "items")["data"])[0].(map[string]any)["discounts"] = []any{"di_1PitemDERIVED"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := stripeEnv(t, Stripe{})
			body := edit(t, created, fn)
			e.malformed("stripe", body, "Candor cannot tell what it takes off the MRR", "Stripe-Signature", stripeSig(stSecret, e.now, body))
			a := e.post("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now, body))
			if f, _ := a.body["field"].(string); !strings.Contains(f, "discounts") {
				t.Fatalf("field %q, want the discounts list: %s", f, a.raw)
			}
		})
	}
}

// Derived from the yearly deletion: a subscription cancelled seven days
// into a fourteen-day trial, its deletion the first event Candor sees. It
// never billed: its one span is of no MRR, where it had counted the price
// from the start (and churned it at the end).
func TestStripeCancelledInItsTrialNeverBilled(t *testing.T) {
	start := int64(1623148918)
	deleted := edit(t, fixture(t, "stripe/derived.customer.subscription.deleted.yearly.json"), func(m map[string]any) {
		m["created"] = start + 7*86400
		sub := obj(m, "data", "object")
		sub["trial_start"], sub["trial_end"] = start, start+14*86400
		sub["ended_at"], sub["canceled_at"] = start+7*86400, start+7*86400
	})
	e := stripeEnv(t, Stripe{})
	e.stripePost(deleted).want(t, http.StatusOK, store.DeliveryAccepted)
	s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription)
	if s.MRR != 0 || !s.EndedAt.Equal(time.Unix(start+7*86400, 0)) {
		t.Fatalf("mrr %v ended %v, want 0 ended at the cancellation", s.MRR, s.EndedAt)
	}
	// Cancelled after its trial, it billed until its end.
	after := edit(t, deleted, func(m map[string]any) {
		sub := obj(m, "data", "object")
		sub["trial_end"] = start + 3*86400
	})
	e = stripeEnv(t, Stripe{})
	e.stripePost(after).want(t, http.StatusOK, store.DeliveryAccepted)
	if s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription); s.MRR != 375_000000 {
		t.Fatalf("mrr %v, want 375.00 (5 seats)", s.MRR)
	}
}

// Derived from the yearly fixture: its price sold in packages of 2 seats,
// rounded up (transform_quantity; the plan beside it says the same as
// transform_usage). 3 seats fill 2 packages: 1,200.00 × 2 a year, 25 %
// off, is 150.00 a month, where it had billed every seat (225.00).
func TestStripePackagePricing(t *testing.T) {
	pkg := func(round string, divide any) []byte {
		return edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), func(m map[string]any) {
			it := asList(obj(m, "data", "object", "items")["data"])[0].(map[string]any)
			tr := map[string]any{"divide_by": divide, "round": round}
			it["price"].(map[string]any)["transform_quantity"] = tr
			it["plan"].(map[string]any)["transform_usage"] = tr
		})
	}
	for _, c := range []struct {
		round string
		want  domain.Money
	}{{"up", 150_000000}, {"down", 75_000000}} {
		e := stripeEnv(t, Stripe{})
		e.stripePost(pkg(c.round, 2)).want(t, http.StatusOK, store.DeliveryAccepted)
		s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription)
		if s.MRR != c.want || *s.Quantity != 3 {
			t.Errorf("round %s: mrr %v quantity %v, want %v of 3 seats", c.round, s.MRR, *s.Quantity, c.want)
		}
	}
	e := stripeEnv(t, Stripe{})
	bad := pkg("sideways", 2)
	e.malformed("stripe", bad, "data.object.items.data[0].price.transform_quantity.round", "Stripe-Signature", stripeSig(stSecret, e.now, bad))
	// A plan alone (no price beside it) says it as transform_usage.
	e = stripeEnv(t, Stripe{})
	planOnly := edit(t, pkg("up", 0), func(m map[string]any) {
		delete(asList(obj(m, "data", "object", "items")["data"])[0].(map[string]any), "price")
	})
	e.malformed("stripe", planOnly, "data.object.items.data[0].plan.transform_usage.divide_by: 0", "Stripe-Signature", stripeSig(stSecret, e.now, planOnly))
}

// Derived from the yearly fixture: an update that removed a discount Stripe
// names by its id only (previous_attributes.discounts). Candor needs the
// terms before the update only for a subscription it sees first: then the
// update is refused, saying so; after the creation it is taken.
func TestStripeUnpricedTermsBeforeAnUpdate(t *testing.T) {
	created := fixture(t, "stripe/derived.customer.subscription.created.yearly.json")
	update := edit(t, created, func(m map[string]any) {
		m["id"], m["type"], m["created"] = "evt_DERIVEDremoved", "customer.subscription.updated", 1625740918
		obj(m, "data")["previous_attributes"] = map[string]any{"discounts": []any{"di_1PremovedDERIVED"}}
	})
	e := stripeEnv(t, Stripe{})
	e.stripePost(created).want(t, http.StatusOK, store.DeliveryAccepted)
	e.stripePost(update).want(t, http.StatusOK, store.DeliveryAccepted)
	if n := e.recordCount(); n != 1 {
		t.Fatalf("%d records, want the one span: the billing did not change", n)
	}
	e = stripeEnv(t, Stripe{})
	e.malformed("stripe", update, "the subscription before this event (data.previous_attributes over data.object): data.previous_attributes.discounts[0]: discount di_1PremovedDERIVED is an id only", "Stripe-Signature", stripeSig(stSecret, e.now, update))
	// The field is the one the event holds it in: data.object has no
	// discounts since the update removed them.
	e = stripeEnv(t, Stripe{})
	a := e.post("stripe", update, "Stripe-Signature", stripeSig(stSecret, e.now, update))
	if f, _ := a.body["field"].(string); f != "data.previous_attributes.discounts[0]" {
		t.Errorf("field %q, want data.previous_attributes.discounts[0]: %s", f, a.raw)
	}
	// previous_attributes merges objects key by key: a field under a key it
	// does not list is the object's.
	for field, want := range map[string]string{
		"data.object.discount.coupon":              "data.object.discount.coupon",
		"data.object.items.data[0].price.currency": "data.previous_attributes.items.data[0].price.currency",
		"data.object.items.has_more":               "data.previous_attributes.items.has_more",
	} {
		if got := previousField(field, []byte(`{"discount":{"end":null},"items":{"data":[{"quantity":3}],"has_more":true}}`)); got != want {
			t.Errorf("previousField(%s) = %s, want %s", field, got, want)
		}
	}
}

// Derived from the yearly fixture: Stripe lists the first 10 of a
// subscription's items in an event, with has_more when there are more
// (up to 20). The MRR of the items listed is not the subscription's: the
// event is refused, naming the field, where the rest had been left out.
func TestStripeItemsListedInPart(t *testing.T) {
	body := edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), func(m map[string]any) {
		items := obj(m, "data", "object", "items")
		items["has_more"], items["total_count"] = true, 12
	})
	e := stripeEnv(t, Stripe{})
	e.malformed("stripe", body, "data.object.items.has_more: the event lists 1 of the subscription's items", "Stripe-Signature", stripeSig(stSecret, e.now, body))
}

// Derived from the yearly fixture: billed every three months (interval
// month, interval_count 3), 300.00 × 3 seats a quarter is 300.00 a month;
// a coupon of 30.00 off each invoice takes 10.00 a month off it, where it
// had been taken off every month (270.00).
func TestStripeAmountOffAQuarterlyInvoice(t *testing.T) {
	body := edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), func(m map[string]any) {
		sub := obj(m, "data", "object")
		it := asList(obj(sub, "items")["data"])[0].(map[string]any)
		for _, p := range []map[string]any{it["price"].(map[string]any), it["plan"].(map[string]any)} {
			p["unit_amount"], p["unit_amount_decimal"], p["amount"], p["amount_decimal"] = 30000, "30000", 30000, "30000"
			p["interval"], p["interval_count"] = "month", 3
			if r, ok := p["recurring"].(map[string]any); ok {
				r["interval"], r["interval_count"] = "month", 3
			}
		}
		c := obj(sub, "discount", "coupon")
		c["percent_off"], c["amount_off"], c["currency"] = nil, 3000, "usd"
	})
	e := stripeEnv(t, Stripe{})
	e.stripePost(body).want(t, http.StatusOK, store.DeliveryAccepted)
	if s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription); s.MRR != 290_000000 {
		t.Fatalf("mrr %v, want 290.00", s.MRR)
	}
}

// Derived from the yearly fixture: the subscription billed in euros
// (currency eur) at a price whose first currency is the dollar. The euro
// amount is in the price's currency_options, which Stripe does not expand
// in events: without it the event is refused, naming the field, where the
// dollar amount had been recorded as the MRR, in dollars; with it (an
// expanded price) the euro amount is taken.
func TestStripePriceOfSeveralCurrencies(t *testing.T) {
	inEuros := func(options map[string]any) []byte {
		return edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), func(m map[string]any) {
			sub := obj(m, "data", "object")
			sub["currency"] = "eur"
			if options != nil {
				asList(obj(sub, "items")["data"])[0].(map[string]any)["price"].(map[string]any)["currency_options"] = options
			}
		})
	}
	e := stripeEnv(t, Stripe{})
	bad := inEuros(nil)
	e.malformed("stripe", bad, "data.object.items.data[0].price.currency: USD, and the subscription is billed in EUR", "Stripe-Signature", stripeSig(stSecret, e.now, bad))

	e = stripeEnv(t, Stripe{})
	e.stripePost(inEuros(map[string]any{"usd": map[string]any{"unit_amount": 120000}, "eur": map[string]any{"unit_amount": 110000, "unit_amount_decimal": "110000"}})).want(t, http.StatusOK, store.DeliveryAccepted)
	s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription)
	if s.Currency != "EUR" || s.MRR != 206_250000 {
		t.Fatalf("mrr %v %s, want 206.25 EUR (1,100.00 × 3 a year, 25 %% off)", s.MRR, s.Currency)
	}
}

// Derived from the yearly fixture: created incomplete and paid in the same
// second (an update to active, with previous_attributes saying it was
// incomplete). Stripe's times are seconds and its order is not promised:
// arriving first, the update had been overwritten by the creation's
// older terms (no MRR, for good); either way the subscription bills. So
// too when it is backdated a day (start_date before its creation): the
// update then starts the span of its own second, the one it bills from.
func TestStripeCreatedAndPaidInOneSecond(t *testing.T) {
	created := edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), func(m map[string]any) {
		obj(m, "data", "object")["status"] = "incomplete"
	})
	paid := edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), func(m map[string]any) {
		m["id"], m["type"] = "evt_DERIVEDpaid", "customer.subscription.updated"
		obj(m, "data")["previous_attributes"] = map[string]any{"status": "incomplete"}
	})
	backdate := func(body []byte) []byte {
		return edit(t, body, func(m map[string]any) { obj(m, "data", "object")["start_date"] = 1623148918 - 86400 })
	}
	for _, c := range []struct {
		name    string
		order   [][]byte
		billing string // the span that bills
		spans   int64
	}{
		{"in order", [][]byte{created, paid}, "sub_DERIVEDyearly", 1},
		{"the update first", [][]byte{paid, created}, "sub_DERIVEDyearly", 1},
		{"backdated, in order", [][]byte{backdate(created), backdate(paid)}, "sub_DERIVEDyearly@1623148918", 2},
		{"backdated, the update first", [][]byte{backdate(paid), backdate(created)}, "sub_DERIVEDyearly@1623148918", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := stripeEnv(t, Stripe{})
			for _, body := range c.order {
				e.stripePost(body).want(t, http.StatusOK, store.DeliveryAccepted)
			}
			if s := e.record(domain.KindSubscription, "stripe", c.billing).(*domain.Subscription); s.MRR != 225_000000 {
				t.Fatalf("mrr %v, want 225.00", s.MRR)
			}
			if n := e.recordCount(); n != c.spans {
				t.Fatalf("%d records, want %d spans", n, c.spans)
			}
		})
	}
	// The creation's own span still takes its terms again on a replay
	// after a configuration fix (here: the customer from metadata).
	e := stripeEnv(t, Stripe{})
	tagged := edit(t, created, func(m map[string]any) { obj(m, "data", "object")["metadata"] = map[string]any{"org": "acme"} })
	e.stripePost(tagged).want(t, http.StatusOK, store.DeliveryAccepted)
	e.replayStripe(Stripe{CustomerMetadata: "org"})
	if s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription); s.Customer != "acme" {
		t.Fatalf("customer %q after the replay, want acme", s.Customer)
	}
}

// Derived from the yearly fixture: a creation whose span a later update
// ended (rewriting its record, and with it the record's raw hash) is still
// that span's creation on a replay: after a configuration fix (here: the
// customer from metadata) the replay re-maps the first span too, as it
// does the update's.
func TestStripeReplayRemapsTheFirstSpanOfAnEndedCreation(t *testing.T) {
	tag := func(m map[string]any) { obj(m, "data", "object")["metadata"] = map[string]any{"org": "acme"} }
	created := edit(t, fixture(t, "stripe/derived.customer.subscription.created.yearly.json"), tag)
	more := edit(t, created, func(m map[string]any) {
		m["id"], m["type"], m["created"] = "evt_DERIVEDmore", "customer.subscription.updated", 1625740918
		asList(obj(m, "data", "object", "items")["data"])[0].(map[string]any)["quantity"] = 4
		obj(m, "data")["previous_attributes"] = map[string]any{"quantity": 3}
	})
	e := stripeEnv(t, Stripe{})
	e.stripePost(created).want(t, http.StatusOK, store.DeliveryAccepted)
	e.stripePost(more).want(t, http.StatusOK, store.DeliveryAccepted)
	e.replayStripe(Stripe{CustomerMetadata: "org"})
	for _, id := range []string{"sub_DERIVEDyearly", "sub_DERIVEDyearly@1625740918"} {
		if s := e.record(domain.KindSubscription, "stripe", id).(*domain.Subscription); s.Customer != "acme" {
			t.Errorf("%s: customer %q after the replay, want acme", id, s.Customer)
		}
	}
}

// Derived from the yearly fixture: a coupon of 30.00 off in pounds on a
// subscription billed in dollars, with no amount in dollars beside it. The
// refusal names the discount the event gives it in: the single discount,
// or an expanded one of the discounts list.
func TestStripeAmountOffInAnotherCurrencyNamesItsDiscount(t *testing.T) {
	created := fixture(t, "stripe/derived.customer.subscription.created.yearly.json")
	inPounds := func(d map[string]any) {
		c := obj(d, "coupon")
		c["percent_off"], c["amount_off"], c["currency"] = nil, 3000, "gbp"
	}
	single := edit(t, created, func(m map[string]any) { inPounds(obj(m, "data", "object", "discount")) })
	listed := edit(t, created, func(m map[string]any) {
		sub := obj(m, "data", "object")
		d := obj(sub, "discount")
		inPounds(d)
		d["id"] = "di_DERIVEDpounds"
		sub["discount"], sub["discounts"] = nil, []any{d}
	})
	for field, body := range map[string][]byte{"data.object.discount.coupon.currency": single, "data.object.discounts[0].coupon.currency": listed} {
		e := stripeEnv(t, Stripe{})
		a := e.post("stripe", body, "Stripe-Signature", stripeSig(stSecret, e.now, body)).want(t, http.StatusBadRequest, store.DeliveryRejected)
		if f, _ := a.body["field"].(string); f != field {
			t.Errorf("field %q, want %q: %s", f, field, a.raw)
		}
	}
}

// Derived from the yearly fixtures: a subscription Candor has recorded is
// cancelled while it carries a discount Stripe gives as an id only. Its
// end needs no price: the deletion ends the recorded span, where it had
// been refused and the subscription counted on, never churned. Seen
// first, the deletion is still refused (its one span would need a price).
func TestStripeDeletionWithAnUnpricedDiscountEndsTheSubscription(t *testing.T) {
	idOnly := func(m map[string]any) {
		sub := obj(m, "data", "object")
		sub["discount"], sub["discounts"] = nil, []any{"di_1PlaterDERIVED"}
	}
	deleted := edit(t, fixture(t, "stripe/derived.customer.subscription.deleted.yearly.json"), idOnly)
	e := stripeEnv(t, Stripe{})
	e.stripePost(fixture(t, "stripe/derived.customer.subscription.created.yearly.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	e.stripePost(deleted).want(t, http.StatusOK, store.DeliveryAccepted)
	if s := e.record(domain.KindSubscription, "stripe", "sub_DERIVEDyearly").(*domain.Subscription); !s.EndedAt.Equal(time.Unix(1628332918, 0)) || s.MRR != 225_000000 {
		t.Fatalf("ended %v mrr %v, want ended at the deletion, its MRR as recorded", s.EndedAt, s.MRR)
	}
	e = stripeEnv(t, Stripe{})
	e.malformed("stripe", deleted, "data.object.discounts[0]", "Stripe-Signature", stripeSig(stSecret, e.now, deleted))
}
