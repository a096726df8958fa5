package web

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/scorecard"
)

var hrefAttr = regexp.MustCompile(`href="([^"]*)"`)

// links are a page's link targets under prefix, unescaped.
func pageLinks(page []byte, prefix string) []*url.URL {
	var out []*url.URL
	for _, m := range hrefAttr.FindAllSubmatch(page, -1) {
		h := html.UnescapeString(string(m[1]))
		if !strings.HasPrefix(h, prefix) {
			continue
		}
		u, err := url.Parse(h)
		if err != nil {
			continue
		}
		out = append(out, u)
	}
	return out
}

// page gets a page as the caller; it fails the test on another status.
func (e *env) page(t *testing.T, cl caller, path string, status int) string {
	t.Helper()
	got, body, _ := e.call(t, "GET", path, "", "", cl)
	if got != status {
		t.Fatalf("GET %s as %s: %d, want %d\n%s", path, cl.name, got, status, clip(body))
	}
	return string(body)
}

// controlsForm is the date and filter controls, whose Reset link drops
// every parameter on purpose.
var controlsForm = regexp.MustCompile(`(?s)<div class="controls-bar">.*?</form>`)

// carries checks every link under prefix, outside the controls, keeps the
// parameters.
func linksCarry(t *testing.T, what, page, prefix string, want url.Values) {
	t.Helper()
	ls := pageLinks(controlsForm.ReplaceAll([]byte(page), nil), prefix)
	if len(ls) == 0 {
		t.Errorf("%s: no link to %s", what, prefix)
	}
	for _, u := range ls {
		for k := range want {
			if got := u.Query().Get(k); got != want.Get(k) {
				t.Errorf("%s: link %s has %s=%q, want %q", what, u, k, got, want.Get(k))
			}
		}
	}
}

// The scorecard links each metric to its page with the date and the
// filters, says why each unknown metric is unknown, and shows no number
// for a metric without data.
func TestHomePage(t *testing.T) {
	e := newEnv(t, 0)
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/?as_of="+asOf+"&window=30d&team=core", 200)
	linksCarry(t, "the filtered scorecard", body, "/metrics/", url.Values{"as_of": {asOf}, "window": {"30d"}, "team": {"core"}})
	for _, want := range []string{"Change failure rate", "50 %", "team <strong>core</strong>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the filtered scorecard lacks %q", want)
		}
	}

	body = e.page(t, cl, "/?as_of="+asOf, 200)
	linksCarry(t, "the scorecard", body, "/metrics/", url.Values{"as_of": {asOf}, "window": nil})
	// No survey was ever sent: CSAT has no value, shown as none, with
	// the reason, never as 0.
	csat := regexp.MustCompile(`(?s)<li class="all-metrics__item" data-metric="csat">.*?</li>`).FindString(body)
	if !strings.Contains(csat, "—") || !strings.Contains(csat, "Unknown") || strings.Contains(csat, ">0<") {
		t.Errorf("CSAT without data reads:\n%s", csat)
	}
	if !strings.Contains(body, "no survey data: never sent") {
		t.Errorf("the scorecard does not say why CSAT is unknown")
	}
	// The DORA level opens onto the four keys' levels it is the lowest of,
	// each linking to its metric.
	keys := regexp.MustCompile(`(?s)<ul class="dora__keys".*?</ul>`).FindString(body)
	for _, id := range []string{"deployment_frequency", "lead_time_for_changes", "change_failure_rate", "failed_deployment_recovery_time"} {
		if !strings.Contains(keys, `href="/metrics/`+id+`?as_of=`+asOf+`"`) {
			t.Errorf("the DORA level's keys lack %s:\n%s", id, keys)
		}
	}
	if !strings.Contains(body, `<span class="status__word">`) || strings.Contains(body, `style=`) {
		t.Errorf("statuses without words, or an inline style")
	}
	// Every card's line says it is weekly, and its title what the figure
	// beside it covers: the two differ (the metric's window against one
	// week), and unlabelled they read as a contradiction.
	cards := regexp.MustCompile(`(?s)<li class="kpi" data-metric="[a-z_]+">.*?</li>`).FindAllString(body, -1)
	if len(cards) == 0 {
		t.Fatal("no cards on the scorecard")
	}
	for _, c := range cards {
		if !regexp.MustCompile(`<span class="kpi__spark-label" title="Each point [^"]+; the figure beside it[^"]*">weekly</span><svg`).MatchString(c) {
			t.Errorf("a card's line without its label:\n%s", c)
			break
		}
	}
	// A card's colour comes with the rule that gives it.
	cfr := regexp.MustCompile(`(?s)<li class="kpi" data-metric="change_failure_rate">.*?</li>`).FindString(body)
	if !strings.Contains(cfr, `title="Each point one week&#39;s value; the figure beside it covers 30 days">weekly</span>`) {
		t.Errorf("change failure rate's line does not say what its points cover:\n%s", cfr)
	}
	if !strings.Contains(cfr, `<span class="kpi__rule">green ≤ 5 %, amber ≤ 15 %, red above · </span>`) {
		t.Errorf("change failure rate's card does not state its thresholds:\n%s", cfr)
	}
	// Each escalation links to its metric (linksCarry above checks the
	// links keep the date).
	rows := regexp.MustCompile(`(?s)<li class="escalation">.*?</li>`).FindAllString(body, -1)
	if len(rows) == 0 {
		t.Fatal("no escalation on the scorecard: the test shows nothing of their links")
	}
	for _, r := range rows {
		if !regexp.MustCompile(`<a class="escalation__link" href="/metrics/[a-z_0-9]+\?`).MatchString(r) {
			t.Errorf("an escalation without a link to its metric:\n%s", r)
		}
	}
}

