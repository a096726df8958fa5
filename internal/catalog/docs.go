package catalog

import (
	"fmt"
	"strings"
	"time"
)

// Docs renders the catalog as the Markdown metric definition guide (docs/metrics.md): per pillar,
// every metric's definition, formula and governance attributes, then the role views. It is a
// pure function of the catalog, so the committed file can be regenerated and checked (see
// TestDocsUpToDate) and an organisation's overridden catalog can be documented the same way.
func Docs(c *Catalog) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# Metric definitions\n\n")
	w("<!-- Generated from internal/catalog/catalog.yaml by catalog.Docs; do not edit by hand.\n")
	w("     Regenerate: CANDOR_UPDATE_DOCS=1 go test ./internal/catalog/ -run TestDocsUpToDate -->\n\n")
	w("Every KPI Candor shows is defined here: what it measures, how it is computed, who owns it and\n")
	w("when it is green, amber or red. The window W is [as_of − window, as_of); a day is 24 h. A metric\n")
	w("with no value, or whose sources are older than their freshness limit, is **unknown** — shown as\n")
	w("\"no data since …\" and never green. A pillar shows the worst status of its metrics.\n")
	w("Organisations override owner, window, target and thresholds in configuration; each change is a\n")
	w("new version.\n\n")

	w("## Contents\n\n")
	w("| Pillar | Metrics |\n|---|---|\n")
	for _, p := range c.Pillars {
		var links []string
		for _, m := range c.PillarMetrics(p.ID) {
			links = append(links, fmt.Sprintf("[%s](#%s)", cell(m.Name), m.ID))
		}
		w("| [%s](#pillar-%s) | %s |\n", cell(p.Name), p.ID, strings.Join(links, ", "))
	}
	w("\n")

	if hl := c.Headline(); len(hl) > 0 {
		w("Headline metrics on the one-page scorecard (at most %d): ", MaxHeadline)
		var links []string
		for _, m := range hl {
			links = append(links, fmt.Sprintf("[%s](#%s)", m.Name, m.ID))
		}
		w("%s.\n\n", strings.Join(links, ", "))
	}

	for _, p := range c.Pillars {
		w("<a id=\"pillar-%s\"></a>\n\n## %s\n\n", p.ID, p.Name)
		for _, m := range c.PillarMetrics(p.ID) {
			writeMetric(&b, c, m)
		}
	}

	if len(c.Views) > 0 {
		w("## Role views\n\n")
		w("Each role view opens on the metrics that role acts on; \"(by …)\" names the breakdown the view\n")
		w("shows first. Every number drills down to its breakdown and to the records behind it.\n\n")
		w("| View | For | Metrics |\n|---|---|---|\n")
		for _, v := range c.Views {
			var ms []string
			for _, id := range v.Metrics {
				name := id
				if m, ok := c.Metric(id); ok {
					name = m.Name
				}
				s := fmt.Sprintf("[%s](#%s)", cell(name), id)
				if dim := v.Breakdowns[id]; dim != "" {
					s += " (by " + dim + ")"
				}
				ms = append(ms, s)
			}
			w("| %s (`%s`) | %s | %s |\n", cell(v.Name), v.ID, cell(v.Description), strings.Join(ms, ", "))
		}
	}
	return b.String()
}

func writeMetric(b *strings.Builder, c *Catalog, m *Metric) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("<a id=\"%s\"></a>\n\n### %s (`%s`)\n\n", m.ID, m.Name, m.ID)
	w("%s\n\n", paragraph(m.Description))
	w("**Formula.** %s\n\n", paragraph(m.Formula))
	w("| | |\n|---|---|\n")
	row := func(k, v string) { w("| %s | %s |\n", k, cell(v)) }
	row("Unit", m.Unit)
	row("Better", m.Better)
	row("Type", m.Type)
	row("Owner", m.Owner)
	row("Window", FormatWindow(m.Window))
	if m.Thresholds != nil {
		row("Thresholds", thresholdRule(*m.Thresholds, m.Better, m.Unit))
	} else {
		judge := m.JudgedBy
		if o, ok := c.Metric(m.JudgedBy); ok {
			judge = o.Name
		}
		w("| Thresholds | judged by [%s](#%s) |\n", cell(judge), m.JudgedBy)
	}
	switch {
	case m.Target != nil:
		row("Target", formatValue(*m.Target, m.Unit))
	case m.Thresholds != nil && m.Thresholds.RelativeTo == RelativeToTarget:
		row("Target", "set by the organisation (configuration or `target` records); unknown until set")
	default:
		row("Target", "none")
	}
	var srcs []string
	for _, s := range m.Sources {
		srcs = append(srcs, fmt.Sprintf("`%s` (stale after %s)", s.Kind, formatFreshness(s.Freshness)))
	}
	row("Sources", strings.Join(srcs, ", "))
	row("Breakdowns", orNone(m.Breakdowns))
	row("Version", fmt.Sprintf("%d, effective %s", m.Version, m.Effective))
	row("Headline", yesNo(m.Headline))
	row("DORA", yesNo(m.DORA))
	if m.RevenueSensitive() {
		row("Sensitivity", "revenue: shown only to roles granted `revenue:read`")
	}
	if len(m.Overridden) > 0 {
		row("Overridden", strings.Join(m.Overridden, "; "))
	}
	w("\n")
}

// thresholdRule states thresholds the way an owner reads them: "green ≤ 5 %, amber ≤ 15 %".
// unit "" leaves numbers bare, for Overridden notes.
func thresholdRule(t Thresholds, better, unit string) string {
	op, beyond := "≥", "below"
	if better == Lower {
		op, beyond = "≤", "above"
	}
	switch t.RelativeTo {
	case RelativeToTarget:
		rel := func(f float64) string {
			if f == 1 {
				return "target"
			}
			return formatNumber(f*100) + " % of target"
		}
		return fmt.Sprintf("green %s %s, amber %s %s, red %s", op, rel(t.Green), op, rel(t.Amber), beyond)
	case RelativeToElapsed:
		return fmt.Sprintf("green %s %s × elapsed share of the period, amber %s %s × elapsed share, red %s",
			op, formatValue(t.Green, unit), op, formatValue(t.Amber, unit), beyond)
	}
	if t.Green == t.Amber {
		if better == Lower && t.Green == 0 {
			return "green at 0, any is red (no amber band)"
		}
		return fmt.Sprintf("green %s %s, red %s (no amber band)", op, formatValue(t.Green, unit), beyond)
	}
	return fmt.Sprintf("green %s %s, amber %s %s, red %s", op, formatValue(t.Green, unit), op, formatValue(t.Amber, unit), beyond)
}

// formatFreshness says "24h" rather than FormatWindow's "1d": SPEC §4 and the people wiring
// sources speak of event freshness in hours.
func formatFreshness(d time.Duration) string {
	if d < 2*day && d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	}
	return FormatWindow(d)
}

var unitSuffix = map[string]string{
	"%": " %", "x": "×", "count": "", "hours": " h", "minutes": " min", "days": " days",
	"months": " months", "points": " points", "score": "", "deploys/day": " deploys/day",
	"currency": " (currency)", "currency/day": " (currency)/day",
}

func formatValue(v float64, unit string) string {
	suffix, ok := unitSuffix[unit]
	if !ok && unit != "" {
		suffix = " " + unit
	}
	return formatNumber(v) + suffix
}

// paragraph folds a YAML block into one Markdown paragraph.
func paragraph(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(paragraph(s), "|", `\|`)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
