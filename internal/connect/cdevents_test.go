package connect

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// cdBinary is a CDEvent sent in CloudEvents' binary mode, its ce-source
// the CDEvent's context.source (as the CDEvents binding has it).
func (e *env) cdBinary(id string, body []byte) answer {
	e.t.Helper()
	var ev cdEvent
	json.Unmarshal(body, &ev)
	return e.post("cdevents", body, append(e.bearer(), "Content-Type", "application/json", "Ce-Specversion", "1.0", "Ce-Id", id,
		"Ce-Source", ev.Context.Source, "Ce-Type", ev.Context.Type)...)
}

// structured wraps a CDEvent in a structured-mode CloudEvent.
func structured(t *testing.T, id string, body []byte) map[string]any {
	var ev cdEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"specversion": "1.0", "id": id, "source": ev.Context.Source, "type": ev.Context.Type,
		"datacontenttype": "application/json", "data": json.RawMessage(body)}
}

// fromSource is a CDEvent as another sender would send it: the same
// event id under its own source.
func fromSource(t *testing.T, body []byte, source string) []byte {
	return edit(t, body, func(m map[string]any) {
		obj(m, "context")["source"] = source
		obj(m, "subject")["source"] = source
	})
}

func TestCDEventsToken(t *testing.T) {
	body := fixture(t, "cdevents/v0.5.1/service_deployed.json")
	runBearerChecks(t, "cdevents", body, "Ce-Id", "ce-1", "Ce-Specversion", "1.0", "Content-Type", "application/json")
}

func TestCDEventsBinaryDeployments(t *testing.T) {
	want := &domain.Deployment{
		Meta: domain.Meta{ID: "/event/source/123#271069a8-fc18-44f1-b38f-9d70a1695819", Source: "cdevents"}, Service: "mySubject123", Environment: "test123",
		Status: "success", FinishedAt: ts("2023-03-20T14:27:05.315384Z"),
		Version: "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427",
	}
	for _, v := range []string{"v0.4.1", "v0.5.1"} {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.cdBinary("ce-1", fixture(t, "cdevents/"+v+"/service_deployed.json")).want(t, http.StatusOK, store.DeliveryAccepted)
			sameRecord(t, e.record(domain.KindDeployment, "cdevents", want.ID), want)
			if ds := e.deliveries("cdevents"); ds[0].DeliveryID != "/event/source/123#ce-1" || ds[0].Event != "service.deployed" {
				t.Fatalf("logged %+v", ds[0])
			}
		})
	}
	// The conformance examples share one context id: each is sent as an
	// event of its own (one id, one event).
	withID := func(name, id string) []byte {
		return edit(t, fixture(t, "cdevents/v0.5.1/"+name), func(m map[string]any) { obj(m, "context")["id"] = id })
	}
	e := newEnv(t, Config{CDEvents: CDEvents{Deploys: Deploys{Services: map[string]string{"mySubject123": "shop"}, ProductionEnvironments: []string{"test123"}}}})
	e.cdBinary("ce-2", withID("service_upgraded.json", "upgrade-1")).want(t, http.StatusOK, store.DeliveryAccepted)
	d := e.record(domain.KindDeployment, "cdevents", "/event/source/123#upgrade-1").(*domain.Deployment)
	if d.Service != "shop" || d.EnvType != domain.EnvProduction {
		t.Fatalf("upgrade %+v, want service shop in production", d)
	}
	e.cdBinary("ce-3", withID("service_rolledback.json", "rollback-1")).want(t, http.StatusOK, store.DeliveryAccepted)
	if d := e.record(domain.KindDeployment, "cdevents", "/event/source/123#rollback-1").(*domain.Deployment); d.Reason != domain.ReasonRollback {
		t.Fatalf("rollback %+v, want reason rollback", d)
	}
}

