package catalog

import (
	"slices"
	"strings"
	"time"
)

// FromTheStart is the effective date of a definition that names none (an
// organisation's own metric without `effective`): in force for all data.
const FromTheStart = "1970-01-01"

// EffectiveLabel says when the version took effect, for a reader: "effective
// 2026-01-01", or "in effect for all data" for a definition that names no
// date (not a date in 1970).
func (m Metric) EffectiveLabel() string {
	if m.Effective == FromTheStart {
		return "in effect for all data"
	}
	return "effective " + m.Effective
}

// AppliesBeforeWords say so of a version (AppliesBefore).
const AppliesBeforeWords = "no earlier version is kept: it applies before that date too"

// AppliesBefore reports whether the version, in force at t (an instant
// that ends a window: a month's close is the next month's first instant),
// took effect only at or after t: no earlier version is kept, so values
// as of t were computed with it all the same. October's figures under
// "version 2, effective 2026-12-01" had read as if an older definition
// had been used.
func (m Metric) AppliesBefore(t time.Time) bool {
	from, err := time.Parse(time.DateOnly, m.Effective)
	return err == nil && !t.After(from)
}

// AddMetrics returns a new catalog with an organisation's own metrics (SPEC §3, organisation-defined
// metrics; the configuration's custom_metrics) after the built-in ones; c is not modified. Each is
// checked like a built-in definition — snake_case id that no other metric has, a known pillar, an
// owner, unit, direction, thresholds or judged_by — and SPEC §4's cap of MaxHeadline headline
// metrics counts them with the built-ins. A metric's pillar lends it its sensitivity and sign-off
// function as it does a built-in's. Errors are *FieldErrors on "custom_metrics[i]…"; with the
// configuration file's name and bytes they also name the file and the line.
func (c *Catalog) AddMetrics(ms []Metric, file string, data []byte) (*Catalog, error) {
	out := c.clone()
	var errs []*FieldError
	seen := map[string]int{}
	var headline []string
	for i, m := range out.Metrics {
		seen[m.ID] = -1 - i
		if m.Headline {
			headline = append(headline, m.ID)
		}
	}
	for i, m := range ms {
		p := problem{kind: "metric", id: m.ID, list: "custom_metrics", pos: i + 1, errs: &errs}
		if first, ok := seen[m.ID]; ok && first < 0 {
			p.add("id", "%q is a built-in metric; choose another id", m.ID)
		} else {
			checkID(p, m.ID, seen, i)
		}
		m = m.clone()
		m.Custom = true
		m.Sensitivity = out.SensitivityIn(m.Pillar, m.Sensitivity)
		for _, pl := range out.Pillars {
			if pl.ID == m.Pillar && m.SignoffBy == "" {
				m.SignoffBy = pl.SignoffBy
			}
		}
		out.checkMetric(p, &m)
		if m.Headline {
			headline = append(headline, m.ID)
			if len(headline) == MaxHeadline+1 {
				p.add("headline", "at most %d headline metrics are allowed, built-in and custom together; this is the %dth (after %s): set headline: false here or on another metric",
					MaxHeadline, MaxHeadline+1, strings.Join(headline[:MaxHeadline], ", "))
			}
		}
		out.Metrics = append(out.Metrics, m)
	}
	if len(errs) == 0 {
		return out, nil
	}
	return nil, placeErrors(errs, file, data)
}

// ShowIn adds a metric to the end of a role view's metrics (an organisation-defined metric's
// views); false when c has no view with that id. It changes c.
func (c *Catalog) ShowIn(view, metric string) bool {
	for i := range c.Views {
		if c.Views[i].ID == view {
			if !slices.Contains(c.Views[i].Metrics, metric) {
				c.Views[i].Metrics = append(c.Views[i].Metrics, metric)
			}
			return true
		}
	}
	return false
}

// WithoutCustom returns a plain copy of c without the organisation's own metrics (AddMetrics),
// nor the views' places for them: the catalog another list of them is added to.
func (c *Catalog) WithoutCustom() *Catalog {
	out := c.clone()
	out.gov = nil
	own := map[string]bool{}
	out.Metrics = slices.DeleteFunc(out.Metrics, func(m Metric) bool {
		own[m.ID] = m.Custom
		return m.Custom
	})
	for i := range out.Metrics {
		out.Metrics[i].gov = nil
	}
	for i := range out.Views {
		out.Views[i].Metrics = slices.DeleteFunc(out.Views[i].Metrics, func(id string) bool { return own[id] })
	}
	return out
}
