package auth

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/catalog"
)

// Permission is a named right. The set is closed: configuration naming an
// unknown permission is refused.
type Permission string

// The permissions. docs/access.md says which route or page each guards.
const (
	ScorecardRead      Permission = "scorecard:read"
	MetricRead         Permission = "metric:read"
	MetricAcknowledge  Permission = "metric:acknowledge"
	RevenueRead        Permission = "revenue:read"
	RecordsRead        Permission = "records:read"
	RecordsWrite       Permission = "records:write"
	GatesCheck         Permission = "gates:check"
	SourcesRead        Permission = "sources:read"
	ReconcileWrite     Permission = "reconcile:write"
	EvidenceRead       Permission = "evidence:read"
	LedgerRead         Permission = "ledger:read"
	DefinitionsPropose Permission = "definitions:propose"
	DefinitionsApprove Permission = "definitions:approve"
	AdoptionRead       Permission = "adoption:read"
	UsersAdmin         Permission = "users:admin"
	TokensAdmin        Permission = "tokens:admin"
	SettingsAdmin      Permission = "settings:admin"

	// AllViews opens every role view; ViewPermission opens one.
	AllViews Permission = "view:*"
)

// ViewPermission is the permission to open the role view with the id.
func ViewPermission(id string) Permission { return Permission("view:" + id) }

// PermissionInfo is a permission and what it allows.
type PermissionInfo struct {
	Name Permission
	Help string
}

// Permissions lists every permission but the per-view ones, with what it
// allows, for documentation and error messages.
var Permissions = []PermissionInfo{
	{ScorecardRead, "open the one-page scorecard (showing only the metrics the principal may see)"},
	{MetricRead, "read values, trends, breakdowns and the records behind the metrics in the principal's pillars, metrics and views"},
	{MetricAcknowledge, "acknowledge an amber, red or degrading metric the principal may see: owner, note, due date; post and withdraw business-cycle annotations"},
	{RevenueRead, "see revenue-sensitive metrics (sensitivity: revenue) and records of the kinds they read"},
	{RecordsRead, "read any record directly (records of revenue kinds also need revenue:read)"},
	{RecordsWrite, "write records: the records API, imports and connector deliveries"},
	{GatesCheck, "ask for release gate decisions"},
	{SourcesRead, "the data sources page: per kind the last record time, counts, freshness and rejects; /healthz's engine detail"},
	{ReconcileWrite, "record a reconciliation check against a source system's figure"},
	{EvidenceRead, "download evidence packs"},
	{LedgerRead, "read and verify the audit ledger, access events included"},
	{DefinitionsPropose, "propose a change to a metric definition"},
	{DefinitionsApprove, "approve or reject another person's definition change"},
	{AdoptionRead, "read who opened which page, metric and role view per week, and the quarterly review of what nobody uses"},
	{UsersAdmin, "add, disable and change the roles of users; read access events"},
	{TokensAdmin, "create, list and revoke API tokens"},
	{SettingsAdmin, "change settings (not metric definitions)"},
	{AllViews, "open every role view; view:ID opens one (view:ceo, view:cro, …)"},
}

// Role is one role's grants.
type Role struct {
	ID          string       `yaml:"id"`
	Name        string       `yaml:"name"`
	Description string       `yaml:"description"`
	Permissions []Permission `yaml:"permissions"`
	// Pillars whose metrics the role sees; "*" is every pillar.
	Pillars []string `yaml:"pillars"`
	// Metrics the role sees besides those of its pillars and views.
	Metrics []string `yaml:"metrics"`
}

// RoleOverride is an organisation's change to a built-in role, written in
// the configuration under `roles:` by the role's id. Each field given
// replaces the built-in one (an empty list empties it); a field left out
// keeps the built-in value.
type RoleOverride struct {
	Description *string       `yaml:"description"`
	Permissions *[]Permission `yaml:"permissions"`
	Pillars     *[]string     `yaml:"pillars"`
	Metrics     *[]string     `yaml:"metrics"`
}

