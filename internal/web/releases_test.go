package web

import (
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
)

// releaseTickets are two tickets after d4 (2026-03-30T12:00): one naming
// it, one about api without a release; and one about web (no release).
const releaseTickets = `{"kind":"ticket","id":"k1","created_at":"2026-03-30T13:00:00Z","release":"d4","priority":"urgent"}
{"kind":"ticket","id":"k2","created_at":"2026-03-30T14:00:00Z","service":"api"}
{"kind":"ticket","id":"k3","created_at":"2026-03-30T15:00:00Z","service":"web"}
`

func TestReleasesAPI(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: releaseTickets, status: 200})
	e.run(t, scenario{url: "/api/v1/releases?as_of=" + asOf, status: 200, fields: map[string]string{
		// d4 first: the only release with tickets (3 + 1).
		"releases.0.deployment": "d4", "releases.0.tickets": "2", "releases.0.explicit": "1", "releases.0.inferred": "1",
		"releases.0.weighted": "4", "releases.0.spike.test": "Poisson upper tail", "releases.0.open": "true",
		// The rule and the rate tested against are in each result.
		"releases.0.spike.alpha": "0.01", "releases.0.spike.min_tickets": "3", "releases.0.spike.rate": "0.125", "releases.0.spike.flagged": "false",
		"releases.3.tickets": "0",
	}})
	e.run(t, scenario{url: "/api/v1/releases/import/d4?as_of=2026-04-05", status: 200, fields: map[string]string{
		"deployment": "d4", "open": "false", "ticket_list.0.id": "k1", "ticket_list.0.link": "explicit",
		"ticket_list.1.id": "k2", "ticket_list.1.link": "inferred",
	}})
	e.run(t, scenario{url: "/api/v1/releases/import/nope?as_of=" + asOf, status: 404})
	e.run(t, scenario{url: "/api/v1/releases?as_of=" + asOf + "&service=nope", status: 400, fields: map[string]string{"param": "service"}})

	// The deployment's page shows its impact; a page of a release without
	// tickets says no spike.
	exec := e.sessionAs(t, "executive")
	body := e.page(t, exec, "/records/deployment/import/d4?as_of=2026-04-05", 200)
	for _, want := range []string{"Customer impact", "2 tickets attributed to this release in its observation window", "1 naming this release, 1 about api", "/records/ticket/import/k1"} {
		if !strings.Contains(body, want) {
			t.Errorf("d4's page lacks %q", want)
		}
	}
	list := e.page(t, exec, "/releases?as_of="+asOf, 200)
	if i, j := strings.Index(list, ">d4<"), strings.Index(list, ">d1<"); i < 0 || j < 0 || i > j {
		t.Errorf("the release list does not put d4 (2 tickets) before d1 (none)")
	}
}

// spikeTickets put a second api release, d3b, six hours after d3 (19 Mar
// 00:00), four tickets about api between them, and one naming d3 the next
// day: d3 has 5 tickets attributed in its 48 h window, but its spike test
// counts the 4 before d3b — a spike on no baseline (p = 0.0000092). d3b's
// test counts the ticket naming d3. With releaseTickets, d4 has 2 tickets:
// p = 0.00719, under 0.01, but too few.
const spikeTickets = `{"kind":"deployment","id":"d3b","service":"api","environment":"production","finished_at":"2026-03-19T06:00:00Z","status":"success"}
{"kind":"ticket","id":"s1","created_at":"2026-03-19T01:00:00Z","service":"api"}
{"kind":"ticket","id":"s2","created_at":"2026-03-19T02:00:00Z","service":"api"}
{"kind":"ticket","id":"s3","created_at":"2026-03-19T03:00:00Z","service":"api"}
{"kind":"ticket","id":"s4","created_at":"2026-03-19T04:00:00Z","service":"api"}
{"kind":"ticket","id":"s5","created_at":"2026-03-20T10:00:00Z","release":"d3"}
`

