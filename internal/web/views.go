package web

import (
	"net/http"
	"strings"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// viewSummary is a role view as listed: its definition, no values.
type viewSummary struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Metrics     []string          `json:"metrics"`
	Breakdowns  map[string]string `json:"breakdowns"`
	Sections    []string          `json:"sections"`
}

// listViews lists the role views the principal may open.
func (s *Server) listViews(w http.ResponseWriter, r *http.Request) {
	access := s.access(r)
	out := []viewSummary{}
	for _, v := range s.Catalog.ViewsInForce() {
		if !access.CanSeeView(v.ID) {
			continue
		}
		b := v.Breakdowns
		if b == nil {
			b = map[string]string{}
		}
		sec := v.Sections
		if sec == nil {
			sec = []string{}
		}
		out = append(out, viewSummary{ID: v.ID, Name: v.Name, Description: v.Description, Metrics: v.Metrics, Breakdowns: b, Sections: sec})
	}
	writeJSON(w, http.StatusOK, map[string]any{"views": out})
}

func (s *Server) getView(w http.ResponseWriter, r *http.Request) {
	role := r.PathValue("role")
	if _, ok := s.Catalog.View(role); !ok {
		s.writeError(w, r, notFoundf("unknown role view %q (known: %s); GET /api/v1/views lists them",
			role, strings.Join(scorecard.ViewIDs(s.Catalog), ", ")))
		return
	}
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opt.Visible = s.access(r).CanSeeMetric
	var v *scorecard.ViewResult
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var verr error
		v, verr = scorecard.View(s.Catalog, ds, role, opt)
		return verr
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
