package web

import (
	"strings"
	"testing"
)

// Paging through a sorted records table at its pinned as_of sorts it
// once; new data sorts it again; each page is the one sorting alone gives.
func TestSortedTableOrderIsKept(t *testing.T) {
	e := newEnv(t, 0)
	page := func(q string) string {
		t.Helper()
		return e.get200(t, "/metrics/change_failure_rate?as_of="+asOf+"&kind=deployment&"+q)
	}
	order := func(body string, ids ...string) {
		t.Helper()
		at := -1
		for _, id := range ids {
			i := strings.Index(body, ">"+id+"<")
			if i < 0 || i < at {
				t.Fatalf("rows not in the order %v (%s at %d)", ids, id, i)
			}
			at = i
		}
	}
	order(page("sort=-finished_at&limit=2"), "d4", "d3")
	order(page("sort=-finished_at&limit=2&offset=2"), "d2", "d1")
	if e.srv.sorted.sorts != 1 {
		t.Errorf("two pages of one table sorted %d times, want 1", e.srv.sorted.sorts)
	}
	order(page("sort=service&limit=4"), "d1", "d2", "d3", "d4") // ties by id
	order(page("sort=id&limit=4"), "d1", "d2", "d3", "d4")
	if e.srv.sorted.sorts != 3 {
		t.Errorf("three sort orders sorted %d times, want 3", e.srv.sorted.sorts)
	}
	code, body, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"deployment","id":"d0","service":"api","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success"}`, nil)
	if code != 201 && code != 200 {
		t.Fatalf("POST record: %d %s", code, clip(body))
	}
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	order(page("sort=-finished_at&limit=3&offset=1"), "d0", "d3", "d2")
	if e.srv.sorted.sorts != 4 {
		t.Errorf("after new data the table sorted %d times in all, want 4", e.srv.sorted.sorts)
	}
}
