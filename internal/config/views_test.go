package config

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// boardView is a new CFO's own view: cost and revenue, budget variance by category, pillar health;
// the ceo and vp_cs roles may open it besides those that open every view.
const boardView = `views:
  - id: cfo
    name: CFO
    description: Spend against budget and what revenue it buys.
    metrics: [budget_variance, infrastructure_cost, arr, cac_payback_months]
    breakdowns: {budget_variance: category}
    sections: [pillars]
    roles: [ceo, vp_cs]
`

// SPEC §4 with seed 003: a role view defined in configuration beside the built-in ones, with its
// metrics in order, their breakdown, and who may open it.
func TestCustomView(t *testing.T) {
	c, err := Load(write(t, boardView), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := cat.View("cfo")
	if !ok || v.Name != "CFO" || !slices.Equal(v.Metrics, []string{"budget_variance", "infrastructure_cost", "arr", "cac_payback_months"}) ||
		v.Breakdowns["budget_variance"] != "category" || !slices.Equal(v.Sections, []string{"pillars"}) {
		t.Fatalf("view cfo = %+v (found %v)", v, ok)
	}
	if _, ok := cat.View("ceo"); !ok || cat.Views[len(cat.Views)-1].ID != "cfo" {
		t.Errorf("the custom view does not follow the built-in ones: %d views", len(cat.Views))
	}
	g, err := c.Grants(cat)
	if err != nil {
		t.Fatal(err)
	}
	for role, want := range map[string]bool{"ceo": true, "vp_cs": true, "executive": true, "auditor": true, "support": false, "cro": false, "admin": false} {
		if got := g.Access([]string{role}).CanSeeView("cfo"); got != want {
			t.Errorf("%s may open the cfo view: %v, want %v", role, got, want)
		}
	}
	// The view's metrics come with it: vp_cs sees budget variance through it, as a role sees a
	// built-in view's; its own view still opens.
	bv, _ := cat.Metric("budget_variance")
	if a := g.Access([]string{"vp_cs"}); !a.CanSeeMetric(bv) || !a.CanSeeView("vp_cs") {
		t.Errorf("vp_cs: sees budget_variance %v, its own view %v", a.CanSeeMetric(bv), a.CanSeeView("vp_cs"))
	}
	if g.Access([]string{"support"}).CanSeeMetric(bv) {
		t.Error("support sees budget_variance without the view")
	}
}

// A custom view is checked at load like a built-in one, each error naming the file and line.
func TestCustomViewRefused(t *testing.T) {
	cases := []struct {
		name, edit, with, want, lineOf string
	}{
		{"unknown metric", "infrastructure_cost, arr", "infrastructure_cost, arrr", `view "cfo": metrics[2]: unknown metric "arrr"`, "arrr"},
		{"breakdown offered", "{budget_variance: category}", "{budget_variance: plan}", `view "cfo": breakdowns.budget_variance: metric "budget_variance" cannot be broken down by "plan"`, "plan}"},
		{"section known", "[pillars]", "[pillars, gossip]", `view "cfo": sections[1]: unknown section "gossip"`, "gossip"},
		{"built-in id", "id: cfo", "id: ceo", `view "ceo": id: "ceo" is a built-in view; choose another id`, "id: ceo"},
		{"id snake_case", "id: cfo", "id: New CFO", `id: "New CFO" is not snake_case`, "id: New CFO"},
		{"name required", "    name: CFO\n", "", `view "cfo": name: required`, "id: cfo"},
		{"unknown role", "[ceo, vp_cs]", "[ceo, cfo_office]", `view "cfo": roles[1]: unknown role "cfo_office"; known: admin, executive`, "cfo_office"},
		{"unknown key", "roles:", "rolez:", `unknown key "rolez" (did you mean "roles"?)`, "rolez"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(boardView, tt.edit, tt.with, 1)
			path := write(t, src)
			_, err := Load(path, env(nil))
			if err == nil {
				t.Fatal("accepted")
			}
			line := strings.Count(src[:strings.Index(src, tt.lineOf)], "\n") + 1
			for _, want := range []string{tt.want, path + ":" + strconv.Itoa(line) + ":"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

// Only an origin may frame share links: a value that is not one (a path, a keyword, another
// directive smuggled in) stops Candor at load.
func TestShareFrameAncestors(t *testing.T) {
	c, err := Load(write(t, "share: {frame_ancestors: [\"https://wiki.example.com\", \"https://*.intranet.example:8443\"]}\n"), env(nil))
	if err != nil || len(c.Share.FrameAncestors) != 2 {
		t.Fatalf("Load = %+v, %v", c.Share, err)
	}
	for _, bad := range []string{"*", "'self'; script-src *", "https://wiki.example.com/page", "wiki.example.com"} {
		_, err := Load(write(t, "share: {frame_ancestors: [\""+strings.ReplaceAll(bad, `"`, `\"`)+"\"]}\n"), env(nil))
		if err == nil || !strings.Contains(err.Error(), "share.frame_ancestors[0]") {
			t.Errorf("frame ancestor %q: %v, want refused", bad, err)
		}
	}
	// Plain http is refused naming the file, line and key, as the docs say
	// (https://host[:port]), but for localhost.
	for _, o := range []string{"http://wiki.example.com", "http://*.example.com", "http://localhost.example.com:8080"} {
		path := write(t, "currency: USD\nshare:\n  frame_ancestors:\n    - https://wiki.example.com\n    - "+o+"\n")
		_, err := Load(path, env(nil))
		if err == nil || !strings.Contains(err.Error(), path+":5: share.frame_ancestors[1]: \""+o+"\" is plain http") {
			t.Errorf("frame ancestor %q: %v, want refused naming line 5", o, err)
		}
	}
	for _, o := range []string{"http://localhost", "http://localhost:3000", "http://127.0.0.1:8090"} {
		if _, err := Load(write(t, "share: {frame_ancestors: [\""+o+"\"]}\n"), env(nil)); err != nil {
			t.Errorf("frame ancestor %q: %v", o, err)
		}
	}
}

// Business-cycle annotations become periods to shade on trend charts, the end date included;
// a bad one stops Candor at load with the file, the line and the field.
func TestAnnotations(t *testing.T) {
	src := "annotations:\n  - {name: Q1 change freeze, kind: freeze, from: 2026-03-20, to: 2026-03-31}\n"
	c, err := Load(write(t, src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.Periods()
	if err != nil || len(ps) != 1 || ps[0].Label != "Q1 change freeze" || ps[0].From.Format(time.DateOnly) != "2026-03-20" || ps[0].To.Format(time.DateOnly) != "2026-04-01" {
		t.Fatalf("Periods = %+v, %v", ps, err)
	}
	for _, tt := range []struct{ edit, with, want string }{
		{"kind: freeze", "kind: holiday", `annotations[0].kind: "holiday": want one of freeze, peak_season, quarter_end, launch, other`},
		{"to: 2026-03-31", "to: 2026-03-01", "annotations[0].to: 2026-03-01 is before from (2026-03-20)"},
		{"from: 2026-03-20", "from: 20 March", `annotations[0].from: "20 March" is not a date`},
		{"name: Q1 change freeze, ", "", "annotations[0].name: required"},
	} {
		path := write(t, "data: x\n"+strings.Replace(src, tt.edit, tt.with, 1))
		_, err := Load(path, env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path+":3:") {
			t.Errorf("%s: err = %v, want %q at line 3", tt.with, err, tt.want)
		}
	}
}
