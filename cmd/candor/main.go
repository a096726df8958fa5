// Command candor is Candor's only binary: import, scorecard, metric drill-
// down, HTTP server, demo data and benchmarks. main only dispatches; each
// subcommand parses its own flags and calls the internal packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/signal"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gcpace"
	"github.com/candor/candor/internal/hugepages"
	"github.com/candor/candor/internal/prefault"
)

// command is one subcommand.
type command struct {
	name, args, help string
	run              func(ctx context.Context, env *Env, args []string) error
	// oneShot says the command computes one answer from the dataset and
	// exits: it runs under gcpace.OneShot.
	oneShot bool
}

var commands []command

func register(c command) { commands = append(commands, c) }

// Env is what a command may touch: streams and the process environment,
// injectable so commands run inside tests.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Environ lists the environment as KEY=VALUE (os.Environ), so unknown
	// CANDOR_* variables are caught; nil skips the check.
	Environ func() []string
	// IsTerminal reports whether a stream is an interactive terminal
	// (colours, progress bars).
	IsTerminal func(f any) bool
	// OSAccount names the operating-system account running the command:
	// the actor of its changes (cliActor), with USER or LOGNAME beside it
	// as a claim when they name someone else; nil names none.
	OSAccount func() string
	// oneShot is the running command's registration (command.oneShot),
	// set by Run: the engine a command opens follows it (app.go).
	oneShot bool
}

// usageError is a command-line mistake: exit code 2 and a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError ends a command with its own exit code (candor gate check: 1
// deny, 3 escalate, 4 no decision), printing err when there is one.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ, IsTerminal: isTerminal, OSAccount: osAccount}
	// The collector's headroom follows what the work needs, not the size
	// of the dataset held (internal/gcpace); GOGC or GOMEMLIMIT set by the
	// operator take over instead.
	if gcpace.Enabled(os.Getenv) {
		gcpace.Start(pacing(os.Args[1:]))
	}
	// A one-shot command's burst of fresh heap faults in 2 MiB pages
	// rather than 4 KiB ones: ~40 ms of a ~200 ms `candor scorecard` at
	// scale 1 (internal/hugepages); and its code is mapped in one call
	// rather than reached a fault at a time (internal/prefault; an older
	// kernel's refusal changes nothing).
	if oneShot(os.Args[1:]) {
		prefault.Executable()
		hugepages.Back(hugepages.Size)
	}
	os.Exit(Run(ctx, env, os.Args[1:]))
}

// pacing is the collector's policy for a command line.
func pacing(args []string) gcpace.Policy {
	if oneShot(args) {
		return gcpace.OneShot
	}
	return gcpace.Default
}

// oneShot reports whether a command line runs a command that computes one
// answer and exits.
func oneShot(args []string) bool {
	for _, c := range commands {
		if len(args) > 0 && c.name == args[0] && c.oneShot {
			return true
		}
	}
	return false
}

// Run executes a command line and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	// No command is a usage mistake (a script that lost its arguments must
	// not pass); asking for help is not.
	if len(args) == 0 {
		printUsage(env.Stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) == 1 || args[0] != "help" {
			printUsage(env.Stdout)
			return 0
		}
		// candor help CMD [SUB] is candor CMD [SUB] --help: the command's
		// own help, not the list of commands.
		if !slices.ContainsFunc(commands, func(c command) bool { return c.name == args[1] }) {
			fmt.Fprintf(env.Stderr, "candor help: unknown command %q%s\n\n", args[1], didYouMean(closestCommand(args[1])))
			printUsage(env.Stderr)
			return 2
		}
		args = append(args[1:], "--help")
	case "--version", "-version":
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands {
		if c.name == args[0] {
			cenv := *env
			cenv.oneShot = c.oneShot
			err := c.run(ctx, &cenv, args[1:])
			if err == nil {
				return 0
			}
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			name, usage := c.name, c.name+" "+c.args
			var se *subcommandError
			if errors.As(err, &se) {
				name, usage = se.name, se.name+" [flags]"
			}
			var ee *exitError
			if errors.As(err, &ee) {
				if ee.err != nil {
					fmt.Fprintf(env.Stderr, "candor %s: %v\n", name, ee.err)
				}
				return ee.code
			}
			fmt.Fprintf(env.Stderr, "candor %s: %v\n", name, err)
			var ue *usageError
			if errors.As(err, &ue) {
				fmt.Fprintf(env.Stderr, "usage: candor %s (candor %s -h for help)\n", usage, name)
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "candor: unknown command %q%s\n\n", args[0], didYouMean(closestCommand(args[0])))
	printUsage(env.Stderr)
	return 2
}

// closestCommand is the command nearest to a mistyped name (serve for
// serv), as closestFlag finds a flag, or "" when none is near.
func closestCommand(name string) string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return domain.Closest(name, names)
}

// didYouMean words a suggestion after an unknown name: " (did you mean
// serve?)", or nothing when there is none.
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return " (did you mean " + s + "?)"
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Candor: governed KPIs from the records your tools already keep.")
	fmt.Fprintln(w, "\nUsage: candor COMMAND [flags]\n\nCommands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	// The names' column is as wide as the longest ("escalations" ran into
	// its description in a fixed ten).
	width := 0
	for _, c := range sorted {
		width = max(width, len(c.name))
	}
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun candor COMMAND -h for a command's flags. Configuration: --config FILE or CANDOR_CONFIG; see docs/configuration.md.")
}

// flags returns a FlagSet that reports errors instead of exiting.
func flags(env *Env, name, args, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package prints a parse error and the whole usage itself;
	// parse reports the error once, with a one-line hint, and the usage
	// is printed only when asked for (-h).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	// Help asked for (-h, candor help CMD) is the command's output, on
	// standard output as candor help's list is: it had gone to stderr,
	// so that candor help serve | less showed nothing.
	helpText.Store(fs, func() {
		fmt.Fprintf(env.Stdout, "usage: candor %s %s\n\n%s\n\nFlags:\n", name, args, help)
		printFlags(env.Stdout, fs)
	})
	return fs
}

// printFlags lists a command's flags as flag.PrintDefaults does, but with
// two dashes (--as-of), as the README, the docs and the error messages
// write them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  --%s", f.Name)
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			b.WriteString(" " + name)
		}
		// One-letter flags without a value fit on the flag's line, as
		// flag.PrintDefaults puts them.
		if b.Len() <= 5 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if !zeroDefault(f) {
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				fmt.Fprintf(&b, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(&b, " (default %v)", f.DefValue)
			}
		}
		fmt.Fprintln(w, b.String())
	})
}

