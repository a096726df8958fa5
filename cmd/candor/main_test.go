package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gcpace"
	"github.com/candor/candor/internal/schedule"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
)

// syncBuffer is a bytes.Buffer safe to read while a command running in
// another goroutine writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is an Env with buffers, no terminal and an environment of its
// own, so nothing of the machine's CANDOR_* variables leaks in.
func testEnv(vars map[string]string) (*Env, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	return &Env{
		Stdin:      strings.NewReader(""),
		Stdout:     out,
		Stderr:     errb,
		Getenv:     func(k string) string { return vars[k] },
		IsTerminal: func(any) bool { return false },
		// The account the commands run as (cliActor): USER=tester names it.
		OSAccount: func() string { return "tester" },
	}, out, errb
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	env, out, errb := testEnv(nil)
	code := Run(context.Background(), env, args)
	return result{code, out.String(), errb.String()}
}

func (r result) want(t *testing.T, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("candor %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, clip(r.stdout), clip(r.stderr))
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	r.want(t, 0, args...)
	return r
}

func defaultCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// scorecardDoc is the part of the scorecard JSON the tests read.
type scorecardDoc struct {
	AsOf    string `json:"as_of"`
	Window  string `json:"window"`
	Pillars []struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Metrics []struct {
			ID        string   `json:"id"`
			Value     *float64 `json:"value"`
			Status    string   `json:"status"`
			Count     int      `json:"count"`
			Freshness struct {
				LastData *time.Time `json:"last_data"`
			} `json:"freshness"`
		} `json:"metrics"`
	} `json:"pillars"`
}

func parseScorecard(t *testing.T, s string) scorecardDoc {
	t.Helper()
	var doc scorecardDoc
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("scorecard JSON: %v\n%s", err, clip(s))
	}
	return doc
}

// lastData returns each metric's freshness.last_data.
func (d scorecardDoc) lastData() map[string]*time.Time {
	out := map[string]*time.Time{}
	for _, p := range d.Pillars {
		for _, m := range p.Metrics {
			out[m.ID] = m.Freshness.LastData
		}
	}
	return out
}

