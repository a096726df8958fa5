package web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
)

// month=YYYY-MM stands for the calendar month's as_of and window: the
// JSON API answers exactly as it does for them.
func TestMonthIsItsAsOfAndWindow(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, path := range []string{"/api/v1/scorecard", "/api/v1/views/ceo", "/api/v1/metrics/change_failure_rate", "/api/v1/insights", "/api/v1/themes"} {
		code, byMonth, _ := e.do(t, "GET", path+"?month=2026-02", "", nil)
		if code != 200 {
			t.Fatalf("GET %s?month=2026-02: %d %s", path, code, clip(byMonth))
		}
		code, byWindow, _ := e.do(t, "GET", path+"?as_of=2026-03-01&window=28d", "", nil)
		if code != 200 {
			t.Fatalf("GET %s?as_of=2026-03-01&window=28d: %d %s", path, code, clip(byWindow))
		}
		if string(byMonth) != string(byWindow) {
			t.Errorf("GET %s: month=2026-02 answers otherwise than as_of=2026-03-01&window=28d:\n%s\n---\n%s", path, clip(byMonth), clip(byWindow))
		}
	}
	code, body, _ := e.do(t, "GET", "/api/v1/scorecard?month=2026-02", "", nil)
	if code != 200 || !strings.Contains(string(body), `"as_of": "2026-03-01T00:00:00Z"`) {
		t.Errorf("month=2026-02 is not as of 1 March: %d\n%s", code, clip(body))
	}
	// The answers name the month, so a client need not work it out; a read
	// with each metric's own window names none, even as of a month's start.
	for _, path := range []string{"/api/v1/scorecard", "/api/v1/views/ceo", "/api/v1/metrics/change_failure_rate"} {
		if _, body, _ := e.do(t, "GET", path+"?month=2026-02", "", nil); !strings.Contains(string(body), `"month": "2026-02"`) {
			t.Errorf("GET %s?month=2026-02 does not name the month:\n%s", path, clip(body))
		}
		if _, body, _ := e.do(t, "GET", path+"?as_of=2026-03-01", "", nil); strings.Contains(string(body), `"month"`) {
			t.Errorf("GET %s?as_of=2026-03-01 names a month:\n%s", path, clip(body))
		}
	}
}

// A month given with as_of or window, one not ended, or one mistyped is
// refused naming month and what to send; a route without windows refuses it.
func TestMonthRefusals(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, tt := range []struct{ path, want string }{
		{"/api/v1/scorecard?month=2026-02&as_of=2026-03-01", "not both"},
		{"/api/v1/metrics/change_failure_rate?month=2026-02&window=28d", "not both"},
		{"/api/v1/scorecard?month=2026-03", "2026-03 has not ended (it ends 2026-04-01 00:00 UTC): ask for an ended month, such as 2026-02"},
		{"/api/v1/scorecard?month=2026-13", "YYYY-MM"},
		{"/api/v1/scorecard?month=1600-01", "Candor answers as of 1970-01-01 or later"},
		{"/api/v1/views/ceo?month=last", "YYYY-MM"},
		{"/?month=2026-02&window=7d", "not both"},
		{"/metrics/change_failure_rate?month=Feb", "YYYY-MM"},
	} {
		code, body, _ := e.do(t, "GET", tt.path, "", nil)
		if code != 400 || !strings.Contains(string(body), "month") || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s: %d, want 400 naming month and %q\n%s", tt.path, code, tt.want, clip(body))
		}
	}
	if code, body, _ := e.do(t, "GET", "/api/v1/escalations?month=2026-02", "", nil); code != 400 || !strings.Contains(string(body), `unknown parameter \"month\"`) {
		t.Errorf("escalations took month: %d\n%s", code, clip(body))
	}
}