//go:embed roles.yaml
var rolesYAML []byte

const rolesFile = "internal/auth/roles.yaml"

// BuiltinRoles returns the embedded roles, in their file's order: a copy
// of its own for each caller, which may change it.
func BuiltinRoles() ([]Role, error) {
	roles, err := builtinRoles()
	if err != nil {
		return nil, err
	}
	out := make([]Role, len(roles))
	for i, r := range roles {
		r.Permissions = slices.Clone(r.Permissions)
		r.Pillars = slices.Clone(r.Pillars)
		r.Metrics = slices.Clone(r.Metrics)
		out[i] = r
	}
	return out, nil
}

// builtinRoles parses the embedded roles once: every command's start asks
// for them four times (the grants, role overrides, alert and report
// settings), and parsing the YAML took ~1.5 ms each time.
var builtinRoles = sync.OnceValues(func() ([]Role, error) {
	var raw struct {
		Roles []Role `yaml:"roles"`
	}
	if err := yaml.UnmarshalWithOptions(rolesYAML, &raw, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("%s:\n%s", rolesFile, yaml.FormatError(err, false, true))
	}
	return raw.Roles, nil
})

// Grants answers what a principal may do and see. It is built once from the
// roles and the catalog, and safe for concurrent use. Replace puts other
// grants in force in it (an approved views section grants its roles the
// view), so whoever holds it — the access service, the alert router, the
// reports — answers from them.
type Grants struct {
	// next, once set by Replace, answers instead.
	next  atomic.Pointer[Grants]
	roles []Role
	byID  map[string]*Access
	cat   *catalog.Catalog
	// revenueKinds are the record kinds some revenue-sensitive metric
	// reads: their records reveal revenue as surely as the metric does.
	revenueKinds map[string]bool
}

// Access is what a set of roles allows together: the union of their
// grants. The zero Access allows nothing.
type Access struct {
	perms      map[Permission]bool
	allPillars bool
	pillars    map[string]bool
	metrics    map[string]bool // granted by id or through a view
	allViews   bool
	views      map[string]bool
	g          *Grants
}

