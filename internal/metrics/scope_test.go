package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

var scopeData = sync.OnceValues(func() (*Dataset, error) {
	d := NewDataset(DefaultConfig())
	_, err := generate.Records(generate.Options{Seed: 5, Scale: 0.02, End: scopeEnd, Days: 150}, func(r domain.Record) { d.Apply(r, time.Time{}) })
	d.Prepare()
	return d, err
})

var scopeEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// Every breakdown's line counts must add up to the scope's count. Real data
// can break that for a few metrics — a control checked under two frameworks,
// a customer on two plans, owners on quota periods of different lengths —
// which the generated data does not have; a generator that starts producing
// them must say here which breakdowns are exempt and why.

func refKey(r Ref) string { return string(r.Kind) + "/" + r.Source + "/" + r.ID }

// TestBreakdownUnderScope holds every metric, broken down by every
// dimension it supports, under a scope on every dimension it supports (and
// under none) to what a breakdown under a scope means: its lines are the
// dimension's values within the scope, each line's records are records of
// the scope, a value left out has no records in the scope, and the lines'
// counts add up to the scope's count. The table comes from the registry, so
// a new metric or dimension is covered without editing this test.
func TestBreakdownUnderScope(t *testing.T) {
	d, err := scopeData()
	if err != nil {
		t.Fatal(err)
	}
	checked, lines := 0, 0
	for _, id := range IDs() {
		scopes := []Scope{{}}
		for _, sd := range Dims(id) {
			vals := d.DimValues(sd)
			if len(vals) == 0 {
				t.Errorf("%s: the generated data has no %s values; the test cannot cover that dimension", id, sd)
				continue
			}
			for _, v := range []string{vals[0], vals[len(vals)/2]} {
				scopes = append(scopes, Scope{Dim: sd, Value: v})
			}
		}
		for _, sc := range scopes {
			q := Query{AsOf: scopeEnd, Window: 30 * day, Scope: sc, Records: true}
			whole, err := d.Compute(id, q)
			if err != nil {
				t.Fatal(err)
			}
			inScope := map[string]bool{}
			for _, r := range whole.Records {
				inScope[refKey(r)] = true
			}
			for _, by := range Dims(id) {
				name := fmt.Sprintf("%s by %s under %q", id, by, sc)
				groups, err := d.Breakdown(id, q, by)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checked++
				sum, keys := 0, map[string]bool{}
				for _, g := range groups {
					lines++
					keys[g.Key] = true
					sum += g.Count
					for _, r := range g.Records {
						// SPEC §3: the organisation's customers come from
						// usage records without a service, a service's
						// from its own, so usage behind a line need not be
						// behind the whole (customers do not add up).
						if r.Kind == domain.KindUsage {
							continue
						}
						if !inScope[refKey(r)] {
							t.Errorf("%s: line %s lists %s, which is not a record of the scope", name, g.Key, refKey(r))
							break
						}
					}
				}
				for _, v := range d.DimValues(by) {
					if keys[v] {
						continue
					}
					sv, _ := sc.And(by, v)
					r, err := d.Compute(id, Query{AsOf: scopeEnd, Window: 30 * day, Scope: sv, Records: true})
					if err != nil {
						t.Fatal(err)
					}
					if r.Count != 0 || len(r.Records) != 0 {
						t.Errorf("%s: no line for %s, which has %d cases and %d records in the scope", name, v, r.Count, len(r.Records))
					}
				}
				if sum != whole.Count {
					t.Errorf("%s: lines add up to %d cases, the scope has %d", name, sum, whole.Count)
				}
				if !sc.IsZero() && sc.Dim == by && (len(groups) != 1 || groups[0].Key != sc.Value) {
					t.Errorf("%s: want the one line %s, got %d lines", name, sc.Value, len(groups))
				}
			}
		}
	}
	t.Logf("%d breakdowns, %d lines", checked, lines)
	if checked < 100 || lines < 500 {
		t.Errorf("only %d breakdowns with %d lines checked; the generated data is too thin", checked, lines)
	}
}

