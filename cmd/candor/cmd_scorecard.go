package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/jsonenc"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

func init() {
	register(command{name: "scorecard", args: "[flags]", help: "the one-page executive scorecard", run: runScorecard, oneShot: true})
	register(command{name: "metric", args: "ID [flags]", help: "one metric: definition, value, breakdown and the records behind it", run: runMetric, oneShot: true})
}

// viewFlags are the as-of, window and format flags of read commands.
type viewFlags struct {
	asOf, window, month, format string
	closing                     bool
}

func (v *viewFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&v.asOf, "as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	fs.StringVar(&v.window, "window", "", "window length, e.g. 30d, 2w, 12h (default: each metric's own, 30d for most)")
	fs.StringVar(&v.month, "month", "", "a calendar month that has ended, YYYY-MM (UTC), instead of --as-of and --window: as of its next month's first instant, over its days")
	fs.StringVar(&v.format, "format", "text", "text or json")
}

// bindClosing adds --closing, for the reads that compute figures (not the
// data sources report, nor a reconciliation, which keeps its as_of and
// window alone).
func (v *viewFlags) bindClosing(fs *flag.FlagSet) {
	// A quarter's evidence pack states Q3's quota attainment as of 1
	// October; read as of that instant by SPEC §3's rule, it is Q4's,
	// begun with nothing won. The pack's rederive command asks for this.
	fs.BoolVar(&v.closing, "closing", false, "read each quota period as the one closing at --as-of (ending then), as board and evidence packs report it, not the one beginning then")
}

func (v *viewFlags) options() (scorecard.Options, error) {
	opt := scorecard.Options{AsOf: time.Now().UTC(), Closing: v.closing}
	if v.month != "" {
		m, err := monthFlag(v.month, v.asOf, v.window)
		if err != nil {
			return opt, err
		}
		opt.AsOf, opt.Window = m.End(), m.Window()
	}
	if v.asOf != "" {
		t, err := asOfTime(v.asOf)
		if err != nil {
			return opt, err
		}
		opt.AsOf = t
	}
	if v.window != "" {
		d, err := catalog.ParseMetricWindow(v.window)
		if err != nil {
			return opt, usagef("--window: %v", err)
		}
		opt.Window = d
	}
	if err := checkFormat(v.format); err != nil {
		return opt, err
	}
	return opt, nil
}

// monthFlag reads --month: a calendar month that has ended, given instead
// of --as-of and --window, which it stands for.
func monthFlag(month, asOf, window string) (catalog.Month, error) {
	m, err := catalog.MonthInstead(month, asOf != "" || window != "", time.Now())
	if err != nil {
		return m, usagef("--month: %v", err)
	}
	return m, nil
}

// writeJSONOut writes v indented, as json.Encoder with two spaces would
// (jsonenc: the scorecard's JSON without reflection, indented in one pass).
func writeJSONOut(env *Env, v any) error {
	var scratch []byte
	b, err := jsonenc.AppendIndented(nil, v, &scratch)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(append(b, '\n'))
	return err
}

func runScorecard(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "scorecard", "[flags]", "Prints the executive scorecard (SPEC §4): pillars, headline metrics, status, trend, owner.")
	var c common
	c.bind(fs)
	var v viewFlags
	v.bind(fs)
	v.bindClosing(fs)
	all := fs.Bool("all", false, "list every metric in text output")
	// The pages' team, service, environment and business unit filters: a
	// VP Sales had them on the page and "unknown flag --team" here.
	scope := fs.String("scope", "", "narrow to one group, DIMENSION:VALUE (team:payments, service:api, environment:staging, business_unit:commerce; several joined by commas): a metric that cannot be broken down so is left out, as on the page")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opt, err := v.options()
	if err != nil {
		return err
	}
	if *scope != "" {
		if opt.Scope, err = metrics.ParseScope(*scope); err != nil {
			return usagef("--scope: %v", err)
		}
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if opt.Connectors, err = connect.Feeds(ctx, a.store, a.cfg.Connectors, opt.AsOf); err != nil {
		return err
	}
	acks, err := escalation.List(ctx, a.store, "")
	if err != nil {
		return err
	}
	// The scorecard asked, computed once: before a first load's state is
	// written its results are taken by the dataset read back from it.
	a.engine.Prime = func(ds *metrics.Dataset) { scorecard.Build(a.catalog, ds, opt) }
	var sc *scorecard.Scorecard
	var es []escalation.Escalation
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		// A team or service the data does not have is a mistake named
		// with the known ones, never an empty scorecard (SPEC §4).
		if err := ds.CheckScope(opt.Scope); err != nil {
			return usagef("--scope: %v", err)
		}
		sc = scorecard.Build(a.catalog, ds, opt)
		escalation.Mark(ds, sc.Cards(), acks, opt.Scope.String(), opt.AsOf, opt.AsOf)
		if v.format != "json" {
			// What escalates, as the scorecard page's panel lists it above
			// the pillars and candor escalations words it: a pillar's lines
			// leave its amber metrics out, an escalated P0 among them.
			es = escalation.Escalations(a.catalog, ds, acks, escalation.Options{AsOf: opt.AsOf, Scope: opt.Scope, Closing: opt.Closing})
		}
		return nil
	}); err != nil {
		return err
	}
	if v.format == "json" {
		return writeJSONOut(env, sc)
	}
	text := scorecard.Text(sc, scorecard.TextOptions{Color: env.IsTerminal(env.Stdout), All: *all, Currency: a.currencyAt(sc.AsOf)})
	if len(es) > 0 {
		// After the heading and the DORA line, before the pillars.
		head, rest, _ := strings.Cut(text, "\n\n")
		text = head + "\n\n" + escalationsText(es, opt.AsOf) + "\n" + rest
	}
	fmt.Fprint(env.Stdout, text)
	return nil
}

