package metrics

import (
	"testing"
	"time"
)

// SPEC §2 linking, checked link by link. Expectations are read off the
// SPEC sentences quoted in the case names and comments.

func TestChangeDeployment(t *testing.T) {
	cases := []struct {
		name, data, change string
		wantDep, wantHow   string // wantDep "<nil>": not deployed
	}{
		{
			name: "explicit wins over an earlier eligible deployment", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-08T00:00:00Z","status":"success","changes":["c1"]}`,
			wantDep: "d2", wantHow: Explicit,
		},
		{
			name: "when several list it, the earliest by finished_at", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"rolled_back","changes":["c1"]}`,
			wantDep: "d2", wantHow: Explicit,
		},
		{
			name: "explicit link may cross services", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"lib","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}`,
			wantDep: "d1", wantHow: Explicit,
		},
		{
			name: "a staging deployment's list is not a production link", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"s1","service":"api","environment":"staging","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success"}`,
			wantDep: "d1", wantHow: Inferred,
		},
		{
			// Ambiguity (SPEC §2 names no status for the explicit rule): a
			// failed deployment shipped nothing, so its retry that lists
			// the same change is the one that shipped it.
			name: "a failed listing deployment does not ship: its retry does", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d_fail","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure","changes":["c1"]}
{"kind":"deployment","id":"d_retry","service":"api","environment":"production","finished_at":"2026-03-06T02:00:00Z","status":"success","changes":["c1"]}`,
			wantDep: "d_retry", wantHow: Explicit,
		},
		{
			name: "listed only by a failed deployment: inferred to the next eligible one", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d_fail","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"failure","changes":["c1"]}
{"kind":"deployment","id":"d_next","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success"}`,
			wantDep: "d_next", wantHow: Inferred,
		},
		{
			name: "inferred: finished_at at or after merged_at", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-06T00:00:00Z"}
{"kind":"deployment","id":"d0","service":"api","environment":"production","finished_at":"2026-03-05T23:59:59Z","status":"success"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-07T00:00:00Z","status":"success"}`,
			wantDep: "d1", wantHow: Inferred,
		},
		{
			name: "inferred: skips failures, staging and other services", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d_fail","service":"api","environment":"production","finished_at":"2026-03-05T06:00:00Z","status":"failure"}
{"kind":"deployment","id":"d_stg","service":"api","environment":"stage","finished_at":"2026-03-05T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d_web","service":"web","environment":"production","finished_at":"2026-03-05T18:00:00Z","status":"success"}
{"kind":"deployment","id":"d_rb","service":"api","environment":"prod","finished_at":"2026-03-06T00:00:00Z","status":"rolled_back"}`,
			wantDep: "d_rb", wantHow: Inferred,
		},
		{
			name: "a listing deployment still receives unlisted changes", change: "c2",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-03-09T12:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c1"]}`,
			wantDep: "d1", wantHow: Inferred,
		},
		{
			// SPEC is silent on ties; the lower id is taken so the answer is
			// stable.
			name: "ties in finished_at: one deployment, the lower id", change: "c1",
			data: `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"deployment","id":"db","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"da","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`,
			wantDep: "da", wantHow: Inferred,
		},
		{
			name: "not deployed yet", change: "c1",
			data: `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-10T00:00:01Z"}`,
			wantDep: "<nil>", wantHow: "",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := load(t, nil, c.data)
			x, how := d.ChangeDeployment(chgByID(t, d, c.change))
			if depID(d, x) != c.wantDep || how != c.wantHow {
				t.Errorf("ChangeDeployment(%s) = %s %q, want %s %q", c.change, depID(d, x), how, c.wantDep, c.wantHow)
			}
			// changesOf must agree: the change is shipped by that
			// deployment and by no other.
			for y := range d.allDeps() {
				shipped := ""
				d.changesOf(y, 1<<63-1, func(ch *Chg, method string) {
					if ch.ID == c.change {
						if shipped != "" {
							t.Errorf("%s ships %s twice", d.str(y.id), c.change)
						}
						shipped = method
					}
				})
				if y == x && shipped != c.wantHow {
					t.Errorf("changesOf(%s) gives %s as %q, want %q", d.str(y.id), c.change, shipped, c.wantHow)
				}
				if y != x && shipped != "" {
					t.Errorf("changesOf(%s) also ships %s (%s)", d.str(y.id), c.change, shipped)
				}
			}
		})
	}
}

