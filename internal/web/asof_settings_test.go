package web

// A value as of a time before an approved change of a setting is computed,
// and labelled, under the settings in force then, as the metric pages
// compute it (scorecard.Evaluate reads ds.At(as_of)): the record page's
// links, the release list, the insights, the data sources report, scopes
// and the currency of kept checks and proposals' standings. Each test
// failed while its handler read today's settings (as-of audit,
// 2026-12-07).

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
)

// changeAt is when the test's approved change takes effect: after the
// seed's as_of (2026-03-31), before the clock.
var changeAt = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// epochs puts before in force until changeAt and the defaults from it.
func epochs(t *testing.T, before metrics.Config) func(s *Server, _ string) {
	return func(s *Server, _ string) {
		if err := s.Engine.SetEpochs(context.Background(), []engine.Epoch{{Config: before}, {From: changeAt, Config: metrics.DefaultConfig()}}); err != nil {
			t.Fatal(err)
		}
	}
}

// liveOnly are the default settings but with "live" the only production
// environment name and no aliases: those in force before changeAt in the
// tests of production names.
func liveOnly() metrics.Config {
	c := metrics.DefaultConfig()
	c.ProductionNames = []string{"live"}
	c.EnvironmentAliases = map[string]string{}
	return c
}

// inEUR puts the default settings (US dollars) in force until from and
// euros (a dollar worth half a euro) from it.
func inEUR(t *testing.T, s *Server, from time.Time) {
	eur := metrics.DefaultConfig()
	eur.Currency = "EUR"
	eur.ExchangeRates = map[string]float64{"USD": 0.5}
	if err := s.Engine.SetEpochs(context.Background(), []engine.Epoch{{Config: metrics.DefaultConfig()}, {From: from, Config: eur}}); err != nil {
		t.Fatal(err)
	}
}

// importRevenue adds the revenue records (revenueSeed).
func importRevenue(t *testing.T, e *env) {
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// An incident's page as of a time before the attribution window was
// widened: under the 1 h window in force then, i3 (opened 8 h after d4)
// is attributed to no deployment and change failure rate is 25 %; the
// record page had attributed it to d4 "within 1 day", today's window.
func TestRecordPageLinksUnderTheWindowInForce(t *testing.T) {
	before := metrics.DefaultConfig()
	before.AttributionWindow = time.Hour
	e := newEnvWith(t, 0, epochs(t, before))
	e.run(t, scenario{url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf, status: 200,
		fields: map[string]string{"metric.value": "25"}})
	page := e.get200(t, "/records/incident/import/i3?as_of="+asOf)
	if !strings.Contains(page, "Attributed to no deployment") {
		i := strings.Index(page, `id="links-h"`)
		t.Errorf("as of %s, under the 1 h window then in force, i3 is attributed to no deployment (change failure rate 25 %%); the page says:\n%s",
			asOf, page[max(0, i):min(len(page), i+700)])
	}
	page = e.get200(t, "/records/deployment/import/d4?as_of="+asOf)
	if !strings.Contains(page, "Not failed as of") {
		i := strings.Index(page, `id="links-h"`)
		t.Errorf("as of %s d4 is not failed under the window then in force; the page says:\n%s", asOf, page[max(0, i):min(len(page), i+700)])
	}
}

// The release list as of a time before "production" became a production
// environment name lists none of the seed's deployments: none was a
// production release then (deployment frequency has no production
// deployment to count). It had listed d1–d4 by today's names.
func TestReleaseListUnderTheProductionNamesInForce(t *testing.T) {
	e := newEnvWith(t, 0, epochs(t, liveOnly()))
	e.run(t, scenario{url: "/api/v1/metrics/deployment_frequency?as_of=" + asOf, status: 200,
		check: func(t *testing.T, doc any) {
			if v := lookup(doc, "metric.value"); v != nil && v != 0.0 {
				t.Errorf("deployment frequency as of %s = %v under names [live]; want none", asOf, v)
			}
		}})
	e.run(t, scenario{url: "/api/v1/releases?as_of=" + asOf + "&window=30d", status: 200,
		check: func(t *testing.T, doc any) {
			if rs, _ := lookup(doc, "releases").([]any); len(rs) != 0 {
				t.Errorf("as of %s, when only \"live\" was production, the release list holds %d releases (today's names)", asOf, len(rs))
			}
		}})
	code, body, _ := e.do(t, "GET", "/api/v1/releases/import/d4?as_of="+asOf, "", nil)
	if code != 404 {
		t.Errorf("GET /api/v1/releases/import/d4 as of %s, when d4 was not production: %d, want 404\n%s", asOf, code, clip(body))
	}
}

// The data sources report as of a time before a GBP rate was approved
// lists the GBP subscription as money without a rate, as MRR as of then
// has no value for want of it; it had read today's rates and said
// nothing.
func TestSourcesUnratedUnderTheRatesInForce(t *testing.T) {
	now := metrics.DefaultConfig()
	now.ExchangeRates = map[string]float64{"GBP": 1.25}
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		if err := s.Engine.SetEpochs(context.Background(), []engine.Epoch{{Config: metrics.DefaultConfig()}, {From: changeAt, Config: now}}); err != nil {
			t.Fatal(err)
		}
	})
	sub := `{"kind":"subscription","id":"g1","customer":"acme","plan":"pro","mrr":1000,"currency":"GBP","started_at":"2026-03-01T00:00:00Z"}` + "\n"
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "gbp.ndjson", Reader: strings.NewReader(sub)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	e.run(t, scenario{url: "/api/v1/metrics/mrr?as_of=" + asOf, status: 200, fields: map[string]string{"metric.value": "<nil>"}})
	e.run(t, scenario{url: "/api/v1/sources?as_of=" + asOf, status: 200,
		check: func(t *testing.T, doc any) {
			if us, _ := lookup(doc, "unrated").([]any); len(us) == 0 {
				t.Errorf("as of %s, before the GBP rate, MRR has no value for want of it, but the sources report lists no unrated money", asOf)
			}
		}})
}

