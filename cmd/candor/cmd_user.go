package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/candor/candor/internal/plural"

	"golang.org/x/term"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/oidc"
	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/sqlite"
)

func init() {
	register(command{name: "user", args: "add|list|disable|enable|roles [flags]", help: "local users: add (password from stdin), list, disable, enable, set roles", run: runUser})
}

// stringsFlag is a repeatable flag (--role a --role b); commas separate
// values too (--role a,b).
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s = append(*s, part)
		}
	}
	return nil
}

// subcommand runs args[0] of a command that has subcommands.
func subcommand(ctx context.Context, env *Env, cmd string, args []string, subs map[string]func(context.Context, *Env, []string) error, order []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		return usagef("a subcommand is required: %s", strings.Join(order, ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		// Asked for: on standard output, as a command's own help is.
		fmt.Fprintf(env.Stdout, "usage: candor %s %s [flags]\n\n", cmd, strings.Join(order, "|"))
		// The list of commands' line says what the subcommands are for,
		// which their names alone do not.
		for _, c := range commands {
			if c.name == cmd && c.help != "" {
				fmt.Fprintf(env.Stdout, "%s%s.\n\n", strings.ToUpper(c.help[:1]), c.help[1:])
			}
		}
		fmt.Fprintf(env.Stdout, "Run candor %s SUBCOMMAND -h for a subcommand's flags.\n", cmd)
		return flag.ErrHelp
	}
	run, ok := subs[args[0]]
	if !ok {
		return usagef("unknown subcommand %q; known: %s", args[0], strings.Join(order, ", "))
	}
	if err := run(ctx, env, args[1:]); err != nil {
		return &subcommandError{name: cmd + " " + args[0], err: err}
	}
	return nil
}

// subcommandError is a subcommand's error, so that it is printed under
// the subcommand's name ("candor ledger head: --as-of: …", its usage line
// pointing at its own help) rather than the command's, which had read as
// if the flag were the command's.
type subcommandError struct {
	name string
	err  error
}

func (e *subcommandError) Error() string { return e.err.Error() }
func (e *subcommandError) Unwrap() error { return e.err }

func runUser(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "user", args, map[string]func(context.Context, *Env, []string) error{
		"add": runUserAdd, "list": runUserList, "disable": runUserDisable, "enable": runUserEnable, "roles": runUserRoles,
	}, []string{"add", "list", "disable", "enable", "roles"})
}

// authApp is the wired application with its access-control service.
type authApp struct {
	*app
	svc *auth.Service
}

// openAuth opens an existing store: a token or a change made in a new,
// empty one (a mistyped --data) would silently not be the one served.
func openAuth(ctx context.Context, env *Env, c common) (*authApp, error) {
	c.access = true
	a, err := c.open(ctx, env)
	if err != nil {
		return nil, err
	}
	return withAuth(a)
}

func withAuth(a *app) (*authApp, error) {
	svc, err := a.authService()
	if err != nil {
		a.Close()
		return nil, err
	}
	return &authApp{app: a, svc: svc}, nil
}

// authService is access control over the app's store, configured.
func (a *app) authService() (*auth.Service, error) {
	g, err := a.grants()
	if err != nil {
		return nil, err
	}
	opt, err := a.cfg.AuthOptions()
	if err != nil {
		return nil, err
	}
	return auth.NewService(a.store, g, opt)
}

// oidcClient is sign-in through the configured OpenID Connect provider,
// nil when auth.oidc is not set.
func (a *app) oidcClient(svc *auth.Service) (*oidc.Client, error) {
	cfg, err := a.cfg.OIDC(svc.Grants())
	if err != nil || cfg == nil {
		return nil, err
	}
	return oidc.New(*cfg, svc)
}

