package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/metrics"
)

// customSection is a custom_metrics section with one metric, the
// deployments finishing in the window whose status matches filter.
func customSection(filter string) string {
	return "custom_metrics:\n  - id: failed_deploys\n    name: Failed deployments\n    pillar: delivery\n" +
		"    description: Production deployments finishing in the window that failed.\n    owner: VP Engineering\n" +
		"    unit: count\n    better: lower\n    thresholds: {green: 1, amber: 3}\n    kind: deployment\n" +
		"    time: finished_at\n    filter: " + filter + "\n    aggregate: count\n"
}

// TestGovernedCustomMetrics: the organisation's metrics are a governed
// section. An edited custom_metrics at a later start is refused naming the
// section; a proposal with a type error is refused naming its file, line
// and column; one that drops a metric a view still shows is refused with
// why; a proposal changing the computation, approved by another executive
// through the API of a running server, changes the value that server
// serves at once as of any time after the approval, with another formula
// version — as of a date before it, the computation in force then — and
// so does a command started later; the section's history lists both
// versions.
func TestGovernedCustomMetrics(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	const views = "views:\n  - id: ops\n    name: Ops\n    metrics: [failed_deploys, mttr]\n    roles: [ceo]\n"
	first := customSection(`status == "failure"`)
	conf := write("candor.yaml", first+views)
	file := write("org.ndjson", smallOrg)
	data := filepath.Join(dir, "data")
	d := []string{"--config", conf, "--data", data}
	mustRun(t, append([]string{"import", file}, d...)...)

	write("candor.yaml", customSection(`status != "failure"`)+views)
	r := run(t, append([]string{"scorecard"}, d...)...)
	r.want(t, 2, "scorecard (edited custom_metrics)")
	if !strings.Contains(r.stderr, "candor catalog propose --section custom_metrics --file NEW.yaml") {
		t.Errorf("the refusal of an edited custom_metrics: %s", r.stderr)
	}
	write("candor.yaml", first+views)

	token := func(name string) string { return personToken(t, name, []string{"executive"}, d...) }
	ann, bob := token("ann"), token("bob")

	// A type error: a string compared with a number, on line 12.
	bad := write("bad.yaml", customSection(`status > 3`))
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--section", "custom_metrics", "--file", bad, "--reason", "typo"}, d...)...)
	r.want(t, 2, "catalog propose (a type error)") // the file is a bad argument
	if !regexp.MustCompile(regexp.QuoteMeta(bad) + `:12:\d+: custom metric "failed_deploys": filter: .*overload`).MatchString(r.stderr) {
		t.Errorf("a type error's refusal should name the proposal's file, line 12 and a column: %s", r.stderr)
	}
	// A rename the ops view does not follow.
	renamed := write("renamed.yaml", strings.Replace(first, "id: failed_deploys", "id: deploys_failed", 1))
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--section", "custom_metrics", "--file", renamed, "--reason", "a better id"}, d...)...)
	r.want(t, 2, "catalog propose (a metric a view shows renamed)")
	for _, want := range []string{"removes or renames failed_deploys, still in use", `view "ops"`, `unknown metric "failed_deploys"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal of a rename lacks %q: %s", want, r.stderr)
		}
	}

	p := start(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, d...)...)
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, url+"/readyz", "")
		return "", code == 200
	})
	type detail struct {
		Definition struct {
			Formula     string `json:"formula"`
			Computation *struct {
				Formula  int        `json:"formula_version"`
				Since    *time.Time `json:"since"`
				Until    *time.Time `json:"until"`
				Proposal int64      `json:"proposal"`
			} `json:"computation"`
		} `json:"definition"`
		Card struct {
			Value *float64 `json:"value"`
			Cites struct {
				Formula int `json:"formula_version"`
			} `json:"cites"`
		} `json:"metric"`
	}
	// As of the end of March, and as of a time after the approval below,
	// over a window that reaches March.
	const march = "as_of=2026-03-31T00:00:00Z"
	later := "as_of=" + time.Now().UTC().Add(time.Hour).Format(time.RFC3339) + "&window=400d"
	metricAt := func(query string) detail {
		t.Helper()
		code, body := get(t, url+"/api/v1/metrics/failed_deploys?"+query, ann)
		var d detail
		if err := json.Unmarshal(body, &d); code != 200 || err != nil || d.Card.Value == nil {
			t.Fatalf("GET /api/v1/metrics/failed_deploys: %d %s", code, body)
		}
		return d
	}
	before := metricAt(later)
	if *before.Card.Value != 1 {
		t.Fatalf("failed deployments before the proposal: %v, want 1", *before.Card.Value)
	}

	next := customSection(`status != "failure"`)
	code, body := send(t, url+"/api/v1/proposals", ann, map[string]any{"section": "custom_metrics", "value": next, "file": "metrics.yaml", "reason": "count what shipped"})
	var v governance.View
	if err := json.Unmarshal(body, &v); code != 201 || err != nil {
		t.Fatalf("proposing custom_metrics: %d %s", code, body)
	}
	if got := metricAt(later); *got.Card.Value != 1 {
		t.Fatalf("an open proposal's computation is in force: %v", *got.Card.Value)
	}
	if code, body := send(t, fmt.Sprintf("%s/api/v1/proposals/%d/approve", url, v.ID), bob, map[string]string{"reason": "agreed"}); code != 200 {
		t.Fatalf("approving: %d %s", code, body)
	}
	after := metricAt(later)
	if *after.Card.Value != 3 {
		t.Errorf("after the approval the server serves %v, want 3 (the new computation)", *after.Card.Value)
	}
	if after.Card.Cites.Formula == before.Card.Cites.Formula {
		t.Errorf("the formula version did not change with the computation: %d", after.Card.Cites.Formula)
	}
	if !strings.Contains(after.Definition.Formula, `status != "failure"`) {
		t.Errorf("the catalog entry's formula: %q", after.Definition.Formula)
	}
	// The page says what computed the value: its definition version counts
	// thresholds and targets, not the filter the proposal changed.
	if c := after.Definition.Computation; c == nil || c.Formula != after.Card.Cites.Formula || c.Since == nil || c.Until != nil || c.Proposal != v.ID {
		t.Errorf("after the approval the computation is said as %+v; want formula %d, since the approval, proposal %d", c, after.Card.Cites.Formula, v.ID)
	}
	if c := before.Definition.Computation; c == nil || c.Since != nil || c.Until != nil || c.Formula != before.Card.Cites.Formula {
		t.Errorf("before any proposal the computation is said as %+v; want formula %d for all data", c, before.Card.Cites.Formula)
	}
	if c := metricAt(march).Definition.Computation; c == nil || c.Since != nil || c.Until == nil || !c.Until.Equal(*after.Definition.Computation.Since) {
		t.Errorf("as of March the computation is said as %+v; want the first, in force until the approval", c)
	}
	r = mustRun(t, append([]string{"metric", "failed_deploys"}, d...)...)
	if want := fmt.Sprintf("Computation: formula %d (drawn from its text: another text, another number), in force from ", after.Card.Cites.Formula); !strings.Contains(r.stdout, want) ||
		!strings.Contains(r.stdout, fmt.Sprintf("(proposal %d)\n", v.ID)) {
		t.Errorf("candor metric does not say %q … (proposal %d):\n%s", want, v.ID, r.stdout)
	}
	// As of a date before the approval, the computation in force then.
	if past := metricAt(march); *past.Card.Value != 1 || past.Card.Cites.Formula != before.Card.Cites.Formula ||
		!strings.Contains(past.Definition.Formula, `status == "failure"`) {
		t.Errorf("as of March, after the approval: %v under formula %d (%q); want 1 under %d, the computation then",
			*past.Card.Value, past.Card.Cites.Formula, past.Definition.Formula, before.Card.Cites.Formula)
	}

	// A command started now computes the approved definition too (the
	// configuration file still holds the first).
	a := openApp(t, conf, data)
	defer a.Close()
	if m, ok := a.catalog.Metric("failed_deploys"); !ok || !strings.Contains(m.Formula, `status != "failure"`) {
		t.Errorf("the catalog of a command started after the approval: %+v", m)
	}
	err := a.engine.Read(t.Context(), func(ds *metrics.Dataset) error {
		for _, c := range []struct {
			asOf time.Time
			want float64
		}{{time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), 1}, {time.Now().Add(time.Hour), 3}} {
			res, err := ds.Compute("failed_deploys", metrics.Query{AsOf: c.asOf, Window: 400 * 24 * time.Hour})
			if err != nil {
				return err
			}
			if res.Value == nil || *res.Value != c.want {
				t.Errorf("a command started after the approval computes %s as of %s, want %v", fmtValue(res.Value), c.asOf, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	code, body = get(t, url+"/api/v1/sections/custom_metrics/history", ann)
	var h governance.SectionHistory
	if err := json.Unmarshal(body, &h); code != 200 || err != nil || len(h.Versions) != 2 || h.Versions[1].Proposal != v.ID ||
		h.Versions[1].Source != next || len(h.Versions[1].InForce) != 1 {
		t.Fatalf("GET /api/v1/sections/custom_metrics/history: %d %s", code, body)
	}
	// The metric's own history says where it comes from and what each
	// custom_metrics value changed of it.
	r = mustRun(t, append([]string{"catalog", "history", "failed_deploys"}, d...)...)
	for _, want := range []string{
		"version 1, from the start (the organisation's own, section custom_metrics)",
		"section version 1, from the start (configuration): defined\n    aggregate: count\n",
		"section version 2, from " + after.Definition.Computation.Since.Format(time.RFC3339) + " (proposal " + itoa(v.ID) + "): changed\n" +
			"    filter: status == \"failure\" → status != \"failure\"\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the metric's history lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "built-in") {
		t.Errorf("the metric's history calls it built-in:\n%s", r.stdout)
	}
	r = mustRun(t, append([]string{"catalog", "history", "--section", "custom_metrics"}, d...)...)
	for _, want := range []string{"version 1, from the start (configuration file " + conf, "version 2, from ", "proposal " + itoa(v.ID), "approved by user:bob@example.com: agreed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
}

func fmtValue(v *float64) string {
	if v == nil {
		return "no value"
	}
	return fmt.Sprint(*v)
}

// openApp opens the app a command would, with its configuration and data.
func openApp(t *testing.T, conf, data string) *app {
	t.Helper()
	env, _, _ := testEnv(nil)
	c := common{config: conf, data: data}
	a, err := c.open(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A store started with a configuration file and read without one is told
// to pass the file (exit 2), naming the recorded sections — not to propose
// dropping them, which the kept demo store read without the demo's
// --config had said; a demo.yaml beside the store is named.
func TestStoreReadWithoutItsConfiguration(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	const views = "views:\n  - id: ops\n    name: Ops\n    metrics: [failed_deploys, mttr]\n    roles: [ceo]\n"
	conf := write("candor.yaml", customSection(`status == "failure"`)+views)
	data := filepath.Join(dir, "data")
	mustRun(t, "import", "--config", conf, "--data", data, write("org.ndjson", smallOrg))

	r := run(t, "scorecard", "--data", data)
	r.want(t, 2, "scorecard (no configuration)")
	for _, want := range []string{"started (", "with a configuration file holding sections custom_metrics, views", "pass that file with --config FILE"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal lacks %q: %s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "propose") {
		t.Errorf("the refusal points to a proposal: %s", r.stderr)
	}
	demo := filepath.Join(data, "demo.yaml")
	if err := os.WriteFile(demo, []byte(customSection(`status == "failure"`)+views), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "scorecard", "--data", data)
	r.want(t, 2, "scorecard (no configuration, demo.yaml beside)")
	if !strings.Contains(r.stderr, "pass that file with --config "+demo) {
		t.Errorf("the refusal does not name %s: %s", demo, r.stderr)
	}
	mustRun(t, "scorecard", "--data", data, "--config", demo)
	// A file given that drops the sections is still pointed to a proposal.
	r = run(t, "scorecard", "--data", data, "--config", write("other.yaml", "currency: USD\n"))
	r.want(t, 2, "scorecard (sections dropped)")
	if !strings.Contains(r.stderr, "candor catalog propose --section custom_metrics") {
		t.Errorf("a file without custom_metrics: %s", r.stderr)
	}
}

// TestDroppedCustomMetricKeepsItsHistory: an organisation's metric an
// approved custom_metrics value drops keeps its history, as a retired
// metric does: `catalog history` had answered "unknown metric" once it
// was gone, leaving its definition and removal to be dug out of the
// section's texts.
func TestDroppedCustomMetricKeepsItsHistory(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	conf := write("candor.yaml", customSection(`status == "failure"`))
	file := write("org.ndjson", smallOrg)
	d := []string{"--config", conf, "--data", filepath.Join(dir, "data")}
	mustRun(t, append([]string{"import", file}, d...)...)
	token := func(name string) string { return personToken(t, name, []string{"executive"}, d...) }
	ann, bob := token("ann"), token("bob")
	none := write("none.yaml", "custom_metrics: []\n")
	r := runWith(t, ann, false, append([]string{"catalog", "propose", "--section", "custom_metrics", "--file", none, "--reason", "not needed", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose (drop the metric)")
	var v governance.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	runWith(t, bob, false, append([]string{"catalog", "approve", itoa(v.ID), "--reason", "agreed"}, d...)...).want(t, 0, "catalog approve")
	r = run(t, append([]string{"catalog", "history", "failed_deploys"}, d...)...)
	r.want(t, 0, "catalog history of the dropped metric")
	for _, want := range []string{"section version 1, from the start (configuration): defined\n", "filter: status == \"failure\"\n",
		"section version 2, from ", "(proposal " + itoa(v.ID) + "): removed\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the dropped metric's history lacks %q:\n%s", want, r.stdout)
		}
	}
	run(t, append([]string{"catalog", "history", "no_such_metric"}, d...)...).want(t, 2, "catalog history of an unknown metric")
}
