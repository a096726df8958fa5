package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/connect"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// seed is a small organisation; as of 2026-03-31 its 30-day window holds
// four production deployments of api (d2 failed; d4 caused incident i3):
// deployment frequency 3/30 a day, change failure rate 50 %.
const seed = `{"kind":"service","id":"api","name":"API","team":"core","tier":1}
{"kind":"service","id":"web","name":"Web","team":"growth","tier":2}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-03-19T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d4","service":"api","environment":"production","finished_at":"2026-03-30T12:00:00Z","status":"success"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-30T20:00:00Z","resolved_at":"2026-03-30T22:00:00Z"}
{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-30T00:00:00Z","period_end":"2026-03-30T12:00:00Z","good":9995,"total":10000}
`

const asOf = "2026-03-31"

// webhookSecret is the GitHub connector's secret in the test server.
const webhookSecret = "test-webhook-secret"

type env struct {
	url   string
	store store.Store
	srv   *Server
	// token is an API token with roles executive and ingest, sent by do
	// unless the request sets its own Authorization header ("" for none).
	token string
	// tokens are API tokens by role; users the users added, by e-mail.
	tokens map[string]string
	users  map[string]bool
}

// newEnv serves the API over a real SQLite store in a temporary directory,
// seeded with seed. maxBody 0 keeps the default.
func newEnv(t *testing.T, maxBody int64) *env {
	t.Helper()
	return newEnvWith(t, maxBody, nil)
}

// newEnvWith is newEnv with configure run on the server, which will be
// served at url, before its handler is built.
func newEnvWith(t *testing.T, maxBody int64, configure func(s *Server, url string)) *env {
	return newEnvFull(t, maxBody, nil, configure)
}

// newEnvRoles is newEnv with the organisation's role overrides.
func newEnvRoles(t *testing.T, maxBody int64, roles map[string]auth.RoleOverride) *env {
	return newEnvFull(t, maxBody, roles, nil)
}

