package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/evidence"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/plural"
)

func init() {
	register(command{name: "evidence", args: "--from DATE --to DATE --out FILE.zip [flags]", help: "write the evidence pack for a period: definitions, the period's figures, KPI snapshots, sampled releases, emergency changes, control checks, vulnerabilities past their SLA, ledger verification", run: runEvidence})
}

func runEvidence(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "evidence", "--from DATE --to DATE --out FILE.zip [flags]", "Writes the audit evidence pack for the period [--from, --to) as a zip archive: the definitions and settings in\nforce, the period's figures (figures.json: every metric as candor scorecard --as-of --to --window of the\nperiod's length computes it, with the candor metric command that gives it again), the KPI snapshots\nchained in the period, a sample of production releases with their change requests, incidents,\nrollbacks and post-mortems, release success by service tier, emergency changes and their retro-validation, the control checks of the period and the controls failing at its end per framework, the\nvulnerabilities past their SLA at its end, and the ledger verified up to its head as of --to; index.md explains each file. A date --to\nincludes its whole day. The same period over the same ledger head gives the same bytes. A --to more than a day past the\nclock is refused (exit 2); a period not ended yet (a --to of today) is packed, and the pack and this command say it had not ended.")
	var c common
	c.bind(fs)
	from := fs.String("from", "", "start of the period, a date (2026-01-01) or an RFC 3339 time")
	to := fs.String("to", "", "end of the period, a date (included) or an RFC 3339 time (excluded)")
	out := fs.String("out", "", "the zip file to write")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	now := time.Now()
	p, err := evidence.ParsePeriod(*from, *to)
	if err == nil {
		err = p.CheckEnd(now)
	}
	if err != nil {
		return usagef("--%v", err)
	}
	if *out == "" {
		return usagef("--out: required: the zip file to write")
	}
	if err := outKind(*out, ".zip", "an evidence pack is a zip archive"); err != nil {
		return usagef("%v", err)
	}
	// Made ready before the pack is built, as a report's --out is: a
	// directory that does not exist had been found only once the pack was
	// built, and said with exit 1 and without the flag's name.
	file, err := openOut(*out)
	if err != nil {
		return err
	}
	defer file.abort()
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	keys, err := a.ledgerKeys()
	if err != nil {
		return err
	}
	// The figures' freshness reads the connectors as the scorecard's does
	// (candor scorecard --as-of TO).
	conns, err := connect.Feeds(ctx, a.store, a.cfg.Connectors, p.To)
	if err != nil {
		return err
	}
	// Built in memory and written whole, so a failure leaves no half pack.
	// The CLI reads every metric: its figures hold them all.
	var buf bytes.Buffer
	in := evidence.Input{Store: a.store, Engine: a.engine, Catalog: a.catalog, Keys: keys, Governance: a.gov, Now: now, Connectors: conns}
	sum, err := evidence.Write(ctx, in, p, &buf)
	if err != nil {
		return err
	}
	if err := file.commit(buf.Bytes()); err != nil {
		return err
	}
	head := "ledger head " + ledger.FormatHead(sum.Head) + ", "
	if sum.Head.Seq == 0 {
		head = ""
	}
	open := ""
	if sum.Open {
		// Said first, where it is not missed: the head named is today's.
		open = "the period has not ended (index.md says what that means); "
		head = strings.Replace(head, "ledger head ", "ledger head when built ", 1)
	}
	fmt.Fprintf(env.Stdout, "evidence pack %s: %s%d files; %d of %s sampled, %s; %s; %s%s\n",
		*out, open, len(sum.Files), sum.Sampled, plural.Count(sum.Releases, "release"), plural.Count(sum.Snapshots, "KPI snapshot"), sum.Security(), head, sum.Verdict())
	return nil
}
