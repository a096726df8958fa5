package web

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/retention"
)

// customerRecords: as of 2026-03-31 over 30 days, acme moved from s1 (1,000)
// to s2 (800) on 20 March — contraction, not churn — and has an escalated
// ticket open past its SLA naming d1 and an NPS of 3; initech (no
// subscription) had a ticket resolved late; globex shows nothing.
const customerRecords = `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2025-01-01T00:00:00Z","ended_at":"2026-03-20T00:00:00Z","mrr":1000,"plan":"pro"}
{"kind":"subscription","id":"s2","customer":"acme","started_at":"2026-03-20T00:00:00Z","mrr":800,"plan":"team"}
{"kind":"subscription","id":"g1","customer":"globex","started_at":"2025-06-01T00:00:00Z","mrr":500,"plan":"pro"}
{"kind":"ticket","id":"k1","customer":"acme","created_at":"2026-03-25T00:00:00Z","sla_due_at":"2026-03-26T00:00:00Z","escalated":true,"release":"d1","priority":"high"}
{"kind":"ticket","id":"k2","customer":"initech","created_at":"2026-03-10T00:00:00Z","resolved_at":"2026-03-15T00:00:00Z","sla_due_at":"2026-03-11T00:00:00Z"}
{"kind":"survey","id":"v1","customer":"acme","at":"2026-03-28T00:00:00Z","type":"nps","score":3,"release":"d1"}
`

func customerEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: customerRecords, status: 200})
	return e
}

func (e *env) apiAs(t *testing.T, role, path string) (int, []byte) {
	t.Helper()
	status, body, _ := e.call(t, "GET", path, "", "", caller{name: role, roles: []string{role}, token: e.roleToken(t, role)})
	return status, body
}

