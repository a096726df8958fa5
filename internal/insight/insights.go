package insight

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/stats"
)

// Insight is one recommendation with the numbers and the test behind it.
type Insight struct {
	// ID is the analysis (deploy_time_risk, …); Key names this insight
	// among that analysis's (id and subject).
	ID        string `json:"id"`
	Title     string `json:"title"`
	Key       string `json:"key"`
	Subject   string `json:"subject"`
	Statement string `json:"statement"`
	Numbers   []Num  `json:"numbers"`
	Test      string `json:"test"`
	// P is the test's p-value when it has one.
	P      *float64 `json:"p,omitempty"`
	Action string   `json:"action"`
}

// Num is one number an insight rests on.
type Num struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Quiet is an analysis that showed nothing, and why (no effect found, or
// too small a sample to say).
type Quiet struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Reason string `json:"reason"`
}

// Report is the insights as of a time.
type Report struct {
	AsOf     time.Time `json:"as_of"`
	TimeZone string    `json:"time_zone"`
	// Window is the window every analysis read when one was asked ("7d"),
	// and Month the calendar month it and AsOf cover ("2026-10"), as the
	// scorecard says them; left out when each read its own. They change
	// what is found, and the answer had not said them.
	Window   string    `json:"window,omitempty"`
	Month    string    `json:"month,omitempty"`
	Insights []Insight `json:"insights"`
	Quiet    []Quiet   `json:"quiet"`
}

// Analyses are the insight ids, in the order a report lists them.
var Analyses = []string{"deploy_time_risk", "recurring_after_release", "mttr_over_target", "canary_candidate", "kpi_retirement", "dora_outcomes"}

// Titles name the analyses for readers.
var Titles = map[string]string{
	"deploy_time_risk": "Deploy time risk", "recurring_after_release": "Recurring after release", "mttr_over_target": "MTTR over its bar",
	"canary_candidate": "Canary candidate", "kpi_retirement": "KPI retirement", "dora_outcomes": "DORA and outcomes",
}

// Options are what a report is computed for. Window, when set, replaces
// every analysis's configured window (--window).
type Options struct {
	AsOf    time.Time
	Window  time.Duration
	Visible func(*catalog.Metric) bool
}

// Compute runs every analysis. Visible hides the analyses of metrics the
// reader may not see (each analysis names the metrics it reads).
func Compute(cat *catalog.Catalog, ds *metrics.Dataset, st Settings, opt Options) Report {
	rep := Report{AsOf: opt.AsOf, TimeZone: st.Loc.String(), Insights: []Insight{}, Quiet: []Quiet{}}
	if opt.Window > 0 {
		rep.Window, rep.Month = catalog.FormatWindow(opt.Window), catalog.MonthField(opt.AsOf, opt.Window)
	}
	// Every analysis reads releases, failures and values as of opt.AsOf,
	// so under the settings in force then (production names, attribution
	// and impact windows, rates), as the metrics as of then are computed:
	// the callers pass the dataset of today's settings.
	ds = ds.At(opt.AsOf)
	a := &run{cat: cat, ds: ds, st: st, opt: opt, rep: &rep}
	for _, id := range Analyses {
		if !a.visible(reads[id]...) {
			continue
		}
		before := len(rep.Insights)
		why := analyses[id](a)
		if len(rep.Insights) == before {
			rep.Quiet = append(rep.Quiet, Quiet{ID: id, Title: Titles[id], Reason: why})
		}
	}
	return rep
}

// reads are the metrics whose visibility each analysis needs.
var reads = map[string][]string{
	"deploy_time_risk":        {"change_failure_rate"},
	"recurring_after_release": {"change_failure_rate", "incident_recurrence_rate"},
	"mttr_over_target":        {"mttr"},
	"canary_candidate":        {"release_impact_score"},
	"kpi_retirement":          {"csat", "logo_churn_rate", "open_escalations"},
	"dora_outcomes":           {"deployment_frequency", "lead_time_for_changes", "change_failure_rate", "mttr"},
}

