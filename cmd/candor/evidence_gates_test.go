package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An evidence pack compares the release gate decisions, approvals and
// watch outcomes its release_gates.json reads with the ledger entries that
// chained them, as candor ledger verify does: a decision's version
// rewritten in the database had left the pack "intact".
func TestEvidencePackGatesTampered(t *testing.T) {
	data := smallStore(t)
	d := []string{"--data", data}
	r := run(t, append([]string{"gate", "check", "--service", "checkout", "--environment", "production", "--version", "1.0.0", "--fact", "coverage=0.9", "--format", "json"}, d...)...)
	var decision struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.stdout), &decision); err != nil || decision.ID == 0 {
		t.Fatalf("gate check: %d %s %s (%v)", r.code, r.stdout, r.stderr, err)
	}
	from := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	today := time.Now().UTC().Format(time.DateOnly)
	pack := filepath.Join(t.TempDir(), "pack.zip")
	build := func() (string, map[string][]byte) {
		t.Helper()
		out := mustRun(t, append([]string{"evidence", "--from", from, "--to", today, "--out", pack}, d...)...).stdout
		return out, unzip(t, pack)
	}
	out, files := build()
	if !strings.HasSuffix(strings.TrimSpace(out), ", intact") {
		t.Fatalf("the untouched pack says %q, want intact", out)
	}
	var gates struct {
		Decisions   []json.RawMessage
		LedgerCheck struct{ Checked, Altered int } `json:"ledger_check"`
	}
	if err := json.Unmarshal(files["release_gates.json"], &gates); err != nil || len(gates.Decisions) != 1 || gates.LedgerCheck.Checked == 0 || gates.LedgerCheck.Altered != 0 {
		t.Fatalf("release_gates.json of the untouched store: %d decisions, ledger_check %+v (%v)", len(gates.Decisions), gates.LedgerCheck, err)
	}

	rewriteDoc(t, data, decision.ID, `"version":"1.0.0"`, `"version":"1.0.1"`)
	out, files = build()
	want := fmt.Sprintf("NOT INTACT: 1 of %d release gate decisions, approvals and watch outcomes no longer match their ledger entry: gate_decision %d", gates.LedgerCheck.Checked, decision.ID)
	if !strings.Contains(out, want) {
		t.Errorf("the pack of the tampered store says %q, want %q", out, want)
	}
	if err := json.Unmarshal(files["release_gates.json"], &gates); err != nil || gates.LedgerCheck.Altered != 1 {
		t.Errorf("release_gates.json of the tampered store: ledger_check %+v (%v)", gates.LedgerCheck, err)
	}
	// Checked in the same scan as the governance documents
	// (ledger.VerifyDocsGroups), the decision counts against the gates'
	// check alone.
	var defs struct {
		Governed struct {
			LedgerCheck struct{ Altered int } `json:"ledger_check"`
		}
	}
	if err := json.Unmarshal(files["definitions.json"], &defs); err != nil || defs.Governed.LedgerCheck.Altered != 0 {
		t.Errorf("definitions.json's governed ledger_check counts the gate decision: %+v (%v)", defs.Governed.LedgerCheck, err)
	}
	if !strings.Contains(string(files["index.md"]), want) {
		t.Errorf("index.md does not say it:\n%s", files["index.md"])
	}
}

// rewriteDoc replaces old with new in the body of document id of the
// store at data, directly in the database (as someone holding the
// database would; the append-only trigger lets a body be rewritten once,
// as retention's redaction is).
func rewriteDoc(t *testing.T, data string, id int64, old, new string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE docs SET body = CAST(replace(CAST(body AS TEXT), ?, ?) AS BLOB), redacted = 1 WHERE id = ?`, old, new, id); err != nil {
		t.Fatal(err)
	}
}