// TestReleasesPageSaysTheRule: the release list states the whole spike
// rule (level and fewest tickets) where it shows flags, and each row says
// why it is or is not a spike from its own numbers; the two counts say
// what each counts and over which span; p-values read as numbers.
func TestReleasesPageSaysTheRule(t *testing.T) {
	e := newEnv(t, 0)
	// d9: a release of a service no ticket is about, before or after.
	quiet := `{"kind":"deployment","id":"d9","service":"search","environment":"production","finished_at":"2026-03-25T06:00:00Z","status":"success"}` + "\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: releaseTickets + spikeTickets + quiet, status: 200})
	exec := e.sessionAs(t, "executive")
	page := e.page(t, exec, "/releases?as_of="+asOf, 200)
	text := html.UnescapeString(page)
	for _, want := range []string{
		// The window control names the list's own default.
		`<option value="">30 days</option>`,
		// The rule, whole.
		"<strong>A spike</strong> is more tickets after a release than the service's previous weeks make likely — a chance under 0.01 of that many or more at the weeks' rate (a Poisson test's p-value) — <strong>and</strong> at least 3 tickets in the span tested: a p-value under 0.01 from fewer tickets is no spike.",
		"there is no baseline, and the test takes half a ticket over those weeks as the rate",
		// Which count is which.
		"Tickets attributed <span class=\"th-note\">over the 2 days after it</span>",
		"Spike test <span class=\"th-note\">all the service's tickets, to its next release or the end of its observation window</span>",
		"<strong>1 spike</strong>",
		// d3: 5 attributed (4 by service), its test 4 tickets to d3b — a spike.
		`<td class="num" data-label="Tickets attributed">5 <span class="muted">(4 by service)</span></td>`,
		"4 tickets about api to 19 Mar 2026 06:00 UTC (its next release, 6 h after) vs no baseline; <strong>spike</strong>: as many would come by chance less than 1 time in 10,000 (p < 0.0001, under 0.01), and 4 tickets, at least 3",
		// d4: p under 0.01 with 2 tickets — not one, and it says so; its
		// p-value (0.00719) cut to two figures, never rounded up to a level.
		"2 tickets about api to 31 Mar 2026 00:00 UTC vs no baseline; no spike: as many would come by chance about 1 time in 140 (p = 0.0071, under 0.01), but 2 tickets, fewer than 3",
		// d3b: the ticket naming d3 counts in d3b's test.
		"1 ticket about api to 21 Mar 2026 06:00 UTC vs no baseline; no spike: as many would come by chance about 1 time in 9 (p = 0.11, not under 0.01)",
		// d9: no more tickets than the rate, said so rather than "p = 1".
		"0 tickets about search to 27 Mar 2026 06:00 UTC vs no baseline; no spike: no more than expected (p = 1)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the release list lacks %q", want)
		}
	}
	if p := regexp.MustCompile(`p = [0-9.]+e-[0-9]+`).FindString(text); p != "" {
		t.Errorf("the release list writes a p-value with an exponent: %s", p)
	}

	// d3's page: a spike; d4's: no baseline, not green.
	d3 := impactPanel(t, e.page(t, exec, "/records/deployment/import/d3?as_of="+asOf, 200))
	for _, want := range []string{"5 tickets attributed to this release in its observation window to 21 Mar 2026 00:00 UTC: 1 naming this release, 4 about api",
		"<strong>Spike</strong>: 4 tickets about api, whichever release they name, from this release to 19 Mar 2026 06:00 UTC (the next api release)",
		"as many would come by chance less than 1 time in 10,000 (p < 0.0001, under 0.01), and 4 tickets, at least 3.", "A spike is a p-value (Poisson upper tail) under 0.01 with at least 3 tickets."} {
		if !strings.Contains(d3, want) {
			t.Errorf("d3's impact panel lacks %q:\n%s", want, d3)
		}
	}
	d4 := impactPanel(t, e.page(t, exec, "/records/deployment/import/d4?as_of=2026-04-05", 200))
	for _, want := range []string{"<strong>No baseline</strong>, no spike: 2 tickets about api",
		"and none in the same hours of the previous 4 weeks: with no baseline the test takes half a ticket over those weeks (0.125) as the rate; as many would come by chance about 1 time in 140 (p = 0.0071, under 0.01), but 2 tickets, fewer than 3."} {
		if !strings.Contains(d4, want) {
			t.Errorf("d4's impact panel lacks %q:\n%s", want, d4)
		}
	}
	if strings.Contains(d4, "Green") || strings.Contains(d4, "0.0 expected") {
		t.Errorf("d4's impact panel claims green from an empty baseline:\n%s", d4)
	}
}