// cliActor is who the access events, the ledger, acknowledgements and
// silences name for a command-line change: the account the process runs
// as, which whoever runs the command cannot choose. USER, LOGNAME and
// SUDO_USER can be set to anything, so a name they give that differs from
// the account is kept beside it as a claim, not in its place:
// "cli:root (as USER=alice)", "cli:root (as SUDO_USER=alice)" under sudo.
// They had named the actor alone whenever set, so any login could record
// its changes as someone else's.
func cliActor(env *Env) auth.Actor {
	account := ""
	if env.OSAccount != nil {
		account = env.OSAccount()
	}
	if account == "" {
		account = "unknown"
	}
	var claims, seen []string
	for _, v := range []string{"USER", "LOGNAME", "SUDO_USER"} {
		name := env.Getenv(v)
		if name == "" || name == account || slices.Contains(seen, name) {
			continue
		}
		seen = append(seen, name)
		claims = append(claims, v+"="+name)
	}
	if len(claims) > 0 {
		account += " (as " + strings.Join(claims, ", ") + ")"
	}
	return auth.CLIActor(account)
}

// osAccount is the account the process runs as: its name, or its uid
// where the account database has none (a container run as --user 1000).
func osAccount() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid=" + strconv.Itoa(os.Getuid())
}

// flagOf names the flag that carries an auth input field.
var flagOf = map[string]string{
	"email": "--email", "name": "--name", "roles": "--role", "owner": "--user", "id": "--id",
	"password": "the password",
}

// inputError turns the service's bad-input errors into usage errors
// naming the flag (exit status 2). A user or token the flag names that
// does not exist is a failure (exit status 1) without the usage line: the
// command was written right, and the usage would not help.
func inputError(err error) error {
	var ie *auth.InputError
	if errors.As(err, &ie) {
		f := flagOf[ie.Field]
		if f == "" {
			f = ie.Field
		}
		if ie.NotFound {
			return fmt.Errorf("%s: %s", f, ie.Msg)
		}
		if rest, ok := strings.CutPrefix(ie.Msg, ie.Field+" "); ok && !strings.HasPrefix(f, "--") {
			// A field named in words is its message's subject: "the
			// password is shorter than 12 characters", not "the password:
			// password is shorter …".
			return usagef("%s %s", f, rest)
		}
		return usagef("%s: %s", f, ie.Msg)
	}
	return err
}

// needRoles and need check, once flags are parsed, that a required flag
// was given.
func needRoles(roles *stringsFlag) func() error {
	return func() error {
		if len(*roles) == 0 {
			return usagef("--role is required (repeat it for several roles)")
		}
		return nil
	}
}

func need(flag string, value *string) func() error {
	return func() error {
		if *value == "" {
			return usagef("--%s is required", flag)
		}
		return nil
	}
}

// parseAndOpen parses a user or token subcommand's flags (no positional
// arguments), runs the checks on them, and only then opens the store: bad
// input changes nothing.
func parseAndOpen(ctx context.Context, env *Env, fs *flag.FlagSet, c *common, args []string, checks ...func() error) (*authApp, error) {
	if err := parseChecked(fs, args, checks...); err != nil {
		return nil, err
	}
	return openAuth(ctx, env, *c)
}

