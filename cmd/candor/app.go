package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
	"github.com/candor/candor/internal/web"
)

// common holds the flags every data command shares.
type common struct {
	config, data, db string
	// access marks a command that manages access (candor user, candor
	// token) and computes nothing from the definitions: it does not
	// record the configuration's initial set (governance.Registry.Check).
	access bool
	// clock, when set, stamps what opening a new store writes (the
	// configuration's initial set in the ledger): the demo, whose ledger
	// begins when its history does (storeDemoHistory).
	clock func() time.Time
}

func (c *common) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "configuration file (YAML; or CANDOR_CONFIG)")
	fs.StringVar(&c.data, "data", "", "data directory of the embedded store (or CANDOR_DATA; default ./candor-data)")
	fs.StringVar(&c.db, "db", "", "postgres:// URL of a PostgreSQL store (or CANDOR_DB)")
}

// app is the wired application for one command.
type app struct {
	cfg   config.Config
	mcfg  metrics.Config
	store store.Store
	// catalog is governed: its history follows gov's proposals.
	catalog *catalog.Catalog
	engine  *engine.Engine
	gov     *governance.Registry
	// ledgerKey signs the audit ledger; ledgerFrom says where it came from
	// (keyCreated: made now, in the data directory).
	ledgerKey  ed25519.PrivateKey
	ledgerFrom string
	keyCreated bool
	// loaded is the configuration before the governed sections in force
	// were put in it, and sections names the proposals they came from: a
	// server puts sections approved later in force from them (live.go).
	loaded   config.Config
	sections governance.SectionIDs
	// What the governed sections make, built once per app and shared by
	// its holders so that a section approved while serving changes them
	// all (applySections).
	live liveParts
}

func (a *app) Close() {
	if a.store != nil {
		a.store.Close()
		a.store = nil
	}
}

// ledgerKeys are the public keys the ledger verifies with: the signing
// key's and the retired ones of ledger.trusted_keys.
func (a *app) ledgerKeys() ([]ed25519.PublicKey, error) {
	trusted, err := a.cfg.LedgerTrustedKeys()
	if err != nil {
		return nil, err
	}
	return append(trusted, a.ledgerKey.Public().(ed25519.PublicKey)), nil
}

// parseOptions are the record defaults from configuration: a record
// without a currency is in the one in force at its own time (a server's
// settings may change while it runs).
func (a *app) parseOptions() domain.ParseOptions {
	return domain.ParseOptions{DefaultCurrency: a.cfg.Currency, Currency: a.currencyAt}
}

// currencyAt is the organisation currency in force at t, which money as of
// t is computed in: the settings approved proposals put in force, not the
// configuration file's — a store whose currency a proposal changed, read
// with the file as at first start (accepted), had labelled its money in
// the old currency.
func (a *app) currencyAt(t time.Time) string {
	if a.engine != nil {
		if c := a.engine.ConfigAt(t).Currency; c != "" {
			return c
		}
	}
	return a.cfg.Currency
}

// loadConfig reads the configuration file and the environment. A mistake
// in either is the operator's input, like a bad flag: exit status 2, but
// without the usage line, which would say nothing about it. For a command
// that opens the store, readConfig and openConfig check the environment
// against the governed sections in force.
func loadConfig(c common, env *Env) (config.Config, error) {
	cfg, environ, err := readConfig(c, env)
	if err == nil && environ != nil {
		err = checkEnviron(environ, cfg, nil)
	}
	return cfg, err
}

