package web

import (
	"strconv"
	"strings"
	"testing"
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
	for _, want := range []string{"Customer impact", "2 tickets in the observation window", "1 naming this release, 1 about api", "/records/ticket/import/k1"} {
		if !strings.Contains(body, want) {
			t.Errorf("d4's page lacks %q", want)
		}
	}
	list := e.page(t, exec, "/releases?as_of="+asOf, 200)
	if i, j := strings.Index(list, ">d4<"), strings.Index(list, ">d1<"); i < 0 || j < 0 || i > j {
		t.Errorf("the release list does not put d4 (2 tickets) before d1 (none)")
	}
}

func TestInsightsAPI(t *testing.T) {
	e := newEnv(t, 0)
	doc := e.run(t, scenario{url: "/api/v1/insights?as_of=" + asOf, status: 200, fields: map[string]string{"time_zone": "UTC"}})
	quiet, _ := lookup(doc, "quiet").([]any)
	if len(quiet) != 6 {
		t.Errorf("the seed is too small for any insight: want 6 quiet analyses, got %v", quiet)
	}
	e.run(t, scenario{url: "/api/v1/insights?window=soon", status: 400, fields: map[string]string{"param": "window"}})
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
	if page := e.page(t, exec, "/releases?as_of="+asOf, 200); !strings.Contains(page, "3.5 <span class=\"muted\">(2 responses)") || !strings.Contains(page, "in the 30 days before") {
		t.Errorf("the release list does not show d4's CSAT or its window in days")
	}
	if page := e.page(t, exec, "/records/deployment/import/d4?as_of="+asOf, 200); !strings.Contains(page, "CSAT 3.5 from 2 responses") {
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
}
