package scorecard

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
)

// quietBook: a subscription book of five customers (NRR's minimum sample)
// in which nothing started or ended for over a year, and a quota set two months ago.
const quietBook = `
{"kind":"subscription","id":"s1","customer":"acme","started_at":"2024-06-01T00:00:00Z","mrr":1000}
{"kind":"subscription","id":"s2","customer":"globex","started_at":"2024-09-01T00:00:00Z","mrr":500}
{"kind":"subscription","id":"s3","customer":"initech","started_at":"2024-10-01T00:00:00Z","mrr":300}
{"kind":"subscription","id":"s4","customer":"umbrella","started_at":"2024-11-01T00:00:00Z","mrr":200}
{"kind":"subscription","id":"s5","customer":"hooli","started_at":"2025-01-01T00:00:00Z","mrr":100}
{"kind":"opportunity","id":"o1","created_at":"2026-03-30T00:00:00Z","qualified_at":"2026-03-30T01:00:00Z","amount":100,"stage":"open","close_date":"2026-04-15"}
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-07-01T00:00:00Z","amount":1000}
`

// SPEC §4: state kinds (service, subscription, quota, target, budget,
// spend) are never stale by their records' own times: a quiet book is
// not a broken feed. A kind that never sent anything is still unknown.
func TestStateKindsNeverStale(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), quietBook)
	sc := Build(cat, ds, Options{AsOf: asOf})
	for _, id := range []string{"mrr", "arr", "nrr", "grr", "logo_churn_rate", "pipeline_coverage"} {
		c := card(t, sc, id)
		if c.Freshness.Stale {
			t.Errorf("%s is stale (%q, %+v): its book is quiet, not stale", id, c.Reason, c.Freshness.Sources)
		}
		if c.Value == nil {
			t.Errorf("%s has no value", id)
		}
	}
	// Every customer kept its MRR: 100 %, amber against 110 / 100.
	if c := card(t, sc, "nrr"); c.Status != catalog.Amber {
		t.Errorf("nrr = %s (%q), want amber", c.Status, c.Reason)
	}
	// cac reads spend, a state kind with no record at all: never sent.
	if c := card(t, sc, "cac"); !c.Freshness.Stale || c.Status != catalog.Unknown {
		t.Errorf("cac = %s (stale %v): spend never sent, want unknown", c.Status, c.Freshness.Stale)
	}
}

// sourcesData has a fresh event kind, a stale one, a quiet state kind, and
// three data problems: an unknown listed change, a caused_by naming a
// staging deployment, and an incident resolved before the deployment it
// caused finished.
const sourcesData = `
{"kind":"service","id":"api","name":"API"}
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-30T10:00:00Z","status":"success","changes":["c9"]}
{"kind":"deployment","id":"s1","source":"ci","service":"api","environment":"staging","finished_at":"2026-03-29T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","source":"ci","service":"api","environment":"production","finished_at":"2026-04-02T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","source":"ci","service":"api","severity":"P2","opened_at":"2026-03-30T08:00:00Z","resolved_at":"2026-03-30T09:00:00Z","caused_by":"d1"}
{"kind":"incident","id":"i2","source":"ci","service":"api","severity":"P3","opened_at":"2026-03-20T00:00:00Z","caused_by":"s1"}
{"kind":"ticket","id":"t1","created_at":"2026-03-01T00:00:00Z"}
{"kind":"subscription","id":"sub1","customer":"acme","started_at":"2025-01-01T00:00:00Z","mrr":1000}
`

