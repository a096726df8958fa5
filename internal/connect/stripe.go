package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Stripe: customer.subscription.* events become subscription records with
// their MRR normalised to one month (SPEC §1): each licensed item's unit
// amount × quantity, a yearly price ÷ 12 (weekly × 52 ÷ 12, daily × 365 ÷
// 12, and ÷ the interval count), recurring discounts applied, metered
// prices and one-time discounts left out. Only an active or past-due
// subscription bills; a trialing, unpaid or paused one counts 0.
//
// A subscription is a chain of records, one per span with the same terms:
// "sub_X" from its start, then "sub_X@UNIX" from each change. A plan,
// quantity, discount or status change ends the span it falls in at the
// change's time and starts the next, so past MRR is never rewritten and
// the MRR bridge sees the expansion or contraction. Each span's end names
// the next span's id, so the chain is followed from the first, and an
// event that arrives late splits the span it falls in.
func stripeConnector(cfg Stripe) connector {
	return connector{
		name:     "stripe",
		verify:   verifyStripe,
		parse:    func(in *input) (*parsed, error) { return parseStripe(cfg, in) },
		stateful: true,
	}
}

type stripeEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created when   `json:"created"`
	Data    struct {
		Object             json.RawMessage `json:"object"`
		PreviousAttributes json.RawMessage `json:"previous_attributes"`
	} `json:"data"`
}

type stripePrice struct {
	ID                string `json:"id"`
	Nickname          string `json:"nickname"`
	Currency          string `json:"currency"`
	UnitAmount        *int64 `json:"unit_amount"`
	UnitAmountDecimal string `json:"unit_amount_decimal"`
	// A price of several currencies: its amount in each but the first,
	// when the object is expanded with them.
	CurrencyOptions map[string]struct {
		UnitAmount        *int64 `json:"unit_amount"`
		UnitAmountDecimal string `json:"unit_amount_decimal"`
	} `json:"currency_options"`
	Recurring *struct {
		Interval      string `json:"interval"`
		IntervalCount int64  `json:"interval_count"`
		UsageType     string `json:"usage_type"`
	} `json:"recurring"`
	// Package pricing: the quantity is divided, and rounded, before the
	// unit amount applies (transform_usage on a plan).
	TransformQuantity *stripeTransform `json:"transform_quantity"`
	TransformUsage    *stripeTransform `json:"transform_usage"`
	// Plans (the API before prices) carry these at the top.
	Amount        *int64 `json:"amount"`
	AmountDecimal string `json:"amount_decimal"`
	Interval      string `json:"interval"`
	IntervalCount int64  `json:"interval_count"`
	UsageType     string `json:"usage_type"`
}

type stripeTransform struct {
	DivideBy int64  `json:"divide_by"`
	Round    string `json:"round"`
}

type stripeDiscount struct {
	ID     string `json:"id"`
	Coupon struct {
		PercentOff *float64 `json:"percent_off"`
		AmountOff  *int64   `json:"amount_off"`
		Currency   string   `json:"currency"`
		// An amount off in several currencies, when expanded.
		CurrencyOptions map[string]struct {
			AmountOff *int64 `json:"amount_off"`
		} `json:"currency_options"`
		Duration string `json:"duration"`
	} `json:"coupon"`
	End *int64 `json:"end"`
	// field is where the event gives it ("data.object.discounts[1]"), for
	// a refusal to name.
	field string
}

type stripeSubscription struct {
	ID         string            `json:"id"`
	Customer   json.RawMessage   `json:"customer"`
	Status     string            `json:"status"`
	Currency   string            `json:"currency"`
	StartDate  when              `json:"start_date"`
	Created    when              `json:"created"`
	EndedAt    when              `json:"ended_at"`
	CanceledAt when              `json:"canceled_at"`
	TrialEnd   when              `json:"trial_end"`
	Metadata   map[string]string `json:"metadata"`
	Items      struct {
		HasMore bool `json:"has_more"`
		Data    []struct {
			Quantity  *float64          `json:"quantity"`
			Price     *stripePrice      `json:"price"`
			Plan      *stripePrice      `json:"plan"`
			Discounts []json.RawMessage `json:"discounts"`
		} `json:"data"`
	} `json:"items"`
	Discount  *stripeDiscount   `json:"discount"`
	Discounts []json.RawMessage `json:"discounts"`
}

