package main

import (
	"context"
	"encoding/json"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/sqlite"
)

// runWith runs a command with stdin and, optionally, stdin posing as a
// terminal; the operating-system user is "tester".
func runWith(t *testing.T, stdin string, terminal bool, args ...string) result {
	t.Helper()
	env, out, errb := testEnv(map[string]string{"USER": "tester"})
	env.Stdin = strings.NewReader(stdin)
	env.IsTerminal = func(f any) bool { return terminal && f == env.Stdin }
	code := Run(context.Background(), env, args)
	return result{code, out.String(), errb.String()}
}

// authService opens the data directory as `candor serve` would see it.
func authService(t *testing.T, data string) (*auth.Service, *sqlite.DB) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, _ := catalog.Default()
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.NewService(st, g, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

var generatedPassword = regexp.MustCompile(`Password \(shown only now; hand it over safely\): ([a-z0-9]{6}(-[a-z0-9]{6}){3})\n`)

func TestUsersAndTokens(t *testing.T) {
	data := t.TempDir()
	d := []string{"--data", data}
	with := func(args ...string) []string { return append(args, d...) }
	mustRun := func(t *testing.T, args ...string) result {
		t.Helper()
		r := runWith(t, "", false, args...)
		r.want(t, 0, args...)
		return r
	}

	// No store yet: listing refuses rather than create one.
	if r := runWith(t, "", false, with("user", "list")...); r.code != 1 {
		t.Errorf("user list without a store exited %d:\n%s", r.code, r.stderr)
	}
	// Password from stdin: not echoed anywhere.
	r := runWith(t, "a long enough password\n", false, with("user", "add", "--email", " Ann@Example.com", "--role", "admin", "--role", "executive", "--name", "Ann Lee")...)
	r.want(t, 0, "user add ann")
	if r.stdout != "Created a new Candor store in "+data+".\nAdded user ann@example.com (roles: admin, executive).\n" || strings.Contains(r.stdout+r.stderr, "a long enough password") {
		t.Errorf("user add:\n%s%s", r.stdout, r.stderr)
	}
	// Generated on request, printed once.
	r = runWith(t, "", false, with("user", "add", "--email", "bob@example.com", "--role", "cro", "--generate-password")...)
	r.want(t, 0, "user add bob")
	m := generatedPassword.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no generated password in:\n%s", r.stdout)
	}
	bobPassword := m[1]
	// At a terminal, nothing typed generates one; typed twice is taken.
	r = runWith(t, "\n", true, with("user", "add", "--email", "cy@example.com", "--role", "support")...)
	r.want(t, 0, "user add cy")
	if !generatedPassword.MatchString(r.stdout) || !strings.Contains(r.stderr, "press Enter to generate one") {
		t.Errorf("terminal, nothing typed:\n%s\n%s", r.stdout, r.stderr)
	}
	r = runWith(t, "typed at the terminal\ntyped at the terminal\n", true, with("user", "add", "--email", "di@example.com", "--role", "auditor")...)
	r.want(t, 0, "user add di")
	if generatedPassword.MatchString(r.stdout) {
		t.Errorf("a typed password was replaced:\n%s", r.stdout)
	}
	r = runWith(t, "typed at the terminal\ntyped differently!!\n", true, with("user", "add", "--email", "ed@example.com", "--role", "auditor")...)
	r.want(t, 2, "user add ed")

	svc, st := authService(t, data)
	ctx := context.Background()
	for email, pw := range map[string]string{"ann@example.com": "a long enough password", "bob@example.com": bobPassword, "di@example.com": "typed at the terminal"} {
		if _, err := svc.Login(ctx, email, pw, auth.Client{}); err != nil {
			t.Errorf("%s cannot sign in with the password given to the CLI: %v", email, err)
		}
	}

	r = mustRun(t, with("user", "list")...)
	for _, want := range []string{"EMAIL", "ann@example.com", "Ann Lee", "admin,executive", "bob@example.com", "cro", "active"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("user list lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "ed@example.com") || strings.Contains(r.stdout, "argon2") {
		t.Errorf("user list:\n%s", r.stdout)
	}
	r = mustRun(t, with("user", "roles", "--email", "BOB@example.com", "--role", "vp_sales", "--role", "vp_cs")...)
	if r.stdout != "bob@example.com: roles cro → vp_sales, vp_cs.\n" {
		t.Errorf("user roles: %q", r.stdout)
	}

	// Tokens: printed once, as the last word; authenticate as `serve` would.
	r = mustRun(t, with("token", "create", "--name", "ci", "--role", "ingest")...)
	words := strings.Fields(r.stdout)
	ci := words[len(words)-1]
	if !strings.HasPrefix(ci, "cdr_") || !strings.Contains(r.stdout, "Created token ci (id 1; roles: ingest)") {
		t.Fatalf("token create:\n%s", r.stdout)
	}
	if p, err := svc.AuthenticateToken(ctx, ci); err != nil || p.Name != "ci" || !slices.Equal(p.Roles, []string{"ingest"}) {
		t.Fatalf("the printed token does not authenticate: %+v, %v", p, err)
	}
	r = mustRun(t, with("token", "create", "--name", "ann-admin", "--role", "admin", "--user", "ann@example.com")...)
	words = strings.Fields(r.stdout)
	annToken := words[len(words)-1]
	if !strings.Contains(r.stdout, "acting for ann@example.com") {
		t.Errorf("owned token:\n%s", r.stdout)
	}
	r = mustRun(t, with("token", "list")...)
	for _, want := range []string{"ci", "ann-admin", "ingest", "ann@example.com", "cli:tester", "active", "cdr_" + strings.Split(ci, "_")[1] + "_…"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("token list lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, ci) || strings.Contains(r.stdout, annToken) {
		t.Error("token list shows a secret")
	}

	r = mustRun(t, with("user", "disable", "--email", "ann@example.com")...)
	if r.stdout != "Disabled ann@example.com: 1 session ended, 1 token revoked.\n" {
		t.Errorf("user disable: %q", r.stdout)
	}
	if _, err := svc.AuthenticateToken(ctx, annToken); err == nil {
		t.Error("a disabled user's token still works")
	}
	r = mustRun(t, with("token", "revoke", "--name", "ci")...)
	if !strings.Contains(r.stdout, "Revoked token ci (id 1") {
		t.Errorf("token revoke: %q", r.stdout)
	}
	if _, err := svc.AuthenticateToken(ctx, ci); err == nil {
		t.Error("a revoked token still works")
	}
	r = mustRun(t, with("token", "list", "--format", "json")...)
	var tl struct {
		Tokens []struct {
			Name      string  `json:"name"`
			RevokedAt *string `json:"revoked_at"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &tl); err != nil || len(tl.Tokens) != 2 || tl.Tokens[0].RevokedAt == nil || tl.Tokens[1].RevokedAt == nil {
		t.Errorf("token list json: %s (%v)", r.stdout, err)
	}
	r = mustRun(t, with("user", "list", "--format", "json")...)
	var ul struct {
		Users []struct {
			Email      string   `json:"email"`
			Roles      []string `json:"roles"`
			DisabledAt *string  `json:"disabled_at"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ul); err != nil || len(ul.Users) != 4 || ul.Users[0].DisabledAt == nil || ul.Users[1].DisabledAt != nil ||
		!slices.Equal(ul.Users[1].Roles, []string{"vp_sales", "vp_cs"}) || strings.Contains(r.stdout, "argon2") {
		t.Errorf("user list json: %s (%v)", r.stdout, err)
	}

	// Every change is an access event naming the command-line user.
	es, err := auth.Events(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Actor != "" && es[i].Actor != "cli:tester" {
			t.Errorf("event %+v: actor", es[i])
		}
		got = append(got, es[i].Type+" "+es[i].Subject)
	}
	want := []string{
		"user_created user:ann@example.com", "user_created user:bob@example.com", "user_created user:cy@example.com", "user_created user:di@example.com",
		"sign_in user:ann@example.com", "sign_in user:bob@example.com", "sign_in user:di@example.com",
		"roles_changed user:bob@example.com", "token_created token:ci", "token_created token:ann-admin",
		"user_disabled user:ann@example.com", "token_revoked token:ann-admin", "token_revoked token:ci",
	}
	// The three sign-ins ran in map order.
	slices.Sort(got[4:7])
	if !slices.Equal(got, want) {
		t.Errorf("access events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestUserTokenUsage(t *testing.T) {
	data := t.TempDir()
	runWith(t, "a long enough password\n", false, "user", "add", "--email", "ann@example.com", "--role", "admin", "--data", data).want(t, 0, "user add")
	cases := []struct {
		stdin  string
		args   []string
		stderr string
	}{
		{"", []string{"user"}, "a subcommand is required: add, list, disable, enable, roles"},
		{"", []string{"user", "frob"}, `unknown subcommand "frob"; known: add, list, disable, enable, roles`},
		{"", []string{"token", "mint"}, `unknown subcommand "mint"; known: create, list, revoke`},
		{"pw pw pw pw pw\n", []string{"user", "add", "--role", "admin"}, "--email is required"},
		{"pw pw pw pw pw\n", []string{"user", "add", "--email", "b@example.com"}, "--role is required"},
		{"pw pw pw pw pw\n", []string{"user", "add", "--email", "b@example.com", "--role", "boss"}, `--role: unknown role "boss"; known: admin, executive, auditor, ingest, ceo, cro`},
		{"pw pw pw pw pw\n", []string{"user", "add", "--email", "b", "--role", "admin"}, "--email: not an e-mail address"},
		{"", []string{"user", "add", "--email", "b@example.com", "--role", "admin"}, "no password on standard input"},
		{"short\n", []string{"user", "add", "--email", "b@example.com", "--role", "admin"}, "candor user add: the password is shorter than 12 characters\n"},
		{"pw pw pw pw pw\n", []string{"user", "add", "--email", "ANN@example.com", "--role", "admin"}, "--email: a user with e-mail address ann@example.com exists"},
		{"", []string{"user", "add", "--email", "b@example.com", "--role", "admin", "extra"}, `unexpected argument "extra"`},
		{"", []string{"user", "list", "--format", "xml"}, `--format: "xml"`},
		{"", []string{"user", "disable"}, "--email is required"},
		{"", []string{"user", "enable"}, "--email is required"},
		{"", []string{"user", "enable", "--email", "ann@example.com"}, "--email: ann@example.com is not disabled"},
		{"", []string{"user", "roles", "--email", "ann@example.com"}, "--role is required"},
		{"", []string{"user", "roles", "--email", "ann@example.com", "--role", "root"}, `--role: unknown role "root"`},
		{"", []string{"token", "create", "--role", "ingest"}, "--name is required"},
		{"", []string{"token", "create", "--name", "ci"}, "--role is required"},
		{"", []string{"token", "create", "--name", "has space", "--role", "ingest"}, `--name: "has space"`},
		{"", []string{"token", "create", "--name", "ci", "--role", "ingest", "--user", "ann@example.com"}, "--role: the owner ann@example.com does not hold role ingest"},
		{"", []string{"token", "revoke"}, "--name or --id is required"},
		{"", []string{"token", "revoke", "--name", "ci", "--id", "3"}, "not both"},
	}
	// A user or token that does not exist is a failure, not a usage
	// mistake: exit 1, and no usage line.
	missing := []struct {
		args   []string
		stderr string
	}{
		{[]string{"user", "disable", "--email", "zed@example.com"}, "--email: no user has e-mail address zed@example.com"},
		{[]string{"user", "enable", "--email", "zed@example.com"}, "--email: no user has e-mail address zed@example.com"},
		{[]string{"user", "roles", "--email", "zed@example.com", "--role", "admin"}, "--email: no user has e-mail address zed@example.com"},
		{[]string{"token", "create", "--name", "ci", "--role", "ingest", "--user", "zed@example.com"}, "--user: no user has e-mail address zed@example.com"},
		{[]string{"token", "revoke", "--name", "NOSUCH"}, `--name: no token named "NOSUCH"`},
		{[]string{"token", "revoke", "--id", "9"}, "--id: no token has id 9"},
	}
	for _, tc := range missing {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(append([]string(nil), tc.args...), "--data", data)
			r := runWith(t, "", false, args...)
			r.want(t, 1, args...)
			if !strings.Contains(r.stderr, tc.stderr) || strings.Contains(r.stderr, "usage:") {
				t.Errorf("stderr: want %q and no usage line:\n%s", tc.stderr, r.stderr)
			}
		})
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(append([]string(nil), tc.args...), "--data", data)
			r := runWith(t, tc.stdin, false, args...)
			r.want(t, 2, args...)
			if !strings.Contains(r.stderr, tc.stderr) || !strings.Contains(r.stderr, "usage: candor "+tc.args[0]) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.stderr)
			}
		})
	}
	// Nothing was changed by the refused commands.
	svc, st := authService(t, data)
	if us, _ := svc.Users(context.Background()); len(us) != 1 {
		t.Errorf("%d users after refused commands", len(us))
	}
	if ts, _ := svc.Tokens(context.Background()); len(ts) != 0 {
		t.Errorf("%d tokens after refused commands", len(ts))
	}
	if es, _ := auth.Events(context.Background(), st, 0); len(es) != 1 {
		t.Errorf("%d access events after refused commands", len(es))
	}
}

