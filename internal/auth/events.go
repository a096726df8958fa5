package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/candor/candor/internal/store"
)

// Access event types.
const (
	EventSignIn       = "sign_in"
	EventSignInFailed = "sign_in_failed"
	EventSignOut      = "sign_out"
	EventUserCreated  = "user_created"
	EventUserDisabled = "user_disabled"
	EventUserEnabled  = "user_enabled"
	EventRolesChanged = "roles_changed"
	EventTokenCreated = "token_created"
	EventTokenRevoked = "token_revoked"
)

// Reasons of a failed sign-in. They are for the ledger's readers only: the
// person signing in is told ErrBadCredentials whatever the reason.
const (
	ReasonUnknownUser   = "unknown_user"
	ReasonWrongPassword = "wrong_password"
	ReasonDisabled      = "disabled"
	ReasonRateLimited   = "rate_limited"
	// ReasonNoPassword: the user has no password (created by an external
	// sign-in) and tried one.
	ReasonNoPassword = "no_password"
	// ReasonOwnerDisabled is a token_revoked event's: the token was
	// revoked because the user it acts for was disabled.
	ReasonOwnerDisabled = "user_disabled"
)

// Event is one access event, kept as JSON in the store's access collection
// (store.AccessCollection), oldest first by document id.
type Event struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Actor made the change ("user:EMAIL", "token:NAME", "cli:OSUSER",
	// or "oidc:ISSUER" for an account or roles an identity provider set);
	// empty for sign-in attempts, whose subject acts for itself.
	Actor string `json:"actor,omitempty"`
	// Subject is whom it concerns: "user:EMAIL" or "token:NAME".
	Subject string `json:"subject"`
	// Client is the client address, when known.
	Client string `json:"client,omitempty"`
	// Roles are the subject's roles after the change (sign-in: held).
	Roles []string `json:"roles,omitempty"`
	// RolesBefore are the roles a role change replaced.
	RolesBefore []string `json:"roles_before,omitempty"`
	// Token shows a token's prefix and lookup part (never its secret).
	Token  string `json:"token,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Via names the external identity provider of a sign-in, a failed
	// one, or a change it made ("oidc:ISSUER"); empty for passwords.
	Via string `json:"via,omitempty"`
}

func (s *Service) event(typ string, a Actor, subject string) Event {
	return Event{Type: typ, At: s.opt.Now().UTC(), Actor: a.Name, Subject: subject, Client: a.Client.String()}
}

func (e Event) encode() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("auth: encoding an access event: %v", err)) // only strings and times
	}
	return b
}

// appendEvent records an event that goes with no change of state (a
// failed sign-in).
func (s *Service) appendEvent(ctx context.Context, e Event) error {
	_, err := s.st.AppendDoc(ctx, store.AccessCollection, e.encode())
	return err
}

// Events returns the newest access events first, at most limit (all when
// limit <= 0).
func Events(ctx context.Context, docs store.DocStore, limit int) ([]Event, error) {
	ds, err := docs.Docs(ctx, store.AccessCollection, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(ds))
	for i, d := range ds {
		if err := json.Unmarshal(d.Body, &out[i]); err != nil {
			return nil, fmt.Errorf("access event %d: %w", d.ID, err)
		}
	}
	return out, nil
}