// The metric page: definition, value, trend, breakdowns by every
// dimension, DORA level and the records behind the value, every link
// carrying the date and filters.
func TestMetricPage(t *testing.T) {
	e := newEnv(t, 0)
	cl := e.sessionAs(t, "executive")
	const base = "/metrics/change_failure_rate?as_of=" + asOf + "&window=30d"
	body := e.page(t, cl, base, 200)
	for _, want := range []string{
		"Change failure rate", "version 1, effective", "Formula", "green ≤ 5 %, amber ≤ 15 %, red above",
		"Minimum sample", "5 cases", "50 %", "Unknown: too few cases (n = 4, needs 5)", "DORA level", "Last 12 weeks", "each point one week&#39;s value; the figure above covers 30 days", `class="chart chart-trend`,
		"By team", "By service", "By environment", "By tier", "Records behind the value", "VP Engineering", "4 records",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the metric page lacks %q", want)
		}
	}
	linksCarry(t, "the metric page", body, "/metrics/", url.Values{"as_of": {asOf}, "window": {"30d"}})
	linksCarry(t, "the metric page", body, "/records/", url.Values{"as_of": {asOf}, "window": {"30d"}})
	var tabs []string
	for _, u := range pageLinks([]byte(body), "/metrics/change_failure_rate") {
		if by := u.Query().Get("by"); by != "" && !slices.Contains(tabs, by) {
			tabs = append(tabs, by)
		}
	}
	if strings.Join(tabs, ",") != "team,service,environment,tier,business_unit" {
		t.Errorf("breakdown tabs %v, want every dimension", tabs)
	}
	// A breakdown line by team scopes the page with the team filter.
	if !strings.Contains(body, `href="/metrics/change_failure_rate?as_of=2026-03-31&amp;window=30d&amp;team=core"`) {
		t.Errorf("the team line does not link to the page filtered to core")
	}
	// The records, each linking to its page.
	for _, id := range []string{"d1", "d2", "d3", "d4"} {
		if !strings.Contains(body, `href="/records/deployment/import/`+id+`?as_of=2026-03-31&amp;window=30d&amp;metric=change_failure_rate"`) {
			t.Errorf("record %s is not linked", id)
		}
	}

	// Sorted newest first on the server, two at a time.
	body = e.page(t, cl, base+"&sort=-finished_at&limit=2", 200)
	if i, j := strings.Index(body, ">d4<"), strings.Index(body, ">d3<"); i < 0 || j < 0 || i > j || strings.Contains(body, ">d1<") {
		t.Errorf("sort=-finished_at&limit=2 does not list d4, d3 only")
	}
	if !strings.Contains(body, `aria-sort="descending"`) || !strings.Contains(body, "1–2 of 4") {
		t.Errorf("the sorted page does not say its order or its rows")
	}
	next := pageLinks([]byte(body), "/metrics/change_failure_rate")
	found := false
	for _, u := range next {
		q := u.Query()
		if q.Get("offset") == "2" && q.Get("limit") == "2" && q.Get("sort") == "-finished_at" && q.Get("as_of") == asOf {
			found = true
		}
	}
	if !found {
		t.Errorf("no next-page link keeping the sort, limit and date")
	}
	body = e.page(t, cl, base+"&sort=-finished_at&limit=2&offset=2", 200)
	if !strings.Contains(body, ">d2<") || !strings.Contains(body, ">d1<") || strings.Contains(body, ">d4<") {
		t.Errorf("the second page does not hold d2 and d1")
	}

	// Read "as of now", the table's paging holds the as_of the page was
	// computed at, so the next page continues the same list.
	body = e.page(t, cl, "/metrics/change_failure_rate?window=3650d&limit=1", 200)
	pinned := false
	for _, u := range pageLinks([]byte(body), "/metrics/change_failure_rate") {
		if q := u.Query(); q.Get("offset") == "1" {
			_, err := ParseTime(q.Get("as_of"))
			pinned = err == nil && q.Get("window") == "3650d"
		}
	}
	if !pinned {
		t.Errorf("the next page of a table read as of now does not hold its as_of")
	}

	// A dimension the filters do not carry is scoped by the scope
	// parameter.
	body = e.page(t, cl, base+"&scope=tier:1", 200)
	if !strings.Contains(body, `tier <strong>1</strong>`) || !strings.Contains(body, "50 %") {
		t.Errorf("the page scoped to tier 1 does not say so")
	}
	// Deployment frequency shows deployment days per week.
	body = e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf, 200)
	if !strings.Contains(body, "Deployment days") {
		t.Errorf("deployment frequency lacks deployment days per week")
	}
}

// The metric page refuses what it cannot honour, naming the parameter and
// what it could take.
func TestMetricPageBadInput(t *testing.T) {
	e := newEnv(t, 0)
	cl := e.sessionAs(t, "executive")
	const base = "/metrics/change_failure_rate?as_of=" + asOf
	for _, c := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/metrics/no_such_metric", 404, []string{"no_such_metric"}},
		{base + "&sort=bogus", 400, []string{"bogus", "finished_at", "service"}},
		{base + "&limit=0", 400, []string{"limit", "1 to 500"}},
		{base + "&limit=501", 400, []string{"limit"}},
		{base + "&offset=-1", 400, []string{"offset"}},
		{base + "&by=plan", 400, []string{"plan", "team, service, environment, tier, business_unit"}},
		{base + "&team=nosuch", 400, []string{"nosuch", "core", "growth"}},
		{base + "&scope=tier:9", 400, []string{"tier", "9", "known"}},
		{base + "&scope=team:core", 400, []string{"team", "control"}},
		// A misspelt team in the scope is named as such, with the known
		// ones, not sent on to the team control as ?team=cor.
		{base + "&scope=team:cor", 400, []string{`scope: no team "cor" in the data`, "core", "growth"}},
		{base + "&scope=nonsense", 400, []string{"DIMENSION:VALUE"}},
		{base + "&kind=lead", 400, []string{"lead", "deployment"}},
		{"/metrics/csat?as_of=" + asOf + "&environment=production", 400, []string{"cannot be filtered by environment"}},
		{base + "&windo=7d", 400, []string{"windo", "as_of, window"}},
		{base + "&by=team&by=service", 400, []string{"by", "2 times"}},
	} {
		body := e.page(t, cl, c.path, c.status)
		for _, w := range c.want {
			if !strings.Contains(html.UnescapeString(body), w) {
				t.Errorf("GET %s: the %d page lacks %q:\n%s", c.path, c.status, w, clip([]byte(body)))
			}
		}
	}
}

