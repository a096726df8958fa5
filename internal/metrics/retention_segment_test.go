package metrics

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// NRR and GRR break down and scope by segment: the segment each customer
// of the cohort had at T0, so that the lines partition the cohort.

// segSub is bizSub with a segment.
func segSub(id, cust, segment, started, ended, mrr string) *domain.Subscription {
	s := bizSub(id, cust, "", started, ended, mrr)
	s.Segment = segment
	return s
}

// retentionSegmentData: as of 2026-03-31, T0 = 2025-03-31.
//
//	A  enterprise            100 → 150 (expands)
//	B  smb                    40 → 0   (churns)
//	C  smb at T0              60 → 90  (moved to enterprise after T0: counted in smb)
//	D  no segment             30 → 20  (contracts)
//	E  enterprise            280 → 280 (smb 10, enterprise 70 and an unnamed 200 at T0:
//	                                    the segment with the most MRR)
//	F  enterprise             50 → 25  (smb 25 and enterprise 25: the later started's)
//	G  enterprise             50 → 50  (smb 25 and enterprise 25 started together: the first
//	                                    segment by name)
//	H  enterprise, new after T0: in no cohort
//
// Tickets name enterprise and mid-market: mid-market is no subscription's.
func retentionSegmentData() []domain.Record {
	ticket := func(id, created, resolved, due, segment string) *domain.Ticket {
		t := bizTicket(id, created, resolved, due, "high")
		t.Segment = segment
		return t
	}
	return []domain.Record{
		segSub("a1", "A", "enterprise", "2025-01-01", "", "100"),
		segSub("a2", "A", "enterprise", "2025-10-01", "", "50"),
		segSub("b1", "B", "smb", "2025-01-01", "2026-03-01", "40"),
		segSub("c1", "C", "smb", "2024-06-01", "2025-09-01", "60"),
		segSub("c2", "C", "enterprise", "2025-09-01", "", "90"),
		segSub("d1", "D", "", "2025-02-01", "2025-12-01", "30"),
		segSub("d2", "D", "", "2025-12-01", "", "20"),
		segSub("e1", "E", "smb", "2025-01-01", "", "10"),
		segSub("e2", "E", "enterprise", "2024-12-01", "", "70"),
		segSub("e3", "E", "", "2024-12-01", "", "200"),
		segSub("f1", "F", "smb", "2025-01-01", "2025-06-01", "25"),
		segSub("f2", "F", "enterprise", "2025-02-01", "", "25"),
		segSub("g-b", "G", "smb", "2025-01-01", "", "25"),
		segSub("g-a", "G", "enterprise", "2025-01-01", "", "25"),
		segSub("h1", "H", "enterprise", "2025-06-01", "", "500"),
		ticket("t1", "2026-03-02", "2026-03-03", "2026-03-04", "enterprise"),
		ticket("t2", "2026-03-05", "2026-03-10", "2026-03-06", "mid-market"),
	}
}

