package catalog

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxHeadline is SPEC §4's cap on headline KPIs: the one-page view stays one page.
const MaxHeadline = 7

// Units lists the unit strings a metric may use; Docs and the web layer format values by them.
var Units = []string{
	"deploys/day", "hours", "minutes", "days", "%", "count", "points", "score",
	"currency", "currency/day", "currency/30d", "months", "x", "ms",
}

// Dimensions lists the breakdown dimensions the computation layer knows how to group by; a typo
// in a definition would otherwise surface as an empty drill-down.
var Dimensions = []string{
	"team", "service", "environment", "tier", "category", "framework", "owner", "channel",
	"campaign", "customer", "plan", "priority", "release", "stage", "business_unit", "origin", "segment",
	"package",
}

// Default freshness limits (SPEC §4): event sources should report daily; monthly sources (bills,
// budgets, subscriptions, quotas) arrive once a month, hence a month plus a few days of grace.
const (
	EventFreshness   = 24 * time.Hour
	MonthlyFreshness = 35 * day
)

// Record kinds a metric can read (SPEC §1), by how often they arrive. `service` is missing on
// purpose: it is reference data, so its age says nothing about a metric's freshness.
var (
	EventKinds = []string{
		"deployment", "change", "incident", "sli", "ticket", "survey", "vulnerability", "control",
		"lead", "opportunity",
	}
	MonthlyKinds = []string{"cost", "usage", "budget", "subscription", "quota", "spend", "target"}
)

var sourceFreshness = func() map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, k := range EventKinds {
		m[k] = EventFreshness
	}
	for _, k := range MonthlyKinds {
		m[k] = MonthlyFreshness
	}
	// Measurements arrive at every cadence, from a daily page latency to a
	// monthly team-health survey: by default a month's silence is what
	// makes them stale; a metric reading a daily figure sets its own limit.
	m["measurement"] = MonthlyFreshness
	return m
}()

