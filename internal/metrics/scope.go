package metrics

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// Filter is one condition of a scope: the records whose dimension Dim has
// the value Value ("(none)" for records without one).
type Filter struct {
	Dim   string `json:"dim"`
	Value string `json:"value"`
}

// MaxFilters is how many filters a scope holds. A breakdown adds one to the
// scope it is asked under, so a scope read from a request (ParseScope) holds
// at most MaxFilters − 1.
const MaxFilters = 4

// filter returns the i-th filter, or the zero Filter past the last one.
func (s *Scope) filter(i int) Filter {
	if i == 0 {
		return Filter{Dim: s.Dim, Value: s.Value}
	}
	return s.more[i-1]
}

// IsZero reports whether the scope is the whole organisation.
func (s Scope) IsZero() bool { return s.Dim == "" }

// Filters lists the scope's filters in the order they were added.
func (s Scope) Filters() []Filter {
	var out []Filter
	for i := range MaxFilters {
		f := s.filter(i)
		if f.Dim == "" {
			break
		}
		out = append(out, f)
	}
	return out
}

// And returns the scope narrowed by one more filter; ok is false when the
// scope is full. Adding a filter it already has changes nothing.
func (s Scope) And(dim, value string) (Scope, bool) {
	for i := range MaxFilters {
		f := s.filter(i)
		switch {
		case f == Filter{Dim: dim, Value: value}:
			return s, true
		case f.Dim != "":
			continue
		case i == 0:
			s.Dim, s.Value = dim, value
		default:
			s.more[i-1] = Filter{Dim: dim, Value: value}
		}
		return s, true
	}
	return s, false
}

// without returns the scope less its filters on dim.
func (s Scope) without(dim string) Scope {
	var out Scope
	for i := range MaxFilters {
		f := s.filter(i)
		if f.Dim == "" {
			break
		}
		if f.Dim != dim {
			out, _ = out.And(f.Dim, f.Value)
		}
	}
	return out
}

// String writes the scope the way ParseScope reads it: team:payments,
// several filters joined by commas; "" for the whole organisation.
func (s Scope) String() string {
	parts := make([]string, 0, MaxFilters)
	for _, f := range s.Filters() {
		parts = append(parts, f.Dim+":"+f.Value)
	}
	return strings.Join(parts, ",")
}

// scopeJSON is a scope on the wire: the first filter as dim and value (the
// shape a one-filter scope always had), the others under and.
type scopeJSON struct {
	Dim   string   `json:"dim,omitempty"`
	Value string   `json:"value,omitempty"`
	And   []Filter `json:"and,omitempty"`
}