func parseStripe(cfg Stripe, in *input) (_ *parsed, err error) {
	var ev stripeEvent
	// A refusal keeps the event's id and type where they were read.
	defer func() { err = known(ev.ID, ev.Type, err) }()
	if err := decode(in.body, &ev); err != nil {
		return nil, err
	}
	switch {
	case ev.ID == "" || ev.Type == "":
		return nil, rejectMissing("id and type: missing (not a Stripe event)", "id", ev.ID, "type", ev.Type)
	case !strings.HasPrefix(ev.Type, "customer.subscription.") || ev.Type == "customer.subscription.trial_will_end" ||
		ev.Type == "customer.subscription.pending_update_applied" || ev.Type == "customer.subscription.pending_update_expired":
		return ignored(ev.ID, ev.Type, "Stripe %s events are not mapped", ev.Type), nil
	case ev.Created.IsZero():
		return nil, rejectField("created", "missing")
	}
	var sub stripeSubscription
	if err := decodeAt("data.object.", ev.Data.Object, &sub); err != nil {
		return nil, err
	}
	if sub.ID == "" {
		return nil, rejectField("data.object.id", "missing")
	}
	now, termsErr := stripeTerms(cfg, &sub, ev.Created.Time)
	var re *rejection
	ends := sub.Status == "canceled" || sub.Status == "incomplete_expired" || ev.Type == "customer.subscription.deleted"
	if termsErr != nil && (!ends || !errors.As(termsErr, &re)) {
		return nil, termsErr
	}
	// The terms before this change, when Stripe says what changed.
	var before *domain.Subscription
	var beforeErr error
	if len(ev.Data.PreviousAttributes) > 0 && string(ev.Data.PreviousAttributes) != "null" {
		old, err := previousSubscription(ev.Data.Object, ev.Data.PreviousAttributes)
		if err != nil {
			return nil, err
		}
		// Needed only for a subscription seen first by this event: the
		// span from its start. Terms Candor cannot price then (a discount
		// since removed, given by its id) refuse that event alone.
		before, beforeErr = stripeTerms(cfg, old, ev.Created.Time)
		if errors.As(beforeErr, &re) {
			field := previousField(re.field, ev.Data.PreviousAttributes)
			reason := re.reason
			if rest, ok := strings.CutPrefix(reason, re.field); ok && re.field != "" {
				reason = field + rest
			}
			beforeErr = &rejection{reason: "the subscription before this event (data.previous_attributes over data.object): " + reason, field: field}
		}
	}
	start := firstTime(sub.StartDate, sub.Created).Time
	if start.IsZero() {
		return nil, rejectField("data.object.start_date", "missing")
	}
	end := time.Time{}
	if ends {
		end = firstTime(sub.EndedAt, sub.CanceledAt, ev.Created).Time
	}
	ch := &subChange{id: sub.ID, start: start, at: ev.Created.Time, end: end, terms: now, termsErr: termsErr, before: before, beforeErr: beforeErr,
		created: ev.Type == "customer.subscription.created"}
	return &parsed{id: ev.ID, event: ev.Type, build: ch.build}, nil
}

