package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRetentionApply: candor retention apply pseudonymises and erases as
// configured, the dry run first reporting the same and changing nothing;
// the scorecard is the same before and after, the ledger verifies, and the
// pseudonym key is made beside the embedded store, readable by its owner
// only. Without retention configured, or with a bad period, it refuses.
func TestRetentionApply(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	gen := filepath.Join(dir, "org.ndjson")
	today := time.Now().UTC().Format(time.DateOnly)
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", today)
	mustRun(t, "import", "--data", data, gen)
	d := []string{"--data", data}

	r := run(t, append([]string{"retention", "apply"}, d...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "no retention is configured") {
		t.Errorf("retention apply without configuration: %d %q", r.code, r.stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("retention:\n  periods:\n    deployment: 30d\n"), 0o644)
	r = run(t, append([]string{"retention", "apply", "--config", bad}, d...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "retention.periods.deployment") {
		t.Errorf("a period for a kind without personal data: %d %q", r.code, r.stderr)
	}

	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("retention:\n  personal_after: 90d\n  periods:\n    ledger: 1ns\n"), 0o644)
	c := append([]string{"--config", cfg}, d...)
	scorecard := func() string {
		return mustRun(t, append([]string{"scorecard", "--format", "json", "--as-of", today}, c...)...).stdout
	}
	values := func(s string) map[string]string {
		out := map[string]string{}
		for _, p := range parseScorecard(t, s).Pillars {
			for _, m := range p.Metrics {
				v := "none"
				if m.Value != nil {
					v = fmt.Sprint(*m.Value)
				}
				out[m.ID] = fmt.Sprintf("%s n=%d %s", v, m.Count, m.Status)
			}
		}
		return out
	}
	before := values(scorecard())
	// A proposal by token:ann, whose creation is an access event: both
	// documents name ann until the ledger's period is past.
	created := mustRun(t, append([]string{"token", "create", "--name", "ann", "--role", "executive"}, c...)...)
	ann := strings.TrimSpace(created.stdout[strings.LastIndex(strings.TrimSpace(created.stdout), "\n")+1:])
	runWith(t, ann, false, append([]string{"catalog", "propose", "--metric", "mttr", "--changes", `{"owner": "SRE"}`, "--reason", "r"}, c...)...).want(t, 0, "propose")

	counts := regexp.MustCompile(`(\d+) customers in (\d+) records; .* of (\d+) records and the personal data of (\d+) ledger entries`)
	dry := mustRun(t, append([]string{"retention", "apply", "--dry-run"}, c...)...).stdout
	// A dry run changes nothing, the data directory included: it had made
	// the pseudonym key.
	if _, err := os.Stat(filepath.Join(data, "pseudonym.key")); !os.IsNotExist(err) {
		t.Errorf("a dry run made the pseudonym key (%v)", err)
	}
	head := strings.TrimSpace(mustRun(t, append([]string{"ledger", "head"}, d...)...).stdout)
	real := mustRun(t, append([]string{"retention", "apply"}, c...)...).stdout
	dm, rm := counts.FindStringSubmatch(dry), counts.FindStringSubmatch(real)
	if dm == nil || rm == nil || !strings.Contains(dry, "would pseudonymise") || !strings.Contains(real, "pseudonymised") ||
		dm[1] == "0" || dm[3] == "0" || dm[4] == "0" || strings.Join(dm[1:], " ") != strings.Join(rm[1:], " ") {
		t.Fatalf("dry run said %q, the run %q", dry, real)
	}
	if fi, err := os.Stat(filepath.Join(data, "pseudonym.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the pseudonym key beside the embedded store: %v", err)
	}
	// The dry run appended nothing; the run appended its entry (after the
	// configuration's initial set and the import).
	r = mustRun(t, append([]string{"ledger", "verify"}, d...)...)
	if !strings.HasPrefix(head, "4:") || !strings.Contains(r.stdout, "ledger intact: 5 entries") {
		t.Errorf("head after the dry run %s; verify after the run: %q", head, r.stdout)
	}
	after := values(scorecard())
	for id, v := range before {
		if after[id] != v {
			t.Errorf("%s = %s after retention, was %s", id, after[id], v)
		}
	}
	// The documents name nobody now: the proposal's author is a pseudonym
	// (the same in the access events), and the ledger still verifies.
	hist := mustRun(t, append([]string{"catalog", "history", "--format", "json"}, c...)...).stdout
	if strings.Contains(hist, "token:ann") || !strings.Contains(hist, `"by": "token:anon-`) {
		t.Errorf("the proposal after retention:\n%s", hist)
	}
	again := mustRun(t, append([]string{"retention", "apply"}, c...)...).stdout
	if !strings.Contains(again, "pseudonymised 0 customers in 0 records; erased the personal text of 0 records and the personal data of 0 ledger entries") {
		t.Errorf("a second run: %q", again)
	}
}
