package web

import (
	"context"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/scorecard"
)

// mustContain checks a page holds every string, and none of the others.
func mustContain(t *testing.T, what, page string, want []string, not ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
	for _, n := range not {
		if strings.Contains(page, n) {
			t.Errorf("%s holds %q", what, n)
		}
	}
}

func TestRoleViewPage(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")

	ceo := e.page(t, exec, "/views/ceo?as_of="+asOf, 200)
	mustContain(t, "the CEO view", ceo, []string{
		"<h1 class=\"page-title\">CEO</h1>", "Pillar health", "Delivery &amp; Execution", "Change failure rate",
		// Every number links to its metric page with the page's date.
		`href="/metrics/change_failure_rate?as_of=2026-03-31"`, `>50 %</a>`,
		// The switcher lists every view an executive may open, this one current.
		`class="rv-switcher__link is-current" href="/views/ceo?as_of=2026-03-31" aria-current="page">CEO</a>`,
		`href="/views/support?as_of=2026-03-31"`,
		// A trend chart of the weekly series, drawn for a phone too, and
		// what its points and the figure above it cover.
		"chart-trend", `width="360"`,
		`<p class="rv-metric__note">Each point one week&#39;s value; the figure above covers 30 days.`,
	}, "Not shown to you")

	eng := e.page(t, exec, "/views/engineering?as_of="+asOf+"&window=30d", 200)
	mustContain(t, "the engineering view", eng, []string{
		"By service", "chart-bars",
		// A breakdown line links to the metric scoped to it, the window kept.
		`href="/metrics/change_failure_rate?as_of=2026-03-31&amp;window=30d&amp;service=api"`,
		// Lines unknown for one reason say it once (every line's case is
		// TestSharedReason's; rollback rate's one line by environment, which
		// had shown it here, is by service since).
		"1 of 2 lines: no deployment data for service web at or before 2026-03-31T00:00:00Z.",
	})

	// Filters do not apply to a role view: the page says so, and its
	// links do not carry them.
	filtered := e.page(t, exec, "/views/engineering?as_of="+asOf+"&team=core", 200)
	mustContain(t, "a filtered role view", filtered, []string{"the team filter <strong>core</strong> does not apply here", `href="/?as_of=2026-03-31"`},
		`href="/?as_of=2026-03-31&amp;team=core"`, `/metrics/change_failure_rate?as_of=2026-03-31&amp;team=core`, `name="team"`)
	// A misspelt team is refused naming the known ones, as the scorecard
	// refuses it, rather than said not to apply as though it existed.
	mustContain(t, "a role view filtered by an unknown team", e.page(t, exec, "/views/engineering?as_of="+asOf+"&team=cor", 400),
		[]string{"team: no team &#34;cor&#34; in the data", "core"}, "does not apply here")

	// One address per view.
	status, _, hdr := e.call(t, "GET", "/views/VP%20Sales?as_of="+asOf, "", "", exec)
	if status != 301 || hdr.Get("Location") != "/views/vp_sales?as_of=2026-03-31" {
		t.Errorf("/views/VP Sales = %d → %q, want 301 to /views/vp_sales", status, hdr.Get("Location"))
	}
	// Three weeks after the data, the figures are stale: greyed as on the
	// scorecard, where they had stood in full ink under "Unknown".
	stale := e.page(t, exec, "/views/ceo?as_of=2026-04-21", 200)
	mustContain(t, "the CEO view after the data", stale, []string{
		`class="rv-metric__value rv-metric__value--stale" href="/metrics/change_failure_rate?as_of=2026-04-21"`,
		`rv-fig__value rv-fig__value--unknown`,
	})
	// Why there is no trend, with its times as the pages write them (the
	// card's title, the metric page's line): it had read
	// "no deployment data since 2026-03-…T…Z" beside the card's "… UTC".
	for _, page := range []string{stale, e.page(t, exec, "/metrics/change_failure_rate?as_of=2026-04-21", 200)} {
		whys := regexp.MustCompile(`not compared on stale data: [^<"]*`).FindAllString(page, -1)
		if len(whys) == 0 {
			t.Fatal("no stale trend's reason on the page")
		}
		for _, why := range whys {
			if regexp.MustCompile(`\dT\d\d:\d\d`).MatchString(why) || !strings.Contains(why, " UTC") {
				t.Errorf("a trend's reason with a raw time: %q", why)
			}
		}
	}
	// Fresh data, but 4 cases where change failure rate needs 5: shown,
	// not judged, so greyed as a stale value is; a judged panel is not.
	mustContain(t, "the CEO view with fresh data", ceo, []string{`class="rv-metric__value rv-metric__value--stale" href="/metrics/change_failure_rate?as_of=2026-03-31"`, `class="rv-metric__value" href="`})
	mustContain(t, "an unknown view", e.page(t, exec, "/views/cfo", 404), []string{"There is no role view", "cfo", "vp_marketing"})
	mustContain(t, "a bad as_of", e.page(t, exec, "/views/ceo?as_of=soon", 400), []string{"as_of"})

	// A reader with one view gets no switcher, and no other view.
	engineer := e.sessionAs(t, "engineering")
	mustContain(t, "engineering's own view", e.page(t, engineer, "/views/engineering?as_of="+asOf, 200), []string{"Deployment frequency"}, "rv-switcher")
	e.page(t, engineer, "/views/ceo", 403)

	// The CRO's sections: quota pace against the elapsed share, the open
	// pipeline by stage with the oldest opportunity's record.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-03-01T00:00:00Z","period_end":"2026-05-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"w1","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":400,"stage":"closed_won","owner":"ann","closed_at":"2026-03-20T00:00:00Z","won":true}
{"kind":"opportunity","id":"o1","created_at":"2026-03-21T00:00:00Z","amount":100,"stage":"proposal","owner":"ann"}
{"kind":"opportunity","id":"o2","created_at":"2026-03-30T12:00:00Z","amount":30,"stage":"prospecting","owner":"ann"}
`})
	cro := e.page(t, exec, "/views/cro?as_of="+asOf, 200)
	// At the period's first instant there is no pace, and no "On pace"
	// under the unknown status; the deal won since is not open pipeline
	// under the stage it closed at.
	mustContain(t, "the CRO view at the period's start", e.page(t, exec, "/views/cro?as_of=2026-03-01", 200),
		[]string{"The period starts now: there is no pace to judge yet.", "closed since (stage then not recorded)"}, "On pace", "closed_won")

	mustContain(t, "the CRO view", cro, []string{
		"Quota pace", ">40 %</a>", "of the quota won", "chart-bullet",
		// What the pace is, against what, said once.
		"<strong>9.18 points behind pace</strong>: 49.18 % of the period has gone, and pace is that share of the quota.",
		"Won <a href=\"/metrics/quota_attainment?as_of=2026-03-31\">400 USD</a> of a <a href=\"/metrics/quota_attainment?as_of=2026-03-31\">1,000 USD</a> quota · 1 Mar 2026 – 30 Apr 2026",
		"Open pipeline by stage", "2 open opportunities", "130 USD", "prospecting", "proposal",
		// Which of it coverage counts: none is qualified.
		"Pipeline coverage counts the qualified ones closing by 30 Apr 2026: 0 opportunities, 0 USD, over the 600 USD of quota left, 0×.",
		`href="/records/opportunity/import/o1"`,
		// Without pipeline_stages the page says how it ordered the stages.
		"Stages by median age, youngest first: set pipeline_stages (docs/configuration.md) to list them in your funnel&#39;s order.",
	})
	// The panel as a reader sees it (not the chart's description for screen readers) gives each
	// figure once: it had read "40 % of 100 % (40.0 %)" and "pace 49.2 %" under the chart too.
	i := strings.Index(cro, `id="sec-quota"`)
	quota := cro[i : i+strings.Index(cro[i:], "</section>")]
	quota = regexp.MustCompile(`(?s)<title>.*?</title>|<desc>.*?</desc>`).ReplaceAllString(quota, "")
	for fig, n := range map[string]int{"40 %": 1, "40.0 %": 0, "49.18 %": 1, "49.2 %": 0, "of 100 %": 0, ">pace<": 1, ">quota<": 1} {
		if got := strings.Count(quota, fig); got != n {
			t.Errorf("the quota pace panel says %q %d times, want %d:\n%s", fig, got, n, quota)
		}
	}
}

// The panels' charts fit the data: the lead funnel for a conversion whose
// detail counts the leads reaching each stage, a trend line otherwise.
func TestRoleMetricCharts(t *testing.T) {
	e := newEnv(t, 0)
	v := 5.0
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	funnel := scorecard.Card{ID: "funnel_conversion", Name: "Funnel conversion", Unit: "%", Value: &v, Status: catalog.Amber,
		Detail: metrics.Detail{Reached: map[string]int{"lead": 200, "mql": 80, "sql": 30, "opportunity": 12, "won": 4},
			CohortStart: ptr(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)), CohortEnd: ptr(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
			MaturationLagDays: ptr(90.0)}}
	m := e.srv.roleMetric(scorecard.ViewMetric{Card: funnel}, Query{AsOf: asOf}, "USD", nil)
	mustContain(t, "the funnel panel", string(m.Chart), []string{"chart-funnel", "Leads", "200", "Won"}, "chart-trend")
	if m.Note != "Leads created 1 Dec 2025 – 31 Dec 2025, each followed for 90 days." {
		t.Errorf("funnel note %q", m.Note)
	}
	arr := scorecard.Card{ID: "arr", Name: "ARR", Unit: "currency", Value: &v, Series: []scorecard.Point{{End: end, Value: &v}}}
	m = e.srv.roleMetric(scorecard.ViewMetric{Card: arr, By: "plan", Breakdown: []scorecard.BreakdownLine{{Key: "pro plan", Value: &v, Status: catalog.Green}}}, Query{AsOf: asOf, Window: "90d"}, "USD", nil)
	mustContain(t, "the ARR panel", string(m.Chart), []string{"chart-trend"}, "chart-funnel")
	mustContain(t, "the ARR breakdown", string(m.Bars), []string{"chart-bars", "pro plan", "5 USD · green"})
	if len(m.Lines) != 1 || m.Lines[0].URL != "/metrics/arr?as_of=2026-03-31&window=90d&scope=plan%3Apro+plan" || m.Wide {
		t.Errorf("breakdown lines %+v (wide %v)", m.Lines, m.Wide)
	}

	// A line short of cases draws no bar (it had been the longest, grey), but says its value and
	// why; a line without a value says why too. On the role view and the metric page alike.
	cfr := scorecard.Card{ID: "change_failure_rate", Name: "Change failure rate", Unit: "%", Value: &v, Status: catalog.Red}
	short := catalog.Metric{MinSample: 5}
	lines := []scorecard.BreakdownLine{{Key: "api", Value: ptr(20.0), Status: catalog.Red, Count: 40},
		{Key: "billing", Value: ptr(100.0), Status: catalog.Unknown, Reason: short.TooFew(2), Count: 2, Needs: 5},
		{Key: "search", Value: ptr(10.0), Status: catalog.Green, Count: 30},
		{Key: "ledger", Status: catalog.Unknown, Reason: short.TooFew(0), Needs: 5}}
	m = e.srv.roleMetric(scorecard.ViewMetric{Card: cfr, By: "service", Breakdown: lines}, Query{AsOf: asOf}, "USD", nil)
	d := &scorecard.MetricDetail{Card: cfr, By: "service", Breakdown: lines}
	panel := e.srv.newBreakdownPanel(d, func(scorecard.BreakdownLine) string { return "" })
	for name, svg := range map[string]template.HTML{"role view": m.Bars, "role view, phone": m.BarsP, "metric page": panel.Bars, "metric page, phone": panel.BarsNarrow} {
		mustContain(t, name+"'s bars", string(svg), []string{"100 % · unknown: too few cases (n = 2, needs 5)", "unknown: too few cases (n = 0, needs 5)"}, "100 % · unknown<")
		if n := strings.Count(string(svg), "<rect"); n != 2 {
			t.Errorf("%s draws %d bars, want 2: none for the lines short of cases", name, n)
		}
	}
}

// Pipeline coverage of 98.1× is real: an owner with 1 % of the quota left. The view says what
// the lines divide by and names those with little left; each line, there and on the metric
// page, says its own divisor.
func TestCoverageSaysWhatItDivides(t *testing.T) {
	e := newEnv(t, 0)
	v := 5.39
	card := scorecard.Card{ID: "pipeline_coverage", Name: "Pipeline coverage", Unit: "×", Value: &v, Status: catalog.Green}
	lines := []scorecard.BreakdownLine{
		{Key: "ann", Value: ptr(98.1), Status: catalog.Green, Count: 12, QuotaLeft: &scorecard.QuotaLeft{Pipeline: 588600, Left: 6000, Quota: 600000, Currency: "USD"}},
		{Key: "bob", Value: ptr(2.04), Status: catalog.Amber, Count: 30, QuotaLeft: &scorecard.QuotaLeft{Pipeline: 549300, Left: 269500, Quota: 598000, Currency: "USD"}},
		{Key: "cy", Status: catalog.Unknown, Reason: "nothing remains of the quota", QuotaLeft: &scorecard.QuotaLeft{Pipeline: 1000, Left: -50, Quota: 500, Currency: "USD"}},
	}
	m := e.srv.roleMetric(scorecard.ViewMetric{Card: card, By: "owner", Breakdown: lines}, Query{AsOf: asOf}, "USD", nil)
	if want := "Each owner's open pipeline closing in the quota period, divided by the quota left (quota − won so far). " +
		"Little is left for ann (6,000 USD of 600,000 USD): a small divisor makes a large multiple."; m.Divides != want {
		t.Errorf("note %q\nwant %q", m.Divides, want)
	}
	bases := []string{"588,600 USD open ÷ 6,000 USD left of a 600,000 USD quota", "549,300 USD open ÷ 269,500 USD left of a 598,000 USD quota", ""}
	panel := e.srv.newBreakdownPanel(&scorecard.MetricDetail{Card: card, By: "owner", Breakdown: lines}, func(scorecard.BreakdownLine) string { return "" })
	// By key: both list the lines worst first.
	viewBasis, pageBasis := map[string]string{}, map[string]string{}
	for _, l := range m.Lines {
		viewBasis[l.Key] = l.Basis
	}
	for _, l := range panel.Lines {
		pageBasis[l.Key] = l.Basis
	}
	for i, want := range bases {
		if k := lines[i].Key; viewBasis[k] != want || pageBasis[k] != want {
			t.Errorf("%s: view %q, metric page %q, want %q", k, viewBasis[k], pageBasis[k], want)
		}
	}
	// Other metrics' breakdowns say nothing of quotas.
	other := e.srv.roleMetric(scorecard.ViewMetric{Card: scorecard.Card{ID: "win_rate", Name: "Win rate", Unit: "%", Value: &v}, By: "owner",
		Breakdown: []scorecard.BreakdownLine{{Key: "ann", Value: &v}}}, Query{AsOf: asOf}, "USD", nil)
	if other.Divides != "" || other.Lines[0].Basis != "" {
		t.Errorf("win rate's breakdown: note %q, basis %q", other.Divides, other.Lines[0].Basis)
	}
	// On the page: the note under the bars, each line's divisor in its title.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-03-01T00:00:00Z","period_end":"2026-05-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"w1","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":995,"stage":"closed_won","owner":"ann","closed_at":"2026-03-20T00:00:00Z","won":true}
{"kind":"opportunity","id":"o1","created_at":"2026-03-21T00:00:00Z","qualified_at":"2026-03-22T00:00:00Z","amount":490,"stage":"proposal","owner":"ann","close_date":"2026-04-20"}
`})
	cro := e.page(t, e.sessionAs(t, "executive"), "/views/cro?as_of="+asOf, 200)
	mustContain(t, "the CRO view", cro, []string{">98×", "Little is left for ann (5 USD of 1,000 USD)", "490 USD open ÷ 5 USD left of a 1,000 USD quota"})
}