func TestGenerateImportScorecardMetric(t *testing.T) {
	cat := defaultCatalog(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	gen := filepath.Join(dir, "org.ndjson")
	gen2 := filepath.Join(dir, "org2.ndjson")

	// generate is deterministic for a seed, scale and end.
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-06-01")
	mustRun(t, "generate", "--out", gen2, "--scale", "0.01", "--end", "2026-06-01")
	a, err := os.ReadFile(gen)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(gen2)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("two generate runs differ (%d and %d bytes)", len(a), len(b))
	}

	// import lists every kind in its summary.
	r := mustRun(t, "import", "--data", data, gen)
	for _, k := range domain.Kinds {
		if !regexp.MustCompile(`(?m)^` + string(k) + ` +[1-9]`).MatchString(r.stdout) {
			t.Errorf("import summary has no records of kind %s:\n%s", k, r.stdout)
		}
	}
	lines := strings.Count(string(a), "\n")
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^total +%d +%d +0 +0$`, lines, lines)).MatchString(r.stdout) {
		t.Errorf("import summary total is not %d records all inserted:\n%s", lines, r.stdout)
	}
	// Importing the same file again changes nothing.
	r = mustRun(t, "import", "--data", data, gen)
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^total +%d +0 +0 +%d$`, lines, lines)).MatchString(r.stdout) {
		t.Errorf("re-import summary is not all unchanged:\n%s", r.stdout)
	}
	// --json speaks lower-case keys throughout.
	r = mustRun(t, "import", "--data", data, "--json", gen)
	var sum struct {
		Records   int64                       `json:"records"`
		Unchanged int64                       `json:"unchanged"`
		ByKind    map[string]map[string]int64 `json:"by_kind"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("import --json: %v\n%s", err, r.stdout)
	}
	if sum.Records != int64(lines) || sum.Unchanged != int64(lines) || sum.ByKind["deployment"]["unchanged"] == 0 {
		t.Errorf("import --json = %s", r.stdout)
	}

	// scorecard JSON: every pillar, every catalog metric once.
	r = mustRun(t, "scorecard", "--data", data, "--format", "json", "--as-of", "2026-06-01")
	doc := parseScorecard(t, r.stdout)
	if doc.AsOf != "2026-06-01T00:00:00Z" || doc.Window != "30d" {
		t.Errorf("as_of %q window %q", doc.AsOf, doc.Window)
	}
	var pillars []string
	seen := map[string]int{}
	for _, p := range doc.Pillars {
		pillars = append(pillars, p.ID)
		for _, m := range p.Metrics {
			seen[m.ID]++
		}
	}
	if got := strings.Join(pillars, ","); got != "reliability,security,delivery,cost,customer,growth" {
		t.Errorf("pillars = %s", got)
	}
	for _, m := range cat.Metrics {
		if seen[m.ID] != 1 {
			t.Errorf("metric %s appears %d times", m.ID, seen[m.ID])
		}
	}
	if len(seen) != len(cat.Metrics) {
		t.Errorf("%d metrics, catalog has %d", len(seen), len(cat.Metrics))
	}
	if ld := doc.lastData()["deployment_frequency"]; ld == nil {
		t.Errorf("deployment_frequency has no data after the import")
	}

	// scorecard text: every pillar name, no colours off a terminal.
	r = mustRun(t, "scorecard", "--data", data, "--as-of", "2026-06-01")
	for _, p := range cat.Pillars {
		if !strings.Contains(r.stdout, p.Name) {
			t.Errorf("scorecard text lacks pillar %q:\n%s", p.Name, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Errorf("scorecard text has ANSI escapes though stdout is not a terminal")
	}
	if !strings.Contains(r.stdout, "as of 2026-06-01T00:00:00Z") {
		t.Errorf("scorecard text does not say its as_of:\n%s", r.stdout)
	}
	r = mustRun(t, "scorecard", "--data", data, "--as-of", "2026-06-01", "--all")
	for _, m := range cat.Metrics {
		if !strings.Contains(r.stdout, m.Name) {
			t.Errorf("scorecard --all lacks %q", m.Name)
		}
	}

	// metric drill-down as JSON.
	r = mustRun(t, "metric", "change_failure_rate", "--data", data, "--by", "team", "--format", "json", "--as-of", "2026-06-01")
	var md struct {
		Definition struct {
			ID, Owner, Description string
		} `json:"definition"`
		By        string            `json:"by"`
		Breakdown []json.RawMessage `json:"breakdown"`
		Records   []struct {
			Kind, ID string
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &md); err != nil {
		t.Fatalf("metric JSON: %v\n%s", err, clip(r.stdout))
	}
	if md.Definition.ID != "change_failure_rate" || md.Definition.Owner == "" || md.Definition.Description == "" {
		t.Errorf("definition = %+v", md.Definition)
	}
	if md.By != "team" || len(md.Breakdown) < 2 {
		t.Errorf("by %q with %d breakdown lines, want team lines", md.By, len(md.Breakdown))
	}
	if len(md.Records) == 0 || md.Records[0].Kind != "deployment" {
		t.Errorf("records = %+v, want the deployments behind the value", md.Records)
	}
	// and as text
	r = mustRun(t, "metric", "change_failure_rate", "--data", data, "--by", "team", "--as-of", "2026-06-01")
	for _, want := range []string{"Change failure rate", "By team:", "Records behind the value"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("metric text lacks %q", want)
		}
	}

	// An unknown metric is a usage error listing the known ones.
	r = run(t, "metric", "nope", "--data", data)
	r.want(t, 2, "metric", "nope")
	for _, m := range cat.Metrics {
		if !strings.Contains(r.stderr, m.ID) {
			t.Errorf("unknown metric error does not list %s:\n%s", m.ID, r.stderr)
			break
		}
	}
	// A misspelt one names the metric meant first.
	r = run(t, "metric", "change_failure_rat", "--data", data)
	r.want(t, 2, "metric", "change_failure_rat")
	if want := `unknown metric "change_failure_rat" (did you mean "change_failure_rate"?); known: `; !strings.Contains(r.stderr, want) {
		t.Errorf("a misspelt metric: stderr lacks %q:\n%s", want, r.stderr)
	}
	// A dimension the metric has not: usage error naming the supported ones.
	r = run(t, "metric", "change_failure_rate", "--data", data, "--by", "bogus")
	r.want(t, 2, "metric", "--by", "bogus")
	if !strings.Contains(r.stderr, "team, service, environment, tier") {
		t.Errorf("--by bogus does not name the dimensions:\n%s", r.stderr)
	}
	// A good --by with a bad --scope blames --scope.
	r = run(t, "metric", "change_failure_rate", "--data", data, "--by", "team", "--scope", "bogus:x")
	r.want(t, 2, "metric", "--scope", "bogus:x")
	if !strings.Contains(r.stderr, "--scope") || strings.Contains(r.stderr, "--by:") {
		t.Errorf("--scope bogus:x error does not name --scope:\n%s", r.stderr)
	}
	// A scope narrows the drill-down.
	r = mustRun(t, "metric", "change_failure_rate", "--data", data, "--scope", "environment:production", "--format", "json", "--as-of", "2026-06-01")
	if !strings.Contains(r.stdout, `"dim": "environment"`) {
		t.Errorf("scoped drill-down has no scope:\n%s", clip(r.stdout))
	}
	// ... and its breakdown: by service under a team, only that team's
	// services, their deployments adding up to the team's.
	r = mustRun(t, "metric", "change_failure_rate", "--data", data, "--by", "service", "--scope", "team:payments", "--format", "json", "--as-of", "2026-06-01")
	var scoped scorecard.MetricDetail
	if err := json.Unmarshal([]byte(r.stdout), &scoped); err != nil {
		t.Fatal(err)
	}
	all := mustRun(t, "metric", "change_failure_rate", "--data", data, "--by", "service", "--format", "json", "--as-of", "2026-06-01")
	var whole scorecard.MetricDetail
	if err := json.Unmarshal([]byte(all.stdout), &whole); err != nil {
		t.Fatal(err)
	}
	lineSum := 0
	for _, l := range scoped.Breakdown {
		lineSum += l.Count
	}
	if len(scoped.Breakdown) == 0 || len(scoped.Breakdown) >= len(whole.Breakdown) || lineSum != scoped.Card.Count {
		t.Errorf("team payments by service: %d lines of %d services, adding up to %d of the team's %d deployments",
			len(scoped.Breakdown), len(whole.Breakdown), lineSum, scoped.Card.Count)
	}
	// A team that does not exist is a usage error naming the known ones.
	r = run(t, "metric", "change_failure_rate", "--data", data, "--by", "service", "--scope", "team:nonexistent")
	r.want(t, 2, "metric", "--scope", "team:nonexistent")
	for _, want := range []string{"--scope", `team "nonexistent"`, "payments"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--scope team:nonexistent error lacks %q:\n%s", want, r.stderr)
		}
	}
	// Incidents by who reported them, within a business unit.
	r = mustRun(t, "metric", "mttr", "--data", data, "--by", "origin", "--scope", "business_unit:commerce", "--as-of", "2026-06-01")
	for _, want := range []string{"By origin:", "customer", "monitoring", "Scope: business_unit = commerce"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("mttr by origin in business unit commerce lacks %q:\n%s", want, clip(r.stdout))
		}
	}
	r = run(t, "metric", "mttr", "--data", data, "--scope", "business_unit:nowhere")
	r.want(t, 2, "metric", "--scope", "commerce, platform")
}

const (
	goodDep = `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-30T12:00:00Z","status":"success"}`
	badDep  = `{"kind":"deployment","id":"d2","service":"api","environment":"production","status":"success"}`
)

