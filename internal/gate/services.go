package gate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// UnknownService is a service the policies name (in a scope or the
// watch's per-service settings) that no record names: a misspelt name
// there validates, and the rule it scopes never applies.
type UnknownService struct {
	Service string   `json:"service"`
	Where   []string `json:"where"`
	// Closest is the known service nearest by spelling; "" when none is
	// near.
	Closest string `json:"closest,omitempty"`
}

func (u UnknownService) String() string {
	s := fmt.Sprintf("%s names service %q, of which Candor has no record", strings.Join(u.Where, " and "), u.Service)
	if u.Closest != "" {
		s += fmt.Sprintf(" (did you mean %q?)", u.Closest)
	}
	return s
}

// namedServices lists, by service, where the policies name it.
func (p *Policies) namedServices() map[string][]string {
	out := map[string][]string{}
	add := func(where string, s Scope) {
		for _, svc := range s.Services {
			if !slices.Contains(out[svc], where) {
				out[svc] = append(out[svc], where)
			}
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
		out[svc] = append(out[svc], "watch.services")
	}
	return out
}

// UnknownServices are the services the policies name that are not among
// known (every service a record names), by name.
func (p *Policies) UnknownServices(known []string) []UnknownService {
	var out []UnknownService
	for svc, where := range p.namedServices() {
		if slices.Contains(known, svc) {
			continue
		}
		out = append(out, UnknownService{Service: svc, Where: where, Closest: domain.Closest(svc, known)})
	}
	slices.SortFunc(out, func(a, b UnknownService) int { return strings.Compare(a.Service, b.Service) })
	return out
}
