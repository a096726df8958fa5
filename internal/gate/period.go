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
// [from, to).
func InPeriod(ctx context.Context, docs store.DocStore, from, to time.Time) (Period, error) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	out := Period{Decisions: []Result{}, Watches: []Watch{}}
	all, err := store.DecodeDocs(ctx, docs, DecisionCollection, func(r *Result, id int64) { r.ID = id })
	if err != nil {
		return out, err
	}
	as, err := Approvals(ctx, docs)
	if err != nil {
		return out, err
	}
	as = slices.DeleteFunc(as, func(a Approval) bool { return !a.At.Before(to) })
	for _, r := range all {
		if in(r.At) {
			out.Decisions = append(out.Decisions, r)
		}
	}
	settle(out.Decisions, as)
	slices.Reverse(out.Decisions)
	for _, r := range out.Decisions {
		switch {
		case r.Bypass:
			out.Bypasses++
		case r.Decision == Escalate:
			out.Escalated++
			switch r.State {
			case StateApproved:
				out.Approved++
			case StateRejected:
				out.Rejected++
			}
		}
	}
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
