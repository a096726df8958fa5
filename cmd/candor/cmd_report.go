package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/report"
	"github.com/candor/candor/internal/store"
)

func init() {
	register(command{name: "report", args: "digest|board|list|resend [flags]", help: "the weekly executive digest (e-mail) and the monthly board pack (PDF): make, list and resend the archived ones", run: runReport})
}

func runReport(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "report", args, map[string]func(context.Context, *Env, []string) error{
		"digest": runReportDigest, "board": runReportBoard, "list": runReportList, "resend": runReportResend,
	}, []string{"digest", "board", "list", "resend"})
}

// reports is the report service of the configuration; its Mail is nil
// when no mail server is configured.
func (a *app) reports() (*report.Service, error) {
	set, err := a.cfg.ReportSettings(a.catalog) // checked by config.Load
	if err != nil {
		return nil, err
	}
	g, err := a.grants()
	if err != nil {
		return nil, err
	}
	svc := &report.Service{Docs: a.store, Engine: a.engine, Catalog: a.catalog, Grants: g, Settings: set,
		Currency: a.cfg.Currency, Annotations: a.cfg.ReportAnnotations(a.store)}
	if users, ok := a.store.(store.AuthStore); ok {
		svc.Users = users
	}
	if a.gov != nil {
		svc.SettingSource = func(ctx context.Context) (func(string, time.Time) (string, time.Time), error) {
			st, err := a.gov.State(ctx)
			if err != nil {
				return nil, err
			}
			return st.SettingSource, nil
		}
	}
	srv, ok, err := a.cfg.MailServer()
	if err != nil {
		return nil, err
	}
	if ok {
		svc.Mail, svc.From = srv, srv.From
	}
	if svc.From == "" {
		// A written .eml still needs a sender; the real one comes with the mail server.
		svc.From = "candor@localhost"
	}
	return svc, nil
}

