package evidence

import (
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// The definitions part of a pack is built by Definitions alone, into its
// own file (definitions.json): the governed definition history (proposals,
// approvals, versions in force at each date) will replace what it can say
// today — the definitions and settings in force now — without touching
// the rest of the pack.

// DefinitionsFile is the file Definitions' document is written to.
const DefinitionsFile = "definitions.json"

// Definitions is the definitions part of a pack.
type DefinitionsDoc struct {
	// Scope says what the document covers and what it does not.
	Scope string `json:"scope"`
	// Settings are the value-changing settings in force (metrics.ValueSettings,
	// min_sample aside: it is per definition), SettingsSHA256 the hash over them.
	Settings       []metrics.SettingValue `json:"settings"`
	SettingsSHA256 string                 `json:"settings_sha256"`
	Metrics        []Definition           `json:"metrics"`
}

// Definition is one catalog definition as an auditor reads it.
type Definition struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Pillar    string `json:"pillar"`
	Version   int    `json:"version"`
	Effective string `json:"effective"`
	Owner     string `json:"owner"`
	Priority  string `json:"priority"`
	Signoff   string `json:"signoff"`
	SignoffBy string `json:"signoff_by"`
	Formula   string `json:"formula"`
	Unit      string `json:"unit"`
	Better    string `json:"better"`
	Window    string `json:"window"`
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
// settings, in catalog order.
func Definitions(cat *catalog.Catalog, cfg metrics.Config) (DefinitionsDoc, error) {
	settings, sum, err := metrics.EffectiveSettings(cfg)
	if err != nil {
		return DefinitionsDoc{}, err
	}
	doc := DefinitionsDoc{
		Scope: "The definitions and value-changing settings in force when the pack was made, with each definition's " +
			"version and effective date. Proposals and approvals are not recorded by this version of Candor.",
		Settings: settings, SettingsSHA256: sum, Metrics: make([]Definition, 0, len(cat.Metrics)),
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
