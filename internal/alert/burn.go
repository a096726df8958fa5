package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/reconcile"
)

// BurnWindow is one window of a burn_rate rule: it fires when the error
// budget burns faster than Factor times the rate that would spend it
// exactly over the SLO period.
type BurnWindow struct {
	Window string  `yaml:"window" json:"window"`
	Factor float64 `yaml:"factor" json:"factor"`

	dur time.Duration
}

// BurnDefaults are the usual multiwindow fast-burn alerts (Google SRE
// workbook, "Alerting on SLOs"): 14.4× over an hour spends 2 % of a 30-day
// budget, 6× over six hours 5 %. The workbook confirms each with a window
// a twelfth as long (5 m, 30 m); Candor's SLIs are hourly at finest, so
// the long windows stand alone and an alert resolves at the first
// evaluation after the burn has slowed over the whole window.
func BurnDefaults() []BurnWindow {
	return []BurnWindow{{Window: "1h", Factor: 14.4, dur: time.Hour}, {Window: "6h", Factor: 6, dur: 6 * time.Hour}}
}

// BurnRate is how many times faster than sustainable a service spends its
// error budget: the error rate over the budget's (1 − target). avail and
// target are fractions (0.998, 0.999).
func BurnRate(avail, target float64) float64 {
	if target >= 1 {
		return 0
	}
	return (1 - avail) / (1 - target)
}

// DefaultEvery is how often a rule on m is evaluated when it says not:
// daily for cost and revenue metrics, which move by the day, hourly for
// the rest, pipeline metrics included (deals move within a day). m is nil
// for a rule on every metric or on none: hourly.
func DefaultEvery(m *catalog.Metric) time.Duration {
	if m == nil || strings.HasPrefix(m.ID, "pipeline") {
		return time.Hour
	}
	if m.Pillar == "cost" || m.Sensitivity == catalog.SensitivityRevenue {
		return 24 * time.Hour
	}
	return time.Hour
}

// burnObservations judges rule r for each service with an SLO target at
// asOf. A window ends at the last whole hour (an SLI counts only when its
// whole period is inside the window), and a window without SLIs says
// nothing. The observations are about error_budget_remaining, so routes
// and silences on that metric apply.
func burnObservations(cat *catalog.Catalog, ds *metrics.Dataset, r Rule, asOf time.Time) []Observation {
	end := asOf.Truncate(time.Hour)
	var names []string
	for name, s := range ds.Services {
		if s.SLOTarget > 0 && s.SLOTarget < 1 && (r.Scope == "" || r.Scope == "service:"+name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	owner := ""
	if m, ok := cat.Metric("error_budget_remaining"); ok {
		owner = m.Owner
	}
	var out []Observation
	for _, name := range names {
		target := ds.Services[name].SLOTarget
		scope, err := metrics.ParseScope("service:" + name)
		if err != nil {
			continue // a service id that is no scope cannot be asked about
		}
		o := Observation{Rule: r.Name, Metric: "error_budget_remaining", Scope: scope.String(), Owner: ds.Services[name].Owner,
			Severity: r.SeverityFor(string(catalog.Unknown)), Status: string(catalog.Unknown)}
		if o.Owner == "" {
			o.Owner = owner
		}
		var parts []string
		worst := -1.0
		for _, w := range r.Burn {
			res, err := ds.Compute("availability", metrics.Query{AsOf: end, Window: w.dur, Scope: scope})
			if err != nil || res.Value == nil {
				parts = append(parts, fmt.Sprintf("no SLIs over %s", w.Window))
				continue
			}
			b := BurnRate(*res.Value/100, target)
			fires := b > w.Factor
			o.Active = o.Active || fires
			if ratio := b / w.Factor; ratio > worst {
				worst = ratio
				o.Value, o.Target = num2(b), num2(w.Factor)
			}
			parts = append(parts, fmt.Sprintf("%.1f× over %s (alert over %s×)", b, w.Window, num(w.Factor)))
		}
		if o.Active {
			o.Status = string(catalog.Red)
		} else if worst >= 0 {
			o.Status = string(catalog.Green)
		}
		o.Summary = fmt.Sprintf("%s burns its error budget (SLO %s %%) at %s", name, num(target*100), strings.Join(parts, ", "))
		out = append(out, o)
	}
	return out
}

func num2(v float64) *float64 { return &v }

// ReconcileObservations judges the reconciliation rules on the kept
// results (reconcile.List: newest first): each metric's latest result
// fires a rule when its status is one of the rule's.
func ReconcileObservations(cat *catalog.Catalog, rules []Rule, results []reconcile.Result) []Observation {
	latest := map[string]reconcile.Result{}
	var ids []string
	for _, res := range results {
		if _, ok := latest[res.Metric]; !ok {
			latest[res.Metric] = res
			ids = append(ids, res.Metric)
		}
	}
	slices.Sort(ids)
	var out []Observation
	for _, r := range rules {
		if r.Kind != KindReconcile {
			continue
		}
		for _, id := range ids {
			res := latest[id]
			if r.Metric != "*" && r.Metric != id {
				continue
			}
			o := Observation{Rule: r.Name, Metric: id, Value: res.Actual, Target: num2(res.Expected), Status: string(res.Status), Severity: r.SeverityFor(string(res.Status))}
			if m, ok := cat.Metric(id); ok {
				o.Owner = m.Owner
			}
			o.Active = slices.Contains(r.Statuses, res.Status)
			diff := "no value to compare"
			if res.DifferencePct != nil {
				diff = fmt.Sprintf("differs by %+.2f %%", *res.DifferencePct)
			}
			o.Summary = fmt.Sprintf("%s %s from %s's figure %s (checked %s; tolerance %s %%, red over %s %%)", res.Name, diff,
				cmp.Or(res.Source, "the source"), num(res.Expected), res.CheckedAt.UTC().Format(time.RFC3339), num(res.TolerancePct.Green), num(res.TolerancePct.Amber))
			out = append(out, o)
		}
	}
	return out
}
