package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/smtptest"
	"github.com/candor/candor/internal/sqlite"
)

// TestReportCommands makes a digest and a board pack of a generated
// organisation, lists them, and resends the digest through an in-process
// mail server.
func TestReportCommands(t *testing.T) {
	dir := t.TempDir()
	data, gen, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson"), filepath.Join(dir, "candor.yaml")
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", "2026-12-01")
	mustRun(t, "import", "--data", data, gen)
	if err := os.WriteFile(cfg, []byte(`reports:
  base_url: https://candor.example.com
  recipients:
    - address: ceo@example.com
      roles: [ceo]
    - address: eng@example.com
      roles: [engineering]
  board:
    to: [ceo@example.com]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// An annotation posted over the API (stored, not configured) is in the
	// digest of a week it overlaps.
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := annotation.Add(context.Background(), st, catalog.Annotation{Name: "Posted launch week", Kind: "launch", From: "2026-11-25", To: "2026-11-27"}, "test", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	eml := filepath.Join(dir, "eng.eml")
	mustRun(t, "report", "digest", "--config", cfg, "--data", data, "--as-of", "2026-11-30T07:00:00Z", "--to", "eng@example.com", "--out", eml)
	b, err := os.ReadFile(eml)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Posted launch week", "To: <eng@example.com>", "multipart/alternative", "text/plain", "text/html", "Subject: Candor weekly digest, week to 30 Nov 2026",
		// A program's message (RFC 3834): no vacation reply to it.
		"Auto-Submitted: auto-generated"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the .eml lacks %q", want)
		}
	}
	if r := run(t, "report", "digest", "--config", cfg, "--data", data, "--out", eml); r.code != 2 || !strings.Contains(r.stderr, "one --to") {
		t.Errorf("--out for two recipients: %d %s", r.code, r.stderr)
	}
	// An address that is neither a recipient nor a user is a bad --to.
	if r := run(t, "report", "digest", "--config", cfg, "--data", data, "--to", "unknown@x", "--out", eml); r.code != 2 || !strings.Contains(r.stderr, "--to: unknown@x is neither") {
		t.Errorf("digest --to an unknown address: exit %d, stderr %q; want 2 naming --to", r.code, r.stderr)
	}
	// A week that has not ended (as of an hour past the clock, which
	// --as-of takes elsewhere) is refused naming the flag, and nothing is
	// written or archived (the list below holds two reports): a preview
	// as of tomorrow had been archived as that week's digest.
	future := filepath.Join(dir, "future.eml")
	if r := run(t, "report", "digest", "--config", cfg, "--data", data, "--as-of", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--to", "eng@example.com", "--out", future); r.code != 2 ||
		!strings.Contains(r.stderr, "--as-of: a digest reports a whole week") || !strings.Contains(r.stderr, "has not ended") {
		t.Errorf("digest as of an hour from now: exit %d, stderr %q; want 2 naming --as-of", r.code, r.stderr)
	}
	if _, err := os.Stat(future); !os.IsNotExist(err) {
		t.Errorf("a refused digest wrote %s (%v)", future, err)
	}
	if r := run(t, "report", "digest", "--config", cfg, "--data", data); r.code == 0 || !strings.Contains(r.stderr, "no mail server") {
		t.Errorf("digest without a mail server: %d %s", r.code, r.stderr)
	}
	pdf := filepath.Join(dir, "board.pdf")
	out := mustRun(t, "report", "board", "--config", cfg, "--data", data, "--month", "2026-11", "--out", pdf).stdout
	if p, _ := os.ReadFile(pdf); !strings.HasPrefix(string(p), "%PDF-") || !strings.Contains(out, "Board pack for November 2026") {
		t.Errorf("board: %s", out)
	}
	if r := run(t, "report", "board", "--data", data, "--month", "November", "--out", pdf); r.code != 2 || !strings.Contains(r.stderr, "--month") {
		t.Errorf("bad month: %d %s", r.code, r.stderr)
	}
	// An --out that cannot be written is refused before anything is
	// archived: the pack and the digest had been archived (the ledger
	// moved) and then the write failed — into a directory that does not
	// exist, or onto an existing directory's name.
	missing, taken := filepath.Join(dir, "no-such-dir"), filepath.Join(dir, "taken")
	if err := os.Mkdir(taken, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, says string }{
		{filepath.Join(missing, "b.pdf"), "--out " + missing},
		{taken, "--out " + taken + ": is a directory"},
	} {
		for _, args := range [][]string{
			{"report", "board", "--config", cfg, "--data", data, "--month", "2026-11", "--out", c.out},
			{"report", "digest", "--config", cfg, "--data", data, "--to", "eng@example.com", "--out", c.out},
		} {
			r := run(t, args...)
			r.want(t, 2, args...)
			if !strings.Contains(r.stderr, c.says) {
				t.Errorf("candor %s --out %s: %s", strings.Join(args[:2], " "), c.out, r.stderr)
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".taken.*")); len(left) > 0 {
		t.Errorf("temporary files left beside the reports: %v", left)
	}
	var list struct {
		Reports []struct {
			ID          int64
			Kind        string
			Recipients  []string
			Definitions []struct{ Metric string }
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "report", "list", "--data", data, "--format", "json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Reports) != 2 || list.Reports[0].Kind != "board" || list.Reports[1].Kind != "digest" || len(list.Reports[1].Recipients) != 1 || len(list.Reports[1].Definitions) == 0 {
		t.Fatalf("list: %+v", list.Reports)
	}
	digest := strconv.FormatInt(list.Reports[1].ID, 10)

	box, url := smtptest.Start(t)
	env, stdout, stderr := testEnv(map[string]string{"CANDOR_SMTP_URL": url, "CANDOR_SMTP_FROM": "candor@example.com"})
	if code := Run(context.Background(), env, []string{"report", "resend", digest, "--config", cfg, "--data", data}); code != 0 {
		t.Fatalf("resend: %d %s", code, stderr)
	}
	if msgs := box.Messages(); len(msgs) != 1 || msgs[0].To[0] != "eng@example.com" || !strings.Contains(stdout.String(), "sent again to 1 recipient") {
		t.Errorf("resend sent %+v; %s", msgs, stdout)
	}
	env, _, stderr = testEnv(map[string]string{"CANDOR_SMTP_URL": url, "CANDOR_SMTP_FROM": "candor@example.com"})
	if code := Run(context.Background(), env, []string{"report", "resend", digest, "--to", "ceo@example.com", "--config", cfg, "--data", data}); code == 0 || !strings.Contains(stderr.String(), "did not get this report") {
		t.Errorf("resend to another recipient: %d %s", code, stderr)
	}
	if r := run(t, "report", "resend", "999999", "--data", data); r.code == 0 || !strings.Contains(r.stderr, "no report 999999") {
		t.Errorf("resend of no report: %d %s", r.code, r.stderr)
	}
	// A link is written through, not replaced: /dev/stdout (a link to the
	// process's descriptor) had been replaced by the PDF where it could
	// be. Here a link to the null device, and one to a file.
	null, file := filepath.Join(dir, "null-link"), filepath.Join(dir, "real.eml")
	if err := os.Symlink(os.DevNull, null); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked.eml")
	if err := os.Symlink(file, linked); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{null, linked} {
		mustRun(t, "report", "digest", "--config", cfg, "--data", data, "--as-of", "2026-11-30T07:00:00Z", "--to", "eng@example.com", "--out", out)
		if fi, err := os.Lstat(out); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("--out %s: the link was replaced (%v)", out, err)
		}
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "To: <eng@example.com>") {
		t.Errorf("the linked file: %v", err)
	}
}

// A command missing a required flag still names the bad value of another:
// report board --month 2026-13 without --out said only that --out was
// required; generate --end soon likewise. Exit 2, the month first.
func TestReportBoardNamesEveryProblem(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "board", "--data", data, "--month", "2026-13"}, `--month: "2026-13" is not a month: want YYYY-MM, such as 2026-10; --out FILE.pdf is required`},
		{[]string{"report", "board", "--data", data}, "--out FILE.pdf is required"},
		{[]string{"generate", "--end", "soon"}, `--end: "soon" is not an RFC 3339 time`},
	} {
		r := run(t, tc.args...)
		r.want(t, 2, tc.args...)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("candor %s: stderr = %q, want %q", strings.Join(tc.args, " "), r.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "candor.db")); err == nil {
		t.Error("a refused report board made a store")
	}
}