var roleID = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// NewGrants checks the built-in roles with the organisation's overrides
// against the catalog and compiles them. Every problem is reported, each
// naming the role and the field ("roles.support.pillars[1]: …").
func NewGrants(cat *catalog.Catalog, overrides map[string]RoleOverride) (*Grants, error) {
	roles, err := BuiltinRoles()
	if err != nil {
		return nil, err
	}
	var errs []error
	known := make([]string, len(roles))
	for i, r := range roles {
		known[i] = r.ID
	}
	for _, id := range slices.Sorted(maps.Keys(overrides)) {
		i := slices.Index(known, id)
		if i < 0 {
			errs = append(errs, fmt.Errorf("roles.%s: unknown role; known: %s", id, strings.Join(known, ", ")))
			continue
		}
		o := overrides[id]
		if o.Description != nil {
			roles[i].Description = *o.Description
		}
		if o.Permissions != nil {
			roles[i].Permissions = *o.Permissions
		}
		if o.Pillars != nil {
			roles[i].Pillars = *o.Pillars
		}
		if o.Metrics != nil {
			roles[i].Metrics = *o.Metrics
		}
	}
	g := &Grants{roles: roles, byID: map[string]*Access{}, cat: cat, revenueKinds: map[string]bool{}}
	for i := range cat.Metrics {
		if m := &cat.Metrics[i]; m.RevenueSensitive() {
			for _, s := range m.Sources {
				g.revenueKinds[s.Kind] = true
			}
		}
	}
	for _, r := range roles {
		a, rerrs := g.compile(r)
		errs = append(errs, rerrs...)
		if _, dup := g.byID[r.ID]; dup {
			errs = append(errs, fmt.Errorf("roles.%s: defined twice", r.ID))
		}
		g.byID[r.ID] = a
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

func (g *Grants) compile(r Role) (*Access, []error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("roles.%s.%s: %s", r.ID, field, fmt.Sprintf(format, args...)))
	}
	if !roleID.MatchString(r.ID) {
		errs = append(errs, fmt.Errorf("role %q: id is not snake_case", r.ID))
	}
	a := &Access{perms: map[Permission]bool{}, pillars: map[string]bool{}, metrics: map[string]bool{}, views: map[string]bool{}, g: g}
	for i, p := range r.Permissions {
		view, isView := strings.CutPrefix(string(p), "view:")
		switch {
		case p == AllViews:
			a.allViews = true
		case isView:
			if _, ok := g.cat.View(view); !ok {
				bad(fmt.Sprintf("permissions[%d]", i), "unknown view %q; views: %s", view, strings.Join(g.viewIDs(), ", "))
				continue
			}
			a.views[view] = true
		case !slices.ContainsFunc(Permissions, func(k PermissionInfo) bool { return k.Name == p }):
			bad(fmt.Sprintf("permissions[%d]", i), "unknown permission %q; known: %s, view:ID", p, permissionNames())
			continue
		}
		a.perms[p] = true
	}
	for i, id := range r.Pillars {
		switch {
		case id == "*":
			a.allPillars = true
		case !slices.ContainsFunc(g.cat.Pillars, func(p catalog.Pillar) bool { return p.ID == id }):
			bad(fmt.Sprintf("pillars[%d]", i), "unknown pillar %q; pillars: %s, or * for all", id, strings.Join(g.pillarIDs(), ", "))
		default:
			a.pillars[id] = true
		}
	}
	for i, id := range r.Metrics {
		if _, ok := g.cat.Metric(id); !ok {
			bad(fmt.Sprintf("metrics[%d]", i), "unknown metric %q", id)
			continue
		}
		a.metrics[id] = true
	}
	for _, v := range g.cat.ViewsInForce() {
		if a.allViews || a.views[v.ID] {
			for _, id := range v.Metrics {
				a.metrics[id] = true
			}
		}
	}
	return a, errs
}

func permissionNames() string {
	names := make([]string, 0, len(Permissions))
	for _, p := range Permissions {
		if p.Name != AllViews {
			names = append(names, string(p.Name))
		}
	}
	return strings.Join(names, ", ")
}

func (g *Grants) viewIDs() []string {
	views := g.cat.ViewsInForce()
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	return ids
}

func (g *Grants) pillarIDs() []string {
	ids := make([]string, len(g.cat.Pillars))
	for i, p := range g.cat.Pillars {
		ids[i] = p.ID
	}
	return ids
}

// Replace puts other grants in force in g, whole: each later question is
// answered from them.
func (g *Grants) Replace(other *Grants) { g.next.Store(other.inForce()) }

// inForce is the grants that answer for g.
func (g *Grants) inForce() *Grants {
	if n := g.next.Load(); n != nil {
		return n
	}
	return g
}

// Roles returns the roles in their file's order, overrides applied.
func (g *Grants) Roles() []Role { return slices.Clone(g.inForce().roles) }

// RoleIDs returns the role ids in their file's order.
func (g *Grants) RoleIDs() []string {
	g = g.inForce()
	ids := make([]string, len(g.roles))
	for i, r := range g.roles {
		ids[i] = r.ID
	}
	return ids
}

// UnknownRoleError names a role that does not exist and the ones that do.
type UnknownRoleError struct {
	Role  string
	Known []string
}

func (e *UnknownRoleError) Error() string {
	return fmt.Sprintf("unknown role %q; known: %s", e.Role, strings.Join(e.Known, ", "))
}

