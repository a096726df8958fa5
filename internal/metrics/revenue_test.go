package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// Bridge data, W = March (as of 2026-03-31, W's start 03-01T00:00):
//
//	customer  subscriptions                                    m0   m1   movement
//	A         a1 pro 100 since 2025; a2 pro 50 from 03-10       100  150  expansion 50
//	B         b1 basic 200 from 03-05 (first ever)              0    200  new 200
//	C         c1 pro 2025, ended 2025-12; c2 basic 80 from 03-15 0   80   reactivation 80
//	D         d1 pro 300, ended 03-20                           300  0    churn 300
//	E         e1 pro 500 → e2 basic 350 on 03-12 (plan change)  500  350  contraction 150
//	F         f1 basic 120 ended 03-05, f2 basic 90 from 03-20  120  90   contraction 30
//	G         g1 basic 60 from 02-25                            60   60   —
//	H         h1 basic 10, 03-03 to 03-25 (inside W)            0    0    —
//	I         i1 basic 40 from exactly 03-01T00:00              40   40   —
//	J         j1 basic 999 from 04-05 (after as_of)             0    0    —
//	K         k1 pro 70, ends 04-10 (after as_of)               70   70   —
//
// MRR at W's start 1190, at as_of 1040: 200 + 80 + 50 − 180 − 300 = −150.
const bridgeData = `
{"kind":"subscription","id":"a1","customer":"A","plan":"pro","started_at":"2025-06-01T00:00:00Z","mrr":100}
{"kind":"subscription","id":"a2","customer":"A","plan":"pro","started_at":"2026-03-10T00:00:00Z","mrr":50}
{"kind":"subscription","id":"b1","customer":"B","plan":"basic","started_at":"2026-03-05T00:00:00Z","mrr":200}
{"kind":"subscription","id":"c1","customer":"C","plan":"pro","started_at":"2025-01-01T00:00:00Z","ended_at":"2025-12-01T00:00:00Z","mrr":75}
{"kind":"subscription","id":"c2","customer":"C","plan":"basic","started_at":"2026-03-15T00:00:00Z","mrr":80}
{"kind":"subscription","id":"d1","customer":"D","plan":"pro","started_at":"2025-02-01T00:00:00Z","ended_at":"2026-03-20T00:00:00Z","mrr":300}
{"kind":"subscription","id":"e1","customer":"E","plan":"pro","started_at":"2025-05-01T00:00:00Z","ended_at":"2026-03-12T00:00:00Z","mrr":500}
{"kind":"subscription","id":"e2","customer":"E","plan":"basic","started_at":"2026-03-12T00:00:00Z","mrr":350}
{"kind":"subscription","id":"f1","customer":"F","plan":"basic","started_at":"2025-04-01T00:00:00Z","ended_at":"2026-03-05T00:00:00Z","mrr":120}
{"kind":"subscription","id":"f2","customer":"F","plan":"basic","started_at":"2026-03-20T00:00:00Z","mrr":90}
{"kind":"subscription","id":"g1","customer":"G","plan":"basic","started_at":"2026-02-25T00:00:00Z","mrr":60}
{"kind":"subscription","id":"h1","customer":"H","plan":"basic","started_at":"2026-03-03T00:00:00Z","ended_at":"2026-03-25T00:00:00Z","mrr":10}
{"kind":"subscription","id":"i1","customer":"I","plan":"basic","started_at":"2026-03-01T00:00:00Z","mrr":40}
{"kind":"subscription","id":"j1","customer":"J","plan":"basic","started_at":"2026-04-05T00:00:00Z","mrr":999}
{"kind":"subscription","id":"k1","customer":"K","plan":"pro","started_at":"2025-01-01T00:00:00Z","ended_at":"2026-04-10T00:00:00Z","mrr":70}
`

// bridgeIDs are the bridge's metrics and the two read from it, in order.
var bridgeIDs = []string{"mrr_new", "mrr_reactivation", "mrr_expansion", "mrr_contraction", "mrr_churn", "quick_ratio", "ltv"}