// DefaultFreshness returns the freshness limit of a record kind when a metric does not set its
// own, and false for kinds that cannot be a metric's source.
func DefaultFreshness(kind string) (time.Duration, bool) {
	d, ok := sourceFreshness[kind]
	return d, ok
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// FieldError is one broken rule, precise enough to fix without reading the code: which file and
// line (when the catalog came from YAML), which metric, view or pillar, and which field.
type FieldError struct {
	File string // set by Parse
	Line int    // 1-based; 0 when unknown
	Kind string // "metric", "view", "pillar", "override", "catalog"; "" for YAML syntax errors
	ID   string // id of the metric, view or pillar; "" when it has none
	// Field is the YAML field, dotted and indexed: "thresholds", "sources[1].kind".
	Field string
	Msg   string

	pos  int    // 1-based position in its list, to name an element that has no id
	path string // YAML path of the field, to find its line
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	switch {
	case e.Kind != "" && e.ID != "":
		fmt.Fprintf(&b, "%s %q: ", e.Kind, e.ID)
	case e.Kind != "" && e.pos > 0:
		fmt.Fprintf(&b, "%s #%d: ", e.Kind, e.pos)
	case e.Kind != "" && e.Kind != "catalog":
		fmt.Fprintf(&b, "%s: ", e.Kind)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func joinErrors(errs []*FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// Validate checks every rule a definition must meet and reports all broken ones, each as a
// *FieldError (use errors.As, or read the joined message).
func (c *Catalog) Validate() error {
	return joinErrors(c.problems())
}

// problem collects FieldErrors for one element of the catalog.
type problem struct {
	kind, id, list string
	pos            int
	errs           *[]*FieldError
}

func (p problem) add(field, format string, args ...any) {
	path := fmt.Sprintf("%s[%d]", p.list, p.pos-1)
	if p.list == "" {
		path = ""
	}
	if field != "" {
		if path != "" {
			path += "."
		}
		path += field
	}
	*p.errs = append(*p.errs, &FieldError{
		Kind: p.kind, ID: p.id, Field: field, Msg: fmt.Sprintf(format, args...),
		pos: p.pos, path: path,
	})
}

func (c *Catalog) problems() []*FieldError {
	var errs []*FieldError
	top := problem{kind: "catalog", errs: &errs}

	if len(c.Pillars) == 0 {
		top.add("pillars", "at least one pillar is required")
	}
	pillars := map[string]int{}
	for i, pl := range c.Pillars {
		p := problem{kind: "pillar", id: pl.ID, list: "pillars", pos: i + 1, errs: &errs}
		checkID(p, pl.ID, pillars, i)
		if strings.TrimSpace(pl.Name) == "" {
			p.add("name", "required")
		}
		checkSensitivity(p, pl.Sensitivity)
	}

	if len(c.Metrics) == 0 {
		top.add("metrics", "at least one metric is required")
	}
	metrics := map[string]int{}
	var headline []string
	for i := range c.Metrics {
		m := &c.Metrics[i]
		p := problem{kind: "metric", id: m.ID, list: "metrics", pos: i + 1, errs: &errs}
		checkID(p, m.ID, metrics, i)
		c.checkMetric(p, m)
		if m.Headline {
			headline = append(headline, m.ID)
			if len(headline) == MaxHeadline+1 {
				p.add("headline", "at most %d headline metrics are allowed in the catalog; this is the %dth (after %s)",
					MaxHeadline, MaxHeadline+1, strings.Join(headline[:MaxHeadline], ", "))
			}
		}
	}

	views := map[string]int{}
	for i, v := range c.Views {
		p := problem{kind: "view", id: v.ID, list: "views", pos: i + 1, errs: &errs}
		checkID(p, v.ID, views, i)
		c.checkView(p, v)
	}
	return errs
}

// checkID enforces that ids are snake_case and unique within their list; seen maps ids to the
// position of their first use.
func checkID(p problem, id string, seen map[string]int, i int) {
	switch {
	case id == "":
		p.add("id", "required")
		return
	case !snakeCase.MatchString(id):
		p.add("id", "%q is not snake_case (lower-case letters, digits and single underscores, starting with a letter)", id)
	}
	if first, dup := seen[id]; dup {
		p.add("id", "duplicate: %s #%d has the same id", p.kind, first+1)
		return
	}
	seen[id] = i
}

func (c *Catalog) checkMetric(p problem, m *Metric) {
	for _, f := range []struct{ name, value string }{
		{"name", m.Name}, {"description", m.Description}, {"formula", m.Formula},
	} {
		if strings.TrimSpace(f.value) == "" {
			p.add(f.name, "required")
		}
	}
	switch {
	case m.Pillar == "":
		p.add("pillar", "required")
	case !c.hasPillar(m.Pillar):
		p.add("pillar", "unknown pillar %q (pillars: %s)", m.Pillar, strings.Join(c.pillarIDs(), ", "))
	}
	if m.Span != SpanWindow && !slices.Contains(Spans, m.Span) {
		p.add("span", "%q (want one of %s, or none for the window)", m.Span, quoteList(Spans))
	}
	if !slices.Contains(Units, m.Unit) {
		p.add("unit", "%s (want one of %s)", unknownOrRequired("unit", m.Unit), quoteList(Units))
	}
	betterOK := m.Better == Higher || m.Better == Lower
	if !betterOK {
		p.add("better", "%s (want higher or lower)", unknownOrRequired("direction", m.Better))
	}
	if m.Type != Leading && m.Type != Lagging {
		p.add("type", "%s (want leading or lagging)", unknownOrRequired("type", m.Type))
	}
	if strings.TrimSpace(m.Owner) == "" {
		p.add("owner", "required: every metric has an accountable owner (a role or a person)")
	}
	if m.Window <= 0 {
		p.add("window", "must be greater than zero, such as 30d")
	}

	switch {
	case m.Thresholds == nil && m.JudgedBy == "":
		p.add("thresholds", "required (or judged_by, to show another metric's status)")
	case m.Thresholds != nil && m.JudgedBy != "":
		p.add("judged_by", "set together with thresholds: a metric is judged by its own thresholds or by another metric, not both")
	case m.Thresholds != nil:
		if field, msg := checkThresholds(*m.Thresholds, m.Better); msg != "" && (betterOK || field != "thresholds") {
			p.add(field, "%s", msg)
		}
	default:
		c.checkJudgedBy(p, m)
	}
	c.checkScopedThresholds(p, m, betterOK)

	if m.Target != nil {
		if msg := targetProblem(m, *m.Target); msg != "" {
			p.add("target", "%s", msg)
		}
	}
	c.checkSources(p, m.Sources)
	if m.MinSample < 0 {
		p.add("min_sample", "must be 0 (no minimum) or more, got %d", m.MinSample)
	}
	if m.Version < 1 {
		p.add("version", "must be at least 1, got %d", m.Version)
	}
	if m.Effective == "" {
		p.add("effective", "required, a date such as 2026-01-01")
	} else if _, err := time.Parse(time.DateOnly, m.Effective); err != nil {
		p.add("effective", "%q is not a valid date YYYY-MM-DD", m.Effective)
	}
	checkList(p, "breakdowns", m.Breakdowns, Dimensions, "dimension")
	for i, x := range m.DegradingExempt {
		if strings.TrimSpace(x) == "" {
			p.add(fmt.Sprintf("degrading_exempt[%d]", i), "empty: name an annotation kind (%s) or an annotation's name", strings.Join(AnnotationKinds, ", "))
		}
	}
	checkSensitivity(p, m.Sensitivity)
	if msg := priorityProblem(m.Priority); msg != "" {
		p.add("priority", "%s", msg)
	}
	if msg := signoffProblem(m.Signoff); msg != "" {
		p.add("signoff", "%s", msg)
	}
	// A metric whose pillar is missing or unknown has its sign-off from no
	// pillar: the pillar's error says what to mend, and this one, listed
	// first, had sent an organisation's metric's author after a key its
	// definition never needs.
	if strings.TrimSpace(m.SignoffBy) == "" && c.hasPillar(m.Pillar) {
		p.add("signoff_by", "required, here or on the pillar: the function that signs the definition off (finance, engineering, …)")
	}
}

// priorityProblem says what is wrong with a priority, "" when nothing.
func priorityProblem(p string) string {
	switch {
	case p == "":
		return "required: P0 (must have), P1 or P2 (nice to have)"
	case !slices.Contains(Priorities, p):
		return fmt.Sprintf("unknown priority %q (want P0, P1 or P2)", p)
	}
	return ""
}

// signoffProblem says what is wrong with a sign-off state, "" when nothing.
func signoffProblem(s string) string {
	switch {
	case s == "":
		return "required: assumed until the owning function confirms the definition, then confirmed"
	case s != SignoffAssumed && s != SignoffConfirmed:
		return fmt.Sprintf("unknown sign-off state %q (want assumed or confirmed)", s)
	}
	return ""
}

func checkSensitivity(p problem, s string) {
	if s != "" && s != SensitivityRevenue {
		p.add("sensitivity", "unknown sensitivity %q (want %q or nothing)", s, SensitivityRevenue)
	}
}

// checkScopedThresholds checks the thresholds per tier and per service (each consistent with the
// metric's direction and relative to what its own thresholds are) and the baseline that
// baseline-relative thresholds scale.
func (c *Catalog) checkScopedThresholds(p problem, m *Metric, betterOK bool) {
	check := func(field string, t Thresholds) {
		if m.Thresholds == nil {
			p.add(field, "%s is judged by %s: it has no thresholds of its own to set per tier or service", m.ID, m.JudgedBy)
			return
		}
		if t.RelativeTo != m.Thresholds.RelativeTo {
			p.add(field+".relative_to", "%q differs from the metric's thresholds (%q): a tier's or service's bar is the same kind of bar",
				t.RelativeTo, m.Thresholds.RelativeTo)
			return
		}
		if f, msg := checkThresholds(t, m.Better); msg != "" && (betterOK || f != "thresholds") {
			p.add(field+strings.TrimPrefix(f, "thresholds"), "%s", msg)
		}
	}
	for _, tier := range slices.Sorted(maps.Keys(m.ThresholdsByTier)) {
		check(fmt.Sprintf("thresholds_by_tier.%d", tier), m.ThresholdsByTier[tier])
	}
	for _, svc := range slices.Sorted(maps.Keys(m.ThresholdsByService)) {
		if strings.TrimSpace(svc) == "" {
			p.add("thresholds_by_service", "a service id is required")
			continue
		}
		check("thresholds_by_service."+svc, m.ThresholdsByService[svc])
	}
	usesBaseline := m.Thresholds != nil && m.Thresholds.RelativeTo == RelativeToBaseline
	switch b, ok := c.Metric(m.Baseline); {
	case m.Baseline == "" && usesBaseline:
		p.add("baseline", "required: thresholds relative to baseline scale the value of the metric named here")
	case m.Baseline == "":
	case m.Baseline == m.ID:
		p.add("baseline", "a metric cannot be its own baseline")
	case !ok:
		p.add("baseline", "unknown metric %q", m.Baseline)
	case b.Unit != m.Unit:
		p.add("baseline", "%s is in %s, %s in %s: a baseline is in the metric's unit", b.ID, b.Unit, m.ID, m.Unit)
	}
}

func (c *Catalog) checkJudgedBy(p problem, m *Metric) {
	if m.JudgedBy == m.ID {
		p.add("judged_by", "a metric cannot be judged by itself")
		return
	}
	other, ok := c.Metric(m.JudgedBy)
	switch {
	case !ok:
		p.add("judged_by", "unknown metric %q", m.JudgedBy)
	case other.Thresholds == nil:
		// A chain would need the caller to resolve judges recursively and could loop.
		p.add("judged_by", "%q is itself judged by another metric; refer to one that has thresholds", m.JudgedBy)
	}
}

// checkThresholds returns the field and message of the first rule t breaks for a metric whose
// better direction is given, or "" when t is consistent. Field "thresholds" means a direction
// problem, which is meaningless when the direction itself is invalid.
func checkThresholds(t Thresholds, better string) (field, msg string) {
	if !finite(t.Green) {
		return "thresholds.green", "must be a finite number"
	}
	if !finite(t.Amber) {
		return "thresholds.amber", "must be a finite number"
	}
	switch t.RelativeTo {
	case "":
	case RelativeToTarget, RelativeToElapsed, RelativeToBaseline:
		if t.Green <= 0 || t.Amber <= 0 {
			return "thresholds", fmt.Sprintf("green and amber relative to %s must be greater than zero, got green %s, amber %s",
				t.RelativeTo, formatNumber(t.Green), formatNumber(t.Amber))
		}
		if t.RelativeTo == RelativeToElapsed && better == Lower {
			return "thresholds.relative_to", "elapsed scales a cumulative total that should grow with the period; it needs better: higher"
		}
	default:
		return "thresholds.relative_to", fmt.Sprintf("%q: want target, elapsed, baseline or nothing (absolute)", t.RelativeTo)
	}
	switch better {
	case Higher:
		if t.Green < t.Amber {
			return "thresholds", fmt.Sprintf("green %s is below amber %s; when higher is better green must be ≥ amber",
				formatNumber(t.Green), formatNumber(t.Amber))
		}
	case Lower:
		if t.Green > t.Amber {
			return "thresholds", fmt.Sprintf("green %s is above amber %s; when lower is better green must be ≤ amber",
				formatNumber(t.Green), formatNumber(t.Amber))
		}
	default:
		return "thresholds", fmt.Sprintf("cannot be checked without a valid better direction (got %q)", better)
	}
	return "", ""
}

func (c *Catalog) checkSources(p problem, sources []Source) {
	if len(sources) == 0 {
		p.add("sources", "at least one record kind is required: the metric's freshness depends on it")
		return
	}
	seen := map[string]bool{}
	for j, s := range sources {
		at := fmt.Sprintf("sources[%d]", j)
		_, known := sourceFreshness[s.Kind]
		switch {
		case s.Kind == "":
			p.add(at+".kind", "required")
		case s.Kind == "service":
			p.add(at+".kind", "service is reference data, not a source: it has no freshness of its own")
		case !known:
			p.add(at+".kind", "unknown record kind %q (want one of %s)", s.Kind, quoteList(sortedKinds()))
		case seen[s.Kind]:
			p.add(at+".kind", "%q is listed twice", s.Kind)
		}
		seen[s.Kind] = true
		if known && s.Freshness <= 0 {
			p.add(at+".freshness", "must be greater than zero, such as 24h or 35d")
		}
	}
}

func (c *Catalog) checkView(p problem, v View) {
	if strings.TrimSpace(v.Name) == "" {
		p.add("name", "required")
	}
	if len(v.Metrics) == 0 {
		p.add("metrics", "at least one metric is required")
	}
	seen := map[string]bool{}
	for j, id := range v.Metrics {
		at := fmt.Sprintf("metrics[%d]", j)
		if _, ok := c.Metric(id); !ok {
			p.add(at, "unknown metric %q", id)
		} else if seen[id] {
			p.add(at, "%q is listed twice", id)
		}
		seen[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(v.Breakdowns)) {
		dim := v.Breakdowns[id]
		at := "breakdowns." + id
		m, ok := c.Metric(id)
		switch {
		case !seen[id]:
			p.add(at, "metric %q is not among the view's metrics", id)
		case !ok:
			// Already reported as an unknown metric of the view.
		case !slices.Contains(m.Breakdowns, dim):
			p.add(at, "metric %q cannot be broken down by %q (it offers: %s)", id, dim, orNone(m.Breakdowns))
		}
	}
	checkList(p, "sections", v.Sections, ViewSections, "section")
}

func checkList(p problem, field string, values, allowed []string, what string) {
	seen := map[string]bool{}
	for j, v := range values {
		at := fmt.Sprintf("%s[%d]", field, j)
		switch {
		case !slices.Contains(allowed, v):
			p.add(at, "unknown %s %q (want one of %s)", what, v, quoteList(allowed))
		case seen[v]:
			p.add(at, "%q is listed twice", v)
		}
		seen[v] = true
	}
}

func (c *Catalog) hasPillar(id string) bool {
	return slices.ContainsFunc(c.Pillars, func(p Pillar) bool { return p.ID == id })
}

func (c *Catalog) pillarIDs() []string {
	ids := make([]string, len(c.Pillars))
	for i, p := range c.Pillars {
		ids[i] = p.ID
	}
	return ids
}

func sortedKinds() []string {
	return slices.Sorted(maps.Keys(sourceFreshness))
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func unknownOrRequired(what, value string) string {
	if value == "" {
		return "required"
	}
	return fmt.Sprintf("unknown %s %q", what, value)
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

// formatNumber prints a threshold or target without float noise: at most six decimals, and 1/n
// for fractions such as deployment frequency's one-a-week 1/7 that decimals cannot state exactly.
func formatNumber(v float64) string {
	if !finite(v) {
		return fmt.Sprint(v)
	}
	r := math.Round(v*1e6) / 1e6
	if r != v && v > 0 && v < 1 {
		if n := math.Round(1 / v); n > 1 && math.Abs(1/n-v) <= 1e-15 {
			return fmt.Sprintf("1/%d", int64(n))
		}
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// targetProblem says what is wrong with a target for m, "" when nothing:
// it must be finite, and a count's target a whole number (184.52 MQLs is
// not a plan anyone can meet exactly; targets from records are rounded
// where the metric reads them). A metric judged relative to its target
// needs one above zero: its bars are the target times factors, and a
// negative target turns them upside down (an ARR target of -5 makes every
// ARR green) where zero makes them all zero. A quantity that is never
// negative — a duration, a count, a rate or a ratio — cannot aim below 0.
func targetProblem(m *Metric, t float64) string {
	switch {
	case !finite(t):
		return "must be a finite number"
	case m.Unit == "count" && t != math.Trunc(t):
		return fmt.Sprintf("%v is not a whole number; %s is a count", t, m.ID)
	case t <= 0 && m.Thresholds != nil && m.Thresholds.RelativeTo == RelativeToTarget:
		return fmt.Sprintf("%s must be greater than zero: %s's thresholds are factors of its target (green at %s × target)",
			formatNumber(t), m.ID, formatNumber(m.Thresholds.Green))
	case t < 0 && slices.Contains(nonNegativeUnits, m.Unit):
		return fmt.Sprintf("%s is below zero; %s is in %s, which is never negative", formatNumber(t), m.ID, m.Unit)
	}
	return ""
}

// nonNegativeUnits are the units of quantities that cannot be below zero.
var nonNegativeUnits = []string{"deploys/day", "hours", "minutes", "days", "count", "months", "x", "ms"}