// A record's page shows it field by field with its provenance.
func TestRecordPage(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "x.ndjson", Reader: strings.NewReader(
		`{"kind":"change","id":"c/1","service":"api","merged_at":"2026-03-29T00:00:00Z","url":"https://git.example/pr/1"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-29T00:00:00Z","url":"javascript:alert(1)"}
`)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	cl := e.sessionAs(t, "auditor")
	body := e.page(t, cl, "/records/deployment/import/d2?as_of="+asOf, 200)
	// The header names the time it gives for what it is: the newest of the
	// record's times (an incident's resolution), not when it happened.
	for _, want := range []string{"d2", "finished_at", "2026-03-12T00:00:00Z", "failure", "Canonical sha256", "Raw input sha256", "Store sequence", "Change failure rate", "newest event 12 Mar 2026 00:"} {
		if !strings.Contains(body, want) {
			t.Errorf("the record page lacks %q", want)
		}
	}
	linksCarry(t, "the record page", body, "/metrics/", url.Values{"as_of": {asOf}})
	// An id with a slash, and its source link.
	body = e.page(t, cl, recordHref(domain.Key{Kind: domain.KindChange, Source: "import", ID: "c/1"}), 200)
	if !strings.Contains(body, `href="https://git.example/pr/1"`) {
		t.Errorf("the change's source link is missing")
	}
	// A link that is no web link is not one.
	body = e.page(t, cl, "/records/change/import/c2", 200)
	if strings.Contains(body, `href="javascript`) || !strings.Contains(body, "none in the record") {
		t.Errorf("a javascript: URL became a link")
	}
	e.page(t, cl, "/records/deployment/import/nosuch", 404)
	e.page(t, cl, "/records/nokind/import/d1", 400)
}

// A record opened from a breakdown line's records leads back to that line:
// its breadcrumb had been "Scorecard › Deployment records", and a reader who
// had come from change failure rate's team core line found neither again.
func TestRecordPageLeadsBackToItsLine(t *testing.T) {
	// engineering, here, may read records but not revenue.
	perms := []auth.Permission{auth.ScorecardRead, "view:engineering", auth.MetricRead, auth.RecordsRead}
	e := newEnvRoles(t, 0, map[string]auth.RoleOverride{"engineering": {Permissions: &perms}})
	cl := e.sessionAs(t, "executive")
	crumbs := func(page string) string {
		return regexp.MustCompile(`(?s)<nav class="crumbs" aria-label="Breadcrumb">.*?</nav>`).FindString(page)
	}
	// The team line's page links its records with the metric they are behind.
	line := e.page(t, cl, "/metrics/change_failure_rate?as_of="+asOf+"&team=core", 200)
	const rec = `/records/deployment/import/d1?as_of=2026-03-31&amp;team=core&amp;metric=change_failure_rate`
	if !strings.Contains(line, `href="`+rec+`"`) {
		t.Fatalf("the team core line's records do not link with the metric:\n%s", clip([]byte(line)))
	}
	mustContain(t, "the breadcrumb of a record opened from team core's line", crumbs(e.page(t, cl, html.UnescapeString(rec), 200)), []string{
		`<a href="/?as_of=2026-03-31&amp;team=core">Scorecard</a>`,
		`<a href="/metrics/change_failure_rate?as_of=2026-03-31&amp;by=team#breakdown">Change failure rate</a>`,
		`<a href="/metrics/change_failure_rate?as_of=2026-03-31&amp;team=core#records">team core</a>`,
		`<span>deployment records</span>`,
	})
	// A line of a dimension the filters do not carry: its scope parameter.
	tier := e.page(t, cl, "/metrics/change_failure_rate?as_of="+asOf+"&scope=tier:1", 200)
	if !strings.Contains(tier, `metric=change_failure_rate&amp;scope=tier%3A1"`) {
		t.Errorf("the tier 1 line's records do not link with the metric and scope")
	}
	mustContain(t, "the breadcrumb of a record opened from tier 1's line",
		crumbs(e.page(t, cl, "/records/deployment/import/d1?as_of="+asOf+"&metric=change_failure_rate&scope=tier:1", 200)), []string{
			`<a href="/metrics/change_failure_rate?as_of=2026-03-31&amp;by=tier#breakdown">Change failure rate</a>`,
			`<a href="/metrics/change_failure_rate?as_of=2026-03-31&amp;scope=tier%3A1#records">tier 1</a>`,
		})
	// From the metric's own page: back to its records.
	mustContain(t, "the breadcrumb of a record opened from the metric's page",
		crumbs(e.page(t, cl, "/records/deployment/import/d1?as_of="+asOf+"&metric=change_failure_rate", 200)), []string{
			`<a href="/metrics/change_failure_rate?as_of=2026-03-31#records">Change failure rate</a>`,
		})
	// A metric the reader may not see, or none, opens the record with the
	// plain breadcrumb, naming nothing.
	for _, m := range []string{"nosuch", "arr"} {
		page := e.page(t, e.sessionAs(t, "engineering"), "/records/deployment/import/d1?metric="+m, 200)
		if got := crumbs(page); strings.Contains(got, "/metrics/") || !strings.Contains(got, "<span>deployment records</span>") {
			t.Errorf("metric=%s: the breadcrumb %s", m, got)
		}
	}
}