func TestImportInvalid(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "deploys.ndjson")
	if err := os.WriteFile(file, []byte(goodDep+"\n"+badDep+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A store that exists (a refused import into a new one leaves none:
	// TestRefusedCommandsMakeNoStore).
	svc := filepath.Join(dir, "services.ndjson")
	if err := os.WriteFile(svc, []byte(`{"kind":"service","id":"api","name":"API"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "--data", data, svc)
	r := run(t, "import", "--data", data, file)
	r.want(t, 1, "import", file)
	if !strings.Contains(r.stderr, file+":2:") || !strings.Contains(r.stderr, "field finished_at") {
		t.Errorf("stderr does not name %s:2 and field finished_at:\n%s", file, r.stderr)
	}
	// Nothing was stored, not even line 1.
	r = mustRun(t, "scorecard", "--data", data, "--format", "json", "--as-of", "2026-03-31")
	if ld := parseScorecard(t, r.stdout).lastData()["deployment_frequency"]; ld != nil {
		t.Errorf("a refused import stored deployment data (last data %s)", ld)
	}

	// --skip-invalid (after the file, as people type it) lands line 1.
	r = run(t, "import", "--data", data, file, "--skip-invalid")
	r.want(t, 3, "import", file, "--skip-invalid") // a partial import's own status
	if !strings.Contains(r.stdout, "1 invalid record skipped") || !strings.Contains(r.stdout, file+":2:") {
		t.Errorf("skip-invalid summary does not list the skipped line:\n%s", r.stdout)
	}
	// --json lists the skipped lines too (nothing left to land: unchanged).
	r = run(t, "import", "--data", data, "--json", "--skip-invalid", file)
	r.want(t, 3, "import", "--json", "--skip-invalid", file)
	var sum struct {
		Unchanged int64 `json:"unchanged"`
		Invalid   int64 `json:"invalid"`
		Skipped   []struct {
			Line  int    `json:"line"`
			Field string `json:"field"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Unchanged != 1 || sum.Invalid != 1 ||
		len(sum.Skipped) != 1 || sum.Skipped[0].Line != 2 || sum.Skipped[0].Field != "finished_at" {
		t.Errorf("import --json --skip-invalid = %s (%v)", r.stdout, err)
	}
	r = mustRun(t, "scorecard", "--data", data, "--format", "json", "--as-of", "2026-03-31")
	if ld := parseScorecard(t, r.stdout).lastData()["deployment_frequency"]; ld == nil || !ld.Equal(time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("after --skip-invalid deployment last data = %v, want d1's finished_at", ld)
	}

	// stdin with -, and CSV by file name.
	csvFile := filepath.Join(dir, "deployments.csv")
	os.WriteFile(csvFile, []byte("id,service,environment,finished_at,status\nc1,api,production,2026-03-30T13:00:00Z,success\n"), 0o644)
	r = mustRun(t, "import", "--data", data, csvFile)
	if !regexp.MustCompile(`(?m)^deployment +1 +1 `).MatchString(r.stdout) {
		t.Errorf("CSV import summary:\n%s", r.stdout)
	}
	env, out, _ := testEnv(nil)
	env.Stdin = strings.NewReader(strings.ReplaceAll(goodDep, `"d1"`, `"d3"`) + "\n")
	if code := Run(context.Background(), env, []string{"import", "--data", data, "-"}); code != 0 || !regexp.MustCompile(`(?m)^deployment +1 +1 `).MatchString(out.String()) {
		t.Errorf("import from stdin exited %d:\n%s", code, out.String())
	}

	// A missing file is the user's argument mistake (exit 2, naming it),
	// not a crash (TestImportMissingFileIsAUsageError).
	r = run(t, "import", "--data", data, filepath.Join(dir, "missing.ndjson"))
	r.want(t, 2, "import", "missing")
}

// The commands that answer once and exit run under the one-shot policy;
// the rest, the server above all, under the default.
func TestPacing(t *testing.T) {
	for args, want := range map[string]gcpace.Policy{
		"scorecard --format json": gcpace.OneShot,
		"metric lead_time":        gcpace.OneShot,
		"serve":                   gcpace.Default,
		"import x.ndjson":         gcpace.Default,
		"":                        gcpace.Default,
		"no-such-command":         gcpace.Default,
	} {
		if got := pacing(strings.Fields(args)); got != want {
			t.Errorf("pacing(%q) = %+v, want %+v", args, got, want)
		}
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{nil, 2, nil, []string{"Usage: candor COMMAND", "import", "scorecard", "metric", "serve", "generate", "demo", "catalog", "version"}},
		{[]string{"help"}, 0, []string{"Usage: candor COMMAND"}, nil},
		{[]string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "Usage: candor COMMAND"}},
		{[]string{"scorecard", "--bogus"}, 2, nil, []string{"bogus", "usage: candor scorecard"}},
		{[]string{"scorecard", "--format", "xml"}, 2, nil, []string{"xml", "usage: candor scorecard"}},
		{[]string{"scorecard", "--as-of", "someday"}, 2, nil, []string{"--as-of", "usage: candor scorecard"}},
		{[]string{"scorecard", "--window", "0d"}, 2, nil, []string{"--window"}},
		{[]string{"scorecard", "extra"}, 2, nil, []string{`unexpected argument "extra"`}},
		// A wrong --db is named before the ledger's key is looked for (it
		// had been reported as a missing key), a malformed one too (exit
		// 1 from the driver), without its password.
		{[]string{"scorecard", "--db", "mysql://x/y"}, 2, nil, []string{`--db: "mysql://x/y" is not a postgres:// URL`, "usage: candor scorecard"}},
		{[]string{"scorecard", "--db", "postgres://u:pw@h/%zz"}, 2, nil, []string{`--db: the postgres:// URL cannot be parsed: invalid URL escape "%zz"`}},
		// A mistyped scheme had printed the URL whole, password and all,
		// and a port only the driver refused had exited 1.
		{[]string{"scorecard", "--db", "postgress://candor:choose-one@127.0.0.1:55432/x"}, 2, nil, []string{`--db: "postgress://candor:xxxxx@127.0.0.1:55432/x" is not a postgres:// URL`, "usage: candor scorecard"}},
		{[]string{"scorecard", "--db", "postgresql:/candor:choose-one@127.0.0.1:55432/x"}, 2, nil, []string{`--db: "postgresql:/xxxxx@127.0.0.1:55432/x" is not a postgres:// URL`}},
		{[]string{"scorecard", "--db", "postgres://candor:choose-one@127.0.0.1:5432:1/x"}, 2, nil, []string{`--db: the postgres:// URL cannot be parsed: the port "5432:1" is not a number from 1 to 65535`, "usage: candor scorecard"}},
		// Help asked for goes to standard output (candor help serve | less
		// had shown nothing); usage printed for a mistake stays on stderr.
		{[]string{"scorecard", "-h"}, 0, []string{"usage: candor scorecard", "-as-of"}, nil},
		{[]string{"help", "serve"}, 0, []string{"usage: candor serve", "--addr"}, nil},
		{[]string{"user", "--help"}, 0, []string{"usage: candor user add|list", "Run candor user SUBCOMMAND -h"}, nil},
		{[]string{"serv"}, 2, nil, []string{`unknown command "serv" (did you mean serve?)`, "Usage: candor COMMAND"}},
		{[]string{"help", "serv"}, 2, nil, []string{`candor help: unknown command "serv" (did you mean serve?)`}},
		{[]string{"import"}, 2, nil, []string{"no files given"}},
		{[]string{"import", "--kind", "bogus", "x.ndjson"}, 2, nil, []string{"--kind"}},
		{[]string{"metric"}, 2, nil, []string{"exactly one metric id"}},
		{[]string{"metric", "change_failure_rate", "--scope", "team"}, 2, nil, []string{"DIMENSION:VALUE"}},
		{[]string{"generate"}, 2, nil, []string{"--out is required"}},
		{[]string{"generate", "--out", "-", "--scale", "0"}, 2, nil, []string{"--scale"}},
		{[]string{"generate", "--out", "-", "--end", "soon"}, 2, nil, []string{"--end"}},
		{[]string{"catalog"}, 2, nil, []string{"docs"}},
		{[]string{"serve", "--addr"}, 2, nil, []string{"usage: candor serve"}},
		{[]string{"bench", "--scale", "0"}, 2, nil, []string{"--scale"}},
		{[]string{"bench", "--events", "0"}, 2, nil, []string{"--events must be at least 1"}},
		{[]string{"bench", "--concurrency", "-1"}, 2, nil, []string{"--concurrency"}},
		{[]string{"bench", "--anchor-runs", "0"}, 2, nil, []string{"--anchor-runs"}},
		{[]string{"bench", "--anchor-runs", "3"}, 2, nil, []string{"need --anchors or --anchors-only"}},
		{[]string{"bench", "--format", "xml"}, 2, nil, []string{"xml"}},
		{[]string{"bench", "--import-during", "-1"}, 2, nil, []string{"--import-during must not be negative"}},
		{[]string{"bench", "--copies", "3"}, 2, nil, []string{"--copies must be 1 or 2"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// Commands that would open a store get one of their own.
			args := tc.args
			if len(args) > 0 && (args[0] == "scorecard" || args[0] == "metric") {
				args = append(args, "--data", t.TempDir())
			}
			r := run(t, args...)
			r.want(t, tc.code, args...)
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tc.code == 0 && r.stderr != "" {
				t.Errorf("stderr of a command that did what was asked:\n%s", r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "choose-one") {
				t.Errorf("the password is shown:\n%s%s", r.stdout, r.stderr)
			}
		})
	}
}

func TestCatalogDocs(t *testing.T) {
	cat := defaultCatalog(t)
	r := mustRun(t, "catalog", "docs")
	if !strings.HasPrefix(r.stdout, "# ") {
		t.Errorf("catalog docs does not start with a Markdown heading:\n%s", clip(r.stdout))
	}
	for _, m := range cat.Metrics {
		if !strings.Contains(r.stdout, m.ID) {
			t.Errorf("catalog docs lacks %s", m.ID)
		}
	}
	out := filepath.Join(t.TempDir(), "metrics.md")
	mustRun(t, "catalog", "docs", "--out", out)
	if b, err := os.ReadFile(out); err != nil || string(b) != r.stdout {
		t.Errorf("catalog docs --out wrote something else than stdout (%v)", err)
	}
}

// proc is a long-running command (serve, demo) in a goroutine.
type proc struct {
	done   chan struct{} // closed when Run returned
	code   int           // Run's exit code, once done is closed
	cancel context.CancelFunc
	out    *syncBuffer
	errb   *syncBuffer
}

// start runs a command in a goroutine; stop cancels its context.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startEnv(t, nil, args...)
}

// serveWithToken creates a token of role on the store at data, then runs
// candor serve on it and waits until it is ready: the server, its address
// and the token.
func serveWithToken(t *testing.T, data, role string) (p *proc, url, token string) {
	t.Helper()
	fields := strings.Fields(mustRun(t, "token", "create", "--data", data, "--name", "t-"+role, "--role", role).stdout)
	token = fields[len(fields)-1]
	p = start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	url = p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, url+"/readyz", "")
		return "", code == 200
	})
	return p, url, token
}

