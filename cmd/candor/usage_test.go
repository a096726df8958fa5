package main

import (
	"bytes"
	"strings"
	"testing"
)

// Every command's help starts in one column, a space at least after the
// longest name ("escalations" once ran into its text).
func TestUsageAlignsTheCommands(t *testing.T) {
	var b bytes.Buffer
	printUsage(&b)
	col := -1
	for _, c := range commands {
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "  "+c.name+" ") {
				line = l
			}
		}
		at := strings.Index(line, c.help)
		if line == "" || at < 0 {
			t.Fatalf("no line for %q in:\n%s", c.name, b.String())
		}
		if col >= 0 && at != col {
			t.Errorf("%q's help starts at column %d, the others' at %d", c.name, at, col)
		}
		col = at
	}
}