// A disabled user can be enabled again (user add refuses the address):
// they sign in with their password, and the tokens disabling revoked stay
// revoked. Each change is an access event.
func TestUserEnable(t *testing.T) {
	data := t.TempDir()
	d := []string{"--data", data}
	with := func(args ...string) []string { return append(args, d...) }
	runWith(t, "a long enough password\n", false, with("user", "add", "--email", "ann@example.com", "--role", "executive")...).want(t, 0, "user add")
	r := runWith(t, "", false, with("token", "create", "--name", "ann-laptop", "--role", "executive", "--user", "ann@example.com")...)
	r.want(t, 0, "token create")
	words := strings.Fields(r.stdout)
	annToken := words[len(words)-1]
	runWith(t, "", false, with("user", "disable", "--email", "ann@example.com")...).want(t, 0, "user disable")
	r = runWith(t, "another long password\n", false, with("user", "add", "--email", "ann@example.com", "--role", "executive")...)
	r.want(t, 2, "user add of a disabled user")

	r = runWith(t, "", false, with("user", "enable", "--email", " Ann@Example.com")...)
	r.want(t, 0, "user enable")
	if r.stdout != "Enabled ann@example.com: they can sign in again; tokens revoked when they were disabled stay revoked.\n" {
		t.Errorf("user enable: %q", r.stdout)
	}
	svc, st := authService(t, data)
	ctx := context.Background()
	if _, err := svc.Login(ctx, "ann@example.com", "a long enough password", auth.Client{}); err != nil {
		t.Errorf("the enabled user cannot sign in: %v", err)
	}
	if _, err := svc.AuthenticateToken(ctx, annToken); err == nil {
		t.Error("enabling the owner brought a revoked token back")
	}
	if r := runWith(t, "", false, with("user", "list")...); !strings.Contains(r.stdout, "active") || strings.Contains(r.stdout, "disabled") {
		t.Errorf("user list after enable:\n%s", r.stdout)
	}
	es, err := auth.Events(ctx, st, 3)
	if err != nil {
		t.Fatal(err)
	}
	if e := es[1]; e.Type != auth.EventUserEnabled || e.Subject != "user:ann@example.com" || e.Actor != "cli:tester" || !slices.Equal(e.Roles, []string{"executive"}) {
		t.Errorf("access event of the enable: %+v (then %+v)", e, es[0])
	}
}