// anchorAttr finds a page's links and their words.
var anchorAttr = regexp.MustCompile(`<a [^>]*href="([^"]*)"[^>]*>([^<]*)</a>`)

// pageLinkTexts are a page's links as (href, words) pairs, unescaped.
func pageLinkTexts(page string) [][2]string {
	var out [][2]string
	for _, m := range anchorAttr.FindAllStringSubmatch(page, -1) {
		out = append(out, [2]string{html.UnescapeString(m[1]), html.UnescapeString(m[2])})
	}
	return out
}

// impactPanel is a deployment page's customer impact panel.
func impactPanel(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `id="impact-h"`)
	if i < 0 {
		t.Fatal("the deployment's page has no customer impact panel")
	}
	j := strings.Index(page[i:], "</section>")
	return html.UnescapeString(page[i : i+j])
}

// TestReleasesPagePaging: the release list comes a page at a time (limit,
// offset); its links carry the date, the filters and the limit, and hold
// the as_of the list was computed at; a bad paging parameter is a 400
// naming it.
func TestReleasesPagePaging(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: releaseTickets + spikeTickets, status: 200})
	exec := e.sessionAs(t, "executive")
	base := "/releases?as_of=" + asOf + "&service=api"
	rows := func(page string) []string {
		var ids []string
		for _, u := range pageLinks([]byte(page), "/records/deployment/import/") {
			ids = append(ids, strings.TrimPrefix(u.Path, "/records/deployment/import/"))
		}
		return ids
	}
	next := func(page, rel string) url.Values {
		t.Helper()
		for _, a := range pageLinkTexts(page) {
			if a[1] == rel {
				u, err := url.Parse(a[0])
				if err != nil || u.Path != "/releases" || u.Fragment != "sec-releases" {
					t.Fatalf("%s link %q", rel, a[0])
				}
				return u.Query()
			}
		}
		return nil
	}
	// Five api releases, most impact first: d4 (weighted 4), d3 (4), d3b,
	// then d2 and d1 (none).
	all := rows(e.page(t, exec, base, 200))
	if len(all) != 5 {
		t.Fatalf("all releases: %v", all)
	}
	p1 := e.page(t, exec, base+"&limit=2", 200)
	if got := rows(p1); !slices.Equal(got, all[:2]) || !strings.Contains(p1, "1–2 of 5") || !strings.Contains(p1, "<strong>5 releases</strong>") {
		t.Errorf("page 1 of 2 rows: %v (want %v)", got, all[:2])
	}
	q := next(p1, "Next")
	if q == nil || q.Get("offset") != "2" || q.Get("limit") != "2" || q.Get("as_of") != asOf || q.Get("service") != "api" || next(p1, "Previous") != nil {
		t.Fatalf("page 1's next link: %v", q)
	}
	p2 := e.page(t, exec, "/releases?"+q.Encode(), 200)
	if got := rows(p2); !slices.Equal(got, all[2:4]) || !strings.Contains(p2, "3–4 of 5") {
		t.Errorf("page 2: %v (want %v)", got, all[2:4])
	}
	if prev := next(p2, "Previous"); prev == nil || prev.Has("offset") || prev.Get("limit") != "2" {
		t.Errorf("page 2's previous link: %v", prev)
	}
	p3 := e.page(t, exec, "/releases?"+next(p2, "Next").Encode(), 200)
	if got := rows(p3); !slices.Equal(got, all[4:]) || !strings.Contains(p3, "5–5 of 5") || next(p3, "Next") != nil {
		t.Errorf("page 3: %v", got)
	}
	if past := e.page(t, exec, base+"&offset=40", 200); len(rows(past)) != 0 || !strings.Contains(past, "No rows from 5 on") || next(past, "back to the first page") == nil {
		t.Errorf("a page past the end does not lead back to the first")
	}
	// Read as of now, the links hold the as_of the list was computed at.
	now := e.page(t, exec, "/releases?window=3650d&limit=1", 200)
	if q := next(now, "Next"); q == nil || q.Get("window") != "3650d" || q.Get("as_of") == "" {
		t.Errorf("the next page of a list read as of now does not hold its as_of: %v", q)
	} else if _, err := ParseTime(q.Get("as_of")); err != nil {
		t.Errorf("as_of %q: %v", q.Get("as_of"), err)
	}
	// The JSON API still lists every release.
	e.run(t, scenario{url: "/api/v1/releases?as_of=" + asOf + "&service=api", status: 200, check: func(t *testing.T, doc any) {
		if rs, _ := lookup(doc, "releases").([]any); len(rs) != 5 {
			t.Errorf("the API lists %d releases, want 5", len(rs))
		}
	}})
	for _, c := range []struct{ query, param, says string }{
		{"&limit=0", "limit", `"0" must be a whole number from 1 to 500`},
		{"&limit=501", "limit", "from 1 to 500"},
		{"&limit=ten", "limit", `"ten" must be a whole number`},
		{"&offset=-1", "offset", `"-1" must be a whole number from 0`},
		{"&offset=1.5", "offset", "whole number"},
		{"&page=2", "page", "unknown parameter"},
	} {
		body := html.UnescapeString(e.page(t, exec, base+c.query, 400))
		if !strings.Contains(body, c.param) || !strings.Contains(body, c.says) {
			t.Errorf("%s: the 400 page does not name %s (%q):\n%s", c.query, c.param, c.says, clip([]byte(body)))
		}
	}
	// The API takes no paging parameter: it is refused, not ignored.
	e.run(t, scenario{url: "/api/v1/releases?as_of=" + asOf + "&limit=2", status: 400, fields: map[string]string{"param": "limit"}})
}