func newEnvFull(t *testing.T, maxBody int64, roles map[string]auth.RoleOverride, configure func(s *Server, url string)) *env {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "seed.ndjson", Reader: strings.NewReader(seed)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	cat := base.Governed()
	svc := newAuthWith(t, st, cat, roles)
	hooks, err := connect.New(connect.Options{Store: st, Tokens: svc, Config: connect.Config{GitHub: connect.GitHub{Secret: webhookSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(st, metrics.DefaultConfig())
	s := &Server{
		Engine: eng, Catalog: cat, Store: st, MaxBody: maxBody, Auth: svc,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Webhooks: hooks, Connectors: hooks,
		Governance: newGovernance(t, st, cat, eng),
		Alerts:     newAlerts(t, st, cat, eng),
	}
	ts := httptest.NewUnstartedServer(nil)
	if configure != nil {
		configure(s, "http://"+ts.Listener.Addr().String())
	}
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &env{url: ts.URL, store: st, srv: s, token: newToken(t, svc, "test", "executive", "ingest"),
		tokens: map[string]string{}, users: map[string]bool{}}
}

// scenario is one request and what the response must hold.
type scenario struct {
	name    string
	method  string
	url     string
	body    string
	headers map[string]string
	status  int
	// contains are substrings of the body.
	contains []string
	// fields are JSON paths ("errors.0.field") and their values, compared
	// as fmt.Sprint of the decoded JSON.
	fields map[string]string
	// check runs extra assertions on the decoded body.
	check func(t *testing.T, doc any)
}

func (e *env) do(t *testing.T, method, url, body string, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if _, own := headers["Authorization"]; !own {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return send(t, http.DefaultClient, req)
}

// send makes the request and reads the whole answer.
func send(t *testing.T, c *http.Client, req *http.Request) (int, []byte, http.Header) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func (e *env) run(t *testing.T, sc scenario) any {
	t.Helper()
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	status, body, hdr := e.do(t, method, sc.url, sc.body, sc.headers)
	if status != sc.status {
		t.Errorf("%s %s = %d, want %d\n%s", method, sc.url, status, sc.status, body)
	}
	for _, want := range sc.contains {
		if !strings.Contains(string(body), want) {
			t.Errorf("%s %s body lacks %q:\n%s", method, sc.url, want, clip(body))
		}
	}
	var doc any
	if len(sc.fields) > 0 || sc.check != nil || status >= 400 {
		if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s Content-Type = %q, want JSON", method, sc.url, ct)
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, sc.url, err, clip(body))
		}
	}
	if status >= 400 {
		if msg, _ := lookup(doc, "error").(string); msg == "" {
			t.Errorf("%s %s error response without an error message: %s", method, sc.url, clip(body))
		}
	}
	for path, want := range sc.fields {
		if got := fmt.Sprint(lookup(doc, path)); got != want {
			t.Errorf("%s %s: %s = %s, want %s", method, sc.url, path, got, want)
		}
	}
	if sc.check != nil {
		sc.check(t, doc)
	}
	return doc
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// lookup follows a dotted path through decoded JSON; numeric parts index
// arrays. Missing steps give nil.
func lookup(doc any, path string) any {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// metricCard finds a metric's card in a decoded scorecard.
func metricCard(doc any, id string) map[string]any {
	for _, p := range lookup(doc, "pillars").([]any) {
		for _, m := range lookup(p, "metrics").([]any) {
			if c := m.(map[string]any); c["id"] == id {
				return c
			}
		}
	}
	return nil
}

func TestReadAPI(t *testing.T) {
	e := newEnv(t, 0)
	cat, _ := catalog.Default()
	scenarios := []scenario{
		{name: "healthz", url: "/healthz", status: 200, fields: map[string]string{"status": "ok"}},
		{name: "scorecard", url: "/api/v1/scorecard?as_of=" + asOf + "&window=30d", status: 200,
			fields: map[string]string{"as_of": "2026-03-31T00:00:00Z", "window": "30d"},
			check: func(t *testing.T, doc any) {
				n := 0
				for _, p := range lookup(doc, "pillars").([]any) {
					n += len(lookup(p, "metrics").([]any))
				}
				if n != len(cat.Metrics) {
					t.Errorf("scorecard has %d metrics, catalog %d", n, len(cat.Metrics))
				}
				// Four deployments are fewer than change failure rate's
				// minimum sample: the value is shown, the status unknown.
				c := metricCard(doc, "change_failure_rate")
				if c["value"] != 50.0 || c["status"] != "unknown" || c["reason"] != "too few cases (n = 4, needs 5)" {
					t.Errorf("change_failure_rate = %v %v (%v), want 50 unknown: too few cases", c["value"], c["status"], c["reason"])
				}
			}},
		{name: "scorecard as_of with offset is echoed in UTC", url: "/api/v1/scorecard?as_of=2026-03-31T12:00:00%2B02:00&window=2w", status: 200,
			fields: map[string]string{"as_of": "2026-03-31T10:00:00Z", "window": "14d"}},
		{name: "scorecard default window", url: "/api/v1/scorecard?as_of=" + asOf, status: 200,
			fields: map[string]string{"window": "30d"}},
		{name: "bad as_of", url: "/api/v1/scorecard?as_of=yesterday", status: 400,
			fields: map[string]string{"param": "as_of"}, contains: []string{"yesterday"}},
		{name: "bad window", url: "/api/v1/scorecard?as_of=" + asOf + "&window=forever", status: 400,
			fields: map[string]string{"param": "window"}},
		{name: "zero window", url: "/api/v1/scorecard?window=0d", status: 400,
			fields: map[string]string{"param": "window"}},
		{name: "scorecard is read-only", method: "POST", url: "/api/v1/scorecard", status: 405, contains: []string{"GET"}},
		{name: "metrics list", url: "/api/v1/metrics", status: 200,
			check: func(t *testing.T, doc any) {
				ms := lookup(doc, "metrics").([]any)
				if len(ms) != len(cat.Metrics) {
					t.Errorf("%d metrics listed, want %d", len(ms), len(cat.Metrics))
				}
				for _, m := range ms {
					if lookup(m, "id") == "change_failure_rate" && fmt.Sprint(lookup(m, "breakdowns")) != "[team service environment tier business_unit]" {
						t.Errorf("change_failure_rate breakdowns = %v", lookup(m, "breakdowns"))
					}
				}
			}},
		{name: "unknown metric", url: "/api/v1/metrics/nope", status: 404, contains: []string{"nope"}},
		{name: "metric", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf, status: 200,
			fields: map[string]string{"definition.id": "change_failure_rate", "metric.value": "50", "metric.status": "unknown", "metric.count": "4"},
			check: func(t *testing.T, doc any) {
				if n := len(lookup(doc, "records").([]any)); n != 4 {
					t.Errorf("%d records, want 4", n)
				}
			}},
		{name: "metric records paged", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&limit=2&offset=1", status: 200,
			fields: map[string]string{"records_total": "4", "records_offset": "1", "records_limit": "2"},
			check: func(t *testing.T, doc any) {
				if n := len(lookup(doc, "records").([]any)); n != 2 {
					t.Errorf("%d records, want 2", n)
				}
			}},
		{name: "metric records past the end", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&offset=9", status: 200,
			fields: map[string]string{"records_total": "4"},
			check: func(t *testing.T, doc any) {
				if n := len(lookup(doc, "records").([]any)); n != 0 {
					t.Errorf("%d records, want 0", n)
				}
			}},
		{name: "bad limit", url: "/api/v1/metrics/change_failure_rate?limit=0", status: 400,
			fields: map[string]string{"param": "limit"}},
		{name: "bad offset", url: "/api/v1/metrics/change_failure_rate?offset=-1", status: 400,
			fields: map[string]string{"param": "offset"}},
		{name: "metric by team", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&by=team", status: 200,
			fields: map[string]string{"by": "team", "breakdown.0.key": "core", "breakdown.0.value": "50", "breakdown.0.status": "unknown",
				"breakdown.0.reason": "too few cases (n = 4, needs 5)",
				"breakdown.1.key":    "growth", "breakdown.1.value": "<nil>", "breakdown.1.status": "unknown"}},
		{name: "metric by service under a team scope", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&by=service&scope=team:core", status: 200,
			fields: map[string]string{"scope.value": "core", "breakdown.0.key": "api", "breakdown.0.count": "4", "breakdown.1.key": "<nil>"}},
		{name: "metric by bogus", url: "/api/v1/metrics/change_failure_rate?by=bogus", status: 400,
			fields: map[string]string{"param": "by"}, contains: []string{"team, service, environment, tier"}},
		{name: "metric scope", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&scope=team:core", status: 200,
			fields: map[string]string{"scope.dim": "team", "scope.value": "core", "metric.value": "50"}},
		{name: "metric scope of another team", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&scope=team:growth", status: 200,
			fields: map[string]string{"scope.value": "growth", "metric.value": "<nil>", "metric.status": "unknown"}},
		{name: "metric scope of a team that does not exist", url: "/api/v1/metrics/change_failure_rate?as_of=" + asOf + "&scope=team:x", status: 400,
			fields: map[string]string{"param": "scope"}, contains: []string{`team \"x\"`, "core", "growth"}},
		{name: "scope without value", url: "/api/v1/metrics/change_failure_rate?scope=team:", status: 400,
			fields: map[string]string{"param": "scope"}},
		{name: "scope without colon", url: "/api/v1/metrics/change_failure_rate?scope=team", status: 400,
			fields: map[string]string{"param": "scope"}},
		{name: "scope on a bogus dimension", url: "/api/v1/metrics/change_failure_rate?scope=bogus:x", status: 400,
			fields: map[string]string{"param": "scope"}},
		{name: "good by, bogus scope: the error names scope", url: "/api/v1/metrics/change_failure_rate?by=team&scope=bogus:x", status: 400,
			fields: map[string]string{"param": "scope"}},
		{name: "no such route", url: "/api/v1/nothing", status: 404},
		{name: "bad as_of on a metric", url: "/api/v1/metrics/change_failure_rate?as_of=31/03/2026", status: 400,
			fields: map[string]string{"param": "as_of"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
}

func (e *env) counts(t *testing.T) map[domain.Kind]int64 {
	t.Helper()
	c, err := e.store.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) lastSeq(t *testing.T) int64 {
	t.Helper()
	n, err := e.store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deploymentFrequency reads the scorecard as of asOf.
func (e *env) deploymentFrequency(t *testing.T) float64 {
	t.Helper()
	doc := e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf, status: 200, fields: map[string]string{"as_of": "2026-03-31T00:00:00Z"}})
	v, _ := metricCard(doc, "deployment_frequency")["value"].(float64)
	return v
}

const (
	d5 = `{"kind":"deployment","id":"d5","service":"api","environment":"production","finished_at":"2026-03-30T18:00:00Z","status":"success"}`
	d6 = `{"kind":"deployment","id":"d6","service":"api","environment":"production","finished_at":"2026-03-30T19:00:00Z","status":"success"}`
	// bad lacks finished_at.
	bad = `{"kind":"deployment","id":"bad","service":"api","environment":"production","status":"success"}`
)

func TestPostRecords(t *testing.T) {
	e := newEnv(t, 0)
	if got := e.deploymentFrequency(t); got != 0.1 {
		t.Fatalf("seeded deployment_frequency = %v, want 3/30", got)
	}

	// An invalid line: 400 naming line and field, and nothing stored, not
	// even the valid line before it.
	seq := e.lastSeq(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: d5 + "\n" + bad + "\n", status: 400,
		fields:   map[string]string{"errors.0.line": "2", "errors.0.field": "finished_at"},
		contains: []string{"line 2", "finished_at", "nothing was stored"}})
	if got := e.lastSeq(t); got != seq {
		t.Fatalf("an invalid body changed the store: seq %d → %d", seq, got)
	}
	if got := e.deploymentFrequency(t); got != 0.1 {
		t.Fatalf("after a refused body deployment_frequency = %v, want 3/30 still", got)
	}

	// Valid NDJSON lands and the next read sees it.
	body := d5 + "\n" + d6 + "\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: body, headers: map[string]string{"Content-Type": "application/x-ndjson"}, status: 200,
		fields: map[string]string{"records": "2", "inserted": "2", "replaced": "0", "unchanged": "0", "by_kind.deployment.inserted": "2"}})
	if got := e.deploymentFrequency(t); got != 5.0/30 {
		t.Errorf("after posting two deployments deployment_frequency = %v, want 5/30", got)
	}
	// The same body again changes nothing.
	seq = e.lastSeq(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: body, status: 200,
		fields: map[string]string{"records": "2", "inserted": "0", "replaced": "0", "unchanged": "2"}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("re-posting identical records changed the store: seq %d → %d", seq, got)
	}
	// d5 twice in one body: the second is counted as repeated, named by
	// both lines, and not as unchanged.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: d5 + "\n" + d5 + "\n", status: 200,
		fields: map[string]string{"records": "2", "unchanged": "1", "repeated": "1", "by_kind.deployment.repeated": "1",
			"repeats.0.file": "body", "repeats.0.line": "2", "repeats.0.earlier_line": "1", "repeats.0.kind": "deployment", "repeats.0.id": "d5"}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("re-posting d5 twice changed the store: seq %d → %d", seq, got)
	}
	// A changed record replaces the old one: d6 failed after all.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: strings.Replace(d6, `"success"`, `"failure"`, 1), status: 200,
		fields: map[string]string{"inserted": "0", "replaced": "1"}})
	if got := e.deploymentFrequency(t); got != 4.0/30 {
		t.Errorf("after d6 became a failure deployment_frequency = %v, want 4/30", got)
	}

	// skip_invalid lands the valid lines and reports the others.
	d7 := strings.ReplaceAll(d5, "d5", "d7")
	e.run(t, scenario{method: "POST", url: "/api/v1/records?skip_invalid=true", body: bad + "\n" + d7 + "\n", status: 200,
		fields: map[string]string{"inserted": "1", "invalid": "1", "skipped.0.line": "1", "skipped.0.field": "finished_at"}})
	if got := e.deploymentFrequency(t); got != 5.0/30 {
		t.Errorf("after skip_invalid deployment_frequency = %v, want 5/30", got)
	}

	// CSV with the kind as a parameter.
	csv := "id,service,environment,finished_at,status\nc1,api,production,2026-03-30T20:00:00Z,success\nc2,web,prod,2026-03-30T21:00:00Z,success\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: csv, headers: map[string]string{"Content-Type": "text/csv; charset=utf-8"}, status: 200,
		fields: map[string]string{"inserted": "2", "by_kind.deployment.inserted": "2"}})
	if got := e.deploymentFrequency(t); got != 7.0/30 {
		t.Errorf("after the CSV deployment_frequency = %v, want 7/30", got)
	}
	// An invalid CSV row names its line (the header is line 1).
	seq = e.lastSeq(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: "id,service,environment,finished_at,status\nc3,api,production,2026-03-30T20:00:00Z,success\nc4,api,production,2026-03-30T21:00:00Z,maybe\n",
		headers: map[string]string{"Content-Type": "text/csv"}, status: 400,
		fields: map[string]string{"errors.0.line": "3", "errors.0.field": "status"}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("an invalid CSV changed the store")
	}
	// A header without a column every record needs: one problem, line 1,
	// the column named in the errors as a row's field would be.
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: "id,service,environment,status\nc5,api,production,success\nc6,api,production,success\n",
		headers: map[string]string{"Content-Type": "text/csv"}, status: 400,
		fields: map[string]string{"errors.0.line": "1", "errors.0.field": "finished_at",
			// Not "0 invalid records": no record was read.
			"error": "the CSV header is refused; nothing was stored: line 1 field finished_at: the header lacks this column: every deployment record needs it"}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("a CSV with a refused header changed the store")
	}
	// A media type is case-insensitive (RFC 9110): Text/CSV is CSV, not
	// NDJSON refused line by line.
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: strings.ReplaceAll(csv, "c1,", "c7,"),
		headers: map[string]string{"Content-Type": "Text/CSV; Charset=UTF-8"}, status: 200,
		fields: map[string]string{"by_kind.deployment.inserted": "1", "by_kind.deployment.unchanged": "1"}})
	// CSV's other names (application/csv, text/comma-separated-values, …)
	// are CSV too: a leads file sent as application/csv had been read as
	// NDJSON and refused line by line, "not a JSON object".
	for i, ct := range []string{"application/csv", "text/x-csv", "application/x-csv", "text/comma-separated-values"} {
		e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: strings.ReplaceAll(csv, "c1,", fmt.Sprintf("a%d,", i)),
			headers: map[string]string{"Content-Type": ct}, status: 200,
			fields: map[string]string{"by_kind.deployment.inserted": "1", "by_kind.deployment.unchanged": "1"}})
	}
}

