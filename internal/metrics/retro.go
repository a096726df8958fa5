package metrics

import "github.com/candor/candor/internal/domain"

// applyRetro notes a deployment's retro-validation, kept apart from the
// deployment record, and gives it to the deployment if it is there (the
// earlier of its own retro_validated_at and this one counts).
func (d *Dataset) applyRetro(r *domain.RetroValidation) {
	k := key(r.DeploymentSource, r.DeploymentID)
	at := ns(r.ValidatedAt)
	d.retro[k] = at
	if x := d.dep(k); x != nil && (x.RetroValid == 0 || at < x.RetroValid) {
		x.RetroValid = at
	}
	// Rare, and it changes emergency_retro_overdue as of any time after
	// the validation in every scope: drop the cached results.
	d.touchAll()
}
