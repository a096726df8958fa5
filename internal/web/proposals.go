package web

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/scorecard"
)

// Definition changes (SPEC §5) through the API: a proposal, approvals and
// rejections, each with a reason, and a metric's version history. The
// rules are internal/governance's; the route table says who may call.

// maxProposalBody bounds a proposal's or a decision's request body.
const maxProposalBody = 64 << 10

// governance is the server's registry, or an error saying there is none.
func (s *Server) governance() (*governance.Registry, error) {
	if s.Governance == nil {
		return nil, domain.Errorf(domain.ENotImplemented, "definition governance is not set up on this server")
	}
	return s.Governance, nil
}

// settingSource has a metric's page name what put each setting the
// metric reads in force (a proposal and its approval, the configuration),
// beside the default its formula states. Read before the engine's read
// (scorecard.SettingSource.Name says why); unchanged, the state costs two
// small reads of the document log.
// The same state names the proposal that put an organisation's metric's
// computation in force.
func (s *Server) settingSource(ctx context.Context) (sources, error) {
	if s.Governance == nil {
		return sources{}, nil
	}
	st, err := s.Governance.State(ctx)
	if err != nil {
		return sources{}, err
	}
	return sources{st.SettingSource, st.CustomMetricsProposal}, nil
}

// sources are what put a metric's settings and computation in force.
type sources struct {
	settings    scorecard.SettingSource
	computation scorecard.ComputationSource
}

// Name names them in def, as in force at at.
func (src sources) Name(def *scorecard.Definition, at time.Time) {
	src.settings.Name(def.Settings, at)
	src.computation.Name(def.Computation)
}

// proposalID reads the {id} of a proposal route.
func proposalID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		// A 400, as a silence's, share link's or gate decision's id that
		// is no id; a 404 is for an id no proposal has.
		return 0, badParam("id", "%q is not a proposal id", r.PathValue("id"))
	}
	return id, nil
}

// canSeeProposal: a metric's proposal is seen by whoever may see the
// metric; a section's by whoever may see every metric its text defines or
// names (sectionHides); a setting's by every reader of metrics.
func (s *Server) canSeeProposal(access auth.Access, v *governance.View) error {
	if v.Section != "" {
		if id := s.sectionHides(access, v.Value); id != "" {
			return domain.Errorf(domain.EForbidden, "proposal %d changes section %s, which concerns metric %s: your roles may not see it", v.ID, v.Section, id)
		}
		return nil
	}
	if v.Metric == "" {
		return nil
	}
	return s.canSeeMetric(access, v.Metric)
}

