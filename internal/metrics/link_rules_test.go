package metrics

import (
	"fmt"
	"slices"
	"testing"
)

// SPEC §2's rules for references and ties, one table per rule. Each case
// names the link it checks (what the reference resolves to as of the
// default as_of) and the data problems Dataset.Problems must report.

// linkCase is one link check: link describes what the data links (see
// the describe helpers below); problems are Problem.String() of every
// data problem as of the default as_of, in order.
type linkCase struct {
	name, data string
	link       func(t *testing.T, d *Dataset) string
	want       string
	problems   []string
}

func runLinkCases(t *testing.T, cases []linkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := load(t, nil, c.data)
			if got := c.link(t, d); got != c.want {
				t.Errorf("link = %s, want %s", got, c.want)
			}
			var got []string
			for _, p := range d.Problems(ts(t, defaultAsOf)) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, c.problems) {
				t.Errorf("problems:\n  got  %q\n  want %q", got, c.problems)
			}
		})
	}
}

func describeDep(d *Dataset, x *Dep, how string) string {
	if x == nil {
		return "none"
	}
	return fmt.Sprintf("%s@%s %s", d.str(x.id), d.str(x.src), how)
}

// shipped describes the deployment that shipped a change (source, id), as
// of the default as_of, and checks that changesOf agrees.
func shipped(source, id string) func(t *testing.T, d *Dataset) string {
	return func(t *testing.T, d *Dataset) string {
		c := d.change(key(source, id))
		if c == nil {
			t.Fatalf("no change %s/%s", source, id)
		}
		asOf := ts(t, defaultAsOf).UnixNano()
		x, how := d.ChangeDeploymentAsOf(c, asOf)
		for y := range d.allDeps() {
			n := 0
			d.changesOf(y, asOf, func(ch *Chg, method string) {
				if ch.ID == c.ID && ch.Source == c.Source {
					n++
				}
			})
			if want := map[bool]int{true: 1, false: 0}[y == x]; n != want {
				t.Errorf("changesOf(%s@%s) ships %s/%s %d times, want %d", d.str(y.id), d.str(y.src), source, id, n, want)
			}
		}
		return describeDep(d, x, how)
	}
}

// causedBy describes the deployment incident i (of any source) is
// attributed to as of the default as_of.
func causedBy(t *testing.T, d *Dataset) string {
	for _, i := range d.incidents {
		if d.str(i.id) == "i" {
			x, how, _ := d.IncidentDeploymentAsOf(i, ts(t, defaultAsOf).UnixNano())
			return describeDep(d, x, how)
		}
	}
	t.Fatal("no incident i")
	return ""
}

