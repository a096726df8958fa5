package main

import (
	"strings"
	"testing"
)

// The benchmark's whole-process scorecard of a PostgreSQL store gets the
// URL in its environment, never on its command line.
func TestBenchCLIKeepsTheURLOffTheCommandLine(t *testing.T) {
	const url = "postgres://candor:s3cretpw@db.example/candor"
	args, env := benchCLI("/bin/candor", "/tmp/d", url)
	if strings.Contains(strings.Join(args, " "), "s3cretpw") || len(env) != 1 || env[0] != "CANDOR_DB="+url {
		t.Errorf("PostgreSQL: args %q, env %q", args, env)
	}
	if args, env := benchCLI("/bin/candor", "/tmp/d", ""); strings.Join(args, " ") != "/bin/candor --data /tmp/d" || env != nil {
		t.Errorf("embedded: args %q, env %q", args, env)
	}
}
