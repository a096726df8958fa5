package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's command table names every flag of candor demo, candor generate and candor release
// customers, as their help lists them (demo's row had left out --days, --seed and --end,
// generate's --days, release customers' --as-of). The shared store flags (--config, --data, --db)
// are described once, above the table.
func TestREADMENamesTheFlags(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(string(b), "\n")
	flag := regexp.MustCompile(`(?m)^  (--[a-z-]+)`)
	for _, c := range []struct {
		row    string
		help   []string
		shared []string
	}{
		{"| `candor demo ", []string{"demo"}, nil},
		{"| `candor generate ", []string{"generate"}, nil},
		{"| `candor release customers ", []string{"release", "customers"}, []string{"--config", "--data", "--db", "--window", "--service"}},
	} {
		var row string
		for _, r := range rows {
			if strings.HasPrefix(r, c.row) {
				row, _, _ = strings.Cut(r, "` | ") // the first cell (its `\|` is not the end)
			}
		}
		if row == "" {
			t.Errorf("the README has no row %s…", c.row)
			continue
		}
		h := run(t, append(c.help, "--help")...)
		flags := flag.FindAllStringSubmatch(h.stdout, -1)
		if len(flags) == 0 {
			t.Fatalf("candor %s --help lists no flags:\n%s", strings.Join(c.help, " "), h.stdout)
		}
		for _, f := range flags {
			if !strings.Contains(row, f[1]) && !slices.Contains(c.shared, f[1]) {
				t.Errorf("the README's row %s… lacks %s", c.row, f[1])
			}
		}
	}
}
