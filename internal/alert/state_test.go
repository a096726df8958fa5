package alert

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// step is one evaluation of a scenario: at minute At, the active
// observations (rule/metric), then the messages expected ("rule:
// +firing... -resolved... [repeat]").
type step struct {
	At     int
	Active []string
	Ack    string // key acknowledged before the step
	Want   []string
}

func obsOf(rules []Rule, active []string) []Observation {
	var out []Observation
	for _, r := range rules {
		for _, m := range []string{"a", "b"} {
			out = append(out, Observation{Rule: r.Name, Metric: m, Active: slices.Contains(active, r.Name+"/"+m), Severity: "warning"})
		}
	}
	return out
}

func describe(ms []Message) []string {
	var out []string
	for _, m := range ms {
		var parts []string
		for _, a := range m.Firing {
			parts = append(parts, "+"+a.Metric)
		}
		for _, a := range m.Resolved {
			parts = append(parts, "-"+a.Metric)
		}
		s := m.Group + ":" + strings.Join(parts, ",")
		if m.Repeat {
			s += " repeat"
		}
		out = append(out, s)
	}
	return out
}

func TestStepAndPlan(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "r", Kind: KindStatus}, {Name: "slow", Kind: KindStatus, forDur: 30 * time.Minute}}
	timing := Timing{GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour}
	silence := []Silence{{ID: 1, Rule: "r", Metric: "b", Reason: "maintenance", Author: "ann", StartsAt: t0.Add(100 * time.Minute), EndsAt: t0.Add(200 * time.Minute)}}
	cases := []struct {
		name  string
		steps []step
	}{
		{"grouping: two alerts of a rule in one notification", []step{
			{At: 0, Active: []string{"r/a", "r/b"}, Want: []string{"r:+a,+b"}},
		}},
		{"de-duplication: unchanged group is not told again before repeat", []step{
			{At: 0, Active: []string{"r/a"}, Want: []string{"r:+a"}},
			{At: 60, Active: []string{"r/a"}},
			{At: 180, Active: []string{"r/a"}},
		}},
		{"repeat interval", []step{
			{At: 0, Active: []string{"r/a"}, Want: []string{"r:+a"}},
			{At: 239, Active: []string{"r/a"}},
			{At: 240, Active: []string{"r/a"}, Want: []string{"r:+a repeat"}},
			{At: 300, Active: []string{"r/a"}},
		}},
		{"a new alert joins the group after group_interval, resolution told", []step{
			{At: 0, Active: []string{"r/a"}, Want: []string{"r:+a"}},
			{At: 2, Active: []string{"r/a", "r/b"}},
			{At: 5, Active: []string{"r/a", "r/b"}, Want: []string{"r:+a,+b"}},
			{At: 60, Active: []string{"r/b"}, Want: []string{"r:+b,-a"}},
			{At: 62},
			{At: 70, Want: []string{"r:-b"}},
			{At: 90},
		}},
		{"for: pending until the condition held long enough; cleared pending is never told", []step{
			{At: 0, Active: []string{"slow/a"}},
			{At: 10},
			{At: 20, Active: []string{"slow/a"}},
			{At: 49, Active: []string{"slow/a"}},
			{At: 50, Active: []string{"slow/a"}, Want: []string{"slow:+a"}},
		}},
		{"acknowledged: not repeated, resolution still told", []step{
			{At: 0, Active: []string{"r/a"}, Want: []string{"r:+a"}},
			{At: 60, Active: []string{"r/a"}, Ack: "r|a|"},
			{At: 300, Active: []string{"r/a"}},
			{At: 310, Want: []string{"r:-a"}},
		}},
		{"acknowledgement ends with the episode", []step{
			{At: 0, Active: []string{"r/a"}, Want: []string{"r:+a"}},
			{At: 10, Active: []string{"r/a"}, Ack: "r|a|"},
			{At: 20, Want: []string{"r:-a"}},
			{At: 30, Active: []string{"r/a"}, Want: []string{"r:+a"}},
		}},
		{"silence: muted while it lasts, told when it ends", []step{
			{At: 100, Active: []string{"r/b"}},
			{At: 150, Active: []string{"r/b"}},
			{At: 200, Active: []string{"r/b"}, Want: []string{"r:+b"}},
		}},
		{"silence: a silenced alert's resolution is not told", []step{
			{At: 90, Active: []string{"r/b"}, Want: []string{"r:+b"}},
			{At: 110},
			{At: 250},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var alerts []Alert
			for _, s := range c.steps {
				now := t0.Add(time.Duration(s.At) * time.Minute)
				if s.Ack != "" {
					i := slices.IndexFunc(alerts, func(a Alert) bool { return a.Key == s.Ack })
					if i < 0 {
						t.Fatalf("minute %d: no alert %q to acknowledge", s.At, s.Ack)
					}
					alerts[i].AckedBy, alerts[i].AckedAt = "ann", now
				}
				alerts, _ = Step(alerts, obsOf(rules, s.Active), rules, now, 24*time.Hour)
				var msgs []Message
				alerts, msgs = Plan(alerts, silence, timing, now)
				if got := describe(msgs); fmt.Sprint(got) != fmt.Sprint(s.Want) {
					t.Fatalf("minute %d: messages %q, want %q", s.At, got, s.Want)
				}
			}
		})
	}
}

func TestStepDropsClearedPendingAndOldResolved(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "slow", Kind: KindStatus, forDur: time.Hour}, {Name: "r", Kind: KindStatus}}
	alerts, _ := Step(nil, []Observation{{Rule: "slow", Metric: "a", Active: true}, {Rule: "r", Metric: "a", Active: true}}, rules, t0, time.Hour)
	if len(alerts) != 2 || alerts[1].State != Pending || alerts[0].State != Firing {
		t.Fatalf("alerts = %+v", alerts)
	}
	alerts, drop := Step(alerts, nil, rules, t0.Add(time.Minute), time.Hour)
	if len(alerts) != 1 || alerts[0].State != Resolved || fmt.Sprint(drop) != "[slow|a|]" {
		t.Fatalf("alerts = %+v, drop %v", alerts, drop)
	}
	alerts, drop = Step(alerts, nil, rules, t0.Add(61*time.Minute), time.Hour)
	if len(alerts) != 0 || fmt.Sprint(drop) != "[r|a|]" {
		t.Fatalf("alerts = %+v, drop %v", alerts, drop)
	}
}

func TestEscalationAlertHoldsADay(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "esc", Kind: KindEscalation, Metric: "*"}}
	a := []Alert{{Key: "esc|a|", Observation: Observation{Rule: "esc", Metric: "a", Active: true}, State: Firing, LastEval: t0}}
	next, _ := Step(a, nil, rules, t0.Add(24*time.Hour), time.Hour)
	if next[0].State != Firing {
		t.Fatalf("escalation resolved within a day: %+v", next[0])
	}
	next, _ = Step(a, nil, rules, t0.Add(26*time.Hour), time.Hour)
	if next[0].State != Resolved {
		t.Fatalf("escalation not raised for a day still firing: %+v", next[0])
	}
}
