package alert

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// Route sends the alerts it matches to people by role, by address and to
// the alert's owner, over its channels. Every matching route applies (not
// Alertmanager's first match in a tree): a CEO route and a CRO route both
// get an ARR alert that matches both.
type Route struct {
	Name  string     `yaml:"name" json:"name"`
	Match RouteMatch `yaml:"match" json:"match"`
	// Roles send to every enabled user holding one of them.
	Roles []string `yaml:"roles" json:"roles,omitempty"`
	// Users are e-mail addresses.
	Users []string `yaml:"users" json:"users,omitempty"`
	// Owner sends to the alert's owner too when the owner is a Candor
	// user's address (a service's owner on a burn_rate alert).
	Owner bool `yaml:"owner" json:"owner,omitempty"`
	// Channels are the channels used (default: the rule's, else every one).
	Channels []string `yaml:"channels" json:"channels,omitempty"`
}

// RouteMatch: every list given must contain the alert's field; an empty
// list matches anything.
type RouteMatch struct {
	Rules      []string `yaml:"rules" json:"rules,omitempty"`
	Metrics    []string `yaml:"metrics" json:"metrics,omitempty"`
	Pillars    []string `yaml:"pillars" json:"pillars,omitempty"`
	Owners     []string `yaml:"owners" json:"owners,omitempty"`
	Severities []string `yaml:"severities" json:"severities,omitempty"`
}

// DefaultRoutes are the shipped routes (issue 15): the CRO gets the
// metrics the CRO owns (pipeline, win rate, bookings), the VP Marketing
// the MQL and other marketing metrics, the CEO ARR, and engineering plus
// each service's owner the delivery and reliability alerts.
func DefaultRoutes() []Route {
	return []Route{
		{Name: "cro", Match: RouteMatch{Owners: []string{"CRO"}}, Roles: []string{"cro"}},
		{Name: "vp_marketing", Match: RouteMatch{Owners: []string{"VP Marketing"}}, Roles: []string{"vp_marketing"}},
		{Name: "ceo_arr", Match: RouteMatch{Metrics: []string{"arr"}}, Roles: []string{"ceo"}},
		{Name: "service_owners", Match: RouteMatch{Pillars: []string{"delivery", "reliability"}}, Roles: []string{"engineering"}, Owner: true},
	}
}

// checkRoutes checks routes against the catalog, the built-in roles, the
// rules and the channels; bad reports a field of route i.
func checkRoutes(routes []Route, cat *catalog.Catalog, rules []Rule, channels map[string]string, bad func(i int, id, field, format string, a ...any)) {
	roles, err := auth.BuiltinRoles()
	var roleIDs []string
	if err == nil {
		for _, r := range roles {
			roleIDs = append(roleIDs, r.ID)
		}
	}
	var pillars []string
	for _, p := range cat.Pillars {
		pillars = append(pillars, p.ID)
	}
	names := map[string]bool{}
	for i, rt := range routes {
		b := func(field, format string, a ...any) { bad(i, rt.Name, field, format, a...) }
		switch {
		case rt.Name == "":
			b("name", "every route needs a name")
		case names[rt.Name]:
			b("name", "the name %q is used by an earlier route", rt.Name)
		}
		names[rt.Name] = true
		if len(rt.Roles) == 0 && len(rt.Users) == 0 && !rt.Owner && len(rt.Channels) == 0 {
			b("roles", "a route needs roles, users, owner: true or channels")
		}
		for j, r := range rt.Roles {
			if !slices.Contains(roleIDs, r) {
				b(fmt.Sprintf("roles[%d]", j), "unknown role %q; known: %s", r, strings.Join(roleIDs, ", "))
			}
		}
		for j, u := range rt.Users {
			if _, err := mail.ParseAddress(u); err != nil {
				b(fmt.Sprintf("users[%d]", j), "not an e-mail address: %q", u)
			}
		}
		for j, c := range rt.Channels {
			if _, ok := channels[c]; !ok {
				b(fmt.Sprintf("channels[%d]", j), "unknown channel %q", c)
			}
		}
		for j, m := range rt.Match.Metrics {
			if _, ok := cat.Metric(m); !ok {
				b(fmt.Sprintf("match.metrics[%d]", j), "unknown metric %q", m)
			}
		}
		for j, p := range rt.Match.Pillars {
			if !slices.Contains(pillars, p) {
				b(fmt.Sprintf("match.pillars[%d]", j), "unknown pillar %q; known: %s", p, strings.Join(pillars, ", "))
			}
		}
		for j, r := range rt.Match.Rules {
			if !slices.ContainsFunc(rules, func(x Rule) bool { return x.Name == r }) {
				b(fmt.Sprintf("match.rules[%d]", j), "unknown rule %q", r)
			}
		}
		for j, s := range rt.Match.Severities {
			if s != "warning" && s != "critical" {
				b(fmt.Sprintf("match.severities[%d]", j), "unknown severity %q; known: warning, critical", s)
			}
		}
	}
}

