package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/importer"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/web"
)

func init() {
	register(command{name: "import", args: "[flags] FILE...", help: "import NDJSON or CSV records, or other tools' files (--format focus, sarif, …); all or nothing; - reads stdin", run: runImport})
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// toolFlags are the flags of the formats other tools write.
type toolFlags struct {
	source, costColumn, serviceTag, target, scannedAt, service string
	qualifiedFrom, channelColumn, slashDates, tz               string
	severity, won, lost                                        listFlag
}

func runImport(ctx context.Context, env *Env, args []string) (err error) {
	fs := flags(env, "import", "[flags] FILE...", "Imports records (docs/records.md) from NDJSON or CSV files, optionally gzipped, or maps the files other tools\nwrite onto records (--format focus, sarif, trivy, grype, salesforce, hubspot; docs/connectors/files.md).\nThe whole import is one transaction: a file with an invalid record changes nothing unless\n--skip-invalid is given. Re-importing a record with the same (kind, source, id) replaces it.")
	var c common
	c.bind(fs)
	skip := fs.Bool("skip-invalid", false, "import the valid records and list the invalid lines; exit 3 when any were left out")
	kind := fs.String("kind", "", "kind of the records (CSV without a kind column; NDJSON records of another kind are refused)")
	format := fs.String("format", "", "input format: ndjson or csv (default: by file extension), or focus, sarif, trivy, grype, salesforce, hubspot")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	dryRun := fs.Bool("dry-run", false, "check and count the records as the import would (inserted, replaced, unchanged against the store as it is), and store nothing")
	var t toolFlags
	fs.StringVar(&t.source, "source", "", "source of the records (other tools' formats; default the format's name)")
	fs.StringVar(&t.costColumn, "cost-column", "", "focus: the cost column an amount comes from: EffectiveCost (default), BilledCost, ListCost or ContractedCost")
	fs.StringVar(&t.serviceTag, "service-tag", "", "focus: the tag whose value names the service (default: ServiceName)")
	fs.StringVar(&t.target, "target", "", "sarif, trivy, grype: what was scanned, the same in every scan of it (default: the name the report gives)")
	fs.StringVar(&t.scannedAt, "scanned-at", "", "sarif, trivy, grype: when the scan ran, RFC 3339 (default: the time the report gives)")
	fs.StringVar(&t.service, "service", "", "sarif, trivy, grype: the service the findings belong to")
	fs.Var(&t.severity, "severity", "sarif, trivy, grype: map a scanner severity or SARIF level: FROM=critical|high|medium|low|skip (repeatable)")
	fs.Var(&t.won, "won-stage", "salesforce, hubspot: a stage that means won (repeatable; replaces the default \"Closed Won\")")
	fs.Var(&t.lost, "lost-stage", "salesforce, hubspot: a stage that means lost (repeatable; replaces the default \"Closed Lost\")")
	fs.StringVar(&t.qualifiedFrom, "qualified-from", "", "salesforce, hubspot: where qualified_at comes from: created, or a column name (default: none)")
	fs.StringVar(&t.channelColumn, "channel-column", "", "salesforce, hubspot: the column that holds the channel (default: Salesforce's LeadSource)")
	fs.StringVar(&t.slashDates, "slash-dates", "", "focus, salesforce, hubspot: read dates like 4/1/25 as mdy or dmy (default: refuse them)")
	fs.StringVar(&t.tz, "tz", "", "salesforce, hubspot: time zone of times written without an offset, e.g. Europe/Berlin (default UTC)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no files given")
	}
	opt := ingest.Options{SkipInvalid: *skip, By: cliActor(env).Name, Now: time.Now()}
	tool, isTool := importer.ParseFormat(*format)
	if err := checkToolFlags(fs, tool); err != nil {
		return err
	}
	if *kind != "" {
		if isTool {
			return usagef("--kind: a %s file's kinds come from its format", tool)
		}
		k, err := domain.ParseKind(*kind)
		if err != nil {
			return usagef("--kind: %v", err)
		}
		opt.Kind = k
	}
	if *format != "" && *format != "ndjson" && *format != "csv" && !isTool {
		return usagef("--format: %q is not ndjson, csv, focus, sarif, trivy, grype, salesforce or hubspot", *format)
	}
	topt, err := t.options()
	if err != nil {
		return err
	}
	var sources []ingest.Source
	var total int64
	var stdinCSV bool
	for _, name := range files {
		if name == "-" {
			in := io.Reader(env.Stdin)
			if *format == "" {
				br := bufio.NewReaderSize(env.Stdin, 64<<10)
				stdinCSV, in = looksLikeCSV(br), br
			}
			sources = append(sources, ingest.Source{Name: "stdin", Reader: in, Format: *format})
			continue
		}
		// A file named on the command line that cannot be read is a bad
		// argument (exit 2, as catalog propose --file), named, before any
		// store is made.
		f, err := os.Open(name)
		if err != nil {
			return usagef("%s", fileProblem(name, err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return usagef("%s is a directory, not a file of records", name)
		}
		if st, err := f.Stat(); err == nil {
			total += st.Size()
		}
		sources = append(sources, ingest.Source{Name: name, Reader: f, Format: *format})
	}
	// A store made here is kept even when the import is refused: removing
	// it again could remove what another process (a server started on the
	// new directory meanwhile) had written to it.
	a, err := c.openOrCreate(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	opt.Parse = a.parseOptions()
	opt.DryRun = *dryRun
	var sum *ingest.Summary
	var notes []string
	if isTool {
		topt.Parse = opt.Parse
		rep, err := importer.Import(ctx, a.store, tool, sources, topt, opt)
		if err != nil {
			return err
		}
		sum, notes = rep.Summary, rep.Notes
	} else {
		if env.IsTerminal(env.Stderr) && total > 0 {
			bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionShowBytes(true),
				progressbar.OptionSetDescription("importing"), progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
			opt.Progress = func(n int64) { bar.Set64(n) }
			defer bar.Finish()
		}
		if sum, err = ingest.Import(ctx, a.store, sources, opt); err != nil {
			if ke := (*ingest.NoKindError)(nil); errors.As(err, &ke) {
				// Its remedy is an argument (--kind, or the file's name):
				// a usage error, exit 2, as README's rule has it.
				return usagef("%v", err)
			}
			if stdinCSV {
				// Stdin has no name to tell its format by: CSV piped in was
				// refused line by line as "not a JSON object", with no word
				// of --format.
				return fmt.Errorf("%w\nstdin is read as NDJSON; for CSV pass --format csv", err)
			}
			return err
		}
	}
	if !*dryRun {
		writeImageAfter(ctx, env, a, sum)
	}
	warnings := scorecard.ImportWarnings(a.catalog, a.engine.Config(), sum.Currencies, nil)
	// What an operator on a bad day would not otherwise see, on stderr
	// whatever the format: an empty export, a year's typo.
	for _, name := range sum.Empty {
		fmt.Fprintf(env.Stderr, "warning: %s: no records\n", name)
	}
	for _, f := range sum.Future {
		fmt.Fprintln(env.Stderr, "warning: "+futureText(f, opt.Now))
	}
	// A partial import ends with its own status, so that a script tells
	// it from a clean one (README: exit status 3).
	var partial error
	if sum.Invalid > 0 {
		partial = &exitError{code: 3, err: fmt.Errorf("%s skipped (--skip-invalid); the valid records were imported: exit status 3", plural.Count(sum.Invalid, "invalid record"))}
		if *dryRun {
			partial = &exitError{code: 3, err: fmt.Errorf("%s would be skipped (--skip-invalid); a dry run stored nothing: exit status 3", plural.Count(sum.Invalid, "invalid record"))}
		}
	}
	if *dryRun {
		// Said on stderr whatever the format, as the warnings are: the
		// counts above are what the import would do, not what it did.
		fmt.Fprintln(env.Stderr, "dry run: the records were checked and counted against the store as it is; nothing was stored")
	}
	if *asJSON {
		// The API's summary shape: encoding sum directly would give the
		// per-kind counts capitalised keys (Inserted, …) from the embedded
		// store.WriteResult, and drop the skipped lines.
		out := web.ImportSummary(sum)
		out["seconds"], out["records_per_second"] = sum.Seconds, sum.PerSecond
		if *dryRun {
			out["dry_run"] = true
		}
		if len(notes) > 0 {
			out["notes"] = notes
		}
		if len(warnings) > 0 {
			out["warnings"] = warnings
		}
		if len(sum.Empty) > 0 {
			out["empty_files"] = sum.Empty
		}
		if len(sum.Future) > 0 {
			out["future_times"] = sum.Future
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
		return partial
	}
	fmt.Fprint(env.Stdout, ingest.FormatSummary(sum))
	for _, n := range notes {
		fmt.Fprintln(env.Stdout, n)
	}
	// On stdout with the summary they qualify, as the notes are: the
	// records were imported (exit 0), and a rate added later converts them.
	for _, w := range warnings {
		fmt.Fprintln(env.Stdout, "warning: "+w.Message)
	}
	return partial
}

// futureText words records whose times lie past the clock: "2 deployment
// records have finished_at more than a day past the clock (2026-12-07
// 13:10 UTC), the first at deps.ndjson:2; imported as written, counted in
// no metric until then (a mistyped year?)".
func futureText(f ingest.FutureTimes, now time.Time) string {
	verb := "have"
	if f.Count == 1 {
		verb = "has"
	}
	msg := fmt.Sprintf("%s %s %s more than a day past the clock (%s)", plural.Count(f.Count, string(f.Kind)+" record"), verb, f.Field, now.UTC().Format("2006-01-02 15:04 MST"))
	switch {
	case f.File != "" && f.Line > 0:
		msg += fmt.Sprintf(", the first at %s:%d", f.File, f.Line)
	case f.File != "":
		msg += ", the first in " + f.File
	}
	return msg + "; imported as written, counted in no metric until then (a mistyped year?)"
}

// toolFlagFormats lists, per flag of other tools' formats, the formats it
// applies to.
var toolFlagFormats = map[string][]importer.Format{
	"source":         importer.Formats,
	"cost-column":    {importer.FOCUS},
	"service-tag":    {importer.FOCUS},
	"target":         {importer.SARIF, importer.Trivy, importer.Grype},
	"scanned-at":     {importer.SARIF, importer.Trivy, importer.Grype},
	"service":        {importer.SARIF, importer.Trivy, importer.Grype},
	"severity":       {importer.SARIF, importer.Trivy, importer.Grype},
	"won-stage":      {importer.Salesforce, importer.HubSpot},
	"lost-stage":     {importer.Salesforce, importer.HubSpot},
	"qualified-from": {importer.Salesforce, importer.HubSpot},
	"channel-column": {importer.Salesforce, importer.HubSpot},
	"tz":             {importer.Salesforce, importer.HubSpot},
	"slash-dates":    {importer.FOCUS, importer.Salesforce, importer.HubSpot},
}

// checkToolFlags refuses a format's flags given with another format: a
// flag that silently did nothing would leave the user believing it had.
func checkToolFlags(fs *flag.FlagSet, tool importer.Format) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		allowed, ok := toolFlagFormats[f.Name]
		if !ok || err != nil || slices.Contains(allowed, tool) {
			return
		}
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		err = usagef("--%s applies to --format %s only", f.Name, strings.Join(names, ", "))
	})
	return err
}

// options turns the flags into the importer's options.
func (t *toolFlags) options() (importer.Options, error) {
	opt := importer.Options{Source: t.source, SlashDates: t.slashDates}
	opt.FOCUS = importer.FOCUSOptions{CostColumn: t.costColumn, ServiceTag: t.serviceTag}
	opt.CRM = importer.CRMOptions{WonStages: t.won, LostStages: t.lost, QualifiedFrom: t.qualifiedFrom, ChannelColumn: t.channelColumn}
	opt.Scan = importer.ScanOptions{Target: t.target, Service: t.service}
	if t.scannedAt != "" {
		at, err := time.Parse(time.RFC3339Nano, t.scannedAt)
		if err != nil {
			return opt, usagef("--scanned-at: %q is not an RFC 3339 time (e.g. 2026-03-01T12:00:00Z)", t.scannedAt)
		}
		opt.Scan.ScannedAt = at
	}
	if len(t.severity) > 0 {
		opt.Scan.Severity = map[string]string{}
		for _, s := range t.severity {
			for _, pair := range strings.Split(s, ",") {
				from, to, ok := strings.Cut(pair, "=")
				if !ok || strings.TrimSpace(from) == "" {
					return opt, usagef("--severity: %q is not FROM=TO (e.g. unknown=low)", pair)
				}
				opt.Scan.Severity[from] = to
			}
		}
	}
	if t.tz != "" {
		loc, err := time.LoadLocation(t.tz)
		if err != nil {
			return opt, usagef("--tz: %q is not a time zone name (e.g. Europe/Berlin, UTC)", t.tz)
		}
		opt.Location = loc
	}
	if err := opt.Check(); err != nil {
		// The importer names its option; the flag that gave it is ours.
		err = flagError(err, map[string]string{"slash_dates": "--slash-dates", "cost_column": "--cost-column", "severity": "--severity"})
		var ue *usageError
		if !errors.As(err, &ue) {
			err = usagef("%v", err)
		}
		return opt, err
	}
	return opt, nil
}

// writeImageAfter writes the dataset image after an import of many rows,
// so the next `candor scorecard` or `candor serve` reads it instead of
// the store's rows; a failure only costs that and is said on stderr.
func writeImageAfter(ctx context.Context, env *Env, a *app, sum *ingest.Summary) {
	if a.engine.Image == "" || sum == nil || sum.Inserted+sum.Replaced < imageAfterRows {
		return
	}
	if _, err := a.engine.WriteImage(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "candor: the dataset image was not written (the next start reads the whole store): %v\n", err)
		return
	}
	// And the dataset's own state, which a start uses in place instead of
	// applying the rows: this process reads them once for every later one,
	// and builds the scorecard once so that the organisation's lead times
	// per day, most of a first scorecard's work, are in it too.
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		scorecard.Build(a.catalog, ds, scorecard.Options{AsOf: time.Now()})
		return nil
	}); err != nil {
		fmt.Fprintf(env.Stderr, "candor: the dataset state was not written: %v\n", err)
		return
	}
	if err := a.engine.WriteState(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "candor: the dataset state was not written (the next start applies the image's rows): %v\n", err)
	}
}

// imageAfterRows is how many new or replaced rows make an import write
// the image (a variable for tests).
var imageAfterRows int64 = engine.DefaultImageRows

// looksLikeCSV says whether the first line waiting in br is a CSV header
// rather than NDJSON: it does not start with "{" and holds a comma. It
// reads nothing from br.
func looksLikeCSV(br *bufio.Reader) bool {
	b, _ := br.Peek(4096)
	line, _, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")))
	return len(line) > 0 && line[0] != '{' && bytes.Contains(line, []byte(","))
}
