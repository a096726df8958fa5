package metrics

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// settingsBase is the configuration the settings tests change one setting
// of: the organisation currency is EUR and the generated data's dollars
// have a rate, so currency and exchange rates both reach the values.
func settingsBase() Config {
	c := DefaultConfig()
	c.Currency = "EUR"
	c.ExchangeRates = map[string]float64{"USD": 0.9}
	return c
}

// settingChanges changes one value-changing setting in a way the generated
// data feels; min_sample is not part of Config (see TestCiteFollowsMinSample).
var settingChanges = map[Setting]func(c *Config){
	SettingVulnerabilitySLA: func(c *Config) {
		c.VulnerabilitySLA = map[string]time.Duration{"critical": day, "high": day, "medium": day, "low": day}
	},
	SettingAttributionWindow: func(c *Config) { c.AttributionWindow = time.Hour },
	SettingGrossMargin:       func(c *Config) { c.GrossMargin = 0.5 },
	SettingProductionEnvironments: func(c *Config) {
		c.ProductionNames = append(slices.Clone(domain.DefaultProductionNames), "staging")
	},
	SettingEnvironmentAliases: func(c *Config) {
		c.EnvironmentAliases = maps.Clone(c.EnvironmentAliases)
		c.EnvironmentAliases["staging"] = domain.EnvProduction
	},
	SettingCurrency:             func(c *Config) { c.Currency = "GBP" },
	SettingExchangeRates:        func(c *Config) { c.ExchangeRates = map[string]float64{"USD": 0.5} },
	SettingReleaseImpactWeights: func(c *Config) { c.ImpactWeights = map[string]map[string]float64{"priority": {"urgent": 10}} },
	SettingReleaseImpactWindow:  func(c *Config) { c.ReleaseImpactWindow = 6 * time.Hour },
	SettingFunnelMaturationLag:  func(c *Config) { c.FunnelLag = 30 * day },
	SettingTierWeights:          func(c *Config) { c.TierWeights = map[string]float64{"1": 10} },
	SettingBusinessHours: func(c *Config) {
		c.BusinessHours, _ = Calendar{TimeZone: "America/Los_Angeles"}.Resolve(DefaultCalendar())
	},
}

// Every metric declares the settings that change its results: this test
// changes each setting in turn and fails for a metric whose drill-down
// (value, count, detail, records) moves without declaring it — its
// citation would then claim rules that did not produce it. It also fails
// for a change that moves nothing, which could not catch anything.
func TestSettingsDeclared(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 5, Scale: 0.03, End: end, Days: 200}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	var queries []Query
	for _, asOf := range []time.Time{end, end.Add(-45 * day)} {
		for _, w := range []time.Duration{7 * day, 30 * day} {
			queries = append(queries, Query{AsOf: asOf, Window: w, Records: true})
		}
	}
	results := func(cfg Config) map[string]string {
		d := NewDataset(cfg)
		for _, r := range recs {
			d.Apply(r, time.Time{})
		}
		d.Prepare()
		out := map[string]string{}
		for _, id := range IDs() {
			var b strings.Builder
			for _, q := range queries {
				r, err := d.Compute(id, q)
				if err != nil {
					t.Fatal(err)
				}
				j, _ := json.Marshal(r)
				b.Write(j)
				for _, dim := range Dims(id) {
					g, err := d.Breakdown(id, q, dim)
					if err != nil {
						t.Fatal(err)
					}
					j, _ := json.Marshal(g)
					b.Write(j)
				}
			}
			out[id] = b.String()
		}
		return out
	}
	base := results(settingsBase())
	for _, s := range ValueSettings {
		change, ok := settingChanges[s.Name]
		if s.Name == SettingMinSample {
			continue
		}
		if !ok {
			t.Errorf("%s: no change defined for this test", s.Name)
			continue
		}
		cfg := settingsBase()
		change(&cfg)
		moved := 0
		for id, r := range results(cfg) {
			if r == base[id] {
				continue
			}
			moved++
			if !slices.Contains(Settings(id), s.Name) {
				t.Errorf("changing %s changes %s, which does not declare it", s.Name, id)
			}
		}
		if moved == 0 {
			t.Errorf("changing %s changed no metric: the test cannot see it", s.Name)
		}
	}
}

// A citation's hash changes with every setting a metric declares, and
// with nothing else.
func TestCiteFollowsSettings(t *testing.T) {
	base := settingsBase()
	for _, s := range ValueSettings {
		change, ok := settingChanges[s.Name]
		if !ok {
			continue
		}
		cfg := settingsBase()
		change(&cfg)
		for _, id := range IDs() {
			before, after := Cite(base, id, 1, 5), Cite(cfg, id, 1, 5)
			declared := slices.Contains(Settings(id), s.Name)
			if declared && before.Settings == after.Settings {
				t.Errorf("%s declares %s, but changing it leaves the hash %s", id, s.Name, before.Settings)
			}
			if !declared && before.Settings != after.Settings {
				t.Errorf("%s does not declare %s, but changing it changes the hash", id, s.Name)
			}
		}
	}
}

