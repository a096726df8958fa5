package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// Value-changing settings (metrics.ValueSettings) are governed like metric
// definitions (SPEC §5): the configuration file and the environment give
// their values at first start, and from then on they change only through
// approved proposals (internal/governance). Here they are read from and
// put into a configuration by name — the configuration key, which is the
// setting's name.

// GovernedSettings are the names of the governed settings: every
// value-changing setting but min_sample, which is a metric's and is
// proposed with it.
func GovernedSettings() []string {
	var out []string
	for _, s := range metrics.ValueSettings {
		if s.Name != metrics.SettingMinSample {
			out = append(out, string(s.Name))
		}
	}
	return out
}

// GovernedEnv returns, of the governed settings, those the environment
// sets, each with its variable (the variables' one table, envVars).
func GovernedEnv(env func(string) string) map[string]string {
	out := map[string]string{}
	governed := GovernedSettings()
	for _, v := range envVars {
		if slices.Contains(governed, v.key) && env(v.name) != "" {
			out[v.key] = v.name
		}
	}
	return out
}

// SetByEnv names the governed settings the environment set when the
// configuration was loaded, each with its variable.
func (c Config) SetByEnv() map[string]string { return c.setByEnv }

// Path is the file the configuration was read from ("" for none).
func (c Config) Path() string { return c.path }

// field is the configuration field whose YAML key is name.
func (c *Config) field(name string) (reflect.Value, bool) {
	v := reflect.ValueOf(c).Elem()
	for i, f := range reflect.VisibleFields(v.Type()) {
		if key, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); key == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// CheckGoverned refuses a name that is not a governed setting's, saying
// which are (min_sample: proposed with its metric).
func CheckGoverned(name string) error {
	if name == string(metrics.SettingMinSample) {
		return fmt.Errorf("min_sample is a metric's: propose it as a change of the metric ({\"metric\": ID, \"changes\": {\"min_sample\": N}})")
	}
	if !slices.Contains(GovernedSettings(), name) {
		return fmt.Errorf("%q is not a value-changing setting; those are %s", name, strings.Join(GovernedSettings(), ", "))
	}
	return nil
}

// Governed returns the governed settings' values as configured, as JSON:
// null for one not set (its default applies), and for one set to what
// leaves every setting's effective value as it is unset — a first start
// without attribution_window and a later one with the documented default
// of 24h are the same rules, and refusing the second locked an operator
// out of every command for copying the example configuration. A value
// equal to its own default that changes another setting's (a
// production_environments list drops the default environment aliases) is
// not the default and is kept.
func (c Config) Governed() (map[string]json.RawMessage, error) {
	// With no effective values (a configuration EngineConfig refuses,
	// which Load does not let through) each set value is kept as it is.
	eff, effErr := c.effectiveSettings()
	out := map[string]json.RawMessage{}
	for _, name := range GovernedSettings() {
		f, ok := c.field(name)
		if !ok {
			return nil, fmt.Errorf("config: no field for setting %s", name)
		}
		if f.IsZero() {
			out[name] = json.RawMessage("null")
			continue
		}
		if effErr == nil {
			unset := c
			uf, _ := unset.field(name)
			uf.SetZero()
			if h, err := unset.effectiveSettings(); err == nil && h == eff {
				out[name] = json.RawMessage("null")
				continue
			}
		}
		b, err := json.Marshal(f.Interface())
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

// effectiveSettings is the hash of every value-changing setting's
// effective value under c (metrics.EffectiveSettings).
func (c Config) effectiveSettings() (string, error) {
	m, err := c.EngineConfig()
	if err != nil {
		return "", err
	}
	_, h, err := metrics.EffectiveSettings(m)
	return h, err
}

// WithSettings returns a copy of the configuration with the given governed
// settings' values (JSON as Governed gives them; null for the default) in
// place of the configured ones, checked as the configuration is. An
// unknown setting or a bad value is an error naming it.
func (c Config) WithSettings(values map[string]json.RawMessage) (Config, error) {
	return c.withSettings(values, false)
}

// WithRecordedSettings is WithSettings of values a store recorded (the
// initial set, the settings in force): an exchange rate under a key that
// is no currency code, which a store could record before such keys were
// refused, converts nothing and is left out — refusing it would leave no
// configuration able to open the store, nor a proposal able to take it
// back. A value entering (the file, a proposal) goes through WithSettings.
func (c Config) WithRecordedSettings(values map[string]json.RawMessage) (Config, error) {
	return c.withSettings(values, true)
}

func (c Config) withSettings(values map[string]json.RawMessage, recorded bool) (Config, error) {
	out := c
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if err := CheckGoverned(name); err != nil {
			return c, err
		}
		f, _ := out.field(name)
		nv := reflect.New(f.Type())
		if raw := bytes.TrimSpace(values[name]); len(raw) > 0 && string(raw) != "null" {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(nv.Interface()); err != nil {
				return c, fmt.Errorf("%s: %s is not a value of this setting (%s): %v", name, raw, describeSetting(f.Type()), err)
			}
		}
		f.Set(nv.Elem())
	}
	if recorded {
		out.ExchangeRates = maps.Clone(out.ExchangeRates)
		maps.DeleteFunc(out.ExchangeRates, func(k string, _ float64) bool { return !domain.IsCurrency(strings.ToUpper(k)) })
	}
	if _, err := out.EngineConfig(); err != nil {
		return c, err
	}
	return out, nil
}

// describeSetting says what a setting's JSON value looks like.
func describeSetting(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return `a string such as "24h" or "EUR"`
	case reflect.Pointer:
		return "a number"
	case reflect.Slice:
		return `a list of strings such as ["production", "live"]`
	case reflect.Map:
		switch t.Elem().Kind() {
		case reflect.String:
			return `an object of strings such as {"critical": "7d"}`
		case reflect.Float64:
			return `an object of numbers such as {"EUR": 1.08}`
		case reflect.Slice:
			return `an object of lists such as {"production": ["prod", "live"]}`
		default:
			return `an object of objects of numbers such as {"priority": {"p1": 3}}`
		}
	}
	return t.String()
}
