package web

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
)

// shareClock is a settable clock for the share tests' auth service, so a link can expire.
type shareClock struct{ off atomic.Int64 }

func (c *shareClock) now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// withShareClock serves the env's auth with clock c, and frames share links for wiki.
func withShareClock(t *testing.T, c *shareClock) func(s *Server, _ string) {
	return func(s *Server, _ string) {
		g := s.Auth.Grants()
		svc, err := auth.NewService(s.Store.(auth.Store), g, auth.Options{Params: auth.Params{Memory: 64, Time: 1, Threads: 1},
			AccountLimit: auth.Rate{Attempts: 1000, Per: time.Minute}, AddressLimit: auth.Rate{Attempts: 1000, Per: time.Minute}, Now: c.now})
		if err != nil {
			t.Fatal(err)
		}
		s.Auth = svc
		s.ShareFrameAncestors = []string{"https://wiki.example.com"}
	}
}

// share creates a link as the caller and returns the API's answer.
func (e *env) share(t *testing.T, cl caller, body string) (int, shareJSON, []byte) {
	t.Helper()
	status, raw, _ := e.call(t, "POST", "/api/v1/shares", body, "application/json", cl)
	var j shareJSON
	if status == 201 {
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatal(err)
		}
	}
	return status, j, raw
}

