package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/governance"
)

// TestFirstAdministratorBeforeTheFirstStart: the first administrator and
// a token may come before the first start, without the configuration
// (README), and the configuration given to the first command that reads
// the definitions is the one recorded. user add had recorded the defaults
// of a command given no configuration, and the real configuration
// (currency, exchange rates, a metric's override, custom_metrics) was then
// refused as changing the definitions recorded at first start. Once
// proposals changing them are approved, a configuration giving the values
// they put in force is accepted — it had still been refused, the only way
// out being to drop the keys from the file — and one giving a value no
// approval put in force is still refused.
func TestFirstAdministratorBeforeTheFirstStart(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	data := filepath.Join(dir, "data")
	d := []string{"--data", data}
	runWith(t, "", false, append([]string{"user", "add", "--email", "root@example.com", "--role", "admin", "--generate-password"}, d...)...).want(t, 0, "user add")
	mustRun(t, append([]string{"token", "create", "--name", "ci", "--role", "ingest"}, d...)...)
	mustRun(t, append([]string{"user", "list"}, d...)...)

	const settings = "currency: EUR\nexchange_rates: {USD: 0.92}\n"
	const override = "metrics:\n  change_failure_rate:\n    thresholds: {green: 10, amber: 20}\n"
	first := customSection(`status == "failure"`)
	conf := write("candor.yaml", settings+override+first)
	c := append([]string{"--config", conf}, d...)
	mustRun(t, append([]string{"scorecard"}, c...)...)
	// Recorded now: without the file the definitions differ.
	r := run(t, append([]string{"scorecard"}, d...)...)
	r.want(t, 2, "scorecard without the configuration recorded")
	if !strings.Contains(r.stderr, "changes definitions recorded at first start") || !strings.Contains(r.stderr, "currency") {
		t.Errorf("the refusal: %s", r.stderr)
	}

	token := func(name string) string { return personToken(t, name, []string{"executive"}, c...) }
	ann, bob := token("ann"), token("bob")
	propose := func(args ...string) string { t.Helper(); return approved(t, ann, bob, c, args...) }
	const rates = "exchange_rates: {USD: 0.92, GBP: 1.17}\n"
	propose("--setting", "exchange_rates", "--value", `{"USD": 0.92, "GBP": 1.17}`)
	propose("--metric", "change_failure_rate", "--changes", `{"thresholds": {"green": 8, "amber": 20}}`)
	next := customSection(`status == "failure" && environment == "production"`)
	propose("--section", "custom_metrics", "--file", write("next.yaml", next))

	write("candor.yaml", "currency: EUR\n"+rates+strings.Replace(override, "green: 10", "green: 8", 1)+next)
	mustRun(t, append([]string{"scorecard"}, c...)...)
	// The file as at first start is accepted too.
	write("candor.yaml", settings+override+first)
	mustRun(t, append([]string{"scorecard"}, c...)...)
	// A value no approval put in force is refused.
	write("candor.yaml", "currency: EUR\n"+rates+strings.Replace(override, "green: 10", "green: 9", 1)+next)
	r = run(t, append([]string{"scorecard"}, c...)...)
	r.want(t, 2, "scorecard with an override no approval put in force")
	if !strings.Contains(r.stderr, "metrics: change_failure_rate") {
		t.Errorf("the refusal: %s", r.stderr)
	}
}

// approved is the id of a proposal made with the command line args by
// the token proposer and approved by the token approver, on the store the
// flags c name.
func approved(t *testing.T, proposer, approver string, c []string, args ...string) string {
	t.Helper()
	r := runWith(t, proposer, false, append(append([]string{"catalog", "propose", "--reason", "the organisation's choice", "--format", "json"}, args...), c...)...)
	r.want(t, 0, "catalog propose "+strings.Join(args, " "))
	var v governance.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == 0 {
		t.Fatalf("proposal: %s (%v)", r.stdout, err)
	}
	id := itoa(v.ID)
	runWith(t, approver, false, append([]string{"catalog", "approve", id, "--reason", "agreed"}, c...)...).want(t, 0, "catalog approve "+id)
	return id
}
