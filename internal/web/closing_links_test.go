package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// Every link a closing page carries closing=1 to must take it: a link to
// a page that refuses closing is a 400 one click away.
func TestClosingLinksAllTakeIt(t *testing.T) {
	e := closingEnv(t)
	for _, p := range []string{"/?month=2026-03&closing=1", "/views/cro?month=2026-03&closing=1", "/views/ceo?month=2026-03&closing=1", "/metrics/quota_attainment?month=2026-03&closing=1", "/metrics/pipeline_coverage?month=2026-03&closing=1&by=owner"} {
		code, body, _ := e.do(t, "GET", p, "", nil)
		if code != 200 {
			t.Errorf("GET %s: %d", p, code)
			continue
		}
		seen := map[string]bool{}
		for _, a := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(string(body), -1) {
			link := html.UnescapeString(a[1])
			if !strings.Contains(link, "closing=") || seen[link] || !strings.HasPrefix(link, "/") {
				continue
			}
			seen[link] = true
			if c, b, _ := e.do(t, "GET", link, "", nil); c != 200 {
				t.Errorf("%s links to %s: %d %s", p, link, c, clip(b))
			}
		}
	}
}

// The record pages a closing metric page links to, and their links; a
// record's page carries closing without saying it reads it.
func TestClosingRecordPageLinks(t *testing.T) {
	e := closingEnv(t)
	_, body, _ := e.do(t, "GET", "/metrics/quota_attainment?month=2026-03&closing=1", "", nil)
	n := 0
	for _, a := range regexp.MustCompile(`href="(/records/[^"]+)"`).FindAllStringSubmatch(string(body), -1) {
		rec := html.UnescapeString(a[1])
		code, rb, _ := e.do(t, "GET", rec, "", nil)
		if code != 200 {
			t.Errorf("GET %s: %d", rec, code)
			continue
		}
		n++
		// It carries closing for its way back, reading no quota period
		// itself: no notice of a closing read.
		if strings.Contains(string(rb), `id="closing-notice"`) {
			t.Errorf("GET %s: the notice of a closing read on a record's page", rec)
		}
		for _, b := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(string(rb), -1) {
			link := html.UnescapeString(b[1])
			if !strings.Contains(link, "closing=") || !strings.HasPrefix(link, "/") {
				continue
			}
			if c, _, _ := e.do(t, "GET", link, "", nil); c != 200 {
				t.Errorf("%s links to %s: %d", rec, link, c)
			}
		}
	}
	if n == 0 {
		t.Fatal("no record pages linked")
	}
}
