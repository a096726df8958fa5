package web

import (
	"strings"
	"testing"
)

// The controls' values are listed once per data sequence: a page at the
// same data reuses them, and new data (a new team) shows in the next.
func TestChoicesListedOncePerData(t *testing.T) {
	e := newEnv(t, 0)
	get := func(path string) string { return e.get200(t, path) }
	get("/?as_of=" + asOf)
	get("/metrics/change_failure_rate?as_of=" + asOf)
	if n := e.srv.choices.lists; n != 1 {
		t.Errorf("two pages at one data sequence listed the choices %d times, want 1", n)
	}
	code, body, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"service","id":"pay","name":"Payments","team":"money","tier":1}`, nil)
	if code != 201 && code != 200 {
		t.Fatalf("POST record: %d %s", code, clip(body))
	}
	if err := e.srv.Engine.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if page := get("/?as_of=" + asOf); !strings.Contains(page, "<option>money</option>") {
		t.Errorf("the team filter does not offer the new team money")
	}
	if n := e.srv.choices.lists; n != 2 {
		t.Errorf("after new data the choices were listed %d times in all, want 2", n)
	}
}

// get200 is the body of GET path, which must answer 200.
func (e *env) get200(t *testing.T, path string) string {
	t.Helper()
	code, body, _ := e.do(t, "GET", path, "", nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, clip(body))
	}
	return string(body)
}
