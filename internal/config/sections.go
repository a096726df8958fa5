package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/gate"
)

// Gate policies, alert rules and custom views are governed like metric
// definitions (SPEC §5): the configuration gives them at first start, and
// from then on they change only through approved proposals
// (internal/governance). A proposal carries the section as it is written in
// the configuration file (for gates, the policies file itself), so its
// lines are the ones an error names; here a section is read from a
// configuration or a proposal, compared, and put in a configuration,
// checked the way Load checks it.

// Section is a governed section of the configuration.
type Section struct {
	Name string
	// Keys are the configuration's paths the section holds; none for
	// gates, whose value is the file gates.policies names.
	Keys []string
	Help string
	// apply copies the section's fields from src into dst; check makes
	// the checks Load makes of them (cat holds c's own metrics). uses,
	// when set, checks that what the rest of the configuration names is
	// still there once the section is replaced (CheckUses).
	apply func(dst *Config, src Config)
	check func(c Config, cat *catalog.Catalog) error
	uses  func(c Config, cat *catalog.Catalog) error
}

// CustomMetricsSection is the section of the organisation's own metrics.
const CustomMetricsSection = "custom_metrics"

// Sections are the governed sections.
var Sections = []Section{
	// First: the other sections are checked against the catalog the
	// organisation's metrics in force are part of.
	{Name: CustomMetricsSection, Keys: []string{"custom_metrics"},
		Help:  "the organisation's own metrics, their computations and catalog attributes (custom_metrics)",
		apply: func(dst *Config, src Config) { dst.CustomMetricDefs, dst.customEras = src.CustomMetricDefs, nil },
		check: func(c Config, _ *catalog.Catalog) error { return c.checkCustomMetrics() },
		uses:  func(c Config, cat *catalog.Catalog) error { return c.customMetricsUsed(cat) }},
	{Name: "alerts.rules", Keys: []string{"alerts.rules", "alerts.no_default_rules"},
		Help: "the alert rules (alerts.rules and alerts.no_default_rules)",
		apply: func(dst *Config, src Config) {
			dst.Alerts.Rules, dst.Alerts.NoDefaultRules = src.Alerts.Rules, src.Alerts.NoDefaultRules
		},
		check: func(c Config, cat *catalog.Catalog) error { _, err := c.AlertSettings(cat); return err }},
	{Name: GatesSection, Help: "the release gate policies (the file gates.policies names)"},
	{Name: "views", Keys: []string{"views"}, Help: "the organisation's own role views (views)",
		apply: func(dst *Config, src Config) { dst.Views = src.Views },
		check: func(c Config, cat *catalog.Catalog) error {
			if _, err := c.addViews(cat); err != nil {
				return err
			}
			_, err := c.RoleOverrides()
			return err
		}},
}

// SectionNames lists the governed sections' names.
func SectionNames() []string {
	out := make([]string, len(Sections))
	for i, s := range Sections {
		out[i] = s.Name
	}
	return out
}

// SectionByName returns the governed section called name; an unknown one
// is an error naming those there are.
func SectionByName(name string) (Section, error) {
	for _, s := range Sections {
		if s.Name == name {
			return s, nil
		}
	}
	return Section{}, fmt.Errorf("%q is not a governed section; those are %s", name, strings.Join(SectionNames(), ", "))
}

// sectionDoc is a governed section's text in force in place of the
// configuration's, and the name its errors give (a proposal).
type sectionDoc struct {
	label string
	src   []byte
}

// sectionSource is where the section's text comes from: the proposal in
// force (WithSection) when one put it there, else the configuration file.
func (c Config) sectionSource(name string) (label string, src []byte) {
	if d, ok := c.sections[name]; ok {
		return d.label, d.src
	}
	return orName(c.path), c.src
}

// gatesFile is the gate policies file with the configuration's folder
// applied ("" for none).
func (c Config) gatesFile() string {
	path := c.Gates.Policies
	if path != "" && !filepath.IsAbs(path) && c.path != "" {
		path = filepath.Join(filepath.Dir(c.path), path)
	}
	return path
}

// SectionValue is the section's value as the configuration gives it, as
// canonical JSON (keys sorted; null when it is not set): what a later
// start compares with the value recorded at first start. Formatting and
// comments are not part of it; every value is.
func (c Config) SectionValue(name string) (json.RawMessage, error) {
	s, err := SectionByName(name)
	if err != nil {
		return nil, err
	}
	if s.Keys == nil {
		if c.Gates.Policies == "" {
			return json.RawMessage("null"), nil
		}
		b, err := c.readGatesFile()
		if err != nil {
			return nil, err
		}
		return canonicalDoc(c.gatesFile(), b)
	}
	var doc any
	if err := yaml.Unmarshal(c.src, &doc); err != nil {
		return nil, yamlError(orName(c.path), c.src, err)
	}
	return extract(s, doc)
}