// A reader without revenue:read sees no revenue number on any role view
// they may open, nor a revenue record's problem on the data sources page.
func TestRoleViewsHideRevenue(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	// Every built-in view role holds revenue:read but engineering and
	// support; an organisation may take it from VP Customer Success.
	withRevenue := e.sessionAs(t, "vp_cs")
	nrr := e.page(t, withRevenue, "/views/vp_cs?as_of="+asOf, 200)
	// NRR by the customers' segment a year before: the view's first cut
	// of retention (these subscriptions name none: one line).
	mustContain(t, "VP CS with revenue:read", nrr, []string{"Net revenue retention", "Gross revenue retention", "By segment", "scope=segment%3A%28none%29"}, "Not shown to you")

	e.srv.Auth = newAuthWith(t, e.store, e.srv.Catalog, map[string]auth.RoleOverride{
		"vp_cs": {Permissions: &[]auth.Permission{auth.ScorecardRead, auth.ViewPermission("vp_cs"), auth.MetricRead}},
	})
	secrets := []string{"7345.5", "812.25", "2718.75", "424242", "313373", "900001", "31337"}
	for _, s := range secrets[:len(secrets):len(secrets)] {
		secrets = append(secrets, groupThousands(s))
	}
	// Revenue figures the executive's pages show, which must not appear.
	exec := e.sessionAs(t, "executive")
	for _, id := range []string{"mrr", "arr", "nrr", "grr"} {
		doc := e.run(t, scenario{url: "/api/v1/metrics/" + id + "?as_of=" + asOf, status: 200})
		if v, ok := lookup(doc, "metric.value").(float64); ok && v != 0 {
			secrets = append(secrets, scorecard.FormatValue(&v, "currency", "USD"), scorecard.FormatValue(&v, "%", ""))
		}
	}
	mustContain(t, "the executive's VP CS view", e.page(t, exec, "/views/vp_cs?as_of="+asOf, 200), []string{"Net revenue retention"})

	without := e.sessionAs(t, "vp_cs")
	cs := e.page(t, without, "/views/vp_cs?as_of="+asOf, 200)
	mustContain(t, "VP CS without revenue:read", cs,
		[]string{"Not shown to you: Net revenue retention, Gross revenue retention, SaaS quick ratio, Customer lifetime value, MRR bridge. Your roles do not grant them.", "Logo churn rate"},
		append(secrets, `id="m-nrr"`, `id="m-grr"`, "/metrics/nrr", "/metrics/grr", `id="sec-bridge"`, "/metrics/mrr_churn", "By segment")...)
	for _, role := range []string{"engineering", "support"} {
		cl := e.sessionAs(t, role)
		mustContain(t, role+"'s view", e.page(t, cl, "/views/"+role+"?as_of="+asOf, 200), nil, append(secrets, "Growth", "/metrics/arr")...)
	}

	// The data sources page: a lead naming no opportunity is a problem of
	// a kind revenue metrics read.
	src := e.page(t, exec, "/sources?as_of="+asOf, 200)
	mustContain(t, "the executive's data sources", src, []string{"o-missing", `href="/records/lead/import/l1"`})
	eng := e.page(t, e.sessionAs(t, "engineering"), "/sources?as_of="+asOf, 200)
	mustContain(t, "engineering's data sources", eng,
		[]string{"1 problem in records that reveal revenue is not shown"}, "o-missing", "/records/lead/")
}