// A kept reconciliation check as of a time before the currency changed
// compared a figure computed in US dollars: the data sources page lists
// it so, where it had labelled it in the page's (today's) currency.
func TestReconciliationLabelledInItsOwnCurrency(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) { inEUR(t, s, time.Now().Add(-time.Hour)) })
	importRevenue(t, e)
	before := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	code, body, _ := e.do(t, "POST", "/api/v1/reconciliations", `{"metric":"mrr","expected":10000,"as_of":"`+before+`"}`, nil)
	if code != 201 {
		t.Fatalf("POST /api/v1/reconciliations: %d %s", code, clip(body))
	}
	page := e.get200(t, "/sources")
	money := regexp.MustCompile(`10,0[0-9,.]* (USD|EUR)`)
	found := money.FindAllStringSubmatch(page, -1)
	if len(found) == 0 {
		t.Fatal("the sources page shows no reconciliation figure")
	}
	for _, m := range found {
		if m[1] != "USD" {
			t.Errorf("the check as of %s (computed in USD) is labelled %q on the sources page", before, m[0])
		}
	}
}

// The insights as of a time before "production" became a production
// environment name read the releases of then: none. canary_candidate had
// counted the seed's four deployments as releases by today's names.
func TestInsightsUnderTheSettingsInForce(t *testing.T) {
	e := newEnvWith(t, 0, epochs(t, liveOnly()))
	e.run(t, scenario{url: "/api/v1/insights?as_of=" + asOf, status: 200,
		check: func(t *testing.T, doc any) {
			qs, _ := lookup(doc, "quiet").([]any)
			for _, q := range qs {
				m, _ := q.(map[string]any)
				if why, _ := m["reason"].(string); m["id"] == "canary_candidate" && !strings.Contains(why, "(0 releases") {
					t.Errorf("as of %s, when no seed deployment was production, canary_candidate says: %s", asOf, why)
				}
			}
			if len(qs) == 0 {
				t.Errorf("no quiet insights: %v", doc)
			}
		}})
}

