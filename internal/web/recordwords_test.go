package web

import (
	"regexp"
	"strings"
	"testing"
)

// recordsTableOf is the records table of a metric page.
func recordsTableOf(page string) string {
	return regexp.MustCompile(`(?s)<table class="table table--compact records">.*?</table>`).FindString(page)
}

// ARR's records table had a note column repeating each subscription's
// customer id ("cus-00002"), which has its own column: there is no note
// now.
func TestARRRecordsHaveNoCustomerNote(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200,
		body: `{"kind":"subscription","id":"sub-1","customer":"cus-00002","started_at":"2026-01-01T00:00:00Z","mrr":100,"plan":"pro"}`})
	table := recordsTableOf(e.get200(t, "/metrics/arr?as_of="+asOf))
	if strings.Count(table, "cus-00002") != 1 || strings.Contains(table, ">note<") {
		t.Errorf("ARR's records table repeats the customer in a note:\n%s", table)
	}
}
