package metrics

import (
	"fmt"
	"strings"
	"testing"
)

// aliasData: deployments of one service under three spellings of
// production, two more (PRD, Production), a staging one and an explicit
// staging "prod".
var aliasData = func() string {
	var b strings.Builder
	for i, d := range []struct{ env, extra, status string }{
		{"production", "", "success"}, {"live", "", "rolled_back"}, {"prod", "", "success"}, {"PRD", "", "rolled_back"},
		{"Production", "", "success"}, {"staging", "", "rolled_back"}, {"prod", `"env_type":"staging",`, "rolled_back"},
	} {
		fmt.Fprintf(&b, `{"kind":"deployment","id":"a%d","service":"api","environment":%q,%s"finished_at":"2026-03-%dT00:00:00Z","status":%q}`+"\n",
			i+1, d.env, d.extra, 10+i, d.status)
	}
	return b.String()
}()

// With the default aliases, rollback rate by environment is one line,
// production, holding all five production deployments however spelled;
// scoped to production it counts them all.
func TestEnvironmentAliasesDefault(t *testing.T) {
	d := load(t, nil, aliasData)
	q := mcase{}.query(t)
	groups, err := d.Breakdown("rollback_rate", q, "environment")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Key != "production" || groups[0].Count != 5 || !approx(*groups[0].Value, 40) {
		for _, g := range groups {
			t.Logf("%s %s (n=%d)", g.Key, fmtVal(g.Value), g.Count)
		}
		t.Fatalf("want one line: production 40 %% (n=5)")
	}
	q.Scope = Scope{Dim: "environment", Value: "production"}
	r, err := d.Compute("rollback_rate", q)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 5 || !approx(*r.Value, 40) {
		t.Fatalf("scope environment:production = %s (n=%d), want 40 %% of all 5", fmtVal(r.Value), r.Count)
	}
	if got := strings.Join(d.DimValues("environment"), ","); got != "production" {
		t.Errorf("environment values = %s", got)
	}
	if d.CanonicalEnvironment("LIVE") != "production" || d.CanonicalEnvironment("eu-1") != "eu-1" {
		t.Errorf("CanonicalEnvironment: %q %q", d.CanonicalEnvironment("LIVE"), d.CanonicalEnvironment("eu-1"))
	}
}

// Configured aliases replace the defaults; an alias of a production name
// makes a deployment production; no aliases lists names as written.
func TestEnvironmentAliasesConfigured(t *testing.T) {
	cfg := DefaultConfig()
	table, err := EnvironmentAliasTable(map[string][]string{"production": {"prod", "live", "prod-eu"}}, cfg.ProductionNames)
	if err != nil {
		t.Fatal(err)
	}
	cfg.EnvironmentAliases = table
	d := load(t, &cfg, aliasData+`
{"kind":"deployment","id":"a8","service":"api","environment":"prod-eu","finished_at":"2026-03-17T00:00:00Z","status":"success"}`)
	groups, err := d.Breakdown("rollback_rate", mcase{}.query(t), "environment")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		got = append(got, g.Key+"="+fmtVal(g.Value))
	}
	// PRD is not an alias here: a line of its own; prod-eu is production.
	if s := strings.Join(got, " "); s != "PRD=100 production=20" {
		t.Errorf("groups %s, want PRD=100 production=20", s)
	}

	cfg.EnvironmentAliases = nil
	d = load(t, &cfg, aliasData)
	got = got[:0]
	groups, _ = d.Breakdown("rollback_rate", mcase{}.query(t), "environment")
	for _, g := range groups {
		got = append(got, g.Key)
	}
	if s := strings.Join(got, " "); s != "PRD Production live prod production" {
		t.Errorf("without aliases: %s", s)
	}
}

func TestEnvironmentAliasTableRefuses(t *testing.T) {
	prod := []string{"production", "prod", "prd", "live"}
	for _, c := range []struct {
		in   map[string][]string
		want string
	}{
		{map[string][]string{"staging": {"stage"}, "preprod": {"STAGE"}}, `environment_aliases.staging: "stage" is already an alias of "preprod"`},
		{map[string][]string{"production": {"staging"}, "staging": {"stg"}}, `environment_aliases.production: "staging" is itself a canonical name (environment_aliases.staging)`},
		{map[string][]string{"staging": {"live"}}, `environment_aliases.staging: "live" is a production environment name`},
		{map[string][]string{"production": {" "}}, "environment_aliases.production: an alias is blank"},
		{map[string][]string{"Production": nil, "production": nil}, "the same name"},
	} {
		_, err := EnvironmentAliasTable(c.in, prod)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.in, err, c.want)
		}
	}
}
