package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

func init() {
	register(command{name: "view", args: "ROLE [flags]", help: "a role view (CEO, CRO, VP Sales, …): its metrics with trends and breakdowns", run: runView})
}

// roleList names the built-in role views for help and errors. Views are
// catalog data, not configurable, so the built-in catalog has them all.
func roleList() string {
	cat, err := catalog.Default()
	if err != nil {
		return "(the catalog does not load: " + err.Error() + ")"
	}
	return strings.Join(scorecard.ViewIDs(cat), ", ")
}

func runView(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "view", "ROLE [flags]", "Shows a role view (SPEC §4): the metrics the role acts on, each with value, status, trend, weekly series\n"+
		"and its breakdown (e.g. engineering: change failure rate by service). Roles: "+roleList()+".\n"+
		"candor metric ID shows the records behind any number.")
	var c common
	c.bind(fs)
	var v viewFlags
	v.bind(fs)
	v.bindClosing(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give exactly one role: %s", roleList())
	}
	opt, err := v.options()
	if err != nil {
		return err
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
	var vr *scorecard.ViewResult
	if err := a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		var verr error
		vr, verr = scorecard.View(a.catalog, ds, rest[0], opt)
		var ue *scorecard.UnknownViewError
		if errors.As(verr, &ue) {
			return usagef("%v", verr)
		}
		if verr == nil {
			// A role view covers the whole organisation: the organisation's actions.
			escalation.Mark(ds, vr.Cards(), acks, "", opt.AsOf, opt.AsOf)
		}
		return verr
	}); err != nil {
		return err
	}
	if v.format == "json" {
		return writeJSONOut(env, vr)
	}
	fmt.Fprint(env.Stdout, scorecard.ViewText(vr, scorecard.TextOptions{Color: env.IsTerminal(env.Stdout), Currency: a.currencyAt(opt.AsOf)}))
	return nil
}
