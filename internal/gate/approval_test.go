package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/metrics/metricstest"
	"github.com/candor/candor/internal/sqlite"
)

func openDocs(t testing.TB) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestSettleEscalation: an escalated decision is pending until an allowed
// approver (a role each escalating rule names; never its requester)
// approves or rejects it, once; the risk policy admits engineering, a CEL
// rule without approvers only executives.
func TestSettleEscalation(t *testing.T) {
	ctx := context.Background()
	st := openDocs(t)
	p := load(t, "canary: {enabled: false}\npolicies:\n  - {id: big, require: 'facts.changed_lines < 100', severity: escalate}\n  - {id: cab, require: 'change_request != \"\"', severity: escalate, approvers: [cab_member]}\n")
	rel := prod(facts(t, "coverage", "0.9", "risk_score", "90", "changed_lines", "10"))
	rel.ChangeRequest = "CHG-2"
	risky := p.Evaluate(rel, nil, now)
	both := p.Evaluate(prod(facts(t, "coverage", "0.9", "risk_score", "90", "changed_lines", "500")), nil, now)
	if risky.Decision != Escalate || !strings.Contains(strings.Join(verdict(t, risky, "risk").Approvers, ","), "engineering") {
		t.Fatalf("risky: %+v", risky)
	}
	r1, err := Record(ctx, st, risky, "token:ci", "token:ci")
	if err != nil || r1.State != StatePending {
		t.Fatalf("record: %v %+v", err, r1)
	}
	r2, _ := Record(ctx, st, both, "token:ci", "token:ci")
	ok := prod(facts(t, "coverage", "0.9", "risk_score", "1", "changed_lines", "1"))
	ok.ChangeRequest = "CHG-1"
	allow, _ := Record(ctx, st, p.Evaluate(ok, nil, now), "token:ci", "token:ci")

	eng := Approver{Person: "user:eng@example.com", Roles: []string{"engineering"}}
	exec := Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}
	for _, c := range []struct {
		id   int64
		who  Approver
		code domain.Code
		want string
	}{
		{r1.ID, Approver{Person: "token:ci", Roles: []string{"executive"}}, domain.EForbidden, "must not be who asked"},
		{r1.ID, Approver{Person: "user:s@example.com", Roles: []string{"support"}}, domain.EForbidden, "executive or engineering"},
		{r2.ID, eng, domain.EForbidden, "rule big escalated the release: its approver must hold the role executive"},
		{r2.ID, exec, domain.EForbidden, "rule cab escalated the release: its approver must hold the role cab_member"},
		{allow.ID, exec, domain.EConflict, "only an escalated decision"},
		{999, exec, domain.ENotFound, "no gate decision 999"},
	} {
		_, err := Settle(ctx, st, c.id, true, c.who, "ok", now)
		if domain.CodeOf(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decision %d by %v: %v, want %s %q", c.id, c.who, err, c.code, c.want)
		}
	}
	if _, err := Settle(ctx, st, r1.ID, true, eng, " ", now); domain.ParamOf(err) != "reason" {
		t.Errorf("no reason: %v", err)
	}
	a, err := Settle(ctx, st, r1.ID, true, eng, "small change, reviewed", now)
	if err != nil || a.Verdict != StateApproved {
		t.Fatalf("approve: %v %+v", err, a)
	}
	if _, err := Settle(ctx, st, r1.ID, false, exec, "no", now); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("second decision: %v", err)
	}
	// The same approver approving again (a retry after a lost answer) gets
	// the approval back, recorded once; the same approver rejecting, a
	// conflict.
	again, err := Settle(ctx, st, r1.ID, true, eng, "retried", now.Add(time.Minute))
	if err != nil || again.Verdict != StateApproved || again.Reason != "small change, reviewed" || !again.At.Equal(a.At) {
		t.Errorf("the approval retried: %v %+v, want the first one back", err, again)
	}
	if _, err := Settle(ctx, st, r1.ID, false, eng, "changed my mind", now); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("the approver rejecting what they approved: %v, want a conflict", err)
	}
	if as, _ := Approvals(ctx, st); len(as) != 1 {
		t.Errorf("%d approvals recorded, want 1", len(as))
	}
	got, err := Decision(ctx, st, r1.ID)
	if err != nil || got.State != StateApproved || got.Approval == nil || got.Approval.By != eng.Person {
		t.Errorf("approved decision reads %+v (%v)", got, err)
	}
	if _, err := Settle(ctx, st, r2.ID, false, Approver{Person: "user:both@example.com", Roles: []string{"executive", "cab_member"}}, "CAB did not meet", now); err != nil {
		t.Fatal(err)
	}
	pending, _ := Pending(ctx, st)
	all, _ := Decisions(ctx, st, "checkout")
	states := map[int64]string{}
	for _, r := range all {
		states[r.ID] = r.State
	}
	if len(pending) != 0 || states[r2.ID] != StateRejected || states[allow.ID] != "allow" {
		t.Errorf("pending %d, states %v", len(pending), states)
	}
}