func TestInsightsAPI(t *testing.T) {
	e := newEnv(t, 0)
	doc := e.run(t, scenario{url: "/api/v1/insights?as_of=" + asOf, status: 200, fields: map[string]string{"time_zone": "UTC"}})
	quiet, _ := lookup(doc, "quiet").([]any)
	if len(quiet) != 6 {
		t.Errorf("the seed is too small for any insight: want 6 quiet analyses, got %v", quiet)
	}
	e.run(t, scenario{url: "/api/v1/insights?window=soon", status: 400, fields: map[string]string{"param": "window"}})
	// The window asked, and a month, are said, as the scorecard says
	// them; none when each analysis reads its own.
	if lookup(doc, "window") != nil || lookup(doc, "month") != nil {
		t.Errorf("a window or month said though none was asked: %v %v", lookup(doc, "window"), lookup(doc, "month"))
	}
	e.run(t, scenario{url: "/api/v1/insights?as_of=" + asOf + "&window=7d", status: 200, fields: map[string]string{"window": "7d"}})
	e.run(t, scenario{url: "/api/v1/insights?month=2026-02", status: 200, fields: map[string]string{"window": "28d", "month": "2026-02"}})
	page := e.page(t, e.sessionAs(t, "executive"), "/insights?as_of="+asOf, 200)
	if !strings.Contains(page, "Nothing to report") || !strings.Contains(page, "Deploy time risk") {
		t.Errorf("the insights page lacks its quiet analyses")
	}
}

