package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/candor/candor/internal/store"
)

// A card link fixes the metric page's scope parameter and breakdown too: the shared page and
// its picture show the same scope and lines. By hand: change_failure_rate over tier 1 (api) as
// of 31 March, by service: api 2 of 4 deployments failed (d2 failed, d4 caused i3) = 50 %.
func TestShareCarriesScopeAndBreakdown(t *testing.T) {
	e := newEnv(t, 0)
	eng := caller{name: "engineering", roles: []string{"engineering"}, token: e.roleToken(t, "engineering")}
	st, link, raw := e.share(t, eng, `{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"`+asOf+`","scope":"tier:1","by":"service"}}`)
	if st != 201 || link.Filters["scope"] != "tier:1" || link.Filters["by"] != "service" {
		t.Fatalf("share: %d %s", st, raw)
	}
	_, body, _ := e.call(t, "GET", link.URL, "", "", caller{name: "anonymous"})
	page := string(body)
	for _, want := range []string{"tier <strong>1</strong>", "by service", "By service", "<tr><td>api</td><td class=\"num\">50"} {
		if !strings.Contains(page, want) {
			t.Errorf("the shared card lacks %q:\n%s", want, clip(body))
		}
	}
	if _, svg, _ := e.call(t, "GET", link.SVG, "", "", caller{name: "anonymous"}); !strings.Contains(string(svg), "tier 1") || !strings.Contains(string(svg), "service api: 50") {
		t.Errorf("the card picture lacks the scope or the line:\n%s", clip(svg))
	}
	// Without by, a card link shows no breakdown.
	_, plain, _ := e.share(t, eng, `{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"`+asOf+`"}}`)
	if _, body, _ := e.call(t, "GET", plain.URL, "", "", caller{name: "anonymous"}); strings.Contains(string(body), "share__breakdown") {
		t.Error("a link without by shows a breakdown")
	}
	// What the metric page would refuse, a link refuses, naming the filter.
	for _, tt := range []struct{ filters, param string }{
		{`"scope":"tier:9"`, "scope"},
		{`"scope":"team:core"`, "scope"},
		{`"by":"plan"`, "by"},
	} {
		st, _, raw := e.share(t, eng, `{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"`+asOf+`",`+tt.filters+`}}`)
		if st != 400 || !strings.Contains(string(raw), tt.param) {
			t.Errorf("%s: %d %s, want 400 naming %s", tt.filters, st, raw, tt.param)
		}
	}
	// A scope naming a filter of its own is told where the API takes it, not the page's control.
	if st, _, raw := e.share(t, eng, `{"kind":"card","subject":"change_failure_rate","filters":{"as_of":"`+asOf+`","scope":"team:core"}}`); st != 400 ||
		!strings.Contains(string(raw), `filters.team`) || strings.Contains(string(raw), "control") || strings.Contains(string(raw), "?team=") {
		t.Errorf("scope team:core: %d %s, want 400 advising filters.team", st, raw)
	}
	// The metric page's share form carries its scope and breakdown.
	cl := e.sessionAs(t, "engineering")
	mp := e.page(t, cl, "/metrics/change_failure_rate?as_of="+asOf+"&scope=tier:1&by=environment", 200)
	if !strings.Contains(mp, `<input type="hidden" name="scope" value="tier:1">`) || !strings.Contains(mp, `<input type="hidden" name="by" value="environment">`) {
		t.Error("the metric page's share form drops the scope or the breakdown")
	}
}

// The share links page lists the reader's links (every link for an admin) and revokes one with
// its button, which needs the form's CSRF token; another reader neither sees nor revokes it.
func TestSharesPage(t *testing.T) {
	e := newEnv(t, 0)
	eng := e.sessionAs(t, "engineering")
	other := e.sessionAs(t, "support")
	adm := e.sessionAs(t, "admin", "executive")
	st, _, _ := e.call(t, "POST", "/shares", "kind=chart&subject=deployment_frequency&expires_in=7d&as_of="+asOf+"&team=core", formType, eng)
	if st != 200 {
		t.Fatalf("share form: %d", st)
	}
	ls, err := e.srv.Store.(store.ShareStore).Shares(t.Context())
	if err != nil || len(ls) != 1 {
		t.Fatalf("links %v %v", ls, err)
	}
	id := ls[0].ID

	page := e.page(t, eng, "/shares", 200)
	for _, want := range []string{"Deployment frequency", "as of " + asOf + " · team core", "Active", fmt.Sprintf(`action="/shares/%d/revoke"`, id)} {
		if !strings.Contains(page, want) {
			t.Errorf("the owner's page lacks %q", want)
		}
	}
	if strings.Contains(page, "Created by") {
		t.Error("a reader's own list names creators")
	}
	if page := e.page(t, other, "/shares", 200); strings.Contains(page, "Deployment frequency") || !strings.Contains(page, "No share links yet") {
		t.Error("another reader sees the link")
	}
	if page := e.page(t, adm, "/shares", 200); !strings.Contains(page, "Deployment frequency") || !strings.Contains(page, "Created by") {
		t.Error("the admin does not see every link with its creator")
	}

	path := fmt.Sprintf("/shares/%d/revoke", id)
	if st, _, _ := e.call(t, "POST", path, "", formType, other); st != 404 {
		t.Errorf("another reader revokes: %d, want 404", st)
	}
	noCSRF := eng
	noCSRF.csrf = ""
	if st, _, _ := e.call(t, "POST", path, "", formType, noCSRF); st != 403 {
		t.Errorf("revoke without the CSRF token: %d, want 403", st)
	}
	st, _, hdr := e.call(t, "POST", path, "", formType, eng)
	if st != 303 || !strings.HasPrefix(hdr.Get("Location"), "/shares?done=") {
		t.Fatalf("revoke: %d %s", st, hdr.Get("Location"))
	}
	page = e.page(t, eng, hdr.Get("Location"), 200)
	if !strings.Contains(page, "Revoked the link to the chart of Deployment frequency") || !strings.Contains(page, "Revoked ") ||
		strings.Contains(page, fmt.Sprintf(`action="/shares/%d/revoke"`, id)) {
		t.Error("after revoking, the page does not say so or still offers the button")
	}
}
