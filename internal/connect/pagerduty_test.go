package connect

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

const pdSecret = "pd-secret"

func pdEnv(t *testing.T, cfg PagerDuty) *env {
	cfg.Secret = pdSecret
	return newEnv(t, Config{PagerDuty: cfg})
}

func (e *env) pdPost(body []byte) answer {
	e.t.Helper()
	return e.post("pagerduty", body, "X-PagerDuty-Signature", "v1="+hexHMAC(pdSecret, body))
}

func TestPagerDutySignature(t *testing.T) {
	runSignatureChecks(t, sourceCase{
		source: "pagerduty",
		cfg:    func(secret string) Config { return Config{PagerDuty: PagerDuty{Secret: secret}} },
		body:   fixture(t, "pagerduty/zulip.triggered_v3.json"),
		sign: func(_ *env, secret string, body []byte) []string {
			return []string{"X-PagerDuty-Signature", "v1=" + hexHMAC(secret, body)}
		},
	})
}

// go-pagerduty's known answer: that body signed with that secret, as
// PagerDuty signs; any of several v1 values may be the one.
func TestPagerDutyKnownAnswerAndSeveralSignatures(t *testing.T) {
	const secret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
	const sig = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
	body := fixture(t, "pagerduty/go-pagerduty.incident.priority_updated.signed-body.json")
	e := newEnv(t, Config{PagerDuty: PagerDuty{Secret: secret}})
	e.post("pagerduty", body, "X-PagerDuty-Signature", "v1=00ff,"+sig+",v1=abcd").want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindIncident, "pagerduty", "PGR0VU2"), &domain.Incident{
		Meta: domain.Meta{ID: "PGR0VU2", Source: "pagerduty"}, Service: "API Service", Severity: "P1",
		OpenedAt: ts("2021-04-26T17:36:27.458Z"), URL: "https://acme.pagerduty.com/incidents/PGR0VU2",
	})
	e = newEnv(t, Config{PagerDuty: PagerDuty{Secret: secret}})
	e.post("pagerduty", body, "X-PagerDuty-Signature", "v1=00ff,v0=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd").
		want(t, http.StatusUnauthorized, store.DeliveryRejected)
}

func TestPagerDutyIncidentLifecycle(t *testing.T) {
	e := pdEnv(t, PagerDuty{Incidents: Incidents{Services: map[string]string{"PA2P440": "checkout"}}})
	triggered := fixture(t, "pagerduty/zulip.triggered_v3.json")
	e.pdPost(triggered).want(t, http.StatusOK, store.DeliveryAccepted)
	want := &domain.Incident{
		Meta: domain.Meta{ID: "PFQZPSY", Source: "pagerduty"}, Service: "checkout", Severity: "P2",
		OpenedAt: ts("2021-06-04T13:35:29.781Z"), URL: "https://pig208.pagerduty.com/incidents/PFQZPSY",
	}
	sameRecord(t, e.record(domain.KindIncident, "pagerduty", "PFQZPSY"), want)

	// Derived from the real resolved event: the same incident resolved an
	// hour later. The stored opening stays.
	resolved := edit(t, fixture(t, "pagerduty/zulip.resolved_v3.json"), func(m map[string]any) {
		ev := obj(m, "event")
		ev["id"], ev["occurred_at"] = "01DERIVEDRESOLVED", "2021-06-04T14:35:29.781Z"
		obj(ev, "data")["id"], obj(ev, "data")["html_url"] = "PFQZPSY", "https://pig208.pagerduty.com/incidents/PFQZPSY"
	})
	e.pdPost(resolved).want(t, http.StatusOK, store.DeliveryAccepted)
	want.ResolvedAt = ts("2021-06-04T14:35:29.781Z")
	sameRecord(t, e.record(domain.KindIncident, "pagerduty", "PFQZPSY"), want)

	// A step that arrives late (acknowledged, sent before the resolution)
	// does not reopen it; reopened does.
	ack := edit(t, fixture(t, "pagerduty/zulip.acknowledged_v3.json"), func(m map[string]any) {
		ev := obj(m, "event")
		ev["occurred_at"] = "2021-06-04T13:40:00Z"
		obj(ev, "data")["id"], obj(ev, "data")["html_url"] = "PFQZPSY", "https://pig208.pagerduty.com/incidents/PFQZPSY"
	})
	e.pdPost(ack).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindIncident, "pagerduty", "PFQZPSY"), want)
	reopened := edit(t, ack, func(m map[string]any) {
		ev := obj(m, "event")
		ev["id"], ev["event_type"], ev["occurred_at"] = "01DERIVEDREOPENED", "incident.reopened", "2021-06-04T15:00:00Z"
		obj(ev, "data")["status"] = "triggered"
	})
	e.pdPost(reopened).want(t, http.StatusOK, store.DeliveryAccepted)
	if inc := e.record(domain.KindIncident, "pagerduty", "PFQZPSY").(*domain.Incident); !inc.ResolvedAt.IsZero() {
		t.Fatalf("reopened incident still resolved at %v", inc.ResolvedAt)
	}

	// A category mapped to the incident's PagerDuty service (its id, or
	// its name) gives its category: PagerDuty's incidents carry none, and
	// security incidents count only category security.
	for _, cats := range []map[string]string{{"PA2P440": "Security"}, {"pig208": "security"}} {
		e = pdEnv(t, PagerDuty{Categories: cats})
		e.pdPost(triggered).want(t, http.StatusOK, store.DeliveryAccepted)
		if inc := e.record(domain.KindIncident, "pagerduty", "PFQZPSY").(*domain.Incident); inc.Category != "security" {
			t.Errorf("categories %v: category %q, want security", cats, inc.Category)
		}
	}

	// A resolution seen before its incident: opened no later than it was
	// resolved; the trigger arriving afterwards moves the opening back.
	e = pdEnv(t, PagerDuty{})
	e.pdPost(resolved).want(t, http.StatusOK, store.DeliveryAccepted)
	e.pdPost(triggered).want(t, http.StatusOK, store.DeliveryAccepted)
	inc := e.record(domain.KindIncident, "pagerduty", "PFQZPSY").(*domain.Incident)
	if !inc.OpenedAt.Equal(ts("2021-06-04T13:35:29.781Z")) || !inc.ResolvedAt.Equal(ts("2021-06-04T14:35:29.781Z")) || inc.Service != "pig208" {
		t.Fatalf("out-of-order steps gave %+v", inc)
	}
}

