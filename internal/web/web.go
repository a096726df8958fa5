// Package web serves Candor's HTTP API. Handlers are thin: they parse
// parameters, call the scorecard, metrics, reconcile or ingest packages and
// write JSON; errors map to status codes in one place (writeError).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
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

	// records commits posted records; concurrent requests share
	// transactions (group commit).
	records *ingest.Committer
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
	s.records = ingest.NewCommitter(storeErrors{s.Store})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/v1/scorecard", s.getScorecard)
	mux.HandleFunc("GET /api/v1/metrics", s.listMetrics)
	mux.HandleFunc("GET /api/v1/metrics/{id}", s.getMetric)
	mux.HandleFunc("POST /api/v1/records", s.postRecords)
	mux.HandleFunc("GET /api/v1/records/{kind}/{source}/{id...}", s.getRecord)
	mux.HandleFunc("GET /api/v1/views", s.listViews)
	mux.HandleFunc("GET /api/v1/views/{role}", s.getView)
	mux.HandleFunc("POST /api/v1/reconciliations", s.postReconciliation)
	mux.HandleFunc("GET /api/v1/reconciliations", s.listReconciliations)
	mux.HandleFunc("GET /api/v1/sources", s.getSources)
	var h http.Handler = jsonMuxErrors(mux)
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

// jsonMuxErrors answers requests no route takes (404, and 405 with its
// Allow header) with a JSON error like every other one; ServeMux would
// write plain text.
func jsonMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			probe := &probeWriter{header: http.Header{}}
			h.ServeHTTP(probe, r)
			switch probe.status {
			case http.StatusNotFound:
				writeJSON(w, probe.status, &apiError{Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
				return
			case http.StatusMethodNotAllowed:
				allow := probe.header.Get("Allow")
				w.Header().Set("Allow", allow)
				writeJSON(w, probe.status, &apiError{Message: fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow)})
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// probeWriter records what ServeMux's own 404 and 405 handlers would write.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(code int)        { p.status = code }

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
		out := &apiError{Message: plural.Count(inv.Count, "invalid record") + "; nothing was stored"}
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
	// seq is the store's sequence; the engine's status says which of it
	// the readable data reflects, how far behind that is, and how many
	// stored rows it had to quarantine.
	seq, err := s.Store.LastSeq(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "seq": seq, "engine": s.Engine.Status()})
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

// getSources serves the data sources report (scorecard.Sources).
func (s *Server) getSources(w http.ResponseWriter, r *http.Request) {
	asOf := s.Now().UTC()
	if v := r.URL.Query().Get("as_of"); v != "" {
		t, err := ParseTime(v)
		if err != nil {
			s.writeError(w, r, badParam("as_of", "%v", err))
			return
		}
		asOf = t
	}
	var rep *scorecard.SourcesReport
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		rep = scorecard.Sources(s.Catalog, ds, asOf)
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
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
		if scope, err = metrics.ParseScope(v); err != nil {
			s.writeError(w, r, badParam("scope", "%v", err))
			return
		}
	}
	// A 30-day window at scale holds a quarter of a million records; they
	// come a page at a time so a drill-down stays a quick answer.
	limit, err := intParam(r, "limit", defaultRecordLimit, 1, maxRecordLimit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	offset, err := intParam(r, "offset", 0, 0, math.MaxInt32)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var d *scorecard.MetricDetail
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var derr error
		d, derr = scorecard.Detail(s.Catalog, ds, id, opt, by, scope)
		// Only a dimension error is the client's, and it says which
		// parameter is at fault: a good by with a bad scope must not be
		// reported as a bad by.
		var de *scorecard.DimensionError
		switch {
		case errors.As(derr, &de):
			return &apiError{Status: http.StatusBadRequest, Param: de.Param, Message: derr.Error()}
		case errors.Is(derr, scorecard.ErrNotComputed):
			return &apiError{Status: http.StatusNotImplemented, Message: derr.Error()}
		case derr != nil:
			return derr
		}
		// The page's row fields come from the dataset, so under its lock.
		d.Page(ds, offset, limit)
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// Drill-down paging: records per page by default and at most.
const (
	defaultRecordLimit = 1000
	maxRecordLimit     = 100_000
)

// intParam reads an integer query parameter in [lo, hi], def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "%q must be a whole number from %d to %d", v, lo, hi)
	}
	return n, nil
}