func TestReleasePagesShowSurveys(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"survey","id":"s1","at":"2026-03-30T18:00:00Z","type":"csat","score":4,"release":"d4"}
{"kind":"survey","id":"s2","at":"2026-03-30T19:00:00Z","type":"csat","score":3,"release":"d4"}`})
	exec := e.sessionAs(t, "executive")
	if page := e.page(t, exec, "/releases?as_of="+asOf, 200); !strings.Contains(page, "3.5<span class=\"muted\"> of 5 (2 responses)") || !strings.Contains(page, "CSAT score <span class=\"th-note\">mean, 1–5,") || !strings.Contains(page, "in the 30 days before") {
		t.Errorf("the release list does not show d4's CSAT or its window in days")
	}
	if page := e.page(t, exec, "/records/deployment/import/d4?as_of="+asOf, 200); !strings.Contains(page, "a CSAT score of 3.5 out of 5 on average, from 2 responses") {
		t.Errorf("d4's page does not show its CSAT")
	}
}

func TestThemesAPI(t *testing.T) {
	e := newEnv(t, 0)
	var b strings.Builder
	for i := range 12 {
		// The baseline weeks: sign-in trouble; the last week: refunds too.
		b.WriteString(`{"kind":"ticket","id":"b` + strconv.Itoa(i) + `","created_at":"2026-03-0` + strconv.Itoa(1+i%9) + `T10:00:00Z","service":"api","text":"Cannot sign in to my account"}` + "\n")
	}
	for i := range 5 {
		b.WriteString(`{"kind":"ticket","id":"n` + strconv.Itoa(i) + `","created_at":"2026-03-2` + strconv.Itoa(5+i%5) + `T10:00:00Z","service":"api","text":"Refund missing after cancelled order"}` + "\n")
	}
	b.WriteString(`{"kind":"ticket","id":"n9","created_at":"2026-03-29T11:00:00Z","service":"api","text":"Cannot sign in"}` + "\n")
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: b.String(), status: 200})
	e.run(t, scenario{url: "/api/v1/themes?as_of=" + asOf + "&service=api", status: 200, fields: map[string]string{
		"tickets": "6", "themes.0.tickets": "5", "themes.0.baseline_tickets": "0", "themes.0.examples.0": "import/n0",
	}, check: func(t *testing.T, doc any) {
		for _, th := range lookup(doc, "themes").([]any) {
			if p := th.(map[string]any)["phrase"].(string); strings.Contains(p, "sign") || strings.Contains(p, "account") {
				t.Errorf("a baseline phrase stands out: %v", th)
			}
		}
	}})
	e.run(t, scenario{url: "/api/v1/themes?service=nope", status: 400, fields: map[string]string{"param": "service"}})
	// A release as the tickets write it, or as the API addresses the
	// deployment elsewhere (SOURCE/ID): the same tickets. The second had
	// matched none.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"ticket","id":"r1","created_at":"2026-03-30T20:00:00Z","release":"d4","text":"Checkout button broken"}
{"kind":"ticket","id":"r2","created_at":"2026-03-30T21:00:00Z","release":"d4","text":"Checkout button broken again"}`})
	for release, want := range map[string]string{"d4": "2", "import/d4": "2", "elsewhere/d4": "0"} {
		e.run(t, scenario{url: "/api/v1/themes?as_of=" + asOf + "&release=" + release, status: 200, fields: map[string]string{"tickets": want, "release": release}})
	}
}

// The release list and the themes say their window as ?window= takes it
// and the scorecard says its own ("30d", "36h"), not in Go's notation
// ("720h0m0s"), which a client could not send back.
func TestReleasesAndThemesSayTheirWindowAsQueried(t *testing.T) {
	e := newEnv(t, 0)
	for url, want := range map[string]string{
		"/api/v1/releases?as_of=" + asOf:                "30d",
		"/api/v1/releases?as_of=" + asOf + "&window=2w": "14d",
		"/api/v1/themes?as_of=" + asOf:                  "7d",
		"/api/v1/themes?as_of=" + asOf + "&window=36h":  "36h",
	} {
		e.run(t, scenario{url: url, status: 200, fields: map[string]string{"window": want}})
	}
}

