package metrics

import (
	"fmt"
	"sort"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// DefaultEnvironmentAliases are SPEC §1's default production names taken
// as one environment: they already mean the same thing (production) to
// every metric, so a breakdown listing live, prod and production apart
// splits one environment by spelling.
func DefaultEnvironmentAliases() map[string][]string {
	return map[string][]string{domain.EnvProduction: {"prod", "prd", "live"}}
}

// EnvironmentAliasTable turns canonical name → aliases into the lookup
// Config.EnvironmentAliases holds: lower-cased alias (and canonical name)
// → canonical name. An alias of two canonical names, an alias that is
// itself a canonical name, a blank name, and an alias that is a
// production name of a canonical name that is not are refused, each
// naming the key (environment_aliases.NAME).
func EnvironmentAliasTable(aliases map[string][]string, prodNames []string) (map[string]string, error) {
	canon := make([]string, 0, len(aliases))
	for c := range aliases {
		canon = append(canon, c)
	}
	sort.Strings(canon) // errors in a stable order
	isCanon := map[string]string{}
	for _, c := range canon {
		key := strings.ToLower(strings.TrimSpace(c))
		if key == "" {
			return nil, fmt.Errorf("environment_aliases: a canonical environment name is blank")
		}
		if other, dup := isCanon[key]; dup {
			return nil, fmt.Errorf("environment_aliases.%s: the same name as %q (names are matched case-insensitively)", c, other)
		}
		isCanon[key] = c
	}
	out := map[string]string{}
	for _, c := range canon {
		name := strings.TrimSpace(c)
		out[strings.ToLower(name)] = name
		cProd := isProduction(name, prodNames)
		for _, a := range aliases[c] {
			key := strings.ToLower(strings.TrimSpace(a))
			switch {
			case key == "":
				return nil, fmt.Errorf("environment_aliases.%s: an alias is blank", c)
			case isCanon[key] != "" && isCanon[key] != c:
				return nil, fmt.Errorf("environment_aliases.%s: %q is itself a canonical name (environment_aliases.%s); aliases do not chain", c, a, isCanon[key])
			case out[key] != "" && out[key] != name:
				return nil, fmt.Errorf("environment_aliases.%s: %q is already an alias of %q", c, a, out[key])
			case isProduction(a, prodNames) && !cProd:
				return nil, fmt.Errorf("environment_aliases.%s: %q is a production environment name (production_environments) but %q is not; list it under a production name", c, a, name)
			}
			out[key] = name
		}
	}
	return out, nil
}

func isProduction(env string, prodNames []string) bool {
	return (&domain.Deployment{Environment: env}).Production(prodNames)
}

// environment is a deployment's environment as breakdowns and scopes see
// it — the canonical name of its alias, else its name as recorded — and
// whether it is a production deployment: by SPEC §1 on its own name, and
// also, without an explicit env_type, when its canonical name is a
// production name (aliasing prod-eu to production makes it production).
// The stored record keeps the raw name.
func (c *Config) environment(r *domain.Deployment) (string, bool) {
	env, prod := r.Environment, r.Production(c.ProductionNames)
	if canon, ok := c.EnvironmentAliases[strings.ToLower(strings.TrimSpace(env))]; ok {
		env = canon
		prod = prod || r.EnvType == "" && isProduction(canon, c.ProductionNames)
	}
	return env, prod
}

// CanonicalEnvironment is the canonical name of an environment name (an
// alias's canonical name, else the name itself), for callers that take
// environment names from people: a scope written with an alias.
func (d *Dataset) CanonicalEnvironment(name string) string {
	if canon, ok := d.cfg.EnvironmentAliases[strings.ToLower(strings.TrimSpace(name))]; ok {
		return canon
	}
	return name
}

func defaultAliasTable() map[string]string {
	t, err := EnvironmentAliasTable(DefaultEnvironmentAliases(), domain.DefaultProductionNames)
	if err != nil {
		panic(err) // the defaults are constants
	}
	return t
}
