package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/governance"
)

// writerIn returns a function writing a file into dir, returning its path.
func writerIn(t *testing.T, dir string) func(name, s string) string {
	return func(name, s string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// send posts body as JSON to url with the API token.
func send(t *testing.T, url, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	return request(t, "POST", url, token, bytes.NewReader(b))
}

// TestSectionsTakeEffectWhileServing: two servers share a store; a gates,
// views and alerts.rules section proposed and approved through the API of
// the first is in force there at once — the next gate evaluation applies
// the new policy, the new view is served, the leader's next alert
// evaluation runs the new rule, a new organisation's metric is computed —
// and in the second within its poll,
// without a restart; the section's history says when each server put it
// in force.
func TestSectionsTakeEffectWhileServing(t *testing.T) {
	was := definitionsPoll
	definitionsPoll = 200 * time.Millisecond
	t.Cleanup(func() { definitionsPoll = was })
	dir := t.TempDir()
	write := writerIn(t, dir)
	conf := write("candor.yaml", "alerts:\n  evaluate_every: 1s\n  no_default_rules: true\n  rules:\n"+
		"    - {name: cfr_red, kind: status, metric: change_failure_rate, statuses: [red]}\n")
	file := write("org.ndjson", smallOrg)
	data := filepath.Join(dir, "data")
	d := []string{"--config", conf, "--data", data}
	mustRun(t, append([]string{"import", file}, d...)...)
	token := func(name, role string) string {
		r := mustRun(t, append([]string{"token", "create", "--name", name, "--role", role}, d...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		return lines[len(lines)-1]
	}
	ann, bob, pipeline := personToken(t, "ann", []string{"executive"}, d...), personToken(t, "bob", []string{"executive"}, d...), token("pipeline", "ingest")

	var urls []string
	var procs []*proc
	for range 2 {
		p := start(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, d...)...)
		url := p.waitFor(t, "the listening log line", p.listeningURL)
		p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
			code, _ := get(t, url+"/readyz", "")
			return "", code == 200
		})
		urls, procs = append(urls, url), append(procs, p)
	}

	approve := func(section, text string) int64 {
		t.Helper()
		code, body := send(t, urls[0]+"/api/v1/proposals", ann, map[string]any{"section": section, "value": text, "reason": "the next " + section})
		var v governance.View
		if err := json.Unmarshal(body, &v); code != 201 || err != nil {
			t.Fatalf("proposing %s: %d %s", section, code, body)
		}
		if code, body := send(t, fmt.Sprintf("%s/api/v1/proposals/%d/approve", urls[0], v.ID), bob, map[string]string{"reason": "agreed"}); code != 200 {
			t.Fatalf("approving %s: %d %s", section, code, body)
		}
		return v.ID
	}
	// eventually waits for want on the second server, which polls.
	eventually := func(what string, want func() bool) {
		t.Helper()
		procs[1].waitFor(t, what, func() (string, bool) { return "", want() })
	}

	// Gate policies: a policy that wants a change request.
	rules := func(url string) []string {
		t.Helper()
		code, body := send(t, url+"/api/v1/gates/evaluate", pipeline, map[string]any{"service": "api", "environment": "production", "version": "1.0",
			"facts": map[string]any{"coverage": 0.95, "risk_score": 10}})
		var res gate.Result
		if err := json.Unmarshal(body, &res); code != 200 || err != nil {
			t.Fatalf("gate evaluation: %d %s", code, body)
		}
		var out []string
		for _, v := range res.Rules {
			out = append(out, v.Rule+"="+v.Verdict)
		}
		return out
	}
	for _, url := range urls {
		if got := rules(url); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "needs_ticket") }) {
			t.Fatalf("the policy is in force before its proposal: %v", got)
		}
	}
	gates := approve("gates", "policies:\n  - id: needs_ticket\n    message: a production release names its change request\n"+
		"    require: change_request != \"\"\n    severity: deny\n")
	if got := rules(urls[0]); !slices.Contains(got, "needs_ticket=deny") {
		t.Errorf("the gate evaluation after the approval, same server: %v", got)
	}
	eventually("the approved gate policy on the second server", func() bool { return slices.Contains(rules(urls[1]), "needs_ticket=deny") })

	// Custom views: an ops view for the CEO.
	for _, url := range urls {
		if code, _ := get(t, url+"/api/v1/views/ops", ann); code != 404 {
			t.Fatalf("GET /api/v1/views/ops before its proposal = %d, want 404", code)
		}
	}
	approve("views", "views:\n  - id: ops\n    name: Ops\n    metrics: [deployment_frequency, mttr]\n    roles: [ceo]\n")
	if code, body := get(t, urls[0]+"/api/v1/views/ops", ann); code != 200 || !strings.Contains(string(body), "deployment_frequency") {
		t.Errorf("GET /api/v1/views/ops after the approval, same server = %d %s", code, body)
	}
	eventually("the approved view on the second server", func() bool {
		code, _ := get(t, urls[1]+"/api/v1/views/ops", ann)
		return code == 200
	})

	// Alert rules: one that fires whatever the status; the leader's next
	// evaluation (every second here) raises it.
	approve("alerts.rules", "alerts:\n  no_default_rules: true\n  rules:\n"+
		"    - {name: cfr_red, kind: status, metric: change_failure_rate, statuses: [red]}\n"+
		"    - {name: any_frequency, kind: status, metric: deployment_frequency, statuses: [green, amber, red, unknown]}\n")
	var last string
	defer func() {
		if t.Failed() {
			for _, p := range procs {
				for _, l := range strings.Split(p.errb.String(), "\n") {
					if !strings.Contains(l, "escalation") && !strings.Contains(l, `"request"`) {
						t.Log(l)
					}
				}
			}
			t.Logf("alerts: %s", last)
		}
	}()
	eventually("an alert of the approved rule", func() bool {
		_, body := get(t, urls[1]+"/api/v1/alerts", ann)
		last = string(body)
		return strings.Contains(string(body), `"rule": "any_frequency"`)
	})

	// The organisation's metrics: one added, computed by both servers.
	approve("custom_metrics", customSection(`status == "failure"`))
	failed := func(url string) string {
		code, body := get(t, url+"/api/v1/metrics/failed_deploys?as_of=2026-03-31T00:00:00Z", ann)
		var d struct {
			Card struct {
				Value *float64 `json:"value"`
			} `json:"metric"`
		}
		if err := json.Unmarshal(body, &d); code != 200 || err != nil {
			return fmt.Sprintf("%d %s", code, body)
		}
		return fmtValue(d.Card.Value)
	}
	if got := failed(urls[0]); got != "1" {
		t.Errorf("the approved metric on the same server: %s", got)
	}
	eventually("the approved metric on the second server", func() bool { return failed(urls[1]) == "1" })

	// The history says when each server put the gate policies in force.
	code, body := get(t, urls[0]+"/api/v1/sections/gates/history", ann)
	var h governance.SectionHistory
	if err := json.Unmarshal(body, &h); code != 200 || err != nil || len(h.Versions) != 2 {
		t.Fatalf("history: %d %s", code, body)
	}
	if v := h.Versions[1]; v.Proposal != gates || len(v.InForce) != 2 || v.InForce[0].Instance == v.InForce[1].Instance ||
		v.InForce[0].At.Before(*v.From) {
		t.Errorf("the approved version's times in force: %+v", v)
	}
	for _, p := range procs {
		p.stop(t)
	}
	// Each record is chained in the ledger, which verifies; the history
	// says it in words too.
	mustRun(t, append([]string{"ledger", "verify"}, d...)...)
	if r := mustRun(t, append([]string{"catalog", "history", "--section", "gates"}, d...)...); strings.Count(r.stdout, "in force in the running server") != 2 {
		t.Errorf("candor catalog history --section gates:\n%s", r.stdout)
	}
}
