package alert

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/reconcile"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
)

func defaultCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestBurnRate(t *testing.T) {
	cases := []struct{ avail, target, want float64 }{
		{0.999, 0.999, 1},
		{0.9856, 0.999, 14.4},
		{1, 0.999, 0},
		{0.994, 0.999, 6},
		{0.5, 1, 0}, // a 100 % target has no budget to burn: no rate
	}
	for _, c := range cases {
		if got := BurnRate(c.avail, c.target); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("BurnRate(%v, %v) = %v, want %v", c.avail, c.target, got, c.want)
		}
	}
}

// sliSet is a dataset with one service (SLO 99.9 %) reporting hourly SLIs
// whose error rates are errs, the last ending at end.
func sliSet(end time.Time, errs ...float64) *metrics.Dataset {
	ds := metrics.NewDataset(metrics.DefaultConfig())
	ds.Apply(&domain.Service{Meta: domain.Meta{ID: "payments", Source: "t"}, Name: "payments", Owner: "pay-lead", SLOTarget: 0.999}, time.Time{})
	for i, e := range errs {
		start := end.Add(time.Duration(i-len(errs)) * time.Hour)
		ds.Apply(&domain.SLI{Meta: domain.Meta{ID: "s" + start.Format("15"), Source: "t"}, Service: "payments",
			PeriodStart: start, PeriodEnd: start.Add(time.Hour), Good: 10000 * (1 - e), Total: 10000}, time.Time{})
	}
	ds.Prepare()
	return ds
}

// The multiwindow defaults: 14.4× over the last hour or 6× over six hours
// fires; a window without SLIs says nothing; the window ends at the last
// whole hour, so an evaluation at 12:40 judges 06:00–12:00.
func TestBurnObservations(t *testing.T) {
	cat := defaultCatalog(t)
	rules, err := Compile([]Rule{{Name: "burn", Kind: KindBurnRate}}, cat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		errs   []float64 // hourly error rates, oldest first, the last ending at 12:00
		active bool
		says   string
	}{
		{"quiet", []float64{0.0005, 0.0005, 0.0005, 0.0005, 0.0005, 0.0005}, false, "0.5× over 1h"},
		{"fast burn in the last hour", []float64{0, 0, 0, 0, 0, 0.02}, true, "20.0× over 1h"},
		{"just under 14.4× in the hour, under 6× over six", []float64{0, 0, 0, 0, 0, 0.0143}, false, "14.3× over 1h"},
		{"slow burn over six hours", []float64{0.007, 0.007, 0.007, 0.007, 0.007, 0.007}, true, "7.0× over 6h"},
		{"no SLIs", nil, false, "no SLIs over 1h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := burnObservations(cat, sliSet(end, c.errs...), rules[0], end.Add(40*time.Minute))
			if len(obs) != 1 {
				t.Fatalf("%d observations, want one for payments: %+v", len(obs), obs)
			}
			o := obs[0]
			if o.Active != c.active || !strings.Contains(o.Summary, c.says) || o.Scope != "service:payments" || o.Owner != "pay-lead" || o.Metric != "error_budget_remaining" {
				t.Errorf("got %+v; want active %v saying %q", o, c.active, c.says)
			}
		})
	}
}

func TestReconcileObservations(t *testing.T) {
	cat := defaultCatalog(t)
	rules, err := Compile([]Rule{{Name: "rec", Kind: KindReconcile, Metric: "*"}, {Name: "rec_red", Kind: KindReconcile, Metric: "arr", Statuses: []catalog.Status{catalog.Red}}}, cat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pct := func(v float64) *float64 { return &v }
	// Newest first, as reconcile.List returns them: arr's latest is amber
	// (an older red one no longer counts), pipeline's is green.
	results := []reconcile.Result{
		{Metric: "arr", Name: "ARR", Expected: 1000, Actual: pct(1015), DifferencePct: pct(1.5), Status: catalog.Amber, Source: "finance", CheckedAt: at, TolerancePct: reconcile.Tolerance{Green: 1, Amber: 2}},
		{Metric: "pipeline_value", Name: "Pipeline", Expected: 50, Actual: pct(50), DifferencePct: pct(0), Status: catalog.Green, CheckedAt: at},
		{Metric: "arr", Name: "ARR", Expected: 1000, Actual: pct(1100), DifferencePct: pct(10), Status: catalog.Red, CheckedAt: at.Add(-time.Hour)},
	}
	got := map[string]bool{}
	for _, o := range ReconcileObservations(cat, rules, results) {
		got[o.Rule+"/"+o.Metric] = o.Active
		if o.Rule == "rec" && o.Metric == "arr" && !strings.Contains(o.Summary, "differs by +1.50 % from finance's figure 1000") {
			t.Errorf("summary %q", o.Summary)
		}
	}
	want := map[string]bool{"rec/arr": true, "rec/pipeline_value": false, "rec_red/arr": false}
	if len(got) != len(want) {
		t.Fatalf("observations %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s active %v, want %v", k, got[k], v)
		}
	}
}

