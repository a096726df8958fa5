package connect

import (
	"net/http"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

func TestAlertmanagerToken(t *testing.T) {
	runBearerChecks(t, "alertmanager", fixture(t, "alertmanager/zulip.alert.json"))
}

func TestAlertmanagerFiringAndResolved(t *testing.T) {
	e := newEnv(t, Config{Alertmanager: Alertmanager{ServiceLabels: []string{"host"}, Incidents: Incidents{Services: map[string]string{"andromeda": "compute"}}}})
	firing := fixture(t, "alertmanager/zulip.alert.json")
	a := e.post("alertmanager", firing, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	want := []string{"incident/alertmanager/a1bc48475b20e73d@2020-02-06T00:17:58.432911368Z", "incident/alertmanager/c2ea85182f28cbd9@2020-02-06T00:17:58.432911368Z"}
	if got := a.records(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("records %v, want one incident per alert %v", got, want)
	}
	inc := &domain.Incident{
		Meta: domain.Meta{ID: "a1bc48475b20e73d@2020-02-06T00:17:58.432911368Z", Source: "alertmanager"}, Service: "compute", Severity: "P1",
		OpenedAt: ts("2020-02-06T00:17:58.432911368Z"), Origin: "monitoring", Fingerprint: "a1bc48475b20e73d",
		URL: "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7Bfeature%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1",
	}
	sameRecord(t, e.record(domain.KindIncident, "alertmanager", inc.ID), inc)

	// Derived: the first alert resolved. Its episode closes.
	resolved := edit(t, firing, func(m map[string]any) {
		m["status"] = "resolved"
		alerts := asList(m["alerts"])
		a := alerts[0].(map[string]any)
		a["status"], a["endsAt"] = "resolved", "2020-02-06T00:47:58.432911368Z"
		m["alerts"] = alerts[:1]
	})
	e.post("alertmanager", resolved, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	inc.ResolvedAt = ts("2020-02-06T00:47:58.432911368Z")
	sameRecord(t, e.record(domain.KindIncident, "alertmanager", inc.ID), inc)
	// A late firing notification of the same episode (another group
	// state) leaves it resolved.
	late := edit(t, firing, func(m map[string]any) { m["groupKey"] = "{}/{}:{late}" })
	e.post("alertmanager", late, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindIncident, "alertmanager", inc.ID), inc)
	// Firing again later is a new episode with the same fingerprint: a
	// recurrence.
	again := edit(t, firing, func(m map[string]any) {
		for _, a := range asList(m["alerts"]) {
			a.(map[string]any)["startsAt"] = "2020-02-07T08:00:00Z"
		}
	})
	e.post("alertmanager", again, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	next := e.record(domain.KindIncident, "alertmanager", "a1bc48475b20e73d@2020-02-07T08:00:00Z").(*domain.Incident)
	if next.Fingerprint != inc.Fingerprint || !next.ResolvedAt.IsZero() {
		t.Fatalf("the next episode %+v, want fingerprint %s and open", next, inc.Fingerprint)
	}

	// The real resolved notification of another Alertmanager: warning is
	// P3, the service from the configured labels.
	e = newEnv(t, Config{Alertmanager: Alertmanager{ServiceLabels: []string{"service", "namespace"}}})
	e.post("alertmanager", fixture(t, "alertmanager/prom2teams.with_common_items.resolved.json"), e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	got := e.record(domain.KindIncident, "alertmanager", "dd19ae3d4e06ac55@2019-01-28T20:26:23.868893Z").(*domain.Incident)
	if got.Service != "monitoring" || got.Severity != "P3" || !got.ResolvedAt.Equal(ts("2019-01-28T20:27:23.868893Z")) || got.Category != "" {
		t.Fatalf("resolved incident %+v", got)
	}
	// A category label gives the incident's category (the configured
	// label, else category): security incidents count only category
	// security, and no alert had been one.
	for _, c := range []struct {
		cfg   Alertmanager
		label string
	}{{Alertmanager{}, "category"}, {Alertmanager{CategoryLabel: "kind"}, "kind"}} {
		e = newEnv(t, Config{Alertmanager: c.cfg})
		tagged := edit(t, fixture(t, "alertmanager/prom2teams.with_common_items.resolved.json"), func(m map[string]any) {
			for _, a := range m["alerts"].([]any) {
				a.(map[string]any)["labels"].(map[string]any)[c.label] = "Security"
			}
		})
		e.post("alertmanager", tagged, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
		if got := e.record(domain.KindIncident, "alertmanager", "dd19ae3d4e06ac55@2019-01-28T20:26:23.868893Z").(*domain.Incident); got.Category != "security" {
			t.Errorf("label %s: category %q, want security", c.label, got.Category)
		}
	}
}

// An alert sent without its fingerprint or status (an older Alertmanager)
// gets the fingerprint of its labels, and the group's status.
func TestAlertmanagerWithoutFingerprint(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.post("alertmanager", fixture(t, "alertmanager/prometheus-msteams.prom_post_request.json"), e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	fp := labelFingerprint(map[string]string{"alertname": "high_memory_load", "instance": "instance-with-hyphen_and_underscore",
		"job": "docker_nodes", "monitor": "master", "severity": "warning"})
	id := fp + "@2018-03-07T11:33:21.873077559Z"
	if got := a.records(); len(got) != 1 || got[0] != "incident/alertmanager/"+id {
		t.Fatalf("records %v, want %s", got, id)
	}
	inc := e.record(domain.KindIncident, "alertmanager", id).(*domain.Incident)
	if inc.Service != "docker_nodes" || inc.Fingerprint != fp || !inc.ResolvedAt.IsZero() {
		t.Fatalf("incident %+v", inc)
	}
	// The label-set fingerprint is order-free and tells label sets apart.
	if labelFingerprint(map[string]string{"a": "b", "c": "d"}) != labelFingerprint(map[string]string{"c": "d", "a": "b"}) ||
		labelFingerprint(map[string]string{"a": "bc"}) == labelFingerprint(map[string]string{"ab": "c"}) {
		t.Fatal("label fingerprints collide or depend on order")
	}
}

func TestAlertmanagerRedeliveryUnmappedMalformed(t *testing.T) {
	e := newEnv(t, Config{})
	e.redelivery("alertmanager", fixture(t, "alertmanager/zulip.alert.json"), e.bearer()...)
	e.post("alertmanager", []byte(`{"version":"4","status":"firing","alerts":[]}`), e.bearer()...).want(t, http.StatusOK, store.DeliveryIgnored)
	e = newEnv(t, Config{})
	e.malformed("alertmanager", []byte(`{"version":"3","alerts":[]}`), "version 4", e.bearer()...)
	noStart := edit(t, fixture(t, "alertmanager/zulip.alert.json"), func(m map[string]any) { delete(asList(m["alerts"])[1].(map[string]any), "startsAt") })
	e.malformed("alertmanager", noStart, "alerts[1].startsAt", e.bearer()...)
}
