package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
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

// SLA adherence notes only its breaches, so its records table lists them first, newest first:
// with every ticket noted "met" or "breached" the table had kept the metric's order, the
// breaches a support lead opens it for scattered among the tickets met, oldest first.
func TestSLABreachesFirst(t *testing.T) {
	e := newEnv(t, 0)
	tickets := []string{
		`{"kind":"ticket","id":"t1","created_at":"2026-03-10T00:00:00Z","resolved_at":"2026-03-10T02:00:00Z","sla_due_at":"2026-03-10T04:00:00Z","priority":"high"}`,
		`{"kind":"ticket","id":"t2","created_at":"2026-03-11T00:00:00Z","resolved_at":"2026-03-11T06:00:00Z","sla_due_at":"2026-03-11T04:00:00Z","priority":"high"}`,
		`{"kind":"ticket","id":"t3","created_at":"2026-03-12T00:00:00Z","resolved_at":"2026-03-12T02:00:00Z","sla_due_at":"2026-03-12T04:00:00Z","priority":"high"}`,
		`{"kind":"ticket","id":"t4","created_at":"2026-03-13T00:00:00Z","resolved_at":"2026-03-13T09:00:00Z","sla_due_at":"2026-03-13T04:00:00Z","priority":"high"}`,
		`{"kind":"ticket","id":"t5","created_at":"2026-03-14T00:00:00Z","resolved_at":"2026-03-14T01:00:00Z","sla_due_at":"2026-03-14T04:00:00Z","priority":"high"}`,
	}
	for _, b := range tickets {
		if code, body, _ := e.do(t, "POST", "/api/v1/records", b, nil); code != 201 && code != 200 {
			t.Fatalf("POST ticket: %d %s", code, clip(body))
		}
	}
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	body := e.get200(t, "/metrics/sla_adherence?as_of="+asOf+"&window=30d&kind=ticket")
	at := -1
	for _, id := range []string{"t4", "t2", "t5", "t3", "t1"} {
		i := strings.Index(body, ">"+id+"<")
		if i < 0 || i < at {
			t.Fatalf("rows not in the order t4, t2 (breached, newest first), t5, t3, t1 (%s at %d)", id, i)
		}
		at = i
	}
	if !strings.Contains(body, `<p class="records__order">The 2 records with a note come first`) {
		t.Error("the table does not say the breaches come first")
	}
	if n := strings.Count(body, ">breached<"); n != 2 {
		t.Errorf("%d rows noted breached, want 2", n)
	}
}

// A records table's times are UTC, and the table says so once in its heading: a ticket's SLA due
// time of "6 Nov 2026 17:06" had read as the reader's local time.
func TestRecordsSayUTC(t *testing.T) {
	e := newEnv(t, 0)
	body := e.get200(t, "/metrics/change_failure_rate?as_of="+asOf+"&window=30d")
	i := strings.Index(body, `id="records-h"`)
	if i < 0 {
		t.Fatal("no records table")
	}
	head := body[i : i+strings.Index(body[i:], "</h2>")]
	if !strings.Contains(head, " · times in UTC") {
		t.Errorf("the records heading does not say its times are UTC: %s", head)
	}
}

// The order's words agree with the count: "The record with a note comes
// first" had read "The 1 record with a note come first".
func TestDefaultSortWords(t *testing.T) {
	refs := func(noted, others int) []metrics.Ref {
		var out []metrics.Ref
		for i := range noted + others {
			r := metrics.Ref{Kind: domain.KindDeployment, ID: fmt.Sprint("d", i)}
			if i < noted {
				r.Note = "failed"
			}
			out = append(out, r)
		}
		return out
	}
	for _, tt := range []struct {
		noted, others int
		want          string
	}{
		{1, 3, "The record with a note comes first, then the others, newest first;"},
		{2, 3, "The 2 records with a note come first, then the others, newest first within each;"},
		{0, 3, ""},
		{3, 0, ""},
	} {
		_, got := defaultSort(domain.KindDeployment, refs(tt.noted, tt.others))
		if !strings.HasPrefix(got, tt.want) || (tt.want == "") != (got == "") {
			t.Errorf("%d noted of %d: %q, want %q…", tt.noted, tt.noted+tt.others, got, tt.want)
		}
	}
}
