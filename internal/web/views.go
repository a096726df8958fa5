package web

import (
	"errors"
	"fmt"
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

func (s *Server) listViews(w http.ResponseWriter, r *http.Request) {
	out := []viewSummary{}
	for _, v := range s.Catalog.Views {
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
		writeJSON(w, http.StatusNotFound, &apiError{Message: fmt.Sprintf("unknown role view %q (known: %s); GET /api/v1/views lists them",
			role, strings.Join(scorecard.ViewIDs(s.Catalog), ", "))})
		return
	}
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var v *scorecard.ViewResult
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var verr error
		v, verr = scorecard.View(s.Catalog, ds, role, opt)
		var ue *scorecard.UnknownViewError
		if errors.As(verr, &ue) {
			return &apiError{Status: http.StatusNotFound, Message: verr.Error()}
		}
		return verr
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