func TestPagerDutyRedeliveryUnmappedMalformed(t *testing.T) {
	e := pdEnv(t, PagerDuty{})
	body := fixture(t, "pagerduty/zulip.acknowledged_v3.json")
	e.redelivery("pagerduty", body, "X-PagerDuty-Signature", "v1="+hexHMAC(pdSecret, body))
	if ds := e.deliveries("pagerduty"); ds[0].DeliveryID != "01BZYK8N47N5JG55J1EEEHPEJI" {
		t.Fatalf("delivery id %q, want the event's id", ds[0].DeliveryID)
	}
	// Derived: a service event (PagerDuty's own example has no licence to
	// copy here).
	svc := edit(t, body, func(m map[string]any) {
		ev := obj(m, "event")
		ev["id"], ev["event_type"], ev["resource_type"] = "01DERIVEDSERVICE", "service.updated", "service"
	})
	e.pdPost(svc).want(t, http.StatusOK, store.DeliveryIgnored)

	e = pdEnv(t, PagerDuty{})
	noID := edit(t, body, func(m map[string]any) { delete(obj(m, "event", "data"), "id") })
	e.post("pagerduty", noID, "X-PagerDuty-Signature", "v1="+hexHMAC(pdSecret, noID)).want(t, http.StatusBadRequest, store.DeliveryRejected)
	garbage := []byte(`{"event": {"id": 1}}`)
	e.malformed("pagerduty", garbage, "event.id", "X-PagerDuty-Signature", "v1="+hexHMAC(pdSecret, garbage))
}