func TestCDEventsStructuredAndBatchIncidents(t *testing.T) {
	e := newEnv(t, Config{CDEvents: CDEvents{Incidents: Incidents{DefaultSeverity: "P2"}}})
	detected := mustJSON(structured(t, "ce-10", fixture(t, "cdevents/v0.4.1/incident_detected.json")))
	e.post("cdevents", detected, append(e.bearer(), "Content-Type", "application/cloudevents+json; charset=utf-8")...).want(t, http.StatusOK, store.DeliveryAccepted)
	inc := &domain.Incident{
		Meta: domain.Meta{ID: "/monitoring/prod1#incident-123", Source: "cdevents"}, Service: "myApp", Severity: "P2",
		OpenedAt: ts("2022-11-11T13:52:20.079Z"), DetectedAt: ts("2022-11-11T13:52:20.079Z"), Origin: "monitoring",
	}
	sameRecord(t, e.record(domain.KindIncident, "cdevents", inc.ID), inc)
	if ds := e.deliveries("cdevents"); ds[0].DeliveryID != "/monitoring/prod1#ce-10" {
		t.Fatalf("delivery id %q, want the CloudEvent's source and id", ds[0].DeliveryID)
	}

	// Derived: the resolution an hour later, in a batch with a merged
	// change and an event Candor does not map.
	resolved := edit(t, fixture(t, "cdevents/v0.5.1/incident_resolved.json"), func(m map[string]any) {
		obj(m, "context")["timestamp"] = "2022-11-11T14:52:20.079Z"
	})
	batch := mustJSON([]any{
		structured(t, "ce-11", resolved),
		structured(t, "ce-12", fixture(t, "cdevents/v0.5.1/change_merged.json")),
		structured(t, "ce-13", fixture(t, "cdevents/v0.5.1/artifact_published.json")),
	})
	a := e.post("cdevents", batch, append(e.bearer(), "Content-Type", "application/cloudevents-batch+json")...).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := strings.Join(a.records(), " "); got != "incident/cdevents//monitoring/prod1#incident-123 change/cdevents//event/source/123#mySubject123" {
		t.Fatalf("records %s", got)
	}
	inc.ResolvedAt = ts("2022-11-11T14:52:20.079Z")
	sameRecord(t, e.record(domain.KindIncident, "cdevents", inc.ID), inc)
	sameRecord(t, e.record(domain.KindChange, "cdevents", "/event/source/123#mySubject123"), &domain.Change{
		Meta: domain.Meta{ID: "/event/source/123#mySubject123", Source: "cdevents"}, Service: "TestOrg", MergedAt: ts("2023-03-20T14:27:05.315384Z"),
	})
	if ds := e.deliveries("cdevents"); ds[0].DeliveryID != "sha256:"+sha256Hex(batch) || ds[0].Event != "incident.resolved,change.merged,artifact.published" {
		t.Fatalf("batch logged as %+v", ds[0])
	}
	// incident.reported opens one too.
	e.cdBinary("ce-14", fixture(t, "cdevents/v0.5.1/incident_reported.json")).want(t, http.StatusOK, store.DeliveryAccepted)
}

func TestCDEventsPipelineRuns(t *testing.T) {
	e := newEnv(t, Config{})
	e.cdBinary("ce-1", fixture(t, "cdevents/v0.5.1/pipelinerun_finished.json")).want(t, http.StatusOK, store.DeliveryIgnored)
	e = newEnv(t, Config{CDEvents: CDEvents{DeployPipelines: map[string]Target{"myPipeline": {Service: "shop", Environment: "production"}}}})
	for _, v := range []string{"v0.4.1", "v0.5.1"} {
		e.cdBinary("ce-"+v, fixture(t, "cdevents/"+v+"/pipelinerun_finished.json")).want(t, http.StatusOK, store.DeliveryAccepted)
		sameRecord(t, e.record(domain.KindDeployment, "cdevents", "/event/source/123#mySubject123"), &domain.Deployment{
			Meta: domain.Meta{ID: "/event/source/123#mySubject123", Source: "cdevents"}, Service: "shop", Environment: "production", Status: "failure",
			FinishedAt: ts("2023-03-20T14:27:05.315384Z"), PipelineURL: "https://www.example.com/mySubject123",
		})
	}
}

