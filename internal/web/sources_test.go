package web

import (
	"fmt"
	"testing"
)

// GET /api/v1/sources is the data sources report as JSON (the logic and its
// tests are in scorecard.Sources; this checks the route and its parameter).
func TestSourcesAPI(t *testing.T) {
	e := newEnv(t, 0)
	for _, sc := range []scenario{
		{name: "sources", url: "/api/v1/sources?as_of=" + asOf, status: 200,
			fields: map[string]string{"as_of": "2026-03-31T00:00:00Z", "problems": "[]"},
			check: func(t *testing.T, doc any) {
				kinds := map[string]any{}
				for _, k := range lookup(doc, "kinds").([]any) {
					kinds[fmt.Sprint(lookup(k, "kind"))] = k
				}
				d := kinds["deployment"]
				if fmt.Sprint(lookup(d, "records"), " ", lookup(d, "last_data"), " ", lookup(d, "limit"), " ", lookup(d, "status")) != "4 2026-03-30T12:00:00Z 1d fresh" {
					t.Errorf("deployment = %v", d)
				}
				if s := fmt.Sprint(lookup(kinds["lead"], "status")); s != "never_sent" {
					t.Errorf("lead status = %s, want never_sent", s)
				}
			}},
		{name: "as of before any data", url: "/api/v1/sources?as_of=2026-01-01", status: 200,
			fields: map[string]string{"kinds.1.kind": "deployment", "kinds.1.records": "0", "kinds.1.status": "never_sent"}},
		{name: "bad as_of", url: "/api/v1/sources?as_of=soon", status: 400,
			fields: map[string]string{"param": "as_of"}, contains: []string{"soon"}},
		{name: "read-only", method: "POST", url: "/api/v1/sources", status: 405},
	} {
		t.Run(sc.name, func(t *testing.T) { e.run(t, sc) })
	}
}
