package main

import (
	"context"
	"fmt"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/schedule"
)

func init() {
	register(command{name: "snapshot", args: "[--as-of T] [flags]", help: "store a KPI snapshot now (the scorecard as of a time), chained in the audit ledger", run: runSnapshot})
}

func runSnapshot(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "snapshot", "[--as-of T] [flags]", "Stores the scorecard as of now (or --as-of) as a KPI snapshot, beside the weekly ones the server takes, and\nchains it in the audit ledger: its digest and every metric's status.")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	at, err := asOfTime(*asOf)
	if err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	doc, err := schedule.Take(ctx, a.store, a.engine, a.catalog, at, cliActor(env).Name)
	if err != nil {
		return err
	}
	h, err := a.store.LedgerHead(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "KPI snapshot as of %s stored (document %d); ledger head %s\n", at.Format(time.RFC3339), doc.ID, ledger.FormatHead(h))
	return nil
}