func TestRetentionBySegment(t *testing.T) {
	recs := retentionSegmentData()
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	type parts struct {
		count          int
		t0, now, kept  float64
		nrrPct, grrPct float64
	}
	want := map[string]parts{
		// A 100 + E 280 + F 50 + G 50; at as_of 150 + 280 + 25 + 50; kept 100 + 280 + 25 + 50.
		"enterprise": {4, 480, 505, 455, 100 * 505.0 / 480, 100 * 455.0 / 480},
		// B 40 + C 60; at as_of 0 + 90; kept 0 + 60.
		"smb": {2, 100, 90, 60, 90, 60},
		// D 30 → 20.
		"(none)": {1, 30, 20, 20, 100 * 20.0 / 30, 100 * 20.0 / 30},
	}
	org := parts{7, 610, 615, 535, 100 * 615.0 / 610, 100 * 535.0 / 610}
	for name, order := range map[string][]domain.Record{"in order": recs, "reversed": reversed} {
		t.Run(name, func(t *testing.T) {
			d := bizDS(nil, order...)
			q := bizQ(bizAsOf)
			// The organisation's value is the definition's, segments or not.
			n, g := bizCompute(t, d, "nrr", q), bizCompute(t, d, "grr", q)
			bizCheck(t, "nrr", n, &org.nrrPct)
			bizCheck(t, "grr", g, &org.grrPct)
			if n.Count != org.count || *n.Detail.MRRT0 != org.t0 || *n.Detail.MRRNow != org.now || *g.Detail.MRRRetained != org.kept {
				t.Errorf("organisation: n = %d, T0 %v, now %v, kept %v", n.Count, *n.Detail.MRRT0, *n.Detail.MRRNow, *g.Detail.MRRRetained)
			}
			var sum parts
			for _, metric := range []string{"nrr", "grr"} {
				groups, err := d.Breakdown(metric, q, "segment")
				if err != nil {
					t.Fatal(err)
				}
				// mid-market is only a ticket's: no line of NRR's.
				if keys := lineKeys(t, d, metric, q, "segment"); !slices.Equal(keys, []string{"(none)", "enterprise", "smb"}) {
					t.Fatalf("%s by segment: lines %v, want (none), enterprise, smb", metric, keys)
				}
				for _, gr := range groups {
					w := want[gr.Key]
					pct := w.nrrPct
					if metric == "grr" {
						pct = w.grrPct
					}
					bizCheck(t, metric+" "+gr.Key, gr.Result, &pct)
					if gr.Count != w.count || *gr.Detail.MRRT0 != w.t0 {
						t.Errorf("%s %s: n = %d, MRR at T0 %v; want %d, %v", metric, gr.Key, gr.Count, *gr.Detail.MRRT0, w.count, w.t0)
					}
					if metric == "nrr" {
						sum.count += gr.Count
						sum.t0 += *gr.Detail.MRRT0
						sum.now += *gr.Detail.MRRNow
						if *gr.Detail.MRRNow != w.now {
							t.Errorf("nrr %s: MRR now %v, want %v", gr.Key, *gr.Detail.MRRNow, w.now)
						}
					} else {
						sum.kept += *gr.Detail.MRRRetained
						if *gr.Detail.MRRRetained != w.kept {
							t.Errorf("grr %s: MRR retained %v, want %v", gr.Key, *gr.Detail.MRRRetained, w.kept)
						}
					}
					// The scope is the line.
					sq := bizQ(bizAsOf, "segment", gr.Key)
					s := bizCompute(t, d, metric, sq)
					if cacheVal(s.Value) != cacheVal(gr.Value) || s.Count != gr.Count {
						t.Errorf("%s scoped to segment:%s = %s (n = %d), its line %s (n = %d)", metric, gr.Key, cacheVal(s.Value), s.Count, cacheVal(gr.Value), gr.Count)
					}
				}
			}
			// The lines add up to the organisation's parts.
			if sum.count != org.count || sum.t0 != org.t0 || sum.now != org.now || sum.kept != org.kept {
				t.Errorf("lines add up to n = %d, T0 %v, now %v, kept %v; the organisation's %d, %v, %v, %v",
					sum.count, sum.t0, sum.now, sum.kept, org.count, org.t0, org.now, org.kept)
			}
		})
	}
}

// A customer's segment at T0 is the one most of its MRR then comes under,
// not its largest subscription's: two smb subscriptions of 30 outweigh one
// enterprise of 50, re-sent in any order. A segment whose subscriptions all
// started after T0 has a line with no cohort, which says so.
func TestRetentionSegmentByItsMRR(t *testing.T) {
	recs := []domain.Record{
		segSub("i3", "I", "enterprise", "2025-01-01", "", "50"),
		segSub("i1", "I", "smb", "2024-06-01", "", "30"),
		segSub("i2", "I", "smb", "2024-07-01", "", "30"),
		segSub("j1", "J", "startup", "2025-06-01", "", "100"),
	}
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	for name, order := range map[string][]domain.Record{"in order": recs, "reversed": reversed} {
		d := bizDS(nil, order...)
		groups, err := d.Breakdown("nrr", bizQ(bizAsOf), "segment")
		if err != nil {
			t.Fatal(err)
		}
		lines := map[string]Group{}
		for _, g := range groups {
			lines[g.Key] = g
		}
		if g := lines["smb"]; g.Count != 1 || g.Value == nil || !bizClose(*g.Value, 100) || *g.Detail.MRRT0 != 110 {
			t.Errorf("%s: smb = %s (n = %d), want I's 110 → 110: 100 %% (n = 1)", name, cacheVal(g.Value), g.Count)
		}
		for _, seg := range []string{"enterprise", "startup"} {
			g, ok := lines[seg]
			want := "no customer of segment:" + seg + " was active on 31 Mar 2025 (T0, a year before): the cohort is empty"
			if !ok || g.Count != 0 || g.Value != nil || g.Detail.Reason != want {
				t.Errorf("%s: %s = %s (n = %d), reason %q; want no value, reason %q", name, seg, cacheVal(g.Value), g.Count, g.Detail.Reason, want)
			}
		}
	}
}

