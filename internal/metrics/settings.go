package metrics

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
)

// Setting names a configuration setting that changes metric values (or,
// for min_sample, their status). Each result cites the settings its metric
// declares (Def.Settings) by a hash of their effective values, so a later
// audit can tell which rules produced a number. The names are the
// configuration keys (docs/configuration.md, "Settings that change
// values", lists the same).
type Setting string

const (
	SettingVulnerabilitySLA       Setting = "vulnerability_sla"
	SettingAttributionWindow      Setting = "attribution_window"
	SettingGrossMargin            Setting = "gross_margin"
	SettingProductionEnvironments Setting = "production_environments"
	SettingEnvironmentAliases     Setting = "environment_aliases"
	SettingCurrency               Setting = "currency"
	SettingExchangeRates          Setting = "exchange_rates"
	SettingMinSample              Setting = "min_sample"
	SettingReleaseImpactWeights   Setting = "release_impact_weights"
	SettingReleaseImpactWindow    Setting = "release_impact_window"
	SettingFunnelMaturationLag    Setting = "funnel_maturation_lag"
	SettingTierWeights            Setting = "tier_weights"
	SettingBusinessHours          Setting = "business_hours"
)

// SettingDef describes one value-changing setting.
type SettingDef struct {
	Name Setting
	// Changes says what the setting changes, for people.
	Changes string
	// value is the setting's effective value — what the computation uses,
	// defaults applied — in a form whose JSON is canonical. min_sample is
	// per metric and comes in as minSample.
	value func(c *Config, minSample int) any
}

// ValueSettings is the one list of the settings that change what a metric
// reports. Governance (audits, release gates) reads it; a setting added to
// the configuration that changes values must be added here and declared by
// the metrics it changes (TestSettingsDeclared).
var ValueSettings = []SettingDef{
	{SettingVulnerabilitySLA, "allowed age of an open vulnerability per severity (vulnerability_sla_breaches)",
		func(c *Config, _ int) any { return c.vulnSLAs() }},
	{SettingAttributionWindow, "incident → deployment attribution window (change_failure_rate, failed_deployment_recovery_time)",
		func(c *Config, _ int) any { return c.attributionWindow() }},
	{SettingGrossMargin, "gross margin of cac_payback_months and ltv",
		func(c *Config, _ int) any { return c.grossMargin() }},
	{SettingProductionEnvironments, "which deployments are production (every delivery metric, release_impact_score)",
		func(c *Config, _ int) any { return c.productionNames() }},
	{SettingEnvironmentAliases, "environment names taken as one (every delivery metric, release_impact_score)",
		func(c *Config, _ int) any { return c.EnvironmentAliases }},
	{SettingCurrency, "the organisation currency money is reported in (every money metric)",
		func(c *Config, _ int) any { return c.orgCurrency() }},
	{SettingExchangeRates, "rates into the organisation currency (every money metric)",
		func(c *Config, _ int) any { return c.ExchangeRates }},
	{SettingMinSample, "the fewest cases a status is judged on (every metric's status)",
		func(_ *Config, n int) any { return n }},
	{SettingReleaseImpactWeights, "ticket weights of release_impact_score",
		func(c *Config, _ int) any { return c.impactWeights() }},
	{SettingReleaseImpactWindow, "observation window after a release (release_impact_score)",
		func(c *Config, _ int) any { return c.impactWindow() }},
	{SettingFunnelMaturationLag, "maturation lag of funnel_conversion's cohort",
		func(c *Config, _ int) any { return c.funnelLag() }},
	{SettingTierWeights, "deployment weight per service tier (customer_weighted_change_failure_rate)",
		func(c *Config, _ int) any { return c.tierWeights() }},
	{SettingBusinessHours, "business calendars, the organisation's and per service (business_hours_availability)",
		func(c *Config, _ int) any {
			services := map[string]Calendar{}
			for s, cal := range c.ServiceHours {
				services[s] = cal
			}
			return map[string]any{"organisation": c.orgCalendar(), "services": services}
		}},
}

