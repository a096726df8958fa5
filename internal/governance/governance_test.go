package governance

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// start is the tests' first clock reading: data runs to it.
var start = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

// org is 30 days of the api service: 4 production deployments a day, one in
// four failed (change failure rate 25 %, red: green ≤ 5, amber ≤ 15), and 2
// a day to an "edge" environment that is not production unless the
// settings say so; an incident of another service keeps the incident data
// fresh without being attributed to a deployment.
func org() string {
	var b strings.Builder
	b.WriteString(`{"kind":"service","id":"api","name":"API","team":"core"}` + "\n")
	b.WriteString(`{"kind":"service","id":"db","name":"DB","team":"data"}` + "\n")
	for d := range 30 {
		day := start.Add(-time.Duration(30-d) * 24 * time.Hour)
		for k := range 4 {
			status := "success"
			if k == 0 {
				status = "failure"
			}
			fmt.Fprintf(&b, `{"kind":"deployment","id":"d%d-%d","service":"api","environment":"production","finished_at":%q,"status":%q}`+"\n",
				d, k, day.Add(time.Duration(k)*time.Hour).Format(time.RFC3339), status)
		}
		for k := range 2 {
			fmt.Fprintf(&b, `{"kind":"deployment","id":"e%d-%d","service":"api","environment":"edge","finished_at":%q,"status":"success"}`+"\n",
				d, k, day.Add(time.Duration(10+k)*time.Hour).Format(time.RFC3339))
		}
	}
	fmt.Fprintf(&b, `{"kind":"incident","id":"i1","service":"db","severity":"P3","opened_at":%q,"resolved_at":%q}`+"\n",
		start.Add(-48*time.Hour).Format(time.RFC3339), start.Add(-47*time.Hour).Format(time.RFC3339))
	return b.String()
}

type fixture struct {
	st  store.Store
	eng *engine.Engine
	cat *catalog.Catalog
	reg *Registry
	now time.Time
}

func newFixture(t *testing.T, cfg config.Config) *fixture {
	t.Helper()
	return newFixtureFrom(t, cfg, initial(t, cfg, nil))
}

// newFixtureFrom is newFixture whose store's first start records first
// (a set the configuration may no longer load, as an older release
// recorded it).
func newFixtureFrom(t *testing.T, cfg config.Config, first Initial) *fixture {
	t.Helper()
	st := sqlitetest.Open(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	if _, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "org.ndjson", Reader: strings.NewReader(org())}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	mcfg, err := cfg.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, eng: engine.New(st, mcfg), cat: base.Governed(), now: start}
	f.reg = &Registry{Docs: st, Catalog: f.cat, Engine: f.eng, Config: cfg, Now: func() time.Time { return f.now }}
	if err := f.reg.Init(context.Background(), first); err != nil {
		t.Fatalf("the first start: %v", err)
	}
	return f
}

