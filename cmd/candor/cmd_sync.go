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
	register(command{name: "sync", args: "SOURCE [--since T] [--dry-run] [flags]", help: "pull a tool's records from its API (GitHub, GitLab, PagerDuty, Jira): backfill, or sources without webhooks", run: runSync})
}

func runSync(ctx context.Context, env *Env, args []string) (err error) {
	fs := flags(env, "sync", "SOURCE [--since T] [--dry-run] [flags]", "Reads SOURCE's REST API with connectors.SOURCE.sync (docs/connectors/SOURCE.md) from where its last run stopped —\n"+
		"or from T — maps each object as its webhook would and commits the records a page at a time. A run that\n"+
		"stops part-way resumes at the first page it did not commit; nothing is counted twice. Collectors: "+strings.Join(connect.SyncSources(), ", ")+".")
	var c common
	c.bind(fs)
	since := fs.String("since", "", "read from this time on, RFC 3339 or YYYY-MM-DD, instead of resuming (a backfill)")
	dry := fs.Bool("dry-run", false, "read and map, and write nothing (no record, cursor or run)")
	format := fs.String("format", "text", "text or json")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("name one collector (%s)", strings.Join(connect.SyncSources(), ", "))
	}
	// A mistyped collector is the argument's mistake, and is told before
	// the store is opened, which would make one.
	if !slices.Contains(connect.SyncSources(), rest[0]) {
		return usagef("no collector for %q (collectors: %s)", rest[0], strings.Join(connect.SyncSources(), ", "))
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	opt := connect.SyncOptions{DryRun: *dry}
	if *since != "" {
		if opt.Since, err = web.ParseTime(*since); err != nil {
			return usagef("--since: %v", err)
		}
	}
	// Like an import, a sync may be the first thing a store gets (and, as
	// an import's, a store made here is kept whatever the run gives).
	a, err := c.openOrCreate(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, err := connect.New(connect.Options{Store: a.store, Config: a.cfg.Connectors, Parse: a.parseOptions()})
	if err != nil {
		return err
	}
	sum, err := svc.Sync(ctx, rest[0], opt)
	if sum != nil {
		if *format == "json" {
			if jerr := writeJSONOut(env, sum); jerr != nil {
				return jerr
			}
		} else {
			fmt.Fprint(env.Stdout, syncText(sum))
		}
	}
	return err
}

// syncText words a run's summary for people.
func syncText(s *connect.SyncSummary) string {
	var b strings.Builder
	what := "sync"
	if s.DryRun {
		what = "dry run (nothing written)"
	}
	fmt.Fprintf(&b, "%s %s: %s, %s: %d accepted", s.Source, what, plural.Count(s.Pages, "page"), plural.Count(s.Objects, "object"), s.Accepted)
	if !s.DryRun {
		fmt.Fprintf(&b, " (%d inserted, %d replaced, %d unchanged)", s.Inserted, s.Replaced, s.Unchanged)
	}
	fmt.Fprintf(&b, ", %d ignored, %d rejected\n", s.Ignored, s.Rejected)
	for _, st := range s.Streams {
		fmt.Fprintf(&b, "  %s: %s, %s since %s\n", st.Name, plural.Count(st.Pages, "page"), plural.Count(st.Objects, "object"), st.From.Format(time.RFC3339))
	}
	var kinds []string
	for k, n := range s.Kinds {
		kinds = append(kinds, plural.Count(n, string(k)))
	}
	if len(kinds) > 0 {
		slices.Sort(kinds)
		verb := "mapped"
		if s.DryRun {
			verb = "would write"
		}
		fmt.Fprintf(&b, "  %s: %s\n", verb, strings.Join(kinds, ", "))
	}
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "  rejected %s\n", p)
	}
	if s.Rejected > len(s.Problems) {
		fmt.Fprintf(&b, "  … and %d more rejected\n", s.Rejected-len(s.Problems))
	}
	return b.String()
}