// A page asked for a month names it, carries it as as_of and window in the
// date control and every link, and its controls link to the ended months.
func TestMonthOnPages(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	code, body, _ := e.do(t, "GET", "/?month=2026-02", "", nil)
	if code != 200 {
		t.Fatalf("GET /?month=2026-02: %d %s", code, clip(body))
	}
	page := string(body)
	for _, want := range []string{
		`<strong>February 2026</strong> · As of`,
		`name="as_of" value="2026-03-01"`,
		`<option selected>28d</option>`,
		`<span id="c-month-now">February 2026</span>`,
		// The month's own link is marked, and links keep no month.
		`href="/?as_of=2026-03-01&amp;window=28d" aria-current="page">Feb 2026</a>`,
		`href="/?as_of=2026-02-01&amp;window=31d">Jan 2026</a>`,
		`href="/?as_of=2025-04-01&amp;window=31d">Mar 2025</a>`,
		`/views/ceo?as_of=2026-03-01&amp;window=28d`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the scorecard for February lacks %s", want)
		}
	}
	if strings.Contains(page, "month=") || strings.Contains(page, ">Mar 2026<") || strings.Contains(page, ">Feb 2025<") {
		t.Error("the scorecard for February carries month= or offers a month not ended or more than twelve back")
	}
	// Asked by its as_of and window, it is the same month.
	if _, body, _ := e.do(t, "GET", "/?as_of=2026-03-01&window=28d", "", nil); !strings.Contains(string(body), `<strong>February 2026</strong>`) {
		t.Error("as_of=2026-03-01&window=28d is not named February 2026")
	}
	// A rolling window names no month.
	if _, body, _ := e.do(t, "GET", "/?as_of=2026-03-01&window=30d", "", nil); strings.Contains(string(body), "<strong>February") || !strings.Contains(string(body), `<span id="c-month-now">Choose a month</span>`) {
		t.Error("a 30-day window is named as a month")
	}
	// The metric page says the month its value covers.
	code, body, _ = e.do(t, "GET", "/metrics/change_failure_rate?month=2026-02", "", nil)
	if code != 200 || !strings.Contains(string(body), "February 2026 (28d ending 1 Mar 2026 00:00 UTC)") {
		t.Errorf("the metric page for February: %d, does not say it covers February 2026\n%s", code, clip(body))
	}
	// A definition that took effect after the month says it applies then
	// too (budget variance's v2, effective 2026-12-01).
	code, body, _ = e.do(t, "GET", "/metrics/budget_variance?month=2026-02", "", nil)
	if code != 200 || !strings.Contains(string(body), "version 2, effective 2026-12-01 (no earlier version is kept: it applies before that date too)") {
		t.Errorf("budget variance for February: %d, does not say its version applies before its date\n%s", code, clip(body))
	}
	code, body, _ = e.do(t, "GET", "/views/ceo?month=2026-02", "", nil)
	if code != 200 || !strings.Contains(string(body), "<strong>February 2026</strong>") {
		t.Errorf("the CEO view for February: %d\n%s", code, clip(body))
	}
}

// The month menu offers the months that have ended by the clock, whatever
// month the page shows: October's page, read in December, offers November.
func TestMonthMenuCountsFromTheClock(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, path := range []string{"/?month=2026-06", "/metrics/change_failure_rate?month=2026-06"} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, clip(body))
		}
		page := string(body)
		for _, want := range []string{`as_of=2026-12-01&amp;window=30d[^"]*">Nov 2026</a>`, `as_of=2026-11-01&amp;window=31d[^"]*">Oct 2026</a>`, `as_of=2026-02-01&amp;window=31d[^"]*">Jan 2026</a>`, `aria-current="page">Jun 2026</a>`} {
			if !regexp.MustCompile(want).MatchString(page) {
				t.Errorf("GET %s: the month menu lacks %s", path, want)
			}
		}
		if strings.Contains(page, ">Nov 2025<") || strings.Contains(page, ">Dec 2026<") {
			t.Errorf("GET %s: the month menu offers a month more than twelve back or not ended", path)
		}
	}
}

// A month link keeps what the controls form keeps: on a metric page, the
// filters and the breakdown tab, scope and sort order.
func TestMonthLinksKeepThePage(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	code, body, _ := e.do(t, "GET", "/metrics/change_failure_rate?month=2026-10&team=core&by=service&sort=-id", "", nil)
	if code != 200 {
		t.Fatalf("GET the metric page: %d %s", code, clip(body))
	}
	want := `href="/metrics/change_failure_rate?as_of=2026-10-01&amp;window=30d&amp;team=core&amp;by=service&amp;sort=-id">Sep 2026</a>`
	if !strings.Contains(string(body), want) {
		i := strings.Index(string(body), ">Sep 2026<")
		t.Errorf("the month menu's September link drops the page's state; want %s, near:\n%s", want, string(body)[max(0, i-200):max(0, i)])
	}
}

