package scorecard

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

func notRevenue(m *catalog.Metric) bool { return !m.RevenueSensitive() }

func cardIDs(sc *Scorecard) []string {
	var ids []string
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Hidden metrics are not on the scorecard at all: no card, no pillar left
// empty, no headline, and no DORA overall level from fewer than four keys.
func TestBuildVisible(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org+sales)
	all := Build(cat, ds, Options{AsOf: asOf})
	sc := Build(cat, ds, Options{AsOf: asOf, Visible: notRevenue})
	for _, p := range sc.Pillars {
		if p.ID == "growth" {
			t.Errorf("the growth pillar is shown to a viewer without revenue metrics")
		}
		for _, c := range p.Metrics {
			if m, _ := cat.Metric(c.ID); m.RevenueSensitive() {
				t.Errorf("revenue metric %s shown", c.ID)
			}
		}
	}
	if got, want := len(sc.Pillars), len(all.Pillars)-1; got != want {
		t.Errorf("%d pillars, want %d", got, want)
	}
	for _, id := range sc.Headline {
		if m, _ := cat.Metric(id); m.RevenueSensitive() {
			t.Errorf("revenue headline %s", id)
		}
	}
	// The hand catalog's thresholds give org all four DORA levels (TestDORA).
	hand, hds := handCatalog(t), load(t, metrics.DefaultConfig(), org)
	if Build(hand, hds, Options{AsOf: asOf}).DORA.Overall == "" {
		t.Fatal("org has no DORA overall level to hide")
	}
	noCFR := Build(hand, hds, Options{AsOf: asOf, Visible: func(m *catalog.Metric) bool { return m.ID != "change_failure_rate" }})
	if noCFR.DORA.Overall != "" {
		t.Errorf("DORA overall %q from three keys", noCFR.DORA.Overall)
	}
	if _, ok := noCFR.DORA.Keys["change_failure_rate"]; ok {
		t.Error("the hidden key's level is shown")
	}
}

// A scope leaves out the metrics that cannot be broken down by its
// dimension and narrows the others.
func TestBuildScope(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org)
	scope, err := metrics.ParseScope("team:core")
	if err != nil {
		t.Fatal(err)
	}
	sc := Build(cat, ds, Options{AsOf: asOf, Scope: scope})
	ids := cardIDs(sc)
	if len(ids) == 0 {
		t.Fatal("a team scope left no metric")
	}
	for _, id := range ids {
		if !slices.Contains(metrics.Dims(id), "team") {
			t.Errorf("%s cannot be broken down by team but is on a team-scoped scorecard", id)
		}
	}
	if slices.Contains(ids, "arr") {
		t.Error("arr (no team breakdown) on a team-scoped scorecard")
	}
	// Each card is the scope's value, as the drill-down computes it.
	m, _ := cat.Metric("deployment_frequency")
	want := Evaluate(ds, m, Options{AsOf: asOf}, scope, false)
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if c.ID == m.ID && fmtPtr(c.Value) != fmtPtr(want.Value) {
				t.Errorf("scoped deployment_frequency = %s, want %s", fmtPtr(c.Value), fmtPtr(want.Value))
			}
		}
	}
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "nil"
	}
	return FormatValue(v, "", "")
}

// A role view leaves out hidden metrics and the sections that would show
// their numbers.
func TestViewVisible(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), org+sales)
	hide := func(ids ...string) func(*catalog.Metric) bool {
		return func(m *catalog.Metric) bool { return !slices.Contains(ids, m.ID) }
	}
	vr, err := View(cat, ds, "cro", Options{AsOf: asOf, Visible: hide("arr", "quota_attainment")})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range vr.Metrics {
		if m.Card.ID == "arr" || m.Card.ID == "quota_attainment" {
			t.Errorf("hidden %s in the CRO view", m.Card.ID)
		}
	}
	if vr.QuotaPace != nil || slices.Contains(vr.Sections, "quota_pace") {
		t.Error("quota pace shown with quota attainment hidden")
	}
	if vr.Pipeline == nil {
		t.Error("the pipeline went with quota attainment")
	}
	ceo, err := View(cat, ds, "ceo", Options{AsOf: asOf, Visible: notRevenue})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ceo.Pillars {
		if p.ID == "growth" {
			t.Error("the CEO view's pillars section shows growth to a viewer without revenue")
		}
	}
}

