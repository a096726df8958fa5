package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/reconcile"
)

func init() {
	register(command{name: "reconcile", args: "--metric ID --expected VALUE [flags] | --list", help: "compare a metric with the figure a source system reports, and keep the result", run: runReconcile})
}

func runReconcile(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "reconcile", "--metric ID --expected VALUE [flags] | --list [--limit N]",
		fmt.Sprintf("Compares Candor's value of a metric with the figure a source system reports (SPEC §5 data quality),\n"+
			"e.g. ARR from finance: difference and %% of the expected figure, green within %v %%, amber within %v %%,\n"+
			"red beyond, unknown when Candor has no value. Every result is kept; --list shows them, newest first.\n"+
			"The exit status is 0 whatever the result's status.", reconcile.GreenTolerancePct, reconcile.AmberTolerancePct))
	var c common
	c.bind(fs)
	var v viewFlags
	v.bind(fs)
	metric := fs.String("metric", "", "metric id, e.g. arr")
	expected := fs.String("expected", "", "the figure the source system reports, in the metric's unit (e.g. 1200000 or 12.5)")
	source := fs.String("source", "", "name of the system the figure comes from, e.g. finance")
	note := fs.String("note", "", "free-text note kept with the result")
	list := fs.Bool("list", false, "list the kept results, newest first")
	limit := fs.Int("limit", 20, "with --list: how many results")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opt, err := v.options()
	if err != nil {
		return err
	}
	if *list {
		var extra []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "metric", "expected", "source", "note", "as-of", "window", "month":
				extra = append(extra, "--"+f.Name)
			}
		})
		if len(extra) > 0 {
			return usagef("--list does not take %s", strings.Join(extra, ", "))
		}
		if *limit < 1 {
			return usagef("--limit: %d is not a positive number", *limit)
		}
		return listReconciliations(ctx, env, c, v.format, *limit)
	}
	switch {
	case *metric == "":
		return usagef("--metric is required (or --list)")
	case *expected == "":
		return usagef("--expected is required: the figure the source system reports")
	case len(*source) > reconcile.MaxSourceLen:
		return usagef("--source: longer than %d bytes", reconcile.MaxSourceLen)
	case len(*note) > reconcile.MaxNoteLen:
		return usagef("--note: longer than %d bytes", reconcile.MaxNoteLen)
	}
	exp, err := strconv.ParseFloat(*expected, 64)
	if err != nil || math.IsNaN(exp) || math.IsInf(exp, 0) {
		return usagef("--expected: %q is not a number (write 1200000, not 1,200,000 or 1.2M)", *expected)
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	var res reconcile.Result
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		var cerr error
		res, cerr = reconcile.Check(a.catalog, ds, *metric, exp, opt.AsOf, opt.Window)
		var ue *reconcile.UnknownMetricError
		if errors.As(cerr, &ue) {
			return unknownMetric(a.catalog, "--metric: ", *metric)
		}
		return cerr
	}); err != nil {
		return err
	}
	res.Source, res.Note = *source, *note
	if res, err = reconcile.Save(ctx, a.store, res); err != nil {
		return err
	}
	if v.format == "json" {
		return writeJSONOut(env, res)
	}
	fmt.Fprint(env.Stdout, reconcile.Text(res, a.currencyAt(res.AsOf)))
	return nil
}

func listReconciliations(ctx context.Context, env *Env, c common, format string, limit int) error {
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	rs, err := reconcile.List(ctx, a.store, limit)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSONOut(env, map[string]any{"reconciliations": rs})
	}
	fmt.Fprint(env.Stdout, reconcile.ListText(rs, a.currencyAt))
	return nil
}