// A reconciliation's body takes month as the reads' query does: the month's
// as_of and window, refused beside either, for a month not ended or one
// mistyped, naming month.
func TestReconciliationTakesMonth(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	code, byMonth, _ := e.do(t, "POST", "/api/v1/reconciliations", `{"metric":"change_failure_rate","expected":50,"month":"2026-02"}`, nil)
	if code != 201 || !strings.Contains(string(byMonth), `"as_of": "2026-03-01T00:00:00Z"`) || !strings.Contains(string(byMonth), `"window": "28d"`) {
		t.Fatalf("a reconciliation for February: %d\n%s", code, clip(byMonth))
	}
	_, byWindow, _ := e.do(t, "POST", "/api/v1/reconciliations", `{"metric":"change_failure_rate","expected":50,"as_of":"2026-03-01","window":"28d"}`, nil)
	actual := func(b []byte) string {
		i := strings.Index(string(b), `"actual"`)
		return string(b)[i : i+strings.Index(string(b)[i:], "\n")]
	}
	if actual(byMonth) != actual(byWindow) {
		t.Errorf("month=2026-02 is not as_of=2026-03-01 and window=28d: %s, %s", actual(byMonth), actual(byWindow))
	}
	// The sources page lists the kept check with the month it is.
	if code, page, _ := e.do(t, "GET", "/sources", "", nil); code != 200 || !strings.Contains(string(page), "· 28d: February 2026</span>") {
		t.Errorf("the sources page does not name February 2026 for the month's check: %d", code)
	}
	for body, want := range map[string]string{
		`{"metric":"change_failure_rate","expected":50,"month":"2026-02","as_of":"2026-03-01"}`: "not both",
		`{"metric":"change_failure_rate","expected":50,"month":"2026-02","window":"28d"}`:       "not both",
		`{"metric":"change_failure_rate","expected":50,"month":"2026-03"}`:                      "has not ended",
		`{"metric":"change_failure_rate","expected":50,"month":"Feb"}`:                          "YYYY-MM",
	} {
		code, raw, _ := e.do(t, "POST", "/api/v1/reconciliations", body, nil)
		if code != 400 || !strings.Contains(string(raw), `"param": "month"`) || !strings.Contains(string(raw), want) {
			t.Errorf("POST %s: %d, want 400 naming month and %q\n%s", body, code, want, clip(raw))
		}
	}
}

