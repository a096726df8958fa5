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
		ID           string `json:"id"`
		EventType    string `json:"event_type"`
		ResourceType string `json:"resource_type"`
		OccurredAt   when   `json:"occurred_at"`
		Data         struct {
			ID          string `json:"id"`
			HTMLURL     string `json:"html_url"`
			Status      string `json:"status"`
			IncidentKey string `json:"incident_key"`
			CreatedAt   when   `json:"created_at"`
			Service     pdRef  `json:"service"`
			Priority    *pdRef `json:"priority"`
			Urgency     string `json:"urgency"`
		} `json:"data"`
	} `json:"event"`
}

func parsePagerDuty(cfg PagerDuty, in *input) (*parsed, error) {
	var p pdEvent
	if err := decode(in.body, &p); err != nil {
		return nil, err
	}
	ev, data := p.Event, p.Event.Data
	switch {
	case ev.ID == "" || ev.EventType == "":
		return nil, rejectf("event.id and event.event_type: missing (not a PagerDuty v3 webhook)")
	case ev.ResourceType != "incident" || !strings.HasPrefix(ev.EventType, "incident."):
		return ignored(ev.ID, ev.EventType, "PagerDuty %s events are not mapped", ev.EventType), nil
	case data.ID == "":
		return nil, rejectf("event.data.id: missing")
	case ev.OccurredAt.IsZero():
		return nil, rejectf("event.occurred_at: missing")
	}
	inc := &domain.Incident{
		Meta:    domain.Meta{ID: data.ID},
		Service: cfg.service(data.Service.Summary, data.Service.ID, data.Service.Summary),
		// An incident opened no later than any of its events; the stored
		// one keeps the earliest (incidentUpdate.merge).
		OpenedAt:    firstTime(data.CreatedAt, ev.OccurredAt).Time,
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
	u := incidentUpdate{inc: inc, reopen: ev.EventType == "incident.reopened", severityFallback: cfg.severity(nil)}
	switch {
	case ev.EventType == "incident.resolved":
		inc.ResolvedAt = ev.OccurredAt.Time
	case data.Status == "resolved":
		u.resolvedIfUnknown = ev.OccurredAt.Time
	}
	return incidents(ev.ID, ev.EventType, u), nil
}