// startEnv is start with environment variables.
func startEnv(t *testing.T, vars map[string]string, args ...string) *proc {
	t.Helper()
	env, out, errb := testEnv(vars)
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{done: make(chan struct{}), cancel: cancel, out: out, errb: errb}
	go func() {
		defer close(p.done)
		p.code = Run(ctx, env, args)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Errorf("candor %s still running 30 s after cancel", strings.Join(args, " "))
		}
	})
	return p
}

// waitFor polls f until it returns true or the deadline passes.
func (p *proc) waitFor(t *testing.T, what string, f func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s, ok := f(); ok {
			return s
		}
		select {
		case <-p.done:
			t.Fatalf("command exited %d before %s\n%s", p.code, what, clip(p.errb.String()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("timed out waiting for %s", what)
	return ""
}

// listeningURL finds the URL in the JSON "listening" log line.
func (p *proc) listeningURL() (string, bool) {
	for _, line := range strings.Split(p.errb.String(), "\n") {
		var l struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" && l.URL != "" {
			return l.URL, true
		}
	}
	return "", false
}

// stop cancels the context, as SIGINT does, and wants exit code 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	select {
	case <-p.done:
		if p.code != 0 {
			t.Fatalf("exit %d after cancel, want 0 (graceful shutdown)\n%s", p.code, clip(p.errb.String()))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not shut down within 30 s of cancel")
	}
}

// get asks for url with the API token.
func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	return request(t, "GET", url, token, nil)
}

