package main

import (
	"context"
	"fmt"
	"os"

	"github.com/candor/candor/internal/bench"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

func init() {
	register(command{name: "bench", args: "[--scale N] [--db URL] [--format text|json] [--anchors | --anchors-only] [--no-ledger]", help: "benchmark import, scorecard, drill-down, ingestion and API on generated data", run: runBench})
}

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "bench", "[flags]", "Generates an organisation (scale 1 ≈ one year, 100k deployments, 300k changes, 10k incidents,\n100k tickets, 20k opportunities), imports it into a fresh store and measures Candor end to end.\nWith --db the PostgreSQL database must be empty (a dedicated benchmark database).")
	scale := fs.Float64("scale", 1, "data volume")
	seed := fs.Int64("seed", 1, "random seed")
	db := fs.String("db", "", "postgres:// URL of an EMPTY database to benchmark instead of the embedded store")
	format := fs.String("format", "text", "text or json")
	events := fs.Int("events", 5000, "records posted in the ingestion test")
	requests := fs.Int("requests", 400, "API reads in the latency test")
	conc := fs.Int("concurrency", 8, "concurrent HTTP clients")
	copies := fs.Int("copies", 1, "copies of the data the following engine keeps (read_copies: 1 or 2)")
	during := fs.Int("import-during", 0, "records imported while the API is read (default 1,000,000, scaled down below scale 1)")
	anchors := fs.Bool("anchors", false, "also compute DORA metrics as SQL over the raw records table (DevLake/Four Keys style) and compare with Candor")
	anchorsOnly := fs.Bool("anchors-only", false, "import only services, deployments, changes and incidents and run only the anchor comparison (fits scale 30 in memory)")
	anchorRuns := fs.Int("anchor-runs", 1, "repeat the anchor comparison N times (medians reported)")
	anchorExplain := fs.String("anchor-explain", "", "write the anchor queries' plans to `FILE` (PostgreSQL: EXPLAIN ANALYZE, which runs them again)")
	anchorProfile := fs.String("anchor-cpuprofile", "", "write CPU profiles of the anchor metrics to `PREFIX`.candor.ID.pprof (and PREFIX.sql.ID.pprof on SQLite)")
	noLedger := fs.Bool("no-ledger", false, "keep no audit ledger, to see what it costs (by default a fresh key signs it, as in production)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *scale <= 0 {
		return usagef("--scale must be positive")
	}
	if *during < 0 {
		return usagef("--import-during must not be negative")
	}
	if *copies != 1 && *copies != 2 {
		return usagef("--copies must be 1 or 2")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"--events", *events}, {"--requests", *requests}, {"--concurrency", *conc}} {
		if f.v < 1 {
			return usagef("%s must be at least 1", f.name)
		}
	}
	if *anchorRuns < 1 {
		return usagef("--anchor-runs must be at least 1")
	}
	if (*anchorExplain != "" || *anchorProfile != "" || *anchorRuns > 1) && !*anchors && !*anchorsOnly {
		return usagef("--anchor-runs, --anchor-explain and --anchor-cpuprofile need --anchors or --anchors-only")
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "candor-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opt := bench.Options{Scale: *scale, Seed: *seed, Dir: dir, Backend: "sqlite", Events: *events, Requests: *requests, Concurrency: *conc, Log: env.Stderr,
		Anchors: *anchors || *anchorsOnly, AnchorsOnly: *anchorsOnly, AnchorRuns: *anchorRuns, AnchorExplain: *anchorExplain, AnchorProfile: *anchorProfile}
	opt.Open = func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, dir) }
	opt.ImportDuring = *during
	opt.Copies = *copies
	// The whole-process scorecard runs this binary against the store.
	if exe, err := os.Executable(); err == nil {
		opt.CLI, opt.CLIEnv = benchCLI(exe, dir, *db)
	}
	if *db != "" {
		opt.Backend = "postgres"
		opt.URL = *db
		opt.Open = func(ctx context.Context) (store.Store, error) { return openPostgres(ctx, *db, true) }
	}
	if !*noLedger {
		if opt.LedgerKey, err = ledger.GenerateKey(); err != nil {
			return err
		}
	}
	rep, err := bench.Run(ctx, opt)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, rep)
	}
	fmt.Fprint(env.Stdout, rep.Text())
	return nil
}

// benchCLI is how the benchmark runs its whole-process scorecard, exe
// against the store under test: the embedded one in dir, or the
// PostgreSQL store db names — by CANDOR_DB in its environment, not on a
// command line every local user may read (ps), password included.
func benchCLI(exe, dir, db string) (args, env []string) {
	if db != "" {
		return []string{exe}, []string{"CANDOR_DB=" + db}
	}
	return []string{exe, "--data", dir}, nil
}
