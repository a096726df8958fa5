package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// pagerdutyAPI serves recorded incidents as PagerDuty's REST API does:
// those created in [since, until), oldest first, limit at a time from
// offset, with "more"; and each incident by id. set replaces an
// incident's current state (it resolved meanwhile).
type pdFake struct {
	*fakeAPI
	mu        sync.Mutex
	incidents map[string]json.RawMessage
}

func pagerdutyAPI(t *testing.T) *pdFake {
	f := &pdFake{incidents: map[string]json.RawMessage{}}
	for _, name := range []string{"sync/pagerduty/incidents.1.json", "sync/pagerduty/incidents.2.json"} {
		var page pdList
		if err := json.Unmarshal(fixture(t, name), &page); err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Incidents {
			f.set(t, raw)
		}
	}
	f.fakeAPI = newFakeAPI(t, [2]string{"Authorization", "Token token=pd-api-token"}, func(a *fakeAPI, w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Accept") != "application/vnd.pagerduty+json;version=2" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if id, ok := strings.CutPrefix(r.URL.Path, "/incidents/"); ok {
			raw, ok := f.incidents[id]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"error": {"message": "Not Found", "code": 2100}}`)
				return
			}
			writeJSON(w, map[string]json.RawMessage{"incident": raw})
			return
		}
		q := r.URL.Query()
		if q.Get("sort_by") != "created_at:asc" || q.Get("time_zone") != "UTC" {
			t.Errorf("incidents asked as %s", r.URL.RawQuery)
		}
		from, err1 := time.Parse(time.RFC3339Nano, q.Get("since"))
		until, err2 := time.Parse(time.RFC3339Nano, q.Get("until"))
		if err1 != nil || err2 != nil || until.Sub(from) > 180*24*time.Hour {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["Date range is over 6 months"]}}`)
			return
		}
		list := []json.RawMessage{} // PagerDuty answers an empty range with [], never null
		for _, raw := range f.incidents {
			if at := ts(field(t, raw, "created_at")); !at.Before(from) && at.Before(until) {
				list = append(list, raw)
			}
		}
		sort.Slice(list, func(i, j int) bool {
			return ts(field(t, list[i], "created_at")).Before(ts(field(t, list[j], "created_at")))
		})
		limit, _ := strconv.Atoi(q.Get("limit"))
		offset, _ := strconv.Atoi(q.Get("offset"))
		end := min(len(list), offset+limit)
		writeJSON(w, map[string]any{"incidents": list[min(offset, end):end], "limit": limit, "offset": offset, "total": nil, "more": end < len(list)})
	})
	return f
}

func (f *pdFake) set(t *testing.T, raw json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.incidents[field(t, raw, "id")] = raw
}

func pdSyncConfig(api *fakeAPI) Config {
	return Config{PagerDuty: PagerDuty{Secret: pdSecret, Sync: PagerDutySync{
		Sync: Sync{Token: "pd-api-token", BaseURL: api.srv.URL, Backfill: "60d", PageSize: 2},
	}}}
}

// Incidents are read by creation time, a page at a time; the unresolved
// ones are asked for again at the next run, which finds one resolved.
func TestSyncPagerDuty(t *testing.T) {
	api := pagerdutyAPI(t)
	se := newSyncEnv(t, pdSyncConfig(api.fakeAPI), api.fakeAPI)
	se.now = time.Date(2021, 6, 4, 14, 0, 0, 0, time.UTC)
	sum := se.sync("pagerduty", SyncOptions{})
	if sum.Accepted != 4 || sum.Inserted != 3 || sum.Unchanged != 1 || sum.Pages != 2 {
		t.Errorf("summary %+v: want 2 pages of 2, the incident at the first page's newest time read twice", sum)
	}
	inc := se.record(domain.KindIncident, "pagerduty", "PGR0VU2").(*domain.Incident)
	if inc.Severity != "P1" || inc.Service != "API Service" || !inc.OpenedAt.Equal(ts("2021-04-26T17:30:00Z")) || !inc.ResolvedAt.IsZero() {
		t.Errorf("PGR0VU2 = %+v", inc)
	}
	res := se.record(domain.KindIncident, "pagerduty", "PCPZE64").(*domain.Incident)
	if !res.ResolvedAt.Equal(ts("2021-06-04T13:16:53Z")) || res.Severity != "P2" {
		t.Errorf("PCPZE64 = %+v", res)
	}
	cur := se.cursorOf("pagerduty", "incidents")
	if !cur.Since.Equal(ts("2021-06-04T13:35:29Z")) || strings.Join(cur.Open, ",") != "PGR0VU2,PFQZPSY" {
		t.Errorf("cursor %+v, want Since at the newest incident and the two unresolved ones open", cur)
	}
	if list := api.took("/incidents?"); len(list) != 2 || query(t, list[0]).Get("offset") != "0" {
		t.Errorf("incident pages %v", list)
	}

	// PFQZPSY resolves; the next run asks for both open incidents again.
	var later struct {
		Incident json.RawMessage `json:"incident"`
	}
	if err := json.Unmarshal(fixture(t, "sync/pagerduty/incident.PFQZPSY.resolved.json"), &later); err != nil {
		t.Fatal(err)
	}
	api.set(t, later.Incident)
	se.now = se.now.Add(time.Hour)
	se.sync("pagerduty", SyncOptions{})
	if got := api.took("/incidents/"); len(got) != 2 {
		t.Errorf("open incidents asked again: %v", got)
	}
	if r := se.record(domain.KindIncident, "pagerduty", "PFQZPSY").(*domain.Incident); !r.ResolvedAt.Equal(ts("2021-06-04T14:02:11Z")) {
		t.Errorf("PFQZPSY after it resolved = %+v", r)
	}
	if cur := se.cursorOf("pagerduty", "incidents"); strings.Join(cur.Open, ",") != "PGR0VU2" {
		t.Errorf("open after the second run: %v", cur.Open)
	}
	if rs := se.runs("pagerduty"); len(rs) != 2 || rs[0].Outcome != store.SyncOK {
		t.Errorf("runs %+v", rs)
	}
}