// request calls url with the API token (none: anonymous); a body is JSON.
func request(t *testing.T, method, url, token string, body io.Reader) (int, []byte) {
	t.Helper()
	resp, b := exchange(t, method, url, token, body)
	return resp.StatusCode, b
}

// exchange is request with the whole response (its headers), the body
// read and closed.
func exchange(t *testing.T, method, url, token string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "d.ndjson")
	os.WriteFile(file, []byte(goodDep+"\n"), 0o644)
	mustRun(t, "import", "--data", data, file)
	fields := strings.Fields(mustRun(t, "token", "create", "--data", data, "--name", "t", "--role", "executive").stdout)
	token := fields[len(fields)-1]

	p := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("listening URL = %q, want the port picked", url)
	}
	if code, body := get(t, url+"/healthz", ""); code != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("GET /healthz = %d %s", code, body)
	}
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, url+"/readyz", "")
		return "", code == 200
	})
	if code, _ := get(t, url+"/api/v1/scorecard", ""); code != 401 {
		t.Errorf("GET scorecard without a token = %d, want 401", code)
	}
	// No user can sign in yet, and the log says how to add one.
	if !strings.Contains(p.errb.String(), "candor user add") {
		t.Errorf("no hint to add a user on an empty user table:\n%s", p.errb.String())
	}
	code, body := get(t, url+"/api/v1/scorecard?as_of=2026-03-31", token)
	if code != 200 {
		t.Fatalf("GET scorecard = %d %s", code, body)
	}
	if ld := parseScorecard(t, string(body)).lastData()["deployment_frequency"]; ld == nil {
		t.Errorf("served scorecard has no deployment data")
	}
	// The only instance leads and writes this week's KPI snapshot.
	p.waitFor(t, "the KPI snapshot log line", func() (string, bool) {
		return "", strings.Contains(p.errb.String(), "kpi snapshot written")
	})
	p.stop(t)
	for _, want := range []string{"leadership acquired", "leadership lost"} {
		if !strings.Contains(p.errb.String(), want) {
			t.Errorf("no %q log line:\n%s", want, p.errb.String())
		}
	}
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := st.Docs(context.Background(), schedule.Collection, 0)
	st.Close()
	if err != nil || len(docs) != 1 {
		t.Errorf("%d kpi_snapshot documents (%v), want 1", len(docs), err)
	}
	if !strings.Contains(p.errb.String(), "shutting down") {
		t.Errorf("no shutdown log line:\n%s", p.errb.String())
	}
	// The port is closed after shutdown.
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("server still answers after shutdown")
	}
}