// openReports opens the store and its report service.
func (c *common) openReports(ctx context.Context, env *Env) (*app, *report.Service, error) {
	a, err := c.open(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	svc, err := a.reports()
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, svc, nil
}

// addresses is a repeatable --to flag.
type addresses []string

func (a *addresses) String() string     { return strings.Join(*a, ",") }
func (a *addresses) Set(v string) error { *a = append(*a, v); return nil }

func runReportDigest(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "report digest", "[--as-of T] [--to ADDRESS ...] [--out FILE.eml] [flags]", "Builds the weekly executive digest as of T (the 7 days before it against the 7 before those) for each configured\nrecipient (reports.recipients), or for the --to addresses (a configured recipient or a Candor user; each gets only\nwhat their roles may see), archives it and sends it through the mail server (alerts.smtp or CANDOR_SMTP_URL).\nWith --out it writes the one recipient's message to FILE.eml instead of sending (archived all the same).\nAn --as-of after now is refused: the week to it has not ended, as the board pack refuses a month that has not.")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "end of the week, RFC 3339 or YYYY-MM-DD, not after now: a digest reports a week that has ended (default now)")
	var to addresses
	fs.Var(&to, "to", "a recipient's address (repeat for more; default every configured recipient)")
	out := fs.String("out", "", "write the message to this .eml file instead of sending (needs exactly one recipient)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	at, err := asOfTime(*asOf)
	if err != nil {
		return err
	}
	if err := report.WeekEnded(at, time.Now()); err != nil {
		return usagef("--as-of: %v", err)
	}
	a, svc, err := c.openReports(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if *out != "" && len(to) != 1 && len(svc.Settings.Recipients) != 1 {
		return usagef("--out writes one message: name its recipient with one --to")
	}
	var file *outFile
	if *out != "" {
		if file, err = openOut(*out); err != nil {
			return err
		}
		defer file.abort()
	}
	run, err := svc.MakeDigest(ctx, at, to, time.Time{}, *out == "", cliActor(env).Name)
	if err != nil {
		return flagError(err, map[string]string{"to": "--to"})
	}
	if *out != "" {
		if err := file.commit(run.Report.Messages[0].EML); err != nil {
			return fmt.Errorf("archived as report %d, but %w", run.Report.ID, err)
		}
		fmt.Fprintf(env.Stdout, "Digest as of %s for %s written to %s; archived as report %d.\n", at.Format(time.RFC3339), run.Report.Messages[0].To, *out, run.Report.ID)
		return nil
	}
	fmt.Fprintf(env.Stdout, "Digest as of %s sent to %s; archived as report %d.\n", at.Format(time.RFC3339), plural.Count(len(run.Report.Messages), "recipient"), run.Report.ID)
	return nil
}

func runReportBoard(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "report board", "[--month YYYY-MM] --out FILE.pdf [--send] [flags]", "Builds the monthly board pack (PDF: the one-page scorecard as of the month's end, trends, revenue and delivery\nsections, the definitions appendix with versions and sign-off state), archives it and writes it to FILE.pdf;\n--send also mails it to reports.board.to.")
	var c common
	c.bind(fs)
	month := fs.String("month", "", "the month, YYYY-MM (default the last complete month)")
	out := fs.String("out", "", "the PDF file to write")
	send := fs.Bool("send", false, "also mail it to the board recipients (reports.board.to)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	// Every mistake at once, the month's first: a bad --month was never
	// mentioned while --out was missing.
	var problems []string
	m, err := report.ParseMonth(*month, time.Now())
	if err != nil {
		problems = append(problems, fmt.Sprintf("--month: %v", err))
	}
	if *out == "" {
		problems = append(problems, "--out FILE.pdf is required")
	} else if err := outKind(*out, ".pdf", "the board pack is a PDF"); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return usagef("%s", strings.Join(problems, "; "))
	}
	a, svc, err := c.openReports(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	file, err := openOut(*out)
	if err != nil {
		return err
	}
	defer file.abort()
	run, err := svc.MakeBoard(ctx, m, time.Time{}, *send, cliActor(env).Name)
	if err != nil {
		return err
	}
	if err := file.commit(run.Report.PDF); err != nil {
		return fmt.Errorf("archived as report %d, but %w", run.Report.ID, err)
	}
	fmt.Fprintf(env.Stdout, "Board pack for %s written to %s (%d bytes); archived as report %d.\n", run.Board.MonthName(), *out, len(run.Report.PDF), run.Report.ID)
	if *send {
		fmt.Fprintf(env.Stdout, "Sent to %s.\n", strings.Join(svc.Settings.BoardTo, ", "))
	}
	return nil
}

func runReportList(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "report list", "[--format text|json] [flags]", "Lists the archived reports, newest first: id (for resend), kind, period, recipients and their sendings.")
	var c common
	c.bind(fs)
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	// Without the board packs' PDFs: the list names each, not its bytes.
	listed, err := report.ListingWithMessages(ctx, a.store)
	if err != nil {
		return err
	}
	rs := make([]report.Report, len(listed))
	for i, l := range listed {
		rs[i] = l.Report
	}
	sends, err := report.Sends(ctx, a.store, 0)
	if err != nil {
		return err
	}
	if *format == "json" {
		type item struct {
			ID          int64               `json:"id"`
			Kind        string              `json:"kind"`
			AsOf        time.Time           `json:"as_of"`
			Month       string              `json:"month,omitempty"`
			Slot        time.Time           `json:"slot,omitzero"`
			CreatedAt   time.Time           `json:"created_at"`
			By          string              `json:"by,omitempty"`
			Recipients  []string            `json:"recipients"`
			Definitions []report.Definition `json:"definitions"`
			Sends       []report.Send       `json:"sends"`
		}
		items := []item{}
		for _, r := range rs {
			it := item{ID: r.ID, Kind: r.Kind, AsOf: r.AsOf, Month: r.Month, Slot: r.Slot, CreatedAt: r.CreatedAt, By: r.By, Definitions: r.Definitions, Recipients: []string{}, Sends: []report.Send{}}
			for _, m := range r.Messages {
				it.Recipients = append(it.Recipients, m.To)
			}
			for _, s := range sends {
				if s.Report == r.ID {
					it.Sends = append(it.Sends, s)
				}
			}
			items = append(items, it)
		}
		return writeJSONOut(env, map[string]any{"reports": items})
	}
	if len(rs) == 0 {
		fmt.Fprintln(env.Stdout, "No report archived yet (candor report digest, candor report board).")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tPERIOD\tMADE\tRECIPIENTS\tSENT")
	for _, r := range rs {
		period := "week to " + r.AsOf.Format(time.DateOnly)
		if r.Kind == report.KindBoard {
			period = r.Month
		}
		made := r.CreatedAt.Format("2006-01-02 15:04")
		if r.Slot.IsZero() {
			made += " by " + r.By
		} else {
			made += " (scheduled)"
		}
		var ok, failed int
		for _, s := range sends {
			if s.Report == r.ID {
				if s.OK {
					ok++
				} else {
					failed++
				}
			}
		}
		sent := fmt.Sprintf("%d", ok)
		if failed > 0 {
			sent += fmt.Sprintf(", %d failed", failed)
		}
		var to []string
		for _, m := range r.Messages {
			to = append(to, m.To)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, period, made, strings.Join(to, ", "), sent)
	}
	return tw.Flush()
}

func runReportResend(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "report resend", "ID [--to ADDRESS ...] [flags]", "Sends archived report ID again, as archived, to its recipients (or those of them named with --to: a report never\ngoes to an address it was not made for). Each sending is recorded in the audit ledger.")
	var c common
	c.bind(fs)
	var to addresses
	fs.Var(&to, "to", "one of the report's recipients (repeat for more; default all of them)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give the report's id (candor report list shows them)")
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("ID: %q is not a report id", rest[0])
	}
	a, svc, err := c.openReports(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	r, msgs, err := svc.Resend(ctx, id, to, cliActor(env).Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Report %d (%s) sent again to %s.\n", r.ID, r.Kind, plural.Count(len(msgs), "recipient"))
	return nil
}

var _ flag.Value = (*addresses)(nil)

// outFile is a report's --out file, made before the report is archived
// and written after: a path that cannot be written had been found only
// once the report was archived (and sent, with --send) and the ledger
// moved, so a mistyped directory left an archived report no file held.
// A regular file is written beside its place and renamed into it, so a
// failed write leaves no half file; anything else that takes writes (a
// device such as /dev/stdout, a pipe) is opened as it is and written.
type outFile struct {
	path   string
	tmp    *os.File // a regular file's temporary, renamed to path
	direct *os.File // a device or pipe, written in place
}

// openOut makes ready to write path, refusing as a mistake in --out a
// directory or a place that cannot be written.
func openOut(path string) (*outFile, error) {
	fi, err := os.Stat(path) // through links: what is written is their target
	switch {
	case err == nil && fi.IsDir():
		return nil, usagef("--out %s: is a directory; name a file", path)
	case err == nil && !fi.Mode().IsRegular():
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, usagef("--out %s: %v", path, unwrapPath(err))
		}
		return &outFile{path: path, direct: f}, nil
	}
	// A link to a file is kept a link: its target is replaced.
	target := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if t, err := filepath.EvalSymlinks(path); err == nil {
			target = t
		} else if l, err := os.Readlink(path); err == nil {
			// A link to a file not made yet.
			if !filepath.IsAbs(l) {
				l = filepath.Join(filepath.Dir(path), l)
			}
			target = l
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return nil, usagef("--out %s: %v", path, unwrapPath(err))
	}
	return &outFile{path: target, tmp: tmp}, nil
}