// A backfill longer than PagerDuty's six-month range is read window by
// window.
func TestSyncPagerDutyWindows(t *testing.T) {
	api := pagerdutyAPI(t)
	se := newSyncEnv(t, pdSyncConfig(api.fakeAPI), api.fakeAPI)
	se.now = time.Date(2021, 6, 4, 14, 0, 0, 0, time.UTC)
	se.sync("pagerduty", SyncOptions{Since: ts("2020-01-01T00:00:00Z")})
	if n := se.recordCount(); n != 3 {
		t.Errorf("%d incidents after a 17-month backfill, want 3", n)
	}
	if list := api.took("/incidents?"); len(list) < 3 {
		t.Errorf("a 17-month backfill asked %d times, want one range after another", len(list))
	}
}

// An incident synced and the same incident delivered by webhook are the
// same record. The recorded webhook events carry neither created_at nor
// incident_key (PagerDuty's docs show both); the test adds them as
// PagerDuty sends them.
func TestSyncPagerDutySameRecordsAsWebhook(t *testing.T) {
	api := pagerdutyAPI(t)
	se := newSyncEnv(t, pdSyncConfig(api.fakeAPI), api.fakeAPI)
	se.now = time.Date(2021, 6, 4, 14, 0, 0, 0, time.UTC)
	se.sync("pagerduty", SyncOptions{})
	hook := pdEnv(t, PagerDuty{})
	var page pdList
	if err := json.Unmarshal(fixture(t, "sync/pagerduty/incidents.2.json"), &page); err != nil {
		t.Fatal(err)
	}
	body := edit(t, fixture(t, "pagerduty/zulip.triggered_v3.json"), func(m map[string]any) {
		data := obj(m, "event", "data")
		data["created_at"] = field(t, page.Incidents[0], "created_at")
		data["incident_key"] = field(t, page.Incidents[0], "incident_key")
	})
	hook.pdPost(body).want(t, http.StatusOK, store.DeliveryAccepted)
	sameStored(t, hook, se.env, domain.Key{Kind: domain.KindIncident, Source: "pagerduty", ID: "PFQZPSY"})
}

// A JSON answer without the incidents list (a misrouted base_url, a
// proxy's own JSON) is a failed run naming what is missing, not an empty
// page read successfully.
func TestSyncPagerDutyAnswerWithoutIncidents(t *testing.T) {
	api := pagerdutyAPI(t)
	se := newSyncEnv(t, pdSyncConfig(api.fakeAPI), api.fakeAPI)
	se.now = time.Date(2021, 6, 4, 14, 0, 0, 0, time.UTC)
	for _, body := range []string{`{"foo":[1,2,3]}`, `{"incidents": null}`, `{"incidents": {}}`, `null`} {
		api.fault(fault{path: "/incidents", status: http.StatusOK, body: body})
		_, err := se.svc.Sync(context.Background(), "pagerduty", SyncOptions{})
		if err == nil || !strings.Contains(err.Error(), "not what the API documents") {
			t.Fatalf("an answer %s: %v", body, err)
		}
		if (body == `{"foo":[1,2,3]}` || body == `{"incidents": null}`) && !strings.Contains(err.Error(), `no "incidents" list`) {
			t.Errorf("an answer %s: %v, want the missing list named", body, err)
		}
		if n := se.recordCount(); n != 0 {
			t.Errorf("%d records stored", n)
		}
	}
}