func TestMRRBridge(t *testing.T) {
	d := load(t, nil, bridgeData)
	type v struct {
		v string
		n int
	}
	cases := []struct {
		name   string
		asOf   string
		window time.Duration
		scope  Scope
		want   []v // in bridgeIDs order
	}{
		// quick ratio 330 ÷ 480, its cases the 3 customers lost or shrunk
		// (the divisor's); ltv: ARPA 1040 ÷ 8 = 130, churn 1 of 7
		// customers active at W's start (D), so 130 × 0.8 ÷ (1/7) = 728,
		// its cases the 1 customer churned.
		{"organisation", defaultAsOf, 30 * day, Scope{}, []v{{"200", 1}, {"80", 1}, {"50", 1}, {"180", 2}, {"300", 1}, {"0.6875", 3}, {"728", 1}}},
		// In a plan, the bridge is the plan's MRR: E and C arrive in basic
		// (new to it: neither had a basic subscription before W) …
		{"plan basic", defaultAsOf, 30 * day, Scope{Dim: "plan", Value: "basic"}, []v{{"630", 3}, {"0", 0}, {"0", 0}, {"30", 1}, {"0", 0}, {"21", 1}, {"nil", 0}}},
		// … and leave pro: 220 − 970 = 50 − 800. ltv: ARPA 220 ÷ 2, churn
		// 1 of 4 (E's plan change is no logo churn): 110 × 0.8 ÷ 0.25.
		{"plan pro", defaultAsOf, 30 * day, Scope{Dim: "plan", Value: "pro"}, []v{{"0", 0}, {"0", 0}, {"50", 1}, {"0", 0}, {"800", 2}, {"0.0625", 2}, {"352", 1}}},
		// W's start 03-01T12:00 cuts i1's start (00:00 the same day) out
		// of W: I is there at both ends.
		{"start cut after i1", "2026-03-31T12:00:00Z", 30 * day, Scope{}, []v{{"200", 1}, {"80", 1}, {"50", 1}, {"180", 2}, {"300", 1}, {"0.6875", 3}, {"728", 1}}},
		// W's start 02-28T12:00 is before it: I is new, and not yet in
		// logo churn's base (1 of 6 churned: 130 × 0.8 × 6).
		{"start cut before i1", "2026-03-30T12:00:00Z", 30 * day, Scope{}, []v{{"240", 2}, {"80", 1}, {"50", 1}, {"180", 2}, {"300", 1}, {"0.770833333", 3}, {"624", 1}}},
		// Nothing lost in [03-08, 03-11): no quick ratio, no churn of the 8
		// customers so no ltv — never 0 — while sums of nothing are 0.
		{"nothing lost", "2026-03-11T00:00:00Z", 3 * day, Scope{}, []v{{"0", 0}, {"0", 0}, {"50", 1}, {"0", 0}, {"0", 0}, {"nil", 0}, {"nil", 0}}},
		// Before any subscription exists: no value at all.
		{"no data yet", "2024-06-01T00:00:00Z", 30 * day, Scope{}, []v{{"nil", 0}, {"nil", 0}, {"nil", 0}, {"nil", 0}, {"nil", 0}, {"nil", 0}, {"nil", 0}}},
	}
	for _, c := range cases {
		var got []v
		for _, id := range bridgeIDs {
			r, err := d.Compute(id, Query{AsOf: ts(t, c.asOf), Window: c.window, Scope: c.scope})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v{cacheVal(r.Value), r.Count})
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %v\nwant %v  (%v)", c.name, got, c.want, bridgeIDs)
		}
	}

	// Nothing lost is data, not its absence: the reason says so, so the card
	// does not read "nothing to compute it from".
	for id, want := range map[string]string{
		"quick_ratio": "no contraction or churn in the window: the ratio has no divisor",
		"ltv":         "no customer churned in the window: lifetime value is unbounded",
	} {
		r, _ := d.Compute(id, Query{AsOf: ts(t, "2026-03-11T00:00:00Z"), Window: 3 * day})
		if r.Detail.Reason != want {
			t.Errorf("%s reason = %q, want %q", id, r.Detail.Reason, want)
		}
	}

	// The drill-down names the customers behind a movement, largest first,
	// with m0 and m1, and their subscriptions.
	r, _ := d.Compute("mrr_contraction", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true})
	if got := fmt.Sprint(r.Detail.Customers); got != "[{E 500 350 150} {F 120 90 30}]" {
		t.Errorf("contraction customers = %s", got)
	}
	var subs []string
	for _, ref := range r.Records {
		subs = append(subs, ref.ID+" "+ref.Note)
	}
	// In dates, not the definition's symbols (W's start, as_of).
	want := "e1 E: active on 1 Mar 2026, not on 31 Mar 2026|e2 E: active on 31 Mar 2026, not on 1 Mar 2026|f1 F: active on 1 Mar 2026, not on 31 Mar 2026|f2 F: active on 31 Mar 2026, not on 1 Mar 2026"
	if got := strings.Join(subs, "|"); got != want {
		t.Errorf("contraction records =\n%s\nwant\n%s", got, want)
	}
	if s, e := r.Detail.MRRStart, r.Detail.MRRNow; s == nil || e == nil || *s != 1190 || *e != 1040 {
		t.Errorf("bridge ends = %s → %s, want 1190 → 1040", cacheVal(s), cacheVal(e))
	}
}

