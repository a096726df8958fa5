package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/reconcile"
)

// reconcileRequest is the body of POST /api/v1/reconciliations. Expected is
// a pointer so a missing figure is told from a figure of 0.
type reconcileRequest struct {
	Metric   string   `json:"metric"`
	Expected *float64 `json:"expected"`
	AsOf     string   `json:"as_of"`
	Window   string   `json:"window"`
	Month    string   `json:"month"`
	Source   string   `json:"source"`
	Note     string   `json:"note"`
}

// Bounds of the reconciliation request.
const (
	maxReconcileBody = 64 << 10
	defaultListLimit = 100
	maxListLimit     = 1000
)

// decodeReconcile reads one JSON object, naming the field at fault.
func decodeReconcile(body io.Reader) (reconcileRequest, error) {
	var req reconcileRequest
	err := decodeObject(body, &req, "metric, expected, as_of, window, month, source and note",
		`{"metric": "arr", "expected": 1200000, "source": "finance"}`, func(f string) bool { return f == "expected" })
	return req, err
}

// decodeObject reads one JSON object into v, naming the field at fault:
// fields lists the fields it takes, example is a body to show, number says
// which fields are numbers (the others are strings).
func decodeObject(body io.Reader, v any, fields, example string, number func(field string) bool) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	var named *domain.Error
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &named) && named.Param != "":
		// A type's own decoding named the field at fault (a gate check's
		// fact given twice).
		return err
	case errors.As(err, &te) && te.Field != "":
		if n, ok := strings.CutPrefix(te.Value, "number "); ok && te.Type != nil && (te.Type.Kind() == reflect.Float64 || te.Type.Kind() == reflect.Float32) {
			// A number a float cannot hold: "1e400 … not a JSON number
			// 1e400" had read as a type mistake. (No body decoded here
			// has an integer field.)
			return badParam(te.Field, "%s is out of range for a number", n)
		}
		return badParam(te.Field, "must be %s, not a JSON %s", jsonWant(te, number), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if uerr != nil || name == "" {
			name = "body"
		}
		return badParam(name, "unknown field (the body takes %s)", fields)
	}
	want := "must be one JSON object such as " + example
	switch {
	case errors.Is(err, io.EOF):
		return badParam("body", "empty; it %s", want)
	case errors.As(err, &te):
		return badParam("body", "%s, not a JSON %s", want, te.Value)
	}
	return badParam("body", "%s: %v", want, err)
}

// jsonWant words the JSON type a field takes (domain.JSONTypeWords);
// number says which string fields are numbers on the page's terms.
func jsonWant(te *json.UnmarshalTypeError, number func(field string) bool) string {
	if number(te.Field) {
		return "a number"
	}
	return domain.JSONTypeWords(te.Type)
}

func (s *Server) postReconciliation(w http.ResponseWriter, r *http.Request) {
	req, err := decodeReconcile(http.MaxBytesReader(w, r.Body, min(s.MaxBody, maxReconcileBody)))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// As every other read without as_of: a result kept agrees with the
	// scorecard read in the same minute.
	asOf := s.defaultAsOf()
	var window time.Duration
	switch {
	case req.Metric == "":
		err = badParam("metric", "required: the id of a catalog metric (GET /api/v1/metrics lists them)")
	case req.Expected == nil:
		err = badParam("expected", "required: the figure the source system reports, as a number")
	case len(req.Source) > reconcile.MaxSourceLen:
		err = badParam("source", "longer than %d bytes", reconcile.MaxSourceLen)
	case len(req.Note) > reconcile.MaxNoteLen:
		err = badParam("note", "longer than %d bytes", reconcile.MaxNoteLen)
	}
	if _, ok := s.Catalog.Metric(req.Metric); err == nil && !ok {
		err = s.unknownMetric(s.access(r), "metric", req.Metric)
	}
	if err == nil {
		// The result holds Candor's value of the metric.
		err = s.canSeeMetric(s.access(r), req.Metric)
	}
	// A month closed is checked as the reads take it (month=, --month): its
	// as_of and window, and refused beside either.
	if err == nil && req.Month != "" {
		var m catalog.Month
		if m, err = s.parseMonth(req.Month, req.AsOf, req.Window); err == nil {
			asOf, window = m.End(), m.Window()
		}
	}
	if err == nil && req.Month == "" && req.AsOf != "" {
		asOf, err = s.parseAsOf(req.AsOf)
	}
	if err == nil && req.Month == "" && req.Window != "" {
		if window, err = catalog.ParseMetricWindow(req.Window); err != nil {
			err = badParam("window", "%v", err)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var res reconcile.Result
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var cerr error
		res, cerr = reconcile.Check(s.Catalog, ds, req.Metric, *req.Expected, asOf, window)
		return cerr
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res.Source, res.Note = req.Source, req.Note
	if res, err = reconcile.Save(r.Context(), s.Store, res); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) listReconciliations(w http.ResponseWriter, r *http.Request) {
	limit := defaultListLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			s.writeError(w, r, badParam("limit", "%q is not a whole number from 1 to %d", v, maxListLimit))
			return
		}
		limit = n
	}
	rs, err := reconcile.List(r.Context(), s.Store, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A page may hold fewer than limit.
	rs = s.visibleReconciliations(s.access(r), rs)
	if rs == nil {
		rs = []reconcile.Result{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reconciliations": rs, "limit": limit})
}

// visibleReconciliations are the results whose metric the access may see:
// each holds Candor's value of its metric.
func (s *Server) visibleReconciliations(access auth.Access, rs []reconcile.Result) []reconcile.Result {
	return slices.DeleteFunc(rs, func(x reconcile.Result) bool {
		m, ok := s.Catalog.Metric(x.Metric)
		return !ok || !access.CanSeeMetric(m)
	})
}