// TestKPICache: a service's KPIs are computed once per data sequence and
// reused for at most KPIMaxAge; a new sequence, an earlier time or seq < 0
// computes them again.
func TestKPICache(t *testing.T) {
	var c kpiCache
	n := 0
	compute := func() map[string]KPI { n++; return map[string]KPI{} }
	for _, step := range []struct {
		seq   int64
		at    time.Duration
		wantN int
	}{{1, 0, 1}, {1, 30 * time.Second, 1}, {2, 31 * time.Second, 2}, {2, 31*time.Second + KPIMaxAge, 3}, {2, 0, 4}, {-1, 0, 5}, {-1, 0, 6}} {
		c.get("checkout", step.seq, now.Add(step.at), compute)
		if n != step.wantN {
			t.Errorf("seq %d at +%s: %d computations, want %d", step.seq, step.at, n, step.wantN)
		}
	}
}

// TestInPeriod: the evidence pack's gate records are the decisions of
// the period with the approvals made before its end, the bypasses and the
// watch outcomes, oldest first.
func TestInPeriod(t *testing.T) {
	ctx := context.Background()
	st := openDocs(t)
	p := load(t, "canary: {enabled: false}\n")
	at := func(r Result, t0 time.Time) Result { r.At = t0; return r }
	esc, _ := Record(ctx, st, at(p.Evaluate(prod(facts(t, "coverage", "0.9", "risk_score", "90")), nil, now), now), "token:ci", "token:ci")
	Record(ctx, st, at(p.Evaluate(prod(facts(t, "coverage", "0.5", "emergency", "true")), nil, now), now.Add(time.Hour)), "token:ci", "token:ci")
	Record(ctx, st, at(p.Evaluate(prod(facts(t, "coverage", "0.5")), nil, now), now.Add(48*time.Hour)), "token:ci", "token:ci")
	if _, err := Settle(ctx, st, esc.ID, true, Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}, "ok", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := InPeriod(ctx, st, now, now.Add(24*time.Hour))
	if err != nil || len(got.Decisions) != 2 || got.Decisions[0].ID != esc.ID || got.Decisions[0].State != StateApproved || got.Bypasses != 1 || got.Approved != 1 {
		t.Errorf("in the day: %+v (%v)", got, err)
	}
	// Over a period ending before the approval, it is pending.
	if got, _ = InPeriod(ctx, st, now, now.Add(90*time.Minute)); got.Decisions[0].State != StatePending || got.Approved != 0 {
		t.Errorf("before the approval: %+v", got.Decisions[0])
	}
}

