package connect

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

const zdSecret = "zd-secret"

func zdSign(secret string, at time.Time, body []byte) []string {
	stamp := at.UTC().Format(time.RFC3339)
	return []string{"X-Zendesk-Webhook-Signature-Timestamp", stamp, "X-Zendesk-Webhook-Signature", b64HMAC(secret, []byte(stamp), body)}
}

func (e *env) zdPost(body []byte, invocation string) answer {
	e.t.Helper()
	return e.post("zendesk", body, append(zdSign(zdSecret, e.now, body), "X-Zendesk-Webhook-Invocation-Id", invocation)...)
}

func zdEnv(t *testing.T, cfg Zendesk) *env {
	cfg.Secret = zdSecret
	return newEnv(t, Config{Zendesk: cfg})
}

func TestZendeskSignature(t *testing.T) {
	body := fixture(t, "zendesk/go-zendesk.GET.ticket.json")
	runSignatureChecks(t, sourceCase{
		source: "zendesk",
		cfg:    func(secret string) Config { return Config{Zendesk: Zendesk{Secret: secret}} },
		body:   body,
		sign:   func(e *env, secret string, body []byte) []string { return zdSign(secret, e.now, body) },
	})
	// The timestamp is signed and must be recent.
	e := zdEnv(t, Zendesk{})
	e.post("zendesk", body, zdSign(zdSecret, e.now.Add(-time.Hour), body)...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
	h := zdSign(zdSecret, e.now, body)
	h[1] = e.now.Add(time.Second).UTC().Format(time.RFC3339) // a timestamp other than the signed one
	e.post("zendesk", body, h...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
}

func TestZendeskTickets(t *testing.T) {
	e := zdEnv(t, Zendesk{})
	// The trigger body: a ticket in the API's field names (this one is a
	// real API response).
	e.zdPost(fixture(t, "zendesk/go-zendesk.GET.ticket.json"), "z-1").want(t, http.StatusOK, store.DeliveryAccepted)
	want := &domain.Ticket{
		Meta: domain.Meta{ID: "2", Source: "zendesk"}, CreatedAt: ts("2019-06-03T02:23:47Z"), ResolvedAt: ts("2019-06-05T01:13:24Z"),
		Customer: "360363695492", Text: "Mail to create fixture ticket for testing",
	}
	sameRecord(t, e.record(domain.KindTicket, "zendesk", "2"), want)

	// Derived event-subscribed webhook of the same ticket: solved at the
	// event's time, kept when a later event (closing it) comes.
	e = zdEnv(t, Zendesk{Customer: "requester"})
	solved := fixture(t, "zendesk/derived.event.ticket.status_changed.json")
	e.zdPost(solved, "z-2").want(t, http.StatusOK, store.DeliveryAccepted)
	want.Customer = "377922500012"
	sameRecord(t, e.record(domain.KindTicket, "zendesk", "2"), want)
	closed := edit(t, solved, func(m map[string]any) {
		m["id"], m["time"] = "derived-closed", "2019-06-09T00:00:00Z"
		obj(m, "detail")["status"] = "CLOSED"
		obj(m, "detail")["priority"] = "HIGH"
		obj(m, "detail")["tags"] = []any{"escalated", "vip"}
	})
	e.zdPost(closed, "z-3").want(t, http.StatusOK, store.DeliveryAccepted)
	want.Priority, want.Escalated = "high", true
	sameRecord(t, e.record(domain.KindTicket, "zendesk", "2"), want)
	reopened := edit(t, closed, func(m map[string]any) {
		m["id"], m["time"] = "derived-reopened", "2019-06-10T00:00:00Z"
		obj(m, "detail")["status"] = "OPEN"
	})
	e.zdPost(reopened, "z-4").want(t, http.StatusOK, store.DeliveryAccepted)
	if tk := e.record(domain.KindTicket, "zendesk", "2").(*domain.Ticket); !tk.ResolvedAt.IsZero() {
		t.Fatalf("reopened ticket resolved at %v", tk.ResolvedAt)
	}
}

func TestZendeskSatisfactionRating(t *testing.T) {
	e := zdEnv(t, Zendesk{})
	good := fixture(t, "zendesk/derived.satisfaction_rating.good.json")
	e.zdPost(good, "r-1").want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindSurvey, "zendesk", "35436"), &domain.Survey{
		Meta: domain.Meta{ID: "35436", Source: "zendesk"}, At: ts("2019-06-05T02:00:00Z"), Type: "csat", Score: 5,
	})
	// The trigger's body has no rating id: the ticket's rating, replaced
	// when it changes.
	bad := []byte(`{"satisfaction_rating": {"ticket_id": "2", "score": "bad", "updated_at": "2019-06-06T10:00:00Z", "requester_id": "377922500012"}}`)
	e.zdPost(bad, "r-2").want(t, http.StatusOK, store.DeliveryAccepted)
	if s := e.record(domain.KindSurvey, "zendesk", "2").(*domain.Survey); s.Score != 1 {
		t.Fatalf("a bad rating scored %v, want 1", s.Score)
	}
	offered := edit(t, good, func(m map[string]any) { obj(m, "satisfaction_rating")["score"] = "offered" })
	e.zdPost(offered, "r-3").want(t, http.StatusOK, store.DeliveryIgnored)
}