// SectionOf reads a proposal's text of the section — the section as
// written in the configuration file (views: …; alerts: {rules: …}), or
// for gates a policies file — and returns its value as SectionValue does.
// Keys outside the section are refused: a proposal changes one section.
func SectionOf(name, label string, src []byte) (json.RawMessage, error) {
	s, err := SectionByName(name)
	if err != nil {
		return nil, err
	}
	if s.Keys == nil {
		return canonicalDoc(label, src)
	}
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, yamlError(label, src, err)
	}
	if err := onlySection(s, "", doc); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return extract(s, doc)
}

// onlySection refuses a key of doc (under prefix) outside s's keys.
func onlySection(s Section, prefix string, doc any) error {
	if doc == nil {
		return nil
	}
	m, ok := doc.(map[string]any)
	if !ok {
		if prefix == "" {
			return fmt.Errorf("not the section as the configuration file writes it: want %s at the top", strings.Join(s.Keys, " and "))
		}
		return fmt.Errorf("%s is not a mapping", prefix)
	}
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		switch {
		case slices.Contains(s.Keys, p):
		case slices.ContainsFunc(s.Keys, func(key string) bool { return strings.HasPrefix(key, p+".") }):
			if err := onlySection(s, p, v); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s is not part of section %s (%s): a proposal changes one section", p, s.Name, strings.Join(s.Keys, ", "))
		}
	}
	return nil
}

// extract is the canonical JSON of s's keys in doc, nested as written;
// null when none is there.
func extract(s Section, doc any) (json.RawMessage, error) {
	out := map[string]any{}
	for _, key := range s.Keys {
		parts := strings.Split(key, ".")
		v, ok := doc, true
		for _, p := range parts {
			m, isMap := v.(map[string]any)
			if v, ok = m[p]; !isMap || !ok {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		dst := out
		for _, p := range parts[:len(parts)-1] {
			next, _ := dst[p].(map[string]any)
			if next == nil {
				next = map[string]any{}
				dst[p] = next
			}
			dst = next
		}
		dst[parts[len(parts)-1]] = v
	}
	if len(out) == 0 {
		return json.RawMessage("null"), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", s.Name, err)
	}
	return b, nil
}

// canonicalDoc is a whole YAML document as canonical JSON.
func canonicalDoc(label string, src []byte) (json.RawMessage, error) {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, yamlError(label, src, err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return b, nil
}

// WithSection returns a copy of the configuration with the section taken
// from src (as SectionOf reads it) in place of the configured one, checked
// against cat as Load checks the file: every error names label (the
// proposal) and src's line.
func (c Config) WithSection(name, label string, src []byte, cat *catalog.Catalog) (Config, error) {
	s, err := SectionByName(name)
	if err != nil {
		return c, err
	}
	out := c
	if s.Keys == nil {
		own, err := c.sectionCatalog(cat)
		if err != nil {
			return c, err
		}
		p, err := gate.Load(label, src, own)
		if err != nil {
			return c, err
		}
		out.gates = &sectionDoc{label: label, src: src}
		out.setWatch(p)
		return out, nil
	}
	var p Config
	if len(bytes.TrimSpace(src)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField())
		if err := dec.Decode(&p); err != nil && err.Error() != "EOF" {
			return c, yamlError(label, src, err)
		}
	}
	s.apply(&out, p)
	out.sections = maps.Clone(c.sections)
	if out.sections == nil {
		out.sections = map[string]sectionDoc{}
	}
	out.sections[name] = sectionDoc{label: label, src: src}
	chk := out
	chk.src, chk.path = src, label
	own := cat
	if s.uses == nil {
		// The organisation's metrics' own section is checked on its own
		// (its errors name the proposal's lines), and reads no catalog.
		if own, err = out.sectionCatalog(cat); err != nil {
			return c, err
		}
	}
	if err := s.check(chk, own); err != nil {
		return c, located(label, err)
	}
	return out, nil
}

// CheckUses checks, for a proposal, that what the configuration names is
// still there with the section's value it has (as WithSection put it):
// no view, alert rule, gate policy, role, report or approved change to a
// definition (cat's) names a metric no longer there, no organisation's
// metric a view no longer there. A section is checked on its own first
// (WithSection); this is what another section may break.
func (c Config) CheckUses(name, label string, cat *catalog.Catalog) error {
	s, err := SectionByName(name)
	if err != nil {
		return err
	}
	uses := s.uses
	if uses == nil {
		uses = Config.checkUses
	}
	if err := uses(c, cat); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	return nil
}

// sectionCatalog is the catalog the sections' checks read: cat with c's
// own metrics in place of those it holds (at start, the server's catalog
// is not built yet; while it runs, a custom_metrics value approved before
// is).
func (c Config) sectionCatalog(cat *catalog.Catalog) (*catalog.Catalog, error) {
	out, err := c.addCustomMetrics(cat.WithoutCustom())
	if err != nil {
		return nil, located(c.path, err)
	}
	return out, nil
}

// AddViews returns cat with the organisation's own metrics (custom_metrics)
// after the built-in ones and the organisation's views (the configured ones,
// or those a proposal put in force) after the built-in ones, each custom
// metric shown in the views it names.
func (c Config) AddViews(cat *catalog.Catalog) (*catalog.Catalog, error) {
	out, err := c.addOwn(cat)
	if err != nil {
		return nil, located(c.path, err)
	}
	return out, nil
}