// No page shows a revenue number to a reader without revenue:read: the
// metric page of a metric they may see hides its records' amounts and
// does not link them, a revenue metric's page and a revenue record's page
// are refused.
func TestPagesHideRevenue(t *testing.T) {
	// engineering, here, may read records (but not revenue) and see the
	// customer pillar.
	perms := []auth.Permission{auth.ScorecardRead, "view:engineering", auth.MetricRead, auth.SourcesRead, auth.RecordsRead}
	pillars := []string{"reliability", "security", "delivery", "cost", "customer"}
	e := newEnvRoles(t, 0, map[string]auth.RoleOverride{"engineering": {Permissions: &perms, Pillars: &pillars}})
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"7345.5", "7,345.5", "812.25", "2718.75", "2,718.75"}
	exec := e.sessionAs(t, "executive")
	if body := e.page(t, exec, "/metrics/logo_churn_rate?as_of="+asOf, 200); !strings.Contains(body, "812.25") {
		t.Fatalf("the executive's logo churn page lacks the churned MRR: the check below would prove nothing")
	}
	for _, role := range []string{"support", "engineering"} {
		cl := e.sessionAs(t, role)
		for _, path := range []string{"/?as_of=" + asOf, "/metrics/logo_churn_rate?as_of=" + asOf, "/metrics/logo_churn_rate?as_of=" + asOf + "&sort=-mrr",
			"/metrics/logo_churn_rate?as_of=" + asOf + "&by=plan"} {
			body := e.page(t, cl, path, 200)
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Errorf("%s sees %s on %s", role, s, path)
				}
			}
			if strings.Contains(body, "/records/subscription/") {
				t.Errorf("%s is offered a link to a subscription record on %s", role, path)
			}
		}
		if body := e.page(t, cl, "/metrics/logo_churn_rate?as_of="+asOf, 200); !strings.Contains(body, "beta") || !strings.Contains(body, "hidden") {
			t.Errorf("%s's logo churn page lacks the customers or the note that amounts are hidden", role)
		}
		e.page(t, cl, "/metrics/arr?as_of="+asOf, 403)
		// Sorting by a hidden amount must not order the rows by it.
		plain := customerOrder(e.page(t, cl, "/metrics/logo_churn_rate?as_of="+asOf, 200))
		if sorted := customerOrder(e.page(t, cl, "/metrics/logo_churn_rate?as_of="+asOf+"&sort=-mrr", 200)); sorted != plain {
			t.Errorf("%s: sorting by the hidden MRR reorders the rows: %s, unsorted %s", role, sorted, plain)
		}
	}
	if got := customerOrder(e.page(t, exec, "/metrics/logo_churn_rate?as_of="+asOf+"&sort=-mrr", 200)); got != "acme,gamma,beta" {
		t.Errorf("the executive's rows by MRR, largest first: %s", got)
	}
	eng := e.sessionAs(t, "engineering")
	if body := e.page(t, eng, "/records/subscription/import/s2", 403); !strings.Contains(body, "revenue:read") {
		t.Errorf("the refusal does not say what it needs")
	}
	e.page(t, eng, "/records/deployment/import/d1", 200)
	e.page(t, e.sessionAs(t, "support"), "/records/deployment/import/d1", 403)
}

// Every API and page GET route refuses a parameter it does not read, and
// one given twice, naming it and the ones it reads.
func TestUnknownParamsRefused(t *testing.T) {
	e := newEnv(t, 0)
	cases := routeCases(e.srv.Catalog)
	page := e.sessionAs(t, "executive", "admin")
	api := caller{name: "executive", roles: []string{"executive"}, token: e.token}
	for _, rt := range e.srv.Routes() {
		key := rt.Method + " " + rt.Pattern
		if rt.Method != "GET" || slices.Equal(routeParams[key], anyParams) {
			continue
		}
		path := cases[key].path
		if path == "" {
			path = rt.Pattern
		}
		path = strings.Replace(path, "{app.css}", e.srv.site.urls["app.css"], 1)
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		cl := page
		if rt.Kind == API {
			cl = api
		}
		status, body, _ := e.call(t, "GET", path+sep+"windo=7d", "", "", cl)
		text := html.UnescapeString(string(body))
		if status != 400 || !strings.Contains(text, `"windo"`) {
			t.Errorf("%s?windo=7d: %d, want 400 naming windo\n%s", key, status, clip(body))
		}
		if known := offeredParams(key); len(known) > 0 && !strings.Contains(text, "(known: "+strings.Join(known, ", ")+")") {
			t.Errorf("%s?windo=7d does not list the known parameters %v", key, known)
		}
		if rt.Kind == API && !strings.Contains(text, `"code": "invalid"`) || rt.Kind == API && !strings.Contains(text, `"param": "windo"`) {
			t.Errorf("%s?windo=7d: not an invalid error naming the parameter: %s", key, clip(body))
		}
		if rt.Kind == HTML && !strings.Contains(text, "That request is not valid") {
			t.Errorf("%s?windo=7d: not the 400 page", key)
		}
	}
	// The API's posts too: a misspelt skip_invalid had posted all or
	// nothing, a reconciliation's ?as_of was kept as of now.
	for key, known := range routeParams {
		path, ok := strings.CutPrefix(key, "POST ")
		if !ok {
			continue
		}
		path = strings.NewReplacer("{id}", "1").Replace(path)
		status, body, _ := e.call(t, "POST", path+"?windo=7d", "{}", "application/json", api)
		if text := string(body); status != 400 || !strings.Contains(text, `"param": "windo"`) || len(known) > 0 && !strings.Contains(text, strings.Join(known, ", ")) {
			t.Errorf("POST %s?windo=7d: %d, want 400 naming windo and %v\n%s", path, status, known, clip(body))
		}
	}
	e.run(t, scenario{method: "POST", url: "/api/v1/records?skip-invalid=true", body: `{"kind":"service","id":"x","name":"X"}`, status: 400, fields: map[string]string{"param": "skip-invalid"}})
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&as_of=2026-01-01", status: 400, fields: map[string]string{"param": "as_of"}})
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf + "&window=7d", status: 200})
}

// Every GET route of the table states the query parameters it reads.
func TestEveryGETRouteDeclaresParams(t *testing.T) {
	e := newEnv(t, 0)
	for _, rt := range e.srv.Routes() {
		key := rt.Method + " " + rt.Pattern
		if _, ok := routeParams[key]; (rt.Method == "GET" || rt.Method == "POST" && rt.Kind == API && strings.HasPrefix(rt.Pattern, "/api/")) && !ok {
			t.Errorf("route %s has no entry in routeParams: list the query parameters it reads", key)
		}
	}
	for key := range routeParams {
		if _, ok := e.srv.route(key); !ok {
			t.Errorf("routeParams has %s, which is not in the route table", key)
		}
	}
}

