package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEnvironmentAliases(t *testing.T) {
	for _, c := range []struct {
		name, file string
		vars       map[string]string
		want       map[string]string // lower-cased name → canonical; nil: none
	}{
		{name: "default", want: map[string]string{"production": "production", "prod": "production", "prd": "production", "live": "production"}},
		{name: "file", file: "environment_aliases:\n  production: [prod, Live]\n  staging: [stage, stg]\n",
			want: map[string]string{"production": "production", "prod": "production", "live": "production", "staging": "staging", "stage": "staging", "stg": "staging"}},
		{name: "none in the file", file: "environment_aliases: {}\n", want: nil},
		{name: "variable over file", file: "environment_aliases: {production: [prod]}\n", vars: map[string]string{"CANDOR_ENVIRONMENT_ALIASES": "main=prod, prd;qa=test", "CANDOR_PRODUCTION_ENVIRONMENTS": "main,prod,prd"},
			want: map[string]string{"main": "main", "prod": "main", "prd": "main", "qa": "qa", "test": "qa"}},
		{name: "none in the variable", vars: map[string]string{"CANDOR_ENVIRONMENT_ALIASES": "none"}, want: nil},
		// Own production names: the defaults (SPEC's names) no longer apply.
		{name: "own production names", file: "production_environments: [main, eu-1]\n", want: nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := ""
			if c.file != "" {
				path = write(t, c.file)
			}
			cfg, err := Load(path, env(c.vars))
			if err != nil {
				t.Fatal(err)
			}
			m, err := cfg.EngineConfig()
			if err != nil {
				t.Fatal(err)
			}
			if len(m.EnvironmentAliases) != len(c.want) {
				t.Fatalf("aliases %v, want %v", m.EnvironmentAliases, c.want)
			}
			for k, v := range c.want {
				if m.EnvironmentAliases[k] != v {
					t.Errorf("aliases %v, want %v", m.EnvironmentAliases, c.want)
				}
			}
		})
	}
	for _, bad := range []struct{ file, variable, want string }{
		{file: "environment_aliases: {uat: [test], qa: [TEST]}\n", want: `environment_aliases.uat: "test" is already an alias of "qa"`},
		{file: "environment_aliases: {staging: [live]}\n", want: `"live" is a production environment name`},
		{variable: "production", want: "CANDOR_ENVIRONMENT_ALIASES: \"production\" is not CANONICAL=ALIAS,ALIAS"},
	} {
		path := ""
		if bad.file != "" {
			path = write(t, bad.file)
		}
		_, err := Load(path, env(map[string]string{"CANDOR_ENVIRONMENT_ALIASES": bad.variable}))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q %q: err = %v, want %q", bad.file, bad.variable, err, bad.want)
		}
	}
}

// A mistyped key names the file and line and the key meant, at the top
// level and inside a metric override; a section's key at the top level
// the section's, and a mistyped metric id the metric.
func TestUnknownKeySuggests(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"currency: EUR\nadr: 0.0.0.0:1\n", `:2: unknown key "adr" (did you mean "addr"?)`},
		{"production_enviroments: [main]\n", `:1: unknown key "production_enviroments" (did you mean "production_environments"?)`},
		// A section's key at the left margin: where it belongs.
		{"session_max_age: 7d\n", `:1: unknown key "session_max_age" (did you mean "auth.session_max_age"?)`},
		{"key_file: /etc/candor/ledger.key\n", `:1: unknown key "key_file" (did you mean "ledger.key_file" or "retention.key_file"?)`},
		{"metrics:\n  change_failure_rate:\n    ownr: VP\n", `:3: unknown key "ownr" (did you mean "owner"?)`},
		{"metrics:\n  change_failure_rate:\n    thresholds: {gren: 1, amber: 2}\n", `unknown key "gren" (did you mean "green"?)`},
		{"zebra: 1\n", `:1: unknown key "zebra"`},
		// The suggestion is from the block the key is in: "threshold" is
		// an alert rule's key, and had been offered for itself.
		{"metrics:\n  change_failure_rate:\n    threshold: {green: 3, amber: 5}\n", `:3: unknown key "threshold" (did you mean "thresholds"?)`},
		{"metrics:\n  change_failure_rate:\n    threshold:\n      green: 3\n", `:3: unknown key "threshold" (did you mean "thresholds"?)`},
		// A key shortened in Candor's spelling, written out.
		{"adress: 0.0.0.0:1\n", `:1: unknown key "adress" (did you mean "addr"?)`},
		{"metrics:\n  chnage_failure_rate:\n    owner: VP\n", `:2: metrics.chnage_failure_rate: no metric with this id in the catalog (did you mean change_failure_rate?)`},
	} {
		path := write(t, c.file)
		_, err := Load(path, env(nil))
		if err == nil || !strings.Contains(err.Error(), "config "+path+c.want) && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.file, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "config "+path+":") {
			t.Errorf("%q: err = %v does not start with the file", c.file, err)
		}
	}
}

func TestCheckEnviron(t *testing.T) {
	if err := CheckEnviron([]string{"HOME=/root", "CANDOR_DATA=/x", "CANDOR_BENCH_SCALE=0.1", "CANDOR_ENVIRONMENT_ALIASES=none"}); err != nil {
		t.Fatal(err)
	}
	err := CheckEnviron([]string{"CANDOR_DTA=/x", "CANDOR_ADDR=:1", "CANDOR_FROBNICATE=1"})
	if err == nil {
		t.Fatal("unknown variables accepted")
	}
	for _, want := range []string{"CANDOR_DTA: not a variable Candor reads (did you mean CANDOR_DATA?)", "CANDOR_FROBNICATE: not a variable Candor reads (docs/configuration.md lists them)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

// Every CANDOR_* variable the project's Go code reads by name is one
// CheckEnviron accepts: the benchmark's memory log, exported in a
// developer's shell, had made every other command refuse to run.
func TestEveryReadVariableIsKnown(t *testing.T) {
	re := regexp.MustCompile(`Getenv\("(CANDOR_[A-Z0-9_]+)"\)`)
	var names []string
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range re.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
		return err
	})
	if err != nil || len(names) < 10 {
		t.Fatalf("%d names found (%v)", len(names), err)
	}
	for _, n := range names {
		if err := CheckEnviron([]string{n + "=x"}); err != nil {
			t.Errorf("%s is read but refused: %v", n, err)
		}
	}
}