// Citation says what produced a metric's value: the version of its
// catalog definition, the version of its computation, and a hash of the
// effective values of the settings that change it (min_sample included).
// Two values with equal citations were computed by the same rules.
type Citation struct {
	Definition int    `json:"definition_version"`
	Formula    int    `json:"formula_version"`
	Settings   string `json:"settings_hash"`
}

// citeKey identifies a memoised citation: the configuration is fixed per
// dataset, so the metric, its definition version and min_sample decide it.
type citeKey struct {
	id                    string
	definition, minSample int
	custom                *Def // an organisation's metric's version
}

// Cite returns the citation of a metric's values under this dataset's
// configuration, for the catalog definition version and min_sample given
// (organisations override min_sample, which makes a new version).
func (d *Dataset) Cite(id string, definition, minSample int) Citation {
	def, _ := d.cfg.customDef(id)
	return d.cite(id, def, definition, minSample)
}

// CiteAt is Cite for the values as of t: an organisation's metric cites
// the version of its computation in force then (CustomVersions).
func (d *Dataset) CiteAt(id string, t time.Time, definition, minSample int) Citation {
	var def *Def
	if r := d.cfg.custom; r != nil {
		def, _ = r.at(id, t.UnixNano())
	}
	return d.cite(id, def, definition, minSample)
}

func (d *Dataset) cite(id string, custom *Def, definition, minSample int) Citation {
	k := citeKey{id, definition, minSample, custom}
	if c, ok := d.cites.Load(k); ok {
		return c.(Citation)
	}
	c := cite(d.cfg, id, custom, definition, minSample)
	d.cites.Store(k, c)
	return c
}

// Cite is Dataset.Cite for a configuration.
func Cite(cfg Config, id string, definition, minSample int) Citation {
	def, _ := cfg.customDef(id)
	return cite(cfg, id, def, definition, minSample)
}

// cite is the citation of a built-in metric, or of the organisation's
// metric computed by custom.
func cite(cfg Config, id string, custom *Def, definition, minSample int) Citation {
	c := Citation{Definition: definition, Formula: FormulaVersion(id)}
	declared := Settings(id)
	if custom != nil {
		c.Formula, declared = custom.Formula, custom.Settings
	}
	h := sha256.New()
	fmt.Fprintf(h, "metric %s\nformula %d\n", id, c.Formula)
	for _, s := range ValueSettings {
		if s.Name != SettingMinSample && !slices.Contains(declared, s.Name) {
			continue
		}
		v, err := json.Marshal(s.value(&cfg, minSample))
		if err != nil {
			// Every value is plain data (maps, numbers, strings); NaN or
			// an infinity is refused by configuration before it gets here.
			v = []byte(fmt.Sprintf("%q", err.Error()))
		}
		fmt.Fprintf(h, "%s %s\n", s.Name, v)
	}
	c.Settings = hex.EncodeToString(h.Sum(nil))[:16]
	return c
}

// Settings returns the settings a metric declares (min_sample, which every
// metric has, is not listed).
func Settings(id string) []Setting {
	if def, ok := reg.defs[id]; ok {
		return def.Settings
	}
	return nil
}

// ---------------------------------------------------------------- effective values

// The effective value of each setting: what the computation uses, with
// the defaults applied. Formulas read these, and so does the citation, so
// the two cannot drift apart.

// vulnSLAs maps each severity (lower case) to its allowed age: the SPEC
// defaults, overridden per severity by the configuration. A severity with
// neither has no SLA and cannot breach.
// VulnerabilitySLAs is the effective allowed age per severity (lower
// case), defaults applied: what vulnerability_sla_breaches reads.
func (c Config) VulnerabilitySLAs() map[string]time.Duration { return c.vulnSLAs() }

func (c *Config) vulnSLAs() map[string]time.Duration {
	out := DefaultConfig().VulnerabilitySLA
	for sev, v := range c.VulnerabilitySLA {
		out[strings.ToLower(sev)] = v
	}
	return out
}

func (c *Config) attributionWindow() time.Duration {
	if c.AttributionWindow <= 0 {
		return 24 * time.Hour
	}
	return c.AttributionWindow
}

