package metrics

import (
	"math"
	"testing"
)

// Deployments nothing makes fail share their service's one failure memo;
// one rolled back or with an incident keeps its own, and a new incident
// moves the shared memo on with the service's failure generation.
func TestCleanFailMemosShared(t *testing.T) {
	d := load(t, nil, nd(dailyDeps(t, "a", "api", "2026-03-01", 5, 0), dailyDeps(t, "w", "web", "2026-03-01", 2, 0),
		`{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-03T06:00:00Z","caused_by":"a03"}`))
	a1, a2, a3 := depByID(t, d, "a01"), depByID(t, d, "a02"), depByID(t, d, "a03")
	m1, m2, m3 := d.failOf(a1, math.MaxInt64), d.failOf(a2, math.MaxInt64), d.failOf(a3, math.MaxInt64)
	if m1 != m2 {
		t.Errorf("two clean deployments of api hold memos of their own (%p, %p)", m1, m2)
	}
	if m3 == m1 || len(m3.incidents) != 1 {
		t.Errorf("a03's memo %p (shared %p) names %d incidents, want its own naming 1", m3, m1, len(m3.incidents))
	}
	w1 := d.failOf(depByID(t, d, "w01"), math.MaxInt64)
	if w1 == m1 {
		t.Error("web's clean deployments share api's memo")
	}
	if w2 := d.failOf(depByID(t, d, "w02"), math.MaxInt64); w2 != w1 {
		t.Error("two clean deployments of web hold memos of their own")
	}

	apply(t, d, `{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-02T06:00:00Z","caused_by":"a02"}`)
	n1, n2 := d.failOf(a1, math.MaxInt64), d.failOf(a2, math.MaxInt64)
	if n1 == m1 || n1.links != d.depSvc(a1).failGen {
		t.Errorf("after an incident on api the clean memo is the old one (links %d, service at %d)", n1.links, d.depSvc(a1).failGen)
	}
	if n2 == n1 || len(n2.incidents) != 1 {
		t.Errorf("a02 after its incident: memo %p (shared %p) names %d incidents, want its own naming 1", n2, n1, len(n2.incidents))
	}
	if d.failOf(depByID(t, d, "a04"), math.MaxInt64) != n1 {
		t.Error("a04 and a01 no longer share after the new incident")
	}
}