func TestSourcesPage(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")
	p := e.page(t, exec, "/sources?as_of="+asOf, 200)
	mustContain(t, "the data sources page", p, []string{
		"Record kinds", "Fresh", "Never sent", "state kind: never stale", "30 Mar 2026 12:00 UTC",
		"No data problems", "No check kept yet", "Connectors", "Rejected deliveries", "None refused.",
		// Only the date control: the page is judged at an instant.
		`name="as_of"`,
	}, `name="window"`, `name="team"`)
	// The summary counts the kinds by status, and a state kind nothing
	// judges by age (services here: SPEC §4) is "Not judged" in neutral
	// colours, counted apart: green and "fresh" are for kinds judged and
	// found current (a review found them on the state kinds too, "18
	// fresh" counting six kinds never judged).
	checkSourcesSummary(t, p, map[string]int{"Fresh": 3, "Stale": 0, "Never sent": 15, "Not judged": 1})
	if row := kindsRow(t, p, "service"); !strings.Contains(row, `<span class="status status--unjudged">`) || !strings.Contains(row, `<span class="status__word">Not judged</span>`) ||
		strings.Contains(row, ">Fresh<") || strings.Contains(row, "status--green") || !strings.Contains(row, "state kind: never stale") {
		t.Errorf("the service row, a state kind:\n%s", row)
	}
	mustContain(t, "the summary", p, []string{"<strong>1</strong> state kind not judged by age"})

	// Kept checks are listed with the metric page at their date.
	e.run(t, scenario{method: "POST", url: "/api/v1/reconciliations", status: 201,
		body: `{"metric":"change_failure_rate","expected":48,"as_of":"2026-03-31","source":"jira","note":"CRM export"}`})
	p = e.page(t, exec, "/sources?as_of="+asOf, 200)
	mustContain(t, "the checks", p, []string{
		"Change failure rate", "jira", "CRM export", ">48 %<", ">50 %</a>", "&#43;2 % <span class=\"muted\">(&#43;4.17 %)</span>", "Red",
		`href="/metrics/change_failure_rate?as_of=` + url.QueryEscape("2026-03-31T00:00:00Z") + `&amp;window=30d"`,
	})
	// Support may not see the metric, so not the check either; support
	// has no sources:read at all.
	e.page(t, e.sessionAs(t, "support"), "/sources", 403)

	mustContain(t, "a bad as_of", e.page(t, exec, "/sources?as_of=soon", 400), []string{"as_of"})

	// A budget whose month has begun and not ended has data up to the
	// page's time (SPEC §3): the page says the period is open rather than
	// give that time as the newest data.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"budget","id":"open","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":100,"category":"compute"}`})
	p = e.page(t, exec, "/sources?as_of=2026-03-31T12:00:00Z", 200)
	i := strings.Index(p, `<th scope="row">budget</th>`)
	if i < 0 {
		t.Fatal("no budget row")
	}
	if row := p[i : i+strings.Index(p[i:], "</tr>")]; !strings.Contains(row, ">period open</span>") || strings.Contains(row, "31 Mar 2026 12:00 UTC") ||
		!strings.Contains(row, ">Not judged<") || strings.Contains(row, ">Fresh<") {
		t.Errorf("the budget row of an open month:\n%s", row)
	}
	checkSourcesSummary(t, p, map[string]int{"Fresh": 3, "Stale": 0, "Never sent": 14, "Not judged": 2})
	mustContain(t, "the summary", p, []string{"<strong>2</strong> state kinds not judged by age"})
}

