package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/store"
)

// statusOf is the one mapping of error codes to HTTP statuses, for the JSON
// API and the pages alike.
var statusOf = map[domain.Code]int{
	domain.EInvalid:          http.StatusBadRequest,
	domain.EUnauthorized:     http.StatusUnauthorized,
	domain.EForbidden:        http.StatusForbidden,
	domain.ENotFound:         http.StatusNotFound,
	domain.EMethodNotAllowed: http.StatusMethodNotAllowed,
	domain.EConflict:         http.StatusConflict,
	domain.ETooLarge:         http.StatusRequestEntityTooLarge,
	domain.EUnsupportedMedia: http.StatusUnsupportedMediaType,
	domain.ERateLimited:      http.StatusTooManyRequests,
	domain.EInternal:         http.StatusInternalServerError,
	domain.ENotImplemented:   http.StatusNotImplemented,
	domain.EUnavailable:      http.StatusServiceUnavailable,
}

// Status is the HTTP status of an error code; an unknown code is a 500.
func Status(c domain.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// apiError is the JSON body of every error response, and what an error
// page shows.
type apiError struct {
	Message string      `json:"error"`
	Code    domain.Code `json:"code"`
	Param   string      `json:"param,omitempty"`
	Errors  []lineErr   `json:"errors,omitempty"`
	// RequestID is the request's id, to quote when reporting a problem:
	// the server log has every line of the request under it.
	RequestID string `json:"request_id,omitempty"`
	// Outcome and Field are a refused webhook delivery's: its outcome
	// ("rejected"), as every webhook answer has one, and the payload's
	// field at fault, when one is.
	Outcome string `json:"outcome,omitempty"`
	Field   string `json:"field,omitempty"`

	status     int
	retryAfter time.Duration
	// unreachable says the store could not be reached (the page says so,
	// where a 503 is otherwise the start-up's "not ready yet").
	unreachable bool
}

type lineErr struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// describe is what the client is told about err: its code and status, a
// message, the parameter at fault and, for refused records, every problem.
// An error with no code is internal: it is logged with the request id and
// the client gets a generic message quoting that id. It returns nil when
// the client has gone away and nothing should be written.
func (s *Server) describe(r *http.Request, err error) *apiError {
	id := requestID(r)
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		s.logger(r).Info("client went away", "err", err)
		return nil
	}
	// The store says which of its errors mean it cannot be reached (a
	// PostgreSQL that refuses the sign-in or has no connection left):
	// those are a 503 to retry, not a 500.
	err = store.Classify(s.Store, err)
	e := &apiError{Code: domain.CodeOf(err), Message: err.Error(), Param: domain.ParamOf(err), RequestID: id}
	var mbe *http.MaxBytesError
	var inv *ingest.InvalidError
	var rl *auth.RateLimitedError
	var de *domain.Error
	var ref *connect.Refusal
	var unreachable *store.UnreachableError
	switch {
	case errors.As(err, &mbe):
		// Reading the body is where a bound is met, whatever wraps it.
		e.Code, e.Param = domain.ETooLarge, ""
		e.Message = fmt.Sprintf("request body larger than %d bytes; send less at a time", mbe.Limit)
	case errors.As(err, &inv):
		e.Message = plural.Count(inv.Count, "invalid record") + "; nothing was stored"
		if inv.Header {
			// No record was read: "0 invalid records" had read as a
			// refusal with nothing wrong.
			e.Message = "the CSV header is refused; nothing was stored"
		}
		for _, l := range inv.Lines {
			e.Errors = append(e.Errors, lineErr{Line: l.Line, Field: l.Field, Reason: l.Reason})
		}
		if len(e.Errors) > 0 {
			l := e.Errors[0]
			e.Message += fmt.Sprintf(": line %d", l.Line)
			if l.Field != "" {
				e.Message += " field " + l.Field
			}
			e.Message += ": " + l.Reason
		}
	case errors.As(err, &rl):
		e.retryAfter = rl.RetryAfter
	case errors.As(err, &ref):
		e.Outcome, e.Field = ref.Result.Outcome, ref.Result.Field
	case errors.As(err, &unreachable):
		// The cause names the database's address, which /healthz keeps
		// from anyone without sources:read: the log has it, the client
		// is told to come back.
		s.logger(r).Error("store unreachable", "err", err)
		e.Code, e.Param, e.retryAfter, e.unreachable = domain.EUnavailable, "", store.UnreachableRetry, true
		e.Message = "store unreachable; try again shortly"
	case errors.As(err, &de):
		e.retryAfter = de.RetryAfter
	}
	if e.Code == domain.EInternal {
		s.logger(r).Error("request failed", "err", err)
		e.Message = "internal error; see the server log (request id " + id + ")"
		e.Param = ""
	}
	e.status = Status(e.Code)
	return e
}

// writeError answers an API request with err as JSON.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.describe(r, err)
	if e == nil {
		return
	}
	setErrorHeaders(w, e)
	writeJSON(w, e.status, e)
}

func setErrorHeaders(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		// Whole seconds, rounded up: a client retrying at once would be
		// refused again.
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="candor"`)
	}
}

// badParam is an invalid request parameter, named.
func badParam(name, format string, args ...any) error {
	return domain.InvalidParam(name, format, args...)
}

// boolParam reads a boolean query parameter, false when absent: 1 or true,
// 0 or false, in any case. The API's two booleans (skip_invalid, at_risk)
// had been read by two parsers, one refusing "yes" as "not true or false"
// while taking "t", the other refusing "t".
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); strings.ToLower(v) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, badParam(name, "%q is not 1, true, 0 or false", v)
	}
}

// notFoundf is a not-found error.
func notFoundf(format string, args ...any) error {
	return domain.Errorf(domain.ENotFound, format, args...)
}
