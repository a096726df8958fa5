package connect

import (
	"strings"

	"github.com/candor/candor/internal/domain"
)

// PagerDuty: v3 webhook subscriptions. Every incident.* event updates the
// incident; incident.resolved resolves it and incident.reopened reopens
// it. Verified with X-PagerDuty-Signature; the delivery id is the event's
// id.
func pagerdutyConnector(cfg PagerDuty) connector {
	return connector{
		name:     "pagerduty",
		verify:   verifyPagerDuty,
		parse:    func(in *input) (*parsed, error) { return parsePagerDuty(cfg, in) },
		stateful: true,
	}
}

// pagerdutySeverity maps PagerDuty's priorities (P1…P5 by default) and,
// for incidents without one, urgencies.
var pagerdutySeverity = map[string]string{"P5": "P4", "high": "P2", "low": "P4"}

type pdRef struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type pdEvent struct {
	Event struct {
		ID           string     `json:"id"`
		EventType    string     `json:"event_type"`
		ResourceType string     `json:"resource_type"`
		OccurredAt   when       `json:"occurred_at"`
		Data         pdIncident `json:"data"`
	} `json:"event"`
}

// pdIncident is an incident as a webhook event's data and the REST API
// both give it (the API's has resolved_at and last_status_change_at).
type pdIncident struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	HTMLURL            string `json:"html_url"`
	Status             string `json:"status"`
	IncidentKey        string `json:"incident_key"`
	CreatedAt          when   `json:"created_at"`
	ResolvedAt         when   `json:"resolved_at"`
	LastStatusChangeAt when   `json:"last_status_change_at"`
	Service            pdRef  `json:"service"`
	Priority           *pdRef `json:"priority"`
	Urgency            string `json:"urgency"`
}

func parsePagerDuty(cfg PagerDuty, in *input) (_ *parsed, err error) {
	var p pdEvent
	// A refusal keeps the event's id and type where they were read (a
	// field of the wrong type leaves the rest read).
	defer func() { err = known(p.Event.ID, p.Event.EventType, err) }()
	if err := decode(in.body, &p); err != nil {
		return nil, err
	}
	ev, data := p.Event, p.Event.Data
	switch {
	case ev.ID == "" || ev.EventType == "":
		return nil, rejectMissing("event.id and event.event_type: missing (not a PagerDuty v3 webhook)", "event.id", ev.ID, "event.event_type", ev.EventType)
	case ev.ResourceType != "incident" || !strings.HasPrefix(ev.EventType, "incident."):
		return ignored(ev.ID, ev.EventType, "PagerDuty %s events are not mapped", ev.EventType), nil
	case data.Type != "" && data.Type != "incident":
		// A note, a responder request or a status update (incident.annotated,
		// incident.responder.*, incident.status_update_published): its id is
		// its own, not the incident's, and it changes nothing Candor records.
		return ignored(ev.ID, ev.EventType, "PagerDuty %s events carry an %s, not the incident", ev.EventType, data.Type), nil
	case data.ID == "":
		return nil, rejectField("event.data.id", "missing")
	case ev.OccurredAt.IsZero():
		return nil, rejectField("event.occurred_at", "missing")
	}
	// An incident opened no later than any of its events; the stored one
	// keeps the earliest (incidentUpdate.merge).
	u := cfg.update(&data, ev.OccurredAt)
	u.reopen = ev.EventType == "incident.reopened"
	u.at = ev.OccurredAt.Time
	switch {
	case ev.EventType == "incident.resolved":
		u.inc.ResolvedAt = ev.OccurredAt.Time
	case data.Status == "resolved":
		u.resolvedIfUnknown = ev.OccurredAt.Time
	}
	return incidents(ev.ID, ev.EventType, u), nil
}

// update is the step an incident's state makes, merged with what is
// stored when built: the webhook's step at occurred, or the collector's
// current state (occurred zero). Both map through it.
func (cfg PagerDuty) update(data *pdIncident, occurred when) incidentUpdate {
	inc := &domain.Incident{
		Meta:        domain.Meta{ID: data.ID},
		Service:     cfg.service(data.Service.Summary, data.Service.ID, data.Service.Summary),
		Category:    cfg.category(data.Service.ID, data.Service.Summary),
		OpenedAt:    firstTime(data.CreatedAt, occurred).Time,
		Fingerprint: data.IncidentKey,
		URL:         data.HTMLURL,
	}
	var priority string
	if data.Priority != nil {
		priority = data.Priority.Summary
	}
	if priority != "" || data.Urgency != "" {
		inc.Severity = cfg.severity(pagerdutySeverity, priority, data.Urgency)
	}
	return incidentUpdate{inc: inc, severityFallback: cfg.severity(nil)}
}

// pagerdutyCurrent is the collector's step: the incident as it is now,
// resolved when (and only when) its status says so.
func pagerdutyCurrent(cfg PagerDuty, data *pdIncident) (incidentUpdate, error) {
	switch {
	case data.ID == "":
		return incidentUpdate{}, rejectf("incident id: missing")
	case data.CreatedAt.IsZero():
		return incidentUpdate{}, rejectf("incident %s: created_at missing", clip(data.ID))
	}
	u := cfg.update(data, when{})
	if data.Status == "resolved" {
		u.inc.ResolvedAt = firstTime(data.ResolvedAt, data.LastStatusChangeAt).Time
	} else {
		u.reopen = true
	}
	return u, nil
}

// category is the configured category of a PagerDuty service, by its id
// or else its name ("" when neither is mapped).
func (cfg PagerDuty) category(id, name string) string {
	for _, k := range []string{id, name} {
		if c, ok := cfg.Categories[k]; ok && k != "" {
			return incidentCategory(c)
		}
	}
	return ""
}