// kindsRow is the row of kind on the data sources page's kinds table.
func kindsRow(t *testing.T, p, kind string) string {
	t.Helper()
	i := strings.Index(p, `<th scope="row">`+kind+`</th>`)
	if i < 0 {
		t.Fatalf("no %s row", kind)
	}
	return p[i : i+strings.Index(p[i:], "</tr>")]
}

// checkSourcesSummary checks that the data sources page's kinds table has
// want rows of each status word, and that its summary gives those counts,
// each beside its own status's icon: "fresh" counts the kinds judged fresh
// only.
func checkSourcesSummary(t *testing.T, p string, want map[string]int) {
	t.Helper()
	table := p[strings.Index(p, `class="table table--tight table--stack src-kinds"`):]
	table = table[:strings.Index(table, "</table>")]
	got := map[string]int{}
	for _, m := range regexp.MustCompile(`<span class="status__word">([^<]+)</span>`).FindAllStringSubmatch(table, -1) {
		got[m[1]]++
	}
	for word, n := range got {
		if want[word] != n {
			t.Errorf("the kinds table's statuses = %v, want %v", got, want)
			break
		}
	}
	for word, n := range want {
		if got[word] != n {
			t.Errorf("the kinds table has %d %q, want %d", got[word], word, n)
		}
	}
	summary := p[strings.Index(p, `<ul class="src-summary"`):]
	summary = summary[:strings.Index(summary, "</ul>")]
	for word, class := range map[string]string{"Fresh": "green", "Stale": "red", "Never sent": "unknown", "Not judged": "unjudged"} {
		text := map[string]string{"Fresh": "fresh", "Stale": "stale", "Never sent": "never sent", "Not judged": "state kinds? not judged by age"}[word]
		re := regexp.MustCompile(`<li><span class="status status--` + class + `">.*?</span></span> <strong>(\d+)</strong> ` + text + `</li>`)
		m := re.FindStringSubmatch(summary)
		if m == nil || m[1] != fmt.Sprint(want[word]) {
			t.Errorf("the summary's %s: %v, want %d, its icon %s:\n%s", text, m, want[word], class, summary)
		}
	}
}

