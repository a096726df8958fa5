package web

import (
	"strings"
	"testing"
)

// TestPagesReadTheClosingPeriod checks the closing link's page holds
// "80" for the first quarter's 80 %; the instant link's page, whose
// value is the second quarter's 0 %, holds "80" too, so that check
// cannot fail on the value.
func TestRev2InstantSharePageHolds80Too(t *testing.T) {
	e := rev2ClosingEnv(t)
	cro := caller{name: "cro", roles: []string{"executive"}, token: e.roleToken(t, "executive")}
	st, link, raw := e.share(t, cro, `{"kind":"card","subject":"quota_attainment","filters":{"month":"2026-03"}}`)
	if st != 201 {
		t.Fatalf("share: %d %s", st, raw)
	}
	_, body, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"})
	if strings.Contains(string(body), "80") {
		t.Errorf("the instant link's page (0 %%) contains \"80\" as well: TestPagesReadTheClosingPeriod's value check cannot fail")
	}
}
