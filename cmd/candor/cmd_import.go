package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/schollz/progressbar/v3"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/web"
)

func init() {
	register(command{name: "import", args: "[flags] FILE...", help: "import NDJSON or CSV records (all or nothing; - reads stdin)", run: runImport})
}

func runImport(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "import", "[flags] FILE...", "Imports records (SPEC §1) from NDJSON or CSV files, optionally gzipped. The whole import is one\ntransaction: a file with an invalid record changes nothing unless --skip-invalid is given.\nRe-importing a record with the same (kind, source, id) replaces it.")
	var c common
	c.bind(fs)
	skip := fs.Bool("skip-invalid", false, "import the valid records and list the invalid lines")
	kind := fs.String("kind", "", "kind of the records (CSV without a kind column; NDJSON records of another kind are refused)")
	format := fs.String("format", "", "input format ndjson or csv (default: by file extension)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no files given")
	}
	opt := ingest.Options{SkipInvalid: *skip}
	if *kind != "" {
		k, err := domain.ParseKind(*kind)
		if err != nil {
			return usagef("--kind: %v", err)
		}
		opt.Kind = k
	}
	if *format != "" && *format != "ndjson" && *format != "csv" {
		return usagef("--format: %q is not ndjson or csv", *format)
	}
	var sources []ingest.Source
	var total int64
	for _, name := range files {
		if name == "-" {
			sources = append(sources, ingest.Source{Name: "stdin", Reader: env.Stdin, Format: *format})
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			total += st.Size()
		}
		sources = append(sources, ingest.Source{Name: name, Reader: f, Format: *format})
	}
	a, err := c.openOrCreate(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	opt.Parse = a.parseOptions()
	if env.IsTerminal(env.Stderr) && total > 0 {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("importing"), progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
		opt.Progress = func(n int64) { bar.Set64(n) }
		defer bar.Finish()
	}
	sum, err := ingest.Import(ctx, a.store, sources, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		// The API's summary shape: encoding sum directly would give the
		// per-kind counts capitalised keys (Inserted, …) from the embedded
		// store.WriteResult, and drop the skipped lines.
		out := web.ImportSummary(sum)
		out["seconds"], out["records_per_second"] = sum.Seconds, sum.PerSecond
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprint(env.Stdout, ingest.FormatSummary(sum))
	return nil
}
