package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/scorecard"
)

// ContentSecurityPolicy is sent with every response: no inline script or
// style anywhere (the charts use SVG presentation attributes, the pages a
// stylesheet), nothing from another origin, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		// For browsers that predate frame-ancestors.
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// RequestIDHeader carries a request's id: taken from the request when it
// is sane (a proxy's or a client's own), else made up; always sent back.
const RequestIDHeader = "X-Request-Id"

// saneRequestID is what an incoming id must look like to be kept: short,
// and nothing that could forge a log line or a header.
var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// reqInfo is what the request's log line needs from inside the mux.
type reqInfo struct {
	id        string
	pattern   string
	principal auth.Principal
}

type infoKey struct{}

// infoOf returns the request's info; a request that did not come through
// Handler (a test calling a handler directly) gets a fresh one.
func infoOf(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// requestID returns the request's id ("" outside Handler).
func requestID(r *http.Request) string { return infoOf(r).id }

// logger is the server's logger with the request's id: every line logged
// for a request carries it.
func (s *Server) logger(r *http.Request) *slog.Logger {
	return s.Log.With("request_id", requestID(r))
}

type statusWriter struct {
	http.ResponseWriter
	status int
	// started says the response's header has gone out: after a panic,
	// an error can be answered only before.
	started bool
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives every request its id and logs one line for it when it
// is done: method, path, the route that took it, who asked, status, time.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID.MatchString(id) {
			id = newRequestID()
		}
		info := &reqInfo{id: id}
		w.Header().Set(RequestIDHeader, id)
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			// Pages and API reads go before bulk work (an import, the
			// follower applying it). Not a POST: an import sent to the
			// API is the bulk work, and would wait for itself.
			ctx, done := priority.Foreground(r.Context())
			defer done()
			r = r.WithContext(ctx)
		}
		func() {
			defer s.recoverRequest(sw, r)
			h.ServeHTTP(sw, r)
		}()
		attrs := []any{"request_id", id, "method", r.Method, "path", loggedPath(r.URL.Path), "status", sw.status,
			"ms", float64(time.Since(start).Microseconds()) / 1000}
		if info.pattern != "" {
			attrs = append(attrs, "route", info.pattern)
		}
		if p := info.principal; p.Authenticated() {
			attrs = append(attrs, "principal", p.Kind+":"+p.Name)
		}
		s.Log.Info("request", attrs...)
	})
}

// recoverRequest answers a request whose handler panicked with a 500 in
// the error vocabulary (a page for a page, JSON for the API) quoting the
// request id, and logs the panic with its stack under that id. net/http
// would recover it too, but by dropping the connection: a client saw the
// connection reset with nothing to quote, and the log line carried no
// request id. A panic raised again from a worker goroutine
// (scorecard.WorkerPanic) is logged with the worker's stack. The
// sentinel http.ErrAbortHandler is net/http's own way to abort a
// response, and goes on to it.
func (s *Server) recoverRequest(w *statusWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	wp := scorecard.AsPanic(v)
	s.logger(r).Error("request panicked", "panic", fmt.Sprint(wp.Value), "stack", string(wp.Stack))
	if w.started {
		// Part of the answer has gone: cutting the connection is all
		// that tells the client it is not whole.
		panic(http.ErrAbortHandler)
	}
	err := domain.Errorf(domain.EInternal, "the handler panicked (logged above with its stack)")
	if isAPIPath(r.URL.Path) {
		s.writeError(w, r, err)
		return
	}
	s.pageError(w, r, err)
}
