package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/scorecard"
)

// quarterOrg has Ann's quotas for the first two quarters of 2026 and one
// deal she won in the first: as of 1 April, the instant the second
// quarter begins, SPEC §3 reads the second (nothing won yet), while a
// pack of the first quarter reports the first (80 %).
const quarterOrg = `{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000,"currency":"USD"}
{"kind":"quota","id":"q2","owner":"ann","period_start":"2026-04-01T00:00:00Z","period_end":"2026-07-01T00:00:00Z","amount":1000,"currency":"USD"}
{"kind":"opportunity","id":"o1","created_at":"2026-01-05T00:00:00Z","owner":"ann","amount":800,"currency":"USD","stage":"closed_won","won":true,"closed_at":"2026-02-10T00:00:00Z"}
`

// TestEvidenceFiguresReadTheClosingQuarter: a quarter's evidence pack
// states the quarter's own quota attainment (the period closing at its
// end, as a board pack reads its month), and the rederive command and
// request it names ask for that (--closing, closing=true) and give the
// same; without them the instant's rule reads the next quarter. The pack
// had stated the next quarter's 0 %.
func TestEvidenceFiguresReadTheClosingQuarter(t *testing.T) {
	data := storeOf(t, quarterOrg)
	out := filepath.Join(t.TempDir(), "q1.zip")
	mustRun(t, "evidence", "--data", data, "--from", "2026-01-01", "--to", "2026-03-31", "--out", out)
	var figs struct {
		Note    string
		Metrics []struct {
			ID       string
			Value    *float64
			Covers   string
			Rederive struct{ CLI, API string }
		}
	}
	if err := json.Unmarshal(unzip(t, out)["figures.json"], &figs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(figs.Note, "--closing") {
		t.Errorf("figures.json's note does not say quota periods are read closing: %s", figs.Note)
	}
	value := func(v *float64) string {
		if v == nil {
			return "none"
		}
		return fmt.Sprint(*v)
	}
	var cli, api string
	for _, f := range figs.Metrics {
		switch f.ID {
		case "quota_attainment":
			if value(f.Value) != "80" || f.Covers != "the quota period 1 Jan 2026 – 31 Mar 2026" {
				t.Errorf("figures.json: quota_attainment %s covering %q, want 80 over the first quarter", value(f.Value), f.Covers)
			}
			cli, api = f.Rederive.CLI, f.Rederive.API
		case "change_failure_rate":
			if f.Covers != "90d" {
				t.Errorf("figures.json: change_failure_rate covers %q, want the period's 90d", f.Covers)
			}
			// Reads no quota period: its rederive asks nothing more.
			if strings.Contains(f.Rederive.CLI, "--closing") || strings.Contains(f.Rederive.API, "closing") {
				t.Errorf("change_failure_rate's rederive asks for a closing read: %+v", f.Rederive)
			}
		}
	}
	if !strings.Contains(cli, " --closing") || !strings.HasSuffix(api, "&closing=true") {
		t.Fatalf("quota_attainment's rederive does not ask for the closing quarter: %q, %q", cli, api)
	}
	var d metricFigure
	args := strings.Fields(cli)
	if err := json.Unmarshal([]byte(mustRun(t, append(args[1:], "--data", data)...).stdout), &d); err != nil {
		t.Fatal(err)
	}
	if value(d.Metric.Value) != "80" {
		t.Errorf("%s gives %s, want 80", cli, value(d.Metric.Value))
	}
	// The instant's rule, asked without --closing: the second quarter.
	if err := json.Unmarshal([]byte(mustRun(t, "metric", "quota_attainment", "--data", data, "--as-of", "2026-04-01", "--window", "90d", "--format", "json").stdout), &d); err != nil {
		t.Fatal(err)
	}
	if value(d.Metric.Value) != "0" {
		t.Errorf("quota_attainment as of 2026-04-01 without --closing = %s, want 0 (the second quarter, just begun)", value(d.Metric.Value))
	}
	// The scorecard and the text say what was read.
	js := mustRun(t, "scorecard", "--data", data, "--as-of", "2026-04-01", "--window", "90d", "--closing", "--format", "json").stdout
	if !strings.Contains(js, `"closing": true`) {
		t.Errorf("scorecard --closing's JSON does not say closing:\n%s", clip(js))
	}
	if txt := mustRun(t, "metric", "quota_attainment", "--data", data, "--as-of", "2026-04-01", "--window", "90d", "--closing").stdout; !strings.Contains(txt, scorecard.ClosingWords) {
		t.Errorf("metric --closing's text does not say so:\n%s", clip(txt))
	}
	if txt := mustRun(t, "metric", "change_failure_rate", "--data", data, "--as-of", "2026-04-01", "--closing").stdout; strings.Contains(txt, scorecard.ClosingWords) {
		t.Errorf("a metric reading no quota period says its quota periods were read closing:\n%s", clip(txt))
	}

	// A role view read closing too: the CRO's quota attainment is the
	// first quarter's, by the CLI and the API alike.
	viewValue := func(body string) string {
		t.Helper()
		var v struct {
			Closing bool
			Metrics []struct {
				Card struct {
					ID    string
					Value *float64
				} `json:"metric"`
			}
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("view JSON: %v\n%s", err, clip(body))
		}
		for _, m := range v.Metrics {
			if m.Card.ID == "quota_attainment" {
				return value(m.Card.Value) + fmt.Sprint(" closing ", v.Closing)
			}
		}
		return "no quota_attainment"
	}
	if got := viewValue(mustRun(t, "view", "cro", "--data", data, "--as-of", "2026-04-01", "--window", "90d", "--closing", "--format", "json").stdout); got != "80 closing true" {
		t.Errorf("candor view cro --closing: quota attainment %s, want 80 closing true", got)
	}
	p, url, token := serveWithToken(t, data, "auditor")
	for path, want := range map[string]string{api: "80", strings.TrimSuffix(api, "&closing=true"): "0"} {
		code, body := get(t, url+path, token)
		d = metricFigure{}
		json.Unmarshal(body, &d)
		if code != 200 || value(d.Metric.Value) != want {
			t.Errorf("GET %s = %d, %s; want %s", path, code, value(d.Metric.Value), want)
		}
	}
	if code, body := get(t, url+"/api/v1/views/cro?as_of=2026-04-01&window=90d&closing=true", token); code != 200 || viewValue(string(body)) != "80 closing true" {
		t.Errorf("GET /api/v1/views/cro?…&closing=true = %d, %s; want 80 closing true", code, viewValue(string(body)))
	}
	if code, body := get(t, url+"/api/v1/scorecard?as_of=2026-04-01&window=90d&closing=true", token); code != 200 || !strings.Contains(string(body), `"closing": true`) {
		t.Errorf("GET /api/v1/scorecard?…&closing=true = %d, closing not said:\n%s", code, clip(string(body)))
	}
	if code, body := get(t, url+"/api/v1/metrics/quota_attainment?closing=perhaps", token); code != 400 || !strings.Contains(string(body), "closing") {
		t.Errorf("closing=perhaps = %d %s, want a 400 naming closing", code, body)
	}
	p.stop(t)
}