// min_sample is per metric: every metric's citation follows it. The
// definition and formula versions are cited as they are.
func TestCiteFollowsMinSample(t *testing.T) {
	cfg := DefaultConfig()
	for _, id := range IDs() {
		a, b := Cite(cfg, id, 3, 5), Cite(cfg, id, 3, 6)
		if a.Settings == b.Settings {
			t.Errorf("%s: min_sample 5 and 6 give the same hash %s", id, a.Settings)
		}
		if a.Definition != 3 || a.Formula != FormulaVersion(id) || a.Formula < 1 {
			t.Errorf("%s: cites %+v, want definition 3 and formula %d", id, a, FormulaVersion(id))
		}
	}
	// Equal effective values give equal hashes: a default written out is
	// the default, and production names are matched in any order and case.
	spelled := DefaultConfig()
	spelled.GrossMargin = 0.8
	spelled.ProductionNames = []string{"LIVE", "prd", "prod", "Production"}
	for _, id := range IDs() {
		if a, b := Cite(cfg, id, 1, 5), Cite(spelled, id, 1, 5); a != b {
			t.Errorf("%s: equal effective settings cite %s and %s", id, a.Settings, b.Settings)
		}
	}
	d := NewDataset(cfg)
	if got, want := d.Cite("change_failure_rate", 2, 5), Cite(cfg, "change_failure_rate", 2, 5); got != want {
		t.Errorf("Dataset.Cite = %+v, want %+v", got, want)
	}
}

// Detail's fields are declared in the order of their JSON names, so its
// object is written sorted, the way the map it replaced was.
func TestDetailFieldsSorted(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[Detail](), reflect.TypeFor[ReleaseLine]()} {
		var names []string
		for f := range typ.Fields() {
			names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s fields are not in the order of their JSON names: %v", typ, names)
		}
	}
}

// docs/configuration.md lists the value-changing settings as the code
// does: the same names, what each changes, in the same order.
func TestSettingsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Settings that change values\n")
	if !ok {
		t.Fatal(`docs/configuration.md has no "## Settings that change values" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var rows []string
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| `") {
			rows = append(rows, l)
		}
	}
	var want []string
	for _, s := range ValueSettings {
		want = append(want, fmt.Sprintf("| `%s` | %s |", s.Name, s.Changes))
	}
	if !slices.Equal(rows, want) {
		t.Errorf("docs/configuration.md lists\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// A duration setting's value is answered as the configuration writes it
// ("1d", "7d"), not in Go's nanoseconds, so a value read can be proposed
// back; a value recorded in nanoseconds reads as the same, and the
// citations' hash is unchanged (it reads the value itself).
func TestSettingsWrittenAsTheConfiguration(t *testing.T) {
	for _, c := range []struct {
		name Setting
		raw  string
		want string
	}{
		{SettingAttributionWindow, `86400000000000`, `"1d"`},
		{SettingAttributionWindow, `"24h"`, `"1d"`},
		{SettingFunnelMaturationLag, `7776000000000000`, `"90d"`},
		{SettingVulnerabilitySLA, `{"critical": 604800000000000, "high": 2592000000000000}`, `{"critical":"7d","high":"30d"}`},
		{SettingVulnerabilitySLA, `{"critical": "7d", "high": "36h"}`, `{"critical":"7d","high":"36h"}`},
		{SettingGrossMargin, `0.8`, `0.8`},
		{SettingCurrency, `"EUR"`, `"EUR"`},
	} {
		if got := string(WrittenJSON(c.name, json.RawMessage(c.raw))); got != c.want {
			t.Errorf("WrittenJSON(%s, %s) = %s, want %s", c.name, c.raw, got, c.want)
		}
	}
	b, err := json.Marshal(InForce{Name: SettingAttributionWindow, Value: 24 * time.Hour, Default: true})
	if err != nil || string(b) != `{"name":"attribution_window","value":"1d","default":true}` {
		t.Errorf("InForce's JSON: %s %v", b, err)
	}
	b, _ = json.Marshal(InForce{Name: SettingVulnerabilitySLA, Value: map[string]time.Duration{"critical": 7 * 24 * time.Hour}})
	if string(b) != `{"name":"vulnerability_sla","value":{"critical":"7d"},"default":false}` {
		t.Errorf("InForce's JSON: %s", b)
	}
}
