package connect

import (
	"context"
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
}

// merge combines the update with the stored incident: the incident opened
// (and was detected) at the earliest time any step says, stays resolved
// unless reopened, and keeps what earlier steps knew and this one does
// not.
func (u incidentUpdate) merge(ctx context.Context, st *state) (domain.Record, error) {
	in := u.inc
	var old domain.Incident
	ok, err := st.get(ctx, domain.KindIncident, in.ID, &old)
	if err != nil {
		return nil, err
	}
	if ok {
		in.OpenedAt = earliest(old.OpenedAt, in.OpenedAt)
		in.DetectedAt = earliest(old.DetectedAt, in.DetectedAt)
		if in.ResolvedAt.IsZero() && !u.reopen {
			in.ResolvedAt = old.ResolvedAt
		}
		for _, f := range []struct{ new, old *string }{
			{&in.Service, &old.Service}, {&in.Severity, &old.Severity}, {&in.URL, &old.URL}, {&in.Fingerprint, &old.Fingerprint},
			{&in.Origin, &old.Origin}, {&in.Category, &old.Category}, {&in.CausedBy, &old.CausedBy},
		} {
			if *f.new == "" {
				*f.new = *f.old
			}
		}
		in.CustomerFacing = in.CustomerFacing || old.CustomerFacing
	}
	if in.Severity == "" {
		in.Severity = u.severityFallback
	}
	if in.ResolvedAt.IsZero() && !u.reopen {
		in.ResolvedAt = u.resolvedIfUnknown
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
