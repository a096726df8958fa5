package domain

import "time"

// KindRetroValidation is a record Candor writes itself, never imported
// (it is not in Kinds): that an emergency deployment was retro-validated
// (package gate). It is a record of its own so that a redelivered
// deployment event, which replaces the deployment record, cannot erase
// it, and so that every instance's dataset follows it like any record.
const KindRetroValidation Kind = "retro_validation"

// RetroValidation says the deployment (Deployment: its source, ID: its
// id) was validated at ValidatedAt. Its Meta.ID is "source/id".
type RetroValidation struct {
	Meta
	DeploymentSource string    `json:"deployment_source"`
	DeploymentID     string    `json:"deployment_id"`
	ValidatedAt      time.Time `json:"validated_at"`
}

// RetroValidationID is the id of the retro-validation record of the
// deployment with this source and id: one record per deployment, which
// the dataset takes out by it when its row is quarantined.
func RetroValidationID(source, id string) string { return source + "/" + id }

func (*RetroValidation) Kind() Kind             { return KindRetroValidation }
func (r *RetroValidation) EventTime() time.Time { return r.ValidatedAt }
