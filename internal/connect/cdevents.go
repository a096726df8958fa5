package connect

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// CDEvents (spec v0.4 and v0.5) over CloudEvents HTTP, in all three modes:
// binary (ce-* headers, the CDEvent as the body), structured
// (application/cloudevents+json, the CDEvent in "data") and batch
// (application/cloudevents-batch+json, a list of structured events).
// change.merged is a change; service.deployed and service.upgraded are
// deployments, service.rolledback a rollback deployment; incident.detected
// and incident.reported open an incident and incident.resolved resolves
// it; pipelinerun.finished is a deployment for the configured deploy
// pipelines. Senders authenticate with an API token.
//
// CloudEvents makes only an event's source and id together unique (the
// CDEvents conformance examples of many senders share one id), so both
// name a delivery (eventID), and both name the records keyed by an
// event's or a subject's id: two senders' events are two records.
func cdeventsConnector(cfg CDEvents) connector {
	return connector{
		name:    "cdevents",
		headers: []string{"Content-Type", "Ce-Id", "Ce-Type", "Ce-Source", "Ce-Specversion", "Ce-Time"},
		scheme:  schemeBearer,
		headerID: func(h http.Header) string {
			// Logged for a delivery refused before its body is read; the
			// context stands in for a missing ce-source only once it is.
			if h.Get("Ce-Source") == "" {
				return h.Get("Ce-Id")
			}
			return eventID(h.Get("Ce-Source"), h.Get("Ce-Id"))
		},
		headerEvent:   func(h http.Header) string { return cdEventName(h.Get("Ce-Type")) },
		parse:         func(in *input) (*parsed, error) { return parseCloudEvents(cfg, in) },
		stateful:      true, // incident.resolved completes the incident stored
		oneEventPerID: true,
	}
}

// eventID names an event, or a subject, by its source and id:
// "/event/source/123#271069a8-…". A "%" or "#" in the source is written
// "%25" or "%23", so the first "#" ends the source and no two pairs
// share a name.
func eventID(source, id string) string {
	return sourceEscaper.Replace(source) + "#" + id
}

var sourceEscaper = strings.NewReplacer("%", "%25", "#", "%23")

// cdEventName is the event a CloudEvent's type names, as the delivery log
// names a CDEvent: dev.cdevents.service.deployed.0.3.0 is service.deployed;
// another type is itself (clipped), none "".
func cdEventName(typ string) string {
	if parts := strings.SplitN(strings.TrimPrefix(typ, "dev.cdevents."), ".", 3); strings.HasPrefix(typ, "dev.cdevents.") && len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return clip(typ)
}

// knownEvent is known for a CloudEvent refused with err, by its source
// and id where both are known, and its event.
func knownEvent(source, id, event string, err error) error {
	if id == "" {
		return known("", event, err)
	}
	return known(eventID(source, id), event, err)
}

// cloudEvent is a structured-mode CloudEvent.
type cloudEvent struct {
	SpecVersion string          `json:"specversion"`
	ID          string          `json:"id"`
	Source      string          `json:"source"`
	Type        string          `json:"type"`
	Data        json.RawMessage `json:"data"`
	DataBase64  string          `json:"data_base64"`
}

// cdEvent is a CDEvent: v0.4 names its version "version", v0.5
// "specversion".
type cdEvent struct {
	Context struct {
		Version     string `json:"version"`
		SpecVersion string `json:"specversion"`
		ID          string `json:"id"`
		Source      string `json:"source"`
		Type        string `json:"type"`
		Timestamp   when   `json:"timestamp"`
	} `json:"context"`
	Subject struct {
		ID string `json:"id"`
		// Source is where the subject lives; CDEvents defaults it to
		// the context's.
		Source  string `json:"source"`
		Content struct {
			Environment *cdRef `json:"environment"`
			Service     *cdRef `json:"service"`
			Repository  *cdRef `json:"repository"`
			ArtifactID  string `json:"artifactId"`
			// pipelinerun.finished
			PipelineName string `json:"pipelineName"`
			Outcome      string `json:"outcome"`
			URL          string `json:"url"` // v0.4
			URI          string `json:"uri"` // v0.5
			// incident.reported
			TicketURI string `json:"ticketURI"`
		} `json:"content"`
	} `json:"subject"`
	// CustomData is the sender's own data: an object (JSON, the
	// default customDataContentType) or a base64 string of other
	// content. An incident's category is one of its members.
	CustomData json.RawMessage `json:"customData"`
}

