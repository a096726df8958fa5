package evidence

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
)

// The definitions part of a pack is built by Definitions alone, into its
// own file (definitions.json): the definitions and settings in force at the
// period's end, and (governed) the history behind them over the period.

// DefinitionsFile is the file Definitions' document is written to.
const DefinitionsFile = "definitions.json"

// Definitions is the definitions part of a pack.
type DefinitionsDoc struct {
	// Scope says what the document covers and what it does not.
	Scope string `json:"scope"`
	// Settings are the value-changing settings in force (metrics.ValueSettings,
	// min_sample aside: it is per definition), SettingsSHA256 the hash over them.
	Settings       []Setting    `json:"settings"`
	SettingsSHA256 string       `json:"settings_sha256"`
	Metrics        []Definition `json:"metrics"`
	// Governed is the governed history over the period: nil when the pack
	// was made without the governance registry.
	Governed *Governed `json:"governed,omitempty"`
}

// Setting is a value-changing setting in force: its value as the hash
// covers it (durations in nanoseconds, as Go encodes them) and, under
// written, as the configuration writes it ("7d"). An auditor had read
// vulnerability_sla's critical 604800000000000 with no unit.
type Setting struct {
	metrics.SettingValue
	Written any `json:"written"`
}

// Definition is one catalog definition as an auditor reads it.
type Definition struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Pillar    string `json:"pillar"`
	Version   int    `json:"version"`
	Effective string `json:"effective"`
	// EffectiveNote says, of a version that took effect at or after the
	// period's end, that the period's figures were computed with it all
	// the same, no earlier version being kept (catalog.Metric.AppliesBefore).
	EffectiveNote string `json:"effective_note,omitempty"`
	Owner         string `json:"owner"`
	Priority      string `json:"priority"`
	Signoff       string `json:"signoff"`
	SignoffBy     string `json:"signoff_by"`
	Formula       string `json:"formula"`
	Unit          string `json:"unit"`
	Better        string `json:"better"`
	Window        string `json:"window"`
	// Thresholds is nil for a metric judged by another (JudgedBy).
	Thresholds *Thresholds `json:"thresholds"`
	JudgedBy   string      `json:"judged_by,omitempty"`
	Target     *float64    `json:"target"`
	MinSample  int         `json:"min_sample"`
	// Citation is what every value of the metric cites: definition and
	// formula versions and the hash of the settings it declares.
	Citation metrics.Citation `json:"citation"`
	// Overridden lists how this version differs from the built-in one.
	Overridden []string `json:"overridden"`
}

// Thresholds are a definition's green and amber bounds.
type Thresholds struct {
	Green      float64 `json:"green"`
	Amber      float64 `json:"amber"`
	RelativeTo string  `json:"relative_to,omitempty"`
}

// Definitions documents cat's definitions and cfg's value-changing
// settings, in catalog order. The caller passes the catalog and settings in
// force at the time the document speaks for (Catalog.At, Dataset.At): a
// governed catalog's Metrics are its built-in definitions, not those in force.
func Definitions(cat *catalog.Catalog, cfg metrics.Config) (DefinitionsDoc, error) {
	settings, sum, err := metrics.EffectiveSettings(cfg)
	if err != nil {
		return DefinitionsDoc{}, err
	}
	doc := DefinitionsDoc{
		Scope: "metrics and settings: the definitions and value-changing settings in force at the period's end (its last instant), with each " +
			"definition's version and effective date. governed: every definition version in force at some time in the period " +
			"with the proposal and approvals that made it (the configuration's initial set recorded at first start included), " +
			"every proposal made before the period's end with the decisions given before it, and the settings approved in the period.",
		SettingsSHA256: sum, Metrics: make([]Definition, 0, len(cat.Metrics)),
	}
	for _, st := range settings {
		doc.Settings = append(doc.Settings, Setting{SettingValue: st, Written: metrics.Written(st.Value)})
	}
	for i := range cat.Metrics {
		m := &cat.Metrics[i]
		d := Definition{
			ID: m.ID, Name: m.Name, Pillar: m.Pillar, Version: m.Version, Effective: m.Effective, Owner: m.Owner,
			Priority: m.Priority, Signoff: m.Signoff, SignoffBy: m.SignoffBy, Formula: m.Formula, Unit: m.Unit,
			Better: m.Better, Window: catalog.FormatWindow(m.Window), JudgedBy: m.JudgedBy, Target: m.Target,
			MinSample: m.MinSample, Citation: metrics.Cite(cfg, m.ID, m.Version, m.MinSample),
			Overridden: append([]string{}, m.Overridden...),
		}
		if t := m.Thresholds; t != nil {
			d.Thresholds = &Thresholds{Green: t.Green, Amber: t.Amber, RelativeTo: t.RelativeTo}
		}
		doc.Metrics = append(doc.Metrics, d)
	}
	return doc, nil
}

