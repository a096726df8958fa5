package metrics

import "strings"

// Measurements (SPEC §1) carry no built-in metric; organisation-defined
// metrics read them. What they mean in a scope is decided here, once:
//
//   - service, tier and business unit come through the measurement's
//     service, as for every other kind;
//   - team is the measurement's own team when it names one — a team-health
//     score is about the team that answered, whatever service it owns —
//     else its service's team;
//   - segment is its own.
//
// A dimension a measurement does not carry (environment, origin, …) does
// not narrow it, as with every kind (matchAttr).

// tagSep joins a measurement's tags in its row. The parser refuses NUL in
// every text field, so no tag holds one.
const tagSep = "\x00"

// measurementTags returns a measurement's tags as recorded ("key=value"
// items or plain labels), nil when it has none.
func (d *Dataset) measurementTags(x *measurementRow) []string {
	if x.tags == 0 {
		return nil
	}
	return strings.Split(d.str(x.tags), tagSep)
}

// measurementTeam is the team a measurement belongs to: its own, else its
// service's ("" when neither names one).
func (d *Dataset) measurementTeam(x *measurementRow) string {
	if x.team != 0 {
		return d.str(x.team)
	}
	return d.ServiceAttr(d.str(x.service), "team")
}

// measurementAttr is a measurement's value of a scope dimension; ok is
// false for a dimension it does not carry.
func (d *Dataset) measurementAttr(x *measurementRow, dim string) (v string, ok bool) {
	switch dim {
	case "team":
		return d.measurementTeam(x), true
	case "service", "tier", "business_unit":
		return d.ServiceAttr(d.str(x.service), dim), true
	case "segment":
		return d.str(x.segment), true
	}
	return "", false
}

// matchMeasurement reports whether a measurement passes every filter of
// the query's scope on a dimension it carries.
func (d *Dataset) matchMeasurement(q Query, x *measurementRow) bool {
	for _, f := range q.Scope.Filters() {
		if v, ok := d.measurementAttr(x, f.Dim); ok && valueOrNone(v) != f.Value {
			return false
		}
	}
	return true
}

// measurementDimValues adds the values of the dimensions a measurement
// carries itself (its own team, its segment) found in the measurements
// that pass the query's scope. Service-level values come from services.
func measurementDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	if dim != "team" && dim != "segment" {
		return
	}
	for x := range d.measurements().all() {
		if dim == "team" && x.team == 0 {
			continue // its service's team: listed with the services
		}
		if d.matchMeasurement(q, x) {
			v, _ := d.measurementAttr(x, dim)
			addDimValue(set, v)
		}
	}
}