// emptyRegistry is a registry of the default configuration over a new,
// empty store, with nothing recorded yet.
func emptyRegistry(t *testing.T) (*Registry, store.Store) {
	t.Helper()
	st := sqlitetest.Open(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	mcfg, _ := config.Default().EngineConfig()
	return &Registry{Docs: st, Catalog: base.Governed(), Engine: engine.New(st, mcfg), Config: config.Default(), Now: func() time.Time { return start }}, st
}

func initial(t *testing.T, cfg config.Config, env map[string]string) Initial {
	t.Helper()
	s, err := cfg.Governed()
	if err != nil {
		t.Fatal(err)
	}
	return Initial{Metrics: cfg.Metrics, Settings: s, Env: env, Source: "test"}
}

// card evaluates a metric at t as the pages do.
func (f *fixture) card(t *testing.T, id string, at time.Time) scorecard.Card {
	t.Helper()
	m, _ := f.cat.Metric(id)
	var c scorecard.Card
	if err := f.eng.Read(context.Background(), func(ds *metrics.Dataset) error {
		c = scorecard.Evaluate(ds, m, scorecard.Options{AsOf: at}, metrics.Scope{}, true)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) propose(t *testing.T, in Input, by string) *View {
	t.Helper()
	v, err := f.reg.Propose(context.Background(), in, by)
	if err != nil {
		t.Fatalf("propose %+v: %v", in, err)
	}
	return v
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

const (
	ann = "user:ann@example.com"
	bob = "user:bob@example.com"
	cat = "user:cat@example.com"
)

func TestProposerCannotApproveOwnProposal(t *testing.T) {
	f := newFixture(t, config.Default())
	v := f.propose(t, Input{Metric: "mttr", Changes: raw(`{"owner": "Reliability Lead"}`), Reason: "SRE owns recovery"}, ann)
	_, err := f.reg.Decide(context.Background(), v.ID, Approve, "looks right", ann)
	if !errors.Is(err, ErrOwnProposal) || domain.CodeOf(err) != domain.EForbidden {
		t.Fatalf("own approval: %v, want %v (403)", err, ErrOwnProposal)
	}
	if m, _ := f.cat.Metric("mttr"); m.At(f.now).Owner == "Reliability Lead" {
		t.Fatal("the proposer's own approval put the change in force")
	}
	got, err := f.reg.Decide(context.Background(), v.ID, Approve, "looks right", bob)
	if err != nil || got.Status != Approved {
		t.Fatalf("another executive's approval: %+v %v", got, err)
	}
	if _, err := f.reg.Decide(context.Background(), v.ID, Reject, "too late", cat); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("deciding a decided proposal: %v", err)
	}
}

func TestLooseningARedMetricNeedsTwoApprovers(t *testing.T) {
	f := newFixture(t, config.Default())
	if c := f.card(t, "change_failure_rate", f.now); c.Status != catalog.Red {
		t.Fatalf("fixture: change_failure_rate is %s (%s), want red", c.Status, c.Reason)
	}
	v := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"thresholds": {"green": 30, "amber": 40}}`), Reason: "our bar is unrealistic"}, ann)
	if v.Needed != 2 || len(v.Loosens) == 0 || v.Before.Status != catalog.Red || v.Before.Version != 1 {
		t.Fatalf("proposal: needs %d, loosens %v, before %+v", v.Needed, v.Loosens, v.Before)
	}
	f.now = start.Add(time.Hour)
	one, err := f.reg.Decide(context.Background(), v.ID, Approve, "fine by me", bob)
	if err != nil {
		t.Fatal(err)
	}
	if one.Status != Open || len(one.Approvals) != 1 {
		t.Fatalf("after one approval: %s with %d approvals", one.Status, len(one.Approvals))
	}
	if c := f.card(t, "change_failure_rate", f.now); c.Status != catalog.Red || c.Thresholds.Green != 5 {
		t.Fatalf("one approval loosened a red metric: %s, green %v", c.Status, c.Thresholds.Green)
	}
	if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "again", bob); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("a second approval by the same executive: %v", err)
	}
	approvedAt := start.Add(2 * time.Hour)
	f.now = approvedAt
	two, err := f.reg.Decide(context.Background(), v.ID, Approve, "agreed", cat)
	if err != nil || two.Status != Approved {
		t.Fatalf("second executive: %+v %v", two, err)
	}
	// As of before the approval the old definition judges; after it, the new.
	if c := f.card(t, "change_failure_rate", approvedAt.Add(-time.Minute)); c.Status != catalog.Red || c.Version != 1 {
		t.Errorf("as of before the approval: %s version %d, want red under version 1", c.Status, c.Version)
	}
	if c := f.card(t, "change_failure_rate", approvedAt); c.Status != catalog.Green || c.Version != 2 || c.Cites.Definition != 2 {
		t.Errorf("as of the approval: %s version %d cites %+v, want green under version 2", c.Status, c.Version, c.Cites)
	}
	// A stricter change of a red metric needs one approval.
	s := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"thresholds": {"green": 20, "amber": 30}}`), Reason: "tighten"}, ann)
	if s.Needed != 1 || len(s.Loosens) != 0 {
		t.Errorf("a stricter change: needs %d, loosens %v", s.Needed, s.Loosens)
	}
}