// SPEC §9 and issue 20: a share link opens its card without signing in, for every caller alike,
// as a page, an SVG and a PNG; only the share routes may be framed, by the configured origins;
// a link never shows more than its creator may see; a revoked or expired link opens for no one.
func TestShareLinkAccess(t *testing.T) {
	clock := &shareClock{}
	e := newEnvWith(t, 0, withShareClock(t, clock))
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}

	// Never more than the creator's grants: engineering sees no revenue and opens no ceo view.
	for _, body := range []string{`{"kind":"card","subject":"arr"}`, `{"kind":"view","subject":"ceo"}`} {
		if st, _, raw := e.share(t, eng, body); st != 403 {
			t.Errorf("engineering shares %s: %d %s, want 403", body, st, raw)
		}
	}
	for body, param := range map[string]string{
		`{"kind":"card","subject":"change_failure_rate","filters":{"team":"nosuch"}}`:          `"param": "filters.team"`,
		`{"kind":"card","subject":"change_failure_rate","filters":{"colour":"red"}}`:           "filters.colour",
		`{"kind":"card","subject":"change_failure_rate","expires_in":"365d"}`:                  "expires_in: 365d: a link lives",
		`{"kind":"view","subject":"engineering","filters":{"team":"core"}}`:                    "filters.team",
		`{"kind":"poster","subject":"change_failure_rate"}`:                                    "kind",
		`{"kind":"card","subject":"nope"}`:                                                     `"param": "subject"`,
		`{"kind":"card","subject":"change_failure_rate","filters":{"scope":"origin:nosuch"}}`:  `"param": "filters.scope"`,
		`{"kind":"card","subject":"change_failure_rate","filters":{"by":"colour"}}`:            `"param": "filters.by"`,
		`{"kind":"card","subject":"change_failure_rate","filters":{"window":"100000d"}}`:       `"param": "filters.window"`,
		`{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"the 5th of May"}}`: `"param": "filters.as_of"`,
	} {
		if st, _, raw := e.share(t, eng, body); st != 400 || !strings.Contains(string(raw), param) {
			t.Errorf("share %s: %d %s, want 400 naming %s", body, st, raw, param)
		}
	}

	st, link, raw := e.share(t, eng, `{"kind":"card","subject":"deployment_frequency","filters":{"as_of":"`+asOf+`","team":"core"},"expires_in":"2d"}`)
	if st != 201 || !strings.HasPrefix(link.URL, "/share/"+auth.SharePrefix) || link.CreatedBy != "token:role-engineering" || link.Filters["team"] != "core" || !strings.Contains(string(raw), `"team": "core"`) {
		t.Fatalf("create: %d %s", st, raw)
	}
	for _, kind := range []Kind{HTML, API} {
		for _, cl := range e.callers(t, kind) {
			status, body, hdr := e.call(t, "GET", link.URL, "", "", cl)
			page := string(body)
			if status != 200 || !strings.Contains(page, "Deployment frequency") || !strings.Contains(page, "team <strong>core</strong>") ||
				!strings.Contains(page, "0.1/day") || strings.Contains(page, "site-nav") {
				t.Errorf("GET the link as %s: %d\n%s", cl.name, status, clip(body))
			}
			if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://wiki.example.com") || hdr.Get("X-Frame-Options") != "" {
				t.Errorf("the share page is not frameable by the wiki: %q, X-Frame-Options %q", csp, hdr.Get("X-Frame-Options"))
			}
		}
	}
	for ext, ctype := range map[string]string{"svg": "image/svg+xml", "png": "image/png"} {
		status, body, hdr := e.call(t, "GET", link.URL+"/card."+ext, "", "", caller{name: "anonymous"})
		if status != 200 || hdr.Get("Content-Type") != ctype || len(body) < 200 {
			t.Errorf("card.%s: %d %s (%d bytes)", ext, status, hdr.Get("Content-Type"), len(body))
		}
		if ext == "svg" && !strings.Contains(string(body), "0.1/day") {
			t.Errorf("card.svg lacks the value:\n%s", clip(body))
		}
	}
	// Everything else keeps frame-ancestors 'none'.
	if _, _, hdr := e.call(t, "GET", "/login", "", "", caller{name: "anonymous"}); !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		hdr.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the sign-in page may be framed: %q", hdr.Get("Content-Security-Policy"))
	}

	// Listed to its creator only; revoked by its creator, after which it opens for no one.
	if _, body, _ := e.call(t, "GET", "/api/v1/shares", "", "", eng); !strings.Contains(string(body), `"subject": "deployment_frequency"`) {
		t.Errorf("the creator's list lacks the link: %s", body)
	}
	sup := caller{name: "support", roles: []string{"support"}, token: e.roleToken(t, "support")}
	if _, body, _ := e.call(t, "GET", "/api/v1/shares", "", "", sup); strings.Contains(string(body), "deployment_frequency") {
		t.Errorf("another caller lists the link: %s", body)
	}
	path := "/api/v1/shares/" + strconv.FormatInt(link.ID, 10) + "/revoke"
	if status, _, _ := e.call(t, "POST", path, "", "", sup); status != 404 {
		t.Errorf("support revoked engineering's link: %d", status)
	}
	if status, body, _ := e.call(t, "POST", path, "", "", eng); status != 200 || !strings.Contains(string(body), `"revoked_by": "token:role-engineering"`) {
		t.Fatalf("revoke: %d %s", status, body)
	}
	for _, p := range []string{link.URL, link.URL + "/card.svg", link.URL + "/card.png"} {
		if status, body, _ := e.call(t, "GET", p, "", "", caller{name: "anonymous"}); status != 404 || !strings.Contains(string(body), "expired or was revoked") {
			t.Errorf("revoked %s: %d\n%s", p, status, clip(body))
		}
	}

	// Expired: two days and a second later the link opens for no one.
	_, link, _ = e.share(t, eng, `{"kind":"view","subject":"engineering","filters":{"as_of":"`+asOf+`"},"expires_in":"2d"}`)
	if status, body, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"}); status != 200 || !strings.Contains(string(body), "Engineering view") {
		t.Fatalf("view link: %d\n%s", status, clip(body))
	}
	clock.off.Store(int64(48*time.Hour + time.Second))
	if status, _, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"}); status != 404 {
		t.Errorf("an expired link: %d, want 404", status)
	}
}

