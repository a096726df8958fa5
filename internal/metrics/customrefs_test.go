package metrics

import (
	"slices"
	"testing"

	"github.com/candor/candor/internal/domain"
)

// refWant is a drill-down row's value (-1: none) and note.
type refWant struct {
	v    float64
	note string
}

// The records behind an organisation's metric carry what each adds to the value: a sum over a
// period kind its prorated part, as infrastructure_cost's rows do, not its whole amount; and a
// metric over the quota period lists the quota records that set the period without a value,
// since they are not summed (the records' values of a bookings sum had added up to the
// quotas and the bookings together).
func TestCustomRecordsCarryWhatTheyAdd(t *testing.T) {
	data := nd(
		// W is March to the 31st: a March bill is 30/31 inside it, a February one not at all.
		`{"kind":"cost","id":"c-mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":3100,"currency":"USD","service":"api","category":"compute"}`,
		`{"kind":"cost","id":"c-feb","period_start":"2026-02-01T00:00:00Z","period_end":"2026-03-01T00:00:00Z","amount":2800,"currency":"USD","service":"api","category":"compute"}`,
		`{"kind":"quota","id":"q-ann","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":90000,"currency":"USD"}`,
		`{"kind":"opportunity","id":"o1","created_at":"2026-01-05T00:00:00Z","owner":"ann","amount":1000,"currency":"USD","stage":"closed_won","won":true,"closed_at":"2026-02-10T00:00:00Z"}`,
		`{"kind":"opportunity","id":"o2","created_at":"2026-01-05T00:00:00Z","owner":"ann","amount":500,"currency":"USD","stage":"closed_won","won":true,"closed_at":"2025-12-10T00:00:00Z"}`,
	)
	cfg := configWith(t,
		CustomDef{ID: "compute_spend", Kind: domain.KindCost, Time: TimePeriod, Filter: `category == "compute"`, Value: "amount", Aggregate: AggregateSum},
		CustomDef{ID: "compute_mean", Kind: domain.KindCost, Time: TimePeriod, Value: "amount", Aggregate: AggregateMean},
		CustomDef{ID: "bookings_quarter", Kind: domain.KindOpportunity, Time: "closed_at", Filter: "won", Value: "amount", Aggregate: AggregateSum, Span: SpanQuotaPeriod},
	)
	d := load(t, &cfg, data)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true}
	for _, c := range []struct {
		metric string
		value  float64
		rows   map[string]refWant
	}{
		{"compute_spend", 3000, map[string]refWant{"c-mar": {3000, ""}}},
		// A mean is of each record's whole amount: its rows keep it.
		{"compute_mean", 3100, map[string]refWant{"c-mar": {3100, ""}}},
		{"bookings_quarter", 1000, map[string]refWant{"q-ann": {-1, "sets the quota period; not counted"}, "o1": {1000, ""}}},
	} {
		r, err := d.Compute(c.metric, q)
		if err != nil {
			t.Fatal(err)
		}
		if r.Value == nil || *r.Value != c.value {
			t.Errorf("%s = %s, want %v", c.metric, fmtVal(r.Value), c.value)
		}
		if len(r.Records) != len(c.rows) {
			t.Errorf("%s: %d records, want %d: %+v", c.metric, len(r.Records), len(c.rows), r.Records)
		}
		// The metric's own records first: the quota records only set the period.
		if len(r.Records) > 0 && r.Records[0].Kind == domain.KindQuota {
			t.Errorf("%s: the records open with a quota record: %+v", c.metric, r.Records)
		}
		for _, ref := range r.Records {
			want, ok := c.rows[ref.ID]
			if !ok {
				t.Errorf("%s: unexpected record %s", c.metric, ref.ID)
				continue
			}
			got := -1.0
			if ref.Value != nil {
				got = *ref.Value
			}
			if got != want.v || ref.Note != want.note {
				t.Errorf("%s: record %s value %v note %q, want %v %q", c.metric, ref.ID, got, ref.Note, want.v, want.note)
			}
		}
	}
}

// Money in a currency without an exchange rate leaves an organisation's metric that converts it
// without a value, as it does the built-ins: the import's warning and the data sources report
// name it with them (they had named only the built-ins). A metric that reads no amount of the
// kind, a count, converts nothing; one over the quota period converts the quotas.
func TestUnratedNamesTheOrganisationsMetrics(t *testing.T) {
	cfg := configWith(t,
		CustomDef{ID: "compute_spend", Kind: domain.KindCost, Time: TimePeriod, Filter: `category == "compute"`, Value: "amount", Aggregate: AggregateSum},
		CustomDef{ID: "big_bills", Kind: domain.KindCost, Time: TimePeriod, Filter: `amount > 10000.0`, Aggregate: AggregateCount},
		CustomDef{ID: "compute_bills", Kind: domain.KindCost, Time: TimePeriod, Filter: `category == "compute"`, Aggregate: AggregateCount},
		CustomDef{ID: "deals_won_quarter", Kind: domain.KindOpportunity, Time: "closed_at", Filter: "won", Aggregate: AggregateCount, Span: SpanQuotaPeriod},
	)
	held := map[domain.Kind]map[string]int64{domain.KindCost: {"EUR": 2}, domain.KindQuota: {"EUR": 1}, domain.KindOpportunity: {"EUR": 1}}
	got := map[domain.Kind][]string{}
	for _, u := range cfg.Unrated(held) {
		got[u.Kind] = u.Metrics
	}
	for _, c := range []struct {
		kind     domain.Kind
		has, not []string
	}{
		{domain.KindCost, []string{"infrastructure_cost", "compute_spend", "big_bills"}, []string{"compute_bills", "deals_won_quarter"}},
		{domain.KindQuota, []string{"quota_attainment", "deals_won_quarter"}, []string{"compute_spend"}},
		{domain.KindOpportunity, []string{"pipeline_coverage"}, []string{"deals_won_quarter"}},
	} {
		for _, id := range c.has {
			if !slices.Contains(got[c.kind], id) {
				t.Errorf("%s in EUR: %v, want %s among them", c.kind, got[c.kind], id)
			}
		}
		for _, id := range c.not {
			if slices.Contains(got[c.kind], id) {
				t.Errorf("%s in EUR: %v, want no %s", c.kind, got[c.kind], id)
			}
		}
	}
}

