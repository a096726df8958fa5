package main

import (
	"context"
	"fmt"
	"time"

	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
)

// demoLeftOpen is how many of the demo's escalations are left without an
// action: enough to show what an escalation looks like on the scorecard,
// few enough that the page reads like an organisation whose owners work
// on their amber and red numbers rather than one where nobody does.
const demoLeftOpen = 3

// demoNotes are plausible actions per pillar, the kind an owner writes.
var demoNotes = map[string]string{
	"reliability": "Review of the last two outages with the on-call leads; risky changes wait until the error budget recovers",
	"security":    "Patch sprint with the platform team; vulnerability triage moves to weekly",
	"delivery":    "Canary stage and automatic rollback added to the pipeline of the three services with most failures",
	"cost":        "Rightsizing review of the five most expensive services with FinOps",
	"customer":    "Calls with the ten lowest-scoring accounts; the top ticket driver is fixed first",
	"growth":      "Pipeline review with sales leadership; campaign spend moves to the channels that convert",
}

// demoActions records, as each metric's owner, an action on every metric
// the demo organisation would escalate except the first demoLeftOpen (P0
// and red first), the way the owners of a real organisation would have.
// The acknowledgements go through the same checks and ledger as any other
// and say they were recorded by the demo. It returns how many it recorded
// and how many escalations remain.
func demoActions(ctx context.Context, a *app, now time.Time) (recorded, left int, err error) {
	acks, err := escalation.List(ctx, a.store, "")
	if err != nil {
		return 0, 0, err
	}
	if len(acks) > 0 {
		// A kept demo directory (--data) already has its owners' actions.
		return 0, 0, nil
	}
	// Pages read as of the current minute: an action recorded later in the
	// minute would not be in force on them until the next one.
	now = now.Truncate(time.Minute).Add(-time.Second)
	var prepared []escalation.Acknowledgement
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		es := escalation.Escalations(a.catalog, ds, nil, escalation.Options{AsOf: now})
		left = min(len(es), demoLeftOpen)
		for i, e := range es[left:] {
			m, ok := a.catalog.Metric(e.Metric)
			if !ok {
				continue
			}
			in := escalation.Input{
				Owner: m.Owner,
				Note:  demoNotes[m.Pillar],
				Due:   now.AddDate(0, 0, 10+i%3*4).Format(time.DateOnly),
				Scope: e.Scope,
			}
			if in.Note == "" {
				in.Note = "Owner reviewing the cause with the team"
			}
			ack, err := escalation.Prepare(a.catalog, ds, e.Metric, in, "demo", now)
			if err != nil {
				return fmt.Errorf("demo action on %s: %w", e.Metric, err)
			}
			prepared = append(prepared, ack)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for _, ack := range prepared {
		if _, err := escalation.Record(ctx, a.store, ack); err != nil {
			return recorded, left, err
		}
		recorded++
	}
	return recorded, left, nil
}
