package connect

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// Zendesk: tickets and satisfaction ratings. Three bodies are read: the
// ticket events of an event-subscribed webhook (zen:event-type:ticket.*,
// the ticket in "detail"), and the bodies of the two triggers Candor
// ships (docs/connectors/zendesk.md): {"ticket": {…}} and
// {"satisfaction_rating": {…}}, in the field names of Zendesk's API. A
// solved or closed ticket is resolved when it was first seen so; a
// reopened one is not. Verified with X-Zendesk-Webhook-Signature over the
// signature timestamp and the body; the delivery id is
// X-Zendesk-Webhook-Invocation-Id. A ticket's bodies are ordered by their
// time (the event's, else the ticket's updated_at): an older one arriving
// late is ignored (state.newest, as Jira's issues).
func zendeskConnector(cfg Zendesk) connector {
	return connector{
		name:     "zendesk",
		headers:  []string{"X-Zendesk-Webhook-Invocation-Id"},
		verify:   verifyZendesk,
		headerID: func(h http.Header) string { return h.Get("X-Zendesk-Webhook-Invocation-Id") },
		parse:    func(in *input) (*parsed, error) { return parseZendesk(cfg, in) },
		stateful: true,
	}
}

type zdTicket struct {
	ID             text     `json:"id"`
	CreatedAt      when     `json:"created_at"`
	UpdatedAt      when     `json:"updated_at"`
	Status         string   `json:"status"`
	Priority       string   `json:"priority"`
	Type           string   `json:"type"`
	Subject        string   `json:"subject"`
	OrganizationID text     `json:"organization_id"`
	RequesterID    text     `json:"requester_id"`
	Tags           zdTags   `json:"tags"`
	Satisfaction   *zdScore `json:"satisfaction_rating"`
}

// zdTags are a list, or the space-separated string a trigger's
// {{ticket.tags}} renders.
type zdTags []string

func (t *zdTags) UnmarshalJSON(b []byte) error {
	var list []string
	if json.Unmarshal(b, &list) == nil {
		*t = list
		return nil
	}
	var s text
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = strings.Fields(string(s))
	return nil
}

type zdScore struct {
	ID          text `json:"id"`
	Score       text `json:"score"`
	TicketID    text `json:"ticket_id"`
	RequesterID text `json:"requester_id"`
	CreatedAt   when `json:"created_at"`
	UpdatedAt   when `json:"updated_at"`
}

type zdBody struct {
	// An event-subscribed webhook.
	Type   string    `json:"type"`
	ID     string    `json:"id"`
	Time   when      `json:"time"`
	Detail *zdTicket `json:"detail"`
	// Candor's triggers.
	Ticket       *zdTicket `json:"ticket"`
	Satisfaction *zdScore  `json:"satisfaction_rating"`
}

func parseZendesk(cfg Zendesk, in *input) (_ *parsed, err error) {
	var p zdBody
	// A refusal keeps the event's id and type where they were read.
	defer func() { err = known(firstOf(in.header.Get("X-Zendesk-Webhook-Invocation-Id"), p.ID), p.Type, err) }()
	if err := decode(in.body, &p); err != nil {
		return nil, err
	}
	id := firstOf(in.header.Get("X-Zendesk-Webhook-Invocation-Id"), p.ID)
	switch {
	case p.Type != "":
		if !strings.HasPrefix(p.Type, "zen:event-type:ticket.") || p.Detail == nil {
			return ignored(id, p.Type, "Zendesk %s events are not mapped", p.Type), nil
		}
		return zendeskTicket(cfg, id, p.Type, p.Detail, p.Time)
	case p.Ticket != nil:
		return zendeskTicket(cfg, id, "ticket", p.Ticket, p.Ticket.UpdatedAt)
	case p.Satisfaction != nil:
		return zendeskRating(id, p.Satisfaction)
	}
	return nil, rejectf("no type, ticket or satisfaction_rating: not a Zendesk webhook body Candor reads")
}

