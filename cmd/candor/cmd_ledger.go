package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/evidence"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

func init() {
	register(command{name: "ledger", args: "keygen|head|verify [flags]", help: "the audit ledger: make a signing key, print the head to publish, verify every entry", run: runLedger})
}

func runLedger(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "ledger", args, map[string]func(context.Context, *Env, []string) error{
		"keygen": runLedgerKeygen, "head": runLedgerHead, "verify": runLedgerVerify,
	}, []string{"keygen", "head", "verify"})
}

// errBroken is verify's failure: the report is printed already, so only
// the exit code is left to say it.
var errBroken = errors.New("the ledger does not verify")

func runLedgerKeygen(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "ledger keygen", "[--out FILE]", "Makes a new Ed25519 key for signing the audit ledger. With --out it is written to FILE (readable by its owner only; an\nexisting file is never overwritten), to set as ledger.key_file; without, it is printed, to put in CANDOR_LEDGER_KEY.\nKeep it outside the database and its backups. The public key, which verifies without signing, goes to stderr.")
	out := fs.String("out", "", "write the key to this new file")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	key, err := ledger.GenerateKey()
	if err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(env.Stdout, ledger.FormatKey(key))
	} else if err := ledger.WriteKeyFile(*out, key); err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	fmt.Fprintf(env.Stderr, "public key %s (key id %s): candor ledger verify --public-key %s checks the ledger without the signing key\n",
		ledger.FormatPublicKey(pub), ledger.KeyID(pub), ledger.FormatPublicKey(pub))
	return nil
}

func runLedgerHead(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "ledger head", "[--as-of T] [flags]", "Prints the ledger's head as SEQ:HASH: the number of entries and the last one's hash. Publish it somewhere\nthe database's administrators cannot change (a ticket, an e-mail to the auditors); candor ledger verify --head\nchecks later that no entry was cut from the end since. With --as-of, the head as of that time: the last entry\nstamped before it, as an evidence pack whose period ends then names it (a pack --to 2026-09-30 ends at\n2026-10-01T00:00:00Z).")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "the head as of this time, RFC 3339 or YYYY-MM-DD (its start; default: now, every entry)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	var at time.Time
	if *asOf != "" {
		t, err := asOfTime(*asOf)
		if err != nil {
			return err
		}
		at = t
	}
	st, _, err := c.openLedgerStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	var h store.LedgerHead
	if at.IsZero() {
		h, err = st.LedgerHead(ctx)
	} else {
		h, err = evidence.HeadAt(ctx, st, at)
	}
	if err != nil {
		return err
	}
	if h.Seq == 0 && !at.IsZero() {
		return fmt.Errorf("the ledger held no entry before %s", at.UTC().Format(time.RFC3339))
	}
	if h.Seq == 0 {
		return errors.New("the ledger is empty: nothing has been recorded yet")
	}
	fmt.Fprintln(env.Stdout, ledger.FormatHead(h))
	return nil
}