func TestSourcesReport(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), sourcesData)
	r := Sources(cat, ds, asOf)
	if !r.AsOf.Equal(asOf) {
		t.Errorf("as_of = %v", r.AsOf)
	}
	if len(r.Kinds) != len(domain.Kinds) {
		t.Fatalf("%d kinds listed, want every kind (%d)", len(r.Kinds), len(domain.Kinds))
	}
	by := map[string]KindSource{}
	for _, k := range r.Kinds {
		by[k.Kind] = k
	}
	at := func(s string) *time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return &v
	}
	cases := []struct {
		kind    string
		records int
		last    *time.Time
		limit   string
		state   bool
		status  string
		probs   int
	}{
		// d2 finishes after as_of: not counted, not data yet.
		{"deployment", 2, at("2026-03-30T10:00:00Z"), "1d", false, KindFresh, 1},
		{"incident", 2, at("2026-03-30T09:00:00Z"), "7d", false, KindFresh, 2},
		{"ticket", 1, at("2026-03-01T00:00:00Z"), "1d", false, KindStale, 0},
		// State kinds with records and no connector: not judged, not fresh.
		{"subscription", 1, at("2025-01-01T00:00:00Z"), "", true, KindNotJudged, 0},
		{"service", 1, nil, "", true, KindNotJudged, 0},
		{"lead", 0, nil, "1d", false, KindNeverSent, 0},
		{"spend", 0, nil, "", true, KindNeverSent, 0},
		// quota's catalog limit is 95d, but it is a state kind.
		{"quota", 0, nil, "", true, KindNeverSent, 0},
	}
	for _, c := range cases {
		k := by[c.kind]
		if k.Records != c.records || k.Limit != c.limit || k.State != c.state || k.Status != c.status || k.Problems != c.probs {
			t.Errorf("%s = %+v, want records %d, limit %q, state %v, status %s, problems %d", c.kind, k, c.records, c.limit, c.state, c.status, c.probs)
		}
		if (k.LastData == nil) != (c.last == nil) || (c.last != nil && !k.LastData.Equal(*c.last)) {
			t.Errorf("%s last data = %v, want %v", c.kind, k.LastData, c.last)
		}
	}
	var got []string
	for _, p := range r.Problems {
		got = append(got, string(p.Kind)+" "+p.ID+" "+p.Field)
	}
	want := []string{"deployment d1 changes", "incident i1 resolved_at", "incident i2 caused_by"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("problems = %q, want %q", got, want)
	}
	// The JSON shape the API and CLI serve.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"as_of":"2026-03-31T00:00:00Z"`, `"kind":"deployment","records":2,"last_data":"2026-03-30T10:00:00Z","limit":"1d","status":"fresh","problems":1`,
		`"kind":"spend","records":0,"last_data":null,"state":true,"status":"never_sent","problems":0`,
		`"problems":[{"kind":"deployment","source":"ci","id":"d1","field":"changes","reason":"names change c9, which is not in the data; it links nothing"}`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("JSON lacks %s:\n%s", frag, b)
		}
	}
	text := SourcesText(r, TextOptions{})
	for _, frag := range []string{"Data sources as of 2026-03-31T00:00:00Z", "ticket", "stale", "never sent",
		"not judged (state kind: never stale by its records' own times)", "Data problems (3):", "incident ci/i2 caused_by: names deployment s1, which is not a production deployment (environment staging); it links nothing"} {
		if !strings.Contains(text, frag) {
			t.Errorf("text lacks %q:\n%s", frag, text)
		}
	}
}

