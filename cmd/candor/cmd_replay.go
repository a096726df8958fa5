package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/web"
)

func init() {
	register(command{name: "replay", args: "SOURCE [--since T] [flags]", help: "map a webhook source's kept payloads again with the current rules", run: runReplay})
}

func runReplay(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "replay", "SOURCE [--since T] [flags]", "Maps every payload of the webhook SOURCE kept since T (connectors.payload_retention) again with the\n"+
		"current mapping rules and commits the records as a delivery would: records whose mapping changed are\n"+
		"replaced, nothing is counted twice, and a delivery rejected before and accepted now counts. Signatures\n"+
		"are not checked again. Sources: "+strings.Join(connect.Sources(), ", ")+".")
	var c common
	c.bind(fs)
	since := fs.String("since", "", "replay payloads received at or after this time, RFC 3339 or YYYY-MM-DD (default: every kept one)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("name one source (%s)", strings.Join(connect.Sources(), ", "))
	}
	// A mistyped source is the argument's mistake, told before the store
	// is opened.
	if !slices.Contains(connect.Sources(), rest[0]) {
		return usagef("no webhook source %q (known: %s)", rest[0], strings.Join(connect.Sources(), ", "))
	}
	var from time.Time
	if *since != "" {
		if from, err = web.ParseTime(*since); err != nil {
			return usagef("--since: %v", err)
		}
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, err := connect.New(connect.Options{Store: a.store, Config: a.cfg.Connectors, Parse: a.parseOptions()})
	if err != nil {
		return err
	}
	sum, err := svc.Replay(ctx, rest[0], from)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s replayed: %d accepted (%d inserted, %d replaced, %d unchanged), %d ignored, %d still rejected\n",
		plural.Counts(sum.Deliveries, sum.Source+" delivery", sum.Source+" deliveries"), sum.Accepted, sum.Inserted, sum.Replaced, sum.Unchanged, sum.Ignored, sum.Rejected)
	for _, p := range sum.Problems {
		fmt.Fprintf(env.Stdout, "  %s\n", p)
	}
	if sum.Rejected > len(sum.Problems) {
		fmt.Fprintf(env.Stdout, "  … and %d more\n", sum.Rejected-len(sum.Problems))
	}
	return nil
}