func TestPostRecordsInputErrors(t *testing.T) {
	e := newEnv(t, 0)
	seq := e.lastSeq(t)
	scenarios := []scenario{
		{name: "unknown kind parameter", method: "POST", url: "/api/v1/records?kind=bogus", body: d5, status: 400,
			fields: map[string]string{"param": "kind"}},
		{name: "record of another kind than the parameter", method: "POST", url: "/api/v1/records?kind=incident", body: d5, status: 400,
			fields: map[string]string{"errors.0.line": "1"}},
		{name: "not JSON", method: "POST", url: "/api/v1/records", body: "hello\n", status: 400,
			fields: map[string]string{"errors.0.line": "1"}},
		// A CSV body cannot be named after its kind like a file: without a
		// kind column or parameter the client is told what to add, not
		// given a 500.
		{name: "CSV without a kind", method: "POST", url: "/api/v1/records", body: "id,service\nx,api\n",
			headers: map[string]string{"Content-Type": "text/csv"}, status: 400, contains: []string{"?kind="},
			fields: map[string]string{"param": "kind"},
			check: func(t *testing.T, doc any) {
				if msg := lookup(doc, "error").(string); strings.Contains(msg, "--kind") {
					t.Errorf("an API client is told about a command-line flag: %q", msg)
				}
			}},
		{name: "CSV header with a repeated column", method: "POST", url: "/api/v1/records?kind=deployment", body: "id,id\nx,y\n",
			headers: map[string]string{"Content-Type": "text/csv"}, status: 400, contains: []string{"twice"}},
		{name: "skip_invalid that is not a boolean", method: "POST", url: "/api/v1/records?skip_invalid=please", body: d5, status: 400,
			fields: map[string]string{"param": "skip_invalid"}},
		// One reading of a boolean for the API's two: 1, true, 0, false.
		{name: "skip_invalid=yes", method: "POST", url: "/api/v1/records?skip_invalid=yes", body: d5, status: 400,
			fields: map[string]string{"param": "skip_invalid", "error": `skip_invalid: "yes" is not 1, true, 0 or false`}},
		{name: "at_risk=t", url: "/api/v1/customers?at_risk=t", status: 400,
			fields: map[string]string{"param": "at_risk", "error": `at_risk: "t" is not 1, true, 0 or false`}},
		{name: "GET is not allowed", url: "/api/v1/records", status: 405},
		// A body the import could only misread is a 415 saying what to
		// send, not a 400 refusing its gzip bytes or a form's boundaries
		// line by line as "not a JSON object".
		{name: "compressed body", method: "POST", url: "/api/v1/records", body: "\x1f\x8b\x08\x00", headers: map[string]string{"Content-Encoding": "gzip"}, status: 415,
			fields: map[string]string{"code": "unsupported_media_type"}, contains: []string{"uncompressed"}},
		{name: "form upload", method: "POST", url: "/api/v1/records", body: "--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + d5 + "\r\n--x--\r\n",
			headers: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, status: 415,
			fields: map[string]string{"code": "unsupported_media_type"}, contains: []string{"--data-binary"}},
		// A type naming another format is a 415 too, as the README says,
		// whatever the body holds.
		{name: "XML", method: "POST", url: "/api/v1/records", body: d5, headers: map[string]string{"Content-Type": "application/xml"}, status: 415,
			fields: map[string]string{"code": "unsupported_media_type"}, contains: []string{"NDJSON"}},
		// Windows names a .csv file application/vnd.ms-excel: read as CSV.
		{name: "a CSV named as Excel", method: "POST", url: "/api/v1/records?kind=deployment", body: "id,service\nx,api\n", headers: map[string]string{"Content-Type": "application/vnd.ms-excel"}, status: 400,
			contains: []string{"finished_at"}},
		{name: "a spreadsheet", method: "POST", url: "/api/v1/records", body: "PK\x03\x04", headers: map[string]string{"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, status: 415,
			fields: map[string]string{"code": "unsupported_media_type"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
	if got := e.lastSeq(t); got != seq {
		t.Errorf("refused requests changed the store: seq %d → %d", seq, got)
	}
	// The types NDJSON is sent under are read as NDJSON.
	for i, ct := range []string{"application/x-ndjson", "application/json", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"} {
		body := strings.Replace(d5, `"id":"d5"`, fmt.Sprintf(`"id":"ct%d"`, i), 1)
		e.run(t, scenario{method: "POST", url: "/api/v1/records", body: body, headers: map[string]string{"Content-Type": ct}, status: 200,
			fields: map[string]string{"inserted": "1"}})
	}
	// skip_invalid=1 is a boolean too.
	e.run(t, scenario{method: "POST", url: "/api/v1/records?skip_invalid=1", body: bad + "\n" + d5 + "\n", status: 200,
		fields: map[string]string{"inserted": "1", "invalid": "1"}})
}

func TestPostRecordsBodyLimit(t *testing.T) {
	e := newEnv(t, 300)
	before := e.counts(t)
	seq := e.lastSeq(t)
	// Two valid lines fit in 300 bytes; the third does not.
	var lines []string
	for i := range 3 {
		lines = append(lines, strings.ReplaceAll(d5, "d5", fmt.Sprintf("big%d", i)))
	}
	body := strings.Join(lines, "\n") + "\n"
	if len(body) <= 300 || len(lines[0])+len(lines[1])+2 > 300 {
		t.Fatalf("test body of %d bytes does not straddle the limit", len(body))
	}
	for _, q := range []string{"", "?skip_invalid=true"} {
		e.run(t, scenario{method: "POST", url: "/api/v1/records" + q, body: body, status: 413, contains: []string{"300 bytes"}})
	}
	if got := e.lastSeq(t); got != seq || fmt.Sprint(e.counts(t)) != fmt.Sprint(before) {
		t.Errorf("an oversized body changed the store")
	}
	// The same for CSV.
	csv := "id,service,environment,finished_at,status\n" + strings.Repeat("c1,api,production,2026-03-30T20:00:00Z,success\n", 10)
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: csv, headers: map[string]string{"Content-Type": "text/csv"}, status: 413})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("an oversized CSV body changed the store")
	}
	// A body under the limit is fine.
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: lines[0], status: 200, fields: map[string]string{"inserted": "1"}})
}