// A segment line's drill-down is its customers' subscriptions and
// cohort table: smb holds B and C, C's enterprise subscription of after T0
// included (all its subscriptions count, whatever they name).
func TestRetentionSegmentRecords(t *testing.T) {
	d := bizDS(nil, retentionSegmentData()...)
	q := bizQ(bizAsOf, "segment", "smb")
	q.Records = true
	r := bizCompute(t, d, "nrr", q)
	var ids []string
	for _, ref := range r.Records {
		ids = append(ids, ref.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"b1", "c1", "c2"}) {
		t.Errorf("nrr of smb rests on %v, want b1, c1, c2", ids)
	}
	var custs []string
	for _, c := range r.Detail.Customers {
		custs = append(custs, c.Customer)
	}
	if !slices.Equal(custs, []string{"C", "B"}) {
		t.Errorf("nrr of smb: cohort table %v, want C (60 at T0), B (40)", custs)
	}
	// The drill-down's value is the line's.
	if r.Value == nil || !bizClose(*r.Value, 90) {
		t.Errorf("nrr of smb with its records = %v, want 90", cacheVal(r.Value))
	}
}

// Asked for a segment, NRR says what is wrong: one no record names is an
// error naming those known; one only tickets name has no subscription
// data; a ticket metric gains no line from subscriptions' segments.
func TestRetentionSegmentScopes(t *testing.T) {
	d := bizDS(nil, retentionSegmentData()...)
	err := d.CheckScope(Scope{Dim: "segment", Value: "nonesuch"})
	var ue *UnknownValueError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "known: (none), enterprise, mid-market, smb") {
		t.Errorf("segment:nonesuch: %v, want an UnknownValueError naming (none), enterprise, mid-market, smb", err)
	}
	r := bizCompute(t, d, "nrr", bizQ(bizAsOf, "segment", "mid-market"))
	if r.Value != nil || !strings.Contains(r.Detail.Reason, "no subscription data for segment mid-market") {
		t.Errorf("nrr of mid-market = %s, reason %q; want no value for want of subscription data", cacheVal(r.Value), r.Detail.Reason)
	}
	// Under that scope the breakdown keeps the one line asked for.
	groups, err := d.Breakdown("nrr", bizQ(bizAsOf, "segment", "mid-market"), "segment")
	if err != nil || len(groups) != 1 || groups[0].Key != "mid-market" || groups[0].Value != nil {
		t.Errorf("nrr under segment:mid-market by segment: %v, %v", groups, err)
	}
	// A plan is no dimension of NRR's: by plan an upgrade would read as churn.
	if _, err := d.Breakdown("nrr", bizQ(bizAsOf), "plan"); err == nil {
		t.Error("nrr broke down by plan")
	}
	if keys := lineKeys(t, d, "sla_adherence", bizQ(bizAsOf), "segment"); !slices.Equal(keys, []string{"enterprise", "mid-market"}) {
		t.Errorf("sla_adherence by segment: lines %v, want the tickets' enterprise and mid-market", keys)
	}
}

// A segment line computed after the organisation's value (whose walk of
// the subscriptions it reuses) is the one computed on its own, and a
// subscription whose segment is corrected moves its customer.
func TestRetentionSegmentCache(t *testing.T) {
	warm := bizDS(nil, retentionSegmentData()...)
	bizCompute(t, warm, "nrr", bizQ(bizAsOf))
	fresh := bizDS(nil, retentionSegmentData()...)
	for _, seg := range []string{"enterprise", "smb", "(none)"} {
		q := bizQ(bizAsOf, "segment", seg)
		a, b := bizCompute(t, warm, "nrr", q), bizCompute(t, fresh, "nrr", q)
		if cacheVal(a.Value) != cacheVal(b.Value) || a.Count != b.Count {
			t.Errorf("segment %s: after the organisation's %s (n = %d), on its own %s (n = %d)", seg, cacheVal(a.Value), a.Count, cacheVal(b.Value), b.Count)
		}
	}
	// B's subscription re-sent as enterprise: smb is C alone, 60 → 90.
	warm.Apply(segSub("b1", "B", "enterprise", "2025-01-01", "2026-03-01", "40"), time.Time{})
	warm.Prepare()
	r := bizCompute(t, warm, "nrr", bizQ(bizAsOf, "segment", "smb"))
	if r.Count != 1 || r.Value == nil || !bizClose(*r.Value, 150) {
		t.Errorf("smb after B moved = %s (n = %d), want 150 (n = 1)", cacheVal(r.Value), r.Count)
	}
}

// The state holds the presence index as built: one written when
// subscriptions carried no segment in it is another schema, so a start
// reads the records again rather than answer "no subscription data for
// segment smb" from it.
func TestStateSchemaNamesPresenceAttributes(t *testing.T) {
	older := maps.Clone(presenceAttrs)
	older[domain.KindSubscription] = []string{"plan"}
	if stateSchema(stateRowTypes, older) == StateSchema() {
		t.Error("the state's schema does not change with the attributes the presence index holds")
	}
	if stateSchema(stateRowTypes, maps.Clone(presenceAttrs)) != StateSchema() {
		t.Error("the state's schema is not a function of its inputs")
	}
}