// TestCustomerAPI: one customer's records and signals, and the lists, in
// JSON; amounts left out for a role without revenue:read; 404 naming an
// unknown customer; 403 for a role whose metrics read no customer records;
// 400 naming a bad at_risk.
func TestCustomerAPI(t *testing.T) {
	e := customerEnv(t)
	status, body := e.apiAs(t, "vp_cs", "/api/v1/customers/acme?as_of="+asOf)
	if status != 200 {
		t.Fatalf("acme as vp_cs: %d %s", status, clip(body))
	}
	var c struct {
		Customer string
		Window   string
		Currency string
		MRR      *struct{ Value *float64 }      `json:"mrr"`
		Month    *struct{ Value *float64 }      `json:"mrr_30_days_before"`
		Subs     []map[string]any               `json:"subscriptions"`
		Tickets  []map[string]any               `json:"tickets"`
		Surveys  []map[string]any               `json:"surveys"`
		Releases []struct{ ID string }          `json:"releases"`
		Signals  []struct{ Kind, Words string } `json:"signals"`
		Hidden   bool                           `json:"amounts_hidden"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Customer != "acme" || c.Window != "30d" || c.Currency != "USD" || c.MRR == nil || *c.MRR.Value != 800 || *c.Month.Value != 1000 {
		t.Errorf("acme = %s", clip(body))
	}
	if len(c.Subs) != 2 || c.Subs[0]["id"] != "s2" || c.Subs[0]["mrr"] != 800.0 || len(c.Tickets) != 1 || c.Tickets[0]["sla"] != "breached" ||
		len(c.Surveys) != 1 || len(c.Releases) != 1 || c.Releases[0].ID != "d1" {
		t.Errorf("acme's records = %s", clip(body))
	}
	var kinds []string
	for _, s := range c.Signals {
		kinds = append(kinds, s.Kind)
	}
	if got := strings.Join(kinds, " "); got != "contraction sla_breach escalation nps_detractor" || c.Signals[0].Words != "MRR −200.00 USD (−20 %) over 30 days" {
		t.Errorf("signals = %+v", c.Signals)
	}

	// Support sees logo churn's subscriptions, SLA adherence's tickets and
	// CSAT's surveys, without amounts: no MRR, no contraction.
	status, body = e.apiAs(t, "support", "/api/v1/customers/acme?as_of="+asOf)
	if status != 200 {
		t.Fatalf("acme as support: %d %s", status, clip(body))
	}
	if s := string(body); !strings.Contains(s, `"amounts_hidden": true`) || !strings.Contains(s, `"mrr": null`) || strings.Contains(s, `"mrr": 800`) ||
		strings.Contains(s, "USD") || strings.Contains(s, `"contraction"`) {
		t.Errorf("acme as support shows amounts:\n%s", clip(body))
	}

	for _, role := range []string{"ingest", "admin"} {
		if status, body := e.apiAs(t, role, "/api/v1/customers/acme?as_of="+asOf); status != http.StatusForbidden {
			t.Errorf("acme as %s: %d, want 403\n%s", role, status, clip(body))
		}
	}
	status, body = e.apiAs(t, "vp_cs", "/api/v1/customers/nobody-inc?as_of="+asOf)
	if status != 404 || !strings.Contains(string(body), `"not_found"`) || !strings.Contains(string(body), `no customer \"nobody-inc\"`) {
		t.Errorf("an unknown customer: %d %s", status, clip(body))
	}
	// Its records are not in existence yet on 1 January 2025 either.
	if status, body := e.apiAs(t, "vp_cs", "/api/v1/customers/initech?as_of=2025-01-01"); status != 404 {
		t.Errorf("initech before its first record: %d %s", status, clip(body))
	}

	status, body = e.apiAs(t, "vp_cs", "/api/v1/customers?at_risk=1&as_of="+asOf)
	var l struct {
		AtRisk     bool `json:"at_risk"`
		Considered int  `json:"customers_considered"`
		Customers  []struct {
			Customer string
			MRR      *float64 `json:"mrr"`
			AtStake  *float64 `json:"mrr_at_stake"`
		}
	}
	if err := json.Unmarshal(body, &l); err != nil || status != 200 {
		t.Fatalf("at risk: %d %s", status, clip(body))
	}
	if !l.AtRisk || len(l.Customers) != 2 || l.Considered != 3 || l.Customers[0].Customer != "acme" || *l.Customers[0].AtStake != 1000 || l.Customers[1].Customer != "initech" || l.Customers[1].MRR != nil {
		t.Errorf("at risk = %s", clip(body))
	}
	status, body = e.apiAs(t, "vp_cs", "/api/v1/customers?as_of="+asOf)
	if err := json.Unmarshal(body, &l); err != nil || status != 200 || len(l.Customers) != 3 || l.AtRisk {
		t.Errorf("every customer: %d %s", status, clip(body))
	}
	status, body = e.apiAs(t, "vp_cs", "/api/v1/customers?at_risk=maybe")
	if status != 400 || !strings.Contains(string(body), "at_risk") {
		t.Errorf("at_risk=maybe: %d %s", status, clip(body))
	}
}

