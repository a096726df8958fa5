package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/candor/candor/internal/escalation"
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
		s.writeError(w, r, notFoundf("unknown role view %q%s; GET /api/v1/views lists them",
			role, scorecard.ViewGuess(role, scorecard.ViewIDs(s.Catalog))))
		return
	}
	q, opt, ps, err := s.apiQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access := s.access(r)
	opt.Visible = access.CanSeeMetric
	acks, err := s.acks.List(r.Context(), s.Store, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var v *scorecard.ViewResult
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		if !opt.Scope.IsZero() || !ps.IsZero() {
			// As the page: a value the data lacks is that mistake, named
			// with the known ones (those the reader's metrics show); a
			// real one does not apply.
			if _, err := s.apiScope(ds, access, opt.AsOf, q, ps); err != nil {
				return err
			}
			return viewNotFiltered(q, r.URL.Query().Get("scope"))
		}
		var verr error
		if v, verr = scorecard.View(s.Catalog, ds, role, opt); verr == nil {
			// The whole organisation's actions, as the page's panels name them.
			escalation.Mark(ds, v.Cards(), acks, "", opt.AsOf, s.acksBy(r, opt.AsOf))
		}
		return verr
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// viewNotFiltered refuses the filters and scope of a role view's API read, which the page takes
// and says do not apply: a role view covers the whole organisation. An answer for the whole
// organisation to a request for one team would be read as the team's; the error says so as the
// page does, and where the filters do apply.
func viewNotFiltered(q Query, scope string) error {
	var named []string
	narrowed := url.Values{}
	for _, f := range q.Filters() {
		named = append(named, fmt.Sprintf("the %s filter %s", idWords(f.Dim), f.Value))
		narrowed.Set(f.Dim, f.Value)
	}
	param := "scope"
	if len(named) > 0 {
		param = q.Filters()[0].Dim
	}
	if scope = strings.TrimSpace(scope); scope != "" {
		named = append(named, "the scope "+scope)
		narrowed.Set("scope", scope)
	}
	verb := "does"
	if len(named) > 1 {
		verb = "do"
	}
	return badParam(param, "role views cover the whole organisation: %s %s not apply here (a view takes as_of, window, month or closing); GET /api/v1/scorecard?%s narrows the scorecard",
		strings.Join(named, ", "), verb, strings.NewReplacer("%3A", ":", "%2C", ",").Replace(encodeOrdered(narrowed)))
}