func runLedgerVerify(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "ledger verify", "[--head SEQ:HASH] [--public-key KEY] [flags]", "Reads the whole audit ledger and checks every entry's position, chain hash, signature and personal-data digest,\nthen every stored record's body against the hash it was written with, and every document the ledger chains\n(proposals, decisions, acknowledgements, access events, …) against its entry.\nExits 0 when intact; 1 naming the first broken entry when a row was altered, removed, inserted or reordered\nin the database, or the records or documents changed there. --head (printed earlier by candor ledger head) also catches entries cut from the end.\nThe entries are checked against the configured key's public half and ledger.trusted_keys, or the --public-key keys.")
	var c common
	c.bind(fs)
	head := fs.String("head", "", "a head published earlier (SEQ:HASH or HASH) that must still be in the ledger")
	var pubs stringsFlag
	fs.Var(&pubs, "public-key", "a public key to verify with instead of the configured key (repeatable)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *head != "" {
		if _, err := ledger.ParseHead(*head); err != nil {
			return usagef("--head: %v", err)
		}
	}
	var keys []ed25519.PublicKey
	for _, p := range pubs {
		k, err := ledger.ParsePublicKey(p)
		if err != nil {
			return usagef("--public-key: %v", err)
		}
		keys = append(keys, k)
	}
	// The store is opened to read only, without a sealer: the checks
	// a writing command makes of the configured key (checkLedgerKey)
	// would refuse the very ledger this is to diagnose.
	st, cfg, err := c.openLedgerStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(keys) == 0 {
		trusted, err := cfg.LedgerTrustedKeys()
		if err != nil {
			return err
		}
		keys = trusted
		// An auditor's configuration may list the public keys alone
		// (ledger.trusted_keys): without the signing key, those verify.
		key, err := cfg.ExistingLedgerKey()
		switch {
		case err == nil:
			keys = append(keys, key.Public().(ed25519.PublicKey))
		case !errors.Is(err, os.ErrNotExist) || len(keys) == 0:
			return fmt.Errorf("no ledger key to verify with (%w): give the public key that signs this ledger with --public-key, or configure ledger.key_file or ledger.trusted_keys", err)
		default:
			fmt.Fprintf(env.Stderr, "no signing key here (%s): verifying with the %d public keys of ledger.trusted_keys\n", noSigningKey(cfg), len(keys))
		}
	}
	rep, err := ledger.Verify(ctx, st, ledger.VerifyOptions{Keys: keys, Head: *head})
	if err != nil {
		return err
	}
	recs, err := ledger.VerifyRecords(ctx, st)
	if err != nil {
		return err
	}
	docs, err := ledger.VerifyDocs(ctx, st, nil, 0)
	if err != nil {
		return err
	}
	if *asJSON {
		// intact is the whole verdict, the records' included (a script
		// reading it must not take altered records for sound ones);
		// ledger_intact is the ledger's alone.
		out := struct {
			*ledger.Report
			Intact       bool                 `json:"intact"`
			LedgerIntact bool                 `json:"ledger_intact"`
			Records      ledger.RecordsReport `json:"records"`
			Documents    ledger.DocsReport    `json:"documents"`
		}{rep, rep.Broken == nil && recs.Altered == 0 && docs.Altered == 0, rep.Broken == nil, recs, docs}
		if err := writeJSONOut(env, out); err != nil {
			return err
		}
	} else {
		switch {
		case rep.Broken == nil:
			fmt.Fprintf(env.Stdout, "ledger intact: %d entries, head %s\n", rep.Entries, ledger.FormatHead(rep.Head))
			if p := rep.Published; p != nil {
				fmt.Fprintf(env.Stdout, "published head %s: still in the ledger (entry %d of %d)\n", ledger.FormatHead(*p), p.Seq, rep.Entries)
			}
		case rep.Broken.Seq <= rep.Head.Seq:
			// Only the published head found it: every entry, the broken
			// one included, verified by itself.
			fmt.Fprintf(env.Stdout, "ledger BROKEN at entry %d: %s\n(each of the %d entries verifies by itself; the last is %s)\n",
				rep.Broken.Seq, rep.Broken.Reason, rep.Entries, ledger.FormatHead(rep.Head))
		default:
			fmt.Fprintf(env.Stdout, "ledger BROKEN at entry %d: %s\n(%d entries before it verify; the last of them is %s)\n",
				rep.Broken.Seq, rep.Broken.Reason, rep.Entries, ledger.FormatHead(rep.Head))
		}
		printRecordsCheck(env, recs)
		printDocsCheck(env, docs)
	}
	if rep.Broken != nil || recs.Altered > 0 || docs.Altered > 0 {
		return errBroken
	}
	return nil
}

// noSigningKey says where the configuration's signing key would have
// been, for a reader verifying without it.
func noSigningKey(cfg config.Config) string {
	switch {
	case cfg.Ledger.KeyFile != "":
		return "ledger.key_file " + cfg.Ledger.KeyFile + " does not exist"
	case cfg.DB != "":
		return "none is configured for the PostgreSQL store"
	}
	return filepath.Join(cfg.Data, config.LedgerKeyFile) + " does not exist"
}

