package web

import (
	"encoding/json"
	"html"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/scorecard"
)

// apiScorecard reads GET url as a scorecard, failing unless it answers 200.
func (e *env) apiScorecard(t *testing.T, url string) *scorecard.Scorecard {
	t.Helper()
	status, body, _ := e.do(t, "GET", url, "", nil)
	if status != 200 {
		t.Fatalf("GET %s = %d\n%s", url, status, clip(body))
	}
	var sc scorecard.Scorecard
	if err := json.Unmarshal(body, &sc); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return &sc
}

// pageValues are the scorecard page's "all metrics" lines: each metric's value as the page
// writes it.
var allMetricsItem = regexp.MustCompile(`(?s)<li class="all-metrics__item" data-metric="([^"]+)">\s*<a [^>]*>[^<]*</a>\s*<span class="all-metrics__value">([^<]*)</span>`)

func pageValues(page string) map[string]string {
	out := map[string]string{}
	for _, m := range allMetricsItem.FindAllStringSubmatch(page, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// The scorecard's API takes the page's filters and the CLI's scope (finding 8 of the VP Customer
// Success's review: ?team=payments and ?scope=team:payments were a 400 "unknown parameter"
// while the page and candor scorecard --scope narrowed): narrowed to a team, it lists the
// metrics the page lists with the values the page shows; a value the data lacks is a 400 naming
// its parameter and the known ones.
func TestScorecardAPIFilters(t *testing.T) {
	e := newEnv(t, 0)
	whole := e.apiScorecard(t, "/api/v1/scorecard?as_of="+asOf)
	growth := e.apiScorecard(t, "/api/v1/scorecard?as_of="+asOf+"&team=growth")
	if growth.Scope != "team:growth" || whole.Scope != "" {
		t.Errorf("scope = %q and %q, want team:growth and none", growth.Scope, whole.Scope)
	}
	// Team growth has no deployment: its change failure rate has no value, the organisation's 50 %.
	cards := func(sc *scorecard.Scorecard) map[string]scorecard.Card {
		out := map[string]scorecard.Card{}
		for _, p := range sc.Pillars {
			for _, c := range p.Metrics {
				out[c.ID] = c
			}
		}
		return out
	}
	wc, gc := cards(whole), cards(growth)
	if v := wc["change_failure_rate"].Value; v == nil || *v != 50 {
		t.Fatalf("the organisation's change failure rate = %v, want 50", v)
	}
	if c, ok := gc["change_failure_rate"]; !ok || c.Value != nil {
		t.Errorf("team growth's change failure rate = %+v, want no value", c)
	}
	// A metric that cannot be broken down by team is left out, as on the page.
	if _, ok := gc["csat"]; ok || len(gc) >= len(wc) {
		t.Errorf("team growth's scorecard has %d metrics of the organisation's %d, csat among them", len(gc), len(wc))
	}
	// The page narrowed to the team shows the same metrics with the same values.
	page := pageValues(e.page(t, e.sessionAs(t, "executive"), "/?as_of="+asOf+"&team=growth", 200))
	if len(page) != len(gc) {
		t.Errorf("the page lists %d metrics for team growth, the API %d", len(page), len(gc))
	}
	for id, c := range gc {
		if want := e.srv.funcs(e.srv.site)["cardValue"].(func(scorecard.Card) string)(c); page[id] != want {
			t.Errorf("%s: the page shows %q for team growth, the API's card %q", id, page[id], want)
		}
	}
	// scope=team:growth is team=growth, as candor scorecard --scope team:growth.
	if byScope := e.apiScorecard(t, "/api/v1/scorecard?as_of="+asOf+"&scope=team:growth"); !reflect.DeepEqual(byScope.Pillars, growth.Pillars) || byScope.Scope != growth.Scope {
		t.Errorf("scope=team:growth answers otherwise than team=growth")
	}
	// Two filters narrow together; a filter and a scope on another dimension too.
	both := e.apiScorecard(t, "/api/v1/scorecard?as_of="+asOf+"&team=core&scope=service:api")
	if both.Scope != "team:core,service:api" || cards(both)["change_failure_rate"].Value == nil {
		t.Errorf("team=core&scope=service:api: scope %q, change failure rate %v", both.Scope, cards(both)["change_failure_rate"].Value)
	}
	for _, c := range []struct {
		query, param string
		contains     []string
	}{
		{"team=nosuch", "team", []string{`no team \"nosuch\" in the data`, "core, growth"}},
		{"service=nosuch", "service", []string{"api", "web"}},
		{"environment=nosuch", "environment", []string{"production"}},
		{"scope=team:nosuch", "scope", []string{"core, growth"}},
		{"scope=nocolon", "scope", []string{"DIMENSION:VALUE"}},
		{"team=core&scope=team:growth", "scope", []string{"one value per dimension"}},
	} {
		e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&" + c.query, status: 400,
			fields: map[string]string{"param": c.param, "code": "invalid"}, contains: c.contains})
	}
}