// On a month's pages a trend says what it compares with by its dates,
// which are not the month before (March's are 29 Jan – 28 Feb); a rolling
// window's keeps "the 30 days before".
func TestMonthTrendNamesItsDates(t *testing.T) {
	now := time.Date(2026, 4, 10, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	// Five deployments in the window before March, so that its trends
	// compare, and one on its last day, so that its data is fresh.
	feb := `{"kind":"deployment","id":"f1","service":"api","environment":"production","finished_at":"2026-02-02T00:00:00Z","status":"success"}
{"kind":"deployment","id":"f2","service":"api","environment":"production","finished_at":"2026-02-05T00:00:00Z","status":"success"}
{"kind":"deployment","id":"f3","service":"api","environment":"production","finished_at":"2026-02-09T00:00:00Z","status":"success"}
{"kind":"deployment","id":"f4","service":"api","environment":"production","finished_at":"2026-02-12T00:00:00Z","status":"success"}
{"kind":"deployment","id":"f5","service":"api","environment":"production","finished_at":"2026-02-16T00:00:00Z","status":"success"}
{"kind":"deployment","id":"m1","service":"api","environment":"production","finished_at":"2026-03-31T20:00:00Z","status":"success"}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", feb, nil); code != 200 {
		t.Fatalf("POST February's deployments: %d %s", code, clip(body))
	}
	for path, want := range map[string]string{
		"/?month=2026-03":                               `<span class="trend__span">vs 29 Jan – 28 Feb 2026</span>`,
		"/views/engineering?month=2026-03":              `<span class="trend__span">vs 29 Jan – 28 Feb 2026</span>`,
		"/metrics/change_failure_rate?month=2026-03":    "in 29 Jan – 28 Feb 2026, the 31 days before March 2026, not February",
		"/?as_of=2026-04-01&window=30d":                 `<span class="trend__span">vs the 30 days before</span>`,
		"/metrics/change_failure_rate?as_of=2026-04-01": "in the 30 days before",
	} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, lacks %s", path, code, want)
		}
	}
}

// March closes the first quarter: read as of its end, quota attainment is
// the second quarter's, just begun, while March's board pack reports the
// first; the metric page says so, and October's (mid-quarter) does not.
func TestMonthClosingAQuotaPeriodSaysSo(t *testing.T) {
	e := quarterEnv(t)
	want := "the period March 2026 closes is the one the month&#39;s board pack reports (candor report board --month 2026-03), and a closing read gives (--closing, closing=1)"
	if code, body, _ := e.do(t, "GET", "/metrics/quota_attainment?month=2026-03", "", nil); code != 200 || !strings.Contains(string(body), want) {
		t.Errorf("quota attainment for March: %d, does not say it reads the next period\n%s", code, clip(body))
	}
	if code, body, _ := e.do(t, "GET", "/metrics/quota_attainment?month=2026-02", "", nil); code != 200 || strings.Contains(string(body), "board pack reports") {
		t.Errorf("quota attainment for February: %d, says it reads the next period", code)
	}
}

// Every page the month menu reaches names the month under its title, as
// the scorecard does: a state's metric page (ARR) and the insights and
// releases pages had said only "as of 1 Mar".
func TestMonthNamedOnEveryPage(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, path := range []string{"/metrics/mrr?month=2026-02", "/metrics/change_failure_rate?month=2026-02", "/insights?month=2026-02", "/releases?as_of=2026-03-01&window=28d"} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		if code != 200 || !regexp.MustCompile(`<p class="page-sub"><strong>February 2026</strong> · `).Match(body) {
			t.Errorf("GET %s: %d, no heading names February 2026", path, code)
		}
	}
	if _, body, _ := e.do(t, "GET", "/metrics/mrr?as_of=2026-03-01&window=30d", "", nil); strings.Contains(string(body), "<strong>February") {
		t.Error("a 30-day window is named as a month")
	}
}

// A month's scorecard reads every metric over the month, where the
// month's board pack keeps those defined over another length (90 days)
// over their own: the page says which, and a rolling window's does not.
func TestMonthScorecardNamesTheBoardPacksOwnWindows(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	// An organisation reading deployment frequency over 90 days: the
	// month's pages read it over the month, its board pack over the 90.
	// (Security incidents count their fixed 90 days on both, which their
	// page says: not named here.)
	e := newEnvWith(t, 0, func(s *Server, _ string) {
		s.Now = func() time.Time { return now }
		cat, err := s.Catalog.Apply(map[string]catalog.Override{"deployment_frequency": {Window: "90d"}})
		if err != nil {
			t.Fatal(err)
		}
		s.Catalog = cat
	})
	_, body, _ := e.do(t, "GET", "/?month=2026-02", "", nil)
	if !regexp.MustCompile(`Every metric read over a window is over the month here \(a state, a cohort or a quota period covers what its page says\); the month&#39;s board pack keeps Deployment frequency over its own 90 days, so its figures for it differ\.`).Match(body) {
		i := strings.Index(string(body), "page-sub")
		t.Errorf("the scorecard for February does not name the metrics its board pack keeps over 90 days:\n%s", string(body)[max(0, i):min(len(body), i+800)])
	}
	if _, body, _ := e.do(t, "GET", "/?as_of=2026-03-01&window=30d", "", nil); strings.Contains(string(body), "board pack keeps") {
		t.Error("a 30-day window's scorecard speaks of a month's board pack")
	}
}

