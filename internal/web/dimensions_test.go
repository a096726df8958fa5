package web

import (
	"encoding/json"
	"html"
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
