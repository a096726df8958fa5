// Package web serves Candor's HTTP API. Handlers are thin: they parse
// parameters, call the scorecard, metrics or ingest packages and write
// JSON; errors map to status codes in one place (writeError).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Server holds what the handlers need.
type Server struct {
	Engine  *engine.Engine
	Catalog *catalog.Catalog
	Store   store.Store
	Parse   domain.ParseOptions
	// MaxBody bounds request bodies (413 beyond it).
	MaxBody int64
	Log     *slog.Logger
	Now     func() time.Time
	// Middleware wraps every route; the web app issue adds authentication
	// here.
	Middleware []func(http.Handler) http.Handler
}

// Handler returns the routed handler.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.MaxBody <= 0 {
		s.MaxBody = 32 << 20
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/v1/scorecard", s.getScorecard)
	mux.HandleFunc("GET /api/v1/metrics", s.listMetrics)
	mux.HandleFunc("GET /api/v1/metrics/{id}", s.getMetric)
	mux.HandleFunc("POST /api/v1/records", s.postRecords)
	var h http.Handler = mux
	for i := len(s.Middleware) - 1; i >= 0; i-- {
		h = s.Middleware[i](h)
	}
	return s.logRequests(h)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		s.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// apiError is an error with an HTTP status and optional details.
type apiError struct {
	Status  int       `json:"-"`
	Message string    `json:"error"`
	Param   string    `json:"param,omitempty"`
	Errors  []lineErr `json:"errors,omitempty"`
}

type lineErr struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func (e *apiError) Error() string { return e.Message }

func badParam(name, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Param: name, Message: name + ": " + fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeError maps errors to responses; internal errors are logged and
// hidden from the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.Status, ae)
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeJSON(w, http.StatusRequestEntityTooLarge, &apiError{Message: fmt.Sprintf("request body larger than %d bytes; split the records into several requests", mbe.Limit)})
		return
	}
	var inv *ingest.InvalidError
	if errors.As(err, &inv) {
		out := &apiError{Message: fmt.Sprintf("%d invalid record(s); nothing was stored", inv.Count)}
		for _, l := range inv.Lines {
			out.Errors = append(out.Errors, lineErr{Line: l.Line, Field: l.Field, Reason: l.Reason})
		}
		if len(out.Errors) > 0 {
			l := out.Errors[0]
			out.Message += fmt.Sprintf(": line %d", l.Line)
			if l.Field != "" {
				out.Message += " field " + l.Field
			}
			out.Message += ": " + l.Reason
		}
		writeJSON(w, http.StatusBadRequest, out)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.Log.Error("request failed", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, &apiError{Message: "internal error; see the server log"})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Store.LastSeq(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "seq": s.Engine.Seq()})
}

// ParseTime accepts RFC 3339 or a date (midnight UTC).
func ParseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2026-03-01T00:00:00Z) or a date (2026-03-01)", v)
}

func (s *Server) options(r *http.Request) (scorecard.Options, error) {
	q := r.URL.Query()
	opt := scorecard.Options{AsOf: s.Now().UTC()}
	if v := q.Get("as_of"); v != "" {
		t, err := ParseTime(v)
		if err != nil {
			return opt, badParam("as_of", "%v", err)
		}
		opt.AsOf = t
	}
	if v := q.Get("window"); v != "" {
		d, err := catalog.ParseWindow(v)
		if err != nil {
			return opt, badParam("window", "%v", err)
		}
		opt.Window = d
	}
	return opt, nil
}

func (s *Server) getScorecard(w http.ResponseWriter, r *http.Request) {
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var sc *scorecard.Scorecard
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		sc = scorecard.Build(s.Catalog, ds, opt)
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

func (s *Server) listMetrics(w http.ResponseWriter, r *http.Request) {
	var out []map[string]any
	for _, m := range s.Catalog.Metrics {
		out = append(out, map[string]any{"id": m.ID, "name": m.Name, "pillar": m.Pillar, "unit": m.Unit, "owner": m.Owner,
			"computed": metrics.Known(m.ID), "breakdowns": metrics.Dims(m.ID)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"metrics": out})
}

func (s *Server) getMetric(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, ok := s.Catalog.Metric(id); !ok {
		writeJSON(w, http.StatusNotFound, &apiError{Message: fmt.Sprintf("unknown metric %q; GET /api/v1/metrics lists them", id)})
		return
	}
	by := r.URL.Query().Get("by")
	var scope metrics.Scope
	if v := r.URL.Query().Get("scope"); v != "" {
		dim, val, ok := strings.Cut(v, ":")
		if !ok || dim == "" || val == "" {
			s.writeError(w, r, badParam("scope", "%q must be DIMENSION:VALUE, e.g. team:payments", v))
			return
		}
		scope = metrics.Scope{Dim: dim, Value: val}
	}
	var d *scorecard.MetricDetail
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var derr error
		d, derr = scorecard.Detail(s.Catalog, ds, id, opt, by, scope)
		if derr != nil {
			param := "by"
			if by == "" {
				param = "scope"
			}
			return &apiError{Status: http.StatusBadRequest, Param: param, Message: derr.Error()}
		}
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) postRecords(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.MaxBody)
	opt := ingest.Options{Parse: s.Parse, SkipInvalid: r.URL.Query().Get("skip_invalid") == "true"}
	if k := r.URL.Query().Get("kind"); k != "" {
		kind, err := domain.ParseKind(k)
		if err != nil {
			s.writeError(w, r, badParam("kind", "%v", err))
			return
		}
		opt.Kind = kind
	}
	format := "ndjson"
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/csv") {
		format = "csv"
	}
	sum, err := ingest.Import(r.Context(), s.Store, []ingest.Source{{Name: "body", Reader: body, Format: format}}, opt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"records": sum.Records, "inserted": sum.Inserted, "replaced": sum.Replaced, "unchanged": sum.Unchanged, "by_kind": sum.ByKind}
	if sum.Invalid > 0 {
		var skipped []lineErr
		for _, l := range sum.Skipped {
			skipped = append(skipped, lineErr{Line: l.Line, Field: l.Field, Reason: l.Reason})
		}
		out["invalid"] = sum.Invalid
		out["skipped"] = skipped
	}
	writeJSON(w, http.StatusOK, out)
}