// The MRR bridge of a month's view says the month it spans, as the
// heading does, where it said "over 28d".
func TestMonthBridgeNamesTheMonth(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	subs := `{"kind":"subscription","id":"s1","customer":"c1","started_at":"2026-01-10T00:00:00Z","mrr":100}
{"kind":"subscription","id":"s2","customer":"c2","started_at":"2026-02-10T00:00:00Z","mrr":50}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", subs, nil); code != 200 {
		t.Fatalf("POST the subscriptions: %d %s", code, clip(body))
	}
	_, body, _ := e.do(t, "GET", "/views/ceo?month=2026-02", "", nil)
	if !strings.Contains(string(body), `Where MRR came from <span class="sheet__sub">in February 2026</span>`) || !strings.Contains(string(body), "MRR bridge in February 2026: where the change in MRR came from") {
		i := strings.Index(string(body), "sec-bridge")
		t.Errorf("the CEO view for February does not name the month its MRR bridge spans:\n%s", string(body)[max(0, i):min(len(body), i+600)])
	}
	if _, body, _ := e.do(t, "GET", "/views/ceo?as_of=2026-03-01&window=30d", "", nil); !strings.Contains(string(body), `Where MRR came from <span class="sheet__sub">over 30d</span>`) {
		t.Error("a 30-day window's bridge does not say over 30d")
	}
}

// An action recorded after a month's end had not happened as of it: a
// month's pages count acknowledgements by the month's as_of, as
// as_of=…&window=… does, where month= had counted them by the clock (the
// request named no as_of) and showed March's action on February's pages.
func TestMonthCountsActionsByItsAsOf(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	body := `{"owner":"Jo Canary","note":"Canary releases recorded in March","due":"2026-04-20"}`
	if code, b, _ := e.do(t, "POST", "/api/v1/metrics/change_failure_rate/acknowledgements", body, nil); code != 201 {
		t.Fatalf("recording the action: %d %s", code, clip(b))
	}
	for _, path := range []string{"/metrics/change_failure_rate", "/"} {
		for _, q := range []string{"?month=2026-02", "?as_of=2026-03-01&window=28d"} {
			code, page, _ := e.do(t, "GET", path+q, "", nil)
			if code != 200 {
				t.Fatalf("GET %s%s: %d %s", path, q, code, clip(page))
			}
			if strings.Contains(string(page), "Jo Canary") {
				t.Errorf("GET %s%s shows an action recorded on 31 March, after the month's as_of", path, q)
			}
		}
		// Asked for now, the action shows: the test would see one.
		if _, page, _ := e.do(t, "GET", path, "", nil); !strings.Contains(string(page), "Jo Canary") {
			t.Errorf("GET %s does not show the action recorded now", path)
		}
	}
}

// The releases list reads a window of deployments as the other reads do,
// and its page names the month it is reached at from the month menu: it
// takes month= too, as README's table says every route taking as_of and
// window does, where it had refused it as an unknown parameter.
func TestReleasesTakeMonth(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	code, byMonth, _ := e.do(t, "GET", "/api/v1/releases?month=2026-02", "", nil)
	_, byWindow, _ := e.do(t, "GET", "/api/v1/releases?as_of=2026-03-01&window=28d", "", nil)
	if code != 200 || string(byMonth) != string(byWindow) {
		t.Errorf("GET /api/v1/releases?month=2026-02: %d, not as as_of=2026-03-01&window=28d:\n%s\n---\n%s", code, clip(byMonth), clip(byWindow))
	}
	if code, body, _ := e.do(t, "GET", "/releases?month=2026-02", "", nil); code != 200 || !strings.Contains(string(body), "<strong>February 2026</strong>") {
		t.Errorf("GET /releases?month=2026-02: %d, does not name February 2026\n%s", code, clip(body))
	}
	if code, body, _ := e.do(t, "GET", "/api/v1/releases?month=2026-02&window=7d", "", nil); code != 400 || !strings.Contains(string(body), "not both") {
		t.Errorf("GET /api/v1/releases?month=2026-02&window=7d: %d, want 400 naming month\n%s", code, clip(body))
	}
}

// A card link made at a month that closes a quota period says what the
// metric page says: the period it covers starts at the month's end, and
// the month's board pack reports the one the month closes. The share page
// had said the covers line alone (the note was added beside it twice, on
// the metric page and in candor metric, and not here).
func TestShareOfAMonthClosingAQuotaPeriodSaysSo(t *testing.T) {
	e := quarterEnv(t)
	cro := caller{name: "cro", roles: []string{"executive"}, token: e.roleToken(t, "executive")}
	st, link, raw := e.share(t, cro, `{"kind":"card","subject":"quota_attainment","filters":{"month":"2026-03"}}`)
	if st != 201 {
		t.Fatalf("share: %d %s", st, raw)
	}
	want := "the period March 2026 closes is the one the month&#39;s board pack reports (candor report board --month 2026-03), and a closing read gives (--closing, closing=1)"
	if code, body, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"}); code != 200 || !strings.Contains(string(body), want) {
		t.Errorf("the link to quota attainment for March: %d, does not say it reads the next period\n%s", code, clip(body))
	}
}

// The pages a month reaches answer month=YYYY-MM byte for byte as its
// as_of and window, as the JSON API does (TestMonthIsItsAsOfAndWindow):
// the promise had been checked on the API alone.
func TestMonthPagesAreTheirAsOfAndWindow(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, path := range []string{"/", "/metrics/change_failure_rate", "/metrics/mrr", "/views/ceo", "/insights", "/releases"} {
		code, byMonth, _ := e.do(t, "GET", path+"?month=2026-02", "", nil)
		_, byWindow, _ := e.do(t, "GET", path+"?as_of=2026-03-01&window=28d", "", nil)
		if code != 200 || string(byMonth) != string(byWindow) {
			t.Errorf("GET %s: month=2026-02 (%d) answers otherwise than as_of=2026-03-01&window=28d", path, code)
		}
	}
}

// Signed in, the metric page carries a month as its as_of and window in
// the action form's address too, as in every link: the form had posted to
// ?month=…, the request's own query, where every other link keeps none.
func TestMonthActionFormCarriesAsOfAndWindow(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	exec := e.sessionAs(t, "executive")
	byMonth := e.page(t, exec, "/metrics/change_failure_rate?month=2026-02&team=core&by=service", 200)
	byWindow := e.page(t, exec, "/metrics/change_failure_rate?as_of=2026-03-01&window=28d&team=core&by=service", 200)
	want := `action="/metrics/change_failure_rate/acknowledgements?as_of=2026-03-01&amp;window=28d&amp;team=core&amp;by=service"`
	if !strings.Contains(byMonth, want) || !strings.Contains(byWindow, want) || strings.Contains(byMonth, "month=") {
		t.Errorf("the action form's address does not carry the month as its as_of and window (want %s)", want)
	}
}

// quarterEnv is a server on 10 May 2026 with one owner's quotas for the
// first two quarters: March closes a quota period, May is within one.
func quarterEnv(t *testing.T) *env {
	t.Helper()
	now := time.Date(2026, 5, 10, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	quotas := `{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"quota","id":"q2","owner":"ann","period_start":"2026-04-01T00:00:00Z","period_end":"2026-07-01T00:00:00Z","amount":1000}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", quotas, nil); code != 200 {
		t.Fatalf("POST the quotas: %d %s", code, clip(body))
	}
	return e
}

