package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An evidence pack of an ended period counts the records stored after
// its end though dated in or before it — which its figures read, and the
// period's end did not have — says so in index.md, and checks their
// bodies: a backdated import had changed the figures while index.md stayed
// byte for byte the same, and the records check covered none of them.
func TestEvidencePackCountsLateRecords(t *testing.T) {
	data := smallStore(t) // dated March 2026, stored now
	dir := t.TempDir()
	pack := filepath.Join(dir, "q1.zip")
	build := func() (string, string, struct{ Count, Altered int64 }) {
		t.Helper()
		out := mustRun(t, "evidence", "--data", data, "--from", "2026-01-01", "--to", "2026-03-31", "--out", pack).stdout
		files := unzip(t, pack)
		var lv struct {
			Late struct{ Count, Altered int64 } `json:"late_records"`
		}
		if err := json.Unmarshal(files["ledger_verification.json"], &lv); err != nil {
			t.Fatal(err)
		}
		return out, string(files["index.md"]), lv.Late
	}
	_, idx, late := build()
	if late.Count == 0 || late.Altered != 0 || !strings.Contains(idx, "records were stored after the period's end") {
		t.Fatalf("a store imported after the period: late_records %+v\n%s", late, idx)
	}
	// One more, dated in the period, stored now: counted, and index.md
	// differs.
	file := filepath.Join(dir, "late.ndjson")
	os.WriteFile(file, []byte(`{"kind":"deployment","id":"late-1","source":"late","service":"api","environment":"production","finished_at":"2026-03-15T10:00:00Z","status":"failure"}`+"\n"), 0o644)
	mustRun(t, "import", "--data", data, file)
	_, idx2, late2 := build()
	if late2.Count != late.Count+1 || idx2 == idx {
		t.Errorf("a backdated record imported: late_records %d → %d, index.md changed %v", late.Count, late2.Count, idx2 != idx)
	}
	// One dated after the period: not counted.
	os.WriteFile(file, []byte(`{"kind":"deployment","id":"later-1","source":"late","service":"api","environment":"production","finished_at":"2026-05-15T10:00:00Z","status":"success"}`+"\n"), 0o644)
	mustRun(t, "import", "--data", data, file)
	if _, _, late3 := build(); late3.Count != late2.Count {
		t.Errorf("a record dated after the period counted as late: %d → %d", late2.Count, late3.Count)
	}
	// A late record's body altered in the database: NOT INTACT, naming it.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '"failure"', '"success"') AS BLOB) WHERE kind = 'deployment' AND id = 'late-1'`); err != nil {
		t.Fatal(err)
	}
	out, idx4, late4 := build()
	const says = "records stored after the period's end no longer match the hash stored with them: deployment late late-1"
	if late4.Altered != 1 || !strings.Contains(out, "NOT INTACT: 1 of the ") || !strings.Contains(out, says) || !strings.Contains(idx4, says) {
		t.Errorf("a late record altered: late_records %+v, evidence says %q", late4, out)
	}
}
