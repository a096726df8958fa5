package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// Every link a closing page carries closing=1 to must take it: a link to
// a page that refuses closing is a 400 one click away.
func TestRev2ClosingLinksAllTakeIt(t *testing.T) {
	e := rev2ClosingEnv(t)
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