// A metric that turns red after a loosening was proposed still needs two
// approvals: the rule holds while it is red, not only when proposed.
func TestRedAtApprovalCounts(t *testing.T) {
	f := newFixture(t, config.Default())
	v := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"window": "7d"}`), Reason: "shorter"}, ann)
	if v.Needed != 1 {
		t.Fatalf("a shorter window needs %d", v.Needed)
	}
	tick := func() { f.now = f.now.Add(time.Hour) }
	approve := func(id int64, by string) *View {
		t.Helper()
		tick()
		got, err := f.reg.Decide(context.Background(), id, Approve, "ok", by)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Lenient bounds (two approvals, it is red) make it green.
	lenient := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"thresholds": {"green": 30, "amber": 40}}`), Reason: "r"}, ann)
	approve(lenient.ID, bob)
	if approve(lenient.ID, cat).Status != Approved {
		t.Fatal("the lenient bounds are not in force")
	}
	tick()
	if c := f.card(t, "change_failure_rate", f.now); c.Status != catalog.Green {
		t.Fatalf("under lenient bounds: %s", c.Status)
	}
	// Green: a longer window needs one approval when proposed …
	w := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"window": "90d"}`), Reason: "smoother"}, ann)
	if w.Needed != 1 || len(w.Loosens) == 0 {
		t.Fatalf("a longer window of a green metric: needs %d, loosens %v", w.Needed, w.Loosens)
	}
	// … but the metric turns red again (stricter bounds, one approval) …
	strict := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"thresholds": {"green": 5, "amber": 15}}`), Reason: "back"}, ann)
	if approve(strict.ID, bob).Status != Approved {
		t.Fatal("a stricter change needs one approval")
	}
	tick()
	if c := f.card(t, "change_failure_rate", f.now); c.Status != catalog.Red {
		t.Fatalf("under strict bounds: %s", c.Status)
	}
	// … so one approval no longer puts the longer window in force.
	if got := approve(w.ID, bob); got.Status != Open || len(got.Approvals) != 1 || got.Needed != 2 {
		t.Fatalf("one approval of a loosening while red: %s, %d approvals of %d", got.Status, len(got.Approvals), got.Needed)
	}
	if got := approve(w.ID, cat); got.Status != Approved {
		t.Errorf("the second executive's approval: %s", got.Status)
	}
}

func TestWeeklySeriesUsesTheDefinitionAtEachPoint(t *testing.T) {
	f := newFixture(t, config.Default())
	// min_sample 20 from 10 days ago: the weekly points ending before keep 5.
	f.now = start.Add(-10 * 24 * time.Hour)
	v := f.propose(t, Input{Metric: "change_failure_rate", Changes: raw(`{"min_sample": 40}`), Reason: "more evidence"}, ann)
	if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "ok", bob); err == nil {
		t.Log("approved with one executive")
	}
	v, _ = f.reg.Get(context.Background(), v.ID)
	for v.Status == Open {
		if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "ok", cat); err != nil {
			t.Fatal(err)
		}
		v, _ = f.reg.Get(context.Background(), v.ID)
	}
	c := f.card(t, "change_failure_rate", start)
	last, early := c.Series[len(c.Series)-1], c.Series[len(c.Series)-3]
	if !strings.Contains(last.Reason, "needs 40") || last.Count >= 40 {
		t.Errorf("the last point (after the change): %+v", last)
	}
	if early.Reason != "" {
		t.Errorf("a point before the change judged under the new min_sample: %+v", early)
	}
}

