package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

func init() {
	register(command{name: "gate", args: "check|approve|reject|retro-validate [flags]", help: "release gates: ask whether a release may go; approve or reject an escalated one; retro-validate an emergency change", run: runGate})
}

// Exit codes of candor gate check (2 stays a usage error).
const (
	exitDeny       = 1
	exitEscalate   = 3
	exitNoDecision = 4
)

func runGate(ctx context.Context, env *Env, args []string) error {
	settle := func(decision string) func(context.Context, *Env, []string) error {
		return func(ctx context.Context, env *Env, args []string) error {
			return runGateSettle(ctx, env, decision, args)
		}
	}
	return subcommand(ctx, env, "gate", args, map[string]func(context.Context, *Env, []string) error{
		"check": runGateCheck, "approve": settle("approve"), "reject": settle("reject"), "retro-validate": runGateRetro,
	}, []string{"check", "approve", "reject", "retro-validate"})
}

// factFlags collects repeated --fact key=value flags.
type factFlags map[string]string

func (f factFlags) String() string { return "" }
func (f factFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value (e.g. coverage=0.92)", v)
	}
	if _, dup := f[k]; dup {
		return fmt.Errorf("fact %s given twice", k)
	}
	f[k] = val
	return nil
}

func runGateCheck(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "gate check", "--service S --environment E --version V [flags]",
		"Asks whether a release may go (SPEC §6; docs/gates.md) and records the decision in the audit ledger.\n"+
			"Exit status: 0 allow, 1 deny, 3 escalate (needs approval), 4 no decision (the server or store could\n"+
			"not be reached, or it refused the request), 2 a usage error. With --server (or CANDOR_URL) it asks\n"+
			"that Candor server with the token in CANDOR_TOKEN; otherwise it opens the store (--data/--db).\n"+
			"Facts: coverage (0.92 or 92%), risk_score (0-100), changed_lines, dependency_changes, strategy,\n"+
			"emergency (true/false), time (RFC 3339). In GitHub Actions and GitLab CI it also annotates the job.\n"+
			"With --wait, an escalated release waits for an approver (candor gate approve|reject, the API or the\n"+
			"/gates page): exit 0 when approved, 1 when rejected, 3 when the wait runs out undecided. Without it,\n"+
			"run the same check again once approved: it answers with the approved decision (exit 0).")
	var c common
	c.bind(fs)
	var q gate.Request
	fs.StringVar(&q.Service, "service", "", "the service released (required)")
	fs.StringVar(&q.Environment, "environment", "", "the environment deployed to (required)")
	fs.StringVar(&q.Version, "version", "", "the version released (required)")
	fs.StringVar(&q.ChangeRequest, "change-request", "", "the change request (ITSM id)")
	facts := factFlags{}
	fs.Var(facts, "fact", "a fact key=value; repeat for each")
	server := fs.String("server", "", "URL of the Candor server to ask (or CANDOR_URL)")
	format := fs.String("format", "text", "text or json")
	wait := fs.Duration("wait", 0, "how long to wait for an approver when the release is escalated (e.g. 30m; 0: do not wait)")
	poll := fs.Duration("poll", 10*time.Second, "how often to look while waiting")
	timeout := fs.Duration("timeout", serverTimeout, "with --server: how long one call of the server may take before the check gives up (exit 4)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	badFormat := checkFormat(*format)
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case q.Service == "" || q.Environment == "" || q.Version == "":
		return usagef("--service, --environment and --version are required")
	case *wait < 0 || *poll <= 0 || *timeout <= 0:
		return usagef("--wait must be ≥ 0, --poll and --timeout positive")
	case badFormat != nil:
		return badFormat
	}
	q.Facts = facts
	if _, err := gate.ParseFacts(facts); err != nil {
		return usagef("--fact %v", err)
	}
	if err := serverFlag(env, server); err != nil {
		return err
	}
	// No decision still answers a script reading --format json: an
	// object whose decision is null and whose error says why, where
	// standard output had been empty and `jq` read no input.
	noDecision := func(err error) error {
		if *format == "json" {
			writeJSONOut(env, map[string]any{"decision": nil, "error": err.Error()})
		}
		return &exitError{exitNoDecision, err}
	}
	ctx = withCallTimeout(ctx, *timeout)
	var res gate.Result
	if *server != "" {
		res, err = askServer(ctx, *server, env.Getenv("CANDOR_TOKEN"), q)
	} else {
		res, err = decideLocally(ctx, env, c, q)
	}
	if err != nil {
		return noDecision(fmt.Errorf("no decision: %w", err))
	}
	timedOut := false
	if res.Decision == gate.Escalate && *wait > 0 {
		if *format == "text" {
			fmt.Fprintf(env.Stdout, "Candor gate: decision %d is escalated; waiting up to %s for an approver (candor gate approve %d --reason …)\n", res.ID, *wait, res.ID)
		}
		read := func(ctx context.Context) (gate.Result, error) {
			if *server != "" {
				return getDecision(ctx, *server, env.Getenv("CANDOR_TOKEN"), res.ID)
			}
			return readLocally(ctx, env, c, res.ID)
		}
		var lastErr error
		res, timedOut, lastErr, err = waitSettled(ctx, res, read, *wait, *poll, func(err error) {
			fmt.Fprintf(env.Stderr, "candor gate: could not read decision %d (%v); still waiting\n", res.ID, err)
		})
		if err != nil {
			return noDecision(fmt.Errorf("no decision: while waiting for an approver: %w", err))
		}
		if timedOut && lastErr != nil {
			// The wait ran out while the decision could not be read: it
			// may have been approved meanwhile, which a timeout would hide.
			return noDecision(fmt.Errorf("no decision: the wait of %s ran out while decision %d could not be read: %w", *wait, res.ID, lastErr))
		}
	}
	if *format == "json" {
		if err := writeJSONOut(env, res); err != nil {
			return &exitError{exitNoDecision, err}
		}
	} else {
		writeGateSummary(env.Stdout, res)
	}
	annotate(env, res)
	switch {
	case timedOut:
		return &exitError{exitEscalate, fmt.Errorf("timed out: nobody approved or rejected decision %d within %s", res.ID, *wait)}
	case res.State == gate.StateApproved:
		return nil
	case res.State == gate.StateRejected, res.Decision == gate.Deny:
		return &exitError{code: exitDeny}
	case res.Decision == gate.Escalate:
		return &exitError{code: exitEscalate}
	}
	return nil
}