// Each release carries the release impact score's own score for it, and
// the page and the JSON name the worst as the metric's value: the list,
// ranked by weighted tickets (inferred ones included), had put the
// metric's worst release second with its score nowhere (the demo's 21.48).
func TestReleasesCarryTheMetricsScore(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: releaseTickets, status: 200})
	var metric struct {
		Metric struct {
			Value *float64 `json:"value"`
		} `json:"metric"`
	}
	getJSON(t, e, "/api/v1/metrics/release_impact_score?as_of="+asOf, &metric)
	var list struct {
		Releases []struct {
			Deployment string   `json:"deployment"`
			Score      *float64 `json:"score"`
			Baseline   *float64 `json:"baseline"`
		} `json:"releases"`
	}
	getJSON(t, e, "/api/v1/releases?as_of="+asOf, &list)
	value := metric.Metric.Value
	if value == nil || len(list.Releases) == 0 {
		t.Fatalf("no metric value (%v) or no releases (%d)", value, len(list.Releases))
	}
	worst, of := -1e9, ""
	for _, r := range list.Releases {
		if r.Score == nil || r.Baseline == nil {
			t.Fatalf("release %s has no score or baseline", r.Deployment)
		}
		if *r.Score > worst {
			worst, of = *r.Score, r.Deployment
		}
	}
	if worst != *value {
		t.Errorf("the releases' worst score %v (%s) is not the metric's value %v", worst, of, *value)
	}
	exec := e.sessionAs(t, "executive")
	page := e.page(t, exec, "/releases?as_of="+asOf, 200)
	want := "The metric's value is the worst release's: <strong>" + strconv.FormatFloat(worst, 'f', 2, 64) + "</strong>"
	if !strings.Contains(page, want) || !strings.Contains(page, `data-label="Score">`) {
		t.Errorf("the releases page does not show each score and the worst as the metric's value (%q)", want)
	}
}