// parseChecked parses flags only (no positional arguments) and runs the
// checks on them.
func parseChecked(fs *flag.FlagSet, args []string, checks ...func() error) error {
	if err := parseNone(fs, args); err != nil {
		return err
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func runUserAdd(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "user add", "--email E --role R [--role R2 …] [--name N] [--generate-password]",
		"Adds a local user. The password (at least 12 characters) is read from standard input, e.g.\n"+
			"  printf '%s' \"$PASSWORD\" | candor user add --email ann@example.com --role executive\n"+
			"With --generate-password, or at a terminal when nothing is typed, a password is generated and\n"+
			"printed once. Roles: see docs/access.md.")
	var c common
	c.bind(fs)
	email := fs.String("email", "", "the user's e-mail address (their sign-in name)")
	name := fs.String("name", "", "display name (optional)")
	var roles stringsFlag
	fs.Var(&roles, "role", "a role (repeatable): admin, executive, auditor, ingest, ceo, cro, vp_sales, vp_marketing, vp_cs, engineering, support")
	generate := fs.Bool("generate-password", false, "generate a password and print it once instead of reading one")
	if err := parseChecked(fs, args, need("email", email), needRoles(&roles)); err != nil {
		return err
	}
	// The first administrator may come before the first serve or import,
	// so user add may make the store; but only once everything it was
	// given is checked, against the configuration's roles, which a new
	// store starts from.
	cfg, environ, err := readConfig(c, env)
	if err != nil {
		return err
	}
	a, err := openConfig(ctx, cfg, false, environ, false, nil)
	fresh := errors.Is(err, sqlite.ErrNoStore) || errors.Is(err, postgres.ErrNoSchema)
	var grants *auth.Grants
	switch {
	case fresh:
		cat, err := cfg.Catalog()
		if err != nil {
			return err
		}
		if grants, err = cfg.Grants(cat); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		defer a.Close()
		aa, err := withAuth(a)
		if err != nil {
			return err
		}
		grants = aa.svc.Grants()
	}
	// Roles and address are checked before a password is asked for.
	if _, err := grants.CheckRoles(roles); err != nil {
		return usagef("--role: %v", err)
	}
	if _, err := auth.NormalizeEmail(*email); err != nil {
		return usagef("--email: %v", err)
	}
	pw, generated, err := readPassword(env, *email, *generate)
	if err != nil {
		return err
	}
	nu := auth.NewUser{Email: *email, Name: *name, Roles: roles, Password: pw}
	if err := auth.CheckNewUser(grants, nu); err != nil {
		return inputError(err)
	}
	if fresh {
		if a, err = openConfig(ctx, cfg, true, nil, false, nil); err != nil {
			return err
		}
		defer a.Close()
		if cfg.DB != "" {
			fmt.Fprintln(env.Stdout, "Created a new Candor store in the PostgreSQL database.")
		} else {
			fmt.Fprintf(env.Stdout, "Created a new Candor store in %s.\n", cfg.Data)
		}
	}
	aa, err := withAuth(a)
	if err != nil {
		return err
	}
	u, err := aa.svc.AddUser(ctx, cliActor(env), nu)
	if err != nil {
		return inputError(err)
	}
	fmt.Fprintf(env.Stdout, "Added user %s (roles: %s).\n", u.Email, strings.Join(u.Roles, ", "))
	if generated {
		fmt.Fprintf(env.Stdout, "Password (shown only now; hand it over safely): %s\n", pw)
	}
	return nil
}

// readPassword gets a new user's password: generated when asked, typed at
// a terminal (without echo; nothing typed generates one), or the first
// line of standard input.
func readPassword(env *Env, email string, generate bool) (pw string, generated bool, err error) {
	if generate {
		pw, err = auth.GeneratePassword()
		return pw, true, err
	}
	in := bufio.NewReader(io.LimitReader(env.Stdin, 2*(auth.MaxPasswordLen+2)))
	if env.IsTerminal(env.Stdin) {
		fmt.Fprintf(env.Stderr, "Password for %s (at least %d characters; press Enter to generate one): ", email, auth.MinPasswordLen)
		first, err := readSecretLine(env, in)
		if err != nil {
			return "", false, err
		}
		if first == "" {
			pw, err = auth.GeneratePassword()
			return pw, true, err
		}
		fmt.Fprint(env.Stderr, "Again: ")
		again, err := readSecretLine(env, in)
		if err != nil {
			return "", false, err
		}
		if again != first {
			return "", false, usagef("the two passwords typed differ; nothing was changed")
		}
		return first, false, nil
	}
	line, err := in.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, fmt.Errorf("reading the password from standard input: %w", err)
	}
	pw = strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", false, usagef("no password on standard input: pipe one in (printf '%%s' \"$PASSWORD\" | candor user add …) or use --generate-password")
	}
	return pw, false, nil
}

// readSecretLine reads a line from a terminal without echoing it; from a
// stand-in terminal (tests) it reads a plain line from in.
func readSecretLine(env *Env, in *bufio.Reader) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// openList parses a list subcommand's flags and opens the store.
func openList(ctx context.Context, env *Env, name, help string, args []string) (a *authApp, format string, err error) {
	fs := flags(env, name, "[--format text|json]", help)
	var c common
	c.bind(fs)
	fs.StringVar(&format, "format", "text", "output format: text or json")
	a, err = parseAndOpen(ctx, env, fs, &c, args, func() error {
		if format != "text" && format != "json" {
			return usagef("--format: %q; want text or json", format)
		}
		return nil
	})
	return a, format, err
}

