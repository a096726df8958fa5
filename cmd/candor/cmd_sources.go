package main

import (
	"context"
	"fmt"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

func init() {
	register(command{name: "sources", args: "[--as-of T] [--format text|json]", help: "the data sources report: records, last data, freshness per kind, and data problems", run: runSources})
}

func runSources(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "sources", "[--as-of T] [--format text|json]", "Lists, per record kind as of a time, the records that exist, the newest data, the freshness limit and\n"+
		"status (fresh, stale, never sent; state kinds are never stale by their own times), then every data\n"+
		"problem: references that name no record or several, incidents blamed on non-production deployments,\n"+
		"negative recovery spans.")
	var c common
	c.bind(fs)
	var v viewFlags
	fs.StringVar(&v.asOf, "as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	fs.StringVar(&v.format, "format", "text", "text or json")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	opt, err := v.options()
	if err != nil {
		return err
	}
	return readOut(ctx, env, &c, v.format,
		func(a *app, ds *metrics.Dataset) *scorecard.SourcesReport {
			return scorecard.Sources(a.catalog, ds, opt.AsOf)
		},
		func(a *app, r *scorecard.SourcesReport) string {
			return scorecard.SourcesText(r, scorecard.TextOptions{Color: env.IsTerminal(env.Stdout)})
		})
}

// readOut opens the store, builds a report from the dataset under the
// engine's read lock, and writes it as JSON or, for "text", as text made
// for people. Any read-only report command can use it.
func readOut[T any](ctx context.Context, env *Env, c *common, format string, build func(a *app, ds *metrics.Dataset) T, text func(a *app, r T) string) error {
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	var r T
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		r = build(a, ds)
		return nil
	}); err != nil {
		return err
	}
	if format == "json" {
		return writeJSONOut(env, r)
	}
	fmt.Fprint(env.Stdout, text(a, r))
	return nil
}
