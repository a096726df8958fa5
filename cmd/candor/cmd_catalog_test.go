package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/governance"
)

// cliToken creates an API token with the roles, acting for a user
// NAME@example.com who holds them (approvals are a person's:
// auth.Decider), and returns it. more are flags both commands take
// (--config).
func cliToken(t *testing.T, data, name string, roles ...string) string {
	t.Helper()
	return personToken(t, name, roles, "--data", data)
}

// personToken is cliToken with the store's flags given whole.
func personToken(t *testing.T, name string, roles []string, more ...string) string {
	t.Helper()
	user := []string{"user", "add", "--email", name + "@example.com", "--generate-password"}
	args := []string{"token", "create", "--name", name, "--user", name + "@example.com"}
	for _, r := range roles {
		user = append(user, "--role", r)
		args = append(args, "--role", r)
	}
	runWith(t, "", false, append(user, more...)...).want(t, 0, "user add")
	r := mustRun(t, append(args, more...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[len(lines)-1]
}

// TestCatalogProposeUsage: a proposal naming no metric of the catalog, or
// changes that are not an override's fields, is a usage error naming the
// flag, and records nothing.
func TestCatalogProposeUsage(t *testing.T) {
	data := smallStore(t)
	d := []string{"--data", data}
	ann := cliToken(t, data, "ann", "executive")
	for _, c := range []struct {
		metric, changes, says string
	}{
		{"nosuch", `{"owner": "CTO"}`, `--metric: unknown metric "nosuch"`},
		{"mtr", `{"owner": "CTO"}`, `--metric: unknown metric "mtr" (did you mean mttr?)`},
		{"mttr", `{not json`, "--changes: not a JSON object"},
		{"mttr", `{"targt": 1}`, "--changes: targt: unknown field (changes takes owner, window, target, "},
		{"mttr", `{"target": "1"}`, "--changes: target: must be a number, not a JSON string"},
		{"arr", `{"target": -5}`, "--changes: override \"arr\": target: -5 must be greater than zero"},
	} {
		r := runWith(t, ann, false, append([]string{"catalog", "propose", "--metric", c.metric, "--changes", c.changes, "--reason", "test"}, d...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.says) {
			t.Errorf("catalog propose --metric %s --changes %s: exit %d, stderr %q; want 2 and %q", c.metric, c.changes, r.code, r.stderr, c.says)
		}
	}
	// A name that is no setting is --setting's mistake, not --value's.
	for name, says := range map[string]string{"nosuch": `--setting: "nosuch" is not a value-changing setting; those are `, "min_sample": "--setting: min_sample is a metric's"} {
		r := runWith(t, ann, false, append([]string{"catalog", "propose", "--setting", name, "--value", "1", "--reason", "test"}, d...)...)
		if r.code != 2 || !strings.Contains(r.stderr, says) {
			t.Errorf("catalog propose --setting %s: exit %d, stderr %q; want 2 and %q", name, r.code, r.stderr, says)
		}
	}
	r := runWith(t, ann, false, append([]string{"catalog", "propose", "--setting", "currency", "--value", `"XYZ"`, "--reason", "test"}, d...)...)
	if want := `--value: currency: "XYZ" is not an ISO 4217 code`; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("catalog propose --setting currency --value XYZ: exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
	// A setting at its default: the proposal says the default's value.
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--setting", "gross_margin", "--value", "0.7", "--reason", "audited margin"}, d...)...)
	r.want(t, 0, "catalog propose --setting gross_margin")
	if !strings.Contains(r.stdout, "was 0.8 (the default)") {
		t.Errorf("a gross margin proposal does not say it was the default 0.8:\n%s", r.stdout)
	}
	// A window's default is worded as a window, as the pages word it, not
	// as its JSON's nanoseconds.
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--setting", "funnel_maturation_lag", "--value", `"60d"`, "--reason", "shorter sales cycle"}, d...)...)
	r.want(t, 0, "catalog propose --setting funnel_maturation_lag")
	if !strings.Contains(r.stdout, "was 90d (the default)") {
		t.Errorf("a maturation lag proposal does not say it was the default 90d:\n%s", r.stdout)
	}
	r = runWith(t, ann, false, append([]string{"catalog", "history", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog history")
	if strings.Contains(r.stdout, "nosuch") || strings.Contains(r.stdout, "targt") {
		t.Errorf("a refused proposal was recorded: %s", r.stdout)
	}
}

func TestCatalogProposeApproveHistory(t *testing.T) {
	data := smallStore(t)
	d := []string{"--data", data}
	ann := cliToken(t, data, "ann", "executive")
	bob := cliToken(t, data, "bob", "executive")
	viewer := cliToken(t, data, "eng", "engineering")

	r := runWith(t, ann, false, append([]string{"catalog", "propose", "--metric", "mttr", "--changes", `{"owner": "Reliability Lead"}`, "--reason", "SRE owns recovery", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose")
	var v governance.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == 0 || v.Status != governance.Open || v.By != "user:ann@example.com" {
		t.Fatalf("proposal: %s (%v)", r.stdout, err)
	}
	id := itoa(v.ID)
	// The proposer approving their own change is refused, naming the rule.
	r = runWith(t, ann, false, append([]string{"catalog", "approve", id, "--reason", "mine"}, d...)...)
	r.want(t, 1, "catalog approve (own)")
	if !strings.Contains(r.stderr, "an approver must not be the proposer") {
		t.Errorf("own approval: %s", r.stderr)
	}
	// Without definitions:approve: refused.
	r = runWith(t, viewer, false, append([]string{"catalog", "approve", id, "--reason", "x"}, d...)...)
	r.want(t, 1, "catalog approve (engineering)")
	if !strings.Contains(r.stderr, "definitions:approve") {
		t.Errorf("approval without the grant: %s", r.stderr)
	}
	r = runWith(t, bob, false, append([]string{"catalog", "approve", id, "--reason", "agreed"}, d...)...)
	r.want(t, 0, "catalog approve")
	// APPROVED names the approver and when they approved, the proposer
	// has their own line: it had said "APPROVED by user:ann@example.com at (the
	// proposal's time): SRE owns recovery".
	approved := regexp.MustCompile(`(?m)^  proposed by user:ann@example.com at \S+: SRE owns recovery\n  APPROVED by user:bob@example.com at (\S+)\n`)
	m := approved.FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(r.stdout, "in force from "+m[1]) {
		t.Errorf("approve says:\n%s", r.stdout)
	}
	r = mustRun(t, append([]string{"catalog", "history", "mttr"}, d...)...)
	for _, want := range []string{"version 1, from the start (built-in)", "version 2, from ", "proposal " + id, "owner: ",
		"proposed by user:ann@example.com at ", ": SRE owns recovery", "approved by user:bob@example.com at ", ": agreed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, append([]string{"catalog", "history"}, d...)...)
	if !approved.MatchString(r.stdout) {
		t.Errorf("history of every proposal:\n%s", r.stdout)
	}
	r = mustRun(t, append([]string{"metric", "mttr", "--format", "json"}, d...)...)
	if !strings.Contains(r.stdout, `"owner": "Reliability Lead"`) {
		t.Errorf("the metric after approval:\n%s", clip(r.stdout))
	}

	// A metric reading a setting says the value in force and what put it
	// there, beside the formula naming the default: after 0.7 was
	// approved, CAC payback had still said only "defaults to 0.8".
	r = mustRun(t, append([]string{"metric", "cac_payback_months"}, d...)...)
	if !strings.Contains(r.stdout, "Settings in force: gross margin 0.8 (the default); currency USD (the default); exchange rates none (the default)") {
		t.Errorf("cac_payback_months before a gross margin is set:\n%s", clip(r.stdout))
	}
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--setting", "gross_margin", "--value", "0.7", "--reason", "audited margin", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose --setting gross_margin")
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	runWith(t, bob, false, append([]string{"catalog", "approve", itoa(v.ID), "--reason", "agreed"}, d...)...).want(t, 0, "catalog approve gross_margin")
	for _, id := range []string{"cac_payback_months", "ltv"} {
		r = mustRun(t, append([]string{"metric", id}, d...)...)
		if want := "gross margin 0.7 (proposal " + itoa(v.ID) + ", in force from "; !strings.Contains(r.stdout, want) {
			t.Errorf("%s after gross margin 0.7 was approved lacks %q:\n%s", id, want, clip(r.stdout))
		}
	}
}

func TestEditedConfigurationIsRefusedAfterFirstStart(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "candor.yaml")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("metrics:\n  mttr:\n    owner: Reliability Lead\n")
	file := filepath.Join(dir, "org.ndjson")
	os.WriteFile(file, []byte(smallOrg), 0o644)
	data := filepath.Join(dir, "data")
	mustRun(t, "import", "--config", conf, "--data", data, file)
	mustRun(t, "scorecard", "--config", conf, "--data", data)

	write("metrics:\n  mttr:\n    owner: Reliability Lead\n    thresholds: {green: 10, amber: 20}\n")
	r := run(t, "scorecard", "--config", conf, "--data", data)
	r.want(t, 2, "scorecard (edited configuration)")
	for _, want := range []string{"metrics: mttr", "candor catalog propose"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refusal lacks %q: %s", want, r.stderr)
		}
	}
	// A variable overriding a governed setting is refused too, naming it.
	write("metrics:\n  mttr:\n    owner: Reliability Lead\n")
	env, _, errb := testEnv(map[string]string{"CANDOR_CURRENCY": "EUR"})
	if code := Run(t.Context(), env, []string{"scorecard", "--config", conf, "--data", data}); code != 2 ||
		!strings.Contains(errb.String(), "currency (set by CANDOR_CURRENCY)") {
		t.Errorf("CANDOR_CURRENCY: exit %d: %s", code, errb.String())
	}
	mustRun(t, "scorecard", "--config", conf, "--data", data)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCatalogApproverMustBeExecutive: a role the configuration grants
// definitions:approve still cannot decide: the rule names the executive
// role, and the proposal stays open.
func TestCatalogApproverMustBeExecutive(t *testing.T) {
	data := smallStore(t)
	conf := filepath.Join(t.TempDir(), "candor.yaml")
	if err := os.WriteFile(conf, []byte("roles:\n  engineering:\n    permissions: [scorecard:read, metric:read, definitions:approve]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := []string{"--data", data, "--config", conf}
	ann := cliToken(t, data, "ann", "executive")
	eng := cliToken(t, data, "eng", "engineering")
	r := runWith(t, ann, false, append([]string{"catalog", "propose", "--metric", "mttr", "--changes", `{"owner": "Reliability Lead"}`, "--reason", "SRE owns recovery", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose")
	var v governance.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	for _, decision := range []string{"approve", "reject"} {
		r = runWith(t, eng, false, append([]string{"catalog", decision, itoa(v.ID), "--reason", "fine"}, d...)...)
		r.want(t, 1, "catalog "+decision+" (engineering with definitions:approve)")
		if !strings.Contains(r.stderr, "an approver must hold the executive role") {
			t.Errorf("%s by a non-executive: %s", decision, r.stderr)
		}
	}
	r = mustRun(t, append([]string{"catalog", "history", "--format", "json"}, d...)...)
	var list struct{ Proposals []governance.View }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Proposals) != 1 ||
		list.Proposals[0].Status != governance.Open || len(list.Proposals[0].Approvals) != 0 {
		t.Errorf("after refused decisions (%v):\n%s", err, clip(r.stdout))
	}
}

// An unknown metric in a proposal is guessed among the metrics the token's
// roles may see, as the API guesses: "ar" had been "did you mean arr?" to a
// role that may not see revenue.
func TestCatalogProposeGuessesAmongVisible(t *testing.T) {
	data := smallStore(t)
	conf := filepath.Join(t.TempDir(), "candor.yaml")
	if err := os.WriteFile(conf, []byte("roles:\n  engineering:\n    permissions: [scorecard:read, metric:read, definitions:propose]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := []string{"--data", data, "--config", conf}
	for _, c := range []struct{ role, metric, says, not string }{
		{"executive", "ar", `--metric: unknown metric "ar" (did you mean arr?)`, ""},
		{"engineering", "ar", `--metric: unknown metric "ar"`, "arr"},
		{"engineering", "mtr", `--metric: unknown metric "mtr" (did you mean mttr?)`, ""},
	} {
		tok := personToken(t, c.role+c.metric, []string{c.role}, d...)
		r := runWith(t, tok, false, append([]string{"catalog", "propose", "--metric", c.metric, "--changes", `{"owner": "CTO"}`, "--reason", "test"}, d...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.says) || c.not != "" && strings.Contains(r.stderr, c.not) {
			t.Errorf("%s proposing %s: exit %d, stderr %q; want 2 and %q", c.role, c.metric, r.code, r.stderr, c.says)
		}
	}
}

// catalog propose's help names the settings --setting takes, as
// docs/governance.md says it does: it had said only "the value-changing
// setting to change".
func TestCatalogProposeHelpNamesTheSettings(t *testing.T) {
	r := mustRun(t, "catalog", "propose", "-h")
	_, setting, _ := strings.Cut(r.stdout, "  --setting ")
	setting, _, _ = strings.Cut(setting, "\n  --")
	for _, name := range config.GovernedSettings() {
		if !strings.Contains(setting, name) {
			t.Errorf("--setting's help does not name %s:\n%s", name, setting)
		}
	}
}