// readConfig is loadConfig but for the CANDOR_* variables the
// configuration file does not name: the environment is returned (nil when
// all are known), to check once the governed sections in force are read
// (openConfig), since a gates section an approved proposal put in force
// names a variable of its own (watch.webhook_secret_env).
func readConfig(c common, env *Env) (config.Config, []string, error) {
	// The file is read first because it may name variables of its own
	// (an alert channel's secret_env); a variable's mistake is still told
	// first, since a mistyped CANDOR_CONFIG explains a file's.
	cfg, err := config.Load(c.config, env.Getenv)
	var environ []string
	if env.Environ != nil {
		if envErr := config.CheckEnviron(env.Environ(), cfg.NamedEnv()...); envErr != nil {
			if err != nil {
				return config.Config{}, nil, &exitError{code: 2, err: errors.Join(envErr, err)}
			}
			environ = env.Environ()
		}
	}
	if err != nil {
		return cfg, nil, &exitError{code: 2, err: err}
	}
	if c.data != "" && c.db == "" && cfg.DB != "" {
		// --data names a directory, which with PostgreSQL holds only the
		// image files; one holding an embedded store was meant as the
		// store, and a command run with CANDOR_DB still exported (or db:
		// in the file) had disabled a user in PostgreSQL instead.
		if _, err := os.Stat(filepath.Join(c.data, "candor.db")); err == nil {
			from := "db: in the configuration file"
			if env.Getenv("CANDOR_DB") != "" {
				from = "CANDOR_DB"
			}
			return cfg, nil, &exitError{code: 2, err: fmt.Errorf("--data %s holds an embedded store (candor.db), but %s names a PostgreSQL store, which this command would use: unset %s to work on the embedded store, or give --db to use PostgreSQL with this directory's files", c.data, from, from)}
		}
	}
	if c.data != "" {
		cfg.Data = c.data
	}
	if c.db != "" {
		// Checked here, before anything else is looked for: a wrong --db
		// had been reported as a missing ledger key, the key being looked
		// for first.
		if err := config.CheckPostgresURL(c.db); err != nil {
			return cfg, nil, usagef("--db: %v", err)
		}
		cfg.DB = c.db
	}
	return cfg, environ, nil
}

// checkEnviron refuses the CANDOR_* variables of environ that neither cfg
// (its governed sections as they are in force) nor more names: exit 2.
func checkEnviron(environ []string, cfg config.Config, more []string) error {
	if err := config.CheckEnviron(environ, slices.Concat(cfg.NamedEnv(), more)...); err != nil {
		return &exitError{code: 2, err: err}
	}
	return nil
}

// open opens an existing store for a command that reads: a --data
// directory without a store is an error, not a new empty store.
func (c *common) open(ctx context.Context, env *Env) (*app, error) {
	return c.openStore(ctx, env, false)
}

// openOrCreate opens the store, creating an embedded one where there is
// none: for commands that write records (import, serve, demo).
func (c *common) openOrCreate(ctx context.Context, env *Env) (*app, error) {
	return c.openStore(ctx, env, true)
}

func (c *common) openStore(ctx context.Context, env *Env, create bool) (*app, error) {
	cfg, environ, err := readConfig(*c, env)
	if err != nil {
		return nil, err
	}
	a, err := openConfig(ctx, cfg, create, environ, !c.access, c.clock)
	if err != nil {
		return nil, err
	}
	// A command registered as one-shot answers once and exits: its
	// engine keeps the state's pages it reads (engine.Engine.OneShot).
	a.engine.OneShot = env.oneShot
	if env.oneShot {
		// A first load that writes the state computes the organisation's
		// scorecard first, so that the memos its windows fill are written
		// with it for the commands after (engine.Engine.Prime); a command
		// that knows its own question sets its own.
		a.engine.Prime = func(ds *metrics.Dataset) {
			scorecard.Build(a.catalog, ds, scorecard.Options{AsOf: time.Now().UTC()})
		}
	}
	// The first command after an upgrade (a scheduled import, as often as
	// the server) migrates the store: said, since an older Candor refuses
	// it from then on.
	if m := a.migrated(); m != "" {
		fmt.Fprintln(env.Stderr, "candor: "+m)
	}
	return a, nil
}

// migrated is what opening a's store applied to an existing store
// (store.Migrations.Upgrade), "" when nothing.
func (a *app) migrated() string {
	if m, ok := a.store.(interface{ Migrations() store.Migrations }); ok {
		return m.Migrations().Upgrade()
	}
	return ""
}