type cdRef struct {
	ID string `json:"id"`
}

func parseCloudEvents(cfg CDEvents, in *input) (*parsed, error) {
	ct, _, _ := mime.ParseMediaType(in.header.Get("Content-Type"))
	var bodies [][]byte
	// The CloudEvent's source and id: headers in binary mode, attributes
	// of the envelope in structured mode.
	var ceSource, ceID string
	isBatch := ct == "application/cloudevents-batch+json"
	switch {
	case isBatch:
		var batch []cloudEvent
		if err := decode(in.body, &batch); err != nil {
			return nil, err
		}
		for i, ce := range batch {
			if len(ce.Data) == 0 {
				return nil, &rejection{reason: fmt.Sprintf("event %d of the batch has no data (a CDEvent)", i), field: fmt.Sprintf("[%d].data", i)}
			}
			bodies = append(bodies, ce.Data)
		}
		// A batch has no id of its own: its hash identifies it.
	case ct == "application/cloudevents+json":
		var ce cloudEvent
		if err := decode(in.body, &ce); err != nil {
			return nil, knownEvent(ce.Source, ce.ID, cdEventName(ce.Type), err)
		}
		if len(ce.Data) == 0 {
			return nil, knownEvent(ce.Source, ce.ID, cdEventName(ce.Type), rejectField("data", "missing (the CDEvent)"))
		}
		bodies, ceSource, ceID = [][]byte{ce.Data}, ce.Source, ce.ID
	default:
		// Binary mode; a bare CDEvent (no ce-* headers) is read the same.
		bodies, ceSource, ceID = [][]byte{in.body}, in.header.Get("Ce-Source"), in.header.Get("Ce-Id")
	}
	var events, ignoredWhy []string
	var parts []cdPart
	var last cdPart
	for i, b := range bodies {
		p, err := parseCDEvent(cfg, b)
		where, prefix := "", ""
		if isBatch {
			err = inBatch(i, err)
			where, prefix = fmt.Sprintf("event %d of the batch: ", i), fmt.Sprintf("[%d].data.", i)
		}
		if p.byEvent {
			p.ref = &eventRef{where: where, field: prefix + "context.id"}
		}
		if p.from != nil {
			p.origin = &fieldOrigin{where: where, prefix: prefix, fields: p.from}
		}
		if err != nil {
			if isBatch {
				// A batch has no id of its own; its events so far.
				return nil, known("", strings.Join(append(events, p.event), ","), err)
			}
			return nil, knownEvent(firstOf(ceSource, p.source), firstOf(ceID, p.id), p.event, err)
		}
		last = p
		events = append(events, p.event)
		if p.ignored != "" {
			ignoredWhy = append(ignoredWhy, p.ignored)
			continue
		}
		parts = append(parts, p)
	}
	var id string
	if !isBatch {
		// The CDEvent's context is the CloudEvent's attributes again
		// (CDEvents' CloudEvents binding): it stands in for an
		// attribute the sender left out, a bare CDEvent's above all.
		id = eventID(firstOf(ceSource, last.source), firstOf(ceID, last.id))
	}
	event := strings.Join(events, ",")
	if len(parts) == 0 {
		return ignored(id, event, "%s", strings.Join(ignoredWhy, "; ")), nil
	}
	return &parsed{id: id, event: event, build: func(ctx context.Context, st *state) (built, error) {
		var out built
		for _, p := range parts {
			r := p.record
			if p.incident != nil {
				var err error
				if r, err = p.incident.merge(ctx, st); err != nil {
					return built{}, err
				}
			}
			out.records = append(out.records, r)
			out.events = append(out.events, p.ref)
			out.origins = append(out.origins, p.origin)
		}
		return out, nil
	}}, nil
}

// cdPart is what one CDEvent maps to: a record, an incident step, or why
// nothing.
type cdPart struct {
	// source and id are the event's context.source and context.id.
	source, id string
	event      string
	record     domain.Record
	incident   *incidentUpdate
	ignored    string
	// byEvent: the record is named by this event (a deployment from
	// service.*), not by a subject later events update; ref is where the
	// event is in the payload.
	byEvent bool
	ref     *eventRef
	// from maps the record's fields to the CDEvent's they come from;
	// origin is from placed in the payload.
	from   map[string]string
	origin *fieldOrigin
}

