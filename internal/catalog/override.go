package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Override is an organisation's change to a built-in metric, as written in its configuration
// under the metric's id. Empty fields keep the built-in value.
type Override struct {
	Owner  string   `yaml:"owner,omitempty"`
	Window string   `yaml:"window,omitempty"`
	Target *float64 `yaml:"target,omitempty"`
	// Thresholds replaces green and amber together. Its RelativeTo may be left empty; it cannot
	// differ from the metric's, because what the bounds are relative to is part of the definition.
	Thresholds *Thresholds `yaml:"thresholds,omitempty"`
	// MinSample replaces the fewest cases a status is judged on; 0 removes the minimum.
	MinSample *WholeNumber `yaml:"min_sample,omitempty"`
	// Priority, Signoff and SignoffBy replace the metric's priority, sign-off state and the
	// function that signs it off (a definition confirmed by finance is Signoff: confirmed).
	Priority  string `yaml:"priority,omitempty"`
	Signoff   string `yaml:"signoff,omitempty"`
	SignoffBy string `yaml:"signoff_by,omitempty"`
}

// Apply returns a new catalog with the overrides applied; c is not modified. A metric that an
// override actually changes gets Version+1 and one Overridden entry per changed field; an
// override that repeats the built-in values changes nothing and bumps nothing. Unknown metric ids,
// bad windows, non-finite targets and thresholds inconsistent with the metric's direction are
// all reported, each as a *FieldError naming the metric and the field.
func (c *Catalog) Apply(overrides map[string]Override) (*Catalog, error) {
	out := c.clone()
	var errs []*FieldError
	for _, id := range slices.Sorted(maps.Keys(overrides)) {
		o := overrides[id]
		p := problem{kind: "override", id: id, errs: &errs}
		m, ok := out.Metric(id)
		if !ok {
			p.add("", "no metric with this id in the catalog")
			continue
		}
		var changed []string
		if owner := strings.TrimSpace(o.Owner); owner != "" && owner != m.Owner {
			changed = append(changed, fmt.Sprintf("owner: %s → %s", m.Owner, owner))
			m.Owner = owner
		}
		if o.Window != "" {
			d, err := ParseWindow(o.Window)
			switch {
			case err != nil:
				p.add("window", "%v", err)
			case d != m.Window:
				changed = append(changed, fmt.Sprintf("window: %s → %s", FormatWindow(m.Window), FormatWindow(d)))
				m.Window = d
			}
		}
		if o.Target != nil {
			switch msg := targetProblem(m, *o.Target); {
			case msg != "":
				p.add("target", "%s", msg)
			case m.Target == nil || *m.Target != *o.Target:
				changed = append(changed, fmt.Sprintf("target: %s → %s", formatTarget(m.Target), formatNumber(*o.Target)))
				v := *o.Target
				m.Target = &v
			}
		}
		if o.Thresholds != nil {
			if t, ok := overrideThresholds(p, m, *o.Thresholds); ok && t != *m.Thresholds {
				changed = append(changed, fmt.Sprintf("thresholds: %s → %s", thresholdRule(*m.Thresholds, m.Better, ""), thresholdRule(t, m.Better, "")))
				m.Thresholds = &t
			}
		}
		if o.MinSample != nil {
			switch n := int(*o.MinSample); {
			case n < 0:
				p.add("min_sample", "must be 0 (no minimum) or more, got %d", n)
			case n != m.MinSample:
				changed = append(changed, fmt.Sprintf("min_sample: %d → %d", m.MinSample, n))
				m.MinSample = n
			}
		}
		for _, f := range []struct {
			name, value string
			dst         *string
			problem     func(string) string
		}{
			{"priority", o.Priority, &m.Priority, priorityProblem},
			{"signoff", o.Signoff, &m.Signoff, signoffProblem},
			{"signoff_by", strings.TrimSpace(o.SignoffBy), &m.SignoffBy, func(string) string { return "" }},
		} {
			switch {
			case f.value == "" || f.value == *f.dst:
			case f.problem(f.value) != "":
				p.add(f.name, "%s", f.problem(f.value))
			default:
				changed = append(changed, fmt.Sprintf("%s: %s → %s", f.name, *f.dst, f.value))
				*f.dst = f.value
			}
		}
		if len(changed) > 0 {
			m.Version++
			m.Overridden = append(m.Overridden, changed...)
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	// Overrides are checked field by field above; this catches whatever that missed rather than
	// hand a broken catalog to the scorecard.
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

func overrideThresholds(p problem, m *Metric, t Thresholds) (Thresholds, bool) {
	if m.Thresholds == nil {
		p.add("thresholds", "%s is judged by %s; override %s's thresholds instead", m.ID, m.JudgedBy, m.JudgedBy)
		return t, false
	}
	if t.RelativeTo == "" {
		t.RelativeTo = m.Thresholds.RelativeTo
	}
	if t.RelativeTo != m.Thresholds.RelativeTo {
		p.add("thresholds.relative_to", "%q differs from the definition's %q; that is a definition change, not an override",
			t.RelativeTo, m.Thresholds.RelativeTo)
		return t, false
	}
	if field, msg := checkThresholds(t, m.Better); msg != "" {
		p.add(field, "%s", msg)
		return t, false
	}
	return t, true
}

func formatTarget(t *float64) string {
	if t == nil {
		return "none"
	}
	return formatNumber(*t)
}