// waitSettled polls an escalated decision until it is approved or
// rejected or the wait runs out (timedOut). A read that fails for a while
// — the server restarting, its database failing over, answering 503 —
// is told to warn and tried again at the next poll: a pipeline waiting
// for an approver had failed at the first such moment. lastErr is the
// failure still standing when the wait ran out; err one that will not
// pass (a refused token, an unknown decision).
func waitSettled(ctx context.Context, res gate.Result, read func(context.Context) (gate.Result, error), wait, poll time.Duration, warn func(error)) (_ gate.Result, timedOut bool, lastErr, err error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return res, true, lastErr, nil
		case <-t.C:
		}
		got, err := read(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return res, true, lastErr, nil
		case err != nil && passing(err):
			if lastErr == nil {
				warn(err)
			}
			lastErr = err
		case err != nil:
			return res, false, nil, err
		case got.State != gate.StatePending:
			return got, false, nil, nil
		default:
			lastErr = nil
		}
	}
}

// passing says whether a failed read of a decision may succeed if tried
// again: the server or its store out of reach for now, or saying so.
func passing(err error) bool {
	var se *serverError
	if errors.As(err, &se) {
		return se.Status == http.StatusServiceUnavailable || se.Status == http.StatusBadGateway ||
			se.Status == http.StatusGatewayTimeout || se.Status == http.StatusTooManyRequests
	}
	// Not any net.Error: every *url.Error is one, a certificate the
	// client does not trust among them, which no poll will mend.
	var ue *store.UnreachableError
	var oe *net.OpError
	var ne net.Error
	var dns *net.DNSError
	switch {
	case errors.As(err, &ue):
		return true
	case errors.As(err, &oe):
		// A TLS alert is an OpError too: the other side refused us.
		return oe.Op != "remote error" && oe.Op != "local error"
	case errors.As(err, &dns):
		return dns.IsTemporary || dns.IsTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	return errors.As(err, &ne) && ne.Timeout()
}

// serverFlag takes --server, else CANDOR_URL, and refuses one that is no
// http(s) URL as a usage error naming where it came from: "host:port" or
// a bare host name had been exit 4, "no decision", with Go's URL parser's
// words ("first path segment in URL cannot contain colon") and neither
// the flag nor the variable named.
func serverFlag(env *Env, server *string) error {
	from := "--server"
	if *server == "" {
		*server, from = env.Getenv("CANDOR_URL"), "CANDOR_URL"
	}
	if *server == "" {
		return nil
	}
	u, err := url.Parse(*server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%s %q is not the server's http:// or https:// URL (e.g. https://candor.example.com)", from, *server)
	}
	return nil
}

// serverError is a Candor server's answer other than 200.
type serverError struct {
	Status int
	msg    string
}

func (e *serverError) Error() string { return e.msg }

func readLocally(ctx context.Context, env *Env, c common, id int64) (gate.Result, error) {
	a, err := c.open(ctx, env)
	if err != nil {
		return gate.Result{}, err
	}
	defer a.Close()
	return gate.Decision(ctx, a.store, id)
}

// getDecision reads GET /api/v1/gates/decisions/{id}.
func getDecision(ctx context.Context, server, token string, id int64) (gate.Result, error) {
	var res gate.Result
	err := callServer(ctx, http.MethodGet, server, "/api/v1/gates/decisions/"+strconv.FormatInt(id, 10), token, nil, &res)
	return res, err
}

// serverTimeout bounds one call of the Candor API unless the command
// was given its own bound (withCallTimeout: gate check --timeout).
var serverTimeout = time.Minute

type callTimeoutKey struct{}

// withCallTimeout makes d the bound of each call of the API made with ctx.
func withCallTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, callTimeoutKey{}, d)
}

