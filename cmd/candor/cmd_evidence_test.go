package main

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/image"
)

// TestEvidencePack: the pack for the demo data holds every part the issue
// lists, each explained by the index, and a second build of the same
// period over the same ledger head is byte for byte the same. Bad dates
// are refused naming the flag, and write nothing.
func TestEvidencePack(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	gen := filepath.Join(dir, "org.ndjson")
	// The ledger stamps entries with the clock, so the data ends today
	// and the period covers today.
	today := time.Now().UTC().Format(time.DateOnly)
	from := time.Now().UTC().AddDate(0, 0, -90).Format(time.DateOnly)
	mustRun(t, "generate", "--out", gen, "--scale", "0.01", "--end", today)
	mustRun(t, "import", "--data", data, gen)
	mustRun(t, "snapshot", "--data", data, "--as-of", today)

	packs := []string{filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")}
	for _, out := range packs {
		r := mustRun(t, "evidence", "--data", data, "--from", from, "--to", today, "--out", out)
		if !strings.Contains(r.stdout, "intact") || !strings.Contains(r.stdout, "1 KPI snapshot;") || !strings.Contains(r.stdout, "control checks in the period") ||
			!strings.Contains(r.stdout, "vulnerabilities past their SLA at the period's end") {
			t.Errorf("evidence says %q", r.stdout)
		}
		// A --to of today: the period has not ended, said first.
		if !strings.Contains(r.stdout, ": the period has not ended (index.md says what that means); ") || !strings.Contains(r.stdout, "ledger head when built 3:") {
			t.Errorf("evidence to today does not say the period has not ended: %q", r.stdout)
		}
	}
	if idx := string(unzip(t, packs[0])["index.md"]); !strings.Contains(idx, "**The period had not ended when this pack was built.**") ||
		strings.Contains(idx, "Ledger head as of the period's end") {
		t.Errorf("index.md of a pack to today does not say the period had not ended:\n%s", idx)
	}
	a, _ := os.ReadFile(packs[0])
	b, _ := os.ReadFile(packs[1])
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("two packs of the same period differ (%d and %d bytes)", len(a), len(b))
	}

	// A pack ending before the last entry is unchanged by entries
	// appended after its end.
	cut := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(10 * time.Millisecond)
	early := filepath.Join(dir, "early.zip")
	mustRun(t, "evidence", "--data", data, "--from", from, "--to", cut, "--out", early)
	before, _ := os.ReadFile(early)
	mustRun(t, "snapshot", "--data", data, "--as-of", today)
	mustRun(t, "evidence", "--data", data, "--from", from, "--to", cut, "--out", early)
	if after, _ := os.ReadFile(early); !bytes.Equal(before, after) {
		t.Errorf("a pack to %s changed when the ledger grew after it", cut)
	}
	if !strings.Contains(string(unzip(t, early)["release_success_by_tier.json"]), `"value": `) {
		t.Fatalf("the early pack's release success has no value:\n%s", unzip(t, early)["release_success_by_tier.json"])
	}
	// Nor by a setting approved after its end: its release success rates
	// are computed under the settings in force then, as its definitions
	// are (they had been computed under the settings of now).
	ann, bob := cliToken(t, data, "ann", "executive"), cliToken(t, data, "bob", "executive")
	r := runWith(t, ann, false, "catalog", "propose", "--data", data, "--setting", "production_environments", "--value", `["nowhere"]`, "--reason", "test", "--format", "json")
	r.want(t, 0, "catalog propose production_environments")
	var prop struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.stdout), &prop); err != nil {
		t.Fatal(err)
	}
	runWith(t, bob, false, "catalog", "approve", "--data", data, itoa(prop.ID), "--reason", "test").want(t, 0, "catalog approve production_environments")
	mustRun(t, "evidence", "--data", data, "--from", from, "--to", cut, "--out", early)
	if after, _ := os.ReadFile(early); !bytes.Equal(before, after) {
		t.Errorf("a pack to %s changed when a setting was approved after it:\n%s", cut, unzip(t, early)["release_success_by_tier.json"])
	}

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		files[f.Name] = buf.Bytes()
		names = append(names, f.Name)
		if !f.Modified.Equal(time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)) {
			t.Errorf("%s is stamped %v, want the period's end", f.Name, f.Modified)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("entries not sorted: %v", names)
		}
	}
	index := string(files["index.md"])
	// A pack built again after an upgrade differs: it names the build
	// that made it, as candor version does.
	if !strings.Contains(index, "Built by Candor `"+image.Build()+"`.") || !strings.Contains(image.Build(), "buildid=") {
		t.Errorf("index.md does not name the build (%s):\n%.600s", image.Build(), index)
	}
	for _, name := range []string{"definitions.json", "figures.json", "kpi_snapshots.json", "releases.json", "release_success_by_tier.json", "emergency_changes.json", "release_gates.json", "ledger_verification.json", "controls.json", "vulnerabilities_past_sla.json"} {
		if files[name] == nil {
			t.Errorf("the pack has no %s (files %v)", name, names)
		}
		if !strings.Contains(index, "`"+name+"`") {
			t.Errorf("index.md does not explain %s", name)
		}
	}

	var defs struct {
		Settings []struct{ Name string }
		Sum      string `json:"settings_sha256"`
		Metrics  []struct {
			ID, Owner, Signoff, Effective string
			Version                       int
			Citation                      struct {
				Settings string `json:"settings_hash"`
			}
		}
	}
	json.Unmarshal(files["definitions.json"], &defs)
	// A duration is given as the configuration writes it beside the
	// nanoseconds the hash covers.
	var written struct {
		Settings []struct {
			Name    string
			Value   any
			Written any
		}
	}
	json.Unmarshal(files["definitions.json"], &written)
	for _, st := range written.Settings {
		if st.Name == "attribution_window" && (st.Written != "1d" || st.Value != float64(24*time.Hour)) {
			t.Errorf("definitions.json's attribution_window: value %v, written %v; want %d and 1d", st.Value, st.Written, 24*time.Hour)
		}
	}
	if len(defs.Settings) == 0 || len(defs.Sum) != 64 || len(defs.Metrics) < 40 || defs.Metrics[0].Version < 1 || defs.Metrics[0].Owner == "" ||
		defs.Metrics[0].Signoff == "" || defs.Metrics[0].Effective == "" || defs.Metrics[0].Citation.Settings == "" {
		t.Errorf("definitions.json: %.600s", files["definitions.json"])
	}

	var snaps struct {
		Snapshots []struct {
			File    string
			Matches bool `json:"matches_ledger"`
		}
	}
	json.Unmarshal(files["kpi_snapshots.json"], &snaps)
	if len(snaps.Snapshots) != 1 || !snaps.Snapshots[0].Matches || files[snaps.Snapshots[0].File] == nil {
		t.Errorf("kpi_snapshots.json: %.600s (files %v)", files["kpi_snapshots.json"], names)
	}

	var rel struct {
		Population, Failed int
		Releases           []struct {
			Selected      string
			ChangeRequest string `json:"change_request"`
			RolledBack    bool   `json:"rolled_back"`
			Changes       []struct{ ID, Link string }
			Incidents     []struct{ Postmortem, Link string }
		}
	}
	json.Unmarshal(files["releases.json"], &rel)
	var withCR, rolledBack, withIncident, random, withChanges int
	for _, r := range rel.Releases {
		if r.ChangeRequest != "" {
			withCR++
		}
		if len(r.Changes) > 0 && r.Changes[0].Link != "" {
			withChanges++
		}
		if r.RolledBack {
			rolledBack++
		}
		if len(r.Incidents) > 0 && r.Incidents[0].Postmortem != "" && r.Incidents[0].Link != "" {
			withIncident++
		}
		if r.Selected == "random" {
			random++
		}
	}
	if rel.Population <= 25 || random != 25 || len(rel.Releases) != 25+rel.Failed || withCR == 0 || withChanges == 0 || rolledBack == 0 || withIncident == 0 {
		t.Errorf("releases.json: population %d, failed %d, %d sampled (%d random), %d with a change request, %d with changes, %d rolled back, %d with incidents",
			rel.Population, rel.Failed, len(rel.Releases), random, withCR, withChanges, rolledBack, withIncident)
	}

	var tiers struct {
		Organisation struct{ Deployments int }
		Tiers        []struct {
			Tier        string
			Value       *float64
			Deployments int
		}
	}
	json.Unmarshal(files["release_success_by_tier.json"], &tiers)
	if len(tiers.Tiers) < 2 || tiers.Organisation.Deployments != rel.Population || tiers.Tiers[0].Value == nil {
		t.Errorf("release_success_by_tier.json: %s", files["release_success_by_tier.json"])
	}

	var em struct {
		Changes []struct {
			Retro     string `json:"retro_validation"`
			Emergency bool
		}
	}
	json.Unmarshal(files["emergency_changes.json"], &em)
	if len(em.Changes) == 0 || !em.Changes[0].Emergency || em.Changes[0].Retro == "" {
		t.Errorf("emergency_changes.json: %.600s", files["emergency_changes.json"])
	}

	// The security evidence: the demo's checks of the period with their
	// evidence URLs, its failing ISO 27001 control, said in the summary.
	var ctl struct {
		Checked struct {
			Checks []struct {
				Name        string
				EvidenceURL string `json:"evidence_url"`
			}
		} `json:"checked_in_period"`
		Failing struct {
			Frameworks []struct {
				Framework, Status string
				Failing           []struct{ Control string }
			}
		} `json:"failing_at_period_end"`
	}
	json.Unmarshal(files["controls.json"], &ctl)
	isoFailing := false
	for _, f := range ctl.Failing.Frameworks {
		isoFailing = isoFailing || f.Framework == "ISO27001" && f.Status == "failed" && len(f.Failing) > 0 && f.Failing[0].Control == "ISO27001-A.8.8"
	}
	if len(ctl.Checked.Checks) == 0 || ctl.Checked.Checks[0].Name == "" || !strings.HasPrefix(ctl.Checked.Checks[0].EvidenceURL, "https://grc.acme.example/evidence/") || !isoFailing {
		t.Errorf("controls.json: %.1200s", files["controls.json"])
	}
	if !strings.Contains(index, "Security: ") || !strings.Contains(index, "controls failing at the period's end") {
		t.Errorf("index.md does not say what the security files hold:\n%.1500s", index)
	}

	var ver struct {
		Intact  bool
		Head    string
		Entries int64
	}
	json.Unmarshal(files["ledger_verification.json"], &ver)
	// The configuration's initial set (entry 1), the import, the snapshot.
	if !ver.Intact || ver.Entries != 3 || !strings.HasPrefix(ver.Head, "3:") || !strings.Contains(index, ver.Head) {
		t.Errorf("ledger_verification.json: %s", files["ledger_verification.json"])
	}

	for _, c := range []struct{ from, to, flag string }{
		{"2026-13-01", today, "--from"}, {from, "yesterday", "--to"}, {"", today, "--from"}, {today, from, "--to"},
		// More than a day past the clock, as an --as-of that far on.
		{from, time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly), "--to"}, {from, "2030-02-01", "--to"},
	} {
		out := filepath.Join(dir, "bad.zip")
		r := run(t, "evidence", "--data", data, "--from", c.from, "--to", c.to, "--out", out)
		if r.code != 2 || !strings.Contains(r.stderr, c.flag+":") {
			t.Errorf("evidence --from %q --to %q: exit %d, stderr %q; want 2 naming %s", c.from, c.to, r.code, r.stderr, c.flag)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("a refused evidence command wrote %s", out)
		}
	}

	// A period before the store's first entry has nothing to verify, and
	// says so rather than "intact".
	old := filepath.Join(dir, "old.zip")
	r = mustRun(t, "evidence", "--data", data, "--from", "2020-01-01", "--to", "2020-01-31", "--out", old)
	if !strings.Contains(r.stdout, "no ledger entries up to the period's end: nothing to verify") || strings.Contains(r.stdout, "intact") {
		t.Errorf("evidence over an empty ledger says %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "; no control data (") || !strings.Contains(r.stdout, "; no vulnerability data (") {
		t.Errorf("evidence for a period before any record says %q, want no control and no vulnerability data", r.stdout)
	}
	oldFiles := unzip(t, old)
	if !strings.Contains(string(oldFiles["index.md"]), "Verdict: no ledger entries up to the period's end: nothing to verify") {
		t.Errorf("index.md of an empty ledger:\n%s", oldFiles["index.md"])
	}
	var empty struct {
		Status string
		Intact bool
	}
	json.Unmarshal(oldFiles["ledger_verification.json"], &empty)
	if empty.Status != "no entries" || empty.Intact {
		t.Errorf("ledger_verification.json of an empty ledger: %s", oldFiles["ledger_verification.json"])
	}
	// A version dated after the period's end is the one its figures were
	// computed with (no earlier one is kept), and says so; one dated
	// before it does not.
	var oldDefs struct {
		Metrics []struct {
			ID, Effective string
			Note          string `json:"effective_note"`
		}
	}
	json.Unmarshal(oldFiles["definitions.json"], &oldDefs)
	noted := 0
	for _, m := range oldDefs.Metrics {
		after := m.Effective > "2020-02-01"
		if has := strings.Contains(m.Note, "no earlier version is kept: it applies before that date too"); has != after {
			t.Errorf("definitions.json of January 2020: %s effective %s has effective_note %q", m.ID, m.Effective, m.Note)
		}
		if after {
			noted++
		}
	}
	if noted == 0 {
		t.Errorf("no definition of January 2020's pack took effect after it: the test tests nothing")
	}
	if !strings.Contains(string(oldFiles["releases.json"]), `"seed_note": "the ledger held no entry before the period's end`) {
		t.Errorf("releases.json of an empty ledger does not say its seed was known in advance: %.400s", oldFiles["releases.json"])
	}

	// Someone with the database alters a snapshot document: the ledger
	// still verifies, but the pack is not called intact.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER docs_no_update`,
		`UPDATE docs SET body = CAST(body || ' ' AS BLOB) WHERE id = (SELECT min(id) FROM docs WHERE collection = 'kpi_snapshot')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	tampered := filepath.Join(dir, "tampered.zip")
	r = mustRun(t, "evidence", "--data", data, "--from", from, "--to", today, "--out", tampered)
	const says = "NOT INTACT: 1 of 2 KPI snapshots no longer match their ledger entry"
	if !strings.Contains(r.stdout, says) || strings.HasSuffix(strings.TrimSpace(r.stdout), "intact") {
		t.Errorf("evidence with a tampered snapshot says %q", r.stdout)
	}
	if idx := string(unzip(t, tampered)["index.md"]); !strings.Contains(idx, says) {
		t.Errorf("index.md with a tampered snapshot:\n%s", idx)
	}

	// A record's body altered in the database, its stored hash left: the
	// ledger verifies, but the pack checks the records as `candor ledger
	// verify` does, and names the altered one.
	var id string
	if err := db.QueryRow(`SELECT id FROM records WHERE kind = 'deployment' AND CAST(body AS TEXT) LIKE '%"success"%' ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '"success"', '"failure"') AS BLOB) WHERE kind = 'deployment' AND id = ?`, id); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, "evidence", "--data", data, "--from", from, "--to", today, "--out", tampered)
	altered := "records no longer match the hash stored with them: deployment "
	if !strings.Contains(r.stdout, "NOT INTACT: 1 of ") || !strings.Contains(r.stdout, altered) || !strings.Contains(r.stdout, id) {
		t.Errorf("evidence with an altered record says %q", r.stdout)
	}
	tf := unzip(t, tampered)
	if idx := string(tf["index.md"]); !strings.Contains(idx, altered) || !strings.Contains(idx, "the records stored before the period's end, each read as it is stored when the pack is built") {
		t.Errorf("index.md with an altered record:\n%s", idx)
	}
	var lv struct {
		Status  string
		Intact  bool
		Records struct {
			Checked, Altered int64
			First            []struct{ Kind, Source, ID string }
		}
	}
	if err := json.Unmarshal(tf["ledger_verification.json"], &lv); err != nil {
		t.Fatal(err)
	}
	if lv.Status != "records altered" || lv.Intact || lv.Records.Altered != 1 || lv.Records.Checked < 2 || len(lv.Records.First) != 1 || lv.Records.First[0].ID != id {
		t.Errorf("ledger_verification.json with an altered record: %s", tf["ledger_verification.json"])
	}
}

// unzip reads a pack's files.
func unzip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// TestEvidencePackGovernance: the definitions part lists the versions in
// force over the period with the proposal and approvals behind each, its
// metrics are the definitions in force at the period's end (not the
// built-in ones), and a proposal made — or approved — after the period's
// end leaves the pack unchanged.
func TestEvidencePackGovernance(t *testing.T) {
	data := smallStore(t)
	d := []string{"--data", data}
	ann := cliToken(t, data, "ann", "executive")
	bob := cliToken(t, data, "bob", "executive")
	r := runWith(t, ann, false, append([]string{"catalog", "propose", "--metric", "mttr", "--changes", `{"owner": "Reliability Lead"}`, "--reason", "SRE owns recovery", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose")
	var v struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == 0 {
		t.Fatalf("proposal: %s (%v)", r.stdout, err)
	}
	runWith(t, bob, false, append([]string{"catalog", "approve", itoa(v.ID), "--reason", "agreed"}, d...)...).want(t, 0, "catalog approve")
	time.Sleep(10 * time.Millisecond)
	cut := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(10 * time.Millisecond)

	from := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	pack := filepath.Join(t.TempDir(), "pack.zip")
	read := func() (raw []byte, doc struct {
		Metrics []struct {
			ID, Owner string
			Version   int
		}
		Governed struct {
			Initial *struct {
				Initial any `json:"initial"`
			} `json:"initial_set"`
			Versions []struct {
				Metric     string
				Version    int
				Proposal   int64
				Approvals  []struct{ By, Reason string }
				Thresholds map[string]any
			}
			Proposals []struct {
				ID     int64
				Status string
			}
			Sections []struct {
				Section string
				Version int
			}
		}
	}) {
		t.Helper()
		mustRun(t, append([]string{"evidence", "--from", from, "--to", cut, "--out", pack}, d...)...)
		raw, _ = os.ReadFile(pack)
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open("definitions.json")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := json.NewDecoder(f).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return raw, doc
	}
	before, doc := read()
	g := doc.Governed
	var mttr []int
	for _, ver := range g.Versions {
		if ver.Metric != "mttr" {
			continue
		}
		mttr = append(mttr, ver.Version)
		if _, ok := ver.Thresholds["green"]; !ok {
			t.Errorf("mttr version %d's thresholds %v: want the JSON names green, amber", ver.Version, ver.Thresholds)
		}
		if ver.Version == 2 && (ver.Proposal != v.ID || len(ver.Approvals) != 1 || ver.Approvals[0].By != "user:bob@example.com" || ver.Approvals[0].Reason != "agreed") {
			t.Errorf("mttr version 2 in the pack: %+v", ver)
		}
	}
	if len(mttr) != 2 || mttr[0] != 1 || mttr[1] != 2 {
		t.Errorf("mttr versions in force over the period: %v, want [1 2]", mttr)
	}
	for _, m := range doc.Metrics {
		if m.ID == "mttr" && (m.Version != 2 || m.Owner != "Reliability Lead") {
			t.Errorf("metrics[mttr] in the pack: version %d, owner %q; want version 2 (in force at the period's end), Reliability Lead", m.Version, m.Owner)
		}
	}
	if g.Initial == nil || g.Initial.Initial == nil || len(g.Proposals) != 1 || g.Proposals[0].Status != "approved" {
		t.Errorf("initial set %v, proposals %+v", g.Initial, g.Proposals)
	}
	// The governed configuration sections are there too, each with the
	// value recorded at first start.
	var secs []string
	for _, sv := range g.Sections {
		secs = append(secs, fmt.Sprintf("%s v%d", sv.Section, sv.Version))
	}
	if got := strings.Join(secs, ", "); got != "custom_metrics v1, alerts.rules v1, gates v1, views v1" {
		t.Errorf("sections in force over the period: %s", got)
	}
	// A proposal after the period's end is not the period's.
	r = runWith(t, ann, false, append([]string{"catalog", "propose", "--metric", "mttr", "--changes", `{"owner": "Someone Else"}`, "--reason", "later", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose (later)")
	if after, _ := read(); !bytes.Equal(before, after) {
		t.Error("a proposal made after the period's end changed its pack")
	}
	var later struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.stdout), &later); err != nil || later.ID == 0 {
		t.Fatalf("later proposal: %s (%v)", r.stdout, err)
	}
	runWith(t, bob, false, append([]string{"catalog", "approve", itoa(later.ID), "--reason", "agreed later"}, d...)...).want(t, 0, "catalog approve (later)")
	if after, _ := read(); !bytes.Equal(before, after) {
		t.Error("an approval after the period's end changed its pack")
	}
}

// TestEvidencePackGovernanceTampered: a proposal's value and an approval's
// author rewritten in the database, and a decision inserted there, leave
// the ledger verifying (it checks its entries, not the documents), but the
// pack compares each proposal and decision with the entry that chained it
// and is not called intact, naming each. The review of 2026-12-07 changed
// an approved gross margin and the approver's name in a copy of the demo:
// the pack said "intact" and showed the approval voided as the proposer's
// own, the setting back at its default.
func TestEvidencePackGovernanceTampered(t *testing.T) {
	data := smallStore(t)
	d := []string{"--data", data}
	ann := cliToken(t, data, "ann", "executive")
	bob := cliToken(t, data, "bob", "executive")
	r := runWith(t, ann, false, append([]string{"catalog", "propose", "--setting", "gross_margin", "--value", "0.72", "--reason", "plan", "--format", "json"}, d...)...)
	r.want(t, 0, "catalog propose")
	var v struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == 0 {
		t.Fatalf("proposal: %s (%v)", r.stdout, err)
	}
	runWith(t, bob, false, append([]string{"catalog", "approve", itoa(v.ID), "--reason", "agreed"}, d...)...).want(t, 0, "catalog approve")

	from := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	today := time.Now().UTC().Format(time.DateOnly)
	pack := filepath.Join(t.TempDir(), "pack.zip")
	build := func() string {
		t.Helper()
		return mustRun(t, append([]string{"evidence", "--from", from, "--to", today, "--out", pack}, d...)...).stdout
	}
	if out := build(); !strings.HasSuffix(strings.TrimSpace(out), ", intact") {
		t.Fatalf("the untouched pack says %q, want intact", out)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER docs_no_update`,
		`UPDATE docs SET body = CAST(replace(CAST(body AS TEXT), '0.72', '0.5') AS BLOB) WHERE collection = 'proposal' AND id = ` + itoa(v.ID),
		`UPDATE docs SET body = CAST(replace(CAST(body AS TEXT), 'bob@', 'ann@') AS BLOB) WHERE collection = 'decision'`,
		fmt.Sprintf(`INSERT INTO docs (collection, created_at, body) VALUES ('decision', %d, CAST('{"proposal":1,"decision":"approve","reason":"x","by":"user:eve@example.com","at":"2026-01-01T00:00:00Z"}' AS BLOB))`,
			time.Now().Add(-time.Minute).UnixNano()),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// The entries are untouched, but `ledger verify` compares the
	// documents with them too, and names each.
	lv := run(t, append([]string{"ledger", "verify"}, d...)...)
	for _, want := range []string{"ledger intact: ", "documents ALTERED: 3 of ", "proposal " + itoa(v.ID) + " (value): its fields differ from those its ledger entry chains",
		"(by): its fields differ", ": no ledger entry chains it, nor any document after it: written to the database behind Candor's back, or its entry was cut"} {
		if lv.code != 1 || !strings.Contains(lv.stdout, want) {
			t.Errorf("ledger verify of the tampered store: exit %d, stdout %q; want 1 and %q", lv.code, lv.stdout, want)
		}
	}
	lj := run(t, append([]string{"ledger", "verify", "--json"}, d...)...)
	var vj struct {
		Intact       bool
		LedgerIntact bool `json:"ledger_intact"`
		Documents    struct{ Checked, Altered int64 }
	}
	if err := json.Unmarshal([]byte(lj.stdout), &vj); err != nil || lj.code != 1 || vj.Intact || !vj.LedgerIntact || vj.Documents.Altered != 3 || vj.Documents.Checked < 4 {
		t.Errorf("ledger verify --json of the tampered store: exit %d, %s (%v)", lj.code, lj.stdout, err)
	}
	out := build()
	for _, want := range []string{"NOT INTACT: 3 of ", "proposals and decisions no longer match their ledger entry: ",
		"proposal " + itoa(v.ID) + " (value)", "(by)", "(see definitions.json, governed.ledger_check)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the tampered pack says %q; want %q in it", out, want)
		}
	}
	files := unzip(t, pack)
	if idx := string(files["index.md"]); !strings.Contains(idx, "Verdict: ledger verifies; NOT INTACT: 3 of ") || !strings.Contains(idx, "each compared with the ledger entry that chained it (governed.ledger_check") {
		t.Errorf("index.md of the tampered pack:\n%.1500s", idx)
	}
	var doc struct {
		Governed struct {
			Check struct {
				Checked, Altered int
				First            []struct {
					Collection, Reason string
					Fields             []string
				}
			} `json:"ledger_check"`
		}
	}
	if err := json.Unmarshal(files["definitions.json"], &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Governed.Check
	if c.Altered != 3 || len(c.First) != 3 || !strings.Contains(c.First[2].Reason, "no ledger entry chains it") {
		t.Errorf("governed.ledger_check: %+v", c)
	}
}

// An --out naming another kind of file than the pack, or a directory that
// does not exist, is refused naming --out before anything is built or
// archived: an evidence pack had been written to pack.pdf and a board pack
// to pack.zip as asked, and a missing directory had been found once the
// evidence pack was built, exit 1, without the flag's name.
func TestPackOutNamesItsKind(t *testing.T) {
	data := smallStore(t)
	dir := t.TempDir()
	from := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	today := time.Now().UTC().Format(time.DateOnly)
	month := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	before := run(t, "report", "list", "--data", data).stdout
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"evidence", "--from", from, "--to", today, "--out", filepath.Join(dir, "pack.pdf")}, "an evidence pack is a zip archive: name it FILE.zip"},
		{[]string{"evidence", "--from", from, "--to", today, "--out", filepath.Join(dir, "none", "pack.zip")}, "no such file or directory"},
		{[]string{"report", "board", "--month", month, "--out", filepath.Join(dir, "board.zip")}, "the board pack is a PDF: name it FILE.pdf"},
	} {
		r := run(t, append(c.args, "--data", data)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--out "+c.args[len(c.args)-1]+": "+c.says) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and --out …: %s", c.args, r.code, r.stderr, c.says)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused commands left %v", entries)
	}
	if after := run(t, "report", "list", "--data", data).stdout; after != before {
		t.Errorf("a refused board pack was archived:\n%s", after)
	}
	// A name without an extension, and one in capitals, are taken.
	mustRun(t, "evidence", "--from", from, "--to", today, "--out", filepath.Join(dir, "PACK.ZIP"), "--data", data)
	mustRun(t, "evidence", "--from", from, "--to", today, "--out", filepath.Join(dir, "pack"), "--data", data)
}

// metricFigure is what a metric's drill-down (`candor metric --format
// json`, GET /api/v1/metrics/{id}) says of its value.
type metricFigure struct {
	Metric struct {
		Value *float64
		Count int
		Cites struct {
			Settings string `json:"settings_hash"`
		}
	}
	Total int `json:"records_total"`
}

// TestEvidencePackFiguresRederive: a pack's figures.json states each
// metric's value over the period, and what its rederive hint names gives
// it again — `candor metric … --format json` and the API request, each with
// the records behind it —, as `candor scorecard --as-of TO --window LEN`
// gives it; the API's pack, for an auditor, is the CLI's byte for byte. A
// pack had stated no figure of its period (F8 of the packs review).
func TestEvidencePackFiguresRederive(t *testing.T) {
	data := smallStore(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "q1.zip")
	r := mustRun(t, "evidence", "--data", data, "--from", "2026-01-01", "--to", "2026-03-31", "--out", out)
	files := unzip(t, out)
	var figs struct {
		AsOf    string `json:"as_of"`
		Window  string
		Metrics []struct {
			ID, Status, Reason string
			Value              *float64
			Count              int
			Cites              *struct {
				Settings string `json:"settings_hash"`
			}
			Rederive struct{ CLI, API string }
		}
	}
	if err := json.Unmarshal(files["figures.json"], &figs); err != nil {
		t.Fatalf("figures.json: %v (evidence said %q)", err, r.stdout)
	}
	if figs.AsOf != "2026-04-01T00:00:00Z" || figs.Window != "90d" || len(figs.Metrics) < 40 {
		t.Fatalf("figures.json: as_of %s, window %s, %d metrics", figs.AsOf, figs.Window, len(figs.Metrics))
	}
	if !strings.Contains(string(files["index.md"]), "- `figures.json`: ") {
		t.Errorf("index.md does not explain figures.json:\n%s", files["index.md"])
	}
	cards := map[string]string{}
	for _, p := range parseScorecard(t, mustRun(t, "scorecard", "--data", data, "--as-of", "2026-04-01", "--window", "90d", "--closing", "--format", "json").stdout).Pillars {
		for _, m := range p.Metrics {
			v := "none"
			if m.Value != nil {
				v = fmt.Sprint(*m.Value)
			}
			cards[m.ID] = v + " " + m.Status
		}
	}
	var cfr string
	for _, f := range figs.Metrics {
		v := "none"
		if f.Value != nil {
			v = fmt.Sprint(*f.Value)
		}
		if cards[f.ID] != v+" "+f.Status {
			t.Errorf("%s: %s in figures.json, %q on the scorecard", f.ID, v+" "+f.Status, cards[f.ID])
		}
		if f.Status == "unknown" && f.Reason == "" {
			t.Errorf("%s: unknown without a reason", f.ID)
		}
		if f.ID == "change_failure_rate" {
			if f.Value == nil || f.Cites == nil || f.Count == 0 {
				t.Fatalf("change_failure_rate in figures.json: %+v", f)
			}
			cfr = fmt.Sprint(*f.Value, f.Count, f.Cites.Settings)
			// The command it names gives the value, its citation and the
			// records behind it.
			args := strings.Fields(f.Rederive.CLI)
			if args[0] != "candor" {
				t.Fatalf("rederive cli: %q", f.Rederive.CLI)
			}
			var d metricFigure
			if err := json.Unmarshal([]byte(mustRun(t, append(args[1:], "--data", data)...).stdout), &d); err != nil {
				t.Fatal(err)
			}
			if d.Metric.Value == nil || fmt.Sprint(*d.Metric.Value, d.Metric.Count, d.Metric.Cites.Settings) != cfr || d.Total != f.Count {
				t.Errorf("%s gives %v over %d (%d records), cites %s; figures.json %s", f.Rederive.CLI, d.Metric.Value, d.Metric.Count, d.Total, d.Metric.Cites.Settings, cfr)
			}
		}
	}
	if cfr == "" {
		t.Fatalf("figures.json has no change_failure_rate")
	}

	p, url, token := serveWithToken(t, data, "auditor")
	code, body := get(t, url+"/api/v1/evidence?from=2026-01-01&to=2026-03-31", token)
	if cli, _ := os.ReadFile(out); code != 200 || !bytes.Equal(body, cli) {
		t.Errorf("GET /api/v1/evidence = %d, %d bytes; the CLI's pack %d bytes, equal %v", code, len(body), len(cli), bytes.Equal(body, cli))
	}
	for _, f := range figs.Metrics {
		if f.ID != "change_failure_rate" {
			continue
		}
		code, body := get(t, url+f.Rederive.API, token)
		var d metricFigure
		json.Unmarshal(body, &d)
		if code != 200 || d.Metric.Value == nil || fmt.Sprint(*d.Metric.Value, d.Metric.Count, d.Metric.Cites.Settings) != cfr {
			t.Errorf("GET %s = %d, %v over %d; figures.json %s", f.Rederive.API, code, d.Metric.Value, d.Metric.Count, cfr)
		}
	}
	p.stop(t)
}
