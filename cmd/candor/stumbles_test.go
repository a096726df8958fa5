package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/image"
)

// Read commands on a --data directory without a store fail saying so and
// create nothing; import creates it.
func TestReadCommandsNeedAStore(t *testing.T) {
	for _, args := range [][]string{
		{"scorecard"},
		{"metric", "change_failure_rate"},
		{"view", "ceo"},
		{"reconcile", "--list"},
		{"reconcile", "--metric", "arr", "--expected", "1"},
		{"sources"},
		{"record", "deployment", "import", "d1"},
		{"user", "list"},
		{"user", "disable", "--email", "ann@example.com"},
		{"token", "list"},
		{"token", "revoke", "--name", "ci"},
		// A token made in a new store would not be the served one's.
		{"token", "create", "--name", "ci", "--role", "ingest"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "typo")
			r := run(t, append(args, "--data", data)...)
			r.want(t, 1, args...)
			if !strings.Contains(r.stderr, "no Candor store in "+data+" (no such directory)") || !strings.Contains(r.stderr, "candor import") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
			if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s was created (%v)", data, err)
			}
		})
	}
	// An existing directory without a store is not one either.
	empty := t.TempDir()
	r := run(t, "scorecard", "--data", empty)
	r.want(t, 1, "scorecard")
	if !strings.Contains(r.stderr, "the directory has no candor.db") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(empty, "candor.db")); err == nil {
		t.Error("a store was created in the empty directory")
	}
	data := smallStore(t) // import creates the directory
	mustRun(t, "scorecard", "--data", data)
}

// A command that checks its input before it makes the store leaves none
// (nor a ledger key) behind when it refuses: user add, serve. An import or
// a sync keeps a store it made even when refused — removing it could
// remove what another process had written to it meanwhile
// (TestRefusedImportKeepsWhatOthersWrote).
func TestRefusedCommandsMakeNoStore(t *testing.T) {
	for _, c := range []struct {
		name, stdin string
		vars        map[string]string
		args        []string
		code        int
		want        string
	}{
		{"user add, short password", "short", nil, []string{"user", "add", "--email", "ann@example.com", "--role", "admin"}, 2, "shorter than 12"},
		{"user add, unknown role", "long enough password", nil, []string{"user", "add", "--email", "ann@example.com", "--role", "boss"}, 2, `unknown role "boss"`},
		{"user add, bad name", "long enough password", nil, []string{"user", "add", "--email", "ann@example.com", "--role", "admin", "--name", "a\x01b"}, 2, "--name: contains control characters"},
		{"serve, bad --addr", "", nil, []string{"serve", "--addr", "nope"}, 2, `--addr: "nope" is not HOST:PORT`},
		{"serve, bad CANDOR_ADDR", "", map[string]string{"CANDOR_ADDR": "nope"}, []string{"serve"}, 2, `CANDOR_ADDR: "nope" is not HOST:PORT`},
		// A port out of range is as much the argument's mistake as no port
		// (it had exited 1); so is a source no collector or connector has.
		{"serve, port out of range", "", nil, []string{"serve", "--addr", "127.0.0.1:99999"}, 2, `--addr: "127.0.0.1:99999": port 99999 is not a port number (0 to 65535) or service name`},
		{"sync, unknown source", "", nil, []string{"sync", "nosuch"}, 2, `no collector for "nosuch" (collectors: github,`},
		{"replay, unknown source", "", nil, []string{"replay", "nosuch"}, 2, `no webhook source "nosuch" (known: `},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, data := range []string{filepath.Join(t.TempDir(), "new"), t.TempDir()} {
				env, _, errb := testEnv(c.vars)
				env.Stdin = strings.NewReader(c.stdin)
				code := Run(context.Background(), env, append(c.args, "--data", data))
				if code != c.code || !strings.Contains(errb.String(), c.want) {
					t.Errorf("exit %d, stderr %s; want %d and %q", code, errb.String(), c.code, c.want)
				}
				entries, err := os.ReadDir(data)
				if err == nil && len(entries) > 0 || err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s holds %v (%v) after the refusal", data, entries, err)
				}
			}
		})
	}
}