// The metric page offers a share form to a signed-in reader; posting it shows the link once,
// and the link opens the card at the page's filters.
func TestShareFromMetricPage(t *testing.T) {
	e := newEnv(t, 0)
	cl := e.sessionAs(t, "engineering")
	page := e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf+"&team=core", 200)
	if !strings.Contains(page, `action="/shares"`) || !strings.Contains(page, `name="team" value="core"`) {
		t.Fatalf("the metric page has no share form carrying its filters:\n%s", clip([]byte(page)))
	}
	status, body, _ := e.call(t, "POST", "/shares", "kind=card&subject=deployment_frequency&expires_in=1d&as_of="+asOf+"&team=core", formType, cl)
	text := string(body)
	i := strings.Index(text, "/share/"+auth.SharePrefix)
	if status != 200 || i < 0 || !strings.Contains(text, "Link created") {
		t.Fatalf("POST /shares: %d\n%s", status, clip(body))
	}
	path := text[i : i+strings.IndexAny(text[i:], `<" `)]
	status, body, _ = e.call(t, "GET", path, "", "", caller{name: "anonymous"})
	if status != 200 || !strings.Contains(string(body), "team <strong>core</strong>") || !strings.Contains(string(body), "0.1/day") {
		t.Errorf("GET %s: %d\n%s", path, status, clip(body))
	}
	// Without a grant to the metric the form is refused like the API: support sees no delivery.
	sup := e.sessionAs(t, "support")
	if status, _, _ := e.call(t, "POST", "/shares", "kind=card&subject=deployment_frequency", formType, sup); status != 403 {
		t.Errorf("support shares deployment_frequency: %d, want 403", status)
	}
}

