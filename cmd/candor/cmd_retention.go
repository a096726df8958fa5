package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/retention"
)

func init() {
	register(command{name: "retention", args: "apply [--dry-run] [flags]", help: "pseudonymise customers and erase personal text past the retention periods, in the records and the audit ledger", run: runRetention})
}

func runRetention(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "retention", args, map[string]func(context.Context, *Env, []string) error{"apply": runRetentionApply}, []string{"apply"})
}

func runRetentionApply(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "retention apply", "[--dry-run] [--json] [flags]", "Applies the retention: configuration now (the leader of candor serve also does, every retention.every):\ncustomers whose every record is past its kind's period get a keyed pseudonym, the same in every record, so\nevery metric value stays the same; ticket text and change authors past their period are erased; so is the\naudit ledger's personal data past the ledger's period (its chain still verifies), and in the documents it\nchains (access events, acknowledgements, escalations, proposals and decisions) people get pseudonyms and notes\nand addresses are erased, and adoption counts forget who opened what. --dry-run only reports.")
	var c common
	c.bind(fs)
	dry := fs.Bool("dry-run", false, "report what would change and change nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	p, _, err := a.retentionPolicy(*dry)
	if err != nil {
		return err
	}
	if !p.Enabled() {
		return fmt.Errorf("no retention is configured: set retention.personal_after or retention.periods (docs/configuration.md)")
	}
	rep, err := retention.Apply(ctx, a.store, p, time.Now(), *dry)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(env, rep)
	}
	pseud, erased := "pseudonymised", "erased"
	if *dry {
		pseud, erased = "would pseudonymise", "would erase"
	}
	var periods []string
	for _, k := range slices.Sorted(maps.Keys(rep.Periods)) {
		periods = append(periods, k+" "+rep.Periods[k])
	}
	fmt.Fprintf(env.Stdout, "retention (%s): %s %d customers in %d records; %s the personal text of %d records and the personal data of %d ledger entries; %s people in %d documents and %d adoption counts\n",
		strings.Join(periods, ", "), pseud, rep.Customers, sum(rep.Pseudonymised), erased, sum(rep.Erased), rep.LedgerErased, pseud, sum(rep.Documents), rep.Openers)
	return nil
}

func sum[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// retentionPolicy is the configured retention with its pseudonym key (read
// or made only when retention is enabled), and how often the leader
// applies it. A dry run makes no key: where none was made yet it counts
// with a key of its own, which what it reports does not depend on.
func (a *app) retentionPolicy(dry bool) (retention.Policy, time.Duration, error) {
	p, every, err := a.cfg.RetentionPolicy()
	if err != nil || !p.Enabled() {
		return p, every, err
	}
	if !dry {
		p.Key, _, err = a.cfg.RetentionKey()
		return p, every, err
	}
	if p.Key, _, err = a.cfg.RetentionKeyIfMade(); err != nil || p.Key != nil {
		return p, every, err
	}
	p.Key = make([]byte, 32)
	_, err = rand.Read(p.Key)
	return p, every, err
}
