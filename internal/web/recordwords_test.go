package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// recordsTableOf is the records table of a metric page.
func recordsTableOf(page string) string {
	return regexp.MustCompile(`(?s)<table class="table [^"]*\brecords">.*?</table>`).FindString(page)
}

// ARR's records table had a note column repeating each subscription's
// customer id ("cus-00002"), which has its own column: there is no note
// now.
func TestARRRecordsHaveNoCustomerNote(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"subscription","id":"sub-1","customer":"cus-00002","started_at":"2026-01-01T00:00:00Z","mrr":100,"plan":"pro"}`})
	table := recordsTableOf(e.get200(t, "/metrics/arr?as_of="+asOf))
	if strings.Count(table, ">cus-00002<") != 1 || strings.Contains(table, ">note<") {
		t.Errorf("ARR's records table repeats the customer in a note:\n%s", table)
	}
}

// A period's end is exclusive (a quarter ends at 1 Jan 00:00): a quota's
// table shows its last day, 31 Dec 2026, as the CRO view's quota pace
// words the period ("1 Oct 2026 – 31 Dec 2026"), where it had shown
// "1 Jan 2027"; the record's page says so beside the stored value; an end
// within a day (an SLI's hour) stays the instant.
func TestPeriodEndsAreTheLastDay(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"quota","id":"q4","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}`})
	table := recordsTableOf(e.get200(t, "/metrics/quota_attainment?as_of="+asOf))
	if !strings.Contains(table, ">31 Mar 2026</td>") || strings.Contains(table, "1 Apr 2026") {
		t.Errorf("the quota's period end is not its last day:\n%s", table)
	}
	rec := e.get200(t, "/records/quota/import/q4")
	mustContain(t, "the quota's page", rec, []string{"2026-04-01T00:00:00Z <span class=\"muted\">(1 Apr 2026 00:00 UTC; until then: the period&#39;s last day is 31 Mar 2026)</span>"})
	// A period of whole days ends on its last day; one of hours (an SLI's
	// hour from 23:00, or from midnight) ends at its instant, where the
	// first had read as ending the day before it began.
	for _, c := range []struct{ start, end, want string }{
		{"2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "31 Mar 2026"},
		{"2026-03-01T13:00:00Z", "2026-03-01T14:00:00Z", "1 Mar 2026 14:00"},
		{"2026-11-05T23:00:00Z", "2026-11-06T00:00:00Z", "6 Nov 2026 00:00"},
		{"2026-11-06T00:00:00Z", "2026-11-06T01:00:00Z", "6 Nov 2026 01:00"},
	} {
		if got := periodEndText(mustTime(t, c.start), mustTime(t, c.end)); got != c.want {
			t.Errorf("periodEndText(%s, %s) = %q, want %q", c.start, c.end, got, c.want)
		}
		if got, whole := periodStartText(mustTime(t, c.start), mustTime(t, c.end)), !strings.Contains(c.want, ":"); whole == strings.Contains(got, ":") {
			t.Errorf("periodStartText(%s, %s) = %q: its time shown %v, its end's %v", c.start, c.end, got, !whole, strings.Contains(c.want, ":"))
		}
	}
}

// A deployment's changes field had been shown as its raw JSON array: each
// change id now links to the change's page when it names one, and says
// when it names none.
func TestDeploymentChangesLinked(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"change","id":"ch-1","service":"api","merged_at":"2026-03-19T10:00:00Z"}
{"kind":"deployment","id":"rel-8","service":"api","environment":"production","finished_at":"2026-03-20T10:00:00Z","status":"success","changes":["ch-1","ch-404"]}`})
	cl := e.sessionAs(t, "auditor")
	page := e.page(t, cl, "/records/deployment/import/rel-8?as_of=2026-03-21", 200)
	mustContain(t, "the deployment's page", page, []string{
		`<a href="/records/change/import/ch-1?as_of=2026-03-21">ch-1</a>, ch-404 <span class="muted">(no such change)</span>`,
	}, `[&#34;ch-1&#34;`, `["ch-1"`)
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A ticket's page says where it stands against its SLA due time, as of the page's time: an open
// ticket hours past it had shown the due time with nothing to say so. A resolution after the
// page's as_of has not happened yet.
func TestTicketPageSaysSLA(t *testing.T) {
	e := newEnv(t, 0)
	for _, b := range []string{
		`{"kind":"ticket","id":"late","created_at":"2026-03-10T00:00:00Z","resolved_at":"2026-03-10T06:30:00Z","sla_due_at":"2026-03-10T04:00:00Z"}`,
		`{"kind":"ticket","id":"met","created_at":"2026-03-10T00:00:00Z","resolved_at":"2026-03-10T01:00:00Z","sla_due_at":"2026-03-10T04:00:00Z"}`,
		`{"kind":"ticket","id":"open","created_at":"2026-03-29T00:00:00Z","resolved_at":"2026-04-05T00:00:00Z","sla_due_at":"2026-03-29T08:00:00Z"}`,
		`{"kind":"ticket","id":"due","created_at":"2026-03-30T20:00:00Z","sla_due_at":"2026-03-31T04:00:00Z"}`,
	} {
		e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: b})
	}
	for id, want := range map[string]string{
		"late": "(10 Mar 2026 04:00 UTC; breached: resolved 2 h 30 min after it)",
		"met":  "(10 Mar 2026 04:00 UTC; met: resolved 3 h before it)",
		"open": "(29 Mar 2026 08:00 UTC; breached: still open 1 day 16 h after it, at 31 Mar 2026 00:00 UTC)",
		"due":  "(31 Mar 2026 04:00 UTC; open: due in 4 h, at 31 Mar 2026 00:00 UTC)",
	} {
		page := e.get200(t, "/records/ticket/import/"+id+"?as_of="+asOf)
		if !strings.Contains(page, want) {
			i := strings.Index(page, "sla_due_at")
			t.Errorf("ticket %s's page lacks %q:\n%s", id, want, page[i:min(len(page), i+300)])
		}
	}
}