// TestCustomerPages: the at-risk list names each customer's signals and
// links its page; the page shows its records, open tickets first, with
// links to record pages only for who may read them; the metric pages'
// cohort tables, records tables and record pages link the customer.
func TestCustomerPages(t *testing.T) {
	e := customerEnv(t)
	cs := e.sessionAs(t, "vp_cs")
	list := e.page(t, cs, "/customers?as_of="+asOf, 200)
	for _, want := range []string{`href="/customers/acme?as_of=2026-03-31"`, `<option value="">30 days</option>`, "MRR −200.00 USD (−20 %) over 30 days", "1 ticket past SLA (1 open past due)",
		"1 ticket past SLA (1 resolved late in the 30 days)", "1 open escalated ticket", "NPS detractor: 3 on 28 Mar 2026", ">Customers</a>"} {
		if !strings.Contains(list, want) {
			t.Errorf("the at-risk list lacks %q", want)
		}
	}
	if strings.Contains(list, "/customers/globex") {
		t.Error("globex, with no signal, is on the at-risk list")
	}
	// Set against the three customers of the window: globex's subscription
	// holds it among them.
	if !strings.Contains(list, "<strong>3</strong> in the window") {
		t.Error("the at-risk list does not say how many customers the window holds")
	}
	// It says what "worst" means: the gravest signal, then MRR at stake.
	if !strings.Contains(list, "Customers, gravest signal first") || !strings.Contains(list, "Worst first: by the gravest signal — churned, then MRR contraction, then an open escalated ticket, then an NPS detractor or a CSAT of 2 or less, then tickets past SLA — then, within each, by MRR at stake") {
		t.Error("the at-risk list does not say its order")
	}
	// A page at a time, worst first: acme (MRR contraction), then initech
	// (a ticket past SLA).
	first := e.page(t, cs, "/customers?as_of="+asOf+"&limit=1", 200)
	if !strings.Contains(first, "1–1 of 2") || !strings.Contains(first, `href="/customers?as_of=2026-03-31&amp;limit=1&amp;offset=1#sec-customers"`) ||
		!strings.Contains(first, "/customers/acme") || strings.Contains(first, "/customers/initech") {
		t.Errorf("the list's first page of one:\n%s", clip([]byte(first)))
	}
	if second := e.page(t, cs, "/customers?as_of="+asOf+"&limit=1&offset=1", 200); !strings.Contains(second, "/customers/initech") {
		t.Error("the list's second page does not hold initech")
	}
	e.page(t, cs, "/customers?limit=0", 400)
	quiet := e.page(t, cs, "/customers?as_of=2026-01-01", 200)
	// acme and globex subscribed then; initech's ticket came later.
	if !strings.Contains(quiet, "None of 2 customers shows a risk signal in the 30 days to 1 Jan 2026 00:00 UTC.") {
		t.Errorf("an empty list does not say so:\n%s", clip([]byte(quiet)))
	}

	page := e.page(t, cs, "/customers/acme?as_of="+asOf, 200)
	for _, want := range []string{"800.00 USD", "1,000.00 USD", "now −200.00 USD (−20 %)", "SLA breached", "breached: open 5 days past due", "detractor", "Releases its tickets and surveys name"} {
		if !strings.Contains(page, want) {
			t.Errorf("acme's page lacks %q", want)
		}
	}
	if strings.Contains(page, "/records/") {
		t.Error("acme's page links record pages for vp_cs, who may not read records")
	}
	// An MRR that did not move says since when: "unchanged since" had
	// ended the line.
	if gl := e.page(t, cs, "/customers/globex?as_of="+asOf, 200); !strings.Contains(gl, "· unchanged since then</span>") {
		t.Errorf("globex's steady MRR does not say it is unchanged since then:\n%s", clip([]byte(gl)))
	}
	exec := e.sessionAs(t, "executive")
	if page := e.page(t, exec, "/customers/acme?as_of="+asOf, 200); !strings.Contains(page, `href="/records/ticket/import/k1?as_of=2026-03-31"`) ||
		!strings.Contains(page, `href="/records/deployment/import/d1?as_of=2026-03-31"`) {
		t.Error("acme's page does not link its ticket and release for an executive")
	}
	sup := e.page(t, e.sessionAs(t, "support"), "/customers/acme?as_of="+asOf, 200)
	if strings.Contains(sup, "USD") || !strings.Contains(sup, "Amounts are not shown") {
		t.Error("acme's page shows amounts to support, or does not say they are hidden")
	}
	e.page(t, cs, "/customers/nobody-inc?as_of="+asOf, 404)
	e.page(t, e.sessionAs(t, "admin"), "/customers?as_of="+asOf, 403)

	// Where the web names a customer, it links the customer's page.
	link := `href="/customers/acme?as_of=2026-03-31"`
	if nrr := e.page(t, cs, "/metrics/nrr?as_of="+asOf, 200); !strings.Contains(nrr, link) {
		t.Error("NRR's cohort table does not link acme")
	}
	if churn := e.page(t, cs, "/metrics/logo_churn_rate?as_of="+asOf, 200); !strings.Contains(churn, link) {
		t.Error("logo churn's records table does not link acme")
	}
	if view := e.page(t, cs, "/views/vp_cs?as_of="+asOf, 200); !strings.Contains(view, `<a href="/customers?as_of=2026-03-31">2 of 3 customers show a risk signal</a> in the 30 days to 31 Mar 2026 00:00 UTC`) {
		t.Error("the VP Customer Success view does not lead to the at-risk customers")
	}
	if view := e.page(t, exec, "/views/engineering?as_of="+asOf, 200); strings.Contains(view, "risk signal") {
		t.Error("the engineering view, no metric of which reads customers, leads to the at-risk customers")
	}
	if rec := e.page(t, exec, "/records/ticket/import/k1?as_of="+asOf, 200); !strings.Contains(rec, link) {
		t.Error("a ticket's record page does not link its customer")
	}
	if eng := e.page(t, e.sessionAs(t, "engineering"), "/?as_of="+asOf, 200); strings.Contains(eng, `href="/customers`) {
		t.Error("the navigation offers customers to engineering, whose metrics read none of their records")
	}
}

