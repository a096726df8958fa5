package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/governance"
)

// TestGovernedAlertRules: the alert rules are a governed section. The
// configuration's rules are recorded at first start; an edited rules
// section at a later start is refused, pointing to a section proposal;
// a proposal with a bad rule is refused naming its file and line; the
// proposer cannot approve it; once another executive approves it, its
// rules are the ones in force, and the section's history lists both.
func TestGovernedAlertRules(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "candor.yaml")
	write := writerIn(t, dir)
	const first = "alerts:\n  rules:\n    - {name: cfr_red, kind: status, metric: change_failure_rate, statuses: [red]}\n"
	write("candor.yaml", first)
	file := write("org.ndjson", smallOrg)
	data := filepath.Join(dir, "data")
	d := []string{"--config", conf, "--data", data}
	mustRun(t, append([]string{"import", file}, d...)...)

	write("candor.yaml", first+"    - {name: mttr_red, kind: status, metric: mttr, statuses: [red]}\n")
	r := run(t, append([]string{"scorecard"}, d...)...)
	r.want(t, 2, "scorecard (edited alert rules)")
	for _, want := range []string{"alerts.rules", "candor catalog propose --section alerts.rules --file NEW.yaml"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refusal lacks %q: %s", want, r.stderr)
		}
	}
	write("candor.yaml", first)

	token := func(name string) string { return personToken(t, name, []string{"executive"}, d...) }
	ann, bob := token("ann"), token("bob")

	bad := write("bad.yaml", "alerts:\n  rules:\n    - name: nope\n      kind: status\n      metric: no_such_metric\n")
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--section", "alerts.rules", "--file", bad, "--reason", "more alerts"}, d...)...)
	r.want(t, 2, "catalog propose (bad rule)") // the file is a bad argument
	if !strings.Contains(r.stderr, bad+":5") || !strings.Contains(r.stderr, "no_such_metric") {
		t.Errorf("a bad rule's refusal should name the proposal's file and line 5: %s", r.stderr)
	}

	next := write("next.yaml", "alerts:\n  rules:\n    - {name: cfr_red, kind: status, metric: change_failure_rate, statuses: [red]}\n"+
		"    - {name: mttr_red, kind: status, metric: mttr, statuses: [red]}\n")
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--section", "alerts.rules", "--file", next, "--reason", "recovery is watched too", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose --section")
	var v governance.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == 0 || v.Section != "alerts.rules" || v.Status != governance.Open {
		t.Fatalf("proposal: %s (%v)", r.stdout, err)
	}
	inForce := func() []string {
		t.Helper()
		a := openApp(t, conf, data)
		defer a.Close()
		_, set, err := a.alerts(nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range set.Rules {
			names = append(names, r.Name)
		}
		return names
	}
	if slices.Contains(inForce(), "mttr_red") {
		t.Fatal("an open proposal's rule is in force")
	}
	r = runWith(t, ann, false, append([]string{"catalog", "approve", itoa(v.ID), "--reason", "mine"}, d...)...)
	r.want(t, 1, "catalog approve (own section proposal)")
	if !strings.Contains(r.stderr, "an approver must not be the proposer") {
		t.Errorf("own approval: %s", r.stderr)
	}
	// Whoever decides reads what the section's text changes, field by
	// field, not only its name.
	r = mustRun(t, append([]string{"catalog", "history"}, d...)...)
	for _, want := range []string{"changes against the value in force:\n    alerts.rules[mttr_red].kind: status (added)\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the open proposal's listing lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "alerts.rules[cfr_red]") {
		t.Errorf("the listing names a rule the proposal leaves as it is:\n%s", r.stdout)
	}
	r = runWith(t, bob, false, append([]string{"catalog", "approve", itoa(v.ID), "--reason", "agreed"}, d...)...)
	r.want(t, 0, "catalog approve")
	if want := "changes against the value it replaced:\n    alerts.rules[mttr_red].kind: status (added)\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("the approval's output lacks %q:\n%s", want, r.stdout)
	}
	if got := inForce(); !slices.Contains(got, "mttr_red") || !slices.Contains(got, "cfr_red") {
		t.Errorf("rules in force after approval: %v", got)
	}
	// The configuration file still holds the first rules, and is accepted.
	r = mustRun(t, append([]string{"catalog", "history", "--section", "alerts.rules"}, d...)...)
	for _, want := range []string{"version 1, from the start (configuration file " + conf, "version 2, from ", "proposal " + itoa(v.ID), "approved by user:bob@example.com: agreed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestCustomViewIsServed: a custom view from the configuration (a governed
// section) is in the app's catalog: the view command shows it, and the
// access grants that name it load (they failed before: "unknown view").
func TestCustomViewIsServed(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "candor.yaml")
	os.WriteFile(conf, []byte("views:\n  - id: ops\n    name: Ops\n    metrics: [deployment_frequency, mttr]\n    roles: [ceo]\n"), 0o644)
	file := filepath.Join(dir, "org.ndjson")
	os.WriteFile(file, []byte(smallOrg), 0o644)
	d := []string{"--config", conf, "--data", filepath.Join(dir, "data")}
	mustRun(t, append([]string{"import", file}, d...)...)
	if r := mustRun(t, append([]string{"view", "ops"}, d...)...); !strings.Contains(r.stdout, "Ops") {
		t.Errorf("candor view ops:\n%s", r.stdout)
	}
	mustRun(t, append([]string{"user", "list"}, d...)...)
}