// A state kind that nothing judges by age (SPEC §4: no configured
// connector feeds it) is not_judged, never fresh: a review found the
// subscription book, quotas and the other state kinds "fresh" beside
// "never stale", green covering both a kind found current and one not
// looked at. A configured connector that worked within the limit judges
// it, and then it is fresh. A period begun and not ended (the quarter's
// quota) says so in the text rather than give as_of as its last data, as
// the page does; the JSON keeps last_data and adds period_open.
func TestSourcesReportStateKindsNotJudged(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), quietBook)
	r := Sources(cat, ds, asOf)
	by := map[string]KindSource{}
	for _, k := range r.Kinds {
		by[k.Kind] = k
	}
	for kind, want := range map[string]string{"subscription": KindNotJudged, "quota": KindNotJudged, "opportunity": KindFresh, "spend": KindNeverSent, "budget": KindNeverSent} {
		if got := by[kind].Status; got != want {
			t.Errorf("%s status %s, want %s", kind, got, want)
		}
	}
	if q := by["quota"]; !q.PeriodOpen || q.LastData == nil || !q.LastData.Equal(asOf) {
		t.Errorf("quota = %+v, want period_open with last_data as_of", q)
	}
	if by["subscription"].PeriodOpen || by["opportunity"].PeriodOpen {
		t.Errorf("period_open on a kind whose newest data is a time: %+v %+v", by["subscription"], by["opportunity"])
	}
	b, _ := json.Marshal(r)
	for _, frag := range []string{`"kind":"quota","records":1,"last_data":"2026-03-31T00:00:00Z","period_open":true,"state":true,"status":"not_judged"`,
		`"kind":"subscription","records":5,"last_data":"2025-01-01T00:00:00Z","state":true,"status":"not_judged"`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("JSON lacks %s:\n%s", frag, b)
		}
	}
	lines := map[string]string{}
	for _, l := range strings.Split(SourcesText(r, TextOptions{}), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	if l := lines["quota"]; !strings.Contains(l, PeriodOpenText) || strings.Contains(l, "2026-03-31") || !strings.Contains(l, "not judged (state kind") {
		t.Errorf("quota line %q, want period open and not judged", l)
	}
	if l := lines["subscription"]; !strings.Contains(l, "2025-01-01T00:00:00Z") || strings.Contains(l, "fresh") || !strings.Contains(l, "not judged") {
		t.Errorf("subscription line %q, want its last data and not judged", l)
	}
	if l := lines["opportunity"]; !strings.Contains(l, "2026-03-30T01:00:00Z") || !strings.Contains(l, "fresh") {
		t.Errorf("opportunity line %q, want its time and fresh", l)
	}
	if l := SourcesText(r, TextOptions{Color: true}); !strings.Contains(l, ansiDim+"not judged"+ansiReset) {
		t.Errorf("not judged is not painted dim (neutral):\n%s", l)
	}

	// Fed by a configured connector that worked within its limit, the
	// book is judged, and fresh.
	recent := asOf.Add(-2 * day)
	stripe := health.Connector{Source: "stripe", Kinds: []string{"subscription"}, Webhook: true, Configured: true, LastOK: &recent}
	for _, k := range Sources(cat, ds, asOf, stripe).Kinds {
		if k.Kind == "subscription" && (k.Status != KindFresh || k.Limit != "35d") {
			t.Errorf("subscription fed by a connector that worked = %+v, want fresh, limit 35d", k)
		}
	}
}