// Router decides where an alert goes: its routes' recipients over their
// channels, filtered by what each recipient may see.
type Router struct {
	Routes  []Route
	Catalog *catalog.Catalog
	Grants  *auth.Grants
	// Kinds names each channel's type; Revenue the channels (webhook,
	// slack) allowed revenue-sensitive alerts: their readers are unknown.
	Kinds   map[string]string
	Revenue map[string]bool
	// To are the e-mail channels' own addresses: they receive every alert
	// sent over their channel, routed or not, unless the rule names
	// recipients, which take their place.
	To map[string][]string
}

// Delivery is one channel an alert goes to and, for e-mail, to whom.
type Delivery struct {
	Channel string   `json:"channel"`
	Kind    string   `json:"kind"`
	To      []string `json:"to,omitempty"`
	// Why names the routes (or the fallback) that chose it.
	Why []string `json:"why"`
}

// Withheld is a recipient or channel an alert matched but may not reach.
type Withheld struct {
	Who string `json:"who"`
	Why string `json:"why"`
}

// String is who and why, as the administrator reads it: "channel inbox
// (no recipient may receive it)".
func (w Withheld) String() string { return w.Who + " (" + w.Why + ")" }

// Plan says where the observation o of rule r goes given the users.
// Without a matching route it goes where the rule says (its channels and
// recipients, or every channel), as before routing. An e-mail channel's
// own to (or the rule's recipients in its place) gets what the routes send
// over it as well, whoever the routes resolve to. A recipient gets an
// alert only when the recipient's roles may see the metric (metric:read,
// the pillar, and revenue:read for a revenue-sensitive metric); an address
// that is no Candor user, and a webhook or slack channel not marked
// `revenue: true`, gets no revenue-sensitive alert.
func (rt Router) Plan(o Observation, r Rule, users []store.User) ([]Delivery, []Withheld) {
	m, _ := rt.Catalog.Metric(o.Metric)
	revenue := m != nil && m.RevenueSensitive()
	byMail, everyone := map[string]store.User{}, usersByMail(users)
	for _, u := range users {
		if u.DisabledAt.IsZero() {
			byMail[strings.ToLower(u.Email)] = u
		}
	}
	var withheld []Withheld
	hold := func(who, why string) {
		if !slices.Contains(withheld, Withheld{who, why}) {
			withheld = append(withheld, Withheld{who, why})
		}
	}
	may := func(addr string) bool {
		ok, why := rt.mayReceive(addr, m, everyone)
		if !ok {
			hold(addr, why)
		}
		return ok
	}
	all := make([]string, 0, len(rt.Kinds))
	for name := range rt.Kinds {
		all = append(all, name)
	}
	slices.Sort(all)
	out := map[string]*Delivery{}
	// add sends over ch to the addresses of to that may receive it, for
	// why; with extra, why is named only where it adds someone.
	add := func(ch string, to []string, why string, extra bool) {
		if revenue && !addressed(rt.Kinds[ch]) && !rt.Revenue[ch] {
			hold("channel "+ch, "a "+rt.Kinds[ch]+" channel not marked revenue: true")
			return
		}
		var admit []string
		if addressed(rt.Kinds[ch]) {
			for _, a := range to {
				if _, user := byMail[strings.ToLower(a)]; rt.Kinds[ch] == "inapp" && !user {
					hold(a, "not a Candor user: no in-app inbox")
					continue
				}
				if may(a) {
					admit = append(admit, a)
				}
			}
		}
		if extra && len(admit) == 0 {
			return
		}
		d := out[ch]
		if d == nil {
			d = &Delivery{Channel: ch, Kind: rt.Kinds[ch]}
			out[ch] = d
		}
		if !slices.Contains(d.Why, why) {
			d.Why = append(d.Why, why)
		}
		for _, a := range admit {
			if !slices.Contains(d.To, a) {
				d.To = append(d.To, a)
			}
		}
	}
	// own are the addresses a channel sends to whoever the routes choose:
	// the rule's recipients, else the channel's own to. A route that
	// resolves to nobody (service_owners without engineering users) had
	// left an on-call mailbox's to without the alert.
	own := func(ch string) ([]string, string) {
		if len(r.Recipients) > 0 {
			return r.Recipients, "the rule's recipients"
		}
		return rt.To[ch], "the channel's to"
	}
	chansOf := func(own []string) []string {
		if len(own) > 0 {
			return own
		}
		if len(r.Channels) > 0 {
			return r.Channels
		}
		return all
	}
	matched := false
	// ownerRoutes are the matching routes with owner: true whose alert's
	// owner is no user: said when the alert then reaches no one.
	var ownerRoutes []string
	for _, route := range rt.Routes {
		if !route.matches(o, m) {
			continue
		}
		matched = true
		var to []string
		for _, u := range users {
			if u.DisabledAt.IsZero() && slices.ContainsFunc(u.Roles, func(x string) bool { return slices.Contains(route.Roles, x) }) {
				to = append(to, u.Email)
			}
		}
		to = append(to, route.Users...)
		if _, ok := byMail[strings.ToLower(o.Owner)]; route.Owner && ok {
			to = append(to, o.Owner)
		} else if route.Owner && o.Owner != "" && !slices.Contains(ownerRoutes, route.Name) {
			ownerRoutes = append(ownerRoutes, route.Name)
		}
		for _, ch := range chansOf(route.Channels) {
			add(ch, to, "route "+route.Name, false)
			if addrs, why := own(ch); rt.Kinds[ch] == "email" {
				add(ch, addrs, why, true)
			}
		}
	}
	if !matched {
		for _, ch := range chansOf(nil) {
			addrs, _ := own(ch)
			add(ch, addrs, "no route matches: the rule's channels", false)
		}
	}
	var ds []Delivery
	for _, ch := range all {
		if d := out[ch]; d != nil {
			if addressed(d.Kind) && len(d.To) == 0 {
				hold("channel "+ch, "no recipient may receive it")
				continue
			}
			slices.Sort(d.To)
			ds = append(ds, *d)
		}
	}
	if len(ds) == 0 && len(ownerRoutes) > 0 {
		// "No recipient may receive it" alone hid why a route of owners
		// reached nobody: the catalog's owners are titles ("Head of
		// SRE"), not users' addresses.
		via := "route " + ownerRoutes[0] + " sends"
		if len(ownerRoutes) > 1 {
			via = "routes " + strings.Join(ownerRoutes, ", ") + " send"
		}
		hold(o.Owner, ownerNotAUser+": "+via+" to the alert's owner")
	}
	return ds, withheld
}

