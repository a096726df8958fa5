package insight

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/stats"
)

// series is a metric's value in each of n consecutive periods ending at
// asOf, oldest first; NaN where it has none.
func (a *run) series(id string, scope metrics.Scope, period time.Duration, n int) []float64 {
	out := make([]float64, n)
	for i := range n {
		at := a.opt.AsOf.Add(-time.Duration(n-1-i) * period)
		// Each period under the settings in force at its end, as the
		// scorecard's weekly series computes it.
		r, err := a.ds.At(at).Compute(id, metrics.Query{AsOf: at, Window: period, Scope: scope})
		if err != nil || r.Value == nil {
			out[i] = math.NaN()
			continue
		}
		out[i] = *r.Value
	}
	return out
}

// pair correlates the periods where both series have a value.
func pair(xs, ys []float64) (stats.Correlation, bool) {
	var a, b []float64
	for i := range xs {
		if !math.IsNaN(xs[i]) && !math.IsNaN(ys[i]) {
			a = append(a, xs[i])
			b = append(b, ys[i])
		}
	}
	return stats.Pearson(a, b)
}

// customerOutcomes are the outcomes kpi_retirement correlates with.
var customerOutcomes = []string{"csat", "logo_churn_rate", "open_escalations"}

func (a *run) metricName(id string) string {
	if m, ok := a.cat.Metric(id); ok {
		return m.Name
	}
	return id
}

// kpiRetirement finds KPIs whose value, period by period, moved with none
// of the customer outcomes: |r| below max_r with every outcome that has a
// value in all N periods (at least two outcomes), the KPI having a value
// in all of them too.
func (a *run) kpiRetirement() string {
	c := a.st.Config.Insights.KPIRetirement
	period := a.st.window("kpi_retirement.period")
	n := c.Periods
	outs := map[string][]float64{}
	for _, o := range customerOutcomes {
		s := a.series(o, metrics.Scope{}, period, n)
		if complete(s) {
			outs[o] = s
		}
	}
	if len(outs) < 2 {
		return fmt.Sprintf("fewer than two customer outcomes (%s) have a value in each of the last %d periods of %s", strings.Join(customerOutcomes, ", "), n, days(period))
	}
	tested := 0
	ms := a.cat.MetricsInForce()
	for i := range ms {
		m := &ms[i]
		if isOutcome(m.ID) || !retirable(m) || a.opt.Visible != nil && !a.opt.Visible(m) {
			continue
		}
		xs := a.series(m.ID, metrics.Scope{}, period, n)
		if !complete(xs) {
			continue
		}
		tested++
		weak := true
		var nums []Num
		var parts []string
		for _, o := range customerOutcomes {
			ys, ok := outs[o]
			if !ok {
				continue
			}
			cr, ok := pair(xs, ys)
			if !ok || math.Abs(cr.R) >= c.MaxR {
				weak = false
				break
			}
			nums = append(nums, Num{"r_" + o, cr.R})
			parts = append(parts, fmt.Sprintf("%s r = %.2f", a.metricName(o), cr.R))
		}
		if !weak {
			continue
		}
		nums = append(nums, Num{"periods", float64(n)}, Num{"max_r", c.MaxR})
		a.add(Insight{
			ID: "kpi_retirement", Key: "kpi_retirement:" + m.ID, Subject: m.Name,
			Statement: fmt.Sprintf("%s did not move with customer outcomes over the last %d periods of %s (%s): a candidate for retirement.",
				m.Name, n, days(period), strings.Join(parts, "; ")),
			Numbers: nums,
			Test:    fmt.Sprintf("Pearson r per period, |r| below %.2f with every outcome, N = %d", c.MaxR, n),
			Action:  fmt.Sprintf("Propose retiring %s, or say what decision it informs (Definitions page).", m.Name),
		})
	}
	return fmt.Sprintf("each of the %d KPIs with a value in all %d periods moved with at least one customer outcome (a correlation of at least %.2f either way, |r| ≥ %.2f); ARR, MRR, retention, pipeline coverage and infrastructure cost are business results of their own and not weighed", tested, n, c.MaxR, c.MaxR)
}

// businessResults are the organisation's results in money — revenue,
// retention, pipeline and what it spends — outcomes in their own right,
// owned by finance: that ARR did not move with CSAT period by period says
// nothing about whether to keep it, and the insights page had proposed
// retiring ARR, MRR, infrastructure cost and pipeline coverage. The
// operational KPIs beside them (win rate, sales cycle, CAC, …) are weighed.
var businessResults = []string{"arr", "mrr", "nrr", "grr", "mrr_new", "mrr_reactivation", "mrr_expansion",
	"mrr_contraction", "mrr_churn", "pipeline_coverage", "infrastructure_cost"}