// printRecordsCheck says whether every stored record's body still hashes
// to the hash it was written with, naming the first that do not.
func printRecordsCheck(env *Env, r ledger.RecordsReport) {
	if r.Altered == 0 {
		fmt.Fprintf(env.Stdout, "records intact: %d, each body matching the hash it was stored with\n", r.Checked)
		return
	}
	lines := make([]string, len(r.First))
	for i, a := range r.First {
		lines[i] = fmt.Sprintf("%s (candor record %s)", a, a)
	}
	printAltered(env, fmt.Sprintf("records ALTERED: %d of %d no longer match the hash stored with them (their body was changed in the database after it was written):", r.Altered, r.Checked),
		lines, r.Altered)
}

// printDocsCheck says whether every document the ledger chains still
// reads as chained — field by field (proposals, decisions,
// acknowledgements, access events, …) or by its SHA-256 (gate decisions,
// watch outcomes, reports, KPI snapshots) —, naming the first that do
// not, and the reports only partly compared.
func printDocsCheck(env *Env, r ledger.DocsReport) {
	redacted := ""
	if r.Redacted > 0 {
		redacted = fmt.Sprintf("; %d rewritten by retention, matching the digest its run chained", r.Redacted)
	}
	if r.Altered == 0 {
		fmt.Fprintf(env.Stdout, "documents intact: %d (proposals, decisions, acknowledgements, access events, … field by field; gate decisions, watch outcomes, reports, KPI snapshots by their SHA-256), each matching the ledger entry that chained it%s\n", r.Checked, redacted)
	} else {
		lines := make([]string, len(r.First))
		for i, a := range r.First {
			lines[i] = a.String() + ": " + a.Reason
		}
		printAltered(env, fmt.Sprintf("documents ALTERED: %d of %d no longer match the ledger entry that chained them (changed in the database behind Candor's back)%s:", r.Altered, r.Checked, redacted),
			lines, r.Altered)
	}
	if r.SummaryOnly > 0 {
		lines := make([]string, len(r.SummaryOnlyFirst))
		for i, a := range r.SummaryOnlyFirst {
			lines[i] = a.String()
		}
		printAltered(env, fmt.Sprintf("documents compared in part: %d %s", r.SummaryOnly, ledger.DocSummaryOnly+":"), lines, r.SummaryOnly)
	}
}

// printAltered prints head, then the lines naming the first of total
// found, indented, and how many more.
func printAltered(env *Env, head string, lines []string, total int64) {
	fmt.Fprintln(env.Stdout, head)
	for _, l := range lines {
		fmt.Fprintf(env.Stdout, "  %s\n", l)
	}
	if n := total - int64(len(lines)); n > 0 {
		fmt.Fprintf(env.Stdout, "  and %d more\n", n)
	}
}

// openLedgerStore opens the store to read the ledger only: no signing key
// is needed, so an auditor holding the public key can verify. The
// environment is checked once the store is open, against the governed
// sections in force as well as the file: an auditor running `ledger
// verify` in the server's environment had been refused a secret variable
// that only an approved gates or alerts section names.
func (c *common) openLedgerStore(ctx context.Context, env *Env) (store.Store, config.Config, error) {
	cfg, environ, err := readConfig(*c, env)
	if err != nil {
		return nil, cfg, err
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		if environ != nil {
			err = errors.Join(checkEnviron(environ, cfg, nil), err)
		}
		return nil, cfg, err
	}
	if environ != nil {
		if err := checkEnvironRead(ctx, st, cfg, environ); err != nil {
			st.Close()
			return nil, cfg, err
		}
	}
	return st, cfg, nil
}

// checkEnvironRead is checkEnvironInForce for a command that only reads
// the store: the governance state is read, never initialised, and without
// one (a store no server has opened) the file's variables are all there is.
func checkEnvironRead(ctx context.Context, st store.Store, cfg config.Config, environ []string) error {
	base, err := cfg.Catalog()
	if err != nil {
		return err
	}
	gov := &governance.Registry{Docs: st, Catalog: base.Governed(), Config: cfg}
	inForce, _, err := gov.ConfigureSections(ctx, cfg)
	if err != nil {
		// Sections this environment cannot put in force (a secret an
		// approved section names, unset here) leave the file's variables:
		// the check of the ledger needs none of them.
		return checkEnviron(environ, cfg, nil)
	}
	return checkEnvironInForce(ctx, environ, inForce, gov)
}
