package connect

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/store"
)

// allSecrets configures every signed source with its tests' secret.
func allSecrets() Config {
	return Config{GitHub: GitHub{Secret: ghSecret}, GitLab: GitLab{Secret: glSecret}, PagerDuty: PagerDuty{Secret: pdSecret},
		Stripe: Stripe{Secret: stSecret}, Jira: Jira{Secret: jiraSecret}, Zendesk: Zendesk{Secret: zdSecret}}
}

// lastReject is the newest logged delivery of source, which must be a
// rejection.
func (e *env) lastReject(source string) store.Delivery {
	e.t.Helper()
	ds := e.deliveries(source)
	if len(ds) == 0 || ds[0].Outcome != store.DeliveryRejected {
		e.t.Fatalf("%s logged %+v, want a rejection last", source, ds)
	}
	return ds[0]
}

// A refused delivery keeps the delivery id and event that were known
// before the refusal, in the log and in the health report's rejects: the
// review found a GitHub deployment_status refused for its signature or a
// malformed body reported without its event, and PagerDuty's rejects
// always without the delivery id, even where event.id had been read.
func TestRefusedDeliveriesKeepTheirIDAndEvent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, allSecrets())
	status := fixture(t, "github/deployment_status.payload.json")

	// GitHub: refused for its signature, the headers say both.
	e.post("github", status, "X-GitHub-Event", "deployment_status", "X-GitHub-Delivery", "d-sig", "X-Hub-Signature-256", "sha256=00").
		want(t, http.StatusUnauthorized, store.DeliveryRejected)
	if d := e.lastReject("github"); d.DeliveryID != "d-sig" || d.Event != "deployment_status" {
		t.Errorf("a GitHub delivery refused for its signature logged as %q, event %q; want d-sig, deployment_status", d.DeliveryID, d.Event)
	}
	h := githubHealth(t)(e.svc.Health(ctx, e.now, 0))
	if len(h.Rejects) == 0 || h.Rejects[0].Event != "deployment_status" || h.Rejects[0].DeliveryID != "d-sig" {
		t.Errorf("the health report's reject %+v, want d-sig with its event deployment_status", h.Rejects)
	}
	// A malformed body, signed.
	broken := []byte(`{"deployment_status": {"state": "success"`)
	e.ghPost("deployment_status", "d-json", broken).want(t, http.StatusBadRequest, store.DeliveryRejected)
	if d := e.lastReject("github"); d.DeliveryID != "d-json" || d.Event != "deployment_status" {
		t.Errorf("a malformed GitHub delivery logged as %q, event %q; want d-json, deployment_status", d.DeliveryID, d.Event)
	}
	// A field missing once the body is read: the event with its action.
	noID := edit(t, status, func(m map[string]any) { delete(obj(m, "deployment"), "id") })
	a := e.ghPost("deployment_status", "d-noid", noID).want(t, http.StatusBadRequest, store.DeliveryRejected)
	if d := e.lastReject("github"); d.DeliveryID != "d-noid" || d.Event != "deployment_status.created" || a.body["field"] != "deployment.id" {
		t.Errorf("a GitHub deployment without its id logged as %q, event %q, answered field %v; want d-noid, deployment_status.created, deployment.id", d.DeliveryID, d.Event, a.body["field"])
	}

	// PagerDuty names its delivery in the payload: a payload refused for
	// a field keeps event.id and the event type.
	triggered := fixture(t, "pagerduty/zulip.triggered_v3.json")
	noData := edit(t, triggered, func(m map[string]any) { delete(obj(m, "event", "data"), "id") })
	a = e.pdPost(noData).want(t, http.StatusBadRequest, store.DeliveryRejected)
	if d := e.lastReject("pagerduty"); d.DeliveryID != "01BZYIL05THJDFF2Y08X9SVMTU" || d.Event != "incident.triggered" {
		t.Errorf("a PagerDuty payload without event.data.id logged as %q, event %q; want its event.id and incident.triggered", d.DeliveryID, d.Event)
	}
	if a.body["field"] != "event.data.id" {
		t.Errorf("PagerDuty's 400 has field %v, want event.data.id: %s", a.body["field"], a.raw)
	}
	// A field of the wrong type leaves the rest read.
	wrongType := edit(t, triggered, func(m map[string]any) { obj(m, "event", "data")["status"] = 3 })
	a = e.pdPost(wrongType).want(t, http.StatusBadRequest, store.DeliveryRejected)
	if d := e.lastReject("pagerduty"); d.DeliveryID != "01BZYIL05THJDFF2Y08X9SVMTU" || d.Event != "incident.triggered" || a.body["field"] != "event.data.status" {
		t.Errorf("a PagerDuty payload with a number for a status logged as %q, event %q, field %v", d.DeliveryID, d.Event, a.body["field"])
	}
	ph, err := e.svc.Health(ctx, e.now, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ph {
		if c.Source == "pagerduty" && (len(c.Rejects) == 0 || c.Rejects[0].DeliveryID != "01BZYIL05THJDFF2Y08X9SVMTU" || c.Rejects[0].Event != "incident.triggered") {
			t.Errorf("PagerDuty's rejects %+v, want the delivery id and event", c.Rejects)
		}
	}

	// GitLab and CDEvents say the event in a header too: a delivery
	// refused for its token is logged with it, named as the log names
	// the mapped ones.
	e.post("gitlab", fixture(t, "gitlab/go-gitlab.deployment.json"), "X-Gitlab-Token", "wrong", "X-Gitlab-Event", "Deployment Hook", "X-Gitlab-Event-UUID", "u-1").
		want(t, http.StatusUnauthorized, store.DeliveryRejected)
	if d := e.lastReject("gitlab"); d.DeliveryID != "u-1" || d.Event != "deployment" {
		t.Errorf("a GitLab delivery refused for its token logged as %q, event %q; want u-1, deployment", d.DeliveryID, d.Event)
	}
	e.post("cdevents", fixture(t, "cdevents/v0.5.1/service_deployed.json"), "Authorization", "Bearer nope", "Ce-Id", "e-1", "Ce-Source", "/ci",
		"Ce-Type", "dev.cdevents.service.deployed.0.3.0").want(t, http.StatusUnauthorized, store.DeliveryRejected)
	if d := e.lastReject("cdevents"); d.DeliveryID != "/ci#e-1" || d.Event != "service.deployed" {
		t.Errorf("a CDEvent refused for its token logged as %q, event %q; want /ci#e-1, service.deployed", d.DeliveryID, d.Event)
	}
}