// An organisation's metric with a filter says how many of the records it tried the filter on
// passed it, so that a filter comparing with a value the data does not hold ("Enterprise") is
// seen for what it is rather than read as a quiet 0.
func TestCustomFilterCounts(t *testing.T) {
	data := nd(
		`{"kind":"ticket","id":"t1","created_at":"2026-03-02T00:00:00Z","segment":"enterprise","priority":"urgent"}`,
		`{"kind":"ticket","id":"t2","created_at":"2026-03-03T00:00:00Z","segment":"smb","priority":"urgent"}`,
		`{"kind":"ticket","id":"t3","created_at":"2026-03-04T00:00:00Z","segment":"enterprise","priority":"low"}`,
		`{"kind":"ticket","id":"t4","created_at":"2026-02-04T00:00:00Z","segment":"enterprise","priority":"urgent"}`,
		`{"kind":"cost","id":"c-mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":3100,"currency":"USD","service":"api","category":"compute"}`,
	)
	cfg := configWith(t,
		CustomDef{ID: "urgent_enterprise", Kind: domain.KindTicket, Time: "created_at", Filter: `segment == "enterprise" && priority == "urgent"`, Aggregate: AggregateCount},
		CustomDef{ID: "urgent_enterprise_typo", Kind: domain.KindTicket, Time: "created_at", Filter: `segment == "Enterprise"`, Aggregate: AggregateCount},
		CustomDef{ID: "open_enterprise", Kind: domain.KindTicket, Time: TimeState, Filter: `segment == "enterprise" && !resolved_at.hasValue()`, Aggregate: AggregateCount},
		CustomDef{ID: "storage_bills", Kind: domain.KindCost, Time: TimePeriod, Filter: `category == "storage"`, Aggregate: AggregateCount},
		CustomDef{ID: "tickets", Kind: domain.KindTicket, Time: "created_at", Aggregate: AggregateCount},
	)
	d := load(t, &cfg, data)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	for _, c := range []struct {
		metric string
		want   *Filtered
	}{
		{"urgent_enterprise", &Filtered{Kind: domain.KindTicket, In: "with created_at in the window", Tried: 3, Passed: 1}},
		{"urgent_enterprise_typo", &Filtered{Kind: domain.KindTicket, In: "with created_at in the window", Tried: 3, Passed: 0}},
		{"open_enterprise", &Filtered{Kind: domain.KindTicket, In: "existing at as_of", Tried: 4, Passed: 3}},
		{"storage_bills", &Filtered{Kind: domain.KindCost, In: "whose period overlaps the window", Tried: 1, Passed: 0}},
		{"tickets", nil},
	} {
		r, err := d.Compute(c.metric, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Detail.Filtered; (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: filtered %+v, want %+v", c.metric, got, c.want)
		}
	}
}

// A record whose amount has no exchange rate into the organisation currency is listed behind an
// organisation's metric without a value and says why, not as 0.00 (the metric has none either).
func TestCustomUnconvertedRecordHasNoValue(t *testing.T) {
	cfg := configWith(t, CustomDef{ID: "compute_spend", Kind: domain.KindCost, Time: TimePeriod, Value: "amount", Aggregate: AggregateSum})
	d := load(t, &cfg, nd(
		`{"kind":"cost","id":"c-usd","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":3100,"currency":"USD","service":"api","category":"compute"}`,
		`{"kind":"cost","id":"c-eur","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":3100,"currency":"EUR","service":"api","category":"compute"}`,
	))
	r, err := d.Compute("compute_spend", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Value != nil {
		t.Errorf("value %s, want none", fmtVal(r.Value))
	}
	want := map[string]refWant{"c-usd": {3000, ""}, "c-eur": {-1, "no exchange rate into USD"}}
	if len(r.Records) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(r.Records), len(want), r.Records)
	}
	for _, ref := range r.Records {
		got := refWant{-1, ref.Note}
		if ref.Value != nil {
			got.v = *ref.Value
		}
		if got != want[ref.ID] {
			t.Errorf("record %s: %+v, want %+v", ref.ID, got, want[ref.ID])
		}
	}
}
