package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func importerFixture(name string) string {
	return filepath.Join("..", "..", "internal", "importer", "testdata", name)
}

// candor import --format maps other tools' files through the same import:
// a summary, the mapping's notes, and flags that do not fit the format
// refused as usage mistakes before anything is opened.
func TestImportToolFormats(t *testing.T) {
	data := t.TempDir()
	r := mustRun(t, "import", "--data", data, "--format", "trivy", importerFixture("trivy.gomod.json.golden"))
	// The scan is a record of its own, counted apart from the findings.
	if !strings.Contains(r.stdout, "\nvulnerability               1          1") || !strings.Contains(r.stdout, "\nvulnerability_scan          1          1") ||
		!strings.Contains(r.stdout, `4 findings with severity "UNKNOWN" left out`) {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	r = mustRun(t, "import", "--data", data, "--format", "trivy", "--severity", "unknown=low", "--json", importerFixture("trivy.gomod.json.golden"))
	type counts struct{ Inserted, Replaced, Unchanged int }
	var sum struct {
		counts
		ByKind map[string]counts `json:"by_kind"`
		Notes  []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("%v in %s", err, r.stdout)
	}
	if sum.ByKind["vulnerability"] != (counts{Inserted: 4, Unchanged: 1}) || sum.Notes != nil {
		t.Fatalf("summary %+v, want the 4 findings mapped to low inserted, 1 unchanged", sum)
	}
	// The same scan, which now reports 5 findings of a Candor severity.
	if sum.ByKind["vulnerability_scan"] != (counts{Replaced: 1}) || sum.counts != (counts{Inserted: 4, Replaced: 1, Unchanged: 1}) {
		t.Fatalf("summary %+v, want the scan's record replaced", sum)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "focus", "--target", "img"}, "--target applies to --format sarif, trivy, grype only"},
		{[]string{"--won-stage", "Won"}, "--won-stage applies to --format salesforce, hubspot only"},
		{[]string{"--format", "xml"}, `--format: "xml" is not ndjson, csv, focus`},
		{[]string{"--format", "focus", "--kind", "cost"}, "--kind: a focus file's kinds come from its format"},
		{[]string{"--format", "grype", "--severity", "low"}, `--severity: "low" is not FROM=TO`},
		// The importer's refusal of an option names the flag that gave it
		// (it had said "cost column", "slash dates", "severity").
		{[]string{"--format", "grype", "--severity", "negligible=tiny"}, "candor import: --severity: negligible=tiny: map to critical, high, medium, low or skip\n"},
		{[]string{"--format", "focus", "--cost-column", "Cost"}, "candor import: --cost-column: \"Cost\": use one of EffectiveCost, "},
		{[]string{"--format", "salesforce", "--slash-dates", "ymd"}, "candor import: --slash-dates: \"ymd\": use mdy or dmy\n"},
		{[]string{"--format", "grype", "--scanned-at", "yesterday"}, "--scanned-at"},
		{[]string{"--format", "hubspot", "--tz", "Mars/Base"}, "--tz"},
	} {
		args := append([]string{"import", "--data", data}, c.args...)
		args = append(args, importerFixture("trivy.gomod.json.golden"))
		r := run(t, args...)
		r.want(t, 2, args...)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("candor %s: stderr %q, want %q", strings.Join(args, " "), r.stderr, c.want)
		}
	}

	r = run(t, "import", "--data", data, "--format", "focus", importerFixture("focus-spec-v1.2.saas_spend_agreements_a2.csv"))
	r.want(t, 1)
	if !strings.Contains(r.stderr, "saas_spend_agreements_a2.csv:2: field ChargePeriodStart:") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
	mustRun(t, "import", "--data", data, "--format", "focus", "--slash-dates", "mdy", importerFixture("focus-spec-v1.2.saas_spend_agreements_a2.csv"))
}

// A file named on the command line that cannot be read is the user's
// argument mistake: exit 2 naming the file (it was exit 1 with Go's "open
// …: no such file or directory"), as catalog propose --file, and no store
// is made for it.
func TestImportMissingFileIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--data", data, filepath.Join(dir, "nosuchfile.ndjson")}, "candor import: " + filepath.Join(dir, "nosuchfile.ndjson") + ": no such file\n"},
		{[]string{"import", "--data", data, dir}, dir + " is a directory"},
		{[]string{"catalog", "propose", "--data", data, "--section", "views", "--file", filepath.Join(dir, "views.yaml"), "--reason", "r"}, "--file: " + filepath.Join(dir, "views.yaml") + ": no such file\n"},
	} {
		r := run(t, tc.args...)
		r.want(t, 2, tc.args...)
		if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "open ") {
			t.Errorf("candor %s: stderr = %q, want %q", strings.Join(tc.args, " "), r.stderr, tc.want)
		}
	}
	if _, err := os.Stat(data); err == nil {
		t.Error("an import of a missing file made a store")
	}
}

