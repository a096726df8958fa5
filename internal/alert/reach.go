package alert

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/store"
)

// Unreach is a rule whose alerts on some metrics the routes, channels and
// users in force deliver to no one: no route resolves to a user who may
// see them (its roles held by nobody enabled, an owner who is no Candor
// user), the channels have no address of their own, or what would carry
// them is withheld (a revenue metric over an unmarked webhook). Router's
// Unreached says which routes resolve to nobody; this says what that
// costs, rule by rule — routes with owner: true alone, or whose roles
// may not see a pillar, lose alerts without resolving to nobody.
type Unreach struct {
	// Rules lose the same metrics for the same reasons (most rules look
	// at every metric, so one route's gap shows in each).
	Rules []string `json:"rules"`
	// Severity is set when only the alerts of that severity reach no one
	// (a rule following the metric's status: its critical alerts routed
	// where its warnings are not).
	Severity string   `json:"severity,omitempty"`
	Metrics  []string `json:"metrics"`
	// Withheld says who or what would have carried them, and why not.
	Withheld []string `json:"withheld,omitempty"`
}

// String is the sentence an administrator reads: at most five metrics by
// id, then how many more.
func (u Unreach) String() string {
	ms := u.Metrics
	more := ""
	if len(ms) > 5 {
		more = fmt.Sprintf(" and %d more", len(ms)-5)
		ms = ms[:5]
	}
	sev := ""
	if u.Severity != "" {
		sev = " (" + u.Severity + ")"
	}
	rules := "rule " + u.Rules[0]
	if len(u.Rules) > 1 {
		rules = "rules " + strings.Join(u.Rules, ", ")
	}
	s := fmt.Sprintf("alerts of %s%s on %s%s reach no one", rules, sev, strings.Join(ms, ", "), more)
	if len(u.Withheld) > 0 {
		return s + ": withheld from " + strings.Join(u.Withheld, "; ")
	}
	return s + ": no route resolves to a user who may see them, and no channel has an address of its own"
}

// looksAt reports whether r raises alerts on m (those Explain answers
// for): a quarantine rule looks at stored rows, not a metric; a burn-rate
// rule watches the error budget's metric whatever it names.
func (r Rule) looksAt(m *catalog.Metric) bool {
	return r.Kind != KindQuarantine && r.appliesTo(m) || r.Kind == KindBurnRate && m.ID == "error_budget_remaining"
}

// severities are the severities r's alerts can have: its own, or, for a
// rule whose severity follows the metric's status, those of the statuses
// it reports.
func (r Rule) severities() []string {
	if r.Severity != "" {
		return []string{r.Severity}
	}
	var out []string
	for _, st := range r.reports() {
		if sev := r.SeverityFor(string(st)); !slices.Contains(out, sev) {
			out = append(out, sev)
		}
	}
	return out
}

// users lists the people the router chooses from (none without a user
// store).
func (s *Service) users(ctx context.Context) ([]store.User, error) {
	if s.Users == nil {
		return nil, nil
	}
	return s.Users(ctx)
}

// Unreached lists, rule by rule, the metrics in force whose alerts would
// reach no one now, for the administrator's page and candor serve's start.
// Without a router or a channel it lists nothing: then every alert stays
// on the alerts page by configuration, which that page says.
func (s *Service) Unreached(ctx context.Context) ([]Unreach, error) {
	if s.Router == nil || len(s.Channels) == 0 {
		return nil, nil
	}
	users, err := s.users(ctx)
	if err != nil {
		return nil, err
	}
	var out []Unreach
	for _, r := range s.RulesInForce() {
		sevs := r.severities()
		// Per severity, then merged where both lose the same metrics.
		lost := make([]Unreach, len(sevs))
		for _, mv := range s.Catalog.MetricsInForce() {
			m := &mv
			if m.Retired || !r.looksAt(m) {
				continue
			}
			for i, sev := range sevs {
				o := Observation{Rule: r.Name, Metric: m.ID, Owner: m.Owner, Severity: sev}
				ds, wh := s.Router.Plan(o, r, users)
				if len(ds) > 0 {
					continue
				}
				u := &lost[i]
				u.Metrics = append(u.Metrics, m.ID)
				for _, w := range wh {
					why := w.String()
					if rest, ok := strings.CutPrefix(w.Why, ownerNotAUser); ok {
						// One line for the owners, each metric's being
						// another title.
						why = "the metrics' owners, titles rather than Candor users' addresses" + rest
					}
					if !slices.Contains(u.Withheld, why) {
						u.Withheld = append(u.Withheld, why)
					}
				}
			}
		}
		if len(sevs) > 1 && slices.Equal(lost[0].Metrics, lost[1].Metrics) && slices.Equal(lost[0].Withheld, lost[1].Withheld) {
			lost = lost[:1]
			sevs = nil
		}
		for i, u := range lost {
			if len(u.Metrics) == 0 {
				continue
			}
			if len(sevs) > 1 {
				u.Severity = sevs[i]
			}
			j := slices.IndexFunc(out, func(x Unreach) bool {
				return x.Severity == u.Severity && slices.Equal(x.Metrics, u.Metrics) && slices.Equal(x.Withheld, u.Withheld)
			})
			if j >= 0 {
				out[j].Rules = append(out[j].Rules, r.Name)
				continue
			}
			u.Rules = []string{r.Name}
			out = append(out, u)
		}
	}
	return out, nil
}

// Nowhere says, for each alert of list not resolved whose rule is in force
// and which the routes, channels and users in force deliver to no one, why
// (keyed by the alert's key): the alerts page marks it, where a firing
// alert nobody was told of looked like one somebody had been.
func (s *Service) Nowhere(ctx context.Context, list []Alert) (map[string]string, error) {
	if s.Router == nil || len(s.Channels) == 0 {
		return nil, nil
	}
	users, err := s.users(ctx)
	if err != nil {
		return nil, err
	}
	rules := s.RulesInForce()
	out := map[string]string{}
	for _, a := range list {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == a.Rule })
		if a.State == Resolved || i < 0 {
			continue
		}
		ds, wh := s.Router.Plan(a.Observation, rules[i], users)
		if len(ds) > 0 {
			continue
		}
		why := "no route resolves to a user who may see it, and no channel has an address of its own"
		if len(wh) > 0 {
			var ws []string
			for _, w := range wh {
				ws = append(ws, w.String())
			}
			why = "withheld from " + strings.Join(ws, "; ")
		}
		out[a.Key] = why
	}
	return out, nil
}