// callTimeout is the bound of one call made with ctx.
func callTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(callTimeoutKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return serverTimeout
}

// noAnswer words a call that ran out of time as such: the job log had
// only "context deadline exceeded". The error stays wrapped, so a wait
// still takes it for one that may pass.
func noAnswer(ctx context.Context, server string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s gave no answer within %s: %w", server, callTimeout(ctx), err)
	}
	return err
}

// callServer calls the Candor API and decodes a 200 answer into out; any
// other status is an error carrying the server's message.
func callServer(ctx context.Context, method, server, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout(ctx))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(server, "/")+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return noAnswer(ctx, server, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return noAnswer(ctx, server, err)
	}
	if resp.StatusCode == http.StatusUnauthorized && token == "" {
		// The server's "sign-in required" does not say that the job
		// forgot to pass its secret, which is what it almost always is.
		return &serverError{resp.StatusCode, fmt.Sprintf("%s answered 401: CANDOR_TOKEN is not set (an API token of role ingest: candor token create --name ci --role ingest)", server)}
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e struct{ Error, Param string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			if e.Param != "" {
				return &serverError{resp.StatusCode, fmt.Sprintf("%s answered %d: %s: %s", server, resp.StatusCode, e.Param, e.Error)}
			}
			return &serverError{resp.StatusCode, fmt.Sprintf("%s answered %d: %s", server, resp.StatusCode, e.Error)}
		}
		return &serverError{resp.StatusCode, fmt.Sprintf("%s answered %s", server, resp.Status)}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s answered 200 with something else than JSON: %w", server, err)
	}
	return nil
}

func runGateSettle(ctx context.Context, env *Env, verb string, args []string) error {
	fs := flags(env, "gate "+verb, "ID --reason TEXT [flags]",
		"Approves or rejects a release a gate escalated (ID is the decision's id, as gate check prints it). You must\n"+
			"hold one of the roles each escalating rule names (default executive; risk: executive or engineering) and\n"+
			"must not be who asked for the release. With --server (or CANDOR_URL) it calls that server with the token\n"+
			"in CANDOR_TOKEN; otherwise it opens the store, and reads your API token from standard input or --token-file.")
	var c common
	c.bind(fs)
	var tok tokenFlag
	tok.bind(fs)
	reason := fs.String("reason", "", "why (required)")
	server := fs.String("server", "", "URL of the Candor server (or CANDOR_URL)")
	format := fs.String("format", "text", "text or json")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give the decision's id (gate check prints it; GET /api/v1/gates/decisions lists them)")
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("%q is not a gate decision id", rest[0])
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("--reason is required: say why")
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if err := serverFlag(env, server); err != nil {
		return err
	}
	var res gate.Result
	if *server != "" {
		err = callServer(ctx, http.MethodPost, *server, "/api/v1/gates/decisions/"+rest[0]+"/"+verb, env.Getenv("CANDOR_TOKEN"), map[string]string{"reason": *reason}, &res)
	} else {
		res, err = settleLocally(ctx, env, c, tok, id, verb == "approve", *reason)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, res)
	}
	a := res.Approval
	fmt.Fprintf(env.Stdout, "gate decision %d (%s %s to %s): %s by %s: %s\n", res.ID, res.Release.Service, res.Release.Version, res.Release.Environment, res.State, a.By, a.Reason)
	return nil
}

