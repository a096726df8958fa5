package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// apiGet reads a JSON API answer with the token into v.
func getJSONAs(t *testing.T, base, path, token string, v any) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	status, body, _ := send(t, http.DefaultClient, req)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", path, status, clip(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// An executive signs in, reads the scorecard (each pillar's status and a
// value as the JSON API gives them), drills into a metric, its breakdown
// and its records, opens a record, and prints the scorecard on one page;
// every page is photographed at laptop and phone width, and none scrolls
// sideways on a phone.
func TestBrowserScorecardDrillDown(t *testing.T) {
	ctx := browsertest.New(t)
	srv, base := newDemoServer(t, map[string][]string{"eve@example.com": {"executive"}})
	token := newToken(t, srv.Auth, "api", "executive")
	// As `candor demo` does, the owners have acted on all but three of
	// what would escalate: the cards carry their actions, and the printed
	// sheet must still be one.
	if n := recordOwnersActions(t, srv, 3); n == 0 {
		t.Fatal("no action recorded: the print is not tried with them")
	}

	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	// follow runs actions that leave the page and returns once the next
	// page has loaded, so no wait can be answered by the page left.
	follow := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, actions...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("%s answered %d", resp.URL, resp.Status)
		}
	}
	location := func() *url.URL {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	shoot := func(name string) {
		t.Helper()
		uncut(t, ctx, "the "+name+" page at laptop width")
		browsertest.Screenshot(ctx, t, name+"-laptop")
		browsertest.SetViewport(ctx, t, browsertest.Phone)
		uncut(t, ctx, "the "+name+" page on a phone")
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) > screen.width`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("the %s page scrolls sideways on a phone", name)
		}
		browsertest.Screenshot(ctx, t, name+"-phone")
		browsertest.SetViewport(ctx, t, browsertest.Laptop)
	}

	run(chromedp.Navigate(base+"/?window=30d"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "eve@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".pillars")))

	// Each pillar's status, and each headline value, as the API says.
	var sc scorecard.Scorecard
	getJSONAs(t, base, "/api/v1/scorecard?window=30d", token, &sc)
	for _, p := range sc.Pillars {
		word := text(`section[aria-labelledby="pillar-` + p.ID + `"] .pillar__head .status__word`)
		if want := statusView(p.Status).Word; word != want {
			t.Errorf("pillar %s shows %q, the API says %q", p.ID, word, want)
		}
		for _, c := range p.Metrics {
			if !c.Headline {
				continue
			}
			got := text(`li[data-metric="` + c.ID + `"] .kpi__value`)
			// A sum over the window names it, as a rate per 30 days does.
			if want := scorecard.CompactValue(c.Value, c.Unit, "USD", c.Window, c.SumsOverWindow); got != want {
				t.Errorf("%s shows %q, the API says %q", c.ID, got, want)
			}
		}
	}
	// A card's trend says what it compares with, on screen.
	if span := text(`.kpi .trend__span`); !regexp.MustCompile(`^vs the \d+ days before$`).MatchString(span) {
		t.Errorf("a card's trend compares with %q", span)
	}
	shoot("scorecard")
	printsOnOnePage(ctx, t, "scorecard-print.pdf")
	// What the sheet shows, as a picture: the print stylesheet at the
	// printable width of A4 landscape (297 mm less 2 × 9 mm margins).
	browsertest.SetViewport(ctx, t, browsertest.Viewport{Name: "print", Width: 1054, Height: 726, Scale: 1})
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "scorecard-print")
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	browsertest.SetViewport(ctx, t, browsertest.Laptop)

	// Into a metric: its value is the API's, and the window is carried.
	const id = "change_failure_rate"
	run(chromedp.Click(chromedp.CSS(`li[data-metric="`+id+`"] a.kpi__name`)), chromedp.WaitVisible(chromedp.CSS(".value-card")))
	if u := location(); u.Path != "/metrics/"+id || u.Query().Get("window") != "30d" {
		t.Errorf("the metric link led to %s, want /metrics/%s carrying window=30d", u, id)
	}
	var d scorecard.MetricDetail
	getJSONAs(t, base, "/api/v1/metrics/"+id+"?window=30d", token, &d)
	got := text(".value-card__value")
	if want := scorecard.FormatValue(d.Card.Value, d.Card.Unit, "USD"); got != want {
		t.Errorf("the metric page shows %q, the API %q", got, want)
	}
	shoot("metric")

	// The owner's action, recorded from the page: the form posts and the
	// page comes back, with its window, showing it as the current action.
	dueDay := srv.Now().AddDate(0, 0, 14).UTC()
	due := dueDay.Format(time.DateOnly)
	// The metric has an action already: the form is folded under it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const d = document.querySelector('#action details.action__new'); if (d) d.open = true; return !!d })()`)); err != nil {
		t.Fatal(err)
	}
	run(chromedp.SetValue(chromedp.CSS(`#action input[name="due"]`), due),
		chromedp.SendKeys(chromedp.CSS(`#action textarea[name="note"]`), "Canary releases for checkout"))
	// The page before has an action head too: waiting for one could
	// return before the browser left it (a CI run read the old page's URL).
	follow(chromedp.Click(chromedp.CSS(`#action button[type="submit"]`)))
	run(chromedp.WaitVisible(chromedp.CSS(`#action .action__head`)))
	if u := location(); u.Path != "/metrics/"+id || u.Query().Get("window") != "30d" || u.Fragment != "action" {
		t.Errorf("recording the action led to %s, want the page again with its window", u)
	}
	if head, note := text("#action .action__head"), text("#action .action__note"); !strings.Contains(head, "VP Engineering") || !strings.Contains(head, "due "+dueDay.Format("2 Jan 2006")) || note != "Canary releases for checkout" {
		t.Errorf("the recorded action shows %q / %q", head, note)
	}
	shoot("metric-action")

	// A breakdown line scopes the page to its group, carrying the window.
	key := text(".breakdown tbody tr:first-child a")
	run(chromedp.Click(chromedp.CSS(".breakdown tbody tr:first-child a")), chromedp.WaitVisible(chromedp.CSS(".scope")))
	if u := location(); u.Query().Get("window") != "30d" || !strings.Contains(u.RawQuery, url.QueryEscape(key)) {
		t.Errorf("the breakdown line %q led to %s", key, u)
	}
	shoot("metric-scoped")

	// The records sort by a column on the server, newest first.
	run(chromedp.Navigate(base+"/metrics/"+id+"?window=30d"), chromedp.WaitVisible(chromedp.CSS(".records")))
	// The default order is marked sorted too: wait for the new page.
	follow(chromedp.Click(chromedp.CSS(`.records thead th:nth-child(2) a`)))
	run(chromedp.WaitVisible(chromedp.CSS(`.records th[aria-sort]`)))
	if u := location(); u.Query().Get("sort") == "" || u.Query().Get("window") != "30d" {
		t.Errorf("sorting led to %s", u)
	}

	// A record, from the table.
	rid := text(".records tbody tr:first-child th a")
	run(chromedp.Click(chromedp.CSS(".records tbody tr:first-child th a")), chromedp.WaitVisible(chromedp.CSS(".fields")))
	if u := location(); !strings.HasPrefix(u.Path, "/records/") || u.Query().Get("window") != "30d" {
		t.Errorf("the record link led to %s", u)
	}
	title := text("h1")
	if !strings.Contains(title, rid) {
		t.Errorf("the record page is titled %q, want the id %q", title, rid)
	}
	shoot("record")

	// The funnel's stages and cohort, and deployment days per week.
	run(chromedp.Navigate(base+"/metrics/funnel_conversion?window=30d"), chromedp.WaitVisible(chromedp.CSS(".value-card")))
	if body := text("main"); !strings.Contains(body, "MQL → SQL") || !strings.Contains(body, "leads created") {
		t.Errorf("the funnel page lacks its stages or cohort:\n%s", body)
	}
	shoot("funnel")
	// Lead time's table of flow stages fits a phone (it had run past its
	// panel and out of the page).
	run(chromedp.Navigate(base+"/metrics/lead_time_for_changes?window=30d"), chromedp.WaitVisible(chromedp.CSS("#flow-h")))
	shoot("lead-time")
	run(chromedp.Navigate(base+"/metrics/deployment_frequency?window=30d"), chromedp.WaitVisible(chromedp.CSS(".value-card")))
	if body := text(".value-card"); !strings.Contains(body, "per week") {
		t.Errorf("the deployment frequency page lacks deployment days per week:\n%s", body)
	}

	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the pages reported errors:\n%s", strings.Join(errs, "\n"))
	}
}