// CSV piped to stdin without --format is read as NDJSON (stdin has no
// name to tell its format by); its refusal says so and names --format csv,
// where it had listed only "not a JSON object" line by line. NDJSON that
// is refused gets no such word.
func TestImportStdinCSVHintsFormat(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	const csv = "id,service,environment,finished_at,status\nc1,api,production,2026-03-30T13:00:00Z,success\n"
	env, _, errb := testEnv(nil)
	env.Stdin = strings.NewReader(csv)
	if code := Run(t.Context(), env, []string{"import", "--kind", "deployment", "--data", data, "-"}); code == 0 ||
		!strings.Contains(errb.String(), "stdin:1: not a JSON object") || !strings.Contains(errb.String(), "stdin is read as NDJSON; for CSV pass --format csv") {
		t.Errorf("CSV on stdin: exit %d\n%s", code, errb.String())
	}
	env, out, errb := testEnv(nil)
	env.Stdin = strings.NewReader(csv)
	if code := Run(t.Context(), env, []string{"import", "--kind", "deployment", "--format", "csv", "--data", data, "-"}); code != 0 {
		t.Errorf("CSV on stdin with --format csv: exit %d\n%s%s", code, out.String(), errb.String())
	}
	env, _, errb = testEnv(nil)
	env.Stdin = strings.NewReader(`{"id": "d9", "service": "api"}` + "\n")
	if code := Run(t.Context(), env, []string{"import", "--kind", "deployment", "--data", data, "-"}); code == 0 || strings.Contains(errb.String(), "--format csv") {
		t.Errorf("bad NDJSON on stdin: exit %d\n%s", code, errb.String())
	}
}

// A record repeating an earlier one's key in one import is said, with
// both lines, in the text and in --json, and counted apart from the
// records the store inserted.
func TestImportNamesRepeatedKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deploys.ndjson")
	line := func(id, status string) string {
		return `{"kind":"deployment","id":"` + id + `","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"` + status + `"}` + "\n"
	}
	if err := os.WriteFile(file, []byte(line("d1", "success")+line("d2", "success")+line("d1", "failure")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "import", "--data", filepath.Join(dir, "data"), file)
	r.want(t, 0)
	for _, want := range []string{
		"total                   3          2          0          0          1\n",
		" records/s\n1 record repeated an earlier record's key (kind, source, id) in this import; the last of each is stored:\n  " + file + ":3: deployment/import/d1 repeats " + file + ":1\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout:\n%s\nwant %q", r.stdout, want)
		}
	}
	r = run(t, "import", "--json", "--data", filepath.Join(dir, "data"), file)
	r.want(t, 0)
	var out struct {
		Records, Replaced, Unchanged, Repeated int
		Repeats                                []struct {
			File, Kind, ID string
			Line           int
			EarlierFile    string `json:"earlier_file"`
			EarlierLine    int    `json:"earlier_line"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Records != 3 || out.Replaced != 1 || out.Unchanged != 1 || out.Repeated != 1 || len(out.Repeats) != 1 ||
		out.Repeats[0].Line != 3 || out.Repeats[0].EarlierLine != 1 || out.Repeats[0].ID != "d1" || out.Repeats[0].EarlierFile != file {
		t.Errorf("--json: %s", r.stdout)
	}
}

// A line over the 16 MiB an import reads, and a CSV header lacking a
// column the kind its kind column names needs, are refused as the review
// of 2026-12-07 asked: the line as an invalid record of its file and line
// (the lines after it still checked), the header once, of line 1; nothing
// is imported. The line had ended the import ("line longer than 16777216
// bytes"), and the header had been reported on each of 19,901 rows.
func TestImportLongLineAndKindColumnHeader(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dep := func(id string) string {
		return `{"kind":"deployment","id":"` + id + `","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}` + "\n"
	}
	seed := filepath.Join(dir, "seed.ndjson")
	if err := os.WriteFile(seed, []byte(dep("d0")), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "import", "--data", data, seed).want(t, 0)

	long := `{"kind":"deployment","id":"big","version":"` + strings.Repeat("x", 17<<20) + `"}`
	file := filepath.Join(dir, "long.ndjson")
	if err := os.WriteFile(file, []byte(dep("d1")+long+"\n"+`{"kind":"deployment","id":"d2"}`+"\n"+dep("d3")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "import", "--data", data, file)
	r.want(t, 1)
	want := fmt.Sprintf("candor import: 2 invalid records; nothing was imported\n  %s:2: the line is %d bytes; a record is at most 1 MiB (1048576 bytes)\n  %s:3: field service: required\n", file, len(long), file)
	if !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr = %.600q\nwant %q…", r.stderr, want)
	}

	csv := filepath.Join(dir, "many.csv")
	body := "kind,id,service,environment,status\n" + strings.Repeat("deployment,d9,api,production,success\n", 300)
	if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "--data", data, csv}, {"import", "--skip-invalid", "--data", data, csv}} {
		r = run(t, args...)
		r.want(t, 1, args...)
		want = "candor import: the CSV header is refused; nothing was imported\n  " + csv + ":1: field finished_at: the header lacks this column: every deployment record needs it; line 2 is the first deployment\n"
		if r.stderr != want {
			t.Errorf("candor %s: stderr = %q\nwant %q", strings.Join(args, " "), r.stderr, want)
		}
	}

	r = run(t, "record", "--data", data, "deployment", "import", "d1")
	r.want(t, 1)
	r = run(t, "record", "--data", data, "deployment", "import", "d0")
	r.want(t, 0)
}