func TestZendeskRedeliveryUnmappedMalformed(t *testing.T) {
	e := zdEnv(t, Zendesk{})
	body := fixture(t, "zendesk/go-zendesk.GET.ticket.json")
	e.redelivery("zendesk", body, append(zdSign(zdSecret, e.now, body), "X-Zendesk-Webhook-Invocation-Id", "inv-1")...)
	user := []byte(`{"type": "zen:event-type:user.created", "id": "u-1", "time": "2019-06-05T01:13:24Z", "detail": {"id": "5"}}`)
	e.zdPost(user, "z-9").want(t, http.StatusOK, store.DeliveryIgnored)
	e = zdEnv(t, Zendesk{})
	// An API list response is not a webhook body.
	list := fixture(t, "zendesk/go-zendesk.GET.tickets.json")
	e.malformed("zendesk", list, "not a Zendesk webhook body", append(zdSign(zdSecret, e.now, list), "X-Zendesk-Webhook-Invocation-Id", "z-10")...)
}

// zdTrigger is the body of the ticket trigger docs/connectors/zendesk.md
// ships, rendered for ticket 9100 (no real trigger delivery exists: the
// body is the documented template with its placeholders filled in).
func zdTrigger(status, updated string) []byte {
	return []byte(`{"ticket": {"id": "9100", "created_at": "2026-12-01T10:00:00Z", "updated_at": "` + updated +
		`", "status": "` + status + `", "priority": "` + map[string]string{"Solved": "High", "Open": "Low"}[status] +
		`", "type": "Incident", "subject": "Export fails", "organization_id": "77", "requester_id": "5", "tags": ""}}`)
}

