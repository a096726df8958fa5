package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/pgtest"
)

// cutProxy forwards loopback connections to a server until cut, which
// closes the listener and every connection: to its clients the server has
// gone away, while the real one goes on serving the other tests.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	return newCutProxyAt(t, "127.0.0.1:0", target)
}

// newCutProxyAt is newCutProxy listening at addr.
func newCutProxyAt(t *testing.T, addr, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// With PostgreSQL gone, the API and the sign-in answer 503 unavailable
// with Retry-After, as /healthz and /readyz do — the per-request token and
// session lookups had answered 500 internal, which tells a client not to
// retry — and the answer does not name the database's address.
func TestPostgresDownIsUnavailable(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	key, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CANDOR_DB": u.String(), "CANDOR_LEDGER_KEY": ledger.FormatKey(key), "CANDOR_DATA": t.TempDir(), "USER": "tester"}
	runEnv := func(stdin string, args ...string) result {
		env, out, errb := testEnv(vars)
		env.Stdin = strings.NewReader(stdin)
		return result{Run(context.Background(), env, args), out.String(), errb.String()}
	}
	runEnv("a long enough password\n", "user", "add", "--email", "ann@example.com", "--role", "executive").want(t, 0, "user add")
	r := runEnv("", "token", "create", "--name", "api", "--role", "executive")
	r.want(t, 0, "token create")
	token := strings.Fields(r.stdout)[len(strings.Fields(r.stdout))-1]

	p := startEnv(t, vars, "serve", "--addr", "127.0.0.1:0")
	base := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, base+"/readyz", "")
		return "", code == 200
	})
	if code, body := get(t, base+"/api/v1/scorecard", token); code != 200 {
		t.Fatalf("scorecard before the cut: %d %s", code, body)
	}
	signIn := func() *http.Response {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"a long enough password"}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := signIn(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in before the cut: %d", resp.StatusCode)
	}

	proxy.cut()
	// The token is trusted for auth.token_recheck (1 s) and the pool pings
	// a connection idle for over a second before using it: past both, every
	// request reaches for the store.
	time.Sleep(1500 * time.Millisecond)

	req, _ := http.NewRequest("GET", base+"/api/v1/scorecard", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct{ Error, Code string }
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 503 || e.Code != "unavailable" || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("API with the store gone: %d, Retry-After %q, %s; want 503 unavailable with Retry-After 5", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if strings.Contains(string(body), proxy.ln.Addr().String()) {
		t.Errorf("the answer names the database's address: %s", body)
	}
	if resp := signIn(); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("sign-in with the store gone: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(p.errb.String(), `"msg":"store unreachable"`) {
		t.Errorf("the server log does not say the store is unreachable:\n%s", clip(p.errb.String()))
	}
}

// A PostgreSQL that answers but will not take a connection — here the
// role's CONNECTION LIMIT 0, its connections ended; a rotated password is
// the same to Candor (unit-tested in internal/postgres: the test clusters
// trust every sign-in) — is a 503 with Retry-After on /healthz, the API
// and the pages, the reason named to anyone and the page saying the
// database cannot be reached, not "not ready yet". It had been a bare 500.
func TestPostgresRefusingIsUnavailable(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.NewDatabase(t)
	role, roleURL := pgtest.NewRole(t, admin, "candor_cmd", true)
	key, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CANDOR_DB": roleURL, "CANDOR_LEDGER_KEY": ledger.FormatKey(key), "CANDOR_DATA": t.TempDir(), "USER": "tester"}
	env, _, errb := testEnv(vars)
	env.Stdin = strings.NewReader("a long enough password\n")
	if code := Run(ctx, env, []string{"user", "add", "--email", "ann@example.com", "--role", "executive"}); code != 0 {
		t.Fatalf("user add: %d\n%s", code, errb)
	}
	env, out, errb := testEnv(vars)
	if code := Run(ctx, env, []string{"token", "create", "--name", "api", "--role", "executive"}); code != 0 {
		t.Fatalf("token create: %d\n%s", code, errb)
	}
	token := strings.Fields(out.String())[len(strings.Fields(out.String()))-1]
	p := startEnv(t, vars, "serve", "--addr", "127.0.0.1:0")
	base := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, base+"/readyz", "")
		return "", code == 200
	})

	pgtest.Exec(t, admin, "ALTER ROLE "+role+" CONNECTION LIMIT 0")
	// A connection still starting up as the limit fell is not yet listed
	// under the role's name, and passed its check before the limit: it
	// outlives one round of terminations and serves the next request (a
	// 200 in a whole-suite run on a loaded machine). Terminate until the
	// server itself sees the store refuse.
	terminate := func() {
		pgtest.Exec(t, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"+role+"'")
	}
	p.waitFor(t, "/healthz to see the store refuse", func() (string, bool) {
		terminate()
		code, _ := get(t, base+"/healthz", "")
		return "", code == 503
	})
	// Past the token's recheck (1 s) every request reaches for the store.
	time.Sleep(1500 * time.Millisecond)
	terminate()
	// A pooled connection those terminations ended answers its next query
	// "terminating connection due to administrator command" (the database
	// shutting down, to Candor) before the pool reaches for a new one,
	// which the limit refuses: once /healthz names the limit, every
	// request below meets it.
	p.waitFor(t, "/healthz to name the connection limit", func() (string, bool) {
		_, b := exchange(t, "GET", base+"/healthz", "", nil)
		return string(b), strings.Contains(string(b), "too many connections")
	})

	for _, c := range []struct{ path, token, want string }{
		{"/healthz", "", "store unreachable: too many connections"},
		// A token that cannot be checked: the health check answers as
		// anyone's, with the store's state.
		{"/healthz", token, "store unreachable: too many connections"},
		{"/readyz", "", "store unreachable: too many connections"},
		{"/api/v1/scorecard", token, "store unreachable; try again shortly"},
		{"/", token, "Candor cannot reach its database"},
	} {
		resp, b := exchange(t, "GET", base+c.path, c.token, nil)
		body := string(b)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || !strings.Contains(body, c.want) || strings.Contains(body, "not ready yet") {
			t.Errorf("GET %s (token %v) over the connection limit: %d, Retry-After %q, want 503, Retry-After 5 and %q\n%s",
				c.path, c.token != "", resp.StatusCode, resp.Header.Get("Retry-After"), c.want, clip(body))
		}
	}
	if !strings.Contains(p.errb.String(), "too many connections for role") {
		t.Errorf("the server log does not give the cause:\n%s", clip(p.errb.String()))
	}
}