// TestEscalationAskedAgain: a pipeline that asks again about a release it
// was escalated for — a re-run after the approval, a retry while it waits
// — gets the same decision, approved once an approver accepted it; it had
// been escalated afresh, pending again, whatever the approver said. Other
// facts, another requester, a verdict that changed, or a rejection make a
// new decision.
func TestEscalationAskedAgain(t *testing.T) {
	ctx := context.Background()
	st := openDocs(t)
	p := load(t, "canary: {enabled: false}\n")
	ask := func(f Facts, who string, at time.Time) Result {
		t.Helper()
		r, err := Record(ctx, st, p.Evaluate(prod(f), nil, at), who, who)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	risky := facts(t, "coverage", "0.9", "changed_lines", "1200", "dependency_changes", "1")
	first := ask(risky, "token:ci", now)
	if first.State != StatePending {
		t.Fatalf("first: %+v", first)
	}
	if again := ask(risky, "token:ci", now.Add(time.Minute)); again.ID != first.ID || again.State != StatePending {
		t.Errorf("a retry while pending made decision %d (%s), not %d", again.ID, again.State, first.ID)
	}
	exec := Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}
	if _, err := Settle(ctx, st, first.ID, true, exec, "reviewed", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rerun := ask(risky, "token:ci", now.Add(time.Hour))
	if rerun.ID != first.ID || rerun.State != StateApproved || rerun.Approval == nil || rerun.Approval.Reason != "reviewed" {
		t.Errorf("the re-run after the approval: decision %d %s, want %d approved", rerun.ID, rerun.State, first.ID)
	}
	for name, r := range map[string]Result{
		"other facts":     ask(facts(t, "coverage", "0.95", "changed_lines", "1200", "dependency_changes", "1"), "token:ci", now.Add(time.Hour)),
		"other requester": ask(risky, "token:other", now.Add(time.Hour)),
	} {
		if r.ID == first.ID || r.State != StatePending {
			t.Errorf("%s: decision %d %s, want a new pending one", name, r.ID, r.State)
		}
	}
	// The same release now also denied (coverage under the minimum) is
	// another decision, and not an escalation at all.
	if r := ask(facts(t, "coverage", "0.5", "changed_lines", "1200", "dependency_changes", "1"), "token:ci", now.Add(time.Hour)); r.ID == first.ID || r.Decision != Deny {
		t.Errorf("denied: %+v", r)
	}
	second := ask(facts(t, "coverage", "0.9", "risk_score", "95"), "token:ci", now)
	if _, err := Settle(ctx, st, second.ID, false, exec, "too risky today", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	third := ask(facts(t, "coverage", "0.9", "risk_score", "95"), "token:ci", now.Add(time.Hour))
	if third.ID == second.ID || third.State != StatePending {
		t.Errorf("after a rejection: decision %d %s, want a new pending one", third.ID, third.State)
	}
	if r := ask(facts(t, "coverage", "0.9", "risk_score", "95"), "token:ci", now.Add(2*time.Hour)); r.ID != third.ID {
		t.Errorf("a retry of the escalation asked again after the rejection: decision %d, want %d", r.ID, third.ID)
	}
	// Asked by two pipelines (or two instances) at once: one decision.
	var wg sync.WaitGroup
	ids := make([]int64, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := Record(ctx, st, p.Evaluate(prod(facts(t, "coverage", "0.9", "risk_score", "90")), nil, now), "token:ci", "token:ci")
			if err != nil {
				t.Error(err)
			}
			ids[i] = r.ID
		}()
	}
	wg.Wait()
	if ids[0] == 0 || ids[1] != ids[0] || ids[2] != ids[0] || ids[3] != ids[0] {
		t.Errorf("asked at once, decisions %v: want one", ids)
	}
}

// DecisionPage gives, page by page, what Decisions lists — the same
// decisions in the same order with their states and approvals — for the
// whole store and for one service, across the pages of documents it reads.
func TestDecisionPageAsDecisions(t *testing.T) {
	ctx := context.Background()
	st := openDocs(t)
	p := load(t, "canary: {enabled: false}\n")
	exec := Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}
	for i := range 700 {
		f := facts(t, "coverage", "0.9", "risk_score", "10")
		if i%7 == 0 {
			f = facts(t, "coverage", "0.9", "risk_score", "90")
		}
		rel := prod(f)
		rel.Service, rel.Version = fmt.Sprintf("svc-%d", i%3), fmt.Sprintf("1.%d", i)
		r, err := Record(ctx, st, p.Evaluate(rel, nil, now), "token:ci", "token:ci")
		if err != nil {
			t.Fatal(err)
		}
		if r.Decision == Escalate && i%2 == 0 {
			if _, err := Settle(ctx, st, r.ID, i%4 == 0, exec, "looked", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, service := range []string{"", "svc-1", "nosuch"} {
		want, err := Decisions(ctx, st, service)
		if err != nil {
			t.Fatal(err)
		}
		got := []Result{}
		for before, pages := int64(0), 0; ; pages++ {
			page, next, err := DecisionPage(ctx, st, service, before, 60)
			if err != nil || pages > 20 {
				t.Fatalf("%q: page %d: %v", service, pages, err)
			}
			got = append(got, page...)
			if next == 0 {
				break
			}
			before = next
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(gj) != string(wj) {
			t.Errorf("%q: %d decisions paged, %d listed; they differ", service, len(got), len(want))
		}
	}
}

// A decision's KPIs say when they are as of: reused within a data
// sequence for up to KPIMaxAge, they may be older than the decision, where
// the docs had said "as of the moment of the check".
func TestKPIsCarryAsOf(t *testing.T) {
	ds, cat, end := generatedOrg(t)
	p := load(t, "canary: {enabled: false}\npolicies:\n  - id: cfr\n    require: kpi.change_failure_rate <= 0.5\n    on_unknown: allow\n")
	q := Request{Service: "checkout", Environment: "production", Version: "1.0.0", Facts: map[string]string{"coverage": "0.9"}}
	first, err := Evaluate(p, cat, ds, 7, q, end)
	if err != nil {
		t.Fatal(err)
	}
	later, err := Evaluate(p, cat, ds, 7, q, end.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.KPIs) == 0 || len(later.KPIs) != len(first.KPIs) {
		t.Fatalf("KPIs: %d then %d", len(first.KPIs), len(later.KPIs))
	}
	for i, k := range later.KPIs {
		if !first.KPIs[i].AsOf.Equal(end) || !k.AsOf.Equal(end) {
			t.Errorf("%s as of %s then %s, want %s both times (reused within the sequence)", k.ID, first.KPIs[i].AsOf, k.AsOf, end)
		}
	}
	b, _ := json.Marshal(later.KPIs[0])
	if !strings.Contains(string(b), `"as_of":"2026-11-01T00:00:00Z"`) {
		t.Errorf("a KPI's JSON: %s", b)
	}
}

// Decision reads a decision by its id as Decisions lists it — its state
// and approval alike — for each state, without reading the others.
func TestDecisionByIDAsListed(t *testing.T) {
	ctx := context.Background()
	st := openDocs(t)
	p := load(t, "canary: {enabled: false}\n")
	var ids []int64
	for i, f := range [][]string{{"coverage", "0.9", "risk_score", "90"}, {"coverage", "0.9", "risk_score", "91"}, {"coverage", "0.9", "risk_score", "92"}, {"coverage", "0.9", "risk_score", "10"}, {"coverage", "0.1", "risk_score", "10"}} {
		rel := prod(facts(t, f...))
		rel.Version = strconv.Itoa(i)
		r, err := Record(ctx, st, p.Evaluate(rel, nil, now), "token:ci", "token:ci")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	cto := Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}
	if _, err := Settle(ctx, st, ids[0], true, cto, "ok", now); err != nil {
		t.Fatal(err)
	}
	if _, err := Settle(ctx, st, ids[1], false, cto, "no", now); err != nil {
		t.Fatal(err)
	}
	all, err := Decisions(ctx, st, "")
	if err != nil || len(all) != 5 {
		t.Fatalf("%d decisions (%v)", len(all), err)
	}
	states := map[string]bool{}
	for _, want := range all {
		got, err := Decision(ctx, st, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Decision(%d) = %+v (%v), want %+v", want.ID, got, err, want)
		}
		states[got.State] = true
	}
	if len(states) != 5 {
		t.Errorf("states read: %v, want approved, rejected, pending, allow and deny", states)
	}
	if _, err := Decision(ctx, st, ids[4]+100); err == nil || !strings.Contains(err.Error(), "no gate decision") {
		t.Errorf("an unknown id: %v", err)
	}
}

// A release of a service no record names is judged as before — the rules
// that read no KPI let it through, which is right for a first release —
// and the decision warns of it, naming the nearest known service: a
// misspelt --service had passed an untiered policy without a word.
func TestUnknownServiceWarned(t *testing.T) {
	ds, cat, end := generatedOrg(t)
	p := load(t, "canary: {enabled: false}\npolicies:\n  - id: tests\n    require: facts.coverage >= 0.8\n")
	ask := func(service string) Result {
		t.Helper()
		r, err := Evaluate(p, cat, ds, -1, Request{Service: service, Environment: "production", Version: "1.0.0", Facts: map[string]string{"coverage": "0.9", "risk_score": "10"}}, end)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := ask("checkout"); len(r.Warnings) != 0 || r.Decision != Allow {
		t.Errorf("a known service: %s, warnings %q", r.Decision, r.Warnings)
	}
	r := ask("chekout")
	if r.Decision != Allow {
		t.Errorf("an unknown service: %s, want the rules' allow unchanged", r.Decision)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `no record of service "chekout"`) || !strings.Contains(r.Warnings[0], `did you mean "checkout"?`) {
		t.Errorf("warnings %q", r.Warnings)
	}
	if b, _ := json.Marshal(r); !strings.Contains(string(b), `"warnings":["Candor has no record of service`) {
		t.Errorf("JSON %s", b)
	}
}

// A release to an environment no record names but close in spelling to a
// production one ("prodution") cannot be told from production: the
// policies scoped to production give their on_unknown verdict and the
// decision warns, naming the one meant. It had been judged not production,
// every rule skipped, a clean allow. An environment near none (a preview
// environment) is judged as written, without a word.
func TestMisspeltEnvironmentIsNoSilentPass(t *testing.T) {
	ds, cat, end := generatedOrg(t)
	p := load(t, "canary: {enabled: false}\nrisk: {enabled: false}\n")
	ask := func(env string) Result {
		t.Helper()
		r, err := Evaluate(p, cat, ds, -1, Request{Service: "checkout", Environment: env, Version: "1.0.0", Facts: map[string]string{}}, end)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Production without coverage: the coverage rule's own unknown verdict.
	if r := ask("production"); r.Decision != Escalate || len(r.Warnings) != 0 {
		t.Fatalf("production: %s, warnings %q", r.Decision, r.Warnings)
	}
	r := ask("prodution")
	if r.Decision != Escalate || r.Release.Production {
		t.Errorf("prodution: %s (production %v), want escalate as not known to be production or not", r.Decision, r.Release.Production)
	}
	if v := verdict(t, r, "coverage"); !strings.Contains(v.Reason, `no record names environment "prodution" (did you mean "production"?)`) || !strings.Contains(v.Reason, "cannot tell whether it applies") {
		t.Errorf("coverage's reason: %s", v.Reason)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `no record of environment "prodution" (no deployment names it; did you mean "production"?): the policies`) {
		t.Errorf("warnings %q", r.Warnings)
	}
	// A known environment, an alias of production, and new ones that a
	// looser match had taken for production (short names, a segment or
	// digits added): judged as written, nothing said.
	for env, want := range map[string]Severity{"staging": Allow, "PROD": Escalate, "preview-pr-4821": Allow,
		"pr-7": Allow, "pr-42": Allow, "perf": Allow, "pre": Allow, "prev": Allow, "dr": Allow, "prod-eu": Allow, "live2": Allow} {
		if r := ask(env); r.Decision != want || len(r.Warnings) != 0 {
			t.Errorf("%s: %s, warnings %q; want %s and none", env, r.Decision, r.Warnings, want)
		}
	}
	// With no policy scoped to production, the typo is said and nothing
	// is claimed of the policies.
	off := load(t, "canary: {enabled: false}\nrisk: {enabled: false}\ncoverage: {enabled: false}\n")
	r, err := Evaluate(off, cat, ds, -1, Request{Service: "checkout", Environment: "prodution", Version: "1.0.0"}, end)
	if err != nil || r.Decision != Allow || len(r.Warnings) != 1 || strings.Contains(r.Warnings[0], "on_unknown") || !strings.HasSuffix(r.Warnings[0], `did you mean "production"?)`) {
		t.Errorf("no policy: %s, %v, warnings %q", r.Decision, err, r.Warnings)
	}
}

// generatedOrg is a small generated organisation, the built-in catalog and
// the time its data ends.
func generatedOrg(t *testing.T) (*metrics.Dataset, *catalog.Catalog, time.Time) {
	t.Helper()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(t, 0.01, end)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return ds, cat, end
}
