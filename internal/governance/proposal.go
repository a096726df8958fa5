// Package governance keeps definitions frozen (SPEC §5): a metric's
// thresholds, target, window, owner, min_sample, sign-off and retirement,
// and every value-changing setting, change only through a proposal that an
// executive other than the proposer approves, with a reason; while a metric
// is red, a change that loosens it needs two such executives. Proposals and
// decisions are documents appended to the store and never changed, each
// chained in the audit ledger; the definitions in force at any time are
// folded from them (Fold) into the governed catalog's history and the
// engine's settings epochs, so computing as of a past date uses the
// definitions and settings in force then. The configuration file's
// overrides and settings are the initial set, recorded at first start;
// a later start with different ones is refused (Init).
package governance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// Document collections: proposals (the initial set under the key
// InitialKey) and decisions, both oldest first by document id.
const (
	Proposals  = "proposal"
	Decisions  = "decision"
	InitialKey = "initial"
)

// Each proposal and decision is chained in the audit ledger as it is
// appended; who made it is personal data (chained through its digest).
func init() {
	// Retention pseudonymises who made them (never erases: Fold compares
	// a decision's author with the proposal's), a proposal and its
	// decisions together.
	ledger.RegisterDocs(Proposals, ledger.DocSpec{Type: ledger.TypeProposal, Personal: []string{"by"}, Pseudonymise: []string{"by"},
		Group: func(d store.Doc) string { return fmt.Sprintf("proposal %d", d.ID) }})
	ledger.RegisterDocs(Decisions, ledger.DocSpec{Type: ledger.TypeDecision, Personal: []string{"by"}, Pseudonymise: []string{"by"},
		Group: func(d store.Doc) string {
			var x Decision
			json.Unmarshal(d.Body, &x)
			return fmt.Sprintf("proposal %d", x.Proposal)
		}})
}

// Input is a proposal as a person makes it: a metric and its changes, or a
// setting and its new value, and why.
type Input struct {
	Metric  string          `json:"metric"`
	Changes json.RawMessage `json:"changes"`
	Setting string          `json:"setting"`
	Value   json.RawMessage `json:"value"`
	// Section names a governed configuration section (config.Sections);
	// Value is then its text (a JSON string: the section as the
	// configuration file writes it) or its value (JSON), and File the
	// name its errors give.
	Section string `json:"section"`
	File    string `json:"file"`
	Reason  string `json:"reason"`
	// Visible says which metrics the proposer may see: an unknown metric's
	// refusal guesses among those alone (nil: every metric).
	Visible func(*catalog.Metric) bool `json:"-"`
}

// Proposal is a stored proposal.
type Proposal struct {
	ID int64 `json:"id,omitempty"`
	// Metric and Changes (the override's fields, or {"retire": true}), or
	// Setting and Value (JSON; null restores the default).
	Metric  string          `json:"metric,omitempty"`
	Changes json.RawMessage `json:"changes,omitempty"`
	Setting string          `json:"setting,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	Reason  string          `json:"reason"`
	By      string          `json:"by"`
	At      time.Time       `json:"at"`
	// Before is the metric (or setting) as it stood when proposed.
	Before *Standing `json:"before,omitempty"`
	// Loosens lists how the change loosens the metric (catalog.Loosens).
	Loosens []catalog.Loosening `json:"loosens,omitempty"`
	// Needs is how many approvals it needed when made: two for a change
	// that loosens a metric red where it loosens it, else one.
	Needs int `json:"needs"`
	// Initial is the configuration's set, recorded at first start.
	Initial *InitialSet `json:"initial,omitempty"`
	// Section, with Value (its canonical JSON, null: not set), is a
	// governed configuration section's proposal; Source is its text as
	// proposed and File the name given with it.
	Section string `json:"section,omitempty"`
	Source  string `json:"source,omitempty"`
	File    string `json:"file,omitempty"`
	// FromConfig marks the configuration's section values recorded at the
	// first start that governed them, for a store whose initial set
	// predates governed sections (Sections); and, in State.Sections, a
	// section's value from the start.
	FromConfig bool                       `json:"from_config,omitempty"`
	Sections   map[string]json.RawMessage `json:"sections,omitempty"`
}

// Standing is a metric as it stood at a time: its version, and its status
// at organisation level and in the scopes a loosening names. For a
// setting, Value is the value in force.
type Standing struct {
	AsOf    time.Time      `json:"as_of"`
	Version int            `json:"version,omitempty"`
	Status  catalog.Status `json:"status,omitempty"`
	Number  *float64       `json:"value,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Scopes  []ScopeStatus  `json:"scopes,omitempty"`
	// Setting is the setting's (or the section's) value in force (JSON;
	// null: the default).
	Setting json.RawMessage `json:"setting,omitempty"`
	// Effective is the setting's effective value in force, defaults
	// applied (metrics.EffectiveSettings): what "null" meant, so a
	// proposal says what it changes from.
	Effective json.RawMessage `json:"effective,omitempty"`
}

