package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// customerOrg: as of 2026-03-31 over 30 days, acme moved from s1 (1,000)
// to s2 (800) — contraction, not churn — and has an escalated ticket open
// past its SLA; globex shows nothing; hooli's last subscription ended.
const customerOrg = `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"subscription","id":"s1","customer":"acme","started_at":"2025-01-01T00:00:00Z","ended_at":"2026-03-20T00:00:00Z","mrr":1000,"plan":"pro"}
{"kind":"subscription","id":"s2","customer":"acme","started_at":"2026-03-20T00:00:00Z","mrr":800,"plan":"team"}
{"kind":"subscription","id":"g1","customer":"globex","started_at":"2025-06-01T00:00:00Z","mrr":500,"plan":"pro"}
{"kind":"subscription","id":"h1","customer":"hooli","started_at":"2025-06-01T00:00:00Z","ended_at":"2026-03-15T00:00:00Z","mrr":2000,"plan":"pro"}
{"kind":"ticket","id":"k1","customer":"acme","created_at":"2026-03-25T00:00:00Z","sla_due_at":"2026-03-26T00:00:00Z","escalated":true,"release":"d1","priority":"high"}
{"kind":"survey","id":"v1","customer":"acme","at":"2026-03-28T00:00:00Z","type":"nps","score":3,"release":"d1"}
`

func TestCustomerCommands(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	os.WriteFile(in, []byte(customerOrg), 0o600)
	mustRun(t, "import", "--data", data, in)

	text := mustRun(t, "customer", "acme", "--data", data, "--as-of", "2026-03-31").stdout
	for _, want := range []string{"Customer acme as of 2026-03-31T00:00:00Z", "MRR (USD): now 800.00 · 30 days before 1,000.00 (now −200.00, −20 %)",
		"MRR −200.00 USD (−20 %) over 30 days", "1 ticket past SLA (1 open past due)", "1 open escalated ticket", "NPS detractor: 3 on 28 Mar 2026",
		"import/k1", "SLA breached: open 5 days past due", "deployment import/d1"} {
		if !strings.Contains(text, want) {
			t.Errorf("candor customer acme lacks %q:\n%s", want, text)
		}
	}
	js := mustRun(t, "customer", "acme", "--data", data, "--as-of", "2026-03-31", "--format", "json").stdout
	var c struct {
		Customer, Window string
		MRR              struct{ Value float64 } `json:"mrr"`
		Signals          []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(js), &c); err != nil || c.Customer != "acme" || c.Window != "30d" || c.MRR.Value != 800 || len(c.Signals) != 4 {
		t.Errorf("customer --format json: %v\n%s", err, js)
	}

	list := mustRun(t, "customers", "--at-risk", "--data", data, "--as-of", "2026-03-31").stdout
	if i, j := strings.Index(list, "hooli"), strings.Index(list, "acme"); i < 0 || j < 0 || i > j || strings.Contains(list, "globex") {
		t.Errorf("customers --at-risk: want hooli (churned) before acme (contraction), no globex:\n%s", list)
	}
	// The order is said as it is: the gravest signal first, then MRR.
	if !strings.Contains(list, "worst first (by the gravest signal — churn, contraction, escalation, detractor, past SLA — then MRR at stake in USD, then by signals):") {
		t.Errorf("customers --at-risk does not say its order:\n%s", list)
	}
	// Set against the window's three customers: globex holds a subscription.
	if !strings.Contains(list, "2 of 3 customers showing a risk signal in the 30 days to 31 Mar 2026") {
		t.Errorf("customers --at-risk does not say of how many customers:\n%s", list)
	}
	if !strings.Contains(list, "churned: MRR −2,000.00 USD (−100 %); its last subscription ended 15 Mar 2026") {
		t.Errorf("customers --at-risk does not word hooli's churn:\n%s", list)
	}
	all := mustRun(t, "customers", "--data", data, "--as-of", "2026-03-31", "--format", "json").stdout
	var l struct {
		AtRisk     bool `json:"at_risk"`
		Considered int  `json:"customers_considered"`
		Customers  []struct{ Customer string }
	}
	if err := json.Unmarshal([]byte(all), &l); err != nil || l.AtRisk || len(l.Customers) != 3 || l.Considered != 3 {
		t.Errorf("customers --format json: %v\n%s", err, all)
	}
	quiet := mustRun(t, "customers", "--at-risk", "--data", data, "--as-of", "2026-01-01").stdout
	if !strings.Contains(quiet, "None of 3 customers shows a risk signal in the 30 days to 1 Jan 2026 00:00 UTC.") {
		t.Errorf("an empty list: %s", quiet)
	}

	// An unknown customer fails as an unknown record does (exit 1), naming
	// it; command-line mistakes are usage errors (exit 2) naming the flag.
	r := run(t, "customer", "nobody-inc", "--data", data, "--as-of", "2026-03-31")
	r.want(t, 1, "customer", "nobody-inc")
	if !strings.Contains(r.stderr, `no customer "nobody-inc"`) {
		t.Errorf("unknown customer: %s", r.stderr)
	}
	for _, bad := range []struct {
		args []string
		says string
	}{
		{[]string{"customer", "--data", data}, "give one customer ID"},
		{[]string{"customer", "acme", "globex", "--data", data}, "give one customer ID"},
		{[]string{"customer", "acme", "--data", data, "--format", "xml"}, "--format"},
		{[]string{"customer", "acme", "--data", data, "--window", "0d"}, "--window"},
		{[]string{"customer", "acme", "--data", data, "--as-of", "yesterday"}, "--as-of"},
		{[]string{"customers", "--data", data, "--month", "2026-02", "--as-of", "2026-03-01"}, "--month"},
		{[]string{"customers", "extra", "--data", data}, "extra"},
	} {
		r := run(t, bad.args...)
		r.want(t, 2, bad.args...)
		if !strings.Contains(r.stderr, bad.says) {
			t.Errorf("candor %s: stderr does not name %s:\n%s", strings.Join(bad.args, " "), bad.says, r.stderr)
		}
	}
}

