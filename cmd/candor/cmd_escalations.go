package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

func init() {
	register(command{name: "escalations", args: "[--as-of T] [--scope DIM:VALUE] [flags]", help: "metrics amber, red or degrading for 7 days or more with no current action", run: runEscalations})
}

func runEscalations(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "escalations", "[--as-of T] [--scope DIM:VALUE] [flags]", "Lists the metrics that have been amber, red, unknown or degrading at every daily check for 7 days or more and have no\ncurrent acknowledgement (none, or one past its due date): P0 first, then red, then the longest-running.\nAcknowledge one with POST /api/v1/metrics/{id}/acknowledgements (owner, note, due date).")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	scopeFlag := fs.String("scope", "", "a team, service or environment, DIM:VALUE (default: the organisation and every acknowledged scope)")
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	at, err := asOfTime(*asOf)
	if err != nil {
		return err
	}
	opt := escalation.Options{AsOf: at}
	if *scopeFlag != "" {
		s, err := metrics.ParseScope(*scopeFlag)
		if err != nil {
			return usagef("--scope: %v", err)
		}
		opt.Scope = s
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	acks, err := escalation.List(ctx, a.store, "")
	if err != nil {
		return err
	}
	es := []escalation.Escalation{}
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		if err := ds.CheckScope(opt.Scope); err != nil {
			return usagef("--scope: %v", err)
		}
		es = append(es, escalation.Escalations(a.catalog, ds, acks, opt)...)
		return nil
	})
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, map[string]any{"as_of": opt.AsOf, "escalations": es})
	}
	fmt.Fprint(env.Stdout, escalationsText(es, opt.AsOf))
	return nil
}

// escalationsText lists escalations one a line.
func escalationsText(es []escalation.Escalation, asOf time.Time) string {
	var b strings.Builder
	if len(es) == 0 {
		fmt.Fprintf(&b, "No escalation as of %s: no metric has been amber, red or degrading for 7 days without a current action.\n", asOf.Format(time.RFC3339))
		return b.String()
	}
	fmt.Fprintf(&b, "Escalations as of %s: %s without a current action for 7 days or more\n", asOf.Format(time.RFC3339), plural.Count(len(es), "metric"))
	for _, e := range es {
		name := e.Name
		if e.Scope != "" {
			name += " (" + e.Scope + ")"
		}
		if e.Degrading {
			name += ", degrading"
		}
		why := "no action recorded"
		if e.Why == escalation.Overdue {
			why = fmt.Sprintf("action overdue since %s (owner %s)", e.Acknowledgement.Deadline().Format(time.DateOnly), e.Acknowledgement.Owner)
		}
		fmt.Fprintf(&b, "  %-7s %-48s %s · since %s or earlier · %s · owner %s\n", strings.ToUpper(string(e.Status)), name, why, e.Since.Format(time.DateOnly), e.Priority, e.Owner)
		if e.Reason != "" {
			fmt.Fprintf(&b, "          %s\n", e.Reason)
		}
	}
	return b.String()
}