// Was is a setting's value in force when the proposal was made, and
// whether that was its default: then the default's value, where one was
// recorded (a proposal made before Effective was has null alone).
func (s *Standing) Was() (json.RawMessage, bool) {
	v := bytes.TrimSpace(s.Setting)
	if len(v) > 0 && string(v) != "null" {
		return v, false
	}
	if len(s.Effective) > 0 {
		return s.Effective, true
	}
	return json.RawMessage("null"), true
}

// ScopeStatus is a metric's status in a scope (dim:value).
type ScopeStatus struct {
	Scope  string         `json:"scope"`
	Status catalog.Status `json:"status"`
}

// InitialSet is what the configuration held at first start: the metric
// overrides (as JSON objects of the override's fields) and every governed
// setting's value (null: not set), with the SHA-256 of the two.
type InitialSet struct {
	Metrics  map[string]json.RawMessage `json:"metrics"`
	Settings map[string]json.RawMessage `json:"settings"`
	SHA256   string                     `json:"sha256"`
	Source   string                     `json:"source"`
	// Sections are the governed configuration sections' values
	// (config.Config.SectionValue); not part of SHA256, which predates
	// them.
	Sections map[string]json.RawMessage `json:"sections,omitempty"`
}

// Decision is an approval or a rejection.
type Decision struct {
	ID       int64     `json:"id,omitempty"`
	Proposal int64     `json:"proposal"`
	Decision string    `json:"decision"` // Approve or Reject
	Reason   string    `json:"reason"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	// Needs is how many approvals the proposal needed when this one was
	// given: a metric that turned red since the proposal raises it.
	Needs int `json:"needs,omitempty"`
	// Void says why the decision counts for nothing (Fold): given after
	// the proposal was decided, or a second approval by one person.
	Void string `json:"void,omitempty"`
}

// Decisions.
const (
	Approve = "approve"
	Reject  = "reject"
)

// Statuses of a proposal.
const (
	Open     = "open"
	Approved = "approved"
	Rejected = "rejected"
)

// Limits of what a person writes.
const (
	maxReason  = 4000
	maxChanges = 16 << 10
)

// checkReason trims and bounds a reason, which every proposal and decision
// must give.
func checkReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return s, domain.InvalidParam("reason", "required: why the change is made (or approved, or rejected)")
	case n > maxReason:
		return s, domain.InvalidParam("reason", "%d characters; at most %d", n, maxReason)
	}
	return s, nil
}

// change is a metric proposal's change, parsed.
type change struct {
	override catalog.Override
	retire   bool
}

// parseChanges reads a metric proposal's changes: {"retire": true}, or the
// fields of an override.
func parseChanges(raw json.RawMessage) (change, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return change{}, domain.InvalidParam("changes", `required: the fields to change, such as {"thresholds": {"green": 3, "amber": 10}}, or {"retire": true}`)
	}
	if len(raw) > maxChanges {
		return change{}, domain.InvalidParam("changes", "%d bytes; at most %d", len(raw), maxChanges)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return change{}, domain.InvalidParam("changes", "not a JSON object: %v", err)
	}
	if len(fields) == 0 {
		return change{}, domain.InvalidParam("changes", "empty: name at least one field to change")
	}
	if r, ok := fields["retire"]; ok {
		if string(bytes.TrimSpace(r)) != "true" || len(fields) > 1 {
			return change{}, domain.InvalidParam("changes.retire", `retirement is {"retire": true} alone: a retired metric is changed no more`)
		}
		return change{retire: true}, nil
	}
	// Checked as JSON first, so a field of the wrong type or unknown is
	// named as the other bodies name theirs ("changes.target: must be a
	// number, not a JSON string"), not in the YAML decoder's words with
	// Go's struct names.
	// An unknown key, at the top or inside thresholds, is named there
	// with the keys its object takes ("changes.thresholds.gren: unknown
	// field (changes.thresholds takes green, amber, relative_to)").
	if err := checkShape("changes", raw, reflect.TypeFor[catalog.Override]()); err != nil {
		return change{}, err
	}
	o, err := catalog.ParseOverride(raw)
	if err != nil {
		return change{}, domain.InvalidParam("changes", "%v", err)
	}
	return change{override: o}, nil
}

// catalogChange is the catalog's form of an approved metric proposal.
func (p *Proposal) catalogChange(at time.Time) (catalog.Change, error) {
	c, err := parseChanges(p.Changes)
	if err != nil {
		return catalog.Change{}, fmt.Errorf("proposal %d: %w", p.ID, err)
	}
	return catalog.Change{Metric: p.Metric, At: at, Override: c.override, Retire: c.retire, Ref: p.Ref()}, nil
}

// Ref names the proposal in a definition's history.
func (p *Proposal) Ref() string {
	if p.Initial != nil || p.FromConfig {
		return "configuration"
	}
	return fmt.Sprintf("proposal %d", p.ID)
}

// checkShape checks raw against t as the YAML decoder reads it (fields
// by their yaml names): an unknown field, or a value of the wrong JSON
// type, is an invalid-input error naming its path from param
// ("changes.thresholds.green"). What each value means is checked after.
func checkShape(param string, raw json.RawMessage, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil
	}
	got := domain.JSONKind(raw)
	want := domain.JSONTypeWords(t)
	switch t.Kind() {
	case reflect.Struct:
		var fields map[string]json.RawMessage
		if got != "object" || json.Unmarshal(raw, &fields) != nil {
			return domain.InvalidParam(param, "must be %s, not a JSON %s", want, got)
		}
		byName := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				byName[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			ft, ok := byName[k]
			if !ok {
				also := ""
				if param == "changes" {
					// The one change that is no field of a definition.
					also = `; or {"retire": true} alone`
				}
				return domain.InvalidParam(param+"."+k, "unknown field (%s takes %s%s)", param, strings.Join(names, ", "), also)
			}
			if err := checkShape(param+"."+k, fields[k], ft); err != nil {
				return err
			}
		}
	case reflect.Map:
		var items map[string]json.RawMessage
		if got != "object" || json.Unmarshal(raw, &items) != nil {
			return domain.InvalidParam(param, "must be %s, not a JSON %s", want, got)
		}
		for _, k := range slices.Sorted(maps.Keys(items)) {
			if err := checkShape(param+"."+k, items[k], t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if got != "array" || json.Unmarshal(raw, &items) != nil {
			return domain.InvalidParam(param, "must be %s, not a JSON %s", want, got)
		}
		for i, it := range items {
			if err := checkShape(fmt.Sprintf("%s.%d", param, i), it, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.String:
		if got != "string" {
			return domain.InvalidParam(param, "must be %s, not a JSON %s", want, got)
		}
	case reflect.Bool:
		if got != "bool" {
			return domain.InvalidParam(param, "must be %s, not a JSON %s", want, got)
		}
	case reflect.Int, reflect.Int64, reflect.Float64:
		if got != "number" {
			return domain.InvalidParam(param, "must be %s, not a JSON %s", want, got)
		}
	}
	return nil
}
