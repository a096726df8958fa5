package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/metrics"
)

// maxGateBody bounds a gate check's request body.
const maxGateBody = 64 << 10

// postGateEvaluate decides whether a release may go, records the decision
// in the ledger and answers it (200 whatever the decision: the decision is
// the answer, not an error).
func (s *Server) postGateEvaluate(w http.ResponseWriter, r *http.Request) {
	var q gate.Request
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxGateBody), &q, "service, environment, version, change_request and facts",
		`{"service": "checkout", "environment": "production", "version": "1.4.2", "facts": {"coverage": 0.91, "risk_score": 35}}`,
		func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	var res gate.Result
	// One evaluation, one set of policies, whatever is approved meanwhile.
	policies := s.Gates.Get()
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		res, err = gate.Evaluate(policies, s.Catalog, ds, ds.Seq(), q, s.Now())
		return err
	})
	if err == nil {
		p := auth.PrincipalFrom(r.Context())
		res, err = gate.Record(r.Context(), s.Store, res, auth.ActorOf(p, auth.Client{}).Name, auth.Person(p))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.gateView(r, res))
}

// postRetroValidation serves POST /api/v1/gates/retro-validations with
// {"deployment": "source/id" (or an id unique across sources), "note":
// …}: 201 with the retro-validation recorded for the principal; 404 when
// no emergency deployment has that name, 409 when it was retro-validated.
func (s *Server) postRetroValidation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Deployment string `json:"deployment"`
		Note       string `json:"note"`
	}
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxGateBody), &in, "deployment and note",
		`{"deployment": "github/deploy-4711", "note": "reviewed in INC-42's post-incident review"}`, func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(in.Deployment) == "" {
		s.writeError(w, r, domain.InvalidParam("deployment", "required: the emergency deployment's source/id, or an id unique across sources"))
		return
	}
	policies := s.Gates.Get()
	who := auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name
	var v gate.RetroValidation
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		v, err = gate.PrepareRetro(policies, ds, strings.TrimSpace(in.Deployment), in.Note, who, s.Now())
		return err
	})
	if err == nil {
		v, err = gate.RecordRetro(r.Context(), s.Store, v)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// gateView hides the values of KPIs the caller may not see (a CI token
// reads no numbers); their status stays, since the decision rests on it.
func (s *Server) gateView(r *http.Request, res gate.Result) gate.Result {
	acc := s.access(r)
	kpis := make([]gate.KPI, len(res.KPIs))
	for i, k := range res.KPIs {
		if m, ok := s.Catalog.Metric(k.ID); !ok || !acc.CanSeeMetric(m) {
			k.Hidden = k.Hidden || k.Value != nil
			k.Value = nil
		}
		kpis[i] = k
	}
	res.KPIs = kpis
	return res
}

// listGateDecisions lists the recorded gate decisions, newest first; of
// one service with ?service=.
func (s *Server) listGateDecisions(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", defaultListLimit, 1, maxListLimit)
	var before int64
	if v := r.URL.Query().Get("before"); err == nil && v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			err = badParam("before", "%q is not a gate decision id (the next of a page)", v)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, next, err := gate.DecisionPage(r.Context(), s.Store, r.URL.Query().Get("service"), before, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range ds {
		ds[i] = s.gateView(r, ds[i])
	}
	page := map[string]any{"decisions": ds, "limit": limit}
	if next != 0 {
		page["next"] = next
	}
	writeJSON(w, http.StatusOK, page)
}

// canReadDecisions: the pipeline that asked (gates:check) polls a
// decision; people who read records see them too.
func canReadDecisions(a interface{ Can(auth.Permission) bool }) bool {
	return a.Can(auth.GatesCheck) || a.Can(auth.RecordsRead)
}

// gateDecision reads the decision named by the path's id.
func (s *Server) gateDecision(r *http.Request) (gate.Result, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return gate.Result{}, domain.InvalidParam("id", "%q is not a gate decision id", r.PathValue("id"))
	}
	return gate.Decision(r.Context(), s.Store, id)
}

// getGateDecision serves GET /api/v1/gates/decisions/{id}: the decision
// with its state (pending, approved, rejected; or allow, deny), which a
// pipeline polls while an approver decides.
func (s *Server) getGateDecision(w http.ResponseWriter, r *http.Request) {
	if !canReadDecisions(s.access(r)) {
		s.writeError(w, r, domain.Errorf(domain.EForbidden, "reading a gate decision needs gates:check or records:read"))
		return
	}
	d, err := s.gateDecision(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.gateView(r, d))
}

func (s *Server) approveGate(w http.ResponseWriter, r *http.Request) { s.settleGate(w, r, true) }
func (s *Server) rejectGate(w http.ResponseWriter, r *http.Request)  { s.settleGate(w, r, false) }

// settleGate serves POST /api/v1/gates/decisions/{id}/approve and /reject
// with {"reason": …}: 200 with the decision as settled.
func (s *Server) settleGate(w http.ResponseWriter, r *http.Request, approve bool) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxGateBody), &in, "reason", `{"reason": "…"}`, func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.settle(r, approve, in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.gateView(r, d))
}

// settle records the principal's approval or rejection of the decision
// the path names and returns the decision as it now stands.
func (s *Server) settle(r *http.Request, approve bool, reason string) (gate.Result, error) {
	d, err := s.gateDecision(r)
	if err != nil {
		return d, err
	}
	p := auth.PrincipalFrom(r.Context())
	by, err := auth.Decider(p)
	if err != nil {
		return d, err
	}
	if _, err := gate.Settle(r.Context(), s.Store, d.ID, approve, gate.Approver{Person: by, Roles: p.Roles}, reason, s.Now()); err != nil {
		return d, err
	}
	return gate.Decision(r.Context(), s.Store, d.ID)
}
