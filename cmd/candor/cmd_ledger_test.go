package main

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// TestLedgerCommands: what the command line does is chained (an import, a
// user added, a snapshot), candor ledger head prints what to publish, and
// candor ledger verify exits 0 while the ledger is intact and 1 naming the
// first broken entry once a row is changed behind Candor's back, or, given
// the published head, once entries are cut from the end.
func TestLedgerCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, []byte(`{"kind":"service","id":"api","name":"API"}`+"\n"+`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`+"\n"), 0o644)
	d := []string{"--data", data}
	with := func(args ...string) []string { return append(args, d...) }

	runWith(t, "", false, with("import", in)...).want(t, 0, "import")
	if fi, err := os.Stat(filepath.Join(data, "ledger.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the embedded store's ledger key: %v", err)
	}
	runWith(t, "", false, with("user", "add", "--email", "a@example.com", "--role", "auditor", "--generate-password")...).want(t, 0, "user add")
	r := runWith(t, "", false, with("snapshot", "--as-of", "2026-03-02")...)
	r.want(t, 0, "snapshot")
	if !strings.Contains(r.stdout, "KPI snapshot as of 2026-03-02T00:00:00Z stored") {
		t.Errorf("snapshot says %q", r.stdout)
	}

	r = runWith(t, "", false, with("ledger", "head")...)
	r.want(t, 0, "ledger head")
	head := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^4:[0-9a-f]{64}$`).MatchString(head) {
		t.Fatalf("ledger head printed %q, want 4:HASH (the initial definitions, import, user, snapshot)", head)
	}
	r = runWith(t, "", false, with("ledger", "verify", "--head", head)...)
	r.want(t, 0, "ledger verify")
	if !strings.Contains(r.stdout, "ledger intact: 4 entries, head "+head) {
		t.Errorf("verify says %q", r.stdout)
	}
	r = runWith(t, "", false, with("ledger", "verify", "--json")...)
	var rep struct {
		ledger.Report
		Intact bool `json:"intact"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Entries != 4 || rep.Broken != nil || !rep.Intact {
		t.Errorf("verify --json = %s (%v)", r.stdout, err)
	}
	// The head as `ledger head` prints it and evidence packs write it, and
	// whether the ledger is intact, said rather than left to infer.
	var raw map[string]any
	json.Unmarshal([]byte(r.stdout), &raw)
	if raw["head"] != head || raw["intact"] != true {
		t.Errorf("verify --json: head %v, intact %v; want %q, true", raw["head"], raw["intact"], head)
	}

	// The first entry is the configuration's initial definitions, recorded
	// when the store was made; the second the import: its counts and
	// content hash.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var typ, body, personal string
	if err := db.QueryRow(`SELECT type, data, personal FROM ledger WHERE seq = 2`).Scan(&typ, &body, &personal); err != nil {
		t.Fatal(err)
	}
	var imp struct {
		Origin  string
		Sources []string
		Records int64
		Kinds   map[string]struct{ Records, Inserted int64 }
		Content string `json:"content_sha256"`
	}
	json.Unmarshal([]byte(body), &imp)
	if typ != ledger.TypeRecords || imp.Origin != "import" || imp.Records != 2 || imp.Kinds["deployment"].Inserted != 1 ||
		len(imp.Content) != 64 || len(imp.Sources) != 1 || personal != `{"by":["cli:tester"]}` {
		t.Errorf("import entry: %s %s personal %s", typ, body, personal)
	}

	// A public key alone verifies; another key does not.
	other := filepath.Join(dir, "other.key")
	r = runWith(t, "", false, "ledger", "keygen", "--out", other)
	r.want(t, 0, "ledger keygen")
	pub := regexp.MustCompile(`public key (\S+) `).FindStringSubmatch(r.stderr)
	if pub == nil {
		t.Fatalf("keygen printed no public key: %q", r.stderr)
	}
	r = runWith(t, "", false, with("ledger", "verify", "--public-key", pub[1])...)
	r.want(t, 1, "ledger verify --public-key (another key)")
	if !strings.Contains(r.stdout, "BROKEN at entry 1") || !strings.Contains(r.stdout, "not a trusted ledger key") {
		t.Errorf("verify with another key says %q", r.stdout)
	}

	// Someone with the database file drops the triggers and edits a row.
	mustExec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(`DROP TRIGGER ledger_no_update`)
	mustExec(`DROP TRIGGER ledger_no_delete`)
	mustExec(`UPDATE ledger SET data = replace(data, '"records":2', '"records":20') WHERE seq = 2`)
	r = runWith(t, "", false, with("ledger", "verify")...)
	r.want(t, 1, "ledger verify (altered)")
	if !strings.Contains(r.stdout, "BROKEN at entry 2: altered") {
		t.Errorf("verify of an altered ledger says %q", r.stdout)
	}
	r = runWith(t, "", false, with("ledger", "verify", "--json")...)
	r.want(t, 1, "ledger verify --json (altered)")
	if !strings.Contains(r.stdout, `"intact": false`) || !strings.Contains(r.stdout, `"seq": 2`) {
		t.Errorf("verify --json of an altered ledger = %s", r.stdout)
	}
	mustExec(`UPDATE ledger SET data = replace(data, '"records":20', '"records":2') WHERE seq = 2`)
	runWith(t, "", false, with("ledger", "verify")...).want(t, 0, "ledger verify (restored)")
	mustExec(`DELETE FROM ledger WHERE seq = 4`)
	// Without the head, the ledger itself verifies; the snapshot its cut
	// entry chained is still stored, and is named.
	r = runWith(t, "", false, with("ledger", "verify")...)
	r.want(t, 1, "ledger verify (tail cut, no head)")
	if !strings.Contains(r.stdout, "ledger intact: 3 entries") || !strings.Contains(r.stdout, "kpi_snapshot 3: "+ledger.DocNotChainedEnd) {
		t.Errorf("verify of a cut ledger without its head says %q", r.stdout)
	}
	r = runWith(t, "", false, with("ledger", "verify", "--head", head)...)
	r.want(t, 1, "ledger verify --head (tail cut)")
	if !strings.Contains(r.stdout, "BROKEN at entry 4: missing") {
		t.Errorf("verify --head of a cut ledger says %q", r.stdout)
	}
	// Appended to again: every entry verifies by itself, and only the
	// published head shows that entry 4 is another one; nothing claims
	// "4 entries before" entry 4.
	runWith(t, "", false, with("snapshot", "--as-of", "2026-03-03")...).want(t, 0, "snapshot (after the cut)")
	r = runWith(t, "", false, with("ledger", "verify", "--head", head)...)
	r.want(t, 1, "ledger verify --head (cut and appended to)")
	if !strings.Contains(r.stdout, "BROKEN at entry 4: differs from the published head: entry 4 no longer has the published hash, so the ledger was rewritten at or before entry 4") ||
		!strings.Contains(r.stdout, "each of the 4 entries verifies by itself") || strings.Contains(r.stdout, "before it verify") {
		t.Errorf("verify --head of a ledger cut and appended to says %q", r.stdout)
	}

	// A record's body edited in the database, its hash left: the ledger
	// itself is intact, the record is named.
	r = runWith(t, "", false, with("ledger", "verify")...)
	if !strings.Contains(r.stdout, "records intact: 2,") {
		t.Errorf("verify before the edit says %q", r.stdout)
	}
	mustExec(`UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '"success"', '"failure"') AS BLOB) WHERE kind = 'deployment'`)
	r = runWith(t, "", false, with("ledger", "verify")...)
	r.want(t, 1, "ledger verify (a record's body edited)")
	if !strings.Contains(r.stdout, "ledger intact") || !strings.Contains(r.stdout, "records ALTERED: 1 of 2") || !strings.Contains(r.stdout, "deployment import d1") {
		t.Errorf("verify after a record's body was edited says %q", r.stdout)
	}
	r = runWith(t, "", false, with("record", "deployment", "import", "d1")...)
	r.want(t, 0, "record (its body edited)")
	if !strings.Contains(r.stdout, "no longer matches it") {
		t.Errorf("candor record of an edited record says %q", r.stdout)
	}
	r = runWith(t, "", false, with("ledger", "verify", "--json")...)
	var out struct {
		Intact       bool                 `json:"intact"`
		LedgerIntact bool                 `json:"ledger_intact"`
		Records      ledger.RecordsReport `json:"records"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Intact || !out.LedgerIntact || out.Records.Altered != 1 || len(out.Records.First) != 1 || out.Records.First[0].ID != "d1" {
		t.Errorf("verify --json after the edit = %s (%v)", r.stdout, err)
	}
}

// A writing command with a signing key that did not sign the ledger's last
// entry, the one that did not in ledger.trusted_keys, is refused before it
// writes (its entries would leave the ledger failing verification for
// good); with the old key's public half trusted it is a rotation and
// runs. candor ledger verify still reads such a ledger.
// ledger verify --head says it found the published head: an auditor
// comparing an evidence pack's head with the ledger saw the same lines as
// without --head and could not tell that it had been checked.
func TestLedgerVerifySaysThePublishedHeadWasFound(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, []byte(`{"kind":"service","id":"api","name":"API"}`+"\n"), 0o644)
	d := []string{"--data", filepath.Join(dir, "data")}
	with := func(args ...string) []string { return append(args, d...) }
	runWith(t, "", false, with("import", in)...).want(t, 0, "import")
	r := runWith(t, "", false, with("ledger", "head")...)
	r.want(t, 0, "ledger head")
	head := strings.TrimSpace(r.stdout) // 2:HASH
	runWith(t, "", false, with("snapshot", "--as-of", "2026-03-02")...).want(t, 0, "snapshot")
	hash := head[strings.Index(head, ":")+1:]
	for _, published := range []string{head, hash} {
		r = runWith(t, "", false, with("ledger", "verify", "--head", published)...)
		r.want(t, 0, "ledger verify --head "+published)
		if want := "published head " + head + ": still in the ledger (entry 2 of 3)"; !strings.Contains(r.stdout, want) {
			t.Errorf("verify --head %s says\n%s\nwant %q", published, r.stdout, want)
		}
		r = runWith(t, "", false, with("ledger", "verify", "--json", "--head", published)...)
		var raw map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil || raw["published_head"] != head {
			t.Errorf("verify --json --head %s: published_head %v (%v), want %q", published, raw["published_head"], err, head)
		}
	}
	r = runWith(t, "", false, with("ledger", "verify")...)
	if strings.Contains(r.stdout, "published head") {
		t.Errorf("verify without --head says %q", r.stdout)
	}
}

func TestWrongLedgerKeyRefused(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, []byte(`{"kind":"service","id":"api","name":"API"}`+"\n"), 0o644)
	runWith(t, "", false, "import", "--data", data, in).want(t, 0, "import")
	other := filepath.Join(dir, "other.key")
	r := runWith(t, "", false, "ledger", "keygen", "--out", other)
	r.want(t, 0, "ledger keygen")
	before := ledgerEntries(t, data)

	env, out, errb := testEnv(map[string]string{"USER": "tester", "CANDOR_LEDGER_KEY_FILE": other})
	code := Run(context.Background(), env, []string{"snapshot", "--data", data})
	if code != 2 || !strings.Contains(errb.String(), "did not sign the audit ledger's last entry") || !strings.Contains(errb.String(), "ledger.trusted_keys") {
		t.Fatalf("snapshot with another key: exit %d, stdout %q, stderr %q; want 2 and the reason", code, out.String(), errb.String())
	}
	if n := ledgerEntries(t, data); n != before {
		t.Fatalf("the refused command appended %d entries", n-before)
	}
	runWith(t, "", false, "ledger", "verify", "--data", data).want(t, 0, "ledger verify after the refusal")
	// Verify, a reader, runs with the wrong key configured and says so.
	env, out, _ = testEnv(map[string]string{"USER": "tester", "CANDOR_LEDGER_KEY_FILE": other})
	if code := Run(context.Background(), env, []string{"ledger", "verify", "--data", data}); code != 1 || !strings.Contains(out.String(), "not a trusted ledger key") {
		t.Errorf("verify with another key configured: exit %d, %q", code, out.String())
	}
	// Nor does it make a key where there is none (a directory without a
	// store, or one whose key was moved elsewhere).
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	runWith(t, "", false, "ledger", "verify", "--data", empty).want(t, 1, "ledger verify (no store)")
	if _, err := os.Stat(filepath.Join(empty, "ledger.key")); err == nil {
		t.Error("ledger verify made a signing key in a directory without a store")
	}
	moved := filepath.Join(dir, "moved.key")
	os.Rename(filepath.Join(data, "ledger.key"), moved)
	r = runWith(t, "", false, "ledger", "verify", "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "no ledger key to verify with") {
		t.Errorf("verify without the key: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "ledger.key")); err == nil {
		t.Error("ledger verify made a new signing key in place of the one moved away")
	}
	os.Rename(moved, filepath.Join(data, "ledger.key"))

	// Rotation: the old key's public half trusted, the new key signs.
	old, err := ledger.ReadKeyFile(filepath.Join(data, "ledger.key"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "candor.yaml")
	os.WriteFile(conf, []byte("ledger:\n  key_file: "+other+"\n  trusted_keys: ["+ledger.FormatPublicKey(old.Public().(ed25519.PublicKey))+"]\n"), 0o644)
	runWith(t, "", false, "snapshot", "--data", data, "--config", conf).want(t, 0, "snapshot after a rotation")
	if n := ledgerEntries(t, data); n != before+1 {
		t.Fatalf("%d entries after the rotated snapshot, want %d", n, before+1)
	}
	runWith(t, "", false, "ledger", "verify", "--data", data, "--config", conf).want(t, 0, "ledger verify after a rotation")
}

func ledgerEntries(t *testing.T, data string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ledger`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A ledger.key_file that does not exist is a configuration error: exit 2
// naming where the name came from (the file's line, or the variable), and
// nothing is made — it had exited 1, and serve had made the data
// directory's store first. candor ledger keygen --out still makes the file
// the configuration names.
func TestMissingLedgerKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys", "ledger.key")
	conf := filepath.Join(dir, "candor.yaml")
	if err := os.WriteFile(conf, []byte("currency: USD\nledger:\n  key_file: "+keyFile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "keys"), 0o700)
	for _, c := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"configuration file", nil, []string{"--config", conf}, "config " + conf + ":3: ledger.key_file: " + keyFile + " does not exist"},
		{"variable", map[string]string{"CANDOR_LEDGER_KEY_FILE": keyFile}, nil, "CANDOR_LEDGER_KEY_FILE: " + keyFile + " does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			for _, cmd := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"user", "add", "--email", "ann@example.com", "--role", "admin", "--generate-password"}} {
				env, _, errb := testEnv(c.vars)
				code := Run(context.Background(), env, append(append(cmd, "--data", data), c.args...))
				if code != 2 || !strings.Contains(errb.String(), c.want) || !strings.Contains(errb.String(), "candor ledger keygen --out "+keyFile) {
					t.Errorf("candor %s: exit %d, stderr %q; want 2 and %q", cmd[0], code, errb.String(), c.want)
				}
				if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("candor %s made %s (%v) though it refused", cmd[0], data, err)
				}
			}
		})
	}
	env, _, errb := testEnv(map[string]string{"CANDOR_LEDGER_KEY_FILE": keyFile, "CANDOR_CONFIG": conf})
	if code := Run(context.Background(), env, []string{"ledger", "keygen", "--out", keyFile}); code != 0 {
		t.Fatalf("ledger keygen --out the configured file: exit %d, %s", code, errb.String())
	}
	runWith(t, "", false, "user", "add", "--config", conf, "--data", filepath.Join(dir, "data"), "--email", "ann@example.com", "--role", "admin", "--generate-password").want(t, 0, "user add")
}