// A drill-down shown without revenue keeps its subscription rows but not
// their MRR, and leaves the cached result whole for the next viewer.
func TestHideAmounts(t *testing.T) {
	const book = `{"kind":"subscription","id":"s1","customer":"acme","plan":"pro","mrr":7345.5,"started_at":"2026-01-01T00:00:00Z"}
{"kind":"subscription","id":"s2","customer":"beta","plan":"pro","mrr":812,"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-03-15T00:00:00Z"}`
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), book)
	detail := func() *MetricDetail {
		d, err := Detail(cat, ds, "logo_churn_rate", Options{AsOf: asOf}, "", metrics.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		d.Page(ds, 0, 100)
		return d
	}
	d := detail()
	if len(d.Records) == 0 {
		t.Fatal("no rows behind logo churn")
	}
	d.HideAmounts(func(k domain.Kind) bool { return k == domain.KindSubscription })
	for _, r := range d.Records {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), "7345") || strings.Contains(string(b), "812") || r.Value != nil {
			t.Errorf("row shows an amount: %s", b)
		}
		if !strings.Contains(string(b), `"customer"`) || !strings.Contains(string(b), `"mrr":null`) {
			t.Errorf("row lost its identity or shape: %s", b)
		}
	}
	b, _ := json.Marshal(detail().Records)
	if !strings.Contains(string(b), `"mrr":812`) {
		t.Errorf("hiding amounts changed the cached rows: %s", b)
	}
	// A page described and written for a viewer who sees amounts is kept
	// for the next reader; one who may not gets them hidden all the same.
	seen := detail()
	if b, err := seen.AppendJSONIndent(nil); err != nil || !strings.Contains(string(b), "7345") {
		t.Fatalf("the page for a viewer of revenue: %s (%v)", b, err)
	}
	hidden := detail()
	hidden.HideAmounts(func(k domain.Kind) bool { return k == domain.KindSubscription })
	for _, write := range []func([]byte) ([]byte, error){hidden.AppendJSON, hidden.AppendJSONIndent} {
		if b, err := write(nil); err != nil || strings.Contains(string(b), "7345") || strings.Contains(string(b), "812") {
			t.Errorf("the kept page showed amounts to a viewer without revenue: %s (%v)", b, err)
		}
	}

	// Before Page the rows are the result cache's own: hiding copies them.
	whole, err := Detail(cat, ds, "mrr", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	whole.HideAmounts(func(k domain.Kind) bool { return k == domain.KindSubscription })
	values := func(rs []metrics.Ref) (n int) {
		for _, r := range rs {
			if r.Value != nil {
				n++
			}
		}
		return n
	}
	if n := values(whole.Records); n != 0 {
		t.Errorf("%d MRR rows show their value to a viewer without revenue", n)
	}
	cached, err := Detail(cat, ds, "mrr", Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if n := values(cached.Records); n == 0 {
		t.Errorf("hiding amounts before Page blanked the cached rows' values (%d with one)", n)
	}
	// A viewer who may see every amount gets the page as it is: no copy
	// (a drill-down's 1,000 rows a request, docs/performance.md).
	page := detail()
	if n := testing.AllocsPerRun(10, func() { page.HideAmounts(func(domain.Kind) bool { return false }) }); n != 0 {
		t.Errorf("hiding nothing allocated %.0f times a call, want 0", n)
	}
}

// `candor metric --by` lists a breakdown in the order the metric page does
// (ReadingOrder): worst first, the line without a value last, where it
// kept the breakdown's alphabetical order; by tier, tier order.
func TestDetailTextBreakdownWorstFirst(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	d := &MetricDetail{Card: Card{ID: "change_failure_rate", Name: "Change failure rate", Unit: "%", Better: "lower"}, By: "service",
		Breakdown: []BreakdownLine{{Key: "(none)", Status: catalog.Unknown}, {Key: "accounts", Value: v(3), Status: catalog.Green, Count: 9},
			{Key: "checkout", Value: v(31), Status: catalog.Red, Count: 9}, {Key: "search", Value: v(14), Status: catalog.Amber, Count: 9}}}
	order := func() []string {
		var keys []string
		text := DetailText(d, TextOptions{})
		for _, l := range strings.Split(text[strings.Index(text, "By "):], "\n")[1:] {
			if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(l, "  ") {
				keys = append(keys, f[0])
			} else {
				break
			}
		}
		return keys
	}
	if got := strings.Join(order(), ","); got != "checkout,search,accounts,(none)" {
		t.Errorf("by service: %s, want checkout,search,accounts,(none)", got)
	}
	// A line's count is its cases, as the pages say, not "records".
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "RED      (n = 9)") || strings.Contains(text, "records)") {
		t.Errorf("a line's cases:\n%s", text)
	}
	d.By = "tier"
	if got := strings.Join(order(), ","); got != "(none),accounts,checkout,search" {
		t.Errorf("by tier: %s, want the breakdown's own order", got)
	}
}

// A role view's text lists a breakdown worst first, as the page and
// `candor metric --by` do: alphabetical, the lines past maxViewLines (15)
// could be the worst. A reason every line gives is said once above them.
func TestViewTextBreakdownWorstFirst(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	own := "no target set: 30 is the organisation's target, and a service is judged only against a target of its own"
	var lines []BreakdownLine
	for i := range 17 {
		lines = append(lines, BreakdownLine{Key: fmt.Sprintf("svc-%02d", i), Value: v(float64(i)), Status: catalog.Unknown, Count: 9, Reason: own, NoOwnTarget: true})
	}
	vr := &ViewResult{Name: "Support", Metrics: []ViewMetric{{Card: Card{ID: "release_impact_score", Name: "Release impact score", Better: "lower"}, By: "service", Breakdown: lines}}}
	text := ViewText(vr, TextOptions{})
	i := strings.Index(text, "by service:\n")
	if i < 0 {
		t.Fatalf("no breakdown:\n%s", text)
	}
	rest := strings.Split(text[i:], "\n")[1:]
	if strings.TrimSpace(rest[0]) != "every line: "+own {
		t.Errorf("the shared reason is not said once above the lines: %q", rest[0])
	}
	// Worst first; the room past them goes to the worst and the best alike
	// (PanelLines), the two between left out where they would stand.
	if !strings.HasPrefix(strings.TrimSpace(rest[1]), "svc-16 ") || !strings.HasPrefix(strings.TrimSpace(rest[8]), "svc-09 ") ||
		!strings.Contains(rest[9], "… 2 more between these") || !strings.HasPrefix(strings.TrimSpace(rest[16]), "svc-00 ") {
		t.Errorf("not worst first, or the worst cut:\n%s", strings.Join(rest[:17], "\n"))
	}
	if strings.Count(text, own) != 1 {
		t.Errorf("the shared reason is repeated %d times", strings.Count(text, own))
	}
	// Lines giving different reasons keep their own.
	lines[3].Reason = "too few cases"
	if text := ViewText(vr, TextOptions{}); strings.Contains(text, "every line:") || !strings.Contains(text, "too few cases") {
		t.Errorf("different reasons:\n%s", text)
	}
}
