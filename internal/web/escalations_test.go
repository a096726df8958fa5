package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/scorecard"
)

// TestAcknowledgementsAPI: an amber or red metric is acknowledged with an
// owner, a note and a due date (201), bad input names the field (400), a
// green one is refused (409); the history lists every acknowledgement; the
// escalations leave an acknowledged metric out until it is overdue.
func TestAcknowledgementsAPI(t *testing.T) {
	e := newEnv(t, 0)
	now := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	e.srv.Now = func() time.Time { return now }
	post := func(id, body string) (int, map[string]any) {
		t.Helper()
		status, b, _ := e.do(t, "POST", "/api/v1/metrics/"+id+"/acknowledgements", body, nil)
		var doc map[string]any
		json.Unmarshal(b, &doc)
		return status, doc
	}
	status, a := post("change_failure_rate", `{"owner":"VP Engineering","note":"Canary releases for api","due":"2026-04-10"}`)
	if status != 201 || a["status"] != "unknown" || a["value"] != 50.0 || a["by"] != "token:test" || a["id"] == nil || a["due"] != "2026-04-10" {
		t.Fatalf("POST: %d %v", status, a)
	}
	for _, c := range []struct{ body, param string }{
		{`{"owner":"x","note":"y"}`, "due"},
		{`{"owner":"x","note":"y","due":"2026-03-01"}`, "due"},
		{`{"note":"y","due":"2026-04-10"}`, "owner"},
		{`{"owner":"x","note":"y","due":"2026-04-10","scope":"team:nobody"}`, "scope"},
		{`{"owner":"x","note":"y","due":"2026-04-10","colour":"red"}`, "colour"},
		{`{"owner":1}`, "owner"},
	} {
		if status, doc := post("change_failure_rate", c.body); status != 400 || doc["param"] != c.param {
			t.Errorf("POST %s: %d %v, want 400 naming %s", c.body, status, doc, c.param)
		}
	}
	// A green metric has nothing to acknowledge.
	green := firstGreen(t, e, "2026-03-31")
	if status, doc := post(green, `{"owner":"x","note":"y","due":"2026-04-10"}`); status != 409 || !strings.Contains(doc["error"].(string), "green and not degrading") {
		t.Errorf("POST on green %s: %d %v", green, status, doc)
	}
	status, b, _ := e.do(t, "GET", "/api/v1/metrics/change_failure_rate/acknowledgements", "", nil)
	var list struct{ Acknowledgements []escalation.Acknowledgement }
	json.Unmarshal(b, &list)
	if status != 200 || len(list.Acknowledgements) != 1 || list.Acknowledgements[0].Note != "Canary releases for api" {
		t.Fatalf("GET acknowledgements: %d %s", status, b)
	}
	// The scorecard's and the views' cards carry the action in force,
	// overdue after its day, or say one is needed and none is recorded; a
	// dashboard had joined /api/v1/escalations and the acknowledgements.
	for _, c := range []struct {
		path    string
		overdue bool
	}{
		{"/api/v1/scorecard?as_of=2026-03-31", false},
		{"/api/v1/scorecard?as_of=2026-04-12", true},
		{"/api/v1/views/engineering?as_of=2026-04-12", true},
	} {
		now = time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC) // as_of past the clock is refused
		status, b, _ := e.do(t, "GET", c.path, "", nil)
		if status != 200 {
			t.Fatalf("%s: %d %s", c.path, status, clip(b))
		}
		cards := apiCards(t, b, strings.Contains(c.path, "/views/"))
		cfr := cards["change_failure_rate"]
		if !cfr.NeedsAction || cfr.Action == nil || cfr.Action.Owner != "VP Engineering" || cfr.Action.Note != "Canary releases for api" ||
			cfr.Action.Due != "2026-04-10" || cfr.Action.Overdue != c.overdue || cfr.Action.By != "token:test" || cfr.Action.ID == 0 {
			t.Errorf("%s: change failure rate needs %v, action %+v", c.path, cfr.NeedsAction, cfr.Action)
		}
		for id, card := range cards {
			if card.Action != nil && !card.NeedsAction || card.Status == "green" && !card.Degrading && card.NeedsAction {
				t.Errorf("%s: %s (%s) needs %v, action %+v", c.path, id, card.Status, card.NeedsAction, card.Action)
			}
		}
	}
	// Recorded after the page's as_of: not in force then.
	if _, b, _ := e.do(t, "GET", "/api/v1/scorecard?as_of=2026-03-29", "", nil); apiCards(t, b, false)["change_failure_rate"].Action != nil {
		t.Error("an action recorded on 31 Mar is in force on 29 Mar")
	}
	escalated := func(asOf string) map[string]escalation.Escalation {
		t.Helper()
		// Days later: an as_of past the clock is refused.
		now, _ = ParseTime(asOf)
		status, b, _ := e.do(t, "GET", "/api/v1/escalations?as_of="+asOf, "", nil)
		var doc struct{ Escalations []escalation.Escalation }
		if status != 200 || json.Unmarshal(b, &doc) != nil {
			t.Fatalf("GET escalations: %d %s", status, b)
		}
		out := map[string]escalation.Escalation{}
		for _, x := range doc.Escalations {
			out[x.Metric] = x
		}
		return out
	}
	if _, ok := escalated("2026-04-05")["change_failure_rate"]; ok {
		t.Error("acknowledged change failure rate escalates before its due date")
	}
	if x, ok := escalated("2026-04-12")["change_failure_rate"]; !ok || x.Why != escalation.Overdue {
		t.Errorf("after its due date: %+v (%v)", x, ok)
	}
	if status, _, _ := e.do(t, "GET", "/api/v1/escalations?scope=team", "", nil); status != 400 {
		t.Errorf("bad scope: %d", status)
	}
	// A value the data lacks is the scope parameter's mistake, as the
	// metric drill-down says it: the client sent no team parameter.
	// Escalations are judged on each metric's own window at the daily
	// checks: a window is a parameter they do not read, refused as the
	// README says, where it had been taken and the same list answered.
	if status, b, _ := e.do(t, "GET", "/api/v1/escalations?window=7d", "", nil); status != 400 || !strings.Contains(string(b), `"param": "window"`) {
		t.Errorf("window=7d: %d, want 400 naming window\n%s", status, clip(b))
	}
	for _, scope := range []string{"team:nosuch", "team:payments,service:nosuch", "colour:red", "team:payments,colour:red"} {
		if status, b, _ := e.do(t, "GET", "/api/v1/escalations?scope="+scope, "", nil); status != 400 || !strings.Contains(string(b), `"param": "scope"`) ||
			strings.Contains(scope, "colour") && !strings.Contains(string(b), `\"colour\"`) {
			t.Errorf("scope=%s: %d, want 400 naming scope\n%s", scope, status, clip(b))
		}
	}
}

