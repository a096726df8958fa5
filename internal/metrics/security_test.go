package metrics

import (
	"maps"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

func bizVuln(id, sev, svc, opened, fixed string) *domain.Vulnerability {
	v := &domain.Vulnerability{Meta: bizMeta(id), Severity: sev, Service: svc, OpenedAt: bizT(opened)}
	if fixed != "" {
		v.FixedAt = bizT(fixed)
	}
	return v
}

// as_of 2026-03-31, W = [03-01, 03-31).
func bizSecurityData() []domain.Record {
	return []domain.Record{
		&domain.Service{Meta: bizMeta("api"), Name: "API", Team: "core"},
		&domain.Service{Meta: bizMeta("web"), Name: "Web", Team: "edge"},
		bizVuln("v1", "critical", "api", "2026-03-01", ""),                     // open, age 30 d
		bizVuln("v2", "critical", "web", "2026-02-01", "2026-04-02"),           // fixed after as_of: still open, age 58 d
		bizVuln("v3", "critical", "api", "2026-02-01", "2026-03-10"),           // fixed in W after 37 d
		bizVuln("v4", "critical", "api", "2026-04-05", ""),                     // opened after as_of
		bizVuln("v5", "high", "api", "2026-01-01", ""),                         // open, age 89 d
		bizVuln("v6", "critical", "web", "2026-03-20", "2026-03-31"),           // fixed exactly at as_of: closed, not in W
		bizVuln("v7", "critical", "web", "2026-03-05", "2026-03-06T12:00:00Z"), // fixed in W after 1.5 d
		bizVuln("v8", "medium", "web", "2025-12-31", ""),                       // age exactly 90 d = SLA
		bizVuln("v9", "low", "api", "2026-03-30", ""),                          // age 1 d
	}
}

func TestSecurityVulnerabilities(t *testing.T) {
	d := bizDS(nil, bizSecurityData()...)
	strict := DefaultConfig()
	strict.VulnerabilitySLA = map[string]time.Duration{"critical": 60 * day}
	ds := bizDS(&strict, bizSecurityData()...)
	early := bizT("2026-02-15")
	bizRun(t, d, []bizCase{
		// Open critical at 03-31: v1, v2 (its fix is after as_of) → 2; v3/v6 fixed by then, v4 not opened.
		{"critical open", "open_critical_vulnerabilities", bizQ(bizAsOf), bizF(2)},
		// Team core = service api: v1 only.
		{"critical open team core", "open_critical_vulnerabilities", bizQ(bizAsOf, "team", "core"), bizF(1)},
		// Service web: v2.
		{"critical open service web", "open_critical_vulnerabilities", bizQ(bizAsOf, "service", "web"), bizF(1)},
		// At 02-15: v2, v3 opened 02-01, neither fixed → 2.
		{"critical open earlier", "open_critical_vulnerabilities", bizQ(early), bizF(2)},
		// High: v5.
		{"high open", "open_high_vulnerabilities", bizQ(bizAsOf), bizF(1)},
		{"high open none in scope", "open_high_vulnerabilities", bizQ(bizAsOf, "service", "web"), bizF(0)},
		// Critical fixed in W: v3 37 d, v7 1.5 d → median (37 + 1.5) / 2 = 19.25; v6 fixed at as_of is outside
		// the half-open W, v2's fix has not happened.
		{"time to patch", "time_to_patch_critical", bizQ(bizAsOf), bizF(19.25)},
		{"time to patch web", "time_to_patch_critical", bizQ(bizAsOf, "service", "web"), bizF(1.5)},
		// W = [01-16, 02-15): nothing fixed → no value.
		{"time to patch none", "time_to_patch_critical", bizQ(early), nil},
		// Breaches: v1 30 d > 7, v2 58 d > 7, v5 89 d > 30; v8 90 d = 90 is not a breach; v9 1 d → 3.
		{"sla breaches", "vulnerability_sla_breaches", bizQ(bizAsOf), bizF(3)},
		{"sla breaches team edge", "vulnerability_sla_breaches", bizQ(bizAsOf, "team", "edge"), bizF(1)},
	})
	// Configured critical SLA 60 d (others default): v1 30 d and v2 58 d no longer breach; v5 does → 1.
	bizRun(t, ds, []bizCase{{"sla configured", "vulnerability_sla_breaches", bizQ(bizAsOf), bizF(1)}})
	// One second later v8 (medium, 90 d SLA) is over its SLA too → 4.
	bizRun(t, d, []bizCase{{"sla just over", "vulnerability_sla_breaches", bizQ(bizAsOf.Add(time.Second)), bizF(4)}})

	q := bizQ(bizAsOf)
	q.Records = true
	r := bizCompute(t, d, "open_critical_vulnerabilities", q)
	if len(r.Records) != 2 {
		t.Errorf("records = %v, want v1 and v2", r.Records)
	}
	// A finding with a CVE is not noted above one without (a SARIF code
	// finding): the note had repeated the cve column, so a records table
	// listed every CVE "first" and a code scanner's finding last.
	withCVE := bizVuln("c1", "critical", "api", "2026-03-01", "")
	withCVE.CVE = "CVE-2026-0001"
	mixed := bizDS(nil, withCVE, bizVuln("c2", "critical", "api", "2026-02-01", "2026-03-20"))
	for _, id := range []string{"open_critical_vulnerabilities", "time_to_patch_critical"} {
		for _, ref := range bizCompute(t, mixed, id, q).Records {
			if ref.Note != "" {
				t.Errorf("%s: %s noted %q", id, ref.ID, ref.Note)
			}
		}
	}
}

func TestSecurityIncidents90d(t *testing.T) {
	inc := func(id, cat, opened string) *domain.Incident {
		return &domain.Incident{Meta: bizMeta(id), Service: "api", Severity: "P2", Category: cat, OpenedAt: bizT(opened)}
	}
	d := bizDS(nil,
		inc("i1", "security", "2026-03-20"),     // in the last 30 and 90 days
		inc("i2", "Security", "2026-01-15"),     // 90 days back is 2025-12-31: in 90 d only
		inc("i3", "security", "2025-12-30"),     // before the 90 days
		inc("i4", "availability", "2026-03-20"), // not security
		inc("i5", "security", "2026-04-02"),     // after as_of
		inc("i6", "security", "2025-12-31"),     // exactly as_of − 90 d: included
	)
	r := bizCompute(t, d, "security_incidents_90d", bizQ(bizAsOf))
	// i1, i2, i6 → 3; last 30 d ([03-01, 03-31)): i1 → 1.
	bizCheck(t, "security_incidents_90d", r, bizF(3))
	if v := r.Detail.LastThirtyDays; v == nil || *v != 1 {
		t.Errorf("last_30d = %v, want 1", v)
	}
	// No incident exists by then (SPEC §4): no value, not 0.
	r = bizCompute(t, d, "security_incidents_90d", bizQ(bizT("2025-06-01")))
	bizCheck(t, "security_incidents_90d before any", r, nil)
	// Incidents exist (i3), none is in the 90 days: 0.
	r = bizCompute(t, d, "security_incidents_90d", bizQ(bizT("2026-05-01").AddDate(0, 3, 0)))
	bizCheck(t, "security_incidents_90d none", r, bizF(0))
}

func TestCompliancePassRate(t *testing.T) {
	ctl := func(id, control, fw, at string, passed bool) *domain.Control {
		return &domain.Control{Meta: bizMeta(id), Control: control, Framework: fw, CheckedAt: bizT(at), Passed: passed}
	}
	d := bizDS(nil,
		ctl("k1", "AC-1", "SOX", "2026-03-01", false), // failed, then re-checked and passed
		ctl("k2", "AC-1", "SOX", "2026-03-10", true),
		ctl("k3", "AC-2", "SOX", "2026-03-05", true),  // passes at as_of …
		ctl("k4", "AC-2", "SOX", "2026-04-05", false), // … its failure comes later
		ctl("k5", "AC-3", "ISO27001", "2026-02-01", true),
		ctl("k6", "AC-3", "ISO27001", "2026-03-20", false), // passed, then failed
		ctl("k7", "AC-4", "ISO27001", "2026-03-01", true),
		ctl("k8", "AC-5", "", "2026-04-01", true), // first checked after as_of: not a control yet
	)
	bizRun(t, d, []bizCase{
		// AC-1, AC-2, AC-4 pass, AC-3 fails → 3 / 4 = 75 %.
		{"org", "compliance_pass_rate", bizQ(bizAsOf), bizF(75)},
		// SOX: AC-1, AC-2 → 100; ISO27001: AC-4 of AC-3, AC-4 → 50.
		{"sox", "compliance_pass_rate", bizQ(bizAsOf, "framework", "SOX"), bizF(100)},
		{"iso", "compliance_pass_rate", bizQ(bizAsOf, "framework", "ISO27001"), bizF(50)},
		// On 03-05: AC-1 latest is the failure of 03-01, AC-2 and AC-4 passed, AC-3 passed 02-01 → 3 / 4.
		{"before re-check", "compliance_pass_rate", bizQ(bizT("2026-03-05T12:00:00Z")), bizF(75)},
		// On 04-10: AC-2 now failed, AC-5 passed: AC-1, AC-4, AC-5 of 5 → 60.
		{"later", "compliance_pass_rate", bizQ(bizT("2026-04-10")), bizF(60)},
		// Before any check: no value.
		{"none", "compliance_pass_rate", bizQ(bizT("2026-01-01")), nil},
	})
	r := bizCompute(t, d, "compliance_pass_rate", bizQ(bizAsOf))
	fw := r.Detail.Frameworks
	if fw["SOX"] != "passed" || fw["ISO27001"] != "failed" || len(fw) != 2 {
		t.Errorf("frameworks = %v, want SOX passed, ISO27001 failed", fw)
	}
	g, err := d.Breakdown("compliance_pass_rate", bizQ(bizT("2026-04-10")), "framework")
	if err != nil {
		t.Fatal(err)
	}
	// Framework values: (none) (AC-5), ISO27001, SOX → 100, 50, 50 (AC-2 failed on 04-05).
	want := map[string]float64{NoneKey: 100, "ISO27001": 50, "SOX": 50}
	if len(g) != len(want) {
		t.Fatalf("breakdown = %+v", g)
	}
	for _, x := range g {
		bizCheck(t, "framework "+x.Key, x.Result, bizF(want[x.Key]))
	}

	// Only the failing control is noted, so a records table lists it first.
	q := bizQ(bizAsOf)
	q.Records = true
	for _, ref := range bizCompute(t, d, "compliance_pass_rate", q).Records {
		if want := map[string]string{"k6": "failed"}[ref.ID]; ref.Note != want {
			t.Errorf("check %s noted %q, want %q", ref.ID, ref.Note, want)
		}
	}

	// Two checks at the same instant, one failing: the control fails.
	tie := bizDS(nil, ctl("a", "X", "SOX", "2026-03-01", true), ctl("b", "X", "SOX", "2026-03-01", false))
	bizRun(t, tie, []bizCase{{"tie", "compliance_pass_rate", bizQ(bizAsOf), bizF(0)}})
}

// TestSecurityByTier: vulnerabilities and security incidents reach a
// service, so their metrics break down by its tier and take a tier scope
// (SPEC §3: every metric per tier where its records reach a service); they
// had offered team, service and business unit only. A finding about no
// service (a scan imported without --service) is the "(none)" line, so the
// lines add up to the total; it had been in none.
func TestSecurityByTier(t *testing.T) {
	d := bizDS(nil,
		&domain.Service{Meta: bizMeta("pay"), Name: "Payments", Team: "money", Tier: 1},
		&domain.Service{Meta: bizMeta("web"), Name: "Web", Team: "edge", Tier: 2},
		bizVuln("v1", "critical", "pay", "2026-03-01", ""),
		bizVuln("v2", "critical", "web", "2026-03-20", ""),
		bizVuln("v3", "critical", "pay", "2026-03-25", ""),
		bizVuln("v4", "high", "", "2026-01-01", ""),
		&domain.Incident{Meta: bizMeta("i1"), Service: "pay", Severity: "P2", Category: "security", OpenedAt: bizT("2026-03-20")},
	)
	for _, c := range []struct {
		id   string
		want map[string]float64
	}{
		{"open_critical_vulnerabilities", map[string]float64{"1": 2, "2": 1, NoneKey: 0}},
		// At 03-31 v1 (30 d), v2 (11 d) and v4 (high, 89 d) are over their SLA, v3 (6 d) is not.
		{"vulnerability_sla_breaches", map[string]float64{"1": 1, "2": 1, NoneKey: 1}},
		{"security_incidents_90d", map[string]float64{"1": 1}},
	} {
		lines, err := d.Breakdown(c.id, bizQ(bizAsOf), "tier")
		if err != nil {
			t.Fatalf("%s by tier: %v", c.id, err)
		}
		got := map[string]float64{}
		for _, l := range lines {
			if l.Value != nil {
				got[l.Key] = *l.Value
			}
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%s by tier = %v, want %v", c.id, got, c.want)
		}
	}
	bizRun(t, d, []bizCase{{"critical open tier 1", "open_critical_vulnerabilities", bizQ(bizAsOf, "tier", "1"), bizF(2)}})
}