// openConfig opens the store cfg names (creating an embedded one when
// create) and puts the governed sections in force. environ, when set, holds
// CANDOR_* variables the configuration file does not name (readConfig):
// they are refused unless the sections in force, or an open gates
// proposal, name them — a variable a proposal names is exported before it
// is approved (governance checks it then). With environ, no store or
// ledger key is made: where there is none, the file's sections are the
// ones in force, and the variables are refused. record says whether the
// configuration's initial set is recorded on a store that has none yet:
// by every command but those that manage access (common.access), which
// compute nothing from it, so that the first administrator, added before
// the first start, does not fix the definitions of a command given no
// configuration.
//
// clock, when set, stamps what is written while the store opens if it is
// new (its ledger empty), and then stays the store's clock for its caller
// to give back (store.Clocked).
func openConfig(ctx context.Context, cfg config.Config, create bool, environ []string, record bool, clock func() time.Time) (*app, error) {
	mcfg, err := cfg.EngineConfig()
	if err != nil {
		return nil, err
	}
	// The configuration's overrides are checked (Load does too); they are
	// the initial set of the governed definitions, applied from the store.
	if _, err := cfg.Catalog(); err != nil {
		return nil, err
	}
	base, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	// Every write is chained in the audit ledger, so no store is used
	// without its key. The key the configuration names is checked before
	// the store is opened: refused, it leaves nothing behind (PostgreSQL's
	// schema had been created first).
	key, from, err := configuredLedgerKey(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, create && environ == nil)
	if environ != nil && (errors.Is(err, sqlite.ErrNoStore) || errors.Is(err, postgres.ErrNoSchema)) {
		return nil, checkEnviron(environ, cfg, nil)
	}
	if err != nil {
		return nil, err
	}
	created := false
	switch {
	case key != nil:
	case environ != nil:
		if key, err = cfg.ExistingLedgerKey(); err != nil {
			st.Close()
			return nil, errors.Join(checkEnviron(environ, cfg, nil), err)
		}
		from = filepath.Join(cfg.Data, config.LedgerKeyFile)
	default:
		// The embedded store's own key, made in its data directory on
		// first use: only once the store there has opened.
		if key, from, created, err = cfg.LedgerKey(); err != nil {
			st.Close()
			return nil, err
		}
	}
	st.SetSealer(ledger.NewSealer(key))
	if err := checkLedgerKey(ctx, st, cfg, key); err != nil {
		st.Close()
		return nil, err
	}
	if c, ok := st.(store.Clocked); ok && clock != nil {
		h, err := st.LedgerHead(ctx)
		if err != nil {
			st.Close()
			return nil, err
		}
		if h.Seq == 0 {
			c.SetClock(clock)
		}
	}
	eng := engine.New(st, mcfg)
	eng.Image = cfg.ImagePath()
	gov := &governance.Registry{Docs: st, Catalog: base.Governed(), Engine: eng, Config: cfg}
	if c, ok := st.(store.Clocked); ok {
		// A proposal (the initial set above all) is dated by the store's
		// clock, as its ledger entry is: the demo's had said it was made
		// a year after the entry chaining it.
		gov.Now = c.Now
	}
	in := governance.Initial{Metrics: cfg.Metrics, Env: cfg.SetByEnv(), Source: configSource(cfg)}
	in.Settings, err = cfg.Governed()
	if err == nil {
		in.Sections, err = governance.SectionValues(cfg)
	}
	if err == nil && record {
		err = gov.Init(ctx, in)
	} else if err == nil {
		err = gov.Check(ctx, in)
	}
	// Gate policies, alert rules and custom views in force are the
	// governed sections' (the configuration's at first start, then
	// approved proposals'), and the custom views are part of the catalog.
	loaded := cfg
	var sections governance.SectionIDs
	if err == nil {
		cfg, sections, err = gov.ConfigureSections(ctx, cfg)
	}
	var cat *catalog.Catalog
	if err == nil {
		cat, err = cfg.AddViews(base)
	}
	// The organisation's metrics are computed as the custom_metrics in
	// force define them, in every dataset the engine makes.
	if err == nil {
		var set metrics.CustomSet
		if set, err = cfg.CustomSet(); err == nil {
			eng.SetCustom(set)
		}
	}
	if err == nil {
		cat = cat.Governed()
		// Each custom_metrics value over time gives the catalog's entries
		// in its time.
		var eras []catalog.CustomEra
		if eras, err = cfg.CustomCatalogEras(base, config.OwnMetrics(cat)); err == nil && len(eras) > 1 {
			err = cat.SetCustomVersions(eras)
		}
	}
	if err == nil {
		gov.Catalog, gov.Config = cat, cfg
		err = gov.Load(ctx)
	}
	if err == nil && environ != nil {
		err = checkEnvironInForce(ctx, environ, cfg, gov)
	} else if err != nil && environ != nil {
		err = environFirst(ctx, environ, cfg, gov, err)
	}
	if err != nil {
		st.Close()
		return nil, refusedConfig(err, cfg, in.Sections)
	}
	return &app{cfg: cfg, mcfg: mcfg, store: st, catalog: cat, engine: eng, gov: gov, ledgerKey: key, ledgerFrom: from, keyCreated: created,
		loaded: loaded, sections: sections}, nil
}