// The steps of one incident arriving at once are applied one after the
// other (read, merge, commit): none of them is lost to another that read
// the incident before it was stored.
func TestPagerDutyConcurrentStepsMerge(t *testing.T) {
	e := pdEnv(t, PagerDuty{})
	trig := fixture(t, "pagerduty/zulip.triggered_v3.json")
	steps := [][]byte{edit(t, trig, func(m map[string]any) {
		obj(m, "event")["occurred_at"] = "2021-06-04T13:00:00Z" // the earliest step: the opening
	})}
	for i := range 12 {
		kind := "incident.acknowledged"
		if i == 7 {
			kind = "incident.resolved"
		}
		steps = append(steps, edit(t, trig, func(m map[string]any) {
			ev := obj(m, "event")
			ev["id"], ev["event_type"], ev["occurred_at"] = fmt.Sprintf("step-%d", i), kind, fmt.Sprintf("2021-06-04T14:%02d:00Z", i)
		}))
	}
	var wg sync.WaitGroup
	for _, body := range steps {
		wg.Go(func() { e.pdPost(body) })
	}
	wg.Wait()
	inc := e.record(domain.KindIncident, "pagerduty", "PFQZPSY").(*domain.Incident)
	if !inc.OpenedAt.Equal(ts("2021-06-04T13:00:00Z")) || !inc.ResolvedAt.Equal(ts("2021-06-04T14:07:00Z")) {
		t.Fatalf("after concurrent steps: opened %v resolved %v, want 13:00 and 14:07", inc.OpenedAt, inc.ResolvedAt)
	}
}

// Events may arrive in any order: a step older than the newest that
// resolved or reopened the incident changes nothing of its resolution.
// Derived from the real resolved event with new ids and times.
// pdSteps returns a maker of steps of the real resolved incident's
// delivery: the event's id, type and time changed.
func pdSteps(t *testing.T) func(id, kind, at string) []byte {
	res := fixture(t, "pagerduty/zulip.resolved_v3.json")
	return func(id, kind, at string) []byte {
		return edit(t, res, func(m map[string]any) {
			ev := obj(m, "event")
			ev["id"], ev["event_type"], ev["occurred_at"] = id, kind, at
			if kind == "incident.reopened" {
				obj(m, "event", "data")["status"] = "triggered"
			}
		})
	}
}

