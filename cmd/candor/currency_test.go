package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCurrencyInForceLabelsMoney: once approved proposals change the
// organisation currency, the CLI labels money in it and a record without
// a currency is given it, though the store is read with the configuration
// as at first start (accepted: what approvals changed need not be in the
// file). The file's currency had labelled values computed in the new one
// ("50.00 USD" for what was 50 euros) and filled records' missing
// currency with the old one.
func TestCurrencyInForceLabelsMoney(t *testing.T) {
	dir := t.TempDir()
	write := writerIn(t, dir)
	data := filepath.Join(dir, "data")
	c := []string{"--data", data, "--config", write("candor.yaml", "currency: USD\n")}
	mustRun(t, append([]string{"import", write("subs.ndjson",
		`{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-11-02T00:00:00Z","mrr":100,"currency":"USD"}`+"\n")}, c...)...)
	const asOf = "2026-11-20T00:00:00Z"
	metric := func() string {
		t.Helper()
		return mustRun(t, append([]string{"metric", "mrr", "--as-of", asOf}, c...)...).stdout
	}
	if out := metric(); !strings.Contains(out, ": 100 USD") {
		t.Fatalf("before any proposal:\n%s", out)
	}

	ann := personToken(t, "ann", []string{"executive"}, c...)
	bob := personToken(t, "bob", []string{"executive"}, c...)
	approved(t, ann, bob, c, "--setting", "exchange_rates", "--value", `{"USD": 0.5}`)
	approved(t, ann, bob, c, "--setting", "currency", "--value", `"EUR"`)

	now := func() string {
		t.Helper()
		return mustRun(t, append([]string{"metric", "mrr"}, c...)...).stdout
	}
	if out := now(); !strings.Contains(out, "As of ") || !strings.Contains(out, ": 50 EUR") {
		t.Fatalf("after the currency's approval, the value is 50 euros and labelled so:\n%s", out)
	}
	// As of a time before the approval the value is computed in dollars,
	// and labelled so.
	if out := metric(); !strings.Contains(out, ": 100 USD") {
		t.Fatalf("as of before the approval:\n%s", out)
	}
	// A record without a currency is in the currency in force at its own
	// time: one started before the approval in dollars (10 USD, 5 EUR),
	// one started after it in euros (20 EUR) — and the same file imported
	// again changes nothing.
	later := time.Now().UTC().Add(2 * time.Second).Format(time.RFC3339)
	more := write("more.ndjson", `{"kind":"subscription","id":"s2","customer":"globex","started_at":"2026-11-03T00:00:00Z","mrr":10}`+"\n"+
		`{"kind":"subscription","id":"s3","customer":"initech","started_at":"`+later+`","mrr":20}`+"\n")
	mustRun(t, append([]string{"import", more}, c...)...)
	at := []string{"--as-of", time.Now().UTC().Add(time.Minute).Format(time.RFC3339)}
	if out := mustRun(t, append(append([]string{"metric", "mrr"}, at...), c...)...).stdout; !strings.Contains(out, ": 75 EUR") {
		t.Fatalf("subscriptions without a currency, one started before the approval and one after:\n%s", out)
	}
	again := mustRun(t, append([]string{"import", "--json", more}, c...)...).stdout
	if !strings.Contains(again, `"unchanged":2`) && !strings.Contains(again, `"unchanged": 2`) {
		t.Errorf("the same file imported again:\n%s", again)
	}
}