// The metric page's breakdown says once the reason two or more of its lines share, and those
// lines leave it out: infrastructure cost's had repeated "no target set: judged by
// budget_variance, which has no value per service" on each of twelve lines.
func TestBreakdownReasonSaidOnce(t *testing.T) {
	e := newEnv(t, 0)
	const noTarget = "no target set: judged by budget_variance, which has no value per service"
	v := 10.0
	var lines []scorecard.BreakdownLine
	for _, svc := range []string{"accounts", "api-gateway", "auth", "billing"} {
		lines = append(lines, scorecard.BreakdownLine{Key: svc, Value: &v, Status: catalog.Unknown, Reason: noTarget, Count: 8})
	}
	card := scorecard.Card{ID: "infrastructure_cost", Name: "Infrastructure cost", Unit: "currency", Value: &v}
	p := e.srv.newBreakdownPanel(&scorecard.MetricDetail{Card: card, By: "service", Breakdown: lines}, func(scorecard.BreakdownLine) string { return "" })
	if p.Note != "Every line: "+noTarget+"." {
		t.Errorf("note %q", p.Note)
	}
	for _, r := range p.Lines {
		if r.Why != "" {
			t.Errorf("%s repeats the shared reason: %q", r.Key, r.Why)
		}
	}
	// A line unknown for a reason of its own keeps it; one reason on one line is no note.
	lines = append(lines, scorecard.BreakdownLine{Key: "search", Status: catalog.Unknown, Reason: "no cost data"})
	p = e.srv.newBreakdownPanel(&scorecard.MetricDetail{Card: card, By: "service", Breakdown: lines}, func(scorecard.BreakdownLine) string { return "" })
	if p.Note != "4 of 5 lines: "+noTarget+"." || p.Lines[4].Why != "no cost data" || p.Lines[0].Why != "" {
		t.Errorf("note %q, rows' reasons %q, %q", p.Note, p.Lines[0].Why, p.Lines[4].Why)
	}
	p = e.srv.newBreakdownPanel(&scorecard.MetricDetail{Card: card, By: "service", Breakdown: lines[3:]}, func(scorecard.BreakdownLine) string { return "" })
	if p.Note != "" || p.Lines[0].Why != noTarget || p.Lines[1].Why != "no cost data" {
		t.Errorf("no reason shared: note %q, rows' reasons %q, %q", p.Note, p.Lines[0].Why, p.Lines[1].Why)
	}

	// On the page: lead time by team, whose every line has no change data.
	body := e.page(t, e.sessionAs(t, "executive"), "/metrics/lead_time_for_changes?as_of="+asOf+"&by=team", 200)
	i := strings.Index(body, `id="breakdown"`)
	panel := body[i : i+strings.Index(body[i:], "</section>")]
	if n := strings.Count(panel, "no change data: never sent"); n != 1 || !strings.Contains(panel, `<p class="breakdown__note">Every line: no change data: never sent.</p>`) {
		t.Errorf("the breakdown says %q %d times, want once, in its note:\n%s", "no change data: never sent", n, panel)
	}
}

