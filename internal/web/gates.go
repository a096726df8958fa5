package web

import (
	"net/http"

	"github.com/candor/candor/internal/auth"
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
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		res, err = gate.Evaluate(s.Gates, s.Catalog, ds, q, s.Now())
		return err
	})
	if err == nil {
		res, err = gate.Record(r.Context(), s.Store, res, auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.gateView(r, res))
}

// gateView hides the values of KPIs the caller may not see (a CI token
// reads no numbers); their status stays, since the decision rests on it.
func (s *Server) gateView(r *http.Request, res gate.Result) gate.Result {
	acc := s.access(r)
	kpis := make([]gate.KPI, len(res.KPIs))
	for i, k := range res.KPIs {
		if m, ok := s.Catalog.Metric(k.ID); !ok || !acc.CanSeeMetric(m) {
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
	ds, err := gate.Decisions(r.Context(), s.Store, r.URL.Query().Get("service"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range ds {
		ds[i] = s.gateView(r, ds[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": ds})
}