var analyses = map[string]func(*run) string{
	"deploy_time_risk":        (*run).deployTimeRisk,
	"recurring_after_release": (*run).recurringAfterRelease,
	"mttr_over_target":        (*run).mttrOverTarget,
	"canary_candidate":        (*run).canaryCandidate,
	"kpi_retirement":          (*run).kpiRetirement,
	"dora_outcomes":           (*run).doraOutcomes,
}

type run struct {
	cat *catalog.Catalog
	ds  *metrics.Dataset
	st  Settings
	opt Options
	rep *Report
}

func (a *run) visible(ids ...string) bool {
	for _, id := range ids {
		m, ok := a.cat.Metric(id)
		if !ok || a.opt.Visible != nil && !a.opt.Visible(m) {
			return false
		}
	}
	return true
}

func (a *run) window(name string) time.Duration {
	if a.opt.Window > 0 {
		return a.opt.Window
	}
	return a.st.window(name)
}

func (a *run) add(in Insight) {
	in.Title = Titles[in.ID]
	a.rep.Insights = append(a.rep.Insights, in)
}

func pct(x float64) string { return fmt.Sprintf("%.0f %%", 100*x) }

// poss is a name's possessive.
func poss(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

// last names the span an analysis over window w read, after "in" or
// "over": a calendar month by its name ("October 2026"), which "the last
// 31 days" under October's heading had left to be worked out, else "the
// last 30 days".
func (a *run) last(w time.Duration) string {
	if m, ok := catalog.MonthOf(a.opt.AsOf, w); ok {
		return m.Words()
	}
	return "the last " + days(w)
}

// bands split a local day into the hours deployments are compared by.
var bands = []struct {
	from, to int
	name     string
}{{0, 6, "00:00–06:00"}, {6, 12, "06:00–12:00"}, {12, 15, "12:00–15:00"}, {15, 18, "15:00–18:00"}, {18, 24, "18:00–24:00"}}

func bandOf(h int) int {
	for i, b := range bands {
		if h >= b.from && h < b.to {
			return i
		}
	}
	return len(bands) - 1
}

// deployTimeRisk compares the change failure rate of production
// deployments finishing in each weekday × hour band (the organisation's
// time zone) with that of all others: a one-sided test
// (the band's failures as a binomial at the others' rate, exact upper
// tail) per band with at least min_sample deployments, Bonferroni-corrected over
// the bands tested, and a rate at least min_ratio times the rest's.
func (a *run) deployTimeRisk() string {
	c := a.st.Config.Insights.DeployTimeRisk
	w := a.window("deploy_time_risk.window")
	rels := a.ds.Releases(a.opt.AsOf.Add(-w), a.opt.AsOf)
	type cell struct{ n, failed int }
	var cells [7][5]cell
	total, failed := 0, 0
	for _, r := range rels {
		t := r.FinishedAt.In(a.st.Loc)
		c := &cells[t.Weekday()][bandOf(t.Hour())]
		c.n++
		total++
		if r.Failed != "" {
			c.failed++
			failed++
		}
	}
	tested := 0
	for d := range cells {
		for b := range cells[d] {
			if cells[d][b].n >= c.MinSample {
				tested++
			}
		}
	}
	if tested == 0 {
		return fmt.Sprintf("no weekday and hour band had %d production deployments in %s (%d in all)", c.MinSample, a.last(w), total)
	}
	level := c.Alpha / float64(tested)
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		for b, x := range cells[d] {
			if x.n < c.MinSample {
				continue
			}
			restN, restF := total-x.n, failed-x.failed
			rate, rest := float64(x.failed)/float64(x.n), float64(restF)/float64(max(restN, 1))
			p := stats.BinomialUpper(x.failed, x.n, rest)
			if p >= level || rest > 0 && rate/rest < c.MinRatio || rate == 0 {
				continue
			}
			ratio := math.Inf(1)
			if rest > 0 {
				ratio = rate / rest
			}
			when := fmt.Sprintf("%s %s", d, bands[b].name)
			pv := p
			a.add(Insight{
				ID: "deploy_time_risk", Key: "deploy_time_risk:" + strings.ToLower(d.String()[:3]) + ":" + bands[b].name, Subject: when,
				Statement: fmt.Sprintf("Production deployments on %s (%s) failed %s of the time (%d of %d), against %s (%d of %d) at other times: %.1f× as often, over %s.",
					when, a.st.Loc, pct(rate), x.failed, x.n, pct(rest), restF, restN, ratio, a.last(w)),
				Numbers: []Num{{"deployments", float64(x.n)}, {"failed", float64(x.failed)}, {"rate", rate}, {"other_deployments", float64(restN)},
					{"other_failed", float64(restF)}, {"other_rate", rest}, {"ratio", ratio}, {"bands_tested", float64(tested)}},
				Test: fmt.Sprintf("exact binomial upper tail of the band's failures at the rate of all other times, %s below %.2g (%.2g Bonferroni-divided by the %d weekday-hour bands with at least %d deployments)",
					stats.FormatP(p), level, c.Alpha, tested, c.MinSample),
				P:      &pv,
				Action: fmt.Sprintf("Set a scheduling policy against production deployments on %s, or a freeze window for it in the release gates (docs/gates.md).", when),
			})
		}
	}
	return fmt.Sprintf("no weekday and hour band's failure rate stood out (%d bands of at least %d deployments tested at %.2g, %d deployments in %s, %s failed)",
		tested, c.MinSample, level, total, a.last(w), pct(float64(failed)/float64(max(total, 1))))
}

