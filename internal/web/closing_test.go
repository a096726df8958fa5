package web

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
)

// TestPagesReadTheClosingPeriod: March's quota attainment page, which reads
// the second quarter (begun at March's end), links to the first quarter's
// reading (closing=1); that page says what it reads and how to go back,
// its controls and month links keep closing (and its records' pages, for
// their way back), its links to pages that do not take closing drop it,
// and those pages refuse it.
func TestPagesReadTheClosingPeriod(t *testing.T) {
	e := closingEnv(t)
	code, body, _ := e.do(t, "GET", "/metrics/quota_attainment?month=2026-03&by=owner", "", nil)
	m := regexp.MustCompile(`<a href="([^"]+)" id="read-closing">Read the period March 2026 closes</a>`).FindSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("March's quota attainment page: %d, no link to the period March closes\n%s", code, clip(body))
	}
	href := html.UnescapeString(string(m[1]))
	if !strings.Contains(href, "closing=1") || !strings.Contains(href, "by=owner") || !strings.HasPrefix(href, "/metrics/quota_attainment?") {
		t.Errorf("the link to the closing period: %s, want the page with its breakdown and closing=1", href)
	}
	code, body, _ = e.do(t, "GET", href, "", nil)
	page := string(body)
	if code != 200 || !strings.Contains(page, `id="closing-notice"`) || strings.Contains(page, "read-closing") {
		t.Fatalf("GET %s: %d, no notice of the closing read (or the link offered again)\n%s", href, code, clip(body))
	}
	if !strings.Contains(page, "<dt>Period</dt><dd>the quota period 1 Jan 2026 – 31 Mar 2026, up to 1 Apr 2026 00:00 UTC (a closing read)</dd>") {
		t.Error("a closing page's Period does not say it is the period closing at its date")
	}
	if !strings.Contains(page, `<input type="hidden" name="closing" value="1">`) {
		t.Error("the controls form of a closing page does not keep closing")
	}
	for _, a := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		link := html.UnescapeString(a[1])
		if !strings.Contains(link, "closing=1") {
			continue
		}
		if !strings.HasPrefix(link, "/metrics/") && !strings.HasPrefix(link, "/?") && !strings.HasPrefix(link, "/views/") && !strings.HasPrefix(link, "/records/") {
			t.Errorf("a closing page links to %s, which does not take closing", link)
		}
	}
	// The notice's way back reads the instant again.
	back := regexp.MustCompile(`id="closing-notice">[^<]*<a href="([^"]+)"`).FindStringSubmatch(page)
	if back == nil || strings.Contains(html.UnescapeString(back[1]), "closing") {
		t.Errorf("the notice's way back: %v", back)
	}

	// What the page shows is what the API gives for the same reading.
	value := func(path string) any {
		t.Helper()
		code, body, _ := e.do(t, "GET", path, "", nil)
		var d struct {
			Metric struct{ Value any }
		}
		if err := json.Unmarshal(body, &d); code != 200 || err != nil {
			t.Fatalf("GET %s: %d %v", path, code, err)
		}
		return d.Metric.Value
	}
	if v := value("/api/v1/metrics/quota_attainment?month=2026-03&closing=1"); v != 80.0 {
		t.Errorf("March's closing read: %v, want 80 (the first quarter's)", v)
	}
	if v := value("/api/v1/metrics/quota_attainment?month=2026-03"); v != 0.0 {
		t.Errorf("March read at the instant: %v, want 0 (the second quarter, just begun)", v)
	}

	// A card link made from the closing page fixes the closing read.
	cro := caller{name: "cro", roles: []string{"executive"}, token: e.roleToken(t, "executive")}
	st, link, raw := e.share(t, cro, `{"kind":"card","subject":"quota_attainment","filters":{"month":"2026-03","closing":"1"}}`)
	if st != 201 {
		t.Fatalf("share: %d %s", st, raw)
	}
	shown := regexp.MustCompile(`<span class="kpi__value[^"]*">([^<]*)</span>`)
	code, body, _ = e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"})
	if v := shown.FindSubmatch(body); code != 200 || !strings.Contains(string(body), `id="closing-notice"`) || v == nil || string(v[1]) != "80 %" {
		t.Errorf("the link to March's closing read: %d, no notice or not the first quarter's 80 %% (%q)\n%s", code, v, clip(body))
	}
	// The same month's link at the instant: the second quarter's 0 %.
	if st, link, raw = e.share(t, cro, `{"kind":"card","subject":"quota_attainment","filters":{"month":"2026-03"}}`); st != 201 {
		t.Fatalf("share: %d %s", st, raw)
	}
	code, body, _ = e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"})
	if v := shown.FindSubmatch(body); code != 200 || strings.Contains(string(body), `id="closing-notice"`) || v == nil || string(v[1]) != "0 %" {
		t.Errorf("the link to March at the instant: %d, a notice or not the second quarter's 0 %% (%q)", code, v)
	}

	for path, want := range map[string]int{"/?month=2026-03&closing=1": 200, "/views/cro?month=2026-03&closing=1": 200, "/customers?closing=1": 400, "/?closing=perhaps": 400} {
		code, body, _ := e.do(t, "GET", path, "", nil)
		if code != want || want == 200 && !strings.Contains(string(body), `id="closing-notice"`) || want == 400 && !strings.Contains(string(body), "closing") {
			t.Errorf("GET %s: %d, want %d (with the notice, or naming closing)", path, code, want)
		}
	}
}

