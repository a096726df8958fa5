package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/store"
)

// newAlerts is the alert service over st with the default rules and two
// firing alerts: one on change_failure_rate (routeCases acknowledges it)
// and one on arr, which only revenue readers see.
func newAlerts(t testing.TB, st store.Store, cat *catalog.Catalog, eng *engine.Engine) *alert.Service {
	t.Helper()
	rules, err := alert.Compile(alert.Defaults(), cat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	as := st.(store.AlertStore)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var rows []store.AlertRow
	for _, o := range []alert.Observation{{Rule: "metric_red", Metric: "change_failure_rate", Active: true, Summary: "Change failure rate is red"},
		{Rule: "arr_behind_target", Metric: "arr", Active: true, Summary: "ARR is 80 % of its target"}} {
		b, _ := json.Marshal(alert.Alert{Key: o.Key(), Observation: o, State: alert.Firing, ActiveAt: t0})
		rows = append(rows, store.AlertRow{Key: o.Key(), State: alert.Firing, ActiveAt: t0, Body: b})
	}
	if _, err := as.SaveAlerts(context.Background(), rows, nil, nil); err != nil {
		t.Fatal(err)
	}
	return &alert.Service{Store: as, Engine: eng, Catalog: cat, Rules: rules, Timing: alert.DefaultTiming}
}

func TestAlertsAPI(t *testing.T) {
	e := newEnv(t, 1<<20)
	get := func(token string) []alert.Alert {
		t.Helper()
		status, body, _ := e.do(t, http.MethodGet, "/api/v1/alerts", "", bearer(token))
		var doc struct{ Alerts []alert.Alert }
		if status != 200 || json.Unmarshal(body, &doc) != nil {
			t.Fatalf("GET /api/v1/alerts: %d %s", status, body)
		}
		return doc.Alerts
	}
	if got := get(e.token); len(got) != 2 {
		t.Errorf("an executive sees %d alerts, want 2", len(got))
	}
	eng := e.roleToken(t, "engineering")
	if got := get(eng); len(got) != 1 || got[0].Metric != "change_failure_rate" {
		t.Errorf("engineering sees %+v; the ARR alert needs revenue:read", got)
	}
	for _, c := range []struct {
		token, body string
		status      int
	}{
		{eng, `{"key": "arr_behind_target|arr|"}`, 403},
		{e.token, `{"key": "nope"}`, 404},
		{e.token, `{"key": "arr_behind_target|arr|", "note": "pipeline review"}`, 200},
	} {
		if status, body, _ := e.do(t, http.MethodPost, "/api/v1/alerts/ack", c.body, bearer(c.token)); status != c.status {
			t.Errorf("ack %s: %d %s, want %d", c.body, status, body, c.status)
		}
	}
	for _, a := range get(e.token) {
		if a.Metric == "arr" && (a.AckedBy == "" || a.AckNote != "pipeline review") {
			t.Errorf("ARR alert not acknowledged: %+v", a)
		}
	}
	for body, status := range map[string]int{
		`{"rule": "metric_red", "for": "2h"}`:                            400,
		`{"rule": "metric_red", "reason": "close", "for": "soon"}`:       400,
		`{"reason": "close", "for": "2h"}`:                               400,
		`{"rule": "metric_red", "reason": "quarter close", "for": "2h"}`: 201,
		`{"metric": "nosuch", "reason": "typo", "for": "2h"}`:            404, // as every unknown metric of the API
		`{"scope": "service:nosuch", "reason": "typo", "for": "2h"}`:     400,
		`{"rule": "metric_red", "reason": "typo", "for": "400d"}`:        400,
	} {
		if got, b, _ := e.do(t, http.MethodPost, "/api/v1/alerts/silences", body, bearer(e.token)); got != status {
			t.Errorf("silence %s: %d %s, want %d", body, got, b, status)
		}
	}
	status, b, _ := e.do(t, http.MethodPost, "/api/v1/alerts/silences", `{"scope": "service:nosuch", "reason": "typo", "for": "2h"}`, bearer(e.token))
	var refusal struct{ Error, Param string }
	if json.Unmarshal(b, &refusal) != nil || refusal.Param != "scope" || !strings.Contains(refusal.Error, `no service "nosuch" in the data (known: api`) {
		t.Errorf("silence of an unknown service: %d %s", status, b)
	}

	// Ended early: the ARR silence is not found by who may not see ARR.
	status, b, _ = e.do(t, http.MethodPost, "/api/v1/alerts/silences", `{"metric": "arr", "scope": "service:api", "reason": "pricing change", "for": "90d"}`, bearer(e.token))
	var arr struct{ ID int64 }
	if status != 201 || json.Unmarshal(b, &arr) != nil {
		t.Fatalf("silence of ARR for 90d: %d %s", status, b)
	}
	// In the API's snake_case, as the ledger's entry names the fields: it
	// had answered with Go's field names ("StartsAt").
	var fields map[string]any
	if json.Unmarshal(b, &fields) != nil || fields["starts_at"] == nil || fields["ends_at"] == nil || fields["metric"] != "arr" || fields["StartsAt"] != nil {
		t.Errorf("the silence's fields: %s", b)
	}
	id := strconv.FormatInt(arr.ID, 10)
	// Listed to who may see ARR, not to an engineer; gone once ended.
	listed := func(token string) []int64 {
		t.Helper()
		status, b, _ := e.do(t, http.MethodGet, "/api/v1/alerts/silences", "", bearer(token))
		var l struct {
			Silences []struct {
				ID     int64  `json:"id"`
				Reason string `json:"reason"`
			} `json:"silences"`
		}
		if status != 200 || json.Unmarshal(b, &l) != nil {
			t.Fatalf("GET /api/v1/alerts/silences: %d %s", status, b)
		}
		var ids []int64
		for _, x := range l.Silences {
			ids = append(ids, x.ID)
		}
		return ids
	}
	if ids := listed(e.token); !slices.Contains(ids, arr.ID) || len(ids) < 2 {
		t.Errorf("the silences in force listed %v, want the ARR one (#%d) and metric_red's", ids, arr.ID)
	}
	if ids := listed(eng); slices.Contains(ids, arr.ID) {
		t.Errorf("an engineer is listed the ARR silence: %v", ids)
	}
	ends := []struct {
		token, id string
		status    int
	}{{eng, id, 404}, {e.token, "abc", 400}, {e.token, id, 200}, {e.token, id, 404}, {e.token, "99", 404}}
	for _, c := range ends {
		if got, b, _ := e.do(t, http.MethodPost, "/api/v1/alerts/silences/"+c.id+"/end", "", bearer(c.token)); got != c.status {
			t.Errorf("end silence %s: %d %s, want %d", c.id, got, b, c.status)
		}
	}
	if ids := listed(e.token); slices.Contains(ids, arr.ID) {
		t.Errorf("an ended silence is listed: %v", ids)
	}
	// A silence of a rule naming no metric of its own reaches the rule's
	// metric: the ARR rule's is not an engineer's to see or end, nor is
	// one of every rule; the change failure rate rule's is.
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"rule": "arr_behind_target", "reason": "pricing change", "for": "2h"}`, 404},
		{`{"scope": "service:api", "reason": "maintenance", "for": "2h"}`, 404},
		{`{"rule": "metric_red", "metric": "change_failure_rate", "reason": "known", "for": "2h"}`, 200},
	} {
		status, b := 0, []byte(nil)
		if status, b, _ = e.do(t, http.MethodPost, "/api/v1/alerts/silences", c.body, bearer(e.token)); status != 201 {
			t.Fatalf("silence %s: %d %s", c.body, status, b)
		}
		var x struct{ ID int64 }
		json.Unmarshal(b, &x)
		if got, b, _ := e.do(t, http.MethodPost, "/api/v1/alerts/silences/"+strconv.FormatInt(x.ID, 10)+"/end", "", bearer(eng)); got != c.status {
			t.Errorf("an engineer ending the silence %s: %d %s, want %d", c.body, got, b, c.status)
		}
		// Nor is a silence they may not see named to them among those
		// in force.
		if c.status == 404 {
			if _, b, _ := e.do(t, http.MethodPost, "/api/v1/alerts/silences/99/end", "", bearer(eng)); strings.Contains(string(b), "#"+strconv.FormatInt(x.ID, 10)) {
				t.Errorf("an engineer is told of silence #%d: %s", x.ID, b)
			}
		}
	}
	// Nor may an engineer make such a silence: it would mute the revenue
	// alerts of those who read them, out of the engineer's sight (they
	// had silenced the ARR rule for 90 days). Naming a metric they see
	// they may; a silence matching nothing is still refused as such.
	for _, c := range []struct {
		body   string
		status int
		says   string
	}{
		{`{"rule": "arr_behind_target", "reason": "quiet", "for": "90d"}`, 403, "rule arr_behind_target watches metric arr, which your roles may not see"},
		{`{"rule": "metric_red", "reason": "quiet", "for": "2h"}`, 403, "some of which your roles may not see; name the metric"},
		{`{"scope": "service:api", "reason": "maintenance", "for": "2h"}`, 403, "some of which your roles may not see"},
		{`{"metric": "arr", "reason": "quiet", "for": "2h"}`, 403, "revenue:read"},
		{`{"reason": "everything", "for": "2h"}`, 400, "it would mute everything"},
		{`{"rule": "metric_red", "metric": "change_failure_rate", "reason": "known", "for": "2h"}`, 201, `"metric": "change_failure_rate"`},
	} {
		if got, b, _ := e.do(t, http.MethodPost, "/api/v1/alerts/silences", c.body, bearer(eng)); got != c.status || !strings.Contains(string(b), c.says) {
			t.Errorf("an engineer silencing %s: %d %s, want %d saying %q", c.body, got, b, c.status, c.says)
		}
	}
	eng2 := e.sessionAs(t, "engineering")
	if st, body, _ := e.post(t, eng2, "/alerts/silences", url.Values{"rule": {"arr_behind_target"}, "for": {"90d"}, "reason": {"quiet"}}); st != http.StatusForbidden || !strings.Contains(body, "Nothing was silenced") {
		t.Errorf("an engineer's silence form for the ARR rule: %d %s", st, clip([]byte(body)))
	}
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}