// With PostgreSQL and no ledger key, serve refuses before it connects: the
// database is left without Candor's schema, where it had been created
// before the refusal.
func TestPostgresNoLedgerKeyCreatesNothing(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env, _, errb := testEnv(map[string]string{"CANDOR_DB": url})
	code := Run(context.Background(), env, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()})
	if code != 2 || !strings.Contains(errb.String(), "the audit ledger needs a signing key kept outside the database") {
		t.Fatalf("exit %d, stderr %q; want 2 asking for a key", code, errb.String())
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("the database holds %d tables (%v) after the refusal; want none", tables, err)
	}
}

// An auditor's configuration lists the ledger's public keys alone
// (ledger.trusted_keys) — or is the operator's, whose key file the auditor
// does not have: ledger verify verifies with those keys, saying where the
// signing key would have been, and makes no key. It had asked for
// --public-key: the missing key file's error and PostgreSQL's without a
// key were not fs.ErrNotExist.
func TestAuditorVerifiesWithTrustedKeys(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ledger.key")
	r := runWith(t, "", false, "ledger", "keygen", "--out", keyFile)
	r.want(t, 0, "ledger keygen")
	pub := regexp.MustCompile(`public key (\S+) `).FindStringSubmatch(r.stderr)
	if pub == nil {
		t.Fatalf("keygen printed no public key: %q", r.stderr)
	}
	in := filepath.Join(dir, "in.ndjson")
	os.WriteFile(in, []byte(`{"kind":"service","id":"api","name":"API"}`+"\n"), 0o644)
	operator := filepath.Join(dir, "operator.yaml")
	os.WriteFile(operator, []byte("ledger:\n  key_file: "+keyFile+"\n"), 0o644)
	trusted := "  trusted_keys: [" + pub[1] + "]\n"
	auditor := filepath.Join(dir, "auditor.yaml")
	os.WriteFile(auditor, []byte("ledger:\n"+trusted), 0o644)
	copied := filepath.Join(dir, "copied.yaml")
	gone := filepath.Join(dir, "elsewhere", "ledger.key")
	os.WriteFile(copied, []byte("ledger:\n  key_file: "+gone+"\n"+trusted), 0o644)

	verify := func(t *testing.T, vars map[string]string, args []string, where string) {
		t.Helper()
		env, out, errb := testEnv(vars)
		if code := Run(context.Background(), env, append([]string{"ledger", "verify"}, args...)); code != 0 ||
			!strings.Contains(out.String(), "ledger intact: 2 entries") || !strings.Contains(errb.String(), where) ||
			!strings.Contains(errb.String(), "verifying with the 1 public keys of ledger.trusted_keys") {
			t.Errorf("ledger verify %s: exit %d\nstdout %q\nstderr %q; want it intact, naming %q", strings.Join(args, " "), code, out.String(), errb.String(), where)
		}
	}
	t.Run("embedded", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		runWith(t, "", false, "import", in, "--config", operator, "--data", data).want(t, 0, "import")
		verify(t, nil, []string{"--config", auditor, "--data", data}, filepath.Join(data, "ledger.key")+" does not exist")
		verify(t, nil, []string{"--config", copied, "--data", data}, "ledger.key_file "+gone+" does not exist")
		verify(t, map[string]string{"CANDOR_CONFIG": auditor, "CANDOR_LEDGER_KEY_FILE": gone}, []string{"--data", data}, "ledger.key_file "+gone+" does not exist")
		if _, err := os.Stat(filepath.Join(data, "ledger.key")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("verify made a key in the data directory (%v)", err)
		}
		if _, err := os.Stat(gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("verify made the missing key file (%v)", err)
		}
		// Without trusted keys there is nothing to verify with.
		env, _, errb := testEnv(nil)
		if code := Run(context.Background(), env, []string{"ledger", "verify", "--data", data}); code == 0 || !strings.Contains(errb.String(), "--public-key") {
			t.Errorf("verify with no key at all: exit %d, %q", code, errb.String())
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		db := map[string]string{"CANDOR_DB": url}
		env, _, errb := testEnv(db)
		if code := Run(context.Background(), env, []string{"import", in, "--config", operator, "--data", t.TempDir()}); code != 0 {
			t.Fatalf("import into PostgreSQL: exit %d, %s", code, errb.String())
		}
		verify(t, db, []string{"--config", auditor}, "none is configured for the PostgreSQL store")
		verify(t, db, []string{"--config", copied}, "ledger.key_file "+gone+" does not exist")
	})
}

