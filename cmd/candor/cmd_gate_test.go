package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/gate"
)

// TestGateCheckCommand: the exit status is the decision (0 allow, 1 deny,
// 3 escalate, 4 no decision, 2 usage); JSON with --format json; GitHub
// Actions annotations and step summary when run there.
func TestGateCheckCommand(t *testing.T) {
	dir := t.TempDir()
	data, gen, gates, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson"), filepath.Join(dir, "gates.yaml"), filepath.Join(dir, "candor.yaml")
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-06-01")
	// The data ends in June: KPIs read now are stale, so the canary rule
	// is left out here (its unknown case is tested in internal/gate).
	os.WriteFile(cfg, []byte("gates: {policies: gates.yaml}\n"), 0o600)
	os.WriteFile(gates, []byte("canary: {enabled: false}\n"), 0o600)
	// The policies are governed: the first start records them.
	mustRun(t, "import", "--config", cfg, "--data", data, gen)
	base := []string{"gate", "check", "--config", cfg, "--data", data, "--service", "checkout", "--environment", "production", "--version", "9.9.9"}
	check := func(args ...string) result { return run(t, append(append([]string{}, base...), args...)...) }

	r := check("--fact", "coverage=50%", "--fact", "risk_score=10")
	if r.code != 1 || !strings.Contains(r.stdout, "Candor gate: DENY") || !strings.Contains(r.stdout, "coverage 50% is below 85%") {
		t.Errorf("low coverage: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = check("--fact", "coverage=0.9", "--fact", "risk_score=10"); r.code != 0 || !strings.Contains(r.stdout, "ALLOW") {
		t.Errorf("allow: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r.stdout != "" && strings.Contains(r.stdout, "warning:") {
		t.Errorf("a known service warned of:\n%s", r.stdout)
	}
	// A misspelt service: the rules let it through, and the log says so.
	misspelt := append(append([]string{}, base...), "--fact", "coverage=0.9", "--fact", "risk_score=10")
	misspelt[7] = "chekout"
	if r = run(t, misspelt...); r.code != 0 || !strings.Contains(r.stdout, "ALLOW — chekout") || !strings.Contains(r.stdout, `  warning: Candor has no record of service "chekout"`) || !strings.Contains(r.stdout, `; did you mean "checkout"?)`) {
		t.Errorf("misspelt service: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = check("--fact", "coverage=0.9", "--fact", "changed_lines=900", "--fact", "dependency_changes=2"); r.code != 3 || !strings.Contains(r.stdout, "derived risk score 83") {
		t.Errorf("escalate: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = check("--fact", "coverage=92"); r.code != 2 || !strings.Contains(r.stderr, "facts.coverage") {
		t.Errorf("coverage 92: %d %s", r.code, r.stderr)
	}
	r = check("--fact", "coverage=0.9", "--fact", "risk_score=10", "--format", "json")
	var res gate.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Decision != gate.Allow || res.ID == 0 || len(res.Rules) < 2 {
		t.Errorf("json: %d %v %+v", r.code, err, res)
	}

	// GitHub Actions: workflow commands for failed rules, and the summary.
	summary := filepath.Join(dir, "summary.md")
	env, out, _ := testEnv(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary})
	code := Run(context.Background(), env, append(append([]string{}, base...), "--fact", "coverage=0.5", "--fact", "risk_score=10"))
	sum, _ := os.ReadFile(summary)
	if code != 1 || !strings.Contains(out.String(), "::error title=Candor gate%3A coverage::coverage 50%25 is below 85%25") || !strings.Contains(string(sum), "| coverage | deny |") {
		t.Errorf("GitHub Actions: %d\n%s\nsummary:\n%s", code, out, sum)
	}

	// A server that refuses, or none at all: no decision.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"missing or invalid token"}`))
	}))
	defer refuse.Close()
	env, out, errb := testEnv(map[string]string{"CANDOR_TOKEN": "cdr_revoked"})
	r = result{Run(context.Background(), env, append(append([]string{}, base...), "--server", refuse.URL, "--fact", "coverage=0.9")), out.String(), errb.String()}
	if r.code != 4 || !strings.Contains(r.stderr, "no decision") || !strings.Contains(r.stderr, "invalid token") {
		t.Errorf("refused: %d %s", r.code, r.stderr)
	}
	// A server that does not answer: said so, not "context deadline exceeded".
	hang := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hanging.Close()
	defer close(hang)
	defer func(d time.Duration) { serverTimeout = d }(serverTimeout)
	serverTimeout = 200 * time.Millisecond
	if r = check("--server", hanging.URL, "--fact", "coverage=0.9"); r.code != 4 || !strings.Contains(r.stderr, hanging.URL+" gave no answer within 200ms") {
		t.Errorf("no answer: %d %s", r.code, r.stderr)
	}
	// --timeout bounds each call instead.
	if r = check("--server", hanging.URL, "--fact", "coverage=0.9", "--timeout", "350ms"); r.code != 4 || !strings.Contains(r.stderr, hanging.URL+" gave no answer within 350ms") {
		t.Errorf("no answer with --timeout: %d %s", r.code, r.stderr)
	}
	if r = check("--server", hanging.URL, "--fact", "coverage=0.9", "--timeout", "0s"); r.code != 2 || !strings.Contains(r.stderr, "--timeout positive") {
		t.Errorf("--timeout 0s: %d %s", r.code, r.stderr)
	}
	// No token at all: the job forgot its secret, and is told so.
	env, _, errb = testEnv(map[string]string{"CANDOR_URL": refuse.URL})
	if code := Run(context.Background(), env, append(append([]string{}, base...), "--fact", "coverage=0.9")); code != 4 || !strings.Contains(errb.String(), "answered 401: CANDOR_TOKEN is not set") {
		t.Errorf("no token: %d %s", code, errb)
	}
	refuse.Close()
	if r = check("--server", refuse.URL, "--fact", "coverage=0.9"); r.code != 4 {
		t.Errorf("unreachable: %d %s", r.code, r.stderr)
	}
	// With --format json a script still reads an answer: decision null and why.
	r = check("--server", refuse.URL, "--fact", "coverage=0.9", "--format", "json")
	var none struct {
		Decision *string `json:"decision"`
		Error    string  `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &none); err != nil || r.code != 4 || none.Decision != nil || !strings.HasPrefix(none.Error, "no decision: ") {
		t.Errorf("unreachable, json: %d %v %q", r.code, err, r.stdout)
	}
	if r = run(t, "gate", "check", "--data", data); r.code != 2 {
		t.Errorf("missing flags: %d", r.code)
	}
	// A server given without its scheme is a usage error naming the flag
	// or variable, not "no decision" in the URL parser's words.
	for _, s := range []string{"127.0.0.1:18471", "candor.example.com", "ftp://candor.example.com"} {
		if r = check("--server", s, "--fact", "coverage=0.9"); r.code != 2 || !strings.Contains(r.stderr, `--server "`+s+`" is not the server's http:// or https:// URL`) {
			t.Errorf("--server %s: %d %s", s, r.code, r.stderr)
		}
	}
	env, _, errb = testEnv(map[string]string{"CANDOR_URL": "localhost:8080", "CANDOR_TOKEN": "t"})
	if code := Run(context.Background(), env, []string{"gate", "approve", "1", "--reason", "ok"}); code != 2 || !strings.Contains(errb.String(), `CANDOR_URL "localhost:8080" is not`) {
		t.Errorf("CANDOR_URL without a scheme: %d %s", code, errb)
	}
}

