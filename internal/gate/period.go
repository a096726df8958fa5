package gate

import (
	"context"
	"slices"
	"time"

	"github.com/candor/candor/internal/store"
)

// Period is what the gates recorded in [From, To), as an evidence pack
// lists it: every decision with its approval or rejection (settled before
// To; else pending), the emergency bypasses among them, and the
// post-deploy watch outcomes. Oldest first, so the same period over the
// same store reads the same.
type Period struct {
	Decisions []Result `json:"decisions"`
	// Bypasses counts the emergency changes let through whatever the
	// rules said; each is a decision with bypass and retro_due.
	Bypasses int `json:"bypasses"`
	// Escalated counts the escalations, Approved and Rejected how many of
	// them were settled by To.
	Escalated int     `json:"escalated"`
	Approved  int     `json:"approved"`
	Rejected  int     `json:"rejected"`
	Watches   []Watch `json:"watches"`
	// Rollbacks counts the watches that failed, Inconclusive those that
	// could not judge.
	Rollbacks    int `json:"rollbacks"`
	Inconclusive int `json:"inconclusive"`
}

// InPeriod reads the decisions, approvals and watch outcomes recorded in
// [from, to). The decisions are read through the index of their time
// (store.DocsInPeriod) and their approvals by their keys, where it had
// read and decoded every decision and approval.
func InPeriod(ctx context.Context, docs store.DocStore, from, to time.Time) (Period, error) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	out := Period{Decisions: []Result{}, Watches: []Watch{}}
	ds, err := store.DocsInPeriod(ctx, docs, store.GateDecisionAt, from, to)
	if err != nil {
		return out, err
	}
	if out.Decisions, err = decodeAll(ds); err != nil {
		return out, err
	}
	as, err := approvalsOf(ctx, docs, out.Decisions)
	if err != nil {
		return out, err
	}
	as = slices.DeleteFunc(as, func(a Approval) bool { return !a.At.Before(to) })
	settle(out.Decisions, as)
	slices.Reverse(out.Decisions)
	out.count()
	ws, err := Watches(ctx, docs)
	if err != nil {
		return out, err
	}
	for _, w := range ws {
		if in(w.At) {
			out.Watches = append(out.Watches, w)
			switch w.Outcome {
			case WatchFail:
				out.Rollbacks++
			case WatchInconclusive:
				out.Inconclusive++
			}
		}
	}
	slices.Reverse(out.Watches)
	return out, nil
}

// count counts the bypasses and escalations among p's decisions, and how
// many of those were approved and rejected.
func (p *Period) count() {
	for _, r := range p.Decisions {
		switch {
		case r.Bypass:
			p.Bypasses++
		case r.Decision == Escalate:
			p.Escalated++
			switch r.State {
			case StateApproved:
				p.Approved++
			case StateRejected:
				p.Rejected++
			}
		}
	}
}
