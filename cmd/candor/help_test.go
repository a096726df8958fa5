package main

import (
	"regexp"
	"strings"
	"testing"
)

// candor help CMD prints CMD's help, as candor CMD --help does, where it
// had printed the list of commands; a subcommand's too.
func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{"import"}, {"user", "disable"}, {"scorecard"}} {
		got := run(t, append([]string{"help"}, args...)...)
		want := run(t, append(args, "--help")...)
		got.want(t, 0, "help", args[0])
		if got != want || !strings.Contains(got.stdout, "usage: candor "+strings.Join(args, " ")) || got.stderr != "" {
			t.Errorf("candor help %s = %+v\nwant as candor %[1]s --help: %+v", strings.Join(args, " "), got, want)
		}
		if strings.Contains(got.stdout+got.stderr, "Usage: candor COMMAND") {
			t.Errorf("candor help %s printed the list of commands", strings.Join(args, " "))
		}
	}
	r := run(t, "help", "frobnicate")
	r.want(t, 2, "help", "frobnicate")
	if !strings.Contains(r.stderr, `candor help: unknown command "frobnicate"`) {
		t.Errorf("stderr = %q", r.stderr)
	}
}

// Every command's help lists its flags with two dashes (--as-of), as the
// README, the docs and the error messages write them, not Go's -as-of.
func TestHelpFlagsHaveTwoDashes(t *testing.T) {
	oneDash := regexp.MustCompile(`(?m)^  -[a-z]`)
	var lines [][]string
	for _, c := range commands {
		lines = append(lines, []string{c.name})
	}
	lines = append(lines, []string{"report", "board"}, []string{"user", "disable"}, []string{"alert", "silence"})
	for _, args := range lines {
		r := run(t, append([]string{"help"}, args...)...)
		if oneDash.MatchString(r.stdout) {
			t.Errorf("candor help %s lists a flag with one dash:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	r := run(t, "help", "scorecard")
	for _, want := range []string{"\n  --as-of string\n", "\n  --all\n", "\n  --window string\n", `(default "text")`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("candor help scorecard lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, "help", "generate"); !strings.Contains(r.stdout, "  --scale float\n") {
		t.Errorf("candor help generate:\n%s", r.stdout)
	}
}

// A flag the command does not have is named in Candor's words with two
// dashes, with the closest known flag when one is close; exit 2.
func TestUnknownFlagSuggests(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"scorecard", "--asof", "2026-01-01"}, "candor scorecard: unknown flag --asof (did you mean --as-of?)\n", "not defined"},
		{[]string{"scorecard", "--windo", "7d"}, "unknown flag --windo (did you mean --window?)", "not defined"},
		{[]string{"scorecard", "--bogus"}, "candor scorecard: unknown flag --bogus\n", "did you mean"},
		{[]string{"scorecard", "--window"}, "--window needs a value", "argument"},
		{[]string{"scorecard", "--all=maybe"}, `--all: "maybe" is not true or false`, "boolean"},
		{[]string{"generate", "--out", "-", "--scale", "abc"}, `--scale: "abc" is not a number`, "parse error"},
	} {
		r := run(t, tc.args...)
		r.want(t, 2, tc.args...)
		if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, tc.not) || strings.Contains(r.stderr, " -"+strings.TrimLeft(tc.args[1], "-")) {
			t.Errorf("candor %s: stderr =\n%s\nwant %q", strings.Join(tc.args, " "), r.stderr, tc.want)
		}
	}
}

// Every command answers -h, --help and candor help COMMAND with its help
// on standard output (it had been stderr, so candor help serve | less
// showed nothing), nothing on stderr,
// and so does each subcommand its registration names (gate check, release
// show): gate and release had called -h an unknown subcommand, exit 2,
// while their own usage line pointed at it.
func TestEveryCommandHelps(t *testing.T) {
	subList := regexp.MustCompile(`^[a-z][a-z-]*(\|[a-z][a-z-]*)*$`)
	for _, c := range commands {
		var subs []string
		if first, _, _ := strings.Cut(c.args, " "); subList.MatchString(first) {
			subs = strings.Split(first, "|")
		}
		lines := [][]string{{c.name}}
		for _, s := range subs {
			lines = append(lines, []string{c.name, s})
		}
		for _, args := range lines {
			helped := run(t, append([]string{"help"}, args...)...)
			for _, asked := range []result{helped, run(t, append(args, "-h")...), run(t, append(args, "--help")...)} {
				if asked.code != 0 || asked != helped || !strings.HasPrefix(asked.stdout, "usage: candor "+strings.Join(args, " ")) || asked.stderr != "" {
					t.Errorf("candor %s's help = %+v\nwant exit 0, the same for -h, --help and candor help, starting with its usage on stdout", strings.Join(args, " "), asked)
					break
				}
			}
			// A command's help names each of its subcommands.
			if len(args) == 1 {
				for _, s := range subs {
					if !strings.Contains(helped.stdout, s) {
						t.Errorf("candor help %s does not name its subcommand %s:\n%s", c.name, s, helped.stdout)
					}
				}
			}
		}
	}
}
