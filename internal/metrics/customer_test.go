package metrics

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

func bizSurvey(id, typ, at string, score float64) *domain.Survey {
	return &domain.Survey{Meta: bizMeta(id), Type: typ, At: bizT(at), Score: score}
}

func bizSub(id, cust, plan, started, ended, mrr string) *domain.Subscription {
	s := &domain.Subscription{Meta: bizMeta(id), Customer: cust, Plan: plan, StartedAt: bizT(started), MRR: bizM(mrr), Currency: "USD"}
	if ended != "" {
		s.EndedAt = bizT(ended)
	}
	return s
}

func TestSurveys(t *testing.T) {
	d := bizDS(nil,
		// csat in W: 5, 4 good; 3, 2 not → 2 / 4 = 50 %.
		bizSurvey("s1", "csat", "2026-03-01", 5),
		bizSurvey("s2", "csat", "2026-03-10", 4),
		bizSurvey("s3", "csat", "2026-03-11", 3),
		bizSurvey("s4", "csat", "2026-03-30T23:59:59Z", 2),
		bizSurvey("s5", "csat", "2026-03-31", 1), // at as_of: outside W
		bizSurvey("s6", "csat", "2026-02-28", 1), // before W
		// nps in W: 10, 9, 9 promoters, 7 passive, 3 detractor → (3 − 1) / 5 × 100 = 40.
		bizSurvey("n1", "nps", "2026-03-02", 10),
		bizSurvey("n2", "nps", "2026-03-03", 9),
		bizSurvey("n3", "nps", "2026-03-04", 9),
		bizSurvey("n4", "nps", "2026-03-05", 7),
		bizSurvey("n5", "nps", "2026-03-06", 3),
		// nps in the window before: 6 and 0 → (0 − 2) / 2 × 100 = −100.
		bizSurvey("n6", "nps", "2026-02-10", 6),
		bizSurvey("n7", "nps", "2026-02-11", 0),
	)
	prev := bizQ(bizAsOf).Previous()
	bizRun(t, d, []bizCase{
		{"csat", "csat", bizQ(bizAsOf), bizF(50)},
		// [01-30, 03-01): s6 scores 1 → 0 %.
		{"csat before", "csat", prev, bizF(0)},
		{"csat none", "csat", bizQ(bizT("2026-01-01")), nil},
		{"nps", "nps", bizQ(bizAsOf), bizF(40)},
		{"nps before", "nps", prev, bizF(-100)},
		{"nps none", "nps", bizQ(bizT("2026-01-01")), nil},
	})
	// The unhappy answers are noted (a records table lists them first),
	// the others not.
	for _, tc := range []struct {
		metric string
		want   map[string]string
	}{
		{"csat", map[string]string{"s1": "", "s2": "", "s3": "dissatisfied", "s4": "dissatisfied"}},
		{"nps", map[string]string{"n1": "", "n2": "", "n3": "", "n4": "", "n5": "detractor"}},
	} {
		q := bizQ(bizAsOf)
		q.Records = true
		r, err := d.Compute(tc.metric, q)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, ref := range r.Records {
			got[ref.ID] = ref.Note
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s notes %v, want %v", tc.metric, got, tc.want)
		}
	}
}

