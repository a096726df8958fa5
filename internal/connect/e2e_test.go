package connect

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// End to end: GitHub pull requests and deployment statuses and PagerDuty
// incidents, real-shaped (the real payloads with their ids and times
// changed), through the handler into a SQLite store, give the DORA
// figures worked out by hand below.
func TestDeliveriesToDORAMetrics(t *testing.T) {
	e := newEnv(t, Config{
		GitHub:    GitHub{Secret: ghSecret},
		PagerDuty: PagerDuty{Secret: pdSecret, Incidents: Incidents{Services: map[string]string{"PCHECKOUT": "checkout"}}},
	})
	prTpl := fixture(t, "github/derived.pull_request.closed.merged.payload.json")
	depTpl := fixture(t, "github/deployment_status.payload.json")
	trigTpl := fixture(t, "pagerduty/zulip.triggered_v3.json")
	resTpl := fixture(t, "pagerduty/zulip.resolved_v3.json")
	repo := func(m map[string]any) {
		r := obj(m, "repository")
		r["name"], r["full_name"] = "checkout", "acme/checkout"
	}
	n := 0
	var firstPR, firstResolution []byte
	pr := func(number int, opened, merged string) {
		body := edit(t, prTpl, func(m map[string]any) {
			repo(m)
			m["number"] = number
			p := obj(m, "pull_request")
			p["number"], p["created_at"], p["merged_at"], p["closed_at"] = number, opened, merged, merged
			p["title"], p["merge_commit_sha"] = fmt.Sprintf("Change %d", number), fmt.Sprintf("%040d", number)
		})
		n++
		e.ghPost("pull_request", fmt.Sprintf("gh-%d", n), body).want(t, http.StatusOK, store.DeliveryAccepted)
		if firstPR == nil {
			firstPR = body
		}
	}
	deploy := func(id int, env, state, created, finished string) {
		body := edit(t, depTpl, func(m map[string]any) {
			repo(m)
			d := obj(m, "deployment")
			d["id"], d["environment"], d["created_at"], d["sha"] = id, env, created, fmt.Sprintf("%040d", id)
			s := obj(m, "deployment_status")
			s["id"], s["state"], s["environment"], s["created_at"] = id*10, state, env, finished
		})
		n++
		e.ghPost("deployment_status", fmt.Sprintf("gh-%d", n), body).want(t, http.StatusOK, store.DeliveryAccepted)
	}
	incident := func(id, opened, resolved string) {
		for _, step := range []struct {
			tpl      []byte
			kind, at string
		}{{trigTpl, "incident.triggered", opened}, {resTpl, "incident.resolved", resolved}} {
			body := edit(t, step.tpl, func(m map[string]any) {
				ev := obj(m, "event")
				ev["id"], ev["event_type"], ev["occurred_at"] = id+"-"+step.kind, step.kind, step.at
				data := obj(ev, "data")
				data["id"] = id
				obj(data, "service")["id"] = "PCHECKOUT"
			})
			e.pdPost(body).want(t, http.StatusOK, store.DeliveryAccepted)
			if firstResolution == nil && step.kind == "incident.resolved" {
				firstResolution = body
			}
		}
	}

	// Changes, and the production deployments that ship them (§2: the
	// first successful production deployment of the service at or after
	// the merge).
	pr(1, "2026-03-01T08:00:00Z", "2026-03-02T10:00:00Z")
	deploy(101, "production", "success", "2026-03-02T15:50:00Z", "2026-03-02T16:00:00Z") // ships 1: 6 h
	pr(2, "2026-03-04T08:00:00Z", "2026-03-05T12:00:00Z")
	deploy(102, "production", "success", "2026-03-06T11:50:00Z", "2026-03-06T12:00:00Z") // ships 2: 24 h
	pr(3, "2026-03-09T08:00:00Z", "2026-03-10T09:00:00Z")
	deploy(103, "production", "failure", "2026-03-10T20:50:00Z", "2026-03-10T21:00:00Z") // failed: ships nothing
	deploy(104, "production", "success", "2026-03-11T08:50:00Z", "2026-03-11T09:00:00Z") // ships 3: 24 h
	deploy(105, "staging", "success", "2026-03-12T08:50:00Z", "2026-03-12T09:00:00Z")    // not production
	pr(4, "2026-03-14T08:00:00Z", "2026-03-15T14:00:00Z")
	deploy(106, "production", "success", "2026-03-16T01:50:00Z", "2026-03-16T02:00:00Z") // ships 4: 12 h
	// Incidents: the first follows deployment 106 within 24 h, so it
	// failed; the others follow no deployment that closely.
	incident("PINC1", "2026-03-16T20:00:00Z", "2026-03-16T23:00:00Z") // 3 h
	incident("PINC2", "2026-03-20T10:00:00Z", "2026-03-20T11:00:00Z") // 1 h
	incident("PINC3", "2026-03-25T00:00:00Z", "2026-03-25T02:00:00Z") // 2 h

	// Redeliveries (GitHub's Redeliver, PagerDuty's retry) change nothing.
	seq := e.lastSeq()
	e.ghPost("pull_request", "gh-1", firstPR).want(t, http.StatusOK, store.DeliveryDuplicate)
	e.pdPost(firstResolution).want(t, http.StatusOK, store.DeliveryDuplicate)
	if e.lastSeq() != seq {
		t.Fatal("redeliveries wrote records")
	}

	asOf, window := ts("2026-03-31T00:00:00Z"), 30*24*time.Hour
	for _, c := range []struct {
		metric string
		want   float64
		count  int
	}{
		// Lead times 6, 24, 24, 12 h: the median is 18 h.
		{"lead_time_for_changes", 18, 4},
		// Production deployments 101, 102, 103, 104 and 106: 103 failed,
		// 106 caused PINC1: 2 of 5.
		{"change_failure_rate", 40, 5},
		// Resolved in the window after 3, 1 and 2 h: 2 h.
		{"mttr", 2, 3},
	} {
		r := e.metric(c.metric, asOf, window)
		if got := value(r); got != c.want || r.Count != c.count {
			t.Errorf("%s = %v over %d cases, want %v over %d", c.metric, got, r.Count, c.want, c.count)
		}
	}
	inc := e.record(domain.KindIncident, "pagerduty", "PINC1").(*domain.Incident)
	if inc.Service != "checkout" {
		t.Fatalf("incident service %q", inc.Service)
	}
}