func TestPagerDutyStaleStepsDoNotUndoNewerOnes(t *testing.T) {
	step := pdSteps(t)
	resolvedAt := func(e *env) time.Time {
		t.Helper()
		return e.record(domain.KindIncident, "pagerduty", "PCPZE64").(*domain.Incident).ResolvedAt
	}
	// The resolution (1 May), then a reopening from before it (28 April).
	e := pdEnv(t, PagerDuty{})
	e.pdPost(step("r-1", "incident.resolved", "2021-05-01T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	severity := e.record(domain.KindIncident, "pagerduty", "PCPZE64").(*domain.Incident).Severity
	// The stale step's fields are older too: its low urgency does not
	// replace the newer step's severity.
	stale := edit(t, step("o-1", "incident.reopened", "2021-04-28T10:00:00Z"), func(m map[string]any) {
		obj(m, "event", "data")["urgency"] = "low"
	})
	e.pdPost(stale).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := resolvedAt(e); !got.Equal(ts("2021-05-01T10:00:00Z")) {
		t.Errorf("a stale reopening left resolved_at %v, want 2021-05-01T10:00:00Z", got)
	}
	if got := e.record(domain.KindIncident, "pagerduty", "PCPZE64").(*domain.Incident).Severity; got != severity || got == "" {
		t.Errorf("a stale low-urgency reopening left severity %q, want %q", got, severity)
	}
	// Two resolutions, newest first: the newest stands.
	e = pdEnv(t, PagerDuty{})
	e.pdPost(step("r-2", "incident.resolved", "2021-05-03T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	e.pdPost(step("r-1", "incident.resolved", "2021-05-01T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := resolvedAt(e); !got.Equal(ts("2021-05-03T10:00:00Z")) {
		t.Errorf("resolutions newest first left resolved_at %v, want 2021-05-03T10:00:00Z", got)
	}
	// In order they still apply; a reopening that is newest keeps the
	// incident open against a late, older resolution.
	e = pdEnv(t, PagerDuty{})
	e.pdPost(step("r-1", "incident.resolved", "2021-05-01T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	e.pdPost(step("o-1", "incident.reopened", "2021-05-02T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := resolvedAt(e); !got.IsZero() {
		t.Errorf("reopened after its resolution: resolved_at %v, want none", got)
	}
	e.pdPost(step("r-0", "incident.resolved", "2021-04-30T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := resolvedAt(e); !got.IsZero() {
		t.Errorf("a stale resolution after a newer reopening: resolved_at %v, want none", got)
	}
	e.pdPost(step("r-3", "incident.resolved", "2021-05-04T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := resolvedAt(e); !got.Equal(ts("2021-05-04T10:00:00Z")) {
		t.Errorf("resolved again: resolved_at %v, want 2021-05-04T10:00:00Z", got)
	}
}

// A step whose commit fails keeps no event clock: its time goes with its
// record, in one transaction. Kept before the commit, the failed
// reopening's time (2 May) made a later resolution from 1 May, newer
// than anything the incident shows, a stale step, and the incident kept
// the older resolution.
func TestPagerDutyFailedCommitKeepsNoClock(t *testing.T) {
	step := pdSteps(t)
	e := pdEnv(t, PagerDuty{})
	e.pdPost(step("r-1", "incident.resolved", "2021-05-01T10:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	healthy := e.svc
	failing := &failingStore{Store: e.st, at: 1}
	var err error
	if e.svc, err = New(Options{Store: failing, Config: Config{PagerDuty: PagerDuty{Secret: pdSecret}}, Now: func() time.Time { return e.now }}); err != nil {
		t.Fatal(err)
	}
	e.h = e.svc.Handler(writeTestError)
	if a := e.pdPost(step("o-1", "incident.reopened", "2021-05-02T10:00:00Z")); a.status != http.StatusInternalServerError || !failing.failed {
		t.Fatalf("the reopening whose commit fails answered %s", a.raw)
	}
	e.svc, e.h = healthy, healthy.Handler(writeTestError)
	if d, ok, err := e.st.DocByKey(context.Background(), eventClocks, "pagerduty/incident/PCPZE64#2"); ok || err != nil {
		t.Fatalf("the failed reopening kept its clock %s (%v)", d.Body, err)
	}
	e.pdPost(step("r-2", "incident.resolved", "2021-05-01T12:00:00Z")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := e.record(domain.KindIncident, "pagerduty", "PCPZE64").(*domain.Incident).ResolvedAt; !got.Equal(ts("2021-05-01T12:00:00Z")) {
		t.Errorf("resolved_at %v after the failed reopening, want the newer resolution's 2021-05-01T12:00:00Z", got)
	}
	if _, ok, err := e.st.DocByKey(context.Background(), eventClocks, "pagerduty/incident/PCPZE64#2"); !ok || err != nil {
		t.Fatalf("the committed resolution kept no clock (%v)", err)
	}
}

// Derived from the real triggered event: PagerDuty's incident.annotated,
// incident.responder.* and incident.status_update_published events carry
// a note, a responder request or a status update as their data (data.type
// incident_note, incident_responder, incident_status_update; the shapes of
// PagerDuty's v3 webhook documentation), the incident only as a reference.
// They are ignored: a note's id had become a phantom incident, and a
// responder request, which has no id, had been refused.
func TestPagerDutyEventsOfOtherDataThanTheIncident(t *testing.T) {
	e := pdEnv(t, PagerDuty{})
	base := fixture(t, "pagerduty/zulip.triggered_v3.json")
	ref := map[string]any{"html_url": "https://pig208.pagerduty.com/incidents/PFQZPSY", "id": "PFQZPSY",
		"self": "https://api.pagerduty.com/incidents/PFQZPSY", "summary": "Test Incident 3", "type": "incident_reference"}
	for i, c := range []struct {
		event string
		data  map[string]any
	}{
		{"incident.annotated", map[string]any{"incident": ref, "id": "PDERIVEDNOTE", "content": "rolling back", "trimmed": false, "type": "incident_note"}},
		{"incident.status_update_published", map[string]any{"incident": ref, "id": "PDERIVEDSTATUS", "message": "a fix is on its way", "trimmed": false, "type": "incident_status_update"}},
		{"incident.responder.added", map[string]any{"incident": ref, "message": "please help", "state": "pending", "type": "incident_responder"}},
	} {
		body := edit(t, base, func(m map[string]any) {
			ev := obj(m, "event")
			ev["id"], ev["event_type"], ev["data"] = fmt.Sprintf("01DERIVED%d", i), c.event, c.data
		})
		a := e.pdPost(body).want(t, http.StatusOK, store.DeliveryIgnored)
		if !strings.Contains(fmt.Sprint(a.body["reason"]), c.data["type"].(string)) {
			t.Errorf("%s: reason %v", c.event, a.body["reason"])
		}
	}
	if n := e.recordCount(); n != 0 {
		t.Fatalf("%d records, want none", n)
	}
}
