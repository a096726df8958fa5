package domain

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for whoever answers it. The web layer maps each
// code to one HTTP status, for the JSON API and the pages alike, and writes
// it as the machine-readable "code" of every JSON error; clients branch on
// it, so a code once published is never renamed.
type Code string

// The codes, with the HTTP status the web layer answers them with.
const (
	EInvalid          Code = "invalid"                // 400: the request or its input is wrong
	EUnauthorized     Code = "unauthorized"           // 401: no credentials, or ones that do not hold
	EForbidden        Code = "forbidden"              // 403: signed in, but not allowed
	ENotFound         Code = "not_found"              // 404: no such thing
	EMethodNotAllowed Code = "method_not_allowed"     // 405: the path exists, the method does not
	EConflict         Code = "conflict"               // 409: breaks a uniqueness rule
	ETooLarge         Code = "too_large"              // 413: over a size bound
	EUnsupportedMedia Code = "unsupported_media_type" // 415: a body in a type or encoding not read
	ERateLimited      Code = "rate_limited"           // 429: too many attempts; retry later
	EInternal         Code = "internal"               // 500: the server's fault; details only in its log
	ENotImplemented   Code = "not_implemented"        // 501: defined but not built yet
	EUnavailable      Code = "unavailable"            // 503: not ready yet, or a dependency is down
)

// Codes lists every code, for documentation and exhaustive tests.
var Codes = []Code{
	EInvalid, EUnauthorized, EForbidden, ENotFound, EMethodNotAllowed, EConflict,
	ETooLarge, EUnsupportedMedia, ERateLimited, EInternal, ENotImplemented, EUnavailable,
}

// Error is an error with a code, for any package to return: the code says
// whose fault it is and how a caller should answer, Message says what is
// wrong in words a user can act on. An error without a code anywhere in its
// chain is internal, and its message is never shown to a client.
type Error struct {
	Code    Code
	Message string
	// Param names the request parameter, form field or input field at
	// fault, when one is.
	Param string
	// RetryAfter says when to try again (rate_limited, unavailable).
	RetryAfter time.Duration
	// Err is the cause, for errors.Is and errors.As.
	Err error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode makes *Error a Coder.
func (e *Error) ErrorCode() Code { return e.Code }

// ErrorParam is the parameter at fault, "" when none is named.
func (e *Error) ErrorParam() string { return e.Param }

// Errorf returns an error with the code and a message formatted as
// fmt.Errorf would, wrapping what a %w verb names.
func Errorf(code Code, format string, args ...any) *Error {
	w := fmt.Errorf(format, args...)
	e := &Error{Code: code, Message: w.Error()}
	switch w.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		e.Err = w
	}
	return e
}

// InvalidParam is an invalid-input error naming the parameter at fault:
// "as_of: … is not a date".
func InvalidParam(param, format string, args ...any) *Error {
	e := Errorf(EInvalid, param+": "+format, args...)
	e.Param = param
	return e
}

// Coder is an error that knows its code. *Error is one; a package's own
// error types (an import's invalid lines, an unknown breakdown) implement
// it with a one-line method instead of becoming an *Error.
type Coder interface {
	ErrorCode() Code
}

// CodeOf returns the code of the first Coder in err's chain, EInternal when
// there is none, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return EInternal
}

// ParamOf returns the parameter err names: that of the first error in its
// chain with an ErrorParam method that names one, else "".
func ParamOf(err error) string {
	for err != nil {
		if p, ok := err.(interface{ ErrorParam() string }); ok && p.ErrorParam() != "" {
			return p.ErrorParam()
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if p := ParamOf(e); p != "" {
					return p
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}
