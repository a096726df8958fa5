package main

import (
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
		if got != want || !strings.Contains(got.stderr, "usage: candor "+strings.Join(args, " ")) {
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
