package metrics

import (
	"fmt"
	"testing"

	"github.com/candor/candor/internal/domain"
)

// A failed deployment names the records that made it fail, with how each
// was linked, as of the time asked; an incident names its deployment.
func TestDeploymentFailureOf(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","started_at":"2026-03-10T09:50:00Z","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"deployment","id":"s1","source":"ci","service":"api","environment":"staging","started_at":"2026-03-10T09:00:00Z","finished_at":"2026-03-10T09:10:00Z","status":"failure"}
{"kind":"incident","id":"i1","source":"pd","service":"api","severity":"P2","opened_at":"2026-03-10T11:00:00Z"}
{"kind":"incident","id":"i2","source":"pd","service":"web","severity":"P1","opened_at":"2026-03-10T12:00:00Z","caused_by":"d1"}
{"kind":"deployment","id":"r1","source":"ci","service":"api","environment":"production","started_at":"2026-03-10T12:50:00Z","finished_at":"2026-03-10T13:00:00Z","status":"success","rollback_of":"d1"}
`)
	show := func(f DeploymentFailure) string {
		s := f.Why
		if f.RolledBackBy != nil {
			s += fmt.Sprintf(" by %s/%s", f.RolledBackBy.Source, f.RolledBackBy.ID)
		}
		for _, i := range f.Incidents {
			s += fmt.Sprintf(" %s/%s:%s", i.Source, i.ID, i.Method)
		}
		return s
	}
	for _, tc := range []struct {
		at, want string
	}{
		{"2026-03-10T10:30:00Z", ""},
		{"2026-03-10T11:30:00Z", "caused an incident pd/i1:inferred"},
		{"2026-03-10T12:30:00Z", "caused an incident pd/i1:inferred pd/i2:explicit"},
		{"2026-03-10T14:00:00Z", "rolled back by ci/r1 pd/i1:inferred pd/i2:explicit"},
	} {
		f, ok := d.DeploymentFailureOf("ci", "d1", ts(t, tc.at))
		if !ok || show(f) != tc.want {
			t.Errorf("as of %s: %q (%v), want %q", tc.at, show(f), ok, tc.want)
		}
	}
	if _, ok := d.DeploymentFailureOf("ci", "s1", ts(t, "2026-03-11T00:00:00Z")); ok {
		t.Error("a staging deployment is reported as counted")
	}
	for _, at := range []string{"2026-03-10T09:59:00Z", "2026-03-10T10:00:00Z"} {
		// At its finish it is not in change failure rate's window yet
		// ([as_of − W, as_of)).
		if _, ok := d.DeploymentFailureOf("ci", "d1", ts(t, at)); ok {
			t.Errorf("a deployment is reported as counted as of %s, not after its finish", at)
		}
	}
	for id, want := range map[string]string{"i1": "ci/d1:inferred", "i2": "ci/d1:explicit"} {
		l, ok := d.IncidentCauseOf("pd", id, ts(t, "2026-03-11T00:00:00Z"))
		if got := fmt.Sprintf("%s/%s:%s", l.Source, l.ID, l.Method); !ok || got != want || l.Kind != domain.KindDeployment {
			t.Errorf("incident %s: %s (%v), want %s", id, got, ok, want)
		}
	}
	if _, ok := d.IncidentCauseOf("pd", "i1", ts(t, "2026-03-10T10:30:00Z")); ok {
		t.Error("an incident is attributed before it opened")
	}
}