func TestLogoChurnRate(t *testing.T) {
	// W = [03-01, 03-31); S = 03-01.
	d := bizDS(nil,
		bizSub("a1", "A", "pro", "2026-01-01", "", "10"),             // active throughout
		bizSub("b1", "B", "basic", "2026-01-01", "2026-03-10", "10"), // churned
		bizSub("c1", "C", "basic", "2026-01-01", "2026-03-10", "10"), // churned …
		bizSub("c2", "C", "basic", "2026-03-20", "", "10"),           // … and came back by as_of
		bizSub("d1", "D", "pro", "2026-01-01", "2026-03-10", "10"),   // churned …
		bizSub("d2", "D", "pro", "2026-04-05", "", "10"),             // … comes back only after as_of
		bizSub("e1", "E", "pro", "2026-03-05", "2026-03-20", "10"),   // acquired in W: not in the base
		bizSub("f1", "F", "basic", "2026-01-01", "2026-03-15", "10"), // plan change mid-window …
		bizSub("f2", "F", "pro", "2026-03-15", "", "20"),             // … not churn
		bizSub("g1", "G", "pro", "2025-12-01", "2026-03-01", "10"),   // ended at S: not active at S
		bizSub("h1", "H", "pro", "2026-01-01", "2026-03-31", "10"),   // ended at as_of: churned
	)
	bizRun(t, d, []bizCase{
		// Base at S: A, B, C, D, F, H = 6; churned: B, D, H = 3 → 50 %.
		{"org", "logo_churn_rate", bizQ(bizAsOf), bizF(50)},
		// basic at S: B, C, F → B churned → 1 / 3.
		{"basic", "logo_churn_rate", bizQ(bizAsOf, "plan", "basic"), bizF(100.0 / 3)},
		// pro at S: A, D, H → D, H churned → 2 / 3.
		{"pro", "logo_churn_rate", bizQ(bizAsOf, "plan", "pro"), bizF(200.0 / 3)},
		// Nobody active at 2025-11-01 (the start of W for as_of 12-01): no value.
		{"empty base", "logo_churn_rate", bizQ(bizT("2025-12-01")), nil},
	})
	q := bizQ(bizAsOf)
	q.Records = true
	r := bizCompute(t, d, "logo_churn_rate", q)
	// Every customer of the base is behind the value, churned or kept.
	var got []string
	for _, x := range r.Records {
		got = append(got, x.ID+" "+x.Note)
	}
	want := []string{"a1 kept: A", "b1 churned: B", "c1 kept: C", "d1 churned: D", "f1 kept: F", "h1 churned: H"}
	if !slices.Equal(got, want) {
		t.Errorf("records = %q, want %q", got, want)
	}
}

func bizTicket(id, created, resolved, due, prio string) *domain.Ticket {
	t := &domain.Ticket{Meta: bizMeta(id), CreatedAt: bizT(created), Priority: prio}
	if resolved != "" {
		t.ResolvedAt = bizT(resolved)
	}
	if due != "" {
		t.SLADueAt = bizT(due)
	}
	return t
}

func TestTickets(t *testing.T) {
	esc := func(x *domain.Ticket) *domain.Ticket { x.Escalated = true; return x }
	d := bizDS(nil,
		bizTicket("t1", "2026-03-01", "2026-03-05", "2026-03-06", "high"), // met
		bizTicket("t2", "2026-03-01", "2026-03-10", "2026-03-09", "high"), // breached
		bizTicket("t3", "2026-03-01", "2026-03-12", "2026-03-12", "low"),  // resolved exactly at due: met
		bizTicket("t4", "2026-03-01", "2026-03-12", "", "low"),            // no SLA
		bizTicket("t5", "2026-03-01", "", "2026-03-02", "low"),            // unresolved
		bizTicket("t6", "2026-03-01", "2026-04-02", "2026-03-20", "low"),  // resolved after as_of
		bizTicket("t7", "2026-02-01", "2026-02-27", "2026-02-20", "low"),  // resolved before W
		esc(bizTicket("e1", "2026-03-01", "", "", "high")),                // open
		esc(bizTicket("e2", "2026-02-01", "2026-04-02", "", "low")),       // resolved after as_of: open
		esc(bizTicket("e3", "2026-02-01", "2026-03-05", "", "low")),       // resolved
		esc(bizTicket("e4", "2026-04-01", "", "", "low")),                 // created after as_of
		esc(bizTicket("e6", "2026-03-31", "", "", "")),                    // created at as_of: counts
		bizTicket("e5", "2026-03-01", "", "", "high"),                     // not escalated
	)
	bizRun(t, d, []bizCase{
		// t1, t2, t3 qualify; t1, t3 met → 2 / 3.
		{"sla", "sla_adherence", bizQ(bizAsOf), bizF(200.0 / 3)},
		// high: t1 met, t2 breached → 50.
		{"sla high", "sla_adherence", bizQ(bizAsOf, "priority", "high"), bizF(50)},
		// [01-30, 03-01): t7 breached → 0.
		{"sla before", "sla_adherence", bizQ(bizAsOf).Previous(), bizF(0)},
		{"sla none", "sla_adherence", bizQ(bizT("2026-01-01")), nil},
		// e1, e2, e6 → 3.
		{"escalations", "open_escalations", bizQ(bizAsOf), bizF(3)},
		{"escalations high", "open_escalations", bizQ(bizAsOf, "priority", "high"), bizF(1)},
		// e6 has no priority: the (none) group.
		{"escalations none priority", "open_escalations", bizQ(bizAsOf, "priority", NoneKey), bizF(1)},
		// No ticket exists by then (SPEC §4): no value, not 0.
		{"escalations before any", "open_escalations", bizQ(bizT("2026-01-01")), nil},
	})
	vals := d.DimValues("priority")
	if len(vals) != 3 || vals[0] != NoneKey || vals[1] != "high" || vals[2] != "low" {
		t.Errorf("priority values = %v", vals)
	}
}

