package web

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/scorecard"
)

// Every route the server answers has a row in the README's route tables (POST /shares, the metric
// page's share form, and GET /metrics/{id}/acknowledgements, the action form's address sent back
// to the page, had none). A row's first cell may name several routes ("GET /shares, POST
// /shares/{id}/revoke"; "POST /x/approve, …/reject"); queries and "[?…]" are left out.
func TestREADMEListsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	route := regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) ([^`?\\[ ]+)[^`]*`|`…(/[^`?\\[ ]+)`")
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		last := ""
		for _, m := range route.FindAllStringSubmatch(first, -1) {
			method, path := m[1], m[2]
			if method == "" { // "…/reject": the previous route's path with its last part replaced
				method, path = last[:strings.Index(last, " ")], last[strings.Index(last, " ")+1:strings.LastIndex(last, "/")]+m[3]
			}
			last = method + " " + path
			documented[last] = true
		}
	}
	for _, rt := range (&Server{}).Routes() {
		pattern := strings.TrimSuffix(rt.Pattern, "{$}")
		pattern = strings.ReplaceAll(pattern, "...}", "}")
		if pattern == "" {
			pattern = "/"
		}
		if !documented[rt.Method+" "+pattern] {
			t.Errorf("%s %s has no row in the README's route tables", rt.Method, pattern)
		}
	}
}

// The README's shape of GET /api/v1/sources names every top-level key the report has (it had left
// out quarantined).
func TestREADMESourcesShape(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `GET /api/v1/sources") {
			row = line
		}
	}
	if row == "" {
		t.Fatal("the README has no GET /api/v1/sources row")
	}
	ty := reflect.TypeFor[scorecard.SourcesReport]()
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && !strings.Contains(row, `"`+name+`"`) {
			t.Errorf("the README's GET /api/v1/sources shape lacks %q", name)
		}
	}
}