func TestSettingProposalAppliesFromItsApproval(t *testing.T) {
	f := newFixture(t, config.Default())
	deploys := func(at time.Time) float64 {
		c := f.card(t, "deployment_frequency", at)
		return *c.Value * 30
	}
	// Deployment frequency counts the successful ones: 3 a day.
	if got := deploys(start); got != 90 {
		t.Fatalf("fixture: %v successful production deployments in 30 days, want 90", got)
	}
	v := f.propose(t, Input{Setting: "production_environments", Value: raw(`["production", "edge"]`), Reason: "edge serves customers"}, ann)
	if string(v.Before.Setting) != "null" {
		t.Errorf("the setting before: %s", v.Before.Setting)
	}
	approvedAt := start.Add(time.Hour)
	f.now = approvedAt
	if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "yes", bob); err != nil {
		t.Fatal(err)
	}
	if got := deploys(approvedAt.Add(-time.Minute)); got != 90 {
		t.Errorf("as of before the approval: %v, want 90", got)
	}
	if got := deploys(approvedAt); got != 150 {
		t.Errorf("as of the approval: %v, want 150 (edge is production)", got)
	}
	if c := f.card(t, "deployment_frequency", approvedAt); c.Cites.Settings == f.card(t, "deployment_frequency", start).Cites.Settings {
		t.Error("the citations of values under two settings have one settings hash")
	}
	if _, err := f.reg.Propose(context.Background(), Input{Setting: "min_sample", Value: raw(`3`), Reason: "x"}, ann); domain.CodeOf(err) != domain.EInvalid {
		t.Errorf("min_sample as a setting: %v", err)
	}
	if _, err := f.reg.Propose(context.Background(), Input{Setting: "attribution_window", Value: raw(`12`), Reason: "x"}, ann); err == nil || !strings.Contains(err.Error(), "attribution_window") {
		t.Errorf("a bad value: %v", err)
	}
}

func TestRetiredMetricKeepsHistoryAndLastStatus(t *testing.T) {
	f := newFixture(t, config.Default())
	v := f.propose(t, Input{Metric: "deployment_duration", Changes: raw(`{"retire": true}`), Reason: "nobody uses it"}, ann)
	if v.Needed != 1 {
		t.Fatalf("retiring a metric that is not red needs %d", v.Needed)
	}
	f.now = start.Add(time.Hour)
	if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "agreed", bob); err != nil {
		t.Fatal(err)
	}
	var sc *scorecard.Scorecard
	f.eng.Read(context.Background(), func(ds *metrics.Dataset) error {
		sc = scorecard.Build(f.cat, ds, scorecard.Options{AsOf: f.now})
		return nil
	})
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if c.ID == "deployment_duration" {
				t.Error("a retired metric is on the scorecard")
			}
		}
	}
	c := f.card(t, "deployment_duration", f.now.Add(24*time.Hour))
	if c.Retired == nil || !c.Retired.Equal(f.now) {
		t.Errorf("retired card: %+v", c.Retired)
	}
	h, err := f.reg.MetricHistory(context.Background(), "deployment_duration")
	if err != nil || len(h.Versions) != 2 || !h.Versions[1].Retired || h.Versions[1].Proposal != v.ID || len(h.Versions[1].Approvals) != 1 {
		t.Fatalf("history: %+v %v", h, err)
	}
	if _, err := f.reg.Propose(context.Background(), Input{Metric: "deployment_duration", Changes: raw(`{"owner": "x"}`), Reason: "x"}, ann); err == nil || !strings.Contains(err.Error(), "retired") {
		t.Errorf("changing a retired metric: %v", err)
	}
}

func TestInitialSetIsRecordedOnceAndGuarded(t *testing.T) {
	cfg := config.Default()
	cfg.Metrics = map[string]catalog.Override{"mttr": {Owner: "Reliability Lead"}}
	f := newFixture(t, cfg)
	if m, _ := f.cat.Metric("mttr"); m.At(time.Time{}.Add(time.Hour)).Owner != "Reliability Lead" {
		t.Error("the initial override is not in force from the start")
	}
	// The same configuration starts again.
	if err := f.reg.Init(context.Background(), initial(t, cfg, nil)); err != nil {
		t.Fatal(err)
	}
	edited := cfg
	edited.Metrics = map[string]catalog.Override{"mttr": {Owner: "CTO"}}
	err := f.reg.Init(context.Background(), initial(t, edited, nil))
	var ce *ChangedError
	if !errors.As(err, &ce) || len(ce.Metrics) != 1 || ce.Metrics[0] != "mttr" || !strings.Contains(err.Error(), "candor catalog propose") {
		t.Fatalf("an edited override: %v", err)
	}
	env := cfg
	env.Currency = "EUR"
	err = f.reg.Init(context.Background(), initial(t, env, map[string]string{"currency": "CANDOR_CURRENCY"}))
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "currency (set by CANDOR_CURRENCY)") {
		t.Fatalf("a variable overriding a governed setting: %v", err)
	}
	// Proposals and decisions are chained in the ledger.
	v := f.propose(t, Input{Metric: "mttr", Changes: raw(`{"owner": "VP Engineering"}`), Reason: "r"}, ann)
	if _, err := f.reg.Decide(context.Background(), v.ID, Reject, "no", bob); err != nil {
		t.Fatal(err)
	}
	var types []string
	f.st.LedgerScan(context.Background(), 1, 0, func(r store.LedgerRow) error {
		types = append(types, r.Type)
		return nil
	})
	if got := strings.Join(types, ","); !strings.HasSuffix(got, "proposal,proposal,decision") {
		t.Errorf("ledger entries: %s", got)
	}
	res, err := ledger.Verify(context.Background(), f.st, ledger.VerifyOptions{Keys: []ed25519.PublicKey{ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)}})
	if err != nil || res.Broken != nil {
		t.Errorf("verify: %+v %v", res, err)
	}
}