// A breakdown says once the reason most of its unknown lines share; the
// card's own staleness, which the card says, is not repeated.
func TestSharedReason(t *testing.T) {
	l := func(reason string) scorecard.BreakdownLine { return scorecard.BreakdownLine{Reason: reason} }
	// few is a line short of cases as the scorecard makes it.
	few := func(n, needs int) scorecard.BreakdownLine {
		m := catalog.Metric{MinSample: needs}
		return scorecard.BreakdownLine{Reason: m.TooFew(n), Count: n, Needs: needs}
	}
	stale := scorecard.Card{Reason: "no ticket data since 2026-03-28T11:35:31Z", Freshness: scorecard.Freshness{Stale: true}}
	for _, c := range []struct {
		lines []scorecard.BreakdownLine
		card  scorecard.Card
		want  string
	}{
		{[]scorecard.BreakdownLine{l(""), l("")}, scorecard.Card{}, ""},
		{[]scorecard.BreakdownLine{l("no target set"), l("no target set")}, scorecard.Card{}, "Every line: no target set."},
		{[]scorecard.BreakdownLine{l("no target set"), l("no data"), l("no target set"), l("")}, scorecard.Card{}, "2 of 4 lines: no target set."},
		{[]scorecard.BreakdownLine{l(stale.Reason), l(stale.Reason)}, stale, ""},
		// Lines short of cases by different counts share the reason.
		{[]scorecard.BreakdownLine{l(""), few(4, 5), few(1, 5), l("no data"), few(3, 5), l("")}, scorecard.Card{},
			"3 of 6 lines: too few cases (n = 1 to 4, needs 5)."},
		{[]scorecard.BreakdownLine{few(2, 5), few(2, 5)}, scorecard.Card{}, "Every line: too few cases (n = 2, needs 5)."},
		{[]scorecard.BreakdownLine{few(2, 5), few(1, 3), l("")}, scorecard.Card{}, "2 of 3 lines: too few cases."},
	} {
		if got := sharedReason(c.lines, c.card); got != c.want {
			t.Errorf("sharedReason(%v) = %q, want %q", c.lines, got, c.want)
		}
	}
}

