package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
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
	w("with no value, whose sources are older than their freshness limit, whose value rests on fewer\n")
	w("cases than its minimum sample, or that needs a target none is set for, is **unknown**, always\n")
	w("with its reason (\"no data since …\", \"never sent\", \"too few cases (n = 2, needs 5)\", \"no target\n")
	w("set\"); unknown is never green. A pillar shows the worst status of its metrics, an unknown one\n")
	w("counting as amber; it is unknown only when none of its metrics has a value. Organisations\n")
	w("override owner, window, target, thresholds and minimum sample in configuration; each change is\n")
	w("a new version.\n\n")
	w("Each definition has a priority (P0 must have, P1, P2 nice to have), which orders a pillar's\n")
	w("metrics, and a sign-off state: assumed until the function that owns it (finance for revenue,\n")
	w("engineering for delivery, …) confirms it, then confirmed.\n\n")
	w("No value without data: when no record of a kind a metric requires exists at or before as_of (in\n")
	w("the scope asked for), the value is null and the reason says which kind is missing. \"0 when none\"\n")
	w("below is the answer once the source has sent data and nothing qualified.\n\n")

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
			shown := strings.Join(ms, ", ")
			if len(v.Sections) > 0 {
				var ss []string
				for _, sec := range v.Sections {
					ss = append(ss, cmp.Or(sectionDocs[sec], sec))
				}
				shown += "; beside them: " + strings.Join(ss, "; ")
			}
			w("| %s (`%s`) | %s | %s |\n", cell(v.Name), v.ID, cell(v.Description), shown)
		}
	}
	return b.String()
}

func writeMetric(b *strings.Builder, c *Catalog, m *Metric) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("<a id=\"%s\"></a>\n\n### %s (`%s`)\n\n", m.ID, m.Name, m.ID)
	if m.Summary != "" {
		w("%s\n\n", paragraph(m.Summary))
		w("**Definition.** %s\n\n", paragraph(m.Description))
	} else {
		w("%s\n\n", paragraph(m.Description))
	}
	w("**Formula.** %s\n\n", paragraph(m.Formula))
	w("| | |\n|---|---|\n")
	row := func(k, v string) { w("| %s | %s |\n", k, cell(v)) }
	row("Unit", m.Unit)
	row("Better", m.Better)
	row("Type", m.Type)
	row("Owner", m.Owner)
	row("Window", FormatWindow(m.Window))
	if w := spanWords[m.Span]; w != "" {
		row("Covers", w)
	}
	if m.Thresholds != nil {
		row("Thresholds", thresholdRule(*m.Thresholds, m.Better, m.Unit))
		for _, tier := range slices.Sorted(maps.Keys(m.ThresholdsByTier)) {
			row(fmt.Sprintf("Thresholds, tier %d", tier), thresholdRule(m.ThresholdsByTier[tier], m.Better, m.Unit))
		}
		for _, svc := range slices.Sorted(maps.Keys(m.ThresholdsByService)) {
			row("Thresholds, service "+svc, thresholdRule(m.ThresholdsByService[svc], m.Better, m.Unit))
		}
		if b, ok := c.Metric(m.Baseline); ok {
			w("| Baseline | [%s](#%s); an organisation may judge by it (`judged_by: baseline`) |\n", cell(b.Name), b.ID)
		}
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
		if domain.Kind(s.Kind).State() {
			// SPEC §4: a book that did not change is not stale.
			srcs = append(srcs, fmt.Sprintf("`%s` (a state: never stale by its own times)", s.Kind))
			continue
		}
		srcs = append(srcs, fmt.Sprintf("`%s` (stale after %s)", s.Kind, formatFreshness(s.Freshness)))
	}
	row("Sources", strings.Join(srcs, ", "))
	switch m.MinSample {
	case 0:
		row("Minimum sample", "none")
	case 1:
		row("Minimum sample", "1 case; without one the status is unknown")
	default:
		row("Minimum sample", fmt.Sprintf("%d cases; fewer leave the status unknown (the value is still shown)", m.MinSample))
	}
	row("Breakdowns", orNone(m.Breakdowns))
	row("Priority", m.Priority)
	row("Sign-off", SignoffText(m))
	row("Version", fmt.Sprintf("%d, %s", m.Version, m.EffectiveLabel()))
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

// SignoffText says whether the owning function has confirmed the definition, for the docs, cards
// and text output; "" for a definition that names neither (an organisation's own metric may not),
// and without a function when it names none.
func SignoffText(m *Metric) string {
	switch {
	case m.Signoff == SignoffConfirmed && m.SignoffBy != "":
		return "confirmed by " + m.SignoffBy
	case m.Signoff == SignoffConfirmed:
		return "confirmed"
	case m.SignoffBy != "":
		return "assumed: " + m.SignoffBy + " has not confirmed this definition yet"
	case m.Signoff != "":
		return "assumed: not confirmed yet"
	}
	return ""
}

// ThresholdRule states thresholds the way an owner reads them ("green ≤ 5 %, amber ≤ 15 %, red
// above"), for any page or text that shows a metric's bounds.
func ThresholdRule(t Thresholds, better, unit string) string { return thresholdRule(t, better, unit) }

// ThresholdRuleFormat is ThresholdRule with the bounds of absolute thresholds worded by format:
// pages that know the organisation's currency say "300,000 USD" where the guide, which does
// not, says "300000 (currency)".
func ThresholdRuleFormat(t Thresholds, better, unit string, format func(float64) string) string {
	return thresholdRuleFormat(t, better, unit, format)
}

// thresholdRule states thresholds the way an owner reads them: "green ≤ 5 %, amber ≤ 15 %".
// unit "" leaves numbers bare, for Overridden notes.
func thresholdRule(t Thresholds, better, unit string) string {
	return thresholdRuleFormat(t, better, unit, nil)
}

func thresholdRuleFormat(t Thresholds, better, unit string, format func(float64) string) string {
	formatValue := formatValue
	if format != nil {
		formatValue = func(v float64, _ string) string { return format(v) }
	}
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
	case RelativeToBaseline:
		rel := func(f float64) string {
			if f == 1 {
				return "baseline"
			}
			return formatNumber(f) + " × baseline"
		}
		return fmt.Sprintf("green %s %s, amber %s %s, red %s", op, rel(t.Green), op, rel(t.Amber), beyond)
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
	"currency": " (currency)", "currency/day": " (currency)/day", "currency/30d": " (currency) per 30 days",
	"ms": " ms",
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

// sectionDocs says in the guide what each of ViewSections shows.
var sectionDocs = map[string]string{
	"pillars":           "every pillar's status with the metrics that set it",
	"pipeline_by_stage": "open opportunities by stage (count, amount, median and oldest age in days)",
	"quota_pace":        "quota attainment against the elapsed share of the quota period",
	"flow_stages":       "where lead time goes: the median coding, pickup, review and deploy time per team, as stacked bars, with the changes each rests on",
	"mrr_bridge":        "the MRR bridge over the window as a waterfall: MRR at its start, new, reactivation, expansion, contraction and churn, MRR at as_of",
}

// spanWords say what a value covers for each Metric.Span but the window.
var spanWords = map[string]string{
	SpanInstant:      "the state at as_of; the window spaces the trend's comparison",
	SpanYear:         "the customers active 365 days before as_of, then and at as_of",
	SpanQuotaPeriod:  "the quota period holding as_of, up to as_of",
	SpanBeforeWindow: "the 90 days before the window's start",
	SpanCohort:       "the leads created over the window's length ending a maturation lag before as_of, followed to as_of",
	SpanNinetyDays:   "the 90 days before as_of, whatever the window",
}