// zeroDefault reports whether a flag's default is its type's zero value,
// which the help leaves out (as flag.PrintDefaults does).
func zeroDefault(f *flag.Flag) bool {
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	v, ok := z.Interface().(flag.Value)
	if !ok {
		return f.DefValue == ""
	}
	defer func() { recover() }() // a Value whose String needs more than its zero
	return f.DefValue == v.String()
}

// flagProblem words the flag package's parse errors as Candor does, with
// two dashes, suggesting the closest known flag for an unknown one
// (--asof: "did you mean --as-of?").
func flagProblem(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		if best := closestFlag(fs, name); best != "" {
			return usagef("unknown flag --%s (did you mean --%s?)", name, best)
		}
		return usagef("unknown flag --%s", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return usagef("--%s needs a value", name)
	}
	if m := flagValueError.FindStringSubmatch(msg); m != nil {
		if f := fs.Lookup(m[2]); f != nil && m[3] == "parse error" {
			typ, _ := flag.UnquoteUsage(f)
			if word, ok := map[string]string{"float": "a number", "int": "a whole number", "uint": "a whole number",
				"duration": "a duration (e.g. 90s, 5m, 2h)"}[typ]; ok {
				return usagef("--%s: %s is not %s", m[2], m[1], word)
			}
		}
		return usagef("--%s: %s is not a valid value: %s", m[2], m[1], m[3])
	}
	if m := flagBoolError.FindStringSubmatch(msg); m != nil {
		return usagef("--%s: %s is not true or false", m[2], m[1])
	}
	if s, ok := strings.CutPrefix(msg, "bad flag syntax: "); ok {
		return usagef("bad flag %q (flags are --name or --name=value)", s)
	}
	return &usageError{msg}
}

var (
	flagValueError = regexp.MustCompile(`^invalid value ("(?:[^"\\]|\\.)*") for flag -([^:]+): (.*)$`)
	flagBoolError  = regexp.MustCompile(`^invalid boolean value ("(?:[^"\\]|\\.)*") for -([^:]+): (.*)$`)
)

// closestFlag is the command's flag nearest to a mistyped name, as
// domain.Closest finds a mistyped record field or configuration key
// (asof for as-of, windo for window), or "" when none is near.
func closestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return domain.Closest(name, names)
}

// helpText holds each FlagSet's usage printer for parse to call on -h.
var helpText sync.Map

// parse parses flags, turning flag errors into usage errors. Flags may
// follow positional arguments (candor import FILE --skip-invalid).
// parseNone parses a command that takes flags only: a positional argument
// is a usage error naming it.
func parseNone(fs *flag.FlagSet, args []string) error {
	rest, err := parse(fs, args)
	if err == nil && len(rest) > 0 {
		err = usagef("unexpected argument %q", rest[0])
	}
	return err
}

// fileProblem words why a file named on the command line cannot be read,
// naming it once: "nosuch.ndjson: no such file", not Go's "open
// nosuch.ndjson: no such file or directory".
func fileProblem(name string, err error) string {
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return fmt.Sprintf("%s: no such file", name)
	case errors.Is(err, iofs.ErrPermission):
		return fmt.Sprintf("%s: permission denied", name)
	}
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v", name, pe.Err)
	}
	return err.Error()
}

// checkFormat refuses a --format other than text or json.
func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usagef("--format: %q is not text or json", f)
	}
	return nil
}

func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if usage, ok := helpText.Load(fs); ok {
					usage.(func())()
				}
				return nil, err
			}
			return nil, flagProblem(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func joinLines(s []string) string { return strings.Join(s, "\n") }
