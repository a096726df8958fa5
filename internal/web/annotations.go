package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// Business-cycle annotations (a freeze, a peak season, a quarter end, a launch): configured
// ones (Server.Annotations) and those posted here, one list (annotation.List) that every trend
// chart shades and names in its legend and that the degrading flag reads (scorecard.Options).
// Writing one needs metric:acknowledge: it is context on the metrics, as an acknowledgement is,
// and the roles that acknowledge are those that own the numbers.

// maxAnnotationBody bounds an annotation request's body.
const maxAnnotationBody = 8 << 10

// inForce returns the annotations in force, configured and posted, as the common type.
func (s *Server) inForce(r *http.Request) ([]catalog.Annotation, error) {
	es, err := annotation.List(r.Context(), s.Store, s.Annotations)
	if err != nil {
		return nil, err
	}
	return annotation.Annotations(es), nil
}

// postAnnotation records an annotation: 201 with it.
func (s *Server) postAnnotation(w http.ResponseWriter, r *http.Request) {
	var in catalog.Annotation
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxAnnotationBody), &in, "name, kind, from, to and scope",
		`{"name": "Black Friday", "kind": "peak_season", "from": "2026-11-27", "to": "2026-11-30", "scope": "team:checkout"}`,
		func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	// The scope names dimensions and values the data has, checked under the read lock for the
	// poster, as the scorecard API's scope is (checkReaderScope): it is no way to learn the
	// customers or plans the poster's metrics do not show.
	check := func(scope string) error {
		if err := s.checkReaderScopeText(r.Context(), s.access(r), scope); err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "scope: ")) // annotation.Add names scope
		}
		return nil
	}
	by := auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name
	e, err := annotation.Add(r.Context(), s.Store, in, by, s.Now(), check)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

// listAnnotations lists the annotations in force, configured and posted, that overlap
// [from, to] (dates, both optional and inclusive).
func (s *Server) listAnnotations(w http.ResponseWriter, r *http.Request) {
	from, to := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []struct {
		name string
		dst  *time.Time
		add  int
	}{{"from", &from, 0}, {"to", &to, 1}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			s.writeError(w, r, badParam(p.name, "%q is not a date (YYYY-MM-DD)", v))
			return
		}
		*p.dst = t.AddDate(0, 0, p.add)
	}
	if !from.Before(to) {
		q := r.URL.Query()
		s.writeError(w, r, badParam("to", "%s is before from (%s)", q.Get("to"), q.Get("from")))
		return
	}
	es, err := annotation.Overlapping(r.Context(), s.Store, s.Annotations, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if es == nil {
		es = []annotation.Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"annotations": es})
}

// withdrawAnnotation withdraws an annotation posted over the API.
func (s *Server) withdrawAnnotation(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.writeError(w, r, badParam("id", "%q is not an annotation id", r.PathValue("id")))
		return
	}
	by := auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name
	e, err := annotation.Withdraw(r.Context(), s.Store, id, by, s.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// annotationNote is one line of a trend chart's legend.
type annotationNote struct {
	Name, Kind, When, Scope string
}

// trendAnnotations returns, of the annotations that concern the scope, those a trend of the
// points shows: as the chart's shaded periods and as its legend's lines.
func trendAnnotations(anns []catalog.Annotation, scope metrics.Scope, pts []chart.Point) ([]chart.Period, []annotationNote) {
	if len(pts) == 0 {
		return nil, nil
	}
	first, last := pts[0].At, pts[len(pts)-1].At
	var periods []chart.Period
	var notes []annotationNote
	for _, a := range anns {
		from, to := a.Span()
		if !scorecard.AnnotationApplies(a, scope) || from.IsZero() || !from.Before(last) || !first.Before(to) {
			continue
		}
		name := strings.TrimSpace(a.Name)
		periods = append(periods, chart.Period{From: from, To: to, Label: name, Kind: a.Kind})
		when := from.Format("2 Jan 2006")
		if end := to.AddDate(0, 0, -1); !end.Equal(from) {
			when += " to " + end.Format("2 Jan 2006")
		}
		notes = append(notes, annotationNote{Name: name, Kind: idWords(a.Kind), When: when, Scope: a.Scope})
	}
	return periods, notes
}
