package alert

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// Observation is what one rule says about one metric at an evaluation.
type Observation struct {
	Rule     string   `json:"rule"`
	Metric   string   `json:"metric,omitempty"`
	Scope    string   `json:"scope,omitempty"`
	Active   bool     `json:"active"`
	Value    *float64 `json:"value,omitempty"`
	Target   *float64 `json:"target,omitempty"`
	Status   string   `json:"status,omitempty"`
	Owner    string   `json:"owner,omitempty"`
	Summary  string   `json:"summary"`
	Severity string   `json:"severity"`
	// Resolution, on an inactive observation a raise resolves an alert
	// with, becomes the resolved alert's summary: why it ended.
	Resolution string `json:"-"`
}

// Key identifies the alert an observation belongs to.
func (o Observation) Key() string { return o.Rule + "|" + o.Metric + "|" + o.Scope }

// Evaluate applies the rules (Compile's) to the scorecard as of opt.AsOf
// and returns one observation per rule and metric it looks at, active or
// not. Escalation rules are not evaluated here: the governance watcher
// raises escalations (Service.Notify); nor reconciliation rules, which
// read the kept results (ReconcileObservations). Call it under the engine's read lock.
func Evaluate(cat *catalog.Catalog, ds *metrics.Dataset, rules []Rule, opt scorecard.Options) []Observation {
	cards := map[string]map[string]scorecard.Card{} // scope → metric → card
	cardsOf := func(scope metrics.Scope) map[string]scorecard.Card {
		k := scope.String()
		if c, ok := cards[k]; ok {
			return c
		}
		o := opt
		o.Scope = scope
		o.Points = 4 // Degrading reads the last four weeks; the rest is for charts
		c := map[string]scorecard.Card{}
		for _, p := range scorecard.Build(cat, ds, o).Pillars {
			for _, card := range p.Metrics {
				c[card.ID] = card
			}
		}
		cards[k] = c
		return c
	}
	var out []Observation
	for _, r := range rules {
		switch r.Kind {
		case KindEscalation, KindReconcile, KindRollbackWatch:
			continue
		case KindBurnRate:
			out = append(out, burnObservations(cat, ds, r, opt.AsOf)...)
			continue
		case KindQuarantine:
			n := ds.QuarantinedCount()
			v := float64(n)
			out = append(out, Observation{Rule: r.Name, Active: n > 0, Value: &v, Severity: r.SeverityFor(""),
				Summary: fmt.Sprintf("%d stored rows are quarantined (could not be decoded)", n)})
			continue
		}
		cs := cardsOf(r.scope)
		ms := cat.MetricsInForce()
		for i := range ms {
			m := &ms[i]
			c, ok := cs[m.ID]
			if !ok || !r.appliesTo(m) {
				continue
			}
			o := Observation{Rule: r.Name, Metric: m.ID, Scope: r.scope.String(), Value: c.Value, Target: c.Target,
				Status: string(c.Status), Owner: c.Owner, Severity: r.SeverityFor(string(c.Status))}
			o.Active, o.Summary = judge(r, c, ds.Config().Currency)
			out = append(out, o)
		}
	}
	return out
}

// quietNote says, after an alert's summary, that the value sums a state
// kind's changes over a window none fell in: a state kind is never stale
// by its records' times (SPEC §4), so "New MRR is red" from a billing feed
// that stopped would otherwise read as a month with no new business.
func quietNote(q *scorecard.Quiet) string {
	if q == nil {
		return ""
	}
	return "; " + q.Words(",") + ": check that its feed still runs"
}

