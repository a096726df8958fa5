package connect

import (
	"net/http"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

func TestOpsgenieToken(t *testing.T) {
	runBearerChecks(t, "opsgenie", fixture(t, "opsgenie/zulip.create.json"))
}

func TestOpsgenieAlertLifecycle(t *testing.T) {
	e := newEnv(t, Config{Opsgenie: Opsgenie{Incidents: Incidents{Services: map[string]string{"Server": "infra"}}}})
	e.post("opsgenie", fixture(t, "opsgenie/zulip.create.json"), e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	want := &domain.Incident{
		Meta: domain.Meta{ID: "ec03dad6-62c8-4c94-b38b-d88f398e900f", Source: "opsgenie"}, Service: "infra", Severity: "P3",
		OpenedAt: ts("2017-08-14T11:25:56.288Z"), Fingerprint: "alert-alias",
	}
	sameRecord(t, e.record(domain.KindIncident, "opsgenie", want.ID), want)

	// The real Close is of another alert, with no service: it resolves
	// that one, at its last update, in the default service.
	e.post("opsgenie", fixture(t, "opsgenie/zulip.close.json"), e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindIncident, "opsgenie", "052652ac-5d1c-464a-812a-7dd18bbfba8c"), &domain.Incident{
		Meta: domain.Meta{ID: "052652ac-5d1c-464a-812a-7dd18bbfba8c", Source: "opsgenie"}, Service: "unassigned", Severity: "P3",
		OpenedAt: ts("2015-01-05T10:03:11.104Z"), ResolvedAt: ts("2015-01-05T10:06:14.669001603Z"), Fingerprint: "aliastest",
	})
	// Derived: the created alert closed, with a priority Opsgenie writes
	// as P1 and a service tag, which names the service.
	closed := edit(t, fixture(t, "opsgenie/zulip.create.json"), func(m map[string]any) {
		m["action"] = "Close"
		a := obj(m, "alert")
		a["updatedAt"], a["priority"], a["tags"] = 1502713556288000000, "P1", []any{"vip", "service:payments"}
	})
	e.post("opsgenie", closed, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	want.Service, want.Severity, want.ResolvedAt = "payments", "P1", ts("2017-08-14T12:25:56.288Z")
	sameRecord(t, e.record(domain.KindIncident, "opsgenie", want.ID), want)
}

func TestOpsgenieRedeliveryUnmappedMalformed(t *testing.T) {
	e := newEnv(t, Config{})
	body := fixture(t, "opsgenie/zulip.create.json")
	e.redelivery("opsgenie", body, e.bearer()...)
	if ds := e.deliveries("opsgenie"); ds[0].DeliveryID != "sha256:"+sha256Hex(body) {
		t.Fatalf("delivery id %q, want the payload's hash", ds[0].DeliveryID)
	}
	deleted := edit(t, body, func(m map[string]any) { m["action"] = "Delete" })
	e.post("opsgenie", deleted, e.bearer()...).want(t, http.StatusOK, store.DeliveryIgnored)
	e = newEnv(t, Config{})
	e.malformed("opsgenie", []byte(`{"action":"Create"}`), "alert.alertId", e.bearer()...)
	e.malformed("opsgenie", []byte(`{"action":"Create","alert":{"alertId":"x","priority":[1]}}`), "priority", e.bearer()...)
}