// MarshalJSON writes {"dim":…,"value":…} and, for more filters, "and".
func (s Scope) MarshalJSON() ([]byte, error) {
	j := scopeJSON{Dim: s.Dim, Value: s.Value}
	if fs := s.Filters(); len(fs) > 1 {
		j.And = fs[1:]
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Scope) UnmarshalJSON(b []byte) error {
	var j scopeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Scope{}
	for _, f := range append([]Filter{{Dim: j.Dim, Value: j.Value}}, j.And...) {
		if f.Dim == "" {
			continue
		}
		var ok bool
		if out, ok = out.And(f.Dim, f.Value); !ok {
			return fmt.Errorf("scope: more than %d filters", MaxFilters)
		}
	}
	*s = out
	return nil
}

// ParseScope reads a scope written DIMENSION:VALUE, several joined by
// commas (team:payments,environment:production). It checks the form only;
// CheckScope checks the values against the data.
func ParseScope(text string) (Scope, error) {
	var s Scope
	parts := strings.Split(text, ",")
	if len(parts) > MaxFilters-1 {
		return Scope{}, fmt.Errorf("%q has %d filters; at most %d", text, len(parts), MaxFilters-1)
	}
	for _, p := range parts {
		dim, val, ok := strings.Cut(p, ":")
		dim, val = strings.TrimSpace(dim), strings.TrimSpace(val)
		if !ok || dim == "" || val == "" {
			return Scope{}, fmt.Errorf("%q must be DIMENSION:VALUE, e.g. team:payments (several joined by commas)", text)
		}
		// Two values of one dimension would match nothing (a record has one
		// team): a mistake to name, not an empty result.
		for _, f := range s.Filters() {
			if f.Dim == dim && f.Value != val {
				return Scope{}, fmt.Errorf("%q names %s twice (%s and %s); a scope takes one value per dimension", text, dim, f.Value, val)
			}
		}
		s, _ = s.And(dim, val)
	}
	return s, nil
}

// UnknownValueError is a scope filter whose value no record has: a typo or
// a team that does not exist, which must not read as an empty result.
type UnknownValueError struct {
	Dim, Value string
	Known      []string // the values the data has, sorted
}

// maxKnownShown bounds the values an UnknownValueError lists.
const maxKnownShown = 30

func (e *UnknownValueError) Error() string {
	known := e.Known
	more := ""
	if len(known) > maxKnownShown {
		more = fmt.Sprintf(" and %d more", len(known)-maxKnownShown)
		known = known[:maxKnownShown]
	}
	if e.Dim == "environment" {
		// An environment's values are those of production deployments
		// (DimValues): a staging one is in the data all the same, and
		// "no environment staging in the data" said it was not.
		if len(known) == 0 {
			return fmt.Sprintf("no production deployment in environment %q: the data has no production deployment", e.Value)
		}
		return fmt.Sprintf("no production deployment in environment %q (production environments: %s%s)", e.Value, strings.Join(known, ", "), more)
	}
	if len(known) == 0 {
		return fmt.Sprintf("no %s %q: the data has no %s values", e.Dim, e.Value, e.Dim)
	}
	return fmt.Sprintf("no %s %q in the data (known: %s%s)", e.Dim, e.Value, strings.Join(known, ", "), more)
}

// UnknownDimensionError is a scope filter on a dimension no metric can be
// broken down by (colour:red): said as such, with the dimensions there
// are, not as a value the data lacks.
type UnknownDimensionError struct {
	Dim   string
	Known []string // Dataset.Dimensions
}

func (e *UnknownDimensionError) Error() string {
	hint := ""
	if c := domain.Closest(e.Dim, e.Known); c != "" {
		hint = fmt.Sprintf("did you mean %s? ", c)
	}
	return fmt.Sprintf("%q is not a dimension (%sdimensions: %s)", e.Dim, hint, strings.Join(e.Known, ", "))
}

// scopeDims are the dimensions every scope may filter by, a service's
// own and its deployments' environment, in the order the pages' filters
// list them.
var scopeDims = []string{"team", "service", "environment", "business_unit", "tier"}

// Dimensions lists the dimensions a scope may filter by: the services'
// (scopeDims), then, sorted, every other one a metric the dataset
// computes can be broken down by.
func (d *Dataset) Dimensions() []string {
	var more []string
	add := func(defs map[string]*Def) {
		for _, def := range defs {
			for _, dim := range def.Dims {
				if !slices.Contains(scopeDims, dim) && !slices.Contains(more, dim) {
					more = append(more, dim)
				}
			}
		}
	}
	add(reg.defs)
	if d.cfg.custom != nil {
		add(d.cfg.custom.defs)
	}
	slices.Sort(more)
	return append(slices.Clone(scopeDims), more...)
}

// CheckScope returns an *UnknownDimensionError for the first filter on a
// dimension no metric has, else an *UnknownValueError for the first
// filter whose value no record has (as DimValues lists them), nil when
// every value exists.
func (d *Dataset) CheckScope(s Scope) error {
	s = d.CanonicalScope(s)
	if !s.IsZero() {
		dims := d.Dimensions()
		for _, f := range s.Filters() {
			if !slices.Contains(dims, f.Dim) {
				return &UnknownDimensionError{Dim: f.Dim, Known: dims}
			}
		}
	}
	for _, f := range s.Filters() {
		known := d.DimValues(f.Dim)
		if slices.Contains(known, f.Value) {
			continue
		}
		// A service only tickets, costs, vulnerabilities or full scans
		// name is a line of their metrics' breakdowns
		// (recordServiceValues), which links to it.
		if serviceDim(f.Dim) {
			set := map[string]bool{}
			d.kindServiceValues([]domain.Kind{domain.KindTicket, domain.KindCost, domain.KindVulnerability}, f.Dim, Query{}, set)
			if set[f.Value] {
				continue
			}
		}
		return &UnknownValueError{Dim: f.Dim, Value: f.Value, Known: known}
	}
	return nil
}

// DimValuesOf lists the values of dim that a breakdown by it of one of the
// metrics ids may show: for a dimension records carry themselves
// (customer, plan, owner, segment, …) the data's values (DimValues) that a
// record of a kind one of those metrics reads carries, so a reader of a
// ticket metric is not told the segments only subscriptions name. Metrics
// that cannot be broken down by dim add nothing; for a service dimension
// or environment, which no kind's records carry as their own, a metric
// that can adds every value.
func (d *Dataset) DimValuesOf(dim string, ids []string) []string {
	var defs []*Def
	for _, id := range ids {
		if def, err := d.def(id); err == nil && slices.Contains(def.Dims, dim) {
			defs = append(defs, def)
		}
	}
	if len(defs) == 0 {
		return nil
	}
	return slices.DeleteFunc(d.DimValues(dim), func(v string) bool {
		return !slices.ContainsFunc(defs, func(def *Def) bool { return !d.noRecordWith(def, dim, v) })
	})
}

// CanonicalScope names a scope's environments as breakdowns do: a scope
// written with an alias (environment:prod) means its canonical environment.
func (d *Dataset) CanonicalScope(s Scope) Scope {
	var out Scope
	for _, f := range s.Filters() {
		if f.Dim == "environment" {
			f.Value = d.CanonicalEnvironment(f.Value)
		}
		out, _ = out.And(f.Dim, f.Value)
	}
	return out
}

// DimValuesIn lists the values of a dimension that the scope's records can
// have: the lines of a breakdown under that scope. Service, team, tier and
// business unit values come from the services that pass the scope's
// filters (and, under an environment filter, deploy to that environment;
// under an origin filter, have an incident of that origin), environments from
// those services' production deployments, other dimensions from the
// records of their kinds that pass the scope's filters on their own fields.
func (d *Dataset) DimValuesIn(dim string, s Scope) []string {
	if s.IsZero() {
		return d.DimValues(dim)
	}
	q := Query{Scope: s}
	envFilter, originFilter := false, false
	for _, f := range s.Filters() {
		envFilter = envFilter || f.Dim == "environment"
		originFilter = originFilter || f.Dim == "origin"
	}
	set := map[string]bool{}
	switch dim {
	case "service", "team", "tier", "business_unit":
		for _, svc := range d.allServices() {
			if d.matchService(q, svc) && (!envFilter || d.deploysIn(q, svc)) && (!originFilter || d.reportedIn(q, svc)) {
				set[valueOrNone(d.ServiceAttr(svc, dim))] = true
			}
		}
		if dim == "team" { // measurements may name a team of their own
			measurementDimValues(d, dim, q, set)
		}
	case "environment":
		for svc, deps := range d.svcDeps {
			if !d.matchService(q, svc) {
				continue
			}
			for _, x := range deps.items {
				if d.matchCode(q, "environment", x.env) {
					set[d.str(x.env)] = true
				}
			}
		}
	default:
		for _, f := range reg.dimValues {
			f(d, dim, q, set)
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// reportedIn reports whether the service has an incident of an origin the
// scope allows.
func (d *Dataset) reportedIn(q Query, svc string) bool {
	if incs := d.svcInc[svc]; incs != nil {
		for _, i := range incs.items {
			if d.matchCode(q, "origin", i.origin) {
				return true
			}
		}
	}
	return false
}

// deploysIn reports whether the service has a production deployment in an
// environment the scope allows.
func (d *Dataset) deploysIn(q Query, svc string) bool {
	if deps := d.svcDeps[svc]; deps != nil {
		for _, x := range deps.items {
			if d.matchCode(q, "environment", x.env) {
				return true
			}
		}
	}
	return false
}
