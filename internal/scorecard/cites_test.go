package scorecard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// Every card cites what produced its value: its catalog definition's
// version, the formula's version and the hash of the settings that change
// it. An override (a new definition version) and a changed setting each
// show in the citation; a setting the metric does not read does not.
func TestCardCitesWhatProducedIt(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	c := card(t, Build(cat, ds, Options{AsOf: asOf}), "change_failure_rate")
	m, _ := cat.Metric("change_failure_rate")
	if c.Cites == nil || c.Cites.Definition != m.Version || c.Cites.Formula != metrics.FormulaVersion(m.ID) || len(c.Cites.Settings) != 16 {
		t.Fatalf("change_failure_rate cites %+v, want definition %d, formula %d and a 16-digit hash", c.Cites, m.Version, metrics.FormulaVersion(m.ID))
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"cites":{"definition_version":1,"formula_version":1,"settings_hash":"` + c.Cites.Settings + `"}`; !strings.Contains(string(js), want) {
		t.Errorf("card JSON lacks %s:\n%s", want, js)
	}

	over, err := cat.Apply(map[string]catalog.Override{"change_failure_rate": {MinSample: whole(4)}})
	if err != nil {
		t.Fatal(err)
	}
	o := card(t, Build(over, ds, Options{AsOf: asOf}), "change_failure_rate")
	if o.Cites.Definition != m.Version+1 || o.Cites.Settings == c.Cites.Settings {
		t.Errorf("with min_sample overridden: cites %+v, want definition %d and another hash than %s", o.Cites, m.Version+1, c.Cites.Settings)
	}

	cfg := metrics.DefaultConfig()
	cfg.AttributionWindow = 2 * time.Hour
	cfg.GrossMargin = 0.5
	sc := Build(cat, load(t, cfg, org), Options{AsOf: asOf})
	if a := card(t, sc, "change_failure_rate"); a.Cites.Settings == c.Cites.Settings {
		t.Errorf("a 2 h attribution window cites the same settings %s as 24 h", a.Cites.Settings)
	}
	if a, b := card(t, sc, "deployment_frequency"), card(t, Build(cat, ds, Options{AsOf: asOf}), "deployment_frequency"); a.Cites.Settings != b.Cites.Settings {
		t.Errorf("deployment_frequency's citation moved with settings it does not read: %s, %s", a.Cites.Settings, b.Cites.Settings)
	}
	d, err := Detail(cat, ds, "change_failure_rate", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Card.Cites == nil || *d.Card.Cites != *c.Cites {
		t.Errorf("drill-down cites %+v, card %+v", d.Card.Cites, c.Cites)
	}
}