// customerOrder is the order the customers of the seed's subscriptions
// appear in a page's records table.
func customerOrder(page string) string {
	table := page[strings.Index(page, `id="records"`):]
	type at struct {
		name string
		i    int
	}
	var found []at
	for _, c := range []string{"acme", "beta", "gamma"} {
		if i := strings.Index(table, ">"+c+"<"); i >= 0 {
			found = append(found, at{c, i})
		}
	}
	slices.SortFunc(found, func(a, b at) int { return a.i - b.i })
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.name
	}
	return strings.Join(names, ",")
}

// A card with no trend says why: no value in one of the windows, or a
// computation changed between them (scorecard.Trend.NotComparable).
func TestTrendViewSaysWhyThereIsNone(t *testing.T) {
	prev := 1.0
	for _, c := range []struct {
		trend       scorecard.Trend
		word, label string
	}{
		{scorecard.Trend{}, "no trend", "No trend: no value for this or the previous window"},
		{scorecard.Trend{NotComparable: "the computation changed since the window before"}, "no trend", "No trend: the computation changed since the window before"},
		{scorecard.Trend{Previous: &prev, Direction: "up", Assessment: "better"}, "better", "Better vs the previous window (up)"},
		// Where the scorecard gives the reason in a few words, everyone
		// sees them, not only a title's reader.
		{scorecard.Trend{NotComparable: "too few cases in this window (n = 2, needs 5)", Short: "too few cases"}, "no trend: too few cases", "No trend: too few cases in this window (n = 2, needs 5)"},
	} {
		if v := trendView(c.trend); v.Word != c.word || v.Label != c.label {
			t.Errorf("trendView(%+v) = %+v, want %q, %q", c.trend, v, c.word, c.label)
		}
	}
	// A screen reader hears the direction and the reason too: the arrow is
	// hidden from it and a title reaches neither it nor a keyboard.
	if v := trendView(scorecard.Trend{Previous: &prev, Direction: "down", Assessment: "worse"}); v.Hidden != " (falling)" {
		t.Errorf("hidden words of a falling trend: %q", v.Hidden)
	}
	e := newEnv(t, 0)
	page := e.get200(t, "/?as_of="+asOf)
	if !strings.Contains(page, `<span class="visually-hidden"> (`) && !strings.Contains(page, `<span class="visually-hidden">: `) {
		t.Errorf("the scorecard's trends say nothing beyond their word to a screen reader")
	}
	// The seed holds no data before its last 30 days.
	if !strings.Contains(page, "</span> no trend: no value before<span") {
		t.Errorf("the scorecard's cards do not say in words why they have no trend")
	}
}

// costToMarch is cost reported from 1 January to 31 March 2026 00:00 UTC.
const costToMarch = `{"kind":"cost","id":"feb","period_start":"2026-01-01T00:00:00Z","period_end":"2026-03-01T00:00:00Z","amount":5900}
{"kind":"cost","id":"mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3000}
`

// A window ending after the newest cost says how far the cost is
// reported, and its trend and last week say they hold only what is
// reported (known problem: "values drift by the minute with no new data").
func TestMetricPageSaysWhatIsNotReportedYet(t *testing.T) {
	e := newEnv(t, 0)
	// From 1 January: the window before is covered from its start (a
	// window before whose cost began inside it is not compared at all).
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: costToMarch, status: 200})
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/metrics/infrastructure_cost?as_of=2026-03-31T09:17:00Z", 200)
	for _, want := range []string{
		"<dt>Reported</dt><dd>cost data to 31 Mar 2026 00:00 UTC: the window's last 9 h 17 min are not reported yet</dd>",
		"in the 30 days before, a whole window against this one's cost reported so far",
		"The week ending 31 Mar is partial: its cost data reaches 31 Mar 00:00 UTC, 9 h 17 min short of its end",
		"partial: cost data to 31 Mar 00:00 UTC",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The scorecard's card says it too: its trend had read "better" beside
	// a window short of its last hours, with nothing to say why. (A
	// budget judges it, over it: the card is shown.)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: `{"kind":"budget","id":"q1","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":7000}`, status: 200})
	home := e.page(t, cl, "/?as_of=2026-03-31T09:17:00Z", 200)
	if want := "Cost data to 31 Mar 2026 00:00 UTC: the window's last 9 h 17 min are not reported yet, and the trend compares a whole window with the part reported."; !strings.Contains(home, want) {
		t.Errorf("the scorecard lacks %q", want)
	}
	// At the data's end nothing is partial.
	body = e.page(t, cl, "/metrics/infrastructure_cost?as_of=2026-03-31T00:00:00Z", 200)
	if strings.Contains(body, "<dt>Reported</dt>") || strings.Contains(body, "is partial") {
		t.Errorf("the page at the data's end says it is partial")
	}
	// Compared, the trend names the period it compares with.
	if !regexp.MustCompile(`vs [0-9,.]+ USD in the 30 days before`).MatchString(body) {
		t.Errorf("the trend does not name the period it compares:\n%s", regexp.MustCompile(`(?s)<p class="value-card__trend">.*?</p>`).FindString(body))
	}
}

// A metric judged by another says whose status it shows, and sends the
// owner's action to that metric, which is the one that escalates: the
// page had said "Amber" beside "Target none set" with no reason, and
// offered a form for an action nothing would read.
func TestJudgedMetricPage(t *testing.T) {
	e := newEnv(t, 0)
	const data = `{"kind":"cost","id":"mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3300}
{"kind":"budget","id":"b","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3000}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: data, status: 200})
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/metrics/infrastructure_cost?as_of=2026-03-31", 200)
	mustContain(t, "infrastructure cost's page", body, []string{
		`the status is <a href="/metrics/budget_variance?as_of=2026-03-31">Budget variance</a>'s, which judges this value; it has no target of its own.`,
		`Its status is <a href="/metrics/budget_variance?as_of=2026-03-31#action">Budget variance</a>'s: the owner's action is recorded there`,
	}, `action="/metrics/infrastructure_cost/acknowledgements`)
	// Budget variance itself takes the action.
	mustContain(t, "budget variance's page", e.page(t, cl, "/metrics/budget_variance?as_of=2026-03-31", 200), []string{`action="/metrics/budget_variance/acknowledgements`})
}

