package connect

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

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
		a["updatedAt"], a["priority"], a["tags"] = 1502713556288000000, "P1", []any{"vip", "service:payments", "category:Security"}
	})
	e.post("opsgenie", closed, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	// A category: tag gives the category (security incidents count only
	// category security: no alert had been one).
	want.Service, want.Severity, want.ResolvedAt, want.Category = "payments", "P1", ts("2017-08-14T12:25:56.288Z"), "security"
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

// A time given as a number is read as unix seconds, milliseconds or
// nanoseconds by its size; one that lands outside the years 1–9999 (a
// microsecond count read as milliseconds) is the sender's error, answered
// as such, not a record that cannot be written (FuzzOpsgenie found one).
func TestWhenOutOfRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"1700000000", time.Unix(1700000000, 0).UTC(), false},
		{"1700000000123", time.UnixMilli(1700000000123).UTC(), false},
		{"1700000000123456789", time.Unix(0, 1700000000123456789).UTC(), false},
		{"2452374669001603", time.Time{}, true},
		{"-99999999999999", time.Time{}, true},
	} {
		got, err := parseWhen(c.in)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("parseWhen(%s) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.bad)
		}
	}
	body := []byte(`{"action":"Close","alert":{"alertId":"c","createdAt":2,"updatedAt":2452374669001603}}`)
	_, err := opsgenieConnector(Opsgenie{}).parse(&input{header: header(), body: body, now: testNow})
	var re *rejection
	if !errors.As(err, &re) || !strings.Contains(re.reason, "2452374669001603") {
		t.Errorf("an Opsgenie alert updated in the year 79,000: %v, want a rejection naming the value", err)
	}
}
