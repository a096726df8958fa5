package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Annotation marks a business-cycle period (a change freeze, a peak season, a quarter end, a
// launch) so a dip is read in its context: shaded on every trend chart, listed in the digest,
// and, for a metric that names it in DegradingExempt, no worsening window while it lasts. It is
// written in the organisation's configuration (`annotations:`) or posted over the API (package
// annotation keeps those); both are this type. From and To are dates (YYYY-MM-DD, UTC), To
// inclusive. Scope, when set, is a filter such as service:payments or team:core: the period
// concerns that part of the organisation only.
type Annotation struct {
	Name  string `yaml:"name" json:"name"`
	Kind  string `yaml:"kind" json:"kind"`
	From  string `yaml:"from" json:"from"`
	To    string `yaml:"to" json:"to"`
	Scope string `yaml:"scope,omitempty" json:"scope,omitempty"`
}

// AnnotationKinds are the kinds an annotation may have.
var AnnotationKinds = []string{"freeze", "peak_season", "quarter_end", "launch", "other"}

// maxAnnotationName bounds a name, like an identifier's free-text neighbours.
const maxAnnotationName = 200

// Check reports the first thing wrong with the annotation as the field at fault and why; ""
// and "" when it is sound. The scope's syntax and values are the caller's to check, against
// the data's dimensions.
func (a Annotation) Check() (field, msg string) {
	name := strings.TrimSpace(a.Name)
	switch {
	case name == "":
		return "name", "required: what the period is (Q4 change freeze)"
	case len(name) > maxAnnotationName:
		return "name", fmt.Sprintf("%d bytes; at most %d", len(name), maxAnnotationName)
	case !slices.Contains(AnnotationKinds, a.Kind):
		return "kind", fmt.Sprintf("%q: want one of %s", a.Kind, strings.Join(AnnotationKinds, ", "))
	}
	for _, d := range []struct{ field, v string }{{"from", a.From}, {"to", a.To}} {
		if strings.TrimSpace(d.v) == "" {
			return d.field, "required: a date (YYYY-MM-DD)"
		}
	}
	from, err := time.Parse(time.DateOnly, a.From)
	if err != nil {
		return "from", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", a.From)
	}
	to, err := time.Parse(time.DateOnly, a.To)
	if err != nil {
		return "to", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", a.To)
	}
	switch {
	case from.Year() < 1970:
		return "from", fmt.Sprintf("%s is before 1970", a.From)
	case to.Before(from):
		return "to", fmt.Sprintf("%s is before from (%s)", a.To, a.From)
	case to.Sub(from) >= maxAnnotationSpan:
		// A business-cycle period is weeks long; a typo's century
		// ("2099") shaded every chart and, for a metric exempting the
		// kind, lifted "degrading" for good.
		return "to", fmt.Sprintf("%s is more than a year after from (%s): an annotation marks a period of at most 366 days", a.To, a.From)
	}
	return "", ""
}

// maxAnnotationSpan bounds an annotation's length: to at most 365 days
// after from, 366 days in all.
const maxAnnotationSpan = 366 * 24 * time.Hour

// Span is the period as instants [from, the day after to), UTC; zero times when a date does
// not parse (Check first).
func (a Annotation) Span() (from, to time.Time) {
	f, err1 := time.Parse(time.DateOnly, a.From)
	t, err2 := time.Parse(time.DateOnly, a.To)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}
	}
	return f, t.AddDate(0, 0, 1)
}

// Overlaps reports whether the period shares an instant with [from, to).
func (a Annotation) Overlaps(from, to time.Time) bool {
	f, t := a.Span()
	return !f.IsZero() && f.Before(to) && from.Before(t)
}

// Names reports whether the annotation is one of those a metric's DegradingExempt lists: by
// its kind (peak_season) or its name, compared without regard to case.
func (a Annotation) Names(list []string) bool {
	for _, x := range list {
		if x == a.Kind || strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(a.Name)) {
			return true
		}
	}
	return false
}
