package web

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A metric page shows its owner's action and records one: an amber, red or
// unknown metric without one says so and offers the form to a reader who
// may acknowledge; a refused form shows the page again with why and its
// values; a recorded action is the current one, the one before it listed
// as earlier, and overdue once its date has passed. A green metric has no
// panel.
func TestActionOnTheMetricPage(t *testing.T) {
	e := newEnv(t, 0)
	// Mid-minute: a page without as_of is answered as of the minute, and
	// an action recorded since must count at once.
	now := time.Date(2026, 3, 31, 0, 0, 30, 0, time.UTC)
	e.srv.Now = func() time.Time { return now }
	exec := e.sessionAs(t, "executive")
	const path = "/metrics/change_failure_rate"
	// The scorecard's card says whether an action is in force, and whose.
	card := func(want string) {
		t.Helper()
		home := e.page(t, exec, "/", 200)
		i := strings.Index(home, `data-metric="change_failure_rate"`)
		if i < 0 {
			t.Fatal("no change failure rate card on the scorecard")
		}
		li := home[i : i+strings.Index(home[i:], "</li>")]
		if !strings.Contains(li, want) {
			t.Errorf("the change failure rate card lacks %q:\n%s", want, li)
		}
		// And the CEO view's panel, as the card.
		view := e.page(t, exec, "/views/ceo", 200)
		if i = strings.Index(view, `aria-labelledby="m-change_failure_rate"`); i < 0 {
			t.Fatal("no change failure rate panel in the CEO view")
		}
		if panel := view[i : i+strings.Index(view[i:], "</article>")]; !strings.Contains(panel, want) {
			t.Errorf("the CEO view's change failure rate panel lacks %q", want)
		}
	}
	card(`<span class="kpi__action kpi__action--none">no action recorded</span>`)
	page := e.page(t, exec, path, 200)
	// Unknown for a week with no action: it escalates, and the panel says
	// so (the escalations test's fixture: since 24 Mar 2026 or earlier).
	mustContain(t, "the page before any action", page, []string{"No action recorded. <strong>Escalated:</strong> unknown since 24 Mar 2026 or earlier, with no action."})
	mustContain(t, "the page before any action", page, []string{`id="action"`, "No action recorded", `action="/metrics/change_failure_rate/acknowledgements"`,
		`name="owner" value="VP Engineering"`, `min="2026-03-31" max="2027-03-31"`})
	if p := e.page(t, e.sessionAs(t, "auditor"), path, 200); strings.Contains(p, `/acknowledgements"`) || !strings.Contains(p, "needs the metric:acknowledge permission") {
		t.Error("the auditor (no metric:acknowledge) gets the form, or is not told why not")
	}

	noCSRF := exec
	noCSRF.csrf = ""
	form := url.Values{"owner": {"VP Engineering"}, "note": {"Canary releases for api"}, "due": {"2026-04-10"}}
	if st, _, _ := e.post(t, noCSRF, path+"/acknowledgements", form); st != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", st)
	}
	late := url.Values{"owner": {"VP Engineering"}, "note": {"Kept when refused"}, "due": {"2026-03-01"}}
	st, body, _ := e.post(t, exec, path+"/acknowledgements?window=30d", late)
	if st != http.StatusBadRequest {
		t.Fatalf("a due date passed: %d, want 400\n%s", st, clip([]byte(body)))
	}
	mustContain(t, "the refused form", body, []string{"Nothing was recorded.", "Due: 2026-03-01 has passed", "Kept when refused", `name="due" value="2026-03-01"`, `aria-invalid="true"`,
		`action="/metrics/change_failure_rate/acknowledgements?window=30d"`})

	// Every field at fault is named at once, by its label.
	st, body, _ = e.post(t, exec, path+"/acknowledgements", url.Values{})
	if st != http.StatusBadRequest || strings.Count(body, `aria-invalid="true"`) != 3 || strings.Count(body, `aria-describedby="action-problem"`) != 3 || !strings.Contains(body, `id="action-problem" role="alert"`) {
		t.Errorf("an empty form: %d, %d fields marked, want 400 and 3", st, strings.Count(body, `aria-invalid="true"`))
	}
	mustContain(t, "the empty form refused", body, []string{"<li>Owner: required", "<li>What will be done: required", "<li>Due: required"})

	st, _, loc := e.post(t, exec, path+"/acknowledgements?window=30d", form)
	if st != http.StatusSeeOther || loc != path+"?window=30d#action" {
		t.Fatalf("recording: %d %q, want 303 back to the page", st, loc)
	}
	mustContain(t, "the page with the action", e.page(t, exec, loc, 200), []string{"<strong>VP Engineering</strong> · due 10 Apr 2026", "Canary releases for api", "Recorded by executive-", "<summary>Plan changed? Record another action in its place</summary>", "Record it in place of the current one</button>"})
	// The form's address reloaded leads back to the page.
	if st, _, back := e.call(t, "GET", path+"/acknowledgements?window=30d", "", "", exec); st != http.StatusSeeOther || back.Get("Location") != path+"?window=30d#action" {
		t.Errorf("GET of the form's address: %d %q, want 303 to the page", st, back.Get("Location"))
	}
	// The card names the action's owner only when it is not the metric's.
	card(`<span class="kpi__action">action due 10 Apr 2026</span>`)
	form.Set("owner", "Head of SRE")
	form.Set("note", "Rollback drill on api")
	if st, _, _ := e.post(t, exec, path+"/acknowledgements", form); st != http.StatusSeeOther {
		t.Fatalf("recording a second: %d", st)
	}
	page = e.page(t, exec, path, 200)
	mustContain(t, "the page with two actions", page, []string{"<strong>Head of SRE</strong> · due 10 Apr 2026", "1 earlier action", "Canary releases for api", `name="owner" value="Head of SRE"`})
	if strings.Contains(page, "No action recorded") {
		t.Error("the page says no action is recorded beside one")
	}
	// The organisation's action counts in a team, as it does for the
	// team's escalations (escalation.InScope), and the page says whose it
	// is; it had said "No action recorded" for team core.
	mustContain(t, "team core's page", e.page(t, exec, path+"?team=core", 200), []string{"<strong>Head of SRE</strong> · due 10 Apr 2026",
		"The organisation's action: it counts for team core until one is recorded for it."})
	// As of a time before them, the actions had not happened.
	if p := e.page(t, exec, path+"?as_of=2026-03-30", 200); strings.Contains(p, "Canary releases for api") || strings.Contains(p, "Rollback drill") || !strings.Contains(p, "No action recorded") {
		t.Error("the page as of the day before shows actions recorded after it")
	}
	now = time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC)
	mustContain(t, "past the due date", e.page(t, exec, path+"?as_of=2026-04-12", 200), []string{`class="action action--overdue"`, `<span class="flag">overdue</span>`, "<strong>Escalated:</strong> the action is overdue since 11 Apr 2026."})
	card(`<span class="kpi__action kpi__action--overdue">action: Head of SRE, due 10 Apr 2026, overdue</span>`)

	green := firstGreen(t, e, "2026-03-31")
	if p := e.page(t, exec, "/metrics/"+green+"?as_of=2026-03-31", 200); strings.Contains(p, `id="action"`) {
		t.Errorf("green %s has an action panel", green)
	}
	// A form the checks pass but the metric refuses (green now) is shown
	// again with why, in the refusal's status.
	now = time.Date(2026, 3, 31, 0, 0, 30, 0, time.UTC)
	st, body, _ = e.post(t, exec, "/metrics/"+green+"/acknowledgements", form)
	if st != http.StatusConflict || !strings.Contains(body, "Nothing was recorded.") || !strings.Contains(body, "green and not degrading") {
		t.Errorf("an action on green %s: %d, want 409 and the page saying why\n%s", green, st, clip([]byte(body)))
	}
	home := e.page(t, exec, "/?as_of=2026-03-31", 200)
	if i := strings.Index(home, `data-metric="`+green+`"`); i >= 0 && strings.Contains(home[i:i+strings.Index(home[i:], "</li>")], "kpi__action") {
		t.Errorf("green %s's card speaks of an action", green)
	}
	if strings.Contains(home, "action: , due") {
		t.Error("a card that needs no action speaks of one")
	}
}