// A breakdown line of a metric judged by another that has no value for the
// line's group (infrastructure cost by team: budget variance has no budget
// per team) is not judged, as a line without a target of its own, and the
// page names the metric that judges it: each line had worn unknown's chip,
// as if its costs were missing. The API keeps unknown.
func TestJudgedMetricLinesNotJudged(t *testing.T) {
	e := newEnv(t, 0)
	const data = `{"kind":"cost","id":"mar","service":"api","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3300}
{"kind":"budget","id":"b","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","amount":3000}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: data, status: 200})
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/metrics/infrastructure_cost?as_of=2026-03-31&by=team", 200)
	i := strings.Index(body, `id="breakdown"`)
	panel := body[i : i+strings.Index(body[i:], "</section>")]
	row := regexp.MustCompile(`(?s)<tr><td><a [^>]*>core</a></td>.*?</tr>`).FindString(panel)
	mustContain(t, "team core's line", row, []string{`<span class="status status--unjudged">`, `<span class="status__word">Not judged</span>`}, "status--unknown", ">Unknown<")
	mustContain(t, "the breakdown", panel, []string{"judged by budget_variance, which has no value per team", `<g class="bar st-unjudged">`})
	_, b, _ := e.call(t, "GET", "/api/v1/metrics/infrastructure_cost?by=team&as_of=2026-03-31", "", "", cl)
	if !regexp.MustCompile(`"key":\s*"core",\s*"value":\s*3300,\s*"status":\s*"unknown"`).Match(b) {
		t.Errorf("the API's core line is not unknown:\n%s", clip(b))
	}
}

// A deployment counted as failed names the records that made it fail, and
// an incident the deployment it counts against, each linked with the
// page's time carried: a failure on change failure rate had no trace to
// its cause on either page.
func TestRecordPageLinksFailureAndCause(t *testing.T) {
	e := newEnv(t, 0)
	const data = `{"kind":"deployment","id":"rel-7","service":"api","environment":"production","started_at":"2026-03-20T09:50:00Z","finished_at":"2026-03-20T10:00:00Z","status":"success"}
{"kind":"incident","id":"INC-9","service":"api","severity":"P2","opened_at":"2026-03-20T11:00:00Z"}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: data, status: 200})
	cl := e.sessionAs(t, "auditor")
	dep := e.page(t, cl, "/records/deployment/import/rel-7?as_of=2026-03-21", 200)
	mustContain(t, "the deployment's page", dep, []string{
		"<strong>Counted as failed</strong> as of 21 Mar 2026 00:00 UTC: caused an incident.",
		`incident <a href="/records/incident/import/INC-9?as_of=2026-03-21">INC-9</a> <span class="muted">— inferred: about its service, opened within 1 day after it finished and before the service&#39;s next deployment, naming no cause</span>`,
	})
	// Before the incident opened, it had not failed.
	mustContain(t, "the deployment's page before the incident", e.page(t, cl, "/records/deployment/import/rel-7?as_of=2026-03-20T10:30:00Z", 200),
		[]string{"Not failed as of 20 Mar 2026 10:30 UTC"}, "Counted as failed")
	inc := e.page(t, cl, "/records/incident/import/INC-9?as_of=2026-03-21", 200)
	mustContain(t, "the incident's page", inc, []string{
		"to the deployment it counts against in change failure rate:",
		`deployment <a href="/records/deployment/import/rel-7?as_of=2026-03-21">rel-7</a> <span class="muted">— inferred: the service&#39;s production deployment that finished last within 1 day before it opened</span>`,
	})
}

// A target from the organisation's target records is named as such in
// the definition, where the panel had said "none in the catalog" beside a
// value card showing the target.
func TestMetricPageTargetFromRecords(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"target","id":"tg-mrr","metric":"mrr","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":12000}`})
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := e.get200(t, "/metrics/mrr?as_of="+asOf)
	def := html.UnescapeString(regexp.MustCompile(`(?s)<section class="panel" id="definition".*?</section>`).FindString(page))
	if !strings.Contains(def, "12,000 USD") || !strings.Contains(def, "from the organisation's target records, not the catalog: the one in force at the page's time") || strings.Contains(def, "none set") {
		t.Errorf("the definition does not give the target from the records:\n%s", def)
	}
	// The 12-week chart draws the March target from March on, not back
	// through the weeks of February and January.
	if !strings.Contains(page, "Target 12,000 USD from 1 Mar 2026.") {
		t.Errorf("the trend chart does not say the target holds from 1 March:\n%s", regexp.MustCompile(`(?s)<svg[^>]*chart-trend.*?</svg>`).FindString(page))
	}
	// At a window of another length the card's target is the records
	// overlapping it, prorated: said so, not given as the organisation's
	// record target.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"target","id":"tg-new","metric":"mrr_new","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":3100}`})
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	page = e.get200(t, "/metrics/mrr_new?window=7d&as_of="+asOf)
	def = html.UnescapeString(regexp.MustCompile(`(?s)<section class="panel" id="definition".*?</section>`).FindString(page))
	if !strings.Contains(def, "700 USD <span class=\"muted\">from the organisation's target records, not the catalog: those overlapping this window, prorated into it by their days in it") {
		t.Errorf("a 7-day window's target is not said to be prorated:\n%s", def)
	}
	// At the metric's own window too: a month's plan of 3,100 is not the
	// 30-day target a reader sees, and the page says why.
	page = e.get200(t, "/metrics/mrr_new?as_of="+asOf)
	def = html.UnescapeString(regexp.MustCompile(`(?s)<section class="panel" id="definition".*?</section>`).FindString(page))
	if !strings.Contains(def, "from the organisation's target records, not the catalog: those overlapping this window, prorated into it by their days in it") {
		t.Errorf("a sum's target at its own window is not said to be prorated:\n%s", def)
	}
}

