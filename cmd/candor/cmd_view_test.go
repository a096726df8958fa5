package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
)

// smallOrg is a small organisation; as of 2026-03-31 its 30-day window
// holds four production deployments of api, two of them failed (d2, and
// d4 through incident i3): change failure rate 50 %.
const smallOrg = `{"kind":"service","id":"api","name":"API","team":"core","tier":1}
{"kind":"service","id":"web","name":"Web","team":"growth","tier":2}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-03-19T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d4","service":"api","environment":"production","finished_at":"2026-03-30T12:00:00Z","status":"success"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-30T20:00:00Z","resolved_at":"2026-03-30T22:00:00Z"}
{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-03-10T00:00:00Z","mrr":1000}
`

// smallStore imports smallOrg into a fresh data directory.
func smallStore(t *testing.T) string {
	t.Helper()
	return storeOf(t, smallOrg)
}

// storeOf is a store holding the records of org, NDJSON.
func storeOf(t *testing.T, org string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "org.ndjson")
	if err := os.WriteFile(file, []byte(org), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	mustRun(t, "import", "--data", data, file)
	return data
}

func TestView(t *testing.T) {
	cat := defaultCatalog(t)
	data := smallStore(t)

	// A misspelt view is guessed, and the views named.
	if r := run(t, "view", "engineerng", "--data", data); r.code != 2 || !strings.Contains(r.stderr, `unknown role view "engineerng" (did you mean engineering?; known: ceo,`) {
		t.Errorf("candor view engineerng: %d %s", r.code, r.stderr)
	}

	// Every role of the catalog renders with all its metrics and breakdowns.
	for _, v := range cat.Views {
		r := mustRun(t, "view", v.ID, "--data", data, "--as-of", "2026-03-31")
		// No --window: each metric over its own (NRR's year, the quota's
		// quarter), as the page's heading says.
		if !strings.Contains(r.stdout, v.Name+" view as of 2026-03-31T00:00:00Z (each metric over its own window)") {
			t.Errorf("%s: no header:\n%s", v.ID, clip(r.stdout))
		}
		for _, id := range v.Metrics {
			m, _ := cat.Metric(id)
			if !strings.Contains(r.stdout, m.Name) {
				t.Errorf("%s view lacks %s:\n%s", v.ID, m.Name, clip(r.stdout))
			}
		}
		for _, dim := range v.Breakdowns {
			if !strings.Contains(r.stdout, "by "+dim+":") {
				t.Errorf("%s view lacks the breakdown by %s", v.ID, dim)
			}
		}
	}

	// JSON: the cards with their series and the view's breakdowns.
	r := mustRun(t, "view", "engineering", "--data", data, "--as-of", "2026-03-31", "--format", "json")
	var doc struct {
		ID      string `json:"id"`
		AsOf    string `json:"as_of"`
		Status  string `json:"status"`
		Metrics []struct {
			Metric struct {
				ID     string   `json:"id"`
				Value  *float64 `json:"value"`
				Status string   `json:"status"`
				Series []any    `json:"series"`
			} `json:"metric"`
			By        string `json:"by"`
			Breakdown []struct {
				Key    string   `json:"key"`
				Value  *float64 `json:"value"`
				Status string   `json:"status"`
			} `json:"breakdown"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("view JSON: %v\n%s", err, clip(r.stdout))
	}
	eng, _ := cat.View("engineering")
	if doc.ID != "engineering" || doc.AsOf != "2026-03-31T00:00:00Z" || doc.Status != "red" || len(doc.Metrics) != len(eng.Metrics) {
		t.Fatalf("view = %s %s %s with %d metrics", doc.ID, doc.AsOf, doc.Status, len(doc.Metrics))
	}
	cfr := doc.Metrics[2]
	if cfr.Metric.ID != "change_failure_rate" || cfr.Metric.Value == nil || *cfr.Metric.Value != 50 || cfr.By != "service" ||
		len(cfr.Metric.Series) != 12 || len(cfr.Breakdown) != 2 || cfr.Breakdown[0].Key != "api" || *cfr.Breakdown[0].Value != 50 {
		t.Errorf("change_failure_rate in the view = %+v", cfr)
	}
	// --window reaches the view.
	r = mustRun(t, "view", "engineering", "--data", data, "--as-of", "2026-03-31", "--window", "2w")
	if !strings.Contains(r.stdout, "(window 14d)") {
		t.Errorf("--window 2w not shown:\n%s", clip(r.stdout))
	}

	// An unknown role is a usage error naming the known ones.
	r = run(t, "view", "cfo", "--data", data)
	r.want(t, 2, "view", "cfo")
	for _, v := range cat.Views {
		if !strings.Contains(r.stderr, v.ID) {
			t.Errorf("unknown role error does not name %s:\n%s", v.ID, r.stderr)
		}
	}
}

func TestViewUsage(t *testing.T) {
	cat := defaultCatalog(t)
	cases := []struct {
		args   []string
		stderr []string
	}{
		{[]string{"view"}, []string{"exactly one role", cat.Views[0].ID, cat.Views[len(cat.Views)-1].ID, "usage: candor view"}},
		{[]string{"view", "ceo", "cro"}, []string{"exactly one role"}},
		{[]string{"view", "ceo", "--format", "xml"}, []string{"xml"}},
		{[]string{"view", "ceo", "--as-of", "someday"}, []string{"--as-of"}},
		{[]string{"view", "ceo", "--window", "0d"}, []string{"--window"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(tc.args, "--data", t.TempDir())
			r := run(t, args...)
			r.want(t, 2, args...)
			for _, s := range tc.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
		})
	}
	r := mustRun(t, "view", "-h")
	if !strings.Contains(r.stdout, "Roles: ") || !strings.Contains(r.stdout, "engineering") {
		t.Errorf("view -h does not list the roles:\n%s", r.stdout)
	}
	r = mustRun(t, "help")
	for _, c := range []string{"view", "reconcile"} {
		if !strings.Contains(r.stdout, "  "+c+" ") {
			t.Errorf("help does not list %s:\n%s", c, r.stdout)
		}
	}
}

// candor scorecard names, on each card that needs an action, the owner's
// action in force or that none is recorded, as the page's cards do.
func TestScorecardTextActions(t *testing.T) {
	data := smallStore(t)
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	if _, err := escalation.Record(context.Background(), st, escalation.Acknowledgement{Metric: "change_failure_rate", Status: catalog.Red,
		Owner: "Head of SRE", Note: "Canary releases", Due: "2026-04-10", At: at, By: "user:sre@example.com"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := mustRun(t, "scorecard", "--data", data, "--as-of", "2026-03-31", "--all")
	var cfr string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "Change failure rate ") {
			cfr = l
		}
	}
	if !strings.HasSuffix(cfr, "action (Head of SRE) due 2026-04-10") {
		t.Errorf("change failure rate's line: %q", cfr)
	}
	if !strings.Contains(r.stdout, "no action recorded") {
		t.Errorf("no card says it has no action:\n%s", clip(r.stdout))
	}
	// Overdue past its day.
	r = mustRun(t, "scorecard", "--data", data, "--as-of", "2026-04-12", "--all")
	if !strings.Contains(r.stdout, "action (Head of SRE) due 2026-04-10, overdue") {
		t.Errorf("the action is not overdue on 2026-04-12:\n%s", clip(r.stdout))
	}
	// The JSON carries it on the card, as the API does; a view's too.
	for _, args := range [][]string{{"scorecard"}, {"view", "engineering"}} {
		r = mustRun(t, append(args, "--data", data, "--as-of", "2026-04-12", "--format", "json")...)
		cards := jsonCards(t, args[0], r.stdout)
		c := cards["change_failure_rate"]
		if c == nil {
			t.Fatalf("%s JSON: no change failure rate", args[0])
		}
		if a := c.Action; !c.NeedsAction || a == nil || a.Owner != "Head of SRE" || !a.Overdue || a.Note != "Canary releases" || a.Due != "2026-04-10" || a.By != "user:sre@example.com" {
			t.Errorf("%s JSON: change failure rate's action %+v (needs %v)", args[0], a, c.NeedsAction)
		}
		none := 0
		for id, c := range cards {
			if c.NeedsAction && c.Action == nil {
				none++
			}
			if !c.NeedsAction && c.Action != nil {
				t.Errorf("%s JSON: %s carries an action it does not need", args[0], id)
			}
		}
		if none == 0 {
			t.Errorf("%s JSON: no card needs an action without one", args[0])
		}
	}
}

// jsonCards reads the cards of candor scorecard's or view's JSON (args[0])
// by id, through the types they are written from.
func jsonCards(t *testing.T, command, out string) map[string]*scorecard.Card {
	t.Helper()
	var cards []*scorecard.Card
	var err error
	if command == "view" {
		var v scorecard.ViewResult
		err, cards = json.Unmarshal([]byte(out), &v), v.Cards()
	} else {
		var sc scorecard.Scorecard
		err, cards = json.Unmarshal([]byte(out), &sc), sc.Cards()
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, clip(out))
	}
	byID := map[string]*scorecard.Card{}
	for _, c := range cards {
		byID[c.ID] = c
	}
	return byID
}

// candor view names, on each metric that needs an action, the owner's
// action in force or that none is recorded, as the role view page's
// panels and candor scorecard's lines do; it had named neither, so the
// engineering view in a terminal did not say that change failure rate,
// red for weeks, had nobody acting on it.
func TestViewTextActions(t *testing.T) {
	data := smallStore(t)
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	if _, err := escalation.Record(context.Background(), st, escalation.Acknowledgement{Metric: "change_failure_rate", Status: catalog.Red,
		Owner: "Head of SRE", Note: "Canary releases", Due: "2026-04-10", At: at, By: "user:sre@example.com"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := mustRun(t, "view", "engineering", "--data", data, "--as-of", "2026-03-31")
	var cfr string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "Change failure rate ") {
			cfr = l
		}
	}
	if !strings.HasSuffix(cfr, "action (Head of SRE) due 2026-04-10") {
		t.Errorf("change failure rate's line: %q", cfr)
	}
	if !strings.Contains(r.stdout, "no action recorded") {
		t.Errorf("no metric says it has no action:\n%s", clip(r.stdout))
	}
}

// A weekly series in text says which weeks it covers and which end is the
// latest, as the pages' charts date their axes; "weekly: 50 % · 40 % · …"
// had said neither.
func TestWeeklySeriesTextIsDated(t *testing.T) {
	data := smallStore(t)
	const head = "eekly, 6 Jan – 31 Mar 2026, oldest first: "
	view := mustRun(t, "view", "engineering", "--data", data, "--as-of", "2026-03-31").stdout
	if !strings.Contains(view, "     w"+head) {
		t.Errorf("view engineering's series are not dated:\n%s", clip(view))
	}
	metric := mustRun(t, "metric", "change_failure_rate", "--data", data, "--as-of", "2026-03-31").stdout
	if !strings.Contains(metric, "\nW"+head) {
		t.Errorf("metric change_failure_rate's series is not dated:\n%s", clip(metric))
	}
}