// Concurrent posts share store transactions (group commit); each still
// gets the answer it would have got alone.
func TestPostRecordsConcurrent(t *testing.T) {
	e := newEnv(t, 0)
	const clients, posts = 8, 12
	type answer struct {
		status int
		doc    map[string]any
	}
	answers := make(chan answer, clients*posts)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range posts {
				// Every post writes its own deployment and "shared" (two
				// variants, so some writes replace and some change
				// nothing); every third one is refused for a bad line.
				own := strings.ReplaceAll(d5, `"d5"`, fmt.Sprintf(`"c%d-%d"`, c, p))
				shared := strings.ReplaceAll(d6, `"d6"`, `"shared"`)
				if (c+p)%2 == 1 {
					shared = strings.Replace(shared, `"success"`, `"failure"`, 1)
				}
				body := own + "\n" + shared + "\n"
				if p%3 == 2 {
					body += bad + "\n"
				}
				req, _ := http.NewRequest("POST", e.url+"/api/v1/records", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var doc map[string]any
				json.NewDecoder(resp.Body).Decode(&doc)
				resp.Body.Close()
				answers <- answer{resp.StatusCode, doc}
			}
		}()
	}
	wg.Wait()
	close(answers)
	var ok, refused int
	var inserted, replaced, unchanged float64
	for a := range answers {
		switch a.status {
		case 200:
			ok++
			ins, rep, unch := a.doc["inserted"].(float64), a.doc["replaced"].(float64), a.doc["unchanged"].(float64)
			if a.doc["records"] != 2.0 || ins+rep+unch != 2 || ins < 1 {
				t.Errorf("answer %v: want its own deployment inserted and shared counted once", a.doc)
			}
			inserted, replaced, unchanged = inserted+ins, replaced+rep, unchanged+unch
		case 400:
			refused++
			if a.doc["errors"].([]any)[0].(map[string]any)["line"] != 3.0 {
				t.Errorf("refused post: %v, want line 3 named", a.doc)
			}
		default:
			t.Errorf("status %d: %v", a.status, a.doc)
		}
	}
	if ok != clients*posts*2/3 || refused != clients*posts/3 {
		t.Fatalf("%d posts stored and %d refused", ok, refused)
	}
	// Each accepted post inserted its own deployment; shared was inserted
	// once and then replaced or left unchanged by every other post.
	if inserted != float64(ok)+1 || replaced+unchanged != float64(ok)-1 {
		t.Errorf("inserted %v, replaced %v, unchanged %v over %d posts", inserted, replaced, unchanged, ok)
	}
	if got := e.counts(t)[domain.KindDeployment]; got != 4+int64(ok)+1 {
		t.Errorf("%d deployments stored, want the seed's 4, %d posted and shared", got, ok)
	}
}

