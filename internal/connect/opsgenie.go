package connect

import (
	"strings"

	"github.com/candor/candor/internal/domain"
)

// Opsgenie: the webhook integration's alert actions. Create opens an
// incident, Close resolves it, the other actions update it (priority);
// Delete is ignored. Opsgenie cannot sign, but sends the custom header an
// integration is given: an API token (Authorization: Bearer …). It sends
// no delivery id, so a retry is known by its payload's hash.
func opsgenieConnector(cfg Opsgenie) connector {
	return connector{
		name:     "opsgenie",
		scheme:   schemeBearer,
		parse:    func(in *input) (*parsed, error) { return parseOpsgenie(cfg, in) },
		stateful: true,
	}
}

// opsgenieSeverity maps Opsgenie's five priorities onto SPEC's five
// severities: P1 is the most urgent in both, so P5 joins P4.
var opsgenieSeverity = map[string]string{"P5": "P4"}

type ogEvent struct {
	Action string `json:"action"`
	Alert  struct {
		AlertID   string   `json:"alertId"`
		Message   string   `json:"message"`
		Alias     string   `json:"alias"`
		Entity    string   `json:"entity"`
		Tags      []string `json:"tags"`
		Priority  text     `json:"priority"`
		CreatedAt when     `json:"createdAt"`
		UpdatedAt when     `json:"updatedAt"`
	} `json:"alert"`
}

func parseOpsgenie(cfg Opsgenie, in *input) (_ *parsed, err error) {
	var p ogEvent
	// A refusal keeps the action where it was read.
	defer func() { err = known("", p.Action, err) }()
	if err := decode(in.body, &p); err != nil {
		return nil, err
	}
	a := p.Alert
	event := p.Action
	switch {
	case p.Action == "" || a.AlertID == "":
		return nil, rejectMissing("action and alert.alertId: missing (not an Opsgenie webhook)", "action", p.Action, "alert.alertId", a.AlertID)
	case p.Action == "Delete":
		return ignored("", event, "a deleted alert is not an incident's step"), nil
	case a.CreatedAt.IsZero():
		return nil, rejectField("alert.createdAt", "missing")
	}
	// service:NAME and category:NAME tags name the service and the
	// category (security incidents count only category security).
	var tagged, category string
	for _, t := range a.Tags {
		if v, ok := strings.CutPrefix(t, "service:"); ok && tagged == "" {
			tagged = v
		}
		if v, ok := strings.CutPrefix(t, "category:"); ok && category == "" {
			category = incidentCategory(v)
		}
	}
	inc := &domain.Incident{
		Meta: domain.Meta{ID: a.AlertID},
		// A service: tag names the service; else the entity may.
		Service:     cfg.service(firstOf(tagged, a.Entity), firstOf(tagged, a.Entity)),
		OpenedAt:    a.CreatedAt.Time,
		Category:    category,
		Fingerprint: a.Alias,
	}
	if pr := string(a.Priority); pr != "" {
		if !strings.HasPrefix(strings.ToUpper(pr), "P") {
			pr = "P" + pr // older integrations send the number alone
		}
		inc.Severity = cfg.severity(opsgenieSeverity, pr)
	}
	if p.Action == "Close" {
		inc.ResolvedAt = firstTime(a.UpdatedAt, a.CreatedAt).Time
	}
	return incidents("", event, incidentUpdate{inc: inc, severityFallback: cfg.severity(nil)}), nil
}