// A month that closes a quota period reads the next, which starts at the
// month's end: quota attainment, paced to the elapsed share of the period,
// has no pace due yet. The card, the role view and the JSON had called
// that "no target set", though the period's quota was there; they say why
// now, and where the period the month closes is reported. A mid-quarter
// month's card is judged as before.
func TestMonthClosingAQuotaPeriodCardSaysWhy(t *testing.T) {
	e := quarterEnv(t)
	// A deal won in each month, so the opportunities are fresh at either
	// month's end and the card reaches its judgement.
	opps := `{"kind":"opportunity","id":"w1","owner":"ann","stage":"closed_won","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","closed_at":"2026-02-28T12:00:00Z","won":true,"amount":400}
{"kind":"opportunity","id":"w2","owner":"ann","stage":"closed_won","created_at":"2026-03-01T00:00:00Z","qualified_at":"2026-03-02T00:00:00Z","closed_at":"2026-03-31T12:00:00Z","won":true,"amount":300}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", opps, nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	reason := func(month string) (string, string) {
		t.Helper()
		code, body, _ := e.do(t, "GET", "/api/v1/scorecard?month="+month, "", nil)
		if code != 200 {
			t.Fatalf("scorecard for %s: %d %s", month, code, clip(body))
		}
		var sc struct {
			Pillars []struct {
				Metrics []struct {
					ID, Status, Reason string
				}
			}
		}
		if err := json.Unmarshal(body, &sc); err != nil {
			t.Fatal(err)
		}
		for _, p := range sc.Pillars {
			for _, m := range p.Metrics {
				if m.ID == "quota_attainment" {
					return m.Status, m.Reason
				}
			}
		}
		t.Fatalf("no quota_attainment card for %s", month)
		return "", ""
	}
	status, why := reason("2026-03")
	want := "the quota period starts at this instant (1 Apr 2026 00:00 UTC), so none of it has gone and no pace is due yet; the period March 2026 closes is the one the month's board pack reports (candor report board --month 2026-03), and a closing read gives (--closing, closing=1)"
	if status != "unknown" || why != want {
		t.Errorf("March's quota attainment: %s, %q\nwant unknown, %q", status, why, want)
	}
	if _, why := reason("2026-02"); strings.Contains(why, "starts at this instant") {
		t.Errorf("February's quota attainment says its period starts at its end: %q", why)
	}
	html := strings.ReplaceAll(want, "'", "&#39;")
	for _, path := range []string{"/?month=2026-03", "/views/cro?month=2026-03"} {
		if code, body, _ := e.do(t, "GET", path, "", nil); code != 200 || !strings.Contains(string(body), html) {
			t.Errorf("GET %s: %d, the card does not say why quota attainment is unknown\n%s", path, code, clip(body))
		}
	}
}
