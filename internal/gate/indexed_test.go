package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// wholeDocs hides the store's readers but the DocStore's own: the store
// package then reads each answer from the whole collection.
type wholeDocs struct{ store.DocStore }

// The reads through the decisions' indexes — the pending ones, the
// services, a service's settled ones and all of them, a period's — answer
// as the reads of every decision and approval they replace, on the same
// store: escalations approved, rejected (some after the period) and
// pending, bypasses, decisions made in other time zones and on a period's
// edges. Both through the SQL store's indexes and from whole collections.
func TestIndexedReadsAsEveryDecision(t *testing.T) {
	for _, f := range []store.DocField{store.GateDecisionService, store.GateDecisionVerdict, store.GateDecisionAt} {
		if f.Collection != DecisionCollection {
			t.Fatalf("the store indexes %s.%s, the gate records %s", f.Collection, f.Path, DecisionCollection)
		}
	}
	ctx := context.Background()
	st := openDocs(t)
	p := load(t, "canary: {enabled: false}\n")
	exec := Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}
	from, to := now.Add(-24*time.Hour), now.Add(24*time.Hour)
	zones := []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("PST", -8*3600)}
	for i := range 300 {
		f := facts(t, "coverage", "0.9", "risk_score", "10")
		if i%5 == 0 {
			f = facts(t, "coverage", "0.9", "risk_score", "90")
		}
		rel := prod(f)
		rel.Service, rel.Version = []string{"svc-b", "svc-a", "svc-c", "Svc-a", "svc-ä"}[i%5*i%7%5], fmt.Sprintf("1.%d", i)
		at := now.Add(time.Duration(i-150) * 11 * time.Minute).In(zones[i%3])
		switch i {
		case 10:
			at = from
		case 11:
			at = to
		case 12:
			at = to.Add(-time.Nanosecond)
		}
		r := p.Evaluate(rel, nil, at)
		if i%11 == 0 {
			r.Bypass, r.Decision = true, Allow
		}
		r, err := Record(ctx, st, r, "token:ci", "token:ci")
		if err != nil {
			t.Fatal(err)
		}
		if r.Decision == Escalate && i%3 != 0 {
			// Some settled after the period ends.
			if _, err := Settle(ctx, st, r.ID, i%2 == 0, exec, "looked", at.Add(time.Duration(i%4)*12*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	every, err := Decisions(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			i := 0
			for i < min(len(g), len(w)) && g[i] == w[i] {
				i++
			}
			t.Errorf("%s: differs at byte %d of %d, want %d: got …%.200s", what, i, len(g), len(w), g[i:])
		}
	}
	var wantPending []Result
	var wantServices []string
	for _, r := range every {
		if r.State == StatePending {
			wantPending = append(wantPending, r)
		}
		if !slices.Contains(wantServices, r.Release.Service) {
			wantServices = append(wantServices, r.Release.Service)
		}
	}
	slices.Sort(wantServices)
	if len(wantPending) < 5 || len(wantServices) != 5 {
		t.Fatalf("%d pending, services %q: the store does not hold what the test means", len(wantPending), wantServices)
	}
	wantPeriod := everyInPeriod(t, st, from, to)
	if n := len(wantPeriod.Decisions); n < 100 || n > 280 {
		t.Fatalf("%d decisions in the period: the store does not hold what the test means", n)
	}
	for name, docs := range map[string]store.DocStore{"indexed": st, "whole": wholeDocs{st}} {
		pending, err := Pending(ctx, docs)
		if err != nil {
			t.Fatal(err)
		}
		same(name+": pending", pending, wantPending)
		services, err := Services(ctx, docs)
		if err != nil {
			t.Fatal(err)
		}
		same(name+": services", services, wantServices)
		for _, service := range append([]string{"", "nosuch"}, wantServices...) {
			want := slices.DeleteFunc(slices.Clone(every), func(r Result) bool { return service != "" && r.Release.Service != service })
			if service != "" {
				got, err := Decisions(ctx, docs, service)
				if err != nil {
					t.Fatal(err)
				}
				same(name+": decisions of "+service, got, want)
			}
			want = slices.DeleteFunc(want, func(r Result) bool { return r.State == StatePending })
			for _, limit := range []int{1, 7, 50, 1000} {
				got, err := Settled(ctx, docs, service, limit)
				if err != nil {
					t.Fatal(err)
				}
				same(fmt.Sprintf("%s: %d settled of %q", name, limit, service), got, want[:min(limit, len(want))])
			}
		}
		period, err := InPeriod(ctx, docs, from, to)
		if err != nil {
			t.Fatal(err)
		}
		same(name+": period", period, wantPeriod)
	}
}

// everyInPeriod is InPeriod as it read every decision and approval.
func everyInPeriod(t *testing.T, docs store.DocStore, from, to time.Time) Period {
	ctx := context.Background()
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	all, err := store.DecodeDocs(ctx, docs, DecisionCollection, func(r *Result, id int64) { r.ID = id })
	if err != nil {
		t.Fatal(err)
	}
	as, err := Approvals(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	as = slices.DeleteFunc(as, func(a Approval) bool { return !a.At.Before(to) })
	out := Period{Decisions: []Result{}, Watches: []Watch{}}
	for _, r := range all {
		if in(r.At) {
			out.Decisions = append(out.Decisions, r)
		}
	}
	settle(out.Decisions, as)
	slices.Reverse(out.Decisions)
	out.count()
	return out
}