func TestReleaseImpactScore(t *testing.T) {
	dep := func(id, svc, env, finished string) *domain.Deployment {
		return &domain.Deployment{Meta: bizMeta(id), Service: svc, Environment: env, FinishedAt: bizT(finished), Status: "success"}
	}
	tk := func(id, created, release, prio, role, crit string) *domain.Ticket {
		return &domain.Ticket{Meta: domain.Meta{ID: id, Source: "zendesk"}, CreatedAt: bizT(created), Release: release,
			Priority: prio, UserRole: role, Criticality: crit}
	}
	recs := []domain.Record{
		&domain.Service{Meta: bizMeta("api"), Name: "API", Team: "core"},
		&domain.Service{Meta: bizMeta("web"), Name: "Web", Team: "edge"},
		// Baseline of api: deployments in [2025-12-01, 2026-03-01).
		dep("b1", "api", "production", "2026-02-01"),
		dep("b2", "api", "production", "2026-02-15"),
		tk("kb1", "2026-02-01T01:00:00Z", "b1", "normal", "", ""), // 1
		tk("kb2", "2026-02-02T01:00:00Z", "b1", "", "", ""),       // 1 → b1 = 2
		tk("kb3", "2026-02-15T05:00:00Z", "b2", "high", "", ""),   // 2
		tk("kb4", "2026-02-16T05:00:00Z", "b2", "P2", "", ""),     // 2 (case-insensitive) → b2 = 4; baseline 3
		dep("old", "api", "production", "2025-11-20"),             // before the 90 days: not in the baseline
		tk("kold", "2025-11-20T01:00:00Z", "old", "urgent", "", ""),
		// Releases in W.
		dep("d1", "api", "production", "2026-03-10"),
		tk("k1", "2026-03-10T01:00:00Z", "d1", "urgent", "admin", ""), // 3 × 1.5 = 4.5
		tk("k2", "2026-03-11T23:00:00Z", "d1", "high", "", ""),        // 2 → d1 = 6.5, score 6.5 − 3 = 3.5
		tk("k3", "2026-03-12T00:00:00Z", "d1", "urgent", "", ""),      // at finished + 48 h: outside
		tk("k4", "2026-03-09T00:00:00Z", "d1", "urgent", "", ""),      // before the release
		tk("k5", "2026-03-10T02:00:00Z", "", "urgent", "", ""),        // no release: not attributable
		dep("d2", "api", "production", "2026-03-20"),
		tk("k6", "2026-03-20T10:00:00Z", "d2", "", "", "critical"), // 3 → score 0
		dep("d3", "web", "production", "2026-03-30T12:00:00Z"),
		tk("k7", "2026-03-30T18:00:00Z", "d3", "", "", ""), // 1, web has no baseline → score 1
		tk("k8", "2026-03-31T06:00:00Z", "d3", "", "", ""), // after as_of: not yet
		dep("s1", "api", "staging", "2026-03-15"),
		tk("k9", "2026-03-15T01:00:00Z", "s1", "urgent", "", ""), // staging: not a release
	}
	d := bizDS(nil, recs...)
	bizRun(t, d, []bizCase{
		// Worst of d1 3.5, d2 0, d3 1.
		{"org", "release_impact_score", bizQ(bizAsOf), bizF(3.5)},
		{"web", "release_impact_score", bizQ(bizAsOf, "service", "web"), bizF(1)},
		{"team core", "release_impact_score", bizQ(bizAsOf, "team", "core"), bizF(3.5)},
		// No production deployment in [2026-01-01, 2026-01-31): no value.
		{"none", "release_impact_score", bizQ(bizT("2026-01-31")), nil},
	})
	r := bizCompute(t, d, "release_impact_score", bizQ(bizAsOf))
	if r.Count != 3 {
		t.Errorf("count = %d, want 3 releases", r.Count)
	}
	top := r.Detail.Releases
	if len(top) != 3 || top[0].Deployment != "d1" || top[0].Baseline != 3.0 || top[0].Tickets != 2 || top[1].Deployment != "d3" {
		t.Errorf("releases = %+v", top)
	}

	// Its lines by service are its releases' services: k5, about no service, makes no "(none)"
	// line, which had been shown as unknown beside api and web.
	lines, err := d.Breakdown("release_impact_score", bizQ(bizAsOf), "service")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range lines {
		keys = append(keys, l.Key)
	}
	if !slices.Equal(keys, []string{"api", "web"}) {
		t.Errorf("release impact by service: lines %v, want [api web]", keys)
	}

	// Configured weights: only urgent = 10, everything else 1.
	// Baseline b1 = 2, b2 = 2 → 2; d1 = 10 + 1 = 11 → 9; d2 = 1 → −1; d3 = 1 → 1.
	cfg := DefaultConfig()
	cfg.ImpactWeights = map[string]map[string]float64{"priority": {"Urgent": 10}}
	bizRun(t, bizDS(&cfg, recs...), []bizCase{{"weights", "release_impact_score", bizQ(bizAsOf), bizF(9)}})

	// A 90-minute observation window: k1 (1 h after) only for d1 (4.5), b1 gets kb1 (1), b2 none (kb3 is
	// 5 h after): baseline 0.5, d1 4.5 − 0.5 = 4; d2 (k6 10 h after) −0.5; d3 (k7 6 h after) 0 → 4.
	cfg = DefaultConfig()
	cfg.ReleaseImpactWindow = 90 * time.Minute
	bizRun(t, bizDS(&cfg, recs...), []bizCase{{"window", "release_impact_score", bizQ(bizAsOf), bizF(4)}})
}

