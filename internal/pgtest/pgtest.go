// Package pgtest gives tests a real PostgreSQL server: one per test binary,
// started from the installed server binaries in a temporary directory, with
// a fresh database per test.
//
// Use it as
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.NewDatabase(t) // postgres://…/candor_test_…
//	}
//
// Finding the server: initdb on PATH, else the newest
// /usr/lib/postgresql/*/bin (Debian's layout). When there is none the test
// is skipped, or fails if CANDOR_REQUIRE_POSTGRES=1 (CI sets it so a
// missing package cannot turn the PostgreSQL tests into silent skips).
// CANDOR_TEST_POSTGRES_URL=postgres://user:pass@host/db uses that server
// instead: databases are created and dropped there, the user needs
// CREATEDB.
//
// Running as root (containers, CI): PostgreSQL refuses to run as root, so
// initdb and postgres then run as the "postgres" system user (created by
// the Debian package; "nobody" as a fallback) and the temporary directory
// is handed to that user. Tests still connect over TCP on 127.0.0.1 with
// trust authentication.
//
// The server is the postgres binary run as a child of the test binary, not
// a daemon started by pg_ctl: pg_ctl detaches the server into its own
// session, so a test binary killed by a timeout or ^C would leave it
// running. As a child it gets SIGQUIT (immediate shutdown) when the test
// binary dies, however that happens; Main additionally stops it cleanly
// and removes its directory.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// RequireEnv, set to 1, turns "no PostgreSQL installed" from a skip
	// into a failure.
	RequireEnv = "CANDOR_REQUIRE_POSTGRES"
	// URLEnv names an existing server to use instead of starting one.
	URLEnv = "CANDOR_TEST_POSTGRES_URL"
)

var errNoServer = errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: install the Debian package: apt-get install -y postgresql")

// Server is a PostgreSQL server that tests create databases on.
type Server struct {
	admin string // URL of a database to run CREATE/DROP DATABASE from
	n     atomic.Int64

	// Set only for a server this package started.
	dir    string
	cmd    *exec.Cmd
	exited chan error
	log    string
}

var (
	once     sync.Once
	shared   *Server
	startErr error
)

// Start returns the test binary's server, starting it on first use. It
// skips or fails tb when no server is available (see the package comment).
func Start(tb testing.TB) *Server {
	tb.Helper()
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		if errors.Is(startErr, errNoServer) && os.Getenv(RequireEnv) != "1" {
			tb.Skipf("%v (set %s=1 to fail instead of skipping)", startErr, RequireEnv)
		}
		tb.Fatal(startErr)
	}
	return shared
}

// NewDatabase is Start(tb).NewDatabase(tb).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return Start(tb).NewDatabase(tb)
}

// Main runs the tests and then stops the server and removes its files.
// Without it the server still dies with the test binary, but its temporary
// directory stays behind.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// NewDatabase creates an empty database for tb, dropped when tb ends, and
// returns its URL.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	// The pid keeps concurrent test binaries apart on a shared server.
	name := fmt.Sprintf("candor_test_%d_%d", os.Getpid(), s.n.Add(1))
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		// FORCE: a test that leaked a connection must not fail the drop.
		if err := s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	u, err := url.Parse(s.admin)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Exec runs sql on the database of dbURL (NewDatabase's, signed in as
// the server's administrator), failing tb on an error.
func Exec(tb testing.TB, dbURL, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// NewRole creates a login role for tb (its name starting with prefix)
// and returns it and dbURL signed in as it; with owns, the database of
// dbURL becomes the role's. The role is dropped when tb ends — after the
// database it owns, which goes first (NewDatabase's drop then finds none).
func NewRole(tb testing.TB, dbURL, prefix string, owns bool) (role, roleURL string) {
	tb.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	role = fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), Start(tb).n.Add(1))
	Exec(tb, dbURL, "CREATE ROLE "+role+" LOGIN")
	if owns {
		Exec(tb, dbURL, "ALTER DATABASE "+db+" OWNER TO "+role)
	}
	tb.Cleanup(func() {
		pu := *u
		pu.Path = "/postgres"
		if owns {
			Exec(tb, pu.String(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
		Exec(tb, pu.String(), "DROP ROLE IF EXISTS "+role)
	})
	ru := *u
	ru.User = url.User(role)
	return role, ru.String()
}

func (s *Server) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func start() (*Server, error) {
	if u := os.Getenv(URLEnv); u != "" {
		if _, err := url.Parse(u); err != nil || !strings.Contains(u, "://") {
			return nil, fmt.Errorf("%s must be a postgres:// URL", URLEnv)
		}
		s := &Server{admin: u}
		if err := s.exec("SELECT 1"); err != nil {
			return nil, fmt.Errorf("%s: %w", URLEnv, err)
		}
		return s, nil
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	sweep()
	// The pid in the name lets a later run remove what a killed one left.
	dir, err := os.MkdirTemp("", fmt.Sprintf("candor-pgtest-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	s, err := launch(bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// sweep removes the directories of test binaries that died without
// stopping their server (a timeout panic skips Main's clean-up); their
// servers died with them.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "candor-pgtest-*-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.Split(filepath.Base(d), "-")[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

// findBin returns the directory holding initdb and postgres.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Debian links some binaries into PATH; postgres sits next to the
		// real initdb.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errNoServer
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// runAs returns the credentials to run the server with: none normally,
// another user when we are root, which PostgreSQL refuses to run as.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, errors.New("running as root, which PostgreSQL refuses, and there is no postgres or nobody user to run it as")
}

// env is ours without PG* variables, which would redirect initdb or
// postgres (PGDATA, PGPORT…).
func env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return append(out, "LC_ALL=C")
}

func launch(bin, dir string) (*Server, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir, initdb.Env = dir, env()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// The port is free when we look but may be taken before postgres binds
	// it: try a few.
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := serve(bin, dir, data, port, cred)
		if err == nil {
			return s, nil
		}
		last = err
		if !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "could not create any TCP/IP sockets") {
			break
		}
	}
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func serve(bin, dir, data string, port int, cred *syscall.Credential) (*Server, error) {
	logPath := filepath.Join(dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// Durability settings off: a test database that loses data in a
	// machine crash costs nothing, and fsync dominates otherwise.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir, cmd.Env = dir, env()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	s := &Server{
		admin:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		dir:    dir,
		cmd:    cmd,
		exited: make(chan error, 1),
		log:    logPath,
	}
	// The parent-death signal fires when the OS thread that forked the
	// child exits, not the process, and Go may end threads. So fork from a
	// goroutine locked to its thread that then lives as long as the server
	// (waiting for it), and is never unlocked.
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-s.exited:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres exited during start-up (%v):\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
		err := s.exec("SELECT 1")
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres did not accept connections within a minute (%v):\n%s", err, out)
		}
	}
}

// stop shuts a started server down (fast: disconnect clients, no
// checkpoint wait beyond what is needed) and removes its directory.
func (s *Server) stop() error {
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	return nil
}

// Log returns the server's log so far, for diagnosing a failing test; empty
// for a server this package did not start.
func (s *Server) Log() string {
	if s.log == "" {
		return ""
	}
	b, _ := os.ReadFile(s.log)
	return string(bytes.TrimSpace(b))
}