func TestProposalInputIsChecked(t *testing.T) {
	f := newFixture(t, config.Default())
	for _, tc := range []struct {
		in    Input
		param string
	}{
		{Input{Metric: "mttr", Changes: raw(`{"owner": "x"}`)}, "reason"},
		{Input{Metric: "mttr", Changes: raw(`{"treshold": 1}`), Reason: "r"}, "changes.treshold"},
		{Input{Metric: "mttr", Changes: raw(`{"retire": true, "owner": "x"}`), Reason: "r"}, "changes.retire"},
		{Input{Metric: "mttr", Changes: raw(`{"window": "-1d"}`), Reason: "r"}, "changes"},
		{Input{Reason: "r"}, "metric"},
		{Input{Setting: "currency", Value: raw(`"euro"`), Reason: "r"}, "value"},
	} {
		_, err := f.reg.Propose(context.Background(), tc.in, ann)
		var de *domain.Error
		if !errors.As(err, &de) || de.Param != tc.param {
			t.Errorf("%+v: %v, want a problem with %s", tc.in, err, tc.param)
		}
	}
	// A key mistyped inside thresholds is told the thresholds' keys, not
	// the top-level fields (thresholds among them); a value of the wrong
	// type is worded as the other bodies word theirs, without Go's struct
	// names.
	for changes, want := range map[string]string{
		`{"thresholds": {"gren": 5, "amber": 2}}`: `changes.thresholds.gren: unknown field (changes.thresholds takes green, amber, relative_to)`,
		`{"target": "x"}`:                         `changes.target: must be a number, not a JSON string`,
		`{"thresholds": {"green": "5"}}`:          `changes.thresholds.green: must be a number, not a JSON string`,
		`{"owner": 5}`:                            `changes.owner: must be a string, not a JSON number`,
		`{"degrading_exempt": ["x", 1]}`:          `changes.degrading_exempt.1: must be a string, not a JSON number`,
		`{"thresholds_by_tier": {"1": []}}`:       `changes.thresholds_by_tier.1: must be an object, not a JSON array`,
	} {
		_, err := f.reg.Propose(context.Background(), Input{Metric: "mttr", Changes: raw(changes), Reason: "r"}, ann)
		var de *domain.Error
		if !errors.As(err, &de) || err.Error() != want || !strings.HasPrefix(want, de.Param+": ") {
			t.Errorf("changes %s: %v, want %q", changes, err, want)
		}
	}
	// An unknown metric is the body's fault, as a reconciliation's: a 400
	// naming metric and the closest known one.
	_, err := f.reg.Propose(context.Background(), Input{Metric: "change_failure_rat", Changes: raw(`{"owner": "x"}`), Reason: "r"}, ann)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EInvalid || de.Param != "metric" || !strings.Contains(de.Message, "(did you mean change_failure_rate?)") {
		t.Errorf("unknown metric: %v", err)
	}
	if _, err := f.reg.Propose(context.Background(), Input{Metric: "mttr", Changes: raw(`{"window": "30d"}`), Reason: "r"}, ann); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("a change that changes nothing: %v", err)
	}
}

