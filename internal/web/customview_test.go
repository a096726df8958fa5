package web

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/config"
)

// customViewConfig is an organisation's own view for its new CFO, opened by ceo and vp_cs
// besides the roles that open every view.
const customViewConfig = `views:
  - id: cfo
    name: CFO
    description: Spend against budget and what revenue it buys.
    metrics: [budget_variance, change_failure_rate, arr]
    breakdowns: {change_failure_rate: service}
    roles: [ceo, vp_cs]
`

// withConfigViews serves the catalog and roles of a configuration holding customViewConfig.
func withConfigViews(t *testing.T) func(s *Server, _ string) {
	return func(s *Server, _ string) {
		path := filepath.Join(t.TempDir(), "candor.yaml")
		if err := os.WriteFile(path, []byte(customViewConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		cat, err := cfg.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		roles, err := cfg.RoleOverrides()
		if err != nil {
			t.Fatal(err)
		}
		s.Catalog, s.Auth = cat, newAuthWith(t, s.Store, cat, roles)
	}
}

// The route × role test for a view defined in configuration: its page and its API answer every
// role the view names and every role that opens all views, refuse the others (403) and the
// unauthenticated (sign-in page, 401), and list it only to those who may open it.
func TestCustomViewRouteAccess(t *testing.T) {
	e := newEnvWith(t, 0, withConfigViews(t))
	admitted := []string{"executive", "auditor", "ceo", "vp_cs"}
	for _, rt := range []struct {
		kind Kind
		path string
	}{{HTML, "/views/cfo?as_of=" + asOf}, {API, "/api/v1/views/cfo?as_of=" + asOf}} {
		var saw []string
		for _, cl := range e.callers(t, rt.kind) {
			want := 403
			switch {
			case cl.roles == nil && rt.kind == API:
				want = 401
			case cl.roles == nil:
				want = 303
			case slices.Contains(admitted, cl.roles[0]):
				want = 200
				saw = append(saw, cl.roles[0])
			}
			status, body, hdr := e.call(t, "GET", rt.path, "", "", cl)
			if status != want {
				t.Errorf("GET %s as %s: %d, want %d\n%s", rt.path, cl.name, status, want, clip(body))
				continue
			}
			checkRefusal(t, rt.path+" as "+cl.name, rt.kind, status, body, hdr)
			if status == 200 && rt.kind == HTML {
				page := string(body)
				b, c, a := strings.Index(page, "Budget variance"), strings.Index(page, "Change failure rate"), strings.Index(page, "Annual recurring revenue")
				if b < 0 || c < b || a < c {
					t.Errorf("%s: the CFO page does not show its metrics in order (%d, %d, %d)", cl.name, b, c, a)
				}
			}
		}
		if len(saw) != len(admitted) {
			t.Errorf("%s admitted %v, want %v", rt.path, saw, admitted)
		}
	}
	for role, listed := range map[string]bool{"ceo": true, "vp_cs": true, "support": false} {
		_, body, _ := e.call(t, "GET", "/api/v1/views", "", "", caller{name: role, roles: []string{role}, token: e.roleToken(t, role)})
		if got := strings.Contains(string(body), `"id": "cfo"`); got != listed {
			t.Errorf("GET /api/v1/views as %s lists cfo: %v, want %v\n%s", role, got, listed, clip(body))
		}
	}
}

// A role view's panel of a metric summing cost says how far the cost is reported, as the
// scorecard's card and the metric page do: the demo's CFO view drew the week to today's
// cost, billed to midnight, as an 11 % fall with nothing to say why, where `candor view`
// wrote "cost reported to …" and "(partial)".
func TestRoleViewSaysWhatIsNotReportedYet(t *testing.T) {
	e := newEnvWith(t, 0, withConfigViews(t))
	budget := `{"kind":"budget","id":"q1","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":7000}`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: costToMarch + budget, status: 200})
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/views/cfo?as_of=2026-03-31T09:17:00Z", 200)
	if want := "Cost data to 31 Mar 2026 00:00 UTC: the window's last 9 h 17 min are not reported yet, and the trend compares a whole window with the part reported."; !strings.Contains(body, want) {
		t.Errorf("the CFO view's panel lacks %q", want)
	}
	if want := "The week ending 31 Mar is partial: its cost data reaches 31 Mar 00:00 UTC, 9 h 17 min short of its end"; !strings.Contains(body, want) {
		t.Errorf("the CFO view's chart note lacks %q", want)
	}
	// At the data's end nothing is partial.
	body = e.page(t, cl, "/views/cfo?as_of=2026-03-31T00:00:00Z", 200)
	if strings.Contains(body, "not reported yet") || strings.Contains(body, "is partial") {
		t.Errorf("the CFO view at the data's end says it is partial")
	}
}

// A role view's panel says, as the scorecard's card does, that a value
// summing subscriptions' changes over its window saw none (a stopped
// billing feed reads as a real 0): the panels had said nothing.
func TestRoleViewSaysAQuietStateKind(t *testing.T) {
	e := newEnv(t, 0)
	subs := `{"kind":"subscription","id":"q-s1","customer":"quiet-acme","plan":"pro","mrr":100,"started_at":"2026-06-01T00:00:00Z"}
{"kind":"subscription","id":"q-s2","customer":"quiet-beta","plan":"pro","mrr":50,"started_at":"2026-11-24T00:00:00Z"}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: subs, status: 200})
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/views/vp_cs?as_of=2026-12-05T00:00:00Z&window=7d", 200)
	if want := "No subscription record changed in the window: the newest change is from 24 Nov 2026 00:00 UTC. Check that its feed still runs."; !strings.Contains(body, want) {
		t.Errorf("the VP Customer Success view lacks %q", want)
	}
	// A window holding the change says nothing.
	if body := e.page(t, cl, "/views/vp_cs?as_of=2026-12-05T00:00:00Z&window=30d", 200); strings.Contains(body, "record changed in the window") {
		t.Errorf("a 30-day window holding the change is said quiet")
	}
}
