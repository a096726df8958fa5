package postgres

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/candor/candor/internal/store"
)

// Classify returns err as a *store.UnreachableError when it says the
// database could not be reached or would not take a connection
// (store.Classifier): pgx failed to connect (the dial, TLS, or the
// server refusing the sign-in), or the server answered with a SQLSTATE
// of class 08 (connection exception) or 28 (invalid authorization),
// 53300 (too many connections), 57P01, 57P02 (the server shutting down)
// or 57P03 (cannot connect now: starting or in recovery). These are
// what a client should retry — the database or its administrator may
// set them right while Candor runs — where an error without a code is a
// 500. Anything else is returned as it is.
func (s *DB) Classify(err error) error { return classify(err) }

var _ store.Classifier = (*DB)(nil)

func classify(err error) error {
	if err == nil {
		return nil
	}
	if u := (*store.UnreachableError)(nil); errors.As(err, &u) {
		if !u.Inner {
			return err
		}
		// A dial's, inside the driver's message: said once, in front.
		return &store.UnreachableError{Err: err, Reason: u.Reason}
	}
	var pe *pgconn.PgError
	hasPg := errors.As(err, &pe)
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		reason := "the connection failed"
		if hasPg {
			reason = reasonOf(pe)
		}
		return &store.UnreachableError{Err: leadWithCause(err), Reason: reason}
	}
	if hasPg && refusesConnection(pe.Code) {
		return &store.UnreachableError{Err: err, Reason: reasonOf(pe)}
	}
	// A connection lost in the middle of a query (the server killed, a
	// network cut, a proxy's idle timeout): the pool drops it and the next
	// request connects again, so the client is told to come back, where
	// it had been a 500.
	var oe *net.OpError
	if !hasPg && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &oe)) {
		return &store.UnreachableError{Err: err, Reason: "the connection was lost"}
	}
	return err
}

// reasonOf says what a server's refusal of a connection means, naming
// nobody. 57P03 (cannot connect now) is the server starting, in recovery
// or shutting down, which only its message tells apart: a shutting-down
// server had been called "starting up or in recovery".
func reasonOf(pe *pgconn.PgError) string {
	code := pe.Code
	switch {
	case code == "57P03" && strings.Contains(pe.Message, "shutting down"):
		return "the database is shutting down"
	case code == "57P03" && strings.Contains(pe.Message, "starting up"):
		return "the database is starting up"
	case code == "57P03" && strings.Contains(pe.Message, "recovery"):
		return "the database is in recovery"
	case code == "28P01":
		return "authentication failed"
	case strings.HasPrefix(code, "28"):
		return "the database refused the sign-in"
	case code == "53300":
		return "too many connections"
	case code == "57P01", code == "57P02":
		return "the database is shutting down"
	case code == "57P03":
		return "the database is starting up or in recovery"
	case code == "3D000":
		return "the database does not exist"
	case strings.HasPrefix(code, "08"):
		return "connection exception"
	}
	return "the database refused the connection (SQLSTATE " + code + ")"
}

// refusesConnection tells the SQLSTATEs of a server that will not take
// (or keep) a connection.
func refusesConnection(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "28"):
		return true
	}
	switch code {
	case "53300", "57P01", "57P02", "57P03":
		return true
	}
	return false
}

// causeError is a failed connection whose message leads with the
// server's answer. pgx tries TLS first (sslmode=prefer, the default) and
// then without, and reports every attempt in order: with a server that
// has no TLS, a wrong password read "failed to connect to …: tls error:
// server refused TLS connection" before the real cause.
type causeError struct {
	cause *pgconn.PgError
	err   error
}

func (e *causeError) Error() string {
	return e.cause.Message + " (SQLSTATE " + e.cause.Code + "); " + e.err.Error()
}

func (e *causeError) Unwrap() error { return e.err }

// leadWithCause puts the server's answer (a PgError in the chain, such
// as 28P01 password authentication failed) at the head of err's message.
func leadWithCause(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Message != "" {
		return &causeError{cause: pe, err: err}
	}
	return err
}