// A metric's drill-down takes the page's filters beside scope, with the page's errors: a
// filter the metric cannot take, or a value the data lacks, names the filter.
func TestMetricAPIFilters(t *testing.T) {
	e := newEnv(t, 0)
	const base = "/api/v1/metrics/change_failure_rate?as_of=" + asOf
	byTeam := e.run(t, scenario{url: base + "&team=growth", status: 200,
		fields: map[string]string{"scope.dim": "team", "scope.value": "growth", "metric.value": "<nil>"}})
	byScope := e.run(t, scenario{url: base + "&scope=team:growth", status: 200, fields: map[string]string{"scope.value": "growth"}})
	if m := lookup(byTeam, "metric"); m == nil || !reflect.DeepEqual(m, lookup(byScope, "metric")) {
		t.Errorf("team=growth and scope=team:growth give different cards")
	}
	e.run(t, scenario{url: base + "&team=core&by=service", status: 200,
		fields: map[string]string{"scope.value": "core", "metric.value": "50", "breakdown.0.key": "api", "breakdown.1.key": "<nil>"}})
	e.run(t, scenario{url: base + "&team=core&scope=service:api", status: 200,
		fields: map[string]string{"scope.dim": "team", "scope.and.0.dim": "service", "metric.value": "50"}})
	e.run(t, scenario{url: base + "&team=nosuch", status: 400, fields: map[string]string{"param": "team"}, contains: []string{"core, growth"}})
	e.run(t, scenario{url: "/api/v1/metrics/csat?as_of=" + asOf + "&team=core", status: 400,
		fields: map[string]string{"param": "team"}, contains: []string{"cannot be filtered by team"}})
	e.run(t, scenario{url: "/api/v1/metrics/arr?as_of=" + asOf + "&service=api", status: 400,
		fields: map[string]string{"param": "service"}, contains: []string{"it can by: plan"}})
	e.run(t, scenario{url: base + "&team=core&scope=team:growth", status: 400, fields: map[string]string{"param": "scope"}})
}

// A role view covers the whole organisation: its page takes the filters and says they do not
// apply; its API, whose answer a client would read as the team's, refuses them saying so and
// where they apply — a value the data lacks still named as that mistake, as on the page.
func TestViewAPIRefusesFiltersSayingWhy(t *testing.T) {
	e := newEnv(t, 0)
	const base = "/api/v1/views/engineering?as_of=" + asOf
	e.run(t, scenario{url: base, status: 200})
	e.run(t, scenario{url: base + "&team=", status: 200})
	e.run(t, scenario{url: base + "&team=core", status: 400, fields: map[string]string{"param": "team", "code": "invalid"},
		contains: []string{"role views cover the whole organisation: the team filter core does not apply here", "GET /api/v1/scorecard?team=core narrows"}})
	e.run(t, scenario{url: base + "&team=core&business_unit=x", status: 400, fields: map[string]string{"param": "business_unit"},
		contains: []string{`no business_unit \"x\"`}})
	e.run(t, scenario{url: base + "&service=api&scope=tier:1", status: 400, fields: map[string]string{"param": "service"},
		contains: []string{"the service filter api, the scope tier:1 do not apply here", `/api/v1/scorecard?service=api\u0026scope=tier:1 narrows`}})
	e.run(t, scenario{url: base + "&scope=team:core", status: 400, fields: map[string]string{"param": "scope"},
		contains: []string{"the scope team:core does not apply here"}})
	// A misspelt team is that mistake, named with the known ones, not said not to apply.
	status, body, _ := e.do(t, "GET", base+"&team=cor", "", nil)
	var errDoc map[string]any
	json.Unmarshal(body, &errDoc)
	if msg, _ := errDoc["error"].(string); status != 400 || errDoc["param"] != "team" || !regexp.MustCompile(`no team "cor" in the data \(known: core, growth\)`).MatchString(msg) {
		t.Errorf("team=cor on a view: %d %s", status, clip(body))
	}
}

// An environment alias in the scorecard's filters means its environment (code review 2026-12-07,
// F4): environment=prod (prod → production by the default aliases) had been accepted, and every
// deployment metric of the API and the page then read "no deployment data for environment prod";
// the alias beside its environment's name was refused as two values of one dimension.
func TestScorecardEnvironmentAlias(t *testing.T) {
	e := newEnv(t, 0)
	base := "/api/v1/scorecard?as_of=" + asOf
	value := func(sc *scorecard.Scorecard, id string) string {
		for _, p := range sc.Pillars {
			for _, c := range p.Metrics {
				if c.ID == id {
					b, _ := json.Marshal(c.Value)
					return string(b) + " " + string(c.Status) + " " + c.Reason
				}
			}
		}
		return "not shown"
	}
	want := value(e.apiScorecard(t, base+"&environment=production"), "deployment_frequency")
	if strings.HasPrefix(want, "null") || want == "not shown" {
		t.Fatalf("deployment frequency in production: %s", want)
	}
	for _, q := range []string{"&environment=prod", "&scope=environment:prod", "&environment=prod&scope=environment:production", "&environment=production&scope=environment:prod"} {
		sc := e.apiScorecard(t, base+q)
		if got := value(sc, "deployment_frequency"); got != want {
			t.Errorf("%s: deployment frequency %s, want %s", q, got, want)
		}
		if sc.Scope != "environment:production" {
			t.Errorf("%s: scope %q, want environment:production", q, sc.Scope)
		}
	}
	e.run(t, scenario{url: base + "&environment=prod&scope=environment:staging", status: 400, fields: map[string]string{"param": "scope"}})
	// The page: the alias shows the production value, not "—".
	cl := e.sessionAs(t, "executive")
	prod := pageValues(e.page(t, cl, "/?as_of="+asOf+"&environment=production", 200))["deployment_frequency"]
	if got := pageValues(e.page(t, cl, "/?as_of="+asOf+"&environment=prod", 200))["deployment_frequency"]; prod == "" || prod == "—" || got != prod {
		t.Errorf("page with environment=prod: deployment frequency %q, with production %q", got, prod)
	}
}