// CheckRoles validates a role list for a user or token: at least one, each
// known (*UnknownRoleError otherwise). It returns the list without
// repeats, in the given order.
func (g *Grants) CheckRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, errors.New("at least one role is required")
	}
	g = g.inForce()
	var out []string
	for _, r := range roles {
		if _, ok := g.byID[r]; !ok {
			return nil, &UnknownRoleError{Role: r, Known: g.RoleIDs()}
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Access returns the union of the roles' grants. Unknown role names (a
// role stored by a newer version) grant nothing.
func (g *Grants) Access(roles []string) Access {
	g = g.inForce()
	u := Access{perms: map[Permission]bool{}, pillars: map[string]bool{}, metrics: map[string]bool{}, views: map[string]bool{}, g: g}
	for _, id := range roles {
		a, ok := g.byID[id]
		if !ok {
			continue
		}
		maps.Copy(u.perms, a.perms)
		maps.Copy(u.pillars, a.pillars)
		maps.Copy(u.metrics, a.metrics)
		maps.Copy(u.views, a.views)
		u.allPillars = u.allPillars || a.allPillars
		u.allViews = u.allViews || a.allViews
	}
	return u
}

// Can reports whether the principal's roles grant the permission.
func (g *Grants) Can(p Principal, perm Permission) bool { return g.Access(p.Roles).Can(perm) }

// CanSeeMetric reports whether the principal may see the metric's numbers.
func (g *Grants) CanSeeMetric(p Principal, m *catalog.Metric) bool {
	return g.Access(p.Roles).CanSeeMetric(m)
}

// CanSeeView reports whether the principal may open the role view.
func (g *Grants) CanSeeView(p Principal, id string) bool { return g.Access(p.Roles).CanSeeView(id) }

// Require is nil when the principal holds the permission, else
// ErrUnauthenticated for the anonymous principal and ErrForbidden for
// another.
func (g *Grants) Require(p Principal, perm Permission) error {
	switch {
	case g.Can(p, perm):
		return nil
	case !p.Authenticated():
		return ErrUnauthenticated
	default:
		return fmt.Errorf("%w: needs %s", ErrForbidden, perm)
	}
}

// Can reports whether the permission is granted; view:ID is granted by
// view:* too.
func (a Access) Can(perm Permission) bool {
	if a.perms[perm] {
		return true
	}
	if view, ok := strings.CutPrefix(string(perm), "view:"); ok {
		return a.CanSeeView(view)
	}
	return false
}

// CanSeeView reports whether the role view may be opened. Its metrics are
// still shown only where CanSeeMetric allows.
func (a Access) CanSeeView(id string) bool { return a.allViews || a.views[id] }

// CanSeeMetric reports whether the metric's numbers may be shown: it needs
// metric:read, the metric among the granted pillars, metrics or views'
// metrics, and revenue:read when the metric is revenue-sensitive.
func (a Access) CanSeeMetric(m *catalog.Metric) bool {
	if !a.perms[MetricRead] || m.RevenueSensitive() && !a.perms[RevenueRead] {
		return false
	}
	return a.allPillars || a.pillars[m.Pillar] || a.metrics[m.ID]
}

// CanSeePillar reports whether any of the pillar's metrics may be seen, so
// the scorecard shows the pillar (with those metrics only).
func (a Access) CanSeePillar(id string) bool {
	if a.g == nil {
		return false
	}
	return slices.ContainsFunc(a.g.cat.PillarMetrics(id), a.CanSeeMetric)
}

// HidesRevenueOf reports whether the kind's records reveal revenue this
// access may not see: a revenue-sensitive metric reads the kind and
// revenue:read is not granted. A drill-down of a metric the principal may
// see (logo churn reads subscriptions) shows such records without their
// amounts.
func (a Access) HidesRevenueOf(kind string) bool {
	if a.g == nil {
		return true
	}
	return a.g.revenueKinds[kind] && !a.perms[RevenueRead]
}

// CanReadKind reports whether records of the kind may be read directly:
// records:read, plus revenue:read for a kind a revenue-sensitive metric
// reads (subscriptions, opportunities, …).
func (a Access) CanReadKind(kind string) bool {
	if !a.perms[RecordsRead] || a.g == nil {
		return false
	}
	return !a.g.revenueKinds[kind] || a.perms[RevenueRead]
}
