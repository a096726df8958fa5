package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// maxAlertBody bounds an acknowledgement's or a silence's body.
const maxAlertBody = 16 << 10

func (s *Server) alerts() (*alert.Service, error) {
	if s.Alerts == nil {
		return nil, domain.Errorf(domain.ENotImplemented, "alerts are not set up on this server")
	}
	return s.Alerts, nil
}

// getAlerts lists the alerts on the metrics the principal may see (and the
// ones about no metric, quarantined rows): firing, pending, resolved.
func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request) {
	svc, err := s.alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, _, err := svc.Shown(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access := s.access(r)
	out := []alert.Alert{}
	for _, a := range list {
		if a.Metric == "" || s.canSeeMetric(access, a.Metric) == nil {
			out = append(out, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

// ackAlert acknowledges an alert on a metric the principal may see.
func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) {
	svc, err := s.alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Key  string `json:"key"`
		Note string `json:"note"`
	}
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxAlertBody), &in, "key and note", `{"key": "metric_red|change_failure_rate|", "note": "rollback under way"}`,
		func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.ackVisible(r, svc, in.Key, in.Note); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": in.Key})
}

// postSilence silences alerts for a time; the author is the principal.
func (s *Server) postSilence(w http.ResponseWriter, r *http.Request) {
	svc, err := s.alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Rule   string `json:"rule"`
		Metric string `json:"metric"`
		Scope  string `json:"scope"`
		Reason string `json:"reason"`
		For    string `json:"for"`
	}
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxAlertBody), &in, "rule, metric, scope, reason and for",
		`{"rule": "metric_red", "metric": "win_rate", "reason": "quarter close", "for": "2d"}`, func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.maySilence(r.Context(), s.access(r), svc, store.Silence{Rule: in.Rule, Metric: in.Metric, Scope: in.Scope}); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := catalog.ParseWindow(in.For)
	if err != nil {
		s.writeError(w, r, badParam("for", "%v", err))
		return
	}
	x, err := svc.Silence(r.Context(), store.Silence{Rule: in.Rule, Metric: in.Metric, Scope: in.Scope, Reason: in.Reason,
		Author: auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name}, d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, x)
}

// getSilences lists the silences in force whose metrics the principal may
// see: a script ending one had found the ids only in a refusal's text.
func (s *Server) getSilences(w http.ResponseWriter, r *http.Request) {
	svc, err := s.alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := svc.SilencesInForce(r.Context(), s.silencesVisible(s.access(r), svc))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": list})
}

// endSilence ends a silence in force now, before its end: 200 with it.
func (s *Server) endSilence(w http.ResponseWriter, r *http.Request) {
	svc, err := s.alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	x, err := s.unsilenceVisible(r, svc, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// unsilenceVisible ends the silence of the path's id, as the principal,
// when the principal may see its metric: one they may not see is not
// listed to them, and is not found either.
func (s *Server) unsilenceVisible(r *http.Request, svc *alert.Service, idText string) (store.Silence, error) {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return store.Silence{}, badParam("id", "%q is not a silence id", idText)
	}
	return svc.UnsilenceFor(r.Context(), id, auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name, s.silencesVisible(s.access(r), svc))
}

// maySilence refuses a silence the principal could neither see nor end:
// one of a metric they may not see, or one naming no metric that reaches
// such a metric through its rule (the ARR rule) or by matching every
// metric (a rule of every metric, a scope alone). An engineer had
// silenced the ARR rule for 90 days, muting the revenue alerts of the
// people who read them, and could not even see the silence afterwards.
// A silence matching nothing is left to alert.Service.Silence to refuse.
func (s *Server) maySilence(ctx context.Context, access auth.Access, svc *alert.Service, x store.Silence) error {
	// Its scope is checked for the reader as the scorecard API's is
	// (checkReaderScope): a silence was a way to learn the customers and
	// plans an engineer may not see ("known: acme, initech"), and a 201
	// said a customer existed.
	if x.Scope != "" {
		if err := s.checkReaderScopeText(ctx, access, x.Scope); err != nil {
			return err
		}
	}
	if x.Metric != "" {
		return s.canSeeMetric(access, x.Metric)
	}
	if x.Rule == "" && x.Scope == "" || s.silencesVisible(access, svc)(x) {
		return nil
	}
	for _, r := range svc.RulesInForce() {
		if r.Name == x.Rule && r.Metric != "" && r.Metric != "*" {
			return domain.Errorf(domain.EForbidden, "rule %s watches metric %s, which your roles may not see: its alerts are not yours to silence", x.Rule, r.Metric)
		}
	}
	return domain.Errorf(domain.EForbidden, "metric: a silence naming no metric mutes the alerts of every metric it matches, some of which your roles may not see; name the metric to silence")
}

// silencesVisible says whether the principal may see (and end) a
// silence: one that can mute an alert of a metric they may not see is not
// theirs. A silence names its metric, or a rule naming one, or else
// reaches every metric its rule (or every rule) applies to: an engineer
// had ended a silence of the ARR rule, which named no metric of its own.
// What the rules name and whether every metric is visible are found once,
// for all the silences it is asked about.
func (s *Server) silencesVisible(access auth.Access, svc *alert.Service) func(store.Silence) bool {
	ruleMetric := map[string]string{}
	for _, r := range svc.RulesInForce() {
		ruleMetric[r.Name] = r.Metric
	}
	seesAll := sync.OnceValue(func() bool {
		for i := range s.Catalog.Metrics {
			if !access.CanSeeMetric(&s.Catalog.Metrics[i]) {
				return false
			}
		}
		return true
	})
	return func(x store.Silence) bool {
		metric := x.Metric
		if metric == "" && x.Rule != "" {
			metric = ruleMetric[x.Rule]
		}
		if metric != "" && metric != "*" {
			return s.canSeeMetric(access, metric) == nil
		}
		return seesAll()
	}
}