func TestRuleSchedules(t *testing.T) {
	cat := defaultCatalog(t)
	rules, err := Compile(append(Defaults(), Rule{Name: "own", Kind: KindThreshold, Metric: "arr", Op: "<", Value: 1, Every: "15m"}), cat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	every := map[string]time.Duration{}
	for _, r := range rules {
		every[r.Name] = r.EveryDuration()
	}
	for name, want := range map[string]time.Duration{"pipeline_coverage_low": time.Hour, "arr_behind_target": 24 * time.Hour,
		"metric_red": time.Hour, "error_budget_burn": time.Hour, "own": 15 * time.Minute} {
		if every[name] != want {
			t.Errorf("%s every %v, want %v", name, every[name], want)
		}
	}
	if _, err := Compile([]Rule{{Name: "x", Kind: KindStale, Metric: "*", Every: "soon"}}, cat, "f.yaml", nil); err == nil || !strings.Contains(err.Error(), "every") {
		t.Errorf("bad every: %v", err)
	}
	// The leader's ticks: the hourly rule at the first tick of each hour,
	// the daily one at the first of each UTC day.
	svc := &Service{Rules: []Rule{
		{Name: "hourly", Kind: KindStale, every: time.Hour},
		{Name: "daily", Kind: KindShortfall, every: 24 * time.Hour},
	}}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ticks := []struct {
		at   time.Duration
		want string
	}{
		{9 * time.Hour, "hourly daily"}, // first evaluation after a start: all
		{9*time.Hour + 30*time.Minute, ""},
		{10*time.Hour + 5*time.Minute, "hourly"},
		{10*time.Hour + 59*time.Minute, ""},
		{23*time.Hour + 59*time.Minute, "hourly"},
		{24*time.Hour + time.Minute, "hourly daily"},
	}
	for _, tk := range ticks {
		var names []string
		for _, r := range svc.due(day.Add(tk.at), svc.Rules) {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, " "); got != tk.want {
			t.Errorf("at %v due %q, want %q", tk.at, got, tk.want)
		}
	}
}

func TestBurnRuleChecked(t *testing.T) {
	cat := defaultCatalog(t)
	_, err := Compile([]Rule{{Name: "b", Kind: KindBurnRate, Metric: "arr", Scope: "team:core", Burn: []BurnWindow{{Window: "5m", Factor: 14.4}, {Window: "1h"}}}}, cat, "alerts.yaml", nil)
	for _, want := range []string{"metric", "scope", "burn[0].window", "burn[1].factor"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error on %s, got %v", want, err)
		}
	}
}

// An alert of a rule that is not due stands; when the rule is due again
// and its condition has cleared, the alert resolves.
func TestNotDueAlertsStand(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "daily", Kind: KindShortfall, Metric: "arr", Value: 100, every: 24 * time.Hour}}
	svc := &Service{Store: db, Engine: engine.New(db, metrics.DefaultConfig()), Catalog: defaultCatalog(t), Rules: rules, Timing: DefaultTiming,
		Now: func() time.Time { return now }, last: map[string]time.Time{"daily": now.Add(-time.Hour)}}
	obs := []Observation{{Rule: "daily", Metric: "arr", Active: true, Summary: "ARR is short"}}
	if err := svc.update(ctx, now, rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		as, err := svc.List(ctx)
		if err != nil || len(as) != 1 {
			t.Fatalf("%v %+v", err, as)
		}
		return as[0].State
	}
	now = now.Add(5 * time.Hour)
	if err := svc.Evaluate(ctx, scorecard.Options{}); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != Firing {
		t.Errorf("not due: %s, want it to stand firing", s)
	}
	now = now.Add(12 * time.Hour) // the next UTC day: due; an empty store has no ARR
	if err := svc.Evaluate(ctx, scorecard.Options{}); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != Resolved {
		t.Errorf("due again: %s, want resolved", s)
	}
}

// After an ingest the quarantine and staleness rules are judged again,
// at most once a minute, and only when records arrived; the other rules'
// alerts stand.
func TestAfterIngest(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	eng := engine.New(st, metrics.DefaultConfig())
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "rows", Kind: KindQuarantine}, {Name: "stale", Kind: KindStale, Metric: "*"}, {Name: "daily", Kind: KindShortfall, Metric: "arr", Value: 100, every: 24 * time.Hour}}
	svc := &Service{Store: st, Engine: eng, Catalog: defaultCatalog(t), Rules: rules, Timing: DefaultTiming, Now: func() time.Time { return now }}
	obs := []Observation{{Rule: "daily", Metric: "arr", Active: true, Summary: "ARR is short"}}
	if err := svc.update(ctx, now, rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	ingestOne := func(id string) {
		in := `{"kind":"ticket","id":"` + id + `","customer":"acme","created_at":"2026-03-01T00:00:00Z"}` + "\n"
		if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "in.ndjson", Reader: strings.NewReader(in)}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := eng.Refresh(ctx); err != nil { // the server's follower does this
			t.Fatal(err)
		}
	}
	steps := []struct {
		after  time.Duration
		ingest string
		want   bool
	}{
		{0, "", false}, // no records yet
		{10 * time.Second, "", false},
		{2 * time.Minute, "t1", true},
		{2*time.Minute + 30*time.Second, "t2", false}, // a minute has not passed
		{3*time.Minute + 30*time.Second, "", true},    // t2 is judged now
		{5 * time.Minute, "", false},
	}
	for _, s := range steps {
		now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(s.after)
		if s.ingest != "" {
			ingestOne(s.ingest)
		}
		got, err := svc.AfterIngest(ctx, nil)
		if err != nil || got != s.want {
			t.Errorf("at +%v: evaluated %v (%v), want %v", s.after, got, err, s.want)
		}
	}
	as, err := svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rulesSeen := map[string]string{}
	for _, a := range as {
		rulesSeen[a.Rule] = a.State
	}
	if rulesSeen["daily"] != Firing || rulesSeen["stale"] == "" {
		t.Errorf("states by rule %v: the daily rule's should stand firing, the stale rule judged", rulesSeen)
	}
}