// freeAddr is a loopback address nothing listens at (for now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// candor serve started before PostgreSQL takes connections waits for it,
// logging each attempt with the cause, up to startWait, then exits saying
// so — it had exited at once with "dial error … connection refused". A
// database that comes up meanwhile is used.
func TestServeWaitsForPostgres(t *testing.T) {
	defer func(w time.Duration) { startWait = w }(startWait)
	key, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	u.Host = freeAddr(t)
	vars := map[string]string{"CANDOR_DB": u.String(), "CANDOR_LEDGER_KEY": ledger.FormatKey(key), "CANDOR_DATA": t.TempDir(), "USER": "tester"}

	// Nothing listens: it gives up after startWait.
	startWait = 2 * time.Second
	env, _, errb := testEnv(vars)
	began := time.Now()
	code := Run(context.Background(), env, []string{"serve", "--addr", "127.0.0.1:0"})
	took := time.Since(began)
	out := errb.String()
	if code != 1 || took < startWait || took > startWait+5*time.Second {
		t.Errorf("serve without a database: exit %d after %s, want 1 after about %s\n%s", code, took, startWait, clip(out))
	}
	if strings.Count(out, `"msg":"store unreachable at start; trying again"`) < 2 || !strings.Contains(out, "connection refused") ||
		!regexp.MustCompile(`gave up after [234]s`).MatchString(out) || !strings.Contains(out, "service manager") {
		t.Errorf("serve without a database does not log its attempts and why it gave up:\n%s", clip(out))
	}

	// The database comes up while serve waits: it serves.
	startWait = time.Minute
	p := startEnv(t, vars, "serve", "--addr", "127.0.0.1:0")
	waiting := p.waitFor(t, "an attempt logged with the address", func() (string, bool) {
		m := regexp.MustCompile(`"msg":"store unreachable at start; trying again","url":"(http://[^"]+)"`).FindStringSubmatch(p.errb.String())
		if m == nil {
			return "", false
		}
		return m[1], true
	})
	// Meanwhile a health check is answered at once: 503, come back.
	resp, err := http.Get(waiting + "/healthz")
	if err != nil {
		t.Fatalf("/healthz while serve waits for its database: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || !strings.Contains(string(body), "waits for its database") || strings.Contains(string(body), u.Host) {
		t.Errorf("/healthz while serve waits: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	newCutProxyAt(t, u.Host, target)
	base := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, base+"/readyz", "")
		return "", code == 200
	})
}

// Giving up, serve says what to change when the database is up and refuses
// (the sign-in, a full server, a missing database), not to wait for it.
func TestGiveUpAdvice(t *testing.T) {
	for reason, want := range map[string]string{
		"authentication failed":            "check the user and password",
		"the database refused the sign-in": "pg_hba.conf",
		"too many connections":             "max_connections",
		"the database does not exist":      "check the database name",
		"the connection failed":            "once the database takes connections",
		"":                                 "once the database takes connections",
	} {
		if got := giveUpAdvice(reason); !strings.Contains(got, want) {
			t.Errorf("giveUpAdvice(%q) = %q, want it to say %q", reason, got, want)
		}
	}
}