func TestServeAddressInUse(t *testing.T) {
	p := start(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0")
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	addr := strings.TrimPrefix(url, "http://")
	r := run(t, "serve", "--data", t.TempDir(), "--addr", addr)
	r.want(t, 1, "serve", "--addr", addr)
	p.stop(t)
}

func TestDemo(t *testing.T) {
	// The demo's temporary directory goes under a directory of the test's
	// own, so its removal can be checked without touching the real /tmp.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := start(t, "demo", "--addr", "127.0.0.1:0", "--scale", "0.01")
	url := p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		m := regexp.MustCompile(`running at (http://\S+)`).FindStringSubmatch(p.out.String())
		if m == nil {
			return "", false
		}
		return m[1], true
	})
	m := regexp.MustCompile(`into (\S+) …`).FindStringSubmatch(p.errb.String())
	if m == nil {
		t.Fatalf("demo does not say where its data is:\n%s", p.errb.String())
	}
	demoDir := m[1]
	if !strings.HasPrefix(demoDir, tmp) {
		t.Fatalf("demo directory %s is not under TMPDIR %s", demoDir, tmp)
	}
	if _, err := os.Stat(demoDir); err != nil {
		t.Fatalf("demo directory: %v", err)
	}
	// The demo prints the administrator's credentials and an API token.
	out := p.out.String()
	cred := regexp.MustCompile(`sign in as (\S+) with password (\S+) \(shown only now\)`).FindStringSubmatch(out)
	tok := regexp.MustCompile(`API token \([^)]*\): (\S+)`).FindStringSubmatch(out)
	if cred == nil || tok == nil {
		t.Fatalf("demo does not print the sign-in and the token:\n%s", out)
	}
	token := tok[1]
	// Signing in with them through the form leads to the scorecard page.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.PostForm(url+"/login", neturl.Values{"email": {cred[1]}, "password": {cred[2]}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" || !strings.Contains(string(page), "Scorecard") || !strings.Contains(string(page), "Demo Admin") {
		t.Errorf("signing in as the demo admin: %d at %s\n%s", resp.StatusCode, resp.Request.URL, clip(string(page)))
	}
	code, body := get(t, url+"/api/v1/scorecard", token)
	if code != 200 {
		t.Fatalf("GET scorecard = %d %s", code, clip(string(body)))
	}
	doc := parseScorecard(t, string(body))
	found, custom := false, false
	for _, p := range doc.Pillars {
		for _, c := range p.Metrics {
			// The demo organisation's own metrics (demo.yaml) are computed beside the built-ins.
			if c.ID == "innovation_capacity" {
				custom = c.Value != nil && c.Count > 0
			}
			if c.ID == "deployment_frequency" {
				found = true
				if c.Freshness.LastData == nil || c.Value == nil || *c.Value <= 0 || c.Count == 0 {
					t.Errorf("demo deployment_frequency = %+v, want deployment data", c)
				}
			}
		}
	}
	if !found {
		t.Errorf("demo scorecard has no deployment_frequency")
	}
	if !custom {
		t.Errorf("demo scorecard has no value for its own metric innovation_capacity")
	}
	if code, _ := get(t, url+"/api/v1/metrics/change_failure_rate?by=team", token); code != 200 {
		t.Errorf("the metric URL the demo prints answers %d", code)
	}
	// The demo's own role view for its CFO (demo.yaml's views): a new
	// user's look had found no view of spend, unit costs and revenue.
	if code, body := get(t, url+"/api/v1/views/cfo", token); code != 200 || !strings.Contains(string(body), `"id": "budget_variance"`) || !strings.Contains(string(body), `"id": "cac_payback_months"`) {
		t.Errorf("GET /api/v1/views/cfo = %d %s", code, clip(string(body)))
	}
	// The owners have acted on all but a few amber and red metrics: the
	// escalations the demo shows are the ones it left open, not every
	// metric that is not green.
	if !strings.Contains(p.errb.String(), "recorded the owners' actions on") {
		t.Errorf("the demo does not say it recorded owners' actions:\n%s", p.errb.String())
	}
	code, body = get(t, url+"/api/v1/escalations", token)
	var esc struct {
		Escalations []struct{ Metric string } `json:"escalations"`
	}
	if err := json.Unmarshal(body, &esc); code != 200 || err != nil {
		t.Fatalf("GET escalations = %d %v %s", code, err, clip(string(body)))
	}
	if n := len(esc.Escalations); n == 0 || n > demoLeftOpen {
		t.Errorf("the demo shows %d escalations, want 1 to %d: %+v", n, demoLeftOpen, esc.Escalations)
	}
	// Each action is about its own metric: one text had been recorded on
	// ARR, NRR, CAC and quota attainment alike.
	noted, acted := map[string]string{}, 0
	for _, pl := range doc.Pillars {
		for _, c := range pl.Metrics {
			code, body := get(t, url+"/api/v1/metrics/"+c.ID+"/acknowledgements", token)
			var acks struct {
				Acknowledgements []struct{ Note string } `json:"acknowledgements"`
			}
			if err := json.Unmarshal(body, &acks); code != 200 || err != nil {
				t.Fatalf("GET %s's acknowledgements = %d %v %s", c.ID, code, err, clip(string(body)))
			}
			for _, a := range acks.Acknowledgements {
				if other, ok := noted[a.Note]; ok && other != c.ID {
					t.Errorf("%s and %s have the same action recorded: %q", other, c.ID, a.Note)
				}
				noted[a.Note] = c.ID
				acted++
			}
		}
	}
	if acted < 10 {
		t.Errorf("the demo recorded %d actions", acted)
	}
	p.stop(t)
	if _, err := os.Stat(demoDir); !os.IsNotExist(err) {
		t.Errorf("demo directory %s still exists after shutdown (%v)", demoDir, err)
	}
}