// Zendesk retries a failed delivery later, so an update can arrive after
// a newer one: the older is ignored, saying why, and the newer state
// stands. Before, the late "Open" (08:00) replaced the "Solved" (09:00)
// and wiped the resolution.
func TestZendeskLateUpdateDoesNotUndoNewer(t *testing.T) {
	solved, open := zdTrigger("Solved", "2026-12-05T09:00:00Z"), zdTrigger("Open", "2026-12-05T08:00:00Z")
	want := &domain.Ticket{
		Meta: domain.Meta{ID: "9100", Source: "zendesk"}, CreatedAt: ts("2026-12-01T10:00:00Z"), ResolvedAt: ts("2026-12-05T09:00:00Z"),
		Customer: "77", Priority: "high", Category: "incident", Text: "Export fails",
	}
	e := zdEnv(t, Zendesk{})
	e.zdPost(solved, "inv-solved").want(t, http.StatusOK, store.DeliveryAccepted)
	r := e.zdPost(open, "inv-open-late").want(t, http.StatusOK, store.DeliveryIgnored)
	if !strings.Contains(r.raw, "the newer one stands") || r.body["replaced"] != float64(0) {
		t.Errorf("the late update's answer: %s", r.raw)
	}
	sameRecord(t, e.record(domain.KindTicket, "zendesk", "9100"), want)
	// The same update again under another invocation (a second trigger
	// firing on it): not older, so applied again, and it changes nothing.
	r = e.zdPost(solved, "inv-solved-again").want(t, http.StatusOK, store.DeliveryAccepted)
	if r.body["unchanged"] != float64(1) {
		t.Errorf("the same update again: %s", r.raw)
	}
	sameRecord(t, e.record(domain.KindTicket, "zendesk", "9100"), want)

	// In order, the reopening (newer) still clears the resolution.
	e = zdEnv(t, Zendesk{})
	e.zdPost(zdTrigger("Solved", "2026-12-05T08:00:00Z"), "inv-1").want(t, http.StatusOK, store.DeliveryAccepted)
	e.zdPost(zdTrigger("Open", "2026-12-05T09:00:00Z"), "inv-2").want(t, http.StatusOK, store.DeliveryAccepted)
	if tk := e.record(domain.KindTicket, "zendesk", "9100").(*domain.Ticket); !tk.ResolvedAt.IsZero() || tk.Priority != "low" {
		t.Errorf("reopened in order: resolved_at %v, priority %q; want none, low", tk.ResolvedAt, tk.Priority)
	}
}

// A placeholder of a field without a value renders blank (Zendesk's
// "Using placeholders"): a ticket with no priority or type is sent
// "priority": "", "type": "" and keeps neither.
func TestZendeskTriggerEmptyPriorityAndType(t *testing.T) {
	e := zdEnv(t, Zendesk{})
	body := edit(t, zdTrigger("Open", "2026-12-05T08:00:00Z"), func(m map[string]any) {
		obj(m, "ticket")["priority"], obj(m, "ticket")["type"] = "", ""
	})
	e.zdPost(body, "inv-empty").want(t, http.StatusOK, store.DeliveryAccepted)
	if tk := e.record(domain.KindTicket, "zendesk", "9100").(*domain.Ticket); tk.Priority != "" || tk.Category != "" {
		t.Errorf("an empty priority and type stored as %q, %q", tk.Priority, tk.Category)
	}
}

// A rating whose score is none Zendesk sends (nor a number 1–5) is refused, naming the field, and
// nothing is stored — a ticket carrying one included: it had been "ignored" with a 200, a
// customer's response dropped where Zendesk does not retry and nobody reads the log.
func TestZendeskUnknownRatingRefused(t *testing.T) {
	good := fixture(t, "zendesk/derived.satisfaction_rating.good.json")
	for _, score := range []string{"great", "7", "0"} {
		e := zdEnv(t, Zendesk{})
		body := edit(t, good, func(m map[string]any) { obj(m, "satisfaction_rating")["score"] = score })
		e.malformed("zendesk", body, "satisfaction_rating.score: \""+score+"\" is not a rating", append(zdSign(zdSecret, e.now, body), "X-Zendesk-Webhook-Invocation-Id", "r-"+score)...)
	}
	e := zdEnv(t, Zendesk{})
	ticket := []byte(`{"ticket": {"id": "9100", "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T11:00:00Z", "status": "Solved",
		"satisfaction_rating": {"score": "great", "updated_at": "2026-12-01T11:00:00Z"}}}`)
	e.malformed("zendesk", ticket, "ticket.satisfaction_rating.score: \"great\" is not a rating", append(zdSign(zdSecret, e.now, ticket), "X-Zendesk-Webhook-Invocation-Id", "t-1")...)
	// Offered and unoffered stay no answer.
	offered := edit(t, ticket, func(m map[string]any) { obj(obj(m, "ticket"), "satisfaction_rating")["score"] = "unoffered" })
	e.zdPost(offered, "t-2").want(t, http.StatusOK, store.DeliveryAccepted)
	if n := e.recordCount(); n != 1 {
		t.Errorf("%d records stored for a ticket with an unoffered rating, want the ticket alone", n)
	}
}