// usersByMail is every user, disabled ones too, by lower-cased address.
func usersByMail(users []store.User) map[string]store.User {
	out := make(map[string]store.User, len(users))
	for _, u := range users {
		out[strings.ToLower(u.Email)] = u
	}
	return out
}

// mayReceive says whether addr may be sent an alert on m (nil: an alert of
// no metric) given the users by address (usersByMail), and if not, why:
// the one rule Plan routes by and Flush applies again at each attempt. A
// disabled user receives nothing, wherever their address is configured;
// another user needs roles that may see m (metric:read, its pillar, and
// revenue:read for a revenue-sensitive metric); an address that is no
// user (an on-call alias an administrator configured) receives all but
// revenue-sensitive alerts.
func (rt Router) mayReceive(addr string, m *catalog.Metric, users map[string]store.User) (bool, string) {
	u, ok := users[strings.ToLower(addr)]
	switch {
	case ok && u.Disabled():
		return false, "disabled"
	case m == nil:
		return true, "" // quarantine: about stored rows, no figure of a metric
	case !ok && m.RevenueSensitive():
		return false, "not a Candor user, so not granted revenue:read"
	case !ok:
		return true, ""
	case rt.Grants != nil && !rt.Grants.Access(u.Roles).CanSeeMetric(m):
		if m.RevenueSensitive() && !rt.Grants.Access(u.Roles).Can(auth.RevenueRead) {
			return false, fmt.Sprintf("roles %s lack revenue:read", strings.Join(u.Roles, ", "))
		}
		return false, fmt.Sprintf("roles %s may not see %s", strings.Join(u.Roles, ", "), m.ID)
	}
	return true, ""
}

// ownerNotAUser begins the reason an alert's owner is withheld for.
const ownerNotAUser = "its owner, not a Candor user's address"