// checkEnvironInForce refuses the variables of environ that neither the
// configuration in force (cfg) nor an open proposal of a governed section
// names (config.SectionEnv).
func checkEnvironInForce(ctx context.Context, environ []string, cfg config.Config, gov *governance.Registry) error {
	st, err := gov.State(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for _, v := range st.Proposals {
		if v.Status == governance.Open {
			pending = append(pending, config.SectionEnv(v.Section, v.Source)...)
		}
	}
	return checkEnviron(environ, cfg, pending)
}

// environFirst puts an unknown variable of environ before err, a refusal
// of the configuration or of what the store holds, as readConfig puts a
// variable's mistake before the file's: a mistyped CANDOR_CONFIG or
// CANDOR_DATA explains a refusal of the configuration, which had been told
// alone (exit 1). The variables are checked against the governed sections
// in force, read from the proposals as they are; where those cannot be
// read, none is called unknown, since a section in force may name it.
func environFirst(ctx context.Context, environ []string, cfg config.Config, gov *governance.Registry, err error) error {
	if gov.Load(ctx) != nil {
		return err
	}
	inForce, _, cerr := gov.ConfigureSections(ctx, cfg)
	if cerr != nil {
		return err
	}
	var envErr *exitError
	if !errors.As(checkEnvironInForce(ctx, environ, inForce, gov), &envErr) {
		return err
	}
	return &exitError{code: 2, err: errors.Join(envErr.err, err)}
}

// refusedConfig makes a refusal of the configuration a configuration
// error (exit 2, as README says of a bad file or CANDOR_* variable): it
// had exited 1 as if the store had failed. A store whose recorded sections
// are all missing because no configuration file was given is told to pass
// the file it was started with, not to propose the sections' removal — a
// kept demo store read without the demo's --config had been told that;
// sections holds the configuration's values (governance.SectionValues).
func refusedConfig(err error, cfg config.Config, sections map[string]json.RawMessage) error {
	if errors.As(err, new(*exitError)) {
		return err
	}
	var se *governance.SectionChangedError
	if errors.As(err, &se) && cfg.Path() == "" && !slices.ContainsFunc(se.Sections, func(name string) bool {
		v := sections[name]
		return len(v) != 0 && string(v) != "null"
	}) {
		file := "--config FILE (or CANDOR_CONFIG)"
		if demo := filepath.Join(cfg.Data, "demo.yaml"); cfg.Data != "" && fileExists(demo) {
			file = "--config " + shellWord(demo) + ", the demo's configuration beside the store"
		}
		held := "section " + se.Sections[0]
		if len(se.Sections) > 1 {
			held = "sections " + strings.Join(se.Sections, ", ")
		}
		return &exitError{code: 2, err: fmt.Errorf("the store was started (%s) with a configuration file holding %s, and no configuration file is given: pass that file with %s",
			se.Since.Format(time.DateOnly), held, file)}
	}
	if errors.As(err, &se) || errors.As(err, new(*governance.ChangedError)) {
		return &exitError{code: 2, err: err}
	}
	return err
}

// fileExists says whether path names a regular file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// configSource names where the initial definitions came from, for the
// record.
func configSource(cfg config.Config) string {
	if cfg.Path() != "" {
		return "configuration file " + cfg.Path()
	}
	return "configuration (no file)"
}

func openStore(ctx context.Context, cfg config.Config, create bool) (store.Store, error) {
	if cfg.DB != "" {
		if err := config.CheckPostgresURL(cfg.DB); err != nil {
			return nil, usagef("--db: %v", err)
		}
		return openPostgres(ctx, cfg.DB, create)
	}
	if !create {
		st, err := sqlite.OpenExisting(ctx, cfg.Data)
		if errors.Is(err, sqlite.ErrNoStore) {
			return nil, fmt.Errorf("--data: %w; import records first (candor import FILE --data %s), or point --data or CANDOR_DATA at a store", err, cfg.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("opening the embedded store: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store: %w", err)
	}
	return st, nil
}

// asOfTime reads an --as-of flag: now when empty.
func asOfTime(v string) (time.Time, error) {
	if v == "" {
		return time.Now().UTC(), nil
	}
	t, err := web.ParseTime(v)
	if err == nil {
		err = web.CheckAsOf(t, time.Now())
	}
	if err != nil {
		return t, usagef("--as-of: %v", err)
	}
	return t, nil
}

// configuredLedgerKey is config.ConfiguredLedgerKey with its errors exiting
// 2, as the configuration's mistakes do.
func configuredLedgerKey(cfg config.Config) (ed25519.PrivateKey, string, error) {
	key, from, err := cfg.ConfiguredLedgerKey()
	if err != nil {
		return nil, "", &exitError{code: 2, err: err}
	}
	return key, from, nil
}

// checkLedgerKey refuses a signing key that would leave the ledger
// unverifiable: one that did not sign its last entry, while the key that
// did is not among ledger.trusted_keys. Verification with such a
// configuration calls the entries before "signed by a key which is not
// trusted", which reads as tampering; a snapshot taken with a key made by
// `ledger keygen` in place of the one moved out of the data directory
// had done that for good. A rotation lists the old key's public half in
// trusted_keys, and passes. Every command opening the store makes it, so
// it reads the last entry in one statement (LedgerLast), where it read
// the head and then the row.
func checkLedgerKey(ctx context.Context, st store.Store, cfg config.Config, key ed25519.PrivateKey) error {
	last, err := st.LedgerLast(ctx)
	if err != nil || last.Seq == 0 {
		return err
	}
	mine := ledger.KeyID(key.Public().(ed25519.PublicKey))
	if last.KeyID == "" || last.KeyID == mine {
		return nil
	}
	trusted, err := cfg.LedgerTrustedKeys()
	if err != nil {
		return err
	}
	for _, t := range trusted {
		if ledger.KeyID(t) == last.KeyID {
			return nil
		}
	}
	return &exitError{code: 2, err: fmt.Errorf("the ledger key configured (key id %s) did not sign the audit ledger's last entry (entry %d, key id %s), and that key is not in ledger.trusted_keys: entries signed now would leave the ledger failing verification. Configure the key that signs this ledger (ledger.key_file, CANDOR_LEDGER_KEY_FILE or CANDOR_LEDGER_KEY), or, to rotate keys, add the old key's public half to ledger.trusted_keys (docs/ledger.md)", mine, last.Seq, last.KeyID)}
}