// The request log keeps a share link's public part only: reading the log opens nothing.
func TestShareSecretNotLogged(t *testing.T) {
	for in, want := range map[string]string{
		"/share/cds_abcdefghijklm_" + strings.Repeat("q", 52):               "/share/cds_abcdefghijklm_…",
		"/share/cds_abcdefghijklm_" + strings.Repeat("q", 52) + "/card.png": "/share/cds_abcdefghijklm_…/card.png",
		"/metrics/csat": "/metrics/csat",
	} {
		if got := loggedPath(in); got != want {
			t.Errorf("loggedPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// The organisation's annotations are shaded on the metric page's trend and the shared chart.
func TestAnnotationsOnTrends(t *testing.T) {
	freeze := catalog.Annotation{Name: "Change freeze", Kind: "freeze", From: "2026-03-10", To: "2026-03-19"}
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Annotations = []catalog.Annotation{freeze} })
	cl := e.sessionAs(t, "engineering")
	page := e.page(t, cl, "/metrics/deployment_frequency?as_of="+asOf, 200)
	if !strings.Contains(page, `class="annotation"`) || !strings.Contains(page, "Change freeze (freeze): 10 Mar 2026 to 19 Mar 2026") {
		t.Errorf("the metric page's trend does not mark the freeze")
	}
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	_, link, _ := e.share(t, eng, `{"kind":"chart","subject":"deployment_frequency","filters":{"as_of":"`+asOf+`"}}`)
	if _, body, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"}); !strings.Contains(string(body), ">Change freeze</text>") {
		t.Errorf("the shared chart does not mark the freeze:\n%s", clip(body))
	}
}

// A link made at a calendar month names the month, on its page and in its
// picture: "as of 1 Mar" alone reads as March. A link at another window
// names that window in its picture.
func TestShareNamesItsMonth(t *testing.T) {
	e := newEnv(t, 0)
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	st, link, raw := e.share(t, eng, `{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"2026-03-01","window":"28d","team":"core"}}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, raw)
	}
	anon := caller{name: "anonymous"}
	if status, body, _ := e.call(t, "GET", link.URL, "", "", anon); status != 200 || !strings.Contains(string(body), "Window: February 2026 (28d ending 1 Mar 2026 00:00 UTC)") {
		t.Errorf("the shared page does not name February 2026: %d\n%s", status, clip(body))
	}
	if status, body, _ := e.call(t, "GET", link.URL+"/card.svg", "", "", anon); status != 200 || !strings.Contains(string(body), "February 2026 · as of 1 Mar 2026 00:00 UTC · team core") {
		t.Errorf("the card picture does not name February 2026: %d\n%s", status, clip(body))
	}
	// A state's covers line names no month: the note under the link does.
	_, link, raw = e.share(t, eng, `{"kind":"card","subject":"open_critical_vulnerabilities","filters":{"as_of":"2026-03-01","window":"28d"}}`)
	if status, body, _ := e.call(t, "GET", link.URL, "", "", anon); status != 200 || !strings.Contains(string(body), "Shared read-only · <strong>February 2026</strong> · as of 1 Mar 2026 00:00 UTC") {
		t.Errorf("the shared page of a state at February does not name February 2026: %d %s\n%s", status, raw, clip(body))
	}
	_, link, raw = e.share(t, eng, `{"kind":"chart","subject":"change_failure_rate","filters":{"as_of":"2026-03-01","window":"7d"}}`)
	if status, body, _ := e.call(t, "GET", link.URL+"/card.svg", "", "", anon); status != 200 || !strings.Contains(string(body), "As of 1 Mar 2026 00:00 UTC · window 7d") {
		t.Errorf("the card picture of a 7-day link does not name its window: %d %s\n%s", status, raw, clip(body))
	}
	if status, body, _ := e.call(t, "GET", link.URL, "", "", anon); status != 200 || !strings.Contains(string(body), "Window: 7d ending 1 Mar 2026 00:00 UTC") || strings.Contains(string(body), "February") {
		t.Errorf("the shared chart of a 7-day link: %d\n%s", status, clip(body))
	}
}

// A link may fix a calendar month as the pages take it (filters.month): it
// is kept as the month's as_of and window, and refused beside either, or
// for a month not ended, naming filters.month.
func TestShareTakesAMonth(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	for _, body := range []string{
		`{"kind":"card","subject":"change_failure_rate","filters":{"month":"2026-02","team":"core"}}`,
		`{"kind":"view","subject":"engineering","filters":{"month":"2026-02"}}`,
	} {
		st, link, raw := e.share(t, eng, body)
		if st != 201 || link.Filters["as_of"] != "2026-03-01" || link.Filters["window"] != "28d" || link.Filters["month"] != "" {
			t.Fatalf("share %s: %d %s, want the link at as_of 2026-03-01, window 28d", body, st, raw)
		}
		if status, page, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"}); status != 200 || !strings.Contains(string(page), "February 2026") {
			t.Errorf("the link made with month 2026-02: %d, does not name February 2026\n%s", status, clip(page))
		}
	}
	for body, want := range map[string]string{
		`{"kind":"card","subject":"change_failure_rate","filters":{"month":"2026-02","as_of":"2026-03-01"}}`: "not both",
		`{"kind":"view","subject":"engineering","filters":{"month":"2026-02","window":"28d"}}`:               "not both",
		`{"kind":"card","subject":"change_failure_rate","filters":{"month":"2026-03"}}`:                      "has not ended",
		`{"kind":"card","subject":"change_failure_rate","filters":{"month":"Feb"}}`:                          "YYYY-MM",
	} {
		if st, _, raw := e.share(t, eng, body); st != 400 || !strings.Contains(string(raw), `"param": "filters.month"`) || !strings.Contains(string(raw), want) {
			t.Errorf("share %s: %d %s, want 400 naming filters.month and %q", body, st, raw, want)
		}
	}
}

// With Candor's public address set (reports.base_url), a link is answered
// under it, by the API and by the page's form: a link to paste, not a path,
// nor the inner host a proxy forwarded to.
func TestShareLinksUnderThePublicAddress(t *testing.T) {
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.BaseURL = "https://candor.example.com/" })
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	st, link, raw := e.share(t, eng, `{"kind":"card","subject":"deployment_frequency","filters":{"as_of":"`+asOf+`"}}`)
	const want = "https://candor.example.com/share/" + auth.SharePrefix
	if st != 201 || !strings.HasPrefix(link.URL, want) || link.SVG != link.URL+"/card.svg" || link.PNG != link.URL+"/card.png" {
		t.Fatalf("share: %d %s", st, raw)
	}
	_, body, _ := e.call(t, "POST", "/shares", "kind=card&subject=deployment_frequency&expires_in=1d&as_of="+asOf, formType, e.sessionAs(t, "engineering"))
	if !strings.Contains(string(body), want) {
		t.Errorf("the form's link is not under the public address:\n%s", clip(body))
	}
}
