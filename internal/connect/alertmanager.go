package connect

import (
	"fmt"
	"sort"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Alertmanager: webhook receiver notifications (version 4). Each alert's
// firing episode is one incident, keyed by its fingerprint and startsAt:
// firing opens it, resolved closes it, and the fingerprint is the
// incident's recurrence key, so the same alert firing again is a
// recurrence. Verified with an API token (http_config.authorization);
// Alertmanager sends no delivery id, and repeats an unchanged group's
// notification, which its payload's hash recognises.
func alertmanagerConnector(cfg Alertmanager) connector {
	return connector{
		name:     "alertmanager",
		scheme:   schemeBearer,
		parse:    func(in *input) (*parsed, error) { return parseAlertmanager(cfg, in) },
		stateful: true,
	}
}

// alertmanagerSeverity maps the usual values of the severity label.
var alertmanagerSeverity = map[string]string{
	"critical": "P1", "page": "P1", "error": "P2", "high": "P2", "major": "P2",
	"warning": "P3", "warn": "P3", "medium": "P3", "minor": "P3", "info": "P4", "low": "P4", "none": "P4",
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	StartsAt     when              `json:"startsAt"`
	EndsAt       when              `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type amNotification struct {
	Version string    `json:"version"`
	Status  string    `json:"status"`
	Alerts  []amAlert `json:"alerts"`
}

func parseAlertmanager(cfg Alertmanager, in *input) (_ *parsed, err error) {
	var p amNotification
	// A refusal keeps the notification's status where it was read.
	defer func() { err = known("", prefixed("alerts.", p.Status), err) }()
	if err := decode(in.body, &p); err != nil {
		return nil, err
	}
	switch {
	case p.Version != "" && p.Version != "4":
		return nil, rejectField("version", "%q: Candor reads Alertmanager's webhook version 4", p.Version)
	case p.Alerts == nil:
		return nil, rejectField("alerts", "missing (not an Alertmanager webhook)")
	}
	labels := cfg.ServiceLabels
	if len(labels) == 0 {
		labels = []string{"service", "app", "job"}
	}
	sevLabel := firstOf(cfg.SeverityLabel, "severity")
	catLabel := firstOf(cfg.CategoryLabel, "category")
	var ups []incidentUpdate
	for i, a := range p.Alerts {
		if a.StartsAt.IsZero() {
			return nil, rejectField(fmt.Sprintf("alerts[%d].startsAt", i), "missing")
		}
		fp := firstOf(a.Fingerprint, labelFingerprint(a.Labels))
		var named []string
		for _, l := range labels {
			named = append(named, a.Labels[l])
		}
		inc := &domain.Incident{
			Meta:        domain.Meta{ID: fp + "@" + a.StartsAt.Format(time.RFC3339Nano)},
			Service:     cfg.service(firstOf(named...), named...),
			Severity:    cfg.severity(alertmanagerSeverity, a.Labels[sevLabel]),
			OpenedAt:    a.StartsAt.Time,
			Origin:      "monitoring",
			Category:    incidentCategory(a.Labels[catLabel]),
			Fingerprint: fp,
			URL:         a.GeneratorURL,
		}
		// A firing alert's endsAt is only when it would time out.
		if firstOf(a.Status, p.Status) == "resolved" {
			inc.ResolvedAt = a.EndsAt.Time
		}
		ups = append(ups, incidentUpdate{inc: inc})
	}
	if len(ups) == 0 {
		return ignored("", "alerts."+p.Status, "no alerts"), nil
	}
	return incidents("", "alerts."+p.Status, ups...), nil
}

// labelFingerprint is Prometheus' label-set fingerprint (FNV-1a over the
// sorted names and values, each followed by 0xff), for alerts sent
// without their fingerprint.
func labelFingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ 0xff) * prime
	}
	for _, k := range names {
		add(k)
		add(labels[k])
	}
	return fmt.Sprintf("%016x", h)
}
