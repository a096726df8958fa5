package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/scorecard"
)

// spendEUR is a marketing spend in euros and one in the organisation
// currency, and a subscription in euros.
const spendEUR = `{"kind":"spend","id":"s1","period_start":"2026-11-01T00:00:00Z","period_end":"2026-12-01T00:00:00Z","category":"marketing","amount":1000,"currency":"EUR"}
{"kind":"spend","id":"s2","period_start":"2026-11-01T00:00:00Z","period_end":"2026-12-01T00:00:00Z","category":"sales","amount":500,"currency":"eur"}
{"kind":"spend","id":"s3","period_start":"2026-11-01T00:00:00Z","period_end":"2026-12-01T00:00:00Z","category":"sales","amount":700}
{"kind":"subscription","id":"sub1","customer":"c1","started_at":"2026-11-02T00:00:00Z","mrr":99,"currency":"EUR"}
`

// Records in a currency with no exchange rate are imported (exit 0) with
// a warning naming the kind, the currency, the count, what it leaves
// without a value and the setting to add; `candor sources` says the same
// of the money stored, in text and JSON. CAC had shown no value with its
// reason on its card only, the import and the sources report silent.
// With the rate configured, neither says a word.
func TestImportAndSourcesWarnOfMoneyWithoutARate(t *testing.T) {
	dir := t.TempDir()
	data, in := filepath.Join(dir, "data"), filepath.Join(dir, "money.ndjson")
	if err := os.WriteFile(in, []byte(spendEUR), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "import", "--data", data, in)
	spend := "warning: spend: 2 records in EUR, which has no exchange rate into USD: Customer acquisition cost and CAC payback have no value over a window or at a time holding any of them; add exchange_rates.EUR (how many USD one EUR is worth) to the configuration, or propose it"
	for _, want := range []string{spend, "warning: subscription: 1 record in EUR, which has no exchange rate into USD: Revenue at risk, monthly recurring revenue, ", "SaaS quick ratio", "add exchange_rates.EUR"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import's summary lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "import", "--data", data, "--json", in)
	var sum struct {
		Warnings []struct {
			Kind, Currency, Setting, Message string
			Records                          int
			Metrics                          []string
		} `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("import --json: %v\n%s", err, r.stdout)
	}
	if len(sum.Warnings) != 2 || sum.Warnings[0].Kind != "subscription" || sum.Warnings[1].Kind != "spend" || sum.Warnings[1].Records != 2 ||
		sum.Warnings[1].Setting != "exchange_rates.EUR" || strings.Join(sum.Warnings[1].Metrics, ",") != "cac,cac_payback_months" || "warning: "+sum.Warnings[1].Message != spend {
		t.Errorf("import --json warnings = %+v", sum.Warnings)
	}

	r = mustRun(t, "sources", "--data", data, "--as-of", "2026-12-01")
	for _, want := range []string{"Money without an exchange rate (2):", strings.TrimPrefix(spend, "warning: "), ", 2 without an exchange rate"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sources text lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "sources", "--data", data, "--as-of", "2026-12-01", "--format", "json")
	var rep scorecard.SourcesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Unrated) != 2 || rep.Unrated[1].Kind != "spend" || rep.Unrated[1].Records != 2 || strings.Join(rep.Unrated[1].MetricNames, ", ") != "Customer acquisition cost, CAC payback" {
		t.Errorf("sources JSON unrated = %+v", rep.Unrated)
	}
	// Before the spend's period begins, no spend exists to convert.
	r = mustRun(t, "sources", "--data", data, "--as-of", "2026-10-31")
	if strings.Contains(r.stdout, "spend: 2 records") || strings.Contains(r.stdout, "Money without") {
		t.Errorf("sources as of October lists money that did not exist then:\n%s", r.stdout)
	}

	// With the rate, the same import and report say nothing of it.
	cfg, data := filepath.Join(dir, "candor.yaml"), filepath.Join(dir, "rated")
	if err := os.WriteFile(cfg, []byte("exchange_rates:\n  EUR: 1.08\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, "import", "--config", cfg, "--data", data, in)
	if strings.Contains(r.stdout, "warning") {
		t.Errorf("import with exchange_rates.EUR warns:\n%s", r.stdout)
	}
	r = mustRun(t, "sources", "--config", cfg, "--data", data, "--as-of", "2026-12-01")
	if strings.Contains(r.stdout, "exchange rate") {
		t.Errorf("sources with exchange_rates.EUR still warns:\n%s", r.stdout)
	}
}