// recordOwnersActions records, as each metric's owner, an action on every
// metric that would escalate but the first leave, and returns how many.
func recordOwnersActions(t *testing.T, srv *Server, leave int) int {
	t.Helper()
	ctx := context.Background()
	now := srv.Now()
	var prepared []escalation.Acknowledgement
	err := srv.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		es := escalation.Escalations(srv.Catalog, ds, nil, escalation.Options{AsOf: now})
		for i, e := range es[min(leave, len(es)):] {
			m, _ := srv.Catalog.Metric(e.Metric)
			in := escalation.Input{Owner: m.Owner, Note: "Owner reviewing the cause with the team", Due: now.AddDate(0, 0, 10+i%3*4).Format(time.DateOnly), Scope: e.Scope}
			a, err := escalation.Prepare(srv.Catalog, ds, e.Metric, in, "test", now)
			if err != nil {
				return err
			}
			prepared = append(prepared, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range prepared {
		if _, err := escalation.Record(ctx, srv.Store, a); err != nil {
			t.Fatal(err)
		}
	}
	return len(prepared)
}

// TestBrowserPrintedScorecardStatesRules: the printed sheet, which hides
// each card's thresholds for room, states those of its red and amber cards
// once under the pillars — it said red without saying against what — and
// still prints on one page; on screen the cards state their own and the
// legend is not shown.
func TestBrowserPrintedScorecardStatesRules(t *testing.T) {
	ctx := browsertest.New(t)
	_, base := newDemoServer(t, map[string][]string{"eve@example.com": {"executive"}})
	browserSignIn(t, ctx, base, "/?window=30d", "eve@example.com", ".pillars")
	// Each red or amber card's name and its rule as the card states it.
	want, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("li.kpi")].flatMap(k => {
		const word = k.querySelector(".kpi__head .status__word").textContent.trim(), rule = k.querySelector(".kpi__rule");
		return ["Red", "Amber"].includes(word) && rule ? [k.querySelector(".kpi__name").textContent.trim() + " (" + word.toLowerCase() + "): " + rule.textContent.replace(/ · $/, "").trim()] : [];
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no red or amber card with thresholds on the demo's scorecard: nothing to try")
	}
	shown := func() (bool, string) {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { const s = document.querySelector(".sheet-rules");
			return s ? [String(s.getClientRects().length > 0), s.innerText] : ["false", ""]; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return v[0] == "true", v[1]
	}
	if on, _ := shown(); on {
		t.Error("the legend of thresholds shows on screen, where each card states its own")
	}
	browsertest.SetViewport(ctx, t, browsertest.Viewport{Name: "print", Width: 1054, Height: 726, Scale: 1})
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	on, legend := shown()
	if !on {
		t.Fatal("the printed scorecard has no legend of thresholds")
	}
	legend = strings.Join(strings.Fields(legend), " ")
	for _, w := range want {
		if !strings.Contains(legend, w) {
			t.Errorf("the printed legend lacks %q:\n%s", w, legend)
		}
	}
	browsertest.Screenshot(ctx, t, "scorecard-print")
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	browsertest.SetViewport(ctx, t, browsertest.Laptop)
	printsOnOnePage(ctx, t, "scorecard-print.pdf")
}

// On a phone a record's id, the heading of its stacked row, wraps within
// its half of the row: kept on one line, an SLI's long id ran over the
// field beside it.
func TestBrowserRecordIDsWrapOnAPhone(t *testing.T) {
	ctx := browsertest.New(t)
	base := demoServer(t, map[string][]string{"eve@example.com": {"executive"}})
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browserSignIn(t, ctx, base, "/metrics/availability", "eve@example.com", ".records")
	over, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll(".records tbody th")].map(th => th.scrollWidth - th.clientWidth)`))
	if err != nil || len(over) == 0 {
		t.Fatalf("record headings: %v (%v)", over, err)
	}
	for i, d := range over {
		if d > 1 {
			t.Errorf("record %d's id runs %.0f px past its cell", i+1, d)
			break
		}
	}
	browsertest.Screenshot(ctx, t, "records-phone")
}