// An erased customer has no page: once retention has pseudonymised
// initech's records (its one ticket is past the period; acme's active
// subscription keeps acme's), its name is unknown (404) and the list names
// the pseudonym.
func TestCustomerErasedByRetention(t *testing.T) {
	e := customerEnv(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	if _, err := retention.Apply(context.Background(), e.store, retention.Policy{PersonalAfter: 30 * 24 * time.Hour, Key: key}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status, body := e.apiAs(t, "vp_cs", "/api/v1/customers/initech?as_of="+asOf); status != 404 {
		t.Errorf("initech after retention: %d %s", status, clip(body))
	}
	if status, body := e.apiAs(t, "vp_cs", "/api/v1/customers/acme?as_of="+asOf); status != 200 {
		t.Errorf("acme after retention: %d %s", status, clip(body))
	}
	anon := retention.Pseudonym(key, "initech")
	_, list := e.apiAs(t, "vp_cs", "/api/v1/customers?at_risk=1&as_of="+asOf)
	if strings.Contains(string(list), `"initech"`) || !strings.Contains(string(list), anon) {
		t.Errorf("the list after retention:\n%s", clip(list))
	}
}

// The customer routes say how fresh the data their signals read is, as the
// data sources page judges it: on 31 March the tickets (newest 25 March)
// and the survey (28 March) are past their 1d limit, and the list, the
// customer's page, the VP Customer Success view's line and the API say
// stale and what it may undercount; twelve hours after the newest ticket
// they say "as of", and the survey not yet sent "never sent". A kind the
// reader may not see is not named.
func TestCustomerRoutesSayHowFreshTheirDataIs(t *testing.T) {
	e := customerEnv(t)
	cs := e.sessionAs(t, "vp_cs")
	const staleTickets = "Ticket data is stale: tickets past SLA and open escalated tickets may be undercounted."
	list := e.page(t, cs, "/customers?as_of="+asOf, 200)
	for _, want := range []string{`<span class="cust-data__lead">Data:</span>`, "subscriptions (a state kind, not judged by age)",
		`<span class="status__word">Stale</span></span> tickets as of 25 Mar 2026 00:00 UTC, older than its 1d limit</span>`,
		"surveys as of 28 Mar 2026 00:00 UTC, older than its 1d limit", staleTickets,
		"Survey data is stale: NPS detractors and CSATs of 2 or less may be undercounted."} {
		if !strings.Contains(list, want) {
			t.Errorf("the at-risk list on stale data lacks %q", want)
		}
	}
	page := e.page(t, cs, "/customers/acme?as_of="+asOf, 200)
	if !strings.Contains(page, "<span class=\"status__word\">Stale</span></span> tickets as of 25 Mar 2026 00:00 UTC, older than its 1d limit") || !strings.Contains(page, staleTickets) {
		t.Errorf("acme's page on stale data does not say so:\n%s", clip([]byte(page)))
	}
	if view := e.page(t, cs, "/views/vp_cs?as_of="+asOf, 200); !strings.Contains(view, staleTickets) {
		t.Error("the VP Customer Success view's at-risk line does not say its tickets are stale")
	}

	const fresh = "2026-03-25T12:00:00Z"
	list = e.page(t, cs, "/customers?as_of="+fresh, 200)
	if !strings.Contains(list, "tickets as of 25 Mar 2026 00:00 UTC</span>") || !strings.Contains(list, `<span class="status__word">Never sent</span></span> surveys</span>`) ||
		!strings.Contains(list, "No survey data was ever sent: NPS detractors and CSATs of 2 or less cannot show.") || strings.Contains(list, "Ticket data is stale") {
		t.Errorf("the at-risk list twelve hours after the newest ticket:\n%s", clip([]byte(list)))
	}
	if page := e.page(t, cs, "/customers/acme?as_of="+fresh, 200); !strings.Contains(page, "tickets as of 25 Mar 2026 00:00 UTC</span>") || strings.Contains(page, "Ticket data is stale") {
		t.Errorf("acme's page twelve hours after the newest ticket:\n%s", clip([]byte(page)))
	}

	type kindData struct {
		Kind, Limit, Status string
		LastData            *time.Time `json:"last_data"`
	}
	var l struct {
		Data []kindData `json:"data"`
	}
	status, body := e.apiAs(t, "vp_cs", "/api/v1/customers?at_risk=1&as_of="+asOf)
	if err := json.Unmarshal(body, &l); err != nil || status != 200 || len(l.Data) != 3 {
		t.Fatalf("at risk: %d %s", status, clip(body))
	}
	if d := l.Data[1]; d.Kind != "ticket" || d.Status != "stale" || d.Limit != "1d" || d.LastData == nil || !d.LastData.Equal(time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the list's ticket data = %+v", d)
	}
	if d := l.Data[0]; d.Kind != "subscription" || d.Status != "not_judged" || d.Limit != "" {
		t.Errorf("the list's subscription data = %+v", d)
	}
	status, body = e.apiAs(t, "vp_cs", "/api/v1/customers/acme?as_of="+fresh)
	if err := json.Unmarshal(body, &l); err != nil || status != 200 || len(l.Data) != 3 || l.Data[1].Status != "fresh" || l.Data[2].Status != "never_sent" {
		t.Errorf("acme's data twelve hours after the newest ticket: %d %s", status, clip(body))
	}
}

// TestCustomerFreshnessNamesConnectorsForSourcesRead: the customer routes
// name the connector that made subscriptions stale only to a reader who
// may read the data sources page (sources:read): the VP Customer Success
// is told the kind is stale and that its connector has not worked, not
// which connector. They had named it to every reader of customers.
func TestCustomerFreshnessNamesConnectorsForSourcesRead(t *testing.T) {
	e := stripeFedEnv(t)
	const named, unnamed = "connector stripe has not worked within", "its connector has not worked within"
	for _, c := range []struct {
		role string
		want string
	}{{"vp_cs", unnamed}, {"auditor", named}} {
		s := e.sessionAs(t, c.role)
		for _, path := range []string{"/customers?as_of=" + asOf, "/customers/acme?as_of=" + asOf} {
			p := e.page(t, s, path, 200)
			if !strings.Contains(p, c.want) || !strings.Contains(p, "Subscription data is stale") {
				t.Errorf("%s's %s lacks %q:\n%s", c.role, path, c.want, clip([]byte(p)))
			}
			if c.want == unnamed && strings.Contains(p, "stripe") {
				t.Errorf("%s's %s names the connector", c.role, path)
			}
		}
		for _, path := range []string{"/api/v1/customers?as_of=" + asOf, "/api/v1/customers/acme?as_of=" + asOf} {
			var l struct {
				Data []struct{ Kind, Status, Connector string }
			}
			status, body := e.apiAs(t, c.role, path)
			if err := json.Unmarshal(body, &l); err != nil || status != 200 || len(l.Data) == 0 {
				t.Fatalf("%s %s: %d %s", c.role, path, status, clip(body))
			}
			d := l.Data[0]
			if want := map[bool]string{true: "", false: "stripe"}[c.want == unnamed]; d.Kind != "subscription" || d.Status != "stale" || d.Connector != want {
				t.Errorf("%s %s: subscription data %+v, want connector %q", c.role, path, d, want)
			}
		}
	}
}

// failingFeeds is connector health that cannot be read.
type failingFeeds struct{ Connectors }

func (failingFeeds) Feeds(context.Context, time.Time) ([]health.Connector, error) {
	return nil, errors.New("connector health: the store is gone")
}

// TestCustomerRoutesWithoutConnectorHealth: connector health that cannot
// be read leaves the connector out of the customers' data freshness
// (subscriptions are then not judged) and the list, the page and the API
// answer; they had answered 500.
func TestCustomerRoutesWithoutConnectorHealth(t *testing.T) {
	e := stripeFedEnv(t)
	e.srv.Connectors = failingFeeds{e.srv.Connectors}
	s := e.sessionAs(t, "vp_cs")
	for _, path := range []string{"/customers?as_of=" + asOf, "/customers/acme?as_of=" + asOf} {
		if p := e.page(t, s, path, 200); !strings.Contains(p, "subscriptions (a state kind, not judged by age)") {
			t.Errorf("%s without connector health:\n%s", path, clip([]byte(p)))
		}
	}
	for _, path := range []string{"/api/v1/customers?as_of=" + asOf, "/api/v1/customers/acme?as_of=" + asOf} {
		var l struct {
			Data []struct{ Kind, Status string }
		}
		status, body := e.apiAs(t, "vp_cs", path)
		if err := json.Unmarshal(body, &l); err != nil || status != 200 || len(l.Data) == 0 || l.Data[0].Kind != "subscription" || l.Data[0].Status != "not_judged" {
			t.Errorf("%s without connector health: %d %s", path, status, clip(body))
		}
	}
}

// TestCustomerMonthsStartAtItsFirstRecord: the new user's review of
// 2026-12-07 (7) found a customer's "Calendar month" menu offering the
// months before its first subscription, each a 404 worded "as of
// 2026-03-01T00:00:00Z". The menu starts at the month of the first record
// the reader may see, every month it offers answers, and a month asked for
// before then is a 404 in the pages' words, saying from when it is one.
func TestCustomerMonthsStartAtItsFirstRecord(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: customerRecords, status: 200})
	cs := e.sessionAs(t, "vp_cs")
	menu := regexp.MustCompile(`(?s)<details class="menu months__menu">.*?</details>`)
	link := regexp.MustCompile(`<a class="menu__link" href="([^"]+)"[^>]*>([^<]+)</a>`)
	months := func(page string) (hrefs, labels []string) {
		for _, m := range link.FindAllStringSubmatch(menu.FindString(page), -1) {
			hrefs, labels = append(hrefs, html.UnescapeString(m[1])), append(labels, m[2])
		}
		return hrefs, labels
	}
	// globex's subscription started 1 Jun 2025: June 2025 to February 2026.
	hrefs, labels := months(e.page(t, cs, "/customers/globex", 200))
	if want := "Feb 2026 Jan 2026 Dec 2025 Nov 2025 Oct 2025 Sep 2025 Aug 2025 Jul 2025 Jun 2025"; strings.Join(labels, " ") != want {
		t.Errorf("globex's months = %q, want %q", strings.Join(labels, " "), want)
	}
	for _, h := range hrefs {
		e.page(t, cs, h, 200)
	}
	// acme's began 1 Jan 2025: the twelve months the controls offer.
	if _, labels := months(e.page(t, cs, "/customers/acme", 200)); len(labels) != monthChoices {
		t.Errorf("acme's months = %v, want %d", labels, monthChoices)
	}
	// initech's first record is of 10 Mar 2026: no month has ended since.
	if page := e.page(t, cs, "/customers/initech", 200); !strings.Contains(page, "No calendar month has ended since 10 Mar 2026.") {
		_, labels := months(page)
		t.Errorf("initech's month menu: %v", labels)
	}
	// Asked for one all the same: a 404 as the pages write a time.
	page := e.page(t, cs, "/customers/initech?month=2026-02", 404)
	if want := `no subscription, ticket, survey or measurement you may see names it as of 1 Mar 2026 00:00 UTC; not a customer yet then: its first record is dated 10 Mar 2026 00:00 UTC`; !strings.Contains(html.UnescapeString(page), want) {
		t.Errorf("initech in February 2026: lacks %q\n%s", want, clip([]byte(page)))
	}
	// A name no record names says no more than that.
	status, body := e.apiAs(t, "vp_cs", "/api/v1/customers/nobody-inc?as_of="+asOf)
	if status != 404 || strings.Contains(string(body), "not a customer yet") || !strings.Contains(string(body), "as of 31 Mar 2026 00:00 UTC") {
		t.Errorf("an unknown customer: %d %s", status, clip(body))
	}
}