// A refused import into a new directory keeps the store it made, and
// changes nothing in it: what another process wrote there meanwhile (a
// server started on the directory, a user added) must not be removed with
// it, as a clean-up that deleted "its" store had.
func TestRefusedImportKeepsWhatOthersWrote(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "new")
	bad := filepath.Join(dir, "bad.ndjson")
	if err := os.WriteFile(bad, []byte(`{"kind":"deployment","id":"d1"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, "", false, "import", "--data", data, bad)
	r.want(t, 1, "import")
	if !strings.Contains(r.stderr, "nothing was imported") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "candor.db")); err != nil {
		t.Errorf("the store made for the refused import is gone: %v", err)
	}
	runWith(t, "long enough password", false, "user", "add", "--data", data, "--email", "ann@example.com", "--role", "admin").want(t, 0, "user add")
	runWith(t, "", false, "import", "--data", data, bad).want(t, 1, "import")
	if r := mustRun(t, "user", "list", "--data", data); !strings.Contains(r.stdout, "ann@example.com") {
		t.Errorf("the user added beside the refused imports is gone: %s", r.stdout)
	}
}

// The first administrator may be added before the first serve or import:
// user add makes the store then, saying so, and a token can follow.
func TestFirstUserMakesTheStore(t *testing.T) {
	data := filepath.Join(t.TempDir(), "new")
	r := runWith(t, "long enough password", false, "user", "add", "--data", data, "--email", "ann@example.com", "--role", "admin")
	r.want(t, 0, "user add")
	if !strings.Contains(r.stdout, "Created a new Candor store in "+data) {
		t.Errorf("stdout: %s", r.stdout)
	}
	mustRun(t, "token", "create", "--data", data, "--name", "ci", "--role", "ingest")
	if r := mustRun(t, "user", "list", "--data", data); !strings.Contains(r.stdout, "ann@example.com") {
		t.Errorf("user list: %s", r.stdout)
	}
	// The second user goes into the store that is there, without a word
	// about making one.
	r = runWith(t, "another long password", false, "user", "add", "--data", data, "--email", "bob@example.com", "--role", "executive")
	r.want(t, 0, "user add")
	if strings.Contains(r.stdout, "Created") {
		t.Errorf("stdout: %s", r.stdout)
	}
}

// generate --out x.ndjson.gz writes gzip, which import reads back.
func TestGenerateGzip(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "org.ndjson.gz")
	r := mustRun(t, "generate", "--out", out, "--scale", "0.001", "--days", "30", "--end", "2026-03-01")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not gzip: %v (starts %q)", out, err, b[:min(len(b), 20)])
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil || !strings.HasPrefix(plain.String(), `{"kind":`) {
		t.Fatalf("gzip content: %v %.60q", err, plain.String())
	}
	if !strings.Contains(r.stderr, "wrote ") {
		t.Errorf("stderr: %s", r.stderr)
	}
	mustRun(t, "import", "--data", filepath.Join(dir, "data"), out)
}

func TestNoArgumentsAndVersion(t *testing.T) {
	r := run(t)
	r.want(t, 2)
	if r.stdout != "" || !strings.Contains(r.stderr, "Usage: candor COMMAND") {
		t.Errorf("no arguments: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := mustRun(t, args...)
		if !strings.HasPrefix(r.stdout, "candor ") || !strings.Contains(r.stdout, "go1.") || !strings.Contains(r.stdout, " (build ID "+image.BuildID()+")") {
			t.Errorf("%v: %q", args, r.stdout)
		}
	}
	run(t, "version", "extra").want(t, 2, "version", "extra")

	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-03-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got := versionLine(info, true, ""); got != "candor (devel) (revision 0123abcd, modified, 2026-03-01T00:00:00Z) go1.26.0" {
		t.Errorf("versionLine = %q", got)
	}
	defer func(v string) { version = v; stampVersion() }(version)
	version = "v1.4.0"
	if got := versionLine(info, true, ""); !strings.HasPrefix(got, "candor v1.4.0 (revision 0123abcd") {
		t.Errorf("with -ldflags: %q", got)
	}
	// The dataset image's log lines name the build as candor version
	// does: a stamped release had been "(devel)" there.
	stampVersion()
	if got := image.Build(); !strings.HasPrefix(got, "v1.4.0 ") || !strings.HasSuffix(got, " buildid="+image.BuildID()) {
		t.Errorf("image.Build() with -ldflags = %q", got)
	}
	if got := versionLine(nil, false, ""); got != "candor v1.4.0" {
		t.Errorf("without build info: %q", got)
	}
	if got := versionLine(nil, false, "a/b/c/d"); got != "candor v1.4.0 (build ID a/b/c/d)" {
		t.Errorf("with a build ID: %q", got)
	}
}

// Role names are matched the way people type them.
func TestViewRoleCaseInsensitive(t *testing.T) {
	data := smallStore(t)
	for _, role := range []string{"CEO", "Vp_Sales", "VP Sales", "vp-sales"} {
		r := mustRun(t, "view", role, "--data", data, "--as-of", "2026-03-31", "--format", "json")
		if !strings.Contains(r.stdout, `"id": "ceo"`) && !strings.Contains(r.stdout, `"id": "vp_sales"`) {
			t.Errorf("%s: %.200s", role, r.stdout)
		}
	}
}

// An unknown CANDOR_* variable stops a command, naming the one meant, with
// the exit status of a usage error.
func TestUnknownVariable(t *testing.T) {
	vars := map[string]string{"CANDOR_DTA": "/tmp/x"}
	env, _, errb := testEnv(vars)
	env.Environ = func() []string { return []string{"HOME=/root", "CANDOR_DTA=/tmp/x"} }
	if code := Run(context.Background(), env, []string{"scorecard", "--data", t.TempDir()}); code != 2 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "CANDOR_DTA: not a variable Candor reads (did you mean CANDOR_DATA?)") {
		t.Errorf("stderr: %s", errb.String())
	}
}

// The unknown variable is told first, before a refusal of the configuration
// it may explain: on a store made with a configuration file, run without it,
// CANDOR_DTA had been reported as the governance refusal (exit 1).
func TestUnknownVariableBeforeAConfigurationRefusal(t *testing.T) {
	dir := t.TempDir()
	conf, file, data := filepath.Join(dir, "candor.yaml"), filepath.Join(dir, "org.ndjson"), filepath.Join(dir, "data")
	os.WriteFile(conf, []byte("currency: EUR\n"), 0o644)
	os.WriteFile(file, []byte(smallOrg), 0o644)
	mustRun(t, "import", "--config", conf, "--data", data, file)
	env, _, errb := testEnv(map[string]string{"CANDOR_DTA": "/tmp/x"})
	env.Environ = func() []string { return []string{"HOME=/root", "CANDOR_DTA=/tmp/x"} }
	code := Run(context.Background(), env, []string{"scorecard", "--data", data})
	if want := "candor scorecard: environment: CANDOR_DTA: not a variable Candor reads (did you mean CANDOR_DATA?)\n"; code != 2 || !strings.HasPrefix(errb.String(), want) {
		t.Errorf("exit %d, stderr %s; want 2 and %q first", code, errb.String(), want)
	}
	// The refusal is still said, after it.
	if !strings.Contains(errb.String(), "currency") {
		t.Errorf("stderr does not say the configuration's refusal: %s", errb.String())
	}
}

// A bad configuration is the operator's input, like a bad flag: exit 2,
// naming where the value came from, without a usage line that would say
// nothing about it.
func TestBadConfigurationIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "candor.yaml")
	for _, c := range []struct {
		file string
		vars map[string]string
		want string
	}{
		{"currency: USD\n", map[string]string{"CANDOR_CURRENCY": "usd"}, `candor sources: CANDOR_CURRENCY: "usd" is not an ISO 4217 code`},
		{"currency: USD\nread_copies: two\n", nil, "candor sources: config " + conf + `:2: read_copies: "two" is not a whole number`},
		{"curency: USD\n", nil, "candor sources: config " + conf + `:1: unknown key "curency"`},
	} {
		if err := os.WriteFile(conf, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		env, _, errb := testEnv(c.vars)
		code := Run(context.Background(), env, []string{"sources", "--config", conf, "--data", filepath.Join(dir, "data")})
		if code != 2 || !strings.HasPrefix(errb.String(), c.want) || strings.Contains(errb.String(), "usage:") {
			t.Errorf("%q %v: exit %d, stderr %s; want 2 and %q", c.file, c.vars, code, errb.String(), c.want)
		}
	}
}

// Counts are worded for their number: one invalid record, not "1 records"
// or "record(s)".
func TestOneRecordWording(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "one.ndjson")
	if err := os.WriteFile(file, []byte(`{"kind":"deployment","id":"d1","service":"api"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "import", "--data", filepath.Join(dir, "data"), file)
	r.want(t, 1, "import")
	if !strings.Contains(r.stderr, "1 invalid record; nothing was imported") {
		t.Errorf("stderr: %s", r.stderr)
	}
	r = run(t, "import", "--skip-invalid", "--data", filepath.Join(dir, "data"), file)
	r.want(t, 3, "import") // records were skipped: exit status 3
	if !strings.Contains(r.stdout, "1 invalid record skipped") {
		t.Errorf("stdout: %s", r.stdout)
	}
}

// A mistyped flag is reported once, with a one-line hint, not followed by
// the flag package's own copy of the error and the whole usage.
func TestMistypedFlagReportedOnce(t *testing.T) {
	r := run(t, "scorecard", "--windo", "7d")
	r.want(t, 2, "scorecard --windo")
	if n := strings.Count(r.stderr, "unknown flag --windo"); n != 1 || strings.Contains(r.stderr, "Flags:") {
		t.Errorf("stderr (error %d times):\n%s", n, r.stderr)
	}
	r = run(t, "scorecard", "-h")
	if !strings.Contains(r.stdout, "Flags:") || !strings.Contains(r.stdout, "--window") {
		t.Errorf("-h did not print the usage:\n%s", r.stdout)
	}
}

// An --as-of past the clock (beyond a day) is a usage error naming the
// flag, for the read commands and those that act as of a time: the data
// holds nothing after now.
func TestFutureAsOfRefused(t *testing.T) {
	data := smallStore(t)
	for _, args := range [][]string{
		{"scorecard"},
		{"metric", "change_failure_rate"},
		{"view", "ceo"},
		{"escalations"},
		{"sources"},
	} {
		r := run(t, append(args, "--data", data, "--as-of", "2030-01-01")...)
		r.want(t, 2, args...)
		if !strings.Contains(r.stderr, "--as-of: 2030-01-01T00:00:00Z is in the future") {
			t.Errorf("%v --as-of 2030-01-01: stderr %q", args, r.stderr)
		}
	}
	mustRun(t, "scorecard", "--data", data, "--as-of", time.Now().UTC().Format(time.DateOnly))
}