func TestIncidentDeployment(t *testing.T) {
	const deps = `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","change_request":"CHG-1"}
{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success","change_request":"CHG-1"}
{"kind":"deployment","id":"stg","service":"api","environment":"staging","finished_at":"2026-03-12T06:00:00Z","status":"success"}
{"kind":"deployment","id":"fail","service":"api","environment":"production","finished_at":"2026-03-12T07:00:00Z","status":"failure"}
{"kind":"deployment","id":"w1","service":"web","environment":"production","finished_at":"2026-03-12T08:00:00Z","status":"success"}`
	cases := []struct {
		name, incident   string
		cfg              *Config
		wantDep, wantHow string
		wantProblem      string
	}{
		{
			name:     "caused_by is explicit, whatever the timing",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-20T00:00:00Z","caused_by":"d1"}`,
			wantDep:  "d1", wantHow: Explicit,
		},
		{
			name:     "caused_by_change_request: the deployment of that change request live at opened_at",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-11T00:00:00Z","caused_by_change_request":"CHG-1"}`,
			// d1 (03-10) was live on 03-11; d2 (03-12) had not happened.
			wantDep: "d1", wantHow: Explicit,
		},
		{
			name:     "caused_by_change_request: the latest of its deployments before opened_at",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-20T00:00:00Z","caused_by_change_request":"CHG-1"}`,
			wantDep:  "d2", wantHow: Explicit,
		},
		{
			name:     "unknown caused_by: unattributed, reported as a data problem",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-12T01:00:00Z","caused_by":"d-missing"}`,
			wantDep:  "<nil>", wantHow: Explicit,
			wantProblem: "caused_by: names deployment d-missing, which is not in the data; it links nothing",
		},
		{
			name:     "unknown caused_by_change_request: unattributed, reported",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-12T01:00:00Z","caused_by_change_request":"CHG-9"}`,
			wantDep:  "<nil>", wantHow: Explicit,
			wantProblem: "caused_by_change_request: no production deployment carries change request CHG-9; it links nothing",
		},
		{
			name:     "inferred: the latest eligible production deployment of the service",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-12T09:00:00Z"}`,
			// d2 (03-12T00); not stg (staging), fail (failure), w1 (web).
			wantDep: "d2", wantHow: Inferred,
		},
		{
			name:     "inferred: exactly 24 h before opened_at is inside",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:00Z"}`,
			wantDep:  "d2", wantHow: Inferred,
		},
		{
			name:     "inferred: 24 h + 1 s before opened_at is outside",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-13T00:00:01Z"}`,
			wantDep:  "<nil>", wantHow: "",
		},
		{
			name:     "inferred: finished exactly at opened_at is inside",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-12T00:00:00Z"}`,
			wantDep:  "d2", wantHow: Inferred,
		},
		{
			name:     "inferred: a deployment finishing after opened_at is not the cause",
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-11T23:59:59Z"}`,
			// d2 finishes 1 s later; d1 is 47 h earlier, outside 24 h.
			wantDep: "<nil>", wantHow: "",
		},
		{
			name:     "never across services",
			incident: `{"kind":"incident","id":"i","service":"db","severity":"P2","opened_at":"2026-03-12T09:00:00Z"}`,
			wantDep:  "<nil>", wantHow: "",
		},
		{
			name:     "configurable attribution window",
			cfg:      &Config{AttributionWindow: 6 * time.Hour},
			incident: `{"kind":"incident","id":"i","service":"api","severity":"P2","opened_at":"2026-03-12T09:00:00Z"}`,
			// d2 is 9 h before: outside 6 h.
			wantDep: "<nil>", wantHow: "",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := load(t, c.cfg, deps+"\n"+c.incident)
			i := incByID(t, d, "i")
			x, how, p := d.IncidentDeployment(i)
			problem := ""
			if p != nil {
				problem = p.Field + ": " + p.Reason
			}
			if depID(d, x) != c.wantDep || how != c.wantHow || problem != c.wantProblem {
				t.Errorf("IncidentDeployment = %s %q %q, want %s %q %q", depID(d, x), how, problem, c.wantDep, c.wantHow, c.wantProblem)
			}
			// incidentsOf is the reverse link and must agree.
			asOf := ts(t, defaultAsOf).UnixNano()
			for y := range d.allDeps() {
				linked := false
				for _, j := range d.incidentsOf(y, asOf) {
					linked = linked || j == i
				}
				if linked != (y == x && y.Prod) {
					t.Errorf("incidentsOf(%s) contains i = %v", d.str(y.id), linked)
				}
			}
		})
	}
}

func TestRolledBack(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"rb","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"a","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success"}
{"kind":"deployment","id":"a_rb","service":"api","environment":"production","finished_at":"2026-03-11T01:00:00Z","status":"success","rollback_of":"a"}
{"kind":"deployment","id":"b","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}`)
	at := func(s string) int64 { return ts(t, s).UnixNano() }
	cases := []struct {
		dep, asOf string
		want      bool
	}{
		{"rb", "2026-03-31T00:00:00Z", true}, // status rolled_back
		{"a", "2026-03-31T00:00:00Z", true},  // a_rb has rollback_of = a
		{"a", "2026-03-11T01:00:00Z", true},  // a_rb finished exactly at as_of
		{"a", "2026-03-11T00:30:00Z", false}, // a_rb has not happened yet
		{"a_rb", "2026-03-31T00:00:00Z", false},
		{"b", "2026-03-31T00:00:00Z", false},
	}
	for _, c := range cases {
		if got := d.rolledBack(depByID(t, d, c.dep), at(c.asOf)); got != c.want {
			t.Errorf("rolledBack(%s) as of %s = %v, want %v", c.dep, c.asOf, got, c.want)
		}
	}
}