// previousSubscription is the subscription with previous_attributes laid
// over it: its state before the event. Stripe lists only what changed,
// down to a single metadata key, so objects merge key by key (null: the
// key was absent) while lists and values are replaced whole.
func previousSubscription(object, previous json.RawMessage) (*stripeSubscription, error) {
	var cur, prev map[string]any
	if err := json.Unmarshal(object, &cur); err != nil {
		return nil, rejectField("data.object", "%v", err)
	}
	if err := json.Unmarshal(previous, &prev); err != nil {
		return nil, rejectField("data.previous_attributes", "%v", err)
	}
	overlay(cur, prev)
	b, _ := json.Marshal(cur)
	var old stripeSubscription
	if err := decodeAt("data.object.", b, &old); err != nil {
		// The field of the wrong type is the event's: where the
		// previous attributes give it, there.
		var re *rejection
		if errors.As(err, &re) && re.field != "" {
			field := previousField(re.field, previous)
			re.reason = strings.Replace(re.reason, re.field, field, 1)
			re.field = field
		}
		return nil, err
	}
	return &old, nil
}

// previousField is where in the event a field of the subscription before
// it ("data.object.discounts[0]") comes from: previous_attributes when
// that lists it (objects merged key by key, lists and values whole), else
// the object, unchanged by the event.
func previousField(field string, previous json.RawMessage) string {
	rest, ok := strings.CutPrefix(field, "data.object.")
	var at any
	if !ok || json.Unmarshal(previous, &at) != nil {
		return field
	}
	for _, key := range strings.FieldsFunc(rest, func(r rune) bool { return r == '.' || r == '[' }) {
		obj, isObj := at.(map[string]any)
		if !isObj {
			break // a list or a value, replaced whole
		}
		if at, ok = obj[key]; !ok {
			return field
		}
	}
	return "data.previous_attributes." + rest
}

func overlay(dst, src map[string]any) {
	for k, v := range src {
		sub, isObj := v.(map[string]any)
		into, hasObj := dst[k].(map[string]any)
		switch {
		case v == nil:
			delete(dst, k)
		case isObj && hasObj:
			overlay(into, sub)
		default:
			dst[k] = v
		}
	}
}

