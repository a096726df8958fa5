package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A wrong value from a variable is the variable's error, not the file's:
// the file an operator would open to fix it says something else.
func TestBadVariableNamesTheVariable(t *testing.T) {
	path := write(t, "currency: USD\nattribution_window: 24h\nread_timeout: 1m\nsnapshot_interval: 168h\nauth:\n  trusted_proxies: [127.0.0.1]\n")
	for _, c := range []struct{ name, value, want string }{
		{"CANDOR_CURRENCY", "usd", `CANDOR_CURRENCY: "usd" is not an ISO 4217 code`},
		{"CANDOR_ATTRIBUTION_WINDOW", "soon", `CANDOR_ATTRIBUTION_WINDOW: invalid duration "soon"`},
		{"CANDOR_READ_TIMEOUT", "soon", `CANDOR_READ_TIMEOUT: invalid duration "soon"`},
		{"CANDOR_SNAPSHOT_INTERVAL", "weekly", `CANDOR_SNAPSHOT_INTERVAL: invalid duration "weekly"`},
		{"CANDOR_TRUSTED_PROXIES", "10.0.0.0/8,nope", `CANDOR_TRUSTED_PROXIES: entry 2: "nope" is not a CIDR`},
		{"CANDOR_ENVIRONMENT_ALIASES", "production=prod;prod=x", `CANDOR_ENVIRONMENT_ALIASES: production: "prod" is itself a canonical name`},
		{"CANDOR_READ_COPIES", "3", `CANDOR_READ_COPIES: "3" is not 1 or 2`},
		{"CANDOR_LEDGER_KEY", "abc", `CANDOR_LEDGER_KEY: not a ledger key`},
		{"CANDOR_ADDR", "nope", `CANDOR_ADDR: "nope" is not HOST:PORT`},
	} {
		for _, file := range []string{path, ""} {
			_, err := Load(file, env(map[string]string{c.name: c.value}))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%s=%s (file %q): err = %v, want it to start %q", c.name, c.value, file, err, c.want)
			}
		}
	}
}

// Every variable that sets a configuration key is in envVars, so that one
// mechanism names it when its value is wrong; the others are read where
// they are used.
func TestEveryVariableHasItsKey(t *testing.T) {
	elsewhere := []string{"CANDOR_CONFIG", "CANDOR_URL", "CANDOR_TOKEN", "CANDOR_SMTP_URL", "CANDOR_SMTP_FROM"}
	for _, e := range Env {
		if !slices.Contains(elsewhere, e.Name) && !slices.ContainsFunc(envVars, func(v envVar) bool { return v.name == e.Name }) {
			t.Errorf("%s is documented but not in envVars", e.Name)
		}
	}
	for _, v := range envVars {
		if !slices.ContainsFunc(Env, func(e struct{ Name, Help string }) bool { return e.Name == v.name }) {
			t.Errorf("%s sets %s but is not documented in Env", v.name, v.key)
		}
	}
}

// A value of the wrong type is named by its key and line, with the type
// wanted in words, not Go's field and type names.
func TestWrongTypeNamesKeyAndLine(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"currency: USD\nread_copies: two\n", `:2: read_copies: "two" is not a whole number`},
		{"read_timeout: [1m]\n", `:1: read_timeout: a list is not a single value`},
		{"production_environments: production\n", `:1: production_environments: "production" is not a list (write [production])`},
		{"auth:\n  secure_cookies: maybe\n", `:2: auth.secure_cookies: "maybe" is not true or false`},
		{"metrics:\n  mttr:\n    target: x\n", `:3: metrics.mttr.target: "x" is not a number`},
		{"auth: [1]\n", `:1: auth: a list is not a mapping (key: value)`},
		{"currency: USD\nread_timeout:\n  a: 1\n", `:3: read_timeout: a mapping is not a single value`},
	} {
		path := write(t, c.file)
		_, err := Load(path, env(nil))
		if err == nil || !strings.HasPrefix(err.Error(), "config "+path+c.want) {
			t.Errorf("%q: err = %v, want %q", c.file, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "Go ") {
			t.Errorf("%q: err = %v speaks of Go", c.file, err)
		}
	}
}

// A value refused after decoding is still named with the line of its key.
func TestCheckAfterDecodingHasTheLine(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"currency: USD\nmax_lag: banana\n", `:2: max_lag: invalid duration "banana"`},
		{"currency: USD\naddr: nope\n", `:2: addr: "nope" is not HOST:PORT`},
		{"auth:\n  secure_cookies: true\n  trusted_proxies: [nope]\n", `:3: auth.trusted_proxies[0]: "nope" is not a CIDR`},
		{"vulnerability_sla:\n  high: 3d\n  urgent: 3d\n", `:3: vulnerability_sla.urgent: unknown severity`},
	} {
		path := write(t, c.file)
		_, err := Load(path, env(nil))
		if err == nil || !strings.HasPrefix(err.Error(), "config "+path+c.want) {
			t.Errorf("%q: err = %v, want %q", c.file, err, c.want)
		}
	}
}

// The governed settings a variable sets are read off the one table of
// variables: a governed one is named, another variable is not.
func TestGovernedEnvFromTheTable(t *testing.T) {
	set := map[string]string{"CANDOR_CURRENCY": "EUR", "CANDOR_ATTRIBUTION_WINDOW": "12h", "CANDOR_ADDR": "127.0.0.1:1"}
	got := GovernedEnv(func(k string) string { return set[k] })
	if len(got) != 2 || got["currency"] != "CANDOR_CURRENCY" || got["attribution_window"] != "CANDOR_ATTRIBUTION_WINDOW" {
		t.Errorf("GovernedEnv = %v", got)
	}
}

// Every CANDOR_* variable the README names is one Candor takes, the tests'
// ones included: CANDOR_ARTIFACTS (where the browser tests keep their
// screenshots) had made every command refuse to run while it was
// exported, "not a variable Candor reads".
func TestREADMEVariablesAccepted(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\bCANDOR_[A-Z0-9_]*[A-Z0-9]\b`).FindAllString(string(b), -1)
	if !slices.Contains(names, "CANDOR_ARTIFACTS") {
		t.Fatal("the README no longer names CANDOR_ARTIFACTS: update this test")
	}
	for _, n := range names {
		if err := CheckEnviron([]string{n + "=1"}); err != nil {
			t.Errorf("the README names %s, refused: %v", n, err)
		}
	}
}
