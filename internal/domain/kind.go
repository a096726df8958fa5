// Package domain holds Candor's record kinds and their validation rules
// (SPEC §1). It depends on nothing else in the project so that every other
// package — ingest, store, metrics, connectors — agrees on one definition of
// what a valid record is.
package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Kind names a record kind of SPEC §1.
type Kind string

const (
	KindService       Kind = "service"
	KindDeployment    Kind = "deployment"
	KindChange        Kind = "change"
	KindIncident      Kind = "incident"
	KindSLI           Kind = "sli"
	KindTicket        Kind = "ticket"
	KindSurvey        Kind = "survey"
	KindVulnerability Kind = "vulnerability"
	KindControl       Kind = "control"
	KindCost          Kind = "cost"
	KindUsage         Kind = "usage"
	KindBudget        Kind = "budget"
	KindSubscription  Kind = "subscription"
	KindOpportunity   Kind = "opportunity"
	KindLead          Kind = "lead"
	KindQuota         Kind = "quota"
	KindSpend         Kind = "spend"
	KindTarget        Kind = "target"
	KindMeasurement   Kind = "measurement"
)

// Kinds lists every kind in a stable order (reference data first, then
// engineering, customer and revenue kinds) used for summaries and docs.
var Kinds = []Kind{
	KindService, KindDeployment, KindChange, KindIncident, KindSLI,
	KindTicket, KindSurvey, KindVulnerability, KindControl,
	KindCost, KindUsage, KindBudget,
	KindSubscription, KindOpportunity, KindLead, KindQuota, KindSpend, KindTarget,
	KindMeasurement,
}

// ParseKind accepts a kind name, case-insensitively, and also the plural
// forms people use for file names ("deployments.csv").
func ParseKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, k := range Kinds {
		if t == string(k) || t == string(k)+"s" || (k == KindOpportunity && t == "opportunities") ||
			(k == KindVulnerability && t == "vulnerabilities") || (k == KindUsage && t == "usages") {
			return k, nil
		}
	}
	if slices.Contains(Internal, Kind(t)) {
		// Readable (GET /api/v1/records lists it), never imported: said so,
		// not "unknown" beside a list that a read's refusal extends.
		return "", fmt.Errorf("%s records are Candor's own, written by it and never imported (an import takes: %s)", t, kindList(Kinds))
	}
	return "", unknownKind(s, Kinds)
}

// ParseStoredKind is ParseKind for reading a stored record: the kinds
// Candor writes itself (Internal: a retro-validation, a full vulnerability
// scan, which an evidence pack names) are read too, by their exact name,
// though no import takes them.
func ParseStoredKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, k := range Internal {
		if t == string(k) {
			return k, nil
		}
	}
	if k, err := ParseKind(s); err == nil {
		return k, nil
	}
	return "", unknownKind(s, AllKinds())
}

// unknownKind refuses s, naming the kind it was probably meant to be
// ("deploymnt": deployment), as flags and metric ids are, and the known
// ones: those an import takes, then Candor's own — the same list whether
// an import or a read refused it, where the two had listed 19 and 21. The
// guess is among suggest: an import's never names a kind it refuses.
func unknownKind(s string, suggest []Kind) error {
	names := make([]string, len(suggest))
	for i, k := range suggest {
		names[i] = string(k)
	}
	hint := ""
	if c := Closest(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "s"), names); c != "" {
		hint = fmt.Sprintf("did you mean %s? ", c)
	}
	return fmt.Errorf("unknown kind %q (%sknown: %s; and Candor's own, read but never imported: %s)", s, hint, kindList(Kinds), kindList(Internal))
}

func kindList(kinds []Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// Monthly reports whether a kind is delivered in periods (bills, budgets,
// plans) rather than as events; it decides the default freshness limit.
func (k Kind) Monthly() bool {
	switch k {
	case KindCost, KindUsage, KindBudget, KindSubscription, KindQuota, KindSpend, KindTarget:
		return true
	}
	return false
}

// Period reports whether a kind's records cover a period (period_start,
// period_end) rather than mark a moment (SPEC §3: they count by their
// overlap with the interval asked).
func (k Kind) Period() bool {
	switch k {
	case KindSLI, KindCost, KindUsage, KindBudget, KindSpend, KindQuota, KindTarget:
		return true
	}
	return false
}

// Prorated reports whether a metric sums a kind's amounts over an interval
// by the share of each record's period inside it (SPEC §3: cost, usage
// requests, budget, spend). A window that ends after such a kind's newest
// data sums what has been reported so far, less than the whole window.
func (k Kind) Prorated() bool {
	switch k {
	case KindCost, KindUsage, KindBudget, KindSpend:
		return true
	}
	return false
}

// State reports whether a kind describes a state rather than a stream of
// events (SPEC §4): a book that did not change is not stale, so these are
// never judged stale by their records' own times.
func (k Kind) State() bool {
	switch k {
	case KindService, KindSubscription, KindQuota, KindTarget, KindBudget, KindSpend:
		return true
	}
	return false
}

// Key identifies a record: re-importing the same key replaces the record.
type Key struct {
	Kind   Kind
	Source string
	ID     string
}

func (k Key) String() string { return string(k.Kind) + "/" + k.Source + "/" + k.ID }

// Words names the record as `candor record` takes it (kind, source and id
// as three arguments), as the ledger's verification and the evidence pack
// name the records they list.
func (k Key) Words() string { return string(k.Kind) + " " + k.Source + " " + k.ID }