func zendeskTicket(cfg Zendesk, id, event string, t *zdTicket, at when) (*parsed, error) {
	// The ticket is an event's detail, or a trigger's ticket.
	where := "detail"
	if event == "ticket" {
		where = "ticket"
	}
	switch {
	case t.ID == "":
		return nil, known(id, event, rejectField(where+".id", "missing"))
	case t.CreatedAt.IsZero():
		return nil, known(id, event, rejectField(where+".created_at", "missing"))
	}
	customer := firstOf(string(t.OrganizationID), string(t.RequesterID))
	if cfg.Customer == "requester" {
		customer = string(t.RequesterID)
	}
	status := strings.ToLower(t.Status)
	tk := &domain.Ticket{
		Meta: domain.Meta{ID: string(t.ID)}, CreatedAt: t.CreatedAt.Time, Customer: customer,
		Priority: strings.ToLower(t.Priority), Category: strings.ToLower(t.Type), Text: t.Subject,
		Escalated: slices.Contains(t.Tags, "escalated"),
	}
	solved := status == "solved" || status == "closed"
	resolved := firstTime(at, t.UpdatedAt)
	var rating *domain.Survey
	if sc := t.Satisfaction; sc != nil {
		// Read before anything is written, so that a bad score changes nothing.
		sv, ok, err := zendeskSurvey(sc, tk.ID, where+".satisfaction_rating.score")
		if err != nil {
			return nil, known(id, event, err)
		}
		if ok {
			rating = sv
		}
	}
	build := func(ctx context.Context, st *state) (built, error) {
		// Every body carries the whole ticket, and Zendesk retries a
		// failed delivery later: an update older than the newest applied
		// (the ticket's event clock) is ignored, so a late reopening
		// cannot wipe a newer resolution nor older fields replace newer.
		if why, err := st.newest(ctx, domain.KindTicket, tk.ID, resolved.Time); err != nil || why != "" {
			return built{ignored: why}, err
		}
		if solved {
			// Solved when first seen so: a later update of a solved ticket
			// (closing it, a comment) does not move its resolution.
			var old domain.Ticket
			ok, err := st.get(ctx, domain.KindTicket, tk.ID, &old)
			if err != nil {
				return built{}, err
			}
			tk.ResolvedAt = resolved.Time
			if ok && !old.ResolvedAt.IsZero() {
				tk.ResolvedAt = earliest(old.ResolvedAt, tk.ResolvedAt)
			}
		}
		recs := []domain.Record{tk}
		if rating != nil {
			recs = append(recs, rating)
		}
		return built{records: recs}, nil
	}
	return &parsed{id: id, event: event, build: build}, nil
}

// zendeskSurvey is a rating as a csat survey: good is 5, bad 1 (the share
// of 4 and 5 is CSAT), a number 1–5 as given; offered or unoffered (or
// none) is no answer (ok false). Any other score is refused, naming field:
// it had been ignored as "no answer", a customer's response dropped with
// a 200 that Zendesk does not retry and nobody reads.
func zendeskSurvey(s *zdScore, ticket, field string) (sv *domain.Survey, ok bool, err error) {
	var score float64
	switch v := strings.ToLower(strings.TrimSpace(string(s.Score))); v {
	case "good":
		score = 5
	case "bad":
		score = 1
	case "offered", "unoffered", "":
		return nil, false, nil
	default:
		n, perr := strconv.ParseFloat(v, 64)
		if perr != nil || n < 1 || n > 5 {
			return nil, false, rejectField(field, "%q is not a rating: want good, bad, offered, unoffered or a number 1–5", string(s.Score))
		}
		score = n
	}
	// One current rating per ticket: a changed rating replaces it.
	return &domain.Survey{Meta: domain.Meta{ID: firstOf(string(s.ID), string(s.TicketID), ticket)}, At: firstTime(s.UpdatedAt, s.CreatedAt).Time,
		Type: "csat", Score: score}, true, nil
}

func zendeskRating(id string, s *zdScore) (*parsed, error) {
	event := "satisfaction_rating." + strings.ToLower(string(s.Score))
	sv, ok, err := zendeskSurvey(s, "", "satisfaction_rating.score")
	switch {
	case err != nil:
		return nil, known(id, event, err)
	case !ok:
		return ignored(id, event, "a rating %q is no answer", s.Score), nil
	case sv.ID == "":
		return nil, known(id, event, rejectField("satisfaction_rating", "no id or ticket_id"))
	case sv.At.IsZero():
		return nil, known(id, event, rejectField("satisfaction_rating.updated_at", "missing"))
	}
	return mapped(id, event, sv), nil
}
