package main

import (
	"context"
	"fmt"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

func init() {
	register(command{name: "sources", args: "[--as-of T] [--period D] [--format text|json]", help: "the data sources report: records, last data, freshness per kind, money without an exchange rate, data problems, and each connector's health", run: runSources})
}

func runSources(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "sources", "[--as-of T] [--period D] [--format text|json]", "Lists, per record kind as of a time, the records that exist, the newest data (\"period open\" for a\n"+
		"period begun and not ended, such as this quarter's quota) and the freshness limit and status (fresh,\n"+
		"stale, never sent, or not judged: a state kind is never stale by its own times, only by a connector\n"+
		"that feeds it, and without one nothing judges it), then the money held in a currency without an\n"+
		"exchange rate (the metrics it leaves without a value, the setting to add), then every data problem:\n"+
		"references that name no record or several, incidents blamed on non-production deployments, negative\n"+
		"recovery spans; then each connector configured or heard from: when it last worked, its deliveries by\n"+
		"outcome over the period, its latest rejects with their reasons, its collector's last run and errors.")
	var c common
	c.bind(fs)
	var v viewFlags
	fs.StringVar(&v.asOf, "as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	fs.StringVar(&v.format, "format", "text", "text or json")
	period := fs.String("period", "7d", "the period before --as-of that connectors' delivery counts cover")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opt, err := v.options()
	if err != nil {
		return err
	}
	p, err := catalog.ParseWindow(*period)
	if err != nil {
		return usagef("--period: %v", err)
	}
	var conns []health.Connector
	return readOut(ctx, env, &c, v.format,
		func(a *app) (err error) {
			conns, err = connect.Health(ctx, a.store, a.cfg.Connectors, opt.AsOf, p)
			return err
		},
		func(a *app, ds *metrics.Dataset) *scorecard.SourcesReport {
			return scorecard.Sources(a.catalog, ds, opt.AsOf, conns...)
		},
		func(a *app, r *scorecard.SourcesReport) string {
			return scorecard.SourcesText(r, scorecard.TextOptions{Color: env.IsTerminal(env.Stdout)})
		})
}

// readOut opens the store, reads what the report needs besides the
// dataset (prepare), builds the report from the dataset under the
// engine's read lock, and writes it as JSON or, for "text", as text made
// for people. Any read-only report command can use it.
func readOut[T any](ctx context.Context, env *Env, c *common, format string, prepare func(a *app) error, build func(a *app, ds *metrics.Dataset) T, text func(a *app, r T) string) error {
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := prepare(a); err != nil {
		return err
	}
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
