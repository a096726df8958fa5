package metrics

import (
	"math"
	"time"

	"github.com/candor/candor/internal/domain"
)

// LinkedRecord is a record another one is linked to, and how the link was
// made (SPEC §2: Explicit, the record names it; Inferred, by service and
// time).
type LinkedRecord struct {
	Kind   domain.Kind `json:"kind"`
	Source string      `json:"source"`
	ID     string      `json:"id"`
	Method string      `json:"method"`
}

// DeploymentFailure is why a production deployment counts as failed for
// change failure rate as of a time (Why "" when it does not), with the
// records that made it fail: the deployment that rolled it back and the
// incidents attributed to it. A record page names them, so that a failure
// counted on a metric page can be traced to its cause.
type DeploymentFailure struct {
	Why          string         `json:"why"`
	RolledBackBy *LinkedRecord  `json:"rolled_back_by,omitempty"`
	Incidents    []LinkedRecord `json:"incidents"`
}

// DeploymentFailureOf says whether the deployment with the key counts as
// failed as of asOf, and through which records; ok is false when there is
// no such production deployment by then (one outside production is not
// counted at all).
func (d *Dataset) DeploymentFailureOf(source, id string, asOf time.Time) (DeploymentFailure, bool) {
	x := d.deployment(source, id)
	at := asOf.UnixNano()
	// Change failure rate's windows end before as_of ([as_of − W, as_of)):
	// a deployment finishing at as_of is not counted by then.
	if x == nil || !x.Prod || x.Finished >= at {
		return DeploymentFailure{}, false
	}
	f := DeploymentFailure{Why: d.failed(x, at), Incidents: []LinkedRecord{}}
	if by := d.firstRollback(x, at); by != nil {
		f.RolledBackBy = &LinkedRecord{Kind: domain.KindDeployment, Source: d.str(by.src), ID: d.str(by.id), Method: Explicit}
	}
	for _, i := range d.incidentsOf(x, at) {
		_, how, _ := d.IncidentDeploymentAsOf(i, at)
		f.Incidents = append(f.Incidents, LinkedRecord{Kind: domain.KindIncident, Source: d.str(i.src), ID: d.str(i.id), Method: how})
	}
	return f, true
}

// IncidentCauseOf returns the production deployment the incident with the
// key is attributed to as of asOf, and how; ok is false when there is no
// such incident by then or it is attributed to none.
func (d *Dataset) IncidentCauseOf(source, id string, asOf time.Time) (LinkedRecord, bool) {
	i := d.incident(key(source, id))
	at := asOf.UnixNano()
	if i == nil || i.Opened > at {
		return LinkedRecord{}, false
	}
	x, how, _ := d.IncidentDeploymentAsOf(i, at)
	if x == nil {
		return LinkedRecord{}, false
	}
	return LinkedRecord{Kind: domain.KindDeployment, Source: d.str(x.src), ID: d.str(x.id), Method: how}, true
}

// TicketRelease resolves the release a ticket of the source names (its
// release field) as SPEC §2 does, among the deployments finished by asOf:
// the deployment of the ticket's source, else the only one with the id;
// ok is false when it names none, or several.
func (d *Dataset) TicketRelease(source, id string, asOf time.Time) (LinkedRecord, bool) {
	x, st := d.resolveDep(id, source, asOf.UnixNano())
	if st != refFound || x == nil {
		return LinkedRecord{}, false
	}
	return LinkedRecord{Kind: domain.KindDeployment, Source: d.str(x.src), ID: d.str(x.id), Method: Explicit}, true
}

// LeadOpportunity resolves the opportunity a lead of the source names (its
// opportunity field) as SPEC §2 and funnel conversion do, among the
// opportunities created by asOf: the one of the lead's source, else the
// only one with the id; ok is false when it names none by then, or several.
func (d *Dataset) LeadOpportunity(source, id string, asOf time.Time) (LinkedRecord, bool) {
	ic, ok := d.codeOf(id)
	if !ok {
		return LinkedRecord{}, false
	}
	o, st := d.resolveOpportunity(ic, d.codeOrNone(source), asOf.UnixNano())
	if st != refFound || o == nil {
		return LinkedRecord{}, false
	}
	return LinkedRecord{Kind: domain.KindOpportunity, Source: d.str(o.source), ID: id, Method: Explicit}, true
}

// ListedChange resolves a change id that a deployment of the source lists
// (its changes field) as SPEC §2 does: the change of the deployment's
// source, else the only change with the id from any source, whenever it
// was merged; ok is false when the id names no change, or several.
func (d *Dataset) ListedChange(source, id string) (LinkedRecord, bool) {
	ic, ok := d.codeOf(id)
	if !ok {
		return LinkedRecord{}, false
	}
	i, st := d.resolveChange(ic, d.codeOrNone(source), math.MaxInt64)
	if st != refFound || i < 0 {
		return LinkedRecord{}, false
	}
	return LinkedRecord{Kind: domain.KindChange, Source: d.str(d.chgs.at(i).srcCode()), ID: id, Method: Explicit}, true
}