// A ticket's release links to the deployment's page, where the release's customer impact is;
// a release naming no deployment says so.
func TestTicketReleaseLinked(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"ticket","id":"k1","created_at":"2026-03-10T00:00:00Z","release":"d2"}`})
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"ticket","id":"k2","created_at":"2026-03-10T00:00:00Z","release":"nosuch"}`})
	page := e.get200(t, "/records/ticket/import/k1?as_of="+asOf)
	if !strings.Contains(page, `<a href="/records/deployment/import/d2?as_of=2026-03-31">d2</a>`) {
		i := strings.Index(page, ">release<")
		t.Errorf("the ticket's release is not linked to its deployment:\n%s", page[i:min(len(page), i+300)])
	}
	mustContain(t, "a ticket naming no deployment", e.get200(t, "/records/ticket/import/k2?as_of="+asOf), []string{"nosuch <span class=\"muted\">(no such deployment)</span>"})
}

// A lead's opportunity links to the opportunity's page, as a ticket's release links to its
// deployment: from a lead funnel conversion counts as won, the deal behind "won" (its amount,
// its close) had been an id to type into the address bar. An opportunity not yet created at the
// page's time, which funnel conversion does not count either, is "no such opportunity".
func TestLeadOpportunityLinked(t *testing.T) {
	e := newEnv(t, 0)
	for _, b := range []string{
		`{"kind":"opportunity","id":"o1","created_at":"2026-03-12T00:00:00Z","amount":9000,"stage":"closed_won","closed_at":"2026-03-20T00:00:00Z","won":true}`,
		`{"kind":"opportunity","id":"o2","created_at":"2026-04-12T00:00:00Z","amount":100,"stage":"discovery"}`,
		`{"kind":"lead","id":"l1","created_at":"2026-03-10T00:00:00Z","opportunity":"o1"}`,
		`{"kind":"lead","id":"l2","created_at":"2026-03-10T00:00:00Z","opportunity":"o2"}`,
	} {
		e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: b})
	}
	page := e.get200(t, "/records/lead/import/l1?as_of="+asOf)
	if !strings.Contains(page, `<a href="/records/opportunity/import/o1?as_of=2026-03-31">o1</a>`) {
		i := strings.Index(page, ">opportunity<")
		t.Errorf("the lead's opportunity is not linked to its page:\n%s", page[i:min(len(page), i+300)])
	}
	mustContain(t, "a lead naming an opportunity created after the page's time", e.get200(t, "/records/lead/import/l2?as_of="+asOf),
		[]string{"o2 <span class=\"muted\">(no such opportunity)</span>"})
}

// In a metric's records table a lead's opportunity opens the opportunity's page, as on the
// lead's own page; one not created by the page's time stays plain text.
func TestLeadOpportunityLinkedInRecordsTable(t *testing.T) {
	e := newEnv(t, 0)
	for _, b := range []string{
		`{"kind":"opportunity","id":"o1","created_at":"2026-03-12T00:00:00Z","amount":9000,"stage":"discovery"}`,
		`{"kind":"opportunity","id":"o2","created_at":"2026-04-12T00:00:00Z","amount":100,"stage":"discovery"}`,
		`{"kind":"lead","id":"l1","created_at":"2026-03-10T00:00:00Z","mql_at":"2026-03-11T00:00:00Z","opportunity":"o1"}`,
		`{"kind":"lead","id":"l2","created_at":"2026-03-10T00:00:00Z","mql_at":"2026-03-11T00:00:00Z","opportunity":"o2"}`,
	} {
		e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: b})
	}
	page := e.get200(t, "/metrics/mql_volume?as_of="+asOf)
	if !strings.Contains(page, `<a href="/records/opportunity/import/o1?as_of=2026-03-31">o1</a>`) {
		i := strings.Index(page, "l1")
		t.Errorf("the lead's opportunity is not linked in the records table:\n%s", page[i:min(len(page), i+800)])
	}
	if strings.Contains(page, `/records/opportunity/import/o2`) {
		t.Error("an opportunity created after the page's time is linked")
	}
}