// A refusal that names a payload's field gives it as `field`, whatever
// the source: PagerDuty's "event.data.id: missing" had named it only in
// its error, where GitHub's wrong-type refusal and CDEvents' gave it. Each
// keeps its delivery id and event where they were read.
func TestRefusalsNameTheirField(t *testing.T) {
	e := newEnv(t, allSecrets())
	app := mustDecode(t, fixture(t, "argocd/derived.application.json"))
	delete(obj(app, "metadata", "labels"), "candor.io/environment")
	delete(obj(app, "spec", "destination"), "name")
	delete(obj(app, "spec", "destination"), "namespace")
	zd := edit(t, fixture(t, "zendesk/derived.event.ticket.status_changed.json"), func(m map[string]any) { delete(obj(m, "detail"), "id") })
	for _, c := range []struct {
		source, field, id, event string
		post                     func() answer
	}{
		{"github", "deployment.id", "g-1", "deployment_status.created", func() answer {
			return e.ghPost("deployment_status", "g-1", edit(t, fixture(t, "github/deployment_status.payload.json"), func(m map[string]any) { delete(obj(m, "deployment"), "id") }))
		}},
		{"gitlab", "object_kind", "u-2", "deployment", func() answer {
			return e.post("gitlab", []byte(`{"project": {"name": "api"}}`), glHeaders("Deployment Hook", "u-2")...)
		}},
		{"pagerduty", "event.occurred_at", "01BZYIL05THJDFF2Y08X9SVMTU", "incident.triggered", func() answer {
			return e.pdPost(edit(t, fixture(t, "pagerduty/zulip.triggered_v3.json"), func(m map[string]any) { delete(obj(m, "event"), "occurred_at") }))
		}},
		{"opsgenie", "alert.createdAt", "", "Create", func() answer {
			return e.post("opsgenie", edit(t, fixture(t, "opsgenie/zulip.create.json"), func(m map[string]any) { delete(obj(m, "alert"), "createdAt") }), e.bearer()...)
		}},
		{"alertmanager", "alerts[0].startsAt", "", "alerts.firing", func() answer {
			return e.post("alertmanager", edit(t, fixture(t, "alertmanager/zulip.alert.json"), func(m map[string]any) {
				delete(m["alerts"].([]any)[0].(map[string]any), "startsAt")
			}), e.bearer()...)
		}},
		{"stripe", "data.object.id", "evt_1J02NfJDPojXS6LNawmt1X8q", "customer.subscription.created", func() answer {
			return e.stripePost(edit(t, fixture(t, "stripe/stripe-sync-engine.customer.subscription.created.json"), func(m map[string]any) { delete(obj(m, "data", "object"), "id") }))
		}},
		{"stripe", "data.object.status", "evt_1J02NfJDPojXS6LNawmt1X8q", "customer.subscription.created", func() answer {
			return e.stripePost(edit(t, fixture(t, "stripe/stripe-sync-engine.customer.subscription.created.json"), func(m map[string]any) { obj(m, "data", "object")["status"] = 3 }))
		}},
		{"jira", "issue.key", "j-1", "jira:issue_updated", func() answer {
			body := edit(t, fixture(t, "jira/webhook-server-issue-updated-resolved.json"), func(m map[string]any) { delete(obj(m, "issue"), "key") })
			return e.post("jira", body, jiraHeaders("j-1", body)...)
		}},
		{"zendesk", "detail.id", "inv-1", "zen:event-type:ticket.status_changed", func() answer { return e.zdPost(zd, "inv-1") }},
		{"jenkins", "build.timestamp", "", "build.FINALIZED", func() answer {
			return e.post("jenkins", edit(t, fixture(t, "jenkins/derived.notification.finalized.json"), func(m map[string]any) { delete(obj(m, "build"), "timestamp") }), e.bearer()...)
		}},
		{"argocd", "environment", "payments-prod@2024-03-01T10:15:02Z/Succeeded", "sync.Succeeded", func() answer {
			return e.post("argocd", renderArgo(t, app), e.bearer()...)
		}},
	} {
		t.Run(c.source+" "+c.field, func(t *testing.T) {
			a := c.post().want(t, http.StatusBadRequest, store.DeliveryRejected)
			if a.body["field"] != c.field {
				t.Errorf("field %v, want %s: %s", a.body["field"], c.field, a.raw)
			}
			if d := e.lastReject(c.source); d.DeliveryID != c.id || d.Event != c.event {
				t.Errorf("logged as %q, event %q; want %q, %q", d.DeliveryID, d.Event, c.id, c.event)
			}
		})
	}
}

// No connector words a refusal "field: …" without naming the field apart
// (rejectField): the answer's `field` is where a sender's log looks.
func TestRejectionsNamingAFieldGiveIt(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fieldFirst := regexp.MustCompile(`rejectf\("[A-Za-z_][A-Za-z0-9_.\[\]%]*: `)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			if fieldFirst.MatchString(l) {
				t.Errorf("%s:%d names a field in its reason only (use rejectField): %s", f, i+1, strings.TrimSpace(l))
			}
		}
	}
}
