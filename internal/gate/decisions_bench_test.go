package gate

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecisionLookup reads one decision by id (what a pipeline
// waiting for an approver polls), one service's decisions (a deployment's
// page), the API's first page of 50 decisions and of one service's
// (DecisionPage), what /gates shows (the pending decisions, the services,
// the 50 latest settled — all and one service's), a day's decisions for a
// period report (InPeriod), and records an escalation asked for the first
// time (Record's look for one asked before), among 10,000 recorded (one in
// 50 escalated, half of those settled); EveryDecision is the read of every
// decision and approval each of those had been:
//
//	go test -run '^$' -bench DecisionLookup ./internal/gate/
func BenchmarkDecisionLookup(b *testing.B) {
	ctx := context.Background()
	st := openDocs(b)
	p := load(b, "canary: {enabled: false}\n")
	exec := Approver{Person: "user:cto@example.com", Roles: []string{"executive"}}
	var last Result
	for i := range 10000 {
		risk := "10"
		if i%50 == 0 {
			risk = "90"
		}
		rel := prod(facts(b, "coverage", "0.9", "risk_score", risk))
		rel.Version = fmt.Sprintf("1.%d", i)
		rel.Service = fmt.Sprintf("svc-%d", i%40)
		r := p.Evaluate(rel, map[string]KPI{"change_failure_rate": {ID: "change_failure_rate", Value: new(3.0), Status: "green"}}, now.Add(time.Duration(i)*time.Minute))
		var err error
		if last, err = Record(ctx, st, r, "token:ci", "token:ci"); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			if _, err := Settle(ctx, st, last.ID, true, exec, "looked", now.Add(time.Duration(i+5)*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("Decision", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decision(ctx, st, last.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Page", func(b *testing.B) {
		for b.Loop() {
			if rs, _, err := DecisionPage(ctx, st, "", 0, 50); err != nil || len(rs) != 50 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("PageOfService", func(b *testing.B) {
		for b.Loop() {
			if rs, _, err := DecisionPage(ctx, st, "svc-3", 0, 50); err != nil || len(rs) != 50 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("Pending", func(b *testing.B) {
		for b.Loop() {
			if rs, err := Pending(ctx, st); err != nil || len(rs) != 100 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("Services", func(b *testing.B) {
		for b.Loop() {
			if ss, err := Services(ctx, st); err != nil || len(ss) != 40 {
				b.Fatal(len(ss), err)
			}
		}
	})
	b.Run("Settled", func(b *testing.B) {
		for b.Loop() {
			if rs, err := Settled(ctx, st, "", 50); err != nil || len(rs) != 50 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("SettledOfService", func(b *testing.B) {
		for b.Loop() {
			if rs, err := Settled(ctx, st, "svc-3", 50); err != nil || len(rs) != 50 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("InPeriodDay", func(b *testing.B) {
		for b.Loop() {
			if p, err := InPeriod(ctx, st, now.Add(24*time.Hour), now.Add(48*time.Hour)); err != nil || len(p.Decisions) != 1440 {
				b.Fatal(len(p.Decisions), err)
			}
		}
	})
	b.Run("EveryDecision", func(b *testing.B) {
		for b.Loop() {
			if rs, err := Decisions(ctx, st, ""); err != nil || len(rs) != 10000 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("RecordEscalation", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			rel := prod(facts(b, "coverage", "0.9", "changed_lines", "900", "dependency_changes", "2"))
			rel.Version = fmt.Sprintf("9.%d", i)
			r := p.Evaluate(rel, nil, now)
			if r.Decision != Escalate {
				b.Fatalf("%s, want an escalation", r.Decision)
			}
			if _, err := Record(ctx, st, r, "token:ci", "token:ci"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecisionsOfService", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decisions(ctx, st, "svc-3"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