// Unreached says, a sentence a route, which routes resolve to no user —
// their roles held by no enabled user, and no users of their own — over
// an e-mail or in-app channel without addresses of its own (an e-mail
// channel's to receives what routes send, whoever they resolve to): there
// the route's alerts reach only their owners and the rules' recipients,
// or no one. The shipped service_owners route resolves to no user until
// someone holds the engineering role. candor serve logs them at start.
func (rt Router) Unreached(users []store.User) []string {
	all := make([]string, 0, len(rt.Kinds))
	for name := range rt.Kinds {
		all = append(all, name)
	}
	slices.Sort(all)
	var out []string
	for _, route := range rt.Routes {
		if len(route.Roles) == 0 || len(route.Users) > 0 || slices.ContainsFunc(users, func(u store.User) bool {
			return u.DisabledAt.IsZero() && slices.ContainsFunc(u.Roles, func(x string) bool { return slices.Contains(route.Roles, x) })
		}) {
			continue
		}
		chans := route.Channels
		if len(chans) == 0 {
			chans = all
		}
		var bare []string
		for _, ch := range chans {
			if k := rt.Kinds[ch]; k == "inapp" || k == "email" && len(rt.To[ch]) == 0 {
				bare = append(bare, k+" channel "+ch)
			}
		}
		if len(bare) == 0 {
			continue
		}
		who := "to no one but the rules' recipients"
		if route.Owner {
			who = "only to their owners that are Candor users and to the rules' recipients"
		}
		out = append(out, fmt.Sprintf("alert route %s resolves to no user (no enabled user holds role %s): over %s, without a to of its own, its alerts go %s",
			route.Name, strings.Join(route.Roles, " or "), strings.Join(bare, ", "), who))
	}
	return out
}

// addressed reports whether a channel kind goes to people (e-mail, the
// in-app inbox) rather than to a place (a webhook, a chat channel).
func addressed(kind string) bool { return kind == "email" || kind == "inapp" }

func (route Route) matches(o Observation, m *catalog.Metric) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	pillar, owner := "", o.Owner
	if m != nil {
		pillar = m.Pillar
		owner = m.Owner
	}
	return in(route.Match.Rules, o.Rule) && in(route.Match.Metrics, o.Metric) && in(route.Match.Pillars, pillar) &&
		in(route.Match.Owners, owner) && in(route.Match.Severities, o.Severity)
}

// RouteAnswer is where one rule's alert on a metric would go.
type RouteAnswer struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	// When says, for a rule whose severity follows the metric's status,
	// when the alert has this severity.
	When       string     `json:"when,omitempty"`
	Deliveries []Delivery `json:"deliveries"`
	Withheld   []Withheld `json:"withheld,omitempty"`
}

// Explain says where an alert on metric (in scope, "" for the
// organisation) would go from each rule that looks at it, or only from
// the rule named. The alert's owner is the metric's.
func (s *Service) Explain(ctx context.Context, metric, scope, rule string) ([]RouteAnswer, error) {
	m, err := s.knownMetric(metric)
	if err != nil {
		return nil, err
	}
	if scope != "" {
		sc, err := metrics.ParseScope(scope)
		if err != nil {
			return nil, domain.InvalidParam("scope", "%v", err)
		}
		scope = sc.String()
	}
	if s.Router == nil {
		return nil, errors.New("no router: routing is not configured for this service")
	}
	users, err := s.users(ctx)
	if err != nil {
		return nil, err
	}
	var out []RouteAnswer
	for _, r := range s.RulesInForce() {
		if rule != "" && r.Name != rule || rule == "" && !r.looksAt(m) {
			continue
		}
		// A rule without a severity of its own follows the metric's
		// status (Rule.SeverityFor): where its alert goes while the metric
		// is amber, and while it is red.
		sevs := r.severities()
		for _, sev := range sevs {
			o := Observation{Rule: r.Name, Metric: m.ID, Scope: scope, Owner: m.Owner, Severity: sev}
			ds, wh := s.Router.Plan(o, r, users)
			a := RouteAnswer{Rule: r.Name, Severity: sev, Deliveries: ds, Withheld: wh}
			if len(sevs) > 1 {
				a.When = map[string]string{"warning": "while the metric is not red", "critical": "while the metric is red"}[sev]
			}
			out = append(out, a)
		}
	}
	if rule != "" && len(out) == 0 {
		return nil, domain.InvalidParam("rule", "unknown rule %q", rule)
	}
	return out, nil
}

// reports are the statuses a metric can have when the rule's alert on it
// fires: a status rule's statuses (default amber and red), unknown for a
// stale source (a stale metric is unknown), else any.
func (r Rule) reports() []catalog.Status {
	switch r.Kind {
	case KindStatus:
		if len(r.Statuses) > 0 {
			return r.Statuses
		}
		return []catalog.Status{catalog.Amber, catalog.Red}
	case KindStale:
		return []catalog.Status{catalog.Unknown}
	}
	return []catalog.Status{catalog.Green, catalog.Amber, catalog.Red}
}