// grossMargin is cac_payback_months's margin; one configured ≤ 0 falls
// back to the SPEC default 0.8.
func (c *Config) grossMargin() float64 {
	if c.GrossMargin <= 0 || math.IsNaN(c.GrossMargin) {
		return 0.8
	}
	return c.GrossMargin
}

// productionNames are the production names, lower-cased and sorted: they
// are matched case-insensitively, in any order.
func (c *Config) productionNames() []string {
	names := c.ProductionNames
	if len(names) == 0 {
		names = domain.DefaultProductionNames
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimSpace(n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// orgCurrency is the organisation currency.
func (c *Config) orgCurrency() string {
	if c.Currency == "" {
		return "USD"
	}
	return c.Currency
}

// impactWeights are the release-impact weights with fields and values
// lower-cased, as tickets are matched.
func (c *Config) impactWeights() impactWeights {
	src := c.ImpactWeights
	if src == nil {
		src = DefaultImpactWeights()
	}
	w := impactWeights{}
	for f, m := range src {
		lm := map[string]float64{}
		for v, x := range m {
			lm[strings.ToLower(v)] = x
		}
		w[strings.ToLower(f)] = lm
	}
	return w
}

// ImpactWindow is the observation window after a release
// (release_impact_window, 48 h by default).
func (c Config) ImpactWindow() time.Duration { return c.impactWindow() }

// impactWindow is ImpactWindow.
func (c *Config) impactWindow() time.Duration {
	if c.ReleaseImpactWindow > 0 {
		return c.ReleaseImpactWindow
	}
	return 48 * time.Hour
}

// DefaultTierWeights are SPEC §3's weights of
// customer_weighted_change_failure_rate: tier 1 weighs 3, tier 2 weighs 2,
// tier 3 or none 1.
func DefaultTierWeights() map[string]float64 {
	return map[string]float64{"1": 3, "2": 2, "3": 1, "none": 1}
}

// tierWeights are the weights in effect: the defaults, overridden per tier.
func (c *Config) tierWeights() tierWeights {
	w := DefaultTierWeights()
	for k, v := range c.TierWeights {
		w[k] = v
	}
	return w
}

// tierWeights maps a tier ("1", "2", "3", "none") to a deployment's weight.
type tierWeights map[string]float64

// of is the weight of a deployment of a service of the tier (0 for none);
// a tier beyond those configured weighs as a service without one.
func (w tierWeights) of(tier int) float64 {
	if v, ok := w[strconv.Itoa(tier)]; ok && tier > 0 {
		return v
	}
	return w["none"]
}

// funnelLag is funnel_conversion's maturation lag (default 90 days).
func (c *Config) funnelLag() time.Duration {
	if c.FunnelLag <= 0 {
		return DefaultFunnelLag
	}
	return c.FunnelLag
}

// SettingValue is a value-changing setting's effective value.
type SettingValue struct {
	Name    Setting `json:"name"`
	Changes string  `json:"changes"`
	Value   any     `json:"value"`
}

// EffectiveSettings returns every value-changing setting but min_sample
// (per metric, in each definition) with its effective value under cfg, in
// ValueSettings' order, and the hex SHA-256 over their JSON: what an audit
// records of the rules in force.
func EffectiveSettings(cfg Config) ([]SettingValue, string, error) {
	var out []SettingValue
	h := sha256.New()
	for _, s := range ValueSettings {
		if s.Name == SettingMinSample {
			continue
		}
		v := s.value(&cfg, 0)
		b, err := json.Marshal(v)
		if err != nil {
			return nil, "", fmt.Errorf("setting %s: %w", s.Name, err)
		}
		fmt.Fprintf(h, "%s %s\n", s.Name, b)
		out = append(out, SettingValue{Name: s.Name, Changes: s.Changes, Value: v})
	}
	return out, hex.EncodeToString(h.Sum(nil)), nil
}

// InForce is a setting a metric reads as it is in force for a dataset:
// its effective value and whether that is the default. A definition's
// text names defaults ("gross margin defaults to 0.8"); a page shows
// these beside it, so a reader sees the value the number was computed
// with.
type InForce struct {
	Name    Setting `json:"name"`
	Value   any     `json:"value"`
	Default bool    `json:"default"`
	// Ref and Since say what put a value other than the default in force
	// ("configuration", "proposal 3") and from when (zero: from the
	// start); the governed settings' history fills them.
	Ref   string    `json:"ref,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// DeclaredSettings are the settings the metric reads: a built-in's
// declared ones (Settings), an organisation's metric's its own.
func (d *Dataset) DeclaredSettings(id string) []Setting {
	if def, ok := d.cfg.customDef(id); ok {
		return def.Settings
	}
	return Settings(id)
}

// EffectiveValue reads a setting's effective value from its JSON (as
// EffectiveSettings gives it and governance records it, or as Written
// writes it: a duration "24h" where it had recorded nanoseconds) into the
// value's own type, so that words for it say a window "1d".
func EffectiveValue(name Setting, raw json.RawMessage) (any, error) {
	dflt := DefaultConfig()
	for _, s := range ValueSettings {
		if s.Name != name {
			continue
		}
		v := reflect.New(reflect.TypeOf(s.value(&dflt, 0)))
		err := json.Unmarshal(raw, v.Interface())
		if err != nil {
			if d, ok := readWritten(v.Interface(), raw); ok {
				return d, nil
			}
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
		return v.Elem().Interface(), nil
	}
	return nil, fmt.Errorf("%q is not a value-changing setting", name)
}

// Written is a setting's effective value as the configuration writes it:
// a duration as a window ("24h", "7d", "90d"), and so each duration of a
// map (vulnerability_sla); any other value as it is. Its JSON is what the
// API answers (InForce, a proposal's before), so a value read can be
// proposed back; the citations' hash reads the value itself (Go's
// nanoseconds), unchanged.
func Written(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return catalog.FormatWindow(x)
	case map[string]time.Duration:
		out := make(map[string]string, len(x))
		for k, d := range x {
			out[k] = catalog.FormatWindow(d)
		}
		return out
	}
	return v
}

// WrittenJSON is a setting's effective value's JSON (EffectiveValue reads
// it) as Written writes it; raw as it is when it does not read as the
// setting's value.
func WrittenJSON(name Setting, raw json.RawMessage) json.RawMessage {
	v, err := EffectiveValue(name, raw)
	if err != nil {
		return raw
	}
	b, err := json.Marshal(Written(v))
	if err != nil {
		return raw
	}
	return b
}

// readWritten reads raw as Written writes a duration, or a map of them,
// into ptr's type: ok false for any other type or a text that is not one.
func readWritten(ptr any, raw json.RawMessage) (any, bool) {
	switch ptr.(type) {
	case *time.Duration:
		var w string
		if json.Unmarshal(raw, &w) != nil {
			return nil, false
		}
		d, err := catalog.ParseWindow(w)
		return d, err == nil
	case *map[string]time.Duration:
		var ws map[string]string
		if json.Unmarshal(raw, &ws) != nil {
			return nil, false
		}
		out := make(map[string]time.Duration, len(ws))
		for k, w := range ws {
			d, err := catalog.ParseWindow(w)
			if err != nil {
				return nil, false
			}
			out[k] = d
		}
		return out, true
	}
	return nil, false
}

// MarshalJSON writes the value as the configuration writes it (Written):
// a duration "24h", not Go's nanoseconds.
func (s InForce) MarshalJSON() ([]byte, error) {
	type plain InForce
	p := plain(s)
	p.Value = Written(s.Value)
	return json.Marshal(p)
}

// SettingsInForce lists the settings the metric reads (min_sample, every
// metric's and in its definition, aside) with their effective values
// under this dataset's configuration, in ValueSettings' order.
func (d *Dataset) SettingsInForce(id string) []InForce {
	declared := d.DeclaredSettings(id)
	dflt := DefaultConfig()
	var out []InForce
	for _, s := range ValueSettings {
		if s.Name == SettingMinSample || !slices.Contains(declared, s.Name) {
			continue
		}
		v := s.value(&d.cfg, 0)
		a, errA := json.Marshal(v)
		b, errB := json.Marshal(s.value(&dflt, 0))
		out = append(out, InForce{Name: s.Name, Value: v, Default: errA == nil && errB == nil && string(a) == string(b)})
	}
	return out
}
