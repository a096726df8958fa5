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
// generate's --days, release customers' --as-of), and of the gate subcommands that ask a server
// (retro-validate's had left out --server). The shared store flags (--config, --data, --db)
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
		// gate retro-validate's row had left out --server.
		{"| `candor gate retro-validate ", []string{"gate", "retro-validate"}, []string{"--config", "--data", "--db"}},
		{"| `candor gate approve", []string{"gate", "approve"}, []string{"--config", "--data", "--db", "--token-file"}},
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

// docs/configuration.md's CANDOR_URL and CANDOR_TOKEN rows name every command whose help says it
// reads them (they had named gate check alone, while gate approve, reject and retro-validate ask
// the server CANDOR_URL names too).
func TestConfigurationNamesServerVariables(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, v := range []string{"CANDOR_URL", "CANDOR_TOKEN"} {
			if strings.HasPrefix(line, "| `"+v+"` |") {
				rows[v] = line
			}
		}
	}
	for _, args := range [][]string{{"gate", "check"}, {"gate", "approve"}, {"gate", "reject"}, {"gate", "retro-validate"}} {
		h := mustRun(t, append(args, "--help")...)
		for _, v := range []string{"CANDOR_URL", "CANDOR_TOKEN"} {
			if !strings.Contains(h.stdout, v) {
				t.Fatalf("candor %s --help no longer names %s: update this test", strings.Join(args, " "), v)
			}
			if !strings.Contains(rows[v], args[1]) {
				t.Errorf("docs/configuration.md's %s row does not name candor %s:\n%s", v, strings.Join(args, " "), rows[v])
			}
		}
	}
}
