// Package escalation keeps amber and red from being ignored (SPEC §4, §5):
// an amber, red or degrading metric is acknowledged with an owner, a note
// and a due date, and one that stays amber or red for 7 days without a
// current acknowledgement escalates. Acknowledgements are appended to a
// document collection, never changed, and chained in the audit ledger;
// escalations are computed from the metric's status at daily points in the
// past (Escalations), and raised once a day to a Notifier (Raise), which
// the alerts work will give channels.
package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Collection holds the acknowledgements, oldest first by document id.
const Collection = "acknowledgement"

// Each acknowledgement is chained in the audit ledger as it is appended;
// who owns the action, what it says and who recorded it are personal data.
func init() {
	ledger.RegisterDocs(Collection, ledger.DocSpec{Type: ledger.TypeAcknowledgement, Personal: []string{"owner", "note", "by"},
		Pseudonymise: []string{"owner", "by"}})
}

// Acknowledgement is an action recorded on a metric that was amber, red,
// unknown or degrading: who owns it, what will be done, by when.
type Acknowledgement struct {
	// ID is the document's id (set when read back).
	ID     int64  `json:"id,omitempty"`
	Metric string `json:"metric"`
	// Scope is the team, service or environment it is about
	// (metrics.Scope's text, "" for the whole organisation).
	Scope string `json:"scope,omitempty"`
	// Status, Degrading and Value are the metric's when it was recorded.
	Status    catalog.Status `json:"status"`
	Degrading bool           `json:"degrading,omitempty"`
	Value     *float64       `json:"value"`
	Owner     string         `json:"owner"`
	Note      string         `json:"note"`
	// Due is the date (YYYY-MM-DD, due by the end of that day UTC) or time
	// (RFC 3339) the action is due; after it the acknowledgement is overdue.
	Due string    `json:"due"`
	By  string    `json:"by"`
	At  time.Time `json:"at"`
}

// Deadline is the instant the acknowledgement becomes overdue.
func (a Acknowledgement) Deadline() time.Time {
	t, _ := parseDue(a.Due)
	return t
}

// Overdue reports whether the action was due before t.
func (a Acknowledgement) Overdue(t time.Time) bool { return !t.Before(a.Deadline()) }

// parseDue reads a due date: a date is due by its end (the next midnight
// UTC), a time at that time.
func parseDue(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24 * time.Hour), nil
	}
	return time.Parse(time.RFC3339, s)
}

// Input is what a person gives: owner, note, due, and optionally the scope.
type Input struct {
	Owner string `json:"owner"`
	Note  string `json:"note"`
	Due   string `json:"due"`
	Scope string `json:"scope"`
}

// Limits of an acknowledgement's text and due date.
const (
	maxOwner = 200
	maxNote  = 4000
	// maxDue bounds how far ahead an action may be due: an acknowledgement
	// due in ten years would silence a red metric for good.
	maxDue = 366 * 24 * time.Hour
)

// CheckInput checks what a person gave, field by field (owner, note, due),
// and returns every field's error in that order: Prepare answers with the
// first, a form shows them all.
func CheckInput(in Input, now time.Time) []error {
	var errs []error
	switch n := utf8.RuneCountInString(strings.TrimSpace(in.Owner)); {
	case n == 0:
		errs = append(errs, domain.InvalidParam("owner", "required: who owns the action (a name or a role)"))
	case n > maxOwner:
		errs = append(errs, domain.InvalidParam("owner", "%d characters; at most %d", n, maxOwner))
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(in.Note)); {
	case n == 0:
		errs = append(errs, domain.InvalidParam("note", "required: what will be done about it"))
	case n > maxNote:
		errs = append(errs, domain.InvalidParam("note", "%d characters; at most %d", n, maxNote))
	}
	d := strings.TrimSpace(in.Due)
	due, err := parseDue(d)
	switch {
	case d == "":
		errs = append(errs, domain.InvalidParam("due", "required: the date the action is due, such as %s", now.AddDate(0, 0, 14).Format(time.DateOnly)))
	case err != nil:
		errs = append(errs, domain.InvalidParam("due", "%q is not a date (YYYY-MM-DD) or an RFC 3339 time", d))
	case !due.After(now):
		errs = append(errs, domain.InvalidParam("due", "%s has passed; an action is due in the future", d))
	case due.Sub(now) > maxDue:
		errs = append(errs, domain.InvalidParam("due", "%s is more than a year away; set a nearer date and acknowledge again then", d))
	}
	return errs
}