func runMetric(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "metric", "ID [flags]", "Shows one metric's definition, value, status, trend, breakdown and the ids of the records behind it.")
	var c common
	c.bind(fs)
	var v viewFlags
	v.bind(fs)
	v.bindClosing(fs)
	by := fs.String("by", "", "break down by a dimension: team, service, environment, tier, business_unit (and others per metric: origin, segment, priority, …)")
	scope := fs.String("scope", "", "restrict to one group, DIMENSION:VALUE (e.g. team:payments; several joined by commas)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give exactly one metric id")
	}
	opt, err := v.options()
	if err != nil {
		return err
	}
	var sc metrics.Scope
	if *scope != "" {
		if sc, err = metrics.ParseScope(*scope); err != nil {
			return usagef("--scope: %v", err)
		}
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if opt.Connectors, err = connect.Feeds(ctx, a.store, a.cfg.Connectors, opt.AsOf); err != nil {
		return err
	}
	if _, ok := a.catalog.Metric(rest[0]); !ok {
		return unknownMetric(a.catalog, "", rest[0])
	}
	// Before the engine's read (scorecard.SettingSource.Name says why).
	gs, err := a.gov.State(ctx)
	if err != nil {
		return err
	}
	var d *scorecard.MetricDetail
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		var derr error
		d, derr = scorecard.Detail(a.catalog, ds, rest[0], opt, *by, sc)
		// A dimension the metric lacks is a command-line mistake (exit 2);
		// anything else (a metric not computed yet, a store error) is not.
		var de *scorecard.DimensionError
		if errors.As(derr, &de) {
			return usagef("--%s: %v", de.Param, derr)
		}
		if derr != nil {
			return derr
		}
		// Text lists the first records, JSON all of them; each with its
		// row fields, read from the dataset under its lock.
		n := len(d.Records)
		if v.format == "text" {
			// The first records, in the order the metric's page lists them.
			d.NotedFirst(ds)
			n = scorecard.TextRecords
		}
		d.Page(ds, 0, n)
		return nil
	}); err != nil {
		return err
	}
	scorecard.SettingSource(gs.SettingSource).Name(d.Definition.Settings, opt.AsOf)
	scorecard.ComputationSource(gs.CustomMetricsProposal).Name(d.Definition.Computation)
	if v.format == "json" {
		return writeJSONOut(env, d)
	}
	fmt.Fprint(env.Stdout, scorecard.DetailText(d, scorecard.TextOptions{Color: env.IsTerminal(env.Stdout), Currency: a.currencyAt(opt.AsOf)}))
	return nil
}

// unknownMetric is the usage error for a metric id the catalog does not
// hold (after prefix, the flag's name when a flag gave it): the closest
// id by spelling first — "change_failure_rat" had been answered with the
// seventy ids alone — then every known one.
func unknownMetric(cat *catalog.Catalog, prefix, id string) error {
	ids := make([]string, 0, len(cat.Metrics))
	for _, m := range cat.Metrics {
		ids = append(ids, m.ID)
	}
	if near := domain.Closest(id, ids); near != "" {
		return usagef("%sunknown metric %q (did you mean %q?); known: %s", prefix, id, near, strings.Join(ids, ", "))
	}
	return usagef("%sunknown metric %q; known: %s", prefix, id, strings.Join(ids, ", "))
}
