package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/candor/candor/internal/adoption"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// noteOpen counts a signed-in principal's GET of a route (the route, not
// the URL: no content), with the metric or role view it shows when the
// path names one that exists.
func (s *Server) noteOpen(r *http.Request, rt Route, p auth.Principal) {
	if s.Adoption == nil || r.Method != http.MethodGet {
		return
	}
	var subject string
	switch {
	case strings.Contains(rt.Pattern, "/metrics/{id}"):
		if m, ok := s.Catalog.Metric(r.PathValue("id")); ok {
			subject = adoption.MetricSubject(m.ID)
		}
	case strings.Contains(rt.Pattern, "/views/{role}"):
		if v, ok := s.Catalog.View(r.PathValue("role")); ok {
			subject = adoption.ViewSubject(v.ID)
		}
	}
	s.Adoption.Open(s.Now(), auth.Person(p), rt.Method+" "+rt.Pattern, subject)
}

// review is the quarterly adoption review as of the request's as_of, of
// the metrics and views the principal may see.
func (s *Server) review(r *http.Request) (*adoption.Review, error) {
	opt, err := s.options(r)
	if err != nil {
		return nil, err
	}
	kept, err := adoption.ReadKept(r.Context(), s.Store, opt.AsOf)
	if err != nil {
		return nil, err
	}
	var rv *adoption.Review
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		rv = adoption.Build(s.Catalog, ds, kept, opt.AsOf, s.access(r).CanSeeMetric)
		return nil
	})
	return rv, err
}

// flushOpens adds what was opened up to now to the store, so that it
// counts in what the request reads.
func (s *Server) flushOpens(r *http.Request) error {
	if s.Adoption == nil {
		return nil
	}
	return s.Adoption.Flush(r.Context())
}

// getAdoption serves GET /api/v1/adoption?from=&to=: the counts of the
// weeks holding from and to (default: the quarter up to now).
func (s *Server) getAdoption(w http.ResponseWriter, r *http.Request) {
	var t [2]time.Time
	var err error
	// Each bound as an as_of is: a time or a date, not more than a day
	// past the clock nor before 1970 — a future from had been blamed on
	// to ("to (today) is before from"), one of 1960 answered.
	for i, name := range []string{"from", "to"} {
		if v := r.URL.Query().Get(name); v != "" && err == nil {
			if t[i], err = ParseTime(v); err == nil {
				err = CheckAsOf(t[i], s.Now())
			}
			if err != nil {
				err = domain.InvalidParam(name, "%v", err)
			}
		}
	}
	var from, to string
	if err == nil {
		if from, to, err = adoption.Span(t[0], t[1], s.Now()); err != nil {
			err = domain.InvalidParam("to", "%v", err)
		}
	}
	if err == nil {
		err = s.flushOpens(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := adoption.LoadCounts(r.Context(), s.Store, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// getReview serves GET /api/v1/adoption/review.
func (s *Server) getReview(w http.ResponseWriter, r *http.Request) {
	if err := s.flushOpens(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	rv, err := s.review(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rv)
}