// recurringAfterRelease finds incident categories that follow a service's
// releases more often than the organisation's releases overall: releases
// of the service followed (SPEC §2 attribution) by an incident of the
// category, against n × the organisation's share, a Poisson upper tail at
// the spike level, and at least min_releases of them.
func (a *run) recurringAfterRelease() string {
	c := a.st.Config.Insights.RecurringAfterRelease
	w := a.window("recurring_after_release.window")
	rels := a.ds.Releases(a.opt.AsOf.Add(-w), a.opt.AsOf)
	type key struct{ svc, cat string }
	hits := map[key][]string{}
	perCat := map[string]int{}
	perSvc := map[string]int{}
	for _, r := range rels {
		perSvc[r.Service]++
		seen := map[string]bool{}
		for _, i := range r.Incidents {
			if i.Category == "" || seen[i.Category] {
				continue
			}
			seen[i.Category] = true
			hits[key{r.Service, i.Category}] = append(hits[key{r.Service, i.Category}], r.ID)
			perCat[i.Category]++
		}
	}
	keys := make([]key, 0, len(hits))
	for k := range hits {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.svc, y.svc), cmp.Compare(x.cat, y.cat)) })
	alpha := a.st.Spike.Alpha
	if alpha == 0 {
		alpha = 0.01
	}
	// Every service and category seen is one test, whether or not it met
	// min_releases: choosing the tests by their counts would not lower the
	// chance of a false one.
	tested := len(perSvc) * len(perCat)
	level := alpha / float64(max(tested, 1))
	for _, k := range keys {
		ids := hits[k]
		n := perSvc[k.svc]
		if len(ids) < c.MinReleases {
			continue
		}
		// The organisation's share of releases followed by the category,
		// from the other services' releases so the service does not set
		// its own baseline.
		otherRel := len(rels) - n
		otherHits := perCat[k.cat] - len(ids)
		share := (float64(otherHits) + 0.5) / float64(otherRel+1)
		expected := share * float64(n)
		p := stats.PoissonUpper(len(ids), expected)
		if p >= level {
			continue
		}
		shown := ids
		if len(shown) > 5 {
			shown = shown[len(shown)-5:]
		}
		pv := p
		a.add(Insight{
			ID: "recurring_after_release", Key: "recurring_after_release:" + k.svc + ":" + k.cat, Subject: k.svc + " · " + k.cat,
			Statement: fmt.Sprintf("%s incidents followed %d of %s %d releases in %s (latest: %s); at the other services' rate %.1f were expected.",
				k.cat, len(ids), poss(k.svc), n, a.last(w), strings.Join(shown, ", "), expected),
			Numbers: []Num{{"releases", float64(n)}, {"followed", float64(len(ids))}, {"expected", expected}, {"other_share", share}},
			Test: fmt.Sprintf("Poisson upper tail of releases followed by the category against the other services' share, %s below %.2g (%.2g Bonferroni-divided by the %d services × categories); at least %d releases",
				stats.FormatP(p), level, alpha, tested, c.MinReleases),
			P:      &pv,
			Action: fmt.Sprintf("Widen the test scope of %s releases to cover %s (tests or checks in its pipeline that would catch these before production).", poss(k.svc), k.cat),
		})
	}
	return fmt.Sprintf("no incident category followed one service's releases more than the others' (%d releases in %s, %d pairs of a service and an incident category tested)", len(rels), a.last(w), tested)
}

