package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// An incident linked to a deployment and resolved before it finished: the
// data sources report and the recovery-time drill-down both show the data
// problem, in text and in JSON.
func TestSourcesAndMetricShowDataProblems(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in.ndjson")
	if err := os.WriteFile(in, []byte(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T08:00:00Z","resolved_at":"2026-03-10T09:00:00Z","caused_by":"d1"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "--data", data, in)
	const problem = "incident import/i1 resolved_at: resolved at 2026-03-10T09:00:00Z, 1h0m0s before deployment d1"

	r := mustRun(t, "sources", "--data", data, "--as-of", "2026-03-11")
	for _, s := range []string{"Data sources as of 2026-03-11T00:00:00Z", "deployment", "never sent", "Data problems (1):", problem} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("sources text lacks %q:\n%s", s, r.stdout)
		}
	}
	r = mustRun(t, "sources", "--data", data, "--as-of", "2026-03-11", "--format", "json")
	var rep scorecard.SourcesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("sources --format json: %v\n%s", err, r.stdout)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].ID != "i1" || len(rep.Kinds) == 0 || rep.Kinds[1].Kind != "deployment" || rep.Kinds[1].Records != 1 {
		t.Errorf("sources JSON = %+v", rep)
	}

	r = mustRun(t, "metric", "failed_deployment_recovery_time", "--data", data, "--as-of", "2026-03-11")
	if !strings.Contains(r.stdout, "Data problems (1):") || !strings.Contains(r.stdout, problem) {
		t.Errorf("metric text lacks the data problem:\n%s", r.stdout)
	}
	r = mustRun(t, "metric", "failed_deployment_recovery_time", "--data", data, "--as-of", "2026-03-11", "--format", "json")
	var d struct {
		Problems []metrics.Problem `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || len(d.Problems) != 1 || d.Problems[0].Field != "resolved_at" {
		t.Errorf("metric JSON problems = %+v (%v)\n%s", d.Problems, err, clip(r.stdout))
	}

	for _, args := range [][]string{{"sources", "--format", "xml"}, {"sources", "extra"}, {"sources", "--as-of", "someday"}} {
		r := run(t, append(args, "--data", data)...)
		r.want(t, 2, args...)
		if !strings.Contains(r.stderr, "usage: candor sources") {
			t.Errorf("%v: stderr lacks the usage line:\n%s", args, r.stderr)
		}
	}
}

// A configured Stripe connector that has delivered nothing makes the
// subscription book stale on the report and MRR unknown on the scorecard,
// the reason naming it; its rejects are listed with their reasons.
func TestSourcesAndScorecardShowConnectorHealth(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, []byte(`{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-01-01T00:00:00Z","mrr":100}`+"\n"), 0o644)
	mustRun(t, "import", "--data", data, in)
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.LogDelivery(context.Background(), store.Delivery{Source: "stripe", ReceivedAt: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		Outcome: store.DeliveryRejected, Reason: "Stripe-Signature has no v1 signature that matches"}); err != nil {
		t.Fatal(err)
	}
	// A server counted 7 more refusals past the rate, without logging them.
	if err := st.AddNotLogged(context.Background(), []store.NotLogged{{Source: "stripe", Minute: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Count: 7}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("connectors:\n  stripe:\n    secret: whsec_x\n"), 0o600)

	r := mustRun(t, "sources", "--data", data, "--config", cfg, "--as-of", "2026-03-11", "--period", "30d")
	for _, s := range []string{"stale: connector stripe has not worked within 35d", "Connectors (deliveries over the last 30d):", "never worked",
		"rejected 2026-03-10T00:00:00Z (no delivery id): Stripe-Signature has no v1 signature that matches", "rejected not logged",
		"Not logged: deliveries refused unverified"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("sources text lacks %q:\n%s", s, r.stdout)
		}
	}
	r = mustRun(t, "sources", "--data", data, "--config", cfg, "--as-of", "2026-03-11", "--period", "30d", "--format", "json")
	if !strings.Contains(r.stdout, `"rejected": 8`) || !strings.Contains(r.stdout, `"not_logged": 7`) {
		t.Errorf("sources JSON lacks the 8 rejected, 7 of them not logged:\n%s", clip(r.stdout))
	}
	r = mustRun(t, "scorecard", "--data", data, "--config", cfg, "--as-of", "2026-03-11", "--format", "json")
	if !strings.Contains(r.stdout, `"reason": "connector stripe: no successful delivery or sync yet (it feeds subscription)"`) {
		t.Errorf("scorecard JSON lacks the connector's reason:\n%s", clip(r.stdout))
	}
	run(t, "sources", "--data", data, "--period", "ever").want(t, 2, "sources", "--period", "ever")
}

// A budget, a quota and a target whose periods have begun and not ended
// have data up to --as-of (SPEC §3): the report says "period open", as the
// data sources page does, where it had given the time of the query as
// their last data, as if data had just arrived. State kinds with records
// and no connector are "not judged", never "fresh" (SPEC §4: nothing judges
// their age); an event kind keeps its time and its status.
func TestSourcesSaysPeriodOpenAndNotJudged(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in.ndjson")
	if err := os.WriteFile(in, []byte(`{"kind":"budget","id":"b1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000,"category":"compute"}
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"target","id":"tg1","metric":"mrr","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":12000}
{"kind":"subscription","id":"s1","customer":"acme","started_at":"2025-06-01T00:00:00Z","mrr":100}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "--data", data, in)
	r := mustRun(t, "sources", "--data", data, "--as-of", "2026-03-10T12:00:00Z")
	lines := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	for _, kind := range []string{"budget", "quota", "target"} {
		if l := lines[kind]; !strings.Contains(l, "period open") || strings.Contains(l, "2026-03-10T12:00:00Z") || !strings.Contains(l, "not judged") || strings.Contains(l, "fresh") {
			t.Errorf("%s line %q, want period open and not judged", kind, l)
		}
	}
	if l := lines["subscription"]; !strings.Contains(l, "2025-06-01T00:00:00Z") || !strings.Contains(l, "not judged") || strings.Contains(l, "fresh") {
		t.Errorf("subscription line %q, want its time and not judged", l)
	}
	if l := lines["deployment"]; !strings.Contains(l, "2026-03-10T10:00:00Z") || !strings.Contains(l, "fresh") {
		t.Errorf("deployment line %q, want its time and fresh", l)
	}

	// JSON keeps last_data (the as-of) and says the period is open.
	r = mustRun(t, "sources", "--data", data, "--as-of", "2026-03-10T12:00:00Z", "--format", "json")
	var rep scorecard.SourcesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range rep.Kinds {
		if k.Kind == "quota" && (!k.PeriodOpen || k.LastData == nil || k.LastData.Format(time.RFC3339) != "2026-03-10T12:00:00Z" || k.Status != scorecard.KindNotJudged) {
			t.Errorf("quota in JSON = %+v, want period_open, last_data the as-of, not_judged", k)
		}
	}
}
