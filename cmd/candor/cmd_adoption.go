package main

import (
	"context"
	"fmt"
	"time"

	"github.com/candor/candor/internal/adoption"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/web"
)

func init() {
	register(command{name: "adoption", args: "weeks|review [flags]", help: "who opened which page, metric and view per week (counts); the quarterly review: metrics and views nobody opened, metrics red and never acknowledged", run: runAdoption})
}

func runAdoption(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "adoption", args, map[string]func(context.Context, *Env, []string) error{
		"weeks": runAdoptionWeeks, "review": runAdoptionReview,
	}, []string{"weeks", "review"})
}

func runAdoptionWeeks(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "adoption weeks", "[--from T] [--to T] [flags]",
		"Prints the adoption counts of the weeks holding --from and --to (default: the 13 weeks up to now): per week,\n"+
			"person, route and metric or role view, how many opens — counts only, never what a page showed.")
	var c common
	c.bind(fs)
	from := fs.String("from", "", "first day, RFC 3339 or YYYY-MM-DD (default 12 weeks before --to)")
	to := fs.String("to", "", "last day, RFC 3339 or YYYY-MM-DD (default now)")
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	var t [2]time.Time
	for i, f := range []struct{ name, v string }{{"--from", *from}, {"--to", *to}} {
		if f.v == "" {
			continue
		}
		var err error
		if t[i], err = web.ParseTime(f.v); err == nil {
			err = web.CheckAsOf(t[i], time.Now())
		}
		if err != nil {
			return usagef("%s: %v", f.name, err)
		}
	}
	fw, tw, err := adoption.Span(t[0], t[1], time.Now())
	if err == nil {
		err = checkFormat(*format)
	}
	if err != nil {
		return usagef("%v", err)
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	counts, err := adoption.LoadCounts(ctx, a.store, fw, tw)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, counts)
	}
	_, err = fmt.Fprint(env.Stdout, counts.Text())
	return err
}

func runAdoptionReview(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "adoption review", "[--as-of T] [flags]",
		"Prints the quarterly review (the 13 weeks up to --as-of's): the metrics and role views nobody opened — candidates to\n"+
			"retire (candor catalog propose --metric ID --retire) — and the metrics red at a weekly check with no acknowledgement.\n"+
			"Opens are counted by candor serve, per person and week; only the weeks since the counts began are reviewed, and\n"+
			"fewer than 4 are not judged.")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	at, err := asOfTime(*asOf)
	if err == nil {
		err = checkFormat(*format)
	}
	if err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	kept, err := adoption.ReadKept(ctx, a.store, at)
	if err != nil {
		return err
	}
	var rv *adoption.Review
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		rv = adoption.Build(a.catalog, ds, kept, at, nil)
		return nil
	}); err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, rv)
	}
	_, err = fmt.Fprint(env.Stdout, rv.Text())
	return err
}