// Stored rows the engine quarantined are on the page, JSON and text, so
// someone can repair them; an empty list is [] in JSON.
func TestSourcesReportQuarantine(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), sourcesData)
	if b, _ := json.Marshal(Sources(cat, ds, asOf)); !strings.Contains(string(b), `"quarantined":[]`) {
		t.Errorf("JSON without quarantined rows lacks \"quarantined\":[]:\n%s", b)
	}
	ds.Quarantine(domain.Key{Kind: domain.KindDeployment, Source: "ci", ID: "d9"}, 42, "stored record deployment/ci/d9 is corrupt: unexpected end of JSON input")
	r := Sources(cat, ds, asOf)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"quarantined":[{"kind":"deployment","source":"ci","id":"d9","seq":42,"reason":"stored record deployment/ci/d9 is corrupt: unexpected end of JSON input"}]`; !strings.Contains(string(b), want) {
		t.Errorf("JSON lacks %s:\n%s", want, b)
	}
	if text, want := SourcesText(r, TextOptions{}), "deployment ci/d9 (seq 42): stored record deployment/ci/d9 is corrupt"; !strings.Contains(text, want) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
}

// A configured limit replaces the catalog's for the page as it does for
// the cards.
func TestSourcesReportConfiguredLimit(t *testing.T) {
	cfg := metrics.DefaultConfig()
	cfg.Freshness = map[domain.Kind]time.Duration{domain.KindTicket: 40 * day}
	r := Sources(defaultCatalog(t), load(t, cfg, sourcesData), asOf)
	for _, k := range r.Kinds {
		if k.Kind == "ticket" && (k.Limit != "40d" || k.Status != KindFresh) {
			t.Errorf("ticket = %+v, want limit 40d, fresh", k)
		}
	}
}

// The drill-down of failed_deployment_recovery_time shows the negative
// span's data problem, in JSON and in text.
func TestDetailShowsDataProblems(t *testing.T) {
	ds := load(t, metrics.DefaultConfig(), sourcesData)
	d, err := Detail(defaultCatalog(t), ds, "failed_deployment_recovery_time", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) == 0 || d.Problems[0].ID != "i1" || d.Problems[0].Field != "resolved_at" {
		t.Fatalf("problems = %v, want incident i1's resolved_at first", d.Problems)
	}
	b, _ := json.Marshal(d)
	if !strings.Contains(string(b), `"problems":[{"kind":"incident","source":"ci","id":"i1","field":"resolved_at"`) {
		t.Errorf("JSON lacks the problem:\n%s", b)
	}
	text := DetailText(d, TextOptions{})
	if !strings.Contains(text, "Data problems (2):") || !strings.Contains(text, "incident ci/i1 resolved_at: resolved at 2026-03-30T09:00:00Z, 1h0m0s before deployment d1") {
		t.Errorf("text lacks the problem:\n%s", text)
	}
}

// docs/configuration.md states each kind's default freshness limit; it
// must say what the catalog and the state-kind rule make it.
func TestConfigurationDocStatesFreshness(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	cat := defaultCatalog(t)
	ds := metrics.NewDataset(metrics.DefaultConfig())
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, "|"); len(f) == 5 && strings.HasPrefix(strings.TrimSpace(f[1]), "`") {
			rows[strings.Trim(strings.TrimSpace(f[1]), "`")] = strings.TrimSpace(f[2])
		}
	}
	for _, k := range domain.Kinds {
		got, ok := rows[string(k)]
		switch {
		case !ok:
			t.Errorf("docs/configuration.md has no freshness row for %s", k)
		case k.State():
			if got != "never stale" {
				t.Errorf("docs/configuration.md: %s limit %q, want never stale (a state kind)", k, got)
			}
		default:
			d, err := catalog.ParseWindow(got)
			if want := kindLimit(cat, ds, k); err != nil || d != want {
				t.Errorf("docs/configuration.md: %s limit %q, want %s", k, got, want)
			}
		}
	}
}

