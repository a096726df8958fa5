package metrics

import "github.com/candor/candor/internal/domain"

// Retro-validations are kept apart from the deployments they name
// (d.retro, by the deployment's key): a deployment row holds its own
// record's retro_validated_at only, and retroValid gives the earlier of
// the two. Merging the recorded one into the row had left no way back:
// a retro-validation row quarantined (or written again naming another
// deployment) kept its time in the deployment it had been given to, so
// a following engine differed from a fresh load of the same rows.

// applyRetro notes a deployment's retro-validation. A record of the same
// id applied before is replaced: its entry goes first, whatever
// deployment it named.
func (d *Dataset) applyRetro(r *domain.RetroValidation) {
	d.dropRetro(r.ID)
	d.retro[key(r.DeploymentSource, r.DeploymentID)] = ns(r.ValidatedAt)
	// Rare, and it changes emergency_retro_overdue as of any time after
	// the validation in every scope: drop the cached results.
	d.touchAll()
}

// dropRetro takes out the retro-validation recorded under record id
// (domain.RetroValidationID of the deployment it names), if any; a scan
// of the few recorded, as it is rare (a quarantine, a record written
// again).
func (d *Dataset) dropRetro(id string) {
	for k := range d.retro {
		if domain.RetroValidationID(k.source, k.id) == id {
			delete(d.retro, k)
			d.touchAll()
		}
	}
}

// retroValid is when x was retro-validated: the earlier of its own
// record's retro_validated_at and a recorded retro-validation; 0 for
// never.
func (d *Dataset) retroValid(x *Dep) int64 {
	v := x.RetroValid
	if len(d.retro) == 0 {
		return v
	}
	if r := d.retro[key(d.str(x.src), d.str(x.id))]; r != 0 && (v == 0 || r < v) {
		v = r
	}
	return v
}