// A demo kept with --data in a directory that does not exist yet makes it
// (it failed on writing its configuration there) and keeps the store.
func TestDemoKeepsANewDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "demo")
	p := start(t, "demo", "--addr", "127.0.0.1:0", "--scale", "0.01", "--data", dir)
	p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		return "", strings.Contains(p.out.String(), "running at http://")
	})
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "candor.db")); err != nil {
		t.Errorf("the kept demo store: %v", err)
	}
	// Its configuration sets reports.base_url to the demo's own address,
	// so that its digest links to its pages: it had set none, and the
	// digest had had no link.
	url := regexp.MustCompile(`running at (http://\S+)`).FindStringSubmatch(p.out.String())
	if cfg, err := os.ReadFile(filepath.Join(dir, "demo.yaml")); err != nil || url == nil || !strings.Contains(string(cfg), "reports:\n  base_url: "+url[1]+"\n") {
		t.Errorf("the demo's configuration (%v) does not set reports.base_url to %v:\n%s", err, url, cfg)
	}
	// It says how the other commands read the kept store, and that works.
	m := regexp.MustCompile(`candor (scorecard --data \S+ --config \S+)`).FindStringSubmatch(p.out.String())
	if m == nil {
		t.Fatalf("the demo does not say how to read its kept store:\n%s", p.out.String())
	}
	env, out, errb := testEnv(nil)
	if code := Run(context.Background(), env, strings.Fields(m[1])); code != 0 || !strings.Contains(out.String(), "Change failure rate") {
		t.Errorf("candor %s exited %d: %s%s", m[1], code, out.String(), errb.String())
	}
	// The demo's digest links to the demo's pages.
	eml := filepath.Join(t.TempDir(), "digest.eml")
	mustRun(t, append(append([]string{"report", "digest"}, strings.Fields(m[1])[1:]...), "--to", "admin@example.com", "--out", eml)...)
	b, err := os.ReadFile(eml)
	// Quoted-printable's soft line breaks joined.
	body := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(b))
	if err != nil || url == nil || !strings.Contains(body, url[1]+"/metrics/") {
		t.Errorf("the demo's digest (%v) has no link to %v/metrics/", err, url)
	}
}

// A kept demo run again is served as it was made (README: "With --data
// DIR the demo store is kept"): it had generated the organisation again
// into the store, changing records its pages had shown and mixing two
// runs' data, and made another API token at every start.
func TestDemoRunAgainKeepsItsStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	p := start(t, "demo", "--addr", "127.0.0.1:0", "--scale", "0.01", "--data", dir)
	p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		return "", strings.Contains(p.out.String(), "running at http://")
	})
	p.stop(t)
	cfg := filepath.Join(dir, "demo.yaml")
	before := mustRun(t, "record", "deployment", "import/dep-0000100", "--data", dir, "--config", cfg).stdout
	tokens := mustRun(t, "token", "list", "--data", dir, "--config", cfg).stdout

	p = start(t, "demo", "--addr", "127.0.0.1:0", "--data", dir)
	p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		return "", strings.Contains(p.out.String(), "running at http://")
	})
	p.stop(t)
	if e := p.errb.String(); strings.Contains(e, "generating") || !strings.Contains(e, "serving the demo store kept in") {
		t.Errorf("a kept demo run again:\n%s", e)
	}
	if out := p.out.String(); !strings.Contains(out, "API token: shown when this demo directory was made; another: candor token create --name NAME --role executive --data "+dir+" --config "+cfg) ||
		strings.Contains(out, "shown only now") || !strings.Contains(out, "candor scorecard --data "+dir+" --config "+cfg) {
		t.Errorf("a kept demo run again prints:\n%s", out)
	}
	if after := mustRun(t, "record", "deployment", "import/dep-0000100", "--data", dir, "--config", cfg).stdout; after != before {
		t.Errorf("a record of the kept demo changed:\n%s\nthen\n%s", before, after)
	}
	if after := mustRun(t, "token", "list", "--data", dir, "--config", cfg).stdout; after != tokens {
		t.Errorf("tokens before the second run:\n%s\nafter:\n%s", tokens, after)
	}
	// Asking a kept store for other data is refused, naming the flag.
	r := run(t, "demo", "--addr", "127.0.0.1:0", "--data", dir, "--scale", "0.02")
	r.want(t, 2, "demo", "--scale", "0.02")
	if !strings.Contains(r.stderr, "--scale: the demo store in") {
		t.Errorf("demo --scale on a kept store: %s", r.stderr)
	}
}