// A setting written out at its default is not a change of the rules, in
// either direction: a first start without it and a later one with the
// documented default (the example configuration's attribution_window:
// 24h) had refused every command. A value that is its own default but
// changes another setting's is a change, and the refusal says from what
// to what.
func TestInitialSettingAtItsDefaultIsNoChange(t *testing.T) {
	f := newFixture(t, config.Default())
	at := config.Default()
	at.AttributionWindow = "24h"
	if err := f.reg.Init(context.Background(), initial(t, at, nil)); err != nil {
		t.Fatalf("attribution_window written out at its default: %v", err)
	}
	day := config.Default()
	day.AttributionWindow = "1d"
	if err := f.reg.Init(context.Background(), initial(t, day, map[string]string{"attribution_window": "CANDOR_ATTRIBUTION_WINDOW"})); err != nil {
		t.Fatalf("the default in other units, from the environment: %v", err)
	}
	other := config.Default()
	other.AttributionWindow = "12h"
	err := f.reg.Init(context.Background(), initial(t, other, nil))
	var ce *ChangedError
	if !errors.As(err, &ce) || len(ce.Settings) != 1 || !strings.Contains(err.Error(), `attribution_window: not set (its default) at first start, now "12h"`) {
		t.Fatalf("a real change: %v", err)
	}
	// The default list of production environments drops the default
	// aliases (prod, prd, live taken as production): other rules.
	prod := config.Default()
	prod.ProductionEnvironments = []string{"production", "prod", "prd", "live"}
	if err := f.reg.Init(context.Background(), initial(t, prod, nil)); !errors.As(err, &ce) || !strings.Contains(err.Error(), "production_environments: not set") {
		t.Fatalf("the default production names without their aliases: %v", err)
	}

	// A store whose first start recorded the default written out (as
	// this version's predecessors did) starts without it.
	reg, _ := emptyRegistry(t)
	legacy := initial(t, config.Default(), nil)
	legacy.Settings["attribution_window"] = json.RawMessage(`"24h"`)
	if err := reg.Init(context.Background(), legacy); err != nil {
		t.Fatal(err)
	}
	if err := reg.Init(context.Background(), initial(t, config.Default(), nil)); err != nil {
		t.Fatalf("the recorded default, now left out: %v", err)
	}
	if err := reg.Init(context.Background(), initial(t, other, nil)); !errors.As(err, &ce) || !strings.Contains(err.Error(), `attribution_window: "24h" at first start, now "12h"`) {
		t.Fatalf("a change from the recorded default: %v", err)
	}
}

// A setting's proposal gets the checks its value gets in the
// configuration file, with the other settings in force: an organisation
// currency outside ISO 4217 ("XYZ"), or one the stored money has no
// exchange rate into, had been accepted and on approval turned every
// money metric unknown. A metric's target gets the catalog's checks (a
// negative ARR target). A proposal of a setting left at its default says
// what the default is, where it had said "null".
func TestProposalsAreCheckedAsTheConfigurationIs(t *testing.T) {
	f := newFixture(t, config.Default())
	if _, err := ingest.Import(context.Background(), f.st, []ingest.Source{{Name: "cost.ndjson", Reader: strings.NewReader(
		`{"kind":"cost","id":"c1","service":"api","category":"compute","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1200,"currency":"USD"}` + "\n")}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in          Input
		param, says string
	}{
		{Input{Setting: "currency", Value: raw(`"XYZ"`), Reason: "r"}, "value", `currency: "XYZ" is not an ISO 4217 code`},
		{Input{Setting: "currency", Value: raw(`"EUR"`), Reason: "r"}, "value", "currency: \"EUR\" would leave the stored money in USD with no exchange rate into EUR"},
		{Input{Setting: "gross_margin", Value: raw(`1.5`), Reason: "r"}, "value", "gross_margin: 1.5 must be in (0, 1]"},
		{Input{Metric: "arr", Changes: raw(`{"target": -5}`), Reason: "r"}, "changes", "target: -5 must be greater than zero"},
	} {
		_, err := f.reg.Propose(context.Background(), tc.in, ann)
		var de *domain.Error
		if !errors.As(err, &de) || de.Param != tc.param || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%+v: %v, want a problem with %s saying %q", tc.in, err, tc.param, tc.says)
		}
	}
	// With a rate approved the currency can change: the check reads the
	// rates in force, not the file's.
	v := f.propose(t, Input{Setting: "exchange_rates", Value: raw(`{"USD": 0.92}`), Reason: "board reports in euros"}, ann)
	if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "yes", bob); err != nil {
		t.Fatal(err)
	}
	v = f.propose(t, Input{Setting: "currency", Value: raw(`"EUR"`), Reason: "board reports in euros"}, ann)
	if string(v.Before.Setting) != "null" || string(v.Before.Effective) != `"USD"` {
		t.Errorf("before the currency proposal: setting %s, effective %s; want null and \"USD\"", v.Before.Setting, v.Before.Effective)
	}
	v = f.propose(t, Input{Setting: "gross_margin", Value: raw(`0.7`), Reason: "audited margin"}, ann)
	if string(v.Before.Effective) != "0.8" {
		t.Errorf("before the gross margin proposal: effective %s, want the default 0.8", v.Before.Effective)
	}
}

