package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/catalog"
)

// Annotations posted over the API join the configured ones on the list, on every trend chart
// with its legend (the metric page, a role view, a shared chart), until withdrawn; bad input is
// refused naming the field and stores nothing.
func TestAnnotationsAPI(t *testing.T) {
	configured := catalog.Annotation{Name: "Q1 close", Kind: "quarter_end", From: "2026-03-30", To: "2026-03-31"}
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Annotations = []catalog.Annotation{configured} })
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	exec := caller{name: "executive", roles: []string{"executive"}, token: e.roleToken(t, "executive")}

	st, raw, _ := e.call(t, "POST", "/api/v1/annotations", `{"name":"Spring launch","kind":"launch","from":"2026-03-10","to":"2026-03-12","scope":"team:core"}`, "application/json", eng)
	var posted annotation.Entry
	if st != 201 || json.Unmarshal(raw, &posted) != nil || posted.ID == 0 || posted.By == "" || posted.Origin != annotation.FromAPI {
		t.Fatalf("post: %d %s", st, raw)
	}
	for _, tt := range []struct{ body, param string }{
		{`{"name":"x","kind":"holiday","from":"2026-03-10","to":"2026-03-12"}`, "kind"},
		{`{"name":"x","kind":"freeze","from":"2026-03-12","to":"2026-03-10"}`, "to"},
		{`{"name":"x","kind":"freeze","from":"2026-03-10","to":"2026-03-12","scope":"team:nosuch"}`, "scope"},
		{`{"title":"x","kind":"freeze","from":"2026-03-10","to":"2026-03-12"}`, "title"},
	} {
		st, raw, _ := e.call(t, "POST", "/api/v1/annotations", tt.body, "application/json", eng)
		if st != 400 || !strings.Contains(string(raw), `"param": "`+tt.param+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", tt.body, st, raw, tt.param)
		}
	}

	list := func(query string) string {
		st, raw, _ := e.call(t, "GET", "/api/v1/annotations"+query, "", "", exec)
		var out struct{ Annotations []annotation.Entry }
		if st != 200 || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("list%s: %d %s", query, st, raw)
		}
		var names []string
		for _, a := range out.Annotations {
			names = append(names, a.Name+"/"+a.Origin)
		}
		return strings.Join(names, ",")
	}
	if got := list(""); got != "Spring launch/api,Q1 close/configuration" {
		t.Errorf("list = %s", got)
	}
	// Both ends are dates, included: the launch ends on 12 March.
	if got := list("?from=2026-03-12&to=2026-03-29"); got != "Spring launch/api" {
		t.Errorf("list 12–29 March = %s", got)
	}
	if got := list("?from=2026-03-13&to=2026-03-29"); got != "" {
		t.Errorf("list 13–29 March = %s", got)
	}
	if st, raw, _ := e.call(t, "GET", "/api/v1/annotations?from=March", "", "", exec); st != 400 || !strings.Contains(string(raw), `"param": "from"`) {
		t.Errorf("a bad from: %d %s", st, raw)
	}

	// On the metric page: shaded, and named in the legend with its kind, dates and scope.
	cl := e.sessionAs(t, "engineering")
	page := e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf, 200)
	for _, want := range []string{"Spring launch (launch): 10 Mar 2026 to 12 Mar 2026", `<strong>Spring launch</strong> <span class="muted">launch · 10 Mar 2026 to 12 Mar 2026 · team:core`,
		`<strong>Q1 close</strong> <span class="muted">quarter end · 30 Mar 2026 to 31 Mar 2026`} {
		if !strings.Contains(page, want) {
			t.Errorf("the metric page lacks %q", want)
		}
	}
	// A team's own launch is not another team's context.
	if page := e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf+"&team=growth", 200); strings.Contains(page, "Spring launch") {
		t.Error("team growth's page shows team core's launch")
	}
	// A role view names them once, above its trends.
	view := e.page(t, e.sessionAs(t, "executive"), "/views/engineering?as_of="+asOf, 200)
	if strings.Count(view, `<strong>Spring launch</strong>`) != 1 || !strings.Contains(view, "Shaded on the trends") || !strings.Contains(view, `class="annotation"`) {
		t.Error("the engineering view does not name the launch once in its legend")
	}
	// A shared chart shades and names them too.
	_, link, _ := e.share(t, eng, `{"kind":"chart","subject":"deployment_frequency","filters":{"as_of":"`+asOf+`"}}`)
	if _, body, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"}); !strings.Contains(string(body), `<strong>Spring launch</strong>`) {
		t.Errorf("the shared chart does not name the launch:\n%s", clip(body))
	}

	// Withdrawn: gone from the list and the charts; a second withdrawal is a conflict.
	path := fmt.Sprintf("/api/v1/annotations/%d/withdraw", posted.ID)
	if st, raw, _ := e.call(t, "POST", path, "", "", eng); st != 200 || !strings.Contains(string(raw), `"withdrawn_at"`) {
		t.Fatalf("withdraw: %d %s", st, raw)
	}
	if st, _, _ := e.call(t, "POST", path, "", "", eng); st != 409 {
		t.Errorf("second withdrawal: %d, want 409", st)
	}
	if got := list(""); got != "Q1 close/configuration" {
		t.Errorf("after withdrawal list = %s", got)
	}
	if page := e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf, 200); strings.Contains(page, "Spring launch") {
		t.Error("the metric page still shows the withdrawn launch")
	}
}