// ledgerReads counts the statements its store runs to read the ledger.
type ledgerReads struct {
	store.Store
	n int
}

func (r *ledgerReads) LedgerHead(ctx context.Context) (store.LedgerHead, error) {
	r.n++
	return r.Store.LedgerHead(ctx)
}

func (r *ledgerReads) LedgerLast(ctx context.Context) (store.LedgerRow, error) {
	r.n++
	return r.Store.LedgerLast(ctx)
}

func (r *ledgerReads) LedgerScan(ctx context.Context, from, to int64, fn func(store.LedgerRow) error) error {
	r.n++
	return r.Store.LedgerScan(ctx, from, to, fn)
}

// Every command opening the store checks its key against the ledger's
// last entry (checkLedgerKey) in one read, where it read the head and
// then the row; it still passes the key that signed that entry and
// refuses another.
func TestLedgerKeyCheckReadsOnce(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	other := ed25519.NewKeyFromSeed([]byte(strings.Repeat("o", 32)))
	check := func(key ed25519.PrivateKey) (int, error) {
		reads := &ledgerReads{Store: st}
		err := checkLedgerKey(ctx, reads, config.Config{}, key)
		return reads.n, err
	}
	if n, err := check(other); err != nil || n != 1 {
		t.Fatalf("an empty ledger: %v after %d reads; want no error after 1", err, n)
	}
	st.SetSealer(ledger.NewSealer(key))
	if _, err := ledger.Append(ctx, st, ledger.TypeRecords, map[string]any{"n": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := check(key); err != nil || n != 1 {
		t.Errorf("the key that signed the last entry: %v after %d reads; want no error after 1", err, n)
	}
	var ee *exitError
	if n, err := check(other); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "did not sign the audit ledger's last entry (entry 1,") || n != 1 {
		t.Errorf("another key: %v after %d reads; want the refusal naming entry 1 after 1 read", err, n)
	}
}

// `ledger verify` compares the documents the ledger chains by their
// digest too: a board pack retention rewrote matches the digest its run
// chained, and a gate decision rewritten in the database is named, with
// the field of its entry's summary that changed (exit 1).
func TestLedgerVerifyComparesDigestDocuments(t *testing.T) {
	data := smallStore(t)
	cfg := filepath.Join(t.TempDir(), "candor.yaml")
	os.WriteFile(cfg, []byte("retention:\n  personal_after: 3650d\n  periods:\n    ledger: 1ns\n"), 0o644)
	d := []string{"--data", data, "--config", cfg}
	r := run(t, append([]string{"gate", "check", "--service", "checkout", "--environment", "production", "--version", "1.0.0", "--fact", "coverage=0.9", "--format", "json"}, d...)...)
	var decision struct{ ID int64 }
	if err := json.Unmarshal([]byte(r.stdout), &decision); err != nil || decision.ID == 0 {
		t.Fatalf("gate check: %d %s %s (%v)", r.code, r.stdout, r.stderr, err)
	}
	mustRun(t, append([]string{"report", "board", "--month", time.Now().UTC().AddDate(0, -1, 0).Format("2006-01"), "--out", filepath.Join(t.TempDir(), "p.pdf")}, d...)...)
	mustRun(t, append([]string{"retention", "apply"}, d...)...)
	if out := mustRun(t, append([]string{"ledger", "verify"}, d...)...).stdout; !strings.Contains(out, "documents intact: ") || !strings.Contains(out, "; 1 rewritten by retention, matching the digest its run chained") {
		t.Errorf("verify after retention:\n%s", out)
	}

	rewriteDoc(t, data, decision.ID, `"version":"1.0.0"`, `"version":"1.0.1"`)
	lv := run(t, append([]string{"ledger", "verify"}, d...)...)
	want := fmt.Sprintf("gate_decision %d (sha256, version): it no longer hashes to the SHA-256 its ledger entry chains", decision.ID)
	if lv.code != 1 || !strings.Contains(lv.stdout, "ledger intact: ") || !strings.Contains(lv.stdout, "documents ALTERED: 1 of ") || !strings.Contains(lv.stdout, want) {
		t.Errorf("verify of the tampered decision: exit %d\n%s\nwant 1 and %q", lv.code, lv.stdout, want)
	}
}