// Governed is the governed history over a period: every definition
// version in force at some time in it, with the proposal and approvals
// that made it, and the proposals (metric or setting) made or decided up
// to the period's end with their decisions — only what existed by then,
// so a later proposal leaves the pack unchanged.
type Governed struct {
	Initial  *governance.Proposal `json:"initial_set"`
	Versions []GovernedVersion    `json:"versions"`
	// Sections are the governed configuration sections' values (gate
	// policies, alert rules, custom views) in force at some time in the
	// period, with the proposal and approvals that made each.
	Sections  []GovernedSectionVersion `json:"sections"`
	Proposals []governance.View        `json:"proposals"`
	Settings  []GovernedSettingValue   `json:"settings_decided"`
	// LedgerCheck compares the proposal and decision documents this
	// history was folded from with their ledger entries (governanceCollections).
	LedgerCheck ledger.DocsReport `json:"ledger_check"`
}

// GovernedVersion is one metric's version in force during the period.
type GovernedVersion struct {
	Metric string `json:"metric"`
	governance.Version
}

// GovernedSectionVersion is one configuration section's value in force
// during the period.
type GovernedSectionVersion struct {
	Section string `json:"section"`
	governance.SectionVersion
}

// GovernedSettingValue is a setting's value approved in the period.
type GovernedSettingValue struct {
	Setting  string          `json:"setting"`
	Value    json.RawMessage `json:"value"`
	From     time.Time       `json:"from"`
	Proposal int64           `json:"proposal"`
}

// governed folds the registry's state into what was in force or decided
// in p: versions that overlap [From, To), proposals made before To (with
// their decisions before To).
func governed(ctx context.Context, reg *governance.Registry, cat *catalog.Catalog, p Period) (*Governed, error) {
	st, err := reg.State(ctx)
	if err != nil {
		return nil, err
	}
	g := &Governed{Initial: st.Initial, Versions: []GovernedVersion{}, Sections: []GovernedSectionVersion{},
		Proposals: []governance.View{}, Settings: []GovernedSettingValue{}}
	for _, m := range cat.MetricsInForce() {
		h, err := reg.HistoryIn(st, m.ID)
		if err != nil {
			return nil, err
		}
		for k, v := range h.Versions {
			if inForce(p, v.From, k, len(h.Versions), func(k int) *time.Time { return h.Versions[k].From }) {
				g.Versions = append(g.Versions, GovernedVersion{Metric: h.Metric, Version: v})
			}
		}
	}
	for _, sec := range config.Sections {
		h := st.SectionHistory(sec.Name)
		for k, v := range h.Versions {
			if inForce(p, v.From, k, len(h.Versions), func(k int) *time.Time { return h.Versions[k].From }) {
				g.Sections = append(g.Sections, GovernedSectionVersion{Section: sec.Name, SectionVersion: v})
			}
		}
	}
	for _, v := range asOf(st, p.To).Proposals {
		g.Proposals = append(g.Proposals, v)
		if v.Setting != "" && v.Status == governance.Approved && v.Effective != nil && !v.Effective.Before(p.From) {
			g.Settings = append(g.Settings, GovernedSettingValue{Setting: v.Setting, Value: v.Value, From: *v.Effective, Proposal: v.ID})
		}
	}
	return g, nil
}

// inForce reports whether the k-th of n versions, in force from from (nil:
// from the start) until the next one's from, was in force at some time in
// p: not yet in force at the period's end, or replaced before it began, it
// was not.
func inForce(p Period, from *time.Time, k, n int, fromOf func(int) *time.Time) bool {
	if from != nil && !from.Before(p.To) {
		return false
	}
	if k+1 < n {
		if next := fromOf(k + 1); next != nil && !next.After(p.From) {
			return false
		}
	}
	return true
}

// asOf is the state as it stood at t: the proposals made and decisions
// given before t, folded again by the same rules (governance.Fold).
func asOf(st *governance.State, t time.Time) *governance.State {
	var props []governance.Proposal
	var decs []governance.Decision
	for _, v := range st.Proposals {
		if !v.At.Before(t) {
			continue
		}
		props = append(props, v.Proposal)
		for _, d := range append(append(slices.Clone(v.Approvals), v.Void...), deref(v.Rejection)...) {
			if d.At.Before(t) {
				d.Void = ""
				decs = append(decs, d)
			}
		}
	}
	return governance.Fold(props, decs) // in the order they were stored (Fold sorts by id)
}

func deref(d *governance.Decision) []governance.Decision {
	if d == nil {
		return nil
	}
	return []governance.Decision{*d}
}