// A pillar tile's unknown metric says why under its name: the CEO view
// had shown a bare dash with its reason only on hover.
func TestPillarTileSaysWhyUnknown(t *testing.T) {
	e := newEnv(t, 0)
	page := e.page(t, e.sessionAs(t, "executive"), "/views/ceo?as_of="+asOf, 200)
	figs := regexp.MustCompile(`(?s)<a class="rv-fig".*?</a>`).FindAllString(page, -1)
	unknown := 0
	for _, f := range figs {
		if !strings.Contains(f, "status--unknown") {
			continue
		}
		unknown++
		if !strings.Contains(f, `<span class="rv-fig__why">`) {
			t.Errorf("an unknown figure without its reason:\n%s", f)
		}
	}
	if unknown == 0 {
		t.Fatal("no unknown figure on the CEO view: the test shows nothing")
	}
	if !strings.Contains(page, `Open critical vulnerabilities<span class="rv-fig__why">no vulnerability data: never sent</span>`) {
		t.Errorf("open critical vulnerabilities does not say it has no data")
	}
}

// A breakdown longer than a panel holds shows the lines to look at first,
// worst first as the metric page lists them (by an ordinal dimension, in
// its own order): release impact's worst service, the one that sets the
// organisation's value, had been the 13th of 13 alphabetical lines and
// cut, while a "(none)" line without a value was shown.
func TestRoleViewKeepsWorstLines(t *testing.T) {
	e := newEnv(t, 0)
	worst := 21.48
	card := scorecard.Card{ID: "release_impact_score", Name: "Release impact score", Unit: "score", Better: "lower", Value: &worst, Status: catalog.Green}
	lines := []scorecard.BreakdownLine{{Key: "(none)", Status: catalog.Unknown}}
	for i, svc := range []string{"accounts", "api-gateway", "auth", "billing", "catalog", "checkout", "inventory", "notifications", "payments", "recommendations", "reporting"} {
		lines = append(lines, scorecard.BreakdownLine{Key: svc, Value: ptr(float64(i)), Status: catalog.Unknown, NoOwnTarget: true, Count: 10})
	}
	lines = append(lines, scorecard.BreakdownLine{Key: "search", Value: &worst, Status: catalog.Unknown, NoOwnTarget: true, Count: 63})
	m := e.srv.roleMetric(scorecard.ViewMetric{Card: card, By: "service", Breakdown: lines}, Query{AsOf: asOf}, "USD", nil)
	var keys []string
	for _, l := range m.Lines {
		keys = append(keys, l.Key)
	}
	want := []string{"search", "reporting", "recommendations", "payments", "notifications", "inventory", "checkout", "catalog", "billing", "auth", "api-gateway", "accounts"}
	if strings.Join(keys, ",") != strings.Join(want, ",") || m.More != 1 {
		t.Errorf("lines %v, %d more; want %v, 1 more (the line without a value)", keys, m.More, want)
	}

	// Where higher is better the lowest values go first, a red or amber line before any.
	card = scorecard.Card{ID: "sla_adherence", Name: "Support SLA adherence", Unit: "%", Better: "higher", Value: &worst, Status: catalog.Amber}
	lines = nil
	for i := range 13 {
		lines = append(lines, scorecard.BreakdownLine{Key: fmt.Sprintf("c%02d", i), Value: ptr(50 + float64(i)), Status: catalog.Red, Count: 10})
	}
	lines[12].Status, lines[12].Value = catalog.Amber, ptr(99.0)
	lines[11].Status = catalog.Green
	m = e.srv.roleMetric(scorecard.ViewMetric{Card: card, By: "priority", Breakdown: lines}, Query{AsOf: asOf}, "USD", nil)
	keys = nil
	for _, l := range m.Lines {
		keys = append(keys, l.Key)
	}
	if len(keys) != 12 || slices.Contains(keys, "c11") || !slices.Contains(keys, "c12") || keys[0] != "c00" {
		t.Errorf("lines %v: want c00…c10 and c12 (amber) in order, not c11 (green)", keys)
	}
}