// SPEC §4: a state kind fed by a configured connector is stale when that
// connector has not worked (no successful delivery or sync) within the
// kind's limit: the metrics reading it are unknown, the reason names the
// connector. A connector that worked recently, or one not configured,
// changes nothing; event kinds keep their own rule.
func TestConnectorHealthMakesStateKindsStale(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), quietBook)
	lastOK := asOf.Add(-40 * 24 * time.Hour)
	stripe := health.Connector{Source: "stripe", Kinds: []string{"subscription"}, Webhook: true, Configured: true, LastOK: &lastOK}
	sc := Build(cat, ds, Options{AsOf: asOf, Connectors: []health.Connector{stripe}})
	for _, id := range []string{"mrr", "nrr"} {
		c := card(t, sc, id)
		want := "connector stripe: no successful delivery or sync since " + lastOK.Format(time.RFC3339) + " (it feeds subscription)"
		if c.Status != catalog.Unknown || c.Reason != want || !c.Freshness.Stale || c.Value == nil {
			t.Errorf("%s = %s %q (value %v), want unknown, %q, the value kept", id, c.Status, c.Reason, c.Value, want)
		}
	}
	if c := card(t, sc, "pipeline_coverage"); c.Freshness.Stale {
		t.Errorf("pipeline_coverage reads no subscription, yet is stale: %q", c.Reason)
	}

	never := stripe
	never.LastOK = nil
	if c := card(t, Build(cat, ds, Options{AsOf: asOf, Connectors: []health.Connector{never}}), "mrr"); c.Reason != "connector stripe: no successful delivery or sync yet (it feeds subscription)" {
		t.Errorf("mrr with a configured connector that never worked: %q", c.Reason)
	}
	recent := asOf.Add(-2 * 24 * time.Hour)
	fresh := stripe
	fresh.LastOK = &recent
	notConfigured := stripe
	notConfigured.Configured = false
	for _, conns := range [][]health.Connector{{fresh}, {notConfigured}} {
		if c := card(t, Build(cat, ds, Options{AsOf: asOf, Connectors: conns}), "nrr"); c.Freshness.Stale || c.Status != catalog.Amber {
			t.Errorf("nrr with %+v: %s %q, want amber as without connectors", conns[0], c.Status, c.Reason)
		}
	}

	// The data sources report: the subscription row is stale by its
	// connector, with the limit; the connector is judged.
	r := Sources(cat, ds, asOf, stripe, health.Connector{Source: "github", Kinds: []string{"deployment", "change"}})
	for _, k := range r.Kinds {
		if k.Kind == "subscription" && (k.Status != KindStale || k.Connector != "stripe" || k.Limit != "35d") {
			t.Errorf("subscription row %+v, want stale by connector stripe, limit 35d", k)
		}
	}
	if len(r.Connectors) != 2 || r.Connectors[0].Status != KindStale || r.Connectors[0].Limit != "35d" || r.Connectors[1].Status != ConnectorNotConfigured {
		t.Errorf("connectors %+v", r.Connectors)
	}
	text := SourcesText(r, TextOptions{})
	for _, want := range []string{"stripe", "subscription", "stale: connector stripe has not worked within 35d", "not configured"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// Where the metrics reading a kind judge it by different limits, the
// report gives the range: the kind is stale by the shortest, and a metric
// allowing longer stays judged until its own passes (a review found
// incidents "stale" at 1d on /sources while time to restore, at 7d, was
// still amber and fresh). A configured limit is every metric's: no range.
func TestSourcesReportLimitRange(t *testing.T) {
	cat := defaultCatalog(t)
	tightened := false
	for i := range cat.Metrics {
		for j := range cat.Metrics[i].Sources {
			if s := &cat.Metrics[i].Sources[j]; s.Kind == "incident" && !tightened {
				s.Freshness, tightened = day, true
			}
		}
	}
	r := Sources(cat, load(t, metrics.DefaultConfig(), sourcesData), asOf)
	for _, k := range r.Kinds {
		switch k.Kind {
		case "incident":
			if k.Limit != "1d" || k.Longest != "7d" {
				t.Errorf("incident = %+v, want limit 1d, longest 7d", k)
			}
		case "deployment":
			if k.Longest != "" {
				t.Errorf("deployment, one limit for every metric, shows a range to %s", k.Longest)
			}
		}
	}
	if text := SourcesText(r, TextOptions{}); !strings.Contains(text, "1d–7d") {
		t.Errorf("text lacks the range 1d–7d:\n%s", text)
	}
	cfg := metrics.DefaultConfig()
	cfg.Freshness = map[domain.Kind]time.Duration{domain.KindIncident: 3 * day}
	for _, k := range Sources(cat, load(t, cfg, sourcesData), asOf).Kinds {
		if k.Kind == "incident" && (k.Limit != "3d" || k.Longest != "") {
			t.Errorf("configured incident = %+v, want limit 3d and no range", k)
		}
	}
}

// A flood of refusals past the rate they are logged at is counted: the
// text's connector row has the whole rejected count and how many of them
// were not logged, with a note saying what that is, where it had shown
// the 64 logged of 300 refused as if that were all; a reject whose event
// was known names it.
func TestSourcesTextSaysNotLogged(t *testing.T) {
	cat := defaultCatalog(t)
	at := asOf.Add(-time.Hour)
	gh := health.Connector{Source: "github", Kinds: []string{"deployment", "change"}, Webhook: true, Configured: true, Period: "7d",
		Counts:    map[string]int64{"accepted": 5, "duplicate": 0, "ignored": 1, "rejected": 300},
		NotLogged: 236,
		Rejects: []health.Reject{{At: at, DeliveryID: "d-9", Event: "deployment_status", Reason: "X-Hub-Signature-256 does not match"},
			{At: at, Reason: "no X-Hub-Signature-256 header"}}}
	quiet := health.Connector{Source: "gitlab", Kinds: []string{"deployment", "change"}, Period: "7d", Counts: map[string]int64{"rejected": 0}}
	text := SourcesText(Sources(cat, load(t, metrics.DefaultConfig(), sourcesData), asOf, gh, quiet), TextOptions{})
	var row string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "github ") {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) < 4 || !slices.Equal(f[len(f)-5:], []string{"5", "0", "1", "300", "236"}) {
		t.Errorf("github row %q, want its counts 5 0 1 300 and 236 not logged", row)
	}
	for _, want := range []string{"ignored rejected not logged", health.NotLoggedNote,
		"rejected " + at.Format(time.RFC3339) + " d-9 deployment_status: X-Hub-Signature-256 does not match",
		"rejected " + at.Format(time.RFC3339) + " (no delivery id): no X-Hub-Signature-256 header"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(health.NotLoggedNote, "60 a minute") {
		t.Errorf("the note %q does not say the rate", health.NotLoggedNote)
	}
	quietText := SourcesText(Sources(cat, load(t, metrics.DefaultConfig(), sourcesData), asOf, quiet), TextOptions{})
	if strings.Contains(quietText, "Not logged:") {
		t.Errorf("the note with nothing not logged:\n%s", quietText)
	}
}

// JudgeKind is the data sources report's judgement of one kind, which the
// customer list and pages give for the kinds they read: every kind of the
// report, for an event kind stale and fresh, a state kind not judged and
// one a configured connector made stale, is what JudgeKind says of it
// (but the problems and unrated money, which the report alone counts).
func TestJudgeKindIsTheReportsJudgement(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), sourcesData)
	lastOK := asOf.Add(-40 * 24 * time.Hour)
	stripe := health.Connector{Source: "stripe", Kinds: []string{"subscription"}, Webhook: true, Configured: true, LastOK: &lastOK}
	for _, conns := range [][]health.Connector{nil, {stripe}} {
		r := Sources(cat, ds, asOf, conns...)
		for _, want := range r.Kinds {
			want.Problems, want.Unrated = 0, 0
			got := JudgeKind(cat, ds, domain.Kind(want.Kind), asOf, conns)
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			if string(a) != string(b) {
				t.Errorf("JudgeKind(%s) with %d connectors = %s, the report says %s", want.Kind, len(conns), a, b)
			}
		}
	}
	for _, c := range []struct {
		kind     domain.Kind
		conns    []health.Connector
		status   string
		limit    string
		conn     string
		lastData string
	}{
		{domain.KindTicket, nil, KindStale, "1d", "", "2026-03-01T00:00:00Z"},
		{domain.KindDeployment, nil, KindFresh, "1d", "", "2026-03-30T10:00:00Z"},
		{domain.KindSurvey, nil, KindNeverSent, "1d", "", ""},
		{domain.KindSubscription, nil, KindNotJudged, "", "", "2025-01-01T00:00:00Z"},
		{domain.KindSubscription, []health.Connector{stripe}, KindStale, "35d", "stripe", "2025-01-01T00:00:00Z"},
	} {
		k := JudgeKind(cat, ds, c.kind, asOf, c.conns)
		last := ""
		if k.LastData != nil {
			last = k.LastData.Format(time.RFC3339)
		}
		if k.Status != c.status || k.Limit != c.limit || k.Connector != c.conn || last != c.lastData {
			t.Errorf("JudgeKind(%s) = %+v, want %s, limit %q, connector %q, last data %q", c.kind, k, c.status, c.limit, c.conn, c.lastData)
		}
	}
}