// The scorecard's escalations panel judges as its cards do: read closing,
// March's quota attainment is the first quarter's (83 % of a quarter
// gone whole: red), where at the instant it is the second's, just begun
// (unknown); the panel had judged by the instant beside a red card.
func TestClosingEscalationsAgreeWithTheCards(t *testing.T) {
	e := quarterEnv(t)
	deals := `{"kind":"opportunity","id":"w1","owner":"ann","stage":"closed_won","created_at":"2026-01-05T00:00:00Z","qualified_at":"2026-01-06T00:00:00Z","closed_at":"2026-02-10T00:00:00Z","won":true,"amount":800}
{"kind":"opportunity","id":"w2","owner":"ann","stage":"closed_won","created_at":"2026-03-01T00:00:00Z","qualified_at":"2026-03-02T00:00:00Z","closed_at":"2026-03-31T12:00:00Z","won":true,"amount":30}
`
	if code, body, _ := e.do(t, "POST", "/api/v1/records", deals, nil); code != 200 {
		t.Fatalf("POST the deals: %d %s", code, clip(body))
	}
	status := func(page []byte, re string) string {
		t.Helper()
		m := regexp.MustCompile(re + `(?s:.*?)status__word">([^<]+)<`).FindSubmatch(page)
		if m == nil {
			return "(none)"
		}
		return string(m[1])
	}
	for path, want := range map[string]string{"/?month=2026-03&closing=1": "Red", "/?month=2026-03": "Unknown"} {
		_, body, _ := e.do(t, "GET", path, "", nil)
		card := status(body, `data-metric="quota_attainment"`)
		i := strings.Index(string(body), `class="escalation__link" href="/metrics/quota_attainment`)
		j := strings.LastIndex(string(body[:max(i, 0)]), `<li class="escalation">`)
		if card != want || i < 0 || j < 0 {
			t.Fatalf("GET %s: card %s (want %s), in the panel %v", path, card, want, i >= 0)
		}
		if got := status(body[j:i], ""); got != want {
			t.Errorf("GET %s: the panel says %s beside a card %s", path, got, card)
		}
	}
}

// A quota metric opened at a quarter's first instant with as_of and a
// window (as an auditor opens a quarter, not by month=) offers the
// closing read too, and names its period by its dates.
func TestClosingOfferedAtAQuartersFirstInstant(t *testing.T) {
	e := closingEnv(t)
	_, body, _ := e.do(t, "GET", "/metrics/quota_attainment?as_of=2026-04-01&window=90d", "", nil)
	m := regexp.MustCompile(`<a href="([^"]+)" id="read-closing">Read the period closing at 1 Apr 2026 00:00 UTC</a>`).FindSubmatch(body)
	if m == nil || !strings.Contains(html.UnescapeString(string(m[1])), "closing=1") {
		t.Fatalf("no link to the closing read at a quarter's first instant\n%s", clip(body))
	}
	if !strings.Contains(string(body), "<dt>Period</dt><dd>the quota period 1 Apr 2026 – 30 Jun 2026, up to 1 Apr 2026 00:00 UTC") {
		t.Error("the period is not named by its dates")
	}
	if _, body, _ = e.do(t, "GET", "/metrics/quota_attainment?as_of=2026-03-15&window=90d", "", nil); strings.Contains(string(body), "read-closing") {
		t.Error("the closing read offered mid-quarter, where it reads the same period")
	}
	// A metric reading no quota period carries closing, saying nothing.
	if _, body, _ = e.do(t, "GET", "/metrics/change_failure_rate?month=2026-03&closing=1", "", nil); strings.Contains(string(body), `id="closing-notice"`) || !strings.Contains(string(body), "closing=1") {
		t.Error("change failure rate's page read closing: a notice of it, or closing not carried")
	}
}
