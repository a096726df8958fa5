package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
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
	// ThresholdsByTier and ThresholdsByService set a tier's (key "1"–"3") or a service's (key its
	// id) own bar, each replacing the catalog's for that key and leaving the others; like
	// Thresholds they are relative to what the metric's thresholds are.
	ThresholdsByTier    map[string]Thresholds `yaml:"thresholds_by_tier,omitempty"`
	ThresholdsByService map[string]Thresholds `yaml:"thresholds_by_service,omitempty"`
	// JudgedBy "baseline" judges the metric against its own history (its catalog Baseline):
	// green at or below the baseline, amber up to 1.3 times it (SPEC §3), unless Thresholds gives
	// other factors. The catalog's per-tier and per-service bars, absolute ones, then no longer
	// apply; ThresholdsByTier and ThresholdsByService may give factors of the baseline instead.
	JudgedBy string `yaml:"judged_by,omitempty"`
	// MinSample replaces the fewest cases a status is judged on; 0 removes the minimum.
	MinSample *WholeNumber `yaml:"min_sample,omitempty"`
	// Priority, Signoff and SignoffBy replace the metric's priority, sign-off state and the
	// function that signs it off (a definition confirmed by finance is Signoff: confirmed).
	Priority  string `yaml:"priority,omitempty"`
	Signoff   string `yaml:"signoff,omitempty"`
	SignoffBy string `yaml:"signoff_by,omitempty"`
	// DegradingExempt replaces the annotations (kinds or names) whose periods do not count
	// towards the metric's degrading flag; an empty list removes them.
	DegradingExempt *[]string `yaml:"degrading_exempt,omitempty"`
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
			msg := "no metric with this id in the catalog"
			if near := domain.Closest(id, out.metricIDs()); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			p.add("", "%s", msg)
			continue
		}
		var changed []string
		if owner := strings.TrimSpace(o.Owner); owner != "" && owner != m.Owner {
			changed = append(changed, fmt.Sprintf("owner: %s → %s", m.Owner, owner))
			m.Owner = owner
		}
		if o.Window != "" {
			d, err := ParseMetricWindow(o.Window)
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
		if o.JudgedBy != "" {
			changed = append(changed, judgeByBaseline(p, m, o.JudgedBy)...)
		}
		if o.Thresholds != nil {
			if t, ok := overrideThresholds(p, m, "thresholds", *o.Thresholds); ok && t != *m.Thresholds {
				changed = append(changed, fmt.Sprintf("thresholds: %s → %s", thresholdRule(*m.Thresholds, m.Better, ""), thresholdRule(t, m.Better, "")))
				m.Thresholds = &t
			}
		}
		changed = append(changed, scopedOverrides(p, m, "thresholds_by_tier", tierThresholds(p, o.ThresholdsByTier), &m.ThresholdsByTier,
			func(k int) string { return fmt.Sprintf("tier %d", k) })...)
		changed = append(changed, scopedOverrides(p, m, "thresholds_by_service", o.ThresholdsByService, &m.ThresholdsByService,
			func(k string) string { return "service " + k })...)
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
		if o.DegradingExempt != nil && !slices.Equal(*o.DegradingExempt, m.DegradingExempt) {
			changed = append(changed, fmt.Sprintf("degrading_exempt: [%s] → [%s]", strings.Join(m.DegradingExempt, ", "), strings.Join(*o.DegradingExempt, ", ")))
			m.DegradingExempt = slices.Clone(*o.DegradingExempt)
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

// overrideThresholds checks an organisation's thresholds written under field (thresholds, or
// thresholds_by_tier.1 and the like), filling in what they are relative to.
func overrideThresholds(p problem, m *Metric, field string, t Thresholds) (Thresholds, bool) {
	if m.Thresholds == nil {
		p.add(field, "%s is judged by %s; override %s's thresholds instead", m.ID, m.JudgedBy, m.JudgedBy)
		return t, false
	}
	if t.RelativeTo == "" {
		t.RelativeTo = m.Thresholds.RelativeTo
	}
	if t.RelativeTo != m.Thresholds.RelativeTo {
		p.add(field+".relative_to", "%q differs from the definition's %q; that is a definition change, not an override",
			t.RelativeTo, m.Thresholds.RelativeTo)
		return t, false
	}
	if f, msg := checkThresholds(t, m.Better); msg != "" {
		p.add(field+strings.TrimPrefix(f, "thresholds"), "%s", msg)
		return t, false
	}
	return t, true
}

// BaselineFactors are the thresholds of a metric judged by its baseline unless an organisation
// gives others (SPEC §3: green ≤ baseline, amber ≤ 1.3 × baseline).
var BaselineFactors = Thresholds{Green: 1, Amber: 1.3, RelativeTo: RelativeToBaseline}

// judgeByBaseline switches m to thresholds relative to its baseline and says what changed.
func judgeByBaseline(p problem, m *Metric, judgedBy string) []string {
	switch {
	case judgedBy != RelativeToBaseline:
		p.add("judged_by", "%q: an organisation may only judge a metric by its baseline (judged_by: baseline)", judgedBy)
		return nil
	case m.Baseline == "":
		p.add("judged_by", "%s has no baseline to be judged by", m.ID)
		return nil
	case m.Thresholds == nil:
		p.add("judged_by", "%s is judged by %s", m.ID, m.JudgedBy)
		return nil
	case m.Thresholds.RelativeTo == RelativeToBaseline:
		return nil
	}
	changed := []string{fmt.Sprintf("judged_by: thresholds %s → baseline %s (%s)",
		thresholdRule(*m.Thresholds, m.Better, ""), m.Baseline, thresholdRule(BaselineFactors, m.Better, ""))}
	t := BaselineFactors
	m.Thresholds = &t
	// Absolute bars per tier or service mean nothing beside factors of a baseline.
	if len(m.ThresholdsByTier)+len(m.ThresholdsByService) > 0 {
		changed = append(changed, "thresholds per tier and service: dropped (they were absolute)")
	}
	m.ThresholdsByTier, m.ThresholdsByService = nil, nil
	return changed
}

// scopedOverrides applies an organisation's thresholds per tier or per service to dst, each
// checked like the metric's own, and says what changed.
func scopedOverrides[K cmp.Ordered](p problem, m *Metric, field string, in map[K]Thresholds, dst *map[K]Thresholds, name func(K) string) []string {
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(in)) {
		t, ok := overrideThresholds(p, m, fmt.Sprintf("%s.%v", field, k), in[k])
		if !ok {
			continue
		}
		old, had := (*dst)[k]
		if had && old == t {
			continue
		}
		was := "none"
		if had {
			was = thresholdRule(old, m.Better, "")
		}
		if *dst == nil {
			*dst = map[K]Thresholds{}
		}
		(*dst)[k] = t
		changed = append(changed, fmt.Sprintf("thresholds, %s: %s → %s", name(k), was, thresholdRule(t, m.Better, "")))
	}
	return changed
}

func formatTarget(t *float64) string {
	if t == nil {
		return "none"
	}
	return formatNumber(*t)
}

// metricIDs are the ids of the metrics in force, for a suggestion.
func (c *Catalog) metricIDs() []string {
	ms := c.MetricsInForce()
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// SameDefinition reports whether m and o define the metric alike in every field an override or a
// definition proposal changes (owner, window, target, thresholds and how they are judged, the
// thresholds per tier and per service, min_sample, priority, sign-off, degrading_exempt),
// whatever versions or changes made them. Retirement is not compared: no override retires.
func (m *Metric) SameDefinition(o *Metric) bool {
	return m.ID == o.ID && m.Owner == o.Owner && m.Window == o.Window && equalPtr(m.Target, o.Target) &&
		equalPtr(m.Thresholds, o.Thresholds) && m.JudgedBy == o.JudgedBy &&
		maps.Equal(m.ThresholdsByTier, o.ThresholdsByTier) && maps.Equal(m.ThresholdsByService, o.ThresholdsByService) &&
		m.MinSample == o.MinSample && m.Priority == o.Priority && m.Signoff == o.Signoff && m.SignoffBy == o.SignoffBy &&
		slices.Equal(m.DegradingExempt, o.DegradingExempt)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