// retirable says whether kpi_retirement weighs a metric.
func retirable(m *catalog.Metric) bool {
	return !slices.Contains(businessResults, m.ID)
}

func isOutcome(id string) bool {
	for _, o := range customerOutcomes {
		if o == id {
			return true
		}
	}
	return false
}

func complete(s []float64) bool {
	for _, v := range s {
		if math.IsNaN(v) {
			return false
		}
	}
	return len(s) > 0
}

// doraMetrics and businessOutcomes are what dora_outcomes correlates.
var (
	doraMetrics      = []string{"deployment_frequency", "lead_time_for_changes", "change_failure_rate", "mttr"}
	businessOutcomes = []string{"csat", "logo_churn_rate", "nrr", "open_escalations"}
)

// doraOutcomes correlates each DORA metric with each business outcome,
// period by period, for the organisation and each team: shown when |r| ≥
// min_abs_r and p is below max_p Bonferroni-divided by the pairs tested,
// on at least min_sample periods. A correlation, never a cause.
func (a *run) doraOutcomes() string {
	c := a.st.Config.Insights.DORAOutcomes
	period := a.st.window("dora_outcomes.period")
	n := c.Periods
	scopes := []metrics.Scope{{}}
	for _, t := range a.ds.DimValues("team") {
		scopes = append(scopes, metrics.Scope{Dim: "team", Value: t})
	}
	type found struct {
		scope     metrics.Scope
		dora, out string
		cr        stats.Correlation
	}
	var hits []found
	pairs := 0
	for _, sc := range scopes {
		outs := map[string][]float64{}
		for _, o := range businessOutcomes {
			if a.visible(o) {
				outs[o] = a.series(o, sc, period, n)
			}
		}
		for _, dm := range doraMetrics {
			xs := a.series(dm, sc, period, n)
			for _, o := range businessOutcomes {
				ys, ok := outs[o]
				if !ok {
					continue
				}
				cr, ok := pair(xs, ys)
				if !ok || cr.N < c.MinSample {
					continue
				}
				pairs++
				hits = append(hits, found{sc, dm, o, cr})
			}
		}
	}
	if pairs == 0 {
		return fmt.Sprintf("no DORA metric and business outcome both had values in %d of the last %d periods of %s", c.MinSample, n, days(period))
	}
	level := c.MaxP / float64(pairs)
	for _, h := range hits {
		if math.Abs(h.cr.R) < c.MinAbsR || h.cr.P >= level {
			continue
		}
		who := "the organisation"
		if h.scope.Dim != "" {
			who = "team " + h.scope.Value
		}
		dir := "rose and fell with"
		if h.cr.R < 0 {
			dir = "moved against"
		}
		pv := h.cr.P
		a.add(Insight{
			ID: "dora_outcomes", Key: fmt.Sprintf("dora_outcomes:%s:%s:%s", strings.TrimPrefix(who, "team "), h.dora, h.out), Subject: who + ": " + a.metricName(h.dora) + " · " + a.metricName(h.out),
			Statement: fmt.Sprintf("For %s, %s %s %s over the last %d periods of %s (r = %.2f, 95 %% interval %.2f to %.2f). This is a correlation, not evidence that one causes the other.",
				who, a.metricName(h.out), dir, a.metricName(h.dora), h.cr.N, days(period), h.cr.R, h.cr.Low, h.cr.High),
			Numbers: []Num{{"r", h.cr.R}, {"ci_low", h.cr.Low}, {"ci_high", h.cr.High}, {"periods", float64(h.cr.N)}},
			Test:    fmt.Sprintf("%s, %s below %.2g (%.2g Bonferroni-divided by the %d pairs tested), |r| at least %.2f", h.cr.Method, stats.FormatP(h.cr.P), level, c.MaxP, pairs, c.MinAbsR),
			P:       &pv,
			Action:  fmt.Sprintf("Discuss in the executive review whether %s is worth investing in for %s; look for a cause before acting on it.", a.metricName(h.dora), a.metricName(h.out)),
		})
	}
	// In words first ("|r| ≥ 0.50 at p below 0.0042" alone was jargon
	// to the executive the page is for), the test's terms after.
	return fmt.Sprintf("no DORA metric moved with a business outcome: none of the %d pairs tested had a correlation of at least %.2f either way that chance alone would give less often than %s (|r| ≥ %.2f, p below %.2g)",
		pairs, c.MinAbsR, strings.TrimPrefix(stats.Chance(level), "about "), c.MinAbsR, level)
}