func (s *Server) postRecords(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.MaxBody)
	opt := ingest.Options{Parse: s.Parse}
	// A value that is not a boolean is refused, not read as false: a client
	// sending skip_invalid=1 or =yes must not get all-or-nothing silently.
	if v := r.URL.Query().Get("skip_invalid"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.writeError(w, r, badParam("skip_invalid", "%q is not true or false", v))
			return
		}
		opt.SkipInvalid = b
	}
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
	sum, err := s.records.Import(r.Context(), []ingest.Source{{Name: "body", Reader: body, Format: format}}, opt)
	if err == nil && sum.Inserted+sum.Replaced > 0 {
		// Read-your-writes: the answer waits until what was written is
		// readable, so the client's next read sees it. The write stands
		// either way.
		if serr := s.Engine.Sync(r.Context()); serr != nil && r.Context().Err() == nil {
			s.Log.Warn("records written but not yet readable", "err", serr)
		}
	}
	if err != nil {
		// Import reports what is wrong with the input (a CSV without a
		// kind, a repeated column, an overlong line) as plain errors: they
		// are the client's, not a 500. The store's own errors are marked
		// by storeErrors and stay internal.
		var se storeError
		var mbe *http.MaxBytesError
		var inv *ingest.InvalidError
		var nk *ingest.NoKindError
		switch {
		case errors.As(err, &nk):
			err = badParam("kind", "the CSV body has no kind column: add one, or pass the kind as ?kind= (POST /api/v1/records?kind=deployment)")
		case !errors.As(err, &se) && !errors.As(err, &mbe) && !errors.As(err, &inv) && r.Context().Err() == nil:
			err = &apiError{Status: http.StatusBadRequest, Message: err.Error()}
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ImportSummary(sum))
}

// ImportSummary is an import summary as JSON (the API's answer and `candor
// import --json`), with lower-case keys per kind too: ingest's KindSummary
// embeds store.WriteResult, whose fields have no JSON names.
func ImportSummary(sum *ingest.Summary) map[string]any {
	byKind := map[domain.Kind]map[string]int64{}
	for k, ks := range sum.ByKind {
		byKind[k] = map[string]int64{"records": ks.Records, "inserted": ks.Inserted, "replaced": ks.Replaced, "unchanged": ks.Unchanged}
	}
	out := map[string]any{"records": sum.Records, "inserted": sum.Inserted, "replaced": sum.Replaced, "unchanged": sum.Unchanged, "by_kind": byKind}
	if sum.Invalid > 0 {
		var skipped []lineErr
		for _, l := range sum.Skipped {
			skipped = append(skipped, lineErr{Line: l.Line, Field: l.Field, Reason: l.Reason})
		}
		out["invalid"] = sum.Invalid
		out["skipped"] = skipped
	}
	return out
}

// storeError marks an error of the store, as opposed to one of the input.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

func markStore(err error) error {
	if err == nil {
		return nil
	}
	return storeError{err}
}

// storeErrors wraps the store an import writes to so its errors can be told
// from input errors.
type storeErrors struct{ store.Store }

func (s storeErrors) Begin(ctx context.Context) (store.Batch, error) {
	b, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, markStore(err)
	}
	return batchErrors{b}, nil
}

type batchErrors struct{ store.Batch }

func (b batchErrors) Add(ctx context.Context, items []store.Item) (store.WriteResult, error) {
	res, err := b.Batch.Add(ctx, items)
	return res, markStore(err)
}

func (b batchErrors) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	res, err := b.Batch.AddEach(ctx, lists)
	return res, markStore(err)
}

func (b batchErrors) CommitEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	res, err := store.CommitEach(ctx, b.Batch, lists)
	return res, markStore(err)
}

func (b batchErrors) Commit() error { return markStore(b.Batch.Commit()) }