func TestCDEventsRedeliveryUnmappedMalformed(t *testing.T) {
	e := newEnv(t, Config{})
	body := fixture(t, "cdevents/v0.5.1/service_deployed.json")
	e.redelivery("cdevents", body, append(e.bearer(), "Ce-Id", "ce-1", "Content-Type", "application/json")...)
	e.cdBinary("ce-2", fixture(t, "cdevents/v0.5.1/environment_created.json")).want(t, http.StatusOK, store.DeliveryIgnored)
	e = newEnv(t, Config{})
	old := edit(t, body, func(m map[string]any) { obj(m, "context")["specversion"] = "0.3.0" })
	e.malformed("cdevents", old, "v0.4 and v0.5", append(e.bearer(), "Ce-Id", "x-1")...)
	e.malformed("cdevents", []byte(`{"context": {"type": "com.example.build"}}`), "not a CDEvent type", append(e.bearer(), "Ce-Id", "x-2")...)
	e.malformed("cdevents", []byte(`[{"id": "1"}]`), "no data", append(e.bearer(), "Content-Type", "application/cloudevents-batch+json")...)
	// A field at fault is named apart from the words, for a sender's log.
	for field, body := range map[string][]byte{
		"data":              []byte(`{"specversion": "1.0", "id": "1", "source": "/s", "type": "dev.cdevents.service.deployed.0.3.0"}`),
		"context.id":        edit(t, body, func(m map[string]any) { delete(obj(m, "context"), "id") }),
		"context.source":    edit(t, body, func(m map[string]any) { delete(obj(m, "context"), "source") }),
		"context.timestamp": edit(t, body, func(m map[string]any) { obj(m, "context")["timestamp"] = "yesterday" }),
		"subject.id":        edit(t, fixture(t, "cdevents/v0.5.1/change_merged.json"), func(m map[string]any) { delete(obj(m, "subject"), "id") }),
	} {
		ct := "application/json"
		if field == "data" {
			ct = "application/cloudevents+json"
		}
		a := e.post("cdevents", body, append(e.bearer(), "Content-Type", ct)...)
		if a.want(t, http.StatusBadRequest, store.DeliveryRejected); a.body["field"] != field {
			t.Errorf("field %v, want %s: %s", a.body["field"], field, a.raw)
		}
		// In the sender's words, not Go's ("want time.Time").
		if msg, _ := a.body["error"].(string); strings.Contains(msg, "time.Time") || field == "context.timestamp" && !strings.Contains(msg, "RFC 3339") {
			t.Errorf("%s: %q", field, msg)
		}
	}
}