// mttrTarget is mttr's target for a service: the metric's target, else
// its green threshold when that is absolute.
func mttrTarget(m *catalog.Metric, service string, tier int) (float64, bool) {
	if m.Target != nil {
		return *m.Target, true
	}
	t, _ := m.ThresholdsFor(service, tier)
	if t == nil || t.RelativeTo != "" {
		return 0, false
	}
	return t.Green, true
}

// mttrBar names what mttrTarget measures against, as the metric's page
// does: its target when it has one, else its green threshold — which the
// page shows as no target set, so calling it one read as a contradiction.
func mttrBar(m *catalog.Metric) string {
	if m.Target != nil {
		return "the MTTR target"
	}
	return "MTTR's green threshold (no target is set)"
}

// mttrOverTarget finds the services whose MTTR over the window exceeds
// the target by more than the configured fraction, on at least
// min_sample resolved incidents: one insight naming them all, worst
// first (one review of rollback procedures, not one per service).
func (a *run) mttrOverTarget() string {
	c := a.st.Config.Insights.MTTROverTarget
	w := a.window("mttr_over_target.window")
	// The target in force at as_of, as MTTR's status then is judged.
	m, _ := a.cat.MetricAt("mttr", a.opt.AsOf)
	type over struct {
		svc          string
		mttr, target float64
		over         float64
		incidents    int
	}
	var found []over
	small := 0
	for _, svc := range a.ds.DimValues("service") {
		tier := 0
		fmt.Sscan(a.ds.ServiceAttr(svc, "tier"), &tier)
		target, ok := mttrTarget(m, svc, tier)
		if !ok || target <= 0 {
			continue
		}
		r, err := a.ds.Compute("mttr", metrics.Query{AsOf: a.opt.AsOf, Window: w, Scope: metrics.Scope{Dim: "service", Value: svc}})
		if err != nil || r.Value == nil {
			continue
		}
		if r.Count < c.MinSample {
			small++
			continue
		}
		if x := *r.Value/target - 1; x > c.Over {
			found = append(found, over{svc, *r.Value, target, x, r.Count})
		}
	}
	slices.SortFunc(found, func(x, y over) int { return cmp.Or(cmp.Compare(y.over, x.over), cmp.Compare(x.svc, y.svc)) })
	if len(found) > 0 {
		var parts, names []string
		var nums []Num
		for _, f := range found {
			parts = append(parts, fmt.Sprintf("%s %.1f h against %.1f h (%s over, %d incidents)", f.svc, f.mttr, f.target, pct(f.over), f.incidents))
			names = append(names, f.svc)
			nums = append(nums, Num{f.svc + "_mttr_hours", f.mttr}, Num{f.svc + "_over", f.over})
		}
		subject := found[0].svc
		if len(found) > 1 {
			subject = fmt.Sprintf("%d services", len(found))
		}
		a.add(Insight{
			ID: "mttr_over_target", Key: "mttr_over_target:" + strings.Join(names, ","), Subject: subject,
			Statement: fmt.Sprintf("Restoring service took more than %s longer than %s over %s (median time to restore): %s.",
				pct(c.Over), mttrBar(m), a.last(w), strings.Join(parts, "; ")),
			Numbers: nums,
			Test:    fmt.Sprintf("median time to restore against %s, more than %s over, on at least %d resolved incidents", mttrBar(m), pct(c.Over), c.MinSample),
			Action:  fmt.Sprintf("Review the rollback procedures and runbooks of %s, worst first: can a bad release be rolled back in minutes, and is that rehearsed?", strings.Join(names, ", ")),
		})
	}
	if small > 0 {
		return fmt.Sprintf("no service with at least %d resolved incidents in %s was more than %s over %s (%d had fewer)", c.MinSample, a.last(w), pct(c.Over), mttrBar(m), small)
	}
	return fmt.Sprintf("no service was more than %s over %s in %s", pct(c.Over), mttrBar(m), a.last(w))
}

