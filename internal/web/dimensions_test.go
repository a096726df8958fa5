package web

import (
	"encoding/json"
	"html"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
)

// contextRecords give the seed's api a business unit and its incident
// an origin, and add a customer-reported incident on web.
const contextRecords = `{"kind":"service","id":"api","name":"API","team":"core","tier":1,"business_unit":"commerce"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-30T20:00:00Z","resolved_at":"2026-03-30T22:00:00Z","origin":"monitoring"}
{"kind":"incident","id":"i4","service":"web","severity":"P1","opened_at":"2026-03-29T00:00:00Z","resolved_at":"2026-03-29T06:00:00Z","origin":"customer"}
`

// Business unit is a filter of every page and a scope of the API; origin
// scopes and breaks down incident metrics; unknown values are refused
// with the known ones.
func TestContextDimensionsServed(t *testing.T) {
	e := newEnv(t, 0)
	if st, body, _ := e.do(t, "POST", "/api/v1/records", contextRecords, nil); st != 200 {
		t.Fatalf("records: %d %s", st, body)
	}
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/?as_of="+asOf+"&business_unit=commerce", 200)
	for _, want := range []string{"business unit <strong>commerce</strong>", `name="business_unit"`, "Change failure rate"} {
		if !strings.Contains(body, want) {
			t.Errorf("the scorecard filtered by business unit lacks %q", want)
		}
	}
	body = e.page(t, cl, "/?as_of="+asOf+"&business_unit=nosuch", 400)
	if !strings.Contains(html.UnescapeString(body), "nosuch") || !strings.Contains(body, "commerce") {
		t.Errorf("an unknown business unit is not refused with the known ones:\n%s", clip([]byte(body)))
	}
	body = e.page(t, cl, "/metrics/mttr?as_of="+asOf+"&by=origin", 200)
	for _, want := range []string{"By origin", "customer", "monitoring"} {
		if !strings.Contains(body, want) {
			t.Errorf("mttr by origin lacks %q", want)
		}
	}

	st, raw, _ := e.do(t, "GET", "/api/v1/metrics/mttr?as_of="+asOf+"&scope=origin:customer&by=business_unit", "", nil)
	if st != 200 {
		t.Fatalf("mttr of customer-reported incidents: %d %s", st, raw)
	}
	var doc struct {
		Metric    struct{ Value *float64 }
		Breakdown []struct{ Key string }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// i4 only: 6 hours, on web, which has no business unit.
	if doc.Metric.Value == nil || *doc.Metric.Value != 6 || len(doc.Breakdown) != 1 || doc.Breakdown[0].Key != "(none)" {
		t.Errorf("mttr scoped to origin:customer by business unit: %s", raw)
	}
	st, raw, _ = e.do(t, "GET", "/api/v1/metrics/mttr?as_of="+asOf+"&scope=origin:twitter", "", nil)
	if st != 400 || !strings.Contains(string(raw), "customer, monitoring") {
		t.Errorf("an unknown origin: %d %s", st, raw)
	}
}

// A tier's own thresholds judge its services' lines and scopes, on the page and in the API, and
// both say whose thresholds judged: api (tier 1) deploys 3 times with success in 30 days, 0.1/day, red by
// the organisation's bar (green ≥ 1, amber ≥ 1/7) and green by tier 1's (green ≥ 0.1).
func TestTierThresholdsServed(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		cat, err := s.Catalog.Apply(map[string]catalog.Override{"deployment_frequency": {
			ThresholdsByTier: map[string]catalog.Thresholds{"1": {Green: 0.1, Amber: 0.05}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		s.Catalog = cat
	})
	cl := e.sessionAs(t, "executive")
	body := html.UnescapeString(e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf+"&by=service", 200))
	if !strings.Contains(body, "by tier 1's thresholds") {
		t.Errorf("the api line does not say tier 1's thresholds judged it:\n%s", clip([]byte(body)))
	}
	body = html.UnescapeString(e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf+"&service=api", 200))
	if !strings.Contains(body, "green ≥ 0.1 deploys/day, amber ≥ 0.05 deploys/day, red below (tier 1's own)") {
		t.Errorf("the page scoped to api does not state tier 1's thresholds:\n%s", clip([]byte(body)))
	}
	st, raw, _ := e.do(t, "GET", "/api/v1/metrics/deployment_frequency?as_of="+asOf+"&by=service", "", nil)
	var doc struct {
		Metric struct {
			Status         string
			ThresholdsFrom string `json:"thresholds_from"`
		}
		Breakdown []struct {
			Key, Status    string
			ThresholdsFrom string `json:"thresholds_from"`
		}
	}
	if err := json.Unmarshal(raw, &doc); st != 200 || err != nil {
		t.Fatalf("API: %d %v %s", st, err, raw)
	}
	if doc.Metric.Status != "red" || doc.Metric.ThresholdsFrom != "organisation" || len(doc.Breakdown) == 0 ||
		doc.Breakdown[0].Key != "api" || doc.Breakdown[0].Status != "green" || doc.Breakdown[0].ThresholdsFrom != "tier 1" {
		t.Errorf("API deployment_frequency by service: %s", raw)
	}
}

// segmentBook: as of 2026-03-31 (T0 = 2025-03-31) acme (enterprise)
// 1000 → 1500, beta (smb) 400 → 0, gamma smb at T0 and enterprise since,
// 600 → 900, and delta without a segment 300 → 300. A ticket names
// mid-market, which no subscription does.
const segmentBook = `{"kind":"subscription","id":"sa1","customer":"acme","segment":"enterprise","mrr":1000,"started_at":"2025-01-01T00:00:00Z"}
{"kind":"subscription","id":"sa2","customer":"acme","segment":"enterprise","mrr":500,"started_at":"2025-10-01T00:00:00Z"}
{"kind":"subscription","id":"sb1","customer":"beta","segment":"smb","mrr":400,"started_at":"2025-01-01T00:00:00Z","ended_at":"2026-03-01T00:00:00Z"}
{"kind":"subscription","id":"sg1","customer":"gamma","segment":"smb","mrr":600,"started_at":"2024-06-01T00:00:00Z","ended_at":"2025-09-01T00:00:00Z"}
{"kind":"subscription","id":"sg2","customer":"gamma","segment":"enterprise","mrr":900,"started_at":"2025-09-01T00:00:00Z"}
{"kind":"subscription","id":"sd1","customer":"delta","mrr":300,"started_at":"2025-02-01T00:00:00Z"}
{"kind":"ticket","id":"tk1","created_at":"2026-03-02T00:00:00Z","customer":"acme","segment":"mid-market"}
`

// NRR and GRR break down and scope by the segment each customer of the
// cohort had a year before, through the API: the lines, a scope equal to
// its line, an unknown segment refused naming the known ones, and no
// breakdown by plan.
func TestRetentionBySegmentServed(t *testing.T) {
	e := newEnv(t, 0)
	if st, body, _ := e.do(t, "POST", "/api/v1/records", segmentBook, nil); st != 200 {
		t.Fatalf("records: %d %s", st, body)
	}
	type line struct {
		Key   string
		Value *float64
		Count int
	}
	get := func(metric, query string) (v *float64, lines []line) {
		t.Helper()
		st, raw, _ := e.do(t, "GET", "/api/v1/metrics/"+metric+"?as_of="+asOf+query, "", nil)
		var doc struct {
			Metric    struct{ Value *float64 }
			Breakdown []line
		}
		if err := json.Unmarshal(raw, &doc); st != 200 || err != nil {
			t.Fatalf("%s%s: %d %v %s", metric, query, st, err, clip(raw))
		}
		return doc.Metric.Value, doc.Breakdown
	}
	// NRR: enterprise 1500 of 1000, smb (beta and gamma) 900 of 1000,
	// (none) 300 of 300; the organisation 2700 of 2300.
	// GRR: enterprise 1000, smb 0 + 600, (none) 300 retained.
	for _, c := range []struct {
		metric string
		org    float64
		lines  map[string]float64
	}{
		{"nrr", 100 * 2700.0 / 2300, map[string]float64{"enterprise": 150, "smb": 90, "(none)": 100}},
		{"grr", 100 * 1900.0 / 2300, map[string]float64{"enterprise": 100, "smb": 60, "(none)": 100}},
	} {
		org, lines := get(c.metric, "&by=segment")
		if org == nil || math.Abs(*org-c.org) > 1e-9 {
			t.Errorf("%s: %v, want %v", c.metric, org, c.org)
		}
		if len(lines) != len(c.lines) {
			t.Errorf("%s by segment: %+v, want the lines %v", c.metric, lines, c.lines)
		}
		for _, l := range lines {
			want, ok := c.lines[l.Key]
			if !ok || l.Value == nil || math.Abs(*l.Value-want) > 1e-9 {
				t.Errorf("%s by segment: %s = %v, want %v", c.metric, l.Key, l.Value, want)
				continue
			}
			scoped, _ := get(c.metric, "&scope=segment:"+url.QueryEscape(l.Key))
			if scoped == nil || *scoped != *l.Value {
				t.Errorf("%s scoped to segment:%s = %v, its line %v", c.metric, l.Key, scoped, *l.Value)
			}
		}
	}
	// The known segments are those NRR's breakdown shows, the subscriptions': not the ticket's
	// mid-market, which is refused as unknown as well.
	st, raw, _ := e.do(t, "GET", "/api/v1/metrics/nrr?as_of="+asOf+"&scope=segment:nosuch", "", nil)
	if st != 400 || !strings.Contains(string(raw), "(known: (none), enterprise, smb)") {
		t.Errorf("nrr of an unknown segment: %d %s", st, raw)
	}
	if st, raw, _ := e.do(t, "GET", "/api/v1/metrics/nrr?as_of="+asOf+"&scope=segment:mid-market", "", nil); st != 400 || !strings.Contains(string(raw), "(known: (none), enterprise, smb)") {
		t.Errorf("nrr of a segment only a ticket names: %d %s", st, raw)
	}
	st, raw, _ = e.do(t, "GET", "/api/v1/metrics/nrr?as_of="+asOf+"&by=plan", "", nil)
	if st != 400 || !strings.Contains(string(raw), "segment") {
		t.Errorf("nrr by plan: %d %s", st, raw)
	}
}