// zeroDecimal are the currencies Stripe counts in whole units; threeDecimal
// those it counts in thousandths (SPEC money is in currency units).
var (
	zeroDecimal  = []string{"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
	threeDecimal = []string{"BHD", "JOD", "KWD", "OMR", "TND"}
)

func minorUnits(currency string) int64 {
	switch {
	case slices.Contains(zeroDecimal, currency):
		return 1
	case slices.Contains(threeDecimal, currency):
		return 1000
	}
	return 100
}

// perMonth is the fraction of a billing interval in one month.
func perMonth(interval string, count int64) (*big.Rat, error) {
	if count <= 0 {
		count = 1
	}
	months := map[string]*big.Rat{"month": big.NewRat(1, 1), "year": big.NewRat(1, 12), "week": big.NewRat(52, 12), "day": big.NewRat(365, 12)}[interval]
	if months == nil {
		return nil, rejectf("billing interval %q: want day, week, month or year", interval)
	}
	return new(big.Rat).Quo(months, big.NewRat(count, 1)), nil
}

// stripeTerms is a subscription's terms as a subscription record: MRR,
// plan, interval, quantity, discount, customer (without id or times).
func stripeTerms(cfg Stripe, sub *stripeSubscription, at time.Time) (*domain.Subscription, error) {
	out := &domain.Subscription{Customer: stripeCustomer(cfg, sub)}
	if out.Customer == "" {
		return nil, rejectField("data.object.customer", "missing")
	}
	if sub.Items.HasMore {
		// An event lists a subscription's first 10 items only.
		return nil, rejectField("data.object.items.has_more", "the event lists %d of the subscription's items, not all: Candor cannot tell its MRR from the event", len(sub.Items.Data))
	}
	mrr := new(big.Rat)
	// The interval count of the invoices an amount off is taken from: a
	// quarterly price (month × 3) invoices once in three months.
	var invoiceCount int64
	var plans []string
	var quantity float64
	for i, it := range sub.Items.Data {
		p := it.Price
		if p == nil {
			p = it.Plan
		}
		if p == nil {
			return nil, rejectField(fmt.Sprintf("data.object.items.data[%d]", i), "no price or plan")
		}
		interval, count, usage := p.Interval, p.IntervalCount, p.UsageType
		if p.Recurring != nil {
			interval, count, usage = p.Recurring.Interval, p.Recurring.IntervalCount, p.Recurring.UsageType
		}
		if usage == "metered" {
			continue // usage is charged as used: not recurring revenue
		}
		if len(it.Discounts) > 0 {
			// An item's own discounts come in events as ids only; the
			// MRR without them would be the list price.
			return nil, rejectField(fmt.Sprintf("data.object.items.data[%d].discounts", i),
				"a discount of the item itself, which the event gives as an id only: Candor cannot tell what it takes off the MRR")
		}
		cur := strings.ToUpper(p.Currency)
		decimal, amount := firstOf(p.UnitAmountDecimal, p.AmountDecimal), p.UnitAmount
		if amount == nil {
			amount = p.Amount
		}
		if billed := strings.ToUpper(sub.Currency); billed != "" && billed != cur {
			// A price of several currencies is billed in the
			// subscription's; its amount in another than the price's first
			// is only in currency_options, which events do not expand.
			opt, ok := p.CurrencyOptions[strings.ToLower(billed)]
			if !ok {
				return nil, rejectField(fmt.Sprintf("data.object.items.data[%d].price.currency", i),
					"%s, and the subscription is billed in %s: the price's amount in %s (its currency_options, which Stripe does not expand in events) is not in the event", cur, billed, billed)
			}
			cur, decimal, amount = billed, opt.UnitAmountDecimal, opt.UnitAmount
		}
		if out.Currency != "" && cur != out.Currency {
			return nil, rejectField("data.object.items", "prices in %s and %s; a subscription has one currency", out.Currency, cur)
		}
		out.Currency = cur
		unit, ok := new(big.Rat), false
		switch {
		case decimal != "":
			_, ok = unit.SetString(decimal)
		case amount != nil:
			unit.SetInt64(*amount)
			ok = true
		}
		if !ok {
			at := "price.unit_amount"
			if it.Price == nil {
				at = "plan.amount" // a plan's unit amount
			}
			return nil, &rejection{reason: fmt.Sprintf("price %s has no unit amount (a tiered price): Candor cannot tell its MRR from the event", p.ID),
				field: fmt.Sprintf("data.object.items.data[%d].%s", i, at)}
		}
		q := 1.0
		if it.Quantity != nil {
			q = *it.Quantity
		}
		quantity += q
		months, err := perMonth(interval, count)
		if err != nil {
			return nil, err
		}
		billed, err := stripePackages(p, i, q)
		if err != nil {
			return nil, err
		}
		line := new(big.Rat).Mul(unit, billed)
		line.Mul(line, months)
		mrr.Add(mrr, line.Quo(line, big.NewRat(minorUnits(cur), 1)))
		plans = append(plans, firstOf(p.Nickname, p.ID))
		if out.Interval == "" {
			out.Interval, invoiceCount = interval, count
		}
	}
	if out.Currency == "" {
		return nil, rejectField("data.object.items", "no licensed price")
	}
	list := new(big.Rat).Set(mrr)
	discounts, err := stripeDiscounts(sub)
	if err != nil {
		return nil, err
	}
	for _, d := range discounts {
		if d.Coupon.Duration == "once" || (d.End != nil && !time.Unix(*d.End, 0).After(at)) {
			continue // a one-time discount, like a one-time charge, is no recurring revenue
		}
		switch {
		case d.Coupon.PercentOff != nil:
			mrr.Mul(mrr, new(big.Rat).SetFloat64(1-*d.Coupon.PercentOff/100))
		case d.Coupon.AmountOff != nil:
			amountOff := *d.Coupon.AmountOff
			if c := strings.ToUpper(d.Coupon.Currency); c != "" && c != out.Currency {
				opt, ok := d.Coupon.CurrencyOptions[strings.ToLower(out.Currency)]
				if !ok || opt.AmountOff == nil {
					return nil, rejectField(d.field+".coupon.currency", "%s, and the subscription is billed in %s: the amount off in %s (the coupon's currency_options) is not in the event", c, out.Currency, out.Currency)
				}
				amountOff = *opt.AmountOff
			}
			// Taken off each invoice: per month at the subscription's interval.
			months, err := perMonth(out.Interval, invoiceCount)
			if err != nil {
				return nil, err
			}
			off := new(big.Rat).Mul(big.NewRat(amountOff, minorUnits(out.Currency)), months)
			mrr.Sub(mrr, off)
		}
	}
	if mrr.Sign() < 0 {
		mrr.SetInt64(0)
	}
	if list.Sign() > 0 && mrr.Cmp(list) < 0 {
		f, _ := new(big.Rat).Quo(new(big.Rat).Sub(list, mrr), list).Float64()
		out.Discount = &f
	}
	if sub.Status != "active" && sub.Status != "past_due" && sub.Status != "canceled" {
		mrr.SetInt64(0) // trialing, incomplete, unpaid, paused: nothing billed
	}
	if ended := firstTime(sub.EndedAt, sub.CanceledAt, when{at}); sub.Status == "canceled" && !sub.TrialEnd.IsZero() && !sub.TrialEnd.Before(ended.Time) {
		// Ended within its trial: it never billed. Seen first, its only
		// span would otherwise count the price from its start.
		mrr.SetInt64(0)
	}
	out.MRR = money(mrr)
	slices.Sort(plans)
	out.Plan = strings.Join(slices.Compact(plans), "+")
	out.Quantity = &quantity
	return out, nil
}

// stripePackages is the quantity the unit amount is billed for: the
// licensed quantity, or with package pricing the number of packages it
// fills (12 seats in packages of 5, rounded up: 3).
func stripePackages(p *stripePrice, item int, q float64) (*big.Rat, error) {
	n := new(big.Rat).SetFloat64(q)
	t, field := p.TransformQuantity, fmt.Sprintf("data.object.items.data[%d].price.transform_quantity", item)
	if t == nil {
		t, field = p.TransformUsage, fmt.Sprintf("data.object.items.data[%d].plan.transform_usage", item)
	}
	if t == nil {
		return n, nil
	}
	if t.DivideBy <= 0 {
		return nil, rejectField(field+".divide_by", "%d: want a positive number", t.DivideBy)
	}
	n.Quo(n, big.NewRat(t.DivideBy, 1))
	whole, rem := new(big.Int).QuoRem(n.Num(), n.Denom(), new(big.Int))
	switch t.Round {
	case "up":
		if rem.Sign() > 0 {
			whole.Add(whole, big.NewInt(1))
		}
	case "down":
	default:
		return nil, rejectField(field+".round", "%q: want up or down", t.Round)
	}
	return new(big.Rat).SetInt(whole), nil
}

// stripeDiscounts are the subscription's discounts: the old single one,
// and each of the list. Stripe gives the list as ids unless the request
// expanded it, which an event's never is; an id that is not the single
// discount's own is refused rather than left out, since the MRR without it
// would be the list price and overstate the revenue.
func stripeDiscounts(sub *stripeSubscription) ([]stripeDiscount, error) {
	var out []stripeDiscount
	known := map[string]bool{}
	if sub.Discount != nil {
		if !sub.Discount.priced() {
			return nil, rejectField("data.object.discount.coupon", "neither percent_off nor amount_off: Candor cannot tell what the discount takes off the MRR")
		}
		d := *sub.Discount
		d.field = "data.object.discount"
		out = append(out, d)
		known[sub.Discount.ID] = true
	}
	for i, raw := range sub.Discounts {
		field := fmt.Sprintf("data.object.discounts[%d]", i)
		var id string
		if json.Unmarshal(raw, &id) == nil {
			if id != "" && known[id] {
				continue
			}
			return nil, rejectField(field, "discount %s is an id only (Stripe does not expand discounts in events): Candor cannot tell what it takes off the MRR", clip(id))
		}
		var d stripeDiscount
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, rejectField(field, "%v", err)
		}
		if d.ID != "" && known[d.ID] {
			continue // the single discount again: applied once
		}
		if !d.priced() {
			return nil, rejectField(field+".coupon", "neither percent_off nor amount_off: Candor cannot tell what the discount takes off the MRR")
		}
		d.field = field
		out = append(out, d)
		known[d.ID] = d.ID != ""
	}
	return out, nil
}