func runUserList(ctx context.Context, env *Env, args []string) error {
	a, format, err := openList(ctx, env, "user list", "Lists the local users: e-mail, name, roles, whether disabled, when created.", args)
	if err != nil {
		return err
	}
	defer a.Close()
	us, err := a.svc.Users(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		type user struct {
			ID         int64      `json:"id"`
			Email      string     `json:"email"`
			Name       string     `json:"name"`
			Roles      []string   `json:"roles"`
			CreatedAt  time.Time  `json:"created_at"`
			DisabledAt *time.Time `json:"disabled_at"`
		}
		out := make([]user, len(us))
		for i, u := range us {
			out[i] = user{u.ID, u.Email, u.Name, u.Roles, u.CreatedAt, timeOrNil(u.DisabledAt)}
		}
		return writeJSONOut(env, map[string]any{"users": out})
	}
	if len(us) == 0 {
		fmt.Fprintln(env.Stdout, "No users yet: candor user add --email E --role R")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLES\tSTATUS\tCREATED")
	for _, u := range us {
		status := "active"
		if u.Disabled() {
			status = "disabled " + when(u.DisabledAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, orDash(u.Name), strings.Join(u.Roles, ","), status, when(u.CreatedAt))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// openForEmail parses the flags of a subcommand that takes --email only
// and opens the store.
func openForEmail(ctx context.Context, env *Env, name, help string, args []string) (*authApp, string, error) {
	fs := flags(env, name, "--email E", help)
	var c common
	c.bind(fs)
	email := fs.String("email", "", "the user's e-mail address")
	a, err := parseAndOpen(ctx, env, fs, &c, args, need("email", email))
	return a, *email, err
}

func runUserDisable(ctx context.Context, env *Env, args []string) error {
	a, email, err := openForEmail(ctx, env, "user disable", "Disables a user: they can no longer sign in, their sessions end and the tokens they own are revoked.", args)
	if err != nil {
		return err
	}
	defer a.Close()
	ns, nt, err := a.svc.DisableUser(ctx, cliActor(env), email)
	if err != nil {
		return inputError(err)
	}
	shown, _ := auth.NormalizeEmail(email) // accepted: the store found the user
	fmt.Fprintf(env.Stdout, "Disabled %s: %s ended, %s revoked.\n", shown, plural.Count(ns, "session"), plural.Count(nt, "token"))
	return nil
}

func runUserEnable(ctx context.Context, env *Env, args []string) error {
	a, email, err := openForEmail(ctx, env, "user enable", "Lets a disabled user sign in again, with the roles they had. The sessions and tokens disabling ended stay ended.", args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.svc.EnableUser(ctx, cliActor(env), email); err != nil {
		return inputError(err)
	}
	shown, _ := auth.NormalizeEmail(email) // accepted: the store found the user
	fmt.Fprintf(env.Stdout, "Enabled %s: they can sign in again; tokens revoked when they were disabled stay revoked.\n", shown)
	return nil
}

func runUserRoles(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "user roles", "--email E --role R [--role R2 …]", "Sets a user's roles (replacing the ones they have). Signed-in sessions get the new roles at their next request.")
	var c common
	c.bind(fs)
	email := fs.String("email", "", "the user's e-mail address")
	var roles stringsFlag
	fs.Var(&roles, "role", "a role (repeatable)")
	a, err := parseAndOpen(ctx, env, fs, &c, args, need("email", email), needRoles(&roles))
	if err != nil {
		return err
	}
	defer a.Close()
	before, after, err := a.svc.SetRoles(ctx, cliActor(env), *email, roles)
	if err != nil {
		return inputError(err)
	}
	e := strings.ToLower(strings.TrimSpace(*email))
	if strings.Join(before, ",") == strings.Join(after, ",") {
		fmt.Fprintf(env.Stdout, "%s: roles unchanged (%s).\n", e, strings.Join(after, ", "))
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s: roles %s → %s.\n", e, strings.Join(before, ", "), strings.Join(after, ", "))
	return nil
}