// A metric's page opens with its definition in plain words; the SPEC's
// sentence and the formula follow under Definition, without references to
// the specification's sections, which a reader cannot open.
func TestMetricPageSaysItPlainly(t *testing.T) {
	e := newEnv(t, 0)
	page := e.page(t, e.sessionAs(t, "executive"), "/metrics/change_failure_rate?as_of=2026-03-31", 200)
	mustContain(t, "the change failure rate page", page, []string{
		`<p class="page-sub">The share of production deployments in the window that failed, were rolled back or caused an incident.</p>`,
		"<dt>In full</dt><dd>Of production deployments finishing in W",
		"rolled back or linked to ≥ 1 incident of any severity.</dd>",
	})
	if strings.Contains(page, "§") {
		t.Errorf("the page cites a section of the specification: %s", page[max(0, strings.Index(page, "§")-80):strings.Index(page, "§")+10])
	}
	for in, want := range map[string]string{
		"rolled back (§2) or linked":                  "rolled back or linked",
		"is red (SPEC §6).":                           "is red.",
		"linked (SPEC §2, explicit or inferred)":      "linked (explicit or inferred)",
		"a production deployment, SPEC §2, finishing": "a production deployment, finishing",
	} {
		if got := unspec(in); got != want {
			t.Errorf("unspec(%q) = %q, want %q", in, got, want)
		}
	}
}