// commit writes data and, for a regular file, puts it at its path in one
// rename.
func (f *outFile) commit(data []byte) error {
	if f.direct != nil {
		_, err := f.direct.Write(data)
		if cerr := f.direct.Close(); err == nil {
			err = cerr
		}
		f.direct = nil
		if err != nil {
			return fmt.Errorf("writing %s: %v", f.path, unwrapPath(err))
		}
		return nil
	}
	_, err := f.tmp.Write(data)
	if err == nil {
		err = f.tmp.Chmod(0o644)
	}
	if err == nil {
		err = f.tmp.Close()
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %v", f.path, unwrapPath(err))
	}
	f.tmp = nil
	return nil
}

// abort removes the temporary file unless commit put it in place.
func (f *outFile) abort() {
	if f.direct != nil {
		f.direct.Close()
	}
	if f.tmp != nil {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
}

// outKind refuses an --out whose name says another kind of file than
// the one written (ext, ".pdf"; what, "the board pack is a PDF"): a board
// pack written to pack.zip, or an evidence pack to pack.pdf, had been
// written as asked, a file its name misdescribes. A name without an
// extension (a device, /dev/stdout, a pipe) is taken.
func outKind(path, ext, what string) error {
	if e := filepath.Ext(path); e != "" && !strings.EqualFold(e, ext) {
		return fmt.Errorf("--out %s: %s: name it FILE%s", path, what, ext)
	}
	return nil
}

// unwrapPath is a path error's reason without the temporary file's name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
