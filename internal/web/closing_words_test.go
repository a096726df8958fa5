package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// The closing read's words on pages and pictures (a review's findings).

// closingEnv is quarterEnv with a deal won in the first quarter: as
// of 1 April, closing reads the first quarter (80 %), the instant the
// second (0 %).
func closingEnv(t *testing.T) *env {
	t.Helper()
	e := quarterEnv(t)
	won := `{"kind":"opportunity","id":"w1","owner":"ann","stage":"closed_won","created_at":"2026-01-05T00:00:00Z","qualified_at":"2026-01-06T00:00:00Z","closed_at":"2026-02-10T00:00:00Z","won":true,"amount":800}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", won, nil); code != 200 {
		t.Fatalf("POST the deal: %d %s", code, clip(body))
	}
	return e
}

// A card link's picture (SVG, PNG) is read pasted in a chat, without the
// page: a closing link's picture must say it reads the period closing at
// its date. It draws "March 2026 · as of 1 Apr 2026 00:00 UTC" above the
// first quarter's 80 %, the same words as the instant link's picture above
// the second quarter's 0 %.
func TestClosingSharePictureSaysClosing(t *testing.T) {
	e := closingEnv(t)
	cro := caller{name: "cro", roles: []string{"executive"}, token: e.roleToken(t, "executive")}
	anon := caller{name: "anonymous"}
	st, closing, raw := e.share(t, cro, `{"kind":"card","subject":"quota_attainment","filters":{"month":"2026-03","closing":"1"}}`)
	if st != 201 {
		t.Fatalf("share: %d %s", st, raw)
	}
	st, instant, raw := e.share(t, cro, `{"kind":"card","subject":"quota_attainment","filters":{"month":"2026-03"}}`)
	if st != 201 {
		t.Fatalf("share: %d %s", st, raw)
	}
	_, cb, _ := e.call(t, "GET", closing.URL+"/card.svg", "", "", anon)
	_, ib, _ := e.call(t, "GET", instant.URL+"/card.svg", "", "", anon)
	if !strings.Contains(string(cb), "80") {
		t.Fatalf("the closing link's picture lacks the first quarter's 80 %%:\n%s", clip(cb))
	}
	if !strings.Contains(strings.ToLower(string(cb)), "closing") {
		t.Errorf("the closing link's picture does not say it reads the period closing at its date (the instant link's says the same words over 0 %%):\n%s", clip(cb))
	}
	_ = ib
}

// The closing notice's way back ("Read them at the instant instead")
// keeps the page's breakdown, scope and records' kind and order, as the
// link that offered the closing read kept them (ClosingHref keeps
// by=owner); the notice's link is made from the carried query alone.
func TestClosingWayBackKeepsTheBreakdown(t *testing.T) {
	e := closingEnv(t)
	code, body, _ := e.do(t, "GET", "/metrics/quota_attainment?month=2026-03&closing=1&by=owner", "", nil)
	if code != 200 {
		t.Fatalf("closing page: %d", code)
	}
	back := regexp.MustCompile(`id="closing-notice">[^<]*<a href="([^"]+)"`).FindSubmatch(body)
	if back == nil {
		t.Fatalf("no way back in the notice")
	}
	if href := html.UnescapeString(string(back[1])); !strings.Contains(href, "by=owner") {
		t.Errorf("the way back to the instant's read drops the breakdown: %s", href)
	}
}

// The metric page's trend says what each weekly point and the figure
// above cover. On a closing read its Period says "the quota period
// holding the last instant before 1 Apr 2026 00:00 UTC (a closing read)",
// while the trend's words under it say "the figure above, the period
// holding the page's time" — the second quarter, which the page does not
// show.
func TestClosingTrendWordsSayClosing(t *testing.T) {
	e := closingEnv(t)
	_, body, _ := e.do(t, "GET", "/metrics/quota_attainment?month=2026-03&closing=1", "", nil)
	page := html.UnescapeString(string(body))
	if !strings.Contains(page, "(a closing read)") {
		t.Fatalf("not a closing page:\n%s", clip(body))
	}
	if strings.Contains(page, "the figure above, the period holding the page's time") {
		t.Error("a closing page's trend says the figure above is the period holding the page's time (the next quarter), beside a Period that says it is the one closing then")
	}
}