// A metric page lists a breakdown worst first — red, amber, the rest by
// the metric's direction, lines on too few cases and without a value
// last — where the breakdown's alphabetical order had left the worst
// service to be read off the bars; by tier it keeps that
// dimension's own order.
func TestBreakdownPanelWorstFirst(t *testing.T) {
	e := newEnv(t, 0)
	card := scorecard.Card{ID: "change_failure_rate", Name: "Change failure rate", Unit: "%", Better: "lower", Value: ptr(12.0), Status: catalog.Amber}
	lines := []scorecard.BreakdownLine{
		{Key: "accounts", Value: ptr(3.0), Status: catalog.Green, Count: 40},
		{Key: "billing", Value: ptr(14.0), Status: catalog.Amber, Count: 40},
		{Key: "(none)", Status: catalog.Unknown},
		{Key: "checkout", Value: ptr(31.0), Status: catalog.Red, Count: 40},
		{Key: "search", Value: ptr(9.0), Status: catalog.Green, Count: 40},
		{Key: "payments", Value: ptr(22.0), Status: catalog.Red, Count: 40},
		{Key: "ledger", Value: ptr(100.0), Status: catalog.Unknown, Reason: "too few cases", Count: 2, Needs: 5},
	}
	keys := func(by string, better string) string {
		c := card
		c.Better = better
		p := e.srv.newBreakdownPanel(&scorecard.MetricDetail{Card: c, By: by, Breakdown: lines}, func(scorecard.BreakdownLine) string { return "" })
		var out []string
		for _, l := range p.Lines {
			out = append(out, l.Key)
		}
		if i := strings.Index(string(p.Bars), lines[0].Key); by == "service" && (i < 0 || i < strings.Index(string(p.Bars), "checkout")) {
			t.Errorf("by %s: the bars do not follow the table's order", by)
		}
		return strings.Join(out, ",")
	}
	if got, want := keys("service", "lower"), "checkout,payments,billing,search,accounts,ledger,(none)"; got != want {
		t.Errorf("by service, lower is better: %s, want %s", got, want)
	}
	if got, want := keys("service", "higher"), "payments,checkout,billing,accounts,search,ledger,(none)"; got != want {
		t.Errorf("by service, higher is better: %s, want %s", got, want)
	}
	if got, want := keys("tier", "lower"), "accounts,billing,(none),checkout,search,payments,ledger"; got != want {
		t.Errorf("by tier: %s, want the breakdown's own order %s", got, want)
	}
}

// A panel too short for a breakdown keeps its best lines beside its worst:
// the VP Marketing view's funnel by campaign had shown twelve campaigns
// at "0 %" and left out the three that converted, "5 more lines" away.
func TestRoleViewKeepsBestLinesToo(t *testing.T) {
	e := newEnv(t, 0)
	card := scorecard.Card{ID: "funnel_conversion", Name: "Funnel conversion", Unit: "%", Better: "higher", Value: ptr(0.74), Status: catalog.Green}
	var lines []scorecard.BreakdownLine
	for i := range 14 {
		lines = append(lines, scorecard.BreakdownLine{Key: fmt.Sprintf("zero%02d", i), Value: ptr(0.0), Status: catalog.Unknown, NoOwnTarget: true, Count: 20})
	}
	for _, c := range []struct {
		k string
		v float64
	}{{"competitor-search", 2.5}, {"seo-blog", 2.56}, {"nurture-sequence", 5.26}} {
		lines = append(lines, scorecard.BreakdownLine{Key: c.k, Value: ptr(c.v), Status: catalog.Unknown, NoOwnTarget: true, Count: 20})
	}
	m := e.srv.roleMetric(scorecard.ViewMetric{Card: card, By: "campaign", Breakdown: lines}, Query{AsOf: asOf}, "USD", nil)
	var keys []string
	for _, l := range m.Lines {
		keys = append(keys, l.Key)
	}
	if len(keys) != maxRoleBars || m.More != len(lines)-maxRoleBars {
		t.Fatalf("%d lines, %d more; want %d, %d", len(keys), m.More, maxRoleBars, len(lines)-maxRoleBars)
	}
	if got := strings.Join(keys[len(keys)-3:], ","); got != "competitor-search,seo-blog,nurture-sequence" || keys[0] != "zero00" {
		t.Errorf("lines %v: want the zeros first and the three that converted last", keys)
	}
}