// TestBreakdownUnderScopeNarrows is the example: change failure
// rate by service under team:payments lists the team's services only, and
// its deployments add up to the team's.
func TestBreakdownUnderScopeNarrows(t *testing.T) {
	d, err := scopeData()
	if err != nil {
		t.Fatal(err)
	}
	team := d.DimValues("team")[0]
	q := Query{AsOf: scopeEnd, Window: 30 * day, Scope: Scope{Dim: "team", Value: team}}
	whole, _ := d.Compute("change_failure_rate", q)
	groups, err := d.Breakdown("change_failure_rate", q, "service")
	if err != nil {
		t.Fatal(err)
	}
	all := d.DimValues("service")
	if len(groups) == 0 || len(groups) >= len(all) {
		t.Fatalf("team %s: %d service lines of %d services", team, len(groups), len(all))
	}
	sum := 0
	for _, g := range groups {
		if d.ServiceAttr(g.Key, "team") != team {
			t.Errorf("line %s belongs to team %q, not %s", g.Key, d.ServiceAttr(g.Key, "team"), team)
		}
		sum += g.Count
	}
	if sum != whole.Count || sum == 0 {
		t.Errorf("lines add up to %d deployments, the team has %d", sum, whole.Count)
	}
}

func TestCheckScope(t *testing.T) {
	d, err := scopeData()
	if err != nil {
		t.Fatal(err)
	}
	team := d.DimValues("team")[0]
	if err := d.CheckScope(Scope{Dim: "team", Value: team}); err != nil {
		t.Errorf("existing team: %v", err)
	}
	err = d.CheckScope(Scope{Dim: "team", Value: "nonexistent"})
	var ue *UnknownValueError
	if !errors.As(err, &ue) || ue.Dim != "team" || ue.Value != "nonexistent" || !strings.Contains(err.Error(), team) {
		t.Errorf("unknown team: got %v, want an UnknownValueError naming %s", err, team)
	}
	s, _ := Scope{Dim: "team", Value: team}.And("service", "no-such-service")
	if err := d.CheckScope(s); !errors.As(err, &ue) || ue.Dim != "service" {
		t.Errorf("second filter unknown: got %v", err)
	}
}

// An environment is a scope's value by its production deployments: the
// generated organisation deploys to staging too, and "no environment
// staging in the data" had told a manager who could see staging's
// deployments that they were not there.
func TestCheckScopeNamesProductionEnvironments(t *testing.T) {
	d, err := scopeData()
	if err != nil {
		t.Fatal(err)
	}
	err = d.CheckScope(Scope{Dim: "environment", Value: "staging"})
	if err == nil || !strings.Contains(err.Error(), `no production deployment in environment "staging"`) || !strings.Contains(err.Error(), "production environments: production") {
		t.Errorf("environment:staging: %v", err)
	}
}

func TestScopeFilters(t *testing.T) {
	s, err := ParseScope("team:payments, environment:production")
	if err != nil {
		t.Fatal(err)
	}
	want := []Filter{{"team", "payments"}, {"environment", "production"}}
	if !slices.Equal(s.Filters(), want) || s.String() != "team:payments,environment:production" {
		t.Errorf("parsed %v (%s), want %v", s.Filters(), s, want)
	}
	one, _ := ParseScope("team:payments")
	if one != (Scope{Dim: "team", Value: "payments"}) {
		t.Errorf("one filter parsed as %#v", one)
	}
	if again, _ := one.And("team", "payments"); again != one {
		t.Errorf("adding a filter the scope has changed it: %#v", again)
	}
	b, _ := json.Marshal(s)
	if string(b) != `{"dim":"team","value":"payments","and":[{"dim":"environment","value":"production"}]}` {
		t.Errorf("JSON %s", b)
	}
	var back Scope
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("JSON round trip: %#v, %v", back, err)
	}
	for _, bad := range []string{"team", "team:", ":x", "team:a,", "a:1,b:2,c:3,d:4", "team:payments,team:platform"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
	full := Scope{}
	for i := range MaxFilters {
		full, _ = full.And(fmt.Sprint("d", i), "v")
	}
	if _, ok := full.And("x", "y"); ok {
		t.Error("a full scope took one more filter")
	}
}