// poisonStore refuses to write the deployment "poison".
type poisonStore struct{ store.Store }

func (s poisonStore) Begin(ctx context.Context) (store.Batch, error) {
	b, err := s.Store.Begin(ctx)
	return poisonBatch{b}, err
}

type poisonBatch struct{ store.Batch }

// AddEach goes through Add, which does the refusing.
func (b poisonBatch) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	return store.AddInTurn(ctx, b, lists)
}

func (b poisonBatch) Add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	for _, it := range items {
		if it.Key.ID == "poison" {
			return store.WriteResult{}, errors.New("disk on fire")
		}
	}
	return b.Batch.Add(ctx, items)
}

// A store error is the server's (500, details only in the log), and fails
// only the request it belongs to.
func TestPostRecordsStoreError(t *testing.T) {
	e := newEnv(t, 0)
	srv := *e.srv
	srv.Store = poisonStore{e.store}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	status := make([]int, 6)
	bodies := make([]string, 6)
	var wg sync.WaitGroup
	for i := range status {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("ok%d", i)
			if i == 3 {
				id = "poison"
			}
			req, _ := http.NewRequest("POST", ts.URL+"/api/v1/records", strings.NewReader(strings.ReplaceAll(d5, `"d5"`, `"`+id+`"`)))
			req.Header.Set("Authorization", "Bearer "+e.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status[i], bodies[i] = resp.StatusCode, string(b)
		}()
	}
	wg.Wait()
	for i, st := range status {
		want := 200
		if i == 3 {
			want = 500
		}
		if st != want || (want == 500) != strings.Contains(bodies[i], "internal error") {
			t.Errorf("post %d: %d %s, want %d", i, st, bodies[i], want)
		}
	}
	if got := e.counts(t)[domain.KindDeployment]; got != 4+5 {
		t.Errorf("%d deployments stored, want the seed's 4 and 5 posted", got)
	}
}