// postProposal serves POST /api/v1/proposals: 201 with the proposal.
func (s *Server) postProposal(w http.ResponseWriter, r *http.Request) {
	g, err := s.governance()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in governance.Input
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxProposalBody), &in, "metric and changes, or setting and value, and reason",
		`{"metric": "change_failure_rate", "changes": {"thresholds": {"green": 3, "amber": 10}}, "reason": "…"}`, func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Metric != "" {
		access := s.access(r)
		err := s.canSeeMetric(access, in.Metric)
		if _, ok := s.Catalog.Metric(in.Metric); !ok {
			// The body's fault, as a reconciliation's unknown metric.
			err = s.unknownMetric(access, "metric", in.Metric)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	v, err := g.Propose(r.Context(), in, auth.Person(auth.PrincipalFrom(r.Context())))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// listProposals serves GET /api/v1/proposals: newest first, those the
// principal may see.
func (s *Server) listProposals(w http.ResponseWriter, r *http.Request) {
	g, err := s.governance()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := g.List(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access := s.access(r)
	out := []governance.View{}
	for i := range list {
		if s.canSeeProposal(access, &list[i]) == nil {
			out = append(out, list[i])
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"proposals": out})
}

// getProposal serves GET /api/v1/proposals/{id}.
func (s *Server) getProposal(w http.ResponseWriter, r *http.Request) {
	v, err := s.proposal(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// proposal is the {id} of the route, if the principal may see it.
func (s *Server) proposal(r *http.Request) (*governance.View, error) {
	g, err := s.governance()
	if err != nil {
		return nil, err
	}
	id, err := proposalID(r)
	if err != nil {
		return nil, err
	}
	v, err := g.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if err := s.canSeeProposal(s.access(r), v); err != nil {
		return nil, err
	}
	return v, nil
}

// decisionBody is an approval's or a rejection's body.
type decisionBody struct {
	Reason string `json:"reason"`
}

func (s *Server) approveProposal(w http.ResponseWriter, r *http.Request) {
	s.decideProposal(w, r, governance.Approve)
}

func (s *Server) rejectProposal(w http.ResponseWriter, r *http.Request) {
	s.decideProposal(w, r, governance.Reject)
}

// decideProposal serves POST /api/v1/proposals/{id}/approve and /reject:
// 200 with the proposal as it stands after the decision.
func (s *Server) decideProposal(w http.ResponseWriter, r *http.Request, decision string) {
	v, err := s.proposal(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in decisionBody
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxProposalBody), &in, "reason", `{"reason": "…"}`, func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.decide(r, v.ID, decision, in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// decide records the principal's decision on proposal id: only an
// executive decides (governance.CheckDecider), never on their own proposal.
func (s *Server) decide(r *http.Request, id int64, decision, reason string) (*governance.View, error) {
	p := auth.PrincipalFrom(r.Context())
	if err := governance.CheckDecider(p.Roles); err != nil {
		return nil, err
	}
	by, err := auth.Decider(p)
	if err != nil {
		return nil, err
	}
	return s.Governance.Decide(r.Context(), id, decision, reason, by)
}

// metricHistory serves GET /api/v1/metrics/{id}/history: the metric's
// definition versions and its proposals.
func (s *Server) metricHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	access := s.access(r)
	seeErr := s.canSeeMetric(access, id)
	if seeErr != nil && domain.CodeOf(seeErr) != domain.ENotFound {
		s.writeError(w, r, seeErr)
		return
	}
	g, err := s.governance()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if seeErr != nil {
		// An organisation's metric a custom_metrics value dropped keeps its
		// history (governance.Registry.HistoryIn): read within the grants
		// its section's values are, as it is no longer in the catalog to
		// ask.
		sh, err := g.SectionHistory(r.Context(), "custom_metrics")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, v := range sh.Versions {
			if hidden := s.sectionHides(access, v.Value); hidden != "" {
				s.writeError(w, r, domain.Errorf(domain.EForbidden, "the history of %s is in values of section custom_metrics concerning metric %s, which your roles may not see", id, hidden))
				return
			}
		}
	}
	h, err := g.MetricHistory(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// sectionHistory serves GET /api/v1/sections/{name}/history: a governed
// configuration section's values (alert rules, gate policies, custom
// views) and its proposals.
func (s *Server) sectionHistory(w http.ResponseWriter, r *http.Request) {
	g, err := s.governance()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h, err := g.SectionHistory(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access := s.access(r)
	for i := range h.Versions {
		v := &h.Versions[i]
		if id := s.sectionHides(access, v.Value); id != "" {
			v.Value, v.Source = nil, ""
			v.Withheld = "this version concerns metric " + id + ", which your roles may not see"
		}
	}
	h.Proposals = slices.DeleteFunc(h.Proposals, func(v governance.View) bool { return s.canSeeProposal(access, &v) != nil })
	writeJSON(w, http.StatusOK, h)
}

// sectionHides names a metric that a governed section's value (JSON)
// defines or names and the access may not see, "" when there is none. A
// section's text holds numbers of the metrics it concerns — an alert
// rule's threshold on MRR, a revenue metric's thresholds among the
// organisation's own metrics — which must not reach a reader the metric's
// own page refuses. Read are the organisation's metrics (an entry with an
// id and a pillar: the catalog's metric, or one proposed, judged by its
// pillar and sensitivity) and every "metric", "metrics" and "kpis" naming
// catalog metrics, at any depth.
func (s *Server) sectionHides(access auth.Access, value json.RawMessage) string {
	if len(value) == 0 {
		return ""
	}
	var doc any
	if json.Unmarshal(value, &doc) != nil {
		// Not JSON: nothing can say what it concerns, so it is not shown
		// to a reader who may not see every metric.
		for i := range s.Catalog.Metrics {
			if m := &s.Catalog.Metrics[i]; !access.CanSeeMetric(m) {
				return m.ID
			}
		}
		return ""
	}
	hidden := ""
	see := func(id string) {
		if hidden != "" || id == "" || id == "*" {
			return
		}
		if m, ok := s.Catalog.Metric(id); ok && !access.CanSeeMetric(m) {
			hidden = id
		}
	}
	var walk func(v any)
	walk = func(v any) {
		if hidden != "" {
			return // one metric is enough to withhold the text
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if id, ok := x["id"].(string); ok {
				if pillar, ok := x["pillar"].(string); ok {
					m, known := s.Catalog.Metric(id)
					if !known {
						sens, _ := x["sensitivity"].(string)
						m = &catalog.Metric{ID: id, Pillar: pillar, Sensitivity: s.Catalog.SensitivityIn(pillar, sens)}
					}
					if hidden == "" && !access.CanSeeMetric(m) {
						hidden = id
					}
				}
			}
			// In key order, so that the metric named is the same at
			// every read of the same text.
			for _, k := range slices.Sorted(maps.Keys(x)) {
				e := x[k]
				switch k {
				case "metric":
					if id, ok := e.(string); ok {
						see(id)
					}
				case "metrics", "kpis":
					if ids, ok := e.([]any); ok {
						for _, id := range ids {
							if id, ok := id.(string); ok {
								see(id)
							}
						}
					}
				}
				walk(e)
			}
		}
	}
	walk(doc)
	return hidden
}
