package scorecard

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// sales adds a quota period and opportunities to org. The quota period is
// [03-01, 05-01), 61 days, so as of 03-31 30/61 of it has elapsed; ann won
// w1 (400 of her 1,000 quota): attainment 40 %, 9.18 points behind pace.
// Open at as_of: o1 proposal (10 d, 100), o2 proposal (30 d, 300), o3
// prospecting (2 d, 50), o4 prospecting (0.5 d, 20).
const sales = `
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-03-01T00:00:00Z","period_end":"2026-05-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"w1","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":400,"stage":"closed_won","owner":"ann","closed_at":"2026-03-20T00:00:00Z","won":true}
{"kind":"opportunity","id":"o1","created_at":"2026-03-21T00:00:00Z","amount":100,"stage":"proposal","owner":"ann"}
{"kind":"opportunity","id":"o2","created_at":"2026-03-01T00:00:00Z","amount":300,"stage":"proposal","owner":"ann"}
{"kind":"opportunity","id":"o3","created_at":"2026-03-29T00:00:00Z","amount":50,"stage":"prospecting","owner":"bob"}
{"kind":"opportunity","id":"o4","created_at":"2026-03-30T12:00:00Z","amount":20,"stage":"prospecting","owner":"bob"}
`

// The CRO view shows the open pipeline by stage with its ageing, and quota
// attainment against the elapsed share of the period.
func TestCROViewPipelineAndPace(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org+sales)
	vr, err := View(cat, ds, "cro", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	p := vr.Pipeline
	if p == nil {
		t.Fatalf("CRO view without its pipeline by stage")
	}
	if p.Open != 4 || p.Amount == nil || *p.Amount != 470 || len(p.Stages) != 2 {
		t.Fatalf("pipeline = %+v", p)
	}
	pro, prop := p.Stages[0], p.Stages[1]
	if pro.Stage != "prospecting" || pro.Count != 2 || *pro.Amount != 70 || !approx(pro.MedianAgeDays, 1.25) || pro.OldestAgeDays != 2 || pro.Oldest.ID != "o3" {
		t.Errorf("prospecting = %+v", pro)
	}
	if prop.Stage != "proposal" || prop.Count != 2 || *prop.Amount != 400 || prop.MedianAgeDays != 20 || prop.OldestAgeDays != 30 || prop.Oldest.ID != "o2" {
		t.Errorf("proposal = %+v", prop)
	}

	q := vr.QuotaPace
	if q == nil {
		t.Fatalf("CRO view without quota pace")
	}
	if q.Attainment == nil || *q.Attainment != 40 || q.ElapsedShare == nil || !approx(*q.ElapsedShare, 100*30.0/61) ||
		q.Gap == nil || !approx(*q.Gap, 40-100*30.0/61) || q.Won == nil || *q.Won != 400 || q.Quota == nil || *q.Quota != 1000 ||
		q.PeriodStart == nil || q.PeriodStart.Format("2006-01-02") != "2026-03-01" || q.PeriodEnd.Format("2006-01-02") != "2026-05-01" {
		t.Errorf("quota pace = %+v", q)
	}
	// Its status is quota attainment's, judged against the elapsed share.
	for _, m := range vr.Metrics {
		if m.Card.ID == "quota_attainment" && (m.Card.Status != q.Status || m.Card.Reason != q.Reason) {
			t.Errorf("quota pace %s %q, card %s %q", q.Status, q.Reason, m.Card.Status, m.Card.Reason)
		}
	}

	text := ViewText(vr, TextOptions{})
	for _, want := range []string{
		"Open pipeline by stage: 4 opportunities, 470 USD",
		"prospecting", "proposal", "median age", "oldest",
		"Quota attainment 40 % with 49.18 % of the period elapsed (2026-03-01 to 2026-05-01): 9.18 points behind pace",
		"won 400 USD of a 1,000 USD quota",
		"No forecast",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("CRO text lacks %q:\n%s", want, text)
		}
	}
	var line string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "proposal") {
			line = l
		}
	}
	for _, want := range []string{"2", "400 USD", "20 d", "30 d", "import/o2"} {
		if !strings.Contains(line, want) {
			t.Errorf("proposal line %q lacks %q", line, want)
		}
	}

	b, _ := json.Marshal(vr)
	var doc struct {
		Sections []string `json:"sections"`
		Pipeline struct {
			Open   int
			Stages []struct {
				Stage         string
				MedianAgeDays float64 `json:"median_age_days"`
			}
		} `json:"pipeline_by_stage"`
		QuotaPace struct {
			Attainment   float64 `json:"attainment"`
			ElapsedShare float64 `json:"elapsed_share"`
		} `json:"quota_pace"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Pipeline.Open != 4 || doc.Pipeline.Stages[1].MedianAgeDays != 20 ||
		doc.QuotaPace.Attainment != 40 || !slices.Equal(doc.Sections, []string{"pipeline_by_stage", "quota_pace"}) {
		t.Errorf("JSON = %s (%v)", clipJSON(b), err)
	}
}

// Without revenue data the sections say so instead of showing zeros.
func TestCROViewWithoutSalesData(t *testing.T) {
	cat := defaultCatalog(t)
	vr, err := View(cat, load(t, metrics.DefaultConfig(), org), "cro", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if vr.Pipeline == nil || vr.Pipeline.Reason != "no opportunity data" || vr.Pipeline.Open != 0 {
		t.Errorf("pipeline = %+v", vr.Pipeline)
	}
	if q := vr.QuotaPace; q == nil || q.Attainment != nil || q.Status != catalog.Unknown || q.Reason == "" {
		t.Errorf("quota pace = %+v", q)
	}
	text := ViewText(vr, TextOptions{})
	for _, want := range []string{"Open pipeline by stage: no opportunity data", "Quota attainment: unknown ("} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// The CEO view shows every pillar's status as the scorecard has it, with
// the metrics that keep it from green.
func TestCEOViewPillars(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	vr, err := View(cat, ds, "ceo", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	sc := Build(cat, ds, Options{AsOf: asOf})
	if len(vr.Pillars) != len(sc.Pillars) {
		t.Fatalf("%d pillars, scorecard %d", len(vr.Pillars), len(sc.Pillars))
	}
	text := ViewText(vr, TextOptions{})
	for i, p := range sc.Pillars {
		got := vr.Pillars[i]
		if got.ID != p.ID || got.Name != p.Name || got.Status != p.Status || got.Metrics != len(p.Metrics) {
			t.Errorf("pillar %d = %+v, scorecard %s %s %d metrics", i, got, p.ID, p.Status, len(p.Metrics))
		}
		// Red first, then amber, then unknown, the pillar's order within
		// each: those that set its colour are named first.
		var want []string
		for _, st := range []catalog.Status{catalog.Red, catalog.Amber, catalog.Unknown} {
			for _, c := range p.Metrics {
				if c.Status == st {
					want = append(want, c.ID+" "+string(c.Status)+" "+c.Reason)
				}
			}
		}
		var have []string
		for _, a := range got.Attention {
			have = append(have, a.ID+" "+string(a.Status)+" "+a.Reason)
		}
		if !slices.Equal(have, want) {
			t.Errorf("%s attention = %v, want %v", p.ID, have, want)
		}
		if !strings.Contains(text, p.Name) {
			t.Errorf("text lacks pillar %s:\n%s", p.Name, text)
		}
	}
	// Delivery is red from deployment frequency, and the line says so; change
	// failure rate rests on four deployments, too few to colour it.
	var delivery string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "Delivery") && strings.Contains(l, "RED") {
			delivery = l
		}
	}
	for _, want := range []string{"Deployment frequency red", "Change failure rate unknown (too few cases (n = 4, needs 5))"} {
		if !strings.Contains(delivery, want) {
			t.Errorf("delivery line %q does not say %q:\n%s", delivery, want, text)
		}
	}
	if !strings.Contains(text, "Pillars:") {
		t.Errorf("text lacks the pillars section:\n%s", text)
	}
}

// Every section a catalog may name is built: a view listing them all (as
// an organisation's own could) shows each.
func TestEveryViewSectionBuilt(t *testing.T) {
	cat := defaultCatalog(t)
	cat.Views = append(cat.Views, catalog.View{ID: "all", Name: "All", Metrics: []string{"arr"}, Sections: catalog.ViewSections})
	vr, err := View(cat, load(t, metrics.DefaultConfig(), org+sales), "all", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(vr)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	for _, s := range catalog.ViewSections {
		if doc[s] == nil {
			t.Errorf("section %s not built", s)
		}
	}
	if !slices.Equal(vr.Sections, catalog.ViewSections) {
		t.Errorf("sections = %v", vr.Sections)
	}
	// A view without sections has none in its JSON.
	vr, _ = View(cat, load(t, metrics.DefaultConfig(), org), "support", Options{AsOf: asOf})
	b, _ = json.Marshal(vr)
	for _, s := range append([]string{"sections"}, catalog.ViewSections...) {
		if strings.Contains(string(b), `"`+s+`"`) {
			t.Errorf("support view JSON has %s", s)
		}
	}
}

// A role view's description promises only what the view shows: a
// description matching a pattern below must show what it names — a
// metric, a section ("section:…") or a breakdown ("by:…"), any of several
// when separated by "|". Patterns in lower case ignore case.
var viewPromises = []struct {
	pattern string
	needs   []string
}{
	{`pillar`, []string{"section:pillars"}},
	{`pipeline by stage`, []string{"section:pipeline_by_stage"}},
	{`stage ageing`, []string{"section:pipeline_by_stage"}},
	{`elapsed share`, []string{"section:quota_pace", "quota_attainment"}},
	{`attainment`, []string{"quota_attainment"}},
	{`coverage`, []string{"pipeline_coverage"}},
	{`win rate`, []string{"win_rate"}},
	{`sales cycle`, []string{"sales_cycle_length"}},
	{`velocity`, []string{"sales_velocity"}},
	{`\bARR\b`, []string{"arr"}},
	{`\bNRR\b`, []string{"nrr"}},
	{`\bGRR\b`, []string{"grr"}},
	{`expansion`, []string{"mrr_expansion|nrr"}},
	{`churn`, []string{"logo_churn_rate"}},
	{`escalation`, []string{"open_escalations"}},
	{`\bSLA\b`, []string{"sla_adherence"}},
	{`release impact`, []string{"release_impact_score"}},
	{`\bCSAT\b`, []string{"csat"}},
	{`\bNPS\b`, []string{"nps"}},
	{`\bCAC\b($|[^ ]| [^p])`, []string{"cac"}},
	{`\bCAC payback\b`, []string{"cac_payback_months"}},
	{`\bMQL\b`, []string{"mql_volume"}},
	{`conversion`, []string{"funnel_conversion"}},
	{`budget`, []string{"budget_variance"}},
	{`availability`, []string{"availability"}},
	{`incident`, []string{"incidents_p0_p1"}},
	{`vulnerabilit`, []string{"open_critical_vulnerabilities"}},
	{`\bDORA\b`, []string{"deployment_frequency", "lead_time_for_changes", "change_failure_rate", "failed_deployment_recovery_time"}},
	{`lead time goes|stacked bar`, []string{"section:flow_stages"}},
	{`waterfall|MRR bridge`, []string{"section:mrr_bridge"}},
	{`quick ratio`, []string{"quick_ratio"}},
	{`lifetime value`, []string{"ltv"}},
	{`at risk`, []string{"revenue_at_risk"}},
	{`per owner`, []string{"by:owner"}},
	{`by team`, []string{"by:team"}},
	{`by service`, []string{"by:service"}},
	{`by environment`, []string{"by:environment"}},
	{`by channel`, []string{"by:channel"}},
	{`by campaign`, []string{"by:campaign"}},
	{`by priority`, []string{"by:priority"}},
	{`by plan`, []string{"by:plan"}},
	{`by tier`, []string{"by:tier"}},
}

func TestViewDescriptionsPromiseOnlyWhatTheyShow(t *testing.T) {
	cat := defaultCatalog(t)
	for _, v := range cat.Views {
		has := map[string]bool{}
		for _, id := range v.Metrics {
			has[id] = true
		}
		for _, s := range v.Sections {
			has["section:"+s] = true
		}
		for _, dim := range v.Breakdowns {
			has["by:"+dim] = true
		}
		for _, p := range viewPromises {
			pat := p.pattern
			if strings.ToLower(pat) == pat {
				pat = "(?i)" + pat
			}
			if !regexp.MustCompile(pat).MatchString(v.Description) {
				continue
			}
			for _, n := range p.needs {
				if !slices.ContainsFunc(strings.Split(n, "|"), func(x string) bool { return has[x] }) {
					t.Errorf("view %s says %q but does not show %s: %q", v.ID, p.pattern, n, v.Description)
				}
			}
		}
		// A number Candor does not define is named as missing, not promised.
		if strings.Contains(strings.ToLower(v.Description), "forecast") && !strings.Contains(v.Description, "No forecast") {
			t.Errorf("view %s promises a forecast Candor does not define: %q", v.ID, v.Description)
		}
	}
}

// The CEO's pillar health is the scorecard's pillars, status and attention
// alike, though computed without the weekly series the panel does not show.
func TestCEOPillarsAreTheScorecards(t *testing.T) {
	cat := defaultCatalog(t)
	ds := metrics.NewDataset(metrics.DefaultConfig())
	end := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: 0.01, End: end}, func(r domain.Record) { ds.Apply(r, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	ds.Prepare()
	opt := Options{AsOf: end}
	vr, err := View(cat, ds, "ceo", opt)
	if err != nil {
		t.Fatal(err)
	}
	want := pillarStatuses(Build(cat, ds, opt))
	got, _ := json.Marshal(vr.Pillars)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("CEO pillars differ from the scorecard's:\n got %s\nwant %s", got, wantJSON)
	}
	if !strings.Contains(string(got), `"status":"red"`) || !strings.Contains(string(got), `"attention":[{`) {
		t.Errorf("the generated organisation does not exercise the pillars: %s", got)
	}
}

// An owner close to their quota has little of it left, and pipeline coverage divides by what is
// left: 981 of open pipeline over the 10 ann has left of her 1,000 is 98.1× — a real value, not
// a wrong period or unit. Each breakdown line carries what it divides (QuotaLeft), for pages to
// say why.
func TestPipelineCoverageQuotaLeft(t *testing.T) {
	const quarter = `
{"kind":"quota","id":"qa","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"quota","id":"qb","owner":"bob","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"wa","created_at":"2026-01-05T00:00:00Z","qualified_at":"2026-01-06T00:00:00Z","amount":990,"stage":"closed_won","owner":"ann","closed_at":"2026-02-20T00:00:00Z","won":true}
{"kind":"opportunity","id":"oa","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":981,"stage":"proposal","owner":"ann","close_date":"2026-03-31"}
{"kind":"opportunity","id":"ob","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":500,"stage":"proposal","owner":"bob","close_date":"2026-03-31"}
{"kind":"opportunity","id":"late","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":7000,"stage":"proposal","owner":"ann","close_date":"2026-04-01"}
`
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org+quarter)
	d, err := Detail(cat, ds, "pipeline_coverage", Options{AsOf: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}, "owner", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range d.Breakdown {
		got[l.Key] = "no quota left given"
		if q := l.QuotaLeft; q != nil {
			got[l.Key] = fmt.Sprintf("%s = %g ÷ %g left of %g %s", show(l.Value), q.Pipeline, q.Left, q.Quota, q.Currency)
		}
	}
	want := map[string]string{"ann": "98.1 = 981 ÷ 10 left of 1000 USD", "bob": "0.5 = 500 ÷ 1000 left of 1000 USD"}
	if !maps.Equal(got, want) {
		t.Errorf("lines = %v, want %v", got, want)
	}
}

// Every breakdown a built-in role view draws tells its lines apart on the
// generated organisation, which deploys to production under three of the
// default production names: a breakdown of one line is a bar that says
// nothing. The engineering view had drawn rollback rate by environment,
// and rollback rate counts production deployments only, which the default
// environment aliases make one environment: one bar, "production", where
// the view is read for which service rolls back most.
func TestViewBreakdownsTellLinesApart(t *testing.T) {
	cat := defaultCatalog(t)
	ds := metrics.NewDataset(metrics.DefaultConfig())
	end := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: 0.01, End: end}, func(r domain.Record) { ds.Apply(r, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	ds.Prepare()
	for _, v := range cat.Views {
		vr, err := View(cat, ds, v.ID, Options{AsOf: end})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range vr.Metrics {
			if m.By != "" && len(m.Breakdown) < 2 {
				t.Errorf("the %s view breaks %s down by %s into %d line(s): %+v", v.ID, m.Card.ID, m.By, len(m.Breakdown), m.Breakdown)
			}
		}
	}
}

// At the quota period's first instant nothing of it has gone: the pace is
// said not to be judged yet, never "on pace" under an unknown status.
func TestQuotaPaceAtThePeriodsStart(t *testing.T) {
	vr, err := View(defaultCatalog(t), load(t, metrics.DefaultConfig(), org+sales), "cro", Options{AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	q := vr.QuotaPace
	if q == nil || !q.JustBegun() {
		t.Fatalf("quota pace at the period's start = %+v, want it just begun", q)
	}
	if text := ViewText(vr, TextOptions{}); !strings.Contains(text, "with 0 % of the period elapsed (2026-03-01 to 2026-05-01): "+PeriodStartsNow) || strings.Contains(text, "on pace") {
		t.Errorf("the CRO view's text at the period's start:\n%s", text)
	}
}

// The pipeline section says which of the open pipeline coverage counts,
// with coverage's parts: the qualified deals closing in the quota period
// (o5, 900), over the quota left (1,000 − 400 won), 1.5×.
func TestPipelineSaysWhatCoverageCounts(t *testing.T) {
	q5 := `{"kind":"opportunity","id":"o5","created_at":"2026-03-10T00:00:00Z","qualified_at":"2026-03-11T00:00:00Z","close_date":"2026-04-15","amount":900,"stage":"negotiation","owner":"ann"}` + "\n"
	vr, err := View(defaultCatalog(t), load(t, metrics.DefaultConfig(), org+sales+q5), "cro", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	want := "Pipeline coverage counts the qualified ones closing by 30 Apr 2026: 1 opportunity, 900 USD, over the 600 USD of quota left, 1.5×."
	if vr.PipelineCoverage != want {
		t.Errorf("coverage note = %q, want %q", vr.PipelineCoverage, want)
	}
	if text := ViewText(vr, TextOptions{}); !strings.Contains(text, want) {
		t.Errorf("the CRO view's text lacks the coverage note:\n%s", text)
	}
}