// A metric's page says what stretch of time its value covers: the window
// for most, the state at as_of, a year's cohort, the quota period or a
// baseline's 90 days for the others — not a window the formula does not
// use ("Window 30d" beside GRR's 365-day cohort).
func TestMetricPageSaysWhatItCovers(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")
	for id, want := range map[string]string{
		"change_failure_rate":           "<dt>Window</dt><dd>30d ending 31 Mar 2026 00:00 UTC</dd>",
		"grr":                           "<dt>Cohort</dt><dd>the customers active on 31 Mar 2025: their recurring revenue then and at 31 Mar 2026 00:00 UTC</dd>",
		"open_critical_vulnerabilities": "<dt>As of</dt><dd>the state at 31 Mar 2026 00:00 UTC (the trend compares it with the state 30d before)</dd>",
		"pipeline_coverage":             "<dt>Period</dt><dd>the quota period holding 31 Mar 2026 00:00 UTC, up to then</dd>",
		"mttr_baseline":                 "<dt>Baseline</dt><dd>the 90 days before 1 Mar 2026 00:00 UTC, where the 30d window starts</dd>",
	} {
		mustContain(t, id, e.page(t, exec, "/metrics/"+id+"?as_of=2026-03-31", 200), []string{want})
	}
}

// Before the data covers a week, nothing escalates and no card waits for
// an action: the escalations panel says when the data begins rather than
// that every metric has a current action beside cards saying none has.
func TestScorecardBeforeTheData(t *testing.T) {
	e := newEnv(t, 0)
	home := e.page(t, e.sessionAs(t, "executive"), "/?as_of=2020-01-01", 200)
	mustContain(t, "the scorecard of 2020", home, []string{"None: escalations need a week of data, and it begins on "}, "kpi__action", "has a current action")
}

// The 12-week trend's header says what its points and the figure above
// cover as the card does: "the figure above covers 30 days" stood above
// ARR's state at an instant and pipeline coverage's quota period.
func TestTrendHeaderSaysWhatItCovers(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")
	for id, want := range map[string]string{
		"change_failure_rate":           "each point one week's value; the figure above covers 30 days",
		"arr":                           "each point the state at its week's end; the figure above is the state at the page's time",
		"open_critical_vulnerabilities": "each point the state at its week's end; the figure above is the state at the page's time",
		"grr":                           "each point the cohort of a year before its week's end; the figure above, the cohort of a year before the page's time",
		"pipeline_coverage":             "each point the quota period holding its week's end, up to then; the figure above, the period holding the page's time",
		"quota_attainment":              "each point the quota period holding its week's end, up to then; the figure above, the period holding the page's time",
		"mttr_baseline":                 "each point the 90 days before its week; the figure above, the 90 days before the window's start",
	} {
		p := e.page(t, exec, "/metrics/"+id+"?as_of=2026-03-31", 200)
		i := strings.Index(p, `id="trend-h"`)
		if i < 0 {
			t.Fatalf("%s: no trend header", id)
		}
		head := html.UnescapeString(p[i : i+strings.Index(p[i:], "</h2>")])
		if !strings.Contains(head, want) {
			t.Errorf("%s: the trend header says\n%s\nwant %q", id, head, want)
		}
		if id != "change_failure_rate" && strings.Contains(head, "covers 30 days") {
			t.Errorf("%s: the trend header gives a window the value does not cover:\n%s", id, head)
		}
	}
}
