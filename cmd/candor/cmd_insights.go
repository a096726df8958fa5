package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/insight"
	"github.com/candor/candor/internal/metrics"
)

func init() {
	register(command{name: "insights", args: "[--as-of T] [--window W] [--month YYYY-MM] [--format text|json]", help: "improvement insights from the KPI history: each with its statement, numbers, test and a suggested action", run: runInsights})
}

func runInsights(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "insights", "[--as-of T] [--window W] [--month YYYY-MM] [--format text|json]", "Runs the insight analyses (deploy_time_risk, recurring_after_release, mttr_over_target, canary_candidate,\nkpi_retirement, dora_outcomes; docs/insights.md) and prints what they found, with the numbers and the\nnamed test behind each, then the analyses that found nothing and why. Thresholds, windows and minimum\nsamples are the configuration's impact.insights.")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	window := fs.String("window", "", "replaces every analysis's own window, e.g. 90d (default: each its configured one)")
	month := fs.String("month", "", "a calendar month that has ended, YYYY-MM (UTC), instead of --as-of and --window: every analysis over its days, as of its next month's first instant")
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	var opt insight.Options
	var err error
	if *month != "" {
		m, err := monthFlag(*month, *asOf, *window)
		if err != nil {
			return err
		}
		opt.AsOf, opt.Window = m.End(), m.Window()
	} else if opt.AsOf, err = asOfTime(*asOf); err != nil {
		return err
	}
	if *window != "" {
		if opt.Window, err = catalog.ParseMetricWindow(*window); err != nil {
			return usagef("--window: %v", err)
		}
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, st, err := c.openImpact(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	var rep insight.Report
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		rep = insight.Compute(a.catalog, ds, st, opt)
		return nil
	})
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, rep)
	}
	fmt.Fprint(env.Stdout, insightsText(rep))
	return nil
}

// insightsText prints each insight as a short paragraph.
func insightsText(rep insight.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Insights as of %s (weekdays and hours in %s)\n\n", rep.AsOf.Format(time.RFC3339), rep.TimeZone)
	if len(rep.Insights) == 0 {
		b.WriteString("No analysis found an effect worth acting on.\n\n")
	}
	for _, in := range rep.Insights {
		fmt.Fprintf(&b, "%s — %s\n  %s\n  Suggested: %s\n  Test: %s\n\n", in.Title, in.Subject, in.Statement, in.Action, in.Test)
	}
	if len(rep.Quiet) > 0 {
		b.WriteString("Nothing to report:\n")
		for _, q := range rep.Quiet {
			fmt.Fprintf(&b, "  %s: %s.\n", q.Title, q.Reason)
		}
	}
	return b.String()
}

// openImpact opens the store with the configuration's impact settings.
func (c *common) openImpact(ctx context.Context, env *Env) (*app, insight.Settings, error) {
	a, err := c.open(ctx, env)
	if err != nil {
		return nil, insight.Settings{}, err
	}
	st, err := a.cfg.Impact.Resolve()
	if err != nil {
		a.Close()
		return nil, st, err
	}
	return a, st, nil
}