// The bridge adds up, exactly, in money: for every window and scope,
// mrr(as_of) − mrr(W's start) = new + reactivation + expansion −
// contraction − churn, with the two MRRs as the mrr metric computes them.
// Checked on the generated organisation (plan changes, churn and returns)
// and on random books with several overlapping subscriptions per customer
// and amounts with six decimals, some in another currency.
func TestMRRBridgeIdentity(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	gen := NewDataset(DefaultConfig())
	if _, err := generate.Records(generate.Options{Seed: 3, Scale: 0.05, End: end, Days: 365}, func(r domain.Record) {
		if r.Kind() == domain.KindSubscription || r.Kind() == domain.KindService {
			gen.Apply(r, time.Time{})
		}
	}); err != nil {
		t.Fatal(err)
	}
	gen.Prepare()
	rng := rand.New(rand.NewPCG(9, 10))
	// Some amounts in euros: converted per subscription, with rounding.
	cfg := DefaultConfig()
	cfg.ExchangeRates = map[string]float64{"EUR": 1.0837}
	random := NewDataset(cfg)
	plans := []string{"basic", "pro", "team"}
	for i := range 400 {
		start := end.Add(-time.Duration(rng.Int64N(int64(500 * day))))
		s := &domain.Subscription{Meta: domain.Meta{ID: fmt.Sprintf("s%d", i), Source: "import"},
			Customer: fmt.Sprintf("cus-%d", rng.IntN(60)), StartedAt: start,
			MRR: domain.Money(rng.Int64N(5_000_000_000)), Plan: plans[rng.IntN(len(plans))]}
		if rng.IntN(3) == 0 {
			s.Currency = "EUR"
		}
		if rng.IntN(2) == 0 {
			s.EndedAt = start.Add(time.Duration(rng.Int64N(int64(300 * day))))
		}
		random.Apply(s, time.Time{})
	}
	random.Prepare()

	checked, moved := 0, 0
	for name, d := range map[string]*Dataset{"generated": gen, "random": random} {
		scopes := []Scope{{}}
		for _, p := range d.DimValues("plan") {
			scopes = append(scopes, Scope{Dim: "plan", Value: p})
		}
		for k := range 40 {
			asOf := end.Add(-time.Duration(k) * 9 * day).Add(time.Duration(k) * time.Hour)
			for _, w := range []time.Duration{day, 7 * day, 30 * day, 90 * day, 365 * day} {
				for _, sc := range scopes {
					q := Query{AsOf: asOf, Window: w, Scope: sc}
					var r Result
					c := d.converter()
					b, ok := d.bridge(q, c, &r)
					if !ok {
						t.Fatalf("%s: bridge failed: %s", name, r.Detail.Error)
					}
					var r0, r1 Result
					m0 := d.mrrAt(q, q.start(), c, &r0)
					m1 := d.mrrAt(q, q.end(), c, &r1)
					mv := b.moves
					sum := mv[MoveNew] + mv[MoveReactivation] + mv[MoveExpansion] - mv[MoveContraction] - mv[MoveChurn]
					if b.start != m0 || b.end != m1 || m1-m0 != sum {
						t.Fatalf("%s as of %s window %s scope %v: mrr %s → %s (bridge %s → %s), change %s, movements %v sum to %s",
							name, asOf.Format(time.RFC3339), w, sc, m0, m1, b.start, b.end, m1-m0, mv, sum)
					}
					for move, id := range BridgeMetrics {
						res, _ := d.Compute(id, q)
						if res.Value == nil || *res.Value != mv[move].Float() {
							t.Fatalf("%s as of %s window %s scope %v: %s = %s, bridge %s", name, asOf, w, sc, id, cacheVal(res.Value), mv[move])
						}
					}
					checked++
					if sum != 0 {
						moved++
					}
				}
			}
		}
	}
	if moved < checked/2 {
		t.Fatalf("only %d of %d windows moved MRR: the data does not exercise the bridge", moved, checked)
	}
}