// A store whose first start recorded an exchange rate under a key that is
// no currency code (EURO, before such keys were refused at load) opens
// with the file's rates without it, and proposals work: the recorded rate
// converts nothing and is left out. It had been refused by every
// configuration — with EURO as not a code, without it as a change of the
// recorded set — and by every proposal. A proposal of such a key is still
// refused.
func TestRecordedRateOfNoCurrencyIsLeftOut(t *testing.T) {
	clean := config.Default()
	clean.ExchangeRates = map[string]float64{"EUR": 1.08}
	old := initial(t, clean, nil)
	old.Settings["exchange_rates"] = raw(`{"EUR": 1.08, "EURO": 1.1}`)
	f := newFixtureFrom(t, clean, old)
	if err := f.reg.Init(context.Background(), initial(t, clean, nil)); err != nil {
		t.Fatalf("the rates without EURO on the old store: %v", err)
	}
	if _, err := f.reg.Propose(context.Background(), Input{Setting: "attribution_window", Value: raw(`"12h"`), Reason: "x"}, ann); err != nil {
		t.Errorf("another setting's proposal beside the recorded EURO: %v", err)
	}
	if _, err := f.reg.Propose(context.Background(), Input{Setting: "exchange_rates", Value: raw(`{"EUR": 1.1, "EURO": 1.2}`), Reason: "x"}, ann); err == nil || !strings.Contains(err.Error(), `"EURO" is not an ISO 4217 code`) {
		t.Errorf("a proposal of EURO: %v", err)
	}
}

// A setting's proposal whose value is the one in force — the default or
// the configuration's, recorded by no proposal, however written — changes
// nothing: a 409, as a metric's does. The value it changes from is
// written as the configuration writes it ("1d", not Go's nanoseconds),
// so a value read can be proposed back.
func TestSettingProposalChangingNothing(t *testing.T) {
	f := newFixture(t, config.Default())
	for _, in := range []Input{
		{Setting: "currency", Value: raw(`"USD"`)},
		{Setting: "attribution_window", Value: raw(`"24h"`)},
		{Setting: "attribution_window", Value: raw(`"1d"`)},
		{Setting: "vulnerability_sla", Value: raw(`{"critical": "7d", "high": "30d", "medium": "90d", "low": "120d"}`)},
	} {
		in.Reason = "same"
		_, err := f.reg.Propose(context.Background(), in, ann)
		if domain.CodeOf(err) != domain.EConflict || !strings.Contains(err.Error(), "the proposal changes nothing: "+in.Setting+" is already ") {
			t.Errorf("%s %s: %v, want a conflict: it changes nothing", in.Setting, in.Value, err)
		}
	}
	v, err := f.reg.Propose(context.Background(), Input{Setting: "attribution_window", Value: raw(`"48h"`), Reason: "longer"}, ann)
	if err != nil {
		t.Fatal(err)
	}
	// As the pages write it (catalog.FormatWindow): whole days in days.
	if got := string(v.Before.Effective); got != `"1d"` {
		t.Errorf("before.effective = %s, want \"1d\"", got)
	}
	// Proposed back as read.
	if _, err := f.reg.Propose(context.Background(), Input{Setting: "attribution_window", Value: v.Before.Effective, Reason: "back"}, ann); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("the effective value read, proposed back: %v, want a conflict (it is the value in force)", err)
	}
}