// inBatch says which event of a batch a rejection is about: the reason
// starts with its index, and its field is the path from the batch
// ("[2].data.context.id").
func inBatch(i int, err error) error {
	var re *rejection
	if !errors.As(err, &re) {
		return err
	}
	out := &rejection{reason: fmt.Sprintf("event %d of the batch: %s", i, re.reason)}
	if re.field != "" {
		out.field = fmt.Sprintf("[%d].data.%s", i, re.field)
	}
	return out
}

func parseCDEvent(cfg CDEvents, body []byte) (cdPart, error) {
	var ev cdEvent
	// A refused event keeps its source, id and type where they were read
	// (a field of the wrong type leaves the rest read).
	c := &ev.Context
	if err := decode(body, &ev); err != nil {
		return cdPart{source: c.Source, id: c.ID, event: cdEventName(c.Type)}, err
	}
	refused := cdPart{source: c.Source, id: c.ID, event: cdEventName(c.Type)}
	version := firstOf(c.SpecVersion, c.Version)
	// dev.cdevents.<subject>.<predicate>.<event version>
	parts := strings.SplitN(strings.TrimPrefix(c.Type, "dev.cdevents."), ".", 3)
	switch {
	case !strings.HasPrefix(c.Type, "dev.cdevents.") || len(parts) < 2:
		return refused, rejectField("context.type", "%q is not a CDEvent type (dev.cdevents.SUBJECT.PREDICATE.VERSION)", clip(c.Type))
	case !strings.HasPrefix(version, "0.4") && !strings.HasPrefix(version, "0.5"):
		return refused, rejectField("context.specversion", "CDEvents spec version %q: Candor reads v0.4 and v0.5", clip(version))
	case c.ID == "":
		return refused, rejectField("context.id", "required")
	case c.Source == "":
		return refused, rejectField("context.source", "required (with context.id, it names the event)")
	case c.Timestamp.IsZero():
		return refused, rejectField("context.timestamp", "required")
	}
	part, err := mapCDEvent(cfg, &ev, parts[0]+"."+parts[1])
	part.source, part.id, part.event = c.Source, c.ID, cmp.Or(part.event, parts[0]+"."+parts[1])
	return part, err
}

