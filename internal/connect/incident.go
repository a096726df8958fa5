package connect

import (
	"context"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Incident tools send one event per step (triggered, acknowledged,
// resolved), each carrying part of the incident, and not always in order.
// Each step updates the one incident record of its id, merged with what
// earlier steps stored.

// incidentUpdate is one step of an incident.
type incidentUpdate struct {
	inc *domain.Incident
	// reopen clears a stored resolution (PagerDuty's incident.reopened).
	reopen bool
	// severityFallback is the severity when neither this step nor a stored
	// one knows it.
	severityFallback string
	// resolvedIfUnknown resolves the incident when no step said when: a
	// later step of a resolved incident whose resolution was missed.
	resolvedIfUnknown time.Time
	// at is when the step happened, as its source says (PagerDuty's
	// occurred_at); zero for the state now (a collector) or a source
	// whose steps carry no time. A step older than the newest applied
	// to the incident (the record's event clock) changes neither its
	// resolution nor a field it has.
	at time.Time
}

// merge combines the update with the stored incident: the incident opened
// (and was detected) at the earliest time any step says, stays resolved
// unless reopened, and keeps what earlier steps knew and this one does
// not. Steps arrive in any order: one that resolves or reopens the
// incident, or says it is resolved, and is older than the newest that
// resolved or reopened it (the record's event clock) changes nothing of
// its resolution, so a late reopening cannot wipe a newer resolution nor a
// late resolution replace a newer one.
func (u incidentUpdate) merge(ctx context.Context, st *state) (domain.Record, error) {
	in := u.inc
	var old domain.Incident
	ok, err := st.get(ctx, domain.KindIncident, in.ID, &old)
	if err != nil {
		return nil, err
	}
	// Other steps (acknowledged, priority changed) say nothing of the
	// resolution: they neither read nor move the clock.
	changes := u.reopen || !in.ResolvedAt.IsZero()
	var clk clock
	if !u.at.IsZero() && (changes || !u.resolvedIfUnknown.IsZero()) {
		if clk, err = st.clock(ctx, domain.KindIncident, in.ID); err != nil {
			return nil, err
		}
	}
	stale := clk.stale(u.at)
	if ok {
		in.OpenedAt = earliest(old.OpenedAt, in.OpenedAt)
		in.DetectedAt = earliest(old.DetectedAt, in.DetectedAt)
		if stale || in.ResolvedAt.IsZero() && !u.reopen {
			in.ResolvedAt = old.ResolvedAt
		}
		for _, f := range []struct{ new, old *string }{
			{&in.Service, &old.Service}, {&in.Severity, &old.Severity}, {&in.URL, &old.URL}, {&in.Fingerprint, &old.Fingerprint},
			{&in.Origin, &old.Origin}, {&in.Category, &old.Category}, {&in.CausedBy, &old.CausedBy},
		} {
			// A stale step's fields are older than the stored ones too:
			// a late reopening at low urgency had turned a P2 into a P4.
			if *f.new == "" || stale && *f.old != "" {
				*f.new = *f.old
			}
		}
		in.CustomerFacing = in.CustomerFacing || old.CustomerFacing
	} else if stale {
		// A clock but no record: kept by an earlier version, which wrote
		// a step's time before its commit, for a delivery that failed and
		// may be retried; this older step must not decide the resolution
		// meanwhile.
		in.ResolvedAt = time.Time{}
	}
	if in.Severity == "" {
		in.Severity = u.severityFallback
	}
	if in.ResolvedAt.IsZero() && !u.reopen && !stale {
		in.ResolvedAt = u.resolvedIfUnknown
	}
	if changes {
		if err := st.advance(domain.KindIncident, in.ID, clk, u.at); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// earliest is the earlier of two times, ignoring a zero one.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// incidents is a parsed delivery of incident steps, merged when built.
func incidents(id, event string, ups ...incidentUpdate) *parsed {
	return &parsed{id: id, event: event, build: func(ctx context.Context, st *state) (built, error) {
		var out built
		for _, u := range ups {
			r, err := u.merge(ctx, st)
			if err != nil {
				return built{}, err
			}
			out.records = append(out.records, r)
		}
		return out, nil
	}}
}

// incidentCategory is an incident category as a sender's label, tag or
// mapping gives it, in the one spelling every source records (a label's
// "Security" and a tag's "security" are one category on a breakdown).
func incidentCategory(v string) string { return strings.ToLower(strings.TrimSpace(v)) }