// TestGateRetroValidate: an emergency change is retro-validated once, by
// source/id or a unique id, and the validation is chained in the ledger.
func TestGateRetroValidate(t *testing.T) {
	dir := t.TempDir()
	data, recs := filepath.Join(dir, "data"), filepath.Join(dir, "emergency.ndjson")
	os.WriteFile(recs, []byte(`{"kind":"deployment","id":"e1","source":"github","service":"checkout","environment":"production","finished_at":"2026-05-01T10:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"e2","source":"github","service":"checkout","environment":"production","finished_at":"2026-05-02T10:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"e2","source":"jenkins","service":"checkout","environment":"production","finished_at":"2026-05-02T11:00:00Z","status":"success","emergency":true}
{"kind":"deployment","id":"n1","source":"github","service":"checkout","environment":"production","finished_at":"2026-05-02T11:00:00Z","status":"success"}
`), 0o600)
	mustRun(t, "import", "--data", data, recs)
	entries := func() string {
		out := mustRun(t, "ledger", "verify", "--data", data).stdout
		return strings.Fields(strings.SplitN(out, "intact: ", 2)[1])[0]
	}
	before := entries()
	r := mustRun(t, "gate", "retro-validate", "--data", data, "e1", "--note", "reviewed in PIR-12", "--by", "sre-lead")
	if !strings.Contains(r.stdout, "retro-validated github/e1 (checkout, finished 2026-05-01T10:00:00Z) (after its deadline) by sre-lead") {
		t.Errorf("stdout: %s", r.stdout)
	}
	if r = run(t, "gate", "retro-validate", "--data", data, "github/e1", "--note", "again"); r.code != 1 || !strings.Contains(r.stderr, "github/e1 was retro-validated at ") {
		t.Errorf("twice: %d %s", r.code, r.stderr)
	}
	if r = run(t, "gate", "retro-validate", "--data", data, "e2", "--note", "x"); r.code != 1 || !strings.Contains(r.stderr, "ambiguous") || !strings.Contains(r.stderr, "jenkins/e2") {
		t.Errorf("ambiguous: %d %s", r.code, r.stderr)
	}
	mustRun(t, "gate", "retro-validate", "--data", data, "jenkins/e2", "--note", "x")
	if r = run(t, "gate", "retro-validate", "--data", data, "n1", "--note", "x"); r.code != 1 || !strings.Contains(r.stderr, "no emergency deployment") {
		t.Errorf("not an emergency: %d %s", r.code, r.stderr)
	}
	if r = run(t, "gate", "retro-validate", "--data", data, "github/e2"); r.code != 2 {
		t.Errorf("no note: %d", r.code)
	}
	// Two validations, two more ledger entries.
	if before != "2" || entries() != "4" {
		t.Errorf("ledger entries: %s before, %s after; want 2 and 4", before, entries())
	}
}