func TestChangeListsResolveWithinTheirSource(t *testing.T) {
	runLinkCases(t, []linkCase{
		{
			name: "same source first", link: shipped("ci", "c1"), want: "d1@ci explicit",
			data: `
{"kind":"change","id":"c1","source":"ci","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"change","id":"c1","source":"gh","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
		},
		{
			// The other source's namesake is not shipped by the listing.
			name: "the namesake of another source is not listed", link: shipped("gh", "c1"), want: "none",
			data: `
{"kind":"change","id":"c1","source":"ci","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"change","id":"c1","source":"gh","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
		},
		{
			name: "else the only change with the id, from any source", link: shipped("gh", "c1"), want: "d1@ci explicit",
			data: `
{"kind":"change","id":"c1","source":"gh","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
		},
		{
			name: "ambiguous: links nothing, reported", link: shipped("gh", "c1"), want: "none",
			data: `
{"kind":"change","id":"c1","source":"gh","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"change","id":"c1","source":"gl","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
			problems: []string{"deployment ci/d1 changes: names change c1, which several sources have and none of them is this record's source (ci); it links nothing"},
		},
		{
			// A namesake that has not merged yet does not exist: the
			// listing resolves to the only one that does.
			name: "only the changes that exist at as_of take part", link: shipped("gh", "c1"), want: "d1@ci explicit",
			data: `
{"kind":"change","id":"c1","source":"gh","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"change","id":"c1","source":"gl","service":"lib","merged_at":"2026-04-05T00:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
		},
		{
			name: "unknown: reported", link: shipped("import", "c2"), want: "d1@import inferred",
			data: `
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c9"]}`,
			problems: []string{"deployment import/d1 changes: names change c9, which is not in the data; it links nothing"},
		},
		{
			// A failed deployment delivered nothing: its list is not read,
			// so an unknown id in it is no problem either.
			name: "a failed deployment's list is ignored", link: shipped("import", "c1"), want: "d2@import inferred",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure","changes":["c1","c9"]}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success"}`,
		},
		{
			name: "an explicit listing wins over an earlier eligible deployment", link: shipped("import", "c1"), want: "d2@import explicit",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-08T00:00:00Z","status":"rolled_back","changes":["c1"]}`,
		},
		{
			name: "ties on finished_at: the lower id lists it first", link: shipped("import", "c1"), want: "da@import explicit",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"db","service":"web","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"da","service":"mob","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
		},
		{
			name: "a change listed twice ships once", link: shipped("import", "c1"), want: "d1@import explicit",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1","c1"]}`,
		},
	})
}

func TestIncidentCausesResolve(t *testing.T) {
	const deps = `
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","source":"pd","service":"api","environment":"production","finished_at":"2026-03-10T06:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","source":"ci","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","source":"gl","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success"}
{"kind":"deployment","id":"s1","source":"ci","service":"api","environment":"staging","finished_at":"2026-03-12T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"deployment","id":"w1","source":"ci","service":"web","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}`
	runLinkCases(t, []linkCase{
		{
			name: "caused_by: the deployment of the incident's own source", link: causedBy, want: "d1@pd explicit",
			data: deps + `
{"kind":"incident","id":"i","source":"pd","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by":"d1"}`,
		},
		{
			name: "caused_by from another source: ambiguous, unattributed, reported", link: causedBy, want: "none",
			data: deps + `
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by":"d2"}`,
			problems: []string{"incident import/i caused_by: names deployment d2, which several sources have and none of them is this record's source (import); it links nothing"},
		},
		{
			name: "caused_by may cross services", link: causedBy, want: "w1@ci explicit",
			data: deps + `
{"kind":"incident","id":"i","service":"db","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by":"w1"}`,
		},
		{
			name: "caused_by naming a staging deployment links nothing and is reported", link: causedBy, want: "none",
			data: deps + `
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by":"s1"}`,
			problems: []string{"incident import/i caused_by: names deployment s1, which is not a production deployment (environment staging); it links nothing"},
		},
		{
			// Its environment's name is a production name: the reason is its
			// env_type, which the problem must name, not "environment production".
			name: "caused_by naming a deployment whose env_type is not production links nothing and says why", link: causedBy, want: "none",
			data: deps + `
{"kind":"deployment","id":"t1","source":"ci","service":"api","environment":"production","env_type":"test","finished_at":"2026-03-12T00:00:00Z","status":"success"}
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by":"t1"}`,
			problems: []string{"incident import/i caused_by: names deployment t1, which is not a production deployment (environment production, but its env_type is not production); it links nothing"},
		},
		{
			name: "caused_by naming a deployment that has not finished yet: unknown as of as_of", link: causedBy, want: "none",
			data: deps + `
{"kind":"deployment","id":"late","service":"api","environment":"production","finished_at":"2026-04-02T00:00:00Z","status":"success"}
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by":"late"}`,
			problems: []string{"incident import/i caused_by: names deployment late, which is not in the data; it links nothing"},
		},
		{
			// Only production deployments carry a change request for
			// linking: s1 (staging) carries CR-1 too.
			name: "change request: the latest production deployment finished by opened_at", link: causedBy, want: "c2@ci explicit",
			data: deps + `
{"kind":"deployment","id":"c1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"deployment","id":"c2","source":"ci","service":"db","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"deployment","id":"c3","source":"ci","service":"api","environment":"production","finished_at":"2026-03-14T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by_change_request":"CR-1"}`,
		},
		{
			name: "change request: the earliest when none finished by opened_at", link: causedBy, want: "c2@ci explicit",
			data: deps + `
{"kind":"deployment","id":"c3","source":"ci","service":"api","environment":"production","finished_at":"2026-03-16T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"deployment","id":"c2","source":"ci","service":"api","environment":"production","finished_at":"2026-03-14T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by_change_request":"CR-1"}`,
		},
		{
			name: "change request carried only outside production: reported", link: causedBy, want: "none",
			data: deps + `
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by_change_request":"CR-1"}`,
			problems: []string{"incident import/i caused_by_change_request: no production deployment carries change request CR-1; it links nothing"},
		},
		{
			name: "change request ties on finished_at: the lower id", link: causedBy, want: "ca@ci explicit",
			data: deps + `
{"kind":"deployment","id":"cb","source":"ci","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success","change_request":"CR-2"}
{"kind":"deployment","id":"ca","source":"ci","service":"web","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success","change_request":"CR-2"}
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by_change_request":"CR-2"}`,
		},
		{
			name: "inferred ties on finished_at: the lower id", link: causedBy, want: "ea@ci inferred",
			data: deps + `
{"kind":"deployment","id":"eb","source":"ci","service":"api","environment":"production","finished_at":"2026-03-12T12:00:00Z","status":"success"}
{"kind":"deployment","id":"ea","source":"ci","service":"api","environment":"production","finished_at":"2026-03-12T12:00:00Z","status":"success"}
{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z"}`,
		},
	})
}

func TestRollbackRule(t *testing.T) {
	const target = `
{"kind":"deployment","id":"x","source":"ci","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`
	rolled := func(t *testing.T, d *Dataset) string {
		return fmt.Sprint(d.rolledBack(d.dep(key("ci", "x")), ts(t, defaultAsOf).UnixNano()))
	}
	runLinkCases(t, []linkCase{
		{
			name: "a production deployment of the same service finished after it", link: rolled, want: "true",
			data: target + `
{"kind":"deployment","id":"r","source":"ci","service":"api","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success","rollback_of":"x"}`,
		},
		{
			name: "a staging deployment's rollback_of does not", link: rolled, want: "false",
			data: target + `
{"kind":"deployment","id":"r","source":"ci","service":"api","environment":"staging","finished_at":"2026-03-10T01:00:00Z","status":"success","rollback_of":"x"}`,
		},
		{
			name: "another service's rollback_of does not", link: rolled, want: "false",
			data: target + `
{"kind":"deployment","id":"r","source":"ci","service":"web","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success","rollback_of":"x"}`,
		},
		{
			name: "a rollback finished before it does not", link: rolled, want: "false",
			data: target + `
{"kind":"deployment","id":"r","source":"ci","service":"api","environment":"production","finished_at":"2026-03-09T23:00:00Z","status":"success","rollback_of":"x"}`,
		},
		{
			name: "a rollback finished after as_of has not happened", link: rolled, want: "false",
			data: target + `
{"kind":"deployment","id":"r","source":"ci","service":"api","environment":"production","finished_at":"2026-04-01T00:00:00Z","status":"success","rollback_of":"x"}`,
		},
		{
			// rollback_of resolves within the rollback's own source: gl's
			// x, not ci's.
			name: "rollback_of resolves within its source first", link: rolled, want: "false",
			data: target + `
{"kind":"deployment","id":"x","source":"gl","service":"api","environment":"production","finished_at":"2026-03-10T00:30:00Z","status":"success"}
{"kind":"deployment","id":"r","source":"gl","service":"api","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success","rollback_of":"x"}`,
		},
		{
			name: "an unknown rollback_of is reported", link: rolled, want: "false",
			data: target + `
{"kind":"deployment","id":"r","source":"ci","service":"api","environment":"production","finished_at":"2026-03-10T01:00:00Z","status":"success","rollback_of":"nope"}`,
			problems: []string{"deployment ci/r rollback_of: names deployment nope, which is not in the data; it links nothing"},
		},
	})
}

// A ticket's release and a lead's opportunity are references too: they
// resolve within their source first, and one that resolves to nothing
// links nothing (the ticket counts for no release; the lead has not
// reached the opportunity stage) and is reported.
func TestReleaseAndOpportunityReferences(t *testing.T) {
	const deps = `
{"kind":"deployment","id":"r1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"r1","source":"gl","service":"web","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`
	release := func(t *testing.T, d *Dataset) string {
		r, err := d.Compute("release_impact_score", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ref := range r.Records {
			if ref.Kind == "ticket" {
				out = append(out, ref.ID+" "+ref.Note)
			}
		}
		return fmt.Sprint(out)
	}
	// The funnel follows a mature cohort: asked a maturation lag after
	// as_of, the window's leads are the cohort.
	funnel := func(t *testing.T, d *Dataset) string {
		r, err := d.Compute("funnel_conversion", Query{AsOf: ts(t, defaultAsOf).Add(DefaultFunnelLag), Window: 30 * day})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(r.Detail.Stages["sql_to_opportunity"] != nil && *r.Detail.Stages["sql_to_opportunity"] == 100)
	}
	runLinkCases(t, []linkCase{
		{
			name: "release: the ticket's own source", link: release, want: "[t1 release r1]",
			data: deps + `
{"kind":"ticket","id":"t1","source":"gl","created_at":"2026-03-10T01:00:00Z","release":"r1"}`,
		},
		{
			name: "release from another source: ambiguous, reported", link: release, want: "[]",
			data: deps + `
{"kind":"ticket","id":"t1","source":"zendesk","created_at":"2026-03-10T01:00:00Z","release":"r1"}`,
			problems: []string{"ticket zendesk/t1 release: names deployment r1, which several sources have and none of them is this record's source (zendesk); it links nothing"},
		},
		{
			name: "opportunity: a lead naming one not in the data has not reached the stage", link: funnel, want: "false",
			data: `
{"kind":"lead","id":"l1","created_at":"2026-03-05T00:00:00Z","mql_at":"2026-03-06T00:00:00Z","sql_at":"2026-03-07T00:00:00Z","opportunity":"o9"}`,
			problems: []string{"lead import/l1 opportunity: names opportunity o9, which is not in the data; it links nothing"},
		},
		{
			name: "opportunity: the only one with the id, from any source", link: funnel, want: "true",
			data: `
{"kind":"opportunity","id":"o1","source":"sf","created_at":"2026-03-08T00:00:00Z","amount":100,"stage":"open"}
{"kind":"lead","id":"l1","created_at":"2026-03-05T00:00:00Z","mql_at":"2026-03-06T00:00:00Z","sql_at":"2026-03-07T00:00:00Z","opportunity":"o1"}`,
		},
	})
}

// Each delivery drill-down lists the data problems among the links behind
// its value; the scorecard's computation (no Records) carries none.
func TestDrillDownProblems(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c9"]}
{"kind":"deployment","id":"r1","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success","rollback_of":"gone"}
{"kind":"deployment","id":"s1","service":"api","environment":"staging","finished_at":"2026-03-11T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-12T00:00:00Z","caused_by":"s1"}`)
	const (
		list     = "deployment import/d1 changes: names change c9, which is not in the data; it links nothing"
		rollback = "deployment import/r1 rollback_of: names deployment gone, which is not in the data; it links nothing"
		cause    = "incident import/i1 caused_by: names deployment s1, which is not a production deployment (environment staging); it links nothing"
	)
	for metric, want := range map[string][]string{
		"lead_time_for_changes":           {list},
		"change_failure_rate":             {rollback, cause},
		"failed_deployment_recovery_time": {rollback, cause},
		"rollback_rate":                   {rollback},
		"deployment_frequency":            nil,
	} {
		for _, records := range []bool{true, false} {
			r, err := d.Compute(metric, Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: records})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range r.Problems {
				got = append(got, p.String())
			}
			if w := map[bool][]string{true: want, false: nil}[records]; !slices.Equal(got, w) {
				t.Errorf("%s (records %v) problems = %q, want %q", metric, records, got, w)
			}
		}
	}
}
