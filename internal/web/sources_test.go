package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

// GET /api/v1/sources is the data sources report as JSON (the logic and its
// tests are in scorecard.Sources; this checks the route and its parameter).
func TestSourcesAPI(t *testing.T) {
	e := newEnv(t, 0)
	for _, sc := range []scenario{
		{name: "sources", url: "/api/v1/sources?as_of=" + asOf, status: 200,
			fields: map[string]string{"as_of": "2026-03-31T00:00:00Z", "problems": "[]"},
			check: func(t *testing.T, doc any) {
				kinds := map[string]any{}
				for _, k := range lookup(doc, "kinds").([]any) {
					kinds[fmt.Sprint(lookup(k, "kind"))] = k
				}
				d := kinds["deployment"]
				if fmt.Sprint(lookup(d, "records"), " ", lookup(d, "last_data"), " ", lookup(d, "limit"), " ", lookup(d, "status")) != "4 2026-03-30T12:00:00Z 1d fresh" {
					t.Errorf("deployment = %v", d)
				}
				if s := fmt.Sprint(lookup(kinds["lead"], "status")); s != "never_sent" {
					t.Errorf("lead status = %s, want never_sent", s)
				}
				// A state kind with records and no connector: nothing judges
				// it by age (SPEC §4), and the report does not call it fresh.
				if s := fmt.Sprint(lookup(kinds["service"], "status"), " ", lookup(kinds["service"], "state")); s != "not_judged true" {
					t.Errorf("service status, state = %s, want not_judged true", s)
				}
			}},
		{name: "as of before any data", url: "/api/v1/sources?as_of=2026-01-01", status: 200,
			fields: map[string]string{"kinds.1.kind": "deployment", "kinds.1.records": "0", "kinds.1.status": "never_sent"}},
		{name: "bad as_of", url: "/api/v1/sources?as_of=soon", status: 400,
			fields: map[string]string{"param": "as_of"}, contains: []string{"soon"}},
		{name: "read-only", method: "POST", url: "/api/v1/sources", status: 405},
	} {
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
}

// The data sources report lists each connector heard from or configured:
// its deliveries by outcome over the period, its latest rejects with
// their reasons and the event their headers named (never their
// payloads), when it last worked and its status.
func TestSourcesAPIConnectors(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/webhooks/github", body: `{"secret":"payload"}`, status: http.StatusUnauthorized,
		headers: map[string]string{"Authorization": "", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-9", "X-Hub-Signature-256": "sha256=00"}})
	e.run(t, scenario{url: "/api/v1/sources?period=2d", status: 200,
		fields: map[string]string{"connectors.0.source": "github", "connectors.0.period": "2d", "connectors.0.counts.rejected": "1",
			"connectors.0.counts.accepted": "0", "connectors.0.rejects.0.delivery_id": "d-9", "connectors.0.rejects.0.event": "ping",
			"connectors.0.not_logged": "0", "connectors.0.configured": "true",
			"connectors.0.status": "never_sent", "connectors.0.last_ok": "<nil>", "connectors.0.limit": "1d"},
		check: func(t *testing.T, doc any) {
			if r := fmt.Sprint(lookup(doc, "connectors.0.rejects.0.reason")); !strings.Contains(r, "X-Hub-Signature-256 does not match") {
				t.Errorf("reject reason %q", r)
			}
		}})
	e.run(t, scenario{url: "/api/v1/sources", status: 200, check: func(t *testing.T, doc any) {
		if strings.Contains(fmt.Sprint(doc), `"secret"`) {
			t.Errorf("a payload is in the report")
		}
	}})
	e.run(t, scenario{name: "bad period", url: "/api/v1/sources?period=forever", status: 400, fields: map[string]string{"param": "period"}})
}

// The review's flood: 300 deliveries with a bad signature are all
// refused with a 401, but past the 60 a minute a source's refusals are
// logged at the rest are counted, not logged. The API's rejected count is
// every one of them, and not_logged says how many have no log entry; the
// page's connectors table has the column, and says what it counts. (The
// rejected count had risen by 64, the log's entries, and only the server
// log said more were refused.)
func TestSourcesRefusalsNotLogged(t *testing.T) {
	e := newEnv(t, 0)
	const flood = 300
	for i := range flood {
		status, body, _ := e.do(t, "POST", "/webhooks/github", `{"zen":"flood"}`, map[string]string{"Authorization": "", "X-GitHub-Event": "ping",
			"X-GitHub-Delivery": fmt.Sprintf("f-%d", i), "X-Hub-Signature-256": "sha256=00"})
		if status != http.StatusUnauthorized {
			t.Fatalf("delivery %d: %d %s", i, status, body)
		}
	}
	var notLogged int
	e.run(t, scenario{url: "/api/v1/sources", status: 200, fields: map[string]string{"connectors.0.source": "github", "connectors.0.counts.rejected": fmt.Sprint(flood)},
		check: func(t *testing.T, doc any) {
			n, ok := lookup(doc, "connectors.0.not_logged").(float64)
			// The clock runs: a few more than 60 may be logged as the
			// allowance refills, one a second.
			if !ok || n < flood-90 || n > flood-60 {
				t.Errorf("not_logged %v, want the refusals past the 60 or so logged", lookup(doc, "connectors.0.not_logged"))
			}
			notLogged = int(n)
		}})
	p := e.page(t, e.sessionAs(t, "executive"), "/sources", 200)
	mustContain(t, "the sources page after the flood", p, []string{`<th scope="col" class="num">Not logged</th>`,
		`<td class="num" data-label="Not logged">` + fmt.Sprint(notLogged) + `</td>`, `<a href="#sec-rejects">300</a>`,
		`<p class="src-notlogged muted">Not logged: deliveries refused unverified`})
	quiet := newEnv(t, 0)
	mustContain(t, "the sources page with nothing not logged", quiet.page(t, quiet.sessionAs(t, "executive"), "/sources", 200),
		[]string{`<td class="num" data-label="Not logged"><span class="muted">0</span></td>`}, "src-notlogged")
}

// The data sources page shows what the API reports of the connectors:
// each one's status, when it last worked and its deliveries by outcome,
// and the deliveries refused with their reasons (never their payloads).
// It had said "no connector delivers to Candor yet" whatever arrived.
func TestSourcesPageConnectors(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")
	before := e.page(t, exec, "/sources", 200)
	// The test server's GitHub connector is configured: listed before it
	// delivers, as never having worked.
	mustContain(t, "the sources page before any delivery", before, []string{`<th scope="row">github`, "Never worked", "None refused."}, "no connector delivers")
	e.run(t, scenario{method: "POST", url: "/webhooks/github", body: `{"secret":"payload"}`, status: http.StatusUnauthorized,
		headers: map[string]string{"Authorization": "", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-9", "X-Hub-Signature-256": "sha256=00"}})
	p := e.page(t, exec, "/sources", 200)
	mustContain(t, "the sources page", p, []string{`class="table table--tight table--stack src-connectors"`, `<th scope="row">github`,
		"Never worked", `<span class="muted">never</span>`, `<a href="#sec-rejects">1</a>`, "<code>d-9</code>", "X-Hub-Signature-256 does not match"},
		"no connector delivers", `"secret"`, "None refused.")

	// A server with no connector says so, in both sections.
	none := newEnvWith(t, 0, func(s *Server, _ string) { s.Connectors = nil })
	mustContain(t, "the sources page of a server with no connector", none.page(t, none.sessionAs(t, "executive"), "/sources", 200),
		[]string{"No connector is set up or has delivered", "None: no connector delivers yet."}, "src-connectors")
}

// A state kind fed by a configured connector is judged on the page as the
// API judges it, by the connector's health: the page had passed no
// connector to the report, so a Stripe-fed book that the API called stale
// read "Not judged" there.
func TestSourcesPageJudgesStateKindsByConnector(t *testing.T) {
	e := stripeFedEnv(t)
	e.run(t, scenario{url: "/api/v1/sources?as_of=" + asOf, status: 200, check: func(t *testing.T, doc any) {
		for i := 0; ; i++ {
			k := lookup(doc, fmt.Sprintf("kinds.%d.kind", i))
			if k == nil {
				t.Fatal("no subscription kind in the API's report")
			}
			if k == "subscription" {
				if st := lookup(doc, fmt.Sprintf("kinds.%d.status", i)); st != "stale" {
					t.Fatalf("the API's subscription status %v, want stale (the test's premise)", st)
				}
				return
			}
		}
	}})
	row := kindsRow(t, e.page(t, e.sessionAs(t, "executive"), "/sources?as_of="+asOf, 200), "subscription")
	if !strings.Contains(row, "status--red") || !strings.Contains(row, ">Stale<") {
		t.Errorf("the page's subscription row, fed by a Stripe connector that never worked:\n%s", row)
	}
}

// A subscription book fed by a configured Stripe connector that has not
// delivered within the limit makes MRR unknown, the reason naming it.
func TestScorecardUnknownByConnector(t *testing.T) {
	e := stripeFedEnv(t)
	e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf, status: 200, check: func(t *testing.T, doc any) {
		c := metricCard(doc, "mrr")
		if c["status"] != "unknown" || c["reason"] != "connector stripe: no successful delivery or sync yet (it feeds subscription)" || c["value"] == nil {
			t.Errorf("mrr = %v %q (value %v)", c["status"], c["reason"], c["value"])
		}
	}})
	// The pages read the same options.
	e.run(t, scenario{url: "/api/v1/metrics/mrr?as_of=" + asOf, status: 200, contains: []string{"connector stripe"}})
}

// A metric page's Sources row says a quota period in force is open, as the
// sources page does, rather than give the page's own as-of as the time
// quota data last arrived ("quota newest 31 Mar 2026 12:00 UTC").
func TestMetricSourcesSayPeriodOpen(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	exec := e.sessionAs(t, "executive")
	for _, id := range []string{"quota_attainment", "pipeline_coverage"} {
		p := e.page(t, exec, "/metrics/"+id+"?as_of=2026-03-31T12:00:00Z", 200)
		i := strings.Index(p, "<li><strong>quota</strong>")
		if i < 0 {
			t.Fatalf("%s: no quota row under Sources", id)
		}
		row := p[i : i+strings.Index(p[i:], "</li>")]
		if !strings.Contains(row, ">period open</span>") || strings.Contains(row, "12:00 UTC") {
			t.Errorf("%s: the quota row of a period in force:\n%s", id, row)
		}
		// The opportunities' newest is a time, as before.
		j := strings.Index(p, "<li><strong>opportunity</strong>")
		if j < 0 || !strings.Contains(p[j:j+strings.Index(p[j:], "</li>")], "newest 10 Mar 2026") {
			t.Errorf("%s: the opportunity row lost its time", id)
		}
	}
}

// The sources page gives a full vulnerability scan's time as the
// vulnerabilities' newest data, saying it is a scan, where no record is
// newer: a clean scan makes the kind fresh with no record.
func TestSourcesPageSaysFullScan(t *testing.T) {
	e := newEnv(t, 0)
	at := time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC)
	_, err := ingest.ImportEntries(context.Background(), e.store, ingest.Options{}, func(add func(ingest.Entry) error) error {
		return add(ingest.Entry{Record: &domain.VulnerabilityScan{Meta: domain.Meta{ID: "3f2a@2026-03-30T06:00:00Z", Source: "trivy"},
			Scanner: "trivy", Target: "registry.example.com/api", ScannedAt: at}})
	})
	if err != nil {
		t.Fatal(err)
	}
	p := e.page(t, e.sessionAs(t, "admin"), "/sources?as_of="+asOf, 200)
	i := strings.Index(p, `<th scope="row">vulnerability</th>`)
	if i < 0 {
		t.Fatalf("no vulnerability row:\n%s", p)
	}
	row := p[i : i+strings.Index(p[i:], "</tr>")]
	if !strings.Contains(row, "30 Mar 2026 06:00 UTC (a full scan)") || !strings.Contains(row, ">Fresh<") {
		t.Errorf("the vulnerability row after a clean full scan:\n%s", row)
	}
}

// stripeFedEnv is a server whose Stripe connector is configured and has
// never delivered, holding the revenue seed: its subscription book is
// stale by the connector's health.
func stripeFedEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		hooks, err := connect.New(connect.Options{Store: s.Store, Config: connect.Config{Stripe: connect.Stripe{Secret: "whsec_test"}}})
		if err != nil {
			t.Fatal(err)
		}
		s.Connectors = hooks
	})
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "revenue.ndjson", Reader: strings.NewReader(revenueSeed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return e
}
