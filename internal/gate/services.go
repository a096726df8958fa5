package gate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// UnknownName is a service or team the policies name (in a scope, or a
// service in the watch's per-service settings) that no record names: a
// misspelt name there validates, and what it scopes never applies.
type UnknownName struct {
	Dim   string   `json:"dim"` // service or team
	Name  string   `json:"name"`
	Where []string `json:"where"`
	// Closest is the known name nearest by spelling; "" when none is
	// near.
	Closest string `json:"closest,omitempty"`
}

func (u UnknownName) String() string {
	s := fmt.Sprintf("%s names service %q, of which Candor has no record", strings.Join(u.Where, " and "), u.Name)
	if u.Dim == "team" {
		s = fmt.Sprintf("%s names team %q, which no service record gives", strings.Join(u.Where, " and "), u.Name)
	}
	if u.Closest != "" {
		s += fmt.Sprintf(" (did you mean %q?)", u.Closest)
	}
	return s
}

// named lists, by dimension (service, team) and name, where the policies
// name it.
func (p *Policies) named() map[[2]string][]string {
	out := map[[2]string][]string{}
	put := func(dim, name, where string) {
		k := [2]string{dim, name}
		if !slices.Contains(out[k], where) {
			out[k] = append(out[k], where)
		}
	}
	add := func(where string, s Scope) {
		for _, v := range s.Services {
			put("service", v, where)
		}
		for _, v := range s.Teams {
			put("team", v, where)
		}
	}
	for _, b := range []struct {
		name string
		b    builtin
	}{{"coverage", p.coverage}, {"risk", p.risk}, {"canary", p.canary}} {
		if b.b.on {
			add(b.name+".scope", b.b.scope)
		}
	}
	for _, r := range p.rules {
		add("policies "+r.id+" scope", r.scope)
	}
	for _, w := range p.freeze.windows {
		add("freeze window "+w.name+" scope", w.scope)
	}
	for _, e := range p.freeze.exceptions {
		add("freeze exception for "+e.window+" scope", e.scope)
	}
	for svc := range p.watch.services {
		put("service", svc, "watch.services")
	}
	return out
}

// UnknownNames are the services and teams the policies name that are
// not among the known ones (every service a record names, every team a
// service record gives), services first, by name.
func (p *Policies) UnknownNames(services, teams []string) []UnknownName {
	var out []UnknownName
	for k, where := range p.named() {
		known := services
		if k[0] == "team" {
			known = teams
		}
		if !slices.Contains(known, k[1]) {
			out = append(out, UnknownName{Dim: k[0], Name: k[1], Where: where, Closest: domain.Closest(k[1], known)})
		}
	}
	slices.SortFunc(out, func(a, b UnknownName) int {
		return cmp.Or(strings.Compare(a.Dim, b.Dim), strings.Compare(a.Name, b.Name)) // "service" before "team"
	})
	return out
}

// UnknownIn is UnknownNames against the dataset: every service a record
// names, and the teams their service records give — the team a release
// is judged by (a measurement's own team scopes no release).
func (p *Policies) UnknownIn(ds *metrics.Dataset) []UnknownName {
	services := ds.DimValues("service")
	var teams []string
	for _, svc := range services {
		if t := ds.ServiceAttr(svc, "team"); t != "" && !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	return p.UnknownNames(services, teams)
}