// judge says whether rule r fires on card c, and in words why: values in
// the metric's unit as the pages show them (the organisation's currency,
// cur, for money).
func judge(r Rule, c scorecard.Card, cur string) (bool, string) {
	name := c.Name
	show := func(v float64) string { return scorecard.FormatValue(&v, c.Unit, cur) }
	switch r.Kind {
	case KindStatus:
		for _, s := range r.Statuses {
			if c.Status == s {
				return true, fmt.Sprintf("%s is %s%s%s", name, c.Status, because(c.Reason), quietNote(c.Quiet))
			}
		}
		return false, fmt.Sprintf("%s is %s", name, c.Status)
	case KindThreshold:
		if c.Value == nil {
			return false, fmt.Sprintf("%s has no value%s", name, because(c.Reason))
		}
		v := *c.Value
		fires := map[string]bool{"<": v < r.Value, "<=": v <= r.Value, ">": v > r.Value, ">=": v >= r.Value}[r.Op]
		return fires, fmt.Sprintf("%s is %s (alert when %s %s)%s", name, show(v), r.Op, show(r.Value), quietNote(c.Quiet))
	case KindChange:
		if c.Value == nil || c.Trend.Previous == nil || *c.Trend.Previous == 0 {
			return false, fmt.Sprintf("%s has no change to compare%s", name, because(c.Trend.NotComparable))
		}
		prev := *c.Trend.Previous
		pct := (*c.Value - prev) / math.Abs(prev) * 100
		crosses := func(p float64) bool {
			switch r.Direction {
			case "drop":
				return -p > r.Value
			case "rise":
				return p > r.Value
			default:
				return math.Abs(p) > r.Value
			}
		}
		fires := crosses(pct)
		// From and to in the metric's unit first: on a metric in percent a
		// relative change ("−12.3 %") read as points.
		verb := "rose"
		if *c.Value < prev {
			verb = "fell"
		}
		// On a metric in percent the change in points too: "a change of
		// −13.0 %" for a win rate of 33.61 → 29.25 % read as 13 points.
		// The figures, the points between them and the relative change as
		// the pages and the digest write them (scorecard.ChangeShown):
		// "99.87 % … to 99.88 %, +0.01 points, a relative change of
		// +0.01 %", where the unrounded values had read "+0.02 points"
		// beside those figures.
		shown := scorecard.ChangeShown(*c.Value, prev, c.Unit, cur)
		points := ""
		if c.Unit == "%" {
			points = scorecard.Signed(shown.Diff, " points") + ", "
		}
		return fires, fmt.Sprintf("%s %s from %s in the window before to %s, %sa relative change of %s (alert over a %s %% relative change)",
			name, verb, shown.Before, shown.Now, points, relativeWords(pct, shown, fires, crosses), num(r.Value))
	case KindShortfall:
		if c.Value == nil || c.Target == nil || *c.Target <= 0 {
			return false, fmt.Sprintf("%s has no value or no target", name)
		}
		share := *c.Value / *c.Target * 100
		return share < r.Value, fmt.Sprintf("%s is %.1f %% of its target %s (alert under %s %%)", name, share, show(*c.Target), num(r.Value))
	case KindStale:
		if !c.Freshness.Stale {
			return false, fmt.Sprintf("%s's sources are fresh", name)
		}
		// A kind never sent has not gone stale: nothing stopped. On a new
		// store the rule had fired for some 64 metrics at once, "past the
		// freshness limit", of data nobody had sent yet (the scorecard
		// still says "never sent" and the metric is unknown). A connector
		// configured and never working is what stopped, and fires.
		var kinds, never []string
		for _, s := range c.Freshness.Sources {
			switch {
			case !s.Stale:
			case s.LastData == nil && s.Connector == "":
				never = append(never, s.Kind)
			default:
				kinds = append(kinds, s.Kind)
			}
		}
		if len(kinds) == 0 {
			return false, fmt.Sprintf("%s's data was never sent (%s): nothing has gone stale", name, strings.Join(never, ", "))
		}
		return true, fmt.Sprintf("%s's data is stale: %s past the freshness limit", name, strings.Join(kinds, ", "))
	case KindDegrading:
		if c.Degrading {
			return true, fmt.Sprintf("%s worsened in each of the last three weeks", name)
		}
		return false, fmt.Sprintf("%s is not degrading", name)
	}
	return false, ""
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// relativeWords writes a change rule's relative change: the figures'
// shown (shown.Relative), unless that would sit on the other side of the
// rule than the unrounded change the rule judged (pct) — an alert firing
// over 10.4 % had read "+10 %" —, then pct, with the decimals that keep it
// on its side.
func relativeWords(pct float64, shown scorecard.ShownChange, fires bool, crosses func(float64) bool) string {
	if shown.RelativeOK && crosses(shown.Relative) == fires {
		return scorecard.Signed(shown.Relative, " %")
	}
	words := scorecard.Signed(pct, " %")
	for prec := 3; prec <= 9; prec++ {
		x, err := strconv.ParseFloat(strings.TrimSuffix(strings.Replace(strings.TrimPrefix(words, "+"), "−", "-", 1), " %"), 64)
		if err != nil || crosses(x) == fires {
			break
		}
		words = strconv.FormatFloat(pct, 'f', prec, 64)
		if pct > 0 {
			words = "+" + words
		}
		words = strings.Replace(words, "-", "−", 1) + " %"
	}
	return words
}

func num(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
