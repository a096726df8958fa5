package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// Notifier is told of each escalation raised. It is the hook for the
// alerts work (SPEC §8: e-mail, Slack-compatible and generic webhooks,
// in-app, to the metric's owner and by role); until then LogNotifier.
type Notifier interface {
	Notify(ctx context.Context, e Escalation) error
}

// LogNotifier writes escalations to a log.
type LogNotifier struct{ Log *slog.Logger }

// Notify implements Notifier.
func (l LogNotifier) Notify(_ context.Context, e Escalation) error {
	l.Log.Warn("escalation", "metric", e.Metric, "scope", e.Scope, "status", e.Status, "degrading", e.Degrading,
		"why", e.Why, "since", e.Since, "owner", e.Owner, "priority", e.Priority)
	return nil
}

// RaisedCollection holds one document per escalation raised, keyed by
// metric, scope, reason and day: an escalation is raised once a day while
// it lasts, however many instances check. Each is chained in the ledger,
// so the ledger shows that nobody acted, and that it was said.
const RaisedCollection = "escalation"

// The overdue acknowledgement a raised escalation carries holds its owner,
// note and author: it is chained as personal data (its id stays in the
// entry's key), so retention can erase it and the chain still verifies.
func init() {
	ledger.RegisterDocs(RaisedCollection, ledger.DocSpec{Type: ledger.TypeEscalation, Personal: []string{"acknowledgement"},
		Pseudonymise: []string{"acknowledgement.owner", "acknowledgement.by"}, Erase: []string{"acknowledgement.note"}})
}

// Raised is the body of a raised escalation's document.
type Raised struct {
	Escalation
	Day string `json:"day"`
}

// Raise records each escalation not yet raised today (asOf's UTC day) and
// tells n of it; it returns how many it raised. A notifier's failure is
// returned after the others are tried: the record stays, so the notice is
// not sent twice, as an alert log would (the alerts work retries).
func Raise(ctx context.Context, docs store.DocStore, n Notifier, es []Escalation, asOf time.Time) (int, error) {
	day := asOf.UTC().Format(time.DateOnly)
	raised := 0
	var errs []string
	for _, e := range es {
		ack := int64(0)
		if e.Acknowledgement != nil {
			ack = e.Acknowledgement.ID
		}
		key := fmt.Sprintf("%s|%s|%s|%d|%s", e.Metric, e.Scope, e.Why, ack, day)
		body, err := json.Marshal(Raised{Escalation: e, Day: day})
		if err != nil {
			return raised, err
		}
		_, created, err := docs.AppendDocOnce(ctx, RaisedCollection, key, body)
		if err != nil {
			return raised, err
		}
		if !created {
			continue
		}
		raised++
		if err := n.Notify(ctx, e); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", e.Metric, err))
		}
	}
	if len(errs) > 0 {
		return raised, fmt.Errorf("notifying escalations: %s", strings.Join(errs, "; "))
	}
	return raised, nil
}