// A scope written with an environment name as of a time before it became
// an alias: then "live" was an environment of its own (d5 alone), and a
// scorecard or drill-down as of then scoped to it reads d5. The handlers
// had canonicalised the scope by today's aliases (live → production) and
// computed it under the settings of then: production's four deployments
// under the name "live".
func TestScopeCanonicalUnderTheAliasesInForce(t *testing.T) {
	before := metrics.DefaultConfig()
	before.EnvironmentAliases = map[string]string{}
	e := newEnvWith(t, 0, epochs(t, before))
	d5 := `{"kind":"deployment","id":"d5","service":"api","environment":"live","finished_at":"2026-03-25T00:00:00Z","status":"success"}` + "\n"
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "d5.ndjson", Reader: strings.NewReader(d5)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	// Unscoped, as of then: five production deployments (live is a
	// production name whatever its aliases).
	e.run(t, scenario{url: "/api/v1/metrics/deployment_frequency?as_of=" + asOf + "&by=environment", status: 200,
		check: func(t *testing.T, doc any) {
			t.Logf("as of %s by environment: %v, %v / %v, %v", asOf, lookup(doc, "breakdown.0.key"), lookup(doc, "breakdown.0.count"), lookup(doc, "breakdown.1.key"), lookup(doc, "breakdown.1.count"))
		}})
	e.run(t, scenario{url: "/api/v1/metrics/deployment_frequency?as_of=" + asOf + "&environment=live", status: 200,
		check: func(t *testing.T, doc any) {
			if n := lookup(doc, "metric.count"); n != 1.0 {
				t.Errorf("deployment frequency as of %s in environment live (an environment of its own then, d5 alone) counts %v deployments; scope %v", asOf, n, lookup(doc, "scope"))
			}
		}})
	// The scorecard API, its filters made canonical as the drill-down's.
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&environment=live", status: 200,
		check: func(t *testing.T, doc any) {
			if c := findCard(doc, "deployment_frequency"); c == nil || c["count"] != 1.0 {
				t.Errorf("the scorecard as of %s in environment live counts deployment frequency's deployments as %v, want 1 (d5)", asOf, c["count"])
			}
		}})
}

// findCard is the object with the id in a JSON document (a scorecard's
// card), nil when there is none.
func findCard(doc any, id string) map[string]any {
	switch v := doc.(type) {
	case map[string]any:
		if v["id"] == id {
			return v
		}
		for _, x := range v {
			if c := findCard(x, id); c != nil {
				return c
			}
		}
	case []any:
		for _, x := range v {
			if c := findCard(x, id); c != nil {
				return c
			}
		}
	}
	return nil
}

// A proposal's standing "when proposed" is a figure as of the proposal:
// one made before the currency changed was computed in US dollars, and
// the proposals page labels it so; it had labelled it in today's euros.
func TestProposalStandingLabelledInItsCurrency(t *testing.T) {
	e := newEnv(t, 0)
	importRevenue(t, e)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "t-ann", Roles: []string{"executive"}, Owner: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	status, b, _ := e.do(t, "POST", "/api/v1/proposals", `{"metric":"mrr","changes":{"target":20000},"reason":"growth"}`, map[string]string{"Authorization": "Bearer " + secret})
	if status != 201 || !strings.Contains(string(b), `"value": 10064.25`) {
		t.Fatalf("POST /api/v1/proposals: %d %s", status, clip(b))
	}
	// The currency changes after the proposal.
	inEUR(t, e.srv, time.Now())
	page := e.get200(t, "/proposals")
	m := regexp.MustCompile(`10,064[0-9.]* (USD|EUR)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the proposals page shows no standing of MRR")
	}
	if m[1] != "USD" {
		t.Errorf("the standing when proposed, computed in USD before the change, reads %q", m[0])
	}
}

// A page without as_of is computed as of the current minute
// (defaultAsOf) and labelled in the currency in force then, not at a
// second read of the clock: in the seconds after an approved change of
// the currency, a role view's metric tiles had been labelled in the new
// currency, the figures being in the old. (A record page's money is
// labelled so too, but an imported record names its currency itself.)
func TestPageWithoutAsOfLabelledAtItsMinute(t *testing.T) {
	minute := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	clock := minute.Add(30 * time.Second)
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		s.Now = func() time.Time { return clock }
		// In force from 10 s into the minute: after the page's as_of,
		// before the clock.
		inEUR(t, s, minute.Add(10*time.Second))
	})
	importRevenue(t, e)
	money := regexp.MustCompile(`(?:[0-9] |in |\()(USD|EUR)\b`)
	for _, path := range []string{"/views/cro"} {
		page := e.get200(t, path)
		found := money.FindAllStringSubmatch(page, -1)
		if len(found) == 0 {
			t.Fatalf("%s shows no money", path)
		}
		for _, m := range found {
			if m[1] != "USD" {
				i := strings.Index(page, m[0])
				t.Errorf("%s, as of %s (US dollars then), labels money %s: …%s…", path, minute.Format(time.TimeOnly), m[1], page[max(0, i-200):i+4])
				break
			}
		}
	}
}