// TestGateRetroValidateOverAPI: a pipeline retro-validates an emergency
// change through the server (POST /api/v1/gates/retro-validations) with a
// records:write token, recorded as the token's; a second time is a 409
// the CLI reports; --by is refused with --server; a token without
// records:write is refused. It had to open the store.
func TestGateRetroValidateOverAPI(t *testing.T) {
	dir := t.TempDir()
	data, recs := filepath.Join(dir, "data"), filepath.Join(dir, "emergency.ndjson")
	os.WriteFile(recs, []byte(`{"kind":"deployment","id":"e1","source":"github","service":"checkout","environment":"production","finished_at":"2026-05-01T10:00:00Z","status":"success","emergency":true}
`), 0o600)
	mustRun(t, "import", "--data", data, recs)
	runWith(t, "", false, "user", "add", "--email", "admin@example.com", "--role", "admin", "--generate-password", "--data", data).want(t, 0, "user add")
	token := func(name, role string) string {
		lines := strings.Split(strings.TrimSpace(mustRun(t, "token", "create", "--name", name, "--role", role, "--data", data).stdout), "\n")
		return lines[len(lines)-1]
	}
	ci, viewer := token("pir-pipeline", "ingest"), token("viewer", "support")
	p := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	retro := func(tok string, args ...string) result {
		env, out, errb := testEnv(map[string]string{"CANDOR_URL": url, "CANDOR_TOKEN": tok})
		code := Run(context.Background(), env, append([]string{"gate", "retro-validate"}, args...))
		return result{code, out.String(), errb.String()}
	}
	if r := retro(viewer, "e1", "--note", "reviewed in PIR-12"); r.code != 1 || !strings.Contains(r.stderr, "403") {
		t.Errorf("a token without records:write: %d %s%s", r.code, r.stdout, r.stderr)
	}
	r := retro(ci, "e1", "--note", "reviewed in PIR-12")
	if r.code != 0 || !strings.Contains(r.stdout, "retro-validated github/e1 (checkout, finished 2026-05-01T10:00:00Z) (after its deadline) by token:pir-pipeline") {
		t.Errorf("over the API: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r = retro(ci, "github/e1", "--note", "again"); r.code != 1 || !strings.Contains(r.stderr, "answered 409") || !strings.Contains(r.stderr, "github/e1 was ") || !strings.Contains(r.stderr, "retro-validated at ") {
		t.Errorf("twice: %d %s", r.code, r.stderr)
	}
	if r = retro(ci, "e1", "--note", "x", "--by", "someone"); r.code != 2 || !strings.Contains(r.stderr, "--by is the token's name") {
		t.Errorf("--by with the server: %d %s", r.code, r.stderr)
	}
	p.stop(t)
}

// TestGateCheckWait: with --wait an escalated release waits for an
// approver: exit 0 once approved (gate approve), 1 once rejected, and 3
// saying so when the wait runs out; the requester cannot approve.
func TestGateCheckWait(t *testing.T) {
	dir := t.TempDir()
	data, gates, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "gates.yaml"), filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("gates: {policies: gates.yaml}\n"), 0o600)
	os.WriteFile(gates, []byte("canary: {enabled: false}\n"), 0o600)
	// The first start records the gate policies (a governed section), so
	// every command on the store names the configuration. The first
	// administrator makes the store; a token needs one.
	runWith(t, "", false, "user", "add", "--email", "admin@example.com", "--role", "admin", "--generate-password", "--config", cfg, "--data", data).want(t, 0, "user add")
	d := []string{"--config", cfg, "--data", data}
	cto, eng := personToken(t, "cto", []string{"executive"}, d...), personToken(t, "eng", []string{"support"}, d...)
	waitFor := func(verb, token string, wait string) (result, string) {
		env, out, errb := testEnv(map[string]string{"USER": "ci"})
		done := make(chan int)
		go func() {
			done <- Run(context.Background(), env, append([]string{"gate", "check", "--service", "checkout", "--environment", "production", "--version", "1.0." + verb,
				"--fact", "coverage=0.9", "--fact", "risk_score=95", "--wait", wait, "--poll", "50ms"}, d...))
		}()
		id := ""
		for id == "" {
			select {
			case code := <-done:
				return result{code, out.String(), errb.String()}, ""
			case <-time.After(20 * time.Millisecond):
			}
			if m := regexp.MustCompile(`decision (\d+) is escalated`).FindStringSubmatch(out.String()); m != nil {
				id = m[1]
			}
		}
		if verb != "" {
			// Someone without an approver's role is refused; then the approver decides.
			r := runWith(t, eng, false, append([]string{"gate", verb, id, "--reason", "not mine to say"}, d...)...)
			if r.code != 1 || !strings.Contains(r.stderr, "executive or engineering") {
				t.Errorf("support approving: %d %s", r.code, r.stderr)
			}
			r = runWith(t, cto, false, append([]string{"gate", verb, id, "--reason", "reviewed with the team"}, d...)...)
			r.want(t, 0, "gate", verb, id)
		}
		code := <-done
		return result{code, out.String(), errb.String()}, id
	}
	r, approved := waitFor("approve", cto, "1m")
	if r.code != 0 || !strings.Contains(r.stdout, "APPROVED by user:cto@example.com: reviewed with the team") {
		t.Errorf("approved: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The job run again (no --wait) goes on with the approval: it had been
	// escalated afresh, exit 3, the approval lost on it.
	env, out, errb := testEnv(map[string]string{"USER": "ci"})
	code := Run(context.Background(), env, append([]string{"gate", "check", "--service", "checkout", "--environment", "production", "--version", "1.0.approve",
		"--fact", "coverage=0.9", "--fact", "risk_score=95"}, d...))
	again := result{code, out.String(), errb.String()}
	// Its headline is the outcome the exit status gives, not "ESCALATE".
	if again.code != 0 || !strings.Contains(again.stdout, "decision "+approved+"\n") || !strings.Contains(again.stdout, "APPROVED by user:cto@example.com") ||
		!strings.HasPrefix(again.stdout, "Candor gate: APPROVED (escalated) — checkout 1.0.approve to production") {
		t.Errorf("asked again after the approval of %s: %d\n%s%s", approved, again.code, again.stdout, again.stderr)
	}
	r, _ = waitFor("reject", cto, "1m")
	if r.code != 1 || !strings.Contains(r.stdout, "REJECTED by user:cto@example.com") || !strings.Contains(r.stdout, "Candor gate: REJECTED (escalated) — ") {
		t.Errorf("rejected: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r, id := waitFor("", cto, "300ms")
	if r.code != 3 || !strings.Contains(r.stderr, "timed out: nobody approved or rejected decision "+id+" within 300ms") ||
		!strings.Contains(r.stdout, "waiting for an approver: approve or reject decision "+id+" on /gates") {
		t.Errorf("timed out: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A KPI in the gate's summary reads as the scorecard shows it, in its unit
// and precision: "0.12 %", not 0.123456789.
func TestGateSummaryFormatsKPIs(t *testing.T) {
	v, money := 0.123456789, 1234.5678
	var b strings.Builder
	writeGateSummary(&b, gate.Result{Decision: gate.Allow, KPIs: []gate.KPI{
		{ID: "change_failure_rate", Value: &v, Unit: "%", Status: catalog.Green},
		{ID: "infrastructure_cost", Value: &money, Unit: "currency", Currency: "EUR", Status: catalog.Amber},
		{ID: "mttr", Status: catalog.Unknown},
		{ID: "release_impact_score", Status: catalog.Red, Hidden: true},
	}})
	for _, want := range []string{"kpi change_failure_rate = 0.12 % (green)", "kpi infrastructure_cost = 1,235 EUR (amber)", "kpi mttr = — (unknown)",
		"kpi release_impact_score = (not shown to this token) (red)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, b.String())
		}
	}
}

// A pipeline waiting for an approver goes on waiting through a moment the
// decision cannot be read — the server restarting (connection refused) or
// its database failing over (503) — where it had given up at once with
// "no decision" (exit 4). A failure that will not pass (403) still ends
// the wait, and a wait that runs out while reads fail says so rather than
// calling it a timeout nobody acted on.
func TestGateWaitGoesOnThroughAnOutage(t *testing.T) {
	pending := gate.Result{ID: 7, Decision: gate.Escalate, State: gate.StatePending}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	unavailable := &serverError{Status: 503, msg: "answered 503: store unreachable; try again shortly"}
	script := func(steps ...any) func(context.Context) (gate.Result, error) {
		i := 0
		return func(context.Context) (gate.Result, error) {
			s := steps[min(i, len(steps)-1)]
			i++
			if err, ok := s.(error); ok {
				return gate.Result{}, err
			}
			return s.(gate.Result), nil
		}
	}
	approved := gate.Result{ID: 7, Decision: gate.Escalate, State: gate.StateApproved}
	var warned []string
	warn := func(err error) { warned = append(warned, err.Error()) }

	got, timedOut, lastErr, err := waitSettled(t.Context(), pending, script(refused, unavailable, pending, approved), time.Minute, time.Millisecond, warn)
	if err != nil || timedOut || lastErr != nil || got.State != gate.StateApproved {
		t.Errorf("through an outage: %+v timed out %v, last %v, err %v", got, timedOut, lastErr, err)
	}
	if len(warned) != 1 {
		t.Errorf("warned %q, want once for the outage", warned)
	}
	forbidden := &serverError{Status: 403, msg: "answered 403: forbidden"}
	if _, _, _, err := waitSettled(t.Context(), pending, script(forbidden), time.Minute, time.Millisecond, warn); !errors.Is(err, forbidden) {
		t.Errorf("a 403 while waiting: %v, want it to end the wait", err)
	}
	_, timedOut, lastErr, err = waitSettled(t.Context(), pending, script(unavailable), 30*time.Millisecond, time.Millisecond, warn)
	if err != nil || !timedOut || !errors.Is(lastErr, unavailable) {
		t.Errorf("a wait running out in an outage: timed out %v, last %v, err %v", timedOut, lastErr, err)
	}
}

// What passes and what does not, as the client meets them: any
// *url.Error is a net.Error, so "a net.Error" had kept polling through a
// certificate nobody trusts, which no poll mends.
func TestGateWaitPassingFailures(t *testing.T) {
	get := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://candor.example.com/api/v1/gates/decisions/7", Err: err}
	}
	for _, c := range []struct {
		err  error
		pass bool
	}{
		{get(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{get(io.ErrUnexpectedEOF), true},
		{get(context.DeadlineExceeded), true},
		{&serverError{Status: 503}, true},
		{&serverError{Status: 429}, true},
		{&serverError{Status: 403}, false},
		{&serverError{Status: 404}, false},
		{get(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), false},
		{get(&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}), false},
		{get(errors.New(`unsupported protocol scheme "ftp"`)), false},
	} {
		if got := passing(c.err); got != c.pass {
			t.Errorf("passing(%v) = %v, want %v", c.err, got, c.pass)
		}
	}
}