// An import on a bad day says what would otherwise pass unseen: an empty
// file (warned of, exit 0), a record dated past the clock (warned of on
// stderr and in the JSON summary, per kind and field with the first
// line), records skipped by --skip-invalid (exit 3, so that a script
// tells a partial import from a clean one), and a CSV whose kind cannot
// be told is a usage error (exit 2).
func TestImportBadDay(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.ndjson", "")
	r := mustRun(t, "import", "--data", data, empty)
	if want := "warning: " + empty + ": no records\n"; r.stderr != want {
		t.Errorf("empty file: stderr = %q, want %q", r.stderr, want)
	}

	ahead := time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)
	future := write("future.ndjson", strings.Join([]string{
		`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"` + ahead + `","status":"success"}`,
		`{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"` + ahead + `","status":"success"}`}, "\n"))
	r = mustRun(t, "import", "--data", data, future)
	if want := "warning: 2 deployment records have finished_at more than a day past the clock ("; !strings.HasPrefix(r.stderr, want) ||
		!strings.Contains(r.stderr, "the first at "+future+":2;") {
		t.Errorf("future: stderr = %q, want %q… naming %s:2", r.stderr, want, future)
	}
	r = mustRun(t, "import", "--data", data, "--json", future)
	var sum struct {
		Future []struct {
			Kind, Field, File string
			Count, Line       int
		} `json:"future_times"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || len(sum.Future) != 1 || sum.Future[0].Kind != "deployment" ||
		sum.Future[0].Field != "finished_at" || sum.Future[0].Count != 2 || sum.Future[0].File != future || sum.Future[0].Line != 2 {
		t.Errorf("future --json: %s (%v)", r.stdout, err)
	}
	if !strings.Contains(r.stderr, "warning: 2 deployment records have finished_at") {
		t.Errorf("future --json: stderr = %q", r.stderr)
	}

	bad := write("bad.ndjson", `{"kind":"deployment","id":"d4","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`+"\n"+
		`{"kind":"deploymnt","id":"d5"}`+"\n")
	r = run(t, "import", "--data", data, "--skip-invalid", bad)
	r.want(t, 3, "import", "--skip-invalid", bad)
	if !strings.Contains(r.stdout, "1 invalid record skipped") || !strings.Contains(r.stdout, `unknown kind "deploymnt" (did you mean deployment?`) ||
		!strings.Contains(r.stderr, "candor import: 1 invalid record skipped (--skip-invalid); the valid records were imported: exit status 3") {
		t.Errorf("--skip-invalid: stdout = %q\nstderr = %q", r.stdout, r.stderr)
	}
	mustRun(t, "record", "--data", data, "deployment", "import", "d4")

	csv := write("mystuff.csv", "id,service,environment,finished_at,status\nd6,api,production,2026-03-10T12:00:00Z,success\n")
	r = run(t, "import", "--data", data, csv)
	r.want(t, 2, "import", csv)
	if !strings.Contains(r.stderr, "cannot tell the records' kind") || !strings.Contains(r.stderr, "usage: candor import") {
		t.Errorf("no kind: stderr = %q", r.stderr)
	}
}

// candor import --dry-run checks and counts the records as the import
// would, against the store as it is, and stores nothing: the import after
// it inserts what the dry run said it would, and the ledger is as it was.
func TestImportDryRun(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	data := filepath.Join(dir, "data")
	d := []string{"--data", data}
	mustRun(t, append([]string{"import", write("one.ndjson", `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`+"\n")}, d...)...)
	two := write("two.ndjson", `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`+"\n"+
		`{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success"}`+"\n")
	head := mustRun(t, append([]string{"ledger", "head"}, d...)...).stdout
	dry := mustRun(t, append([]string{"import", "--dry-run", "--json", two}, d...)...)
	if !strings.Contains(dry.stdout, `"dry_run": true`) || !strings.Contains(dry.stdout, `"inserted": 1`) || !strings.Contains(dry.stdout, `"unchanged": 1`) ||
		!strings.Contains(dry.stderr, "nothing was stored") {
		t.Errorf("the dry run:\n%s\n%s", dry.stdout, dry.stderr)
	}
	if after := mustRun(t, append([]string{"ledger", "head"}, d...)...).stdout; after != head {
		t.Errorf("a dry run moved the ledger: %s → %s", head, after)
	}
	if real := mustRun(t, append([]string{"import", "--json", two}, d...)...).stdout; !strings.Contains(real, `"inserted": 1`) || strings.Contains(real, "dry_run") {
		t.Errorf("the import after the dry run:\n%s", real)
	}
	// An invalid line is refused as the import refuses it.
	bad := write("bad.ndjson", `{"kind":"deployment","id":"d3"}`+"\n")
	runWith(t, "", false, append([]string{"import", "--dry-run", bad}, d...)...).want(t, 1, "a dry run of an invalid line")
}
