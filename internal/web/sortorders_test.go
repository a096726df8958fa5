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

// A records table the reader has not sorted lists the records its metric notes first — change
// failure rate's failures, which had come in among the others, oldest first — newest first
// within each, and says so; sorting by a column still orders by that column alone.
func TestRecordsDefaultOrder(t *testing.T) {
	e := newEnv(t, 0)
	page := func(path, q string) string {
		t.Helper()
		return e.get200(t, path+"?as_of="+asOf+"&window=30d&"+q)
	}
	order := func(what, body string, ids ...string) {
		t.Helper()
		at := -1
		for _, id := range ids {
			i := strings.Index(body, ">"+id+"<")
			if i < 0 || i < at {
				t.Errorf("%s: rows not in the order %v (%s at %d)", what, ids, id, i)
				return
			}
			at = i
		}
	}
	const cfr = "/metrics/change_failure_rate"
	// d2 failed and d4 caused an incident: they come first, the newer first.
	body := page(cfr, "limit=4")
	order("change failure rate", body, "d4", "d2", "d3", "d1")
	if !strings.Contains(body, `<p class="records__order">The 2 records with a note come first, then the others, newest first within each`) {
		t.Error("the table does not say how it is ordered")
	}
	if strings.Contains(body, "aria-sort") {
		t.Error("a column is marked sorted, though the reader sorted none")
	}
	order("its second page", page(cfr, "limit=2&offset=2"), "d3", "d1")
	order("sorted by time", page(cfr, "sort=finished_at&limit=4"), "d1", "d2", "d3", "d4")
	order("sorted by time, newest first", page(cfr, "sort=-finished_at&limit=4"), "d4", "d3", "d2", "d1")
	if body := page(cfr, "sort=finished_at&limit=4"); strings.Contains(body, "records__order") {
		t.Error("a sorted table still says it lists the noted records first")
	}
	// A metric that notes none of its records keeps its own order.
	body = page("/metrics/deployment_frequency", "limit=4")
	order("deployment frequency", body, "d1", "d3", "d4")
	if strings.Contains(body, "records__order") {
		t.Error("deployment frequency's table says it puts noted records first")
	}
}