func settleLocally(ctx context.Context, env *Env, c common, tok tokenFlag, id int64, approve bool, reason string) (gate.Result, error) {
	a, err := c.open(ctx, env)
	if err != nil {
		return gate.Result{}, err
	}
	defer a.Close()
	p, err := tok.principal(ctx, env, a, "")
	if err != nil {
		return gate.Result{}, err
	}
	by, err := auth.Decider(p)
	if err != nil {
		return gate.Result{}, err
	}
	if _, err := gate.Settle(ctx, a.store, id, approve, gate.Approver{Person: by, Roles: p.Roles}, reason, time.Now()); err != nil {
		return gate.Result{}, err
	}
	return gate.Decision(ctx, a.store, id)
}

func decideLocally(ctx context.Context, env *Env, c common, q gate.Request) (gate.Result, error) {
	a, err := c.open(ctx, env)
	if err != nil {
		return gate.Result{}, err
	}
	defer a.Close()
	p, err := a.cfg.GatePolicies(a.catalog)
	if err != nil {
		return gate.Result{}, err
	}
	var res gate.Result
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		var err error
		res, err = gate.Evaluate(p, a.catalog, ds, ds.Seq(), q, time.Now())
		return err
	})
	if err != nil {
		return res, err
	}
	who := cliActor(env).Name
	return gate.Record(ctx, a.store, res, who, who)
}

// askServer posts the request to POST /api/v1/gates/evaluate.
func askServer(ctx context.Context, server, token string, q gate.Request) (gate.Result, error) {
	var res gate.Result
	if err := callServer(ctx, http.MethodPost, server, "/api/v1/gates/evaluate", token, q, &res); err != nil {
		return res, err
	}
	if res.Decision == "" {
		return res, errors.New(server + " answered 200 without a decision")
	}
	return res, nil
}

// writeGateSummary is the short CI log: the decision, then a line per rule.
func writeGateSummary(w io.Writer, r gate.Result) {
	cr := ""
	if r.Release.ChangeRequest != "" {
		cr = " (" + r.Release.ChangeRequest + ")"
	}
	// The headline is what the exit status says: an escalated release
	// an approver settled reads APPROVED or REJECTED, where "ESCALATE"
	// had headed an exit-0 run.
	outcome := strings.ToUpper(string(r.Decision))
	if a := r.Approval; a != nil && r.State != gate.StatePending {
		outcome = strings.ToUpper(r.State) + " (escalated)"
	}
	fmt.Fprintf(w, "Candor gate: %s — %s %s to %s%s, decision %d\n", outcome, r.Release.Service, r.Release.Version, r.Release.Environment, cr, r.ID)
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", m)
	}
	if a := r.Approval; a != nil {
		fmt.Fprintf(w, "  %s by %s: %s\n", strings.ToUpper(a.Verdict), a.By, a.Reason)
	}
	for _, v := range r.Rules {
		fmt.Fprintf(w, "  %-9s %-14s %s\n", v.Verdict, v.Rule, v.Reason)
	}
	if r.State == gate.StatePending {
		// Exit 3 alone left the engineer without the next step; asking
		// again returns this decision, approved once an approver accepts.
		fmt.Fprintf(w, "  waiting for an approver: approve or reject decision %d on /gates or with candor gate approve %d --reason …; then run this check again (or use --wait)\n", r.ID, r.ID)
	}
	if r.Bypass {
		fmt.Fprintf(w, "  emergency change: the gates are bypassed; retro-validate it by %s (candor gate retro-validate SOURCE/ID)\n", r.RetroDue.Format(time.RFC3339))
	}
	for _, k := range r.KPIs {
		// As the scorecard shows it: "0.12 %", "— " for none.
		value := scorecard.FormatValue(k.Value, k.Unit, k.Currency)
		if k.Hidden {
			value = "(not shown to this token)"
		}
		fmt.Fprintf(w, "  kpi %s = %s (%s", k.ID, value, k.Status)
		if k.Cites != nil {
			fmt.Fprintf(w, ", definition v%d", k.Cites.Definition)
		}
		fmt.Fprintln(w, ")")
	}
}