// CloudEvents makes only a source and an id together unique, and the
// CDEvents conformance examples, which senders copy, all share one id:
// events of different senders under one id are different deliveries and
// different records.
func TestCDEventsSourceAndIDNameAnEvent(t *testing.T) {
	const id = "271069a8-fc18-44f1-b38f-9d70a1695819"
	e := newEnv(t, Config{})
	e.cdBinary(id, fixture(t, "cdevents/v0.5.1/service_deployed.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	const scm, cd = "/scm/shop", "/cd/other"
	e.cdBinary(id, fromSource(t, fixture(t, "cdevents/v0.5.1/change_merged.json"), scm)).want(t, http.StatusOK, store.DeliveryAccepted)
	e.cdBinary(id, fromSource(t, fixture(t, "cdevents/v0.5.1/service_rolledback.json"), cd)).want(t, http.StatusOK, store.DeliveryAccepted)

	if d := e.record(domain.KindDeployment, "cdevents", "/event/source/123#"+id).(*domain.Deployment); d.Reason != "" {
		t.Fatalf("the first sender's deployment became %+v: another sender's rollback landed on it", d)
	}
	if d := e.record(domain.KindDeployment, "cdevents", cd+"#"+id).(*domain.Deployment); d.Reason != domain.ReasonRollback {
		t.Fatalf("the other sender's rollback is %+v", d)
	}
	e.record(domain.KindChange, "cdevents", scm+"#mySubject123")

	// In structured mode the envelope's source names the delivery, as
	// ce-source does in binary mode.
	env := structured(t, id, fixture(t, "cdevents/v0.5.1/service_upgraded.json"))
	env["source"] = "/ci/third"
	e.post("cdevents", mustJSON(env), append(e.bearer(), "Content-Type", "application/cloudevents+json")...).want(t, http.StatusOK, store.DeliveryAccepted)
	var ids []string
	for _, d := range e.deliveries("cdevents") {
		ids = append(ids, d.Outcome+" "+d.DeliveryID)
	}
	want := "accepted /ci/third#" + id + ", accepted " + cd + "#" + id + ", accepted " + scm + "#" + id + ", accepted /event/source/123#" + id
	if got := strings.Join(ids, ", "); got != want {
		t.Fatalf("deliveries %s\nwant %s", got, want)
	}
}

// The same source and id are the same event: sent again as it was, it is
// a duplicate; with another payload it is the sender's mistake, refused
// with 409 rather than acknowledged and dropped, and not kept, so that a
// replay cannot write it over the event counted.
func TestCDEventsConflictingPayloadIsRefused(t *testing.T) {
	const id = "271069a8-fc18-44f1-b38f-9d70a1695819"
	e := newEnv(t, Config{})
	deployed := fixture(t, "cdevents/v0.5.1/service_deployed.json")
	rolledback := fixture(t, "cdevents/v0.5.1/service_rolledback.json")
	e.cdBinary(id, deployed).want(t, http.StatusOK, store.DeliveryAccepted)
	key := "/event/source/123#" + id
	first := e.record(domain.KindDeployment, "cdevents", key)
	e.cdBinary(id, deployed).want(t, http.StatusOK, store.DeliveryDuplicate)

	a := e.cdBinary(id, rolledback).want(t, http.StatusConflict, store.DeliveryRejected)
	if msg, _ := a.body["error"].(string); a.body["code"] != string(domain.EConflict) || !strings.Contains(msg, "delivery "+key+" refused") {
		t.Fatalf("conflict answered %s", a.raw)
	}
	// A bare CDEvent is named by its context's source and id: the same.
	e.post("cdevents", rolledback, append(e.bearer(), "Content-Type", "application/json")...).want(t, http.StatusConflict, store.DeliveryRejected)
	sameRecord(t, e.record(domain.KindDeployment, "cdevents", key), first)
	if ds := e.deliveries("cdevents"); ds[0].Outcome != store.DeliveryRejected || !strings.Contains(ds[0].Reason, "different payload") {
		t.Fatalf("the conflict is logged as %+v", ds[0])
	}

	sum, err := e.svc.Replay(context.Background(), "cdevents", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Deliveries != 1 {
		t.Fatalf("replayed %d kept payloads, want the event counted only", sum.Deliveries)
	}
	sameRecord(t, e.record(domain.KindDeployment, "cdevents", key), first)
}

// eventID is injective: the first "#" ends the (escaped) source.
func TestEventIDNamesEachPairOnce(t *testing.T) {
	if got := eventID("/event/source/123", "271069a8"); got != "/event/source/123#271069a8" {
		t.Fatalf("eventID = %q", got)
	}
	seen := map[string][2]string{}
	for _, p := range [][2]string{{"a#b", "c"}, {"a", "b#c"}, {"a%23b", "c"}, {"a%b", "c"}, {"a%25b", "c"}, {"a#", ""}, {"a", "#"}, {"", "a#"}} {
		id := eventID(p[0], p[1])
		if q, dup := seen[id]; dup {
			t.Fatalf("%q and %q are both %q", p, q, id)
		}
		seen[id] = p
	}
}

// The guard on one event's payload holds whatever delivery carries the
// event: a binary event under another ce-id, a structured one under
// another envelope id, or an event in a batch (whose id is its hash) that
// names a deployment counted already with another body is refused with
// 409 and the field naming the event, the batch whole (a delivery is
// all its records or none) with the index of the event at fault; the
// deployment counted stands.
func TestCDEventsChangedEventRefusedWhateverTheDelivery(t *testing.T) {
	const id = "271069a8-fc18-44f1-b38f-9d70a1695819"
	key := "/event/source/123#" + id
	deployed := fixture(t, "cdevents/v0.5.1/service_deployed.json")
	// The same event moved from test to production.
	moved := edit(t, deployed, func(m map[string]any) { obj(m, "subject", "content", "environment")["id"] = "production" })
	change := fixture(t, "cdevents/v0.5.1/change_merged.json")
	batchHeader := "application/cloudevents-batch+json"

	e := newEnv(t, Config{})
	e.cdBinary("ce-1", deployed).want(t, http.StatusOK, store.DeliveryAccepted)
	first := e.record(domain.KindDeployment, "cdevents", key)
	conflict := func(a answer, field, says string) {
		t.Helper()
		a.want(t, http.StatusConflict, store.DeliveryRejected)
		if msg, _ := a.body["error"].(string); a.body["code"] != string(domain.EConflict) || a.body["field"] != field || !strings.Contains(msg, says) {
			t.Fatalf("answered %s, want a conflict on %s saying %q", a.raw, field, says)
		}
		sameRecord(t, e.record(domain.KindDeployment, "cdevents", key), first)
		if d := e.deliveries("cdevents")[0]; d.Outcome != store.DeliveryRejected || d.Payload != nil || !strings.Contains(d.Reason, "different payload") {
			t.Fatalf("logged as %+v, want rejected without its payload", d)
		}
	}
	conflict(e.cdBinary("ce-2", moved), "context.id", "deployment "+key)
	env := structured(t, "ce-3", moved)
	conflict(e.post("cdevents", mustJSON(env), append(e.bearer(), "Content-Type", "application/cloudevents+json")...), "context.id", "deployment "+key)

	batch := mustJSON([]any{structured(t, "ce-4", change), structured(t, "ce-5", moved)})
	conflict(e.post("cdevents", batch, append(e.bearer(), "Content-Type", batchHeader)...), "[1].data.context.id", "event 1 of the batch: deployment "+key)
	// Refused whole: the batch's other event was not acknowledged, and is
	// not stored.
	if _, err := e.st.Get(context.Background(), domain.Key{Kind: domain.KindChange, Source: "cdevents", ID: "/event/source/123#mySubject123"}); err == nil {
		t.Fatal("the refused batch's change was stored")
	}

	// The event as counted, in a batch with a new one, is accepted: the
	// deployment is unchanged and the change stored.
	batch = mustJSON([]any{structured(t, "ce-6", change), structured(t, "ce-7", deployed)})
	a := e.post("cdevents", batch, append(e.bearer(), "Content-Type", batchHeader)...).want(t, http.StatusOK, store.DeliveryAccepted)
	if a.body["inserted"] != 1.0 || a.body["unchanged"] != 1.0 || a.body["replaced"] != 0.0 {
		t.Fatalf("answered %s, want the change inserted and the deployment unchanged", a.raw)
	}
	sameRecord(t, e.record(domain.KindDeployment, "cdevents", key), first)

	// Two versions of one event in one batch, on a store without it.
	e = newEnv(t, Config{})
	batch = mustJSON([]any{structured(t, "ce-1", deployed), structured(t, "ce-2", moved)})
	a = e.post("cdevents", batch, append(e.bearer(), "Content-Type", batchHeader)...).want(t, http.StatusConflict, store.DeliveryRejected)
	if a.body["field"] != "[1].data.context.id" || e.recordCount() != 0 {
		t.Fatalf("answered %s with %d records stored", a.raw, e.recordCount())
	}
}

// A malformed event in a batch is named by its index.
func TestCDEventsBatchRejectionNamesTheEvent(t *testing.T) {
	e := newEnv(t, Config{})
	bad := edit(t, fixture(t, "cdevents/v0.5.1/service_deployed.json"), func(m map[string]any) { delete(obj(m, "context"), "id") })
	batch := mustJSON([]any{structured(t, "ce-1", fixture(t, "cdevents/v0.5.1/change_merged.json")), structured(t, "ce-2", bad)})
	a := e.post("cdevents", batch, append(e.bearer(), "Content-Type", "application/cloudevents-batch+json")...).want(t, http.StatusBadRequest, store.DeliveryRejected)
	if msg, _ := a.body["error"].(string); a.body["field"] != "[1].data.context.id" || !strings.Contains(msg, "event 1 of the batch: context.id: required") {
		t.Fatalf("answered %s", a.raw)
	}
}

// A record refused for one of its fields names, in the answer's field,
// the payload's field the record's came from — what the sender can fix —
// and in a batch the event's index too: a real service.deployed without
// its environment, a real change.merged without its repository.
func TestCDEventsRecordRefusalNamesThePayloadField(t *testing.T) {
	e := newEnv(t, Config{})
	noEnv := edit(t, fixture(t, "cdevents/v0.5.1/service_deployed.json"), func(m map[string]any) { delete(obj(m, "subject", "content"), "environment") })
	refused := func(a answer, field, says string) {
		t.Helper()
		a.want(t, http.StatusBadRequest, store.DeliveryRejected)
		if msg, _ := a.body["error"].(string); a.body["field"] != field || !strings.Contains(msg, says) {
			t.Fatalf("answered %s, want field %s and an error saying %q", a.raw, field, says)
		}
	}
	refused(e.cdBinary("ce-1", noEnv), "subject.content.environment.id",
		"field environment: required (the record's environment comes from the payload's subject.content.environment.id)")
	noRepo := edit(t, fixture(t, "cdevents/v0.5.1/change_merged.json"), func(m map[string]any) { delete(obj(m, "subject", "content"), "repository") })
	refused(e.cdBinary("ce-2", noRepo), "subject.content.repository.id", "change /event/source/123#mySubject123: field service: required")

	batch := mustJSON([]any{structured(t, "ce-3", fixture(t, "cdevents/v0.5.1/change_merged.json")), structured(t, "ce-4", noEnv)})
	refused(e.post("cdevents", batch, append(e.bearer(), "Content-Type", "application/cloudevents-batch+json")...),
		"[1].data.subject.content.environment.id", "event 1 of the batch: deployment ")
	if n := e.recordCount(); n != 0 {
		t.Fatalf("%d records stored, want none", n)
	}
}

// CDEvents have no category, and security incidents count only category
// security: an incident event's customData member category (or the one
// category_field names) gives it, through incidentCategory's spelling.
// The conformance payloads' customData (metric, threshold, value) has no
// such member; the copies below add one. A later event of the incident
// naming none keeps it; one naming another changes it.
func TestCDEventsIncidentCategory(t *testing.T) {
	const id = "/monitoring/prod1#incident-123"
	withCategory := func(name, member string, v any) []byte {
		return edit(t, fixture(t, "cdevents/"+name), func(m map[string]any) {
			obj(m, "customData")[member] = v // added: the conformance example has none
		})
	}
	category := func(e *env) string {
		t.Helper()
		return e.record(domain.KindIncident, "cdevents", id).(*domain.Incident).Category
	}
	resolvedLater := func(body []byte) []byte {
		return edit(t, body, func(m map[string]any) { obj(m, "context")["timestamp"] = "2022-11-11T14:52:20.079Z" })
	}

	// The real payloads as they are: no category, as before.
	e := newEnv(t, Config{})
	e.cdBinary("ce-1", fixture(t, "cdevents/v0.5.1/incident_detected.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := category(e); got != "" {
		t.Fatalf("a payload without customData.category stored category %q", got)
	}

	for _, v := range []string{"v0.4.1", "v0.5.1"} {
		e = newEnv(t, Config{})
		e.cdBinary("ce-1", withCategory(v+"/incident_detected.json", "category", " Security ")).want(t, http.StatusOK, store.DeliveryAccepted)
		if got := category(e); got != "security" {
			t.Fatalf("%s: category %q, want security", v, got)
		}
	}
	// The real resolution, naming no category, keeps it.
	e.cdBinary("ce-2", resolvedLater(fixture(t, "cdevents/v0.5.1/incident_resolved.json"))).want(t, http.StatusOK, store.DeliveryAccepted)
	inc := e.record(domain.KindIncident, "cdevents", id).(*domain.Incident)
	if inc.Category != "security" || !inc.ResolvedAt.Equal(ts("2022-11-11T14:52:20.079Z")) {
		t.Fatalf("after the resolution: category %q, resolved %v; want security, resolved", inc.Category, inc.ResolvedAt)
	}
	// A resolution first, naming the category (in a batch), then the
	// detection naming none: the category stays.
	e = newEnv(t, Config{})
	batch := mustJSON([]any{structured(t, "ce-1", resolvedLater(withCategory("v0.5.1/incident_resolved.json", "category", "security")))})
	e.post("cdevents", batch, append(e.bearer(), "Content-Type", "application/cloudevents-batch+json")...).want(t, http.StatusOK, store.DeliveryAccepted)
	e.cdBinary("ce-2", fixture(t, "cdevents/v0.5.1/incident_detected.json")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := category(e); got != "security" {
		t.Fatalf("a detection naming no category after a resolution naming security: %q", got)
	}
	// A later event naming another category changes it.
	e.cdBinary("ce-3", withCategory("v0.5.1/incident_reported.json", "category", "availability")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := category(e); got != "availability" {
		t.Fatalf("a report naming availability: category %q", got)
	}

	// category_field names another member; category is then no one's.
	e = newEnv(t, Config{CDEvents: CDEvents{CategoryField: "kind"}})
	e.cdBinary("ce-1", withCategory("v0.5.1/incident_detected.json", "category", "availability")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := category(e); got != "" {
		t.Fatalf("category_field kind: customData.category gave %q", got)
	}
	e.cdBinary("ce-2", withCategory("v0.5.1/incident_reported.json", "kind", "SECURITY")).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := category(e); got != "security" {
		t.Fatalf("category_field kind: category %q, want security", got)
	}

	// A null member, or customData that is not an object (a base64
	// string of other content), names none.
	e = newEnv(t, Config{})
	e.cdBinary("ce-1", withCategory("v0.5.1/incident_detected.json", "category", nil)).want(t, http.StatusOK, store.DeliveryAccepted)
	other := edit(t, fixture(t, "cdevents/v0.5.1/incident_reported.json"), func(m map[string]any) {
		m["customData"], m["customDataContentType"] = "PGNhdGVnb3J5PnNlY3VyaXR5PC9jYXRlZ29yeT4=", "application/xml"
	})
	e.cdBinary("ce-2", other).want(t, http.StatusOK, store.DeliveryAccepted)
	if got := category(e); got != "" {
		t.Fatalf("a null member and a base64 customData gave category %q", got)
	}
}

// A category member that is not a string, or that the record refuses (too
// long for a name), refuses the event, naming the member — in a batch
// with the event's index — and stores nothing.
func TestCDEventsIncidentCategoryRefused(t *testing.T) {
	withCategory := func(member string, v any) []byte {
		return edit(t, fixture(t, "cdevents/v0.5.1/incident_detected.json"), func(m map[string]any) {
			obj(m, "customData")[member] = v // added: the conformance example has none
		})
	}
	for _, c := range []struct {
		name  string
		cfg   CDEvents
		body  []byte
		batch bool
		field string
		says  string
	}{
		{"number", CDEvents{}, withCategory("category", 3), false, "customData.category", "customData.category: is a number, want a string (the incident's category"},
		{"list", CDEvents{}, withCategory("category", []any{"security"}), false, "customData.category", "is an array, want a string"},
		{"category_field", CDEvents{CategoryField: "kind"}, withCategory("kind", map[string]any{"name": "security"}), false, "customData.kind", "customData.kind: is an object"},
		{"in a batch", CDEvents{}, withCategory("category", true), true, "[0].data.customData.category", "event 0 of the batch: customData.category: is a bool"},
		{"too long", CDEvents{}, withCategory("category", strings.Repeat("x", domain.MaxName+1)), false, "customData.category",
			"field category: is 257 bytes long; an identifier or name is at most 256 bytes (the record's category comes from the payload's customData.category)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{CDEvents: c.cfg})
			var a answer
			if c.batch {
				a = e.post("cdevents", mustJSON([]any{structured(t, "ce-1", c.body)}), append(e.bearer(), "Content-Type", "application/cloudevents-batch+json")...)
			} else {
				a = e.cdBinary("ce-1", c.body)
			}
			a.want(t, http.StatusBadRequest, store.DeliveryRejected)
			if msg, _ := a.body["error"].(string); a.body["field"] != c.field || !strings.Contains(msg, c.says) {
				t.Fatalf("answered %s, want field %s and an error saying %q", a.raw, c.field, c.says)
			}
			if n := e.recordCount(); n != 0 {
				t.Fatalf("%d records stored, want none", n)
			}
		})
	}
}