// A ticket metric's lines by segment are the tickets' segments: a measurement without a segment
// had added a "(none)" line ("no ticket data for segment (none)") though every ticket had one. A
// ticket without one makes the line.
func TestTicketSegmentsOnly(t *testing.T) {
	seg := func(x *domain.Ticket, s string) *domain.Ticket { x.Segment = s; return x }
	m := &domain.Measurement{Meta: bizMeta("m1"), Metric: "nps_team", At: bizT("2026-03-01"), Value: 3}
	keys := func(d *Dataset) []string {
		lines, err := d.Breakdown("sla_adherence", bizQ(bizAsOf), "segment")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range lines {
			out = append(out, l.Key)
		}
		return out
	}
	t1 := seg(bizTicket("t1", "2026-03-01", "2026-03-05", "2026-03-06", "high"), "smb")
	if got := keys(bizDS(nil, m, t1)); !slices.Equal(got, []string{"smb"}) {
		t.Errorf("lines %v, want [smb]", got)
	}
	t2 := bizTicket("t2", "2026-03-01", "2026-03-05", "2026-03-06", "high")
	if got := keys(bizDS(nil, m, t1, t2)); !slices.Equal(got, []string{NoneKey, "smb"}) {
		t.Errorf("with a ticket without a segment: lines %v, want [(none) smb]", got)
	}
}

// A ticket metric breaks down by the service a ticket is about, and by that
// service's team: a service only tickets name is a line, as are the tickets
// about none ("(none)"), so the lines add up to the organisation's value;
// each line's scope is one a drill-down may ask for.
func TestTicketsByService(t *testing.T) {
	about := func(x *domain.Ticket, svc string) *domain.Ticket { x.Service = svc; return x }
	d := bizDS(nil,
		&domain.Service{Meta: bizMeta("payments"), Name: "payments", Team: "money"},
		about(bizTicket("t1", "2026-03-01", "2026-03-05", "2026-03-06", "high"), "payments"),     // met
		about(bizTicket("t2", "2026-03-01", "2026-03-10", "2026-03-09", "high"), "helpdesk-app"), // breached; no service record
		bizTicket("t3", "2026-03-01", "2026-03-12", "2026-03-12", "low"),                         // met; about no service
	)
	for _, c := range []struct {
		dim  string
		want map[string]float64
	}{
		{"service", map[string]float64{"payments": 100, "helpdesk-app": 0, NoneKey: 100}},
		{"team", map[string]float64{"money": 100, NoneKey: 50}},
	} {
		lines, err := d.Breakdown("sla_adherence", bizQ(bizAsOf), c.dim)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, l := range lines {
			if l.Value != nil {
				got[l.Key] = *l.Value
			}
			if err := d.CheckScope(Scope{Dim: c.dim, Value: l.Key}); err != nil {
				t.Errorf("by %s: the line %q's scope is refused: %v", c.dim, l.Key, err)
			}
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("sla_adherence by %s = %v, want %v", c.dim, got, c.want)
		}
	}
}