// annotate marks the job in GitHub Actions (workflow commands and the step
// summary) and GitLab CI (a collapsible log section) when it runs there.
func annotate(env *Env, r gate.Result) {
	switch {
	case env.Getenv("GITHUB_ACTIONS") == "true":
		for _, m := range r.Warnings {
			fmt.Fprintf(env.Stdout, "::warning title=%s::%s\n", ghProperty("Candor gate"), ghData(m))
		}
		for _, v := range r.Rules {
			level := map[string]string{"deny": "error", "escalate": "warning"}[v.Verdict]
			if level != "" {
				fmt.Fprintf(env.Stdout, "::%s title=%s::%s\n", level, ghProperty("Candor gate: "+v.Rule), ghData(v.Reason))
			}
		}
		if path := env.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
			var b strings.Builder
			fmt.Fprintf(&b, "### Candor gate: %s\n\n%s %s → %s\n\n| rule | verdict | reason |\n|---|---|---|\n", r.Decision, r.Release.Service, r.Release.Version, r.Release.Environment)
			for _, v := range r.Rules {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", v.Rule, v.Verdict, strings.ReplaceAll(v.Reason, "|", `\|`))
			}
			if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				f.WriteString(b.String() + "\n")
				f.Close()
			}
		}
	case env.Getenv("GITLAB_CI") == "true":
		ts := time.Now().Unix()
		fmt.Fprintf(env.Stdout, "\x1b[0Ksection_start:%d:candor_gate\r\x1b[0KCandor gate: %s\n", ts, r.Decision)
		for _, v := range r.Rules {
			colour := map[string]string{"deny": "31", "escalate": "33", "pass": "32"}[v.Verdict]
			fmt.Fprintf(env.Stdout, "\x1b[%sm%-9s\x1b[0m %s: %s\n", orDefault(colour, "0"), v.Verdict, v.Rule, v.Reason)
		}
		fmt.Fprintf(env.Stdout, "\x1b[0Ksection_end:%d:candor_gate\r\x1b[0K\n", ts)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func runGateRetro(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "gate retro-validate", "DEPLOYMENT --note TEXT [flags]",
		"Records that an emergency change (a production deployment with emergency = true, which bypassed the\n"+
			"gates) was reviewed after the fact. DEPLOYMENT is source/id, or an id unique across sources. The\n"+
			"retro-validation is a record of its own in the audit ledger; a deployment is validated once.\n"+
			"With --server (or CANDOR_URL) it asks that Candor server with the token in CANDOR_TOKEN (records:write),\n"+
			"recorded as the token's; otherwise it opens the store (--data/--db).")
	var c common
	c.bind(fs)
	note := fs.String("note", "", "what the review found, and where it is written up (required)")
	by := fs.String("by", "", "who reviewed it (default: cli; with --server, the token's name)")
	server := fs.String("server", "", "URL of the Candor server to ask (or CANDOR_URL)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give one DEPLOYMENT (source/id or id)")
	}
	if strings.TrimSpace(*note) == "" {
		return usagef("--note is required: what the review found")
	}
	if err := serverFlag(env, server); err != nil {
		return err
	}
	if *server != "" {
		if *by != "" {
			return usagef("--by is the token's name with --server (or CANDOR_URL): the server records who asked")
		}
		var v gate.RetroValidation
		in := map[string]string{"deployment": rest[0], "note": *note}
		if err := callServer(ctx, http.MethodPost, *server, "/api/v1/gates/retro-validations", env.Getenv("CANDOR_TOKEN"), in, &v); err != nil {
			return err
		}
		writeRetro(env, v)
		return nil
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.cfg.GatePolicies(a.catalog)
	if err != nil {
		return err
	}
	who := orDefault(strings.TrimSpace(*by), "cli")
	var v gate.RetroValidation
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		var err error
		v, err = gate.PrepareRetro(p, ds, rest[0], *note, who, time.Now())
		return err
	}); err != nil {
		return err
	}
	if v, err = gate.RecordRetro(ctx, a.store, v); err != nil {
		return err
	}
	writeRetro(env, v)
	return nil
}

func writeRetro(env *Env, v gate.RetroValidation) {
	late := ""
	if v.Late {
		late = " (after its deadline)"
	}
	fmt.Fprintf(env.Stdout, "retro-validated %s (%s, finished %s)%s by %s\n", v.Deployment, v.Service, v.FinishedAt.Format(time.RFC3339), late, v.By)
}