// canaryCandidate lists services whose releases spike more often than
// the other services' releases: the count of a service's releases with a
// spike against n × the others' spike share (a Poisson upper tail at the
// spike level), with a spike share of at least the threshold, over at
// least min_sample releases.
func (a *run) canaryCandidate() string {
	c := a.st.Config.Insights.CanaryCandidate
	w := a.window("canary_candidate.window")
	type acc struct {
		n, spikes int
		sum       float64
	}
	by := map[string]*acc{}
	total, spikes := 0, 0
	for _, r := range a.ds.ReleaseImpacts(metrics.Query{AsOf: a.opt.AsOf, Window: w}, a.st.Spike) {
		x := by[r.Service]
		if x == nil {
			x = &acc{}
			by[r.Service] = x
		}
		x.n++
		total++
		x.sum += r.Weighted
		if r.Spike.Flagged {
			x.spikes++
			spikes++
		}
	}
	svcs := make([]string, 0, len(by))
	for s := range by {
		svcs = append(svcs, s)
	}
	slices.Sort(svcs)
	alpha := a.st.Spike.Alpha
	if alpha == 0 {
		alpha = 0.01
	}
	for _, s := range svcs {
		x := by[s]
		share := float64(x.spikes) / float64(x.n)
		if x.n < c.MinSample || share < c.Threshold {
			continue
		}
		others := (float64(spikes-x.spikes) + 0.5) / float64(total-x.n+1)
		expected := others * float64(x.n)
		p := stats.PoissonUpper(x.spikes, expected)
		if p >= alpha {
			continue
		}
		pv := p
		a.add(Insight{
			ID: "canary_candidate", Key: "canary_candidate:" + s, Subject: s,
			Statement: fmt.Sprintf("%d of %s %d releases in %s were followed by a spike in customer tickets (%s), against %s of the other services' releases; its releases averaged %.1f weighted tickets.",
				x.spikes, poss(s), x.n, a.last(w), pct(share), pct(others), x.sum/float64(x.n)),
			Numbers: []Num{{"releases", float64(x.n)}, {"spikes", float64(x.spikes)}, {"spike_share", share}, {"other_share", others},
				{"expected", expected}, {"mean_weighted_tickets", x.sum / float64(x.n)}, {"threshold", c.Threshold}},
			Test: fmt.Sprintf("Poisson upper tail of releases with a spike against the other services' share, %s below %.2g; spike share at least %s on at least %d releases",
				stats.FormatP(p), alpha, pct(c.Threshold), c.MinSample),
			P:      &pv,
			Action: fmt.Sprintf("Move %s to canary releases: the release gate's canary policy asks for them while release impact is above target (docs/gates.md).", s),
		})
	}
	return fmt.Sprintf("no service's releases spiked more often than the others' (%d releases, %d spikes in %s)", total, spikes, a.last(w))
}