// In a scope, a target from target records is the scope's own records'
// (SPEC §1: a target record may name a team or service), and the
// definition says whose, where it had named the organisation's.
func TestMetricPageTargetFromScopeRecords(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"target","id":"tg-ris-core","metric":"release_impact_score","scope":"team:core","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":12}`})
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := e.get200(t, "/metrics/release_impact_score?team=core&as_of="+asOf)
	def := html.UnescapeString(regexp.MustCompile(`(?s)<section class="panel" id="definition".*?</section>`).FindString(page))
	if !strings.Contains(def, "from the target records of team core, not the catalog") {
		t.Errorf("a team's target is not said to be the team's:\n%s", def)
	}
}

// A window other than the definition's says that the thresholds of a
// metric summing over it were scaled, and the card judged by them.
func TestPagesSayThresholdsWereScaled(t *testing.T) {
	e := newEnv(t, 0)
	page := e.get200(t, "/metrics/incidents_p0_p1?as_of="+asOf+"&window=365d")
	if !strings.Contains(page, "green ≤ 0, amber ≤ 24.33, red above (set for 30 days, scaled to the window)") {
		t.Errorf("the metric page does not give the scaled thresholds:\n%s", regexp.MustCompile(`(?s)<dt>Thresholds</dt>.*?</dd>`).FindString(page))
	}
	page = e.get200(t, "/metrics/incidents_p0_p1?as_of="+asOf)
	if strings.Contains(page, "scaled") {
		t.Errorf("the definition's own window says its thresholds were scaled")
	}
	// Its weekly chart draws them for a week, and says so.
	if !strings.Contains(page, "Green ≤ 0 a week, amber ≤ 0.47 a week") {
		t.Errorf("the weekly chart does not draw the bands for a week:\n%s", regexp.MustCompile(`(?s)<desc>.*?</desc>`).FindString(page))
	}
	if api := e.get200(t, "/api/v1/metrics/incidents_p0_p1?as_of="+asOf+"&window=365d"); !strings.Contains(api, `"scaled_from": "30d"`) {
		t.Errorf("the API does not say the thresholds were scaled from 30d")
	}
}

// Every link of the menu works from a page with every filter set: the menu
// carries to each page the filters it reads, and no other (the filtered
// scorecard's links to /alerts, /proposals, /shares and /admin had been
// 400s naming window).
func TestMenuFromAFilteredPage(t *testing.T) {
	e := newEnv(t, 0)
	cl := e.sessionAs(t, "executive", "admin")
	page := e.page(t, cl, "/?as_of="+asOf+"&window=90d&team=core&environment=production", 200)
	nav := regexp.MustCompile(`(?s)<nav class="site-nav".*?</nav>`).FindString(page)
	links := pageLinks([]byte(nav), "/")
	if len(links) < 5 {
		t.Fatalf("the menu has %d links", len(links))
	}
	carried := false
	for _, u := range links {
		e.page(t, cl, u.String(), 200)
		carried = carried || u.Query().Get("window") == "90d"
	}
	if !carried {
		t.Errorf("no menu link carries the window")
	}
}

// An unknown metric's page suggests the metric meant: a misspelling's
// nearest, or the one whose id it begins ("lead_time").
func TestUnknownMetricPageSuggests(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")
	for path, want := range map[string]string{
		"/metrics/lead_time":           "did you mean lead_time_for_changes?",
		"/metrics/chnage_failure_rate": "did you mean change_failure_rate?",
		// By the metric's name: mttr is "Time to restore (median)".
		"/metrics/time_to_restore":        "did you mean mttr?",
		"/metrics/Deployment%20frequency": "did you mean deployment_frequency?",
	} {
		if page := html.UnescapeString(e.page(t, exec, path, 404)); !strings.Contains(page, want) {
			t.Errorf("%s does not suggest %q", path, want)
		}
	}
	if page := e.page(t, exec, "/metrics/zzz", 404); strings.Contains(page, "did you mean") {
		t.Error("/metrics/zzz suggests a metric")
	}
}

// A metric summing subscriptions' changes over a window none fell in says
// so beside its value (a state kind is never judged stale by its records'
// times, SPEC §4), where new MRR read "0 USD" red with nothing said.
func TestMetricPageSaysNoStateChangeInTheWindow(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"subscription","id":"sq1","customer":"acme","plan":"pro","mrr":100,"started_at":"2026-03-02T00:00:00Z"}`})
	// A target makes new MRR's 0 red, a card on the scorecard.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"target","id":"tg-new","metric":"mrr_new","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":3100}`})
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(e.get200(t, "/metrics/mrr_new?window=7d&as_of="+asOf))
	if !strings.Contains(page, "no subscription record changed in the window: the newest change is from ") {
		t.Errorf("the page does not say no subscription changed in the window")
	}
	if page := html.UnescapeString(e.get200(t, "/metrics/mrr_new?window=30d&as_of="+asOf)); strings.Contains(page, "no subscription record changed") {
		t.Errorf("a window holding the change says none did")
	}
	// The scorecard's card says it too: new MRR's red 0 is where an
	// executive sees it first.
	home := html.UnescapeString(e.get200(t, "/?window=7d&as_of="+asOf))
	if i := strings.Index(home, `data-metric="mrr_new"`); i < 0 || !strings.Contains(home[i:], "No subscription record changed in the window: the newest change is from 2 Mar 2026 00:00 UTC.") {
		t.Errorf("the scorecard's new MRR card does not say no subscription changed in the window")
	}
	if home := html.UnescapeString(e.get200(t, "/?window=30d&as_of="+asOf)); strings.Contains(home, "No subscription record changed") {
		t.Errorf("the scorecard says no subscription changed in a window holding the change")
	}
}

// A quota metric's trend breaks its line at a new quota period, on the
// metric's page: the value starts again there, and a joined line had
// drawn the quarter's first week as a fall.
func TestQuotaTrendBreaksAtANewPeriod(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"quota","id":"qa1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"quota","id":"qa2","owner":"ann","period_start":"2026-04-01T00:00:00Z","period_end":"2026-07-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"oa1","owner":"ann","stage":"won","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-01T00:00:00Z","close_date":"2026-03-20","closed_at":"2026-03-20T00:00:00Z","won":true,"amount":800}
{"kind":"opportunity","id":"oa2","owner":"ann","stage":"won","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-01T00:00:00Z","close_date":"2026-04-10","closed_at":"2026-04-10T00:00:00Z","won":true,"amount":100}`})
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := e.get200(t, "/metrics/quota_attainment?as_of=2026-04-22")
	broken := false
	for _, d := range regexp.MustCompile(`class="line" d="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		broken = broken || strings.Count(d[1], "M") == 2
	}
	if !broken {
		t.Error("quota attainment's trend is not broken at the second quarter's first week")
	}
}

