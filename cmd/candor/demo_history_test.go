package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/store"
)

// The demo stores its year day by day, each day's records at the newest
// time they hold: its ledger had begun the day the demo was made, so the
// evidence pack of every quarter that had ended said "no ledger entries up
// to the period's end: nothing to verify" and an auditor trying the demo
// saw no closed period verified.
func TestDemoLedgerSpansItsYear(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	p := start(t, "demo", "--addr", "127.0.0.1:0", "--scale", "0.01", "--data", dir)
	p.waitFor(t, "the demo URL on stdout", func() (string, bool) {
		return "", strings.Contains(p.out.String(), "running at http://")
	})
	p.stop(t)
	cfg := filepath.Join(dir, "demo.yaml")
	// The last quarter that has ended.
	now := time.Now().UTC()
	qStart := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	from, to := qStart.AddDate(0, -3, 0), qStart.AddDate(0, 0, -1)
	out := filepath.Join(t.TempDir(), "q.zip")
	r := mustRun(t, "evidence", "--from", from.Format(time.DateOnly), "--to", to.Format(time.DateOnly), "--out", out, "--data", dir, "--config", cfg)
	if !strings.HasSuffix(strings.TrimSpace(r.stdout), ", intact") || strings.Contains(r.stdout, "late") {
		t.Errorf("the demo's evidence pack of %s – %s:\n%s%s", from.Format(time.DateOnly), to.Format(time.DateOnly), r.stdout, r.stderr)
	}
	// The pack's head is the ledger's as of the period's end, which an
	// auditor can ask for.
	m := regexp.MustCompile(`ledger head (\d+:[0-9a-f]+)`).FindStringSubmatch(r.stdout)
	end := to.AddDate(0, 0, 1).Format(time.DateOnly)
	if head := strings.TrimSpace(mustRun(t, "ledger", "head", "--as-of", end, "--data", dir, "--config", cfg).stdout); m == nil || head != m[1] {
		t.Errorf("candor ledger head --as-of %s = %s, the pack names %v", end, head, m)
	}
	if r := run(t, "ledger", "head", "--as-of", "2001-01-01", "--data", dir, "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "the ledger held no entry before 2001-01-01T00:00:00Z") {
		t.Errorf("candor ledger head --as-of before the ledger: %d %s", r.code, r.stderr)
	}
	// A subcommand's refusal is under its own name, its usage its own.
	if r := run(t, "ledger", "head", "--as-of", "yesterday", "--data", dir, "--config", cfg); r.code != 2 || !strings.HasPrefix(r.stderr, "candor ledger head: --as-of: ") ||
		!strings.Contains(r.stderr, "usage: candor ledger head [flags] (candor ledger head -h for help)") {
		t.Errorf("candor ledger head --as-of yesterday: %d %s", r.code, r.stderr)
	}
	// The weekly KPI snapshots the server would have taken are chained in
	// the quarter: 13 or 14 Mondays.
	if m := regexp.MustCompile(`(\d+) KPI snapshots`).FindStringSubmatch(r.stdout); m == nil || m[1] != "13" && m[1] != "14" {
		t.Errorf("the demo's evidence pack of a quarter holds %v KPI snapshots, want its weeks':\n%s", m, r.stdout)
	}
	// A record is stored on its day, not the demo's.
	rec := mustRun(t, "record", "deployment", "import/dep-0000100", "--data", dir, "--config", cfg, "--format", "json").stdout
	if strings.Contains(rec, `"ingested_at": "`+now.Format(time.DateOnly)) || !strings.Contains(rec, `"ingested_at"`) {
		t.Errorf("the demo's deployment was stored today:\n%s", rec)
	}
	mustRun(t, "ledger", "verify", "--data", dir, "--config", cfg)

	// A retention run redacting the quarter's records keeps when they
	// were stored: the pack built after it still finds none stored late
	// (each had been counted, stored after the period's end).
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nretention:\n  personal_after: 30d\n")
	f.Close()
	applied := mustRun(t, "retention", "apply", "--data", dir, "--config", cfg).stdout
	// Its periods are written as configured ("30d"), not in Go's notation.
	if !strings.Contains(applied, "pseudonymised") || strings.Contains(applied, " 0 records") || !strings.Contains(applied, " 30d") || strings.Contains(applied, "720h") {
		t.Fatalf("retention apply on the demo: %s", applied)
	}
	r = mustRun(t, "evidence", "--from", from.Format(time.DateOnly), "--to", to.Format(time.DateOnly), "--out", out, "--data", dir, "--config", cfg)
	files := unzip(t, out)
	var lv struct {
		Records struct {
			Checked    int64
			Redacted   int64                 `json:"redacted_after"`
			RedactedBy []struct{ Seq int64 } `json:"redacted_by"`
		} `json:"records"`
		Late struct{ Count int64 } `json:"late_records"`
	}
	if err := json.Unmarshal(files["ledger_verification.json"], &lv); err != nil {
		t.Fatal(err)
	}
	if lv.Late.Count != 0 || lv.Records.Redacted == 0 || len(lv.Records.RedactedBy) != 1 || !strings.HasSuffix(strings.TrimSpace(r.stdout), ", intact") {
		t.Errorf("the pack after retention: %+v\n%s", lv, r.stdout)
	}
	// A rewritten record's provenance names the run; one it did not
	// rewrite names none.
	var redacted struct {
		Provenance struct {
			RedactedBy *struct{ Seq int64 } `json:"redacted_by"`
		} `json:"provenance"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "record", "ticket", "import/tkt-0000001", "--data", dir, "--config", cfg, "--format", "json").stdout), &redacted); err != nil || redacted.Provenance.RedactedBy == nil || len(lv.Records.RedactedBy) == 0 || redacted.Provenance.RedactedBy.Seq != lv.Records.RedactedBy[0].Seq {
		t.Errorf("an old ticket's provenance after retention: %+v (%v), the run %+v", redacted.Provenance, err, lv.Records.RedactedBy)
	}
	if text := mustRun(t, "record", "ticket", "import/tkt-0000001", "--data", dir, "--config", cfg).stdout; !strings.Contains(text, "redacted") || !strings.Contains(text, "by retention on ") {
		t.Errorf("candor record of a redacted ticket says nothing of it:\n%s", text)
	}
	// It says so: the quarter's records were changed after it ended.
	if idx := string(files["index.md"]); !strings.Contains(idx, "records stored before the period's end were rewritten by retention after it (entry ") {
		t.Errorf("index.md after retention does not say the records were redacted:\n%s", idx)
	}
}

// The configuration's initial set is stamped by the store's clock, as its
// ledger entry is: the demo's had been proposed, its document said, the
// day the demo was made, and chained a year before, at the ledger's first
// entry, so an evidence pack of a quarter that had ended said the
// definitions in force in it were proposed after its end.
func TestDemoInitialSetDatedWithItsLedgerEntry(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeDemoConfig(dir, demoConfig); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 12, 7, 0, 0, 0, 0, time.UTC)
	c := common{data: dir, config: filepath.Join(dir, "demo.yaml"), clock: func() time.Time { return from }}
	env, _, _ := testEnv(nil)
	a, err := c.openOrCreate(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	doc, ok, err := a.store.DocByKey(ctx, governance.Proposals, governance.InitialKey)
	if err != nil || !ok {
		t.Fatalf("the initial set: found %v, %v", ok, err)
	}
	var p governance.Proposal
	if err := json.Unmarshal(doc.Body, &p); err != nil {
		t.Fatal(err)
	}
	var entry time.Time
	if err := a.store.LedgerScan(ctx, 1, 1, func(r store.LedgerRow) error { entry = r.At; return nil }); err != nil {
		t.Fatal(err)
	}
	if !p.At.Equal(from) || !entry.Equal(from) {
		t.Errorf("the initial set was proposed at %s and chained at %s, the store's clock reading %s", p.At, entry, from)
	}
}

// A demo stopped while it stored its records (Ctrl-C, killed) is not served
// as the whole organisation when run again: it says so and what to do.
func TestDemoStoppedWhileStoring(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	c := common{data: dir, config: filepath.Join(dir, "demo.yaml")}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeDemoConfig(dir, demoConfig); err != nil {
		t.Fatal(err)
	}
	env, _, _ := testEnv(nil)
	a, err := c.openOrCreate(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := markDemo(context.Background(), a.store, demoStarted, `{}`); err != nil {
		t.Fatal(err)
	}
	a.Close()
	r := run(t, "demo", "--addr", "127.0.0.1:0", "--data", dir)
	if r.code == 0 || !strings.Contains(r.stderr, "the demo store in "+dir+" was stopped while its records were being stored: remove the directory") {
		t.Errorf("a demo stopped while storing, run again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// demoDays groups the generated records by the day of the newest time each
// holds but its deadlines, oldest first: records undated or dated before
// the history's start are stored at its start, records dated after now at
// now, last; a ticket on the day it was resolved, not the day its SLA fell
// due, a quota on the day its period began.
func TestDemoDays(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	lines := []string{
		`{"kind":"deployment","id":"d1","started_at":"2026-03-02T10:00:00Z","finished_at":"2026-03-02T10:05:00Z"}`,
		`{"kind":"service","id":"api"}`,
		`{"kind":"incident","id":"i1","opened_at":"2026-03-01T23:00:00Z","resolved_at":"2026-03-02T01:00:00Z"}`,
		``,
		`{"kind":"quota","id":"q4","period_start":"2026-10-01","period_end":"2027-01-01"}`,
		`{"kind":"quota","id":"q1","period_start":"2027-01-01","period_end":"2027-04-01"}`,
		`{"kind":"ticket","id":"t1","created_at":"2026-03-01T09:00:00Z","resolved_at":"2026-03-02T09:00:00Z","sla_due_at":"2026-03-04T09:00:00Z"}`,
		`{"kind":"deployment","id":"d0","finished_at":"2026-02-27T08:00:00Z"}`,
	}
	body := []byte(strings.Join(lines, "\n") + "\n")
	from := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	days, err := demoDays(bytes.NewReader(body), from, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range days {
		var ids []string
		for _, l := range d.lines {
			line := string(body[l[0] : l[0]+l[1]])
			ids = append(ids, line[strings.Index(line, `"id":"`)+6:][:2])
		}
		got = append(got, fmt.Sprintf("%s %v", d.newest.Format(time.RFC3339), ids))
	}
	want := []string{
		"2026-02-28T00:00:00Z [ap d0]",
		"2026-03-02T10:05:00Z [d1 i1 t1]",
		"2026-10-01T00:00:00Z [q4]",
		"2026-12-07T12:00:00Z [q1]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("demoDays =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
