package web

import (
	"net/http"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
)

// maxAckBody bounds an acknowledgement's request body.
const maxAckBody = 64 << 10

// postAcknowledgement records an action on an amber, red, unknown or
// degrading metric the principal may see: 201 with it; 409 when the metric
// is green and not degrading.
func (s *Server) postAcknowledgement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.canSeeMetric(s.access(r), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in escalation.Input
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxAckBody), &in, "owner, note, due and scope",
		`{"owner": "Head of SRE", "note": "Runbook fix rolled out", "due": "2026-04-15"}`, func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.acknowledge(r, id, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// acknowledge records the request's principal's action on metric id, as
// the metric stands now, and returns it.
func (s *Server) acknowledge(r *http.Request, id string, in escalation.Input) (escalation.Acknowledgement, error) {
	by := auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name
	var a escalation.Acknowledgement
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		a, err = escalation.Prepare(s.Catalog, ds, id, in, by, s.Now())
		return err
	})
	if err != nil {
		return a, err
	}
	a, err = escalation.Record(r.Context(), s.Store, a)
	if err == nil {
		// The page the recorder is sent back to shows it, whatever the
		// order other appends commit in (the cache's newest-row check).
		s.acks.Forget()
	}
	if err == nil && s.Alerts != nil {
		// The metric's escalation alert ends with the action, not a day
		// later; the action stands whatever the alerts' store answers.
		if aerr := s.Alerts.ActionRecorded(r.Context(), a.Metric, a.Scope, by); aerr != nil {
			s.logger(r).Warn("resolving escalation alerts after an action", "metric", a.Metric, "err", aerr)
		}
	}
	return a, err
}

// listAcknowledgements is a metric's acknowledgements, newest first.
func (s *Server) listAcknowledgements(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.canSeeMetric(s.access(r), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	acks, err := s.acks.List(r.Context(), s.Store, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"metric": id, "acknowledgements": acks})
}

// getEscalations lists what escalates, among the metrics the principal
// may see, as of as_of (default now), for the organisation or a scope.
func (s *Server) getEscalations(w http.ResponseWriter, r *http.Request) {
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var scope metrics.Scope
	if v := r.URL.Query().Get("scope"); v != "" {
		if scope, err = metrics.ParseScope(v); err != nil {
			s.writeError(w, r, badParam("scope", "%v", err))
			return
		}
	}
	es, err := s.escalations(r, escalation.Options{AsOf: opt.AsOf, Scope: scope, Annotations: opt.Annotations, AcksBy: s.acksBy(r, opt.AsOf)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": opt.AsOf, "escalations": es})
}

// escalations computes the escalations the request's principal may see.
func (s *Server) escalations(r *http.Request, opt escalation.Options) ([]escalation.Escalation, error) {
	acks, err := s.acks.List(r.Context(), s.Store, "")
	if err != nil {
		return nil, err
	}
	return s.escalationsWith(r, acks, opt)
}

// escalationsWith is escalations with the acknowledgements read already
// (escalation.List).
func (s *Server) escalationsWith(r *http.Request, acks []escalation.Acknowledgement, opt escalation.Options) ([]escalation.Escalation, error) {
	opt.Visible = s.access(r).CanSeeMetric
	es := []escalation.Escalation{}
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// The pages' filters were checked already, by their names; the
		// API's scope came as one parameter, checked for the reader as the
		// scorecard API's is (checkReaderScope).
		if err := s.checkReaderScope(ds, s.access(r), opt.AsOf, opt.Scope, "scope"); err != nil {
			return err
		}
		es = append(es, escalation.Escalations(s.Catalog, ds, acks, opt)...)
		return nil
	})
	return es, err
}

// escalationPanel is the scorecard page's escalations panel: the first few
// in view, the rest one click away.
type escalationPanel struct {
	Total       int
	Shown, More []escalationRow
	// Uncovered: the data does not cover the week an escalation needs
	// (escalation.Covered); DataFrom is when it begins (zero: no data).
	Uncovered bool
	DataFrom  time.Time
}

// escalationRow is an escalation with the link to its metric's page,
// where its records and history are.
type escalationRow struct {
	escalation.Escalation
	Href string
}

// panelShown is how many escalations the panel lists before "more".
const panelShown = 5

// newEscalationPanel lists es, each linked to href(its metric).
func newEscalationPanel(es []escalation.Escalation, href func(metric string) string) escalationPanel {
	rows := make([]escalationRow, len(es))
	for i, e := range es {
		rows[i] = escalationRow{Escalation: e, Href: href(e.Metric)}
	}
	p := escalationPanel{Total: len(es), Shown: rows}
	if len(rows) > panelShown {
		p.Shown, p.More = rows[:panelShown], rows[panelShown:]
	}
	return p
}