// A kept demo stopped between its import and its owners' actions (killed,
// Ctrl-C) records them when run again: it had been served as it was left,
// every amber and red metric escalated.
func TestDemoStoppedBeforeItsActions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "demo.yaml")
	if err := writeDemoConfig(dir, demoConfig); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "demo.ndjson")
	mustRun(t, "generate", "--scale", "0.01", "--out", data)
	mustRun(t, "import", data, "--data", dir, "--config", cfg)
	p := start(t, "demo", "--addr", "127.0.0.1:0", "--data", dir)
	url := p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		m := regexp.MustCompile(`running at (http://\S+)`).FindStringSubmatch(p.out.String())
		if m == nil {
			return "", false
		}
		return m[1], true
	})
	defer p.stop(t)
	if !strings.Contains(p.errb.String(), "recorded the owners' actions on") {
		t.Errorf("a demo stopped before its owners' actions, run again, does not record them:\n%s", p.errb.String())
	}
	tok := regexp.MustCompile(`API token \([^)]*\): (\S+)`).FindStringSubmatch(p.out.String())
	if tok == nil {
		t.Fatalf("no API token printed:\n%s", p.out.String())
	}
	code, body := get(t, url+"/api/v1/escalations", tok[1])
	var esc struct {
		Escalations []struct{ Metric string } `json:"escalations"`
	}
	if err := json.Unmarshal(body, &esc); code != 200 || err != nil {
		t.Fatalf("GET escalations = %d %v %s", code, err, clip(string(body)))
	}
	if n := len(esc.Escalations); n == 0 || n > demoLeftOpen {
		t.Errorf("the demo shows %d escalations, want 1 to %d", n, demoLeftOpen)
	}
}

// A new demo's password and token are shown as soon as they are made,
// before the data's load, where they were shown only once it was loaded: a
// demo stopped during the load (Ctrl-C, killed) had made them and shown
// neither, and a kept directory's administrator could never sign in.
func TestDemoShowsItsAccessBeforeTheLoad(t *testing.T) {
	p := start(t, "demo", "--addr", "127.0.0.1:0", "--scale", "0.01", "--data", filepath.Join(t.TempDir(), "demo"))
	p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		return "", strings.Contains(p.out.String(), "running at http://")
	})
	p.stop(t)
	out := p.out.String()
	shown, running := strings.Index(out, "(shown only now)"), strings.Index(out, "running at http://")
	if shown < 0 || shown > running || strings.Count(out, "shown only now") != 2 || strings.Count(out, "API token (") != 1 {
		t.Errorf("the demo's access is not shown before it is running, the token once:\n%s", out)
	}
	// Said again once it runs, after the server's start-up lines.
	if again := strings.LastIndex(out, "with password "); again < running {
		t.Errorf("the sign-in is not said again once the demo runs:\n%s", out)
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{"/tmp/demo": "/tmp/demo", "/tmp/my demo": "'/tmp/my demo'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

// The engine a command opens follows the command's registration: a
// one-shot command's keeps the state pages its read touches, any other's
// (the server's) gives them back. Run carries the registration to the
// command; scorecard and metric are registered one-shot (TestPacing).
func TestOneShotRegistrationReachesTheEngine(t *testing.T) {
	saved := commands
	defer func() { commands = saved }()
	got := map[string]bool{}
	for _, one := range []bool{true, false} {
		name := fmt.Sprintf("test-one-shot-%v", one)
		register(command{name: name, oneShot: one, run: func(ctx context.Context, env *Env, _ []string) error {
			c := common{data: t.TempDir()}
			a, err := c.openOrCreate(ctx, env)
			if err != nil {
				return err
			}
			defer a.Close()
			got[name] = a.engine.OneShot
			return nil
		}})
		env, _, errb := testEnv(nil)
		if code := Run(context.Background(), env, []string{name}); code != 0 {
			t.Fatalf("%s exited %d: %s", name, code, errb.String())
		}
		if got[name] != one {
			t.Errorf("%s registered oneShot %v: its engine's OneShot is %v", name, one, got[name])
		}
	}
}