func TestRevenueAtRisk(t *testing.T) {
	sli := `
{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-10T00:00:00Z","period_end":"2026-03-11T00:00:00Z","good":999,"total":1000}
{"kind":"sli","id":"s2","service":"web","period_start":"2026-03-10T00:00:00Z","period_end":"2026-03-11T00:00:00Z","good":1990,"total":2000}`
	d := load(t, nil, bridgeData+sli)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	r, _ := d.Compute("revenue_at_risk", q)
	// 11 bad of 3000 requests; ARR 12 × 1040.
	want := 11.0 / 3000 * 12480 * 30 / 365
	if r.Value == nil || math.Abs(*r.Value-want) > 1e-9 || r.Count != 2 {
		t.Errorf("revenue at risk = %s (n=%d), want %v", cacheVal(r.Value), r.Count, want)
	}
	if a := r.Detail.ARR; a == nil || *a != 12480 || *r.Detail.WindowDays != 30 || math.Abs(*r.Detail.Availability-100*2989.0/3000) > 1e-12 {
		t.Errorf("detail = %+v", r.Detail)
	}
	// A service's downtime puts the whole book at stake.
	q.Scope = Scope{Dim: "service", Value: "api"}
	if r, _ := d.Compute("revenue_at_risk", q); r.Value == nil || math.Abs(*r.Value-1.0/1000*12480*30/365) > 1e-9 {
		t.Errorf("api: %s", cacheVal(r.Value))
	}
	// No SLI in W, or no subscription data: no value.
	if r, _ := d.Compute("revenue_at_risk", Query{AsOf: ts(t, "2026-03-09T00:00:00Z"), Window: 7 * day}); r.Value != nil {
		t.Errorf("no SLI in W: %v", *r.Value)
	}
	if r, _ := load(t, nil, sli).Compute("revenue_at_risk", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}); r.Value != nil || r.Detail.Reason == "" {
		t.Errorf("no subscriptions: %s %q", cacheVal(r.Value), r.Detail.Reason)
	}
	// Full availability: nothing at risk, a value of 0.
	full := load(t, nil, bridgeData+`{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-10T00:00:00Z","period_end":"2026-03-11T00:00:00Z","good":5,"total":5}`)
	if r, _ := full.Compute("revenue_at_risk", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}); cacheVal(r.Value) != "0" {
		t.Errorf("full availability: %s", cacheVal(r.Value))
	}
}

// A subscription's note gives the two instants a movement compares as
// dates, with the time where one is not a day's start.
func TestActiveNote(t *testing.T) {
	t0, t1 := ts(t, "2025-03-31T00:00:00Z").UnixNano(), ts(t, "2026-03-31T09:17:00Z").UnixNano()
	for _, c := range []struct {
		a0, a1 bool
		want   string
	}{
		{true, true, "active on 31 Mar 2025 and on 31 Mar 2026 09:17 UTC"},
		{true, false, "active on 31 Mar 2025, not on 31 Mar 2026 09:17 UTC"},
		{false, true, "active on 31 Mar 2026 09:17 UTC, not on 31 Mar 2025"},
	} {
		if got := activeNote(c.a0, c.a1, t0, t1); got != c.want {
			t.Errorf("%v %v: %q, want %q", c.a0, c.a1, got, c.want)
		}
	}
}