// freshOrg: the newest ticket came at 12:00 on 30 March, the newest survey
// at 10:00 that day.
const freshOrg = `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2025-01-01T00:00:00Z","mrr":1000}
{"kind":"ticket","id":"k1","customer":"acme","created_at":"2026-03-20T00:00:00Z","sla_due_at":"2026-03-21T00:00:00Z"}
{"kind":"ticket","id":"k2","customer":"globex","created_at":"2026-03-30T12:00:00Z"}
{"kind":"survey","id":"v1","customer":"acme","at":"2026-03-30T10:00:00Z","type":"nps","score":3}
`

// The customer commands say how fresh the data their signals read is, as
// `candor sources` judges it, on one line: "as of" the hours after the
// newest ticket, stale (and what it may undercount) the day after, in
// text and in JSON (`data`).
func TestCustomerCommandsSayHowFreshTheirDataIs(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "org.ndjson")
	os.WriteFile(in, []byte(freshOrg), 0o600)
	mustRun(t, "import", "--data", data, in)

	fresh := mustRun(t, "customers", "--at-risk", "--data", data, "--as-of", "2026-03-31T00:00:00Z").stdout
	if !strings.Contains(fresh, "Data: subscriptions (a state kind, not judged by age) · tickets as of 30 Mar 2026 12:00 UTC · surveys as of 30 Mar 2026 10:00 UTC\n") {
		t.Errorf("customers --at-risk with fresh data:\n%s", fresh)
	}
	if strings.Contains(fresh, "stale") {
		t.Errorf("fresh data called stale:\n%s", fresh)
	}
	stale := mustRun(t, "customers", "--at-risk", "--data", data, "--as-of", "2026-03-31T13:00:00Z").stdout
	for _, want := range []string{"tickets as of 30 Mar 2026 12:00 UTC, stale: older than its 1d limit",
		"Ticket data is stale: tickets past SLA and open escalated tickets may be undercounted.",
		"Survey data is stale: NPS detractors and CSATs of 2 or less may be undercounted."} {
		if !strings.Contains(stale, want) {
			t.Errorf("customers --at-risk with stale data lacks %q:\n%s", want, stale)
		}
	}
	if first, _, _ := strings.Cut(stale, "\n"); !strings.HasPrefix(first, "Data: ") || !strings.Contains(first, "may be undercounted") {
		t.Errorf("the data line is not one line, first: %q", first)
	}
	page := mustRun(t, "customer", "acme", "--data", data, "--as-of", "2026-03-31T13:00:00Z").stdout
	if !strings.Contains(page, "tickets as of 30 Mar 2026 12:00 UTC, stale: older than its 1d limit") || !strings.Contains(page, "Ticket data is stale") {
		t.Errorf("candor customer with stale tickets:\n%s", page)
	}
	if page := mustRun(t, "customer", "acme", "--data", data, "--as-of", "2026-03-31T00:00:00Z").stdout; !strings.Contains(page, "tickets as of 30 Mar 2026 12:00 UTC ·") || strings.Contains(page, "stale") {
		t.Errorf("candor customer with fresh tickets:\n%s", page)
	}

	js := mustRun(t, "customers", "--data", data, "--as-of", "2026-03-31T13:00:00Z", "--format", "json").stdout
	var l struct {
		Data []struct{ Kind, Limit, Status string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(js), &l); err != nil || len(l.Data) != 3 || l.Data[1].Kind != "ticket" || l.Data[1].Status != "stale" || l.Data[1].Limit != "1d" {
		t.Errorf("customers --format json data: %v\n%s", err, js)
	}
	js = mustRun(t, "customer", "acme", "--data", data, "--as-of", "2026-03-31T00:00:00Z", "--format", "json").stdout
	var c struct {
		Data []struct{ Kind, Status string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(js), &c); err != nil || len(c.Data) != 3 || c.Data[1].Status != "fresh" {
		t.Errorf("customer --format json data: %v\n%s", err, js)
	}
}