// mapCDEvent maps a checked CDEvent of the event type
// ("service.deployed").
func mapCDEvent(cfg CDEvents, ev *cdEvent, event string) (cdPart, error) {
	c, subj := ev.Context, ev.Subject
	// Records keyed by the event are named by its source and id; those
	// keyed by the subject by the subject's.
	eventKey := eventID(c.Source, c.ID)
	subjectKey := eventID(firstOf(subj.Source, c.Source), subj.ID)
	switch event {
	case "change.merged", "incident.detected", "incident.reported", "incident.resolved", "pipelinerun.finished":
		if subj.ID == "" {
			what, _, _ := strings.Cut(event, ".")
			return cdPart{event: event}, rejectField("subject.id", "required (it names the %s)", what)
		}
	}
	at := c.Timestamp.Time
	content := subj.Content
	env := ""
	if content.Environment != nil {
		env = content.Environment.ID
	}
	deployment := func(id, service, env string, status string) *domain.Deployment {
		return &domain.Deployment{Meta: domain.Meta{ID: id}, Service: serviceOf(cfg.Services, service, service), Environment: env,
			EnvType: cfg.envType(env), Status: status, FinishedAt: at, Version: artifactVersion(content.ArtifactID)}
	}
	switch event {
	case "change.merged":
		repo := ""
		if content.Repository != nil {
			repo = content.Repository.ID
		}
		return cdPart{event: event, record: &domain.Change{Meta: domain.Meta{ID: subjectKey},
			Service: serviceOf(cfg.Services, lastSegment(repo), repo), MergedAt: at}, from: changeFrom}, nil
	case "service.deployed", "service.upgraded":
		return cdPart{event: event, record: deployment(eventKey, subj.ID, env, domain.StatusSuccess), byEvent: true, from: deployedFrom}, nil
	case "service.rolledback":
		d := deployment(eventKey, subj.ID, env, domain.StatusSuccess)
		d.Reason = domain.ReasonRollback
		return cdPart{event: event, record: d, byEvent: true, from: deployedFrom}, nil
	case "incident.detected", "incident.reported", "incident.resolved":
		service := ""
		if content.Service != nil {
			service = content.Service.ID
		}
		category, member, err := cdCategory(ev.CustomData, cfg.categoryField())
		if err != nil {
			return cdPart{event: event}, err
		}
		inc := &domain.Incident{Meta: domain.Meta{ID: subjectKey}, Service: cfg.Incidents.service(service, service), OpenedAt: at, URL: content.TicketURI,
			Category: category}
		switch event {
		case "incident.detected":
			inc.DetectedAt, inc.Origin = at, "monitoring"
		case "incident.resolved":
			inc.ResolvedAt = at
		}
		from := incidentFrom
		if category != "" {
			// This event names the category (an event naming none keeps
			// the one an earlier event of the incident named: merge).
			from = maps.Clone(incidentFrom)
			from["category"] = member
		}
		return cdPart{event: event, incident: &incidentUpdate{inc: inc, severityFallback: cfg.Incidents.severity(nil)}, from: from}, nil
	case "pipelinerun.finished":
		target, ok := cfg.DeployPipelines[content.PipelineName]
		if !ok {
			return cdPart{event: event, ignored: "pipeline " + content.PipelineName + " is not a deploy pipeline (connectors.cdevents.deploy_pipelines)"}, nil
		}
		status, ok := map[string]string{"success": domain.StatusSuccess, "failure": domain.StatusFailure, "error": domain.StatusFailure}[content.Outcome]
		if !ok {
			return cdPart{event: event, ignored: "a pipeline run with outcome " + content.Outcome + " deployed nothing"}, nil
		}
		d := deployment(subjectKey, firstOf(target.Service, content.PipelineName), target.Environment, status)
		d.PipelineURL = firstOf(content.URI, content.URL)
		from := pipelineRunFrom
		if target.Service != "" {
			// The service is the setting's, not the payload's.
			from = pipelineRunServiceSetFrom
		}
		return cdPart{event: event, record: d, from: from}, nil
	}
	return cdPart{event: event, ignored: "CDEvents " + event + " events are not mapped"}, nil
}

// Where the fields of the records CDEvents map to come from in the
// CDEvent (what a refusal of the record's field names as the payload's
// field at fault). A pipeline run's environment is a setting's
// (connectors.cdevents.deploy_pipelines), and so is its service when the
// setting names one.
var (
	deployedFrom = map[string]string{"id": "context.id", "service": "subject.id", "environment": "subject.content.environment.id",
		"finished_at": "context.timestamp", "version": "subject.content.artifactId"}
	changeFrom   = map[string]string{"id": "subject.id", "service": "subject.content.repository.id", "merged_at": "context.timestamp"}
	incidentFrom = map[string]string{"id": "subject.id", "service": "subject.content.service.id", "opened_at": "context.timestamp",
		"detected_at": "context.timestamp", "resolved_at": "context.timestamp"}
	pipelineRunFrom = map[string]string{"id": "subject.id", "service": "subject.content.pipelineName", "finished_at": "context.timestamp",
		"status": "subject.content.outcome", "version": "subject.content.artifactId"}
	pipelineRunServiceSetFrom = map[string]string{"id": "subject.id", "finished_at": "context.timestamp",
		"status": "subject.content.outcome", "version": "subject.content.artifactId"}
)

// cdCategory is the incident category the member of customData names
// (field, the payload's field it is: "customData.category"): none when
// customData is not an object (absent, or a base64 string of other
// content) or has no such member or a null one. A member that is not a
// string is refused, naming it.
func cdCategory(custom json.RawMessage, member string) (category, field string, err error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(custom, &m) != nil {
		return "", "", nil
	}
	raw, ok := m[member]
	field = "customData." + member
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return "", field, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return "", field, rejectField(field, "cannot be read: %v", err)
		}
		return "", field, rejectField(field, "is %s, want a string (the incident's category; connectors.cdevents.category_field names the member)", jsonValueWords(te.Value))
	}
	return incidentCategory(v), field, nil
}

// artifactVersion is the version of a package URL
// ("pkg:oci/myapp@sha256%3A0b31…" → "sha256:0b31…").
func artifactVersion(purl string) string {
	_, v, ok := strings.Cut(purl, "@")
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, "?")
	v, _, _ = strings.Cut(v, "#")
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	return v
}
