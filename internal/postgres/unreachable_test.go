package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/store"
)

// The SQLSTATEs of a server that will not take a connection are an
// unreachable store (503, retry), with a reason naming nobody; other
// database errors are left alone. A unit test with pgconn errors carrying
// the codes: the throwaway clusters trust every local sign-in, so a
// wrong password cannot be had from them (the connection limit can:
// TestConnectionLimitIsUnreachable).
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		code, reason string
		message      string
	}{
		{"28P01", "authentication failed", "m"},
		{"28000", "the database refused the sign-in", "m"},
		{"53300", "too many connections", "m"},
		{"57P01", "the database is shutting down", "m"},
		{"57P02", "the database is shutting down", "m"},
		{"57P03", "the database is starting up or in recovery", "m"},
		// The server's own words for 57P03 tell its three states apart.
		{"57P03", "the database is shutting down", "the database system is shutting down"},
		{"57P03", "the database is starting up", "the database system is starting up"},
		{"57P03", "the database is in recovery", "the database system is in recovery mode"},
		{"08006", "connection exception", "m"},
	} {
		pe := &pgconn.PgError{Severity: "FATAL", Code: c.code, Message: c.message}
		err := fmt.Errorf("reading: %w", pe)
		got := classify(err)
		var u *store.UnreachableError
		if !errors.As(got, &u) || u.Reason != c.reason || domain.CodeOf(got) != domain.EUnavailable || !errors.Is(got, err) {
			t.Errorf("SQLSTATE %s (%s): %v (reason %q), want unreachable, reason %q", c.code, c.message, got, reasonOf(pe), c.reason)
		}
	}
	// A connection lost in the middle of a query.
	for _, err := range []error{
		fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF),
		fmt.Errorf("write: %w", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}),
		fmt.Errorf("read: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
	} {
		var u *store.UnreachableError
		if got := classify(err); !errors.As(got, &u) || u.Reason != "the connection was lost" || !errors.Is(got, err) {
			t.Errorf("%v classified as %v", err, got)
		}
	}
	for _, err := range []error{
		&pgconn.PgError{Code: "42P01", Message: `relation "x" does not exist`},
		&pgconn.PgError{Code: "53100", Message: "disk full"},
		errors.New("something else"),
	} {
		if got := classify(err); got != err {
			t.Errorf("%v classified as %v", err, got)
		}
	}
	if classify(nil) != nil {
		t.Error("nil classified")
	}
}

// A failed connection's error leads with the server's answer, not the
// TLS attempt pgx made first (sslmode=prefer, a server without TLS): a
// real connect to a closed port gives a pgconn.ConnectError without one,
// which stays as it was.
func TestConnectErrorLeadsWithCause(t *testing.T) {
	cfg, err := pgconn.ParseConfig("postgres://candor@127.0.0.1:1/candor?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	_, cerr := pgconn.ConnectConfig(context.Background(), cfg)
	var ce *pgconn.ConnectError
	if !errors.As(cerr, &ce) {
		t.Fatalf("connect to a closed port: %v, want a ConnectError", cerr)
	}
	var u *store.UnreachableError
	if got := classify(cerr); !errors.As(got, &u) || u.Reason != "the connection failed" {
		t.Errorf("a refused connection: %v, want unreachable", got)
	}
	// What pgx reports of a wrong password after a refused TLS attempt.
	pe := &pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "candor"`}
	wrapped := fmt.Errorf("%w", errors.Join(errors.New("127.0.0.1:5432 (127.0.0.1): tls error: server refused TLS connection"), fmt.Errorf("127.0.0.1:5432 (127.0.0.1): failed SASL auth: %w", pe)))
	// (ConnectError's own cause is unexported: leadWithCause is checked
	// on the chain pgx builds inside it.)
	got := leadWithCause(wrapped)
	if !strings.HasPrefix(got.Error(), `password authentication failed for user "candor" (SQLSTATE 28P01); `) || !strings.Contains(got.Error(), "tls error") || !errors.Is(got, pe) {
		t.Errorf("wrong password after a TLS attempt: %q, want the cause first and the attempts after", got)
	}
}

// A role over its connection limit (ALTER ROLE … CONNECTION LIMIT 0, its
// connections ended) is an unreachable store on a real server, with the
// reason "too many connections" — it had been a bare 500.
func TestConnectionLimitIsUnreachable(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.NewDatabase(t)
	role, roleURL := pgtest.NewRole(t, admin, "candor_role", true)
	s := open(t, roleURL)
	if _, err := s.LastSeq(ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, admin, "ALTER ROLE "+role+" CONNECTION LIMIT 0")
	pgtest.Exec(t, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"+role+"'")
	deadline := time.Now().Add(10 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		_, last = s.LastSeq(ctx)
		var pe *pgconn.PgError
		if errors.As(last, &pe) && pe.Code == "53300" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := s.Classify(last)
	var ue *store.UnreachableError
	if !errors.As(got, &ue) || ue.Reason != "too many connections" || !strings.HasPrefix(ue.Err.Error(), "too many connections for role") {
		t.Fatalf("over the connection limit: %v, want unreachable, too many connections, the cause first", got)
	}
	// And a start then: Open's error is unreachable too (serve waits).
	_, err := Open(ctx, roleURL)
	if !errors.As(err, &ue) {
		t.Errorf("Open over the connection limit: %v, want unreachable", err)
	}
}

// A server that takes the connection and never answers is unreachable
// after DefaultConnectTimeout when the URL sets no connect_timeout: pgx
// had waited for ever, and `candor serve` listened without answering.
func TestConnectTimeoutByDefault(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn // never answered
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	was := DefaultConnectTimeout
	DefaultConnectTimeout = 300 * time.Millisecond
	defer func() { DefaultConnectTimeout = was }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://candor@"+ln.Addr().String()+"/candor?sslmode=disable")
	var u *store.UnreachableError
	if !errors.As(err, &u) || ctx.Err() != nil {
		t.Errorf("a server that never answers: %v (context %v), want unreachable before the test's own deadline", err, ctx.Err())
	}
}

// TestNothingListeningSaysUnreachableOnce: a database with nothing
// listening is unreachable, its message saying so once, where
// it had said "store unreachable:" inside each address the driver tried.
func TestNothingListeningSaysUnreachableOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = Open(context.Background(), "postgres://candor@"+addr+"/candor")
	var u *store.UnreachableError
	if !errors.As(err, &u) || u.Reason != "the connection failed" {
		t.Fatalf("nothing listening: %v, want unreachable, the connection failed", err)
	}
	got := classify(err)
	if msg := got.Error(); strings.Count(msg, "store unreachable") != 1 || !strings.Contains(msg, "connection refused") {
		t.Errorf("nothing listening, classified: %q, want \"store unreachable\" once and the cause", msg)
	}
	if domain.CodeOf(got) != domain.EUnavailable {
		t.Errorf("nothing listening: code %v, want unavailable", domain.CodeOf(got))
	}
}