// Prepare checks in against the metric as it stands at now and returns the
// acknowledgement to Record. A metric that is green and not degrading has
// nothing to acknowledge (a conflict); bad input is invalid, naming the
// field. Call it under the engine's read lock.
func Prepare(cat *catalog.Catalog, ds *metrics.Dataset, id string, in Input, by string, now time.Time) (Acknowledgement, error) {
	m, ok := cat.Metric(id)
	if !ok {
		return Acknowledgement{}, domain.Errorf(domain.ENotFound, "unknown metric %q", id)
	}
	if !scorecard.Computed(m) {
		return Acknowledgement{}, domain.Errorf(domain.ENotImplemented, "metric %s is defined but not computed yet: it has no status to acknowledge", id)
	}
	if m.JudgedBy != "" {
		// Its status is the other metric's, and that one escalates
		// (Escalations skips this): an action recorded here nothing reads.
		return Acknowledgement{}, domain.Errorf(domain.EConflict, "metric %s is judged by %s, whose status it shows: record the action on %s", id, m.JudgedBy, m.JudgedBy)
	}
	a := Acknowledgement{Metric: id, Owner: strings.TrimSpace(in.Owner), Note: strings.TrimSpace(in.Note), Due: strings.TrimSpace(in.Due), By: by, At: now.UTC()}
	if errs := CheckInput(in, now); len(errs) > 0 {
		return a, errs[0]
	}
	var err error
	var scope metrics.Scope
	if strings.TrimSpace(in.Scope) != "" {
		if scope, err = metrics.ParseScope(in.Scope); err != nil {
			return a, domain.InvalidParam("scope", "%v", err)
		}
		if scope, err = scorecard.CheckScope(ds, id, scope); err != nil {
			if de := (*scorecard.DimensionError)(nil); errors.As(err, &de) {
				// Named first, as the other fields' refusals are.
				return a, domain.InvalidParam("scope", "%v", err)
			}
			return a, err
		}
	}
	a.Scope = scope.String()
	c := scorecard.Evaluate(ds, m, scorecard.Options{AsOf: now}, scope, true)
	if !NeedsAction(c) {
		where := "at organisation level"
		if !scope.IsZero() {
			where = "for " + a.Scope
		}
		return a, domain.Errorf(domain.EConflict, "metric %s is green and not degrading %s: there is nothing to acknowledge", id, where)
	}
	a.Status, a.Degrading, a.Value = c.Status, c.Degrading, c.Value
	return a, nil
}

// NeedsAction reports whether a card needs an action: amber, red, unknown
// (which counts as amber, SPEC §4) or degrading — unless it is judged by
// another metric (infrastructure cost by budget variance), whose status it
// shows and which takes the action and escalates instead. The pages, the
// CLI and Prepare ask it.
func NeedsAction(c scorecard.Card) bool {
	return c.JudgedBy == "" && (c.Status != catalog.Green || c.Degrading)
}

// NeedsActionIn is NeedsAction for a card computed in scope ("" the
// organisation). In a team, service or environment an unknown status
// escalates only when its data is stale (or never sent): the other
// reasons a scope is unknown are what SPEC §4 makes of looking at a slice
// — no target of its own ("no target set"), nothing or too little of the
// metric's kind in it ("no value", "too few cases (n = 0, needs 5)") — not
// a metric left unattended, and nobody in the scope can act on them. The
// organisation's card, where unknown counts as amber, escalates as before.
func NeedsActionIn(c scorecard.Card, scope string) bool {
	if scope != "" && c.Status == catalog.Unknown && !c.Degrading && !c.Freshness.Stale {
		return false
	}
	return NeedsAction(c)
}

// Mark sets, on each card that needs an action in scope, NeedsAction and
// the action in force as of by (InScope), overdue as of asOf: what the
// pages, the scorecard and view APIs and the CLI give with each card. Before ds's
// data covers the week an escalation needs (Covered) no card needs one,
// as the pages had said none did: the API had marked 62 cards three
// days into a store's data. Call it under the engine's read lock.
func Mark(ds *metrics.Dataset, cards []*scorecard.Card, acks []Acknowledgement, scope string, asOf, by time.Time) {
	_, covered := Covered(ds, asOf)
	for _, c := range cards {
		c.NeedsAction, c.Action = covered && NeedsActionIn(*c, scope), nil
		if !c.NeedsAction {
			continue
		}
		c.Action = ActionOf(InScope(acks, c.ID, scope, by), asOf)
	}
}

// ActionOf is the acknowledgement a (nil: none) as a card gives it,
// overdue as of asOf.
func ActionOf(a *Acknowledgement, asOf time.Time) *scorecard.Action {
	if a == nil {
		return nil
	}
	return &scorecard.Action{ID: a.ID, Owner: a.Owner, Note: a.Note, Due: a.Due, Overdue: a.Overdue(asOf), Scope: a.Scope, By: a.By, At: a.At}
}

// InScope is the action that counts for the metric in scope as of t: the
// newest recorded at or before t for the scope itself or for the
// organisation. An action on the metric recorded for the whole
// organisation is the metric's (SPEC §4: escalation is of a metric
// "without an acknowledged action"), so a team's view counts it; a team's
// own action, when newer, is the one in force there (and escalates when
// past its due date).
func InScope(acks []Acknowledgement, metric, scope string, t time.Time) *Acknowledgement {
	i := slices.IndexFunc(acks, func(a Acknowledgement) bool {
		return a.Metric == metric && (a.Scope == scope || a.Scope == "") && !a.At.After(t)
	})
	if i < 0 {
		return nil
	}
	return &acks[i]
}

// Record appends a prepared acknowledgement (and, in the same transaction,
// its ledger entry) and returns it with its id.
func Record(ctx context.Context, docs store.DocStore, a Acknowledgement) (Acknowledgement, error) {
	a.ID = 0
	body, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	d, err := docs.AppendDoc(ctx, Collection, body)
	if err != nil {
		return a, err
	}
	a.ID = d.ID
	return a, nil
}

// List returns the acknowledgements, newest first; of one metric when
// metric is not "". Nothing is ever removed: this is the history.
func List(ctx context.Context, docs store.DocStore, metric string) ([]Acknowledgement, error) {
	ds, err := docs.Docs(ctx, Collection, 0)
	if err != nil {
		return nil, err
	}
	out := []Acknowledgement{}
	for _, d := range ds {
		var a Acknowledgement
		if err := json.Unmarshal(d.Body, &a); err != nil {
			return nil, fmt.Errorf("acknowledgement %d: %w", d.ID, err)
		}
		a.ID = d.ID
		if metric == "" || a.Metric == metric {
			out = append(out, a)
		}
	}
	return out, nil
}
