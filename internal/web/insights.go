package web

import (
	"net/http"

	"github.com/candor/candor/internal/insight"
	"github.com/candor/candor/internal/metrics"
)

// insightsReport computes the insights the reader may see, as of the
// request's as_of; window replaces every analysis's own.
func (s *Server) insightsReport(r *http.Request) (Query, insight.Report, Choices, error) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		return q, insight.Report{}, Choices{}, err
	}
	var rep insight.Report
	var ch Choices
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		ch = s.choices.choices(ds, ds.Seq())
		rep = insight.Compute(s.Catalog, ds, s.impactSettings(), insight.Options{AsOf: opt.AsOf, Window: opt.Window, Visible: s.access(r).CanSeeMetric})
		return nil
	})
	return q, rep, ch, err
}

// getInsights serves the improvement insights (SPEC §7).
func (s *Server) getInsights(w http.ResponseWriter, r *http.Request) {
	_, rep, _, err := s.insightsReport(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// insightsPage shows the insights, each with its numbers, test and action.
func (s *Server) insightsPage(w http.ResponseWriter, r *http.Request) {
	q, rep, ch, err := s.insightsReport(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	pg := s.newPage(r, "Insights", q, rep)
	pg.Controls, pg.NoFilters, pg.Choices, pg.AsOf = true, true, ch, rep.AsOf
	s.render(w, r, http.StatusOK, "insights", pg)
}
