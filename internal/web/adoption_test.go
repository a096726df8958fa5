package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/adoption"
	"github.com/candor/candor/internal/store"
)

// TestAdoptionCounts: signed-in GETs are counted per week, person, route
// and metric or view — the route, never the URL's parameters; the counts
// and the quarterly review are read with adoption:read (the auditor, the
// administrator), who sees what nobody opened, and others are refused.
func TestAdoptionCounts(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.Adoption = &adoption.Recorder{Store: e.store, Every: time.Hour}
	execEmail := fmt.Sprintf("executive-%d@example.com", len(e.users))
	exec := e.sessionAs(t, "executive")
	e.page(t, exec, "/metrics/mttr?as_of="+asOf+"&team=growth", 200)
	e.page(t, exec, "/metrics/mttr?as_of="+asOf, 200)
	e.page(t, exec, "/views/ceo?as_of="+asOf, 200)
	auditor, admin := e.sessionAs(t, "auditor"), e.sessionAs(t, "admin")

	body := e.page(t, auditor, "/api/v1/adoption", 200)
	if strings.Contains(body, "growth") || strings.Contains(body, asOf) {
		t.Errorf("the counts keep a URL's content:\n%s", body)
	}
	var c adoption.Counts
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	week := adoption.Week(time.Now())
	want := adoption.Count{Week: week, Who: "user:" + execEmail, Page: "GET /metrics/{id}", Subject: "metric:mttr", Opens: 2}
	if !slices.Contains(c.Opens, want) || !slices.ContainsFunc(c.Opens, func(o adoption.Count) bool { return o.Subject == "view:ceo" && o.Opens == 1 }) {
		t.Errorf("counts %+v lack %+v and the view", c.Opens, want)
	}
	if len(c.Weeks) == 0 || c.Weeks[len(c.Weeks)-1].Week != week || c.Weeks[len(c.Weeks)-1].Openers < 2 {
		t.Errorf("week totals: %+v", c.Weeks)
	}
	// A bad, a future and a pre-1970 bound are each named, as an
	// as_of is: a future from had been blamed on to, 1960 answered.
	for q, param := range map[string]string{"from=yesterday": "from", "from=2030-01-01": "from", "from=1960-01-01": "from", "to=2030-01-01": "to"} {
		if status, body, _ := e.call(t, "GET", "/api/v1/adoption?"+q, "", "", admin); status != 400 || !strings.Contains(string(body), `"param": "`+param+`"`) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}

	// A store minutes old names nothing nobody opened: its counts began
	// today, and the page and the API say so.
	var rv adoption.Review
	if err := json.Unmarshal([]byte(e.page(t, admin, "/api/v1/adoption/review", 200)), &rv); err != nil {
		t.Fatal(err)
	}
	if rv.Judged || rv.Weeks != 1 || rv.Metrics != nil {
		t.Errorf("the review of a store minutes old: judged %v over %d weeks, unopened %d", rv.Judged, rv.Weeks, len(rv.Metrics))
	}
	if page := e.page(t, auditor, "/proposals", 200); !strings.Contains(page, html.EscapeString(rv.Partial())) || strings.Contains(page, "Metrics nobody opened") {
		t.Errorf("the review on /proposals of a store minutes old does not say its counts began today (%s)", rv.Partial())
	}
	// Counts of a week before the quarter (restored from an older store):
	// the whole quarter is judged.
	if err := e.store.AddOpens(context.Background(), []store.Opens{{Week: adoption.Week(time.Now().AddDate(0, 0, -7*adoption.QuarterWeeks-7)), Who: "user:old@example.com", Page: "GET /{$}", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	// The administrator sees no numbers: the review names what nobody
	// opened, but no metric's status.
	if err := json.Unmarshal([]byte(e.page(t, admin, "/api/v1/adoption/review", 200)), &rv); err != nil {
		t.Fatal(err)
	}
	if !rv.Judged || rv.Weeks != adoption.QuarterWeeks {
		t.Errorf("the review with counts before the quarter: judged %v over %d weeks", rv.Judged, rv.Weeks)
	}
	var unopened []string
	for _, m := range rv.Metrics {
		unopened = append(unopened, m.ID)
	}
	if slices.Contains(unopened, "mttr") || !slices.Contains(unopened, "availability") || len(rv.Unacknowledged) != 0 {
		t.Errorf("the administrator's review: unopened %v, red %+v", unopened, rv.Unacknowledged)
	}
	// The page words the review's weeks as dates, the last day the
	// Sunday of its last week, where it showed the weeks' ISO Mondays.
	if page := e.page(t, auditor, "/proposals", 200); !strings.Contains(page, "The weeks "+html.EscapeString(rv.Span())+":") || strings.Contains(page, "Weeks "+rv.From) {
		t.Errorf("the review on /proposals does not say its weeks as dates (%s)", rv.Span())
	}
	for _, path := range []string{"/api/v1/adoption", "/api/v1/adoption/review"} {
		if status, _, _ := e.call(t, "GET", path, "", "", e.sessionAs(t, "support")); status != 403 {
			t.Errorf("GET %s as support: %d, want 403", path, status)
		}
	}
}

// The quarterly review has an entry of its own under Governance for those
// who may read it, opening /proposals at the review: a new user had not
// found it under Definitions.
func TestQuarterlyReviewInTheMenu(t *testing.T) {
	e := newEnv(t, 0)
	exec := e.sessionAs(t, "executive")
	if page := e.page(t, exec, "/", 200); !strings.Contains(page, `href="/proposals#review"`) || !strings.Contains(page, ">Quarterly review<") {
		t.Error("the executive's menu has no entry for the quarterly review")
	}
	eng := e.sessionAs(t, "engineering")
	if page := e.page(t, eng, "/views/engineering", 200); strings.Contains(page, `href="/proposals#review"`) {
		t.Error("engineering, without adoption:read, has the quarterly review in its menu")
	}
}