// --data naming a directory that holds an embedded store, while CANDOR_DB
// (or db: in the file) names PostgreSQL, is refused before anything is
// opened: the command would have worked on PostgreSQL — a user disabled
// there while the one meant stayed active. Nothing connects to the
// (unreachable) database.
func TestDataFlagBesideAPostgresStore(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	runWith(t, "", false, "user", "add", "--data", data, "--email", "sup@example.com", "--role", "support", "--generate-password").want(t, 0, "user add")
	env, out, errb := testEnv(map[string]string{"USER": "tester", "CANDOR_DB": "postgres://candor@127.0.0.1:1/none?sslmode=disable"})
	code := Run(context.Background(), env, []string{"user", "disable", "--data", data, "--email", "sup@example.com"})
	if code != 2 || !strings.Contains(errb.String(), "holds an embedded store") || !strings.Contains(errb.String(), "unset CANDOR_DB") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 2 naming CANDOR_DB", code, out.String(), errb.String())
	}
	r := runWith(t, "", false, "user", "list", "--data", data)
	if !strings.Contains(r.stdout, "active") {
		t.Errorf("the user after the refusal: %q", r.stdout)
	}
}

// The actor of a command-line change is the account the process runs as
// (a systemd unit, a container without USER: "candor-svc" where it had
// been "cli:unknown"); USER, LOGNAME or SUDO_USER naming someone else is
// kept beside it as a claim, never in its place: USER=alice had made any
// login's changes alice's.
func TestCLIActorIsTheOSAccount(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		vars  map[string]string
		email string
		want  string
	}{
		{nil, "ann@example.com", "cli:candor-svc"},
		{map[string]string{"LOGNAME": "bob"}, "bob@example.com", "cli:candor-svc (as LOGNAME=bob)"},
		{map[string]string{"USER": "cy"}, "cy@example.com", "cli:candor-svc (as USER=cy)"},
		{map[string]string{"USER": "candor-svc", "LOGNAME": "candor-svc"}, "dee@example.com", "cli:candor-svc"},
		{map[string]string{"USER": "alice", "LOGNAME": "alice", "SUDO_USER": "bob"}, "eve@example.com", "cli:candor-svc (as USER=alice, SUDO_USER=bob)"},
	} {
		env, _, errb := testEnv(c.vars)
		env.OSAccount = func() string { return "candor-svc" }
		if code := Run(context.Background(), env, []string{"user", "add", "--data", data, "--email", c.email, "--role", "admin", "--generate-password"}); code != 0 {
			t.Fatalf("user add: exit %d, %s", code, errb.String())
		}
		_, st := authService(t, data)
		es, err := auth.Events(context.Background(), st, 1)
		if err != nil || len(es) != 1 || es[0].Actor != c.want {
			t.Errorf("%v: access event %+v (%v); want actor %s", c.vars, es, err, c.want)
		}
	}
	// No account known: the claim still does not stand alone.
	env, _, _ := testEnv(map[string]string{"USER": "mallory"})
	env.OSAccount = nil
	if got := cliActor(env).Name; got != "cli:unknown (as USER=mallory)" {
		t.Errorf("without an account: %q", got)
	}
	// The account's name, as the operating system has it.
	if u, err := user.Current(); err == nil && u.Username != "" {
		if got := osAccount(); got != u.Username {
			t.Errorf("osAccount() = %q, want %q", got, u.Username)
		}
	}
}