// A share's breakdown bars say how many cases each line is of, on the
// metric page and in a role view: the VP Marketing view's campaigns had
// read "0 % · not judged" with nothing to tell 0 of 2 leads from 0 of 200.
// A count's bars (deployments by team) are their own n and say none.
func TestBreakdownBarsSayTheirCases(t *testing.T) {
	now := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	var deals strings.Builder
	for i, d := range []struct {
		owner string
		won   bool
	}{{"ann", true}, {"ann", false}, {"ann", false}, {"ann", true}, {"ann", false}, {"ann", false}, {"bob", false}, {"bob", false}, {"bob", false}, {"bob", false}, {"bob", false}} {
		fmt.Fprintf(&deals, `{"kind":"opportunity","id":"d%d","owner":%q,"stage":"closed","created_at":"2026-04-01T00:00:00Z","qualified_at":"2026-04-02T00:00:00Z","closed_at":"2026-05-0%dT12:00:00Z","won":%t,"amount":100}`+"\n", i, d.owner, 1+i%9, d.won)
	}
	if code, body, _ := e.do(t, "POST", "/api/v1/records", deals.String(), nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	for path, want := range map[string][]string{
		"/metrics/win_rate?by=owner": {">33.33 % · n = 6 · green<", ">0 % · n = 5 · red<"},
		"/views/vp_sales":            {">33.33 % · n = 6 · green<", ">0 % · n = 5 · red<"},
	} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		for _, w := range want {
			if code != 200 || !strings.Contains(string(body), w) {
				t.Errorf("GET %s: %d, no bar says %q\n%s", path, code, w, clip(body))
			}
		}
	}
	if code, body, _ := e.do(t, "GET", "/metrics/deployment_frequency?by=team", "", nil); code != 200 || strings.Contains(string(body), "· n = ") {
		t.Errorf("deployment frequency by team: %d, a count's bar says its cases", code)
	}
}

// The weekly chart of a metric whose weeks rest on too few cases says how
// many do, under the chart on the metric page and in a role view, and draws
// them grey: CAC's weekly points had swung from ~10,000 to ~43,000 USD
// around their 30-day value with nothing to say they were two or three
// customers each.
func TestFewCaseWeeksSaySo(t *testing.T) {
	now := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	var deals strings.Builder
	for i, closed := range []string{"2026-04-30", "2026-04-30", "2026-04-30", "2026-04-30", "2026-04-30", "2026-04-30", "2026-05-05", "2026-05-05", "2026-05-05"} {
		fmt.Fprintf(&deals, `{"kind":"opportunity","id":"f%d","owner":"ann","stage":"closed","created_at":"2026-04-01T00:00:00Z","qualified_at":"2026-04-02T00:00:00Z","closed_at":"%sT12:00:00Z","won":%t,"amount":100}`+"\n", i, closed, i%2 == 0)
	}
	if code, body, _ := e.do(t, "POST", "/api/v1/records", deals.String(), nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	want := "Grey points: 1 week of 12 rest on too few cases to judge."
	for _, path := range []string{"/metrics/win_rate", "/views/vp_sales"} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		if code != 200 || !strings.Contains(string(body), want) || !strings.Contains(string(body), `class="point few"`) {
			t.Errorf("GET %s: %d, does not say or draw the week resting on too few cases\n%s", path, code, clip(body))
		}
	}
}

// A week computed otherwise than the one before (an approved change of the
// computation) breaks the weekly chart's line there and the note under it
// says why: the chart had jumped (241 → 334 ms, a mean become a p90) with
// nothing to tell the change of computation from a move of the metric.
func TestRecomputedWeekBreaksTheLine(t *testing.T) {
	end := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	c := scorecard.Card{Name: "Major incident recovery"}
	for k := range 12 {
		v := 241.0
		p := scorecard.Point{End: end.AddDate(0, 0, 7*(k-11)), Value: &v, Count: 20}
		if k >= 9 {
			*p.Value = 334
		}
		if k == 9 {
			p.Recomputed, p.NotComparable = true, "the computation changed since the window before"
		}
		c.Series = append(c.Series, p)
	}
	pts := seriesPoints(c)
	for i, p := range pts {
		if p.Break != (i == 9) {
			t.Errorf("point %d: break %v", i, p.Break)
		}
	}
	if got, want := fewWeeksNote(c), "The line starts again at the week to 15 Nov 2026: the computation changed since the window before."; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
}

// TestMetricPageTellsACloseTrendApart: a trend between two values that
// read alike at the unit's precision writes them with more decimals and
// says the move is finer than the figure ("↑ better vs 99.86 %" had stood
// beside a headline of 99.86 %).
func TestMetricPageTellsACloseTrendApart(t *testing.T) {
	e := newEnv(t, 0)
	// Latency compliance over the 30 days to as_of: 99.864 % now, 99.861 %
	// in the 30 days before.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"sli","id":"l1","service":"api","objective":"latency","period_start":"2026-03-20T00:00:00Z","period_end":"2026-03-20T12:00:00Z","good":99864,"total":100000}
{"kind":"sli","id":"l0","service":"api","objective":"latency","period_start":"2026-02-20T00:00:00Z","period_end":"2026-02-20T12:00:00Z","good":99861,"total":100000}
`})
	body := html.UnescapeString(e.page(t, e.sessionAs(t, "executive"), "/metrics/latency_compliance?as_of="+asOf, 200))
	if !strings.Contains(body, "99.86 %") || !strings.Contains(body, "vs 99.861 % in the 30 days before (now 99.864 %: a move finer than the figure above shows)") {
		i := strings.Index(body, "value-card__trend")
		t.Errorf("the trend does not tell 99.864 from 99.861:\n%s", body[max(0, i):min(len(body), i+600)])
	}
}