// apiCards reads the cards of the scorecard API's answer, or a role view's
// (view), by id.
func apiCards(t *testing.T, b []byte, view bool) map[string]scorecard.Card {
	t.Helper()
	var sc scorecard.Scorecard
	var v scorecard.ViewResult
	into, cards := any(&sc), sc.Cards
	if view {
		into, cards = &v, v.Cards
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%v\n%s", err, clip(b))
	}
	out := map[string]scorecard.Card{}
	for _, c := range cards() {
		out[c.ID] = *c
	}
	return out
}

// firstGreen is the first metric of the scorecard as of asOf that is
// green.
func firstGreen(t *testing.T, e *env, asOf string) string {
	t.Helper()
	_, b, _ := e.do(t, "GET", "/api/v1/scorecard?as_of="+asOf, "", nil)
	var sc struct {
		Pillars []struct{ Metrics []struct{ ID, Status string } }
	}
	json.Unmarshal(b, &sc)
	for _, p := range sc.Pillars {
		for _, m := range p.Metrics {
			if m.Status == "green" {
				return m.ID
			}
		}
	}
	t.Fatal("the seed has no green metric")
	return ""
}

// Recording an action on an escalated metric ends its escalation alert at
// once, saying who acted: the alerts page and API had gone on with "no
// action recorded" for up to a day beside the action the metric page
// showed.
func TestActionEndsTheEscalationAlert(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	if err := e.srv.Alerts.Notify(ctx, escalation.Escalation{Metric: "change_failure_rate", Name: "Change failure rate", Status: "red",
		Owner: "VP Engineering", Why: escalation.Unacknowledged, Since: time.Now().Add(-8 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	state := func() (string, string) {
		t.Helper()
		_, b, _ := e.do(t, "GET", "/api/v1/alerts", "", nil)
		var l struct {
			Alerts []struct{ Key, State, Summary string } `json:"alerts"`
		}
		json.Unmarshal(b, &l)
		for _, a := range l.Alerts {
			if strings.HasSuffix(a.Key, "|change_failure_rate|") && strings.HasPrefix(a.Key, "escalation|") {
				return a.State, a.Summary
			}
		}
		t.Fatalf("no escalation alert of change failure rate: %s", b)
		return "", ""
	}
	if st, sum := state(); st != "firing" || !strings.Contains(sum, "no action recorded") {
		t.Fatalf("before the action: %s, %q", st, sum)
	}
	due := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	if status, b, _ := e.do(t, "POST", "/api/v1/metrics/change_failure_rate/acknowledgements", `{"owner":"VP Engineering","note":"Canary releases","due":"`+due+`"}`, nil); status != 201 {
		t.Fatalf("POST the action: %d %s", status, b)
	}
	if st, sum := state(); st != "resolved" || !strings.HasPrefix(sum, "token:test recorded an action at ") {
		t.Errorf("after the action: %s, %q", st, sum)
	}
}