// /healthz reports the store's sequence, whether or not a read has
// brought the engine up to it: after records are posted, before any read.
func TestHealthzReportsStoreSeq(t *testing.T) {
	e := newEnv(t, 0)
	e.deploymentFrequency(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: d5 + "\n" + d6 + "\n", status: 200})
	doc := e.run(t, scenario{url: "/healthz", status: 200, fields: map[string]string{"status": "ok"}})
	if got, want := lookup(doc, "seq"), e.lastSeq(t); got != float64(want) || want == 0 {
		t.Errorf("healthz seq = %v, want the store's %d", got, want)
	}
}

// fullStore is a store whose file system is full, as Full says.
type fullStore struct {
	store.Store
	err error
}

func (f fullStore) Full() error { return f.err }

// /healthz says when every write fails for want of room while reads go on:
// still 200, so a load balancer keeps sending the reads, but "degraded",
// with the file system named to a principal with sources:read only; it had
// said "ok" while every import and webhook failed.
func TestHealthzSaysTheStoreIsFull(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Store = fullStore{Store: e.srv.Store, err: errors.New("the store /data/candor.db has no room")}
	for _, tc := range []struct{ auth, want, not string }{
		{"", "writes fail: the store's file system is full", "/data"},
		{"Bearer " + newToken(t, e.srv.Auth, "monitor", "engineering"), "/data/candor.db has no room", "writes fail"},
	} {
		status, body, _ := e.do(t, "GET", "/healthz", "", map[string]string{"Authorization": tc.auth})
		var doc struct {
			Status    string `json:"status"`
			StoreFull string `json:"store_full"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || status != 200 || doc.Status != "degraded" ||
			!strings.Contains(doc.StoreFull, tc.want) || strings.Contains(doc.StoreFull, tc.not) {
			t.Errorf("/healthz with %q: %d %s; want 200, degraded, store_full saying %q", tc.auth, status, body, tc.want)
		}
	}
}

// A 2 MB service is refused naming the line, the field and the bound, and
// nothing is stored; every problem of a record is in errors.
func TestPostRecordsBoundsAndEveryProblem(t *testing.T) {
	e := newEnv(t, 0)
	seq := e.lastSeq(t)
	huge := fmt.Sprintf(`{"kind":"deployment","id":"big","service":%q,"environment":"production","finished_at":"2026-03-30T18:00:00Z","status":"success"}`, strings.Repeat("s", 2<<20))
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: d5 + "\n" + huge + "\n", status: 400,
		fields:   map[string]string{"errors.0.line": "2", "errors.0.field": "service"},
		contains: []string{"1 invalid record; nothing was stored: line 2 field service: is 2097152 bytes long; an identifier or name is at most 256 bytes"}})
	three := `{"kind":"deployment","id":"x","service":"api","finished_at":"soon","status":"ok"}`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: three + "\n", status: 400,
		fields: map[string]string{"errors.0.field": "environment", "errors.1.field": "finished_at", "errors.2.field": "status", "errors.2.line": "1"},
		check: func(t *testing.T, doc any) {
			if n := len(lookup(doc, "errors").([]any)); n != 3 {
				t.Errorf("%d errors, want 3", n)
			}
		}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("refused bodies changed the store: seq %d → %d", seq, got)
	}
}

func TestParseTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-03-01T10:00:00Z", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true},
		{"2026-03-01T10:00:00+02:00", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), true},
		{"2026-03-01T10:00:00.5Z", time.Date(2026, 3, 1, 10, 0, 0, 5e8, time.UTC), true},
		{"01/03/2026", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tc := range cases {
		got, err := ParseTime(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (!got.Equal(tc.want) || got.Location() != time.UTC)) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMetricNotComputed(t *testing.T) {
	e := newEnv(t, 0)
	// A catalog entry the engine has no computation for (a new definition
	// ahead of its code): the scorecard says so, the drill-down is 501.
	m := e.srv.Catalog.Metrics[0]
	m.ID, m.Name = "not_yet", "Not yet"
	e.srv.Catalog.Metrics = append(e.srv.Catalog.Metrics, m)
	e.run(t, scenario{url: "/api/v1/metrics/not_yet", status: 501, contains: []string{"not computed yet"}})
	doc := e.run(t, scenario{url: "/api/v1/scorecard?as_of=" + asOf, status: 200, fields: map[string]string{"window": "30d"}})
	if c := metricCard(doc, "not_yet"); c == nil || c["status"] != "unknown" || c["reason"] != "not computed yet" {
		t.Errorf("not_yet card = %v, want unknown, not computed yet", c)
	}
}

// /healthz tells anyone what a health check alarms on — readiness, the
// sequences, the lag, quarantined rows — and only a principal that may
// read the data sources report the engine's image, copies, result cache
// and last error, which name files and the database's address.
func TestHealthzDetailNeedsSourcesRead(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Engine.Image = filepath.Join(t.TempDir(), "dataset.image")
	if _, err := e.srv.Engine.WriteImage(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.deploymentFrequency(t)
	summary := []string{"ready", "published_seq", "store_seq", "lag_ms", "lagging", "quarantined_rows"}
	for _, tc := range []struct {
		name, token string
		detail      bool
	}{
		{"anyone", "", false},
		{"a token without sources:read", newToken(t, e.srv.Auth, "pusher", "ingest"), false},
		{"a token with sources:read", newToken(t, e.srv.Auth, "monitor", "engineering"), true},
	} {
		auth := ""
		if tc.token != "" {
			auth = "Bearer " + tc.token
		}
		status, body, _ := e.do(t, "GET", "/healthz", "", map[string]string{"Authorization": auth})
		if status != 200 {
			t.Fatalf("%s: %d %s", tc.name, status, body)
		}
		var doc struct {
			Status string         `json:"status"`
			Seq    int64          `json:"seq"`
			Engine map[string]any `json:"engine"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Status != "ok" || doc.Seq == 0 {
			t.Errorf("%s: status %q seq %d", tc.name, doc.Status, doc.Seq)
		}
		for _, k := range summary {
			if _, ok := doc.Engine[k]; !ok {
				t.Errorf("%s: engine.%s missing", tc.name, k)
			}
		}
		_, image := doc.Engine["image"]
		_, copies := doc.Engine["copies"]
		if image != tc.detail || copies != tc.detail {
			t.Errorf("%s: image shown %v, copies shown %v, want %v:\n%s", tc.name, image, copies, tc.detail, body)
		}
		if d, _ := doc.Engine["detail"].(string); tc.detail == (d != "") {
			t.Errorf("%s: detail %q", tc.name, d)
		}
	}
}

// An API route that reads a JSON body refuses a body whose Content-Type
// says it is something else (415 naming what to send) rather than read it
// as JSON anyway; no Content-Type, JSON with a charset, and an empty body
// of any type are taken. Records and webhooks read their own types.
func TestJSONRoutesRefuseOtherContentTypes(t *testing.T) {
	e := newEnv(t, 0)
	pathParam := regexp.MustCompile(`\{[a-z]+\}`)
	refused := 0
	for _, rt := range e.srv.Routes() {
		if rt.Kind != API || rt.Method != "POST" || ownBodyTypes[rt.Method+" "+rt.Pattern] {
			continue
		}
		path := pathParam.ReplaceAllString(rt.Pattern, "1")
		for _, ctype := range []string{"application/xml", "application/x-www-form-urlencoded", "text/plain"} {
			e.run(t, scenario{name: rt.Pattern + " " + ctype, method: "POST", url: path, body: `{}`, headers: map[string]string{"Content-Type": ctype},
				status: 415, fields: map[string]string{"code": "unsupported_media_type"}, contains: []string{"application/json"}})
		}
		refused++
	}
	if refused < 10 {
		t.Errorf("only %d JSON routes checked", refused)
	}
	body := `{"metric":"change_failure_rate","expected":50,"as_of":"2026-03-31"}`
	for _, ctype := range []string{"", "application/json; charset=utf-8", "Application/JSON"} {
		e.run(t, scenario{name: "reconciliation as " + ctype, method: "POST", url: "/api/v1/reconciliations", body: body, headers: map[string]string{"Content-Type": ctype}, status: 201})
	}
	// A route that reads no body, asked with curl -d '' (a form type, nothing sent).
	e.run(t, scenario{name: "empty form", method: "POST", url: "/api/v1/shares/999999/revoke", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 404})
}

// A record dated more than a day past the clock (a mistyped year) is
// stored as written and said in the answer, as candor import --json says
// it: the API had answered it without a word.
func TestPostRecordsSaysFutureTimes(t *testing.T) {
	e := newEnv(t, 0)
	ahead := time.Now().UTC().AddDate(1, 0, 0).Format(time.RFC3339)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body:   `{"kind":"deployment","id":"typo","service":"api","environment":"production","finished_at":"` + ahead + `","status":"success"}` + "\n",
		fields: map[string]string{"inserted": "1", "future_times.0.kind": "deployment", "future_times.0.field": "finished_at", "future_times.0.count": "1", "future_times.0.line": "1"}})
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"deployment","id":"today","service":"api","environment":"production","finished_at":"` + time.Now().UTC().Format(time.RFC3339) + `","status":"success"}` + "\n",
		check: func(t *testing.T, doc any) {
			if lookup(doc, "future_times") != nil {
				t.Errorf("a record of today is said to lie ahead: %v", doc)
			}
			if lookup(doc, "empty_body") != nil {
				t.Errorf("a body with a record is said to be empty: %v", doc)
			}
		}})
}

// An empty body, or one of blank lines, stores nothing and is answered
// 200 with empty_body, so a sender posting a file that never got its
// content is told.
func TestPostRecordsSaysEmptyBody(t *testing.T) {
	e := newEnv(t, 0)
	for _, body := range []string{"", "\n\n"} {
		e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: body,
			fields: map[string]string{"records": "0", "inserted": "0", "empty_body": "true"}})
	}
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", status: 200, body: "id,service,environment,finished_at,status\n",
		headers: map[string]string{"Content-Type": "text/csv"},
		fields:  map[string]string{"records": "0", "empty_body": "true"}})
}