// getJSON decodes the answer to a GET that must be a 200.
func getJSON(t *testing.T, e *env, url string, v any) {
	t.Helper()
	code, body, _ := e.do(t, "GET", url, "", nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", url, code, clip(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestRecordPageScoresItsRelease: a deployment's page gives its release
// impact score and its place among the window's releases, and a spike
// test cut short by the service's next release is not green: p1's 2 h
// to p2 held no ticket against a quarter of one expected, while three
// urgent tickets naming p1 came after p2 — the worst release of the
// window had read "✅ No spike".
func TestRecordPageScoresItsRelease(t *testing.T) {
	e := newEnv(t, 0)
	recs := `{"kind":"ticket","id":"w1","created_at":"2026-03-16T01:00:00Z","service":"pay"}
{"kind":"deployment","id":"p1","service":"pay","environment":"production","finished_at":"2026-03-23T00:00:00Z","status":"success"}
{"kind":"deployment","id":"p2","service":"pay","environment":"production","finished_at":"2026-03-23T02:00:00Z","status":"success"}
{"kind":"ticket","id":"u1","created_at":"2026-03-23T10:00:00Z","release":"p1","priority":"urgent"}
{"kind":"ticket","id":"u2","created_at":"2026-03-23T11:00:00Z","release":"p1","priority":"urgent"}
{"kind":"ticket","id":"u3","created_at":"2026-03-23T12:00:00Z","release":"p1","priority":"urgent"}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: releaseTickets + recs, status: 200})
	var list struct {
		Releases []struct {
			Deployment string   `json:"deployment"`
			Score      *float64 `json:"score"`
		} `json:"releases"`
	}
	if err := json.Unmarshal([]byte(e.get200(t, "/api/v1/releases?as_of="+asOf)), &list); err != nil {
		t.Fatal(err)
	}
	scores := map[string]float64{}
	for _, r := range list.Releases {
		if r.Score != nil {
			scores[r.Deployment] = *r.Score
		}
	}
	exec := e.sessionAs(t, "executive")
	p1 := impactPanel(t, e.page(t, exec, "/records/deployment/import/p1?as_of="+asOf, 200))
	for _, want := range []string{
		"Release impact score <strong>" + strconv.FormatFloat(scores["p1"], 'f', 2, 64) + "</strong>: the weight of the tickets naming this release less its service's baseline of 0.00 a release; <strong>the worst</strong> of the " + strconv.Itoa(len(list.Releases)) + " production releases finished in the 30 days before",
		"its score is the <a",
		"<strong>No spike in the 2 h to the next release</strong>: 0 tickets about pay",
		"The test stops at the next release: it cannot tell this release's tickets after that from the next one's.",
	} {
		if !strings.Contains(p1, want) {
			t.Errorf("p1's impact panel lacks %q:\n%s", want, p1)
		}
	}
	if strings.Contains(p1, "Green") {
		t.Errorf("p1's spike test, cut short by p2, is green:\n%s", p1)
	}
	// p2 ranks below it and its test ran its whole span: green.
	p2 := impactPanel(t, e.page(t, exec, "/records/deployment/import/p2?as_of="+asOf, 200))
	if !strings.Contains(p2, "Release impact score <strong>"+strconv.FormatFloat(scores["p2"], 'f', 2, 64)+"</strong>") || !strings.Contains(p2, ", worst first, of the") || strings.Contains(p2, "its score is the") {
		t.Errorf("p2's impact panel:\n%s", p2)
	}
	// The menu offers release impact to whoever may open it, and to
	// nobody else (engineering may not see release_impact_score).
	if !strings.Contains(e.page(t, exec, "/?as_of="+asOf, 200), `href="/releases`) {
		t.Error("the navigation does not offer release impact to an executive")
	}
	eng := e.sessionAs(t, "engineering")
	e.page(t, eng, "/releases?as_of="+asOf, 403)
	if strings.Contains(e.page(t, eng, "/?as_of="+asOf, 200), `href="/releases`) {
		t.Error("the navigation offers release impact to engineering, which it answers 403")
	}
	// The API's one release carries the same score.
	e.run(t, scenario{url: "/api/v1/releases/import/p1?as_of=" + asOf, status: 200, fields: map[string]string{
		"score": strconv.FormatFloat(scores["p1"], 'f', -1, 64), "baseline": "0",
	}})
	// A release before the window has no score.
	old := impactPanel(t, e.page(t, exec, "/records/deployment/import/p1?as_of=2026-05-01", 200))
	if strings.Contains(old, "Release impact score") {
		t.Errorf("p1's page at a date 39 days after it scores it:\n%s", old)
	}
}

// A deployment's page ranks its release in the release impact score's window, not a fixed 30
// days (code review 2026-12-07, F5): with the metric over 7 days, a release of 16 days before,
// the worst of 30 days, had been called "the worst … its score is the release impact score"
// while the metric's page showed another release and value. ?window= asks for another window,
// which the page names as asked.
func TestRecordPageRanksInTheMetricsWindow(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		cat, err := s.Catalog.Apply(map[string]catalog.Override{"release_impact_score": {Window: "7d"}})
		if err != nil {
			t.Fatal(err)
		}
		s.Catalog = cat
	})
	recs := `{"kind":"deployment","id":"q1","service":"pay","environment":"production","finished_at":"2026-03-15T00:00:00Z","status":"success"}
{"kind":"ticket","id":"v1","created_at":"2026-03-15T10:00:00Z","release":"q1","priority":"urgent"}
{"kind":"ticket","id":"v2","created_at":"2026-03-15T11:00:00Z","release":"q1","priority":"urgent"}
{"kind":"ticket","id":"v3","created_at":"2026-03-15T12:00:00Z","release":"q1","priority":"urgent"}
{"kind":"ticket","id":"v4","created_at":"2026-03-15T13:00:00Z","release":"q1","priority":"urgent"}
{"kind":"ticket","id":"v5","created_at":"2026-03-15T14:00:00Z","release":"q1","priority":"urgent"}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: releaseTickets + recs, status: 200})
	worstIn := func(window string) (string, float64, int) {
		var list struct {
			Releases []struct {
				Deployment string   `json:"deployment"`
				Score      *float64 `json:"score"`
			} `json:"releases"`
		}
		getJSON(t, e, "/api/v1/releases?as_of="+asOf+"&window="+window, &list)
		of, worst := "", -1e9
		for _, r := range list.Releases {
			if r.Score != nil && *r.Score > worst {
				of, worst = r.Deployment, *r.Score
			}
		}
		return of, worst, len(list.Releases)
	}
	var metric struct {
		Metric struct {
			Value  *float64 `json:"value"`
			Window string   `json:"window"`
		} `json:"metric"`
	}
	getJSON(t, e, "/api/v1/metrics/release_impact_score?as_of="+asOf, &metric)
	week, weekScore, n := worstIn("7d")
	month, _, _ := worstIn("30d")
	if month != "q1" || week == month || metric.Metric.Value == nil || *metric.Metric.Value != weekScore {
		t.Fatalf("fixture: the worst of 30 days %s, of 7 days %s (%v), the metric's value %v over %s", month, week, weekScore, *metric.Metric.Value, metric.Metric.Window)
	}
	exec := e.sessionAs(t, "executive")
	// q1 finished before the metric's 7 days: no rank, and not the metric's value.
	if q1 := impactPanel(t, e.page(t, exec, "/records/deployment/import/q1?as_of="+asOf, 200)); strings.Contains(q1, "Release impact score <strong>") || strings.Contains(q1, "its score is") {
		t.Errorf("q1, 16 days old, is ranked on its page though the metric reads 7 days:\n%s", q1)
	}
	// The worst of the 7 days is the metric's value, and says over which window.
	id := week
	panel := impactPanel(t, e.page(t, exec, "/records/deployment/import/"+id+"?as_of="+asOf, 200))
	for _, want := range []string{
		"Release impact score <strong>" + strconv.FormatFloat(weekScore, 'f', 2, 64) + "</strong>",
		"<strong>the worst</strong> of the " + map[bool]string{true: "1 production release", false: strconv.Itoa(n) + " production releases"}[n == 1] + " finished in the 7 days before",
		"(the release impact score's window): its score is the ",
		"release impact score</a> over those 7 days",
	} {
		if !strings.Contains(panel, want) {
			t.Errorf("%s's impact panel lacks %q:\n%s", id, want, panel)
		}
	}
	// The list and a release's API answer without a window are the metric's 7 days too: the
	// list's worst is the metric's value, as its page says; they had been 30 days.
	if of, score, _ := worstIn(""); of != week || score != weekScore {
		t.Errorf("the list without a window: worst %s (%v), want the metric's %s (%v)", of, score, week, weekScore)
	}
	var listed struct{ Window string }
	getJSON(t, e, "/api/v1/releases?as_of="+asOf, &listed)
	if listed.Window != "7d" {
		t.Errorf("the list's window without one asked for: %q, want 7d", listed.Window)
	}
	var one struct{ Score *float64 }
	getJSON(t, e, "/api/v1/releases/import/q1?as_of="+asOf, &one)
	if one.Score != nil {
		t.Errorf("q1, 16 days old, is scored by the API though the metric reads 7 days: %v", *one.Score)
	}
	if page := e.page(t, exec, "/releases?as_of="+asOf, 200); !strings.Contains(page, "finished in the 7 days before") {
		t.Errorf("the release list's page does not read the metric's 7 days")
	}
	// Asked for 30 days, q1 is the worst of them, over the window asked for.
	q1 := impactPanel(t, e.page(t, exec, "/records/deployment/import/q1?as_of="+asOf+"&window=30d", 200))
	if !strings.Contains(q1, "<strong>the worst</strong>") || !strings.Contains(q1, "finished in the 30 days before") || !strings.Contains(q1, "(the window asked for)") {
		t.Errorf("q1 with window=30d:\n%s", q1)
	}
}