// priced reports whether the discount's coupon says what it takes off.
func (d *stripeDiscount) priced() bool {
	return d.Coupon.PercentOff != nil || d.Coupon.AmountOff != nil
}

// stripeCustomer is the customer id Candor uses: the configured metadata
// key's value, else Stripe's customer id (expanded or not).
func stripeCustomer(cfg Stripe, sub *stripeSubscription) string {
	if v := sub.Metadata[cfg.CustomerMetadata]; cfg.CustomerMetadata != "" && v != "" {
		return v
	}
	var id string
	if json.Unmarshal(sub.Customer, &id) == nil {
		return id
	}
	var obj struct {
		ID       string            `json:"id"`
		Metadata map[string]string `json:"metadata"`
	}
	json.Unmarshal(sub.Customer, &obj)
	if v := obj.Metadata[cfg.CustomerMetadata]; cfg.CustomerMetadata != "" && v != "" {
		return v
	}
	return obj.ID
}

// money rounds a non-negative amount in currency units to Money's
// millionths, half up: a yearly 100.00 is 8.333333 a month.
func money(r *big.Rat) domain.Money {
	n := new(big.Rat).Mul(r, big.NewRat(domain.MoneyScale, 1))
	q, rem := new(big.Int).QuoRem(n.Num(), n.Denom(), new(big.Int))
	if new(big.Int).Mul(rem, big.NewInt(2)).Cmp(n.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return domain.Money(q.Int64())
}

// subChange is one event of a subscription.
type subChange struct {
	id        string
	start, at time.Time // the subscription's start; the event's time
	end       time.Time // when it ended, when it did
	terms     *domain.Subscription
	// termsErr is why the event's terms could not be read, for an event
	// that ends the subscription: its end needs them only for a
	// subscription it is the first event of.
	termsErr  error
	before    *domain.Subscription // the terms before the event, when known
	beforeErr error                // why those terms could not be read
	created   bool                 // the subscription's creation, its first event
}

// stripeSuperseded is the document collection of the subscriptions first
// seen by another event than their creation ("<source>/<subscription id>"),
// with that event's time, written once: a creation of the same second,
// arriving after it or replayed, is older than that event's terms. The
// span's raw hash cannot tell this: a later event that ends the span
// rewrites it.
const stripeSuperseded = "connect.stripe_superseded_creations"

type supersededDoc struct {
	At time.Time `json:"at"`
}

// supersede notes that this event, not the creation, is the first seen of
// the subscription; the note goes with the build's records.
func (c *subChange) supersede(st *state) {
	if c.created || st.dryRun {
		return
	}
	body, _ := json.Marshal(supersededDoc{At: c.at.UTC()})
	st.docs = append(st.docs, store.KeyedDoc{Collection: stripeSuperseded, Key: st.source + "/" + c.id, Body: body})
}

// spanID is the id of the span starting at t: the first span is the
// subscription's id.
func (c *subChange) spanID(t time.Time) string {
	if !t.After(c.start) {
		return c.id
	}
	return c.id + "@" + strconv.FormatInt(t.Unix(), 10)
}

// span is a subscription record with these terms from t.
func (c *subChange) span(terms *domain.Subscription, from time.Time) *domain.Subscription {
	s := *terms
	s.ID, s.StartedAt = c.spanID(from), from
	return &s
}

// sameTerms reports whether two spans bill the same.
func sameTerms(a, b *domain.Subscription) bool {
	return a.Customer == b.Customer && a.MRR == b.MRR && a.Currency == b.Currency && a.Plan == b.Plan && a.Interval == b.Interval &&
		eqPtr(a.Quantity, b.Quantity) && eqPtr(a.Discount, b.Discount)
}

func eqPtr(a, b *float64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// chain reads the stored spans, first to last.
func (c *subChange) chain(ctx context.Context, st *state) ([]*domain.Subscription, error) {
	var out []*domain.Subscription
	id := c.id
	for range 10_000 { // a bound against a corrupt chain that loops
		var s domain.Subscription
		ok, err := st.get(ctx, domain.KindSubscription, id, &s)
		if err != nil || !ok {
			return out, err
		}
		out = append(out, &s)
		if s.EndedAt.IsZero() {
			return out, nil
		}
		id = c.spanID(s.EndedAt)
		if id == s.ID {
			return out, nil
		}
	}
	return nil, fmt.Errorf("subscription %s: the chain of its spans does not end", c.id)
}

func (c *subChange) build(ctx context.Context, st *state) (built, error) {
	spans, err := c.chain(ctx, st)
	if err != nil {
		return built{}, err
	}
	if c.termsErr != nil && len(spans) == 0 {
		return built{}, c.termsErr
	}
	if len(spans) == 0 {
		// The first event Candor sees of this subscription.
		var out []domain.Record
		first := c.terms
		if c.beforeErr != nil && c.at.After(c.start) {
			return built{}, c.beforeErr
		}
		if c.before != nil && !sameTerms(c.before, c.terms) && c.at.After(c.start) {
			first = c.before
		}
		s := c.span(first, c.start)
		c.supersede(st)
		if first != c.terms {
			s.EndedAt = c.at
			out = append(out, s)
			s = c.span(c.terms, c.at)
		}
		s.EndedAt = c.end
		return built{records: append(out, s)}, nil
	}
	// The span the event falls in: the last one starting at or before it.
	i := len(spans) - 1
	for i > 0 && spans[i].StartedAt.After(c.at) {
		i--
	}
	cur := spans[i]
	last := i == len(spans)-1
	if !c.end.IsZero() {
		// Ended: the span the end falls in ends then; later spans were
		// changes after the end, which cannot be.
		if !last {
			return built{ignored: fmt.Sprintf("the subscription has spans after %s", c.end.Format(time.RFC3339))}, nil
		}
		if cur.EndedAt.Equal(c.end) {
			return built{records: []domain.Record{cur}}, nil
		}
		cur.EndedAt = c.end
		return built{records: []domain.Record{cur}}, nil
	}
	if last && !cur.EndedAt.IsZero() && !c.at.Before(cur.EndedAt) {
		return built{ignored: fmt.Sprintf("the subscription ended at %s", cur.EndedAt.Format(time.RFC3339))}, nil
	}
	switch {
	case sameTerms(cur, c.terms):
		return built{records: []domain.Record{cur}}, nil // no change in billing: metadata, a renewal
	case cur.StartedAt.Equal(c.at):
		if c.created {
			// Stripe's times are seconds: an update in the second of the
			// creation (an incomplete subscription paid at once) may have
			// started this span and arrived first. The creation's terms
			// are the older ones then; otherwise (a replay) the span is
			// the creation's own and takes them again.
			doc, found, err := st.st.DocByKey(ctx, stripeSuperseded, st.source+"/"+c.id)
			if err != nil {
				return built{}, err
			}
			var first supersededDoc
			if found {
				if err := json.Unmarshal(doc.Body, &first); err != nil {
					return built{}, fmt.Errorf("the first event seen of subscription %s/%s: %w", st.source, c.id, err)
				}
			}
			if first.At.Equal(c.at) {
				return built{records: []domain.Record{cur}}, nil
			}
		}
		// This event started the span (a redelivery or replay): its terms.
		s := c.span(c.terms, c.at)
		s.EndedAt = cur.EndedAt
		return built{records: []domain.Record{s}}, nil
	}
	next := c.span(c.terms, c.at)
	next.EndedAt = cur.EndedAt // an event that came late: the next span still follows
	cur.EndedAt = c.at
	return built{records: []domain.Record{cur, next}}, nil
}