// TestApprovedGatesSectionNamesItsSecret: a gates section approved by
// proposal names its rollback webhook's secret variable, and the
// environment is checked against the policies in force, not the file's:
// exported, the variable is known (it had been refused as unknown, as
// only the approved section names it); while a proposal naming it is open
// it is known too, so that it can be exported before the approval; the
// approval is refused where it is unset, naming the field; and serve
// refuses to start without it, naming the proposal.
func TestApprovedGatesSectionNamesItsSecret(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "candor.yaml")
	write := writerIn(t, dir)
	write("candor.yaml", "currency: USD\n")
	file := write("org.ndjson", smallOrg)
	data := filepath.Join(dir, "data")
	d := []string{"--config", conf, "--data", data}
	mustRun(t, append([]string{"import", file}, d...)...)
	token := func(name string) string { return personToken(t, name, []string{"executive"}, d...) }
	ann, bob := token("ann"), token("bob")
	// run runs candor with the environment vars (and USER), listed as
	// os.Environ lists it, so that unknown variables are checked.
	run := func(vars map[string]string, stdin string, args ...string) result {
		t.Helper()
		all := map[string]string{"USER": "tester"}
		var environ []string
		for k, v := range vars {
			all[k] = v
			environ = append(environ, k+"="+v)
		}
		env, out, errb := testEnv(all)
		env.Stdin = strings.NewReader(stdin)
		env.Environ = func() []string { return environ }
		code := Run(context.Background(), env, append(args, d...))
		return result{code, out.String(), errb.String()}
	}
	secret := map[string]string{"CANDOR_DEPLOY_SECRET": "s"}

	r := run(secret, "", "scorecard")
	r.want(t, 2, "scorecard with a variable nothing names")
	if !strings.Contains(r.stderr, "CANDOR_DEPLOY_SECRET: not a variable Candor reads") {
		t.Errorf("a variable nothing names: %s", r.stderr)
	}
	gates := write("gates-next.yaml", "watch:\n  webhook: https://deploy.example.com/rollback\n  webhook_secret_env: CANDOR_DEPLOY_SECRET\n")
	r = run(nil, ann, "catalog", "propose", "--section", "gates", "--file", gates, "--reason", "roll back on a failed watch", "--format", "json")
	r.want(t, 0, "catalog propose --section gates")
	var v governance.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == 0 {
		t.Fatalf("proposal: %s (%v)", r.stdout, err)
	}
	// Unset where it is approved: refused, naming the field.
	r = run(nil, bob, "catalog", "approve", itoa(v.ID), "--reason", "agreed")
	where := "proposal " + itoa(v.ID) + " (" + gates + "):3: watch.webhook_secret_env: the environment variable CANDOR_DEPLOY_SECRET is not set"
	if r.code == 0 || !strings.Contains(r.stderr, where) {
		t.Fatalf("approval without the secret: exit %d, %s", r.code, r.stderr)
	}
	// Exported, it is known while the proposal is open, and approved.
	r = run(secret, bob, "catalog", "approve", itoa(v.ID), "--reason", "agreed")
	r.want(t, 0, "catalog approve (the secret exported)")
	// Now the section in force names it: known, and a typo is told.
	run(secret, "", "scorecard").want(t, 0, "scorecard with the approved section's variable")
	// So it is to an auditor's ledger commands, run in the server's
	// environment, which read the store without its key.
	run(secret, "", "ledger", "verify").want(t, 0, "ledger verify with the approved section's variable")
	run(secret, "", "ledger", "head").want(t, 0, "ledger head with the approved section's variable")
	if r := run(map[string]string{"CANDOR_DEPLOY_SECRT": "s"}, "", "ledger", "verify"); r.code != 2 || !strings.Contains(r.stderr, "did you mean CANDOR_DEPLOY_SECRET?") {
		t.Errorf("ledger verify, a mistyped secret variable: exit %d, %s", r.code, r.stderr)
	}
	r = run(map[string]string{"CANDOR_DEPLOY_SECRT": "s"}, "", "scorecard")
	if r.code != 2 || !strings.Contains(r.stderr, "did you mean CANDOR_DEPLOY_SECRET?") {
		t.Errorf("a mistyped secret variable: exit %d, %s", r.code, r.stderr)
	}
	// serve checks the policies in force: without the variable it refuses
	// to start, naming the approved proposal's line.
	r = run(nil, "", "serve", "--addr", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, where) {
		t.Errorf("serve without the approved section's secret: exit %d, %s", r.code, r.stderr)
	}
	// With the configuration refused, the variables are still checked
	// against the section in force, before the refusal: the approved
	// section's variable is known, its typo is told first.
	write("candor.yaml", "currency: EUR\n")
	r = run(secret, "", "scorecard")
	if r.code != 2 || !strings.Contains(r.stderr, "currency") || strings.Contains(r.stderr, "not a variable") {
		t.Errorf("a refused configuration, the approved section's variable exported: exit %d, %s", r.code, r.stderr)
	}
	r = run(map[string]string{"CANDOR_DEPLOY_SECRT": "s"}, "", "scorecard")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "candor scorecard: environment: CANDOR_DEPLOY_SECRT: not a variable Candor reads (did you mean CANDOR_DEPLOY_SECRET?)") {
		t.Errorf("a refused configuration, a mistyped secret variable: exit %d, %s", r.code, r.stderr)
	}
}

// serve on a new data directory whose configuration's gate policies name
// an unset rollback secret refuses before it makes the store: with no
// store, the file's policies are the ones in force.
func TestServeNewStoreUnsetWatchSecret(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	conf := write("candor.yaml", "gates: {policies: gates.yaml}\n")
	write("gates.yaml", "watch:\n  webhook: https://deploy.example.com/rollback\n  webhook_secret_env: CANDOR_DEPLOY_SECRET\n")
	data := filepath.Join(dir, "data")
	r := run(t, "serve", "--config", conf, "--data", data, "--addr", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "gates.yaml:3: watch.webhook_secret_env: the environment variable CANDOR_DEPLOY_SECRET is not set") {
		t.Fatalf("serve with the file's secret unset: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "candor.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a store was made before the refusal: %v", err)
	}
}

// TestGatesProposalNamesUnknownService: gate policies naming a service no
// record names are refused at the proposal, with the nearest known name —
// a misspelt scope had validated, been approved, and never applied.
func TestGatesProposalNamesUnknownService(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "candor.yaml")
	write := writerIn(t, dir)
	write("candor.yaml", "currency: USD\n")
	file := write("org.ndjson", smallOrg)
	d := []string{"--config", conf, "--data", filepath.Join(dir, "data")}
	mustRun(t, append([]string{"import", file}, d...)...)
	ann := personToken(t, "ann", []string{"executive"}, d...)
	propose := func(policies string) result {
		t.Helper()
		path := write("gates-next.yaml", policies)
		env, out, errb := testEnv(map[string]string{"USER": "tester"})
		env.Stdin = strings.NewReader(ann)
		code := Run(context.Background(), env, append([]string{"catalog", "propose", "--section", "gates", "--file", path, "--reason", "tier-1 gate"}, d...))
		return result{code, out.String(), errb.String()}
	}
	r := propose("policies:\n  - id: api-cfr\n    require: kpi.change_failure_rate <= 0.2\n    scope: {services: [apii]}\nfreeze:\n  windows:\n    - {name: launch, time_zone: UTC, start: \"2026-12-20T00:00\", end: \"2026-12-21T00:00\", scope: {services: [webb, api]}}\n")
	want := []string{`gates-next.yaml: policies api-cfr scope names service "apii", of which Candor has no record (did you mean "api"?)`,
		`; freeze window launch scope names service "webb", of which Candor has no record (did you mean "web"?)`, "needs a service record first"}
	if r.code == 0 {
		t.Fatalf("proposal naming unknown services accepted:\n%s", r.stdout)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("refusal does not say %q:\n%s", w, r.stderr)
		}
	}
	// A team is one a service record gives.
	if r = propose("policies:\n  - id: core-cfr\n    require: kpi.change_failure_rate <= 0.2\n    scope: {teams: [cor]}\n"); r.code == 0 ||
		!strings.Contains(r.stderr, `policies core-cfr scope names team "cor", which no service record gives (did you mean "core"?)`) {
		t.Errorf("an unknown team: %d\n%s", r.code, r.stderr)
	}
	r = propose("policies:\n  - id: api-cfr\n    require: kpi.change_failure_rate <= 0.2\n    scope: {services: [api], teams: [core]}\n")
	r.want(t, 0, "catalog propose --section gates, known services")
}
